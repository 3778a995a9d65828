/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * timeline.h - every client's boot as a timeline: the last TL_CLIENT_EVENTS steps of each
 * client MAC (struct sb_tl_event, contracts/sb_timeline.h), the client's state derived from
 * them and `now` (booting, done, stuck, failed), and the words that describe a step.
 *
 * Pure: the store lives in caller memory (tl_store_init), nothing is allocated, no clock (the
 * caller passes `now`). The dataplane fills per-lcore rings of events; control feeds them
 * here, with what it sees itself (HTTP fetches, firmware syslog). When the store is full the
 * client seen least recently makes room (counted in evicted). Reference: docs/TIMELINE.md.
 */
#ifndef SB_TIMELINE_H
#define SB_TIMELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sb_timeline.h"

#define TL_CLIENT_EVENTS 32 /* steps kept per client (the oldest make room) */

/* X(id, "name"): a client's state, in the order `clients` counts them. */
#define TL_STATES(X)                                                                               \
	X(BOOTING, "booting") /* steps coming, none failed */                                      \
	X(DONE, "done")	      /* the last step was a whole file served, then quiet */              \
	X(STUCK, "stuck")     /* quiet too long after a step that is not an end, or transfers      \
				 of one file given up again and again */                           \
	X(FAILED, "failed")   /* the last step was an error (NAK, file missing, refused,           \
				 transfer aborted, a firmware error message) */

enum tl_state {
#define TL_STATE_ENUM(id, name) TL_##id,
	TL_STATES(TL_STATE_ENUM)
#undef TL_STATE_ENUM
		TL_STATE__COUNT
};

/* What a step means for the boot. */
enum tl_outcome {
	TL_PROGRESS = 0, /* a step on the way */
	TL_SUCCESS,	 /* a file served whole (TFTP end done, HTTP 2xx) */
	TL_ERROR,	 /* the boot cannot go on from here without a retry */
	TL_TIMEOUT,	 /* a transfer given up: the client vanished or stopped acknowledging */
};

struct tl_params {
	uint32_t done_quiet_ms;	 /* a success followed by this much quiet: done (15000) */
	uint32_t stuck_ms;	 /* no step for this long after a progress step: stuck (60000) */
	uint32_t stuck_timeouts; /* transfers given up in a row: stuck at once (3) */
};

/* The defaults above. */
void tl_params_default(struct tl_params *p);

struct tl_client {
	uint8_t mac[6];
	bool used;
	uint8_t last_outcome; /* enum tl_outcome of the newest step */
	uint32_t ip;	      /* the newest address seen for it, 0 = none */
	uint32_t timeouts;    /* transfers given up since the last success */
	uint32_t total;	      /* steps ever recorded (ring position: total % TL_CLIENT_EVENTS) */
	uint64_t first_ms, last_ms;
	uint64_t last_seq;			 /* store sequence of the newest step */
	uint32_t hnext;				 /* hash chain, UINT32_MAX = end */
	uint32_t lru_prev, lru_next;		 /* least recently active first */
	uint64_t seq[TL_CLIENT_EVENTS];		 /* store sequence of each step */
	struct sb_tl_event ev[TL_CLIENT_EVENTS]; /* ring */
};

struct tl_store {
	struct tl_client *c;
	uint32_t *buckets; /* heads of hash chains */
	uint32_t cap, n, n_buckets;
	uint32_t lru_head, lru_tail; /* head: least recently active */
	uint32_t free_head;	     /* unused slots, chained through hnext */
	uint64_t seq;		     /* the last sequence number given (1, 2, ...) */
	uint64_t evicted;	     /* clients dropped to make room */
	uint64_t events;	     /* steps recorded */
};

/* Buckets to give tl_store_init for cap clients (a power of 2, about 2 per client). */
uint32_t tl_store_buckets(uint32_t cap);

/*
 * Use clients[cap] and buckets[tl_store_buckets(cap)] (caller memory, for the store's life).
 * -EINVAL if cap is 0 or n_buckets is not tl_store_buckets(cap).
 */
int tl_store_init(struct tl_store *s, struct tl_client *clients, uint32_t cap, uint32_t *buckets,
		  uint32_t n_buckets);

/*
 * Record one step (copied) under its MAC: a new client when the MAC is new (the least
 * recently active one makes room when full). Its sequence number is s->seq afterwards.
 * Returns the client, NULL for a zero MAC or an unknown kind (nothing recorded).
 */
struct tl_client *tl_store_add(struct tl_store *s, const struct sb_tl_event *ev);

/* The client with this MAC, or NULL. */
struct tl_client *tl_store_find(const struct tl_store *s, const uint8_t mac[6]);

/* Steps held for c (at most TL_CLIENT_EVENTS), and the k-th oldest of them (k < that). */
uint32_t tl_client_count(const struct tl_client *c);
const struct sb_tl_event *tl_client_event(const struct tl_client *c, uint32_t k, uint64_t *seq);

/* The client's state at now_ms. */
enum tl_state tl_client_state(const struct tl_client *c, uint64_t now_ms,
			      const struct tl_params *p);

/* What a step means (see enum tl_outcome). */
enum tl_outcome tl_event_outcome(const struct sb_tl_event *e);

/* "booting" ..., "unknown" out of range. */
const char *tl_state_name(enum tl_state st);
/* -1 if name is no state. */
int tl_state_find(const char *name);
/* "dhcp", "tftp-rrq", ..., "unknown". */
const char *tl_kind_name(unsigned kind);
/* "not-found", "forbidden", "paced", ... */
const char *tl_refusal_name(unsigned r);

/*
 * The step in a few words ("DISCOVER>OFFER", "RRQ", "ERROR not-found", "done") and its details
 * ("198.18.0.10 file ipxe.efi", "ipxe.efi blksize 1468 ..."), NUL-terminated, cut to cap.
 * Return what snprintf returns.
 */
int tl_event_step(const struct sb_tl_event *e, char *buf, size_t cap);
int tl_event_detail(const struct sb_tl_event *e, char *buf, size_t cap);

/* Set e->text from s (n bytes, need not be NUL-terminated): cut and NUL-padded. */
void tl_event_set_text(struct sb_tl_event *e, const char *s, size_t n);

/*
 * A gap between two steps that stands out in a trace: at least 1 s and at least 4 times the
 * mean of the timeline's other gaps (total_ms: all gaps together, gaps: how many).
 */
bool tl_gap_notable(uint64_t gap_ms, uint64_t total_ms, uint32_t gaps);

/*
 * A token bucket for log lines: rate per second, burst at most. tl_bucket_take() says whether
 * one more line may go at now_ms; the lines refused are counted in suppressed (the caller
 * reports and clears it when a line goes again).
 */
struct tl_bucket {
	uint32_t rate, burst;
	uint64_t tokens_milli; /* tokens * 1000 */
	uint64_t last_ms;
	uint64_t suppressed;
};
void tl_bucket_init(struct tl_bucket *b, uint32_t rate, uint32_t burst, uint64_t now_ms);
bool tl_bucket_take(struct tl_bucket *b, uint64_t now_ms);

#endif
