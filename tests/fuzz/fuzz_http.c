/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_http.c - libFuzzer harness: the HTTP boot server's request parser (control/http_parse.c):
 * request heads, ranges applied to a body, query parameters, response heads; and the firmware
 * report of a query (control/fwlog.c: /fwlog?mac=&step=&err=); and the access log's form of
 * any text (contracts/boot_token.c: boot tokens redacted).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "boot_token.h"
#include "fwlog.h"
#include "http_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_req req;
	uint64_t off, n;
	char mac[32];
	int head = http_parse_request((const char *)data, size, &req);
	char *text = malloc(size + 1), red[200];

	if (text) { /* the redacted form: NUL-terminated, cut to fit, never a longer output */
		memcpy(text, data, size);
		text[size] = '\0';
		boot_token_redact(text, red, sizeof(red));
		if (strlen(red) >= sizeof(red))
			abort();
		free(text);
	}

	if (head < 0) {
		if (req.status < 400 || req.status > 599)
			abort(); /* a refusal always says how to answer */
		return 0;
	}
	if (head == 0)
		return 0;
	if ((size_t)head > size || req.path[0] != '/')
		abort();
	for (uint64_t sz = 0; sz < 4096; sz = sz * 3 + 1) {
		int st = http_range_apply(&req, sz, &off, &n);

		if (st == 206 && (off >= sz || n == 0 || off + n > sz))
			abort(); /* a partial answer stays inside the body */
		if (st != 200 && st != 206 && st != 416)
			abort();
	}
	http_query_get(req.query, "mac", mac, sizeof(mac));
	struct fwlog_report r;
	const char *why;
	char line[160];
	if (fwlog_parse(req.query, &r, &why) == 0) {
		fwlog_describe(&r, line, sizeof(line));
		if (strlen(line) >= sizeof(line) || strlen(r.step) == 0 || strlen(r.step) > FWLOG_STEP_MAX)
			abort();
	} else if (!why || !why[0]) {
		abort(); /* a refusal names its field */
	}
	return 0;
}
