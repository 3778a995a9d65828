/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mtftp.h"
#include "sb_drop.h"

/* TFTP_OPT_x a client's OACK may echo (multicast is always in it, built apart). */
#define ECHO_OPTS (TFTP_OPT_BLKSIZE | TFTP_OPT_TSIZE | TFTP_OPT_TIMEOUT | TFTP_OPT_WINDOWSIZE)

static inline uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* How long the current master may go without progress before it is let go. */
static uint64_t master_limit(const struct mtftp_stream *st)
{
	/* A client promoted by an OACK that it does not answer has most likely finished and
	 * gone (iPXE stops once it holds every block): three timeouts, not the whole give-up. */
	if (st->master >= 0 && st->c[st->master].state == MTFTP_C_MASTER_OACK)
		return min_u64(st->give_up_ms, 3ull * st->timeout_ms);
	return st->give_up_ms;
}

static void set_deadline(struct mtftp_stream *st)
{
	uint64_t resend = st->last_send + st->wait_ms, give_up = st->progress + master_limit(st);

	st->deadline = resend < give_up ? resend : give_up;
}

static void sent_now(struct mtftp_stream *st, uint64_t now)
{
	st->last_send = now;
	set_deadline(st);
}

static void progressed(struct mtftp_stream *st, uint64_t now)
{
	st->progress = now;
	st->tries = 0;
	st->wait_ms = st->timeout_ms;
	st->fast_resent = false;
}

static void oack_to(struct mtftp_stream *st, int idx, struct mtftp_tx *tx)
{
	tx->oack = true;
	tx->oack_client = idx;
	st->stats.oacks_sent++;
}

/* Make client idx the master: its OACK (mc=1) goes out, its first ACK sets the base. */
static void make_master(struct mtftp_stream *st, int idx, bool promoted, uint64_t now,
			struct mtftp_tx *tx)
{
	struct mtftp_client *c = &st->c[idx];

	c->state = MTFTP_C_MASTER_OACK;
	st->master = idx;
	st->pass_seq = st->next_seq;
	st->promoted = promoted;
	st->acked = 0;
	st->sent = 0;
	st->timeout_ms = c->timeout_ms;
	progressed(st, now);
	oack_to(st, idx, tx);
	sent_now(st, now);
}

/* Should listener a become master before listener b? (mtftp.h: who lacks most, then oldest) */
static bool promote_first(const struct mtftp_client *a, const struct mtftp_client *b)
{
	if (a->lacks != b->lacks)
		return a->lacks > b->lacks;
	return a->seq < b->seq;
}

/* After the master left: the client that lacks most becomes master, or the stream ends. */
static void promote(struct mtftp_stream *st, uint64_t now, struct mtftp_tx *tx)
{
	int next = -1;

	for (int i = 0; i < MTFTP_CLIENTS_MAX; i++)
		if (st->c[i].state == MTFTP_C_LISTEN &&
		    (next < 0 || promote_first(&st->c[i], &st->c[next])))
			next = i;
	if (next < 0) { /* no one left (only one master at a time: no listener = no client) */
		st->master = -1;
		st->ended = true;
		st->deadline = UINT64_MAX;
		return;
	}
	st->stats.handovers++;
	make_master(st, next, true, now, tx);
}

static void leave(struct mtftp_stream *st, int idx, enum mtftp_leave why, uint64_t now,
		  struct mtftp_tx *tx)
{
	bool was_master = idx == st->master;

	if (was_master && why == MTFTP_LEAVE_DONE && st->c[idx].lacks > 0) {
		/* Its pass carried blocks 1..lacks to the group: whoever listened throughout and
		 * lacked no more than that has them now. */
		for (int i = 0; i < MTFTP_CLIENTS_MAX; i++)
			if (st->c[i].state == MTFTP_C_LISTEN && st->c[i].seq < st->pass_seq &&
			    st->c[i].lacks <= st->c[idx].lacks)
				st->c[i].lacks = 0;
	}
	memset(&st->c[idx], 0, sizeof(st->c[idx]));
	st->n_clients--;
	st->stats.leaves[why]++;
	if (was_master)
		promote(st, now, tx);
}

/* Payload bytes of blocks first..last. */
static uint64_t run_bytes(const struct mtftp_stream *st, uint64_t first, uint64_t last)
{
	uint64_t n = (last - first + 1) * st->blksize;

	if (last == st->last_block)
		n -= (uint64_t)st->last_block * st->blksize - st->size;
	return n;
}

