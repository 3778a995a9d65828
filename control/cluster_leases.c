/* SPDX-License-Identifier: BSD-3-Clause */
/* cluster_leases.c - the address table: what this server knows of each address key in etcd
 * (read at start, followed by a watch, updated by its own commits), and the other servers'
 * live leases given to the dataplane's pool. */
#include "cluster_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_array.h"
#include "ctl_log.h"
#include "running_config.h"

/* ---- the address table (open addressing; entries are never removed) ---- */

static size_t slot_of(uint32_t ip, size_t cap)
{
	return (size_t)(cluster_mix64(ip) & (cap - 1));
}

struct centry *cluster_addr_find(struct cluster *c, uint32_t ip)
{
	if (!c->tab_cap)
		return NULL;
	for (size_t i = slot_of(ip, c->tab_cap);; i = (i + 1) & (c->tab_cap - 1)) {
		if (!c->tab[i].used)
			return NULL;
		if (c->tab[i].ip == ip)
			return &c->tab[i];
	}
}

struct centry *cluster_addr_get(struct cluster *c, uint32_t ip)
{
	struct centry *e = cluster_addr_find(c, ip);

	if (e)
		return e;
	if ((c->tab_n + 1) * 2 > c->tab_cap) {
		size_t cap = c->tab_cap ? c->tab_cap * 2 : 1024;
		struct centry *t = calloc(cap, sizeof(*t));
		if (!t)
			return NULL;
		for (size_t i = 0; i < c->tab_cap; i++) {
			if (!c->tab[i].used)
				continue;
			size_t k = slot_of(c->tab[i].ip, cap);
			while (t[k].used)
				k = (k + 1) & (cap - 1);
			t[k] = c->tab[i];
		}
		free(c->tab);
		c->tab = t;
		c->tab_cap = cap;
	}
	size_t k = slot_of(ip, c->tab_cap);
	while (c->tab[k].used)
		k = (k + 1) & (c->tab_cap - 1);
	c->tab[k].used = true;
	c->tab[k].ip = ip;
	c->tab_n++;
	return &c->tab[k];
}

/* "PREFIXleases/A.B.C.D" of ip. */
void cluster_lease_key(const struct cluster *c, uint32_t ip, char *key, size_t cap)
{
	char s[16];
	snprintf(key, cap, "%s%s", c->lease_prefix, running_config_fmt_ip(ip, s));
}

static int key_ip(const struct cluster *c, const char *key, size_t len, uint32_t *ip)
{
	size_t pl = strlen(c->lease_prefix);
	unsigned a, b, d, e;
	char buf[32], end;

	if (len <= pl || len - pl >= sizeof(buf) || memcmp(key, c->lease_prefix, pl) != 0)
		return -EINVAL;
	memcpy(buf, key + pl, len - pl);
	buf[len - pl] = '\0';
	if (sscanf(buf, "%u.%u.%u.%u%c", &a, &b, &d, &e, &end) != 4 || a > 255 || b > 255 ||
	    d > 255 || e > 255)
		return -EINVAL;
	*ip = a << 24 | b << 16 | d << 8 | e;
	return 0;
}

/*
 * One kv of etcd ({"key", "value", "mod_revision", "create_revision"}), or a deletion of
 * its key (del), into the table. Another server's live lease goes to *push when given.
 */
