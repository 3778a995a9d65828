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
 * Every address of every subnet's pool [pool_start, pool_end] has a slot (a
 * subnet with pool_start == pool_end == 0 has no pool). Reservations
 * (sbcfg_reservation with ip != 0) are never handed to other MACs, inside the
 * pool or outside it (an address outside the pools gets a slot of its own, in
 * the subnet whose network holds it); ip == 0 means boot information only and
 * is ignored here. A MAC holds at most one address per subnet; a MAC with a
 * reservation in a subnet gets only that address there, unless it DECLINEd it:
 * then not while it is quarantined, nor (quarantine over, or 0) before the MAC
 * has bound another address in that subnet.
 *
 * DECLINE (RFC 2131 4.3.3): the address is quarantined for decline_quarantine
 * seconds, for everyone. Beyond that, it is not offered back to the MAC that
 * declined it until that MAC has taken another address in the subnet (offer or
 * commit), or someone else took it: with decline_quarantine 0 the address is
 * free at once for other clients, never straight back to its decliner.
 *
 * Expiry is lazy: an OFFERED/BOUND/DECLINED slot whose expires <= now reads as
 * LEASE_FREE everywhere (it still remembers its MAC).
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
 * pool or NULL with in *err: -EINVAL if cfg's pools overlap, are inverted, lie
 * outside their subnet or take its network/broadcast address, a reservation
 * lies in no subnet, two reservations share an address, or one MAC has two
 * reservations in a subnet; -ENOMEM if memsize is too small or the pools too
 * large (> 2^30 addresses). lease_pool_memsize() returns 0 for such configs.
 */
struct lease_pool *lease_pool_init(void *mem, size_t memsize, const struct sbcfg_dhcp *cfg,
				   int *err);

/*
 * Pick an address in subnet `subnet` for mac and hold it as OFFERED until
 * now + offer_hold. Order: the MAC's reservation (unless held back after a
 * DECLINE); its current lease/offer; the requested address (option 50) if
 * free; the address it had last; the least recently used free address - never
 * the address it just DECLINEd (see above); with none free and cfg
 * offer_reuse, the oldest offer made to another MAC (counted in
 * lease_stats.offers_taken_over). -ENOSPC when every address is bound,
 * declined or reserved (or, for mac, just declined by it), -EINVAL for a bad
 * subnet. Offering the reservation frees any other address mac held there.
 * A BOUND current lease is returned unchanged; an OFFERED one is held anew.
 */
int lease_offer(struct lease_pool *p, uint16_t subnet, const uint8_t mac[6], uint32_t requested,
		uint64_t now, uint32_t *ip_out);

/*
 * Bind ip to mac (DHCPREQUEST) for lease_time seconds. ip must be offered to or
 * leased by this mac, be its reservation, be free in a pool (INIT-REBOOT
 * after a restart), or (cfg offer_reuse) be merely offered to another MAC: the
 * first REQUEST wins. -EADDRINUSE if another MAC has it bound, it is reserved
 * for another MAC, it is quarantined, or mac has a usable reservation (see
 * lease_reservation()) elsewhere in that subnet; -ENOENT if it is not one of
 * ours; -EINVAL if lease_time is 0. Binding frees any other address mac held
 * in that subnet, and makes a reservation it DECLINEd usable again once out of
 * quarantine. On success *out (may be NULL) gets the new lease.
 */
int lease_commit(struct lease_pool *p, const uint8_t mac[6], uint32_t ip, uint32_t lease_time,
		 uint64_t now, struct lease_info *out);

/*
 * DHCPRELEASE: ip goes back to the tail of the free list (taken last),
 * remembering mac. -ENOENT if ip is not ours or not offered/bound,
 * -EADDRINUSE if it is another MAC's.
 */
int lease_release(struct lease_pool *p, const uint8_t mac[6], uint32_t ip, uint64_t now);

/*
 * DHCPDECLINE: ip is quarantined for decline_quarantine seconds and not offered
 * back to mac at once (see above). Only the MAC that holds ip (offered/bound)
 * may decline it: -ENOENT / -EADDRINUSE as for lease_release().
 */
int lease_decline(struct lease_pool *p, const uint8_t mac[6], uint32_t ip, uint64_t now);

/*
 * mac's reservation in subnet, if it may be offered to mac now: 0 and *ip_out,
 * or -ENOENT when mac has none there or it is held back (see lease_offer()).
 */
int lease_reservation(const struct lease_pool *p, const uint8_t mac[6], uint16_t subnet,
		      uint64_t now, uint32_t *ip_out);

/* Current (unexpired) OFFERED/BOUND lease of mac, if any (the lowest subnet
 * index first; O(number of subnets)). -ENOENT if none. */
int lease_find_mac(const struct lease_pool *p, const uint8_t mac[6], uint64_t now,
		   struct lease_info *out);
/* Slot of ip (any state; expired leases read as LEASE_FREE; a free slot shows its
 * last MAC, or zeros, and expires 0). -ENOENT if ip is not ours. */
int lease_find_ip(const struct lease_pool *p, uint32_t ip, uint64_t now, struct lease_info *out);

/*
 * Restore a BOUND lease read back from durable storage (restart). Fails with
 * -EADDRINUSE if ip or mac is already bound elsewhere (or ip is reserved for
 * another MAC, or mac has a reservation elsewhere in that subnet), -ENOENT if
 * ip is not ours, -EINVAL if l->state is not LEASE_BOUND. The subnet comes
 * from ip (l->subnet is ignored: indexes may change with the config). An
 * already expired lease is not bound; the slot only remembers l->mac if it
 * remembers nobody yet (returns 0).
 */
int lease_restore(struct lease_pool *p, const struct lease_info *l, uint64_t now);

/*
 * Cluster mode (docs/SCALE-OUT.md): reorder every subnet's free list so that the addresses of
 * the preferred segments come first. A pool is cut into 256 equal segments (segment of an
 * address = its offset in the pool * 256 / pool size); segment s is preferred when bit s of
 * map is set (map[s / 64] >> (s % 64)). Each server prefers the segments of the RFC 3074
 * buckets it owns, so servers hand out disjoint addresses until one runs out of its own.
 * O(free addresses); nothing else changes.
 */
void lease_prefer(struct lease_pool *p, const uint64_t map[4]);

/*
 * Visit every OFFERED/BOUND/DECLINED unexpired slot (in no particular order;
 * O(slots in use)); stop early and return fn's value if it returns non-zero.
 */
int lease_foreach(const struct lease_pool *p, uint64_t now,
		  int (*fn)(const struct lease_info *l, void *arg), void *arg);

/* total = free + offered + bound + declined + reserved. */
struct lease_stats {
	uint32_t total; /* addresses with a slot: pools + reserved addresses outside them */
	uint32_t free;	/* available to any MAC */
	uint32_t offered;
	uint32_t bound;
	uint32_t declined;
	uint32_t reserved; /* free but reserved for one MAC */
	uint64_t offers_taken_over; /* since start: offers given to another client (pool full) */
};
/* Counts as of now, O(expired leases not yet reclaimed). */
void lease_pool_stats(const struct lease_pool *p, uint64_t now, struct lease_stats *out);

#endif
