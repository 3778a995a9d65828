/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * core_bench.c - what one reply costs the protocol core, without DPDK or NIC.
 *
 *   meson test -C build --benchmark     (or: ninja -C build benchmark)
 *   build/perf/core_bench [runs]        (directly; default 7 runs)
 *
 * Prints ns per reply, median (and min) of several runs, each run a large loop
 * timed with CLOCK_MONOTONIC:
 *   - DHCP DISCOVER -> OFFER: a relayed PXE DISCOVER frame (as a BIOS PXE ROM
 *     sends it, behind a relay like perfdhcp) through pkt_parse_udp(),
 *     dhcp_server_handle() and pkt_build_udp(); every DISCOVER comes from a new
 *     MAC, so every one allocates an address from a fresh lease pool.
 *   - DHCP REQUEST -> ACK: the SELECTING REQUEST of each of those clients.
 *   - TFTP ACK -> DATA: an ACK frame through pkt_parse_udp() and
 *     tftp_session_on_packet(), then tftp_build_data() and pkt_build_udp()
 *     for each DATA block it releases, over a whole image; blksize 512 and
 *     1468 lock-step, and 1468 with windowsize 16 (figure per DATA block).
 *   - the boot timeline's cost (docs/TIMELINE.md): DISCOVER -> OFFER again with the step
 *     recorded as the engine does it (dataplane/engine/trace.c: a struct sb_tl_event filled
 *     from the result, boot file copied, written into a single-producer ring of fixed-size
 *     slots with a release store of the head; here a plain array ring, as rte_ring's SP
 *     enqueue is one copy and one store), and the step alone (fill + push) per step.
 * Before the timed runs an untimed pass checks every reply (type, address,
 * DATA bytes against the image): a benchmark of wrong answers is worthless.
 *
 * This is a benchmark, not a test: it times, the unit tests do not.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>

#include "catalog.h"
#include "dhcp.h"
#include "dhcp_server.h"
#include "lease.h"
#include "pkt.h"
#include "sb_timeline.h"
#include "sbcfg.h"
#include "tftp.h"
#include "tftp_session.h"

#define IP4(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (d))
#define SERVER_IP	IP4(198, 18, 0, 1)
#define RELAY_IP	IP4(198, 18, 0, 2)
#define CLIENT_IP	IP4(198, 18, 0, 2)
#define NOW_S		1700000000ull
#define N_CLIENTS	65536u /* distinct MACs per DHCP run */
#define FRAME_CAP	2048u
#define IMAGE_SIZE	(32u << 20)
#define MAX_RUNS	31

static const uint8_t server_mac[6] = {0x02, 0x5b, 0, 0, 0, 0x01};
static const uint8_t relay_mac[6] = {0x02, 0x5b, 0, 0, 0, 0x02};

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void die(const char *what, int rc)
{
	fprintf(stderr, "core_bench: %s failed (%d)\n", what, rc);
	exit(1);
}

/* ---- the configuration: one relayed subnet, a pool far bigger than the clients ---- */

static struct sbcfg cfg;
static struct sbcfg_subnet subnet;

static void config_init(void)
{
	memset(&cfg, 0, sizeof(cfg));
	cfg.server_ip = SERVER_IP;
	cfg.dhcp.mode = SBCFG_DHCP_FULL;
	cfg.dhcp.offer_hold = 30;
	cfg.dhcp.decline_quarantine = 600;
	cfg.dhcp.max_lease_time = 86400;
	strcpy(cfg.dhcp.boot.by_arch[SBCFG_ARCH_BIOS], "undionly.kpxe");
	strcpy(cfg.dhcp.boot.by_arch[SBCFG_ARCH_UEFI_X64], "ipxe.efi");
	strcpy(cfg.dhcp.boot.ipxe_script, "boot.ipxe");
	subnet = (struct sbcfg_subnet){
		.network = IP4(198, 18, 0, 0),
		.netmask = 0xfffe0000,
		.pool_start = IP4(198, 18, 1, 0),
		.pool_end = IP4(198, 19, 255, 250),
		.router = IP4(198, 18, 0, 1),
		.dns = {IP4(198, 18, 0, 1)},
		.n_dns = 1,
		.lease_time = 3600,
	};
	cfg.dhcp.subnets = &subnet;
	cfg.dhcp.n_subnets = 1;

	cfg.tftp = (struct sbcfg_tftp){
		.enabled = true,
		.port_lo = 50000,
		.port_hi = 50999,
		.max_sessions = 4096,
		.blksize_default = 512,
		.blksize_max = 1468,
		.windowsize_max = 64,
		.timeout_ms = 1000,
		.retries = 5,
		.mtu = 1500,
	};
}

