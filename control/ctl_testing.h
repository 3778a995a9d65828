/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_testing.h - what the control unit tests share (linked into them only): the test
 * clock, the config they start from, addresses, a client of a Unix socket, small files.
 * Helpers fail the running cmocka test rather than return errors.
 */
#ifndef SB_CTL_TESTING_H
#define SB_CTL_TESTING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CTL_TESTING_NOW 1700000000ull /* where the test clock starts: unix seconds */
#define CTL_TESTING_IP(a, b, c, d)                                                                 \
	((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

/* A struct ctl_clock's now(): the unix seconds *arg (a uint64_t the test moves). */
uint64_t ctl_testing_clock(void *arg);

/*
 * The tests' config as JSON into buf: interface sb0, server 198.18.0.1, one subnet
 * 198.18.0.0/24 with the pool .10-.250; dhcp_more is appended inside "dhcp" and top_more at
 * the top level (each "" or starting with a comma).
 */
void ctl_testing_config(char *buf, size_t cap, const char *dhcp_more, const char *top_more);

/* Connect to the Unix stream socket path, write req, shut the writing side down when
 * half_close; the socket. */
int ctl_testing_connect(const char *path, const char *req, bool half_close);

/* Write len bytes of text to path (created or truncated, mode 0644). */
void ctl_testing_write_file(const char *path, const char *text, size_t len);

#endif
