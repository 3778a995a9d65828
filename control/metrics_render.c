/* SPDX-License-Identifier: BSD-3-Clause */
#include "metrics_render.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void metrics_buf_printf(struct metrics_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->failed)
		return;
	for (;;) {
		size_t room = b->cap - b->len;

		va_start(ap, fmt);
		n = vsnprintf(b->s ? b->s + b->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->failed = true;
			return;
		}
		if ((size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = b->cap ? b->cap : 4096;
		while (cap - b->len <= (size_t)n)
			cap *= 2;
		char *s = realloc(b->s, cap);
		if (!s) {
			b->failed = true;
			return;
		}
		b->s = s;
		b->cap = cap;
	}
}

void metrics_buf_free(struct metrics_buf *b)
{
	free(b->s);
	memset(b, 0, sizeof(*b));
}

uint64_t metrics_u64(const json_t *o, const char *name)
{
	json_t *v = o ? json_object_get(o, name) : NULL;

	return json_is_integer(v) && json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v)
							       : 0;
}

/* ---- Prometheus text format 0.0.4 ---- */

/* A label value: backslash, double quote and newline escaped. */
static void label_value(struct metrics_buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			metrics_buf_printf(b, "\\%c", *s);
		else if (*s == '\n')
			metrics_buf_printf(b, "\\n");
		else
			metrics_buf_printf(b, "%c", *s);
	}
}