/* ---- DHCP request frames ---- */

static void client_mac(uint32_t i, uint8_t mac[6])
{
	/* Locally administered, spread over all bytes like random MACs. */
	uint32_t h = i * 2654435761u;

	mac[0] = 0x02;
	mac[1] = (uint8_t)(i >> 16);
	mac[2] = (uint8_t)(h >> 24);
	mac[3] = (uint8_t)(h >> 16);
	mac[4] = (uint8_t)(i >> 8);
	mac[5] = (uint8_t)i;
}

/*
 * A relayed DHCP message from a BIOS PXE ROM (the options a real ROM sends),
 * in a full Ethernet/IPv4/UDP frame from the relay to the server, port 67.
 * type DHCP_REQUEST adds options 50 (requested_ip) and 54. Returns frame length.
 */
static size_t dhcp_frame(uint8_t *frame, uint8_t type, const uint8_t mac[6], uint32_t xid,
			 uint32_t requested_ip)
{
	static const uint8_t prl[] = {1,  2,  3,  5,  6,   11,	12,  13,  15,  16,  17,	 18, 43,
				      54, 60, 66, 67, 128, 129, 130, 131, 132, 133, 134, 135};
	static const char vci[] = "PXEClient:Arch:00000:UNDI:002001";
	uint8_t *p = frame + pkt_hdr_len(NULL);
	struct dhcp_hdr *h = (struct dhcp_hdr *)p;
	uint8_t *o = p + DHCP_HDR_LEN;
	uint32_t cookie_be = htonl(DHCP_MAGIC_COOKIE);
	struct pkt_dest dst;
	size_t len;
	int rc;

	memset(p, 0, DHCP_MIN_LEN + 64);
	h->op = DHCP_BOOTREQUEST;
	h->htype = DHCP_HTYPE_ETHER;
	h->hlen = 6;
	h->hops = 1;
	h->xid_be = htonl(xid);
	h->secs_be = htons(4);
	h->giaddr_be = htonl(RELAY_IP);
	memcpy(h->chaddr, mac, 6);
	memcpy(o, &cookie_be, 4);
	o += 4;
	*o++ = DHCP_OPT_MSG_TYPE, *o++ = 1, *o++ = type;
	*o++ = DHCP_OPT_MAX_MSG_SIZE, *o++ = 2, *o++ = 1500 >> 8, *o++ = 1500 & 255;
	if (type == DHCP_REQUEST) {
		uint32_t ip_be = htonl(requested_ip), sid_be = htonl(SERVER_IP);

		*o++ = DHCP_OPT_REQUESTED_IP, *o++ = 4;
		memcpy(o, &ip_be, 4), o += 4;
		*o++ = DHCP_OPT_SERVER_ID, *o++ = 4;
		memcpy(o, &sid_be, 4), o += 4;
	}
	*o++ = DHCP_OPT_PARAM_REQ, *o++ = sizeof(prl);
	memcpy(o, prl, sizeof(prl)), o += sizeof(prl);
	*o++ = DHCP_OPT_CLIENT_ARCH, *o++ = 2, *o++ = 0, *o++ = 0;
	*o++ = DHCP_OPT_CLIENT_NDI, *o++ = 3, *o++ = 1, *o++ = 2, *o++ = 1;
	*o++ = DHCP_OPT_CLIENT_UUID, *o++ = 17, *o++ = 0;
	memcpy(o, mac, 6), memset(o + 6, 0x5a, 10), o += 16;
	*o++ = DHCP_OPT_VENDOR_CLASS, *o++ = sizeof(vci) - 1;
	memcpy(o, vci, sizeof(vci) - 1), o += sizeof(vci) - 1;
	*o++ = DHCP_OPT_END;
	len = (size_t)(o - p);
	if (len < DHCP_MIN_LEN)
		len = DHCP_MIN_LEN;

	memset(&dst, 0, sizeof(dst));
	memcpy(dst.dst_mac, server_mac, 6);
	dst.dst_ip = SERVER_IP;
	dst.dst_port = SB_PORT_DHCP_SERVER;
	dst.src_ip = RELAY_IP;
	dst.src_port = SB_PORT_DHCP_SERVER; /* a relay agent sends from port 67 */
	rc = pkt_build_udp(frame, FRAME_CAP, NULL, relay_mac, &dst, len);
	if (rc < 0)
		die("pkt_build_udp (request)", rc);
	return (size_t)rc;
}

