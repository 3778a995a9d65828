/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include "sb_drop.h"
#include "tftp.h"

static inline uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static inline void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* ASCII case-insensitive compare of a counted string with a lowercase literal. */
static bool str_ieq(const char *s, size_t len, const char *lit)
{
	size_t i;

	for (i = 0; i < len; i++) {
		char c = s[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (lit[i] == '\0' || c != lit[i])
			return false;
	}
	return lit[i] == '\0';
}

/* Decimal digits only, at least one; saturates at UINT64_MAX. false if not a number. */
static bool parse_u64(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			v = UINT64_MAX;
		else
			v = v * 10 + d;
	}
	*out = v;
	return true;
}

/*
 * Next NUL-terminated string at *pos; returns its length via *len, moves *pos
 * past the NUL. false if there is no NUL before end (RFC 1350 section 5:
 * filename and mode are each terminated by a zero byte).
 */
static bool next_str(const uint8_t *buf, size_t end, size_t *pos, const char **s, size_t *len)
{
	const uint8_t *nul;

	if (*pos >= end)
		return false;
	nul = memchr(buf + *pos, 0, end - *pos);
	if (!nul)
		return false;
	*s = (const char *)buf + *pos;
	*len = (size_t)(nul - (buf + *pos));
	*pos += *len + 1;
	return true;
}

int tftp_opcode(const uint8_t *buf, size_t len)
{
	if (len < 2)
		return -SB_DROP_TFTP_SHORT;
	return get_be16(buf);
}

