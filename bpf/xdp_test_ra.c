/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xdp_test_ra.c - "ipv6_ra": "auto" (SB_XDP_F_RS_AUTO): router advertisements of other routers
 * are recorded per VLAN and passed, a router solicitation is steered only while no other router
 * is live, ours (own_mac) are ignored; expiry on the real clock and with faked sightings.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/bpf.h>
#include <linux/if_ether.h>

#include <cmocka.h>

#include <bpf/bpf.h>

#include "xdp_test.h"

#pragma GCC diagnostic ignored "-Woverride-init" /* RA(.field = ...) overrides defaults */

#define RS(...) ((struct frame_spec){.l3 = L3_IPV6, .l4 = L4_ICMPV6_RS, __VA_ARGS__})
#define RA(...)                                                                                    \
	((struct frame_spec){.l3 = L3_IPV6,                                                        \
			     .l4 = L4_ICMPV6_RA,                                                   \
			     .src_mac = mac_router,                                                \
			     .ra_lifetime = 1800,                                                  \
			     __VA_ARGS__})

static const uint8_t mac_router2[6] = {0x02, 0x00, 0x5e, 0x10, 0x00, 0xfd};

static void verdict(const char *what, struct frame_spec fs, uint32_t v, unsigned counter)
{
	uint8_t frame[FRAME_MAX];
	size_t len = build_frame(frame, &fs);

	expect_verdict(what, frame, len, v, counter);
}

/* "auto": everything steered, router solicitations only while no other router is live. */
static void settings_auto(void)
{
	struct sb_xdp_settings s = {
		.flags = SB_XDP_F_ENABLE | SB_XDP_F_RS_AUTO,
		.port_mask = SB_XDP_PORT_M_VALID,
		.xfer_port_lo = XFER_LO,
		.xfer_port_hi = XFER_HI,
	};

	settings_lab(); /* empties the routers map too */
	memcpy(s.own_mac, mac_server, 6);
	assert_int_equal(xdp_ctl_settings_set(&T.ctl, &s), 0);
	xsk_slot_fill(1);
}

static int routers(struct xdp_ctl_router *out, size_t cap)
{
	int n = xdp_ctl_routers_list(&T.ctl, out, cap);

	assert_true(n >= 0);
	return n;
}

void test_ra_auto(void **state)
{
	struct xdp_ctl_router r[4];

	settings_auto();
	verdict("no router: RS steered", RS(), R, SB_XDP_CNT_REDIR_RS);
	assert_int_equal(routers(r, 4), 0);

	verdict("RA from a router, lifetime 1800", RA(), P, SB_XDP_CNT_PASS_RA_FOREIGN);
	assert_int_equal(routers(r, 4), 1);
	assert_memory_equal(r[0].key.mac, mac_router, 6);
	assert_int_equal(r[0].key.vlan.outer, 0);
	assert_int_equal(r[0].r.lifetime_s, 1800);
	assert_int_equal(r[0].r.count, 1);
	assert_true(r[0].live);
	verdict("router live: RS to the kernel", RS(), P, SB_XDP_CNT_PASS_RS_FOREIGN);
	verdict("router live: DHCP still ours",
		((struct frame_spec){.daddr = IP_BCAST, .l4 = L4_DHCP, .sport = 68, .dport = 67}),
		R, SB_XDP_CNT_REDIR_DHCP);

	/* A second router; the first one leaves (lifetime 0): the second keeps us quiet. */
	verdict("RA from a second router", RA(.src_mac = mac_router2, .ra_lifetime = 600), P,
		SB_XDP_CNT_PASS_RA_FOREIGN);
	verdict("first router leaves", RA(.ra_lifetime = 0), P, SB_XDP_CNT_PASS_RA_FOREIGN);
	assert_int_equal(routers(r, 4), 2);
	verdict("second router still live: RS to the kernel", RS(), P, SB_XDP_CNT_PASS_RS_FOREIGN);
	verdict("second router leaves", RA(.src_mac = mac_router2, .ra_lifetime = 0), P,
		SB_XDP_CNT_PASS_RA_FOREIGN);
	verdict("no live router: RS steered again", RS(), R, SB_XDP_CNT_REDIR_RS);
	assert_int_equal(routers(r, 4), 2);
	assert_false(r[0].live);
	assert_false(r[1].live);
	assert_int_equal(r[0].r.count + r[1].r.count, 4);

	/* Back: stops us at once. */
	verdict("first router back", RA(), P, SB_XDP_CNT_PASS_RA_FOREIGN);
	verdict("RS right after", RS(), P, SB_XDP_CNT_PASS_RS_FOREIGN);

	/* Our own advertisement (a loop in the network) is not another router. */
	settings_auto();
	verdict("RA from our own MAC", RA(.src_mac = mac_server), P, SB_XDP_CNT_PASS_RA_OWN);
	assert_int_equal(routers(r, 4), 0);
	verdict("after our own RA: RS steered", RS(), R, SB_XDP_CNT_REDIR_RS);
	/* Steering off: nothing recorded. */
	settings_apply(0, SB_XDP_PORT_M_VALID, 0, 0, 0);
	verdict("disabled: RA", RA(), P, SB_XDP_CNT_PASS_DISABLED);
	assert_int_equal(routers(r, 4), 0);
}

