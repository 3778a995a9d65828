/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tftp_wait.c - paced TFTP read requests admitted in arrival order (tftp_wait.h).
 */
#include "tftp_wait.h"

#include <errno.h>
#include <string.h>

static inline uint32_t wait_hash(const struct tftp_wait *q, uint32_t ip, uint16_t port)
{
	uint32_t h = ip * 2654435761u ^ ((uint32_t)port * 40503u + (ip >> 16));

	h ^= h >> 15;
	return h & (q->cap - 1);
}

int tftp_wait_init(struct tftp_wait *q, struct tftp_waiter *v, uint32_t *bucket, uint32_t cap,
		   uint64_t ttl_ms)
{
	if (q == NULL || v == NULL || bucket == NULL || cap == 0 || (cap & (cap - 1)) != 0)
		return -EINVAL;
	memset(q, 0, sizeof(*q));
	q->v = v;
	q->bucket = bucket;
	q->cap = cap;
	q->ttl_ms = ttl_ms;
	for (uint32_t i = 0; i < cap; i++)
		bucket[i] = TFTP_WAIT_NIL;
	return 0;
}

static uint32_t wait_find(const struct tftp_wait *q, uint32_t ip, uint16_t port)
{
	uint32_t i = q->bucket[wait_hash(q, ip, port)];

	while (i != TFTP_WAIT_NIL && (q->v[i].client_ip != ip || q->v[i].client_port != port))
		i = q->v[i].hnext;
	return i;
}

/* Take the head off the queue and out of its hash chain. */
static struct tftp_waiter *wait_take_head(struct tftp_wait *q)
{
	struct tftp_waiter *w = &q->v[q->head];
	uint32_t *link = &q->bucket[wait_hash(q, w->client_ip, w->client_port)];

	while (*link != q->head)
		link = &q->v[*link].hnext;
	*link = w->hnext;
	w->hnext = TFTP_WAIT_NIL;
	q->head = (q->head + 1) & (q->cap - 1);
	q->n--;
	return w;
}

static inline bool wait_silent(const struct tftp_wait *q, const struct tftp_waiter *w,
			       uint64_t now_ms)
{
	return now_ms >= w->seen_ms && now_ms - w->seen_ms >= q->ttl_ms;
}

uint32_t tftp_wait_expire(struct tftp_wait *q, uint64_t now_ms)
{
	uint32_t k = 0;

	while (q->n > 0 && wait_silent(q, &q->v[q->head], now_ms)) {
		wait_take_head(q);
		q->st.expired++;
		k++;
	}
	return k;
}

static void wait_copy(struct tftp_waiter *w, const struct pkt_udp *u, uint64_t now_ms)
{
	w->peer = *u;
	w->peer.payload = NULL;
	w->peer.payload_len = 0;
	memcpy(w->rrq, u->payload, u->payload_len);
	w->rrq_len = (uint16_t)u->payload_len;
	w->seen_ms = now_ms;
}

int tftp_wait_hold(struct tftp_wait *q, const struct pkt_udp *u, uint64_t now_ms)
{
	struct tftp_waiter *w;
	uint32_t i, h;

	if (u->payload_len > TFTP_WAIT_RRQ_MAX || (u->payload_len > 0 && u->payload == NULL)) {
		q->st.too_long++;
		return -EMSGSIZE;
	}
	i = wait_find(q, u->src_ip, u->src_port);
	if (i != TFTP_WAIT_NIL) {
		wait_copy(&q->v[i], u, now_ms);
		q->st.refreshed++;
		return 1;
	}
	if (q->n == q->cap && tftp_wait_expire(q, now_ms) == 0) {
		q->st.full++;
		return -ENOSPC;
	}
	i = (q->head + q->n) & (q->cap - 1);
	w = &q->v[i];
	w->client_ip = u->src_ip;
	w->client_port = u->src_port;
	w->since_ms = now_ms;
	wait_copy(w, u, now_ms);
	h = wait_hash(q, u->src_ip, u->src_port);
	w->hnext = q->bucket[h];
	q->bucket[h] = i;
	q->n++;
	q->st.held++;
	return 0;
}

const struct tftp_waiter *tftp_wait_pop(struct tftp_wait *q, uint64_t now_ms)
{
	tftp_wait_expire(q, now_ms);
	if (q->n == 0)
		return NULL;
	q->st.admitted++;
	return wait_take_head(q);
}

int tftp_wait_position(const struct tftp_wait *q, uint32_t client_ip, uint16_t client_port)
{
	uint32_t i = wait_find(q, client_ip, client_port);

	if (i == TFTP_WAIT_NIL)
		return -ENOENT;
	return (int)((i - q->head) & (q->cap - 1));
}

uint64_t tftp_wait_oldest_ms(const struct tftp_wait *q, uint64_t now_ms)
{
	const struct tftp_waiter *w;

	if (q->n == 0)
		return 0;
	w = &q->v[q->head];
	return now_ms > w->since_ms ? now_ms - w->since_ms : 0;
}
