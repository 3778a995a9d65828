/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * http.c - the boot server on libmicrohttpd (see http.h).
 *
 * One thread drives everything: poll() on the listening sockets and on each libmicrohttpd
 * daemon's epoll fd, accept4() here (so that every refusal has a reason and a counter, and
 * a plain-HTTP refusal gets its 503), MHD_add_connection(), MHD_run(), and every 100 ms a
 * sweep that shuts down connections past their header deadline. libmicrohttpd runs in its
 * "external" mode: it closes sockets only inside MHD_run(), on this same thread, so the
 * sweep's shutdown(2) never hits a reused descriptor.
 */
#define _GNU_SOURCE /* accept4 */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "boot_token.h"
#include "ctl_log.h"

#define HTTP_ACCEPT_BATCH 64
#define HTTP_SWEEP_MS	  100
#define HTTP_POLL_MAX_MS  250
#define HTTP_URI_MAX	  (2 * HTTP_PATH_MAX + 2)

#define CNT(s, f)      __atomic_fetch_add(&(s)->st.f, 1, __ATOMIC_RELAXED)
#define CNT_N(s, f, n) __atomic_fetch_add(&(s)->st.f, (n), __ATOMIC_RELAXED)

struct http_listener {
	struct http_srv *srv;
	int lfd;
	uint16_t port;
	bool tls;
	struct MHD_Daemon *d;
	int epfd; /* the daemon's */
};

struct http_conn {
	struct http_srv *srv;
	struct http_conn *prev, *next;
	int fd;
	struct http_peer peer;
	uint64_t wait_since_ms; /* waiting for a request head since */
	bool got_line;		/* its request line came (URI log callback) */
	bool called;		/* the access handler was called for the current request */
	bool handled;		/* the access handler answered the current request */
	bool cut;		/* shut down by the sweep */
	/* the current request, for the access-log line */
	uint64_t start_ms;
	int status;
	uint64_t body_len;
	int tag; /* http_body.tag of the current response */
	char uri[HTTP_URI_MAX];
	char line[200];
	char note[160];
};

struct http_srv {
	struct ev_loop *loop;
	pthread_mutex_t *lock; /* the loop's (ev_lock), NULL in single-threaded tests */
	http_route_fn *route;
	http_done_fn *done;
	void *arg;
	struct http_srv_conf conf;
	char *cert, *key;
	struct http_listener ls[2]; /* [0] plain, [1] TLS; lfd -1 = unused */
	pthread_t thread;
	bool started, running;
	volatile int stop;
	int wake_fd;
	struct http_conn *conns; /* the thread's alone */
	struct http_conn *pending;
	uint64_t active;
	struct http_stats st; /* written by the thread (atomics), read by anyone */
};

static const char *fmt_ip(uint32_t ip, char buf[16])
{
	snprintf(buf, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff);
	return buf;
}

/* Printable ASCII only, cut to cap. */
static void printable(const char *in, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; in[i] && o + 1 < cap; i++)
		out[o++] =
			((unsigned char)in[i] < 0x20 || (unsigned char)in[i] >= 0x7f) ? '?' : in[i];
	out[o] = '\0';
}

/* A URI for the access log: boot tokens redacted (a token is a bearer secret until it
 * expires: boot_token_redact), printable, cut to cap. */
static void log_uri(const char *uri, char *out, size_t cap)
{
	char r[HTTP_URI_MAX];

	boot_token_redact(uri, r, sizeof(r) < cap ? sizeof(r) : cap);
	printable(r, out, cap);
}

static void access_log(struct http_conn *c, uint64_t sent)
{
	char ip[16];

	ctl_log(LOG_INFO, "http%s %s:%u \"%s\" %d %" PRIu64 "/%" PRIu64 " %" PRIu64 "ms%s%s",
		c->peer.tls ? "s" : "", fmt_ip(c->peer.ip, ip), c->peer.port, c->line, c->status,
		sent, c->body_len, ev_now_ms() - c->start_ms, c->note[0] ? " " : "", c->note);
}

static void count_status(struct http_srv *s, int status)
{
	if (status < 300)
		CNT(s, status_2xx);
	else if (status < 500)
		CNT(s, status_4xx);
	else
		CNT(s, status_5xx);
	if (status == 404)
		CNT(s, not_found);
}

