/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lease_test.c - the lease pool against its contract (lease.h), and a seeded
 * random sequence of operations checked against a simple reference model.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lease.h"

#define IP4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))
#define T0		1700000000ull
#define HOLD		5
#define QUARANTINE	17

static void mk_mac(uint8_t mac[6], uint32_t n)
{
	mac[0] = 0x02;
	mac[1] = 0x5b;
	mac[2] = (uint8_t)(n >> 24);
	mac[3] = (uint8_t)(n >> 16);
	mac[4] = (uint8_t)(n >> 8);
	mac[5] = (uint8_t)n;
}

/* A config with up to 4 subnets and 8 reservations, and a pool over it. */
struct fx {
	struct sbcfg_subnet subs[4];
	struct sbcfg_reservation res[8];
	struct sbcfg_dhcp cfg;
	void *mem;
	struct lease_pool *p;
};

static void fx_cfg(struct fx *f)
{
	f->cfg.offer_hold = HOLD;
	f->cfg.decline_quarantine = QUARANTINE;
	f->cfg.max_lease_time = 86400;
	f->cfg.subnets = f->subs;
	f->cfg.reservations = f->res;
}

static void fx_subnet(struct fx *f, uint32_t network, uint32_t netmask, uint32_t start,
		      uint32_t end)
{
	struct sbcfg_subnet *s = &f->subs[f->cfg.n_subnets++];

	s->network = network;
	s->netmask = netmask;
	s->pool_start = start;
	s->pool_end = end;
	s->lease_time = 3600;
}

static void fx_resv(struct fx *f, uint32_t mac, uint32_t ip)
{
	struct sbcfg_reservation *r = &f->res[f->cfg.n_reservations++];

	mk_mac(r->mac, mac);
	r->ip = ip;
}

static int fx_init(struct fx *f)
{
	size_t sz = lease_pool_memsize(&f->cfg);
	int err = 1;

	if (sz == 0)
		return -EINVAL;
	f->mem = malloc(sz);
	assert_non_null(f->mem);
	memset(f->mem, 0xa5, sz); /* init must not rely on zeroed memory */
	f->p = lease_pool_init(f->mem, sz, &f->cfg, &err);
	if (!f->p) {
		assert_true(err < 0);
		free(f->mem);
		f->mem = NULL;
		return err;
	}
	assert_int_equal(err, 0);
	return 0;
}

static void fx_fini(struct fx *f)
{
	free(f->mem);
	f->mem = NULL;
	f->p = NULL;
}

/* One /24 with pool .10-.19 (10 addresses). */
static void fx_small(struct fx *f)
{
	memset(f, 0, sizeof(*f));
	fx_cfg(f);
	fx_subnet(f, IP4(198, 18, 0, 0), IP4(255, 255, 255, 0), IP4(198, 18, 0, 10),
		  IP4(198, 18, 0, 19));
}

static int offer(struct fx *f, uint16_t sub, uint32_t mac, uint32_t req, uint64_t now,
		 uint32_t *ip)
{
	uint8_t m[6];

	mk_mac(m, mac);
	*ip = 0;
	return lease_offer(f->p, sub, m, req, now, ip);
}

static int commit(struct fx *f, uint32_t mac, uint32_t ip, uint32_t lt, uint64_t now)
{
	uint8_t m[6];
	struct lease_info li;
	int rc;

	mk_mac(m, mac);
	memset(&li, 0xee, sizeof(li));
	rc = lease_commit(f->p, m, ip, lt, now, &li);
	if (rc == 0) {
		assert_int_equal(li.ip, ip);
		assert_memory_equal(li.mac, m, 6);
		assert_int_equal(li.state, LEASE_BOUND);
		assert_true(li.expires == now + lt);
	}
	return rc;
}

static int release(struct fx *f, uint32_t mac, uint32_t ip, uint64_t now)
{
	uint8_t m[6];

	mk_mac(m, mac);
	return lease_release(f->p, m, ip, now);
}

static int decline(struct fx *f, uint32_t mac, uint32_t ip, uint64_t now)
{
	uint8_t m[6];

	mk_mac(m, mac);
	return lease_decline(f->p, m, ip, now);
}

static enum lease_state state_of(struct fx *f, uint32_t ip, uint64_t now)
{
	struct lease_info li;

	assert_int_equal(lease_find_ip(f->p, ip, now, &li), 0);
	return li.state;
}

static void check_stats_sum(struct fx *f, uint64_t now, struct lease_stats *st)
{
	lease_pool_stats(f->p, now, st);
	assert_int_equal(st->total,
			 st->free + st->offered + st->bound + st->declined + st->reserved);
}

/* ---- bad configs ---- */

struct bad_case {
	const char *name;
	uint32_t net[2], mask[2], start[2], end[2];
	int n_subnets;
	uint32_t resv_mac[3], resv_ip[3];
	int n_resv;
	int want;
};

static const struct bad_case bad_cases[] = {
	{"good", {IP4(198, 18, 0, 0)}, {IP4(255, 255, 255, 0)}, {IP4(198, 18, 0, 10)},
	 {IP4(198, 18, 0, 20)}, 1, {1, 2}, {IP4(198, 18, 0, 12), IP4(198, 18, 0, 250)}, 2, 0},
	{"no subnets", {0}, {0}, {0}, {0}, 0, {0}, {0}, 0, 0},
	{"subnet without pool", {IP4(198, 18, 0, 0)}, {IP4(255, 255, 255, 0)}, {0}, {0}, 1, {1},
	 {IP4(198, 18, 0, 7)}, 1, 0},
	{"/31 whole", {IP4(198, 18, 5, 0)}, {IP4(255, 255, 255, 254)}, {IP4(198, 18, 5, 0)},
	 {IP4(198, 18, 5, 1)}, 1, {0}, {0}, 0, 0},
	{"inverted pool", {IP4(198, 18, 0, 0)}, {IP4(255, 255, 255, 0)}, {IP4(198, 18, 0, 50)},
	 {IP4(198, 18, 0, 10)}, 1, {0}, {0}, 0, -EINVAL},
	{"pool in another subnet", {IP4(198, 18, 0, 0)}, {IP4(255, 255, 255, 0)},
	 {IP4(198, 18, 1, 10)}, {IP4(198, 18, 1, 20)}, 1, {0}, {0}, 0, -EINVAL},
	{"pool past the subnet", {IP4(198, 18, 0, 0)}, {IP4(255, 255, 255, 0)},
	 {IP4(198, 18, 0, 200)}, {IP4(198, 18, 1, 5)}, 1, {0}, {0}, 0, -EINVAL},
	{"pool takes network address", {IP4(198, 18, 0, 0)}, {IP4(255, 255, 255, 0)},
	 {IP4(198, 18, 0, 0)}, {IP4(198, 18, 0, 9)}, 1, {0}, {0}, 0, -EINVAL},
	{"pool takes broadcast", {IP4(198, 18, 0, 0)}, {IP4(255, 255, 255, 0)},
	 {IP4(198, 18, 0, 9)}, {IP4(198, 18, 0, 255)}, 1, {0}, {0}, 0, -EINVAL},
	{"pools overlap",
	 {IP4(198, 18, 0, 0), IP4(198, 18, 1, 0)},
	 {IP4(255, 255, 254, 0), IP4(255, 255, 255, 0)},
	 {IP4(198, 18, 0, 10), IP4(198, 18, 1, 5)},
	 {IP4(198, 18, 1, 10), IP4(198, 18, 1, 20)},
	 2,
	 {0},
	 {0},
	 0,
	 -EINVAL},
	{"same pool twice",
	 {IP4(198, 18, 0, 0), IP4(198, 18, 0, 0)},
	 {IP4(255, 255, 255, 0), IP4(255, 255, 255, 0)},
	 {IP4(198, 18, 0, 10), IP4(198, 18, 0, 10)},
	 {IP4(198, 18, 0, 10), IP4(198, 18, 0, 10)},
	 2,
	 {0},
	 {0},
	 0,
	 -EINVAL},
	{"reservation in no subnet", {IP4(198, 18, 0, 0)}, {IP4(255, 255, 255, 0)},
	 {IP4(198, 18, 0, 10)}, {IP4(198, 18, 0, 20)}, 1, {1}, {IP4(198, 19, 0, 1)}, 1, -EINVAL},
	{"two reservations, one pool address", {IP4(198, 18, 0, 0)}, {IP4(255, 255, 255, 0)},
	 {IP4(198, 18, 0, 10)}, {IP4(198, 18, 0, 20)}, 1, {1, 2},
	 {IP4(198, 18, 0, 11), IP4(198, 18, 0, 11)}, 2, -EINVAL},
	{"two reservations, one outside address", {IP4(198, 18, 0, 0)}, {IP4(255, 255, 255, 0)},
	 {IP4(198, 18, 0, 10)}, {IP4(198, 18, 0, 20)}, 1, {1, 2, 3},
	 {IP4(198, 18, 0, 40), IP4(198, 18, 0, 30), IP4(198, 18, 0, 40)}, 3, -EINVAL},
	{"one MAC, two reservations in a subnet", {IP4(198, 18, 0, 0)}, {IP4(255, 255, 255, 0)},
	 {IP4(198, 18, 0, 10)}, {IP4(198, 18, 0, 20)}, 1, {1, 1},
	 {IP4(198, 18, 0, 12), IP4(198, 18, 0, 40)}, 2, -EINVAL},
	{"one MAC, one reservation per subnet",
	 {IP4(198, 18, 0, 0), IP4(198, 18, 1, 0)},
	 {IP4(255, 255, 255, 0), IP4(255, 255, 255, 0)},
	 {IP4(198, 18, 0, 10), IP4(198, 18, 1, 10)},
	 {IP4(198, 18, 0, 20), IP4(198, 18, 1, 20)},
	 2,
	 {1, 1, 1},
	 {IP4(198, 18, 0, 12), IP4(198, 18, 1, 40), 0},
	 3,
	 0},
};

