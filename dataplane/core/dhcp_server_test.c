/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dhcp_server_test.c - the DHCP server state machine over a real lease pool:
 * every RFC 2131 4.3 path, where replies go (4.1), relays and option 82,
 * the parameter request list, PXE / iPXE / UEFI HTTP boot files, reservations,
 * proxyDHCP and port 4011, pool exhaustion. Every reply is parsed back.
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

#include "dhcp.h"
#include "dhcp_server.h"
#include "fixtures.h"
#include "lease.h"
#include "pxe.h"
#include "sb_drop.h"

#define IP4(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((c) << 8) | (d))
#define SERVER_IP	IP4(198, 18, 0, 1)
#define RELAY_IP	IP4(198, 18, 5, 1)
#define NOW		1700000000ull

static const uint8_t relay_mac[6] = {0x02, 0xee, 0, 0, 0, 0x05};
static const uint8_t mac_res[6] = {0x52, 0x54, 0, 0, 0xee, 0x01};    /* reserved .50 */
static const uint8_t mac_script[6] = {0x52, 0x54, 0, 0, 0xee, 0x02}; /* own iPXE script */
static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

/* ---- fixture: config, pool, server ---- */

struct env {
	struct sbcfg cfg;
	struct sbcfg_subnet subnets[2];
	struct sbcfg_reservation res[2];
	void *mem;
	struct lease_pool *pool;
	struct dhcp_server srv;
	uint8_t out[1500];
	struct pkt_dest dst;
	struct dhcp_result res_out;
};

static void env_config(struct env *e, enum sbcfg_dhcp_mode mode)
{
	struct sbcfg *c = &e->cfg;

	memset(c, 0, sizeof(*c));
	c->server_ip = SERVER_IP;
	c->dhcp.mode = mode;
	c->dhcp.offer_hold = 30;
	c->dhcp.decline_quarantine = 600;
	c->dhcp.max_lease_time = 7200;
	c->dhcp.min_lease_time = 60;
	strcpy(c->dhcp.boot.by_arch[SBCFG_ARCH_BIOS], "undionly.kpxe");
	strcpy(c->dhcp.boot.by_arch[SBCFG_ARCH_UEFI_X64], "ipxe.efi");
	strcpy(c->dhcp.boot.by_arch[SBCFG_ARCH_UEFI_IA32], "ipxe32.efi");
	strcpy(c->dhcp.boot.by_arch[SBCFG_ARCH_UEFI_ARM64], "arm64/ipxe.efi");
	strcpy(c->dhcp.boot.by_arch[SBCFG_ARCH_HTTP_X64], "http://198.18.0.1/ipxe.efi");
	strcpy(c->dhcp.boot.by_arch[SBCFG_ARCH_HTTP_ARM64], "http://198.18.0.1/arm64.efi");
	strcpy(c->dhcp.boot.ipxe_script, "boot.ipxe");

	memset(e->subnets, 0, sizeof(e->subnets));
	e->subnets[0] = (struct sbcfg_subnet){
		.network = IP4(198, 18, 0, 0),
		.netmask = 0xffffff00,
		.pool_start = IP4(198, 18, 0, 100),
		.pool_end = IP4(198, 18, 0, 103),
		.router = IP4(198, 18, 0, 1),
		.dns = {IP4(198, 18, 0, 1), IP4(198, 18, 0, 2)},
		.n_dns = 2,
		.domain = "lab.test",
		.lease_time = 3600,
	};
	e->subnets[1] = (struct sbcfg_subnet){
		.network = IP4(198, 18, 5, 0),
		.netmask = 0xffffff00,
		.pool_start = IP4(198, 18, 5, 100),
		.pool_end = IP4(198, 18, 5, 199),
		.router = IP4(198, 18, 5, 1),
		.lease_time = 600,
		.next_server = IP4(198, 18, 0, 2),
	};
	c->dhcp.subnets = e->subnets;
	c->dhcp.n_subnets = 2;

	memset(e->res, 0, sizeof(e->res));
	memcpy(e->res[0].mac, mac_res, 6);
	e->res[0].ip = IP4(198, 18, 0, 50);
	strcpy(e->res[0].hostname, "vm-res");
	strcpy(e->res[0].bootfile, "custom/boot.efi");
	memcpy(e->res[1].mac, mac_script, 6);
	strcpy(e->res[1].ipxe_script, "special.ipxe");
	c->dhcp.reservations = e->res;
	c->dhcp.n_reservations = 2;
}

static void env_start(struct env *e)
{
	int err = 0;
	size_t sz = lease_pool_memsize(&e->cfg.dhcp);

	e->mem = aligned_alloc(64, (sz + 63) & ~(size_t)63);
	assert_non_null(e->mem);
	e->pool = lease_pool_init(e->mem, sz, &e->cfg.dhcp, &err);
	assert_non_null(e->pool);
	assert_int_equal(dhcp_server_init(&e->srv, &e->cfg, e->pool, SERVER_IP), 0);
}

static int setup_full(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	env_config(e, SBCFG_DHCP_FULL);
	env_start(e);
	*state = e;
	return 0;
}

static int setup_proxy(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	env_config(e, SBCFG_DHCP_PROXY);
	env_start(e);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;
	free(e->mem);
	free(e);
	return 0;
}

/* ---- client messages ---- */

struct cmsg {
	uint8_t mac[6];
	uint8_t type;
	uint32_t ciaddr, giaddr;
	bool bcast_flag;
	uint32_t requested, server_id;
	const uint8_t *opts; /* extra raw options, without END */
	size_t optlen;
	/* frame level */
	uint32_t src_ip, dst_ip;
	uint16_t src_port, dst_port; /* 0: 68 -> 67 */
	const uint8_t *src_mac;	     /* NULL: mac */
	uint16_t vlan_tci[PKT_MAX_VLANS]; /* outermost first */
	uint8_t n_vlans;
};

struct wire {
	uint8_t buf[1024];
	struct pkt_udp in;
};

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8),
	p[3] = (uint8_t)v;
}

static const struct pkt_udp *mk(struct wire *w, const struct cmsg *c)
{
	uint8_t *b = w->buf;
	size_t n = DHCP_OPT_OFF;

	memset(w, 0, sizeof(*w));
	b[0] = DHCP_BOOTREQUEST, b[1] = 1, b[2] = 6;
	put32(b + 4, 0x12345678);
	if (c->bcast_flag)
		b[10] = 0x80;
	put32(b + 12, c->ciaddr);
	put32(b + 24, c->giaddr);
	memcpy(b + 28, c->mac, 6);
	put32(b + 236, DHCP_MAGIC_COOKIE);
	b[n++] = 53, b[n++] = 1, b[n++] = c->type;
	if (c->requested) {
		b[n++] = 50, b[n++] = 4;
		put32(b + n, c->requested);
		n += 4;
	}
	if (c->server_id) {
		b[n++] = 54, b[n++] = 4;
		put32(b + n, c->server_id);
		n += 4;
	}
	if (c->optlen)
		memcpy(b + n, c->opts, c->optlen);
	n += c->optlen;
	b[n++] = 255;

	memcpy(w->in.src_mac, c->src_mac ? c->src_mac : c->mac, 6);
	memset(w->in.dst_mac, 0xff, 6);
	w->in.src_ip = c->src_ip;
	w->in.dst_ip = c->dst_ip ? c->dst_ip : 0xffffffff;
	w->in.src_port = c->src_port ? c->src_port : 68;
	w->in.dst_port = c->dst_port ? c->dst_port : 67;
	w->in.ttl = 64;
	memcpy(w->in.vlan_tci, c->vlan_tci, sizeof(w->in.vlan_tci));
	w->in.n_vlans = c->n_vlans;
	w->in.payload = b;
	w->in.payload_len = n;
	return &w->in;
}

static int handle_at(struct env *e, const struct cmsg *c, uint64_t now)
{
	struct wire w;
	return dhcp_server_handle(&e->srv, mk(&w, c), now, e->out, sizeof(e->out), &e->dst,
				  &e->res_out);
}

static int handle(struct env *e, const struct cmsg *c)
{
	return handle_at(e, c, NOW);
}

/* Parse a reply back; fails the test if it does not parse. */
static void parse_any_reply(const struct env *e, int n, struct dhcp_msg *r)
{
	assert_true(n > 0);
	int rc = dhcp_parse(e->out, (size_t)n, r);
	if (rc)
		fail_msg("reply does not parse: %s", sb_drop_name(rc));
	assert_int_equal(r->op, DHCP_BOOTREPLY);
}

/* Same, for a reply to one of our built requests (xid 0x12345678). */
static void parse_reply(const struct env *e, int n, struct dhcp_msg *r)
{
	parse_any_reply(e, n, r);
	assert_int_equal(r->xid, 0x12345678);
}

/* Handle c and return the type of the reply, which must parse. */
static uint8_t reply_type(struct env *e, const struct cmsg *c)
{
	struct dhcp_msg r;

	parse_reply(e, handle(e, c), &r);
	return r.type;
}

/* Find option code in the main option area of a reply. */
static const uint8_t *ropt(const struct env *e, int n, uint8_t code, uint8_t *len)
{
	size_t p = DHCP_OPT_OFF;

	while (p < (size_t)n && e->out[p] != 255) {
		if (e->out[p] == 0) {
			p++;
			continue;
		}
		if (e->out[p] == code) {
			*len = e->out[p + 1];
			return e->out + p + 2;
		}
		p += 2u + e->out[p + 1];
	}
	return NULL;
}

/* The option codes of a reply, in order. */
static size_t ropt_codes(const struct env *e, int n, uint8_t *codes, size_t cap)
{
	size_t p = DHCP_OPT_OFF, k = 0;

	while (p < (size_t)n && e->out[p] != 255 && k < cap) {
		if (e->out[p] == 0) {
			p++;
			continue;
		}
		codes[k++] = e->out[p];
		p += 2u + e->out[p + 1];
	}
	return k;
}

static uint32_t ropt32(const struct env *e, int n, uint8_t code)
{
	uint8_t l;
	const uint8_t *v = ropt(e, n, code, &l);
	assert_non_null(v);
	assert_int_equal(l, 4);
	return ((uint32_t)v[0] << 24) | ((uint32_t)v[1] << 16) | ((uint32_t)v[2] << 8) | v[3];
}

static bool ropt_str(const struct env *e, int n, uint8_t code, const char *s)
{
	uint8_t l;
	const uint8_t *v = ropt(e, n, code, &l);
	return v && l == strlen(s) && memcmp(v, s, l) == 0;
}

static void mac_n(uint8_t mac[6], unsigned n)
{
	const uint8_t base[6] = {0x52, 0x54, 0x00, 0xab, 0x00, 0x00};
	memcpy(mac, base, 6);
	mac[4] = (uint8_t)(n >> 8);
	mac[5] = (uint8_t)n;
}

#define OPTS(...)                                                                                  \
	.opts = (const uint8_t[]){__VA_ARGS__}, .optlen = sizeof((const uint8_t[]){__VA_ARGS__})

/* ---- DORA ---- */

