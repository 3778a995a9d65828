/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sbcfg_json.c - stormboot's JSON config file: parse (jansson) into a struct
 * sbcfg and validate it (serialising and comparing are in sbcfg_emit.c). Two passes:
 *   1. parse (here, with the tools of sbcfg_reader.c): JSON syntax, types, unknown
 *      fields, the syntax of addresses, MACs and prefixes, string lengths and the
 *      range of each single number;
 *   2. sbcfg_validate() (sbcfg_validate.c): every rule again on the C struct, plus
 *      the rules that relate fields to each other (pools inside subnets, duplicates...),
 *      so the control process can check a config it edited in C with the same code.
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
#include "sbcfg_limits.h"
#include "sbcfg_names.h"
#include "sbcfg_reader.h"

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

static int parse_boot(struct pctx *c, json_t *o, struct sbcfg_bootfiles *b)
{
	int rc = sbr_check_keys(c, o, boot_keys);

	for (int a = 0; rc == 0 && a < SBCFG_ARCH__COUNT; a++)
		rc = sbr_get_str(c, o, sbcfg_arch_keys[a], b->by_arch[a], SBCFG_NAME_MAX, false);
	if (rc == 0)
		rc = sbr_get_str(c, o, "ipxe_script", b->ipxe_script, SBCFG_NAME_MAX, false);
	return rc;
}

static int parse_subnet(struct pctx *c, json_t *o, struct sbcfg_subnet *s, uint32_t max_lease)
{
	char cidr[64], shown[40];
	unsigned len;
	int rc;

	if ((rc = sbr_want_type(c, o, JSON_OBJECT, "an object")) < 0 ||
	    (rc = sbr_check_keys(c, o, subnet_keys)) < 0 ||
	    (rc = sbr_get_str(c, o, "network", cidr, sizeof(cidr), true)) < 0)
		return rc;
	if (sbr_cidr_parse(cidr, &s->network, &len) < 0) {
		size_t old = sbr_push_key(c, "network");
		rc = sbr_perr(c, "\"%s\" is not an IPv4 prefix (such as 198.18.0.0/24)",
			      sbr_printable(cidr, shown, sizeof(shown)));
		sbr_pop(c, old);
		return rc;
	}
	s->netmask = sbr_prefix_mask(len);

	json_t *pool = sbr_get_obj(c, o, "pool", false, &rc);
	if (rc < 0)
		return rc;
	if (pool) {
		size_t old = sbr_push_key(c, "pool");
		if ((rc = sbr_check_keys(c, pool, pool_keys)) == 0 &&
		    (rc = sbr_get_ip(c, pool, "start", &s->pool_start, true)) == 0)
			rc = sbr_get_ip(c, pool, "end", &s->pool_end, true);
		sbr_pop(c, old);
		if (rc < 0)
			return rc;
	}
	if ((rc = sbr_get_ip(c, o, "router", &s->router, false)) < 0 ||
	    (rc = sbr_get_ip(c, o, "next_server", &s->next_server, false)) < 0 ||
	    (rc = sbr_get_str(c, o, "domain", s->domain, sizeof(s->domain), false)) < 0)
		return rc;

	json_t *dns = sbr_get_array(c, o, "dns", SBCFG_MAX_DNS, &rc);
	if (rc < 0)
		return rc;
	for (size_t i = 0; dns && i < json_array_size(dns); i++) {
		size_t old = sbr_push_key(c, "dns");
		sbr_push_index(c, i);
		rc = sbr_ip_value(c, json_array_get(dns, i), &s->dns[i]);
		sbr_pop(c, old);
		if (rc < 0)
			return rc;
		s->n_dns = (uint8_t)(i + 1);
	}
	s->lease_time = max_lease < DEFAULT_LEASE_TIME ? max_lease : DEFAULT_LEASE_TIME;
	if ((rc = SBR_GET_UINT(c, o, "vlan", 1, LIM_VLAN_MAX, s->vlan)) < 0 ||
	    (rc = sbcfg_images_allowed_parse(o, c->path, c->cfg, &s->images_allowed, c->msg)) < 0)
		return rc;
	return SBR_GET_UINT(c, o, "lease_time", 1, LIM_LEASE_MAX, s->lease_time);
}

