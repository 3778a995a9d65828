/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * engine.h - the dataplane's runtime: what main() sets up once for the life of the process
 * (port, mempool, clock, image cache, workers) and the pointer to the config snapshot being
 * served (snapshot.h: everything derived from one config, replaced at a reload). After the
 * launch the lcores only read it, except each worker's own struct.
 */
#ifndef SB_ENG_ENGINE_H
#define SB_ENG_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "arp_probe.h"
#include "clock.h"
#include "image_cache.h"
#include "port.h"
#include "stats.h"
#include "tftp_table.h"
#include "tftp_wait.h"

#define ENG_BURST      32   /* rx burst */
#define ENG_TX_STAGE   512  /* frames staged per lcore before a tx burst */
#define ENG_INBOX_SIZE 1024 /* hand-over ring between lcores (power of 2) */
#define ENG_TIMER_US   500  /* run the session timers at least this often */
/* Staged replies go out once the oldest has waited this long, even in the middle of an rx
 * burst (then twice as long for the next early tx call of that burst): a burst of 32 DHCP
 * requests takes about 50 us to answer, and without it the first reply waited for the last
 * (docs/PERFORMANCE.md, "Latency at half load"). */
#define ENG_TX_HOLD_NS 4000
#define ENG_PROBE_SLOTS 1024 /* OFFERs held pending a conflict probe (config max), worker 0 */
/* Paced RRQs remembered, admitted oldest first (tftp_wait.h): room for a 10,000-VM storm
 * behind a 1,000-session cap, shared out between the workers (a power of two each, at least
 * ENG_TFTP_WAITERS_MIN); about 600 bytes of hugepage memory per client. */
#define ENG_TFTP_WAITERS     16384
#define ENG_TFTP_WAITERS_MIN 1024
/* A waiter silent this long has given up: iPXE's longest gap between two RRQs is 8 s, and it
 * gives up 8 s after its last one (OVMF: 4 s gaps). */
#define ENG_TFTP_WAIT_TTL_MS 8000

struct snapshot;

/* What worker 0 holds while an address is probed (dhcp.conflict_probe_ms): slot by slot. */
struct eng_probe_held {
	struct rte_mbuf *req;	/* the DISCOVER, served again if the address is in use */
	struct rte_mbuf *offer; /* the OFFER frame, headers built, sent if nobody answers */
	uint64_t rx_tsc;	/* of the DISCOVER */
};

/* One polling lcore: one rx/tx queue, its own sessions, its own counters. */
struct eng_worker {
	struct eng_runtime *rt;
	struct snapshot *snap; /* the config it serves from, adopted once per poll loop */
	unsigned int lcore_id;
	uint16_t queue;
	uint16_t idx; /* 0 .. n_workers-1; worker 0 also runs DHCP */
	struct eng_stats *st;
	struct tftp_table sess;
	struct tftp_wait wait; /* clients whose RRQ found no free slot, oldest first */
	struct eng_mstream *mstreams; /* ENG_MTFTP_STREAMS multicast streams (worker 0 uses them) */
	struct rte_ring *inbox; /* frames other lcores hand to this one (NULL with 1 worker) */
	struct rte_ring *tl;	/* boot steps for control (trace.h; NULL without control) */
	/* time of the current burst */
	uint64_t now_tsc;
	uint64_t now_ms;
	uint64_t now_unix;
	/* tx staging: frames and the TSC of the rx burst that caused them (0 = timer) */
	uint16_t tx_n;
	uint64_t tx_since; /* TSC when the oldest staged frame was staged (tx_n > 0) */
	struct rte_mbuf *tx_m[ENG_TX_STAGE];
	uint64_t tx_rx_tsc[ENG_TX_STAGE];
	/* conflict probes before an OFFER (worker 0 only; NULL slots elsewhere) */
	struct probe_table probe;
	struct eng_probe_held *probe_held;
} __rte_cache_aligned;

#define ENG_IDLE_POLLS 1000 /* -I: empty polls in a row before the lcore sleeps */

struct eng_runtime {
	unsigned idle_us; /* -I: sleep between empty polls (0: busy poll, ENG_IDLE_AUTO) */
	char cpu_isolated[256]; /* /sys/devices/system/cpu/isolated at start ("" if none) */
	struct eng_port port;
	struct rte_mempool *pool;
	struct eng_clock clock;
	uint64_t ns_mult; /* TSC ticks -> ns, 32.32 fixed point */
	uint64_t tx_hold_tsc; /* ENG_TX_HOLD_NS in TSC ticks */
	int tsc_dynfield; /* mbuf dynfield offset: rx TSC of a handed-over frame */
	int socket;	  /* NUMA socket of our memory */
	struct eng_image_cache images;
	/*
	 * The config served: built by main() before the launch; with a control process replaced
	 * by the control thread and RCU-published (snapshot.h). Workers read it through w->snap.
	 */
	struct snapshot *snap;
	unsigned int n_workers;
	struct eng_worker *workers[RTE_MAX_LCORE]; /* by idx */
	struct eng_worker *by_lcore[RTE_MAX_LCORE];
};

/* Set by the SIGINT/SIGTERM handler; every poll loop checks it. */
extern volatile bool eng_force_quit;

static inline uint64_t eng_tsc_to_ns(const struct eng_runtime *rt, uint64_t ticks)
{
	return (uint64_t)(((unsigned __int128)ticks * rt->ns_mult) >> 32);
}

#endif