static void test_bad_configs(void **state)
{
	(void)state;
	for (size_t c = 0; c < sizeof(bad_cases) / sizeof(bad_cases[0]); c++) {
		const struct bad_case *bc = &bad_cases[c];
		struct fx f;
		int rc;

		memset(&f, 0, sizeof(f));
		fx_cfg(&f);
		for (int i = 0; i < bc->n_subnets; i++)
			fx_subnet(&f, bc->net[i], bc->mask[i], bc->start[i], bc->end[i]);
		for (int i = 0; i < bc->n_resv; i++)
			fx_resv(&f, bc->resv_mac[i], bc->resv_ip[i]);
		rc = fx_init(&f);
		if (rc != bc->want)
			fail_msg("%s: got %d, want %d", bc->name, rc, bc->want);
		if (rc == 0) {
			struct lease_stats st;
			check_stats_sum(&f, T0, &st);
			fx_fini(&f);
		}
	}
}

static void test_bad_memory(void **state)
{
	struct fx f;
	size_t sz;
	int err = 0;
	uint64_t *mem;

	(void)state;
	fx_small(&f);
	sz = lease_pool_memsize(&f.cfg);
	assert_true(sz > 0);
	mem = malloc(sz + 8);
	assert_non_null(mem);
	assert_null(lease_pool_init(mem, sz - 1, &f.cfg, &err));
	assert_int_equal(err, -ENOMEM);
	assert_null(lease_pool_init((uint8_t *)mem + 4, sz, &f.cfg, &err));
	assert_int_equal(err, -EINVAL);
	assert_null(lease_pool_init(NULL, sz, &f.cfg, &err));
	assert_int_equal(err, -EINVAL);
	assert_non_null(lease_pool_init(mem, sz, &f.cfg, NULL));
	/* 2^31 addresses: refused before any memory is touched */
	f.subs[0].network = 0;
	f.subs[0].netmask = 0;
	f.subs[0].pool_start = 1;
	f.subs[0].pool_end = 0x80000001u;
	assert_int_equal(lease_pool_memsize(&f.cfg), 0);
	assert_null(lease_pool_init(mem, sz, &f.cfg, &err));
	assert_int_equal(err, -ENOMEM);
	free(mem);
}

/* ---- exhaustion ---- */

struct exh_case {
	uint32_t net, mask, start, end;
	uint32_t resv_ip[2]; /* reserved inside the pool, 0 = none */
};

static const struct exh_case exh_cases[] = {
	{IP4(198, 18, 0, 0), IP4(255, 255, 255, 0), IP4(198, 18, 0, 10), IP4(198, 18, 0, 10), {0}},
	{IP4(198, 18, 0, 0), IP4(255, 255, 255, 0), IP4(198, 18, 0, 10), IP4(198, 18, 0, 11), {0}},
	{IP4(198, 18, 0, 0), IP4(255, 255, 255, 0), IP4(198, 18, 0, 1), IP4(198, 18, 0, 254),
	 {IP4(198, 18, 0, 1), IP4(198, 18, 0, 254)}},
	{IP4(198, 18, 0, 0), IP4(255, 255, 252, 0), IP4(198, 18, 0, 200), IP4(198, 18, 3, 50),
	 {IP4(198, 18, 1, 0)}},
	{IP4(198, 18, 5, 0), IP4(255, 255, 255, 254), IP4(198, 18, 5, 0), IP4(198, 18, 5, 1), {0}},
};

static void test_exhaustion(void **state)
{
	(void)state;
	for (size_t c = 0; c < sizeof(exh_cases) / sizeof(exh_cases[0]); c++) {
		const struct exh_case *ec = &exh_cases[c];
		uint32_t size = ec->end - ec->start + 1, n_resv = 0, got = 0, ip;
		uint8_t *seen = calloc(size, 1);
		struct lease_stats st;
		struct fx f;

		assert_non_null(seen);
		memset(&f, 0, sizeof(f));
		fx_cfg(&f);
		fx_subnet(&f, ec->net, ec->mask, ec->start, ec->end);
		for (int r = 0; r < 2; r++)
			if (ec->resv_ip[r]) {
				fx_resv(&f, 1000000 + r, ec->resv_ip[r]);
				n_resv++;
			}
		assert_int_equal(fx_init(&f), 0);
		check_stats_sum(&f, T0, &st);
		assert_int_equal(st.total, size);
		assert_int_equal(st.free, size - n_resv);
		assert_int_equal(st.reserved, n_resv);

		for (uint32_t m = 0; m < size - n_resv; m++) {
			assert_int_equal(offer(&f, 0, m, 0, T0, &ip), 0);
			assert_true(ip >= ec->start && ip <= ec->end);
			assert_int_equal(seen[ip - ec->start], 0);
			assert_true(ip != ec->resv_ip[0] && ip != ec->resv_ip[1]);
			seen[ip - ec->start] = 1;
			got++;
			if (m & 1)
				assert_int_equal(commit(&f, m, ip, 600, T0), 0);
		}
		assert_int_equal(got, size - n_resv);
		/* exhausted: refused, every time, for any MAC, with or without a request */
		for (uint32_t m = size; m < size + 3; m++) {
			assert_int_equal(offer(&f, 0, m, 0, T0 + 1, &ip), -ENOSPC);
			assert_int_equal(offer(&f, 0, m, ec->start, T0 + 1, &ip), -ENOSPC);
		}
		check_stats_sum(&f, T0 + 1, &st);
		assert_int_equal(st.free, 0);
		assert_int_equal(st.offered + st.bound, size - n_resv);
		assert_int_equal(st.bound, (size - n_resv) / 2);
		/* the reserved MACs still get their addresses */
		for (uint32_t r = 0; r < n_resv; r++) {
			assert_int_equal(offer(&f, 0, 1000000 + r, 0, T0 + 1, &ip), 0);
			assert_int_equal(ip, ec->resv_ip[r]);
		}
		/* offers expire: the unbound half comes back */
		check_stats_sum(&f, T0 + HOLD, &st);
		assert_int_equal(st.free, size - n_resv - (size - n_resv) / 2);
		assert_int_equal(st.offered, n_resv); /* held since T0 + 1 */
		assert_int_equal(offer(&f, 0, size + 7, 0, T0 + HOLD, &ip),
				 size - n_resv > (size - n_resv) / 2 ? 0 : -ENOSPC);
		free(seen);
		fx_fini(&f);
	}
}

/* ---- same MAC, same address ---- */

static void test_same_mac_after_release(void **state)
{
	struct fx f;
	uint32_t x, ip;

	(void)state;
	fx_small(&f);
	assert_int_equal(fx_init(&f), 0);
	assert_int_equal(offer(&f, 0, 1, 0, T0, &x), 0);
	assert_int_equal(x, IP4(198, 18, 0, 10)); /* LRU head = lowest address at start */
	assert_int_equal(commit(&f, 1, x, 600, T0), 0);
	assert_int_equal(release(&f, 2, x, T0 + 1), -EADDRINUSE);
	assert_int_equal(release(&f, 1, x, T0 + 1), 0);
	assert_int_equal(release(&f, 1, x, T0 + 1), -ENOENT);
	assert_int_equal(state_of(&f, x, T0 + 1), LEASE_FREE);
	/* nine other MACs take the nine other addresses: x went to the tail */
	for (uint32_t m = 2; m <= 10; m++) {
		assert_int_equal(offer(&f, 0, m, 0, T0 + 2, &ip), 0);
		assert_true(ip != x);
	}
	assert_int_equal(offer(&f, 0, 1, 0, T0 + 2, &ip), 0);
	assert_int_equal(ip, x);
	/* the pool is full now; once everything expires, a newcomer takes the LRU head
	 * while MAC 1 still finds its address */
	assert_int_equal(commit(&f, 1, x, 600, T0 + 2), 0);
	assert_int_equal(release(&f, 1, x, T0 + 3), 0);
	assert_int_equal(offer(&f, 0, 11, 0, T0 + 3, &ip), 0); /* the only free one */
	assert_int_equal(ip, x);
	assert_int_equal(offer(&f, 0, 1, 0, T0 + 3, &ip), -ENOSPC);
	fx_fini(&f);
}

