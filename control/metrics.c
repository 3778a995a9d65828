/* SPDX-License-Identifier: BSD-3-Clause */
#include "metrics.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "chan.h"
#include "ctl_log.h"
#include "lease.h"
#include "sbcfg_json.h"
#include "sbcfg_names.h"
#ifdef SB_HAVE_XDP_CTL
#include "xdp_ctl.h"
#endif

/* The dataplane views a request asks for, in metrics_view order. */
enum { ASK_STATS, ASK_LATENCY, ASK_SESSIONS, ASK_IMAGES, ASK__COUNT };
static const uint16_t ask_type[ASK__COUNT] = {CHAN_MSG_STATS_REQUEST, CHAN_MSG_LATENCY_REQUEST,
					      CHAN_MSG_SESSIONS_REQUEST, CHAN_MSG_IMAGES_REQUEST};

enum req_kind { REQ_METRICS, REQ_STATUS, REQ_NOT_FOUND, REQ_BAD_METHOD };

struct req;

/* What the dataplane's answers find: the request, or NULL once it is gone. */
struct ask_cell {
	struct req *q;
	unsigned int pending; /* answers still to come */
};

/* One HTTP request (MHD's per-connection context). */
struct req {
	struct metrics *m;
	struct MHD_Connection *conn;
	enum req_kind kind;
	bool started, answered, suspended;
	json_t *view[ASK__COUNT];
	struct metrics_client client;
	struct ask_cell *cell; /* while dataplane answers are awaited */
};

/* ---- pools ---- */

struct pool_count {
	struct metrics_pool *out;
	size_t n;
};

static int count_lease(const struct lease_info *l, void *arg)
{
	struct pool_count *c = arg;

	if (l->subnet >= c->n)
		return 0;
	if (l->state == LEASE_BOUND)
		c->out[l->subnet].bound++;
	else if (l->state == LEASE_OFFERED)
		c->out[l->subnet].offered++;
	else if (l->state == LEASE_DECLINED)
		c->out[l->subnet].declined++;
	return 0;
}

void metrics_pools(const struct sbcfg *cfg, const struct lease_pool *pool, uint64_t now,
		   struct metrics_pool *out)
{
	struct pool_count c = {out, cfg->dhcp.n_subnets};

	for (size_t i = 0; i < cfg->dhcp.n_subnets; i++) {
		const struct sbcfg_subnet *s = &cfg->dhcp.subnets[i];

		memset(&out[i], 0, sizeof(out[i]));
		sbcfg_cidr_fmt(s, out[i].subnet);
		if (sbcfg_has_pool(s) && s->pool_end >= s->pool_start)
			out[i].size = s->pool_end - s->pool_start + 1;
	}
	if (pool)
		lease_foreach(pool, now, count_lease, &c);
}

/* ---- XDP verdict counters (pinned maps) ---- */

/* The counters of the program on the boot interface ifname, else of the pinned maps. */
static json_t *xdp_counters(const char *ifname, char *err, size_t errlen)
{
#ifdef SB_HAVE_XDP_CTL
	unsigned int ifindex = ifname[0] ? if_nametoindex(ifname) : 0;
	struct sb_xdp_counters cnt;
	struct xdp_ctl x;
	int rc = -ENOENT;

	if (ifindex) {
		rc = xdp_ctl_open_ifindex(&x, ifindex);
		if (rc == 0)
			rc = xdp_ctl_counters_read(&x, &cnt);
		xdp_ctl_close(&x);
	}
	if (rc < 0) {
		rc = xdp_ctl_open_pinned(&x, NULL);
		if (rc == 0)
			rc = xdp_ctl_counters_read(&x, &cnt);
		xdp_ctl_close(&x);
	}
	if (rc < 0) {
		snprintf(err, errlen,
			 "unavailable: no stormboot XDP program on interface %s and no maps pinned "
			 "under %s (%s)",
			 ifname[0] ? ifname : "(none)", XDP_CTL_PIN_ROOT, strerror(-rc));
		return NULL;
	}
	json_t *o = json_object();
	for (unsigned int i = 0; o && i < SB_XDP_CNT__COUNT; i++)
		json_object_set_new(o, xdp_ctl_counter_name(i), json_integer((json_int_t)cnt.v[i]));
	return o;
#else
	snprintf(err, errlen, "unavailable: built without libbpf");
	return NULL;
#endif
}

