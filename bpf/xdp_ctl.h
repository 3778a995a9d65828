/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xdp_ctl: user-space access to the XDP program's settings and verdict counters, for the
 * dataplane and the control daemon. Plain libbpf syscalls on map fds; no DPDK.
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

#include <stdint.h>

#include "xdp_shared.h"

struct bpf_object;

#define XDP_CTL_PIN_ROOT "/sys/fs/bpf" /* libbpf's default pin root */

/* Open map fds; -1 when closed. */
struct xdp_ctl {
	int settings_fd;
	int counters_fd;
};

/* Open the maps pinned under pin_root (NULL = XDP_CTL_PIN_ROOT). */
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
 * 0 if s can be written: no unknown bits (port_mask within SB_XDP_PORT_M_VALID), transfer range
 * either 0/0 or 1 <= lo <= hi.
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

#endif /* SB_XDP_CTL_H */