/* A router serves its VLAN: solicitations on other VLANs are still answered by us. */
void test_ra_auto_vlans(void **state)
{
	struct xdp_ctl_router r[4];

	settings_auto();
	verdict("RA on VLAN 100", RA(.vlan_tpid = {ETH_P_8021Q}), P, SB_XDP_CNT_PASS_RA_FOREIGN);
	assert_int_equal(routers(r, 4), 1);
	assert_int_equal(r[0].key.vlan.outer, 100);
	assert_int_equal(r[0].key.vlan.inner, 0);
	verdict("RS on VLAN 100", RS(.vlan_tpid = {ETH_P_8021Q}), P, SB_XDP_CNT_PASS_RS_FOREIGN);
	verdict("RS untagged", RS(), R, SB_XDP_CNT_REDIR_RS);
	verdict("RS on VLAN 101", RS(.vlan_tpid = {ETH_P_8021Q}, .vid = {101}), R,
		SB_XDP_CNT_REDIR_RS);
	verdict("RS on QinQ 100.101", RS(.vlan_tpid = {ETH_P_8021AD, ETH_P_8021Q}), R,
		SB_XDP_CNT_REDIR_RS);
	verdict("RA on QinQ 100.101", RA(.vlan_tpid = {ETH_P_8021AD, ETH_P_8021Q}), P,
		SB_XDP_CNT_PASS_RA_FOREIGN);
	verdict("RS on QinQ 100.101 now", RS(.vlan_tpid = {ETH_P_8021AD, ETH_P_8021Q}), P,
		SB_XDP_CNT_PASS_RS_FOREIGN);
	/* A priority tag is no VLAN: an untagged router covers it. */
	verdict("RA untagged", RA(.src_mac = mac_router2), P, SB_XDP_CNT_PASS_RA_FOREIGN);
	verdict("RS with a priority tag",
		RS(.vlan_tpid = {ETH_P_8021Q}, .vid = {VID_ZERO}, .vlan_pcp = 6), P,
		SB_XDP_CNT_PASS_RS_FOREIGN);
	assert_int_equal(routers(r, 4), 3);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts); /* bpf_ktime_get_ns()'s clock */
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Expiry: a router that stops advertising is gone after its lifetime. */
void test_ra_auto_expiry(void **state)
{
	struct sb_xdp_router_key k = {.vlan = {0, 0}};
	struct sb_xdp_router v = {.lifetime_s = 1800, .count = 1};
	struct xdp_ctl_router r[2];

	/* On the real clock: lifetime 1 s. */
	settings_auto();
	verdict("RA, lifetime 1 s", RA(.ra_lifetime = 1), P, SB_XDP_CNT_PASS_RA_FOREIGN);
	verdict("within the second: RS to the kernel", RS(), P, SB_XDP_CNT_PASS_RS_FOREIGN);
	usleep(1100 * 1000);
	verdict("1.1 s later: RS steered", RS(), R, SB_XDP_CNT_REDIR_RS);
	assert_int_equal(routers(r, 2), 1);
	assert_false(r[0].live);

	/* Faked sightings written into the map (the program's clock is CLOCK_MONOTONIC). */
	settings_auto();
	memcpy(k.mac, mac_router, 6);
	v.seen_ns = mono_ns() - 1801ull * 1000000000ull;
	assert_int_equal(bpf_map_update_elem(T.ctl.routers_fd, &k, &v, BPF_ANY), 0);
	verdict("seen 1801 s ago, lifetime 1800: expired", RS(), R, SB_XDP_CNT_REDIR_RS);
	v.seen_ns = mono_ns() - 1790ull * 1000000000ull;
	assert_int_equal(bpf_map_update_elem(T.ctl.routers_fd, &k, &v, BPF_ANY), 0);
	verdict("seen 1790 s ago, lifetime 1800: live", RS(), P, SB_XDP_CNT_PASS_RS_FOREIGN);
	v.lifetime_s = 0;
	v.seen_ns = mono_ns();
	assert_int_equal(bpf_map_update_elem(T.ctl.routers_fd, &k, &v, BPF_ANY), 0);
	verdict("seen now, lifetime 0", RS(), R, SB_XDP_CNT_REDIR_RS);
	v.lifetime_s = 9000; /* RFC 4861 6.2.1: MaxRtrAdvInterval <= 1800, lifetime <= 9000 */
	v.seen_ns = mono_ns() - 8999ull * 1000000000ull;
	assert_int_equal(bpf_map_update_elem(T.ctl.routers_fd, &k, &v, BPF_ANY), 0);
	verdict("seen 8999 s ago, lifetime 9000", RS(), P, SB_XDP_CNT_PASS_RS_FOREIGN);
	v.lifetime_s = 65535; /* the largest value the field holds */
	v.seen_ns = mono_ns();
	assert_int_equal(bpf_map_update_elem(T.ctl.routers_fd, &k, &v, BPF_ANY), 0);
	verdict("lifetime 65535", RS(), P, SB_XDP_CNT_PASS_RS_FOREIGN);
}

