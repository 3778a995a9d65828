/* SPDX-License-Identifier: BSD-3-Clause */
/* control_link.c - the dataplane's end of the control channel (see control_link.h). */
#include "control_link.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>
#include <rte_spinlock.h>
#include <rte_byteorder.h>

#include "chan.h"
#include "dhcp_lb.h"
#include "snapshot.h"
#include "log.h"
#include "sbcfg_json.h"
#include "trace.h"

#define EV_RING	     16384 /* lease events worker 0 -> thread */
#define STATUS_SLOTS (4 * ENG_CTL_HOLD)
#define BATCH_MAX    256  /* records per LEASE_EVENT frame */
#define INFLIGHT_MAX 1024 /* LEASE_EVENT frames awaiting LEASE_DURABLE */
#define BACKLOG_MAX  (1u << 20)
#define ST_UNDURABLE 1 /* status slot: release the ACK, control did not confirm it */
#define TL_BATCH     256 /* timeline events per TIMELINE frame (24 KiB) */

struct eng_ctl *eng_ctl;

struct ev_rec {
	struct chan_lease l;
	uint32_t seq;
	uint32_t held;
};
_Static_assert(sizeof(struct ev_rec) == 32, "ring element");

struct held {
	uint32_t seq;
	struct rte_mbuf *m;
	uint64_t rx_tsc, deadline;
};

struct inflight {
	uint32_t id, first_seq, n; /* first_seq 0: a resend, nothing held on it */
	struct chan_lease *recs;
};

struct eng_ctl {
	struct snapshots snaps; /* config snapshots and their RCU state */
	struct rte_ring *events;
	pthread_t thread;
	volatile bool stop;
	volatile bool connected;
	uint32_t durable_upto; /* every seq <= this has its status slot written */
	int32_t status[STATUS_SLOTS];
	/* worker 0 only */
	uint32_t next_seq;
	uint32_t h_head, h_tail;
	struct held hold[ENG_CTL_HOLD];
	struct eng_link_stats ls; /* acks_* and events_lost written by worker 0 only */
	bool dhcp_ready;
	uint64_t ready_deadline; /* TSC */
	/* cluster mode: the RFC 3074 buckets this server answers (written by the thread, read by
	 * the workers; a word torn against another for one packet is harmless) */
	volatile bool lb_on;
	volatile uint64_t lb_map[DHCP_LB_WORDS];
	/* boot token keys: the thread writes tok_shared under tok_lock and bumps tok_gen; worker
	 * 0 copies them into tok_w0 when tok_gen moved (eng_ctl_token_keys) */
	rte_spinlock_t tok_lock;
	struct boot_token_keys tok_shared;
	uint32_t tok_gen;
	struct boot_token_keys tok_w0; /* worker 0 only */
	uint32_t tok_w0_gen;	       /* worker 0 only; 0 = no keys yet */
	/* the thread only */
	struct chan_client *c;
	struct inflight fl[INFLIGHT_MAX];
	uint32_t fl_head, fl_tail;
	struct chan_lease *backlog;
	size_t n_backlog;
	struct sb_tl_event tl[TL_BATCH];
	uint64_t tl_sent, tl_unsent; /* timeline events sent to control / dropped: not connected */
};

/* ---------------- worker side (hot path: no locks, no allocation) ---------------- */

static void tx_one(struct eng_worker *w, struct held *h, uint64_t now_tsc)
{
	const struct eng_runtime *rt = w->rt;
	uint32_t len = h->m->pkt_len;

	if (rte_eth_tx_burst(rt->port.port_id, w->queue, &h->m, 1) == 0) {
		rte_pktmbuf_free(h->m);
		eng_count_drop(w->st, ENG_DROP_TX_FULL);
		return;
	}
	w->st->tx_pkts++;
	w->st->tx_bytes += len;
	w->st->tx_dhcp++;
	/* now_tsc: this poll's start, before the tx call; the wait for durability included */
	eng_lat_record(&w->st->lat_engine, eng_tsc_to_ns(rt, now_tsc - h->rx_tsc));
	eng_lat_record(&w->st->lat, eng_tsc_to_ns(rt, rte_rdtsc() - h->rx_tsc));
	w->st->tx_dhcp_ack++; /* only ACKs are held */
}

