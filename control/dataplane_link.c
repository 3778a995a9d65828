/* SPDX-License-Identifier: BSD-3-Clause */
/* dpconn.c - control's end of the dataplane channel (see chan.h, docs/CONTROL.md). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ctl_log.h"
#include "daemon.h"
#include "sbcfg_json.h"

#define DP_OUT_MAX (512u << 20) /* a dataplane that reads nothing is dropped past this */

bool dataplane_link_connected(const struct daemon *d)
{
	return d->dp.fd >= 0 && d->dp.hello;
}

static void dp_send(struct daemon *d, uint16_t type, uint32_t id, int32_t status,
		    const void *payload, size_t len)
{
	struct dataplane_link *dp = &d->dp;

	if (dp->fd < 0)
		return;
	if (chan_buf_put_frame(&dp->out, type, id, status, payload, len) < 0 ||
	    chan_buf_pending(&dp->out) > DP_OUT_MAX) {
		dataplane_link_close(d, "output queue full or out of memory");
		return;
	}
	ev_file_mask(d->loop, dp->fd, EV_READ | EV_WRITE);
}

void dataplane_link_close(struct daemon *d, const char *why)
{
	struct dataplane_link *dp = &d->dp;

	if (dp->fd < 0)
		return;
	ctl_log(LOG_WARNING, "dataplane: connection from pid %ld closed: %s", dp->peer_pid, why);
	ev_file_del(d->loop, dp->fd);
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
	/* Fail waiting requests; a callback may start new ones (they fail at once). */
	while (dp->n_pend) {
		struct dp_pending p = dp->pend[--dp->n_pend];
		p.fn(d, p.cookie, -ECONNRESET, NULL, 0);
	}
}

struct snap_ctx {
	struct chan_lease *v;
	size_t n, cap;
};

