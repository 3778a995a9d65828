/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tftp_table_test.c - one lcore's TFTP session table on a real rte_hash and rte_timer: the
 * per-client cap (tftp.max_sessions_per_client) and the session cap, the reason given for a
 * refusal, counts going back down as sessions close, the cap changed at run time (a reload),
 * transfer ports in a drawn order and reused least recently used first.
 *
 * The EAL runs without hugepages (--no-huge --in-memory --no-pci): no root needed. Where the
 * EAL cannot start at all the test is skipped (exit 77), saying why.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_memory.h>
#include <rte_timer.h>

#include "tftp_table.h"

int eng_logtype; /* log.h: main.c registers it in the dataplane */

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (b) << 16 | (c) << 8 | (d))
#define LO	       61000
#define HI	       61999

static struct eng_image *image(void)
{
	static struct eng_image *img;

	if (img == NULL) {
		img = calloc(1, sizeof(*img) + 1);
		img->refs = 1; /* the snapshot's */
	}
	return img;
}

static void test_client_cap(void **state)
{
	const uint32_t a = IP(198, 18, 0, 10), b = IP(198, 18, 0, 11);
	struct eng_sess *s[8], *x;
	struct tftp_table t;

	assert_int_equal(tftp_table_create(&t, 0, SOCKET_ID_ANY, 16, LO, HI, 1, 3), 0);
	for (int i = 0; i < 3; i++) {
		s[i] = tftp_table_open(&t, a, (uint16_t)(40000 + i), image());
		assert_non_null(s[i]);
	}
	assert_int_equal(tftp_table_client_sessions(&t, a), 3);
	/* a fourth from a new source port of the same address waits, for its own reason */
	assert_null(tftp_table_open(&t, a, 40003, image()));
	assert_int_equal(t.refused, ENG_DROP_RRQ_CLIENT_CAP);
	assert_int_equal(t.client_capped, 1);
	assert_int_equal(t.n_active, 3);
	assert_null(tftp_table_by_client(&t, a, 40003));
	/* another address is not held back by a's sessions */
	s[3] = tftp_table_open(&t, b, 40000, image());
	assert_non_null(s[3]);
	assert_int_equal(tftp_table_client_sessions(&t, b), 1);
	/* one of a's sessions ends: a may open one more, and only one */
	tftp_table_close(&t, s[1]);
	assert_int_equal(tftp_table_client_sessions(&t, a), 2);
	s[1] = tftp_table_open(&t, a, 40003, image());
	assert_non_null(s[1]);
	assert_null(tftp_table_open(&t, a, 40004, image()));
	assert_int_equal(t.client_capped, 2);
	/* the cap raised (a reload): a goes on; 0 = no cap */
	t.client_cap = 4;
	s[4] = tftp_table_open(&t, a, 40004, image());
	assert_non_null(s[4]);
	t.client_cap = 0;
	s[5] = tftp_table_open(&t, a, 40005, image());
	assert_non_null(s[5]);
	assert_int_equal(tftp_table_client_sessions(&t, a), 5);
	/* all closed: no client left in the count */
	tftp_table_close(&t, s[0]);
	tftp_table_close(&t, s[1]);
	tftp_table_close(&t, s[2]);
	tftp_table_close(&t, s[3]);
	tftp_table_close(&t, s[4]);
	tftp_table_close(&t, s[5]);
	tftp_table_close(&t, s[5]); /* twice: no effect */
	assert_int_equal(tftp_table_client_sessions(&t, a), 0);
	assert_int_equal(tftp_table_client_sessions(&t, b), 0);
	assert_int_equal(t.n_active, 0);
	assert_int_equal(image()->refs, 1); /* every reference dropped */
	/* the cap lowered below what a client has: nothing closes, nothing new opens */
	t.client_cap = 2;
	for (int i = 0; i < 2; i++)
		s[i] = tftp_table_open(&t, a, (uint16_t)(41000 + i), image());
	t.client_cap = 1;
	x = tftp_table_open(&t, a, 41002, image());
	assert_null(x);
	assert_int_equal(tftp_table_client_sessions(&t, a), 2);
	tftp_table_destroy(&t);
	assert_int_equal(image()->refs, 1);
}

