/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * storm_test.c - the generator's pure parts: RFC 2131 back-off, the timer wheel, MACs, the
 * per-VM DHCP and TFTP state machines against canned server frames (built with the
 * protocol core), ARP, truncated frames, options, percentiles.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "dhcp.h"
#include "pkt.h"
#include "storm.h"
#include "storm_files.h"
#include "storm_opts.h"
#include "storm_report.h"
#include "storm_vm.h"
#include "tftp.h"

#define CAP_FRAMES 64
#define FRAME_MAX  2048
#define SRV_IP	   0xc6120001u /* 198.18.0.1 */
#define VM_IP	   0xc6120064u /* 198.18.0.100 */

static const uint8_t srv_mac[6] = {0x02, 0x5b, 0, 0, 0, 1};

/* ---- a capturing storm_io ---- */

struct cap {
	uint8_t buf[CAP_FRAMES][FRAME_MAX];
	size_t len[CAP_FRAMES];
	unsigned n;
	unsigned refuse; /* tx_get returns NULL while > 0 */
};

static uint8_t *cap_get(void *ctx, size_t *cap)
{
	struct cap *c = ctx;

	if (c->refuse) {
		c->refuse--;
		return NULL;
	}
	assert_true(c->n < CAP_FRAMES);
	*cap = FRAME_MAX;
	return c->buf[c->n];
}

static void cap_put(void *ctx, size_t len)
{
	struct cap *c = ctx;

	c->len[c->n++] = len;
}

struct rig {
	struct cap cap;
	struct storm_files files;
	struct storm_fleet f;
	uint8_t loader[3000];
	uint8_t image[1468 * 4];
	uint64_t now;
};

static double rig_mcast; /* --multicast of the next rig_new */

static struct rig *rig_new(double ovmf_ratio, uint32_t n_vms, bool with_image,
			   enum storm_verify verify)
{
	struct rig *r = calloc(1, sizeof(*r));
	struct storm_cfg cfg;
	struct storm_io io;
	char err[256];
	unsigned mdlen;

	assert_non_null(r);
	for (size_t i = 0; i < sizeof(r->loader); i++)
		r->loader[i] = (uint8_t)(i * 7 + 1);
	for (size_t i = 0; i < sizeof(r->image); i++)
		r->image[i] = (uint8_t)(i * 13 + 5);
	strcpy(r->files.f[0].name, "loader.efi");
	r->files.f[0].size = sizeof(r->loader);
	r->files.f[0].data = r->loader;
	r->files.f[0].has_sha = true;
	EVP_Digest(r->loader, sizeof(r->loader), r->files.f[0].sha256, &mdlen, EVP_sha256(), NULL);
	strcpy(r->files.f[1].name, "image.bin");
	r->files.f[1].size = sizeof(r->image);
	r->files.f[1].data = r->image;
	r->files.f[1].has_sha = true;
	EVP_Digest(r->image, sizeof(r->image), r->files.f[1].sha256, &mdlen, EVP_sha256(), NULL);
	r->files.n = 2;

	storm_cfg_defaults(&cfg);
	cfg.n_vms = n_vms;
	cfg.ovmf_ratio = ovmf_ratio;
	cfg.backoff_scale = 0.01;
	cfg.tftp_timeout_ms = 100;
	cfg.tftp_retries = 2;
	cfg.verify = verify;
	cfg.mcast_ratio = rig_mcast;
	if (with_image)
		strcpy(cfg.image, "image.bin");
	io = (struct storm_io){.ctx = &r->cap, .tx_get = cap_get, .tx_put = cap_put};
	assert_int_equal(storm_fleet_init(&r->f, &cfg, &r->files, &io, err, sizeof(err)), 0);
	return r;
}

static void rig_free(struct rig *r)
{
	storm_fleet_free(&r->f);
	free(r);
}

/* Every frame the generator sends has valid IPv4 and UDP checksums (verify = true). */
static struct pkt_udp sent(struct rig *r, unsigned i)
{
	struct pkt_udp u;

	assert_true(i < r->cap.n);
	assert_int_equal(pkt_parse_udp(r->cap.buf[i], r->cap.len[i], true, &u), 0);
	assert_false(u.csum_unverified);
	return u;
}

static void clear(struct rig *r)
{
	r->cap.n = 0;
}

static void feed(struct rig *r, const uint8_t *frame, size_t len)
{
	storm_fleet_rx(&r->f, frame, len, r->now);
}

static void tick(struct rig *r, uint64_t now)
{
	r->now = now;
	storm_fleet_tick(&r->f, now, 1000000);
}

/* A server frame: UDP from the server to the VM. */
static size_t srv_frame(uint8_t *out, const uint8_t dst_mac[6], uint32_t dst_ip, uint16_t sport,
			uint16_t dport, const void *payload, size_t len)
{
	struct pkt_dest d = {
		.dst_ip = dst_ip, .dst_port = dport, .src_ip = SRV_IP, .src_port = sport};
	int n;

	memcpy(d.dst_mac, dst_mac, 6);
	memcpy(out + pkt_hdr_len(NULL), payload, len);
	n = pkt_build_udp(out, FRAME_MAX, NULL, srv_mac, &d, len);
	assert_true(n > 0);
	return (size_t)n;
}

/* OFFER / ACK to the request in sent frame i; bootfile in option 67 (NULL: none). */
static size_t dhcp_reply(struct rig *r, unsigned i, uint8_t type, const char *bootfile,
			 uint8_t *out)
{
	struct pkt_udp u = sent(r, i);
	struct dhcp_msg req;
	struct dhcp_builder b;
	struct dhcp_reply rep = {
		.type = type, .yiaddr = VM_IP, .siaddr = SRV_IP, .server_id = SRV_IP};
	uint8_t msg[600];
	int n;

	assert_int_equal(dhcp_parse(u.payload, u.payload_len, &req), 0);
	assert_int_equal(dhcp_build_reply(&b, msg, sizeof(msg), &req, &rep), 0);
	dhcp_opt_put_u32(&b, DHCP_OPT_LEASE_TIME, 600);
	if (bootfile)
		dhcp_opt_put_str(&b, DHCP_OPT_BOOTFILE, bootfile);
	n = dhcp_build_finish(&b, &req);
	assert_true(n > 0);
	return srv_frame(
		out,
		(req.flags & DHCP_FLAG_BROADCAST) ? (const uint8_t *)"\xff\xff\xff\xff\xff\xff"
						  : req.chaddr,
		(req.flags & DHCP_FLAG_BROADCAST) ? 0xffffffffu : VM_IP, 67, 68, msg, (size_t)n);
}

static const uint8_t *optv(const struct dhcp_msg *m, uint8_t code, uint8_t *len)
{
	size_t i = DHCP_OPT_OFF;

	while (i + 2 <= m->len && m->buf[i] != 255) {
		if (m->buf[i] == 0) {
			i++;
			continue;
		}
		if (m->buf[i] == code) {
			*len = m->buf[i + 1];
			return m->buf + i + 2;
		}
		i += 2 + m->buf[i + 1];
	}
	return NULL;
}

/* Does the RRQ in sent frame i carry exactly these NUL-separated strings after the opcode? */
static void assert_rrq(struct rig *r, unsigned i, const char *want, size_t want_len)
{
	struct pkt_udp u = sent(r, i);

	assert_int_equal(u.dst_port, 69);
	assert_int_equal(pkt_rd16(u.payload), TFTP_OP_RRQ);
	assert_int_equal(u.payload_len - 2, want_len);
	assert_memory_equal(u.payload + 2, want, want_len);
}

static void assert_ack(struct rig *r, unsigned i, uint16_t dport, uint16_t block)
{
	struct pkt_udp u = sent(r, i);

	assert_int_equal(u.dst_port, dport);
	assert_int_equal(u.payload_len, 4);
	assert_int_equal(pkt_rd16(u.payload), TFTP_OP_ACK);
	assert_int_equal(pkt_rd16(u.payload + 2), block);
}

static void assert_error(struct rig *r, unsigned i, uint16_t dport, uint16_t code)
{
	struct pkt_udp u = sent(r, i);

	assert_int_equal(u.dst_port, dport);
	assert_int_equal(pkt_rd16(u.payload), TFTP_OP_ERROR);
	assert_int_equal(pkt_rd16(u.payload + 2), code);
}

static size_t oack(uint8_t *out, const struct storm_vm *vm, uint16_t sport, const char *opts,
		   size_t len)
{
	uint8_t p[256];

	pkt_wr16(p, TFTP_OP_OACK);
	memcpy(p + 2, opts, len);
	return srv_frame(out, vm->mac, vm->ip, sport, vm->port, p, len + 2);
}

#define RRQ_IS(r, i, lit)	  assert_rrq(r, i, lit, sizeof(lit))
#define OACK(out, vm, sport, lit) oack(out, vm, sport, lit, sizeof(lit))

