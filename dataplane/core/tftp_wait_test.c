/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tftp_wait_test.c - paced RRQs admitted in arrival order, driven by `now`: the oldest waiter
 * first whatever order the retransmissions arrive in, a retransmission keeps its place and
 * refreshes the kept RRQ, silent waiters expire at the head, a full queue refuses and
 * counts, the ring wraps, and a hash chain of colliding clients stays consistent.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tftp.h"
#include "tftp_wait.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (b) << 16 | (c) << 8 | (d))
#define TTL	       8000

static uint8_t rrq_buf[600];

/* An RRQ from 198.18.x.y:port for file, as a client's frame parses into. */
static struct pkt_udp rrq(uint32_t ip, uint16_t port, const char *file)
{
	struct pkt_udp u;
	size_t n = 0, l = strlen(file);

	memset(&u, 0, sizeof(u));
	u.src_mac[0] = 0x02;
	u.src_mac[5] = (uint8_t)ip;
	u.src_ip = ip;
	u.src_port = port;
	u.dst_ip = IP(198, 18, 0, 1);
	u.dst_port = 69;
	rrq_buf[n++] = 0;
	rrq_buf[n++] = TFTP_OP_RRQ;
	memcpy(rrq_buf + n, file, l + 1);
	n += l + 1;
	memcpy(rrq_buf + n, "octet", 6);
	n += 6;
	u.payload = rrq_buf;
	u.payload_len = n;
	return u;
}

