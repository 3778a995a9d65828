/* SPDX-License-Identifier: BSD-3-Clause */
/* lcore.c - the poll loop (see lcore.h). */
#include <string.h>
#include <sys/prctl.h>

#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_per_lcore.h>
#include <rte_prefetch.h>
#include <rte_ring.h>
#include <rte_timer.h>

#include "arp_probe.h"
#include "boot_token.h"
#include "conflict_probe.h"
#include "control_link.h"
#include "eal_args.h"
#include "lcore.h"
#include "log.h"
#include "ndp.h"
#include "pkt.h"
#include "mstream.h"
#include "mtftp.h"
#include "reply.h"
#include "sbcfg_access.h"
#include "snapshot.h"
#include "tftp.h"
#include "trace.h"

volatile bool eng_force_quit;

/* The worker whose session timers run (their callbacks run inside rte_timer_manage() only). */
static RTE_DEFINE_PER_LCORE(struct eng_worker *, timer_worker);

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
	return pkt_csum_add(
		pkt_csum_range(s->img->data, s->img->csum_prefix, (size_t)(p - s->img->data), n),
		out, TFTP_HDR_LEN);
}

/* ---- ARP (only on ports without a kernel behind them; replies to our probes on any) ---- */

static void handle_dhcp(struct eng_worker *w, struct rte_mbuf *m, const struct pkt_udp *u,
			uint64_t rx_tsc, uint8_t attempt);

static void handle_arp(struct eng_worker *w, struct rte_mbuf *m, uint64_t rx_tsc)
{
	uint8_t sha[6];
	uint32_t spa;
	int rc;

	/* A reply to a conflict probe (the XDP program steers those with dhcp.conflict_probe_ms):
	 * for worker 0, which holds the OFFERs (and counts it). */
	rc = probe_parse_reply(rte_pktmbuf_mtod(m, uint8_t *), m->data_len, &spa, sha);
	if (rc == 0 && w->idx != 0) {
		eng_handoff(w, 0, m, rx_tsc);
		return;
	}
	w->st->rx_arp++;
	if (rc == 0) {
		struct rte_mbuf *again;
		struct pkt_udp u;
		uint64_t again_tsc;
		uint8_t attempt;

		rte_pktmbuf_free(m);
		/* the address is in use: the DISCOVER is served again, for the next address */
		again = eng_probe_on_reply(w, spa, sha, &u, &again_tsc, &attempt);
		if (again != NULL)
			handle_dhcp(w, again, &u, again_tsc, attempt);
		return;
	}
	if (w->rt->port.kernel_behind) {
		eng_count_drop(w->st, ENG_DROP_ARP_KERNEL);
		rte_pktmbuf_free(m);
		return;
	}
	rc = pkt_arp_reply(rte_pktmbuf_mtod(m, uint8_t *), m->data_len, w->snap->cfg.server_ip,
			   w->snap->mac);
	eng_send_in_place(w, m, rc, &w->st->tx_arp, rx_tsc);
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
	eng_send_in_place(w, m, rc, &w->st->tx_ra, rx_tsc);
}

/* ---- DHCP (worker 0 only: the lease pool has one owner) ---- */

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
	r = eng_reply_alloc(w, u, &out, &cap);
	if (r == NULL)
		goto done;
	t0 = eng_stage_tsc();
	snap->dhcp.token_keys = eng_ctl ? eng_ctl_token_keys() : NULL;
	n = dhcp_server_handle(&snap->dhcp, u, w->now_unix, out, cap, &dst, &res);
	eng_trace_dhcp(w, &res);
	ENG_STAGE_ADD(w, ENG_STAGE_DHCP, eng_stage_tsc() - t0, 1);
	eng_count_dhcp_in(w->st, res.msg_in);
	if (unlikely(res.token) && n > 0)
		w->st->dhcp_url_tokens++; /* OFFERs and ACKs, an ACK also while held */
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
	/* the boot token of an HTTPClient's URL redacted (evaluated only when debug is on) */
	char bf[DHCP_SERVER_URL_MAX];
	ENG_DEBUG("dhcp %02x:%02x:%02x:%02x:%02x:%02x xid %08x type %u -> %u ip %u.%u.%u.%u "
		  "bootfile %s",
		  res.mac[0], res.mac[1], res.mac[2], res.mac[3], res.mac[4], res.mac[5], res.xid,
		  res.msg_in, res.msg_out, res.lease.ip >> 24, (res.lease.ip >> 16) & 255,
		  (res.lease.ip >> 8) & 255, res.lease.ip & 255,
		  !res.bootfile ? "-"
		  : res.token	? (boot_token_redact(res.bootfile, bf, sizeof(bf)), bf)
				: res.bootfile);
	w->st->dhcp_replies++;
	if (eng_probe_wanted(w, &res, n)) {
		/* the OFFER waits for the probe; m and r are the probe's now */
		eng_probe_hold(w, m, u, r, &dst, (size_t)n, &res, attempt, rx_tsc);
		return;
	}
	w->st->tx_dhcp++;
	eng_count_dhcp_out(w->st, res.msg_out);
	eng_reply_send(w, r, u, &dst, (size_t)n, rx_tsc);