static inline bool strict(const struct eng_worker *w)
{
	return w->snap->cfg.dhcp.durability == SBCFG_DURABLE_STRICT;
}

/*
 * A held ACK whose lease control did not confirm (no answer in time, the link lost, the
 * dataplane leaving): "available" sends it undurable, "strict" drops it (the client asks
 * again and its next ACK waits for control like this one did).
 */
static void release_undurable(struct eng_ctl *c, struct eng_worker *w, struct held *h, uint64_t tsc)
{
	if (strict(w)) {
		eng_count_drop(w->st, ENG_DROP_ACK_NOT_DURABLE);
		rte_pktmbuf_free(h->m);
		return;
	}
	c->ls.acks_undurable++;
	tx_one(w, h, tsc);
}

/* Send the held ACKs that became durable (or waited too long), oldest first. */
static void release_held(struct eng_ctl *c, struct eng_worker *w, uint64_t tsc)
{
	uint32_t upto = __atomic_load_n(&c->durable_upto, __ATOMIC_ACQUIRE);

	while (c->h_head != c->h_tail) {
		struct held *h = &c->hold[c->h_head & (ENG_CTL_HOLD - 1)];

		if ((int32_t)(h->seq - upto) <= 0) {
			int32_t st = c->status[h->seq % STATUS_SLOTS];

			if (st == 0) {
				c->ls.acks_durable++;
				tx_one(w, h, tsc);
			} else if (st == ST_UNDURABLE) {
				release_undurable(c, w, h, tsc);
			} else { /* control refused the binding: no ACK, the client asks again */
				c->ls.acks_refused++;
				rte_pktmbuf_free(h->m);
			}
		} else if (tsc > h->deadline) {
			release_undurable(c, w, h, tsc);
		} else {
			break;
		}
		c->h_head++;
	}
}

void eng_ctl_worker_sync(struct eng_worker *w, uint64_t tsc)
{
	struct eng_ctl *c = eng_ctl;

	snapshot_adopt(&c->snaps, w, tsc);
	if (w->idx == 0 && c->h_head != c->h_tail)
		release_held(c, w, tsc);
}

bool eng_ctl_dhcp_ready(struct eng_worker *w)
{
	struct eng_ctl *c = eng_ctl;

	if (likely(c->dhcp_ready))
		return true;
	if (c->snaps.leases_restored) {
		c->dhcp_ready = true;
		ENG_LOG(INFO, "control's durable leases are in: serving DHCP");
		return true;
	}
	/* "strict": no pool without control's leases, however long control is away (a proxy
	 * gives no leases: it waits like "available"). */
	if (!(strict(w) && w->snap->leases) && rte_rdtsc() > c->ready_deadline) {
		c->dhcp_ready = true;
		ENG_LOG(WARNING,
			"control sent no leases within %d ms: serving DHCP without them, ACKs not "
			"durable (dhcp.durability \"available\")",
			ENG_CTL_RESTORE_WAIT_MS);
		return true;
	}
	return false;
}

bool eng_ctl_lb_answer(const struct pkt_udp *u)
{
	struct eng_ctl *c = eng_ctl;
	uint64_t map[DHCP_LB_WORDS];

	if (likely(!c->lb_on))
		return true;
	for (int i = 0; i < DHCP_LB_WORDS; i++)
		map[i] = c->lb_map[i];
	return dhcp_lb_should_answer(u->payload, u->payload_len, u->dst_ip == 0xffffffffu, map);
}

const struct boot_token_keys *eng_ctl_token_keys(void)
{
	struct eng_ctl *c = eng_ctl;

	if (unlikely(__atomic_load_n(&c->tok_gen, __ATOMIC_ACQUIRE) != c->tok_w0_gen)) {
		rte_spinlock_lock(&c->tok_lock);
		c->tok_w0 = c->tok_shared;
		c->tok_w0_gen = c->tok_gen;
		rte_spinlock_unlock(&c->tok_lock);
	}
	return c->tok_w0_gen ? &c->tok_w0 : NULL;
}