static void test_dora_broadcast(void **state)
{
	struct env *e = *state;
	struct dhcp_msg r;
	struct cmsg c = {.type = DHCP_DISCOVER, .bcast_flag = true};
	mac_n(c.mac, 1);

	int n = handle(e, &c);
	parse_reply(e, n, &r);
	assert_int_equal(r.type, DHCP_OFFER);
	uint32_t ip = r.yiaddr;
	assert_true(ip >= IP4(198, 18, 0, 100) && ip <= IP4(198, 18, 0, 103));
	assert_int_equal(r.server_id, SERVER_IP);
	assert_int_equal(r.siaddr, SERVER_IP);
	assert_string_equal(r.file, "undionly.kpxe");
	assert_int_equal(r.flags, DHCP_FLAG_BROADCAST);
	/* No PRL: everything we have. */
	assert_int_equal(ropt32(e, n, DHCP_OPT_LEASE_TIME), 3600);
	assert_int_equal(ropt32(e, n, DHCP_OPT_T1), 1800);
	assert_int_equal(ropt32(e, n, DHCP_OPT_T2), 3150);
	assert_int_equal(ropt32(e, n, DHCP_OPT_SUBNET_MASK), 0xffffff00);
	assert_int_equal(ropt32(e, n, DHCP_OPT_ROUTER), IP4(198, 18, 0, 1));
	assert_true(ropt_str(e, n, DHCP_OPT_DOMAIN, "lab.test"));
	assert_true(ropt_str(e, n, DHCP_OPT_TFTP_SERVER, "198.18.0.1"));
	assert_true(ropt_str(e, n, DHCP_OPT_BOOTFILE, "undionly.kpxe"));
	uint8_t l;
	const uint8_t *dns = ropt(e, n, DHCP_OPT_DNS, &l);
	assert_non_null(dns);
	assert_int_equal(l, 8);
	assert_null(ropt(e, n, DHCP_OPT_VENDOR_CLASS, &l)); /* not a PXE client */
	assert_null(ropt(e, n, DHCP_OPT_HOSTNAME, &l));
	/* Broadcast flag: to everyone. */
	assert_int_equal(e->dst.dst_ip, 0xffffffff);
	assert_int_equal(e->dst.dst_port, 68);
	assert_int_equal(e->dst.src_ip, SERVER_IP);
	assert_int_equal(e->dst.src_port, 67);
	assert_memory_equal(e->dst.dst_mac, bcast, 6);
	assert_int_equal(e->res_out.msg_in, DHCP_DISCOVER);
	assert_int_equal(e->res_out.msg_out, DHCP_OFFER);
	assert_int_equal(e->res_out.event, DHCP_LEASE_OFFERED);
	assert_int_equal(e->res_out.lease.ip, ip);
	assert_int_equal(e->res_out.lease.expires, NOW + 30);
	assert_memory_equal(e->res_out.mac, c.mac, 6);

	/* REQUEST (SELECTING): 54 ours, 50 the offered address. */
	c.type = DHCP_REQUEST;
	c.requested = ip;
	c.server_id = SERVER_IP;
	n = handle(e, &c);
	parse_reply(e, n, &r);
	assert_int_equal(r.type, DHCP_ACK);
	assert_int_equal(r.yiaddr, ip);
	assert_int_equal(r.ciaddr, 0);
	assert_int_equal(e->res_out.event, DHCP_LEASE_BOUND);
	assert_int_equal(e->res_out.lease.ip, ip);
	assert_int_equal(e->res_out.lease.state, LEASE_BOUND);
	assert_int_equal(e->res_out.lease.expires, NOW + 3600);
	assert_memory_equal(e->res_out.lease.mac, c.mac, 6);
	struct lease_info li;
	assert_int_equal(lease_find_ip(e->pool, ip, NOW, &li), 0);
	assert_int_equal(li.state, LEASE_BOUND);
	assert_int_equal(e->dst.dst_ip, 0xffffffff);

	/* The same MAC discovering again gets the same address. */
	c.type = DHCP_DISCOVER;
	c.requested = c.server_id = 0;
	n = handle(e, &c);
	parse_reply(e, n, &r);
	assert_int_equal(r.yiaddr, ip);
}

/* RFC 2131 4.1: no broadcast flag, no ciaddr, no giaddr: unicast to yiaddr at chaddr. */
static void test_offer_unicast(void **state)
{
	struct env *e = *state;
	struct dhcp_msg r;
	struct cmsg c = {.type = DHCP_DISCOVER};
	mac_n(c.mac, 2);

	int n = handle(e, &c);
	parse_reply(e, n, &r);
	assert_int_equal(r.flags, 0);
	assert_int_equal(e->dst.dst_ip, r.yiaddr);
	assert_int_equal(e->dst.dst_port, 68);
	assert_memory_equal(e->dst.dst_mac, c.mac, 6);
}

/*
 * A requested lease time (option 51, RFC 2131 4.3.1) is honoured within
 * [min_lease_time, max_lease_time] (60 and 7200 here; min 0 = no floor): a 1-second
 * lease would have the client renewing, and us committing, every half second.
 */
static const struct {
	uint32_t ask, min, want;
} lease_time_cases[] = {
	{300, 60, 300}, {65536, 60, 7200}, {1, 60, 60}, {59, 60, 60}, {61, 60, 61}, {1, 0, 1},
};

static void test_lease_time_request(void **state)
{
	struct env *e = *state;
	struct dhcp_msg r;
	uint8_t o[6] = {51, 4};
	struct cmsg c = {.type = DHCP_DISCOVER, .opts = o, .optlen = sizeof(o)};
	mac_n(c.mac, 3);

	for (size_t i = 0; i < sizeof(lease_time_cases) / sizeof(lease_time_cases[0]); i++) {
		put32(o + 2, lease_time_cases[i].ask);
		e->cfg.dhcp.min_lease_time = lease_time_cases[i].min;
		int n = handle(e, &c);
		parse_reply(e, n, &r);
		if (ropt32(e, n, DHCP_OPT_LEASE_TIME) != lease_time_cases[i].want ||
		    ropt32(e, n, DHCP_OPT_T1) != lease_time_cases[i].want / 2)
			fail_msg("asked %u (min %u): got %u", lease_time_cases[i].ask,
				 lease_time_cases[i].min, ropt32(e, n, DHCP_OPT_LEASE_TIME));
	}
	/* The ACK binds for the floor, too. */
	e->cfg.dhcp.min_lease_time = 60;
	put32(o + 2, 1);
	int n = handle(e, &c);
	parse_reply(e, n, &r);
	c.type = DHCP_REQUEST;
	c.requested = r.yiaddr;
	c.server_id = SERVER_IP;
	n = handle(e, &c);
	parse_reply(e, n, &r);
	assert_int_equal(r.type, DHCP_ACK);
	assert_int_equal(ropt32(e, n, DHCP_OPT_LEASE_TIME), 60);
	assert_int_equal(e->res_out.lease.expires, NOW + 60);
}

/* RFC 6842 3: a client identifier (61) is echoed unaltered in OFFER, ACK and NAK. */
static void test_client_id_echo(void **state)
{
	struct env *e = *state;
	struct dhcp_msg r;
	static const uint8_t cid[] = {0xff, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x2b, 0x0c};
	struct cmsg c = {
		.type = DHCP_DISCOVER,
		OPTS(61, 9, 0xff, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x2b, 0x0c, 55, 2, 1, 3)};
	mac_n(c.mac, 5);

	int n = handle(e, &c);
	parse_reply(e, n, &r);
	assert_int_equal(r.type, DHCP_OFFER);
	assert_int_equal(r.client_id.len, sizeof(cid));
	assert_memory_equal(r.client_id.data, cid, sizeof(cid));

	c.type = DHCP_REQUEST;
	c.requested = r.yiaddr;
	c.server_id = SERVER_IP;
	n = handle(e, &c);
	parse_reply(e, n, &r);
	assert_int_equal(r.type, DHCP_ACK);
	assert_int_equal(r.client_id.len, sizeof(cid));
	assert_memory_equal(r.client_id.data, cid, sizeof(cid));

	c.server_id = 0;
	c.requested = IP4(198, 18, 9, 9); /* INIT-REBOOT on the wrong network */
	n = handle(e, &c);
	parse_reply(e, n, &r);
	assert_int_equal(r.type, DHCP_NAK);
	assert_int_equal(r.client_id.len, sizeof(cid));
	assert_memory_equal(r.client_id.data, cid, sizeof(cid));

	struct cmsg inf = c;
	inf.type = DHCP_INFORM;
	inf.requested = 0;
	inf.ciaddr = inf.src_ip = IP4(198, 18, 0, 7);
	inf.dst_ip = SERVER_IP;
	n = handle(e, &inf);
	parse_reply(e, n, &r);
	assert_int_equal(r.type, DHCP_ACK);
	assert_int_equal(r.client_id.len, sizeof(cid));

	/* Without 61 in the request there is none in the reply. */
	struct cmsg c2 = {.type = DHCP_DISCOVER};
	mac_n(c2.mac, 6);
	n = handle(e, &c2);
	parse_reply(e, n, &r);
	assert_null(r.client_id.data);
}

/* ---- relay ---- */

static void test_relay(void **state)
{
	struct env *e = *state;
	struct dhcp_msg r;
	struct cmsg c = {
		.type = DHCP_DISCOVER,
		.giaddr = RELAY_IP,
		.src_ip = RELAY_IP,
		.dst_ip = SERVER_IP,
		.src_port = 67,
		.src_mac = relay_mac,
		OPTS(82, 12, 1, 4, 'p', 'o', 'r', 't', 2, 4, 0xde, 0xad, 0xbe, 0xef),
	};
	mac_n(c.mac, 10);

	int n = handle(e, &c);
	parse_reply(e, n, &r);
	assert_int_equal(r.type, DHCP_OFFER);
	assert_true(r.yiaddr >= IP4(198, 18, 5, 100) && r.yiaddr <= IP4(198, 18, 5, 199));
	assert_int_equal(r.giaddr, RELAY_IP);
	assert_int_equal(r.siaddr, IP4(198, 18, 0, 2)); /* the subnet's next-server */
	assert_true(ropt_str(e, n, DHCP_OPT_TFTP_SERVER, "198.18.0.2"));
	assert_int_equal(ropt32(e, n, DHCP_OPT_LEASE_TIME), 600);
	assert_int_equal(ropt32(e, n, DHCP_OPT_ROUTER), RELAY_IP);
	assert_true(e->res_out.relayed);
	/* RFC 3046 2.2: 82 echoed unchanged, as the last option. */
	assert_int_equal(r.relay_agent.len, 12);
	static const uint8_t circuit[] = {1, 4, 'p', 'o', 'r', 't'};
	assert_memory_equal(r.relay_agent.data, circuit, 6);
	uint8_t codes[32];
	size_t k = ropt_codes(e, n, codes, 32);
	assert_int_equal(codes[k - 1], DHCP_OPT_RELAY_AGENT);
	/* To the relay's server port, at the relay's MAC. */
	assert_int_equal(e->dst.dst_ip, RELAY_IP);
	assert_int_equal(e->dst.dst_port, 67);
	assert_memory_equal(e->dst.dst_mac, relay_mac, 6);

	/* REQUEST through the relay, then a NAK through it has the broadcast bit. */
	c.type = DHCP_REQUEST;
	c.requested = r.yiaddr;
	c.server_id = SERVER_IP;
	n = handle(e, &c);
	parse_reply(e, n, &r);
	assert_int_equal(r.type, DHCP_ACK);
	assert_int_equal(e->res_out.lease.expires, NOW + 600);
	assert_int_equal(e->dst.dst_ip, RELAY_IP);
	assert_int_equal(r.relay_agent.len, 12);

	c.type = DHCP_REQUEST;
	c.server_id = 0;
	c.requested = IP4(198, 18, 0, 100); /* INIT-REBOOT with an address of another subnet */
	n = handle(e, &c);
	parse_reply(e, n, &r);
	assert_int_equal(r.type, DHCP_NAK);
	assert_int_equal(r.flags, DHCP_FLAG_BROADCAST);
	assert_int_equal(e->dst.dst_ip, RELAY_IP);
	assert_int_equal(e->dst.dst_port, 67);
	assert_int_equal(r.relay_agent.len, 12);

	/* A relay for a subnet we do not serve. */
	c.type = DHCP_DISCOVER;
	c.requested = 0;
	c.giaddr = IP4(198, 19, 9, 1);
	assert_int_equal(handle(e, &c), -SB_DROP_DHCP_NO_SUBNET);
}

