/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dataplane_link_test.c - control's end of the channel, driven by a dataplane played with
 * chan.h's client over a Unix socket in a temp dir, with a test clock: HELLO brings the
 * running config (id = generation) and the durable leases of the clock's now; LEASE_EVENT
 * gets LEASE_DURABLE only after the commit, one status per record; config replies answer
 * their generation and every earlier one, refusals carry the dataplane's text; timeouts,
 * disconnection, requests and their replies; a frame before HELLO. Access: a peer that is not
 * an allowed user is refused (-EACCES with the reason); a second dataplane is refused (-EBUSY)
 * while the first is alive, and cannot inject a lease event; one whose process is gone or that
 * closed its socket is replaced (its last lease events read first); a connection that says no
 * HELLO is dropped.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ctl_testing.h"
#include "dataplane_link.h"
#include "sbcfg_json.h"

struct outcome {
	int calls;
	enum dataplane_link_outcome outcome;
	uint32_t id;
	int32_t status;
	char text[256];
	uint64_t cookie;
};

struct fx {
	char dir[64];
	char path[100];
	uint64_t now;
	struct running_config *rc;
	struct lease_store *store;
	struct ev_loop *loop;
	struct dataplane_link dp;
	struct chan_client *dataplane;
	struct outcome got[4];
};

static const struct running_config *running(void *arg)
{
	return ((struct fx *)arg)->rc;
}

static void flush(struct ev_loop *l, void *arg)
{
	dataplane_link_durable_flush(arg);
}

