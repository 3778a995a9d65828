/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cluster_apply.h - "in effect on every live server when the API answers" (docs/SCALE-OUT.md).
 *
 * Each server, once the changes of a shared set (reservations, templates, images) up to etcd
 * revision R are in effect here (the daemon applied them, as one server's API means it),
 * writes PREFIX "applied/" ID = {"reservations": R, "templates": R, "images": R} under its
 * registration's etcd lease (a dead server's key goes with it). Every server follows applied/
 * with a watch. A change made through a server's API lands in etcd at revision R; the API
 * answers once every other live server (servers/) has applied R in that set, or at
 * cluster.apply_wait_ms naming those that have not (the write stands; counted in
 * apply_timeouts). A change made with etcdctl has no API to wait on: it is in effect on each
 * server within its watch delay. A server that refuses a change publishes the refusal in the
 * same value (cluster_refusal.h); the API then answers "in effect on K of N live servers;
 * refused by ID: why" (counted in apply_refused).
 */
#ifndef SB_CLUSTER_APPLY_H
#define SB_CLUSTER_APPLY_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cluster_refusal.h"

struct cluster;

/*
 * Inside a shared set's hook (cluster_resv_fn, cluster_tmpl_fn, cluster_image_fn): the change
 * the hook starts ends later (a config change waiting for the dataplane). The set's progress
 * stops before the change's revision until cluster_apply_done(c, token). 0 outside a hook
 * (then cluster_apply_done does nothing).
 */
uint64_t cluster_apply_hold(struct cluster *c);
void cluster_apply_done(struct cluster *c, uint64_t token);

/*
 * This server refuses the change of hold token (0: the change of the hook being run; nothing
 * outside one): why (short, cut at CLUSTER_REFUSAL_WHY_MAX) is published with the change's
 * set and revision in applied/ID, so the API waiting on it answers "in effect on K of N live
 * servers; refused by ID: why" (cluster_refusal.h). Call before cluster_apply_done(token).
 */
void cluster_apply_refused(struct cluster *c, uint64_t token, const char *why);

/*
 * The API's answer (an api_reply/api_fail line for api_server_reply) to a change made on this
 * server first, then written to etcd (image-add/-del, config-share): rc < 0 (not in etcd):
 * "WHAT: in effect on this server only, NOT shared through etcd: OTHERS (run it again once etcd
 * answers)", OTHERS being the error; else LOCAL (the outcome here) and, when there is one,
 * "; OTHERS" (what the other live servers did, from the write's cluster_done_fn).
 */
char *cluster_written_reply(const char *what, const char *local, int rc, const char *others);

/* {"applied": {"reservations": R, ...}, "apply_waits", "apply_timeouts", "apply_wait_us_avg",
 * "apply_wait_us_max", "apply_holds",
 * "apply_refused", "refused_here", "refused": [this server's last refusals], "reservations_pushed",
 * "push_skipped_deleted"} for status (cluster.shared). */
json_t *cluster_apply_status_json(const struct cluster *c);

/*
 * Pure (unit-tested): which live servers ids[0..n) have not applied revision rev, applied[i]
 * being server i's applied revision of the set (-1: none published). me is left out (its API
 * change is in effect on it when written). Their indexes go to missing[] (n entries at most);
 * returns how many.
 */
size_t cluster_apply_missing(const char *const *ids, const int64_t *applied, size_t n,
			     const char *me, int64_t rev, size_t *missing);

#endif
