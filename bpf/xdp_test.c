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
 * The veth test attaches the program to a veth in a network namespace of its own, checks that
 * ping and other UDP still reach the kernel, and (with libxdp) that a DHCP datagram arrives on a
 * bound AF_XDP socket.
 */
#define _GNU_SOURCE /* setns */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <linux/magic.h>

#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#ifdef SB_HAVE_LIBXDP
#include <xdp/xsk.h>
#endif

#include "xdp_ctl.h"
#include "fixtures.h"

#ifndef SB_XDP_OBJ_BUILD_PATH
#define SB_XDP_OBJ_BUILD_PATH "build/bpf/stormboot_xdp.o"
#endif

#define SKIP_EXIT 77 /* meson: test skipped */

/* Addresses: 198.18.0.0/15 only (RFC 2544 benchmarking range). */
#define IP_SERVER 0xc6120001u /* 198.18.0.1 */
#define IP_OTHER  0xc6120002u /* 198.18.0.2 */
#define IP_CLIENT 0xc6120064u /* 198.18.0.100 */
#define IP_RELAY  0xc6120101u /* 198.18.1.1 */
#define IP_BCAST  0xffffffffu
#define XFER_LO	  40000
#define XFER_HI	  40099
#define FRAME_MAX 1600
#define IHL_ZERO  0x80

static struct {
	char pin_dir[64];
	int pin_mounted;
	struct bpf_object *obj;
	int prog_fd;
	int xsks_fd;
	int xsk_fd; /* unbound AF_XDP socket for slot 0 */
	struct xdp_ctl ctl;
} T = {.prog_fd = -1, .xsks_fd = -1, .xsk_fd = -1};

/* ------------------------------------------------------------------------------------------ */
/* Frame builder                                                                              */

enum l4_kind {
	L4_DHCP,      /* BOOTREQUEST DISCOVER (RFC 2131 2) */
	L4_TFTP_RRQ,  /* RFC 1350 5 */
	L4_TFTP_ACK,  /* RFC 1350 5, opcode 4 */
	L4_UDP_DATA,  /* 16 bytes of something */
	L4_ICMP_ECHO, /* RFC 792 */
	L4_TCP_SYN,   /* RFC 9293 3.1 */
	L4_ICMPV6_RS, /* RFC 4861 4.1 router solicitation, source link-layer address option */
	L4_ICMPV6_NS, /* RFC 4861 4.3 neighbour solicitation */
};

enum l3_kind {
	L3_IPV4,
	L3_ARP,
	L3_IPV6,
};

struct frame_spec {
	enum l3_kind l3;
	uint16_t vlan_tpid[3]; /* outermost first; 0 ends the list */
	uint8_t ip_version;    /* 0 = 4 (6 in an IPv6 frame) */
	uint8_t ihl;	       /* 0 = 5; > 5 adds NOP options; IHL_ZERO = a 0 field */
	uint16_t frag_host;    /* flags + offset field, host order */
	int tot_len_delta;     /* added to the right total length (IPv6: payload length) */
	uint8_t hop_limit;     /* IPv6: 0 = 255 */
	uint8_t ip6_hbh;       /* IPv6: a hop-by-hop options header before the upper layer */
	uint8_t icmp_code;     /* ICMPv6 code */
	uint32_t saddr, daddr; /* host order */
	enum l4_kind l4;
	uint16_t sport, dport;
	uint32_t giaddr; /* DHCP relayed: giaddr (RFC 2131 4.1) */
	uint16_t pad_to; /* Ethernet minimum-size padding up to this length */
};

static uint8_t *put8(uint8_t *p, uint8_t v)
{
	*p = v;
	return p + 1;
}

static uint8_t *put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
	return p + 2;
}

static uint8_t *put32(uint8_t *p, uint32_t v)
{
	p = put16(p, v >> 16);
	return put16(p, v & 0xffff);
}

static uint8_t *putn(uint8_t *p, const void *src, size_t n)
{
	memcpy(p, src, n);
	return p + n;
}