static void test_same_mac_after_expiry(void **state)
{
	struct fx f;
	uint32_t x, y, ip;

	(void)state;
	fx_small(&f);
	assert_int_equal(fx_init(&f), 0);
	assert_int_equal(offer(&f, 0, 1, 0, T0, &x), 0);
	assert_int_equal(commit(&f, 1, x, 100, T0), 0);
	assert_int_equal(offer(&f, 0, 2, 0, T0, &y), 0);
	/* offer hold expiry: MAC 2's address comes back to MAC 2 */
	assert_int_equal(state_of(&f, y, T0 + HOLD - 1), LEASE_OFFERED);
	assert_int_equal(state_of(&f, y, T0 + HOLD), LEASE_FREE);
	/* lease expiry */
	assert_int_equal(state_of(&f, x, T0 + 99), LEASE_BOUND);
	assert_int_equal(state_of(&f, x, T0 + 100), LEASE_FREE);
	for (uint32_t m = 3; m <= 6; m++) {
		assert_int_equal(offer(&f, 0, m, 0, T0 + 100, &ip), 0);
		assert_true(ip != x && ip != y);
	}
	assert_int_equal(offer(&f, 0, 1, 0, T0 + 101, &ip), 0);
	assert_int_equal(ip, x);
	assert_int_equal(offer(&f, 0, 2, 0, T0 + 101, &ip), 0);
	assert_int_equal(ip, y);
	fx_fini(&f);
}

static void test_current_lease_first(void **state)
{
	struct fx f;
	uint32_t x, ip;
	struct lease_info li;
	uint8_t m[6];

	(void)state;
	fx_small(&f);
	assert_int_equal(fx_init(&f), 0);
	assert_int_equal(offer(&f, 0, 1, 0, T0, &x), 0);
	/* a retransmitted DISCOVER gets the same offer, held anew */
	assert_int_equal(offer(&f, 0, 1, IP4(198, 18, 0, 15), T0 + 3, &ip), 0);
	assert_int_equal(ip, x);
	assert_int_equal(state_of(&f, x, T0 + HOLD), LEASE_OFFERED);
	assert_int_equal(state_of(&f, x, T0 + 3 + HOLD), LEASE_FREE);
	/* a bound lease is returned unchanged (not shortened to the hold) */
	assert_int_equal(commit(&f, 1, x, 1000, T0 + 4), 0);
	assert_int_equal(offer(&f, 0, 1, 0, T0 + 5, &ip), 0);
	assert_int_equal(ip, x);
	mk_mac(m, 1);
	assert_int_equal(lease_find_mac(f.p, m, T0 + 5, &li), 0);
	assert_int_equal(li.state, LEASE_BOUND);
	assert_true(li.expires == T0 + 1004);
	assert_int_equal(lease_find_mac(f.p, m, T0 + 1004, &li), -ENOENT);
	fx_fini(&f);
}

struct req_case {
	const char *name;
	uint32_t requested;
	bool honoured;
};

static const struct req_case req_cases[] = {
	{"free in pool", IP4(198, 18, 0, 17), true},
	{"last of pool", IP4(198, 18, 0, 19), true},
	{"held by another MAC", IP4(198, 18, 0, 10), false},
	{"reserved for another MAC", IP4(198, 18, 0, 12), false},
	{"in subnet, outside pool", IP4(198, 18, 0, 30), false},
	{"reserved outside pool", IP4(198, 18, 0, 40), false},
	{"other subnet's pool", IP4(198, 18, 1, 15), false},
	{"nowhere", IP4(203, 0, 113, 1), false},
	{"zero", 0, false},
};

static void test_requested(void **state)
{
	(void)state;
	for (size_t c = 0; c < sizeof(req_cases) / sizeof(req_cases[0]); c++) {
		const struct req_case *rc = &req_cases[c];
		struct fx f;
		uint32_t ip;

		fx_small(&f);
		fx_subnet(&f, IP4(198, 18, 1, 0), IP4(255, 255, 255, 0), IP4(198, 18, 1, 10),
			  IP4(198, 18, 1, 19));
		fx_resv(&f, 500, IP4(198, 18, 0, 12));
		fx_resv(&f, 501, IP4(198, 18, 0, 40));
		assert_int_equal(fx_init(&f), 0);
		assert_int_equal(offer(&f, 0, 1, 0, T0, &ip), 0); /* takes .10 */
		assert_int_equal(ip, IP4(198, 18, 0, 10));
		assert_int_equal(offer(&f, 0, 2, rc->requested, T0, &ip), 0);
		if (rc->honoured ? ip != rc->requested : ip == rc->requested)
			fail_msg("%s: got %08x", rc->name, ip);
		if (!rc->honoured)
			assert_int_equal(ip, IP4(198, 18, 0, 11)); /* the LRU head */
		fx_fini(&f);
	}
}

/* ---- hold, decline ---- */

static void test_offer_hold_expiry(void **state)
{
	struct fx f;
	uint32_t x, ip;

	(void)state;
	memset(&f, 0, sizeof(f));
	fx_cfg(&f);
	fx_subnet(&f, IP4(198, 18, 0, 0), IP4(255, 255, 255, 0), IP4(198, 18, 0, 10),
		  IP4(198, 18, 0, 10));
	assert_int_equal(fx_init(&f), 0);
	assert_int_equal(offer(&f, 0, 1, 0, T0, &x), 0);
	assert_int_equal(offer(&f, 0, 2, 0, T0 + HOLD - 1, &ip), -ENOSPC);
	assert_int_equal(commit(&f, 2, x, 60, T0 + HOLD - 1), -EADDRINUSE);
	assert_int_equal(offer(&f, 0, 2, 0, T0 + HOLD, &ip), 0);
	assert_int_equal(ip, x);
	/* MAC 1 was too slow: its REQUEST is refused, MAC 2's goes through */
	assert_int_equal(commit(&f, 1, x, 60, T0 + HOLD + 1), -EADDRINUSE);
	assert_int_equal(commit(&f, 2, x, 60, T0 + HOLD + 1), 0);
	assert_int_equal(offer(&f, 0, 1, 0, T0 + HOLD + 1, &ip), -ENOSPC);
	fx_fini(&f);
}

/* ---- offer_reuse: a full pool takes back the oldest offer, never a bound lease ---- */

static void test_offer_reuse(void **state)
{
	struct fx f;
	struct lease_stats st;
	uint32_t x1, x2, x3, ip;

	(void)state;
	memset(&f, 0, sizeof(f));
	fx_cfg(&f);
	f.cfg.offer_reuse = true;
	fx_subnet(&f, IP4(198, 18, 0, 0), IP4(255, 255, 255, 0), IP4(198, 18, 0, 10),
		  IP4(198, 18, 0, 12));
	assert_int_equal(fx_init(&f), 0);
	assert_int_equal(offer(&f, 0, 1, 0, T0, &x1), 0);
	assert_int_equal(offer(&f, 0, 2, 0, T0, &x2), 0);
	assert_int_equal(offer(&f, 0, 3, 0, T0, &x3), 0);
	assert_int_equal(commit(&f, 2, x2, 600, T0), 0);
	/* no free address: the oldest offer goes to the newcomer, then the next oldest */
	assert_int_equal(offer(&f, 0, 4, 0, T0 + 1, &ip), 0);
	assert_int_equal(ip, x1);
	assert_int_equal(offer(&f, 0, 5, 0, T0 + 1, &ip), 0);
	assert_int_equal(ip, x3);
	assert_int_equal(offer(&f, 0, 6, 0, T0 + 1, &ip), 0);
	assert_int_equal(ip, x1); /* MAC 4's offer is now the oldest */
	check_stats_sum(&f, T0 + 1, &st);
	assert_int_equal(st.offers_taken_over, 3);
	assert_int_equal(st.offered, 2);
	assert_int_equal(st.bound, 1);
	/* an offer binds nobody: MAC 1's REQUEST for what it was offered wins ... */
	assert_int_equal(commit(&f, 1, x1, 600, T0 + 2), 0);
	/* ... and MAC 6, offered it since, is refused (its client starts over) */
	assert_int_equal(commit(&f, 6, x1, 600, T0 + 2), -EADDRINUSE);
	assert_int_equal(offer(&f, 0, 7, 0, T0 + 2, &ip), 0);
	assert_int_equal(ip, x3);
	assert_int_equal(commit(&f, 5, x3, 600, T0 + 3), 0);
	/* every address bound: a bound lease is never taken */
	assert_int_equal(offer(&f, 0, 8, 0, T0 + 3, &ip), -ENOSPC);
	assert_int_equal(commit(&f, 8, x2, 600, T0 + 3), -EADDRINUSE);
	check_stats_sum(&f, T0 + 3, &st);
	assert_int_equal(st.bound, 3);
	assert_int_equal(st.offered, 0);
	fx_fini(&f);
}

