/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * reply.h - frames out of the poll loop: a reply built into a fresh mbuf (or a request turned
 * into its reply in place), staged for the iteration's one tx burst with the rx TSC of the
 * packet that caused it (the latency histograms count from there; it leaves early once the
 * oldest staged reply has waited ENG_TX_HOLD_NS), and frames handed to the
 * worker that owns them. Counted where they are dropped. Used by lcore.c and the handlers it
 * calls (conflict_probe.c, mstream.c).
 */
#ifndef SB_ENG_REPLY_H
#define SB_ENG_REPLY_H

#include <stddef.h>
#include <stdint.h>

#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

#include "engine.h"
#include "pkt.h"

/* Where a frame handed to another worker keeps its rx TSC. */
static inline uint64_t *eng_rx_tsc_field(const struct eng_runtime *rt, struct rte_mbuf *m)
{
	return RTE_MBUF_DYNFIELD(m, rt->tsc_dynfield, uint64_t *);
}

/* Send what is staged; free (and count) what the tx ring did not take. */
void eng_tx_flush(struct eng_worker *w);

static inline void eng_tx_stage(struct eng_worker *w, struct rte_mbuf *m, uint64_t rx_tsc)
{
	if (unlikely(w->tx_n == ENG_TX_STAGE))
		eng_tx_flush(w);
	if (w->tx_n == 0 && w->rt->tx_hold_tsc != UINT64_MAX)
		w->tx_since = rte_rdtsc(); /* only for -H */
	w->tx_m[w->tx_n] = m;
	w->tx_rx_tsc[w->tx_n] = rx_tsc;
	w->tx_n++;
}

/* A fresh mbuf for a reply; *payload points where the UDP payload goes (after req's headers).
 * NULL (counted) when the pool is empty. */
struct rte_mbuf *eng_reply_alloc(struct eng_worker *w, const struct pkt_udp *req, uint8_t **payload,
				 size_t *payload_cap);
/* Put headers in front of the payload and stage the frame. psum: the payload's sum, if known
 * (PKT_PSUM_NONE: summed here). */
void eng_reply_send_psum(struct eng_worker *w, struct rte_mbuf *m, const struct pkt_udp *req,
			 const struct pkt_dest *dst, size_t payload_len, uint64_t psum,
			 uint64_t rx_tsc);
static inline void eng_reply_send(struct eng_worker *w, struct rte_mbuf *m,
				  const struct pkt_udp *req, const struct pkt_dest *dst,
				  size_t payload_len, uint64_t rx_tsc)
{
	eng_reply_send_psum(w, m, req, dst, payload_len, PKT_PSUM_NONE, rx_tsc);
}

/* A request turned into its reply in place: rc is the reply's length, or -SB_DROP_x. */
void eng_send_in_place(struct eng_worker *w, struct rte_mbuf *m, int rc, uint64_t *sent,
		       uint64_t rx_tsc);
/* Give m to worker idx (keeping its rx TSC for the latency histogram). */
void eng_handoff(struct eng_worker *w, unsigned int idx, struct rte_mbuf *m, uint64_t rx_tsc);
/* TFTP ERROR from src_port to the sender of u (requests refused before any session exists). */
void eng_tftp_send_error(struct eng_worker *w, const struct pkt_udp *u, uint16_t src_port,
			 uint16_t code, const char *msg, uint64_t rx_tsc);

#endif
