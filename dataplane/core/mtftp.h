/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mtftp.h - multicast TFTP (RFC 2090): one stream of an image to a group, shared by every
 * client that asked for it with the "multicast" option, driven by one master client's ACKs.
 *
 * Pure, like tftp_session.h: packets and `now` (monotonic ms) in, a struct mtftp_tx out that
 * says what to send; the caller (the engine) owns the stream struct, the timer, the group and
 * port choice and the mbufs. Octet mode only (the caller serves netascii unicast).
 *
 * Protocol (RFC 2090, as atftp's client and iPXE's tftm:// speak it):
 *   join:   an RRQ with "multicast" is answered (unicast, from the stream's transfer port) with
 *           an OACK carrying the options the client asked for (blksize is the stream's, tsize,
 *           timeout, windowsize) and multicast = "a.b.c.d,port,mc". The first client of a stream
 *           is the master (mc=1); later clients get mc=0 and take the stream from where it is.
 *           A repeated RRQ from a client of the stream gets its OACK again.
 *   master: its ACK n says it holds blocks 1..n (the block before its first hole); the stream
 *           sends n+1 .. n+windowsize to the group, with the unicast session's rules (new
 *           blocks on each ACK, a repeated ACK a quarter timeout late resends the window once,
 *           the timer resends with back-off). ACKs from other clients are ignored and counted.
 *   end of a master: its ACK of the last block (it has the whole image), an ERROR from it, or
 *           no progress for give_up_ms (an OACK that promoted it unanswered for 3 timeouts):
 *           it leaves the stream and the remaining client that lacks most becomes master (the
 *           latest to join the first pass, since it missed the most; among equals the oldest):
 *           an OACK with mc=1 goes to it, and its ACKs ask for the blocks it lacks (a late
 *           joiner: the start of the image, sent to the group again, counted as blocks_late).
 *           When a master that lacked blocks 1..k finishes, every listener that was there for
 *           its whole pass and lacked no more than that heard them too: it likely holds the
 *           image, and is promoted only after the others. A client that finished and left
 *           without a word (iPXE) costs three timeouts when promoted; in this order those come
 *           last, after every client that still needs blocks.
 *   fallback: a master that made no progress through two resends to the group (the group does
 *           not reach it: IGMP snooping, a router) gets its window by unicast from then on
 *           (both atftp and iPXE accept DATA from the transfer port on their unicast socket);
 *           counted unicast_fallbacks. While other clients are in the stream the window still
 *           goes to the group as well (an iPXE listener that gets nothing for ~16 s gives up);
 *           a master alone gets it unicast only.
 *   end:    when the last client has left, the stream ends (mtftp_ended): free it.
 *
 * Block numbers are 64-bit inside; the wire carries 16 bits. A master's ACK names the lowest
 * block at or above its last ACK with those 16 bits (or the last block, when that also fits and
 * the lower one was never sent to it): exact for images under 65536 blocks, and for the two
 * jumps a late joiner makes (to its gap's end, then to the last block) beyond.
 */
#ifndef SB_MTFTP_H
#define SB_MTFTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "sbcfg.h"
#include "tftp.h"

#ifndef MTFTP_CLIENTS_MAX      /* -DMTFTP_CLIENTS_MAX=N for experiments (perf/storm-mtftp.sh) */
#define MTFTP_CLIENTS_MAX 1024 /* per stream; a client beyond it is served unicast */
#endif
/* "multicast" + "255.255.255.255,65535,1" on top of the unicast options. */
#define MTFTP_OACK_MAX (TFTP_OACK_MAX + 40)

enum mtftp_client_state {
	MTFTP_C_FREE = 0,
	MTFTP_C_LISTEN,	     /* has its OACK mc=0, receives from the group */
	MTFTP_C_MASTER_OACK, /* OACK mc=1 sent, waiting for its first ACK */
	MTFTP_C_MASTER,	     /* its ACKs drive the stream */
};

/* Why a client left a stream. */
enum mtftp_leave {
	MTFTP_LEAVE_DONE = 0, /* master that acknowledged the last block */
	MTFTP_LEAVE_ERROR,    /* sent ERROR */
	MTFTP_LEAVE_TIMEOUT,  /* master without progress for give_up_ms (or promoted, silent) */
	MTFTP_LEAVE__COUNT,
};

struct mtftp_client {
	uint32_t ip; /* host order */
	uint16_t port;
	uint8_t state;	     /* enum mtftp_client_state */
	bool unicast;	     /* as master: the group does not reach it, DATA goes unicast */
	uint16_t windowsize; /* negotiated for it (used while it is master) */
	uint8_t timeout_s;   /* negotiated for it, 0 = none */
	uint8_t oack_opts;   /* TFTP_OPT_x it asked for (its OACK echoes them) */
	uint32_t timeout_ms;
	uint64_t seq;	/* join order: among equals, the oldest becomes master next */
	uint64_t lacks; /* may lack blocks 1..lacks (what the group carried before it joined):
			 * the client that lacks most becomes master next, 0 = likely complete */
};

struct mtftp_stats {
	uint64_t blocks_sent;	 /* DATA packets (to the group, or unicast to a cut-off master) */
	uint64_t blocks_resent;	 /* of which resends of a block already sent */
	uint64_t blocks_late;	 /* of which sent again for a promoted (late) master */
	uint64_t blocks_unicast; /* of which sent unicast to a master the group does not reach */
	uint64_t bytes_sent;	 /* DATA payload bytes (what the group carried) */
	uint32_t clients_joined;
	uint32_t leaves[MTFTP_LEAVE__COUNT];
	uint32_t handovers; /* a new master after a master left */
	uint32_t oacks_sent;
	uint32_t timeouts; /* resends on the timer */
	uint32_t unicast_fallbacks;
};

/* What the caller must send after a call: the ERROR, then the OACK, then DATA. */
struct mtftp_tx {
	bool error; /* ERROR error_code/error_msg to the packet's sender (unknown TID) */
	uint16_t error_code;
	const char *error_msg;
	bool oack;	     /* OACK to client oack_client (mtftp_build_oack) */
	int oack_client;     /* index in stream->c */
	uint64_t data_first; /* DATA data_first .. data_first + data_count - 1 */
	uint32_t data_count;
	bool data_group;   /* to the group */
	bool data_unicast; /* to the master (data_ip:data_port): the unicast fallback */
	uint32_t data_ip;
	uint16_t data_port;
};

/* Fixed size, caller-owned. */
struct mtftp_stream {
	uint32_t group_ip; /* host order */
	uint16_t group_port;
	uint16_t server_port; /* the transfer port: source of OACK and DATA, where ACKs come */
	const uint8_t *data;
	uint64_t size;
	uint16_t blksize;
	uint64_t last_block;
	uint32_t give_up_ms;
	uint32_t timeout_ms; /* of the current master */
	struct mtftp_client c[MTFTP_CLIENTS_MAX];
	uint32_t n_clients;
	int master; /* index in c, -1 = none (stream ended) */
	uint64_t next_seq;
	uint64_t pass_seq;  /* next_seq when the current master took over */
	uint64_t acked;	    /* the master's last ACK */
	uint64_t sent;	    /* highest block sent since the master's last ACK moved the base */
	uint64_t high;	    /* highest block ever sent to the group */
	uint64_t deadline;  /* next resend or give-up; UINT64_MAX once ended */
	uint64_t last_send; /* when the OACK or window was last sent */
	uint64_t progress;  /* when the master last moved (or was promoted) */
	uint32_t wait_ms;
	uint32_t tries; /* resends since the last progress */
	bool fast_resent;
	bool ended;
	bool promoted; /* the current master was promoted (its resends count as blocks_late) */
	uint64_t started;
	struct mtftp_stats stats;
};

/*
 * Start an empty stream of img (octet) to group_ip:group_port from server_port, with blocks
 * of blksize bytes (tftp_negotiate() of the first client's RRQ). Returns 0 or -EINVAL.
 * The first mtftp_join() makes its client the master.
 */
int mtftp_stream_init(struct mtftp_stream *st, uint32_t group_ip, uint16_t group_port,
		      uint16_t server_port, const struct catalog_entry *img, uint16_t blksize,
		      const struct sbcfg_tftp *cfg, uint64_t now);

/*
 * Whether the RRQ rrq (with TFTP_OPT_MULTICAST, octet) can join st: its blksize under cfg
 * is the stream's, or it asked for at least the stream's (RFC 2348 lets the server answer
 * a smaller one).
 */
bool mtftp_joinable(const struct mtftp_stream *st, const struct tftp_rrq *rrq,
		    const struct sbcfg_tftp *cfg);

/*
 * Add client ip:port (its RRQ rrq) to st, or find it there (a repeated RRQ). tx gets its
 * OACK. Returns 1, or -SB_DROP_MTFTP_STREAM_FULL (serve it unicast), -EINVAL when the
 * stream has ended or the RRQ is not joinable. A repeat returns 1 too and counts
 * -SB_DROP_MTFTP_RRQ_REPEAT in *repeat (0 otherwise).
 */
int mtftp_join(struct mtftp_stream *st, uint32_t ip, uint16_t port, const struct tftp_rrq *rrq,
	       const struct sbcfg_tftp *cfg, uint64_t now, struct mtftp_tx *tx, int *repeat);

/* The index of client ip:port in st, or -1. */
int mtftp_find(const struct mtftp_stream *st, uint32_t ip, uint16_t port);

/*
 * A packet from src_ip:src_port to the stream's transfer port. Returns the number of
 * packets in tx, or -SB_DROP_x (MTFTP_ACK_NOT_MASTER, MTFTP_ACK_STALE, MTFTP_ACK_DUP,
 * TFTP_UNKNOWN_TID with tx->error set, TFTP_SHORT, TFTP_BAD_OPCODE,
 * TFTP_UNEXPECTED_OPCODE, TFTP_SESSION_CLOSED). Another opcode than ACK/ERROR from a
 * client is ignored and counted: one confused client must not end the others' stream.
 */
int mtftp_on_packet(struct mtftp_stream *st, uint32_t src_ip, uint16_t src_port, const uint8_t *buf,
		    size_t len, uint64_t now, struct mtftp_tx *tx);

/* Call when now >= mtftp_next_deadline(): resend, or let a silent master go. */
int mtftp_on_timer(struct mtftp_stream *st, uint64_t now, struct mtftp_tx *tx);

/* When mtftp_on_timer must next be called; UINT64_MAX once ended. */
uint64_t mtftp_next_deadline(const struct mtftp_stream *st);

/* True once the last client has left: free the stream. */
bool mtftp_ended(const struct mtftp_stream *st);

/* Build the OACK tx names (its client's options and "multicast" with its mc). */
int mtftp_build_oack(uint8_t *out, size_t cap, const struct mtftp_stream *st,
		     const struct mtftp_tx *tx);

/* Where block's payload is in the image, and its length (0 for an empty last block). */
int mtftp_data_ref(const struct mtftp_stream *st, uint64_t block, const uint8_t **ptr, size_t *len);

/* Build DATA for block (header + payload). Length, -ENOSPC or -EINVAL. */
int mtftp_build_data(uint8_t *out, size_t cap, const struct mtftp_stream *st, uint64_t block);

#endif
