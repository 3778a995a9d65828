/* SPDX-License-Identifier: BSD-3-Clause */
/* dataplane_link.c - control's end of the dataplane channel (see dataplane_link.h). */
#define _GNU_SOURCE
#include "dataplane_link.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>

#include "ctl_array.h"
#include "ctl_log.h"
#include "ctl_socket.h"
#include "sbcfg_json.h"

#define TIMEOUT_CHECK_MS 100 /* how often waiting requests are checked for their deadline */

static uint64_t now_s(const struct dataplane_link *dp)
{
	return ctl_clock_now(&dp->deps.clock);
}

bool dataplane_link_connected(const struct dataplane_link *dp)
{
	return dp->fd >= 0 && dp->hello;
}

static void send_frame(struct dataplane_link *dp, uint16_t type, uint32_t id, int32_t status,
		       const void *payload, size_t len)
{
	if (dp->fd < 0)
		return;
	if (chan_buf_put_frame(&dp->out, type, id, status, payload, len) < 0 ||
	    chan_buf_pending(&dp->out) > DATAPLANE_LINK_OUT_MAX) {
		dataplane_link_disconnect(dp, "output queue full or out of memory");
		return;
	}
	ev_file_mask(dp->deps.loop, dp->fd, EV_READ | EV_WRITE);
}

/* Take pending request i out of the list and report r to its owner. */
static void finish(struct dataplane_link *dp, size_t i, struct dataplane_link_reply *r)
{
	struct dataplane_link_pending p = dp->pend[i];

	dp->pend[i] = dp->pend[--dp->n_pend];
	r->id = r->outcome == DATAPLANE_LINK_REPLIED ? r->id : p.id;
	p.fn(p.arg, p.cookie, r);
}

void dataplane_link_disconnect(struct dataplane_link *dp, const char *why)
{
	if (dp->fd < 0)
		return;
	ctl_log(LOG_WARNING, "dataplane: connection from pid %ld closed: %s", dp->peer_pid, why);
	ev_file_del(dp->deps.loop, dp->fd);
	close(dp->fd);
	dp->fd = -1;
	dp->hello = false;
	dp->closing = false;
	chan_buf_reset(&dp->in);
	chan_buf_reset(&dp->out);
	/* Records already applied stay queued and are committed; only the replies are moot. */
	for (size_t i = 0; i < dp->n_acks; i++)
		free(dp->acks[i].status);
	dp->n_acks = 0;
	/* Waiting requests end; a callback may start new ones (they fail at once). */
	while (dp->n_pend) {
		struct dataplane_link_reply r = {.outcome = DATAPLANE_LINK_GONE};
		finish(dp, dp->n_pend - 1, &r);
	}
}

static int add_pending(struct dataplane_link *dp, uint16_t type, uint32_t id, uint32_t timeout_ms,
		       dataplane_link_reply_fn *fn, void *arg, uint64_t cookie)
{
	struct dataplane_link_pending *p =
		ctl_array_grow(dp->pend, &dp->cap_pend, dp->n_pend, sizeof(*p), 16);

	if (!p)
		return -ENOMEM;
	dp->pend = p;
	dp->pend[dp->n_pend++] = (struct dataplane_link_pending){
		type, id, ev_now_ms() + timeout_ms, fn, arg, cookie};
	return 0;
}

