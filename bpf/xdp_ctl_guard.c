/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xdp_ctl_guard.c - the flood guard's MAC lists and rates, the VLAN set and the routers seen,
 * and xdp_ctl_apply_config(): a config's wishes written into the maps (docs/XDP.md).
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>

#include "sbcfg.h"
#include "xdp_ctl.h"

_Static_assert(SBCFG_GUARD_VLANS_MAX <= SB_XDP_VLANS_MAX, "guard.vlans must fit the map");
_Static_assert(SBCFG_GUARD_DENY_MAX <= SB_XDP_DENY_MAX, "guard.mac_deny must fit the map");
_Static_assert(SBCFG_GUARD_ALLOW_MAX <= SB_XDP_ALLOW_MAX, "guard.mac_allow must fit the map");
_Static_assert(SBCFG_RATE_MAX <= SB_XDP_RATE_PPS_MAX && SBCFG_RATE_MAX <= SB_XDP_RATE_BURST_MAX,
	       "guard rates must fit the program's limits");

#define XDP_CTL_VID_MAX 4094 /* IEEE 802.1Q: 4095 is reserved */

static int list_fd(struct xdp_ctl *ctl, enum xdp_ctl_list list)
{
	return list == XDP_CTL_DENY ? ctl->deny_fd : list == XDP_CTL_ALLOW ? ctl->allow_fd : -1;
}

int xdp_ctl_mac_add(struct xdp_ctl *ctl, enum xdp_ctl_list list, const uint8_t mac[6])
{
	struct sb_xdp_mac k;
	__u64 zero = 0;
	int fd = list_fd(ctl, list);

	if (fd < 0)
		return -EINVAL;
	memcpy(k.addr, mac, 6);
	if (bpf_map_update_elem(fd, &k, &zero, BPF_NOEXIST) == 0 || errno == EEXIST)
		return 0;
	return errno == E2BIG ? -ENOSPC : -errno;
}

int xdp_ctl_mac_del(struct xdp_ctl *ctl, enum xdp_ctl_list list, const uint8_t mac[6])
{
	struct sb_xdp_mac k;
	int fd = list_fd(ctl, list);

	if (fd < 0)
		return -EINVAL;
	memcpy(k.addr, mac, 6);
	return bpf_map_delete_elem(fd, &k) == 0 ? 0 : -errno;
}

/*
 * Walk a hash map's keys: cb(key, arg) for each; a key deleted during the walk may end it early
 * (the kernel restarts from the first key then), so deleting walks repeat until the map is empty.
 */
static int map_walk(int fd, size_t key_size, int (*cb)(int fd, const void *key, void *arg),
		    void *arg)
{
	unsigned char cur[32], next[32];
	const void *prev = NULL;
	int err;

	if (key_size > sizeof(cur))
		return -EINVAL;
	while (bpf_map_get_next_key(fd, prev, next) == 0) {
		memcpy(cur, next, key_size);
		err = cb(fd, cur, arg);
		if (err)
			return err;
		prev = cur;
	}
	return errno == ENOENT ? 0 : -errno;
}

struct mac_list_arg {
	struct xdp_ctl_mac_entry *out;
	size_t cap, n;
};

static int mac_list_cb(int fd, const void *key, void *arg)
{
	struct mac_list_arg *a = arg;
	__u64 drops = 0;

	if (bpf_map_lookup_elem(fd, key, &drops) < 0)
		return errno == ENOENT ? 0 : -errno; /* deleted meanwhile */
	if (a->n < a->cap) {
		memcpy(a->out[a->n].mac, key, 6);
		a->out[a->n].drops = drops;
	}
	a->n++;
	return 0;
}

int xdp_ctl_mac_list(struct xdp_ctl *ctl, enum xdp_ctl_list list, struct xdp_ctl_mac_entry *out,
		     size_t cap)
{
	struct mac_list_arg a = {.out = out, .cap = cap};
	int fd = list_fd(ctl, list), err;

	if (fd < 0)
		return -EINVAL;
	err = map_walk(fd, sizeof(struct sb_xdp_mac), mac_list_cb, &a);
	return err ? err : (int)a.n;
}