/* ---- libmicrohttpd callbacks (all on the server's thread) ---- */

static void on_notify_conn(void *cls, struct MHD_Connection *mc, void **socket_context,
			   enum MHD_ConnectionNotificationCode code)
{
	struct http_srv *s = cls;
	struct http_conn *c;

	(void)mc;
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		c = s->pending;
		s->pending = NULL;
		*socket_context = c;
		if (!c)
			return;
		c->next = s->conns;
		if (s->conns)
			s->conns->prev = c;
		s->conns = c;
		s->active++;
		CNT(s, accepted);
		CNT(s, active);
		return;
	}
	if (!(c = *socket_context))
		return;
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->active--;
	__atomic_fetch_sub(&s->st.active, 1, __ATOMIC_RELAXED);
	free(c);
	*socket_context = NULL;
}

static struct http_conn *conn_of(struct MHD_Connection *mc)
{
	const union MHD_ConnectionInfo *i =
		MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return i ? i->socket_context : NULL;
}

/* The request line came: the raw URI (path and query, not unescaped). */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *mc)
{
	struct http_conn *c = conn_of(mc);

	(void)cls;
	if (!c)
		return NULL;
	snprintf(c->uri, sizeof(c->uri), "%s", uri);
	c->got_line = true;
	c->called = false;
	c->handled = false;
	c->start_ms = ev_now_ms();
	c->status = 0;
	c->body_len = 0;
	c->tag = -1;
	c->note[0] = '\0';
	log_uri(uri, c->line, sizeof(c->line));
	return c;
}

/* Keep the URI as sent: our parser decodes it (and refuses a NUL, a '..' and the like). */
static size_t unescape_none(void *cls, struct MHD_Connection *mc, char *s)
{
	(void)cls;
	(void)mc;
	return strlen(s);
}

static void on_completed(void *cls, struct MHD_Connection *mc, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct http_srv *s = cls;
	struct http_conn *c = conn_of(mc);

	*con_cls = NULL;
	if (!c)
		return;
	if (c->handled) {
		if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK) {
			CNT_N(s, bytes_sent, c->body_len);
			access_log(c, c->body_len);
			if (c->tag >= 0 && s->done && (c->status == 200 || c->status == 206)) {
				if (s->lock)
					pthread_mutex_lock(s->lock);
				s->done(s->arg, c->tag, c->body_len);
				if (s->lock)
					pthread_mutex_unlock(s->lock);
			}
		} else {
			if (toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED)
				CNT(s, timed_out);
			else
				CNT(s, aborted);
			snprintf(c->note + strlen(c->note), sizeof(c->note) - strlen(c->note),
				 "%saborted: %s", c->note[0] ? "; " : "",
				 toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED ? "idle timeout"
				 : toe == MHD_REQUEST_TERMINATED_CLIENT_ABORT  ? "client gone"
									       : "write error");
			access_log(c, 0);
		}
	} else if (c->got_line && !c->cut) {
		if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK) {
			/* the library answered an error itself (a malformed head) */
			CNT(s, requests);
			CNT(s, bad_requests);
			CNT(s, status_4xx);
			c->status = 400;
			snprintf(c->note, sizeof(c->note), "malformed request head");
			access_log(c, 0);
		} else if (toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED) {
			CNT(s, timed_out);
		}
	}
	c->called = false;
	c->handled = false;
	c->got_line = false;
	c->wait_since_ms = ev_now_ms();
}

static enum MHD_Result queue_text(struct MHD_Connection *mc, int status, uint64_t total)
{
	char msg[64], cr[48];
	int n = snprintf(msg, sizeof(msg), "%d %s\n", status, http_status_text(status));
	struct MHD_Response *r =
		MHD_create_response_from_buffer((size_t)n, msg, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result rc;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");
	if (status == 416) {
		snprintf(cr, sizeof(cr), "bytes */%" PRIu64, total);
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_RANGE, cr);
	}
	rc = MHD_queue_response(mc, (unsigned int)status, r);
	MHD_destroy_response(r);
	return rc;
}

