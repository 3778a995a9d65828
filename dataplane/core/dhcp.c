/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include "dhcp.h"
#include "sb_drop.h"

_Static_assert(SB_DROP_DHCP_OPT_SPLIT_IGNORED == DHCP_ANOMALY_FIRST + 1 &&
		       SB_DROP_DHCP_REPLY_TRIMMED == DHCP_ANOMALY_FIRST + 2,
	       "anomaly bits follow the order of dhcp_drops.h");

static uint32_t rd_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void wr_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/*
 * Length rules of the options we interpret: min/max length and the unit the
 * length must be a multiple of. Codes not listed are skipped unread. strict:
 * the protocol needs the value (50, 53, 54) or it shapes the message (52, 82):
 * a violation or a second instance refuses the message. The other options are
 * optional: a bad one is ignored and counted (DHCP_ANOM_*), the message served.
 */
struct opt_rule {
	uint8_t min, max, mult;
	bool strict;
};

static const struct opt_rule opt_rules[256] = {
	[DHCP_OPT_HOSTNAME] = {1, 255, 1, false},     /* RFC 2132 3.14: minimum length 1 */
	[DHCP_OPT_VENDOR_OPTS] = {1, 255, 1, false},  /* RFC 2132 8.4 */
	[DHCP_OPT_REQUESTED_IP] = {4, 4, 4, true},    /* RFC 2132 9.1 */
	[DHCP_OPT_LEASE_TIME] = {4, 4, 4, false},     /* RFC 2132 9.2 */
	[DHCP_OPT_OVERLOAD] = {1, 1, 1, true},	      /* RFC 2132 9.3 */
	[DHCP_OPT_MSG_TYPE] = {1, 1, 1, true},	      /* RFC 2132 9.6 */
	[DHCP_OPT_SERVER_ID] = {4, 4, 4, true},	      /* RFC 2132 9.7 */
	[DHCP_OPT_PARAM_REQ] = {1, 255, 1, false},    /* RFC 2132 9.8 */
	[DHCP_OPT_MAX_MSG_SIZE] = {2, 2, 2, false},   /* RFC 2132 9.10 */
	[DHCP_OPT_VENDOR_CLASS] = {1, 255, 1, false}, /* RFC 2132 9.13 */
	[DHCP_OPT_CLIENT_ID] = {2, 255, 1, false},    /* RFC 2132 9.14 */
	[DHCP_OPT_USER_CLASS] = {1, 255, 1, false},   /* RFC 3004 (or iPXE's raw string) */
	[DHCP_OPT_RELAY_AGENT] = {2, 255, 1, true},   /* RFC 3046 2.0: at least one sub-option */
	[DHCP_OPT_CLIENT_ARCH] = {2, 254, 2, false},  /* RFC 4578 2.1: list of 16-bit types */
	[DHCP_OPT_CLIENT_NDI] = {3, 3, 3, false},     /* RFC 4578 2.2: type, major, minor */
	[DHCP_OPT_CLIENT_UUID] = {17, 17, 17, false}, /* RFC 4578 2.3: type 0 + 16 bytes */
	[DHCP_OPT_IPXE_ENCAP] = {0, 255, 1, false},   /* iPXE encapsulated options */
};

static void set_present(struct dhcp_msg *m, uint8_t code)
{
	m->present[code >> 6] |= 1ull << (code & 63);
}

/* RFC 3046 2.0: option 82 is a sequence of {code, len, data} sub-options. */
static int parse_relay_agent(struct dhcp_msg *m, const uint8_t *p, uint8_t len)
{
	const uint8_t *end = p + len;

	while (p < end) {
		if (end - p < 2 || p[1] > end - p - 2)
			return -SB_DROP_DHCP_BAD_RELAY_AGENT;
		if (p[1] == 0) /* RFC 3046 2.1, 2.2: sub-option lengths are >= 1 */
			return -SB_DROP_DHCP_BAD_RELAY_AGENT;
		struct dhcp_optv v = {p + 2, p[1]};
		if (p[0] == 1)
			m->circuit_id = v;
		else if (p[0] == 2)
			m->remote_id = v;
		p += 2 + p[1];
	}
	return 0;
}

