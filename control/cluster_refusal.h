/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cluster_refusal.h - the shared changes a server refused, carried in its applied/ID value, and
 * what a waiting API answers from them (docs/SCALE-OUT.md, "in effect on every live server").
 * Pure: no I/O, unit-tested (control/cluster_test.c).
 *
 * A server that refuses a shared change (an image whose file differs from the pinned SHA-256
 * here, a config document its parser or dataplane refuses) still moves its progress past the
 * change's revision (nothing else would ever move it), but records the refusal: the set, the
 * revision and a short reason. Its applied/ID value then reads
 *   {"images": 120, ..., "refused": [{"set": "images", "rev": 118, "why": "..."}],
 *    "refused_lost": 97}
 * with the last CLUSTER_REFUSALS_MAX refusals ("refused_lost": the highest revision dropped
 * from the list, when any was). Bounded: the whole value stays under 1024 bytes, what a
 * server of before this change reads (it ignores the new keys). A value without "refused" (a
 * server of before) says "applied" of every revision up to its own.
 */
#ifndef SB_CLUSTER_REFUSAL_H
#define SB_CLUSTER_REFUSAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define CLUSTER_REFUSALS_MAX	4
#define CLUSTER_REFUSAL_WHY_MAX 128 /* with its NUL */
#define CLUSTER_REFUSAL_SET_MAX 16

struct cluster_refusal {
	char set[CLUSTER_REFUSAL_SET_MAX];
	int64_t rev;
	char why[CLUSTER_REFUSAL_WHY_MAX];
};

struct cluster_refusals {
	struct cluster_refusal r[CLUSTER_REFUSALS_MAX]; /* oldest first */
	size_t n;
	int64_t lost; /* the highest revision dropped (0: none) */
};

/* set's change at rev refused here for why (cut to fit; quotes, backslashes, controls and
 * non-ASCII bytes made plain, so the JSON stays as long as the text). The oldest goes when
 * full (its revision to lost). */
void cluster_refusals_add(struct cluster_refusals *l, const char *set, int64_t rev,
			  const char *why);

/* l into a progress value v: "refused" (and "refused_lost" when > 0). 0, or -1 out of memory. */
int cluster_refusals_put(const struct cluster_refusals *l, json_t *v);

enum cluster_apply_state {
	CLUSTER_APPLY_PENDING, /* not applied yet (or no value) */
	CLUSTER_APPLY_DONE,    /* in effect there */
	CLUSTER_APPLY_REFUSED, /* refused there: why says why */
	CLUSTER_APPLY_UNKNOWN, /* applied past it, but its refusals of then are lost */
};

/* What a server's progress value v (NULL: none) says of set's change at revision rev. A
 * refusal's reason goes to why (cap bytes). Any malformed part reads as absent. */
enum cluster_apply_state cluster_apply_state_of(const json_t *v, const char *set, int64_t rev,
						char *why, size_t cap);

/* The answer once no live server is pending: ids[0..n) with their states (this server's is
 * DONE) and reasons (whys[i] for a REFUSED one), ms the wait. "in effect on all N live servers
 * (confirmed in MS ms)", or "in effect on K of N live servers (...); refused by b: WHY; not
 * known on c: ..." into out (cut to cap). Returns how many are not in effect (refused or
 * unknown). */
size_t cluster_apply_answer(const char *const *ids, const enum cluster_apply_state *st,
			    const char *const *whys, size_t n, uint64_t ms, char *out, size_t cap);

#endif