static size_t data(uint8_t *out, const struct storm_vm *vm, uint16_t sport, uint16_t dport,
		   uint16_t block, const uint8_t *d, size_t len)
{
	uint8_t p[1600];

	pkt_wr16(p, TFTP_OP_DATA);
	pkt_wr16(p + 2, block);
	if (len) /* an empty final block: d may be NULL */
		memcpy(p + 4, d, len);
	return srv_frame(out, vm->mac, vm->ip, sport, dport, p, len + 4);
}

/* DISCOVER -> OFFER -> REQUEST -> ACK; returns with the VM bound and its first RRQ sent. */
static void dora(struct rig *r, const char *bootfile)
{
	uint8_t fr[FRAME_MAX];
	size_t n;

	storm_fleet_start(&r->f, 0);
	tick(r, 1000);
	assert_int_equal(r->cap.n, 1);
	n = dhcp_reply(r, 0, DHCP_OFFER, bootfile, fr);
	clear(r);
	feed(r, fr, n);
	assert_int_equal(r->cap.n, 1);
	n = dhcp_reply(r, 0, DHCP_ACK, bootfile, fr);
	clear(r);
	feed(r, fr, n);
	assert_int_equal(r->f.c.dhcp_ack_rx, 1);
	assert_int_equal(r->f.vm[0].ip, VM_IP);
}

/* ---- tests ---- */

static void test_backoff(void **state)
{
	static const double base[] = {4, 8, 16, 32, 64, 64, 64};

	(void)state;
	for (unsigned a = 0; a < 7; a++) {
		/* RFC 2131 4.1: base +- 1 s, uniform */
		assert_int_equal(storm_dhcp_backoff_us(a, 0, 1.0), (uint64_t)((base[a] - 1) * 1e6));
		assert_int_equal(storm_dhcp_backoff_us(a, UINT32_MAX, 1.0),
				 (uint64_t)((base[a] + 1) * 1e6));
		uint64_t mid = storm_dhcp_backoff_us(a, 1u << 31, 1.0);
		assert_true(mid > base[a] * 1e6 - 1000 && mid < base[a] * 1e6 + 1000);
	}
	/* Scaled for lab runs: 40 ms +- 10 ms, 80 ms +- 10 ms. */
	assert_int_equal(storm_dhcp_backoff_us(0, 0, 0.01), 30000);
	assert_int_equal(storm_dhcp_backoff_us(1, UINT32_MAX, 0.01), 90000);
	/* Never below a millisecond. */
	assert_int_equal(storm_dhcp_backoff_us(0, 0, 0.0001), 1000);
}

struct fired {
	uint32_t ids[16];
	unsigned n;
	struct storm_wheel *w;
	int rearm; /* re-arm id 0 once, 10 ms later */
};

static void on_fire(void *ctx, uint32_t id)
{
	struct fired *f = ctx;

	f->ids[f->n++] = id;
	if (f->rearm && id == 0) {
		f->rearm = 0;
		storm_wheel_arm(f->w, 0, f->w->now_ms + 10);
	}
}

static unsigned storm_wheel_expire_all(struct storm_wheel *w, uint64_t now_ms,
				       void (*fire)(void *ctx, uint32_t id), void *ctx)
{
	return storm_wheel_expire(w, now_ms, fire, ctx, UINT32_MAX);
}

static void test_wheel_budget(void **state)
{
	/* 10 entries due at once, a budget of 4: 4, 4, 2, none lost, none twice. */
	struct storm_wheel w;
	struct fired f = {.w = NULL};
	uint32_t seen = 0;

	(void)state;
	assert_int_equal(storm_wheel_init(&w, 10, 4, 0), 0);
	for (uint32_t i = 0; i < 10; i++)
		storm_wheel_arm(&w, i, 3);
	storm_wheel_arm(&w, 9, 4); /* one a slot later */
	assert_int_equal(storm_wheel_expire(&w, 5, on_fire, &f, 4), 4);
	assert_int_equal(storm_wheel_expire(&w, 5, on_fire, &f, 4), 4);
	assert_int_equal(storm_wheel_expire(&w, 5, on_fire, &f, 4), 2);
	assert_int_equal(storm_wheel_expire(&w, 5, on_fire, &f, 4), 0);
	assert_int_equal(f.n, 10);
	for (unsigned i = 0; i < f.n; i++)
		seen |= 1u << f.ids[i];
	assert_int_equal(seen, 0x3ff);
	assert_int_equal(w.n_armed, 0);
	storm_wheel_free(&w);
}

static void test_wheel(void **state)
{
	struct storm_wheel w;
	struct fired f = {.w = &w};

	(void)state;
	assert_int_equal(storm_wheel_init(&w, 4, 4, 0), 0); /* 16 slots: 16 ms per turn */
	storm_wheel_arm(&w, 0, 5);
	storm_wheel_arm(&w, 1, 2);
	storm_wheel_arm(&w, 2, 50); /* three turns ahead, same slot as 2 */
	storm_wheel_arm(&w, 3, 7);
	storm_wheel_cancel(&w, 3);
	assert_int_equal(w.n_armed, 3);
	assert_int_equal(storm_wheel_expire_all(&w, 1, on_fire, &f), 0);
	assert_int_equal(storm_wheel_expire_all(&w, 2, on_fire, &f), 1);
	assert_int_equal(f.ids[0], 1);
	f.rearm = 1;
	assert_int_equal(storm_wheel_expire_all(&w, 34, on_fire, &f), 2); /* 0 at 5, again at 15 */
	assert_int_equal(f.ids[1], 0);
	assert_int_equal(f.ids[2], 0);
	assert_true(storm_wheel_armed(&w, 2));
	assert_int_equal(storm_wheel_expire_all(&w, 49, on_fire, &f), 0);
	assert_int_equal(storm_wheel_expire_all(&w, 50, on_fire, &f), 1);
	assert_int_equal(f.ids[3], 2);
	/* A due time already walked fires at the next walk; a long pause fires everything. */
	storm_wheel_arm(&w, 1, 10);
	storm_wheel_arm(&w, 3, 1000);
	assert_int_equal(storm_wheel_expire_all(&w, 51, on_fire, &f), 1);
	assert_int_equal(f.ids[4], 1);
	assert_int_equal(storm_wheel_expire_all(&w, 100000, on_fire, &f), 1);
	assert_int_equal(f.ids[5], 3);
	assert_int_equal(w.n_armed, 0);
	storm_wheel_free(&w);
}

static int mac_cmp(const void *a, const void *b)
{
	return memcmp(a, b, 6);
}

static void test_mac(void **state)
{
	uint8_t m[6];

	(void)state;
	storm_vm_mac(0, false, m);
	assert_memory_equal(m, "\x02\x57\x00\x00\x00\x01", 6);
	storm_vm_mac(9999, false, m);
	assert_memory_equal(m, "\x02\x57\x00\x00\x27\x10", 6);
	assert_int_equal(storm_mac_to_vm(m, 10000, false), 9999);
	assert_int_equal(storm_mac_to_vm(m, 9999, false), -1);
	assert_int_equal(storm_mac_to_vm((const uint8_t *)"\x02\x57\x00\x00\x00\x00", 10, false), -1);
	assert_int_equal(storm_mac_to_vm(srv_mac, 10, false), -1);
	/* --random-macs: every VM of 10,000 has its own MAC, found again; none in sequence. */
	{
		static uint8_t seen[10000][6];
		unsigned in_seq = 0;

		for (uint32_t i = 0; i < 10000; i++) {
			storm_vm_mac(i, true, seen[i]);
			assert_int_equal(storm_mac_to_vm(seen[i], 10000, true), i);
			if (i && seen[i][5] == (uint8_t)(seen[i - 1][5] + 1))
				in_seq++;
		}
		assert_true(in_seq < 100);
		qsort(seen, 10000, 6, mac_cmp);
		for (unsigned i = 1; i < 10000; i++)
			assert_memory_not_equal(seen[i], seen[i - 1], 6);
		assert_int_equal(storm_mac_to_vm((const uint8_t *)"\x02\x57\x00\x00\x00\x00", 10, true),
				 -1);
	}
}

static void test_ratio(void **state)
{
	struct rig *r;

	(void)state;
	r = rig_new(0.5, 10, false, STORM_VERIFY_AUTO);
	assert_int_equal(r->f.n_ovmf, 5);
	rig_free(r);
	r = rig_new(0.3, 10, false, STORM_VERIFY_AUTO);
	assert_int_equal(r->f.n_ovmf, 3);
	rig_free(r);
	r = rig_new(1.0, 7, false, STORM_VERIFY_AUTO);
	assert_int_equal(r->f.n_ovmf, 7);
	rig_free(r);
}

