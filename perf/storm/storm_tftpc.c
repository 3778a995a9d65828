/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * storm_tftpc.c - the VMs' TFTP client: RRQ with each firmware's options (RFC 2347, 2348,
 * 2349, 7440), OVMF's size probe, the server's TID (RFC 1350 4), lock-step and windowed
 * receive, retransmission on timeout, the last ACK repeated (RFC 1350 6), and every byte
 * checked against the expected file (byte compare and streaming SHA-256).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "pkt.h"
#include "storm.h"
#include "storm_vm.h"
#include "tftp.h"

#define TFTP_PORT_FIRST 49152 /* our TIDs: the IANA dynamic range */
#define TFTP_PORT_SPAN	16384
#define RRQ_MAX		512

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

/* EDK2 NetworkPkg/UefiPxeBcDxe: PXEBC_MTFTP_TIMEOUT 4 s, PXEBC_MTFTP_RETRIES 6.
 * iPXE core/retry.c: DEFAULT_MIN_TIMEOUT 1/4 s, doubled on each expiry, the transfer fails
 * once it would exceed DEFAULT_MAX_TIMEOUT (10 s). */
#define STORM_OVMF_TFTP_TIMEOUT_MS 4000
#define STORM_IPXE_TFTP_MIN_MS 250
#define STORM_IPXE_TFTP_MAX_MS 10000

uint32_t storm_tftp_timeout_ms(const struct storm_fleet *f, const struct storm_vm *vm)
{
	uint64_t ms;

	if (f->cfg.tftp_timeout_ms)
		return f->cfg.tftp_timeout_ms;
	if (vm->kind == STORM_KIND_OVMF)
		return STORM_OVMF_TFTP_TIMEOUT_MS;
	ms = (uint64_t)STORM_IPXE_TFTP_MIN_MS << (vm->tries < 16 ? vm->tries : 16);
	return ms > STORM_IPXE_TFTP_MAX_MS ? 0 : (uint32_t)ms;
}

uint64_t storm_tftp_due(const struct storm_fleet *f, const struct storm_vm *vm, uint64_t now)
{
	uint32_t ms = storm_tftp_timeout_ms(f, vm);

	return now + (uint64_t)(ms ? ms : STORM_IPXE_TFTP_MAX_MS) * 1000;
}

static void tftp_send(struct storm_fleet *f, struct storm_vm *vm, uint16_t sport, uint16_t dport,
		      const void *payload, size_t len)
{
	uint8_t *frame, *p;
	size_t cap, room;

	p = storm_tx_begin(f, &frame, &cap, &room);
	if (!p)
		return;
	if (len > room) {
		f->c.tx_nobuf++;
		return;
	}
	memcpy(p, payload, len);
	storm_tx_end(f, vm, frame, cap, vm->server_mac, vm->ip, sport, vm->tftp_ip, dport, len);
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

void storm_tftp_send_ack(struct storm_fleet *f, struct storm_vm *vm, uint16_t block)
{
	send_ack(f, vm, block);
}

static void send_error(struct storm_fleet *f, struct storm_vm *vm, uint16_t sport, uint16_t dport,
		       uint16_t code, const char *msg)
{
	uint8_t e[80];
	int n = tftp_build_error(e, sizeof(e), code, msg);

	if (n < 0)
		return;
	f->c.tftp_err_tx++;
	tftp_send(f, vm, sport, dport, e, (size_t)n);
}

void storm_tftp_send_error(struct storm_fleet *f, struct storm_vm *vm, uint16_t code,
			   const char *msg)
{
	send_error(f, vm, vm->port, vm->srv_port, code, msg);
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
		snprintf(num, sizeof(num), "%u",
			 vm->kind == STORM_KIND_OVMF ? f->cfg.ovmf_blksize : f->cfg.ipxe_blksize);
		ok = ok && put_str(r, &len, "blksize") && put_str(r, &len, num);
		if (vm->kind == STORM_KIND_OVMF && f->cfg.ovmf_window > 1) {
			snprintf(num, sizeof(num), "%u", f->cfg.ovmf_window);
			ok = ok && put_str(r, &len, "windowsize") && put_str(r, &len, num);
		}
	}
	ok = ok && put_str(r, &len, "tsize") && put_str(r, &len, "0");
	/* RFC 2090 3: the option's value is empty in the request. */
	if (vm->mc)
		ok = ok && put_str(r, &len, "multicast") && put_str(r, &len, "");
	if (!ok) {
		f->c.tx_nobuf++;
		return;
	}
	if (vm->mc)
		f->c.mc_rrq_tx++;
	f->c.tftp_rrq_tx++;
	tftp_send(f, vm, vm->port, SB_PORT_TFTP, r, len);
}

