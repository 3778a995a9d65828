/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include "pkt.h"
#include "sb_drop.h"

/*
 * Headers are read and written with byte accessors at RFC offsets rather than
 * through packed structs: frames may sit at any alignment after VLAN tags.
 * IPv4 (RFC 791 3.1): 0 ver/ihl, 2 total length, 6 flags/fragment offset,
 * 8 ttl, 9 protocol, 10 checksum, 12 source, 16 destination.
 * UDP (RFC 768): 0 source port, 2 destination port, 4 length, 6 checksum.
 * ARP (RFC 826): 0 htype, 2 ptype, 4 hlen, 5 plen, 6 op, 8 sha, 14 spa, 18 tha, 24 tpa.
 */
#define ARP_IPV4_LEN 28
#define IP_PROTO_UDP 17
#define IP_FLAG_MF   0x2000
#define IP_FRAG_MASK 0x1fff
#define ARP_OP_REQ   1
#define ARP_OP_REPLY 2

static inline uint32_t rd32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static inline void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/*
 * RFC 1071: the one's complement sum is the same whatever the order in which words are added,
 * and byte order commutes with it (1071 2(B)): add the data as native 32-bit halves of 64-bit
 * loads into a 64-bit accumulator (no carry lost below 2^32 words), fold to 16 bits, and swap
 * the bytes once on a little-endian host. About 8x fewer steps than a 16-bit loop over a
 * 1468-byte TFTP block.
 */
uint32_t pkt_csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t acc = 0, v;
	uint32_t s16;

	while (len >= 8) {
		memcpy(&v, p, 8);
		acc += (v & 0xffffffffu) + (v >> 32);
		p += 8;
		len -= 8;
	}
	if (len >= 4) {
		uint32_t w;

		memcpy(&w, p, 4);
		acc += w;
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		uint16_t h;

		memcpy(&h, p, 2);
		acc += h;
		p += 2;
		len -= 2;
	}
	if (len) { /* the last odd byte is the high byte of a zero-padded word */
		uint8_t last[2] = {p[0], 0};
		uint16_t h;

		memcpy(&h, last, 2);
		acc += h;
	}
	acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffffffffu) + (acc >> 32);
	s16 = (uint32_t)((acc & 0xffff) + ((acc >> 16) & 0xffff) + (acc >> 32));
	s16 = (s16 & 0xffff) + (s16 >> 16);
	s16 = (s16 & 0xffff) + (s16 >> 16);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	s16 = (uint32_t)__builtin_bswap16((uint16_t)s16);
#endif
	sum += s16;
	/* Fold early so long chains of calls cannot overflow 32 bits. */
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

void pkt_csum_prefix_build(const uint8_t *data, size_t size, uint32_t *prefix)
{
	uint32_t sum = 0;

	prefix[0] = 0;
	for (size_t i = 1; i < pkt_csum_prefix_len(size); i++) {
		sum = pkt_csum_add(sum, data + (i - 1) * PKT_CSUM_PREFIX_STEP,
				   PKT_CSUM_PREFIX_STEP);
		prefix[i] = sum;
	}
}

uint32_t pkt_csum_range(const uint8_t *data, const uint32_t *prefix, size_t off, size_t len)
{
	size_t ia = (off + PKT_CSUM_PREFIX_STEP - 1) / PKT_CSUM_PREFIX_STEP;
	size_t ib = (off + len) / PKT_CSUM_PREFIX_STEP;
	uint32_t sum;

	if ((off & 1) || ia >= ib)
		return pkt_csum_add(0, data + off, len);
	/* head [off, ia*STEP), whole steps from the table (x - y = x + ~y, RFC 1071), tail */
	sum = pkt_csum_add(0, data + off, ia * PKT_CSUM_PREFIX_STEP - off);
	sum += prefix[ib] + (~prefix[ia] & 0xffff);
	sum = pkt_csum_add(sum, data + ib * PKT_CSUM_PREFIX_STEP,
			   off + len - ib * PKT_CSUM_PREFIX_STEP);
	return sum;
}

uint16_t pkt_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Sum of the IPv4 pseudo-header (RFC 768) for a UDP datagram of udp_len bytes. */
static uint32_t udp_pseudo_sum(const uint8_t *src_be, const uint8_t *dst_be, uint16_t udp_len)
{
	uint8_t ph[12];

	memcpy(ph, src_be, 4);
	memcpy(ph + 4, dst_be, 4);
	ph[8] = 0;
	ph[9] = IP_PROTO_UDP;
	pkt_wr16(ph + 10, udp_len);
	return pkt_csum_add(0, ph, sizeof(ph));
}