done:
	rte_pktmbuf_free(m);
}

/* ---- TFTP ---- */

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
			eng_tftp_send_error(w, from, s->key.server_port, tx->error_code,
					    tx->error_msg, rx_tsc);
		else
			eng_tftp_send_error(w, &s->peer, s->key.server_port, tx->error_code,
					    tx->error_msg, rx_tsc);
	}
	if (tx->oack) {
		r = eng_reply_alloc(w, &s->peer, &out, &cap);
		if (r == NULL)
			return;
		n = tftp_build_oack(out, cap, &s->ts.params);
		if (n < 0) {
			rte_pktmbuf_free(r);
			eng_count_drop(w->st, SB_DROP_REPLY_TOO_BIG);
			return;
		}
		w->st->tx_tftp++;
		eng_reply_send(w, r, &s->peer, &dst, (size_t)n, rx_tsc);
	}
	for (uint32_t i = 0; i < tx->data_count; i++) {
		uint64_t block = tx->data_first + i;

		r = eng_reply_alloc(w, &s->peer, &out, &cap);
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
		eng_reply_send_psum(w, r, &s->peer, &dst, (size_t)n, psum, rx_tsc);
	}
}

static void sess_timer_cb(struct rte_timer *tim, void *arg);

/* Make sure the session's timer fires by deadline (ms). */
static void sess_arm(struct eng_worker *w, struct eng_sess *s, uint64_t deadline)
{
	uint64_t ticks;

	if (s->armed_ms != 0 && s->armed_ms <= deadline)
		return; /* fires earlier than needed; the callback re-arms */
	ticks = deadline > w->now_ms ? eng_clock_ms_to_tsc(&w->rt->clock, deadline - w->now_ms) : 0;
	rte_timer_reset(&s->timer, ticks, SINGLE, w->lcore_id, sess_timer_cb, s);
	s->armed_ms = deadline;
}

/* After a call into a multicast stream (mstream.h): close it once its last client left, else
 * arm its timer. */
static void mc_after(struct eng_worker *w, struct eng_sess *s)
{
	if (!eng_mc_close_if_ended(w, s))
		sess_arm(w, s, mtftp_next_deadline(&s->mc->ms));
}