struct frame {
	uint16_t len;
	uint8_t b[512 - sizeof(uint16_t)];
};

static struct frame *frames; /* N_CLIENTS requests */
static uint32_t *offered;    /* yiaddr offered to client i */
static void *pool_mem;
static size_t pool_memsize;
static uint8_t reply_frame[FRAME_CAP];

/* ---- the timeline ring (what trace.c does, without DPDK) ---- */

#define TL_RING 8192u
static struct sb_tl_event tl_ring[TL_RING];
static uint32_t tl_head, tl_tail;
static uint64_t tl_lost;
static bool trace_on;

static inline void tl_push(const struct sb_tl_event *e)
{
	uint32_t h = tl_head;

	if (h - __atomic_load_n(&tl_tail, __ATOMIC_ACQUIRE) == TL_RING) {
		tl_lost++;
		return;
	}
	tl_ring[h & (TL_RING - 1)] = *e;
	__atomic_store_n(&tl_head, h + 1, __ATOMIC_RELEASE);
}

/* The control thread's side, untimed in spirit: everything pushed is taken. */
static inline void tl_drain(void)
{
	__atomic_store_n(&tl_tail, __atomic_load_n(&tl_head, __ATOMIC_ACQUIRE), __ATOMIC_RELEASE);
}

static inline void tl_step_dhcp(const struct dhcp_result *res, uint64_t now_ms)
{
	struct sb_tl_event e;
	size_t n = res->bootfile ? strlen(res->bootfile) : 0;

	e.ts_ms = now_ms;
	e.ip = res->event != DHCP_LEASE_NONE ? res->lease.ip : 0;
	e.a = res->msg_out;
	e.b = (res->client.pxe ? SB_TL_DHCP_PXE : 0) | (res->client.ipxe ? SB_TL_DHCP_IPXE : 0) |
	      (res->relayed ? SB_TL_DHCP_RELAYED : 0);
	e.c = res->client.arch_type;
	e.d = 0;
	memcpy(e.mac, res->mac, 6);
	e.kind = SB_TL_DHCP;
	e.flags = 0;
	e.status = res->msg_in;
	if (n > SB_TL_TEXT - 1)
		n = SB_TL_TEXT - 1;
	memcpy(e.text, res->bootfile ? res->bootfile : "", n);
	memset(e.text + n, 0, SB_TL_TEXT - n);
	tl_push(&e);
}

