/* SPDX-License-Identifier: BSD-3-Clause */
/* reply.c - frames out of the poll loop (see reply.h). */
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "pkt.h"
#include "reply.h"
#include "snapshot.h"
#include "tftp.h"

/* Send what is staged; free (and count) what the tx ring did not take. */
void eng_tx_flush(struct eng_worker *w)
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
	w->st->tx_bursts++;
	w->tx_n = 0;
}

/* A fresh mbuf for a reply; *payload points where the UDP payload goes (after req's headers). */
struct rte_mbuf *eng_reply_alloc(struct eng_worker *w, const struct pkt_udp *req, uint8_t **payload,
				 size_t *payload_cap)
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
void eng_reply_send_psum(struct eng_worker *w, struct rte_mbuf *m, const struct pkt_udp *req,
			 const struct pkt_dest *dst, size_t payload_len, uint64_t psum,
			 uint64_t rx_tsc)
{
	uint64_t t0 = eng_stage_tsc();
	int flen = pkt_build_udp_psum(rte_pktmbuf_mtod(m, uint8_t *), rte_pktmbuf_tailroom(m), req,
				      w->snap->mac, dst, payload_len, psum);

	ENG_STAGE_ADD(w, ENG_STAGE_CSUM, eng_stage_tsc() - t0, 1);
	if (unlikely(flen < 0)) {
		eng_count_drop(w->st, flen);
		rte_pktmbuf_free(m);
		return;
	}
	m->data_len = (uint16_t)flen;
	m->pkt_len = (uint32_t)flen;
	eng_tx_stage(w, m, rx_tsc);
}

/* A request turned into its reply in place: rc is the reply's length, or -SB_DROP_x. */
void eng_send_in_place(struct eng_worker *w, struct rte_mbuf *m, int rc, uint64_t *sent,
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
	eng_tx_stage(w, m, rx_tsc);
}

/* Give m to worker idx (keeping its rx TSC for the latency histogram). */
void eng_handoff(struct eng_worker *w, unsigned int idx, struct rte_mbuf *m, uint64_t rx_tsc)
{
	*eng_rx_tsc_field(w->rt, m) = rx_tsc;
	if (rte_ring_enqueue(w->rt->workers[idx]->inbox, m) < 0) {
		eng_count_drop(w->st, ENG_DROP_HANDOFF_FULL);
		rte_pktmbuf_free(m);
	}
}

/* ERROR from src_port to the sender of u (requests refused before any session exists). */
void eng_tftp_send_error(struct eng_worker *w, const struct pkt_udp *u, uint16_t src_port,
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

	r = eng_reply_alloc(w, u, &out, &cap);
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
	eng_reply_send(w, r, u, &dst, (size_t)n, rx_tsc);
}
