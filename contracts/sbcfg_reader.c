/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sbcfg_reader.c - the config module's reading tools (see sbcfg_reader.h): the strict syntax of
 * addresses, prefixes, MACs and names, and typed reads of JSON members that keep the JSON path of
 * what they read for the error message.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sbcfg_names.h"
#include "sbcfg_reader.h"

const char *sbcfg_ip_fmt(uint32_t ip, char buf[16])
{
	snprintf(buf, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff);
	return buf;
}

const char *sbcfg_mac_fmt(const uint8_t mac[6], char buf[18])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
		 mac[5]);
	return buf;
}

/* Copy s for an error message: control bytes become '?', long strings end in "...". */
const char *sbr_printable(const char *s, char *buf, size_t cap)
{
	size_t i = 0;

	for (; s[i] && i + 1 < cap; i++)
		buf[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
	buf[i] = '\0';
	if (s[i] && cap > 4)
		memcpy(buf + cap - 4, "...", 4);
	return buf;
}

/* Strict dotted quad: four decimal parts 0..255, no leading zeros, nothing else. */
int sbr_ipv4_parse(const char *s, uint32_t *out)
{
	uint32_t ip = 0;

	for (int part = 0; part < 4; part++) {
		unsigned v = 0, digits = 0;

		if (part > 0 && *s++ != '.')
			return -1;
		if (s[0] == '0' && s[1] >= '0' && s[1] <= '9')
			return -1;
		while (*s >= '0' && *s <= '9' && digits < 4) {
			v = v * 10 + (unsigned)(*s++ - '0');
			digits++;
		}
		if (digits == 0 || digits > 3 || v > 255)
			return -1;
		ip = ip << 8 | v;
	}
	if (*s != '\0')
		return -1;
	*out = ip;
	return 0;
}

/* "a.b.c.d/len" with len 0..32 (no leading zeros). */
int sbr_cidr_parse(const char *s, uint32_t *net, unsigned *len)
{
	const char *slash = strchr(s, '/');
	char addr[16];
	unsigned l = 0;

	if (!slash || slash - s >= (long)sizeof(addr))
		return -1;
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	if (sbr_ipv4_parse(addr, net) < 0)
		return -1;
	s = slash + 1;
	if (s[0] < '0' || s[0] > '9' || (s[0] == '0' && s[1] != '\0'))
		return -1;
	for (; *s >= '0' && *s <= '9' && l <= 32; s++)
		l = l * 10 + (unsigned)(*s - '0');
	if (*s != '\0' || l > 32)
		return -1;
	*len = l;
	return 0;
}

uint32_t sbr_prefix_mask(unsigned len)
{
	return len == 0 ? 0 : 0xffffffffu << (32 - len);
}

/* Length of a contiguous netmask, -1 if it is not one. */
int sbr_mask_len(uint32_t mask)
{
	int len = 0;

	while (len < 32 && (mask & (0x80000000u >> len)))
		len++;
	return mask == sbr_prefix_mask((unsigned)len) ? len : -1;
}

int sbr_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* "52:54:00:12:34:56", hex digits in either case. */
int sbr_mac_parse(const char *s, uint8_t mac[6])
{
	if (strlen(s) != 17)
		return -1;
	for (int i = 0; i < 6; i++) {
		int hi = sbr_hexval(s[i * 3]), lo = sbr_hexval(s[i * 3 + 1]);

		if (hi < 0 || lo < 0 || (i < 5 && s[i * 3 + 2] != ':'))
			return -1;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

bool sbcfg_mac_is_zero(const uint8_t mac[6])
{
	static const uint8_t zero[6];

	return memcmp(mac, zero, 6) == 0;
}

/* A unicast host address: not 0/8, 127/8, multicast, class E or broadcast. */
bool sbr_ip_is_unicast(uint32_t ip)
{
	return (ip >> 24) != 0 && (ip >> 24) != 127 && ip < 0xe0000000u;
}

/* A string of a fixed buffer: NUL-terminated inside it, no control bytes. */
const char *sbr_str_problem(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);

	if (n == cap)
		return "is not NUL-terminated";
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return "contains a control character";
	return NULL;
}

/* RFC 1123 2.1 host name: dot-separated labels of letters, digits and '-'. */
const char *sbr_hostname_problem(const char *s)
{
	size_t label = 0;

	if (*s == '\0')
		return NULL;
	for (const char *p = s;; p++) {
		if (*p == '.' || *p == '\0') {
			if (label == 0)
				return "has an empty label";
			if (p[-1] == '-')
				return "has a label that ends in '-'";
			if (*p == '\0')
				return NULL;
			label = 0;
			continue;
		}
		bool alnum = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			     (*p >= '0' && *p <= '9');
		if (!alnum && *p != '-')
			return "may contain only letters, digits, '-' and '.'";
		if (label == 0 && *p == '-')
			return "has a label that starts with '-'";
		if (++label > 63)
			return "has a label longer than 63 characters";
	}
}

/*
 * Image names are what TFTP clients ask for after the catalog's normalisation
 * (leading '/' removed, '\' turned into '/'), so they must already be in that
 * form, and must not climb out of their folder.
 */
const char *sbr_image_name_problem(const char *s)
{
	if (*s == '\0')
		return "is empty";
	if (*s == '/')
		return "must not start with '/' (clients' leading '/' is stripped before lookup)";
	if (strchr(s, '\\'))
		return "must use '/' as separator, not '\\'";
	if (s[strlen(s) - 1] == '/')
		return "must not end with '/'";
	for (const char *c = s; c;) {
		const char *next = strchr(c, '/');
		size_t n = next ? (size_t)(next - c) : strlen(c);

		if (n == 0)
			return "must not contain an empty path component (\"//\")";
		if (n == 1 && c[0] == '.')
			return "must not contain a \".\" component";
		if (n == 2 && c[0] == '.' && c[1] == '.')
			return "must not contain a \"..\" component";
		c = next ? next + 1 : NULL;
	}
	return NULL;
}

size_t sbr_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[65];

	if (la > 64 || lb > 64)
		return 1000;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[lb];
}

int sbr_vfail(char *msg, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, SBCFG_ERR_MAX, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Append s to the path (cut short if the path is absurdly deep); returns the old length. */
static size_t sbr_path_append(struct pctx *c, const char *s)
{
	size_t old = c->plen, n = strlen(s);

	if (n > sizeof(c->path) - 1 - old)
		n = sizeof(c->path) - 1 - old;
	memcpy(c->path + old, s, n);
	c->plen = old + n;
	c->path[c->plen] = '\0';
	return old;
}

size_t sbr_push_key(struct pctx *c, const char *key)
{
	char part[80];

	snprintf(part, sizeof(part), "%s%.64s", c->plen ? "." : "", key);
	return sbr_path_append(c, part);
}

size_t sbr_push_index(struct pctx *c, size_t i)
{
	char part[32];

	snprintf(part, sizeof(part), "[%zu]", i);
	return sbr_path_append(c, part);
}

void sbr_pop(struct pctx *c, size_t old)
{
	c->plen = old;
	c->path[old] = '\0';
}

int sbr_perr(struct pctx *c, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(c->msg, SBCFG_ERR_MAX, "%s: ", c->plen ? c->path : "(top level)");

	if (n < 0 || n >= SBCFG_ERR_MAX)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(c->msg + n, SBCFG_ERR_MAX - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

const char *sbcfg_json_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a fractional number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "null";
	}
	return "?";
}

/* Refuse keys that are not in known (a typo must not pass silently). */
int sbr_check_keys(struct pctx *c, json_t *obj, const char *const *known)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v)
	{
		const char *best = NULL;
		size_t best_d = 3;
		size_t i;

		for (i = 0; known[i]; i++) {
			if (strcmp(key, known[i]) == 0)
				break;
			size_t d = sbr_edit_distance(key, known[i]);
			if (d < best_d) {
				best_d = d;
				best = known[i];
			}
		}
		if (known[i])
			continue;
		char shown[80], list[512] = "";
		size_t off = 0;
		for (i = 0; known[i] && off < sizeof(list); i++) {
			int n = snprintf(list + off, sizeof(list) - off, "%s%s", i ? ", " : "",
					 known[i]);
			off += n > 0 ? (size_t)n : 0;
		}
		sbr_push_key(c, sbr_printable(key, shown, sizeof(shown)));
		if (best)
			return sbr_perr(c, "unknown field; did you mean \"%s\"?", best);
		return sbr_perr(c, "unknown field (known fields here: %s)", list);
	}
	return 0;
}

