/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tftp_ports.h - one lcore's free TFTP transfer ports (TIDs): a FIFO, least recently used
 * first, so that a late packet of an ended session rarely meets a new session on its port;
 * filled at start in an order drawn from a seed (Fisher-Yates), so that the ports of
 * consecutive sessions are not consecutive numbers: another host on the segment cannot
 * guess the next transfer port from the last one it saw (RFC 1350 4 leaves the choice of
 * TIDs to the server; RFC 6056 3 argues for random ports).
 *
 * Pure: no DPDK, no allocation (the caller gives the array), no clock; the unit tests use it
 * as the session tables do.
 */
#ifndef SB_ENG_TFTP_PORTS_H
#define SB_ENG_TFTP_PORTS_H

#include <stdbool.h>
#include <stdint.h>

struct tftp_ports {
	uint16_t *v;	 /* n slots: a ring of the free ports */
	uint32_t n;	 /* ports in the range */
	uint32_t head;	 /* next port handed out */
	uint32_t n_free; /* free ports from head on */
};

/* splitmix64: a small PRNG of good quality, state advanced by the call. */
static inline uint64_t tftp_ports_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/*
 * Fill p (v has room for hi - lo + 1 ports) with every port of [lo, hi], all free, in an
 * order drawn from seed (the same seed gives the same order).
 */
static inline void tftp_ports_init(struct tftp_ports *p, uint16_t *v, uint16_t lo, uint16_t hi,
				   uint64_t seed)
{
	uint32_t n = (uint32_t)hi - lo + 1;

	p->v = v;
	p->n = n;
	p->head = 0;
	p->n_free = n;
	for (uint32_t i = 0; i < n; i++)
		v[i] = (uint16_t)(lo + i);
	for (uint32_t i = n - 1; i > 0; i--) { /* Fisher-Yates; the modulo bias of 64 bits is nil */
		uint32_t j = (uint32_t)(tftp_ports_rand(&seed) % (i + 1));
		uint16_t t = v[i];

		v[i] = v[j];
		v[j] = t;
	}
}

/* The port tftp_ports_take() hands out next, or 0 when none is free; p is not changed. */
static inline uint16_t tftp_ports_peek(const struct tftp_ports *p)
{
	return p->n_free ? p->v[p->head] : 0;
}

/* The least recently used free port, or 0 (never a transfer port) when none is free. */
static inline uint16_t tftp_ports_take(struct tftp_ports *p)
{
	uint16_t port;

	if (p->n_free == 0)
		return 0;
	port = p->v[p->head];
	p->head = p->head + 1 == p->n ? 0 : p->head + 1;
	p->n_free--;
	return port;
}

/* Give port back: it is handed out again after every port that is free now. */
static inline void tftp_ports_put(struct tftp_ports *p, uint16_t port)
{
	p->v[(p->head + p->n_free) % p->n] = port;
	p->n_free++;
}

#endif
