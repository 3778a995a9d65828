/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sbcfg_emit.c - struct sbcfg back to JSON (sbcfg_to_json: what config-get shows and what the
 * control process writes back to the file) and the comparison of two configs (sbcfg_equal).
 * Parsing and validation are in sbcfg_json.c; the names both use are in sbcfg_names.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sbcfg_json.h"
#include "sbcfg_names.h"

/* ---- public: serialise, compare ---- */

/* Builds JSON while remembering whether any allocation failed. */
struct jb {
	bool failed;
};

static void jset(struct jb *b, json_t *obj, const char *key, json_t *v)
{
	if (!obj || !v || json_object_set_new(obj, key, v) < 0)
		b->failed = true;
}

static json_t *jip(uint32_t ip)
{
	char a[16];

	return json_string(sbcfg_ip_fmt(ip, a));
}

static json_t *jmac(const uint8_t mac[6])
{
	char a[18];

	return json_string(sbcfg_mac_fmt(mac, a));
}

/* "images_allowed" of an entry, when it has a list. */
static void allowed_json(struct jb *b, json_t *o, const struct sbcfg *cfg,
			 const struct sbcfg_images_allowed *a)
{
	json_t *v = sbcfg_images_allowed_json(cfg, a, &b->failed);

	if (v)
		jset(b, o, "images_allowed", v);
}

static json_t *subnet_json(struct jb *b, const struct sbcfg *cfg, const struct sbcfg_subnet *s)
{
	char net[20];
	json_t *o = json_object(), *dns = json_array();

	jset(b, o, "network", json_string(sbcfg_cidr_fmt(s, net)));
	if (sbcfg_has_pool(s)) {
		json_t *pool = json_object();
		jset(b, pool, "start", jip(s->pool_start));
		jset(b, pool, "end", jip(s->pool_end));
		jset(b, o, "pool", pool);
	}
	if (s->router)
		jset(b, o, "router", jip(s->router));
	for (unsigned i = 0; dns && i < s->n_dns && i < SBCFG_MAX_DNS; i++)
		if (json_array_append_new(dns, jip(s->dns[i])) < 0)
			b->failed = true;
	jset(b, o, "dns", dns);
	jset(b, o, "domain", json_string(s->domain));
	jset(b, o, "lease_time", json_integer(s->lease_time));
	if (s->next_server)
		jset(b, o, "next_server", jip(s->next_server));
	if (s->vlan)
		jset(b, o, "vlan", json_integer(s->vlan));
	allowed_json(b, o, cfg, &s->images_allowed);
	return o;
}

static json_t *reservation_json(struct jb *b, const struct sbcfg *cfg,
				const struct sbcfg_reservation *r)
{
	json_t *o = json_object();

	jset(b, o, "mac", jmac(r->mac));
	if (r->ip)
		jset(b, o, "ip", jip(r->ip));
	jset(b, o, "hostname", json_string(r->hostname));
	jset(b, o, "bootfile", json_string(r->bootfile));
	jset(b, o, "ipxe_script", json_string(r->ipxe_script));
	allowed_json(b, o, cfg, &r->images_allowed);
	return o;
}

static json_t *dhcp_json(struct jb *b, const struct sbcfg *cfg)
{
	const struct sbcfg_dhcp *d = &cfg->dhcp;
	json_t *o = json_object(), *boot = json_object(), *subnets = json_array(),
	       *resv = json_array();
	unsigned mode = (unsigned)d->mode < ARRAY_SIZE(sbcfg_mode_names) ? d->mode : 0;

	jset(b, o, "mode", json_string(sbcfg_mode_names[mode]));
	jset(b, o, "durability",
	     json_string(sbcfg_durability_names[(unsigned)d->durability < SBCFG_N_DURABILITY
							? d->durability
							: 0]));
	jset(b, o, "offer_hold", json_integer(d->offer_hold));
	jset(b, o, "offer_reuse", json_boolean(d->offer_reuse));
	jset(b, o, "decline_quarantine", json_integer(d->decline_quarantine));
	jset(b, o, "max_lease_time", json_integer(d->max_lease_time));
	jset(b, o, "min_lease_time", json_integer(d->min_lease_time));
	jset(b, o, "conflict_probe_ms", json_integer(d->conflict_probe_ms));
	jset(b, o, "conflict_probe_max", json_integer(d->conflict_probe_max));
	for (int a = 0; a < SBCFG_ARCH__COUNT; a++)
		jset(b, boot, sbcfg_arch_keys[a], json_string(d->boot.by_arch[a]));
	jset(b, boot, "ipxe_script", json_string(d->boot.ipxe_script));
	jset(b, o, "boot", boot);
	for (size_t i = 0; subnets && i < d->n_subnets; i++)
		if (json_array_append_new(subnets, subnet_json(b, cfg, &d->subnets[i])) < 0)
			b->failed = true;
	jset(b, o, "subnets", subnets);
	for (size_t i = 0; resv && i < d->n_reservations; i++)
		if (json_array_append_new(resv, reservation_json(b, cfg, &d->reservations[i])) < 0)
			b->failed = true;
	jset(b, o, "reservations", resv);
	return o;
}

