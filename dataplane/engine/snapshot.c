/* SPDX-License-Identifier: BSD-3-Clause */
/* snapshot.c - one config as the lcores serve it, swapped under them with RCU (snapshot.h). */
#include "snapshot.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_malloc.h>
#include <rte_ring.h>

#include "log.h"
#include "pkt.h"
#include "sbcfg_json.h"

enum { JOB_RESTORE = 1, JOB_REVOKE, JOB_PREFER };
struct job {
	int type;
	size_t n;
	uint32_t ok, failed;
	uint64_t map[4]; /* JOB_PREFER: lease_prefer()'s segments */
	struct chan_lease v[];
};

/* ---- one snapshot ---- */

/*
 * The cached image of config entry ci, read now if new or changed (logged then): 1 if read,
 * 0 if found in the cache, or negative errno.
 */
static int image_get(struct eng_runtime *rt, const struct sbcfg_image *ci, struct eng_image **out,
		     char *err, size_t errlen)
{
	uint64_t t0 = rte_get_tsc_cycles();
	bool was_read;
	char hex[65];
	int rc;

	rc = eng_image_cache_get_pinned(&rt->images, ci->name, ci->path, ci->sha256, out,
					&was_read, err, errlen);
	if (rc == 0 && was_read) {
		eng_image_sha256_hex(*out, hex);
		ENG_LOG(INFO, "image %s: %zu bytes sha256 %s (%s), read in %" PRIu64 " ms",
			ci->name, (*out)->size, hex, ci->path,
			eng_clock_scale(rte_get_tsc_cycles() - t0, 1000, rte_get_tsc_hz()));
	}
	return rc < 0 ? rc : was_read;
}

int snapshot_preload_images(struct eng_runtime *rt, const struct sbcfg *cfg, char *err,
			    size_t errlen)
{
	struct eng_image *img;
	int rc;

	for (size_t i = 0; i < cfg->n_images; i++) {
		if ((rc = image_get(rt, &cfg->images[i], &img, err, errlen)) < 0)
			return rc;
		eng_image_put(img); /* kept in the cache for snapshot_build */
	}
	return 0;
}

void snapshot_free(struct snapshot *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; s->images && i < s->cfg.n_images; i++)
		if (s->images[i])
			eng_image_put(s->images[i]);
	rte_free(s->images);
	rte_free(s->cat_images);
	rte_free(s->cat_entries);
	rte_free(s->lease_mem);
	sbcfg_free(&s->cfg);
	rte_free(s);
}

/*
 * Images and the catalog over them; cat_images[k] is the image of catalog entry k. The
 * catalog is made over the names alone (catalog_init sorts and checks them, and would scan
 * every image for its netascii size at every reload); each entry then gets its image's
 * bytes and the sizes and hash the cache computed once, when it read the file.
 */
static int catalog_build(struct eng_runtime *rt, struct snapshot *s, char *err, size_t errlen)
{
	size_t n = s->cfg.n_images, sz = (n ? n : 1) * sizeof(void *);
	int rc;

	s->images = rte_zmalloc_socket("sb_snap_images", sz, 0, rt->socket);
	s->cat_images = rte_zmalloc_socket("sb_snap_images", sz, 0, rt->socket);
	s->cat_entries = rte_zmalloc_socket("sb_catalog", (n ? n : 1) * sizeof(*s->cat_entries), 0,
					    rt->socket);
	if (!s->images || !s->cat_images || !s->cat_entries) {
		snprintf(err, errlen, "images: no memory for the catalog of %zu images", n);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		if ((rc = image_get(rt, &s->cfg.images[i], &s->images[i], err, errlen)) < 0)
			return rc;
		s->images_read += (size_t)rc;
		snprintf(s->cat_entries[i].name, sizeof(s->cat_entries[i].name), "%s",
			 s->cfg.images[i].name);
	}
	if ((rc = catalog_init(&s->catalog, s->cat_entries, n)) < 0) {
		snprintf(err, errlen, "images: %s (duplicate or invalid image name?)",
			 strerror(-rc));
		return rc;
	}
	for (size_t i = 0; i < n; i++) {
		const char *name = s->cfg.images[i].name;
		const struct catalog_entry *ce =
			catalog_lookup(&s->catalog, name, strlen(name), &rc);
		const struct eng_image *img = s->images[i];
		struct catalog_entry *e;

		if (ce == NULL) {
			snprintf(err, errlen, "image \"%s\": not found in the catalog made of it",
				 name);
			return -EINVAL;
		}
		e = &s->cat_entries[ce - s->catalog.entries];
		e->data = img->data;
		e->size = img->size;
		e->netascii_size = img->netascii_size;
		memcpy(e->sha256, img->sha256, sizeof(e->sha256));
		s->cat_images[ce - s->catalog.entries] = s->images[i];
	}
	return 0;
}

