/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tftp_session_test.c - the TFTP transfer state machine against a fake client
 * over a simulated lossy network: every byte must arrive, in order, for every
 * size, mode, window and loss pattern; plus the protocol corner cases
 * (duplicate/stale ACKs, give-up, ERROR 8, unknown TID, rollover).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* Table rows name only the fields they test; the rest are zero on purpose. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include "catalog.h"
#include "sb_drop.h"
#include "tftp.h"
#include "tftp_rrq.h"
#include "tftp_session.h"

#define CLIENT_IP   0xc6120002u /* 198.18.0.2 */
#define CLIENT_PORT 40000
#define SERVER_PORT 50000

/* A packet literal with embedded NULs, and its length. */
#define L(lit) (const uint8_t *)(lit), sizeof(lit) - 1

static const struct tftp_peer peer = {CLIENT_IP, CLIENT_PORT, SERVER_PORT};

static struct sbcfg_tftp base_cfg(void)
{
	return (struct sbcfg_tftp){.enabled = true,
				   .blksize_default = 512,
				   .blksize_max = 65464,
				   .windowsize_max = 64,
				   .timeout_ms = 500,
				   .retries = 5,
				   .mtu = 1500};
}

/* Build "\0\1name\0mode\0" plus options; 0 = option absent (tsize: < 0 = absent). */
static size_t mk_rrq(uint8_t *out, const char *name, const char *mode, unsigned blksize,
		     unsigned window, int tsize, unsigned timeout)
{
	return test_rrq_build(out, &(struct test_rrq){.name = name,
						      .mode = mode,
						      .blksize = blksize,
						      .window = window,
						      .tsize = tsize,
						      .timeout = timeout});
}

static uint32_t lcg(uint32_t *x)
{
	*x = *x * 1103515245u + 12345u;
	return *x >> 16;
}

/* Image content: random bytes, or text with many CR and LF (for netascii). */
static uint8_t *mk_image(uint64_t size, bool text, uint32_t seed)
{
	uint8_t *d = malloc(size ? size : 1);

	for (uint64_t i = 0; i < size; i++) {
		uint32_t r = lcg(&seed);
		if (!text)
			d[i] = (uint8_t)r;
		else if (r % 7 == 0)
			d[i] = '\n';
		else if (r % 11 == 0)
			d[i] = '\r';
		else
			d[i] = (uint8_t)('a' + r % 26);
	}
	return d;
}

/* ---- the fake client: RFC 1350 lock-step, RFC 7440 windowed receiver ---- */

struct client {
	uint16_t blksize, window;
	bool expect_oack, got_oack, got_tsize;
	uint64_t tsize;
	uint16_t expect; /* next wire block */
	uint32_t since;	 /* in-order blocks since our last ACK */
	bool done;
	uint16_t last_wire;
	uint8_t *buf;
	size_t len, cap;
	uint64_t dups;
};

static uint64_t opt_value(const char *v)
{
	return strtoull(v, NULL, 10);
}

/* Handle one packet from the server; returns true with *ack set when the client ACKs. */
static bool client_rx(struct client *c, const uint8_t *p, size_t len, uint16_t *ack)
{
	uint16_t op = (uint16_t)(p[0] << 8 | p[1]);

	if (op == TFTP_OP_OACK) {
		size_t pos = 2;

		assert_true(c->expect_oack);
		while (pos < len) {
			const char *name = (const char *)p + pos;
			pos += strlen(name) + 1;
			assert_true(pos < len);
			const char *val = (const char *)p + pos;
			pos += strlen(val) + 1;
			if (!strcmp(name, "blksize"))
				c->blksize = (uint16_t)opt_value(val);
			else if (!strcmp(name, "windowsize"))
				c->window = (uint16_t)opt_value(val);
			else if (!strcmp(name, "tsize")) {
				c->got_tsize = true;
				c->tsize = opt_value(val);
			}
		}
		assert_int_equal(pos, len);
		c->got_oack = true;
		*ack = 0;
		return true;
	}
	assert_int_equal(op, TFTP_OP_DATA);
	assert_true(len >= 4);
	if (c->expect_oack)
		assert_true(c->got_oack);
	uint16_t w = (uint16_t)(p[2] << 8 | p[3]);
	size_t n = len - 4;

	assert_true(n <= c->blksize);
	if (c->done) {
		c->dups++;
		*ack = c->last_wire; /* dally: ACK the final block again */
		return true;
	}
	if (w != c->expect) {
		/* RFC 7440: ACK the last block received in order; RFC 1350: re-ACK a duplicate */
		c->dups++;
		c->since = 0;
		*ack = (uint16_t)(c->expect - 1);
		return true;
	}
	assert_true(c->len + n <= c->cap);
	memcpy(c->buf + c->len, p + 4, n);
	c->len += n;
	c->expect++;
	if (n < c->blksize) {
		c->done = true;
		c->last_wire = w;
		*ack = w;
		return true;
	}
	if (++c->since >= c->window) {
		c->since = 0;
		*ack = w;
		return true;
	}
	return false;
}

/* ---- simulated network ---- */

#define QN 256

struct sim {
	struct tftp_session sess;
	struct client cli;
	uint64_t now;
	uint8_t *s2c[QN];
	size_t s2c_len[QN], s2c_head, s2c_n, pkt_cap;
	uint16_t c2s[QN];
	size_t c2s_head, c2s_n;
	uint32_t rng;
	unsigned drop_s2c, drop_c2s; /* per mille */
	unsigned dup_s2c;	     /* per mille of DATA delivered twice (the copy arrives late) */
	uint64_t errors_sent;
};

static void push_s2c(struct sim *s, const uint8_t *p, size_t n)
{
	assert_true(s->s2c_n < QN);
	size_t i = (s->s2c_head + s->s2c_n++) % QN;
	memcpy(s->s2c[i], p, n);
	s->s2c_len[i] = n;
}

/* Send what the session asked for, building each packet like the engine would. */
static void emit(struct sim *s, const struct tftp_tx *tx)
{
	static uint8_t pkt[4 + 65536];
	int n;

	if (tx->error)
		s->errors_sent++;
	if (tx->oack) {
		n = tftp_build_oack(pkt, sizeof(pkt), &s->sess.params);
		assert_true(n > 2);
		push_s2c(s, pkt, (size_t)n);
	}
	for (uint32_t i = 0; i < tx->data_count; i++) {
		n = tftp_build_data(pkt, s->pkt_cap, &s->sess, tx->data_first + i);
		assert_true(n >= 4);
		push_s2c(s, pkt, (size_t)n);
	}
}

