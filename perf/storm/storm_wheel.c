/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "storm_wheel.h"

int storm_wheel_init(struct storm_wheel *w, uint32_t n, unsigned slots_log2, uint64_t start_ms)
{
	uint32_t slots = 1u << slots_log2;

	memset(w, 0, sizeof(*w));
	w->head = malloc(slots * sizeof(*w->head));
	w->next = malloc((size_t)n * sizeof(*w->next) + 1);
	w->prev = malloc((size_t)n * sizeof(*w->prev) + 1);
	w->due = malloc((size_t)n * sizeof(*w->due) + 1);
	w->armed = calloc((size_t)n + 1, 1);
	if (!w->head || !w->next || !w->prev || !w->due || !w->armed) {
		storm_wheel_free(w);
		return -ENOMEM;
	}
	for (uint32_t s = 0; s < slots; s++)
		w->head[s] = STORM_WHEEL_NONE;
	w->n = n;
	w->mask = slots - 1;
	w->now_ms = start_ms;
	return 0;
}

void storm_wheel_free(struct storm_wheel *w)
{
	free(w->head);
	free(w->next);
	free(w->prev);
	free(w->due);
	free(w->armed);
	memset(w, 0, sizeof(*w));
}

static void unlink_entry(struct storm_wheel *w, uint32_t id)
{
	uint32_t nx = w->next[id], pv = w->prev[id];

	if (pv == STORM_WHEEL_NONE)
		w->head[w->due[id] & w->mask] = nx;
	else
		w->next[pv] = nx;
	if (nx != STORM_WHEEL_NONE)
		w->prev[nx] = pv;
	w->armed[id] = 0;
	w->n_armed--;
}

void storm_wheel_cancel(struct storm_wheel *w, uint32_t id)
{
	if (w->armed[id])
		unlink_entry(w, id);
}

void storm_wheel_arm(struct storm_wheel *w, uint32_t id, uint64_t due_ms)
{
	uint32_t s;

	if (w->armed[id])
		unlink_entry(w, id);
	/* Slots up to now_ms were walked (or are being walked): the next walk takes it. */
	if (due_ms <= w->now_ms)
		due_ms = w->now_ms + 1;
	s = (uint32_t)(due_ms & w->mask);
	w->due[id] = due_ms;
	w->prev[id] = STORM_WHEEL_NONE;
	w->next[id] = w->head[s];
	if (w->head[s] != STORM_WHEEL_NONE)
		w->prev[w->head[s]] = id;
	w->head[s] = id;
	w->armed[id] = 1;
	w->n_armed++;
}

unsigned storm_wheel_expire(struct storm_wheel *w, uint64_t now_ms,
			    void (*fire)(void *ctx, uint32_t id), void *ctx, unsigned budget)
{
	uint64_t slots = (uint64_t)w->mask + 1, todo;
	unsigned fired = 0;

	if (now_ms <= w->now_ms)
		return 0;
	/* After a long pause every slot is walked once: each walk fires all that is due. */
	todo = now_ms - w->now_ms;
	if (todo > slots) {
		w->now_ms = now_ms - slots;
		todo = slots;
	}
	while (todo--) {
		uint64_t ms = ++w->now_ms;
		uint32_t id = w->head[ms & w->mask];

		while (id != STORM_WHEEL_NONE) {
			uint32_t nx = w->next[id];

			if (fired == budget) {
				w->now_ms = ms - 1; /* this slot again at the next call */
				return fired;
			}
			if (w->due[id] <= now_ms) {
				unlink_entry(w, id);
				fired++;
				fire(ctx, id);
				/* fire() may have moved nx elsewhere: restart the slot's walk.
				 * Entries it armed land at now_ms + 1 or later. */
				if (nx != STORM_WHEEL_NONE &&
				    (!w->armed[nx] || (w->due[nx] & w->mask) != (ms & w->mask)))
					nx = w->head[ms & w->mask];
			}
			id = nx;
		}
	}
	return fired;
}
