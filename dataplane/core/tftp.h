/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tftp.h - TFTP on the wire (RFC 1350) with options (RFC 2347 OACK, 2348
 * blksize, 2349 timeout/tsize, 7440 windowsize): request parse, option
 * negotiation, OACK/DATA/ERROR build, netascii encoding.
 *
 * Pure: no I/O, no clock, no allocation. Parsed strings point into the
 * caller's packet buffer. Parse functions return 0 or -SB_DROP_x (sb_drop.h);
 * build functions return the packet length or -ENOSPC.
 *
 * Policy decisions (documented here, tested in tftp_test.c):
 * - Read-only server: WRQ is refused with ERROR 2 (access violation).
 * - Modes: "octet" and "netascii", case-insensitive (RFC 1350 section 5).
 *   netascii is served by converting on the fly (LF -> CR LF, CR -> CR NUL,
 *   RFC 764), so tsize and block boundaries are those of the converted
 *   stream (catalog_entry.netascii_size). "mail" and unknown modes get ERROR 4.
 * - Strictness: filename, mode, every option name and value must end in NUL
 *   inside the packet; an option name without a value, or unterminated
 *   trailing bytes, refuse the request (ERROR 4). Trailing NUL padding after
 *   the last complete option is accepted (some ROMs pad).
 * - Options (RFC 2347): names case-insensitive, unknown options ignored, a
 *   repeated option keeps its first value. An option whose value is not a
 *   decimal number in its valid range is IGNORED (not acknowledged in the
 *   OACK, so the client falls back to the RFC 1350 default) rather than
 *   refused with ERROR 8: RFC 2347 lets the server omit options it does not
 *   accept, and a boot ROM that sent a bad value still boots.
 *   Valid ranges: blksize 8..65464 (RFC 2348), timeout 1..255 s (RFC 2349),
 *   windowsize 1..65535 (RFC 7440), tsize any decimal (RFC 2349: 0 in a RRQ;
 *   the OACK carries the real size). multicast (RFC 2090) takes any value (clients send
 *   an empty one) and only sets TFTP_OPT_MULTICAST; the multicast module (mtftp.h) answers it.
 * - Negotiation clamps (tftp_negotiate): blksize to cfg blksize_max and to
 *   mtu - 20 (IPv4) - 8 (UDP) - 4 (TFTP); windowsize to cfg windowsize_max
 *   (and to TFTP_NETASCII_WINDOW_MAX in netascii mode). The clamped value is
 *   what the OACK carries (RFC 2348/7440 allow the server a smaller value).
 *   Without a blksize option blocks are cfg blksize_default bytes (512, as
 *   RFC 1350 fixes, unless the operator changed it; 0 means 512).
 */
#ifndef SB_TFTP_H
#define SB_TFTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sb_ports.h"
#include "sbcfg.h"

#define TFTP_HDR_LEN		4 /* opcode + block (DATA/ACK) or opcode + code (ERROR) */
#define TFTP_BLKSIZE_DEFAULT	512
#define TFTP_BLKSIZE_MIN	8     /* RFC 2348 */
#define TFTP_BLKSIZE_MAX	65464 /* RFC 2348 */
#define TFTP_TIMEOUT_MIN	1     /* RFC 2349, seconds */
#define TFTP_TIMEOUT_MAX	255
#define TFTP_WINDOWSIZE_MIN	1 /* RFC 7440 */
#define TFTP_WINDOWSIZE_MAX	65535 /* RFC 7440: what a client may ask for */
#define TFTP_WINDOWSIZE_GRANT_MAX 32768 /* what we grant: 16-bit block numbers stay unambiguous */
#define TFTP_IPV4_UDP_TFTP_HDRS (20 + 8 + TFTP_HDR_LEN) /* subtracted from the MTU */
/* netascii blocks need their source offset remembered; this bounds the window. */
#define TFTP_NETASCII_WINDOW_MAX 32
/* Enough for any OACK we build: four options with their longest values. */
#define TFTP_OACK_MAX 128

/* Opcodes, RFC 1350 section 5 and RFC 2347 (OACK). */
enum tftp_opcode {
	TFTP_OP_RRQ = 1,
	TFTP_OP_WRQ = 2,
	TFTP_OP_DATA = 3,
	TFTP_OP_ACK = 4,
	TFTP_OP_ERROR = 5,
	TFTP_OP_OACK = 6,
};

/* Error codes, RFC 1350 appendix and RFC 2347 (8). */
enum tftp_error_code {
	TFTP_ERR_UNDEF = 0,	/* not defined, see message (e.g. server busy) */
	TFTP_ERR_NOT_FOUND = 1, /* file not found */
	TFTP_ERR_ACCESS = 2,	/* access violation */
	TFTP_ERR_DISK_FULL = 3,
	TFTP_ERR_ILLEGAL_OP = 4, /* illegal TFTP operation */
	TFTP_ERR_UNKNOWN_TID = 5,
	TFTP_ERR_FILE_EXISTS = 6,
	TFTP_ERR_NO_USER = 7,
	TFTP_ERR_OPTION = 8, /* option negotiation refused */
};

enum tftp_mode {
	TFTP_MODE_OCTET = 0,
	TFTP_MODE_NETASCII,
};

