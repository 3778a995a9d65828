/* SPDX-License-Identifier: BSD-3-Clause */
/* config_share.c - the fleet-wide sections of the config and etcd's shared document (see .h). */
#include "config_share.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sbcfg_json.h"

const char *const config_share_keys[] = {"dhcp", "tftp", "udp_checksum", "syslog", NULL};
const char *const config_share_local[] = {"dhcp.reservations", "tftp.mtu", NULL};

/* The field of section that stays local ("reservations" of "dhcp"), or NULL. */
static const char *local_field(const char *section)
{
	size_t n = strlen(section);

	for (size_t i = 0; config_share_local[i]; i++)
		if (strncmp(config_share_local[i], section, n) == 0 &&
		    config_share_local[i][n] == '.')
			return config_share_local[i] + n + 1;
	return NULL;
}

static bool is_shared(const char *key)
{
	for (size_t i = 0; config_share_keys[i]; i++)
		if (strcmp(config_share_keys[i], key) == 0)
			return true;
	return false;
}

/* cfg as the config file holds it, as a JSON object. */
static json_t *file_json(const struct sbcfg *cfg)
{
	char *s = sbcfg_to_json_file(cfg);
	json_t *o = s ? json_loads(s, 0, NULL) : NULL;

	free(s);
	return o;
}

char *config_share_split(const struct sbcfg *cfg)
{
	json_t *all = file_json(cfg), *doc = json_object();
	char *s = NULL;

	if (!all || !doc)
		goto out;
	for (size_t i = 0; config_share_keys[i]; i++) {
		const char *k = config_share_keys[i], *lf = local_field(k);
		json_t *v = json_object_get(all, k);

		if (!v)
			continue;
		v = json_deep_copy(v);
		if (!v)
			goto out;
		if (lf && json_is_object(v))
			json_object_del(v, lf);
		json_object_set_new(doc, k, v);
	}
	s = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
out:
	json_decref(all);
	json_decref(doc);
	return s;
}

/* Shape check of a parsed document; 0 or -EINVAL with err. */
static int check(json_t *doc, char *err, size_t errlen)
{
	const char *k;
	json_t *v;

	if (!json_is_object(doc)) {
		snprintf(err, errlen, "the shared config must be a JSON object");
		return -EINVAL;
	}
	json_object_foreach(doc, k, v)
	{
		const char *lf = local_field(k);

		if (!is_shared(k)) {
			snprintf(err, errlen,
				 "%s: local to each server, not shared (shared: dhcp, tftp, "
				 "udp_checksum, syslog)",
				 k);
			return -EINVAL;
		}
		if (lf && !json_is_object(v)) {
			snprintf(err, errlen, "%s: must be an object", k);
			return -EINVAL;
		}
		if (lf && json_object_get(v, lf)) {
			snprintf(err, errlen,
				 "%s.%s: local to each server, not in the shared config%s", k, lf,
				 strcmp(lf, "reservations") == 0
					 ? " (reservations are shared one key each, reservations/)"
					 : "");
			return -EINVAL;
		}
	}
	return 0;
}

int config_share_check(const char *doc, size_t len, char *err, size_t errlen)
{
	json_error_t je;
	json_t *o = json_loadb(doc, len, JSON_REJECT_DUPLICATES, &je);
	int rc;

	if (!o) {
		snprintf(err, errlen, "not JSON: %s (line %d, column %d)", je.text, je.line,
			 je.column);
		return -EINVAL;
	}
	rc = check(o, err, errlen);
	json_decref(o);
	return rc;
}

int config_share_merge(const struct sbcfg *local, const char *doc, size_t len, struct sbcfg *out,
		       char *err, size_t errlen)
{
	json_error_t je;
	json_t *d = json_loadb(doc, len, JSON_REJECT_DUPLICATES, &je), *all = NULL;
	char *text = NULL;
	int rc = -ENOMEM;

	memset(out, 0, sizeof(*out));
	if (!d) {
		snprintf(err, errlen, "not JSON: %s (line %d, column %d)", je.text, je.line,
			 je.column);
		return -EINVAL;
	}
	if ((rc = check(d, err, errlen)) < 0)
		goto out;
	rc = -ENOMEM;
	if (!(all = file_json(local)))
		goto oom;
	for (size_t i = 0; config_share_keys[i]; i++) {
		const char *k = config_share_keys[i], *lf = local_field(k);
		json_t *keep = NULL, *v = json_object_get(d, k);

		if (lf && json_object_get(json_object_get(all, k), lf))
			keep = json_incref(json_object_get(json_object_get(all, k), lf));
		json_object_del(all, k);
		if (v && !(v = json_deep_copy(v))) {
			json_decref(keep);
			goto oom;
		}
		if (!v && keep)
			v = json_object();
		if (v && keep)
			json_object_set_new(v, lf, keep);
		if (v && json_object_set_new(all, k, v) < 0)
			goto oom;
	}
	if (!(text = json_dumps(all, JSON_COMPACT)))
		goto oom;
	rc = sbcfg_load_buffer(text, strlen(text), "<etcd config>", out, err, errlen);
	goto out;
oom:
	snprintf(err, errlen, "out of memory");
out:
	free(text);
	json_decref(all);
	json_decref(d);
	return rc;
}

bool config_share_diff(const char *a, const char *b, char *out, size_t cap)
{
	json_t *x = json_loads(a, 0, NULL), *y = json_loads(b, 0, NULL);
	size_t n = 0;

	out[0] = '\0';
	for (size_t i = 0; config_share_keys[i]; i++) {
		const char *k = config_share_keys[i];
		json_t *u = x ? json_object_get(x, k) : NULL, *v = y ? json_object_get(y, k) : NULL;

		if ((x && y) && ((!u && !v) || (u && v && json_equal(u, v))))
			continue;
		if (n < cap)
			n += (size_t)snprintf(out + n, cap - n, "%s%s", n ? ", " : "", k);
	}
	json_decref(x);
	json_decref(y);
	return out[0] != '\0';
}
