/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * arp_probe.h - conflict detection before a DHCPOFFER (RFC 2131 2.2 "the server SHOULD probe
 * the reused address before allocating it", as dnsmasq does with a ping), with an ARP probe
 * (RFC 5227 2.1.1: sender IP 0.0.0.0, target the candidate, so no host's ARP cache learns a
 * binding from it).
 *
 * The engine builds the OFFER as usual, then holds it here instead of sending it: a table of
 * pending probes, in caller memory, driven by `now` (monotonic milliseconds). A host that
 * answers for the candidate (its ARP reply to a probe has target IP 0.0.0.0) puts it in use:
 * the caller quarantines the address as for a DHCPDECLINE and serves the DISCOVER again, which
 * picks the next address. A probe that nobody answers within the timeout releases the held
 * OFFER. The table is bounded: when it is full a new DISCOVER is held back (counted) and the
 * client's own retransmission finds a slot.
 *
 * Pure: no I/O, no clock, no allocation. Slot indexes are stable while a probe is pending, so
 * the caller may keep its own per-slot state (the held frames) in a parallel array.
 */
#ifndef SB_ARP_PROBE_H
#define SB_ARP_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROBE_NONE	   UINT64_MAX /* probe_table.next_deadline when nothing is pending */
#define PROBE_ATTEMPTS_MAX 4	      /* addresses tried for one DISCOVER before it is dropped */

struct probe_slot {
	uint32_t ip;	      /* candidate (host order); 0 = free slot */
	uint8_t mac[6];	      /* the client it is offered to */
	uint8_t attempt;      /* 1 for the first address tried for this DISCOVER, then 2, ... */
	uint64_t deadline_ms; /* the OFFER goes out at this time unless someone answers */
};

struct probe_table {
	struct probe_slot *slots;
	uint32_t cap;		/* slots in memory */
	uint32_t n;		/* probes pending */
	uint64_t next_deadline; /* earliest deadline of a pending probe, PROBE_NONE if none */
};

/* Lay the table over slots[0..cap). */
void probe_table_init(struct probe_table *t, struct probe_slot *slots, uint32_t cap);

/*
 * Start a probe of ip for mac, due at now_ms + timeout_ms; limit caps the pending probes
 * (config dhcp.conflict_probe_max; the table's cap too). Returns the slot index, -ENOSPC when
 * limit probes are pending, -EINVAL for ip 0, attempt 0 or above PROBE_ATTEMPTS_MAX.
 */
int probe_start(struct probe_table *t, uint32_t limit, uint32_t ip, const uint8_t mac[6],
		uint8_t attempt, uint64_t now_ms, uint32_t timeout_ms);

/* The pending probe for mac (a retransmitted DISCOVER), or -ENOENT. */
int probe_find_mac(const struct probe_table *t, const uint8_t mac[6]);

/*
 * An ARP reply to a probe (probe_parse_reply) from sha for spa: the slot whose candidate is in
 * use (a conflict), -EALREADY if the host answering is the very client the address is offered to
 * (it holds the address already: no conflict), -ENOENT if no probe of spa is pending (late, or
 * not ours).
 */
int probe_match_reply(const struct probe_table *t, uint32_t spa, const uint8_t sha[6]);

/* A slot whose deadline is <= now_ms (its OFFER may go out), or -ENOENT. O(1) when none. */
int probe_expired(const struct probe_table *t, uint64_t now_ms);

/* Free slot idx (probe answered or expired). */
void probe_finish(struct probe_table *t, int idx);

/*
 * Build the probe (RFC 5227 2.1.1): ARP request, broadcast, sender hardware address our_mac,
 * sender IP 0.0.0.0, target hardware address 0, target IP ip; inside the client's VLAN tags
 * (n_vlans of vlan_tci, outermost first, as struct pkt_udp has them). Padded to the 60-byte
 * Ethernet minimum. Returns the frame length, or -SB_DROP_TX_NO_ROOM if cap is too small.
 */
int probe_build_request(uint8_t *frame, size_t cap, const uint8_t our_mac[6],
			const uint16_t *vlan_tci, uint8_t n_vlans, uint32_t ip);

/*
 * Is frame an ARP reply to a probe (RFC 5227 2.1.1: opcode 2, target IP 0.0.0.0)? 0 and its
 * sender IP (host order) and sender MAC; 1 for any other Ethernet/IPv4 ARP frame (a request,
 * or a reply to someone else's question: the caller handles it as before); -SB_DROP_ARP_BAD
 * when it is not Ethernet/IPv4 ARP or is truncated; other -SB_DROP_x when it is not ARP.
 */
int probe_parse_reply(const uint8_t *frame, size_t len, uint32_t *spa, uint8_t sha[6]);

#endif
