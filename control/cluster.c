/* SPDX-License-Identifier: BSD-3-Clause */
/* cluster.c - cluster mode's life, health and status (see cluster.h); the parts live in
 * cluster_members.c, cluster_commit.c, cluster_leases.c, cluster_shared.c, cluster_values.c. */
#include "cluster_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_log.h"

json_t *cluster_b64s(const char *s)
{
	char *b = etcd_b64(s, strlen(s));
	json_t *j = b ? json_string(b) : NULL;
	free(b);
	return j;
}

json_t *cluster_i64s(int64_t v)
{
	char b[24];
	snprintf(b, sizeof(b), "%lld", (long long)v);
	return json_string(b);
}

/* ---- health ---- */

void cluster_note(struct cluster *c, int rc, const char *err)
{
	if (rc == 0) {
		uint64_t now = ev_now_ms();

		/* etcd not reached for lease_ttl_s: the registration lapsed there (the others
		 * took the buckets); registered again before this server counts as ready, rather
		 * than ready at the first answer and not again at the keepalive's */
		if (c->registered && c->last_ok_ms &&
		    now - c->last_ok_ms >= (uint64_t)c->cfg.lease_ttl_s * 1000) {
			ctl_log(LOG_ERR,
				"cluster: %s: etcd not reached for %llu ms (lease_ttl_s %u): its "
				"registration lapsed; registering again",
				c->cfg.server_id, (unsigned long long)(now - c->last_ok_ms),
				c->cfg.lease_ttl_s);
			c->registered = false;
			c->lease_id = 0;
			c->st.registration_lapses++;
		}
		c->last_ok_ms = now;
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
	cluster_shared_init(c);
	if (!(c->etcd = etcd_client_new(loop, cfg, err, errlen))) {
		free(c);
		return NULL;
	}
	/* Until registered this server answers no client (an empty map, not "every client"). */
	cluster_update_buckets(c);
	cluster_members_start(c);
	ctl_log(LOG_INFO, "cluster: %s with etcd at %s%s (prefix %s)", cfg->server_id,
		cfg->endpoints[0], cfg->n_endpoints > 1 ? " and others" : "", cfg->prefix);
	return c;
}

void cluster_free(struct cluster *c)
{
	if (!c)
		return;
	cluster_members_stop(c);
	cluster_apply_free(c); /* the waiting API changes answered, cancelled */
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
	cluster_update_buckets(c);
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
	if (o) {
		json_t *l = json_object_get(o, "leases");

		json_object_set_new(o, "bucket_map", json_string(map));
		json_object_set_new(o, "bucket_changes",
				    json_integer((json_int_t)c->st.bucket_changes));
		json_object_set_new(o, "registration_lapses",
				    json_integer((json_int_t)c->st.registration_lapses));
		/* the total too (Prometheus: a sum and a count, rates over any window) */
		json_object_set_new(l, "commit_us_sum",
				    json_integer((json_int_t)c->st.commit_us_sum));
	}
	return o;
}
