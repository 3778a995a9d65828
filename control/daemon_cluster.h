/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * daemon_cluster.h - stormboot-control's daemon in cluster mode (docs/SCALE-OUT.md): starts the
 * cluster and gives it the hooks through which etcd's shared reservations and templates reach
 * the running config and HTTP boot.
 */
#ifndef SB_DAEMON_CLUSTER_H
#define SB_DAEMON_CLUSTER_H

#include "daemon.h"

/* Start cluster mode (d's config has "cluster"): the cluster, its lease commits and hooks.
 * When it cannot start, every lease is refused (logged) until a restart. */
void daemon_cluster_start(struct daemon *d, struct ctl_clock clock);

/*
 * Cluster mode: apply a shared reservation (from etcd, or written there by this server's API)
 * to the running config: r replaces the reservation of its MAC, or with deleted, that one
 * goes (none: nothing to do). A config change like any other (done may be NULL).
 */
void daemon_shared_resv(struct daemon *d, const struct cluster_resv *r, bool deleted,
			daemon_change_done_fn *done, void *done_arg, uint64_t cookie);

/*
 * status's "cluster" object (docs/SCALE-OUT.md): cluster_status_json with "shared" (the shared
 * sets' counters, the waits for the other servers); NULL when d is not in cluster mode. Also
 * what the metrics listener renders (stormboot_cluster_*, docs/METRICS.md).
 */
json_t *daemon_cluster_status(struct daemon *d);

#endif