static bool dropped(struct sim *s, unsigned permille)
{
	return permille && lcg(&s->rng) % 1000 < permille;
}

/* Run until the session ends; returns the number of events processed. */
static uint64_t sim_run(struct sim *s, uint64_t max_events)
{
	struct tftp_tx tx;
	uint64_t ev = 0;

	while (!tftp_session_ended(&s->sess)) {
		if (++ev > max_events)
			fail_msg("no end after %llu events (acked %llu of %llu)",
				 (unsigned long long)max_events, (unsigned long long)s->sess.acked,
				 (unsigned long long)s->sess.last_block);
		if (s->s2c_n) {
			size_t i = s->s2c_head;
			uint16_t ack;

			s->s2c_head = (s->s2c_head + 1) % QN;
			s->s2c_n--;
			if (dropped(s, s->drop_s2c))
				continue;
			if (dropped(s, s->dup_s2c))
				push_s2c(s, s->s2c[i], s->s2c_len[i]); /* late duplicate */
			if (client_rx(&s->cli, s->s2c[i], s->s2c_len[i], &ack)) {
				assert_true(s->c2s_n < QN);
				s->c2s[(s->c2s_head + s->c2s_n++) % QN] = ack;
			}
		} else if (s->c2s_n) {
			uint8_t a[4] = {0, TFTP_OP_ACK, (uint8_t)(s->c2s[s->c2s_head] >> 8),
					(uint8_t)s->c2s[s->c2s_head]};

			s->c2s_head = (s->c2s_head + 1) % QN;
			s->c2s_n--;
			if (dropped(s, s->drop_c2s))
				continue;
			int rc = tftp_session_on_packet(&s->sess, CLIENT_IP, CLIENT_PORT, a, 4,
							s->now, &tx);
			if (rc < 0 && rc != -SB_DROP_TFTP_ACK_DUP &&
			    rc != -SB_DROP_TFTP_ACK_STALE && rc != -SB_DROP_TFTP_SESSION_CLOSED)
				fail_msg("ACK refused: %s", sb_drop_name(rc));
			emit(s, &tx);
		} else {
			uint64_t d = tftp_session_next_deadline(&s->sess);

			assert_true(d != UINT64_MAX);
			assert_true(d > s->now);
			s->now = d;
			tftp_session_on_timer(&s->sess, s->now, &tx);
			emit(s, &tx);
		}
	}
	return ev;
}

static void sim_free(struct sim *s)
{
	for (size_t i = 0; i < QN; i++)
		free(s->s2c[i]);
	free(s->cli.buf);
}

/* Reverse netascii (what a real client does): CR LF -> LF, CR NUL -> CR. */
static size_t netascii_decode(const uint8_t *in, size_t n, uint8_t *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		if (in[i] == '\r') {
			assert_true(i + 1 < n);
			assert_true(in[i + 1] == '\n' || in[i + 1] == 0);
			out[o++] = in[i + 1] == '\n' ? '\n' : '\r';
			i++;
		} else {
			out[o++] = in[i];
		}
	}
	return o;
}

struct xfer_case {
	const char *what;
	uint64_t size;
	bool netascii;
	unsigned blksize, window; /* requested, 0 = no option */
	bool tsize;
	unsigned drop_s2c, drop_c2s;
	uint16_t wmax;	  /* cfg windowsize_max, 0 = base_cfg's */
	unsigned dup_s2c; /* DATA duplicated by the network, per mille */
};

static const struct xfer_case xfer_cases[] = {
	{"empty file", 0},
	{"1 byte", 1},
	{"511 bytes", 511},
	{"512 bytes: empty final block", 512},
	{"513 bytes", 513},
	{"1 MiB lock-step 512", 1 << 20},
	{"1 MiB blksize 1468 tsize", 1 << 20, false, 1468, 0, true},
	{"1 MiB blksize 1468 window 8", 1 << 20, false, 1468, 8, true},
	{"empty file with options", 0, false, 1468, 4, true},
	{"exact multiple, window 4", 4 * 1468 * 10, false, 1468, 4, true},
	{"32 MiB + 100 at 512: 65537 blocks, rollover", (32u << 20) + 100},
	{"rollover, window 8, 5% loss, blksize 8", 70000 * 8 + 3, false, 8, 8, false, 50, 50},
	{"window 1, 10% loss both ways", 300000, false, 1024, 1, true, 100, 100},
	{"window 4, 5% loss both ways", 300000, false, 1024, 4, true, 50, 50},
	{"window 8, 5% loss both ways", 300000, false, 1024, 8, true, 50, 50},
	{"window 8, 20% DATA loss", 200000, false, 512, 8, false, 200, 0},
	{"window 8, 20% ACK loss", 200000, false, 512, 8, false, 0, 200},
	{"window 16 clamped to 4 by cfg", 100000, false, 512, 16, false, 30, 30, 4},
	/* Sorcerer's Apprentice (RFC 1123 4.2.3.1): duplicated DATA makes the client ACK twice;
	 * the server must ignore the second ACK, so no block is ever sent twice. */
	{"lock-step, 30% DATA duplicated", 200000, false, 0, 0, false, 0, 0, 0, 300},
	{"window 4, 30% DATA duplicated", 200000, false, 512, 4, false, 0, 0, 0, 300},
	{"netascii empty", 0, true},
	{"netascii small text", 700, true, 0, 0, true},
	{"netascii blksize 8: expansions straddle blocks", 5000, true, 8, 0, true},
	{"netascii window 8, 5% loss", 100000, true, 512, 8, true, 50, 50},
	{"netascii window 64 clamped to 32, 5% loss", 100000, true, 100, 64, true, 50, 50, 64},
};

