/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * port.h - the one DPDK port stormboot serves: net_af_xdp on the boot
 * interface by default, any other port (net_pcap, a vfio NIC) on request.
 */
#ifndef SB_ENG_PORT_H
#define SB_ENG_PORT_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mempool.h>

/*
 * rx descriptors per queue. On net_af_xdp (DPDK 22.11) this is the AF_XDP socket's rx ring,
 * while the PMD keeps 2,048 buffers in the fill ring whatever the rx ring's size: the kernel
 * can queue at most 2,048 frames for a late poll, so a larger ring would only move the loss of
 * a burst from xsk_rx_ring_full to xsk_rx_dropped (no fill buffer). A 10,000-DISCOVER burst
 * overflowed the 1,024 of before (docs/PERFORMANCE.md).
 */
#define ENG_PORT_RX_DESC    2048
#define ENG_PORT_TX_DESC    1024
#define ENG_PORT_MAX_QUEUES 64 /* config "queues" at most */

struct eng_port {
	uint16_t port_id;
	uint16_t n_queues;
	uint16_t mtu;
	struct rte_ether_addr mac; /* the port's own address */
	char driver[32];
	/*
	 * True for net_af_xdp: a kernel owns the interface and answers ARP/ICMP
	 * (the XDP program passes them). False for net_pcap, vfio...: we answer ARP.
	 */
	bool kernel_behind;
	/*
	 * net_af_xdp: the AF_XDP socket of each queue (-1: not found), for the sockets' own
	 * statistics (eng_port_xsk_stats). DPDK 22.11 does not hand them out: they are found
	 * among this process's file descriptors at start. Read-only use.
	 */
	int xsk_fd[ENG_PORT_MAX_QUEUES];
	uint16_t n_xsk; /* n_queues when every queue's socket was found, else 0 */
};

/* An AF_XDP socket's drop counters (struct xdp_statistics, linux/if_xdp.h). */
struct eng_xsk_stats {
	uint64_t rx_dropped;		   /* dropped for other reasons (fill ring empty, size) */
	uint64_t rx_invalid_descs;	   /* dropped: invalid descriptor */
	uint64_t tx_invalid_descs;	   /* dropped: invalid descriptor */
	uint64_t rx_ring_full;		   /* dropped: rx ring full (the lcore did not poll) */
	uint64_t rx_fill_ring_empty_descs; /* no fill-ring buffer (also in rx_dropped) */
	uint64_t tx_ring_empty_descs;	   /* tx ring found empty when the kernel looked */
};

/*
 * Configure and start the single probed port with n_queues rx/tx queues whose
 * rx mbufs come from pool. Returns 0 or a negative errno (message in err).
 */
int eng_port_init(struct eng_port *p, uint16_t n_queues, struct rte_mempool *pool, char *err,
		  size_t errlen);

struct sbcfg;

/*
 * Tell the XDP program on cfg->interface (net_af_xdp only) what cfg asks of it: the TFTP transfer
 * ports, our server address, whether ICMPv6 router solicitations are ours (cfg->ipv6_ra; in
 * "auto" mode own_mac, our source MAC, tells our own advertisements from other routers') and
 * cfg->guard (VLANs, MAC lists, rates), through its maps (found via the interface, else pinned
 * under /sys/fs/bpf; xdp_ctl_apply_config()). Returns 0 or a negative errno (message in err);
 * -EADDRINUSE after the settings were written: the range overlaps the kernel's ephemeral ports
 * (a warning naming both ranges); -ENOTSUP on a port without XDP when cfg asks for a guard (a
 * warning: nothing filters there; "auto" answers every solicitation there, as true does).
 */
int eng_port_xdp_settings(const struct eng_port *p, const struct sbcfg *cfg,
			  const uint8_t own_mac[6], char *err, size_t errlen);

/*
 * The statistics of queue q's AF_XDP socket, from getsockopt(SOL_XDP, XDP_STATISTICS): a
 * system call, for the telemetry and control threads, never an lcore. 0, -ENOENT (no socket
 * known for q: not net_af_xdp, or not found at start) or a negative errno.
 */
int eng_port_xsk_stats(const struct eng_port *p, uint16_t q, struct eng_xsk_stats *out);

/* Stop and close the port. */
void eng_port_close(struct eng_port *p);

#endif
