/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Shared between the XDP program (bpf/stormboot_xdp.c) and user space (bpf/xdp_ctl.c, the
 * dataplane, the control daemon): map names, the settings record and the verdict counters.
 * Only <linux/types.h> types here, so both clang -target bpf and gcc can include it.
 */
#ifndef SB_XDP_SHARED_H
#define SB_XDP_SHARED_H

#include <linux/types.h>

#include "sb_ports.h"

/*
 * Map names (<= 15 characters, the kernel's BPF_OBJ_NAME_LEN - 1). The settings, counter, MAC
 * list and VLAN maps are pinned by name (LIBBPF_PIN_BY_NAME) under libbpf's pin root,
 * /sys/fs/bpf by default, so they appear as /sys/fs/bpf/sb_xdp_settings and so on.
 * xsks_map is never pinned: net_af_xdp fills it with its own sockets. The router and rate maps
 * are state of one loaded program, not settings: not pinned (found through the program).
 */
#define SB_XDP_SETTINGS_MAP "sb_xdp_settings"
#define SB_XDP_COUNTERS_MAP "sb_xdp_counters"
#define SB_XDP_DENY_MAP	    "sb_xdp_deny"
#define SB_XDP_ALLOW_MAP    "sb_xdp_allow"
#define SB_XDP_VLANS_MAP    "sb_xdp_vlans"
#define SB_XDP_ROUTERS_MAP  "sb_xdp_routers"
#define SB_XDP_RATE_MAP	    "sb_xdp_rate"
#define SB_XDP_XSKS_MAP	    "xsks_map"
#define SB_XDP_PROG_NAME    "sb_xdp_steer"

/* Upper bound on rx queues the program can redirect (xsks_map entries). */
#define SB_XDP_MAX_QUEUES 64

/* Map sizes (max_entries). */
#define SB_XDP_DENY_MAX	   4096	 /* MACs on the deny list */
#define SB_XDP_ALLOW_MAX   65536 /* MACs on the allow list (a fleet) */
#define SB_XDP_VLANS_MAX   1024	 /* entries of the VLAN set */
#define SB_XDP_ROUTERS_MAX 256	 /* foreign IPv6 routers remembered (LRU) */
#define SB_XDP_RATE_MAX	   16384 /* token buckets (LRU): sources seen recently */

/* sb_xdp_settings.flags */
#define SB_XDP_F_VALID	(1u << 0) /* record was written by user space; 0 = use defaults */
#define SB_XDP_F_ENABLE (1u << 1) /* steering on; without it every packet passes */
/*
 * With SB_XDP_PORT_M_RS ("ipv6_ra": "auto"): watch router advertisements from other routers
 * (sb_xdp_routers) and steer a router solicitation only while no other router is live on its
 * VLAN; otherwise pass it to the kernel (pass_rs_foreign_router). Needs SB_XDP_PORT_M_RS.
 */
#define SB_XDP_F_RS_AUTO (1u << 2)
/* Drop DHCP/PXE/TFTP from every MAC that is not on the allow list (sb_xdp_allow). */
#define SB_XDP_F_MAC_ALLOW (1u << 3)
/* Steer only frames whose VLAN tags are in sb_xdp_vlans (else every VLAN, and untagged). */
#define SB_XDP_F_VLAN_SET (1u << 4)
/*
 * DHCP 67 and PXE 4011 steered only when the IPv4 destination is server_ip_be or
 * 255.255.255.255 (otherwise pass_other_dst). Needs server_ip_be.
 */
#define SB_XDP_F_DHCP_DST (1u << 5)
#define SB_XDP_F_KNOWN                                                                             \
	(SB_XDP_F_VALID | SB_XDP_F_ENABLE | SB_XDP_F_RS_AUTO | SB_XDP_F_MAC_ALLOW |                \
	 SB_XDP_F_VLAN_SET | SB_XDP_F_DHCP_DST)

/* sb_xdp_settings.port_mask: which well-known ports are steered. */
#define SB_XDP_PORT_M_DHCP (1u << 0)
#define SB_XDP_PORT_M_PXE  (1u << 1)
#define SB_XDP_PORT_M_TFTP (1u << 2)
#define SB_XDP_PORT_M_ALL  (SB_XDP_PORT_M_DHCP | SB_XDP_PORT_M_PXE | SB_XDP_PORT_M_TFTP)
/*
 * ICMPv6 router solicitations (RFC 4861 6.1.1: IPv6 next header 58 straight after the fixed
 * header, hop limit 255, ICMPv6 type 133 code 0) steered too, for the dataplane to answer with
 * a router advertisement that ends iPXE's IPv6 wait (config "ipv6_ra": true, or "auto" with
 * SB_XDP_F_RS_AUTO). Not in the defaults.
 */
