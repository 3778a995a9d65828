/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Root test of the XDP steering program (suite 'root').
 *
 * The object is loaded with libbpf, its pinned maps going to a private bpffs mounted on a temp
 * directory (never /sys/fs/bpf, so a running stormboot is not disturbed). Frames built here run
 * through BPF_PROG_TEST_RUN.
 *
 * How the steering decision is asserted: xsks_map slot 0 holds a real AF_XDP socket (created,
 * not bound: the kernel accepts any AF_XDP socket in an XSKMAP), so bpf_redirect_map() finds it
 * and the program returns XDP_REDIRECT, which test-run reports unchanged; with the slot empty
 * the same frame gives XDP_PASS and counts redirect_failed. Every case also checks that exactly
 * one verdict counter moved, and which one.
 *
 * The parts (one executable, meson test "xdp"): xdp_test.c steering (the verdict table, truncated
 * frames, settings, counters, pinned maps, frames captured from real clients), xdp_test_guard.c
 * the flood guard, VLAN set and DHCP destinations with their xdp_ctl functions, xdp_test_ra.c
 * "ipv6_ra": "auto", xdp_test_veth.c the program on a veth in namespaces of its own; the object
 * and helpers are in xdp_test_env.c, the frame builder in xdp_test_frames.c.
 */
#include <dirent.h>
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
#include <sys/stat.h>

#include <linux/bpf.h>
#include <linux/if_ether.h>

#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xdp_test.h"
#include "fixtures.h"

/* ------------------------------------------------------------------------------------------ */
/* The table                                                                                  */

struct verdict_case {
	const char *name;
	struct frame_spec fs;
	uint32_t verdict;
	unsigned counter;
	int prefixes_truncated; /* every strict prefix from 14 bytes is pass_truncated */
};

/* clang-format off */
/* A UDP/IPv4 frame spec; further designated initialisers may follow. */
#define UDP4_(src, dst, kind, sp, dp, ...) \
	{.saddr = (src), .daddr = (dst), .l4 = (kind), .sport = (sp), .dport = (dp), __VA_ARGS__}
#define UDP4(...) UDP4_(__VA_ARGS__) /* lets CS expand to two arguments */
#define CS	      IP_CLIENT, IP_SERVER /* client to server, unicast */
#define DISCOVER(...) UDP4(0, IP_BCAST, L4_DHCP, 68, 67, __VA_ARGS__)
#define RS6(...)      {.l3 = L3_IPV6, .l4 = L4_ICMPV6_RS, __VA_ARGS__}