static void apply_option(struct tftp_rrq *r, const char *name, size_t nlen, const char *val,
			 size_t vlen)
{
	uint64_t v;
	unsigned bit;

	if (str_ieq(name, nlen, "blksize"))
		bit = TFTP_OPT_BLKSIZE;
	else if (str_ieq(name, nlen, "tsize"))
		bit = TFTP_OPT_TSIZE;
	else if (str_ieq(name, nlen, "timeout"))
		bit = TFTP_OPT_TIMEOUT;
	else if (str_ieq(name, nlen, "windowsize"))
		bit = TFTP_OPT_WINDOWSIZE;
	else if (str_ieq(name, nlen, "multicast"))
		bit = TFTP_OPT_MULTICAST;
	else
		goto ignore; /* RFC 2347: unknown options are ignored */

	if (r->opts & bit)
		goto ignore; /* repeated: the first one counts */
	if (bit == TFTP_OPT_MULTICAST) {
		(void)val; /* RFC 2090: the RRQ's value is empty; whatever it holds means "yes" */
		r->opts |= bit;
		return;
	}
	if (!parse_u64(val, vlen, &v))
		goto ignore;

	switch (bit) {
	case TFTP_OPT_BLKSIZE: /* RFC 2348: 8..65464 */
		if (v < TFTP_BLKSIZE_MIN || v > TFTP_BLKSIZE_MAX)
			goto ignore;
		r->blksize = (uint16_t)v;
		break;
	case TFTP_OPT_TSIZE: /* RFC 2349: any size; 0 in a RRQ */
		r->tsize = v;
		break;
	case TFTP_OPT_TIMEOUT: /* RFC 2349: 1..255 seconds */
		if (v < TFTP_TIMEOUT_MIN || v > TFTP_TIMEOUT_MAX)
			goto ignore;
		r->timeout_s = (uint8_t)v;
		break;
	case TFTP_OPT_WINDOWSIZE: /* RFC 7440: 1..65535 */
		if (v < TFTP_WINDOWSIZE_MIN || v > TFTP_WINDOWSIZE_MAX)
			goto ignore;
		r->windowsize = (uint16_t)v;
		break;
	}
	r->opts |= bit;
	return;
ignore:
	r->n_ignored++;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

int tftp_parse_request(const uint8_t *buf, size_t len, struct tftp_rrq *out)
{
	const char *mode, *name, *val;
	size_t pos = 2, mode_len, nlen, vlen;
	int op = tftp_opcode(buf, len);

	memset(out, 0, sizeof(*out));
	if (op < 0)
		return op;
	switch (op) {
	case TFTP_OP_RRQ:
		break;
	case TFTP_OP_WRQ:
		return -SB_DROP_TFTP_WRQ; /* read-only: ERROR 2 */
	case TFTP_OP_ERROR:
		return -SB_DROP_TFTP_ERROR_RECEIVED;
	case TFTP_OP_DATA:
	case TFTP_OP_ACK:
	case TFTP_OP_OACK:
		return -SB_DROP_TFTP_UNEXPECTED_OPCODE;
	default:
		return -SB_DROP_TFTP_BAD_OPCODE;
	}

	/* RFC 1350 section 5: | 01 | filename | 0 | mode | 0 | */
	if (!next_str(buf, len, &pos, &out->filename, &out->filename_len))
		return -SB_DROP_TFTP_NO_NUL;
	if (!next_str(buf, len, &pos, &mode, &mode_len))
		return -SB_DROP_TFTP_NO_NUL;
	if (str_ieq(mode, mode_len, "octet"))
		out->mode = TFTP_MODE_OCTET;
	else if (str_ieq(mode, mode_len, "netascii"))
		out->mode = TFTP_MODE_NETASCII;
	else
		return -SB_DROP_TFTP_BAD_MODE; /* "mail" (obsolete) and anything else */

	/* RFC 2347: | opt1 | 0 | value1 | 0 | ... pairs, each NUL-terminated. */
	while (pos < len) {
		if (all_zero(buf + pos, len - pos))
			break; /* NUL padding after the last option */
		if (!next_str(buf, len, &pos, &name, &nlen))
			return -SB_DROP_TFTP_NO_NUL;
		if (pos >= len)
			return -SB_DROP_TFTP_OPTION_NO_VALUE;
		if (!next_str(buf, len, &pos, &val, &vlen))
			return -SB_DROP_TFTP_NO_NUL;
		apply_option(out, name, nlen, val, vlen);
	}
	return 0;
}

int tftp_parse_ack(const uint8_t *buf, size_t len, uint16_t *block)
{
	int op = tftp_opcode(buf, len);

	if (op < 0)
		return op;
	if (op != TFTP_OP_ACK)
		return -SB_DROP_TFTP_BAD_OPCODE;
	if (len < TFTP_HDR_LEN)
		return -SB_DROP_TFTP_SHORT; /* RFC 1350: | 04 | block # | */
	*block = get_be16(buf + 2);
	return 0;
}

int tftp_parse_error(const uint8_t *buf, size_t len, uint16_t *code, const char **msg,
		     size_t *msg_len)
{
	int op = tftp_opcode(buf, len);

	if (op < 0)
		return op;
	if (op != TFTP_OP_ERROR)
		return -SB_DROP_TFTP_BAD_OPCODE;
	if (len < TFTP_HDR_LEN)
		return -SB_DROP_TFTP_SHORT;
	*code = get_be16(buf + 2);
	*msg = (const char *)buf + TFTP_HDR_LEN;
	const uint8_t *nul = memchr(buf + TFTP_HDR_LEN, 0, len - TFTP_HDR_LEN);
	*msg_len = nul ? (size_t)(nul - (buf + TFTP_HDR_LEN)) : len - TFTP_HDR_LEN;
	return 0;
}

void tftp_negotiate(const struct tftp_rrq *rrq, uint64_t size, uint64_t netascii_size,
		    const struct sbcfg_tftp *cfg, struct tftp_params *out)
{
	uint32_t bmax = cfg->blksize_max ? cfg->blksize_max : TFTP_BLKSIZE_MAX;
	uint32_t wmax = cfg->windowsize_max ? cfg->windowsize_max : 1;

	memset(out, 0, sizeof(*out));
	out->mode = rrq->mode;
	/* RFC 1350's 512 unless the operator set another default for clients that expect it */
	out->blksize = cfg->blksize_default ? cfg->blksize_default : TFTP_BLKSIZE_DEFAULT;
	out->windowsize = 1;
	out->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : 1000;
	out->tsize = rrq->mode == TFTP_MODE_NETASCII ? netascii_size : size;

	/* RFC 2348: the server may answer with a smaller blksize; never more than the path MTU. */
	if (cfg->mtu) {
		uint32_t mtu_max = cfg->mtu > TFTP_IPV4_UDP_TFTP_HDRS + TFTP_BLKSIZE_MIN
					   ? cfg->mtu - TFTP_IPV4_UDP_TFTP_HDRS
					   : TFTP_BLKSIZE_MIN;
		if (mtu_max < bmax)
			bmax = mtu_max;
	}
	if (bmax > TFTP_BLKSIZE_MAX)
		bmax = TFTP_BLKSIZE_MAX;
	if (bmax < TFTP_BLKSIZE_MIN)
		bmax = TFTP_BLKSIZE_MIN;
	if (rrq->mode == TFTP_MODE_NETASCII && wmax > TFTP_NETASCII_WINDOW_MAX)
		wmax = TFTP_NETASCII_WINDOW_MAX;
	if (wmax > TFTP_WINDOWSIZE_GRANT_MAX)
		wmax = TFTP_WINDOWSIZE_GRANT_MAX;

	if (rrq->opts & TFTP_OPT_BLKSIZE) {
		out->blksize = (uint16_t)(rrq->blksize < bmax ? rrq->blksize : bmax);
		out->oack_opts |= TFTP_OPT_BLKSIZE;
	}
	if (rrq->opts & TFTP_OPT_TSIZE)
		out->oack_opts |= TFTP_OPT_TSIZE;
	/*
	 * RFC 2349: if accepted, the OACK must carry the client's value unchanged; a server may
	 * decline the option. A timeout that leaves no room for two resends before the session
	 * is given up (give_up_ms) is declined: a client asking for 255 s must not hold a slot
	 * for minutes. Our own timeout_ms then applies.
	 */
	if ((rrq->opts & TFTP_OPT_TIMEOUT) &&
	    (!cfg->give_up_ms || (uint64_t)rrq->timeout_s * 1000 * 3 <= cfg->give_up_ms)) {
		out->timeout_s = rrq->timeout_s;
		out->timeout_ms = (uint32_t)rrq->timeout_s * 1000;
		out->oack_opts |= TFTP_OPT_TIMEOUT;
	}
	if (rrq->opts & TFTP_OPT_WINDOWSIZE) {
		/* RFC 7440 section 3: the server may reply with a smaller windowsize. */
		out->windowsize = (uint16_t)(rrq->windowsize < wmax ? rrq->windowsize : wmax);
		out->oack_opts |= TFTP_OPT_WINDOWSIZE;
	}
}

/* Append "name\0value\0"; false if it does not fit. */
static bool put_opt(uint8_t *out, size_t cap, size_t *pos, const char *name, uint64_t v)
{
	char digits[21];
	size_t nd = 0, nlen = strlen(name);

	do {
		digits[nd++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	if (*pos + nlen + 1 + nd + 1 > cap)
		return false;
	memcpy(out + *pos, name, nlen + 1);
	*pos += nlen + 1;
	while (nd)
		out[(*pos)++] = (uint8_t)digits[--nd];
	out[(*pos)++] = 0;
	return true;
}

int tftp_build_oack(uint8_t *out, size_t cap, const struct tftp_params *p)
{
	size_t pos = 2;

	if (cap < 2)
		return -ENOSPC;
	put_be16(out, TFTP_OP_OACK); /* RFC 2347: | 06 | opt1 | 0 | value1 | 0 | ... */
	if ((p->oack_opts & TFTP_OPT_BLKSIZE) && !put_opt(out, cap, &pos, "blksize", p->blksize))
		return -ENOSPC;
	if ((p->oack_opts & TFTP_OPT_TSIZE) && !put_opt(out, cap, &pos, "tsize", p->tsize))
		return -ENOSPC;
	if ((p->oack_opts & TFTP_OPT_TIMEOUT) && !put_opt(out, cap, &pos, "timeout", p->timeout_s))
		return -ENOSPC;
	if ((p->oack_opts & TFTP_OPT_WINDOWSIZE) &&
	    !put_opt(out, cap, &pos, "windowsize", p->windowsize))
		return -ENOSPC;
	return (int)pos;
}

static const char *const error_texts[] = {
	[TFTP_ERR_UNDEF] = "Error",
	[TFTP_ERR_NOT_FOUND] = "File not found",
	[TFTP_ERR_ACCESS] = "Access violation",
	[TFTP_ERR_DISK_FULL] = "Disk full or allocation exceeded",
	[TFTP_ERR_ILLEGAL_OP] = "Illegal TFTP operation",
	[TFTP_ERR_UNKNOWN_TID] = "Unknown transfer ID",
	[TFTP_ERR_FILE_EXISTS] = "File already exists",
	[TFTP_ERR_NO_USER] = "No such user",
	[TFTP_ERR_OPTION] = "Option negotiation refused",
};

int tftp_build_error(uint8_t *out, size_t cap, uint16_t code, const char *msg)
{
	size_t mlen;

	if (cap < TFTP_HDR_LEN + 1)
		return -ENOSPC;
	if (!msg)
		msg = code < sizeof(error_texts) / sizeof(error_texts[0]) ? error_texts[code]
									  : error_texts[0];
	mlen = strlen(msg);
	if (mlen > cap - TFTP_HDR_LEN - 1)
		mlen = cap - TFTP_HDR_LEN - 1;
	put_be16(out, TFTP_OP_ERROR); /* RFC 1350: | 05 | ErrorCode | ErrMsg | 0 | */
	put_be16(out + 2, code);
	memcpy(out + TFTP_HDR_LEN, msg, mlen);
	out[TFTP_HDR_LEN + mlen] = 0;
	return (int)(TFTP_HDR_LEN + mlen + 1);
}

int tftp_build_data_hdr(uint8_t *out, size_t cap, uint16_t block)
{
	if (cap < TFTP_HDR_LEN)
		return -ENOSPC;
	put_be16(out, TFTP_OP_DATA);
	put_be16(out + 2, block);
	return TFTP_HDR_LEN;
}

bool tftp_error_for_drop(int rc, uint16_t *code, const char **msg)
{
	if (rc < 0)
		rc = -rc;
	switch (rc) {
	case SB_DROP_TFTP_NO_NUL:
	case SB_DROP_TFTP_OPTION_NO_VALUE:
		*code = TFTP_ERR_ILLEGAL_OP;
		*msg = "Malformed request";
		return true;
	case SB_DROP_TFTP_BAD_MODE:
		*code = TFTP_ERR_ILLEGAL_OP;
		*msg = "Unsupported mode (octet and netascii only)";
		return true;
	case SB_DROP_TFTP_BAD_OPCODE:
	case SB_DROP_TFTP_UNEXPECTED_OPCODE:
		*code = TFTP_ERR_ILLEGAL_OP;
		*msg = error_texts[TFTP_ERR_ILLEGAL_OP];
		return true;
	case SB_DROP_TFTP_WRQ:
		*code = TFTP_ERR_ACCESS;
		*msg = "Read-only server";
		return true;
	case SB_DROP_TFTP_BAD_PATH:
		*code = TFTP_ERR_ACCESS;
		*msg = error_texts[TFTP_ERR_ACCESS];
		return true;
	case SB_DROP_TFTP_NOT_FOUND:
		*code = TFTP_ERR_NOT_FOUND;
		*msg = error_texts[TFTP_ERR_NOT_FOUND];
		return true;
	case SB_DROP_TFTP_UNKNOWN_TID:
		*code = TFTP_ERR_UNKNOWN_TID;
		*msg = error_texts[TFTP_ERR_UNKNOWN_TID];
		return true;
	default:
		return false;
	}
}

size_t tftp_netascii_encode(const uint8_t *src, uint64_t size, struct tftp_na_pos *pos,
			    uint8_t *out, size_t cap)
{
	size_t n = 0;
	uint64_t s = pos->src;

	if (pos->half && n < cap && s < size) {
		/* second half of CR LF (for LF) or CR NUL (for CR) */
		if (out)
			out[n] = src[s] == '\n' ? '\n' : 0;
		n++;
		s++;
		pos->half = false;
	}
	while (n < cap && s < size) {
		uint8_t c = src[s];

		if (c == '\n' || c == '\r') {
			if (out)
				out[n] = '\r';
			n++;
			if (n == cap) {
				pos->half = true;
				break;
			}
			if (out)
				out[n] = c == '\n' ? '\n' : 0;
			n++;
		} else {
			if (out)
				out[n] = c;
			n++;
		}
		s++;
	}
	pos->src = s;
	return n;
}

uint64_t tftp_netascii_size(const uint8_t *src, uint64_t size)
{
	uint64_t n = size;

	for (uint64_t i = 0; i < size; i++)
		n += src[i] == '\n' || src[i] == '\r';
	return n;
}