static void family(struct metrics_buf *b, const char *name, const char *type, const char *help)
{
	metrics_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{label="value"} v (label NULL: no labels) */
static void sample(struct metrics_buf *b, const char *name, const char *label, const char *value,
		   uint64_t v)
{
	metrics_buf_printf(b, "%s", name);
	if (label) {
		metrics_buf_printf(b, "{%s=\"", label);
		label_value(b, value);
		metrics_buf_printf(b, "\"}");
	}
	metrics_buf_printf(b, " %" PRIu64 "\n", v);
}

/* A family of one sample without labels. */
static void single(struct metrics_buf *b, const char *name, const char *type, const char *help,
		   uint64_t v)
{
	family(b, name, type, help);
	sample(b, name, NULL, NULL, v);
}

/* A family of one labelled counter per (label value, dataplane name) pair. */
struct pair {
	const char *value, *name;
};

static void labelled(struct metrics_buf *b, const json_t *o, const char *name, const char *type,
		     const char *help, const char *label, const struct pair *p, size_t n)
{
	family(b, name, type, help);
	for (size_t i = 0; i < n; i++)
		sample(b, name, label, p[i].value, metrics_u64(o, p[i].name));
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void prom_dhcp(struct metrics_buf *b, const json_t *st)
{
	static const struct pair in[] = {
		{"discover", "rx_dhcp_discover"}, {"request", "rx_dhcp_request"},
		{"decline", "rx_dhcp_decline"},	  {"release", "rx_dhcp_release"},
		{"inform", "rx_dhcp_inform"},	  {"other", "rx_dhcp_other"},
	};
	static const struct pair out[] = {
		{"offer", "tx_dhcp_offer"},
		{"ack", "tx_dhcp_ack"},
		{"nak", "tx_dhcp_nak"},
	};
	static const struct pair rx[] = {
		{"dhcp", "rx_dhcp"},
		{"pxe", "rx_pxe"},
		{"tftp_request", "rx_tftp_req"},
		{"tftp_transfer", "rx_tftp_xfer"},
		{"arp", "rx_arp"},
		{"ipv6", "rx_ipv6"},
	};
	static const struct pair tx[] = {
		{"dhcp", "tx_dhcp"},
		{"tftp", "tx_tftp"},
		{"arp", "tx_arp"},
		{"router_advertisement", "tx_ra"},
	};

	labelled(b, st, "stormboot_dhcp_messages_received_total", "counter",
		 "DHCP messages received by the dataplane, by message type (option 53).", "type",
		 in, N(in));
	labelled(b, st, "stormboot_dhcp_messages_sent_total", "counter",
		 "DHCP replies sent by the dataplane, by message type.", "type", out, N(out));
	labelled(b, st, "stormboot_frames_received_total", "counter",
		 "Frames the dataplane received, by protocol.", "protocol", rx, N(rx));
	labelled(b, st, "stormboot_frames_sent_total", "counter",
		 "Frames the dataplane sent, by protocol.", "protocol", tx, N(tx));
	single(b, "stormboot_received_bytes_total", "counter", "Bytes the dataplane received.",
	       metrics_u64(st, "rx_bytes"));
	single(b, "stormboot_sent_bytes_total", "counter", "Bytes the dataplane sent.",
	       metrics_u64(st, "tx_bytes"));
}

static void prom_tftp(struct metrics_buf *b, const json_t *st, const json_t *se)
{
	static const struct pair ended[] = {
		{"completed", "tftp_sessions_completed"},
		{"given_up", "tftp_sessions_given_up"},
		{"aborted", "tftp_sessions_aborted"},
		{"size_probe", "tftp_sessions_size_probe"},
	};

	single(b, "stormboot_tftp_sessions_active", "gauge", "TFTP transfers open now.",
	       metrics_u64(se, "tftp_sessions_active"));
	single(b, "stormboot_tftp_sessions_capacity", "gauge",
	       "TFTP transfers the session tables hold at most (tftp.max_sessions).",
	       metrics_u64(se, "tftp_sessions_capacity"));
	single(b, "stormboot_tftp_waiting_clients", "gauge",
	       "Clients whose RRQ waits for a TFTP session, admitted oldest first (tftp_waiting).",
	       metrics_u64(st, "tftp_waiting"));
	single(b, "stormboot_tftp_wait_admitted_total", "counter",
	       "Waiting clients given a freed TFTP session, in arrival order.",
	       metrics_u64(st, "tftp_wait_admitted"));
	single(b, "stormboot_tftp_wait_expired_total", "counter",
	       "Waiting clients dropped from the admission queue after 8 s of silence (gave up).",
	       metrics_u64(st, "tftp_wait_expired"));
	single(b, "stormboot_tftp_sessions_started_total", "counter", "TFTP transfers started.",
	       metrics_u64(st, "tftp_sessions_started"));
	labelled(b, st, "stormboot_tftp_sessions_ended_total", "counter",
		 "TFTP transfers ended, by outcome (size_probe: ERROR 8 after our OACK, a "
		 "firmware's tsize probe).",
		 "outcome", ended, N(ended));
	single(b, "stormboot_tftp_served_bytes_total", "counter",
	       "File bytes of TFTP DATA sent, first transmissions only.",
	       metrics_u64(st, "tftp_bytes_served"));
	single(b, "stormboot_tftp_retransmits_total", "counter",
	       "TFTP frames sent again by a retransmission timer.",
	       metrics_u64(st, "tx_tftp_retransmit"));
	single(b, "stormboot_tftp_errors_sent_total", "counter", "TFTP ERROR packets sent.",
	       metrics_u64(st, "tx_tftp_error"));
}

/* stormboot_tftp_image_served_bytes_total{image=...}: the images view, one per name. */
static void prom_images(struct metrics_buf *b, const json_t *im)
{
	const char *k;
	json_t *v;

	family(b, "stormboot_tftp_image_served_bytes_total", "counter",
	       "File bytes served by TFTP per image, added when a transfer ends.");
	json_object_foreach((json_t *)im, k, v) if (json_is_integer(v))
		sample(b, "stormboot_tftp_image_served_bytes_total", "image", k,
		       (uint64_t)json_integer_value(v));
}

/* HTTP boot: stormboot_http_image_served_bytes_total{image=...} (the TFTP family's twin) and
 * its responses; stormboot_http_firmware_reports_total{result=...} (GET /fwlog). */
static void prom_http(struct metrics_buf *b, const json_t *im, const json_t *fw)
{
	const char *k;
	json_t *v;

	if (im) {
		family(b, "stormboot_http_image_served_bytes_total", "counter",
		       "Body bytes of images sent whole over HTTP, per image.");
		json_object_foreach((json_t *)im, k, v)
			sample(b, "stormboot_http_image_served_bytes_total", "image", k,
			       metrics_u64(v, "bytes"));
		family(b, "stormboot_http_image_responses_total", "counter",
		       "Image responses sent whole over HTTP (200 and 206), per image.");
		json_object_foreach((json_t *)im, k, v)
			sample(b, "stormboot_http_image_responses_total", "image", k,
			       metrics_u64(v, "responses"));
	}
	if (fw) {
		family(b, "stormboot_http_firmware_reports_total", "counter",
		       "Firmware failure reports (GET /fwlog) by result.");
		json_object_foreach((json_t *)fw, k, v) if (json_is_integer(v))
			sample(b, "stormboot_http_firmware_reports_total", "result", k,
			       (uint64_t)json_integer_value(v));
	}
}

/* stormboot_drops_total{reason=...}: every drop_<reason> of the stats view. */
static void prom_drops(struct metrics_buf *b, const json_t *st)
{
	const char *k;
	json_t *v;

	family(b, "stormboot_drops_total", "counter",
	       "Packets dropped or requests refused by the dataplane, by reason "
	       "(docs/METRICS.md).");
	json_object_foreach((json_t *)st, k,
			    v) if (strncmp(k, "drop_", 5) == 0 && json_is_integer(v))
		sample(b, "stormboot_drops_total", "reason", k + 5,
		       (uint64_t)json_integer_value(v));
}

/* stormboot_xdp_packets_total{verdict, reason}: redirected_dhcp -> redirected, dhcp. */
static void prom_xdp(struct metrics_buf *b, const json_t *x)
{
	const char *k;
	json_t *v;

	family(b, "stormboot_xdp_packets_total", "counter",
	       "Packets the XDP program handled, by verdict (redirected to the dataplane, passed "
	       "to the kernel, dropped) and reason.");
	json_object_foreach((json_t *)x, k, v)
	{
		const char *verdict = "redirected", *reason = k;

		if (!json_is_integer(v))
			continue;
		if (strcmp(k, "redirect_failed") == 0) {
			verdict = "pass";
		} else if (strncmp(k, "redirected_", 11) == 0) {
			reason = k + 11;
		} else if (strncmp(k, "pass_", 5) == 0) {
			verdict = "pass";
			reason = k + 5;
		} else if (strncmp(k, "drop_", 5) == 0) {
			verdict = "drop";
			reason = k + 5;
		} else {
			verdict = "other";
		}
		metrics_buf_printf(b, "stormboot_xdp_packets_total{verdict=\"%s\",reason=\"",
				   verdict);
		label_value(b, reason);
		metrics_buf_printf(b, "\"} %" PRIu64 "\n", (uint64_t)json_integer_value(v));
	}
}

static void prom_pools(struct metrics_buf *b, const struct metrics_view *v)
{
	static const char *const states[] = {"bound", "offered", "declined"};

	family(b, "stormboot_pool_addresses", "gauge",
	       "Dynamic addresses of a subnet's pool (pool.start .. pool.end).");
	for (size_t i = 0; i < v->n_pools; i++)
		sample(b, "stormboot_pool_addresses", "subnet", v->pools[i].subnet,
		       v->pools[i].size);
	family(b, "stormboot_leases", "gauge",
	       "Leases of a subnet in control's lease store, by state.");
	for (size_t i = 0; i < v->n_pools; i++) {
		const uint32_t n[] = {v->pools[i].bound, v->pools[i].offered, v->pools[i].declined};

		for (size_t s = 0; s < N(states); s++) {
			metrics_buf_printf(b, "stormboot_leases{subnet=\"");
			label_value(b, v->pools[i].subnet);
			metrics_buf_printf(b, "\",state=\"%s\"} %u\n", states[s], n[s]);
		}
	}
}

/* Boot timelines (client_trace.h): clients per state, and the store's and log's counters. */
static void prom_clients(struct metrics_buf *b, const struct metrics_view *v)
{
	const json_t *ts = v->trace_status;
	const char *k;
	json_t *n;

	family(b, "stormboot_clients", "gauge",
	       "Clients in control's boot timelines, by boot state (docs/TIMELINE.md).");
	json_object_foreach((json_t *)v->clients_per_state, k, n)
		sample(b, "stormboot_clients", "state", k, metrics_u64(v->clients_per_state, k));
	if (!ts)
		return;
	single(b, "stormboot_client_steps_total", "counter",
	       "Boot steps recorded in control's client timelines (dataplane, HTTP, syslog).",
	       metrics_u64(ts, "steps"));
	single(b, "stormboot_clients_evicted_total", "counter",
	       "Client timelines dropped to make room for new clients.",
	       metrics_u64(ts, "clients_evicted"));
	single(b, "stormboot_client_log_lines_total", "counter",
	       "Client step lines written to the log.", metrics_u64(ts, "log_lines"));
	single(b, "stormboot_client_log_lines_suppressed_total", "counter",
	       "Client step lines left out of the log by its rate limit (the steps are kept).",
	       metrics_u64(ts, "log_suppressed"));
}

/* The latency view's latency_le_<N>_ns as a histogram in seconds. */
static void prom_latency(struct metrics_buf *b, const json_t *lat)
{
	static const uint64_t le_ns[] = {1000,	    2000,      5000,	  10000,     20000,
					 50000,	    100000,    200000,	  500000,    1000000,
					 2000000,   5000000,   10000000,  20000000,  50000000,
					 100000000, 200000000, 500000000, 1000000000};
	const char *name = "stormboot_packet_latency_seconds";
	char key[48];

	family(b, name, "histogram",
	       "Dataplane latency from the rx burst to the tx burst of the reply, per packet "
	       "answered (a bucket is exact to about 6 %).");
	for (size_t i = 0; i < N(le_ns); i++) {
		snprintf(key, sizeof(key), "latency_le_%" PRIu64 "_ns", le_ns[i]);
		metrics_buf_printf(b, "%s_bucket{le=\"%g\"} %" PRIu64 "\n", name,
				   (double)le_ns[i] / 1e9, metrics_u64(lat, key));
	}
	metrics_buf_printf(b, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n", name,
			   metrics_u64(lat, "latency_count"));
	metrics_buf_printf(b, "%s_sum %.9f\n", name,
			   (double)metrics_u64(lat, "latency_sum_ns") / 1e9);
	metrics_buf_printf(b, "%s_count %" PRIu64 "\n", name, metrics_u64(lat, "latency_count"));
}

/* ---- cluster mode (docs/SCALE-OUT.md): status's "cluster" object ---- */

/* A family of one sample in seconds from a value in microseconds. */
static void seconds_us(struct metrics_buf *b, const char *name, const char *help, uint64_t us)
{
	family(b, name, "gauge", help);
	metrics_buf_printf(b, "%s %.6f\n", name, (double)us / 1e6);
}

/* A summary without quantiles: name_sum (seconds, from µs) and name_count. */
static void summary_us(struct metrics_buf *b, const char *name, const char *help, uint64_t sum_us,
		       uint64_t count)
{
	family(b, name, "summary", help);
	metrics_buf_printf(b, "%s_sum %.6f\n%s_count %" PRIu64 "\n", name, (double)sum_us / 1e6,
			   name, count);
}

/* The shared sets, as status names their counters: "<set>_applied", "<set>_refused",
 * "<set>_pushed"; a set shows in a family only when status has that counter. */
static const char *const shared_sets[] = {"reservations", "templates", "images", "config"};

static void shared_family(struct metrics_buf *b, const json_t *sh, const char *what,
			  const char *name, const char *help)
{
	char key[64];

	family(b, name, "counter", help);
	for (size_t i = 0; i < N(shared_sets); i++) {
		snprintf(key, sizeof(key), "%s_%s", shared_sets[i], what);
		if (json_object_get(sh, key))
			sample(b, name, "set", shared_sets[i], metrics_u64(sh, key));
	}
}

static void prom_cluster_shared(struct metrics_buf *b, const json_t *sh)
{
	const json_t *applied = json_object_get(sh, "applied");
	const char *set;
	json_t *rev;

	shared_family(b, sh, "applied", "stormboot_cluster_shared_applied_total",
		      "Changes of a shared set (etcd) applied on this server.");
	shared_family(b, sh, "refused", "stormboot_cluster_shared_refused_total",
		      "Changes of a shared set (etcd) this server refused (logged): not valid "
		      "here.");
	shared_family(b, sh, "pushed", "stormboot_cluster_shared_pushed_total",
		      "Entries of this server's config file pushed to a shared set at start.");
	single(b, "stormboot_cluster_shared_push_skipped_deleted_total", "counter",
	       "Config-file entries not pushed: deleted through an API (a tombstone in etcd).",
	       metrics_u64(sh, "push_skipped_deleted"));
	family(b, "stormboot_cluster_shared_applied_revision", "gauge",
	       "The etcd revision up to which every change of a shared set is in effect here.");
	json_object_foreach((json_t *)applied, set, rev)
		sample(b, "stormboot_cluster_shared_applied_revision", "set", set,
		       metrics_u64(applied, set));
	single(b, "stormboot_cluster_apply_waits_total", "counter",
	       "Shared changes made through this server's API confirmed applied by every live "
	       "server before the answer.",
	       metrics_u64(sh, "apply_waits"));
	single(b, "stormboot_cluster_apply_timeouts_total", "counter",
	       "Shared changes answered at cluster.apply_wait_ms with some live server not "
	       "confirming.",
	       metrics_u64(sh, "apply_timeouts"));
	/* apply_refused: shared changes another server refused (when status has it) */
	if (json_object_get(sh, "apply_refused"))
		single(b, "stormboot_cluster_apply_refused_total", "counter",
		       "Shared changes made through this server's API that another live server "
		       "refused.",
		       metrics_u64(sh, "apply_refused"));
	/* refused_here: shared changes this server refused, published for their writers */
	if (json_object_get(sh, "refused_here"))
		single(b, "stormboot_cluster_apply_refused_here_total", "counter",
		       "Shared changes this server refused, published in etcd so that the server "
		       "that wrote them names the refusal.",
		       metrics_u64(sh, "refused_here"));
	summary_us(b, "stormboot_cluster_apply_wait_seconds",
		   "Time until every live server applied a shared change (confirmed waits).",
		   metrics_u64(sh, "apply_wait_us_sum"), metrics_u64(sh, "apply_waits"));
	seconds_us(b, "stormboot_cluster_apply_wait_max_seconds",
		   "The longest confirmed wait for the other servers since start.",
		   metrics_u64(sh, "apply_wait_us_max"));
	single(b, "stormboot_cluster_apply_holds", "gauge",
	       "Shared changes received and not yet in effect here.",
	       metrics_u64(sh, "apply_holds"));
}

static void prom_cluster(struct metrics_buf *b, const json_t *cl)
{
	const json_t *etcd = json_object_get(cl, "etcd");
	const json_t *ls = json_object_get(cl, "leases");
	const json_t *sh = json_object_get(cl, "shared");
	const json_t *ready = json_object_get(cl, "ready");
	const json_t *reg = json_object_get(cl, "registered");
	const json_t *up = json_object_get(etcd, "reachable");
	const json_t *age = json_object_get(etcd, "ms_since_reply");
	static const struct pair refused[] = {{"in_use", "refused_in_use"},
					      {"etcd", "refused_etcd"},
					      {"timeout", "refused_timeout"}};

	single(b, "stormboot_cluster_ready", "gauge",
	       "1 when this server can commit leases (etcd answers, registered) and answers its "
	       "buckets, else 0.",
	       json_is_true(ready));
	single(b, "stormboot_cluster_registered", "gauge",
	       "1 when this server is registered in etcd's live set, else 0.", json_is_true(reg));
	single(b, "stormboot_cluster_registration_lapses_total", "counter",
	       "Times this server's registration lapsed (etcd not reached for lease_ttl_s, its "
	       "etcd lease expired): the others took its buckets.",
	       metrics_u64(cl, "registration_lapses"));
	single(b, "stormboot_cluster_servers_live", "gauge",
	       "Servers in the live set (registered in etcd), this one included.",
	       json_array_size(json_object_get(cl, "servers")));
	single(b, "stormboot_cluster_buckets_owned", "gauge",
	       "RFC 3074 buckets (of 256) this server answers.", metrics_u64(cl, "buckets_owned"));
	single(b, "stormboot_cluster_bucket_map_changes_total", "counter",
	       "Times this server's bucket map changed (servers joined or left).",
	       metrics_u64(cl, "bucket_changes"));
	if (!etcd)
		return; /* the cluster client did not start: ready 0 only */
	single(b, "stormboot_cluster_etcd_up", "gauge",
	       "1 when the last request to etcd succeeded, else 0.", json_is_true(up));
	family(b, "stormboot_cluster_etcd_last_reply_age_seconds", "gauge",
	       "Seconds since etcd last answered (+Inf: never).");
	/* status says "never" with the largest integer */
	if (!json_is_integer(age) || json_integer_value(age) < 0 ||
	    json_integer_value(age) >= (json_int_t)1 << 53)
		metrics_buf_printf(b, "stormboot_cluster_etcd_last_reply_age_seconds +Inf\n");
	else
		metrics_buf_printf(b, "stormboot_cluster_etcd_last_reply_age_seconds %.3f\n",
				   (double)json_integer_value(age) / 1e3);
	single(b, "stormboot_cluster_etcd_requests_total", "counter",
	       "Requests to etcd (leases, registration, live set, shared sets).",
	       metrics_u64(etcd, "requests"));
	single(b, "stormboot_cluster_etcd_failures_total", "counter",
	       "Requests to etcd that failed (timeouts included).", metrics_u64(etcd, "failures"));
	single(b, "stormboot_cluster_etcd_timeouts_total", "counter",
	       "Requests to etcd that timed out.", metrics_u64(etcd, "timeouts"));
	single(b, "stormboot_cluster_etcd_watch_events_total", "counter",
	       "Events received on etcd watches.", metrics_u64(etcd, "watch_events"));
	single(b, "stormboot_cluster_etcd_watch_reconnects_total", "counter",
	       "Times an etcd watch was opened again.", metrics_u64(etcd, "watch_reconnects"));

	single(b, "stormboot_cluster_lease_records_submitted_total", "counter",
	       "Lease records given to the cluster to commit to etcd.",
	       metrics_u64(ls, "submitted"));
	single(b, "stormboot_cluster_lease_records_committed_total", "counter",
	       "Lease records committed to etcd (their ACK may leave).",
	       metrics_u64(ls, "committed"));
	labelled(b, ls, "stormboot_cluster_lease_records_refused_total", "counter",
		 "Lease records refused (no ACK): in_use the address is another MAC's in etcd, "
		 "etcd not reached or failed, timeout waited too long.",
		 "reason", refused, N(refused));
	single(b, "stormboot_cluster_lease_records_queued", "gauge",
	       "Lease records waiting for a transaction.", metrics_u64(ls, "queued"));
	single(b, "stormboot_cluster_lease_commit_txns_total", "counter",
	       "Lease transactions committed to etcd (group commit).", metrics_u64(ls, "txns"));
	single(b, "stormboot_cluster_lease_commit_conflicts_total", "counter",
	       "Lease transactions whose compare failed (an address changed in etcd): read back "
	       "and tried again.",
	       metrics_u64(ls, "txn_conflicts"));
	single(b, "stormboot_cluster_lease_commit_batch_max_records", "gauge",
	       "The largest lease transaction since start (records).",
	       metrics_u64(ls, "batch_max"));
	summary_us(b, "stormboot_cluster_lease_commit_seconds",
		   "Time of the lease transactions that succeeded.",
		   metrics_u64(ls, "commit_us_sum"), metrics_u64(ls, "txns"));
	seconds_us(b, "stormboot_cluster_lease_commit_max_seconds",
		   "The longest lease transaction since start.", metrics_u64(ls, "commit_us_max"));
	single(b, "stormboot_cluster_foreign_leases_pushed_total", "counter",
	       "Other servers' leases given to the dataplane's pool.",
	       metrics_u64(ls, "foreign_pushed"));
	single(b, "stormboot_cluster_address_keys", "gauge",
	       "Address keys of etcd this server knows.", metrics_u64(ls, "address_keys"));
	if (sh)
		prom_cluster_shared(b, sh);
}

void metrics_prom_render(const struct metrics_view *v, struct metrics_buf *b)
{
	family(b, "stormboot_info", "gauge", "stormboot-control's version (value 1).");
	metrics_buf_printf(b, "stormboot_info{version=\"");
	label_value(b, v->version ? v->version : "");
	metrics_buf_printf(b, "\"} 1\n");
	single(b, "stormboot_control_uptime_seconds", "gauge", "Seconds since control started.",
	       v->uptime_s);
	single(b, "stormboot_config_generation", "gauge", "The running configuration's generation.",
	       v->config_generation);
	single(b, "stormboot_dataplane_up", "gauge",
	       "1 when the dataplane is connected and answered this scrape, else 0.",
	       v->dp_connected && v->stats && v->latency && v->sessions);
	single(b, "stormboot_xdp_up", "gauge", "1 when the XDP counters could be read, else 0.",
	       v->xdp != NULL);

	prom_pools(b, v);
	if (v->clients_per_state)
		prom_clients(b, v);
	if (v->xdp)
		prom_xdp(b, v->xdp);
	if (v->stats) {
		prom_dhcp(b, v->stats);
		prom_tftp(b, v->stats, v->sessions);
		prom_drops(b, v->stats);
		single(b, "stormboot_image_cache_bytes", "gauge",
		       "Bytes of boot images in the dataplane's hugepage cache.",
		       metrics_u64(v->stats, "image_cache_bytes"));
		single(b, "stormboot_image_cache_images", "gauge",
		       "Boot images in the dataplane's cache.",
		       metrics_u64(v->stats, "image_cache_images"));
		single(b, "stormboot_timeline_steps_lost_total", "counter",
		       "Boot steps the dataplane could not record: an lcore's timeline ring was "
		       "full.",
		       metrics_u64(v->stats, "timeline_events_lost"));
		family(b, "stormboot_dataplane_busy_seconds_total", "counter",
		       "Time the dataplane's lcores spent on bursts with frames.");
		metrics_buf_printf(b, "stormboot_dataplane_busy_seconds_total %.9f\n",
				   (double)metrics_u64(v->stats, "busy_ns") / 1e9);
	}
	if (v->images)
		prom_images(b, v->images);
	if (v->http_images || v->http_fwlog)
		prom_http(b, v->http_images, v->http_fwlog);
	if (v->latency)
		prom_latency(b, v->latency);
	if (v->cluster)
		prom_cluster(b, v->cluster);
}