int pkt_ethertype(const uint8_t *frame, size_t len, size_t *l3_off)
{
	size_t off = 12;
	int tags = 0;

	if (len < PKT_ETH_HLEN)
		return -SB_DROP_ETH_SHORT;
	uint16_t type = pkt_rd16(frame + off);
	while (type == PKT_ETHERTYPE_VLAN || type == PKT_ETHERTYPE_QINQ) {
		if (++tags > PKT_MAX_VLANS)
			return -SB_DROP_VLAN_DEPTH;
		off += PKT_VLAN_HLEN;
		if (off + 2 > len)
			return -SB_DROP_ETH_SHORT;
		type = pkt_rd16(frame + off);
	}
	*l3_off = off + 2;
	return type;
}

int pkt_parse_udp(const uint8_t *frame, size_t len, bool verify_udp_csum, struct pkt_udp *out)
{
	size_t l3;
	int type = pkt_ethertype(frame, len, &l3);

	if (type < 0)
		return type;
	memset(out, 0, sizeof(*out));
	memcpy(out->dst_mac, frame, 6);
	memcpy(out->src_mac, frame + 6, 6);
	for (size_t off = 12; off + 2 < l3; off += PKT_VLAN_HLEN)
		out->vlan_tci[out->n_vlans++] = pkt_rd16(frame + off + 2);
	if (type != PKT_ETHERTYPE_IPV4)
		return -SB_DROP_NOT_IPV4;

	/* RFC 791 3.1: version 4, IHL >= 5, total length covers the header. */
	if (len - l3 < PKT_IPV4_HLEN)
		return -SB_DROP_IP_SHORT;
	const uint8_t *ip = frame + l3;
	size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
	size_t tot = pkt_rd16(ip + 2);
	if ((ip[0] >> 4) != 4 || ihl < PKT_IPV4_HLEN || tot < ihl)
		return -SB_DROP_IP_BAD_HDR;
	if (tot > len - l3 || ihl > len - l3)
		return -SB_DROP_IP_SHORT;
	if (pkt_csum_fold(pkt_csum_add(0, ip, ihl)) != 0)
		return -SB_DROP_IP_BAD_CSUM;
	if (pkt_rd16(ip + 6) & (IP_FLAG_MF | IP_FRAG_MASK))
		return -SB_DROP_IP_FRAGMENT;
	if (ip[9] != IP_PROTO_UDP)
		return -SB_DROP_NOT_UDP;

	/* RFC 768: the UDP length covers header and data, within the IP payload. */
	const uint8_t *udp = ip + ihl;
	size_t room = tot - ihl;
	if (room < PKT_UDP_HLEN)
		return -SB_DROP_UDP_SHORT;
	size_t ulen = pkt_rd16(udp + 4);
	if (ulen < PKT_UDP_HLEN || ulen > room)
		return -SB_DROP_UDP_SHORT;
	if (pkt_rd16(udp + 6) != 0) {
		uint32_t sum = udp_pseudo_sum(ip + 12, ip + 16, (uint16_t)ulen);
		if (pkt_csum_fold(pkt_csum_add(sum, udp, ulen)) != 0) {
			if (verify_udp_csum)
				return -SB_DROP_UDP_BAD_CSUM;
			out->csum_unverified = true;
		}
	}

	out->src_ip = rd32(ip + 12);
	out->dst_ip = rd32(ip + 16);
	out->ttl = ip[8];
	out->src_port = pkt_rd16(udp);
	out->dst_port = pkt_rd16(udp + 2);
	out->payload = udp + PKT_UDP_HLEN;
	out->payload_len = ulen - PKT_UDP_HLEN;
	return 0;
}

size_t pkt_hdr_len(const struct pkt_udp *req)
{
	size_t vlans = req ? req->n_vlans : 0;

	return PKT_ETH_HLEN + vlans * PKT_VLAN_HLEN + PKT_IPV4_HLEN + PKT_UDP_HLEN;
}

int pkt_build_udp(uint8_t *frame, size_t cap, const struct pkt_udp *req, const uint8_t src_mac[6],
		  const struct pkt_dest *dst, size_t payload_len)
{
	return pkt_build_udp_psum(frame, cap, req, src_mac, dst, payload_len, PKT_PSUM_NONE);
}

