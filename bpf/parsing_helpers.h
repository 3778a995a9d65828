/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Header parsers for the XDP program: a cursor that only moves forward, and one helper per
 * header that checks `if (h + 1 > data_end)` before every access, so the verifier can prove
 * each read in bounds. Each returns 0 on success or a SB_XDP_CNT_PASS_* counter index on
 * refusal (the caller passes the packet to the kernel and counts that reason).
 */
#ifndef SB_XDP_PARSING_HELPERS_H
#define SB_XDP_PARSING_HELPERS_H

#include <linux/types.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/icmpv6.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "xdp_shared.h"

#define SB_VLAN_MAX_DEPTH 2	 /* 802.1Q inside 802.1ad (QinQ) */
#define SB_VLAN_VID_MASK  0x0fff /* IEEE 802.1Q 9.6: the low 12 bits of the TCI */

#define SB_IP_MF     0x2000 /* RFC 791 3.1: more fragments */
#define SB_IP_OFFSET 0x1fff /* RFC 791 3.1: fragment offset, 8-byte units */

#define SB_IPPROTO_ICMPV6    58	 /* RFC 4443 1 */
#define SB_ND_HOP_LIMIT	     255 /* RFC 4861 6.1.1: ND messages are never forwarded */
#define SB_ICMPV6_ROUTER_SOL 133 /* RFC 4861 4.1 */
#define SB_ICMPV6_RS_MIN_LEN 8	 /* RFC 4861 6.1.1: ICMP length >= 8 octets */
#define SB_ICMPV6_ROUTER_ADV 134 /* RFC 4861 4.2 */
#define SB_ICMPV6_RA_MIN_LEN 16	 /* RFC 4861 6.1.2: ICMP length >= 16 octets */

struct sb_cursor {
	void *pos;
};

/* A VLAN tag as it sits after the MAC addresses (IEEE 802.1Q 9.6). */
struct sb_vlan_hdr {
	__be16 tci;
	__be16 encap_proto;
};

static __always_inline int sb_proto_is_vlan(__be16 proto_be)
{
	return proto_be == bpf_htons(ETH_P_8021Q) || proto_be == bpf_htons(ETH_P_8021AD);
}

/*
 * Ethernet header plus up to SB_VLAN_MAX_DEPTH VLAN tags (802.1ad outer, 802.1Q inner).
 * On success *proto_be is the EtherType of the payload, *eth_out the Ethernet header, *vlan the
 * VLAN IDs of the tags (outer first; a tag with VID 0, a priority tag, counts as none) and the
 * cursor points at the payload.
 */
static __always_inline int sb_parse_eth(struct sb_cursor *c, void *data_end, __be16 *proto_be,
					struct ethhdr **eth_out, struct sb_xdp_vlan *vlan)
{
	struct ethhdr *eth = c->pos;
	struct sb_vlan_hdr *vlh;
	__u16 vid[SB_VLAN_MAX_DEPTH] = {0, 0};
	__be16 proto;
	int i;

	if ((void *)(eth + 1) > data_end)
		return SB_XDP_CNT_PASS_TRUNCATED;
	proto = eth->h_proto;
	vlh = (void *)(eth + 1);

#pragma unroll
	for (i = 0; i < SB_VLAN_MAX_DEPTH; i++) {
		if (!sb_proto_is_vlan(proto))
			break;
		if ((void *)(vlh + 1) > data_end)
			return SB_XDP_CNT_PASS_TRUNCATED;
		vid[i] = bpf_ntohs(vlh->tci) & SB_VLAN_VID_MASK;
		proto = vlh->encap_proto;
		vlh++;
	}
	if (sb_proto_is_vlan(proto))
		return SB_XDP_CNT_PASS_VLAN_DEPTH;

	/* Scalars only: a priority tag (VID 0) moves the other tag up to "outer". */
	vlan->outer = vid[0] ? vid[0] : vid[1];
	vlan->inner = vid[0] ? vid[1] : 0;
	c->pos = vlh;
	*proto_be = proto;
	*eth_out = eth;
	return 0;
}

/*
 * IPv4 header (RFC 791 3.1): version 4, IHL >= 5, the whole header and the whole datagram
 * (total length) inside the frame, not a fragment. Trailing Ethernet padding is allowed.
 */
static __always_inline int sb_parse_ipv4(struct sb_cursor *c, void *data_end,
					 struct iphdr **iph_out)
{
	struct iphdr *iph = c->pos;
	__u32 hdr_len;
	__u16 tot_len;

