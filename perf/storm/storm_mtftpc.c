/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * storm_mtftpc.c - the VMs' multicast TFTP client (RFC 2090, --multicast), as iPXE's tftm://
 * and atftp speak it: the image RRQ carries "multicast"; the OACK's multicast = "addr,port,mc"
 * names the group and whether this VM is the master client (mc=1). DATA to the group (and
 * DATA unicast to our TID: the server's fallback for a master the group does not reach) fill a
 * bitmap of the blocks held; only the master ACKs, naming the block before its first hole, so
 * that a late joiner gets the start of the image once it is made master. Every block is
 * compared with the expected file at its offset when it arrives (in any order); the SHA-256
 * runs over the blocks held from the start, in order. A transfer that times out (iPXE's retry
 * timer) or gets an ERROR is fetched again by plain unicast, as "tftm://... || tftp://..."
 * does in an iPXE script.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "pkt.h"
#include "storm.h"
#include "storm_vm.h"
#include "tftp.h"

static inline bool bit_get(const uint64_t *b, uint32_t i)
{
	return (b[i >> 6] >> (i & 63)) & 1;
}

static inline void bit_set(uint64_t *b, uint32_t i)
{
	b[i >> 6] |= 1ull << (i & 63);
}

/* "a.b.c.d" (len bytes, not NUL-terminated) to host order. */
static bool parse_ip(const char *s, size_t len, uint32_t *ip)
{
	uint32_t v = 0, part = 0;
	unsigned dots = 0, digits = 0;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '.') {
			if (!digits || ++dots > 3)
				return false;
			v = v << 8 | part;
			part = 0;
			digits = 0;
		} else if (s[i] >= '0' && s[i] <= '9' && digits < 3) {
			part = part * 10 + (uint32_t)(s[i] - '0');
			digits++;
			if (part > 255)
				return false;
		} else {
			return false;
		}
	}
	if (dots != 3 || !digits)
		return false;
	*ip = v << 8 | part;
	return true;
}

bool storm_mc_parse(const char *val, size_t len, struct storm_mc_opt *o)
{
	const char *c1 = memchr(val, ',', len), *c2;
	size_t rest;
	uint32_t port = 0;

	memset(o, 0, sizeof(*o));
	if (!c1)
		return false;
	rest = len - (size_t)(c1 + 1 - val);
	c2 = memchr(c1 + 1, ',', rest);
	if (!c2)
		return false;
	/* RFC 2090: addr and port may be left out of an OACK that only changes mc. */
	if (c1 > val) {
		if (!parse_ip(val, (size_t)(c1 - val), &o->ip) || !pkt_is_multicast(o->ip))
			return false;
		o->has_addr = true;
	}
	if (c2 > c1 + 1) {
		for (const char *p = c1 + 1; p < c2; p++) {
			if (*p < '0' || *p > '9' || port > 65535)
				return false;
			port = port * 10 + (uint32_t)(*p - '0');
		}
		if (port == 0 || port > 65535)
			return false;
		o->port = (uint16_t)port;
		o->has_port = true;
	}
	if (len - (size_t)(c2 + 1 - val) != 1 || (c2[1] != '0' && c2[1] != '1'))
		return false;
	o->master = c2[1] == '1';
	o->has = true;
	return true;
}

/* ---- group membership ---- */

static int group_find(const struct storm_fleet *f, uint32_t ip, uint16_t port)
{
	for (unsigned i = 0; i < STORM_MGROUPS_MAX; i++)
		if (f->mg[i].ip == ip && f->mg[i].port == port)
			return (int)i;
	return -1;
}

void storm_mc_leave(struct storm_fleet *f, struct storm_vm *vm)
{
	struct storm_mgroup *g;

	if (!vm->mc_joined)
		return;
	g = &f->mg[vm->mg];
	if (vm->mc_prev_vm >= 0)
		f->vm[vm->mc_prev_vm].mc_next_vm = vm->mc_next_vm;
	else
		g->head = vm->mc_next_vm;
	if (vm->mc_next_vm >= 0)
		f->vm[vm->mc_next_vm].mc_prev_vm = vm->mc_prev_vm;
	vm->mc_prev_vm = vm->mc_next_vm = -1;
	vm->mc_joined = false;
	if (--g->members == 0)
		memset(g, 0, sizeof(*g));
}

static bool group_join(struct storm_fleet *f, struct storm_vm *vm, uint32_t ip, uint16_t port)
{
	int i = group_find(f, ip, port);
	struct storm_mgroup *g;
	int32_t id = (int32_t)storm_vm_id(f, vm);

	if (i < 0)
		i = group_find(f, 0, 0);
	if (i < 0)
		return false;
	g = &f->mg[i];
	if (g->members == 0) {
		g->ip = ip;
		g->port = port;
		g->head = -1;
	}
	vm->mg = (uint8_t)i;
	vm->mc_group = ip;
	vm->mc_gport = port;
	vm->mc_prev_vm = -1;
	vm->mc_next_vm = g->head;
	if (g->head >= 0)
		f->vm[g->head].mc_prev_vm = id;
	g->head = id;
	g->members++;
	vm->mc_joined = true;
	return true;
}

