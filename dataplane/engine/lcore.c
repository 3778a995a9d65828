/* SPDX-License-Identifier: BSD-3-Clause */
/* lcore.c - the poll loop (see lcore.h). */
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_per_lcore.h>
#include <rte_prefetch.h>
#include <rte_ring.h>
#include <rte_timer.h>

#include "arp_probe.h"
#include "control_link.h"
#include "lcore.h"
#include "log.h"
#include "ndp.h"
#include "pkt.h"
#include "sbcfg_access.h"
#include "snapshot.h"
#include "mtftp.h"
#include "tftp.h"
#include "trace.h"

volatile bool eng_force_quit;

/* The worker whose session timers run (their callbacks run inside rte_timer_manage() only). */
static RTE_DEFINE_PER_LCORE(struct eng_worker *, timer_worker);

static inline uint64_t *rx_tsc_field(const struct eng_runtime *rt, struct rte_mbuf *m)
{
	return RTE_MBUF_DYNFIELD(m, rt->tsc_dynfield, uint64_t *);
}

/* Send what is staged; free (and count) what the tx ring did not take. */
static void tx_flush(struct eng_worker *w)
{
	const struct eng_runtime *rt = w->rt;
	uint16_t n = w->tx_n, sent = 0;
	uint64_t bytes = 0, before, now;

	if (n == 0)
		return;
	for (uint16_t i = 0; i < n; i++)
		bytes += w->tx_m[i]->pkt_len;
	before = rte_rdtsc();
	/* A full ring usually drains within a few polls (net_af_xdp reaps completions in tx). */
	for (int tries = 0; sent < n && tries < 4; tries++)
		sent += rte_eth_tx_burst(rt->port.port_id, w->queue, w->tx_m + sent, n - sent);
	now = rte_rdtsc();
	ENG_STAGE_ADD(w, ENG_STAGE_TX, now - before, sent);
	/* Engine time ends at the tx call, the other span at its return (stats.c). */
	for (uint16_t i = 0; i < sent; i++)
		if (w->tx_rx_tsc[i]) {
			eng_lat_record(&w->st->lat_engine,
				       eng_tsc_to_ns(rt, before - w->tx_rx_tsc[i]));
			eng_lat_record(&w->st->lat, eng_tsc_to_ns(rt, now - w->tx_rx_tsc[i]));
		}
	for (uint16_t i = sent; i < n; i++) {
		bytes -= w->tx_m[i]->pkt_len;
		rte_pktmbuf_free(w->tx_m[i]);
		eng_count_drop(w->st, ENG_DROP_TX_FULL);
	}
	w->st->tx_pkts += sent;
	w->st->tx_bytes += bytes;
	w->tx_n = 0;
}

static inline void tx_stage(struct eng_worker *w, struct rte_mbuf *m, uint64_t rx_tsc)
{
	if (unlikely(w->tx_n == ENG_TX_STAGE))
		tx_flush(w);
	w->tx_m[w->tx_n] = m;
	w->tx_rx_tsc[w->tx_n] = rx_tsc;
	w->tx_n++;
}

/* A fresh mbuf for a reply; *payload points where the UDP payload goes (after req's headers). */
static struct rte_mbuf *reply_alloc(struct eng_worker *w, const struct pkt_udp *req,
				    uint8_t **payload, size_t *payload_cap)
{
	uint64_t t0 = eng_stage_tsc();
	struct rte_mbuf *m = rte_pktmbuf_alloc(w->rt->pool);
	size_t hdr = pkt_hdr_len(req);

	ENG_STAGE_ADD(w, ENG_STAGE_ALLOC, eng_stage_tsc() - t0, 1);
	if (unlikely(m == NULL)) {
		eng_count_drop(w->st, ENG_DROP_NO_MBUF);
		return NULL;
	}
	*payload = rte_pktmbuf_mtod(m, uint8_t *) + hdr;
	*payload_cap = rte_pktmbuf_tailroom(m) - hdr;
	return m;
}

/* Put headers in front of the payload and stage the frame. psum: the payload's sum, if known
 * (PKT_PSUM_NONE: summed here). */
static void reply_send_psum(struct eng_worker *w, struct rte_mbuf *m, const struct pkt_udp *req,
			    const struct pkt_dest *dst, size_t payload_len, uint64_t psum,
			    uint64_t rx_tsc)
{
	uint64_t t0 = eng_stage_tsc();
	int flen = pkt_build_udp_psum(rte_pktmbuf_mtod(m, uint8_t *), rte_pktmbuf_tailroom(m),
				      req, w->snap->mac, dst, payload_len, psum);

	ENG_STAGE_ADD(w, ENG_STAGE_CSUM, eng_stage_tsc() - t0, 1);
	if (unlikely(flen < 0)) {
		eng_count_drop(w->st, flen);
		rte_pktmbuf_free(m);
		return;
	}
	m->data_len = (uint16_t)flen;
	m->pkt_len = (uint32_t)flen;
	tx_stage(w, m, rx_tsc);
}

static inline void reply_send(struct eng_worker *w, struct rte_mbuf *m, const struct pkt_udp *req,
			      const struct pkt_dest *dst, size_t payload_len, uint64_t rx_tsc)
{
	reply_send_psum(w, m, req, dst, payload_len, PKT_PSUM_NONE, rx_tsc);
}

/*
 * The UDP payload sum of DATA block `block` just built at out (header + bytes): from the
 * image's checksum prefix sums, without reading the block again (octet mode; netascii and
 * an image without the table: PKT_PSUM_NONE, summed when the headers are written).
 */
static inline uint64_t data_psum(const struct eng_sess *s, uint64_t block, const uint8_t *out)
{
	const uint8_t *p;
	size_t n;

	if (s->img == NULL || s->img->csum_prefix == NULL ||
	    tftp_session_data_ref(&s->ts, block, &p, &n) < 0)
		return PKT_PSUM_NONE;
	if (n == 0)
		return pkt_csum_add(0, out, TFTP_HDR_LEN);
	if (p < s->img->data || p + n > s->img->data + s->img->size)
		return PKT_PSUM_NONE;
	return pkt_csum_add(pkt_csum_range(s->img->data, s->img->csum_prefix,
					   (size_t)(p - s->img->data), n),
			    out, TFTP_HDR_LEN);
}

/* A request turned into its reply in place: rc is the reply's length, or -SB_DROP_x. */
static void send_in_place(struct eng_worker *w, struct rte_mbuf *m, int rc, uint64_t *sent,
			  uint64_t rx_tsc)
{
	if (rc < 0) {
		eng_count_drop(w->st, rc);
		rte_pktmbuf_free(m);
		return;
	}
	m->data_len = (uint16_t)rc;
	m->pkt_len = (uint32_t)rc;
	(*sent)++;
	tx_stage(w, m, rx_tsc);
}

/* ---- ARP (only on ports without a kernel behind them; replies to our probes on any) ---- */

static void handoff(struct eng_worker *w, unsigned int idx, struct rte_mbuf *m, uint64_t rx_tsc);
static void probe_on_reply(struct eng_worker *w, uint32_t spa, const uint8_t sha[6]);

