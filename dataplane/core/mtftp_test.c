/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mtftp_test.c - the RFC 2090 stream against simulated clients that behave as atftp's
 * (the master ACKs the block before its first hole; a listener only receives; a client ends
 * when, as master, it ACKs the last block) or iPXE's (a listener leaves once it holds every
 * block): every client must end with the whole image, for every hand-over: the master that
 * finishes, the late joiner, the master that vanishes or sends ERROR, the promoted client that
 * is gone, the group that does not reach a client. Driven by `now`.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include "catalog.h"
#include "mtftp.h"
#include "sb_drop.h"
#include "tftp.h"
#include "tftp_rrq.h"

#define GROUP	    0xef010105u /* 239.1.1.5 */
#define GROUP_PORT  1758
#define SERVER_PORT 50000
#define IP(n)	    (0xc6120000u + (n)) /* 198.18.0.n */
#define NCLI	    8

static struct sbcfg_tftp base_cfg(void)
{
	return (struct sbcfg_tftp){.enabled = true,
				   .blksize_default = 512,
				   .blksize_max = 65464,
				   .windowsize_max = 64,
				   .timeout_ms = 500,
				   .give_up_ms = 5000,
				   .mtu = 1500};
}

/* An RRQ with "multicast" (value ""), blksize (0 = none), windowsize (0 = none), tsize 0. */
static size_t mk_rrq(uint8_t *out, unsigned blksize, unsigned window, bool multicast)
{
	return test_rrq_build(out, &(struct test_rrq){.blksize = blksize,
						      .window = window,
						      .tsize = 0,
						      .multicast = multicast});
}

struct fclient {
	uint32_t ip;
	uint16_t port;
	bool joined, master, gone, done;
	bool silent;	  /* vanished: receives nothing, sends nothing */
	bool unreachable; /* the group does not reach it (unicast does) */
	bool ipxe;	  /* leaves, without a word, once it holds every block */
	bool pending_ack;
	uint8_t *have; /* [1..last_block] */
	uint64_t got_blocks;
};

struct sim {
	struct mtftp_stream st;
	struct sbcfg_tftp cfg;
	struct catalog_entry img;
	uint8_t *data;
	struct fclient c[NCLI];
	uint64_t now;
	uint64_t last_block;
	uint32_t window;
	unsigned blksize;
};

static void sim_init(struct sim *s, uint64_t size, unsigned blksize, unsigned window)
{
	uint32_t seed = 7;

	memset(s, 0, sizeof(*s));
	s->cfg = base_cfg();
	s->data = malloc(size ? size : 1);
	for (uint64_t i = 0; i < size; i++) {
		seed = seed * 1103515245u + 12345u;
		s->data[i] = (uint8_t)(seed >> 16);
	}
	s->img = (struct catalog_entry){.data = s->data, .size = size, .netascii_size = size};
	snprintf(s->img.name, sizeof(s->img.name), "img");
	s->blksize = blksize;
	s->window = window;
	s->now = 1000;
	assert_int_equal(mtftp_stream_init(&s->st, GROUP, GROUP_PORT, SERVER_PORT, &s->img,
					   (uint16_t)blksize, &s->cfg, s->now),
			 0);
	s->last_block = s->st.last_block;
	for (int i = 0; i < NCLI; i++) {
		s->c[i].ip = IP(10 + i);
		s->c[i].port = (uint16_t)(40000 + i);
		s->c[i].have = calloc(s->last_block + 1, 1);
	}
}

static void sim_free(struct sim *s)
{
	for (int i = 0; i < NCLI; i++)
		free(s->c[i].have);
	free(s->data);
}

static struct fclient *by_addr(struct sim *s, uint32_t ip, uint16_t port)
{
	for (int i = 0; i < NCLI; i++)
		if (s->c[i].ip == ip && s->c[i].port == port)
			return &s->c[i];
	return NULL;
}

static bool holds_all(const struct sim *s, const struct fclient *c)
{
	for (uint64_t b = 1; b <= s->last_block; b++)
		if (!c->have[b])
			return false;
	return true;
}