/* Member key of obj, or NULL; *rc = error if it is missing and required. */
json_t *sbr_member(struct pctx *c, json_t *obj, const char *key, bool required, int *rc)
{
	json_t *v = json_object_get(obj, key);

	*rc = 0;
	if (!v && required) {
		size_t old = sbr_push_key(c, key);
		*rc = sbr_perr(c, "required field is missing");
		sbr_pop(c, old);
	}
	return v;
}

int sbr_want_type(struct pctx *c, json_t *v, json_type t, const char *what)
{
	if (json_typeof(v) == t || (t == JSON_TRUE && json_is_boolean(v)))
		return 0;
	return sbr_perr(c, "must be %s, not %s", what, sbcfg_json_type_name(v));
}

/* The value at the current path as a string that fits cap bytes with its NUL. */
int sbr_str_value(struct pctx *c, json_t *v, char *dst, size_t cap)
{
	int rc = sbr_want_type(c, v, JSON_STRING, "a string");

	if (rc < 0)
		return rc;
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);
	if (n >= cap)
		return sbr_perr(c, "is %zu bytes long, at most %zu fit", n, cap - 1);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return sbr_perr(c, "contains a control character at byte %zu", i);
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

int sbr_get_str(struct pctx *c, json_t *obj, const char *key, char *dst, size_t cap, bool req)
{
	int rc;
	json_t *v = sbr_member(c, obj, key, req, &rc);

	if (!v)
		return rc;
	size_t old = sbr_push_key(c, key);
	rc = sbr_str_value(c, v, dst, cap);
	sbr_pop(c, old);
	return rc;
}

