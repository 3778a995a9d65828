/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_telemetry.h>

#include "engine.h"
#include "snapshot.h"
#include "stats.h"

struct eng_stats eng_stats[RTE_MAX_LCORE];

static const char *const eng_drop_names[] = {
#define ENG_DROP_NAME(e, name, desc) name,
	ENGINE_DROPS(ENG_DROP_NAME)
#undef ENG_DROP_NAME
};
static const char *const eng_drop_descs[] = {
#define ENG_DROP_DESC(e, name, desc) desc,
	ENGINE_DROPS(ENG_DROP_DESC)
#undef ENG_DROP_DESC
};

const char *eng_drop_name(unsigned int reason)
{
	if (reason < SB_DROP__COUNT)
		return sb_drop_name((int)reason);
	return reason < ENG_DROP__COUNT ? eng_drop_names[reason - SB_DROP__COUNT] : "unknown";
}

const char *eng_drop_desc(unsigned int reason)
{
	if (reason < SB_DROP__COUNT)
		return sb_drop_desc((int)reason);
	return reason < ENG_DROP__COUNT ? eng_drop_descs[reason - SB_DROP__COUNT]
					: "unknown drop reason";
}

static void stats_add(struct eng_stats *to, const struct eng_stats *from)
{
#define ENG_STATS_ADD(f, d) to->f += from->f;
	ENG_STATS_COUNTERS(ENG_STATS_ADD)
#undef ENG_STATS_ADD
	for (unsigned int i = 0; i < ENG_DROP__COUNT; i++)
		to->drops[i] += from->drops[i];
	for (unsigned int i = 0; i < RTE_DIM(to->mtftp_group_tx_bytes); i++)
		to->mtftp_group_tx_bytes[i] += from->mtftp_group_tx_bytes[i];
	eng_lat_merge(&to->lat, &from->lat);
	eng_lat_merge(&to->lat_engine, &from->lat_engine);
	for (unsigned int i = 0; i < ENG_STAGE__COUNT; i++) {
		to->stage_cost[i].cycles += from->stage_cost[i].cycles;
		to->stage_cost[i].items += from->stage_cost[i].items;
	}
}

void eng_stats_total(struct eng_stats *out)
{
	unsigned int lc;

	memset(out, 0, sizeof(*out));
	for (lc = 0; lc < RTE_MAX_LCORE; lc++)
		stats_add(out, &eng_stats[lc]);
}

static const struct eng_runtime *runtime;
static void (*link_stats)(struct eng_link_stats *out);

void eng_stats_set_sources(const struct eng_runtime *rt, void (*link)(struct eng_link_stats *out))
{
	runtime = rt;
	link_stats = link;
}

/* X(field, "name suffix"): an AF_XDP socket's counters, as xsk_<name> and xsk<Q>_<name>. */
#define ENG_XSK_QUEUES_SHOWN 16 /* xsk<Q>_ for queues 0..15: a telemetry dict holds 256 keys */
#define ENG_XSK_COUNTERS(X)                                                                        \
	X(rx_dropped, "rx_dropped")                                                                \
	X(rx_invalid_descs, "rx_invalid_descs")                                                    \
	X(tx_invalid_descs, "tx_invalid_descs")                                                    \
	X(rx_ring_full, "rx_ring_full")                                                            \
	X(rx_fill_ring_empty_descs, "rx_fill_ring_empty_descs")                                    \
	X(tx_ring_empty_descs, "tx_ring_empty_descs")

/*
 * What the port and the kernel lost before a frame reached an lcore, or after it left: the
 * DPDK port's counters (port_*) and, on net_af_xdp, each queue's AF_XDP socket (xsk<Q>_*,
 * summed as xsk_* over all queues, shown one by one for the first 16). System calls
 * (rte_eth_stats_get, getsockopt): the telemetry and control threads and the exit report only.
 * Every name is always there (0 when not measured).
 */
