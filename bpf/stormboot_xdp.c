/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-3-Clause) */
/*
 * stormboot XDP steering program.
 *
 * UDP to port 67 (DHCP), 4011 (PXE), 69 (TFTP) and to the TFTP transfer port range, and (if
 * the settings ask) ICMPv6 router solicitations, go to the AF_XDP socket of the receiving rx
 * queue (xsks_map, filled by DPDK's net_af_xdp PMD); every other frame goes to the kernel with
 * XDP_PASS, so ARP, ICMP, IPv6 neighbour discovery, SSH and HTTP keep working.
 * Settings and per-CPU verdict counters live in maps pinned by name; see docs/XDP.md.
 */
#include <linux/bpf.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "xdp_shared.h"
#include "parsing_helpers.h"

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
	s->flags = SB_XDP_F_ENABLE;
	s->port_mask = SB_XDP_PORT_M_ALL;
	s->xfer_port_lo = 0;
	s->xfer_port_hi = 0;
	s->server_ip_be = 0;
}

/*
 * Which redirect counter a UDP datagram to dport earns, or a PASS_* counter if it is not ours.
 */
static __always_inline __u32 sb_classify(const struct sb_xdp_settings *s, __u16 dport,
					 __be32 daddr_be)
{
	__u32 cls;

	if (dport == SB_PORT_DHCP_SERVER && (s->port_mask & SB_XDP_PORT_M_DHCP))
		return SB_XDP_CNT_REDIR_DHCP;
	if (dport == SB_PORT_PXE && (s->port_mask & SB_XDP_PORT_M_PXE))
		return SB_XDP_CNT_REDIR_PXE;

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
					      struct sb_cursor *cur, void *data_end)
{
	struct udphdr *udph;
	struct iphdr *iph;
	int rc;

	rc = sb_parse_ipv4(cur, data_end, &iph);
	if (rc)
		return rc;
	if (iph->protocol != IPPROTO_UDP)
		return SB_XDP_CNT_PASS_NOT_UDP;
	rc = sb_parse_udp(cur, data_end, iph, &udph);
	if (rc)
		return rc;
	return sb_classify(s, bpf_ntohs(udph->dest), iph->daddr);
}

/*
 * IPv6 after the cursor: only router solicitations are ours, and only when the settings ask
 * for them (the defaults do not); everything else IPv6 is counted pass_not_ipv4.
 */
static __always_inline __u32 sb_classify_ipv6(const struct sb_xdp_settings *s,
					      struct sb_cursor *cur, void *data_end)
{
	int rc;

	if (!(s->port_mask & SB_XDP_PORT_M_RS))
		return SB_XDP_CNT_PASS_NOT_IPV4;
	rc = sb_parse_ipv6_rs(cur, data_end);
	return rc ? (__u32)rc : SB_XDP_CNT_REDIR_RS;
}

static __always_inline int sb_xdp_steer_pkt(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	struct sb_cursor cur = {.pos = (void *)(long)ctx->data};
	struct sb_xdp_settings s;
	__be16 proto_be;
	__u32 cls;
	long ret;
	int rc;

	sb_settings_load(&s);
	if (!(s.flags & SB_XDP_F_ENABLE)) {
		sb_count(SB_XDP_CNT_PASS_DISABLED);
		return XDP_PASS;
	}

	rc = sb_parse_eth(&cur, data_end, &proto_be);
	if (rc)
		cls = rc;
	else if (proto_be == bpf_htons(ETH_P_IP))
		cls = sb_classify_ipv4(&s, &cur, data_end);
	else if (proto_be == bpf_htons(ETH_P_IPV6))
		cls = sb_classify_ipv6(&s, &cur, data_end);
	else
		cls = SB_XDP_CNT_PASS_NOT_IPV4;
	if (!SB_XDP_CNT_IS_REDIRECT(cls)) {
		sb_count(cls);
		return XDP_PASS;
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
