/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sbcfg_validate.c - pass 2 of loading a config (sbcfg_json.c is pass 1): every rule again on
 * the C struct, plus the rules that relate fields to each other (pools inside subnets,
 * duplicates, overlaps...), so that control checks a config it edited in C with the same code.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sbcfg_json.h"
#include "sbcfg_limits.h"
#include "sbcfg_names.h"
#include "sbcfg_reader.h"

struct sort_key {
	uint64_t key;
	size_t idx;
};

static int sort_key_cmp(const void *a, const void *b)
{
	const struct sort_key *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* First pair of equal keys (in sorted order): *first < *second, -1 if none. */
static int find_duplicate(struct sort_key *k, size_t n, size_t *first, size_t *second)
{
	qsort(k, n, sizeof(*k), sort_key_cmp);
	for (size_t i = 1; i < n; i++) {
		if (k[i].key == k[i - 1].key) {
			*first = k[i - 1].idx;
			*second = k[i].idx;
			return 0;
		}
	}
	return -1;
}

static uint32_t subnet_last(const struct sbcfg_subnet *s)
{
	return s->network | ~s->netmask;
}

static bool in_subnet(const struct sbcfg_subnet *s, uint32_t ip)
{
	return (ip & s->netmask) == s->network;
}

bool sbcfg_has_pool(const struct sbcfg_subnet *s)
{
	return s->pool_start != 0 || s->pool_end != 0;
}

const char *sbcfg_cidr_fmt(const struct sbcfg_subnet *s, char buf[20])
{
	char ip[16];

	snprintf(buf, 20, "%s/%d", sbcfg_ip_fmt(s->network, ip), sbr_mask_len(s->netmask));
	return buf;
}

/* A host address of subnet s: inside it, neither its network nor its broadcast address. */
static const char *host_problem(const struct sbcfg_subnet *s, uint32_t ip)
{
	if (!in_subnet(s, ip))
		return "is outside";
	if (ip == s->network)
		return "is the network address of";
	if (ip == subnet_last(s))
		return "is the broadcast address of";
	return NULL;
}

static bool out_of_range(unsigned long long v, unsigned long long lo, unsigned long long hi)
{
	return v < lo || v > hi;
}

#define CHECK_STR(m, s, fmt, ...)                                                                  \
	do {                                                                                       \
		const char *_p = sbr_str_problem((s), sizeof(s));                                  \
		if (_p)                                                                            \
			return sbr_vfail(m, fmt ": %s", ##__VA_ARGS__, _p);                        \
	} while (0)

#define CHECK_RANGE(m, v, lo, hi, fmt, ...)                                                        \
	do {                                                                                       \
		unsigned long long _v = (v);                                                       \
		if (out_of_range(_v, lo, hi))                                                      \
			return sbr_vfail(m, fmt ": %llu is out of range %llu..%llu",               \
					 ##__VA_ARGS__, _v, (unsigned long long)(lo),              \
					 (unsigned long long)(hi));                                \
	} while (0)

static int validate_top(const struct sbcfg *cfg, char *m)
{
	char a[16];

	CHECK_STR(m, cfg->interface, "interface");
	CHECK_STR(m, cfg->dpdk_port, "dpdk_port");
	CHECK_STR(m, cfg->xdp_prog, "xdp_prog");
	if (cfg->interface[0] == '\0' && cfg->dpdk_port[0] == '\0')
		return sbr_vfail(m, "interface: required field is missing (the boot interface; may "
				    "only be left out when dpdk_port names the port)");
	/* What the kernel's dev_valid_name() accepts. */
	if (strcmp(cfg->interface, ".") == 0 || strcmp(cfg->interface, "..") == 0 ||
	    strpbrk(cfg->interface, "/: \t"))
		return sbr_vfail(m, "interface: \"%s\" is not a valid interface name",
				 cfg->interface);
	if (cfg->xdp_prog[0] != '\0' && cfg->xdp_prog[0] != '/')
		return sbr_vfail(m, "xdp_prog: must be an absolute path");
	CHECK_RANGE(m, cfg->queues, 1, LIM_QUEUES_MAX, "queues");
	if (cfg->server_ip == 0)
		return sbr_vfail(m, "server_ip: required field is missing");
	if (!sbr_ip_is_unicast(cfg->server_ip))
		return sbr_vfail(m, "server_ip: %s is not a unicast host address",
				 sbcfg_ip_fmt(cfg->server_ip, a));
	if (cfg->server_mac[0] & 1)
		return sbr_vfail(m,
				 "server_mac: is a multicast address (low bit of the first byte)");
	if ((unsigned)cfg->udp_csum >= ARRAY_SIZE(sbcfg_csum_names))
		return sbr_vfail(m, "udp_checksum: invalid value %d", (int)cfg->udp_csum);
	return 0;
}

static int validate_boot(const struct sbcfg_dhcp *d, char *m)
{
	const struct sbcfg_bootfiles *b = &d->boot;
	bool any = false;

	for (int i = 0; i < SBCFG_ARCH__COUNT; i++) {
		const char *s = b->by_arch[i];

		CHECK_STR(m, b->by_arch[i], "dhcp.boot.%s", sbcfg_arch_keys[i]);
		any |= s[0] != '\0';
		bool http = i == SBCFG_ARCH_HTTP_X64 || i == SBCFG_ARCH_HTTP_ARM64;
		if (http && s[0] && strncmp(s, "http://", 7) != 0 && strncmp(s, "https://", 8) != 0)
			return sbr_vfail(m, "dhcp.boot.%s: UEFI HTTP boot needs a URL (http://...)",
					 sbcfg_arch_keys[i]);
	}
	CHECK_STR(m, b->ipxe_script, "dhcp.boot.ipxe_script");
	if (d->mode == SBCFG_DHCP_PROXY && !any)
		return sbr_vfail(
			m, "dhcp.boot: proxy mode only hands out boot files: set at least one "
			   "of bios, uefi_x64, uefi_ia32, uefi_arm64, http_x64, http_arm64");
	return 0;
}

static int validate_subnet(const struct sbcfg *cfg, size_t i, char *m)
{
	const struct sbcfg_dhcp *d = &cfg->dhcp;
	const struct sbcfg_subnet *s = &d->subnets[i];
	char a[16], b[16], net[20];
	const char *p;
	int len = sbr_mask_len(s->netmask);

	if (len < 0)
		return sbr_vfail(m, "dhcp.subnets[%zu].network: netmask %s is not contiguous", i,
				 sbcfg_ip_fmt(s->netmask, a));
	if (len < LIM_PREFIX_MIN || len > LIM_PREFIX_MAX)
		return sbr_vfail(
			m, "dhcp.subnets[%zu].network: prefix length /%d is out of range /%d../%d",
			i, len, LIM_PREFIX_MIN, LIM_PREFIX_MAX);
	if (s->network & ~s->netmask)
		return sbr_vfail(
			m,
			"dhcp.subnets[%zu].network: %s/%d has host bits set (the network is "
			"%s/%d)",
			i, sbcfg_ip_fmt(s->network, a), len,
			sbcfg_ip_fmt(s->network & s->netmask, b), len);
	if (!sbr_ip_is_unicast(s->network))
		return sbr_vfail(m, "dhcp.subnets[%zu].network: %s is not a unicast range", i,
				 sbcfg_cidr_fmt(s, net));
	sbcfg_cidr_fmt(s, net);

	if (sbcfg_has_pool(s)) {
		if (d->mode == SBCFG_DHCP_PROXY)
			return sbr_vfail(
				m,
				"dhcp.subnets[%zu].pool: proxy mode hands out no addresses "
				"(the other DHCP server does): remove the pool",
				i);
		if ((p = host_problem(s, s->pool_start)))
			return sbr_vfail(m, "dhcp.subnets[%zu].pool.start: %s %s subnet %s", i,
					 sbcfg_ip_fmt(s->pool_start, a), p, net);
		if ((p = host_problem(s, s->pool_end)))
			return sbr_vfail(m, "dhcp.subnets[%zu].pool.end: %s %s subnet %s", i,
					 sbcfg_ip_fmt(s->pool_end, a), p, net);
		if (s->pool_start > s->pool_end)
			return sbr_vfail(m, "dhcp.subnets[%zu].pool.start: %s is after pool.end %s",
					 i, sbcfg_ip_fmt(s->pool_start, a),
					 sbcfg_ip_fmt(s->pool_end, b));
		if ((uint64_t)s->pool_end - s->pool_start + 1 > LIM_POOL_MAX)
			return sbr_vfail(m, "dhcp.subnets[%zu].pool: %llu addresses, at most %u", i,
					 (unsigned long long)s->pool_end - s->pool_start + 1,
					 LIM_POOL_MAX);
		if (cfg->server_ip >= s->pool_start && cfg->server_ip <= s->pool_end)
			return sbr_vfail(m, "dhcp.subnets[%zu].pool: contains server_ip %s", i,
					 sbcfg_ip_fmt(cfg->server_ip, a));
	}
	if (s->router) {
		if ((p = host_problem(s, s->router)))
			return sbr_vfail(m, "dhcp.subnets[%zu].router: %s %s subnet %s", i,
					 sbcfg_ip_fmt(s->router, a), p, net);
		if (sbcfg_has_pool(s) && s->router >= s->pool_start && s->router <= s->pool_end)
			return sbr_vfail(m, "dhcp.subnets[%zu].router: %s is inside the pool", i,
					 sbcfg_ip_fmt(s->router, a));
	}
	if (s->n_dns > SBCFG_MAX_DNS)
		return sbr_vfail(m, "dhcp.subnets[%zu].dns: at most %d servers", i, SBCFG_MAX_DNS);
	for (unsigned j = 0; j < s->n_dns; j++)
		if (!sbr_ip_is_unicast(s->dns[j]))
			return sbr_vfail(m,
					 "dhcp.subnets[%zu].dns[%u]: %s is not a unicast address",
					 i, j, sbcfg_ip_fmt(s->dns[j], a));
	CHECK_STR(m, s->domain, "dhcp.subnets[%zu].domain", i);
	if ((p = sbr_hostname_problem(s->domain)))
		return sbr_vfail(m, "dhcp.subnets[%zu].domain: \"%s\" %s", i, s->domain, p);
	if (s->lease_time == 0 || s->lease_time > d->max_lease_time)
		return sbr_vfail(
			m,
			"dhcp.subnets[%zu].lease_time: %u is out of range 1..%u (max_lease_time)",
			i, s->lease_time, d->max_lease_time);
	if (s->vlan > LIM_VLAN_MAX)
		return sbr_vfail(m, "dhcp.subnets[%zu].vlan: %u is out of range 1..%u", i, s->vlan,
				 LIM_VLAN_MAX);
	if (s->lease_time < d->min_lease_time)
		return sbr_vfail(m, "dhcp.subnets[%zu].lease_time: %u is below min_lease_time %u",
				 i, s->lease_time, d->min_lease_time);
	if (s->next_server && !sbr_ip_is_unicast(s->next_server))
		return sbr_vfail(m, "dhcp.subnets[%zu].next_server: %s is not a unicast address", i,
				 sbcfg_ip_fmt(s->next_server, a));
	return 0;
}

/* One subnet per VLAN: it is what an unrelayed request on that VLAN gets. */
static int validate_vlans(const struct sbcfg_dhcp *d, char *m)
{
	uint16_t first[LIM_VLAN_MAX + 1] = {0}; /* subnet index + 1 */

	for (size_t i = 0; i < d->n_subnets; i++) {
		uint16_t v = d->subnets[i].vlan;
		if (v == 0)
			continue;
		if (first[v])
			return sbr_vfail(m,
					 "dhcp.subnets[%zu].vlan: %u is also the VLAN of "
					 "dhcp.subnets[%u]",
					 i, v, first[v] - 1u);
		first[v] = (uint16_t)(i + 1);
	}
	return 0;
}

/* Subnets must not overlap (a relay's giaddr must pick one), nor their pools. */
static int validate_overlaps(const struct sbcfg_dhcp *d, struct sort_key *k, char *m)
{
	char a[16], b[16], c[16], e[16], n1[20], n2[20];
	size_t n = 0;

	for (size_t i = 0; i < d->n_subnets; i++)
		if (sbcfg_has_pool(&d->subnets[i]))
			k[n++] = (struct sort_key){d->subnets[i].pool_start, i};
	qsort(k, n, sizeof(*k), sort_key_cmp);
	for (size_t j = 1; j < n; j++) {
		const struct sbcfg_subnet *x = &d->subnets[k[j - 1].idx],
					  *y = &d->subnets[k[j].idx];
		if (y->pool_start <= x->pool_end) {
			size_t hi = k[j].idx > k[j - 1].idx ? k[j].idx : k[j - 1].idx;
			size_t lo = k[j].idx > k[j - 1].idx ? k[j - 1].idx : k[j].idx;
			const struct sbcfg_subnet *l = &d->subnets[lo], *h = &d->subnets[hi];
			return sbr_vfail(
				m,
				"dhcp.subnets[%zu].pool: %s-%s overlaps the pool of "
				"dhcp.subnets[%zu] (%s-%s)",
				hi, sbcfg_ip_fmt(h->pool_start, a), sbcfg_ip_fmt(h->pool_end, b),
				lo, sbcfg_ip_fmt(l->pool_start, c), sbcfg_ip_fmt(l->pool_end, e));
		}
	}
	for (size_t i = 0; i < d->n_subnets; i++)
		k[i] = (struct sort_key){d->subnets[i].network, i};
	qsort(k, d->n_subnets, sizeof(*k), sort_key_cmp);
	for (size_t j = 1; j < d->n_subnets; j++) {
		const struct sbcfg_subnet *x = &d->subnets[k[j - 1].idx],
					  *y = &d->subnets[k[j].idx];
		if (y->network <= subnet_last(x)) {
			size_t hi = k[j].idx > k[j - 1].idx ? k[j].idx : k[j - 1].idx;
			size_t lo = k[j].idx > k[j - 1].idx ? k[j - 1].idx : k[j].idx;
			return sbr_vfail(
				m, "dhcp.subnets[%zu].network: %s overlaps dhcp.subnets[%zu] (%s)",
				hi, sbcfg_cidr_fmt(&d->subnets[hi], n1), lo,
				sbcfg_cidr_fmt(&d->subnets[lo], n2));
		}
	}
	return 0;
}

/* The subnet that contains ip, by binary search over subnets sorted by network. */
static const struct sbcfg_subnet *subnet_of(const struct sbcfg_dhcp *d, const struct sort_key *ks,
					    uint32_t ip)
{
	size_t lo = 0, hi = d->n_subnets; /* first entry with network > ip is in [lo, hi] */

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ks[mid].key <= ip)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || !in_subnet(&d->subnets[ks[lo - 1].idx], ip))
		return NULL;
	return &d->subnets[ks[lo - 1].idx];
}

