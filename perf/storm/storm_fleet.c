/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * storm_fleet.c - the VMs' state machines: DHCP client (RFC 2131), TFTP client (RFC 1350,
 * 2347-2349, 7440), ARP for the leased addresses (RFC 826), the --reflect mode.
 * Frames are built and parsed by the protocol core (pkt.h, dhcp.h, tftp.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "dhcp.h"
#include "pkt.h"
#include "sb_drop.h"
#include "storm.h"
#include "tftp.h"

#define WHEEL_SLOTS_LOG2 12 /* 4.1 s of 1 ms slots; longer timers wait for their turn */
#define DHCP_MAX_MSG	 1472 /* option 57 of both firmwares (a 1500-byte MTU) */
#define DHCP_NAKS_MAX	 3
#define TFTP_PORT_FIRST	 49152 /* our TIDs: the IANA dynamic range */
#define TFTP_PORT_SPAN	 16384
#define RRQ_MAX		 512
#define REFLECT_SRC_PORT 40000
#define REFLECT_HDR	 8 /* sequence number, VM index */
#define ETH_MIN_FRAME	 60

static const uint8_t mac_bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
/* The reflector's address in --reflect mode: macswap sends the frames back to the VM. */
static const uint8_t mac_reflector[6] = {STORM_MAC_OUI0, STORM_MAC_OUI1, 0xff, 0xff, 0xff, 0xff};
#define REFLECT_DST_IP 0xc613fffeu /* 198.19.255.254 */
#define REFLECT_NET    0xc6130000u /* 198.19.0.0: VM i is .(i+1) */

static const char *const state_names[] = {
#define X(e, s) s,
	STORM_STATE_LIST(X)
#undef X
};
static const char *const fail_names[] = {
#define X(e, s, d) s,
	STORM_FAIL_LIST(X)
#undef X
};
static const char *const fail_descs[] = {
#define X(e, s, d) d,
	STORM_FAIL_LIST(X)
#undef X
};

const char *storm_state_name(unsigned s)
{
	return s < STORM_ST__COUNT ? state_names[s] : "?";
}

const char *storm_fail_name(unsigned r)
{
	return r < STORM_FAIL__COUNT ? fail_names[r] : "?";
}

const char *storm_fail_desc(unsigned r)
{
	return r < STORM_FAIL__COUNT ? fail_descs[r] : "?";
}

void storm_cfg_defaults(struct storm_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->n_vms = 100;
	c->ovmf_ratio = 0.5;
	c->seed = 1;
	c->backoff_scale = 1.0;
	c->dhcp_tries = 4; /* PXE 2.1: four DISCOVERs, 4 + 8 + 16 + 32 s */
	c->tftp_timeout_ms = 1000;
	c->tftp_retries = 6;
	c->ovmf_blksize = 1468;
	c->ovmf_window = 4;
	c->ipxe_blksize = 1432;
	c->ovmf_probe = true;
	c->verify = STORM_VERIFY_AUTO;
	c->reflect_size = 1514;
	c->reflect_window = 1;
}

int storm_files_find(const struct storm_files *fs, const char *name, size_t len)
{
	while (len && name[0] == '/') {
		name++;
		len--;
	}
	for (unsigned i = 0; i < fs->n; i++)
		if (strlen(fs->f[i].name) == len && memcmp(fs->f[i].name, name, len) == 0)
			return (int)i;
	return -1;
}

void storm_vm_mac(uint32_t i, uint8_t mac[6])
{
	uint32_t v = i + 1;

	mac[0] = STORM_MAC_OUI0;
	mac[1] = STORM_MAC_OUI1;
	mac[2] = (uint8_t)(v >> 24);
	mac[3] = (uint8_t)(v >> 16);
	mac[4] = (uint8_t)(v >> 8);
	mac[5] = (uint8_t)v;
}

int64_t storm_mac_to_vm(const uint8_t mac[6], uint32_t n_vms)
{
	uint32_t v;

	if (mac[0] != STORM_MAC_OUI0 || mac[1] != STORM_MAC_OUI1)
		return -1;
	v = ((uint32_t)mac[2] << 24) | ((uint32_t)mac[3] << 16) | ((uint32_t)mac[4] << 8) | mac[5];
	if (v == 0 || v > n_vms)
		return -1;
	return (int64_t)v - 1;
}

uint64_t storm_dhcp_backoff_us(unsigned attempt, uint32_t rnd, double scale)
{
	/* RFC 2131 4.1: 4 s, doubled per retransmission up to 64 s, +-1 s uniform. */
	double base = 4e6 * (double)(1u << (attempt < 4 ? attempt : 4));
	double jitter = ((double)rnd / 4294967295.0 * 2.0 - 1.0) * 1e6;
	double us = (base + jitter) * scale;

	return us < 1000.0 ? 1000 : (uint64_t)us;
}

/* xorshift64* (Vigna): no state but the fleet's, reproducible from --seed. */
static uint32_t rnd32(struct storm_fleet *f)
{
	uint64_t x = f->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	f->rng = x;
	return (uint32_t)((x * 0x2545F4914F6CDD1DULL) >> 32);
}

static inline uint32_t vm_id(const struct storm_fleet *f, const struct storm_vm *vm)
{
	return (uint32_t)(vm - f->vm);
}

static void arm_us(struct storm_fleet *f, struct storm_vm *vm, uint64_t due_us)
{
	storm_wheel_arm(&f->wheel, vm_id(f, vm), (due_us + 999) / 1000);
}

static void set_state(struct storm_fleet *f, struct storm_vm *vm, enum storm_state st)
{
	f->n_state[vm->state]--;
	vm->state = (uint8_t)st;
	f->n_state[st]++;
}

static bool vm_in_tftp(const struct storm_vm *vm)
{
	return vm->state == STORM_ST_PROBE || vm->state == STORM_ST_LOADER ||
	       vm->state == STORM_ST_IMAGE;
}

static const struct storm_file *vm_file(const struct storm_fleet *f, const struct storm_vm *vm)
{
	return vm->file >= 0 ? &f->files->f[vm->file] : NULL;
}

static bool do_sha(const struct storm_fleet *f, const struct storm_file *file)
{
	return file && file->has_sha &&
	       (f->cfg.verify == STORM_VERIFY_AUTO || f->cfg.verify == STORM_VERIFY_SHA);
}

static bool do_cmp(const struct storm_fleet *f, const struct storm_file *file)
{
	return file && file->data &&
	       (f->cfg.verify == STORM_VERIFY_AUTO || f->cfg.verify == STORM_VERIFY_CMP);
}

/* ---- transmit ---- */

/* A frame buffer; returns where the UDP payload goes and its room, or NULL. */
static uint8_t *tx_begin(struct storm_fleet *f, uint8_t **frame, size_t *cap, size_t *room)
{
	size_t hl = pkt_hdr_len(NULL);
	uint8_t *b = f->io.tx_get(f->io.ctx, cap);

	if (!b || *cap < ETH_MIN_FRAME + hl) {
		f->c.tx_nobuf++;
		return NULL;
	}
	*frame = b;
	*room = *cap - hl;
	return b + hl;
}

static void tx_end(struct storm_fleet *f, const struct storm_vm *vm, uint8_t *frame, size_t cap,
		   const uint8_t dst_mac[6], uint32_t src_ip, uint16_t sport, uint32_t dst_ip,
		   uint16_t dport, size_t payload_len)
{
	struct pkt_dest d = {.dst_ip = dst_ip, .dst_port = dport, .src_ip = src_ip,
			     .src_port = sport};
	int n;

	memcpy(d.dst_mac, dst_mac, 6);
	n = pkt_build_udp(frame, cap, NULL, vm->mac, &d, payload_len);
	if (n < 0) {
		f->c.tx_nobuf++;
		return;
	}
	f->io.tx_put(f->io.ctx, (size_t)n);
}

/* ---- DHCP client (RFC 2131) ---- */

static const struct dhcp_msg no_req; /* dhcp_build_finish(): nothing to echo (option 82) */

/* OVMF's and iPXE's parameter request lists (option 55), as their firmwares send them. */
static const uint8_t prl_ovmf[] = {1,  2,  3,  4,  5,  6,  12, 13,  15,  17,  18,  22,  23,
				   28, 40, 41, 42, 43, 50, 51, 54,  58,  59,  60,  66,  67,
				   97, 128, 129, 130, 131, 132, 133, 134, 135};
static const uint8_t prl_ipxe[] = {1,	3,   6,	  7,   12,  15,	 17,  26,  43, 60, 66,
				   67,	119, 128, 129, 130, 131, 132, 133, 134, 135, 175, 203};
/* iPXE's option 175: feature flags (19 PXE extensions, 33 TFTP, 16 ...): a few. */
static const uint8_t ipxe_encap[] = {0x13, 0x01, 0x01, 0x21, 0x01, 0x01};

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void dhcp_send(struct storm_fleet *f, struct storm_vm *vm, uint8_t type, uint64_t now)
{
	uint8_t *frame, *p, v[17];
	size_t cap, room;
	struct dhcp_builder b;
	uint64_t secs = (now - vm->t_on) / 1000000;
	bool ovmf = vm->kind == STORM_KIND_OVMF;
	int len;

	p = tx_begin(f, &frame, &cap, &room);
	if (!p)
		return;
	memset(p, 0, DHCP_OPT_OFF);
	/* RFC 2131 2 and 4.4.1: a BOOTREQUEST from an unconfigured client, ciaddr 0. */
	p[0] = DHCP_BOOTREQUEST;
	p[1] = DHCP_HTYPE_ETHER;
	p[2] = 6;
	put_be32(p + 4, vm->xid);
	pkt_wr16(p + 8, (uint16_t)(secs > 0xffff ? 0xffff : secs));
	/* iPXE asks for broadcast replies; OVMF does not (the server unicasts to chaddr). */
	pkt_wr16(p + 10, ovmf ? 0 : DHCP_FLAG_BROADCAST);
	memcpy(p + 28, vm->mac, 6);
	put_be32(p + DHCP_HDR_LEN, DHCP_MAGIC_COOKIE);
	b = (struct dhcp_builder){.buf = p, .cap = room < 576 ? room : 576, .len = DHCP_OPT_OFF};
	dhcp_opt_put_req(&b, DHCP_OPT_MSG_TYPE, 1, &type);
	if (type == DHCP_REQUEST) {
		/* RFC 2131 4.3.2, SELECTING: requested address and the chosen server. */
		put_be32(v, vm->offered);
		dhcp_opt_put_req(&b, DHCP_OPT_REQUESTED_IP, 4, v);
		put_be32(v, vm->server_id);
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
	tx_end(f, vm, frame, cap, mac_bcast, 0, SB_PORT_DHCP_CLIENT, 0xffffffffu,
	       SB_PORT_DHCP_SERVER, (size_t)len);
}

static void vm_fail(struct storm_fleet *f, struct storm_vm *vm, enum storm_fail why,
		    uint64_t now)
{
	vm->fail = (uint8_t)why;
	vm->fail_state = vm->state;
	vm->t_done = now;
	f->n_fail[why]++;
	storm_wheel_cancel(&f->wheel, vm_id(f, vm));
	set_state(f, vm, STORM_ST_FAILED);
}

static void dhcp_discover(struct storm_fleet *f, struct storm_vm *vm, uint64_t now)
{
	vm->xid = rnd32(f);
	vm->tries = 0;
	set_state(f, vm, STORM_ST_SELECTING);
	dhcp_send(f, vm, DHCP_DISCOVER, now);
	arm_us(f, vm, now + storm_dhcp_backoff_us(0, rnd32(f), f->cfg.backoff_scale));
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

static void ip_insert(struct storm_fleet *f, uint32_t ip, uint32_t id)
{
	uint32_t h = (ip * 2654435761u) & f->ip_mask;

	for (uint32_t probes = 0; probes <= f->ip_mask; probes++, h = (h + 1) & f->ip_mask) {
		uint32_t e = f->ip_tab[h];

		if (e == 0 || f->vm[e - 1].ip == ip || f->vm[e - 1].ip == 0) {
			f->ip_tab[h] = id + 1;
			return;
		}
	}
}

static int64_t ip_lookup(const struct storm_fleet *f, uint32_t ip)
{
	uint32_t h = (ip * 2654435761u) & f->ip_mask;

	for (uint32_t probes = 0; probes <= f->ip_mask; probes++, h = (h + 1) & f->ip_mask) {
		uint32_t e = f->ip_tab[h];

		if (e == 0)
			return -1;
		if (f->vm[e - 1].ip == ip)
			return (int64_t)e - 1;
	}
	return -1;
}

static void tftp_start(struct storm_fleet *f, struct storm_vm *vm, enum storm_state st,
		       uint64_t now);
static void vm_done(struct storm_fleet *f, struct storm_vm *vm, uint64_t now);

static void vm_bound(struct storm_fleet *f, struct storm_vm *vm, const struct dhcp_msg *m,
		     const struct pkt_udp *u, uint64_t now)
{
	struct dhcp_optv o;
	const char *name;
	int idx;

	vm->ip = m->yiaddr;
	vm->t_bound = now;
	memcpy(vm->server_mac, u->src_mac, 6);
	ip_insert(f, vm->ip, vm_id(f, vm));
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
	if (f->cfg.dhcp_only) {
		vm_done(f, vm, now);
		return;
	}
	name = f->cfg.loader[0] ? f->cfg.loader : vm->bootfile;
	if (!name[0]) {
		vm_fail(f, vm, STORM_FAIL_NO_BOOTFILE, now);
		return;
	}
	idx = storm_files_find(f->files, name, strlen(name));
	if (idx < 0 && f->cfg.verify != STORM_VERIFY_NONE) {
		vm_fail(f, vm, STORM_FAIL_UNKNOWN_FILE, now);
		return;
	}
	vm->loader = (int8_t)idx;
	if (vm->kind == STORM_KIND_OVMF && f->cfg.ovmf_probe)
		tftp_start(f, vm, STORM_ST_PROBE, now);
	else
		tftp_start(f, vm, STORM_ST_LOADER, now);
}

static void rx_dhcp(struct storm_fleet *f, const struct pkt_udp *u, uint64_t now)
{
	struct dhcp_msg m;
	struct storm_vm *vm;
	int64_t id;

	if (dhcp_parse(u->payload, u->payload_len, &m) < 0 || m.op != DHCP_BOOTREPLY) {
		f->c.rx_malformed++;
		return;
	}
	id = storm_mac_to_vm(m.chaddr, f->cfg.n_vms);
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
		set_state(f, vm, STORM_ST_REQUESTING);
		dhcp_send(f, vm, DHCP_REQUEST, now);
		arm_us(f, vm, now + storm_dhcp_backoff_us(0, rnd32(f), f->cfg.backoff_scale));
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
			vm_fail(f, vm, STORM_FAIL_DHCP_NAK, now);
			return;
		}
		dhcp_discover(f, vm, now);
		return;
	default:
		f->c.dhcp_foreign_rx++;
	}
}

/* ---- TFTP client ---- */

static uint64_t tftp_due(const struct storm_fleet *f, uint64_t now)
{
	return now + (uint64_t)f->cfg.tftp_timeout_ms * 1000;
}

static void tftp_send(struct storm_fleet *f, struct storm_vm *vm, uint16_t sport, uint16_t dport,
		      const void *payload, size_t len)
{
	uint8_t *frame, *p;
	size_t cap, room;

	p = tx_begin(f, &frame, &cap, &room);
	if (!p)
		return;
	if (len > room) {
		f->c.tx_nobuf++;
		return;
	}
	memcpy(p, payload, len);
	tx_end(f, vm, frame, cap, vm->server_mac, vm->ip, sport, vm->tftp_ip, dport, len);
}

static void send_ack_from(struct storm_fleet *f, struct storm_vm *vm, uint16_t sport,
			  uint16_t dport, uint16_t block)
{
	uint8_t a[TFTP_HDR_LEN];

	pkt_wr16(a, TFTP_OP_ACK);
	pkt_wr16(a + 2, block);
	f->c.tftp_ack_tx++;
	tftp_send(f, vm, sport, dport, a, sizeof(a));
}

static void send_ack(struct storm_fleet *f, struct storm_vm *vm, uint16_t block)
{
	send_ack_from(f, vm, vm->port, vm->srv_port, block);
}

static void send_error(struct storm_fleet *f, struct storm_vm *vm, uint16_t sport,
		       uint16_t dport, uint16_t code, const char *msg)
{
	uint8_t e[80];
	int n = tftp_build_error(e, sizeof(e), code, msg);

	if (n < 0)
		return;
	f->c.tftp_err_tx++;
	tftp_send(f, vm, sport, dport, e, (size_t)n);
}

static bool put_str(uint8_t *buf, size_t *len, const char *s)
{
	size_t n = strlen(s) + 1;

	if (n > RRQ_MAX - *len)
		return false;
	memcpy(buf + *len, s, n);
	*len += n;
	return true;
}

static const char *remote_name(const struct storm_fleet *f, const struct storm_vm *vm)
{
	if (vm->state == STORM_ST_IMAGE)
		return f->cfg.image;
	return f->cfg.loader[0] ? f->cfg.loader : vm->bootfile;
}

/* RFC 1350 5 RRQ, with the options each firmware sends (RFC 2347/2348/2349/7440). */
static void send_rrq(struct storm_fleet *f, struct storm_vm *vm)
{
	uint8_t r[RRQ_MAX];
	char num[8];
	size_t len = 2;
	bool ok;

	pkt_wr16(r, TFTP_OP_RRQ);
	ok = put_str(r, &len, remote_name(f, vm)) && put_str(r, &len, "octet");
	if (vm->state != STORM_ST_PROBE) {
		snprintf(num, sizeof(num), "%u", vm->kind == STORM_KIND_OVMF ? f->cfg.ovmf_blksize
									   : f->cfg.ipxe_blksize);
		ok = ok && put_str(r, &len, "blksize") && put_str(r, &len, num);
		if (vm->kind == STORM_KIND_OVMF && f->cfg.ovmf_window > 1) {
			snprintf(num, sizeof(num), "%u", f->cfg.ovmf_window);
			ok = ok && put_str(r, &len, "windowsize") && put_str(r, &len, num);
		}
	}
	ok = ok && put_str(r, &len, "tsize") && put_str(r, &len, "0");
	if (!ok) {
		f->c.tx_nobuf++;
		return;
	}
	f->c.tftp_rrq_tx++;
	tftp_send(f, vm, vm->port, SB_PORT_TFTP, r, len);
}

static void vm_done(struct storm_fleet *f, struct storm_vm *vm, uint64_t now)
{
	vm->t_done = now;
	if (now > f->t_last_done)
		f->t_last_done = now;
	storm_wheel_cancel(&f->wheel, vm_id(f, vm));
	set_state(f, vm, STORM_ST_DONE);
}

static void tftp_start(struct storm_fleet *f, struct storm_vm *vm, enum storm_state st,
		       uint64_t now)
{
	uint16_t p;

	set_state(f, vm, st);
	if (st == STORM_ST_IMAGE)
		vm->file = (int8_t)storm_files_find(f->files, f->cfg.image, strlen(f->cfg.image));
	else
		vm->file = vm->loader;
	/* A new TID per transfer (RFC 1350 4: "chosen at random"), not the last one. */
	do
		p = (uint16_t)(TFTP_PORT_FIRST + rnd32(f) % TFTP_PORT_SPAN);
	while (p == vm->port || p == vm->prev_port);
	vm->port = p;
	vm->srv_port = 0;
	vm->locked = false;
	vm->oack = false;
	vm->reacked = false;
	vm->tries = 0;
	vm->next_block = 1;
	vm->bytes = 0;
	vm->in_window = 0;
	vm->blksize = TFTP_BLKSIZE_DEFAULT;
	vm->window = 1;
	if (st != STORM_ST_PROBE && do_sha(f, vm_file(f, vm)))
		EVP_DigestInit_ex(vm->md, f->sha256, NULL);
	send_rrq(f, vm);
	arm_us(f, vm, tftp_due(f, now));
}

/* The file arrived whole: check it, then the next file or done. */
static void tftp_finish(struct storm_fleet *f, struct storm_vm *vm, uint16_t block, uint64_t now)
{
	const struct storm_file *file = vm_file(f, vm);

	if (file && f->cfg.verify != STORM_VERIFY_NONE && vm->bytes != file->size) {
		vm_fail(f, vm, STORM_FAIL_SIZE, now);
		return;
	}
	if (do_sha(f, file)) {
		uint8_t md[EVP_MAX_MD_SIZE];
		unsigned mdlen = 0;

		EVP_DigestFinal_ex(vm->md, md, &mdlen);
		if (mdlen != 32 || memcmp(md, file->sha256, 32) != 0) {
			vm_fail(f, vm, STORM_FAIL_DIGEST, now);
			return;
		}
	}
	f->c.tftp_transfers++;
	/* RFC 1350 6: the last ACK may be lost; keep the TIDs to answer a repeated last DATA. */
	vm->prev_port = vm->port;
	vm->prev_srv_port = vm->srv_port;
	vm->prev_block = block;
	vm->prev_probe = false;
	vm->has_prev = true;
	if (vm->state == STORM_ST_LOADER) {
		vm->t_loader = now;
		if (f->cfg.image[0]) {
			tftp_start(f, vm, STORM_ST_IMAGE, now);
			return;
		}
	}
	vm_done(f, vm, now);
}

/* A TFTP failure the server should hear about: ERROR to its TID, then the VM fails. */
static void tftp_abort(struct storm_fleet *f, struct storm_vm *vm, enum storm_fail why,
		       uint16_t code, const char *msg, uint64_t now)
{
	if (vm->locked)
		send_error(f, vm, vm->port, vm->srv_port, code, msg);
	vm_fail(f, vm, why, now);
}

/* The probe's TIDs stay known, so that a repeated OACK (or one from a second session that
 * a retransmitted RRQ opened) is answered and the server frees that session at once. */
static void probe_done(struct storm_vm *vm)
{
	vm->prev_port = vm->port;
	vm->prev_srv_port = vm->srv_port;
	vm->prev_block = 0;
	vm->prev_probe = true;
	vm->has_prev = true;
}

static bool parse_num(const char *s, size_t len, uint64_t *v)
{
	uint64_t x = 0;

	if (len == 0 || len > 19)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		x = x * 10 + (uint64_t)(s[i] - '0');
	}
	*v = x;
	return true;
}

