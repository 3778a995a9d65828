/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>

#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xdp_ctl.h"

static const char *const xdp_ctl_counter_names[SB_XDP_CNT__COUNT] = {
#define XDP_CTL_X_NAME(id, name) [SB_XDP_CNT_##id] = #name,
	SB_XDP_COUNTERS(XDP_CTL_X_NAME)
#undef XDP_CTL_X_NAME
};

const char *xdp_ctl_counter_name(unsigned int idx)
{
	return idx < SB_XDP_CNT__COUNT ? xdp_ctl_counter_names[idx] : NULL;
}

/* The maps xdp_ctl opens: name, fd field, shape. Pinned ones are found under the pin root. */
static const struct xdp_ctl_map {
	const char *name;
	size_t fd_off;
	__u32 type, key_size, value_size;
	bool pinned;
} xdp_ctl_maps[] = {
	{SB_XDP_SETTINGS_MAP, offsetof(struct xdp_ctl, settings_fd), BPF_MAP_TYPE_ARRAY,
	 sizeof(__u32), sizeof(struct sb_xdp_settings), true},
	{SB_XDP_COUNTERS_MAP, offsetof(struct xdp_ctl, counters_fd), BPF_MAP_TYPE_PERCPU_ARRAY,
	 sizeof(__u32), sizeof(struct sb_xdp_counters), true},
	{SB_XDP_DENY_MAP, offsetof(struct xdp_ctl, deny_fd), BPF_MAP_TYPE_HASH,
	 sizeof(struct sb_xdp_mac), sizeof(__u64), true},
	{SB_XDP_ALLOW_MAP, offsetof(struct xdp_ctl, allow_fd), BPF_MAP_TYPE_HASH,
	 sizeof(struct sb_xdp_mac), sizeof(__u64), true},
	{SB_XDP_VLANS_MAP, offsetof(struct xdp_ctl, vlans_fd), BPF_MAP_TYPE_HASH,
	 sizeof(struct sb_xdp_vlan), sizeof(__u32), true},
	{SB_XDP_ROUTERS_MAP, offsetof(struct xdp_ctl, routers_fd), BPF_MAP_TYPE_LRU_HASH,
	 sizeof(struct sb_xdp_router_key), sizeof(struct sb_xdp_router), false},
};
#define XDP_CTL_N_MAPS (sizeof(xdp_ctl_maps) / sizeof(xdp_ctl_maps[0]))

static int *xdp_ctl_fd(struct xdp_ctl *ctl, size_t i)
{
	return (int *)((char *)ctl + xdp_ctl_maps[i].fd_off);
}

static void xdp_ctl_init(struct xdp_ctl *ctl)
{
	for (size_t i = 0; i < XDP_CTL_N_MAPS; i++)
		*xdp_ctl_fd(ctl, i) = -1;
}

void xdp_ctl_close(struct xdp_ctl *ctl)
{
	for (size_t i = 0; i < XDP_CTL_N_MAPS; i++)
		if (*xdp_ctl_fd(ctl, i) >= 0)
			close(*xdp_ctl_fd(ctl, i));
	xdp_ctl_init(ctl);
}

/* Refuse a map whose shape is not the one this code was built for (stale pin, wrong object). */
static int xdp_ctl_check_map(int fd, const struct xdp_ctl_map *m)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0)
		return -errno;
	if (info.type != m->type || info.key_size != m->key_size ||
	    info.value_size != m->value_size || info.max_entries < 1)
		return -EPROTO;
	return 0;
}

/* Every map found and of the right shape (the unpinned ones only if required): else closed. */
static int xdp_ctl_check(struct xdp_ctl *ctl, bool unpinned_too)
{
	int err = 0;

	for (size_t i = 0; !err && i < XDP_CTL_N_MAPS; i++) {
		int fd = *xdp_ctl_fd(ctl, i);

		if (fd < 0)
			err = xdp_ctl_maps[i].pinned || unpinned_too ? -ENOENT : 0;
		else
			err = xdp_ctl_check_map(fd, &xdp_ctl_maps[i]);
	}
	if (err)
		xdp_ctl_close(ctl);
	return err;
}

