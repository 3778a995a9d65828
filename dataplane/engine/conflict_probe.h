/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * conflict_probe.h - conflict detection before an OFFER (dhcp.conflict_probe_ms; RFC 2131 2.2,
 * RFC 5227), worker 0's side of the pure core's probe table (arp_probe.h): the OFFER and its
 * DISCOVER are held while an ARP probe of the offered address is out; nobody answers in time,
 * the OFFER leaves; a host answers, the address is quarantined as for a DECLINE and the
 * DISCOVER is served again for the next address.
 */
#ifndef SB_ENG_CONFLICT_PROBE_H
#define SB_ENG_CONFLICT_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_branch_prediction.h>
#include <rte_mbuf.h>

#include "dhcp_server.h"
#include "engine.h"
#include "pkt.h"
#include "snapshot.h"

/* An OFFER of an address on this segment, with conflict detection on: probe before sending. */
static inline bool eng_probe_wanted(const struct eng_worker *w, const struct dhcp_result *res,
				    int n)
{
	return unlikely(w->snap->cfg.dhcp.conflict_probe_ms != 0) && n > 0 &&
	       res->msg_out == DHCP_OFFER && res->event == DHCP_LEASE_OFFERED && !res->relayed &&
	       !res->boot_only && res->lease.ip != 0 && w->probe_held != NULL;
}

/* Hold DISCOVER m and its OFFER r (payload built, headers not yet) while the offered address is
 * probed; send the probe. A full table drops both (counted): the client retransmits. */
void eng_probe_hold(struct eng_worker *w, struct rte_mbuf *m, const struct pkt_udp *u,
		    struct rte_mbuf *r, const struct pkt_dest *dst, size_t payload_len,
		    const struct dhcp_result *res, uint8_t attempt, uint64_t rx_tsc);
/* Probes nobody answered in time: their OFFERs go out (worker 0, from the poll loop). */
void eng_probe_poll(struct eng_worker *w);
/* A host answered a probe for spa (ARP reply from sha). */
struct rte_mbuf *eng_probe_on_reply(struct eng_worker *w, uint32_t spa, const uint8_t sha[6],
				    struct pkt_udp *u, uint64_t *rx_tsc, uint8_t *attempt);
/* Let go of probe idx and its OFFER (free_req: its DISCOVER too). */
void eng_probe_release(struct eng_worker *w, int idx, bool free_req);

#endif