struct fixture {
	struct tftp_wait q;
	struct tftp_waiter v[8];
	uint32_t bucket[8];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL || tftp_wait_init(&f->q, f->v, f->bucket, 8, TTL) != 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

static void test_init_bad_cap(void **state)
{
	struct tftp_wait q;
	struct tftp_waiter v[6];
	uint32_t b[6];

	(void)state;
	assert_int_equal(tftp_wait_init(&q, v, b, 6, TTL), -EINVAL);
	assert_int_equal(tftp_wait_init(&q, v, b, 0, TTL), -EINVAL);
	assert_int_equal(tftp_wait_init(&q, NULL, b, 4, TTL), -EINVAL);
	assert_int_equal(tftp_wait_init(&q, v, b, 4, TTL), 0);
	assert_null(tftp_wait_pop(&q, 0));
	assert_int_equal(tftp_wait_oldest_ms(&q, 100), 0);
}

/* Three clients held in order A, B, C; their retransmissions come back C, B, A; slots free
 * one by one: A, then B, then C get them, each with its own (latest) RRQ. */
static void test_arrival_order(void **state)
{
	struct fixture *f = *state;
	struct pkt_udp a = rrq(IP(198, 18, 16, 1), 2001, "loader.efi");
	const struct tftp_waiter *w;
	struct tftp_rrq r;

	assert_int_equal(tftp_wait_hold(&f->q, &a, 1000), 0);
	struct pkt_udp b = rrq(IP(198, 18, 16, 2), 2002, "loader.efi");
	assert_int_equal(tftp_wait_hold(&f->q, &b, 1010), 0);
	struct pkt_udp c = rrq(IP(198, 18, 16, 3), 2003, "loader-bios.bin");
	assert_int_equal(tftp_wait_hold(&f->q, &c, 1020), 0);
	assert_int_equal(tftp_wait_len(&f->q), 3);
	/* retransmissions in the reverse order: places kept */
	c = rrq(IP(198, 18, 16, 3), 2003, "loader-bios.bin");
	assert_int_equal(tftp_wait_hold(&f->q, &c, 1250), 1);
	b = rrq(IP(198, 18, 16, 2), 2002, "loader.efi");
	assert_int_equal(tftp_wait_hold(&f->q, &b, 1260), 1);
	a = rrq(IP(198, 18, 16, 1), 2001, "image.bin"); /* its latest RRQ is the one kept */
	assert_int_equal(tftp_wait_hold(&f->q, &a, 1270), 1);
	assert_int_equal(tftp_wait_position(&f->q, IP(198, 18, 16, 1), 2001), 0);
	assert_int_equal(tftp_wait_position(&f->q, IP(198, 18, 16, 3), 2003), 2);
	assert_int_equal(tftp_wait_position(&f->q, IP(198, 18, 16, 3), 2004), -ENOENT);
	assert_int_equal(tftp_wait_oldest_ms(&f->q, 1500), 500);

	w = tftp_wait_pop(&f->q, 1300);
	assert_non_null(w);
	assert_int_equal(w->client_ip, IP(198, 18, 16, 1));
	assert_int_equal(w->client_port, 2001);
	assert_int_equal(w->since_ms, 1000);
	assert_int_equal(w->seen_ms, 1270);
	assert_int_equal(w->peer.src_mac[5], 1);
	assert_null(w->peer.payload);
	assert_int_equal(tftp_parse_request(w->rrq, w->rrq_len, &r), 0);
	assert_int_equal(r.filename_len, strlen("image.bin"));
	assert_memory_equal(r.filename, "image.bin", r.filename_len);
	assert_int_equal(tftp_wait_position(&f->q, IP(198, 18, 16, 1), 2001), -ENOENT);

	w = tftp_wait_pop(&f->q, 1400);
	assert_int_equal(w->client_ip, IP(198, 18, 16, 2));
	/* a new client arriving now goes behind C */
	struct pkt_udp d = rrq(IP(198, 18, 16, 4), 2004, "loader.efi");
	assert_int_equal(tftp_wait_hold(&f->q, &d, 1410), 0);
	w = tftp_wait_pop(&f->q, 1500);
	assert_int_equal(w->client_ip, IP(198, 18, 16, 3));
	w = tftp_wait_pop(&f->q, 1500);
	assert_int_equal(w->client_ip, IP(198, 18, 16, 4));
	assert_null(tftp_wait_pop(&f->q, 1500));
	assert_int_equal(f->q.st.held, 4);
	assert_int_equal(f->q.st.refreshed, 3);
	assert_int_equal(f->q.st.admitted, 4);
	assert_int_equal(f->q.st.expired, 0);
}

/* A waiter silent for the TTL has given up: dropped at the head, counted; one heard from
 * within the TTL stays, and one that comes back after expiring joins the tail again. */
static void test_expiry(void **state)
{
	struct fixture *f = *state;
	const struct tftp_waiter *w;
	struct pkt_udp u;

	u = rrq(IP(198, 18, 16, 1), 3001, "loader.efi");
	assert_int_equal(tftp_wait_hold(&f->q, &u, 0), 0);
	u = rrq(IP(198, 18, 16, 2), 3002, "loader.efi");
	assert_int_equal(tftp_wait_hold(&f->q, &u, 100), 0);
	u = rrq(IP(198, 18, 16, 2), 3002, "loader.efi");
	assert_int_equal(tftp_wait_hold(&f->q, &u, 4100), 1); /* iPXE's 4 s gap */
	assert_int_equal(tftp_wait_expire(&f->q, TTL - 1), 0);
	w = tftp_wait_pop(&f->q, TTL + 50); /* 1 silent since 0: gone; 2 seen at 4100 */
	assert_non_null(w);
	assert_int_equal(w->client_ip, IP(198, 18, 16, 2));
	assert_int_equal(f->q.st.expired, 1);
	assert_int_equal(f->q.st.admitted, 1);

	u = rrq(IP(198, 18, 16, 3), 3003, "loader.efi");
	assert_int_equal(tftp_wait_hold(&f->q, &u, 10000), 0);
	assert_int_equal(tftp_wait_expire(&f->q, 10000 + TTL), 1);
	assert_int_equal(tftp_wait_len(&f->q), 0);
	assert_null(tftp_wait_pop(&f->q, 20000));
	u = rrq(IP(198, 18, 16, 3), 3003, "loader.efi");
	assert_int_equal(tftp_wait_hold(&f->q, &u, 20000), 0); /* a new place, at the tail */
	assert_int_equal(tftp_wait_len(&f->q), 1);
	assert_int_equal(f->q.st.expired, 2);
}

/* Full of live waiters: refused and counted (the RRQ is held as before); a silent head
 * makes room; the ring wraps around many times and keeps the order. */
static void test_full_and_wrap(void **state)
{
	struct fixture *f = *state;
	const struct tftp_waiter *w;
	struct pkt_udp u;
	uint32_t next_in = 0, next_out = 0;

	for (; next_in < 8; next_in++) {
		u = rrq(IP(198, 18, 17, 0) + next_in, (uint16_t)(4000 + next_in), "loader.efi");
		assert_int_equal(tftp_wait_hold(&f->q, &u, 100 + next_in), 0);
	}
	u = rrq(IP(198, 18, 18, 1), 5000, "loader.efi");
	assert_int_equal(tftp_wait_hold(&f->q, &u, 200), -ENOSPC);
	assert_int_equal(f->q.st.full, 1);
	/* a retransmission of a waiter still finds its place in a full queue */
	u = rrq(IP(198, 18, 17, 3), 4003, "loader.efi");
	assert_int_equal(tftp_wait_hold(&f->q, &u, 300), 1);
	/* the head (seen at 100) falls silent: room for one */
	u = rrq(IP(198, 18, 18, 1), 5000, "loader.efi");
	assert_int_equal(tftp_wait_hold(&f->q, &u, 100 + TTL), 0);
	assert_int_equal(f->q.st.expired, 1);
	next_out = 1;
	/* everyone else is refreshed, then the ring turns over 100 times */
	for (uint32_t i = 1; i < 8; i++) {
		u = rrq(IP(198, 18, 17, 0) + i, (uint16_t)(4000 + i), "loader.efi");
		assert_int_equal(tftp_wait_hold(&f->q, &u, 100 + TTL), 1);
	}
	for (uint32_t k = 0; k < 800; k++) {
		uint64_t now = 200 + TTL + k;

		w = tftp_wait_pop(&f->q, now);
		assert_non_null(w);
		if (next_out < 8) {
			assert_int_equal(w->client_ip, IP(198, 18, 17, 0) + next_out);
			next_out++;
		} else if (next_out == 8) {
			assert_int_equal(w->client_ip, IP(198, 18, 18, 1));
			next_out = 1000;
		} else {
			assert_int_equal(w->client_ip, IP(198, 18, 19, 0) + (next_out - 1000));
			next_out++;
		}
		u = rrq(IP(198, 18, 19, 0) + k, (uint16_t)(6000 + k), "image.bin");
		assert_int_equal(tftp_wait_hold(&f->q, &u, now), 0);
		assert_int_equal(tftp_wait_len(&f->q), 8);
	}
}

/* Clients whose keys share a hash chain: taking any of them off keeps the others found. */
static void test_collisions(void **state)
{
	struct tftp_wait q;
	struct tftp_waiter v[1];
	uint32_t b[1];
	struct tftp_waiter v4[4];
	uint32_t b4[4];
	const struct tftp_waiter *w;
	struct pkt_udp u;

	(void)state;
	assert_int_equal(tftp_wait_init(&q, v, b, 1, TTL), 0); /* one chain, one slot */
	u = rrq(IP(198, 18, 16, 9), 7000, "loader.efi");
	assert_int_equal(tftp_wait_hold(&q, &u, 0), 0);
	u = rrq(IP(198, 18, 16, 10), 7000, "loader.efi");
	assert_int_equal(tftp_wait_hold(&q, &u, 0), -ENOSPC);
	assert_int_equal(tftp_wait_pop(&q, 1)->client_ip, IP(198, 18, 16, 9));

	assert_int_equal(tftp_wait_init(&q, v4, b4, 4, TTL), 0);
	for (uint16_t p = 0; p < 4; p++) {
		u = rrq(IP(198, 18, 16, 20), (uint16_t)(7100 + p), "loader.efi");
		assert_int_equal(tftp_wait_hold(&q, &u, p), 0);
	}
	for (uint16_t p = 0; p < 4; p++) {
		assert_int_equal(tftp_wait_position(&q, IP(198, 18, 16, 20), (uint16_t)(7100 + p)),
				 0);
		w = tftp_wait_pop(&q, 10);
		assert_int_equal(w->client_port, 7100 + p);
		for (uint16_t r = (uint16_t)(p + 1); r < 4; r++)
			assert_int_equal(
				tftp_wait_position(&q, IP(198, 18, 16, 20), (uint16_t)(7100 + r)),
				r - p - 1);
	}
}

/* Longer than an RFC 2347 request: not kept, counted. */
static void test_too_long(void **state)
{
	struct fixture *f = *state;
	static uint8_t big[TFTP_WAIT_RRQ_MAX + 1];
	struct pkt_udp u = rrq(IP(198, 18, 16, 1), 2001, "loader.efi");

	u.payload = big;
	u.payload_len = sizeof(big);
	assert_int_equal(tftp_wait_hold(&f->q, &u, 0), -EMSGSIZE);
	assert_int_equal(f->q.st.too_long, 1);
	assert_int_equal(tftp_wait_len(&f->q), 0);
	u.payload_len = TFTP_WAIT_RRQ_MAX;
	assert_int_equal(tftp_wait_hold(&f->q, &u, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_bad_cap),
		cmocka_unit_test_setup_teardown(test_arrival_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_and_wrap, setup, teardown),
		cmocka_unit_test(test_collisions),
		cmocka_unit_test_setup_teardown(test_too_long, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