static void render_port(const struct eng_sink *k)
{
	const struct eng_port *p = &runtime->port;
	struct eng_xsk_stats q[ENG_PORT_MAX_QUEUES], sum;
	struct rte_eth_stats es;
	char name[64];

	memset(&es, 0, sizeof(es));
	(void)rte_eth_stats_get(p->port_id, &es);
	k->u64(k->ctx, "port_rx_pkts", es.ipackets);
	k->u64(k->ctx, "port_tx_pkts", es.opackets);
	k->u64(k->ctx, "port_rx_missed", es.imissed);
	k->u64(k->ctx, "port_rx_errors", es.ierrors);
	k->u64(k->ctx, "port_rx_no_mbuf", es.rx_nombuf);
	k->u64(k->ctx, "port_tx_errors", es.oerrors);
	memset(&sum, 0, sizeof(sum));
	for (uint16_t i = 0; i < p->n_xsk; i++) {
		(void)eng_port_xsk_stats(p, i, &q[i]);
#define ENG_XSK_SUM(f, n) sum.f += q[i].f;
		ENG_XSK_COUNTERS(ENG_XSK_SUM)
#undef ENG_XSK_SUM
	}
#define ENG_XSK_TOTAL(f, n) k->u64(k->ctx, "xsk_" n, sum.f);
	ENG_XSK_COUNTERS(ENG_XSK_TOTAL)
#undef ENG_XSK_TOTAL
	for (uint16_t i = 0; i < p->n_xsk && i < ENG_XSK_QUEUES_SHOWN; i++) {
#define ENG_XSK_QUEUE(f, n)                                                                        \
	snprintf(name, sizeof(name), "xsk%u_" n, i);                                               \
	k->u64(k->ctx, name, q[i].f);
		ENG_XSK_COUNTERS(ENG_XSK_QUEUE)
#undef ENG_XSK_QUEUE
	}
}

#ifdef SB_STAGE_CYCLES
static const char *const eng_stage_names[] = {
#define ENG_STAGE_NAME(e, n, d) n,
	ENG_STAGES(ENG_STAGE_NAME)
#undef ENG_STAGE_NAME
};

/* stage_<name>_items and stage_<name>_ns (the stage's summed time) of each stage. */
static void render_stages(const struct eng_stats *st, const struct eng_sink *k)
{
	char name[64];

	for (unsigned int i = 0; i < ENG_STAGE__COUNT; i++) {
		snprintf(name, sizeof(name), "stage_%s_items", eng_stage_names[i]);
		k->u64(k->ctx, name, st->stage_cost[i].items);
		snprintf(name, sizeof(name), "stage_%s_ns", eng_stage_names[i]);
		k->u64(k->ctx, name,
		       runtime ? eng_tsc_to_ns(runtime, st->stage_cost[i].cycles) : 0);
	}
}
#endif

static void render_stats(const struct eng_stats *st, bool total, const struct eng_sink *k)
{
	char name[64];

#define ENG_STATS_RENDER(f, desc) k->u64(k->ctx, #f, st->f);
	ENG_STATS_COUNTERS(ENG_STATS_RENDER)
#undef ENG_STATS_RENDER
	for (unsigned int i = 1; i < ENG_DROP__COUNT; i++) {
		snprintf(name, sizeof(name), "drop_%s", eng_drop_name(i));
		k->u64(k->ctx, name, st->drops[i]);
	}
#ifdef SB_STAGE_CYCLES
	render_stages(st, k);
#endif
	if (runtime) {
		const struct eng_image_cache *c = &runtime->images;

		k->u64(k->ctx, "image_cache_images", c->n);
		k->u64(k->ctx, "image_cache_bytes", c->bytes);
		k->u64(k->ctx, "image_cache_reads", c->reads);
		k->u64(k->ctx, "image_cache_hits", c->hits);
		k->u64(k->ctx, "image_cache_freed", c->freed);
		if (total)
			render_port(k);
	}
	/* Frame bytes sent to each group that carried a stream: mtftp_group_<a>_<b>_<c>_<d>_tx_bytes */
	if (runtime && runtime->snap) {
		uint32_t lo = runtime->snap->cfg.tftp.multicast.group_lo;

		for (unsigned int i = 0; i < RTE_DIM(st->mtftp_group_tx_bytes); i++) {
			uint32_t g = lo + i;

			if (!st->mtftp_group_tx_bytes[i])
				continue;
			snprintf(name, sizeof(name), "mtftp_group_%u_%u_%u_%u_tx_bytes", g >> 24,
				 (g >> 16) & 255, (g >> 8) & 255, g & 255);
			k->u64(k->ctx, name, st->mtftp_group_tx_bytes[i]);
		}
	}
	if (link_stats) {
		struct eng_link_stats ls, *l = &ls;

		link_stats(&ls);
		k->u64(k->ctx, "acks_held", l->acks_held);
		k->u64(k->ctx, "acks_durable", l->acks_durable);
		k->u64(k->ctx, "acks_undurable", l->acks_undurable);
		k->u64(k->ctx, "acks_refused", l->acks_refused);
		k->u64(k->ctx, "lease_events_lost", l->events_lost);
		k->u64(k->ctx, "snapshots", l->snapshots);
		k->u64(k->ctx, "snapshot_errors", l->snapshot_errors);
		k->u64(k->ctx, "snapshots_freed", l->snapshots_freed);
		k->u64(k->ctx, "timeline_events_sent", l->timeline_sent);
		k->u64(k->ctx, "timeline_events_unsent", l->timeline_unsent);
	}
}