/* Send blocks from+1 .. min(acked + windowsize, last_block) to the group (or the master). */
static int send_from(struct mtftp_stream *st, uint64_t from, uint64_t now, struct mtftp_tx *tx)
{
	const struct mtftp_client *c = &st->c[st->master];
	uint64_t first = from + 1, last = min_u64(st->acked + c->windowsize, st->last_block);
	uint64_t again;

	if (first > last) {
		set_deadline(st);
		return 0;
	}
	tx->data_first = first;
	tx->data_count = (uint32_t)(last - first + 1);
	tx->data_group = !c->unicast || st->n_clients > 1;
	if (c->unicast) {
		tx->data_unicast = true;
		tx->data_ip = c->ip;
		tx->data_port = c->port;
		st->stats.blocks_unicast += tx->data_count;
	}
	/* blocks of this run that went out before (to this master or another) */
	again = st->high >= first ? min_u64(st->high, last) - first + 1 : 0;
	st->stats.blocks_sent += tx->data_count;
	st->stats.blocks_resent += again;
	if (st->promoted)
		st->stats.blocks_late += again;
	st->stats.bytes_sent += run_bytes(st, first, last);
	if (last > st->sent)
		st->sent = last;
	if (last > st->high)
		st->high = last;
	sent_now(st, now);
	return (int)tx->data_count;
}

int mtftp_stream_init(struct mtftp_stream *st, uint32_t group_ip, uint16_t group_port,
		      uint16_t server_port, const struct catalog_entry *img, uint16_t blksize,
		      const struct sbcfg_tftp *cfg, uint64_t now)
{
	uint32_t timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : 1000;

	memset(st, 0, sizeof(*st));
	st->master = -1;
	st->ended = true;
	st->deadline = UINT64_MAX;
	if (!img || (!img->data && img->size) || blksize < TFTP_BLKSIZE_MIN)
		return -EINVAL;
	st->group_ip = group_ip;
	st->group_port = group_port;
	st->server_port = server_port;
	st->data = img->data;
	st->size = img->size;
	st->blksize = blksize;
	/* RFC 1350 section 6: the final block is the first with fewer than blksize bytes. */
	st->last_block = img->size / blksize + 1;
	st->give_up_ms = cfg->give_up_ms ? cfg->give_up_ms : timeout_ms * (cfg->retries + 1);
	st->timeout_ms = timeout_ms;
	st->started = now;
	st->ended = false;
	return 0;
}

bool mtftp_joinable(const struct mtftp_stream *st, const struct tftp_rrq *rrq,
		    const struct sbcfg_tftp *cfg)
{
	struct tftp_params p;

	if (rrq->mode != TFTP_MODE_OCTET || !(rrq->opts & TFTP_OPT_MULTICAST))
		return false;
	tftp_negotiate(rrq, st->size, st->size, cfg, &p);
	if (p.blksize == st->blksize)
		return true;
	/* RFC 2348: the server may answer a smaller blksize than asked, never a larger one */
	return (p.oack_opts & TFTP_OPT_BLKSIZE) && p.blksize > st->blksize;
}

int mtftp_find(const struct mtftp_stream *st, uint32_t ip, uint16_t port)
{
	/* ACKs come from the master: look there first */
	if (st->master >= 0 && st->c[st->master].ip == ip && st->c[st->master].port == port)
		return st->master;
	for (int i = 0; i < MTFTP_CLIENTS_MAX; i++)
		if (st->c[i].state != MTFTP_C_FREE && st->c[i].ip == ip && st->c[i].port == port)
			return i;
	return -1;
}

int mtftp_join(struct mtftp_stream *st, uint32_t ip, uint16_t port, const struct tftp_rrq *rrq,
	       const struct sbcfg_tftp *cfg, uint64_t now, struct mtftp_tx *tx, int *repeat)
{
	struct tftp_params p;
	struct mtftp_client *c;
	int idx;

	memset(tx, 0, sizeof(*tx));
	*repeat = 0;
	if (st->ended)
		return -EINVAL;
	idx = mtftp_find(st, ip, port);
	if (idx >= 0) { /* RFC 1350 2: the client resent its RRQ, our OACK was late or lost */
		*repeat = -SB_DROP_MTFTP_RRQ_REPEAT;
		oack_to(st, idx, tx);
		return 1;
	}
	if (!mtftp_joinable(st, rrq, cfg))
		return -EINVAL;
	for (idx = 0; idx < MTFTP_CLIENTS_MAX; idx++)
		if (st->c[idx].state == MTFTP_C_FREE)
			break;
	if (idx == MTFTP_CLIENTS_MAX)
		return -SB_DROP_MTFTP_STREAM_FULL;

	tftp_negotiate(rrq, st->size, st->size, cfg, &p);
	c = &st->c[idx];
	memset(c, 0, sizeof(*c));
	c->ip = ip;
	c->port = port;
	c->windowsize = p.windowsize;
	c->timeout_s = p.timeout_s;
	c->timeout_ms = p.timeout_ms;
	c->oack_opts = (uint8_t)(p.oack_opts & ECHO_OPTS);
	c->seq = st->next_seq++;
	/* The first pass sent 1..high before it came; during a later pass the stream is back at
	 * some earlier block, and it may lack anything. */
	c->lacks = st->promoted ? st->last_block : st->high;
	st->n_clients++;
	st->stats.clients_joined++;
	if (st->master < 0) {
		make_master(st, idx, false, now, tx);
		return 1;
	}
	/* RFC 2090: a client joining a running transfer receives from where it is (mc=0) */
	c->state = MTFTP_C_LISTEN;
	oack_to(st, idx, tx);
	return 1;
}

