/* SPDX-License-Identifier: BSD-3-Clause */
/* cluster.c - leases committed to etcd, bucket ownership, the other servers' leases (see .h). */
#include "cluster.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl_array.h"
#include "ctl_log.h"
#include "lease_store.h"
#include "running_config.h"
#include "sbcfg_json.h"
#include "sbcfg_names.h"

#define KEY_MAX 256

/* What this server knows of one address key in etcd. */
struct centry {
	uint32_t ip;
	bool used;    /* slot taken */
	bool present; /* the key exists */
	bool ours;    /* written by this server */
	uint8_t mac[6];
	uint64_t expires;
	int64_t mod_rev, create_rev;
};

/* A record waiting for etcd. */
struct crec {
	struct chan_lease ev;
	uint64_t ticket;
	uint64_t since_ms;
	uint8_t tries;
	bool del; /* in the batch: a delete (release) rather than a put */
};

struct cluster;

/* A key set every server shares (reservations, templates): read once, then watched. */
struct shared_set {
	struct cluster *c;
	const char *what; /* for the log: "reservations", "templates" */
	void (*learn)(struct cluster *c, json_t *kv, bool deleted);
	void (*loaded_fn)(struct cluster *c, json_t *kvs); /* after the first read, or NULL */
	char prefix[SBCFG_CLUSTER_PREFIX_MAX + 16];
	bool loaded, inflight;
};

struct cluster {
	struct ev_loop *loop;
	struct dataplane_link *dp;
	struct sbcfg_cluster cfg;
	struct ctl_clock clock;
	struct etcd_client *etcd;
	char lease_prefix[SBCFG_CLUSTER_PREFIX_MAX + 16];
	struct shared_set resv; /* prefix/reservations/ */
	cluster_resv_fn *resv_fn;
	void *resv_arg;
	struct shared_set tmpl; /* prefix/templates/ */
	cluster_tmpl_fn *tmpl_fn;
	void *tmpl_arg;
	cluster_resv_loaded_fn *resv_loaded_fn;
	struct shared_set img; /* prefix/images/ */
	cluster_image_fn *img_fn;
	void *img_arg;
	struct shared_set conf; /* prefix/config: the shared config document (one key) */
	char conf_key[SBCFG_CLUSTER_PREFIX_MAX + 16];
	cluster_config_fn *conf_fn;
	void *conf_arg;
	char server_prefix[SBCFG_CLUSTER_PREFIX_MAX + 16];
	/* the address keys */
	struct centry *tab;
	size_t tab_cap, tab_n;
	/* records waiting, FIFO from head */
	struct crec *q;
	size_t q_head, q_n, q_cap;
	/* the transaction in flight */
	struct crec *batch;
	size_t n_batch, cap_batch;
	bool inflight;
	uint64_t inflight_since_us;
	/* leases load and watch */
	bool loaded, load_inflight, watching;
	/* registration */
	int64_t lease_id;
	bool registered, session_inflight, members_inflight;
	long long session_timer, members_timer;
	char servers[CLUSTER_SERVERS_MAX][SBCFG_CLUSTER_ID_MAX];
	size_t n_servers;
	uint8_t map[32];
	bool map_sent;
	unsigned owned;
	/* health */
	uint64_t last_ok_ms; /* the last reply from etcd */
	bool etcd_ok;	     /* the last request succeeded */
	bool was_ready;
	char last_error[256];
	struct cluster_stats st;
};

static uint64_t now_s(const struct cluster *c)
{
	return ctl_clock_now(&c->clock);
}

static uint64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* ---- pure parts ---- */

static uint64_t mix64(uint64_t x)
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
	return mix64(h ^ (bucket * 0x9e3779b97f4a7c15ull));
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