/* Answer b (taking its fd and buf) to req, with the range applied. */
static enum MHD_Result respond(struct http_conn *c, struct MHD_Connection *mc,
			       const struct http_req *req, struct http_body *b)
{
	struct MHD_Response *r = NULL;
	uint64_t size = b->fd >= 0 ? b->size : b->len, off = 0, n = 0;
	int status = b->status;
	char cr[80];
	enum MHD_Result rc;

	if (status == 200)
		status = http_range_apply(req, size, &off, &n);
	if (status == 200 || status == 206) {
		if (b->fd >= 0) {
			r = MHD_create_response_from_fd_at_offset64(n, b->fd, off);
			if (r)
				b->fd = -1; /* the response closes it */
		} else {
			r = MHD_create_response_from_buffer((size_t)n, b->buf + off,
							    MHD_RESPMEM_MUST_COPY);
		}
		if (!r)
			status = 500;
	}
	if (b->fd >= 0)
		close(b->fd);
	b->fd = -1;
	c->status = status;
	count_status(c->srv, status);
	if (!r) {
		c->body_len = 0;
		return queue_text(mc, status, size);
	}
	c->body_len = req->method == HTTP_HEAD ? 0 : n;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				b->type ? b->type : "application/octet-stream");
	MHD_add_response_header(r, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
	if (status == 206) {
		snprintf(cr, sizeof(cr), "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, off, off + n - 1,
			 size);
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_RANGE, cr);
	}
	rc = MHD_queue_response(mc, (unsigned int)status, r);
	MHD_destroy_response(r);
	return rc;
}

/* Append "Name: value\r\n" of the request's field, if present. */
static void add_field(struct MHD_Connection *mc, const char *name, char *head, size_t cap)
{
	const char *v = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, name);
	size_t l = strlen(head);

	if (v && l < cap)
		snprintf(head + l, cap - l, "%s: %s\r\n", name, v);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *mc, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct http_srv *s = cls;
	struct http_conn *c = *con_cls ? *con_cls : conn_of(mc);
	struct http_body b = {.status = 404, .fd = -1, .tag = -1};
	struct http_req *req;
	enum MHD_Result rc;
	char *head;

	(void)url;
	(void)upload_data;
	if (!c)
		return MHD_NO;
	*con_cls = c;
	if (!c->called) {
		/* libmicrohttpd closes a connection whose response is queued in the first
		 * call for its request: answer in the second (the usual idiom) */
		c->called = true;
		return MHD_YES;
	}
	if (c->handled) { /* a body we already refused: drop it */
		*upload_data_size = 0;
		return MHD_YES;
	}
	c->handled = true;
	CNT(s, requests);
	if (c->peer.tls)
		CNT(s, tls_requests);
	snprintf(c->line, sizeof(c->line), "%s ", method);
	log_uri(c->uri, c->line + strlen(c->line), sizeof(c->line) - strlen(c->line));
	snprintf(c->line + strlen(c->line), sizeof(c->line) - strlen(c->line), " %s", version);
	/* Our parser sees the head as sent (what libmicrohttpd kept of it): method, raw URI,
	 * version, and the fields that decide our answer. */
	if (!(head = malloc(HTTP_HEAD_MAX)) || !(req = malloc(sizeof(*req)))) {
		free(head);
		return queue_text(mc, 500, 0);
	}
	int hl = snprintf(head, HTTP_HEAD_MAX, "%s %s %s\r\n", method, c->uri, version);
	int prc;
	if (hl < 0 || hl >= HTTP_HEAD_MAX - 512) {
		prc = -EMSGSIZE;
		req->status = 414;
	} else {
		add_field(mc, "Host", head, HTTP_HEAD_MAX - 3);
		add_field(mc, "Range", head, HTTP_HEAD_MAX - 3);
		add_field(mc, "Content-Length", head, HTTP_HEAD_MAX - 3);
		add_field(mc, "Transfer-Encoding", head, HTTP_HEAD_MAX - 3);
		strcat(head, "\r\n");
		prc = http_parse_request(head, strlen(head), req);
		if (prc == 0) {
			prc = -EINVAL;
			req->status = 400;
		}
	}
	free(head);
	if (prc < 0) {
		CNT(s, bad_requests);
		c->status = req->status;
		count_status(s, req->status);
		free(req);
		return queue_text(mc, c->status, 0);
	}
	if (s->lock)
		pthread_mutex_lock(s->lock);
	s->route(s->arg, req, &c->peer, &b);
	if (s->lock)
		pthread_mutex_unlock(s->lock);
	snprintf(c->note, sizeof(c->note), "%s", b.note);
	c->tag = b.tag;
	rc = respond(c, mc, req, &b);
	free(b.buf);
	free(req);
	return rc;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char raw[300], msg[300];
	size_t n;

	(void)cls;
	vsnprintf(raw, sizeof(raw), fmt, ap);
	boot_token_redact(raw, msg, sizeof(msg)); /* its messages may quote a request's URI */
	n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	ctl_log(LOG_DEBUG, "http: libmicrohttpd: %s", msg);
}

