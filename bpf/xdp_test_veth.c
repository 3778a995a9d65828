/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xdp_test_veth.c - the XDP program attached to a veth in network namespaces of the test's own
 * (198.18.250.0/24): ping and other UDP still reach the kernel, and (with libxdp) DHCP and TFTP
 * datagrams arrive on a bound AF_XDP socket.
 */
#define _GNU_SOURCE /* setns */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <linux/bpf.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>

#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#ifdef SB_HAVE_LIBXDP
#include <xdp/xsk.h>
#endif

#include "xdp_test.h"

#define NS_SRV	 "bpf-xdpt-srv"
#define NS_CLI	 "bpf-xdpt-cli"
#define IF_SRV	 "bpfxt0"
#define IF_CLI	 "bpfxt1"
#define VETH_SRV "198.18.250.1"
#define VETH_CLI "198.18.250.2"
/* iputils ping if installed, else busybox's (both take these options). */
#define PING                                                                                       \
	"ip netns exec " NS_CLI                                                                    \
	" sh -c '$(command -v ping || echo busybox ping) -c 2 -i 0.2 -w 4 -q " VETH_SRV            \
	" >/dev/null'"

static int sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = system(cmd);
	return rc == -1 ? -1 : WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

void lab_down(void)
{
	sh("ip netns del " NS_SRV " 2>/dev/null");
	sh("ip netns del " NS_CLI " 2>/dev/null");
}

static int lab_up(void)
{
	lab_down();
	return sh("set -e; ip netns add " NS_SRV "; ip netns add " NS_CLI ";"
		  "ip link add " IF_SRV " netns " NS_SRV " type veth peer name " IF_CLI
		  " netns " NS_CLI ";"
		  "ip -n " NS_SRV " addr add " VETH_SRV "/24 dev " IF_SRV ";"
		  "ip -n " NS_CLI " addr add " VETH_CLI "/24 dev " IF_CLI ";"
		  "ip -n " NS_SRV " link set lo up; ip -n " NS_CLI " link set lo up;"
		  "ip -n " NS_SRV " link set " IF_SRV " up; ip -n " NS_CLI " link set " IF_CLI
		  " up");
}

/* Enter a named netns; returns the fd of the one we were in, or -errno. */
static int netns_enter(const char *name)
{
	char path[128];
	int self, fd;

	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return -errno;
	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) {
		int err = -errno;

		if (fd >= 0)
			close(fd);
		close(self);
		return err;
	}
	close(fd);
	return self;
}

static void netns_leave(int self)
{
	assert_int_equal(setns(self, CLONE_NEWNET), 0);
	close(self);
}

/* Send one UDP datagram from the client namespace to the server veth address. */
static void client_send_udp(uint16_t sport, uint16_t dport, const char *msg)
{
	struct sockaddr_in src = {.sin_family = AF_INET, .sin_port = htons(sport)};
	struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons(dport)};
	int self, s, one = 1;

	self = netns_enter(NS_CLI);
	assert_true(self >= 0);
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(s >= 0);
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	inet_pton(AF_INET, VETH_CLI, &src.sin_addr);
	inet_pton(AF_INET, VETH_SRV, &dst.sin_addr);
	assert_int_equal(bind(s, (struct sockaddr *)&src, sizeof(src)), 0);
	assert_true(sendto(s, msg, strlen(msg), 0, (struct sockaddr *)&dst, sizeof(dst)) > 0);
	close(s);
	netns_leave(self);
}

#ifdef SB_HAVE_LIBXDP
#define XSK_FRAMES 64
#define XSK_FRAME  4096

struct test_xsk {
	void *area;
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fq, tx;
	struct xsk_ring_cons cq, rx;
};