#define SB_XDP_PORT_M_RS    (1u << 3)
/*
 * ARP replies to the dataplane's conflict probes (config dhcp.conflict_probe_ms; RFC 5227
 * 2.1.1: opcode 2, target IP 0.0.0.0, which the kernel never asked for) steered too. Not in
 * the defaults.
 */
#define SB_XDP_PORT_M_ARP_PROBE (1u << 4)
#define SB_XDP_PORT_M_VALID                                                                        \
	(SB_XDP_PORT_M_ALL | SB_XDP_PORT_M_RS | SB_XDP_PORT_M_ARP_PROBE) /* bits a record may hold */

/* Rate limits: at most this many packets per second, and this deep a bucket. */
#define SB_XDP_RATE_PPS_MAX   1000000
#define SB_XDP_RATE_BURST_MAX 1000000

/* A per-source rate limit (GCRA token bucket): 0/0 = none; else 1 <= per_second, 1 <= burst. */
struct sb_xdp_rate {
	__u32 per_second; /* sustained packets per second from one source */
	__u32 burst;	  /* packets one source may send at once */
};

/*
 * The single record (key 0) of the settings map (BPF_MAP_TYPE_ARRAY).
 *
 * A freshly created map holds zeros; without SB_XDP_F_VALID the program uses the defaults:
 * steering enabled, DHCP 67, PXE 4011 and TFTP 69 steered, transfer range off, any destination
 * address, every VLAN, no lists, no rate limits. Once SB_XDP_F_VALID is set every field is taken
 * literally.
 */
struct sb_xdp_settings {
	__u32 flags;	    /* SB_XDP_F_* */
	__u32 port_mask;    /* SB_XDP_PORT_M_* */
	__u16 xfer_port_lo; /* TFTP transfer ports (server TIDs), inclusive, host order; */
	__u16 xfer_port_hi; /* 0/0 or lo > hi = no range */
	__u32 server_ip_be; /* if non-zero, TFTP 69 and the transfer range are steered only when
			     * the IPv4 destination is this address (network order) */
	struct sb_xdp_rate dhcp_rate; /* DHCP 67 + PXE 4011, per client MAC */
	struct sb_xdp_rate tftp_rate; /* TFTP 69 + transfer ports, per source IPv4 address */
	__u8 own_mac[6];	      /* our source MAC: a router advertisement from it is ours
				       * (SB_XDP_F_RS_AUTO ignores it); zero = none */
	__u8 reserved8[2];	      /* must be 0 */
	__u32 reserved[6];	      /* must be 0: room for later settings */
};

/* Key of sb_xdp_deny and sb_xdp_allow (BPF_MAP_TYPE_HASH); the value is a __u64:
 * deny: frames dropped for that MAC (atomic adds), allow: 0. */
struct sb_xdp_mac {
	__u8 addr[6];
};

/*
 * A frame's VLAN tags, the key of sb_xdp_vlans (BPF_MAP_TYPE_HASH, value __u32, 0) and part of
 * the router key: outer and inner VLAN ID (802.1ad/802.1Q, IEEE 802.1Q 9.6), 0 = no such tag.
 * A tag with VID 0 (priority tag) counts as no tag: untagged = {0, 0}, one tag = {vid, 0}.
 */
struct sb_xdp_vlan {
	__u16 outer;
	__u16 inner;
};

/* Key of sb_xdp_routers (BPF_MAP_TYPE_LRU_HASH): a router on a VLAN, by its source MAC. */
struct sb_xdp_router_key {
	struct sb_xdp_vlan vlan;
	__u8 mac[6];
	__u8 pad[2]; /* 0 */
};

/* What the program records of a router advertisement from another router (RFC 4861 4.2). */
struct sb_xdp_router {
	__u64 seen_ns;	  /* bpf_ktime_get_ns() (CLOCK_MONOTONIC) of the last RA */
	__u32 lifetime_s; /* its router lifetime; live while seen_ns + lifetime > now */
	__u32 count;	  /* RAs seen from it */
};

/* Key of sb_xdp_rate (BPF_MAP_TYPE_LRU_HASH); the value is the bucket's next-allowed time. */
struct sb_xdp_rate_key {
	__u32 kind;  /* SB_XDP_RATE_K_* */
	__u32 ip_be; /* TFTP: source IPv4 address; DHCP: 0 */
	__u8 mac[6]; /* DHCP: client MAC; TFTP: 0 */
	__u8 pad[2]; /* 0 */
};
#define SB_XDP_RATE_K_DHCP 1
#define SB_XDP_RATE_K_TFTP 2

/*
 * Verdict counters: every packet the program sees increments exactly one of them.
 * X(enum suffix, name): the names are what xdp_ctl and the docs show.
 * Order: the redirect counters first, then reasons to pass, then reasons to drop.
 */