/* ---- answering ---- */

static enum MHD_Result respond(struct MHD_Connection *conn, unsigned int code, const char *type,
			       char *body, size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	enum MHD_Result ok;

	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	ok = MHD_queue_response(conn, code, r);
	MHD_destroy_response(r);
	return ok;
}

static enum MHD_Result respond_text(struct MHD_Connection *conn, unsigned int code,
				    const char *text)
{
	char *s = strdup(text);

	return s ? respond(conn, code, "text/plain; charset=utf-8", s, strlen(s)) : MHD_NO;
}

static void client_lookup(struct metrics *m, struct metrics_client *c)
{
	const struct running_config *rc = m->deps.running(m->deps.arg);
	const struct lease_pool *pool = lease_store_pool(m->deps.store);
	uint64_t now = ctl_clock_now(&m->deps.clock);
	struct lease_info li;
	uint8_t mac[6];

	if (running_config_parse_mac(c->mac, mac) < 0)
		return;
	c->valid = true;
	running_config_fmt_mac(mac, c->mac);
	if (m->deps.trace)
		c->trace = client_trace_json(m->deps.trace, mac, 0);
	if (!pool || lease_find_mac(pool, mac, now, &li) < 0)
		return;
	c->has_lease = true;
	running_config_fmt_ip(li.ip, c->ip);
	snprintf(c->state, sizeof(c->state), "%s",
		 li.state == LEASE_BOUND      ? "bound"
		 : li.state == LEASE_OFFERED  ? "offered"
		 : li.state == LEASE_DECLINED ? "declined"
					      : "free");
	c->expires_in_s = (int64_t)li.expires - (int64_t)now;
	if (li.subnet < rc->cfg.dhcp.n_subnets)
		sbcfg_cidr_fmt(&rc->cfg.dhcp.subnets[li.subnet], c->subnet);
}

/* ---- boot timelines (client_trace.h) ---- */

static int by_last_desc(const void *a, const void *b)
{
	json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "last")),
		   y = json_integer_value(json_object_get(*(json_t *const *)b, "last"));

	return x < y ? 1 : x > y ? -1 : 0;
}

/* v's clients per state and the most recent stuck or failed clients (new references). */
static void clients_view(const struct client_trace *t, struct metrics_view *v)
{
	json_t *failed = NULL, *stuck = NULL, *rows[2 * METRICS_TROUBLE_MAX], *c;
	size_t n = 0, i;

	if (client_trace_clients_json(t, TL_FAILED, "last", METRICS_TROUBLE_MAX, &failed) < 0 ||
	    client_trace_clients_json(t, TL_STUCK, "last", METRICS_TROUBLE_MAX, &stuck) < 0) {
		json_decref(failed);
		return;
	}
	v->clients_per_state = json_incref(json_object_get(failed, "counts"));
	v->now_ms = metrics_u64(failed, "now");
	json_array_foreach(json_object_get(failed, "clients"), i, c) rows[n++] = c;
	json_array_foreach(json_object_get(stuck, "clients"), i, c) rows[n++] = c;
	qsort(rows, n, sizeof(rows[0]), by_last_desc);
	v->clients_trouble = json_array();
	for (i = 0; i < n && i < METRICS_TROUBLE_MAX; i++)
		json_array_append(v->clients_trouble, rows[i]);
	v->trace_status = client_trace_status_json(t);
	json_decref(failed);
	json_decref(stuck);
}