int dataplane_link_send_config(struct dataplane_link *dp, const struct sbcfg *cfg,
			       uint64_t generation, uint32_t timeout_ms,
			       dataplane_link_reply_fn *fn, void *arg, uint64_t cookie)
{
	char *json;

	if (!dataplane_link_connected(dp))
		return -ENOTCONN;
	json = sbcfg_to_json(cfg);
	if (!json) {
		dataplane_link_disconnect(dp, "out of memory for the config snapshot");
		return -ENOMEM;
	}
	send_frame(dp, CHAN_MSG_CONFIG_SNAPSHOT, (uint32_t)generation, 0, json, strlen(json));
	free(json);
	if (dp->fd < 0)
		return -ENOTCONN; /* the queue overflowed: the link is closed, nobody was called */
	if (fn && add_pending(dp, CHAN_MSG_CONFIG_SNAPSHOT, (uint32_t)generation, timeout_ms, fn,
			      arg, cookie) < 0) {
		/* sent but nobody could wait for it: start over with a fresh connection */
		dataplane_link_disconnect(dp, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

struct snap_ctx {
	struct chan_lease *v;
	size_t n, cap;
};

static int snap_cb(const struct lease_info *l, void *arg)
{
	struct snap_ctx *sc = arg;
	struct chan_lease *v;

	if (l->state != LEASE_BOUND)
		return 0;
	if (!(v = ctl_array_grow(sc->v, &sc->cap, sc->n, sizeof(*v), 1024)))
		return -ENOMEM;
	sc->v = v;
	struct chan_lease *e = &sc->v[sc->n++];
	memset(e, 0, sizeof(*e));
	e->expires = l->expires;
	e->ip = l->ip;
	memcpy(e->mac, l->mac, 6);
	e->event = CHAN_LEASE_BOUND;
	e->subnet = l->subnet;
	return 0;
}

/* What a dataplane gets when it connects: the running config, then every durable lease. */
static void send_state(struct dataplane_link *dp)
{
	const struct running_config *cur = dp->deps.running(dp->deps.arg);
	struct snap_ctx sc = {0};

	if (dataplane_link_send_config(dp, &cur->cfg, cur->generation, 0, NULL, NULL, 0) < 0)
		return;
	/* Only what is durable: commit first, so the snapshot never holds an unwritten lease. */
	dataplane_link_durable_flush(dp);
	if (lease_foreach(lease_store_pool(dp->deps.store), now_s(dp), snap_cb, &sc) < 0) {
		free(sc.v);
		dataplane_link_disconnect(dp, "out of memory for the leases snapshot");
		return;
	}
	send_frame(dp, CHAN_MSG_LEASES_SNAPSHOT, dp->next_id++, 0, sc.v, sc.n * sizeof(*sc.v));
	ctl_log(LOG_INFO, "dataplane: sent config generation %llu and %zu leases",
		(unsigned long long)cur->generation, sc.n);
	free(sc.v);
	if (dp->lb_set)
		send_frame(dp, CHAN_MSG_BUCKETS, dp->next_id++, 0, dp->lb_map, sizeof(dp->lb_map));
	if (dp->keys_set)
		send_frame(dp, CHAN_MSG_TOKEN_KEYS, dp->next_id++, 0, &dp->keys, sizeof(dp->keys));
	if (dp->deps.connected)
		dp->deps.connected(dp->deps.remote_arg);
}

void dataplane_link_set_buckets(struct dataplane_link *dp, const uint8_t *map32)
{
	dp->lb_set = map32 != NULL;
	if (map32)
		memcpy(dp->lb_map, map32, sizeof(dp->lb_map));
	if (dataplane_link_connected(dp))
		send_frame(dp, CHAN_MSG_BUCKETS, dp->next_id++, 0, map32,
			   map32 ? sizeof(dp->lb_map) : 0);
}

void dataplane_link_set_token_keys(struct dataplane_link *dp, const struct boot_token_keys *k)
{
	_Static_assert(sizeof(dp->keys.cur) == BOOT_TOKEN_KEY_LEN, "one key size");
	dp->keys = (struct chan_token_keys){.cur_id = k->cur_id, .prev_id = k->prev_id};
	memcpy(dp->keys.cur, k->cur, sizeof(dp->keys.cur));
	memcpy(dp->keys.prev, k->prev, sizeof(dp->keys.prev));
	dp->keys_set = true;
	if (dataplane_link_connected(dp))
		send_frame(dp, CHAN_MSG_TOKEN_KEYS, dp->next_id++, 0, &dp->keys, sizeof(dp->keys));
}

void dataplane_link_push_leases(struct dataplane_link *dp, const struct chan_lease *v, size_t n)
{
	if (n && dataplane_link_connected(dp))
		send_frame(dp, CHAN_MSG_LEASES_SNAPSHOT, dp->next_id++, 0, v, n * sizeof(*v));
}

/* A ticket: the connection (its count) and the frame id, and the record's index. */
static uint64_t ticket_of(const struct dataplane_link *dp, uint32_t id, uint32_t k)
{
	return (uint64_t)(dp->connects & 0xffff) << 48 | (uint64_t)(k & 0xffff) << 32 | id;
}

void dataplane_link_remote_done(struct dataplane_link *dp, uint64_t ticket, int32_t status)
{
	uint32_t id = (uint32_t)ticket, k = (uint32_t)(ticket >> 32) & 0xffff;

	if ((ticket >> 48) != (dp->connects & 0xffff))
		return; /* a connection that is gone */
	for (size_t i = 0; i < dp->n_acks; i++) {
		struct dataplane_link_ack *a = &dp->acks[i];

		if (a->id != id || k >= a->n || !a->remote)
			continue;
		if (status < 0 && a->status[k] == 0) {
			a->status[k] = status;
			dp->remote_refused++;
		}
		a->remote--;
		return;
	}
}

void dataplane_link_durable_flush(struct dataplane_link *dp)
{
	struct lease_store *store = dp->deps.store;
	int rc = 0;

	if (lease_store_pending(store)) {
		rc = lease_store_commit(store, now_s(dp));
		if (rc < 0)
			ctl_log(LOG_ERR, "lease store: commit failed: %s; leases not confirmed",
				strerror(-rc));
	}
	for (size_t i = 0; rc < 0 && i < dp->n_acks; i++)
		for (uint32_t k = 0; k < dp->acks[i].n; k++)
			if (dp->acks[i].status[k] == 0)
				dp->acks[i].status[k] = rc;
	/* in order (the dataplane matches replies to its frames in order): up to the first
	 * one that still waits for its remote commit (cluster mode) */
	size_t sent = 0;
	while (sent < dp->n_acks && dp->acks[sent].remote == 0) {
		struct dataplane_link_ack *a = &dp->acks[sent];
		int32_t first = 0;

		for (uint32_t k = 0; k < a->n; k++)
			if (a->status[k] && !first)
				first = a->status[k];
		send_frame(dp, CHAN_MSG_LEASE_DURABLE, a->id, first, a->status,
			   a->n * sizeof(a->status[0]));
		free(a->status);
		sent++;
	}
	if (sent) {
		memmove(dp->acks, dp->acks + sent, (dp->n_acks - sent) * sizeof(dp->acks[0]));
		dp->n_acks -= sent;
	}
}

int dataplane_link_request(struct dataplane_link *dp, uint16_t type, const void *payload,
			   size_t len, uint32_t timeout_ms, dataplane_link_reply_fn *fn, void *arg,
			   uint64_t cookie)
{
	uint32_t id = dp->next_id;

	if (!dataplane_link_connected(dp))
		return -ENOTCONN;
	/* room first, so that a request sent always has its waiter */
	struct dataplane_link_pending *p =
		ctl_array_grow(dp->pend, &dp->cap_pend, dp->n_pend, sizeof(*p), 16);
	if (!p)
		return -ENOMEM;
	dp->pend = p;
	dp->next_id++;
	send_frame(dp, type, id, 0, payload, len);
	if (dp->fd < 0)
		return -ENOTCONN; /* closed while sending: nobody was called */
	return add_pending(dp, type, id, timeout_ms, fn, arg, cookie);
}

void dataplane_link_revoke(struct dataplane_link *dp, const struct chan_lease *l)
{
	if (dataplane_link_connected(dp))
		send_frame(dp, CHAN_MSG_LEASE_REVOKE, dp->next_id++, 0, l, sizeof(*l));
}

static void on_hello(struct dataplane_link *dp, const struct chan_hdr *h, const uint8_t *p)
{
	char reply[64];
	json_t *o = json_loadb((const char *)p, h->len, 0, NULL);
	json_t *pid = o ? json_object_get(o, "pid") : NULL;

	snprintf(reply, sizeof(reply), "{\"version\": \"%.40s\"}", dp->deps.version);
	dp->hello = true;
	dp->connects++;
	ctl_log(LOG_INFO, "dataplane: hello from pid %lld (socket peer pid %ld)",
		json_is_integer(pid) ? (long long)json_integer_value(pid) : -1LL, dp->peer_pid);
	json_decref(o);
	send_frame(dp, h->type | CHAN_REPLY, h->id, 0, reply, strlen(reply));
	send_state(dp);
}

/* Boot steps: copied out of the stream (a payload need not be aligned) in batches. */
static void on_timeline(struct dataplane_link *dp, const struct chan_hdr *h, const uint8_t *p)
{
	struct sb_tl_event ev[64];
	size_t n = h->len / sizeof(ev[0]);

	for (size_t i = 0; dp->deps.timeline && i < n; i += 64) {
		size_t k = n - i < 64 ? n - i : 64;

		memcpy(ev, p + i * sizeof(ev[0]), k * sizeof(ev[0]));
		dp->deps.timeline(dp->deps.arg, ev, k);
	}
}

static void on_lease_event(struct dataplane_link *dp, const struct chan_hdr *h, const uint8_t *p)
{
	uint32_t n = h->len / sizeof(struct chan_lease);
	uint64_t now = now_s(dp);
	struct dataplane_link_ack a = {h->id, n, 0, NULL};

	if (h->len == 0 || h->len % sizeof(struct chan_lease)) {
		int32_t st = -EINVAL;
		send_frame(dp, CHAN_MSG_LEASE_DURABLE, h->id, -EINVAL, &st, sizeof(st));
		return;
	}
	struct dataplane_link_ack *v =
		ctl_array_grow(dp->acks, &dp->cap_acks, dp->n_acks, sizeof(*v), 64);
	if (!v) {
		dataplane_link_disconnect(dp, "out of memory");
		return;
	}
	dp->acks = v;
	a.status = calloc(n, sizeof(*a.status));
	if (!a.status) {
		dataplane_link_disconnect(dp, "out of memory");
		return;
	}
	dp->events++;
	for (uint32_t i = 0; i < n; i++) {
		struct chan_lease ev;
		char m[18], ip[16];

		memcpy(&ev, p + i * sizeof(ev), sizeof(ev));
		a.status[i] = lease_store_apply(dp->deps.store, &ev, now);
		dp->records++;
		if (a.status[i] == 0 && dp->deps.remote_submit) {
			int rc = dp->deps.remote_submit(dp->deps.remote_arg, &ev,
							ticket_of(dp, h->id, i));
			if (rc < 0) {
				a.status[i] = rc;
				dp->remote_refused++;
			} else {
				a.remote++;
			}
		}
		if (a.status[i] < 0)
			ctl_log(LOG_WARNING, "dataplane: lease event %u %s %s refused: %s",
				ev.event, running_config_fmt_mac(ev.mac, m),
				running_config_fmt_ip(ev.ip, ip), strerror(-a.status[i]));
	}
	dp->acks[dp->n_acks++] = a; /* answered after the commit, before the loop sleeps */
}

/* A config reply answers every waiter for its generation or an earlier one. */
static void on_config_reply(struct dataplane_link *dp, const struct chan_hdr *h, const uint8_t *p)
{
	if (h->status == 0)
		dp->config_adopted = h->id;
	dp->config_status = h->status;
	snprintf(dp->config_err, sizeof(dp->config_err), "%.*s",
		 h->status ? (int)(h->len < 511 ? h->len : 511) : 0, (const char *)p);
	if (h->status)
		ctl_log(LOG_ERR, "dataplane refused config generation %u: %s (%s)", h->id,
			strerror(-h->status), dp->config_err);
	else
		ctl_log(LOG_INFO, "dataplane adopted config generation %u", h->id);
	for (size_t i = 0; i < dp->n_pend;) {
		const struct dataplane_link_pending *w = &dp->pend[i];
		if (w->type != CHAN_MSG_CONFIG_SNAPSHOT || (int32_t)(h->id - w->id) < 0) {
			i++;
			continue;
		}
		struct dataplane_link_reply r = {DATAPLANE_LINK_REPLIED, h->id, h->status, p,
						 h->len};
		finish(dp, i, &r);
		i = 0; /* the callback may have changed the list */
	}
}

static void on_reply(struct dataplane_link *dp, const struct chan_hdr *h, const uint8_t *p)
{
	uint16_t req = h->type & (uint16_t)~CHAN_REPLY;

	if (req == CHAN_MSG_CONFIG_SNAPSHOT) {
		on_config_reply(dp, h, p);
		return;
	}
	if (req == CHAN_MSG_LEASES_SNAPSHOT || req == CHAN_MSG_LEASE_REVOKE ||
	    req == CHAN_MSG_BUCKETS || req == CHAN_MSG_TOKEN_KEYS) {
		if (h->status)
			ctl_log(LOG_WARNING, "dataplane: %s failed: %s", chan_type_name(req),
				strerror(-h->status));
		return;
	}
	for (size_t i = 0; i < dp->n_pend; i++) {
		if (dp->pend[i].id != h->id || dp->pend[i].type != req)
			continue;
		struct dataplane_link_reply r = {DATAPLANE_LINK_REPLIED, h->id, h->status, p,
						 h->len};
		finish(dp, i, &r);
		return;
	}
	ctl_log(LOG_DEBUG, "dataplane: late or unexpected reply to %u", h->id);
}

/* Decode and handle every whole frame in dp->in. false if the connection was closed. */
static bool process(struct dataplane_link *dp)
{
	while (dp->fd >= 0 && !dp->closing) {
		struct chan_hdr h;
		const void *payload;
		ssize_t n = chan_frame_decode(dp->in.data + dp->in.off, chan_buf_pending(&dp->in),
					      0, &h, &payload);
		if (n == 0)
			return true;
		if (n == -EPROTONOSUPPORT) {
			ctl_log(LOG_ERR, "dataplane speaks channel version %u, we speak %u",
				h.version, CHAN_VERSION);
			send_frame(dp, h.type | CHAN_REPLY, h.id, -EPROTONOSUPPORT, NULL, 0);
			dp->closing = true;
			return true;
		}
		if (n < 0) {
			dataplane_link_disconnect(dp, n == -EMSGSIZE ? "frame larger than the cap"
								     : "bad frame");
			return false;
		}
		dp->in.off += (size_t)n;
		if (!dp->hello && h.type != CHAN_MSG_HELLO) {
			send_frame(dp, h.type | CHAN_REPLY, h.id, -EPROTO, NULL, 0);
			dp->closing = true;
			return true;
		}
		if (h.type & CHAN_REPLY)
			on_reply(dp, &h, payload);
		else if (h.type == CHAN_MSG_HELLO)
			on_hello(dp, &h, payload);
		else if (h.type == CHAN_MSG_LEASE_EVENT)
			on_lease_event(dp, &h, payload);
		else if (h.type == CHAN_MSG_TIMELINE) /* no reply */
			on_timeline(dp, &h, payload);
		else
			send_frame(dp, h.type | CHAN_REPLY, h.id, -EOPNOTSUPP, NULL, 0);
	}
	return dp->fd >= 0;
}

static void on_io(struct ev_loop *l, int fd, void *arg, unsigned int ready)
{
	struct dataplane_link *dp = arg;
	int rc;

	if (ready & EV_READ) {
		rc = chan_buf_fill(&dp->in, fd, sizeof(struct chan_hdr) + CHAN_MSG_MAX);
		if (rc < 0) {
			dataplane_link_disconnect(dp,
						  rc == -EPIPE ? "end of stream" : strerror(-rc));
			return;
		}
		if (!process(dp))
			return;
	}
	if (dp->fd != fd)
		return; /* a callback closed it */
	rc = chan_buf_flush(&dp->out, fd);
	if (rc < 0 || (rc == 0 && dp->closing)) {
		dataplane_link_disconnect(dp, rc < 0 ? strerror(-rc) : "protocol error");
		return;
	}
	ev_file_mask(l, fd, rc > 0 ? EV_READ | EV_WRITE : EV_READ);
}

/* Is the connected dataplane still there: its process alive and its end of the socket open? */
static bool current_alive(struct dataplane_link *dp)
{
	struct pollfd pfd = {.fd = dp->fd, .events = POLLIN | POLLRDHUP};

	if (poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLHUP | POLLRDHUP | POLLERR)))
		return false;
	/* pid 0: not visible from here; the open socket says it is there */
	if (dp->peer.pid > 0 && kill((pid_t)dp->peer.pid, 0) < 0 && errno == ESRCH)
		return false;
	return true;
}

/* Read what is left of the current dataplane's stream (its last lease events), then drop it. */
static void drain_current(struct dataplane_link *dp, const char *why)
{
	/* bounded: each turn reads what the socket holds, at most CHAN_MSG_MAX a frame */
	for (int i = 0; i < 64 && dp->fd >= 0; i++) {
		int rc = chan_buf_fill(&dp->in, dp->fd, sizeof(struct chan_hdr) + CHAN_MSG_MAX);

		if (rc < 0 && rc != -ENOBUFS)
			break; /* the end of its stream, or an error */
		if (!process(dp))
			return;
		if (rc == 0)
			break; /* nothing more for now */
	}
	dataplane_link_durable_flush(dp);
	dataplane_link_disconnect(dp, why);
}

/* Refuse the connection fd of peer p: a HELLO reply with status and why, then close. */
static void refuse(struct dataplane_link *dp, int fd, const struct ctl_peer *p, int32_t status,
		   const char *why)
{
	struct chan_buf b = {0};

	if (status == -EACCES)
		dp->refused_access++;
	else
		dp->refused_busy++;
	ctl_log_limited(
		&dp->refuse_log, LOG_WARNING,
		"dataplane: refused a connection from pid %ld uid %u: %s (%llu refused so far)",
		p->pid, (unsigned)p->uid, why,
		(unsigned long long)(dp->refused_access + dp->refused_busy));
	if (chan_buf_put_frame(&b, CHAN_MSG_HELLO | CHAN_REPLY, 0, status, why, strlen(why)) == 0)
		ctl_refusals_add(&dp->refusals, fd, b.data + b.off, chan_buf_pending(&b));
	else
		close(fd);
	chan_buf_free(&b);
}

int dataplane_link_attach(struct dataplane_link *dp, int fd, const struct ctl_peer *p, char *err,
			  size_t errlen)
{
	char why[400];
	int rc;

	if (!ctl_access_allows(&dp->access, p)) {
		refuse(dp, fd, p, -EACCES, ctl_access_denial(&dp->access, p, why, sizeof(why)));
		snprintf(err, errlen, "%s", why);
		return -EACCES;
	}
	if (dp->fd >= 0 && current_alive(dp)) {
		snprintf(why, sizeof(why),
			 "another dataplane (pid %ld) is connected%s; it keeps the channel while "
			 "it is alive",
			 dp->peer.pid, dp->hello ? "" : " (its HELLO is due)");
		refuse(dp, fd, p, -EBUSY, why);
		snprintf(err, errlen, "%s", why);
		return -EBUSY;
	}
	if (dp->fd >= 0)
		drain_current(dp, "gone (process exited or socket closed); a new dataplane "
				  "connection takes its place");
	if ((rc = ev_file_add(dp->deps.loop, fd, EV_READ, on_io, dp, err, errlen)) < 0) {
		close(fd);
		return rc;
	}
	dp->fd = fd;
	dp->peer = *p;
	dp->peer_pid = p->pid;
	dp->connected_ms = ev_now_ms();
	return 0;
}

int dataplane_link_set_access(struct dataplane_link *dp, const struct ctl_access *a)
{
	struct ctl_access n = {0};

	if (ctl_access_copy(&n, a) < 0)
		return -ENOMEM;
	ctl_access_free(&dp->access);
	ctl_refusals_close(&dp->refusals);
	dp->access = n;
	return 0;
}

static void on_accept(struct ev_loop *l, int lfd, void *arg, unsigned int ready)
{
	struct dataplane_link *dp = arg;
	struct ctl_peer p;
	char err[512];
	int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return;
	if (ctl_peer_get(fd, &p) < 0)
		p.uid = (uid_t)-1; /* unknown credentials: refused */
	if (dataplane_link_attach(dp, fd, &p, err, sizeof(err)) < 0) {
		if (dp->fd != fd)
			return; /* refused: counted and logged */
		ctl_log(LOG_ERR, "dataplane: %s", err);
		return;
	}
	ctl_log(LOG_INFO, "dataplane: connection from pid %ld uid %u gid %u", p.pid,
		(unsigned)p.uid, (unsigned)p.gid);
}

/* End the requests the dataplane did not answer in time. */
static long check_timeouts(struct ev_loop *l, long long id, void *arg)
{
	struct dataplane_link *dp = arg;
	uint64_t now = ev_now_ms();

	if (dp->fd >= 0 && !dp->hello && now - dp->connected_ms >= dp->hello_timeout_ms) {
		char why[64];

		dp->hello_timeouts++;
		snprintf(why, sizeof(why), "no HELLO within %u ms", dp->hello_timeout_ms);
		dataplane_link_disconnect(dp, why);
	}
	for (size_t i = 0; i < dp->n_pend;) {
		if (dp->pend[i].deadline_ms > now) {
			i++;
			continue;
		}
		struct dataplane_link_reply r = {.outcome = DATAPLANE_LINK_TIMED_OUT};
		finish(dp, i, &r);
		i = 0; /* the callback may have changed the list */
	}
	return TIMEOUT_CHECK_MS;
}

int dataplane_link_open(struct dataplane_link *dp, const struct dataplane_link_deps *deps,
			const char *path, char *err, size_t errlen)
{
	int rc;

	*dp = (struct dataplane_link){
		.deps = *deps, .lfd = -1, .fd = -1, .next_id = 1, .timer = -1};
	/* until told otherwise: root and our own user */
	snprintf(dp->access.what, sizeof(dp->access.what),
		 "control.dataplane_users/dataplane_groups");
	dp->access.self = geteuid();
	dp->hello_timeout_ms = DATAPLANE_LINK_HELLO_MS;
	ctl_refusals_init(&dp->refusals, deps->loop);
	if ((rc = ctl_socket_listen(path, &dp->lfd, err, errlen)) < 0)
		return rc;
	snprintf(dp->path, sizeof(dp->path), "%s", path); /* fits: checked by the listen */
	if ((rc = ev_file_add(deps->loop, dp->lfd, EV_READ, on_accept, dp, err, errlen)) < 0)
		return rc;
	dp->timer = ev_timer_add(deps->loop, TIMEOUT_CHECK_MS, check_timeouts, dp);
	if (dp->timer < 0) {
		snprintf(err, errlen, "dataplane link: out of memory");
		return -ENOMEM;
	}
	return 0;
}

void dataplane_link_close(struct dataplane_link *dp)
{
	dataplane_link_disconnect(dp, "shutting down");
	if (dp->timer > 0)
		ev_timer_del(dp->deps.loop, dp->timer);
	dp->timer = -1;
	if (dp->lfd >= 0) {
		ev_file_del(dp->deps.loop, dp->lfd);
		close(dp->lfd);
		unlink(dp->path);
		dp->lfd = -1;
	}
	chan_buf_free(&dp->in);
	chan_buf_free(&dp->out);
	free(dp->acks);
	free(dp->pend);
	ctl_access_free(&dp->access);
	ctl_refusals_close(&dp->refusals);
	dp->acks = NULL;
	dp->pend = NULL;
	dp->n_acks = dp->cap_acks = dp->n_pend = dp->cap_pend = 0;
}