static const struct verdict_case cases[] = {
	{"DHCP DISCOVER broadcast", DISCOVER(), R, SB_XDP_CNT_REDIR_DHCP, 1},
	{"DHCP relayed unicast with giaddr",
	 UDP4(IP_RELAY, IP_SERVER, L4_DHCP, 67, 67, .giaddr = IP_RELAY), R, SB_XDP_CNT_REDIR_DHCP, 1},
	{"PXE boot server request to 4011", UDP4(CS, L4_DHCP, 68, 4011), R, SB_XDP_CNT_REDIR_PXE, 1},
	{"TFTP RRQ to 69", UDP4(CS, L4_TFTP_RRQ, 2070, 69), R, SB_XDP_CNT_REDIR_TFTP, 1},
	{"TFTP ACK to first transfer port", UDP4(CS, L4_TFTP_ACK, 2070, XFER_LO), R,
	 SB_XDP_CNT_REDIR_XFER, 1},
	{"TFTP ACK to last transfer port", UDP4(CS, L4_TFTP_ACK, 2070, XFER_HI), R,
	 SB_XDP_CNT_REDIR_XFER, 1},
	{"TFTP ACK padded to 60 bytes", UDP4(CS, L4_TFTP_ACK, 2070, XFER_LO + 7, .pad_to = 60), R,
	 SB_XDP_CNT_REDIR_XFER, 0},
	{"UDP just below the transfer range", UDP4(CS, L4_TFTP_ACK, 2070, XFER_LO - 1), P,
	 SB_XDP_CNT_PASS_OTHER_PORT, 1},
	{"UDP just above the transfer range", UDP4(CS, L4_TFTP_ACK, 2070, XFER_HI + 1), P,
	 SB_XDP_CNT_PASS_OTHER_PORT, 1},
	{"DHCP reply 67 -> 68 of another server", UDP4(IP_SERVER, IP_BCAST, L4_DHCP, 67, 68), P,
	 SB_XDP_CNT_PASS_DHCP_SERVER, 1},
	{"UDP to DHCP client port 68 from elsewhere", UDP4(IP_SERVER, IP_BCAST, L4_DHCP, 1067, 68), P,
	 SB_XDP_CNT_PASS_OTHER_PORT, 1},
	{"UDP to DNS 53", UDP4(CS, L4_UDP_DATA, 5353, 53), P, SB_XDP_CNT_PASS_OTHER_PORT, 1},
	{"UDP from port 67 to port 69 is TFTP", UDP4(CS, L4_TFTP_RRQ, 67, 69), R,
	 SB_XDP_CNT_REDIR_TFTP, 0},
	{"ARP request", {.l3 = L3_ARP}, P, SB_XDP_CNT_PASS_NOT_IPV4, 0},
	{"ICMP echo request", UDP4(CS, L4_ICMP_ECHO, 0, 0), P, SB_XDP_CNT_PASS_NOT_UDP, 1},
	{"TCP SYN to 80", UDP4(CS, L4_TCP_SYN, 40000, 80), P, SB_XDP_CNT_PASS_NOT_UDP, 1},
	{"TCP SYN to 67 is not UDP", UDP4(CS, L4_TCP_SYN, 40000, 67), P, SB_XDP_CNT_PASS_NOT_UDP, 0},
	{"IPv6 UDP to 547", {.l3 = L3_IPV6}, P, SB_XDP_CNT_PASS_NOT_IPV4, 0},
	{"ICMPv6 router solicitation", RS6(), R, SB_XDP_CNT_REDIR_RS, 1},
	{"802.1Q router solicitation", RS6(.vlan_tpid = {ETH_P_8021Q}), R, SB_XDP_CNT_REDIR_RS, 1},
	{"QinQ router solicitation", RS6(.vlan_tpid = {ETH_P_8021AD, ETH_P_8021Q}), R,
	 SB_XDP_CNT_REDIR_RS, 1},
	{"RS payload length 8, option bytes as padding", RS6(.tot_len_delta = -8), R,
	 SB_XDP_CNT_REDIR_RS, 0},
	{"RS hop limit 64 (forwarded)", RS6(.hop_limit = 64), P, SB_XDP_CNT_PASS_NOT_IPV4, 0},
	{"RS hop limit 254", RS6(.hop_limit = 254), P, SB_XDP_CNT_PASS_NOT_IPV4, 0},
	{"RS code 1", RS6(.icmp_code = 1), P, SB_XDP_CNT_PASS_NOT_IPV4, 0},
	{"RS behind a hop-by-hop header", RS6(.ip6_hbh = 1), P, SB_XDP_CNT_PASS_NOT_IPV4, 0},
	{"RS with IP version 4 in an IPv6 EtherType", RS6(.ip_version = 4), P,
	 SB_XDP_CNT_PASS_NOT_IPV4, 0},
	{"RS payload length 4 (< 8)", RS6(.tot_len_delta = -12), P, SB_XDP_CNT_PASS_NOT_IPV4, 0},
	{"RS payload length 0", RS6(.tot_len_delta = -16), P, SB_XDP_CNT_PASS_NOT_IPV4, 0},
	{"RS payload length beyond the frame", RS6(.tot_len_delta = 1), P,
	 SB_XDP_CNT_PASS_TRUNCATED, 0},
	{"ICMPv6 neighbour solicitation", {.l3 = L3_IPV6, .l4 = L4_ICMPV6_NS}, P,
	 SB_XDP_CNT_PASS_NOT_IPV4, 0},
	{"802.1Q IPv6 UDP to 547", {.l3 = L3_IPV6, .vlan_tpid = {ETH_P_8021Q}}, P,
	 SB_XDP_CNT_PASS_NOT_IPV4, 0},
	{"802.1Q DHCP DISCOVER", DISCOVER(.vlan_tpid = {ETH_P_8021Q}), R, SB_XDP_CNT_REDIR_DHCP, 1},
	{"QinQ 802.1ad+802.1Q DHCP DISCOVER", DISCOVER(.vlan_tpid = {ETH_P_8021AD, ETH_P_8021Q}), R,
	 SB_XDP_CNT_REDIR_DHCP, 1},
	{"802.1Q TFTP RRQ", UDP4(CS, L4_TFTP_RRQ, 2070, 69, .vlan_tpid = {ETH_P_8021Q}), R,
	 SB_XDP_CNT_REDIR_TFTP, 1},
	{"three VLAN tags", DISCOVER(.vlan_tpid = {ETH_P_8021AD, ETH_P_8021Q, ETH_P_8021Q}), P,
	 SB_XDP_CNT_PASS_VLAN_DEPTH, 0},
	{"802.1Q ARP", {.l3 = L3_ARP, .vlan_tpid = {ETH_P_8021Q}}, P, SB_XDP_CNT_PASS_NOT_IPV4, 0},
	{"first fragment (MF) of UDP/67", DISCOVER(.frag_host = 0x2000), P,
	 SB_XDP_CNT_PASS_FRAGMENT, 1},
	{"later fragment (offset 185) with UDP/67 bytes", DISCOVER(.frag_host = 185), P,
	 SB_XDP_CNT_PASS_FRAGMENT, 1},
	{"DF set is not a fragment", DISCOVER(.frag_host = 0x4000), R, SB_XDP_CNT_REDIR_DHCP, 0},
	{"IHL 6 (options) DHCP", DISCOVER(.ihl = 6), R, SB_XDP_CNT_REDIR_DHCP, 1},
	{"IHL 15 (40 bytes of options) TFTP", UDP4(CS, L4_TFTP_RRQ, 2070, 69, .ihl = 15), R,
	 SB_XDP_CNT_REDIR_TFTP, 1},
	{"IHL 4", DISCOVER(.ihl = 4), P, SB_XDP_CNT_PASS_BAD_IPV4, 0},
	{"IHL 0", DISCOVER(.ihl = IHL_ZERO), P, SB_XDP_CNT_PASS_BAD_IPV4, 0},
	{"IP version 6 in an IPv4 EtherType", DISCOVER(.ip_version = 6), P,
	 SB_XDP_CNT_PASS_BAD_IPV4, 0},
	{"total length shorter than IPv4+UDP headers",
	 UDP4(CS, L4_TFTP_ACK, 2070, 69, .tot_len_delta = -5), P, SB_XDP_CNT_PASS_BAD_IPV4, 0},
	{"total length shorter than the IPv4 header",
	 UDP4(CS, L4_TFTP_ACK, 2070, 69, .tot_len_delta = -13), P, SB_XDP_CNT_PASS_BAD_IPV4, 0},
	{"total length beyond the frame", UDP4(CS, L4_TFTP_RRQ, 2070, 69, .tot_len_delta = 1), P,
	 SB_XDP_CNT_PASS_TRUNCATED, 0},
};
/* clang-format on */

