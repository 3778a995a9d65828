/* SPDX-License-Identifier: BSD-3-Clause */
/* http.c - HTTP/1.1 request parsing (pure) and the sendfile boot server (see http.h). */
#define _GNU_SOURCE /* accept4 */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ctl_log.h"

/* ---- pure part: parsing ---- */

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

int http_build_head(char *out, size_t cap, const struct http_head *h)
{
	int n = snprintf(out, cap,
			 "HTTP/1.1 %d %s\r\nServer: stormboot\r\n%s%s%sContent-Type: %s\r\n"
			 "Content-Length: %" PRIu64 "\r\nAccept-Ranges: bytes\r\n",
			 h->status, http_status_text(h->status), h->date ? "Date: " : "",
			 h->date ? h->date : "", h->date ? "\r\n" : "",
			 h->content_type ? h->content_type : "application/octet-stream", h->length);
	if (n < 0 || (size_t)n >= cap)
		return -ENOSPC;
	size_t o = (size_t)n;
	if (h->status == 206)
		n = snprintf(out + o, cap - o,
			     "Content-Range: bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64 "\r\n",
			     h->range_off, h->range_off + h->length - 1, h->total);
	else if (h->status == 416)
		n = snprintf(out + o, cap - o, "Content-Range: bytes */%" PRIu64 "\r\n", h->total);
	else if (h->status == 405)
		n = snprintf(out + o, cap - o, "Allow: GET, HEAD\r\n");
	else if (h->status == 503)
		n = snprintf(out + o, cap - o, "Retry-After: 1\r\n");
	else
		n = 0;
	if (n < 0 || (size_t)n >= cap - o)
		return -ENOSPC;
	o += (size_t)n;
	n = snprintf(out + o, cap - o, "Connection: %s\r\n\r\n",
		     h->keep_alive ? "keep-alive" : "close");
	if (n < 0 || (size_t)n >= cap - o)
		return -ENOSPC;
	return (int)(o + (size_t)n);
}

/* ---- the server ---- */

#define HTTP_ACCEPT_BATCH 64
#define HTTP_SENDFILE_MAX (4u << 20) /* per call, so one client does not hold the loop */
#define HTTP_SWEEP_MS	  1000
#define HTTP_OUT_MAX	  1024 /* response head */

enum conn_state { CONN_READING, CONN_WRITING };

struct http_conn {
	struct http_srv *srv;
	struct http_conn *prev, *next;
	int fd;
	enum conn_state state;
	struct http_peer peer;
	uint64_t last_ms;  /* last progress */
	uint64_t start_ms; /* current request */
	char in[HTTP_HEAD_MAX];
	size_t in_len;
	/* the response being written: head (+ memory body) from out, then file bytes */
	char *out;
	size_t out_len, out_off;
	int file_fd;
	off_t file_off;
	uint64_t file_left;
	bool keep_alive;
	/* for the access-log line */
	int status;
	uint64_t body_len, sent;
	char line[200];
	char note[160];
};

struct http_srv {
	struct ev_loop *loop;
	http_route_fn *route;
	void *arg;
	int lfd;
	uint32_t ip;
	uint16_t port;
	uint32_t max_conns;
	uint32_t idle_ms;
	long long sweep_timer;
	struct http_conn *conns;
	struct http_stats st;
};

static void conn_on_event(struct ev_loop *l, int fd, void *arg, unsigned int ready);

static const char *fmt_ip(uint32_t ip, char buf[16])
{
	snprintf(buf, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff);
	return buf;
}

static void conn_close(struct http_conn *c)
{
	struct http_srv *s = c->srv;

	ev_file_del(s->loop, c->fd);
	close(c->fd);
	if (c->file_fd >= 0)
		close(c->file_fd);
	free(c->out);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->st.active--;
	free(c);
}

/* The request line as text for the log: printable ASCII only, cut at 199 bytes. */
static void log_line_of(const char *buf, size_t len, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < len && buf[i] != '\r' && buf[i] != '\n' && o + 1 < cap; i++)
		out[o++] = ((unsigned char)buf[i] < 0x20 || (unsigned char)buf[i] >= 0x7f) ? '?'
											   : buf[i];
	out[o] = '\0';
}

static void access_log(struct http_conn *c)
{
	char ip[16];

	ctl_log(LOG_INFO, "http %s:%u \"%s\" %d %" PRIu64 "/%" PRIu64 " %" PRIu64 "ms%s%s",
		fmt_ip(c->peer.ip, ip), c->peer.port, c->line, c->status, c->sent, c->body_len,
		ev_now_ms() - c->start_ms, c->note[0] ? " " : "", c->note);
}

