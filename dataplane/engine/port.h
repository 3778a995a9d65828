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

#define ENG_PORT_RX_DESC 1024
#define ENG_PORT_TX_DESC 1024

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
};

/*
 * Configure and start the single probed port with n_queues rx/tx queues whose
 * rx mbufs come from pool. Returns 0 or a negative errno (message in err).
 */
int eng_port_init(struct eng_port *p, uint16_t n_queues, struct rte_mempool *pool, char *err,
		  size_t errlen);

/*
 * Tell the XDP program on iface (net_af_xdp only) which UDP ports are our TFTP
 * transfer ports, our server address and whether ICMPv6 router solicitations are ours
 * (steer_rs sets or clears SB_XDP_PORT_M_RS; the other port_mask bits are kept), through its
 * settings map (found via the interface, else pinned under /sys/fs/bpf). No-op on other ports.
 * Returns 0 or a negative errno (message in err); -EADDRINUSE after the settings were written:
 * the range overlaps the kernel's ephemeral ports (a warning naming both ranges).
 */
int eng_port_xdp_settings(const struct eng_port *p, const char *iface, uint16_t port_lo,
			  uint16_t port_hi, uint32_t server_ip, bool steer_rs, char *err,
			  size_t errlen);

/* Stop and close the port. */
void eng_port_close(struct eng_port *p);

#endif
