/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * storm_fleet.c - the fleet of VMs: life cycle, receive dispatch (by chaddr, MAC, address),
 * timers, ARP for the leased addresses (RFC 826), the --reflect mode, and the helpers the
 * DHCP client (storm_dhcpc.c) and the TFTP client (storm_tftpc.c) share (storm_vm.h).
 * Frames are built and parsed by the protocol core (pkt.h, dhcp.h, tftp.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "pkt.h"
#include "sb_drop.h"
#include "sb_ports.h"
#include "storm.h"
#include "storm_vm.h"
#include "tftp.h"

#define WHEEL_SLOTS_LOG2 12 /* 4.1 s of 1 ms slots; longer timers wait for their turn */
#define REFLECT_SRC_PORT 40000
#define REFLECT_HDR	 8 /* sequence number, VM index */

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
	c->tftp_timeout_ms = 0; /* as the firmware: storm_tftp_timeout_ms() */
	c->tftp_retries = 6;	/* EDK2 PXEBC_MTFTP_RETRIES */
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

/* --random-macs: v -> v * golden (odd: a bijection mod 2^32), then xor of the high half into
 * the low half (its own inverse); distinct, spread over all four bytes, reversible. */
#define STORM_MAC_MUL 0x9e3779b1u
#define STORM_MAC_INV 0x0e8b2f51u /* STORM_MAC_MUL * STORM_MAC_INV == 1 mod 2^32 */

void storm_vm_mac(uint32_t i, bool spread, uint8_t mac[6])
{
	uint32_t v = i + 1;

	if (spread) {
		v *= STORM_MAC_MUL;
		v ^= v >> 16;
	}
	mac[0] = STORM_MAC_OUI0;
	mac[1] = STORM_MAC_OUI1;
	mac[2] = (uint8_t)(v >> 24);
	mac[3] = (uint8_t)(v >> 16);
	mac[4] = (uint8_t)(v >> 8);
	mac[5] = (uint8_t)v;
}

int64_t storm_mac_to_vm(const uint8_t mac[6], uint32_t n_vms, bool spread)
{
	uint32_t v;

	if (mac[0] != STORM_MAC_OUI0 || mac[1] != STORM_MAC_OUI1)
		return -1;
	v = ((uint32_t)mac[2] << 24) | ((uint32_t)mac[3] << 16) | ((uint32_t)mac[4] << 8) | mac[5];
	if (spread) {
		v ^= v >> 16;
		v *= STORM_MAC_INV;
	}
	if (v == 0 || v > n_vms)
		return -1;
	return (int64_t)v - 1;
}

/* xorshift64* (Vigna): no state but the fleet's, reproducible from --seed. */
uint32_t storm_rnd32(struct storm_fleet *f)
{
	uint64_t x = f->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	f->rng = x;
	return (uint32_t)((x * 0x2545F4914F6CDD1DULL) >> 32);
}

void storm_arm_us(struct storm_fleet *f, struct storm_vm *vm, uint64_t due_us)
{
	storm_wheel_arm(&f->wheel, storm_vm_id(f, vm), (due_us + 999) / 1000);
}

void storm_set_state(struct storm_fleet *f, struct storm_vm *vm, enum storm_state st)
{
	f->n_state[vm->state]--;
	vm->state = (uint8_t)st;
	f->n_state[st]++;
}

/* ---- transmit ---- */

/* A frame buffer; returns where the UDP payload goes and its room, or NULL. */
uint8_t *storm_tx_begin(struct storm_fleet *f, uint8_t **frame, size_t *cap, size_t *room)
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

void storm_tx_end(struct storm_fleet *f, const struct storm_vm *vm, uint8_t *frame, size_t cap,
		  const uint8_t dst_mac[6], uint32_t src_ip, uint16_t sport, uint32_t dst_ip,
		  uint16_t dport, size_t payload_len)
{
	struct pkt_dest d = {
		.dst_ip = dst_ip, .dst_port = dport, .src_ip = src_ip, .src_port = sport};
	int n;

	memcpy(d.dst_mac, dst_mac, 6);
	n = pkt_build_udp(frame, cap, NULL, vm->mac, &d, payload_len);
	if (n < 0) {
		f->c.tx_nobuf++;
		return;
	}
	f->io.tx_put(f->io.ctx, (size_t)n);
}

void storm_vm_fail(struct storm_fleet *f, struct storm_vm *vm, enum storm_fail why, uint64_t now)
{
	vm->fail = (uint8_t)why;
	vm->fail_state = vm->state;
	/* The first failures, each on one line: what the VM had reached, for a capture or the
	 * server's log (a storm's failures are rarely alike; more would flood stderr). */
	if (f->n_fail_logged < STORM_FAIL_LOG_MAX && why != STORM_FAIL_RUN_TIMEOUT) {
		f->n_fail_logged++;
		fprintf(stderr, "stormboot-storm: vm %u (%s, %u.%u.%u.%u) failed in %s: %s",
			storm_vm_id(f, vm), vm->kind == STORM_KIND_OVMF ? "ovmf" : "ipxe",
			vm->ip >> 24, (vm->ip >> 16) & 255, (vm->ip >> 8) & 255, vm->ip & 255,
			storm_state_name(vm->state), storm_fail_name(why));
		if (storm_vm_in_tftp(vm))
			fprintf(stderr,
				"; TID %u -> %u%s, block %u, window %u, %u tries, transfer started "
				"at %.3f s, last DATA in order at %.3f s, failed at %.3f s, last "
				"ERROR %u",
				vm->port, vm->srv_port, vm->locked ? "" : " (no reply yet)",
				vm->next_block - 1, vm->window, vm->tries, vm->t_xfer / 1e6,
				vm->t_progress / 1e6, now / 1e6, vm->err_code);
		else
			fprintf(stderr, "; %u tries, powered on at %.3f s, failed at %.3f s",
				vm->tries, vm->t_on / 1e6, now / 1e6);
		fputc('\n', stderr);
	}
	vm->t_done = now;
	if (why != STORM_FAIL_RUN_TIMEOUT && now > f->t_last_end)
		f->t_last_end = now;
	f->n_fail[why]++;
	storm_mc_leave(f, vm);
	if (why == STORM_FAIL_RRQ_UNANSWERED)
		f->n_unanswered_state[vm->state]++;
	storm_wheel_cancel(&f->wheel, storm_vm_id(f, vm));
	storm_set_state(f, vm, STORM_ST_FAILED);
}

/* --loop: a VM done starts again (a new DORA with --dhcp-only, else its last transfer). */
static void loop_again(struct storm_fleet *f, struct storm_vm *vm, uint64_t now)
{
	f->c.loops++;
	if (f->cfg.dhcp_only)
		storm_dhcp_discover(f, vm, now);
	else
		storm_tftp_start(f, vm, f->cfg.image[0] ? STORM_ST_IMAGE : STORM_ST_LOADER, now);
}

void storm_vm_done(struct storm_fleet *f, struct storm_vm *vm, uint64_t now)
{
	vm->t_done = now;
	if (now > f->t_last_done)
		f->t_last_done = now;
	if (now > f->t_last_end)
		f->t_last_end = now;
	storm_wheel_cancel(&f->wheel, storm_vm_id(f, vm));
	storm_set_state(f, vm, STORM_ST_DONE);
	if (f->cfg.loop) {
		if (f->cfg.loop_gap_us)
			storm_arm_us(f, vm, now + f->cfg.loop_gap_us); /* vm_timer: loop_again */
		else
			loop_again(f, vm, now);
	}
}

void storm_ip_insert(struct storm_fleet *f, uint32_t ip, uint32_t id)
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

static void reflect_send(struct storm_fleet *f, struct storm_vm *vm)
{
	uint8_t *frame, *p;
	size_t cap, room, len = f->cfg.reflect_size - pkt_hdr_len(NULL);

	p = storm_tx_begin(f, &frame, &cap, &room);
	if (!p)
		return;
	if (len > room)
		len = room;
	storm_put_be32(p, vm->reflect_seq++);
	storm_put_be32(p + 4, storm_vm_id(f, vm));
	/* The rest of the payload is left as the buffer had it: its content is not checked. */
	f->c.reflect_tx++;
	vm->reflect_out++;
	storm_tx_end(f, vm, frame, cap, mac_reflector, vm->ip, REFLECT_SRC_PORT, REFLECT_DST_IP,
		     STORM_REFLECT_PORT, len);
}

static void rx_reflect(struct storm_fleet *f, struct storm_vm *vm, const struct pkt_udp *u,
		       uint64_t now)
{
	if (u->payload_len < REFLECT_HDR ||
	    pkt_rd16(u->payload + 4) != (uint16_t)(storm_vm_id(f, vm) >> 16) ||
	    pkt_rd16(u->payload + 6) != (uint16_t)storm_vm_id(f, vm)) {
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
	storm_arm_us(f, vm, storm_tftp_due(f, vm, now));
}

void storm_arp_request(struct storm_fleet *f, struct storm_vm *vm)
{
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	uint8_t *o;
	size_t cap;

	o = f->io.tx_get(f->io.ctx, &cap);
	if (!o || cap < ETH_MIN_FRAME) {
		f->c.tx_nobuf++;
		return;
	}
	memset(o, 0, ETH_MIN_FRAME);
	memcpy(o, bcast, 6);
	memcpy(o + 6, vm->mac, 6);
	pkt_wr16(o + 12, PKT_ETHERTYPE_ARP);
	pkt_wr16(o + 14, 1);	  /* hardware: Ethernet */
	pkt_wr16(o + 16, 0x0800); /* protocol: IPv4 */
	o[18] = 6;
	o[19] = 4;
	pkt_wr16(o + 20, 1); /* request */
	memcpy(o + 22, vm->mac, 6);
	storm_put_be32(o + 28, vm->ip);
	storm_put_be32(o + 38, vm->tftp_ip); /* target hardware address: zeros */
	f->c.arp_request_tx++;
	f->io.tx_put(f->io.ctx, ETH_MIN_FRAME);
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

	/* RFC 826: Ethernet/IPv4; the target is one of our leased addresses. */
	if (len - l3 < 28 || (pkt_rd16(a + 6) != 1 && pkt_rd16(a + 6) != 2)) {
		f->c.rx_not_ours++;
		return;
	}
	tpa = ((uint32_t)a[24] << 24) | ((uint32_t)a[25] << 16) | ((uint32_t)a[26] << 8) | a[27];
	id = tpa ? ip_lookup(f, tpa) : -1;
	if (id < 0) {
		f->c.rx_not_ours++;
		return;
	}
	if (pkt_rd16(a + 6) == 2) { /* a reply to --arp's request */
		f->c.arp_reply_rx++;
		if (memcmp(a + 8, f->vm[id].server_mac, 6) == 0)
			f->c.arp_server_mac_ok++;
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
		storm_dhcp_rx(f, &u, now);
		return;
	}
	if (pkt_is_multicast(u.dst_ip)) { /* RFC 2090 DATA to a group (--multicast) */
		storm_mc_rx_group(f, &u, len, now);
		return;
	}
	id = storm_mac_to_vm(u.dst_mac, f->cfg.n_vms, f->cfg.random_macs);
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
	if (storm_vm_in_tftp(vm) && u.dst_port == vm->port && u.src_ip == vm->tftp_ip) {
		storm_tftp_rx(f, vm, &u, now);
		return;
	}
	if (vm->has_prev && u.dst_port == vm->prev_port && u.src_ip == vm->tftp_ip) {
		storm_tftp_rx_prev(f, vm, &u);
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
			storm_set_state(f, vm, STORM_ST_REFLECT);
			for (unsigned i = 0; i < f->cfg.reflect_window; i++)
				reflect_send(f, vm);
			storm_arm_us(f, vm, storm_tftp_due(f, vm, now));
			return;
		}
		storm_dhcp_discover(f, vm, now);
		return;
	case STORM_ST_SELECTING:
	case STORM_ST_REQUESTING:
		storm_dhcp_timeout(f, vm, now);
		return;
	case STORM_ST_DONE:
		if (f->cfg.loop) /* the end of --loop-gap-ms */
			loop_again(f, vm, now);
		return;
	case STORM_ST_PROBE:
	case STORM_ST_LOADER:
	case STORM_ST_IMAGE:
		storm_tftp_timeout(f, vm, now);
		return;
	case STORM_ST_REFLECT:
		/* Frames lost on the way: start the window again. */
		f->c.reflect_lost += vm->reflect_out;
		vm->reflect_out = 0;
		for (unsigned i = 0; i < f->cfg.reflect_window; i++)
			reflect_send(f, vm);
		storm_arm_us(f, vm, storm_tftp_due(f, vm, now));
		return;
	default:
		return;
	}
}

unsigned storm_fleet_tick(struct storm_fleet *f, uint64_t now, unsigned budget)
{
	struct fire_ctx fc = {f, now};

	return storm_wheel_expire(&f->wheel, now / 1000, vm_timer, &fc, budget);
}

/* ---- life cycle ---- */

/* --multicast: which VMs ask by multicast (spread evenly, as the kinds), and their bitmaps
 * of held blocks, sized for blocks of at least 512 bytes (RFC 1350's). */
static int mc_init(struct storm_fleet *f, char *err, size_t errlen)
{
	const struct storm_cfg *cfg = &f->cfg;
	const struct storm_file *file;
	double acc = 0;
	uint32_t k = 0;
	int fi;

	for (uint32_t i = 0; i < cfg->n_vms; i++)
		f->vm[i].mc_prev_vm = f->vm[i].mc_next_vm = -1;
	if (cfg->mcast_ratio <= 0)
		return 0;
	fi = cfg->image[0] ? storm_files_find(f->files, cfg->image, strlen(cfg->image)) : -1;
	if (fi < 0 || cfg->dhcp_only || cfg->reflect) {
		storm_fleet_free(f);
		snprintf(err, errlen, "--multicast: needs --image and a --file naming it");
		return -EINVAL;
	}
	file = &f->files->f[fi];
	if (!file->data && cfg->verify != STORM_VERIFY_NONE) {
		/* A late joiner takes blocks out of order: each is compared at its offset. */
		storm_fleet_free(f);
		snprintf(err, errlen,
			 "--multicast: --file %s needs the content (NAME=PATH, not sha256:...): "
			 "blocks taken out of order are compared with it",
			 file->name);
		return -EINVAL;
	}
	f->mc_words = (uint32_t)((file->size / TFTP_BLKSIZE_DEFAULT + 1 + 63) / 64);
	for (uint32_t i = 0; i < cfg->n_vms; i++) {
		acc += cfg->mcast_ratio;
		if (acc >= 1.0 - 1e-9) {
			acc -= 1.0;
			f->vm[i].mc_want = true;
			f->n_mc++;
		}
	}
	f->mc_bitmap = calloc((size_t)f->n_mc * f->mc_words, sizeof(uint64_t));
	if (!f->mc_bitmap) {
		storm_fleet_free(f);
		snprintf(err, errlen, "out of memory for %u multicast bitmaps", f->n_mc);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < cfg->n_vms; i++)
		if (f->vm[i].mc_want)
			f->vm[i].mc_bits = f->mc_bitmap + (size_t)(k++) * f->mc_words;
	return 0;
}

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

		storm_vm_mac(i, f->cfg.random_macs, vm->mac);
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
			storm_ip_insert(f, vm->ip, i);
			EVP_DigestInit_ex(vm->md, f->sha256, NULL);
		}
	}
	f->n_state[STORM_ST_WAIT] = cfg->n_vms;
	return mc_init(f, err, errlen);
}