void storm_tftp_start(struct storm_fleet *f, struct storm_vm *vm, enum storm_state st, uint64_t now)
{
	uint16_t p;

	storm_set_state(f, vm, st);
	if (st == STORM_ST_IMAGE)
		vm->file = (int8_t)storm_files_find(f->files, f->cfg.image, strlen(f->cfg.image));
	else
		vm->file = vm->loader;
	/* A new TID per transfer (RFC 1350 4: "chosen at random"), not the last one. */
	do
		p = (uint16_t)(TFTP_PORT_FIRST + storm_rnd32(f) % TFTP_PORT_SPAN);
	while (p == vm->port || p == vm->prev_port);
	vm->port = p;
	vm->t_xfer = now;
	vm->t_progress = now;
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
	storm_mc_reset(f, vm);
	if (st != STORM_ST_PROBE && do_sha(f, vm_file(f, vm)))
		EVP_DigestInit_ex(vm->md, f->sha256, NULL);
	send_rrq(f, vm);
	storm_arm_us(f, vm, storm_tftp_due(f, vm, now));
}

/* The file arrived whole: check it, then the next file or done. */
void storm_tftp_finish(struct storm_fleet *f, struct storm_vm *vm, uint16_t block, uint64_t now)
{
	const struct storm_file *file = vm_file(f, vm);

	if (file && f->cfg.verify != STORM_VERIFY_NONE && vm->bytes != file->size) {
		storm_vm_fail(f, vm, STORM_FAIL_SIZE, now);
		return;
	}
	if (do_sha(f, file)) {
		uint8_t md[EVP_MAX_MD_SIZE];
		unsigned mdlen = 0;

		EVP_DigestFinal_ex(vm->md, md, &mdlen);
		if (mdlen != 32 || memcmp(md, file->sha256, 32) != 0) {
			storm_vm_fail(f, vm, STORM_FAIL_DIGEST, now);
			return;
		}
	}
	f->c.tftp_transfers++;
	/* RFC 1350 6: the last ACK may be lost; keep the TIDs to answer a repeated last DATA. */
	vm->prev_port = vm->port;
	vm->prev_srv_port = vm->srv_port;
	vm->prev_block = block;
	vm->prev_probe = false;
	vm->prev_mc = vm->mc_joined;
	vm->has_prev = true;
	storm_mc_leave(f, vm);
	if (vm->state == STORM_ST_LOADER) {
		vm->t_loader = now;
		if (f->cfg.image[0]) {
			storm_tftp_start(f, vm, STORM_ST_IMAGE, now);
			return;
		}
	}
	storm_vm_done(f, vm, now);
}

/* A TFTP failure the server should hear about: ERROR to its TID, then the VM fails. */
void storm_tftp_abort(struct storm_fleet *f, struct storm_vm *vm, enum storm_fail why,
		      uint16_t code, const char *msg, uint64_t now)
{
	if (vm->locked)
		send_error(f, vm, vm->port, vm->srv_port, code, msg);
	storm_vm_fail(f, vm, why, now);
}