/* The field that keeps option code's value as received, or NULL (converted, or not kept). */
static struct dhcp_optv *optv_field(struct dhcp_msg *m, uint8_t code)
{
	switch (code) {
	case DHCP_OPT_HOSTNAME:
		return &m->hostname;
	case DHCP_OPT_VENDOR_OPTS:
		return &m->vendor_opts;
	case DHCP_OPT_PARAM_REQ:
		return &m->prl;
	case DHCP_OPT_VENDOR_CLASS:
		return &m->vendor_class;
	case DHCP_OPT_CLIENT_ID:
		return &m->client_id;
	case DHCP_OPT_USER_CLASS:
		return &m->user_class;
	case DHCP_OPT_RELAY_AGENT:
		return &m->relay_agent;
	case DHCP_OPT_CLIENT_ARCH:
		return &m->client_arch;
	case DHCP_OPT_CLIENT_NDI:
		return &m->client_ndi;
	case DHCP_OPT_CLIENT_UUID:
		return &m->client_uuid;
	case DHCP_OPT_IPXE_ENCAP:
		return &m->ipxe_encap;
	default:
		return NULL;
	}
}

/* Forget the value of an optional option (ignored after all). */
static void clear_opt(struct dhcp_msg *m, uint8_t code)
{
	struct dhcp_optv *f = optv_field(m, code);

	if (f)
		*f = (struct dhcp_optv){0};
	if (code == DHCP_OPT_LEASE_TIME) {
		m->lease_time = 0;
		m->has_lease_time = false;
	}
	if (code == DHCP_OPT_MAX_MSG_SIZE)
		m->max_msg_size = 0;
}

/* Keep the value of an option whose length passed its rule; a bad value: -SB_DROP_x. */
static int store_opt(struct dhcp_msg *m, uint8_t code, const uint8_t *v, uint8_t len)
{
	struct dhcp_optv *f = optv_field(m, code);

	switch (code) {
	case DHCP_OPT_REQUESTED_IP:
		m->requested_ip = rd_be32(v);
		break;
	case DHCP_OPT_LEASE_TIME:
		m->lease_time = rd_be32(v);
		m->has_lease_time = true;
		break;
	case DHCP_OPT_OVERLOAD:
		if (v[0] < 1 || v[0] > 3) /* RFC 2132 9.3 */
			return -SB_DROP_DHCP_BAD_OVERLOAD;
		m->overload = v[0];
		break;
	case DHCP_OPT_MSG_TYPE:
		if (v[0] < DHCP_DISCOVER || v[0] > DHCP_INFORM)
			return -SB_DROP_DHCP_BAD_MSG_TYPE;
		m->type = v[0];
		break;
	case DHCP_OPT_SERVER_ID:
		m->server_id = rd_be32(v);
		break;
	case DHCP_OPT_MAX_MSG_SIZE:
		m->max_msg_size = (uint16_t)((v[0] << 8) | v[1]);
		break;
	case DHCP_OPT_CLIENT_NDI:
		if (v[0] != 1) /* RFC 4578 2.2: type 1 = UNDI */
			return -SB_DROP_DHCP_OPT_BAD_LEN;
		break;
	case DHCP_OPT_CLIENT_UUID:
		if (v[0] != 0) /* RFC 4578 2.3: type 0 = GUID */
			return -SB_DROP_DHCP_OPT_BAD_LEN;
		break;
	}
	if (f)
		*f = (struct dhcp_optv){v, len};
	if (code == DHCP_OPT_RELAY_AGENT)
		return parse_relay_agent(m, v, len);
	return 0;
}

/*
 * Walk one option area [p, end). main_area: the options field must be
 * terminated by END (RFC 2131 4.1); file/sname areas may also just run out.
 */
static int parse_area(struct dhcp_msg *m, const uint8_t *p, const uint8_t *end, bool main_area)
{
	while (p < end) {
		uint8_t code = p[0];
		if (code == DHCP_OPT_PAD) {
			p++;
			continue;
		}
		if (code == DHCP_OPT_END)
			return 0;
		/* dnsmasq-style guard: the length byte and the value must both fit. */
		if (end - p < 2 || p[1] > end - p - 2)
			return -SB_DROP_DHCP_OPT_OVERRUN;
		uint8_t len = p[1];
		const uint8_t *v = p + 2;
		const struct opt_rule *r = &opt_rules[code];

		bool bad_len = r->mult && (len < r->min || len > r->max || len % r->mult);

		if (r->strict) {
			if (bad_len)
				return -SB_DROP_DHCP_OPT_BAD_LEN;
			if (code == DHCP_OPT_OVERLOAD && !main_area)
				return -SB_DROP_DHCP_BAD_OVERLOAD; /* RFC 2132 9.3 */
			if (dhcp_has_opt(m, code))
				return -SB_DROP_DHCP_OPT_DUPLICATE;
			int rc = store_opt(m, code, v, len);
			if (rc < 0)
				return rc;
		} else if (r->mult && dhcp_has_opt(m, code)) {
			/*
			 * RFC 3396 4: further instances continue the value. Joining them would
			 * take a copy (and values past 255 bytes); an optional option is not
			 * worth it: none of its instances is used.
			 */
			clear_opt(m, code);
			m->anomalies |= DHCP_ANOM_OPT_SPLIT;
		} else if (r->mult && (bad_len || store_opt(m, code, v, len) < 0)) {
			m->anomalies |= DHCP_ANOM_OPT_IGNORED; /* RFC 2132 / 4578 lengths */
		}
		set_present(m, code);
		p = v + len;
	}
	return main_area ? -SB_DROP_DHCP_OPT_NO_END : 0;
}