static void test_verdict_table(void **state)
{
	uint8_t frame[FRAME_MAX];
	size_t i;

	settings_lab();
	xsk_slot_fill(1);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = build_frame(frame, &cases[i].fs);

		expect_verdict(cases[i].name, frame, len, cases[i].verdict, cases[i].counter);
	}
}

/* Every strict prefix of a frame is passed as truncated; below 14 bytes test-run refuses it. */
static void test_truncated_prefixes(void **state)
{
	uint8_t frame[FRAME_MAX];
	size_t i, len, cut, tried = 0;

	settings_lab();
	xsk_slot_fill(1);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (!cases[i].prefixes_truncated)
			continue;
		len = build_frame(frame, &cases[i].fs);
		for (cut = 0; cut < len; cut++) {
			char what[160];
			uint32_t ret = 0;
			int err;

			snprintf(what, sizeof(what), "%s cut to %zu", cases[i].name, cut);
			if (cut < ETH_HLEN) {
				/* The kernel refuses test frames shorter than Ethernet; if it
				 * ever runs them they must pass. */
				counters_reset();
				err = run_frame(frame, cut, 1, &ret);
				if (err == 0)
					assert_int_equal(ret, XDP_PASS);
				else
					assert_int_equal(err, -EINVAL);
				continue;
			}
			expect_verdict(what, frame, cut, XDP_PASS, SB_XDP_CNT_PASS_TRUNCATED);
			tried++;
		}
	}
	assert_true(tried > 1000);
}

/*
 * A cut router solicitation is pass_truncated when the program parses IPv6 (M_RS set), like a
 * cut IPv4 datagram; without M_RS IPv6 is not parsed and every cut is pass_not_ipv4.
 */
static void test_router_solicitation_cut(void **state)
{
	static const struct {
		const char *what;
		size_t len;
	} cuts[] = {
		{"RS, IPv6 header cut", ETH_HLEN + 20},
		{"RS, IPv6 header one byte short", ETH_HLEN + 39},
		{"RS, ICMPv6 header cut", ETH_HLEN + 40 + 4},
		{"RS, option cut", ETH_HLEN + 40 + 8 + 4},
	};
	uint8_t frame[FRAME_MAX];
	size_t i, len;

	xsk_slot_fill(1);
	len = build_rs(frame, 0);
	assert_int_equal(len, ETH_HLEN + 40 + 16);
	settings_lab();
	for (i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++)
		expect_verdict(cuts[i].what, frame, cuts[i].len, P, SB_XDP_CNT_PASS_TRUNCATED);
	settings_apply(SB_XDP_F_ENABLE, SB_XDP_PORT_M_ALL, XFER_LO, XFER_HI, 0);
	for (i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++)
		expect_verdict(cuts[i].what, frame, cuts[i].len, P, SB_XDP_CNT_PASS_NOT_IPV4);
	settings_lab();
	expect_verdict("RS whole", frame, len, R, SB_XDP_CNT_REDIR_RS);
}

/* Same frames, nobody on queue 0: passed to the kernel and counted as redirect_failed. */
static void test_empty_xsk_slot_passes(void **state)
{
	uint8_t frame[FRAME_MAX];
	size_t i, len, steered = 0;

	settings_lab();
	xsk_slot_fill(0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct frame_spec fs = cases[i].fs;

		if (cases[i].verdict != XDP_REDIRECT)
			continue;
		len = build_frame(frame, &fs);
		expect_verdict(cases[i].name, frame, len, XDP_PASS, SB_XDP_CNT_REDIRECT_FAILED);
		steered++;
	}
	assert_true(steered >= 8);
	xsk_slot_fill(1);
}

