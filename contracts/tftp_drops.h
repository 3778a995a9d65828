/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tftp_drops.h - drop reasons and counted events of the tftp, tftp_session and
 * catalog modules (see sb_drop.h). Owned by those modules.
 *
 * Names ending in _refused are requests answered with a TFTP ERROR packet
 * (tftp_error_for_drop() says which); names starting tftp_ack_ are events:
 * the ACK was well-formed and deliberately ignored, never a malformed packet.
 */
#ifndef SB_TFTP_DROPS_H
#define SB_TFTP_DROPS_H

#define TFTP_DROPS(X)                                                                              \
	X(TFTP_SHORT, "tftp_short", "TFTP packet shorter than its fixed header (opcode/block)")    \
	X(TFTP_NO_NUL, "tftp_no_nul", "RRQ/WRQ filename, mode or option not NUL-terminated")       \
	X(TFTP_OPTION_NO_VALUE, "tftp_option_no_value", "RRQ option name without a value")         \
	X(TFTP_BAD_MODE, "tftp_bad_mode_refused", "RRQ mode not octet/netascii (mail, unknown)")   \
	X(TFTP_BAD_OPCODE, "tftp_bad_opcode_refused", "unknown TFTP opcode")                       \
	X(TFTP_UNEXPECTED_OPCODE, "tftp_unexpected_opcode_refused",                                \
	  "valid opcode that makes no sense here (DATA/OACK/ACK to port 69, RRQ on a transfer)")   \
	X(TFTP_WRQ, "tftp_wrq_refused", "write request: the server is read-only (ERROR 2)")        \
	X(TFTP_NOT_FOUND, "tftp_not_found_refused", "file not in the image catalog (ERROR 1)")     \
	X(TFTP_BAD_PATH, "tftp_bad_path_refused", "file name with a '..' component (ERROR 2)")     \
	X(TFTP_IMAGE_FORBIDDEN, "tftp_image_forbidden",                                            \
	  "image not in the client's images_allowed (ERROR 2 sent by the engine)")                 \
	X(TFTP_UNKNOWN_TID, "tftp_unknown_tid_refused",                                            \
	  "packet to a transfer port from another address/port (ERROR 5)")                         \
	X(TFTP_ERROR_RECEIVED, "tftp_error_received", "ERROR packet outside a session (ignored)")  \
	X(TFTP_SESSION_CLOSED, "tftp_session_closed", "packet for a session that has ended")       \
	X(TFTP_ACK_DUP, "tftp_ack_duplicate",                                                      \
	  "duplicate ACK ignored, no retransmission (RFC 1123 4.2.3.1)")                           \
	X(TFTP_ACK_STALE, "tftp_ack_stale", "ACK for a block already acknowledged (ignored)")

#endif