struct oack_vals {
	bool has_blksize, has_window, has_tsize;
	uint64_t blksize, window, tsize;
};

/* RFC 2347: OACK = opcode, then NUL-terminated option name / value pairs. */
static bool parse_oack(const uint8_t *p, size_t n, struct oack_vals *o)
{
	size_t i = 2;

	memset(o, 0, sizeof(*o));
	while (i < n) {
		const char *name = (const char *)p + i, *val;
		size_t nl, vl;
		uint64_t v;

		nl = strnlen(name, n - i);
		if (nl == n - i)
			return false;
		if (nl == 0) /* trailing padding */
			break;
		i += nl + 1;
		if (i >= n)
			return false;
		val = (const char *)p + i;
		vl = strnlen(val, n - i);
		if (vl == n - i)
			return false;
		i += vl + 1;
		if (!parse_num(val, vl, &v))
			return false;
		if (nl == 7 && strncasecmp(name, "blksize", 7) == 0) {
			o->has_blksize = true;
			o->blksize = v;
		} else if (nl == 10 && strncasecmp(name, "windowsize", 10) == 0) {
			o->has_window = true;
			o->window = v;
		} else if (nl == 5 && strncasecmp(name, "tsize", 5) == 0) {
			o->has_tsize = true;
			o->tsize = v;
		}
	}
	return true;
}