static int parse_mac(const char *s, uint8_t mac[6])
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
	if (parse_mac(json_string_value(json_object_get(o, "mac")), mac) == 0 &&
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

/* ---- the address table (open addressing; entries are never removed) ---- */

static size_t slot_of(uint32_t ip, size_t cap)
{
	return (size_t)(mix64(ip) & (cap - 1));
}

static struct centry *find(struct cluster *c, uint32_t ip)
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

static struct centry *get(struct cluster *c, uint32_t ip)
{
	struct centry *e = find(c, ip);

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
static void lease_key(const struct cluster *c, uint32_t ip, char *key, size_t cap)
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
static void learn(struct cluster *c, json_t *kv, bool del, bool all, struct chan_lease **push,
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
	if (!(e = get(c, ip)))
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
	if (push && (all || !e->ours) && l.expires > now_s(c)) {
		struct chan_lease *v = ctl_array_grow(*push, cap_push, *n_push, sizeof(*v), 64);
		if (!v)
			return;
		*push = v;
		l.ip = ip;
		l.event = CHAN_LEASE_BOUND;
		v[(*n_push)++] = l;
	}
}

/* ---- health ---- */

static void note(struct cluster *c, int rc, const char *err)
{
	if (rc == 0) {
		c->last_ok_ms = ev_now_ms();
		if (!c->etcd_ok)
			ctl_log(LOG_INFO, "cluster: etcd answers again (%s)", c->cfg.server_id);
		c->etcd_ok = true;
		return;
	}
	if (c->etcd_ok || strcmp(c->last_error, err ? err : "") != 0)
		ctl_log(LOG_ERR, "cluster: %s", err && *err ? err : strerror(-rc));
	c->etcd_ok = false;
	snprintf(c->last_error, sizeof(c->last_error), "%s", err && *err ? err : strerror(-rc));
}

bool cluster_ready(const struct cluster *c)
{
	/* one failed request is not enough (etcd may be electing a leader): only lease_ttl_s
	 * without any answer, when the others have dropped this server anyway */
	return c->registered && ev_now_ms() - c->last_ok_ms < (uint64_t)c->cfg.lease_ttl_s * 1000;
}

/* The bucket map from the live set, or none while this server is not ready. */
static void update_buckets(struct cluster *c)
{
	const char *ids[CLUSTER_SERVERS_MAX];
	uint8_t map[32];
	unsigned owned = 0;
	bool ready = cluster_ready(c);

	for (size_t i = 0; i < c->n_servers; i++)
		ids[i] = c->servers[i];
	if (ready)
		owned = cluster_buckets(ids, c->n_servers, c->cfg.server_id, map);
	else
		memset(map, 0, sizeof(map));
	if (ready != c->was_ready)
		ctl_log(ready ? LOG_INFO : LOG_ERR,
			ready ? "cluster: %s ready: registered in etcd, committing leases"
			      : "cluster: %s NOT ready: etcd not reached for %u s or registration "
				"lost; no new lease is ACKed and no DHCP client answered until it "
				"is",
			c->cfg.server_id, c->cfg.lease_ttl_s);
	c->was_ready = ready;
	if (c->map_sent && memcmp(map, c->map, sizeof(map)) == 0)
		return;
	memcpy(c->map, map, sizeof(map));
	c->map_sent = true;
	c->owned = owned;
	c->st.bucket_changes++;
	ctl_log(LOG_INFO, "cluster: %s answers %u of 256 buckets (%zu live servers)",
		c->cfg.server_id, owned, c->n_servers);
	dataplane_link_set_buckets(c->dp, map);
}

/* ---- lease commits ---- */

static void push(struct cluster *c, struct chan_lease *v, size_t n);

/*
 * A binding etcd refused is undone here: off the local store (which holds only what etcd
 * holds), and when the address is another MAC's, off the dataplane's pool too, which gets
 * that other lease instead (so it offers the client another address).
 */
static void undo_bound(struct cluster *c, const struct crec *r, int32_t status)
{
	struct chan_lease rel = r->ev;
	struct centry *e;

	rel.event = CHAN_LEASE_RELEASED;
	(void)lease_store_apply(c->dp->deps.store, &rel, now_s(c));
	if (status != -EADDRINUSE)
		return;
	dataplane_link_revoke(c->dp, &rel);
	e = find(c, r->ev.ip);
	if (e && e->present && !e->ours && e->expires > now_s(c)) {
		struct chan_lease *l = calloc(1, sizeof(*l));
		if (!l)
			return;
		*l = (struct chan_lease){
			.expires = e->expires, .ip = e->ip, .event = CHAN_LEASE_BOUND};
		memcpy(l->mac, e->mac, 6);
		push(c, l, 1);
	}
}

static void done(struct cluster *c, struct crec *r, int32_t status)
{
	if (status < 0 && r->ev.event == CHAN_LEASE_BOUND)
		undo_bound(c, r, status);
	if (status == 0)
		c->st.committed++;
	else if (status == -EADDRINUSE)
		c->st.refused_in_use++;
	else if (status == -ETIMEDOUT)
		c->st.refused_timeout++;
	else
		c->st.refused_etcd++;
	dataplane_link_remote_done(c->dp, r->ticket, status);
}

int cluster_submit(void *arg, const struct chan_lease *ev, uint64_t ticket)
{
	struct cluster *c = arg;

	if (c->q_head && c->q_head * 2 >= c->q_n + c->q_head) { /* compact */
		memmove(c->q, c->q + c->q_head, c->q_n * sizeof(*c->q));
		c->q_head = 0;
	}
	struct crec *v = ctl_array_grow(c->q, &c->q_cap, c->q_head + c->q_n, sizeof(*v), 256);
	if (!v)
		return -ENOMEM;
	c->q = v;
	c->q[c->q_head + c->q_n++] = (struct crec){*ev, ticket, ev_now_ms(), 0, false};
	c->st.submitted++;
	return 0;
}

static void requeue_front(struct cluster *c, const struct crec *v, size_t n)
{
	if (c->q_head < n) {
		struct crec *g =
			ctl_array_grow(c->q, &c->q_cap, c->q_head + c->q_n + n, sizeof(*g), 256);
		if (!g) {
			for (size_t i = 0; i < n; i++)
				done(c, (struct crec *)&v[i], -ENOMEM);
			return;
		}
		c->q = g;
		memmove(c->q + c->q_head + n, c->q + c->q_head, c->q_n * sizeof(*c->q));
		c->q_head += n;
	}
	c->q_head -= n;
	memcpy(c->q + c->q_head, v, n * sizeof(*v));
	c->q_n += n;
}

static json_t *b64s(const char *s)
{
	char *b = etcd_b64(s, strlen(s));
	json_t *j = b ? json_string(b) : NULL;
	free(b);
	return j;
}

static json_t *i64s(int64_t v)
{
	char b[24];
	snprintf(b, sizeof(b), "%lld", (long long)v);
	return json_string(b);
}

static void on_txn(void *arg, int rc, json_t *resp, const char *err);

void cluster_kick(struct cluster *c)
{
	uint64_t now = now_s(c), now_ms = ev_now_ms();
	json_t *cmp = NULL, *ok = NULL, *fail = NULL;
	bool refused = false;

	if (c->inflight || !c->q_n)
		return;
	c->n_batch = 0;
	while (c->q_n && c->n_batch < c->cfg.batch_max) {
		struct crec r = c->q[c->q_head];
		struct centry *e = find(c, r.ev.ip);
		bool dup = false;
		char key[KEY_MAX];

		for (size_t i = 0; i < c->n_batch && !dup; i++)
			dup = c->batch[i].ev.ip == r.ev.ip;
		if (dup)
			break; /* one operation per key in a transaction: the next one takes it */
		c->q_head++;
		c->q_n--;
		if (now_ms - r.since_ms > CLUSTER_HOLD_MS) {
			done(c, &r, -ETIMEDOUT);
			refused = true;
			continue;
		}
		if (r.ev.event == CHAN_LEASE_BOUND) {
			if (e && e->present && memcmp(e->mac, r.ev.mac, 6) != 0 &&
			    e->expires > now) {
				done(c, &r, -EADDRINUSE);
				refused = true;
				continue;
			}
			r.del = false;
		} else {
			/* released / declined: delete the key if it is this MAC's lease */
			if (!e || !e->present || memcmp(e->mac, r.ev.mac, 6) != 0) {
				done(c, &r, 0);
				refused = true;
				continue;
			}
			r.del = true;
		}
		if (!cmp) {
			cmp = json_array();
			ok = json_array();
			fail = json_array();
		}
		lease_key(c, r.ev.ip, key, sizeof(key));
		json_t *k = b64s(key);
		json_t *cm =
			e && e->present
				? json_pack("{s:O, s:s, s:s, s:o}", "key", k, "target", "MOD",
					    "result", "EQUAL", "mod_revision", i64s(e->mod_rev))
				: json_pack("{s:O, s:s, s:s, s:s}", "key", k, "target", "CREATE",
					    "result", "EQUAL", "create_revision", "0");
		json_t *op;
		if (r.del) {
			op = json_pack("{s:{s:O}}", "request_delete_range", "key", k);
		} else {
			char *v = cluster_lease_value(&r.ev, c->cfg.server_id);
			char *v64 = v ? etcd_b64(v, strlen(v)) : NULL;
			op = v64 ? json_pack("{s:{s:O, s:s}}", "request_put", "key", k, "value",
					     v64)
				 : NULL;
			free(v);
			free(v64);
		}
		json_t *rg = json_pack("{s:{s:O}}", "request_range", "key", k);
		json_decref(k);
		struct crec *b =
			ctl_array_grow(c->batch, &c->cap_batch, c->n_batch, sizeof(*b), 128);
		if (!cm || !op || !rg || !b || json_array_append_new(cmp, cm) < 0 ||
		    json_array_append_new(ok, op) < 0 || json_array_append_new(fail, rg) < 0) {
			done(c, &r, -ENOMEM);
			break; /* the arrays may be uneven: send nothing of this round */
		}
		c->batch = b;
		c->batch[c->n_batch++] = r;
	}
	if (!c->n_batch) {
		json_decref(cmp);
		json_decref(ok);
		json_decref(fail);
		if (refused)
			dataplane_link_durable_flush(c->dp);
		return;
	}
	json_t *body = json_pack("{s:o, s:o, s:o}", "compare", cmp, "success", ok, "failure", fail);
	if (!body || etcd_client_call(c->etcd, ETCD_LANE_KV, "/v3/kv/txn", body, on_txn, c) < 0) {
		for (size_t i = 0; i < c->n_batch; i++)
			done(c, &c->batch[i], -ENOMEM);
		c->n_batch = 0;
		dataplane_link_durable_flush(c->dp);
		return;
	}
	c->inflight = true;
	c->inflight_since_us = mono_us();
	if (refused)
		dataplane_link_durable_flush(c->dp);
}

static void on_txn(void *arg, int rc, json_t *resp, const char *err)
{
	struct cluster *c = arg;
	uint64_t us = mono_us() - c->inflight_since_us;

	c->inflight = false;
	note(c, rc, err);
	if (rc < 0) {
		for (size_t i = 0; i < c->n_batch; i++)
			done(c, &c->batch[i],
			     rc == -ETIMEDOUT || rc == -ECONNREFUSED || rc == -EHOSTUNREACH ||
					     rc == -EAGAIN
				     ? -EHOSTUNREACH
				     : -EIO);
	} else if (json_is_true(json_object_get(resp, "succeeded"))) {
		int64_t rev =
			etcd_json_int(json_object_get(json_object_get(resp, "header"), "revision"));
		for (size_t i = 0; i < c->n_batch; i++) {
			struct crec *r = &c->batch[i];
			struct centry *e = get(c, r->ev.ip);

			if (e && r->del) {
				e->present = false;
				e->mod_rev = rev;
			} else if (e) {
				if (!e->present)
					e->create_rev = rev;
				e->present = true;
				e->ours = true;
				memcpy(e->mac, r->ev.mac, 6);
				e->expires = r->ev.expires;
				e->mod_rev = rev;
			}
			done(c, r, 0);
		}
		c->st.txns++;
		c->st.commit_us_sum += us;
		if (us > c->st.commit_us_max)
			c->st.commit_us_max = us;
		if (c->n_batch > c->st.batch_max)
			c->st.batch_max = c->n_batch;
	} else {
		/* a compare failed: learn the keys from the failure branch's reads, then each
		 * record is decided again (another MAC's: refused; else tried again) */
		json_t *rs = json_object_get(resp, "responses");
		c->st.txn_conflicts++;
		for (size_t i = 0; i < c->n_batch; i++) {
			json_t *rr = json_object_get(json_array_get(rs, i), "response_range");
			json_t *kvs = json_object_get(rr, "kvs");
			struct centry *e = get(c, c->batch[i].ev.ip);

			if (json_array_size(kvs))
				learn(c, json_array_get(kvs, 0), false, false, NULL, NULL, NULL);
			else if (e)
				e->present = false;
		}
		size_t keep = 0;
		for (size_t i = 0; i < c->n_batch; i++) {
			struct crec *r = &c->batch[i];
			if (++r->tries > CLUSTER_RETRIES)
				done(c, r, -EAGAIN);
			else
				c->batch[keep++] = *r;
		}
		requeue_front(c, c->batch, keep);
	}
	c->n_batch = 0;
	dataplane_link_durable_flush(c->dp);
	cluster_kick(c);
}

/* ---- the other servers' leases ---- */

static void push(struct cluster *c, struct chan_lease *v, size_t n)
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
		learn(c, json_object_get(ev, "kv"), t && strcmp(t, "DELETE") == 0, false, &v, &n,
		      &cap);
	}
	push(c, v, n);
}

