/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * http.h - the HTTP/1.1 (and HTTPS) boot server of stormboot-control (docs/HTTP.md), on
 * GNU libmicrohttpd (Debian's libmicrohttpd, TLS through GnuTLS).
 *
 * The server runs on a thread of its own beside the daemon's event loop: it accepts, enforces
 * the connection caps (overall and per client address, refusals answered 503 and counted),
 * cuts a connection whose request head has not arrived within the header deadline (a slow
 * client cannot hold a slot), and drives libmicrohttpd, which sends file bodies with
 * sendfile(2) on plain HTTP. GET and HEAD only, a single byte range (RFC 9110 14; parsed by
 * http_parse.h, since the library does not do ranges), keep-alive, one access-log line per
 * request, counters by reason.
 *
 * What a path means is not decided here: a route callback (http_route_fn) maps each request
 * to a body. It runs on the HTTP thread while holding the event loop's lock (ev_lock()), so
 * it may read what the loop owns (config, leases, templates); it must be brief and never
 * block. It may open (not read) a file: that is all the file I/O under the lock; sending
 * happens after it, outside the lock, and nothing of HTTP runs on the loop's thread.
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
	bool tls; /* came in on the HTTPS port */
};

/* What the route callback answers with. */
struct http_body {
	int status;	  /* 200, or an error status (the server writes a short text body) */
	int fd;		  /* regular file to send (sendfile on plain HTTP), -1 none; the server
			     closes it */
	uint64_t size;	  /* bytes of fd to send (its size) */
	char *buf;	  /* in-memory body (malloc'd, the server frees it) when fd < 0 */
	size_t len;	  /* bytes of buf */
	const char *type; /* Content-Type, NULL: application/octet-stream */
	char note[160];	  /* appended to the access-log line, may be "" */
	int tag;	  /* -1 (preset): none; else given to the done callback (http_done_fn) */
};

/* Map req to out (preset: status 404, fd -1, buf NULL). See above for where it runs. */
typedef void http_route_fn(void *arg, const struct http_req *req, const struct http_peer *peer,
			   struct http_body *out);

/*
 * A response with a tag (http_body.tag >= 0) was sent to its end: bytes is the body bytes sent
 * (the range's, 0 for HEAD). Runs on the HTTP thread under ev_lock(l), like the route.
 */
typedef void http_done_fn(void *arg, int tag, uint64_t bytes);

struct http_stats {
	uint64_t accepted; /* connections handed to the server */
	uint64_t active;   /* open now */
	/* connections refused at accept (answered 503 on plain HTTP, closed on HTTPS) */
	uint64_t refused;	     /* the sum of the three below */
	uint64_t refused_conn_limit; /* max_connections open already */
	uint64_t refused_per_ip;     /* max_connections_per_ip open from that address */
	uint64_t refused_library;    /* libmicrohttpd would not take it (memory, its own caps) */
	/* connections cut */
	uint64_t header_timeouts; /* request head not complete within header_timeout_ms */
	uint64_t timed_out;	  /* nothing happened for idle_timeout_ms */
	uint64_t aborted;	  /* a response not sent to its end (client gone, write error) */
	uint64_t requests;	  /* complete request heads, good or bad */
	uint64_t status_2xx, status_4xx, status_5xx;
	uint64_t not_found;    /* 404 */
	uint64_t bad_requests; /* heads refused by the parser (ours or the library's) */
	uint64_t bytes_sent;   /* body bytes of responses sent to their end */
	uint64_t tls_requests; /* requests that came over HTTPS */
};

/* Where and how to listen. */
struct http_srv_conf {
	uint32_t ip;		  /* host order; 0 = every address */
	uint16_t port;		  /* plain HTTP, 0 = none */
	uint16_t https_port;	  /* HTTPS, 0 = none (needs tls_cert_pem and tls_key_pem) */
	uint32_t max_conns;	  /* open connections, both ports together */
	uint32_t max_per_ip;	  /* open connections from one client address */
	uint32_t idle_ms;	  /* no progress for this long: closed */
	uint32_t header_ms;	  /* a request head must be complete this long after the connection
				     starts waiting for it (accept, or the end of the last response) */
	const char *tls_cert_pem; /* PEM text (chain), NUL-terminated, copied */
	const char *tls_key_pem;
};

struct http_srv;

/* A server whose requests go to fn(arg, ...), under ev_lock(l); no socket yet. NULL: ENOMEM. */
struct http_srv *http_srv_new(struct ev_loop *l, http_route_fn *fn, void *arg);

/* Call fn(arg, ...) for each tagged response sent to its end (set before http_srv_start). */
void http_srv_set_done(struct http_srv *s, http_done_fn *fn);

/*
 * Listen as c says (nothing when both ports are 0). An unchanged conf keeps everything; a
 * changed one replaces the listeners (open connections of the old ones are closed). 0, or
 * -errno with "bind(198.18.0.1:8080): reason" (or the TLS library's) in err; on failure the
 * previous listeners are kept. Called from the loop's thread, with its lock held.
 */
int http_srv_configure(struct http_srv *s, const struct http_srv_conf *c, char *err, size_t errlen);

/* Start serving (the thread): once, after the daemon forked. Later configures restart it. */
int http_srv_start(struct http_srv *s, char *err, size_t errlen);

/* The ports listened on, 0 when not listening. */
uint16_t http_srv_port(const struct http_srv *s);
uint16_t http_srv_https_port(const struct http_srv *s);

void http_srv_get_stats(const struct http_srv *s, struct http_stats *out);

/* Stop the thread, close every connection and listener, free s (NULL is fine). */
void http_srv_free(struct http_srv *s);

#endif