static void handle_arp(struct eng_worker *w, struct rte_mbuf *m, uint64_t rx_tsc)
{
	uint8_t sha[6];
	uint32_t spa;
	int rc;

	/* A reply to a conflict probe (the XDP program steers those with dhcp.conflict_probe_ms):
	 * for worker 0, which holds the OFFERs (and counts it). */
	rc = probe_parse_reply(rte_pktmbuf_mtod(m, uint8_t *), m->data_len, &spa, sha);
	if (rc == 0 && w->idx != 0) {
		handoff(w, 0, m, rx_tsc);
		return;
	}
	w->st->rx_arp++;
	if (rc == 0) {
		probe_on_reply(w, spa, sha);
		rte_pktmbuf_free(m);
		return;
	}
	if (w->rt->port.kernel_behind) {
		eng_count_drop(w->st, ENG_DROP_ARP_KERNEL);
		rte_pktmbuf_free(m);
		return;
	}
	rc = pkt_arp_reply(rte_pktmbuf_mtod(m, uint8_t *), m->data_len, w->snap->cfg.server_ip,
			   w->snap->mac);
	send_in_place(w, m, rc, &w->st->tx_arp, rx_tsc);
}

/* ---- IPv6 router solicitations (ipv6_ra): answered on any lcore, no state ---- */

static void handle_rs(struct eng_worker *w, struct rte_mbuf *m, uint64_t rx_tsc)
{
	uint8_t mac[6];
	int rc;

	w->st->rx_ipv6++;
	if (!w->snap->cfg.ipv6_ra) {
		eng_count_drop(w->st, ENG_DROP_RA_OFF);
		rte_pktmbuf_free(m);
		return;
	}
	memcpy(mac, rte_pktmbuf_mtod(m, uint8_t *) + 6, 6);
	rc = ndp_rs_to_ra(rte_pktmbuf_mtod(m, uint8_t *), m->data_len,
			  m->data_len + rte_pktmbuf_tailroom(m), w->snap->mac);
	if (rc >= 0)
		eng_trace_ra(w, mac);
	send_in_place(w, m, rc, &w->st->tx_ra, rx_tsc);
}

/* ---- DHCP (worker 0 only: the lease pool has one owner) ---- */

static void probe_hold(struct eng_worker *w, struct rte_mbuf *m, const struct pkt_udp *u,
		       struct rte_mbuf *r, const struct pkt_dest *dst, size_t payload_len,
		       const struct dhcp_result *res, uint8_t attempt, uint64_t rx_tsc);

/* An OFFER of an address on this segment, with conflict detection on: probe before sending. */
static inline bool probe_wanted(const struct eng_worker *w, const struct dhcp_result *res, int n)
{
	return unlikely(w->snap->cfg.dhcp.conflict_probe_ms != 0) && n > 0 &&
	       res->msg_out == DHCP_OFFER && res->event == DHCP_LEASE_OFFERED && !res->relayed &&
	       !res->boot_only && res->lease.ip != 0 && w->probe_held != NULL;
}

/* attempt: 1, or the number of the address tried after conflicts (probe_on_reply). */
static void handle_dhcp(struct eng_worker *w, struct rte_mbuf *m, const struct pkt_udp *u,
			uint64_t rx_tsc, uint8_t attempt)
{
	struct snapshot *snap = w->snap;
	struct dhcp_result res;
	struct pkt_dest dst;
	struct rte_mbuf *r;
	uint8_t *out;
	size_t cap;
	uint64_t t0;
	int n;

	if (eng_ctl && !eng_ctl_dhcp_ready(w)) {
		eng_count_drop(w->st, ENG_DROP_DHCP_WAIT_LEASES);
		goto done;
	}
	if (eng_ctl && !eng_ctl_lb_answer(u)) {
		eng_count_drop(w->st, ENG_DROP_DHCP_LB_OTHER);
		goto done;
	}
	r = reply_alloc(w, u, &out, &cap);
	if (r == NULL)
		goto done;
	t0 = eng_stage_tsc();
	n = dhcp_server_handle(&snap->dhcp, u, w->now_unix, out, cap, &dst, &res);
	eng_trace_dhcp(w, &res);
	ENG_STAGE_ADD(w, ENG_STAGE_DHCP, eng_stage_tsc() - t0, 1);
	eng_count_dhcp_in(w->st, res.msg_in);
	/* served, but with an option ignored or a reply trimmed: counted by name (dhcp.h) */
	for (uint32_t an = res.anomalies; unlikely(an); an &= an - 1)
		eng_count_drop(w->st, DHCP_ANOMALY_FIRST + __builtin_ctz(an));
	/* With a control process: the lease event goes there, an ACK waits until durable
	 * (tx_dhcp counted when it leaves) or, under "strict" durability, may not leave. */
	if (eng_ctl && eng_ctl_lease_event(w, &res, n > 0 ? r : NULL, u, &dst,
					   n > 0 ? (size_t)n : 0, rx_tsc) != ENG_CTL_ACK_SEND) {
		w->st->dhcp_replies++;
		goto done;
	}
	if (n <= 0) {
		if (n < 0)
			eng_count_drop(w->st, n);
		rte_pktmbuf_free(r);
		goto done;
	}
	ENG_DEBUG("dhcp %02x:%02x:%02x:%02x:%02x:%02x xid %08x type %u -> %u ip %u.%u.%u.%u "
		  "bootfile %s",
		  res.mac[0], res.mac[1], res.mac[2], res.mac[3], res.mac[4], res.mac[5], res.xid,
		  res.msg_in, res.msg_out, res.lease.ip >> 24, (res.lease.ip >> 16) & 255,
		  (res.lease.ip >> 8) & 255, res.lease.ip & 255, res.bootfile ? res.bootfile : "-");
	w->st->dhcp_replies++;
	if (probe_wanted(w, &res, n)) {
		/* the OFFER waits for the probe; m and r are the probe's now */
		probe_hold(w, m, u, r, &dst, (size_t)n, &res, attempt, rx_tsc);
		return;
	}
	w->st->tx_dhcp++;
	eng_count_dhcp_out(w->st, res.msg_out);
	reply_send(w, r, u, &dst, (size_t)n, rx_tsc);
done:
	rte_pktmbuf_free(m);
}

/* ---- conflict detection before an OFFER (dhcp.conflict_probe_ms, arp_probe.h) ---- */

static void probe_release(struct eng_worker *w, int idx, bool free_req)
{
	struct eng_probe_held *h = &w->probe_held[idx];

	rte_pktmbuf_free(h->offer);
	if (free_req)
		rte_pktmbuf_free(h->req);
	h->req = h->offer = NULL;
	probe_finish(&w->probe, idx);
}

static void probe_hold(struct eng_worker *w, struct rte_mbuf *m, const struct pkt_udp *u,
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
		probe_release(w, idx, true); /* another address now (a reload): probe that one */
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
	tx_stage(w, a, 0);
	return;
drop:
	rte_pktmbuf_free(r);
	rte_pktmbuf_free(m);
}

/* Probes nobody answered in time: their OFFERs go out (worker 0, from the poll loop). */
static void probe_poll(struct eng_worker *w)
{
	int idx;

	while ((idx = probe_expired(&w->probe, w->now_ms)) >= 0) {
		struct eng_probe_held *h = &w->probe_held[idx];

		w->st->dhcp_probes_clear++;
		w->st->tx_dhcp++;
		/* rx TSC 0: the probe's wait is not the engine's latency */
		tx_stage(w, h->offer, 0);
		h->offer = NULL;
		probe_release(w, idx, true);
	}
}

