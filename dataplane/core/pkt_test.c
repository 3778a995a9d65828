/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pkt_test.c - Ethernet/VLAN/IPv4/UDP/ARP parse and build. The reference
 * frames below were made with scapy (tests/fixtures/README.md), whose checksum
 * code is independent of ours; the real-client captures come from the lab.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixtures.h"
#include "pkt.h"
#include "sb_drop.h"

static const uint8_t udp_plain[] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc,
	0x08, 0x00, 0x45, 0x00, 0x00, 0x4f, 0x00, 0x07, 0x00, 0x00, 0x40, 0x11,
	0x7a, 0x98, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0x00, 0x44,
	0x00, 0x43, 0x00, 0x3b, 0x06, 0xd5, 0x73, 0x74, 0x6f, 0x72, 0x6d, 0x62,
	0x6f, 0x6f, 0x74, 0x2d, 0x70, 0x61, 0x79, 0x6c, 0x6f, 0x61, 0x64, 0x73,
	0x74, 0x6f, 0x72, 0x6d, 0x62, 0x6f, 0x6f, 0x74, 0x2d, 0x70, 0x61, 0x79,
	0x6c, 0x6f, 0x61, 0x64, 0x73, 0x74, 0x6f, 0x72, 0x6d, 0x62, 0x6f, 0x6f,
	0x74, 0x2d, 0x70, 0x61, 0x79, 0x6c, 0x6f, 0x61, 0x64,
};
static const uint8_t udp_vlan[] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc,
	0x81, 0x00, 0x60, 0x64, 0x08, 0x00, 0x45, 0x00, 0x00, 0x2f, 0x00, 0x01,
	0x00, 0x00, 0x11, 0x11, 0x1d, 0x4b, 0xc6, 0x12, 0x00, 0x4d, 0xc6, 0x12,
	0x00, 0x01, 0x9c, 0x40, 0x00, 0x45, 0x00, 0x1b, 0x2a, 0x6b, 0x00, 0x01,
	0x70, 0x78, 0x65, 0x6c, 0x69, 0x6e, 0x75, 0x78, 0x2e, 0x30, 0x00, 0x6f,
	0x63, 0x74, 0x65, 0x74, 0x00,
};
static const uint8_t arp_req[] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc,
	0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x52, 0x54,
	0x00, 0xaa, 0xbb, 0xcc, 0xc6, 0x12, 0x00, 0x4d, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0xc6, 0x12, 0x00, 0x01,
};
static const uint8_t arp_rep_expected[] = {
	0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
	0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02, 0x02, 0x00,
	0x00, 0x00, 0x00, 0x01, 0xc6, 0x12, 0x00, 0x01, 0x52, 0x54, 0x00, 0xaa,
	0xbb, 0xcc, 0xc6, 0x12, 0x00, 0x4d,
};
static const uint8_t reply_expected[] = {
	0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
	0x81, 0x00, 0x60, 0x64, 0x08, 0x00, 0x45, 0x00, 0x00, 0x25, 0x00, 0x00,
	0x40, 0x00, 0x40, 0x11, 0xae, 0x55, 0xc6, 0x12, 0x00, 0x01, 0xc6, 0x12,
	0x00, 0x4d, 0xc3, 0x51, 0x9c, 0x40, 0x00, 0x11, 0xcf, 0xf0, 0x00, 0x03,
	0x00, 0x01, 0x68, 0x65, 0x6c, 0x6c, 0x6f,
};

static const uint8_t our_mac[6] = {0x02, 0, 0, 0, 0, 0x01};
#define IP4(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((c) << 8) | (d))

static void test_parse_plain(void **state)
{
	struct pkt_udp u;

	assert_int_equal(pkt_parse_udp(udp_plain, sizeof(udp_plain), true, &u), 0);
	assert_int_equal(u.src_ip, 0);
	assert_int_equal(u.dst_ip, 0xffffffff);
	assert_int_equal(u.src_port, 68);
	assert_int_equal(u.dst_port, 67);
	assert_int_equal(u.n_vlans, 0);
	assert_int_equal(u.payload_len, 51);
	assert_memory_equal(u.payload, "stormboot-payload", 17);
	assert_false(u.csum_unverified);
	assert_memory_equal(u.src_mac, udp_plain + 6, 6);
}

