/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fwlog.h - firmware failure reports over HTTP (docs/TIMELINE.md, "Firmware reports"), pure:
 * no I/O, no allocation.
 *
 * An iPXE script that fails a step fetches
 *     GET /fwlog?mac=${mac}&step=kernel&err=${errno}[&msg=TEXT]
 * from stormboot's HTTP boot server (http_boot.c validates the client, rate-limits and counts;
 * the report becomes a "firmware err" step of that client's timeline). This works with any
 * iPXE build: ${errno} (the last command's error, src/core/settings.c errno_setting, iPXE
 * >= 2013) and imgfetch are in every build, while syslog (CONSOLE_SYSLOG) and POST forms
 * (PARAM_CMD) are not compiled into Debian 12's iPXE (1.0.0+git-20190125).
 *
 * iPXE error numbers (src/include/errno.h): bits 30-24 the POSIX error, 23-13 the source file,
 * 12-8 a per-file disambiguator, 7-0 the platform's code; https://ipxe.org/err/XXXXXXXX
 * explains each. ${errno} prints as "%#lx": "0x2d0c613c" ("0" for none).
 */
#ifndef SB_FWLOG_H
#define SB_FWLOG_H

#include <stddef.h>
#include <stdint.h>

#define FWLOG_PATH	"/fwlog"
#define FWLOG_QUERY_MAX 512 /* bytes of a report's query */
#define FWLOG_STEP_MAX	16  /* bytes of step= */
#define FWLOG_MSG_MAX	64  /* bytes of msg= (decoded) */
#define FWLOG_RATE	50  /* reports per second accepted ... */
#define FWLOG_BURST	500 /* ... after a burst of this many */

struct fwlog_report {
	uint8_t mac[6];
	char step[FWLOG_STEP_MAX + 1];
	uint32_t err;		     /* iPXE error number, 0 = none given */
	int have_err;		     /* err= was given */
	char msg[FWLOG_MSG_MAX + 1]; /* "" = none */
};

/*
 * Parse a report's query ("mac=...&step=...&err=...&msg=..."): mac (required, aa:bb:..),
 * step (required, 1..FWLOG_STEP_MAX of [A-Za-z0-9._-]), err (optional, an iPXE error number:
 * 0x + 1..8 hex digits, or decimal; bit 31 clear), msg (optional, printable ASCII, at most
 * FWLOG_MSG_MAX bytes). Other keys are ignored. 0, or -EINVAL with *why naming the field.
 */
int fwlog_parse(const char *query, struct fwlog_report *out, const char **why);

/* An iPXE error number from text ("0x2d0c613c", "0X2D..", "755000636"). 0 or -EINVAL. */
int fwlog_errno_parse(const char *s, uint32_t *out);

/* The text of an iPXE error's POSIX part (errno.h EINFO_* descriptions), NULL when unknown. */
const char *fwlog_errno_text(uint32_t err);

/*
 * One line for the timeline and the log, into buf (NUL-terminated, cut at cap):
 *   "kernel: No such file or directory (0x2d0c613c) https://ipxe.org/err/2d0c613c"
 *   "kernel: Error 0x7f000001 https://ipxe.org/err/7f000001"  (unknown POSIX part)
 *   "kernel failed"                                         (no err=)
 * with " - MSG" appended when msg was given. Returns what snprintf returns.
 */
int fwlog_describe(const struct fwlog_report *r, char *buf, size_t cap);

#endif