/*
 * A host answered a probe for spa: the address is in use. Quarantine it as for a DHCPDECLINE
 * (decline_quarantine; control learns it as a decline), and serve the DISCOVER again: the pool
 * picks the next address (lease_offer() never offers a client the address it just declined).
 */
static void probe_on_reply(struct eng_worker *w, uint32_t spa, const uint8_t sha[6])
{
	struct snapshot *snap = w->snap;
	struct probe_slot sl;
	struct rte_mbuf *req;
	struct pkt_udp u;
	uint64_t rx_tsc;
	int idx;

	idx = probe_match_reply(&w->probe, spa, sha);
	if (idx < 0) {
		eng_count_drop(w->st, ENG_DROP_PROBE_REPLY_IGNORED);
		return;
	}
	sl = w->probe.slots[idx];
	req = w->probe_held[idx].req;
	rx_tsc = w->probe_held[idx].rx_tsc;
	probe_release(w, idx, false);
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
	    pkt_parse_udp(rte_pktmbuf_mtod(req, const uint8_t *), req->data_len, false, &u) < 0) {
		eng_count_drop(w->st, ENG_DROP_PROBE_GAVE_UP);
		rte_pktmbuf_free(req);
		return;
	}
	handle_dhcp(w, req, &u, rx_tsc, (uint8_t)(sl.attempt + 1));
}

/* ---- TFTP ---- */

static void handoff(struct eng_worker *w, unsigned int idx, struct rte_mbuf *m, uint64_t rx_tsc);

/* ERROR from src_port to the sender of u (requests refused before any session exists). */
static void tftp_send_error(struct eng_worker *w, const struct pkt_udp *u, uint16_t src_port,
			    uint16_t code, const char *msg, uint64_t rx_tsc)
{
	struct pkt_dest dst = {.dst_ip = u->src_ip,
			       .dst_port = u->src_port,
			       .src_ip = w->snap->cfg.server_ip,
			       .src_port = src_port};
	struct rte_mbuf *r;
	uint8_t *out;
	size_t cap;
	int n;

	r = reply_alloc(w, u, &out, &cap);
	if (r == NULL)
		return;
	n = tftp_build_error(out, cap, code, msg);
	if (n < 0) {
		rte_pktmbuf_free(r);
		eng_count_drop(w->st, SB_DROP_REPLY_TOO_BIG);
		return;
	}
	memcpy(dst.dst_mac, u->src_mac, 6);
	w->st->tx_tftp++;
	w->st->tx_tftp_error++;
	reply_send(w, r, u, &dst, (size_t)n, rx_tsc);
}

/* Send what a session call asked for. from: the packet that caused it (NULL for timers). */
static void sess_send(struct eng_worker *w, struct eng_sess *s, const struct tftp_tx *tx,
		      const struct pkt_udp *from, uint64_t rx_tsc)
{
	struct pkt_dest dst = {.dst_ip = s->peer.src_ip,
			       .dst_port = s->peer.src_port,
			       .src_ip = w->snap->cfg.server_ip,
			       .src_port = s->key.server_port};
	struct rte_mbuf *r;
	uint8_t *out;
	size_t cap;
	uint64_t t0, psum;
	int n;

	memcpy(dst.dst_mac, s->peer.src_mac, 6);
	if (tx->error) {
		if (tx->error_to_sender && from)
			tftp_send_error(w, from, s->key.server_port, tx->error_code, tx->error_msg,
					rx_tsc);
		else
			tftp_send_error(w, &s->peer, s->key.server_port, tx->error_code,
					tx->error_msg, rx_tsc);
	}
	if (tx->oack) {
		r = reply_alloc(w, &s->peer, &out, &cap);
		if (r == NULL)
			return;
		n = tftp_build_oack(out, cap, &s->ts.params);
		if (n < 0) {
			rte_pktmbuf_free(r);
			eng_count_drop(w->st, SB_DROP_REPLY_TOO_BIG);
			return;
		}
		w->st->tx_tftp++;
		reply_send(w, r, &s->peer, &dst, (size_t)n, rx_tsc);
	}
	for (uint32_t i = 0; i < tx->data_count; i++) {
		uint64_t block = tx->data_first + i;

		r = reply_alloc(w, &s->peer, &out, &cap);
		if (r == NULL)
			return; /* the session's timer retransmits */
		t0 = eng_stage_tsc();
		n = tftp_build_data(out, cap, &s->ts, block);
		ENG_STAGE_ADD(w, ENG_STAGE_BUILD, eng_stage_tsc() - t0, 1);
		if (n < 0) {
			rte_pktmbuf_free(r);
			eng_count_drop(w->st, SB_DROP_REPLY_TOO_BIG);
			return;
		}
		if (block > s->bytes_block) {
			s->bytes_block = block;
			w->st->tftp_bytes_served += (uint64_t)n - TFTP_HDR_LEN;
			s->bytes_served += (uint64_t)n - TFTP_HDR_LEN;
		}
		w->st->tx_tftp++;
		t0 = eng_stage_tsc();
		psum = data_psum(s, block, out);
		ENG_STAGE_ADD(w, ENG_STAGE_CSUM, eng_stage_tsc() - t0, 0);
		reply_send_psum(w, r, &s->peer, &dst, (size_t)n, psum, rx_tsc);
	}
}


/* ---- multicast TFTP (RFC 2090, mtftp.h): worker 0's streams ---- */

/* Add what the stream counted since the last call to the worker's counters. */
static void mc_report(struct eng_worker *w, struct eng_mstream *m)
{
	const struct mtftp_stats *a = &m->ms.stats;
	struct mtftp_stats *r = &m->reported;
	struct eng_stats *st = w->st;

	st->mtftp_clients_joined += a->clients_joined - r->clients_joined;
	st->mtftp_clients_completed += a->leaves[MTFTP_LEAVE_DONE] - r->leaves[MTFTP_LEAVE_DONE];
	st->mtftp_clients_left += a->leaves[MTFTP_LEAVE_ERROR] - r->leaves[MTFTP_LEAVE_ERROR];
	st->mtftp_clients_lost += a->leaves[MTFTP_LEAVE_TIMEOUT] - r->leaves[MTFTP_LEAVE_TIMEOUT];
	st->mtftp_handovers += a->handovers - r->handovers;
	st->mtftp_oacks_sent += a->oacks_sent - r->oacks_sent;
	st->mtftp_blocks_sent += a->blocks_sent - r->blocks_sent;
	st->mtftp_blocks_resent += a->blocks_resent - r->blocks_resent;
	st->mtftp_blocks_late += a->blocks_late - r->blocks_late;
	st->mtftp_blocks_unicast += a->blocks_unicast - r->blocks_unicast;
	st->mtftp_unicast_fallbacks += a->unicast_fallbacks - r->unicast_fallbacks;
	st->mtftp_bytes_sent += a->bytes_sent - r->bytes_sent;
	*r = *a;
}