/* One request frame through the whole path. Returns the reply's message type. */
static inline int dhcp_one(struct dhcp_server *srv, const struct frame *f, uint32_t *yiaddr)
{
	struct pkt_udp in;
	struct pkt_dest dst;
	struct dhcp_result res;
	size_t hl;
	int rc, n;

	rc = pkt_parse_udp(f->b, f->len, false, &in);
	if (rc < 0)
		return rc;
	hl = pkt_hdr_len(&in);
	n = dhcp_server_handle(srv, &in, NOW_S, reply_frame + hl, sizeof(reply_frame) - hl, &dst,
			       &res);
	if (trace_on)
		tl_step_dhcp(&res, NOW_S * 1000);
	if (n <= 0)
		return n < 0 ? n : -ENODATA;
	rc = pkt_build_udp(reply_frame, sizeof(reply_frame), &in, server_mac, &dst, (size_t)n);
	if (rc < 0)
		return rc;
	if (yiaddr)
		*yiaddr = res.lease.ip;
	return res.msg_out;
}

static void dhcp_pool_reset(struct dhcp_server *srv)
{
	int err = 0;
	struct lease_pool *pool = lease_pool_init(pool_mem, pool_memsize, &cfg.dhcp, &err);

	if (pool == NULL)
		die("lease_pool_init", err);
	if (dhcp_server_init(srv, &cfg, pool, SERVER_IP) < 0)
		die("dhcp_server_init", -EINVAL);
}

static void dhcp_build_discovers(void)
{
	uint8_t mac[6];

	for (uint32_t i = 0; i < N_CLIENTS; i++) {
		client_mac(i, mac);
		frames[i].len =
			(uint16_t)dhcp_frame(frames[i].b, DHCP_DISCOVER, mac, 0x10000 + i, 0);
	}
}

static void dhcp_build_requests(void)
{
	uint8_t mac[6];

	for (uint32_t i = 0; i < N_CLIENTS; i++) {
		client_mac(i, mac);
		frames[i].len = (uint16_t)dhcp_frame(frames[i].b, DHCP_REQUEST, mac, 0x10000 + i,
						     offered[i]);
	}
}

/* Untimed: every DISCOVER gets an OFFER of a distinct address, every REQUEST its ACK. */
static void dhcp_check(struct dhcp_server *srv)
{
	struct lease_stats st;
	int rc;

	dhcp_pool_reset(srv);
	dhcp_build_discovers();
	for (uint32_t i = 0; i < N_CLIENTS; i++) {
		rc = dhcp_one(srv, &frames[i], &offered[i]);
		if (rc != DHCP_OFFER)
			die("DISCOVER -> OFFER", rc);
	}
	lease_pool_stats(srv->pool, NOW_S, &st);
	if (st.offered != N_CLIENTS)
		die("distinct offers", (int)st.offered);
	dhcp_build_requests();
	for (uint32_t i = 0; i < N_CLIENTS; i++) {
		uint32_t ip = 0;

		rc = dhcp_one(srv, &frames[i], &ip);
		if (rc != DHCP_ACK || ip != offered[i])
			die("REQUEST -> ACK", rc);
	}
	lease_pool_stats(srv->pool, NOW_S, &st);
	if (st.bound != N_CLIENTS)
		die("bound leases", (int)st.bound);
}

/* One timed DHCP run: ns per DISCOVER->OFFER and per REQUEST->ACK. */
static void dhcp_run(struct dhcp_server *srv, double *ns_offer, double *ns_ack)
{
	double t0, t1;
	int bad = 0;

	dhcp_pool_reset(srv);
	dhcp_build_discovers();
	t0 = now_ns();
	for (uint32_t i = 0; i < N_CLIENTS; i++) {
		bad |= dhcp_one(srv, &frames[i], &offered[i]) != DHCP_OFFER;
		if (trace_on && (i & 1023) == 1023)
			tl_drain(); /* the control thread drains every ms or so */
	}
	t1 = now_ns();
	*ns_offer = (t1 - t0) / N_CLIENTS;

	dhcp_build_requests();
	t0 = now_ns();
	for (uint32_t i = 0; i < N_CLIENTS; i++) {
		bad |= dhcp_one(srv, &frames[i], NULL) != DHCP_ACK;
		if (trace_on && (i & 1023) == 1023)
			tl_drain();
	}
	t1 = now_ns();
	*ns_ack = (t1 - t0) / N_CLIENTS;
	if (bad)
		die("timed DHCP run", -EPROTO);
}

