/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xdp_test_guard.c - the flood guard (MAC deny and allow lists, per-source rate limits), the
 * VLAN set and the DHCP destination filter, driven through their xdp_ctl functions, and
 * xdp_ctl_apply_config() from a parsed config. Every frame's verdict and its one counter checked.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <linux/bpf.h>
#include <linux/if_ether.h>

#include <cmocka.h>

#include <bpf/bpf.h>

#include "sbcfg_json.h"
#include "xdp_test.h"

/* DHCP_FROM(mac, .daddr = ...) overrides the macro's defaults on purpose. */
#pragma GCC diagnostic ignored "-Woverride-init"

static const uint8_t mac_other[6] = {0x02, 0x00, 0x5e, 0x10, 0x00, 0x65};
static const uint8_t mac_relay[6] = {0x02, 0x00, 0x5e, 0x10, 0x01, 0x01};

#define DHCP_FROM(mac, ...)                                                                        \
	{                                                                                          \
		.saddr = 0, .daddr = IP_BCAST, .l4 = L4_DHCP, .sport = 68, .dport = 67,            \
		.src_mac = (mac), .chaddr = (mac), __VA_ARGS__                                     \
	}
#define RELAYED(relay_mac, client_mac)                                                             \
	{                                                                                          \
		.saddr = IP_RELAY, .daddr = IP_SERVER, .l4 = L4_DHCP, .sport = 67, .dport = 67,    \
		.giaddr = IP_RELAY, .src_mac = (relay_mac), .chaddr = (client_mac)                 \
	}
#define TFTP_FROM(mac, ip, port)                                                                   \
	{                                                                                          \
		.saddr = (ip), .daddr = IP_SERVER, .l4 = (port) == 69 ? L4_TFTP_RRQ : L4_TFTP_ACK, \
		.sport = 2070, .dport = (port), .src_mac = (mac)                                   \
	}

static void verdict(const char *what, struct frame_spec fs, uint32_t v, unsigned counter)
{
	uint8_t frame[FRAME_MAX];
	size_t len = build_frame(frame, &fs);

	expect_verdict(what, frame, len, v, counter);
}

/* Run a frame n times in one test run (repeat): how many of each counter. */
static void run_repeat(struct frame_spec fs, uint32_t n, struct sb_xdp_counters *c)
{
	uint8_t frame[FRAME_MAX];
	size_t len = build_frame(frame, &fs);
	uint32_t ret;

	counters_reset();
	assert_int_equal(run_frame(frame, len, n, &ret), 0);
	counters_read(c);
}

