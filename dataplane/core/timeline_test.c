/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * timeline_test.c - per-client timelines driven by `now`: a whole PXE -> iPXE boot goes
 * booting -> done; a NAK, a missing file, a firmware error fail it; silence and repeated
 * give-ups make it stuck; the store's ring per client, its eviction of the least recently
 * active client, the words of each step, notable gaps, the log token bucket.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dhcp.h"
#include "tftp.h"
#include "tftp_session.h"
#include "timeline.h"

#define CAP 4

struct fx {
	struct tl_store s;
	struct tl_client c[CAP];
	uint32_t b[8];
	struct tl_params p;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(tl_store_buckets(CAP), 8);
	assert_int_equal(tl_store_init(&f->s, f->c, CAP, f->b, 8), 0);
	tl_params_default(&f->p);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

static const uint8_t mac1[6] = {0x52, 0x54, 0x00, 0x00, 0x00, 0x01};

static struct sb_tl_event ev(const uint8_t *mac, unsigned kind, uint64_t t)
{
	struct sb_tl_event e;

	memset(&e, 0, sizeof(e));
	memcpy(e.mac, mac, 6);
	e.kind = (uint8_t)kind;
	e.ts_ms = t;
	return e;
}

static struct sb_tl_event dhcp(const uint8_t *mac, uint64_t t, uint8_t in, uint8_t out)
{
	struct sb_tl_event e = ev(mac, SB_TL_DHCP, t);

	e.status = in;
	e.a = out;
	e.ip = 0xc6120064; /* 198.18.0.100 */
	e.b = SB_TL_DHCP_PXE;
	tl_event_set_text(&e, "ipxe.efi", 8);
	return e;
}

static struct sb_tl_event tftp_end(const uint8_t *mac, uint64_t t, unsigned end)
{
	struct sb_tl_event e = ev(mac, SB_TL_TFTP_END, t);

	e.status = (uint16_t)end;
	e.a = 700;
	e.c = 250;
	tl_event_set_text(&e, "ipxe.efi", 8);
	return e;
}

static void add(struct fx *f, struct sb_tl_event e)
{
	assert_non_null(tl_store_add(&f->s, &e));
}

static enum tl_state state_at(struct fx *f, uint64_t now)
{
	struct tl_client *c = tl_store_find(&f->s, mac1);

