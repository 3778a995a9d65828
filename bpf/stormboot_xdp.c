/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-3-Clause) */
/*
 * stormboot XDP steering program.
 *
 * UDP to port 67 (DHCP), 4011 (PXE), 69 (TFTP) and to the TFTP transfer port range, and (if
 * the settings ask) ICMPv6 router solicitations and ARP replies to conflict probes, go to the AF_XDP socket of the receiving rx
 * queue (xsks_map, filled by DPDK's net_af_xdp PMD); every other frame goes to the kernel with
 * XDP_PASS, so ARP, ICMP, IPv6 neighbour discovery, SSH and HTTP keep working. Before a frame is
 * steered: its VLAN must be in the set (if one is configured), and the flood guard (MAC lists,
 * per-source rates) may drop it. Settings and per-CPU verdict counters live in maps; see
 * docs/XDP.md.
 */
#include <linux/bpf.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "xdp_shared.h"
#include "parsing_helpers.h"
#include "xdp_maps.h"
#include "xdp_guard.h"
#include "xdp_ra.h"

#define SB_IPV4_BCAST_BE 0xffffffffu /* 255.255.255.255, the same in either byte order */

static __always_inline void sb_count(__u32 idx)
{
	__u32 key = 0;
	struct sb_xdp_counters *c = bpf_map_lookup_elem(&sb_xdp_counters, &key);

	if (c && idx < SB_XDP_CNT__COUNT)
		c->v[idx]++; /* per-CPU: no atomics needed */
}

/* The settings in force: the map record if user space wrote one, else the defaults. */
static __always_inline void sb_settings_load(struct sb_xdp_settings *s)
{
	__u32 key = 0;
	struct sb_xdp_settings *m = bpf_map_lookup_elem(&sb_xdp_settings, &key);

	if (m && (m->flags & SB_XDP_F_VALID)) {
		*s = *m;
		return;
	}
	__builtin_memset(s, 0, sizeof(*s));
	s->flags = SB_XDP_F_ENABLE;
	s->port_mask = SB_XDP_PORT_M_ALL;
}

/*
 * Which redirect counter a UDP datagram to dport earns, or a PASS_* counter if it is not ours.
 */
static __always_inline __u32 sb_classify(const struct sb_xdp_settings *s, __u16 dport,
					 __be32 daddr_be)
{
	__u32 cls;

	if (dport == SB_PORT_DHCP_SERVER && (s->port_mask & SB_XDP_PORT_M_DHCP))
		cls = SB_XDP_CNT_REDIR_DHCP;
	else if (dport == SB_PORT_PXE && (s->port_mask & SB_XDP_PORT_M_PXE))
		cls = SB_XDP_CNT_REDIR_PXE;
	else
		cls = SB_XDP_CNT__COUNT; /* not DHCP: see below */
	if (cls != SB_XDP_CNT__COUNT) {
		/* Broadcast (RFC 2131 4.1) or to us: with F_DHCP_DST another host's unicast DHCP on
		 * this segment (a second server) stays with the kernel. */
		if ((s->flags & SB_XDP_F_DHCP_DST) && daddr_be != SB_IPV4_BCAST_BE &&
		    daddr_be != s->server_ip_be)
			return SB_XDP_CNT_PASS_OTHER_DST;
		return cls;
	}

	if (dport == SB_PORT_TFTP && (s->port_mask & SB_XDP_PORT_M_TFTP))
		cls = SB_XDP_CNT_REDIR_TFTP;
	else if (s->xfer_port_lo != 0 && s->xfer_port_lo <= s->xfer_port_hi &&
		 dport >= s->xfer_port_lo && dport <= s->xfer_port_hi)
		cls = SB_XDP_CNT_REDIR_XFER;
	else
		return SB_XDP_CNT_PASS_OTHER_PORT;

	/* TFTP is unicast to the server (RFC 1350 4): leave other hosts' TFTP to the kernel. */
	if (s->server_ip_be != 0 && daddr_be != s->server_ip_be)
		return SB_XDP_CNT_PASS_OTHER_DST;
	return cls;
}

/* IPv4 after the cursor: which counter the datagram earns (a REDIR_* one if it is ours). */
static __always_inline __u32 sb_classify_ipv4(const struct sb_xdp_settings *s,
					      struct sb_cursor *cur, void *data_end,
					      struct iphdr **iph, struct udphdr **udph)
{
	int rc;

	rc = sb_parse_ipv4(cur, data_end, iph);
	if (rc)
		return rc;
	if ((*iph)->protocol != IPPROTO_UDP)
		return SB_XDP_CNT_PASS_NOT_UDP;
	rc = sb_parse_udp(cur, data_end, *iph, udph);
	if (rc)
		return rc;
	/* Our own replies leave through the AF_XDP socket and never come back in here: a
	 * server -> client DHCP datagram received is another server's (doctor counts it). */
	if ((*udph)->source == bpf_htons(SB_PORT_DHCP_SERVER) &&
	    (*udph)->dest == bpf_htons(SB_PORT_DHCP_CLIENT))
		return SB_XDP_CNT_PASS_DHCP_SERVER;
	return sb_classify(s, bpf_ntohs((*udph)->dest), (*iph)->daddr);
}

/*
 * IPv6 after the cursor: only router solicitations are ours, and only when the settings ask
 * for them (the defaults do not); with SB_XDP_F_RS_AUTO only while no other router is live on
 * the VLAN, whose advertisements are recorded here (and passed). Everything else IPv6 is
 * counted pass_not_ipv4.
 */