static void test_parse_vlan(void **state)
{
	struct pkt_udp u;

	assert_int_equal(pkt_parse_udp(udp_vlan, sizeof(udp_vlan), true, &u), 0);
	assert_int_equal(u.n_vlans, 1);
	assert_int_equal(u.vlan_tci[0], (3 << 13) | 100);
	assert_int_equal(u.src_ip, IP4(198, 18, 0, 77));
	assert_int_equal(u.dst_ip, IP4(198, 18, 0, 1));
	assert_int_equal(u.ttl, 17);
	assert_int_equal(u.dst_port, 69);
}

/* A damaged UDP checksum: refused under "verify", flagged and accepted under "accept". */
static void test_udp_csum_policy(void **state)
{
	uint8_t f[sizeof(udp_plain)];
	struct pkt_udp u;

	memcpy(f, udp_plain, sizeof(f));
	f[sizeof(f) - 1] ^= 0x5a;
	assert_int_equal(pkt_parse_udp(f, sizeof(f), true, &u), -SB_DROP_UDP_BAD_CSUM);
	assert_int_equal(pkt_parse_udp(f, sizeof(f), false, &u), 0);
	assert_true(u.csum_unverified);
	/* RFC 768: zero means no checksum, accepted even under verify. */
	f[14 + 20 + 6] = 0;
	f[14 + 20 + 7] = 0;
	assert_int_equal(pkt_parse_udp(f, sizeof(f), true, &u), 0);
	assert_false(u.csum_unverified);
}

struct mutation {
	const char *what;
	size_t off;	/* byte offset in udp_plain */
	uint8_t value;
	int expect;
};

static void test_parse_refusals(void **state)
{
	static const struct mutation table[] = {
		{"ethertype IPv6", 12, 0x86, -SB_DROP_NOT_IPV4},
		{"IP version 6", 14, 0x65, -SB_DROP_IP_BAD_HDR},
		{"IHL 4", 14, 0x44, -SB_DROP_IP_BAD_HDR},
		{"IHL 15 past frame end", 14, 0x4f, -SB_DROP_IP_BAD_CSUM},
		{"total length 10", 17, 10, -SB_DROP_IP_BAD_HDR},
		{"total length past frame", 16, 0x7f, -SB_DROP_IP_SHORT},
		{"header checksum", 24, 0x00, -SB_DROP_IP_BAD_CSUM},
		{"more fragments", 20, 0x20, -SB_DROP_IP_BAD_CSUM},
		{"protocol TCP", 23, 6, -SB_DROP_IP_BAD_CSUM},
		{"UDP length 4", 39, 4, -SB_DROP_UDP_SHORT},
		{"UDP length past IP", 38, 0x10, -SB_DROP_UDP_SHORT},
	};

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		uint8_t f[sizeof(udp_plain)];
		struct pkt_udp u;

		memcpy(f, udp_plain, sizeof(f));
		f[table[i].off] = table[i].value;
		int rc = pkt_parse_udp(f, sizeof(f), true, &u);
		if (rc != table[i].expect)
			fail_msg("%s: got %d (%s), want %s", table[i].what, rc, sb_drop_name(rc),
				 sb_drop_name(table[i].expect));
	}
}

/* Fragment and non-UDP checks once the IPv4 header checksum is fixed up. */
static void test_parse_fragment_and_proto(void **state)
{
	uint8_t f[sizeof(udp_plain)];
	struct pkt_udp u;

	memcpy(f, udp_plain, sizeof(f));
	f[20] = 0x20; /* MF */
	f[24] = f[25] = 0;
	uint16_t c = pkt_csum_fold(pkt_csum_add(0, f + 14, 20));
	f[24] = (uint8_t)(c >> 8);
	f[25] = (uint8_t)c;
	assert_int_equal(pkt_parse_udp(f, sizeof(f), true, &u), -SB_DROP_IP_FRAGMENT);

	memcpy(f, udp_plain, sizeof(f));
	f[23] = 6;
	f[24] = f[25] = 0;
	c = pkt_csum_fold(pkt_csum_add(0, f + 14, 20));
	f[24] = (uint8_t)(c >> 8);
	f[25] = (uint8_t)c;
	assert_int_equal(pkt_parse_udp(f, sizeof(f), true, &u), -SB_DROP_NOT_UDP);
}