static uint16_t ip_csum(const uint8_t *h, size_t len)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(h[i] << 8 | h[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static const uint8_t mac_client[6] = {0x02, 0x00, 0x5e, 0x10, 0x00, 0x64};
static const uint8_t mac_server[6] = {0x02, 0x00, 0x5e, 0x10, 0x00, 0x01};
static const uint8_t mac_bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t mac_all_routers[6] = {0x33, 0x33, 0x00, 0x00, 0x00, 0x02}; /* ff02::2 */

/* L4 header + payload for IPv4; returns the end. */
static uint8_t *build_l4(uint8_t *p, const struct frame_spec *fs)
{
	uint8_t *udp = p, *end;

	switch (fs->l4) {
	case L4_ICMP_ECHO:
		p = put8(p, 8); /* echo request */
		p = put8(p, 0);
		p = put16(p, 0);
		p = put16(p, 0x1234);
		p = put16(p, 1);
		memset(p, 0xa5, 32);
		return p + 32;
	case L4_TCP_SYN:
		p = put16(p, fs->sport);
		p = put16(p, fs->dport);
		p = put32(p, 1000);
		p = put32(p, 0);
		p = put8(p, 5 << 4);
		p = put8(p, 0x02); /* SYN */
		p = put16(p, 64240);
		p = put16(p, 0);
		return put16(p, 0);
	default:
		break;
	}

	p = udp + 8; /* UDP header filled in below */
	switch (fs->l4) {
	case L4_DHCP:
		p = put8(p, 1); /* op BOOTREQUEST */
		p = put8(p, 1); /* htype Ethernet */
		p = put8(p, 6);
		p = put8(p, fs->giaddr ? 1 : 0); /* hops */
		p = put32(p, 0x5b0e2a77);	 /* xid */
		p = put16(p, 0);
		p = put16(p, fs->giaddr ? 0 : 0x8000); /* broadcast flag */
		p = put32(p, 0);		       /* ciaddr */
		p = put32(p, 0);		       /* yiaddr */
		p = put32(p, 0);		       /* siaddr */
		p = put32(p, fs->giaddr);
		p = putn(p, mac_client, 6);
		memset(p, 0, 10 + 64 + 128);
		p += 10 + 64 + 128;
		p = put32(p, 0x63825363); /* magic cookie, RFC 2131 3 */
		p = put8(p, 53);
		p = put8(p, 1);
		p = put8(p, 1); /* DHCPDISCOVER */
		p = put8(p, 93);
		p = put8(p, 2);
		p = put16(p, 7); /* EFI x64 */
		p = put8(p, 255);
		break;
	case L4_TFTP_RRQ:
		p = put16(p, 1);
		p = putn(p, "pxelinux.0", 11);
		p = putn(p, "octet", 6);
		p = putn(p, "blksize", 8);
		p = putn(p, "1468", 5);
		break;
	case L4_TFTP_ACK:
		p = put16(p, 4);
		p = put16(p, 1);
		break;
	default:
		memset(p, 0x5a, 16);
		p += 16;
		break;
	}
	end = p;
	put16(udp, fs->sport);
	put16(udp + 2, fs->dport);
	put16(udp + 4, (uint16_t)(end - udp));
	put16(udp + 6, 0); /* no checksum: the program must not care */
	return end;
}

/* ICMPv6 (RS, NS) or a DHCPv6 Solicit-shaped UDP datagram to 547; returns the end. */
static uint8_t *build_ipv6_l4(uint8_t *p, const struct frame_spec *fs)
{
	switch (fs->l4) {
	case L4_ICMPV6_RS:
		p = put8(p, 133);
		p = put8(p, fs->icmp_code);
		p = put16(p, 0); /* checksum: the program must not care */
		p = put32(p, 0); /* reserved */
		p = put8(p, 1);	 /* source link-layer address option, 8 bytes */
		p = put8(p, 1);
		return putn(p, mac_client, 6);
	case L4_ICMPV6_NS:
		p = put8(p, 135);
		p = put8(p, fs->icmp_code);
		p = put16(p, 0);
		p = put32(p, 0);
		memset(p, 0, 16); /* target fe80::1 */
		p[0] = 0xfe, p[1] = 0x80, p[15] = 1;
		p += 16;
		p = put8(p, 1);
		p = put8(p, 1);
		return putn(p, mac_client, 6);
	default:
		p = put16(p, 546);
		p = put16(p, 547);
		p = put16(p, 8 + 16);
		p = put16(p, 0);
		memset(p, 0x11, 16);
		return p + 16;
	}
}

/* IPv6 header (RFC 8200 3), optional hop-by-hop header, upper layer; returns the end. */
static uint8_t *build_ipv6(uint8_t *p, const struct frame_spec *fs)
{
	int icmp = fs->l4 == L4_ICMPV6_RS || fs->l4 == L4_ICMPV6_NS;
	uint8_t upper = icmp ? 58 : 17, *ip = p, *end;

	p = put32(p, (uint32_t)(fs->ip_version ? fs->ip_version : 6) << 28);
	p = put16(p, 0); /* payload length, below */
	p = put8(p, fs->ip6_hbh ? 0 : upper);
	p = put8(p, fs->hop_limit ? fs->hop_limit : 255);
	memset(p, 0, 32);
	p[0] = 0xfe, p[1] = 0x80, p[15] = 1; /* fe80::1 */
	p[16] = 0xff, p[17] = 0x02;	     /* ff02::2 (RS), ff02::1:2 (DHCPv6) */
	if (icmp)
		p[31] = 2;
	else
		p[29] = 1, p[31] = 2;
	p += 32;
	if (fs->ip6_hbh) { /* RFC 8200 4.3, padded with PadN to 8 bytes */
		p = put8(p, upper);
		p = put8(p, 0);
		p = put8(p, 1);
		p = put8(p, 4);
		p = put32(p, 0);
	}
	end = build_ipv6_l4(p, fs);
	put16(ip + 4, (uint16_t)((end - (ip + 40)) + fs->tot_len_delta));
	return end;
}

static size_t build_frame(uint8_t *buf, const struct frame_spec *fs)
{
	const uint8_t *dst = mac_server;
	uint8_t *p = buf, *ip, *end;
	uint16_t ethertype;
	size_t hlen, i;

	memset(buf, 0, FRAME_MAX);
	if (fs->daddr == IP_BCAST || fs->l3 == L3_ARP)
		dst = mac_bcast;
	else if (fs->l4 == L4_ICMPV6_RS)
		dst = mac_all_routers;
	p = putn(p, dst, 6);
	p = putn(p, mac_client, 6);
	for (i = 0; i < 3 && fs->vlan_tpid[i]; i++) {
		p = put16(p, fs->vlan_tpid[i]);
		p = put16(p, (uint16_t)(100 + i)); /* VID */
	}
	ethertype = fs->l3 == L3_ARP ? ETH_P_ARP : fs->l3 == L3_IPV6 ? ETH_P_IPV6 : ETH_P_IP;
	p = put16(p, ethertype);

	if (fs->l3 == L3_ARP) { /* RFC 826 request */
		p = put16(p, 1);
		p = put16(p, ETH_P_IP);
		p = put8(p, 6);
		p = put8(p, 4);
		p = put16(p, 1);
		p = putn(p, mac_client, 6);
		p = put32(p, IP_CLIENT);
		memset(p, 0, 6);
		p = put32(p + 6, IP_SERVER);
	} else if (fs->l3 == L3_IPV6) {
		p = build_ipv6(p, fs);
	} else {
		uint8_t ihl = fs->ihl == IHL_ZERO ? 0 : fs->ihl ? fs->ihl : 5;

		ip = p;
		hlen = (ihl < 5 ? 5 : ihl) * 4u; /* a bad IHL still gets a 20-byte header */
		p = put8(p, (uint8_t)((fs->ip_version ? fs->ip_version : 4) << 4 | ihl));
		p = put8(p, 0);
		p = put16(p, 0); /* total length, below */
		p = put16(p, 0x4242);
		p = put16(p, fs->frag_host);
		p = put8(p, 64);
		p = put8(p, fs->l4 == L4_ICMP_ECHO ? 1 : fs->l4 == L4_TCP_SYN ? 6 : 17);
		p = put16(p, 0);
		p = put32(p, fs->saddr);
		p = put32(p, fs->daddr);
		memset(p, 1, hlen - 20); /* NOP options */
		p = ip + hlen;
		end = build_l4(p, fs);
		put16(ip + 2, (uint16_t)((end - ip) + fs->tot_len_delta));
		put16(ip + 10, ip_csum(ip, hlen));
		p = end;
	}
	while ((size_t)(p - buf) < fs->pad_to)
		*p++ = 0;
	return (size_t)(p - buf);
}

/* ------------------------------------------------------------------------------------------ */
/* Running frames through the program                                                         */

static int run_frame(const uint8_t *frame, size_t len, uint32_t repeat, uint32_t *retval)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = (__u32)len,
		    .repeat = repeat);
	int err;

	err = bpf_prog_test_run_opts(T.prog_fd, &opts);
	if (err)
		return -errno;
	*retval = opts.retval;
	return 0;
}