/* A flood of DISCOVERs from random MACs: real clients still get their leases. */
static void test_offer_reuse_flood(void **state)
{
	struct fx f;
	struct lease_stats st;
	uint32_t rx, sx, rip, ip;
	uint32_t seed = 12345;

	(void)state;
	fx_small(&f); /* 10 addresses */
	f.cfg.offer_reuse = true;
	fx_resv(&f, 900, IP4(198, 18, 0, 15)); /* never handed to the flood */
	assert_int_equal(fx_init(&f), 0);
	assert_int_equal(offer(&f, 0, 1, 0, T0, &rx), 0);
	for (uint32_t i = 0; i < 20000; i++) {
		seed = seed * 1103515245u + 12345u;
		assert_int_equal(offer(&f, 0, 1000 + (seed >> 8), 0, T0 + i / 2000, &ip), 0);
		assert_true(ip != IP4(198, 18, 0, 15));
	}
	/* the real client's REQUEST for its offer comes after the flood took it again */
	assert_int_equal(commit(&f, 1, rx, 600, T0 + 10), 0);
	assert_int_equal(offer(&f, 0, 2, 0, T0 + 10, &sx), 0);
	assert_true(sx != rx);
	for (uint32_t i = 0; i < 5000; i++) {
		seed = seed * 1103515245u + 12345u;
		assert_int_equal(offer(&f, 0, 1000 + (seed >> 8), 0, T0 + 10, &ip), 0);
		assert_true(ip != rx && ip != IP4(198, 18, 0, 15));
	}
	assert_int_equal(commit(&f, 2, sx, 600, T0 + 11), 0);
	/* the reserved MAC still gets its address */
	assert_int_equal(offer(&f, 0, 900, 0, T0 + 11, &rip), 0);
	assert_int_equal(rip, IP4(198, 18, 0, 15));
	check_stats_sum(&f, T0 + 11, &st);
	assert_int_equal(st.bound, 2);
	assert_true(st.offers_taken_over >= 20000 + 5000 - 9);
	fx_fini(&f);
}

/* Without offer_reuse an outstanding offer is held: the pool is refused meanwhile. */
static void test_offer_held_without_reuse(void **state)
{
	struct fx f;
	uint32_t x, ip;

	(void)state;
	memset(&f, 0, sizeof(f));
	fx_cfg(&f);
	fx_subnet(&f, IP4(198, 18, 0, 0), IP4(255, 255, 255, 0), IP4(198, 18, 0, 10),
		  IP4(198, 18, 0, 10));
	assert_int_equal(fx_init(&f), 0);
	assert_int_equal(offer(&f, 0, 1, 0, T0, &x), 0);
	assert_int_equal(offer(&f, 0, 2, 0, T0 + 1, &ip), -ENOSPC);
	assert_int_equal(commit(&f, 2, x, 600, T0 + 1), -EADDRINUSE);
	assert_int_equal(commit(&f, 1, x, 600, T0 + 1), 0);
	fx_fini(&f);
}

static void test_decline_quarantine(void **state)
{
	struct fx f;
	uint32_t x, ip;
	struct lease_stats st;

	(void)state;
	memset(&f, 0, sizeof(f));
	fx_cfg(&f);
	fx_subnet(&f, IP4(198, 18, 0, 0), IP4(255, 255, 255, 0), IP4(198, 18, 0, 10),
		  IP4(198, 18, 0, 11));
	assert_int_equal(fx_init(&f), 0);
	assert_int_equal(offer(&f, 0, 1, 0, T0, &x), 0);
	assert_int_equal(commit(&f, 1, x, 600, T0), 0);
	assert_int_equal(decline(&f, 2, x, T0 + 1), -EADDRINUSE); /* not MAC 2's */
	assert_int_equal(decline(&f, 1, IP4(198, 18, 0, 11), T0 + 1), -ENOENT);
	assert_int_equal(decline(&f, 1, IP4(198, 18, 0, 99), T0 + 1), -ENOENT);
	assert_int_equal(decline(&f, 1, x, T0 + 1), 0);
	assert_int_equal(state_of(&f, x, T0 + 1), LEASE_DECLINED);
	check_stats_sum(&f, T0 + 1, &st);
	assert_int_equal(st.declined, 1);
	assert_int_equal(st.free, 1);
	/* MAC 1 gets another address; nobody gets x during the quarantine */
	assert_int_equal(offer(&f, 0, 1, x, T0 + 2, &ip), 0);
	assert_int_equal(ip, IP4(198, 18, 0, 11));
	assert_int_equal(commit(&f, 1, ip, 600, T0 + 2), 0);
	assert_int_equal(offer(&f, 0, 2, x, T0 + 2, &ip), -ENOSPC);
	assert_int_equal(commit(&f, 2, x, 600, T0 + 2), -EADDRINUSE);
	assert_int_equal(commit(&f, 1, x, 600, T0 + 2), -EADDRINUSE);
	assert_int_equal(release(&f, 1, x, T0 + 2), -ENOENT);
	assert_int_equal(offer(&f, 0, 2, 0, T0 + 1 + QUARANTINE - 1, &ip), -ENOSPC);
	/* back after the quarantine */
	assert_int_equal(state_of(&f, x, T0 + 1 + QUARANTINE), LEASE_FREE);
	assert_int_equal(offer(&f, 0, 2, 0, T0 + 1 + QUARANTINE, &ip), 0);
	assert_int_equal(ip, x);
	check_stats_sum(&f, T0 + 1 + QUARANTINE, &st);
	assert_int_equal(st.declined, 0);
	assert_int_equal(st.offered, 1);
	fx_fini(&f);
}

/*
 * RFC 2131 4.3.3: a DECLINEd address is not offered back to the client that declined it
 * at once, even with decline_quarantine 0 (the address is then free for everyone else).
 * A reservation it declined is held back until it has bound another address.
 */
static void test_decline_not_offered_back(void **state)
{
	struct fx f;
	uint32_t x, ip, r;
	uint8_t m[6];
	const uint32_t out = IP4(198, 18, 0, 40);

	(void)state;
	fx_small(&f);
	f.cfg.decline_quarantine = 0;
	fx_resv(&f, 500, out);
	assert_int_equal(fx_init(&f), 0);
	assert_int_equal(offer(&f, 0, 1, 0, T0, &x), 0);
	assert_int_equal(commit(&f, 1, x, 600, T0), 0);
	assert_int_equal(decline(&f, 1, x, T0 + 1), 0);
	assert_int_equal(state_of(&f, x, T0 + 1), LEASE_FREE);
	/* Not by option 50, not as the address it had last. */
	assert_int_equal(offer(&f, 0, 1, x, T0 + 1, &ip), 0);
	assert_true(ip != x);
	assert_int_equal(offer(&f, 0, 1, 0, T0 + 1, &ip), 0);
	assert_true(ip != x);
	/* Somebody else may have it at once. */
	assert_int_equal(offer(&f, 0, 2, x, T0 + 1, &ip), 0);
	assert_int_equal(ip, x);

	/* The reserved MAC: held back until it bound another address... */
	mk_mac(m, 500);
	assert_int_equal(offer(&f, 0, 500, 0, T0 + 2, &ip), 0);
	assert_int_equal(ip, out);
	assert_int_equal(commit(&f, 500, out, 600, T0 + 2), 0);
	assert_int_equal(decline(&f, 500, out, T0 + 3), 0);
	assert_int_equal(lease_reservation(f.p, m, 0, T0 + 3, &r), -ENOENT);
	assert_int_equal(offer(&f, 0, 500, 0, T0 + 3, &ip), 0);
	assert_true(ip != out);
	assert_int_equal(lease_reservation(f.p, m, 0, T0 + 3, &r), -ENOENT);
	assert_int_equal(commit(&f, 500, ip, 600, T0 + 3), 0);
	/* ...then its reservation is usable again: the next offer moves it back. */
	assert_int_equal(lease_reservation(f.p, m, 0, T0 + 4, &r), 0);
	assert_int_equal(r, out);
	assert_int_equal(commit(&f, 500, ip, 600, T0 + 4), -EADDRINUSE);
	assert_int_equal(offer(&f, 0, 500, 0, T0 + 4, &r), 0);
	assert_int_equal(r, out);
	fx_fini(&f);

	/* The only free address is the one the MAC declined: none for it, one for others. */
	memset(&f, 0, sizeof(f));
	fx_cfg(&f);
	f.cfg.decline_quarantine = 0;
	fx_subnet(&f, IP4(198, 18, 0, 0), IP4(255, 255, 255, 0), IP4(198, 18, 0, 10),
		  IP4(198, 18, 0, 11));
	assert_int_equal(fx_init(&f), 0);
	assert_int_equal(offer(&f, 0, 1, 0, T0, &x), 0);
	assert_int_equal(commit(&f, 1, x, 600, T0), 0);
	assert_int_equal(offer(&f, 0, 2, 0, T0, &ip), 0);
	assert_int_equal(commit(&f, 2, ip, 600, T0), 0);
	assert_int_equal(decline(&f, 1, x, T0 + 1), 0);
	assert_int_equal(offer(&f, 0, 1, 0, T0 + 1, &ip), -ENOSPC);
	assert_int_equal(offer(&f, 0, 3, 0, T0 + 1, &ip), 0);
	assert_int_equal(ip, x);
	fx_fini(&f);
}