/* A map record never written (all zero) means the documented defaults. */
static void test_settings_defaults(void **state)
{
	struct sb_xdp_settings zero, got, def;
	uint8_t frame[FRAME_MAX];
	__u32 key = 0;
	size_t len;

	memset(&zero, 0, sizeof(zero));
	assert_int_equal(bpf_map_update_elem(T.ctl.settings_fd, &key, &zero, BPF_ANY), 0);
	xsk_slot_fill(1);

	assert_int_equal(xdp_ctl_settings_get(&T.ctl, &got), 0);
	xdp_ctl_settings_default(&def);
	assert_memory_equal(&got, &def, sizeof(got));
	assert_true(def.flags & SB_XDP_F_ENABLE);
	assert_int_equal(def.port_mask, SB_XDP_PORT_M_ALL);
	assert_int_equal(def.xfer_port_lo, 0);

	len = build_simple(frame, IP_BCAST, 67, L4_DHCP);
	expect_verdict("default DHCP", frame, len, R, SB_XDP_CNT_REDIR_DHCP);
	len = build_simple(frame, IP_SERVER, 4011, L4_DHCP);
	expect_verdict("default PXE", frame, len, R, SB_XDP_CNT_REDIR_PXE);
	len = build_simple(frame, IP_OTHER, 69, L4_TFTP_RRQ);
	expect_verdict("default TFTP, any address", frame, len, R, SB_XDP_CNT_REDIR_TFTP);
	len = build_simple(frame, IP_SERVER, XFER_LO, L4_TFTP_ACK);
	expect_verdict("default: no transfer range", frame, len, P, SB_XDP_CNT_PASS_OTHER_PORT);
	len = build_simple(frame, IP_SERVER, 0, L4_TFTP_ACK);
	expect_verdict("default: port 0 is not in a range", frame, len, P,
		       SB_XDP_CNT_PASS_OTHER_PORT);
	len = build_rs(frame, 0);
	expect_verdict("default: router solicitation not steered", frame, len, P,
		       SB_XDP_CNT_PASS_NOT_IPV4);
}