/*
 * An unrelayed request on an 802.1Q VLAN gets the subnet mapped to that VLAN
 * (dhcp.subnets[].vlan, the innermost tag's VID), not the subnet of server_ip; a VLAN
 * with no subnet is refused (counted). Untagged requests and relayed ones are unchanged.
 * Here subnet 0 (server_ip's) is VLAN 10, subnet 1 VLAN 20.
 */
static const struct vlan_case {
	const char *name;
	uint16_t tci[PKT_MAX_VLANS];
	uint8_t n_vlans;
	bool relayed;
	int want; /* subnet index, or -SB_DROP_x */
} vlan_cases[] = {
	{"VLAN 20 (PCP 1)", {0x2014}, 1, false, 1},
	{"VLAN 10", {10}, 1, false, 0},
	{"QinQ: the inner tag decides", {100, 20}, 2, false, 1},
	{"unmapped VLAN", {30}, 1, false, -SB_DROP_DHCP_VLAN_NO_SUBNET},
	{"relayed on an unmapped VLAN: giaddr decides", {30}, 1, true, 1},
	{"untagged: server_ip's subnet", {0}, 0, false, 0},
	{"priority tag (VID 0) is untagged", {0x6000}, 1, false, 0},
};

static void test_vlan_subnets(void **state)
{
	struct env *e = *state;
	struct dhcp_msg r;

	e->subnets[0].vlan = 10;
	e->subnets[1].vlan = 20;
	for (size_t i = 0; i < sizeof(vlan_cases) / sizeof(vlan_cases[0]); i++) {
		const struct vlan_case *v = &vlan_cases[i];
		struct cmsg c = {.type = DHCP_DISCOVER, .n_vlans = v->n_vlans};
		memcpy(c.vlan_tci, v->tci, sizeof(c.vlan_tci));
		if (v->relayed) {
			c.giaddr = c.src_ip = RELAY_IP;
			c.src_port = 67;
			c.src_mac = relay_mac;
		}
		mac_n(c.mac, 15);
		int n = handle(e, &c);
		if (v->want < 0) {
			if (n != v->want)
				fail_msg("%s: %s", v->name, sb_drop_name(n));
			assert_int_equal(e->res_out.msg_out, 0);
			continue;
		}
		parse_reply(e, n, &r);
		if (e->res_out.lease.subnet != v->want ||
		    (r.yiaddr & 0xffffff00) != e->subnets[v->want].network)
			fail_msg("%s: %08x in subnet %u", v->name, r.yiaddr,
				 e->res_out.lease.subnet);
	}

	/* SELECTING on VLAN 20: ACK; INIT-REBOOT there with a VLAN 10 address: NAK. */
	struct cmsg c = {.type = DHCP_DISCOVER, .vlan_tci = {20}, .n_vlans = 1};
	mac_n(c.mac, 16);
	int n = handle(e, &c);
	parse_reply(e, n, &r);
	c.type = DHCP_REQUEST;
	c.requested = r.yiaddr;
	c.server_id = SERVER_IP;
	assert_int_equal(reply_type(e, &c), DHCP_ACK);
	c.server_id = 0;
	c.requested = IP4(198, 18, 0, 100);
	assert_int_equal(reply_type(e, &c), DHCP_NAK);
	/* INFORM without ciaddr: the VLAN's subnet, or refused. */
	struct cmsg inf = {.type = DHCP_INFORM, .vlan_tci = {20}, .n_vlans = 1};
	mac_n(inf.mac, 17);
	n = handle(e, &inf);
	parse_reply(e, n, &r);
	assert_int_equal(ropt32(e, n, DHCP_OPT_ROUTER), IP4(198, 18, 5, 1));
	inf.vlan_tci[0] = 30;
	assert_int_equal(handle(e, &inf), -SB_DROP_DHCP_VLAN_NO_SUBNET);
	/* A PXE boot server request (4011) on an unmapped VLAN is still answered. */
	struct cmsg bs = {.type = DHCP_REQUEST,
			  .dst_ip = SERVER_IP,
			  .dst_port = 4011,
			  .vlan_tci = {30},
			  .n_vlans = 1,
			  OPTS(60, 9, 'P', 'X', 'E', 'C', 'l', 'i', 'e', 'n', 't', 93, 2, 0, 7)};
	mac_n(bs.mac, 18);
	assert_int_equal(reply_type(e, &bs), DHCP_ACK);
}

/* ---- parameter request list ---- */

static void test_prl(void **state)
{
	struct env *e = *state;
	uint8_t codes[32];
	struct cmsg c = {.type = DHCP_DISCOVER, OPTS(55, 6, 6, 15, 3, 1, 67, 66)};
	mac_n(c.mac, 20);

	int n = handle(e, &c);
	assert_true(n > 0);
	size_t k = ropt_codes(e, n, codes, 32);
	/* 53, 54 first; then in the client's order; then the required ones. */
	const uint8_t want[] = {53, 54, 6, 15, 3, 1, 67, 66, 51, 58, 59};
	assert_int_equal(k, sizeof(want));
	assert_memory_equal(codes, want, sizeof(want));

	/* Not asked: DNS, domain and boot options left out; 1 and 3 always sent. */
	struct cmsg c2 = {.type = DHCP_DISCOVER, OPTS(55, 2, 58, 28)};
	mac_n(c2.mac, 20);
	n = handle(e, &c2);
	k = ropt_codes(e, n, codes, 32);
	const uint8_t want2[] = {53, 54, 58, 1, 3, 51, 59};
	assert_int_equal(k, sizeof(want2));
	assert_memory_equal(codes, want2, sizeof(want2));
	/* The file field and siaddr still carry the boot file (udhcpc reads them). */
	struct dhcp_msg r;
	parse_reply(e, n, &r);
	assert_string_equal(r.file, "undionly.kpxe");
	assert_int_equal(r.siaddr, SERVER_IP);
}

/* ---- REQUEST states ---- */

/* DISCOVER then REQUEST (SELECTING) at now; returns the ACKed address, fails the test on a NAK. */
static uint32_t dora_at(struct env *e, const uint8_t mac[6], uint64_t now, uint32_t not_this)
{
	struct dhcp_msg r;
	struct cmsg c = {.type = DHCP_DISCOVER};
	memcpy(c.mac, mac, 6);

	int n = handle_at(e, &c, now);
	parse_reply(e, n, &r);
	assert_int_equal(r.type, DHCP_OFFER);
	if (r.yiaddr == not_this)
		fail_msg("offered the declined address %08x again", not_this);
	c.type = DHCP_REQUEST;
	c.requested = r.yiaddr;
	c.server_id = SERVER_IP;
	n = handle_at(e, &c, now);
	parse_reply(e, n, &r);
	if (r.type != DHCP_ACK)
		fail_msg("REQUEST for %08x answered with %s", c.requested,
			 dhcp_msg_type_name(r.type));
	return r.yiaddr;
}

static void decline_at(struct env *e, const uint8_t mac[6], uint32_t ip, uint64_t now)
{
	struct cmsg d = {.type = DHCP_DECLINE, .requested = ip, .server_id = SERVER_IP};
	memcpy(d.mac, mac, 6);
	assert_int_equal(handle_at(e, &d, now), 0);
	assert_int_equal(e->res_out.event, DHCP_LEASE_DECLINED);
}

/* Bind mac n and return its address. */
static uint32_t bind(struct env *e, unsigned id)
{
	uint8_t mac[6];

	mac_n(mac, id);
	return dora_at(e, mac, NOW, 0);
}

static void test_selecting_other_server(void **state)
{
	struct env *e = *state;
	struct dhcp_msg r;
	struct lease_info li;
	struct cmsg c = {.type = DHCP_DISCOVER};
	mac_n(c.mac, 30);

	int n = handle(e, &c);
	parse_reply(e, n, &r);
	assert_int_equal(lease_find_ip(e->pool, r.yiaddr, NOW, &li), 0);
	assert_int_equal(li.state, LEASE_OFFERED);
	c.type = DHCP_REQUEST;
	c.requested = IP4(198, 18, 0, 200);
	c.server_id = IP4(198, 18, 0, 254); /* the client chose another server */
	assert_int_equal(handle(e, &c), -SB_DROP_DHCP_NOT_FOR_US);
	assert_int_equal(e->res_out.msg_out, 0);
	/* Our offer is released at once. */
	assert_int_equal(lease_find_ip(e->pool, r.yiaddr, NOW, &li), 0);
	assert_int_equal(li.state, LEASE_FREE);

	/* SELECTING for an address that was never offered to it, nor free: NAK. */
	uint32_t other = bind(e, 31);
	c.server_id = SERVER_IP;
	c.requested = other;
	n = handle(e, &c);
	parse_reply(e, n, &r);
	assert_int_equal(r.type, DHCP_NAK);
	/* SELECTING with no address at all. */
	c.requested = 0;
	assert_int_equal(handle(e, &c), -SB_DROP_DHCP_NO_ADDR);
}

static void test_init_reboot(void **state)
{
	struct env *e = *state;
	struct dhcp_msg r;
	uint32_t ip = bind(e, 40);
	uint32_t other = bind(e, 41);
	struct cmsg c = {.type = DHCP_REQUEST, .requested = ip};
	mac_n(c.mac, 40);

	/* Ours and correct: ACK. */
	int n = handle(e, &c);
	parse_reply(e, n, &r);
	assert_int_equal(r.type, DHCP_ACK);
	assert_int_equal(r.yiaddr, ip);
	assert_int_equal(e->res_out.event, DHCP_LEASE_BOUND);

	/* Wrong network (moved): NAK, broadcast, with 54 and 56, nothing else. */
	c.requested = IP4(198, 18, 9, 9);
	n = handle(e, &c);
	parse_reply(e, n, &r);
	assert_int_equal(r.type, DHCP_NAK);
	assert_int_equal(r.yiaddr, 0);
	assert_int_equal(r.siaddr, 0);
	assert_int_equal(r.server_id, SERVER_IP);
	uint8_t l;
	assert_non_null(ropt(e, n, DHCP_OPT_MESSAGE, &l));
	assert_null(ropt(e, n, DHCP_OPT_LEASE_TIME, &l));
	assert_int_equal(e->dst.dst_ip, 0xffffffff);
	assert_memory_equal(e->dst.dst_mac, bcast, 6);
	assert_int_equal(e->res_out.msg_out, DHCP_NAK);
	assert_int_equal(e->res_out.event, DHCP_LEASE_NONE);

	/* Another client's address: NAK. */
	c.requested = other;
	n = handle(e, &c);
	parse_reply(e, n, &r);
	assert_int_equal(r.type, DHCP_NAK);

	/* In our subnet but outside every pool and not reserved: not ours to give, NAK
	 * (RFC 2131 4.3.2, incorrect for the client's network; test_request_outside_pools). */
	c.requested = IP4(198, 18, 0, 10);
	n = handle(e, &c);
	parse_reply(e, n, &r);
	assert_int_equal(r.type, DHCP_NAK);

	/* After a restart the pool forgot it; the address is free: ACK. */
	struct cmsg c3 = {.type = DHCP_REQUEST, .requested = IP4(198, 18, 0, 103)};
	mac_n(c3.mac, 42);
	struct lease_info li;
	assert_int_equal(lease_find_ip(e->pool, IP4(198, 18, 0, 103), NOW, &li), 0);
	if (li.state == LEASE_FREE) {
		n = handle(e, &c3);
		parse_reply(e, n, &r);
		assert_int_equal(r.type, DHCP_ACK);
	}

	/* The reserved client asking for another address: NAK. */
	struct cmsg c4 = {.type = DHCP_REQUEST, .requested = IP4(198, 18, 0, 101)};
	memcpy(c4.mac, mac_res, 6);
	n = handle(e, &c4);
	parse_reply(e, n, &r);
	assert_int_equal(r.type, DHCP_NAK);
}