/* Bits of tftp_rrq.opts / tftp_params.oack_opts: which options were present / accepted. */
#define TFTP_OPT_BLKSIZE    (1u << 0)
#define TFTP_OPT_TSIZE	    (1u << 1)
#define TFTP_OPT_TIMEOUT    (1u << 2)
#define TFTP_OPT_WINDOWSIZE (1u << 3)
#define TFTP_OPT_MULTICAST  (1u << 4) /* RFC 2090: any value ("" from clients); never in oack_opts */

/* Wire header of DATA and ACK (and ERROR, where block_be is the error code). */
struct tftp_hdr {
	uint16_t opcode_be;
	uint16_t block_be;
};
_Static_assert(sizeof(struct tftp_hdr) == TFTP_HDR_LEN, "TFTP header is 4 bytes");

/* A parsed read request. Strings point into the packet (not NUL-terminated copies). */
struct tftp_rrq {
	const char *filename; /* NUL-terminated inside the packet */
	size_t filename_len;  /* without the NUL */
	enum tftp_mode mode;
	unsigned opts;	     /* TFTP_OPT_x present with a valid value */
	uint16_t blksize;    /* requested, 8..65464 */
	uint8_t timeout_s;   /* requested, 1..255 */
	uint16_t windowsize; /* requested, 1..65535 */
	uint64_t tsize;	     /* as sent (0 from conforming clients) */
	unsigned n_ignored;  /* options ignored: unknown, repeated or invalid value */
};

/* What a transfer runs with after negotiation. */
struct tftp_params {
	enum tftp_mode mode;
	uint16_t blksize;    /* payload bytes per DATA */
	uint16_t windowsize; /* blocks in flight, 1 = lock-step */
	uint8_t timeout_s;   /* negotiated timeout, 0 = none (use timeout_ms) */
	uint32_t timeout_ms; /* retransmission timeout actually used */
	uint64_t tsize;	     /* bytes the client will receive (netascii: converted) */
	unsigned oack_opts;  /* TFTP_OPT_x to put in the OACK; 0 = no OACK, start with DATA 1 */
};

/* Opcode of a packet (host order), or -SB_DROP_TFTP_SHORT if len < 2. */
int tftp_opcode(const uint8_t *buf, size_t len);

/*
 * Parse a request received on port 69. Returns 0 for a well-formed RRQ (out
 * filled), or -SB_DROP_x: TFTP_WRQ for a write request, TFTP_BAD_OPCODE,
 * TFTP_UNEXPECTED_OPCODE (DATA/ACK/OACK), TFTP_ERROR_RECEIVED, TFTP_SHORT,
 * TFTP_NO_NUL, TFTP_OPTION_NO_VALUE, TFTP_BAD_MODE. Never reads past len.
 */
int tftp_parse_request(const uint8_t *buf, size_t len, struct tftp_rrq *out);

/* Parse an ACK: *block gets the 16-bit wire block. 0 or -SB_DROP_TFTP_SHORT / _BAD_OPCODE. */
int tftp_parse_ack(const uint8_t *buf, size_t len, uint16_t *block);

/*
 * Parse an ERROR packet: code and message (msg points into buf, msg_len
 * excludes the NUL; a missing NUL is tolerated: an error ends the transfer
 * either way). 0 or -SB_DROP_TFTP_SHORT / _BAD_OPCODE.
 */
int tftp_parse_error(const uint8_t *buf, size_t len, uint16_t *code, const char **msg,
		     size_t *msg_len);

/*
 * Negotiate the options of rrq for a file of `size` bytes (`netascii_size`
 * bytes after netascii conversion) under cfg's limits; see the policy above.
 */
void tftp_negotiate(const struct tftp_rrq *rrq, uint64_t size, uint64_t netascii_size,
		    const struct sbcfg_tftp *cfg, struct tftp_params *out);

/* Build an OACK carrying p->oack_opts with their negotiated values. */
int tftp_build_oack(uint8_t *out, size_t cap, const struct tftp_params *p);

/*
 * Build an ERROR packet. msg NULL = the standard text of the code. A message
 * that does not fit in cap is cut (the packet stays NUL-terminated).
 * -ENOSPC if cap < 5.
 */
int tftp_build_error(uint8_t *out, size_t cap, uint16_t code, const char *msg);

/* Write the 4-byte DATA header for wire block `block` (the payload follows it). */
int tftp_build_data_hdr(uint8_t *out, size_t cap, uint16_t block);

/*
 * If a packet refused with -SB_DROP_x (rc) should be answered with an ERROR,
 * return true and the code and message to send; false = drop silently (too
 * short to be a request, or itself an ERROR: RFC 1350 never answers errors).
 */
bool tftp_error_for_drop(int rc, uint16_t *code, const char **msg);

/*
 * netascii (RFC 764) encoder position: source offset, and whether the first
 * output byte is the second half of a two-byte expansion (CR LF / CR NUL).
 */
struct tftp_na_pos {
	uint64_t src;
	bool half;
};

/*
 * Encode up to cap output bytes of netascii from src[pos->src..size),
 * advancing *pos. out may be NULL to only advance (count). Returns bytes
 * produced (< cap only at the end of the source).
 */
size_t tftp_netascii_encode(const uint8_t *src, uint64_t size, struct tftp_na_pos *pos,
			    uint8_t *out, size_t cap);

/* Size of src after netascii conversion (one extra byte per CR and per LF). */
uint64_t tftp_netascii_size(const uint8_t *src, uint64_t size);

#endif
