/* SPDX-License-Identifier: BSD-3-Clause */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/if_xdp.h>
#include <rte_ethdev.h>

#include "log.h"
#include "port.h"
#include "sbcfg.h"

#ifndef AF_XDP
#define AF_XDP 44
#endif
#ifndef SOL_XDP
#define SOL_XDP 283
#endif

#ifdef SB_HAVE_XDP_CTL
#include <net/if.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include "xdp_ctl.h"

#define XDP_PROG_NAME "sb_xdp_steer" /* bpf/stormboot_xdp.c, as the kernel names it */

/*
 * The settings and counter maps are pinned by name; libbpf reuses a pin only if its layout
 * matches, so a pin left by an older stormboot (killed without cleanup, then upgraded)
 * makes the program's load fail. Remove pins whose value size is not this build's.
 */
static void xdp_unpin_incompatible(void)
{
	static const struct {
		const char *name;
		uint32_t value_size;
	} maps[] = {
		{SB_XDP_SETTINGS_MAP, sizeof(struct sb_xdp_settings)},
		{SB_XDP_COUNTERS_MAP, sizeof(struct sb_xdp_counters)},
		{SB_XDP_DENY_MAP, sizeof(__u64)},
		{SB_XDP_ALLOW_MAP, sizeof(__u64)},
		{SB_XDP_VLANS_MAP, sizeof(__u32)},
	};
	char path[128];

	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		struct bpf_map_info info;
		uint32_t len = sizeof(info);
		int fd;

		snprintf(path, sizeof(path), "%s/%s", XDP_CTL_PIN_ROOT, maps[i].name);
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue;
		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 &&
		    info.value_size != maps[i].value_size) {
			ENG_LOG(WARNING,
				"%s: pinned by another stormboot version (value size %u, this one "
				"%u): removed so that the XDP program can load",
				path, info.value_size, maps[i].value_size);
			if (unlink(path) < 0)
				ENG_LOG(ERR, "unlink %s: %s", path, strerror(errno));
		}
		close(fd);
	}
}

/*
 * A dataplane killed with -9 leaves its XDP program on the interface, and net_af_xdp
 * refuses to attach ours over it (XDP_FLAGS_UPDATE_IF_NOEXIST: EBUSY). Before the queues
 * are set up, detach a program that is ours by name; anyone else's stays (and the start
 * then fails with the PMD's message). The detach names the program it expects
 * (XDP_FLAGS_REPLACE), so one attached in between is never removed.
 */
static void xdp_detach_stale(unsigned int ifindex)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	LIBBPF_OPTS(bpf_xdp_attach_opts, a);
	struct bpf_prog_info info;
	uint32_t len = sizeof(info), id, mode;
	char ifname[IF_NAMESIZE] = "?";
	int fd, rc;

	if (ifindex == 0 || bpf_xdp_query((int)ifindex, 0, &q) < 0)
		return;
	switch (q.attach_mode) {
	case XDP_ATTACHED_DRV:
		id = q.drv_prog_id, mode = XDP_FLAGS_DRV_MODE;
		break;
	case XDP_ATTACHED_SKB:
		id = q.skb_prog_id, mode = XDP_FLAGS_SKB_MODE;
		break;
	default: /* none, hardware offload, or several at once: not ours to touch */
		return;
	}
	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return;
	memset(&info, 0, sizeof(info));
	(void)if_indextoname(ifindex, ifname);
	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0 || strcmp(info.name, XDP_PROG_NAME)) {
		close(fd);
		return;
	}
	a.old_prog_fd = fd;
	rc = bpf_xdp_detach((int)ifindex, mode | XDP_FLAGS_REPLACE, &a);
	close(fd);
	if (rc < 0)
		ENG_LOG(WARNING,
			"%s: stale XDP program %s (id %u) left by an earlier run: detach: %s",
			ifname, info.name, id, strerror(-rc));
	else
		ENG_LOG(WARNING,
			"%s: detached stale XDP program %s (id %u) left by an earlier run "
			"(killed without cleanup?)",
			ifname, info.name, id);
}
#endif

/*
 * net_af_xdp does not hand out its sockets (DPDK 22.11), so find them: the AF_XDP sockets of
 * this process, one per queue, created in queue order by rx_queue_setup, so ascending fd
 * numbers are queues 0, 1, ... Anything unexpected (another number of AF_XDP sockets than
 * queues) leaves every queue at -1 and the statistics unshown (with a warning), never
 * misattributed.
 */