static void test_ovmf_boot(void **state)
{
	struct rig *r = rig_new(1.0, 1, true, STORM_VERIFY_AUTO);
	struct storm_vm *vm = &r->f.vm[0];
	struct dhcp_msg m;
	struct pkt_udp u;
	uint8_t fr[FRAME_MAX], len;
	const uint8_t *v;
	uint16_t p1, p2, p3;
	size_t n;

	(void)state;
	storm_fleet_start(&r->f, 0);
	tick(r, 1000);
	/* DISCOVER: broadcast, from 0.0.0.0:68, OVMF's options. */
	assert_int_equal(r->cap.n, 1);
	u = sent(r, 0);
	assert_memory_equal(u.dst_mac, "\xff\xff\xff\xff\xff\xff", 6);
	assert_memory_equal(u.src_mac, "\x02\x57\x00\x00\x00\x01", 6);
	assert_int_equal(u.src_ip, 0);
	assert_int_equal(u.dst_ip, 0xffffffffu);
	assert_int_equal(u.src_port, 68);
	assert_int_equal(u.dst_port, 67);
	assert_int_equal(dhcp_parse(u.payload, u.payload_len, &m), 0);
	assert_int_equal(m.type, DHCP_DISCOVER);
	assert_int_equal(m.flags, 0);
	assert_int_equal(m.client_arch.len, 2);
	assert_memory_equal(m.client_arch.data, "\x00\x07", 2);
	assert_int_equal(m.vendor_class.len, 32);
	assert_memory_equal(m.vendor_class.data, "PXEClient:Arch:00007:UNDI:003016", 32);
	assert_int_equal(m.user_class.len, 0);
	assert_int_equal(m.client_uuid.len, 17);
	assert_int_equal(m.max_msg_size, 1472);
	assert_int_equal(r->f.n_state[STORM_ST_SELECTING], 1);

	/* OFFER -> REQUEST with 50 and 54, same xid. */
	n = dhcp_reply(r, 0, DHCP_OFFER, "loader.efi", fr);
	clear(r);
	feed(r, fr, n);
	assert_int_equal(r->cap.n, 1);
	u = sent(r, 0);
	assert_int_equal(dhcp_parse(u.payload, u.payload_len, &m), 0);
	assert_int_equal(m.type, DHCP_REQUEST);
	assert_int_equal(m.requested_ip, VM_IP);
	assert_int_equal(m.server_id, SRV_IP);
	assert_int_equal(m.xid, vm->xid);
	v = optv(&m, DHCP_OPT_CLIENT_ARCH, &len);
	assert_non_null(v);
	/* A second OFFER is theirs, ignored. */
	feed(r, fr, n);
	assert_int_equal(r->cap.n, 1);
	assert_int_equal(r->f.c.dhcp_dup_rx, 1);

	/* ACK -> bound; OVMF's size probe: RRQ with tsize only. */
	n = dhcp_reply(r, 0, DHCP_ACK, "loader.efi", fr);
	clear(r);
	feed(r, fr, n);
	assert_int_equal(r->f.c.dhcp_ack_rx, 1);
	assert_int_equal(vm->state, STORM_ST_PROBE);
	assert_int_equal(r->cap.n, 1);
	u = sent(r, 0);
	assert_int_equal(u.src_ip, VM_IP);
	assert_int_equal(u.dst_ip, SRV_IP);
	assert_memory_equal(u.dst_mac, srv_mac, 6);
	p1 = u.src_port;
	assert_true(p1 >= 49152);
	RRQ_IS(r, 0,
	       "loader.efi\0octet\0tsize\0"
	       "0");

	/* OACK tsize -> ERROR 8 to that TID, then the real RRQ from a new port. */
	clear(r);
	n = OACK(fr, vm, 61000,
		 "tsize\0"
		 "3000");
	feed(r, fr, n);
	assert_int_equal(r->cap.n, 2);
	assert_error(r, 0, 61000, TFTP_ERR_OPTION);
	assert_int_equal(sent(r, 0).src_port, p1);
	RRQ_IS(r, 1,
	       "loader.efi\0octet\0blksize\0"
	       "1468\0windowsize\0"
	       "4\0tsize\0"
	       "0");
	p2 = sent(r, 1).src_port;
	assert_true(p2 != p1);
	assert_int_equal(vm->state, STORM_ST_LOADER);
	{
		/* The probe's OACK again (our ERROR 8 was lost): ERROR 8 again; an OACK from a
		 * second session (a retransmitted RRQ opened it): ERROR 5. Both from p1. */
		static const char o[] = "\0\x06tsize\0"
					"3000";
		clear(r);
		n = srv_frame(fr, vm->mac, vm->ip, 61000, p1, o, sizeof(o));
		feed(r, fr, n);
		assert_int_equal(r->cap.n, 1);
		assert_error(r, 0, 61000, TFTP_ERR_OPTION);
		assert_int_equal(sent(r, 0).src_port, p1);
		n = srv_frame(fr, vm->mac, vm->ip, 61050, p1, o, sizeof(o));
		feed(r, fr, n);
		assert_int_equal(r->cap.n, 2);
		assert_error(r, 1, 61050, TFTP_ERR_UNKNOWN_TID);
		assert_int_equal(r->f.c.tftp_stale_err_tx, 2);
		assert_int_equal(vm->state, STORM_ST_LOADER);
	}

	/* OACK blksize 1468 windowsize 4 -> ACK 0; 1468 + 1468 + 64: ACK only the last. */
	clear(r);
	n = OACK(fr, vm, 61001,
		 "blksize\0"
		 "1468\0windowsize\0"
		 "4\0tsize\0"
		 "3000");
	feed(r, fr, n);
	assert_int_equal(r->cap.n, 1);
	assert_ack(r, 0, 61001, 0);
	assert_int_equal(sent(r, 0).src_port, p2);
	clear(r);
	n = data(fr, vm, 61001, p2, 1, r->loader, 1468);
	feed(r, fr, n);
	n = data(fr, vm, 61001, p2, 2, r->loader + 1468, 1468);
	feed(r, fr, n);
	assert_int_equal(r->cap.n, 0);
	/* A frame from another TID: ERROR 5 to it, the transfer goes on. */
	n = data(fr, vm, 61099, p2, 3, r->loader + 2936, 64);
	feed(r, fr, n);
	assert_int_equal(r->cap.n, 1);
	assert_error(r, 0, 61099, TFTP_ERR_UNKNOWN_TID);
	assert_int_equal(r->f.c.tftp_foreign_tid, 1);
	clear(r);
	n = data(fr, vm, 61001, p2, 3, r->loader + 2936, 64);
	feed(r, fr, n);
	/* Last block: ACK 3, then the image's RRQ from a third port. */
	assert_int_equal(r->cap.n, 2);
	assert_ack(r, 0, 61001, 3);
	assert_int_equal(vm->state, STORM_ST_IMAGE);
	RRQ_IS(r, 1,
	       "image.bin\0octet\0blksize\0"
	       "1468\0windowsize\0"
	       "4\0tsize\0"
	       "0");
	p3 = sent(r, 1).src_port;
	assert_true(p3 != p2);
	assert_int_equal(r->f.c.tftp_transfers, 1);

	/* The loader's last DATA again (our ACK was lost): answered from the old TIDs. */
	clear(r);
	n = data(fr, vm, 61001, p2, 3, r->loader + 2936, 64);
	feed(r, fr, n);
	assert_int_equal(r->cap.n, 1);
	assert_ack(r, 0, 61001, 3);
	assert_int_equal(sent(r, 0).src_port, p2);
	assert_int_equal(r->f.c.tftp_dally_ack_tx, 1);

	/* The image: 4 full blocks (one window) and an empty last block. */
	clear(r);
	n = OACK(fr, vm, 61002,
		 "blksize\0"
		 "1468\0windowsize\0"
		 "4");
	feed(r, fr, n);
	assert_ack(r, 0, 61002, 0);
	clear(r);
	for (uint16_t b = 1; b <= 4; b++) {
		n = data(fr, vm, 61002, p3, b, r->image + (b - 1) * 1468, 1468);
		feed(r, fr, n);
	}
	assert_int_equal(r->cap.n, 1);
	assert_ack(r, 0, 61002, 4);
	clear(r);
	n = data(fr, vm, 61002, p3, 5, NULL, 0);
	feed(r, fr, n);
	assert_int_equal(r->cap.n, 1);
	assert_ack(r, 0, 61002, 5);
	assert_int_equal(vm->state, STORM_ST_DONE);
	assert_int_equal(r->f.n_state[STORM_ST_DONE], 1);
	assert_true(storm_fleet_finished(&r->f));
	assert_int_equal(r->f.c.tftp_transfers, 2);
	assert_int_equal(r->f.c.tftp_data_bytes, 3000 + 4 * 1468);
	assert_int_equal(r->f.c.tftp_err_tx, 4); /* probe's ERROR 8 (twice), two ERROR 5 */
	rig_free(r);
}