/* The OACK's multicast value must be "239.1.1.5,1758,mc"; returns mc. */
static int check_oack(struct sim *s, const struct mtftp_tx *tx)
{
	uint8_t out[MTFTP_OACK_MAX];
	int n = mtftp_build_oack(out, sizeof(out), &s->st, tx), mc = -1;
	size_t pos = 2;

	assert_true(n > 2);
	assert_int_equal(out[0] << 8 | out[1], TFTP_OP_OACK);
	while (pos < (size_t)n) {
		const char *name = (const char *)out + pos, *val;

		pos += strlen(name) + 1;
		val = (const char *)out + pos;
		pos += strlen(val) + 1;
		if (!strcmp(name, "multicast")) {
			assert_true(!strncmp(val, "239.1.1.5,1758,", 15));
			mc = atoi(val + 15);
		} else if (!strcmp(name, "blksize")) {
			assert_int_equal(atoi(val), s->blksize);
		} else if (!strcmp(name, "tsize")) {
			assert_int_equal(strtoull(val, NULL, 10), s->img.size);
		}
	}
	assert_int_equal(pos, (size_t)n);
	assert_true(mc == 0 || mc == 1);
	return mc;
}

static void deliver_block(struct sim *s, struct fclient *c, uint64_t b)
{
	uint8_t pkt[TFTP_HDR_LEN + 1500];
	int n = mtftp_build_data(pkt, sizeof(pkt), &s->st, b);
	uint64_t off = (b - 1) * s->blksize;

	assert_true(n >= TFTP_HDR_LEN);
	assert_int_equal(pkt[2] << 8 | pkt[3], (uint16_t)b);
	assert_memory_equal(pkt + TFTP_HDR_LEN, s->data + off, (size_t)n - TFTP_HDR_LEN);
	/* the last block is the first one shorter than blksize */
	assert_true((b == s->last_block) == ((size_t)n - TFTP_HDR_LEN < s->blksize));
	if (!c->have[b])
		c->got_blocks++;
	c->have[b] = 1;
}

/* Carry out tx: the OACK to its client, DATA to the group (or the one master). */
static void deliver(struct sim *s, const struct mtftp_tx *tx)
{
	if (tx->oack) {
		const struct mtftp_client *mc = &s->st.c[tx->oack_client];
		struct fclient *c = by_addr(s, mc->ip, mc->port);
		int m = check_oack(s, tx);

		assert_non_null(c);
		if (!c->silent && !c->gone) {
			c->master = m == 1;
			if (c->master)
				c->pending_ack = true;
		}
	}
	for (uint32_t i = 0; i < tx->data_count; i++) {
		uint64_t b = tx->data_first + i;

		for (int k = 0; k < NCLI; k++) {
			struct fclient *c = &s->c[k];

			if (!c->joined || c->gone || c->silent)
				continue;
			bool to_it = tx->data_unicast && c->ip == tx->data_ip &&
				     c->port == tx->data_port;

			if (!to_it && !(tx->data_group && !c->unreachable))
				continue;
			deliver_block(s, c, b);
			if (c->master && i + 1 == tx->data_count)
				c->pending_ack = true;
		}
	}
	for (int k = 0; k < NCLI; k++) {
		struct fclient *c = &s->c[k];

		if (c->joined && !c->gone && c->ipxe && !c->master && holds_all(s, c)) {
			c->gone = true; /* iPXE: bitmap full, done, socket closed */
			c->done = true;
		}
	}
}

static int join(struct sim *s, int k, unsigned blksize, unsigned window)
{
	uint8_t rrq[128];
	struct tftp_rrq r;
	struct mtftp_tx tx;
	int rc, repeat;

	assert_int_equal(tftp_parse_request(rrq, mk_rrq(rrq, blksize, window, true), &r), 0);
	assert_true(r.opts & TFTP_OPT_MULTICAST);
	rc = mtftp_join(&s->st, s->c[k].ip, s->c[k].port, &r, &s->cfg, s->now, &tx, &repeat);
	if (rc == 1) {
		s->c[k].joined = true;
		deliver(s, &tx);
	}
	return rc;
}

/* The first hole - 1: what atftp's and iPXE's masters ACK. */
static uint16_t first_hole_ack(const struct sim *s, const struct fclient *c)
{
	uint64_t b = 1;

	while (b <= s->last_block && c->have[b])
		b++;
	return (uint16_t)(b - 1);
}