static json_t *tftp_json(struct jb *b, const struct sbcfg *cfg)
{
	const struct sbcfg_tftp *t = &cfg->tftp;
	json_t *o = json_object(), *ports = json_object();

	jset(b, o, "enabled", json_boolean(t->enabled));
	jset(b, ports, "first", json_integer(t->port_lo));
	jset(b, ports, "last", json_integer(t->port_hi));
	jset(b, o, "transfer_ports", ports);
	jset(b, o, "max_sessions", json_integer(t->max_sessions));
	jset(b, o, "max_sessions_per_client", json_integer(t->max_sessions_per_client));
	jset(b, o, "blksize_default", json_integer(t->blksize_default));
	jset(b, o, "blksize_max", json_integer(t->blksize_max));
	jset(b, o, "windowsize_max", json_integer(t->windowsize_max));
	jset(b, o, "timeout_ms", json_integer(t->timeout_ms));
	jset(b, o, "retries", json_integer(t->retries));
	jset(b, o, "give_up_ms", json_integer(t->give_up_ms));
	jset(b, o, "mtu", json_integer(t->mtu));
	allowed_json(b, o, cfg, &t->images_allowed);
	{
		json_t *mc = json_object();
		char g[40];
		uint32_t lo = t->multicast.group_lo;

		snprintf(g, sizeof(g), "%u.%u.%u.%u/%u", lo >> 24, (lo >> 16) & 255, (lo >> 8) & 255,
			 lo & 255, t->multicast.group_len);
		jset(b, mc, "enabled", json_boolean(t->multicast.enabled));
		jset(b, mc, "groups", json_string(g));
		jset(b, mc, "port", json_integer(t->multicast.port));
		jset(b, o, "multicast", mc);
	}
	return o;
}

static char *to_json(const struct sbcfg *cfg, bool listed_only);

char *sbcfg_to_json(const struct sbcfg *cfg)
{
	return to_json(cfg, false);
}

char *sbcfg_to_json_file(const struct sbcfg *cfg)
{
	return to_json(cfg, true);
}