static void test_table_full(void **state)
{
	struct eng_sess *s[4];
	struct tftp_table t;

	/* 4 sessions, 8 per client: the table fills first; the reason says so */
	assert_int_equal(tftp_table_create(&t, 0, SOCKET_ID_ANY, 4, LO, HI, 2, 8), 0);
	for (int i = 0; i < 4; i++) {
		s[i] = tftp_table_open(&t, IP(198, 18, 0, (uint32_t)(10 + i)), 40000, image());
		assert_non_null(s[i]);
	}
	assert_null(tftp_table_open(&t, IP(198, 18, 0, 20), 40000, image()));
	assert_int_equal(t.refused, ENG_DROP_RRQ_PACED);
	assert_int_equal(t.client_capped, 0);
	tftp_table_close(&t, s[2]);
	assert_non_null(tftp_table_open(&t, IP(198, 18, 0, 20), 40000, image()));
	/* a client at its cap in a full table: its own cap is the reason */
	t.client_cap = 1;
	assert_null(tftp_table_open(&t, IP(198, 18, 0, 10), 40001, image()));
	assert_int_equal(t.refused, ENG_DROP_RRQ_CLIENT_CAP);
	tftp_table_destroy(&t);
}

static void test_ports(void **state)
{
	struct eng_sess *s[16];
	struct tftp_table t, u;
	uint16_t ports[16], first;
	int in_sequence = 0;

	assert_int_equal(tftp_table_create(&t, 0, SOCKET_ID_ANY, 16, LO, HI, 3, 0), 0);
	for (int i = 0; i < 16; i++) {
		s[i] = tftp_table_open(&t, IP(198, 18, 0, 10), (uint16_t)(40000 + i), image());
		assert_non_null(s[i]);
		ports[i] = s[i]->key.server_port;
		assert_true(ports[i] >= LO && ports[i] <= HI);
		assert_ptr_equal(tftp_table_by_port(&t, ports[i]), s[i]);
		in_sequence += i > 0 && ports[i] == ports[i - 1] + 1;
	}
	print_message("ports of 16 sessions: %u %u %u %u ... (%d right after the one before)\n",
		      ports[0], ports[1], ports[2], ports[3], in_sequence);
	assert_true(in_sequence < 3);
	/* another lcore's seed: another order */
	assert_int_equal(tftp_table_create(&u, 1, SOCKET_ID_ANY, 16, LO, HI, 4, 0), 0);
	first = tftp_table_open(&u, IP(198, 18, 0, 10), 40000, image())->key.server_port;
	assert_true(first != ports[0] || u.ports.v[1] != t.ports.v[1]);
	tftp_table_destroy(&u);
	/* a port that was given back comes again only after the 984 free ones */
	tftp_table_close(&t, s[5]);
	for (int i = 0; i < (HI - LO + 1) - 16; i++) {
		struct eng_sess *n = tftp_table_open(&t, IP(198, 18, 1, 1), (uint16_t)i, image());

		assert_non_null(n); /* no cap: 0 */
		assert_int_not_equal(n->key.server_port, ports[5]);
		tftp_table_close(&t, n); /* given back behind ports[5] */
	}
	assert_int_equal(tftp_ports_peek(&t.ports), ports[5]);
	tftp_table_destroy(&t);
}

int main(int argc, char **argv)
{
	char *eal[] = {argv[0],
		       "--no-huge",
		       "-m",
		       "64",
		       "--no-pci",
		       "--no-shconf",
		       "--no-telemetry",
		       "-l",
		       "0",
		       "--log-level=lib.eal:error",
		       "--file-prefix=sb_tftp_table_test",
		       NULL};
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_client_cap),
		cmocka_unit_test(test_table_full),
		cmocka_unit_test(test_ports),
	};
	char dir[PATH_MAX];
	int rc;

	(void)argc;
	if (rte_eal_init((int)(sizeof(eal) / sizeof(eal[0])) - 1, eal) < 0) {
		fprintf(stderr, "tftp_table_test: skipped: EAL without hugepages: %s\n",
			rte_strerror(rte_errno));
		return 77;
	}
	rte_timer_subsystem_init();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	snprintf(dir, sizeof(dir), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	(void)rmdir(dir); /* empty with --no-shconf */
	return rc;
}
