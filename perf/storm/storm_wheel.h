/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * storm_wheel.h - a hashed timing wheel for a fixed set of entries (one timer per VM).
 *
 * Slots of one millisecond; an entry is linked (by index, no pointers) into the slot of
 * its due millisecond modulo the wheel size, and a slot's walk fires only the entries that
 * are due, so deadlines beyond one turn of the wheel simply wait for their turn. Arming an
 * armed entry moves it. Pure: no clock, no allocation after init.
 */
#ifndef SB_STORM_WHEEL_H
#define SB_STORM_WHEEL_H

#include <stdbool.h>
#include <stdint.h>

#define STORM_WHEEL_NONE UINT32_MAX

struct storm_wheel {
	uint32_t *head;	 /* per slot: first entry, STORM_WHEEL_NONE = empty */
	uint32_t *next;	 /* per entry */
	uint32_t *prev;	 /* per entry; STORM_WHEEL_NONE for the first of a slot */
	uint64_t *due;	 /* per entry: due time, ms */
	uint8_t *armed;	 /* per entry */
	uint32_t n;	 /* entries */
	uint32_t mask;	 /* slots - 1 */
	uint64_t now_ms; /* every slot up to this one has been walked */
	uint32_t n_armed;
};

/* n entries, 2^slots_log2 slots; time starts at start_ms. 0 or -ENOMEM. */
int storm_wheel_init(struct storm_wheel *w, uint32_t n, unsigned slots_log2, uint64_t start_ms);
void storm_wheel_free(struct storm_wheel *w);

/* (Re)arm entry id for due_ms. A time already walked fires at the next walk. */
void storm_wheel_arm(struct storm_wheel *w, uint32_t id, uint64_t due_ms);
void storm_wheel_cancel(struct storm_wheel *w, uint32_t id);
static inline bool storm_wheel_armed(const struct storm_wheel *w, uint32_t id)
{
	return w->armed[id];
}

/*
 * Walk the slots up to now_ms and call fire(ctx, id) for every entry due (disarmed before
 * the call; fire may arm it, or others, again), at most budget of them: the walk stops
 * there and the next call goes on from the same slot. Returns the number fired.
 */
unsigned storm_wheel_expire(struct storm_wheel *w, uint64_t now_ms,
			    void (*fire)(void *ctx, uint32_t id), void *ctx, unsigned budget);

#endif