static __always_inline __u32 sb_classify_ipv6(const struct sb_xdp_settings *s,
					      struct sb_cursor *cur, void *data_end,
					      const struct ethhdr *eth,
					      const struct sb_xdp_vlan *vlan)
{
	int rc, automatic = !!(s->flags & SB_XDP_F_RS_AUTO);
	struct icmp6hdr *icmp6h = 0;

	if (!(s->port_mask & SB_XDP_PORT_M_RS))
		return SB_XDP_CNT_PASS_NOT_IPV4;
	rc = sb_parse_ipv6_nd(cur, data_end, automatic, &icmp6h);
	if (rc)
		return rc;
	if (icmp6h->icmp6_type == SB_ICMPV6_ROUTER_ADV)
		return sb_ra_record(s, eth, vlan, icmp6h);
	if (automatic && sb_ra_foreign_live(vlan))
		return SB_XDP_CNT_PASS_RS_FOREIGN;
	return SB_XDP_CNT_REDIR_RS;
}

/* RFC 826, Ethernet/IPv4 */
struct sb_arp_ipv4 {
	__be16 htype;
	__be16 ptype;
	__u8 hlen;
	__u8 plen;
	__be16 op;
	__u8 sha[6];
	__u8 spa[4];
	__u8 tha[6];
	__u8 tpa[4];
} __attribute__((packed));

/*
 * ARP after the cursor: ours only with SB_XDP_PORT_M_ARP_PROBE, and only a reply to a probe
 * (RFC 5227 2.1.1: target IP 0.0.0.0), i.e. to the dataplane's conflict probe before an OFFER.
 * The kernel never sends such probes itself; every other ARP frame stays with it.
 */
static __always_inline __u32 sb_classify_arp(const struct sb_xdp_settings *s,
					     struct sb_cursor *cur, void *data_end)
{
	struct sb_arp_ipv4 *a = cur->pos;

	if (!(s->port_mask & SB_XDP_PORT_M_ARP_PROBE))
		return SB_XDP_CNT_PASS_NOT_IPV4;
	if ((void *)(a + 1) > data_end)
		return SB_XDP_CNT_PASS_TRUNCATED;
	if (a->htype != bpf_htons(1) || a->ptype != bpf_htons(ETH_P_IP) || a->hlen != 6 ||
	    a->plen != 4 || a->op != bpf_htons(2) || a->tpa[0] | a->tpa[1] | a->tpa[2] | a->tpa[3])
		return SB_XDP_CNT_PASS_NOT_IPV4;
	return SB_XDP_CNT_REDIR_ARP_PROBE;
}

static __always_inline int sb_xdp_steer_pkt(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	struct sb_cursor cur = {.pos = (void *)(long)ctx->data};
	struct udphdr *udph = 0;
	struct iphdr *iph = 0;
	struct ethhdr *eth = 0;
	struct sb_xdp_settings s;
	struct sb_xdp_vlan vlan;
	__be16 proto_be;
	__u32 cls;
	long ret;
	int rc;

	sb_settings_load(&s);
	if (!(s.flags & SB_XDP_F_ENABLE)) {
		sb_count(SB_XDP_CNT_PASS_DISABLED);
		return XDP_PASS;
	}

	rc = sb_parse_eth(&cur, data_end, &proto_be, &eth, &vlan);
	if (rc)
		cls = rc;
	else if (proto_be == bpf_htons(ETH_P_IP))
		cls = sb_classify_ipv4(&s, &cur, data_end, &iph, &udph);
	else if (proto_be == bpf_htons(ETH_P_IPV6))
		cls = sb_classify_ipv6(&s, &cur, data_end, eth, &vlan);
	else if (proto_be == bpf_htons(ETH_P_ARP))
		cls = sb_classify_arp(&s, &cur, data_end);
	else
		cls = SB_XDP_CNT_PASS_NOT_IPV4;
	if (!SB_XDP_CNT_IS_REDIRECT(cls)) {
		sb_count(cls);
		return XDP_PASS;
	}

	/* Ours by protocol; on a VLAN we serve? (A tag the NIC stripped is not seen here.) */
	if ((s.flags & SB_XDP_F_VLAN_SET) && !bpf_map_lookup_elem(&sb_xdp_vlans, &vlan)) {
		sb_count(SB_XDP_CNT_PASS_OTHER_VLAN);
		return XDP_PASS;
	}
	if (cls != SB_XDP_CNT_REDIR_RS && eth && iph && udph) {
		__u32 drop = sb_guard(&s, cls, eth, iph, udph, data_end);

		if (drop) {
			sb_count(drop);
			return XDP_DROP;
		}
	}

	/* Lower bits of flags = the action when the queue has no socket: keep the packet. */
	ret = bpf_redirect_map(&xsks_map, ctx->rx_queue_index, XDP_PASS);
	if (ret == XDP_REDIRECT) {
		sb_count(cls);
		return XDP_REDIRECT;
	}
	sb_count(SB_XDP_CNT_REDIRECT_FAILED);
	return XDP_PASS;
}

SEC("xdp")
int sb_xdp_steer(struct xdp_md *ctx)
{
	return sb_xdp_steer_pkt(ctx);
}

char _license[] SEC("license") = "Dual BSD/GPL";
