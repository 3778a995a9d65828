/* SPDX-License-Identifier: BSD-3-Clause */
#include <time.h>

#include <rte_cycles.h>

#include "clock.h"

void eng_clock_init(struct eng_clock *c)
{
	struct timespec rt, mono;

	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	c->tsc0 = rte_get_tsc_cycles();
	c->hz = rte_get_tsc_hz();
	c->unix_ns0 = (uint64_t)rt.tv_sec * 1000000000ull + (uint64_t)rt.tv_nsec;
	c->mono_ms0 = (uint64_t)mono.tv_sec * 1000ull + (uint64_t)mono.tv_nsec / 1000000ull;
}