/* The step alone: fill and push, per step (ring drained every 1024 steps). */
static double tl_run(void)
{
	struct dhcp_result res;
	double t0, t1;

	memset(&res, 0, sizeof(res));
	res.msg_in = DHCP_DISCOVER;
	res.msg_out = DHCP_OFFER;
	res.event = DHCP_LEASE_OFFERED;
	res.lease.ip = IP4(198, 18, 0, 100);
	res.client.pxe = true;
	res.bootfile = "undionly.kpxe";
	t0 = now_ns();
	for (uint32_t i = 0; i < N_CLIENTS * 4; i++) {
		res.mac[5] = (uint8_t)i;
		tl_step_dhcp(&res, NOW_S * 1000 + i);
		if ((i & 1023) == 1023)
			tl_drain();
	}
	t1 = now_ns();
	return (t1 - t0) / (N_CLIENTS * 4);
}

/* ---- TFTP ---- */

static uint8_t *image;
static struct catalog_entry entry;
static struct frame *acks; /* ACK frames for block numbers 0..65535 */

static void tftp_build_acks(void)
{
	struct pkt_dest dst;

	memset(&dst, 0, sizeof(dst));
	memcpy(dst.dst_mac, server_mac, 6);
	dst.dst_ip = SERVER_IP;
	dst.dst_port = 50000;
	dst.src_ip = CLIENT_IP;
	dst.src_port = 40000;
	for (uint32_t b = 0; b < 65536; b++) {
		uint8_t *p = acks[b].b + pkt_hdr_len(NULL);
		int rc;

		p[0] = 0, p[1] = TFTP_OP_ACK, p[2] = (uint8_t)(b >> 8), p[3] = (uint8_t)b;
		rc = pkt_build_udp(acks[b].b, sizeof(acks[b].b), NULL, relay_mac, &dst, 4);
		if (rc < 0)
			die("pkt_build_udp (ACK)", rc);
		acks[b].len = (uint16_t)rc;
	}
}

/* An RRQ for the image with blksize (and windowsize if > 1), parsed by the core. */
static void tftp_rrq(uint8_t *buf, size_t cap, unsigned blksize, unsigned windowsize,
		     struct tftp_rrq *rrq)
{
	int n = 2, rc;

	buf[0] = 0, buf[1] = TFTP_OP_RRQ;
	n += snprintf((char *)buf + n, cap - n, "image.bin") + 1;
	n += snprintf((char *)buf + n, cap - n, "octet") + 1;
	n += snprintf((char *)buf + n, cap - n, "blksize") + 1;
	n += snprintf((char *)buf + n, cap - n, "%u", blksize) + 1;
	n += snprintf((char *)buf + n, cap - n, "tsize") + 1;
	n += snprintf((char *)buf + n, cap - n, "0") + 1;
	if (windowsize > 1) {
		n += snprintf((char *)buf + n, cap - n, "windowsize") + 1;
		n += snprintf((char *)buf + n, cap - n, "%u", windowsize) + 1;
	}
	rc = tftp_parse_request(buf, (size_t)n, rrq);
	if (rc < 0)
		die("tftp_parse_request", rc);
}

/*
 * One whole transfer: the client ACKs the OACK and then the last block of each
 * window; for every ACK the path is pkt_parse_udp, tftp_session_on_packet,
 * then tftp_build_data + pkt_build_udp per DATA released. If check, each DATA
 * is compared with the image. Returns the number of DATA blocks built, and the
 * time taken in *ns.
 */