/* An AF_XDP socket bound to queue 0 of the server veth, copy mode, fill ring stocked. */
static int test_xsk_open(struct test_xsk *x)
{
	struct xsk_socket_config cfg = {
		.rx_size = XSK_RING_CONS__DEFAULT_NUM_DESCS,
		.tx_size = XSK_RING_PROD__DEFAULT_NUM_DESCS,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = XDP_COPY,
	};
	__u32 idx, i;
	int err;

	memset(x, 0, sizeof(*x));
	if (posix_memalign(&x->area, (size_t)getpagesize(), XSK_FRAMES * XSK_FRAME))
		return -ENOMEM;
	err = xsk_umem__create(&x->umem, x->area, XSK_FRAMES * XSK_FRAME, &x->fq, &x->cq, NULL);
	if (err)
		return err;
	err = xsk_socket__create(&x->xsk, IF_SRV, 0, x->umem, &x->rx, &x->tx, &cfg);
	if (err)
		return err;
	if (xsk_ring_prod__reserve(&x->fq, XSK_FRAMES / 2, &idx) != XSK_FRAMES / 2)
		return -ENOSPC;
	for (i = 0; i < XSK_FRAMES / 2; i++)
		*xsk_ring_prod__fill_addr(&x->fq, idx + i) = (__u64)i * XSK_FRAME;
	xsk_ring_prod__submit(&x->fq, XSK_FRAMES / 2);
	return 0;
}

static void test_xsk_close(struct test_xsk *x)
{
	if (x->xsk)
		xsk_socket__delete(x->xsk);
	if (x->umem)
		xsk_umem__delete(x->umem);
	free(x->area);
}

/* Wait up to 2 s for a frame on the socket; returns its UDP destination port or -1. */
static int test_xsk_recv_dport(struct test_xsk *x, char *payload, size_t cap)
{
	struct pollfd pfd = {.fd = xsk_socket__fd(x->xsk), .events = POLLIN};
	int tries;

	for (tries = 0; tries < 20; tries++) {
		__u32 idx;

		if (xsk_ring_cons__peek(&x->rx, 1, &idx) == 1) {
			const struct xdp_desc *d = xsk_ring_cons__rx_desc(&x->rx, idx);
			const uint8_t *f = xsk_umem__get_data(x->area, d->addr);
			int dport = -1;
			size_t ihl;

			if (d->len >= 14 + 20 + 8 && f[12] == 0x08 && f[13] == 0x00) {
				ihl = (f[14] & 0xf) * 4u;
				if (d->len >= 14 + ihl + 8) {
					size_t n = d->len - (14 + ihl + 8);

					dport = f[14 + ihl + 2] << 8 | f[14 + ihl + 3];
					if (n >= cap)
						n = cap - 1;
					memcpy(payload, f + 14 + ihl + 8, n);
					payload[n] = 0;
				}
			}
			xsk_ring_cons__release(&x->rx, 1);
			return dport;
		}
		poll(&pfd, 1, 100);
	}
	return -1;
}
#endif /* SB_HAVE_LIBXDP */

/* A UDP socket in the server namespace: the kernel path for datagrams we do not steer. */
static int server_udp_socket(uint16_t port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	assert_true(s >= 0);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	return s;
}

static int udp_recv_wait(int s, char *buf, size_t cap)
{
	struct pollfd pfd = {.fd = s, .events = POLLIN};
	ssize_t n;

	if (poll(&pfd, 1, 2000) != 1)
		return -1;
	n = recv(s, buf, cap - 1, 0);
	if (n < 0)
		return -1;
	buf[n] = 0;
	return (int)n;
}