static void run_case(const struct xfer_case *c, uint32_t seed)
{
	struct sbcfg_tftp cfg = base_cfg();
	struct catalog_entry ent = {.name = "img"};
	struct catalog cat;
	uint8_t rrq_buf[256];
	struct tftp_rrq rrq;
	struct tftp_tx tx;
	struct sim *s = calloc(1, sizeof(*s));
	size_t n;

	cfg.retries = 50; /* heavy loss: the test is about correctness, not give-up */
	if (c->wmax)
		cfg.windowsize_max = c->wmax;
	ent.size = c->size;
	ent.data = mk_image(c->size, c->netascii, seed);
	assert_int_equal(catalog_init(&cat, &ent, 1), 0);

	n = mk_rrq(rrq_buf, "/img", c->netascii ? "netascii" : "octet", c->blksize, c->window,
		   c->tsize ? 0 : -1, 0);
	assert_int_equal(tftp_parse_request(rrq_buf, n, &rrq), 0);
	const struct catalog_entry *img =
		catalog_lookup(&cat, rrq.filename, rrq.filename_len, NULL);
	assert_non_null(img);

	s->rng = seed;
	s->drop_s2c = c->drop_s2c;
	s->drop_c2s = c->drop_c2s;
	s->dup_s2c = c->dup_s2c;
	s->now = 1000;
	int first = tftp_session_start(&s->sess, &peer, &rrq, img, &cfg, s->now, &tx);
	assert_int_equal(first, 1);
	uint16_t bs = s->sess.params.blksize;
	s->pkt_cap = 4 + (size_t)bs;
	for (size_t i = 0; i < QN; i++)
		s->s2c[i] = malloc(s->pkt_cap > TFTP_OACK_MAX ? s->pkt_cap : TFTP_OACK_MAX);
	uint64_t wire_size = c->netascii ? img->netascii_size : img->size;
	s->cli = (struct client){.blksize = 512,
				 .window = 1,
				 .expect_oack = c->blksize || c->window || c->tsize,
				 .expect = 1,
				 .cap = wire_size + 1};
	s->cli.buf = malloc(s->cli.cap);
	assert_int_equal(tx.oack, s->cli.expect_oack);
	emit(s, &tx);

	uint64_t blocks = wire_size / bs + 1;
	uint64_t ev = sim_run(s, 40 * blocks + 100000);

	if (s->sess.end != TFTP_END_DONE)
		fail_msg("%s: ended %s", c->what, tftp_end_name(s->sess.end));
	assert_true(s->cli.done);
	assert_int_equal(s->sess.last_block, blocks);
	assert_int_equal(s->cli.len, wire_size);
	if (c->tsize) {
		assert_true(s->cli.got_tsize);
		assert_int_equal(s->cli.tsize, wire_size);
	}
	if (c->netascii) {
		uint8_t *dec = malloc(wire_size + 1);
		size_t dn = netascii_decode(s->cli.buf, s->cli.len, dec);
		assert_int_equal(dn, c->size);
		assert_memory_equal(dec, ent.data, dn);
		free(dec);
	} else if (c->size) {
		if (memcmp(s->cli.buf, ent.data, c->size) != 0)
			fail_msg("%s: content differs", c->what);
	}
	if (!c->drop_s2c && !c->drop_c2s) {
		/* a clean network: every block exactly once, no timer fired */
		assert_int_equal(s->sess.stats.blocks_sent, blocks);
		assert_int_equal(s->sess.stats.blocks_resent, 0);
		assert_int_equal(s->sess.stats.timeouts, 0);
		if (c->dup_s2c)
			assert_true(s->cli.dups > 0 && s->sess.stats.acks_dup > 0);
		else
			assert_int_equal(s->cli.dups, 0);
	} else {
		assert_true(s->sess.stats.timeouts > 0 || s->sess.stats.blocks_resent > 0);
	}
	if (c->window && !c->wmax)
		assert_int_equal(s->sess.params.windowsize,
				 c->netascii && c->window > TFTP_NETASCII_WINDOW_MAX
					 ? TFTP_NETASCII_WINDOW_MAX
					 : c->window);
	if (c->wmax && c->wmax < c->window)
		assert_int_equal(s->cli.window, c->netascii ? TFTP_NETASCII_WINDOW_MAX : c->wmax);
	assert_int_equal(s->errors_sent, 0);
	print_message("  %-48s %8llu blocks %8llu events, %llu resent, %u timeouts, %u dup ACKs\n",
		      c->what, (unsigned long long)blocks, (unsigned long long)ev,
		      (unsigned long long)s->sess.stats.blocks_resent, s->sess.stats.timeouts,
		      s->sess.stats.acks_dup);
	free((void *)ent.data);
	sim_free(s);
	free(s);
}

static void test_transfers(void **state)
{
	for (size_t i = 0; i < sizeof(xfer_cases) / sizeof(xfer_cases[0]); i++)
		run_case(&xfer_cases[i], 0x5eed0000u + (uint32_t)i);
}

/* ---- protocol corner cases, driven by hand ---- */

struct fixture {
	uint8_t *data;
	struct catalog_entry ent;
	struct tftp_session s;
	struct sbcfg_tftp cfg;
	struct tftp_tx tx;
};

/* give_up_ms 0: the session falls back to timeout_ms x (retries + 1) */
static void fx_start_give_up(struct fixture *f, uint64_t size, unsigned blksize, unsigned window,
			     int tsize, unsigned timeout, uint32_t give_up_ms)
{
	uint8_t rrq_buf[256];
	struct tftp_rrq rrq;
	size_t n = mk_rrq(rrq_buf, "img", "octet", blksize, window, tsize, timeout);

	memset(f, 0, sizeof(*f));
	f->cfg = base_cfg();
	f->cfg.give_up_ms = give_up_ms;
	f->data = mk_image(size, false, 7);
	f->ent = (struct catalog_entry){.name = "img", .data = f->data, .size = size};
	assert_int_equal(tftp_parse_request(rrq_buf, n, &rrq), 0);
	assert_int_equal(tftp_session_start(&f->s, &peer, &rrq, &f->ent, &f->cfg, 0, &f->tx), 1);
}

static void fx_start(struct fixture *f, uint64_t size, unsigned blksize, unsigned window, int tsize,
		     unsigned timeout)
{
	fx_start_give_up(f, size, blksize, window, tsize, timeout, 0);
}

static int fx_ack(struct fixture *f, uint16_t block, uint64_t now)
{
	uint8_t a[4] = {0, TFTP_OP_ACK, (uint8_t)(block >> 8), (uint8_t)block};

	return tftp_session_on_packet(&f->s, CLIENT_IP, CLIENT_PORT, a, 4, now, &f->tx);
}

static bool tx_empty(const struct tftp_tx *tx)
{
	return !tx->error && !tx->oack && tx->data_count == 0;
}

