/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * snapshot.h - one configuration as the lcores serve it, and how a new one replaces it.
 *
 * A snapshot is everything derived from one config: the config, its TFTP limits (the MTU
 * clamped to the port's and to one mbuf), the source MAC, references to its images in the
 * runtime's image cache, the catalog over them, the lease pool and the DHCP server. One
 * function builds it, at start (main) and at every reload (the control thread); only the
 * images that are new or changed since they were read are read again (image_cache.h).
 *
 * A reload publishes the new snapshot in rt->snap and waits for an RCU grace period
 * (rte_rcu_qsbr: every lcore reports a quiescent state once per poll loop, outside packet
 * handling) and for worker 0 to have adopted it; the snapshot it replaced is freed right
 * then, transfers or not. No TFTP session reads its snapshot
 * after it started: it copied its limits into its state (tftp_session_start) and holds a
 * reference on its image (tftp_table.h), which stays until the session closes, whatever the
 * configs do meanwhile. Worker 0, the lease pool's only writer, carries the bound leases into
 * the new pool as it adopts the new snapshot. Fields that shape the port, the queues, the
 * session tables and the XDP maps cannot change (refused, naming the field).
 *
 * Control's leases (LEASES_SNAPSHOT after a connect, LEASE_REVOKE after a lease-release)
 * reach the pool as jobs on a ring, applied by worker 0 when it adopts, freed back on the
 * control thread.
 *
 * Threads: snapshot_preload_images/build/free in main() before the launch and on the control
 * thread; snapshot_init/apply/post_leases/retire/fini on the control thread (init before the
 * launch, fini after the lcores returned); snapshot_adopt/worker_exit on each lcore for
 * itself. No lock.
 */
#ifndef SB_ENG_SNAPSHOT_H
#define SB_ENG_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_rcu_qsbr.h>

#include "catalog.h"
#include "chan.h"
#include "dhcp_server.h"
#include "engine.h"
#include "lease.h"
#include "sbcfg.h"

struct snapshot {
	struct sbcfg cfg;
	struct sbcfg_tftp tftp;	       /* cfg.tftp, the MTU clamped to the port and one mbuf */
	uint8_t mac[6];		       /* our source MAC: cfg.server_mac, else the port's */
	struct eng_image **images;     /* cfg.n_images references, in config order */
	struct eng_image **cat_images; /* the same images by catalog entry (catalog order) */
	struct catalog_entry *cat_entries;
	struct catalog catalog;
	void *lease_mem;
	struct lease_pool *leases; /* full DHCP server only */
	struct dhcp_server dhcp;
	size_t images_read; /* of cfg.n_images: read from files by this build (not cached) */
	struct snapshot *next;
};

/*
 * main(), before the port is set up: read cfg's images into the cache (nobody holds them
 * until snapshot_build does), so that a missing or unreadable image refuses the start with
 * the interface untouched. 0 or negative errno, the image and the cause in err.
 */
int snapshot_preload_images(struct eng_runtime *rt, const struct sbcfg *cfg, char *err,
			    size_t errlen);

/*
 * Build the snapshot of cfg over rt (its port, image cache and socket) into *out. cfg's heap
 * memory belongs to the snapshot from here on, also on failure. 0, or negative errno with the
 * cause in err (an image, the catalog, the lease pool, the DHCP server, memory).
 */
int snapshot_build(struct eng_runtime *rt, struct sbcfg *cfg, struct snapshot **out, char *err,
		   size_t errlen);

/* Free s and drop its image references (no lcore may see it any more). */
void snapshot_free(struct snapshot *s);

/* The cached image behind catalog entry ce of s (for a session's reference). */
static inline struct eng_image *snapshot_image(const struct snapshot *s,
					       const struct catalog_entry *ce)
{
	return s->cat_images[ce - s->catalog.entries];
}

/* The RCU state of the published snapshot (rt->snap), and control's lease jobs. */
struct snapshots {
	struct eng_runtime *rt;
	struct rte_rcu_qsbr *qs;
	struct snapshot *retired;	   /* replaced while the lcores stopped: freed at fini */
	struct rte_ring *jobs, *jobs_done; /* lease jobs: thread -> worker 0 -> thread */
	bool leases_restored;		   /* worker 0: a LEASES_SNAPSHOT was applied */
	bool prefer_set;		   /* worker 0: cluster mode, the segments it prefers */
	uint64_t prefer[4];
	volatile bool stopping;		   /* set before the lcores are told to leave */
	uint64_t applied, refused, freed;
};

/*
 * Control thread, before the lcores are launched: RCU state for rt's workers, each one
 * online from here on (a grace period waits for a worker that has not polled yet).
 */
int snapshot_init(struct snapshots *s, struct eng_runtime *rt);

/*
 * Control thread: build a snapshot from a config (JSON), publish it, wait for the grace
 * period and free the one it replaced. 1: json is the running config (nothing done); 0:
 * published; negative errno with the reason in err (the running config is kept).
 */
int snapshot_apply(struct snapshots *s, const char *json, size_t len, char *err, size_t errlen);

/*
 * Control thread: hand control's leases to worker 0's pool, restored (LEASES_SNAPSHOT) or
 * released (revoke, LEASE_REVOKE). 0, -ENOMEM or -ENOBUFS (job ring full).
 */
int snapshot_post_leases(struct snapshots *s, bool revoke, const struct chan_lease *v, size_t n);

/* Control thread, cluster mode: worker 0's pool prefers these segments (lease_prefer), in
 * this pool and every later one. 0, -ENOMEM or -ENOBUFS. */
int snapshot_post_prefer(struct snapshots *s, const uint64_t map[4]);

/*
 * Control thread, periodically: free the lease jobs worker 0 finished and the images that
 * neither a snapshot nor a TFTP session holds any more.
 */
void snapshot_retire(struct snapshots *s);

/*
 * Each lcore, once per poll loop outside packet handling: report the quiescent state (the
 * lcore holds no snapshot it read before), then adopt the published snapshot into w->snap
 * (worker 0 first carries its bound leases into the new pool); worker 0 then applies
 * control's lease jobs.
 */
void snapshot_adopt(struct snapshots *s, struct eng_worker *w, uint64_t tsc);

/* An lcore leaving its loop: it no longer takes part in grace periods. */
void snapshot_worker_exit(struct snapshots *s, struct eng_worker *w);

/*
 * After the lcores returned: free the snapshots replaced while they stopped and the RCU
 * state. The published one stays in rt->snap for main() to free.
 */
void snapshot_fini(struct snapshots *s);

#endif
