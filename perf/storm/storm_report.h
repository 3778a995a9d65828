/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * storm_report.h - the end-of-run report: figures from the fleet and from the engine's
 * own counters, as text or JSON, and one CSV line per VM. Pure apart from the FILE.
 */
#ifndef SB_STORM_REPORT_H
#define SB_STORM_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "storm.h"

/* What the DPDK shell measured about itself and its port. */
struct storm_run {
	uint64_t run_us; /* start of the run to its end */
	uint64_t tsc_hz;
	uint64_t busy_cycles;  /* loop iterations that received, sent or fired a timer */
	uint64_t total_cycles; /* the whole run */
	uint64_t loops;
	uint64_t rx_frames, rx_bytes, tx_frames, tx_bytes;
	uint64_t tx_full;    /* transmit bursts the ring did not take whole at once */
	uint64_t tx_dropped; /* frames dropped: the ring stayed full */
	uint64_t imissed, ierrors, oerrors, rx_nombuf; /* rte_eth_stats of the port */
	/* net_af_xdp: the kernel's rx_dropped of the interface over the run (XDP could not
	 * hand frames to our socket: rings full, fill ring empty; not in imissed); -1: n/a */
	int64_t kernel_rx_dropped;
	/* getrusage(RUSAGE_THREAD) of the lcore over the run: CPU time excludes the time the
	 * thread was preempted, which busy_cycles (wall clock) includes. */
	uint64_t cpu_user_us, cpu_sys_us;
	uint64_t preempted; /* involuntary context switches */
	char driver[32];
	uint32_t timeout_s;
	bool timed_out;
	bool interrupted;
};

struct storm_summary {
	uint32_t vms, ovmf, ipxe, done, failed, leases;
	double last_vm_s;	 /* start of the run to the last VM done */
	double compl_s[4];	 /* p50, p90, p99, max of power-on to done, VMs done */
	double dora_s[4];	 /* the same for power-on to the ACK, VMs bound */
	uint64_t retrans_ours;	 /* DISCOVER/REQUEST/RRQ/ACK resent on timeout */
	uint64_t retrans_theirs; /* duplicate DATA, OACK, OFFER/ACK */
	double run_s;
	double rx_pps, tx_pps, goodput_mbs; /* MB = 10^6 bytes */
	double dora_per_s;		    /* ACKs taken / run time */
	double busy_pct;
	double cycles_per_pkt, ns_per_pkt;
	double cpu_ns_per_pkt; /* user + system CPU time per packet (rx + tx) */
	double cpu_share_pct;  /* CPU time / wall time of the run: < 100 when preempted */
	bool gen_limited;
	char limit[320]; /* why (or why not) the generator was the limit */
};

/* Nearest-rank percentile p (0..100) of n sorted values; 0 if n == 0. */
uint64_t storm_percentile(const uint64_t *sorted, size_t n, double p);

void storm_summarize(const struct storm_fleet *f, const struct storm_run *r,
		     struct storm_summary *s);
void storm_report_text(FILE *out, const struct storm_fleet *f, const struct storm_run *r,
		       const struct storm_summary *s);
void storm_report_json(FILE *out, const struct storm_fleet *f, const struct storm_run *r,
		       const struct storm_summary *s);
/* One line per VM; 0 or -errno. */
int storm_report_csv(const char *path, const struct storm_fleet *f);

#endif
