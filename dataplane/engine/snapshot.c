/* SPDX-License-Identifier: BSD-3-Clause */
/* ctlsnap.c - config snapshots swapped under the lcores with RCU (see ctlsnap.h). */
#include "snapshot.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_malloc.h>
#include <rte_ring.h>

#include "log.h"
#include "pkt.h"
#include "sbcfg_json.h"

/* A published engine, allocated here. Retired ones wait for the sessions that use them. */
struct snapshot {
	struct engine e; /* first: &snap->e is what the lcores see */
	struct snapshot *next;
	uint64_t idle_mask; /* workers seen with no TFTP session open since retirement */
	bool is_base;	    /* stands for main()'s engine (not allocated here) */
	bool in_grace;	    /* retired while lcores may still read it: freed at fini only */
};

enum { JOB_RESTORE = 1, JOB_REVOKE };
struct job {
	int type;
	size_t n;
	uint32_t ok, failed;
	struct chan_lease v[];
};

/* Free what an engine owns (not the engine itself, not what every engine shares). */
static void engine_release(struct engine *e)
{
	sbcfg_free(&e->cfg);
	eng_images_free(&e->images);
	rte_free(e->cat_entries);
	e->cat_entries = NULL;
	rte_free(e->lease_mem);
	e->lease_mem = NULL;
	e->leases = NULL;
}

static void snap_free(struct snapshots *s, struct snapshot *r)
{
	if (r->is_base) {
		engine_release(s->base);
		free(r);
	} else {
		engine_release(&r->e);
		rte_free(r);
	}
}

int snapshot_init(struct snapshots *s, struct engine *base)
{
	size_t sz = rte_rcu_qsbr_get_memsize(base->n_workers);

	s->base = s->published = base;
	s->qs = rte_zmalloc("sb_qsbr", sz, RTE_CACHE_LINE_SIZE);
	if (s->qs == NULL || rte_rcu_qsbr_init(s->qs, base->n_workers) < 0)
		return -ENOMEM;
	s->jobs = rte_ring_create("sb_ctl_jobs", 64, (int)rte_socket_id(), RING_F_SC_DEQ);
	s->jobs_done = rte_ring_create("sb_ctl_done", 64, (int)rte_socket_id(),
				       RING_F_SP_ENQ | RING_F_SC_DEQ);
	return s->jobs && s->jobs_done ? 0 : -ENOMEM;
}

/* Fields the running dataplane cannot change: they shape ports, queues, XDP maps. */
static const char *immutable_diff(const struct sbcfg *a, const struct sbcfg *b)
{
	if (strcmp(a->interface, b->interface))
		return "interface";
	if (strcmp(a->dpdk_port, b->dpdk_port))
		return "dpdk_port";
	if (strcmp(a->xdp_prog, b->xdp_prog))
		return "xdp_prog";
	if (a->queues != b->queues)
		return "queues";
	if (a->server_ip != b->server_ip)
		return "server_ip";
	if (a->ipv6_ra != b->ipv6_ra)
		return "ipv6_ra";
	if (a->dhcp.mode != b->dhcp.mode)
		return "dhcp.mode";
	if (a->tftp.port_lo != b->tftp.port_lo || a->tftp.port_hi != b->tftp.port_hi)
		return "tftp.transfer_ports";
	if (a->tftp.max_sessions != b->tftp.max_sessions)
		return "tftp.max_sessions";
	return NULL;
}

/* Everything main() derives from its config, derived again from e->cfg. */
static int engine_build(struct engine *e, int socket, char *err, size_t errlen)
{
	size_t room = RTE_MBUF_DEFAULT_DATAROOM - PKT_ETH_HLEN - PKT_MAX_VLANS * PKT_VLAN_HLEN;
	int rc;

	if ((rc = eng_images_load(&e->images, &e->cfg, socket, err, errlen)) < 0)
		return rc;
	e->cat_entries = rte_zmalloc_socket(
		"sb_catalog", (e->images.n ? e->images.n : 1) * sizeof(*e->cat_entries), 0, socket);
	if (e->cat_entries == NULL)
		goto nomem;
	for (size_t i = 0; i < e->images.n; i++) {
		struct catalog_entry *ce = &e->cat_entries[i];

		snprintf(ce->name, sizeof(ce->name), "%s", e->images.v[i].name);
		ce->data = e->images.v[i].data;
		ce->size = e->images.v[i].size;
		memcpy(ce->sha256, e->images.v[i].sha256, sizeof(ce->sha256));
	}
	if ((rc = catalog_init(&e->catalog, e->cat_entries, e->images.n)) < 0) {
		snprintf(err, errlen, "images: %s (duplicate or invalid name?)", strerror(-rc));
		return rc;
	}
	if (e->cfg.dhcp.mode == SBCFG_DHCP_FULL) {
		size_t sz = lease_pool_memsize(&e->cfg.dhcp);

		e->lease_mem = sz ? rte_zmalloc_socket("sb_leases", sz, RTE_CACHE_LINE_SIZE, socket)
				  : NULL;
		if (e->lease_mem == NULL)
			goto nomem;
		if (!(e->leases = lease_pool_init(e->lease_mem, sz, &e->cfg.dhcp, &rc))) {
			snprintf(err, errlen, "dhcp: lease pool: %s", strerror(-rc));
			return rc;
		}
	}
	if (e->cfg.dhcp.mode != SBCFG_DHCP_OFF &&
	    (rc = dhcp_server_init(&e->dhcp, &e->cfg, e->leases, e->cfg.server_ip)) < 0) {
		snprintf(err, errlen, "dhcp: %s", strerror(-rc));
		return rc;
	}
	/* As main(): one frame must fit the port's MTU and one mbuf, whatever the file says. */
	e->tftp_cfg = e->cfg.tftp;
	if (e->tftp_cfg.mtu > e->port.mtu)
		e->tftp_cfg.mtu = e->port.mtu;
	if (e->tftp_cfg.mtu > room)
		e->tftp_cfg.mtu = (uint16_t)room;
	if (e->cfg.server_mac[0] | e->cfg.server_mac[1] | e->cfg.server_mac[2] |
	    e->cfg.server_mac[3] | e->cfg.server_mac[4] | e->cfg.server_mac[5])
		memcpy(e->mac, e->cfg.server_mac, 6);
	else
		memcpy(e->mac, e->port.mac.addr_bytes, 6);
	return 0;
nomem:
	snprintf(err, errlen, "out of hugepage memory for the new config");
	return -ENOMEM;
}

