/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * api_server_test.c - the operator API server: deferred replies, a client that half-closes
 * after its request (stormbootctl) does not make the loop spin while the reply is deferred,
 * requests stay in order behind a deferred one, a reply given during dispatch, a client that
 * leaves before its deferred reply. Access (ctl_access.h): peers played with socketpairs and
 * the credentials a test gives them: refused with one reply line and counted, allowed by user,
 * by primary or supplementary group, by the socket's group by default; a narrower policy
 * closes the connections it no longer allows; names and ids resolved, unknown ones named.
 */
#include <errno.h>
#include <fcntl.h>
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

/* A connection of peer p through a socketpair: the client's end, or -1 when refused. */
static int attach(struct fx *f, const struct ctl_peer *p, int *rc)
{
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
	*rc = api_server_attach(&f->srv, sv[0], p);
	return sv[1];
}

static void test_access_refused_with_a_reason(void **state)
{
	struct fx *f = *state;
	struct ctl_peer nobody = {.pid = 4321, .uid = 4242, .gid = 4242};
	char buf[1024];
	int rc, fd;
	ssize_t n;

	assert_true(f->srv.access.socket_group); /* the default: root, us, the socket's group */
	fd = attach(f, &nobody, &rc);
	assert_int_equal(rc, -EACCES);
	n = read(fd, buf, sizeof(buf) - 1);
	assert_true(n > 0);
	buf[n] = '\0';
	/* one JSON reply line, then the end of the stream */
	assert_non_null(strstr(buf, "{\"result\":1,\"text\":\"access denied for uid 4242 ("));
	assert_non_null(strstr(buf, "not in the socket's group"));
	assert_non_null(strstr(buf, "control.api_users/api_groups"));
	assert_int_equal(buf[n - 1], '\n');
	assert_int_equal(read(fd, buf, sizeof(buf)), 0);
	close(fd);
	assert_int_equal(f->srv.refused, 1);
	assert_int_equal(f->srv.n_conns, 0);
	assert_int_equal(f->dispatched, 0);
	/* unknown credentials are refused too */
	struct ctl_peer unknown = {.uid = (uid_t)-1, .gid = (gid_t)-1};
	fd = attach(f, &unknown, &rc);
	assert_int_equal(rc, -EACCES);
	close(fd);
	assert_int_equal(f->srv.refused, 2);
	/* the socket's group lets its members in */
	struct ctl_peer member = {.pid = 4321, .uid = 4242, .gid = f->srv.socket_gid};
	fd = attach(f, &member, &rc);
	assert_int_equal(rc, 0);
	close(fd);
	pump(f, 20);
}

static void test_access_lists(void **state)
{
	struct fx *f = *state;
	uid_t users[] = {4242};
	gid_t groups[] = {777};
	struct ctl_access a = {.what = "control.api_users/api_groups",
			       .self = geteuid(),
			       .users = users,
			       .n_users = 1,
			       .groups = groups,
			       .n_groups = 1};
	struct ctl_peer alice = {.pid = 1, .uid = 4242, .gid = 100};
	struct ctl_peer bob = {
		.pid = 1, .uid = 4243, .gid = 100, .groups = {5, 777}, .n_groups = 2};
	struct ctl_peer carol = {.pid = 1, .uid = 4244, .gid = 777};
	struct ctl_peer dave = {.pid = 1, .uid = 4245, .gid = f->srv.socket_gid};
	struct ctl_peer root = {.pid = 1, .uid = 0, .gid = 0};
	char buf[4096];
	int rc, fa, fb;

	assert_int_equal(api_server_set_access(&f->srv, &a), 0);
	fa = attach(f, &alice, &rc); /* by user */
	assert_int_equal(rc, 0);
	assert_int_equal(write(fa, "{\"command\": \"status\"}\n", 22), 22);
	pump(f, 20);
	assert_non_null(strstr((drain(fa, buf, sizeof(buf), 0), buf), "\"text\":\"status\""));
	fb = attach(f, &bob, &rc); /* by a supplementary group */
	assert_int_equal(rc, 0);
	close(attach(f, &carol, &rc)); /* by the primary group */
	assert_int_equal(rc, 0);
	close(attach(f, &root, &rc)); /* root always */
	assert_int_equal(rc, 0);
	close(attach(f, &dave, &rc)); /* lists given: the socket's group alone is not enough */
	assert_int_equal(rc, -EACCES);
	assert_int_equal(f->srv.refused, 1);
	pump(f, 20);
	assert_int_equal(f->srv.n_conns, 2);
	/* a narrower policy (alice only) closes bob's open connection, not alice's */
	a.n_groups = 0;
	assert_int_equal(api_server_set_access(&f->srv, &a), 0);
	pump(f, 20);
	assert_int_equal(f->srv.n_conns, 1);
	assert_int_equal(read(fb, buf, sizeof(buf)), 0);
	assert_int_equal(write(fa, "{\"command\": \"status\"}\n", 22), 22);
	pump(f, 20);
	assert_non_null(strstr((drain(fa, buf, sizeof(buf), 0), buf), "\"text\":\"status\""));
	close(fa);
	close(fb);
	pump(f, 20);
}

/* The kernel's word about a real peer: our own pid and ids; names and ids resolved. */
static void test_peer_and_resolve(void **state)
{
	char(*users)[SBCFG_ACCOUNT_MAX] = calloc(3, SBCFG_ACCOUNT_MAX);
	char(*groups)[SBCFG_ACCOUNT_MAX] = calloc(1, SBCFG_ACCOUNT_MAX);
	struct ctl_access a;
	struct ctl_peer p;
	char err[256];
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(ctl_peer_get(sv[0], &p), 0);
	assert_int_equal(p.pid, getpid());
	assert_int_equal(p.uid, geteuid());
	assert_int_equal(p.gid, getegid());
	close(sv[0]);
	close(sv[1]);

	strcpy(users[0], "root");
	strcpy(users[1], "4242");
	strcpy(groups[0], "0");
	assert_int_equal(ctl_access_resolve(&a, "x", "control.api_users", users, 2,
					    "control.api_groups", groups, 1, err, sizeof(err)),
			 0);
	assert_int_equal(a.n_users, 2);
	assert_int_equal(a.users[0], 0);
	assert_int_equal(a.users[1], 4242);
	assert_int_equal(a.groups[0], 0);
	assert_int_equal(a.self, geteuid());
	ctl_access_free(&a);
	strcpy(users[2], "no-such-user-sb");
	assert_int_equal(ctl_access_resolve(&a, "x", "control.api_users", users, 3,
					    "control.api_groups", groups, 1, err, sizeof(err)),
			 -ENOENT);
	assert_string_equal(err, "control.api_users[2]: no user \"no-such-user-sb\" on this host");
	assert_null(a.users);
	free(users);
	free(groups);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_half_closed_client_does_not_spin, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_requests_stay_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_gone_before_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_access_refused_with_a_reason, setup, teardown),
		cmocka_unit_test_setup_teardown(test_access_lists, setup, teardown),
		cmocka_unit_test(test_peer_and_resolve),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
