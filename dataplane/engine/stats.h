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
	X(busy_ns, "ns spent on bursts with frames, rx to tx flush (CPU per packet)")              \
	X(rx_dhcp_discover, "DHCPDISCOVERs received (option 53 = 1)")                              \
	X(rx_dhcp_request, "DHCPREQUESTs received")                                                \
	X(rx_dhcp_decline, "DHCPDECLINEs received")                                                \
	X(rx_dhcp_release, "DHCPRELEASEs received")                                                \
	X(rx_dhcp_inform, "DHCPINFORMs received")                                                  \
	X(rx_dhcp_other, "DHCP/BOOTP frames without a known message type (BOOTP, type 2/5/6/9+)")  \
	X(tx_dhcp_offer, "DHCPOFFERs sent")                                                        \
	X(tx_dhcp_ack, "DHCPACKs sent")                                                            \
	X(tx_dhcp_nak, "DHCPNAKs sent")                                                            \
	X(mtftp_streams_started, "multicast TFTP streams started (RFC 2090)")                      \
	X(mtftp_streams_ended, "multicast TFTP streams ended (their last client left)")            \
	X(mtftp_streams_active, "multicast TFTP streams open now (gauge)")                         \
	X(mtftp_clients_joined, "clients served by a multicast stream (RRQ with multicast)")       \
	X(mtftp_clients_completed, "multicast clients that acknowledged the last block as master") \
	X(mtftp_clients_left, "multicast clients that left with an ERROR")                         \
	X(mtftp_clients_lost, "multicast masters let go without progress (vanished or finished)")  \
	X(mtftp_handovers, "multicast master hand-overs (a master left, the next one promoted)")   \
	X(mtftp_oacks_sent, "multicast OACKs sent (joins, promotions, repeats)")                   \
	X(mtftp_blocks_sent, "multicast DATA blocks sent (group, or unicast to a cut-off master)") \
	X(mtftp_blocks_resent, "of which blocks sent before (resends, late joiners)")              \
	X(mtftp_blocks_late, "of which blocks sent again for a promoted late joiner")              \
	X(mtftp_blocks_unicast, "of which sent unicast to a master the group does not reach")      \
	X(mtftp_unicast_fallbacks, "masters switched to unicast DATA (no progress via the group)") \
	X(mtftp_bytes_sent, "file bytes of multicast DATA sent (all blocks, resends included)")    \
	X(mtftp_tx_bytes, "frame bytes of multicast DATA sent (to groups and fallbacks)")          \
	X(mtftp_rrq_unicast, "RRQs with multicast served unicast (off, netascii, no stream free)") \
	X(dhcp_probes_sent, "ARP probes sent before an OFFER (dhcp.conflict_probe_ms)")            \
	X(dhcp_probes_clear, "OFFERs sent after a probe nobody answered")                          \
	X(dhcp_probe_conflicts, "addresses found in use by a probe: quarantined as if DECLINEd")   \
	X(timeline_events, "boot steps recorded for the per-client timeline (trace.h)")            \
	X(timeline_events_lost, "boot steps not recorded: the lcore's timeline ring was full")     \
	X(tftp_wait_held, "paced RRQs whose client joined the admission queue (arrival order)")    \
	X(tftp_wait_refreshed, "RRQs of a client already in the admission queue (place kept)")     \
	X(tftp_wait_admitted, "clients taken from the queue's head: session started at once")      \
	X(tftp_wait_full, "paced RRQs not queued: the admission queue was full")                   \
	X(tftp_wait_expired, "waiters dropped at the queue's head, silent 8 s (gave up)")          \
	X(tftp_wait_too_long, "paced RRQs not queued: longer than 512 bytes")                      \
	X(tftp_wait_failed, "admitted waiters not started (image gone, refused, client cap)")      \
	X(tftp_waiting, "clients in the admission queue now (gauge)")                              \
	X(dhcp_url_tokens, "DHCP replies whose boot-file URL carries a boot token (UEFI HTTP "     \
			   "boot)")                                                                \
	X(rx_bursts, "polls that returned frames (rx_pkts / rx_bursts: the mean burst)")           \
	X(rx_bursts_full, "of which full bursts (32 frames: the ring held more, or a microburst)") \
	X(tx_bursts, "tx bursts (calls to the port's tx with frames staged)")                      \
	X(tx_bursts_early, "of which inside an rx burst: the oldest reply had waited the hold")

/*
 * X(STAGE, "name", "what"): the per-packet stages whose TSC cycles a build with
 * -Dstage_cycles=true adds up (perf/storm/storm-engine.sh prints them per item). Each stage
 * counts its items: frames for rx/parse/free, replies for alloc/checksum, DATA blocks for
 * build, frames sent for tx.
 */