static void counters_reset(void)
{
	assert_int_equal(xdp_ctl_counters_reset(&T.ctl), 0);
}

static void counters_read(struct sb_xdp_counters *c)
{
	assert_int_equal(xdp_ctl_counters_read(&T.ctl, c), 0);
}

/* Exactly `n` packets counted, all under counter `want`. */
static void assert_only_counter(const char *what, unsigned want, uint64_t n)
{
	struct sb_xdp_counters c;
	unsigned i;

	counters_read(&c);
	for (i = 0; i < SB_XDP_CNT__COUNT; i++) {
		uint64_t expect = i == want ? n : 0;

		if (c.v[i] != expect)
			fail_msg("%s: counter %s = %llu, expected %llu (verdict counter %s)", what,
				 xdp_ctl_counter_name(i), (unsigned long long)c.v[i],
				 (unsigned long long)expect, xdp_ctl_counter_name(want));
	}
}

/* Run one frame once from zeroed counters; check the verdict and the one counter it moved. */
static void expect_verdict(const char *what, const uint8_t *frame, size_t len, uint32_t verdict,
			   unsigned counter)
{
	uint32_t ret = 0;
	int err;

	counters_reset();
	err = run_frame(frame, len, 1, &ret);
	if (err)
		fail_msg("%s (len %zu): test run failed: %s", what, len, strerror(-err));
	if (ret != verdict)
		fail_msg("%s (len %zu): verdict %u, expected %u", what, len, ret, verdict);
	assert_only_counter(what, counter, 1);
}

