/* SPDX-License-Identifier: BSD-3-Clause */
/* srv.c - the operator API socket: non-blocking connections, newline framing, replies. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "api.h"
#include "ctl_log.h"
#include "daemon.h"

#define CONN_OUT_MAX (256u << 20) /* a client that reads nothing is dropped past this */

struct api_conn {
	struct daemon *d;
	int fd;
	uint64_t id;
	struct chan_buf in, out;
	bool eof;     /* the client shut down its side */
	bool busy;    /* a reply is deferred (waiting for the dataplane) */
	bool closing; /* close when out is flushed */
	struct api_conn *next;
};

static void conn_io(struct ev_loop *l, int fd, void *arg, unsigned int ready);

static void conn_free(struct daemon *d, struct api_conn *c)
{
	for (struct api_conn **p = &d->conns; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	ev_file_del(d->loop, c->fd);
	close(c->fd);
	chan_buf_free(&c->in);
	chan_buf_free(&c->out);
	d->n_conns--;
	ctl_log(LOG_DEBUG, "api: connection #%llu closed", (unsigned long long)c->id);
	free(c);
}

static void conn_send(struct daemon *d, struct api_conn *c, char *line)
{
	if (!line) {
		line = api_reply(API_ERROR, "out of memory", NULL);
		if (!line) {
			c->closing = true;
			return;
		}
	}
	if (chan_buf_put(&c->out, line, strlen(line)) < 0 ||
	    chan_buf_pending(&c->out) > CONN_OUT_MAX)
		c->closing = true;
	free(line);
}

/* Answer every complete request in c->in, stopping at a deferred one. */
static void conn_process(struct daemon *d, struct api_conn *c)
{
	struct cmd_ctx ctx = {d, c->id};

	while (!c->busy && !c->closing) {
		const char *buf = (const char *)c->in.data + c->in.off;
		size_t len = chan_buf_pending(&c->in);
		ssize_t n = api_frame(buf, len, c->eof);
		char *reply;

		if (n == 0)
			break;
		if (n < 0) {
			char msg[128];

			snprintf(msg, sizeof(msg), "request larger than %u bytes", API_REQ_MAX);
			ctl_log(LOG_WARNING, "api: connection #%llu: %s, closing",
				(unsigned long long)c->id, msg);
			d->request_errors++;
			conn_send(d, c, api_reply(API_ERROR, msg, NULL));
			c->closing = true; /* no way to find the next request */
			break;
		}
		/* a bare "\n" between requests is not a request */
		if (!(n == 1 && buf[0] == '\n') && !(n == 2 && buf[0] == '\r')) {
			d->requests++;
			reply = api_handle(buf, (size_t)n, cmd_dispatch, &ctx);
			if (reply && strncmp(reply, "{\"result\":0,", 11) != 0 &&
			    strncmp(reply, "{\"result\":3,", 11) != 0)
				d->request_errors++;
			if (reply)
				conn_send(d, c, reply);
			else
				c->busy = true;
		}
		c->in.off += (size_t)n;
	}
	if (c->eof && !c->busy && chan_buf_pending(&c->in) == 0)
		c->closing = true;
}

/* Write what we can; close when done. Returns false if c was freed. */
static bool conn_flush(struct daemon *d, struct api_conn *c)
{
	int rc = chan_buf_flush(&c->out, c->fd);

	if (rc < 0 || (rc == 0 && c->closing)) {
		conn_free(d, c);
		return false;
	}
	ev_file_mask(d->loop, c->fd, rc > 0 ? EV_READ | EV_WRITE : EV_READ);
	return true;
}

static void conn_io(struct ev_loop *l, int fd, void *arg, unsigned int ready)
{
	struct api_conn *c = arg;
	struct daemon *d = c->d;
	if ((ready & EV_READ) && !c->eof) {
		int rc = chan_buf_fill(&c->in, fd, API_REQ_MAX + 1);

		if (rc == -EPIPE)
			c->eof = true;
		else if (rc == -ENOBUFS)
			; /* api_frame reports the oversized request */
		else if (rc < 0) {
			conn_free(d, c);
			return;
		}
		conn_process(d, c);
	} else if ((ready & EV_READ) && c->eof && chan_buf_pending(&c->out) == 0 && !c->busy) {
		conn_free(d, c);
		return;
	}
	conn_flush(d, c);
}

void api_server_reply(struct daemon *d, uint64_t conn_id, char *line)
{
	for (struct api_conn *c = d->conns; c; c = c->next) {
		if (c->id != conn_id)
			continue;
		conn_send(d, c, line);
		c->busy = false;
		conn_process(d, c);
		conn_flush(d, c);
		return;
	}
	free(line); /* the client left before the answer came */
}

static void srv_accept(struct ev_loop *l, int lfd, void *arg, unsigned int ready)
{
	struct daemon *d = arg;

	for (int k = 0; k < 64; k++) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct ucred cr = {0};
		socklen_t crlen = sizeof(cr);
		struct api_conn *c;
		char err[256];

		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				ctl_log(LOG_WARNING, "api: accept(%s): %s", d->sock_path,
					strerror(errno));
			return;
		}
		getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crlen);
		if (d->n_conns >= DAEMON_MAX_CONNS || !(c = calloc(1, sizeof(*c)))) {
			static const char busy[] =
				"{\"result\": 1, \"text\": \"too many connections\"}\n";
			ctl_log(LOG_WARNING, "api: refusing pid %ld uid %u: %zu connections open",
				(long)cr.pid, cr.uid, d->n_conns);
			(void)!write(fd, busy, sizeof(busy) - 1);
			close(fd);
			continue;
		}
		c->d = d;
		c->fd = fd;
		c->id = ++d->conn_seq;
		if (ev_file_add(l, fd, EV_READ, conn_io, c, err, sizeof(err)) < 0) {
			ctl_log(LOG_WARNING, "api: %s", err);
			close(fd);
			free(c);
			continue;
		}
		c->next = d->conns;
		d->conns = c;
		d->n_conns++;
		ctl_log(LOG_INFO, "api: connection #%llu from pid %ld uid %u gid %u",
			(unsigned long long)c->id, (long)cr.pid, cr.uid, cr.gid);
	}
}

