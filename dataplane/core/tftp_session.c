/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include "sb_drop.h"
#include "tftp_session.h"

static inline uint64_t na_pack(struct tftp_na_pos p)
{
	return p.src << 1 | (p.half ? 1 : 0);
}

static inline struct tftp_na_pos na_unpack(uint64_t v)
{
	return (struct tftp_na_pos){.src = v >> 1, .half = v & 1};
}

/* Remember where every block up to `upto` starts in the source (netascii only). */
static void na_ensure(struct tftp_session *s, uint64_t upto)
{
	while (s->na_known < upto) {
		struct tftp_na_pos p = na_unpack(s->na_start[s->na_known % TFTP_NA_RING]);

		tftp_netascii_encode(s->data, s->size, &p, NULL, s->params.blksize);
		s->na_known++;
		s->na_start[s->na_known % TFTP_NA_RING] = na_pack(p);
	}
}

/* The next timer: the resend, or the give-up if that comes first. */
static void set_deadline(struct tftp_session *s)
{
	uint64_t resend = s->last_send + s->wait_ms, give_up = s->progress + s->give_up_ms;

	s->deadline = resend < give_up ? resend : give_up;
}

/* The window (or the OACK) was sent now: wait for the client from here. */
static void sent_now(struct tftp_session *s, uint64_t now)
{
	s->last_send = now;
	set_deadline(s);
}

/* The client moved the transfer on: the waits start over. */
static void progressed(struct tftp_session *s, uint64_t now)
{
	s->progress = now;
	s->tries = 0;
	s->wait_ms = s->params.timeout_ms;
}

static void end_session(struct tftp_session *s, enum tftp_end why)
{
	s->state = TFTP_SS_ENDED;
	s->end = why;
	s->deadline = UINT64_MAX;
}

/* Send blocks from+1 .. min(acked + windowsize, last_block); from is acked (the whole window,
 * resending what was sent already) or sent (only blocks never sent). */
static int send_from(struct tftp_session *s, uint64_t from, uint64_t now, struct tftp_tx *tx)
{
	uint64_t first = from + 1;
	uint64_t last = s->acked + s->params.windowsize;
	bool resend;

	if (last > s->last_block)
		last = s->last_block;
	if (first > last) { /* nothing new inside the window: wait for the client */
		set_deadline(s);
		return 0;
	}
	if (s->params.mode == TFTP_MODE_NETASCII)
		na_ensure(s, last);
	tx->data_first = first;
	tx->data_count = (uint32_t)(last - first + 1);
	resend = s->sent >= first;
	if (resend)
		s->stats.blocks_resent += s->sent - first + 1;
	s->stats.blocks_sent += tx->data_count;
	if (last > s->sent)
		s->sent = last;
	if (resend) /* no other resend until the client is past what this one sent */
		s->recover = s->sent;
	sent_now(s, now);
	return (int)tx->data_count;
}

/* The window from the first unacknowledged block. */
static int send_window(struct tftp_session *s, uint64_t now, struct tftp_tx *tx)
{
	return send_from(s, s->acked, now, tx);
}

int tftp_session_start(struct tftp_session *sess, const struct tftp_peer *peer,
		       const struct tftp_rrq *rrq, const struct catalog_entry *img,
		       const struct sbcfg_tftp *cfg, uint64_t now, struct tftp_tx *tx)
{
	uint64_t na_size;

	memset(tx, 0, sizeof(*tx));
	memset(sess, 0, sizeof(*sess));
	if (!img || (!img->data && img->size))
		return -EINVAL;
	na_size = img->netascii_size;
	if (rrq->mode == TFTP_MODE_NETASCII && na_size < img->size)
		na_size = tftp_netascii_size(img->data,
					     img->size); /* entry not from catalog_init() */

	sess->peer = *peer;
	tftp_negotiate(rrq, img->size, na_size, cfg, &sess->params);
	sess->data = img->data;
	sess->size = img->size;
	/* RFC 1350 section 6: the final block is the first with fewer than blksize bytes. */
	sess->last_block = sess->params.tsize / sess->params.blksize + 1;
	/* 0 in a config made by hand (tests): the old count of retries, a timeout apart */
	sess->give_up_ms = cfg->give_up_ms ? cfg->give_up_ms
					   : sess->params.timeout_ms * (cfg->retries + 1);
	sess->started = now;
	progressed(sess, now);
	sess->na_known = 1;
	sess->na_start[1] = 0;

	if (sess->params.oack_opts) {
		/* RFC 2347: OACK first; the client answers with ACK 0 (or ERROR 8). */
		sess->state = TFTP_SS_OACK_SENT;
		sent_now(sess, now);
		tx->oack = true;
		return 1;
	}
	sess->state = TFTP_SS_DATA;
	return send_window(sess, now, tx);
}