/*
 * RFC 2131 4.3.2: an address in a subnet we serve that lies outside every pool and is not
 * reserved for the client is incorrect for the client's network: NAK, in INIT-REBOOT,
 * SELECTING and RENEWING alike. Silence stays for addresses outside all our subnets.
 */
static void test_request_outside_pools(void **state)
{
	struct env *e = *state;
	struct dhcp_msg r;
	uint8_t l;
	struct cmsg c = {.type = DHCP_REQUEST, .requested = IP4(198, 18, 0, 10)};
	mac_n(c.mac, 45);

	int n = handle(e, &c);
	parse_reply(e, n, &r);
	assert_int_equal(r.type, DHCP_NAK);
	assert_int_equal(e->res_out.msg_out, DHCP_NAK);
	assert_non_null(ropt(e, n, DHCP_OPT_MESSAGE, &l));
	/* The same through a relay, for the relay's subnet. */
	struct cmsg cr = c;
	cr.giaddr = cr.src_ip = RELAY_IP;
	cr.src_port = 67;
	cr.src_mac = relay_mac;
	cr.requested = IP4(198, 18, 5, 20);
	assert_int_equal(reply_type(e, &cr), DHCP_NAK);
	assert_int_equal(e->dst.dst_ip, RELAY_IP);
	/* SELECTING with our server id. */
	c.server_id = SERVER_IP;
	assert_int_equal(reply_type(e, &c), DHCP_NAK);
	/* RENEWING (unicast, ciaddr) an address outside the pools. */
	struct cmsg rn = {.type = DHCP_REQUEST,
			  .ciaddr = IP4(198, 18, 0, 10),
			  .src_ip = IP4(198, 18, 0, 10),
			  .dst_ip = SERVER_IP};
	mac_n(rn.mac, 45);
	assert_int_equal(reply_type(e, &rn), DHCP_NAK);
	/* The reserved address outside the pool is the reserved client's: ACK. */
	struct cmsg rs = {.type = DHCP_REQUEST, .requested = IP4(198, 18, 0, 50)};
	memcpy(rs.mac, mac_res, 6);
	assert_int_equal(reply_type(e, &rs), DHCP_ACK);
	/* ...and another client's: NAK. */
	c.server_id = 0;
	c.requested = IP4(198, 18, 0, 50);
	assert_int_equal(reply_type(e, &c), DHCP_NAK);
	/* Outside all our subnets, INIT-REBOOT on our wire: wrong network, NAK; RENEWING an
	 * address of no subnet of ours: silence (another server's client). */
	rn.ciaddr = rn.src_ip = IP4(198, 19, 1, 1);
	assert_int_equal(handle(e, &rn), -SB_DROP_DHCP_UNKNOWN_LEASE);
}

static void test_renew_rebind(void **state)
{
	struct env *e = *state;
	struct dhcp_msg r;
	uint8_t m[6];
	mac_n(m, 50);
	uint32_t ip = bind(e, 50);

	/* RENEWING: unicast from ciaddr to us. */
	struct cmsg c = {.type = DHCP_REQUEST, .ciaddr = ip, .src_ip = ip, .dst_ip = SERVER_IP};
	memcpy(c.mac, m, 6);
	int n = handle(e, &c);
	parse_reply(e, n, &r);
	assert_int_equal(r.type, DHCP_ACK);
	assert_int_equal(r.yiaddr, ip);
	assert_int_equal(r.ciaddr, ip);
	assert_int_equal(e->dst.dst_ip, ip);
	assert_int_equal(e->dst.dst_port, 68);
	assert_memory_equal(e->dst.dst_mac, m, 6);
	assert_int_equal(e->res_out.event, DHCP_LEASE_BOUND);

	/* REBINDING: broadcast, ciaddr set: still answered to ciaddr. */
	c.dst_ip = 0xffffffff;
	c.bcast_flag = true;
	n = handle(e, &c);
	parse_reply(e, n, &r);
	assert_int_equal(r.type, DHCP_ACK);
	assert_int_equal(e->dst.dst_ip, ip);

	/* Renewing an address that is not ours at all: silent. */
	c.ciaddr = c.src_ip = IP4(198, 19, 1, 1);
	assert_int_equal(handle(e, &c), -SB_DROP_DHCP_UNKNOWN_LEASE);
	/* Renewing another client's address: NAK, broadcast (never to ciaddr). */
	uint32_t other = bind(e, 51);
	c.ciaddr = c.src_ip = other;
	n = handle(e, &c);
	parse_reply(e, n, &r);
	assert_int_equal(r.type, DHCP_NAK);
	assert_int_equal(e->dst.dst_ip, 0xffffffff);
	/* A REQUEST with no address anywhere. */
	struct cmsg c2 = {.type = DHCP_REQUEST};
	memcpy(c2.mac, m, 6);
	assert_int_equal(handle(e, &c2), -SB_DROP_DHCP_NO_ADDR);
}

static void test_release_decline(void **state)
{
	struct env *e = *state;
	struct lease_info li;
	uint32_t ip = bind(e, 60);
	struct cmsg c = {.type = DHCP_RELEASE, .ciaddr = ip, .server_id = SERVER_IP};

	/* Someone else's release is refused. */
	mac_n(c.mac, 61);
	assert_int_equal(handle(e, &c), -SB_DROP_DHCP_LEASE_MISMATCH);
	/* For another server. */
	mac_n(c.mac, 60);
	c.server_id = IP4(198, 18, 0, 254);
	assert_int_equal(handle(e, &c), -SB_DROP_DHCP_NOT_FOR_US);
	c.server_id = SERVER_IP;
	assert_int_equal(handle(e, &c), 0);
	assert_int_equal(e->res_out.msg_in, DHCP_RELEASE);
	assert_int_equal(e->res_out.msg_out, 0);
	assert_int_equal(e->res_out.event, DHCP_LEASE_RELEASED);
	assert_int_equal(e->res_out.lease.ip, ip);
	assert_memory_equal(e->res_out.lease.mac, c.mac, 6);
	assert_int_equal(lease_find_ip(e->pool, ip, NOW, &li), 0);
	assert_int_equal(li.state, LEASE_FREE);
	c.ciaddr = 0;
	assert_int_equal(handle(e, &c), -SB_DROP_DHCP_NO_ADDR);

	/* DECLINE: quarantined, reported with its expiry. */
	ip = bind(e, 62);
	struct cmsg d = {.type = DHCP_DECLINE, .requested = ip, .server_id = SERVER_IP};
	mac_n(d.mac, 62);
	assert_int_equal(handle(e, &d), 0);
	assert_int_equal(e->res_out.event, DHCP_LEASE_DECLINED);
	assert_int_equal(e->res_out.lease.ip, ip);
	assert_int_equal(e->res_out.lease.expires, NOW + 600);
	assert_int_equal(lease_find_ip(e->pool, ip, NOW, &li), 0);
	assert_int_equal(li.state, LEASE_DECLINED);
	d.requested = 0;
	assert_int_equal(handle(e, &d), -SB_DROP_DHCP_NO_ADDR);
}

/*
 * RFC 2131 4.3.3: a reserved client that DECLINEs its address (someone else uses it) must
 * still boot: during the quarantine it gets a pool address and that REQUEST is ACKed (not
 * NAKed as "reserved elsewhere"); after the quarantine it is moved back to its reservation.
 */
static void test_reserved_decline_boots(void **state)
{
	struct env *e = *state;
	struct dhcp_msg r;
	const uint32_t resv = IP4(198, 18, 0, 50);

	assert_int_equal(dora_at(e, mac_res, NOW, 0), resv);
	decline_at(e, mac_res, resv, NOW + 1);
	uint32_t ip = dora_at(e, mac_res, NOW + 2, resv);
	assert_true(ip >= IP4(198, 18, 0, 100) && ip <= IP4(198, 18, 0, 103));
	/* INIT-REBOOT and RENEWING of the pool address during the quarantine: ACK. */
	struct cmsg c = {.type = DHCP_REQUEST, .requested = ip};
	memcpy(c.mac, mac_res, 6);
	int n = handle_at(e, &c, NOW + 100);
	parse_reply(e, n, &r);
	assert_int_equal(r.type, DHCP_ACK);
	struct cmsg rn = {.type = DHCP_REQUEST, .ciaddr = ip, .src_ip = ip, .dst_ip = SERVER_IP};
	memcpy(rn.mac, mac_res, 6);
	n = handle_at(e, &rn, NOW + 200);
	parse_reply(e, n, &r);
	assert_int_equal(r.type, DHCP_ACK);
	/* After the quarantine (600 s): the reservation again. */
	struct cmsg d = {.type = DHCP_DISCOVER};
	memcpy(d.mac, mac_res, 6);
	n = handle_at(e, &d, NOW + 1 + 600);
	parse_reply(e, n, &r);
	assert_int_equal(r.yiaddr, resv);
	assert_int_equal(dora_at(e, mac_res, NOW + 1 + 600, 0), resv);
}

/*
 * decline_quarantine 0: the declined address goes straight back to the pool, but not to the
 * client that just said it is in use (RFC 2131 4.3.3); other clients may have it.
 */
static void test_decline_no_quarantine(void **state)
{
	struct env *e = *state;
	struct dhcp_msg r;
	uint8_t m1[6], m2[6];
	mac_n(m1, 65);
	mac_n(m2, 66);

	e->cfg.dhcp.decline_quarantine = 0;
	uint32_t x = dora_at(e, m1, NOW, 0);
	decline_at(e, m1, x, NOW);
	assert_int_equal(e->res_out.lease.expires, NOW);
	/* At once, even asking for it by option 50: another address. */
	struct cmsg c = {.type = DHCP_DISCOVER, .requested = x};
	memcpy(c.mac, m1, 6);
	int n = handle_at(e, &c, NOW);
	parse_reply(e, n, &r);
	assert_int_equal(r.type, DHCP_OFFER);
	assert_true(r.yiaddr != x);
	uint32_t y = dora_at(e, m1, NOW + 1, x);
	assert_true(y != x);
	/* Another client can have x at once. */
	struct cmsg c2 = {.type = DHCP_DISCOVER, .requested = x};
	memcpy(c2.mac, m2, 6);
	n = handle_at(e, &c2, NOW + 1);
	parse_reply(e, n, &r);
	assert_int_equal(r.yiaddr, x);

	/* The reserved client: a pool address, ACKed. */
	const uint32_t resv = IP4(198, 18, 0, 50);
	assert_int_equal(dora_at(e, mac_res, NOW + 2, 0), resv);
	decline_at(e, mac_res, resv, NOW + 3);
	uint32_t p = dora_at(e, mac_res, NOW + 3, resv);
	assert_true(p != resv);
}

