/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * metrics_render.h - what the metrics listener (metrics.h) shows, rendered from one view of
 * the statistics: the Prometheus text exposition format 0.0.4 (GET /metrics) and the status
 * page (GET /), both pure (no I/O) so that unit tests feed them a view and read the text.
 *
 * The dataplane's values come as the JSON objects of its views (the one renderer,
 * dataplane/engine/stats.c: names of docs/METRICS.md); this file maps them onto Prometheus
 * names and labels (docs/METRICS.md, "Prometheus").
 */
#ifndef SB_METRICS_RENDER_H
#define SB_METRICS_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* A growing text buffer; failed is set (and the text cut) when memory ran out. */
struct metrics_buf {
	char *s;
	size_t len, cap;
	bool failed;
};
void metrics_buf_printf(struct metrics_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void metrics_buf_free(struct metrics_buf *b);

/* One subnet's pool, from control's lease store (durable leases). */
struct metrics_pool {
	char subnet[20]; /* "198.18.0.0/24" */
	uint32_t size;	 /* dynamic addresses (pool.start..end), 0 = none */
	uint32_t bound, offered, declined;
};

/* One point of the status page's history, taken every METRICS_HISTORY_MS. */
struct metrics_point {
	uint64_t unix_s;
	uint64_t tftp_completed; /* tftp_sessions_completed */
	uint64_t dhcp_acks;	 /* tx_dhcp_ack */
	uint64_t discovers;	 /* rx_dhcp_discover */
};

/* A client asked for on the status page (?mac=). */
struct metrics_client {
	char mac[18];	/* as normalised, "" = none asked */
	bool valid;	/* mac parsed */
	bool has_lease; /* control's lease store holds one */
	char ip[16];
	char state[16];
	int64_t expires_in_s;
	char subnet[20];
	/* Its boot timeline: a trace reply's arguments (client_trace_json), NULL = no step seen.
	 * Shown as `stormbootctl trace MAC` prints it (stormbootctl_trace.h). */
	json_t *trace;
};

struct metrics_view {
	const char *version;
	uint64_t uptime_s, config_generation;
	bool dp_connected;
	/* The dataplane's views (ENG_VIEW_*), NULL when it is away or did not answer. */
	json_t *stats, *latency, *sessions, *images;
	json_t *xdp; /* XDP verdict counters {name: count}, NULL = unavailable */
	const char *xdp_error;
	const struct metrics_pool *pools;
	size_t n_pools;
	/* Boot timelines (client_trace.h), NULL when control keeps none: */
	json_t *clients_per_state; /* {state: count}: booting, done, stuck, failed */
	json_t *clients_trouble;   /* the most recent stuck or failed clients, newest first,
				    * as "clients" rows: [{"mac", "ip", "state", "last_step",
				    * "last_detail", "last"}] */
	json_t *trace_status;	   /* client_trace_status_json: steps, clients_evicted,
				    * log_lines, log_suppressed */
	uint64_t now_ms;	   /* unix ms: ages of clients_trouble */
	/* HTTP boot (http_boot.h), NULL when control serves none: */
	json_t *http_images; /* {NAME: {"bytes", "responses"}}: images sent whole */
	json_t *http_fwlog;  /* {"accepted", "bad_request", ...}: firmware reports */
	/* Cluster mode (docs/SCALE-OUT.md), NULL otherwise: status's "cluster" object
	 * (daemon_cluster_status: "ready", "etcd", "servers", "leases", "shared", ...) */
	json_t *cluster;
};

/* The Prometheus text (exposition format 0.0.4) of v into b. */
void metrics_prom_render(const struct metrics_view *v, struct metrics_buf *b);

/*
 * The status page: one HTML document, no external assets (inline CSS and SVG), refreshing
 * itself every refresh_s seconds: pools, the storm (counters, completions over time from
 * hist[0..n_hist) oldest first), latency percentiles, images served, drops, and client c.
 */
void metrics_status_render(const struct metrics_view *v, const struct metrics_point *hist,
			   size_t n_hist, const struct metrics_client *c, unsigned int refresh_s,
			   struct metrics_buf *b);

/* The value of name in a view object (0 when o is NULL or has no such integer). */
uint64_t metrics_u64(const json_t *o, const char *name);

#endif
