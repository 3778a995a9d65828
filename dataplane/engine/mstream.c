/* SPDX-License-Identifier: BSD-3-Clause */
/* mstream.c - worker 0's multicast TFTP streams (see mstream.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_common.h>
#include <rte_mbuf.h>

#include "log.h"
#include "mstream.h"
#include "mtftp.h"
#include "reply.h"
#include "snapshot.h"
#include "tftp.h"

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
		eng_tftp_send_error(w, from, m->ms.server_port, tx->error_code, tx->error_msg,
				    rx_tsc);
	if (tx->oack) {
		const struct mtftp_client *c = &m->ms.c[tx->oack_client];

		r = eng_reply_alloc(w, &s->peer, &out, &cap);
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
		eng_reply_send(w, r, &s->peer, &dst, (size_t)n, rx_tsc);
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
			int ci = tx->data_unicast ? mtftp_find(&m->ms, tx->data_ip, tx->data_port)
						  : -1;

			if (ci < 0)
				continue;
			dst.dst_ip = tx->data_ip;
			dst.dst_port = tx->data_port;
			memcpy(dst.dst_mac, m->mac[ci], 6);
		}
		for (uint32_t i = 0; i < tx->data_count; i++) {
			r = eng_reply_alloc(w, &s->peer, &out, &cap);
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
			eng_reply_send(w, r, &s->peer, &dst, (size_t)n, rx_tsc);
		}
	}
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
int eng_mc_request(struct eng_worker *w, const struct pkt_udp *u, const struct tftp_rrq *rrq,
		   const struct catalog_entry *ce, uint64_t rx_tsc, struct eng_sess **touched)
{
	struct snapshot *snap = w->snap;
	const struct sbcfg_mtftp *mcfg = &snap->cfg.tftp.multicast;
	struct eng_mstream *m = NULL;
	struct tftp_params p;
	struct mtftp_tx tx;
	struct eng_sess *s;
	int rc, repeat, g;

	*touched = NULL;
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
		*touched = s;
		return -1;
	}
	memcpy(m->mac[tx.oack_client], u->src_mac, 6);
	ENG_DEBUG("mtftp %u.%u.%u.%u:%u joins \"%s\" (%u clients)%s", u->src_ip >> 24,
		  (u->src_ip >> 16) & 255, (u->src_ip >> 8) & 255, u->src_ip & 255, u->src_port,
		  m->image, m->ms.n_clients, repeat ? " again" : "");
	mc_send(w, s, &tx, u, rx_tsc);
	*touched = s;
	return 0;
}

void eng_mc_packet(struct eng_worker *w, struct eng_sess *s, const struct pkt_udp *u,
		   uint64_t rx_tsc)
{
	struct mtftp_tx tx;
	int rc;

	rc = mtftp_on_packet(&s->mc->ms, u->src_ip, u->src_port, u->payload, u->payload_len,
			     w->now_ms, &tx);
	if (rc < 0)
		eng_count_drop(w->st, rc);
	mc_send(w, s, &tx, u, rx_tsc);
}

void eng_mc_timer(struct eng_worker *w, struct eng_sess *s)
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
}

/* After a call into a stream: count; once its last client left, close it. */
bool eng_mc_close_if_ended(struct eng_worker *w, struct eng_sess *s)
{
	struct eng_mstream *m = s->mc;

	mc_report(w, m);
	if (!mtftp_ended(&m->ms))
		return false;
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
	return true;
}