/* Writing the settings map changes verdicts on the next packet, no reload. */
static void test_settings_change_verdicts(void **state)
{
	uint8_t frame[FRAME_MAX];
	size_t len;

	xsk_slot_fill(1);

	/* TFTP 69 off: RRQs go to the kernel (e.g. a tftpd-hpa beside us), DHCP stays ours. */
	settings_apply(SB_XDP_F_ENABLE, SB_XDP_PORT_M_DHCP | SB_XDP_PORT_M_PXE, XFER_LO, XFER_HI,
		       0);
	len = build_simple(frame, IP_SERVER, 69, L4_TFTP_RRQ);
	expect_verdict("TFTP disabled", frame, len, P, SB_XDP_CNT_PASS_OTHER_PORT);
	len = build_simple(frame, IP_BCAST, 67, L4_DHCP);
	expect_verdict("DHCP with TFTP disabled", frame, len, R, SB_XDP_CNT_REDIR_DHCP);
	len = build_simple(frame, IP_SERVER, XFER_LO, L4_TFTP_ACK);
	expect_verdict("range with TFTP disabled", frame, len, R, SB_XDP_CNT_REDIR_XFER);

	/* DHCP off, PXE off. */
	settings_apply(SB_XDP_F_ENABLE, SB_XDP_PORT_M_TFTP, XFER_LO, XFER_HI, 0);
	len = build_simple(frame, IP_BCAST, 67, L4_DHCP);
	expect_verdict("DHCP disabled", frame, len, P, SB_XDP_CNT_PASS_OTHER_PORT);
	len = build_simple(frame, IP_SERVER, 4011, L4_DHCP);
	expect_verdict("PXE disabled", frame, len, P, SB_XDP_CNT_PASS_OTHER_PORT);

	/* Move the range: the old ports pass, the new ones are steered, edges exact. */
	settings_apply(SB_XDP_F_ENABLE, SB_XDP_PORT_M_ALL, 50000, 50000, 0);
	len = build_simple(frame, IP_SERVER, XFER_LO, L4_TFTP_ACK);
	expect_verdict("old range", frame, len, P, SB_XDP_CNT_PASS_OTHER_PORT);
	len = build_simple(frame, IP_SERVER, 50000, L4_TFTP_ACK);
	expect_verdict("one-port range", frame, len, R, SB_XDP_CNT_REDIR_XFER);
	len = build_simple(frame, IP_SERVER, 50001, L4_TFTP_ACK);
	expect_verdict("one past one-port range", frame, len, P, SB_XDP_CNT_PASS_OTHER_PORT);
	len = build_simple(frame, IP_SERVER, 49999, L4_TFTP_ACK);
	expect_verdict("one before one-port range", frame, len, P, SB_XDP_CNT_PASS_OTHER_PORT);

	/* Range up to 65535 (no wrap-around). */
	settings_apply(SB_XDP_F_ENABLE, SB_XDP_PORT_M_ALL, 65000, 65535, 0);
	len = build_simple(frame, IP_SERVER, 65535, L4_TFTP_ACK);
	expect_verdict("port 65535 in range", frame, len, R, SB_XDP_CNT_REDIR_XFER);

	/* Server address: TFTP and transfer ports only to it; DHCP/PXE unaffected. */
	settings_apply(SB_XDP_F_ENABLE, SB_XDP_PORT_M_ALL, XFER_LO, XFER_HI, IP_SERVER);
	len = build_simple(frame, IP_SERVER, 69, L4_TFTP_RRQ);
	expect_verdict("TFTP to our address", frame, len, R, SB_XDP_CNT_REDIR_TFTP);
	len = build_simple(frame, IP_OTHER, 69, L4_TFTP_RRQ);
	expect_verdict("TFTP to another host", frame, len, P, SB_XDP_CNT_PASS_OTHER_DST);
	len = build_simple(frame, IP_OTHER, XFER_LO, L4_TFTP_ACK);
	expect_verdict("transfer port, another host", frame, len, P, SB_XDP_CNT_PASS_OTHER_DST);
	len = build_simple(frame, IP_SERVER, XFER_LO, L4_TFTP_ACK);
	expect_verdict("transfer port, our address", frame, len, R, SB_XDP_CNT_REDIR_XFER);
	len = build_simple(frame, IP_BCAST, 67, L4_DHCP);
	expect_verdict("DHCP broadcast with server address set", frame, len, R,
		       SB_XDP_CNT_REDIR_DHCP);
	len = build_simple(frame, IP_OTHER, 4011, L4_DHCP);
	expect_verdict("PXE to another address still ours", frame, len, R, SB_XDP_CNT_REDIR_PXE);

	/* Router solicitations: only with SB_XDP_PORT_M_RS, independent of the UDP bits. */
	settings_apply(SB_XDP_F_ENABLE, SB_XDP_PORT_M_ALL, XFER_LO, XFER_HI, 0);
	len = build_rs(frame, 0);
	expect_verdict("RS without M_RS", frame, len, P, SB_XDP_CNT_PASS_NOT_IPV4);
	settings_apply(SB_XDP_F_ENABLE, SB_XDP_PORT_M_RS, 0, 0, 0);
	expect_verdict("RS with M_RS only", frame, len, R, SB_XDP_CNT_REDIR_RS);
	len = build_simple(frame, IP_BCAST, 67, L4_DHCP);
	expect_verdict("DHCP with M_RS only", frame, len, P, SB_XDP_CNT_PASS_OTHER_PORT);
	settings_apply(SB_XDP_F_ENABLE, SB_XDP_PORT_M_ALL | SB_XDP_PORT_M_RS, XFER_LO, XFER_HI,
		       IP_SERVER);
	len = build_rs(frame, ETH_P_8021Q);
	expect_verdict("802.1Q RS, server address set (IPv4 only)", frame, len, R,
		       SB_XDP_CNT_REDIR_RS);
	settings_apply(0, SB_XDP_PORT_M_VALID, XFER_LO, XFER_HI, 0);
	expect_verdict("RS with steering disabled", frame, len, P, SB_XDP_CNT_PASS_DISABLED);

	/* ARP replies to conflict probes (RFC 5227: target IP 0.0.0.0): only with M_ARP_PROBE;
	 * every other ARP frame stays with the kernel. */
	len = build_frame(frame, &(struct frame_spec){.l3 = L3_ARP});
	frame[21] = 2;					     /* opcode: reply */
	memset(frame + 38, 0, 4);			     /* to 0.0.0.0 */
	settings_apply(SB_XDP_F_ENABLE, SB_XDP_PORT_M_ALL, XFER_LO, XFER_HI, IP_SERVER);
	expect_verdict("probe reply without M_ARP_PROBE", frame, len, P, SB_XDP_CNT_PASS_NOT_IPV4);
	settings_apply(SB_XDP_F_ENABLE, SB_XDP_PORT_M_ALL | SB_XDP_PORT_M_ARP_PROBE, XFER_LO,
		       XFER_HI, IP_SERVER);
	expect_verdict("probe reply", frame, len, R, SB_XDP_CNT_REDIR_ARP_PROBE);
	expect_verdict("probe reply cut short", frame, 14 + 27, P, SB_XDP_CNT_PASS_TRUNCATED);
	frame[41] = 1; /* a reply to 0.0.0.1: someone's ordinary question */
	expect_verdict("reply to an address", frame, len, P, SB_XDP_CNT_PASS_NOT_IPV4);
	frame[41] = 0;
	frame[21] = 1; /* a request (an RFC 5227 probe of another host) */
	expect_verdict("probe (request)", frame, len, P, SB_XDP_CNT_PASS_NOT_IPV4);
	frame[21] = 2;
	frame[19] = 16; /* not IPv4 addresses */
	expect_verdict("reply with plen 16", frame, len, P, SB_XDP_CNT_PASS_NOT_IPV4);

	/* Steering off: everything goes to the kernel. */
	settings_apply(0, SB_XDP_PORT_M_ALL, XFER_LO, XFER_HI, 0);
	len = build_simple(frame, IP_BCAST, 67, L4_DHCP);
	expect_verdict("disabled DHCP", frame, len, P, SB_XDP_CNT_PASS_DISABLED);
	len = build_simple(frame, IP_SERVER, 69, L4_TFTP_RRQ);
	expect_verdict("disabled TFTP", frame, len, P, SB_XDP_CNT_PASS_DISABLED);

	settings_lab();
	len = build_simple(frame, IP_BCAST, 67, L4_DHCP);
	expect_verdict("re-enabled DHCP", frame, len, R, SB_XDP_CNT_REDIR_DHCP);
}