int dhcp_parse(const uint8_t *buf, size_t len, struct dhcp_msg *out)
{
	struct dhcp_hdr h;

	memset(out, 0, sizeof(*out));
	if (len < DHCP_OPT_OFF)
		return -SB_DROP_DHCP_SHORT;
	memcpy(&h, buf, sizeof(h));
	/* RFC 2131 2: op 1 = BOOTREQUEST, 2 = BOOTREPLY. */
	if (h.op != DHCP_BOOTREQUEST && h.op != DHCP_BOOTREPLY)
		return -SB_DROP_DHCP_BAD_OP;
	/* RFC 1700 hardware type 1, 6-byte address: we key leases by MAC. */
	if (h.htype != DHCP_HTYPE_ETHER || h.hlen != 6)
		return -SB_DROP_DHCP_BAD_HTYPE;
	/* RFC 2131 3: the options field starts with the magic cookie. */
	if (rd_be32(buf + DHCP_HDR_LEN) != DHCP_MAGIC_COOKIE)
		return -SB_DROP_DHCP_BAD_COOKIE;

	out->buf = buf;
	out->len = len;
	out->op = h.op;
	out->htype = h.htype;
	out->hlen = h.hlen;
	out->hops = h.hops;
	out->xid = rd_be32(buf + 4);
	out->secs = (uint16_t)((buf[8] << 8) | buf[9]);
	out->flags = (uint16_t)((buf[10] << 8) | buf[11]);
	out->ciaddr = rd_be32(buf + 12);
	out->yiaddr = rd_be32(buf + 16);
	out->siaddr = rd_be32(buf + 20);
	out->giaddr = rd_be32(buf + 24);
	memcpy(out->chaddr, buf + 28, 6);

	const uint8_t *sname = buf + offsetof(struct dhcp_hdr, sname);
	const uint8_t *file = buf + offsetof(struct dhcp_hdr, file);
	int rc = parse_area(out, buf + DHCP_OPT_OFF, buf + len, true);
	if (rc < 0)
		return rc;
	/* RFC 2131 4.1 / RFC 3396: options, then file, then sname. */
	if (out->overload & 1) {
		rc = parse_area(out, file, file + sizeof(h.file), false);
		if (rc < 0)
			return rc;
	} else {
		out->file = (const char *)file;
	}
	if (out->overload & 2) {
		rc = parse_area(out, sname, sname + sizeof(h.sname), false);
		if (rc < 0)
			return rc;
	} else {
		out->sname = (const char *)sname;
	}
	if (!out->type)
		return -SB_DROP_DHCP_NO_MSG_TYPE;
	return 0;
}

const char *dhcp_msg_type_name(uint8_t type)
{
	static const char *const names[] = {
		[DHCP_DISCOVER] = "DHCPDISCOVER", [DHCP_OFFER] = "DHCPOFFER",
		[DHCP_REQUEST] = "DHCPREQUEST",	  [DHCP_DECLINE] = "DHCPDECLINE",
		[DHCP_ACK] = "DHCPACK",		  [DHCP_NAK] = "DHCPNAK",
		[DHCP_RELEASE] = "DHCPRELEASE",	  [DHCP_INFORM] = "DHCPINFORM",
	};
	if (type < DHCP_DISCOVER || type > DHCP_INFORM)
		return "unknown";
	return names[type];
}

/* ---- builder ---- */

size_t dhcp_opt_room(const struct dhcp_builder *b)
{
	/* One byte always stays free for END. */
	return b->cap - b->len - 1;
}

int dhcp_opt_put(struct dhcp_builder *b, uint8_t code, size_t len, const void *data)
{
	if (b->err)
		return b->err;
	if (len > 255 || 2 + len > dhcp_opt_room(b))
		return -SB_DROP_REPLY_TOO_BIG;
	b->buf[b->len] = code;
	b->buf[b->len + 1] = (uint8_t)len;
	if (len)
		memcpy(b->buf + b->len + 2, data, len);
	b->len += 2 + len;
	return 0;
}

