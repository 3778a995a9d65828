/* SPDX-License-Identifier: BSD-3-Clause */
/* dpconn.c - control's end of the dataplane channel (see chan.h, docs/CONTROL.md). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ctl_log.h"
#include "ctld.h"
#include "sbcfg_json.h"

#define DP_OUT_MAX (512u << 20) /* a dataplane that reads nothing is dropped past this */

static void dp_io(struct ev_loop *l, int fd, void *arg, unsigned int ready);

bool dpconn_connected(const struct ctld *d)
{
	return d->dp.fd >= 0 && d->dp.hello;
}

static void dp_send(struct ctld *d, uint16_t type, uint32_t id, int32_t status,
		    const void *payload, size_t len)
{
	struct dpconn *dp = &d->dp;

	if (dp->fd < 0)
		return;
	if (chan_buf_put_frame(&dp->out, type, id, status, payload, len) < 0 ||
	    chan_buf_pending(&dp->out) > DP_OUT_MAX) {
		dpconn_close(d, "output queue full or out of memory");
		return;
	}
	ev_file_mask(d->loop, dp->fd, EV_READ | EV_WRITE);
}

void dpconn_close(struct ctld *d, const char *why)
{
	struct dpconn *dp = &d->dp;

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

void dpconn_push_config(struct ctld *d, bool leases)
{
	char *json;

	if (!dpconn_connected(d))
		return;
	json = sbcfg_to_json(&d->cur->cfg);
	if (!json) {
		dpconn_close(d, "out of memory for the config snapshot");
		return;
	}
	dp_send(d, CHAN_MSG_CONFIG_SNAPSHOT, (uint32_t)d->cur->generation, 0, json, strlen(json));
	free(json);
	if (!leases)
		return;
	/* Only what is durable: commit first, so the snapshot never holds an unwritten lease. */
	dpconn_durable_flush(d);
	struct chan_lease *v = NULL;
	size_t n = 0, cap = 0;
	struct lease_stats ls;

	lease_pool_stats(lease_store_pool(d->store), ctld_now(), &ls);
	cap = ls.bound ? ls.bound : 1;
	v = calloc(cap, sizeof(*v));
	if (!v) {
		dpconn_close(d, "out of memory for the leases snapshot");
		return;
	}
	struct snap_ctx {
		struct chan_lease *v;
		size_t n, cap;
	} sc = {v, 0, cap};
	int snap_cb(const struct lease_info *l, void *arg);
	lease_foreach(lease_store_pool(d->store), ctld_now(), snap_cb, &sc);
	n = sc.n;
	dp_send(d, CHAN_MSG_LEASES_SNAPSHOT, dp->next_id++, 0, v, n * sizeof(*v));
	ctl_log(LOG_INFO, "dataplane: sent config generation %llu and %zu leases",
		(unsigned long long)d->cur->generation, n);
	free(v);
}