static void test_dup_ack_no_retransmit(void **state)
{
	struct fixture f;

	fx_start(&f, 5000, 0, 0, -1, 0); /* lock-step, no OACK: DATA 1 */
	assert_int_equal(f.tx.data_first, 1);
	assert_int_equal(f.tx.data_count, 1);
	assert_int_equal(fx_ack(&f, 1, 10), 1);
	assert_int_equal(f.tx.data_first, 2);
	uint64_t deadline = tftp_session_next_deadline(&f.s);
	/* the duplicate (delayed DATA 1 re-ACKed by the client): nothing sent, timer unchanged */
	assert_int_equal(fx_ack(&f, 1, 20), -SB_DROP_TFTP_ACK_DUP);
	assert_true(tx_empty(&f.tx));
	assert_int_equal(tftp_session_next_deadline(&f.s), deadline);
	assert_int_equal(fx_ack(&f, 1, 30), -SB_DROP_TFTP_ACK_DUP);
	assert_int_equal(f.s.stats.acks_dup, 2);
	assert_int_equal(f.s.stats.blocks_resent, 0);
	/* ACK 0 is now stale */
	assert_int_equal(fx_ack(&f, 0, 40), -SB_DROP_TFTP_ACK_STALE);
	assert_true(tx_empty(&f.tx));
	/* a block never sent (ahead) is stale too, not an advance */
	assert_int_equal(fx_ack(&f, 9, 40), -SB_DROP_TFTP_ACK_STALE);
	assert_int_equal(f.s.acked, 1);
	assert_int_equal(fx_ack(&f, 2, 50), 1);
	assert_int_equal(f.tx.data_first, 3);
	free(f.data);
}

static void test_window_mid_ack(void **state)
{
	struct fixture f;

	fx_start(&f, 100 * 512, 512, 4, -1, 0);
	assert_true(f.tx.oack);
	assert_int_equal(f.s.state, TFTP_SS_OACK_SENT);
	assert_int_equal(fx_ack(&f, 0, 5), 4); /* ACK 0 answers the OACK: window 1..4 */
	assert_int_equal(f.tx.data_first, 1);
	assert_int_equal(f.tx.data_count, 4);
	/* RFC 7440: client got 1, 2 in order then lost 3: ACK 2 -> resend from 3 */
	assert_int_equal(fx_ack(&f, 2, 10), 4);
	assert_int_equal(f.tx.data_first, 3);
	assert_int_equal(f.tx.data_count, 4);
	assert_int_equal(f.s.stats.blocks_resent, 2); /* 3 and 4 again */
	assert_int_equal(f.s.sent, 6);
	/* full window ACK */
	assert_int_equal(fx_ack(&f, 6, 20), 4);
	assert_int_equal(f.tx.data_first, 7);
	/* ACK of the old window end: duplicate, no resend */
	assert_int_equal(fx_ack(&f, 6, 30), -SB_DROP_TFTP_ACK_DUP);
	assert_true(tx_empty(&f.tx));
	/* timeout resends the whole outstanding window 7..10 */
	assert_int_equal(tftp_session_on_timer(&f.s, 20 + 499, &f.tx), 0);
	assert_true(tx_empty(&f.tx));
	assert_int_equal(tftp_session_on_timer(&f.s, 20 + 500, &f.tx), 4);
	assert_int_equal(f.tx.data_first, 7);
	assert_int_equal(f.s.stats.timeouts, 1);
	free(f.data);
}

static void test_window_end_of_file(void **state)
{
	struct fixture f;

	/* 10 blocks of 512 + empty final block 11; window 8 */
	fx_start(&f, 10 * 512, 512, 8, -1, 0);
	assert_int_equal(fx_ack(&f, 0, 1), 8);
	assert_int_equal(fx_ack(&f, 8, 2), 3); /* 9, 10, 11 only */
	assert_int_equal(f.tx.data_first, 9);
	uint8_t out[600];
	assert_int_equal(tftp_build_data(out, sizeof(out), &f.s, 11), 4); /* empty final */
	assert_int_equal(tftp_build_data(out, sizeof(out), &f.s, 12), -EINVAL);
	assert_int_equal(tftp_build_data(out, sizeof(out), &f.s, 0), -EINVAL);
	assert_int_equal(tftp_build_data(out, 515, &f.s, 10), -ENOSPC);
	assert_int_equal(tftp_build_data(out, 516, &f.s, 10), 516);
	assert_memory_equal(out + 4, f.data + 9 * 512, 512);
	const uint8_t *ref;
	size_t rlen;
	assert_int_equal(tftp_session_data_ref(&f.s, 10, &ref, &rlen), 0);
	assert_ptr_equal(ref, f.data + 9 * 512);
	assert_int_equal(rlen, 512);
	assert_int_equal(tftp_session_data_ref(&f.s, 11, &ref, &rlen), 0);
	assert_int_equal(rlen, 0);
	assert_int_equal(fx_ack(&f, 10, 3), 1); /* only 11 left */
	assert_int_equal(fx_ack(&f, 11, 4), 0);
	assert_true(tftp_session_ended(&f.s));
	assert_int_equal(f.s.end, TFTP_END_DONE);
	assert_int_equal(tftp_session_next_deadline(&f.s), UINT64_MAX);
	/* the client's retransmitted final ACK after the end */
	assert_int_equal(fx_ack(&f, 11, 5), -SB_DROP_TFTP_SESSION_CLOSED);
	free(f.data);
}

