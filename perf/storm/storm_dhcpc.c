/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * storm_dhcpc.c - the VMs' DHCP client (RFC 2131): DISCOVER / OFFER / REQUEST / ACK with
 * each firmware's options (RFC 2132, RFC 4578, PXE 2.1, iPXE), the RFC 2131 4.1 back-off,
 * NAKs, and the boot information the ACK carries (siaddr / option 66, option 67 / file).
 */
#include <stdio.h>
#include <string.h>

#include "dhcp.h"
#include "pkt.h"
#include "storm.h"
#include "storm_vm.h"

#define DHCP_MAX_MSG  1472 /* option 57 of both firmwares (a 1500-byte MTU) */
#define DHCP_NAKS_MAX 3

static const uint8_t mac_bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

uint64_t storm_dhcp_backoff_us(unsigned attempt, uint32_t rnd, double scale)
{
	/* RFC 2131 4.1: 4 s, doubled per retransmission up to 64 s, +-1 s uniform. */
	double base = 4e6 * (double)(1u << (attempt < 4 ? attempt : 4));
	double jitter = ((double)rnd / 4294967295.0 * 2.0 - 1.0) * 1e6;
	double us = (base + jitter) * scale;

	return us < 1000.0 ? 1000 : (uint64_t)us;
}

static const struct dhcp_msg no_req; /* dhcp_build_finish(): nothing to echo (option 82) */

/* OVMF's and iPXE's parameter request lists (option 55), as their firmwares send them. */
static const uint8_t prl_ovmf[] = {1,  2,  3,  4,   5,	 6,   12,  13,	15,  17,  18, 22,
				   23, 28, 40, 41,  42,	 43,  50,  51,	54,  58,  59, 60,
				   66, 67, 97, 128, 129, 130, 131, 132, 133, 134, 135};
static const uint8_t prl_ipxe[] = {1,	3,   6,	  7,   12,  15,	 17,  26,  43,	60,  66, 67,
				   119, 128, 129, 130, 131, 132, 133, 134, 135, 175, 203};
/* iPXE's option 175: feature flags (19 PXE extensions, 33 TFTP, 16 ...): a few. */
static const uint8_t ipxe_encap[] = {0x13, 0x01, 0x01, 0x21, 0x01, 0x01};

static void dhcp_send(struct storm_fleet *f, struct storm_vm *vm, uint8_t type, uint64_t now)
{
	uint8_t *frame, *p, v[17];
	size_t cap, room;
	struct dhcp_builder b;
	uint64_t secs = (now - vm->t_on) / 1000000;
	bool ovmf = vm->kind == STORM_KIND_OVMF;
	int len;

	p = storm_tx_begin(f, &frame, &cap, &room);
	if (!p)
		return;
	memset(p, 0, DHCP_OPT_OFF);
	/* RFC 2131 2 and 4.4.1: a BOOTREQUEST from an unconfigured client, ciaddr 0. */
	p[0] = DHCP_BOOTREQUEST;
	p[1] = DHCP_HTYPE_ETHER;
	p[2] = 6;
	storm_put_be32(p + 4, vm->xid);
	pkt_wr16(p + 8, (uint16_t)(secs > 0xffff ? 0xffff : secs));
	/* iPXE asks for broadcast replies; OVMF does not (the server unicasts to chaddr). */
	pkt_wr16(p + 10, ovmf ? 0 : DHCP_FLAG_BROADCAST);
	memcpy(p + 28, vm->mac, 6);
	storm_put_be32(p + DHCP_HDR_LEN, DHCP_MAGIC_COOKIE);
	b = (struct dhcp_builder){.buf = p, .cap = room < 576 ? room : 576, .len = DHCP_OPT_OFF};
	dhcp_opt_put_req(&b, DHCP_OPT_MSG_TYPE, 1, &type);
	if (type == DHCP_REQUEST) {
		/* RFC 2131 4.3.2, SELECTING: requested address and the chosen server. */
		storm_put_be32(v, vm->offered);
		dhcp_opt_put_req(&b, DHCP_OPT_REQUESTED_IP, 4, v);
		storm_put_be32(v, vm->server_id);
		dhcp_opt_put_req(&b, DHCP_OPT_SERVER_ID, 4, v);
	}
	pkt_wr16(v, DHCP_MAX_MSG);
	dhcp_opt_put_req(&b, DHCP_OPT_MAX_MSG_SIZE, 2, v);
	if (ovmf) {
		dhcp_opt_put_req(&b, DHCP_OPT_PARAM_REQ, sizeof(prl_ovmf), prl_ovmf);
		/* RFC 4578: UUID (97, type 0 + 16 bytes), NDI (94, UNDI 3.16), arch 7 (93). */
		memset(v, 0, sizeof(v));
		v[1] = 0x57;
		memcpy(v + 11, vm->mac, 6);
		dhcp_opt_put_req(&b, DHCP_OPT_CLIENT_UUID, 17, v);
		dhcp_opt_put_req(&b, DHCP_OPT_CLIENT_NDI, 3, "\x01\x03\x10");
		dhcp_opt_put_req(&b, DHCP_OPT_CLIENT_ARCH, 2, "\x00\x07");
		dhcp_opt_put_str(&b, DHCP_OPT_VENDOR_CLASS, "PXEClient:Arch:00007:UNDI:003016");
	} else {
		dhcp_opt_put_req(&b, DHCP_OPT_PARAM_REQ, sizeof(prl_ipxe), prl_ipxe);
		v[0] = DHCP_HTYPE_ETHER;
		memcpy(v + 1, vm->mac, 6);
		dhcp_opt_put_req(&b, DHCP_OPT_CLIENT_ID, 7, v);
		dhcp_opt_put_req(&b, DHCP_OPT_CLIENT_ARCH, 2, "\x00\x00");
		dhcp_opt_put_req(&b, DHCP_OPT_CLIENT_NDI, 3, "\x01\x02\x01");
		dhcp_opt_put_str(&b, DHCP_OPT_VENDOR_CLASS, "PXEClient:Arch:00000:UNDI:002001");
		dhcp_opt_put_str(&b, DHCP_OPT_USER_CLASS, "iPXE");
		dhcp_opt_put_req(&b, DHCP_OPT_IPXE_ENCAP, sizeof(ipxe_encap), ipxe_encap);
	}
	len = dhcp_build_finish(&b, &no_req);
	if (len < 0) {
		f->c.tx_nobuf++;
		return;
	}
	if (type == DHCP_DISCOVER)
		f->c.dhcp_discover_tx++;
	else
		f->c.dhcp_request_tx++;
	/* RFC 2131 4.1: to 255.255.255.255 from 0.0.0.0 until the client has an address. */
	storm_tx_end(f, vm, frame, cap, mac_bcast, 0, SB_PORT_DHCP_CLIENT, 0xffffffffu,
		     SB_PORT_DHCP_SERVER, (size_t)len);
}