/* Send what a stream call asked for: ERROR to the sender, OACK to its client, DATA. */
static void mc_send(struct eng_worker *w, struct eng_sess *s, const struct mtftp_tx *tx,
		    const struct pkt_udp *from, uint64_t rx_tsc)
{
	struct eng_mstream *m = s->mc;
	struct pkt_dest dst = {.src_ip = w->snap->cfg.server_ip, .src_port = m->ms.server_port};
	struct rte_mbuf *r;
	uint8_t *out;
	size_t cap;
	int n;

	if (tx->error && from)
		tftp_send_error(w, from, m->ms.server_port, tx->error_code, tx->error_msg, rx_tsc);
	if (tx->oack) {
		const struct mtftp_client *c = &m->ms.c[tx->oack_client];

		r = reply_alloc(w, &s->peer, &out, &cap);
		if (r == NULL)
			return;
		n = mtftp_build_oack(out, cap, &m->ms, tx);
		if (n < 0) {
			rte_pktmbuf_free(r);
			eng_count_drop(w->st, SB_DROP_REPLY_TOO_BIG);
			return;
		}
		dst.dst_ip = c->ip;
		dst.dst_port = c->port;
		memcpy(dst.dst_mac, m->mac[tx->oack_client], 6);
		w->st->tx_tftp++;
		reply_send(w, r, &s->peer, &dst, (size_t)n, rx_tsc);
	}
	if (tx->data_count == 0)
		return;
	for (int to = 0; to < 2; to++) { /* to the group, then (fallback) to the master */
		if (to == 0) {
			if (!tx->data_group)
				continue;
			dst.dst_ip = m->ms.group_ip;
			dst.dst_port = m->ms.group_port;
			pkt_multicast_mac(m->ms.group_ip, dst.dst_mac);
		} else {
			int ci = tx->data_unicast ? mtftp_find(&m->ms, tx->data_ip, tx->data_port) : -1;

			if (ci < 0)
				continue;
			dst.dst_ip = tx->data_ip;
			dst.dst_port = tx->data_port;
			memcpy(dst.dst_mac, m->mac[ci], 6);
		}
		for (uint32_t i = 0; i < tx->data_count; i++) {
			r = reply_alloc(w, &s->peer, &out, &cap);
			if (r == NULL)
				return; /* the stream's timer resends */
			n = mtftp_build_data(out, cap, &m->ms, tx->data_first + i);
			if (n < 0) {
				rte_pktmbuf_free(r);
				eng_count_drop(w->st, SB_DROP_REPLY_TOO_BIG);
				return;
			}
			w->st->tx_tftp++;
			w->st->mtftp_tx_bytes += pkt_hdr_len(&s->peer) + (size_t)n;
			if (to == 0 && m->group_idx < RTE_DIM(w->st->mtftp_group_tx_bytes))
				w->st->mtftp_group_tx_bytes[m->group_idx] +=
					pkt_hdr_len(&s->peer) + (size_t)n;
			reply_send(w, r, &s->peer, &dst, (size_t)n, rx_tsc);
		}
	}
}

static void sess_timer_cb(struct rte_timer *tim, void *arg);

/* After a call into a stream: count, close it once its last client left, else arm its timer. */
static void mc_after(struct eng_worker *w, struct eng_sess *s)
{
	struct eng_mstream *m = s->mc;
	uint64_t deadline, ticks;

	mc_report(w, m);
	if (mtftp_ended(&m->ms)) {
		w->st->mtftp_streams_ended++;
		w->st->mtftp_streams_active--;
		ENG_LOG(INFO,
			"mtftp stream \"%s\" to %u.%u.%u.%u:%u ended: %u clients, %u hand-overs, "
			"%" PRIu64 " blocks sent (%" PRIu64 " again for late joiners, %" PRIu64
			" unicast) in %" PRIu64 " ms",
			m->image, m->ms.group_ip >> 24, (m->ms.group_ip >> 16) & 255,
			(m->ms.group_ip >> 8) & 255, m->ms.group_ip & 255, m->ms.group_port,
			m->ms.stats.clients_joined, m->ms.stats.handovers, m->ms.stats.blocks_sent,
			m->ms.stats.blocks_late, m->ms.stats.blocks_unicast, w->now_ms - m->ms.started);
		__atomic_store_n(&m->open, false, __ATOMIC_RELAXED);
		m->slot = NULL;
		s->mc = NULL;
		tftp_table_close(&w->sess, s);
		return;
	}
	deadline = mtftp_next_deadline(&m->ms);
	if (s->armed_ms != 0 && s->armed_ms <= deadline)
		return;
	ticks = deadline > w->now_ms ? eng_clock_ms_to_tsc(&w->rt->clock, deadline - w->now_ms) : 0;
	rte_timer_reset(&s->timer, ticks, SINGLE, w->lcore_id, sess_timer_cb, s);
	s->armed_ms = deadline;
}

/* A group of tftp.multicast.groups for image name that no open stream uses; -1 if none. */
static int mc_pick_group(const struct eng_worker *w, const struct sbcfg_mtftp *cfg,
			 const char *name)
{
	uint32_t n = 1u << (32 - cfg->group_len), h = 2166136261u;

	if (n > ENG_MTFTP_GROUPS)
		n = ENG_MTFTP_GROUPS;
	for (const char *p = name; *p; p++) /* FNV-1a: an image keeps its group across runs */
		h = (h ^ (uint8_t)*p) * 16777619u;
	for (uint32_t k = 0; k < n; k++) {
		uint32_t g = (h + k) % n;
		bool used = false;

		for (unsigned int i = 0; i < ENG_MTFTP_STREAMS && !used; i++)
			used = w->mstreams[i].open && w->mstreams[i].group_idx == g;
		if (!used)
			return (int)g;
	}
	return -1;
}

/*
 * An RRQ with the multicast option (octet, multicast on, worker 0): join the image's stream
 * or start one. Returns 0 when handled (answered, or held like any paced RRQ), -1 when it is
 * to be served unicast (stream full, no stream or group free).
 */