static void find_xsk_fds(struct eng_port *p)
{
	int fds[ENG_PORT_MAX_QUEUES + 1], n = 0, fd, domain, tmp;
	struct dirent *de;
	socklen_t len;
	DIR *d;

	for (int q = 0; q < ENG_PORT_MAX_QUEUES; q++)
		p->xsk_fd[q] = -1;
	p->n_xsk = 0;
	d = opendir("/proc/self/fd");
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL && n <= ENG_PORT_MAX_QUEUES) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		fd = atoi(de->d_name);
		len = sizeof(domain);
		if (fd == dirfd(d) || getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0 ||
		    domain != AF_XDP)
			continue;
		fds[n++] = fd;
	}
	closedir(d);
	if (n != p->n_queues) {
		ENG_LOG(WARNING,
			"%d AF_XDP sockets in this process for %u queues: their drop counters "
			"(xsk_*) are not shown",
			n, p->n_queues);
		return;
	}
	for (int i = 1; i < n; i++) /* insertion sort: a handful of fds */
		for (int j = i; j > 0 && fds[j - 1] > fds[j]; j--) {
			tmp = fds[j];
			fds[j] = fds[j - 1];
			fds[j - 1] = tmp;
		}
	for (int q = 0; q < n; q++)
		p->xsk_fd[q] = fds[q];
	p->n_xsk = (uint16_t)n;
}

int eng_port_xsk_stats(const struct eng_port *p, uint16_t q, struct eng_xsk_stats *out)
{
	struct xdp_statistics xs;
	socklen_t len = sizeof(xs);

	memset(out, 0, sizeof(*out));
	if (q >= p->n_xsk || p->xsk_fd[q] < 0)
		return -ENOENT;
	memset(&xs, 0, sizeof(xs));
	if (getsockopt(p->xsk_fd[q], SOL_XDP, XDP_STATISTICS, &xs, &len) < 0)
		return -errno;
	/* An older kernel fills the first three fields only (len says how many). */
	out->rx_dropped = xs.rx_dropped;
	out->rx_invalid_descs = xs.rx_invalid_descs;
	out->tx_invalid_descs = xs.tx_invalid_descs;
	out->rx_ring_full = xs.rx_ring_full;
	out->rx_fill_ring_empty_descs = xs.rx_fill_ring_empty_descs;
	out->tx_ring_empty_descs = xs.tx_ring_empty_descs;
	return 0;
}

int eng_port_init(struct eng_port *p, uint16_t n_queues, struct rte_mempool *pool, char *err,
		  size_t errlen)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	uint16_t nb_rxd = ENG_PORT_RX_DESC, nb_txd = ENG_PORT_TX_DESC;
	uint16_t port_id, n_ports = 0, q;
	int socket, rc;

	memset(p, 0, sizeof(*p));
	for (q = 0; q < ENG_PORT_MAX_QUEUES; q++)
		p->xsk_fd[q] = -1;
	RTE_ETH_FOREACH_DEV(port_id)
	{
		if (n_ports++ == 0)
			p->port_id = port_id;
	}
	if (n_ports == 0) {
		snprintf(err, errlen,
			 "no DPDK port: check the --vdev/-a arguments (net_af_xdp needs the "
			 "interface to exist in this network namespace)");
		return -ENODEV;
	}
	if (n_ports > 1)
		snprintf(err, errlen, "%u ports probed, serving the first (%u)", n_ports,
			 p->port_id);

	rc = rte_eth_dev_info_get(p->port_id, &info);
	if (rc < 0) {
		snprintf(err, errlen, "port %u: dev_info: %s", p->port_id, strerror(-rc));
		return rc;
	}
	snprintf(p->driver, sizeof(p->driver), "%s", info.driver_name);
	p->kernel_behind = strcmp(info.driver_name, "net_af_xdp") == 0;
	if (n_queues > info.max_rx_queues || n_queues > info.max_tx_queues) {
		snprintf(err, errlen,
			 "port %u (%s): %u queues requested, device has %u rx / %u tx (veth: "
			 "create it with numrxqueues/numtxqueues; net_af_xdp: queue_count=)",
			 p->port_id, p->driver, n_queues, info.max_rx_queues, info.max_tx_queues);
		return -EINVAL;
	}
	p->n_queues = n_queues;
#ifdef SB_HAVE_XDP_CTL
	if (p->kernel_behind) {
		xdp_detach_stale(info.if_index);
		xdp_unpin_incompatible();
	}