static void rx_oack(struct storm_fleet *f, struct storm_vm *vm, const uint8_t *p, size_t n,
		    uint64_t now)
{
	const struct storm_file *file = vm_file(f, vm);
	struct oack_vals o;
	uint16_t want_blk, want_win;

	if (vm->oack) {
		/* The server did not get our ACK 0 (or is slow): say it again once. */
		f->c.tftp_dup_oack_rx++;
		if (vm->next_block == 1) {
			f->c.tftp_reack_tx++;
			send_ack(f, vm, 0);
		}
		return;
	}
	if (!parse_oack(p, n, &o)) {
		tftp_abort(f, vm, STORM_FAIL_BAD_OACK, TFTP_ERR_OPTION, "malformed OACK", now);
		return;
	}
	f->c.tftp_oack_rx++;
	if (o.has_tsize && file && f->cfg.verify != STORM_VERIFY_NONE && o.tsize != file->size) {
		tftp_abort(f, vm, STORM_FAIL_TSIZE, TFTP_ERR_OPTION, "tsize mismatch", now);
		return;
	}
	if (vm->state == STORM_ST_PROBE) {
		/* OVMF learns the size, then ends this transfer (RFC 2347: ERROR 8). */
		send_error(f, vm, vm->port, vm->srv_port, TFTP_ERR_OPTION, "size probe");
		probe_done(vm);
		tftp_start(f, vm, STORM_ST_LOADER, now);
		return;
	}
	want_blk = vm->kind == STORM_KIND_OVMF ? f->cfg.ovmf_blksize : f->cfg.ipxe_blksize;
	want_win = vm->kind == STORM_KIND_OVMF ? f->cfg.ovmf_window : 1;
	/* RFC 2348 / 7440: the server may lower a value, never raise it. */
	if ((o.has_blksize && (o.blksize < TFTP_BLKSIZE_MIN || o.blksize > want_blk)) ||
	    (o.has_window && (o.window < 1 || o.window > want_win))) {
		tftp_abort(f, vm, STORM_FAIL_BAD_OACK, TFTP_ERR_OPTION, "option refused", now);
		return;
	}
	vm->blksize = o.has_blksize ? (uint16_t)o.blksize : TFTP_BLKSIZE_DEFAULT;
	vm->window = o.has_window ? (uint16_t)o.window : 1;
	vm->oack = true;
	vm->tries = 0;
	/* RFC 2347: the client acknowledges the OACK with ACK 0. */
	send_ack(f, vm, 0);
	arm_us(f, vm, tftp_due(f, now));
}

