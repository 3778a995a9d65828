/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sbcfg_json.c - stormboot's JSON config file: parse (jansson) into a struct
 * sbcfg and validate it (serialising and comparing are in sbcfg_emit.c). Two passes:
 *   1. parse: JSON syntax, types, unknown fields, the syntax of addresses,
 *      MACs and prefixes, string lengths and the range of each single number;
 *   2. sbcfg_validate(): every rule again on the C struct, plus the rules that
 *      relate fields to each other (pools inside subnets, duplicates...), so the
 *      control process can check a config it edited in C with the same code.
 * Error messages: "<file>: <json.path>: <reason>", or "<file>:<line>:<col>: ..."
 * for JSON syntax errors. docs/CONFIG.md documents every field and limit.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "sbcfg_json.h"
#include "sbcfg_names.h"

/* Limits; docs/CONFIG.md lists them, keep both in step. */
#define LIM_QUEUES_MAX	     64
#define LIM_SUBNETS_MAX	     4096 /* lease_info.subnet is a uint16_t index */
#define LIM_RESERVATIONS_MAX 1048576
#define LIM_IMAGES_MAX	     65536
#define LIM_POOL_MAX	     1048576 /* addresses in one pool (a /12) */
#define LIM_PREFIX_MIN	     8
#define LIM_PREFIX_MAX	     30		 /* a /31 or /32 has no room for a pool */
#define LIM_LEASE_MAX	     0x7fffffffu /* 0xffffffff means "infinite" (RFC 2132 9.2) */
#define LIM_OFFER_HOLD_MAX   3600
#define LIM_QUARANTINE_MAX   31536000 /* a year */
#define LIM_PROBE_MS_MIN     10	      /* dhcp.conflict_probe_ms, when not 0 */
#define LIM_PROBE_MS_MAX     5000     /* a client's DISCOVER retransmission is ~4 s */
#define LIM_PROBE_MAX	     1024     /* dhcp.conflict_probe_max (the engine's table) */
#define LIM_VLAN_MAX	     4094     /* IEEE 802.1Q: 0 and 4095 are reserved VIDs */
#define LIM_PORT_MIN	     1024
#define LIM_SESSIONS_MAX     1048576
#define LIM_BLKSIZE_MIN	     8	   /* RFC 2348 */
#define LIM_BLKSIZE_MAX	     65464 /* RFC 2348 */
#define LIM_WINDOW_MAX	     32768 /* RFC 7440; 16-bit block numbers stay unambiguous */
#define LIM_TIMEOUT_MS_MIN   10
#define LIM_TIMEOUT_MS_MAX   255000 /* RFC 2349: timeout 1..255 s */
#define LIM_RETRIES_MAX	     255
#define LIM_GIVE_UP_MS_MIN   100
#define LIM_GIVE_UP_MS_MAX   3600000
#define LIM_MTU_MIN	     576 /* RFC 791 */
#define LIM_MTU_MAX	     9000
#define LIM_HTTP_CONNS_MAX   16384
#define LIM_HTTP_IDLE_MIN    100
#define LIM_HTTP_IDLE_MAX    3600000
#define TFTP_OVERHEAD	     32 /* IPv4 20 + UDP 8 + TFTP DATA 4 */
#define LIM_FILE_MAX	     (64u << 20)
#define DEFAULT_LEASE_TIME   3600
#define DEFAULT_MIN_LEASE    60 /* issue 15: a client may not ask for a 1-second lease */

const char *const sbcfg_mode_names[SBCFG_N_DHCP_MODES] = {
	[SBCFG_DHCP_FULL] = "full",
	[SBCFG_DHCP_PROXY] = "proxy",
	[SBCFG_DHCP_OFF] = "off",
};
const char *const sbcfg_csum_names[SBCFG_N_CSUM_POLICIES] = {
	[SBCFG_CSUM_ACCEPT] = "accept",
	[SBCFG_CSUM_VERIFY] = "verify",
};
const char *const sbcfg_dhcp_dst_names[SBCFG_N_DHCP_DSTS] = {
	[SBCFG_DHCP_DST_ANY] = "any",
	[SBCFG_DHCP_DST_SERVER] = "server",
};
const char *const sbcfg_durability_names[SBCFG_N_DURABILITY] = {
	[SBCFG_DURABLE_STRICT] = "strict",
	[SBCFG_DURABLE_AVAILABLE] = "available",
};
/* JSON key of each boot file, in enum sbcfg_arch order. */
const char *const sbcfg_arch_keys[SBCFG_ARCH__COUNT] = {
	[SBCFG_ARCH_BIOS] = "bios",	      [SBCFG_ARCH_UEFI_X64] = "uefi_x64",
	[SBCFG_ARCH_UEFI_IA32] = "uefi_ia32", [SBCFG_ARCH_UEFI_ARM64] = "uefi_arm64",
	[SBCFG_ARCH_HTTP_X64] = "http_x64",   [SBCFG_ARCH_HTTP_ARM64] = "http_arm64",
};

static const char *const top_keys[] = {
	"interface", "dpdk_port", "xdp_prog",  "queues",  "server_ip", "server_mac", "udp_checksum",
	"dhcp",	     "tftp",	  "images",    "http",	  "ipv6_ra",   "guard",	     "control",
	"syslog",    "metrics",	  "tftp_root", "cluster", NULL};
static const char *const dhcp_keys[] = {"mode",
					"offer_hold",
					"offer_reuse",
					"decline_quarantine",
					"max_lease_time",
					"min_lease_time",
					"boot",
					"subnets",
					"reservations",
					"durability",
					"conflict_probe_ms",
					"conflict_probe_max",
					NULL};
static const char *const boot_keys[] = {"bios",	    "uefi_x64",	  "uefi_ia32",	 "uefi_arm64",
					"http_x64", "http_arm64", "ipxe_script", NULL};
static const char *const subnet_keys[] = {"network",	    "pool",	  "router",	 "dns",
					  "domain",	    "lease_time", "next_server", "vlan",
					  "images_allowed", NULL};
static const char *const pool_keys[] = {"start", "end", NULL};
static const char *const resv_keys[] = {
	"mac", "ip", "hostname", "bootfile", "ipxe_script", "images_allowed", NULL};
static const char *const tftp_keys[] = {"enabled",
					"transfer_ports",
					"max_sessions",
					"max_sessions_per_client",
					"blksize_default",
					"blksize_max",
					"windowsize_max",
					"timeout_ms",
					"retries",
					"give_up_ms",
					"mtu",
					"images_allowed",
					"multicast",
					NULL};
static const char *const mtftp_keys[] = {"enabled", "groups", "port", NULL};
static const char *const ports_keys[] = {"first", "last", NULL};
static const char *const image_keys[] = {"name",	   "path",	"sha256",
					 "from_tftp_root", "protected", NULL};
static const char *const http_keys[] = {"listen",
					"max_connections",
					"idle_timeout_ms",
					"max_connections_per_ip",
					"header_timeout_ms",
					"https_port",
					"tls_cert",
					"tls_key",
					"token_ttl_s",
					NULL};
static const char *const syslog_keys[] = {"enabled", "port", NULL};
static const char *const metrics_keys[] = {"listen", NULL};
static const char *const control_keys[] = {"api_users",	       "api_groups",  "dataplane_users",
					   "dataplane_groups", "images_dirs", NULL};