void test_veth_attach(void **state)
{
	struct sb_xdp_counters c;
	struct xdp_ctl byif;
	unsigned int ifindex;
	char buf[64];
	int self, err, s67, s5000;

	if (lab_up() != 0) {
		lab_down();
		skip();
	}
	self = netns_enter(NS_SRV);
	assert_true(self >= 0);
	ifindex = if_nametoindex(IF_SRV);
	assert_true(ifindex > 0);
	/* No RS steering here: the client kernel's own router solicitations (sent when its veth
	 * comes up) would count as redirect_failed or land on the AF_XDP socket. */
	settings_apply(SB_XDP_F_ENABLE, SB_XDP_PORT_M_ALL, XFER_LO, XFER_HI, 0);
	xsk_slot_fill(0); /* the unbound test socket must not sit on a live interface */
	err = bpf_xdp_attach((int)ifindex, T.prog_fd, XDP_FLAGS_UPDATE_IF_NOEXIST, NULL);
	if (err)
		fail_msg("bpf_xdp_attach(%s): %s", IF_SRV, strerror(-err));

	/* The maps are reachable from the interface alone (no bpffs needed). */
	assert_int_equal(xdp_ctl_open_ifindex(&byif, ifindex), 0);
	assert_int_equal(xdp_ctl_counters_reset(&byif), 0);

	/* ARP and ICMP still reach the kernel. */
	netns_leave(self);
	assert_int_equal(sh(PING), 0);
	self = netns_enter(NS_SRV);
	assert_true(self >= 0);
	assert_int_equal(xdp_ctl_counters_read(&byif, &c), 0);
	assert_true(c.pass_not_udp >= 2);  /* the echo requests */
	assert_true(c.pass_not_ipv4 >= 1); /* ARP */
	assert_int_equal(c.redirected_dhcp + c.redirected_tftp + c.redirect_failed, 0);

	/* Other UDP reaches a kernel socket; with no AF_XDP socket DHCP does too. */
	s5000 = server_udp_socket(5000);
	s67 = server_udp_socket(67);
	netns_leave(self);
	client_send_udp(5001, 5000, "other");
	client_send_udp(68, 67, "dhcp-no-xsk");
	assert_true(udp_recv_wait(s5000, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "other");
	assert_true(udp_recv_wait(s67, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "dhcp-no-xsk");
	assert_int_equal(xdp_ctl_counters_read(&byif, &c), 0);
	assert_int_equal(c.pass_other_port, 1);
	assert_int_equal(c.redirect_failed, 1);

#ifdef SB_HAVE_LIBXDP
	{
		struct test_xsk x;
		__u32 key = 0;
		int fd, dport;

		self = netns_enter(NS_SRV);
		assert_true(self >= 0);
		err = test_xsk_open(&x);
		if (err)
			fail_msg("AF_XDP socket on %s: %s", IF_SRV, strerror(-err));
		fd = xsk_socket__fd(x.xsk);
		assert_int_equal(bpf_map_update_elem(T.xsks_fd, &key, &fd, BPF_ANY), 0);
		netns_leave(self);

		client_send_udp(68, 67, "dhcp-to-xsk");
		dport = test_xsk_recv_dport(&x, buf, sizeof(buf));
		assert_int_equal(dport, 67);
		assert_string_equal(buf, "dhcp-to-xsk");
		client_send_udp(2070, 69, "tftp-to-xsk");
		assert_int_equal(test_xsk_recv_dport(&x, buf, sizeof(buf)), 69);
		client_send_udp(5001, 5000, "other-again");
		assert_true(udp_recv_wait(s5000, buf, sizeof(buf)) > 0);
		assert_string_equal(buf, "other-again");
		/* The kernel socket on 67 saw nothing this time. */
		assert_int_equal(recv(s67, buf, sizeof(buf), MSG_DONTWAIT), -1);
		assert_int_equal(sh(PING), 0);
		assert_int_equal(xdp_ctl_counters_read(&byif, &c), 0);
		assert_int_equal(c.redirected_dhcp, 1);
		assert_int_equal(c.redirected_tftp, 1);
		assert_int_equal(c.redirect_failed, 1);

		bpf_map_delete_elem(T.xsks_fd, &key);
		test_xsk_close(&x);
	}
#endif
	close(s5000);
	close(s67);
	xdp_ctl_close(&byif);

	self = netns_enter(NS_SRV);
	assert_true(self >= 0);
	assert_int_equal(bpf_xdp_detach((int)ifindex, 0, NULL), 0);
	netns_leave(self);
	lab_down();
}