static void rx_data(struct storm_fleet *f, struct storm_vm *vm, const uint8_t *p, size_t n,
		    uint64_t now)
{
	const struct storm_file *file = vm_file(f, vm);
	uint16_t block, want;
	const uint8_t *d = p + TFTP_HDR_LEN;
	size_t len = n - TFTP_HDR_LEN;

	if (vm->state == STORM_ST_PROBE) {
		/* A server without option support answers the probe with DATA 1. */
		send_error(f, vm, vm->port, vm->srv_port, TFTP_ERR_OPTION, "size probe");
		probe_done(vm);
		tftp_start(f, vm, STORM_ST_LOADER, now);
		return;
	}
	if (!vm->oack) {
		/* No OACK: the server ignored the options, RFC 1350 defaults (512, lock-step). */
		vm->oack = true;
		vm->blksize = TFTP_BLKSIZE_DEFAULT;
		vm->window = 1;
	}
	block = pkt_rd16(p + 2);
	want = (uint16_t)vm->next_block;
	if (block == want) {
		if (len > vm->blksize ||
		    (file && f->cfg.verify != STORM_VERIFY_NONE && vm->bytes + len > file->size)) {
			tftp_abort(f, vm, STORM_FAIL_SIZE, TFTP_ERR_UNDEF, "too much data", now);
			return;
		}
		if (do_cmp(f, file) && memcmp(file->data + vm->bytes, d, len) != 0) {
			tftp_abort(f, vm, STORM_FAIL_BYTES, TFTP_ERR_UNDEF, "data mismatch", now);
			return;
		}
		if (do_sha(f, file))
			EVP_DigestUpdate(vm->md, d, len);
		vm->bytes += len;
		vm->next_block++;
		vm->tries = 0;
		vm->reacked = false;
		f->c.tftp_data_rx++;
		f->c.tftp_data_bytes += len;
		/* RFC 1350 6: a block shorter than blksize ends the transfer. */
		if (len < vm->blksize) {
			send_ack(f, vm, block);
			tftp_finish(f, vm, block, now);
			return;
		}
		/* RFC 7440 4: one ACK per window of blocks. */
		if (++vm->in_window >= vm->window) {
			send_ack(f, vm, block);
			vm->in_window = 0;
		}
		arm_us(f, vm, tftp_due(f, now));
		return;
	}
	if ((uint16_t)(want - block) < 0x8000) {
		/* Behind: a block we have. Lock-step: our ACK was lost, say it again. Windowed:
		 * once per progress, so that a repeated window does not draw a burst of ACKs. */
		f->c.tftp_dup_data_rx++;
		if (vm->window == 1 || !vm->reacked) {
			f->c.tftp_reack_tx++;
			send_ack(f, vm, (uint16_t)(want - 1));
			vm->reacked = vm->window > 1;
			vm->in_window = 0;
		}
		return;
	}
	/* Ahead: a block was lost. RFC 7440 4: ACK the last in-order block, once. */
	f->c.tftp_gap_rx++;
	if (!vm->reacked) {
		f->c.tftp_reack_tx++;
		send_ack(f, vm, (uint16_t)(want - 1));
		vm->reacked = true;
		vm->in_window = 0;
	}
}

