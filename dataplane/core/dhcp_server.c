/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dhcp_server.h"

#include "catalog.h"
#include "sb_drop.h"

#define BCAST_IP 0xffffffffu

static const uint8_t bcast_mac[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static void be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static int subnet_of(const struct sbcfg_dhcp *d, uint32_t ip)
{
	for (size_t i = 0; i < d->n_subnets; i++) {
		const struct sbcfg_subnet *sn = &d->subnets[i];
		if ((ip & sn->netmask) == (sn->network & sn->netmask))
			return (int)i;
	}
	return -1;
}

static bool in_subnet(const struct sbcfg_subnet *sn, uint32_t ip)
{
	return (ip & sn->netmask) == (sn->network & sn->netmask);
}

static const struct sbcfg_reservation *find_reservation(const struct sbcfg_dhcp *d,
							const uint8_t mac[6])
{
	for (size_t i = 0; i < d->n_reservations; i++)
		if (memcmp(d->reservations[i].mac, mac, 6) == 0)
			return &d->reservations[i];
	return NULL;
}

int dhcp_server_init(struct dhcp_server *s, const struct sbcfg *cfg, struct lease_pool *pool,
		     uint32_t server_ip)
{
	if (!s || !cfg || !server_ip)
		return -EINVAL;
	if (cfg->dhcp.mode == SBCFG_DHCP_FULL && !pool)
		return -EINVAL;
	memset(s, 0, sizeof(*s));
	s->cfg = cfg;
	s->pool = pool;
	s->server_ip = server_ip;
	s->own_subnet = subnet_of(&cfg->dhcp, server_ip);
	return 0;
}

/* Everything needed to write an OFFER/ACK. */
struct reply_ctx {
	const struct dhcp_server *s;
	const struct pkt_udp *in;
	const struct dhcp_msg *m;
	const struct pxe_client *c;
	const struct sbcfg_subnet *sn; /* NULL: boot-only reply with no subnet known */
	const struct sbcfg_reservation *rsv;
	const char *bootfile;
	uint8_t type;
	uint32_t yiaddr, ciaddr;
	uint32_t lease_time; /* 0 = no lease options (INFORM, boot-only) */
	bool boot_only;
	uint64_t now;
	char *token_url; /* the server's buffer for a URL with a token */
};

/*
 * Trim levels. A reply that does not fit the client's maximum message (RFC 2131 2, option
 * 57) is built again leaving out, level by level and cumulatively:
 *   1. T1/T2 (58/59): they are the RFC 2131 4.4.5 defaults, the client computes the same;
 *   2. the option 82 echo (RFC 3046 2.2 asks for it, but a reply without it beats none);
 *   3. hostname, DNS servers, domain name (12, 6, 15);
 *   4. PXE extras: vendor options (43), the UUID echo (97);
 *   5. boot options 60, 66, 67 (siaddr and the file field still name the boot file);
 *   6. subnet mask and router (1, 3).
 * 53, 54, 51 and the client identifier echo (61, RFC 6842 3) always stay. A NAK loses 82,
 * then its message (56). What still does not fit is -SB_DROP_REPLY_TOO_BIG.
 */
enum trim_level {
	TRIM_NONE = 0,
	TRIM_T1T2,
	TRIM_RELAY_AGENT,
	TRIM_INFO,
	TRIM_PXE,
	TRIM_BOOT,
	TRIM_NETWORK,
};

/* One option the reply can carry. */
struct opt_ent {
	uint8_t code;
	uint8_t len;
	uint8_t trim; /* enum trim_level that leaves it out, TRIM_NONE = never */
	bool always;  /* sent even when not in the parameter request list */
	bool done;
	const void *data;
};

static void add_opt(struct opt_ent *t, size_t *n, uint8_t code, size_t len, const void *data,
		    bool always, enum trim_level trim)
{
	if (len > 255)
		len = 255;
	t[(*n)++] = (struct opt_ent){code, (uint8_t)len, (uint8_t)trim, always, false, data};
}

static void put_opt(struct dhcp_builder *b, struct opt_ent *e, int level)
{
	e->done = true;
	if (e->trim != TRIM_NONE && e->trim <= level)
		return;
	if (e->always)
		dhcp_opt_put_req(b, e->code, e->len, e->data);
	else
		dhcp_opt_put(b, e->code, e->len, e->data);
}

static uint32_t next_server(const struct dhcp_server *s, const struct sbcfg_subnet *sn)
{
	return sn && sn->next_server ? sn->next_server : s->server_ip;
}

static size_t fmt_ip(char *out, uint32_t ip)
{
	size_t n = 0;

	for (int i = 3; i >= 0; i--) {
		unsigned v = (ip >> (i * 8)) & 0xff;
		if (v >= 100)
			out[n++] = (char)('0' + v / 100);
		if (v >= 10)
			out[n++] = (char)('0' + v / 10 % 10);
		out[n++] = (char)('0' + v % 10);
		if (i)
			out[n++] = '.';
	}
	return n;
}

/*
 * Write an OFFER or ACK at trim level `level`: the options the client asked for
 * (55) in its order, then those we always send. RFC 2131 4.3.1: 51 and 54 are
 * required in OFFER and ACK (not in the ACK to an INFORM, 4.3.5).
 */
static int build_offer_ack(const struct reply_ctx *x, uint8_t *out, size_t cap, int level)
{
	const struct dhcp_server *s = x->s;
	const struct dhcp_msg *m = x->m;
	const struct sbcfg_subnet *sn = x->sn;
	struct dhcp_builder b;
	struct opt_ent t[24];
	size_t n = 0;
	uint8_t mask[4], router[4], dns[4 * SBCFG_MAX_DNS], lt[4], t1[4], t2[4], pxe43[16], logsrv[4];
	char tftp[16];
	uint32_t siaddr = next_server(s, sn);
	bool bootclient = x->c->pxe || x->c->http || x->c->ipxe;

	struct dhcp_reply r = {
		.type = x->type,
		.ciaddr = x->ciaddr,
		.yiaddr = x->yiaddr,
		.siaddr = x->bootfile ? siaddr : 0,
		.server_id = s->server_ip,
		.no_relay_agent = level >= TRIM_RELAY_AGENT,
		.file = x->bootfile,
	};
	int rc = dhcp_build_reply(&b, out, cap, m, &r);
	if (rc < 0)
		return rc;

	if (sn && !x->boot_only) {
		be32(mask, sn->netmask);
		add_opt(t, &n, DHCP_OPT_SUBNET_MASK, 4, mask, true, TRIM_NETWORK);
		if (sn->router) {
			be32(router, sn->router);
			add_opt(t, &n, DHCP_OPT_ROUTER, 4, router, true, TRIM_NETWORK);
		}
		if (sn->n_dns) {
			size_t nd = sn->n_dns > SBCFG_MAX_DNS ? SBCFG_MAX_DNS : sn->n_dns;
			for (size_t i = 0; i < nd; i++)
				be32(dns + 4 * i, sn->dns[i]);
			add_opt(t, &n, DHCP_OPT_DNS, 4 * nd, dns, false, TRIM_INFO);
		}
		if (x->rsv && x->rsv->hostname[0])
			add_opt(t, &n, DHCP_OPT_HOSTNAME,
				strnlen(x->rsv->hostname, sizeof(x->rsv->hostname)),
				x->rsv->hostname, true, TRIM_INFO);
		if (sn->domain[0])
			add_opt(t, &n, DHCP_OPT_DOMAIN, strnlen(sn->domain, sizeof(sn->domain)),
				sn->domain, false, TRIM_INFO);
	}
	if (x->lease_time) {
		/* RFC 2131 4.4.5: T1 defaults to 0.5, T2 to 0.875 of the lease. */
		be32(lt, x->lease_time);
		be32(t1, x->lease_time / 2);
		be32(t2, (uint32_t)((uint64_t)x->lease_time * 7 / 8));
		add_opt(t, &n, DHCP_OPT_LEASE_TIME, 4, lt, true, TRIM_NONE);
		add_opt(t, &n, DHCP_OPT_T1, 4, t1, true, TRIM_T1T2);
		add_opt(t, &n, DHCP_OPT_T2, 4, t2, true, TRIM_T1T2);
	}
	if (x->bootfile) {
		/* Boot clients (and proxy replies) always get 66/67, others when asked. */
		bool always = bootclient || x->boot_only;
		add_opt(t, &n, DHCP_OPT_TFTP_SERVER, fmt_ip(tftp, siaddr), tftp, always, TRIM_BOOT);
		add_opt(t, &n, DHCP_OPT_BOOTFILE, strnlen(x->bootfile, DHCP_SERVER_URL_MAX - 1),
			x->bootfile, always, TRIM_BOOT);
	}
	/*
	 * PXE 2.1 / UEFI HTTP boot: with a boot file, the server answers with the
	 * same vendor class (without one, "PXEClient" would send the client looking
	 * for a boot server we are not).
	 */
	if (!x->bootfile) {
		/* plain lease */
	} else if (x->c->http) {
		add_opt(t, &n, DHCP_OPT_VENDOR_CLASS, 10, "HTTPClient", true, TRIM_BOOT);
	} else if (x->c->pxe) {
		add_opt(t, &n, DHCP_OPT_VENDOR_CLASS, 9, "PXEClient", true, TRIM_BOOT);
		int l = pxe_build_vendor_opts(m, pxe43, sizeof(pxe43));
		if (l > 0)
			add_opt(t, &n, DHCP_OPT_VENDOR_OPTS, (size_t)l, pxe43, true, TRIM_PXE);
	}
	/* syslog: boot firmware (iPXE) sends its messages to the log server (RFC 2132 3.7);
	 * stormboot-control receives them for the client's timeline (docs/TIMELINE.md). */
	if (s->cfg->syslog.enabled && bootclient) {
		be32(logsrv, s->server_ip);
		add_opt(t, &n, DHCP_OPT_LOG_SERVER, 4, logsrv, true, TRIM_INFO);
	}
	/* PXE 2.1: the client's UUID/GUID (97) is echoed. */
	if (x->bootfile && (x->c->pxe || x->c->http) && m->client_uuid.data)
		add_opt(t, &n, DHCP_OPT_CLIENT_UUID, m->client_uuid.len, m->client_uuid.data, true,
			TRIM_PXE);

	/*
	 * RFC 2131 4.3.1: requested options first, in the client's order. A PXE ROM asks for
	 * 30-40 options, most of which we do not have: a bitmap of our codes skips those
	 * without a scan of the table.
	 */
	uint64_t have[4] = {0, 0, 0, 0};

	for (size_t k = 0; k < n; k++)
		have[t[k].code >> 6] |= 1ull << (t[k].code & 63);
	for (size_t i = 0; m->prl.data && i < m->prl.len; i++) {
		uint8_t code = m->prl.data[i];

		if (!(have[code >> 6] & (1ull << (code & 63))))
			continue;
		for (size_t k = 0; k < n; k++)
			if (t[k].code == code && !t[k].done)
				put_opt(&b, &t[k], level);
	}
	/* Then what we always send; with no list at all, everything we have. */
	for (size_t k = 0; k < n; k++)
		if (!t[k].done && (t[k].always || !m->prl.data))
			put_opt(&b, &t[k], level);
	return dhcp_build_finish(&b, m);
}

/*
 * UEFI HTTP boot of a protected loader: the boot-file URL offered to an HTTPClient that gets
 * an address carries a boot token for (chaddr, yiaddr, image, now + token_ttl_s), so that the
 * firmware's first fetch passes control's check (docs/SECURITY.md). The image is the URL's
 * path, normalised as the HTTP server and TFTP do. NULL when no token applies: no keys, not
 * an HTTP client, no address (proxyDHCP: control could not tie the address to the MAC), a
 * URL with a query already, an unprotected image, or a URL too long for option 67.
 */
static const char *token_url(const struct reply_ctx *x)
{
	const struct sbcfg *cfg = x->s->cfg;
	const char *u = x->bootfile, *p;
	char key[SBCFG_NAME_MAX], tok[BOOT_TOKEN_MAX];
	size_t i;

	if (!x->s->token_keys || !x->c->http || !x->yiaddr || x->boot_only || !x->token_url)
		return NULL;
	if (!(p = strstr(u, "://")) || !(p = strchr(p + 3, '/')) || strpbrk(p, "?#"))
		return NULL;
	if (catalog_normalize(p, strlen(p), key, sizeof(key)) < 0)
		return NULL;
	for (i = 0; i < cfg->n_images; i++)
		if (cfg->images[i].protected_ && strcmp(cfg->images[i].name, key) == 0)
			break;
	if (i == cfg->n_images)
		return NULL;
	boot_token_make(x->s->token_keys, x->m->chaddr, x->yiaddr, key,
			x->now + cfg->http.token_ttl_s, tok);
	int n = snprintf(x->token_url, DHCP_SERVER_URL_MAX, "%s?t=%s", u, tok);
	return n > 0 && n < DHCP_SERVER_URL_MAX ? x->token_url : NULL;
}

/* An OFFER/ACK at the first trim level where it fits (see enum trim_level). */
static int build_fitting(const struct reply_ctx *x, uint8_t *out, size_t cap,
			 struct dhcp_result *res)
{
	int rc = -SB_DROP_REPLY_TOO_BIG;
	struct reply_ctx tx;
	const char *tu = x->bootfile ? token_url(x) : NULL;

	if (tu) {
		tx = *x;
		tx.bootfile = tu;
		x = &tx;
		res->bootfile = tu;
		res->token = true;
	}

	for (int level = TRIM_NONE; level <= TRIM_NETWORK && rc == -SB_DROP_REPLY_TOO_BIG;
	     level++) {
		rc = build_offer_ack(x, out, cap, level);
		if (rc > 0 && level > TRIM_NONE)
			res->anomalies |= DHCP_ANOM_REPLY_TRIMMED;
	}
	return rc;
}

/*
 * RFC 2131 4.3.2: DHCPNAK carries 54 and optionally 56, no address, no lease options.
 * Trim level 1 leaves out the option 82 echo, 2 the message (56).
 */
static int build_nak(const struct dhcp_server *s, const struct dhcp_msg *m, const char *why,
		     uint8_t *out, size_t cap, int level)
{
	struct dhcp_builder b;
	struct dhcp_reply r = {
		.type = DHCP_NAK,
		.server_id = s->server_ip,
		.broadcast = m->giaddr != 0, /* 4.3.2: relayed NAKs set the broadcast bit */
		.no_relay_agent = level >= 1,
	};
	int rc = dhcp_build_reply(&b, out, cap, m, &r);
	if (rc < 0)
		return rc;
	if (level < 2)
		dhcp_opt_put_req(&b, DHCP_OPT_MESSAGE, strnlen(why, 255), why);
	return dhcp_build_finish(&b, m);
}

/* RFC 2131 4.1: where a reply to a port-67 request goes. */
static void reply_dest(const struct dhcp_server *s, const struct pkt_udp *in,
		       const struct dhcp_msg *m, uint8_t type, uint32_t yiaddr, struct pkt_dest *d)
{
	d->src_ip = s->server_ip;
	d->src_port = SB_PORT_DHCP_SERVER;
	if (m->giaddr) {
		/* To the relay's server port (RFC 1542 4.1.2); the relay is the frame's sender. */
		d->dst_ip = m->giaddr;
		d->dst_port = SB_PORT_DHCP_SERVER;
		memcpy(d->dst_mac, in->src_mac, 6);
		return;
	}
	d->dst_port = SB_PORT_DHCP_CLIENT;
	if (m->ciaddr && type != DHCP_NAK) {
		d->dst_ip = m->ciaddr;
		memcpy(d->dst_mac, in->src_mac, 6);
		return;
	}
	if (type == DHCP_NAK || (m->flags & DHCP_FLAG_BROADCAST) || !yiaddr) {
		d->dst_ip = BCAST_IP;
		memcpy(d->dst_mac, bcast_mac, 6);
		return;
	}
	/* The client has no address yet: unicast at its MAC, no ARP needed. */
	d->dst_ip = yiaddr;
	memcpy(d->dst_mac, m->chaddr, 6);
}

static uint32_t effective_lease_time(const struct dhcp_server *s, const struct sbcfg_subnet *sn,
				     const struct dhcp_msg *m)
{
	uint32_t t = sn->lease_time;

	/*
	 * RFC 2131 4.3.1: the client may ask for a lease time (51); we keep it within
	 * [min_lease_time, max_lease_time] (the cap wins in a config that inverts them).
	 */
	if (m->has_lease_time && m->lease_time) {
		uint32_t floor = s->cfg->dhcp.min_lease_time;
		uint32_t cap = s->cfg->dhcp.max_lease_time ? s->cfg->dhcp.max_lease_time : t;
		t = m->lease_time < floor ? floor : m->lease_time;
		t = t < cap ? t : cap;
	}
	return t;
}

/*
 * Subnet of an unrelayed request with nothing else to go by: the one mapped to the VLAN
 * ID of the innermost 802.1Q tag (dhcp.subnets[].vlan; VID 0 is a priority tag, IEEE
 * 802.1Q 9.6: untagged), else, untagged, the subnet holding server_ip.
 */
static int local_subnet(const struct dhcp_server *s, const struct pkt_udp *in)
{
	const struct sbcfg_dhcp *d = &s->cfg->dhcp;
	uint16_t vid = in->n_vlans ? in->vlan_tci[in->n_vlans - 1] & 0x0fff : 0;

	if (vid) {
		for (size_t i = 0; i < d->n_subnets; i++)
			if (d->subnets[i].vlan == vid)
				return (int)i;
		return -SB_DROP_DHCP_VLAN_NO_SUBNET;
	}
	return s->own_subnet >= 0 ? s->own_subnet : -SB_DROP_DHCP_NO_SUBNET;
}

/* Subnet for a message at port 67; -SB_DROP_DHCP_(VLAN_)NO_SUBNET if none. */
static int pick_subnet(const struct dhcp_server *s, const struct pkt_udp *in,
		       const struct dhcp_msg *m)
{
	const struct sbcfg_dhcp *d = &s->cfg->dhcp;
	int i;

	if (m->giaddr) {
		i = subnet_of(d, m->giaddr);
		return i >= 0 ? i : -SB_DROP_DHCP_NO_SUBNET;
	}
	/* A unicast renewal may come from a client on a routed subnet. */
	if (m->ciaddr && in->dst_ip == s->server_ip) {
		i = subnet_of(d, m->ciaddr);
		if (i >= 0)
			return i;
	}
	return local_subnet(s, in);
}

static int map_lease_err(int rc)
{
	return rc == -ENOSPC ? -SB_DROP_DHCP_POOL_EXHAUSTED : -SB_DROP_DHCP_UNKNOWN_LEASE;
}

static int do_discover(struct dhcp_server *s, struct reply_ctx *x, uint64_t now, uint8_t *out,
		       size_t cap, struct pkt_dest *dst, struct dhcp_result *res)
{
	int si = pick_subnet(s, x->in, x->m);
	if (si < 0)
		return si;
	uint32_t ip;
	int rc = lease_offer(s->pool, (uint16_t)si, x->m->chaddr, x->m->requested_ip, now, &ip);
	if (rc < 0)
		return map_lease_err(rc);

	x->sn = &s->cfg->dhcp.subnets[si];
	x->type = DHCP_OFFER;
	x->yiaddr = ip;
	x->lease_time = effective_lease_time(s, x->sn, x->m);
	res->event = DHCP_LEASE_OFFERED;
	res->lease = (struct lease_info){
		.ip = ip,
		.state = LEASE_OFFERED,
		.expires = now + s->cfg->dhcp.offer_hold,
		.subnet = (uint16_t)si,
	};
	memcpy(res->lease.mac, x->m->chaddr, 6);

	rc = build_fitting(x, out, cap, res);
	if (rc < 0)
		return rc;
	res->msg_out = DHCP_OFFER;
	reply_dest(s, x->in, x->m, DHCP_OFFER, ip, dst);
	return rc;
}

static int nak(struct dhcp_server *s, const struct reply_ctx *x, const char *why, uint8_t *out,
	       size_t cap, struct pkt_dest *dst, struct dhcp_result *res)
{
	int rc = -SB_DROP_REPLY_TOO_BIG;

	for (int level = 0; level <= 2 && rc == -SB_DROP_REPLY_TOO_BIG; level++) {
		rc = build_nak(s, x->m, why, out, cap, level);
		if (rc > 0 && level > 0)
			res->anomalies |= DHCP_ANOM_REPLY_TRIMMED;
	}
	if (rc < 0)
		return rc;
	res->msg_out = DHCP_NAK;
	reply_dest(s, x->in, x->m, DHCP_NAK, 0, dst);
	return rc;
}

/* Bind ip in subnet si and ACK, or NAK as RFC 2131 4.3.2 says. */
static int commit_and_ack(struct dhcp_server *s, struct reply_ctx *x, int si, uint32_t ip,
			  uint64_t now, uint8_t *out, size_t cap, struct pkt_dest *dst,
			  struct dhcp_result *res)
{
	const struct sbcfg_subnet *sn = &s->cfg->dhcp.subnets[si];

	/* The client is on another subnet than its address (moved). */
	if (!in_subnet(sn, ip))
		return nak(s, x, "wrong network", out, cap, dst, res);
	/*
	 * A client with a reserved address gets that one only, unless it DECLINEd it
	 * (RFC 2131 4.3.3): then the pool address it was offered meanwhile is ACKed.
	 */
	uint32_t rip;
	if (lease_reservation(s->pool, x->m->chaddr, (uint16_t)si, now, &rip) == 0 && rip != ip)
		return nak(s, x, "address reserved elsewhere", out, cap, dst, res);

	uint32_t lt = effective_lease_time(s, sn, x->m);
	struct lease_info li;
	int rc = lease_commit(s->pool, x->m->chaddr, ip, lt, now, &li);
	/*
	 * RFC 2131 4.3.2: in our subnet but in no pool and not reserved: incorrect for the
	 * client's network as far as this server knows, NAK (the subnet is ours to manage).
	 */
	if (rc == -ENOENT)
		return nak(s, x, "address not in any pool", out, cap, dst, res);
	if (rc == -EADDRINUSE)
		return nak(s, x, "address not available", out, cap, dst, res);
	if (rc < 0)
		return -SB_DROP_DHCP_UNKNOWN_LEASE;

	x->sn = sn;
	x->type = DHCP_ACK;
	x->yiaddr = ip;
	x->ciaddr = x->m->ciaddr;
	x->lease_time = lt;
	res->event = DHCP_LEASE_BOUND;
	res->lease = li;
	rc = build_fitting(x, out, cap, res);
	if (rc < 0)
		return rc;
	res->msg_out = DHCP_ACK;
	reply_dest(s, x->in, x->m, DHCP_ACK, ip, dst);
	return rc;
}

static int do_request(struct dhcp_server *s, struct reply_ctx *x, uint64_t now, uint8_t *out,
		      size_t cap, struct pkt_dest *dst, struct dhcp_result *res)
{
	const struct dhcp_msg *m = x->m;

	if (m->server_id) {
		/* SELECTING. Another server's id: the client declined our offer. */
		if (m->server_id != s->server_ip) {
			struct lease_info li;
			if (lease_find_mac(s->pool, m->chaddr, now, &li) == 0 &&
			    li.state == LEASE_OFFERED)
				lease_release(s->pool, m->chaddr, li.ip, now);
			return -SB_DROP_DHCP_NOT_FOR_US;
		}
		uint32_t ip = m->requested_ip ? m->requested_ip : m->ciaddr;
		if (!ip)
			return -SB_DROP_DHCP_NO_ADDR;
		int si = pick_subnet(s, x->in, m);
		if (si < 0)
			return si;
		return commit_and_ack(s, x, si, ip, now, out, cap, dst, res);
	}
	if (m->requested_ip && !m->ciaddr) {
		/* INIT-REBOOT: 4.3.2, NAK if wrong for the network. */
		int si = pick_subnet(s, x->in, m);
		if (si < 0)
			return si;
		return commit_and_ack(s, x, si, m->requested_ip, now, out, cap, dst, res);
	}
	if (m->ciaddr) {
		/*
		 * RENEWING (unicast) or REBINDING (broadcast). An address in none of our
		 * subnets is another server's client: silence (4.3.2, coexistence).
		 */
		int si = pick_subnet(s, x->in, m);
		if (si < 0)
			return si;
		if (subnet_of(&s->cfg->dhcp, m->ciaddr) < 0)
			return -SB_DROP_DHCP_UNKNOWN_LEASE;
		return commit_and_ack(s, x, si, m->ciaddr, now, out, cap, dst, res);
	}
	return -SB_DROP_DHCP_NO_ADDR;
}

static int do_inform(struct dhcp_server *s, struct reply_ctx *x, uint8_t *out, size_t cap,
		     struct pkt_dest *dst, struct dhcp_result *res)
{
	const struct dhcp_msg *m = x->m;
	int si;

	/* RFC 2131 4.3.5: no lease, no yiaddr; the client's configuration only. */
	if (m->giaddr)
		si = subnet_of(&s->cfg->dhcp, m->giaddr);
	else if (m->ciaddr)
		si = subnet_of(&s->cfg->dhcp, m->ciaddr);
	else if ((si = local_subnet(s, x->in)) < 0)
		return si;
	if (si < 0)
		return -SB_DROP_DHCP_NO_SUBNET;
	x->sn = &s->cfg->dhcp.subnets[si];
	x->type = DHCP_ACK;
	x->ciaddr = m->ciaddr;
	int rc = build_fitting(x, out, cap, res);
	if (rc < 0)
		return rc;
	res->msg_out = DHCP_ACK;
	reply_dest(s, x->in, m, DHCP_ACK, 0, dst);
	return rc;
}

/* proxyDHCP OFFER (port 67) or PXE boot server ACK (port 4011): boot information only. */
static int do_boot_only(struct dhcp_server *s, struct reply_ctx *x, uint8_t type, uint8_t *out,
			size_t cap, struct pkt_dest *dst, struct dhcp_result *res)
{
	const struct dhcp_msg *m = x->m;
	const struct pkt_udp *in = x->in;

	if (!x->c->pxe && !x->c->http)
		return -SB_DROP_DHCP_PROXY_NOT_PXE;
	if (!x->bootfile)
		return -SB_DROP_DHCP_NO_BOOTFILE;
	int si;
	if (m->giaddr)
		si = subnet_of(&s->cfg->dhcp, m->giaddr);
	else if (m->ciaddr)
		si = subnet_of(&s->cfg->dhcp, m->ciaddr);
	else if ((si = local_subnet(s, in)) < 0)
		si = s->own_subnet; /* only picks the next server: no reason to refuse */
	x->sn = si >= 0 ? &s->cfg->dhcp.subnets[si] : NULL;
	x->type = type;
	x->boot_only = true;
	x->ciaddr = m->ciaddr;
	res->boot_only = true;
	int rc = build_fitting(x, out, cap, res);
	if (rc < 0)
		return rc;
	res->msg_out = type;
	if (in->dst_port == SB_PORT_PXE) {
		/* PXE 2.1: the boot server answers to the request's source. */
		dst->src_ip = s->server_ip;
		dst->src_port = SB_PORT_PXE;
		dst->dst_port = in->src_port;
		if (in->src_ip) {
			dst->dst_ip = in->src_ip;
			memcpy(dst->dst_mac, in->src_mac, 6);
		} else {
			dst->dst_ip = BCAST_IP;
			memcpy(dst->dst_mac, bcast_mac, 6);
		}
	} else {
		reply_dest(s, in, m, type, 0, dst);
	}
	return rc;
}

int dhcp_server_handle(struct dhcp_server *s, const struct pkt_udp *in, uint64_t now, uint8_t *out,
		       size_t cap, struct pkt_dest *dst, struct dhcp_result *res)
{
	const struct sbcfg_dhcp *d = &s->cfg->dhcp;
	struct dhcp_msg m;
	struct pxe_client c;

	memset(res, 0, sizeof(*res));
	memset(dst, 0, sizeof(*dst));
	if (d->mode == SBCFG_DHCP_OFF)
		return -SB_DROP_DHCP_OFF;
	int rc = dhcp_parse(in->payload, in->payload_len, &m);
	if (rc < 0)
		return rc;
	res->msg_in = m.type;
	res->xid = m.xid;
	memcpy(res->mac, m.chaddr, 6);
	res->relayed = m.giaddr != 0;
	res->anomalies = m.anomalies;
	/* RFC 2131 4.1: a server only acts on client messages. */
	if (m.op != DHCP_BOOTREQUEST || m.type == DHCP_OFFER || m.type == DHCP_ACK ||
	    m.type == DHCP_NAK)
		return -SB_DROP_DHCP_NOT_REQUEST;

	pxe_classify(&m, &c);
	res->client = c;
	struct reply_ctx x = {
		.s = s,
		.in = in,
		.m = &m,
		.c = &c,
		.rsv = find_reservation(d, m.chaddr),
		.now = now,
		.token_url = s->token_url,
	};
	/* Plain clients (udhcpc, dhclient) get the BIOS/default boot file too, in the file field.
	 */
	x.bootfile = pxe_choose_bootfile(d, x.rsv, &c);
	res->bootfile = x.bootfile;

	if (in->dst_port == SB_PORT_PXE) {
		if (m.type != DHCP_REQUEST && m.type != DHCP_INFORM)
			return -SB_DROP_DHCP_PROXY_IGNORED;
		return do_boot_only(s, &x, DHCP_ACK, out, cap, dst, res);
	}
	if (d->mode == SBCFG_DHCP_PROXY) {
		if (!c.pxe && !c.http)
			return -SB_DROP_DHCP_PROXY_NOT_PXE;
		/* REQUESTs on 67 are for the real DHCP server; ours come to 4011. */
		if (m.type != DHCP_DISCOVER)
			return -SB_DROP_DHCP_PROXY_IGNORED;
		return do_boot_only(s, &x, DHCP_OFFER, out, cap, dst, res);
	}

	switch (m.type) {
	case DHCP_DISCOVER:
		return do_discover(s, &x, now, out, cap, dst, res);
	case DHCP_REQUEST:
		return do_request(s, &x, now, out, cap, dst, res);
	case DHCP_INFORM:
		return do_inform(s, &x, out, cap, dst, res);
	case DHCP_DECLINE:
	case DHCP_RELEASE: {
		/* RFC 2131 4.3.3/4.3.4: no reply; 54 names the server it is meant for. */
		if (m.server_id && m.server_id != s->server_ip)
			return -SB_DROP_DHCP_NOT_FOR_US;
		bool decline = m.type == DHCP_DECLINE;
		uint32_t ip = decline ? m.requested_ip : m.ciaddr;
		if (!ip)
			return -SB_DROP_DHCP_NO_ADDR;
		rc = decline ? lease_decline(s->pool, m.chaddr, ip, now)
			     : lease_release(s->pool, m.chaddr, ip, now);
		if (rc < 0)
			return -SB_DROP_DHCP_LEASE_MISMATCH;
		res->event = decline ? DHCP_LEASE_DECLINED : DHCP_LEASE_RELEASED;
		res->lease = (struct lease_info){
			.ip = ip,
			.state = decline ? LEASE_DECLINED : LEASE_FREE,
			.expires = decline ? now + d->decline_quarantine : now,
		};
		memcpy(res->lease.mac, m.chaddr, 6);
		int si = subnet_of(d, ip);
		res->lease.subnet = si >= 0 ? (uint16_t)si : 0;
		return 0;
	}
	}
	return -SB_DROP_DHCP_NOT_REQUEST;
}
