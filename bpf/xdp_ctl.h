/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xdp_ctl: user-space access to the XDP program's maps (settings, verdict counters, the flood
 * guard's MAC lists and rates, the VLAN set, the routers seen), for the dataplane and the control
 * daemon. Plain libbpf syscalls on map fds; no DPDK. One writer at a time: the setters read,
 * change and write the settings record back.
 *
 * The maps can be found three ways:
 *  - by pinned path: net_af_xdp loads our object with bpf_object__open_file(path, NULL) +
 *    bpf_object__load(), so libbpf pins the LIBBPF_PIN_BY_NAME maps under /sys/fs/bpf
 *    (which must be a mounted bpffs, or the load fails);
 *  - by interface: the XDP program attached to an ifindex -> its map ids -> match by name
 *    (works with no bpffs at all, in the network namespace of the interface);
 *  - from a loaded bpf_object (tests, a loader of our own).
 * Errors are negative errno.
 */
#ifndef SB_XDP_CTL_H
#define SB_XDP_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xdp_shared.h"

struct bpf_object;
struct sbcfg;

#define XDP_CTL_PIN_ROOT "/sys/fs/bpf" /* libbpf's default pin root */

/* Open map fds; -1 when closed. */
struct xdp_ctl {
	int settings_fd;
	int counters_fd;
	int deny_fd;	/* sb_xdp_deny */
	int allow_fd;	/* sb_xdp_allow */
	int vlans_fd;	/* sb_xdp_vlans */
	int routers_fd; /* sb_xdp_routers: not pinned, so -1 after xdp_ctl_open_pinned() */
};

/* Open the maps pinned under pin_root (NULL = XDP_CTL_PIN_ROOT); -EPROTO if one has another
 * layout (an older object). */
int xdp_ctl_open_pinned(struct xdp_ctl *ctl, const char *pin_root);

/* Open the maps of the XDP program attached to ifindex (any attach mode). -ENOENT if none. */
int xdp_ctl_open_ifindex(struct xdp_ctl *ctl, unsigned int ifindex);

/* Open the maps of a loaded object (the fds are duplicated; the object may be closed). */
int xdp_ctl_open_object(struct xdp_ctl *ctl, const struct bpf_object *obj);

/* Close the fds; safe on a closed or zeroed-then-failed ctl. */
void xdp_ctl_close(struct xdp_ctl *ctl);

/*
 * The settings the program uses when the map was never written (SB_XDP_F_VALID set):
 * SB_XDP_PORT_M_ALL, so router solicitations (SB_XDP_PORT_M_RS) are not steered.
 */
void xdp_ctl_settings_default(struct sb_xdp_settings *s);

/*
 * 0 if s can be written: no unknown bits (flags within SB_XDP_F_KNOWN, port_mask within
 * SB_XDP_PORT_M_VALID), reserved fields zero, SB_XDP_F_RS_AUTO only with SB_XDP_PORT_M_RS,
 * SB_XDP_F_DHCP_DST only with server_ip_be (else -EINVAL); transfer range either 0/0 or
 * 1 <= lo <= hi, each rate 0/0 or 1..SB_XDP_RATE_PPS_MAX per second with a burst of
 * 1..SB_XDP_RATE_BURST_MAX (else -ERANGE).
 */
int xdp_ctl_settings_validate(const struct sb_xdp_settings *s);

/* The settings in force: the map record, or the defaults if it was never written. */
int xdp_ctl_settings_get(struct xdp_ctl *ctl, struct sb_xdp_settings *out);

/* Validate s, set SB_XDP_F_VALID and write it; the program sees it on its next packet. */
int xdp_ctl_settings_set(struct xdp_ctl *ctl, const struct sb_xdp_settings *s);

/* Sum the per-CPU counters into out. */
int xdp_ctl_counters_read(struct xdp_ctl *ctl, struct sb_xdp_counters *out);

/* Zero the counters on every CPU. */
int xdp_ctl_counters_reset(struct xdp_ctl *ctl);

/* "redirected_dhcp", ... for idx < SB_XDP_CNT__COUNT, else NULL. */
const char *xdp_ctl_counter_name(unsigned int idx);

/* ---- flood guard, VLAN set, routers (xdp_ctl_guard.c) ---- */