static void test_inform(void **state)
{
	struct env *e = *state;
	struct dhcp_msg r;
	uint8_t l;
	struct cmsg c = {.type = DHCP_INFORM,
			 .ciaddr = IP4(198, 18, 0, 7),
			 .src_ip = IP4(198, 18, 0, 7),
			 .dst_ip = SERVER_IP,
			 OPTS(55, 3, 1, 6, 51)};
	mac_n(c.mac, 70);

	int n = handle(e, &c);
	parse_reply(e, n, &r);
	assert_int_equal(r.type, DHCP_ACK);
	assert_int_equal(r.yiaddr, 0);
	assert_int_equal(r.ciaddr, IP4(198, 18, 0, 7));
	/* RFC 2131 4.3.5: no lease time. */
	assert_null(ropt(e, n, DHCP_OPT_LEASE_TIME, &l));
	assert_null(ropt(e, n, DHCP_OPT_T1, &l));
	assert_non_null(ropt(e, n, DHCP_OPT_DNS, &l));
	assert_int_equal(e->dst.dst_ip, IP4(198, 18, 0, 7));
	assert_int_equal(e->dst.dst_port, 68);
	assert_int_equal(e->res_out.event, DHCP_LEASE_NONE);
}

static void test_pool_exhaustion(void **state)
{
	struct env *e = *state;
	struct cmsg c = {.type = DHCP_DISCOVER};

	/* 4 dynamic addresses in subnet 0. */
	for (unsigned i = 0; i < 4; i++) {
		mac_n(c.mac, 100 + i);
		assert_true(handle(e, &c) > 0);
	}
	mac_n(c.mac, 104);
	assert_int_equal(handle(e, &c), -SB_DROP_DHCP_POOL_EXHAUSTED);
	assert_int_equal(e->res_out.msg_out, 0);
	/* The reserved client still gets its address. */
	memcpy(c.mac, mac_res, 6);
	struct dhcp_msg r;
	int n = handle(e, &c);
	parse_reply(e, n, &r);
	assert_int_equal(r.yiaddr, IP4(198, 18, 0, 50));
	/* And after an offer expires, the pool has room again. */
	struct wire w;
	mac_n(c.mac, 104);
	n = dhcp_server_handle(&e->srv, mk(&w, &c), NOW + 31, e->out, sizeof(e->out), &e->dst,
			       &e->res_out);
	assert_true(n > 0);
}

/* ---- PXE / iPXE / boot files ---- */

#define PXE_VC                                                                                     \
	60, 32, 'P', 'X', 'E', 'C', 'l', 'i', 'e', 'n', 't', ':', 'A', 'r', 'c', 'h', ':', '0',    \
		'0', '0', '0', '0', ':', 'U', 'N', 'D', 'I', ':', '0', '0', '2', '0', '0', '1'
#define HTTP_VC 60, 10, 'H', 'T', 'T', 'P', 'C', 'l', 'i', 'e', 'n', 't'
#define UUID97	97, 17, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16
#define ARCH(v) 93, 2, 0, v
#define IPXE_UC 77, 4, 'i', 'P', 'X', 'E'

struct boot_case {
	const char *name;
	const uint8_t *opts;
	size_t optlen;
	const char *file; /* NULL: no boot file */
	int arch;
	bool ipxe;
	const char *vclass; /* option 60 expected back, NULL: none */
};

#define BC(n, f, a, i, v, ...)                                                                     \
	{                                                                                          \
		n, (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__}), f, a,   \
			i, v                                                                       \
	}

static const struct boot_case boot_cases[] = {
	BC("plain client gets the default", "undionly.kpxe", SBCFG_ARCH_BIOS, false, NULL, 12, 2,
	   'h', 'i'),
	BC("BIOS PXE", "undionly.kpxe", SBCFG_ARCH_BIOS, false, "PXEClient", PXE_VC, ARCH(0),
	   UUID97),
	BC("BIOS PXE, arch from vendor class", "undionly.kpxe", SBCFG_ARCH_BIOS, false, "PXEClient",
	   PXE_VC),
	BC("UEFI IA32", "ipxe32.efi", SBCFG_ARCH_UEFI_IA32, false, "PXEClient", PXE_VC, ARCH(6)),
	BC("UEFI x64 (7)", "ipxe.efi", SBCFG_ARCH_UEFI_X64, false, "PXEClient", PXE_VC, ARCH(7)),
	BC("UEFI x64 (9)", "ipxe.efi", SBCFG_ARCH_UEFI_X64, false, "PXEClient", PXE_VC, ARCH(9)),
	BC("UEFI ARM64", "arm64/ipxe.efi", SBCFG_ARCH_UEFI_ARM64, false, "PXEClient", PXE_VC,
	   ARCH(11)),
	BC("UEFI HTTP x64", "http://198.18.0.1/ipxe.efi", SBCFG_ARCH_HTTP_X64, false, "HTTPClient",
	   HTTP_VC, ARCH(16)),
	BC("UEFI HTTP ARM64", "http://198.18.0.1/arm64.efi", SBCFG_ARCH_HTTP_ARM64, false,
	   "HTTPClient", HTTP_VC, ARCH(19)),
	BC("unknown arch: lease, no boot file, no PXE options", NULL, -ENOENT, false, NULL, PXE_VC,
	   ARCH(10)),
	/* iPXE: the script, never the binary again. */
	BC("iPXE BIOS (raw user class)", "boot.ipxe", SBCFG_ARCH_BIOS, true, "PXEClient", PXE_VC,
	   ARCH(0), IPXE_UC),
	BC("iPXE UEFI (RFC 3004 user class)", "boot.ipxe", SBCFG_ARCH_UEFI_X64, true, "PXEClient",
	   PXE_VC, ARCH(7), 77, 5, 4, 'i', 'P', 'X', 'E'),
	BC("iPXE, second RFC 3004 instance", "boot.ipxe", SBCFG_ARCH_UEFI_X64, true, "PXEClient",
	   PXE_VC, ARCH(7), 77, 9, 3, 'f', 'o', 'o', 4, 'i', 'P', 'X', 'E'),
	BC("iPXE by option 175", "boot.ipxe", SBCFG_ARCH_BIOS, true, "PXEClient", PXE_VC, ARCH(0),
	   175, 3, 0xb1, 1, 1),
	BC("user class that is not iPXE", "ipxe.efi", SBCFG_ARCH_UEFI_X64, false, "PXEClient",
	   PXE_VC, ARCH(7), 77, 5, 'g', 'P', 'X', 'E', '!'),
};

static void test_boot_files(void **state)
{
	struct env *e = *state;

	for (size_t i = 0; i < sizeof(boot_cases) / sizeof(boot_cases[0]); i++) {
		const struct boot_case *b = &boot_cases[i];
		struct dhcp_msg r;
		struct cmsg c = {.type = DHCP_DISCOVER, .opts = b->opts, .optlen = b->optlen};
		mac_n(c.mac, 200); /* same MAC: the pool is small */
		int n = handle(e, &c);
		if (n <= 0)
			fail_msg("%s: %s", b->name, sb_drop_name(n));
		parse_reply(e, n, &r);
		if (e->res_out.client.arch != b->arch || e->res_out.client.ipxe != b->ipxe)
			fail_msg("%s: arch %d ipxe %d", b->name, e->res_out.client.arch,
				 e->res_out.client.ipxe);
		if (b->file) {
			if (strcmp(r.file, b->file) != 0)
				fail_msg("%s: file '%s', expected '%s'", b->name, r.file, b->file);
			/* Boot clients always get 66/67. */
			if (b->vclass && !ropt_str(e, n, DHCP_OPT_BOOTFILE, b->file))
				fail_msg("%s: option 67 missing", b->name);
			assert_string_equal(e->res_out.bootfile, b->file);
		} else {
			if (r.file[0] || e->res_out.bootfile)
				fail_msg("%s: unexpected file '%s'", b->name, r.file);
			assert_int_equal(r.siaddr, 0);
		}
		uint8_t l;
		if (b->vclass) {
			if (!ropt_str(e, n, DHCP_OPT_VENDOR_CLASS, b->vclass))
				fail_msg("%s: option 60 not %s", b->name, b->vclass);
		} else if (ropt(e, n, DHCP_OPT_VENDOR_CLASS, &l)) {
			fail_msg("%s: option 60 sent to a non-PXE client", b->name);
		}
		/* PXE clients: 43 with discovery control 8; HTTP clients: no 43. */
		const uint8_t *v43 = ropt(e, n, DHCP_OPT_VENDOR_OPTS, &l);
		if (b->vclass && strcmp(b->vclass, "PXEClient") == 0) {
			if (!v43 || l != 4 || memcmp(v43, (const uint8_t[]){6, 1, 8, 255}, 4))
				fail_msg("%s: option 43 wrong", b->name);
		} else if (v43) {
			fail_msg("%s: unexpected option 43", b->name);
		}
		assert_int_equal(r.type, DHCP_OFFER);
		assert_true(r.yiaddr != 0);
	}
}

/*
 * UEFI HTTP boot of a protected loader: with control's token keys, the boot-file URL offered
 * to an HTTPClient carries ?t= a token for (its MAC, the offered address, the image, now +
 * token_ttl_s) that control's checker (boot_token_check) accepts, and for no other address,
 * image or later time. Without keys, for an unprotected image, or without an address
 * (proxyDHCP) the URL stays bare.
 */
