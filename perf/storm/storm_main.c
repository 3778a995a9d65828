/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * storm_main.c - stormboot-storm: the boot-storm generator's DPDK shell.
 *
 *   stormboot-storm EAL-ARGS -- [options]       (storm_opts.c: --help)
 *
 * A straight line: EAL init, options, mempool, one port (whatever the EAL arguments
 * probed: net_af_xdp on a veth, net_memif, a NIC), one lcore polling it, report. The poll
 * loop receives bursts of 32, hands every frame to the fleet (storm_fleet.c), runs the
 * fleet's timer wheel once per millisecond, transmits what the fleet built (bursts of up
 * to 32), and counts the TSC cycles of the iterations that did any of that (busy).
 * Nothing is allocated per packet: mbufs come from the pool, VM state is an array.
 */
#define _GNU_SOURCE /* RUSAGE_THREAD */
#include <errno.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "storm.h"
#include "storm_files.h"
#include "storm_opts.h"
#include "storm_report.h"

#define BURST		   32
#define MEMPOOL_CACHE	   256
#define TIMER_MAX_DEFER_MS 10

static volatile sig_atomic_t force_quit;

static void on_signal(int sig)
{
	(void)sig;
	force_quit = 1;
}

struct storm_eng {
	uint16_t port;
	char ifname[IF_NAMESIZE]; /* the kernel interface behind the port (net_af_xdp), or "" */
	struct rte_mempool *pool;
	struct rte_mbuf *cur; /* the buffer tx_get handed out, not yet committed */
	struct rte_mbuf *tx[BURST];
	uint16_t tx_n;
	struct storm_run run;
};

static void tx_flush(struct storm_eng *e)
{
	uint16_t sent = 0, n = e->tx_n;

	if (n == 0)
		return;
	sent = rte_eth_tx_burst(e->port, 0, e->tx, n);
	if (unlikely(sent < n)) {
		/* A full ring drains within a few calls (net_af_xdp reaps completions in tx). */
		e->run.tx_full++;
		for (int tries = 0; sent < n && tries < 16; tries++)
			sent += rte_eth_tx_burst(e->port, 0, e->tx + sent, n - sent);
	}
	for (uint16_t i = 0; i < sent; i++)
		e->run.tx_bytes += e->tx[i]->pkt_len;
	e->run.tx_frames += sent;
	if (unlikely(sent < n)) {
		e->run.tx_dropped += n - sent;
		rte_pktmbuf_free_bulk(e->tx + sent, n - sent);
	}
	e->tx_n = 0;
}

static uint8_t *io_tx_get(void *ctx, size_t *cap)
{
	struct storm_eng *e = ctx;

	if (!e->cur) {
		e->cur = rte_pktmbuf_alloc(e->pool);
		if (unlikely(!e->cur))
			return NULL;
	}
	*cap = rte_pktmbuf_tailroom(e->cur);
	return rte_pktmbuf_mtod(e->cur, uint8_t *);
}

static void io_tx_put(void *ctx, size_t len)
{
	struct storm_eng *e = ctx;
	struct rte_mbuf *m = e->cur;

	e->cur = NULL;
	m->data_len = (uint16_t)len;
	m->pkt_len = (uint32_t)len;
	e->tx[e->tx_n++] = m;
	if (e->tx_n == BURST)
		tx_flush(e);
}

/* The kernel's rx_dropped of the port's interface, or -1 (no kernel interface). */
static int64_t kernel_rx_dropped(const struct storm_eng *e)
{
	char path[128];
	long long v = -1;
	FILE *fp;

	if (!e->ifname[0])
		return -1;
	snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/rx_dropped", e->ifname);
	fp = fopen(path, "r");
	if (!fp)
		return -1;
	if (fscanf(fp, "%lld", &v) != 1)
		v = -1;
	fclose(fp);
	return v;
}

