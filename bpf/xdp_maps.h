/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-3-Clause) */
/*
 * The XDP program's maps (BPF side only). Names, keys and values are in xdp_shared.h, which
 * user space shares; docs/XDP.md has the table. Settings-like maps are pinned by name, so a
 * dataplane restart keeps them and stormboot-control finds them under /sys/fs/bpf; the router
 * and rate maps are state of one loaded program.
 */
#ifndef SB_XDP_MAPS_H
#define SB_XDP_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "xdp_shared.h"

/* net_af_xdp looks this map up by this exact name and inserts its sockets by queue index. */
struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, SB_XDP_MAX_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
} xsks_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sb_xdp_settings);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sb_xdp_settings SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sb_xdp_counters);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sb_xdp_counters SEC(".maps");

/* MAC -> frames dropped for it (atomic adds). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SB_XDP_DENY_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct sb_xdp_mac);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sb_xdp_deny SEC(".maps");

/* MAC -> 0; consulted only with SB_XDP_F_MAC_ALLOW. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SB_XDP_ALLOW_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct sb_xdp_mac);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sb_xdp_allow SEC(".maps");

/* VLAN tags -> 0; consulted only with SB_XDP_F_VLAN_SET. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SB_XDP_VLANS_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct sb_xdp_vlan);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sb_xdp_vlans SEC(".maps");

/* Other IPv6 routers seen on the interface ("ipv6_ra": "auto"). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SB_XDP_ROUTERS_MAX);
	__type(key, struct sb_xdp_router_key);
	__type(value, struct sb_xdp_router);
} sb_xdp_routers SEC(".maps");

/* Per-source token buckets: the time (ns) from which the source's next packet conforms. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SB_XDP_RATE_MAX);
	__type(key, struct sb_xdp_rate_key);
	__type(value, __u64);
} sb_xdp_rate SEC(".maps");

#endif /* SB_XDP_MAPS_H */