static void on_load(void *arg, int rc, json_t *resp, const char *err)
{
	struct cluster *c = arg;
	struct chan_lease *v = NULL;
	size_t n = 0, cap = 0, i;
	json_t *kv;

	c->load_inflight = false;
	note(c, rc, err);
	if (rc < 0)
		return; /* the session timer tries again */
	json_array_foreach(json_object_get(resp, "kvs"), i, kv)
		learn(c, kv, false, true, &v, &n, &cap);
	c->loaded = true;
	ctl_log(LOG_INFO, "cluster: %zu address keys read from etcd, %zu live leases",
		json_array_size(json_object_get(resp, "kvs")), n);
	push(c, v, n);
	if (!c->watching) {
		int64_t rev =
			etcd_json_int(json_object_get(json_object_get(resp, "header"), "revision"));
		if (etcd_client_watch(c->etcd, c->lease_prefix, rev + 1, on_watch, c) == 0)
			c->watching = true;
	}
}

static void shared_load(struct shared_set *set);

static void load(struct cluster *c)
{
	char *end = etcd_prefix_end_b64(c->lease_prefix);
	json_t *body = end ? json_pack("{s:o, s:s}", "key", b64s(c->lease_prefix), "range_end", end)
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
	uint64_t now = now_s(c);

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
	push(c, v, n);
}