static void test_give_up(void **state)
{
	/* timeout 500: resends at 500, 1000 (then twice the wait), 2000 (then 4x), then the
	 * give-up after 3000 ms without progress comes before the next resend (4000) */
	static const uint64_t when[] = {500, 1000, 2000, 3000};
	struct fixture f;
	int sends = 0;

	/* client vanished after the RRQ: DATA 1 resent with back-off, given up on time */
	fx_start_give_up(&f, 2000, 0, 0, -1, 0, 3000);
	for (unsigned i = 0; i < 4; i++) {
		uint64_t d = tftp_session_next_deadline(&f.s);
		assert_int_equal(d, when[i]);
		assert_int_equal(tftp_session_on_timer(&f.s, d - 1, &f.tx), 0); /* early: no-op */
		if (tftp_session_on_timer(&f.s, d, &f.tx)) {
			assert_int_equal(f.tx.data_first, 1);
			sends++;
		}
	}
	assert_int_equal(sends, 3);
	assert_true(tftp_session_ended(&f.s));
	assert_int_equal(f.s.end, TFTP_END_TIMEOUT);
	assert_true(tx_empty(&f.tx));
	free(f.data);

	/* same while waiting for ACK 0: the OACK is resent on the same schedule */
	fx_start_give_up(&f, 2000, 1024, 0, 0, 0, 3000);
	sends = 0;
	while (!tftp_session_ended(&f.s)) {
		if (tftp_session_on_timer(&f.s, tftp_session_next_deadline(&f.s), &f.tx)) {
			assert_true(f.tx.oack);
			sends++;
		}
	}
	assert_int_equal(sends, 3);
	assert_int_equal(f.s.end, TFTP_END_TIMEOUT);
	free(f.data);

	/* progress starts the waits over: give-up is 3000 ms after the last progress */
	fx_start_give_up(&f, 100000, 0, 0, -1, 0, 3000);
	assert_int_equal(tftp_session_on_timer(&f.s, 500, &f.tx), 1);
	assert_int_equal(tftp_session_on_timer(&f.s, 1000, &f.tx), 1);
	assert_int_equal(fx_ack(&f, 1, 1100), 1);
	assert_int_equal(tftp_session_next_deadline(&f.s), 1600);
	assert_int_equal(tftp_session_on_timer(&f.s, 1600, &f.tx), 1);
	assert_int_equal(tftp_session_next_deadline(&f.s), 2100);
	assert_int_equal(tftp_session_on_timer(&f.s, 2100, &f.tx), 1);
	assert_int_equal(tftp_session_next_deadline(&f.s), 3100);
	assert_int_equal(tftp_session_on_timer(&f.s, 3100, &f.tx), 1);
	assert_int_equal(tftp_session_next_deadline(&f.s), 4100); /* give-up before 5100 */
	assert_false(tftp_session_ended(&f.s));
	assert_int_equal(tftp_session_on_timer(&f.s, 4100, &f.tx), 0);
	assert_true(tftp_session_ended(&f.s));
	assert_int_equal(f.s.stats.timeouts, 5);
	free(f.data);

	/* without give_up_ms (a hand-made config): retries resends a timeout apart, as before */
	fx_start(&f, 2000, 0, 0, -1, 0);
	assert_int_equal(f.s.give_up_ms, f.cfg.timeout_ms * (f.cfg.retries + 1));
	free(f.data);
}

/*
 * A lock-step client (iPXE) behind a one-way blackout: every DATA to it is lost for 2.4 s
 * (0.8 x give_up_ms), while its ACKs still arrive: it repeats ACK 1 every half timeout.
 * Once the blackout ends, its next repeat must bring DATA 2 again at once, and the
 * transfer goes on. Answering only the first repeat per base left the backed-off timer
 * (500, 1000, then 2000 ms) as the only way out, and the session was given up while the
 * client was still asking (the soak's stalled lock-step VMs, docs/RELIABILITY.md).
 */
static void test_lockstep_blackout(void **state)
{
	struct fixture f;
	uint64_t blackout_end = 2400, t;
	unsigned lost = 0, resent_after = 0;

	(void)state;
	/* lock-step, timeout 500, give-up 3000: DATA 1 at 0, ACK 1 at 10, DATA 2 at 10 */
	fx_start_give_up(&f, 100 * 512, 0, 0, -1, 0, 3000);
	assert_int_equal(fx_ack(&f, 1, 10), 1);
	for (t = 11; t <= 3100 && !tftp_session_ended(&f.s) && f.s.acked < 2; t++) {
		int n = 0;

		if (t >= tftp_session_next_deadline(&f.s))
			n = tftp_session_on_timer(&f.s, t, &f.tx);
		else if ((t - 10) % 250 == 0)
			n = fx_ack(&f, 1, t); /* the client's own retry */
		if (n <= 0)
			continue;
		assert_int_equal(f.tx.data_first, 2);
		if (t < blackout_end) {
			lost++;
			continue;
		}
		resent_after++;
		assert_int_equal(fx_ack(&f, 2, t + 5), 1); /* it got through: the client moves on */
	}
	assert_true(lost >= 3);
	assert_int_equal(resent_after, 1);
	assert_false(tftp_session_ended(&f.s));
	assert_int_equal(f.s.acked, 2);
	/* and the answer came with the client's first retry after the blackout, not later */
	assert_true(t - 1 <= blackout_end + 250);
	free(f.data);
}

/* A client's repeated ACK of the window base (its retry): the window again at once. */
static void test_fast_resend(void **state)
{
	struct fixture f;

	/* lock-step, timeout 500: DATA 1 at 0 */
	fx_start_give_up(&f, 100 * 512, 0, 0, -1, 0, 30000);
	assert_int_equal(fx_ack(&f, 1, 10), 1); /* DATA 2 at 10 */
	/* a network duplicate of ACK 1 right behind it: ignored (Sorcerer's Apprentice) */
	assert_int_equal(fx_ack(&f, 1, 20), -SB_DROP_TFTP_ACK_DUP);
	assert_true(tx_empty(&f.tx));
	/* the client timed out on DATA 2 and ACKs 1 again: DATA 2 at once */
	assert_int_equal(fx_ack(&f, 1, 400), 1);
	assert_int_equal(f.tx.data_first, 2);
	assert_int_equal(f.tx.data_count, 1);
	assert_int_equal(f.s.stats.fast_resends, 1);
	assert_int_equal(tftp_session_next_deadline(&f.s), 900);
	/* a duplicate within a quarter timeout of that resend: ignored */
	assert_int_equal(fx_ack(&f, 1, 450), -SB_DROP_TFTP_ACK_DUP);
	assert_true(tx_empty(&f.tx));
	/* the client's next retry (the resend was lost too): DATA 2 again */
	assert_int_equal(fx_ack(&f, 1, 700), 1);
	assert_int_equal(f.tx.data_first, 2);
	assert_int_equal(f.s.stats.fast_resends, 2);
	assert_int_equal(tftp_session_next_deadline(&f.s), 1200);
	/* progress: the next base's first retry is answered too */
	assert_int_equal(fx_ack(&f, 2, 710), 1);
	assert_int_equal(fx_ack(&f, 2, 1000), 1);
	assert_int_equal(f.tx.data_first, 3);
	assert_int_equal(f.s.stats.fast_resends, 3);
	free(f.data);

	/* windowed (RFC 7440): a repeat of the base resends the window from the first
	 * unacknowledged block only */
	fx_start_give_up(&f, 100 * 512, 512, 8, -1, 0, 30000);
	assert_int_equal(fx_ack(&f, 0, 1), 8);	 /* 1..8 */
	assert_int_equal(fx_ack(&f, 8, 2), 8);	 /* 9..16 */
	assert_int_equal(fx_ack(&f, 8, 300), 8); /* 9 lost: 9..16 again */
	assert_int_equal(f.tx.data_first, 9);
	free(f.data);
}

