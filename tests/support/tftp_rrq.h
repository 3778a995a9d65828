/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tftp_rrq.h - test support: a TFTP read request as a client writes it (RFC 1350, with the
 * options of RFC 2347/2348/2349/7440 and RFC 2090's "multicast"), for the unit tests of the
 * unicast session and the multicast stream.
 */
#ifndef SB_TEST_TFTP_RRQ_H
#define SB_TEST_TFTP_RRQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct test_rrq {
	const char *name, *mode; /* NULL: "img", "octet" */
	unsigned blksize;	 /* 0: option absent */
	unsigned window;	 /* windowsize; 0: absent */
	int tsize;		 /* < 0: absent */
	unsigned timeout;	 /* seconds; 0: absent */
	bool multicast;		 /* "multicast" with an empty value */
};

/* "\0\1name\0mode\0" and the options asked for, into out (big enough: 512 bytes); its length. */
size_t test_rrq_build(uint8_t *out, const struct test_rrq *r);

#endif