/* One step: a pending master ACK, else the server's timer. false once the stream ended. */
static bool step(struct sim *s)
{
	struct mtftp_tx tx;
	uint8_t ack[4] = {0, TFTP_OP_ACK};

	s->now += 1;
	for (int k = 0; k < NCLI; k++) {
		struct fclient *c = &s->c[k];
		uint16_t a;
		int rc;

		if (!c->pending_ack || !c->master || c->gone || c->silent)
			continue;
		c->pending_ack = false;
		a = first_hole_ack(s, c);
		ack[2] = (uint8_t)(a >> 8);
		ack[3] = (uint8_t)a;
		rc = mtftp_on_packet(&s->st, c->ip, c->port, ack, sizeof(ack), s->now, &tx);
		if (a == (uint16_t)s->last_block && holds_all(s, c)) {
			c->done = true; /* atftp: ACKed the last block, exits */
			c->gone = true;
			c->master = false;
		}
		if (rc > 0)
			deliver(s, &tx);
		return !mtftp_ended(&s->st);
	}
	if (mtftp_ended(&s->st))
		return false;
	assert_true(mtftp_next_deadline(&s->st) != UINT64_MAX);
	if (s->now < mtftp_next_deadline(&s->st))
		s->now = mtftp_next_deadline(&s->st);
	if (mtftp_on_timer(&s->st, s->now, &tx) > 0)
		deliver(s, &tx);
	return !mtftp_ended(&s->st);
}

static void run_until_high(struct sim *s, uint64_t high)
{
	for (int i = 0; i < 1000000 && s->st.high < high; i++)
		assert_true(step(s));
}

static void run_to_end(struct sim *s)
{
	int i;

	for (i = 0; i < 1000000 && step(s); i++)
		;
	assert_true(mtftp_ended(&s->st));
	assert_int_equal(s->st.n_clients, 0);
	assert_int_equal(mtftp_next_deadline(&s->st), UINT64_MAX);
}

static void assert_complete(const struct sim *s, int k)
{
	assert_true(s->c[k].done);
	assert_true(holds_all(s, &s->c[k]));
}

/* One client: a plain transfer through the group; each block sent once. */
static void test_single_client(void **state)
{
	struct sim s;

	(void)state;
	sim_init(&s, 100 * 1024 + 7, 1024, 0);
	assert_int_equal(join(&s, 0, 1024, 0), 1);
	assert_true(s.c[0].master);
	run_to_end(&s);
	assert_complete(&s, 0);
	assert_int_equal(s.st.stats.blocks_sent, s.last_block);
	assert_int_equal(s.st.stats.bytes_sent, s.img.size);
	assert_int_equal(s.st.stats.blocks_resent, 0);
	assert_int_equal(s.st.stats.handovers, 0);
	assert_int_equal(s.st.stats.leaves[MTFTP_LEAVE_DONE], 1);
	sim_free(&s);
}

/* Eight clients start together: the image crosses the wire once; each finishing master
 * hands over to the next, who ACKs the last block at once. */
static void test_storm_together(void **state)
{
	struct sim s;

	(void)state;
	sim_init(&s, 64 * 1024, 1024, 4);
	for (int k = 0; k < NCLI; k++)
		assert_int_equal(join(&s, k, 1024, 4), 1);
	assert_true(s.c[0].master);
	for (int k = 1; k < NCLI; k++)
		assert_false(s.c[k].master);
	run_to_end(&s);
	for (int k = 0; k < NCLI; k++)
		assert_complete(&s, k);
	assert_int_equal(s.st.stats.blocks_sent, s.last_block);
	assert_int_equal(s.st.stats.bytes_sent, s.img.size);
	assert_int_equal(s.st.stats.handovers, NCLI - 1);
	assert_int_equal(s.st.stats.clients_joined, NCLI);
	assert_int_equal(s.st.stats.leaves[MTFTP_LEAVE_DONE], NCLI);
	sim_free(&s);
}