static void test_vlan_depth(void **state)
{
	uint8_t f[64] = {0};

	for (int i = 0; i < 3; i++) {
		f[12 + 4 * i] = 0x81;
		f[13 + 4 * i] = 0x00;
	}
	f[24] = 0x08;
	struct pkt_udp u;
	assert_int_equal(pkt_parse_udp(f, sizeof(f), true, &u), -SB_DROP_VLAN_DEPTH);
}

static int parse_prefix(const uint8_t *buf, size_t len, void *arg)
{
	struct pkt_udp u;

	return pkt_parse_udp(buf, len, true, &u);
}

static void test_truncations(void **state)
{
	assert_int_equal(fixture_for_each_prefix(udp_plain, sizeof(udp_plain), sizeof(udp_plain),
						 parse_prefix, NULL),
			 sizeof(udp_plain));
	fixture_for_each_prefix(udp_vlan, sizeof(udp_vlan), sizeof(udp_vlan), parse_prefix, NULL);
}

/* Our reply must equal, byte for byte, what scapy builds with its own checksums. */
static void test_build_matches_reference(void **state)
{
	struct pkt_udp req;
	uint8_t out[256];

	assert_int_equal(pkt_parse_udp(udp_vlan, sizeof(udp_vlan), true, &req), 0);
	struct pkt_dest d = {
		.dst_ip = req.src_ip,
		.dst_port = req.src_port,
		.src_ip = IP4(198, 18, 0, 1),
		.src_port = 50001,
	};
	memcpy(d.dst_mac, req.src_mac, 6);
	size_t hl = pkt_hdr_len(&req);
	assert_int_equal(hl, 14 + 4 + 20 + 8);
	memcpy(out + hl, "\x00\x03\x00\x01hello", 9);
	int n = pkt_build_udp(out, sizeof(out), &req, our_mac, &d, 9);
	assert_int_equal(n, sizeof(reply_expected));
	assert_memory_equal(out, reply_expected, sizeof(reply_expected));

	/* And it parses back under the strict policy. */
	struct pkt_udp back;
	assert_int_equal(pkt_parse_udp(out, (size_t)n, true, &back), 0);
	assert_int_equal(back.dst_port, 40000);
	assert_int_equal(back.payload_len, 9);

	/* No room: a named refusal, not an overflow. */
	assert_int_equal(pkt_build_udp(out, hl + 8, &req, our_mac, &d, 9), -SB_DROP_TX_NO_ROOM);
}

/* To a group (RFC 1112): the MAC is 01:00:5e + the low 23 bits, TTL 1; unicast keeps 64. */
static void test_build_multicast(void **state)
{
	static const uint8_t want_mac[6] = {0x01, 0x00, 0x5e, 0x7f, 0x07, 0xe6};
	struct pkt_udp back;
	uint8_t out[128];
	struct pkt_dest d = {.dst_ip = IP4(239, 255, 7, 230),
			     .dst_port = 1758,
			     .src_ip = IP4(198, 18, 0, 1),
			     .src_port = 61000};
	int n;

	(void)state;
	assert_true(pkt_is_multicast(IP4(224, 0, 0, 1)));
	assert_true(pkt_is_multicast(IP4(239, 255, 255, 255)));
	assert_false(pkt_is_multicast(IP4(198, 18, 0, 1)));
	assert_false(pkt_is_multicast(IP4(240, 0, 0, 1)));
	pkt_multicast_mac(d.dst_ip, d.dst_mac);
	assert_memory_equal(d.dst_mac, want_mac, 6);
	pkt_multicast_mac(IP4(239, 128, 7, 230), d.dst_mac); /* bit 23 of the group is dropped */
	assert_memory_equal(d.dst_mac, "\x01\x00\x5e\x00\x07\xe6", 6);
	pkt_multicast_mac(IP4(239, 255, 7, 230), d.dst_mac);
	memcpy(out + pkt_hdr_len(NULL), "\x00\x03\x00\x01", 4);
	n = pkt_build_udp(out, sizeof(out), NULL, our_mac, &d, 4);
	assert_int_equal(n, 14 + 20 + 8 + 4);
	assert_memory_equal(out, want_mac, 6);
	assert_int_equal(out[14 + 8], 1); /* TTL */
	assert_int_equal(pkt_parse_udp(out, (size_t)n, true, &back), 0); /* checksums right */
	assert_int_equal(back.dst_ip, d.dst_ip);
	d.dst_ip = IP4(198, 18, 0, 2);
	n = pkt_build_udp(out, sizeof(out), NULL, our_mac, &d, 4);
	assert_int_equal(out[14 + 8], 64);
}

