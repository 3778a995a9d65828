/* SPDX-License-Identifier: BSD-3-Clause */
/* conflict_probe.c - ARP probes before an OFFER (see conflict_probe.h). */
#include <inttypes.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_mbuf.h>

#include "arp_probe.h"
#include "conflict_probe.h"
#include "control_link.h"
#include "log.h"
#include "reply.h"
#include "snapshot.h"

void eng_probe_release(struct eng_worker *w, int idx, bool free_req)
{
	struct eng_probe_held *h = &w->probe_held[idx];

	rte_pktmbuf_free(h->offer);
	if (free_req)
		rte_pktmbuf_free(h->req);
	h->req = h->offer = NULL;
	probe_finish(&w->probe, idx);
}

void eng_probe_hold(struct eng_worker *w, struct rte_mbuf *m, const struct pkt_udp *u,
		    struct rte_mbuf *r, const struct pkt_dest *dst, size_t payload_len,
		    const struct dhcp_result *res, uint8_t attempt, uint64_t rx_tsc)
{
	const struct sbcfg_dhcp *d = &w->snap->cfg.dhcp;
	struct eng_probe_held *h;
	struct rte_mbuf *a;
	int idx, flen, n;

	flen = pkt_build_udp(rte_pktmbuf_mtod(r, uint8_t *), rte_pktmbuf_tailroom(r), u,
			     w->snap->mac, dst, payload_len);
	if (unlikely(flen < 0)) {
		eng_count_drop(w->st, flen);
		goto drop;
	}
	r->data_len = (uint16_t)flen;
	r->pkt_len = (uint32_t)flen;
	idx = probe_find_mac(&w->probe, res->mac);
	if (idx >= 0) {
		/* The client's retransmission while its address is probed: the newest DISCOVER
		 * and OFFER wait in place of the older ones (a new xid is answered). */
		h = &w->probe_held[idx];
		eng_count_drop(w->st, ENG_DROP_PROBE_SUPERSEDED);
		if (w->probe.slots[idx].ip == res->lease.ip) {
			rte_pktmbuf_free(h->req);
			rte_pktmbuf_free(h->offer);
			h->req = m;
			h->offer = r;
			h->rx_tsc = rx_tsc;
			return;
		}
		eng_probe_release(w, idx,
				  true); /* another address now (a reload): probe that one */
	}
	idx = probe_start(&w->probe, d->conflict_probe_max, res->lease.ip, res->mac, attempt,
			  w->now_ms, d->conflict_probe_ms);
	if (idx < 0) {
		/* Paced like a full session table: the client's retransmission finds a slot. */
		eng_count_drop(w->st, ENG_DROP_PROBE_FULL);
		goto drop;
	}
	a = rte_pktmbuf_alloc(w->rt->pool);
	if (unlikely(a == NULL)) {
		eng_count_drop(w->st, ENG_DROP_NO_MBUF);
		probe_finish(&w->probe, idx);
		goto drop;
	}
	n = probe_build_request(rte_pktmbuf_mtod(a, uint8_t *), rte_pktmbuf_tailroom(a),
				w->snap->mac, u->vlan_tci, u->n_vlans, res->lease.ip);
	if (unlikely(n < 0)) {
		eng_count_drop(w->st, n);
		rte_pktmbuf_free(a);
		probe_finish(&w->probe, idx);
		goto drop;
	}
	a->data_len = (uint16_t)n;
	a->pkt_len = (uint32_t)n;
	h = &w->probe_held[idx];
	h->req = m;
	h->offer = r;
	h->rx_tsc = rx_tsc;
	w->st->dhcp_probes_sent++;
	eng_tx_stage(w, a, 0);
	return;
drop:
	rte_pktmbuf_free(r);
	rte_pktmbuf_free(m);
}

/* Probes nobody answered in time: their OFFERs go out (worker 0, from the poll loop). */
void eng_probe_poll(struct eng_worker *w)
{
	int idx;

	while ((idx = probe_expired(&w->probe, w->now_ms)) >= 0) {
		struct eng_probe_held *h = &w->probe_held[idx];

		w->st->dhcp_probes_clear++;
		w->st->tx_dhcp++;
		/* rx TSC 0: the probe's wait is not the engine's latency */
		eng_tx_stage(w, h->offer, 0);
		h->offer = NULL;
		eng_probe_release(w, idx, true);
	}
}

/*
 * A host answered a probe for spa: the address is in use. Quarantine it as for a DHCPDECLINE
 * (decline_quarantine; control learns it as a decline). Returns the DISCOVER to serve again
 * (the pool picks the next address: lease_offer() never offers a client the address it just
 * declined), with its parsed headers in *u, its rx TSC and the attempt number; NULL if there
 * is nothing to serve (not our probe, or the client had its PROBE_ATTEMPTS_MAX tries).
 */
struct rte_mbuf *eng_probe_on_reply(struct eng_worker *w, uint32_t spa, const uint8_t sha[6],
				    struct pkt_udp *u, uint64_t *rx_tsc, uint8_t *attempt)
{
	struct snapshot *snap = w->snap;
	struct probe_slot sl;
	struct rte_mbuf *req;
	int idx;

	idx = probe_match_reply(&w->probe, spa, sha);
	if (idx < 0) {
		eng_count_drop(w->st, ENG_DROP_PROBE_REPLY_IGNORED);
		return NULL;
	}
	sl = w->probe.slots[idx];
	req = w->probe_held[idx].req;
	*rx_tsc = w->probe_held[idx].rx_tsc;
	eng_probe_release(w, idx, false);
	w->st->dhcp_probe_conflicts++;
	if (snap->dhcp.pool != NULL &&
	    lease_decline(snap->dhcp.pool, sl.mac, sl.ip, w->now_unix) == 0 && eng_ctl) {
		struct dhcp_result dr = {.event = DHCP_LEASE_DECLINED};

		if (lease_find_ip(snap->dhcp.pool, sl.ip, w->now_unix, &dr.lease) == 0) {
			memcpy(dr.mac, sl.mac, 6);
			memcpy(dr.lease.mac, sl.mac, 6);
			eng_ctl_lease_event(w, &dr, NULL, NULL, NULL, 0, 0);
		}
	}
	/* Powers of two only: a host that answers for every address must not flood the log. */
	if (rte_is_power_of_2(w->st->dhcp_probe_conflicts))
		ENG_LOG(WARNING,
			"dhcp: %u.%u.%u.%u is in use by %02x:%02x:%02x:%02x:%02x:%02x (it answered "
			"our ARP probe): not offered to %02x:%02x:%02x:%02x:%02x:%02x, quarantined "
			"for %u s; %" PRIu64 " conflicts so far",
			sl.ip >> 24, (sl.ip >> 16) & 255, (sl.ip >> 8) & 255, sl.ip & 255, sha[0],
			sha[1], sha[2], sha[3], sha[4], sha[5], sl.mac[0], sl.mac[1], sl.mac[2],
			sl.mac[3], sl.mac[4], sl.mac[5], snap->cfg.dhcp.decline_quarantine,
			w->st->dhcp_probe_conflicts);
	if (sl.attempt >= PROBE_ATTEMPTS_MAX ||
	    pkt_parse_udp(rte_pktmbuf_mtod(req, const uint8_t *), req->data_len, false, u) < 0) {
		eng_count_drop(w->st, ENG_DROP_PROBE_GAVE_UP);
		rte_pktmbuf_free(req);
		return NULL;
	}
	*attempt = (uint8_t)(sl.attempt + 1);
	return req;
}