/* ks: subnets sorted by network (validate_overlaps leaves them so); k: scratch. */
static int validate_reservations(const struct sbcfg *cfg, const struct sort_key *ks,
				 struct sort_key *k, char *m)
{
	const struct sbcfg_dhcp *d = &cfg->dhcp;
	char a[18], net[20];
	const char *p;
	size_t first, second, n = 0;

	for (size_t i = 0; i < d->n_reservations; i++) {
		const struct sbcfg_reservation *r = &d->reservations[i];

		if (sbcfg_mac_is_zero(r->mac))
			return sbr_vfail(m,
					 "dhcp.reservations[%zu].mac: 00:00:00:00:00:00 is not a "
					 "client MAC address",
					 i);
		if (r->mac[0] & 1)
			return sbr_vfail(m, "dhcp.reservations[%zu].mac: %s is a multicast address",
					 i, sbcfg_mac_fmt(r->mac, a));
		CHECK_STR(m, r->hostname, "dhcp.reservations[%zu].hostname", i);
		if ((p = sbr_hostname_problem(r->hostname)))
			return sbr_vfail(m, "dhcp.reservations[%zu].hostname: \"%s\" %s", i,
					 r->hostname, p);
		CHECK_STR(m, r->bootfile, "dhcp.reservations[%zu].bootfile", i);
		CHECK_STR(m, r->ipxe_script, "dhcp.reservations[%zu].ipxe_script", i);
		if (r->ip == 0)
			continue;
		if (d->mode == SBCFG_DHCP_PROXY)
			return sbr_vfail(m,
					 "dhcp.reservations[%zu].ip: proxy mode hands out no "
					 "addresses: leave ip out (boot information only)",
					 i);
		const struct sbcfg_subnet *s = subnet_of(d, ks, r->ip);
		if (!s)
			return sbr_vfail(m,
					 "dhcp.reservations[%zu].ip: %s is not inside any subnet",
					 i, sbcfg_ip_fmt(r->ip, a));
		if ((p = host_problem(s, r->ip)))
			return sbr_vfail(m, "dhcp.reservations[%zu].ip: %s %s subnet %s", i,
					 sbcfg_ip_fmt(r->ip, a), p, sbcfg_cidr_fmt(s, net));
		if (r->ip == cfg->server_ip || r->ip == s->router)
			return sbr_vfail(m, "dhcp.reservations[%zu].ip: %s is the %s", i,
					 sbcfg_ip_fmt(r->ip, a),
					 r->ip == cfg->server_ip ? "server_ip" : "subnet's router");
		k[n++] = (struct sort_key){r->ip, i};
	}
	if (find_duplicate(k, n, &first, &second) == 0)
		return sbr_vfail(m,
				 "dhcp.reservations[%zu].ip: %s is also reserved by "
				 "dhcp.reservations[%zu]",
				 second, sbcfg_ip_fmt(d->reservations[second].ip, a), first);
	for (size_t i = 0; i < d->n_reservations; i++) {
		uint64_t key = 0;
		for (int j = 0; j < 6; j++)
			key = key << 8 | d->reservations[i].mac[j];
		k[i] = (struct sort_key){key, i};
	}
	if (find_duplicate(k, d->n_reservations, &first, &second) == 0)
		return sbr_vfail(m,
				 "dhcp.reservations[%zu].mac: %s is also the MAC of "
				 "dhcp.reservations[%zu]",
				 second, sbcfg_mac_fmt(d->reservations[second].mac, a), first);
	return 0;
}

