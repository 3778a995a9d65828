/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dhcp.h - DHCPv4 wire format (RFC 2131, RFC 2132): parse a received message
 * without copying, build a BOOTREPLY option by option.
 *
 * Parsing policy (all refusals are -SB_DROP_DHCP_x, see dhcp_drops.h):
 *  - The 236-byte fixed header and the magic cookie are required; htype must
 *    be Ethernet (1) with hlen 6: leases are keyed by MAC.
 *  - op may be BOOTREQUEST or BOOTREPLY (so replies can be parsed back in
 *    tests and captures); the server refuses BOOTREPLY itself.
 *  - Every option must fit inside the packet, and the option area must end
 *    with END (255): a message cut short anywhere is refused, never half-read.
 *  - Options this module interprets have a fixed or minimum length (table in
 *    dhcp.c, RFC 2132 / 3046 / 4578). For the options the protocol needs (50
 *    requested address, 53 message type, 54 server id) and those that shape
 *    the message (52 overload, 82 relay agent information) a violation, a bad
 *    value or a second instance refuses the whole message (DHCP_OPT_BAD_LEN,
 *    DHCP_OPT_DUPLICATE...). Every other interpreted option is optional: a bad
 *    length or value (e.g. zero-length 12/60/77, 94/97 of the wrong size) makes
 *    it ignored (no value kept) and sets DHCP_ANOM_OPT_IGNORED in msg->anomalies;
 *    the message is still served. Options it does not interpret are skipped
 *    whatever their length.
 *  - Option overload (52, RFC 2132 9.3) is HANDLED: the file and/or sname
 *    fields are then parsed as further option areas (options, file, sname, in
 *    that order), each ending with END; msg->file / msg->sname are then NULL.
 *  - Several instances of one option (a duplicate, or an option split per
 *    RFC 3396): concatenation is NOT done (it would need a copy, and values past
 *    255 bytes). For a strict option that refuses the message; an optional one
 *    is ignored, all its instances (DHCP_ANOM_OPT_SPLIT); duplicates of options
 *    this module does not interpret are left alone.
 *  - Option 53 is required and must be 1..8: BOOTP (no 53) is not served.
 */
#ifndef SB_DHCP_H
#define SB_DHCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sb_drop.h"
#include "sb_ports.h"


#define DHCP_HDR_LEN	  236
#define DHCP_COOKIE_LEN	  4
#define DHCP_MAGIC_COOKIE 0x63825363u
#define DHCP_OPT_OFF	  (DHCP_HDR_LEN + DHCP_COOKIE_LEN) /* first option byte */
/* RFC 2131 2: a client accepts at least a 576-byte IP datagram (548 of DHCP). */
#define DHCP_MIN_MAX_MSG 576
#define DHCP_IP_UDP_HLEN 28
/* BOOTP minimum message (RFC 951/1542): replies are padded to this. */
#define DHCP_MIN_LEN 300

#define DHCP_BOOTREQUEST    1
#define DHCP_BOOTREPLY	    2
#define DHCP_HTYPE_ETHER    1
#define DHCP_FLAG_BROADCAST 0x8000 /* RFC 2131 2, flags field (host order) */

/* Message types, option 53 (RFC 2132 9.6). */
enum dhcp_msg_type {
	DHCP_DISCOVER = 1,
	DHCP_OFFER = 2,
	DHCP_REQUEST = 3,
	DHCP_DECLINE = 4,
	DHCP_ACK = 5,
	DHCP_NAK = 6,
	DHCP_RELEASE = 7,
	DHCP_INFORM = 8,
};