/* ---- small helpers ---- */

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
static const char *printable(const char *s, char *buf, size_t cap)
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
static int ipv4_parse(const char *s, uint32_t *out)
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
static int cidr_parse(const char *s, uint32_t *net, unsigned *len)
{
	const char *slash = strchr(s, '/');
	char addr[16];
	unsigned l = 0;

	if (!slash || slash - s >= (long)sizeof(addr))
		return -1;
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	if (ipv4_parse(addr, net) < 0)
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

static uint32_t prefix_mask(unsigned len)
{
	return len == 0 ? 0 : 0xffffffffu << (32 - len);
}

/* Length of a contiguous netmask, -1 if it is not one. */
static int mask_len(uint32_t mask)
{
	int len = 0;

	while (len < 32 && (mask & (0x80000000u >> len)))
		len++;
	return mask == prefix_mask((unsigned)len) ? len : -1;
}

static int hexval(char c)
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
static int mac_parse(const char *s, uint8_t mac[6])
{
	if (strlen(s) != 17)
		return -1;
	for (int i = 0; i < 6; i++) {
		int hi = hexval(s[i * 3]), lo = hexval(s[i * 3 + 1]);

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
static bool ip_is_unicast(uint32_t ip)
{
	return (ip >> 24) != 0 && (ip >> 24) != 127 && ip < 0xe0000000u;
}

/* A string of a fixed buffer: NUL-terminated inside it, no control bytes. */
static const char *str_problem(const char *s, size_t cap)
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
static const char *hostname_problem(const char *s)
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
static const char *image_name_problem(const char *s)
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

static size_t edit_distance(const char *a, const char *b)
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

static int vfail(char *msg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int vfail(char *msg, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, SBCFG_ERR_MAX, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* ---- pass 1: JSON -> struct ---- */

struct pctx {
	char path[512]; /* JSON path of the value being read */
	size_t plen;
	char *msg;	   /* SBCFG_ERR_MAX bytes */
	struct sbcfg *cfg; /* being filled (images_allowed patterns go to its pool) */
};

/* Append s to the path (cut short if the path is absurdly deep); returns the old length. */
static size_t path_append(struct pctx *c, const char *s)
{
	size_t old = c->plen, n = strlen(s);

	if (n > sizeof(c->path) - 1 - old)
		n = sizeof(c->path) - 1 - old;
	memcpy(c->path + old, s, n);
	c->plen = old + n;
	c->path[c->plen] = '\0';
	return old;
}

static size_t push_key(struct pctx *c, const char *key)
{
	char part[80];

	snprintf(part, sizeof(part), "%s%.64s", c->plen ? "." : "", key);
	return path_append(c, part);
}

static size_t push_index(struct pctx *c, size_t i)
{
	char part[32];

	snprintf(part, sizeof(part), "[%zu]", i);
	return path_append(c, part);
}

static void pop(struct pctx *c, size_t old)
{
	c->plen = old;
	c->path[old] = '\0';
}

static int perr(struct pctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int perr(struct pctx *c, const char *fmt, ...)
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
static int check_keys(struct pctx *c, json_t *obj, const char *const *known)
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
			size_t d = edit_distance(key, known[i]);
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
		push_key(c, printable(key, shown, sizeof(shown)));
		if (best)
			return perr(c, "unknown field; did you mean \"%s\"?", best);
		return perr(c, "unknown field (known fields here: %s)", list);
	}
	return 0;
}

/* Member key of obj, or NULL; *rc = error if it is missing and required. */
static json_t *member(struct pctx *c, json_t *obj, const char *key, bool required, int *rc)
{
	json_t *v = json_object_get(obj, key);

	*rc = 0;
	if (!v && required) {
		size_t old = push_key(c, key);
		*rc = perr(c, "required field is missing");
		pop(c, old);
	}
	return v;
}

static int want_type(struct pctx *c, json_t *v, json_type t, const char *what)
{
	if (json_typeof(v) == t || (t == JSON_TRUE && json_is_boolean(v)))
		return 0;
	return perr(c, "must be %s, not %s", what, sbcfg_json_type_name(v));
}

/* The value at the current path as a string that fits cap bytes with its NUL. */
static int str_value(struct pctx *c, json_t *v, char *dst, size_t cap)
{
	int rc = want_type(c, v, JSON_STRING, "a string");

	if (rc < 0)
		return rc;
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);
	if (n >= cap)
		return perr(c, "is %zu bytes long, at most %zu fit", n, cap - 1);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return perr(c, "contains a control character at byte %zu", i);
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

static int get_str(struct pctx *c, json_t *obj, const char *key, char *dst, size_t cap, bool req)
{
	int rc;
	json_t *v = member(c, obj, key, req, &rc);

	if (!v)
		return rc;
	size_t old = push_key(c, key);
	rc = str_value(c, v, dst, cap);
	pop(c, old);
	return rc;
}

/* An IPv4 address string; 0.0.0.0 is refused (an absent field means "none"). */
static int ip_value(struct pctx *c, json_t *v, uint32_t *dst)
{
	char s[64], shown[40];
	int rc = str_value(c, v, s, sizeof(s));

	if (rc < 0)
		return rc;
	if (ipv4_parse(s, dst) < 0)
		return perr(c, "\"%s\" is not an IPv4 address (dotted quad such as 198.18.0.1)",
			    printable(s, shown, sizeof(shown)));
	if (*dst == 0)
		return perr(c, "0.0.0.0 is not allowed here (leave the field out for \"none\")");
	return 0;
}

static int get_ip(struct pctx *c, json_t *obj, const char *key, uint32_t *dst, bool req)
{
	int rc;
	json_t *v = member(c, obj, key, req, &rc);

	if (!v)
		return rc;
	size_t old = push_key(c, key);
	rc = ip_value(c, v, dst);
	pop(c, old);
	return rc;
}

/* zero_ok: "00:00:00:00:00:00" is a valid value (server_mac: use the port's). */
static int get_mac(struct pctx *c, json_t *obj, const char *key, uint8_t mac[6], bool req,
		   bool zero_ok)
{
	char s[64], shown[40];
	int rc;
	json_t *v = member(c, obj, key, req, &rc);

	if (!v)
		return rc;
	size_t old = push_key(c, key);
	rc = str_value(c, v, s, sizeof(s));
	if (rc == 0 && mac_parse(s, mac) < 0)
		rc = perr(c, "\"%s\" is not a MAC address (six hex pairs separated by ':')",
			  printable(s, shown, sizeof(shown)));
	else if (rc == 0 && !zero_ok && sbcfg_mac_is_zero(mac))
		rc = perr(c, "00:00:00:00:00:00 is not a client MAC address");
	pop(c, old);
	return rc;
}

static int get_uint(struct pctx *c, json_t *obj, const char *key, long long lo, long long hi,
		    long long *dst)
{
	int rc;
	json_t *v = member(c, obj, key, false, &rc);

	if (!v)
		return rc;
	size_t old = push_key(c, key);
	rc = want_type(c, v, JSON_INTEGER, "an integer");
	if (rc == 0) {
		long long x = json_integer_value(v);
		if (x < lo || x > hi)
			rc = perr(c, "%lld is out of range %lld..%lld", x, lo, hi);
		else
			*dst = x;
	}
	pop(c, old);
	return rc;
}

#define GET_UINT(c, obj, key, lo, hi, field)                                                       \
	({                                                                                         \
		long long _x = (field);                                                            \
		int _rc = get_uint(c, obj, key, lo, hi, &_x);                                      \
		(field) = (__typeof__(field))_x;                                                   \
		_rc;                                                                               \
	})

/* An optional true/false member; *out keeps its value when the key is absent. */
static int get_bool(struct pctx *c, json_t *obj, const char *key, bool *out)
{
	int rc;
	json_t *v = member(c, obj, key, false, &rc);

	if (!v)
		return rc;
	size_t old = push_key(c, key);
	rc = want_type(c, v, JSON_TRUE, "true or false");
	pop(c, old);
	if (rc < 0)
		return rc;
	*out = json_is_true(v);
	return 0;
}

static int get_enum(struct pctx *c, json_t *obj, const char *key, const char *const *names,
		    size_t n, int *dst)
{
	char shown[40];
	int rc;
	json_t *v = member(c, obj, key, false, &rc);

	if (!v)
		return rc;
	size_t old = push_key(c, key);
	rc = want_type(c, v, JSON_STRING, "a string");
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
			rc = perr(c, "\"%s\" is not one of %s",
				  printable(val, shown, sizeof(shown)), list);
		}
	}
	pop(c, old);
	return rc;
}

/* Member key as an object, NULL if absent. */
static json_t *get_obj(struct pctx *c, json_t *obj, const char *key, bool req, int *rc)
{
	json_t *v = member(c, obj, key, req, rc);

	if (!v)
		return NULL;
	size_t old = push_key(c, key);
	*rc = want_type(c, v, JSON_OBJECT, "an object");
	pop(c, old);
	return *rc < 0 ? NULL : v;
}

/* Member key as an array of at most max elements, NULL if absent. */
static json_t *get_array(struct pctx *c, json_t *obj, const char *key, size_t max, int *rc)
{
	json_t *v = member(c, obj, key, false, rc);

	if (!v)
		return NULL;
	size_t old = push_key(c, key);
	*rc = want_type(c, v, JSON_ARRAY, "an array");
	if (*rc == 0 && json_array_size(v) > max)
		*rc = perr(c, "has %zu entries, at most %zu are allowed", json_array_size(v), max);
	pop(c, old);
	return *rc < 0 ? NULL : v;
}

static int parse_boot(struct pctx *c, json_t *o, struct sbcfg_bootfiles *b)
{
	int rc = check_keys(c, o, boot_keys);

	for (int a = 0; rc == 0 && a < SBCFG_ARCH__COUNT; a++)
		rc = get_str(c, o, sbcfg_arch_keys[a], b->by_arch[a], SBCFG_NAME_MAX, false);
	if (rc == 0)
		rc = get_str(c, o, "ipxe_script", b->ipxe_script, SBCFG_NAME_MAX, false);
	return rc;
}

static int parse_subnet(struct pctx *c, json_t *o, struct sbcfg_subnet *s, uint32_t max_lease)
{
	char cidr[64], shown[40];
	unsigned len;
	int rc;

	if ((rc = want_type(c, o, JSON_OBJECT, "an object")) < 0 ||
	    (rc = check_keys(c, o, subnet_keys)) < 0 ||
	    (rc = get_str(c, o, "network", cidr, sizeof(cidr), true)) < 0)
		return rc;
	if (cidr_parse(cidr, &s->network, &len) < 0) {
		size_t old = push_key(c, "network");
		rc = perr(c, "\"%s\" is not an IPv4 prefix (such as 198.18.0.0/24)",
			  printable(cidr, shown, sizeof(shown)));
		pop(c, old);
		return rc;
	}
	s->netmask = prefix_mask(len);

	json_t *pool = get_obj(c, o, "pool", false, &rc);
	if (rc < 0)
		return rc;
	if (pool) {
		size_t old = push_key(c, "pool");
		if ((rc = check_keys(c, pool, pool_keys)) == 0 &&
		    (rc = get_ip(c, pool, "start", &s->pool_start, true)) == 0)
			rc = get_ip(c, pool, "end", &s->pool_end, true);
		pop(c, old);
		if (rc < 0)
			return rc;
	}
	if ((rc = get_ip(c, o, "router", &s->router, false)) < 0 ||
	    (rc = get_ip(c, o, "next_server", &s->next_server, false)) < 0 ||
	    (rc = get_str(c, o, "domain", s->domain, sizeof(s->domain), false)) < 0)
		return rc;

	json_t *dns = get_array(c, o, "dns", SBCFG_MAX_DNS, &rc);
	if (rc < 0)
		return rc;
	for (size_t i = 0; dns && i < json_array_size(dns); i++) {
		size_t old = push_key(c, "dns");
		push_index(c, i);
		rc = ip_value(c, json_array_get(dns, i), &s->dns[i]);
		pop(c, old);
		if (rc < 0)
			return rc;
		s->n_dns = (uint8_t)(i + 1);
	}
	s->lease_time = max_lease < DEFAULT_LEASE_TIME ? max_lease : DEFAULT_LEASE_TIME;
	if ((rc = GET_UINT(c, o, "vlan", 1, LIM_VLAN_MAX, s->vlan)) < 0 ||
	    (rc = sbcfg_images_allowed_parse(o, c->path, c->cfg, &s->images_allowed, c->msg)) < 0)
		return rc;
	return GET_UINT(c, o, "lease_time", 1, LIM_LEASE_MAX, s->lease_time);
}

static int parse_reservation(struct pctx *c, json_t *o, struct sbcfg_reservation *r)
{
	int rc;

	if ((rc = want_type(c, o, JSON_OBJECT, "an object")) < 0 ||
	    (rc = check_keys(c, o, resv_keys)) < 0 ||
	    (rc = get_mac(c, o, "mac", r->mac, true, false)) < 0 ||
	    (rc = get_ip(c, o, "ip", &r->ip, false)) < 0 ||
	    (rc = get_str(c, o, "hostname", r->hostname, sizeof(r->hostname), false)) < 0 ||
	    (rc = get_str(c, o, "bootfile", r->bootfile, sizeof(r->bootfile), false)) < 0 ||
	    (rc = sbcfg_images_allowed_parse(o, c->path, c->cfg, &r->images_allowed, c->msg)) < 0)
		return rc;
	return get_str(c, o, "ipxe_script", r->ipxe_script, sizeof(r->ipxe_script), false);
}

static int parse_image(struct pctx *c, json_t *o, struct sbcfg_image *im)
{
	int rc;

	if ((rc = want_type(c, o, JSON_OBJECT, "an object")) < 0 ||
	    (rc = check_keys(c, o, image_keys)) < 0 ||
	    (rc = get_str(c, o, "name", im->name, sizeof(im->name), true)) < 0 ||
	    (rc = get_str(c, o, "path", im->path, sizeof(im->path), true)) < 0 ||
	    (rc = get_bool(c, o, "from_tftp_root", &im->from_root)) < 0 ||
	    (rc = get_bool(c, o, "protected", &im->protected_)) < 0)
		return rc;
	return sbcfg_sha256_parse(o, c->path, im->sha256, c->msg);
}

/*
 * Parse array key of obj into a fresh calloc'ed array of n elements of size sz
 * (stored in *arr and *n at once, so sbcfg_free() releases it on a later error).
 */
static int parse_array(struct pctx *c, json_t *obj, const char *key, size_t max, size_t sz,
		       void **arr, size_t *n,
		       int (*fn)(struct pctx *c, json_t *o, void *elem, const void *arg),
		       const void *arg)
{
	int rc;
	json_t *a = get_array(c, obj, key, max, &rc);

	if (!a || json_array_size(a) == 0)
		return rc;
	*arr = calloc(json_array_size(a), sz);
	if (!*arr) {
		snprintf(c->msg, SBCFG_ERR_MAX, "out of memory");
		return -ENOMEM;
	}
	*n = json_array_size(a);
	size_t old = push_key(c, key);
	for (size_t i = 0; rc == 0 && i < *n; i++) {
		size_t at = push_index(c, i);
		rc = fn(c, json_array_get(a, i), (char *)*arr + i * sz, arg);
		pop(c, at);
	}
	pop(c, old);
	return rc;
}

static int subnet_cb(struct pctx *c, json_t *o, void *elem, const void *arg)
{
	return parse_subnet(c, o, elem, *(const uint32_t *)arg);
}

static int resv_cb(struct pctx *c, json_t *o, void *elem, const void *arg)
{
	return parse_reservation(c, o, elem);
}

static int image_cb(struct pctx *c, json_t *o, void *elem, const void *arg)
{
	return parse_image(c, o, elem);
}

static int parse_dhcp(struct pctx *c, json_t *o, struct sbcfg_dhcp *d)
{
	int rc, mode = (int)d->mode, durability = (int)d->durability;

	if ((rc = check_keys(c, o, dhcp_keys)) < 0 ||
	    (rc = get_enum(c, o, "mode", sbcfg_mode_names, ARRAY_SIZE(sbcfg_mode_names), &mode)) <
		    0 ||
	    (rc = get_enum(c, o, "durability", sbcfg_durability_names,
			   ARRAY_SIZE(sbcfg_durability_names), &durability)) < 0 ||
	    (rc = GET_UINT(c, o, "offer_hold", 1, LIM_OFFER_HOLD_MAX, d->offer_hold)) < 0 ||
	    (rc = get_bool(c, o, "offer_reuse", &d->offer_reuse)) < 0 ||
	    (rc = GET_UINT(c, o, "decline_quarantine", 0, LIM_QUARANTINE_MAX,
			   d->decline_quarantine)) < 0 ||
	    (rc = GET_UINT(c, o, "max_lease_time", 1, LIM_LEASE_MAX, d->max_lease_time)) < 0)
		return rc;
	/* The default floor follows a max_lease_time below it (as a subnet's lease_time does). */
	if (!json_object_get(o, "min_lease_time") && d->min_lease_time > d->max_lease_time)
		d->min_lease_time = d->max_lease_time;
	if ((rc = GET_UINT(c, o, "min_lease_time", 0, LIM_LEASE_MAX, d->min_lease_time)) < 0 ||
	    (rc = GET_UINT(c, o, "conflict_probe_ms", 0, LIM_PROBE_MS_MAX, d->conflict_probe_ms)) <
		    0 ||
	    (rc = GET_UINT(c, o, "conflict_probe_max", 1, LIM_PROBE_MAX, d->conflict_probe_max)) <
		    0)
		return rc;
	d->mode = (enum sbcfg_dhcp_mode)mode;
	d->durability = (enum sbcfg_durability)durability;

	json_t *boot = get_obj(c, o, "boot", false, &rc);
	if (rc < 0)
		return rc;
	if (boot) {
		size_t old = push_key(c, "boot");
		rc = parse_boot(c, boot, &d->boot);
		pop(c, old);
		if (rc < 0)
			return rc;
	}
	rc = parse_array(c, o, "subnets", LIM_SUBNETS_MAX, sizeof(*d->subnets),
			 (void **)&d->subnets, &d->n_subnets, subnet_cb, &d->max_lease_time);
	if (rc < 0)
		return rc;
	return parse_array(c, o, "reservations", LIM_RESERVATIONS_MAX, sizeof(*d->reservations),
			   (void **)&d->reservations, &d->n_reservations, resv_cb, NULL);
}

static int parse_mtftp(struct pctx *c, json_t *o, struct sbcfg_mtftp *m);

static int parse_tftp(struct pctx *c, json_t *o, struct sbcfg_tftp *t)
{
	int rc;

	if ((rc = check_keys(c, o, tftp_keys)) < 0 ||
	    (rc = get_bool(c, o, "enabled", &t->enabled)) < 0)
		return rc;
	json_t *ports = get_obj(c, o, "transfer_ports", false, &rc);
	if (rc < 0)
		return rc;
	if (ports) {
		size_t old = push_key(c, "transfer_ports");
		long long first = -1, last = -1;
		if ((rc = check_keys(c, ports, ports_keys)) == 0 &&
		    (rc = get_uint(c, ports, "first", LIM_PORT_MIN, 65535, &first)) == 0 &&
		    (rc = get_uint(c, ports, "last", LIM_PORT_MIN, 65535, &last)) == 0 &&
		    (first < 0 || last < 0))
			rc = perr(c, "needs both \"first\" and \"last\"");
		pop(c, old);
		if (rc < 0)
			return rc;
		t->port_lo = (uint16_t)first;
		t->port_hi = (uint16_t)last;
	}
	if ((rc = GET_UINT(c, o, "max_sessions", 1, LIM_SESSIONS_MAX, t->max_sessions)) < 0 ||
	    (rc = GET_UINT(c, o, "max_sessions_per_client", 0, LIM_SESSIONS_MAX,
			   t->max_sessions_per_client)) < 0 ||
	    (rc = GET_UINT(c, o, "blksize_default", LIM_BLKSIZE_MIN, LIM_BLKSIZE_MAX,
			   t->blksize_default)) < 0 ||
	    (rc = GET_UINT(c, o, "blksize_max", LIM_BLKSIZE_MIN, LIM_BLKSIZE_MAX, t->blksize_max)) <
		    0 ||
	    (rc = GET_UINT(c, o, "windowsize_max", 1, LIM_WINDOW_MAX, t->windowsize_max)) < 0 ||
	    (rc = GET_UINT(c, o, "timeout_ms", LIM_TIMEOUT_MS_MIN, LIM_TIMEOUT_MS_MAX,
			   t->timeout_ms)) < 0 ||
	    (rc = GET_UINT(c, o, "retries", 0, LIM_RETRIES_MAX, t->retries)) < 0 ||
	    (rc = GET_UINT(c, o, "give_up_ms", LIM_GIVE_UP_MS_MIN, LIM_GIVE_UP_MS_MAX,
			   t->give_up_ms)) < 0 ||
	    (rc = GET_UINT(c, o, "mtu", LIM_MTU_MIN, LIM_MTU_MAX, t->mtu)) < 0 ||
	    (rc = sbcfg_images_allowed_parse(o, c->path, c->cfg, &t->images_allowed, c->msg)) < 0)
		return rc;
	json_t *mc = get_obj(c, o, "multicast", false, &rc);
	if (rc < 0)
		return rc;
	if (mc) {
		size_t old = push_key(c, "multicast");

		rc = parse_mtftp(c, mc, &t->multicast);
		pop(c, old);
		if (rc < 0)
			return rc;
	}
	/* The deprecated "retries" alone keeps its old meaning: that many resends, a timeout apart.
	 */
	if (json_object_get(o, "retries") && !json_object_get(o, "give_up_ms")) {
		uint64_t ms = (uint64_t)t->timeout_ms * (t->retries + 1);

		t->give_up_ms = (uint32_t)(ms < LIM_GIVE_UP_MS_MIN   ? LIM_GIVE_UP_MS_MIN
					   : ms > LIM_GIVE_UP_MS_MAX ? LIM_GIVE_UP_MS_MAX
								     : ms);
	}
	return 0;
}

/* tftp.multicast: {"enabled", "groups": "239.x.y.z/len" (24..32), "port"}. */
static int parse_mtftp(struct pctx *c, json_t *o, struct sbcfg_mtftp *m)
{
	char s[40];
	uint32_t net;
	unsigned len;
	long long port = -1;
	int rc;

	if ((rc = check_keys(c, o, mtftp_keys)) < 0 ||
	    (rc = get_bool(c, o, "enabled", &m->enabled)) < 0)
		return rc;
	if (json_object_get(o, "groups")) {
		size_t old = push_key(c, "groups");

		rc = str_value(c, json_object_get(o, "groups"), s, sizeof(s));
		if (rc == 0 && cidr_parse(s, &net, &len) < 0)
			rc = perr(c, "\"%s\" is not an IPv4 prefix a.b.c.d/len", s);
		else if (rc == 0 && ((net >> 24) != 239 || len < 24))
			rc = perr(c,
				  "\"%s\" must lie inside 239.0.0.0/8 (administratively scoped, "
				  "RFC 2365) with a length of 24..32 (at most 256 groups)",
				  s);
		else if (rc == 0 && (net & ~prefix_mask(len)) != 0)
			rc = perr(c, "\"%s\" has host bits set (the prefix is %u bits)", s, len);
		pop(c, old);
		if (rc < 0)
			return rc;
		m->group_lo = net;
		m->group_len = (uint8_t)len;
	}
	if ((rc = get_uint(c, o, "port", 1024, 65535, &port)) < 0)
		return rc;
	if (port >= 0)
		m->port = (uint16_t)port;
	return 0;
}

/* "a.b.c.d:port" under key "listen" of o (required); 0.0.0.0 = every address. */
static int parse_listen(struct pctx *c, json_t *o, uint32_t *ip, uint16_t *port_out)
{
	char s[64], shown[40];
	int rc;
	json_t *v;

	if (!(v = member(c, o, "listen", true, &rc)))
		return rc;
	size_t old = push_key(c, "listen");
	rc = str_value(c, v, s, sizeof(s));
	if (rc == 0) {
		char *colon = strrchr(s, ':'), *end = NULL;
		unsigned long port = 0;
		if (colon) {
			*colon = '\0';
			if (colon[1] >= '1' && colon[1] <= '9')
				port = strtoul(colon + 1, &end, 10);
		}
		if (!colon || !end || *end || port < 1 || port > 65535 || ipv4_parse(s, ip) < 0) {
			if (colon)
				*colon = ':';
			rc = perr(c,
				  "\"%s\" is not ADDRESS:PORT (such as \"198.18.0.1:8080\", port "
				  "1..65535)",
				  printable(s, shown, sizeof(shown)));
		} else {
			*port_out = (uint16_t)port;
		}
	}
	pop(c, old);
	return rc;
}

/* The HTTP boot server: listen address and limits. */
static int parse_http(struct pctx *c, json_t *o, struct sbcfg_http *h)
{
	int rc;

	if ((rc = check_keys(c, o, http_keys)) < 0 ||
	    (rc = parse_listen(c, o, &h->listen_ip, &h->port)) < 0)
		return rc;
	if ((rc = GET_UINT(c, o, "max_connections", 1, LIM_HTTP_CONNS_MAX, h->max_conns)) < 0)
		return rc;
	if ((rc = GET_UINT(c, o, "idle_timeout_ms", LIM_HTTP_IDLE_MIN, LIM_HTTP_IDLE_MAX,
			   h->idle_timeout_ms)) < 0)
		return rc;
	if ((rc = GET_UINT(c, o, "max_connections_per_ip", 1, LIM_HTTP_CONNS_MAX, h->max_per_ip)) <
	    0)
		return rc;
	if ((rc = GET_UINT(c, o, "header_timeout_ms", LIM_HTTP_IDLE_MIN, LIM_HTTP_IDLE_MAX,
			   h->header_timeout_ms)) < 0)
		return rc;
	if ((rc = GET_UINT(c, o, "https_port", 0, 65535, h->https_port)) < 0 ||
	    (rc = GET_UINT(c, o, "token_ttl_s", 1, 7 * 86400, h->token_ttl_s)) < 0)
		return rc;
	if ((rc = get_str(c, o, "tls_cert", h->tls_cert, sizeof(h->tls_cert), false)) < 0 ||
	    (rc = get_str(c, o, "tls_key", h->tls_key, sizeof(h->tls_key), false)) < 0)
		return rc;
	if (h->https_port && (!h->tls_cert[0] || !h->tls_key[0]))
		return perr(c,
			    "https_port %u needs \"tls_cert\" and \"tls_key\" (PEM files; "
			    "stormbootctl make-cert makes a pair for a lab)",
			    h->https_port);
	if (h->https_port && h->https_port == h->port)
		return perr(c, "https_port %u is the port of \"listen\"", h->https_port);
	return 0;
}

/* ---- syslog (firmware logs) ---- */

static int parse_syslog(struct pctx *c, json_t *o, struct sbcfg_syslog *s)
{
	int rc;

	if ((rc = check_keys(c, o, syslog_keys)) < 0 ||
	    (rc = get_bool(c, o, "enabled", &s->enabled)) < 0)
		return rc;
	return GET_UINT(c, o, "port", 1, 65535, s->port);
}

/* The metrics endpoint and status page (docs/METRICS.md). */
static int parse_metrics(struct pctx *c, json_t *o, struct sbcfg_metrics *m)
{
	int rc;

	if ((rc = check_keys(c, o, metrics_keys)) < 0)
		return rc;
	return parse_listen(c, o, &m->listen_ip, &m->port);
}

/* ---- guard (XDP) and ipv6_ra ---- */

static const char *const guard_keys[] = {"vlans",     "dhcp_destination", "mac_deny", "mac_allow",
					 "dhcp_rate", "tftp_rate",	  NULL};
static const char *const rate_keys[] = {"per_second", "burst", NULL};

/* "ipv6_ra": true, false or "auto". */
static int get_ra_mode(struct pctx *c, json_t *obj, const char *key, enum sbcfg_ra_mode *out)
{
	char shown[40];
	int rc;
	json_t *v = member(c, obj, key, false, &rc);

	if (!v)
		return rc;
	size_t old = push_key(c, key);
	if (json_is_boolean(v))
		*out = json_is_true(v) ? SBCFG_RA_ON : SBCFG_RA_OFF;
	else if (json_is_string(v) && strcmp(json_string_value(v), "auto") == 0)
		*out = SBCFG_RA_AUTO;
	else if (json_is_string(v))
		rc = perr(c, "\"%s\" is not true, false or \"auto\"",
			  printable(json_string_value(v), shown, sizeof(shown)));
	else
		rc = perr(c, "must be true, false or \"auto\", not %s", sbcfg_json_type_name(v));
	pop(c, old);
	return rc;
}

/* A VLAN ID 1..4094 at the start of s; returns the end or NULL. */
static const char *vid_parse(const char *s, uint32_t *vid)
{
	uint32_t v = 0;
	int digits = 0;

	if (*s == '0')
		return NULL;
	for (; *s >= '0' && *s <= '9' && digits < 5; s++, digits++)
		v = v * 10 + (uint32_t)(*s - '0');
	if (digits == 0 || v < 1 || v > SBCFG_VLAN_ID_MAX)
		return NULL;
	*vid = v;
	return s;
}

/* A "vlans" entry: "untagged", an integer VLAN ID, or "OUTER.INNER" (802.1ad + 802.1Q). */
static int vlan_cb(struct pctx *c, json_t *v, void *elem, const void *arg)
{
	uint32_t *out = elem, outer, inner;
	char s[32], shown[40];
	const char *p;
	int rc;

	if (json_is_integer(v)) {
		long long x = json_integer_value(v);
		if (x < 1 || x > SBCFG_VLAN_ID_MAX)
			return perr(c, "%lld is out of range 1..%u (a VLAN ID)", x,
				    SBCFG_VLAN_ID_MAX);
		*out = SBCFG_VLAN(x, 0);
		return 0;
	}
	if (!json_is_string(v))
		return perr(c, "must be a VLAN ID, \"untagged\" or \"OUTER.INNER\", not %s",
			    sbcfg_json_type_name(v));
	if ((rc = str_value(c, v, s, sizeof(s))) < 0)
		return rc;
	if (strcmp(s, "untagged") == 0) {
		*out = SBCFG_VLAN_UNTAGGED;
		return 0;
	}
	if ((p = vid_parse(s, &outer)) && *p == '.' && (p = vid_parse(p + 1, &inner)) && !*p) {
		*out = SBCFG_VLAN(outer, inner);
		return 0;
	}
	return perr(c,
		    "\"%s\" is not a VLAN (an ID 1..%u, \"untagged\", or \"OUTER.INNER\" such as "
		    "\"100.200\")",
		    printable(s, shown, sizeof(shown)), SBCFG_VLAN_ID_MAX);
}

static int mac_cb(struct pctx *c, json_t *v, void *elem, const void *arg)
{
	char s[64], shown[40];
	int rc = str_value(c, v, s, sizeof(s));

	if (rc == 0 && mac_parse(s, elem) < 0)
		rc = perr(c, "\"%s\" is not a MAC address (six hex pairs separated by ':')",
			  printable(s, shown, sizeof(shown)));
	return rc;
}

/* {"per_second": N, "burst": M}: both required once the object is there. */
static int get_rate(struct pctx *c, json_t *obj, const char *key, struct sbcfg_rate *r)
{
	long long pps = 0, burst = 0;
	int rc;
	json_t *o = get_obj(c, obj, key, false, &rc);

	if (!o)
		return rc;
	size_t old = push_key(c, key);
	if ((rc = check_keys(c, o, rate_keys)) == 0)
		member(c, o, "per_second", true, &rc);
	if (rc == 0)
		member(c, o, "burst", true, &rc);
	if (rc == 0)
		rc = get_uint(c, o, "per_second", 1, SBCFG_RATE_MAX, &pps);
	if (rc == 0)
		rc = get_uint(c, o, "burst", 1, SBCFG_RATE_MAX, &burst);
	if (rc == 0) {
		r->per_second = (uint32_t)pps;
		r->burst = (uint32_t)burst;
	}
	pop(c, old);
	return rc;
}

/* An array that must not be empty when given (an empty one would mean "nothing"). */
static int not_empty(struct pctx *c, json_t *o, const char *key, const char *why)
{
	json_t *a = json_object_get(o, key);

	if (!a || !json_is_array(a) || json_array_size(a) > 0)
		return 0;
	size_t old = push_key(c, key);
	int rc = perr(c, "is empty (%s)", why);
	pop(c, old);
	return rc;
}

static int parse_guard(struct pctx *c, json_t *o, struct sbcfg_guard *g)
{
	int rc, dst = (int)g->dhcp_dst;

	if ((rc = check_keys(c, o, guard_keys)) < 0 ||
	    (rc = not_empty(c, o, "vlans", "leave it out to steer every VLAN")) < 0 ||
	    (rc = not_empty(c, o, "mac_allow",
			    "it would drop every client; leave it out to allow every MAC")) < 0 ||
	    (rc = parse_array(c, o, "vlans", SBCFG_GUARD_VLANS_MAX, sizeof(*g->vlans),
			      (void **)&g->vlans, &g->n_vlans, vlan_cb, NULL)) < 0 ||
	    (rc = get_enum(c, o, "dhcp_destination", sbcfg_dhcp_dst_names,
			   ARRAY_SIZE(sbcfg_dhcp_dst_names), &dst)) < 0 ||
	    (rc = parse_array(c, o, "mac_deny", SBCFG_GUARD_DENY_MAX, sizeof(*g->mac_deny),
			      (void **)&g->mac_deny, &g->n_mac_deny, mac_cb, NULL)) < 0 ||
	    (rc = parse_array(c, o, "mac_allow", SBCFG_GUARD_ALLOW_MAX, sizeof(*g->mac_allow),
			      (void **)&g->mac_allow, &g->n_mac_allow, mac_cb, NULL)) < 0 ||
	    (rc = get_rate(c, o, "dhcp_rate", &g->dhcp_rate)) < 0 ||
	    (rc = get_rate(c, o, "tftp_rate", &g->tftp_rate)) < 0)
		return rc;
	g->dhcp_dst = (enum sbcfg_dhcp_dst)dst;
	return 0;
}

/*
 * An optional object section of the top level: parse it with fn(c, obj, out) under its key
 * (error paths name "key.field"). 0 when absent or parsed, else fn's negative errno.
 */
#define PARSE_SECTION(c, root, key, fn, out)                                                       \
	({                                                                                         \
		int rc_ = 0;                                                                       \
		json_t *obj_ = get_obj((c), (root), (key), false, &rc_);                           \
		if (rc_ == 0 && obj_) {                                                            \
			size_t old_ = push_key((c), (key));                                        \
			rc_ = fn((c), obj_, (out));                                                \
			pop((c), old_);                                                            \
		}                                                                                  \
		rc_;                                                                               \
	})

static int parse_top(struct pctx *c, json_t *root, struct sbcfg *cfg)
{
	int rc, csum = (int)cfg->udp_csum;

	if ((rc = check_keys(c, root, top_keys)) < 0 ||
	    (rc = get_str(c, root, "interface", cfg->interface, sizeof(cfg->interface), false)) <
		    0 ||
	    (rc = get_str(c, root, "dpdk_port", cfg->dpdk_port, sizeof(cfg->dpdk_port), false)) <
		    0 ||
	    (rc = get_str(c, root, "xdp_prog", cfg->xdp_prog, sizeof(cfg->xdp_prog), false)) < 0 ||
	    (rc = GET_UINT(c, root, "queues", 1, LIM_QUEUES_MAX, cfg->queues)) < 0 ||
	    (rc = get_ip(c, root, "server_ip", &cfg->server_ip, true)) < 0 ||
	    (rc = get_mac(c, root, "server_mac", cfg->server_mac, false, true)) < 0 ||
	    (rc = get_enum(c, root, "udp_checksum", sbcfg_csum_names, ARRAY_SIZE(sbcfg_csum_names),
			   &csum)) < 0 ||
	    (rc = get_ra_mode(c, root, "ipv6_ra", &cfg->ipv6_ra)) < 0)
		return rc;
	cfg->udp_csum = (enum sbcfg_csum_policy)csum;

	/* "control" (sbcfg_access.c); its unknown fields named here like every other's */
	json_t *control = get_obj(c, root, "control", false, &rc);
	if (rc < 0)
		return rc;
	if (control) {
		size_t old = push_key(c, "control");
		rc = check_keys(c, control, control_keys);
		pop(c, old);
		if (rc < 0 || (rc = sbcfg_control_parse(root, &cfg->control, c->msg)) < 0)
			return rc;
	}

	if ((rc = sbcfg_cluster_parse(root, &cfg->cluster, c->msg)) < 0)
		return rc;

	if ((rc = PARSE_SECTION(c, root, "guard", parse_guard, &cfg->guard)) < 0 ||
	    (rc = PARSE_SECTION(c, root, "dhcp", parse_dhcp, &cfg->dhcp)) < 0 ||
	    (rc = PARSE_SECTION(c, root, "tftp", parse_tftp, &cfg->tftp)) < 0 ||
	    (rc = PARSE_SECTION(c, root, "http", parse_http, &cfg->http)) < 0 ||
	    (rc = PARSE_SECTION(c, root, "syslog", parse_syslog, &cfg->syslog)) < 0 ||
	    (rc = PARSE_SECTION(c, root, "metrics", parse_metrics, &cfg->metrics)) < 0 ||
	    (rc = get_str(c, root, "tftp_root", cfg->tftp_root, sizeof(cfg->tftp_root), false)) < 0)
		return rc;
	return parse_array(c, root, "images", LIM_IMAGES_MAX, sizeof(*cfg->images),
			   (void **)&cfg->images, &cfg->n_images, image_cb, NULL);
}

/* ---- pass 2: rules on the struct ---- */

struct sort_key {
	uint64_t key;
	size_t idx;
};

static int sort_key_cmp(const void *a, const void *b)
{
	const struct sort_key *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* First pair of equal keys (in sorted order): *first < *second, -1 if none. */
static int find_duplicate(struct sort_key *k, size_t n, size_t *first, size_t *second)
{
	qsort(k, n, sizeof(*k), sort_key_cmp);
	for (size_t i = 1; i < n; i++) {
		if (k[i].key == k[i - 1].key) {
			*first = k[i - 1].idx;
			*second = k[i].idx;
			return 0;
		}
	}
	return -1;
}

static uint32_t subnet_last(const struct sbcfg_subnet *s)
{
	return s->network | ~s->netmask;
}

static bool in_subnet(const struct sbcfg_subnet *s, uint32_t ip)
{
	return (ip & s->netmask) == s->network;
}

bool sbcfg_has_pool(const struct sbcfg_subnet *s)
{
	return s->pool_start != 0 || s->pool_end != 0;
}

const char *sbcfg_cidr_fmt(const struct sbcfg_subnet *s, char buf[20])
{
	char ip[16];

	snprintf(buf, 20, "%s/%d", sbcfg_ip_fmt(s->network, ip), mask_len(s->netmask));
	return buf;
}

/* A host address of subnet s: inside it, neither its network nor its broadcast address. */
static const char *host_problem(const struct sbcfg_subnet *s, uint32_t ip)
{
	if (!in_subnet(s, ip))
		return "is outside";
	if (ip == s->network)
		return "is the network address of";
	if (ip == subnet_last(s))
		return "is the broadcast address of";
	return NULL;
}

static bool out_of_range(unsigned long long v, unsigned long long lo, unsigned long long hi)
{
	return v < lo || v > hi;
}

#define CHECK_STR(m, s, fmt, ...)                                                                  \
	do {                                                                                       \
		const char *_p = str_problem((s), sizeof(s));                                      \
		if (_p)                                                                            \
			return vfail(m, fmt ": %s", ##__VA_ARGS__, _p);                            \
	} while (0)

#define CHECK_RANGE(m, v, lo, hi, fmt, ...)                                                        \
	do {                                                                                       \
		unsigned long long _v = (v);                                                       \
		if (out_of_range(_v, lo, hi))                                                      \
			return vfail(m, fmt ": %llu is out of range %llu..%llu", ##__VA_ARGS__,    \
				     _v, (unsigned long long)(lo), (unsigned long long)(hi));      \
	} while (0)

static int validate_top(const struct sbcfg *cfg, char *m)
{
	char a[16];

	CHECK_STR(m, cfg->interface, "interface");
	CHECK_STR(m, cfg->dpdk_port, "dpdk_port");
	CHECK_STR(m, cfg->xdp_prog, "xdp_prog");
	if (cfg->interface[0] == '\0' && cfg->dpdk_port[0] == '\0')
		return vfail(m, "interface: required field is missing (the boot interface; may "
				"only be left out when dpdk_port names the port)");
	/* What the kernel's dev_valid_name() accepts. */
	if (strcmp(cfg->interface, ".") == 0 || strcmp(cfg->interface, "..") == 0 ||
	    strpbrk(cfg->interface, "/: \t"))
		return vfail(m, "interface: \"%s\" is not a valid interface name", cfg->interface);
	if (cfg->xdp_prog[0] != '\0' && cfg->xdp_prog[0] != '/')
		return vfail(m, "xdp_prog: must be an absolute path");
	CHECK_RANGE(m, cfg->queues, 1, LIM_QUEUES_MAX, "queues");
	if (cfg->server_ip == 0)
		return vfail(m, "server_ip: required field is missing");
	if (!ip_is_unicast(cfg->server_ip))
		return vfail(m, "server_ip: %s is not a unicast host address",
			     sbcfg_ip_fmt(cfg->server_ip, a));
	if (cfg->server_mac[0] & 1)
		return vfail(m, "server_mac: is a multicast address (low bit of the first byte)");
	if ((unsigned)cfg->udp_csum >= ARRAY_SIZE(sbcfg_csum_names))
		return vfail(m, "udp_checksum: invalid value %d", (int)cfg->udp_csum);
	return 0;
}

static int validate_boot(const struct sbcfg_dhcp *d, char *m)
{
	const struct sbcfg_bootfiles *b = &d->boot;
	bool any = false;

	for (int i = 0; i < SBCFG_ARCH__COUNT; i++) {
		const char *s = b->by_arch[i];

		CHECK_STR(m, b->by_arch[i], "dhcp.boot.%s", sbcfg_arch_keys[i]);
		any |= s[0] != '\0';
		bool http = i == SBCFG_ARCH_HTTP_X64 || i == SBCFG_ARCH_HTTP_ARM64;
		if (http && s[0] && strncmp(s, "http://", 7) != 0 && strncmp(s, "https://", 8) != 0)
			return vfail(m, "dhcp.boot.%s: UEFI HTTP boot needs a URL (http://...)",
				     sbcfg_arch_keys[i]);
	}
	CHECK_STR(m, b->ipxe_script, "dhcp.boot.ipxe_script");
	if (d->mode == SBCFG_DHCP_PROXY && !any)
		return vfail(m, "dhcp.boot: proxy mode only hands out boot files: set at least one "
				"of bios, uefi_x64, uefi_ia32, uefi_arm64, http_x64, http_arm64");
	return 0;
}

static int validate_subnet(const struct sbcfg *cfg, size_t i, char *m)
{
	const struct sbcfg_dhcp *d = &cfg->dhcp;
	const struct sbcfg_subnet *s = &d->subnets[i];
	char a[16], b[16], net[20];
	const char *p;
	int len = mask_len(s->netmask);

	if (len < 0)
		return vfail(m, "dhcp.subnets[%zu].network: netmask %s is not contiguous", i,
			     sbcfg_ip_fmt(s->netmask, a));
	if (len < LIM_PREFIX_MIN || len > LIM_PREFIX_MAX)
		return vfail(
			m, "dhcp.subnets[%zu].network: prefix length /%d is out of range /%d../%d",
			i, len, LIM_PREFIX_MIN, LIM_PREFIX_MAX);
	if (s->network & ~s->netmask)
		return vfail(m,
			     "dhcp.subnets[%zu].network: %s/%d has host bits set (the network is "
			     "%s/%d)",
			     i, sbcfg_ip_fmt(s->network, a), len,
			     sbcfg_ip_fmt(s->network & s->netmask, b), len);
	if (!ip_is_unicast(s->network))
		return vfail(m, "dhcp.subnets[%zu].network: %s is not a unicast range", i,
			     sbcfg_cidr_fmt(s, net));
	sbcfg_cidr_fmt(s, net);

	if (sbcfg_has_pool(s)) {
		if (d->mode == SBCFG_DHCP_PROXY)
			return vfail(m,
				     "dhcp.subnets[%zu].pool: proxy mode hands out no addresses "
				     "(the other DHCP server does): remove the pool",
				     i);
		if ((p = host_problem(s, s->pool_start)))
			return vfail(m, "dhcp.subnets[%zu].pool.start: %s %s subnet %s", i,
				     sbcfg_ip_fmt(s->pool_start, a), p, net);
		if ((p = host_problem(s, s->pool_end)))
			return vfail(m, "dhcp.subnets[%zu].pool.end: %s %s subnet %s", i,
				     sbcfg_ip_fmt(s->pool_end, a), p, net);
		if (s->pool_start > s->pool_end)
			return vfail(m, "dhcp.subnets[%zu].pool.start: %s is after pool.end %s", i,
				     sbcfg_ip_fmt(s->pool_start, a), sbcfg_ip_fmt(s->pool_end, b));
		if ((uint64_t)s->pool_end - s->pool_start + 1 > LIM_POOL_MAX)
			return vfail(m, "dhcp.subnets[%zu].pool: %llu addresses, at most %u", i,
				     (unsigned long long)s->pool_end - s->pool_start + 1,
				     LIM_POOL_MAX);
		if (cfg->server_ip >= s->pool_start && cfg->server_ip <= s->pool_end)
			return vfail(m, "dhcp.subnets[%zu].pool: contains server_ip %s", i,
				     sbcfg_ip_fmt(cfg->server_ip, a));
	}
	if (s->router) {
		if ((p = host_problem(s, s->router)))
			return vfail(m, "dhcp.subnets[%zu].router: %s %s subnet %s", i,
				     sbcfg_ip_fmt(s->router, a), p, net);
		if (sbcfg_has_pool(s) && s->router >= s->pool_start && s->router <= s->pool_end)
			return vfail(m, "dhcp.subnets[%zu].router: %s is inside the pool", i,
				     sbcfg_ip_fmt(s->router, a));
	}
	if (s->n_dns > SBCFG_MAX_DNS)
		return vfail(m, "dhcp.subnets[%zu].dns: at most %d servers", i, SBCFG_MAX_DNS);
	for (unsigned j = 0; j < s->n_dns; j++)
		if (!ip_is_unicast(s->dns[j]))
			return vfail(m, "dhcp.subnets[%zu].dns[%u]: %s is not a unicast address", i,
				     j, sbcfg_ip_fmt(s->dns[j], a));
	CHECK_STR(m, s->domain, "dhcp.subnets[%zu].domain", i);
	if ((p = hostname_problem(s->domain)))
		return vfail(m, "dhcp.subnets[%zu].domain: \"%s\" %s", i, s->domain, p);
	if (s->lease_time == 0 || s->lease_time > d->max_lease_time)
		return vfail(
			m,
			"dhcp.subnets[%zu].lease_time: %u is out of range 1..%u (max_lease_time)",
			i, s->lease_time, d->max_lease_time);
	if (s->vlan > LIM_VLAN_MAX)
		return vfail(m, "dhcp.subnets[%zu].vlan: %u is out of range 1..%u", i, s->vlan,
			     LIM_VLAN_MAX);
	if (s->lease_time < d->min_lease_time)
		return vfail(m, "dhcp.subnets[%zu].lease_time: %u is below min_lease_time %u", i,
			     s->lease_time, d->min_lease_time);
	if (s->next_server && !ip_is_unicast(s->next_server))
		return vfail(m, "dhcp.subnets[%zu].next_server: %s is not a unicast address", i,
			     sbcfg_ip_fmt(s->next_server, a));
	return 0;
}

/* One subnet per VLAN: it is what an unrelayed request on that VLAN gets. */
static int validate_vlans(const struct sbcfg_dhcp *d, char *m)
{
	uint16_t first[LIM_VLAN_MAX + 1] = {0}; /* subnet index + 1 */

	for (size_t i = 0; i < d->n_subnets; i++) {
		uint16_t v = d->subnets[i].vlan;
		if (v == 0)
			continue;
		if (first[v])
			return vfail(m,
				     "dhcp.subnets[%zu].vlan: %u is also the VLAN of "
				     "dhcp.subnets[%u]",
				     i, v, first[v] - 1u);
		first[v] = (uint16_t)(i + 1);
	}
	return 0;
}

/* Subnets must not overlap (a relay's giaddr must pick one), nor their pools. */
static int validate_overlaps(const struct sbcfg_dhcp *d, struct sort_key *k, char *m)
{
	char a[16], b[16], c[16], e[16], n1[20], n2[20];
	size_t n = 0;

	for (size_t i = 0; i < d->n_subnets; i++)
		if (sbcfg_has_pool(&d->subnets[i]))
			k[n++] = (struct sort_key){d->subnets[i].pool_start, i};
	qsort(k, n, sizeof(*k), sort_key_cmp);
	for (size_t j = 1; j < n; j++) {
		const struct sbcfg_subnet *x = &d->subnets[k[j - 1].idx],
					  *y = &d->subnets[k[j].idx];
		if (y->pool_start <= x->pool_end) {
			size_t hi = k[j].idx > k[j - 1].idx ? k[j].idx : k[j - 1].idx;
			size_t lo = k[j].idx > k[j - 1].idx ? k[j - 1].idx : k[j].idx;
			const struct sbcfg_subnet *l = &d->subnets[lo], *h = &d->subnets[hi];
			return vfail(m,
				     "dhcp.subnets[%zu].pool: %s-%s overlaps the pool of "
				     "dhcp.subnets[%zu] (%s-%s)",
				     hi, sbcfg_ip_fmt(h->pool_start, a),
				     sbcfg_ip_fmt(h->pool_end, b), lo,
				     sbcfg_ip_fmt(l->pool_start, c), sbcfg_ip_fmt(l->pool_end, e));
		}
	}
	for (size_t i = 0; i < d->n_subnets; i++)
		k[i] = (struct sort_key){d->subnets[i].network, i};
	qsort(k, d->n_subnets, sizeof(*k), sort_key_cmp);
	for (size_t j = 1; j < d->n_subnets; j++) {
		const struct sbcfg_subnet *x = &d->subnets[k[j - 1].idx],
					  *y = &d->subnets[k[j].idx];
		if (y->network <= subnet_last(x)) {
			size_t hi = k[j].idx > k[j - 1].idx ? k[j].idx : k[j - 1].idx;
			size_t lo = k[j].idx > k[j - 1].idx ? k[j - 1].idx : k[j].idx;
			return vfail(
				m, "dhcp.subnets[%zu].network: %s overlaps dhcp.subnets[%zu] (%s)",
				hi, sbcfg_cidr_fmt(&d->subnets[hi], n1), lo,
				sbcfg_cidr_fmt(&d->subnets[lo], n2));
		}
	}
	return 0;
}

/* The subnet that contains ip, by binary search over subnets sorted by network. */
static const struct sbcfg_subnet *subnet_of(const struct sbcfg_dhcp *d, const struct sort_key *ks,
					    uint32_t ip)
{
	size_t lo = 0, hi = d->n_subnets; /* first entry with network > ip is in [lo, hi] */

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ks[mid].key <= ip)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || !in_subnet(&d->subnets[ks[lo - 1].idx], ip))
		return NULL;
	return &d->subnets[ks[lo - 1].idx];
}

/* ks: subnets sorted by network (validate_overlaps leaves them so); k: scratch. */
static int validate_reservations(const struct sbcfg *cfg, const struct sort_key *ks,
				 struct sort_key *k, char *m)
{
	const struct sbcfg_dhcp *d = &cfg->dhcp;
	char a[18], net[20];
	const char *p;
	size_t first, second, n = 0;

	for (size_t i = 0; i < d->n_reservations; i++) {
		const struct sbcfg_reservation *r = &d->reservations[i];

		if (sbcfg_mac_is_zero(r->mac))
			return vfail(m,
				     "dhcp.reservations[%zu].mac: 00:00:00:00:00:00 is not a "
				     "client MAC address",
				     i);
		if (r->mac[0] & 1)
			return vfail(m, "dhcp.reservations[%zu].mac: %s is a multicast address", i,
				     sbcfg_mac_fmt(r->mac, a));
		CHECK_STR(m, r->hostname, "dhcp.reservations[%zu].hostname", i);
		if ((p = hostname_problem(r->hostname)))
			return vfail(m, "dhcp.reservations[%zu].hostname: \"%s\" %s", i,
				     r->hostname, p);
		CHECK_STR(m, r->bootfile, "dhcp.reservations[%zu].bootfile", i);
		CHECK_STR(m, r->ipxe_script, "dhcp.reservations[%zu].ipxe_script", i);
		if (r->ip == 0)
			continue;
		if (d->mode == SBCFG_DHCP_PROXY)
			return vfail(m,
				     "dhcp.reservations[%zu].ip: proxy mode hands out no "
				     "addresses: leave ip out (boot information only)",
				     i);
		const struct sbcfg_subnet *s = subnet_of(d, ks, r->ip);
		if (!s)
			return vfail(m, "dhcp.reservations[%zu].ip: %s is not inside any subnet", i,
				     sbcfg_ip_fmt(r->ip, a));
		if ((p = host_problem(s, r->ip)))
			return vfail(m, "dhcp.reservations[%zu].ip: %s %s subnet %s", i,
				     sbcfg_ip_fmt(r->ip, a), p, sbcfg_cidr_fmt(s, net));
		if (r->ip == cfg->server_ip || r->ip == s->router)
			return vfail(m, "dhcp.reservations[%zu].ip: %s is the %s", i,
				     sbcfg_ip_fmt(r->ip, a),
				     r->ip == cfg->server_ip ? "server_ip" : "subnet's router");
		k[n++] = (struct sort_key){r->ip, i};
	}
	if (find_duplicate(k, n, &first, &second) == 0)
		return vfail(m,
			     "dhcp.reservations[%zu].ip: %s is also reserved by "
			     "dhcp.reservations[%zu]",
			     second, sbcfg_ip_fmt(d->reservations[second].ip, a), first);
	for (size_t i = 0; i < d->n_reservations; i++) {
		uint64_t key = 0;
		for (int j = 0; j < 6; j++)
			key = key << 8 | d->reservations[i].mac[j];
		k[i] = (struct sort_key){key, i};
	}
	if (find_duplicate(k, d->n_reservations, &first, &second) == 0)
		return vfail(m,
			     "dhcp.reservations[%zu].mac: %s is also the MAC of "
			     "dhcp.reservations[%zu]",
			     second, sbcfg_mac_fmt(d->reservations[second].mac, a), first);
	return 0;
}

static int validate_dhcp(const struct sbcfg *cfg, char *m)
{
	const struct sbcfg_dhcp *d = &cfg->dhcp;
	int rc;

	if ((unsigned)d->mode >= ARRAY_SIZE(sbcfg_mode_names))
		return vfail(m, "dhcp.mode: invalid value %d", (int)d->mode);
	if ((unsigned)d->durability >= ARRAY_SIZE(sbcfg_durability_names))
		return vfail(m, "dhcp.durability: invalid value %d", (int)d->durability);
	CHECK_RANGE(m, d->offer_hold, 1, LIM_OFFER_HOLD_MAX, "dhcp.offer_hold");
	CHECK_RANGE(m, d->decline_quarantine, 0, LIM_QUARANTINE_MAX, "dhcp.decline_quarantine");
	CHECK_RANGE(m, d->max_lease_time, 1, LIM_LEASE_MAX, "dhcp.max_lease_time");
	if (d->min_lease_time > d->max_lease_time)
		return vfail(m, "dhcp.min_lease_time: %u is out of range 0..%u (max_lease_time)",
			     d->min_lease_time, d->max_lease_time);
	if (d->conflict_probe_ms != 0 && d->conflict_probe_ms < LIM_PROBE_MS_MIN)
		return vfail(m, "dhcp.conflict_probe_ms: %u is below %d (0 switches probing off)",
			     d->conflict_probe_ms, LIM_PROBE_MS_MIN);
	CHECK_RANGE(m, d->conflict_probe_ms, 0, LIM_PROBE_MS_MAX, "dhcp.conflict_probe_ms");
	CHECK_RANGE(m, d->conflict_probe_max, 1, LIM_PROBE_MAX, "dhcp.conflict_probe_max");
	if ((rc = validate_boot(d, m)) < 0)
		return rc;
	if (d->n_subnets > LIM_SUBNETS_MAX)
		return vfail(m, "dhcp.subnets: %zu entries, at most %d", d->n_subnets,
			     LIM_SUBNETS_MAX);
	if (d->n_reservations > LIM_RESERVATIONS_MAX)
		return vfail(m, "dhcp.reservations: %zu entries, at most %d", d->n_reservations,
			     LIM_RESERVATIONS_MAX);
	if ((d->n_subnets && !d->subnets) || (d->n_reservations && !d->reservations))
		return vfail(m, "dhcp: array count without array");
	if (d->mode == SBCFG_DHCP_FULL && d->n_subnets == 0)
		return vfail(m, "dhcp.subnets: full mode needs at least one subnet");
	for (size_t i = 0; i < d->n_subnets; i++)
		if ((rc = validate_subnet(cfg, i, m)) < 0)
			return rc;
	if ((rc = validate_vlans(d, m)) < 0)
		return rc;

	struct sort_key *ks = calloc(d->n_subnets + 1, sizeof(*ks));
	struct sort_key *kr = calloc(d->n_reservations + 1, sizeof(*kr));
	if (!ks || !kr) {
		vfail(m, "out of memory");
		rc = -ENOMEM;
	} else {
		rc = validate_overlaps(d, ks, m);
	}
	if (rc == 0)
		rc = validate_reservations(cfg, ks, kr, m);
	free(ks);
	free(kr);
	return rc;
}

static int validate_tftp(const struct sbcfg *cfg, char *m)
{
	const struct sbcfg_tftp *t = &cfg->tftp;

	CHECK_RANGE(m, t->port_lo, LIM_PORT_MIN, 65535, "tftp.transfer_ports.first");
	CHECK_RANGE(m, t->port_hi, LIM_PORT_MIN, 65535, "tftp.transfer_ports.last");
	if (t->port_lo > t->port_hi)
		return vfail(m, "tftp.transfer_ports.first: %u is above last (%u)", t->port_lo,
			     t->port_hi);
	static const uint16_t reserved[] = {67, 68, 69, 4011};
	for (size_t i = 0; i < ARRAY_SIZE(reserved); i++)
		if (t->port_lo <= reserved[i] && reserved[i] <= t->port_hi)
			return vfail(m,
				     "tftp.transfer_ports: %u-%u includes port %u (DHCP, TFTP "
				     "and PXE ports 67, 68, 69, 4011 are steered separately)",
				     t->port_lo, t->port_hi, reserved[i]);
	CHECK_RANGE(m, t->max_sessions, 1, LIM_SESSIONS_MAX, "tftp.max_sessions");
	CHECK_RANGE(m, t->max_sessions_per_client, 0, LIM_SESSIONS_MAX,
		    "tftp.max_sessions_per_client");
	CHECK_RANGE(m, t->blksize_default, LIM_BLKSIZE_MIN, LIM_BLKSIZE_MAX,
		    "tftp.blksize_default");
	CHECK_RANGE(m, t->blksize_max, LIM_BLKSIZE_MIN, LIM_BLKSIZE_MAX, "tftp.blksize_max");
	CHECK_RANGE(m, t->windowsize_max, 1, LIM_WINDOW_MAX, "tftp.windowsize_max");
	CHECK_RANGE(m, t->timeout_ms, LIM_TIMEOUT_MS_MIN, LIM_TIMEOUT_MS_MAX, "tftp.timeout_ms");
	CHECK_RANGE(m, t->retries, 0, LIM_RETRIES_MAX, "tftp.retries");
	CHECK_RANGE(m, t->give_up_ms, LIM_GIVE_UP_MS_MIN, LIM_GIVE_UP_MS_MAX, "tftp.give_up_ms");
	CHECK_RANGE(m, t->mtu, LIM_MTU_MIN, LIM_MTU_MAX, "tftp.mtu");
	if (t->multicast.enabled &&
	    ((t->multicast.group_lo >> 24) != 239 || t->multicast.group_len < 24 ||
	     t->multicast.group_len > 32 || t->multicast.port < 1024))
		return vfail(m,
			     "tftp.multicast: groups must be a prefix of length 24..32 inside "
			     "239.0.0.0/8 and port 1024..65535 (have %u.%u.%u.%u/%u port %u)",
			     t->multicast.group_lo >> 24, (t->multicast.group_lo >> 16) & 255,
			     (t->multicast.group_lo >> 8) & 255, t->multicast.group_lo & 255,
			     t->multicast.group_len, t->multicast.port);
	if (t->blksize_default > t->blksize_max)
		return vfail(m, "tftp.blksize_default: %u is above blksize_max (%u)",
			     t->blksize_default, t->blksize_max);
	/* A block that was not negotiated cannot be clamped (RFC 2348): it must fit the link. */
	if (t->blksize_default > t->mtu - TFTP_OVERHEAD)
		return vfail(m,
			     "tftp.blksize_default: %u does not fit one frame of mtu %u (at "
			     "most mtu - %d = %u)",
			     t->blksize_default, t->mtu, TFTP_OVERHEAD, t->mtu - TFTP_OVERHEAD);
	if (!t->enabled && cfg->dhcp.mode == SBCFG_DHCP_OFF)
		return vfail(m, "tftp.enabled: dhcp.mode is \"off\" and tftp is disabled: nothing "
				"to serve");
	return 0;
}

struct name_key {
	const char *name;
	size_t idx;
};

static int name_key_cmp(const void *a, const void *b)
{
	const struct name_key *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int validate_images(const struct sbcfg *cfg, char *m)
{
	const char *p;

	if (cfg->n_images > LIM_IMAGES_MAX)
		return vfail(m, "images: %zu entries, at most %d", cfg->n_images, LIM_IMAGES_MAX);
	if (cfg->tftp_root[0] && cfg->tftp_root[0] != '/')
		return vfail(m, "tftp_root: \"%s\" is not an absolute path", cfg->tftp_root);
	if (cfg->n_images && !cfg->images)
		return vfail(m, "images: array count without array");
	for (size_t i = 0; i < cfg->n_images; i++) {
		const struct sbcfg_image *im = &cfg->images[i];

		CHECK_STR(m, im->name, "images[%zu].name", i);
		CHECK_STR(m, im->path, "images[%zu].path", i);
		if ((p = image_name_problem(im->name)))
			return vfail(m, "images[%zu].name: \"%s\" %s", i, im->name, p);
		/* Whether the file exists is checked when the dataplane loads the image. */
		if (im->path[0] != '/')
			return vfail(m, "images[%zu].path: \"%s\" is not an absolute path", i,
				     im->path);
	}
	struct name_key *k = calloc(cfg->n_images ? cfg->n_images : 1, sizeof(*k));
	if (!k) {
		vfail(m, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < cfg->n_images; i++)
		k[i] = (struct name_key){cfg->images[i].name, i};
	qsort(k, cfg->n_images, sizeof(*k), name_key_cmp);
	int rc = 0;
	for (size_t i = 1; i < cfg->n_images && rc == 0; i++)
		if (strcmp(k[i].name, k[i - 1].name) == 0)
			rc = vfail(m, "images[%zu].name: \"%s\" is also the name of images[%zu]",
				   k[i].idx, k[i].name, k[i - 1].idx);
	free(k);
	return rc;
}

int sbcfg_validate(const struct sbcfg *cfg, char *err, size_t errlen)
{
	char m[SBCFG_ERR_MAX];
	int rc;

	if ((rc = validate_top(cfg, m)) < 0 || (rc = validate_dhcp(cfg, m)) < 0 ||
	    (rc = validate_tftp(cfg, m)) < 0 || (rc = validate_images(cfg, m)) < 0 ||
	    (rc = sbcfg_guard_validate(cfg, m)) < 0 || (rc = sbcfg_access_validate(cfg, m)) < 0 ||
	    (rc = sbcfg_cluster_validate(cfg, m)) < 0) {
		if (err && errlen)
			snprintf(err, errlen, "%s", m);
		return rc;
	}
	if (err && errlen)
		err[0] = '\0';
	return 0;
}

/* ---- public: defaults, load, free ---- */

void sbcfg_defaults(struct sbcfg *out)
{
	memset(out, 0, sizeof(*out));
	out->queues = 1;
	out->udp_csum = SBCFG_CSUM_ACCEPT;
	out->dhcp.mode = SBCFG_DHCP_FULL;
	out->dhcp.offer_hold = 30;
	out->dhcp.offer_reuse = true;
	out->dhcp.decline_quarantine = 600;
	out->dhcp.max_lease_time = 86400;
	out->dhcp.min_lease_time = DEFAULT_MIN_LEASE;
	out->dhcp.conflict_probe_ms = 0; /* off: a storm's OFFERs would each wait */
	out->dhcp.conflict_probe_max = 256;
	out->tftp.enabled = true;
	out->tftp.port_lo = 61000; /* above Linux's ephemeral range (32768-60999) */
	out->tftp.port_hi = 61999;
	out->tftp.max_sessions = 4096;
	out->tftp.max_sessions_per_client = 8; /* a PXE boot needs 1 at a time (2 with a probe) */
	out->tftp.blksize_default = 512;       /* RFC 1350 */
	out->tftp.blksize_max = 1468;	       /* 1500 - 32 */
	out->tftp.windowsize_max = 64;
	out->tftp.timeout_ms = 1000;
	out->tftp.retries = 5;
	out->tftp.give_up_ms = 30000; /* long enough for a client's own retries (atftp: 5 x 5 s) */
	out->tftp.mtu = 1500;
	out->tftp.multicast.enabled = false;
	out->tftp.multicast.group_lo = 0xefff0000u; /* 239.255.0.0/24 (RFC 2365 local scope) */
	out->tftp.multicast.group_len = 24;
	out->tftp.multicast.port = 1758; /* atftpd's default */
	out->http.max_conns = 256;
	out->http.idle_timeout_ms = 30000;
	out->http.max_per_ip = 32;
	out->http.header_timeout_ms = 10000;
	out->http.token_ttl_s = 3600;
	out->ipv6_ra = SBCFG_RA_AUTO;
	out->syslog.port = 514;
}

void sbcfg_free(struct sbcfg *cfg)
{
	if (!cfg)
		return;
	free(cfg->dhcp.subnets);
	free(cfg->dhcp.reservations);
	free(cfg->images);
	sbcfg_guard_free(&cfg->guard);
	sbcfg_access_free(cfg);
	memset(cfg, 0, sizeof(*cfg));
}

static void put_err(char *err, size_t errlen, const char *name, const char *msg)
{
	if (err && errlen)
		snprintf(err, errlen, "%s: %s", name, msg);
}

int sbcfg_load_buffer(const char *buf, size_t len, const char *name, struct sbcfg *out, char *err,
		      size_t errlen)
{
	struct pctx c = {.plen = 0};
	char msg[SBCFG_ERR_MAX] = "";
	json_error_t je;
	int rc;

	if (!name)
		name = "<string>";
	memset(out, 0, sizeof(*out));
	json_t *root = json_loadb(buf ? buf : "", buf ? len : 0, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		/* jansson: line from 1, column in characters from 1 (0 = before the first). */
		if (err && errlen)
			snprintf(err, errlen, "%s:%d:%d: invalid JSON: %s", name, je.line,
				 je.column, je.text);
		return -EINVAL;
	}
	c.msg = msg;
	struct sbcfg cfg;
	sbcfg_defaults(&cfg);
	c.cfg = &cfg;
	if (!json_is_object(root))
		rc = perr(&c, "must be an object, not %s", sbcfg_json_type_name(root));
	else
		rc = parse_top(&c, root, &cfg);
	json_decref(root);
	if (rc == 0) {
		sbcfg_access_finish(&cfg);
		rc = sbcfg_validate(&cfg, msg, sizeof(msg));
	}
	if (rc < 0) {
		put_err(err, errlen, name, msg);
		sbcfg_free(&cfg);
		return rc;
	}
	*out = cfg;
	if (err && errlen)
		err[0] = '\0';
	return 0;
}

int sbcfg_load_string(const char *json, struct sbcfg *out, char *err, size_t errlen)
{
	return sbcfg_load_buffer(json, json ? strlen(json) : 0, NULL, out, err, errlen);
}

int sbcfg_load_file(const char *path, struct sbcfg *out, char *err, size_t errlen)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		put_err(err, errlen, path, strerror(-rc));
		return rc;
	}
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		put_err(err, errlen, path, strerror(-rc));
	} else if (!S_ISREG(st.st_mode)) {
		rc = -EINVAL;
		put_err(err, errlen, path, "not a regular file");
	} else if ((uint64_t)st.st_size > LIM_FILE_MAX) {
		rc = -EFBIG;
		put_err(err, errlen, path, "larger than 64 MiB");
	} else if (!(buf = malloc((size_t)st.st_size + 1))) {
		rc = -ENOMEM;
		put_err(err, errlen, path, "out of memory");
	}
	while (rc == 0 && got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : -EIO;
			put_err(err, errlen, path,
				n < 0 ? strerror(errno) : "file shrank while read");
			break;
		}
		got += (size_t)n;
	}
	close(fd);
	if (rc == 0)
		rc = sbcfg_load_buffer(buf, got, path, out, err, errlen);
	free(buf);
	return rc;
}
