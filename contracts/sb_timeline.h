/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sb_timeline.h - one step of a client's boot, as the dataplane records it in its per-lcore
 * event ring and sends it to control (CHAN_MSG_TIMELINE), and as control records what it sees
 * itself (HTTP fetches, firmware syslog lines). Fixed size, native byte order (both ends on
 * one host), no pointers: copied as is through rte_ring and the channel.
 * Reference: docs/TIMELINE.md.
 */
#ifndef SB_TIMELINE_EVENT_H
#define SB_TIMELINE_EVENT_H

#include <stdint.h>

#define SB_TL_TEXT 90 /* bytes of text, NUL-padded; longer text is cut */

/*
 * X(id, "name", "what the fields hold"): every kind of step, once. The names are the API's
 * and the log's ("kind" in trace output, docs/TIMELINE.md).
 */
#define SB_TL_KINDS(X)                                                                             \
	X(DHCP, "dhcp",                                                                            \
	  "status: message in (53); a: reply (0 none); ip: address given; "                        \
	  "b: SB_TL_DHCP_* flags; c: client arch (93); text: boot file offered")                   \
	X(TFTP_RRQ, "tftp-rrq",                                                                    \
	  "text: file; a: blksize; b: windowsize; c: tsize (bytes, "                               \
	  "capped); d: server transfer port; status: TFTP_OPT_* the OACK "                         \
	  "carries")                                                                               \
	X(TFTP_REFUSED, "tftp-refused", "text: file; status: drop reason (sb_drop/engine)")        \
	X(TFTP_END, "tftp-end",                                                                    \
	  "text: file; status: enum tftp_end; a: blocks sent; b: blocks "                          \
	  "resent; c: ms; d: client ERROR code")                                                   \
	X(TFTP_RETRANSMIT, "tftp-retransmit", "text: file; a: frames resent; b: first block")      \
	X(RA, "ra", "an IPv6 router solicitation answered")                                        \
	X(HTTP, "http", "text: path; a: HTTP status; b: bytes sent (KiB capped)")                  \
	X(FIRMWARE_LOG, "firmware-log", "text: the syslog message; status: severity (0..7)")

enum sb_tl_kind {
	SB_TL_NONE = 0,
#define SB_TL_KIND_ENUM(id, name, doc) SB_TL_##id,
	SB_TL_KINDS(SB_TL_KIND_ENUM)
#undef SB_TL_KIND_ENUM
		SB_TL__COUNT
};

/* b of a DHCP step */
#define SB_TL_DHCP_PXE	     (1u << 0) /* option 60 PXEClient */
#define SB_TL_DHCP_IPXE	     (1u << 1) /* iPXE user class */
#define SB_TL_DHCP_RELAYED   (1u << 2) /* giaddr set */
#define SB_TL_DHCP_BOOT_ONLY (1u << 3) /* proxyDHCP / 4011: no address */
#define SB_TL_DHCP_HTTP	     (1u << 4) /* option 60 HTTPClient */

/* status of a TFTP_REFUSED step */
enum sb_tl_refusal {
	SB_TL_REFUSE_OTHER = 0, /* a malformed request (ERROR 4 or silence) */
	SB_TL_REFUSE_NOT_FOUND, /* not in the catalog: ERROR 1 */
	SB_TL_REFUSE_FORBIDDEN, /* images_allowed: ERROR 2 */
	SB_TL_REFUSE_PACED,	/* session table or per-client cap full: held unanswered */
	SB_TL_REFUSE_DUPLICATE, /* the RRQ again while its session runs: ignored */
	SB_TL_REFUSE_TFTP_OFF,	/* tftp.enabled false */
	SB_TL_REFUSE__COUNT
};

struct sb_tl_event {
	uint64_t ts_ms; /* wall clock, unix milliseconds */
	uint32_t ip;	/* the client's IPv4 address, host order, 0 = not known */
	uint32_t a, b, c, d;
	uint8_t mac[6];
	uint8_t kind; /* enum sb_tl_kind */
	uint8_t flags;
	uint16_t status;
	char text[SB_TL_TEXT];
};
_Static_assert(sizeof(struct sb_tl_event) == 128, "sb_tl_event is a wire format");

#endif