int pkt_build_udp_psum(uint8_t *frame, size_t cap, const struct pkt_udp *req,
		       const uint8_t src_mac[6], const struct pkt_dest *dst, size_t payload_len,
		       uint64_t payload_sum)
{
	size_t hl = pkt_hdr_len(req);
	size_t n_vlans = req ? req->n_vlans : 0;

	if (payload_len > 0xffff - PKT_IPV4_HLEN - PKT_UDP_HLEN || hl + payload_len > cap)
		return -SB_DROP_TX_NO_ROOM;

	uint8_t *p = frame;
	memcpy(p, dst->dst_mac, 6);
	memcpy(p + 6, src_mac, 6);
	p += 12;
	for (size_t i = 0; i < n_vlans; i++) {
		/* Outer tag of a QinQ pair is 802.1ad, the others 802.1Q. */
		pkt_wr16(p, (n_vlans == 2 && i == 0) ? PKT_ETHERTYPE_QINQ : PKT_ETHERTYPE_VLAN);
		pkt_wr16(p + 2, req->vlan_tci[i]);
		p += PKT_VLAN_HLEN;
	}
	pkt_wr16(p, PKT_ETHERTYPE_IPV4);
	p += 2;

	uint8_t *ip = p;
	uint16_t udp_len = (uint16_t)(PKT_UDP_HLEN + payload_len);
	ip[0] = 0x45;
	ip[1] = 0;
	pkt_wr16(ip + 2, (uint16_t)(PKT_IPV4_HLEN + udp_len));
	pkt_wr16(ip + 4, 0);
	pkt_wr16(ip + 6, 0x4000); /* DF: we never send fragments */
	ip[8] = pkt_is_multicast(dst->dst_ip) ? 1 : 64; /* RFC 1112 6.1: multicast stays on the link */
	ip[9] = IP_PROTO_UDP;
	pkt_wr16(ip + 10, 0);
	wr32(ip + 12, dst->src_ip);
	wr32(ip + 16, dst->dst_ip);
	pkt_wr16(ip + 10, pkt_csum_fold(pkt_csum_add(0, ip, PKT_IPV4_HLEN)));

	uint8_t *udp = ip + PKT_IPV4_HLEN;
	pkt_wr16(udp, dst->src_port);
	pkt_wr16(udp + 2, dst->dst_port);
	pkt_wr16(udp + 4, udp_len);
	pkt_wr16(udp + 6, 0);
	uint32_t sum = udp_pseudo_sum(ip + 12, ip + 16, udp_len);
	if (payload_sum == PKT_PSUM_NONE)
		sum = pkt_csum_add(sum, udp, udp_len);
	else /* the payload starts 8 bytes in: at an even offset, its sum adds as it is */
		sum = pkt_csum_add(sum + (uint32_t)payload_sum, udp, PKT_UDP_HLEN);
	uint16_t c = pkt_csum_fold(sum);
	/* RFC 768: a computed zero is sent as all ones; zero means "no checksum". */
	pkt_wr16(udp + 6, c ? c : 0xffff);
	return (int)(hl + payload_len);
}

int pkt_arp_reply(uint8_t *frame, size_t len, uint32_t our_ip, const uint8_t our_mac[6])
{
	size_t l3;
	int type = pkt_ethertype(frame, len, &l3);

	if (type < 0)
		return type;
	if (type != PKT_ETHERTYPE_ARP)
		return -SB_DROP_ARP_BAD;
	if (len - l3 < ARP_IPV4_LEN)
		return -SB_DROP_ARP_BAD;

	/* RFC 826: Ethernet hardware (1), IPv4 protocol, 6- and 4-byte addresses. */
	uint8_t *a = frame + l3;
	if (pkt_rd16(a) != 1 || pkt_rd16(a + 2) != PKT_ETHERTYPE_IPV4 || a[4] != 6 || a[5] != 4)
		return -SB_DROP_ARP_BAD;
	if (pkt_rd16(a + 6) != ARP_OP_REQ)
		return -SB_DROP_ARP_NOT_REQUEST;
	if (rd32(a + 24) != our_ip)
		return -SB_DROP_ARP_NOT_US;

	uint8_t sha[6], spa[4];
	memcpy(sha, a + 8, 6);
	memcpy(spa, a + 14, 4);
	pkt_wr16(a + 6, ARP_OP_REPLY);
	memcpy(a + 8, our_mac, 6);
	wr32(a + 14, our_ip);
	memcpy(a + 18, sha, 6);
	memcpy(a + 24, spa, 4);
	memcpy(frame, sha, 6);
	memcpy(frame + 6, our_mac, 6);
	return (int)(l3 + ARP_IPV4_LEN);
}