static int validate_dhcp(const struct sbcfg *cfg, char *m)
{
	const struct sbcfg_dhcp *d = &cfg->dhcp;
	int rc;

	if ((unsigned)d->mode >= ARRAY_SIZE(sbcfg_mode_names))
		return sbr_vfail(m, "dhcp.mode: invalid value %d", (int)d->mode);
	if ((unsigned)d->durability >= ARRAY_SIZE(sbcfg_durability_names))
		return sbr_vfail(m, "dhcp.durability: invalid value %d", (int)d->durability);
	CHECK_RANGE(m, d->offer_hold, 1, LIM_OFFER_HOLD_MAX, "dhcp.offer_hold");
	CHECK_RANGE(m, d->decline_quarantine, 0, LIM_QUARANTINE_MAX, "dhcp.decline_quarantine");
	CHECK_RANGE(m, d->max_lease_time, 1, LIM_LEASE_MAX, "dhcp.max_lease_time");
	if (d->min_lease_time > d->max_lease_time)
		return sbr_vfail(m,
				 "dhcp.min_lease_time: %u is out of range 0..%u (max_lease_time)",
				 d->min_lease_time, d->max_lease_time);
	if (d->conflict_probe_ms != 0 && d->conflict_probe_ms < LIM_PROBE_MS_MIN)
		return sbr_vfail(m,
				 "dhcp.conflict_probe_ms: %u is below %d (0 switches probing off)",
				 d->conflict_probe_ms, LIM_PROBE_MS_MIN);
	CHECK_RANGE(m, d->conflict_probe_ms, 0, LIM_PROBE_MS_MAX, "dhcp.conflict_probe_ms");
	CHECK_RANGE(m, d->conflict_probe_max, 1, LIM_PROBE_MAX, "dhcp.conflict_probe_max");
	if ((rc = validate_boot(d, m)) < 0)
		return rc;
	if (d->n_subnets > LIM_SUBNETS_MAX)
		return sbr_vfail(m, "dhcp.subnets: %zu entries, at most %d", d->n_subnets,
				 LIM_SUBNETS_MAX);
	if (d->n_reservations > LIM_RESERVATIONS_MAX)
		return sbr_vfail(m, "dhcp.reservations: %zu entries, at most %d", d->n_reservations,
				 LIM_RESERVATIONS_MAX);
	if ((d->n_subnets && !d->subnets) || (d->n_reservations && !d->reservations))
		return sbr_vfail(m, "dhcp: array count without array");
	if (d->mode == SBCFG_DHCP_FULL && d->n_subnets == 0)
		return sbr_vfail(m, "dhcp.subnets: full mode needs at least one subnet");
	for (size_t i = 0; i < d->n_subnets; i++)
		if ((rc = validate_subnet(cfg, i, m)) < 0)
			return rc;
	if ((rc = validate_vlans(d, m)) < 0)
		return rc;

	struct sort_key *ks = calloc(d->n_subnets + 1, sizeof(*ks));
	struct sort_key *kr = calloc(d->n_reservations + 1, sizeof(*kr));
	if (!ks || !kr) {
		sbr_vfail(m, "out of memory");
		rc = -ENOMEM;
	} else {
		rc = validate_overlaps(d, ks, m);
	}
	if (rc == 0)
		rc = validate_reservations(cfg, ks, kr, m);
	free(ks);
	free(kr);
	return rc;
}