static void test_ipxe_lockstep(void **state)
{
	struct rig *r = rig_new(0.0, 1, false, STORM_VERIFY_AUTO);
	struct storm_vm *vm = &r->f.vm[0];
	struct dhcp_msg m;
	struct pkt_udp u;
	uint8_t fr[FRAME_MAX];
	size_t n;
	uint16_t p;

	(void)state;
	storm_fleet_start(&r->f, 0);
	tick(r, 1000);
	u = sent(r, 0);
	assert_int_equal(dhcp_parse(u.payload, u.payload_len, &m), 0);
	assert_int_equal(m.flags, DHCP_FLAG_BROADCAST);
	assert_int_equal(m.user_class.len, 4);
	assert_memory_equal(m.user_class.data, "iPXE", 4);
	assert_memory_equal(m.client_arch.data, "\x00\x00", 2);
	assert_memory_equal(m.vendor_class.data, "PXEClient", 9);
	assert_true(dhcp_has_opt(&m, DHCP_OPT_IPXE_ENCAP));
	/* Broadcast OFFER / ACK (the flag was set); bootfile in the file field only. */
	n = dhcp_reply(r, 0, DHCP_OFFER, NULL, fr);
	clear(r);
	feed(r, fr, n);
	{
		struct pkt_udp q = sent(r, 0);
		struct dhcp_msg req;
		struct dhcp_builder b;
		struct dhcp_reply rep = {.type = DHCP_ACK,
					 .yiaddr = VM_IP,
					 .siaddr = SRV_IP,
					 .server_id = SRV_IP,
					 .file = "loader.efi"};
		uint8_t msg[600];
		int k;

		assert_int_equal(dhcp_parse(q.payload, q.payload_len, &req), 0);
		assert_int_equal(dhcp_build_reply(&b, msg, sizeof(msg), &req, &rep), 0);
		k = dhcp_build_finish(&b, &req);
		n = srv_frame(fr, (const uint8_t *)"\xff\xff\xff\xff\xff\xff", 0xffffffffu, 67, 68,
			      msg, (size_t)k);
	}
	clear(r);
	feed(r, fr, n);
	/* No probe: RRQ blksize 1432 tsize 0, no windowsize. */
	assert_int_equal(vm->state, STORM_ST_LOADER);
	RRQ_IS(r, 0,
	       "loader.efi\0octet\0blksize\0"
	       "1432\0tsize\0"
	       "0");
	p = vm->port;
	clear(r);
	n = OACK(fr, vm, 62000,
		 "blksize\0"
		 "1432\0tsize\0"
		 "3000");
	feed(r, fr, n);
	assert_ack(r, 0, 62000, 0);
	clear(r);
	n = data(fr, vm, 62000, p, 1, r->loader, 1432);
	feed(r, fr, n);
	assert_ack(r, 0, 62000, 1);
	/* The same DATA again: the server missed our ACK; say it again. */
	feed(r, fr, n);
	assert_ack(r, 1, 62000, 1);
	assert_int_equal(r->f.c.tftp_dup_data_rx, 1);
	/* DATA 3 before 2: a gap; ACK 1 again (once). */
	n = data(fr, vm, 62000, p, 3, r->loader + 2864, 136);
	feed(r, fr, n);
	feed(r, fr, n);
	assert_int_equal(r->cap.n, 3);
	assert_ack(r, 2, 62000, 1);
	assert_int_equal(r->f.c.tftp_gap_rx, 2);
	n = data(fr, vm, 62000, p, 2, r->loader + 1432, 1432);
	feed(r, fr, n);
	assert_ack(r, 3, 62000, 2);
	n = data(fr, vm, 62000, p, 3, r->loader + 2864, 136);
	feed(r, fr, n);
	assert_ack(r, 4, 62000, 3);
	assert_int_equal(vm->state, STORM_ST_DONE);
	rig_free(r);
}

static void test_dhcp_timeout(void **state)
{
	struct rig *r = rig_new(0.0, 1, false, STORM_VERIFY_AUTO);
	uint64_t t;

	(void)state;
	storm_fleet_start(&r->f, 0);
	/* Back-off 40, 80, 160, 320 ms (+-10 ms): four DISCOVERs, then the VM gives up. */
	for (t = 1000; t < 700000 && r->f.vm[0].state != STORM_ST_FAILED; t += 1000)
		tick(r, t);
	assert_int_equal(r->f.vm[0].state, STORM_ST_FAILED);
	assert_int_equal(r->f.vm[0].fail, STORM_FAIL_DHCP_TIMEOUT);
	assert_int_equal(r->f.c.dhcp_discover_tx, 4);
	assert_int_equal(r->f.c.dhcp_retrans_tx, 3);
	/* 40 + 80 + 160 + 320 = 600 ms, +-40 ms of jitter */
	assert_true(t >= 560000 && t <= 642000);
	assert_int_equal(r->f.n_fail[STORM_FAIL_DHCP_TIMEOUT], 1);
	rig_free(r);
}

static void test_tftp_timeouts(void **state)
{
	struct rig *r = rig_new(0.0, 1, false, STORM_VERIFY_AUTO);
	struct storm_vm *vm = &r->f.vm[0];
	uint8_t fr[FRAME_MAX];
	size_t n;

	(void)state;
	dora(r, "loader.efi");
	assert_int_equal(r->cap.n, 1); /* RRQ */
	/* No answer: the RRQ again after 100 ms. */
	clear(r);
	tick(r, 102000);
	assert_int_equal(r->cap.n, 1);
	assert_int_equal(pkt_rd16(sent(r, 0).payload), TFTP_OP_RRQ);
	assert_int_equal(r->f.c.tftp_rrq_retrans, 1);
	/* OACK, ACK 0, DATA 1, then silence: ACK 1 again on each timeout, then give up. */
	n = OACK(fr, vm, 62000,
		 "blksize\0"
		 "1432");
	feed(r, fr, n);
	n = data(fr, vm, 62000, vm->port, 1, r->loader, 1432);
	feed(r, fr, n);
	clear(r);
	tick(r, 203000);
	assert_ack(r, 0, 62000, 1);
	tick(r, 304000);
	assert_ack(r, 1, 62000, 1);
	assert_int_equal(r->f.c.tftp_ack_retrans, 2);
	tick(r, 405000);
	assert_int_equal(vm->state, STORM_ST_FAILED);
	assert_int_equal(vm->fail, STORM_FAIL_TFTP_TIMEOUT);
	assert_int_equal(vm->fail_state, STORM_ST_LOADER);
	rig_free(r);
}

/* The default TFTP timing is the firmware's: iPXE 250 ms doubled per retransmission, given up
 * once the timeout would pass 10 s; OVMF 4 s, six retransmissions. */
static void firmware_rrqs(double ovmf_ratio, const uint64_t *want, unsigned n_want,
			  uint64_t fail_at)
{
	struct rig *r = rig_new(ovmf_ratio, 1, false, STORM_VERIFY_AUTO);
	struct storm_vm *vm = &r->f.vm[0];
	uint64_t t, failed = 0;
	unsigned seen = 0;
	size_t last;

	r->f.cfg.tftp_timeout_ms = 0;
	r->f.cfg.tftp_retries = 6;
	assert_int_equal(storm_tftp_timeout_ms(&r->f, vm), ovmf_ratio > 0 ? 4000 : 250);
	dora(r, "loader.efi");
	last = r->cap.n; /* the first RRQ, at 1 ms */
	for (t = 2000; t < 40000000 && !failed; t += 1000) {
		tick(r, t);
		if (r->cap.n > last) {
			assert_true(seen < n_want);
			/* within 2 ms of the firmware's schedule */
			assert_true(t >= 1000 + want[seen] && t <= 3000 + want[seen]);
			seen++;
			last = r->cap.n;
		}
		if (vm->state == STORM_ST_FAILED)
			failed = t;
	}
	assert_int_equal(seen, n_want);
	/* never answered: the RRQ's failure, not a stalled transfer's */
	assert_int_equal(vm->fail, STORM_FAIL_RRQ_UNANSWERED);
	assert_int_equal(r->f.n_unanswered_state[vm->fail_state], 1);
	assert_true(vm->fail_state == STORM_ST_LOADER || vm->fail_state == STORM_ST_PROBE);
	assert_int_equal(r->f.n_fail[STORM_FAIL_TFTP_TIMEOUT], 0);
	assert_true(failed >= 1000 + fail_at && failed <= 3000 + fail_at);
	rig_free(r);
}

/* ---- --multicast (RFC 2090) ---- */