static int mc_request(struct eng_worker *w, const struct pkt_udp *u, const struct tftp_rrq *rrq,
		      const struct catalog_entry *ce, uint64_t rx_tsc)
{
	struct snapshot *snap = w->snap;
	const struct sbcfg_mtftp *mcfg = &snap->cfg.tftp.multicast;
	struct eng_mstream *m = NULL;
	struct tftp_params p;
	struct mtftp_tx tx;
	struct eng_sess *s;
	int rc, repeat, g;

	/* the client's stream (a repeated RRQ), else a stream of the image it can join */
	for (unsigned int i = 0; i < ENG_MTFTP_STREAMS && !m; i++) {
		struct eng_mstream *c = &w->mstreams[i];

		if (c->open && c->ms.data == ce->data && c->ms.size == ce->size &&
		    mtftp_find(&c->ms, u->src_ip, u->src_port) >= 0)
			m = c;
	}
	for (unsigned int i = 0; i < ENG_MTFTP_STREAMS && !m; i++) {
		struct eng_mstream *c = &w->mstreams[i];

		if (c->open && c->ms.data == ce->data && c->ms.size == ce->size &&
		    c->ms.n_clients < MTFTP_CLIENTS_MAX && mtftp_joinable(&c->ms, rrq, &snap->tftp))
			m = c;
	}
	if (m == NULL) {
		for (unsigned int i = 0; i < ENG_MTFTP_STREAMS && !m; i++)
			if (!w->mstreams[i].open)
				m = &w->mstreams[i];
		g = m ? mc_pick_group(w, mcfg, ce->name) : -1;
		if (g < 0) {
			if (rte_is_power_of_2(w->st->mtftp_rrq_unicast + 1))
				ENG_LOG(WARNING,
					"mtftp: no stream or group free for \"%s\" (%u streams, "
					"groups %u.%u.%u.%u/%u): served unicast",
					ce->name, ENG_MTFTP_STREAMS, mcfg->group_lo >> 24,
					(mcfg->group_lo >> 16) & 255, (mcfg->group_lo >> 8) & 255,
					mcfg->group_lo & 255, mcfg->group_len);
			return -1;
		}
		s = tftp_table_open(&w->sess, u->src_ip, u->src_port, snapshot_image(snap, ce));
		if (s == NULL) {
			eng_count_drop(w->st, w->sess.refused); /* paced: the client retransmits */
			return 0;
		}
		tftp_negotiate(rrq, ce->size, ce->size, &snap->tftp, &p);
		memset(m, 0, sizeof(*m));
		if (mtftp_stream_init(&m->ms, mcfg->group_lo + (uint32_t)g, mcfg->port,
				      s->key.server_port, ce, p.blksize, &snap->tftp,
				      w->now_ms) < 0) {
			tftp_table_close(&w->sess, s);
			return -1;
		}
		m->slot = s;
		m->group_idx = (uint32_t)g;
		snprintf(m->image, sizeof(m->image), "%s", ce->name);
		s->mc = m;
		s->peer = *u;
		s->peer.payload = NULL;
		s->peer.payload_len = 0;
		s->start_tsc = rx_tsc;
		__atomic_store_n(&m->open, true, __ATOMIC_RELAXED);
		w->st->mtftp_streams_started++;
		w->st->mtftp_streams_active++;
		ENG_LOG(INFO, "mtftp stream \"%s\" to %u.%u.%u.%u:%u from port %u, blksize %u",
			ce->name, m->ms.group_ip >> 24, (m->ms.group_ip >> 16) & 255,
			(m->ms.group_ip >> 8) & 255, m->ms.group_ip & 255, m->ms.group_port,
			m->ms.server_port, m->ms.blksize);
	}
	s = m->slot;
	rc = mtftp_join(&m->ms, u->src_ip, u->src_port, rrq, &snap->tftp, w->now_ms, &tx, &repeat);
	if (repeat)
		eng_count_drop(w->st, repeat);
	if (rc == -SB_DROP_MTFTP_STREAM_FULL) {
		eng_count_drop(w->st, rc);
		return -1;
	}
	if (rc < 0) {
		if (m->ms.n_clients == 0) { /* a stream that never got a client: not left open */
			m->ms.ended = true;
			m->ms.deadline = UINT64_MAX;
		}
		mc_after(w, s);
		return -1;
	}
	memcpy(m->mac[tx.oack_client], u->src_mac, 6);
	ENG_DEBUG("mtftp %u.%u.%u.%u:%u joins \"%s\" (%u clients)%s", u->src_ip >> 24,
		  (u->src_ip >> 16) & 255, (u->src_ip >> 8) & 255, u->src_ip & 255, u->src_port,
		  m->image, m->ms.n_clients, repeat ? " again" : "");
	mc_send(w, s, &tx, u, rx_tsc);
	mc_after(w, s);
	return 0;
}

static void mc_packet(struct eng_worker *w, struct eng_sess *s, const struct pkt_udp *u,
		      uint64_t rx_tsc)
{
	struct mtftp_tx tx;
	int rc;

	rc = mtftp_on_packet(&s->mc->ms, u->src_ip, u->src_port, u->payload, u->payload_len,
			     w->now_ms, &tx);
	if (rc < 0)
		eng_count_drop(w->st, rc);
	mc_send(w, s, &tx, u, rx_tsc);
	mc_after(w, s);
}

static void mc_timer(struct eng_worker *w, struct eng_sess *s)
{
	struct mtftp_tx tx;
	int n;

	if (w->now_ms >= mtftp_next_deadline(&s->mc->ms)) {
		n = mtftp_on_timer(&s->mc->ms, w->now_ms, &tx);
		if (n > 0) {
			w->st->tx_tftp_retransmit += (uint64_t)n;
			mc_send(w, s, &tx, NULL, 0);
		}
	}
	mc_after(w, s);
}

/* After a call into the session: close it if it ended, else make sure its timer is armed. */
static void sess_after(struct eng_worker *w, struct eng_sess *s)
{
	uint64_t deadline, ticks;

	if (tftp_session_ended(&s->ts)) {
		switch (s->ts.end) {
		case TFTP_END_DONE:
			w->st->tftp_sessions_completed++;
			break;
		case TFTP_END_TIMEOUT:
			w->st->tftp_sessions_given_up++;
			break;
		case TFTP_END_OPTION_REFUSED:
			/* PXE firmware's RRQ for the tsize alone: a normal step of a boot */
			w->st->tftp_sessions_size_probe++;
			break;
		default:
			w->st->tftp_sessions_aborted++;
			break;
		}
		w->st->tftp_sessions_active--;
		eng_trace_end(w, s);
		ENG_DEBUG("tftp session %u.%u.%u.%u:%u port %u ended: %s, %" PRIu64
			  " blocks (%" PRIu64 " resent) in %" PRIu64 " ms",
			  s->key.client_ip >> 24, (s->key.client_ip >> 16) & 255,
			  (s->key.client_ip >> 8) & 255, s->key.client_ip & 255, s->key.client_port,
			  s->key.server_port, tftp_end_name(s->ts.end), s->ts.stats.blocks_sent,
			  s->ts.stats.blocks_resent, w->now_ms - s->ts.started);
		tftp_table_close(&w->sess, s);
		return;
	}
	deadline = tftp_session_next_deadline(&s->ts);
	if (s->armed_ms != 0 && s->armed_ms <= deadline)
		return; /* fires earlier than needed; the callback re-arms */
	ticks = deadline > w->now_ms ? eng_clock_ms_to_tsc(&w->rt->clock, deadline - w->now_ms) : 0;
	rte_timer_reset(&s->timer, ticks, SINGLE, w->lcore_id, sess_timer_cb, s);
	s->armed_ms = deadline;
}

static void sess_timer_cb(struct rte_timer *tim, void *arg)
{
	struct eng_sess *s = arg;
	struct eng_worker *w = RTE_PER_LCORE(timer_worker);
	struct tftp_tx tx;
	int n;

	s->armed_ms = 0;
	if (!s->open)
		return;
	if (s->mc) {
		mc_timer(w, s);
		return;
	}
	if (w->now_ms >= tftp_session_next_deadline(&s->ts)) {
		n = tftp_session_on_timer(&s->ts, w->now_ms, &tx);
		if (n > 0) {
			w->st->tx_tftp_retransmit += n;
			eng_trace_resend(w, s, (uint32_t)n, tx.data_first);
			sess_send(w, s, &tx, NULL, 0);
		}
	}
	sess_after(w, s);
}