static void rx_tftp(struct storm_fleet *f, struct storm_vm *vm, const struct pkt_udp *u,
		    uint64_t now)
{
	const uint8_t *p = u->payload;
	size_t n = u->payload_len;
	int op = tftp_opcode(p, n);

	if (op < 0 || (op == TFTP_OP_DATA && n < TFTP_HDR_LEN)) {
		f->c.rx_malformed++;
		return;
	}
	if (!vm->locked) {
		if (op != TFTP_OP_DATA && op != TFTP_OP_OACK && op != TFTP_OP_ERROR) {
			f->c.tftp_stale_rx++;
			return;
		}
		/* RFC 1350 4: the first reply's source port is the server's TID. */
		vm->locked = true;
		vm->srv_port = u->src_port;
	} else if (u->src_port != vm->srv_port) {
		/* RFC 1350 4: another TID: ERROR 5 to its source, the transfer goes on. */
		f->c.tftp_foreign_tid++;
		if (op != TFTP_OP_ERROR)
			send_error(f, vm, vm->port, u->src_port, TFTP_ERR_UNKNOWN_TID, NULL);
		return;
	}
	switch (op) {
	case TFTP_OP_ERROR: {
		uint16_t code = 0;
		const char *msg;
		size_t ml;

		f->c.tftp_err_rx++;
		if (tftp_parse_error(p, n, &code, &msg, &ml) == 0)
			vm->err_code = code;
		vm_fail(f, vm, STORM_FAIL_TFTP_ERROR, now);
		return;
	}
	case TFTP_OP_OACK:
		rx_oack(f, vm, p, n, now);
		return;
	case TFTP_OP_DATA:
		rx_data(f, vm, p, n, now);
		return;
	default:
		f->c.tftp_stale_rx++;
	}
}