/* prefix_count, prefix_mean_ns, prefix_p50_ns ... prefix_max_ns of one histogram. */
static void render_hist(const struct eng_lat_hist *h, const char *prefix,
			const struct eng_sink *k)
{
	struct eng_lat_summary s;
	char name[64];

	eng_lat_summarize(h, &s);
#define LAT_KEY(suffix, v)                                                                         \
	snprintf(name, sizeof(name), "%s_" suffix, prefix);                                        \
	k->u64(k->ctx, name, v);
	LAT_KEY("count", s.count)
	LAT_KEY("mean_ns", s.mean_ns)
	LAT_KEY("p50_ns", s.p50_ns)
	LAT_KEY("p90_ns", s.p90_ns)
	LAT_KEY("p99_ns", s.p99_ns)
	LAT_KEY("p99_9_ns", s.p999_ns)
	LAT_KEY("max_ns", s.max_ns)
#undef LAT_KEY
}

/*
 * Two spans per reply, both from the TSC of the rx burst that brought its request: to the
 * return of the tx call that sent it (latency_*: with the transmit, which on net_af_xdp in
 * copy mode includes the kernel delivering the frame to the peer), and to the moment that
 * call was made (latency_engine_*: the engine's own time, parse, lookup, build, staging).
 */
static void render_latency(const struct eng_stats *st, const struct eng_sink *k)
{
	k->str(k->ctx, "latency_what", "rx burst -> return of the tx call that sent the reply, ns");
	render_hist(&st->lat, "latency", k);
	k->str(k->ctx, "latency_engine_what",
	       "rx burst -> the tx call that sent the reply (engine time, no transmit), ns");
	render_hist(&st->lat_engine, "latency_engine", k);
	/* cumulative counts at fixed bounds of latency_*, for Prometheus histograms (latency.h) */
	k->u64(k->ctx, "latency_sum_ns", st->lat.sum_ns);
#define ENG_LAT_LE(b) k->u64(k->ctx, "latency_le_" #b "_ns", eng_lat_count_le(&st->lat, b));
	ENG_LAT_LE_BOUNDS(ENG_LAT_LE)
#undef ENG_LAT_LE
}

/* Bytes served per image name, summed over the versions of a file and the freed ones. */
struct served_sum {
	struct {
		const char *name;
		uint64_t bytes;
	} * v;
	size_t n, cap; /* names are copies: the cache's may be freed once its lock is let go */
};

static void served_one(void *arg, const char *name, uint64_t bytes)
{
	struct served_sum *s = arg;
	size_t i;

	for (i = 0; i < s->n; i++) {
		if (strcmp(s->v[i].name, name) == 0) {
			s->v[i].bytes += bytes;
			return;
		}
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		void *v = realloc(s->v, cap * sizeof(*s->v));

		if (v == NULL)
			return;
		s->v = v;
		s->cap = cap;
	}
	if ((s->v[s->n].name = strdup(name)) == NULL)
		return;
	s->v[s->n++].bytes = bytes;
}