/*
 * Start the session s just opened for u's RRQ rrq of image ce, and send its first packet
 * (OACK or DATA 1). rx_tsc: the RRQ's rx TSC, 0 for a client admitted from the queue (no
 * latency sample: its RRQ arrived long before). Returns 0, or -1 (s closed again).
 */
static int sess_begin(struct eng_worker *w, const struct pkt_udp *u, const struct tftp_rrq *rrq,
		      const struct catalog_entry *ce, struct eng_sess *s, uint64_t rx_tsc)
{
	struct tftp_peer peer;
	struct tftp_tx tx;

	s->peer = *u;
	s->peer.payload = NULL;
	s->peer.payload_len = 0;
	s->start_tsc = rx_tsc ? rx_tsc : w->now_tsc;
	s->bytes_block = 0;
	peer.client_ip = u->src_ip;
	peer.client_port = u->src_port;
	peer.server_port = s->key.server_port;
	/* The session copies its limits and reads its image's bytes: not the snapshot's. */
	if (tftp_session_start(&s->ts, &peer, rrq, ce, &w->snap->tftp, w->now_ms, &tx) < 0) {
		tftp_table_close(&w->sess, s);
		return -1;
	}
	w->st->tftp_sessions_started++;
	w->st->tftp_sessions_active++;
	{ /* cut to the timeline's text size */
		size_t nl = strnlen(ce->name, sizeof(s->tl_name) - 1);

		memcpy(s->tl_name, ce->name, nl);
		s->tl_name[nl] = '\0';
	}
	eng_trace_rrq(w, u, ce->name, &s->ts.params, s->key.server_port);
	ENG_DEBUG("tftp session %u.%u.%u.%u:%u port %u: \"%s\" blksize %u windowsize %u%s",
		  u->src_ip >> 24, (u->src_ip >> 16) & 255, (u->src_ip >> 8) & 255, u->src_ip & 255,
		  u->src_port, s->key.server_port, ce->name, s->ts.params.blksize,
		  s->ts.params.windowsize, rx_tsc ? "" : " (admitted from the queue)");
	sess_send(w, s, &tx, u, rx_tsc);
	sess_after(w, s);
	return 0;
}

/* The admission queue's counters, mirrored into this lcore's stats. */
static void wait_sync_stats(struct eng_worker *w)
{
	const struct tftp_wait_stats *q = &w->wait.st;

	w->st->tftp_wait_held = q->held;
	w->st->tftp_wait_refreshed = q->refreshed;
	w->st->tftp_wait_admitted = q->admitted;
	w->st->tftp_wait_full = q->full;
	w->st->tftp_wait_expired = q->expired;
	w->st->tftp_wait_too_long = q->too_long;
	w->st->tftp_waiting = tftp_wait_len(&w->wait);
}

/* u's RRQ found no slot: remember the client in arrival order (tftp_wait.h). */
static void wait_hold(struct eng_worker *w, const struct pkt_udp *u)
{
	int rc = tftp_wait_hold(&w->wait, u, w->now_ms);

	/* Powers of two only: a storm must not turn into a log storm. */
	if (rc == -ENOSPC && rte_is_power_of_2(w->wait.st.full))
		ENG_LOG(WARNING,
			"lcore %u: TFTP admission queue full (%u clients waiting): %" PRIu64
			" requests held outside arrival order so far (their retransmissions try "
			"again)",
			w->lcore_id, tftp_wait_len(&w->wait), w->wait.st.full);
	wait_sync_stats(w);
}

static inline bool sess_room(const struct tftp_table *t)
{
	return t->n_free_slots > 0 && tftp_ports_peek(&t->ports) != 0;
}

/*
 * Free slots go to the oldest waiting clients: each one's session starts at once from the
 * RRQ kept in the queue (its OACK or DATA 1 goes out now, not after its next retransmission).
 * The request is checked again against the current snapshot (the catalog or the client's image
 * list may have changed while it waited).
 */
static void wait_admit(struct eng_worker *w)
{
	struct snapshot *snap = w->snap;
	bool moved = false;

	while (tftp_wait_len(&w->wait) > 0 && sess_room(&w->sess)) {
		const struct tftp_waiter *q = tftp_wait_pop(&w->wait, w->now_ms);
		const struct catalog_entry *ce;
		struct tftp_rrq rrq;
		struct pkt_udp u;
		struct eng_sess *s;
		int rc;

		moved = true;
		if (q == NULL)
			break; /* the rest had given up */
		u = q->peer;
		u.payload = q->rrq;
		u.payload_len = q->rrq_len;
		rc = tftp_parse_request(u.payload, u.payload_len, &rrq);
		ce = rc == 0 ? catalog_lookup(&snap->catalog, rrq.filename, rrq.filename_len, &rc)
			     : NULL;
		if (ce == NULL ||
		    (unlikely(snap->cfg.images_restricted) &&
		     !sbcfg_image_allowed(&snap->cfg, u.src_mac, u.src_ip, ce->name, NULL)) ||
		    tftp_table_by_client(&w->sess, u.src_ip, u.src_port) != NULL) {
			/* its retransmission, if any, is answered as a new request */
			w->st->tftp_wait_failed++;
			continue;
		}
		s = tftp_table_open(&w->sess, u.src_ip, u.src_port, snapshot_image(snap, ce));
		if (s == NULL || sess_begin(w, &u, &rrq, ce, s, 0) < 0)
			w->st->tftp_wait_failed++;
	}
	if (moved)
		wait_sync_stats(w);
}

