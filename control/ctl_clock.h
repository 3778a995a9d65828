/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_clock.h - the wall clock of stormboot-control (lease times are unix seconds). Modules
 * that need the time of day are given a clock by whoever owns them (the daemon), never read
 * time() themselves, so that tests can set the time.
 */
#ifndef SB_CTL_CLOCK_H
#define SB_CTL_CLOCK_H

#include <stdint.h>

struct ctl_clock {
	uint64_t (*now)(void *arg); /* unix seconds */
	void *arg;
};

/* Unix seconds from c. */
uint64_t ctl_clock_now(const struct ctl_clock *c);

/* The system's clock (time(2)); arg is unused. */
uint64_t ctl_clock_system(void *arg);

/* A clock that reads time(2). */
struct ctl_clock ctl_clock_default(void);

#endif