/* ---- transfer ---- */

void storm_mc_reset(struct storm_fleet *f, struct storm_vm *vm)
{
	storm_mc_leave(f, vm);
	vm->mc = vm->mc_want && !vm->mc_retried && vm->state == STORM_ST_IMAGE;
	vm->mc_master = false;
	vm->mc_have = 0;
	vm->mc_nblocks = 0;
	vm->mc_last = 0;
	if (vm->mc_bits)
		memset(vm->mc_bits, 0, (size_t)f->mc_words * sizeof(uint64_t));
}

/* The given-up multicast transfer is started again as plain unicast, once. */
static void fallback(struct storm_fleet *f, struct storm_vm *vm, uint64_t now)
{
	f->c.mc_unicast_retry++;
	if (vm->locked)
		storm_tftp_send_error(f, vm, TFTP_ERR_UNDEF, "multicast given up");
	vm->mc_retried = true;
	storm_tftp_start(f, vm, STORM_ST_IMAGE, now);
}

bool storm_mc_give_up(struct storm_fleet *f, struct storm_vm *vm, uint64_t now)
{
	if (!vm->mc)
		return false;
	fallback(f, vm, now);
	return true;
}

static void master_ack(struct storm_fleet *f, struct storm_vm *vm)
{
	f->c.mc_master_ack_tx++;
	storm_tftp_send_ack(f, vm, (uint16_t)(vm->next_block - 1));
}

void storm_mc_oack(struct storm_fleet *f, struct storm_vm *vm, const struct storm_mc_opt *o,
		   const struct storm_file *file, uint64_t now)
{
	if (!vm->mc_joined) {
		uint64_t nb;

		/* The first OACK: it must name the group. */
		if (!o->has_addr || !o->has_port) {
			storm_tftp_abort(f, vm, STORM_FAIL_BAD_OACK, TFTP_ERR_OPTION,
					 "multicast without a group", now);
			return;
		}
		nb = file ? file->size / vm->blksize + 1 : 0;
		if (!file || nb > (uint64_t)f->mc_words * 64) {
			storm_tftp_abort(f, vm, STORM_FAIL_BAD_OACK, TFTP_ERR_OPTION,
					 "blksize too small for multicast", now);
			return;
		}
		if (!group_join(f, vm, o->ip, o->port)) {
			/* More groups than the table holds: take the image unicast. */
			fallback(f, vm, now);
			return;
		}
		vm->mc_nblocks = (uint32_t)nb;
		f->c.mc_oack_rx++;
	} else if ((o->has_addr && o->ip != vm->mc_group) ||
		   (o->has_port && o->port != vm->mc_gport)) {
		storm_tftp_abort(f, vm, STORM_FAIL_BAD_OACK, TFTP_ERR_OPTION,
				 "multicast group changed", now);
		return;
	}
	vm->mc_master = o->master;
	if (o->master)
		f->c.mc_master_oack_rx++;
	else
		f->c.mc_listen_oack_rx++;
	vm->tries = 0;
	vm->in_window = 0;
	vm->reacked = false;
	/* RFC 2090: the master acknowledges the OACK with the block before its first hole
	 * (ACK 0 for a new client); a listener stays silent. */
	if (vm->mc_master)
		master_ack(f, vm);
	storm_arm_us(f, vm, storm_tftp_due(f, vm, now));
}

/* Wire block w (16 bits) as a block of the image, 0 if none. */
static uint32_t abs_block(const struct storm_vm *vm, uint16_t w)
{
	int64_t ref, a;

	if (vm->mc_nblocks < 65536)
		return w >= 1 && w <= vm->mc_nblocks ? w : 0;
	/* Larger images: the block nearest to where this VM is (a master: its first hole,
	 * which its ACK asked from; a listener: the last block it took). */
	ref = vm->mc_master ? (int64_t)vm->next_block : (int64_t)vm->mc_last;
	a = ref + (int16_t)(uint16_t)(w - (uint16_t)ref);
	return a >= 1 && a <= vm->mc_nblocks ? (uint32_t)a : 0;
}

static uint64_t block_off(const struct storm_vm *vm, uint32_t b)
{
	return (uint64_t)(b - 1) * vm->blksize;
}

static size_t block_len(const struct storm_vm *vm, const struct storm_file *file, uint32_t b)
{
	return b < vm->mc_nblocks ? vm->blksize : (size_t)(file->size - block_off(vm, b));
}