#define GRP_IP	 0xefff0007u /* 239.255.0.7 */
#define GRP_PORT 1758
#define MC_SRV	 62000 /* the stream's transfer port */
#define MC_BLK	 1432  /* the image (5872 bytes) is 5 blocks: 4 x 1432 + 144 */

/* A rig of n iPXE-like VMs, all asking for image.bin by multicast. */
static struct rig *mc_rig(uint32_t n)
{
	struct rig *r;

	rig_mcast = 1.0;
	r = rig_new(0.0, n, true, STORM_VERIFY_AUTO);
	rig_mcast = 0;
	return r;
}

/* VM id, bound (its loader fetched), starts the image: its RRQ is the last frame sent. */
static struct storm_vm *mc_start(struct rig *r, uint32_t id)
{
	struct storm_vm *vm = &r->f.vm[id];

	vm->ip = VM_IP + id;
	vm->tftp_ip = SRV_IP;
	memcpy(vm->server_mac, srv_mac, 6);
	storm_ip_insert(&r->f, vm->ip, id);
	storm_tftp_start(&r->f, vm, STORM_ST_IMAGE, r->now);
	return vm;
}

/* DATA block b (1..5) of the image to the group, or unicast to vm. */
static size_t mc_data(struct rig *r, uint8_t *out, const struct storm_vm *vm, uint16_t b)
{
	size_t off = (size_t)(b - 1) * MC_BLK, len = b < 5 ? MC_BLK : sizeof(r->image) - off;
	uint8_t p[1600];
	uint8_t gmac[6];
	struct pkt_dest d = {
		.dst_ip = GRP_IP, .dst_port = GRP_PORT, .src_ip = SRV_IP, .src_port = MC_SRV};
	int n;

	if (vm)
		return data(out, vm, MC_SRV, vm->port, b, r->image + off, len);
	pkt_wr16(p, TFTP_OP_DATA);
	pkt_wr16(p + 2, b);
	memcpy(p + 4, r->image + off, len);
	pkt_multicast_mac(GRP_IP, gmac);
	memcpy(d.dst_mac, gmac, 6);
	memcpy(out + pkt_hdr_len(NULL), p, len + 4);
	n = pkt_build_udp(out, FRAME_MAX, NULL, srv_mac, &d, len + 4);
	assert_true(n > 0);
	return (size_t)n;
}

static void mc_feed_group(struct rig *r, uint16_t b)
{
	uint8_t fr[FRAME_MAX];

	feed(r, fr, mc_data(r, fr, NULL, b));
}

#define MC_OACK(out, vm, mc) OACK(out, vm, MC_SRV, "blksize\0" "1432\0tsize\0" "5872\0multicast\0" mc)

static void test_mc_parse(void **state)
{
	struct storm_mc_opt o;

	(void)state;
	assert_true(storm_mc_parse("239.255.0.7,1758,1", 18, &o));
	assert_true(o.has && o.has_addr && o.has_port && o.master);
	assert_int_equal(o.ip, GRP_IP);
	assert_int_equal(o.port, 1758);
	assert_true(storm_mc_parse(",,0", 3, &o)); /* RFC 2090: only mc changes */
	assert_true(o.has && !o.has_addr && !o.has_port && !o.master);
	assert_false(storm_mc_parse("198.18.0.1,1758,1", 17, &o)); /* not a group */
	assert_false(storm_mc_parse("239.1.2.3,70000,1", 17, &o));
	assert_false(storm_mc_parse("239.1.2.3,0,1", 13, &o));
	assert_false(storm_mc_parse("239.1.2.3,1758,2", 16, &o));
	assert_false(storm_mc_parse("239.1.2.3,1758", 14, &o));
	assert_false(storm_mc_parse("239.1.2.3,1758,11", 17, &o));
	assert_false(storm_mc_parse("239.1.2.3.4,1,1", 15, &o));
	assert_false(storm_mc_parse("239.1.2,1,1", 11, &o));
	assert_false(storm_mc_parse("239.1.2.256,1,1", 15, &o));
	assert_false(storm_mc_parse("", 0, &o));
}

/* The master: RRQ with "multicast", ACK 0 to the OACK, ACKs per block taken from the group,
 * the server's unicast fallback taken too, the last block ACKed, the digest checked. */
static void test_mc_master(void **state)
{
	struct rig *r = mc_rig(1);
	struct storm_vm *vm;
	uint8_t fr[FRAME_MAX];
	size_t n;

	(void)state;
	vm = mc_start(r, 0);
	assert_true(vm->mc);
	RRQ_IS(r, 0,
	       "image.bin\0octet\0blksize\0"
	       "1432\0tsize\0"
	       "0\0multicast\0");
	assert_int_equal(r->f.c.mc_rrq_tx, 1);
	clear(r);
	n = MC_OACK(fr, vm, "239.255.0.7,1758,1");
	feed(r, fr, n);
	assert_true(vm->mc_joined && vm->mc_master);
	assert_ack(r, 0, MC_SRV, 0);
	/* Group frames for another port or MAC are not the VM's. */
	clear(r);
	n = mc_data(r, fr, NULL, 1);
	fr[0] ^= 0x40; /* not 01:00:5e:7f:00:07 */
	feed(r, fr, n);
	assert_int_equal(r->f.c.mc_group_foreign_rx, 1);
	assert_int_equal(r->cap.n, 0);
	mc_feed_group(r, 1);
	assert_ack(r, 0, MC_SRV, 1);
	mc_feed_group(r, 2);
	assert_ack(r, 1, MC_SRV, 2);
	/* A block already held: the master's ACK was lost, say it again. */
	mc_feed_group(r, 2);
	assert_ack(r, 2, MC_SRV, 2);
	assert_int_equal(r->f.c.mc_dup_rx, 1);
	/* The server's unicast fallback: DATA 3 to our TID. */
	n = mc_data(r, fr, vm, 3);
	feed(r, fr, n);
	assert_ack(r, 3, MC_SRV, 3);
	assert_int_equal(r->f.c.mc_unicast_data_rx, 1);
	assert_int_equal(r->f.c.mc_unicast_bytes, MC_BLK);
	mc_feed_group(r, 4);
	mc_feed_group(r, 5);
	assert_ack(r, 5, MC_SRV, 5);
	assert_int_equal(vm->state, STORM_ST_DONE);
	assert_int_equal(r->f.c.tftp_transfers, 1);
	assert_int_equal(r->f.c.mc_done_master, 1);
	assert_int_equal(r->f.c.mc_group_bytes, sizeof(r->image) - MC_BLK);
	assert_true(r->f.c.mc_group_wire_bytes > r->f.c.mc_group_bytes);
	/* Left the group: its frames are nobody's now. */
	clear(r);
	mc_feed_group(r, 5);
	assert_int_equal(r->cap.n, 0);
	assert_int_equal(r->f.c.mc_group_foreign_rx, 2);
	rig_free(r);
}

/* A late joiner: listens (no ACK) from block 3, is made master, asks for what it lacks from
 * its first hole, and completes with the digest in order. A second VM that listened from the
 * start finishes silently, and answers a later mc=1 OACK with the last block. */
static void test_mc_late_joiner(void **state)
{
	struct rig *r = mc_rig(2);
	struct storm_vm *a, *b;
	uint8_t fr[FRAME_MAX];
	size_t n;

	(void)state;
	a = mc_start(r, 0);
	b = mc_start(r, 1);
	clear(r);
	n = MC_OACK(fr, a, "239.255.0.7,1758,0");
	feed(r, fr, n);
	mc_feed_group(r, 1);
	mc_feed_group(r, 2);
	n = MC_OACK(fr, b, "239.255.0.7,1758,0");
	feed(r, fr, n);
	mc_feed_group(r, 3);
	mc_feed_group(r, 4);
	assert_int_equal(r->cap.n, 0); /* listeners never ACK */
	assert_int_equal(r->f.c.mc_listen_oack_rx, 2);
	mc_feed_group(r, 5);
	/* a had every block: done without a word; b holds 3..5. */
	assert_int_equal(a->state, STORM_ST_DONE);
	assert_int_equal(r->f.c.mc_done_listener, 1);
	assert_int_equal(r->cap.n, 0);
	assert_int_equal(b->state, STORM_ST_IMAGE);
	assert_int_equal(b->mc_have, 3);
	assert_int_equal(r->f.c.mc_out_of_order, 3);
	assert_int_equal(r->f.mg[b->mg].members, 1);
	/* b is made master (addr and port left out): ACK 0, the block before its first hole. */
	n = MC_OACK(fr, b, ",,1");
	feed(r, fr, n);
	assert_ack(r, 0, MC_SRV, 0);
	assert_int_equal(sent(r, 0).dst_port, MC_SRV);
	mc_feed_group(r, 1);
	assert_ack(r, 1, MC_SRV, 1);
	mc_feed_group(r, 2); /* fills the hole: whole, the last block ACKed */
	assert_ack(r, 2, MC_SRV, 5);
	assert_int_equal(b->state, STORM_ST_DONE);
	assert_int_equal(r->f.c.tftp_transfers, 2);
	assert_int_equal(r->f.n_fail[STORM_FAIL_DIGEST], 0);
	/* The server makes a (done) master: it ACKs the last block from its old TID. */
	clear(r);
	n = MC_OACK(fr, a, ",,1");
	feed(r, fr, n);
	assert_int_equal(r->cap.n, 1);
	assert_ack(r, 0, MC_SRV, 5);
	assert_int_equal(r->f.c.mc_done_ack_tx, 1);
	rig_free(r);
}