/* The probe's TIDs stay known, so that a repeated OACK (or one from a second session that
 * a retransmitted RRQ opened) is answered and the server frees that session at once. */
static void probe_done(struct storm_vm *vm)
{
	vm->prev_port = vm->port;
	vm->prev_srv_port = vm->srv_port;
	vm->prev_block = 0;
	vm->prev_probe = true;
	vm->prev_mc = false;
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
	struct storm_mc_opt mc; /* RFC 2090 */
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
		if (nl == 9 && strncasecmp(name, "multicast", 9) == 0) {
			if (!storm_mc_parse(val, vl, &o->mc))
				return false;
			continue;
		}
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

	if (vm->oack && vm->mc_joined) {
		/* RFC 2090: a later OACK changes the VM's role (made master, or not any more). */
		if (!parse_oack(p, n, &o) || !o.mc.has) {
			f->c.tftp_dup_oack_rx++;
			return;
		}
		storm_mc_oack(f, vm, &o.mc, file, now);
		return;
	}
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
		storm_tftp_abort(f, vm, STORM_FAIL_BAD_OACK, TFTP_ERR_OPTION, "malformed OACK", now);
		return;
	}
	f->c.tftp_oack_rx++;
	if (o.has_tsize && file && f->cfg.verify != STORM_VERIFY_NONE && o.tsize != file->size) {
		storm_tftp_abort(f, vm, STORM_FAIL_TSIZE, TFTP_ERR_OPTION, "tsize mismatch", now);
		return;
	}
	if (vm->state == STORM_ST_PROBE) {
		/* OVMF learns the size, then ends this transfer (RFC 2347: ERROR 8). */
		send_error(f, vm, vm->port, vm->srv_port, TFTP_ERR_OPTION, "size probe");
		probe_done(vm);
		storm_tftp_start(f, vm, STORM_ST_LOADER, now);
		return;
	}
	want_blk = vm->kind == STORM_KIND_OVMF ? f->cfg.ovmf_blksize : f->cfg.ipxe_blksize;
	want_win = vm->kind == STORM_KIND_OVMF ? f->cfg.ovmf_window : 1;
	/* RFC 2348 / 7440: the server may lower a value, never raise it. */
	if ((o.has_blksize && (o.blksize < TFTP_BLKSIZE_MIN || o.blksize > want_blk)) ||
	    (o.has_window && (o.window < 1 || o.window > want_win))) {
		storm_tftp_abort(f, vm, STORM_FAIL_BAD_OACK, TFTP_ERR_OPTION, "option refused", now);
		return;
	}
	vm->blksize = o.has_blksize ? (uint16_t)o.blksize : TFTP_BLKSIZE_DEFAULT;
	vm->window = o.has_window ? (uint16_t)o.window : 1;
	vm->oack = true;
	vm->tries = 0;
	if (vm->mc && o.mc.has) {
		storm_mc_oack(f, vm, &o.mc, file, now);
		return;
	}
	if (vm->mc)
		f->c.mc_plain_oack_rx++; /* the server serves it unicast */
	/* RFC 2347: the client acknowledges the OACK with ACK 0. */
	send_ack(f, vm, 0);
	storm_arm_us(f, vm, storm_tftp_due(f, vm, now));
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
		storm_tftp_start(f, vm, STORM_ST_LOADER, now);
		return;
	}
	if (!vm->oack) {
		/* No OACK: the server ignored the options, RFC 1350 defaults (512, lock-step). */
		vm->oack = true;
		vm->blksize = TFTP_BLKSIZE_DEFAULT;
		vm->window = 1;
	}
	block = pkt_rd16(p + 2);
	if (vm->mc_joined) { /* unicast DATA of a multicast transfer: the server's fallback */
		storm_mc_data(f, vm, block, d, len, false, now);
		return;
	}
	want = (uint16_t)vm->next_block;
	if (block == want) {
		if (len > vm->blksize ||
		    (file && f->cfg.verify != STORM_VERIFY_NONE && vm->bytes + len > file->size)) {
			storm_tftp_abort(f, vm, STORM_FAIL_SIZE, TFTP_ERR_UNDEF, "too much data", now);
			return;
		}
		if (do_cmp(f, file) && memcmp(file->data + vm->bytes, d, len) != 0) {
			storm_tftp_abort(f, vm, STORM_FAIL_BYTES, TFTP_ERR_UNDEF, "data mismatch", now);
			return;
		}
		if (do_sha(f, file))
			EVP_DigestUpdate(vm->md, d, len);
		vm->bytes += len;
		vm->next_block++;
		vm->t_progress = now;
		vm->tries = 0;
		vm->reacked = false;
		f->c.tftp_data_rx++;
		f->c.tftp_data_bytes += len;
		/* RFC 1350 6: a block shorter than blksize ends the transfer. */
		if (len < vm->blksize) {
			send_ack(f, vm, block);
			storm_tftp_finish(f, vm, block, now);
			return;
		}
		/* RFC 7440 4: one ACK per window of blocks. */
		if (++vm->in_window >= vm->window) {
			send_ack(f, vm, block);
			vm->in_window = 0;
		}
		storm_arm_us(f, vm, storm_tftp_due(f, vm, now));
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

void storm_tftp_rx(struct storm_fleet *f, struct storm_vm *vm, const struct pkt_udp *u,
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
		if (storm_mc_give_up(f, vm, now)) /* tftm:// failed: tftp:// */
			return;
		storm_vm_fail(f, vm, STORM_FAIL_TFTP_ERROR, now);
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
void storm_tftp_rx_prev(struct storm_fleet *f, struct storm_vm *vm, const struct pkt_udp *u)
{
	int op = tftp_opcode(u->payload, u->payload_len);
	bool same_tid = u->src_port == vm->prev_srv_port;
	uint8_t e[64];
	int n;

	if (same_tid && !vm->prev_probe && op == TFTP_OP_DATA && u->payload_len >= TFTP_HDR_LEN &&
	    pkt_rd16(u->payload + 2) == vm->prev_block) {
		/* RFC 1350 6: the last DATA again: our last ACK was lost. */
		f->c.tftp_dally_ack_tx++;
		send_ack_from(f, vm, vm->prev_port, vm->prev_srv_port, vm->prev_block);
		return;
	}
	if (same_tid && vm->prev_mc && op == TFTP_OP_OACK) {
		/* RFC 2090: a listener done (it held every block) made master: it ACKs the
		 * last block, and the server moves on to the next client. */
		f->c.mc_done_ack_tx++;
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

void storm_tftp_timeout(struct storm_fleet *f, struct storm_vm *vm, uint64_t now)
{
	/* RFC 1350 2: the sender of the last packet retransmits it on a timeout. */
	++vm->tries;
	if ((f->cfg.tftp_timeout_ms || vm->kind == STORM_KIND_OVMF) ? vm->tries > f->cfg.tftp_retries
								     : !storm_tftp_timeout_ms(f, vm)) {
		if (storm_mc_give_up(f, vm, now)) /* tftm:// failed: tftp:// */
			return;
		/* Never a reply from the server (a paced server held the RRQ that long), or
		 * a transfer that stopped: two different failures. */
		storm_vm_fail(f, vm, vm->locked ? STORM_FAIL_TFTP_TIMEOUT : STORM_FAIL_RRQ_UNANSWERED,
			      now);
		return;
	}
	if (storm_mc_timeout(f, vm, now))
		return;
	if (!vm->locked) {
		f->c.tftp_rrq_retrans++;
		send_rrq(f, vm);
	} else {
		f->c.tftp_ack_retrans++;
		send_ack(f, vm, (uint16_t)(vm->next_block - 1));
		vm->in_window = 0;
	}
	storm_arm_us(f, vm, storm_tftp_due(f, vm, now));
}