int xdp_ctl_open_pinned(struct xdp_ctl *ctl, const char *pin_root)
{
	char path[PATH_MAX];
	int err;

	xdp_ctl_init(ctl);
	if (!pin_root)
		pin_root = XDP_CTL_PIN_ROOT;
	for (size_t i = 0; i < XDP_CTL_N_MAPS; i++) {
		if (!xdp_ctl_maps[i].pinned)
			continue;
		snprintf(path, sizeof(path), "%s/%s", pin_root, xdp_ctl_maps[i].name);
		*xdp_ctl_fd(ctl, i) = bpf_obj_get(path);
		if (*xdp_ctl_fd(ctl, i) < 0) {
			err = -errno;
			xdp_ctl_close(ctl);
			return err;
		}
	}
	return xdp_ctl_check(ctl, false);
}

/* Take the maps named like ours among the maps that program prog_id uses. */
static int xdp_ctl_open_prog_maps(struct xdp_ctl *ctl, __u32 prog_id)
{
	__u32 map_ids[64];
	struct bpf_prog_info pinfo;
	__u32 len = sizeof(pinfo);
	int prog_fd, err = 0;
	__u32 i, nr;

	prog_fd = bpf_prog_get_fd_by_id(prog_id);
	if (prog_fd < 0)
		return -errno;
	memset(&pinfo, 0, sizeof(pinfo));
	pinfo.nr_map_ids = sizeof(map_ids) / sizeof(map_ids[0]);
	pinfo.map_ids = (__u64)(unsigned long)map_ids;
	if (bpf_obj_get_info_by_fd(prog_fd, &pinfo, &len) < 0) {
		err = -errno;
		close(prog_fd);
		return err;
	}
	close(prog_fd);

	nr = pinfo.nr_map_ids;
	if (nr > sizeof(map_ids) / sizeof(map_ids[0]))
		nr = sizeof(map_ids) / sizeof(map_ids[0]);
	for (i = 0; i < nr; i++) {
		struct bpf_map_info minfo;
		__u32 mlen = sizeof(minfo);
		int fd = bpf_map_get_fd_by_id(map_ids[i]);
		size_t m = XDP_CTL_N_MAPS;

		if (fd < 0)
			continue;
		memset(&minfo, 0, sizeof(minfo));
		if (bpf_obj_get_info_by_fd(fd, &minfo, &mlen) == 0)
			for (m = 0; m < XDP_CTL_N_MAPS; m++)
				if (*xdp_ctl_fd(ctl, m) < 0 &&
				    !strcmp(minfo.name, xdp_ctl_maps[m].name)) {
					*xdp_ctl_fd(ctl, m) = fd;
					break;
				}
		if (m == XDP_CTL_N_MAPS)
			close(fd);
	}
	return xdp_ctl_check(ctl, true);
}

int xdp_ctl_open_ifindex(struct xdp_ctl *ctl, unsigned int ifindex)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	__u32 ids[4];
	int err, i;

	xdp_ctl_init(ctl);
	if (ifindex == 0 || ifindex > INT_MAX)
		return -EINVAL;
	err = bpf_xdp_query((int)ifindex, 0, &q);
	if (err)
		return err;
	/* One program per mode: native, generic, offloaded. */
	ids[0] = q.prog_id;
	ids[1] = q.drv_prog_id;
	ids[2] = q.skb_prog_id;
	ids[3] = q.hw_prog_id;
	for (i = 0; i < 4; i++) {
		if (ids[i] == 0)
			continue;
		err = xdp_ctl_open_prog_maps(ctl, ids[i]);
		if (err != -ENOENT)
			return err;
	}
	return -ENOENT;
}

int xdp_ctl_open_object(struct xdp_ctl *ctl, const struct bpf_object *obj)
{
	int err;

	xdp_ctl_init(ctl);
	for (size_t i = 0; i < XDP_CTL_N_MAPS; i++) {
		int fd = bpf_object__find_map_fd_by_name(obj, xdp_ctl_maps[i].name);

		if (fd < 0) {
			xdp_ctl_close(ctl);
			return -ENOENT;
		}
		*xdp_ctl_fd(ctl, i) = fcntl(fd, F_DUPFD_CLOEXEC, 0);
		if (*xdp_ctl_fd(ctl, i) < 0) {
			err = -errno;
			xdp_ctl_close(ctl);
			return err;
		}
	}
	return xdp_ctl_check(ctl, true);
}