/* A late joiner receives from where the stream is, then as master fetches what it missed. */
static void test_late_joiner(void **state)
{
	struct sim s;

	(void)state;
	sim_init(&s, 200 * 512 + 100, 512, 0);
	assert_int_equal(join(&s, 0, 512, 0), 1);
	run_until_high(&s, 60);
	assert_int_equal(join(&s, 1, 512, 0), 1);
	assert_false(s.c[1].master);
	run_until_high(&s, 61);
	assert_true(s.c[1].have[61]);
	assert_false(s.c[1].have[1]);
	run_to_end(&s);
	assert_complete(&s, 0);
	assert_complete(&s, 1);
	assert_int_equal(s.st.stats.handovers, 1);
	assert_int_equal(s.st.stats.blocks_late, 60); /* blocks 1..60, once more */
	assert_int_equal(s.st.stats.blocks_sent, s.last_block + 60);
	sim_free(&s);
}

/* Two late joiners at different points: each becomes master in turn, the oldest first. */
static void test_two_late_joiners(void **state)
{
	struct sim s;

	(void)state;
	sim_init(&s, 300 * 512 + 1, 512, 0);
	assert_int_equal(join(&s, 0, 512, 0), 1);
	run_until_high(&s, 100);
	assert_int_equal(join(&s, 1, 512, 0), 1);
	run_until_high(&s, 200);
	assert_int_equal(join(&s, 2, 512, 0), 1);
	run_to_end(&s);
	for (int k = 0; k < 3; k++)
		assert_complete(&s, k);
	assert_int_equal(s.st.stats.handovers, 2);
	/* client 2 lacks most: master first, its 1..200 cover client 1's 1..100 too; client
	 * 1, promoted last, holds it all and ACKs the last block at once */
	assert_int_equal(s.st.stats.blocks_late, 200);
	sim_free(&s);
}

/* The master vanishes mid-transfer: resends, give-up, the next client takes over from its
 * own first hole. */
static void test_master_vanishes(void **state)
{
	struct sim s;

	(void)state;
	sim_init(&s, 100 * 512, 512, 0);
	assert_int_equal(join(&s, 0, 512, 0), 1);
	assert_int_equal(join(&s, 1, 512, 0), 1);
	run_until_high(&s, 40);
	s.c[0].silent = true;
	run_to_end(&s);
	assert_complete(&s, 1);
	assert_false(s.c[0].done);
	assert_int_equal(s.st.stats.leaves[MTFTP_LEAVE_TIMEOUT], 1);
	assert_int_equal(s.st.stats.handovers, 1);
	assert_true(s.st.stats.timeouts >= 1);
	sim_free(&s);
}

/* The master sends ERROR: it leaves at once, the next one is promoted. */
static void test_master_error(void **state)
{
	struct sim s;
	struct mtftp_tx tx;
	static const uint8_t err[] = {0, TFTP_OP_ERROR, 0, 0, 'b', 'y', 'e', 0};

	(void)state;
	sim_init(&s, 50 * 512, 512, 0);
	assert_int_equal(join(&s, 0, 512, 0), 1);
	assert_int_equal(join(&s, 1, 512, 0), 1);
	run_until_high(&s, 10);
	assert_int_equal(
		mtftp_on_packet(&s.st, s.c[0].ip, s.c[0].port, err, sizeof(err), s.now, &tx), 1);
	assert_true(tx.oack);
	s.c[0].gone = true;
	s.c[0].master = false;
	deliver(&s, &tx);
	assert_true(s.c[1].master);
	run_to_end(&s);
	assert_complete(&s, 1);
	assert_int_equal(s.st.stats.leaves[MTFTP_LEAVE_ERROR], 1);
	sim_free(&s);
}

/* iPXE listeners leave once full, without a word: each promoted one is let go after three
 * timeouts, the stream then ends: the last client leaving frees it. */
static void test_promoted_client_gone(void **state)
{
	struct sim s;
	uint64_t t0;

	(void)state;
	sim_init(&s, 30 * 512 + 3, 512, 0);
	assert_int_equal(join(&s, 0, 512, 0), 1);
	for (int k = 1; k < 4; k++) {
		s.c[k].ipxe = true;
		assert_int_equal(join(&s, k, 512, 0), 1);
	}
	run_until_high(&s, s.last_block);
	t0 = s.now;
	run_to_end(&s);
	for (int k = 0; k < 4; k++)
		assert_complete(&s, k);
	assert_int_equal(s.st.stats.handovers, 3);
	assert_int_equal(s.st.stats.leaves[MTFTP_LEAVE_TIMEOUT], 3);
	assert_true(s.now - t0 <= 3 * 3 * s.cfg.timeout_ms + 10);
	sim_free(&s);
}

