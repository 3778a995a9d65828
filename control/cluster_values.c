/* SPDX-License-Identifier: BSD-3-Clause */
/* cluster_values.c - pure: the values cluster mode keeps in etcd, as JSON text, and the bucket
 * hash (see cluster_values.h). No I/O, no clock. */
#include "cluster_values.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_internal.h"
#include "running_config.h"
#include "sbcfg_names.h"

uint64_t cluster_mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

static uint64_t weight(const char *id, unsigned bucket)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */

	for (const char *p = id; *p; p++)
		h = (h ^ (uint8_t)*p) * 0x100000001b3ull;
	return cluster_mix64(h ^ (bucket * 0x9e3779b97f4a7c15ull));
}

unsigned cluster_buckets(const char *const *ids, size_t n, const char *me, uint8_t map[32])
{
	unsigned owned = 0;

	memset(map, 0, 32);
	for (unsigned b = 0; b < 256; b++) {
		const char *best = NULL;
		uint64_t bw = 0;

		for (size_t i = 0; i < n; i++) {
			uint64_t w = weight(ids[i], b);
			if (!best || w > bw || (w == bw && strcmp(ids[i], best) < 0)) {
				best = ids[i];
				bw = w;
			}
		}
		if (best && strcmp(best, me) == 0) {
			map[b / 8] |= (uint8_t)(1u << (b % 8));
			owned++;
		}
	}
	return owned;
}

char *cluster_lease_value(const struct chan_lease *ev, const char *server_id)
{
	char m[18];
	json_t *o = json_pack("{s:s, s:I, s:s, s:i}", "mac", running_config_fmt_mac(ev->mac, m),
			      "expires", (json_int_t)ev->expires, "server", server_id, "subnet",
			      (int)ev->subnet);
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	return s;
}

int cluster_parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char end;

	if (!s || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
			 &end) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return 0;
}

int cluster_lease_parse(const char *value, size_t len, uint8_t mac[6], uint64_t *expires,
			uint16_t *subnet, char *server)
{
	json_t *o = json_loadb(value, len, 0, NULL);
	const char *srv;
	int rc = -EINVAL;

	if (!o)
		return -EINVAL;
	srv = json_string_value(json_object_get(o, "server"));
	if (cluster_parse_mac(json_string_value(json_object_get(o, "mac")), mac) == 0 &&
	    json_is_integer(json_object_get(o, "expires")) && srv &&
	    strlen(srv) < SBCFG_CLUSTER_ID_MAX) {
		*expires = (uint64_t)json_integer_value(json_object_get(o, "expires"));
		*subnet = (uint16_t)json_integer_value(json_object_get(o, "subnet"));
		snprintf(server, SBCFG_CLUSTER_ID_MAX, "%s", srv);
		rc = 0;
	}
	json_decref(o);
	return rc;
}

char *cluster_resv_value(const struct sbcfg_reservation *r, const char (*patterns)[SBCFG_NAME_MAX])
{
	char m[18], ip[16];
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "mac", running_config_fmt_mac(r->mac, m),
			      "ip", r->ip ? running_config_fmt_ip(r->ip, ip) : "", "hostname",
			      r->hostname, "bootfile", r->bootfile, "ipxe_script", r->ipxe_script);

	if (o && r->images_allowed.restricted) {
		json_t *a = json_array();
		for (uint16_t i = 0; a && patterns && i < r->images_allowed.n; i++)
			json_array_append_new(a,
					      json_string(patterns[r->images_allowed.first + i]));
		json_object_set_new(o, "images_allowed", a ? a : json_array());
	}
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	return s;
}

static int str_into(json_t *o, const char *key, char *dst, size_t cap)
{
	const char *s = json_string_value(json_object_get(o, key));

	if (!s || strlen(s) >= cap)
		return -EINVAL;
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}

int cluster_resv_parse(const char *value, size_t len, struct cluster_resv *out)
{
	json_t *o = json_loadb(value, len, 0, NULL);
	struct sbcfg_reservation *r = &out->r;
	struct sbcfg tmp = {0};
	char msg[SBCFG_ERR_MAX];
	const char *ip;
	int rc = -EINVAL;

	memset(r, 0, sizeof(*r));
	if (!o)
		return -EINVAL;
	/* the config file's own check of the patterns, into a scratch config */
	if (sbcfg_images_allowed_parse(o, "reservation", &tmp, &r->images_allowed, msg) < 0 ||
	    tmp.n_image_patterns > SBCFG_PATTERNS_MAX) {
		free(tmp.image_patterns);
		json_decref(o);
		return -EINVAL;
	}
	for (size_t i = 0; i < tmp.n_image_patterns; i++)
		memcpy(out->patterns[i], tmp.image_patterns[i], SBCFG_NAME_MAX);
	r->images_allowed.first = 0;
	free(tmp.image_patterns);
	ip = json_string_value(json_object_get(o, "ip"));
	if (cluster_parse_mac(json_string_value(json_object_get(o, "mac")), r->mac) == 0 && ip &&
	    (!*ip || running_config_parse_ip(ip, &r->ip) == 0) &&
	    str_into(o, "hostname", r->hostname, sizeof(r->hostname)) == 0 &&
	    str_into(o, "bootfile", r->bootfile, sizeof(r->bootfile)) == 0 &&
	    str_into(o, "ipxe_script", r->ipxe_script, sizeof(r->ipxe_script)) == 0)
		rc = 0;
	json_decref(o);
	return rc;
}

char *cluster_image_value(const char *name, const char *sha256, const char *source)
{
	json_t *o = json_pack("{s:s, s:s, s:s}", "name", name, "sha256", sha256, "source", source);
	char *v = o ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	return v;
}

int cluster_image_parse(const char *value, size_t len, char name[SBCFG_NAME_MAX],
			char sha256[SBCFG_SHA256_HEX], char source[SBCFG_PATH_MAX])
{
	json_t *o = json_loadb(value, len, 0, NULL);
	const char *sha;
	int rc = -EINVAL;

	if (!o)
		return -EINVAL;
	sha = json_string_value(json_object_get(o, "sha256"));
	if (str_into(o, "name", name, SBCFG_NAME_MAX) == 0 && name[0] &&
	    str_into(o, "source", source, SBCFG_PATH_MAX) == 0 && source[0] == '/' && sha &&
	    strlen(sha) == 64 && strspn(sha, "0123456789abcdef") == 64) {
		memcpy(sha256, sha, 65);
		rc = 0;
	}
	json_decref(o);
	return rc;
}
