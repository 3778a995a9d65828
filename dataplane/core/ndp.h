/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ndp.h - answer an IPv6 router solicitation with a router advertisement
 * (RFC 4861) that says "no router, no prefixes, no DHCPv6": router lifetime 0,
 * M and O flags clear, only our link-layer address as option.
 *
 * Why: iPXE configures IPv4 and IPv6 at once and, on a network without an IPv6
 * router, waits for an RA through six solicitations (about 16 s) before it
 * runs its script. This RA ends that wait at once and changes nothing for
 * hosts that use IPv6: lifetime 0 means "not a default router" (RFC 4861 4.2)
 * and no prefix is announced.
 *
 * Pure: no I/O, no allocation. Returns a length, or -SB_DROP_x (sb_drop.h).
 */
#ifndef SB_NDP_H
#define SB_NDP_H

#include <stddef.h>
#include <stdint.h>

#define NDP_IPV6_HLEN	   40
#define NDP_RA_ICMP_LEN	   24 /* RA header 16 + source link-layer address option 8 */

/*
 * frame holds len bytes, an Ethernet frame (up to two VLAN tags) carrying an
 * IPv6 router solicitation. Validate it (RFC 4861 6.1.1: hop limit 255,
 * ICMPv6 checksum, code 0, ICMPv6 length >= 8, option lengths not 0, no source
 * link-layer address option from the unspecified address) and turn the frame
 * into the advertisement in place: unicast to the soliciting host when it has
 * an address, else to all-nodes (ff02::1), from our EUI-64 link-local
 * address, same VLAN tags. cap is the room in frame. Returns the reply's
 * length, or -SB_DROP_x.
 */
int ndp_rs_to_ra(uint8_t *frame, size_t len, size_t cap, const uint8_t our_mac[6]);

/* Our link-local address fe80::/64 with the modified EUI-64 of mac (RFC 4291 2.5.1). */
void ndp_link_local(const uint8_t mac[6], uint8_t out[16]);

#endif
