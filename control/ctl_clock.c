/* SPDX-License-Identifier: BSD-3-Clause */
/* ctl_clock.c - the wall clock (see ctl_clock.h). */
#include "ctl_clock.h"

#include <time.h>

uint64_t ctl_clock_now(const struct ctl_clock *c)
{
	return c->now(c->arg);
}

uint64_t ctl_clock_system(void *arg)
{
	(void)arg;
	return (uint64_t)time(NULL);
}

struct ctl_clock ctl_clock_default(void)
{
	return (struct ctl_clock){ctl_clock_system, NULL};
}