static int parse_reservation(struct pctx *c, json_t *o, struct sbcfg_reservation *r)
{
	int rc;

	if ((rc = sbr_want_type(c, o, JSON_OBJECT, "an object")) < 0 ||
	    (rc = sbr_check_keys(c, o, resv_keys)) < 0 ||
	    (rc = sbr_get_mac(c, o, "mac", r->mac, true, false)) < 0 ||
	    (rc = sbr_get_ip(c, o, "ip", &r->ip, false)) < 0 ||
	    (rc = sbr_get_str(c, o, "hostname", r->hostname, sizeof(r->hostname), false)) < 0 ||
	    (rc = sbr_get_str(c, o, "bootfile", r->bootfile, sizeof(r->bootfile), false)) < 0 ||
	    (rc = sbcfg_images_allowed_parse(o, c->path, c->cfg, &r->images_allowed, c->msg)) < 0)
		return rc;
	return sbr_get_str(c, o, "ipxe_script", r->ipxe_script, sizeof(r->ipxe_script), false);
}

static int parse_image(struct pctx *c, json_t *o, struct sbcfg_image *im)
{
	int rc;

	if ((rc = sbr_want_type(c, o, JSON_OBJECT, "an object")) < 0 ||
	    (rc = sbr_check_keys(c, o, image_keys)) < 0 ||
	    (rc = sbr_get_str(c, o, "name", im->name, sizeof(im->name), true)) < 0 ||
	    (rc = sbr_get_str(c, o, "path", im->path, sizeof(im->path), true)) < 0 ||
	    (rc = sbr_get_bool(c, o, "from_tftp_root", &im->from_root)) < 0 ||
	    (rc = sbr_get_bool(c, o, "protected", &im->protected_)) < 0)
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
	json_t *a = sbr_get_array(c, obj, key, max, &rc);

	if (!a || json_array_size(a) == 0)
		return rc;
	*arr = calloc(json_array_size(a), sz);
	if (!*arr) {
		snprintf(c->msg, SBCFG_ERR_MAX, "out of memory");
		return -ENOMEM;
	}
	*n = json_array_size(a);
	size_t old = sbr_push_key(c, key);
	for (size_t i = 0; rc == 0 && i < *n; i++) {
		size_t at = sbr_push_index(c, i);
		rc = fn(c, json_array_get(a, i), (char *)*arr + i * sz, arg);
		sbr_pop(c, at);
	}
	sbr_pop(c, old);
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

	if ((rc = sbr_check_keys(c, o, dhcp_keys)) < 0 ||
	    (rc = sbr_get_enum(c, o, "mode", sbcfg_mode_names, ARRAY_SIZE(sbcfg_mode_names),
			       &mode)) < 0 ||
	    (rc = sbr_get_enum(c, o, "durability", sbcfg_durability_names,
			       ARRAY_SIZE(sbcfg_durability_names), &durability)) < 0 ||
	    (rc = SBR_GET_UINT(c, o, "offer_hold", 1, LIM_OFFER_HOLD_MAX, d->offer_hold)) < 0 ||
	    (rc = sbr_get_bool(c, o, "offer_reuse", &d->offer_reuse)) < 0 ||
	    (rc = SBR_GET_UINT(c, o, "decline_quarantine", 0, LIM_QUARANTINE_MAX,
			       d->decline_quarantine)) < 0 ||
	    (rc = SBR_GET_UINT(c, o, "max_lease_time", 1, LIM_LEASE_MAX, d->max_lease_time)) < 0)
		return rc;
	/* The default floor follows a max_lease_time below it (as a subnet's lease_time does). */
	if (!json_object_get(o, "min_lease_time") && d->min_lease_time > d->max_lease_time)
		d->min_lease_time = d->max_lease_time;
	if ((rc = SBR_GET_UINT(c, o, "min_lease_time", 0, LIM_LEASE_MAX, d->min_lease_time)) < 0 ||
	    (rc = SBR_GET_UINT(c, o, "conflict_probe_ms", 0, LIM_PROBE_MS_MAX,
			       d->conflict_probe_ms)) < 0 ||
	    (rc = SBR_GET_UINT(c, o, "conflict_probe_max", 1, LIM_PROBE_MAX,
			       d->conflict_probe_max)) < 0)
		return rc;
	d->mode = (enum sbcfg_dhcp_mode)mode;
	d->durability = (enum sbcfg_durability)durability;

	json_t *boot = sbr_get_obj(c, o, "boot", false, &rc);
	if (rc < 0)
		return rc;
	if (boot) {
		size_t old = sbr_push_key(c, "boot");
		rc = parse_boot(c, boot, &d->boot);
		sbr_pop(c, old);
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

	if ((rc = sbr_check_keys(c, o, tftp_keys)) < 0 ||
	    (rc = sbr_get_bool(c, o, "enabled", &t->enabled)) < 0)
		return rc;
	json_t *ports = sbr_get_obj(c, o, "transfer_ports", false, &rc);
	if (rc < 0)
		return rc;
	if (ports) {
		size_t old = sbr_push_key(c, "transfer_ports");
		long long first = -1, last = -1;
		if ((rc = sbr_check_keys(c, ports, ports_keys)) == 0 &&
		    (rc = sbr_get_uint(c, ports, "first", LIM_PORT_MIN, 65535, &first)) == 0 &&
		    (rc = sbr_get_uint(c, ports, "last", LIM_PORT_MIN, 65535, &last)) == 0 &&
		    (first < 0 || last < 0))
			rc = sbr_perr(c, "needs both \"first\" and \"last\"");
		sbr_pop(c, old);
		if (rc < 0)
			return rc;
		t->port_lo = (uint16_t)first;
		t->port_hi = (uint16_t)last;
	}
	if ((rc = SBR_GET_UINT(c, o, "max_sessions", 1, LIM_SESSIONS_MAX, t->max_sessions)) < 0 ||
	    (rc = SBR_GET_UINT(c, o, "max_sessions_per_client", 0, LIM_SESSIONS_MAX,
			       t->max_sessions_per_client)) < 0 ||
	    (rc = SBR_GET_UINT(c, o, "blksize_default", LIM_BLKSIZE_MIN, LIM_BLKSIZE_MAX,
			       t->blksize_default)) < 0 ||
	    (rc = SBR_GET_UINT(c, o, "blksize_max", LIM_BLKSIZE_MIN, LIM_BLKSIZE_MAX,
			       t->blksize_max)) < 0 ||
	    (rc = SBR_GET_UINT(c, o, "windowsize_max", 1, LIM_WINDOW_MAX, t->windowsize_max)) < 0 ||
	    (rc = SBR_GET_UINT(c, o, "timeout_ms", LIM_TIMEOUT_MS_MIN, LIM_TIMEOUT_MS_MAX,
			       t->timeout_ms)) < 0 ||
	    (rc = SBR_GET_UINT(c, o, "retries", 0, LIM_RETRIES_MAX, t->retries)) < 0 ||
	    (rc = SBR_GET_UINT(c, o, "give_up_ms", LIM_GIVE_UP_MS_MIN, LIM_GIVE_UP_MS_MAX,
			       t->give_up_ms)) < 0 ||
	    (rc = SBR_GET_UINT(c, o, "mtu", LIM_MTU_MIN, LIM_MTU_MAX, t->mtu)) < 0 ||
	    (rc = sbcfg_images_allowed_parse(o, c->path, c->cfg, &t->images_allowed, c->msg)) < 0)
		return rc;
	json_t *mc = sbr_get_obj(c, o, "multicast", false, &rc);
	if (rc < 0)
		return rc;
	if (mc) {
		size_t old = sbr_push_key(c, "multicast");

		rc = parse_mtftp(c, mc, &t->multicast);
		sbr_pop(c, old);
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

	if ((rc = sbr_check_keys(c, o, mtftp_keys)) < 0 ||
	    (rc = sbr_get_bool(c, o, "enabled", &m->enabled)) < 0)
		return rc;
	if (json_object_get(o, "groups")) {
		size_t old = sbr_push_key(c, "groups");

		rc = sbr_str_value(c, json_object_get(o, "groups"), s, sizeof(s));
		if (rc == 0 && sbr_cidr_parse(s, &net, &len) < 0)
			rc = sbr_perr(c, "\"%s\" is not an IPv4 prefix a.b.c.d/len", s);
		else if (rc == 0 && ((net >> 24) != 239 || len < 24))
			rc = sbr_perr(
				c,
				"\"%s\" must lie inside 239.0.0.0/8 (administratively scoped, "
				"RFC 2365) with a length of 24..32 (at most 256 groups)",
				s);
		else if (rc == 0 && (net & ~sbr_prefix_mask(len)) != 0)
			rc = sbr_perr(c, "\"%s\" has host bits set (the prefix is %u bits)", s,
				      len);
		sbr_pop(c, old);
		if (rc < 0)
			return rc;
		m->group_lo = net;
		m->group_len = (uint8_t)len;
	}
	if ((rc = sbr_get_uint(c, o, "port", 1024, 65535, &port)) < 0)
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

	if (!(v = sbr_member(c, o, "listen", true, &rc)))
		return rc;
	size_t old = sbr_push_key(c, "listen");
	rc = sbr_str_value(c, v, s, sizeof(s));
	if (rc == 0) {
		char *colon = strrchr(s, ':'), *end = NULL;
		unsigned long port = 0;
		if (colon) {
			*colon = '\0';
			if (colon[1] >= '1' && colon[1] <= '9')
				port = strtoul(colon + 1, &end, 10);
		}
		if (!colon || !end || *end || port < 1 || port > 65535 ||
		    sbr_ipv4_parse(s, ip) < 0) {
			if (colon)
				*colon = ':';
			rc = sbr_perr(
				c,
				"\"%s\" is not ADDRESS:PORT (such as \"198.18.0.1:8080\", port "
				"1..65535)",
				sbr_printable(s, shown, sizeof(shown)));
		} else {
			*port_out = (uint16_t)port;
		}
	}
	sbr_pop(c, old);
	return rc;
}

/* The HTTP boot server: listen address and limits. */
static int parse_http(struct pctx *c, json_t *o, struct sbcfg_http *h)
{
	int rc;

	if ((rc = sbr_check_keys(c, o, http_keys)) < 0 ||
	    (rc = parse_listen(c, o, &h->listen_ip, &h->port)) < 0)
		return rc;
	if ((rc = SBR_GET_UINT(c, o, "max_connections", 1, LIM_HTTP_CONNS_MAX, h->max_conns)) < 0)
		return rc;
	if ((rc = SBR_GET_UINT(c, o, "idle_timeout_ms", LIM_HTTP_IDLE_MIN, LIM_HTTP_IDLE_MAX,
			       h->idle_timeout_ms)) < 0)
		return rc;
	if ((rc = SBR_GET_UINT(c, o, "max_connections_per_ip", 1, LIM_HTTP_CONNS_MAX,
			       h->max_per_ip)) < 0)
		return rc;
	if ((rc = SBR_GET_UINT(c, o, "header_timeout_ms", LIM_HTTP_IDLE_MIN, LIM_HTTP_IDLE_MAX,
			       h->header_timeout_ms)) < 0)
		return rc;
	if ((rc = SBR_GET_UINT(c, o, "https_port", 0, 65535, h->https_port)) < 0 ||
	    (rc = SBR_GET_UINT(c, o, "token_ttl_s", 1, 7 * 86400, h->token_ttl_s)) < 0)
		return rc;
	if ((rc = sbr_get_str(c, o, "tls_cert", h->tls_cert, sizeof(h->tls_cert), false)) < 0 ||
	    (rc = sbr_get_str(c, o, "tls_key", h->tls_key, sizeof(h->tls_key), false)) < 0)
		return rc;
	if (h->https_port && (!h->tls_cert[0] || !h->tls_key[0]))
		return sbr_perr(c,
				"https_port %u needs \"tls_cert\" and \"tls_key\" (PEM files; "
				"stormbootctl make-cert makes a pair for a lab)",
				h->https_port);
	if (h->https_port && h->https_port == h->port)
		return sbr_perr(c, "https_port %u is the port of \"listen\"", h->https_port);
	return 0;
}

/* ---- syslog (firmware logs) ---- */

static int parse_syslog(struct pctx *c, json_t *o, struct sbcfg_syslog *s)
{
	int rc;

	if ((rc = sbr_check_keys(c, o, syslog_keys)) < 0 ||
	    (rc = sbr_get_bool(c, o, "enabled", &s->enabled)) < 0)
		return rc;
	return SBR_GET_UINT(c, o, "port", 1, 65535, s->port);
}

/* The metrics endpoint and status page (docs/METRICS.md). */
static int parse_metrics(struct pctx *c, json_t *o, struct sbcfg_metrics *m)
{
	int rc;

	if ((rc = sbr_check_keys(c, o, metrics_keys)) < 0)
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
	json_t *v = sbr_member(c, obj, key, false, &rc);

	if (!v)
		return rc;
	size_t old = sbr_push_key(c, key);
	if (json_is_boolean(v))
		*out = json_is_true(v) ? SBCFG_RA_ON : SBCFG_RA_OFF;
	else if (json_is_string(v) && strcmp(json_string_value(v), "auto") == 0)
		*out = SBCFG_RA_AUTO;
	else if (json_is_string(v))
		rc = sbr_perr(c, "\"%s\" is not true, false or \"auto\"",
			      sbr_printable(json_string_value(v), shown, sizeof(shown)));
	else
		rc = sbr_perr(c, "must be true, false or \"auto\", not %s",
			      sbcfg_json_type_name(v));
	sbr_pop(c, old);
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
			return sbr_perr(c, "%lld is out of range 1..%u (a VLAN ID)", x,
					SBCFG_VLAN_ID_MAX);
		*out = SBCFG_VLAN(x, 0);
		return 0;
	}
	if (!json_is_string(v))
		return sbr_perr(c, "must be a VLAN ID, \"untagged\" or \"OUTER.INNER\", not %s",
				sbcfg_json_type_name(v));
	if ((rc = sbr_str_value(c, v, s, sizeof(s))) < 0)
		return rc;
	if (strcmp(s, "untagged") == 0) {
		*out = SBCFG_VLAN_UNTAGGED;
		return 0;
	}
	if ((p = vid_parse(s, &outer)) && *p == '.' && (p = vid_parse(p + 1, &inner)) && !*p) {
		*out = SBCFG_VLAN(outer, inner);
		return 0;
	}
	return sbr_perr(
		c,
		"\"%s\" is not a VLAN (an ID 1..%u, \"untagged\", or \"OUTER.INNER\" such as "
		"\"100.200\")",
		sbr_printable(s, shown, sizeof(shown)), SBCFG_VLAN_ID_MAX);
}

static int mac_cb(struct pctx *c, json_t *v, void *elem, const void *arg)
{
	char s[64], shown[40];
	int rc = sbr_str_value(c, v, s, sizeof(s));

	if (rc == 0 && sbr_mac_parse(s, elem) < 0)
		rc = sbr_perr(c, "\"%s\" is not a MAC address (six hex pairs separated by ':')",
			      sbr_printable(s, shown, sizeof(shown)));
	return rc;
}

/* {"per_second": N, "burst": M}: both required once the object is there. */
static int get_rate(struct pctx *c, json_t *obj, const char *key, struct sbcfg_rate *r)
{
	long long pps = 0, burst = 0;
	int rc;
	json_t *o = sbr_get_obj(c, obj, key, false, &rc);

	if (!o)
		return rc;
	size_t old = sbr_push_key(c, key);
	if ((rc = sbr_check_keys(c, o, rate_keys)) == 0)
		sbr_member(c, o, "per_second", true, &rc);
	if (rc == 0)
		sbr_member(c, o, "burst", true, &rc);
	if (rc == 0)
		rc = sbr_get_uint(c, o, "per_second", 1, SBCFG_RATE_MAX, &pps);
	if (rc == 0)
		rc = sbr_get_uint(c, o, "burst", 1, SBCFG_RATE_MAX, &burst);
	if (rc == 0) {
		r->per_second = (uint32_t)pps;
		r->burst = (uint32_t)burst;
	}
	sbr_pop(c, old);
	return rc;
}

/* An array that must not be empty when given (an empty one would mean "nothing"). */
static int not_empty(struct pctx *c, json_t *o, const char *key, const char *why)
{
	json_t *a = json_object_get(o, key);

	if (!a || !json_is_array(a) || json_array_size(a) > 0)
		return 0;
	size_t old = sbr_push_key(c, key);
	int rc = sbr_perr(c, "is empty (%s)", why);
	sbr_pop(c, old);
	return rc;
}

static int parse_guard(struct pctx *c, json_t *o, struct sbcfg_guard *g)
{
	int rc, dst = (int)g->dhcp_dst;

	if ((rc = sbr_check_keys(c, o, guard_keys)) < 0 ||
	    (rc = not_empty(c, o, "vlans", "leave it out to steer every VLAN")) < 0 ||
	    (rc = not_empty(c, o, "mac_allow",
			    "it would drop every client; leave it out to allow every MAC")) < 0 ||
	    (rc = parse_array(c, o, "vlans", SBCFG_GUARD_VLANS_MAX, sizeof(*g->vlans),
			      (void **)&g->vlans, &g->n_vlans, vlan_cb, NULL)) < 0 ||
	    (rc = sbr_get_enum(c, o, "dhcp_destination", sbcfg_dhcp_dst_names,
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
		json_t *obj_ = sbr_get_obj((c), (root), (key), false, &rc_);                       \
		if (rc_ == 0 && obj_) {                                                            \
			size_t old_ = sbr_push_key((c), (key));                                    \
			rc_ = fn((c), obj_, (out));                                                \
			sbr_pop((c), old_);                                                        \
		}                                                                                  \
		rc_;                                                                               \
	})

static int parse_top(struct pctx *c, json_t *root, struct sbcfg *cfg)
{
	int rc, csum = (int)cfg->udp_csum;

	if ((rc = sbr_check_keys(c, root, top_keys)) < 0 ||
	    (rc = sbr_get_str(c, root, "interface", cfg->interface, sizeof(cfg->interface),
			      false)) < 0 ||
	    (rc = sbr_get_str(c, root, "dpdk_port", cfg->dpdk_port, sizeof(cfg->dpdk_port),
			      false)) < 0 ||
	    (rc = sbr_get_str(c, root, "xdp_prog", cfg->xdp_prog, sizeof(cfg->xdp_prog), false)) <
		    0 ||
	    (rc = SBR_GET_UINT(c, root, "queues", 1, LIM_QUEUES_MAX, cfg->queues)) < 0 ||
	    (rc = sbr_get_ip(c, root, "server_ip", &cfg->server_ip, true)) < 0 ||
	    (rc = sbr_get_mac(c, root, "server_mac", cfg->server_mac, false, true)) < 0 ||
	    (rc = sbr_get_enum(c, root, "udp_checksum", sbcfg_csum_names,
			       ARRAY_SIZE(sbcfg_csum_names), &csum)) < 0 ||
	    (rc = get_ra_mode(c, root, "ipv6_ra", &cfg->ipv6_ra)) < 0)
		return rc;
	cfg->udp_csum = (enum sbcfg_csum_policy)csum;

	/* "control" (sbcfg_access.c); its unknown fields named here like every other's */
	json_t *control = sbr_get_obj(c, root, "control", false, &rc);
	if (rc < 0)
		return rc;
	if (control) {
		size_t old = sbr_push_key(c, "control");
		rc = sbr_check_keys(c, control, control_keys);
		sbr_pop(c, old);
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
	    (rc = sbr_get_str(c, root, "tftp_root", cfg->tftp_root, sizeof(cfg->tftp_root),
			      false)) < 0)
		return rc;
	return parse_array(c, root, "images", LIM_IMAGES_MAX, sizeof(*cfg->images),
			   (void **)&cfg->images, &cfg->n_images, image_cb, NULL);
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
		rc = sbr_perr(&c, "must be an object, not %s", sbcfg_json_type_name(root));
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