/* mkdir -p for the socket's directory; the last level gets mode 0750. */
static int mkdir_parent(const char *path, char *err, size_t errlen)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
			snprintf(err, errlen, "mkdir(%s): %s", dir, strerror(errno));
			return -errno;
		}
		*p = '/';
	}
	if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "mkdir(%s): %s", dir, strerror(errno));
		return -errno;
	}
	return 0;
}

int api_server_listen_path(const char *path, int *out, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd, rc;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "%s: socket path longer than %zu bytes", path,
			 sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	if ((rc = mkdir_parent(path, err, errlen)) < 0)
		return rc;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket(AF_UNIX): %s", strerror(errno));
		return -errno;
	}
	/* A socket file nobody answers on is left over from a crash: replace it. */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		snprintf(err, errlen, "%s: another process is already listening there", path);
		close(fd);
		return -EADDRINUSE;
	}
	close(fd);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket(AF_UNIX): %s", strerror(errno));
		return -errno;
	}
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0660) < 0 ||
	    listen(fd, 128) < 0) {
		rc = -errno;
		snprintf(err, errlen, "bind(%s): %s", path, strerror(-rc));
		close(fd);
		return rc;
	}
	*out = fd;
	return 0;
}

int api_server_listen(struct daemon *d, char *err, size_t errlen)
{
	int rc = api_server_listen_path(d->sock_path, &d->api_lfd, err, errlen);

	if (rc < 0)
		return rc;
	return ev_file_add(d->loop, d->api_lfd, EV_READ, srv_accept, d, err, errlen);
}

void api_server_close_all(struct daemon *d)
{
	while (d->conns)
		conn_free(d, d->conns);
	if (d->api_lfd >= 0) {
		ev_file_del(d->loop, d->api_lfd);
		close(d->api_lfd);
		unlink(d->sock_path);
		d->api_lfd = -1;
	}
}