void test_guard_mac_deny(void **state)
{
	struct xdp_ctl_mac_entry e[4];

	settings_lab();
	xsk_slot_fill(1);
	assert_int_equal(xdp_ctl_mac_list(&T.ctl, XDP_CTL_DENY, e, 4), 0);
	assert_int_equal(xdp_ctl_mac_add(&T.ctl, XDP_CTL_DENY, mac_client), 0);

	verdict("denied MAC: DISCOVER", (struct frame_spec)DHCP_FROM(mac_client), D,
		SB_XDP_CNT_DROP_MAC_DENY);
	verdict("denied MAC: TFTP RRQ", (struct frame_spec)TFTP_FROM(mac_client, IP_CLIENT, 69), D,
		SB_XDP_CNT_DROP_MAC_DENY);
	verdict("denied MAC: TFTP ACK to a transfer port",
		(struct frame_spec)TFTP_FROM(mac_client, IP_CLIENT, XFER_LO), D,
		SB_XDP_CNT_DROP_MAC_DENY);
	verdict("denied MAC: PXE 4011",
		(struct frame_spec)DHCP_FROM(mac_client, .daddr = IP_SERVER, .dport = 4011), D,
		SB_XDP_CNT_DROP_MAC_DENY);
	/* Only what would be steered is guarded: the kernel's traffic is not ours to drop. */
	verdict("denied MAC: ARP", (struct frame_spec){.l3 = L3_ARP}, P, SB_XDP_CNT_PASS_NOT_IPV4);
	verdict("denied MAC: UDP to 53",
		(struct frame_spec){.saddr = IP_CLIENT,
				    .daddr = IP_SERVER,
				    .l4 = L4_UDP_DATA,
				    .sport = 5353,
				    .dport = 53},
		P, SB_XDP_CNT_PASS_OTHER_PORT);
	verdict("denied MAC: router solicitation (not guarded)",
		(struct frame_spec){.l3 = L3_IPV6, .l4 = L4_ICMPV6_RS}, R, SB_XDP_CNT_REDIR_RS);
	verdict("another MAC: DISCOVER", (struct frame_spec)DHCP_FROM(mac_other), R,
		SB_XDP_CNT_REDIR_DHCP);
	/* A relayed message is the relay's frame: the client is chaddr (RFC 2131 4.1). */
	verdict("relayed for the denied MAC", (struct frame_spec)RELAYED(mac_relay, mac_client), D,
		SB_XDP_CNT_DROP_MAC_DENY);
	verdict("relayed for another MAC", (struct frame_spec)RELAYED(mac_relay, mac_other), R,
		SB_XDP_CNT_REDIR_DHCP);
	/* Not relayed: the Ethernet source counts, whatever chaddr claims. */
	verdict("local DISCOVER claiming the denied chaddr",
		(struct frame_spec)DHCP_FROM(mac_other, .chaddr = mac_client), R,
		SB_XDP_CNT_REDIR_DHCP);
	verdict("local DISCOVER from the denied MAC claiming another chaddr",
		(struct frame_spec)DHCP_FROM(mac_client, .chaddr = mac_other), D,
		SB_XDP_CNT_DROP_MAC_DENY);

	/* The list: one entry, its drops counted; adding again keeps the count. */
	assert_int_equal(xdp_ctl_mac_list(&T.ctl, XDP_CTL_DENY, e, 4), 1);
	assert_memory_equal(e[0].mac, mac_client, 6);
	assert_int_equal(e[0].drops, 6);
	assert_int_equal(xdp_ctl_mac_add(&T.ctl, XDP_CTL_DENY, mac_client), 0);
	assert_int_equal(xdp_ctl_mac_add(&T.ctl, XDP_CTL_DENY, mac_other), 0);
	assert_int_equal(xdp_ctl_mac_list(&T.ctl, XDP_CTL_DENY, e, 1), 2); /* cap 1, 2 there */
	assert_int_equal(xdp_ctl_mac_list(&T.ctl, XDP_CTL_DENY, e, 4), 2);
	assert_int_equal(e[0].drops + e[1].drops, 6);
	verdict("second denied MAC", (struct frame_spec)DHCP_FROM(mac_other), D,
		SB_XDP_CNT_DROP_MAC_DENY);

	/* Delete: served again at once; deleting twice says so. */
	assert_int_equal(xdp_ctl_mac_del(&T.ctl, XDP_CTL_DENY, mac_client), 0);
	assert_int_equal(xdp_ctl_mac_del(&T.ctl, XDP_CTL_DENY, mac_client), -ENOENT);
	verdict("deleted from the deny list", (struct frame_spec)DHCP_FROM(mac_client), R,
		SB_XDP_CNT_REDIR_DHCP);
	assert_int_equal(xdp_ctl_mac_clear(&T.ctl, XDP_CTL_DENY), 0);
	assert_int_equal(xdp_ctl_mac_list(&T.ctl, XDP_CTL_DENY, e, 4), 0);
	verdict("deny list cleared", (struct frame_spec)DHCP_FROM(mac_other), R,
		SB_XDP_CNT_REDIR_DHCP);
	assert_int_equal(xdp_ctl_mac_list(&T.ctl, (enum xdp_ctl_list)7, e, 4), -EINVAL);
}

