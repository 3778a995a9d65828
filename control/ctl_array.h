/* SPDX-License-Identifier: BSD-3-Clause */
/* ctl_array.h - growing the dynamic arrays of stormboot-control. */
#ifndef SB_CTL_ARRAY_H
#define SB_CTL_ARRAY_H

#include <stddef.h>

/*
 * Make room for one more element after n in items (cap elements of size bytes; NULL with
 * cap 0 is fine): returns items, or a larger copy (cap doubled, first when 0) with *cap
 * updated, or NULL on ENOMEM (items and *cap unchanged).
 */
void *ctl_array_grow(void *items, size_t *cap, size_t n, size_t size, size_t first);

#endif