static void count_status(struct http_srv *s, int status)
{
	if (status < 300)
		s->st.status_2xx++;
	else if (status < 500)
		s->st.status_4xx++;
	else
		s->st.status_5xx++;
	if (status == 404)
		s->st.not_found++;
}

static void http_date(char buf[40])
{
	time_t t = time(NULL);
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(buf, 40, "%a, %d %b %Y %H:%M:%S GMT", &tm))
		buf[0] = '\0';
}

/* Queue the response: head (+ body from memory) in c->out, then file bytes if any. */
static int conn_respond(struct http_conn *c, const struct http_req *req, struct http_body *b)
{
	char head[HTTP_OUT_MAX], date[40], msg[64];
	struct http_head h = {
		.status = b->status, .content_type = b->type, .keep_alive = c->keep_alive};
	const char *mem = NULL;
	uint64_t size = 0, off = 0, n = 0;

	http_date(date);
	h.date = date[0] ? date : NULL;
	if (b->status == 200) {
		size = b->fd >= 0 ? b->size : b->len;
		mem = b->fd >= 0 ? NULL : b->buf;
		h.status = req ? http_range_apply(req, size, &off, &n) : 200;
		if (h.status == 416) {
			if (b->fd >= 0)
				close(b->fd);
			b->fd = -1;
		}
	}
	if (h.status != 200 && h.status != 206) {
		/* a short text body for errors */
		if (b->fd >= 0)
			close(b->fd);
		b->fd = -1;
		snprintf(msg, sizeof(msg), "%d %s\n", h.status, http_status_text(h.status));
		mem = msg;
		off = 0;
		n = strlen(msg);
		h.content_type = "text/plain";
		h.total = size;
	}
	h.length = n;
	h.range_off = off;
	h.total = h.status == 206 || h.status == 416 ? size : h.total;
	int hl = http_build_head(head, sizeof(head), &h);
	if (hl < 0)
		return hl;
	bool body = !req || req->method != HTTP_HEAD;
	size_t ml = body && b->fd < 0 ? (size_t)n : 0;
	free(c->out);
	if (!(c->out = malloc((size_t)hl + ml + 1)))
		return -ENOMEM;
	memcpy(c->out, head, (size_t)hl);
	if (ml)
		memcpy(c->out + hl, mem + off, ml);
	c->out_len = (size_t)hl + ml;
	c->out_off = 0;
	c->file_fd = -1;
	c->file_left = 0;
	if (b->fd >= 0) {
		if (body && n) {
			c->file_fd = b->fd;
			c->file_off = (off_t)off;
			c->file_left = n;
		} else {
			close(b->fd);
		}
		b->fd = -1;
	}
	c->status = h.status;
	c->body_len = body ? n : 0;
	c->sent = 0;
	count_status(c->srv, h.status);
	c->state = CONN_WRITING;
	return 0;
}

/* Parse what is buffered; route a complete request. 1 = a response is queued, 0 = need more. */
static int conn_try_request(struct http_conn *c)
{
	struct http_srv *s = c->srv;
	struct http_req *req;
	struct http_body b = {.status = 404, .fd = -1};
	int rc;

	if (c->in_len == 0)
		return 0;
	if (!(req = malloc(sizeof(*req))))
		return -ENOMEM;
	rc = http_parse_request(c->in, c->in_len, req);
	if (rc == 0) {
		free(req);
		return 0;
	}
	s->st.requests++;
	c->start_ms = ev_now_ms();
	c->note[0] = '\0';
	log_line_of(c->in, c->in_len, c->line, sizeof(c->line));
	if (rc < 0) {
		/* framing can no longer be trusted: answer and close */
		s->st.bad_requests++;
		c->keep_alive = false;
		c->in_len = 0;
		b.status = req->status;
		rc = conn_respond(c, NULL, &b);
		free(req);
		return rc < 0 ? rc : 1;
	}
	memmove(c->in, c->in + rc, c->in_len - (size_t)rc);
	c->in_len -= (size_t)rc;
	c->keep_alive = req->keep_alive;
	s->route(s->arg, req, &c->peer, &b);
	snprintf(c->note, sizeof(c->note), "%s", b.note);
	rc = conn_respond(c, req, &b);
	free(b.buf);
	free(req);
	return rc < 0 ? rc : 1;
}