/* The running engine with a new config: port, pool, clock and workers are shared. */
static struct snapshot *snap_build(struct snapshots *s, struct sbcfg *cfg, char *err, size_t errlen)
{
	const struct engine *cur = s->published;
	struct snapshot *r = rte_zmalloc("sb_snap", sizeof(*r), RTE_CACHE_LINE_SIZE);
	const char *what;
	int rc;

	if (r == NULL) {
		snprintf(err, errlen, "out of hugepage memory for a snapshot");
		sbcfg_free(cfg);
		return NULL;
	}
	r->e = *cur;
	r->e.cfg = *cfg; /* owned by the snapshot from here */
	memset(&r->e.images, 0, sizeof(r->e.images));
	r->e.cat_entries = NULL;
	r->e.lease_mem = NULL;
	r->e.leases = NULL;
	if ((what = immutable_diff(&cur->cfg, &r->e.cfg)) != NULL) {
		snprintf(err, errlen, "%s: changing it needs a dataplane restart", what);
		rc = -EINVAL;
	} else {
		rc = engine_build(&r->e, (int)rte_socket_id(), err, errlen);
	}
	if (rc < 0) {
		snap_free(s, r);
		return NULL;
	}
	return r;
}

/* Publish r; the engine it replaces is retired once no lcore can see it (grace period). */
static void snap_publish(struct snapshots *s, struct snapshot *r)
{
	struct engine *old = s->published;
	struct snapshot *o;
	bool in_grace = false;
	uint64_t token;

	__atomic_store_n(&s->published, &r->e, __ATOMIC_RELEASE);
	token = rte_rcu_qsbr_start(s->qs);
	while (!rte_rcu_qsbr_check(s->qs, token, false)) {
		if (s->stopping || eng_force_quit) {
			in_grace = true; /* lcores are leaving: free it at fini, not under them */
			break;
		}
		usleep(50);
	}
	if (old == s->base) {
		o = calloc(1, sizeof(*o));
		if (o == NULL)
			return; /* main()'s engine then keeps its contents until exit */
		o->is_base = true;
	} else {
		o = (struct snapshot *)(void *)old;
	}
	o->idle_mask = 0;
	o->in_grace = in_grace;
	o->next = s->retired;
	s->retired = o;
}

int snapshot_apply(struct snapshots *s, const char *json, size_t len, char *err, size_t errlen)
{
	struct snapshot *r;
	struct sbcfg cfg;

	if (sbcfg_load_buffer(json, len, "<control>", &cfg, err, errlen) < 0) {
		s->refused++;
		return -EINVAL;
	}
	/* The running config (e.g. the file both processes were started with). */
	if (sbcfg_equal(&cfg, &s->published->cfg)) {
		sbcfg_free(&cfg);
		return 1;
	}
	r = snap_build(s, &cfg, err, errlen);
	if (r == NULL) {
		s->refused++;
		return -EINVAL;
	}
	snap_publish(s, r);
	s->applied++;
	return 0;
}

int snapshot_post_leases(struct snapshots *s, bool revoke, const struct chan_lease *v, size_t n)
{
	struct job *j = malloc(sizeof(*j) + n * sizeof(*v));

	if (j == NULL)
		return -ENOMEM;
	j->type = revoke ? JOB_REVOKE : JOB_RESTORE;
	j->n = n;
	j->ok = j->failed = 0;
	memcpy(j->v, v, n * sizeof(*v));
	if (rte_ring_mp_enqueue(s->jobs, j) < 0) {
		free(j);
		return -ENOBUFS;
	}
	return 0;
}