enum xdp_ctl_list {
	XDP_CTL_DENY,  /* sb_xdp_deny: DHCP/PXE/TFTP from these MACs is dropped */
	XDP_CTL_ALLOW, /* sb_xdp_allow: with SB_XDP_F_MAC_ALLOW, only these MACs get through */
};

struct xdp_ctl_mac_entry {
	uint8_t mac[6];
	uint64_t drops; /* deny list: frames dropped for this MAC; allow list: 0 */
};

/* Add mac to a list; 0 if it was there already (its drop count is kept); -ENOSPC when full. */
int xdp_ctl_mac_add(struct xdp_ctl *ctl, enum xdp_ctl_list list, const uint8_t mac[6]);

/* Remove mac from a list; -ENOENT if it was not on it. */
int xdp_ctl_mac_del(struct xdp_ctl *ctl, enum xdp_ctl_list list, const uint8_t mac[6]);

/*
 * The entries of a list (in no particular order): fills up to cap of them into out and returns
 * how many the list holds (which may be more than cap), or a negative errno.
 */
int xdp_ctl_mac_list(struct xdp_ctl *ctl, enum xdp_ctl_list list, struct xdp_ctl_mac_entry *out,
		     size_t cap);

/* Empty a list. */
int xdp_ctl_mac_clear(struct xdp_ctl *ctl, enum xdp_ctl_list list);

/*
 * Enforce the allow list (SB_XDP_F_MAC_ALLOW) or stop enforcing it. Switching it on with an empty
 * list is refused (-ENODATA): it would drop every client.
 */
int xdp_ctl_mac_allow_only(struct xdp_ctl *ctl, bool on);

enum xdp_ctl_rate_kind {
	XDP_CTL_RATE_DHCP, /* DHCP 67 + PXE 4011, per client MAC */
	XDP_CTL_RATE_TFTP, /* TFTP 69 + transfer ports, per source IPv4 address */
};

/* Set a per-source rate limit; {0, 0} = none. Validated as by xdp_ctl_settings_validate(). */
int xdp_ctl_rate_set(struct xdp_ctl *ctl, enum xdp_ctl_rate_kind kind, const struct sb_xdp_rate *r);

/* The rate limit in force ({0, 0} = none). */
int xdp_ctl_rate_get(struct xdp_ctl *ctl, enum xdp_ctl_rate_kind kind, struct sb_xdp_rate *out);

/*
 * Steer only frames whose VLAN tags are one of v[0..n) ({0, 0} = untagged), or, with n = 0,
 * every VLAN again. Replaces the set without a moment in which a VLAN in both the old and the
 * new set is refused. -EINVAL for a VID above 4094 or an inner tag without an outer one.
 */
int xdp_ctl_vlans_set(struct xdp_ctl *ctl, const struct sb_xdp_vlan *v, size_t n);

/*
 * The VLAN set: fills up to cap entries and returns how many there are; 0 with *every set when
 * no set is in force (every VLAN is steered).
 */
int xdp_ctl_vlans_get(struct xdp_ctl *ctl, struct sb_xdp_vlan *out, size_t cap, bool *every);

/* A router the program has seen advertise ("ipv6_ra": "auto"). */
struct xdp_ctl_router {
	struct sb_xdp_router_key key; /* VLAN and source MAC */
	struct sb_xdp_router r;
	bool live; /* lifetime > 0 and not expired: router solicitations go to the kernel */
};

/*
 * The routers seen (not pinned: needs a ctl opened by interface or object, else -ENOENT). Fills
 * up to cap and returns how many there are.
 */
int xdp_ctl_routers_list(struct xdp_ctl *ctl, struct xdp_ctl_router *out, size_t cap);

/*
 * Write what a config asks of the XDP program (what the dataplane does at start): steering on,
 * the transfer range, server address, router solicitations per cfg->ipv6_ra (own_mac: the
 * source MAC of our own advertisements, may be NULL), and cfg->guard: the VLAN set, DHCP
 * destinations, both MAC lists (replacing what they held) and the rates. Other port_mask bits are
 * kept. 0 or a negative errno with a message in err.
 */
int xdp_ctl_apply_config(struct xdp_ctl *ctl, const struct sbcfg *cfg, const uint8_t own_mac[6],
			 char *err, size_t errlen);

#endif /* SB_XDP_CTL_H */
