/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * stormboot-dataplane: a DPDK primary process serving DHCP and TFTP.
 * main() is a straight line: options, config, EAL, clock and timers, mempool,
 * images, port, the config snapshot, session tables, launch, wait, report, cleanup.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_pdump.h>
#include <rte_random.h>
#include <rte_ring.h>
#include <rte_timer.h>

#include "control_link.h"
#include "eal_args.h"
#include "engine.h"
#include "lcore.h"
#include "log.h"
#include "sbcfg_json.h"
#include "sbcfg_root.h"
#include "snapshot.h"
#include "trace.h"

RTE_LOG_REGISTER(eng_logtype, stormboot, INFO);

#define MEMPOOL_CACHE 256

static struct eng_runtime runtime;

static void on_signal(int sig)
{
	if (sig == SIGINT || sig == SIGTERM)
		eng_force_quit = true;
}

/* The kernel's isolated CPUs (isolcpus=), for -I auto; "" when none or unreadable. */
static void read_isolated_cpus(char *out, size_t cap)
{
	FILE *f = fopen("/sys/devices/system/cpu/isolated", "r");

	out[0] = '\0';
	if (f == NULL)
		return;
	if (fgets(out, (int)cap, f) == NULL)
		out[0] = '\0';
	fclose(f);
}