/* ---- shared reservations ---- */

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
	if (parse_mac(json_string_value(json_object_get(o, "mac")), r->mac) == 0 && ip &&
	    (!*ip || running_config_parse_ip(ip, &r->ip) == 0) &&
	    str_into(o, "hostname", r->hostname, sizeof(r->hostname)) == 0 &&
	    str_into(o, "bootfile", r->bootfile, sizeof(r->bootfile)) == 0 &&
	    str_into(o, "ipxe_script", r->ipxe_script, sizeof(r->ipxe_script)) == 0)
		rc = 0;
	json_decref(o);
	return rc;
}

/* One kv (or a deletion of its key) of reservations/: to the daemon's hook. */
static void resv_learn(struct cluster *c, json_t *kv, bool del)
{
	const char *k64 = json_string_value(json_object_get(kv, "key"));
	const char *v64 = json_string_value(json_object_get(kv, "value"));
	char key[KEY_MAX], val[16384];
	size_t pl = strlen(c->resv.prefix);
	struct cluster_resv *r;
	long kl, vl;

	if (!c->resv_fn || !k64 || (kl = etcd_unb64(k64, key, sizeof(key) - 1)) <= (long)pl)
		return;
	key[kl] = '\0';
	if (!(r = calloc(1, sizeof(*r)))) {
		ctl_log(LOG_ERR, "cluster: %s: out of memory; change not applied", key);
		return;
	}
	if (del) {
		if (parse_mac(key + pl, r->r.mac) == 0)
			c->resv_fn(c->resv_arg, r, true);
	} else if (!v64 || (vl = etcd_unb64(v64, val, sizeof(val))) < 0 ||
		   cluster_resv_parse(val, (size_t)vl, r) < 0) {
		ctl_log(LOG_WARNING,
			"cluster: %s: not a reservation this server understands; ignored", key);
	} else {
		c->resv_fn(c->resv_arg, r, false);
	}
	free(r);
}

void cluster_set_resv_hook(struct cluster *c, cluster_resv_fn *fn, void *arg)
{
	c->resv_fn = fn;
	c->resv_arg = arg;
}

struct resv_write {
	struct cluster *c;
	cluster_done_fn *fn;
	void *arg;
	uint64_t cookie;
};

static void on_resv_written(void *arg, int rc, json_t *resp, const char *err)
{
	struct resv_write *w = arg;

	note(w->c, rc, err);
	w->fn(w->arg, w->cookie, rc, err);
	free(w);
}

/* Put value (len bytes; NULL = out of memory) at key, or delete key (del); fn(arg, cookie)
 * when etcd answered. A reservation, a template and an image are written alike. */
static int shared_write(struct cluster *c, const char *key, const char *value, size_t len, bool del,
			cluster_done_fn *fn, void *arg, uint64_t cookie)
{
	struct resv_write *w;
	json_t *body = NULL;

	if (!del && !value)
		return -ENOMEM;
	if (!(w = calloc(1, sizeof(*w))))
		return -ENOMEM;
	*w = (struct resv_write){c, fn, arg, cookie};
	if (del) {
		body = json_pack("{s:o}", "key", b64s(key));
	} else {
		char *v64 = etcd_b64(value, len);

		body = v64 ? json_pack("{s:o, s:s}", "key", b64s(key), "value", v64) : NULL;
		free(v64);
	}
	if (!body ||
	    etcd_client_call(c->etcd, ETCD_LANE_KV, del ? "/v3/kv/deleterange" : "/v3/kv/put", body,
			     on_resv_written, w) < 0) {
		free(w);
		return -ENOMEM;
	}
	return 0;
}

int cluster_resv_write(struct cluster *c, const struct sbcfg_reservation *r,
		       const char (*patterns)[SBCFG_NAME_MAX], bool del, cluster_done_fn *fn,
		       void *arg, uint64_t cookie)
{
	char key[KEY_MAX], m[18];
	char *v = del ? NULL : cluster_resv_value(r, patterns);
	int rc;

	snprintf(key, sizeof(key), "%s%s", c->resv.prefix, running_config_fmt_mac(r->mac, m));
	rc = shared_write(c, key, v, v ? strlen(v) : 0, del, fn, arg, cookie);
	free(v);
	return rc;
}

/* ---- shared templates ---- */

