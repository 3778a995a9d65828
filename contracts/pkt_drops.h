/* SPDX-License-Identifier: BSD-3-Clause */
/* pkt_drops.h - drop reasons of the Ethernet/IPv4/UDP/ARP layer (see sb_drop.h). */
#ifndef SB_PKT_DROPS_H
#define SB_PKT_DROPS_H

#define PKT_DROPS(X)                                                                               \
	X(ETH_SHORT, "eth_short", "frame shorter than an Ethernet header")                         \
	X(VLAN_DEPTH, "vlan_too_deep", "more than two 802.1Q tags")                                \
	X(NOT_IPV4, "not_ipv4", "EtherType is neither IPv4, ARP nor IPv6")                         \
	X(IP_SHORT, "ip_short", "frame shorter than its IPv4 header")                              \
	X(IP_BAD_HDR, "ip_bad_header", "IPv4 version/IHL/total length invalid")                    \
	X(IP_BAD_CSUM, "ip_bad_checksum", "IPv4 header checksum does not verify")                  \
	X(IP_FRAGMENT, "ip_fragment", "IPv4 fragment (not reassembled)")                           \
	X(NOT_UDP, "not_udp", "IPv4 protocol is not UDP")                                          \
	X(UDP_SHORT, "udp_short", "UDP header or length runs past the IPv4 payload")               \
	X(UDP_BAD_CSUM, "udp_bad_checksum", "UDP checksum does not verify (policy: verify)")       \
	X(UDP_NO_SERVICE, "udp_no_service", "UDP destination port is not one stormboot serves")    \
	X(ARP_BAD, "arp_malformed", "ARP packet that is not Ethernet/IPv4 or is truncated")        \
	X(ARP_NOT_US, "arp_not_for_us", "ARP request for an address that is not ours")             \
	X(ARP_NOT_REQUEST, "arp_not_request",                                                      \
	  "ARP reply or other opcode (we only answer requests)")                                   \
	X(TX_NO_ROOM, "tx_no_room", "reply headers do not fit the transmit buffer")                \
	X(REPLY_TOO_BIG, "reply_too_big",                                                          \
	  "reply does not fit its buffer (one mbuf) or the client's maximum message size")

#endif