/* Delete every key of a hash map. */
static int map_clear(int fd, size_t key_size)
{
	unsigned char k[32];

	if (key_size > sizeof(k))
		return -EINVAL;
	while (bpf_map_get_next_key(fd, NULL, k) == 0)
		if (bpf_map_delete_elem(fd, k) < 0 && errno != ENOENT)
			return -errno;
	return errno == ENOENT ? 0 : -errno;
}

int xdp_ctl_mac_clear(struct xdp_ctl *ctl, enum xdp_ctl_list list)
{
	int fd = list_fd(ctl, list);

	return fd < 0 ? -EINVAL : map_clear(fd, sizeof(struct sb_xdp_mac));
}

int xdp_ctl_mac_allow_only(struct xdp_ctl *ctl, bool on)
{
	struct sb_xdp_settings s;
	unsigned char k[sizeof(struct sb_xdp_mac)];
	int err = xdp_ctl_settings_get(ctl, &s);

	if (err)
		return err;
	if (on && bpf_map_get_next_key(ctl->allow_fd, NULL, k) < 0)
		return errno == ENOENT ? -ENODATA : -errno;
	if (on)
		s.flags |= SB_XDP_F_MAC_ALLOW;
	else
		s.flags &= ~SB_XDP_F_MAC_ALLOW;
	return xdp_ctl_settings_set(ctl, &s);
}

static struct sb_xdp_rate *rate_of(struct sb_xdp_settings *s, enum xdp_ctl_rate_kind kind)
{
	return kind == XDP_CTL_RATE_DHCP   ? &s->dhcp_rate
	       : kind == XDP_CTL_RATE_TFTP ? &s->tftp_rate
					   : NULL;
}

int xdp_ctl_rate_set(struct xdp_ctl *ctl, enum xdp_ctl_rate_kind kind, const struct sb_xdp_rate *r)
{
	struct sb_xdp_settings s;
	int err = xdp_ctl_settings_get(ctl, &s);

	if (err)
		return err;
	if (!rate_of(&s, kind))
		return -EINVAL;
	*rate_of(&s, kind) = *r;
	return xdp_ctl_settings_set(ctl, &s);
}

int xdp_ctl_rate_get(struct xdp_ctl *ctl, enum xdp_ctl_rate_kind kind, struct sb_xdp_rate *out)
{
	struct sb_xdp_settings s;
	int err = xdp_ctl_settings_get(ctl, &s);

	if (err)
		return err;
	if (!rate_of(&s, kind))
		return -EINVAL;
	*out = *rate_of(&s, kind);
	return 0;
}

static bool vlan_ok(const struct sb_xdp_vlan *v)
{
	if (v->outer == 0)
		return v->inner == 0;
	return v->outer <= XDP_CTL_VID_MAX && v->inner <= XDP_CTL_VID_MAX;
}

struct vlan_prune_arg {
	const struct sb_xdp_vlan *keep;
	size_t n;
};

static int vlan_prune_cb(int fd, const void *key, void *arg)
{
	const struct vlan_prune_arg *a = arg;

	for (size_t i = 0; i < a->n; i++)
		if (memcmp(&a->keep[i], key, sizeof(a->keep[i])) == 0)
			return 0;
	if (bpf_map_delete_elem(fd, key) < 0 && errno != ENOENT)
		return -errno;
	return 1; /* the walk's position is gone: start again */
}