void xdp_ctl_settings_default(struct sb_xdp_settings *s)
{
	memset(s, 0, sizeof(*s));
	s->flags = SB_XDP_F_VALID | SB_XDP_F_ENABLE;
	s->port_mask = SB_XDP_PORT_M_ALL;
}

static int xdp_ctl_rate_validate(const struct sb_xdp_rate *r)
{
	if (r->per_second == 0 && r->burst == 0)
		return 0;
	if (r->per_second < 1 || r->per_second > SB_XDP_RATE_PPS_MAX || r->burst < 1 ||
	    r->burst > SB_XDP_RATE_BURST_MAX)
		return -ERANGE;
	return 0;
}

int xdp_ctl_settings_validate(const struct sb_xdp_settings *s)
{
	if (s->flags & ~SB_XDP_F_KNOWN)
		return -EINVAL;
	if (s->port_mask & ~SB_XDP_PORT_M_VALID)
		return -EINVAL;
	if ((s->flags & SB_XDP_F_RS_AUTO) && !(s->port_mask & SB_XDP_PORT_M_RS))
		return -EINVAL;
	if ((s->flags & SB_XDP_F_DHCP_DST) && s->server_ip_be == 0)
		return -EINVAL;
	if (s->reserved8[0] || s->reserved8[1])
		return -EINVAL;
	for (size_t i = 0; i < sizeof(s->reserved) / sizeof(s->reserved[0]); i++)
		if (s->reserved[i])
			return -EINVAL;
	if (xdp_ctl_rate_validate(&s->dhcp_rate) || xdp_ctl_rate_validate(&s->tftp_rate))
		return -ERANGE;
	if (s->xfer_port_lo == 0 && s->xfer_port_hi == 0)
		return 0;
	if (s->xfer_port_lo == 0 || s->xfer_port_lo > s->xfer_port_hi)
		return -ERANGE;
	return 0;
}

int xdp_ctl_settings_get(struct xdp_ctl *ctl, struct sb_xdp_settings *out)
{
	__u32 key = 0;

	if (bpf_map_lookup_elem(ctl->settings_fd, &key, out) < 0)
		return -errno;
	if (!(out->flags & SB_XDP_F_VALID))
		xdp_ctl_settings_default(out);
	return 0;
}

int xdp_ctl_settings_set(struct xdp_ctl *ctl, const struct sb_xdp_settings *s)
{
	struct sb_xdp_settings v = *s;
	__u32 key = 0;
	int err;

	v.flags |= SB_XDP_F_VALID;
	err = xdp_ctl_settings_validate(&v);
	if (err)
		return err;
	if (bpf_map_update_elem(ctl->settings_fd, &key, &v, BPF_ANY) < 0)
		return -errno;
	return 0;
}

int xdp_ctl_counters_read(struct xdp_ctl *ctl, struct sb_xdp_counters *out)
{
	struct sb_xdp_counters *percpu;
	__u32 key = 0;
	int ncpus, cpu, i, err = 0;

	ncpus = libbpf_num_possible_cpus();
	if (ncpus < 0)
		return ncpus;
	/* Per-CPU values come back one per possible CPU, each rounded up to 8 bytes. */
	percpu = calloc((size_t)ncpus, sizeof(*percpu));
	if (!percpu)
		return -ENOMEM;
	if (bpf_map_lookup_elem(ctl->counters_fd, &key, percpu) < 0) {
		err = -errno;
		goto out;
	}
	memset(out, 0, sizeof(*out));
	for (cpu = 0; cpu < ncpus; cpu++)
		for (i = 0; i < SB_XDP_CNT__COUNT; i++)
			out->v[i] += percpu[cpu].v[i];
out:
	free(percpu);
	return err;
}

int xdp_ctl_counters_reset(struct xdp_ctl *ctl)
{
	struct sb_xdp_counters *percpu;
	__u32 key = 0;
	int ncpus, err = 0;

	ncpus = libbpf_num_possible_cpus();
	if (ncpus < 0)
		return ncpus;
	percpu = calloc((size_t)ncpus, sizeof(*percpu));
	if (!percpu)
		return -ENOMEM;
	if (bpf_map_update_elem(ctl->counters_fd, &key, percpu, BPF_ANY) < 0)
		err = -errno;
	free(percpu);
	return err;
}