static void print_ip(char *out, size_t cap, uint32_t ip)
{
	snprintf(out, cap, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
}

/* Hugepage memory in use on all sockets, and the process's RSS, for start/end reports. */
static void print_memory(const char *when)
{
	struct rte_malloc_socket_stats ms;
	uint64_t heap = 0;
	long rss_kb = 0;
	char line[256];
	FILE *f;

	for (int s = 0; s < RTE_MAX_NUMA_NODES; s++)
		if (rte_malloc_get_socket_stats(s, &ms) == 0)
			heap += ms.heap_allocsz_bytes;
	f = fopen("/proc/self/status", "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &rss_kb) == 1)
			break;
	if (f)
		fclose(f);
	ENG_LOG(INFO, "memory %s: hugepage heap in use %" PRIu64 " KiB, RSS %ld KiB", when,
		heap / 1024, rss_kb);
}

/* One worker per enabled lcore, up to the number of queues, serving rt->snap. */
static int workers_setup(struct eng_runtime *rt)
{
	const struct sbcfg_tftp *t = &rt->snap->cfg.tftp;
	uint32_t n_ports = (uint32_t)t->port_hi - t->port_lo + 1, per_ports, per_sess;
	unsigned int lcore, idx = 0;
	char name[RTE_RING_NAMESIZE];
	int rc;

	rt->n_workers = rt->port.n_queues;
	per_ports = n_ports / rt->n_workers;
	per_sess = t->max_sessions / rt->n_workers;
	if (per_ports == 0 || per_sess == 0) {
		ENG_LOG(ERR,
			"tftp.transfer_ports / tftp.max_sessions: fewer than one per queue (%u)",
			rt->n_workers);
		return -EINVAL;
	}
	RTE_LCORE_FOREACH(lcore)
	{
		struct eng_worker *w;
		uint16_t lo, hi;

		if (idx == rt->n_workers)
			break;
		w = rte_zmalloc_socket("sb_worker", sizeof(*w), RTE_CACHE_LINE_SIZE, rt->socket);
		if (w == NULL)
			return -ENOMEM;
		w->rt = rt;
		w->snap = rt->snap;
		w->lcore_id = lcore;
		w->queue = (uint16_t)idx;
		w->idx = (uint16_t)idx;
		w->st = &eng_stats[lcore];
		lo = (uint16_t)(t->port_lo + idx * per_ports);
		hi = idx + 1 == rt->n_workers ? t->port_hi : (uint16_t)(lo + per_ports - 1);
		/* rte_rand(): seeded by the EAL at start; each lcore's ports in their own order */
		rc = tftp_table_create(&w->sess, lcore, rt->socket, per_sess, lo, hi, rte_rand(),
				       t->max_sessions_per_client);
		if (rc < 0) {
			rte_free(w);
			return rc;
		}
		{ /* paced RRQs, admitted in arrival order */
			uint32_t nw = RTE_MAX(rte_align32prevpow2(ENG_TFTP_WAITERS / rt->n_workers),
					      (uint32_t)ENG_TFTP_WAITERS_MIN);
			struct tftp_waiter *wv = rte_zmalloc_socket("sb_tftp_wait", sizeof(*wv) * nw,
								    0, rt->socket);
			uint32_t *wb = rte_zmalloc_socket("sb_tftp_wait_b", sizeof(*wb) * nw, 0,
							  rt->socket);

			if (wv == NULL || wb == NULL) {
				rte_free(wv);
				rte_free(wb);
				tftp_table_destroy(&w->sess);
				rte_free(w);
				ENG_LOG(ERR, "TFTP admission queue of %u clients: out of hugepage "
					     "memory", nw);
				return -ENOMEM;
			}
			(void)tftp_wait_init(&w->wait, wv, wb, nw, ENG_TFTP_WAIT_TTL_MS);
		}
		if (idx == 0) {
			w->mstreams = rte_zmalloc_socket("sb_mstreams",
							 ENG_MTFTP_STREAMS * sizeof(*w->mstreams),
							 RTE_CACHE_LINE_SIZE, rt->socket);
			if (w->mstreams == NULL)
				return -ENOMEM;
			/* DHCP's worker: the conflict probes (dhcp.conflict_probe_ms) */
			struct probe_slot *slots = rte_zmalloc_socket(
				"sb_probe", sizeof(*slots) * ENG_PROBE_SLOTS, 0, rt->socket);

			w->probe_held = rte_zmalloc_socket(
				"sb_probe_held", sizeof(*w->probe_held) * ENG_PROBE_SLOTS, 0,
				rt->socket);
			if (slots == NULL || w->probe_held == NULL)
				return -ENOMEM;
			probe_table_init(&w->probe, slots, ENG_PROBE_SLOTS);
		}
		if (rt->n_workers > 1) {
			snprintf(name, sizeof(name), "sb_inbox_%u", lcore);
			w->inbox = rte_ring_create(name, ENG_INBOX_SIZE, rt->socket, RING_F_SC_DEQ);
			if (w->inbox == NULL)
				return -ENOMEM;
		}
		rt->workers[idx++] = w;
		rt->by_lcore[lcore] = w;
	}
	if (idx < rt->n_workers) {
		ENG_LOG(ERR, "queues: %u queues but only %u lcores (EAL -l)", rt->n_workers, idx);
		return -EINVAL;
	}
	return 0;
}

/* Also drops the image references of the sessions still open. */
static void workers_free(struct eng_runtime *rt)
{
	for (unsigned int i = 0; i < rt->n_workers; i++) {
		struct eng_worker *w = rt->workers[i];

		if (w == NULL)
			continue;
		tftp_table_destroy(&w->sess);
		rte_free(w->wait.v);
		rte_free(w->wait.bucket);
		rte_free(w->mstreams);
		rte_ring_free(w->inbox);
		rte_free(w->probe.slots);
		rte_free(w->probe_held);
		eng_trace_ring_setup(w, false);
		rte_free(w);
		rt->workers[i] = NULL;
	}
}

int main(int argc, char **argv)
{
	static const struct rte_mbuf_dynfield tsc_field = {.name = "stormboot_rx_tsc",
							   .size = sizeof(uint64_t),
							   .align = __alignof__(uint64_t)};
	struct eng_runtime *rt = &runtime;
	const struct snapshot *snap;
	struct eng_opts opts;
	struct sbcfg cfg;
	char err[512] = "", ip[16];
	unsigned int n_mbufs;
	size_t held;
	int rc;

	/* Options and config first: a bad file is refused before any hugepage is touched. */
	rc = eng_opts_parse(&opts, argc, argv);
	if (rc != 0)
		return rc > 0 ? 0 : 2;
	rc = sbcfg_load_file(opts.config_path, &cfg, err, sizeof(err));
	if (rc == 0 && cfg.tftp_root[0]) {
		/* the files under tftp_root are images (with control, its snapshots carry them) */
		struct sbcfg_root_scan scan;

		rc = sbcfg_root_expand(&cfg, &scan, err, sizeof(err));
		if (rc == 0)
			rc = sbcfg_validate(&cfg, err, sizeof(err));
		if (rc == 0)
			printf("stormboot: tftp_root %s: %zu files%s%s\n", cfg.tftp_root, scan.added,
			       scan.skipped ? "; left out: " : "", scan.warn);
		if (rc < 0)
			sbcfg_free(&cfg);
	}
	if (rc < 0) {
		fprintf(stderr, "stormboot: %s\n", err);
		return 1;
	}
	if (opts.iface)
		snprintf(cfg.interface, sizeof(cfg.interface), "%s", opts.iface);
	rc = eng_eal_args_build(&opts, &cfg, argv[0], err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "stormboot: %s\n", err);
		return 1;
	}
	if (!opts.eal_given) {
		fprintf(stderr, "stormboot: EAL arguments:");
		for (int i = 1; i < opts.eal_argc; i++)
			fprintf(stderr, " %s", opts.eal_argv[i]);
		fprintf(stderr, "\n");
	}

	rc = rte_eal_init(opts.eal_argc, opts.eal_argv);
	if (rc < 0)
		rte_exit(EXIT_FAILURE, "EAL init failed: %s\n", rte_strerror(rte_errno));
	if (opts.verbose)
		rte_log_set_level(eng_logtype, RTE_LOG_DEBUG);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	eng_clock_init(&rt->clock);
	rt->ns_mult = (uint64_t)(((unsigned __int128)1000000000ull << 32) / rt->clock.hz);
	/* 0 (-H 0): never inside a burst */
	rt->tx_hold_tsc = (opts.tx_hold_set ? opts.tx_hold_ns : ENG_TX_HOLD_NS) * rt->clock.hz /
			  1000000000u;
	if (opts.tx_hold_set && opts.tx_hold_ns == 0)
		rt->tx_hold_tsc = UINT64_MAX;
	rte_timer_subsystem_init();
	rt->tsc_dynfield = rte_mbuf_dynfield_register(&tsc_field);
	if (rt->tsc_dynfield < 0)
		rte_exit(EXIT_FAILURE, "mbuf dynfield: %s\n", rte_strerror(rte_errno));
	rt->socket = (int)rte_socket_id();
	rt->idle_us = opts.idle_us;
	read_isolated_cpus(rt->cpu_isolated, sizeof(rt->cpu_isolated));

	/* Mempool: rx and tx rings of every queue, a staged tx burst and a hand-over ring each. */
	n_mbufs = cfg.queues * (ENG_PORT_RX_DESC + ENG_PORT_TX_DESC + ENG_TX_STAGE +
				ENG_INBOX_SIZE + ENG_BURST) +
		  rte_lcore_count() * MEMPOOL_CACHE;
	if (cfg.dhcp.conflict_probe_ms) /* a DISCOVER and its OFFER per pending probe */
		n_mbufs += 2 * ENG_PROBE_SLOTS;
	n_mbufs = rte_align32pow2(n_mbufs) - 1;
	rt->pool = rte_pktmbuf_pool_create("sb_mbufs", n_mbufs, MEMPOOL_CACHE, 0,
					   RTE_MBUF_DEFAULT_BUF_SIZE, rt->socket);
	if (rt->pool == NULL)
		rte_exit(EXIT_FAILURE, "mempool of %u mbufs: %s (hugepages reserved?)\n", n_mbufs,
			 rte_strerror(rte_errno));

	/* Images: read once into hugepages before the port; a missing file refuses the start. */
	eng_image_cache_init(&rt->images, rt->socket);
	rc = snapshot_preload_images(rt, &cfg, err, sizeof(err));
	if (rc < 0)
		rte_exit(EXIT_FAILURE, "%s\n", err);

	/* The port last: a start refused above leaves no XDP program on the interface. */
	rc = eng_port_init(&rt->port, cfg.queues, rt->pool, err, sizeof(err));
	if (rc < 0)
		rte_exit(EXIT_FAILURE, "%s\n", err);
	if (err[0])
		ENG_LOG(WARNING, "%s", err);

	/* The config served: catalog, lease pool, DHCP server, TFTP limits, MAC (as at reloads). */
	rc = snapshot_build(rt, &cfg, &rt->snap, err, sizeof(err));
	if (rc < 0) {
		eng_port_close(&rt->port);
		rte_exit(EXIT_FAILURE, "%s\n", err);
	}
	snap = rt->snap;
	err[0] = '\0';
	rc = eng_port_xdp_settings(&rt->port, &snap->cfg, snap->mac, err, sizeof(err));
	if (rc < 0)
		ENG_LOG(WARNING, "%s", err);

	rc = workers_setup(rt);
	if (rc < 0)
		rte_exit(EXIT_FAILURE, "session tables: %s\n", strerror(-rc));
	/* Packet capture (-P): DPDK's pdump server; until a capture tool enables it, no callback
	 * runs on the lcores' queues (docs/DATAPLANE.md, "Capture"). */
	if (opts.capture) {
		char prefix[64];

		if (rte_pdump_init() < 0)
			ENG_LOG(WARNING, "capture: rte_pdump_init: %s (EAL args with --in-memory?)",
				rte_strerror(rte_errno));
		else
			ENG_LOG(INFO, "capture: ready: dpdk-dumpcap %s -i %u -w FILE.pcapng",
				eng_file_prefix(&snap->cfg, prefix, sizeof(prefix)),
				rt->port.port_id);
	}
	if (eng_stats_telemetry_register() < 0)
		ENG_LOG(WARNING, "telemetry commands not registered");

	print_ip(ip, sizeof(ip), snap->cfg.server_ip);
	ENG_LOG(INFO,
		"serving %s on port %u (%s%s), %u queue(s), MAC %02x:%02x:%02x:%02x:%02x:%02x, "
		"%zu image(s) %" PRIu64 " bytes, DHCP %s, TFTP %s",
		ip, rt->port.port_id, rt->port.driver,
		rt->port.kernel_behind ? ", kernel answers ARP" : ", answering ARP",
		rt->port.n_queues, snap->mac[0], snap->mac[1], snap->mac[2], snap->mac[3],
		snap->mac[4], snap->mac[5], snap->cfg.n_images, rt->images.bytes,
		snap->cfg.dhcp.mode == SBCFG_DHCP_FULL	  ? "full"
		: snap->cfg.dhcp.mode == SBCFG_DHCP_PROXY ? "proxy"
							  : "off",
		snap->cfg.tftp.enabled ? "on" : "off");
	if (rt->n_workers > 1 && snap->cfg.tftp.max_sessions_per_client)
		ENG_LOG(INFO,
			"tftp.max_sessions_per_client %u holds per lcore: with %u queues one client "
			"address may hold up to %u sessions (RSS spreads its ports); guard.tftp_rate "
			"bounds a source address across queues",
			snap->cfg.tftp.max_sessions_per_client, rt->n_workers,
			snap->cfg.tftp.max_sessions_per_client * rt->n_workers);
	if (snap->cfg.dhcp.mode == SBCFG_DHCP_FULL && snap->cfg.dhcp.conflict_probe_ms)
		ENG_LOG(INFO,
			"dhcp.conflict_probe_ms %u: every OFFER of an address on this segment waits "
			"that long for an answer to an ARP probe (RFC 5227), at most %u at once "
			"(conflict_probe_max); relayed requests are not probed",
			snap->cfg.dhcp.conflict_probe_ms, snap->cfg.dhcp.conflict_probe_max);
	print_memory("at start");

	/* The boot timeline goes to control: no rings (nothing recorded) without it. */
	for (unsigned int i = 0; opts.ctl_path && i < rt->n_workers; i++)
		if (eng_trace_ring_setup(rt->workers[i], true) < 0)
			rte_exit(EXIT_FAILURE, "timeline ring: out of memory\n");
	if (opts.ctl_path && eng_ctl_start(rt, opts.ctl_path, err, sizeof(err)) < 0)
		rte_exit(EXIT_FAILURE, "%s\n", err);
	if (!opts.ctl_path && snap->cfg.dhcp.mode == SBCFG_DHCP_FULL)
		ENG_LOG(NOTICE, "no control process (-C): leases are kept in this process's memory "
				"only, not durable (dhcp.durability applies with -C)");
	eng_stats_set_sources(rt, opts.ctl_path ? eng_ctl_link_stats : NULL);

	rte_eal_mp_remote_launch(eng_lcore_main, rt, CALL_MAIN);
	rte_eal_mp_wait_lcore();
	eng_stats_print(stdout); /* before the control link stops: its counters are shown too */
	fflush(stdout);
	eng_ctl_stop();
	eng_stats_set_sources(NULL, NULL); /* telemetry reads none of what is freed below */
	print_memory("at exit");

	if (opts.capture)
		rte_pdump_uninit();
	eng_port_close(&rt->port);
	workers_free(rt);
	snapshot_free(rt->snap);
	held = eng_image_cache_destroy(&rt->images);
	if (held)
		ENG_LOG(WARNING, "%zu image(s) still held at exit (a reference not dropped)", held);
	rte_mempool_free(rt->pool);
	rte_eal_cleanup();
	return 0;
}
