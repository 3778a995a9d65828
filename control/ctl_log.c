/* SPDX-License-Identifier: BSD-3-Clause */
/* ctl_log.c - stderr or syslog. */
#include "ctl_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

static bool log_stderr = true;
static bool log_debug;

void ctl_log_init(const char *ident, bool foreground, bool debug)
{
	log_stderr = foreground;
	log_debug = debug;
	if (!foreground)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

static void vlog(int level, const char *fmt, va_list ap)
{
	static const char *const names[] = {"emerg",   "alert",	 "crit", "error",
					    "warning", "notice", "info", "debug"};

	if (level == LOG_DEBUG && !log_debug)
		return;
	if (log_stderr) {
		char ts[32];
		time_t t = time(NULL);
		struct tm tm;

		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", localtime_r(&t, &tm));
		flockfile(stderr); /* one line, whole, from the loop or the HTTP thread */
		fprintf(stderr, "%s stormboot-control %s: ", ts, names[level & 7]);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
		funlockfile(stderr);
	} else {
		vsyslog(level, fmt, ap);
	}
}

void ctl_log(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level, fmt, ap);
	va_end(ap);
}

void ctl_log_limited(struct ctl_log_limit *l, int level, const char *fmt, ...)
{
	struct timespec ts;
	uint64_t now;
	va_list ap;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	if (now - l->window_start_ms >= CTL_LOG_WINDOW_MS) {
		l->window_start_ms = now;
		l->in_window = 0;
	}
	if (l->in_window >= CTL_LOG_BURST) {
		l->suppressed++;
		return;
	}
	l->in_window++;
	if (l->suppressed) {
		ctl_log(level, "(%llu similar messages left out)",
			(unsigned long long)l->suppressed);
		l->suppressed = 0;
	}
	va_start(ap, fmt);
	vlog(level, fmt, ap);
	va_end(ap);
}