static void handle_tftp_request(struct eng_worker *w, struct rte_mbuf *m, const struct pkt_udp *u,
				uint64_t rx_tsc)
{
	struct snapshot *snap = w->snap;
	const struct catalog_entry *ce = NULL;
	struct tftp_rrq rrq;
	struct eng_sess *s;
	const char *msg;
	uint16_t code;
	int rc;

	rc = tftp_parse_request(u->payload, u->payload_len, &rrq);
	if (rc == 0) {
		ce = catalog_lookup(&snap->catalog, rrq.filename, rrq.filename_len, &rc);
		if (ce == NULL && rc == -SB_DROP_TFTP_NOT_FOUND) {
			w->st->tftp_not_found++;
			ENG_DEBUG("tftp %u.%u.%u.%u:%u asked for \"%.*s\": not in the catalog",
				  u->src_ip >> 24, (u->src_ip >> 16) & 255, (u->src_ip >> 8) & 255,
				  u->src_ip & 255, u->src_port, (int)rrq.filename_len,
				  rrq.filename);
		}
	}
	if (rc < 0) {
		eng_count_drop(w->st, rc);
		if (ce == NULL && rc == -SB_DROP_TFTP_NOT_FOUND)
			eng_trace_refused(w, u, rrq.filename, rrq.filename_len,
					  SB_TL_REFUSE_NOT_FOUND);
		else
			eng_trace_refused(w, u, NULL, 0, SB_TL_REFUSE_OTHER);
		if (tftp_error_for_drop(rc, &code, &msg))
			tftp_send_error(w, u, SB_PORT_TFTP, code, msg, rx_tsc);
		goto done;
	}
	/* Per-client image lists (config images_allowed): one branch when there are none. */
	if (unlikely(snap->cfg.images_restricted) &&
	    !sbcfg_image_allowed(&snap->cfg, u->src_mac, u->src_ip, ce->name, NULL)) {
		eng_count_drop(w->st, SB_DROP_TFTP_IMAGE_FORBIDDEN);
		eng_trace_refused(w, u, ce->name, strlen(ce->name), SB_TL_REFUSE_FORBIDDEN);
		tftp_send_error(w, u, SB_PORT_TFTP, TFTP_ERR_ACCESS, "Access violation", rx_tsc);
		/* Powers of two only: a refused client that retries must not flood the log. */
		if (rte_is_power_of_2(w->st->drops[SB_DROP_TFTP_IMAGE_FORBIDDEN]))
			ENG_LOG(WARNING,
				"lcore %u: tftp %u.%u.%u.%u (%02x:%02x:%02x:%02x:%02x:%02x) "
				"may not fetch \"%s\" (images_allowed): %" PRIu64 " refused so far",
				w->lcore_id, u->src_ip >> 24, (u->src_ip >> 16) & 255,
				(u->src_ip >> 8) & 255, u->src_ip & 255, u->src_mac[0],
				u->src_mac[1], u->src_mac[2], u->src_mac[3], u->src_mac[4],
				u->src_mac[5], ce->name,
				w->st->drops[SB_DROP_TFTP_IMAGE_FORBIDDEN]);
		goto done;
	}
	/* RFC 2090: one stream per image for the clients that ask for multicast (worker 0's). */
	if (unlikely(rrq.opts & TFTP_OPT_MULTICAST)) {
		if (!snap->cfg.tftp.multicast.enabled || rrq.mode != TFTP_MODE_OCTET) {
			w->st->mtftp_rrq_unicast++;
		} else if (w->idx != 0) {
			handoff(w, 0, m, rx_tsc);
			return;
		} else if (mc_request(w, u, &rrq, ce, rx_tsc) == 0) {
			goto done;
		} else {
			w->st->mtftp_rrq_unicast++;
		}
	}
	/*
	 * A client resends its RRQ when the first answer is late (RFC 1350 2). The session
	 * it opened resends its packet on its own timer; a second session would answer from
	 * a second port, and the client, already talking to the first, would abort.
	 */
	if (tftp_table_by_client(&w->sess, u->src_ip, u->src_port) != NULL) {
		eng_count_drop(w->st, ENG_DROP_RRQ_DUP);
		eng_trace_refused(w, u, ce->name, strlen(ce->name), SB_TL_REFUSE_DUPLICATE);
		goto done;
	}
	/*
	 * Clients are waiting for a slot: this one queues behind them (or keeps its place if it
	 * is one of them), held unanswered like any paced RRQ; the oldest gets the next slot.
	 */
	if (unlikely(tftp_wait_len(&w->wait) > 0)) {
		eng_count_drop(w->st, ENG_DROP_RRQ_PACED);
		eng_trace_refused(w, u, ce->name, strlen(ce->name), SB_TL_REFUSE_PACED);
		wait_hold(w, u);
		wait_admit(w);
		goto done;
	}
	s = tftp_table_open(&w->sess, u->src_ip, u->src_port, snapshot_image(snap, ce));
	if (s == NULL) {
		/*
		 * Storms are paced, never refused: PXE firmware takes a TFTP ERROR as fatal. The
		 * RRQ is held unanswered; the client's own retransmission (RFC 1350 2) comes
		 * back and finds a slot once a transfer ends.
		 */
		eng_count_drop(w->st, w->sess.refused);
		eng_trace_refused(w, u, ce->name, strlen(ce->name), SB_TL_REFUSE_PACED);
		/* Powers of two only: a storm must not turn into a log storm. */
		if (w->sess.refused == ENG_DROP_RRQ_PACED &&
		    rte_is_power_of_2(w->st->drops[ENG_DROP_RRQ_PACED]))
			ENG_LOG(WARNING,
				"lcore %u: TFTP session table full (%u sessions): %" PRIu64
				" requests held unanswered so far, %u clients waiting in arrival "
				"order",
				w->lcore_id, w->sess.cap, w->st->drops[ENG_DROP_RRQ_PACED],
				tftp_wait_len(&w->wait) + 1);
		if (w->sess.refused == ENG_DROP_RRQ_PACED)
			wait_hold(w, u);
		goto done;
	}
	(void)sess_begin(w, u, &rrq, ce, s, rx_tsc);
done:
	rte_pktmbuf_free(m);
}

static void handle_tftp_transfer(struct eng_worker *w, struct rte_mbuf *m, const struct pkt_udp *u,
				 uint64_t rx_tsc)
{
	struct eng_sess *s;
	struct tftp_tx tx;
	uint64_t t0 = eng_stage_tsc(), t1;
	int rc;

	s = tftp_table_lookup(&w->sess, u->src_ip, u->src_port, u->dst_port);
	t1 = eng_stage_tsc();
	ENG_STAGE_ADD(w, ENG_STAGE_LOOKUP, t1 - t0, 1);
	if (s == NULL) {
		/* A live session on that port with another client: RFC 1350 4, ERROR 5. */
		s = tftp_table_by_port(&w->sess, u->dst_port);
		if (s == NULL) {
			eng_count_drop(w->st, ENG_DROP_SESS_UNKNOWN);
			goto done;
		}
	}
	if (s->mc) {
		mc_packet(w, s, u, rx_tsc);
		goto done;
	}
	t0 = eng_stage_tsc();
	rc = tftp_session_on_packet(&s->ts, u->src_ip, u->src_port, u->payload, u->payload_len,
				    w->now_ms, &tx);
	ENG_STAGE_ADD(w, ENG_STAGE_SESSION, eng_stage_tsc() - t0, 1);
	if (rc < 0)
		eng_count_drop(w->st, rc);
	sess_send(w, s, &tx, u, rx_tsc);
	sess_after(w, s);
done:
	t0 = eng_stage_tsc();
	rte_pktmbuf_free(m);
	ENG_STAGE_ADD(w, ENG_STAGE_FREE, eng_stage_tsc() - t0, 1);
}

/* ---- classification ---- */

/* Which worker owns a transfer port (ports are split evenly between workers). */
static inline unsigned int port_owner(const struct eng_runtime *rt, uint16_t port)
{
	for (unsigned int i = 0; i < rt->n_workers; i++)
		if (tftp_table_owns_port(&rt->workers[i]->sess, port))
			return i;
	return UINT32_MAX;
}

/* Give m to worker idx (keeping its rx TSC for the latency histogram). */
static void handoff(struct eng_worker *w, unsigned int idx, struct rte_mbuf *m, uint64_t rx_tsc)
{
	*rx_tsc_field(w->rt, m) = rx_tsc;
	if (rte_ring_enqueue(w->rt->workers[idx]->inbox, m) < 0) {
		eng_count_drop(w->st, ENG_DROP_HANDOFF_FULL);
		rte_pktmbuf_free(m);
	}
}