static void test_settings_validate(void **state)
{
	static const struct {
		struct sb_xdp_settings s;
		int err;
	} v[] = {
		{{.flags = SB_XDP_F_ENABLE, .port_mask = SB_XDP_PORT_M_ALL}, 0},
		{{.flags = SB_XDP_F_ENABLE, .port_mask = SB_XDP_PORT_M_RS}, 0},
		{{.flags = SB_XDP_F_ENABLE, .port_mask = SB_XDP_PORT_M_VALID}, 0},
		{{.flags = SB_XDP_F_ENABLE, .xfer_port_lo = 1, .xfer_port_hi = 65535}, 0},
		{{.flags = SB_XDP_F_ENABLE, .xfer_port_lo = 7, .xfer_port_hi = 7}, 0},
		{{.flags = SB_XDP_F_ENABLE, .xfer_port_lo = 0, .xfer_port_hi = 10}, -ERANGE},
		{{.flags = SB_XDP_F_ENABLE, .xfer_port_lo = 11, .xfer_port_hi = 10}, -ERANGE},
		{{.flags = 0x80}, -EINVAL},
		{{.flags = SB_XDP_F_ENABLE, .port_mask = 0x20}, -EINVAL},
		{{.flags = SB_XDP_F_ENABLE, .port_mask = SB_XDP_PORT_M_VALID | 0x80000000u},
		 -EINVAL},
		{{.flags = SB_XDP_F_ENABLE, .reserved = {0, 0, 0, 1}}, -EINVAL},
	};
	struct sb_xdp_settings before, after;
	size_t i;

	settings_lab();
	assert_int_equal(xdp_ctl_settings_get(&T.ctl, &before), 0);
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct sb_xdp_settings s = v[i].s;

		s.flags |= SB_XDP_F_VALID;
		assert_int_equal(xdp_ctl_settings_validate(&s), v[i].err);
		if (v[i].err) { /* refused: the map keeps what it had */
			assert_int_equal(xdp_ctl_settings_set(&T.ctl, &v[i].s), v[i].err);
			assert_int_equal(xdp_ctl_settings_get(&T.ctl, &after), 0);
			assert_memory_equal(&before, &after, sizeof(after));
		}
	}
	/* The RS bit is written and read back as is. */
	settings_apply(SB_XDP_F_ENABLE, SB_XDP_PORT_M_DHCP | SB_XDP_PORT_M_RS, 0, 0, 0);
	assert_int_equal(xdp_ctl_settings_get(&T.ctl, &after), 0);
	assert_int_equal(after.port_mask, SB_XDP_PORT_M_DHCP | SB_XDP_PORT_M_RS);
	settings_lab();
}

/* Counters add up across runs and repeats, are per verdict, and reset to zero. */
static void test_counters_increment(void **state)
{
	struct sb_xdp_counters c;
	uint8_t dhcp[FRAME_MAX], icmp[FRAME_MAX];
	size_t dlen, ilen;
	uint32_t ret;
	int i;

	settings_lab();
	xsk_slot_fill(1);
	dlen = build_simple(dhcp, IP_BCAST, 67, L4_DHCP);
	ilen = build_simple(icmp, IP_SERVER, 0, L4_ICMP_ECHO);

	counters_reset();
	for (i = 0; i < 3; i++) {
		assert_int_equal(run_frame(dhcp, dlen, 1, &ret), 0);
		assert_int_equal(ret, XDP_REDIRECT);
	}
	assert_int_equal(run_frame(dhcp, dlen, 100, &ret), 0);
	assert_int_equal(ret, XDP_REDIRECT);
	assert_int_equal(run_frame(icmp, ilen, 5, &ret), 0);
	assert_int_equal(ret, XDP_PASS);

	counters_read(&c);
	assert_int_equal(c.redirected_dhcp, 103);
	assert_int_equal(c.pass_not_udp, 5);
	assert_int_equal(c.v[SB_XDP_CNT_REDIR_DHCP], 103);
	assert_int_equal(c.redirect_failed, 0);

	counters_reset();
	counters_read(&c);
	for (i = 0; i < SB_XDP_CNT__COUNT; i++)
		assert_int_equal(c.v[i], 0);
}