/* What is not a valid advertisement (RFC 4861 6.1.2) is not recorded. */
void test_ra_auto_invalid(void **state)
{
	static const struct {
		const char *what;
		struct frame_spec fs;
		unsigned counter;
	} v[] = {
		{"RA hop limit 64", RA(.hop_limit = 64), SB_XDP_CNT_PASS_NOT_IPV4},
		{"RA code 1", RA(.icmp_code = 1), SB_XDP_CNT_PASS_NOT_IPV4},
		{"RA from a global address", RA(.ip6_src_global = 1), SB_XDP_CNT_PASS_NOT_IPV4},
		{"RA payload length 15", RA(.tot_len_delta = -9), SB_XDP_CNT_PASS_NOT_IPV4},
		{"RA payload length beyond the frame", RA(.tot_len_delta = 1),
		 SB_XDP_CNT_PASS_TRUNCATED},
		{"RA behind a hop-by-hop header", RA(.ip6_hbh = 1), SB_XDP_CNT_PASS_NOT_IPV4},
		{"RA payload length 16, option as padding", RA(.tot_len_delta = -8),
		 SB_XDP_CNT_PASS_RA_FOREIGN},
	};
	struct xdp_ctl_router r[2];
	uint8_t frame[FRAME_MAX];
	size_t i, len, cut;

	settings_auto();
	for (i = 0; i + 1 < sizeof(v) / sizeof(v[0]); i++) {
		len = build_frame(frame, &v[i].fs);
		expect_verdict(v[i].what, frame, len, P, v[i].counter);
	}
	assert_int_equal(routers(r, 2), 0);
	verdict("RS after invalid RAs", RS(), R, SB_XDP_CNT_REDIR_RS);

	/* Every cut of a valid advertisement is truncated and records nothing. */
	len = build_frame(frame, &(struct frame_spec)RA());
	assert_int_equal(len, ETH_HLEN + 40 + 16 + 8);
	for (cut = ETH_HLEN; cut < len; cut++) {
		char what[64];

		snprintf(what, sizeof(what), "RA cut to %zu", cut);
		expect_verdict(what, frame, cut, P, SB_XDP_CNT_PASS_TRUNCATED);
	}
	assert_int_equal(routers(r, 2), 0);
	len = build_frame(frame, &v[i].fs); /* the last case: valid */
	expect_verdict(v[i].what, frame, len, P, v[i].counter);
	assert_int_equal(routers(r, 2), 1);
}

/* "ipv6_ra": true (no SB_XDP_F_RS_AUTO) and false: advertisements are not looked at. */
void test_ra_not_auto(void **state)
{
	struct xdp_ctl_router r[2];

	settings_lab(); /* M_RS without auto */
	xsk_slot_fill(1);
	verdict("true: RA", RA(), P, SB_XDP_CNT_PASS_NOT_IPV4);
	assert_int_equal(routers(r, 2), 0);
	verdict("true: RS", RS(), R, SB_XDP_CNT_REDIR_RS);
	/* A live router in the map does not matter without auto. */
	settings_auto();
	verdict("auto: RA", RA(), P, SB_XDP_CNT_PASS_RA_FOREIGN);
	settings_apply(SB_XDP_F_ENABLE, SB_XDP_PORT_M_VALID, XFER_LO, XFER_HI, 0);
	assert_int_equal(routers(r, 2), 1);
	verdict("true with a live router recorded: RS", RS(), R, SB_XDP_CNT_REDIR_RS);
	settings_apply(SB_XDP_F_ENABLE, SB_XDP_PORT_M_ALL, XFER_LO, XFER_HI, 0);
	verdict("false: RA", RA(), P, SB_XDP_CNT_PASS_NOT_IPV4);
	verdict("false: RS", RS(), P, SB_XDP_CNT_PASS_NOT_IPV4);
}
