/* SPDX-License-Identifier: BSD-3-Clause */
/* commands_trace.c - trace and clients: the boot timelines (client_trace.h, docs/TIMELINE.md). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "daemon.h"

#define CLIENTS_LIMIT_DEFAULT 100

char *cmd_trace(struct daemon *d, uint64_t conn_id, json_t *args)
{
	const char *m = api_arg_str(args, "mac");
	json_t *after = json_object_get(args, "after"), *o;
	uint8_t mac[6];

	(void)conn_id;
	if (!m)
		return api_fail("trace: arguments need \"mac\"");
	if (running_config_parse_mac(m, mac) < 0)
		return api_fail("trace: \"%s\" is not a MAC address (52:54:00:12:34:56)", m);
	if (after && (!json_is_integer(after) || json_integer_value(after) < 0))
		return api_fail("trace: \"after\" must be a sequence number (an integer >= 0)");
	o = client_trace_json(&d->trace, mac, after ? (uint64_t)json_integer_value(after) : 0);
	if (!o)
		return api_reply(API_EMPTY, "no step seen from this MAC (or it was evicted)", NULL);
	return api_reply(API_OK, "", o);
}

char *cmd_clients(struct daemon *d, uint64_t conn_id, json_t *args)
{
	const char *state = api_arg_str(args, "state"), *sort = api_arg_str(args, "sort");
	json_t *limit = json_object_get(args, "limit"), *o = NULL;
	int st = -1, rc;
	size_t lim = CLIENTS_LIMIT_DEFAULT;

	(void)conn_id;
	if (json_object_get(args, "state") && !state)
		return api_fail("clients: \"state\" must be a string");
	if (state && (st = tl_state_find(state)) < 0)
		return api_fail("clients: unknown state \"%s\" (booting, done, stuck, failed)",
				state);
	if (limit) {
		if (!json_is_integer(limit) || json_integer_value(limit) < 0)
			return api_fail("clients: \"limit\" must be an integer >= 0");
		lim = (size_t)json_integer_value(limit);
	}
	rc = client_trace_clients_json(&d->trace, st, sort, lim, &o);
	if (rc == -EINVAL)
		return api_fail("clients: unknown sort \"%s\" (last, first, mac, state, steps)",
				sort);
	if (rc < 0)
		return api_fail("clients: out of memory");
	return api_reply(API_OK, "", o);
}
