/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * boot_token_keys.h - the boot token keys (contracts/boot_token.h) in their file,
 * STATE_DIR/token.keys: "ID HEX64" lines, the current key first, mode 0600.
 */
#ifndef SB_BOOT_TOKEN_KEYS_H
#define SB_BOOT_TOKEN_KEYS_H

#include <stddef.h>

#include "boot_token.h"

/* Load path, or make a first key and write it (mode 0600). 0 or -errno with the reason in
 * err. */
int boot_token_keys_load(struct boot_token_keys *k, const char *path, char *err, size_t errlen);

/* A new current key; the current one becomes the previous one; written to path first. */
int boot_token_keys_rotate(struct boot_token_keys *k, const char *path, char *err, size_t errlen);

#endif