/*
 * The 64-bit block a master's wire ACK names: the lowest at or above its last ACK (base)
 * with those 16 bits; UINT64_MAX if that block was never sent (an old ACK, or garbage).
 */
static uint64_t resolve_ack(const struct mtftp_stream *st, uint64_t base, uint16_t wire)
{
	uint64_t b = base + (uint16_t)(wire - (uint16_t)base);

	if (b > st->high)
		return UINT64_MAX;
	/* Beyond 65535 blocks a late joiner's jump to the end is ambiguous: the end wins. */
	if (b > st->sent && b < st->last_block && wire == (uint16_t)st->last_block &&
	    st->high == st->last_block)
		b = st->last_block;
	return b;
}

static int on_master_ack(struct mtftp_stream *st, uint16_t wire, uint64_t now, struct mtftp_tx *tx)
{
	struct mtftp_client *c = &st->c[st->master];
	uint64_t b;

	if (c->state == MTFTP_C_MASTER_OACK) {
		/* Its first ACK: the block before its first hole (0 for a new transfer). */
		b = resolve_ack(st, 0, wire);
		if (b == UINT64_MAX)
			return -SB_DROP_MTFTP_ACK_STALE;
		c->state = MTFTP_C_MASTER;
		st->acked = b;
		st->sent = b;
		progressed(st, now);
		if (b == st->last_block) { /* a late joiner that had it all already */
			leave(st, st->master, MTFTP_LEAVE_DONE, now, tx);
			return tx->oack ? 1 : 0;
		}
		return send_from(st, b, now, tx);
	}

	b = resolve_ack(st, st->acked, wire);
	if (b == UINT64_MAX || (b < st->acked))
		return -SB_DROP_MTFTP_ACK_STALE;
	if (b == st->acked) {
		/* As tftp_session: a repeat a quarter timeout after the window is the master's
		 * own retry (its first block was lost): resend at once, once per base. */
		if (!st->fast_resent && now >= st->last_send + st->timeout_ms / 4) {
			st->fast_resent = true;
			return send_from(st, st->acked, now, tx);
		}
		return -SB_DROP_MTFTP_ACK_DUP;
	}
	st->acked = b;
	progressed(st, now);
	if (b == st->last_block) {
		leave(st, st->master, MTFTP_LEAVE_DONE, now, tx);
		return tx->oack ? 1 : 0;
	}
	return send_from(st, st->sent > b ? st->sent : b, now, tx);
}

int mtftp_on_packet(struct mtftp_stream *st, uint32_t src_ip, uint16_t src_port, const uint8_t *buf,
		    size_t len, uint64_t now, struct mtftp_tx *tx)
{
	uint16_t block, code;
	const char *msg;
	size_t msg_len;
	int idx, op, rc;

	memset(tx, 0, sizeof(*tx));
	if (st->ended)
		return -SB_DROP_TFTP_SESSION_CLOSED;
	idx = mtftp_find(st, src_ip, src_port);
	if (idx < 0) {
		/* RFC 1350 section 4: answer ERROR 5 to the stranger, leave the stream alone. */
		tx->error = true;
		tftp_error_for_drop(-SB_DROP_TFTP_UNKNOWN_TID, &tx->error_code, &tx->error_msg);
		return -SB_DROP_TFTP_UNKNOWN_TID;
	}
	op = tftp_opcode(buf, len);
	if (op < 0)
		return op;
	switch (op) {
	case TFTP_OP_ACK:
		rc = tftp_parse_ack(buf, len, &block);
		if (rc < 0)
			return rc;
		if (idx != st->master)
			return -SB_DROP_MTFTP_ACK_NOT_MASTER; /* RFC 2090: only the master ACKs */
		return on_master_ack(st, block, now, tx);
	case TFTP_OP_ERROR:
		rc = tftp_parse_error(buf, len, &code, &msg, &msg_len);
		if (rc < 0)
			return rc;
		leave(st, idx, MTFTP_LEAVE_ERROR, now, tx);
		return tx->oack ? 1 : 0;
	case TFTP_OP_RRQ:
	case TFTP_OP_WRQ:
	case TFTP_OP_DATA:
	case TFTP_OP_OACK:
		return -SB_DROP_TFTP_UNEXPECTED_OPCODE;
	default:
		return -SB_DROP_TFTP_BAD_OPCODE;
	}
}