/* A listener the group does not reach: iPXE's retry timer ends the tftm:// transfer, then
 * the image comes by plain unicast (no multicast option), checked as any other. */
static void test_mc_unicast_retry(void **state)
{
	struct rig *r = mc_rig(1);
	struct storm_vm *vm;
	uint8_t fr[FRAME_MAX];
	uint16_t p;
	size_t n;

	(void)state;
	vm = mc_start(r, 0);
	clear(r);
	n = MC_OACK(fr, vm, "239.255.0.7,1758,0");
	feed(r, fr, n);
	/* tftp_timeout_ms 100, 2 retries: silent as a listener, then given up. */
	tick(r, 101000);
	tick(r, 202000);
	assert_int_equal(r->cap.n, 0);
	tick(r, 303000);
	assert_int_equal(r->f.c.mc_unicast_retry, 1);
	assert_int_equal(r->cap.n, 2); /* ERROR to the stream, the new RRQ */
	assert_error(r, 0, MC_SRV, TFTP_ERR_UNDEF);
	RRQ_IS(r, 1,
	       "image.bin\0octet\0blksize\0"
	       "1432\0tsize\0"
	       "0");
	assert_false(vm->mc);
	p = vm->port;
	clear(r);
	n = OACK(fr, vm, 62001,
		 "blksize\0"
		 "1432\0tsize\0"
		 "5872");
	feed(r, fr, n);
	for (uint16_t b = 1; b <= 5; b++) {
		size_t off = (size_t)(b - 1) * MC_BLK;

		n = data(fr, vm, 62001, p, b, r->image + off, b < 5 ? MC_BLK : sizeof(r->image) - off);
		feed(r, fr, n);
	}
	assert_int_equal(vm->state, STORM_ST_DONE);
	assert_int_equal(r->f.c.tftp_transfers, 1);
	assert_int_equal(r->f.c.mc_group_bytes, 0);
	rig_free(r);
}

/* A block that differs from the image fails the VM, in any order; a server without RFC 2090
 * (an OACK without multicast) serves it unicast. */
static void test_mc_corrupt_and_plain(void **state)
{
	struct rig *r = mc_rig(2);
	struct storm_vm *a, *b;
	uint8_t fr[FRAME_MAX];
	size_t n;

	(void)state;
	a = mc_start(r, 0);
	b = mc_start(r, 1);
	n = MC_OACK(fr, a, "239.255.0.7,1758,0");
	feed(r, fr, n);
	n = mc_data(r, fr, NULL, 4);
	fr[n - 1] ^= 1;
	feed(r, fr, n);
	assert_int_equal(a->state, STORM_ST_FAILED);
	assert_int_equal(a->fail, STORM_FAIL_BYTES);
	assert_int_equal(r->f.mg[0].members + r->f.mg[1].members, 0);
	clear(r);
	n = OACK(fr, b, MC_SRV,
		 "blksize\0"
		 "1432\0tsize\0"
		 "5872");
	feed(r, fr, n);
	assert_int_equal(r->f.c.mc_plain_oack_rx, 1);
	assert_ack(r, 0, MC_SRV, 0);
	assert_false(b->mc_joined);
	/* A malformed multicast value is a malformed OACK. */
	rig_free(r);
	r = mc_rig(1);
	a = mc_start(r, 0);
	n = MC_OACK(fr, a, "239.255.0.7,1758,7");
	feed(r, fr, n);
	assert_int_equal(a->fail, STORM_FAIL_BAD_OACK);
	rig_free(r);
}

static void test_tftp_firmware_timing(void **state)
{
	static const uint64_t ipxe[] = {250000, 750000, 1750000, 3750000, 7750000};
	static const uint64_t ovmf[] = {4000000, 8000000, 12000000, 16000000, 20000000, 24000000};

	(void)state;
	firmware_rrqs(0.0, ipxe, 5, 15750000);
	firmware_rrqs(1.0, ovmf, 6, 28000000);
}

static void test_corrupt(void **state)
{
	uint8_t fr[FRAME_MAX], bad[1432];
	struct rig *r;
	struct storm_vm *vm;
	size_t n;

	(void)state;
	/* Byte compare: the first differing block fails the VM, the server gets an ERROR. */
	r = rig_new(0.0, 1, false, STORM_VERIFY_AUTO);
	vm = &r->f.vm[0];
	dora(r, "loader.efi");
	n = OACK(fr, vm, 62000,
		 "blksize\0"
		 "1432");
	feed(r, fr, n);
	memcpy(bad, r->loader, sizeof(bad));
	bad[700] ^= 1;
	clear(r);
	n = data(fr, vm, 62000, vm->port, 1, bad, sizeof(bad));
	feed(r, fr, n);
	assert_int_equal(vm->fail, STORM_FAIL_BYTES);
	assert_error(r, 0, 62000, TFTP_ERR_UNDEF);
	rig_free(r);

	/* SHA-256 only: found at the end. */
	r = rig_new(0.0, 1, false, STORM_VERIFY_SHA);
	vm = &r->f.vm[0];
	dora(r, "loader.efi");
	n = OACK(fr, vm, 62000,
		 "blksize\0"
		 "1432");
	feed(r, fr, n);
	n = data(fr, vm, 62000, vm->port, 1, bad, sizeof(bad));
	feed(r, fr, n);
	n = data(fr, vm, 62000, vm->port, 2, r->loader + 1432, 1432);
	feed(r, fr, n);
	assert_int_equal(vm->state, STORM_ST_LOADER);
	n = data(fr, vm, 62000, vm->port, 3, r->loader + 2864, 136);
	feed(r, fr, n);
	assert_int_equal(vm->fail, STORM_FAIL_DIGEST);
	rig_free(r);

	/* Too short: the last block comes early. */
	r = rig_new(0.0, 1, false, STORM_VERIFY_SHA);
	vm = &r->f.vm[0];
	dora(r, "loader.efi");
	n = OACK(fr, vm, 62000,
		 "blksize\0"
		 "1432");
	feed(r, fr, n);
	n = data(fr, vm, 62000, vm->port, 1, r->loader, 100);
	feed(r, fr, n);
	assert_int_equal(vm->fail, STORM_FAIL_SIZE);
	rig_free(r);

	/* tsize in the OACK is not the expected size. */
	r = rig_new(0.0, 1, false, STORM_VERIFY_AUTO);
	vm = &r->f.vm[0];
	dora(r, "loader.efi");
	clear(r);
	n = OACK(fr, vm, 62000,
		 "blksize\0"
		 "1432\0tsize\0"
		 "2999");
	feed(r, fr, n);
	assert_int_equal(vm->fail, STORM_FAIL_TSIZE);
	assert_error(r, 0, 62000, TFTP_ERR_OPTION);
	rig_free(r);

	/* A larger blksize than asked is refused. */
	r = rig_new(0.0, 1, false, STORM_VERIFY_AUTO);
	vm = &r->f.vm[0];
	dora(r, "loader.efi");
	n = OACK(fr, vm, 62000,
		 "blksize\0"
		 "1468");
	feed(r, fr, n);
	assert_int_equal(vm->fail, STORM_FAIL_BAD_OACK);
	rig_free(r);

	/* A boot file we have nothing to check by. */
	r = rig_new(0.0, 1, false, STORM_VERIFY_AUTO);
	dora(r, "other.efi");
	assert_int_equal(r->f.vm[0].fail, STORM_FAIL_UNKNOWN_FILE);
	rig_free(r);

	/* The server's ERROR ends the VM's boot. */
	r = rig_new(0.0, 1, false, STORM_VERIFY_AUTO);
	vm = &r->f.vm[0];
	dora(r, "loader.efi");
	{
		uint8_t e[64];
		int k = tftp_build_error(e, sizeof(e), TFTP_ERR_NOT_FOUND, NULL);
		n = srv_frame(fr, vm->mac, vm->ip, 62000, vm->port, e, (size_t)k);
	}
	feed(r, fr, n);
	assert_int_equal(vm->fail, STORM_FAIL_TFTP_ERROR);
	assert_int_equal(vm->err_code, TFTP_ERR_NOT_FOUND);
	rig_free(r);
}