void test_guard_mac_allow(void **state)
{
	struct sb_xdp_settings s;

	settings_lab();
	xsk_slot_fill(1);
	/* Enforcing an empty allow list would drop everyone: refused. */
	assert_int_equal(xdp_ctl_mac_allow_only(&T.ctl, true), -ENODATA);
	assert_int_equal(xdp_ctl_mac_add(&T.ctl, XDP_CTL_ALLOW, mac_other), 0);
	/* Listed but not enforced: everyone passes. */
	verdict("allow list not enforced", (struct frame_spec)DHCP_FROM(mac_client), R,
		SB_XDP_CNT_REDIR_DHCP);
	assert_int_equal(xdp_ctl_mac_allow_only(&T.ctl, true), 0);
	assert_int_equal(xdp_ctl_settings_get(&T.ctl, &s), 0);
	assert_true(s.flags & SB_XDP_F_MAC_ALLOW);

	verdict("not allowed: DISCOVER", (struct frame_spec)DHCP_FROM(mac_client), D,
		SB_XDP_CNT_DROP_MAC_NOT_ALLOWED);
	verdict("not allowed: TFTP ACK",
		(struct frame_spec)TFTP_FROM(mac_client, IP_CLIENT, XFER_HI), D,
		SB_XDP_CNT_DROP_MAC_NOT_ALLOWED);
	verdict("allowed: DISCOVER", (struct frame_spec)DHCP_FROM(mac_other), R,
		SB_XDP_CNT_REDIR_DHCP);
	verdict("allowed: TFTP RRQ", (struct frame_spec)TFTP_FROM(mac_other, IP_CLIENT, 69), R,
		SB_XDP_CNT_REDIR_TFTP);
	verdict("relayed for an allowed client", (struct frame_spec)RELAYED(mac_relay, mac_other),
		R, SB_XDP_CNT_REDIR_DHCP);
	verdict("relayed for a client not allowed",
		(struct frame_spec)RELAYED(mac_relay, mac_client), D,
		SB_XDP_CNT_DROP_MAC_NOT_ALLOWED);
	verdict("not allowed: ICMP still the kernel's",
		(struct frame_spec){.saddr = IP_CLIENT, .daddr = IP_SERVER, .l4 = L4_ICMP_ECHO}, P,
		SB_XDP_CNT_PASS_NOT_UDP);
	/* Deny wins over allow (the config refuses a MAC on both; the maps do not). */
	assert_int_equal(xdp_ctl_mac_add(&T.ctl, XDP_CTL_DENY, mac_other), 0);
	verdict("allowed and denied", (struct frame_spec)DHCP_FROM(mac_other), D,
		SB_XDP_CNT_DROP_MAC_DENY);
	assert_int_equal(xdp_ctl_mac_del(&T.ctl, XDP_CTL_DENY, mac_other), 0);

	assert_int_equal(xdp_ctl_mac_allow_only(&T.ctl, false), 0);
	verdict("allow list no longer enforced", (struct frame_spec)DHCP_FROM(mac_client), R,
		SB_XDP_CNT_REDIR_DHCP);
	assert_int_equal(xdp_ctl_mac_clear(&T.ctl, XDP_CTL_ALLOW), 0);
}

