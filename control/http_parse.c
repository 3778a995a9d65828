/* SPDX-License-Identifier: BSD-3-Clause */
/* http_parse.c - HTTP/1.1 request parsing and response heads: pure, no I/O (see http_parse.h). */
#include "http_parse.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HTTP_MAX_EMPTY_LINES 4 /* RFC 9112 2.2: ignore a few empty lines before a request */

/* RFC 9110 5.6.2 tchar */
static bool is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int fail(struct http_req *r, int status, int err)
{
	r->status = status;
	return err;
}

/* A header field name equal to the NUL-terminated want, case-insensitively. */
static bool name_is(const char *n, size_t len, const char *want)
{
	return strlen(want) == len && strncasecmp(n, want, len) == 0;
}

/* Does the comma-separated token list v[0..len) hold tok (case-insensitive)? */
static bool list_has(const char *v, size_t len, const char *tok)
{
	size_t i = 0, n = strlen(tok);

	while (i < len) {
		while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		size_t s = i;
		while (i < len && v[i] != ',' && v[i] != ' ' && v[i] != '\t')
			i++;
		if (i - s == n && strncasecmp(v + s, tok, n) == 0)
			return true;
		while (i < len && v[i] != ',')
			i++;
	}
	return false;
}

/* digits only, no overflow; -1 otherwise */
static int parse_u64(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0 || len > 19)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

/*
 * RFC 9110 14.2: "bytes=first-last", "bytes=first-" or "bytes=-suffix". Several ranges, other
 * units and invalid specs are ignored (a server MAY ignore Range): the whole body is sent.
 */
static void parse_range(const char *v, size_t len, struct http_req *r)
{
	const char *dash;
	uint64_t a, b;

	if (len < 6 || strncasecmp(v, "bytes=", 6) != 0)
		return;
	v += 6;
	len -= 6;
	while (len && (v[len - 1] == ' ' || v[len - 1] == '\t'))
		len--;
	while (len && (*v == ' ' || *v == '\t'))
		v++, len--;
	if (memchr(v, ',', len) || !(dash = memchr(v, '-', len)))
		return;
	size_t la = (size_t)(dash - v), lb = len - la - 1;
	if (la == 0) {
		if (parse_u64(dash + 1, lb, &b) < 0)
			return;
		r->range_first = HTTP_RANGE_NONE;
		r->range_last = b;
	} else {
		if (parse_u64(v, la, &a) < 0)
			return;
		if (lb == 0) {
			b = HTTP_RANGE_NONE;
		} else if (parse_u64(dash + 1, lb, &b) < 0 || b < a) {
			return; /* 14.1.1: last < first is invalid */
		}
		r->range_first = a;
		r->range_last = b;
	}
	r->range = true;
}

/* Percent-decode the path of the request target t[0..len) into r->path, the query raw. */
static int parse_target(const char *t, size_t len, struct http_req *r)
{
	size_t i = 0, o = 0;

	/* RFC 9112 3.2.2: absolute-form must be accepted; the authority is not ours to check. */
	if (len > 7 && strncasecmp(t, "http://", 7) == 0) {
		i = 7;
		while (i < len && t[i] != '/' && t[i] != '?')
			i++;
		if (i == len || t[i] != '/')
			return fail(r, 400, -EINVAL);
	}
	if (i >= len || t[i] != '/')
		return fail(r, 400, -EINVAL); /* origin-form starts with '/' (3.2.1) */
	for (; i < len && t[i] != '?'; i++) {
		unsigned char c = (unsigned char)t[i];
		if (c == '#')
			return fail(r, 400, -EINVAL); /* no fragment in a request target */
		if (c == '%') {
			int h, l;
			if (i + 2 >= len || (h = hexval((unsigned char)t[i + 1])) < 0 ||
			    (l = hexval((unsigned char)t[i + 2])) < 0)
				return fail(r, 400, -EINVAL);
			c = (unsigned char)(h << 4 | l);
			if (c == 0)
				return fail(r, 400, -EINVAL);
			i += 2;
		}
		if (o + 1 >= sizeof(r->path))
			return fail(r, 414, -EMSGSIZE);
		r->path[o++] = (char)c;
	}
	r->path[o] = '\0';
	if (i < len) {
		size_t q = len - i - 1;
		if (memchr(t + i + 1, '#', q))
			return fail(r, 400, -EINVAL);
		if (q >= sizeof(r->query))
			return fail(r, 414, -EMSGSIZE);
		memcpy(r->query, t + i + 1, q);
		r->query[q] = '\0';
	}
	return 0;
}

