/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dhcp_drops.h - drop reasons of the dhcp, pxe and dhcp_server modules (see
 * sb_drop.h). Owned by those modules.
 *
 * The last three entries (from DHCP_OPT_IGNORED) are not drops: they count
 * anomalies of messages that were still served, reported in
 * dhcp_result.anomalies where bit k stands for DHCP_ANOMALY_FIRST + k (dhcp.h).
 * Keep them last and in this order.
 */
#ifndef SB_DHCP_DROPS_H
#define SB_DHCP_DROPS_H

#define DHCP_DROPS(X)                                                                              \
	X(DHCP_SHORT, "dhcp_short", "shorter than the 236-byte BOOTP header + magic cookie")       \
	X(DHCP_BAD_OP, "dhcp_bad_op", "op is neither BOOTREQUEST nor BOOTREPLY")                   \
	X(DHCP_BAD_HTYPE, "dhcp_bad_htype",                                                        \
	  "htype/hlen is not Ethernet/6 (leases are keyed by MAC)")                                \
	X(DHCP_BAD_COOKIE, "dhcp_bad_cookie", "magic cookie 99.130.83.99 missing")                 \
	X(DHCP_OPT_OVERRUN, "dhcp_opt_overrun", "an option runs past the end of its area")         \
	X(DHCP_OPT_NO_END, "dhcp_opt_no_end", "option area not terminated by END (truncated)")     \
	X(DHCP_OPT_BAD_LEN, "dhcp_opt_bad_len", "option length invalid for its code (RFC 2132)")   \
	X(DHCP_OPT_DUPLICATE, "dhcp_opt_duplicate", "an interpreted option appears twice")         \
	X(DHCP_BAD_OVERLOAD, "dhcp_bad_overload", "option 52 value not 1..3 or inside file/sname") \
	X(DHCP_BAD_RELAY_AGENT, "dhcp_bad_relay_agent", "option 82 sub-options malformed")         \
	X(DHCP_NO_MSG_TYPE, "dhcp_no_msg_type", "no option 53 (BOOTP is not served)")              \
	X(DHCP_BAD_MSG_TYPE, "dhcp_bad_msg_type", "option 53 value is not a DHCP message type")    \
	X(DHCP_NOT_REQUEST, "dhcp_not_request", "BOOTREPLY or server message type sent to us")     \
	X(DHCP_NOT_FOR_US, "dhcp_not_for_us", "server identifier (54) names another server")       \
	X(DHCP_NO_SUBNET, "dhcp_no_subnet", "no configured subnet for giaddr / receiving address") \
	X(DHCP_VLAN_NO_SUBNET, "dhcp_vlan_no_subnet",                                              \
	  "unrelayed request on an 802.1Q VLAN that no subnet is mapped to (dhcp.subnets[].vlan)") \
	X(DHCP_POOL_EXHAUSTED, "dhcp_pool_exhausted", "no free address left in the subnet's pool") \
	X(DHCP_NO_ADDR, "dhcp_request_no_addr", "DHCPREQUEST/DECLINE names no address")            \
	X(DHCP_UNKNOWN_LEASE, "dhcp_unknown_lease", "request for an address we have no record of") \
	X(DHCP_LEASE_MISMATCH, "dhcp_lease_mismatch",                                              \
	  "RELEASE/DECLINE of an address not the MAC's")                                           \
	X(DHCP_PROXY_NOT_PXE, "dhcp_proxy_not_pxe", "proxy mode: client is not a PXE client")      \
	X(DHCP_PROXY_IGNORED, "dhcp_proxy_ignored",                                                \
	  "proxy mode: message the proxy does not answer")                                         \
	X(DHCP_NO_BOOTFILE, "dhcp_no_bootfile", "boot-only reply but no boot file for the client") \
	X(DHCP_OFF, "dhcp_off", "DHCP packet while dhcp.mode is off")                              \
	X(DHCP_OPT_IGNORED, "dhcp_opt_ignored",                                                    \
	  "ignored, message still served: an optional option with an invalid length or value")     \
	X(DHCP_OPT_SPLIT_IGNORED, "dhcp_opt_split_ignored",                                        \
	  "ignored, message still served: an optional option sent twice or split (RFC 3396)")      \
	X(DHCP_REPLY_TRIMMED, "dhcp_reply_trimmed",                                                \
	  "not a drop, reply still sent: too big for the client, option 82 echo and/or optional "  \
	  "options left out")

#endif
