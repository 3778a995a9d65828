/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cluster.h - stormboot-control in a cluster of servers with one truth in etcd
 * (docs/SCALE-OUT.md). Present only when the config has "cluster".
 *
 * Leases: every record the dataplane sends (and the local lease store accepts) is committed
 * to etcd before its LEASE_DURABLE leaves: group commit, many records per transaction, one
 * transaction in flight. Each address is one key, PREFIX "leases/" A.B.C.D, value
 * {"mac", "expires", "server", "subnet"}. The transaction's compare makes one address bound
 * to two MACs impossible across servers: a new key must not exist (create_revision 0), an
 * existing one must be unchanged since this server last saw it (mod_revision), and this
 * server only takes a key whose lease is its MAC's or has expired. A failed compare reads
 * the keys back (failure branch), refuses the records whose address is another MAC's
 * (-EADDRINUSE) and commits the others again. etcd not reached: the records are refused
 * (-EHOSTUNREACH): the dataplane sends no ACK (the client asks again).
 *
 * Who answers: each server registers PREFIX "servers/" ID under an etcd lease of
 * cluster.lease_ttl_s, kept alive; every 500 ms it reads the live set and computes the owner
 * of each of the 256 RFC 3074 buckets by rendezvous hashing (the same on every server, and a
 * server's loss moves only its own buckets). The dataplane answers only its buckets; a
 * server that cannot reach etcd for lease_ttl_s (its registration lapses, the others take
 * its buckets) answers none.
 *
 * The other servers' leases: read at start and followed with a watch; given to the
 * dataplane's pool, so it does not offer their addresses and can confirm a client that
 * moves here (its server lost) at its own address.
 */
#ifndef SB_CLUSTER_H
#define SB_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "chan.h"
#include "ctl_clock.h"
#include "dataplane_link.h"
#include "etcd_client.h"
#include "event_loop.h"
#include "sbcfg.h"

#define CLUSTER_MEMBERS_MS  500 /* how often the live set is read */
#define CLUSTER_HOLD_MS	    900 /* a record older than this is refused (the ACK's wait is 1 s) */
#define CLUSTER_SERVERS_MAX 64
#define CLUSTER_RETRIES	    3 /* a record whose compare failed is tried this many times */

struct cluster;

struct cluster_stats {
	uint64_t submitted;	  /* records given to the cluster */
	uint64_t committed;	  /* records in etcd (their ACK may leave) */
	uint64_t txns;		  /* transactions that succeeded */
	uint64_t txn_conflicts;	  /* transactions whose compare failed */
	uint64_t refused_in_use;  /* records refused: the address is another MAC's in etcd */
	uint64_t refused_etcd;	  /* records refused: etcd not reached / error */
	uint64_t refused_timeout; /* records refused: waited longer than CLUSTER_HOLD_MS */
	uint64_t batch_max;	  /* the largest transaction (records) */
	uint64_t commit_us_sum;	  /* time of the transactions that succeeded */
	uint64_t commit_us_max;
	uint64_t foreign_pushed;      /* other servers' leases given to the dataplane */
	uint64_t bucket_changes;      /* times the bucket map changed */
	uint64_t registration_lapses; /* registration lost (etcd away lease_ttl_s, lease expired) */
	/* shared changes made through this server's API (cluster_apply.c) */
	uint64_t apply_waits;	    /* waited until every live server applied them */
	uint64_t apply_timeouts;    /* answered at cluster.apply_wait_ms, some not confirmed */
	uint64_t apply_refused;	    /* answered naming a server that refused the change */
	uint64_t refused_here;	    /* shared changes this server refused (published) */
	uint64_t apply_wait_us_sum; /* time of the waits that ended confirmed */
	uint64_t apply_wait_us_max;
	uint64_t resv_pushed;	       /* config-file reservations pushed to etcd at start */
	uint64_t push_skipped_deleted; /* ... not pushed: deleted through an API (tombstone) */
};

/* Start: the etcd client, registration, lease load and watch. NULL with err. */
struct cluster *cluster_new(struct ev_loop *loop, struct dataplane_link *dp,
			    const struct sbcfg_cluster *cfg, struct ctl_clock clock, char *err,
			    size_t errlen);
void cluster_free(struct cluster *c);

/* remote_submit of dataplane_link_deps: queue ev (ticket names it for the outcome). */
int cluster_submit(void *c, const struct chan_lease *ev, uint64_t ticket);
/* connected of dataplane_link_deps: give a new dataplane the other servers' leases. */
void cluster_connected(void *c);
/* Send the queued records as one transaction if none is in flight (before the loop sleeps). */
void cluster_kick(struct cluster *c);

/* Can this server commit leases now (etcd answered within lease_ttl_s, registered)? */
bool cluster_ready(const struct cluster *c);
/* {"server_id", "ready", "etcd": {...}, "servers": [...], "buckets_owned", "leases": {...}} */
json_t *cluster_status_json(struct cluster *c);
void cluster_get_stats(const struct cluster *c, struct cluster_stats *out);

/* The shared key sets (reservations, templates, images), the values in etcd, applied/. */
#include "cluster_apply.h"
#include "cluster_shared.h"
#include "cluster_values.h"

#endif