static int port_init(struct storm_eng *e, const struct storm_opts *o)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	uint16_t nb_rxd = o->rxd, nb_txd = o->txd, pid;
	unsigned n_mbufs;
	int rc, socket;

	if (rte_eth_dev_count_avail() == 0) {
		fprintf(stderr, "stormboot-storm: no DPDK port (check --vdev, e.g. "
				"net_af_xdp0,iface=IF; the interface must be in this namespace)\n");
		return -ENODEV;
	}
	if (o->port == UINT16_MAX) {
		RTE_ETH_FOREACH_DEV(pid)
		{
			e->port = pid;
			break;
		}
	} else {
		e->port = o->port;
		if (!rte_eth_dev_is_valid_port(e->port)) {
			fprintf(stderr, "stormboot-storm: --port %u: no such port\n", e->port);
			return -ENODEV;
		}
	}
	rc = rte_eth_dev_info_get(e->port, &info);
	if (rc < 0)
		return rc;
	snprintf(e->run.driver, sizeof(e->run.driver), "%s", info.driver_name);
	if (strcmp(info.driver_name, "net_af_xdp") != 0 || info.if_index == 0 ||
	    !if_indextoname(info.if_index, e->ifname))
		e->ifname[0] = 0;
	socket = rte_eth_dev_socket_id(e->port);
	/* rx ring + tx ring + what the loop holds + the per-lcore caches. */
	n_mbufs = 2u * nb_rxd + 2u * nb_txd + 4 * BURST + 2 * MEMPOOL_CACHE;
	e->pool = rte_pktmbuf_pool_create("storm_mbufs", n_mbufs, MEMPOOL_CACHE, 0,
					  RTE_MBUF_DEFAULT_BUF_SIZE, socket < 0 ? 0 : socket);
	if (!e->pool) {
		fprintf(stderr, "stormboot-storm: mbuf pool of %u: %s\n", n_mbufs,
			rte_strerror(rte_errno));
		return -ENOMEM;
	}
	memset(&conf, 0, sizeof(conf));
	rc = rte_eth_dev_configure(e->port, 1, 1, &conf);
	if (rc == 0)
		rc = rte_eth_dev_adjust_nb_rx_tx_desc(e->port, &nb_rxd, &nb_txd);
	if (rc == 0)
		rc = rte_eth_rx_queue_setup(e->port, 0, nb_rxd, socket, NULL, e->pool);
	if (rc == 0)
		rc = rte_eth_tx_queue_setup(e->port, 0, nb_txd, socket, NULL);
	if (rc == 0)
		rc = rte_eth_dev_start(e->port);
	if (rc < 0) {
		fprintf(stderr, "stormboot-storm: port %u (%s): %s\n", e->port, e->run.driver,
			strerror(-rc));
		return rc;
	}
	/* The VMs have MACs of their own: take every frame (a NIC filters; veth and memif
	 * do not, and may refuse this: that is fine). */
	rte_eth_promiscuous_enable(e->port);
	/* --multicast: the groups' frames (01:00:5e:...) too, on a NIC that filters them. */
	if (o->cfg.mcast_ratio > 0 && rte_eth_allmulticast_enable(e->port) != 0 &&
	    !rte_eth_promiscuous_get(e->port))
		fprintf(stderr, "stormboot-storm: port %u (%s): neither promiscuous nor "
				"all-multicast: group DATA may not arrive\n",
			e->port, e->run.driver);
	/* net_memif's link comes up when the peer connects: frames sent before are lost. */
	for (uint32_t ms = 0;; ms += 10) {
		struct rte_eth_link link;

		if (rte_eth_link_get_nowait(e->port, &link) == 0 && link.link_status)
			break;
		if (ms >= o->link_wait_s * 1000u) {
			fprintf(stderr,
				"stormboot-storm: port %u (%s): link still down after %u s "
				"(memif: is the peer running on the same socket?); starting anyway\n",
				e->port, e->run.driver, o->link_wait_s);
			break;
		}
		rte_delay_ms(10);
	}
	rte_eth_stats_reset(e->port);
	return 0;
}

static void thread_cpu(uint64_t *user_us, uint64_t *sys_us, uint64_t *nivcsw)
{
	struct rusage ru;

	if (getrusage(RUSAGE_THREAD, &ru) < 0) {
		*user_us = *sys_us = *nivcsw = 0;
		return;
	}
	*user_us = (uint64_t)ru.ru_utime.tv_sec * 1000000u + (uint64_t)ru.ru_utime.tv_usec;
	*sys_us = (uint64_t)ru.ru_stime.tv_sec * 1000000u + (uint64_t)ru.ru_stime.tv_usec;
	*nivcsw = (uint64_t)ru.ru_nivcsw;
}

static uint64_t tsc_to_us(uint64_t cycles, uint64_t hz)
{
	return (uint64_t)((__uint128_t)cycles * 1000000u / hz);
}

