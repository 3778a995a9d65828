/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-3-Clause) */
/*
 * "ipv6_ra": "auto" in the XDP program: router advertisements from other routers are recorded
 * (sb_xdp_routers, by VLAN and source MAC) and always passed to the kernel; a router
 * solicitation is steered to the dataplane only while no other router is live on its VLAN.
 * docs/XDP.md, "IPv6 router solicitations".
 */
#ifndef SB_XDP_RA_H
#define SB_XDP_RA_H

#include <linux/types.h>
#include <linux/if_ether.h>
#include <linux/icmpv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "xdp_shared.h"
#include "xdp_maps.h"

#define SB_RA_NSEC_PER_SEC 1000000000ull

static __always_inline int sb_mac_equal(const __u8 *a, const __u8 *b)
{
	return a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3] && a[4] == b[4] &&
	       a[5] == b[5];
}

/*
 * A valid router advertisement (sb_parse_ipv6_nd) from eth's source on vlan: record when it was
 * seen and the router lifetime it announces (RFC 4861 4.2; 0 = "not a default router", i.e.
 * gone). Ours (from own_mac) is not recorded: the dataplane's own advertisements leave through
 * AF_XDP and never come back in on this interface, but a loop in the network could bring one.
 */
static __always_inline __u32 sb_ra_record(const struct sb_xdp_settings *s, const struct ethhdr *eth,
					  const struct sb_xdp_vlan *vlan, const struct icmp6hdr *ra)
{
	struct sb_xdp_router_key k = {};
	struct sb_xdp_router *r, v = {};

	if (sb_mac_equal(eth->h_source, s->own_mac))
		return SB_XDP_CNT_PASS_RA_OWN;
	k.vlan = *vlan;
	__builtin_memcpy(k.mac, eth->h_source, ETH_ALEN);
	v.seen_ns = bpf_ktime_get_ns();
	v.lifetime_s = bpf_ntohs(ra->icmp6_rt_lifetime);
	r = bpf_map_lookup_elem(&sb_xdp_routers, &k);
	if (r) { /* plain stores: two CPUs racing both write a fresh sighting */
		r->seen_ns = v.seen_ns;
		r->lifetime_s = v.lifetime_s;
		r->count++;
	} else {
		v.count = 1;
		bpf_map_update_elem(&sb_xdp_routers, &k, &v, BPF_ANY);
	}
	return SB_XDP_CNT_PASS_RA_FOREIGN;
}

struct sb_ra_walk {
	__u64 now;
	struct sb_xdp_vlan vlan;
	int live;
};

/* bpf_for_each_map_elem callback: stop at the first live router on w->vlan. */
static long sb_ra_live_cb(void *map, const struct sb_xdp_router_key *k,
			  const struct sb_xdp_router *r, struct sb_ra_walk *w)
{
	if (k->vlan.outer != w->vlan.outer || k->vlan.inner != w->vlan.inner)
		return 0;
	if (r->lifetime_s && r->seen_ns + r->lifetime_s * SB_RA_NSEC_PER_SEC > w->now) {
		w->live = 1;
		return 1;
	}
	return 0;
}

/* Is another router live on this VLAN (lifetime > 0, not expired)? Walks at most
 * SB_XDP_ROUTERS_MAX entries, once per router solicitation. */
static __always_inline int sb_ra_foreign_live(const struct sb_xdp_vlan *vlan)
{
	struct sb_ra_walk w = {.now = bpf_ktime_get_ns(), .vlan = *vlan};

	bpf_for_each_map_elem(&sb_xdp_routers, sb_ra_live_cb, &w, 0);
	return w.live;
}

#endif /* SB_XDP_RA_H */