/* Render what the request's views hold and queue it on its connection. */
static enum MHD_Result answer(struct req *q)
{
	struct metrics *m = q->m;
	const struct running_config *rc = m->deps.running(m->deps.arg);
	size_t n_pools = rc->cfg.dhcp.n_subnets;
	struct metrics_pool *pools = calloc(n_pools ? n_pools : 1, sizeof(*pools));
	struct metrics_buf b = {0};
	char xerr[300] = "";
	struct metrics_view v = {
		.version = m->deps.version,
		.uptime_s = (ev_now_ms() - m->deps.started_ms) / 1000,
		.config_generation = rc->generation,
		.dp_connected = dataplane_link_connected(m->deps.dp),
		.stats = q->view[ASK_STATS],
		.latency = q->view[ASK_LATENCY],
		.sessions = q->view[ASK_SESSIONS],
		.images = q->view[ASK_IMAGES],
		.xdp_error = xerr,
		.pools = pools,
		.n_pools = pools ? n_pools : 0,
	};

	q->answered = true;
	if (pools)
		metrics_pools(&rc->cfg, lease_store_pool(m->deps.store),
			      ctl_clock_now(&m->deps.clock), pools);
	v.xdp = xdp_counters(rc->cfg.interface, xerr, sizeof(xerr));
	if (m->deps.trace)
		clients_view(m->deps.trace, &v);
	if (m->deps.http) {
		v.http_images = http_boot_served_json(m->deps.http);
		v.http_fwlog = http_boot_fwlog_json(m->deps.http);
	}
	if (m->deps.cluster && q->kind == REQ_METRICS) /* the status page shows none of it */
		v.cluster = m->deps.cluster(m->deps.arg);
	if (q->kind == REQ_METRICS) {
		metrics_prom_render(&v, &b);
	} else {
		struct metrics_point h[METRICS_HISTORY_MAX];

		for (size_t i = 0; i < m->hist_n; i++)
			h[i] = m->hist[(m->hist_first + i) % METRICS_HISTORY_MAX];
		if (q->client.mac[0])
			client_lookup(m, &q->client);
		metrics_status_render(&v, h, m->hist_n, &q->client, METRICS_REFRESH_S, &b);
		json_decref(q->client.trace);
		q->client.trace = NULL;
	}
	json_decref(v.xdp);
	json_decref(v.http_images);
	json_decref(v.http_fwlog);
	json_decref(v.cluster);
	json_decref(v.clients_per_state);
	json_decref(v.clients_trouble);
	json_decref(v.trace_status);
	free(pools);
	if (b.failed) {
		metrics_buf_free(&b);
		return respond_text(q->conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	}
	return respond(q->conn, MHD_HTTP_OK,
		       q->kind == REQ_METRICS ? "text/plain; version=0.0.4; charset=utf-8"
					      : "text/html; charset=utf-8",
		       b.s, b.len);
}

static void dp_answer(void *arg, uint64_t cookie, const struct dataplane_link_reply *r)
{
	struct ask_cell *cell = arg;
	struct req *q = cell->q;

	cell->pending--;
	if (q == NULL) { /* the connection went away (the daemon is stopping) */
		if (cell->pending == 0)
			free(cell);
		return;
	}
	if (r->outcome == DATAPLANE_LINK_REPLIED && r->status == 0 && cookie < ASK__COUNT)
		q->view[cookie] = json_loadb((const char *)r->payload, r->len, 0, NULL);
	else
		q->m->dp_unanswered++;
	if (cell->pending == 0) {
		q->cell = NULL;
		free(cell);
		if (q->suspended) {
			struct metrics *m = q->m;

			q->suspended = false;
			MHD_resume_connection(q->conn);
			/* answer now: MHD's edge-triggered socket events were taken before */
			MHD_run(m->mhd);
		}
	}
}

/* Ask the dataplane for every view; 0 when at least one request went out. */
static int ask(struct req *q)
{
	struct metrics *m = q->m;

	struct ask_cell *cell;

	if (!dataplane_link_connected(m->deps.dp))
		return -ENOTCONN;
	if (!(cell = calloc(1, sizeof(*cell))))
		return -ENOMEM;
	cell->q = q;
	/* counted before each request: an answer may come from within the call (link lost) */
	for (unsigned int i = 0; i < ASK__COUNT; i++) {
		cell->pending++;
		if (dataplane_link_request(m->deps.dp, ask_type[i], NULL, 0, METRICS_DP_TIMEOUT_MS,
					   dp_answer, cell, i) < 0)
			cell->pending--;
	}
	if (cell->pending == 0) {
		free(cell);
		return -ENOTCONN;
	}
	q->cell = cell;
	return 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct metrics *m = cls;
	struct req *q = *con_cls;

	if (!q) {
		if (!(q = calloc(1, sizeof(*q))))
			return MHD_NO;
		q->m = m;
		q->conn = conn;
		*con_cls = q;
		m->requests++;
		if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
		    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
			q->kind = REQ_BAD_METHOD;
		else if (strcmp(url, "/metrics") == 0)
			q->kind = REQ_METRICS;
		else if (strcmp(url, "/") == 0 || strcmp(url, "/index.html") == 0)
			q->kind = REQ_STATUS;
		else
			q->kind = REQ_NOT_FOUND;
		return MHD_YES;
	}
	if (*upload_data_size) { /* a body is not wanted: ignored */
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (q->answered)
		return MHD_YES;
	switch (q->kind) {
	case REQ_BAD_METHOD:
		q->answered = true;
		return respond_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "GET or HEAD only\n");
	case REQ_NOT_FOUND:
		q->answered = true;
		m->not_found++;
		return respond_text(conn, MHD_HTTP_NOT_FOUND,
				    "not found: /metrics (Prometheus) or / (status page)\n");
	case REQ_METRICS:
	case REQ_STATUS:
		break;
	}
	if (!q->started) {
		q->started = true;
		if (q->kind == REQ_METRICS)
			m->scrapes++;
		else
			m->pages++;
		if (q->kind == REQ_STATUS) {
			const char *mac =
				MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "mac");
			if (mac)
				snprintf(q->client.mac, sizeof(q->client.mac), "%.17s", mac);
		}
		if (ask(q) == 0) {
			q->suspended = true;
			MHD_suspend_connection(conn);
			return MHD_YES;
		}
	}
	if (q->cell)
		return MHD_YES; /* still waiting (not resumed yet) */
	return answer(q);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct req *q = *con_cls;