int xdp_ctl_vlans_set(struct xdp_ctl *ctl, const struct sb_xdp_vlan *v, size_t n)
{
	struct vlan_prune_arg a = {.keep = v, .n = n};
	struct sb_xdp_settings s;
	__u32 zero = 0;
	int err;

	for (size_t i = 0; i < n; i++)
		if (!vlan_ok(&v[i]))
			return -EINVAL;
	if (n > SB_XDP_VLANS_MAX)
		return -ENOSPC;
	err = xdp_ctl_settings_get(ctl, &s);
	if (err)
		return err;
	/* New entries first, then the flag, then the stale entries go. */
	for (size_t i = 0; i < n; i++)
		if (bpf_map_update_elem(ctl->vlans_fd, &v[i], &zero, BPF_ANY) < 0)
			return errno == E2BIG ? -ENOSPC : -errno;
	if (n)
		s.flags |= SB_XDP_F_VLAN_SET;
	else
		s.flags &= ~SB_XDP_F_VLAN_SET;
	err = xdp_ctl_settings_set(ctl, &s);
	if (err)
		return err;
	do /* a deletion ends a walk: walk again until nothing is left to delete */
		err = map_walk(ctl->vlans_fd, sizeof(*v), vlan_prune_cb, &a);
	while (err == 1);
	return err;
}

struct vlan_list_arg {
	struct sb_xdp_vlan *out;
	size_t cap, n;
};

static int vlan_list_cb(int fd, const void *key, void *arg)
{
	struct vlan_list_arg *a = arg;

	if (a->n < a->cap)
		memcpy(&a->out[a->n], key, sizeof(a->out[0]));
	a->n++;
	return 0;
}

int xdp_ctl_vlans_get(struct xdp_ctl *ctl, struct sb_xdp_vlan *out, size_t cap, bool *every)
{
	struct vlan_list_arg a = {.out = out, .cap = cap};
	struct sb_xdp_settings s;
	int err = xdp_ctl_settings_get(ctl, &s);

	if (err)
		return err;
	*every = !(s.flags & SB_XDP_F_VLAN_SET);
	if (*every)
		return 0;
	err = map_walk(ctl->vlans_fd, sizeof(struct sb_xdp_vlan), vlan_list_cb, &a);
	return err ? err : (int)a.n;
}

struct router_list_arg {
	struct xdp_ctl_router *out;
	size_t cap, n;
	__u64 now;
};

