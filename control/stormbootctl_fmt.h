/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * stormbootctl_fmt.h - the CLI's human-readable output: tables for leases, reservations
 * and images, "key  value" lines for status and counters.
 */
#ifndef SB_STORMBOOTCTL_FMT_H
#define SB_STORMBOOTCTL_FMT_H

#include <stdio.h>

#include <jansson.h>

/* Print reply (the whole {"result", "text", "arguments"} object) of command to f. */
void stormbootctl_fmt_print(FILE *f, const char *command, json_t *reply);

#endif