static void handle_frame(struct eng_worker *w, struct rte_mbuf *m, uint64_t rx_tsc)
{
	const struct snapshot *snap = w->snap;
	const uint8_t *frame = rte_pktmbuf_mtod(m, const uint8_t *);
	struct pkt_udp u;
	size_t l3;
	unsigned int owner;
	uint64_t t0;
	int rc;

	if (unlikely(m->nb_segs > 1)) {
		eng_count_drop(w->st, ENG_DROP_RX_MULTISEG);
		rte_pktmbuf_free(m);
		return;
	}
	t0 = eng_stage_tsc();
	rc = pkt_parse_udp(frame, m->data_len, snap->cfg.udp_csum == SBCFG_CSUM_VERIFY, &u);
	ENG_STAGE_ADD(w, ENG_STAGE_PARSE, eng_stage_tsc() - t0, 1);
	if (unlikely(rc < 0)) {
		int et = rc == -SB_DROP_NOT_IPV4 ? pkt_ethertype(frame, m->data_len, &l3) : -1;

		if (et == PKT_ETHERTYPE_ARP) {
			handle_arp(w, m, rx_tsc);
			return;
		}
		if (et == PKT_ETHERTYPE_IPV6) {
			handle_rs(w, m, rx_tsc);
			return;
		}
		eng_count_drop(w->st, rc);
		rte_pktmbuf_free(m);
		return;
	}
	switch (u.dst_port) {
	case SB_PORT_DHCP_SERVER:
	case SB_PORT_PXE:
		if (w->idx != 0) {
			handoff(w, 0, m, rx_tsc);
			return;
		}
		if (u.dst_port == SB_PORT_PXE)
			w->st->rx_pxe++;
		else
			w->st->rx_dhcp++;
		handle_dhcp(w, m, &u, rx_tsc, 1);
		return;
	case SB_PORT_TFTP:
		w->st->rx_tftp_req++;
		if (!snap->cfg.tftp.enabled) {
			eng_count_drop(w->st, ENG_DROP_TFTP_OFF);
			eng_trace_refused(w, &u, NULL, 0, SB_TL_REFUSE_TFTP_OFF);
			break;
		}
		if (u.dst_ip != snap->cfg.server_ip) {
			eng_count_drop(w->st, ENG_DROP_NOT_OUR_IP);
			break;
		}
		handle_tftp_request(w, m, &u, rx_tsc);
		return;
	default:
		if (!tftp_table_owns_port(&w->sess, u.dst_port)) {
			owner = w->rt->n_workers > 1 ? port_owner(w->rt, u.dst_port) : UINT32_MAX;
			if (owner != UINT32_MAX) {
				handoff(w, owner, m, rx_tsc);
				return;
			}
			eng_count_drop(w->st, SB_DROP_UDP_NO_SERVICE);
			break;
		}
		w->st->rx_tftp_xfer++;
		if (u.dst_ip != snap->cfg.server_ip) {
			eng_count_drop(w->st, ENG_DROP_NOT_OUR_IP);
			break;
		}
		handle_tftp_transfer(w, m, &u, rx_tsc);
		return;
	}
	rte_pktmbuf_free(m);
}

static void run_timers(struct eng_worker *w, uint64_t tsc)
{
	w->now_tsc = tsc;
	w->now_ms = eng_clock_ms(&w->rt->clock, tsc);
	w->st->timer_runs++;
	rte_timer_manage();
}

/*
 * One rx burst from the port and one from the inbox (frames other lcores handed over, with
 * their rx TSC), counted once here, each handled. Returns the number of frames.
 */
static uint16_t rx_handle(struct eng_worker *w, struct rte_mbuf **pkts, uint64_t tsc)
{
	const struct eng_runtime *rt = w->rt;
	uint16_t nb_rx, nb_in = 0, i;
	uint64_t bytes = 0, t0 = eng_stage_tsc();

	nb_rx = rte_eth_rx_burst(rt->port.port_id, w->queue, pkts, ENG_BURST);
	if (nb_rx)
		ENG_STAGE_ADD(w, ENG_STAGE_RX, eng_stage_tsc() - t0, nb_rx);
	if (w->inbox)
		nb_in = (uint16_t)rte_ring_dequeue_burst(w->inbox, (void **)(pkts + nb_rx),
							 ENG_BURST - nb_rx, NULL);
	if (nb_rx + nb_in == 0)
		return 0;
	w->now_tsc = tsc;
	w->now_ms = eng_clock_ms(&rt->clock, tsc);
	w->now_unix = eng_clock_unix_s(&rt->clock, tsc);
	for (i = 0; i < nb_rx + nb_in; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	for (i = 0; i < nb_rx; i++)
		bytes += pkts[i]->pkt_len;
	w->st->rx_pkts += nb_rx; /* a handed-over frame was counted by the lcore that took it */
	w->st->rx_bytes += bytes;
	w->st->rx_handoff += nb_in;
	for (i = 0; i < nb_rx; i++)
		handle_frame(w, pkts[i], tsc);
	for (; i < nb_rx + nb_in; i++)
		handle_frame(w, pkts[i], *rx_tsc_field(rt, pkts[i]));
	return nb_rx + nb_in;
}

int eng_lcore_main(void *arg)
{
	struct eng_runtime *rt = arg;
	struct eng_worker *w = rt->by_lcore[rte_lcore_id()];
	struct rte_mbuf *pkts[ENG_BURST];
	const uint64_t timer_period = rt->clock.hz / (1000000 / ENG_TIMER_US);
	uint64_t tsc, last_timers = 0;
	uint32_t empty = 0;
	uint16_t nb;

	if (w == NULL)
		return 0;
	RTE_PER_LCORE(timer_worker) = w;
	ENG_LOG(INFO, "lcore %u polls port %u queue %u, transfer ports %u-%u, %u sessions%s",
		w->lcore_id, rt->port.port_id, w->queue, w->sess.port_lo, w->sess.port_hi,
		w->sess.cap, w->idx == 0 ? ", DHCP" : "");
	while (!eng_force_quit) {
		tsc = rte_rdtsc();
		/* A new config snapshot (RCU), durable ACKs, control's lease jobs. */
		eng_ctl_worker_poll(w, tsc);
		if (unlikely(tsc - last_timers > timer_period)) {
			run_timers(w, tsc); /* retransmissions go out with this iteration's tx */
			last_timers = tsc;
			if (unlikely(w->probe.n != 0))
				probe_poll(w); /* OFFERs whose probe nobody answered */
		}
		nb = rx_handle(w, pkts, tsc);
		/* Slots freed by this burst or the timers go to the oldest waiting clients. */
		if (unlikely(tftp_wait_len(&w->wait) > 0) && sess_room(&w->sess))
			wait_admit(w);
		tx_flush(w); /* replies and retransmissions: one tx burst per iteration */
		if (nb > 0) {
			w->st->busy_ns += eng_tsc_to_ns(rt, rte_rdtsc() - tsc);
			empty = 0;
		} else if (unlikely(rt->idle_us) && ++empty > ENG_IDLE_POLLS) {
			rte_delay_us_sleep(rt->idle_us); /* -I: a lab with more pollers than CPUs */
		}
	}
	for (uint32_t i = 0; w->probe.n != 0 && i < w->probe.cap; i++)
		if (w->probe.slots[i].ip != 0)
			probe_release(w, (int)i, true); /* OFFERs still waiting: not sent */
	tx_flush(w);
	eng_ctl_worker_exit(w);
	ENG_LOG(INFO, "lcore %u stops: %u TFTP sessions open", w->lcore_id, w->sess.n_active);
	return 0;
}