static int snap_cb(const struct lease_info *l, void *arg)
{
	struct snap_ctx *sc = arg;

	if (l->state != LEASE_BOUND)
		return 0;
	if (sc->n == sc->cap) {
		size_t ncap = sc->cap ? sc->cap * 2 : 1024;
		struct chan_lease *v = realloc(sc->v, ncap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		sc->v = v;
		sc->cap = ncap;
	}
	struct chan_lease *e = &sc->v[sc->n++];
	memset(e, 0, sizeof(*e));
	e->expires = l->expires;
	e->ip = l->ip;
	memcpy(e->mac, l->mac, 6);
	e->event = CHAN_LEASE_BOUND;
	e->subnet = l->subnet;
	return 0;
}

void dataplane_link_push_config(struct daemon *d, bool leases)
{
	struct snap_ctx sc = {0};
	char *json;

	if (!dataplane_link_connected(d))
		return;
	json = sbcfg_to_json(&d->cur->cfg);
	if (!json) {
		dataplane_link_close(d, "out of memory for the config snapshot");
		return;
	}
	dp_send(d, CHAN_MSG_CONFIG_SNAPSHOT, (uint32_t)d->cur->generation, 0, json, strlen(json));
	free(json);
	if (!leases)
		return;
	/* Only what is durable: commit first, so the snapshot never holds an unwritten lease. */
	dataplane_link_durable_flush(d);
	if (lease_foreach(lease_store_pool(d->store), daemon_now(), snap_cb, &sc) < 0) {
		free(sc.v);
		dataplane_link_close(d, "out of memory for the leases snapshot");
		return;
	}
	dp_send(d, CHAN_MSG_LEASES_SNAPSHOT, d->dp.next_id++, 0, sc.v, sc.n * sizeof(*sc.v));
	ctl_log(LOG_INFO, "dataplane: sent config generation %llu and %zu leases",
		(unsigned long long)d->cur->generation, sc.n);
	free(sc.v);
}

void dataplane_link_durable_flush(struct daemon *d)
{
	struct dataplane_link *dp = &d->dp;
	int rc = 0;

	if (lease_store_pending(d->store)) {
		rc = lease_store_commit(d->store, daemon_now());
		if (rc < 0)
			ctl_log(LOG_ERR, "lease store: commit failed: %s; leases not confirmed",
				strerror(-rc));
	}
	for (size_t i = 0; i < dp->n_acks; i++) {
		struct dp_ack *a = &dp->acks[i];
		int32_t first = 0;

		for (uint32_t k = 0; k < a->n; k++) {
			if (a->status[k] == 0 && rc < 0)
				a->status[k] = rc;
			if (a->status[k] && !first)
				first = a->status[k];
		}
		dp_send(d, CHAN_MSG_LEASE_DURABLE, a->id, first, a->status,
			a->n * sizeof(a->status[0]));
		free(a->status);
	}
	dp->n_acks = 0;
}

int dataplane_link_request(struct daemon *d, uint16_t type, const void *payload, size_t len,
		   dp_reply_fn *fn, uint64_t cookie)
{
	struct dataplane_link *dp = &d->dp;

	if (!dataplane_link_connected(d))
		return -ENOTCONN;
	if (dp->n_pend == dp->cap_pend) {
		size_t ncap = dp->cap_pend ? dp->cap_pend * 2 : 16;
		struct dp_pending *p = realloc(dp->pend, ncap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		dp->pend = p;
		dp->cap_pend = ncap;
	}
	uint32_t id = dp->next_id++;
	dp->pend[dp->n_pend++] = (struct dp_pending){id, ev_now_ms() + DAEMON_DP_TIMEOUT_MS, fn,
						      cookie};
	dp_send(d, type, id, 0, payload, len);
	return 0;
}

void dataplane_link_revoke(struct daemon *d, const struct chan_lease *l)
{
	if (dataplane_link_connected(d))
		dp_send(d, CHAN_MSG_LEASE_REVOKE, d->dp.next_id++, 0, l, sizeof(*l));
}

static void on_hello(struct daemon *d, const struct chan_hdr *h, const uint8_t *p)
{
	char reply[64];
	json_t *o = json_loadb((const char *)p, h->len, 0, NULL);
	json_t *pid = o ? json_object_get(o, "pid") : NULL;

	snprintf(reply, sizeof(reply), "{\"version\": \"%s\"}", DAEMON_VERSION);
	d->dp.hello = true;
	d->dp.connects++;
	ctl_log(LOG_INFO, "dataplane: hello from pid %lld (socket peer pid %ld)",
		json_is_integer(pid) ? (long long)json_integer_value(pid) : -1LL, d->dp.peer_pid);
	json_decref(o);
	dp_send(d, h->type | CHAN_REPLY, h->id, 0, reply, strlen(reply));
	dataplane_link_push_config(d, true);
}

static void on_lease_event(struct daemon *d, const struct chan_hdr *h, const uint8_t *p)
{
	struct dataplane_link *dp = &d->dp;
	uint32_t n = h->len / sizeof(struct chan_lease);
	uint64_t now = daemon_now();
	struct dp_ack a = {h->id, n, NULL};

	if (h->len == 0 || h->len % sizeof(struct chan_lease)) {
		int32_t st = -EINVAL;
		dp_send(d, CHAN_MSG_LEASE_DURABLE, h->id, -EINVAL, &st, sizeof(st));
		return;
	}
	if (dp->n_acks == dp->cap_acks) {
		size_t ncap = dp->cap_acks ? dp->cap_acks * 2 : 64;
		struct dp_ack *v = realloc(dp->acks, ncap * sizeof(*v));
		if (!v) {
			dataplane_link_close(d, "out of memory");
			return;
		}
		dp->acks = v;
		dp->cap_acks = ncap;
	}
	a.status = calloc(n, sizeof(*a.status));
	if (!a.status) {
		dataplane_link_close(d, "out of memory");
		return;
	}
	dp->events++;
	for (uint32_t i = 0; i < n; i++) {
		struct chan_lease ev;
		char m[18], ip[16];

		memcpy(&ev, p + i * sizeof(ev), sizeof(ev));
		a.status[i] = lease_store_apply(d->store, &ev, now);
		dp->records++;
		if (a.status[i] < 0)
			ctl_log(LOG_WARNING, "dataplane: lease event %u %s %s refused: %s",
				ev.event, running_config_fmt_mac(ev.mac, m), running_config_fmt_ip(ev.ip, ip),
				strerror(-a.status[i]));
	}
	dp->acks[dp->n_acks++] = a; /* answered after the commit, before the loop sleeps */
}

static void on_reply(struct daemon *d, const struct chan_hdr *h, const uint8_t *p)
{
	struct dataplane_link *dp = &d->dp;
	uint16_t req = h->type & (uint16_t)~CHAN_REPLY;

	if (req == CHAN_MSG_CONFIG_SNAPSHOT) {
		dp->config_acked = h->id;
		dp->config_status = h->status;
		snprintf(dp->config_err, sizeof(dp->config_err), "%.*s",
			 h->status ? (int)(h->len < 511 ? h->len : 511) : 0, (const char *)p);
		if (h->status)
			ctl_log(LOG_ERR, "dataplane refused config generation %u: %s (%s)", h->id,
				strerror(-h->status), dp->config_err);
		else
			ctl_log(LOG_INFO, "dataplane applied config generation %u", h->id);
		return;
	}
	if (req == CHAN_MSG_LEASES_SNAPSHOT || req == CHAN_MSG_LEASE_REVOKE) {
		if (h->status)
			ctl_log(LOG_WARNING, "dataplane: %s failed: %s", chan_type_name(req),
				strerror(-h->status));
		return;
	}
	for (size_t i = 0; i < dp->n_pend; i++) {
		if (dp->pend[i].id != h->id)
			continue;
		struct dp_pending pd = dp->pend[i];
		dp->pend[i] = dp->pend[--dp->n_pend];
		pd.fn(d, pd.cookie, h->status, p, h->len);
		return;
	}
	ctl_log(LOG_DEBUG, "dataplane: late or unexpected reply to %u", h->id);
}

/* Decode and handle every whole frame in dp->in. false if the connection was closed. */
static bool dp_process(struct daemon *d)
{
	struct dataplane_link *dp = &d->dp;

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
			dp_send(d, h.type | CHAN_REPLY, h.id, -EPROTONOSUPPORT, NULL, 0);
			dp->closing = true;
			return true;
		}
		if (n < 0) {
			dataplane_link_close(d, n == -EMSGSIZE ? "frame larger than the cap" : "bad frame");
			return false;
		}
		dp->in.off += (size_t)n;
		if (!dp->hello && h.type != CHAN_MSG_HELLO) {
			dp_send(d, h.type | CHAN_REPLY, h.id, -EPROTO, NULL, 0);
			dp->closing = true;
			return true;
		}
		if (h.type & CHAN_REPLY)
			on_reply(d, &h, payload);
		else if (h.type == CHAN_MSG_HELLO)
			on_hello(d, &h, payload);
		else if (h.type == CHAN_MSG_LEASE_EVENT)
			on_lease_event(d, &h, payload);
		else
			dp_send(d, h.type | CHAN_REPLY, h.id, -EOPNOTSUPP, NULL, 0);
	}
	return dp->fd >= 0;
}

