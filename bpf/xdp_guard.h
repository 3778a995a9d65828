/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-3-Clause) */
/*
 * Flood guard of the XDP program: MAC deny and allow lists and per-source rate limits, applied
 * to the DHCP/PXE/TFTP frames the program would steer, before they cost the dataplane anything.
 * Each returns SB_XDP_CNT_DROP_* to drop (and count) the frame, or 0 to let it through.
 * docs/XDP.md, "Flood guard".
 */
#ifndef SB_XDP_GUARD_H
#define SB_XDP_GUARD_H

#include <linux/types.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>

#include "xdp_shared.h"
#include "xdp_maps.h"

#define SB_NSEC_PER_SEC 1000000000ull

/* BOOTP header offsets (RFC 2131 2, figure 1) from the start of the UDP payload. */
#define SB_BOOTP_HTYPE	1
#define SB_BOOTP_HLEN	2
#define SB_BOOTP_GIADDR 24
#define SB_BOOTP_CHADDR 28
#define SB_HTYPE_ETHER	1

/*
 * Whose DHCP/PXE message is this? A relayed one (giaddr set, RFC 2131 4.1) comes from the relay's
 * MAC: the client is chaddr (if it is an Ethernet address). Otherwise the Ethernet source, which
 * a client cannot hide behind chaddr.
 */
static __always_inline void sb_dhcp_client_mac(const struct ethhdr *eth, const struct udphdr *udph,
					       void *data_end, struct sb_xdp_mac *out)
{
	const __u8 *b = (const void *)(udph + 1);

	if ((void *)(b + SB_BOOTP_CHADDR + ETH_ALEN) <= data_end &&
	    (b[SB_BOOTP_GIADDR] | b[SB_BOOTP_GIADDR + 1] | b[SB_BOOTP_GIADDR + 2] |
	     b[SB_BOOTP_GIADDR + 3]) &&
	    b[SB_BOOTP_HTYPE] == SB_HTYPE_ETHER && b[SB_BOOTP_HLEN] == ETH_ALEN) {
		__builtin_memcpy(out->addr, b + SB_BOOTP_CHADDR, ETH_ALEN);
		return;
	}
	__builtin_memcpy(out->addr, eth->h_source, ETH_ALEN);
}

/*
 * GCRA (the virtual-scheduling form of a token bucket): a source may send one packet every
 * 1/per_second, `burst` of them at once. The bucket holds the time from which the source's next
 * packet conforms. Two CPUs updating one source's bucket at once may both let a packet through
 * (no lock on this path): the limit is approximate by a packet or so per CPU, never stricter.
 */
static __always_inline int sb_rate_conforms(const struct sb_xdp_rate *r,
					    const struct sb_xdp_rate_key *k)
{
	__u64 now, t, tau, tat, *v;
	__u32 burst = r->burst ? r->burst : 1;

	now = bpf_ktime_get_ns();
	t = SB_NSEC_PER_SEC / r->per_second;
	tau = t * (burst - 1);
	v = bpf_map_lookup_elem(&sb_xdp_rate, k);
	if (!v) {
		tat = now + t;
		bpf_map_update_elem(&sb_xdp_rate, k, &tat, BPF_ANY);
		return 1;
	}
	tat = *v;
	if (tat < now)
		tat = now;
	if (tat - now > tau)
		return 0;
	*v = tat + t;
	return 1;
}

/*
 * The guard for a frame the program would steer as cls (a REDIR_* counter other than REDIR_RS):
 * deny list, allow list, then the rate limit of its kind.
 */
static __always_inline __u32 sb_guard(const struct sb_xdp_settings *s, __u32 cls,
				      const struct ethhdr *eth, const struct iphdr *iph,
				      const struct udphdr *udph, void *data_end)
{
	int dhcp = cls == SB_XDP_CNT_REDIR_DHCP || cls == SB_XDP_CNT_REDIR_PXE;
	struct sb_xdp_rate_key rk = {};
	struct sb_xdp_mac mac;
	__u64 *hits;

	if (dhcp)
		sb_dhcp_client_mac(eth, udph, data_end, &mac);
	else
		__builtin_memcpy(mac.addr, eth->h_source, ETH_ALEN);

	hits = bpf_map_lookup_elem(&sb_xdp_deny, &mac);
	if (hits) {
		__sync_fetch_and_add(hits, 1);
		return SB_XDP_CNT_DROP_MAC_DENY;
	}
	if ((s->flags & SB_XDP_F_MAC_ALLOW) && !bpf_map_lookup_elem(&sb_xdp_allow, &mac))
		return SB_XDP_CNT_DROP_MAC_NOT_ALLOWED;

	if (dhcp && s->dhcp_rate.per_second) {
		rk.kind = SB_XDP_RATE_K_DHCP;
		__builtin_memcpy(rk.mac, mac.addr, ETH_ALEN);
		if (!sb_rate_conforms(&s->dhcp_rate, &rk))
			return SB_XDP_CNT_DROP_RATE_DHCP;
	} else if (!dhcp && s->tftp_rate.per_second) {
		rk.kind = SB_XDP_RATE_K_TFTP;
		rk.ip_be = iph->saddr;
		if (!sb_rate_conforms(&s->tftp_rate, &rk))
			return SB_XDP_CNT_DROP_RATE_TFTP;
	}
	return 0;
}

#endif /* SB_XDP_GUARD_H */