/* RFC 9112 3: method SP request-target SP HTTP-version */
static int parse_request_line(const char *l, size_t len, struct http_req *r)
{
	const char *sp1 = memchr(l, ' ', len), *sp2;
	int rc;

	if (!sp1 || sp1 == l)
		return fail(r, 400, -EINVAL);
	for (const char *p = l; p < sp1; p++)
		if (!is_tchar((unsigned char)*p))
			return fail(r, 400, -EINVAL);
	sp2 = memchr(sp1 + 1, ' ', len - (size_t)(sp1 + 1 - l));
	if (!sp2 || sp2 == sp1 + 1)
		return fail(r, 400, -EINVAL);
	for (const char *p = sp1 + 1; p < sp2; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return fail(r, 400, -EINVAL);
	const char *v = sp2 + 1;
	size_t vl = len - (size_t)(v - l);
	if (vl != 8 || memcmp(v, "HTTP/", 5) != 0 || v[5] < '0' || v[5] > '9' || v[6] != '.' ||
	    v[7] < '0' || v[7] > '9')
		return fail(r, 400, -EINVAL);
	if (v[5] != '1')
		return fail(r, 505, -EOPNOTSUPP);
	r->minor = v[7] == '0' ? 0 : 1; /* RFC 9110 2.5: a higher 1.x minor is served as 1.1 */
	if ((rc = parse_target(sp1 + 1, (size_t)(sp2 - sp1 - 1), r)) < 0)
		return rc;
	size_t ml = (size_t)(sp1 - l);
	if (ml == 3 && memcmp(l, "GET", 3) == 0)
		r->method = HTTP_GET;
	else if (ml == 4 && memcmp(l, "HEAD", 4) == 0)
		r->method = HTTP_HEAD;
	else
		return fail(r, 405, -EOPNOTSUPP); /* methods are case-sensitive (RFC 9110 9.1) */
	return 0;
}

struct head_state {
	unsigned hosts;
	unsigned ranges;
	bool close, keep_alive;
	const char *range;
	size_t range_len;
};

/* RFC 9112 5: field-name ":" OWS field-value OWS */
static int parse_field(const char *l, size_t len, struct http_req *r, struct head_state *st)
{
	const char *colon = memchr(l, ':', len);
	size_t nl;

	if (len && (l[0] == ' ' || l[0] == '\t'))
		return fail(r, 400, -EINVAL); /* 5.2: obsolete line folding, refused */
	if (!colon || colon == l)
		return fail(r, 400, -EINVAL);
	nl = (size_t)(colon - l);
	for (size_t i = 0; i < nl; i++)
		if (!is_tchar((unsigned char)l[i]))
			return fail(r, 400, -EINVAL); /* 5.1: no whitespace before the colon */
	const char *v = colon + 1, *end = l + len;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	size_t vl = (size_t)(end - v);
	for (size_t i = 0; i < vl; i++) {
		unsigned char c = (unsigned char)v[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return fail(r, 400, -EINVAL); /* RFC 9110 5.5 */
	}
	if (name_is(l, nl, "host")) {
		st->hosts++;
	} else if (name_is(l, nl, "connection")) {
		st->close |= list_has(v, vl, "close");
		st->keep_alive |= list_has(v, vl, "keep-alive");
	} else if (name_is(l, nl, "range")) {
		st->ranges++;
		st->range = v;
		st->range_len = vl;
	} else if (name_is(l, nl, "content-length")) {
		uint64_t n;
		if (parse_u64(v, vl, &n) < 0 || n != 0)
			return fail(r, 400, -EINVAL); /* no request bodies here */
	} else if (name_is(l, nl, "transfer-encoding")) {
		return fail(r, 400, -EINVAL);
	}
	return 0;
}

int http_parse_request(const char *buf, size_t len, struct http_req *r)
{
	struct head_state st = {0};
	size_t pos = 0;
	unsigned empty = 0;
	bool have_line = false;
	int rc;

	memset(r, 0, sizeof(*r));
	r->range_first = r->range_last = HTTP_RANGE_NONE;
	for (;;) {
		size_t scan = len - pos;
		if (pos + scan > HTTP_HEAD_MAX)
			scan = pos < HTTP_HEAD_MAX ? HTTP_HEAD_MAX - pos : 0;
		const char *nlp = memchr(buf + pos, '\n', scan);
		if (!nlp) {
			if (len < HTTP_HEAD_MAX)
				return 0;
			return fail(r, have_line ? 431 : 414, -EMSGSIZE);
		}
		size_t end = (size_t)(nlp - buf), ll = end - pos;
		if (ll && buf[end - 1] == '\r')
			ll--; /* CRLF; a bare LF is accepted too (RFC 9112 2.2) */
		const char *l = buf + pos;
		if (memchr(l, '\r', ll) || memchr(l, '\0', ll))
			return fail(r, 400, -EINVAL); /* bare CR, NUL */
		pos = end + 1;
		if (!have_line) {
			if (ll == 0) {
				if (++empty > HTTP_MAX_EMPTY_LINES)
					return fail(r, 400, -EINVAL);
				continue;
			}
			if ((rc = parse_request_line(l, ll, r)) < 0)
				return rc;
			have_line = true;
			continue;
		}
		if (ll == 0)
			break;
		if ((rc = parse_field(l, ll, r, &st)) < 0)
			return rc;
	}
	/* RFC 9112 3.2: a 1.1 request carries exactly one Host; more is an error in any version */
	if ((r->minor == 1 && st.hosts == 0) || st.hosts > 1)
		return fail(r, 400, -EINVAL);
	r->keep_alive = r->minor == 1 ? !st.close : st.keep_alive && !st.close;
	if (st.ranges == 1)
		parse_range(st.range, st.range_len, r);
	return (int)pos;
}

int http_range_apply(const struct http_req *r, uint64_t size, uint64_t *off, uint64_t *n)
{
	if (!r->range) {
		*off = 0;
		*n = size;
		return 200;
	}
	if (r->range_first == HTTP_RANGE_NONE) {
		/* 14.1.3: a suffix of 0 bytes, or any suffix of an empty body, is unsatisfiable */
		if (r->range_last == 0 || size == 0)
			return 416;
		*n = r->range_last < size ? r->range_last : size;
		*off = size - *n;
		return 206;
	}
	if (r->range_first >= size)
		return 416;
	uint64_t last = r->range_last < size - 1 ? r->range_last : size - 1;
	*off = r->range_first;
	*n = last - r->range_first + 1;
	return 206;
}

int http_query_get(const char *q, const char *key, char *out, size_t cap)
{
	size_t kl = strlen(key);

	while (*q) {
		const char *amp = strchr(q, '&'), *end = amp ? amp : q + strlen(q);
		if ((size_t)(end - q) > kl && strncmp(q, key, kl) == 0 && q[kl] == '=') {
			size_t o = 0;
			for (const char *p = q + kl + 1; p < end; p++) {
				int c = (unsigned char)*p, h, l;
				if (c == '+') {
					c = ' ';
				} else if (c == '%') {
					if (end - p < 3 || (h = hexval((unsigned char)p[1])) < 0 ||
					    (l = hexval((unsigned char)p[2])) < 0)
						return -EINVAL;
					c = h << 4 | l;
					p += 2;
				}
				if (c == 0)
					return -EINVAL;
				if (o + 1 >= cap)
					return -ENOSPC;
				out[o++] = (char)c;
			}
			if (cap == 0)
				return -ENOSPC;
			out[o] = '\0';
			return 0;
		}
		if (!amp)
			break;
		q = amp + 1;
	}
	return -ENOENT;
}

const char *http_status_text(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 206:
		return "Partial Content";
	case 400:
		return "Bad Request";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 414:
		return "URI Too Long";
	case 416:
		return "Range Not Satisfiable";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 503:
		return "Service Unavailable";
	case 505:
		return "HTTP Version Not Supported";
	default:
		return "Unknown";
	}
}