static void tmpl_learn(struct cluster *c, json_t *kv, bool del)
{
	const char *k64 = json_string_value(json_object_get(kv, "key"));
	const char *v64 = json_string_value(json_object_get(kv, "value"));
	size_t pl = strlen(c->tmpl.prefix);
	char key[KEY_MAX];
	long kl, vl = 0;
	char *text = NULL;

	if (!c->tmpl_fn || !k64 || (kl = etcd_unb64(k64, key, sizeof(key) - 1)) <= (long)pl)
		return;
	key[kl] = '\0';
	if (del) {
		c->tmpl_fn(c->tmpl_arg, key + pl, NULL, 0, true);
		return;
	}
	size_t cap = v64 ? strlen(v64) / 4 * 3 + 1 : 1;
	if (!(text = malloc(cap)))
		return;
	if (v64 && (vl = etcd_unb64(v64, text, cap - 1)) < 0) {
		free(text);
		return;
	}
	text[vl] = '\0';
	c->tmpl_fn(c->tmpl_arg, key + pl, text, (size_t)vl, false);
	free(text);
}

void cluster_set_tmpl_hook(struct cluster *c, cluster_tmpl_fn *fn, void *arg)
{
	c->tmpl_fn = fn;
	c->tmpl_arg = arg;
}

int cluster_tmpl_write(struct cluster *c, const char *name, const char *text, size_t len, bool del,
		       cluster_done_fn *fn, void *arg, uint64_t cookie)
{
	char key[KEY_MAX + sizeof(c->tmpl.prefix)];

	if (strlen(name) >= KEY_MAX)
		return -EINVAL;
	snprintf(key, sizeof(key), "%s%s", c->tmpl.prefix, name);
	return shared_write(c, key, text, len, del, fn, arg, cookie);
}

/* ---- local reservations pushed at start ---- */

/* After the first read of reservations/: the MACs etcd has, to the daemon, which pushes the
 * reservations only its own config file has. */
static void resv_loaded(struct cluster *c, json_t *kvs)
{
	size_t pl = strlen(c->resv.prefix), n = 0, i;
	uint8_t(*macs)[6] = calloc(json_array_size(kvs) + 1, 6);
	json_t *kv;

	if (!macs || !c->resv_loaded_fn) {
		free(macs);
		return;
	}
	json_array_foreach(kvs, i, kv)
	{
		const char *k64 = json_string_value(json_object_get(kv, "key"));
		char key[KEY_MAX];
		long kl;

		if (k64 && (kl = etcd_unb64(k64, key, sizeof(key) - 1)) > (long)pl) {
			key[kl] = '\0';
			if (parse_mac(key + pl, macs[n]) == 0)
				n++;
		}
	}
	c->resv_loaded_fn(c->resv_arg, (const uint8_t(*)[6])macs, n);
	free(macs);
}

void cluster_set_resv_loaded_hook(struct cluster *c, cluster_resv_loaded_fn *fn)
{
	c->resv_loaded_fn = fn;
}

struct resv_push {
	struct cluster *c;
	char mac[18];
};

static void on_resv_pushed(void *arg, int rc, json_t *resp, const char *err)
{
	struct resv_push *w = arg;

	note(w->c, rc, err);
	if (rc < 0)
		ctl_log(LOG_ERR,
			"cluster: reservation %s of the config file not pushed to etcd: %s", w->mac,
			err);
	else if (json_is_true(json_object_get(resp, "succeeded")))
		ctl_log(LOG_INFO, "cluster: reservation %s of the config file pushed to etcd",
			w->mac);
	else
		ctl_log(LOG_INFO,
			"cluster: reservation %s: another server pushed it first; etcd's applies",
			w->mac);
	free(w);
}

int cluster_resv_push(struct cluster *c, const struct sbcfg_reservation *r,
		      const char (*patterns)[SBCFG_NAME_MAX])
{
	struct resv_push *w = calloc(1, sizeof(*w));
	char key[KEY_MAX], *v = NULL, *v64 = NULL;
	json_t *body = NULL;

	if (!w)
		return -ENOMEM;
	w->c = c;
	running_config_fmt_mac(r->mac, w->mac);
	snprintf(key, sizeof(key), "%s%s", c->resv.prefix, w->mac);
	if ((v = cluster_resv_value(r, patterns)) && (v64 = etcd_b64(v, strlen(v))))
		/* only if absent: a reservation another server wrote meanwhile is not replaced */
		body = json_pack("{s:[{s:o, s:s, s:s, s:o}], s:[{s:{s:o, s:s}}]}", "compare", "key",
				 b64s(key), "target", "CREATE", "result", "EQUAL",
				 "create_revision", i64s(0), "success", "request_put", "key",
				 b64s(key), "value", v64);
	free(v);
	free(v64);
	if (!body ||
	    etcd_client_call(c->etcd, ETCD_LANE_KV, "/v3/kv/txn", body, on_resv_pushed, w) < 0) {
		free(w);
		return -ENOMEM;
	}
	return 0;
}

/* ---- shared image metadata ---- */

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

static void img_learn(struct cluster *c, json_t *kv, bool del)
{
	const char *k64 = json_string_value(json_object_get(kv, "key"));
	const char *v64 = json_string_value(json_object_get(kv, "value"));
	size_t pl = strlen(c->img.prefix);
	char key[KEY_MAX], val[2048], name[SBCFG_NAME_MAX], sha[SBCFG_SHA256_HEX];
	char source[SBCFG_PATH_MAX];
	long kl, vl;

	if (!c->img_fn || !k64 || (kl = etcd_unb64(k64, key, sizeof(key) - 1)) <= (long)pl)
		return;
	key[kl] = '\0';
	if (del) {
		c->img_fn(c->img_arg, key + pl, NULL, NULL, true);
		return;
	}
	if (!v64 || (vl = etcd_unb64(v64, val, sizeof(val))) < 0 ||
	    cluster_image_parse(val, (size_t)vl, name, sha, source) < 0 ||
	    strcmp(name, key + pl) != 0) {
		ctl_log(LOG_WARNING, "cluster: %s: not an image this server understands; ignored",
			key);
		return;
	}
	c->img_fn(c->img_arg, name, sha, source, false);
}

