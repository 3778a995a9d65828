/* SPDX-License-Identifier: BSD-3-Clause */
/* chan_test.c - channel framing, byte queues and the non-blocking client. */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "chan.h"

static void test_roundtrip(void **state)
{
	static const struct {
		uint16_t type;
		uint32_t id;
		int32_t status;
		const char *payload;
	} cases[] = {
		{CHAN_MSG_HELLO, 1, 0, "{\"pid\": 1}"},
		{CHAN_MSG_CONFIG_SNAPSHOT, 7, 0, "{}"},
		{CHAN_MSG_LEASE_DURABLE, 0xffffffffu, -EADDRINUSE, "\x01\x02\x03\x04"},
		{CHAN_MSG_STATS_REQUEST, 3, 0, ""},
	};
	uint8_t buf[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t plen = strlen(cases[i].payload);
		ssize_t n = chan_frame_encode(buf, sizeof(buf), cases[i].type, cases[i].id,
					      cases[i].status, cases[i].payload, plen);
		struct chan_hdr h;
		const void *p = NULL;

		assert_int_equal(n, sizeof(struct chan_hdr) + plen);
		/* Every truncated prefix is "need more", never a frame or an error. */
		for (ssize_t k = 0; k < n; k++)
			assert_int_equal(chan_frame_decode(buf, (size_t)k, 0, &h, &p), 0);
		assert_int_equal(chan_frame_decode(buf, (size_t)n, 0, &h, &p), n);
		assert_int_equal(h.type, cases[i].type);
		assert_int_equal(h.id, cases[i].id);
		assert_int_equal(h.status, cases[i].status);
		assert_int_equal(h.len, plen);
		assert_memory_equal(p, cases[i].payload, plen);
		/* Trailing bytes of the next frame do not change the result. */
		assert_int_equal(chan_frame_decode(buf, sizeof(buf), 0, &h, &p), n);
	}
}

static void test_bad_frames(void **state)
{
	uint8_t buf[64];
	struct chan_hdr h, *hp = (struct chan_hdr *)buf;
	const void *p;

	assert_int_equal(chan_frame_encode(buf, sizeof(buf), 1, 1, 0, "abcd", 4), 28);
	hp->magic ^= 1;
	assert_int_equal(chan_frame_decode(buf, 28, 0, &h, &p), -EBADMSG);
	hp->magic ^= 1;
	hp->reserved = 1;
	assert_int_equal(chan_frame_decode(buf, 28, 0, &h, &p), -EBADMSG);
	hp->reserved = 0;
	hp->version = CHAN_VERSION + 1;
	assert_int_equal(chan_frame_decode(buf, 28, 0, &h, &p), -EPROTONOSUPPORT);
	assert_int_equal(h.version, CHAN_VERSION + 1); /* filled, to reply */
	hp->version = CHAN_VERSION;
	/* Over the receiver's cap: refused from the header alone, before the payload came. */
	assert_int_equal(chan_frame_decode(buf, sizeof(struct chan_hdr), 3, &h, &p), -EMSGSIZE);
	hp->len = CHAN_MSG_MAX + 1;
	assert_int_equal(chan_frame_decode(buf, sizeof(struct chan_hdr), 0, &h, &p), -EMSGSIZE);
	/* Encoding: too small a buffer, too large a payload. */
	assert_int_equal(chan_frame_encode(buf, 27, 1, 1, 0, "abcd", 4), -ENOSPC);
	assert_int_equal(chan_frame_encode(buf, sizeof(buf), 1, 1, 0, NULL, CHAN_MSG_MAX + 1),
			 -EMSGSIZE);
	assert_int_equal(chan_frame_encode(NULL, 0, 1, 1, 0, NULL, 0), -ENOSPC);
}

static void test_type_names(void **state)
{
	assert_string_equal(chan_type_name(CHAN_MSG_HELLO), "hello");
	assert_string_equal(chan_type_name(CHAN_MSG_LEASE_DURABLE), "lease-durable");
	assert_string_equal(chan_type_name(CHAN_MSG_LEASE_REVOKE), "lease-revoke");
	assert_string_equal(chan_type_name(CHAN_MSG_STATS_REPLY), "reply");
	assert_string_equal(chan_type_name(CHAN_EV_DISCONNECTED), "disconnected");
	assert_string_equal(chan_type_name(0), "unknown");
	assert_string_equal(chan_type_name(CHAN_MSG__COUNT), "unknown");
	assert_string_equal(chan_type_name(0xffff), "unknown");
}