static uint64_t tftp_transfer(unsigned blksize, unsigned windowsize, bool check, double *ns)
{
	static struct tftp_session sess;
	uint8_t rrq_buf[128];
	struct tftp_rrq rrq;
	struct tftp_peer peer = {
		.client_ip = CLIENT_IP, .client_port = 40000, .server_port = 50000};
	struct tftp_tx tx;
	uint64_t blocks = 0, now_ms = 1000, last = 0;
	double t0, t1;
	int rc;

	tftp_rrq(rrq_buf, sizeof(rrq_buf), blksize, windowsize, &rrq);
	rc = tftp_session_start(&sess, &peer, &rrq, &entry, &cfg.tftp, now_ms, &tx);
	if (rc < 0 || !tx.oack)
		die("tftp_session_start", rc);
	if (sess.params.blksize != blksize || sess.params.windowsize != windowsize)
		die("negotiated blksize/windowsize", sess.params.blksize);

	t0 = now_ns();
	while (!tftp_session_ended(&sess)) {
		const struct frame *f = &acks[last & 0xffff];
		struct pkt_udp in;
		struct pkt_dest dst;
		size_t hl;

		rc = pkt_parse_udp(f->b, f->len, false, &in);
		if (rc < 0)
			die("pkt_parse_udp (ACK)", rc);
		rc = tftp_session_on_packet(&sess, in.src_ip, in.src_port, in.payload,
					    in.payload_len, now_ms, &tx);
		if (rc < 0)
			die("tftp_session_on_packet", rc);
		hl = pkt_hdr_len(&in);
		memcpy(dst.dst_mac, in.src_mac, 6);
		dst.dst_ip = in.src_ip;
		dst.dst_port = in.src_port;
		dst.src_ip = SERVER_IP;
		dst.src_port = peer.server_port;
		for (uint32_t k = 0; k < tx.data_count; k++) {
			uint64_t b = tx.data_first + k;
			int n = tftp_build_data(reply_frame + hl, sizeof(reply_frame) - hl, &sess,
						b);

			if (n < TFTP_HDR_LEN)
				die("tftp_build_data", n);
			rc = pkt_build_udp(reply_frame, sizeof(reply_frame), &in, server_mac, &dst,
					   (size_t)n);
			if (rc < 0)
				die("pkt_build_udp (DATA)", rc);
			if (check) {
				uint64_t off = (b - 1) * blksize;
				size_t want =
					off + blksize <= IMAGE_SIZE ? blksize : IMAGE_SIZE - off;
				const uint8_t *d = reply_frame + hl;

				if ((size_t)n != TFTP_HDR_LEN + want || d[1] != TFTP_OP_DATA ||
				    (uint64_t)((d[2] << 8) | d[3]) != (b & 0xffff) ||
				    memcmp(d + TFTP_HDR_LEN, image + off, want) != 0)
					die("DATA block content", (int)b);
			}
			last = b;
			blocks++;
		}
	}
	t1 = now_ns();
	if (sess.end != TFTP_END_DONE || last != sess.last_block)
		die("transfer end", (int)sess.end);
	*ns = t1 - t0;
	return blocks;
}

/* ---- main ---- */

struct figure {
	const char *name;
	double ns[MAX_RUNS];
};

static void print_figure(const struct figure *f, int runs, const char *per)
{
	double s[MAX_RUNS];

	memcpy(s, f->ns, sizeof(double) * (size_t)runs);
	qsort(s, (size_t)runs, sizeof(double), cmp_double);
	printf("%-44s %8.0f ns  (min %.0f, max %.0f) %s\n", f->name, s[runs / 2], s[0], s[runs - 1],
	       per);
}