/* Option codes used by stormboot. */
enum dhcp_opt {
	DHCP_OPT_PAD = 0,
	DHCP_OPT_SUBNET_MASK = 1,
	DHCP_OPT_ROUTER = 3,
	DHCP_OPT_DNS = 6,
	DHCP_OPT_LOG_SERVER = 7,
	DHCP_OPT_HOSTNAME = 12,
	DHCP_OPT_DOMAIN = 15,
	DHCP_OPT_VENDOR_OPTS = 43,
	DHCP_OPT_REQUESTED_IP = 50,
	DHCP_OPT_LEASE_TIME = 51,
	DHCP_OPT_OVERLOAD = 52,
	DHCP_OPT_MSG_TYPE = 53,
	DHCP_OPT_SERVER_ID = 54,
	DHCP_OPT_PARAM_REQ = 55,
	DHCP_OPT_MESSAGE = 56,
	DHCP_OPT_MAX_MSG_SIZE = 57,
	DHCP_OPT_T1 = 58,
	DHCP_OPT_T2 = 59,
	DHCP_OPT_VENDOR_CLASS = 60,
	DHCP_OPT_CLIENT_ID = 61,
	DHCP_OPT_TFTP_SERVER = 66,
	DHCP_OPT_BOOTFILE = 67,
	DHCP_OPT_USER_CLASS = 77,
	DHCP_OPT_RELAY_AGENT = 82,
	DHCP_OPT_CLIENT_ARCH = 93,
	DHCP_OPT_CLIENT_NDI = 94,
	DHCP_OPT_CLIENT_UUID = 97,
	DHCP_OPT_IPXE_ENCAP = 175,
	DHCP_OPT_END = 255,
};

/*
 * Anomalies of a message that was accepted and served: not drops, but counted
 * like them. Bit k stands for the sb_drop reason DHCP_ANOMALY_FIRST + k (its
 * counter name, e.g. "dhcp_opt_ignored"); the engine counts each set bit of
 * dhcp_result.anomalies as it counts a -SB_DROP_x return value.
 */
#define DHCP_ANOMALY_FIRST SB_DROP_DHCP_OPT_IGNORED
enum dhcp_anomaly {
	DHCP_ANOM_OPT_IGNORED = 1u << 0,   /* SB_DROP_DHCP_OPT_IGNORED */
	DHCP_ANOM_OPT_SPLIT = 1u << 1,	   /* SB_DROP_DHCP_OPT_SPLIT_IGNORED */
	DHCP_ANOM_REPLY_TRIMMED = 1u << 2, /* SB_DROP_DHCP_REPLY_TRIMMED */
};

/* The fixed BOOTP/DHCP header on the wire (RFC 2131 2, figure 1). */
struct dhcp_hdr {
	uint8_t op;
	uint8_t htype;
	uint8_t hlen;
	uint8_t hops;
	uint32_t xid_be;
	uint16_t secs_be;
	uint16_t flags_be;
	uint32_t ciaddr_be;
	uint32_t yiaddr_be;
	uint32_t siaddr_be;
	uint32_t giaddr_be;
	uint8_t chaddr[16];
	char sname[64];
	char file[128];
} __attribute__((packed));
_Static_assert(sizeof(struct dhcp_hdr) == DHCP_HDR_LEN, "BOOTP fixed header is 236 bytes");

/* A variable-length option value inside the received buffer (len 0 = absent). */
struct dhcp_optv {
	const uint8_t *data;
	uint8_t len;
};

/*
 * A parsed message. Fixed-header fields are converted to host order; variable
 * options point into the buffer given to dhcp_parse(), which must outlive it.
 */
struct dhcp_msg {
	const uint8_t *buf; /* the message as received */
	size_t len;
	uint8_t op, htype, hlen, hops;
	uint32_t xid; /* host order; replies echo it */
	uint16_t secs, flags;
	uint32_t ciaddr, yiaddr, siaddr, giaddr; /* host order */
	uint8_t chaddr[6];
	const char *sname; /* NULL when overloaded (52) with options */
	const char *file;

	uint8_t type;	       /* option 53 */
	uint8_t overload;      /* option 52, 0 = none */
	uint32_t requested_ip; /* option 50, 0 = absent */
	uint32_t server_id;    /* option 54, 0 = absent */
	uint32_t lease_time;   /* option 51 */
	bool has_lease_time;
	uint16_t max_msg_size; /* option 57, 0 = absent */

	struct dhcp_optv hostname;     /* 12 */
	struct dhcp_optv vendor_opts;  /* 43 */
	struct dhcp_optv prl;	       /* 55, parameter request list */
	struct dhcp_optv vendor_class; /* 60 */
	struct dhcp_optv client_id;    /* 61 */
	struct dhcp_optv user_class;   /* 77 */
	struct dhcp_optv relay_agent;  /* 82, whole option value (echoed back) */
	struct dhcp_optv circuit_id;   /* 82.1 */
	struct dhcp_optv remote_id;    /* 82.2 */
	struct dhcp_optv client_arch;  /* 93, list of 16-bit types */
	struct dhcp_optv client_ndi;   /* 94 */
	struct dhcp_optv client_uuid;  /* 97, type byte + 16-byte GUID */
	struct dhcp_optv ipxe_encap;   /* 175 */