void cluster_set_image_hook(struct cluster *c, cluster_image_fn *fn, void *arg)
{
	c->img_fn = fn;
	c->img_arg = arg;
}

int cluster_image_write(struct cluster *c, const char *name, const char *sha256, const char *source,
			bool del, cluster_done_fn *fn, void *arg, uint64_t cookie)
{
	char key[KEY_MAX + sizeof(c->img.prefix)];
	char *v;
	int rc;

	if (strlen(name) >= KEY_MAX)
		return -EINVAL;
	snprintf(key, sizeof(key), "%s%s", c->img.prefix, name);
	v = del ? NULL : cluster_image_value(name, sha256, source);
	rc = shared_write(c, key, v, v ? strlen(v) : 0, del, fn, arg, cookie);
	free(v);
	return rc;
}

/* ---- the shared config document (config_share.h): one key, PREFIX "config" ---- */

/* A kv of the range prefix/config*: only the exact key is the document. */
static void conf_learn(struct cluster *c, json_t *kv, bool del)
{
	const char *k64 = json_string_value(json_object_get(kv, "key"));
	const char *v64 = json_string_value(json_object_get(kv, "value"));
	int64_t rev = etcd_json_int(json_object_get(kv, "mod_revision"));
	char key[KEY_MAX + 32];
	long kl, vl = 0;
	char *val;

	if (!c->conf_fn || !k64 || (kl = etcd_unb64(k64, key, sizeof(key) - 1)) < 0)
		return;
	key[kl] = '\0';
	if (strcmp(key, c->conf_key) != 0)
		return;
	if (del) {
		c->conf_fn(c->conf_arg, NULL, 0, rev, false);
		return;
	}
	size_t cap = v64 ? strlen(v64) / 4 * 3 + 4 : 4;
	if (!(val = malloc(cap))) {
		ctl_log(LOG_ERR, "cluster: %s: out of memory; change not applied", key);
		return;
	}
	if (v64 && (vl = etcd_unb64(v64, val, cap - 1)) < 0)
		vl = 0;
	val[vl] = '\0';
	c->conf_fn(c->conf_arg, val, (size_t)vl, rev, true);
	free(val);
}

/* After the first read: say so when etcd has no document (the daemon pushes its own). */
static void conf_loaded(struct cluster *c, json_t *kvs)
{
	size_t i;
	json_t *kv;

	json_array_foreach(kvs, i, kv)
	{
		const char *k64 = json_string_value(json_object_get(kv, "key"));
		char key[KEY_MAX + 32];
		long kl = k64 ? etcd_unb64(k64, key, sizeof(key) - 1) : -1;

		if (kl >= 0 && (key[kl] = '\0', strcmp(key, c->conf_key) == 0))
			return;
	}
	if (c->conf_fn)
		c->conf_fn(c->conf_arg, NULL, 0, 0, false);
}

void cluster_set_config_hook(struct cluster *c, cluster_config_fn *fn, void *arg)
{
	c->conf_fn = fn;
	c->conf_arg = arg;
}

int cluster_config_write(struct cluster *c, const char *value, size_t len, cluster_done_fn *fn,
			 void *arg, uint64_t cookie)
{
	return shared_write(c, c->conf_key, value, len, false, fn, arg, cookie);
}

struct conf_push {
	struct cluster *c;
	cluster_done_fn *fn;
	void *arg;
};

static void on_conf_pushed(void *arg, int rc, json_t *resp, const char *err)
{
	struct conf_push *w = arg;

	note(w->c, rc, err);
	if (rc == 0 && !json_is_true(json_object_get(resp, "succeeded")))
		rc = -EEXIST;
	w->fn(w->arg, 0, rc, rc == -EEXIST ? "another server pushed it first" : err);
	free(w);
}

int cluster_config_push(struct cluster *c, const char *value, size_t len, cluster_done_fn *fn,
			void *arg)
{
	struct conf_push *w = calloc(1, sizeof(*w));
	char *v64 = etcd_b64(value, len);
	json_t *body = NULL;

	if (w && v64) /* only if absent: a document another server wrote meanwhile stays */
		body = json_pack("{s:[{s:o, s:s, s:s, s:o}], s:[{s:{s:o, s:s}}]}", "compare", "key",
				 b64s(c->conf_key), "target", "CREATE", "result", "EQUAL",
				 "create_revision", i64s(0), "success", "request_put", "key",
				 b64s(c->conf_key), "value", v64);
	free(v64);
	if (!body) {
		free(w);
		return -ENOMEM;
	}
	*w = (struct conf_push){c, fn, arg};
	if (etcd_client_call(c->etcd, ETCD_LANE_KV, "/v3/kv/txn", body, on_conf_pushed, w) < 0) {
		free(w);
		return -ENOMEM;
	}
	return 0;
}

/* ---- shared key sets: read once, then watched from the revision read ---- */

static void on_shared_watch(void *arg, int rc, json_t *result, const char *err)
{
	struct shared_set *set = arg;
	size_t i;
	json_t *ev;

	(void)err;
	if (rc < 0)
		return; /* the lease watch logs the same breakage */
	json_array_foreach(json_object_get(result, "events"), i, ev)
	{
		const char *t = json_string_value(json_object_get(ev, "type"));
		set->learn(set->c, json_object_get(ev, "kv"), t && strcmp(t, "DELETE") == 0);
	}
}

