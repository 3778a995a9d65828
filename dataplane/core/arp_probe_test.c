/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * arp_probe_test.c - the probe table driven by `now` (pending, answered, expired, full), the
 * probe frame (RFC 5227 2.1.1) byte by byte, and replies as Linux sends them to a probe
 * (net/ipv4/arp.c: a reply to sender IP 0.0.0.0), with every truncated prefix.
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

#include "arp_probe.h"
#include "pkt.h"
#include "sb_drop.h"

static const uint8_t our_mac[6] = {0x02, 0x5b, 0x00, 0x00, 0x00, 0x01};
static const uint8_t client[6] = {0x52, 0x54, 0x00, 0x00, 0x00, 0x0a};
static const uint8_t client2[6] = {0x52, 0x54, 0x00, 0x00, 0x00, 0x0b};
static const uint8_t squatter[6] = {0x0e, 0x00, 0x00, 0x00, 0x00, 0x99};
#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (b) << 16 | (c) << 8 | (d))

static void test_table_expiry(void **state)
{
	struct probe_slot slots[4];
	struct probe_table t;
	int a, b;

	(void)state;
	probe_table_init(&t, slots, 4);
	assert_int_equal(probe_expired(&t, 1000), -ENOENT);
	a = probe_start(&t, 4, IP(198, 18, 0, 100), client, 1, 1000, 200);
	assert_true(a >= 0);
	b = probe_start(&t, 4, IP(198, 18, 0, 101), client2, 1, 1050, 200);
	assert_true(b >= 0 && b != a);
	assert_int_equal(t.n, 2);
	assert_int_equal(t.next_deadline, 1200);
	/* Nothing is due before its timeout. */
	assert_int_equal(probe_expired(&t, 1199), -ENOENT);
	assert_int_equal(probe_expired(&t, 1200), a);
	probe_finish(&t, a);
	assert_int_equal(t.next_deadline, 1250);
	assert_int_equal(probe_expired(&t, 1249), -ENOENT);
	assert_int_equal(probe_expired(&t, 5000), b);
	probe_finish(&t, b);
	assert_int_equal(t.n, 0);
	assert_int_equal(t.next_deadline, PROBE_NONE);
	probe_finish(&t, b); /* twice: nothing */
	probe_finish(&t, -1);
	assert_int_equal(t.n, 0);
}

static void test_table_bounded(void **state)
{
	struct probe_slot slots[3];
	struct probe_table t;

	(void)state;
	probe_table_init(&t, slots, 3);
	/* The config's limit below the table's size. */
	assert_true(probe_start(&t, 2, IP(198, 18, 0, 100), client, 1, 0, 100) >= 0);
	assert_true(probe_start(&t, 2, IP(198, 18, 0, 101), client2, 1, 0, 100) >= 0);
	assert_int_equal(probe_start(&t, 2, IP(198, 18, 0, 102), squatter, 1, 0, 100), -ENOSPC);
	/* A limit above the table's size is the table's size. */
	assert_true(probe_start(&t, 100, IP(198, 18, 0, 102), squatter, 1, 0, 100) >= 0);
	assert_int_equal(probe_start(&t, 100, IP(198, 18, 0, 103), squatter, 1, 0, 100), -ENOSPC);
	/* A slot freed is taken again. */
	probe_finish(&t, 1);
	assert_int_equal(probe_start(&t, 100, IP(198, 18, 0, 103), squatter, 1, 0, 100), 1);
	/* Bad arguments. */
	probe_finish(&t, 1);
	assert_int_equal(probe_start(&t, 3, 0, client, 1, 0, 100), -EINVAL);
	assert_int_equal(probe_start(&t, 3, IP(198, 18, 0, 9), client, 0, 0, 100), -EINVAL);
	assert_int_equal(
		probe_start(&t, 3, IP(198, 18, 0, 9), client, PROBE_ATTEMPTS_MAX + 1, 0, 100),
		-EINVAL);
	assert_int_equal(probe_start(&t, 3, IP(198, 18, 0, 9), client, PROBE_ATTEMPTS_MAX, 0, 100),
			 1);
	assert_int_equal(slots[1].attempt, PROBE_ATTEMPTS_MAX);
}

static void test_table_match(void **state)
{
	struct probe_slot slots[8];
	struct probe_table t;
	int a, b;

	(void)state;
	probe_table_init(&t, slots, 8);
	a = probe_start(&t, 8, IP(198, 18, 0, 100), client, 1, 0, 100);
	b = probe_start(&t, 8, IP(198, 18, 0, 101), client2, 2, 0, 100);
	assert_int_equal(probe_find_mac(&t, client), a);
	assert_int_equal(probe_find_mac(&t, client2), b);
	assert_int_equal(probe_find_mac(&t, squatter), -ENOENT);
	/* Someone else answers for .101: a conflict on b. */
	assert_int_equal(probe_match_reply(&t, IP(198, 18, 0, 101), squatter), b);
	/* The client itself answers for the address it is offered: no conflict. */
	assert_int_equal(probe_match_reply(&t, IP(198, 18, 0, 100), client), -EALREADY);
	/* An address nobody probes, and 0.0.0.0 (another prober). */
	assert_int_equal(probe_match_reply(&t, IP(198, 18, 0, 102), squatter), -ENOENT);
	assert_int_equal(probe_match_reply(&t, 0, squatter), -ENOENT);
	probe_finish(&t, b);
	assert_int_equal(probe_match_reply(&t, IP(198, 18, 0, 101), squatter), -ENOENT);
	assert_int_equal(probe_find_mac(&t, client2), -ENOENT);
}

