/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * engine_drops.h - drop reasons of the DPDK engine, numbered after the protocol core's
 * (contracts/sb_drop.h), so one counter array and one helper (eng_count_drop) cover both.
 * Requests held at a cap (tftp_rrq_paced, tftp_rrq_client_cap), refusals the engine answers
 * ("unknown transfer ID") and DHCPACKs withheld for durability (dhcp_ack_*) are counted here
 * as well.
 */
#ifndef SB_ENG_ENGINE_DROPS_H
#define SB_ENG_ENGINE_DROPS_H

#include "sb_drop.h"

/* X(ENUM_SUFFIX, "counter_name", "one-line description") */
#define ENGINE_DROPS(X)                                                                            \
	X(NO_MBUF, "no_mbuf", "mempool empty: no mbuf for a reply, reply not sent")                \
	X(TX_FULL, "tx_full", "tx ring full: frame freed instead of transmitted")                  \
	X(RX_MULTISEG, "rx_multi_segment", "received frame spans several mbufs (not handled)")     \
	X(ARP_KERNEL, "arp_kernel_port",                                                           \
	  "ARP on a port with a kernel behind it (the kernel answers, not us)")                    \
	X(RA_OFF, "ipv6_ra_disabled", "IPv6 router solicitation while ipv6_ra is false")           \
	X(TFTP_OFF, "tftp_disabled", "TFTP packet while tftp is disabled")                         \
	X(NOT_OUR_IP, "tftp_not_our_ip", "TFTP packet to an IPv4 address that is not server_ip")   \
	X(HANDOFF_FULL, "handoff_full", "another lcore's hand-over ring is full")                  \
	X(RRQ_PACED, "tftp_rrq_paced",                                                             \
	  "TFTP read request held unanswered: session table full (the client retransmits and "     \
	  "finds a slot once a transfer ends; no ERROR, which PXE firmware takes as fatal)")       \
	X(RRQ_CLIENT_CAP, "tftp_rrq_client_cap",                                                   \
	  "TFTP read request held unanswered: its client address has "                             \
	  "tftp.max_sessions_per_client sessions on this lcore (paced like the session cap, "      \
	  "no ERROR)")                                                                             \
	X(SESS_UNKNOWN, "tftp_unknown_session",                                                    \
	  "packet to a transfer port that has no session (ended, or never opened)")                \
	X(RRQ_DUP, "tftp_rrq_duplicate",                                                           \
	  "RRQ from a client address/port that already has a session (a retransmission)")          \
	X(DHCP_WAIT_LEASES, "dhcp_waiting_for_leases",                                             \
	  "DHCP request while the dataplane waits for control's durable leases after its start")   \
	X(ACK_NOT_DURABLE, "dhcp_ack_not_durable",                                                 \
	  "DHCPACK not sent (durability strict): control did not confirm its lease durable in "    \
	  "time, or the link was lost while it was held (the client asks again)")                  \
	X(ACK_CONTROL_AWAY, "dhcp_ack_control_away",                                               \
	  "DHCPACK not sent (durability strict): no control process connected to make its "        \
	  "lease durable (the client asks again)")                                                 \
	X(ACK_HOLD_FULL, "dhcp_ack_hold_full",                                                     \
	  "DHCPACK not sent (durability strict): the queue of ACKs held for control, or the "      \
	  "lease-event ring to the control thread, is full (the client asks again)")               \
	X(DHCP_LB_OTHER, "dhcp_lb_other_server",                                                   \
	  "cluster mode: DHCP request of a client whose RFC 3074 bucket another server answers "   \
	  "(or none while this server is cut off from etcd)")

enum eng_drop {
	ENG_DROP__FIRST = SB_DROP__COUNT - 1,
#define ENG_DROP_ENUM(e, name, desc) ENG_DROP_##e,
	ENGINE_DROPS(ENG_DROP_ENUM)
#undef ENG_DROP_ENUM
	ENG_DROP__COUNT, /* size of the engine's drop counter array: core reasons, then ours */
};

/* Counter name / description of any reason below ENG_DROP__COUNT ("unknown" otherwise). */
const char *eng_drop_name(unsigned int reason);
const char *eng_drop_desc(unsigned int reason);

#endif