	assert_non_null(c);
	return tl_client_state(c, now, &f->p);
}

/* DORA, the tsize probe, the file, iPXE's own DORA and its script: done after the quiet time. */
static void test_whole_boot(void **state)
{
	struct fx *f = *state;
	struct sb_tl_event rrq = ev(mac1, SB_TL_TFTP_RRQ, 1200);

	add(f, dhcp(mac1, 1000, DHCP_DISCOVER, DHCP_OFFER));
	assert_int_equal(state_at(f, 1000), TL_BOOTING);
	add(f, dhcp(mac1, 1100, DHCP_REQUEST, DHCP_ACK));
	rrq.status = TFTP_OPT_TSIZE;
	tl_event_set_text(&rrq, "ipxe.efi", 8);
	add(f, rrq);
	add(f, tftp_end(mac1, 1210, TFTP_END_OPTION_REFUSED));
	assert_int_equal(state_at(f, 1210), TL_BOOTING);
	add(f, tftp_end(mac1, 1500, TFTP_END_DONE));
	/* a success, but the firmware goes on: booting until it has been quiet long enough */
	assert_int_equal(state_at(f, 1500 + f->p.done_quiet_ms - 1), TL_BOOTING);
	assert_int_equal(state_at(f, 1500 + f->p.done_quiet_ms), TL_DONE);
	add(f, dhcp(mac1, 4000, DHCP_DISCOVER, DHCP_OFFER));
	assert_int_equal(state_at(f, 4000 + f->p.done_quiet_ms), TL_BOOTING);
	assert_int_equal(state_at(f, 4000 + f->p.stuck_ms), TL_STUCK);

	struct tl_client *c = tl_store_find(&f->s, mac1);
	assert_int_equal(tl_client_count(c), 6);
	assert_int_equal(c->first_ms, 1000);
	assert_int_equal(c->last_ms, 4000);
	assert_int_equal(c->ip, 0xc6120064);
	uint64_t seq;
	assert_int_equal(tl_client_event(c, 0, &seq)->kind, SB_TL_DHCP);
	assert_int_equal(seq, 1);
	assert_int_equal(tl_client_event(c, 5, &seq)->ts_ms, 4000);
	assert_int_equal(seq, 6);
	assert_null(tl_client_event(c, 6, NULL));
}

static void test_failures(void **state)
{
	struct fx *f = *state;
	struct sb_tl_event e;

	add(f, dhcp(mac1, 10, DHCP_REQUEST, DHCP_NAK));
	assert_int_equal(state_at(f, 10), TL_FAILED);
	add(f, dhcp(mac1, 20, DHCP_DISCOVER, DHCP_OFFER)); /* the client starts again */
	assert_int_equal(state_at(f, 20), TL_BOOTING);
	e = ev(mac1, SB_TL_TFTP_REFUSED, 30);
	e.status = SB_TL_REFUSE_PACED; /* held, the client retransmits: no failure */
	add(f, e);
	assert_int_equal(state_at(f, 30), TL_BOOTING);
	e.status = SB_TL_REFUSE_NOT_FOUND;
	add(f, e);
	assert_int_equal(state_at(f, 30), TL_FAILED);
	/* a firmware line that is no error, a retransmission: the failure stands */
	e = ev(mac1, SB_TL_FIRMWARE_LOG, 40);
	e.status = 6;
	add(f, e);
	assert_int_equal(state_at(f, 40), TL_FAILED);
	/* a firmware error after a served file fails it */
	add(f, tftp_end(mac1, 50, TFTP_END_DONE));
	assert_int_equal(state_at(f, 50), TL_BOOTING);
	e = ev(mac1, SB_TL_FIRMWARE_LOG, 60);
	e.status = 3;
	tl_event_set_text(&e, "Connection timed out", 20);
	add(f, e);
	assert_int_equal(state_at(f, 60), TL_FAILED);
	/* an aborted transfer, an HTTP 404 */
	add(f, tftp_end(mac1, 70, TFTP_END_DONE));
	add(f, tftp_end(mac1, 80, TFTP_END_CLIENT_ERROR));
	assert_int_equal(state_at(f, 80), TL_FAILED);
	e = ev(mac1, SB_TL_HTTP, 90);
	e.a = 200;
	add(f, e);
	assert_int_equal(state_at(f, 90 + f->p.done_quiet_ms), TL_DONE);
	e.a = 404;
	add(f, e);
	assert_int_equal(state_at(f, 100), TL_FAILED);
}

/* Transfers given up again and again: stuck at once, cleared by a success. */
static void test_timeouts_stuck(void **state)
{
	struct fx *f = *state;

	for (uint32_t i = 0; i < f->p.stuck_timeouts; i++) {
		assert_int_equal(tl_store_find(&f->s, mac1) ? state_at(f, i * 10) : TL_BOOTING,
				 TL_BOOTING);
		add(f, ev(mac1, SB_TL_TFTP_RRQ, i * 10));
		add(f, tftp_end(mac1, i * 10 + 5, TFTP_END_TIMEOUT));
	}
	assert_int_equal(state_at(f, 100), TL_STUCK);
	add(f, ev(mac1, SB_TL_TFTP_RRQ, 200));
	assert_int_equal(state_at(f, 200), TL_STUCK);
	add(f, tftp_end(mac1, 300, TFTP_END_DONE));
	assert_int_equal(state_at(f, 300), TL_BOOTING);
	assert_int_equal(tl_store_find(&f->s, mac1)->timeouts, 0);
}

/* The ring keeps the newest TL_CLIENT_EVENTS steps, in order, with their sequence numbers. */
static void test_ring(void **state)
{
	struct fx *f = *state;
	struct tl_client *c;
	uint64_t seq;

	for (uint64_t t = 0; t < TL_CLIENT_EVENTS + 5; t++)
		add(f, ev(mac1, SB_TL_RA, t));
	c = tl_store_find(&f->s, mac1);
	assert_int_equal(tl_client_count(c), TL_CLIENT_EVENTS);
	assert_int_equal(c->total, TL_CLIENT_EVENTS + 5);
	for (uint32_t k = 0; k < TL_CLIENT_EVENTS; k++) {
		assert_int_equal(tl_client_event(c, k, &seq)->ts_ms, 5 + k);
		assert_int_equal(seq, 6 + k);
	}
	assert_int_equal(c->first_ms, 0); /* when it was first seen, even if that step is gone */
}

/* Full store: the least recently active client makes room; its MAC is no longer found. */
static void test_eviction(void **state)
{
	struct fx *f = *state;
	uint8_t m[CAP + 2][6];

	for (int i = 0; i < CAP + 2; i++) {
		memcpy(m[i], mac1, 6);
		m[i][5] = (uint8_t)(0x10 + i);
	}
	for (int i = 0; i < CAP; i++)
		add(f, ev(m[i], SB_TL_RA, (uint64_t)i));
	add(f, ev(m[0], SB_TL_RA, 10)); /* m[0] active again: m[1] is now the oldest */
	add(f, ev(m[CAP], SB_TL_RA, 11));
	assert_int_equal(f->s.n, CAP);
	assert_int_equal(f->s.evicted, 1);
	assert_null(tl_store_find(&f->s, m[1]));
	assert_non_null(tl_store_find(&f->s, m[0]));
	assert_non_null(tl_store_find(&f->s, m[CAP]));
	assert_int_equal(tl_client_count(tl_store_find(&f->s, m[CAP])), 1);
	add(f, ev(m[CAP + 1], SB_TL_RA, 12));
	assert_null(tl_store_find(&f->s, m[2]));
	assert_int_equal(f->s.evicted, 2);
	for (int i = 0; i < CAP + 2; i++)
		if (i != 1 && i != 2)
			assert_non_null(tl_store_find(&f->s, m[i]));
}

static void test_refused_input(void **state)
{
	struct fx *f = *state;
	static const uint8_t zero[6];
	struct sb_tl_event e = ev(zero, SB_TL_RA, 1);

	assert_null(tl_store_add(&f->s, &e));
	e = ev(mac1, SB_TL__COUNT, 1);
	assert_null(tl_store_add(&f->s, &e));
	e = ev(mac1, SB_TL_NONE, 1);
	assert_null(tl_store_add(&f->s, &e));
	assert_int_equal(f->s.events, 0);
	/* text without a NUL is cut in the store */
	e = ev(mac1, SB_TL_FIRMWARE_LOG, 1);
	memset(e.text, 'x', sizeof(e.text));
	struct tl_client *c = tl_store_add(&f->s, &e);
	assert_int_equal(strlen(tl_client_event(c, 0, NULL)->text), SB_TL_TEXT - 1);
	struct tl_store s2;
	assert_int_equal(tl_store_init(&s2, f->c, 0, f->b, 8), -EINVAL);
	assert_int_equal(tl_store_init(&s2, f->c, CAP, f->b, 4), -EINVAL);
}

static void test_words(void **state)
{
	char buf[128];
	struct sb_tl_event e = dhcp(mac1, 0, DHCP_DISCOVER, DHCP_OFFER);

	(void)state;
	tl_event_step(&e, buf, sizeof(buf));
	assert_string_equal(buf, "DISCOVER>OFFER");
	tl_event_detail(&e, buf, sizeof(buf));
	assert_string_equal(buf, "198.18.0.100 pxe file ipxe.efi");
	e.a = 0;
	tl_event_detail(&e, buf, sizeof(buf));
	assert_string_equal(buf, "198.18.0.100 pxe file ipxe.efi (no reply)");
	e = ev(mac1, SB_TL_TFTP_RRQ, 0);
	tl_event_set_text(&e, "boot/vmlinuz", 12);
	e.status = TFTP_OPT_BLKSIZE | TFTP_OPT_WINDOWSIZE | TFTP_OPT_TSIZE;
	e.a = 1468;
	e.b = 4;
	e.c = 123456;
	e.d = 40001;
	tl_event_step(&e, buf, sizeof(buf));
	assert_string_equal(buf, "TFTP RRQ");
	tl_event_detail(&e, buf, sizeof(buf));
	assert_string_equal(buf, "boot/vmlinuz blksize 1468 windowsize 4 tsize 123456 port 40001");
	/* cut to a small buffer: NUL-terminated, the full length returned */
	assert_int_equal(tl_event_detail(&e, buf, 10), 62);
	assert_string_equal(buf, "boot/vmli");
	e = tftp_end(mac1, 0, TFTP_END_TIMEOUT);
	tl_event_step(&e, buf, sizeof(buf));
	assert_string_equal(buf, "TFTP timeout");
	e = ev(mac1, SB_TL_TFTP_REFUSED, 0);
	e.status = SB_TL_REFUSE_NOT_FOUND;
	tl_event_step(&e, buf, sizeof(buf));
	assert_string_equal(buf, "TFTP not-found");
	e = ev(mac1, SB_TL_FIRMWARE_LOG, 0);
	e.status = 3;
	tl_event_step(&e, buf, sizeof(buf));
	assert_string_equal(buf, "firmware err");
	assert_string_equal(tl_kind_name(SB_TL_TFTP_END), "tftp-end");
	assert_string_equal(tl_kind_name(0), "unknown");
	assert_string_equal(tl_state_name(TL_STUCK), "stuck");
	assert_int_equal(tl_state_find("failed"), TL_FAILED);
	assert_int_equal(tl_state_find("nope"), -1);
}

static void test_gaps(void **state)
{
	(void)state;
	assert_false(tl_gap_notable(999, 999, 1));
	assert_true(tl_gap_notable(1000, 1000, 1));
	/* 10 ms, 10 ms, 5 s: the 5 s stands out */
	assert_true(tl_gap_notable(5000, 5020, 3));
	assert_false(tl_gap_notable(10, 5020, 3));
	/* evenly slow steps: none stands out */
	assert_false(tl_gap_notable(2000, 8000, 4));
}

static void test_bucket(void **state)
{
	struct tl_bucket b;
	int ok = 0;

	(void)state;
	tl_bucket_init(&b, 10, 5, 1000);
	for (int i = 0; i < 20; i++)
		ok += tl_bucket_take(&b, 1000);
	assert_int_equal(ok, 5);
	assert_int_equal(b.suppressed, 15);
	assert_false(tl_bucket_take(&b, 1099)); /* 0.99 token */
	assert_true(tl_bucket_take(&b, 1100));
	ok = 0;
	for (int i = 0; i < 100; i++)
		ok += tl_bucket_take(&b, 60000); /* an hour's tokens are capped at the burst */
	assert_int_equal(ok, 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_whole_boot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeouts_stuck, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ring, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eviction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_input, setup, teardown),
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_gaps),
		cmocka_unit_test(test_bucket),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