void storm_dhcp_discover(struct storm_fleet *f, struct storm_vm *vm, uint64_t now)
{
	vm->xid = storm_rnd32(f);
	vm->tries = 0;
	storm_set_state(f, vm, STORM_ST_SELECTING);
	dhcp_send(f, vm, DHCP_DISCOVER, now);
	storm_arm_us(f, vm, now + storm_dhcp_backoff_us(0, storm_rnd32(f), f->cfg.backoff_scale));
}

/* Option `code` of a parsed message (options area only; dhcp_parse checked its bounds). */
static struct dhcp_optv find_opt(const struct dhcp_msg *m, uint8_t code)
{
	struct dhcp_optv v = {NULL, 0};
	size_t i = DHCP_OPT_OFF;

	if (!dhcp_has_opt(m, code))
		return v;
	while (i < m->len) {
		uint8_t c = m->buf[i];

		if (c == DHCP_OPT_PAD) {
			i++;
			continue;
		}
		if (c == DHCP_OPT_END || i + 2 > m->len || i + 2 + m->buf[i + 1] > m->len)
			break;
		if (c == code) {
			v.data = m->buf + i + 2;
			v.len = m->buf[i + 1];
			return v;
		}
		i += 2 + (size_t)m->buf[i + 1];
	}
	return v;
}

/* A dotted quad of at most len bytes (option 66 may name the server so), host order, or 0. */
static uint32_t parse_ip(const uint8_t *s, size_t len)
{
	uint32_t ip = 0, part = 0;
	unsigned dots = 0, digits = 0;

	for (size_t i = 0; i < len && s[i]; i++) {
		if (s[i] == '.') {
			if (!digits || ++dots > 3)
				return 0;
			ip = ip << 8 | part;
			part = 0;
			digits = 0;
		} else if (s[i] >= '0' && s[i] <= '9' && digits < 3) {
			part = part * 10 + (uint32_t)(s[i] - '0');
			digits++;
			if (part > 255)
				return 0;
		} else {
			return 0;
		}
	}
	if (dots != 3 || !digits)
		return 0;
	return ip << 8 | part;
}