/* Write as much as the socket takes. 1 = response done, 0 = blocked, <0 = close. */
static int conn_write(struct http_conn *c)
{
	struct http_srv *s = c->srv;

	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | (c->file_left ? MSG_MORE : 0));
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			return -errno;
		}
		c->out_off += (size_t)n;
		c->last_ms = ev_now_ms();
	}
	while (c->file_left) {
		size_t want =
			c->file_left < HTTP_SENDFILE_MAX ? (size_t)c->file_left : HTTP_SENDFILE_MAX;
		ssize_t n = sendfile(c->fd, c->file_fd, &c->file_off, want);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			s->st.sendfile_errors++;
			return -errno;
		}
		if (n == 0) { /* the file shrank under us */
			s->st.sendfile_errors++;
			return -EIO;
		}
		c->file_left -= (uint64_t)n;
		c->sent += (uint64_t)n;
		s->st.bytes_sent += (uint64_t)n;
		c->last_ms = ev_now_ms();
		if (want == HTTP_SENDFILE_MAX && c->file_left)
			return 0; /* yield to the loop; EV_WRITE brings us back */
	}
	return 1;
}

/* Body bytes that came from memory count as sent once out[] is flushed. */
static void conn_finish(struct http_conn *c)
{
	if (c->file_fd < 0 && c->body_len) {
		c->sent = c->body_len;
		c->srv->st.bytes_sent += c->body_len;
	}
	access_log(c);
	if (c->file_fd >= 0)
		close(c->file_fd);
	c->file_fd = -1;
	free(c->out);
	c->out = NULL;
	c->out_len = c->out_off = 0;
	c->state = CONN_READING;
}

/* Drive the connection as far as it goes; false when it was closed. */
static bool conn_run(struct http_conn *c, bool readable)
{
	int rc;

	for (;;) {
		if (c->state == CONN_WRITING) {
			rc = conn_write(c);
			if (rc < 0) {
				snprintf(c->note + strlen(c->note),
					 sizeof(c->note) - strlen(c->note), "%saborted: %s",
					 c->note[0] ? "; " : "", strerror(-rc));
				access_log(c);
				conn_close(c);
				return false;
			}
			if (rc == 0) {
				ev_file_mask(c->srv->loop, c->fd, EV_WRITE);
				return true;
			}
			conn_finish(c);
			if (!c->keep_alive) {
				shutdown(c->fd, SHUT_WR);
				conn_close(c);
				return false;
			}
			ev_file_mask(c->srv->loop, c->fd, EV_READ);
		}
		/* CONN_READING: a pipelined request may already be buffered */
		rc = conn_try_request(c);
		if (rc < 0) {
			conn_close(c);
			return false;
		}
		if (rc == 1)
			continue;
		if (!readable)
			return true;
		if (c->in_len == sizeof(c->in)) /* parse said "more" on a full buffer: cannot be */
			return conn_close(c), false;
		ssize_t n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, 0);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			conn_close(c);
			return false;
		}
		if (n < 0)
			return true;
		c->in_len += (size_t)n;
		c->last_ms = ev_now_ms();
	}
}

static void conn_on_event(struct ev_loop *l, int fd, void *arg, unsigned int ready)
{
	struct http_conn *c = arg;

	(void)l;
	(void)fd;
	conn_run(c, (ready & EV_READ) != 0);
}