void test_guard_rate_dhcp(void **state)
{
	struct sb_xdp_rate r = {.per_second = 1, .burst = 3}, got;
	struct sb_xdp_counters c;

	settings_lab();
	xsk_slot_fill(1);
	assert_int_equal(xdp_ctl_rate_get(&T.ctl, XDP_CTL_RATE_DHCP, &got), 0);
	assert_int_equal(got.per_second, 0); /* none by default */
	assert_int_equal(xdp_ctl_rate_set(&T.ctl, XDP_CTL_RATE_DHCP, &r), 0);
	assert_int_equal(xdp_ctl_rate_get(&T.ctl, XDP_CTL_RATE_DHCP, &got), 0);
	assert_memory_equal(&got, &r, sizeof(r));

	/* One MAC, 10 DISCOVERs at once: the burst of 3 through, 7 dropped. */
	run_repeat((struct frame_spec)DHCP_FROM(mac_client), 10, &c);
	assert_int_equal(c.redirected_dhcp, 3);
	assert_int_equal(c.drop_rate_dhcp, 7);
	/* PXE shares the client's bucket; another MAC has its own; TFTP is not limited. */
	verdict("PXE from the same client",
		(struct frame_spec)DHCP_FROM(mac_client, .daddr = IP_SERVER, .dport = 4011), D,
		SB_XDP_CNT_DROP_RATE_DHCP);
	verdict("another MAC", (struct frame_spec)DHCP_FROM(mac_other), R, SB_XDP_CNT_REDIR_DHCP);
	verdict("relayed for a third client (its own bucket, not the relay's)",
		(struct frame_spec)RELAYED(mac_client, mac_relay), R, SB_XDP_CNT_REDIR_DHCP);
	run_repeat((struct frame_spec)TFTP_FROM(mac_client, IP_CLIENT, 69), 20, &c);
	assert_int_equal(c.redirected_tftp, 20);

	/* 10 per second, burst 1: one now, the next refused, one again 150 ms later. */
	map_empty(T.rate_fd, sizeof(struct sb_xdp_rate_key));
	r = (struct sb_xdp_rate){.per_second = 10, .burst = 1};
	assert_int_equal(xdp_ctl_rate_set(&T.ctl, XDP_CTL_RATE_DHCP, &r), 0);
	verdict("10/s: first", (struct frame_spec)DHCP_FROM(mac_client), R, SB_XDP_CNT_REDIR_DHCP);
	verdict("10/s: at once", (struct frame_spec)DHCP_FROM(mac_client), D,
		SB_XDP_CNT_DROP_RATE_DHCP);
	usleep(150 * 1000);
	verdict("10/s: 150 ms later", (struct frame_spec)DHCP_FROM(mac_client), R,
		SB_XDP_CNT_REDIR_DHCP);

	/* Off again: no limit. */
	r = (struct sb_xdp_rate){0, 0};
	assert_int_equal(xdp_ctl_rate_set(&T.ctl, XDP_CTL_RATE_DHCP, &r), 0);
	run_repeat((struct frame_spec)DHCP_FROM(mac_client), 50, &c);
	assert_int_equal(c.redirected_dhcp, 50);
	assert_int_equal(c.drop_rate_dhcp, 0);

	/* Refused rates leave the settings as they were. */
	static const struct sb_xdp_rate bad[] = {
		{0, 1}, {1, 0}, {SB_XDP_RATE_PPS_MAX + 1, 1}, {1, SB_XDP_RATE_BURST_MAX + 1}};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(xdp_ctl_rate_set(&T.ctl, XDP_CTL_RATE_DHCP, &bad[i]), -ERANGE);
	assert_int_equal(xdp_ctl_rate_set(&T.ctl, (enum xdp_ctl_rate_kind)5, &r), -EINVAL);
	assert_int_equal(xdp_ctl_rate_get(&T.ctl, XDP_CTL_RATE_DHCP, &got), 0);
	assert_int_equal(got.per_second, 0);
}

void test_guard_rate_tftp(void **state)
{
	struct sb_xdp_rate r = {.per_second = 1, .burst = 2};
	struct sb_xdp_counters c;

	settings_lab();
	xsk_slot_fill(1);
	assert_int_equal(xdp_ctl_rate_set(&T.ctl, XDP_CTL_RATE_TFTP, &r), 0);
	/* Per source address: RRQs and ACKs of one client share a bucket, whatever the MAC. */
	verdict("RRQ", (struct frame_spec)TFTP_FROM(mac_client, IP_CLIENT, 69), R,
		SB_XDP_CNT_REDIR_TFTP);
	verdict("ACK", (struct frame_spec)TFTP_FROM(mac_other, IP_CLIENT, XFER_LO), R,
		SB_XDP_CNT_REDIR_XFER);
	verdict("ACK over the limit", (struct frame_spec)TFTP_FROM(mac_client, IP_CLIENT, XFER_LO),
		D, SB_XDP_CNT_DROP_RATE_TFTP);
	verdict("RRQ over the limit", (struct frame_spec)TFTP_FROM(mac_client, IP_CLIENT, 69), D,
		SB_XDP_CNT_DROP_RATE_TFTP);
	verdict("another source address", (struct frame_spec)TFTP_FROM(mac_client, IP_OTHER, 69), R,
		SB_XDP_CNT_REDIR_TFTP);
	run_repeat((struct frame_spec)DHCP_FROM(mac_client), 20, &c);
	assert_int_equal(c.redirected_dhcp, 20); /* DHCP has its own limit: none */
	r = (struct sb_xdp_rate){0, 0};
	assert_int_equal(xdp_ctl_rate_set(&T.ctl, XDP_CTL_RATE_TFTP, &r), 0);
	verdict("limit off", (struct frame_spec)TFTP_FROM(mac_client, IP_CLIENT, 69), R,
		SB_XDP_CNT_REDIR_TFTP);
}

