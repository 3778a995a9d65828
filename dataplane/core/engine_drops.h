/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * engine_drops.h - drop reasons of the DPDK engine (dataplane/engine, see sb_drop.h).
 * Owned by the engine. Protocol refusals that the engine answers (TFTP ERROR
 * "server busy", "unknown transfer ID") are counted here as well.
 */
#ifndef SB_ENGINE_DROPS_H
#define SB_ENGINE_DROPS_H

#define ENGINE_DROPS(X)                                                                            \
	X(ENG_NO_MBUF, "no_mbuf", "mempool empty: no mbuf for a reply, reply not sent")            \
	X(ENG_TX_FULL, "tx_full", "tx ring full: frame freed instead of transmitted")              \
	X(ENG_RX_MULTISEG, "rx_multi_segment", "received frame spans several mbufs (not handled)") \
	X(ENG_REPLY_TOO_BIG, "reply_too_big", "reply does not fit in one mbuf")                    \
	X(ENG_ARP_KERNEL, "arp_kernel_port",                                                       \
	  "ARP on a port with a kernel behind it (the kernel answers, not us)")                    \
	X(ENG_DHCP_OFF, "dhcp_disabled", "DHCP packet while dhcp.mode is off")                     \
	X(ENG_RA_OFF, "ipv6_ra_disabled", "IPv6 router solicitation while ipv6_ra is false")       \
	X(ENG_TFTP_OFF, "tftp_disabled", "TFTP packet while tftp is disabled")                     \
	X(ENG_NOT_OUR_IP, "tftp_not_our_ip",                                                       \
	  "TFTP packet to an IPv4 address that is not server_ip")                                  \
	X(ENG_HANDOFF_FULL, "handoff_full", "another lcore's hand-over ring is full")              \
	X(ENG_SESS_FULL, "tftp_sessions_full",                                                     \
	  "TFTP read request refused: session table or transfer ports exhausted")                  \
	X(ENG_SESS_UNKNOWN, "tftp_unknown_session",                                                \
	  "packet to a transfer port that has no session (ended, or never opened)")                \
	X(ENG_RRQ_DUP, "tftp_rrq_duplicate",                                                       \
	  "RRQ from a client address/port that already has a session (a retransmission)")

#endif