/* ---- reservations ---- */

static void test_reservations(void **state)
{
	struct fx f;
	uint32_t ip;
	const uint32_t in = IP4(198, 18, 0, 12), out = IP4(198, 18, 0, 40);
	struct lease_stats st;
	struct lease_info li;

	(void)state;
	fx_small(&f);
	fx_resv(&f, 500, in);
	fx_resv(&f, 501, out);
	fx_resv(&f, 502, 0); /* boot information only */
	assert_int_equal(fx_init(&f), 0);
	check_stats_sum(&f, T0, &st);
	assert_int_equal(st.total, 11);
	assert_int_equal(st.free, 9);
	assert_int_equal(st.reserved, 2);
	assert_int_equal(lease_find_ip(f.p, out, T0, &li), 0);
	assert_int_equal(li.state, LEASE_FREE);

	/* others exhaust the pool without ever getting a reserved address */
	for (uint32_t m = 0; m < 9; m++) {
		assert_int_equal(offer(&f, 0, m, m & 1 ? in : out, T0, &ip), 0);
		assert_true(ip != in && ip != out);
	}
	assert_int_equal(offer(&f, 0, 502, 0, T0, &ip), -ENOSPC); /* ip 0: pool only */
	assert_int_equal(offer(&f, 0, 9, in, T0, &ip), -ENOSPC);
	assert_int_equal(commit(&f, 9, in, 60, T0), -EADDRINUSE);
	assert_int_equal(commit(&f, 9, out, 60, T0), -EADDRINUSE);
	/* the reserved MACs get theirs, even with the pool full */
	assert_int_equal(offer(&f, 0, 500, 0, T0, &ip), 0);
	assert_int_equal(ip, in);
	assert_int_equal(offer(&f, 0, 501, IP4(198, 18, 0, 19), T0, &ip), 0);
	assert_int_equal(ip, out);
	assert_int_equal(commit(&f, 501, out, 60, T0), 0);
	assert_int_equal(release(&f, 501, out, T0 + 1), 0);
	/* released, still nobody else's */
	assert_int_equal(commit(&f, 9, out, 60, T0 + 2), -EADDRINUSE);
	check_stats_sum(&f, T0 + 2, &st);
	assert_int_equal(st.reserved, 1);
	/* a reserved MAC cannot bind another address in that subnet... */
	assert_int_equal(commit(&f, 501, IP4(198, 18, 0, 19), 60, T0 + HOLD + 1), -EADDRINUSE);
	/* ...unless its reservation is quarantined */
	assert_int_equal(commit(&f, 501, out, 60, T0 + 3), 0);
	assert_int_equal(decline(&f, 501, out, T0 + 3), 0);
	assert_int_equal(offer(&f, 0, 501, 0, T0 + HOLD + 1, &ip), 0);
	assert_true(ip >= IP4(198, 18, 0, 10) && ip <= IP4(198, 18, 0, 19) && ip != in);
	assert_int_equal(commit(&f, 501, ip, 600, T0 + HOLD + 1), 0);
	/* after the quarantine the reservation wins again and the pool address is freed */
	assert_int_equal(offer(&f, 0, 501, 0, T0 + 3 + QUARANTINE, &li.ip), 0);
	assert_int_equal(li.ip, out);
	assert_int_equal(state_of(&f, ip, T0 + 3 + QUARANTINE), LEASE_FREE);
	fx_fini(&f);
}

/* ---- commit ---- */

struct commit_case {
	const char *name;
	uint32_t mac, ip;
	uint32_t lease_time;
	int want;
};

/* After setup: MAC 1 offered .10, MAC 2 bound .11, .12 reserved for 500. */
static const struct commit_case commit_cases[] = {
	{"own offer", 1, IP4(198, 18, 0, 10), 60, 0},
	{"another MAC's offer", 3, IP4(198, 18, 0, 10), 60, -EADDRINUSE},
	{"another MAC's lease", 1, IP4(198, 18, 0, 11), 60, -EADDRINUSE},
	{"own lease (renew)", 2, IP4(198, 18, 0, 11), 60, 0},
	{"another MAC's reservation", 3, IP4(198, 18, 0, 12), 60, -EADDRINUSE},
	{"own reservation", 500, IP4(198, 18, 0, 12), 60, 0},
	{"free address (INIT-REBOOT)", 3, IP4(198, 18, 0, 18), 60, 0},
	{"outside pool", 3, IP4(198, 18, 0, 30), 60, -ENOENT},
	{"other network", 3, IP4(10, 0, 0, 1), 60, -ENOENT},
	{"zero lease time", 1, IP4(198, 18, 0, 10), 0, -EINVAL},
};

static void test_commit(void **state)
{
	(void)state;
	for (size_t c = 0; c < sizeof(commit_cases) / sizeof(commit_cases[0]); c++) {
		const struct commit_case *cc = &commit_cases[c];
		struct fx f;
		uint32_t ip;
		int rc;

		fx_small(&f);
		fx_resv(&f, 500, IP4(198, 18, 0, 12));
		assert_int_equal(fx_init(&f), 0);
		assert_int_equal(offer(&f, 0, 1, 0, T0, &ip), 0);
		assert_int_equal(ip, IP4(198, 18, 0, 10));
		assert_int_equal(offer(&f, 0, 2, 0, T0, &ip), 0);
		assert_int_equal(commit(&f, 2, ip, 600, T0), 0);
		assert_int_equal(ip, IP4(198, 18, 0, 11));
		rc = commit(&f, cc->mac, cc->ip, cc->lease_time, T0 + 1);
		if (rc != cc->want)
			fail_msg("%s: got %d, want %d", cc->name, rc, cc->want);
		fx_fini(&f);
	}
}

static void test_one_address_per_subnet(void **state)
{
	struct fx f;
	uint32_t x, ip;
	uint8_t m[6];
	struct lease_info li;

	(void)state;
	fx_small(&f);
	assert_int_equal(fx_init(&f), 0);
	mk_mac(m, 1);
	/* INIT-REBOOT after a restart: a free address is bound directly */
	assert_int_equal(commit(&f, 1, IP4(198, 18, 0, 15), 600, T0), 0);
	assert_int_equal(lease_find_mac(f.p, m, T0, &li), 0);
	assert_int_equal(li.ip, IP4(198, 18, 0, 15));
	/* binding another address frees the first (remembering the MAC) */
	assert_int_equal(commit(&f, 1, IP4(198, 18, 0, 16), 600, T0 + 1), 0);
	assert_int_equal(lease_find_ip(f.p, IP4(198, 18, 0, 15), T0 + 1, &li), 0);
	assert_int_equal(li.state, LEASE_FREE);
	assert_memory_equal(li.mac, m, 6);
	assert_int_equal(state_of(&f, IP4(198, 18, 0, 16), T0 + 1), LEASE_BOUND);
	/* an offer to a MAC with a lease is that lease, whatever it asks for */
	assert_int_equal(offer(&f, 0, 1, IP4(198, 18, 0, 15), T0 + 2, &x), 0);
	assert_int_equal(x, IP4(198, 18, 0, 16));
	assert_int_equal(commit(&f, 2, IP4(198, 18, 0, 15), 600, T0 + 2), 0);
	assert_int_equal(offer(&f, 0, 3, 0, T0 + 2, &ip), 0);
	assert_true(ip != IP4(198, 18, 0, 15) && ip != IP4(198, 18, 0, 16));
	fx_fini(&f);
}

