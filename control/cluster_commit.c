/* SPDX-License-Identifier: BSD-3-Clause */
/* cluster_commit.c - the lease commit queue: records the dataplane sends wait here, and go to
 * etcd as one transaction at a time (group commit), each key compared so one address is never
 * bound to two MACs across servers (see cluster.h). */
#include "cluster_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_array.h"
#include "ctl_log.h"
#include "lease_store.h"

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
	(void)lease_store_apply(c->dp->deps.store, &rel, cluster_now_s(c));
	if (status != -EADDRINUSE)
		return;
	dataplane_link_revoke(c->dp, &rel);
	e = cluster_addr_find(c, r->ev.ip);
	if (e && e->present && !e->ours && e->expires > cluster_now_s(c)) {
		struct chan_lease *l = calloc(1, sizeof(*l));
		if (!l)
			return;
		*l = (struct chan_lease){
			.expires = e->expires, .ip = e->ip, .event = CHAN_LEASE_BOUND};
		memcpy(l->mac, e->mac, 6);
		cluster_foreign_push(c, l, 1);
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

static void on_txn(void *arg, int rc, json_t *resp, const char *err);

void cluster_kick(struct cluster *c)
{
	uint64_t now = cluster_now_s(c), now_ms = ev_now_ms();
	json_t *cmp = NULL, *ok = NULL, *fail = NULL;
	bool refused = false;

	if (c->inflight || !c->q_n)
		return;
	c->n_batch = 0;
	while (c->q_n && c->n_batch < c->cfg.batch_max) {
		struct crec r = c->q[c->q_head];
		struct centry *e = cluster_addr_find(c, r.ev.ip);
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
		cluster_lease_key(c, r.ev.ip, key, sizeof(key));
		json_t *k = cluster_b64s(key);
		json_t *cm = e && e->present ? json_pack("{s:O, s:s, s:s, s:o}", "key", k, "target",
							 "MOD", "result", "EQUAL", "mod_revision",
							 cluster_i64s(e->mod_rev))
					     : json_pack("{s:O, s:s, s:s, s:s}", "key", k, "target",
							 "CREATE", "result", "EQUAL",
							 "create_revision", "0");
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
	c->inflight_since_us = cluster_mono_us();
	if (refused)
		dataplane_link_durable_flush(c->dp);
}

static void on_txn(void *arg, int rc, json_t *resp, const char *err)
{
	struct cluster *c = arg;
	uint64_t us = cluster_mono_us() - c->inflight_since_us;

	c->inflight = false;
	cluster_note(c, rc, err);
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
			struct centry *e = cluster_addr_get(c, r->ev.ip);

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
			struct centry *e = cluster_addr_get(c, c->batch[i].ev.ip);

			if (json_array_size(kvs))
				cluster_addr_learn(c, json_array_get(kvs, 0), false, false, NULL,
						   NULL, NULL);
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
