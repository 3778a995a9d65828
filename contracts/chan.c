/* SPDX-License-Identifier: BSD-3-Clause */
/* chan.c - control <-> dataplane channel: framing, byte queues, non-blocking client. */
#include "chan.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define CHAN_READ_CHUNK	 65536
#define CHAN_BACKOFF_MIN 100
#define CHAN_BACKOFF_MAX 5000

const char *chan_type_name(uint16_t type)
{
	static const char *const names[CHAN_MSG__COUNT] = {
		[CHAN_MSG_HELLO] = "hello",
		[CHAN_MSG_CONFIG_SNAPSHOT] = "config-snapshot",
		[CHAN_MSG_LEASES_SNAPSHOT] = "leases-snapshot",
		[CHAN_MSG_LEASE_EVENT] = "lease-event",
		[CHAN_MSG_STATS_REQUEST] = "stats-request",
		[CHAN_MSG_SESSIONS_REQUEST] = "sessions-request",
		[CHAN_MSG_LATENCY_REQUEST] = "latency-request",
		[CHAN_MSG_LEASE_REVOKE] = "lease-revoke",
		[CHAN_MSG_TIMELINE] = "timeline",
		[CHAN_MSG_IMAGES_REQUEST] = "images-request",
		[CHAN_MSG_BUCKETS] = "buckets",
		[CHAN_MSG_TOKEN_KEYS] = "token-keys",
	};

	if (type == CHAN_MSG_LEASE_DURABLE)
		return "lease-durable";
	if (type == CHAN_EV_CONNECTED)
		return "connected";
	if (type == CHAN_EV_DISCONNECTED)
		return "disconnected";
	if (type & CHAN_REPLY) {
		type &= (uint16_t)~CHAN_REPLY;
		if (type < CHAN_MSG__COUNT && names[type])
			return "reply";
		return "unknown";
	}
	if (type < CHAN_MSG__COUNT && names[type])
		return names[type];
	return "unknown";
}

ssize_t chan_frame_encode(void *buf, size_t cap, uint16_t type, uint32_t id, int32_t status,
			  const void *payload, size_t len)
{
	struct chan_hdr h = {
		.magic = CHAN_MAGIC,
		.version = CHAN_VERSION,
		.type = type,
		.id = id,
		.status = status,
		.len = (uint32_t)len,
	};

	if (len > CHAN_MSG_MAX)
		return -EMSGSIZE;
	if (!buf || cap < sizeof(h) || cap - sizeof(h) < len)
		return -ENOSPC;
	memcpy(buf, &h, sizeof(h));
	if (len)
		memcpy((uint8_t *)buf + sizeof(h), payload, len);
	return (ssize_t)(sizeof(h) + len);
}

ssize_t chan_frame_decode(const void *buf, size_t len, size_t max_payload, struct chan_hdr *h,
			  const void **payload)
{
	if (max_payload == 0 || max_payload > CHAN_MSG_MAX)
		max_payload = CHAN_MSG_MAX;
	if (len < sizeof(*h))
		return 0;
	memcpy(h, buf, sizeof(*h));
	if (h->magic != CHAN_MAGIC || h->reserved != 0)
		return -EBADMSG;
	if (h->version != CHAN_VERSION)
		return -EPROTONOSUPPORT;
	if (h->len > max_payload)
		return -EMSGSIZE;
	if (len - sizeof(*h) < h->len)
		return 0;
	*payload = (const uint8_t *)buf + sizeof(*h);
	return (ssize_t)(sizeof(*h) + h->len);
}

/* ---- byte queues ---- */

