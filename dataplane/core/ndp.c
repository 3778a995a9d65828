/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdbool.h>
#include <string.h>

#include "ndp.h"
#include "pkt.h"
#include "sb_drop.h"

/*
 * IPv6 (RFC 8200 3): 0 version/traffic class/flow label, 4 payload length,
 * 6 next header, 7 hop limit, 8 source, 24 destination.
 * ICMPv6 (RFC 4443 2.1): 0 type, 1 code, 2 checksum. RS (RFC 4861 4.1): 4
 * reserved, 8 options. RA (4.2): 4 cur hop limit, 5 M/O flags, 6 router
 * lifetime, 8 reachable time, 12 retrans timer, 16 options.
 * Options (4.6): 0 type, 1 length in units of 8 bytes; type 1 = source
 * link-layer address.
 */
#define IP_PROTO_ICMPV6 58
#define ICMPV6_RS	133
#define ICMPV6_RA	134
#define NDP_HOP_LIMIT	255
#define RS_HDR_LEN	8
#define RA_HDR_LEN	16
#define OPT_SLLA	1
#define ICMP_MIN_LEN	4

static const uint8_t all_nodes_ip[16] = {0xff, 0x02, [15] = 0x01};
static const uint8_t all_nodes_mac[6] = {0x33, 0x33, 0, 0, 0, 0x01};

static bool is_unspecified(const uint8_t ip[16])
{
	static const uint8_t zero[16];

	return memcmp(ip, zero, 16) == 0;
}

void ndp_link_local(const uint8_t mac[6], uint8_t out[16])
{
	memset(out, 0, 16);
	out[0] = 0xfe;
	out[1] = 0x80;
	out[8] = mac[0] ^ 0x02; /* universal/local bit inverted */
	out[9] = mac[1];
	out[10] = mac[2];
	out[11] = 0xff;
	out[12] = 0xfe;
	out[13] = mac[3];
	out[14] = mac[4];
	out[15] = mac[5];
}

/* ICMPv6 checksum (RFC 4443 2.3) of the icmp_len bytes after the IPv6 header ip. */
static uint16_t icmp6_csum(const uint8_t *ip, const uint8_t *icmp, size_t icmp_len)
{
	uint8_t ph[8] = {0};
	uint32_t sum;

	ph[2] = (uint8_t)(icmp_len >> 8);
	ph[3] = (uint8_t)icmp_len;
	ph[7] = IP_PROTO_ICMPV6;
	sum = pkt_csum_add(0, ip + 8, 32); /* source and destination */
	sum = pkt_csum_add(sum, ph, sizeof(ph));
	sum = pkt_csum_add(sum, icmp, icmp_len);
	return pkt_csum_fold(sum);
}

/* RFC 4861 6.1.1 checks of a router solicitation of icmp_len bytes. */
static int rs_check(const uint8_t *ip, const uint8_t *icmp, size_t icmp_len)
{
	bool unspecified = is_unspecified(ip + 8);

	if (ip[7] != NDP_HOP_LIMIT || icmp[1] != 0 || icmp_len < RS_HDR_LEN)
		return -SB_DROP_NDP_RS_INVALID;
	if (icmp6_csum(ip, icmp, icmp_len) != 0)
		return -SB_DROP_NDP_RS_BAD_CSUM;
	for (size_t off = RS_HDR_LEN; off < icmp_len;) {
		size_t olen;

		if (icmp_len - off < 2 || (olen = (size_t)icmp[off + 1] * 8) == 0 ||
		    olen > icmp_len - off)
			return -SB_DROP_NDP_RS_INVALID;
		if (icmp[off] == OPT_SLLA && unspecified)
			return -SB_DROP_NDP_RS_INVALID;
		off += olen;
	}
	return 0;
}

int ndp_rs_to_ra(uint8_t *frame, size_t len, size_t cap, const uint8_t our_mac[6])
{
	size_t l3, icmp_len;
	uint8_t *ip, *icmp;
	int rc = pkt_ethertype(frame, len, &l3);

	if (rc < 0)
		return rc;
	if (rc != PKT_ETHERTYPE_IPV6)
		return -SB_DROP_NDP_NOT_RS;
	if (len - l3 < NDP_IPV6_HLEN)
		return -SB_DROP_NDP_SHORT;
	ip = frame + l3;
	icmp = ip + NDP_IPV6_HLEN;
	icmp_len = pkt_rd16(ip + 4);
	if ((ip[0] >> 4) != 6)
		return -SB_DROP_NDP_BAD_IPV6;
	if (icmp_len > len - l3 - NDP_IPV6_HLEN) /* Ethernet padding may follow; never less */
		return -SB_DROP_NDP_SHORT;
	if (ip[6] != IP_PROTO_ICMPV6)
		return -SB_DROP_NDP_NOT_RS;
	if (icmp_len < ICMP_MIN_LEN)
		return -SB_DROP_NDP_SHORT;
	if (icmp[0] != ICMPV6_RS)
		return -SB_DROP_NDP_NOT_RS;
	if ((rc = rs_check(ip, icmp, icmp_len)) < 0)
		return rc;
	if (cap < l3 + NDP_IPV6_HLEN + NDP_RA_ICMP_LEN)
		return -SB_DROP_TX_NO_ROOM;

	/* RFC 4861 6.2.6: unicast to the solicitor if it has an address, else all-nodes. */
	if (is_unspecified(ip + 8)) {
		memcpy(frame, all_nodes_mac, 6);
		memcpy(ip + 24, all_nodes_ip, 16);
	} else {
		memcpy(frame, frame + 6, 6);
		memcpy(ip + 24, ip + 8, 16);
	}
	memcpy(frame + 6, our_mac, 6); /* and below, our address replaces the source */

	ip[0] = 0x60; /* version 6, traffic class 0, flow label 0 */
	ip[1] = ip[2] = ip[3] = 0;
	pkt_wr16(ip + 4, NDP_RA_ICMP_LEN);
	ip[6] = IP_PROTO_ICMPV6;
	ip[7] = NDP_HOP_LIMIT;
	ndp_link_local(our_mac, ip + 8);

	/* cur hop limit 0, M=O=0, lifetime 0, reachable 0, retrans 0: nothing to configure */
	memset(icmp, 0, NDP_RA_ICMP_LEN);
	icmp[0] = ICMPV6_RA;
	icmp[RA_HDR_LEN] = OPT_SLLA;
	icmp[RA_HDR_LEN + 1] = 1;
	memcpy(icmp + RA_HDR_LEN + 2, our_mac, 6);
	pkt_wr16(icmp + 2, icmp6_csum(ip, icmp, NDP_RA_ICMP_LEN));
	return (int)(l3 + NDP_IPV6_HLEN + NDP_RA_ICMP_LEN);
}