static void test_http_boot_token(void **state)
{
	struct env *e = *state;
	struct sbcfg_image img[2];
	struct boot_token_keys k = {.cur_id = 3, .prev_id = 2};
	static const uint8_t x64[] = {HTTP_VC, ARCH(16)}, arm[] = {HTTP_VC, ARCH(19)},
			     pxe[] = {PXE_VC, ARCH(7)};
	const char *bare = "http://198.18.0.1/ipxe.efi";
	char url[300], tok[300];
	struct dhcp_msg r;
	uint8_t l = 0, mac[6];
	uint32_t kid;
	uint64_t exp;

	memset(img, 0, sizeof(img));
	strcpy(img[0].name, "ipxe.efi");
	img[0].protected_ = true;
	strcpy(img[1].name, "arm64.efi"); /* not protected */
	e->cfg.images = img;
	e->cfg.n_images = 2;
	e->cfg.http.token_ttl_s = 600;
	memset(k.cur, 0x5a, sizeof(k.cur));
	memset(k.prev, 0xa5, sizeof(k.prev));

	struct cmsg c = {.type = DHCP_DISCOVER, .opts = x64, .optlen = sizeof(x64)};
	mac_n(c.mac, 201);
	/* no keys (no control): the bare URL */
	int n = handle(e, &c);
	parse_reply(e, n, &r);
	assert_true(ropt_str(e, n, DHCP_OPT_BOOTFILE, bare));
	assert_false(e->res_out.token);

	e->srv.token_keys = &k;
	for (int step = 0; step < 2; step++) {
		if (step == 1) { /* the ACK carries one too */
			c.type = DHCP_REQUEST;
			c.requested = r.yiaddr;
			c.server_id = SERVER_IP;
		}
		n = handle(e, &c);
		parse_reply(e, n, &r);
		assert_int_equal(r.type, step ? DHCP_ACK : DHCP_OFFER);
		const uint8_t *v = ropt(e, n, DHCP_OPT_BOOTFILE, &l);
		assert_non_null(v);
		snprintf(url, sizeof(url), "%.*s", l, (const char *)v);
		assert_true(strncmp(url, bare, strlen(bare)) == 0);
		assert_true(strncmp(url + strlen(bare), "?t=", 3) == 0);
		snprintf(tok, sizeof(tok), "%s", url + strlen(bare) + 3);
		assert_true(e->res_out.token);
		assert_string_equal(e->res_out.bootfile, url);
		assert_string_equal(r.file, url); /* fits the 128-byte file field too */
		assert_int_equal(boot_token_parse(tok, mac, &kid, &exp), 0);
		assert_memory_equal(mac, c.mac, 6);
		assert_int_equal(kid, 3);
		assert_int_equal(exp, NOW + 600);
		assert_int_equal(boot_token_check(&k, tok, r.yiaddr, "ipxe.efi", NOW),
				 BOOT_TOKEN_OK);
		assert_int_equal(boot_token_check(&k, tok, r.yiaddr + 1, "ipxe.efi", NOW),
				 BOOT_TOKEN_BAD);
		assert_int_equal(boot_token_check(&k, tok, r.yiaddr, "vmlinuz", NOW),
				 BOOT_TOKEN_BAD);
		assert_int_equal(boot_token_check(&k, tok, r.yiaddr, "ipxe.efi", NOW + 601),
				 BOOT_TOKEN_EXPIRED);
	}
	/* another key: a token of a rotated-out key */
	struct boot_token_keys other = k;
	other.cur_id = 9, other.prev_id = 0;
	assert_int_equal(boot_token_check(&other, tok, r.yiaddr, "ipxe.efi", NOW),
			 BOOT_TOKEN_UNKNOWN_KEY);

	/* an unprotected image: bare */
	struct cmsg a = {.type = DHCP_DISCOVER, .opts = arm, .optlen = sizeof(arm)};
	mac_n(a.mac, 202);
	n = handle(e, &a);
	assert_true(ropt_str(e, n, DHCP_OPT_BOOTFILE, "http://198.18.0.1/arm64.efi"));
	assert_false(e->res_out.token);
	/* a PXE client of the same image name over TFTP: no URL, no token */
	struct cmsg p = {.type = DHCP_DISCOVER, .opts = pxe, .optlen = sizeof(pxe)};
	mac_n(p.mac, 203);
	n = handle(e, &p);
	assert_true(ropt_str(e, n, DHCP_OPT_BOOTFILE, "ipxe.efi"));
	assert_false(e->res_out.token);
	/* a URL with a query already: left alone */
	strcpy(e->cfg.dhcp.boot.by_arch[SBCFG_ARCH_HTTP_X64], "http://198.18.0.1/ipxe.efi?x=1");
	mac_n(c.mac, 204);
	c.type = DHCP_DISCOVER, c.requested = 0, c.server_id = 0;
	n = handle(e, &c);
	assert_true(ropt_str(e, n, DHCP_OPT_BOOTFILE, "http://198.18.0.1/ipxe.efi?x=1"));
	assert_false(e->res_out.token);
	e->cfg.images = NULL;
	e->cfg.n_images = 0;
}

/* proxyDHCP: no address offered, so no token (control could not tie an address to it). */
static void test_http_boot_token_proxy(void **state)
{
	struct env *e = *state;
	struct sbcfg_image img = {.name = "ipxe.efi", .protected_ = true};
	struct boot_token_keys k = {.cur_id = 1};
	static const uint8_t x64[] = {HTTP_VC, ARCH(16)};
	struct cmsg c = {.type = DHCP_DISCOVER, .opts = x64, .optlen = sizeof(x64)};

	e->cfg.images = &img;
	e->cfg.n_images = 1;
	e->cfg.http.token_ttl_s = 600;
	e->srv.token_keys = &k;
	mac_n(c.mac, 205);
	int n = handle(e, &c);
	assert_true(n > 0);
	assert_true(ropt_str(e, n, DHCP_OPT_BOOTFILE, "http://198.18.0.1/ipxe.efi"));
	assert_false(e->res_out.token);
	e->cfg.images = NULL;
	e->cfg.n_images = 0;
}

/* PXE 2.1: 97 echoed; the reply still parses as a PXE offer. */
static void test_pxe_uuid_echo(void **state)
{
	struct env *e = *state;
	struct dhcp_msg r;
	struct cmsg c = {.type = DHCP_DISCOVER, OPTS(PXE_VC, ARCH(7), UUID97, 94, 3, 1, 3, 16)};
	mac_n(c.mac, 210);

	int n = handle(e, &c);
	parse_reply(e, n, &r);
	assert_int_equal(r.client_uuid.len, 17);
	assert_int_equal(r.client_uuid.data[16], 16);
	assert_true(e->res_out.client.pxe);
	assert_int_equal(e->res_out.client.arch_type, 7);
}

/* syslog.enabled: PXE and iPXE clients get option 7 = our address; plain clients and a
 * config without syslog get none. */
static void test_syslog_option(void **state)
{
	struct env *e = *state;
	struct dhcp_msg r;
	struct cmsg pxe = {.type = DHCP_DISCOVER, OPTS(PXE_VC, ARCH(7))};
	struct cmsg plain = {.type = DHCP_DISCOVER};
	const uint8_t *v;
	uint8_t l;
	int n;

	mac_n(pxe.mac, 211);
	mac_n(plain.mac, 212);
	n = handle(e, &pxe);
	parse_reply(e, n, &r);
	assert_null(ropt(e, n, DHCP_OPT_LOG_SERVER, &l));
	e->cfg.syslog.enabled = true;
	n = handle(e, &pxe);
	parse_reply(e, n, &r);
	v = ropt(e, n, DHCP_OPT_LOG_SERVER, &l);
	assert_non_null(v);
	assert_int_equal(l, 4);
	assert_memory_equal(v, ((const uint8_t[]){198, 18, 0, 1}), 4);
	n = handle(e, &plain);
	parse_reply(e, n, &r);
	assert_null(ropt(e, n, DHCP_OPT_LOG_SERVER, &l));
}

/*
 * A malformed optional option (zero-length 12/60/77, odd 94/97, a duplicate) is ignored and
 * counted; the client still gets its OFFER. The protocol's own options stay strict.
 */
static void test_bad_optional_option_served(void **state)
{
	struct env *e = *state;
	struct dhcp_msg r;
	struct cmsg c = {.type = DHCP_DISCOVER,
			 OPTS(12, 0, 60, 0, 77, 0, 94, 2, 1, 2, 97, 16, 0, 1, 2, 3, 4, 5, 6, 7, 8,
			      9, 10, 11, 12, 13, 14, 15)};
	mac_n(c.mac, 7);

	int n = handle(e, &c);
	parse_reply(e, n, &r);
	assert_int_equal(r.type, DHCP_OFFER);
	assert_int_equal(e->res_out.anomalies, DHCP_ANOM_OPT_IGNORED);
	assert_false(e->res_out.client.pxe);
	/* A PXE client whose user class is sent twice: served, as PXE, not as iPXE. */
	struct cmsg c2 = {.type = DHCP_DISCOVER, OPTS(PXE_VC, ARCH(7), IPXE_UC, IPXE_UC)};
	mac_n(c2.mac, 7);
	n = handle(e, &c2);
	parse_reply(e, n, &r);
	assert_int_equal(e->res_out.anomalies, DHCP_ANOM_OPT_SPLIT);
	assert_true(e->res_out.client.pxe);
	assert_false(e->res_out.client.ipxe);
	assert_string_equal(r.file, "ipxe.efi");
	/* A clean request: no anomaly. */
	struct cmsg c3 = {.type = DHCP_DISCOVER};
	mac_n(c3.mac, 7);
	n = handle(e, &c3);
	assert_true(n > 0);
	assert_int_equal(e->res_out.anomalies, 0);
	/* 53 twice is still refused. */
	struct cmsg c4 = {.type = DHCP_DISCOVER, OPTS(53, 1, 1)};
	mac_n(c4.mac, 7);
	assert_int_equal(handle(e, &c4), -SB_DROP_DHCP_OPT_DUPLICATE);
}

/* Append option code with len bytes of fill after *n in buf. */
static void put_blob(uint8_t *buf, size_t *n, uint8_t code, uint8_t len, uint8_t fill)
{
	buf[(*n)++] = code;
	buf[(*n)++] = len;
	memset(buf + *n, fill, len);
	*n += len;
}

/* Append a 255-byte option 82: one circuit id sub-option of 253 bytes. */
static void put_opt82(uint8_t *buf, size_t *n)
{
	buf[(*n)++] = 82;
	buf[(*n)++] = 255;
	put_blob(buf, n, 1, 253, 'c');
}

/*
 * A reply that does not fit the client's maximum message (576 - 28 without option 57) is
 * built again with less, in the documented order (dhcp_server.h): T1/T2, the option 82 echo,
 * informational options, PXE extras, the boot options (the file field keeps the boot file),
 * mask and router. 53, 54, 51 and the client identifier echo (RFC 6842) always stay.
 */
