/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lease.h - the DHCP lease pool: which address belongs to which MAC, until when.
 *
 * Pure: the caller provides the memory (lease_pool_memsize()), and passes
 * `now` as wall-clock seconds (unix time), so expiry times stay meaningful in a
 * lease file after a restart. O(1) allocation: a free list in least-recently-
 * used order, and a MAC index; an address remembers its last owner so the same
 * MAC gets the same address back while nobody else needed it.
 *
 * Every address of every subnet's pool [pool_start, pool_end] has a slot.
 * Reservations (sbcfg_reservation with ip != 0) are never handed to other MACs,
 * inside the pool or outside it.
 *
 * Functions return 0 or a negative errno:
 *   -ENOSPC  pool exhausted          -ENOENT  no such lease / address not ours
 *   -EADDRINUSE address belongs to another MAC   -EINVAL  bad argument
 */
#ifndef SB_LEASE_H
#define SB_LEASE_H

#include <stddef.h>
#include <stdint.h>

#include "sbcfg.h"

enum lease_state {
	LEASE_FREE = 0, /* available (may remember a last owner) */
	LEASE_OFFERED,	/* held for a MAC until expires (offer_hold) */
	LEASE_BOUND,	/* ACKed, until expires */
	LEASE_DECLINED, /* quarantined until expires (DHCPDECLINE: someone else uses it) */
};

struct lease_info {
	uint32_t ip; /* host order */
	uint8_t mac[6];
	enum lease_state state;
	uint64_t expires; /* unix seconds */
	uint16_t subnet;  /* index into cfg->subnets */
};

struct lease_pool;

/* Bytes needed for a pool over cfg's subnets and reservations. */
size_t lease_pool_memsize(const struct sbcfg_dhcp *cfg);

/*
 * Lay out a pool in mem (memsize from lease_pool_memsize(), suitably aligned
 * for uint64_t). Keeps a pointer to cfg: it must outlive the pool. Returns the
 * pool or NULL (-EINVAL in *err) if cfg's pools overlap or are inverted.
 */
struct lease_pool *lease_pool_init(void *mem, size_t memsize, const struct sbcfg_dhcp *cfg,
				   int *err);

/*
 * Pick an address in subnet `subnet` for mac and hold it as OFFERED until
 * now + offer_hold. Order: the MAC's reservation; its current lease/offer; the
 * requested address (option 50) if free; the address it had last; the least
 * recently used free address. -ENOSPC when none is left.
 */
int lease_offer(struct lease_pool *p, uint16_t subnet, const uint8_t mac[6], uint32_t requested,
		uint64_t now, uint32_t *ip_out);

/*
 * Bind ip to mac (DHCPREQUEST) for lease_time seconds. ip must be offered to or
 * leased by this mac, be its reservation, or be free in a pool (INIT-REBOOT
 * after a restart). -EADDRINUSE if another MAC holds it, -ENOENT if it is not
 * one of ours. On success *out (may be NULL) gets the new lease.
 */
int lease_commit(struct lease_pool *p, const uint8_t mac[6], uint32_t ip, uint32_t lease_time,
		 uint64_t now, struct lease_info *out);

/* DHCPRELEASE: ip goes back to the free list, remembering mac. */
int lease_release(struct lease_pool *p, const uint8_t mac[6], uint32_t ip, uint64_t now);

/* DHCPDECLINE: ip is quarantined for decline_quarantine seconds. */
int lease_decline(struct lease_pool *p, const uint8_t mac[6], uint32_t ip, uint64_t now);

/* Current (unexpired) OFFERED/BOUND lease of mac, if any. */
int lease_find_mac(const struct lease_pool *p, const uint8_t mac[6], uint64_t now,
		   struct lease_info *out);
/* Slot of ip (any state; expired leases read as LEASE_FREE). -ENOENT if ip is not ours. */
int lease_find_ip(const struct lease_pool *p, uint32_t ip, uint64_t now, struct lease_info *out);

/*
 * Restore a BOUND lease read back from durable storage (restart). Fails with
 * -EADDRINUSE if ip or mac is already bound elsewhere.
 */
int lease_restore(struct lease_pool *p, const struct lease_info *l, uint64_t now);

/* Visit every OFFERED/BOUND/DECLINED unexpired slot; stop early if fn returns non-zero. */
int lease_foreach(const struct lease_pool *p, uint64_t now,
		  int (*fn)(const struct lease_info *l, void *arg), void *arg);

struct lease_stats {
	uint32_t total; /* addresses in pools */
	uint32_t free;
	uint32_t offered;
	uint32_t bound;
	uint32_t declined;
};
void lease_pool_stats(const struct lease_pool *p, uint64_t now, struct lease_stats *out);

#endif