static void test_multiple_subnets(void **state)
{
	struct fx f;
	uint32_t ip0, ip1, ip;
	uint8_t m[6];
	struct lease_info li;

	(void)state;
	fx_small(&f);
	fx_subnet(&f, IP4(198, 18, 1, 0), IP4(255, 255, 255, 0), IP4(198, 18, 1, 100),
		  IP4(198, 18, 1, 101));
	fx_subnet(&f, IP4(198, 18, 2, 0), IP4(255, 255, 255, 0), 0, 0); /* no pool */
	assert_int_equal(fx_init(&f), 0);
	mk_mac(m, 7);
	assert_int_equal(offer(&f, 1, 7, IP4(198, 18, 0, 15), T0, &ip1), 0);
	assert_int_equal(ip1, IP4(198, 18, 1, 100));
	assert_int_equal(commit(&f, 7, ip1, 600, T0), 0);
	assert_int_equal(offer(&f, 0, 7, 0, T0, &ip0), 0);
	assert_int_equal(ip0, IP4(198, 18, 0, 10));
	assert_int_equal(commit(&f, 7, ip0, 600, T0), 0);
	/* one lease in each subnet: both stay bound */
	assert_int_equal(state_of(&f, ip0, T0), LEASE_BOUND);
	assert_int_equal(state_of(&f, ip1, T0), LEASE_BOUND);
	assert_int_equal(lease_find_mac(f.p, m, T0, &li), 0);
	assert_int_equal(li.subnet, 0);
	assert_int_equal(li.ip, ip0);
	assert_int_equal(release(&f, 7, ip0, T0), 0);
	assert_int_equal(lease_find_mac(f.p, m, T0, &li), 0);
	assert_int_equal(li.subnet, 1);
	/* exhausting subnet 1 leaves subnet 0 alone */
	assert_int_equal(offer(&f, 1, 8, 0, T0, &ip), 0);
	assert_int_equal(ip, IP4(198, 18, 1, 101));
	assert_int_equal(offer(&f, 1, 9, 0, T0, &ip), -ENOSPC);
	assert_int_equal(offer(&f, 0, 9, 0, T0, &ip), 0);
	assert_true(ip >= IP4(198, 18, 0, 10) && ip <= IP4(198, 18, 0, 19));
	assert_int_equal(offer(&f, 2, 9, 0, T0, &ip), -ENOSPC);
	assert_int_equal(offer(&f, 3, 9, 0, T0, &ip), -EINVAL);
	fx_fini(&f);
}

/* ---- restore, foreach ---- */

struct collect {
	struct lease_info l[64];
	int n;
	int stop_after;
};

static int collect_fn(const struct lease_info *l, void *arg)
{
	struct collect *c = arg;

	if (c->n >= 64)
		return -1;
	c->l[c->n++] = *l;
	return c->stop_after && c->n == c->stop_after ? 42 : 0;
}

static void test_restore(void **state)
{
	struct fx f, g;
	struct collect c = {.n = 0};
	uint32_t ip;
	int b = 0;
	struct lease_info li;
	struct lease_stats st;

	(void)state;
	fx_small(&f);
	fx_resv(&f, 500, IP4(198, 18, 0, 12));
	assert_int_equal(fx_init(&f), 0);
	for (uint32_t m = 1; m <= 4; m++) {
		assert_int_equal(offer(&f, 0, m, 0, T0, &ip), 0);
		if (m != 4)
			assert_int_equal(commit(&f, m, ip, 100 * m, T0), 0);
	}
	assert_int_equal(offer(&f, 0, 500, 0, T0, &ip), 0);
	assert_int_equal(commit(&f, 500, ip, 1000, T0), 0);
	assert_int_equal(lease_foreach(f.p, T0 + 1, collect_fn, &c), 0);
	assert_int_equal(c.n, 5); /* 4 bound + 1 offered */

	/* restart: a fresh pool over the same config */
	g = f;
	g.cfg.subnets = g.subs;
	g.cfg.reservations = g.res;
	assert_int_equal(fx_init(&g), 0);
	for (int i = 0; i < c.n; i++) {
		int rc = lease_restore(g.p, &c.l[i], T0 + 1);
		assert_int_equal(rc, c.l[i].state == LEASE_BOUND ? 0 : -EINVAL);
		if (c.l[i].state == LEASE_BOUND)
			assert_int_equal(lease_restore(g.p, &c.l[i], T0 + 1), 0); /* idempotent */
	}
	check_stats_sum(&g, T0 + 1, &st);
	assert_int_equal(st.bound, 4);
	assert_int_equal(st.offered, 0);
	for (int i = 0; i < c.n; i++) {
		if (c.l[i].state != LEASE_BOUND)
			continue;
		assert_int_equal(lease_find_ip(g.p, c.l[i].ip, T0 + 1, &li), 0);
		assert_int_equal(li.state, LEASE_BOUND);
		assert_memory_equal(li.mac, c.l[i].mac, 6);
		assert_true(li.expires == c.l[i].expires);
		/* the same MAC is offered its lease again */
		assert_int_equal(lease_offer(g.p, 0, c.l[i].mac, 0, T0 + 2, &ip), 0);
		assert_int_equal(ip, c.l[i].ip);
	}
	/* conflicts */
	while (c.l[b].state != LEASE_BOUND)
		b++;
	li = c.l[b];
	li.mac[5] ^= 0x80;
	assert_int_equal(lease_restore(g.p, &li, T0 + 1), -EADDRINUSE); /* ip taken */
	li.state = LEASE_OFFERED;
	assert_int_equal(lease_restore(g.p, &li, T0 + 1), -EINVAL);
	li = c.l[b];
	li.ip = IP4(198, 18, 0, 19);
	assert_int_equal(lease_restore(g.p, &li, T0 + 1), -EADDRINUSE); /* mac bound elsewhere */
	li.ip = IP4(198, 18, 0, 77);
	assert_int_equal(lease_restore(g.p, &li, T0 + 1), -ENOENT);
	li.ip = IP4(198, 18, 0, 12);
	assert_int_equal(lease_restore(g.p, &li, T0 + 1), -EADDRINUSE); /* reserved */
	/* an expired lease only leaves a memory: its MAC gets the address back */
	mk_mac(li.mac, 77);
	li.ip = IP4(198, 18, 0, 19);
	li.state = LEASE_BOUND;
	li.expires = T0;
	assert_int_equal(lease_restore(g.p, &li, T0 + 1), 0);
	assert_int_equal(state_of(&g, li.ip, T0 + 1), LEASE_FREE);
	assert_int_equal(offer(&g, 0, 77, 0, T0 + 2, &ip), 0);
	assert_int_equal(ip, IP4(198, 18, 0, 19));

	/* foreach stops early with fn's value */
	memset(&c, 0, sizeof(c));
	c.stop_after = 2;
	assert_int_equal(lease_foreach(g.p, T0 + 2, collect_fn, &c), 42);
	assert_int_equal(c.n, 2);
	/* and skips what expired */
	memset(&c, 0, sizeof(c));
	assert_int_equal(lease_foreach(g.p, T0 + 250, collect_fn, &c), 0);
	assert_int_equal(c.n, 2); /* MAC 3 (300 s) and 500 (1000 s) */
	fx_fini(&f);
	fx_fini(&g);
}

/* ---- random operations against a reference model ---- */

#define R_MACS	40
#define R_ADDRS 64
#define R_OPS	100000

struct maddr {
	uint32_t ip;
	int sub;
	int resv; /* MAC it is reserved for, or -1 */
	int state;
	int mac; /* current or last owner, -1 = none */
	uint64_t exp;
	bool decl; /* mac DECLINEd it and nobody took it since */
};

struct model {
	struct maddr a[R_ADDRS];
	int n;
	int last[R_MACS][2]; /* address the MAC took last in each subnet */
	uint32_t hold, quarantine;
};

static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state >> 12; /* xorshift64* */
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dULL) >> 32) % n;
}

static void m_init(struct model *m, const struct sbcfg_dhcp *cfg)
{
	memset(m, 0, sizeof(*m));
	m->hold = cfg->offer_hold;
	m->quarantine = cfg->decline_quarantine;
	for (int i = 0; i < R_MACS; i++)
		m->last[i][0] = m->last[i][1] = -1;
	for (size_t s = 0; s < cfg->n_subnets; s++)
		for (uint32_t ip = cfg->subnets[s].pool_start; ip <= cfg->subnets[s].pool_end; ip++)
			m->a[m->n++] = (struct maddr){ip, (int)s, -1, LEASE_FREE, -1, 0, false};
	for (size_t r = 0; r < cfg->n_reservations; r++) {
		const struct sbcfg_reservation *res = &cfg->reservations[r];
		int i, mac = res->mac[5];

		if (!res->ip)
			continue;
		for (i = 0; i < m->n && m->a[i].ip != res->ip; i++)
			;
		if (i == m->n) {
			int s = (res->ip & 0xffffff00u) == cfg->subnets[0].network ? 0 : 1;
			m->a[m->n++] = (struct maddr){res->ip, s, -1, LEASE_FREE, -1, 0, false};
		}
		m->a[i].resv = mac;
		m->a[i].mac = mac;
		m->last[mac][m->a[i].sub] = i;
	}
}