/* A resend once per loss: ACKs inside a resend already under way only move the window. */
static void test_resend_once_per_loss(void **state)
{
	struct fixture f;

	fx_start_give_up(&f, 100 * 512, 512, 4, -1, 0, 30000);
	assert_int_equal(fx_ack(&f, 0, 1), 4); /* 1..4 */
	/* the client lost 3 (or ACKed a duplicate of 2): from 3 again, up to 2 + 4 */
	assert_int_equal(fx_ack(&f, 2, 2), 4);
	assert_int_equal(f.tx.data_first, 3);
	assert_int_equal(f.s.recover, 6);
	/* its ACK of the old window end comes after: only 7, 8 (never sent), not 5, 6 again */
	assert_int_equal(fx_ack(&f, 4, 3), 2);
	assert_int_equal(f.tx.data_first, 7);
	/* a duplicate of 5 makes the client ACK 5: still inside the resend, nothing new fits */
	assert_int_equal(fx_ack(&f, 5, 4), 1);
	assert_int_equal(f.tx.data_first, 9);
	assert_int_equal(fx_ack(&f, 5, 5), -SB_DROP_TFTP_ACK_DUP);
	/* past the resend's end: a gap again is a new loss, answered from the first block */
	assert_int_equal(fx_ack(&f, 7, 6), 4);
	assert_int_equal(f.tx.data_first, 8);
	assert_int_equal(f.s.stats.blocks_resent, 2 + 2);
	free(f.data);
}

/* Every packet of a lossless transfer duplicated both ways: no extra DATA is sent. */
static void test_duplication_no_amplification(void **state)
{
	struct fixture f;
	uint64_t now = 0, acked_wire = 0;
	uint64_t blocks = 200 * 1024 / 512 + 1;

	fx_start_give_up(&f, 200 * 1024, 512, 4, -1, 0, 30000);
	assert_int_equal(fx_ack(&f, 0, now), 4);
	while (!tftp_session_ended(&f.s)) {
		uint64_t last = f.tx.data_first + f.tx.data_count - 1;

		now += 1; /* well inside a quarter timeout */
		acked_wire = last;
		int n = fx_ack(&f, (uint16_t)acked_wire, now);
		/* the duplicate of that ACK, a moment later */
		struct tftp_tx keep = f.tx;
		assert_true(n >= 0);
		if (tftp_session_ended(&f.s))
			break;
		assert_int_equal(fx_ack(&f, (uint16_t)acked_wire, now), -SB_DROP_TFTP_ACK_DUP);
		f.tx = keep;
	}
	assert_int_equal(f.s.end, TFTP_END_DONE);
	assert_int_equal(f.s.stats.blocks_sent, blocks);
	assert_int_equal(f.s.stats.blocks_resent, 0);
	free(f.data);
}

/* RFC 2349: a timeout that leaves no room for resends before the give-up is declined. */
static void test_timeout_option_capped(void **state)
{
	struct fixture f;

	fx_start_give_up(&f, 2000, 0, 0, -1, 255, 30000);
	assert_false(f.tx.oack); /* nothing else was asked: no OACK, DATA 1 */
	assert_int_equal(f.s.params.timeout_s, 0);
	assert_int_equal(f.s.params.timeout_ms, f.cfg.timeout_ms);
	free(f.data);
	fx_start_give_up(&f, 2000, 0, 0, -1, 10, 30000); /* 3 x 10 s fit in 30 s */
	assert_true(f.tx.oack);
	assert_int_equal(f.s.params.timeout_ms, 10000);
	free(f.data);
}

static void test_negotiated_timeout(void **state)
{
	struct fixture f;

	fx_start(&f, 2000, 0, 0, -1, 3);
	assert_true(f.tx.oack);
	assert_int_equal(tftp_session_next_deadline(&f.s), 3000);
	uint8_t out[TFTP_OACK_MAX];
	int n = tftp_build_oack(out, sizeof(out), &f.s.params);
	assert_int_equal(n, 2 + 8 + 2);
	assert_memory_equal(out, "\0\6timeout\0003\0", n);
	assert_int_equal(fx_ack(&f, 0, 100), 1);
	assert_int_equal(tftp_session_next_deadline(&f.s), 3100);
	free(f.data);
}

static void test_client_errors(void **state)
{
	struct fixture f;
	static const uint8_t err8[] = "\0\5\0\10tsize refused";
	static const uint8_t err0[] = "\0\5\0\0cancelled";

	/* PXE ROMs ask with tsize, read the OACK, then refuse it with ERROR 8 */
	fx_start(&f, 2000, 1468, 0, 0, 0);
	assert_true(f.tx.oack);
	assert_int_equal(
		tftp_session_on_packet(&f.s, CLIENT_IP, CLIENT_PORT, err8, sizeof(err8), 10, &f.tx),
		0);
	assert_true(tx_empty(&f.tx));
	assert_int_equal(f.s.end, TFTP_END_OPTION_REFUSED);
	assert_int_equal(f.s.client_error_code, 8);
	assert_int_equal(tftp_session_next_deadline(&f.s), UINT64_MAX);
	assert_int_equal(fx_ack(&f, 0, 20), -SB_DROP_TFTP_SESSION_CLOSED);
	assert_true(tx_empty(&f.tx));
	free(f.data);

	fx_start(&f, 20000, 0, 0, -1, 0);
	assert_int_equal(fx_ack(&f, 1, 10), 1);
	assert_int_equal(
		tftp_session_on_packet(&f.s, CLIENT_IP, CLIENT_PORT, err0, sizeof(err0), 10, &f.tx),
		0);
	assert_int_equal(f.s.end, TFTP_END_CLIENT_ERROR);
	free(f.data);

	/* ERROR 8 once DATA flows answers no OACK: a client error, not a size probe */
	fx_start(&f, 20000, 1468, 0, 0, 0);
	assert_true(f.tx.oack);
	assert_int_equal(fx_ack(&f, 0, 10), 1);
	assert_int_equal(
		tftp_session_on_packet(&f.s, CLIENT_IP, CLIENT_PORT, err8, sizeof(err8), 20, &f.tx),
		0);
	assert_int_equal(f.s.end, TFTP_END_CLIENT_ERROR);
	assert_int_equal(f.s.client_error_code, 8);
	free(f.data);
}