static void test_reply_too_big_trims(void **state)
{
	struct env *e = *state;
	struct dhcp_msg r;
	uint8_t opts[600], l;
	size_t n = 0;

	/* Relayed, 82 of 255 bytes (one sub-option), client id of 30: does not fit with 82. */
	put_blob(opts, &n, 61, 30, 0x61);
	put_opt82(opts, &n);
	struct cmsg c = {.type = DHCP_DISCOVER,
			 .giaddr = RELAY_IP,
			 .src_ip = RELAY_IP,
			 .src_port = 67,
			 .src_mac = relay_mac,
			 .opts = opts,
			 .optlen = n};
	mac_n(c.mac, 12);
	int len = handle(e, &c);
	parse_reply(e, len, &r);
	assert_int_equal(r.type, DHCP_OFFER);
	assert_true(len <= 548);
	assert_null(r.relay_agent.data);
	assert_int_equal(r.client_id.len, 30);
	assert_int_equal(ropt32(e, len, DHCP_OPT_LEASE_TIME), 600);
	assert_int_equal(ropt32(e, len, DHCP_OPT_SUBNET_MASK), 0xffffff00);
	assert_null(ropt(e, len, DHCP_OPT_T1, &l)); /* RFC 2131 4.4.5 defaults */
	assert_int_equal(e->res_out.msg_out, DHCP_OFFER);
	assert_int_equal(e->res_out.anomalies, DHCP_ANOM_REPLY_TRIMMED);
	assert_int_equal(e->dst.dst_ip, RELAY_IP);
	/* The same with room (option 57 = 1500): everything, 82 echoed. */
	n = 0;
	put_blob(opts, &n, 61, 30, 0x61);
	opts[n++] = 57, opts[n++] = 2, opts[n++] = 0x05, opts[n++] = 0xdc;
	put_opt82(opts, &n);
	c.optlen = n;
	len = handle(e, &c);
	parse_reply(e, len, &r);
	assert_int_equal(r.relay_agent.len, 255);
	assert_non_null(ropt(e, len, DHCP_OPT_T1, &l));
	assert_int_equal(e->res_out.anomalies, 0);

	/* A PXE client with a 255-byte client id: the PXE and boot options go, the file field
	 * and siaddr still name the boot file. */
	static const uint8_t pxe[] = {PXE_VC, ARCH(7), UUID97};
	n = 0;
	memcpy(opts, pxe, sizeof(pxe));
	n = sizeof(pxe);
	put_blob(opts, &n, 61, 255, 0x61);
	struct cmsg p = {.type = DHCP_DISCOVER, .opts = opts, .optlen = n};
	mac_n(p.mac, 13);
	len = handle(e, &p);
	parse_reply(e, len, &r);
	assert_int_equal(r.type, DHCP_OFFER);
	assert_true(len <= 548);
	assert_string_equal(r.file, "ipxe.efi");
	assert_int_equal(r.siaddr, SERVER_IP);
	assert_int_equal(r.client_id.len, 255);
	assert_int_equal(ropt32(e, len, DHCP_OPT_LEASE_TIME), 3600);
	assert_null(ropt(e, len, DHCP_OPT_BOOTFILE, &l));
	assert_null(ropt(e, len, DHCP_OPT_VENDOR_OPTS, &l));
	assert_int_equal(e->res_out.anomalies, DHCP_ANOM_REPLY_TRIMMED);

	/* A NAK through the relay: without 82 it fits. */
	n = 0;
	put_blob(opts, &n, 61, 255, 0x61);
	put_opt82(opts, &n);
	c.type = DHCP_REQUEST;
	c.requested = IP4(198, 18, 0, 100); /* not the relay's subnet */
	c.optlen = n;
	mac_n(c.mac, 14);
	len = handle(e, &c);
	parse_reply(e, len, &r);
	assert_int_equal(r.type, DHCP_NAK);
	assert_int_equal(r.client_id.len, 255);
	assert_null(r.relay_agent.data);
	assert_int_equal(e->res_out.anomalies, DHCP_ANOM_REPLY_TRIMMED);
}

/* An iPXE client with no script configured must not get the iPXE binary again. */
static void test_no_chainload_loop(void **state)
{
	struct env *e = *state;
	struct dhcp_msg r;
	struct cmsg c = {.type = DHCP_DISCOVER, OPTS(PXE_VC, ARCH(0), IPXE_UC)};
	mac_n(c.mac, 220);

	e->cfg.dhcp.boot.ipxe_script[0] = 0;
	int n = handle(e, &c);
	parse_reply(e, n, &r);
	assert_string_equal(r.file, ""); /* undionly.kpxe is iPXE: skipped */
	assert_null(e->res_out.bootfile);
	/* A non-iPXE BIOS image (pxelinux) is fine to chain into. */
	strcpy(e->cfg.dhcp.boot.by_arch[SBCFG_ARCH_BIOS], "pxelinux.0");
	n = handle(e, &c);
	parse_reply(e, n, &r);
	assert_string_equal(r.file, "pxelinux.0");
	/* Same for the reservation override. */
	struct cmsg c2 = {.type = DHCP_DISCOVER, OPTS(PXE_VC, ARCH(7), IPXE_UC)};
	memcpy(c2.mac, mac_res, 6);
	strcpy(e->res[0].bootfile, "snponly.efi");
	strcpy(e->cfg.dhcp.boot.ipxe_script, "boot.ipxe");
	n = handle(e, &c2);
	parse_reply(e, n, &r);
	assert_string_equal(r.file, "boot.ipxe");

	assert_true(pxe_is_ipxe_binary("ipxe.efi"));
	assert_true(pxe_is_ipxe_binary("bios/undionly.kkpxe"));
	assert_true(pxe_is_ipxe_binary("x/IPXE.PXE"));
	assert_false(pxe_is_ipxe_binary("boot.ipxe"));
	assert_false(pxe_is_ipxe_binary("ipxe/menu.ipxe"));
	assert_false(pxe_is_ipxe_binary("pxelinux.0"));
	assert_false(pxe_is_ipxe_binary("grubx64.efi"));
}

static void test_reservations(void **state)
{
	struct env *e = *state;
	struct dhcp_msg r;
	struct cmsg c = {.type = DHCP_DISCOVER, OPTS(PXE_VC, ARCH(7), 55, 2, 12, 67)};
	memcpy(c.mac, mac_res, 6);

	int n = handle(e, &c);
	parse_reply(e, n, &r);
	assert_int_equal(r.yiaddr, IP4(198, 18, 0, 50));
	assert_string_equal(r.file, "custom/boot.efi");
	assert_true(ropt_str(e, n, DHCP_OPT_HOSTNAME, "vm-res"));
	assert_true(ropt_str(e, n, DHCP_OPT_BOOTFILE, "custom/boot.efi"));
	/* The reservation's bootfile wins over the iPXE script, too. */
	struct cmsg c1 = {.type = DHCP_DISCOVER, OPTS(PXE_VC, ARCH(7), IPXE_UC)};
	memcpy(c1.mac, mac_res, 6);
	n = handle(e, &c1);
	parse_reply(e, n, &r);
	assert_string_equal(r.file, "custom/boot.efi");

	/* Reservation with its own iPXE script and no address. */
	struct cmsg c2 = {.type = DHCP_DISCOVER, OPTS(PXE_VC, ARCH(7), IPXE_UC)};
	memcpy(c2.mac, mac_script, 6);
	n = handle(e, &c2);
	parse_reply(e, n, &r);
	assert_string_equal(r.file, "special.ipxe");
	assert_true(r.yiaddr >= IP4(198, 18, 0, 100) && r.yiaddr <= IP4(198, 18, 0, 103));
	/* Before iPXE runs (firmware PXE), it gets the per-arch binary. */
	struct cmsg c3 = {.type = DHCP_DISCOVER, OPTS(PXE_VC, ARCH(7))};
	memcpy(c3.mac, mac_script, 6);
	n = handle(e, &c3);
	parse_reply(e, n, &r);
	assert_string_equal(r.file, "ipxe.efi");
}

/* ---- port 4011 and proxyDHCP ---- */

static void test_port_4011_full_mode(void **state)
{
	struct env *e = *state;
	struct dhcp_msg r;
	uint8_t l;
	struct cmsg c = {.type = DHCP_REQUEST,
			 .ciaddr = IP4(198, 18, 0, 100),
			 .src_ip = IP4(198, 18, 0, 100),
			 .dst_ip = SERVER_IP,
			 .src_port = 68,
			 .dst_port = 4011,
			 OPTS(PXE_VC, ARCH(7), UUID97, 43, 7, 71, 4, 0x80, 0x00, 0, 0, 255)};
	mac_n(c.mac, 230);

	int n = handle(e, &c);
	parse_reply(e, n, &r);
	assert_int_equal(r.type, DHCP_ACK);
	assert_int_equal(r.yiaddr, 0);
	assert_string_equal(r.file, "ipxe.efi");
	assert_null(ropt(e, n, DHCP_OPT_LEASE_TIME, &l));
	assert_true(e->res_out.boot_only);
	assert_int_equal(e->res_out.event, DHCP_LEASE_NONE);
	/* Boot item echoed inside 43 (PXE boot server reply). */
	const uint8_t *v = ropt(e, n, DHCP_OPT_VENDOR_OPTS, &l);
	assert_non_null(v);
	const uint8_t want[] = {6, 1, 8, 71, 4, 0x80, 0x00, 0, 0, 255};
	assert_int_equal(l, sizeof(want));
	assert_memory_equal(v, want, sizeof(want));
	assert_int_equal(e->dst.dst_ip, IP4(198, 18, 0, 100));
	assert_int_equal(e->dst.dst_port, 68);
	assert_int_equal(e->dst.src_port, 4011);
	assert_memory_equal(e->dst.dst_mac, c.mac, 6);

	/* A non-PXE client on 4011, and a DISCOVER there. */
	struct cmsg c2 = c;
	c2.opts = NULL, c2.optlen = 0;
	assert_int_equal(handle(e, &c2), -SB_DROP_DHCP_PROXY_NOT_PXE);
	c.type = DHCP_DISCOVER;
	assert_int_equal(handle(e, &c), -SB_DROP_DHCP_PROXY_IGNORED);
}

static void test_proxy_mode(void **state)
{
	struct env *e = *state;
	struct dhcp_msg r;
	uint8_t l, codes[32];
	struct cmsg c = {.type = DHCP_DISCOVER,
			 .bcast_flag = true,
			 OPTS(PXE_VC, ARCH(0), UUID97, 55, 4, 1, 3, 66, 67)};
	mac_n(c.mac, 300);

	int n = handle(e, &c);
	parse_reply(e, n, &r);
	assert_int_equal(r.type, DHCP_OFFER);
	assert_int_equal(r.yiaddr, 0);
	assert_int_equal(r.siaddr, SERVER_IP);
	assert_string_equal(r.file, "undionly.kpxe");
	size_t k = ropt_codes(e, n, codes, 32);
	const uint8_t want[] = {53, 54, 66, 67, 60, 43, 97};
	assert_int_equal(k, sizeof(want));
	assert_memory_equal(codes, want, sizeof(want));
	assert_null(ropt(e, n, DHCP_OPT_SUBNET_MASK, &l));
	assert_int_equal(e->dst.dst_ip, 0xffffffff);
	assert_int_equal(e->res_out.event, DHCP_LEASE_NONE);
	assert_true(e->res_out.boot_only);
	/* Without the broadcast flag the client has no address: still broadcast. */
	c.bcast_flag = false;
	n = handle(e, &c);
	assert_true(n > 0);
	assert_int_equal(e->dst.dst_ip, 0xffffffff);

	/* Non-PXE clients are left to the real DHCP server. */
	struct cmsg c2 = {.type = DHCP_DISCOVER};
	mac_n(c2.mac, 301);
	assert_int_equal(handle(e, &c2), -SB_DROP_DHCP_PROXY_NOT_PXE);
	/* REQUEST on port 67 is for the real server. */
	c.type = DHCP_REQUEST;
	c.server_id = IP4(198, 18, 0, 254);
	c.requested = IP4(198, 18, 0, 77);
	assert_int_equal(handle(e, &c), -SB_DROP_DHCP_PROXY_IGNORED);
	/* The proxy REQUEST to 4011: ACK to the client's address and port. */
	struct cmsg c3 = {.type = DHCP_REQUEST,
			  .ciaddr = IP4(198, 18, 0, 77),
			  .src_ip = IP4(198, 18, 0, 77),
			  .dst_ip = SERVER_IP,
			  .src_port = 4011,
			  .dst_port = 4011,
			  OPTS(PXE_VC, ARCH(7), IPXE_UC)};
	mac_n(c3.mac, 300);
	n = handle(e, &c3);
	parse_reply(e, n, &r);
	assert_int_equal(r.type, DHCP_ACK);
	assert_string_equal(r.file, "boot.ipxe");
	assert_int_equal(e->dst.dst_ip, IP4(198, 18, 0, 77));
	assert_int_equal(e->dst.dst_port, 4011);
	assert_int_equal(e->dst.src_port, 4011);
	/* No boot file for this arch: nothing to say. */
	struct cmsg c4 = {.type = DHCP_DISCOVER, OPTS(PXE_VC, ARCH(10))};
	mac_n(c4.mac, 302);
	assert_int_equal(handle(e, &c4), -SB_DROP_DHCP_NO_BOOTFILE);
	/* Relayed proxy offer: to the relay. */
	struct cmsg c5 = {.type = DHCP_DISCOVER,
			  .giaddr = RELAY_IP,
			  .src_ip = RELAY_IP,
			  .src_port = 67,
			  .src_mac = relay_mac,
			  OPTS(PXE_VC, ARCH(0))};
	mac_n(c5.mac, 303);
	n = handle(e, &c5);
	parse_reply(e, n, &r);
	assert_int_equal(r.siaddr, IP4(198, 18, 0, 2));
	assert_int_equal(e->dst.dst_ip, RELAY_IP);
	assert_int_equal(e->dst.dst_port, 67);
}

