/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * stormbootctl_trace.h - the CLI's views of boot timelines (docs/TIMELINE.md): `trace MAC`
 * as a table of steps with each one's time relative to the first and the gaps that stand
 * out, and `clients` as counts per state and a table of clients.
 */
#ifndef SB_STORMBOOTCTL_TRACE_H
#define SB_STORMBOOTCTL_TRACE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

/* What a followed trace remembers between replies. */
struct trace_view {
	bool header_done;
	uint64_t t0;	   /* time of the first step shown, unix ms */
	uint64_t prev;	   /* time of the previous step shown */
	uint64_t last_seq; /* the newest step shown */
	uint32_t shown;
};

/*
 * Print the steps of a trace reply's arguments that v has not shown yet (the header the first
 * time). Gaps stand out against the steps in this reply (tl_gap_notable).
 */
void stormbootctl_trace_print(FILE *f, json_t *args, struct trace_view *v);

/* Print a clients reply's arguments: counts per state, then the table. */
void stormbootctl_clients_print(FILE *f, json_t *args);

#endif