static void progress(const struct storm_fleet *f, const struct storm_eng *e, uint64_t now_us,
		     const struct storm_run *prev, double secs)
{
	const uint32_t *n = f->n_state;
	double busy = 0;
	uint64_t cyc = e->run.total_cycles - prev->total_cycles;

	if (cyc)
		busy = 100.0 * (double)(e->run.busy_cycles - prev->busy_cycles) / (double)cyc;
	if (f->cfg.reflect)
		fprintf(stderr, "[%7.1fs] reflect %u | ", (double)now_us / 1e6,
			n[STORM_ST_REFLECT]);
	else
		fprintf(stderr, "[%7.1fs] wait %u dhcp %u loader %u image %u done %u failed %u | ",
			(double)now_us / 1e6, n[STORM_ST_WAIT],
			n[STORM_ST_SELECTING] + n[STORM_ST_REQUESTING],
			n[STORM_ST_PROBE] + n[STORM_ST_LOADER], n[STORM_ST_IMAGE], n[STORM_ST_DONE],
			n[STORM_ST_FAILED]);
	fprintf(stderr, "rx %.1f kpps tx %.1f kpps %.1f MB/s | busy %.0f%%\n",
		(double)(e->run.rx_frames - prev->rx_frames) / secs / 1e3,
		(double)(e->run.tx_frames - prev->tx_frames) / secs / 1e3,
		(double)(e->run.rx_bytes - prev->rx_bytes) / secs / 1e6, busy);
}

/* The poll loop: until every VM is done or failed, --timeout, or a signal. */
static void run(struct storm_fleet *f, struct storm_eng *e, const struct storm_opts *o)
{
	struct rte_mbuf *pkts[BURST];
	struct storm_run prev;
	uint64_t hz = rte_get_tsc_hz(), t0, t, t2, now_us, last_ms = 0;
	uint64_t deadline = (uint64_t)o->timeout_s * hz;
	uint64_t period = (uint64_t)o->progress_s * hz, next_progress = period;
	uint64_t u0, s0, c0, u1, s1, c1;
	bool timers_pending = false, lingering = false;
	uint64_t linger_end = 0, busy_fin = 0, total_fin = 0, loops_fin = 0;

	e->run.tsc_hz = hz;
	thread_cpu(&u0, &s0, &c0);
	prev = e->run;
	t0 = rte_rdtsc();
	storm_fleet_start(f, 0);
	while (!force_quit) {
		unsigned work;
		uint16_t nb;

		t = rte_rdtsc();
		now_us = tsc_to_us(t - t0, hz);
		nb = rte_eth_rx_burst(e->port, 0, pkts, BURST);
		work = nb;
		for (uint16_t i = 0; i < nb; i++) {
			struct rte_mbuf *m = pkts[i];

			if (i + 1 < nb)
				rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void *));
			e->run.rx_bytes += m->pkt_len;
			/* One segment: every frame we expect fits in a default mbuf. */
			storm_fleet_rx(f, rte_pktmbuf_mtod(m, const uint8_t *), m->data_len,
				       now_us);
		}
		if (nb) {
			e->run.rx_frames += nb;
			rte_pktmbuf_free_bulk(pkts, nb);
		}
		/* Timers once per millisecond, after the receive ring is drained: after a stall
		 * (preempted) the answers waiting in the ring must count before any timeout. A
		 * ring that never drains still gets its timers every TIMER_MAX_DEFER_MS. */
		if ((timers_pending || now_us / 1000 != last_ms) &&
		    (nb < BURST || now_us / 1000 - last_ms >= TIMER_MAX_DEFER_MS)) {
			unsigned fired = storm_fleet_tick(f, now_us, o->timer_budget);

			last_ms = now_us / 1000;
			/* A full budget: more may be due; the next iteration polls rx first. */
			timers_pending = fired == o->timer_budget;
			work += fired;
		}
		if (e->tx_n) {
			tx_flush(e);
			work++;
		}
		t2 = rte_rdtsc();
		e->run.loops++;
		if (work)
			e->run.busy_cycles += t2 - t;
		e->run.total_cycles = t2 - t0;
		if (unlikely(storm_fleet_finished(f))) {
			/* --linger: the run's figures stop here; the VMs keep answering (the
			 * last ACK of a finished transfer, RFC 2090 promotions) for a while. */
			if (!lingering) {
				thread_cpu(&u1, &s1, &c1);
				busy_fin = e->run.busy_cycles;
				total_fin = e->run.total_cycles;
				loops_fin = e->run.loops;
				lingering = true;
				linger_end = t2 + (uint64_t)o->linger_s * hz;
			}
			if (t2 >= linger_end)
				break;
			continue;
		}
		if (unlikely(t2 - t0 >= deadline)) {
			e->run.timed_out = true;
			break;
		}
		if (unlikely(period && t2 - t0 >= next_progress)) {
			progress(f, e, now_us, &prev, (double)period / (double)hz);
			prev = e->run;
			next_progress += period;
		}
	}
	e->run.interrupted = force_quit != 0;
	if (lingering) {
		e->run.busy_cycles = busy_fin;
		e->run.loops = loops_fin;
	} else {
		thread_cpu(&u1, &s1, &c1);
	}
	e->run.cpu_user_us = u1 - u0;
	e->run.cpu_sys_us = s1 - s0;
	e->run.preempted = c1 - c0;
	t2 = rte_rdtsc();
	e->run.total_cycles = lingering ? total_fin : t2 - t0;
	now_us = tsc_to_us(lingering ? total_fin : t2 - t0, hz);
	/* The run ends when the last VM is done (or at the deadline): that is its length. */
	e->run.run_us = storm_fleet_finished(f) && f->t_last_end ? f->t_last_end : now_us;
	storm_fleet_stop(f, now_us);
}