static void vm_bound(struct storm_fleet *f, struct storm_vm *vm, const struct dhcp_msg *m,
		     const struct pkt_udp *u, uint64_t now)
{
	struct dhcp_optv o;
	const char *name;
	int idx;

	vm->ip = m->yiaddr;
	vm->t_bound = now;
	memcpy(vm->server_mac, u->src_mac, 6);
	storm_ip_insert(f, vm->ip, storm_vm_id(f, vm));
	/* The TFTP server: siaddr (RFC 2131 2), else option 66, else the DHCP server. */
	vm->tftp_ip = m->siaddr;
	if (!vm->tftp_ip && (o = find_opt(m, DHCP_OPT_TFTP_SERVER)).data)
		vm->tftp_ip = parse_ip(o.data, o.len);
	if (!vm->tftp_ip)
		vm->tftp_ip = vm->server_id;
	/* The boot file: option 67, else the file field (RFC 2132 9.5). */
	vm->bootfile[0] = 0;
	if ((o = find_opt(m, DHCP_OPT_BOOTFILE)).data) {
		size_t n = strnlen((const char *)o.data, o.len);
		memcpy(vm->bootfile, o.data, n);
		vm->bootfile[n] = 0;
	} else if (m->file && m->file[0]) {
		size_t n = strnlen(m->file, 128);
		if (n >= sizeof(vm->bootfile))
			n = sizeof(vm->bootfile) - 1;
		memcpy(vm->bootfile, m->file, n);
		vm->bootfile[n] = 0;
	}
	/* PXE firmware resolves the TFTP server's MAC before its RRQ (--arp). */
	if (f->cfg.arp && vm->tftp_ip)
		storm_arp_request(f, vm);
	if (f->cfg.dhcp_only) {
		storm_vm_done(f, vm, now);
		return;
	}
	name = f->cfg.loader[0] ? f->cfg.loader : vm->bootfile;
	if (!name[0]) {
		storm_vm_fail(f, vm, STORM_FAIL_NO_BOOTFILE, now);
		return;
	}
	idx = storm_files_find(f->files, name, strlen(name));
	if (idx < 0 && f->cfg.verify != STORM_VERIFY_NONE) {
		storm_vm_fail(f, vm, STORM_FAIL_UNKNOWN_FILE, now);
		return;
	}
	vm->loader = (int8_t)idx;
	if (vm->kind == STORM_KIND_OVMF && f->cfg.ovmf_probe)
		storm_tftp_start(f, vm, STORM_ST_PROBE, now);
	else
		storm_tftp_start(f, vm, STORM_ST_LOADER, now);
}

void storm_dhcp_rx(struct storm_fleet *f, const struct pkt_udp *u, uint64_t now)
{
	struct dhcp_msg m;
	struct storm_vm *vm;
	int64_t id;

	if (dhcp_parse(u->payload, u->payload_len, &m) < 0 || m.op != DHCP_BOOTREPLY) {
		f->c.rx_malformed++;
		return;
	}
	id = storm_mac_to_vm(m.chaddr, f->cfg.n_vms, f->cfg.random_macs);
	if (id < 0 || f->vm[id].xid != m.xid || f->cfg.reflect) {
		f->c.dhcp_foreign_rx++;
		return;
	}
	vm = &f->vm[id];
	if (f->cfg.server_ip && (m.server_id ? m.server_id : u->src_ip) != f->cfg.server_ip) {
		f->c.dhcp_foreign_rx++;
		return;
	}
	switch (m.type) {
	case DHCP_OFFER:
		if (vm->state != STORM_ST_SELECTING) {
			f->c.dhcp_dup_rx++;
			return;
		}
		if (!m.yiaddr) {
			f->c.rx_malformed++;
			return;
		}
		/* RFC 2131 4.4.1: take the first OFFER, REQUEST it (same xid). */
		f->c.dhcp_offer_rx++;
		vm->offered = m.yiaddr;
		vm->server_id = m.server_id ? m.server_id : u->src_ip;
		vm->tries = 0;
		storm_set_state(f, vm, STORM_ST_REQUESTING);
		dhcp_send(f, vm, DHCP_REQUEST, now);
		storm_arm_us(f, vm,
			     now + storm_dhcp_backoff_us(0, storm_rnd32(f), f->cfg.backoff_scale));
		return;
	case DHCP_ACK:
		if (vm->state != STORM_ST_REQUESTING) {
			f->c.dhcp_dup_rx++;
			return;
		}
		if (!m.yiaddr) {
			f->c.rx_malformed++;
			return;
		}
		f->c.dhcp_ack_rx++;
		vm_bound(f, vm, &m, u, now);
		return;
	case DHCP_NAK:
		if (vm->state != STORM_ST_REQUESTING && vm->state != STORM_ST_SELECTING) {
			f->c.dhcp_dup_rx++;
			return;
		}
		/* RFC 2131 4.4.1: a NAK sends the client back to INIT. */
		f->c.dhcp_nak_rx++;
		if (++vm->naks >= DHCP_NAKS_MAX) {
			storm_vm_fail(f, vm, STORM_FAIL_DHCP_NAK, now);
			return;
		}
		storm_dhcp_discover(f, vm, now);
		return;
	default:
		f->c.dhcp_foreign_rx++;
	}
}

void storm_dhcp_timeout(struct storm_fleet *f, struct storm_vm *vm, uint64_t now)
{
	/* RFC 2131 4.1 / PXE 2.1: retransmit with exponential back-off, then give up. */
	if (++vm->tries >= f->cfg.dhcp_tries) {
		storm_vm_fail(f, vm, STORM_FAIL_DHCP_TIMEOUT, now);
		return;
	}
	f->c.dhcp_retrans_tx++;
	dhcp_send(f, vm, vm->state == STORM_ST_SELECTING ? DHCP_DISCOVER : DHCP_REQUEST, now);
	storm_arm_us(f, vm,
		     now + storm_dhcp_backoff_us(vm->tries, storm_rnd32(f), f->cfg.backoff_scale));
}
