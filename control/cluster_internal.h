/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cluster_internal.h - what the cluster_*.c modules share: struct cluster and the calls one
 * module makes into another. Not for the rest of control (cluster.h, cluster_shared.h are).
 *
 *   cluster.c          life, health (etcd answers?), readiness, status
 *   cluster_members.c  registration under an etcd lease, the live set, the bucket map
 *   cluster_commit.c   the lease commit queue and its group transactions
 *   cluster_leases.c   the address table: what etcd holds of each address, other servers' leases
 *   cluster_shared.c   the shared key sets (reservations, templates, images): read, watched,
 * written cluster_values.c   pure: values in etcd as JSON text, the bucket hash
 */
#ifndef SB_CLUSTER_INTERNAL_H
#define SB_CLUSTER_INTERNAL_H

#include <time.h>

#include "cluster.h"
#include "cluster_refusal.h"

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

/* A key set every server shares (reservations, templates): read once, then watched. */
struct shared_set {
	struct cluster *c;
	const char *what; /* for the log: "reservations", "templates" */
	void (*learn)(struct cluster *c, json_t *kv, bool deleted);
	void (*loaded_fn)(struct cluster *c, json_t *kvs); /* after the first read, or NULL */
	char prefix[SBCFG_CLUSTER_PREFIX_MAX + 16];
	bool loaded, inflight;
	/* what this server applied of it (cluster_apply.c): the highest revision seen, and the
	 * one up to which every change is in effect here (published as applied/ID) */
	int64_t seen_rev, applied_rev;
	bool untracked; /* not published (applied/ itself) */
};

#define CLUSTER_SETS_MAX 16

/* A change of a shared set in effect here only when the daemon calls cluster_apply_done. */
struct apply_hold {
	uint64_t token;
	struct shared_set *set;
	int64_t rev;
};

struct apply_wait; /* an API change waiting for the other servers (cluster_apply.c) */

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
	/* the sets whose progress this server publishes, and applied/ (everyone's progress):
	 * a new shared set appends itself to sets[] (cluster_shared_init) to have its API
	 * writes (shared_write) wait for every live server and its deletes leave tombstones */
	struct shared_set *sets[CLUSTER_SETS_MAX];
	size_t n_sets;
	struct shared_set applied;
	struct shared_set *cur_set; /* during a learn call: its set and the kv's revision */
	int64_t cur_rev;
	struct apply_hold *holds;
	size_t n_holds, cap_holds;
	uint64_t next_token;
	bool publish_dirty, publish_inflight;
	json_t *peers; /* {"ID": {"reservations": R, ...}} from applied/ */
	struct apply_wait *waits;
	struct cluster_refusals refusals; /* this server's last refusals, published in applied/ID */
	char tomb_prefix[SBCFG_CLUSTER_PREFIX_MAX + 16]; /* PREFIX "deleted/" */
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

static inline uint64_t cluster_now_s(const struct cluster *c)
{
	return ctl_clock_now(&c->clock);
}

static inline uint64_t cluster_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* cluster.c: an etcd reply's outcome into the health state (rc 0: etcd answers). */
void cluster_note(struct cluster *c, int rc, const char *err);
/* JSON strings of etcd's gateway: s base64-encoded, v as decimal text. */
json_t *cluster_b64s(const char *s);
json_t *cluster_i64s(int64_t v);

/* cluster_values.c */
uint64_t cluster_mix64(uint64_t x);
int cluster_parse_mac(const char *s, uint8_t mac[6]);

/* cluster_members.c: the bucket map from the live set (none while not ready); the timers. */
void cluster_update_buckets(struct cluster *c);
void cluster_members_start(struct cluster *c);
void cluster_members_stop(struct cluster *c);

/* cluster_leases.c */
struct centry *cluster_addr_find(struct cluster *c, uint32_t ip);
struct centry *cluster_addr_get(struct cluster *c, uint32_t ip); /* added when absent */
void cluster_lease_key(const struct cluster *c, uint32_t ip, char *key, size_t cap);
/* One kv of etcd, or a deletion of its key (del), into the table; another server's live
 * lease (every live one: all) appended to *push when push is given. */
void cluster_addr_learn(struct cluster *c, json_t *kv, bool del, bool all, struct chan_lease **push,
			size_t *n_push, size_t *cap_push);
/* v[0..n) (calloc'd, freed here) to the dataplane's pool. */
void cluster_foreign_push(struct cluster *c, struct chan_lease *v, size_t n);
/* Read leases/ once (then watched) when not done yet. */
void cluster_leases_load(struct cluster *c);

/* cluster_shared.c: the prefixes and learn callbacks of the shared sets; their first reads. */
void cluster_shared_init(struct cluster *c);
void cluster_shared_tick(struct cluster *c);

/* cluster_apply.c: "in effect on every live server when the API answers" */
/* applied/'s learn callback: another server's progress. */
void cluster_apply_learn(struct cluster *c, json_t *kv, bool del);
/* set's progress may have moved (after a learn, a hold's end): published when it did. */
void cluster_apply_progress(struct cluster *c, struct shared_set *set);
/* Registered (again): this server's progress written under its new etcd lease. */
void cluster_apply_registered(struct cluster *c);
/* The live set changed: waiting changes checked again. */
void cluster_apply_members(struct cluster *c);
/* A write of set (NULL: none known) landed at revision rev: fn(arg, cookie, 0, msg) once every
 * other live server applied rev, or cluster.apply_wait_ms passed (msg names who has not). */
void cluster_apply_wait(struct cluster *c, struct shared_set *set, int64_t rev, cluster_done_fn *fn,
			void *arg, uint64_t cookie);
void cluster_apply_free(struct cluster *c);

#endif