static void refuse(struct http_srv *s, int fd)
{
	char head[HTTP_OUT_MAX];
	static const char body[] = "503 Service Unavailable\n";
	struct http_head h = {
		.status = 503, .length = sizeof(body) - 1, .content_type = "text/plain"};
	int hl = http_build_head(head, sizeof(head) - sizeof(body), &h);

	if (hl > 0) {
		memcpy(head + hl, body, sizeof(body) - 1);
		(void)!send(fd, head, (size_t)hl + sizeof(body) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	}
	s->st.refused++;
	close(fd);
}

static void on_accept(struct ev_loop *l, int lfd, void *arg, unsigned int ready)
{
	struct http_srv *s = arg;
	char err[256];

	(void)ready;
	for (int i = 0; i < HTTP_ACCEPT_BATCH; i++) {
		struct sockaddr_in pa, la;
		socklen_t pl = sizeof(pa), ll = sizeof(la);
		int fd = accept4(lfd, (struct sockaddr *)&pa, &pl, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				ctl_log(LOG_WARNING, "http: accept: %s", strerror(errno));
			return;
		}
		if (s->st.active >= s->max_conns) {
			refuse(s, fd);
			continue;
		}
		struct http_conn *c = calloc(1, sizeof(*c));
		if (!c) {
			refuse(s, fd);
			continue;
		}
		c->srv = s;
		c->fd = fd;
		c->file_fd = -1;
		c->state = CONN_READING;
		c->last_ms = c->start_ms = ev_now_ms();
		c->peer.ip = ntohl(pa.sin_addr.s_addr);
		c->peer.port = ntohs(pa.sin_port);
		if (getsockname(fd, (struct sockaddr *)&la, &ll) == 0) {
			c->peer.local_ip = ntohl(la.sin_addr.s_addr);
			c->peer.local_port = ntohs(la.sin_port);
		}
		if (ev_file_add(l, fd, EV_READ, conn_on_event, c, err, sizeof(err)) < 0) {
			ctl_log(LOG_WARNING, "http: %s", err);
			free(c);
			refuse(s, fd);
			continue;
		}
		c->next = s->conns;
		if (s->conns)
			s->conns->prev = c;
		s->conns = c;
		s->st.accepted++;
		s->st.active++;
	}
}

static long sweep(struct ev_loop *l, long long id, void *arg)
{
	struct http_srv *s = arg;
	uint64_t now = ev_now_ms();

	(void)l;
	(void)id;
	for (struct http_conn *c = s->conns, *next; c; c = next) {
		next = c->next;
		if (now - c->last_ms < s->idle_ms)
			continue;
		s->st.timed_out++;
		if (c->state == CONN_WRITING) {
			snprintf(c->note + strlen(c->note), sizeof(c->note) - strlen(c->note),
				 "%saborted: idle timeout", c->note[0] ? "; " : "");
			access_log(c);
		}
		conn_close(c);
	}
	return HTTP_SWEEP_MS;
}

struct http_srv *http_srv_new(struct ev_loop *l, http_route_fn *fn, void *arg)
{
	struct http_srv *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->loop = l;
	s->route = fn;
	s->arg = arg;
	s->lfd = -1;
	s->max_conns = 256;
	s->idle_ms = 30000;
	return s;
}

static int open_listener(uint32_t ip, uint16_t port, int *out, char *err, size_t errlen)
{
	struct sockaddr_in a = {
		.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(ip)};
	char ips[16];
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), rc;

	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "http: socket: %s", strerror(errno));
		return rc;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 512) < 0) {
		rc = -errno;
		snprintf(err, errlen, "http: bind(%s:%u): %s", fmt_ip(ip, ips), port,
			 strerror(errno));
		close(fd);
		return rc;
	}
	*out = fd;
	return 0;
}

int http_srv_listen(struct http_srv *s, uint32_t ip, uint16_t port, uint32_t max_conns,
		    uint32_t idle_timeout_ms, char *err, size_t errlen)
{
	int fd = -1, rc;

	s->max_conns = max_conns ? max_conns : 1;
	s->idle_ms = idle_timeout_ms ? idle_timeout_ms : 1;
	if (s->lfd >= 0 && ip == s->ip && port == s->port)
		return 0;
	if (port) {
		rc = open_listener(ip, port, &fd, err, errlen);
		if (rc == -EADDRINUSE && s->lfd >= 0 && port == s->port) {
			/* same port, other address: free ours first, take it back on failure */
			ev_file_del(s->loop, s->lfd);
			close(s->lfd);
			s->lfd = -1;
			rc = open_listener(ip, port, &fd, err, errlen);
			if (rc < 0) {
				char e2[256];
				if (open_listener(s->ip, s->port, &s->lfd, e2, sizeof(e2)) == 0)
					ev_file_add(s->loop, s->lfd, EV_READ, on_accept, s, NULL,
						    0);
			}
		}
		if (rc < 0)
			return rc;
		if ((rc = ev_file_add(s->loop, fd, EV_READ, on_accept, s, err, errlen)) < 0) {
			close(fd);
			return rc;
		}
	}
	if (s->lfd >= 0) {
		ev_file_del(s->loop, s->lfd);
		close(s->lfd);
	}
	s->lfd = fd;
	s->ip = ip;
	s->port = port;
	if (port && !s->sweep_timer) {
		long long id = ev_timer_add(s->loop, HTTP_SWEEP_MS, sweep, s);
		s->sweep_timer = id > 0 ? id : 0;
	}
	return 0;
}

uint16_t http_srv_port(const struct http_srv *s)
{
	return s->lfd >= 0 ? s->port : 0;
}

void http_srv_get_stats(const struct http_srv *s, struct http_stats *out)
{
	*out = s->st;
}

void http_srv_free(struct http_srv *s)
{
	if (!s)
		return;
	while (s->conns)
		conn_close(s->conns);
	if (s->lfd >= 0) {
		ev_file_del(s->loop, s->lfd);
		close(s->lfd);
	}
	if (s->sweep_timer)
		ev_timer_del(s->loop, s->sweep_timer);
	free(s);
}