static int buf_reserve(struct chan_buf *b, size_t more)
{
	if (b->off && b->off == b->len)
		b->off = b->len = 0;
	if (b->cap - b->len >= more)
		return 0;
	if (b->off) { /* compact first */
		memmove(b->data, b->data + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
		if (b->cap - b->len >= more)
			return 0;
	}
	size_t ncap = b->cap ? b->cap : 4096;
	while (ncap - b->len < more) {
		if (ncap > SIZE_MAX / 2)
			return -ENOMEM;
		ncap *= 2;
	}
	uint8_t *n = realloc(b->data, ncap);
	if (!n)
		return -ENOMEM;
	b->data = n;
	b->cap = ncap;
	return 0;
}

int chan_buf_put_frame(struct chan_buf *b, uint16_t type, uint32_t id, int32_t status,
		       const void *payload, size_t len)
{
	ssize_t n;
	int rc;

	if (len > CHAN_MSG_MAX)
		return -EMSGSIZE;
	if ((rc = buf_reserve(b, sizeof(struct chan_hdr) + len)) < 0)
		return rc;
	n = chan_frame_encode(b->data + b->len, b->cap - b->len, type, id, status, payload, len);
	if (n < 0)
		return (int)n;
	b->len += (size_t)n;
	return 0;
}

int chan_buf_put(struct chan_buf *b, const void *data, size_t len)
{
	int rc = buf_reserve(b, len);

	if (rc < 0)
		return rc;
	memcpy(b->data + b->len, data, len);
	b->len += len;
	return 0;
}

int chan_buf_flush(struct chan_buf *b, int fd)
{
	while (b->off < b->len) {
		ssize_t n = send(fd, b->data + b->off, b->len - b->off, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 1;
			return -errno;
		}
		b->off += (size_t)n;
	}
	b->off = b->len = 0;
	return 0;
}

int chan_buf_fill(struct chan_buf *b, int fd, size_t max)
{
	int got = 0;

	for (;;) {
		if (b->len - b->off >= max)
			return got ? 1 : -ENOBUFS;
		if (buf_reserve(b, CHAN_READ_CHUNK) < 0)
			return -ENOMEM;
		size_t room = b->cap - b->len;
		if (room > max - (b->len - b->off))
			room = max - (b->len - b->off);
		ssize_t n = recv(fd, b->data + b->len, room, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return got;
			return -errno;
		}
		if (n == 0)
			return got ? 1 : -EPIPE;
		b->len += (size_t)n;
		got = 1;
		if ((size_t)n < room)
			return 1;
	}
}

size_t chan_buf_pending(const struct chan_buf *b)
{
	return b->len - b->off;
}

void chan_buf_reset(struct chan_buf *b)
{
	b->off = b->len = 0;
}

void chan_buf_free(struct chan_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

/* ---- client (dataplane side) ---- */

struct chan_client {
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *hello;
	int fd;
	bool connected;
	bool report_disconnect; /* CHAN_EV_DISCONNECTED still to be returned */
	bool report_connect;
	uint32_t next_id;
	uint64_t retry_at;
	uint32_t backoff;
	size_t consumed; /* frame returned by the last poll, consumed on the next */
	struct chan_buf out, in;
};

struct chan_client *chan_client_new(const char *path, const char *hello_json)
{
	struct chan_client *c = calloc(1, sizeof(*c));
	char pid[64];

	if (!c)
		return NULL;
	snprintf(c->path, sizeof(c->path), "%s", path ? path : CHAN_DEFAULT_PATH);
	if (!hello_json) {
		snprintf(pid, sizeof(pid), "{\"pid\": %ld}", (long)getpid());
		hello_json = pid;
	}
	c->hello = strdup(hello_json);
	if (!c->hello) {
		free(c);
		return NULL;
	}
	c->fd = -1;
	c->next_id = 1;
	c->backoff = CHAN_BACKOFF_MIN;
	return c;
}

static void client_drop(struct chan_client *c, uint64_t now_ms)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	if (c->connected)
		c->report_disconnect = true;
	c->connected = false;
	c->report_connect = false;
	c->consumed = 0;
	chan_buf_reset(&c->out);
	chan_buf_reset(&c->in);
	c->retry_at = now_ms + c->backoff;
	c->backoff = c->backoff * 2 > CHAN_BACKOFF_MAX ? CHAN_BACKOFF_MAX : c->backoff * 2;
}

void chan_client_free(struct chan_client *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	chan_buf_free(&c->out);
	chan_buf_free(&c->in);
	free(c->hello);
	free(c);
}

static void client_connect(struct chan_client *c, uint64_t now_ms)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	if (now_ms < c->retry_at)
		return;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", c->path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		client_drop(c, now_ms);
		return;
	}
	/* A Unix stream connect completes at once or fails (EAGAIN: backlog full). */
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		client_drop(c, now_ms);
		return;
	}
	c->connected = true;
	c->report_connect = true;
	c->backoff = CHAN_BACKOFF_MIN;
	if (chan_buf_put_frame(&c->out, CHAN_MSG_HELLO, c->next_id++, 0, c->hello,
			       strlen(c->hello)) < 0)
		client_drop(c, now_ms);
}