static void test_arp(void **state)
{
	uint8_t f[64];

	memcpy(f, arp_req, sizeof(arp_req));
	int n = pkt_arp_reply(f, sizeof(arp_req), IP4(198, 18, 0, 1), our_mac);
	assert_int_equal(n, sizeof(arp_rep_expected));
	assert_memory_equal(f, arp_rep_expected, sizeof(arp_rep_expected));

	memcpy(f, arp_req, sizeof(arp_req));
	assert_int_equal(pkt_arp_reply(f, sizeof(arp_req), IP4(198, 18, 0, 2), our_mac),
			 -SB_DROP_ARP_NOT_US);
	/* A reply is not answered. */
	assert_int_equal(pkt_arp_reply(f, sizeof(arp_req), IP4(198, 18, 0, 1), our_mac), n);
	assert_int_equal(pkt_arp_reply(f, sizeof(arp_req), IP4(198, 18, 0, 77), our_mac),
			 -SB_DROP_ARP_NOT_REQUEST);
	for (size_t l = 0; l < sizeof(arp_req); l++) {
		memcpy(f, arp_req, sizeof(arp_req));
		assert_true(pkt_arp_reply(f, l, IP4(198, 18, 0, 1), our_mac) < 0);
	}
	/* An IPv4 frame is not ARP. */
	memcpy(f, udp_plain, 64);
	assert_int_equal(pkt_arp_reply(f, 64, IP4(198, 18, 0, 1), our_mac), -SB_DROP_ARP_BAD);
}

/* Every real-client frame parses (accept policy: veth offload leaves partial sums). */
static void check_fixture_dir(const char *dir)
{
	struct fixture_set set;

	fixture_load(dir, &set);
	for (size_t i = 0; i < set.n; i++) {
		struct fixture_pkt *p = &set.pkts[i];
		struct pkt_udp u;
		int rc = pkt_parse_udp(p->frame, p->frame_len, false, &u);
		if (rc != 0)
			fail_msg("%s #%u: %s", p->file, p->index, sb_drop_name(rc));
		assert_int_equal(u.dst_port, p->dst_port);
		assert_int_equal(u.payload_len, p->udp_len);
		/* Verify policy: either verified or refused by name, never anything else. */
		rc = pkt_parse_udp(p->frame, p->frame_len, true, &u);
		assert_true(rc == 0 || rc == -SB_DROP_UDP_BAD_CSUM);
		fixture_for_each_prefix(p->frame, p->frame_len, p->frame_len, parse_prefix, NULL);
	}
	fixture_free(&set);
}

static void test_fixtures_dhcp(void **state)
{
	check_fixture_dir("dhcp");
}

static void test_fixtures_tftp(void **state)
{
	check_fixture_dir("tftp");
}

/* RFC 1071's 16-bit big-endian loop, the reference the fast sum must agree with. */
static uint32_t csum_ref(uint32_t sum, const uint8_t *p, size_t len)
{
	for (; len >= 2; p += 2, len -= 2)
		sum += (uint32_t)p[0] << 8 | p[1];
	if (len)
		sum += (uint32_t)p[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

/* Every length 0..2100 at every alignment 0..7, random and all-ones bytes, chained sums. */
static void test_csum_matches_reference(void **state)
{
	static uint8_t buf[2200];
	uint32_t seed = 12345;

	(void)state;
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < sizeof(buf); i++) {
			seed = seed * 1103515245u + 12345u;
			buf[i] = pass ? 0xff : (uint8_t)(seed >> 16);
		}
		for (size_t off = 0; off < 8; off++)
			for (size_t len = 0; len <= 2100; len++) {
				uint32_t init = (uint32_t)(len * 2654435761u) & 0xffff;

				assert_int_equal(pkt_csum_fold(pkt_csum_add(init, buf + off, len)),
						 pkt_csum_fold(csum_ref(init, buf + off, len)));
			}
	}
}