static void test_unknown_tid(void **state)
{
	struct fixture f;
	struct tftp_session before;
	static const uint8_t ack1[] = {0, 4, 0, 1};

	fx_start(&f, 20000, 0, 0, -1, 0);
	memcpy(&before, &f.s, sizeof(before));
	/* same address, other port; other address, same port */
	assert_int_equal(
		tftp_session_on_packet(&f.s, CLIENT_IP, CLIENT_PORT + 1, ack1, 4, 5, &f.tx),
		-SB_DROP_TFTP_UNKNOWN_TID);
	assert_true(f.tx.error);
	assert_true(f.tx.error_to_sender);
	assert_int_equal(f.tx.error_code, TFTP_ERR_UNKNOWN_TID);
	assert_int_equal(f.tx.data_count, 0);
	assert_int_equal(
		tftp_session_on_packet(&f.s, CLIENT_IP + 1, CLIENT_PORT, ack1, 4, 5, &f.tx),
		-SB_DROP_TFTP_UNKNOWN_TID);
	assert_memory_equal(&before, &f.s, sizeof(before)); /* session untouched */
	uint8_t out[64];
	int n = tftp_build_error(out, sizeof(out), f.tx.error_code, f.tx.error_msg);
	assert_memory_equal(out, "\0\5\0\5", 4);
	assert_true(n > 5);
	/* the real client goes on */
	assert_int_equal(fx_ack(&f, 1, 6), 1);
	free(f.data);
}

static void test_illegal_ops(void **state)
{
	static const struct {
		const char *what;
		const uint8_t *pkt;
		size_t len;
		int rc;
		bool ends;
	} t[] = {
		{"DATA from the client", L("\0\3\0\1xx"), -SB_DROP_TFTP_UNEXPECTED_OPCODE, true},
		{"RRQ on the transfer port", L("\0\1f\0octet\0"), -SB_DROP_TFTP_UNEXPECTED_OPCODE,
		 true},
		{"WRQ on the transfer port", L("\0\2f\0octet\0"), -SB_DROP_TFTP_UNEXPECTED_OPCODE,
		 true},
		{"OACK from the client", L("\0\6"), -SB_DROP_TFTP_UNEXPECTED_OPCODE, true},
		{"opcode 9", L("\0\11\0\1"), -SB_DROP_TFTP_BAD_OPCODE, true},
		{"1 byte", L("\0"), -SB_DROP_TFTP_SHORT, false},
		{"ACK of 3 bytes", L("\0\4\0"), -SB_DROP_TFTP_SHORT, false},
		{"ERROR of 3 bytes", L("\0\5\0"), -SB_DROP_TFTP_SHORT, false},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct fixture f;
		uint8_t *copy = malloc(t[i].len);

		fx_start(&f, 20000, 0, 0, -1, 0);
		memcpy(copy, t[i].pkt, t[i].len);
		int rc = tftp_session_on_packet(&f.s, CLIENT_IP, CLIENT_PORT, copy, t[i].len, 5,
						&f.tx);
		if (rc != t[i].rc)
			fail_msg("%s: %s", t[i].what, sb_drop_name(rc));
		assert_int_equal(tftp_session_ended(&f.s), t[i].ends);
		if (t[i].ends) {
			assert_int_equal(f.s.end, TFTP_END_ILLEGAL_OP);
			assert_true(f.tx.error);
			assert_false(f.tx.error_to_sender);
			assert_int_equal(f.tx.error_code, TFTP_ERR_ILLEGAL_OP);
		} else {
			assert_true(tx_empty(&f.tx));
			assert_int_equal(fx_ack(&f, 1, 6), 1); /* still serving */
		}
		free(copy);
		free(f.data);
	}
}

static void test_rollover_by_hand(void **state)
{
	struct fixture f;
	uint8_t out[16];

	/* blksize 8: 65536 * 8 + 5 bytes = 65537 blocks, the last holds 5 */
	fx_start(&f, 65536u * 8 + 5, 8, 0, -1, 0);
	assert_int_equal(fx_ack(&f, 0, 0), 1);
	for (uint32_t b = 1; b < 65535; b++)
		assert_int_equal(fx_ack(&f, (uint16_t)b, 0), 1);
	assert_int_equal(f.tx.data_first, 65535);
	assert_int_equal(fx_ack(&f, 65535, 0), 1);
	assert_int_equal(f.tx.data_first, 65536);
	assert_int_equal(tftp_build_data(out, sizeof(out), &f.s, 65536), 12);
	assert_memory_equal(out, "\0\3\0\0", 4); /* wire block 0 */
	assert_memory_equal(out + 4, f.data + 65535 * 8, 8);
	/* ACK wire 65535 again is a duplicate, wire 0 is block 65536 (not ACK 0 of the OACK) */
	assert_int_equal(fx_ack(&f, 65535, 0), -SB_DROP_TFTP_ACK_DUP);
	assert_int_equal(fx_ack(&f, 0, 0), 1);
	assert_int_equal(f.tx.data_first, 65537);
	assert_int_equal(tftp_build_data(out, sizeof(out), &f.s, 65537), 9);
	assert_memory_equal(out, "\0\3\0\1", 4);
	assert_int_equal(fx_ack(&f, 0, 0), -SB_DROP_TFTP_ACK_DUP);
	assert_int_equal(fx_ack(&f, 65535, 0), -SB_DROP_TFTP_ACK_STALE);
	assert_int_equal(fx_ack(&f, 1, 0), 0);
	assert_int_equal(f.s.end, TFTP_END_DONE);
	free(f.data);
}