/* ---- the thread ---- */

static void refuse(struct http_srv *s, struct http_listener *L, int fd)
{
	static const char resp[] = "HTTP/1.1 503 Service Unavailable\r\n"
				   "Content-Type: text/plain\r\n"
				   "Content-Length: 24\r\n"
				   "Connection: close\r\n\r\n"
				   "503 Service Unavailable\n";

	if (!L->tls)
		(void)!send(fd, resp, sizeof(resp) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	CNT(s, refused);
	close(fd);
}

static uint32_t conns_from(const struct http_srv *s, uint32_t ip)
{
	uint32_t n = 0;

	for (const struct http_conn *c = s->conns; c; c = c->next)
		n += c->peer.ip == ip;
	return n;
}

static void accept_some(struct http_srv *s, struct http_listener *L)
{
	for (int i = 0; i < HTTP_ACCEPT_BATCH; i++) {
		struct sockaddr_in pa, la;
		socklen_t pl = sizeof(pa), ll = sizeof(la);
		int fd = accept4(L->lfd, (struct sockaddr *)&pa, &pl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		uint32_t ip;

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				ctl_log(LOG_WARNING, "http: accept: %s", strerror(errno));
			return;
		}
		ip = ntohl(pa.sin_addr.s_addr);
		if (s->active >= s->conf.max_conns) {
			CNT(s, refused_conn_limit);
			refuse(s, L, fd);
			continue;
		}
		if (conns_from(s, ip) >= s->conf.max_per_ip) {
			CNT(s, refused_per_ip);
			refuse(s, L, fd);
			continue;
		}
		struct http_conn *c = calloc(1, sizeof(*c));
		if (!c) {
			CNT(s, refused_library);
			refuse(s, L, fd);
			continue;
		}
		c->srv = s;
		c->fd = fd;
		c->peer.ip = ip;
		c->peer.port = ntohs(pa.sin_port);
		c->peer.tls = L->tls;
		if (getsockname(fd, (struct sockaddr *)&la, &ll) == 0) {
			c->peer.local_ip = ntohl(la.sin_addr.s_addr);
			c->peer.local_port = ntohs(la.sin_port);
		}
		c->wait_since_ms = c->start_ms = ev_now_ms();
		s->pending = c;
		if (MHD_add_connection(L->d, fd, (struct sockaddr *)&pa, pl) != MHD_YES) {
			/* the library closed fd */
			CNT(s, refused_library);
			CNT(s, refused);
			if (s->pending == c)
				free(c);
		}
		s->pending = NULL;
	}
}

/* Cut connections that wait too long for a request head. */
static void sweep(struct http_srv *s, uint64_t now)
{
	for (struct http_conn *c = s->conns; c; c = c->next) {
		if (c->called || c->cut)
			continue;
		uint64_t waited = now - c->wait_since_ms;
		bool head = waited >= s->conf.header_ms;
		bool idle = !c->got_line && waited >= s->conf.idle_ms;
		if (!head && !idle)
			continue;
		char ip[16];
		c->cut = true;
		if (head) {
			CNT(s, header_timeouts);
			ctl_log(LOG_DEBUG,
				"http: %s:%u: no complete request head after %" PRIu64
				" ms: closed",
				fmt_ip(c->peer.ip, ip), c->peer.port, waited);
		} else {
			CNT(s, timed_out);
		}
		shutdown(c->fd, SHUT_RDWR); /* the library sees the end and closes it */
	}
}

static void *srv_thread(void *arg)
{
	struct http_srv *s = arg;
	uint64_t last_sweep = 0;
	sigset_t pipe;

	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe, NULL);

	while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE)) {
		struct pollfd p[5];
		int n = 0, wait = HTTP_POLL_MAX_MS;

		for (int i = 0; i < 2; i++) {
			struct http_listener *L = &s->ls[i];
			MHD_UNSIGNED_LONG_LONG t;
			if (L->lfd < 0)
				continue;
			p[n++] = (struct pollfd){.fd = L->lfd, .events = POLLIN};
			p[n++] = (struct pollfd){.fd = L->epfd, .events = POLLIN};
			if (MHD_get_timeout(L->d, &t) == MHD_YES &&
			    t < (MHD_UNSIGNED_LONG_LONG)wait)
				wait = (int)t;
		}
		if (s->conns && wait > HTTP_SWEEP_MS)
			wait = HTTP_SWEEP_MS;
		p[n++] = (struct pollfd){.fd = s->wake_fd, .events = POLLIN};
		if (poll(p, (nfds_t)n, wait) < 0 && errno != EINTR) {
			ctl_log(LOG_ERR, "http: poll: %s", strerror(errno));
			break;
		}
		for (int i = 0, k = 0; i < 2; i++) {
			struct http_listener *L = &s->ls[i];
			if (L->lfd < 0)
				continue;
			if (p[k].revents & POLLIN)
				accept_some(s, L);
			k += 2;
			MHD_run(L->d);
		}
		uint64_t now = ev_now_ms();
		if (now - last_sweep >= HTTP_SWEEP_MS) {
			sweep(s, now);
			last_sweep = now;
		}
	}
	return NULL;
}