/* Worker 0: apply control's lease jobs to the pool it owns. */
static void run_jobs(struct snapshots *s, struct lease_pool *p, uint64_t now_unix)
{
	struct job *j;

	while (rte_ring_sc_dequeue(s->jobs, (void **)&j) == 0) {
		for (size_t i = 0; p && i < j->n; i++) {
			struct lease_info li = {
				.ip = j->v[i].ip, .state = LEASE_BOUND, .expires = j->v[i].expires};
			int rc;

			memcpy(li.mac, j->v[i].mac, 6);
			if (j->type == JOB_RESTORE)
				rc = lease_restore(p, &li, now_unix);
			else if (memcmp(li.mac, "\0\0\0\0\0", 6) == 0)
				rc = -EINVAL;
			else
				rc = lease_release(p, li.mac, li.ip, now_unix);
			if (rc == 0)
				j->ok++;
			else
				j->failed++;
		}
		if (j->type == JOB_RESTORE)
			s->leases_restored = true;
		if (rte_ring_sp_enqueue(s->jobs_done, j) < 0)
			j->failed |= 0x80000000u; /* leaked rather than freed under a reader */
	}
}

void snapshot_retire(struct snapshots *s)
{
	const struct engine *b = s->base;
	uint64_t all = b->n_workers >= 64 ? UINT64_MAX : (1ull << b->n_workers) - 1;
	struct job *j;

	while (rte_ring_sc_dequeue(s->jobs_done, (void **)&j) == 0) {
		if (j->type == JOB_RESTORE)
			ENG_LOG(INFO, "control: %u leases restored, %u refused", j->ok, j->failed);
		free(j);
	}

	for (struct snapshot **p = &s->retired; *p;) {
		struct snapshot *r = *p;

		/* Sessions opened after the grace period use the new engine: one look at an
		 * lcore with none open proves that every older one is over. */
		for (unsigned int i = 0; i < b->n_workers && i < 64; i++)
			if (__atomic_load_n(&b->workers[i]->sess.n_active, __ATOMIC_RELAXED) == 0)
				r->idle_mask |= 1ull << i;
		if (r->in_grace || (r->idle_mask & all) != all) {
			p = &r->next;
			continue;
		}
		*p = r->next;
		ENG_LOG(INFO, "control: retired config %s freed (no transfer reads it any more)",
			r->is_base ? "(start-up)" : "snapshot");
		snap_free(s, r);
		s->freed++;
	}
}

struct move_arg {
	struct lease_pool *to;
	uint64_t now;
};

static int move_lease(const struct lease_info *l, void *arg)
{
	const struct move_arg *m = arg;

	if (l->state == LEASE_BOUND) /* offers are not carried over: the client asks again */
		(void)lease_restore(m->to, l, m->now);
	return 0;
}

struct engine *snapshot_adopt(struct snapshots *s, struct eng_worker *w, uint64_t tsc)
{
	struct engine *n;

	/* Online before the first look at the pointer: a grace period must wait for us. */
	if (unlikely(!s->registered[w->idx])) {
		rte_rcu_qsbr_thread_register(s->qs, w->idx);
		rte_rcu_qsbr_thread_online(s->qs, w->idx);
		s->registered[w->idx] = true;
	}
	n = __atomic_load_n(&s->published, __ATOMIC_ACQUIRE);
	if (unlikely(n != w->eng)) {
		/* Worker 0 owns the lease pool: carry bound leases into the new one first. */
		if (w->idx == 0 && w->eng->leases && n->leases) {
			struct move_arg m = {n->leases, eng_clock_unix_s(&n->clock, tsc)};

			lease_foreach(w->eng->leases, m.now, move_lease, &m);
		}
		w->eng = n;
	}
	rte_rcu_qsbr_quiescent(s->qs, w->idx);
	if (w->idx == 0 && unlikely(!rte_ring_empty(s->jobs)))
		run_jobs(s, n->leases, eng_clock_unix_s(&n->clock, tsc));
	return n;
}

void snapshot_worker_exit(struct snapshots *s, struct eng_worker *w)
{
	if (!s->registered[w->idx])
		return;
	rte_rcu_qsbr_thread_offline(s->qs, w->idx);
	rte_rcu_qsbr_thread_unregister(s->qs, w->idx);
	s->registered[w->idx] = false;
}

void snapshot_fini(struct snapshots *s)
{
	struct engine *b = s->base, *p = s->published;

	while (s->retired) { /* the lcores are gone: nothing reads these any more */
		struct snapshot *r = s->retired;

		s->retired = r->next;
		snap_free(s, r);
	}
	if (p != b) { /* hand the contents over: main()'s cleanup frees them once */
		b->cfg = p->cfg;
		b->images = p->images;
		b->cat_entries = p->cat_entries;
		b->lease_mem = p->lease_mem;
		b->leases = p->leases;
		rte_free(p); /* struct snapshot starts with its engine */
		s->published = b;
	}
	for (struct job *j; rte_ring_sc_dequeue(s->jobs, (void **)&j) == 0 ||
			    rte_ring_sc_dequeue(s->jobs_done, (void **)&j) == 0;)
		free(j);
	rte_ring_free(s->jobs);
	rte_ring_free(s->jobs_done);
	rte_free(s->qs);
	s->qs = NULL;
}