static int validate_tftp(const struct sbcfg *cfg, char *m)
{
	const struct sbcfg_tftp *t = &cfg->tftp;

	CHECK_RANGE(m, t->port_lo, LIM_PORT_MIN, 65535, "tftp.transfer_ports.first");
	CHECK_RANGE(m, t->port_hi, LIM_PORT_MIN, 65535, "tftp.transfer_ports.last");
	if (t->port_lo > t->port_hi)
		return sbr_vfail(m, "tftp.transfer_ports.first: %u is above last (%u)", t->port_lo,
				 t->port_hi);
	static const uint16_t reserved[] = {67, 68, 69, 4011};
	for (size_t i = 0; i < ARRAY_SIZE(reserved); i++)
		if (t->port_lo <= reserved[i] && reserved[i] <= t->port_hi)
			return sbr_vfail(m,
					 "tftp.transfer_ports: %u-%u includes port %u (DHCP, TFTP "
					 "and PXE ports 67, 68, 69, 4011 are steered separately)",
					 t->port_lo, t->port_hi, reserved[i]);
	CHECK_RANGE(m, t->max_sessions, 1, LIM_SESSIONS_MAX, "tftp.max_sessions");
	CHECK_RANGE(m, t->max_sessions_per_client, 0, LIM_SESSIONS_MAX,
		    "tftp.max_sessions_per_client");
	CHECK_RANGE(m, t->blksize_default, LIM_BLKSIZE_MIN, LIM_BLKSIZE_MAX,
		    "tftp.blksize_default");
	CHECK_RANGE(m, t->blksize_max, LIM_BLKSIZE_MIN, LIM_BLKSIZE_MAX, "tftp.blksize_max");
	CHECK_RANGE(m, t->windowsize_max, 1, LIM_WINDOW_MAX, "tftp.windowsize_max");
	CHECK_RANGE(m, t->timeout_ms, LIM_TIMEOUT_MS_MIN, LIM_TIMEOUT_MS_MAX, "tftp.timeout_ms");
	CHECK_RANGE(m, t->retries, 0, LIM_RETRIES_MAX, "tftp.retries");
	CHECK_RANGE(m, t->give_up_ms, LIM_GIVE_UP_MS_MIN, LIM_GIVE_UP_MS_MAX, "tftp.give_up_ms");
	CHECK_RANGE(m, t->mtu, LIM_MTU_MIN, LIM_MTU_MAX, "tftp.mtu");
	if (t->multicast.enabled &&
	    ((t->multicast.group_lo >> 24) != 239 || t->multicast.group_len < 24 ||
	     t->multicast.group_len > 32 || t->multicast.port < 1024))
		return sbr_vfail(m,
				 "tftp.multicast: groups must be a prefix of length 24..32 inside "
				 "239.0.0.0/8 and port 1024..65535 (have %u.%u.%u.%u/%u port %u)",
				 t->multicast.group_lo >> 24, (t->multicast.group_lo >> 16) & 255,
				 (t->multicast.group_lo >> 8) & 255, t->multicast.group_lo & 255,
				 t->multicast.group_len, t->multicast.port);
	if (t->blksize_default > t->blksize_max)
		return sbr_vfail(m, "tftp.blksize_default: %u is above blksize_max (%u)",
				 t->blksize_default, t->blksize_max);
	/* A block that was not negotiated cannot be clamped (RFC 2348): it must fit the link. */
	if (t->blksize_default > t->mtu - TFTP_OVERHEAD)
		return sbr_vfail(m,
				 "tftp.blksize_default: %u does not fit one frame of mtu %u (at "
				 "most mtu - %d = %u)",
				 t->blksize_default, t->mtu, TFTP_OVERHEAD, t->mtu - TFTP_OVERHEAD);
	if (!t->enabled && cfg->dhcp.mode == SBCFG_DHCP_OFF)
		return sbr_vfail(m,
				 "tftp.enabled: dhcp.mode is \"off\" and tftp is disabled: nothing "
				 "to serve");
	return 0;
}

