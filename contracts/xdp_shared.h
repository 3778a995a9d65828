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
 * Map names (<= 15 characters, the kernel's BPF_OBJ_NAME_LEN - 1). The settings and counter
 * maps are pinned by name (LIBBPF_PIN_BY_NAME) under libbpf's pin root, /sys/fs/bpf by default,
 * so they appear as /sys/fs/bpf/sb_xdp_settings and /sys/fs/bpf/sb_xdp_counters.
 * xsks_map is never pinned: net_af_xdp fills it with its own sockets.
 */
#define SB_XDP_SETTINGS_MAP "sb_xdp_settings"
#define SB_XDP_COUNTERS_MAP "sb_xdp_counters"
#define SB_XDP_XSKS_MAP	    "xsks_map"
#define SB_XDP_PROG_NAME    "sb_xdp_steer"

/* Upper bound on rx queues the program can redirect (xsks_map entries). */
#define SB_XDP_MAX_QUEUES 64


/* sb_xdp_settings.flags */
#define SB_XDP_F_VALID	(1u << 0) /* record was written by user space; 0 = use defaults */
#define SB_XDP_F_ENABLE (1u << 1) /* steering on; without it every packet passes */

/* sb_xdp_settings.port_mask: which well-known ports are steered. */
#define SB_XDP_PORT_M_DHCP (1u << 0)
#define SB_XDP_PORT_M_PXE  (1u << 1)
#define SB_XDP_PORT_M_TFTP (1u << 2)
#define SB_XDP_PORT_M_ALL  (SB_XDP_PORT_M_DHCP | SB_XDP_PORT_M_PXE | SB_XDP_PORT_M_TFTP)
/*
 * ICMPv6 router solicitations (RFC 4861 6.1.1: IPv6 next header 58 straight after the fixed
 * header, hop limit 255, ICMPv6 type 133 code 0) steered too, for the dataplane to answer with
 * a router advertisement that ends iPXE's IPv6 wait. Off by default (config "ipv6_ra").
 */
#define SB_XDP_PORT_M_RS    (1u << 3)
#define SB_XDP_PORT_M_VALID (SB_XDP_PORT_M_ALL | SB_XDP_PORT_M_RS) /* bits a record may hold */

/*
 * The single record (key 0) of the settings map (BPF_MAP_TYPE_ARRAY).
 *
 * A freshly created map holds zeros; without SB_XDP_F_VALID the program uses the defaults:
 * steering enabled, DHCP 67, PXE 4011 and TFTP 69 steered, transfer range off, any destination
 * address. Once SB_XDP_F_VALID is set every field is taken literally.
 */
struct sb_xdp_settings {
	__u32 flags;	    /* SB_XDP_F_* */
	__u32 port_mask;    /* SB_XDP_PORT_M_* */
	__u16 xfer_port_lo; /* TFTP transfer ports (server TIDs), inclusive, host order; */
	__u16 xfer_port_hi; /* 0/0 or lo > hi = no range */
	__u32 server_ip_be; /* if non-zero, TFTP 69 and the transfer range are steered only when
			     * the IPv4 destination is this address (network order) */
	__u32 reserved[4];  /* must be 0: room for later settings (allow/deny lists, rate
			     * limits) without changing the map layout of existing pins */
};

/*
 * Verdict counters: every packet the program sees increments exactly one of them.
 * X(enum suffix, name): the names are what xdp_ctl and the docs show.
 */
#define SB_XDP_COUNTERS(X)                                                                         \
	X(REDIR_DHCP, redirected_dhcp)	    /* UDP/67 sent to the AF_XDP socket */                 \
	X(REDIR_PXE, redirected_pxe)	    /* UDP/4011 */                                         \
	X(REDIR_TFTP, redirected_tftp)	    /* UDP/69 */                                           \
	X(REDIR_XFER, redirected_transfer)  /* UDP to the transfer port range */                   \
	X(REDIR_RS, redirected_rs)	    /* ICMPv6 router solicitation (SB_XDP_PORT_M_RS) */    \
	X(REDIRECT_FAILED, redirect_failed) /* steered, but no socket on this rx queue: passed */  \
	X(PASS_DISABLED, pass_disabled)	    /* steering switched off in the settings */            \
	X(PASS_NOT_IPV4, pass_not_ipv4)	    /* ARP, IPv6 (but RS), other EtherTypes */             \
	X(PASS_VLAN_DEPTH, pass_vlan_depth) /* more than two VLAN tags */                          \
	X(PASS_TRUNCATED, pass_truncated)   /* frame shorter than its headers say */               \
	X(PASS_BAD_IPV4, pass_bad_ipv4)	    /* version != 4, IHL < 5, total length too small */    \
	X(PASS_FRAGMENT, pass_fragment)	    /* MF set or fragment offset != 0 */                   \
	X(PASS_NOT_UDP, pass_not_udp)	    /* ICMP, TCP, ... */                                   \
	X(PASS_OTHER_PORT, pass_other_port) /* UDP to a port we do not serve */                    \
	X(PASS_OTHER_DST, pass_other_dst)   /* TFTP/transfer port, but not to server_ip_be */

enum sb_xdp_counter {
#define SB_XDP_X_ENUM(id, name) SB_XDP_CNT_##id,
	SB_XDP_COUNTERS(SB_XDP_X_ENUM)
#undef SB_XDP_X_ENUM
		SB_XDP_CNT__COUNT
};

/* The first five counters are the steering decisions; the rest are reasons to pass. */
#define SB_XDP_CNT_IS_REDIRECT(c) ((c) <= SB_XDP_CNT_REDIR_RS)

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

_Static_assert(sizeof(struct sb_xdp_settings) == 32, "sb_xdp_settings is a map value ABI");
_Static_assert(sizeof(struct sb_xdp_counters) == SB_XDP_CNT__COUNT * sizeof(__u64),
	       "sb_xdp_counters: one u64 per counter");

#endif /* SB_XDP_SHARED_H */
