/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pkt.h - Ethernet (+802.1Q), IPv4, UDP and ARP: parse a received frame into a
 * struct pkt_udp, build the headers of a reply around a payload, with correct
 * IPv4 and UDP checksums (the peer's kernel gets no checksum offload from us).
 *
 * Pure: no I/O, no allocation. All functions return 0 / a length, or
 * -SB_DROP_x (see sb_drop.h) naming why a frame was refused.
 */
#ifndef SB_PKT_H
#define SB_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PKT_ETH_HLEN	 14
#define PKT_VLAN_HLEN	 4
#define PKT_IPV4_HLEN	 20
#define PKT_UDP_HLEN	 8
#define PKT_MAX_VLANS	 2
/* Room to leave in front of a UDP payload for the largest header stack we build. */
#define PKT_HEADROOM (PKT_ETH_HLEN + PKT_MAX_VLANS * PKT_VLAN_HLEN + PKT_IPV4_HLEN + PKT_UDP_HLEN)

#define PKT_ETHERTYPE_IPV4 0x0800
#define PKT_ETHERTYPE_ARP  0x0806
#define PKT_ETHERTYPE_VLAN 0x8100
#define PKT_ETHERTYPE_QINQ 0x88a8
#define PKT_ETHERTYPE_IPV6 0x86dd

/* What a received UDP/IPv4 frame says about where it came from and where it went. */
struct pkt_udp {
	uint8_t src_mac[6];
	uint8_t dst_mac[6];
	uint16_t vlan_tci[PKT_MAX_VLANS]; /* host order, outermost first */
	uint8_t n_vlans;
	uint32_t src_ip; /* host order */
	uint32_t dst_ip; /* host order */
	uint16_t src_port; /* host order */
	uint16_t dst_port; /* host order */
	uint8_t ttl;
	bool csum_unverified; /* UDP checksum did not verify and policy accepted it */
	const uint8_t *payload;
	size_t payload_len;
};

/* Where a reply goes: filled by the protocol code, turned into headers by pkt_build_udp(). */
struct pkt_dest {
	uint8_t dst_mac[6];
	uint32_t dst_ip;   /* host order */
	uint16_t dst_port; /* host order */
	uint32_t src_ip;   /* host order */
	uint16_t src_port; /* host order */
};

/*
 * Parse a frame. Accepts up to PKT_MAX_VLANS 802.1Q/802.1ad tags, IPv4 with
 * options, UDP. IPv4 fragments are refused (-SB_DROP_IP_FRAGMENT). If
 * verify_udp_csum is false a UDP checksum that does not verify is accepted and
 * flagged in out->csum_unverified (veth/tap transmit offload leaves only the
 * pseudo-header sum there); if true it is refused with -SB_DROP_UDP_BAD_CSUM.
 * A zero UDP checksum means "none" (RFC 768) and is accepted.
 * Returns 0 on success; -SB_DROP_NOT_IPV4 also for ARP (use pkt_ethertype()).
 */
int pkt_parse_udp(const uint8_t *frame, size_t len, bool verify_udp_csum, struct pkt_udp *out);

/* EtherType after any VLAN tags (host order), or -SB_DROP_x. *l3_off gets the L3 offset. */
int pkt_ethertype(const uint8_t *frame, size_t len, size_t *l3_off);

/*
 * Write Ethernet (+ the same VLAN tags as the request, from req; may be NULL),
 * IPv4 and UDP headers in front of a payload already at frame + pkt_hdr_len(req).
 * Computes IPv4 header and UDP checksums; TTL 64, or 1 to a multicast group
 * (RFC 1112). Returns the total frame length, or -SB_DROP_x if cap is too small.
 */
int pkt_build_udp(uint8_t *frame, size_t cap, const struct pkt_udp *req, const uint8_t src_mac[6],
		  const struct pkt_dest *dst, size_t payload_len);

/* True for an IPv4 multicast address (224.0.0.0/4, host order). */
static inline bool pkt_is_multicast(uint32_t ip)
{
	return (ip >> 28) == 0xe;
}

/* The Ethernet address of IPv4 group ip (RFC 1112 6.4: 01:00:5e + its low 23 bits). */
static inline void pkt_multicast_mac(uint32_t ip, uint8_t mac[6])
{
	mac[0] = 0x01;
	mac[1] = 0x00;
	mac[2] = 0x5e;
	mac[3] = (uint8_t)((ip >> 16) & 0x7f);
	mac[4] = (uint8_t)(ip >> 8);
	mac[5] = (uint8_t)ip;
}

/*
 * The same with the UDP payload's sum given (pkt_csum_add() over the payload_len bytes at
 * frame + pkt_hdr_len(req), not folded): the payload is not read again. PKT_PSUM_NONE: sum it.
 */
#define PKT_PSUM_NONE UINT64_MAX
int pkt_build_udp_psum(uint8_t *frame, size_t cap, const struct pkt_udp *req,
		       const uint8_t src_mac[6], const struct pkt_dest *dst, size_t payload_len,
		       uint64_t payload_sum);

/* Header length pkt_build_udp() writes for a reply to req (NULL: untagged). */
size_t pkt_hdr_len(const struct pkt_udp *req);

/*
 * If frame is an ARP request for our_ip, turn it into the reply in place
 * (RFC 826) and return its length; else -SB_DROP_ARP_x.
 */
int pkt_arp_reply(uint8_t *frame, size_t len, uint32_t our_ip, const uint8_t our_mac[6]);

/* Big-endian 16-bit field at any alignment (frames sit unaligned after VLAN tags). */
static inline uint16_t pkt_rd16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static inline void pkt_wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* RFC 1071 one's-complement sum helpers. */
uint32_t pkt_csum_add(uint32_t sum, const void *data, size_t len);
uint16_t pkt_csum_fold(uint32_t sum);

/*
 * Prefix sums of a read-only buffer (a boot image), so that the sum of any range is a
 * subtraction and two short edges instead of a pass over the range: prefix[i] is
 * pkt_csum_add(0, data, i * PKT_CSUM_PREFIX_STEP), for pkt_csum_prefix_len(size) entries
 * (4 bytes per 64 of data).
 */
#define PKT_CSUM_PREFIX_STEP 64
static inline size_t pkt_csum_prefix_len(size_t size)
{
	return size / PKT_CSUM_PREFIX_STEP + 1;
}
void pkt_csum_prefix_build(const uint8_t *data, size_t size, uint32_t *prefix);
/* pkt_csum_add(0, data + off, len), from the table when off is even (equal once folded). */
uint32_t pkt_csum_range(const uint8_t *data, const uint32_t *prefix, size_t off, size_t len);

#endif