static void on_shared_load(void *arg, int rc, json_t *resp, const char *err)
{
	struct shared_set *set = arg;
	struct cluster *c = set->c;
	size_t i;
	json_t *kv;

	set->inflight = false;
	note(c, rc, err);
	if (rc < 0)
		return;
	json_array_foreach(json_object_get(resp, "kvs"), i, kv) set->learn(c, kv, false);
	set->loaded = true;
	if (set->loaded_fn)
		set->loaded_fn(c, json_object_get(resp, "kvs"));
	ctl_log(LOG_INFO, "cluster: %zu shared %s read from etcd",
		json_array_size(json_object_get(resp, "kvs")), set->what);
	int64_t rev = etcd_json_int(json_object_get(json_object_get(resp, "header"), "revision"));
	if (etcd_client_watch(c->etcd, set->prefix, rev + 1, on_shared_watch, set) < 0)
		ctl_log(LOG_ERR, "cluster: cannot watch the shared %s", set->what);
}

static void shared_load(struct shared_set *set)
{
	char *end = etcd_prefix_end_b64(set->prefix);
	json_t *body =
		end ? json_pack("{s:o, s:s}", "key", b64s(set->prefix), "range_end", end) : NULL;

	free(end);
	if (body && etcd_client_call(set->c->etcd, ETCD_LANE_KV, "/v3/kv/range", body,
				     on_shared_load, set) == 0)
		set->inflight = true;
}

/* ---- registration and members ---- */

static void on_register(void *arg, int rc, json_t *resp, const char *err)
{
	struct cluster *c = arg;

	c->session_inflight = false;
	note(c, rc, err);
	if (rc == 0 && !c->registered) {
		c->registered = true;
		ctl_log(LOG_INFO, "cluster: %s registered in etcd (lease %lld, TTL %u s)",
			c->cfg.server_id, (long long)c->lease_id, c->cfg.lease_ttl_s);
	}
	update_buckets(c);
}

static void do_register(struct cluster *c)
{
	char key[KEY_MAX];
	json_t *val = json_pack("{s:s, s:I}", "server_id", c->cfg.server_id, "started",
				(json_int_t)now_s(c));
	char *v = val ? json_dumps(val, JSON_COMPACT) : NULL,
	     *v64 = v ? etcd_b64(v, strlen(v)) : NULL;
	json_decref(val);
	free(v);
	snprintf(key, sizeof(key), "%s%s", c->server_prefix, c->cfg.server_id);
	json_t *body = v64 ? json_pack("{s:o, s:s, s:o}", "key", b64s(key), "value", v64, "lease",
				       i64s(c->lease_id))
			   : NULL;
	free(v64);
	if (body &&
	    etcd_client_call(c->etcd, ETCD_LANE_SESSION, "/v3/kv/put", body, on_register, c) == 0)
		c->session_inflight = true;
}

static void on_grant(void *arg, int rc, json_t *resp, const char *err)
{
	struct cluster *c = arg;

	c->session_inflight = false;
	note(c, rc, err);
	if (rc < 0)
		return;
	c->lease_id = etcd_json_int(json_object_get(resp, "ID"));
	if (c->lease_id)
		do_register(c);
}

static void on_keepalive(void *arg, int rc, json_t *resp, const char *err)
{
	struct cluster *c = arg;

	c->session_inflight = false;
	note(c, rc, err);
	if (rc < 0) {
		update_buckets(c);
		return;
	}
	if (etcd_json_int(json_object_get(json_object_get(resp, "result"), "TTL")) <= 0) {
		ctl_log(LOG_ERR, "cluster: %s's etcd lease %lld expired: registering again",
			c->cfg.server_id, (long long)c->lease_id);
		c->lease_id = 0;
		c->registered = false;
	}
	update_buckets(c);
}

static long session_tick(struct ev_loop *l, long long id, void *arg)
{
	struct cluster *c = arg;
	long period = (long)c->cfg.lease_ttl_s * 1000 / 3;

	if (!c->loaded && !c->load_inflight)
		load(c);
	if (c->resv_fn && !c->resv.loaded && !c->resv.inflight)
		shared_load(&c->resv);
	if (c->tmpl_fn && !c->tmpl.loaded && !c->tmpl.inflight)
		shared_load(&c->tmpl);
	if (c->img_fn && !c->img.loaded && !c->img.inflight)
		shared_load(&c->img);
	if (c->conf_fn && !c->conf.loaded && !c->conf.inflight)
		shared_load(&c->conf);
	if (c->session_inflight)
		return period;
	if (!c->lease_id) {
		json_t *b = json_pack("{s:o}", "TTL", i64s(c->cfg.lease_ttl_s));
		if (b && etcd_client_call(c->etcd, ETCD_LANE_SESSION, "/v3/lease/grant", b,
					  on_grant, c) == 0)
			c->session_inflight = true;
	} else if (!c->registered) {
		do_register(c);
	} else {
		json_t *b = json_pack("{s:o}", "ID", i64s(c->lease_id));
		if (b && etcd_client_call(c->etcd, ETCD_LANE_SESSION, "/v3/lease/keepalive", b,
					  on_keepalive, c) == 0)
			c->session_inflight = true;
	}
	update_buckets(c);
	return period;
}

static void on_members(void *arg, int rc, json_t *resp, const char *err)
{
	struct cluster *c = arg;
	size_t i, pl = strlen(c->server_prefix);
	json_t *kv;

	c->members_inflight = false;
	note(c, rc, err);
	if (rc == 0) {
		c->n_servers = 0;
		json_array_foreach(json_object_get(resp, "kvs"), i, kv)
		{
			char key[KEY_MAX];
			const char *k64 = json_string_value(json_object_get(kv, "key"));
			long kl = k64 ? etcd_unb64(k64, key, sizeof(key) - 1) : -1;

			if (kl <= (long)pl || kl - (long)pl >= SBCFG_CLUSTER_ID_MAX ||
			    c->n_servers == CLUSTER_SERVERS_MAX)
				continue;
			key[kl] = '\0';
			snprintf(c->servers[c->n_servers++], SBCFG_CLUSTER_ID_MAX, "%s", key + pl);
		}
	}
	update_buckets(c);
}