/* A reply callback: cookie says which slot of f->got records it. */
static void on_reply(void *arg, uint64_t cookie, const struct dataplane_link_reply *r)
{
	struct fx *f = arg;
	struct outcome *o = &f->got[cookie];

	o->calls++;
	o->outcome = r->outcome;
	o->id = r->id;
	o->status = r->status;
	o->cookie = cookie;
	snprintf(o->text, sizeof(o->text), "%.*s", (int)r->len,
		 r->payload ? (char *)r->payload : "");
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[SBCFG_ERR_MAX], json[512];
	struct sbcfg cfg;

	f->now = CTL_TESTING_NOW;
	snprintf(f->dir, sizeof(f->dir), "/tmp/dataplane_link_test.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/dp.sock", f->dir);
	ctl_testing_config(json, sizeof(json), "", "");
	assert_int_equal(sbcfg_load_string(json, &cfg, err, sizeof(err)), 0);
	f->rc = running_config_new("/nonexistent.json", &cfg);
	assert_non_null(f->rc);
	f->rc->generation = 7;
	f->store = lease_store_open(f->dir, &f->rc->cfg, f->now, err, sizeof(err));
	assert_non_null(f->store);
	f->loop = ev_loop_new(1024, err, sizeof(err));
	assert_non_null(f->loop);
	struct dataplane_link_deps deps = {
		f->loop, f->store, running, f,	 {ctl_testing_clock, &f->now},
		"9.9.9", NULL, NULL,	   NULL,    NULL};
	assert_int_equal(dataplane_link_open(&f->dp, &deps, f->path, err, sizeof(err)), 0);
	ev_set_before_sleep(f->loop, flush, &f->dp);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[100];

	chan_client_free(f->dataplane);
	dataplane_link_close(&f->dp);
	ev_loop_free(f->loop);
	lease_store_close(f->store);
	running_config_free(f->rc);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* Turn the loop and poll the dataplane until it gets a message of type (0: any); its
 * header in *h, its payload copied to buf (NUL-terminated). false after 2 s. */
static bool wait_msg(struct fx *f, uint16_t type, struct chan_hdr *h, void *buf, size_t cap)
{
	uint64_t end = ev_now_ms() + 2000;

	while (ev_now_ms() < end) {
		struct chan_msg m;

		ev_run_once(f->loop, 2);
		while (chan_client_poll(f->dataplane, ev_now_ms(), &m) == 1) {
			if (type && m.hdr.type != type)
				continue;
			*h = m.hdr;
			if (buf) {
				size_t n = m.hdr.len < cap - 1 ? m.hdr.len : cap - 1;
				memcpy(buf, m.payload, n);
				((char *)buf)[n] = '\0';
			}
			return true;
		}
	}
	return false;
}

/* Turn the loop (and the dataplane's side) for about ms milliseconds. */
static void pump(struct fx *f, int ms)
{
	uint64_t end = ev_now_ms() + (uint64_t)ms;

	while (ev_now_ms() < end) {
		struct chan_msg m;
		ev_run_once(f->loop, 2);
		if (f->dataplane)
			while (chan_client_poll(f->dataplane, ev_now_ms(), &m) == 1)
				;
	}
}

static struct chan_lease bound(uint8_t last, uint32_t ip, uint64_t expires)
{
	struct chan_lease l = {.expires = expires, .ip = ip, .event = CHAN_LEASE_BOUND};

	memcpy(l.mac, (uint8_t[]){0x02, 0, 0, 0, 0, last}, 6);
	return l;
}

/* Connect the dataplane and read what it is sent: the config and the leases snapshot. */
static size_t connect_dataplane(struct fx *f, char *config, size_t cap, uint32_t *config_id)
{
	static struct chan_lease snap[64];
	struct chan_hdr h;

	chan_client_free(f->dataplane);
	f->dataplane = chan_client_new(f->path, NULL);
	assert_true(wait_msg(f, CHAN_MSG_HELLO | CHAN_REPLY, &h, NULL, 0));
	assert_int_equal(h.status, 0);
	assert_true(wait_msg(f, CHAN_MSG_CONFIG_SNAPSHOT, &h, config, cap));
	*config_id = h.id;
	chan_client_reply(f->dataplane, h.type, h.id, 0, NULL, 0);
	assert_true(wait_msg(f, CHAN_MSG_LEASES_SNAPSHOT, &h, snap, sizeof(snap)));
	assert_true(dataplane_link_connected(&f->dp));
	return h.len / sizeof(struct chan_lease);
}

static void test_hello_sends_state_of_the_clock(void **state)
{
	struct fx *f = *state;
	struct chan_lease l = bound(1, CTL_TESTING_IP(198, 18, 0, 20), CTL_TESTING_NOW + 3600);
	char config[4096];
	uint32_t id;

	assert_false(dataplane_link_connected(&f->dp));
	assert_int_equal(lease_store_apply(f->store, &l, f->now), 0);
	assert_int_equal(lease_store_commit(f->store, f->now), 1);
	f->now = CTL_TESTING_NOW + 100;
	assert_int_equal(connect_dataplane(f, config, sizeof(config), &id), 1);
	assert_int_equal(id, 7); /* the running config's generation */
	assert_non_null(strstr(config, "198.18.0.1"));
	/* the test clock, not time(): an hour later the lease is over and not sent */
	f->now = CTL_TESTING_NOW + 7200;
	assert_int_equal(connect_dataplane(f, config, sizeof(config), &id), 0);
	assert_int_equal(f->dp.connects, 2);
}

static void test_lease_event_durable_after_commit(void **state)
{
	struct fx *f = *state;
	struct chan_lease ev[2] = {
		bound(2, CTL_TESTING_IP(198, 18, 0, 21), CTL_TESTING_NOW + 600),
		bound(3, CTL_TESTING_IP(198, 18, 9, 9), CTL_TESTING_NOW + 600)}; /* not ours */
	struct lease_store_stats st;
	int32_t status[3]; /* 2 and room for wait_msg's NUL */
	struct chan_hdr h;
	char config[4096];
	uint32_t id, req;

	connect_dataplane(f, config, sizeof(config), &id);
	assert_int_equal(
		chan_client_request(f->dataplane, CHAN_MSG_LEASE_EVENT, ev, sizeof(ev), &req), 0);
	assert_true(wait_msg(f, CHAN_MSG_LEASE_DURABLE, &h, status, sizeof(status)));
	assert_int_equal(h.id, req);
	assert_int_equal(h.len, 2 * sizeof(status[0]));
	assert_int_equal(status[0], 0);
	assert_int_equal(status[1], -ENOENT);
	assert_int_equal(h.status, -ENOENT); /* the first error */
	lease_store_get_stats(f->store, &st);
	assert_int_equal(st.committed, 1); /* on disk before the reply */
	assert_int_equal(f->dp.events, 1);
	assert_int_equal(f->dp.records, 2);
	/* a payload that is not whole records: -EINVAL */
	assert_int_equal(chan_client_request(f->dataplane, CHAN_MSG_LEASE_EVENT, ev, 10, &req), 0);
	assert_true(wait_msg(f, CHAN_MSG_LEASE_DURABLE, &h, status, sizeof(status)));
	assert_int_equal(h.status, -EINVAL);
}

static size_t tl_got;
static uint64_t tl_last_ts;
static bool tl_in_order = true;

static void on_timeline(void *arg, const struct sb_tl_event *ev, size_t n)
{
	(void)arg;
	assert_true(((uintptr_t)ev & 7) == 0);
	for (size_t i = 0; i < n; i++) {
		tl_in_order &= ev[i].ts_ms == tl_last_ts + 1 && ev[i].kind == SB_TL_DHCP;
		tl_last_ts = ev[i].ts_ms;
	}
	tl_got += n;
}

/* TIMELINE frames reach the owner's callback, whole records only, aligned even when the
 * payload sits at an odd offset of the stream; no reply is sent. */
static void test_timeline(void **state)
{
	struct fx *f = *state;
	static struct sb_tl_event ev[70];
	static uint8_t buf[sizeof(ev) + 10];
	struct chan_hdr h;
	char config[4096];
	uint32_t id;

	f->dp.deps.timeline = on_timeline;
	for (size_t i = 0; i < 70; i++) {
		ev[i].ts_ms = i + 1;
		ev[i].kind = SB_TL_DHCP;
		ev[i].mac[5] = (uint8_t)i;
	}
	memcpy(buf, ev, sizeof(ev));
	connect_dataplane(f, config, sizeof(config), &id);
	/* an odd-sized frame first: the next payload is not 8-aligned in control's buffer */
	chan_client_reply(f->dataplane, CHAN_MSG_STATS_REQUEST, 4242, 0, "abc", 3);
	assert_int_equal(chan_client_request(f->dataplane, CHAN_MSG_TIMELINE, buf, sizeof(buf), NULL),
			 0);
	for (int i = 0; i < 200 && tl_got < 70; i++)
		pump(f, 5);
	assert_int_equal(tl_got, 70); /* the 10 bytes of a partial record are not one */
	assert_true(tl_in_order);
	assert_false(wait_msg(f, CHAN_MSG_TIMELINE | CHAN_REPLY, &h, NULL, 0));
	assert_true(dataplane_link_connected(&f->dp));
}

static void test_config_replies(void **state)
{
	struct fx *f = *state;
	struct chan_hdr h;
	char config[4096];
	uint32_t id;

	assert_int_equal(dataplane_link_send_config(&f->dp, &f->rc->cfg, 8, 2000, on_reply, f, 0),
			 -ENOTCONN);
	connect_dataplane(f, config, sizeof(config), &id);
	/* adopted */
	assert_int_equal(dataplane_link_send_config(&f->dp, &f->rc->cfg, 8, 2000, on_reply, f, 0),
			 0);
	assert_true(wait_msg(f, CHAN_MSG_CONFIG_SNAPSHOT, &h, config, sizeof(config)));
	assert_int_equal(h.id, 8);
	pump(f, 20);
	assert_int_equal(f->got[0].calls, 0); /* no reply yet: nothing reported */
	chan_client_reply(f->dataplane, h.type, h.id, 0, NULL, 0);
	pump(f, 20);
	assert_int_equal(f->got[0].calls, 1);
	assert_int_equal(f->got[0].outcome, DATAPLANE_LINK_REPLIED);
	assert_int_equal(f->got[0].status, 0);
	assert_int_equal(f->got[0].id, 8);
	assert_int_equal(f->dp.config_adopted, 8);
	/* refused, with the dataplane's reason */
	assert_int_equal(dataplane_link_send_config(&f->dp, &f->rc->cfg, 9, 2000, on_reply, f, 1),
			 0);
	assert_true(wait_msg(f, CHAN_MSG_CONFIG_SNAPSHOT, &h, config, sizeof(config)));
	chan_client_reply(f->dataplane, h.type, h.id, -EINVAL, "tftp.mtu: needs a restart", 25);
	pump(f, 20);
	assert_int_equal(f->got[1].calls, 1);
	assert_int_equal(f->got[1].status, -EINVAL);
	assert_string_equal(f->got[1].text, "tftp.mtu: needs a restart");
	assert_int_equal(f->dp.config_adopted, 8);
	assert_string_equal(f->dp.config_err, "tftp.mtu: needs a restart");
	/* a reply for a later generation answers the earlier waiter too */
	assert_int_equal(dataplane_link_send_config(&f->dp, &f->rc->cfg, 10, 2000, on_reply, f, 2),
			 0);
	assert_int_equal(dataplane_link_send_config(&f->dp, &f->rc->cfg, 11, 2000, on_reply, f, 3),
			 0);
	assert_true(wait_msg(f, CHAN_MSG_CONFIG_SNAPSHOT, &h, config, sizeof(config)));
	assert_true(wait_msg(f, CHAN_MSG_CONFIG_SNAPSHOT, &h, config, sizeof(config)));
	assert_int_equal(h.id, 11);
	chan_client_reply(f->dataplane, h.type, 11, 0, NULL, 0);
	pump(f, 20);
	assert_int_equal(f->got[2].calls, 1);
	assert_int_equal(f->got[2].id, 11);
	assert_int_equal(f->got[3].calls, 1);
	assert_int_equal(f->dp.config_adopted, 11);
	assert_int_equal(f->dp.n_pend, 0);
}

static void test_config_timeout_and_disconnect(void **state)
{
	struct fx *f = *state;
	char config[4096];
	uint32_t id;

	connect_dataplane(f, config, sizeof(config), &id);
	assert_int_equal(dataplane_link_send_config(&f->dp, &f->rc->cfg, 12, 50, on_reply, f, 0),
			 0);
	assert_int_equal(dataplane_link_send_config(&f->dp, &f->rc->cfg, 13, 60000, on_reply, f, 1),
			 0);
	pump(f, 300);
	assert_int_equal(f->got[0].calls, 1);
	assert_int_equal(f->got[0].outcome, DATAPLANE_LINK_TIMED_OUT);
	assert_int_equal(f->got[0].id, 12);
	assert_int_equal(f->got[1].calls, 0);
	/* the dataplane goes away: the other waiter hears it */
	chan_client_free(f->dataplane);
	f->dataplane = NULL;
	pump(f, 50);
	assert_int_equal(f->got[1].calls, 1);
	assert_int_equal(f->got[1].outcome, DATAPLANE_LINK_GONE);
	assert_int_equal(f->got[1].id, 13);
	assert_false(dataplane_link_connected(&f->dp));
}

static void test_request_reply(void **state)
{
	struct fx *f = *state;
	static const char stats[] = "{\"rx_packets\": 5}";
	struct chan_hdr h;
	char config[4096];
	uint32_t id;

	assert_int_equal(dataplane_link_request(&f->dp, CHAN_MSG_STATS_REQUEST, NULL, 0, 1000,
						on_reply, f, 0),
			 -ENOTCONN);
	connect_dataplane(f, config, sizeof(config), &id);
	assert_int_equal(dataplane_link_request(&f->dp, CHAN_MSG_STATS_REQUEST, NULL, 0, 1000,
						on_reply, f, 2),
			 0);
	assert_true(wait_msg(f, CHAN_MSG_STATS_REQUEST, &h, NULL, 0));
	/* a reply of another type with the same id answers nothing */
	chan_client_reply(f->dataplane, CHAN_MSG_LATENCY_REQUEST, h.id, 0, "{}", 2);
	pump(f, 20);
	assert_int_equal(f->got[2].calls, 0);
	chan_client_reply(f->dataplane, CHAN_MSG_STATS_REQUEST, h.id, 0, stats, sizeof(stats) - 1);
	pump(f, 20);
	assert_int_equal(f->got[2].calls, 1);
	assert_int_equal(f->got[2].outcome, DATAPLANE_LINK_REPLIED);
	assert_string_equal(f->got[2].text, stats);
}

static void test_frame_before_hello(void **state)
{
	struct fx *f = *state;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	uint8_t frame[64], in[256];
	struct chan_hdr h;
	const void *payload;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	size_t got = 0;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ssize_t n = chan_frame_encode(frame, sizeof(frame), CHAN_MSG_LEASE_EVENT, 5, 0, NULL, 0);
	assert_true(n > 0);
	assert_int_equal(write(fd, frame, (size_t)n), n);
	pump(f, 50);
	for (ssize_t r; (r = read(fd, in + got, sizeof(in) - got)) > 0;)
		got += (size_t)r; /* the reply, then the end of the stream */
	assert_true(chan_frame_decode(in, got, 0, &h, &payload) > 0);
	assert_int_equal(h.type, CHAN_MSG_LEASE_EVENT | CHAN_REPLY);
	assert_int_equal(h.status, -EPROTO);
	assert_false(dataplane_link_connected(&f->dp));
	close(fd);
}

/* A connection of peer p through a socketpair: attach's result in *rc, the peer's end. */
static int attach(struct fx *f, const struct ctl_peer *p, int *rc)
{
	char err[512];
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
	*rc = dataplane_link_attach(&f->dp, sv[0], p, err, sizeof(err));
	return sv[1];
}

/* The one frame a refused peer reads before the end of its stream. */
static void read_refusal(int fd, int32_t status, const char *text)
{
	uint8_t in[1024];
	const void *payload;
	struct chan_hdr h;
	size_t got = 0;

	for (ssize_t r; (r = read(fd, in + got, sizeof(in) - got - 1)) > 0;)
		got += (size_t)r;
	assert_true(chan_frame_decode(in, got, 0, &h, &payload) > 0);
	assert_int_equal(h.type, CHAN_MSG_HELLO | CHAN_REPLY);
	assert_int_equal(h.status, status);
	((char *)in)[got] = '\0';
	if (!strstr((const char *)payload, text))
		fail_msg("refusal \"%.*s\" lacks \"%s\"", (int)h.len, (const char *)payload, text);
	close(fd);
}

static void test_access_refused(void **state)
{
	struct fx *f = *state;
	struct ctl_peer nobody = {.pid = getpid(), .uid = 65534, .gid = 65534};
	int rc, fd;

	fd = attach(f, &nobody, &rc);
	assert_int_equal(rc, -EACCES);
	read_refusal(fd, -EACCES, "access denied for uid 65534");
	assert_int_equal(f->dp.refused_access, 1);
	assert_int_equal(f->dp.fd, -1);
	/* allowed by a group of the policy */
	gid_t groups[] = {65534};
	struct ctl_access a = {.what = "control.dataplane_users/dataplane_groups",
			       .self = geteuid(),
			       .groups = groups,
			       .n_groups = 1};
	assert_int_equal(dataplane_link_set_access(&f->dp, &a), 0);
	fd = attach(f, &nobody, &rc);
	assert_int_equal(rc, 0);
	close(fd);
	pump(f, 20);
	assert_int_equal(f->dp.fd, -1); /* its end closed: dropped */
}

static void test_second_dataplane_refused_while_alive(void **state)
{
	struct fx *f = *state;
	struct ctl_peer root = {.pid = getpid(), .uid = 0, .gid = 0};
	struct chan_lease ev = bound(4, CTL_TESTING_IP(198, 18, 0, 40), CTL_TESTING_NOW + 600);
	struct lease_store_stats st;
	uint8_t frame[128];
	char config[4096];
	uint32_t id;
	int rc, fd, first;

	connect_dataplane(f, config, sizeof(config), &id);
	first = f->dp.fd;
	/* root, alive, socket open: a second connection, even root's, is refused */
	fd = attach(f, &root, &rc);
	assert_int_equal(rc, -EBUSY);
	read_refusal(fd, -EBUSY, "another dataplane (pid");
	assert_int_equal(f->dp.refused_busy, 1);
	assert_int_equal(f->dp.fd, first);
	assert_true(dataplane_link_connected(&f->dp));
	/* what an impostor sends after HELLO never reaches the lease store */
	fd = attach(f, &root, &rc);
	assert_int_equal(rc, -EBUSY);
	ssize_t n = chan_frame_encode(frame, sizeof(frame), CHAN_MSG_LEASE_EVENT, 1, 0, &ev,
				      sizeof(ev));
	(void)!send(fd, frame, (size_t)n, MSG_NOSIGNAL); /* the socket is closed already */
	close(fd);
	pump(f, 50);
	lease_store_get_stats(f->store, &st);
	assert_int_equal(st.appended, 0);
	assert_int_equal(f->dp.refused_busy, 2);
	/* the real one goes on */
	uint32_t req;
	assert_int_equal(
		chan_client_request(f->dataplane, CHAN_MSG_LEASE_EVENT, &ev, sizeof(ev), &req), 0);
	struct chan_hdr h;
	int32_t status[2];
	assert_true(wait_msg(f, CHAN_MSG_LEASE_DURABLE, &h, status, sizeof(status)));
	assert_int_equal(h.status, 0);
}

static void test_gone_dataplane_replaced(void **state)
{
	struct fx *f = *state;
	struct chan_lease ev = bound(5, CTL_TESTING_IP(198, 18, 0, 41), CTL_TESTING_NOW + 600);
	struct ctl_peer root = {.pid = getpid(), .uid = 0, .gid = 0};
	struct lease_store_stats st;
	char config[4096];
	uint32_t id, req;
	pid_t child;
	int rc, fd, fd2;

	/* closed its end with a lease event still unread: replaced, the event kept */
	connect_dataplane(f, config, sizeof(config), &id);
	assert_int_equal(
		chan_client_request(f->dataplane, CHAN_MSG_LEASE_EVENT, &ev, sizeof(ev), &req), 0);
	chan_client_poll(f->dataplane, ev_now_ms(), &(struct chan_msg){0}); /* flush it out */
	chan_client_free(f->dataplane);
	f->dataplane = NULL;
	fd = attach(f, &root, &rc); /* before the loop saw the old one go */
	assert_int_equal(rc, 0);
	lease_store_get_stats(f->store, &st);
	assert_int_equal(st.committed, 1);
	assert_int_equal(f->dp.fd >= 0, 1);
	assert_false(f->dp.hello);
	/* a dataplane whose process is gone (its socket still open): replaced */
	child = fork();
	if (child == 0)
		_exit(0);
	assert_int_equal(waitpid(child, NULL, 0), child);
	close(fd);
	pump(f, 20);
	struct ctl_peer dead = {.pid = child, .uid = 0, .gid = 0};
	fd = attach(f, &dead, &rc);
	assert_int_equal(rc, 0);
	fd2 = attach(f, &root, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(f->dp.peer.pid, getpid());
	assert_int_equal(f->dp.refused_busy, 0);
	close(fd);
	close(fd2);
}

static void test_hello_timeout(void **state)
{
	struct fx *f = *state;
	struct ctl_peer root = {.pid = getpid(), .uid = 0, .gid = 0};
	int rc, fd;

	f->dp.hello_timeout_ms = 100;
	fd = attach(f, &root, &rc);
	assert_int_equal(rc, 0);
	/* silent but alive: it holds the channel until its HELLO is due, then it is dropped */
	close(attach(f, &root, &rc));
	assert_int_equal(rc, -EBUSY);
	pump(f, 300);
	assert_int_equal(f->dp.fd, -1);
	assert_int_equal(f->dp.hello_timeouts, 1);
	close(fd);
}

/* Cluster mode: what remote_submit got (tickets), for the test to answer. */
static uint64_t remote_tickets[16];
static size_t n_remote;

static int remote_submit(void *arg, const struct chan_lease *ev, uint64_t ticket)
{
	if (ev->ip == CTL_TESTING_IP(198, 18, 0, 99))
		return -EHOSTUNREACH; /* refused at once */
	remote_tickets[n_remote++] = ticket;
	return 0;
}

/*
 * With a remote commit (cluster mode) LEASE_DURABLE waits for every record's outcome, frames
 * are answered in order (a later frame whose records are in does not pass an earlier one),
 * a remote refusal is the record's status, and a refusal at submission is immediate.
 */
static void test_remote_commit_holds_durable(void **state)
{
	struct fx *f = *state;
	struct chan_lease a[2] = {bound(4, CTL_TESTING_IP(198, 18, 0, 31), CTL_TESTING_NOW + 600),
				  bound(5, CTL_TESTING_IP(198, 18, 0, 32), CTL_TESTING_NOW + 600)};
	struct chan_lease b[2] = {bound(6, CTL_TESTING_IP(198, 18, 0, 33), CTL_TESTING_NOW + 600),
				  bound(7, CTL_TESTING_IP(198, 18, 0, 99), CTL_TESTING_NOW + 600)};
	int32_t status[3];
	struct chan_hdr h;
	char config[4096];
	uint32_t id, ra, rb;

	n_remote = 0;
	f->dp.deps.remote_submit = remote_submit;
	connect_dataplane(f, config, sizeof(config), &id);
	assert_int_equal(chan_client_request(f->dataplane, CHAN_MSG_LEASE_EVENT, a, sizeof(a), &ra),
			 0);
	assert_int_equal(chan_client_request(f->dataplane, CHAN_MSG_LEASE_EVENT, b, sizeof(b), &rb),
			 0);
	pump(f, 100);
	assert_int_equal(n_remote, 3);
	assert_int_equal(f->dp.n_acks, 2); /* both wait: nothing sent */
	/* b's record is in first: b still waits behind a */
	dataplane_link_remote_done(&f->dp, remote_tickets[2], 0);
	dataplane_link_durable_flush(&f->dp);
	assert_int_equal(f->dp.n_acks, 2);
	/* a: one committed, one refused (another MAC's in etcd) */
	dataplane_link_remote_done(&f->dp, remote_tickets[0], 0);
	dataplane_link_remote_done(&f->dp, remote_tickets[1], -EADDRINUSE);
	/* a stale ticket (another connection) changes nothing */
	dataplane_link_remote_done(&f->dp, remote_tickets[0] ^ (1ull << 48), -EIO);
	dataplane_link_durable_flush(&f->dp);
	assert_true(wait_msg(f, CHAN_MSG_LEASE_DURABLE, &h, status, sizeof(status)));
	assert_int_equal(h.id, ra);
	assert_int_equal(status[0], 0);
	assert_int_equal(status[1], -EADDRINUSE);
	assert_true(wait_msg(f, CHAN_MSG_LEASE_DURABLE, &h, status, sizeof(status)));
	assert_int_equal(h.id, rb);
	assert_int_equal(status[0], 0);
	assert_int_equal(status[1], -EHOSTUNREACH);
	assert_int_equal(f->dp.n_acks, 0);
	assert_int_equal(f->dp.remote_refused, 2);
	f->dp.deps.remote_submit = NULL;
}

/* The bucket map goes to the dataplane now and again after every reconnection. */
static void test_buckets_sent(void **state)
{
	struct fx *f = *state;
	uint8_t map[32] = {0xff, 0x01}, got[33];
	struct chan_hdr h;
	char config[4096];
	uint32_t id;

	connect_dataplane(f, config, sizeof(config), &id);
	dataplane_link_set_buckets(&f->dp, map);
	assert_true(wait_msg(f, CHAN_MSG_BUCKETS, &h, got, sizeof(got)));
	assert_int_equal(h.len, 32);
	assert_memory_equal(got, map, 32);
	connect_dataplane(f, config, sizeof(config), &id);
	assert_true(wait_msg(f, CHAN_MSG_BUCKETS, &h, got, sizeof(got)));
	assert_memory_equal(got, map, 32);
	dataplane_link_set_buckets(&f->dp, NULL);
	assert_true(wait_msg(f, CHAN_MSG_BUCKETS, &h, got, sizeof(got)));
	assert_int_equal(h.len, 0);
}

/* The boot token keys go to the dataplane when set and again after every reconnection. */
static void test_token_keys_sent(void **state)
{
	struct fx *f = *state;
	struct boot_token_keys k = {.cur_id = 7, .prev_id = 6};
	struct chan_token_keys got;
	uint8_t buf[sizeof(got) + 1]; /* wait_msg ends what it copies with a NUL */
	struct chan_hdr h;
	char config[4096];
	uint32_t id;

	memset(k.cur, 0x11, sizeof(k.cur));
	memset(k.prev, 0x22, sizeof(k.prev));
	dataplane_link_set_token_keys(&f->dp, &k); /* not connected: kept for the connection */
	connect_dataplane(f, config, sizeof(config), &id);
	assert_true(wait_msg(f, CHAN_MSG_TOKEN_KEYS, &h, buf, sizeof(buf)));
	memcpy(&got, buf, sizeof(got));
	assert_int_equal(h.len, sizeof(got));
	assert_int_equal(got.cur_id, 7);
	assert_int_equal(got.prev_id, 6);
	assert_memory_equal(got.cur, k.cur, 32);
	assert_memory_equal(got.prev, k.prev, 32);
	/* a rotation: sent at once */
	k.prev_id = 7, k.cur_id = 8;
	memcpy(k.prev, k.cur, 32);
	memset(k.cur, 0x33, 32);
	dataplane_link_set_token_keys(&f->dp, &k);
	assert_true(wait_msg(f, CHAN_MSG_TOKEN_KEYS, &h, buf, sizeof(buf)));
	memcpy(&got, buf, sizeof(got));
	assert_int_equal(got.cur_id, 8);
	assert_memory_equal(got.cur, k.cur, 32);
	connect_dataplane(f, config, sizeof(config), &id);
	assert_true(wait_msg(f, CHAN_MSG_TOKEN_KEYS, &h, buf, sizeof(buf)));
	memcpy(&got, buf, sizeof(got));
	assert_int_equal(got.cur_id, 8);
	assert_int_equal(got.prev_id, 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hello_sends_state_of_the_clock, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_lease_event_durable_after_commit, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_config_replies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_timeout_and_disconnect, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_request_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_frame_before_hello, setup, teardown),
		cmocka_unit_test_setup_teardown(test_access_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_second_dataplane_refused_while_alive, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_gone_dataplane_replaced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hello_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remote_commit_holds_durable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_buckets_sent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_token_keys_sent, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