	uint64_t present[4]; /* bitmap of option codes seen (ignored ones included) */
	uint32_t anomalies;  /* DHCP_ANOM_* found while parsing */
};

/* True if option `code` appeared in msg. */
static inline bool dhcp_has_opt(const struct dhcp_msg *m, uint8_t code)
{
	return (m->present[code >> 6] >> (code & 63)) & 1;
}

/*
 * Parse a DHCP message (the UDP payload). Returns 0 and fills out, or
 * -SB_DROP_DHCP_x. Never reads outside buf[0..len).
 */
int dhcp_parse(const uint8_t *buf, size_t len, struct dhcp_msg *out);

/* Name of a message type ("DHCPDISCOVER"...), "unknown" otherwise. */
const char *dhcp_msg_type_name(uint8_t type);

/*
 * Reply builder (dnsmasq option_put() style): it knows how much room is left
 * and always keeps one byte for END. Errors are sticky: after the first
 * failing mandatory put, dhcp_build_finish() fails too.
 */
struct dhcp_builder {
	uint8_t *buf;
	size_t cap;	   /* usable bytes: min(buffer, client's maximum message) */
	size_t len;	   /* bytes written so far */
	size_t relay_room; /* bytes kept for the option 82 echo, 0 = no echo */
	int err;	   /* first error, 0 if none */
};

/* What the fixed header of a BOOTREPLY carries (addresses in host order). */
struct dhcp_reply {
	uint8_t type;	    /* DHCP_OFFER / DHCP_ACK / DHCP_NAK */
	uint32_t ciaddr;    /* echoed for INFORM/renewals, else 0 */
	uint32_t yiaddr;    /* the client's address, 0 for NAK/INFORM/proxy */
	uint32_t siaddr;    /* next server (TFTP), 0 = none */
	uint32_t server_id; /* option 54, 0 = do not send */
	bool broadcast;	    /* force the broadcast flag (NAK through a relay) */
	bool no_relay_agent; /* leave req's option 82 out: the reply would not fit */
	const char *file;   /* boot file for the file field, NULL/"" = none */
};

/*
 * Start a BOOTREPLY to req in out[0..cap): fixed header (xid, flags, giaddr,
 * chaddr echoed; RFC 2131 4.3.1 table 3), magic cookie, option 53, option 54
 * if r->server_id, and req's option 61 echoed (RFC 6842 3). The usable size is capped at the
 * client's maximum message size (option 57, else 576 - 28, RFC 2131 2). Returns 0 or
 * -SB_DROP_REPLY_TOO_BIG.
 */
int dhcp_build_reply(struct dhcp_builder *b, uint8_t *out, size_t cap, const struct dhcp_msg *req,
		     const struct dhcp_reply *r);

/*
 * Append option code with len bytes of data. Returns 0, or
 * -SB_DROP_REPLY_TOO_BIG (nothing written) if it does not fit; the error
 * is only sticky when `mandatory` was asked via dhcp_opt_put_req().
 */
int dhcp_opt_put(struct dhcp_builder *b, uint8_t code, size_t len, const void *data);
/* Like dhcp_opt_put() but a failure makes the whole reply fail. */
int dhcp_opt_put_req(struct dhcp_builder *b, uint8_t code, size_t len, const void *data);
/* Helpers for common value shapes (host-order input, written big-endian). */
int dhcp_opt_put_u32(struct dhcp_builder *b, uint8_t code, uint32_t v);
int dhcp_opt_put_str(struct dhcp_builder *b, uint8_t code, const char *s);
/* Bytes still free for options (END already accounted for). */
size_t dhcp_opt_room(const struct dhcp_builder *b);

/*
 * Finish: echo req's option 82 unchanged as the last option (RFC 3046 2.2;
 * its room is reserved, so it is never crowded out) unless r->no_relay_agent
 * was set, write END, pad to 300 bytes. Returns the message length, or
 * -SB_DROP_REPLY_TOO_BIG.
 */
int dhcp_build_finish(struct dhcp_builder *b, const struct dhcp_msg *req);

#endif
