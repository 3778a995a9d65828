/* SPDX-License-Identifier: BSD-3-Clause */
/* cluster_members.c - this server's registration under an etcd lease (kept alive), the live
 * set read every CLUSTER_MEMBERS_MS, and the RFC 3074 bucket map given to the dataplane. */
#include "cluster_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_log.h"

/* The bucket map from the live set, or none while this server is not ready. */
void cluster_update_buckets(struct cluster *c)
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

static void on_register(void *arg, int rc, json_t *resp, const char *err)
{
	struct cluster *c = arg;

	c->session_inflight = false;
	cluster_note(c, rc, err);
	/* (lease_id 0: it lapsed meanwhile, cluster_note; the session tick grants again) */
	if (rc == 0 && c->lease_id && !c->registered) {
		c->registered = true;
		ctl_log(LOG_INFO, "cluster: %s registered in etcd (lease %lld, TTL %u s)",
			c->cfg.server_id, (long long)c->lease_id, c->cfg.lease_ttl_s);
	}
	if (rc == 0 && c->registered)
		cluster_apply_registered(c);
	cluster_update_buckets(c);
}

static void do_register(struct cluster *c)
{
	char key[KEY_MAX];
	json_t *val = json_pack("{s:s, s:I}", "server_id", c->cfg.server_id, "started",
				(json_int_t)cluster_now_s(c));
	char *v = val ? json_dumps(val, JSON_COMPACT) : NULL,
	     *v64 = v ? etcd_b64(v, strlen(v)) : NULL;
	json_decref(val);
	free(v);
	snprintf(key, sizeof(key), "%s%s", c->server_prefix, c->cfg.server_id);
	json_t *body = v64 ? json_pack("{s:o, s:s, s:o}", "key", cluster_b64s(key), "value", v64,
				       "lease", cluster_i64s(c->lease_id))
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
	cluster_note(c, rc, err);
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
	cluster_note(c, rc, err);
	if (rc < 0) {
		cluster_update_buckets(c);
		return;
	}
	if (c->lease_id &&
	    etcd_json_int(json_object_get(json_object_get(resp, "result"), "TTL")) <= 0) {
		ctl_log(LOG_ERR, "cluster: %s's etcd lease %lld expired: registering again",
			c->cfg.server_id, (long long)c->lease_id);
		c->lease_id = 0;
		c->registered = false;
		c->st.registration_lapses++;
	}
	cluster_update_buckets(c);
}

static long session_tick(struct ev_loop *l, long long id, void *arg)
{
	struct cluster *c = arg;
	long period = (long)c->cfg.lease_ttl_s * 1000 / 3;

	if (!c->loaded && !c->load_inflight)
		cluster_leases_load(c);
	cluster_shared_tick(c);
	if (c->session_inflight)
		return period;
	if (!c->lease_id) {
		json_t *b = json_pack("{s:o}", "TTL", cluster_i64s(c->cfg.lease_ttl_s));
		if (b && etcd_client_call(c->etcd, ETCD_LANE_SESSION, "/v3/lease/grant", b,
					  on_grant, c) == 0)
			c->session_inflight = true;
	} else if (!c->registered) {
		do_register(c);
	} else {
		json_t *b = json_pack("{s:o}", "ID", cluster_i64s(c->lease_id));
		if (b && etcd_client_call(c->etcd, ETCD_LANE_SESSION, "/v3/lease/keepalive", b,
					  on_keepalive, c) == 0)
			c->session_inflight = true;
	}
	cluster_update_buckets(c);
	return period;
}

static void on_members(void *arg, int rc, json_t *resp, const char *err)
{
	struct cluster *c = arg;
	size_t i, pl = strlen(c->server_prefix);
	json_t *kv;

	c->members_inflight = false;
	cluster_note(c, rc, err);
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
		cluster_apply_members(c); /* a server gone: a change waiting for it may end */
	}
	cluster_update_buckets(c);
}

static long members_tick(struct ev_loop *l, long long id, void *arg)
{
	struct cluster *c = arg;
	char *end = etcd_prefix_end_b64(c->server_prefix);

	if (!c->members_inflight && end) {
		json_t *b = json_pack("{s:o, s:s, s:b}", "key", cluster_b64s(c->server_prefix),
				      "range_end", end, "keys_only", 1);
		if (b && etcd_client_call(c->etcd, ETCD_LANE_SESSION, "/v3/kv/range", b, on_members,
					  c) == 0)
			c->members_inflight = true;
	}
	free(end);
	cluster_update_buckets(c);
	return CLUSTER_MEMBERS_MS;
}

void cluster_members_start(struct cluster *c)
{
	c->session_timer = ev_timer_add(c->loop, 1, session_tick, c);
	c->members_timer = ev_timer_add(c->loop, 1, members_tick, c);
}

void cluster_members_stop(struct cluster *c)
{
	if (c->session_timer > 0)
		ev_timer_del(c->loop, c->session_timer);
	if (c->members_timer > 0)
		ev_timer_del(c->loop, c->members_timer);
	c->session_timer = c->members_timer = -1;
}