/*
 * iPXE listeners that joined at the start leave, without a word, once full; a client that
 * joined late still lacks the start. It is promoted before them: it does not wait out three
 * timeouts for each of the silent ones.
 */
static void test_late_joiner_before_silent(void **state)
{
	struct sim s;
	int i;

	(void)state;
	sim_init(&s, 60 * 512 + 7, 512, 0);
	assert_int_equal(join(&s, 0, 512, 0), 1);
	for (int k = 1; k < 4; k++) {
		s.c[k].ipxe = true;
		assert_int_equal(join(&s, k, 512, 0), 1);
	}
	run_until_high(&s, 20);
	assert_int_equal(join(&s, 4, 512, 0), 1);
	for (i = 0; i < 1000000 && !s.c[4].done; i++)
		assert_true(step(&s));
	assert_true(s.c[4].done);
	assert_int_equal(s.st.stats.leaves[MTFTP_LEAVE_TIMEOUT], 0); /* no silent one first */
	assert_int_equal(s.st.stats.blocks_late, 20);
	run_to_end(&s);
	for (int k = 0; k < 5; k++)
		assert_complete(&s, k);
	assert_int_equal(s.st.stats.leaves[MTFTP_LEAVE_TIMEOUT], 3);
	sim_free(&s);
}

/* The group does not reach the master: after two resends its window goes unicast. */
static void test_group_unreachable(void **state)
{
	struct sim s;

	(void)state;
	sim_init(&s, 20 * 512 + 9, 512, 0);
	s.c[0].unreachable = true;
	assert_int_equal(join(&s, 0, 512, 0), 1);
	run_to_end(&s);
	assert_complete(&s, 0);
	assert_int_equal(s.st.stats.unicast_fallbacks, 1);
	assert_true(s.st.stats.blocks_unicast >= s.last_block);
	assert_true(s.st.stats.blocks_sent - s.st.stats.blocks_unicast <=
		    3); /* alone: unicast only */
	sim_free(&s);
}

/* Late joiner that the group does not reach: it gets everything unicast when master. */
static void test_late_unreachable_listener(void **state)
{
	struct sim s;

	(void)state;
	sim_init(&s, 40 * 512, 512, 2);
	assert_int_equal(join(&s, 0, 512, 2), 1);
	s.c[1].unreachable = true;
	assert_int_equal(join(&s, 1, 512, 2), 1);
	run_to_end(&s);
	assert_complete(&s, 0);
	assert_complete(&s, 1);
	assert_int_equal(s.st.stats.unicast_fallbacks, 1);
	sim_free(&s);
}

/* A master the group does not reach, with a listener it does: the fallback sends to both,
 * so the listener has everything when its turn comes (nothing is sent again for it). */
static void test_unreachable_master_fed_listener(void **state)
{
	struct sim s;

	(void)state;
	sim_init(&s, 30 * 512 + 5, 512, 0);
	s.c[0].unreachable = true;
	assert_int_equal(join(&s, 0, 512, 0), 1);
	assert_int_equal(join(&s, 1, 512, 0), 1);
	run_until_high(&s, s.last_block);
	assert_true(holds_all(&s, &s.c[1]));
	run_to_end(&s);
	assert_complete(&s, 0);
	assert_complete(&s, 1);
	assert_int_equal(s.st.stats.unicast_fallbacks, 1);
	assert_int_equal(s.st.stats.blocks_late, 0);
	assert_int_equal(s.st.stats.handovers, 1);
	sim_free(&s);
}

