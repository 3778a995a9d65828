/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * stormboot-dataplane: a DPDK primary process serving DHCP and TFTP.
 * main() is a straight line: options, config, EAL, clock and timers, mempool,
 * port, images, lease pool, session tables, launch, wait, report, cleanup.
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
#include <rte_ring.h>
#include <rte_timer.h>

#include "control_link.h"
#include "eal_args.h"
#include "engine.h"
#include "lcore.h"
#include "log.h"
#include "sbcfg_json.h"

RTE_LOG_REGISTER(eng_logtype, stormboot, INFO);

#define MEMPOOL_CACHE 256

static struct engine engine;

static void on_signal(int sig)
{
	if (sig == SIGINT || sig == SIGTERM)
		eng_force_quit = true;
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

/* Catalog over the image cache (names normalised, sorted). */
static int catalog_setup(struct engine *e, int socket)
{
	size_t n = e->images.n;
	int rc;

	e->cat_entries =
		rte_zmalloc_socket("sb_catalog", (n ? n : 1) * sizeof(*e->cat_entries), 0, socket);
	if (e->cat_entries == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct catalog_entry *c = &e->cat_entries[i];

		snprintf(c->name, sizeof(c->name), "%s", e->images.v[i].name);
		c->data = e->images.v[i].data;
		c->size = e->images.v[i].size;
		memcpy(c->sha256, e->images.v[i].sha256, sizeof(c->sha256));
	}
	rc = catalog_init(&e->catalog, e->cat_entries, n);
	return rc;
}

/* One worker per enabled lcore, up to the number of queues. */
static int workers_setup(struct engine *e, int socket)
{
	const struct sbcfg_tftp *t = &e->cfg.tftp;
	uint32_t n_ports = (uint32_t)t->port_hi - t->port_lo + 1, per_ports, per_sess;
	unsigned int lcore, idx = 0;
	char name[RTE_RING_NAMESIZE];
	int rc;

	e->n_workers = e->port.n_queues;
	per_ports = n_ports / e->n_workers;
	per_sess = t->max_sessions / e->n_workers;
	if (per_ports == 0 || per_sess == 0) {
		ENG_LOG(ERR,
			"tftp.transfer_ports / tftp.max_sessions: fewer than one per queue (%u)",
			e->n_workers);
		return -EINVAL;
	}
	RTE_LCORE_FOREACH(lcore)
	{
		struct eng_worker *w;
		uint16_t lo, hi;

		if (idx == e->n_workers)
			break;
		w = rte_zmalloc_socket("sb_worker", sizeof(*w), RTE_CACHE_LINE_SIZE, socket);
		if (w == NULL)
			return -ENOMEM;
		w->eng = e;
		w->lcore_id = lcore;
		w->queue = (uint16_t)idx;
		w->idx = (uint16_t)idx;
		w->st = &eng_stats[lcore];
		lo = (uint16_t)(t->port_lo + idx * per_ports);
		hi = idx + 1 == e->n_workers ? t->port_hi : (uint16_t)(lo + per_ports - 1);
		rc = tftp_table_create(&w->sess, lcore, socket, per_sess, lo, hi);
		if (rc < 0) {
			rte_free(w);
			return rc;
		}
		if (e->n_workers > 1) {
			snprintf(name, sizeof(name), "sb_inbox_%u", lcore);
			w->inbox = rte_ring_create(name, ENG_INBOX_SIZE, socket, RING_F_SC_DEQ);
			if (w->inbox == NULL)
				return -ENOMEM;
		}
		e->workers[idx++] = w;
		e->by_lcore[lcore] = w;
	}
	if (idx < e->n_workers) {
		ENG_LOG(ERR, "queues: %u queues but only %u lcores (EAL -l)", e->n_workers, idx);
		return -EINVAL;
	}
	return 0;
}

static void workers_free(struct engine *e)
{
	for (unsigned int i = 0; i < e->n_workers; i++) {
		struct eng_worker *w = e->workers[i];

		if (w == NULL)
			continue;
		tftp_table_destroy(&w->sess);
		rte_ring_free(w->inbox);
		rte_free(w);
		e->workers[i] = NULL;
	}
}

int main(int argc, char **argv)
{
	static const struct rte_mbuf_dynfield tsc_field = {.name = "stormboot_rx_tsc",
							   .size = sizeof(uint64_t),
							   .align = __alignof__(uint64_t)};
	struct engine *e = &engine;
	struct eng_opts opts;
	char err[512] = "", ip[16], hex[65];
	unsigned int n_mbufs;
	int rc, socket;

	/* Options and config first: a bad file is refused before any hugepage is touched. */
	rc = eng_opts_parse(&opts, argc, argv);
	if (rc != 0)
		return rc > 0 ? 0 : 2;
	rc = sbcfg_load_file(opts.config_path, &e->cfg, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "stormboot: %s\n", err);
		return 1;
	}
	if (opts.iface)
		snprintf(e->cfg.interface, sizeof(e->cfg.interface), "%s", opts.iface);
	rc = eng_eal_args_build(&opts, &e->cfg, argv[0], err, sizeof(err));
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
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	eng_clock_init(&e->clock);
	e->ns_mult = (uint64_t)(((unsigned __int128)1000000000ull << 32) / e->clock.hz);
	rte_timer_subsystem_init();
	e->tsc_dynfield = rte_mbuf_dynfield_register(&tsc_field);
	if (e->tsc_dynfield < 0)
		rte_exit(EXIT_FAILURE, "mbuf dynfield: %s\n", rte_strerror(rte_errno));
	socket = (int)rte_socket_id();

	/* Mempool: rx and tx rings of every queue, a staged tx burst and a hand-over ring each. */
	n_mbufs = e->cfg.queues * (ENG_PORT_RX_DESC + ENG_PORT_TX_DESC + ENG_TX_STAGE +
				   ENG_INBOX_SIZE + ENG_BURST) +
		  rte_lcore_count() * MEMPOOL_CACHE;
	n_mbufs = rte_align32pow2(n_mbufs) - 1;
	e->pool = rte_pktmbuf_pool_create("sb_mbufs", n_mbufs, MEMPOOL_CACHE, 0,
					  RTE_MBUF_DEFAULT_BUF_SIZE, socket);
	if (e->pool == NULL)
		rte_exit(EXIT_FAILURE, "mempool of %u mbufs: %s (hugepages reserved?)\n", n_mbufs,
			 rte_strerror(rte_errno));

	/* Images: read once into hugepages; a missing file refuses the start. */
	rc = eng_images_load(&e->images, &e->cfg, socket, err, sizeof(err));
	if (rc < 0)
		rte_exit(EXIT_FAILURE, "%s\n", err);
	for (size_t i = 0; i < e->images.n; i++) {
		eng_image_sha256_hex(&e->images.v[i], hex);
		ENG_LOG(INFO, "image %s: %zu bytes sha256 %s (%s)", e->images.v[i].name,
			e->images.v[i].size, hex, e->images.v[i].path);
	}
	rc = catalog_setup(e, socket);
	if (rc < 0)
		rte_exit(EXIT_FAILURE, "image catalog: %s (duplicate or invalid image name?)\n",
			 strerror(-rc));

	/* Lease pool (full DHCP server only) and the DHCP server over it. */
	if (e->cfg.dhcp.mode == SBCFG_DHCP_FULL) {
		size_t sz = lease_pool_memsize(&e->cfg.dhcp);

		e->lease_mem = rte_zmalloc_socket("sb_leases", sz, RTE_CACHE_LINE_SIZE, socket);
		if (e->lease_mem == NULL)
			rte_exit(EXIT_FAILURE, "lease pool: no memory for %zu bytes\n", sz);
		e->leases = lease_pool_init(e->lease_mem, sz, &e->cfg.dhcp, &rc);
		if (e->leases == NULL)
			rte_exit(EXIT_FAILURE, "lease pool: %s (overlapping or inverted pools)\n",
				 strerror(-rc));
	}
	if (e->cfg.dhcp.mode != SBCFG_DHCP_OFF) {
		rc = dhcp_server_init(&e->dhcp, &e->cfg, e->leases, e->cfg.server_ip);
		if (rc < 0)
			rte_exit(EXIT_FAILURE, "DHCP server: %s\n", strerror(-rc));
	}

	/* The port last: a start refused above leaves no XDP program on the interface. */
	rc = eng_port_init(&e->port, e->cfg.queues, e->pool, err, sizeof(err));
	if (rc < 0)
		rte_exit(EXIT_FAILURE, "%s\n", err);
	if (err[0])
		ENG_LOG(WARNING, "%s", err);
	if (e->cfg.server_mac[0] | e->cfg.server_mac[1] | e->cfg.server_mac[2] |
	    e->cfg.server_mac[3] | e->cfg.server_mac[4] | e->cfg.server_mac[5])
		memcpy(e->mac, e->cfg.server_mac, 6);
	else
		memcpy(e->mac, e->port.mac.addr_bytes, 6);
	err[0] = '\0';
	rc = eng_port_xdp_settings(&e->port, &e->cfg, e->mac, err, sizeof(err));
	if (rc < 0)
		ENG_LOG(WARNING, "%s", err);
	/* One frame must fit one mbuf: clamp the MTU the TFTP block size is derived from. */
	e->tftp_cfg = e->cfg.tftp;
	if (e->tftp_cfg.mtu > e->port.mtu)
		e->tftp_cfg.mtu = e->port.mtu;
	if (e->tftp_cfg.mtu >
	    RTE_MBUF_DEFAULT_DATAROOM - PKT_ETH_HLEN - PKT_MAX_VLANS * PKT_VLAN_HLEN)
		e->tftp_cfg.mtu =
			RTE_MBUF_DEFAULT_DATAROOM - PKT_ETH_HLEN - PKT_MAX_VLANS * PKT_VLAN_HLEN;

	rc = workers_setup(e, socket);
	if (rc < 0)
		rte_exit(EXIT_FAILURE, "session tables: %s\n", strerror(-rc));
	eng_lcore_set_engine(e);
	if (eng_stats_telemetry_register() < 0)
		ENG_LOG(WARNING, "telemetry commands not registered");

	print_ip(ip, sizeof(ip), e->cfg.server_ip);
	ENG_LOG(INFO,
		"serving %s on port %u (%s%s), %u queue(s), MAC %02x:%02x:%02x:%02x:%02x:%02x, "
		"%zu image(s) %zu bytes, DHCP %s, TFTP %s",
		ip, e->port.port_id, e->port.driver,
		e->port.kernel_behind ? ", kernel answers ARP" : ", answering ARP",
		e->port.n_queues, e->mac[0], e->mac[1], e->mac[2], e->mac[3], e->mac[4], e->mac[5],
		e->images.n, e->images.bytes,
		e->cfg.dhcp.mode == SBCFG_DHCP_FULL    ? "full"
		: e->cfg.dhcp.mode == SBCFG_DHCP_PROXY ? "proxy"
						       : "off",
		e->cfg.tftp.enabled ? "on" : "off");
	print_memory("at start");

	if (opts.ctl_path && eng_ctl_start(e, opts.ctl_path, err, sizeof(err)) < 0)
		rte_exit(EXIT_FAILURE, "%s\n", err);
	eng_stats_set_sources(eng_lcore_sessions_info, opts.ctl_path ? eng_ctl_link_stats : NULL);

	rte_eal_mp_remote_launch(eng_lcore_main, e, CALL_MAIN);
	rte_eal_mp_wait_lcore();
	eng_stats_print(stdout); /* before the control link stops: its counters are shown too */
	fflush(stdout);
	eng_ctl_stop(e);
	print_memory("at exit");

	eng_port_close(&e->port);
	workers_free(e);
	rte_free(e->lease_mem);
	rte_free(e->cat_entries);
	eng_images_free(&e->images);
	rte_mempool_free(e->pool);
	sbcfg_free(&e->cfg);
	rte_eal_cleanup();
	return 0;
}