void test_guard_vlans(void **state)
{
	const struct sb_xdp_vlan untagged = {0, 0}, v100 = {100, 0}, qinq = {100, 101};
	struct sb_xdp_vlan got[4];
	bool every = false;

	settings_lab();
	xsk_slot_fill(1);
	/* By default every VLAN is steered (as it always was). */
	assert_int_equal(xdp_ctl_vlans_get(&T.ctl, got, 4, &every), 0);
	assert_true(every);
	verdict("default: 802.1Q",
		(struct frame_spec)DHCP_FROM(mac_client, .vlan_tpid = {ETH_P_8021Q}), R,
		SB_XDP_CNT_REDIR_DHCP);

	assert_int_equal(xdp_ctl_vlans_set(&T.ctl, &untagged, 1), 0);
	assert_int_equal(xdp_ctl_vlans_get(&T.ctl, got, 4, &every), 1);
	assert_false(every);
	assert_memory_equal(&got[0], &untagged, sizeof(untagged));
	verdict("untagged only: untagged", (struct frame_spec)DHCP_FROM(mac_client), R,
		SB_XDP_CNT_REDIR_DHCP);
	verdict("untagged only: priority tag (VID 0)",
		(struct frame_spec)DHCP_FROM(mac_client, .vlan_tpid = {ETH_P_8021Q},
					     .vid = {VID_ZERO}, .vlan_pcp = 5),
		R, SB_XDP_CNT_REDIR_DHCP);
	verdict("untagged only: VLAN 100",
		(struct frame_spec)DHCP_FROM(mac_client, .vlan_tpid = {ETH_P_8021Q}), P,
		SB_XDP_CNT_PASS_OTHER_VLAN);
	verdict("untagged only: TFTP on VLAN 100",
		(struct frame_spec){.saddr = IP_CLIENT,
				    .daddr = IP_SERVER,
				    .l4 = L4_TFTP_RRQ,
				    .sport = 2070,
				    .dport = 69,
				    .vlan_tpid = {ETH_P_8021Q}},
		P, SB_XDP_CNT_PASS_OTHER_VLAN);
	verdict("untagged only: RS on VLAN 100",
		(struct frame_spec){.l3 = L3_IPV6, .l4 = L4_ICMPV6_RS, .vlan_tpid = {ETH_P_8021Q}},
		P, SB_XDP_CNT_PASS_OTHER_VLAN);
	verdict("untagged only: ARP on VLAN 100 (never ours)",
		(struct frame_spec){.l3 = L3_ARP, .vlan_tpid = {ETH_P_8021Q}}, P,
		SB_XDP_CNT_PASS_NOT_IPV4);

	/* Replace the set: VLAN 100 and one QinQ pair. */
	const struct sb_xdp_vlan two[] = {v100, qinq};
	assert_int_equal(xdp_ctl_vlans_set(&T.ctl, two, 2), 0);
	assert_int_equal(xdp_ctl_vlans_get(&T.ctl, got, 4, &every), 2); /* untagged gone */
	verdict("{100, 100.101}: untagged", (struct frame_spec)DHCP_FROM(mac_client), P,
		SB_XDP_CNT_PASS_OTHER_VLAN);
	verdict("{100, 100.101}: VLAN 100",
		(struct frame_spec)DHCP_FROM(mac_client, .vlan_tpid = {ETH_P_8021Q}), R,
		SB_XDP_CNT_REDIR_DHCP);
	verdict("{100, 100.101}: QinQ 100.101",
		(struct frame_spec)DHCP_FROM(mac_client, .vlan_tpid = {ETH_P_8021AD, ETH_P_8021Q}),
		R, SB_XDP_CNT_REDIR_DHCP);
	verdict("{100, 100.101}: QinQ 100.102",
		(struct frame_spec)DHCP_FROM(mac_client, .vlan_tpid = {ETH_P_8021AD, ETH_P_8021Q},
					     .vid = {100, 102}),
		P, SB_XDP_CNT_PASS_OTHER_VLAN);
	verdict("{100, 100.101}: VLAN 101",
		(struct frame_spec)DHCP_FROM(mac_client, .vlan_tpid = {ETH_P_8021Q}, .vid = {101}),
		P, SB_XDP_CNT_PASS_OTHER_VLAN);
	verdict("{100, 100.101}: RS on VLAN 100",
		(struct frame_spec){.l3 = L3_IPV6, .l4 = L4_ICMPV6_RS, .vlan_tpid = {ETH_P_8021Q}},
		R, SB_XDP_CNT_REDIR_RS);

	/* Guard after the VLAN check: a denied MAC on a VLAN we do not serve is passed. */
	assert_int_equal(xdp_ctl_mac_add(&T.ctl, XDP_CTL_DENY, mac_client), 0);
	verdict("denied MAC on a VLAN not served", (struct frame_spec)DHCP_FROM(mac_client), P,
		SB_XDP_CNT_PASS_OTHER_VLAN);
	assert_int_equal(xdp_ctl_mac_clear(&T.ctl, XDP_CTL_DENY), 0);

	/* Refused entries change nothing. */
	const struct sb_xdp_vlan bad1 = {0, 5}, bad2 = {4095, 0}, bad3 = {7, 4095};
	assert_int_equal(xdp_ctl_vlans_set(&T.ctl, &bad1, 1), -EINVAL);
	assert_int_equal(xdp_ctl_vlans_set(&T.ctl, &bad2, 1), -EINVAL);
	assert_int_equal(xdp_ctl_vlans_set(&T.ctl, &bad3, 1), -EINVAL);
	assert_int_equal(xdp_ctl_vlans_get(&T.ctl, got, 4, &every), 2);

	/* Every VLAN again; the set is emptied. */
	assert_int_equal(xdp_ctl_vlans_set(&T.ctl, NULL, 0), 0);
	assert_int_equal(xdp_ctl_vlans_get(&T.ctl, got, 4, &every), 0);
	assert_true(every);
	verdict("every VLAN again: untagged", (struct frame_spec)DHCP_FROM(mac_client), R,
		SB_XDP_CNT_REDIR_DHCP);
	{
		unsigned char k[8];
		assert_int_equal(bpf_map_get_next_key(T.ctl.vlans_fd, NULL, k), -ENOENT);
	}
}