/* ---- set-up ---- */

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

static void listener_close(struct http_listener *L)
{
	if (L->d)
		MHD_stop_daemon(L->d); /* closes its connections (their notify callbacks run) */
	if (L->lfd >= 0)
		close(L->lfd);
	L->d = NULL;
	L->lfd = -1;
	L->epfd = -1;
	L->port = 0;
}

/*
 * Diffie-Hellman group for DHE key exchange: ffdhe2048 of RFC 7919 (appendix A.1), a public
 * well-known group. TLS clients without elliptic curves (Debian's OVMF, edk2 2022.11, offers
 * only DHE-RSA and RSA suites) then still get forward secrecy; without it GnuTLS can only
 * use the static RSA key exchange with them.
 */
static const char ffdhe2048_pem[] =
	"-----BEGIN DH PARAMETERS-----\n"
	"MIIBCAKCAQEA//////////+t+FRYortKmq/cViAnPTzx2LnFg84tNpWp4TZBFGQz\n"
	"+8yTnc4kmz75fS/jY2MMddj2gbICrsRhetPfHtXV/WVhJDP1H18GbtCFY2VVPe0a\n"
	"87VXE15/V8k1mE8McODmi3fipona8+/och3xWKE2rec1MKzKT0g6eXq8CrGCsyT7\n"
	"YdEIqUuyyOP7uWrat2DX9GgdT0Kj3jlN9K5W7edjcrsZCwenyO4KbXCeAvzhzffi\n"
	"7MA0BM0oNC9hkXL+nOmFg/+OTxIy7vKBg8P+OxtMb61zO7X8vC7CIAXFjvGDfRaD\n"
	"ssbzSibBsu/6iGtCOGEoXJf//////////wIBAg==\n"
	"-----END DH PARAMETERS-----\n";

