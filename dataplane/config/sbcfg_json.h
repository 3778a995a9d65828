/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sbcfg_json.h - read and write stormboot's JSON config file (jansson).
 * Shared by stormboot-dataplane and stormboot-control. Field reference:
 * docs/CONFIG.md.
 */
#ifndef SB_SBCFG_JSON_H
#define SB_SBCFG_JSON_H

#include <stddef.h>

#include "sbcfg.h"

/*
 * Parse and validate a config file. On error returns a negative errno and
 * writes into err a message that names the file, the field (a JSON path such
 * as "dhcp.subnets[1].pool.start") and the reason; *out is left empty.
 * On success *out owns heap memory: release it with sbcfg_free().
 */
int sbcfg_load_file(const char *path, struct sbcfg *out, char *err, size_t errlen);
/* The same from a string already in memory (control API, tests). */
int sbcfg_load_string(const char *json, struct sbcfg *out, char *err, size_t errlen);

/* Defaults for every optional field (what a missing field means). */
void sbcfg_defaults(struct sbcfg *out);

/* Release what sbcfg_load_*() allocated; leaves *cfg zeroed. */
void sbcfg_free(struct sbcfg *cfg);

/* Serialise to JSON (caller frees with free()); NULL on allocation failure. */
char *sbcfg_to_json(const struct sbcfg *cfg);

#endif
