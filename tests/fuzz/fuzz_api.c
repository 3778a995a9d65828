/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_api.c - libFuzzer harness: the operator API's framing and request parser
 * (control/api.c) on a byte stream, as the daemon cuts and parses it; every parsed request is
 * handled by a dispatcher that answers like the daemon's (a reply line) so the reply builder
 * runs too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *echo(void *ctx, enum api_command cmd, json_t *args)
{
	(void)ctx;
	if ((unsigned)cmd >= API_CMD__COUNT)
		abort(); /* api_handle passes known commands only */
	return api_reply(API_OK, api_commands[cmd].name, json_incref(args));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	size_t off = 0;

	while (off < size) {
		ssize_t n = api_frame(buf + off, size - off, true);
		char *reply;

		if (n <= 0)
			break;
		reply = api_handle(buf + off, (size_t)n, echo, NULL);
		if (reply == NULL || reply[0] == '\0' || reply[strlen(reply) - 1] != '\n')
			abort(); /* every request gets one reply line */
		free(reply);
		off += (size_t)n;
	}
	return 0;
}
