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
	X(tftp_sessions_refused, "TFTP requests refused: table full (ERROR 'server busy')")        \
	X(tftp_sessions_active, "TFTP sessions open now (gauge)")                                  \
	X(tftp_bytes_served, "file bytes of TFTP DATA sent (first transmissions only)")            \
	X(tftp_not_found, "TFTP requests for names not in the catalog (ERROR 1)")                  \
	X(dhcp_replies, "DHCP replies built")                                                      \
	X(timer_runs, "timer wheel runs")                                                          \
	X(idle_waits, "idle naps in ppoll() on the rx socket (lcore.c idle policy)")               \
	X(busy_ns, "ns spent on bursts with frames, rx to tx flush (CPU per packet)")

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

/* Sessions gauge source for /stormboot/sessions: filled by tftp_sessions.c. */
struct tftp_table_info {
	uint32_t lcore;
	uint32_t active;
	uint32_t capacity;
	uint16_t port_lo, port_hi;
};

/*
 * Register /stormboot/stats, /stormboot/latency, /stormboot/sessions.
 * sessions_fn(i, out) describes the session table of the i-th polling lcore
 * and returns 0, or non-zero past the last one.
 */
int eng_stats_telemetry_register(int (*sessions_fn)(unsigned int idx,
						    struct tftp_table_info *out));

/* Human-readable report: totals, non-zero drops by name, latency percentiles. */
void eng_stats_print(FILE *f);

#endif