#define ENG_STAGES(X)                                                                              \
	X(RX, "rx", "rte_eth_rx_burst, per frame received (bursts with frames)")                   \
	X(PARSE, "parse", "Ethernet/IPv4/UDP parse and checks (pkt_parse_udp), per frame")         \
	X(LOOKUP, "lookup", "TFTP session lookup (rte_hash) of a transfer-port frame")             \
	X(SESSION, "session", "TFTP session state machine on a frame (ACK: window, timers)")       \
	X(DHCP, "dhcp", "DHCP: options parse, lease lookup/allocation, reply build")               \
	X(ALLOC, "alloc", "mbuf allocation for a reply")                                           \
	X(BUILD, "build", "TFTP DATA payload copied from the image cache (tftp_build_data)")       \
	X(CSUM, "checksum", "Ethernet/IPv4/UDP headers and both checksums (pkt_build_udp)")        \
	X(TX, "tx", "rte_eth_tx_burst, per frame sent")                                            \
	X(FREE, "free", "freeing the request's mbuf")

enum eng_stage {
#define ENG_STAGE_ENUM(e, n, d) ENG_STAGE_##e,
	ENG_STAGES(ENG_STAGE_ENUM)
#undef ENG_STAGE_ENUM
		ENG_STAGE__COUNT
};

struct eng_stage_cost {
	uint64_t cycles, items;
};

#ifdef SB_STAGE_CYCLES
#include <rte_cycles.h>
static inline uint64_t eng_stage_tsc(void)
{
	return rte_rdtsc();
}
#define ENG_STAGE_ADD(w, stage, cyc, n)                                                            \
	do {                                                                                       \
		(w)->st->stage_cost[stage].cycles += (cyc);                                        \
		(w)->st->stage_cost[stage].items += (n);                                           \
	} while (0)
#else
static inline uint64_t eng_stage_tsc(void)
{
	return 0;
}
#define ENG_STAGE_ADD(w, stage, cyc, n) ((void)(cyc), (void)(n))
#endif

struct eng_stats {
#define ENG_STATS_FIELD(f, d) uint64_t f;
	ENG_STATS_COUNTERS(ENG_STATS_FIELD)
#undef ENG_STATS_FIELD
	uint64_t drops[ENG_DROP__COUNT];    /* core reasons (sb_drop.h), then the engine's */
	uint64_t mtftp_group_tx_bytes[256]; /* frame bytes by position in tftp.multicast.groups */
	struct eng_lat_hist lat;	    /* rx burst -> return of the tx call (with transmit) */
	struct eng_lat_hist lat_engine;	    /* rx burst -> the tx call (the engine's own time) */
	struct eng_stage_cost stage_cost[ENG_STAGE__COUNT]; /* -Dstage_cycles=true builds only */
} __rte_cache_aligned;

/* Count one drop: reason is SB_DROP_x or ENG_DROP_x, or its negative (-SB_DROP_x). */
static inline void eng_count_drop(struct eng_stats *st, int reason)
{
	unsigned int r = (unsigned int)(reason < 0 ? -reason : reason);

	st->drops[r < ENG_DROP__COUNT ? r : 0]++;
}

/* Count a DHCP request by its message type (option 53; 0 = did not parse). */
static inline void eng_count_dhcp_in(struct eng_stats *st, uint8_t msg)
{
	switch (msg) {
	case 1:
		st->rx_dhcp_discover++;
		break;
	case 3:
		st->rx_dhcp_request++;
		break;
	case 4:
		st->rx_dhcp_decline++;
		break;
	case 7:
		st->rx_dhcp_release++;
		break;
	case 8:
		st->rx_dhcp_inform++;
		break;
	default:
		st->rx_dhcp_other++;
		break;
	}
}

/* Count a DHCP reply sent, by its message type (OFFER 2, ACK 5, NAK 6). */
static inline void eng_count_dhcp_out(struct eng_stats *st, uint8_t msg)
{
	st->tx_dhcp_offer += msg == 2;
	st->tx_dhcp_ack += msg == 5;
	st->tx_dhcp_nak += msg == 6;
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
 *   ENG_VIEW_LATENCY   latency_count, latency_mean_ns, latency_p50_ns ... latency_max_ns (rx
 *                      burst to the tx call's return), then latency_engine_count ...
 *                      latency_engine_max_ns (rx burst to the tx call: without the transmit)
 *   ENG_VIEW_SESSIONS  the session tables: totals, then lcore<N>_active/_capacity/_ports
 *   ENG_VIEW_IMAGES    bytes of TFTP DATA served per image name (the key is the image's name,
 *                      not a statistic name: counted when a transfer ends; not per lcore)
 * lcore: -1 for the sum over lcores, else one lcore's counters (stats and latency views).
 */
enum eng_view { ENG_VIEW_STATS, ENG_VIEW_LATENCY, ENG_VIEW_SESSIONS, ENG_VIEW_IMAGES };
struct eng_sink {
	void *ctx;
	void (*u64)(void *ctx, const char *name, uint64_t v);
	void (*str)(void *ctx, const char *name, const char *v);
};
int eng_stats_render(enum eng_view view, int lcore, const struct eng_sink *sink);

/* Register /stormboot/stats, /stormboot/latency, /stormboot/sessions, /stormboot/images. */
int eng_stats_telemetry_register(void);

/* Human-readable report at exit: the stats view's non-zero values, latency percentiles. */
void eng_stats_print(FILE *f);

#endif
