/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * stats.h - per-lcore counters, drop reasons by name, and an rx->tx latency
 * histogram; shown through DPDK telemetry (/stormboot/stats, /stormboot/latency,
 * /stormboot/sessions) and printed at exit.
 *
 * Each lcore writes only its own struct eng_stats (no atomics, no sharing);
 * readers (telemetry thread, exit report) sum over lcores and may see a value
 * a few packets old.
 */
#ifndef SB_ENG_STATS_H
#define SB_ENG_STATS_H

#include <stdint.h>
#include <stdio.h>

#include <rte_common.h>
#include <rte_lcore.h>

#include "latency.h"
#include "engine_drops.h"

/* X(field, "description"): every counter, once. */
#define ENG_STATS_COUNTERS(X)                                                                      \
	X(rx_pkts, "frames received")                                                              \
	X(rx_bytes, "bytes received")                                                              \
	X(tx_pkts, "frames transmitted")                                                           \
	X(tx_bytes, "bytes transmitted")                                                           \
	X(rx_arp, "ARP frames received")                                                           \
	X(rx_ipv6, "IPv6 frames received (router solicitations, when ipv6_ra steers them)")        \
	X(rx_dhcp, "DHCP/BOOTP frames received (UDP 67)")                                          \
	X(rx_pxe, "PXE boot server frames received (UDP 4011)")                                    \
	X(rx_tftp_req, "TFTP requests received (UDP 69)")                                          \
	X(rx_tftp_xfer, "TFTP frames received on transfer ports")                                  \
	X(rx_handoff, "frames handed over from another lcore")                                     \
	X(tx_arp, "ARP replies sent")                                                              \
	X(tx_ra, "IPv6 router advertisements sent (ipv6_ra)")                                      \
	X(tx_dhcp, "DHCP replies sent")                                                            \
	X(tx_tftp, "TFTP frames sent (OACK, DATA, ERROR)")                                         \
	X(tx_tftp_error, "TFTP ERROR packets sent")                                                \
	X(tx_tftp_retransmit, "TFTP frames sent by a retransmission timer")                        \
	X(tftp_sessions_started, "TFTP sessions started")                                          \
	X(tftp_sessions_completed, "TFTP sessions that delivered the whole file")                  \
	X(tftp_sessions_given_up, "TFTP sessions reclaimed after the client vanished (timeout)")   \
	X(tftp_sessions_aborted, "TFTP sessions ended by a client ERROR or a protocol error")      \
	X(tftp_sessions_size_probe, "TFTP sessions ended by ERROR 8 after our OACK (tsize probe)") \
	X(tftp_sessions_active, "TFTP sessions open now (gauge)")                                  \
	X(tftp_bytes_served, "file bytes of TFTP DATA sent (first transmissions only)")            \
	X(tftp_not_found, "TFTP requests for names not in the catalog (ERROR 1)")                  \
	X(dhcp_replies, "DHCP replies built")                                                      \
	X(timer_runs, "timer wheel runs")                                                          \
	X(busy_ns, "ns spent on bursts with frames, rx to tx flush (CPU per packet)")               \
	X(timeline_events, "boot steps recorded for the per-client timeline (trace.h)")            \
	X(timeline_events_lost, "boot steps not recorded: the lcore's timeline ring was full")

struct eng_stats {
#define ENG_STATS_FIELD(f, d) uint64_t f;
	ENG_STATS_COUNTERS(ENG_STATS_FIELD)
#undef ENG_STATS_FIELD
	uint64_t drops[ENG_DROP__COUNT]; /* core reasons (sb_drop.h), then the engine's */
	struct eng_lat_hist lat;
} __rte_cache_aligned;

/* Count one drop: reason is SB_DROP_x or ENG_DROP_x, or its negative (-SB_DROP_x). */
static inline void eng_count_drop(struct eng_stats *st, int reason)
{
	unsigned int r = (unsigned int)(reason < 0 ? -reason : reason);

	st->drops[r < ENG_DROP__COUNT ? r : 0]++;
}

/* The per-lcore counters (indexed by rte_lcore_id()). */
extern struct eng_stats eng_stats[RTE_MAX_LCORE];

/* Sum of all lcores into *out (out->lat merged too). */
void eng_stats_total(struct eng_stats *out);

/* The control link's counters (control_link.c), for the "stats" view; all zero standalone. */
struct eng_link_stats {
	uint64_t acks_held, acks_durable, acks_undurable, acks_refused, events_lost;
	uint64_t snapshots, snapshot_errors, snapshots_freed;
	uint64_t timeline_sent, timeline_unsent;
};

struct eng_runtime;

/*
 * Where the views' values come from besides the per-lcore counters: rt (its workers' session
 * tables, its image cache), and link(out), the control link's counters (NULL: no control
 * link, none shown).
 */
void eng_stats_set_sources(const struct eng_runtime *rt, void (*link)(struct eng_link_stats *out));

/*
 * The one renderer (docs/METRICS.md): every statistic under its one name, flat, into a sink,
 * so telemetry, the control API and the exit report cannot spell a key two ways.
 *   ENG_VIEW_STATS     every counter, every drop reason as drop_<reason> (zeros included),
 *                      the image cache's image_cache_* values, the control link's counters
 *   ENG_VIEW_LATENCY   latency_count, latency_mean_ns, latency_p50_ns ... latency_max_ns
 *   ENG_VIEW_SESSIONS  the session tables: totals, then lcore<N>_active/_capacity/_ports
 * lcore: -1 for the sum over lcores, else one lcore's counters (stats and latency views).
 */
enum eng_view { ENG_VIEW_STATS, ENG_VIEW_LATENCY, ENG_VIEW_SESSIONS };
struct eng_sink {
	void *ctx;
	void (*u64)(void *ctx, const char *name, uint64_t v);
	void (*str)(void *ctx, const char *name, const char *v);
};
int eng_stats_render(enum eng_view view, int lcore, const struct eng_sink *sink);

/* Register /stormboot/stats, /stormboot/latency, /stormboot/sessions (the views above). */
int eng_stats_telemetry_register(void);

/* Human-readable report at exit: the stats view's non-zero values, latency percentiles. */
void eng_stats_print(FILE *f);

#endif