#define SB_XDP_COUNTERS(X)                                                                         \
	X(REDIR_DHCP, redirected_dhcp)	    /* UDP/67 sent to the AF_XDP socket */                 \
	X(REDIR_PXE, redirected_pxe)	    /* UDP/4011 */                                         \
	X(REDIR_TFTP, redirected_tftp)	    /* UDP/69 */                                           \
	X(REDIR_XFER, redirected_transfer)  /* UDP to the transfer port range */                   \
	X(REDIR_RS, redirected_rs)	    /* ICMPv6 router solicitation (SB_XDP_PORT_M_RS) */    \
	X(REDIR_ARP_PROBE, redirected_arp_probe) /* ARP reply to a probe (M_ARP_PROBE) */         \
	X(REDIRECT_FAILED, redirect_failed) /* steered, but no socket on this rx queue: passed */  \
	X(PASS_DISABLED, pass_disabled)	    /* steering switched off in the settings */            \
	X(PASS_NOT_IPV4, pass_not_ipv4)	    /* ARP (but probe replies), IPv6 (but RS), other */            \
	X(PASS_VLAN_DEPTH, pass_vlan_depth) /* more than two VLAN tags */                          \
	X(PASS_TRUNCATED, pass_truncated)   /* frame shorter than its headers say */               \
	X(PASS_BAD_IPV4, pass_bad_ipv4)	    /* version != 4, IHL < 5, total length too small */    \
	X(PASS_FRAGMENT, pass_fragment)	    /* MF set or fragment offset != 0 */                   \
	X(PASS_NOT_UDP, pass_not_udp)	    /* ICMP, TCP, ... */                                   \
	X(PASS_OTHER_PORT, pass_other_port) /* UDP to a port we do not serve */                    \
	X(PASS_OTHER_DST, pass_other_dst)   /* ours by port, but not to our address */             \
	X(PASS_OTHER_VLAN, pass_other_vlan) /* ours, but its VLAN is not in the set */             \
	X(PASS_RS_FOREIGN, pass_rs_foreign_router) /* RS while another router is live (auto) */    \
	X(PASS_RA_FOREIGN, pass_ra_foreign)	   /* RA from another router, recorded (auto) */   \
	X(PASS_RA_OWN, pass_ra_own)		   /* RA from our own MAC, not recorded (auto) */  \
	X(PASS_DHCP_SERVER, pass_dhcp_server_reply) /* UDP 67 -> 68 received: a reply of another \
						       DHCP server (or relay) on the segment */ \
	X(DROP_MAC_DENY, drop_mac_deny)		   /* DHCP/TFTP from a MAC on the deny list */     \
	X(DROP_MAC_NOT_ALLOWED, drop_mac_not_allowed) /* not on the allow list (F_MAC_ALLOW) */    \
	X(DROP_RATE_DHCP, drop_rate_dhcp)	      /* client MAC over dhcp_rate */              \
	X(DROP_RATE_TFTP, drop_rate_tftp)	      /* source IPv4 over tftp_rate */

enum sb_xdp_counter {
#define SB_XDP_X_ENUM(id, name) SB_XDP_CNT_##id,
	SB_XDP_COUNTERS(SB_XDP_X_ENUM)
#undef SB_XDP_X_ENUM
		SB_XDP_CNT__COUNT
};

/* The first six counters are the steering decisions; the drops come last. */
#define SB_XDP_CNT_IS_REDIRECT(c) ((c) <= SB_XDP_CNT_REDIR_ARP_PROBE)
#define SB_XDP_CNT_IS_DROP(c)	  ((c) >= SB_XDP_CNT_DROP_MAC_DENY && (c) < SB_XDP_CNT__COUNT)

/*
 * The single record (key 0) of the per-CPU counter map (BPF_MAP_TYPE_PERCPU_ARRAY). Named
 * fields so `bpftool map dump` shows names; v[] for index access. User space sums the CPUs.
 */
struct sb_xdp_counters {
	union {
		struct {
#define SB_XDP_X_FIELD(id, name) __u64 name;
			SB_XDP_COUNTERS(SB_XDP_X_FIELD)
#undef SB_XDP_X_FIELD
		};
		__u64 v[SB_XDP_CNT__COUNT];
	};
};

_Static_assert(sizeof(struct sb_xdp_settings) == 64, "sb_xdp_settings is a map value ABI");
_Static_assert(sizeof(struct sb_xdp_mac) == 6, "sb_xdp_mac is a map key ABI");
_Static_assert(sizeof(struct sb_xdp_vlan) == 4, "sb_xdp_vlan is a map key ABI");
_Static_assert(sizeof(struct sb_xdp_router_key) == 12, "sb_xdp_router_key is a map key ABI");
_Static_assert(sizeof(struct sb_xdp_router) == 16, "sb_xdp_router is a map value ABI");
_Static_assert(sizeof(struct sb_xdp_rate_key) == 16, "sb_xdp_rate_key is a map key ABI");
_Static_assert(sizeof(struct sb_xdp_counters) == SB_XDP_CNT__COUNT * sizeof(__u64),
	       "sb_xdp_counters: one u64 per counter");

#endif /* SB_XDP_SHARED_H */