int snapshot_build(struct eng_runtime *rt, struct sbcfg *cfg, struct snapshot **out, char *err,
		   size_t errlen)
{
	const size_t room =
		RTE_MBUF_DEFAULT_DATAROOM - PKT_ETH_HLEN - PKT_MAX_VLANS * PKT_VLAN_HLEN;
	struct snapshot *s =
		rte_zmalloc_socket("sb_snapshot", sizeof(*s), RTE_CACHE_LINE_SIZE, rt->socket);
	int rc;

	*out = NULL;
	if (s == NULL) {
		sbcfg_free(cfg);
		snprintf(err, errlen, "out of hugepage memory for a config snapshot");
		return -ENOMEM;
	}
	s->cfg = *cfg; /* owned by the snapshot from here */
	if ((rc = catalog_build(rt, s, err, errlen)) < 0)
		goto fail;
	if (s->cfg.dhcp.mode == SBCFG_DHCP_FULL) {
		size_t sz = lease_pool_memsize(&s->cfg.dhcp);

		s->lease_mem = rte_zmalloc_socket("sb_leases", sz, RTE_CACHE_LINE_SIZE, rt->socket);
		if (s->lease_mem == NULL) {
			snprintf(err, errlen, "dhcp: lease pool: no hugepage memory for %zu bytes",
				 sz);
			rc = -ENOMEM;
			goto fail;
		}
		s->leases = lease_pool_init(s->lease_mem, sz, &s->cfg.dhcp, &rc);
		if (s->leases == NULL) {
			snprintf(err, errlen,
				 "dhcp: lease pool: %s (overlapping or inverted pools)",
				 strerror(-rc));
			goto fail;
		}
	}
	if (s->cfg.dhcp.mode != SBCFG_DHCP_OFF &&
	    (rc = dhcp_server_init(&s->dhcp, &s->cfg, s->leases, s->cfg.server_ip)) < 0) {
		snprintf(err, errlen, "dhcp: %s", strerror(-rc));
		goto fail;
	}
	/* One frame must fit the port's MTU and one mbuf, whatever the file says. */
	s->tftp = s->cfg.tftp;
	if (s->tftp.mtu > rt->port.mtu)
		s->tftp.mtu = rt->port.mtu;
	if (s->tftp.mtu > room)
		s->tftp.mtu = (uint16_t)room;
	if (s->cfg.server_mac[0] | s->cfg.server_mac[1] | s->cfg.server_mac[2] |
	    s->cfg.server_mac[3] | s->cfg.server_mac[4] | s->cfg.server_mac[5])
		memcpy(s->mac, s->cfg.server_mac, 6);
	else
		memcpy(s->mac, rt->port.mac.addr_bytes, 6);
	*out = s;
	return 0;
fail:
	snapshot_free(s);
	return rc;
}

/* ---- publication (control thread) ---- */