/* Join rules and the packets that are ignored. */
static void test_join_rules(void **state)
{
	struct sim s;
	struct mtftp_tx tx;
	struct tftp_rrq r;
	uint8_t rrq[128];
	uint8_t ack[4] = {0, TFTP_OP_ACK, 0, 0};
	int repeat;

	(void)state;
	sim_init(&s, 10 * 1024, 1024, 0);
	assert_int_equal(join(&s, 0, 1024, 0), 1);
	/* asks for a smaller blksize: not joinable; a larger one: joins with the stream's */
	assert_int_equal(tftp_parse_request(rrq, mk_rrq(rrq, 512, 0, true), &r), 0);
	assert_false(mtftp_joinable(&s.st, &r, &s.cfg));
	assert_int_equal(join(&s, 1, 512, 0), -EINVAL);
	assert_int_equal(tftp_parse_request(rrq, mk_rrq(rrq, 0, 0, true), &r), 0);
	assert_false(mtftp_joinable(&s.st, &r, &s.cfg)); /* default 512 != 1024 */
	assert_int_equal(join(&s, 1, 1400, 0), 1);
	/* no multicast option: never joinable */
	assert_int_equal(tftp_parse_request(rrq, mk_rrq(rrq, 1024, 0, false), &r), 0);
	assert_false(mtftp_joinable(&s.st, &r, &s.cfg));
	/* a repeated RRQ gets its OACK again, mc unchanged */
	assert_int_equal(tftp_parse_request(rrq, mk_rrq(rrq, 1024, 0, true), &r), 0);
	assert_int_equal(mtftp_join(&s.st, s.c[1].ip, s.c[1].port, &r, &s.cfg, s.now, &tx, &repeat),
			 1);
	assert_int_equal(repeat, -SB_DROP_MTFTP_RRQ_REPEAT);
	assert_true(tx.oack);
	assert_int_equal(check_oack(&s, &tx), 0);
	assert_int_equal(s.st.n_clients, 2);
	/* ACK from a listener: ignored */
	assert_int_equal(mtftp_on_packet(&s.st, s.c[1].ip, s.c[1].port, ack, 4, s.now, &tx),
			 -SB_DROP_MTFTP_ACK_NOT_MASTER);
	assert_int_equal(tx.data_count, 0);
	/* a stranger: ERROR 5 to it */
	assert_int_equal(mtftp_on_packet(&s.st, IP(99), 1, ack, 4, s.now, &tx),
			 -SB_DROP_TFTP_UNKNOWN_TID);
	assert_true(tx.error);
	assert_int_equal(tx.error_code, TFTP_ERR_UNKNOWN_TID);
	/* short and odd packets from a client: counted, the stream goes on */
	assert_int_equal(mtftp_on_packet(&s.st, s.c[0].ip, s.c[0].port, ack, 1, s.now, &tx),
			 -SB_DROP_TFTP_SHORT);
	assert_int_equal(mtftp_on_packet(&s.st, s.c[0].ip, s.c[0].port, ack, 3, s.now, &tx),
			 -SB_DROP_TFTP_SHORT);
	assert_int_equal(mtftp_on_packet(&s.st, s.c[0].ip, s.c[0].port, rrq, 10, s.now, &tx),
			 -SB_DROP_TFTP_UNEXPECTED_OPCODE);
	/* an ACK for a block never sent */
	ack[3] = 9;
	assert_int_equal(mtftp_on_packet(&s.st, s.c[0].ip, s.c[0].port, ack, 4, s.now, &tx),
			 -SB_DROP_MTFTP_ACK_STALE);
	run_to_end(&s);
	assert_complete(&s, 0);
	assert_complete(&s, 1);
	/* ended: nothing more */
	assert_int_equal(mtftp_on_packet(&s.st, s.c[0].ip, s.c[0].port, ack, 4, s.now, &tx),
			 -SB_DROP_TFTP_SESSION_CLOSED);
	assert_int_equal(join(&s, 2, 1024, 0), -EINVAL);
	sim_free(&s);
}

