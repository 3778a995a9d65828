/* SPDX-License-Identifier: BSD-3-Clause */
/* xdp_test_frames.c - frames for the XDP root test, built byte by byte at RFC offsets. */
#include <string.h>

#include <linux/if_ether.h>

#include "xdp_test.h"

static uint8_t *put8(uint8_t *p, uint8_t v)
{
	*p = v;
	return p + 1;
}

static uint8_t *put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
	return p + 2;
}

static uint8_t *put32(uint8_t *p, uint32_t v)
{
	p = put16(p, v >> 16);
	return put16(p, v & 0xffff);
}

static uint8_t *putn(uint8_t *p, const void *src, size_t n)
{
	memcpy(p, src, n);
	return p + n;
}

static uint16_t ip_csum(const uint8_t *h, size_t len)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(h[i] << 8 | h[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

const uint8_t mac_client[6] = {0x02, 0x00, 0x5e, 0x10, 0x00, 0x64};
const uint8_t mac_server[6] = {0x02, 0x00, 0x5e, 0x10, 0x00, 0x01};
const uint8_t mac_bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
const uint8_t mac_all_routers[6] = {0x33, 0x33, 0x00, 0x00, 0x00, 0x02}; /* ff02::2 */
const uint8_t mac_all_nodes[6] = {0x33, 0x33, 0x00, 0x00, 0x00, 0x01};	 /* ff02::1 */
const uint8_t mac_router[6] = {0x02, 0x00, 0x5e, 0x10, 0x00, 0xfe};

/* L4 header + payload for IPv4; returns the end. */
static uint8_t *build_l4(uint8_t *p, const struct frame_spec *fs)
{
	uint8_t *udp = p, *end;

	switch (fs->l4) {
	case L4_ICMP_ECHO:
		p = put8(p, 8); /* echo request */
		p = put8(p, 0);
		p = put16(p, 0);
		p = put16(p, 0x1234);
		p = put16(p, 1);
		memset(p, 0xa5, 32);
		return p + 32;
	case L4_TCP_SYN:
		p = put16(p, fs->sport);
		p = put16(p, fs->dport);
		p = put32(p, 1000);
		p = put32(p, 0);
		p = put8(p, 5 << 4);
		p = put8(p, 0x02); /* SYN */
		p = put16(p, 64240);
		p = put16(p, 0);
		return put16(p, 0);
	default:
		break;
	}

	p = udp + 8; /* UDP header filled in below */
	switch (fs->l4) {
	case L4_DHCP:
		p = put8(p, 1); /* op BOOTREQUEST */
		p = put8(p, 1); /* htype Ethernet */
		p = put8(p, 6);
		p = put8(p, fs->giaddr ? 1 : 0); /* hops */
		p = put32(p, 0x5b0e2a77);	 /* xid */
		p = put16(p, 0);
		p = put16(p, fs->giaddr ? 0 : 0x8000); /* broadcast flag */
		p = put32(p, 0);		       /* ciaddr */
		p = put32(p, 0);		       /* yiaddr */
		p = put32(p, 0);		       /* siaddr */
		p = put32(p, fs->giaddr);
		p = putn(p, fs->chaddr ? fs->chaddr : mac_client, 6);
		memset(p, 0, 10 + 64 + 128);
		p += 10 + 64 + 128;
		p = put32(p, 0x63825363); /* magic cookie, RFC 2131 3 */
		p = put8(p, 53);
		p = put8(p, 1);
		p = put8(p, 1); /* DHCPDISCOVER */
		p = put8(p, 93);
		p = put8(p, 2);
		p = put16(p, 7); /* EFI x64 */
		p = put8(p, 255);
		break;
	case L4_TFTP_RRQ:
		p = put16(p, 1);
		p = putn(p, "pxelinux.0", 11);
		p = putn(p, "octet", 6);
		p = putn(p, "blksize", 8);
		p = putn(p, "1468", 5);
		break;
	case L4_TFTP_ACK:
		p = put16(p, 4);
		p = put16(p, 1);
		break;
	default:
		memset(p, 0x5a, 16);
		p += 16;
		break;
	}
	end = p;
	put16(udp, fs->sport);
	put16(udp + 2, fs->dport);
	put16(udp + 4, (uint16_t)(end - udp));
	put16(udp + 6, 0); /* no checksum: the program must not care */
	return end;
}

static const uint8_t *src_mac(const struct frame_spec *fs)
{
	return fs->src_mac ? fs->src_mac : mac_client;
}

/* ICMPv6 (RS, RA, NS) or a DHCPv6 Solicit-shaped UDP datagram to 547; returns the end. */
static uint8_t *build_ipv6_l4(uint8_t *p, const struct frame_spec *fs)
{
	switch (fs->l4) {
	case L4_ICMPV6_RA:
		p = put8(p, 134);
		p = put8(p, fs->icmp_code);
		p = put16(p, 0);	       /* checksum: the program must not care */
		p = put8(p, 64);	       /* cur hop limit */
		p = put8(p, 0);		       /* M, O clear */
		p = put16(p, fs->ra_lifetime); /* router lifetime, s */
		p = put32(p, 0);	       /* reachable time */
		p = put32(p, 0);	       /* retrans timer */
		p = put8(p, 1);		       /* source link-layer address option */
		p = put8(p, 1);
		return putn(p, src_mac(fs), 6);
	case L4_ICMPV6_RS:
		p = put8(p, 133);
		p = put8(p, fs->icmp_code);
		p = put16(p, 0); /* checksum: the program must not care */
		p = put32(p, 0); /* reserved */
		p = put8(p, 1);	 /* source link-layer address option, 8 bytes */
		p = put8(p, 1);
		return putn(p, mac_client, 6);
	case L4_ICMPV6_NS:
		p = put8(p, 135);
		p = put8(p, fs->icmp_code);
		p = put16(p, 0);
		p = put32(p, 0);
		memset(p, 0, 16); /* target fe80::1 */
		p[0] = 0xfe, p[1] = 0x80, p[15] = 1;
		p += 16;
		p = put8(p, 1);
		p = put8(p, 1);
		return putn(p, mac_client, 6);
	default:
		p = put16(p, 546);
		p = put16(p, 547);
		p = put16(p, 8 + 16);
		p = put16(p, 0);
		memset(p, 0x11, 16);
		return p + 16;
	}
}

/* IPv6 header (RFC 8200 3), optional hop-by-hop header, upper layer; returns the end. */
static uint8_t *build_ipv6(uint8_t *p, const struct frame_spec *fs)
{
	int icmp = fs->l4 == L4_ICMPV6_RS || fs->l4 == L4_ICMPV6_NS || fs->l4 == L4_ICMPV6_RA;
	uint8_t upper = icmp ? 58 : 17, *ip = p, *end;

	p = put32(p, (uint32_t)(fs->ip_version ? fs->ip_version : 6) << 28);
	p = put16(p, 0); /* payload length, below */
	p = put8(p, fs->ip6_hbh ? 0 : upper);
	p = put8(p, fs->hop_limit ? fs->hop_limit : 255);
	memset(p, 0, 32);
	p[0] = 0xfe, p[1] = 0x80, p[15] = 1; /* fe80::1 */
	if (fs->ip6_src_global)		     /* 2001:db8::1 (RFC 3849) */
		p[0] = 0x20, p[1] = 0x01, p[2] = 0x0d, p[3] = 0xb8;
	p[16] = 0xff, p[17] = 0x02; /* ff02::2 (RS), ff02::1 (RA), ff02::1:2 (DHCPv6) */
	if (fs->l4 == L4_ICMPV6_RA)
		p[31] = 1;
	else if (icmp)
		p[31] = 2;
	else
		p[29] = 1, p[31] = 2;
	p += 32;
	if (fs->ip6_hbh) { /* RFC 8200 4.3, padded with PadN to 8 bytes */
		p = put8(p, upper);
		p = put8(p, 0);
		p = put8(p, 1);
		p = put8(p, 4);
		p = put32(p, 0);
	}
	end = build_ipv6_l4(p, fs);
	put16(ip + 4, (uint16_t)((end - (ip + 40)) + fs->tot_len_delta));
	return end;
}

size_t build_frame(uint8_t *buf, const struct frame_spec *fs)
{
	const uint8_t *dst = mac_server;
	uint8_t *p = buf, *ip, *end;
	uint16_t ethertype;
	size_t hlen, i;

	memset(buf, 0, FRAME_MAX);
	if (fs->daddr == IP_BCAST || fs->l3 == L3_ARP)
		dst = mac_bcast;
	else if (fs->l4 == L4_ICMPV6_RS)
		dst = mac_all_routers;
	else if (fs->l4 == L4_ICMPV6_RA)
		dst = mac_all_nodes;
	p = putn(p, dst, 6);
	p = putn(p, src_mac(fs), 6);
	for (i = 0; i < 3 && fs->vlan_tpid[i]; i++) {
		uint16_t vid = fs->vid[i] == VID_ZERO ? 0 : fs->vid[i] ? fs->vid[i] : 100 + i;

		p = put16(p, fs->vlan_tpid[i]);
		p = put16(p, (uint16_t)(fs->vlan_pcp << 13 | vid)); /* TCI: PCP, DEI 0, VID */
	}
	ethertype = fs->l3 == L3_ARP ? ETH_P_ARP : fs->l3 == L3_IPV6 ? ETH_P_IPV6 : ETH_P_IP;
	p = put16(p, ethertype);

	if (fs->l3 == L3_ARP) { /* RFC 826 request */
		p = put16(p, 1);
		p = put16(p, ETH_P_IP);
		p = put8(p, 6);
		p = put8(p, 4);
		p = put16(p, 1);
		p = putn(p, mac_client, 6);
		p = put32(p, IP_CLIENT);
		memset(p, 0, 6);
		p = put32(p + 6, IP_SERVER);
	} else if (fs->l3 == L3_IPV6) {
		p = build_ipv6(p, fs);
	} else {
		uint8_t ihl = fs->ihl == IHL_ZERO ? 0 : fs->ihl ? fs->ihl : 5;

		ip = p;
		hlen = (ihl < 5 ? 5 : ihl) * 4u; /* a bad IHL still gets a 20-byte header */
		p = put8(p, (uint8_t)((fs->ip_version ? fs->ip_version : 4) << 4 | ihl));
		p = put8(p, 0);
		p = put16(p, 0); /* total length, below */
		p = put16(p, 0x4242);
		p = put16(p, fs->frag_host);
		p = put8(p, 64);
		p = put8(p, fs->l4 == L4_ICMP_ECHO ? 1 : fs->l4 == L4_TCP_SYN ? 6 : 17);
		p = put16(p, 0);
		p = put32(p, fs->saddr);
		p = put32(p, fs->daddr);
		memset(p, 1, hlen - 20); /* NOP options */
		p = ip + hlen;
		end = build_l4(p, fs);
		put16(ip + 2, (uint16_t)((end - ip) + fs->tot_len_delta));
		put16(ip + 10, ip_csum(ip, hlen));
		p = end;
	}
	while ((size_t)(p - buf) < fs->pad_to)
		*p++ = 0;
	return (size_t)(p - buf);
}

/* An ICMPv6 router solicitation with a source link-layer address option, 70 bytes. */
size_t build_rs(uint8_t *frame, uint16_t vlan_tpid)
{
	struct frame_spec fs = {.l3 = L3_IPV6, .l4 = L4_ICMPV6_RS, .vlan_tpid = {vlan_tpid}};

	return build_frame(frame, &fs);
}

size_t build_simple(uint8_t *frame, uint32_t daddr, uint16_t dport, enum l4_kind l4)
{
	struct frame_spec fs = {
		.saddr = IP_CLIENT, .daddr = daddr, .l4 = l4, .sport = 2070, .dport = dport};

	return build_frame(frame, &fs);
}