void cluster_addr_learn(struct cluster *c, json_t *kv, bool del, bool all, struct chan_lease **push,
			size_t *n_push, size_t *cap_push)
{
	char key[KEY_MAX], val[1024], server[SBCFG_CLUSTER_ID_MAX];
	const char *k64 = json_string_value(json_object_get(kv, "key"));
	const char *v64 = json_string_value(json_object_get(kv, "value"));
	int64_t mod = etcd_json_int(json_object_get(kv, "mod_revision"));
	long kl, vl;
	uint32_t ip;
	struct centry *e;
	struct chan_lease l = {0};

	if (!k64 || (kl = etcd_unb64(k64, key, sizeof(key))) < 0 || key_ip(c, key, (size_t)kl, &ip))
		return;
	if (!(e = cluster_addr_get(c, ip)))
		return;
	if (e->mod_rev > mod && mod)
		return; /* we know a later state */
	if (del) {
		e->present = false;
		e->mod_rev = mod;
		e->create_rev = 0;
		return;
	}
	if (!v64 || (vl = etcd_unb64(v64, val, sizeof(val))) < 0 ||
	    cluster_lease_parse(val, (size_t)vl, l.mac, &l.expires, &l.subnet, server) < 0)
		return;
	e->present = true;
	memcpy(e->mac, l.mac, 6);
	e->expires = l.expires;
	e->mod_rev = mod;
	e->create_rev = etcd_json_int(json_object_get(kv, "create_revision"));
	e->ours = strcmp(server, c->cfg.server_id) == 0;
	if (push && (all || !e->ours) && l.expires > cluster_now_s(c)) {
		struct chan_lease *v = ctl_array_grow(*push, cap_push, *n_push, sizeof(*v), 64);
		if (!v)
			return;
		*push = v;
		l.ip = ip;
		l.event = CHAN_LEASE_BOUND;
		v[(*n_push)++] = l;
	}
}

/* ---- the other servers' leases ---- */

void cluster_foreign_push(struct cluster *c, struct chan_lease *v, size_t n)
{
	if (n) {
		dataplane_link_push_leases(c->dp, v, n);
		c->st.foreign_pushed += n;
	}
	free(v);
}

static void on_watch(void *arg, int rc, json_t *result, const char *err)
{
	struct cluster *c = arg;
	struct chan_lease *v = NULL;
	size_t n = 0, cap = 0, i;
	json_t *ev;

	if (rc < 0) {
		ctl_log(LOG_WARNING, "cluster: %s; reopening", err);
		return;
	}
	json_array_foreach(json_object_get(result, "events"), i, ev)
	{
		const char *t = json_string_value(json_object_get(ev, "type"));
		cluster_addr_learn(c, json_object_get(ev, "kv"), t && strcmp(t, "DELETE") == 0,
				   false, &v, &n, &cap);
	}
	cluster_foreign_push(c, v, n);
}

static void on_load(void *arg, int rc, json_t *resp, const char *err)
{
	struct cluster *c = arg;
	struct chan_lease *v = NULL;
	size_t n = 0, cap = 0, i;
	json_t *kv;

	c->load_inflight = false;
	cluster_note(c, rc, err);
	if (rc < 0)
		return; /* the session timer tries again */
	json_array_foreach(json_object_get(resp, "kvs"), i, kv)
		cluster_addr_learn(c, kv, false, true, &v, &n, &cap);
	c->loaded = true;
	ctl_log(LOG_INFO, "cluster: %zu address keys read from etcd, %zu live leases",
		json_array_size(json_object_get(resp, "kvs")), n);
	cluster_foreign_push(c, v, n);
	if (!c->watching) {
		int64_t rev =
			etcd_json_int(json_object_get(json_object_get(resp, "header"), "revision"));
		if (etcd_client_watch(c->etcd, c->lease_prefix, rev + 1, on_watch, c) == 0)
			c->watching = true;
	}
}

void cluster_leases_load(struct cluster *c)
{
	char *end = etcd_prefix_end_b64(c->lease_prefix);
	json_t *body = end ? json_pack("{s:o, s:s}", "key", cluster_b64s(c->lease_prefix),
				       "range_end", end)
			   : NULL;

	free(end);
	if (body && etcd_client_call(c->etcd, ETCD_LANE_KV, "/v3/kv/range", body, on_load, c) == 0)
		c->load_inflight = true;
}

void cluster_connected(void *arg)
{
	struct cluster *c = arg;
	struct chan_lease *v = NULL;
	size_t n = 0, cap = 0;
	uint64_t now = cluster_now_s(c);

	for (size_t i = 0; i < c->tab_cap; i++) {
		struct centry *e = &c->tab[i];
		struct chan_lease *g;

		if (!e->used || !e->present || e->expires <= now)
			continue;
		if (!(g = ctl_array_grow(v, &cap, n, sizeof(*g), 256)))
			break;
		v = g;
		v[n] = (struct chan_lease){
			.expires = e->expires, .ip = e->ip, .event = CHAN_LEASE_BOUND};
		memcpy(v[n++].mac, e->mac, 6);
	}
	cluster_foreign_push(c, v, n);
}