void storm_fleet_free(struct storm_fleet *f)
{
	if (f->vm)
		for (uint32_t i = 0; i < f->cfg.n_vms; i++)
			EVP_MD_CTX_free(f->vm[i].md);
	free(f->vm);
	free(f->ip_tab);
	free(f->mc_bitmap);
	f->mc_bitmap = NULL;
	storm_wheel_free(&f->wheel);
	f->vm = NULL;
	f->ip_tab = NULL;
}

void storm_fleet_start(struct storm_fleet *f, uint64_t now)
{
	uint64_t ramp_us = (uint64_t)f->cfg.ramp_ms * 1000;

	for (uint32_t i = 0; i < f->cfg.n_vms; i++) {
		struct storm_vm *vm = &f->vm[i];

		vm->t_on = now + (ramp_us ? storm_rnd32(f) % (ramp_us + 1) : 0);
		storm_arm_us(f, vm, vm->t_on);
	}
}

bool storm_fleet_finished(const struct storm_fleet *f)
{
	/* --loop: VMs done wait to start again; only --timeout ends the run (or all failed). */
	if (f->cfg.loop)
		return f->n_state[STORM_ST_FAILED] == f->cfg.n_vms;
	return !f->cfg.reflect &&
	       f->n_state[STORM_ST_DONE] + f->n_state[STORM_ST_FAILED] == f->cfg.n_vms;
}

void storm_fleet_stop(struct storm_fleet *f, uint64_t now)
{
	for (uint32_t i = 0; i < f->cfg.n_vms; i++) {
		struct storm_vm *vm = &f->vm[i];

		/* --loop: the run's end stops a VM that was going round, not a failure. */
		if (f->cfg.loop && vm->state != STORM_ST_FAILED && vm->state != STORM_ST_WAIT &&
		    (f->c.loops || vm->state == STORM_ST_DONE)) {
			storm_wheel_cancel(&f->wheel, i);
			if (vm->state != STORM_ST_DONE)
				storm_set_state(f, vm, STORM_ST_DONE);
			continue;
		}

		if (vm->state == STORM_ST_DONE || vm->state == STORM_ST_FAILED ||
		    vm->state == STORM_ST_REFLECT)
			continue;
		f->n_fail_state[vm->state]++;
		storm_vm_fail(f, vm, STORM_FAIL_RUN_TIMEOUT, now);
	}
}