static char *to_json(const struct sbcfg *cfg, bool listed_only)
{
	struct jb b = {false};
	json_t *root = json_object(), *images = json_array();
	unsigned csum = (unsigned)cfg->udp_csum < ARRAY_SIZE(sbcfg_csum_names) ? cfg->udp_csum : 0;

	/* Optional fields that mean "none" (empty string, no MAC) are left out. */
	if (cfg->interface[0])
		jset(&b, root, "interface", json_string(cfg->interface));
	if (cfg->dpdk_port[0])
		jset(&b, root, "dpdk_port", json_string(cfg->dpdk_port));
	if (cfg->xdp_prog[0])
		jset(&b, root, "xdp_prog", json_string(cfg->xdp_prog));
	jset(&b, root, "queues", json_integer(cfg->queues));
	jset(&b, root, "server_ip", jip(cfg->server_ip));
	if (!sbcfg_mac_is_zero(cfg->server_mac))
		jset(&b, root, "server_mac", jmac(cfg->server_mac));
	jset(&b, root, "udp_checksum", json_string(sbcfg_csum_names[csum]));
	jset(&b, root, "ipv6_ra", sbcfg_ra_json(cfg->ipv6_ra));
	jset(&b, root, "dhcp", dhcp_json(&b, cfg));
	jset(&b, root, "tftp", tftp_json(&b, cfg));
	if (cfg->http.port) { /* no "http" object = no HTTP server */
		json_t *h = json_object();
		char ip[16], listen[24];
		snprintf(listen, sizeof(listen), "%s:%u", sbcfg_ip_fmt(cfg->http.listen_ip, ip),
			 cfg->http.port);
		jset(&b, h, "listen", json_string(listen));
		jset(&b, h, "max_connections", json_integer(cfg->http.max_conns));
		jset(&b, h, "idle_timeout_ms", json_integer(cfg->http.idle_timeout_ms));
		jset(&b, h, "max_connections_per_ip", json_integer(cfg->http.max_per_ip));
		jset(&b, h, "header_timeout_ms", json_integer(cfg->http.header_timeout_ms));
		jset(&b, h, "token_ttl_s", json_integer(cfg->http.token_ttl_s));
		if (cfg->http.https_port)
			jset(&b, h, "https_port", json_integer(cfg->http.https_port));
		if (cfg->http.tls_cert[0])
			jset(&b, h, "tls_cert", json_string(cfg->http.tls_cert));
		if (cfg->http.tls_key[0])
			jset(&b, h, "tls_key", json_string(cfg->http.tls_key));
		jset(&b, root, "http", h);
	}
	if (cfg->syslog.enabled || cfg->syslog.port != 514) {
		json_t *s = json_object();
		jset(&b, s, "enabled", json_boolean(cfg->syslog.enabled));
		jset(&b, s, "port", json_integer(cfg->syslog.port));
		jset(&b, root, "syslog", s);
	}
	if (cfg->metrics.port) { /* no "metrics" object = no endpoint */
		json_t *h = json_object();
		char ip[16], listen[24];
		snprintf(listen, sizeof(listen), "%s:%u", sbcfg_ip_fmt(cfg->metrics.listen_ip, ip),
			 cfg->metrics.port);
		jset(&b, h, "listen", json_string(listen));
		jset(&b, root, "metrics", h);
	}
	if (cfg->tftp_root[0])
		jset(&b, root, "tftp_root", json_string(cfg->tftp_root));
	json_t *guard = sbcfg_guard_json(&cfg->guard, &b.failed);
	if (guard) /* no "guard" object = everything at its default */
		jset(&b, root, "guard", guard);
	json_t *control = sbcfg_control_json(&cfg->control, &b.failed);
	if (control) /* no "control" object = everything at its default */
		jset(&b, root, "control", control);
	json_t *cluster = sbcfg_cluster_json(&cfg->cluster, &b.failed);
	if (cluster) /* no "cluster" object = one server */
		jset(&b, root, "cluster", cluster);
	for (size_t i = 0; images && i < cfg->n_images; i++) {
		if (listed_only && cfg->images[i].from_root)
			continue;
		json_t *im = json_object();
		jset(&b, im, "name", json_string(cfg->images[i].name));
		jset(&b, im, "path", json_string(cfg->images[i].path));
		if (cfg->images[i].sha256[0])
			jset(&b, im, "sha256", json_string(cfg->images[i].sha256));
		if (cfg->images[i].from_root)
			jset(&b, im, "from_tftp_root", json_true());
		if (cfg->images[i].protected_)
			jset(&b, im, "protected", json_true());
		if (json_array_append_new(images, im) < 0)
			b.failed = true;
	}
	jset(&b, root, "images", images);

	char *out = NULL;
	if (!b.failed) {
		char *s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		json_malloc_t jmalloc;
		json_free_t jfree;
		json_get_alloc_funcs(&jmalloc, &jfree);
		if (s) {
			/* Our own copy, so the caller frees it with free() whatever
			 * allocator jansson was given; ends in a newline like a file. */
			size_t n = strlen(s);
			out = malloc(n + 2);
			if (out) {
				memcpy(out, s, n);
				memcpy(out + n, "\n", 2);
			}
			jfree(s);
		}
	}
	json_decref(root);
	return out;
}

#define EQ_STR(x, y) (strncmp((x), (y), sizeof(x)) == 0)

static bool subnet_equal(const struct sbcfg *ca, const struct sbcfg_subnet *a,
			 const struct sbcfg *cb, const struct sbcfg_subnet *b)
{
	if (a->network != b->network || a->netmask != b->netmask ||
	    a->pool_start != b->pool_start || a->pool_end != b->pool_end ||
	    a->router != b->router || a->n_dns != b->n_dns || a->lease_time != b->lease_time ||
	    a->next_server != b->next_server || a->vlan != b->vlan || !EQ_STR(a->domain, b->domain))
		return false;
	for (unsigned i = 0; i < a->n_dns && i < SBCFG_MAX_DNS; i++)
		if (a->dns[i] != b->dns[i])
			return false;
	return sbcfg_images_allowed_equal(ca, &a->images_allowed, cb, &b->images_allowed);
}

static bool reservation_equal(const struct sbcfg *ca, const struct sbcfg_reservation *a,
			      const struct sbcfg *cb, const struct sbcfg_reservation *b)
{
	return memcmp(a->mac, b->mac, 6) == 0 && a->ip == b->ip &&
	       EQ_STR(a->hostname, b->hostname) && EQ_STR(a->bootfile, b->bootfile) &&
	       EQ_STR(a->ipxe_script, b->ipxe_script) &&
	       sbcfg_images_allowed_equal(ca, &a->images_allowed, cb, &b->images_allowed);
}