void test_guard_dhcp_dst(void **state)
{
	struct sb_xdp_settings s = {.flags = SB_XDP_F_ENABLE | SB_XDP_F_DHCP_DST,
				    .port_mask = SB_XDP_PORT_M_ALL};

	settings_lab();
	xsk_slot_fill(1);
	/* Needs our address. */
	assert_int_equal(xdp_ctl_settings_set(&T.ctl, &s), -EINVAL);
	s.server_ip_be = htonl(IP_SERVER);
	assert_int_equal(xdp_ctl_settings_set(&T.ctl, &s), 0);

	verdict("broadcast DISCOVER", (struct frame_spec)DHCP_FROM(mac_client), R,
		SB_XDP_CNT_REDIR_DHCP);
	verdict("renewal to us",
		(struct frame_spec)DHCP_FROM(mac_client, .saddr = IP_CLIENT, .daddr = IP_SERVER), R,
		SB_XDP_CNT_REDIR_DHCP);
	verdict("relayed to us", (struct frame_spec)RELAYED(mac_relay, mac_client), R,
		SB_XDP_CNT_REDIR_DHCP);
	verdict("renewal to another server",
		(struct frame_spec)DHCP_FROM(mac_client, .saddr = IP_CLIENT, .daddr = IP_OTHER), P,
		SB_XDP_CNT_PASS_OTHER_DST);
	verdict("PXE to another boot server",
		(struct frame_spec)DHCP_FROM(mac_client, .daddr = IP_OTHER, .dport = 4011), P,
		SB_XDP_CNT_PASS_OTHER_DST);
	verdict("PXE to us",
		(struct frame_spec)DHCP_FROM(mac_client, .daddr = IP_SERVER, .dport = 4011), R,
		SB_XDP_CNT_REDIR_PXE);
	verdict("PXE broadcast", (struct frame_spec)DHCP_FROM(mac_client, .dport = 4011), R,
		SB_XDP_CNT_REDIR_PXE);
	verdict("subnet broadcast is not 255.255.255.255",
		(struct frame_spec)DHCP_FROM(mac_client, .daddr = 0xc61200ffu), P,
		SB_XDP_CNT_PASS_OTHER_DST);
	/* Without the flag (the default) any destination is steered. */
	settings_lab();
	verdict("no filter: renewal to another server",
		(struct frame_spec)DHCP_FROM(mac_client, .saddr = IP_CLIENT, .daddr = IP_OTHER), R,
		SB_XDP_CNT_REDIR_DHCP);
}

