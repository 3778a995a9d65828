/* SPDX-License-Identifier: BSD-3-Clause */
/* ndp_drops.h - drop reasons of IPv6 router solicitation handling (see sb_drop.h). */
#ifndef SB_NDP_DROPS_H
#define SB_NDP_DROPS_H

#define NDP_DROPS(X)                                                                               \
	X(NDP_SHORT, "ipv6_short", "frame shorter than its IPv6 and ICMPv6 headers say")           \
	X(NDP_BAD_IPV6, "ipv6_bad_header", "IPv6 version is not 6")                                \
	X(NDP_NOT_RS, "ipv6_not_rs",                                                               \
	  "IPv6 frame that is not an ICMPv6 router solicitation (we answer nothing else)")         \
	X(NDP_RS_INVALID, "rs_invalid",                                                            \
	  "router solicitation failing RFC 4861 6.1.1 (hop limit, code, option lengths)")          \
	X(NDP_RS_BAD_CSUM, "rs_bad_checksum", "router solicitation whose ICMPv6 checksum fails")

#endif