int snapshot_init(struct snapshots *s, struct eng_runtime *rt)
{
	size_t sz = rte_rcu_qsbr_get_memsize(rt->n_workers);

	s->rt = rt;
	s->qs = rte_zmalloc("sb_qsbr", sz, RTE_CACHE_LINE_SIZE);
	if (s->qs == NULL || rte_rcu_qsbr_init(s->qs, rt->n_workers) < 0)
		return -ENOMEM;
	for (unsigned int i = 0; i < rt->n_workers; i++) {
		rte_rcu_qsbr_thread_register(s->qs, i);
		rte_rcu_qsbr_thread_online(s->qs, i);
	}
	s->jobs = rte_ring_create("sb_ctl_jobs", 64, rt->socket, RING_F_SC_DEQ);
	s->jobs_done =
		rte_ring_create("sb_ctl_done", 64, rt->socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
	return s->jobs && s->jobs_done ? 0 : -ENOMEM;
}

/* Fields the running dataplane cannot change: they shape ports, queues, XDP maps. */
/* Whether a file of s's images changed since it was read. */
static bool snapshot_files_changed(const struct snapshot *s)
{
	for (size_t i = 0; i < s->cfg.n_images; i++)
		if (s->images[i] && eng_image_changed(s->images[i]))
			return true;
	return false;
}

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
	/* the guard is written into the XDP maps at start (port.c); a reload would not apply it */
	if (!sbcfg_guard_equal(&a->guard, &b->guard))
		return "guard";
	if (a->dhcp.mode != b->dhcp.mode)
		return "dhcp.mode";
	if (a->tftp.port_lo != b->tftp.port_lo || a->tftp.port_hi != b->tftp.port_hi)
		return "tftp.transfer_ports";
	if (a->tftp.max_sessions != b->tftp.max_sessions)
		return "tftp.max_sessions";
	return NULL;
}

/*
 * Publish n; free the snapshot it replaces once no lcore can see it: after the grace period
 * (every lcore passed a quiescent state), and once worker 0, which reads the old lease pool
 * after its quiescent state to carry the leases over, has adopted n.
 */
static void publish(struct snapshots *s, struct snapshot *n)
{
	struct eng_runtime *rt = s->rt;
	struct eng_worker *w0 = rt->workers[0];
	struct snapshot *old = rt->snap;
	uint64_t token;

	__atomic_store_n(&rt->snap, n, __ATOMIC_RELEASE);
	token = rte_rcu_qsbr_start(s->qs);
	while (!rte_rcu_qsbr_check(s->qs, token, false) ||
	       __atomic_load_n(&w0->snap, __ATOMIC_ACQUIRE) != n) {
		if (s->stopping || eng_force_quit) {
			old->next = s->retired; /* the lcores are leaving: not under them */
			s->retired = old;
			return;
		}
		usleep(50);
	}
	snapshot_free(old);
	s->freed++;
}