void test_guard_validate(void **state)
{
	static const struct {
		struct sb_xdp_settings s;
		int err;
	} v[] = {
		{{.flags = SB_XDP_F_ENABLE | SB_XDP_F_RS_AUTO, .port_mask = SB_XDP_PORT_M_VALID},
		 0},
		{{.flags = SB_XDP_F_ENABLE | SB_XDP_F_RS_AUTO, .port_mask = SB_XDP_PORT_M_ALL},
		 -EINVAL},
		{{.flags = SB_XDP_F_ENABLE | SB_XDP_F_MAC_ALLOW | SB_XDP_F_VLAN_SET}, 0},
		{{.flags = SB_XDP_F_ENABLE | SB_XDP_F_DHCP_DST}, -EINVAL},
		{{.flags = SB_XDP_F_ENABLE | SB_XDP_F_DHCP_DST, .server_ip_be = 1}, 0},
		{{.flags = 1u << 6}, -EINVAL},
		{{.flags = SB_XDP_F_ENABLE, .reserved8 = {0, 1}}, -EINVAL},
		{{.flags = SB_XDP_F_ENABLE, .reserved = {0, 0, 0, 0, 0, 1}}, -EINVAL},
		{{.flags = SB_XDP_F_ENABLE, .own_mac = {2, 0, 0, 0, 0, 1}}, 0},
		{{.flags = SB_XDP_F_ENABLE, .dhcp_rate = {1, 1}, .tftp_rate = {1000000, 1000000}},
		 0},
		{{.flags = SB_XDP_F_ENABLE, .dhcp_rate = {0, 1}}, -ERANGE},
		{{.flags = SB_XDP_F_ENABLE, .tftp_rate = {5, 0}}, -ERANGE},
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct sb_xdp_settings s = v[i].s;

		s.flags |= SB_XDP_F_VALID;
		if (xdp_ctl_settings_validate(&s) != v[i].err)
			fail_msg("case %zu: %d, expected %d", i, xdp_ctl_settings_validate(&s),
				 v[i].err);
	}
}

