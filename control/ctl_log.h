/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_log.h - stormboot-control's log: stderr in the foreground, syslog (daemon facility)
 * otherwise. Levels are syslog's (LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG).
 */
#ifndef SB_CTL_LOG_H
#define SB_CTL_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <syslog.h>

/* A rate limit for one kind of message: at most CTL_LOG_BURST lines per CTL_LOG_WINDOW_MS. */
#define CTL_LOG_BURST	  5
#define CTL_LOG_WINDOW_MS 10000
struct ctl_log_limit {
	uint64_t window_start_ms; /* CLOCK_MONOTONIC */
	unsigned int in_window;
	uint64_t suppressed; /* lines not written since the last one written */
};

/* Log to stderr (foreground) or to syslog as ident. */
void ctl_log_init(const char *ident, bool foreground, bool debug);
void ctl_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * ctl_log() under limit l: a flood of one event (refused connections) writes a few lines per
 * window, and the next line written says how many were left out.
 */
void ctl_log_limited(struct ctl_log_limit *l, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
