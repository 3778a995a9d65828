/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * clock.h - time for the poll loop without syscalls: wall-clock unix seconds
 * (DHCP lease expiry) and monotonic milliseconds (TFTP timers), both derived
 * from the TSC and a base taken once at start.
 */
#ifndef SB_ENG_CLOCK_H
#define SB_ENG_CLOCK_H

#include <stdint.h>

struct eng_clock {
	uint64_t tsc0;	   /* TSC at eng_clock_init() */
	uint64_t hz;	   /* TSC ticks per second */
	uint64_t unix_ns0; /* CLOCK_REALTIME at tsc0 */
	uint64_t mono_ms0; /* CLOCK_MONOTONIC at tsc0, in ms */
};

/* Take the base (after rte_eal_init(): needs rte_get_tsc_hz()). */
void eng_clock_init(struct eng_clock *c);

/* ticks * mul / hz without overflowing 64 bits for ticks < 2^64 / hz. */
static inline uint64_t eng_clock_scale(uint64_t ticks, uint64_t mul, uint64_t hz)
{
	return ticks / hz * mul + ticks % hz * mul / hz;
}

/* Monotonic milliseconds at TSC value tsc. */
static inline uint64_t eng_clock_ms(const struct eng_clock *c, uint64_t tsc)
{
	return c->mono_ms0 + eng_clock_scale(tsc - c->tsc0, 1000, c->hz);
}

/* Wall-clock unix seconds at TSC value tsc. */
static inline uint64_t eng_clock_unix_s(const struct eng_clock *c, uint64_t tsc)
{
	return (c->unix_ns0 + eng_clock_scale(tsc - c->tsc0, 1000000000ull, c->hz)) / 1000000000ull;
}

/* TSC ticks in ms milliseconds. */
static inline uint64_t eng_clock_ms_to_tsc(const struct eng_clock *c, uint64_t ms)
{
	return eng_clock_scale(ms, c->hz, 1000);
}

#endif