static int m_find(const struct model *m, uint32_t ip)
{
	for (int i = 0; i < m->n; i++)
		if (m->a[i].ip == ip)
			return i;
	return -1;
}

static int m_state(const struct model *m, int i, uint64_t now)
{
	return m->a[i].state != LEASE_FREE && m->a[i].exp <= now ? LEASE_FREE : m->a[i].state;
}

static bool m_busy(const struct model *m, int i, uint64_t now)
{
	return m_state(m, i, now) != LEASE_FREE;
}

static bool m_held(const struct model *m, int i, uint64_t now)
{
	int st = m_state(m, i, now);
	return st == LEASE_OFFERED || st == LEASE_BOUND;
}

static int m_held_by(const struct model *m, int mac, int sub, uint64_t now)
{
	int found = -1;

	for (int i = 0; i < m->n; i++)
		if (m->a[i].sub == sub && m->a[i].mac == mac && m_held(m, i, now)) {
			assert_int_equal(found, -1); /* one address per MAC and subnet */
			found = i;
		}
	return found;
}

static int m_usable_resv(const struct model *m, int mac, int sub, uint64_t now)
{
	for (int i = 0; i < m->n; i++)
		if (m->a[i].sub == sub && m->a[i].resv == mac)
			return m_state(m, i, now) == LEASE_DECLINED || m->a[i].decl ? -1 : i;
	return -1;
}

static int m_resv(const struct model *m, int mac, int sub)
{
	for (int i = 0; i < m->n; i++)
		if (m->a[i].sub == sub && m->a[i].resv == mac)
			return i;
	return -1;
}

/* The address mac declined last in sub, if it took none there since: not offered to it. */
static int m_declined(const struct model *m, int mac, int sub)
{
	int l = m->last[mac][sub];

	return l >= 0 && m->a[l].decl && m->a[l].mac == mac ? l : -1;
}

static void m_take(struct model *m, int i, int mac, int st, uint64_t exp)
{
	m->a[i].state = st;
	m->a[i].mac = mac;
	m->a[i].exp = exp;
	m->a[i].decl = false;
	m->last[mac][m->a[i].sub] = i;
}

static void r_offer(struct model *m, struct lease_pool *p, int sub, int mac, uint32_t req,
		    uint64_t now)
{
	uint8_t mb[6];
	uint32_t ip = 0;
	int rc, cur, want = -1, q, l, dcl;

	mk_mac(mb, (uint32_t)mac);
	rc = lease_offer(p, (uint16_t)sub, mb, req, now, &ip);
	cur = m_held_by(m, mac, sub, now);
	dcl = m_declined(m, mac, sub);
	want = m_usable_resv(m, mac, sub, now);
	if (want < 0)
		want = cur;
	if (want >= 0) {
		assert_int_equal(rc, 0);
		assert_int_equal(ip, m->a[want].ip);
		if (want == cur) {
			if (m->a[cur].state == LEASE_OFFERED)
				m->a[cur].exp = now + m->hold;
		} else {
			m_take(m, want, mac, LEASE_OFFERED, now + m->hold);
			if (cur >= 0)
				m->a[cur].state = LEASE_FREE;
		}
		return;
	}
	q = m_find(m, req);
	l = m->last[mac][sub];
	if (q >= 0 && q != dcl && m->a[q].sub == sub && m->a[q].resv < 0 && !m_busy(m, q, now))
		want = q;
	else if (l >= 0 && l != dcl && m->a[l].mac == mac && m->a[l].resv < 0 && !m_busy(m, l, now))
		want = l;
	if (want < 0) {
		bool any = false;

		for (int i = 0; i < m->n; i++)
			any |= i != dcl && m->a[i].sub == sub && m->a[i].resv < 0 &&
			       !m_busy(m, i, now);
		if (!any) {
			assert_int_equal(rc, -ENOSPC);
			return;
		}
		assert_int_equal(rc, 0);
		want = m_find(m, ip);
		assert_true(want >= 0);
		assert_int_equal(m->a[want].sub, sub);
		assert_int_equal(m->a[want].resv, -1);
		assert_false(m_busy(m, want, now));
		assert_int_not_equal(want, dcl);
	} else {
		assert_int_equal(rc, 0);
		assert_int_equal(ip, m->a[want].ip);
	}
	m_take(m, want, mac, LEASE_OFFERED, now + m->hold);
}

static int m_commit(struct model *m, int mac, uint32_t ip, uint32_t lt, uint64_t now)
{
	int i = m_find(m, ip), cur, r;

	if (i < 0)
		return -ENOENT;
	if (m->a[i].resv >= 0 && m->a[i].resv != mac)
		return -EADDRINUSE;
	if (m_busy(m, i, now) && !(m_held(m, i, now) && m->a[i].mac == mac))
		return -EADDRINUSE;
	r = m_usable_resv(m, mac, m->a[i].sub, now);
	if (r >= 0 && r != i)
		return -EADDRINUSE;
	cur = m_held_by(m, mac, m->a[i].sub, now);
	m_take(m, i, mac, LEASE_BOUND, now + lt);
	if (cur >= 0 && cur != i)
		m->a[cur].state = LEASE_FREE;
	r = m_resv(m, mac, m->a[i].sub);
	if (r >= 0 && r != i)
		m->a[r].decl = false;
	return 0;
}

/* release (decline = false) or decline */
static int m_give_back(struct model *m, int mac, uint32_t ip, uint64_t now, bool decl)
{
	int i = m_find(m, ip);

	if (i < 0 || !m_held(m, i, now))
		return -ENOENT;
	if (m->a[i].mac != mac)
		return -EADDRINUSE;
	if (decl) {
		m->a[i].state = LEASE_DECLINED;
		m->a[i].exp = now + m->quarantine;
		m->a[i].decl = true;
	} else {
		m->a[i].state = LEASE_FREE;
	}
	return 0;
}

static int m_restore(struct model *m, const struct lease_info *l, uint64_t now)
{
	int i = m_find(m, l->ip), mac = l->mac[5], r, cur;

	assert_true(l->expires > now);
	if (i < 0)
		return -ENOENT;
	if (m->a[i].resv >= 0 && m->a[i].resv != mac)
		return -EADDRINUSE;
	if (m_busy(m, i, now) && !(m_held(m, i, now) && m->a[i].mac == mac))
		return -EADDRINUSE;
	cur = m_held_by(m, mac, m->a[i].sub, now);
	if (cur >= 0 && cur != i)
		return -EADDRINUSE;
	r = m_usable_resv(m, mac, m->a[i].sub, now);
	if (r >= 0 && r != i)
		return -EADDRINUSE;
	m_take(m, i, mac, LEASE_BOUND, l->expires);
	return 0;
}

struct r_visit {
	const struct model *m;
	uint64_t now;
	int n;
};

static int r_visit_fn(const struct lease_info *l, void *arg)
{
	struct r_visit *v = arg;
	int i = m_find(v->m, l->ip);

	assert_true(i >= 0);
	assert_int_equal(l->state, m_state(v->m, i, v->now));
	assert_true(l->state != LEASE_FREE);
	assert_int_equal(l->mac[5], v->m->a[i].mac);
	assert_true(l->expires == v->m->a[i].exp);
	v->n++;
	return 0;
}

/* Everything the pool says matches the model. */
static void r_check(const struct model *m, struct lease_pool *p, uint64_t now)
{
	struct lease_stats st, want = {0};
	struct lease_info li;
	struct r_visit v = {m, now, 0};
	uint8_t mb[6];

	for (int i = 0; i < m->n; i++) {
		int s = m_state(m, i, now);

		assert_int_equal(lease_find_ip(p, m->a[i].ip, now, &li), 0);
		assert_int_equal(li.state, s);
		assert_int_equal(li.subnet, m->a[i].sub);
		if (m->a[i].mac >= 0) {
			mk_mac(mb, (uint32_t)m->a[i].mac);
			assert_memory_equal(li.mac, mb, 6);
		} else {
			memset(mb, 0, 6);
			assert_memory_equal(li.mac, mb, 6);
		}
		if (s != LEASE_FREE)
			assert_true(li.expires == m->a[i].exp);
		want.total++;
		if (s == LEASE_FREE && m->a[i].resv >= 0)
			want.reserved++;
		else if (s == LEASE_FREE)
			want.free++;
		else if (s == LEASE_OFFERED)
			want.offered++;
		else if (s == LEASE_BOUND)
			want.bound++;
		else
			want.declined++;
	}
	lease_pool_stats(p, now, &st);
	assert_memory_equal(&st, &want, sizeof(st));
	assert_int_equal(lease_foreach(p, now, r_visit_fn, &v), 0);
	assert_int_equal(v.n, (int)(want.offered + want.bound + want.declined));
	for (int mac = 0; mac < R_MACS; mac++) {
		int h = m_held_by(m, mac, 0, now);
		int rc;

		if (h < 0)
			h = m_held_by(m, mac, 1, now);
		mk_mac(mb, (uint32_t)mac);
		rc = lease_find_mac(p, mb, now, &li);
		if (h < 0) {
			assert_int_equal(rc, -ENOENT);
		} else {
			assert_int_equal(rc, 0);
			assert_int_equal(li.ip, m->a[h].ip);
		}
	}
}

