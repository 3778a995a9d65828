/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ndp_test.c - router solicitation -> advertisement: iPXE's real RS
 * (tests/fixtures/ndp, captured in the VM lab), every truncated prefix of it,
 * and a table of solicitations that RFC 4861 6.1.1 says to discard.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fixtures.h"
#include "ndp.h"
#include "pkt.h"
#include "sb_drop.h"

#define ETH  14
#define IP6  ETH
#define ICMP (ETH + NDP_IPV6_HLEN)
#define CAP  256

static const uint8_t our_mac[6] = {0x02, 0x5b, 0x00, 0x00, 0x00, 0x01};

/* RFC 1071 sum over the IPv6 pseudo-header and the ICMPv6 message, written out here
 * independently of the code under test. 0 when the checksum in place is right. */
static uint16_t icmp6_sum(const uint8_t *ip)
{
	size_t n = (size_t)(ip[4] << 8 | ip[5]);
	uint32_t s = 58 + (uint32_t)n;

	for (size_t i = 8; i < 40; i += 2)
		s += (uint32_t)(ip[i] << 8 | ip[i + 1]);
	for (size_t i = 0; i < n; i++)
		s += i % 2 ? ip[40 + i] : (uint32_t)ip[40 + i] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void fix_csum(uint8_t *ip)
{
	ip[42] = ip[43] = 0;
	uint16_t c = icmp6_sum(ip);
	ip[42] = (uint8_t)(c >> 8);
	ip[43] = (uint8_t)c;
}

/* A router solicitation from fe80::5054:ff:fe12:3456 with a source link-layer option. */
static size_t make_rs(uint8_t *f)
{
	static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
	uint8_t *ip = f + IP6;

	memset(f, 0, CAP);
	memcpy(f, (uint8_t[]){0x33, 0x33, 0, 0, 0, 2}, 6);
	memcpy(f + 6, mac, 6);
	f[12] = 0x86, f[13] = 0xdd;
	ip[0] = 0x60, ip[5] = 16, ip[6] = 58, ip[7] = 255;
	ip[8] = 0xfe, ip[9] = 0x80;
	memcpy(ip + 16, (uint8_t[]){0x50, 0x54, 0x00, 0xff, 0xfe, 0x12, 0x34, 0x56}, 8);
	ip[24] = 0xff, ip[25] = 0x02, ip[39] = 2;
	ip[40] = 133;
	ip[48] = 1, ip[49] = 1;
	memcpy(ip + 50, mac, 6);
	fix_csum(ip);
	return ETH + 40 + 16;
}

/* What every RA we send must look like; dst_mac / dst_ip: where it must go. */
static void check_ra(const uint8_t *f, int len, size_t l3, const uint8_t *dst_mac,
		     const uint8_t *dst_ip)
{
	const uint8_t *ip = f + l3, *icmp = ip + 40;
	uint8_t ll[16];

	assert_int_equal(len, (int)(l3 + 40 + NDP_RA_ICMP_LEN));
	assert_memory_equal(f, dst_mac, 6);
	assert_memory_equal(f + 6, our_mac, 6);
	assert_int_equal(f[l3 - 2] << 8 | f[l3 - 1], PKT_ETHERTYPE_IPV6);
	assert_int_equal(ip[0], 0x60);
	assert_int_equal(ip[4] << 8 | ip[5], NDP_RA_ICMP_LEN);
	assert_int_equal(ip[6], 58);
	assert_int_equal(ip[7], 255); /* RFC 4861 6.1.2: receivers drop anything else */
	ndp_link_local(our_mac, ll);
	assert_memory_equal(ip + 8, ll, 16);
	assert_memory_equal(ip + 24, dst_ip, 16);
	assert_int_equal(icmp[0], 134);
	assert_int_equal(icmp[1], 0);
	assert_int_equal(icmp6_sum(ip), 0);
	for (int i = 4; i < 16; i++) /* hop limit, M/O flags, lifetime, timers: all 0 */
		assert_int_equal(icmp[i], 0);
	assert_int_equal(icmp[16], 1); /* source link-layer address, 8 bytes */
	assert_int_equal(icmp[17], 1);
	assert_memory_equal(icmp + 18, our_mac, 6);
}

static void test_link_local(void **state)
{
	static const uint8_t want[16] = {0xfe, 0x80, [8] = 0x00, 0x5b, 0x00, 0xff, 0xfe, 0, 0, 1};
	uint8_t ll[16];

	(void)state;
	ndp_link_local(our_mac, ll);
	assert_memory_equal(ll, want, 16);
}

static void test_ipxe_fixture(void **state)
{
	struct fixture_set set;

	(void)state;
	fixture_load("ndp", &set);
	for (size_t i = 0; i < set.n; i++) {
		const struct fixture_pkt *p = &set.pkts[i];
		uint8_t f[CAP], src_mac[6], src_ip[16];

		assert_true(p->frame_len <= CAP);
		memcpy(f, p->frame, p->frame_len);
		memcpy(src_mac, f + 6, 6);
		memcpy(src_ip, f + IP6 + 8, 16);
		int len = ndp_rs_to_ra(f, p->frame_len, sizeof(f), our_mac);
		if (len < 0)
			fail_msg("%s #%u: %s", p->file, p->index, sb_drop_name(-len));
		check_ra(f, len, ETH, src_mac, src_ip); /* unicast back to iPXE */
	}
	fixture_free(&set);
}

static int rs_prefix(const uint8_t *buf, size_t len, void *arg)
{
	uint8_t f[CAP];

	(void)arg;
	memcpy(f, buf, len);
	return ndp_rs_to_ra(f, len, sizeof(f), our_mac);
}

static void test_truncated(void **state)
{
	struct fixture_set set;
	uint8_t f[CAP];
	size_t n = make_rs(f);

	(void)state;
	assert_int_equal(fixture_for_each_prefix(f, n, n, rs_prefix, NULL), n);
	fixture_load("ndp", &set);
	for (size_t i = 0; i < set.n; i++)
		fixture_for_each_prefix(set.pkts[i].frame, set.pkts[i].frame_len,
					set.pkts[i].frame_len, rs_prefix, NULL);
	fixture_free(&set);
}

static void test_unspecified_source(void **state)
{
	static const uint8_t all_nodes_mac[6] = {0x33, 0x33, 0, 0, 0, 1};
	static const uint8_t all_nodes[16] = {0xff, 0x02, [15] = 1};
	uint8_t f[CAP];
	size_t n = make_rs(f);

	(void)state;
	memset(f + IP6 + 8, 0, 16); /* from ::, and so without the link-layer option */
	f[IP6 + 5] = 8;
	fix_csum(f + IP6);
	n -= 8;
	check_ra(f, ndp_rs_to_ra(f, n, sizeof(f), our_mac), ETH, all_nodes_mac, all_nodes);
}

static void test_vlan_and_padding(void **state)
{
	uint8_t f[CAP], g[CAP], mac[6], ip[16];
	size_t n = make_rs(f);

	(void)state;
	memcpy(mac, f + 6, 6);
	memcpy(ip, f + IP6 + 8, 16);
	/* an 802.1Q tag (VLAN 42) between the MACs and the EtherType; padded to 100 bytes */
	memset(g, 0, sizeof(g));
	memcpy(g, f, 12);
	g[12] = 0x81, g[13] = 0x00, g[14] = 0x00, g[15] = 42;
	memcpy(g + 16, f + 12, n - 12);
	int len = ndp_rs_to_ra(g, 100, sizeof(g), our_mac);
	check_ra(g, len, ETH + 4, mac, ip);
	assert_int_equal(g[12] << 8 | g[13], 0x8100);
	assert_int_equal(g[15], 42);
}

static void test_no_room(void **state)
{
	uint8_t f[CAP];
	size_t n = make_rs(f);

	(void)state;
	assert_int_equal(ndp_rs_to_ra(f, n, ETH + 40 + NDP_RA_ICMP_LEN - 1, our_mac),
			 -SB_DROP_TX_NO_ROOM);
}

/* Solicitations to discard: each a change to a valid RS, the checksum fixed unless noted. */
struct bad_case {
	const char *what;
	size_t at;     /* offset in the frame */
	uint8_t value; /* written there */
	bool keep_csum;
	int want; /* -SB_DROP_x */
};

static const struct bad_case bad_cases[] = {
	{"hop limit 64 (RFC 4861 6.1.1: not from this link)", IP6 + 7, 64, false,
	 -SB_DROP_NDP_RS_INVALID},
	{"ICMPv6 code 1", ICMP + 1, 1, false, -SB_DROP_NDP_RS_INVALID},
	{"checksum off by one", ICMP + 3, 0, true, -SB_DROP_NDP_RS_BAD_CSUM},
	{"option length 0", ICMP + 9, 0, false, -SB_DROP_NDP_RS_INVALID},
	{"option length 2 runs past the message", ICMP + 9, 2, false, -SB_DROP_NDP_RS_INVALID},
	{"neighbor solicitation (135)", ICMP + 0, 135, false, -SB_DROP_NDP_NOT_RS},
	{"router advertisement (134)", ICMP + 0, 134, false, -SB_DROP_NDP_NOT_RS},
	{"next header UDP", IP6 + 6, 17, true, -SB_DROP_NDP_NOT_RS},
	{"next header hop-by-hop options", IP6 + 6, 0, true, -SB_DROP_NDP_NOT_RS},
	{"IP version 4 in an IPv6 EtherType", IP6 + 0, 0x40, true, -SB_DROP_NDP_BAD_IPV6},
	{"payload length past the frame", IP6 + 5, 17, true, -SB_DROP_NDP_SHORT},
	{"payload length 2", IP6 + 5, 2, true, -SB_DROP_NDP_SHORT},
	{"payload length 4: no room for the RS header", IP6 + 5, 4, false, -SB_DROP_NDP_RS_INVALID},
	{"EtherType ARP", 12, 0x08, true, -SB_DROP_NDP_NOT_RS},
};

static void test_bad_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		uint8_t f[CAP];
		size_t n = make_rs(f);

		if (c->at == 12) { /* EtherType 0x0806 */
			f[12] = 0x08, f[13] = 0x06;
		} else if (c->keep_csum && c->at == ICMP + 3) {
			f[c->at] ^= 1;
		} else {
			f[c->at] = c->value;
		}
		if (!c->keep_csum)
			fix_csum(f + IP6);
		int rc = ndp_rs_to_ra(f, n, sizeof(f), our_mac);
		if (rc != c->want)
			fail_msg("%s: got %d (%s), want %s", c->what, rc,
				 rc < 0 ? sb_drop_name(-rc) : "an RA", sb_drop_name(-c->want));
	}
}

static void test_unspecified_with_slla(void **state)
{
	uint8_t f[CAP];
	size_t n = make_rs(f);

	(void)state;
	memset(f + IP6 + 8, 0, 16);
	fix_csum(f + IP6);
	assert_int_equal(ndp_rs_to_ra(f, n, sizeof(f), our_mac), -SB_DROP_NDP_RS_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_link_local),
		cmocka_unit_test(test_ipxe_fixture),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_unspecified_source),
		cmocka_unit_test(test_vlan_and_padding),
		cmocka_unit_test(test_no_room),
		cmocka_unit_test(test_bad_table),
		cmocka_unit_test(test_unspecified_with_slla),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
