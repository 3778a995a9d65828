/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * metrics.h - stormboot-control's metrics listener (config "metrics": {"listen": "A:P"}), on
 * the kernel's TCP path beside the daemon, never in the dataplane's poll loop:
 *   GET /metrics      Prometheus text exposition format 0.0.4 (metrics_render.h)
 *   GET /             the status page (HTML), GET /?mac=MAC with that client's section
 * served by libmicrohttpd driven from control's event loop (its epoll fd watched by the loop:
 * one thread, no lock). A request asks the dataplane for its views (stats, latency,
 * sessions, images) over the control channel; the connection waits (suspended) for the
 * answers, at most DAEMON_DP_REQUEST_TIMEOUT_MS, and is answered with what came (a dataplane
 * away gives stormboot_dataplane_up 0). Every METRICS_HISTORY_MS the stats view is sampled for
 * the page's "completions over time".
 *
 * The module owns no daemon state: its owner gives it the loop, the dataplane link, the lease
 * store, a getter for the running config and a clock.
 */
#ifndef SB_METRICS_H
#define SB_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client_trace.h"
#include "ctl_clock.h"
#include "dataplane_link.h"
#include "event_loop.h"
#include "http_boot.h"
#include "lease_store.h"
#include "metrics_render.h"
#include "running_config.h"

#define METRICS_HISTORY_MS    5000
#define METRICS_HISTORY_MAX   360 /* points: 30 minutes */
#define METRICS_REFRESH_S     5	  /* the status page reloads itself */
#define METRICS_MAX_CONNS     64
#define METRICS_TIMEOUT_S     10 /* an idle connection is closed */
#define METRICS_DP_TIMEOUT_MS 2000
#define METRICS_TROUBLE_MAX   10 /* stuck or failed clients listed on the status page */

struct metrics_deps {
	struct ev_loop *loop;
	struct dataplane_link *dp;
	const struct lease_store *store;
	const struct running_config *(*running)(void *arg);
	void *arg;
	struct ctl_clock clock; /* lease expiry */
	const char *version;
	uint64_t started_ms; /* ev_now_ms() at start: uptime */
	/* boot timelines: clients per state, a client's trace by ?mac= (NULL: none) */
	const struct client_trace *trace;
	/* HTTP boot: bytes per image, firmware reports (NULL: none) */
	const struct http_boot *http;
	/* cluster mode: status's "cluster" object, a new reference (NULL: not in cluster mode) */
	json_t *(*cluster)(void *arg);
};

struct metrics {
	struct metrics_deps deps;
	struct MHD_Daemon *mhd;
	int mhd_fd;	     /* its epoll fd, watched by the loop; -1 = none */
	long long mhd_timer; /* MHD's own timeouts */
	long long history_timer;
	uint32_t listen_ip;
	uint16_t port;
	struct metrics_point hist[METRICS_HISTORY_MAX];
	size_t hist_first, hist_n;
	bool hist_asking;
	uint64_t requests, scrapes, pages, not_found, dp_unanswered;
	char listen_err[300];
};

/*
 * Listen on the running config's metrics.listen (nothing when it has none). 0 with the
 * listener in *out, or -errno with the reason in err (the address cannot be bound).
 */
int metrics_start(struct metrics **out, const struct metrics_deps *deps, char *err, size_t errlen);
/* After a config change: follow metrics.listen (errors are logged and kept in listen_err). */
void metrics_apply(struct metrics *m);
/* Close the listener and free m (NULL is fine); call after the dataplane link is closed. */
void metrics_stop(struct metrics *m);

/* Pools of cfg with their lease counts from pool at now (n = cfg->dhcp.n_subnets). */
struct lease_pool;
void metrics_pools(const struct sbcfg *cfg, const struct lease_pool *pool, uint64_t now,
		   struct metrics_pool *out);

#endif
