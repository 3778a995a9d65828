/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_log.h - stormboot-control's log: stderr in the foreground, syslog (daemon facility)
 * otherwise. Levels are syslog's (LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG).
 */
#ifndef SB_CTL_LOG_H
#define SB_CTL_LOG_H

#include <stdbool.h>
#include <syslog.h>

/* Log to stderr (foreground) or to syslog as ident. */
void ctl_log_init(const char *ident, bool foreground, bool debug);
void ctl_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
