/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sbcfg_access.c - the access parts of the config (docs/SECURITY.md, docs/CONFIG.md):
 *   "control"        who may use control's API and dataplane sockets, where image-add takes
 *                    files from (resolved and enforced by stormboot-control);
 *   "images_allowed" per subnet, reservation and in tftp: the images a client may fetch;
 *   images[].sha256  a pinned digest, checked wherever an image file is read.
 * Parsing, rules, serialising, comparing and freeing, and the decision sbcfg_image_allowed().
 * The rest of the file is sbcfg_json.c's; the hooks it calls are in sbcfg_names.h.
 */
#include "sbcfg_access.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sbcfg_json.h"
#include "sbcfg_names.h"
#include "sbcfg_reader.h"

static int oom(char *msg)
{
	snprintf(msg, SBCFG_ERR_MAX, "out of memory");
	return -ENOMEM;
}

/* "path.key", or "key" at the top level, into buf. */
static const char *at(const char *path, const char *key, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s%s%s", path, path[0] ? "." : "", key);
	return buf;
}

/* Control bytes shown as '?', cut at 60 bytes. */
static const char *shown(const char *s, char buf[64])
{
	size_t i = 0;

	for (; s[i] && i < 60; i++)
		buf[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
	buf[i] = '\0';
	if (s[i])
		memcpy(buf + 57, "...", 4);
	return buf;
}

/* A string that fits cap bytes with its NUL and holds no control byte: NULL, or why not. */
static const char *string_problem(const char *s, size_t len, size_t cap)
{
	static char why[64];

	if (len >= cap) {
		snprintf(why, sizeof(why), "is %zu bytes long, at most %zu fit", len, cap - 1);
		return why;
	}
	if (len == 0)
		return "is empty";
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return "contains a control character";
	return NULL;
}

/*
 * Array key of obj (at path) as strings of cap bytes each, into a fresh calloc'ed array (in
 * *arr and *n at once, so a later error frees it). *given: the key was there. check (may be
 * NULL) says what is wrong with an element.
 */
static int string_array(json_t *obj, const char *path, const char *key, size_t max, size_t cap,
			void **arr, size_t *n, bool *given, const char *(*check)(const char *s),
			char *msg)
{
	json_t *a = json_object_get(obj, key);
	char p[600], b[64];
	size_t i;
	json_t *v;

	at(path, key, p, sizeof(p));
	if (given)
		*given = a != NULL;
	if (!a)
		return 0;
	if (!json_is_array(a))
		return sbr_vfail(msg, "%s: must be an array, not %s", p, sbcfg_json_type_name(a));
	if (json_array_size(a) > max)
		return sbr_vfail(msg, "%s: has %zu entries, at most %zu are allowed", p,
				 json_array_size(a), max);
	if (json_array_size(a) == 0)
		return 0;
	if (!(*arr = calloc(json_array_size(a), cap)))
		return oom(msg);
	*n = json_array_size(a);
	json_array_foreach(a, i, v)
	{
		const char *s = json_string_value(v), *why;
		char *dst = (char *)*arr + i * cap;

		if (!json_is_string(v))
			return sbr_vfail(msg, "%s[%zu]: must be a string, not %s", p, i,
					 sbcfg_json_type_name(v));
		if ((why = string_problem(s, json_string_length(v), cap)) ||
		    (check && (why = check(s))))
			return sbr_vfail(msg, "%s[%zu]: \"%s\" %s", p, i, shown(s, b), why);
		memcpy(dst, s, json_string_length(v) + 1);
	}
	return 0;
}

/* ---- "control" ---- */

static const char *const control_keys[] = {"api_users",	       "api_groups",  "dataplane_users",
					   "dataplane_groups", "images_dirs", NULL};

/*
 * A user or group: a name as useradd takes it (letters, digits, '_', '.', '-', not starting
 * with '-'), or a numeric id below 4294967295 ((uid_t)-1 means "no id").
 */
static const char *account_problem(const char *s)
{
	bool digits = true;

	if (s[0] == '-')
		return "must not start with '-'";
	for (const char *p = s; *p; p++) {
		bool alnum = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			     (*p >= '0' && *p <= '9');
		if (!alnum && *p != '_' && *p != '.' && *p != '-')
			return "is not a user or group name (letters, digits, '_', '.', '-') or "
			       "a numeric id";
		digits &= *p >= '0' && *p <= '9';
	}
	if (digits && (strlen(s) > 10 || strtoull(s, NULL, 10) >= 4294967295ull))
		return "is out of range for an id (0..4294967294)";
	return NULL;
}

/* An absolute directory with no "." or ".." component, not "/" itself. */
static const char *dir_problem(const char *s)
{
	if (s[0] != '/')
		return "is not an absolute path";
	if (strcmp(s, "/") == 0)
		return "is the root directory: every file of the host would be an image";
	for (const char *c = s + 1; c;) {
		const char *next = strchr(c, '/');
		size_t n = next ? (size_t)(next - c) : strlen(c);

		if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return "must not contain a \".\" or \"..\" component";
		c = next ? next + 1 : NULL;
	}
	return NULL;
}

int sbcfg_control_parse(json_t *root, struct sbcfg_control *c, char *msg)
{
	json_t *o = json_object_get(root, "control"), *v;
	bool users = false, groups = false;
	const char *key;
	int rc;

	if (!o)
		return 0;
	if (!json_is_object(o))
		return sbr_vfail(msg, "control: must be an object, not %s",
				 sbcfg_json_type_name(o));
	json_object_foreach(o, key, v)
	{
		size_t i = 0;
		char b[64];

		while (control_keys[i] && strcmp(control_keys[i], key) != 0)
			i++;
		if (!control_keys[i])
			return sbr_vfail(
				msg,
				"control.%s: unknown field (known fields here: api_users, "
				"api_groups, dataplane_users, dataplane_groups, images_dirs)",
				shown(key, b));
	}
	if ((rc = string_array(o, "control", "api_users", SBCFG_ACCESS_LIST_MAX, SBCFG_ACCOUNT_MAX,
			       (void **)&c->api_users, &c->n_api_users, &users, account_problem,
			       msg)) < 0 ||
	    (rc = string_array(o, "control", "api_groups", SBCFG_ACCESS_LIST_MAX, SBCFG_ACCOUNT_MAX,
			       (void **)&c->api_groups, &c->n_api_groups, &groups, account_problem,
			       msg)) < 0 ||
	    (rc = string_array(o, "control", "dataplane_users", SBCFG_ACCESS_LIST_MAX,
			       SBCFG_ACCOUNT_MAX, (void **)&c->dp_users, &c->n_dp_users, NULL,
			       account_problem, msg)) < 0 ||
	    (rc = string_array(o, "control", "dataplane_groups", SBCFG_ACCESS_LIST_MAX,
			       SBCFG_ACCOUNT_MAX, (void **)&c->dp_groups, &c->n_dp_groups, NULL,
			       account_problem, msg)) < 0 ||
	    (rc = string_array(o, "control", "images_dirs", SBCFG_IMAGES_DIRS_MAX, SBCFG_PATH_MAX,
			       (void **)&c->images_dirs, &c->n_images_dirs, NULL, dir_problem,
			       msg)) < 0)
		return rc;
	c->api_listed = users || groups;
	return 0;
}

/* ---- "images_allowed" ---- */

/* A pattern is matched against catalog names, which never start with '/'. */
static const char *pattern_problem(const char *s)
{
	if (s[0] == '/')
		return "must not start with '/' (image names never do: a client's leading '/' is "
		       "stripped)";
	return NULL;
}

int sbcfg_images_allowed_parse(json_t *obj, const char *path, struct sbcfg *cfg,
			       struct sbcfg_images_allowed *out, char *msg)
{
	json_t *a = json_object_get(obj, "images_allowed"), *v;
	char p[600], b[64];
	size_t i;

	if (!a)
		return 0;
	at(path, "images_allowed", p, sizeof(p));
	if (!json_is_array(a))
		return sbr_vfail(msg, "%s: must be an array of image name patterns, not %s", p,
				 sbcfg_json_type_name(a));
	if (json_array_size(a) > SBCFG_PATTERNS_MAX)
		return sbr_vfail(msg, "%s: has %zu entries, at most %d are allowed", p,
				 json_array_size(a), SBCFG_PATTERNS_MAX);
	if (cfg->n_image_patterns + json_array_size(a) > UINT32_MAX)
		return sbr_vfail(msg, "%s: too many patterns in the whole file", p);
	if (json_array_size(a)) {
		void *n =
			realloc(cfg->image_patterns, (cfg->n_image_patterns + json_array_size(a)) *
							     sizeof(*cfg->image_patterns));
		if (!n)
			return oom(msg);
		cfg->image_patterns = n;
	}
	out->first = (uint32_t)cfg->n_image_patterns;
	out->n = 0;
	out->restricted = true;
	json_array_foreach(a, i, v)
	{
		const char *s = json_string_value(v), *why;

		if (!json_is_string(v))
			return sbr_vfail(msg, "%s[%zu]: must be a string, not %s", p, i,
					 sbcfg_json_type_name(v));
		if ((why = string_problem(s, json_string_length(v), SBCFG_NAME_MAX)) ||
		    (why = pattern_problem(s)))
			return sbr_vfail(msg, "%s[%zu]: \"%s\" %s", p, i, shown(s, b), why);
		memcpy(cfg->image_patterns[cfg->n_image_patterns++], s, json_string_length(v) + 1);
		out->n++;
	}
	return 0;
}

/* ---- images[].sha256 ---- */

int sbcfg_sha256_from_hex(const char *hex, uint8_t out[32])
{
	for (int i = 0; i < 32; i++) {
		int hi = sbr_hexval(hex[2 * i]), lo = hi < 0 ? -1 : sbr_hexval(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return hex[64] == '\0' ? 0 : -EINVAL;
}

int sbcfg_sha256_parse(json_t *obj, const char *path, char sha[SBCFG_SHA256_HEX], char *msg)
{
	json_t *v = json_object_get(obj, "sha256");
	uint8_t bin[32];
	char p[600], b[64];

	if (!v)
		return 0;
	at(path, "sha256", p, sizeof(p));
	if (!json_is_string(v))
		return sbr_vfail(msg, "%s: must be a string of 64 hex digits, not %s", p,
				 sbcfg_json_type_name(v));
	if (json_string_length(v) != 64 || sbcfg_sha256_from_hex(json_string_value(v), bin) < 0)
		return sbr_vfail(msg, "%s: \"%s\" is not a SHA-256 digest (64 hex digits)", p,
				 shown(json_string_value(v), b));
	for (int i = 0; i < 64; i++) {
		char ch = json_string_value(v)[i];
		sha[i] = ch >= 'A' && ch <= 'F' ? (char)(ch - 'A' + 'a') : ch;
	}
	sha[64] = '\0';
	return 0;
}

/* ---- rules on the struct ---- */

static int list_check(const char *name, char (*list)[SBCFG_ACCOUNT_MAX], size_t n, char *m)
{
	const char *why;
	char b[64];

	if (n > SBCFG_ACCESS_LIST_MAX)
		return sbr_vfail(m, "control.%s: has %zu entries, at most %d are allowed", name, n,
				 SBCFG_ACCESS_LIST_MAX);
	if (n && !list)
		return sbr_vfail(m, "control.%s: count without array", name);
	for (size_t i = 0; i < n; i++) {
		if (strnlen(list[i], SBCFG_ACCOUNT_MAX) == SBCFG_ACCOUNT_MAX)
			return sbr_vfail(m, "control.%s[%zu]: is not NUL-terminated", name, i);
		if ((why = string_problem(list[i], strlen(list[i]), SBCFG_ACCOUNT_MAX)) ||
		    (why = account_problem(list[i])))
			return sbr_vfail(m, "control.%s[%zu]: \"%s\" %s", name, i,
					 shown(list[i], b), why);
	}
	return 0;
}

static int allowed_check(const struct sbcfg *cfg, const struct sbcfg_images_allowed *a,
			 const char *where, char *m)
{
	if (!a->restricted)
		return a->n == 0
			       ? 0
			       : sbr_vfail(m, "%s.images_allowed: patterns without a list", where);
	if (a->n > SBCFG_PATTERNS_MAX)
		return sbr_vfail(m, "%s.images_allowed: has %u entries, at most %d are allowed",
				 where, a->n, SBCFG_PATTERNS_MAX);
	if ((uint64_t)a->first + a->n > cfg->n_image_patterns)
		return sbr_vfail(m, "%s.images_allowed: patterns %u..%u are not in the file's %zu",
				 where, a->first, a->first + a->n, cfg->n_image_patterns);
	return 0;
}

int sbcfg_access_validate(const struct sbcfg *cfg, char *m)
{
	const struct sbcfg_control *c = &cfg->control;
	const char *why;
	char where[64], b[64];
	int rc;

	if ((rc = list_check("api_users", c->api_users, c->n_api_users, m)) < 0 ||
	    (rc = list_check("api_groups", c->api_groups, c->n_api_groups, m)) < 0 ||
	    (rc = list_check("dataplane_users", c->dp_users, c->n_dp_users, m)) < 0 ||
	    (rc = list_check("dataplane_groups", c->dp_groups, c->n_dp_groups, m)) < 0)
		return rc;
	if (c->n_images_dirs > SBCFG_IMAGES_DIRS_MAX)
		return sbr_vfail(m, "control.images_dirs: has %zu entries, at most %d are allowed",
				 c->n_images_dirs, SBCFG_IMAGES_DIRS_MAX);
	for (size_t i = 0; i < c->n_images_dirs; i++) {
		const char *d = c->images_dirs[i];
		if (strnlen(d, SBCFG_PATH_MAX) == SBCFG_PATH_MAX)
			return sbr_vfail(m, "control.images_dirs[%zu]: is not NUL-terminated", i);
		if ((why = string_problem(d, strlen(d), SBCFG_PATH_MAX)) || (why = dir_problem(d)))
			return sbr_vfail(m, "control.images_dirs[%zu]: \"%s\" %s", i, shown(d, b),
					 why);
	}
	if (cfg->n_image_patterns && !cfg->image_patterns)
		return sbr_vfail(m, "images_allowed: pattern count without patterns");
	for (size_t i = 0; i < cfg->n_image_patterns; i++) {
		const char *s = cfg->image_patterns[i];
		if (strnlen(s, SBCFG_NAME_MAX) == SBCFG_NAME_MAX ||
		    (why = string_problem(s, strlen(s), SBCFG_NAME_MAX)) ||
		    (why = pattern_problem(s)))
			return sbr_vfail(m, "images_allowed: pattern \"%s\" %s", shown(s, b),
					 why ? why : "is not NUL-terminated");
	}
	for (size_t i = 0; i < cfg->dhcp.n_subnets; i++) {
		snprintf(where, sizeof(where), "dhcp.subnets[%zu]", i);
		if ((rc = allowed_check(cfg, &cfg->dhcp.subnets[i].images_allowed, where, m)) < 0)
			return rc;
	}
	for (size_t i = 0; i < cfg->dhcp.n_reservations; i++) {
		snprintf(where, sizeof(where), "dhcp.reservations[%zu]", i);
		if ((rc = allowed_check(cfg, &cfg->dhcp.reservations[i].images_allowed, where, m)) <
		    0)
			return rc;
	}
	if ((rc = allowed_check(cfg, &cfg->tftp.images_allowed, "tftp", m)) < 0)
		return rc;
	for (size_t i = 0; i < cfg->n_images; i++) {
		const char *s = cfg->images[i].sha256;
		uint8_t bin[32];
		if (s[0] &&
		    (strnlen(s, SBCFG_SHA256_HEX) != 64 || sbcfg_sha256_from_hex(s, bin) < 0))
			return sbr_vfail(
				m,
				"images[%zu].sha256: \"%s\" is not a SHA-256 digest (64 hex "
				"digits)",
				i, shown(s, b));
	}
	return 0;
}

/* ---- serialise, compare, free ---- */

static void put(json_t *o, const char *key, json_t *v, bool *failed)
{
	if (!v || json_object_set_new(o, key, v) < 0)
		*failed = true;
}

static json_t *strings(const char *base, size_t stride, size_t n, bool *failed)
{
	json_t *a = json_array();

	if (!a)
		*failed = true;
	for (size_t i = 0; a && i < n; i++)
		if (json_array_append_new(a, json_string(base + i * stride)) < 0)
			*failed = true;
	return a;
}

#define STRINGS(list, n, failed) strings((const char *)(list), sizeof(*(list)), (n), (failed))

json_t *sbcfg_control_json(const struct sbcfg_control *c, bool *failed)
{
	json_t *o;

	if (!c->api_listed && !c->n_api_users && !c->n_api_groups && !c->n_dp_users &&
	    !c->n_dp_groups && !c->n_images_dirs)
		return NULL;
	if (!(o = json_object())) {
		*failed = true;
		return NULL;
	}
	/* Listed but both empty still means "root only": keep api_users as []. */
	if (c->n_api_users || (c->api_listed && !c->n_api_groups))
		put(o, "api_users", STRINGS(c->api_users, c->n_api_users, failed), failed);
	if (c->n_api_groups)
		put(o, "api_groups", STRINGS(c->api_groups, c->n_api_groups, failed), failed);
	if (c->n_dp_users)
		put(o, "dataplane_users", STRINGS(c->dp_users, c->n_dp_users, failed), failed);
	if (c->n_dp_groups)
		put(o, "dataplane_groups", STRINGS(c->dp_groups, c->n_dp_groups, failed), failed);
	if (c->n_images_dirs)
		put(o, "images_dirs", STRINGS(c->images_dirs, c->n_images_dirs, failed), failed);
	return o;
}

json_t *sbcfg_images_allowed_json(const struct sbcfg *cfg, const struct sbcfg_images_allowed *a,
				  bool *failed)
{
	if (!a->restricted)
		return NULL;
	return STRINGS(cfg->image_patterns + a->first, a->n, failed);
}

static bool lists_equal(const void *a, const void *b, size_t na, size_t nb, size_t stride)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (strncmp((const char *)a + i * stride, (const char *)b + i * stride, stride))
			return false;
	return true;
}

#define LISTS_EQUAL(x, y, field, n)                                                                \
	lists_equal((x)->field, (y)->field, (x)->n, (y)->n, sizeof(*(x)->field))

bool sbcfg_images_allowed_equal(const struct sbcfg *ca, const struct sbcfg_images_allowed *a,
				const struct sbcfg *cb, const struct sbcfg_images_allowed *b)
{
	if (a->restricted != b->restricted || a->n != b->n)
		return false;
	return !a->restricted ||
	       lists_equal(ca->image_patterns + a->first, cb->image_patterns + b->first, a->n, b->n,
			   sizeof(*ca->image_patterns));
}

bool sbcfg_access_equal(const struct sbcfg *a, const struct sbcfg *b)
{
	const struct sbcfg_control *x = &a->control, *y = &b->control;

	if (x->api_listed != y->api_listed || !LISTS_EQUAL(x, y, api_users, n_api_users) ||
	    !LISTS_EQUAL(x, y, api_groups, n_api_groups) ||
	    !LISTS_EQUAL(x, y, dp_users, n_dp_users) ||
	    !LISTS_EQUAL(x, y, dp_groups, n_dp_groups) ||
	    !LISTS_EQUAL(x, y, images_dirs, n_images_dirs))
		return false;
	/* subnets and reservations compare their own lists (sbcfg_emit.c) */
	if (!sbcfg_images_allowed_equal(a, &a->tftp.images_allowed, b, &b->tftp.images_allowed) ||
	    a->n_images != b->n_images)
		return false;
	for (size_t i = 0; i < a->n_images; i++)
		if (strcmp(a->images[i].sha256, b->images[i].sha256) != 0)
			return false;
	return true;
}

void sbcfg_access_free(struct sbcfg *cfg)
{
	struct sbcfg_control *c = &cfg->control;

	free(c->api_users);
	free(c->api_groups);
	free(c->dp_users);
	free(c->dp_groups);
	free(c->images_dirs);
	memset(c, 0, sizeof(*c));
	free(cfg->image_patterns);
	cfg->image_patterns = NULL;
	cfg->n_image_patterns = 0;
	cfg->images_restricted = false;
}

/* ---- the decision ---- */

void sbcfg_access_refresh(struct sbcfg *cfg)
{
	uint8_t r = cfg->tftp.images_allowed.restricted ? SBCFG_RESTRICTED_TFTP : 0;

	for (size_t i = 0; i < cfg->dhcp.n_subnets; i++)
		if (cfg->dhcp.subnets[i].images_allowed.restricted)
			r |= SBCFG_RESTRICTED_SUBNETS;
	for (size_t i = 0; i < cfg->dhcp.n_reservations; i++)
		if (cfg->dhcp.reservations[i].images_allowed.restricted) {
			r |= SBCFG_RESTRICTED_RESERVATIONS;
			break;
		}
	cfg->images_restricted = r;
}

void sbcfg_access_finish(struct sbcfg *cfg)
{
	sbcfg_access_refresh(cfg);
}

static bool list_allows(const struct sbcfg *cfg, const struct sbcfg_images_allowed *a,
			const char *name)
{
	for (uint32_t i = 0; i < a->n; i++)
		if (fnmatch(cfg->image_patterns[a->first + i], name, 0) == 0)
			return true;
	return false;
}

bool sbcfg_image_allowed(const struct sbcfg *cfg, const uint8_t mac[6], uint32_t ip,
			 const char *name, struct sbcfg_image_rule *rule)
{
	const struct sbcfg_dhcp *d = &cfg->dhcp;
	struct sbcfg_image_rule dummy;

	if (!rule)
		rule = &dummy;
	*rule = (struct sbcfg_image_rule){SBCFG_IMAGE_RULE_NONE, 0};
	if (!cfg->images_restricted)
		return true;
	for (size_t i = 0; mac && (cfg->images_restricted & SBCFG_RESTRICTED_RESERVATIONS) &&
			   i < d->n_reservations;
	     i++) {
		const struct sbcfg_reservation *r = &d->reservations[i];

		if (memcmp(r->mac, mac, 6) != 0)
			continue;
		if (!r->images_allowed.restricted)
			break; /* MACs are unique: the subnet's list decides */
		*rule = (struct sbcfg_image_rule){SBCFG_IMAGE_RULE_RESERVATION, i};
		return list_allows(cfg, &r->images_allowed, name);
	}
	for (size_t i = 0;
	     ip && (cfg->images_restricted & SBCFG_RESTRICTED_SUBNETS) && i < d->n_subnets; i++) {
		const struct sbcfg_subnet *s = &d->subnets[i];

		if ((ip & s->netmask) != s->network)
			continue;
		if (!s->images_allowed.restricted)
			break; /* subnets do not overlap */
		*rule = (struct sbcfg_image_rule){SBCFG_IMAGE_RULE_SUBNET, i};
		return list_allows(cfg, &s->images_allowed, name);
	}
	if (!cfg->tftp.images_allowed.restricted)
		return true;
	*rule = (struct sbcfg_image_rule){SBCFG_IMAGE_RULE_TFTP, 0};
	return list_allows(cfg, &cfg->tftp.images_allowed, name);
}

const char *sbcfg_image_rule_fmt(const struct sbcfg_image_rule *rule, char buf[64])
{
	switch (rule->kind) {
	case SBCFG_IMAGE_RULE_RESERVATION:
		snprintf(buf, 64, "dhcp.reservations[%zu]", rule->index);
		break;
	case SBCFG_IMAGE_RULE_SUBNET:
		snprintf(buf, 64, "dhcp.subnets[%zu]", rule->index);
		break;
	case SBCFG_IMAGE_RULE_TFTP:
		snprintf(buf, 64, "tftp");
		break;
	default:
		snprintf(buf, 64, "none");
		break;
	}
	return buf;
}
