/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mtftp_drops.h - drop reasons and counted events of the multicast TFTP module
 * (dataplane/core/mtftp.h, RFC 2090); see sb_drop.h. Names starting mtftp_ack_ are
 * events: a well-formed ACK deliberately ignored.
 */
#ifndef SB_MTFTP_DROPS_H
#define SB_MTFTP_DROPS_H

#define MTFTP_DROPS(X)                                                                             \
	X(MTFTP_ACK_NOT_MASTER, "mtftp_ack_not_master",                                            \
	  "ACK from a multicast client that is not the master client (RFC 2090: ignored)")         \
	X(MTFTP_ACK_STALE, "mtftp_ack_stale",                                                      \
	  "master client's ACK below the block it acknowledged last (ignored)")                    \
	X(MTFTP_ACK_DUP, "mtftp_ack_duplicate",                                                    \
	  "master client's repeated ACK, no retransmission (RFC 1123 4.2.3.1)")                    \
	X(MTFTP_STREAM_FULL, "mtftp_stream_full",                                                  \
	  "multicast RRQ while the stream has its maximum of clients (served unicast instead)")    \
	X(MTFTP_RRQ_REPEAT, "mtftp_rrq_repeat",                                                    \
	  "RRQ again from a client of a stream (its OACK is sent again)")

#endif