static void test_counter_names(void **state)
{
	unsigned i, j;

	for (i = 0; i < SB_XDP_CNT__COUNT; i++) {
		assert_non_null(xdp_ctl_counter_name(i));
		for (j = 0; j < i; j++)
			assert_string_not_equal(xdp_ctl_counter_name(i), xdp_ctl_counter_name(j));
	}
	assert_null(xdp_ctl_counter_name(SB_XDP_CNT__COUNT));
	assert_string_equal(xdp_ctl_counter_name(SB_XDP_CNT_REDIR_DHCP), "redirected_dhcp");
	assert_string_equal(xdp_ctl_counter_name(SB_XDP_CNT_REDIRECT_FAILED), "redirect_failed");
	assert_string_equal(xdp_ctl_counter_name(SB_XDP_CNT_REDIR_RS), "redirected_rs");
	assert_true(SB_XDP_CNT_IS_REDIRECT(SB_XDP_CNT_REDIR_XFER));
	assert_true(SB_XDP_CNT_IS_REDIRECT(SB_XDP_CNT_REDIR_RS));
	assert_true(SB_XDP_CNT_IS_REDIRECT(SB_XDP_CNT_REDIR_ARP_PROBE));
	assert_false(SB_XDP_CNT_IS_REDIRECT(SB_XDP_CNT_REDIRECT_FAILED));
}

/* The maps are pinned by name, and xdp_ctl finds them there; xsks_map is not pinned. */
static void test_pinned_maps(void **state)
{
	struct sb_xdp_settings got;
	struct sb_xdp_counters c;
	struct xdp_ctl pinned;
	char path[128];
	struct stat st;
	uint8_t frame[FRAME_MAX];
	uint32_t ret;
	size_t len;

	snprintf(path, sizeof(path), "%s/%s", T.pin_dir, SB_XDP_SETTINGS_MAP);
	assert_int_equal(stat(path, &st), 0);
	snprintf(path, sizeof(path), "%s/%s", T.pin_dir, SB_XDP_COUNTERS_MAP);
	assert_int_equal(stat(path, &st), 0);
	snprintf(path, sizeof(path), "%s/%s", T.pin_dir, SB_XDP_XSKS_MAP);
	assert_int_not_equal(stat(path, &st), 0);

	assert_int_equal(xdp_ctl_open_pinned(&pinned, T.pin_dir), 0);
	settings_apply(SB_XDP_F_ENABLE, SB_XDP_PORT_M_DHCP, 41000, 41010, IP_SERVER);
	assert_int_equal(xdp_ctl_settings_get(&pinned, &got), 0);
	assert_int_equal(got.xfer_port_lo, 41000);
	assert_int_equal(got.port_mask, SB_XDP_PORT_M_DHCP);
	assert_int_equal(got.server_ip_be, htonl(IP_SERVER));

	/* Write through the pinned path, observe through the program. */
	got.port_mask = SB_XDP_PORT_M_ALL;
	got.server_ip_be = 0;
	assert_int_equal(xdp_ctl_settings_set(&pinned, &got), 0);
	xsk_slot_fill(1);
	assert_int_equal(xdp_ctl_counters_reset(&pinned), 0);
	len = build_simple(frame, IP_OTHER, 69, L4_TFTP_RRQ);
	assert_int_equal(run_frame(frame, len, 2, &ret), 0);
	assert_int_equal(ret, XDP_REDIRECT);
	assert_int_equal(xdp_ctl_counters_read(&pinned, &c), 0);
	assert_int_equal(c.redirected_tftp, 2);
	xdp_ctl_close(&pinned);

	assert_int_equal(xdp_ctl_open_pinned(&pinned, "/nonexistent-sb-xdp"), -ENOENT);
	assert_int_equal(pinned.settings_fd, -1);
	settings_lab();
}

/*
 * Frames captured from real clients in the lab ($FIXTURES/DIR/NAME.pcap): the program must agree
 * with the fixture loader's own parser on which frames are ours. Skipped while no capture exists.
 */
/* Offset of the IPv4 header after Ethernet and VLAN tags, as the fixture loader walks them. */
static size_t fixture_ip_off(const struct fixture_pkt *p)
{
	size_t off = 12;

	while (off + 4 <= p->frame_len && ((p->frame[off] == 0x81 && p->frame[off + 1] == 0x00) ||
					   (p->frame[off] == 0x88 && p->frame[off + 1] == 0xa8)))
		off += 4;
	return off + 2;
}

/* Length of the IPv6 router solicitation datagram in p (RFC 4861 6.1.1), or 0 if it is none. */
static size_t fixture_rs_len(const struct fixture_pkt *p)
{
	size_t off = fixture_ip_off(p), plen;
	const uint8_t *ip = p->frame + off;

	if (off + 40 + 8 > p->frame_len || ip[-2] != 0x86 || ip[-1] != 0xdd)
		return 0;
	plen = (size_t)(ip[4] << 8 | ip[5]);
	if (ip[0] >> 4 != 6 || ip[6] != 58 || ip[7] != 255 || plen < 8 ||
	    off + 40 + plen > p->frame_len || ip[40] != 133 || ip[41] != 0)
		return 0;
	return 40 + plen;
}