/* ---- refusals ---- */

static void test_refusals(void **state)
{
	struct env *e = *state;
	struct wire w;
	struct cmsg c = {.type = DHCP_DISCOVER};
	mac_n(c.mac, 400);

	/* Malformed: the parse reason comes through. */
	const struct pkt_udp *in = mk(&w, &c);
	struct pkt_udp cut = *in;
	cut.payload_len = 100;
	assert_int_equal(dhcp_server_handle(&e->srv, &cut, NOW, e->out, sizeof(e->out), &e->dst,
					    &e->res_out),
			 -SB_DROP_DHCP_SHORT);
	cut.payload_len = in->payload_len - 1; /* END cut off */
	assert_int_equal(dhcp_server_handle(&e->srv, &cut, NOW, e->out, sizeof(e->out), &e->dst,
					    &e->res_out),
			 -SB_DROP_DHCP_OPT_NO_END);
	/* A server message type or a BOOTREPLY. */
	c.type = DHCP_OFFER;
	assert_int_equal(handle(e, &c), -SB_DROP_DHCP_NOT_REQUEST);
	c.type = DHCP_DISCOVER;
	in = mk(&w, &c);
	w.buf[0] = DHCP_BOOTREPLY;
	assert_int_equal(
		dhcp_server_handle(&e->srv, in, NOW, e->out, sizeof(e->out), &e->dst, &e->res_out),
		-SB_DROP_DHCP_NOT_REQUEST);
	/* Output buffer too small. */
	in = mk(&w, &c);
	assert_int_equal(dhcp_server_handle(&e->srv, in, NOW, e->out, 200, &e->dst, &e->res_out),
			 -SB_DROP_REPLY_TOO_BIG);
	/* DHCP off. */
	e->cfg.dhcp.mode = SBCFG_DHCP_OFF;
	assert_int_equal(handle(e, &c), -SB_DROP_DHCP_OFF);
	e->cfg.dhcp.mode = SBCFG_DHCP_FULL;
	/* No subnet holds the server's own address. */
	struct dhcp_server s2;
	assert_int_equal(dhcp_server_init(&s2, &e->cfg, e->pool, IP4(198, 19, 0, 1)), 0);
	in = mk(&w, &c);
	assert_int_equal(
		dhcp_server_handle(&s2, in, NOW, e->out, sizeof(e->out), &e->dst, &e->res_out),
		-SB_DROP_DHCP_NO_SUBNET);
	assert_int_equal(dhcp_server_init(&s2, &e->cfg, NULL, SERVER_IP), -EINVAL);
	/* Every drop reason has a name. */
	for (int i = SB_DROP_DHCP_SHORT; i <= SB_DROP_REPLY_TOO_BIG; i++)
		assert_string_not_equal(sb_drop_name(i), "unknown");
}

/* Every truncated prefix of a real request is refused without a reply. */
static int handle_prefix(const uint8_t *buf, size_t len, void *arg)
{
	struct env *e = arg;
	struct pkt_udp in = {.src_port = 68, .dst_port = 67, .dst_ip = 0xffffffff};

	in.payload = buf;
	in.payload_len = len;
	return dhcp_server_handle(&e->srv, &in, NOW, e->out, sizeof(e->out), &e->dst, &e->res_out);
}

static void test_prefixes(void **state)
{
	struct env *e = *state;
	struct wire w;
	struct cmsg c = {.type = DHCP_DISCOVER,
			 OPTS(PXE_VC, ARCH(7), UUID97, IPXE_UC, 55, 3, 1, 3, 6)};
	mac_n(c.mac, 500);
	const struct pkt_udp *in = mk(&w, &c);
	assert_true(handle_prefix(in->payload, in->payload_len, e) > 0);
	fixture_for_each_prefix(in->payload, in->payload_len, in->payload_len, handle_prefix, e);
}

/*
 * Replay real-client captures (tests/fixtures/dhcp) through pkt_parse_udp()
 * and the server, in order, against a config shaped like the lab that made
 * them (server 198.18.0.1, relay 198.18.1.1): every client message gets the
 * reply its type calls for, which parses back.
 */
static int setup_lab(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	env_config(e, SBCFG_DHCP_FULL);
	e->subnets[0].pool_start = IP4(198, 18, 0, 100);
	e->subnets[0].pool_end = IP4(198, 18, 0, 250);
	e->subnets[1].network = IP4(198, 18, 1, 0);
	e->subnets[1].pool_start = IP4(198, 18, 1, 100);
	e->subnets[1].pool_end = IP4(198, 18, 1, 250);
	e->subnets[1].router = IP4(198, 18, 1, 1);
	e->cfg.dhcp.n_reservations = 0;
	env_start(e);
	*state = e;
	return 0;
}

static void test_fixture_replay(void **state)
{
	struct env *e = *state;
	struct fixture_set set;
	size_t answered = 0;

	fixture_load("dhcp", &set);
	for (size_t i = 0; i < set.n; i++) {
		const struct fixture_pkt *p = &set.pkts[i];
		struct pkt_udp in;
		struct dhcp_msg q, r;
		if (!p->udp_payload || (p->dst_port != 67 && p->dst_port != 4011))
			continue;
		if (dhcp_parse(p->udp_payload, p->udp_len, &q) || q.op != DHCP_BOOTREQUEST)
			continue;
		assert_int_equal(pkt_parse_udp(p->frame, p->frame_len, false, &in), 0);
		int n = dhcp_server_handle(&e->srv, &in, NOW + i, e->out, sizeof(e->out), &e->dst,
					   &e->res_out);
		if (n == -SB_DROP_DHCP_NOT_FOR_US && q.server_id != SERVER_IP)
			continue; /* the capture's client chose another server */
		if (n < 0)
			fail_msg("%s #%u %s: %s", p->file, p->index, dhcp_msg_type_name(q.type),
				 sb_drop_name(n));
		if (n == 0) {
			if (q.type != DHCP_RELEASE && q.type != DHCP_DECLINE)
				fail_msg("%s #%u: no reply to %s", p->file, p->index,
					 dhcp_msg_type_name(q.type));
			continue;
		}
		parse_any_reply(e, n, &r);
		assert_int_equal(r.xid, q.xid);
		assert_memory_equal(r.chaddr, q.chaddr, 6);
		uint8_t want = q.type == DHCP_DISCOVER ? DHCP_OFFER : DHCP_ACK;
		if (r.type != want && !(q.type == DHCP_REQUEST && r.type == DHCP_NAK))
			fail_msg("%s #%u: %s answered with %s", p->file, p->index,
				 dhcp_msg_type_name(q.type), dhcp_msg_type_name(r.type));
		if (q.type == DHCP_REQUEST && q.requested_ip && r.type == DHCP_ACK)
			assert_int_equal(r.yiaddr, q.requested_ip);
		if (q.giaddr) {
			assert_int_equal(e->dst.dst_ip, q.giaddr);
			assert_int_equal(e->dst.dst_port, 67);
		}
		/* What each captured boot client must be given (see env_config). */
		static const struct {
			const char *prefix, *file;
		} boot[] = {
			{"ipxe-bios", "boot.ipxe"},    {"ipxe-efi", "boot.ipxe"},
			{"ovmf", "ipxe.efi"},	       {"udhcpc", "undionly.kpxe"},
			{"dhclient", "undionly.kpxe"},
		};
		for (size_t k = 0; k < sizeof(boot) / sizeof(boot[0]); k++)
			if (strncmp(p->file, boot[k].prefix, strlen(boot[k].prefix)) == 0 &&
			    r.type != DHCP_NAK && strcmp(r.file, boot[k].file) != 0)
				fail_msg("%s #%u: file '%s', expected '%s'", p->file, p->index,
					 r.file, boot[k].file);
		/* A client running iPXE never gets an iPXE binary. */
		if (e->res_out.client.ipxe && r.file && r.file[0])
			assert_false(pxe_is_ipxe_binary(r.file));
		answered++;
	}
	print_message("%zu real-client requests answered\n", answered);
	fixture_free(&set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_dora_broadcast, setup_full, teardown),
		cmocka_unit_test_setup_teardown(test_offer_unicast, setup_full, teardown),
		cmocka_unit_test_setup_teardown(test_lease_time_request, setup_full, teardown),
		cmocka_unit_test_setup_teardown(test_client_id_echo, setup_full, teardown),
		cmocka_unit_test_setup_teardown(test_relay, setup_full, teardown),
		cmocka_unit_test_setup_teardown(test_vlan_subnets, setup_full, teardown),
		cmocka_unit_test_setup_teardown(test_prl, setup_full, teardown),
		cmocka_unit_test_setup_teardown(test_selecting_other_server, setup_full, teardown),
		cmocka_unit_test_setup_teardown(test_init_reboot, setup_full, teardown),
		cmocka_unit_test_setup_teardown(test_request_outside_pools, setup_full, teardown),
		cmocka_unit_test_setup_teardown(test_renew_rebind, setup_full, teardown),
		cmocka_unit_test_setup_teardown(test_release_decline, setup_full, teardown),
		cmocka_unit_test_setup_teardown(test_reserved_decline_boots, setup_full, teardown),
		cmocka_unit_test_setup_teardown(test_decline_no_quarantine, setup_full, teardown),
		cmocka_unit_test_setup_teardown(test_inform, setup_full, teardown),
		cmocka_unit_test_setup_teardown(test_pool_exhaustion, setup_full, teardown),
		cmocka_unit_test_setup_teardown(test_boot_files, setup_full, teardown),
		cmocka_unit_test_setup_teardown(test_http_boot_token, setup_full, teardown),
		cmocka_unit_test_setup_teardown(test_http_boot_token_proxy, setup_proxy, teardown),
		cmocka_unit_test_setup_teardown(test_pxe_uuid_echo, setup_full, teardown),
		cmocka_unit_test_setup_teardown(test_syslog_option, setup_full, teardown),
		cmocka_unit_test_setup_teardown(test_bad_optional_option_served, setup_full,
						teardown),
		cmocka_unit_test_setup_teardown(test_reply_too_big_trims, setup_full, teardown),
		cmocka_unit_test_setup_teardown(test_no_chainload_loop, setup_full, teardown),
		cmocka_unit_test_setup_teardown(test_reservations, setup_full, teardown),
		cmocka_unit_test_setup_teardown(test_port_4011_full_mode, setup_full, teardown),
		cmocka_unit_test_setup_teardown(test_proxy_mode, setup_proxy, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup_full, teardown),
		cmocka_unit_test_setup_teardown(test_prefixes, setup_full, teardown),
		cmocka_unit_test_setup_teardown(test_fixture_replay, setup_lab, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