/* Frames through a socketpair in pieces: the queue reassembles them. */
static void test_buf_socketpair(void **state)
{
	struct chan_buf out = {0}, in = {0};
	static char big[200000];
	int sv[2], n_frames = 0;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	memset(big, 'x', sizeof(big));
	for (uint32_t i = 0; i < 20; i++)
		assert_int_equal(chan_buf_put_frame(&out, CHAN_MSG_LEASE_EVENT, i, 0, big,
						    i % 2 ? sizeof(big) : i),
				 0);
	assert_int_equal(chan_buf_put_frame(&out, 1, 1, 0, NULL, CHAN_MSG_MAX + 1), -EMSGSIZE);
	for (int round = 0; round < 10000 && n_frames < 20; round++) {
		int rc = chan_buf_flush(&out, sv[0]);

		assert_true(rc >= 0);
		rc = chan_buf_fill(&in, sv[1], 1 << 24);
		assert_true(rc >= 0);
		for (;;) {
			struct chan_hdr h;
			const void *p;
			ssize_t n = chan_frame_decode(in.data + in.off, chan_buf_pending(&in), 0,
						      &h, &p);
			assert_true(n >= 0);
			if (n == 0)
				break;
			assert_int_equal(h.id, (uint32_t)n_frames);
			assert_int_equal(h.len, n_frames % 2 ? sizeof(big) : (size_t)n_frames);
			in.off += (size_t)n;
			n_frames++;
		}
	}
	assert_int_equal(n_frames, 20);
	assert_int_equal(chan_buf_pending(&out), 0);
	/* Past max buffered bytes the reader stops with -ENOBUFS (nothing read). */
	assert_int_equal(chan_buf_put(&in, "abc", 3), 0);
	assert_int_equal(chan_buf_fill(&in, sv[1], 2), -ENOBUFS);
	close(sv[0]);
	assert_int_equal(chan_buf_fill(&in, sv[1], 1 << 20), -EPIPE);
	close(sv[1]);
	chan_buf_free(&out);
	chan_buf_free(&in);
}

static int listen_at(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	assert_true(strlen(path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	unlink(path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 4), 0);
	return fd;
}

/* Poll c until it reports something (bounded). */
static int poll_msg(struct chan_client *c, uint64_t *now, struct chan_msg *m)
{
	for (int i = 0; i < 500; i++) {
		if (chan_client_poll(c, *now, m))
			return 1;
		usleep(2000);
		*now += 2;
	}
	return 0;
}

static void test_client(void **state)
{
	char dir[] = "/tmp/chan_test.XXXXXX", path[128];
	struct chan_msg m;
	uint64_t now = 1000;
	uint8_t buf[4096];
	struct chan_hdr h;
	const void *p;
	int lfd, fd;
	ssize_t n, got = 0;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/dp.sock", dir);
	struct chan_client *c = chan_client_new(path, "{\"pid\": 7}");
	assert_non_null(c);
	/* Nobody listens: nothing happens, no event, retried later. */
	assert_int_equal(chan_client_poll(c, now, &m), 0);
	assert_false(chan_client_connected(c));
	assert_int_equal(chan_client_request(c, CHAN_MSG_LEASE_EVENT, "x", 1, NULL), -ENOTCONN);
	assert_int_equal(chan_client_fd(c), -1);

	lfd = listen_at(path);
	now += 10000; /* past the backoff */
	assert_int_equal(poll_msg(c, &now, &m), 1);
	assert_int_equal(m.hdr.type, CHAN_EV_CONNECTED);
	assert_true(chan_client_connected(c));
	fd = accept(lfd, NULL, NULL);
	assert_true(fd >= 0);
	assert_int_equal(chan_client_poll(c, now, &m), 0); /* flushes HELLO */
	/* The server reads HELLO with the given payload. */
	while ((n = chan_frame_decode(buf, (size_t)got, 0, &h, &p)) == 0) {
		ssize_t r = read(fd, buf + got, sizeof(buf) - (size_t)got);
		assert_true(r > 0);
		got += r;
	}
	assert_true(n > 0);
	assert_int_equal(h.type, CHAN_MSG_HELLO);
	assert_memory_equal(p, "{\"pid\": 7}", h.len);
	/* A reply and a request come back as messages, in order. */
	n = chan_frame_encode(buf, sizeof(buf), CHAN_MSG_HELLO | CHAN_REPLY, h.id, 0, "{}", 2);
	assert_int_equal(write(fd, buf, (size_t)n), n);
	n = chan_frame_encode(buf, sizeof(buf), CHAN_MSG_STATS_REQUEST, 42, 0, NULL, 0);
	assert_int_equal(write(fd, buf, (size_t)n), n);
	assert_int_equal(poll_msg(c, &now, &m), 1);
	assert_int_equal(m.hdr.type, CHAN_MSG_HELLO | CHAN_REPLY);
	assert_memory_equal(m.payload, "{}", 2);
	assert_int_equal(poll_msg(c, &now, &m), 1);
	assert_int_equal(m.hdr.type, CHAN_MSG_STATS_REQUEST);
	assert_int_equal(m.hdr.id, 42);
	assert_int_equal(chan_client_reply(c, m.hdr.type, m.hdr.id, 0, "{\"a\":1}", 7), 0);
	uint32_t id = 0;
	assert_int_equal(chan_client_request(c, CHAN_MSG_LEASE_EVENT, "abcd", 4, &id), 0);
	assert_true(id > 0);
	/* The server breaks the framing: the client drops the connection and says so. */
	assert_int_equal(write(fd, "garbage-garbage-garbage-garbage", 31), 31);
	assert_int_equal(poll_msg(c, &now, &m), 1);
	assert_int_equal(m.hdr.type, CHAN_EV_DISCONNECTED);
	assert_false(chan_client_connected(c));
	close(fd);
	/* It reconnects after the backoff. */
	now += 10000;
	assert_int_equal(poll_msg(c, &now, &m), 1);
	assert_int_equal(m.hdr.type, CHAN_EV_CONNECTED);
	fd = accept(lfd, NULL, NULL);
	close(fd); /* server gone */
	close(lfd);
	assert_int_equal(poll_msg(c, &now, &m), 1);
	assert_int_equal(m.hdr.type, CHAN_EV_DISCONNECTED);
	chan_client_free(c);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),  cmocka_unit_test(test_bad_frames),
		cmocka_unit_test(test_type_names), cmocka_unit_test(test_buf_socketpair),
		cmocka_unit_test(test_client),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
