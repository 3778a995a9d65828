/* SPDX-License-Identifier: BSD-3-Clause */
/* tftp_rrq.c - a TFTP read request for the unit tests (see tftp_rrq.h). */
#include <stdio.h>
#include <string.h>

#include "tftp_rrq.h"

static size_t put(uint8_t *out, size_t n, const char *s)
{
	size_t l = strlen(s) + 1;

	memcpy(out + n, s, l);
	return n + l;
}

static size_t put_opt(uint8_t *out, size_t n, const char *name, long long v)
{
	char tmp[32];

	snprintf(tmp, sizeof(tmp), "%lld", v);
	return put(out, put(out, n, name), tmp);
}

size_t test_rrq_build(uint8_t *out, const struct test_rrq *r)
{
	size_t n = 2;

	out[0] = 0;
	out[1] = 1; /* RRQ */
	n = put(out, n, r->name ? r->name : "img");
	n = put(out, n, r->mode ? r->mode : "octet");
	if (r->blksize)
		n = put_opt(out, n, "blksize", r->blksize);
	if (r->window)
		n = put_opt(out, n, "windowsize", r->window);
	if (r->tsize >= 0)
		n = put_opt(out, n, "tsize", r->tsize);
	if (r->timeout)
		n = put_opt(out, n, "timeout", r->timeout);
	if (r->multicast)
		n = put(out, put(out, n, "multicast"), "");
	return n;
}
