/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * trace.h - the poll loop's side of the per-client boot timeline (docs/TIMELINE.md): each
 * step of a client's boot (DHCP exchange, TFTP request/refusal/end/retransmission, router
 * solicitation answered) becomes one fixed-size struct sb_tl_event pushed into the worker's
 * own single-producer ring (rte_ring, ENG_TL_RING events): no allocation, no lock, no
 * system call; a full ring drops the event and counts it (timeline_events_lost). The control
 * thread drains every worker's ring and sends the events to control (CHAN_MSG_TIMELINE),
 * which keeps the timelines (dataplane/core/timeline.h) and logs the steps.
 * Without a control process (-C) there are no rings and nothing is recorded.
 */
#ifndef SB_ENG_TRACE_H
#define SB_ENG_TRACE_H

#include <stdint.h>

#include <rte_branch_prediction.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "engine.h"
#include "sb_timeline.h"

#define ENG_TL_RING 8192 /* events per worker ring (power of 2) */

struct dhcp_result;
struct eng_sess;
struct pkt_udp;
struct tftp_params;

/* Create (or, with create false, free) worker w's ring. 0 or -ENOMEM. */
int eng_trace_ring_setup(struct eng_worker *w, bool create);

/* Wall-clock unix milliseconds at tsc. */
static inline uint64_t eng_trace_ms(const struct eng_runtime *rt, uint64_t tsc)
{
	return (rt->clock.unix_ns0 + eng_tsc_to_ns(rt, tsc - rt->clock.tsc0)) / 1000000u;
}

/* Stamp e with the time of the current burst and push it; a full ring counts a loss. */
static inline void eng_trace_push(struct eng_worker *w, struct sb_tl_event *e)
{
	e->ts_ms = eng_trace_ms(w->rt, w->now_tsc);
	if (unlikely(rte_ring_sp_enqueue_elem(w->tl, e, sizeof(*e)) != 0))
		w->st->timeline_events_lost++;
	else
		w->st->timeline_events++;
}

/* The steps (each a no-op when w has no ring). */
void eng_trace_dhcp(struct eng_worker *w, const struct dhcp_result *res);
void eng_trace_rrq(struct eng_worker *w, const struct pkt_udp *u, const char *name,
		   const struct tftp_params *p, uint16_t port);
void eng_trace_refused(struct eng_worker *w, const struct pkt_udp *u, const char *name,
		       size_t name_len, enum sb_tl_refusal why);
void eng_trace_end(struct eng_worker *w, const struct eng_sess *s);
void eng_trace_resend(struct eng_worker *w, const struct eng_sess *s, uint32_t frames,
		      uint64_t first_block);
void eng_trace_ra(struct eng_worker *w, const uint8_t *frame);

/* Move up to max events of worker w's ring into out; returns how many. Control thread. */
unsigned int eng_trace_drain(struct eng_worker *w, struct sb_tl_event *out, unsigned int max);

#endif
