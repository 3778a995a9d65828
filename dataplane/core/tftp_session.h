/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tftp_session.h - one TFTP read transfer (RFC 1350, 2347, 2348, 2349, 7440),
 * as a state machine driven by the caller: packets in, `now` in, and a
 * struct tftp_tx out that says what to send. The caller (the engine) owns the
 * sessions (a fixed-size struct, kept in its table), the timers and the mbufs;
 * this module owns the protocol.
 *
 * Time is monotonic milliseconds, passed in. Blocks are counted with 64 bits
 * internally (1 .. last_block); the wire carries the low 16 bits, so
 * transfers of more than 65535 blocks roll the block number over to 0 and go on
 * (what tftp-hpa, atftp, iPXE and curl expect).
 *
 * Flow:
 *   start:  OACK if any option was accepted (wait for ACK 0), else DATA 1.
 *   ACK:    ACK 0 answers the OACK. With windowsize W, blocks A+1 .. A+W are in
 *           flight (A = highest block acknowledged). An ACK for a block B in
 *           (A, A+W] moves A to B and sends B+1 .. B+W: the blocks past B that
 *           were already sent are sent again (RFC 7440 section 4: the client
 *           ACKs the last block it received in order and the server goes on
 *           from there) - once per loss: while an ACK is below the highest block
 *           of the last resend ("recover", as TCP NewReno does) it only moves A
 *           and sends the blocks never sent, so a client that ACKs duplicated
 *           DATA cannot make every ACK resend the window (a cascade). An ACK below A (stale) is ignored and counted. An ACK
 *           for A itself (duplicate) is ignored and counted too (RFC 1123
 *           4.2.3.1, Sorcerer's Apprentice), with one exception: a repeat of A
 *           that comes at least a quarter of the timeout after the window was
 *           last sent is the client saying the window's first block was lost
 *           (its own timeout, RFC 7440 section 4): the window is resent at once
 *           (a fast resend). Every such retry of the client is answered, not
 *           only the first per base (after a blackout towards the client the
 *           backed-off timer alone would outlast the client or give_up_ms);
 *           a quarter timeout apart at least, so a duplicated packet never
 *           multiplies the traffic. The ACK of the last block (the first
 *           one shorter than blksize, possibly empty) ends the transfer.
 *   timer:  when now reaches the deadline the unacknowledged blocks (or the
 *           OACK) are sent again, from the first unacknowledged block; each
 *           resend without progress doubles the wait (up to 4x the timeout).
 *           When nothing moved for cfg give_up_ms the session ends with
 *           TFTP_END_TIMEOUT and sends nothing: the give-up is a time, long
 *           enough for the client's own retries, not a count of our resends.
 *   ERROR from the client ends the session (code 8 in answer to our OACK,
 *   before any DATA: the client refused it, TFTP_END_OPTION_REFUSED; that is
 *   how PXE firmware and iPXE probe tsize). Any other opcode from the client on the
 *   transfer port is an illegal operation: ERROR 4 and the session ends.
 *   A packet from another address/port (TID) gets ERROR 5, sent to that
 *   sender; the session is untouched (RFC 1350 section 4).
 *
 * Sending: after every call, send what the tx says, in this order: the ERROR
 * (to the packet's sender if tx.error_to_sender, else to the client), the
 * OACK (tftp_build_oack(out, cap, &sess->params)), then DATA blocks
 * data_first .. data_first + data_count - 1, each built with
 * tftp_build_data() before the next call into this session.
 */
#ifndef SB_TFTP_SESSION_H
#define SB_TFTP_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "sbcfg.h"
#include "tftp.h"

enum tftp_session_state {
	TFTP_SS_IDLE = 0,  /* not started */
	TFTP_SS_OACK_SENT, /* waiting for ACK 0 */
	TFTP_SS_DATA,	   /* DATA in flight */
	TFTP_SS_ENDED,	   /* see end */
};

/* Why a session ended. */
enum tftp_end {
	TFTP_END_NONE = 0,
	TFTP_END_DONE,		 /* last block acknowledged */
	TFTP_END_TIMEOUT,	 /* no progress for cfg give_up_ms */
	TFTP_END_CLIENT_ERROR,	 /* client sent ERROR (client_error_code) */
	TFTP_END_OPTION_REFUSED, /* client sent ERROR 8 in answer to our OACK (before DATA) */
	TFTP_END_ILLEGAL_OP,	 /* client sent something else than ACK/ERROR: we sent ERROR 4 */
	TFTP_END__COUNT,
};

/* The transfer's addresses (host order); the session's TID is client_ip:client_port. */
struct tftp_peer {
	uint32_t client_ip;
	uint16_t client_port;
	uint16_t server_port;
};

/* What the caller must send after a call. */
struct tftp_tx {
	bool error;	      /* send ERROR error_code / error_msg */
	bool error_to_sender; /* ... to the sender of the packet (unknown TID), not the client */
	uint16_t error_code;
	const char *error_msg;
	bool oack;	     /* send the OACK */
	uint64_t data_first; /* first 64-bit block number to send */
	uint32_t data_count; /* number of consecutive DATA blocks, 0 = none */
};

struct tftp_session_stats {
	uint64_t blocks_sent;	/* DATA packets, first sends and resends */
	uint64_t blocks_resent; /* of which resends (timeout or window restart) */
	uint32_t timeouts;	/* deadlines that fired and retransmitted */
	uint32_t fast_resends;	/* windows resent at once on the client's repeated ACK */
	uint32_t acks_dup;	/* duplicate ACKs ignored */
	uint32_t acks_stale;	/* stale ACKs ignored */
};

#define TFTP_NA_RING (TFTP_NETASCII_WINDOW_MAX + 1)

/* Fixed size, caller-owned; no pointers to free. */
struct tftp_session {
	struct tftp_peer peer;
	struct tftp_params params;
	const uint8_t *data; /* image bytes (catalog entry); must outlive the session */
	uint64_t size;	     /* image size in bytes (before netascii conversion) */
	uint64_t last_block; /* number of the final (short) block */
	uint64_t acked;	     /* highest block acknowledged, 0 = none */
	uint64_t sent;	     /* highest block sent */
	uint64_t started;    /* now at start */
	uint64_t deadline;   /* next retransmission or give-up, UINT64_MAX when ended */
	uint64_t progress;   /* now at start and at every ACK that moved the window */
	uint64_t last_send;  /* now when the OACK or the window was last sent */
	uint32_t give_up_ms; /* from cfg */
	uint32_t wait_ms;    /* current resend interval: timeout_ms, doubled per resend */
	uint32_t tries;	     /* retransmissions since the last progress */
	uint64_t recover;    /* highest block sent by the last resend (0: none) */
	enum tftp_session_state state;
	enum tftp_end end;
	uint16_t client_error_code; /* TFTP_END_CLIENT_ERROR / _OPTION_REFUSED */
	struct tftp_session_stats stats;
	/* netascii: encoder position (src << 1 | half) where block b starts, at [b % TFTP_NA_RING],
	 * for blocks na_known - TFTP_NA_RING + 1 .. na_known. */
	uint64_t na_known;
	uint64_t na_start[TFTP_NA_RING];
};

/*
 * Start a transfer of img for the RRQ rrq (already parsed; img found in the
 * catalog by the caller) under cfg's TFTP limits. Fills tx with the first
 * packet (OACK or DATA 1). Returns the number of packets in tx (1), or
 * -EINVAL on a NULL image.
 */
int tftp_session_start(struct tftp_session *sess, const struct tftp_peer *peer,
		       const struct tftp_rrq *rrq, const struct catalog_entry *img,
		       const struct sbcfg_tftp *cfg, uint64_t now, struct tftp_tx *tx);

/*
 * A packet from src_ip:src_port (host order) to the session's transfer port.
 * Returns the number of packets to send (tx filled), or -SB_DROP_x when the
 * packet was refused or ignored (TFTP_UNKNOWN_TID, TFTP_SHORT, TFTP_ACK_DUP,
 * TFTP_ACK_STALE, TFTP_SESSION_CLOSED, TFTP_BAD_OPCODE, TFTP_UNEXPECTED_OPCODE).
 * Even then tx may hold an ERROR to send (unknown TID, illegal operation).
 */
int tftp_session_on_packet(struct tftp_session *sess, uint32_t src_ip, uint16_t src_port,
			   const uint8_t *buf, size_t len, uint64_t now, struct tftp_tx *tx);

/*
 * Call when now >= tftp_session_next_deadline(). Retransmits (tx filled,
 * returns the number of packets) or gives up (session ends with
 * TFTP_END_TIMEOUT, returns 0). Before the deadline: no-op, returns 0.
 */
int tftp_session_on_timer(struct tftp_session *sess, uint64_t now, struct tftp_tx *tx);

/* When on_timer must next be called; UINT64_MAX once the session has ended. */
uint64_t tftp_session_next_deadline(const struct tftp_session *sess);

/* True once the session has ended (sess->end says why): free its slot. */
bool tftp_session_ended(const struct tftp_session *sess);

/*
 * Build DATA for 64-bit block number `block` (one named by the last tx) into
 * out: 4-byte header, then the payload. Returns the packet length, -ENOSPC if
 * cap < 4 + blksize-or-less, -EINVAL if block is not one this session can send now.
 */
int tftp_build_data(uint8_t *out, size_t cap, const struct tftp_session *sess, uint64_t block);

/*
 * Zero-copy alternative for octet mode: where block's payload is in the image
 * and how long it is (0 for an empty final block). The caller writes the
 * header with tftp_build_data_hdr(). 0, -EINVAL, or -ENOTSUP in netascii mode.
 */
int tftp_session_data_ref(const struct tftp_session *sess, uint64_t block, const uint8_t **ptr,
			  size_t *len);

/* Counter name of an end reason ("tftp_end_done", ...). */
const char *tftp_end_name(enum tftp_end end);

#endif