static uint16_t norm(uint16_t c)
{
	return c == 0 ? 0xffff : c; /* +0 and -0 are the same one's complement sum */
}

/* Range sums from the prefix table: every even and odd offset near the step boundaries, many
 * lengths, and a frame built with the sum given is the frame built by summing. */
static void test_csum_prefix(void **state)
{
	static uint8_t img[5000];
	static uint32_t prefix[5000 / PKT_CSUM_PREFIX_STEP + 1];
	uint32_t seed = 777;
	struct pkt_udp req;
	uint8_t a[1600], b[1600];

	(void)state;
	for (size_t i = 0; i < sizeof(img); i++) {
		seed = seed * 1103515245u + 12345u;
		img[i] = (uint8_t)(seed >> 16);
	}
	assert_int_equal(pkt_csum_prefix_len(sizeof(img)), sizeof(prefix) / sizeof(prefix[0]));
	pkt_csum_prefix_build(img, sizeof(img), prefix);
	for (size_t off = 0; off < 300; off++)
		for (size_t len = 0; off + len <= sizeof(img); len += 1 + len / 3)
			assert_int_equal(
				norm(pkt_csum_fold(pkt_csum_range(img, prefix, off, len))),
				norm(pkt_csum_fold(pkt_csum_add(0, img + off, len))));
	/* TFTP blocks of 1468 and 1432 bytes, the last one short */
	for (size_t blk = 1432; blk <= 1468; blk += 36)
		for (size_t off = 0; off < sizeof(img); off += blk) {
			size_t len = sizeof(img) - off < blk ? sizeof(img) - off : blk;
			assert_int_equal(
				norm(pkt_csum_fold(pkt_csum_range(img, prefix, off, len))),
				norm(pkt_csum_fold(pkt_csum_add(0, img + off, len))));
		}

	assert_int_equal(pkt_parse_udp(udp_vlan, sizeof(udp_vlan), true, &req), 0);
	struct pkt_dest d = {.dst_ip = req.src_ip, .dst_port = req.src_port,
			     .src_ip = IP4(198, 18, 0, 1), .src_port = 61000};
	memcpy(d.dst_mac, req.src_mac, 6);
	size_t hl = pkt_hdr_len(&req);
	memcpy(a + hl, "\x00\x03\x00\x02", 4);
	memcpy(a + hl + 4, img + 1468, 1468);
	memcpy(b + hl, a + hl, 4 + 1468);
	int na = pkt_build_udp(a, sizeof(a), &req, our_mac, &d, 4 + 1468);
	uint32_t psum = pkt_csum_add(pkt_csum_range(img, prefix, 1468, 1468), b + hl, 4);
	int nb = pkt_build_udp_psum(b, sizeof(b), &req, our_mac, &d, 4 + 1468, psum);
	assert_int_equal(na, nb);
	assert_memory_equal(a, b, (size_t)na);
	struct pkt_udp back;
	assert_int_equal(pkt_parse_udp(b, (size_t)nb, true, &back), 0);
}

static void test_drop_names(void **state)
{
	assert_string_equal(sb_drop_name(-SB_DROP_UDP_BAD_CSUM), "udp_bad_checksum");
	assert_string_equal(sb_drop_name(SB_DROP__COUNT + 3), "unknown");
	for (int i = 0; i < SB_DROP__COUNT; i++) {
		assert_non_null(sb_drop_name(i));
		assert_non_null(sb_drop_desc(i));
		for (int j = 0; j < i; j++)
			if (strcmp(sb_drop_name(i), sb_drop_name(j)) == 0)
				fail_msg("drop name %s used twice", sb_drop_name(i));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_plain),
		cmocka_unit_test(test_parse_vlan),
		cmocka_unit_test(test_udp_csum_policy),
		cmocka_unit_test(test_parse_refusals),
		cmocka_unit_test(test_parse_fragment_and_proto),
		cmocka_unit_test(test_vlan_depth),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_build_matches_reference),
		cmocka_unit_test(test_arp),
		cmocka_unit_test(test_fixtures_dhcp),
		cmocka_unit_test(test_fixtures_tftp),
		cmocka_unit_test(test_drop_names),
		cmocka_unit_test(test_build_multicast),
		cmocka_unit_test(test_csum_matches_reference),
		cmocka_unit_test(test_csum_prefix),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