/* CHAN_MSG_TOKEN_KEYS: one struct chan_token_keys. */
static void on_token_keys(struct eng_ctl *c, const struct chan_msg *m)
{
	struct chan_token_keys k;
	int rc = 0;

	if (m->hdr.len != sizeof(k)) {
		rc = -EINVAL;
		ENG_LOG(ERR, "control: token keys of %u bytes, not %zu: refused", m->hdr.len,
			sizeof(k));
	} else {
		memcpy(&k, m->payload, sizeof(k));
		rte_spinlock_lock(&c->tok_lock);
		c->tok_shared.cur_id = k.cur_id;
		c->tok_shared.prev_id = k.prev_id;
		memcpy(c->tok_shared.cur, k.cur, sizeof(k.cur));
		memcpy(c->tok_shared.prev, k.prev, sizeof(k.prev));
		__atomic_store_n(&c->tok_gen, c->tok_gen + 1 ? c->tok_gen + 1 : 1,
				 __ATOMIC_RELEASE);
		rte_spinlock_unlock(&c->tok_lock);
		ENG_LOG(INFO, "control: boot token key %u (previous %u) for DHCP boot-file URLs",
			k.cur_id, k.prev_id);
		explicit_bzero(&k, sizeof(k));
	}
	chan_client_reply(c->c, m->hdr.type, m->hdr.id, rc, NULL, 0);
}

/* CHAN_MSG_BUCKETS: 32 bytes of bitmap, or empty (every client again). */
static void on_buckets(struct eng_ctl *c, const struct chan_msg *m)
{
	int rc = 0;

	if (m->hdr.len == 0) {
		c->lb_on = false;
		ENG_LOG(INFO, "control: answering every DHCP client (no load balancing)");
	} else if (m->hdr.len == DHCP_LB_BUCKETS / 8) {
		unsigned owned = 0;
		for (int i = 0; i < DHCP_LB_WORDS; i++) {
			uint64_t v;
			memcpy(&v, m->payload + i * 8, 8);
			v = rte_le_to_cpu_64(v);
			c->lb_map[i] = v;
			owned += (unsigned)__builtin_popcountll(v);
		}
		c->lb_on = true;
		ENG_LOG(INFO, "control: answering %u of %d DHCP load-balancing buckets", owned,
			DHCP_LB_BUCKETS);
		/* hand out addresses from the pool segments of our buckets first: servers then
		 * rarely pick the same free address (lease_prefer) */
		uint64_t map[DHCP_LB_WORDS];
		for (int i = 0; i < DHCP_LB_WORDS; i++)
			map[i] = c->lb_map[i];
		if (owned)
			rc = snapshot_post_prefer(&c->snaps, map);
	} else {
		rc = -EINVAL;
	}
	chan_client_reply(c->c, m->hdr.type, m->hdr.id, rc, NULL, 0);
}

void eng_ctl_worker_exit(struct eng_worker *w)
{
	struct eng_ctl *c = eng_ctl;

	if (c == NULL)
		return;
	if (w->idx == 0) /* control will not answer any more */
		while (c->h_head != c->h_tail)
			release_undurable(c, w, &c->hold[c->h_head++ & (ENG_CTL_HOLD - 1)],
					  rte_rdtsc());
	snapshot_worker_exit(&c->snaps, w);
}