static int r_collect_bound(const struct lease_info *l, void *arg)
{
	struct collect *c = arg;

	if (l->state == LEASE_BOUND)
		c->l[c->n++] = *l;
	return 0;
}

static void random_run(uint32_t quarantine)
{
	static const uint32_t stray[] = {IP4(198, 18, 0, 9), IP4(198, 18, 0, 30),
					 IP4(198, 18, 1, 99), IP4(198, 18, 2, 1), 0};
	struct fx f;
	struct model m;
	uint64_t now = T0;
	uint32_t n_ops[6] = {0}, n_ok = 0;

	memset(&f, 0, sizeof(f));
	fx_cfg(&f);
	f.cfg.decline_quarantine = quarantine;
	fx_subnet(&f, IP4(198, 18, 0, 0), IP4(255, 255, 255, 0), IP4(198, 18, 0, 10),
		  IP4(198, 18, 0, 29));
	fx_subnet(&f, IP4(198, 18, 1, 0), IP4(255, 255, 255, 0), IP4(198, 18, 1, 100),
		  IP4(198, 18, 1, 111));
	fx_resv(&f, 0, IP4(198, 18, 0, 15));  /* inside pool 0 */
	fx_resv(&f, 1, IP4(198, 18, 0, 200)); /* outside pool 0 */
	fx_resv(&f, 0, IP4(198, 18, 1, 50));  /* same MAC, outside pool 1 */
	fx_resv(&f, 2, IP4(198, 18, 1, 105)); /* inside pool 1 */
	fx_resv(&f, 3, 0);		      /* boot information only */
	assert_int_equal(fx_init(&f), 0);
	m_init(&m, &f.cfg);
	assert_int_equal(m.n, 34);
	rng_state = 0x5eed1ea5e5eed1ULL;

	for (int op = 0; op < R_OPS; op++) {
		int mac = (int)rnd(R_MACS), sub = (int)rnd(2), kind = (int)rnd(100), cur;
		uint32_t ip;
		uint8_t mb[6];
		int rc, want;

		mk_mac(mb, (uint32_t)mac);
		now += rnd(3);
		if (rnd(2000) == 0)
			now += 100; /* everything expires */
		/* an address: the MAC's own, a random one of ours, or a stray one */
		cur = m_held_by(&m, mac, sub, now);
		if (cur >= 0 && rnd(3) != 0)
			ip = m.a[cur].ip;
		else if (rnd(8) != 0)
			ip = m.a[rnd((uint32_t)m.n)].ip;
		else
			ip = stray[rnd(5)];

		if (op % 20000 == 19999 || (kind >= 95 && rnd(5000) == 0)) {
			/* restart: restore the bound leases into a fresh pool */
			struct collect *c = calloc(1, sizeof(*c));

			assert_non_null(c);
			assert_int_equal(lease_foreach(f.p, now, r_collect_bound, c), 0);
			fx_fini(&f);
			assert_int_equal(fx_init(&f), 0);
			m_init(&m, &f.cfg);
			for (int i = 0; i < c->n; i++)
				assert_int_equal(lease_restore(f.p, &c->l[i], now),
						 m_restore(&m, &c->l[i], now));
			free(c);
			n_ops[5]++;
		} else if (kind < 40) {
			r_offer(&m, f.p, sub, mac, rnd(3) == 0 ? ip : 0, now);
			n_ops[0]++;
		} else if (kind < 70) {
			uint32_t lt = 1 + rnd(60);
			want = m_commit(&m, mac, ip, lt, now);
			rc = commit(&f, (uint32_t)mac, ip, lt, now);
			assert_int_equal(rc, want);
			n_ok += rc == 0;
			n_ops[1]++;
		} else if (kind < 82) {
			want = m_give_back(&m, mac, ip, now, false);
			assert_int_equal(lease_release(f.p, mb, ip, now), want);
			n_ops[2]++;
		} else if (kind < 87) {
			want = m_give_back(&m, mac, ip, now, true);
			assert_int_equal(lease_decline(f.p, mb, ip, now), want);
			n_ops[3]++;
		} else if (kind < 95) {
			struct lease_info li;
			rc = lease_find_ip(f.p, ip, now, &li);
			assert_int_equal(rc, m_find(&m, ip) >= 0 ? 0 : -ENOENT);
			n_ops[4]++;
		}
		if (op % 16 == 0)
			r_check(&m, f.p, now);
	}
	r_check(&m, f.p, now);
	/* the mix really exercised every path */
	for (int i = 0; i < 6; i++)
		assert_true(n_ops[i] > 0);
	assert_true(n_ok > 1000);
	fx_fini(&f);
}

/* With a quarantine, and with none (a declined address is free at once, not for its decliner). */
static void test_random_model(void **state)
{
	(void)state;
	random_run(QUARANTINE);
	random_run(0);
}

/*
 * lease_prefer: two servers preferring complementary halves of the segments hand out
 * disjoint addresses until their own run out; then each takes the other's. Every address of
 * a /22-sized pool is still handed out exactly once per server.
 */
static void test_prefer(void **state)
{
	uint64_t even[4], odd[4];
	struct fx a, b;
	uint32_t ip, size = 1024;
	uint8_t *seen_a = calloc(size, 1), *seen_b = calloc(size, 1);

	(void)state;
	assert_non_null(seen_a);
	assert_non_null(seen_b);
	for (int i = 0; i < 4; i++) {
		even[i] = 0x5555555555555555ull; /* segments 0, 2, 4, ... */
		odd[i] = ~even[i];
	}
	memset(&a, 0, sizeof(a));
	fx_cfg(&a);
	fx_subnet(&a, IP4(198, 18, 0, 0), IP4(255, 255, 248, 0), IP4(198, 18, 1, 0),
		  IP4(198, 18, 4, 255));
	b = a;
	b.cfg.subnets = b.subs;
	b.cfg.reservations = b.res;
	assert_int_equal(fx_init(&a), 0);
	assert_int_equal(fx_init(&b), 0);
	lease_prefer(a.p, even);
	lease_prefer(b.p, odd);
	/* the first half of each: its own segments (4 addresses each), never the other's */
	for (uint32_t m = 0; m < size / 2; m++) {
		assert_int_equal(offer(&a, 0, m, 0, T0, &ip), 0);
		assert_int_equal(((ip - IP4(198, 18, 1, 0)) / 4) % 2, 0);
		seen_a[ip - IP4(198, 18, 1, 0)]++;
		assert_int_equal(offer(&b, 0, 100000 + m, 0, T0, &ip), 0);
		assert_int_equal(((ip - IP4(198, 18, 1, 0)) / 4) % 2, 1);
		seen_b[ip - IP4(198, 18, 1, 0)]++;
	}
	/* then the rest, once each */
	for (uint32_t m = size / 2; m < size; m++) {
		assert_int_equal(offer(&a, 0, m, 0, T0, &ip), 0);
		seen_a[ip - IP4(198, 18, 1, 0)]++;
	}
	for (uint32_t k = 0; k < size; k++)
		assert_int_equal(seen_a[k], 1);
	assert_int_equal(offer(&a, 0, size + 5, 0, T0, &ip), -ENOSPC);
	/* an empty map keeps the order (nothing preferred), a full one too */
	uint64_t none[4] = {0};
	lease_prefer(b.p, none);
	assert_int_equal(offer(&b, 0, 200000, 0, T0, &ip), 0);
	free(seen_a);
	free(seen_b);
	fx_fini(&a);
	fx_fini(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_configs),
		cmocka_unit_test(test_bad_memory),
		cmocka_unit_test(test_exhaustion),
		cmocka_unit_test(test_prefer),
		cmocka_unit_test(test_same_mac_after_release),
		cmocka_unit_test(test_same_mac_after_expiry),
		cmocka_unit_test(test_current_lease_first),
		cmocka_unit_test(test_requested),
		cmocka_unit_test(test_offer_hold_expiry),
		cmocka_unit_test(test_decline_quarantine),
		cmocka_unit_test(test_decline_not_offered_back),
		cmocka_unit_test(test_reservations),
		cmocka_unit_test(test_commit),
		cmocka_unit_test(test_one_address_per_subnet),
		cmocka_unit_test(test_multiple_subnets),
		cmocka_unit_test(test_restore),
		cmocka_unit_test(test_offer_reuse),
		cmocka_unit_test(test_offer_reuse_flood),
		cmocka_unit_test(test_offer_held_without_reuse),
		cmocka_unit_test(test_random_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
