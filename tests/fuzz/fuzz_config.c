/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_config.c - libFuzzer harness: the JSON config parser and validator (contracts/sbcfg_json.c)
 * on any bytes; what parses is serialised, parsed again and must compare equal (the control
 * process writes configs back with sbcfg_to_json). Seeds: tests/fixtures/config.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sbcfg_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[SBCFG_ERR_MAX];
	struct sbcfg a, b;
	char *json;

	if (sbcfg_load_buffer((const char *)data, size, "<fuzz>", &a, err, sizeof(err)) < 0) {
		if (memchr(err, '\0', sizeof(err)) == NULL)
			abort(); /* the message is always a string */
		return 0;
	}
	json = sbcfg_to_json(&a);
	if (json == NULL)
		abort();
	if (sbcfg_load_buffer(json, strlen(json), "<fuzz-again>", &b, err, sizeof(err)) < 0)
		abort(); /* what we write we must read */
	if (!sbcfg_equal(&a, &b))
		abort();
	sbcfg_free(&b);
	free(json);
	sbcfg_free(&a);
	return 0;
}
