/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * log.h - the 'stormboot' rte_log type. INFO for lifecycle, DEBUG for
 * per-packet and per-session events, WARNING (with counters) for refusals.
 * Change at run time with the EAL option --log-level=stormboot:debug.
 */
#ifndef SB_ENG_LOG_H
#define SB_ENG_LOG_H

#include <rte_log.h>

extern int eng_logtype;

#define ENG_LOG(level, fmt, ...)                                                                   \
	rte_log(RTE_LOG_##level, eng_logtype, "stormboot: " fmt "\n", ##__VA_ARGS__)

/* For per-packet paths: the level test is inlined, formatting only when enabled. */
#define ENG_DEBUG(fmt, ...)                                                                        \
	do {                                                                                       \
		if (unlikely(rte_log_can_log(eng_logtype, RTE_LOG_DEBUG)))                         \
			ENG_LOG(DEBUG, fmt, ##__VA_ARGS__);                                        \
	} while (0)

#endif