static void ev_msg(struct chan_msg *out, uint16_t type)
{
	memset(out, 0, sizeof(*out));
	out->hdr.type = type;
}

int chan_client_poll(struct chan_client *c, uint64_t now_ms, struct chan_msg *out)
{
	const void *payload;
	ssize_t n;
	int rc;

	if (c->consumed) {
		c->in.off += c->consumed;
		c->consumed = 0;
	}
	if (c->report_disconnect) {
		c->report_disconnect = false;
		ev_msg(out, CHAN_EV_DISCONNECTED);
		return 1;
	}
	if (!c->connected)
		client_connect(c, now_ms);
	if (!c->connected)
		return 0;
	if (c->report_connect) {
		c->report_connect = false;
		ev_msg(out, CHAN_EV_CONNECTED);
		return 1;
	}
	if (chan_buf_flush(&c->out, c->fd) < 0)
		goto lost;
	n = chan_frame_decode(c->in.data + c->in.off, chan_buf_pending(&c->in), 0, &out->hdr,
			      &payload);
	if (n == 0) {
		rc = chan_buf_fill(&c->in, c->fd, sizeof(struct chan_hdr) + CHAN_MSG_MAX);
		if (rc < 0)
			goto lost;
		n = chan_frame_decode(c->in.data + c->in.off, chan_buf_pending(&c->in), 0,
				      &out->hdr, &payload);
	}
	if (n < 0)
		goto lost; /* a peer that breaks the framing: start over */
	if (n == 0)
		return 0;
	out->payload = payload;
	c->consumed = (size_t)n;
	return 1;
lost:
	client_drop(c, now_ms);
	c->report_disconnect = false;
	ev_msg(out, CHAN_EV_DISCONNECTED);
	return 1;
}

int chan_client_request(struct chan_client *c, uint16_t type, const void *payload, size_t len,
			uint32_t *id_out)
{
	uint32_t id;
	int rc;

	if (!c->connected)
		return -ENOTCONN;
	id = c->next_id++;
	if (c->next_id == 0)
		c->next_id = 1;
	rc = chan_buf_put_frame(&c->out, type, id, 0, payload, len);
	if (rc == 0 && id_out)
		*id_out = id;
	if (rc == 0)
		(void)chan_buf_flush(&c->out, c->fd); /* errors surface on the next poll */
	return rc;
}

int chan_client_reply(struct chan_client *c, uint16_t req_type, uint32_t for_id, int32_t status,
		      const void *payload, size_t len)
{
	int rc;

	if (!c->connected)
		return -ENOTCONN;
	rc = chan_buf_put_frame(&c->out, (uint16_t)(req_type | CHAN_REPLY), for_id, status,
				payload, len);
	if (rc == 0)
		(void)chan_buf_flush(&c->out, c->fd);
	return rc;
}

bool chan_client_connected(const struct chan_client *c)
{
	return c->connected;
}

int chan_client_fd(const struct chan_client *c)
{
	return c->connected ? c->fd : -1;
}

size_t chan_client_pending(const struct chan_client *c)
{
	return chan_buf_pending(&c->out);
}
