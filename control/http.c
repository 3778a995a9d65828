/* SPDX-License-Identifier: BSD-3-Clause */
/* http.c - the sendfile HTTP/1.1 boot server (see http.h); parsing is in http_parse.c. */
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
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ctl_log.h"

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