	if (!q)
		return;
	if (q->cell) /* answers still to come find no request; the last frees the cell */
		q->cell->q = NULL;
	for (unsigned int i = 0; i < ASK__COUNT; i++)
		json_decref(q->view[i]);
	free(q);
	*con_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];

	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	ctl_log(LOG_WARNING, "metrics: %s", line);
}

/* ---- the loop's side ---- */

static void on_mhd(struct ev_loop *l, int fd, void *arg, unsigned int ready)
{
	struct metrics *m = arg;

	if (m->mhd)
		MHD_run(m->mhd);
}

static long mhd_tick(struct ev_loop *l, long long id, void *arg)
{
	struct metrics *m = arg;

	if (m->mhd)
		MHD_run(m->mhd);
	return 1000;
}

/* The history's sample: one stats request every METRICS_HISTORY_MS. */
static void history_answer(void *arg, uint64_t cookie, const struct dataplane_link_reply *r)
{
	struct metrics *m = arg;
	json_t *o;

	m->hist_asking = false;
	if (r->outcome != DATAPLANE_LINK_REPLIED || r->status != 0)
		return;
	if (!(o = json_loadb((const char *)r->payload, r->len, 0, NULL)))
		return;
	struct metrics_point p = {
		.unix_s = ctl_clock_now(&m->deps.clock),
		.tftp_completed = metrics_u64(o, "tftp_sessions_completed"),
		.dhcp_acks = metrics_u64(o, "tx_dhcp_ack"),
		.discovers = metrics_u64(o, "rx_dhcp_discover"),
	};
	json_decref(o);
	if (m->hist_n &&
	    p.tftp_completed <
		    m->hist[(m->hist_first + m->hist_n - 1) % METRICS_HISTORY_MAX].tftp_completed)
		m->hist_n = 0; /* the dataplane restarted: its counters began again */
	if (m->hist_n == METRICS_HISTORY_MAX) {
		m->hist[m->hist_first] = p;
		m->hist_first = (m->hist_first + 1) % METRICS_HISTORY_MAX;
	} else {
		m->hist[(m->hist_first + m->hist_n++) % METRICS_HISTORY_MAX] = p;
	}
}