enum eng_ctl_ack eng_ctl_lease_event(struct eng_worker *w, const struct dhcp_result *res,
				     struct rte_mbuf *reply, const struct pkt_udp *req,
				     const struct pkt_dest *dst, size_t payload_len,
				     uint64_t rx_tsc)
{
	struct eng_ctl *c = eng_ctl;
	struct ev_rec r = {.l = {.expires = res->lease.expires,
				 .ip = res->lease.ip,
				 .subnet = res->lease.subnet}};
	int why = 0; /* an ACK that cannot be held: ENG_DROP_ACK_* */
	struct held *h;
	bool ack;
	int flen;

	switch (res->event) {
	case DHCP_LEASE_BOUND:
		r.l.event = CHAN_LEASE_BOUND;
		break;
	case DHCP_LEASE_RELEASED:
		r.l.event = CHAN_LEASE_RELEASED;
		break;
	case DHCP_LEASE_DECLINED:
		r.l.event = CHAN_LEASE_DECLINED;
		break;
	default:
		return ENG_CTL_ACK_SEND;
	}
	memcpy(r.l.mac, res->lease.mac, 6);
	r.seq = ++c->next_seq;
	if (r.seq == 0)
		r.seq = ++c->next_seq;
	ack = reply && r.l.event == CHAN_LEASE_BOUND;
	if (ack && !c->connected)
		why = ENG_DROP_ACK_CONTROL_AWAY;
	else if (ack && c->h_tail - c->h_head == ENG_CTL_HOLD)
		why = ENG_DROP_ACK_HOLD_FULL;
	r.held = ack && why == 0;
	if (rte_ring_sp_enqueue_elem(c->events, &r, sizeof(r)) < 0) {
		c->ls.events_lost++; /* control learns it from the next snapshot exchange only */
		if (r.held)
			why = ENG_DROP_ACK_HOLD_FULL;
		r.held = 0;
	}
	if (!r.held) {
		if (!ack)
			return ENG_CTL_ACK_SEND;
		if (strict(w)) { /* no ACK without a durable lease: the client asks again */
			eng_count_drop(w->st, why);
			rte_pktmbuf_free(reply);
			return ENG_CTL_ACK_DROPPED;
		}
		c->ls.acks_undurable++;
		return ENG_CTL_ACK_SEND;
	}
	flen = pkt_build_udp(rte_pktmbuf_mtod(reply, uint8_t *), rte_pktmbuf_tailroom(reply), req,
			     w->snap->mac, dst, payload_len);
	if (flen < 0) /* the caller's own send fails and counts it; control has the event */
		return ENG_CTL_ACK_SEND;
	reply->data_len = (uint16_t)flen;
	reply->pkt_len = (uint32_t)flen;
	h = &c->hold[c->h_tail++ & (ENG_CTL_HOLD - 1)];
	h->seq = r.seq;
	h->m = reply;
	h->rx_tsc = rx_tsc;
	h->deadline = rte_rdtsc() + w->rt->clock.hz / 1000 * ENG_CTL_ACK_WAIT_MS;
	c->ls.acks_held++;
	return ENG_CTL_ACK_HELD;
}

/* ---------------- requests from control (control thread) ---------------- */

void eng_ctl_log_durability(const struct sbcfg *cfg)
{
	if (cfg->dhcp.mode != SBCFG_DHCP_FULL)
		return;
	if (cfg->dhcp.durability == SBCFG_DURABLE_STRICT)
		ENG_LOG(INFO,
			"dhcp.durability \"strict\": no DHCPACK leaves before control has "
			"its lease on disk (it waits up to %d ms for LEASE_DURABLE, else it "
			"is dropped: drop_dhcp_ack_not_durable); no DHCP is answered until "
			"control has connected and sent its leases "
			"(drop_dhcp_waiting_for_leases), and no ACK while control is away "
			"(drop_dhcp_ack_control_away)",
			ENG_CTL_ACK_WAIT_MS);
	else
		ENG_LOG(WARNING,
			"dhcp.durability \"available\": a DHCPACK waits up to %d ms for "
			"control's LEASE_DURABLE, then leaves without it; while control is "
			"away ACKs leave at once (acks_undurable) and DHCP is served %d ms "
			"after the start without control's leases: an ACKed lease may be "
			"lost if the dataplane dies before control is back",
			ENG_CTL_ACK_WAIT_MS, ENG_CTL_RESTORE_WAIT_MS);
}

void eng_ctl_link_stats(struct eng_link_stats *out)
{
	const struct eng_ctl *c = eng_ctl;

	memset(out, 0, sizeof(*out));
	if (c == NULL)
		return;
	*out = c->ls;
	out->snapshots = c->snaps.applied;
	out->snapshot_errors = c->snaps.refused;
	out->snapshots_freed = c->snaps.freed;
	out->timeline_sent = c->tl_sent;
	out->timeline_unsent = c->tl_unsent;
}

static void json_u64(void *ctx, const char *name, uint64_t v)
{
	json_object_set_new(ctx, name, json_integer((json_int_t)v));
}

static void json_str(void *ctx, const char *name, const char *v)
{
	json_object_set_new(ctx, name, json_string(v));
}

