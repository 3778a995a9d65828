/* SPDX-License-Identifier: BSD-3-Clause */
/* ctl_array.c - growing dynamic arrays (see ctl_array.h). */
#include "ctl_array.h"

#include <stdlib.h>

void *ctl_array_grow(void *items, size_t *cap, size_t n, size_t size, size_t first)
{
	size_t ncap = *cap ? *cap * 2 : first;
	void *v;

	if (n < *cap)
		return items;
	v = realloc(items, ncap * size);
	if (v)
		*cap = ncap;
	return v;
}
