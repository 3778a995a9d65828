/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * http.h - the HTTP/1.1 boot server of stormboot-control (docs/HTTP.md).
 *
 * Two parts:
 *  - pure request parsing and response-head building (http_parse_request, http_range_apply,
 *    http_query_get, http_build_head): no I/O, unit-tested in http_test.c;
 *  - the server (http_srv_*): non-blocking sockets in the daemon's epoll loop (ev.h), GET and
 *    HEAD only, bodies sent from files with sendfile(2) or from a memory buffer, keep-alive,
 *    a single byte range (RFC 9110 14), a bounded number of connections, an idle timeout,
 *    counters and one access-log line per request. What a path means is not decided here:
 *    a route callback (http_route_fn) maps each request to a body.
 *
 * HTTP runs on the kernel's TCP path beside the dataplane (the XDP program passes TCP).
 */
#ifndef SB_HTTP_H
#define SB_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ev.h"

#define HTTP_HEAD_MAX 8192 /* request line + header fields; more is refused (431) */
#define HTTP_PATH_MAX 1024 /* decoded path and raw query, each */

enum http_method {
	HTTP_GET = 1,
	HTTP_HEAD,
};

/* A parsed request head. Strings are NUL-terminated copies. */
struct http_req {
	enum http_method method;
	uint8_t minor;		  /* HTTP/1.minor, 0 or 1 */
	bool keep_alive;	  /* RFC 9112 9.3: 1.1 unless "close"; 1.0 only with "keep-alive" */
	char path[HTTP_PATH_MAX]; /* percent-decoded, without the query; starts with '/' */
	char query[HTTP_PATH_MAX]; /* raw text after '?', "" when none */
	bool range;		   /* one usable "bytes=" range was given */
	uint64_t range_first;	   /* HTTP_RANGE_NONE: suffix range ("bytes=-N") */
	uint64_t range_last;	   /* HTTP_RANGE_NONE: to the end ("bytes=N-"); suffix: N */
	int status;		   /* on a parse error: the status to answer with */
};

#define HTTP_RANGE_NONE UINT64_MAX

/*
 * Parse the request head at buf[0..len). Returns the length of the head (through the empty
 * line) when it is complete, 0 when more bytes are needed, or a negative errno with
 * req->status set to the answer: -EINVAL 400 (malformed; RFC 9112 3, 5), -EMSGSIZE 414 (path
 * or query too long) or 431 (head longer than HTTP_HEAD_MAX), -EOPNOTSUPP 405 (a method other
 * than GET/HEAD) or 505 (not HTTP/1.x). A request with a body (Content-Length > 0,
 * Transfer-Encoding) is refused with 400: GET and HEAD carry none here.
 */
int http_parse_request(const char *buf, size_t len, struct http_req *req);

/*
 * Apply the request's range to a body of size bytes (RFC 9110 14.1.2): 200 with the whole body
 * (no range, or a range the server ignores), 206 with [*off, *off + *n), or 416 when the range
 * is not satisfiable (first byte at or past the end).
 */
int http_range_apply(const struct http_req *req, uint64_t size, uint64_t *off, uint64_t *n);

/*
 * Find key in an application/x-www-form-urlencoded query ("a=1&b=2") and percent-decode its
 * value ('+' is a space) into out. 0, -ENOENT (absent), -ENOSPC (does not fit cap), -EINVAL (bad
 * escape or a NUL byte).
 */
int http_query_get(const char *query, const char *key, char *out, size_t cap);

/* Reason phrase of a status code ("Not Found"), "Unknown" for others. */
const char *http_status_text(int status);

/* What a response head says. */
struct http_head {
	int status;
	uint64_t length;	  /* Content-Length (of the range for 206) */
	uint64_t range_off;	  /* 206: first byte */
	uint64_t total;		  /* 206 and 416: size of the whole body (Content-Range) */
	const char *content_type; /* NULL: application/octet-stream */
	const char *date;	  /* IMF-fixdate for the Date field (RFC 9110 6.6.1), NULL: none */
	bool keep_alive;
};

/* Write the response head into out[0..cap). Returns its length or -ENOSPC. */
int http_build_head(char *out, size_t cap, const struct http_head *h);

/* ---- the server ---- */

/* Both ends of a connection, host byte order. */
struct http_peer {
	uint32_t ip, local_ip;
	uint16_t port, local_port;
};

/* What the route callback answers with. */
struct http_body {
	int status;	  /* 200, or an error status (the server writes a short text body) */
	int fd;		  /* regular file to send with sendfile(2), -1 none; the server closes it */
	uint64_t size;	  /* bytes of fd to send (its size) */
	char *buf;	  /* in-memory body (malloc'd, the server frees it) when fd < 0 */
	size_t len;	  /* bytes of buf */
	const char *type; /* Content-Type, NULL: application/octet-stream */
	char note[160];	  /* appended to the access-log line, may be "" */
};

/* Map req to out (preset: status 404, fd -1, buf NULL). Runs in the event loop: no blocking. */
typedef void http_route_fn(void *arg, const struct http_req *req, const struct http_peer *peer,
			   struct http_body *out);

struct http_stats {
	uint64_t accepted;  /* connections */
	uint64_t refused;   /* connections over max_conns, answered 503 */
	uint64_t timed_out; /* closed after idle_timeout_ms without progress */
	uint64_t active;    /* open now */
	uint64_t requests;  /* complete request heads, good or bad */
	uint64_t status_2xx, status_4xx, status_5xx;
	uint64_t not_found;	  /* 404 */
	uint64_t bad_requests;	  /* heads refused by the parser */
	uint64_t bytes_sent;	  /* body bytes */
	uint64_t sendfile_errors; /* a file that could not be sent to its end */
};

struct http_srv;

/* A server whose requests go to fn(arg, ...); no socket yet. NULL on ENOMEM. */
struct http_srv *http_srv_new(struct ev_loop *l, http_route_fn *fn, void *arg);

/*
 * Listen on ip:port (host order; ip 0 = every address) with these limits, or stop listening
 * when port is 0. Changing only the limits keeps the socket; a new address replaces it (open
 * connections are kept). 0, or -errno with "bind(198.18.0.1:8080): reason" in err; on failure
 * the previous socket is kept.
 */
int http_srv_listen(struct http_srv *s, uint32_t ip, uint16_t port, uint32_t max_conns,
		    uint32_t idle_timeout_ms, char *err, size_t errlen);

/* The port listened on, 0 when not listening. */
uint16_t http_srv_port(const struct http_srv *s);

void http_srv_get_stats(const struct http_srv *s, struct http_stats *out);

/* Close every connection and the listening socket, free s (NULL is fine). */
void http_srv_free(struct http_srv *s);

#endif