/* A frame to our TID of the VM's last finished transfer (or of its size probe). */
static void rx_prev(struct storm_fleet *f, struct storm_vm *vm, const struct pkt_udp *u)
{
	int op = tftp_opcode(u->payload, u->payload_len);
	bool same_tid = u->src_port == vm->prev_srv_port;
	uint8_t e[64];
	int n;

	if (same_tid && !vm->prev_probe && op == TFTP_OP_DATA &&
	    u->payload_len >= TFTP_HDR_LEN && pkt_rd16(u->payload + 2) == vm->prev_block) {
		/* RFC 1350 6: the last DATA again: our last ACK was lost. */
		f->c.tftp_dally_ack_tx++;
		send_ack_from(f, vm, vm->prev_port, vm->prev_srv_port, vm->prev_block);
		return;
	}
	f->c.tftp_stale_rx++;
	if (op < 0 || op == TFTP_OP_ERROR || op == TFTP_OP_ACK)
		return; /* never answer an ERROR (RFC 1350 7); an ACK is not a server's */
	/* The probe's OACK again (our ERROR 8 was lost): ERROR 8 again. Anything else, e.g.
	 * a second session opened by a retransmitted RRQ: RFC 1350 4, ERROR 5. */
	n = tftp_build_error(e, sizeof(e),
			     same_tid && vm->prev_probe ? TFTP_ERR_OPTION : TFTP_ERR_UNKNOWN_TID,
			     same_tid && vm->prev_probe ? "size probe" : NULL);
	if (n < 0)
		return;
	f->c.tftp_err_tx++;
	f->c.tftp_stale_err_tx++;
	tftp_send(f, vm, vm->prev_port, u->src_port, e, (size_t)n);
}

/* ---- --reflect ---- */

static void reflect_send(struct storm_fleet *f, struct storm_vm *vm)
{
	uint8_t *frame, *p;
	size_t cap, room, len = f->cfg.reflect_size - pkt_hdr_len(NULL);

	p = tx_begin(f, &frame, &cap, &room);
	if (!p)
		return;
	if (len > room)
		len = room;
	put_be32(p, vm->reflect_seq++);
	put_be32(p + 4, vm_id(f, vm));
	/* The rest of the payload is left as the buffer had it: its content is not checked. */
	f->c.reflect_tx++;
	vm->reflect_out++;
	tx_end(f, vm, frame, cap, mac_reflector, vm->ip, REFLECT_SRC_PORT, REFLECT_DST_IP,
	       STORM_REFLECT_PORT, len);
}

static void rx_reflect(struct storm_fleet *f, struct storm_vm *vm, const struct pkt_udp *u,
		       uint64_t now)
{
	if (u->payload_len < REFLECT_HDR ||
	    pkt_rd16(u->payload + 4) != (uint16_t)(vm_id(f, vm) >> 16) ||
	    pkt_rd16(u->payload + 6) != (uint16_t)vm_id(f, vm)) {
		f->c.rx_malformed++;
		return;
	}
	f->c.reflect_rx++;
	/* The same work per frame as a DATA block: the digest of the payload. */
	if (f->cfg.verify != STORM_VERIFY_NONE && f->cfg.verify != STORM_VERIFY_CMP)
		EVP_DigestUpdate(vm->md, u->payload, u->payload_len);
	if (vm->reflect_out)
		vm->reflect_out--;
	reflect_send(f, vm);
	arm_us(f, vm, tftp_due(f, now));
}