static void test_no_options_server(void **state)
{
	/* A server without RFC 2347: the probe gets DATA 1 (ERROR 8 ends it), the transfer
	 * runs at 512 bytes lock-step. */
	struct rig *r = rig_new(1.0, 1, false, STORM_VERIFY_AUTO);
	struct storm_vm *vm = &r->f.vm[0];
	uint8_t fr[FRAME_MAX];
	size_t n;

	(void)state;
	dora(r, "loader.efi");
	assert_int_equal(vm->state, STORM_ST_PROBE);
	clear(r);
	n = data(fr, vm, 63000, vm->port, 1, r->loader, 512);
	feed(r, fr, n);
	assert_error(r, 0, 63000, TFTP_ERR_OPTION);
	assert_int_equal(vm->state, STORM_ST_LOADER);
	clear(r);
	for (uint16_t b = 1; b <= 6; b++) {
		size_t len = b < 6 ? 512 : 3000 - 5 * 512;
		n = data(fr, vm, 63001, vm->port, b, r->loader + (b - 1) * 512, len);
		feed(r, fr, n);
		assert_ack(r, b - 1, 63001, b);
	}
	assert_int_equal(vm->state, STORM_ST_DONE);
	rig_free(r);
}

static void test_arp(void **state)
{
	struct rig *r = rig_new(0.0, 1, false, STORM_VERIFY_AUTO);
	uint8_t req[60] = {0}, *a = req + 14;
	const uint8_t *rep;

	(void)state;
	dora(r, "loader.efi");
	memset(req, 0xff, 6);
	memcpy(req + 6, srv_mac, 6);
	pkt_wr16(req + 12, PKT_ETHERTYPE_ARP);
	pkt_wr16(a, 1);
	pkt_wr16(a + 2, PKT_ETHERTYPE_IPV4);
	a[4] = 6;
	a[5] = 4;
	pkt_wr16(a + 6, 1);
	memcpy(a + 8, srv_mac, 6);
	memcpy(a + 14, "\xc6\x12\x00\x01", 4);
	memcpy(a + 24, "\xc6\x12\x00\x64", 4); /* who has 198.18.0.100? */
	clear(r);
	feed(r, req, sizeof(req));
	assert_int_equal(r->cap.n, 1);
	rep = r->cap.buf[0];
	assert_int_equal(r->cap.len[0], 60);
	assert_memory_equal(rep, srv_mac, 6);
	assert_memory_equal(rep + 6, r->f.vm[0].mac, 6);
	assert_int_equal(pkt_rd16(rep + 20), 2);
	assert_memory_equal(rep + 22, r->f.vm[0].mac, 6);
	assert_memory_equal(rep + 28, "\xc6\x12\x00\x64", 4);
	assert_memory_equal(rep + 32, srv_mac, 6);
	/* Not one of ours: no answer. */
	memcpy(a + 24, "\xc6\x12\x00\x65", 4);
	feed(r, req, sizeof(req));
	assert_int_equal(r->cap.n, 1);
	assert_int_equal(r->f.c.arp_reply_tx, 1);
	rig_free(r);
}

static void test_truncated(void **state)
{
	struct rig *r = rig_new(1.0, 1, false, STORM_VERIFY_AUTO);
	struct storm_vm *vm = &r->f.vm[0];
	uint8_t fr[FRAME_MAX], offer[FRAME_MAX];
	size_t n, no;

	(void)state;
	storm_fleet_start(&r->f, 0);
	tick(r, 1000);
	no = dhcp_reply(r, 0, DHCP_OFFER, "loader.efi", offer);
	/* Every prefix of a valid OFFER is refused cleanly; the VM still waits for one. */
	for (size_t k = 0; k < no; k++) {
		memcpy(fr, offer, k);
		feed(r, fr, k);
	}
	assert_int_equal(vm->state, STORM_ST_SELECTING);
	assert_int_equal(r->f.c.dhcp_offer_rx, 0);
	assert_true(r->f.c.rx_malformed >= no - 1);
	feed(r, offer, no);
	assert_int_equal(vm->state, STORM_ST_REQUESTING);
	n = dhcp_reply(r, 1, DHCP_ACK, "loader.efi", fr);
	feed(r, fr, n);
	assert_int_equal(vm->state, STORM_ST_PROBE);
	/* Every prefix of an OACK: no crash; the UDP/IP lengths make them all malformed. */
	n = OACK(offer, vm, 61000,
		 "tsize\0"
		 "3000");
	for (size_t k = 0; k < n; k++) {
		memcpy(fr, offer, k);
		feed(r, fr, k);
	}
	assert_int_equal(vm->state, STORM_ST_PROBE);
	assert_false(vm->locked);
	/* A TFTP payload cut inside an OACK option (IP/UDP lengths consistent): BAD_OACK,
	 * and the server is told (ERROR 8). */
	clear(r);
	n = oack(fr, vm, 61000,
		 "tsize\0"
		 "30",
		 8);
	feed(r, fr, n);
	assert_int_equal(vm->state, STORM_ST_FAILED);
	assert_error(r, 0, 61000, TFTP_ERR_OPTION);
	assert_int_equal(vm->fail, STORM_FAIL_BAD_OACK);
	rig_free(r);
}

static void test_dhcp_only(void **state)
{
	/* --dhcp-only: done at the ACK, no RRQ. */
	struct rig *r = rig_new(0.5, 1, false, STORM_VERIFY_AUTO);

	(void)state;
	r->f.cfg.dhcp_only = true;
	dora(r, "loader.efi");
	assert_int_equal(r->cap.n, 0);
	assert_int_equal(r->f.vm[0].state, STORM_ST_DONE);
	assert_true(storm_fleet_finished(&r->f));
	rig_free(r);
}

static void test_dhcp_loop(void **state)
{
	/* --dhcp-only --loop: the ACK starts a new DORA at once (a DISCOVER, a new xid); the
	 * run's end counts the VM done, not failed. */
	struct rig *r = rig_new(0.5, 1, false, STORM_VERIFY_AUTO);

	(void)state;
	r->f.cfg.dhcp_only = true;
	r->f.cfg.loop = true;
	storm_fleet_start(&r->f, 0);
	tick(r, 1000);
	clear(r);
	storm_fleet_stop(&r->f, 1500); /* nothing looped yet: still a failure */
	assert_int_equal(r->f.n_fail[STORM_FAIL_RUN_TIMEOUT], 1);
	rig_free(r);

	r = rig_new(0.5, 1, false, STORM_VERIFY_AUTO);
	r->f.cfg.dhcp_only = true;
	r->f.cfg.loop = true;
	dora(r, "loader.efi");
	assert_int_equal(r->f.c.loops, 1);
	assert_int_equal(r->cap.n, 1); /* the next DISCOVER */
	assert_int_equal(r->f.vm[0].state, STORM_ST_SELECTING);
	assert_int_equal(r->f.c.dhcp_discover_tx, 2);
	assert_false(storm_fleet_finished(&r->f));
	storm_fleet_stop(&r->f, 5000);
	assert_int_equal(r->f.n_state[STORM_ST_DONE], 1);
	assert_int_equal(r->f.n_state[STORM_ST_FAILED], 0);
	rig_free(r);

	/* --loop-gap-ms 20: the next DISCOVER 20 ms after the ACK, not before. */
	r = rig_new(0.5, 1, false, STORM_VERIFY_AUTO);
	r->f.cfg.dhcp_only = true;
	r->f.cfg.loop = true;
	r->f.cfg.loop_gap_us = 20000;
	dora(r, "loader.efi"); /* the ACK at 1 ms */
	assert_int_equal(r->cap.n, 0);
	assert_int_equal(r->f.vm[0].state, STORM_ST_DONE);
	assert_false(storm_fleet_finished(&r->f)); /* waiting to go again */
	tick(r, 15000);
	assert_int_equal(r->cap.n, 0);
	tick(r, 22000);
	assert_int_equal(r->cap.n, 1);
	assert_int_equal(r->f.c.loops, 1);
	assert_int_equal(r->f.vm[0].state, STORM_ST_SELECTING);
	rig_free(r);
}

