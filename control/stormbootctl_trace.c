/* SPDX-License-Identifier: BSD-3-Clause */
/* stormbootctl_trace.c - trace and clients output (see stormbootctl_trace.h). */
#include "stormbootctl_trace.h"

#include <string.h>
#include <time.h>

#include "timeline.h"

static uint64_t jint(json_t *o, const char *k)
{
	json_int_t v = json_integer_value(json_object_get(o, k));

	return v > 0 ? (uint64_t)v : 0;
}

static const char *jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s && s[0] ? s : "-";
}

static void utc(uint64_t ms, char *out, size_t cap)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&s, &tm);
	snprintf(out, cap, "%04d-%02d-%02d %02d:%02d:%02d.%03u UTC", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (unsigned)(ms % 1000));
}

/* "12.345" seconds, or "-0.002" for a step that arrived out of order */
static void secs(int64_t ms, char *out, size_t cap)
{
	snprintf(out, cap, "%s%lld.%03lld", ms < 0 ? "-" : "",
		 (long long)(ms < 0 ? -ms : ms) / 1000, (long long)(ms < 0 ? -ms : ms) % 1000);
}

void stormbootctl_trace_print(FILE *f, json_t *args, struct trace_view *v)
{
	json_t *steps = json_object_get(args, "steps"), *s;
	uint64_t total = 0, prev;
	uint32_t gaps = 0;
	size_t i;
	char t[32], g[32], first[64];

	if (!v->header_done) {
		utc(jint(args, "first"), first, sizeof(first));
		fprintf(f, "client %s  ip %s  state %s  steps %llu  first seen %s\n",
			jstr(args, "mac"), jstr(args, "ip"), jstr(args, "state"),
			(unsigned long long)jint(args, "steps_total"), first);
		if (jint(args, "steps_total") > json_array_size(steps))
			fprintf(f, "(the oldest %llu step(s) are no longer kept)\n",
				(unsigned long long)(jint(args, "steps_total") -
						     json_array_size(steps)));
		fprintf(f, "%10s  %9s  %-16s  %-14s  %s\n", "+TIME (s)", "GAP (s)", "STEP", "KIND",
			"DETAIL");
		v->header_done = true;
	}
	/* the gaps of this batch, to tell which stand out */
	prev = v->shown ? v->prev : 0;
	json_array_foreach(steps, i, s)
	{
		uint64_t tm = jint(s, "time");

		if (jint(s, "seq") <= v->last_seq)
			continue;
		if (prev && tm > prev) {
			total += tm - prev;
			gaps++;
		}
		prev = tm;
	}
	json_array_foreach(steps, i, s)
	{
		uint64_t tm = jint(s, "time"), seq = jint(s, "seq");
		const char *mark = "";
		char note[48] = "";

		if (seq <= v->last_seq)
			continue;
		if (!v->shown)
			v->t0 = v->prev = tm;
		secs((int64_t)(tm - v->t0), t, sizeof(t));
		if (v->shown) {
			uint64_t gap = tm > v->prev ? tm - v->prev : 0;

			secs((int64_t)tm - (int64_t)v->prev, g, sizeof(g));
			if (tl_gap_notable(gap, total, gaps)) {
				mark = "  <<";
				snprintf(note, sizeof(note), " (waited %s s)", g);
			}
		} else {
			snprintf(g, sizeof(g), "-");
		}
		if (!strcmp(jstr(s, "outcome"), "error") || !strcmp(jstr(s, "outcome"), "timeout"))
			mark = mark[0] ? "  << !!" : "  !!";
		fprintf(f, "%10s  %9s  %-16s  %-14s  %s%s%s\n", t, g, jstr(s, "step"),
			jstr(s, "kind"), jstr(s, "detail"), note, mark);
		v->prev = tm > v->prev || !v->shown ? tm : v->prev;
		v->last_seq = seq;
		v->shown++;
	}
	fflush(f);
}

static void age(uint64_t now, uint64_t then, char *out, size_t cap)
{
	uint64_t s = now > then ? (now - then) / 1000 : 0;

	if (s < 120)
		snprintf(out, cap, "%llus", (unsigned long long)s);
	else if (s < 7200)
		snprintf(out, cap, "%llum", (unsigned long long)s / 60);
	else
		snprintf(out, cap, "%lluh", (unsigned long long)s / 3600);
}

void stormbootctl_clients_print(FILE *f, json_t *args)
{
	json_t *counts = json_object_get(args, "counts"), *cl = json_object_get(args, "clients"),
	       *c;
	uint64_t now = jint(args, "now");
	size_t i, w_ip = 2, w_step = 9, w_state = 5;
	char a[16];

	fprintf(f, "clients %llu:", (unsigned long long)jint(args, "total"));
	for (int s = 0; s < TL_STATE__COUNT; s++)
		fprintf(f, "  %s %llu", tl_state_name((enum tl_state)s),
			(unsigned long long)jint(counts, tl_state_name((enum tl_state)s)));
	fprintf(f, "\n");
	json_array_foreach(cl, i, c)
	{
		if (strlen(jstr(c, "ip")) > w_ip)
			w_ip = strlen(jstr(c, "ip"));
		if (strlen(jstr(c, "last_step")) > w_step)
			w_step = strlen(jstr(c, "last_step"));
		if (strlen(jstr(c, "state")) > w_state)
			w_state = strlen(jstr(c, "state"));
	}
	if (json_array_size(cl)) {
		fprintf(f, "%-17s  %-*s  %-*s  %5s  %5s  %-*s  %s\n", "MAC", (int)w_ip, "IP",
			(int)w_state, "STATE", "STEPS", "AGE", (int)w_step, "LAST STEP", "DETAIL");
		json_array_foreach(cl, i, c)
		{
			age(now, jint(c, "last"), a, sizeof(a));
			fprintf(f, "%-17s  %-*s  %-*s  %5llu  %5s  %-*s  %s\n", jstr(c, "mac"),
				(int)w_ip, jstr(c, "ip"), (int)w_state, jstr(c, "state"),
				(unsigned long long)jint(c, "steps"), a, (int)w_step,
				jstr(c, "last_step"), jstr(c, "last_detail"));
		}
	}
	if (jint(args, "shown") < jint(args, "matching"))
		fprintf(f, "(%llu of %llu matching shown: --limit N, --state S, --sort K)\n",
			(unsigned long long)jint(args, "shown"),
			(unsigned long long)jint(args, "matching"));
}