/* ---- receive ---- */

static void rx_arp(struct storm_fleet *f, const uint8_t *frame, size_t len, size_t l3)
{
	const uint8_t *a = frame + l3;
	uint8_t *out;
	size_t cap;
	uint32_t tpa;
	int64_t id;
	int n;

	/* RFC 826: Ethernet/IPv4 request; the target is one of our leased addresses. */
	if (len - l3 < 28 || pkt_rd16(a + 6) != 1) {
		f->c.rx_not_ours++;
		return;
	}
	tpa = ((uint32_t)a[24] << 24) | ((uint32_t)a[25] << 16) | ((uint32_t)a[26] << 8) | a[27];
	id = tpa ? ip_lookup(f, tpa) : -1;
	if (id < 0) {
		f->c.rx_not_ours++;
		return;
	}
	f->c.arp_req_rx++;
	out = f->io.tx_get(f->io.ctx, &cap);
	if (!out || cap < len || len > 2 * ETH_MIN_FRAME) {
		f->c.tx_nobuf++;
		return;
	}
	memcpy(out, frame, len);
	n = pkt_arp_reply(out, len, tpa, f->vm[id].mac);
	if (n < 0) {
		f->c.rx_malformed++;
		return;
	}
	if ((size_t)n < ETH_MIN_FRAME) {
		memset(out + n, 0, ETH_MIN_FRAME - (size_t)n);
		n = ETH_MIN_FRAME;
	}
	f->c.arp_reply_tx++;
	f->io.tx_put(f->io.ctx, (size_t)n);
}

void storm_fleet_rx(struct storm_fleet *f, const uint8_t *frame, size_t len, uint64_t now)
{
	struct pkt_udp u;
	struct storm_vm *vm;
	size_t l3;
	int64_t id;
	int rc = pkt_ethertype(frame, len, &l3);

	if (rc < 0) {
		f->c.rx_malformed++;
		return;
	}
	if (rc == PKT_ETHERTYPE_ARP) {
		rx_arp(f, frame, len, l3);
		return;
	}
	if (rc != PKT_ETHERTYPE_IPV4) {
		f->c.rx_not_ours++;
		return;
	}
	/* Accept a UDP checksum that does not verify, and count it: a kernel server's frames
	 * cross the veth with only the pseudo-header sum (tx offload). */
	rc = pkt_parse_udp(frame, len, false, &u);
	if (rc < 0) {
		if (rc == -SB_DROP_NOT_UDP)
			f->c.rx_not_ours++;
		else
			f->c.rx_malformed++;
		return;
	}
	if (u.csum_unverified)
		f->c.rx_csum_partial++;
	if (u.dst_port == SB_PORT_DHCP_CLIENT && u.src_port == SB_PORT_DHCP_SERVER) {
		rx_dhcp(f, &u, now);
		return;
	}
	id = storm_mac_to_vm(u.dst_mac, f->cfg.n_vms);
	if (id < 0)
		id = ip_lookup(f, u.dst_ip);
	if (id < 0) {
		f->c.rx_not_ours++;
		return;
	}
	vm = &f->vm[id];
	if (f->cfg.reflect) {
		if (u.dst_port == STORM_REFLECT_PORT && vm->state == STORM_ST_REFLECT)
			rx_reflect(f, vm, &u, now);
		else
			f->c.rx_not_ours++;
		return;
	}
	if (vm_in_tftp(vm) && u.dst_port == vm->port && u.src_ip == vm->tftp_ip) {
		rx_tftp(f, vm, &u, now);
		return;
	}
	if (vm->has_prev && u.dst_port == vm->prev_port && u.src_ip == vm->tftp_ip) {
		rx_prev(f, vm, &u);
		return;
	}
	f->c.tftp_stale_rx++;
}

/* ---- timers ---- */

struct fire_ctx {
	struct storm_fleet *f;
	uint64_t now;
};

static void vm_timer(void *ctx, uint32_t id)
{
	struct fire_ctx *fc = ctx;
	struct storm_fleet *f = fc->f;
	struct storm_vm *vm = &f->vm[id];
	uint64_t now = fc->now;

	switch (vm->state) {
	case STORM_ST_WAIT:
		if (f->cfg.reflect) {
			set_state(f, vm, STORM_ST_REFLECT);
			for (unsigned i = 0; i < f->cfg.reflect_window; i++)
				reflect_send(f, vm);
			arm_us(f, vm, tftp_due(f, now));
			return;
		}
		dhcp_discover(f, vm, now);
		return;
	case STORM_ST_SELECTING:
	case STORM_ST_REQUESTING:
		/* RFC 2131 4.1 / PXE 2.1: retransmit with exponential back-off, then give up. */
		if (++vm->tries >= f->cfg.dhcp_tries) {
			vm_fail(f, vm, STORM_FAIL_DHCP_TIMEOUT, now);
			return;
		}
		f->c.dhcp_retrans_tx++;
		dhcp_send(f, vm, vm->state == STORM_ST_SELECTING ? DHCP_DISCOVER : DHCP_REQUEST,
			  now);
		arm_us(f, vm,
		       now + storm_dhcp_backoff_us(vm->tries, rnd32(f), f->cfg.backoff_scale));
		return;
	case STORM_ST_PROBE:
	case STORM_ST_LOADER:
	case STORM_ST_IMAGE:
		/* RFC 1350 2: the sender of the last packet retransmits it on a timeout. */
		if (++vm->tries > f->cfg.tftp_retries) {
			vm_fail(f, vm, STORM_FAIL_TFTP_TIMEOUT, now);
			return;
		}
		if (!vm->locked) {
			f->c.tftp_rrq_retrans++;
			send_rrq(f, vm);
		} else {
			f->c.tftp_ack_retrans++;
			send_ack(f, vm, (uint16_t)(vm->next_block - 1));
			vm->in_window = 0;
		}
		arm_us(f, vm, tftp_due(f, now));
		return;
	case STORM_ST_REFLECT:
		/* Frames lost on the way: start the window again. */
		f->c.reflect_lost += vm->reflect_out;
		vm->reflect_out = 0;
		for (unsigned i = 0; i < f->cfg.reflect_window; i++)
			reflect_send(f, vm);
		arm_us(f, vm, tftp_due(f, now));
		return;
	default:
		return;
	}
}

