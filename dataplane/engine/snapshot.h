/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctlsnap.h - config snapshots from stormboot-control, swapped under the lcores with RCU.
 *
 * A snapshot is a whole struct engine copy that the control thread builds off the hot
 * path (config parsed, images read into hugepages, catalog, lease pool, DHCP server) and
 * publishes through one pointer. Every lcore adopts the published engine and reports a
 * quiescent state once per poll loop (rte_rcu_qsbr); worker 0, the lease pool's only
 * writer, carries the bound leases into the new pool as it adopts it. A replaced engine
 * is freed after the grace period AND once every lcore has been seen with no TFTP
 * session open: sessions started before the swap keep reading its images and limits, so
 * no transfer is cut. Fields that shape ports, queues and XDP maps cannot change.
 *
 * Control's leases (LEASES_SNAPSHOT after a connect, LEASE_REVOKE after a lease-release)
 * reach the pool the same way: posted as a job on a ring, applied by worker 0 when it
 * adopts, freed back on the control thread.
 *
 * Threads: snapshot_init/apply/post_leases/retire/fini on the control thread (fini after
 * the lcores returned), snapshot_adopt/worker_exit on each lcore for itself. No lock.
 */
#ifndef SB_ENG_CTLSNAP_H
#define SB_ENG_CTLSNAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_rcu_qsbr.h>

#include "chan.h"
#include "engine.h"

struct snapshot;

struct snapshots {
	struct engine *base;	  /* main()'s engine: served until the first snapshot */
	struct engine *published; /* RCU-protected, written by the control thread only */
	struct rte_rcu_qsbr *qs;
	struct snapshot *retired;	   /* replaced, waiting until no transfer reads them */
	struct rte_ring *jobs, *jobs_done; /* lease jobs: thread -> worker 0 -> thread */
	bool leases_restored;		   /* worker 0: a LEASES_SNAPSHOT was applied */
	bool registered[RTE_MAX_LCORE];	   /* by worker idx, written by that worker only */
	volatile bool stopping;		   /* set before the lcores are told to leave */
	uint64_t applied, refused, freed;
};

/* Control thread, before the lcores are launched: RCU state for base's workers. */
int snapshot_init(struct snapshots *s, struct engine *base);

/*
 * Control thread: build a snapshot from a config (JSON) and publish it, waiting for the
 * grace period. 1: json is the running config (nothing done); 0: published; negative
 * errno with the reason in err (the running config is kept).
 */
int snapshot_apply(struct snapshots *s, const char *json, size_t len, char *err, size_t errlen);

/*
 * Control thread: hand control's leases to worker 0's pool, restored (LEASES_SNAPSHOT) or
 * released (revoke, LEASE_REVOKE). 0, -ENOMEM or -ENOBUFS (job ring full).
 */
int snapshot_post_leases(struct snapshots *s, bool revoke, const struct chan_lease *v, size_t n);

/*
 * Control thread, periodically: free the lease jobs worker 0 finished and the replaced
 * engines no transfer reads any more.
 */
void snapshot_retire(struct snapshots *s);

/*
 * Each lcore, once per poll loop outside packet handling: adopt the published engine
 * (worker 0 first carries its bound leases into the new pool) and report the quiescent
 * state; worker 0 then applies control's lease jobs. Returns the engine to use (also
 * stored in w->eng).
 */
struct engine *snapshot_adopt(struct snapshots *s, struct eng_worker *w, uint64_t tsc);

/* An lcore leaving its loop: it no longer takes part in grace periods. */
void snapshot_worker_exit(struct snapshots *s, struct eng_worker *w);

/*
 * After the lcores returned: free every replaced engine and move the published one's
 * contents into base, so main()'s cleanup frees exactly what is left.
 */
void snapshot_fini(struct snapshots *s);

#endif