static int listener_open(struct http_srv *s, struct http_listener *L, const struct http_srv_conf *c,
			 uint16_t port, bool tls, const char *cert, const char *key, char *err,
			 size_t errlen)
{
	unsigned int flags = MHD_USE_EPOLL | MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ERROR_LOG;
	int rc;

	L->srv = s;
	L->tls = tls;
	L->lfd = -1;
	if (tls)
		flags |= MHD_USE_TLS;
	if ((rc = open_listener(c->ip, port, &L->lfd, err, errlen)) < 0)
		return rc;
	/* Our own caps come first (accept_some); the library's are the backstop. The idle
	 * timeout is whole seconds there, one more than ours so that ours (the sweep) names
	 * the reason for a waiting connection; it is what ends a stalled transfer. */
	struct MHD_OptionItem opts[] = {
		{MHD_OPTION_CONNECTION_LIMIT, c->max_conns + 1, NULL},
		{MHD_OPTION_PER_IP_CONNECTION_LIMIT, c->max_per_ip + 1, NULL},
		{MHD_OPTION_CONNECTION_TIMEOUT, (c->idle_ms + 999) / 1000 + 1, NULL},
		{MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_notify_conn, s},
		{MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, s},
		{MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)on_uri, s},
		{MHD_OPTION_UNESCAPE_CALLBACK, (intptr_t)unescape_none, NULL},
		{MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)on_mhd_log, NULL},
		{MHD_OPTION_STRICT_FOR_CLIENT, 1, NULL},
		/* SIGPIPE is blocked on our thread (srv_thread): without this the library
		 * would not use sendfile(2), which cannot be told MSG_NOSIGNAL */
		{MHD_OPTION_SIGPIPE_HANDLED_BY_APP, 1, NULL},
		{tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, (void *)cert},
		{tls ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, 0, (void *)key},
		{tls ? MHD_OPTION_HTTPS_MEM_DHPARAMS : MHD_OPTION_END, 0, (void *)ffdhe2048_pem},
		{MHD_OPTION_END, 0, NULL},
	};
	L->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s, MHD_OPTION_ARRAY, opts,
				MHD_OPTION_END);
	if (!L->d) {
		char ips[16];
		snprintf(err, errlen, "http: %s:%u: libmicrohttpd would not start%s",
			 fmt_ip(c->ip, ips), port,
			 tls ? " (is tls_cert a PEM certificate and tls_key its PEM private key?)"
			     : "");
		close(L->lfd);
		L->lfd = -1;
		return -EINVAL;
	}
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(L->d, MHD_DAEMON_INFO_EPOLL_FD);
	L->epfd = di ? di->epoll_fd : -1;
	L->port = port;
	return 0;
}

struct http_srv *http_srv_new(struct ev_loop *l, http_route_fn *fn, void *arg)
{
	struct http_srv *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->loop = l;
	s->lock = ev_lock(l);
	s->route = fn;
	s->arg = arg;
	s->ls[0].lfd = s->ls[1].lfd = -1;
	s->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->wake_fd < 0) {
		free(s);
		return NULL;
	}
	return s;
}

void http_srv_set_done(struct http_srv *s, http_done_fn *fn)
{
	s->done = fn;
}

static bool str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void thread_stop(struct http_srv *s)
{
	uint64_t one = 1;

	if (!s->running)
		return;
	__atomic_store_n(&s->stop, 1, __ATOMIC_RELEASE);
	(void)!write(s->wake_fd, &one, sizeof(one));
	/* the thread may be waiting for the loop's lock, which our caller holds */
	if (s->lock)
		pthread_mutex_unlock(s->lock);
	pthread_join(s->thread, NULL);
	if (s->lock)
		pthread_mutex_lock(s->lock);
	s->running = false;
	s->stop = 0;
	uint64_t v;
	(void)!read(s->wake_fd, &v, sizeof(v));
}

static int thread_start(struct http_srv *s, char *err, size_t errlen)
{
	int rc;

	if (s->running || (s->ls[0].lfd < 0 && s->ls[1].lfd < 0))
		return 0;
	if ((rc = pthread_create(&s->thread, NULL, srv_thread, s)) != 0) {
		snprintf(err, errlen, "http: pthread_create: %s", strerror(rc));
		return -rc;
	}
	s->running = true;
	return 0;
}

