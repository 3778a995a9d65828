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
	uint64_t foreign_pushed; /* other servers' leases given to the dataplane */
	uint64_t bucket_changes; /* times the bucket map changed */
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

/*
 * Shared reservations: PREFIX "reservations/" MAC, value {"mac", "ip", "hostname",
 * "bootfile", "ipxe_script", "images_allowed"?} (images_allowed: the reservation's own list
 * of image name patterns, absent when it has none). Every server reads them at start and
 * follows them with a watch; fn(arg, r, deleted) runs (on the loop) for each one, and the
 * daemon applies it to its running config when it differs.
 */
/* A reservation as etcd holds it: its images_allowed patterns travel with it. */
struct cluster_resv {
	struct sbcfg_reservation r; /* r.images_allowed.first indexes patterns (0) */
	char patterns[SBCFG_PATTERNS_MAX][SBCFG_NAME_MAX];
};
typedef void cluster_resv_fn(void *arg, const struct cluster_resv *r, bool deleted);
void cluster_set_resv_hook(struct cluster *c, cluster_resv_fn *fn, void *arg);

/* How a write to etcd ended: rc 0, or -errno with err. */
typedef void cluster_done_fn(void *arg, uint64_t cookie, int rc, const char *err);
/* Put (or delete) r's key in etcd (r's images_allowed indexes patterns, which may be NULL when
 * r has none); fn runs once, later. 0 or -ENOMEM (fn not called). */
int cluster_resv_write(struct cluster *c, const struct sbcfg_reservation *r,
		       const char (*patterns)[SBCFG_NAME_MAX], bool del, cluster_done_fn *fn,
		       void *arg, uint64_t cookie);

/*
 * Shared iPXE templates: PREFIX "templates/" NAME, value the template's text. Read at start,
 * watched; fn(arg, name, text, len, deleted) runs for each (text NULL when deleted).
 */
typedef void cluster_tmpl_fn(void *arg, const char *name, const char *text, size_t len,
			     bool deleted);
void cluster_set_tmpl_hook(struct cluster *c, cluster_tmpl_fn *fn, void *arg);
/* Put (or delete) template name in etcd; fn runs once, later. 0 or -ENOMEM / -EINVAL. */
int cluster_tmpl_write(struct cluster *c, const char *name, const char *text, size_t len, bool del,
		       cluster_done_fn *fn, void *arg, uint64_t cookie);

/*
 * Reservations of this server's config file that etcd lacks at start are pushed: after the
 * first read of reservations/, fn(arg, macs, n) gets the MACs etcd has (resv hook's arg);
 * the daemon calls cluster_resv_push() for each of its own that is not among them. The push
 * is a transaction that writes only if the key is still absent (another server's wins).
 */
typedef void cluster_resv_loaded_fn(void *arg, const uint8_t (*macs)[6], size_t n);
void cluster_set_resv_loaded_hook(struct cluster *c, cluster_resv_loaded_fn *fn);
int cluster_resv_push(struct cluster *c, const struct sbcfg_reservation *r,
		      const char (*patterns)[SBCFG_NAME_MAX]);

/*
 * Shared image metadata: PREFIX "images/" NAME, value {"name", "sha256", "source"} (source:
 * the file's path, the same on every server). Read at start, watched; fn(arg, name, sha256,
 * source, deleted) runs for each (sha256 and source NULL when deleted): the daemon registers
 * the image from source with its SHA-256 pinned, so a server whose file differs refuses it.
 */
typedef void cluster_image_fn(void *arg, const char *name, const char *sha256,
			      const char *source, bool deleted);
void cluster_set_image_hook(struct cluster *c, cluster_image_fn *fn, void *arg);
/* Put (or delete) image name's metadata in etcd; fn runs once, later. 0 or -ENOMEM / -EINVAL. */
int cluster_image_write(struct cluster *c, const char *name, const char *sha256,
			const char *source, bool del, cluster_done_fn *fn, void *arg,
			uint64_t cookie);

/*
 * The shared config document (config_share.h): PREFIX "config", one key. Read at start,
 * watched; fn(arg, value, len, rev, present) runs after the first read (present false: etcd
 * has none), then for each change (present false: deleted). value is NUL-terminated.
 */
typedef void cluster_config_fn(void *arg, const char *value, size_t len, int64_t rev,
			       bool present);
void cluster_set_config_hook(struct cluster *c, cluster_config_fn *fn, void *arg);
/* Put the document (the same path as every shared write); fn runs once, later. 0 or -ENOMEM. */
int cluster_config_write(struct cluster *c, const char *value, size_t len, cluster_done_fn *fn,
			 void *arg, uint64_t cookie);
/* Put it only if etcd has none (at start); fn(arg, 0, rc, err) once, later: rc -EEXIST when
 * another server's was there first. 0 or -ENOMEM. */
int cluster_config_push(struct cluster *c, const char *value, size_t len, cluster_done_fn *fn,
			void *arg);

/* ---- pure parts (unit-tested) ---- */

/* An image's value in etcd (JSON text, free()), and back: 0 or -EINVAL (sha256: 64
 * lower-case hex digits, source an absolute path, name not empty). */
char *cluster_image_value(const char *name, const char *sha256, const char *source);
int cluster_image_parse(const char *value, size_t len, char name[SBCFG_NAME_MAX],
			char sha256[SBCFG_SHA256_HEX], char source[SBCFG_PATH_MAX]);

/* A reservation's value in etcd (JSON text, free()), and back: 0 or -EINVAL (patterns
 * checked as the config file's are). */
char *cluster_resv_value(const struct sbcfg_reservation *r,
			 const char (*patterns)[SBCFG_NAME_MAX]);
int cluster_resv_parse(const char *value, size_t len, struct cluster_resv *out);

/*
 * The buckets that server me owns among the live servers ids[0..n): rendezvous hashing,
 * bucket b to the server with the highest weight of (id, b). Bit b of map[b / 8]. Returns
 * how many me owns (0 when me is not in ids).
 */
unsigned cluster_buckets(const char *const *ids, size_t n, const char *me, uint8_t map[32]);

/* A lease's value in etcd (JSON text, free()). */
char *cluster_lease_value(const struct chan_lease *ev, const char *server_id);
/* Parse a value: 0, or -EINVAL. server: at least SBCFG_CLUSTER_ID_MAX bytes. */
int cluster_lease_parse(const char *value, size_t len, uint8_t mac[6], uint64_t *expires,
			uint16_t *subnet, char *server);

#endif