bool sbcfg_equal(const struct sbcfg *a, const struct sbcfg *b)
{
	const struct sbcfg_dhcp *da = &a->dhcp, *db = &b->dhcp;
	const struct sbcfg_tftp *ta = &a->tftp, *tb = &b->tftp;

	if (!EQ_STR(a->interface, b->interface) || !EQ_STR(a->dpdk_port, b->dpdk_port) ||
	    !EQ_STR(a->xdp_prog, b->xdp_prog) || a->queues != b->queues ||
	    a->server_ip != b->server_ip || memcmp(a->server_mac, b->server_mac, 6) != 0 ||
	    a->udp_csum != b->udp_csum || a->ipv6_ra != b->ipv6_ra ||
	    !sbcfg_guard_equal(&a->guard, &b->guard) || !sbcfg_access_equal(a, b) ||
	    !sbcfg_cluster_equal(&a->cluster, &b->cluster))
		return false;
	if (da->mode != db->mode || da->durability != db->durability ||
	    da->offer_hold != db->offer_hold || da->offer_reuse != db->offer_reuse ||
	    da->decline_quarantine != db->decline_quarantine ||
	    da->max_lease_time != db->max_lease_time || da->min_lease_time != db->min_lease_time ||
	    da->conflict_probe_ms != db->conflict_probe_ms ||
	    da->conflict_probe_max != db->conflict_probe_max ||
	    !EQ_STR(da->boot.ipxe_script, db->boot.ipxe_script) || da->n_subnets != db->n_subnets ||
	    da->n_reservations != db->n_reservations)
		return false;
	for (int i = 0; i < SBCFG_ARCH__COUNT; i++)
		if (!EQ_STR(da->boot.by_arch[i], db->boot.by_arch[i]))
			return false;
	for (size_t i = 0; i < da->n_subnets; i++)
		if (!subnet_equal(a, &da->subnets[i], b, &db->subnets[i]))
			return false;
	for (size_t i = 0; i < da->n_reservations; i++)
		if (!reservation_equal(a, &da->reservations[i], b, &db->reservations[i]))
			return false;
	if (ta->enabled != tb->enabled || ta->port_lo != tb->port_lo ||
	    ta->port_hi != tb->port_hi || ta->max_sessions != tb->max_sessions ||
	    ta->max_sessions_per_client != tb->max_sessions_per_client ||
	    ta->blksize_default != tb->blksize_default || ta->blksize_max != tb->blksize_max ||
	    ta->windowsize_max != tb->windowsize_max || ta->timeout_ms != tb->timeout_ms ||
	    ta->retries != tb->retries || ta->give_up_ms != tb->give_up_ms || ta->mtu != tb->mtu ||
	    ta->multicast.enabled != tb->multicast.enabled ||
	    ta->multicast.group_lo != tb->multicast.group_lo ||
	    ta->multicast.group_len != tb->multicast.group_len ||
	    ta->multicast.port != tb->multicast.port)
		return false;
	if (a->http.listen_ip != b->http.listen_ip || a->http.port != b->http.port ||
	    a->http.max_conns != b->http.max_conns ||
	    a->http.idle_timeout_ms != b->http.idle_timeout_ms ||
	    a->http.max_per_ip != b->http.max_per_ip ||
	    a->http.header_timeout_ms != b->http.header_timeout_ms ||
	    a->http.https_port != b->http.https_port || !EQ_STR(a->http.tls_cert, b->http.tls_cert) ||
	    !EQ_STR(a->http.tls_key, b->http.tls_key) || a->http.token_ttl_s != b->http.token_ttl_s)
		return false;
	if (a->syslog.enabled != b->syslog.enabled || a->syslog.port != b->syslog.port)
		return false;
	if (a->metrics.listen_ip != b->metrics.listen_ip || a->metrics.port != b->metrics.port ||
	    !EQ_STR(a->tftp_root, b->tftp_root))
		return false;
	if (a->n_images != b->n_images)
		return false;
	for (size_t i = 0; i < a->n_images; i++)
		if (!EQ_STR(a->images[i].name, b->images[i].name) ||
		    !EQ_STR(a->images[i].path, b->images[i].path) ||
		    a->images[i].protected_ != b->images[i].protected_ ||
		    a->images[i].from_root != b->images[i].from_root)
			return false;
	return true;
}