static void render_images(const struct eng_sink *k)
{
	struct served_sum s = {0};

	if (runtime == NULL)
		return;
	eng_image_cache_served((struct eng_image_cache *)&runtime->images, served_one, &s);
	for (size_t i = 0; i < s.n; i++) {
		k->u64(k->ctx, s.v[i].name, s.v[i].bytes);
		free((char *)s.v[i].name);
	}
	free(s.v);
}

static void render_sessions(const struct eng_stats *st, const struct eng_sink *k)
{
	unsigned int n = runtime ? runtime->n_workers : 0;
	uint64_t capacity = 0;
	char name[64], ports[16];

	/* The same names as in the stats view: one spelling per value. */
	k->u64(k->ctx, "tftp_sessions_active", st->tftp_sessions_active);
	for (unsigned int i = 0; i < n; i++)
		capacity += runtime->workers[i]->sess.cap;
	k->u64(k->ctx, "tftp_sessions_capacity", capacity);
	k->u64(k->ctx, "tftp_sessions_started", st->tftp_sessions_started);
	k->u64(k->ctx, "tftp_sessions_completed", st->tftp_sessions_completed);
	k->u64(k->ctx, "tftp_sessions_given_up", st->tftp_sessions_given_up);
	k->u64(k->ctx, "tftp_sessions_aborted", st->tftp_sessions_aborted);
	k->u64(k->ctx, "tftp_sessions_size_probe", st->tftp_sessions_size_probe);
	k->u64(k->ctx, "drop_tftp_rrq_paced", st->drops[ENG_DROP_RRQ_PACED]);
	k->u64(k->ctx, "drop_tftp_rrq_client_cap", st->drops[ENG_DROP_RRQ_CLIENT_CAP]);
	k->u64(k->ctx, "tftp_bytes_served", st->tftp_bytes_served);
	k->u64(k->ctx, "tftp_waiting", st->tftp_waiting);
	k->u64(k->ctx, "tftp_wait_admitted", st->tftp_wait_admitted);
	for (unsigned int i = 0; i < n; i++) {
		const struct eng_worker *w = runtime->workers[i];
		const struct tftp_table *t = &w->sess;

		snprintf(name, sizeof(name), "lcore%u_tftp_sessions_active", w->lcore_id);
		k->u64(k->ctx, name, __atomic_load_n(&t->n_active, __ATOMIC_RELAXED));
		snprintf(name, sizeof(name), "lcore%u_tftp_sessions_capacity", w->lcore_id);
		k->u64(k->ctx, name, t->cap);
		snprintf(name, sizeof(name), "lcore%u_tftp_transfer_ports", w->lcore_id);
		snprintf(ports, sizeof(ports), "%u-%u", t->port_lo, t->port_hi);
		k->str(k->ctx, name, ports);
	}
	/* Multicast streams (worker 0's): what each one sends, to whom, for how many clients. */
	k->u64(k->ctx, "mtftp_streams_active", st->mtftp_streams_active);
	if (n > 0 && runtime->workers[0]->mstreams) {
		const struct eng_mstream *ms = runtime->workers[0]->mstreams;
		char val[96];

		for (unsigned int i = 0; i < ENG_MTFTP_STREAMS; i++) {
			const struct eng_mstream *m = &ms[i];
			uint32_t g = m->ms.group_ip;

			if (!__atomic_load_n(&m->open, __ATOMIC_RELAXED))
				continue;
			snprintf(name, sizeof(name), "mtftp_stream%u", i);
			snprintf(val, sizeof(val), "%s -> %u.%u.%u.%u:%u from port %u", m->image,
				 g >> 24, (g >> 16) & 255, (g >> 8) & 255, g & 255, m->ms.group_port,
				 m->ms.server_port);
			k->str(k->ctx, name, val);
			snprintf(name, sizeof(name), "mtftp_stream%u_clients", i);
			k->u64(k->ctx, name, m->ms.n_clients);
			snprintf(name, sizeof(name), "mtftp_stream%u_clients_joined", i);
			k->u64(k->ctx, name, m->ms.stats.clients_joined);
			snprintf(name, sizeof(name), "mtftp_stream%u_handovers", i);
			k->u64(k->ctx, name, m->ms.stats.handovers);
			snprintf(name, sizeof(name), "mtftp_stream%u_blocks_sent", i);
			k->u64(k->ctx, name, m->ms.stats.blocks_sent);
			snprintf(name, sizeof(name), "mtftp_stream%u_blocks_late", i);
			k->u64(k->ctx, name, m->ms.stats.blocks_late);
		}
	}
}