/* What the dataplane does at start: a parsed config written into the maps. */
void test_guard_apply_config(void **state)
{
	static const uint8_t own[6] = {0x02, 0x5b, 0, 0, 0, 1};
	static const char *cfg_full =
		"{\"interface\":\"sb0\",\"server_ip\":\"198.18.0.1\",\"dhcp\":{\"mode\":\"off\"},"
		"\"tftp\":{\"transfer_ports\":{\"first\":41000,\"last\":41099}},"
		"\"guard\":{\"vlans\":[\"untagged\",100],\"dhcp_destination\":\"server\","
		"\"mac_deny\":[\"02:00:5e:10:00:64\",\"02:00:5e:10:00:66\"],"
		"\"mac_allow\":[\"02:00:5e:10:00:65\"],"
		"\"dhcp_rate\":{\"per_second\":20,\"burst\":40},"
		"\"tftp_rate\":{\"per_second\":5000,\"burst\":9000}}}";
	static const char *cfg_less =
		"{\"interface\":\"sb0\",\"server_ip\":\"198.18.0.1\",\"dhcp\":{\"mode\":\"off\"},"
		"\"ipv6_ra\":false,\"guard\":{\"mac_deny\":[\"02:00:5e:10:00:64\"]}}";
	struct xdp_ctl_mac_entry e[4];
	struct sb_xdp_settings s;
	struct sb_xdp_vlan vl[4];
	char err[SBCFG_ERR_MAX];
	struct sbcfg cfg;
	bool every;

	settings_lab();
	xsk_slot_fill(1);
	if (sbcfg_load_string(cfg_full, &cfg, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(xdp_ctl_apply_config(&T.ctl, &cfg, own, err, sizeof(err)), 0);
	sbcfg_free(&cfg);
	assert_int_equal(xdp_ctl_settings_get(&T.ctl, &s), 0);
	assert_int_equal(s.flags, SB_XDP_F_VALID | SB_XDP_F_ENABLE | SB_XDP_F_RS_AUTO |
					  SB_XDP_F_MAC_ALLOW | SB_XDP_F_VLAN_SET |
					  SB_XDP_F_DHCP_DST);
	/* "auto" by default: RS too; no conflict probes (DHCP off) */
	assert_int_equal(s.port_mask, SB_XDP_PORT_M_ALL | SB_XDP_PORT_M_RS);
	assert_int_equal(s.xfer_port_lo, 41000);
	assert_int_equal(s.xfer_port_hi, 41099);
	assert_int_equal(s.server_ip_be, htonl(IP_SERVER));
	assert_int_equal(s.dhcp_rate.per_second, 20);
	assert_int_equal(s.dhcp_rate.burst, 40);
	assert_int_equal(s.tftp_rate.per_second, 5000);
	assert_int_equal(s.tftp_rate.burst, 9000);
	assert_memory_equal(s.own_mac, own, 6);
	assert_int_equal(xdp_ctl_mac_list(&T.ctl, XDP_CTL_DENY, e, 4), 2);
	assert_int_equal(xdp_ctl_mac_list(&T.ctl, XDP_CTL_ALLOW, e, 4), 1);
	assert_memory_equal(e[0].mac, mac_other, 6);
	assert_int_equal(xdp_ctl_vlans_get(&T.ctl, vl, 4, &every), 2);
	assert_false(every);
	/* In force: the denied client is dropped, the allowed one served, VLAN 101 passed. */
	verdict("config: denied", (struct frame_spec)DHCP_FROM(mac_client), D,
		SB_XDP_CNT_DROP_MAC_DENY);
	verdict("config: allowed", (struct frame_spec)DHCP_FROM(mac_other), R,
		SB_XDP_CNT_REDIR_DHCP);
	verdict("config: VLAN 101",
		(struct frame_spec)DHCP_FROM(mac_other, .vlan_tpid = {ETH_P_8021Q}, .vid = {101}),
		P, SB_XDP_CNT_PASS_OTHER_VLAN);

	/* A smaller config replaces the lists (the kept MAC keeps its drop count) and clears the
	 * rest; "ipv6_ra": false clears the RS bits. */
	if (sbcfg_load_string(cfg_less, &cfg, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(xdp_ctl_apply_config(&T.ctl, &cfg, NULL, err, sizeof(err)), 0);
	sbcfg_free(&cfg);
	assert_int_equal(xdp_ctl_settings_get(&T.ctl, &s), 0);
	assert_int_equal(s.flags, SB_XDP_F_VALID | SB_XDP_F_ENABLE);
	assert_int_equal(s.port_mask, SB_XDP_PORT_M_ALL);
	assert_int_equal(s.dhcp_rate.per_second, 0);
	assert_int_equal(s.tftp_rate.per_second, 0);
	assert_int_equal(s.xfer_port_lo, 61000); /* the default range */
	assert_int_equal(s.own_mac[0] | s.own_mac[5], 0);
	assert_int_equal(xdp_ctl_mac_list(&T.ctl, XDP_CTL_DENY, e, 4), 1);
	assert_memory_equal(e[0].mac, mac_client, 6);
	assert_int_equal(e[0].drops, 1);

	/* dhcp.conflict_probe_ms: the replies to the probes are steered too. */
	if (sbcfg_load_string("{\"interface\":\"sb0\",\"server_ip\":\"198.18.0.1\","
			      "\"dhcp\":{\"conflict_probe_ms\":200,\"subnets\":[{\"network\":"
			      "\"198.18.0.0/24\",\"pool\":{\"start\":\"198.18.0.100\","
			      "\"end\":\"198.18.0.110\"}}]},\"ipv6_ra\":false}",
			      &cfg, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(xdp_ctl_apply_config(&T.ctl, &cfg, NULL, err, sizeof(err)), 0);
	sbcfg_free(&cfg);
	assert_int_equal(xdp_ctl_settings_get(&T.ctl, &s), 0);
	assert_int_equal(s.port_mask, SB_XDP_PORT_M_ALL | SB_XDP_PORT_M_ARP_PROBE);
	assert_int_equal(xdp_ctl_mac_list(&T.ctl, XDP_CTL_ALLOW, e, 4), 0);
	assert_int_equal(xdp_ctl_vlans_get(&T.ctl, vl, 4, &every), 0);
	assert_true(every);
	verdict("smaller config: VLAN 101 steered again",
		(struct frame_spec)DHCP_FROM(mac_other, .vlan_tpid = {ETH_P_8021Q}, .vid = {101}),
		R, SB_XDP_CNT_REDIR_DHCP);
	settings_lab();
}
