/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lease_store.h - durable leases for stormboot-control: an append-only log of 32-byte
 * records (bound / released / declined: mac, ip, subnet, expires, CRC-32C each) under the
 * state directory, with group commit, replay at open and compaction.
 *
 * The store keeps a core lease pool (lease.h) over the current config that always equals
 * "the log on disk + the records queued for the next commit": every event is checked
 * against it before it is queued, so replaying the log can never give one address to two
 * MACs. Group commit: lease_store_apply() only queues; lease_store_commit() writes every
 * queued record with one write() and one fdatasync(). Only after it returned may the
 * caller tell the dataplane that those leases are durable.
 *
 * Files in dir: leases.log (the log), leases.log.tmp (a compaction in progress, removed at
 * open), leases.lock (flock: one daemon per state directory). Times are unix seconds.
 * Errors: negative errno, with a message in err where there is one.
 */
#ifndef SB_LEASE_STORE_H
#define SB_LEASE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chan.h"
#include "lease.h"
#include "sbcfg.h"

#define LEASE_STORE_LOG	   "leases.log"
#define LEASE_STORE_REC_SZ 32

struct lease_store_stats {
	uint64_t appended;	   /* records queued since open */
	uint64_t committed;	   /* records written and fdatasync'ed since open */
	uint64_t commits;	   /* fdatasync calls (committed / commits = group size) */
	uint64_t commit_errors;	   /* commits that failed (queued records dropped) */
	uint64_t replayed;	   /* records read back at open */
	uint64_t replay_torn;	   /* torn last record ignored at open (0 or 1) */
	uint64_t replay_corrupt;   /* records with a bad CRC before the last, skipped */
	uint64_t replay_conflicts; /* a later bound record took an address from another MAC */
	uint64_t replay_rejected;  /* records the pool refused (address no longer ours, ...) */
	uint64_t compactions;
	uint64_t log_records; /* records in leases.log now */
	uint64_t log_bytes;
};

struct lease_store;

/*
 * Open (creating dir's files if needed) and replay leases.log into a pool over cfg->dhcp.
 * cfg must stay valid until lease_store_set_config() replaces it or the store is closed.
 * A torn last record is counted, logged by the caller from the stats, and cut off.
 */
struct lease_store *lease_store_open(const char *dir, const struct sbcfg *cfg, uint64_t now,
				     char *err, size_t errlen);
void lease_store_close(struct lease_store *s);

/*
 * Apply one event (ev->event: CHAN_LEASE_BOUND/RELEASED/DECLINED) to the pool and queue
 * its record. 0 when queued or when there is nothing to record (release of a lease that is
 * already gone); otherwise the pool's error and nothing is queued: -EADDRINUSE (address
 * held by or reserved for another MAC), -ENOENT (not one of our addresses), -EINVAL.
 */
int lease_store_apply(struct lease_store *s, const struct chan_lease *ev, uint64_t now);

/* Records queued for the next commit. */
size_t lease_store_pending(const struct lease_store *s);

/*
 * Write every queued record and fdatasync once. Returns how many were committed (0 when
 * none was queued). On -errno nothing queued is durable: the file is cut back to its last
 * committed size and the pool reloaded from it.
 */
int lease_store_commit(struct lease_store *s, uint64_t now);

/* true when the log holds many more records than live leases (time to compact). */
bool lease_store_should_compact(const struct lease_store *s, uint64_t now);

/*
 * Rewrite the log as a snapshot of the live leases: leases.log.tmp, fsync, rename over
 * leases.log, fsync the directory. Commits queued records first.
 */
int lease_store_compact(struct lease_store *s, uint64_t now, char *err, size_t errlen);

/*
 * Move to a new config: a new pool over cfg->dhcp receives every live lease that still
 * fits (lease_restore); the others are dropped and the log compacted. Returns the number
 * of leases dropped, or -errno (the store keeps the old config).
 */
int lease_store_set_config(struct lease_store *s, const struct sbcfg *cfg, uint64_t now, char *err,
			   size_t errlen);

/* The pool (read-only: lease_find_*, lease_foreach, lease_pool_stats). */
const struct lease_pool *lease_store_pool(const struct lease_store *s);

void lease_store_get_stats(const struct lease_store *s, struct lease_store_stats *out);

/* CRC-32C (Castagnoli) of len bytes, as stored in each record. */
uint32_t lease_store_crc32c(const void *buf, size_t len);

#endif