void storm_mc_data(struct storm_fleet *f, struct storm_vm *vm, uint16_t wire, const uint8_t *d,
		   size_t len, bool from_group, uint64_t now)
{
	const struct storm_file *file = &f->files->f[vm->file];
	bool verify = f->cfg.verify != STORM_VERIFY_NONE, first_hole;
	uint32_t b = abs_block(vm, wire);

	if (b == 0) {
		f->c.mc_bad_block++;
		return;
	}
	if (bit_get(vm->mc_bits, b - 1)) {
		f->c.mc_dup_rx++;
		/* A master whose ACK was lost: say it again (lock-step), or once per progress. */
		if (vm->mc_master && (vm->window == 1 || !vm->reacked)) {
			f->c.tftp_reack_tx++;
			master_ack(f, vm);
			vm->reacked = vm->window > 1;
			vm->in_window = 0;
		}
		return;
	}
	if (len != block_len(vm, file, b)) {
		storm_tftp_abort(f, vm, STORM_FAIL_SIZE, TFTP_ERR_UNDEF, "block of a wrong size",
				 now);
		return;
	}
	if (verify && file->data && memcmp(file->data + block_off(vm, b), d, len) != 0) {
		storm_tftp_abort(f, vm, STORM_FAIL_BYTES, TFTP_ERR_UNDEF, "data mismatch", now);
		return;
	}
	bit_set(vm->mc_bits, b - 1);
	vm->mc_have++;
	vm->mc_last = b;
	vm->bytes += len;
	vm->tries = 0;
	vm->reacked = false;
	if (from_group) {
		f->c.mc_group_data_rx++;
		f->c.mc_group_bytes += len;
	} else {
		f->c.mc_unicast_data_rx++;
		f->c.mc_unicast_bytes += len;
	}
	f->c.tftp_data_rx++;
	f->c.tftp_data_bytes += len;
	first_hole = b == vm->next_block;
	if (first_hole) {
		/* The digest runs over the blocks held from the start, in order: this one as it
		 * came, then those taken earlier out of order, each compared equal to the file's
		 * bytes when it came. */
		bool sha = verify && file->has_sha && f->cfg.verify != STORM_VERIFY_CMP;

		if (sha)
			EVP_DigestUpdate(vm->md, d, len);
		vm->next_block++;
		while (vm->next_block <= vm->mc_nblocks &&
		       bit_get(vm->mc_bits, (uint32_t)vm->next_block - 1)) {
			if (sha)
				EVP_DigestUpdate(vm->md,
						 file->data +
							 block_off(vm, (uint32_t)vm->next_block),
						 block_len(vm, file, (uint32_t)vm->next_block));
			vm->next_block++;
		}
	} else {
		f->c.mc_out_of_order++;
	}
	if (vm->mc_have == vm->mc_nblocks) {
		if (vm->mc_master) {
			f->c.mc_done_master++;
			master_ack(f, vm);
		} else {
			f->c.mc_done_listener++;
		}
		storm_tftp_finish(f, vm, (uint16_t)vm->mc_nblocks, now);
		return;
	}
	if (vm->mc_master) {
		/* RFC 7440 4 for the master: an ACK per window of blocks, or at once when a block
		 * beyond the first hole says one was lost. */
		if (!first_hole) {
			master_ack(f, vm);
			vm->reacked = true;
			vm->in_window = 0;
		} else if (++vm->in_window >= vm->window) {
			master_ack(f, vm);
			vm->in_window = 0;
		}
	}
	storm_arm_us(f, vm, storm_tftp_due(f, vm, now));
}

void storm_mc_rx_group(struct storm_fleet *f, const struct pkt_udp *u, size_t frame_len,
		       uint64_t now)
{
	uint8_t mac[6];
	int gi = group_find(f, u->dst_ip, u->dst_port);
	int32_t id;

	f->c.mc_group_wire_bytes += frame_len;
	pkt_multicast_mac(u->dst_ip, mac);
	if (gi < 0 || memcmp(mac, u->dst_mac, 6) != 0) {
		f->c.mc_group_foreign_rx++;
		return;
	}
	if (u->payload_len < TFTP_HDR_LEN || pkt_rd16(u->payload) != TFTP_OP_DATA) {
		f->c.rx_malformed++;
		return;
	}
	f->c.mc_group_frames_rx++;
	for (id = f->mg[gi].head; id >= 0;) {
		struct storm_vm *vm = &f->vm[id];

		/* The member may leave (done, failed, given up) in storm_mc_data. */
		id = vm->mc_next_vm;
		if (vm->state != STORM_ST_IMAGE || u->src_ip != vm->tftp_ip ||
		    u->src_port != vm->srv_port)
			continue;
		storm_mc_data(f, vm, pkt_rd16(u->payload + 2), u->payload + TFTP_HDR_LEN,
			      u->payload_len - TFTP_HDR_LEN, true, now);
		if (f->mg[gi].ip != u->dst_ip) /* the last member left: the slot was freed */
			break;
	}
}

bool storm_mc_timeout(struct storm_fleet *f, struct storm_vm *vm, uint64_t now)
{
	if (!vm->mc_joined)
		return false;
	if (vm->mc_master) {
		f->c.tftp_ack_retrans++;
		master_ack(f, vm);
		vm->in_window = 0;
	}
	/* A listener has nothing to say: it waits for the group, or to be made master. */
	storm_arm_us(f, vm, storm_tftp_due(f, vm, now));
	return true;
}