int main(int argc, char **argv)
{
	static const struct {
		unsigned blksize, windowsize;
		const char *name;
	} tx_cases[] = {
		{512, 1, "tftp ACK->DATA blksize 512"},
		{1468, 1, "tftp ACK->DATA blksize 1468"},
		{1468, 16, "tftp ACK->DATA blksize 1468 windowsize 16"},
	};
	struct figure offer = {.name = "dhcp DISCOVER->OFFER (new MAC, relayed PXE)"};
	struct figure ack = {.name = "dhcp REQUEST->ACK"};
	struct figure offer_tl = {.name = "dhcp DISCOVER->OFFER + timeline step"};
	struct figure ack_tl = {.name = "dhcp REQUEST->ACK + timeline step"};
	struct figure step = {.name = "timeline step alone (fill + ring push)"};
	struct figure data[3];
	struct dhcp_server srv;
	struct catalog cat;
	uint64_t blocks[3];
	int runs = 7, rc;

	if (argc > 1)
		runs = atoi(argv[1]);
	if (runs < 1 || runs > MAX_RUNS) {
		fprintf(stderr, "usage: %s [runs 1..%d]\n", argv[0], MAX_RUNS);
		return 2;
	}

	config_init();
	pool_memsize = lease_pool_memsize(&cfg.dhcp);
	pool_mem = aligned_alloc(64, (pool_memsize + 63) & ~(size_t)63);
	frames = calloc(N_CLIENTS, sizeof(*frames));
	offered = calloc(N_CLIENTS, sizeof(*offered));
	acks = calloc(65536, sizeof(*acks));
	image = malloc(IMAGE_SIZE);
	if (!pool_mem || !frames || !offered || !acks || !image)
		die("allocation", -ENOMEM);
	srand(1);
	for (size_t i = 0; i < IMAGE_SIZE; i++)
		image[i] = (uint8_t)rand();
	memset(&entry, 0, sizeof(entry));
	strcpy(entry.name, "image.bin");
	entry.data = image;
	entry.size = IMAGE_SIZE;
	rc = catalog_init(&cat, &entry, 1);
	if (rc < 0)
		die("catalog_init", rc);
	tftp_build_acks();

	/* Correctness first, untimed. */
	dhcp_check(&srv);
	for (int c = 0; c < 3; c++) {
		double ns;

		blocks[c] = tftp_transfer(tx_cases[c].blksize, tx_cases[c].windowsize, true, &ns);
	}

	for (int r = 0; r < runs; r++) {
		trace_on = false;
		dhcp_run(&srv, &offer.ns[r], &ack.ns[r]);
		trace_on = true;
		dhcp_run(&srv, &offer_tl.ns[r], &ack_tl.ns[r]);
		trace_on = false;
		step.ns[r] = tl_run();
		for (int c = 0; c < 3; c++) {
			double ns;
			uint64_t n = tftp_transfer(tx_cases[c].blksize, tx_cases[c].windowsize,
						   false, &ns);

			data[c].name = tx_cases[c].name;
			data[c].ns[r] = ns / (double)n;
		}
	}

	printf("stormboot core microbenchmark: median of %d runs, ns per reply (one core, no "
	       "I/O)\n",
	       runs);
	print_figure(&offer, runs, "per OFFER, parse + lease + build + headers");
	print_figure(&ack, runs, "per ACK");
	print_figure(&offer_tl, runs, "per OFFER, with its step in the ring");
	print_figure(&ack_tl, runs, "per ACK, with its step in the ring");
	print_figure(&step, runs, "per step (128-byte event)");
	if (tl_lost)
		printf("(timeline: %llu steps lost to a full ring)\n", (unsigned long long)tl_lost);
	for (int c = 0; c < 3; c++)
		print_figure(&data[c], runs, "per DATA, incl. ACK parse + session + headers");
	printf("(DHCP: %u clients per run, pool of %u addresses; TFTP: %u MiB image, "
	       "%llu/%llu/%llu "
	       "blocks; every reply checked in an untimed pass)\n",
	       N_CLIENTS, subnet.pool_end - subnet.pool_start + 1, IMAGE_SIZE >> 20,
	       (unsigned long long)blocks[0], (unsigned long long)blocks[1],
	       (unsigned long long)blocks[2]);
	free(pool_mem);
	free(frames);
	free(offered);
	free(acks);
	free(image);
	return 0;
}
