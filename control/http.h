/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * http.h - the HTTP/1.1 boot server of stormboot-control (docs/HTTP.md).
 *
 * The server (http_srv_*): non-blocking sockets in the daemon's epoll loop (ev.h), GET and
 * HEAD only, bodies sent from files with sendfile(2) or from a memory buffer, keep-alive, a
 * single byte range (RFC 9110 14), a bounded number of connections, an idle timeout, counters
 * and one access-log line per request. What a path means is not decided here: a route
 * callback (http_route_fn) maps each request to a body. Request parsing and response heads
 * are the pure module http_parse.h, included here.
 *
 * HTTP runs on the kernel's TCP path beside the dataplane (the XDP program passes TCP).
 */
#ifndef SB_HTTP_H
#define SB_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event_loop.h"
#include "http_parse.h"

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