	if ((void *)(iph + 1) > data_end)
		return SB_XDP_CNT_PASS_TRUNCATED;
	if (iph->version != 4 || iph->ihl < 5)
		return SB_XDP_CNT_PASS_BAD_IPV4;
	hdr_len = iph->ihl * 4;
	if (c->pos + hdr_len > data_end)
		return SB_XDP_CNT_PASS_TRUNCATED;
	tot_len = bpf_ntohs(iph->tot_len);
	if (tot_len < hdr_len)
		return SB_XDP_CNT_PASS_BAD_IPV4;
	if (c->pos + tot_len > data_end)
		return SB_XDP_CNT_PASS_TRUNCATED;
	/* The UDP header is only in the first fragment; reassembly is the kernel's job. */
	if (iph->frag_off & bpf_htons(SB_IP_MF | SB_IP_OFFSET))
		return SB_XDP_CNT_PASS_FRAGMENT;

	c->pos += hdr_len;
	*iph_out = iph;
	return 0;
}

/* UDP header (RFC 768); its 8 bytes must lie inside the IPv4 total length. */
static __always_inline int sb_parse_udp(struct sb_cursor *c, void *data_end,
					const struct iphdr *iph, struct udphdr **udph_out)
{
	struct udphdr *udph = c->pos;

	if ((void *)(udph + 1) > data_end)
		return SB_XDP_CNT_PASS_TRUNCATED;
	if (bpf_ntohs(iph->tot_len) < iph->ihl * 4 + sizeof(*udph))
		return SB_XDP_CNT_PASS_BAD_IPV4;
	c->pos = udph + 1;
	*udph_out = udph;
	return 0;
}

/*
 * Is this IPv6 packet an ICMPv6 router solicitation (RFC 4861 6.1.1) or, when want_ra, a router
 * advertisement (RFC 4861 6.1.2)? The fixed header (RFC 8200 3) must be in the frame, version 6,
 * next header ICMPv6 directly (one with extension headers is not ours), hop limit 255, payload
 * length >= 8 and inside the frame (trailing Ethernet padding allowed), ICMPv6 code 0 and type
 * 133; or type 134 with payload length >= 16 from a link-local source address. Returns 0 with
 * *icmp_out set (its type tells which), SB_XDP_CNT_PASS_TRUNCATED when a header or the payload is
 * cut, else SB_XDP_CNT_PASS_NOT_IPV4 (every other IPv6 packet goes to the kernel). Checksums and
 * options are not checked here: the dataplane checks a solicitation's, and an advertisement goes
 * to the kernel anyway (see docs/XDP.md on what a forged one can do).
 */
static __always_inline int sb_parse_ipv6_nd(struct sb_cursor *c, void *data_end, int want_ra,
					    struct icmp6hdr **icmp_out)
{
	struct ipv6hdr *ip6h = c->pos;
	struct icmp6hdr *icmp6h;
	__u16 payload_len;

	if ((void *)(ip6h + 1) > data_end)
		return SB_XDP_CNT_PASS_TRUNCATED;
	if (ip6h->version != 6 || ip6h->nexthdr != SB_IPPROTO_ICMPV6 ||
	    ip6h->hop_limit != SB_ND_HOP_LIMIT)
		return SB_XDP_CNT_PASS_NOT_IPV4;
	payload_len = bpf_ntohs(ip6h->payload_len);
	if (payload_len < SB_ICMPV6_RS_MIN_LEN)
		return SB_XDP_CNT_PASS_NOT_IPV4;
	if ((void *)(ip6h + 1) + payload_len > data_end)
		return SB_XDP_CNT_PASS_TRUNCATED;
	icmp6h = (void *)(ip6h + 1);
	if ((void *)(icmp6h + 1) > data_end) /* implied by the check above; for the verifier */
		return SB_XDP_CNT_PASS_TRUNCATED;
	if (icmp6h->icmp6_code != 0)
		return SB_XDP_CNT_PASS_NOT_IPV4;
	if (icmp6h->icmp6_type == SB_ICMPV6_ROUTER_SOL) {
		c->pos = icmp6h + 1;
		*icmp_out = icmp6h;
		return 0;
	}
	if (!want_ra || icmp6h->icmp6_type != SB_ICMPV6_ROUTER_ADV ||
	    payload_len < SB_ICMPV6_RA_MIN_LEN)
		return SB_XDP_CNT_PASS_NOT_IPV4;
	/* RFC 4861 6.1.2: an advertisement comes from a link-local address (fe80::/10). */
	if (ip6h->saddr.in6_u.u6_addr8[0] != 0xfe || (ip6h->saddr.in6_u.u6_addr8[1] & 0xc0) != 0x80)
		return SB_XDP_CNT_PASS_NOT_IPV4;
	if ((void *)icmp6h + SB_ICMPV6_RA_MIN_LEN > data_end) /* implied; for the verifier */
		return SB_XDP_CNT_PASS_TRUNCATED;
	c->pos = (void *)icmp6h + SB_ICMPV6_RA_MIN_LEN;
	*icmp_out = icmp6h;
	return 0;
}

#endif /* SB_XDP_PARSING_HELPERS_H */