/* The probe, byte by byte (RFC 826 layout, RFC 5227 2.1.1 contents). */
static void test_build_request(void **state)
{
	static const uint16_t tags[2] = {0x0064, 0x2005};
	uint8_t f[128];
	int n;

	(void)state;
	n = probe_build_request(f, sizeof(f), our_mac, NULL, 0, IP(198, 18, 0, 100));
	assert_int_equal(n, 60); /* 42 padded to the Ethernet minimum */
	static const uint8_t want[42] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x5b, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06,
		0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x02, 0x5b, 0x00, 0x00, 0x00, 0x01,
		0,    0,    0,	  0,	0,    0,    0,	  0,	0,    0,    198,  18,	0,    100};
	assert_memory_equal(f, want, sizeof(want));
	for (int i = 42; i < 60; i++)
		assert_int_equal(f[i], 0);
	/* Inside the client's VLAN tags (802.1ad outer, 802.1Q inner). */
	n = probe_build_request(f, sizeof(f), our_mac, tags, 2, IP(198, 18, 0, 100));
	assert_int_equal(n, 60);
	assert_int_equal(pkt_rd16(f + 12), PKT_ETHERTYPE_QINQ);
	assert_int_equal(pkt_rd16(f + 14), 0x0064);
	assert_int_equal(pkt_rd16(f + 16), PKT_ETHERTYPE_VLAN);
	assert_int_equal(pkt_rd16(f + 18), 0x2005);
	assert_int_equal(pkt_rd16(f + 20), PKT_ETHERTYPE_ARP);
	assert_memory_equal(f + 22, want + 14, 28);
	n = probe_build_request(f, sizeof(f), our_mac, tags, 1, IP(198, 18, 0, 100));
	assert_int_equal(pkt_rd16(f + 12), PKT_ETHERTYPE_VLAN);
	assert_int_equal(pkt_rd16(f + 16), PKT_ETHERTYPE_ARP);
	/* No room, too many tags. */
	assert_int_equal(probe_build_request(f, 59, our_mac, NULL, 0, 1), -SB_DROP_TX_NO_ROOM);
	assert_int_equal(probe_build_request(f, sizeof(f), our_mac, tags, 3, 1),
			 -SB_DROP_VLAN_DEPTH);
}

/* Linux's answer to a probe (arp_process, sip == 0: a reply to 0.0.0.0 at the prober's MAC). */
static size_t linux_reply(uint8_t *f, uint32_t tpa, uint16_t op)
{
	static const uint8_t hdr[14] = {0x02, 0x5b, 0x00, 0x00, 0x00, 0x01, 0x0e,
					0x00, 0x00, 0x00, 0x00, 0x99, 0x08, 0x06};

	memset(f, 0, 60);
	memcpy(f, hdr, 14);
	pkt_wr16(f + 14, 1);
	pkt_wr16(f + 16, PKT_ETHERTYPE_IPV4);
	f[18] = 6;
	f[19] = 4;
	pkt_wr16(f + 20, op);
	memcpy(f + 22, squatter, 6);
	f[28] = 198, f[29] = 18, f[30] = 0, f[31] = 100;
	memcpy(f + 32, our_mac, 6);
	f[38] = (uint8_t)(tpa >> 24), f[39] = (uint8_t)(tpa >> 16), f[40] = (uint8_t)(tpa >> 8),
	f[41] = (uint8_t)tpa;
	return 42;
}

static void test_parse_reply(void **state)
{
	uint8_t f[64], sha[6];
	uint32_t spa = 0;
	size_t len;

	(void)state;
	len = linux_reply(f, 0, 2);
	assert_int_equal(probe_parse_reply(f, len, &spa, sha), 0);
	assert_int_equal(spa, IP(198, 18, 0, 100));
	assert_memory_equal(sha, squatter, 6);
	/* Padded to 60 bytes, as it arrives. */
	assert_int_equal(probe_parse_reply(f, 60, &spa, sha), 0);
	/* Every truncated prefix: a clean refusal, never a probe reply. */
	for (size_t n = 0; n < len; n++)
		assert_true(probe_parse_reply(f, n, &spa, sha) < 0);
	/* Not a reply to a probe: handled as before. */
	len = linux_reply(f, IP(198, 18, 0, 1), 2); /* a reply to an ordinary request */
	assert_int_equal(probe_parse_reply(f, len, &spa, sha), 1);
	len = linux_reply(f, 0, 1); /* someone else's probe */
	assert_int_equal(probe_parse_reply(f, len, &spa, sha), 1);
	/* Not Ethernet/IPv4 ARP. */
	len = linux_reply(f, 0, 2);
	f[19] = 16;
	assert_int_equal(probe_parse_reply(f, len, &spa, sha), -SB_DROP_ARP_BAD);
	len = linux_reply(f, 0, 2);
	pkt_wr16(f + 12, PKT_ETHERTYPE_IPV4);
	assert_true(probe_parse_reply(f, len, &spa, sha) < 0);
	/* Our own probe is a request: not a reply. */
	len = (size_t)probe_build_request(f, sizeof(f), our_mac, NULL, 0, IP(198, 18, 0, 100));
	assert_int_equal(probe_parse_reply(f, len, &spa, sha), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_expiry), cmocka_unit_test(test_table_bounded),
		cmocka_unit_test(test_table_match),  cmocka_unit_test(test_build_request),
		cmocka_unit_test(test_parse_reply),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