int eng_stats_render(enum eng_view view, int lcore, const struct eng_sink *sink)
{
	struct eng_stats *st = malloc(sizeof(*st)); /* ~8 KiB: not on a telemetry stack */

	if (st == NULL)
		return -ENOMEM;
	if (lcore < 0)
		eng_stats_total(st);
	else if (lcore < RTE_MAX_LCORE)
		*st = eng_stats[lcore];
	else {
		free(st);
		return -EINVAL;
	}
	switch (view) {
	case ENG_VIEW_STATS:
		render_stats(st, lcore < 0, sink);
		break;
	case ENG_VIEW_LATENCY:
		render_latency(st, sink);
		break;
	case ENG_VIEW_SESSIONS:
		render_sessions(st, sink);
		break;
	case ENG_VIEW_IMAGES:
		render_images(sink);
		break;
	}
	free(st);
	return 0;
}

/* ---- telemetry: /stormboot/<view>[,LCORE] ---- */

static void tel_u64(void *ctx, const char *name, uint64_t v)
{
	rte_tel_data_add_dict_u64(ctx, name, v);
}

static void tel_str(void *ctx, const char *name, const char *v)
{
	rte_tel_data_add_dict_string(ctx, name, v);
}

static int tel_view(enum eng_view view, const char *params, struct rte_tel_data *d)
{
	struct eng_sink k = {d, tel_u64, tel_str};
	int lcore = -1;
	char *end;

	if (params && *params) {
		unsigned long lc = strtoul(params, &end, 10);

		if (*end != '\0' || lc >= RTE_MAX_LCORE || view == ENG_VIEW_SESSIONS ||
		    view == ENG_VIEW_IMAGES)
			return -EINVAL;
		lcore = (int)lc;
	}
	rte_tel_data_start_dict(d);
	return eng_stats_render(view, lcore, &k);
}

static int tel_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	return tel_view(ENG_VIEW_STATS, params, d);
}

static int tel_latency(const char *cmd, const char *params, struct rte_tel_data *d)
{
	return tel_view(ENG_VIEW_LATENCY, params, d);
}

static int tel_sessions(const char *cmd, const char *params, struct rte_tel_data *d)
{
	return tel_view(ENG_VIEW_SESSIONS, params, d);
}

static int tel_images(const char *cmd, const char *params, struct rte_tel_data *d)
{
	return tel_view(ENG_VIEW_IMAGES, params, d);
}

int eng_stats_telemetry_register(void)
{
	int rc = 0;

	rc |= rte_telemetry_register_cmd(
		"/stormboot/stats", tel_stats,
		"stormboot counters and drops by reason. Parameters: int lcore_id (optional)");
	rc |= rte_telemetry_register_cmd(
		"/stormboot/latency", tel_latency,
		"rx->tx latency percentiles in ns. Parameters: int lcore_id (optional)");
	rc |= rte_telemetry_register_cmd("/stormboot/sessions", tel_sessions,
					 "TFTP session tables. Takes no parameters");
	rc |= rte_telemetry_register_cmd(
		"/stormboot/images", tel_images,
		"TFTP file bytes served per image name. Takes no parameters");
	return rc ? -EINVAL : 0;
}

/* ---- the exit report: non-zero values of the stats view, then latency ---- */

static void print_u64(void *ctx, const char *name, uint64_t v)
{
	if (v)
		fprintf(ctx, "  %-32s %" PRIu64 "\n", name, v);
}

static void print_str(void *ctx, const char *name, const char *v)
{
	fprintf(ctx, "  %-32s %s\n", name, v);
}

void eng_stats_print(FILE *f)
{
	struct eng_sink k = {f, print_u64, print_str};

	fprintf(f, "stormboot stats (non-zero; names as in telemetry and the API):\n");
	eng_stats_render(ENG_VIEW_STATS, -1, &k);
	eng_stats_render(ENG_VIEW_LATENCY, -1, &k);
}
