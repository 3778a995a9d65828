/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sbcfg_json.h - read and write stormboot's JSON config file (jansson).
 * Shared by stormboot-dataplane and stormboot-control. Field reference:
 * docs/CONFIG.md.
 */
#ifndef SB_SBCFG_JSON_H
#define SB_SBCFG_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "sbcfg.h"

/* SBCFG_ERR_MAX (sbcfg.h) holds any error message of this module untruncated, unless the file
 * name is very long. */

/*
 * Parse and validate a config file. On error returns a negative errno and
 * writes into err a message that names the file, the field (a JSON path such
 * as "dhcp.subnets[1].pool.start") and the reason; *out is left empty.
 * On success *out owns heap memory: release it with sbcfg_free().
 */
int sbcfg_load_file(const char *path, struct sbcfg *out, char *err, size_t errlen);
/* The same from a string already in memory (control API, tests). */
int sbcfg_load_string(const char *json, struct sbcfg *out, char *err, size_t errlen);
/*
 * The same from len bytes (no NUL needed, e.g. a message read from a socket);
 * name stands for the file name in error messages ("<control>", NULL = "<string>").
 */
int sbcfg_load_buffer(const char *buf, size_t len, const char *name, struct sbcfg *out, char *err,
		      size_t errlen);

/*
 * Check a config that was filled in C (e.g. edited through the control API):
 * every rule that sbcfg_load_*() enforces after parsing (ranges, subnets,
 * pools, reservations, images). 0, or -EINVAL with "field.path: reason" in err.
 */
int sbcfg_validate(const struct sbcfg *cfg, char *err, size_t errlen);

/* true if a and b mean the same configuration (strings compared up to their NUL). */
bool sbcfg_equal(const struct sbcfg *a, const struct sbcfg *b);

/*
 * true if a and b hold the same guard (VLANs, MAC lists, rates; lists compared in order). The
 * dataplane writes the guard into the XDP maps at start: a change needs that write again.
 */
bool sbcfg_guard_equal(const struct sbcfg_guard *a, const struct sbcfg_guard *b);

/* Defaults for every optional field (what a missing field means). */
void sbcfg_defaults(struct sbcfg *out);

/* Release what sbcfg_load_*() allocated; leaves *cfg zeroed. */
void sbcfg_free(struct sbcfg *cfg);

/* Serialise to JSON (caller frees with free()); NULL on allocation failure. */
char *sbcfg_to_json(const struct sbcfg *cfg);
/* The same without the images found under tftp_root (from_root): what the config file holds. */
char *sbcfg_to_json_file(const struct sbcfg *cfg);

#endif
