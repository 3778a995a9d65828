/* SPDX-License-Identifier: BSD-3-Clause */
/* api_server.c - the operator API socket (see api_server.h). */
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

#include "api_server.h"
#include "chan.h"
#include "ctl_log.h"
#include "ctl_socket.h"

#define CONN_OUT_MAX (256u << 20) /* a client that reads nothing is dropped past this */

struct api_conn {
	struct api_server *s;
	int fd;
	uint64_t id;
	struct chan_buf in, out;
	unsigned int mask; /* EV_* asked of the loop */
	bool eof;	   /* the client shut down its side: never read again */
	bool busy;	   /* a reply is deferred: read nothing until it came */
	bool closing;	   /* close when out is flushed */
	bool dispatching;  /* inside the handler: a reply now is the handler's answer */
	char *early;	   /* ... kept here */
	struct ctl_peer peer;
	struct api_conn *next;
};

static void conn_free(struct api_server *s, struct api_conn *c)
{
	for (struct api_conn **p = &s->conns; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	ev_file_del(s->loop, c->fd);
	close(c->fd);
	chan_buf_free(&c->in);
	chan_buf_free(&c->out);
	free(c->early);
	s->n_conns--;
	ctl_log(LOG_DEBUG, "api: connection #%llu closed", (unsigned long long)c->id);
	free(c);
}

static void conn_send(struct api_conn *c, char *line)
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

struct dispatch_ctx {
	struct api_server *s;
	struct api_conn *c;
};

static char *dispatch_one(void *arg, enum api_command cmd, json_t *args)
{
	struct dispatch_ctx *x = arg;

	return x->s->dispatch(x->s->arg, x->c->id, cmd, args);
}

/* Answer every complete request in c->in, stopping at a deferred one. */
static void conn_process(struct api_server *s, struct api_conn *c)
{
	struct dispatch_ctx ctx = {s, c};

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
			s->request_errors++;
			conn_send(c, api_reply(API_ERROR, msg, NULL));
			c->closing = true; /* no way to find the next request */
			break;
		}
		/* a bare "\n" between requests is not a request */
		if (!(n == 1 && buf[0] == '\n') && !(n == 2 && buf[0] == '\r')) {
			s->requests++;
			c->dispatching = true;
			reply = api_handle(buf, (size_t)n, dispatch_one, &ctx);
			c->dispatching = false;
			if (!reply && c->early) { /* answered during the call after all */
				reply = c->early;
				c->early = NULL;
			}
			if (reply && strncmp(reply, "{\"result\":0,", 11) != 0 &&
			    strncmp(reply, "{\"result\":3,", 11) != 0)
				s->request_errors++;
			if (reply)
				conn_send(c, reply);
			else
				c->busy = true;
		}
		c->in.off += (size_t)n;
	}
	if (c->eof && !c->busy && chan_buf_pending(&c->in) == 0)
		c->closing = true;
}

/*
 * Write what we can and ask the loop for what the connection waits for: reading only while
 * no reply is deferred and the client may still send, writing while output is queued.
 * Returns false if c was freed.
 */
static bool conn_flush(struct api_server *s, struct api_conn *c)
{
	int rc = chan_buf_flush(&c->out, c->fd);

	if (rc < 0 || (rc == 0 && c->closing)) {
		conn_free(s, c);
		return false;
	}
	c->mask = (!c->eof && !c->busy ? EV_READ : 0) | (rc > 0 ? EV_WRITE : 0);
	ev_file_mask(s->loop, c->fd, c->mask);
	return true;
}

static void conn_io(struct ev_loop *l, int fd, void *arg, unsigned int ready)
{
	struct api_conn *c = arg;
	struct api_server *s = c->s;

	if ((ready & EV_READ) && !(c->mask & EV_READ)) {
		/* not asked for: the loop reports a hang-up or an error; the client is gone */
		conn_free(s, c);
		return;
	}
	if (ready & EV_READ) {
		int rc = chan_buf_fill(&c->in, fd, API_REQ_MAX + 1);

		if (rc == -EPIPE)
			c->eof = true;
		else if (rc == -ENOBUFS)
			; /* api_frame reports the oversized request */
		else if (rc < 0) {
			conn_free(s, c);
			return;
		}
		conn_process(s, c);
	}
	conn_flush(s, c);
}

void api_server_reply(struct api_server *s, uint64_t conn_id, char *line)
{
	for (struct api_conn *c = s->conns; c; c = c->next) {
		if (c->id != conn_id)
			continue;
		if (c->dispatching && !c->early) {
			c->early = line ? line : api_reply(API_ERROR, "out of memory", NULL);
			return;
		}
		conn_send(c, line);
		c->busy = false;
		conn_process(s, c);
		conn_flush(s, c);
		return;
	}
	free(line); /* the client left before the answer came */
}

