/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * storm_sim.c - an experiment, not a test: the storm generator's fleet (lock-step iPXE-like
 * VMs; OVMF=R for a share of windowed ones) against the real tftp_session core, in one
 * process, on a simulated clock (100 us steps), each VM fetching a 1 MiB image. The server
 * side: timeout_ms 1000, give_up_ms 6000 (GIVE_UP=ms), windowsize_max 16; the generator:
 * TFTP timeout 500 ms x 20 tries (the soak's). The generator runs SLICE ms of every PERIOD
 * ms, and not at all for PAUSE ms from PAUSE_AT ms; LOSS drops frames both ways; LAT=ms
 * delays frames towards the VMs; OUT_EVERY/OUT_LEN/OUT_PHASE (ms) drop every frame towards
 * the VMs while (t + OUT_PHASE) % OUT_EVERY < OUT_LEN (a blackout).
 *
 *   storm_sim [VMS [PERIOD [SLICE [PAUSE_AT [PAUSE [LOSS]]]]]]
 *   e.g. LAT=2 OUT_EVERY=100000 OUT_PHASE=95000 OUT_LEN=4600 storm_sim 100 20 2
 *
 * Prints VMs done / failed, the sessions the server gave up, and its frames per needed block.
 * ("completed" misses the sessions whose last ACK was still on its way when the fleet ended.)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "pkt.h"
#include "storm.h"
#include "storm_vm.h"
#include "tftp.h"
#include "tftp_session.h"

#define SRV_IP 0xc6120001u
#define MAXQ   (1u << 20)
#define FR     1600
static const uint8_t srv_mac[6] = {0x02, 0x5b, 0, 0, 0, 1};

struct fr { uint64_t t; uint16_t len; uint8_t b[FR]; };
static struct fr *toc, *tos; /* to the client (generator), to the server */
static unsigned toc_h, toc_t, tos_h, tos_t;
static uint64_t now_us;
static double loss_srv, loss_cli; /* drop probabilities */
static uint64_t lat_us = 100, lat_s2c, out_every, out_len, out_phase;

static uint8_t txbuf[FR];
static uint8_t *io_get(void *ctx, size_t *cap) { (void)ctx; *cap = FR; return txbuf; }
static void io_put(void *ctx, size_t len)
{
	(void)ctx;
	if ((double)rand() / RAND_MAX < loss_cli) return;
	struct fr *f = &tos[tos_t++ % MAXQ];
	f->t = now_us + lat_us; f->len = (uint16_t)len; memcpy(f->b, txbuf, len);
}

struct ss { struct tftp_session ts; uint16_t cport, sport; uint32_t cip; uint8_t cmac[6]; bool open; };
static struct ss *sess; static unsigned nsess;
static struct sbcfg_tftp tcfg;
static struct catalog_entry ce;
static uint64_t given_up, completed, srv_tx;

static void srv_send(struct ss *s, const uint8_t *payload, size_t len)
{
	struct pkt_dest d = {.dst_ip = s->cip, .dst_port = s->cport, .src_ip = SRV_IP, .src_port = s->sport};
	srv_tx++;
	if ((double)rand() / RAND_MAX < loss_srv) return;
	if (out_every && (now_us / 1000 + out_phase) % out_every < out_len) return;
	memcpy(d.dst_mac, s->cmac, 6);
	struct fr *f = &toc[toc_t++ % MAXQ];
	memcpy(f->b + pkt_hdr_len(NULL), payload, len);
	f->len = (uint16_t)pkt_build_udp(f->b, FR, NULL, srv_mac, &d, len);
	f->t = now_us + lat_us + lat_s2c;
}

static void srv_do(struct ss *s, const struct tftp_tx *tx)
{
	uint8_t out[FR];
	int n;
	if (tx->oack) { n = tftp_build_oack(out, sizeof(out), &s->ts.params); srv_send(s, out, n); }
	for (uint32_t i = 0; i < tx->data_count; i++) {
		n = tftp_build_data(out, sizeof(out), &s->ts, tx->data_first + i);
		srv_send(s, out, n);
	}
	if (tftp_session_ended(&s->ts) && s->open) {
		s->open = false;
		if (s->ts.end == TFTP_END_TIMEOUT) given_up++;
		if (s->ts.end == TFTP_END_DONE) completed++;
	}
}

static void srv_rx(const uint8_t *b, size_t len)
{
	struct pkt_udp u;
	struct tftp_tx tx;
	if (pkt_parse_udp(b, len, false, &u) < 0) return;
	if (u.dst_port == 69) {
		struct tftp_rrq rrq;
		for (unsigned i = 0; i < nsess; i++)
			if (sess[i].open && sess[i].cip == u.src_ip && sess[i].cport == u.src_port) return;
		if (tftp_parse_request(u.payload, u.payload_len, &rrq) < 0) return;
		struct ss *s = &sess[nsess];
		s->cip = u.src_ip; s->cport = u.src_port; s->sport = (uint16_t)(61000 + nsess);
		memcpy(s->cmac, u.src_mac, 6); s->open = true;
		struct tftp_peer p = {u.src_ip, u.src_port, s->sport};
		tftp_session_start(&s->ts, &p, &rrq, &ce, &tcfg, now_us / 1000, &tx);
		nsess++;
		srv_do(s, &tx);
		return;
	}
	if (u.dst_port < 61000 || u.dst_port - 61000u >= nsess) return;
	struct ss *s = &sess[u.dst_port - 61000];
	if (!s->open) return;
	tftp_session_on_packet(&s->ts, u.src_ip, u.src_port, u.payload, u.payload_len, now_us / 1000, &tx);
	srv_do(s, &tx);
}

int main(int argc, char **argv)
{
	unsigned n = argc > 1 ? atoi(argv[1]) : 100;
	unsigned period = argc > 2 ? atoi(argv[2]) : 100, slice = argc > 3 ? atoi(argv[3]) : 10;
	unsigned pause_at = argc > 4 ? atoi(argv[4]) : 0, pause_ms = argc > 5 ? atoi(argv[5]) : 0;
	loss_srv = loss_cli = argc > 6 ? atof(argv[6]) : 0;
	out_every = getenv("OUT_EVERY") ? atoi(getenv("OUT_EVERY")) : 0;
	out_len = getenv("OUT_LEN") ? atoi(getenv("OUT_LEN")) : 0;
	out_phase = getenv("OUT_PHASE") ? atoi(getenv("OUT_PHASE")) : 0;
	lat_s2c = getenv("LAT") ? atoi(getenv("LAT")) * 1000ull : 0;
	static struct storm_files files;
	static uint8_t img[1048576];
	struct storm_fleet f;
	struct storm_cfg cfg;
	struct storm_io io = {.tx_get = io_get, .tx_put = io_put};
	char err[256];
	unsigned mdlen;

	toc = calloc(MAXQ, sizeof(*toc)); tos = calloc(MAXQ, sizeof(*tos));
	sess = calloc(4 * n + 16, sizeof(*sess));
	for (size_t i = 0; i < sizeof(img); i++) img[i] = (uint8_t)(i * 13 + 5);
	strcpy(files.f[0].name, "image.bin"); files.f[0].size = sizeof(img); files.f[0].data = img;
	files.f[0].has_sha = true;
	EVP_Digest(img, sizeof(img), files.f[0].sha256, &mdlen, EVP_sha256(), NULL);
	files.n = 1;
	strcpy(ce.name, "image.bin"); ce.data = img; ce.size = sizeof(img); ce.netascii_size = sizeof(img);
	tcfg.enabled = true; tcfg.blksize_default = 512; tcfg.blksize_max = 1468; tcfg.windowsize_max = 16;
	tcfg.timeout_ms = 1000; tcfg.give_up_ms = getenv("GIVE_UP") ? atoi(getenv("GIVE_UP")) : 6000; tcfg.mtu = 1500;
	storm_cfg_defaults(&cfg);
	cfg.n_vms = n; cfg.ovmf_ratio = getenv("OVMF") ? atof(getenv("OVMF")) : 0; cfg.tftp_timeout_ms = 500; cfg.tftp_retries = 20;
	strcpy(cfg.image, "image.bin");
	if (storm_fleet_init(&f, &cfg, &files, &io, err, sizeof(err)) < 0) { puts(err); return 1; }
	for (unsigned i = 0; i < n; i++) {
		struct storm_vm *vm = &f.vm[i];
		vm->ip = 0xc6121000u + i; vm->tftp_ip = SRV_IP; memcpy(vm->server_mac, srv_mac, 6);
		vm->loader = 0; storm_ip_insert(&f, vm->ip, i);
		f.n_state[vm->state]--; vm->state = STORM_ST_SELECTING; f.n_state[vm->state]++;
		storm_tftp_start(&f, vm, STORM_ST_IMAGE, 0);
	}
	uint64_t end = 200ull * 1000000;
	for (now_us = 0; now_us < end && !storm_fleet_finished(&f); now_us += 100) {
		uint64_t ms = now_us / 1000;
		bool running = (ms % period) < slice && !(ms >= pause_at && ms < pause_at + pause_ms && pause_ms);
		while (tos_h != tos_t && tos[tos_h % MAXQ].t <= now_us) { srv_rx(tos[tos_h % MAXQ].b, tos[tos_h % MAXQ].len); tos_h++; }
		if (now_us % 1000 == 0)
			for (unsigned i = 0; i < nsess; i++) {
				struct tftp_tx tx;
				if (sess[i].open && ms >= tftp_session_next_deadline(&sess[i].ts)) {
					tftp_session_on_timer(&sess[i].ts, ms, &tx); srv_do(&sess[i], &tx);
				}
			}
		if (running) {
			while (toc_h != toc_t && toc[toc_h % MAXQ].t <= now_us) { storm_fleet_rx(&f, toc[toc_h % MAXQ].b, toc[toc_h % MAXQ].len, now_us); toc_h++; }
			storm_fleet_tick(&f, now_us, 32);
		}
	}
	printf("vms %u period %u slice %u pause %u@%u loss %.3f: done %u failed %u at %.1f s; server given up %lu completed %lu tx %lu (%.2fx) dup_data %lu ack_retrans %lu reack %lu\n",
	       n, period, slice, pause_ms, pause_at, loss_srv, f.n_state[STORM_ST_DONE], f.n_state[STORM_ST_FAILED], now_us / 1e6,
	       given_up, completed, srv_tx, (double)srv_tx / (733.0 * n), f.c.tftp_dup_data_rx, f.c.tftp_ack_retrans, f.c.tftp_reack_tx);
	storm_fleet_free(&f);
	free(toc);
	free(tos);
	free(sess);
	return 0;
}