static long history_tick(struct ev_loop *l, long long id, void *arg)
{
	struct metrics *m = arg;

	if (!m->hist_asking && dataplane_link_connected(m->deps.dp) &&
	    dataplane_link_request(m->deps.dp, CHAN_MSG_STATS_REQUEST, NULL, 0,
				   METRICS_DP_TIMEOUT_MS, history_answer, m, 0) == 0)
		m->hist_asking = true;
	return METRICS_HISTORY_MS;
}

static void listener_close(struct metrics *m)
{
	if (m->mhd_fd >= 0)
		ev_file_del(m->deps.loop, m->mhd_fd);
	m->mhd_fd = -1;
	if (m->mhd)
		MHD_stop_daemon(m->mhd);
	m->mhd = NULL;
	m->port = 0;
}

static int listener_open(struct metrics *m, uint32_t ip, uint16_t port, char *err, size_t errlen)
{
	struct sockaddr_in sa = {
		.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(ip)};
	const union MHD_DaemonInfo *info;
	char a[16];
	int rc;

	m->mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG,
				  port, NULL, NULL, on_request, m, MHD_OPTION_EXTERNAL_LOGGER,
				  mhd_log, m, MHD_OPTION_SOCK_ADDR, &sa,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned int)METRICS_MAX_CONNS,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)METRICS_TIMEOUT_S,
				  MHD_OPTION_NOTIFY_COMPLETED, on_completed, m, MHD_OPTION_END);
	if (!m->mhd) {
		rc = errno ? -errno : -EADDRINUSE;
		snprintf(err, errlen, "metrics.listen %s:%u: cannot listen (%s)",
			 sbcfg_ip_fmt(ip, a), port, strerror(-rc));
		return rc;
	}
	info = MHD_get_daemon_info(m->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info ||
	    (rc = ev_file_add(m->deps.loop, info->epoll_fd, EV_READ, on_mhd, m, err, errlen)) < 0) {
		MHD_stop_daemon(m->mhd);
		m->mhd = NULL;
		if (!info)
			snprintf(err, errlen, "metrics: libmicrohttpd gave no epoll fd");
		return -EIO;
	}
	m->mhd_fd = info->epoll_fd;
	m->listen_ip = ip;
	m->port = port;
	ctl_log(LOG_INFO, "metrics: listening on %s:%u (/metrics, / status page)",
		sbcfg_ip_fmt(ip, a), port);
	return 0;
}

int metrics_start(struct metrics **out, const struct metrics_deps *deps, char *err, size_t errlen)
{
	const struct sbcfg_metrics *c = &deps->running(deps->arg)->cfg.metrics;
	struct metrics *m = calloc(1, sizeof(*m));
	int rc;

	*out = NULL;
	if (!m) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	m->deps = *deps;
	m->mhd_fd = -1;
	if (c->port && (rc = listener_open(m, c->listen_ip, c->port, err, errlen)) < 0) {
		free(m);
		return rc;
	}
	m->mhd_timer = ev_timer_add(deps->loop, 1000, mhd_tick, m);
	m->history_timer = ev_timer_add(deps->loop, METRICS_HISTORY_MS, history_tick, m);
	*out = m;
	return 0;
}

void metrics_apply(struct metrics *m)
{
	const struct sbcfg_metrics *c = &m->deps.running(m->deps.arg)->cfg.metrics;

	if (c->port == m->port && (c->port == 0 || c->listen_ip == m->listen_ip))
		return;
	listener_close(m);
	m->listen_err[0] = '\0';
	if (c->port &&
	    listener_open(m, c->listen_ip, c->port, m->listen_err, sizeof(m->listen_err)) < 0)
		ctl_log(LOG_ERR, "%s", m->listen_err);
}

void metrics_stop(struct metrics *m)
{
	if (!m)
		return;
	listener_close(m);
	if (m->mhd_timer > 0)
		ev_timer_del(m->deps.loop, m->mhd_timer);
	if (m->history_timer > 0)
		ev_timer_del(m->deps.loop, m->history_timer);
	free(m);
}