/* A view of stats.h's one renderer as compact JSON (the same names as telemetry). */
static char *view_json(enum eng_view view)
{
	json_t *o = json_object();
	struct eng_sink k = {o, json_u64, json_str};
	char *s = NULL;

	if (o && eng_stats_render(view, -1, &k) == 0)
		s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

static void reply_json(struct eng_ctl *c, const struct chan_msg *m, char *s)
{
	if (s)
		chan_client_reply(c->c, m->hdr.type, m->hdr.id, 0, s, strlen(s));
	else
		chan_client_reply(c->c, m->hdr.type, m->hdr.id, -ENOMEM, NULL, 0);
	free(s);
}

static void on_config(struct eng_ctl *c, const struct chan_msg *m)
{
	uint64_t t0 = rte_get_tsc_cycles();
	enum sbcfg_durability was = c->snaps.rt->snap->cfg.dhcp.durability;
	enum sbcfg_dhcp_mode mode = c->snaps.rt->snap->cfg.dhcp.mode;
	char err[SBCFG_ERR_MAX];
	const struct snapshot *s;
	int rc;

	rc = snapshot_apply(&c->snaps, (const char *)m->payload, m->hdr.len, err, sizeof(err));
	if (rc < 0) {
		ENG_LOG(ERR, "control: config generation %u refused: %s", m->hdr.id, err);
		chan_client_reply(c->c, m->hdr.type, m->hdr.id, rc, err, strlen(err));
		return;
	}
	s = c->snaps.rt->snap;
	/* Applied: built, published, adopted by every lcore, the replaced snapshot freed. */
	if (rc == 0)
		ENG_LOG(INFO,
			"control: config generation %u applied in %" PRIu64 " ms (%zu images, %zu "
			"of them read, %zu reservations)",
			m->hdr.id,
			eng_clock_scale(rte_get_tsc_cycles() - t0, 1000, rte_get_tsc_hz()),
			s->cfg.n_images, s->images_read, s->cfg.dhcp.n_reservations);
	if (rc == 0 && (s->cfg.dhcp.durability != was || s->cfg.dhcp.mode != mode))
		eng_ctl_log_durability(&s->cfg);
	chan_client_reply(c->c, m->hdr.type, m->hdr.id, 0, NULL, 0);
}

/* Give up on the frames in flight: their ACKs leave undurable; resend them later. */
static void inflight_drop(struct eng_ctl *c)
{
	uint32_t last = 0;

	for (; c->fl_head != c->fl_tail; c->fl_head++) {
		struct inflight *f = &c->fl[c->fl_head % INFLIGHT_MAX];

		for (uint32_t k = 0; k < f->n && c->n_backlog < BACKLOG_MAX; k++)
			c->backlog[c->n_backlog++] = f->recs[k];
		for (uint32_t k = 0; f->first_seq && k < f->n; k++)
			c->status[(f->first_seq + k) % STATUS_SLOTS] = ST_UNDURABLE;
		if (f->first_seq)
			last = f->first_seq + f->n - 1;
		free(f->recs);
	}
	if (last)
		__atomic_store_n(&c->durable_upto, last, __ATOMIC_RELEASE);
}

static void on_durable(struct eng_ctl *c, const struct chan_msg *m)
{
	struct inflight *f;
	const int32_t *st = (const int32_t *)m->payload;

	if (c->fl_head == c->fl_tail || c->fl[c->fl_head % INFLIGHT_MAX].id != m->hdr.id) {
		ENG_LOG(WARNING, "control: durable reply to unknown event frame %u", m->hdr.id);
		return;
	}
	f = &c->fl[c->fl_head % INFLIGHT_MAX];
	for (uint32_t k = 0; f->first_seq && k < f->n; k++) {
		int32_t s = k < m->hdr.len / 4 ? st[k] : m->hdr.status;
		c->status[(f->first_seq + k) % STATUS_SLOTS] = s > 0 ? -EPROTO : s;
	}
	if (f->first_seq)
		__atomic_store_n(&c->durable_upto, f->first_seq + f->n - 1, __ATOMIC_RELEASE);
	free(f->recs);
	c->fl_head++;
}

static void handle_msg(struct eng_ctl *c, const struct chan_msg *m)
{
	switch (m->hdr.type) {
	case CHAN_EV_CONNECTED:
		ENG_LOG(INFO, "control: connected, hello sent");
		break;
	case CHAN_EV_DISCONNECTED:
		if (c->connected)
			ENG_LOG(WARNING, "control: connection lost; serving on, ACKs not durable");
		c->connected = false;
		inflight_drop(c);
		break;
	case CHAN_MSG_HELLO | CHAN_REPLY:
		c->connected = m->hdr.status == 0;
		if (m->hdr.status)
			ENG_LOG(ERR, "control refused hello: %s", strerror(-m->hdr.status));
		break;
	case CHAN_MSG_CONFIG_SNAPSHOT:
		on_config(c, m);
		break;
	case CHAN_MSG_LEASES_SNAPSHOT:
	case CHAN_MSG_LEASE_REVOKE: {
		size_t n = m->hdr.len / sizeof(struct chan_lease);
		int rc = snapshot_post_leases(&c->snaps, m->hdr.type == CHAN_MSG_LEASE_REVOKE,
					      (const struct chan_lease *)m->payload, n);
		chan_client_reply(c->c, m->hdr.type, m->hdr.id, rc, NULL, 0);
		if (m->hdr.type == CHAN_MSG_LEASES_SNAPSHOT)
			ENG_LOG(INFO, "control: restoring %zu leases", n);
		break;
	}
	case CHAN_MSG_LEASE_DURABLE:
		on_durable(c, m);
		break;
	case CHAN_MSG_BUCKETS:
		on_buckets(c, m);
		break;
	case CHAN_MSG_TOKEN_KEYS:
		on_token_keys(c, m);
		break;
	case CHAN_MSG_STATS_REQUEST:
		reply_json(c, m, view_json(ENG_VIEW_STATS));
		break;
	case CHAN_MSG_SESSIONS_REQUEST:
		reply_json(c, m, view_json(ENG_VIEW_SESSIONS));
		break;
	case CHAN_MSG_LATENCY_REQUEST:
		reply_json(c, m, view_json(ENG_VIEW_LATENCY));
		break;
	case CHAN_MSG_IMAGES_REQUEST:
		reply_json(c, m, view_json(ENG_VIEW_IMAGES));
		break;
	default:
		if (!(m->hdr.type & CHAN_REPLY))
			chan_client_reply(c->c, m->hdr.type, m->hdr.id, -EOPNOTSUPP, NULL, 0);
		break;
	}
}

/* Send recs as one LEASE_EVENT frame and remember it until LEASE_DURABLE. */
static int send_events(struct eng_ctl *c, const struct chan_lease *recs, uint32_t n,
		       uint32_t first_seq)
{
	struct inflight *f;
	uint32_t id;

	if (c->fl_tail - c->fl_head == INFLIGHT_MAX)
		return -ENOBUFS;
	f = &c->fl[c->fl_tail % INFLIGHT_MAX];
	f->recs = malloc(n * sizeof(*recs));
	if (f->recs == NULL)
		return -ENOMEM;
	if (chan_client_request(c->c, CHAN_MSG_LEASE_EVENT, recs, n * sizeof(*recs), &id) < 0) {
		free(f->recs);
		return -ENOTCONN;
	}
	memcpy(f->recs, recs, n * sizeof(*recs));
	f->id = id;
	f->n = n;
	f->first_seq = first_seq;
	c->fl_tail++;
	return 0;
}

/* Move lease events from worker 0 to control (or to the backlog while it is away). */
static void pump_events(struct eng_ctl *c)
{
	struct ev_rec r[BATCH_MAX];
	struct chan_lease recs[BATCH_MAX];
	unsigned int n;

	while (c->connected && c->n_backlog && c->fl_tail - c->fl_head < INFLIGHT_MAX) {
		uint32_t k = c->n_backlog > BATCH_MAX ? BATCH_MAX : (uint32_t)c->n_backlog;

		if (send_events(c, c->backlog + c->n_backlog - k, k, 0) < 0)
			break;
		c->n_backlog -= k;
	}
	while (!c->connected || c->fl_tail - c->fl_head < INFLIGHT_MAX) {
		n = rte_ring_sc_dequeue_burst_elem(c->events, r, sizeof(r[0]), BATCH_MAX, NULL);
		if (n == 0)
			return;
		for (unsigned int i = 0; i < n; i++)
			recs[i] = r[i].l;
		if (c->connected && send_events(c, recs, n, r[0].seq) == 0)
			continue;
		for (unsigned int i = 0; i < n; i++) { /* no control: serve on, tell it later */
			if (c->n_backlog < BACKLOG_MAX)
				c->backlog[c->n_backlog++] = recs[i];
			c->status[r[i].seq % STATUS_SLOTS] = ST_UNDURABLE;
		}
		__atomic_store_n(&c->durable_upto, r[n - 1].seq, __ATOMIC_RELEASE);
	}
}

/*
 * Every worker's boot steps to control, as TIMELINE frames (no reply). While control is away
 * they are dropped and counted: a timeline is a diagnosis aid, not a durable record, and the
 * rings must not fill the poll loop's way.
 */
static void pump_timeline(struct eng_ctl *c)
{
	const struct eng_runtime *rt = c->snaps.rt;

	for (unsigned int i = 0; i < rt->n_workers; i++) {
		unsigned int n, rounds = 0;

		while (rounds++ < 16 &&
		       (n = eng_trace_drain(rt->workers[i], c->tl, TL_BATCH)) > 0) {
			if (c->connected && chan_client_request(c->c, CHAN_MSG_TIMELINE, c->tl,
								n * sizeof(c->tl[0]), NULL) == 0)
				c->tl_sent += n;
			else
				c->tl_unsent += n;
			if (n < TL_BATCH)
				break;
		}
	}
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void *ctl_thread(void *arg)
{
	struct eng_ctl *c = arg;

	while (!c->stop && !eng_force_quit) {
		struct chan_msg m;
		int fd;

		while (chan_client_poll(c->c, mono_ms(), &m) == 1)
			handle_msg(c, &m);
		pump_events(c);
		pump_timeline(c);
		snapshot_retire(&c->snaps);
		/* 1 ms: the group-commit window for events, and the wake-up for anything. */
		fd = chan_client_fd(c->c);
		if (fd >= 0) {
			struct pollfd p = {fd, POLLIN, 0};
			(void)poll(&p, 1, 1);
		} else {
			usleep(1000);
		}
	}
	return NULL;
}

int eng_ctl_start(struct eng_runtime *rt, const char *path, char *err, size_t errlen)
{
	struct eng_ctl *c = rte_zmalloc("sb_ctl", sizeof(*c), RTE_CACHE_LINE_SIZE);
	if (c)
		rte_spinlock_init(&c->tok_lock);
	char hello[128];
	int rc;

	if (c == NULL)
		goto nomem;
	c->ready_deadline = rte_rdtsc() + rte_get_tsc_hz() / 1000 * ENG_CTL_RESTORE_WAIT_MS;
	c->backlog = malloc(BACKLOG_MAX * sizeof(*c->backlog));
	if (c->backlog == NULL || snapshot_init(&c->snaps, rt) < 0)
		goto nomem;
	c->events = rte_ring_create_elem("sb_ctl_events", sizeof(struct ev_rec), EV_RING,
					 (int)rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (c->events == NULL)
		goto nomem;
	snprintf(hello, sizeof(hello), "{\"pid\": %ld, \"version\": \"0.1.0\", \"workers\": %u}",
		 (long)getpid(), rt->n_workers);
	c->c = chan_client_new(path, hello);
	if (c->c == NULL)
		goto nomem;
	eng_ctl = c;
	rc = rte_ctrl_thread_create(&c->thread, "sb-ctlchan", NULL, ctl_thread, c);
	if (rc != 0) {
		eng_ctl = NULL;
		snprintf(err, errlen, "control channel thread: %s", strerror(rc));
		return -rc;
	}
	ENG_LOG(INFO, "control channel %s", path);
	eng_ctl_log_durability(&rt->snap->cfg);
	return 0;
nomem:
	snprintf(err, errlen, "control channel: out of memory");
	return -ENOMEM;
}

void eng_ctl_stop(void)
{
	struct eng_ctl *c = eng_ctl;

	if (c == NULL)
		return;
	c->snaps.stopping = true;
	c->stop = true;
	pthread_join(c->thread, NULL);
	chan_client_free(c->c);
	snapshot_fini(&c->snaps);
	for (; c->fl_head != c->fl_tail; c->fl_head++)
		free(c->fl[c->fl_head % INFLIGHT_MAX].recs);
	rte_ring_free(c->events);
	free(c->backlog);
	eng_ctl = NULL;
	rte_free(c);
}