int dhcp_opt_put_req(struct dhcp_builder *b, uint8_t code, size_t len, const void *data)
{
	int rc = dhcp_opt_put(b, code, len, data);

	if (rc < 0 && !b->err)
		b->err = rc;
	return rc;
}

int dhcp_opt_put_u32(struct dhcp_builder *b, uint8_t code, uint32_t v)
{
	uint8_t be[4];

	wr_be32(be, v);
	return dhcp_opt_put(b, code, 4, be);
}

int dhcp_opt_put_str(struct dhcp_builder *b, uint8_t code, const char *s)
{
	return dhcp_opt_put(b, code, strnlen(s, 255), s);
}

int dhcp_build_reply(struct dhcp_builder *b, uint8_t *out, size_t cap, const struct dhcp_msg *req,
		     const struct dhcp_reply *r)
{
	/* RFC 2131 2: without option 57 the client accepts 576 - 28 bytes. */
	size_t max = DHCP_MIN_MAX_MSG - DHCP_IP_UDP_HLEN;
	if (req->max_msg_size > DHCP_MIN_MAX_MSG)
		max = (size_t)req->max_msg_size - DHCP_IP_UDP_HLEN;
	/* Room for the echoed option 82, put back by dhcp_build_finish(). */
	size_t reserve =
		req->relay_agent.data && !r->no_relay_agent ? 2u + req->relay_agent.len : 0;

	memset(b, 0, sizeof(*b));
	if (cap < max)
		max = cap;
	if (max < DHCP_OPT_OFF + 1 + reserve + 3) {
		b->err = -SB_DROP_REPLY_TOO_BIG;
		return b->err;
	}
	b->buf = out;
	b->cap = max - reserve;
	b->relay_room = reserve;
	memset(out, 0, DHCP_OPT_OFF);

	struct dhcp_hdr *h = (struct dhcp_hdr *)out;
	/* RFC 2131 4.3.1 table 3: fields of a server's reply. */
	h->op = DHCP_BOOTREPLY;
	h->htype = req->htype;
	h->hlen = req->hlen;
	h->hops = 0;
	memcpy(out + 4, req->buf + 4, 4); /* xid */
	uint16_t flags = req->flags & DHCP_FLAG_BROADCAST;
	if (r->broadcast)
		flags |= DHCP_FLAG_BROADCAST;
	out[10] = (uint8_t)(flags >> 8);
	out[11] = (uint8_t)flags;
	wr_be32(out + 12, r->ciaddr);
	wr_be32(out + 16, r->yiaddr);
	wr_be32(out + 20, r->siaddr);
	memcpy(out + 24, req->buf + 24, 4);  /* giaddr */
	memcpy(out + 28, req->buf + 28, 16); /* chaddr */
	if (r->file && r->file[0]) {
		size_t fl = strnlen(r->file, sizeof(h->file));
		if (fl < sizeof(h->file))
			memcpy(h->file, r->file, fl);
	}
	wr_be32(out + DHCP_HDR_LEN, DHCP_MAGIC_COOKIE);
	b->len = DHCP_OPT_OFF;

	dhcp_opt_put_req(b, DHCP_OPT_MSG_TYPE, 1, &r->type);
	if (r->server_id) {
		uint8_t be[4];
		wr_be32(be, r->server_id);
		dhcp_opt_put_req(b, DHCP_OPT_SERVER_ID, 4, be);
	}
	/* RFC 6842 3: the server MUST echo the client identifier, unaltered. */
	if (req->client_id.data)
		dhcp_opt_put_req(b, DHCP_OPT_CLIENT_ID, req->client_id.len, req->client_id.data);
	return b->err;
}

int dhcp_build_finish(struct dhcp_builder *b, const struct dhcp_msg *req)
{
	if (b->err)
		return b->err;
	if (b->relay_room) {
		/* The reserved room: cap was lowered by exactly this much. */
		size_t need = b->relay_room;
		b->buf[b->len] = DHCP_OPT_RELAY_AGENT;
		b->buf[b->len + 1] = req->relay_agent.len;
		memcpy(b->buf + b->len + 2, req->relay_agent.data, req->relay_agent.len);
		b->len += need;
		b->cap += need;
	}
	b->buf[b->len++] = DHCP_OPT_END;
	/* Pad to the BOOTP minimum (some old clients and relays drop shorter). */
	if (b->len < DHCP_MIN_LEN && b->cap >= DHCP_MIN_LEN) {
		memset(b->buf + b->len, 0, DHCP_MIN_LEN - b->len);
		b->len = DHCP_MIN_LEN;
	}
	return (int)b->len;
}