static int router_list_cb(int fd, const void *key, void *arg)
{
	struct router_list_arg *a = arg;
	struct sb_xdp_router r;

	if (bpf_map_lookup_elem(fd, key, &r) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (a->n < a->cap) {
		struct xdp_ctl_router *o = &a->out[a->n];

		memcpy(&o->key, key, sizeof(o->key));
		o->r = r;
		/* The program's test (xdp_ra.h), on the same clock (bpf_ktime_get_ns). */
		o->live = r.lifetime_s && r.seen_ns + (__u64)r.lifetime_s * 1000000000ull > a->now;
	}
	a->n++;
	return 0;
}

int xdp_ctl_routers_list(struct xdp_ctl *ctl, struct xdp_ctl_router *out, size_t cap)
{
	struct router_list_arg a = {.out = out, .cap = cap};
	struct timespec ts;
	int err;

	if (ctl->routers_fd < 0)
		return -ENOENT;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	a.now = (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
	err = map_walk(ctl->routers_fd, sizeof(struct sb_xdp_router_key), router_list_cb, &a);
	return err ? err : (int)a.n;
}

static int mac_cmp(const void *a, const void *b)
{
	return memcmp(a, b, 6);
}

/* Make a list hold exactly macs[0..n): add them (drop counts of kept MACs stay), delete the rest.
 */
static int mac_list_replace(struct xdp_ctl *ctl, enum xdp_ctl_list list, uint8_t (*macs)[6],
			    size_t n)
{
	struct xdp_ctl_mac_entry *cur = NULL;
	uint8_t(*sorted)[6] = NULL;
	int err = 0, have;

	for (size_t i = 0; i < n; i++)
		if ((err = xdp_ctl_mac_add(ctl, list, macs[i])) < 0)
			return err;
	have = xdp_ctl_mac_list(ctl, list, NULL, 0);
	if (have <= (int)n) /* all of them are ours (or an error) */
		return have < 0 ? have : 0;
	cur = calloc((size_t)have, sizeof(*cur));
	sorted = malloc((n ? n : 1) * sizeof(*sorted));
	if (!cur || !sorted) {
		err = -ENOMEM;
		goto out;
	}
	memcpy(sorted, macs, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), mac_cmp);
	have = xdp_ctl_mac_list(ctl, list, cur, (size_t)have);
	if (have < 0)
		err = have;
	for (int i = 0; err == 0 && i < have; i++)
		if (!bsearch(cur[i].mac, sorted, n, sizeof(*sorted), mac_cmp)) {
			err = xdp_ctl_mac_del(ctl, list, cur[i].mac);
			if (err == -ENOENT)
				err = 0;
		}
out:
	free(cur);
	free(sorted);
	return err;
}

int xdp_ctl_apply_config(struct xdp_ctl *ctl, const struct sbcfg *cfg, const uint8_t own_mac[6],
			 char *err, size_t errlen)
{
	const struct sbcfg_guard *g = &cfg->guard;
	struct sb_xdp_vlan *vlans = NULL;
	struct sb_xdp_settings s;
	const char *what = "settings";
	int rc;

	rc = xdp_ctl_settings_get(ctl, &s);
	if (rc < 0)
		goto out;
	/* Lists first: the allow list must be full before it is enforced. */
	what = "guard.mac_deny";
	rc = mac_list_replace(ctl, XDP_CTL_DENY, g->mac_deny, g->n_mac_deny);
	if (rc < 0)
		goto out;
	what = "guard.mac_allow";
	rc = mac_list_replace(ctl, XDP_CTL_ALLOW, g->mac_allow, g->n_mac_allow);
	if (rc < 0)
		goto out;
	what = "guard.vlans";
	vlans = calloc(g->n_vlans ? g->n_vlans : 1, sizeof(*vlans));
	if (!vlans) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < g->n_vlans; i++) {
		vlans[i].outer = (__u16)(g->vlans[i] >> 16);
		vlans[i].inner = (__u16)(g->vlans[i] & 0xffff);
	}
	rc = xdp_ctl_vlans_set(ctl, vlans, g->n_vlans);
	if (rc < 0)
		goto out;
	rc = xdp_ctl_settings_get(ctl, &s); /* with the VLAN flag as just set */
	if (rc < 0)
		goto out;

	what = "settings";
	s.flags |= SB_XDP_F_ENABLE;
	s.xfer_port_lo = cfg->tftp.port_lo;
	s.xfer_port_hi = cfg->tftp.port_hi;
	s.server_ip_be = htobe32(cfg->server_ip);
	s.flags &= ~(SB_XDP_F_RS_AUTO | SB_XDP_F_MAC_ALLOW | SB_XDP_F_DHCP_DST);
	s.port_mask &= ~(SB_XDP_PORT_M_RS | SB_XDP_PORT_M_ARP_PROBE);
	if (cfg->dhcp.conflict_probe_ms && cfg->dhcp.mode == SBCFG_DHCP_FULL)
		s.port_mask |= SB_XDP_PORT_M_ARP_PROBE;
	if (cfg->ipv6_ra != SBCFG_RA_OFF)
		s.port_mask |= SB_XDP_PORT_M_RS;
	if (cfg->ipv6_ra == SBCFG_RA_AUTO)
		s.flags |= SB_XDP_F_RS_AUTO;
	if (g->n_mac_allow)
		s.flags |= SB_XDP_F_MAC_ALLOW;
	if (g->dhcp_dst == SBCFG_DHCP_DST_SERVER)
		s.flags |= SB_XDP_F_DHCP_DST;
	s.dhcp_rate.per_second = g->dhcp_rate.per_second;
	s.dhcp_rate.burst = g->dhcp_rate.burst;
	s.tftp_rate.per_second = g->tftp_rate.per_second;
	s.tftp_rate.burst = g->tftp_rate.burst;
	memset(s.own_mac, 0, sizeof(s.own_mac));
	if (own_mac)
		memcpy(s.own_mac, own_mac, sizeof(s.own_mac));
	rc = xdp_ctl_settings_set(ctl, &s);
out:
	free(vlans);
	if (rc < 0)
		snprintf(err, errlen, "XDP %s: %s", what, strerror(-rc));
	return rc;
}
