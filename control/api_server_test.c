/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * api_server_test.c - the operator API server: deferred replies, a client that half-closes
 * after its request (stormbootctl) does not make the loop spin while the reply is deferred,
 * requests stay in order behind a deferred one, a reply given during dispatch, a client that
 * leaves before its deferred reply.
 */
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

#include "ctl_testing.h"
#include "api_server.h"

struct fx {
	char dir[64];
	char path[100];
	struct ev_loop *loop;
	struct api_server srv;
	uint64_t deferred_conn; /* the connection of the last deferred request */
	int deferred;
	int dispatched;
};

/* status: answered at once; stats: deferred; help: answered during the call. */
static char *dispatch(void *arg, uint64_t conn_id, enum api_command cmd, json_t *args)
{
	struct fx *f = arg;

	f->dispatched++;
	if (cmd == API_CMD_stats) {
		f->deferred++;
		f->deferred_conn = conn_id;
		return NULL;
	}
	if (cmd == API_CMD_help) {
		api_server_reply(&f->srv, conn_id, api_reply(API_OK, "during", NULL));
		return NULL;
	}
	return api_reply(API_OK, api_commands[cmd].name, NULL);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[256];

	snprintf(f->dir, sizeof(f->dir), "/tmp/api_server_test.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/run/control.sock", f->dir);
	f->loop = ev_loop_new(1024, err, sizeof(err));
	assert_non_null(f->loop);
	assert_int_equal(api_server_open(&f->srv, f->loop, f->path, dispatch, f, err, sizeof(err)),
			 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char run[160];

	api_server_close(&f->srv);
	ev_loop_free(f->loop);
	snprintf(run, sizeof(run), "%s/run", f->dir);
	rmdir(run);
	rmdir(f->dir);
	free(f);
	return 0;
}

static int client(struct fx *f, const char *req, bool half_close)
{
	return ctl_testing_connect(f->path, req, half_close);
}

/* Run the loop for about ms milliseconds; the number of turns in which a file was ready. */
static int pump(struct fx *f, int ms)
{
	uint64_t end = ev_now_ms() + (uint64_t)ms;
	int busy = 0;

	while (ev_now_ms() < end)
		if (ev_run_once(f->loop, 5) > 0)
			busy++;
	return busy;
}

/* What the client has received so far (non-blocking), appended to buf. */
static size_t drain(int fd, char *buf, size_t cap, size_t have)
{
	struct pollfd p = {fd, POLLIN, 0};

	while (poll(&p, 1, 0) == 1 && have + 1 < cap) {
		ssize_t n = read(fd, buf + have, cap - have - 1);
		if (n <= 0)
			break;
		have += (size_t)n;
	}
	buf[have] = '\0';
	return have;
}

static void test_half_closed_client_does_not_spin(void **state)
{
	struct fx *f = *state;
	int fd = client(f, "{\"command\": \"stats\"}\n", true);
	char buf[4096];
	size_t n = 0;

	pump(f, 50); /* accept, read the request and the end of the client's stream */
	assert_int_equal(f->deferred, 1);
	/* While the reply is deferred the connection wants nothing from the loop: a 300 ms wait
	 * sees no ready file (before the fix: a ready EOF in every turn, hundreds of them). */
	assert_true(pump(f, 300) <= 1);
	assert_int_equal(drain(fd, buf, sizeof(buf), 0), 0);
	api_server_reply(&f->srv, f->deferred_conn, api_reply(API_OK, "late", NULL));
	pump(f, 50);
	n = drain(fd, buf, sizeof(buf), n);
	assert_non_null(strstr(buf, "\"text\":\"late\""));
	/* answered, then closed: the client reads the end of the stream */
	assert_int_equal(read(fd, buf, sizeof(buf)), 0);
	assert_int_equal(f->srv.n_conns, 0);
	close(fd);
}

static void test_requests_stay_in_order(void **state)
{
	struct fx *f = *state;
	int fd = client(f,
			"{\"command\": \"status\"}\n{\"command\": \"stats\"}\n"
			"{\"command\": \"config-get\"}\n{\"command\": \"help\"}\n",
			false);
	char buf[4096];
	size_t n;

	pump(f, 50);
	n = drain(fd, buf, sizeof(buf), 0);
	assert_non_null(strstr(buf, "\"text\":\"status\""));
	assert_null(strstr(buf, "config-get")); /* waits behind the deferred stats */
	assert_int_equal(f->dispatched, 2);
	api_server_reply(&f->srv, f->deferred_conn, api_reply(API_OK, "stats-late", NULL));
	pump(f, 50);
	n = drain(fd, buf, sizeof(buf), n);
	char *a = strstr(buf, "stats-late"), *b = strstr(buf, "config-get"),
	     *c = strstr(buf, "\"during\"");
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	assert_true(a < b && b < c);
	assert_int_equal(f->dispatched, 4);
	/* exactly one reply per request: four lines */
	size_t lines = 0;
	for (size_t i = 0; i < n; i++)
		lines += buf[i] == '\n';
	assert_int_equal(lines, 4);
	close(fd);
	pump(f, 20);
	assert_int_equal(f->srv.n_conns, 0);
}

static void test_client_gone_before_reply(void **state)
{
	struct fx *f = *state;
	int fd = client(f, "{\"command\": \"stats\"}\n", true);

	pump(f, 50);
	assert_int_equal(f->deferred, 1);
	assert_int_equal(f->srv.n_conns, 1);
	close(fd); /* hangs up entirely: the server closes its end at once */
	pump(f, 50);
	assert_int_equal(f->srv.n_conns, 0);
	/* the late reply finds nobody and is dropped */
	api_server_reply(&f->srv, f->deferred_conn, api_reply(API_OK, "late", NULL));
	assert_int_equal(f->srv.requests, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_half_closed_client_does_not_spin, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_requests_stay_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_gone_before_reply, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