/* What the engine does with a request before any session exists. */
static void test_request_errors(void **state)
{
	static const struct {
		const char *what;
		const uint8_t *pkt;
		size_t len;
		uint16_t code; /* ERROR code sent; 0xffff = none */
	} t[] = {
		{"WRQ", L("\0\2pxelinux.0\0octet\0"), TFTP_ERR_ACCESS},
		{"missing file", L("\0\1nope\0octet\0"), TFTP_ERR_NOT_FOUND},
		{"../ escape", L("\0\1../etc/passwd\0octet\0"), TFTP_ERR_ACCESS},
		{"mail mode", L("\0\1pxelinux.0\0mail\0"), TFTP_ERR_ILLEGAL_OP},
		{"opcode 8", L("\0\10x\0"), TFTP_ERR_ILLEGAL_OP},
		{"ERROR to port 69", L("\0\5\0\0x\0"), 0xffff},
		{"found", L("\0\1/pxelinux.0\0octet\0"), 0xfffe},
	};
	struct catalog_entry ents[1] = {
		{.name = "pxelinux.0", .data = (const uint8_t *)"x", .size = 1}};
	struct catalog cat;

	assert_int_equal(catalog_init(&cat, ents, 1), 0);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct tftp_rrq r;
		int err = 0;
		int rc = tftp_parse_request(t[i].pkt, t[i].len, &r);

		if (rc == 0 && !catalog_lookup(&cat, r.filename, r.filename_len, &err))
			rc = err;
		uint16_t code = 0xffff;
		const char *msg;
		if (rc == 0)
			code = 0xfffe;
		else if (!tftp_error_for_drop(rc, &code, &msg))
			code = 0xffff;
		if (code != t[i].code)
			fail_msg("%s: code %u (%s)", t[i].what, code, sb_drop_name(rc));
	}
}

static void test_netascii_session(void **state)
{
	/* "a\nb" at blksize 8 -> "a\r\nb" in DATA 1 (4 bytes, final) */
	struct sbcfg_tftp cfg = base_cfg();
	struct catalog_entry ent = {.name = "t", .data = (const uint8_t *)"a\nb\r", .size = 4};
	struct catalog cat;
	struct tftp_session s;
	struct tftp_rrq r;
	struct tftp_tx tx;
	uint8_t out[64];

	assert_int_equal(catalog_init(&cat, &ent, 1), 0);
	assert_int_equal(ent.netascii_size, 6);
	assert_int_equal(tftp_parse_request(L("\0\1t\0netascii\0tsize\0000\0"), &r), 0);
	assert_int_equal(tftp_session_start(&s, &peer, &r, &ent, &cfg, 0, &tx), 1);
	assert_int_equal(s.params.tsize, 6);
	assert_int_equal(tftp_session_on_packet(&s, CLIENT_IP, CLIENT_PORT, L("\0\4\0\0"), 1, &tx),
			 1);
	int n = tftp_build_data(out, sizeof(out), &s, 1);
	assert_int_equal(n, 10);
	assert_memory_equal(out, "\0\3\0\1a\r\nb\r\0", 10);
	assert_int_equal(tftp_build_data(out, 9, &s, 1), -ENOSPC); /* 4 + 6 needed */
	assert_int_equal(tftp_build_data(out, 10, &s, 1), 10);
	const uint8_t *p;
	size_t l;
	assert_int_equal(tftp_session_data_ref(&s, 1, &p, &l), -ENOTSUP);
}

static void test_empty_image_null_data(void **state)
{
	struct sbcfg_tftp cfg = base_cfg();
	struct catalog_entry ents[1] = {{.name = "empty", .data = NULL, .size = 0}};
	struct catalog cat;
	struct tftp_session s;
	struct tftp_rrq r;
	struct tftp_tx tx;
	uint8_t out[8];

	assert_int_equal(catalog_init(&cat, ents, 1), 0);
	for (int mode = 0; mode < 2; mode++) {
		static const uint8_t octet[] = "\0\1empty\0octet\0", na[] = "\0\1empty\0netascii\0";

		if (mode)
			assert_int_equal(tftp_parse_request(na, sizeof(na) - 1, &r), 0);
		else
			assert_int_equal(tftp_parse_request(octet, sizeof(octet) - 1, &r), 0);
		assert_int_equal(r.mode, mode ? TFTP_MODE_NETASCII : TFTP_MODE_OCTET);
		assert_int_equal(tftp_session_start(&s, &peer, &r, &ents[0], &cfg, 0, &tx), 1);
		assert_int_equal(s.last_block, 1);
		assert_int_equal(tftp_build_data(out, sizeof(out), &s, 1), 4);
		assert_memory_equal(out, "\0\3\0\1", 4);
		assert_int_equal(
			tftp_session_on_packet(&s, CLIENT_IP, CLIENT_PORT, L("\0\4\0\1"), 0, &tx),
			0);
		assert_int_equal(s.end, TFTP_END_DONE);
	}
}

static void test_end_names(void **state)
{
	assert_string_equal(tftp_end_name(TFTP_END_DONE), "tftp_end_done");
	assert_string_equal(tftp_end_name(TFTP_END_OPTION_REFUSED), "tftp_end_option_refused");
	assert_string_equal(tftp_end_name((enum tftp_end)99), "tftp_end_unknown");
	for (int e = 0; e < TFTP_END__COUNT; e++)
		assert_non_null(tftp_end_name((enum tftp_end)e));
}

static void test_start_bad_image(void **state)
{
	struct sbcfg_tftp cfg = base_cfg();
	struct tftp_session s;
	struct tftp_rrq r;
	struct tftp_tx tx;
	struct catalog_entry bad = {.name = "x", .data = NULL, .size = 10};

	assert_int_equal(tftp_parse_request(L("\0\1x\0octet\0"), &r), 0);
	assert_int_equal(tftp_session_start(&s, &peer, &r, NULL, &cfg, 0, &tx), -EINVAL);
	assert_int_equal(tftp_session_start(&s, &peer, &r, &bad, &cfg, 0, &tx), -EINVAL);
	assert_true(tx_empty(&tx));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transfers),
		cmocka_unit_test(test_dup_ack_no_retransmit),
		cmocka_unit_test(test_window_mid_ack),
		cmocka_unit_test(test_window_end_of_file),
		cmocka_unit_test(test_give_up),
		cmocka_unit_test(test_negotiated_timeout),
		cmocka_unit_test(test_fast_resend),
		cmocka_unit_test(test_lockstep_blackout),
		cmocka_unit_test(test_resend_once_per_loss),
		cmocka_unit_test(test_duplication_no_amplification),
		cmocka_unit_test(test_timeout_option_capped),
		cmocka_unit_test(test_client_errors),
		cmocka_unit_test(test_unknown_tid),
		cmocka_unit_test(test_illegal_ops),
		cmocka_unit_test(test_rollover_by_hand),
		cmocka_unit_test(test_request_errors),
		cmocka_unit_test(test_netascii_session),
		cmocka_unit_test(test_empty_image_null_data),
		cmocka_unit_test(test_end_names),
		cmocka_unit_test(test_start_bad_image),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
