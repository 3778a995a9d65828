/* SPDX-License-Identifier: BSD-3-Clause */
/* stormbootctl_fmt.c - human-readable output of operator API replies (stormbootctl_fmt.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stormbootctl_fmt.h"
#include "stormbootctl_trace.h"

static void cell(char *buf, size_t cap, json_t *v)
{
	if (!v || json_is_null(v))
		snprintf(buf, cap, "-");
	else if (json_is_string(v))
		snprintf(buf, cap, "%s", json_string_value(v)[0] ? json_string_value(v) : "-");
	else if (json_is_integer(v))
		snprintf(buf, cap, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, cap, "%.3f", json_real_value(v));
	else if (json_is_boolean(v))
		snprintf(buf, cap, "%s", json_is_true(v) ? "yes" : "no");
	else {
		char *s = json_dumps(v, JSON_COMPACT);
		snprintf(buf, cap, "%s", s ? s : "?");
		free(s);
	}
}

/* A table of arr (objects) with the given columns (NULL-terminated; keys, then titles). */
static void table(FILE *f, json_t *arr, const char *const *keys, const char *const *titles)
{
	size_t ncol = 0, w[16] = {0};
	char c[512];

	while (keys[ncol] && ncol < 16)
		ncol++;
	for (size_t k = 0; k < ncol; k++)
		w[k] = strlen(titles[k]);
	for (size_t i = 0; i < json_array_size(arr); i++)
		for (size_t k = 0; k < ncol; k++) {
			cell(c, sizeof(c), json_object_get(json_array_get(arr, i), keys[k]));
			if (strlen(c) > w[k])
				w[k] = strlen(c);
		}
	for (size_t k = 0; k < ncol; k++)
		fprintf(f, "%-*s%s", (int)w[k], titles[k], k + 1 < ncol ? "  " : "\n");
	for (size_t i = 0; i < json_array_size(arr); i++)
		for (size_t k = 0; k < ncol; k++) {
			cell(c, sizeof(c), json_object_get(json_array_get(arr, i), keys[k]));
			fprintf(f, "%-*s%s", (int)w[k], c, k + 1 < ncol ? "  " : "\n");
		}
}

/* Nested objects as "a.b.c  value" lines. */
static void flat(FILE *f, const char *prefix, json_t *v)
{
	char key[256], c[512];
	const char *k;
	json_t *x;

	if (json_is_object(v)) {
		json_object_foreach(v, k, x)
		{
			snprintf(key, sizeof(key), "%s%s%s", prefix, prefix[0] ? "." : "", k);
			flat(f, key, x);
		}
		return;
	}
	if (json_is_array(v) && json_array_size(v) && json_is_object(json_array_get(v, 0))) {
		const char *keys[16], *titles[16];
		size_t n = 0;

		json_object_foreach(json_array_get(v, 0), k, x)
		{
			if (n < 15)
				keys[n] = titles[n] = k, n++;
		}
		keys[n] = titles[n] = NULL;
		fprintf(f, "%s:\n", prefix);
		table(f, v, keys, titles);
		return;
	}
	cell(c, sizeof(c), v);
	fprintf(f, "%-40s %s\n", prefix, c);
}

static void print_lease_expiry(json_t *arr)
{
	/* "expires_in" reads better as 1h02m03s */
	for (size_t i = 0; i < json_array_size(arr); i++) {
		json_t *o = json_array_get(arr, i);
		long long s = json_integer_value(json_object_get(o, "expires_in"));
		char b[32];

		snprintf(b, sizeof(b), "%lldh%02lldm%02llds", s / 3600, s / 60 % 60, s % 60);
		json_object_set_new(o, "expires_in", json_string(b));
	}
}

void stormbootctl_fmt_print(FILE *f, const char *cmd, json_t *reply)
{
	json_t *args = json_object_get(reply, "arguments");
	const char *text = json_string_value(json_object_get(reply, "text"));
	json_int_t result = json_integer_value(json_object_get(reply, "result"));

	if (result == 1 || result == 2 || !args) {
		fprintf(f, "%s\n", text ? text : "");
		return;
	}
	if (!strcmp(cmd, "lease-list") || !strcmp(cmd, "lease-get")) {
		static const char *const k[] = {"ip", "mac", "state", "expires_in", "subnet", NULL};
		static const char *const t[] = {"IP", "MAC", "STATE", "EXPIRES IN", "SUBNET", NULL};
		json_t *a = json_object_get(args, "leases");
		print_lease_expiry(a);
		table(f, a, k, t);
		fprintf(f, "(%s)\n", text);
	} else if (!strcmp(cmd, "reservation-list")) {
		static const char *const k[] = {"mac",	    "ip",	   "hostname",
						"bootfile", "ipxe_script", NULL};
		static const char *const t[] = {"MAC",	    "IP",	   "HOSTNAME",
						"BOOTFILE", "IPXE SCRIPT", NULL};
		table(f, json_object_get(args, "reservations"), k, t);
		fprintf(f, "(%s)\n", text);
	} else if (!strcmp(cmd, "image-list")) {
		static const char *const k[] = {"name", "size", "sha256", "path", "error", NULL};
		static const char *const t[] = {"NAME", "SIZE", "SHA-256", "PATH", "ERROR", NULL};
		table(f, json_object_get(args, "images"), k, t);
		fprintf(f, "(%s)\n", text);
	} else if (!strcmp(cmd, "template-list")) {
		static const char *const k[] = {"name", "size", NULL};
		static const char *const t[] = {"NAME", "SIZE", NULL};
		table(f, json_object_get(args, "templates"), k, t);
		fprintf(f, "(%s)\n", text);
	} else if (!strcmp(cmd, "template-get") || !strcmp(cmd, "template-render")) {
		/* the text as is, so that `stormbootctl template-get X > file` round-trips */
		const char *body = json_string_value(json_object_get(args, "text"));
		fputs(body ? body : "", f);
	} else if (!strcmp(cmd, "help")) {
		static const char *const k[] = {"command", "help", NULL};
		static const char *const t[] = {"COMMAND", "DESCRIPTION", NULL};
		table(f, json_object_get(args, "commands"), k, t);
	} else if (!strcmp(cmd, "trace")) {
		struct trace_view v = {0};
		stormbootctl_trace_print(f, args, &v);
	} else if (!strcmp(cmd, "clients")) {
		stormbootctl_clients_print(f, args);
	} else if (!strcmp(cmd, "config-get")) {
		char *s = json_dumps(args, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fprintf(f, "%s\n", s ? s : "");
		free(s);
	} else {
		fprintf(f, "%s\n", text ? text : "");
		flat(f, "", args);
	}
}