int mtftp_on_timer(struct mtftp_stream *st, uint64_t now, struct mtftp_tx *tx)
{
	struct mtftp_client *c;

	memset(tx, 0, sizeof(*tx));
	if (st->ended || st->master < 0 || now < st->deadline)
		return 0;
	c = &st->c[st->master];
	if (now >= st->progress + master_limit(st)) {
		leave(st, st->master, MTFTP_LEAVE_TIMEOUT, now, tx);
		return tx->oack ? 1 : 0;
	}
	st->tries++;
	st->stats.timeouts++;
	if (st->tries > 1 && st->wait_ms < 4 * st->timeout_ms)
		st->wait_ms *= 2;
	if (c->state == MTFTP_C_MASTER_OACK) {
		oack_to(st, st->master, tx);
		sent_now(st, now);
		return 1;
	}
	/* Two resends to the group without progress: the group may not reach the master. */
	if (st->tries >= 2 && !c->unicast) {
		c->unicast = true;
		st->stats.unicast_fallbacks++;
	}
	return send_from(st, st->acked, now, tx);
}

uint64_t mtftp_next_deadline(const struct mtftp_stream *st)
{
	return st->ended ? UINT64_MAX : st->deadline;
}

bool mtftp_ended(const struct mtftp_stream *st)
{
	return st->ended;
}

int mtftp_build_oack(uint8_t *out, size_t cap, const struct mtftp_stream *st,
		     const struct mtftp_tx *tx)
{
	const struct mtftp_client *c;
	struct tftp_params p = {0};
	char val[40];
	int n, vlen;

	if (!tx->oack || tx->oack_client < 0 || tx->oack_client >= MTFTP_CLIENTS_MAX)
		return -EINVAL;
	c = &st->c[tx->oack_client];
	p.mode = TFTP_MODE_OCTET;
	p.blksize = st->blksize;
	p.windowsize = c->windowsize;
	p.timeout_s = c->timeout_s;
	p.tsize = st->size;
	p.oack_opts = c->oack_opts;
	n = tftp_build_oack(out, cap, &p);
	if (n < 0)
		return n;
	/* RFC 2090: multicast = "addr,port,mc", mc 1 for the master client. */
	vlen = snprintf(val, sizeof(val), "%u.%u.%u.%u,%u,%u", st->group_ip >> 24,
			(st->group_ip >> 16) & 255, (st->group_ip >> 8) & 255, st->group_ip & 255,
			st->group_port, tx->oack_client == st->master ? 1 : 0);
	if ((size_t)n + sizeof("multicast") + (size_t)vlen + 1 > cap)
		return -ENOSPC;
	memcpy(out + n, "multicast", sizeof("multicast"));
	n += (int)sizeof("multicast");
	memcpy(out + n, val, (size_t)vlen + 1);
	return n + vlen + 1;
}

int mtftp_data_ref(const struct mtftp_stream *st, uint64_t block, const uint8_t **ptr, size_t *len)
{
	uint64_t off;

	if (block < 1 || block > st->last_block)
		return -EINVAL;
	off = (block - 1) * st->blksize;
	*len = st->size - off < st->blksize ? (size_t)(st->size - off) : st->blksize;
	*ptr = st->data + off;
	return 0;
}

int mtftp_build_data(uint8_t *out, size_t cap, const struct mtftp_stream *st, uint64_t block)
{
	const uint8_t *p;
	size_t n;

	if (mtftp_data_ref(st, block, &p, &n) < 0)
		return -EINVAL;
	if (cap < TFTP_HDR_LEN + n)
		return -ENOSPC;
	if (n)
		memcpy(out + TFTP_HDR_LEN, p, n);
	tftp_build_data_hdr(out, cap, (uint16_t)block);
	return (int)(TFTP_HDR_LEN + n);
}
