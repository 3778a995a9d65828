/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xdp_test_env.c - the XDP root test's object: loaded with libbpf, its pinned maps going to a
 * private bpffs on a temp directory (never /sys/fs/bpf, so a running stormboot is not
 * disturbed), and frames run through BPF_PROG_TEST_RUN with the verdict and the counters checked.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <linux/bpf.h>
#include <linux/if_xdp.h>

#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xdp_test.h"

#ifndef AF_XDP
#define AF_XDP 44
#endif

struct xdp_test_env T = {.prog_fd = -1, .xsks_fd = -1, .xsk_fd = -1, .rate_fd = -1};

int run_frame(const uint8_t *frame, size_t len, uint32_t repeat, uint32_t *retval)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = (__u32)len,
		    .repeat = repeat);
	int err;

	err = bpf_prog_test_run_opts(T.prog_fd, &opts);
	if (err)
		return -errno;
	*retval = opts.retval;
	return 0;
}

void counters_reset(void)
{
	assert_int_equal(xdp_ctl_counters_reset(&T.ctl), 0);
}

void counters_read(struct sb_xdp_counters *c)
{
	assert_int_equal(xdp_ctl_counters_read(&T.ctl, c), 0);
}

/* Exactly `n` packets counted, all under counter `want`. */
void assert_only_counter(const char *what, unsigned want, uint64_t n)
{
	struct sb_xdp_counters c;
	unsigned i;

	counters_read(&c);
	for (i = 0; i < SB_XDP_CNT__COUNT; i++) {
		uint64_t expect = i == want ? n : 0;

		if (c.v[i] != expect)
			fail_msg("%s: counter %s = %llu, expected %llu (verdict counter %s)", what,
				 xdp_ctl_counter_name(i), (unsigned long long)c.v[i],
				 (unsigned long long)expect, xdp_ctl_counter_name(want));
	}
}

/* Run one frame once from zeroed counters; check the verdict and the one counter it moved. */
void expect_verdict(const char *what, const uint8_t *frame, size_t len, uint32_t verdict,
		    unsigned counter)
{
	uint32_t ret = 0;
	int err;

	counters_reset();
	err = run_frame(frame, len, 1, &ret);
	if (err)
		fail_msg("%s (len %zu): test run failed: %s", what, len, strerror(-err));
	if (ret != verdict)
		fail_msg("%s (len %zu): verdict %u, expected %u", what, len, ret, verdict);
	assert_only_counter(what, counter, 1);
}

void settings_apply(uint32_t flags, uint32_t mask, uint16_t lo, uint16_t hi, uint32_t ip)
{
	struct sb_xdp_settings s = {
		.flags = flags,
		.port_mask = mask,
		.xfer_port_lo = lo,
		.xfer_port_hi = hi,
		.server_ip_be = htonl(ip),
	};

	assert_int_equal(xdp_ctl_settings_set(&T.ctl, &s), 0);
}

/* The settings every table test starts from: everything steered, router solicitations too. */
void map_empty(int fd, size_t key_size)
{
	unsigned char k[32];

	assert_true(key_size <= sizeof(k));
	while (bpf_map_get_next_key(fd, NULL, k) == 0)
		assert_int_equal(bpf_map_delete_elem(fd, k), 0);
	assert_int_equal(errno, ENOENT);
}

/* No guard left from an earlier test: lists, VLAN set, buckets, routers all empty. */
static void guard_reset(void)
{
	assert_int_equal(xdp_ctl_mac_clear(&T.ctl, XDP_CTL_DENY), 0);
	assert_int_equal(xdp_ctl_mac_clear(&T.ctl, XDP_CTL_ALLOW), 0);
	map_empty(T.ctl.vlans_fd, sizeof(struct sb_xdp_vlan));
	map_empty(T.rate_fd, sizeof(struct sb_xdp_rate_key));
	map_empty(T.ctl.routers_fd, sizeof(struct sb_xdp_router_key));
}

void settings_lab(void)
{
	guard_reset();
	settings_apply(SB_XDP_F_ENABLE, SB_XDP_PORT_M_VALID, XFER_LO, XFER_HI, 0);
}

void xsk_slot_fill(int on)
{
	__u32 key = 0;

	if (on) {
		assert_int_equal(bpf_map_update_elem(T.xsks_fd, &key, &T.xsk_fd, BPF_ANY), 0);
	} else {
		int r = bpf_map_delete_elem(T.xsks_fd, &key);

		assert_true(r == 0 || errno == ENOENT);
	}
}

static const char *obj_path(void)
{
	const char *p = getenv("XDP_OBJ");

	return p && *p ? p : SB_XDP_OBJ_BUILD_PATH;
}

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

/* Mount a private bpffs, load the object pinning its maps there. Returns 0 or SKIP_EXIT. */
int global_setup(void)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo);
	struct bpf_program *prog;
	int err;

	snprintf(T.pin_dir, sizeof(T.pin_dir), "/tmp/sb-xdp-test.XXXXXX");
	if (!mkdtemp(T.pin_dir)) {
		fprintf(stderr, "SKIP: mkdtemp: %s\n", strerror(errno));
		return SKIP_EXIT;
	}
	if (mount("bpf", T.pin_dir, "bpf", 0, "mode=0700") != 0) {
		fprintf(stderr, "SKIP: cannot mount bpffs on %s: %s\n", T.pin_dir, strerror(errno));
		rmdir(T.pin_dir);
		return SKIP_EXIT;
	}
	T.pin_mounted = 1;

	libbpf_set_print(libbpf_quiet);
	oo.pin_root_path = T.pin_dir;
	T.obj = bpf_object__open_file(obj_path(), &oo);
	if (!T.obj) {
		fprintf(stderr, "FAIL: open %s: %s\n", obj_path(), strerror(errno));
		return 1;
	}
	err = bpf_object__load(T.obj);
	if (err) {
		fprintf(stderr, "FAIL: load %s: %s\n", obj_path(), strerror(-err));
		return 1;
	}
	/* net_af_xdp attaches the object's first program: there must be exactly one. */
	prog = bpf_object__next_program(T.obj, NULL);
	if (!prog || bpf_object__next_program(T.obj, prog) ||
	    strcmp(bpf_program__name(prog), SB_XDP_PROG_NAME) ||
	    bpf_program__type(prog) != BPF_PROG_TYPE_XDP) {
		fprintf(stderr, "FAIL: the object must hold one XDP program, %s\n",
			SB_XDP_PROG_NAME);
		return 1;
	}
	T.prog_fd = bpf_program__fd(prog);
	T.xsks_fd = bpf_object__find_map_fd_by_name(T.obj, SB_XDP_XSKS_MAP);
	T.rate_fd = bpf_object__find_map_fd_by_name(T.obj, SB_XDP_RATE_MAP);
	if (T.xsks_fd < 0 || T.rate_fd < 0 || xdp_ctl_open_object(&T.ctl, T.obj) != 0) {
		fprintf(stderr, "FAIL: maps missing in %s\n", obj_path());
		return 1;
	}
	T.xsk_fd = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (T.xsk_fd < 0) {
		fprintf(stderr, "SKIP: no AF_XDP sockets: %s\n", strerror(errno));
		return SKIP_EXIT;
	}
	return 0;
}

void global_teardown(void)
{
	lab_down(); /* also after a failed veth test */
	xdp_ctl_close(&T.ctl);
	if (T.xsk_fd >= 0)
		close(T.xsk_fd);
	if (T.obj)
		bpf_object__close(T.obj);
	if (T.pin_mounted) {
		umount2(T.pin_dir, MNT_DETACH);
		rmdir(T.pin_dir);
	}
}