int main(int argc, char **argv)
{
	static struct storm_opts o; /* big: the file table */
	struct storm_fleet fleet;
	struct storm_summary sum;
	struct rte_eth_stats st;
	struct storm_eng e;
	struct storm_io io;
	char err[512];
	int64_t kdrop0, kdrop1;
	int rc, status = 0;

	rc = rte_eal_init(argc, argv);
	if (rc < 0) {
		fprintf(stderr, "stormboot-storm: EAL init failed: %s\n", rte_strerror(rte_errno));
		return 2;
	}
	argc -= rc;
	argv += rc;
	rc = storm_opts_parse(&o, argc, argv, err, sizeof(err));
	if (rc != 0) {
		if (rc < 0)
			fprintf(stderr, "stormboot-storm: %s\n", err);
		storm_usage(stderr);
		rte_eal_cleanup();
		return rc > 0 ? 0 : 2;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	memset(&e, 0, sizeof(e));
	e.run.timeout_s = o.timeout_s;
	if (port_init(&e, &o) < 0) {
		rte_eal_cleanup();
		return 2;
	}
	io = (struct storm_io){.ctx = &e, .tx_get = io_tx_get, .tx_put = io_tx_put};
	rc = storm_fleet_init(&fleet, &o.cfg, &o.files, &io, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "stormboot-storm: %s\n", err);
		rte_eth_dev_stop(e.port);
		rte_eal_cleanup();
		return 2;
	}
	fprintf(stderr,
		"stormboot-storm: port %u (%s), lcore %u, %u VMs (%u OVMF-like), %u file(s), "
		"timeout %u s%s\n",
		e.port, e.run.driver, rte_lcore_id(), o.cfg.n_vms, fleet.n_ovmf, o.files.n,
		o.timeout_s, o.cfg.reflect ? ", --reflect" : "");

	kdrop0 = kernel_rx_dropped(&e);
	run(&fleet, &e, &o);
	kdrop1 = kernel_rx_dropped(&e);
	e.run.kernel_rx_dropped = kdrop0 >= 0 && kdrop1 >= 0 ? kdrop1 - kdrop0 : -1;

	if (e.cur)
		rte_pktmbuf_free(e.cur);
	if (rte_eth_stats_get(e.port, &st) == 0) {
		e.run.imissed = st.imissed;
		e.run.ierrors = st.ierrors;
		e.run.oerrors = st.oerrors;
		e.run.rx_nombuf = st.rx_nombuf;
	}
	storm_summarize(&fleet, &e.run, &sum);
	if (o.json)
		storm_report_json(stdout, &fleet, &e.run, &sum);
	else
		storm_report_text(stdout, &fleet, &e.run, &sum);
	fflush(stdout);
	if (o.vm_csv && (rc = storm_report_csv(o.vm_csv, &fleet)) < 0) {
		fprintf(stderr, "stormboot-storm: --vm-csv %s: %s\n", o.vm_csv, strerror(-rc));
		status = 2;
	}
	/* Exit 0 only if every VM booted (in --reflect mode: if frames came back). */
	if (o.cfg.reflect ? fleet.c.reflect_rx == 0
	    : o.cfg.loop  ? sum.failed != 0 || fleet.c.loops == 0
			  : sum.done != o.cfg.n_vms)
		status = status ? status : 1;
	storm_fleet_free(&fleet);
	storm_files_free(&o.files);
	/*
	 * --hold: DPDK 22.11's memif PMD unmaps a port's shared memory from its interrupt thread
	 * when the peer goes, with no guard against a poller inside rx/tx: a dataplane polling the
	 * other end can crash when we close. Stay connected, not polling, until the caller has
	 * stopped the dataplane and removed the file.
	 */
	for (int i = 0; o.hold && i < 1200 && access(o.hold, F_OK) == 0; i++)
		usleep(100000);
	rte_eth_dev_stop(e.port);
	rte_eth_dev_close(e.port);
	rte_eal_cleanup();
	return status;
}