unsigned storm_fleet_tick(struct storm_fleet *f, uint64_t now)
{
	struct fire_ctx fc = {f, now};

	return storm_wheel_expire(&f->wheel, now / 1000, vm_timer, &fc);
}

/* ---- life cycle ---- */

int storm_fleet_init(struct storm_fleet *f, const struct storm_cfg *cfg,
		     const struct storm_files *files, const struct storm_io *io, char *err,
		     size_t errlen)
{
	uint32_t tab = 64;
	double acc = 0;
	int rc;

	memset(f, 0, sizeof(*f));
	if (cfg->n_vms < 1 || cfg->n_vms > STORM_VMS_MAX) {
		snprintf(err, errlen, "--vms %u: from 1 to %u", cfg->n_vms, STORM_VMS_MAX);
		return -EINVAL;
	}
	if (cfg->image[0] && cfg->verify != STORM_VERIFY_NONE && !cfg->dhcp_only &&
	    storm_files_find(files, cfg->image, strlen(cfg->image)) < 0) {
		snprintf(err, errlen, "--image %s: no --file names it (nothing to check it by)",
			 cfg->image);
		return -EINVAL;
	}
	f->cfg = *cfg;
	f->files = files;
	f->io = *io;
	f->rng = cfg->seed ? cfg->seed : 0x9e3779b97f4a7c15ULL;
	f->sha256 = EVP_sha256();
	f->vm = calloc(cfg->n_vms, sizeof(*f->vm));
	while (tab < 4 * cfg->n_vms)
		tab <<= 1;
	f->ip_tab = calloc(tab, sizeof(*f->ip_tab));
	f->ip_mask = tab - 1;
	if (!f->vm || !f->ip_tab) {
		storm_fleet_free(f);
		snprintf(err, errlen, "out of memory for %u VMs", cfg->n_vms);
		return -ENOMEM;
	}
	rc = storm_wheel_init(&f->wheel, cfg->n_vms, WHEEL_SLOTS_LOG2, 0);
	if (rc < 0) {
		storm_fleet_free(f);
		snprintf(err, errlen, "out of memory for the timer wheel");
		return rc;
	}
	for (uint32_t i = 0; i < cfg->n_vms; i++) {
		struct storm_vm *vm = &f->vm[i];

		storm_vm_mac(i, vm->mac);
		/* Exactly floor(n * ratio) OVMF VMs, spread evenly among the others. */
		acc += cfg->ovmf_ratio;
		if (acc >= 1.0 - 1e-9) {
			acc -= 1.0;
			vm->kind = STORM_KIND_OVMF;
			f->n_ovmf++;
		} else {
			vm->kind = STORM_KIND_IPXE;
		}
		vm->state = STORM_ST_WAIT;
		vm->file = -1;
		vm->loader = -1;
		vm->md = EVP_MD_CTX_new();
		if (!vm->md) {
			storm_fleet_free(f);
			snprintf(err, errlen, "out of memory for the digests");
			return -ENOMEM;
		}
		if (cfg->reflect) {
			vm->ip = REFLECT_NET + i + 1;
			ip_insert(f, vm->ip, i);
			EVP_DigestInit_ex(vm->md, f->sha256, NULL);
		}
	}
	f->n_state[STORM_ST_WAIT] = cfg->n_vms;
	return 0;
}

void storm_fleet_free(struct storm_fleet *f)
{
	if (f->vm)
		for (uint32_t i = 0; i < f->cfg.n_vms; i++)
			EVP_MD_CTX_free(f->vm[i].md);
	free(f->vm);
	free(f->ip_tab);
	storm_wheel_free(&f->wheel);
	f->vm = NULL;
	f->ip_tab = NULL;
}

void storm_fleet_start(struct storm_fleet *f, uint64_t now)
{
	uint64_t ramp_us = (uint64_t)f->cfg.ramp_ms * 1000;

	for (uint32_t i = 0; i < f->cfg.n_vms; i++) {
		struct storm_vm *vm = &f->vm[i];

		vm->t_on = now + (ramp_us ? rnd32(f) % (ramp_us + 1) : 0);
		arm_us(f, vm, vm->t_on);
	}
}

bool storm_fleet_finished(const struct storm_fleet *f)
{
	return !f->cfg.reflect &&
	       f->n_state[STORM_ST_DONE] + f->n_state[STORM_ST_FAILED] == f->cfg.n_vms;
}

void storm_fleet_stop(struct storm_fleet *f, uint64_t now)
{
	for (uint32_t i = 0; i < f->cfg.n_vms; i++) {
		struct storm_vm *vm = &f->vm[i];

		if (vm->state == STORM_ST_DONE || vm->state == STORM_ST_FAILED ||
		    vm->state == STORM_ST_REFLECT)
			continue;
		f->n_fail_state[vm->state]++;
		vm_fail(f, vm, STORM_FAIL_RUN_TIMEOUT, now);
	}
}
