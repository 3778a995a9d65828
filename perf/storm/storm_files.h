/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * storm_files.h - load the files the VMs are expected to receive (--file).
 */
#ifndef SB_STORM_FILES_H
#define SB_STORM_FILES_H

#include <stddef.h>

#include "storm.h"

/*
 * Add one expected file: "NAME=PATH" (mapped, its SHA-256 computed), "PATH" (the name is
 * its base name) or "NAME=sha256:HEX:SIZE" (digest and size only, no byte compare).
 * 0, or -errno with a message in err.
 */
int storm_files_add(struct storm_files *fs, const char *spec, char *err, size_t errlen);
void storm_files_free(struct storm_files *fs);

#endif