/* An IPv4 address string; 0.0.0.0 is refused (an absent field means "none"). */
int sbr_ip_value(struct pctx *c, json_t *v, uint32_t *dst)
{
	char s[64], shown[40];
	int rc = sbr_str_value(c, v, s, sizeof(s));

	if (rc < 0)
		return rc;
	if (sbr_ipv4_parse(s, dst) < 0)
		return sbr_perr(c, "\"%s\" is not an IPv4 address (dotted quad such as 198.18.0.1)",
				sbr_printable(s, shown, sizeof(shown)));
	if (*dst == 0)
		return sbr_perr(c,
				"0.0.0.0 is not allowed here (leave the field out for \"none\")");
	return 0;
}

int sbr_get_ip(struct pctx *c, json_t *obj, const char *key, uint32_t *dst, bool req)
{
	int rc;
	json_t *v = sbr_member(c, obj, key, req, &rc);

	if (!v)
		return rc;
	size_t old = sbr_push_key(c, key);
	rc = sbr_ip_value(c, v, dst);
	sbr_pop(c, old);
	return rc;
}

/* zero_ok: "00:00:00:00:00:00" is a valid value (server_mac: use the port's). */
int sbr_get_mac(struct pctx *c, json_t *obj, const char *key, uint8_t mac[6], bool req,
		bool zero_ok)
{
	char s[64], shown[40];
	int rc;
	json_t *v = sbr_member(c, obj, key, req, &rc);

	if (!v)
		return rc;
	size_t old = sbr_push_key(c, key);
	rc = sbr_str_value(c, v, s, sizeof(s));
	if (rc == 0 && sbr_mac_parse(s, mac) < 0)
		rc = sbr_perr(c, "\"%s\" is not a MAC address (six hex pairs separated by ':')",
			      sbr_printable(s, shown, sizeof(shown)));
	else if (rc == 0 && !zero_ok && sbcfg_mac_is_zero(mac))
		rc = sbr_perr(c, "00:00:00:00:00:00 is not a client MAC address");
	sbr_pop(c, old);
	return rc;
}

