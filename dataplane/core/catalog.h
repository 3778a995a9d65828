/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * catalog.h - the image catalog: which names TFTP (and HTTP) clients may ask
 * for, and where their bytes are (already in memory: the engine's hugepage
 * cache). The core never touches the file system: a name either matches a
 * catalog entry or the request is refused.
 *
 * Names are normalised the same way at load and at lookup:
 *   '\\' -> '/' (Windows-style PXE ROMs), leading '/' stripped, "//" collapsed,
 *   "." components dropped; a ".." component is refused (-SB_DROP_TFTP_BAD_PATH,
 *   ERROR 2); an empty name or one longer than SBCFG_NAME_MAX - 1 is not found
 *   (-SB_DROP_TFTP_NOT_FOUND, ERROR 1). Matching is case-sensitive, like the
 *   file systems the names come from.
 *
 * Lookup is a binary search over the caller's array, sorted by catalog_init():
 * O(log n), no allocation.
 */
#ifndef SB_CATALOG_H
#define SB_CATALOG_H

#include <stddef.h>
#include <stdint.h>

#include "sbcfg.h"

struct catalog_entry {
	char name[SBCFG_NAME_MAX]; /* normalised by catalog_init() */
	const uint8_t *data;	   /* size bytes, owned by the caller, outlives the catalog */
	uint64_t size;
	uint64_t netascii_size; /* size after netascii conversion; set by catalog_init() */
	uint8_t sha256[32];	/* computed by the loader; carried for the control API */
};

struct catalog {
	struct catalog_entry *entries; /* caller's array, sorted by name */
	size_t n;
};

/*
 * Normalise name[0..len) into out (cap bytes, NUL-terminated). Returns the
 * normalised length, or -SB_DROP_TFTP_BAD_PATH ('..' component) or
 * -SB_DROP_TFTP_NOT_FOUND (empty, contains NUL, or does not fit in cap).
 */
int catalog_normalize(const char *name, size_t len, char *out, size_t cap);

/*
 * Make a catalog over entries[0..n): normalises each name in place, computes
 * netascii_size (one pass over the data), sorts by name. Returns 0, -EINVAL
 * if a name is invalid or data is NULL with size > 0, -EEXIST if two entries
 * normalise to the same name.
 */
int catalog_init(struct catalog *cat, struct catalog_entry *entries, size_t n);

/*
 * Find the entry for a requested name (not NUL-terminated; len bytes).
 * Returns the entry, or NULL with *err (if err is not NULL) set to
 * -SB_DROP_TFTP_NOT_FOUND or -SB_DROP_TFTP_BAD_PATH.
 */
const struct catalog_entry *catalog_lookup(const struct catalog *cat, const char *name, size_t len,
					   int *err);

#endif