static void test_arp_request(void **state)
{
	/* --arp: the ACK sends an ARP request for the TFTP server; a reply naming the MAC the
	 * DHCP replies came from counts as such, one naming another MAC only as a reply. */
	static const uint8_t other[6] = {0x02, 0, 0, 0, 0, 0x99};
	struct rig *r = rig_new(0.5, 1, false, STORM_VERIFY_AUTO);
	uint8_t fr[FRAME_MAX];
	const uint8_t *q;

	(void)state;
	r->f.cfg.dhcp_only = true;
	r->f.cfg.arp = true;
	dora(r, "loader.efi");
	assert_int_equal(r->cap.n, 1);
	assert_int_equal(r->f.c.arp_request_tx, 1);
	q = r->cap.buf[0];
	assert_int_equal(r->cap.len[0], 60);
	assert_int_equal(pkt_rd16(q + 12), PKT_ETHERTYPE_ARP);
	assert_int_equal(pkt_rd16(q + 20), 1);
	assert_memory_equal(q + 6, r->f.vm[0].mac, 6);
	assert_int_equal(((uint32_t)q[28] << 24 | (uint32_t)q[29] << 16 | q[30] << 8 | q[31]),
			 VM_IP);
	assert_int_equal(((uint32_t)q[38] << 24 | (uint32_t)q[39] << 16 | q[40] << 8 | q[41]),
			 SRV_IP);
	memcpy(fr, q, 60);
	assert_int_equal(pkt_arp_reply(fr, 60, SRV_IP, r->f.vm[0].server_mac), 42);
	clear(r);
	feed(r, fr, 60);
	assert_int_equal(r->f.c.arp_reply_rx, 1);
	assert_int_equal(r->f.c.arp_server_mac_ok, 1);
	assert_int_equal(r->cap.n, 0); /* a reply is not answered */
	memcpy(fr, q, 60);
	assert_int_equal(pkt_arp_reply(fr, 60, SRV_IP, other), 42);
	feed(r, fr, 60);
	assert_int_equal(r->f.c.arp_reply_rx, 2);
	assert_int_equal(r->f.c.arp_server_mac_ok, 1);
	rig_free(r);
}

static void test_nobuf(void **state)
{
	/* No transmit buffer: counted, and the retransmission timer sends it later. */
	struct rig *r = rig_new(0.0, 1, false, STORM_VERIFY_AUTO);

	(void)state;
	storm_fleet_start(&r->f, 0);
	r->cap.refuse = 1;
	tick(r, 1000);
	assert_int_equal(r->cap.n, 0);
	assert_int_equal(r->f.c.tx_nobuf, 1);
	for (uint64_t t = 2000; t < 60000 && r->cap.n == 0; t += 1000)
		tick(r, t);
	assert_int_equal(r->cap.n, 1);
	rig_free(r);
}

static void test_stop(void **state)
{
	struct rig *r = rig_new(0.5, 4, false, STORM_VERIFY_AUTO);

	(void)state;
	storm_fleet_start(&r->f, 0);
	tick(r, 1000);
	storm_fleet_stop(&r->f, 2000);
	assert_int_equal(r->f.n_state[STORM_ST_FAILED], 4);
	assert_int_equal(r->f.n_fail[STORM_FAIL_RUN_TIMEOUT], 4);
	assert_int_equal(r->f.n_fail_state[STORM_ST_SELECTING], 4);
	rig_free(r);
}

static void test_opts(void **state)
{
	struct storm_opts o;
	char err[256];
	char *ok[] = {"storm",
		      "--vms",
		      "1000",
		      "--ovmf-ratio",
		      "0.25",
		      "--backoff-scale",
		      "0.01",
		      "--verify",
		      "none",
		      "--image",
		      "/image.bin",
		      "--timeout",
		      "30",
		      "--json",
		      "--file",
		      "a.efi=sha256:"
		      "00112233445566778899aabbccddeeff"
		      "00112233445566778899aabbccddeeff:1234"};
	char *bad_vms[] = {"storm", "--vms", "10001"};
	char *bad_zero[] = {"storm", "--vms", "0"};
	char *bad_verify[] = {"storm", "--verify", "maybe"};
	char *bad_sha[] = {"storm", "--file", "x=sha256:0011:5"};
	char *bad_extra[] = {"storm", "stray"};
	char *help[] = {"storm", "--help"};

	(void)state;
	assert_int_equal(storm_opts_parse(&o, 16, ok, err, sizeof(err)), 0);
	assert_int_equal(o.cfg.n_vms, 1000);
	assert_true(o.cfg.ovmf_ratio == 0.25);
	assert_true(o.cfg.backoff_scale == 0.01);
	assert_int_equal(o.cfg.verify, STORM_VERIFY_NONE);
	assert_string_equal(o.cfg.image, "image.bin");
	assert_int_equal(o.timeout_s, 30);
	assert_true(o.json);
	assert_int_equal(o.files.n, 1);
	assert_string_equal(o.files.f[0].name, "a.efi");
	assert_int_equal(o.files.f[0].size, 1234);
	assert_int_equal(o.files.f[0].sha256[1], 0x11);
	assert_null(o.files.f[0].data);
	assert_int_equal(storm_files_find(&o.files, "/a.efi", 6), 0);
	assert_int_equal(storm_opts_parse(&o, 3, bad_vms, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--vms"));
	assert_int_equal(storm_opts_parse(&o, 3, bad_zero, err, sizeof(err)), -EINVAL);
	assert_int_equal(storm_opts_parse(&o, 3, bad_verify, err, sizeof(err)), -EINVAL);
	assert_int_equal(storm_opts_parse(&o, 3, bad_sha, err, sizeof(err)), -EINVAL);
	assert_int_equal(storm_opts_parse(&o, 2, bad_extra, err, sizeof(err)), -EINVAL);
	assert_int_equal(storm_opts_parse(&o, 2, help, err, sizeof(err)), 1);
}

static void test_percentile(void **state)
{
	uint64_t v[100];

	(void)state;
	for (int i = 0; i < 100; i++)
		v[i] = (uint64_t)i + 1;
	assert_int_equal(storm_percentile(v, 100, 50), 50);
	assert_int_equal(storm_percentile(v, 100, 90), 90);
	assert_int_equal(storm_percentile(v, 100, 99), 99);
	assert_int_equal(storm_percentile(v, 100, 100), 100);
	assert_int_equal(storm_percentile(v, 1, 99), 1);
	assert_int_equal(storm_percentile(v, 0, 50), 0);
	assert_int_equal(storm_percentile(v, 3, 50), 2);
}

static void test_report_counts(void **state)
{
	/* The report of one booted VM: one lease, one DORA, its file counts. */
	struct rig *r = rig_new(0.0, 1, false, STORM_VERIFY_AUTO);
	struct storm_vm *vm = &r->f.vm[0];
	struct storm_run run = {.run_us = 1000000,
				.tsc_hz = 1000000000,
				.busy_cycles = 950,
				.total_cycles = 1000,
				.rx_frames = 5,
				.tx_frames = 5};
	struct storm_summary s;
	uint8_t fr[FRAME_MAX];
	size_t n;
	char *json = NULL;
	size_t jlen = 0;
	FILE *mem;

	(void)state;
	dora(r, "loader.efi");
	n = OACK(fr, vm, 62000,
		 "blksize\0"
		 "1432");
	feed(r, fr, n);
	for (uint16_t b = 1; b <= 3; b++) {
		n = data(fr, vm, 62000, vm->port, b, r->loader + (b - 1) * 1432,
			 b < 3 ? 1432 : 136);
		r->now = 500000;
		feed(r, fr, n);
	}
	storm_summarize(&r->f, &run, &s);
	assert_int_equal(s.done, 1);
	assert_int_equal(s.leases, 1);
	assert_true(s.gen_limited); /* 95 % busy */
	assert_non_null(strstr(s.limit, "busy"));
	assert_true(s.compl_s[3] > 0.49 && s.compl_s[3] < 0.51);
	mem = open_memstream(&json, &jlen);
	storm_report_json(mem, &r->f, &run, &s);
	fclose(mem);
	assert_non_null(strstr(json, "\"dhcp_ack_rx\": 1"));
	assert_non_null(strstr(json, "\"done\": 1"));
	assert_non_null(strstr(json, "\"generator_limited\": true"));
	free(json);
	rig_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_wheel),
		cmocka_unit_test(test_wheel_budget),
		cmocka_unit_test(test_mac),
		cmocka_unit_test(test_ratio),
		cmocka_unit_test(test_ovmf_boot),
		cmocka_unit_test(test_ipxe_lockstep),
		cmocka_unit_test(test_dhcp_timeout),
		cmocka_unit_test(test_tftp_timeouts),
		cmocka_unit_test(test_corrupt),
		cmocka_unit_test(test_no_options_server),
		cmocka_unit_test(test_arp),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_dhcp_only),
		cmocka_unit_test(test_dhcp_loop),
		cmocka_unit_test(test_arp_request),
		cmocka_unit_test(test_nobuf),
		cmocka_unit_test(test_stop),
		cmocka_unit_test(test_opts),
		cmocka_unit_test(test_percentile),
		cmocka_unit_test(test_report_counts),
		cmocka_unit_test(test_tftp_firmware_timing),
		cmocka_unit_test(test_mc_parse),
		cmocka_unit_test(test_mc_master),
		cmocka_unit_test(test_mc_late_joiner),
		cmocka_unit_test(test_mc_unicast_retry),
		cmocka_unit_test(test_mc_corrupt_and_plain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