/* After a call into the session: close it if it ended, else make sure its timer is armed. */
static void sess_after(struct eng_worker *w, struct eng_sess *s)
{

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
	sess_arm(w, s, tftp_session_next_deadline(&s->ts));
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
		eng_mc_timer(w, s);
		mc_after(w, s);
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
			eng_tftp_send_error(w, u, SB_PORT_TFTP, code, msg, rx_tsc);
		goto done;
	}
	/* Per-client image lists (config images_allowed): one branch when there are none. */
	if (unlikely(snap->cfg.images_restricted) &&
	    !sbcfg_image_allowed(&snap->cfg, u->src_mac, u->src_ip, ce->name, NULL)) {
		eng_count_drop(w->st, SB_DROP_TFTP_IMAGE_FORBIDDEN);
		eng_trace_refused(w, u, ce->name, strlen(ce->name), SB_TL_REFUSE_FORBIDDEN);
		eng_tftp_send_error(w, u, SB_PORT_TFTP, TFTP_ERR_ACCESS, "Access violation",
				    rx_tsc);
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
			eng_handoff(w, 0, m, rx_tsc);
			return;
		} else {
			struct eng_sess *ms;

			rc = eng_mc_request(w, u, &rrq, ce, rx_tsc, &ms);
			if (ms != NULL)
				mc_after(w, ms);
			if (rc == 0)
				goto done;
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
		eng_mc_packet(w, s, u, rx_tsc);
		mc_after(w, s);
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
			eng_handoff(w, 0, m, rx_tsc);
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
				eng_handoff(w, owner, m, rx_tsc);
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
	uint64_t bytes = 0, t0 = eng_stage_tsc(), hold;

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
	w->st->rx_bursts++;
	if (nb_rx + nb_in == ENG_BURST)
		w->st->rx_bursts_full++;
	/*
	 * Replies staged long enough go now, not after the burst's last frame: once the oldest
	 * has waited the hold, then twice as long for the next early tx call of the same burst
	 * (4, 8, 16 us...): a reply waits at most about twice its own place in the burst, and a
	 * saturated burst costs a few tx calls more, not one per reply.
	 */
	hold = rt->tx_hold_tsc;
	for (i = 0; i < nb_rx + nb_in; i++) {
		handle_frame(w, pkts[i], i < nb_rx ? tsc : *eng_rx_tsc_field(rt, pkts[i]));
		if (hold != UINT64_MAX && w->tx_n != 0 && i + 1 < nb_rx + nb_in &&
		    rte_rdtsc() - w->tx_since > hold) { /* -H off (the default): no clock read */
			w->st->tx_bursts_early++;
			eng_tx_flush(w);
			hold = hold > UINT64_MAX / 2 ? UINT64_MAX : hold * 2;
		}
	}
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
	unsigned idle_us;
	int cpu;

	if (w == NULL)
		return 0;
	cpu = (int)rte_lcore_to_cpu_id((int)w->lcore_id);
	idle_us = eng_idle_us_for(rt->idle_us, rt->cpu_isolated, cpu < 0 ? UINT32_MAX : (unsigned)cpu);
	if (idle_us > 0) {
		/* the sleep's length, not the default 50 us slack on top of it */
		prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
		ENG_LOG(INFO, "lcore %u on CPU %d: sleeps %u us after %u empty polls (%s; -I 0 busy-polls)",
			w->lcore_id, cpu, idle_us, ENG_IDLE_POLLS,
			rt->idle_us == ENG_IDLE_AUTO ? "-I auto: the CPU is not isolated" : "-I");
	} else {
		ENG_LOG(INFO, "lcore %u on CPU %d: busy-polls (%s)", w->lcore_id, cpu,
			rt->idle_us == ENG_IDLE_AUTO ? "-I auto: the CPU is isolated" : "-I 0");
	}
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
				eng_probe_poll(w); /* OFFERs whose probe nobody answered */
		}
		nb = rx_handle(w, pkts, tsc);
		/* Slots freed by this burst or the timers go to the oldest waiting clients. */
		if (unlikely(tftp_wait_len(&w->wait) > 0) && sess_room(&w->sess))
			wait_admit(w);
		eng_tx_flush(w); /* replies and retransmissions: one tx burst per iteration */
		if (nb > 0) {
			w->st->busy_ns += eng_tsc_to_ns(rt, rte_rdtsc() - tsc);
			empty = 0;
		} else if (unlikely(idle_us) && ++empty > ENG_IDLE_POLLS) {
			rte_delay_us_sleep(idle_us); /* -I: a CPU shared with other tasks */
		}
	}
	for (uint32_t i = 0; w->probe.n != 0 && i < w->probe.cap; i++)
		if (w->probe.slots[i].ip != 0)
			eng_probe_release(w, (int)i, true); /* OFFERs still waiting: not sent */
	eng_tx_flush(w);
	eng_ctl_worker_exit(w);
	ENG_LOG(INFO, "lcore %u stops: %u TFTP sessions open", w->lcore_id, w->sess.n_active);
	return 0;
}