static int on_ack(struct tftp_session *s, uint16_t wire, uint64_t now, struct tftp_tx *tx)
{
	uint64_t b, delta;

	if (s->state == TFTP_SS_OACK_SENT) {
		if (wire != 0) {
			s->stats.acks_stale++;
			return -SB_DROP_TFTP_ACK_STALE;
		}
		s->state = TFTP_SS_DATA;
		progressed(s, now);
		return send_window(s, now, tx);
	}

	/* The 64-bit block the wire number names: the latest one at or below `sent`. */
	delta = (uint16_t)((uint16_t)s->sent - wire);
	if (delta > s->sent) {
		s->stats.acks_stale++;
		return -SB_DROP_TFTP_ACK_STALE;
	}
	b = s->sent - delta;
	if (b == s->acked) {
		/*
		 * RFC 1123 4.2.3.1: never answer a duplicate ACK with a retransmission, or a
		 * duplicated packet doubles the transfer (Sorcerer's Apprentice). A repeat
		 * that comes a quarter timeout after the window went out is no network
		 * duplicate but the client's own retry (RFC 7440 section 4: it ACKs the last
		 * block it got in order when it times out): the window's first block was lost.
		 * Resend at once instead of on our timer - at every such retry, not only the
		 * first per window base: when the resend is lost too (a blackout towards the
		 * client), our timer backs off to 4x the timeout while the client keeps asking,
		 * and the session would be given up, or the client would give up, in between.
		 * A quarter timeout since our last send apart, so duplicates never multiply.
		 */
		if (now >= s->last_send + s->params.timeout_ms / 4) {
			s->stats.fast_resends++;
			return send_window(s, now, tx);
		}
		s->stats.acks_dup++;
		return -SB_DROP_TFTP_ACK_DUP;
	}
	if (b < s->acked) {
		s->stats.acks_stale++;
		return -SB_DROP_TFTP_ACK_STALE;
	}
	s->acked = b;
	progressed(s, now);
	if (b == s->last_block) {
		end_session(s, TFTP_END_DONE);
		return 0;
	}
	/* Inside a resend already under way: the gap was answered, only move on. */
	if (b < s->recover)
		return send_from(s, s->sent, now, tx);
	return send_window(s, now, tx);
}

int tftp_session_on_packet(struct tftp_session *sess, uint32_t src_ip, uint16_t src_port,
			   const uint8_t *buf, size_t len, uint64_t now, struct tftp_tx *tx)
{
	uint16_t code, block;
	const char *msg;
	size_t msg_len;
	int op, rc;

	memset(tx, 0, sizeof(*tx));
	if (src_ip != sess->peer.client_ip || src_port != sess->peer.client_port) {
		/* RFC 1350 section 4: answer ERROR 5 to the stranger, leave the transfer alone. */
		tx->error = true;
		tx->error_to_sender = true;
		tftp_error_for_drop(-SB_DROP_TFTP_UNKNOWN_TID, &tx->error_code, &tx->error_msg);
		return -SB_DROP_TFTP_UNKNOWN_TID;
	}
	if (sess->state == TFTP_SS_ENDED || sess->state == TFTP_SS_IDLE)
		return -SB_DROP_TFTP_SESSION_CLOSED;

	op = tftp_opcode(buf, len);
	if (op < 0)
		return op;
	switch (op) {
	case TFTP_OP_ACK:
		rc = tftp_parse_ack(buf, len, &block);
		if (rc < 0)
			return rc;
		return on_ack(sess, block, now, tx);
	case TFTP_OP_ERROR:
		rc = tftp_parse_error(buf, len, &code, &msg, &msg_len);
		if (rc < 0)
			return rc;
		sess->client_error_code = code;
		/*
		 * RFC 2347: a client that does not accept the OACK answers it with
		 * ERROR 8 (PXE firmware does so on purpose once it has the tsize).
		 * ERROR 8 once DATA flows is no answer to the OACK: a client error.
		 */
		end_session(sess, code == TFTP_ERR_OPTION && sess->state == TFTP_SS_OACK_SENT
					  ? TFTP_END_OPTION_REFUSED
					  : TFTP_END_CLIENT_ERROR);
		return 0;
	case TFTP_OP_RRQ:
	case TFTP_OP_WRQ:
	case TFTP_OP_DATA:
	case TFTP_OP_OACK:
		rc = -SB_DROP_TFTP_UNEXPECTED_OPCODE;
		break;
	default:
		rc = -SB_DROP_TFTP_BAD_OPCODE;
		break;
	}
	/* RFC 1350 section 7: an illegal operation is an error that ends the transfer. */
	tx->error = true;
	tftp_error_for_drop(rc, &tx->error_code, &tx->error_msg);
	end_session(sess, TFTP_END_ILLEGAL_OP);
	return rc;
}