struct name_key {
	const char *name;
	size_t idx;
};

static int name_key_cmp(const void *a, const void *b)
{
	const struct name_key *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int validate_images(const struct sbcfg *cfg, char *m)
{
	const char *p;

	if (cfg->n_images > LIM_IMAGES_MAX)
		return sbr_vfail(m, "images: %zu entries, at most %d", cfg->n_images,
				 LIM_IMAGES_MAX);
	if (cfg->tftp_root[0] && cfg->tftp_root[0] != '/')
		return sbr_vfail(m, "tftp_root: \"%s\" is not an absolute path", cfg->tftp_root);
	if (cfg->n_images && !cfg->images)
		return sbr_vfail(m, "images: array count without array");
	for (size_t i = 0; i < cfg->n_images; i++) {
		const struct sbcfg_image *im = &cfg->images[i];

		CHECK_STR(m, im->name, "images[%zu].name", i);
		CHECK_STR(m, im->path, "images[%zu].path", i);
		if ((p = sbr_image_name_problem(im->name)))
			return sbr_vfail(m, "images[%zu].name: \"%s\" %s", i, im->name, p);
		/* Whether the file exists is checked when the dataplane loads the image. */
		if (im->path[0] != '/')
			return sbr_vfail(m, "images[%zu].path: \"%s\" is not an absolute path", i,
					 im->path);
	}
	struct name_key *k = calloc(cfg->n_images ? cfg->n_images : 1, sizeof(*k));
	if (!k) {
		sbr_vfail(m, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < cfg->n_images; i++)
		k[i] = (struct name_key){cfg->images[i].name, i};
	qsort(k, cfg->n_images, sizeof(*k), name_key_cmp);
	int rc = 0;
	for (size_t i = 1; i < cfg->n_images && rc == 0; i++)
		if (strcmp(k[i].name, k[i - 1].name) == 0)
			rc = sbr_vfail(m,
				       "images[%zu].name: \"%s\" is also the name of images[%zu]",
				       k[i].idx, k[i].name, k[i - 1].idx);
	free(k);
	return rc;
}

int sbcfg_validate(const struct sbcfg *cfg, char *err, size_t errlen)
{
	char m[SBCFG_ERR_MAX];
	int rc;

	if ((rc = validate_top(cfg, m)) < 0 || (rc = validate_dhcp(cfg, m)) < 0 ||
	    (rc = validate_tftp(cfg, m)) < 0 || (rc = validate_images(cfg, m)) < 0 ||
	    (rc = sbcfg_guard_validate(cfg, m)) < 0 || (rc = sbcfg_access_validate(cfg, m)) < 0 ||
	    (rc = sbcfg_cluster_validate(cfg, m)) < 0) {
		if (err && errlen)
			snprintf(err, errlen, "%s", m);
		return rc;
	}
	if (err && errlen)
		err[0] = '\0';
	return 0;
}