static long members_tick(struct ev_loop *l, long long id, void *arg)
{
	struct cluster *c = arg;
	char *end = etcd_prefix_end_b64(c->server_prefix);

	if (!c->members_inflight && end) {
		json_t *b = json_pack("{s:o, s:s, s:b}", "key", b64s(c->server_prefix), "range_end",
				      end, "keys_only", 1);
		if (b && etcd_client_call(c->etcd, ETCD_LANE_SESSION, "/v3/kv/range", b, on_members,
					  c) == 0)
			c->members_inflight = true;
	}
	free(end);
	update_buckets(c);
	return CLUSTER_MEMBERS_MS;
}

/* ---- life and status ---- */

struct cluster *cluster_new(struct ev_loop *loop, struct dataplane_link *dp,
			    const struct sbcfg_cluster *cfg, struct ctl_clock clock, char *err,
			    size_t errlen)
{
	struct cluster *c = calloc(1, sizeof(*c));

	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->loop = loop;
	c->dp = dp;
	c->cfg = *cfg;
	c->clock = clock;
	c->session_timer = c->members_timer = -1;
	snprintf(c->lease_prefix, sizeof(c->lease_prefix), "%sleases/", cfg->prefix);
	snprintf(c->server_prefix, sizeof(c->server_prefix), "%sservers/", cfg->prefix);
	c->resv =
		(struct shared_set){c, "reservations", resv_learn, resv_loaded, {0}, false, false};
	c->tmpl = (struct shared_set){c, "templates", tmpl_learn, NULL, {0}, false, false};
	c->img = (struct shared_set){c, "images", img_learn, NULL, {0}, false, false};
	snprintf(c->resv.prefix, sizeof(c->resv.prefix), "%sreservations/", cfg->prefix);
	snprintf(c->tmpl.prefix, sizeof(c->tmpl.prefix), "%stemplates/", cfg->prefix);
	snprintf(c->img.prefix, sizeof(c->img.prefix), "%simages/", cfg->prefix);
	c->conf = (struct shared_set){c, "config documents", conf_learn, conf_loaded, {0}, false, false};
	snprintf(c->conf.prefix, sizeof(c->conf.prefix), "%sconfig", cfg->prefix);
	snprintf(c->conf_key, sizeof(c->conf_key), "%sconfig", cfg->prefix);
	if (!(c->etcd = etcd_client_new(loop, cfg, err, errlen))) {
		free(c);
		return NULL;
	}
	/* Until registered this server answers no client (an empty map, not "every client"). */
	update_buckets(c);
	c->session_timer = ev_timer_add(loop, 1, session_tick, c);
	c->members_timer = ev_timer_add(loop, 1, members_tick, c);
	ctl_log(LOG_INFO, "cluster: %s with etcd at %s%s (prefix %s)", cfg->server_id,
		cfg->endpoints[0], cfg->n_endpoints > 1 ? " and others" : "", cfg->prefix);
	return c;
}

void cluster_free(struct cluster *c)
{
	if (!c)
		return;
	if (c->session_timer > 0)
		ev_timer_del(c->loop, c->session_timer);
	if (c->members_timer > 0)
		ev_timer_del(c->loop, c->members_timer);
	etcd_client_free(c->etcd);
	free(c->tab);
	free(c->q);
	free(c->batch);
	free(c);
}

void cluster_get_stats(const struct cluster *c, struct cluster_stats *out)
{
	*out = c->st;
}

json_t *cluster_status_json(struct cluster *c)
{
	struct etcd_client_stats es;
	json_t *servers = json_array();

	/* the bucket map as readiness is now (the tick that would update it may be 500 ms away) */
	update_buckets(c);
	etcd_client_get_stats(c->etcd, &es);
	char map[65];
	json_t *o;

	for (size_t i = 0; servers && i < c->n_servers; i++)
		json_array_append_new(servers, json_string(c->servers[i]));
	/* bit b of byte b / 8: which RFC 3074 buckets this server answers (tests, operators) */
	for (unsigned i = 0; i < 32; i++)
		snprintf(map + 2 * i, 3, "%02x", c->map[i]);
	o = json_pack("{s:s, s:b, s:b, s:{s:b, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I}, s:o, s:i, "
		      "s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}}",
		      "server_id", c->cfg.server_id, "ready", cluster_ready(c), "registered",
		      c->registered, "etcd", "reachable", c->etcd_ok, "endpoint", es.endpoint,
		      "last_error", c->last_error, "requests", (json_int_t)es.requests, "failures",
		      (json_int_t)es.failures, "timeouts", (json_int_t)es.timeouts, "watch_events",
		      (json_int_t)es.watch_events, "watch_reconnects",
		      (json_int_t)es.watch_reconnects, "ms_since_reply",
		      (json_int_t)(c->last_ok_ms ? ev_now_ms() - c->last_ok_ms : (uint64_t)-1 >> 1),
		      "servers", servers ? servers : json_array(), "buckets_owned", (int)c->owned,
		      "leases", "submitted", (json_int_t)c->st.submitted, "committed",
		      (json_int_t)c->st.committed, "queued", (json_int_t)c->q_n, "txns",
		      (json_int_t)c->st.txns, "txn_conflicts", (json_int_t)c->st.txn_conflicts,
		      "refused_in_use", (json_int_t)c->st.refused_in_use, "refused_etcd",
		      (json_int_t)c->st.refused_etcd, "refused_timeout",
		      (json_int_t)c->st.refused_timeout, "batch_max", (json_int_t)c->st.batch_max,
		      "commit_us_avg",
		      (json_int_t)(c->st.txns ? c->st.commit_us_sum / c->st.txns : 0),
		      "commit_us_max", (json_int_t)c->st.commit_us_max, "foreign_pushed",
		      (json_int_t)c->st.foreign_pushed, "address_keys", (json_int_t)c->tab_n);
	if (o)
		json_object_set_new(o, "bucket_map", json_string(map));
	return o;
}