int tftp_session_on_timer(struct tftp_session *sess, uint64_t now, struct tftp_tx *tx)
{
	memset(tx, 0, sizeof(*tx));
	if (sess->state != TFTP_SS_OACK_SENT && sess->state != TFTP_SS_DATA)
		return 0;
	if (now < sess->deadline)
		return 0;
	if (now >= sess->progress + sess->give_up_ms) {
		end_session(sess, TFTP_END_TIMEOUT);
		return 0;
	}
	sess->tries++;
	sess->stats.timeouts++;
	/* Resends back off: a lossy or overloaded path gets fewer of them, never a storm. */
	if (sess->tries > 1 && sess->wait_ms < 4 * sess->params.timeout_ms)
		sess->wait_ms *= 2;
	if (sess->state == TFTP_SS_OACK_SENT) {
		tx->oack = true;
		sent_now(sess, now);
		return 1;
	}
	return send_window(sess, now, tx);
}

uint64_t tftp_session_next_deadline(const struct tftp_session *sess)
{
	if (sess->state != TFTP_SS_OACK_SENT && sess->state != TFTP_SS_DATA)
		return UINT64_MAX;
	return sess->deadline;
}

bool tftp_session_ended(const struct tftp_session *sess)
{
	return sess->state == TFTP_SS_ENDED;
}

int tftp_session_data_ref(const struct tftp_session *sess, uint64_t block, const uint8_t **ptr,
			  size_t *len)
{
	uint64_t off;

	if (sess->params.mode != TFTP_MODE_OCTET)
		return -ENOTSUP;
	if (block < 1 || block > sess->last_block)
		return -EINVAL;
	off = (block - 1) * sess->params.blksize;
	*len = sess->size - off < sess->params.blksize ? (size_t)(sess->size - off)
						       : sess->params.blksize;
	*ptr = sess->data + off;
	return 0;
}

int tftp_build_data(uint8_t *out, size_t cap, const struct tftp_session *sess, uint64_t block)
{
	size_t room = cap >= TFTP_HDR_LEN ? cap - TFTP_HDR_LEN : 0;
	size_t n;

	if (block < 1 || block > sess->last_block)
		return -EINVAL;
	if (sess->params.mode == TFTP_MODE_OCTET) {
		const uint8_t *p;

		tftp_session_data_ref(sess, block, &p, &n);
		if (cap < TFTP_HDR_LEN || room < n)
			return -ENOSPC;
		if (n) /* an empty image may have data == NULL */
			memcpy(out + TFTP_HDR_LEN, p, n);
	} else {
		struct tftp_na_pos pos;

		if (block > sess->na_known || block + TFTP_NA_RING <= sess->na_known)
			return -EINVAL;
		/* every netascii block is blksize bytes except the last, which holds the rest */
		n = block < sess->last_block
			    ? sess->params.blksize
			    : (size_t)(sess->params.tsize - (block - 1) * sess->params.blksize);
		if (cap < TFTP_HDR_LEN || room < n)
			return -ENOSPC;
		pos = na_unpack(sess->na_start[block % TFTP_NA_RING]);
		if (tftp_netascii_encode(sess->data, sess->size, &pos, out + TFTP_HDR_LEN, n) != n)
			return -EINVAL; /* image changed under the session (size mismatch) */
	}
	tftp_build_data_hdr(out, cap, (uint16_t)block);
	return (int)(TFTP_HDR_LEN + n);
}

static const char *const end_names[TFTP_END__COUNT] = {
	[TFTP_END_NONE] = "tftp_end_none",
	[TFTP_END_DONE] = "tftp_end_done",
	[TFTP_END_TIMEOUT] = "tftp_end_timeout",
	[TFTP_END_CLIENT_ERROR] = "tftp_end_client_error",
	[TFTP_END_OPTION_REFUSED] = "tftp_end_option_refused",
	[TFTP_END_ILLEGAL_OP] = "tftp_end_illegal_op",
};

const char *tftp_end_name(enum tftp_end end)
{
	if ((unsigned)end >= TFTP_END__COUNT)
		return "tftp_end_unknown";
	return end_names[end];
}
