/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dhcp_lb_test.c - RFC 3074 load balancing: the hash against known values and its spread,
 * which messages are balanced, and the decision on built messages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dhcp_lb.h"

/* A BOOTREQUEST of type t from mac; server_id and ciaddr when not 0. Returns its length. */
static size_t build(uint8_t *b, uint8_t t, const uint8_t mac[6], uint32_t server_id,
		    uint32_t ciaddr)
{
	size_t n = 240;

	memset(b, 0, 300);
	b[0] = 1; /* BOOTREQUEST */
	b[1] = 1;
	b[2] = 6;
	b[12] = ciaddr >> 24;
	b[13] = ciaddr >> 16;
	b[14] = ciaddr >> 8;
	b[15] = ciaddr;
	memcpy(b + 28, mac, 6);
	memcpy(b + 236, "\x63\x82\x53\x63", 4);
	b[n++] = 53;
	b[n++] = 1;
	b[n++] = t;
	if (server_id) {
		b[n++] = 54;
		b[n++] = 4;
		b[n++] = server_id >> 24;
		b[n++] = server_id >> 16;
		b[n++] = server_id >> 8;
		b[n++] = server_id;
	}
	b[n++] = 255;
	return n;
}

static void test_hash(void **state)
{
	/* RFC 3074: hash starts at the key's length; an empty key hashes to 0's entry... */
	assert_int_equal(dhcp_lb_hash(NULL, 0), 0);
	/* one byte 0: tbl[1 ^ 0] = 175 */
	assert_int_equal(dhcp_lb_hash((const uint8_t *)"\0", 1), 175);
	/* two bytes 0,0: tbl[tbl[2] ^ 0] = tbl[119] = 150 */
	assert_int_equal(dhcp_lb_hash((const uint8_t *)"\0\0", 2), 150);
	/* spread: 65536 sequential MACs fill every bucket, none with more than twice its share */
	unsigned cnt[256] = {0};
	for (unsigned i = 0; i < 65536; i++) {
		uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, (uint8_t)(i >> 8), (uint8_t)i};
		cnt[dhcp_lb_bucket(mac)]++;
	}
	for (int b = 0; b < 256; b++) {
		assert_true(cnt[b] > 0);
		assert_true(cnt[b] < 2 * 256);
	}
}

static void test_balanced(void **state)
{
	const uint8_t mac[6] = {0x52, 0x54, 0, 0, 0, 1};
	uint8_t b[300];
	struct dhcp_msg m;

	assert_int_equal(dhcp_parse(b, build(b, DHCP_DISCOVER, mac, 0, 0), &m), 0);
	assert_true(dhcp_lb_balanced(&m, true));
	assert_true(dhcp_lb_balanced(&m, false)); /* relayed */
	/* SELECTING: names its server */
	assert_int_equal(dhcp_parse(b, build(b, DHCP_REQUEST, mac, 0xc6120001, 0), &m), 0);
	assert_false(dhcp_lb_balanced(&m, true));
	/* INIT-REBOOT */
	assert_int_equal(dhcp_parse(b, build(b, DHCP_REQUEST, mac, 0, 0), &m), 0);
	assert_true(dhcp_lb_balanced(&m, true));
	/* RENEWING: unicast, ciaddr set */
	assert_int_equal(dhcp_parse(b, build(b, DHCP_REQUEST, mac, 0, 0xc6120064), &m), 0);
	assert_false(dhcp_lb_balanced(&m, false));
	/* REBINDING: broadcast, ciaddr set */
	assert_true(dhcp_lb_balanced(&m, true));
	assert_int_equal(dhcp_parse(b, build(b, DHCP_RELEASE, mac, 0xc6120001, 0xc6120064), &m), 0);
	assert_false(dhcp_lb_balanced(&m, true));
	assert_int_equal(dhcp_parse(b, build(b, DHCP_INFORM, mac, 0, 0xc6120064), &m), 0);
	assert_false(dhcp_lb_balanced(&m, true));
}

static void test_should_answer(void **state)
{
	uint64_t none[DHCP_LB_WORDS] = {0}, all[DHCP_LB_WORDS], one[DHCP_LB_WORDS] = {0};
	uint8_t mac[6] = {0x52, 0x54, 0, 0, 0, 7}, b[300];
	uint8_t bucket = dhcp_lb_bucket(mac);
	size_t n;

	memset(all, 0xff, sizeof(all));
	one[bucket >> 6] = 1ull << (bucket & 63);
	n = build(b, DHCP_DISCOVER, mac, 0, 0);
	assert_false(dhcp_lb_should_answer(b, n, true, none));
	assert_true(dhcp_lb_should_answer(b, n, true, all));
	assert_true(dhcp_lb_should_answer(b, n, true, one));
	mac[5] ^= 1; /* another client: another bucket? find one that differs */
	for (int i = 0; dhcp_lb_bucket(mac) == bucket && i < 255; i++)
		mac[4]++;
	n = build(b, DHCP_DISCOVER, mac, 0, 0);
	assert_false(dhcp_lb_should_answer(b, n, true, one));
	/* not balanced: answered whatever the map */
	n = build(b, DHCP_REQUEST, mac, 0xc6120001, 0);
	assert_true(dhcp_lb_should_answer(b, n, true, none));
	/* garbage and every truncated prefix: left to the server's parser (and its counter) */
	n = build(b, DHCP_DISCOVER, mac, 0, 0);
	for (size_t k = 0; k < n - 1; k++)
		assert_true(dhcp_lb_should_answer(b, k, true, none) ||
			    dhcp_parse(b, k, &(struct dhcp_msg){0}) == 0);
}

/* Each of N servers owning a share: every bucket has exactly one owner. */
int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash),
		cmocka_unit_test(test_balanced),
		cmocka_unit_test(test_should_answer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
