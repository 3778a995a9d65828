/* SPDX-License-Identifier: BSD-3-Clause */
/* trace.c - per-client boot steps from the poll loop (see trace.h). */
#include "trace.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_malloc.h>

#include "boot_token.h"
#include "dhcp.h"
#include "dhcp_server.h"
#include "pkt.h"
#include "tftp.h"
#include "tftp_session.h"
#include "tftp_table.h"

int eng_trace_ring_setup(struct eng_worker *w, bool create)
{
	char name[RTE_RING_NAMESIZE];

	if (!create) {
		rte_ring_free(w->tl);
		w->tl = NULL;
		return 0;
	}
	snprintf(name, sizeof(name), "sb_tl_%u", w->lcore_id);
	w->tl = rte_ring_create_elem(name, sizeof(struct sb_tl_event), ENG_TL_RING, w->rt->socket,
				     RING_F_SP_ENQ | RING_F_SC_DEQ);
	return w->tl ? 0 : -ENOMEM;
}

static inline void ev_init(struct sb_tl_event *e, unsigned kind, const uint8_t *mac, uint32_t ip)
{
	/* text is filled by the caller (NUL-padded) */
	e->ip = ip;
	e->a = e->b = e->c = e->d = 0;
	memcpy(e->mac, mac, 6);
	e->kind = (uint8_t)kind;
	e->flags = 0;
	e->status = 0;
}

static inline void ev_text(struct sb_tl_event *e, const char *s, size_t n)
{
	if (n > SB_TL_TEXT - 1)
		n = SB_TL_TEXT - 1;
	memcpy(e->text, s, n);
	memset(e->text + n, 0, SB_TL_TEXT - n);
}

void eng_trace_dhcp(struct eng_worker *w, const struct dhcp_result *res)
{
	struct sb_tl_event e;

	if (w->tl == NULL || res->msg_in == 0)
		return;
	ev_init(&e, SB_TL_DHCP, res->mac, res->event != DHCP_LEASE_NONE ? res->lease.ip : 0);
	e.status = res->msg_in;
	e.a = res->msg_out;
	e.b = (res->client.pxe ? SB_TL_DHCP_PXE : 0) | (res->client.ipxe ? SB_TL_DHCP_IPXE : 0) |
	      (res->client.http ? SB_TL_DHCP_HTTP : 0) | (res->relayed ? SB_TL_DHCP_RELAYED : 0) |
	      (res->boot_only ? SB_TL_DHCP_BOOT_ONLY : 0);
	e.c = res->client.arch_type;
	if (unlikely(res->token) && res->bootfile && res->msg_out) {
		/* an HTTPClient's URL carries its boot token: not in the timeline */
		char red[SB_TL_TEXT];
		boot_token_redact(res->bootfile, red, sizeof(red));
		ev_text(&e, red, strlen(red));
	} else if (res->bootfile && res->msg_out) {
		ev_text(&e, res->bootfile, strlen(res->bootfile));
	} else {
		ev_text(&e, "", 0);
	}
	eng_trace_push(w, &e);
}

void eng_trace_rrq(struct eng_worker *w, const struct pkt_udp *u, const char *name,
		   const struct tftp_params *p, uint16_t port)
{
	struct sb_tl_event e;

	if (w->tl == NULL)
		return;
	ev_init(&e, SB_TL_TFTP_RRQ, u->src_mac, u->src_ip);
	e.status = (uint16_t)p->oack_opts;
	e.a = p->blksize;
	e.b = p->windowsize;
	e.c = p->tsize > UINT32_MAX ? UINT32_MAX : (uint32_t)p->tsize;
	e.d = port;
	ev_text(&e, name, strlen(name));
	eng_trace_push(w, &e);
}

void eng_trace_refused(struct eng_worker *w, const struct pkt_udp *u, const char *name,
		       size_t name_len, enum sb_tl_refusal why)
{
	struct sb_tl_event e;

	if (w->tl == NULL)
		return;
	ev_init(&e, SB_TL_TFTP_REFUSED, u->src_mac, u->src_ip);
	e.status = (uint16_t)why;
	ev_text(&e, name ? name : "", name ? name_len : 0);
	eng_trace_push(w, &e);
}

void eng_trace_end(struct eng_worker *w, const struct eng_sess *s)
{
	struct sb_tl_event e;

	if (w->tl == NULL)
		return;
	ev_init(&e, SB_TL_TFTP_END, s->peer.src_mac, s->key.client_ip);
	e.status = (uint16_t)s->ts.end;
	e.a = (uint32_t)s->ts.stats.blocks_sent;
	e.b = (uint32_t)s->ts.stats.blocks_resent;
	e.c = (uint32_t)(w->now_ms - s->ts.started);
	e.d = s->ts.client_error_code;
	ev_text(&e, s->tl_name, strnlen(s->tl_name, sizeof(s->tl_name)));
	eng_trace_push(w, &e);
}

void eng_trace_resend(struct eng_worker *w, const struct eng_sess *s, uint32_t frames,
		      uint64_t first_block)
{
	struct sb_tl_event e;

	if (w->tl == NULL)
		return;
	ev_init(&e, SB_TL_TFTP_RETRANSMIT, s->peer.src_mac, s->key.client_ip);
	e.a = frames;
	e.b = (uint32_t)first_block;
	ev_text(&e, s->tl_name, strnlen(s->tl_name, sizeof(s->tl_name)));
	eng_trace_push(w, &e);
}

void eng_trace_ra(struct eng_worker *w, const uint8_t *frame)
{
	struct sb_tl_event e;

	if (w->tl == NULL)
		return;
	/* the reply was built in place: its destination is the solicitor's MAC */
	ev_init(&e, SB_TL_RA, frame, 0);
	ev_text(&e, "", 0);
	eng_trace_push(w, &e);
}

unsigned int eng_trace_drain(struct eng_worker *w, struct sb_tl_event *out, unsigned int max)
{
	if (w->tl == NULL)
		return 0;
	return rte_ring_sc_dequeue_burst_elem(w->tl, out, sizeof(*out), max, NULL);
}