#endif

	memset(&conf, 0, sizeof(conf));
	if (n_queues > 1 && info.flow_type_rss_offloads) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf =
			(RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP) & info.flow_type_rss_offloads;
	}
	rc = rte_eth_dev_configure(p->port_id, n_queues, n_queues, &conf);
	if (rc < 0) {
		snprintf(err, errlen, "port %u (%s): configure: %s", p->port_id, p->driver,
			 strerror(-rc));
		return rc;
	}
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(p->port_id, &nb_rxd, &nb_txd);
	if (rc < 0) {
		snprintf(err, errlen, "port %u: descriptors: %s", p->port_id, strerror(-rc));
		return rc;
	}
	socket = rte_eth_dev_socket_id(p->port_id);
	for (q = 0; q < n_queues; q++) {
		rc = rte_eth_rx_queue_setup(p->port_id, q, nb_rxd, socket, NULL, pool);
		if (rc < 0) {
			snprintf(err, errlen, "port %u (%s): rx queue %u: %s%s", p->port_id,
				 p->driver, q, strerror(-rc),
				 p->kernel_behind ? " (XDP program or AF_XDP socket refused, see "
						    "above: bpffs "
						    "mounted at /sys/fs/bpf? veth: numrxqueues "
						    "must be >= the "
						    "peer's numtxqueues)"
						  : "");
			return rc;
		}
		rc = rte_eth_tx_queue_setup(p->port_id, q, nb_txd, socket, NULL);
		if (rc < 0) {
			snprintf(err, errlen, "port %u (%s): tx queue %u: %s", p->port_id,
				 p->driver, q, strerror(-rc));
			return rc;
		}
	}
	rc = rte_eth_dev_start(p->port_id);
	if (rc < 0) {
		snprintf(err, errlen, "port %u (%s): start: %s", p->port_id, p->driver,
			 strerror(-rc));
		return rc;
	}
	rte_eth_macaddr_get(p->port_id, &p->mac);
	if (rte_eth_dev_get_mtu(p->port_id, &p->mtu) < 0 || p->mtu == 0)
		p->mtu = RTE_ETHER_MTU;
	/* Without a kernel behind the port, see frames for the MAC set in the config too. */
	if (!p->kernel_behind)
		rte_eth_promiscuous_enable(p->port_id);
	else
		find_xsk_fds(p);
	return 0;
}

#ifdef SB_HAVE_XDP_CTL
/* Open the maps of the program on iface (no bpffs needed), else the pinned ones. */
static int xdp_settings_write(const struct sbcfg *cfg, const uint8_t own_mac[6], char *err,
			      size_t errlen)
{
	struct xdp_ctl ctl = {.settings_fd = -1, .counters_fd = -1};
	unsigned int ifindex = if_nametoindex(cfg->interface);
	int rc = -ENOENT;

	if (ifindex)
		rc = xdp_ctl_open_ifindex(&ctl, ifindex);
	if (rc < 0)
		rc = xdp_ctl_open_pinned(&ctl, NULL);
	if (rc < 0) {
		snprintf(err, errlen, "XDP maps of %s not found: %s", cfg->interface,
			 strerror(-rc));
		return rc;
	}
	rc = xdp_ctl_apply_config(&ctl, cfg, own_mac, err, errlen);
	xdp_ctl_close(&ctl);
	return rc;
}
#endif

/*
 * The kernel's ephemeral port range (net.ipv4.ip_local_port_range) in this namespace: the
 * host's own clients (DNS, NTP) receive their replies on those ports, and the XDP program
 * steers the transfer range away from the kernel. 0 and a warning in err on an overlap.
 */
static int ephemeral_overlap(uint16_t port_lo, uint16_t port_hi, char *err, size_t errlen)
{
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
	unsigned int lo, hi;
	int n;

	if (f == NULL)
		return 0;
	n = fscanf(f, "%u %u", &lo, &hi);
	fclose(f);
	if (n != 2 || port_hi < lo || port_lo > hi)
		return 0;
	snprintf(err, errlen,
		 "tftp.transfer_ports %u-%u overlap the kernel's ephemeral ports %u-%u "
		 "(net.ipv4.ip_local_port_range): replies to this host's own clients (DNS, NTP) "
		 "on those ports go to the dataplane and are dropped (tftp_unknown_session); "
		 "pick a range outside it",
		 port_lo, port_hi, lo, hi);
	return -EADDRINUSE;
}

int eng_port_xdp_settings(const struct eng_port *p, const struct sbcfg *cfg,
			  const uint8_t own_mac[6], char *err, size_t errlen)
{
	const struct sbcfg_guard *g = &cfg->guard;
	int rc;

	if (!p->kernel_behind) {
		/* No XDP program on this port: nothing filters before the dataplane (and "auto"
		 * answers every router solicitation, as true does). */
		if (g->n_vlans || g->dhcp_dst || g->n_mac_deny || g->n_mac_allow ||
		    g->dhcp_rate.per_second || g->tftp_rate.per_second) {
			snprintf(err, errlen,
				 "port %s has no XDP program: \"guard\" is not enforced",
				 p->driver);
			return -ENOTSUP;
		}
		return 0;
	}
#ifdef SB_HAVE_XDP_CTL
	rc = xdp_settings_write(cfg, own_mac, err, errlen);
	return rc < 0 ? rc : ephemeral_overlap(cfg->tftp.port_lo, cfg->tftp.port_hi, err, errlen);
#else
	(void)own_mac;
	rc = -ENOTSUP;
	snprintf(err, errlen,
		 "built without xdp_ctl: the XDP program keeps its defaults (transfer ports %u-%u "
		 "not steered%s, no guard)",
		 cfg->tftp.port_lo, cfg->tftp.port_hi,
		 cfg->ipv6_ra ? ", IPv6 router solicitations not steered" : "");
	return rc;
#endif
}

void eng_port_close(struct eng_port *p)
{
	p->n_xsk = 0; /* the PMD closes its sockets */
	rte_eth_dev_stop(p->port_id);
	rte_eth_dev_close(p->port_id);
}