int sbr_get_uint(struct pctx *c, json_t *obj, const char *key, long long lo, long long hi,
		 long long *dst)
{
	int rc;
	json_t *v = sbr_member(c, obj, key, false, &rc);

	if (!v)
		return rc;
	size_t old = sbr_push_key(c, key);
	rc = sbr_want_type(c, v, JSON_INTEGER, "an integer");
	if (rc == 0) {
		long long x = json_integer_value(v);
		if (x < lo || x > hi)
			rc = sbr_perr(c, "%lld is out of range %lld..%lld", x, lo, hi);
		else
			*dst = x;
	}
	sbr_pop(c, old);
	return rc;
}

/* An optional true/false member; *out keeps its value when the key is absent. */
int sbr_get_bool(struct pctx *c, json_t *obj, const char *key, bool *out)
{
	int rc;
	json_t *v = sbr_member(c, obj, key, false, &rc);

	if (!v)
		return rc;
	size_t old = sbr_push_key(c, key);
	rc = sbr_want_type(c, v, JSON_TRUE, "true or false");
	sbr_pop(c, old);
	if (rc < 0)
		return rc;
	*out = json_is_true(v);
	return 0;
}

int sbr_get_enum(struct pctx *c, json_t *obj, const char *key, const char *const *names, size_t n,
		 int *dst)
{
	char shown[40];
	int rc;
	json_t *v = sbr_member(c, obj, key, false, &rc);

	if (!v)
		return rc;
	size_t old = sbr_push_key(c, key);
	rc = sbr_want_type(c, v, JSON_STRING, "a string");
	if (rc == 0) {
		const char *val = json_string_value(v);
		size_t i;
		for (i = 0; i < n; i++)
			if (strcmp(val, names[i]) == 0)
				break;
		if (i < n) {
			*dst = (int)i;
		} else {
			char list[128] = "";
			for (size_t j = 0; j < n; j++) {
				strcat(list, j ? ", \"" : "\"");
				strcat(list, names[j]);
				strcat(list, "\"");
			}
			rc = sbr_perr(c, "\"%s\" is not one of %s",
				      sbr_printable(val, shown, sizeof(shown)), list);
		}
	}
	sbr_pop(c, old);
	return rc;
}

/* Member key as an object, NULL if absent. */
json_t *sbr_get_obj(struct pctx *c, json_t *obj, const char *key, bool req, int *rc)
{
	json_t *v = sbr_member(c, obj, key, req, rc);

	if (!v)
		return NULL;
	size_t old = sbr_push_key(c, key);
	*rc = sbr_want_type(c, v, JSON_OBJECT, "an object");
	sbr_pop(c, old);
	return *rc < 0 ? NULL : v;
}

/* Member key as an array of at most max elements, NULL if absent. */
json_t *sbr_get_array(struct pctx *c, json_t *obj, const char *key, size_t max, int *rc)
{
	json_t *v = sbr_member(c, obj, key, false, rc);

	if (!v)
		return NULL;
	size_t old = sbr_push_key(c, key);
	*rc = sbr_want_type(c, v, JSON_ARRAY, "an array");
	if (*rc == 0 && json_array_size(v) > max)
		*rc = sbr_perr(c, "has %zu entries, at most %zu are allowed", json_array_size(v),
			       max);
	sbr_pop(c, old);
	return *rc < 0 ? NULL : v;
}