int snapshot_apply(struct snapshots *s, const char *json, size_t len, char *err, size_t errlen)
{
	struct eng_runtime *rt = s->rt;
	struct snapshot *n;
	struct sbcfg cfg;
	const char *what;
	uint64_t bytes;
	size_t freed;
	int rc;

	if (sbcfg_load_buffer(json, len, "<control>", &cfg, err, errlen) < 0) {
		s->refused++;
		return -EINVAL;
	}
	/* The running config (e.g. the file both processes were started with), and its files
	 * as they were read: nothing to do. A file changed in place (tftp_root) is read again. */
	if (sbcfg_equal(&cfg, &rt->snap->cfg) && !snapshot_files_changed(rt->snap)) {
		sbcfg_free(&cfg);
		return 1;
	}
	if ((what = immutable_diff(&rt->snap->cfg, &cfg)) != NULL) {
		snprintf(err, errlen, "%s: changing it needs a dataplane restart", what);
		sbcfg_free(&cfg);
		s->refused++;
		return -EINVAL;
	}
	if ((rc = snapshot_build(rt, &cfg, &n, err, errlen)) < 0) {
		s->refused++;
		return rc;
	}
	publish(s, n);
	s->applied++;
	/* What only the replaced snapshot held (and no transfer reads) goes now. */
	if ((freed = eng_image_cache_collect(&rt->images, &bytes)) > 0)
		ENG_LOG(INFO, "image cache: %zu image(s) no longer used freed (%" PRIu64 " bytes)",
			freed, bytes);
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

int snapshot_post_prefer(struct snapshots *s, const uint64_t map[4])
{
	struct job *j = calloc(1, sizeof(*j));

	if (j == NULL)
		return -ENOMEM;
	j->type = JOB_PREFER;
	memcpy(j->map, map, sizeof(j->map));
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
		if (j->type == JOB_PREFER) {
			memcpy(s->prefer, j->map, sizeof(s->prefer));
			s->prefer_set = true;
			if (p)
				lease_prefer(p, s->prefer);
		}
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
	struct job *j;
	uint64_t bytes;
	size_t freed;

	while (rte_ring_sc_dequeue(s->jobs_done, (void **)&j) == 0) {
		/* in cluster mode other servers' leases come in small batches all the time: only
		 * the large ones and the refusals are worth a line */
		if (j->type == JOB_RESTORE && (j->failed || j->n >= 256))
			ENG_LOG(INFO, "control: %u leases restored, %u refused", j->ok, j->failed);
		free(j);
	}
	/* Images of replaced configs whose last transfer just ended. */
	if ((freed = eng_image_cache_collect(&s->rt->images, &bytes)) > 0)
		ENG_LOG(INFO,
			"image cache: %zu image(s) freed after their last transfer (%" PRIu64
			" bytes)",
			freed, bytes);
}

/* ---- adoption (each lcore) ---- */

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

void snapshot_adopt(struct snapshots *s, struct eng_worker *w, uint64_t tsc)
{
	struct snapshot *n;

	/* First: nothing read before this point is used after it (but worker 0's old pool). */
	rte_rcu_qsbr_quiescent(s->qs, w->idx);
	n = __atomic_load_n(&s->rt->snap, __ATOMIC_ACQUIRE);
	if (unlikely(n != w->snap)) {
		/*
		 * Worker 0 owns the lease pool: carry bound leases into the new one first. The
		 * old snapshot is not freed before it sees n in w->snap (publish()).
		 */
		if (w->idx == 0 && w->snap->leases && n->leases) {
			struct move_arg m = {n->leases, eng_clock_unix_s(&w->rt->clock, tsc)};

			lease_foreach(w->snap->leases, m.now, move_lease, &m);
		}
		if (w->idx == 0 && s->prefer_set && n->leases) /* cluster mode: still ours */
			lease_prefer(n->leases, s->prefer);
		__atomic_store_n(&w->snap, n, __ATOMIC_RELEASE);
		w->sess.client_cap = n->cfg.tftp.max_sessions_per_client; /* reloadable */
	}
	if (w->idx == 0 && unlikely(!rte_ring_empty(s->jobs)))
		run_jobs(s, n->leases, eng_clock_unix_s(&w->rt->clock, tsc));
}

void snapshot_worker_exit(struct snapshots *s, struct eng_worker *w)
{
	rte_rcu_qsbr_thread_offline(s->qs, w->idx);
	rte_rcu_qsbr_thread_unregister(s->qs, w->idx);
}

void snapshot_fini(struct snapshots *s)
{
	while (s->retired) { /* the lcores are gone: nothing reads these any more */
		struct snapshot *r = s->retired;

		s->retired = r->next;
		snapshot_free(r);
	}
	for (struct job *j; rte_ring_sc_dequeue(s->jobs, (void **)&j) == 0 ||
			    rte_ring_sc_dequeue(s->jobs_done, (void **)&j) == 0;)
		free(j);
	rte_ring_free(s->jobs);
	rte_ring_free(s->jobs_done);
	rte_free(s->qs);
	s->qs = NULL;
}
