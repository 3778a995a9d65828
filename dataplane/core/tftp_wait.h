/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tftp_wait.h - admission of paced TFTP read requests in arrival order.
 *
 * Storms are paced, never refused: when the session table is full an RRQ is held
 * unanswered, because PXE firmware takes a TFTP ERROR as fatal. Held that way alone, a free
 * slot goes to whichever retransmission happens to arrive just after a session ends, so a
 * client can lose that draw until its firmware gives up (iPXE after 15.75 s) while later
 * clients are served. This queue remembers the held requesters instead, oldest first, and
 * gives the next free slot to the oldest one: the caller starts its session at once from
 * the RRQ kept here, without waiting for the client's next retransmission.
 *
 * A bounded FIFO in caller memory, keyed by client address and port (a retransmission, or a
 * new RRQ from the same port, refreshes the entry and keeps its place), driven by `now`
 * (monotonic milliseconds). A waiter not heard from for ttl_ms has given up and is dropped
 * when it reaches the head. Lookups are O(1) through a chained hash over the slots.
 *
 * Pure: no I/O, no clock, no allocation.
 */
#ifndef SB_TFTP_WAIT_H
#define SB_TFTP_WAIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pkt.h"

#define TFTP_WAIT_RRQ_MAX 512 /* RFC 2347: a request packet is at most 512 bytes */
#define TFTP_WAIT_NIL	  UINT32_MAX

struct tftp_waiter {
	uint32_t client_ip; /* host order */
	uint16_t client_port;
	uint16_t rrq_len;
	uint32_t hnext;	     /* next slot in the same hash chain, TFTP_WAIT_NIL at the end */
	uint64_t since_ms;   /* when its first RRQ was held (its place in the queue) */
	uint64_t seen_ms;    /* its latest RRQ */
	struct pkt_udp peer; /* the latest RRQ's addressing (MACs, VLAN tags); payload NULL */
	uint8_t rrq[TFTP_WAIT_RRQ_MAX]; /* the latest RRQ's UDP payload */
};

struct tftp_wait_stats {
	uint64_t held;	    /* clients that joined the queue */
	uint64_t refreshed; /* RRQs of a client already waiting (its place kept) */
	uint64_t admitted;  /* clients taken from the head for a free slot */
	uint64_t full;	    /* RRQs not queued: the queue was full (held as before) */
	uint64_t expired;   /* waiters dropped at the head, silent for ttl_ms (gave up) */
	uint64_t too_long;  /* RRQs not queued: longer than TFTP_WAIT_RRQ_MAX */
};

struct tftp_wait {
	struct tftp_waiter *v; /* cap slots, a ring: head .. head + n - 1 */
	uint32_t *bucket;      /* cap chains (hash & (cap - 1)) -> first slot */
	uint32_t cap;	       /* a power of two */
	uint32_t head;
	uint32_t n;
	uint64_t ttl_ms;
	struct tftp_wait_stats st;
};

/*
 * Lay the queue over v[0..cap) and bucket[0..cap); cap must be a power of two >= 1.
 * ttl_ms: a waiter silent that long has given up (at least the longest gap between two
 * retransmissions of the clients served: iPXE's is 8 s). -EINVAL on a bad cap.
 */
int tftp_wait_init(struct tftp_wait *q, struct tftp_waiter *v, uint32_t *bucket, uint32_t cap,
		   uint64_t ttl_ms);

/*
 * Remember the RRQ u (u->payload, u->payload_len; the addressing is copied, the payload
 * too) of a client that found no free slot. Returns 0 when the client joined the tail, 1
 * when it was already waiting (its RRQ and seen time updated, its place kept), -ENOSPC when
 * the queue is full of live waiters, -EMSGSIZE when the RRQ is longer than TFTP_WAIT_RRQ_MAX.
 * Each outcome is counted in q->st.
 */
int tftp_wait_hold(struct tftp_wait *q, const struct pkt_udp *u, uint64_t now_ms);

/*
 * The oldest live waiter, taken off the queue (counted as admitted), or NULL when none is
 * left. Waiters silent for ttl_ms found at the head on the way are dropped (counted as
 * expired). The entry stays valid until the next tftp_wait_hold().
 */
const struct tftp_waiter *tftp_wait_pop(struct tftp_wait *q, uint64_t now_ms);

/* Is ip:port waiting? Its position from the head (0 = next), or -ENOENT. */
int tftp_wait_position(const struct tftp_wait *q, uint32_t client_ip, uint16_t client_port);

/* Drop the waiters silent for ttl_ms from the head (counted as expired); how many. */
uint32_t tftp_wait_expire(struct tftp_wait *q, uint64_t now_ms);

static inline uint32_t tftp_wait_len(const struct tftp_wait *q)
{
	return q->n;
}

/* How long the head has waited (ms), 0 when the queue is empty. */
uint64_t tftp_wait_oldest_ms(const struct tftp_wait *q, uint64_t now_ms);

#endif