static int fixture_expect_redirect(const struct fixture_pkt *p)
{
	const uint8_t *ip = p->frame + fixture_ip_off(p);

	if (fixture_rs_len(p))
		return 1;
	if (!p->udp_payload)
		return 0;
	if ((ip[6] << 8 | ip[7]) & 0x3fff) /* MF or offset: RFC 791 3.1 */
		return 0;
	return p->dst_port == 67 || p->dst_port == 4011 || p->dst_port == 69 ||
	       (p->dst_port >= XFER_LO && p->dst_port <= XFER_HI);
}

static void test_real_client_fixtures(void **state)
{
	const char *root = getenv("FIXTURES");
	size_t frames = 0, steered = 0, i, cut;
	struct dirent *de;
	DIR *d;

	if (!root || !(d = opendir(root)))
		skip();
	settings_lab();
	xsk_slot_fill(1);
	while ((de = readdir(d))) {
		struct fixture_set set;
		char sub[512];
		DIR *sd;
		int has_pcap = 0;

		if (de->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", root, de->d_name);
		sd = opendir(sub);
		if (!sd)
			continue;
		for (struct dirent *e = readdir(sd); e; e = readdir(sd)) {
			size_t l = strlen(e->d_name);

			has_pcap |= l > 5 && !strcmp(e->d_name + l - 5, ".pcap");
		}
		closedir(sd);
		if (!has_pcap)
			continue;

		fixture_load(de->d_name, &set);
		for (i = 0; i < set.n; i++) {
			const struct fixture_pkt *p = &set.pkts[i];
			int redirect = fixture_expect_redirect(p);
			size_t ip_end;
			char what[512];
			uint32_t ret = 0;

			snprintf(what, sizeof(what), "%.100s/%.100s frame %u (UDP dport %u)",
				 de->d_name, p->file, p->index, p->udp_payload ? p->dst_port : 0);
			assert_int_equal(run_frame(p->frame, p->frame_len, 1, &ret), 0);
			if (ret != (redirect ? XDP_REDIRECT : XDP_PASS))
				fail_msg("%s: verdict %u, expected %s", what, ret,
					 redirect ? "XDP_REDIRECT" : "XDP_PASS");
			frames++;
			if (!redirect)
				continue;
			steered++;
			/* Cut inside the IP datagram: passed as truncated, never steered. */
			ip_end = fixture_ip_off(p);
			if (fixture_rs_len(p))
				ip_end += fixture_rs_len(p);
			else
				ip_end +=
					(size_t)(p->frame[ip_end + 2] << 8 | p->frame[ip_end + 3]);
			for (cut = ETH_HLEN; cut < ip_end; cut++) {
				snprintf(what, sizeof(what), "%.100s/%.100s frame %u cut to %zu",
					 de->d_name, p->file, p->index, cut);
				expect_verdict(what, p->frame, cut, XDP_PASS,
					       SB_XDP_CNT_PASS_TRUNCATED);
			}
		}
		fixture_free(&set);
	}
	closedir(d);
	if (frames == 0)
		skip();
	assert_true(steered > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counter_names),
		cmocka_unit_test(test_settings_defaults),
		cmocka_unit_test(test_verdict_table),
		cmocka_unit_test(test_truncated_prefixes),
		cmocka_unit_test(test_router_solicitation_cut),
		cmocka_unit_test(test_empty_xsk_slot_passes),
		cmocka_unit_test(test_settings_change_verdicts),
		cmocka_unit_test(test_settings_validate),
		cmocka_unit_test(test_counters_increment),
		cmocka_unit_test(test_pinned_maps),
		cmocka_unit_test(test_real_client_fixtures),
		cmocka_unit_test(test_guard_validate),
		cmocka_unit_test(test_guard_mac_deny),
		cmocka_unit_test(test_guard_mac_allow),
		cmocka_unit_test(test_guard_rate_dhcp),
		cmocka_unit_test(test_guard_rate_tftp),
		cmocka_unit_test(test_guard_vlans),
		cmocka_unit_test(test_guard_dhcp_dst),
		cmocka_unit_test(test_guard_apply_config),
		cmocka_unit_test(test_ra_auto),
		cmocka_unit_test(test_ra_auto_vlans),
		cmocka_unit_test(test_ra_auto_expiry),
		cmocka_unit_test(test_ra_auto_invalid),
		cmocka_unit_test(test_ra_not_auto),
		cmocka_unit_test(test_veth_attach),
	};
	int rc;

	if (geteuid() != 0) {
		fprintf(stderr, "SKIP: xdp_test needs root (BPF, bpffs mount, netns)\n");
		return SKIP_EXIT;
	}
	rc = global_setup();
	if (rc == 0)
		rc = cmocka_run_group_tests_name("xdp", tests, NULL, NULL);
	global_teardown();
	return rc;
}
