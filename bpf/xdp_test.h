/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xdp_test.h - shared by the parts of the XDP program's root test (suite 'root', one executable
 * "xdp"): the loaded object and its maps (xdp_test_env.c), the frame builder
 * (xdp_test_frames.c), and the test functions of each part for main() in xdp_test.c.
 */
#ifndef SB_XDP_TEST_H
#define SB_XDP_TEST_H

#include <stddef.h>
#include <stdint.h>

#include <linux/bpf.h>

#include "xdp_ctl.h"

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

#define R XDP_REDIRECT
#define P XDP_PASS
#define D XDP_DROP

/* The object under test and its maps. */
struct xdp_test_env {
	char pin_dir[64];
	int pin_mounted;
	struct bpf_object *obj;
	int prog_fd;
	int xsks_fd;
	int xsk_fd;  /* unbound AF_XDP socket for slot 0 */
	int rate_fd; /* sb_xdp_rate (not in xdp_ctl: state, not settings) */
	struct xdp_ctl ctl;
};
extern struct xdp_test_env T;

/* ---- frames (xdp_test_frames.c) ---- */

enum l4_kind {
	L4_DHCP,      /* BOOTREQUEST DISCOVER (RFC 2131 2) */
	L4_TFTP_RRQ,  /* RFC 1350 5 */
	L4_TFTP_ACK,  /* RFC 1350 5, opcode 4 */
	L4_UDP_DATA,  /* 16 bytes of something */
	L4_ICMP_ECHO, /* RFC 792 */
	L4_TCP_SYN,   /* RFC 9293 3.1 */
	L4_ICMPV6_RS, /* RFC 4861 4.1 router solicitation, source link-layer address option */
	L4_ICMPV6_NS, /* RFC 4861 4.3 neighbour solicitation */
	L4_ICMPV6_RA, /* RFC 4861 4.2 router advertisement, source link-layer address option */
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
	uint32_t giaddr;	/* DHCP relayed: giaddr (RFC 2131 4.1) */
	uint16_t pad_to;	/* Ethernet minimum-size padding up to this length */
	const uint8_t *src_mac; /* Ethernet source (and RA option); NULL = mac_client */
	const uint8_t *chaddr;	/* DHCP chaddr; NULL = mac_client */
	uint16_t vid[3];	/* VLAN IDs of the tags; 0 = 100, 101, 102; VID_ZERO = 0 */
	uint8_t vlan_pcp;	/* priority of every tag */
	uint16_t ra_lifetime;	/* RA: router lifetime, seconds */
	uint8_t ip6_src_global; /* IPv6 source 2001:db8::1 instead of fe80::1 */
};
#define VID_ZERO 0xffff

extern const uint8_t mac_client[6], mac_server[6], mac_bcast[6], mac_all_routers[6],
	mac_all_nodes[6], mac_router[6];

/* The frame fs describes into buf (FRAME_MAX bytes); returns its length. */
size_t build_frame(uint8_t *buf, const struct frame_spec *fs);
/* An ICMPv6 router solicitation with a source link-layer address option, 70 bytes. */
size_t build_rs(uint8_t *frame, uint16_t vlan_tpid);
/* A UDP (or ICMP, TCP) datagram from IP_CLIENT port 2070 to daddr:dport. */
size_t build_simple(uint8_t *frame, uint32_t daddr, uint16_t dport, enum l4_kind l4);

/* ---- running frames (xdp_test_env.c) ---- */

int run_frame(const uint8_t *frame, size_t len, uint32_t repeat, uint32_t *retval);
void counters_reset(void);
void counters_read(struct sb_xdp_counters *c);
/* Exactly n packets counted, all under counter want. */
void assert_only_counter(const char *what, unsigned want, uint64_t n);
/* Run one frame once from zeroed counters; check the verdict and the one counter it moved. */
void expect_verdict(const char *what, const uint8_t *frame, size_t len, uint32_t verdict,
		    unsigned counter);
void settings_apply(uint32_t flags, uint32_t mask, uint16_t lo, uint16_t hi, uint32_t ip);
/* The settings every table test starts from: everything steered, router solicitations too. */
void settings_lab(void);
void xsk_slot_fill(int on);
/* Mount a private bpffs, load the object pinning its maps there. Returns 0 or SKIP_EXIT. */
int global_setup(void);
void global_teardown(void);

/* ---- the tests of each part ---- */

void test_veth_attach(void **state); /* xdp_test_veth.c */
void lab_down(void);

void test_guard_mac_deny(void **state); /* xdp_test_guard.c */
void test_guard_mac_allow(void **state);
void test_guard_rate_dhcp(void **state);
void test_guard_rate_tftp(void **state);
void test_guard_vlans(void **state);
void test_guard_dhcp_dst(void **state);
void test_guard_validate(void **state);
void test_guard_apply_config(void **state);

void test_ra_auto(void **state); /* xdp_test_ra.c */
void test_ra_auto_vlans(void **state);
void test_ra_auto_expiry(void **state);
void test_ra_auto_invalid(void **state);
void test_ra_not_auto(void **state);

/* Delete every entry of a hash map (the rate buckets, the routers). */
void map_empty(int fd, size_t key_size);

#endif /* SB_XDP_TEST_H */
