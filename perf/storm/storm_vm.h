/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * storm_vm.h - inside the fleet: what the DHCP client (storm_dhcpc.c), the TFTP client
 * (storm_tftpc.c) and the fleet (storm_fleet.c) share. Not for the DPDK shell.
 */
#ifndef SB_STORM_VM_H
#define SB_STORM_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pkt.h"
#include "storm.h"

#define ETH_MIN_FRAME 60

static inline uint32_t storm_vm_id(const struct storm_fleet *f, const struct storm_vm *vm)
{
	return (uint32_t)(vm - f->vm);
}

static inline bool storm_vm_in_tftp(const struct storm_vm *vm)
{
	return vm->state == STORM_ST_PROBE || vm->state == STORM_ST_LOADER ||
	       vm->state == STORM_ST_IMAGE;
}

static inline void storm_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* 32 random bits from the fleet's generator (reproducible from --seed). */
uint32_t storm_rnd32(struct storm_fleet *f);
/* The VM's one timer, due at due_us (1 ms resolution). */
void storm_arm_us(struct storm_fleet *f, struct storm_vm *vm, uint64_t due_us);
/* Move a VM to another state (keeps the per-state counts). */
void storm_set_state(struct storm_fleet *f, struct storm_vm *vm, enum storm_state st);
void storm_vm_fail(struct storm_fleet *f, struct storm_vm *vm, enum storm_fail why, uint64_t now);
void storm_vm_done(struct storm_fleet *f, struct storm_vm *vm, uint64_t now);
/* The leased address answers ARP from now on. */
void storm_ip_insert(struct storm_fleet *f, uint32_t ip, uint32_t id);

/* A frame buffer from the io: returns where the UDP payload goes (and its room), or NULL
 * (counted as tx_nobuf). storm_tx_end writes Ethernet, IPv4 and UDP headers with their
 * checksums in front of payload_len bytes and sends the frame. */
uint8_t *storm_tx_begin(struct storm_fleet *f, uint8_t **frame, size_t *cap, size_t *room);
void storm_tx_end(struct storm_fleet *f, const struct storm_vm *vm, uint8_t *frame, size_t cap,
		  const uint8_t dst_mac[6], uint32_t src_ip, uint16_t sport, uint32_t dst_ip,
		  uint16_t dport, size_t payload_len);

/* --arp: an ARP request (RFC 826) from the VM's leased address for its TFTP server's. */
void storm_arp_request(struct storm_fleet *f, struct storm_vm *vm);

/* DHCP client (storm_dhcpc.c). */
void storm_dhcp_discover(struct storm_fleet *f, struct storm_vm *vm, uint64_t now);
void storm_dhcp_rx(struct storm_fleet *f, const struct pkt_udp *u, uint64_t now);
void storm_dhcp_timeout(struct storm_fleet *f, struct storm_vm *vm, uint64_t now);

/* TFTP client (storm_tftpc.c). */
uint64_t storm_tftp_due(const struct storm_fleet *f, const struct storm_vm *vm, uint64_t now);
/* The VM's current TFTP retransmission timeout (ms): the configured one, or the
 * firmware's (OVMF 4 s; iPXE 250 ms << tries, 0 once that passes 10 s: give up). */
uint32_t storm_tftp_timeout_ms(const struct storm_fleet *f, const struct storm_vm *vm);
void storm_tftp_start(struct storm_fleet *f, struct storm_vm *vm, enum storm_state st,
		      uint64_t now);
void storm_tftp_rx(struct storm_fleet *f, struct storm_vm *vm, const struct pkt_udp *u,
		   uint64_t now);
/* A frame to the VM's previous TID (finished transfer or size probe). */
void storm_tftp_rx_prev(struct storm_fleet *f, struct storm_vm *vm, const struct pkt_udp *u);
void storm_tftp_timeout(struct storm_fleet *f, struct storm_vm *vm, uint64_t now);
/* Shared with the multicast client: ACK to the server's TID; ERROR to it; the file is whole
 * (check it, then the next file or done); ERROR to the server (if locked) and fail. */
void storm_tftp_send_ack(struct storm_fleet *f, struct storm_vm *vm, uint16_t block);
void storm_tftp_send_error(struct storm_fleet *f, struct storm_vm *vm, uint16_t code,
			   const char *msg);
void storm_tftp_finish(struct storm_fleet *f, struct storm_vm *vm, uint16_t block, uint64_t now);
void storm_tftp_abort(struct storm_fleet *f, struct storm_vm *vm, enum storm_fail why,
		      uint16_t code, const char *msg, uint64_t now);

/* Multicast client (storm_mtftpc.c, RFC 2090). */
struct storm_mc_opt {
	bool has;		 /* a valid "multicast" option */
	bool has_addr, has_port; /* RFC 2090: both may be left out when only mc changes */
	bool master;		 /* mc=1 */
	uint32_t ip;		 /* host order, 224.0.0.0/4 */
	uint16_t port;
};
/* Parse the option's value "addr,port,mc" (len bytes). False when malformed. */
bool storm_mc_parse(const char *val, size_t len, struct storm_mc_opt *o);
/* A transfer starts: leave the group, decide whether this one asks by multicast. */
void storm_mc_reset(struct storm_fleet *f, struct storm_vm *vm);
/* Leave the VM's group (done, failed, new transfer). */
void storm_mc_leave(struct storm_fleet *f, struct storm_vm *vm);
/* An OACK with a valid multicast option: join the group (the first), take the role. */
void storm_mc_oack(struct storm_fleet *f, struct storm_vm *vm, const struct storm_mc_opt *o,
		   const struct storm_file *file, uint64_t now);
/* DATA wire-numbered `wire` for a VM in its group, from the group or unicast. */
void storm_mc_data(struct storm_fleet *f, struct storm_vm *vm, uint16_t wire, const uint8_t *d,
		   size_t len, bool from_group, uint64_t now);
/* A frame to a multicast address: to every VM listening to that group:port. */
void storm_mc_rx_group(struct storm_fleet *f, const struct pkt_udp *u, size_t frame_len,
		       uint64_t now);
/* A timeout of a VM in its group: the master ACKs again. False: not in a group. */
bool storm_mc_timeout(struct storm_fleet *f, struct storm_vm *vm, uint64_t now);
/* The transfer failed (timeout, ERROR): a multicast one starts again unicast (true). */
bool storm_mc_give_up(struct storm_fleet *f, struct storm_vm *vm, uint64_t now);

#endif