int http_srv_configure(struct http_srv *s, const struct http_srv_conf *c, char *err, size_t errlen)
{
	struct http_listener nl[2] = {{.lfd = -1}, {.lfd = -1}};
	struct http_srv_conf n = *c;
	char *cert = NULL, *key = NULL;
	int rc = 0;

	n.max_conns = n.max_conns ? n.max_conns : 1;
	n.max_per_ip = n.max_per_ip ? n.max_per_ip : n.max_conns;
	n.idle_ms = n.idle_ms ? n.idle_ms : 1;
	n.header_ms = n.header_ms ? n.header_ms : 1;
	bool listening = s->ls[0].lfd >= 0 || s->ls[1].lfd >= 0;
	if (!listening && !n.port && !n.https_port)
		return 0;
	if (listening && n.ip == s->conf.ip && n.port == s->conf.port &&
	    n.https_port == s->conf.https_port && n.max_conns == s->conf.max_conns &&
	    n.max_per_ip == s->conf.max_per_ip && n.idle_ms == s->conf.idle_ms &&
	    n.header_ms == s->conf.header_ms && str_eq(n.tls_cert_pem, s->cert) &&
	    str_eq(n.tls_key_pem, s->key))
		return 0;
	if (n.https_port && (!n.tls_cert_pem || !n.tls_key_pem)) {
		snprintf(err, errlen, "http: https_port %u needs tls_cert and tls_key",
			 n.https_port);
		return -EINVAL;
	}
	if ((n.tls_cert_pem && !(cert = strdup(n.tls_cert_pem))) ||
	    (n.tls_key_pem && !(key = strdup(n.tls_key_pem)))) {
		free(cert);
		snprintf(err, errlen, "http: out of memory");
		return -ENOMEM;
	}
	bool was_running = s->running;
	thread_stop(s);
	/* Same port as now: ours must go first (no SO_REUSEPORT); taken back on failure. */
	bool same = (n.port && n.port == s->ls[0].port) ||
		    (n.https_port && n.https_port == s->ls[1].port);
	struct http_srv_conf old = s->conf;
	if (same) {
		listener_close(&s->ls[0]);
		listener_close(&s->ls[1]);
	}
	if (n.port)
		rc = listener_open(s, &nl[0], &n, n.port, false, NULL, NULL, err, errlen);
	if (rc == 0 && n.https_port)
		rc = listener_open(s, &nl[1], &n, n.https_port, true, cert, key, err, errlen);
	if (rc < 0) {
		listener_close(&nl[0]);
		listener_close(&nl[1]);
		free(cert);
		free(key);
		if (same) { /* back to what we had */
			char e2[256];
			if (old.port)
				listener_open(s, &s->ls[0], &old, old.port, false, NULL, NULL, e2,
					      sizeof(e2));
			if (old.https_port)
				listener_open(s, &s->ls[1], &old, old.https_port, true, s->cert,
					      s->key, e2, sizeof(e2));
		}
		if (was_running) {
			char e3[128];
			thread_start(s, e3, sizeof(e3));
		}
		return rc;
	}
	listener_close(&s->ls[0]);
	listener_close(&s->ls[1]);
	s->ls[0] = nl[0];
	s->ls[1] = nl[1];
	free(s->cert);
	free(s->key);
	s->cert = cert;
	s->key = key;
	s->conf = n;
	s->conf.tls_cert_pem = s->cert;
	s->conf.tls_key_pem = s->key;
	if (s->started)
		return thread_start(s, err, errlen);
	return 0;
}

int http_srv_start(struct http_srv *s, char *err, size_t errlen)
{
	s->started = true;
	return thread_start(s, err, errlen);
}

uint16_t http_srv_port(const struct http_srv *s)
{
	return s->ls[0].lfd >= 0 ? s->ls[0].port : 0;
}

uint16_t http_srv_https_port(const struct http_srv *s)
{
	return s->ls[1].lfd >= 0 ? s->ls[1].port : 0;
}

void http_srv_get_stats(const struct http_srv *s, struct http_stats *out)
{
	const uint64_t *in = (const uint64_t *)&s->st;
	uint64_t *o = (uint64_t *)out;

	for (size_t i = 0; i < sizeof(*out) / sizeof(uint64_t); i++)
		o[i] = __atomic_load_n(&in[i], __ATOMIC_RELAXED);
}

void http_srv_free(struct http_srv *s)
{
	if (!s)
		return;
	thread_stop(s);
	listener_close(&s->ls[0]);
	listener_close(&s->ls[1]);
	close(s->wake_fd);
	free(s->cert);
	free(s->key);
	free(s);
}