int api_server_attach(struct api_server *s, int fd, const struct ctl_peer *p)
{
	struct api_conn *c;
	char err[256];

	if (!ctl_access_allows(&s->access, p)) {
		char why[300], *line;

		ctl_access_denial(&s->access, p, why, sizeof(why));
		s->refused++;
		ctl_log_limited(&s->refuse_log, LOG_WARNING,
				"api: refused pid %ld: %s (%llu so far)", p->pid, why,
				(unsigned long long)s->refused);
		line = api_reply(API_ERROR, why, NULL);
		ctl_refusals_add(&s->refusals, fd, line ? line : "", line ? strlen(line) : 0);
		free(line);
		return -EACCES;
	}
	if (s->n_conns >= API_SERVER_MAX_CONNS || !(c = calloc(1, sizeof(*c)))) {
		static const char busy[] = "{\"result\": 1, \"text\": \"too many connections\"}\n";
		ctl_log(LOG_WARNING, "api: refusing pid %ld uid %u: %zu connections open", p->pid,
			(unsigned)p->uid, s->n_conns);
		(void)!write(fd, busy, sizeof(busy) - 1);
		close(fd);
		return -EMFILE;
	}
	c->s = s;
	c->fd = fd;
	c->id = ++s->conn_seq;
	c->mask = EV_READ;
	c->peer = *p;
	if (ev_file_add(s->loop, fd, EV_READ, conn_io, c, err, sizeof(err)) < 0) {
		ctl_log(LOG_WARNING, "api: %s", err);
		close(fd);
		free(c);
		return -ENOMEM;
	}
	c->next = s->conns;
	s->conns = c;
	s->n_conns++;
	ctl_log(LOG_INFO, "api: connection #%llu from pid %ld uid %u gid %u",
		(unsigned long long)c->id, p->pid, (unsigned)p->uid, (unsigned)p->gid);
	return 0;
}

static void on_accept(struct ev_loop *l, int lfd, void *arg, unsigned int ready)
{
	struct api_server *s = arg;

	for (int k = 0; k < 64; k++) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct ctl_peer p;

		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				ctl_log(LOG_WARNING, "api: accept(%s): %s", s->path,
					strerror(errno));
			return;
		}
		if (ctl_peer_get(fd, &p) < 0)
			p.uid = (uid_t)-1; /* unknown credentials: refused */
		api_server_attach(s, fd, &p);
	}
}

int api_server_set_access(struct api_server *s, const struct ctl_access *a)
{
	struct ctl_access n = {0};

	if (ctl_access_copy(&n, a) < 0)
		return -ENOMEM;
	n.socket_gid = s->socket_gid;
	ctl_access_free(&s->access);
	s->access = n;
	for (struct api_conn *c = s->conns; c; c = c->next) {
		char why[300];

		if (c->closing || ctl_access_allows(&s->access, &c->peer))
			continue;
		ctl_log(LOG_WARNING, "api: connection #%llu closing: %s", (unsigned long long)c->id,
			ctl_access_denial(&s->access, &c->peer, why, sizeof(why)));
		/* not freed here (a handler of its may be running): closed by the loop once its
		 * queued replies are out */
		c->closing = true;
		c->mask = EV_WRITE;
		ev_file_mask(s->loop, c->fd, c->mask);
	}
	return 0;
}

int api_server_open(struct api_server *s, struct ev_loop *l, const char *path,
		    api_server_dispatch_fn *dispatch, void *arg, char *err, size_t errlen)
{
	int rc;

	struct stat st;

	*s = (struct api_server){.loop = l, .lfd = -1, .dispatch = dispatch, .arg = arg};
	ctl_refusals_init(&s->refusals, l);
	/* until told otherwise: root, our user and the socket's group (its file mode's) */
	snprintf(s->access.what, sizeof(s->access.what), "control.api_users/api_groups");
	s->access.self = geteuid();
	s->access.socket_group = true;
	if ((rc = ctl_socket_listen(path, &s->lfd, err, errlen)) < 0)
		return rc;
	snprintf(s->path, sizeof(s->path), "%s", path); /* fits: checked by the listen */
	s->socket_gid = stat(path, &st) == 0 ? st.st_gid : getegid();
	s->access.socket_gid = s->socket_gid;
	return ev_file_add(l, s->lfd, EV_READ, on_accept, s, err, errlen);
}

void api_server_close(struct api_server *s)
{
	while (s->conns)
		conn_free(s, s->conns);
	ctl_access_free(&s->access);
	ctl_refusals_close(&s->refusals);
	if (s->lfd >= 0) {
		ev_file_del(s->loop, s->lfd);
		close(s->lfd);
		unlink(s->path);
		s->lfd = -1;
	}
}
