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

void ctl_log(int level, const char *fmt, ...)
{
	static const char *const names[] = {"emerg",   "alert",	 "crit", "error",
					    "warning", "notice", "info", "debug"};
	va_list ap;

	if (level == LOG_DEBUG && !log_debug)
		return;
	va_start(ap, fmt);
	if (log_stderr) {
		char ts[32];
		time_t t = time(NULL);
		struct tm tm;

		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", localtime_r(&t, &tm));
		fprintf(stderr, "%s stormboot-control %s: ", ts, names[level & 7]);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	} else {
		vsyslog(level, fmt, ap);
	}
	va_end(ap);
}