static void settings_apply(uint32_t flags, uint32_t mask, uint16_t lo, uint16_t hi, uint32_t ip)
{
	struct sb_xdp_settings s = {
		.flags = flags,
		.port_mask = mask,
		.xfer_port_lo = lo,
		.xfer_port_hi = hi,
		.server_ip_be = htonl(ip),
	};

	assert_int_equal(xdp_ctl_settings_set(&T.ctl, &s), 0);
}

/* The settings every table test starts from: everything steered, router solicitations too. */
static void settings_lab(void)
{
	settings_apply(SB_XDP_F_ENABLE, SB_XDP_PORT_M_VALID, XFER_LO, XFER_HI, 0);
}

static void xsk_slot_fill(int on)
{
	__u32 key = 0;

	if (on) {
		assert_int_equal(bpf_map_update_elem(T.xsks_fd, &key, &T.xsk_fd, BPF_ANY), 0);
	} else {
		int r = bpf_map_delete_elem(T.xsks_fd, &key);

		assert_true(r == 0 || errno == ENOENT);
	}
}

/* ------------------------------------------------------------------------------------------ */
/* The table                                                                                  */

#define R XDP_REDIRECT
#define P XDP_PASS

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
	{"UDP to DHCP client port 68", UDP4(IP_SERVER, IP_BCAST, L4_DHCP, 67, 68), P,
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

/* An ICMPv6 router solicitation with a source link-layer address option, 70 bytes. */
static size_t build_rs(uint8_t *frame, uint16_t vlan_tpid)
{
	struct frame_spec fs = {.l3 = L3_IPV6, .l4 = L4_ICMPV6_RS, .vlan_tpid = {vlan_tpid}};

	return build_frame(frame, &fs);
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

static size_t build_simple(uint8_t *frame, uint32_t daddr, uint16_t dport, enum l4_kind l4)
{
	struct frame_spec fs = {
		.saddr = IP_CLIENT, .daddr = daddr, .l4 = l4, .sport = 2070, .dport = dport};

	return build_frame(frame, &fs);
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
		{{.flags = SB_XDP_F_ENABLE, .port_mask = 0x10}, -EINVAL},
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

/* ------------------------------------------------------------------------------------------ */
/* veth in network namespaces                                                                 */

#define NS_SRV	 "bpf-xdpt-srv"
#define NS_CLI	 "bpf-xdpt-cli"
#define IF_SRV	 "bpfxt0"
#define IF_CLI	 "bpfxt1"
#define VETH_SRV "198.18.250.1"
#define VETH_CLI "198.18.250.2"
/* iputils ping if installed, else busybox's (both take these options). */
#define PING                                                                                       \
	"ip netns exec " NS_CLI                                                                    \
	" sh -c '$(command -v ping || echo busybox ping) -c 2 -i 0.2 -w 4 -q " VETH_SRV            \
	" >/dev/null'"

static int sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = system(cmd);
	return rc == -1 ? -1 : WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static void lab_down(void)
{
	sh("ip netns del " NS_SRV " 2>/dev/null");
	sh("ip netns del " NS_CLI " 2>/dev/null");
}

static int lab_up(void)
{
	lab_down();
	return sh("set -e; ip netns add " NS_SRV "; ip netns add " NS_CLI ";"
		  "ip link add " IF_SRV " netns " NS_SRV " type veth peer name " IF_CLI
		  " netns " NS_CLI ";"
		  "ip -n " NS_SRV " addr add " VETH_SRV "/24 dev " IF_SRV ";"
		  "ip -n " NS_CLI " addr add " VETH_CLI "/24 dev " IF_CLI ";"
		  "ip -n " NS_SRV " link set lo up; ip -n " NS_CLI " link set lo up;"
		  "ip -n " NS_SRV " link set " IF_SRV " up; ip -n " NS_CLI " link set " IF_CLI
		  " up");
}

/* Enter a named netns; returns the fd of the one we were in, or -errno. */
static int netns_enter(const char *name)
{
	char path[128];
	int self, fd;

	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return -errno;
	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) {
		int err = -errno;

		if (fd >= 0)
			close(fd);
		close(self);
		return err;
	}
	close(fd);
	return self;
}

static void netns_leave(int self)
{
	assert_int_equal(setns(self, CLONE_NEWNET), 0);
	close(self);
}

/* Send one UDP datagram from the client namespace to the server veth address. */
static void client_send_udp(uint16_t sport, uint16_t dport, const char *msg)
{
	struct sockaddr_in src = {.sin_family = AF_INET, .sin_port = htons(sport)};
	struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons(dport)};
	int self, s, one = 1;

	self = netns_enter(NS_CLI);
	assert_true(self >= 0);
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(s >= 0);
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	inet_pton(AF_INET, VETH_CLI, &src.sin_addr);
	inet_pton(AF_INET, VETH_SRV, &dst.sin_addr);
	assert_int_equal(bind(s, (struct sockaddr *)&src, sizeof(src)), 0);
	assert_true(sendto(s, msg, strlen(msg), 0, (struct sockaddr *)&dst, sizeof(dst)) > 0);
	close(s);
	netns_leave(self);
}

#ifdef SB_HAVE_LIBXDP
#define XSK_FRAMES 64
#define XSK_FRAME  4096

struct test_xsk {
	void *area;
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fq, tx;
	struct xsk_ring_cons cq, rx;
};

/* An AF_XDP socket bound to queue 0 of the server veth, copy mode, fill ring stocked. */
static int test_xsk_open(struct test_xsk *x)
{
	struct xsk_socket_config cfg = {
		.rx_size = XSK_RING_CONS__DEFAULT_NUM_DESCS,
		.tx_size = XSK_RING_PROD__DEFAULT_NUM_DESCS,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = XDP_COPY,
	};
	__u32 idx, i;
	int err;

	memset(x, 0, sizeof(*x));
	if (posix_memalign(&x->area, (size_t)getpagesize(), XSK_FRAMES * XSK_FRAME))
		return -ENOMEM;
	err = xsk_umem__create(&x->umem, x->area, XSK_FRAMES * XSK_FRAME, &x->fq, &x->cq, NULL);
	if (err)
		return err;
	err = xsk_socket__create(&x->xsk, IF_SRV, 0, x->umem, &x->rx, &x->tx, &cfg);
	if (err)
		return err;
	if (xsk_ring_prod__reserve(&x->fq, XSK_FRAMES / 2, &idx) != XSK_FRAMES / 2)
		return -ENOSPC;
	for (i = 0; i < XSK_FRAMES / 2; i++)
		*xsk_ring_prod__fill_addr(&x->fq, idx + i) = (__u64)i * XSK_FRAME;
	xsk_ring_prod__submit(&x->fq, XSK_FRAMES / 2);
	return 0;
}

static void test_xsk_close(struct test_xsk *x)
{
	if (x->xsk)
		xsk_socket__delete(x->xsk);
	if (x->umem)
		xsk_umem__delete(x->umem);
	free(x->area);
}

/* Wait up to 2 s for a frame on the socket; returns its UDP destination port or -1. */
static int test_xsk_recv_dport(struct test_xsk *x, char *payload, size_t cap)
{
	struct pollfd pfd = {.fd = xsk_socket__fd(x->xsk), .events = POLLIN};
	int tries;

	for (tries = 0; tries < 20; tries++) {
		__u32 idx;

		if (xsk_ring_cons__peek(&x->rx, 1, &idx) == 1) {
			const struct xdp_desc *d = xsk_ring_cons__rx_desc(&x->rx, idx);
			const uint8_t *f = xsk_umem__get_data(x->area, d->addr);
			int dport = -1;
			size_t ihl;

			if (d->len >= 14 + 20 + 8 && f[12] == 0x08 && f[13] == 0x00) {
				ihl = (f[14] & 0xf) * 4u;
				if (d->len >= 14 + ihl + 8) {
					size_t n = d->len - (14 + ihl + 8);

					dport = f[14 + ihl + 2] << 8 | f[14 + ihl + 3];
					if (n >= cap)
						n = cap - 1;
					memcpy(payload, f + 14 + ihl + 8, n);
					payload[n] = 0;
				}
			}
			xsk_ring_cons__release(&x->rx, 1);
			return dport;
		}
		poll(&pfd, 1, 100);
	}
	return -1;
}
#endif /* SB_HAVE_LIBXDP */

/* A UDP socket in the server namespace: the kernel path for datagrams we do not steer. */
static int server_udp_socket(uint16_t port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	assert_true(s >= 0);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	return s;
}

static int udp_recv_wait(int s, char *buf, size_t cap)
{
	struct pollfd pfd = {.fd = s, .events = POLLIN};
	ssize_t n;

	if (poll(&pfd, 1, 2000) != 1)
		return -1;
	n = recv(s, buf, cap - 1, 0);
	if (n < 0)
		return -1;
	buf[n] = 0;
	return (int)n;
}

static void test_veth_attach(void **state)
{
	struct sb_xdp_counters c;
	struct xdp_ctl byif;
	unsigned int ifindex;
	char buf[64];
	int self, err, s67, s5000;

	if (lab_up() != 0) {
		lab_down();
		skip();
	}
	self = netns_enter(NS_SRV);
	assert_true(self >= 0);
	ifindex = if_nametoindex(IF_SRV);
	assert_true(ifindex > 0);
	/* No RS steering here: the client kernel's own router solicitations (sent when its veth
	 * comes up) would count as redirect_failed or land on the AF_XDP socket. */
	settings_apply(SB_XDP_F_ENABLE, SB_XDP_PORT_M_ALL, XFER_LO, XFER_HI, 0);
	xsk_slot_fill(0); /* the unbound test socket must not sit on a live interface */
	err = bpf_xdp_attach((int)ifindex, T.prog_fd, XDP_FLAGS_UPDATE_IF_NOEXIST, NULL);
	if (err)
		fail_msg("bpf_xdp_attach(%s): %s", IF_SRV, strerror(-err));

	/* The maps are reachable from the interface alone (no bpffs needed). */
	assert_int_equal(xdp_ctl_open_ifindex(&byif, ifindex), 0);
	assert_int_equal(xdp_ctl_counters_reset(&byif), 0);

	/* ARP and ICMP still reach the kernel. */
	netns_leave(self);
	assert_int_equal(sh(PING), 0);
	self = netns_enter(NS_SRV);
	assert_true(self >= 0);
	assert_int_equal(xdp_ctl_counters_read(&byif, &c), 0);
	assert_true(c.pass_not_udp >= 2);  /* the echo requests */
	assert_true(c.pass_not_ipv4 >= 1); /* ARP */
	assert_int_equal(c.redirected_dhcp + c.redirected_tftp + c.redirect_failed, 0);

	/* Other UDP reaches a kernel socket; with no AF_XDP socket DHCP does too. */
	s5000 = server_udp_socket(5000);
	s67 = server_udp_socket(67);
	netns_leave(self);
	client_send_udp(5001, 5000, "other");
	client_send_udp(68, 67, "dhcp-no-xsk");
	assert_true(udp_recv_wait(s5000, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "other");
	assert_true(udp_recv_wait(s67, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "dhcp-no-xsk");
	assert_int_equal(xdp_ctl_counters_read(&byif, &c), 0);
	assert_int_equal(c.pass_other_port, 1);
	assert_int_equal(c.redirect_failed, 1);

#ifdef SB_HAVE_LIBXDP
	{
		struct test_xsk x;
		__u32 key = 0;
		int fd, dport;

		self = netns_enter(NS_SRV);
		assert_true(self >= 0);
		err = test_xsk_open(&x);
		if (err)
			fail_msg("AF_XDP socket on %s: %s", IF_SRV, strerror(-err));
		fd = xsk_socket__fd(x.xsk);
		assert_int_equal(bpf_map_update_elem(T.xsks_fd, &key, &fd, BPF_ANY), 0);
		netns_leave(self);

		client_send_udp(68, 67, "dhcp-to-xsk");
		dport = test_xsk_recv_dport(&x, buf, sizeof(buf));
		assert_int_equal(dport, 67);
		assert_string_equal(buf, "dhcp-to-xsk");
		client_send_udp(2070, 69, "tftp-to-xsk");
		assert_int_equal(test_xsk_recv_dport(&x, buf, sizeof(buf)), 69);
		client_send_udp(5001, 5000, "other-again");
		assert_true(udp_recv_wait(s5000, buf, sizeof(buf)) > 0);
		assert_string_equal(buf, "other-again");
		/* The kernel socket on 67 saw nothing this time. */
		assert_int_equal(recv(s67, buf, sizeof(buf), MSG_DONTWAIT), -1);
		assert_int_equal(sh(PING), 0);
		assert_int_equal(xdp_ctl_counters_read(&byif, &c), 0);
		assert_int_equal(c.redirected_dhcp, 1);
		assert_int_equal(c.redirected_tftp, 1);
		assert_int_equal(c.redirect_failed, 1);

		bpf_map_delete_elem(T.xsks_fd, &key);
		test_xsk_close(&x);
	}
#endif
	close(s5000);
	close(s67);
	xdp_ctl_close(&byif);

	self = netns_enter(NS_SRV);
	assert_true(self >= 0);
	assert_int_equal(bpf_xdp_detach((int)ifindex, 0, NULL), 0);
	netns_leave(self);
	lab_down();
}

/* ------------------------------------------------------------------------------------------ */

static const char *obj_path(void)
{
	const char *p = getenv("XDP_OBJ");

	return p && *p ? p : SB_XDP_OBJ_BUILD_PATH;
}

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

/* Mount a private bpffs, load the object pinning its maps there. Returns 0 or SKIP_EXIT. */
static int global_setup(void)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo);
	struct bpf_program *prog;
	int err;

	snprintf(T.pin_dir, sizeof(T.pin_dir), "/tmp/sb-xdp-test.XXXXXX");
	if (!mkdtemp(T.pin_dir)) {
		fprintf(stderr, "SKIP: mkdtemp: %s\n", strerror(errno));
		return SKIP_EXIT;
	}
	if (mount("bpf", T.pin_dir, "bpf", 0, "mode=0700") != 0) {
		fprintf(stderr, "SKIP: cannot mount bpffs on %s: %s\n", T.pin_dir, strerror(errno));
		rmdir(T.pin_dir);
		return SKIP_EXIT;
	}
	T.pin_mounted = 1;

	libbpf_set_print(libbpf_quiet);
	oo.pin_root_path = T.pin_dir;
	T.obj = bpf_object__open_file(obj_path(), &oo);
	if (!T.obj) {
		fprintf(stderr, "FAIL: open %s: %s\n", obj_path(), strerror(errno));
		return 1;
	}
	err = bpf_object__load(T.obj);
	if (err) {
		fprintf(stderr, "FAIL: load %s: %s\n", obj_path(), strerror(-err));
		return 1;
	}
	/* net_af_xdp attaches the object's first program: there must be exactly one. */
	prog = bpf_object__next_program(T.obj, NULL);
	if (!prog || bpf_object__next_program(T.obj, prog) ||
	    strcmp(bpf_program__name(prog), SB_XDP_PROG_NAME) ||
	    bpf_program__type(prog) != BPF_PROG_TYPE_XDP) {
		fprintf(stderr, "FAIL: the object must hold one XDP program, %s\n",
			SB_XDP_PROG_NAME);
		return 1;
	}
	T.prog_fd = bpf_program__fd(prog);
	T.xsks_fd = bpf_object__find_map_fd_by_name(T.obj, SB_XDP_XSKS_MAP);
	if (T.xsks_fd < 0 || xdp_ctl_open_object(&T.ctl, T.obj) != 0) {
		fprintf(stderr, "FAIL: maps missing in %s\n", obj_path());
		return 1;
	}
	T.xsk_fd = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (T.xsk_fd < 0) {
		fprintf(stderr, "SKIP: no AF_XDP sockets: %s\n", strerror(errno));
		return SKIP_EXIT;
	}
	return 0;
}

static void global_teardown(void)
{
	lab_down(); /* also after a failed veth test */
	xdp_ctl_close(&T.ctl);
	if (T.xsk_fd >= 0)
		close(T.xsk_fd);
	if (T.obj)
		bpf_object__close(T.obj);
	if (T.pin_mounted) {
		umount2(T.pin_dir, MNT_DETACH);
		rmdir(T.pin_dir);
	}
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