static void dp_io(struct ev_loop *l, int fd, void *arg, unsigned int ready)
{
	struct daemon *d = arg;
	struct dataplane_link *dp = &d->dp;
	int rc;

	if (ready & EV_READ) {
		rc = chan_buf_fill(&dp->in, fd, sizeof(struct chan_hdr) + CHAN_MSG_MAX);
		if (rc < 0) {
			dataplane_link_close(d, rc == -EPIPE ? "end of stream" : strerror(-rc));
			return;
		}
		if (!dp_process(d))
			return;
	}
	rc = chan_buf_flush(&dp->out, fd);
	if (rc < 0 || (rc == 0 && dp->closing)) {
		dataplane_link_close(d, rc < 0 ? strerror(-rc) : "protocol error");
		return;
	}
	ev_file_mask(l, fd, rc > 0 ? EV_READ | EV_WRITE : EV_READ);
}

static void dp_accept(struct ev_loop *l, int lfd, void *arg, unsigned int ready)
{
	struct daemon *d = arg;
	struct ucred cr = {0};
	socklen_t crlen = sizeof(cr);
	char err[256];
	int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return;
	getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crlen);
	if (d->dp.fd >= 0)
		dataplane_link_close(d, "replaced by a new dataplane connection");
	if (ev_file_add(l, fd, EV_READ, dp_io, d, err, sizeof(err)) < 0) {
		ctl_log(LOG_ERR, "dataplane: %s", err);
		close(fd);
		return;
	}
	d->dp.fd = fd;
	d->dp.peer_pid = cr.pid;
	d->dp.connected_ms = ev_now_ms();
	ctl_log(LOG_INFO, "dataplane: connection from pid %ld uid %u gid %u", (long)cr.pid,
		cr.uid, cr.gid);
}

/* Fail requests the dataplane did not answer in time. */
static long dp_timeouts(struct ev_loop *l, long long id, void *arg)
{
	struct daemon *d = arg;
	struct dataplane_link *dp = &d->dp;
	uint64_t now = ev_now_ms();

	for (size_t i = 0; i < dp->n_pend;) {
		if (dp->pend[i].deadline_ms > now) {
			i++;
			continue;
		}
		struct dp_pending pd = dp->pend[i];
		dp->pend[i] = dp->pend[--dp->n_pend];
		pd.fn(d, pd.cookie, -ETIMEDOUT, NULL, 0);
	}
	return 250;
}

int dataplane_link_listen(struct daemon *d, char *err, size_t errlen)
{
	int rc;

	d->dp.fd = -1;
	d->dp.next_id = 1;
	if ((rc = api_server_listen_path(d->dp_path, &d->dp.lfd, err, errlen)) < 0)
		return rc;
	if ((rc = ev_file_add(d->loop, d->dp.lfd, EV_READ, dp_accept, d, err, errlen)) < 0)
		return rc;
	return ev_timer_add(d->loop, 250, dp_timeouts, d) < 0 ? -ENOMEM : 0;
}
