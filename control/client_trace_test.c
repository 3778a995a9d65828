/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * client_trace_test.c - control's boot timelines: steps joined to the client that holds the
 * lease of an address (HTTP, firmware syslog), syslog lines of iPXE, busybox logger and RFC
 * 5424 parsed (and bad ones refused, counted), the receiver on a real UDP socket on loopback,
 * the clients view (counts, filter, sort), the log's token bucket under a storm.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "client_trace.h"
#include "ctl_testing.h"
#include "dhcp.h"
#include "sbcfg_json.h"
#include "tftp_session.h"

struct fx {
	char dir[64];
	uint64_t now;	 /* unix s (leases) */
	uint64_t now_ms; /* unix ms (steps) */
	struct running_config *rc;
	struct lease_store *store;
	struct ev_loop *loop;
	struct client_trace t;
};

static const uint8_t mac1[6] = {0x52, 0x54, 0x00, 0x00, 0x00, 0x01};
static const uint8_t mac2[6] = {0x52, 0x54, 0x00, 0x00, 0x00, 0x02};
#define IP1 CTL_TESTING_IP(198, 18, 0, 20)

static const struct running_config *running(void *arg)
{
	return ((struct fx *)arg)->rc;
}

static uint64_t clock_ms(void *arg)
{
	return ((struct fx *)arg)->now_ms;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[SBCFG_ERR_MAX], json[1024], top[96];
	struct sbcfg cfg;

	f->now = CTL_TESTING_NOW;
	f->now_ms = CTL_TESTING_NOW * 1000;
	snprintf(f->dir, sizeof(f->dir), "/tmp/client_trace_test.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	/* a port of our own on loopback for the receiver */
	snprintf(top, sizeof(top), ", \"syslog\": {\"enabled\": true, \"port\": %d}",
		 30000 + getpid() % 20000);
	ctl_testing_config(json, sizeof(json), "", top);
	assert_int_equal(sbcfg_load_string(json, &cfg, err, sizeof(err)), 0);
	assert_non_null(f->rc = running_config_new("/nonexistent.json", &cfg));
	assert_non_null(f->store = lease_store_open(f->dir, &f->rc->cfg, f->now, err, sizeof(err)));
	assert_non_null(f->loop = ev_loop_new(1024, err, sizeof(err)));
	struct client_trace_deps d = {f->loop, f->store, running, f, {ctl_testing_clock, &f->now},
				      clock_ms};
	assert_int_equal(client_trace_open(&f->t, &d), 0);
	/* mac1 holds 198.18.0.20 */
	struct chan_lease l = {.expires = f->now + 3600, .ip = IP1, .event = CHAN_LEASE_BOUND};
	memcpy(l.mac, mac1, 6);
	assert_int_equal(lease_store_apply(f->store, &l, f->now), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[200];

	client_trace_close(&f->t);
	ev_loop_free(f->loop);
	lease_store_close(f->store);
	running_config_free(f->rc);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static int syslog_str(struct fx *f, uint32_t ip, const char *s)
{
	return client_trace_syslog(&f->t, ip, s, strlen(s));
}

/* The newest step of mac as {"kind", "step", "detail", ...}; the caller decrefs root. */
static json_t *last_step(struct fx *f, const uint8_t *mac, json_t **root)
{
	json_t *o = client_trace_json(&f->t, mac, 0), *steps;

	assert_non_null(o);
	steps = json_object_get(o, "steps");
	assert_true(json_array_size(steps) > 0);
	*root = o;
	return json_array_get(steps, json_array_size(steps) - 1);
}

static void test_syslog_lines(void **state)
{
	struct fx *f = *state;
	json_t *root, *s;

	/* iPXE: "<PRI>[host.domain ]ipxe: message", most of it at info */
	assert_int_equal(
		syslog_str(f, IP1, "<14>vm1.lab ipxe: Configuring (net0 52:54:00:00:00:01)"), 0);
	s = last_step(f, mac1, &root);
	assert_string_equal(json_string_value(json_object_get(s, "kind")), "firmware-log");
	assert_string_equal(json_string_value(json_object_get(s, "step")), "firmware info");
	assert_string_equal(json_string_value(json_object_get(s, "detail")),
			    "Configuring (net0 52:54:00:00:00:01)");
	assert_string_equal(json_string_value(json_object_get(root, "state")), "booting");
	json_decref(root);
	/* an error, even sent at info, fails the client */
	assert_int_equal(
		syslog_str(f, IP1, "<14>ipxe: Connection timed out (https://ipxe.org/4c0a6035)\n"),
		0);
	s = last_step(f, mac1, &root);
	assert_string_equal(json_string_value(json_object_get(s, "step")), "firmware err");
	assert_string_equal(json_string_value(json_object_get(s, "detail")),
			    "Connection timed out (https://ipxe.org/4c0a6035)");
	assert_string_equal(json_string_value(json_object_get(s, "outcome")), "error");
	assert_string_equal(json_string_value(json_object_get(root, "state")), "failed");
	json_decref(root);
	/* busybox logger (RFC 3164 with a timestamp and a tag) */
	assert_int_equal(syslog_str(f, IP1, "<13>Dec  3 12:00:00 root: hello from the lab"), 0);
	s = last_step(f, mac1, &root);
	assert_string_equal(json_string_value(json_object_get(s, "detail")), "hello from the lab");
	assert_string_equal(json_string_value(json_object_get(s, "step")), "firmware notice");
	json_decref(root);
	/* util-linux logger's default (RFC 5424), with structured data and a BOM */
	assert_int_equal(syslog_str(f, IP1,
				    "<11>1 2026-12-03T12:00:00.1+00:00 vm1 ipxe 42 - "
				    "[timeQuality tzKnown=\"1\" x=\"a\\]b\"] \xef\xbb\xbfNo "
				    "such file"),
			 0);
	s = last_step(f, mac1, &root);
	assert_string_equal(json_string_value(json_object_get(s, "detail")), "No such file");
	assert_string_equal(json_string_value(json_object_get(s, "step")), "firmware err");
	json_decref(root);
	assert_int_equal(syslog_str(f, IP1, "<14>1 - - - - - - hi: there"), 0);
	s = last_step(f, mac1, &root);
	assert_string_equal(json_string_value(json_object_get(s, "detail")), "hi: there");
	json_decref(root);
	/* refused: no <PRI>, PRI out of range, unterminated; unknown sender */
	assert_int_equal(syslog_str(f, IP1, "hello"), -EINVAL);
	assert_int_equal(syslog_str(f, IP1, "<192>x"), -EINVAL);
	assert_int_equal(syslog_str(f, IP1, "<1234>x"), -EINVAL);
	assert_int_equal(syslog_str(f, IP1, "<13"), -EINVAL);
	assert_int_equal(syslog_str(f, IP1, "<>x"), -EINVAL);
	assert_int_equal(syslog_str(f, CTL_TESTING_IP(198, 18, 0, 99), "<13>x: y"), -ENOENT);
	assert_int_equal(f->t.syslog_unknown_client, 1);
	assert_int_equal(f->t.syslog_received, 6);
	/* control bytes do not reach the log or the API */
	assert_int_equal(client_trace_syslog(&f->t, IP1, "<13>a\x01\x1b[31mb", 12), 0);
	s = last_step(f, mac1, &root);
	assert_string_equal(json_string_value(json_object_get(s, "detail")), "a  [31mb");
	json_decref(root);
}

/* The receiver on a real socket: a datagram to 127.0.0.1 from "a client" (mac1 holds
 * 127.0.0.1 for the test? no: the source is 127.0.0.1, unknown) is counted; the config
 * turned off closes it. */
static void test_receiver(void **state)
{
	struct fx *f = *state;
	struct sockaddr_in a = {.sin_family = AF_INET};
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	client_trace_apply(&f->t);
	assert_true(f->t.syslog_fd >= 0);
	assert_int_equal(f->t.syslog_port, f->rc->cfg.syslog.port);
	a.sin_port = htons(f->t.syslog_port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(sendto(fd, "<11>ipxe: x", 11, 0, (struct sockaddr *)&a, sizeof(a)), 11);
	assert_int_equal(sendto(fd, "garbage", 7, 0, (struct sockaddr *)&a, sizeof(a)), 7);
	for (int i = 0; i < 50 && f->t.syslog_received + f->t.syslog_bad < 2; i++)
		ev_run_once(f->loop, 20);
	assert_int_equal(f->t.syslog_received, 1);
	assert_int_equal(f->t.syslog_unknown_client, 1); /* 127.0.0.1 holds no lease */
	assert_int_equal(f->t.syslog_bad, 1);
	close(fd);
	f->rc->cfg.syslog.enabled = false;
	client_trace_apply(&f->t);
	assert_int_equal(f->t.syslog_fd, -1);
	assert_int_equal(f->t.syslog_port, 0);
}

static struct sb_tl_event dhcp_ev(const uint8_t *mac, uint64_t t, uint8_t in, uint8_t out)
{
	struct sb_tl_event e;

	memset(&e, 0, sizeof(e));
	memcpy(e.mac, mac, 6);
	e.kind = SB_TL_DHCP;
	e.ts_ms = t;
	e.status = in;
	e.a = out;
	return e;
}

static void test_http_and_clients(void **state)
{
	struct fx *f = *state;
	struct sb_tl_event e[3];
	json_t *o, *root, *s;
	uint8_t mac3[6] = {0x52, 0x54, 0x00, 0x00, 0x00, 0x03};

	e[0] = dhcp_ev(mac1, f->now_ms - 5000, DHCP_REQUEST, DHCP_ACK);
	e[1] = dhcp_ev(mac2, f->now_ms - 4000, DHCP_REQUEST, DHCP_NAK);
	e[2] = dhcp_ev(mac3, f->now_ms - 100000, DHCP_DISCOVER, DHCP_OFFER);
	client_trace_add(&f->t, e, 3);
	/* HTTP from mac1's address lands on mac1; from an unknown address nowhere */
	client_trace_http(&f->t, NULL, IP1, "/linux/vmlinuz", 200, 5 << 20);
	client_trace_http(&f->t, NULL, CTL_TESTING_IP(198, 18, 0, 99), "/x", 404, 0);
	s = last_step(f, mac1, &root);
	assert_string_equal(json_string_value(json_object_get(s, "step")), "HTTP 200");
	assert_string_equal(json_string_value(json_object_get(s, "detail")),
			    "/linux/vmlinuz 5120 KiB");
	json_decref(root);
	assert_int_equal(f->t.st.n, 3);
	f->now_ms += 20000; /* mac1 quiet after a success: done; mac3 silent 120 s: stuck */
	assert_int_equal(client_trace_clients_json(&f->t, -1, NULL, 100, &o), 0);
	json_t *c = json_object_get(o, "counts");
	assert_int_equal(json_integer_value(json_object_get(c, "done")), 1);
	assert_int_equal(json_integer_value(json_object_get(c, "failed")), 1);
	assert_int_equal(json_integer_value(json_object_get(c, "stuck")), 1);
	assert_int_equal(json_integer_value(json_object_get(c, "booting")), 0);
	/* sort last: most recent first */
	json_t *cl = json_object_get(o, "clients");
	assert_int_equal(json_array_size(cl), 3);
	assert_string_equal(json_string_value(json_object_get(json_array_get(cl, 0), "mac")),
			    "52:54:00:00:00:01");
	assert_string_equal(json_string_value(json_object_get(json_array_get(cl, 2), "mac")),
			    "52:54:00:00:00:03");
	json_decref(o);
	/* sort state: failed, stuck, booting, done */
	assert_int_equal(client_trace_clients_json(&f->t, -1, "state", 100, &o), 0);
	cl = json_object_get(o, "clients");
	assert_string_equal(json_string_value(json_object_get(json_array_get(cl, 0), "state")),
			    "failed");
	assert_string_equal(json_string_value(json_object_get(json_array_get(cl, 1), "state")),
			    "stuck");
	json_decref(o);
	/* filter, limit 0 (counts only) */
	assert_int_equal(client_trace_clients_json(&f->t, TL_FAILED, "mac", 100, &o), 0);
	assert_int_equal(json_array_size(json_object_get(o, "clients")), 1);
	assert_int_equal(json_integer_value(json_object_get(o, "matching")), 1);
	json_decref(o);
	assert_int_equal(client_trace_clients_json(&f->t, -1, "first", 0, &o), 0);
	assert_int_equal(json_array_size(json_object_get(o, "clients")), 0);
	assert_int_equal(json_integer_value(json_object_get(o, "total")), 3);
	json_decref(o);
	assert_int_equal(client_trace_clients_json(&f->t, -1, "colour", 10, &o), -EINVAL);
	/* after: only newer steps */
	o = client_trace_json(&f->t, mac1, 1000);
	assert_int_equal(json_array_size(json_object_get(o, "steps")), 0);
	json_decref(o);
	assert_null(client_trace_json(&f->t, (const uint8_t[6]){2, 0, 0, 0, 0, 9}, 0));
}

/* A storm of 10,000 leases given at once writes at most the burst, the rest counted. */
static void test_log_storm(void **state)
{
	struct fx *f = *state;
	struct sb_tl_event e;
	uint8_t mac[6] = {0x52, 0x54, 0x01, 0, 0, 0};

	for (int i = 0; i < 10000; i++) {
		mac[4] = (uint8_t)(i >> 8);
		mac[5] = (uint8_t)i;
		e = dhcp_ev(mac, f->now_ms, DHCP_REQUEST, DHCP_ACK);
		client_trace_add(&f->t, &e, 1);
	}
	/* the test runs in far less than a second: at most the burst and a few tokens */
	assert_true(f->t.log_lines >= CLIENT_TRACE_LOG_BURST);
	assert_true(f->t.log_lines <= CLIENT_TRACE_LOG_BURST + 5 * CLIENT_TRACE_LOG_RATE);
	assert_int_equal(f->t.log_lines + f->t.log_suppressed, 10000);
	/* DISCOVER/OFFER steps are debug lines: no token, nothing suppressed */
	uint64_t sup = f->t.log_suppressed;
	e = dhcp_ev(mac, f->now_ms, DHCP_DISCOVER, DHCP_OFFER);
	client_trace_add(&f->t, &e, 1);
	assert_int_equal(f->t.log_suppressed, sup);
	assert_int_equal(f->t.st.n, 10000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_syslog_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_receiver, setup, teardown),
		cmocka_unit_test_setup_teardown(test_http_and_clients, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_storm, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