/* MTFTP_CLIENTS_MAX clients fill a stream; one more is told to go unicast. */
static void test_stream_full(void **state)
{
	struct sim s;
	struct mtftp_tx tx;
	struct tftp_rrq r;
	uint8_t rrq[128];
	int repeat;

	(void)state;
	sim_init(&s, 4096, 512, 0);
	assert_int_equal(tftp_parse_request(rrq, mk_rrq(rrq, 0, 0, true), &r), 0);
	for (int i = 0; i < MTFTP_CLIENTS_MAX; i++)
		assert_int_equal(mtftp_join(&s.st, IP(100) + (uint32_t)i, 7, &r, &s.cfg, s.now, &tx,
					    &repeat),
				 1);
	assert_int_equal(mtftp_join(&s.st, IP(1), 7, &r, &s.cfg, s.now, &tx, &repeat),
			 -SB_DROP_MTFTP_STREAM_FULL);
	sim_free(&s);
}

/* A duplicate ACK from the master does not resend; its own retry (late) does, once. */
static void test_master_dup_ack(void **state)
{
	struct sim s;
	struct mtftp_tx tx;
	uint8_t ack[4] = {0, TFTP_OP_ACK, 0, 0};

	(void)state;
	sim_init(&s, 10 * 512, 512, 4);
	assert_int_equal(join(&s, 0, 512, 4), 1);
	assert_int_equal(mtftp_on_packet(&s.st, s.c[0].ip, s.c[0].port, ack, 4, s.now, &tx), 4);
	assert_int_equal(tx.data_first, 1);
	assert_int_equal(mtftp_on_packet(&s.st, s.c[0].ip, s.c[0].port, ack, 4, s.now + 1, &tx),
			 -SB_DROP_MTFTP_ACK_DUP);
	s.now += s.cfg.timeout_ms / 2;
	assert_int_equal(mtftp_on_packet(&s.st, s.c[0].ip, s.c[0].port, ack, 4, s.now, &tx), 4);
	assert_int_equal(mtftp_on_packet(&s.st, s.c[0].ip, s.c[0].port, ack, 4, s.now + 300, &tx),
			 -SB_DROP_MTFTP_ACK_DUP);
	ack[3] = 2; /* the window slides: only blocks never sent go out */
	assert_int_equal(mtftp_on_packet(&s.st, s.c[0].ip, s.c[0].port, ack, 4, s.now, &tx), 2);
	assert_int_equal(tx.data_first, 5);
	sim_free(&s);
}

/* Empty image and an image of exactly one block: the empty last block is sent and ACKed. */
static void test_sizes(void **state)
{
	static const uint64_t sizes[] = {0, 1, 511, 512, 513, 1024, 5000};

	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct sim s;

		sim_init(&s, sizes[i], 512, 0);
		assert_int_equal(join(&s, 0, 512, 0), 1);
		assert_int_equal(join(&s, 1, 512, 0), 1);
		run_to_end(&s);
		assert_complete(&s, 0);
		assert_complete(&s, 1);
		assert_int_equal(s.st.stats.bytes_sent, sizes[i]);
		sim_free(&s);
	}
}

static void test_bad_init(void **state)
{
	struct mtftp_stream st;
	struct sbcfg_tftp cfg = base_cfg();
	struct catalog_entry img = {.data = NULL, .size = 5};
	struct mtftp_tx tx = {0};

	(void)state;
	assert_int_equal(mtftp_stream_init(&st, GROUP, 1, 2, &img, 512, &cfg, 0), -EINVAL);
	assert_true(mtftp_ended(&st));
	assert_int_equal(mtftp_stream_init(&st, GROUP, 1, 2, NULL, 512, &cfg, 0), -EINVAL);
	assert_int_equal(mtftp_on_timer(&st, 1, &tx), 0);
	assert_int_equal(mtftp_build_oack((uint8_t[8]){0}, 8, &st, &tx), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single_client),
		cmocka_unit_test(test_storm_together),
		cmocka_unit_test(test_late_joiner),
		cmocka_unit_test(test_two_late_joiners),
		cmocka_unit_test(test_master_vanishes),
		cmocka_unit_test(test_master_error),
		cmocka_unit_test(test_promoted_client_gone),
		cmocka_unit_test(test_late_joiner_before_silent),
		cmocka_unit_test(test_group_unreachable),
		cmocka_unit_test(test_late_unreachable_listener),
		cmocka_unit_test(test_unreachable_master_fed_listener),
		cmocka_unit_test(test_join_rules),
		cmocka_unit_test(test_stream_full),
		cmocka_unit_test(test_master_dup_ack),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_bad_init),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
