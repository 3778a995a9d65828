/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tftp_load.c - N TFTP clients in one process, to measure a server's capacity.
 *
 *   tftp_load -s SERVER_IP [-p PORT] -f REMOTE_NAME -n CLIENTS -b BLKSIZE
 *             [-w WINDOWSIZE] [-c COMPARE_FILE] [-t TIMEOUT_MS] [-r RETRIES]
 *             [-T MAX_SECONDS]
 *
 * What perfdhcp is for DHCP: one process, one UDP socket per client, one epoll
 * loop. Every client sends its RRQ ("octet", blksize, windowsize if > 1, tsize
 * 0) at the same moment, locks to the server's transfer port (TID) on the first
 * reply, and ACKs every block (lockstep) or every window (RFC 7440). A server
 * that ignores the options answers with DATA of 512 bytes; that is followed.
 * Duplicate DATA is re-ACKed with the last in-order block; on a timeout the
 * last ACK (or the RRQ) is sent again, up to RETRIES times. With -c every
 * payload is compared with the file at its offset as it arrives.
 *
 * Prints one line of figures at the end and a line per failed client:
 *   clients N ok K failed F bytes B wall_s .. mbs .. p50_s .. max_s ..
 *   retransmits .. dup_data .. foreign .. blksize .. windowsize .. blocks ..
 *   cpu_user_s .. cpu_sys_s .. cpu_us_per_block ..
 *   fail I REASON
 * mbs is 10^6 bytes per second over the wall time from the first RRQ to the
 * last block; windowsize is what the server granted (1: lockstep), -1 when the
 * clients did not all get the same. Exit status 0 only if every client got
 * the whole file (and it matched), 1 otherwise, 2 for bad arguments.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

/* RFC 1350 opcodes, RFC 2347 OACK. */
enum { OP_RRQ = 1, OP_WRQ = 2, OP_DATA = 3, OP_ACK = 4, OP_ERROR = 5, OP_OACK = 6 };

#define TFTP_DEFAULT_BLKSIZE 512   /* RFC 1350 */
#define TFTP_BLKSIZE_MIN     8	   /* RFC 2348 */
#define TFTP_BLKSIZE_MAX     65464 /* RFC 2348 */
#define TFTP_WINDOW_MAX	     65535 /* RFC 7440 */
#define TFTP_ERR_UNKNOWN_TID 5	   /* RFC 1350 */
#define RX_BUF_SIZE	     (TFTP_BLKSIZE_MAX + 4)
#define RX_BATCH	     8 /* datagrams per recvmmsg */
#define RRQ_MAX		     512
#define MAX_CLIENTS	     65536
#define TIMER_SCAN_NS	     (2 * 1000000LL) /* scan the clients' timers every 2 ms */
#define EPOLL_BATCH	     256

enum client_state { CL_RRQ, CL_XFER, CL_DONE, CL_FAILED };

struct client {
	int fd;
	enum client_state state;
	bool locked;	     /* peer_port is the server's transfer port */
	bool reacked;	     /* a re-ACK was sent since the last progress (windowed) */
	uint16_t peer_port;  /* network byte order */
	uint32_t blksize;    /* granted */
	uint32_t window;     /* granted */
	uint32_t in_window;  /* in-order blocks since the last ACK */
	uint32_t tries;	     /* retransmissions since the last progress */
	uint64_t next_block; /* next expected block, counted without rollover */
	uint64_t bytes;
	int64_t tsize; /* from the OACK, -1 if none */
	int64_t start_ns;
	int64_t end_ns;
	int64_t deadline_ns;
	char reason[128];
};

struct options {
	struct sockaddr_in server;
	const char *remote;
	const char *compare;
	uint32_t clients;
	uint32_t blksize;
	uint32_t window;
	uint32_t timeout_ms;
	uint32_t retries;
	uint32_t max_seconds;
};

struct load {
	struct options opt;
	struct client *cl;
	int epfd;
	const uint8_t *image; /* -c file, mapped */
	size_t image_size;
	uint8_t rrq[RRQ_MAX];
	size_t rrq_len;
	uint32_t active; /* clients neither done nor failed */
	uint64_t retransmits;
	uint64_t dup_data;
	uint64_t foreign;
	uint64_t blocks;
	struct mmsghdr msg[RX_BATCH];
	struct iovec iov[RX_BATCH];
	struct sockaddr_in from[RX_BATCH];
	uint8_t rx[RX_BATCH][RX_BUF_SIZE];
};

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: tftp_load -s SERVER_IP [-p PORT(69)] -f REMOTE_NAME -n CLIENTS -b BLKSIZE\n"
		"                 [-w WINDOWSIZE(1)] [-c COMPARE_FILE] [-t TIMEOUT_MS(1000)]\n"
		"                 [-r RETRIES(5)] [-T MAX_SECONDS(300)]\n");
	exit(2);
}

static uint32_t parse_u32(const char *arg, char flag, uint32_t min, uint32_t max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno || end == arg || *end || arg[0] == '-' || v < min || v > max) {
		fprintf(stderr,
			"tftp_load: -%c %s: expected a number from %" PRIu32 " to %" PRIu32 "\n",
			flag, arg, min, max);
		usage();
	}
	return (uint32_t)v;
}

static void parse_args(int argc, char **argv, struct options *o)
{
	const char *server = NULL;
	uint32_t port = 69;
	int c;

	*o = (struct options){
		.blksize = 0, .window = 1, .timeout_ms = 1000, .retries = 5, .max_seconds = 300};
	while ((c = getopt(argc, argv, "s:p:f:n:b:w:c:t:r:T:h")) != -1) {
		switch (c) {
		case 's':
			server = optarg;
			break;
		case 'p':
			port = parse_u32(optarg, 'p', 1, 65535);
			break;
		case 'f':
			o->remote = optarg;
			break;
		case 'n':
			o->clients = parse_u32(optarg, 'n', 1, MAX_CLIENTS);
			break;
		case 'b':
			o->blksize = parse_u32(optarg, 'b', TFTP_BLKSIZE_MIN, TFTP_BLKSIZE_MAX);
			break;
		case 'w':
			o->window = parse_u32(optarg, 'w', 1, TFTP_WINDOW_MAX);
			break;
		case 'c':
			o->compare = optarg;
			break;
		case 't':
			o->timeout_ms = parse_u32(optarg, 't', 1, 600000);
			break;
		case 'r':
			o->retries = parse_u32(optarg, 'r', 0, 1000);
			break;
		case 'T':
			o->max_seconds = parse_u32(optarg, 'T', 1, 86400);
			break;
		default:
			usage();
		}
	}
	if (optind != argc) {
		fprintf(stderr, "tftp_load: unexpected argument %s\n", argv[optind]);
		usage();
	}
	if (!server || !o->remote || !o->clients || !o->blksize) {
		fprintf(stderr, "tftp_load: -s, -f, -n and -b are required\n");
		usage();
	}
	o->server.sin_family = AF_INET;
	o->server.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, server, &o->server.sin_addr) != 1) {
		fprintf(stderr, "tftp_load: -s %s: not an IPv4 address\n", server);
		usage();
	}
}

/* Appends a NUL-terminated string; false if it does not fit. */
static bool put_str(uint8_t *buf, size_t cap, size_t *len, const char *s)
{
	size_t n = strlen(s) + 1;

	if (n > cap - *len)
		return false;
	memcpy(buf + *len, s, n);
	*len += n;
	return true;
}

/* RFC 1350 RRQ with the RFC 2347 options blksize, windowsize (RFC 7440) and tsize. */
static int build_rrq(struct load *ld)
{
	const struct options *o = &ld->opt;
	char num[16];
	size_t len = 2;
	bool ok;

	ld->rrq[0] = 0;
	ld->rrq[1] = OP_RRQ;
	snprintf(num, sizeof(num), "%" PRIu32, o->blksize);
	ok = put_str(ld->rrq, RRQ_MAX, &len, o->remote) &&
	     put_str(ld->rrq, RRQ_MAX, &len, "octet") &&
	     put_str(ld->rrq, RRQ_MAX, &len, "blksize") && put_str(ld->rrq, RRQ_MAX, &len, num);
	if (ok && o->window > 1) {
		snprintf(num, sizeof(num), "%" PRIu32, o->window);
		ok = put_str(ld->rrq, RRQ_MAX, &len, "windowsize") &&
		     put_str(ld->rrq, RRQ_MAX, &len, num);
	}
	ok = ok && put_str(ld->rrq, RRQ_MAX, &len, "tsize") && put_str(ld->rrq, RRQ_MAX, &len, "0");
	if (!ok) {
		fprintf(stderr, "tftp_load: -f %s: file name too long for an RRQ\n", o->remote);
		return -1;
	}
	ld->rrq_len = len;
	return 0;
}

static void client_fail(struct load *ld, struct client *c, const char *fmt, ...)
{
	va_list ap;

	if (c->state == CL_DONE || c->state == CL_FAILED)
		return;
	va_start(ap, fmt);
	vsnprintf(c->reason, sizeof(c->reason), fmt, ap);
	va_end(ap);
	c->state = CL_FAILED;
	c->end_ns = now_ns();
	ld->active--;
}

static void send_to(struct load *ld, struct client *c, const void *pkt, size_t len,
		    uint16_t port_be)
{
	struct sockaddr_in to = ld->opt.server;

	to.sin_port = port_be;
	if (sendto(c->fd, pkt, len, 0, (struct sockaddr *)&to, sizeof(to)) < 0 && errno != EAGAIN &&
	    errno != ENOBUFS && errno != ECONNREFUSED)
		client_fail(ld, c, "sendto: %s", strerror(errno));
}

/* ACK the last in-order block (block 0 acknowledges an OACK, RFC 2347). */
static void send_ack(struct load *ld, struct client *c)
{
	uint16_t block = (uint16_t)((c->next_block - 1) & 0xffff);
	uint8_t ack[4] = {0, OP_ACK, (uint8_t)(block >> 8), (uint8_t)block};

	send_to(ld, c, ack, sizeof(ack), c->peer_port);
}

static void send_rrq(struct load *ld, struct client *c)
{
	send_to(ld, c, ld->rrq, ld->rrq_len, ld->opt.server.sin_port);
}

/* RFC 1350: a packet from a foreign TID gets an ERROR, the transfer goes on. */
static void reject_foreign(struct load *ld, struct client *c, uint16_t port_be)
{
	static const uint8_t err[] = {
		0,   OP_ERROR, 0, TFTP_ERR_UNKNOWN_TID, 'u', 'n', 'k', 'n', 'o', 'w', 'n', ' ', 'T',
		'I', 'D',      0};

	ld->foreign++;
	send_to(ld, c, err, sizeof(err), port_be);
}

static void arm_timer(struct load *ld, struct client *c, int64_t now)
{
	c->tries = 0;
	c->deadline_ns = now + (int64_t)ld->opt.timeout_ms * 1000000LL;
}

static bool parse_option_value(const char *val, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(val, &end, 10);
	if (errno || end == val || *end || val[0] == '-' || v > max)
		return false;
	*out = v;
	return true;
}

/* RFC 2347 OACK: name/value pairs, each NUL-terminated. */
static void on_oack(struct load *ld, struct client *c, const uint8_t *p, size_t len, int64_t now)
{
	const char *end = (const char *)p + len;
	const char *pos = (const char *)p + 2;
	uint64_t v;

	if (c->state != CL_RRQ) {
		/* Our ACK 0 was lost and the server repeats its OACK. */
		if (c->next_block == 1)
			send_ack(ld, c);
		return;
	}
	c->blksize = TFTP_DEFAULT_BLKSIZE;
	c->window = 1;
	while (pos < end) {
		const char *name = pos, *val;
		const char *nul = memchr(pos, 0, (size_t)(end - pos));

		if (!nul || nul + 1 >= end) {
			client_fail(ld, c, "malformed OACK");
			return;
		}
		val = nul + 1;
		nul = memchr(val, 0, (size_t)(end - val));
		if (!nul) {
			client_fail(ld, c, "malformed OACK (value of %s)", name);
			return;
		}
		pos = nul + 1;
		if (!strcasecmp(name, "blksize")) {
			if (!parse_option_value(val, ld->opt.blksize, &v) || v < TFTP_BLKSIZE_MIN) {
				client_fail(ld, c, "OACK blksize %s, asked for %" PRIu32, val,
					    ld->opt.blksize);
				return;
			}
			c->blksize = (uint32_t)v;
		} else if (!strcasecmp(name, "windowsize")) {
			if (!parse_option_value(val, ld->opt.window, &v) || v < 1) {
				client_fail(ld, c, "OACK windowsize %s, asked for %" PRIu32, val,
					    ld->opt.window);
				return;
			}
			c->window = (uint32_t)v;
		} else if (!strcasecmp(name, "tsize")) {
			if (!parse_option_value(val, INT64_MAX, &v)) {
				client_fail(ld, c, "OACK tsize %s", val);
				return;
			}
			if (ld->image && v != ld->image_size) {
				client_fail(ld, c, "OACK tsize %" PRIu64 ", file has %zu bytes", v,
					    ld->image_size);
				return;
			}
			c->tsize = (int64_t)v;
		}
		/* Options we did not ask for are ignored. */
	}
	c->state = CL_XFER;
	arm_timer(ld, c, now);
	send_ack(ld, c);
}

static void client_done(struct load *ld, struct client *c, int64_t now)
{
	if (ld->image && c->bytes != ld->image_size) {
		client_fail(ld, c, "got %" PRIu64 " bytes, file has %zu", c->bytes, ld->image_size);
		return;
	}
	if (c->tsize >= 0 && c->bytes != (uint64_t)c->tsize) {
		client_fail(ld, c, "got %" PRIu64 " bytes, tsize was %" PRId64, c->bytes, c->tsize);
		return;
	}
	c->state = CL_DONE;
	c->end_ns = now;
	ld->active--;
}

static bool payload_matches(struct load *ld, struct client *c, const uint8_t *data, size_t n)
{
	uint64_t off = (c->next_block - 1) * c->blksize;

	if (!ld->image)
		return true;
	if (off > ld->image_size || n > ld->image_size - off) {
		client_fail(ld, c, "block %" PRIu64 " goes past the end of the file (%zu bytes)",
			    c->next_block, ld->image_size);
		return false;
	}
	if (memcmp(ld->image + off, data, n)) {
		client_fail(ld, c, "block %" PRIu64 " differs from the file", c->next_block);
		return false;
	}
	return true;
}

static void on_data(struct load *ld, struct client *c, const uint8_t *p, size_t len, int64_t now)
{
	uint16_t block = (uint16_t)(p[2] << 8 | p[3]);
	size_t n = len - 4;

	if (c->state == CL_RRQ) {
		/* No OACK: the server ignored the options (RFC 2347), RFC 1350 rules. */
		c->blksize = TFTP_DEFAULT_BLKSIZE;
		c->window = 1;
		c->state = CL_XFER;
	} else if (c->state != CL_XFER) {
		/* Our last ACK was lost: repeat it, the server is waiting for it. */
		if (c->state == CL_DONE && block == (uint16_t)((c->next_block - 1) & 0xffff))
			send_ack(ld, c);
		return;
	}
	if (block != (uint16_t)(c->next_block & 0xffff)) {
		/* Duplicate or out of order: ACK the last in-order block (RFC 7440 sec. 4);
		 * in a window once per gap, not for every block behind it. */
		ld->dup_data++;
		if (c->window == 1 || !c->reacked) {
			c->reacked = true;
			c->in_window = 0;
			send_ack(ld, c);
		}
		return;
	}
	if (n > c->blksize) {
		client_fail(ld, c, "block %" PRIu64 " has %zu bytes, blksize is %" PRIu32,
			    c->next_block, n, c->blksize);
		return;
	}
	if (!payload_matches(ld, c, p + 4, n))
		return;
	c->bytes += n;
	c->next_block++;
	c->in_window++;
	c->reacked = false;
	ld->blocks++;
	arm_timer(ld, c, now);
	if (n < c->blksize) {
		send_ack(ld, c);
		client_done(ld, c, now);
		return;
	}
	if (c->in_window >= c->window) {
		c->in_window = 0;
		send_ack(ld, c);
	}
}

static void on_error(struct load *ld, struct client *c, const uint8_t *p, size_t len)
{
	unsigned int code = (unsigned int)(p[2] << 8 | p[3]);
	int msg_len = (int)strnlen((const char *)p + 4, len - 4);

	client_fail(ld, c, "server error %u: %.*s", code, msg_len > 80 ? 80 : msg_len,
		    (const char *)p + 4);
}

static void on_packet(struct load *ld, struct client *c, const uint8_t *p, size_t len,
		      const struct sockaddr_in *from, int64_t now)
{
	uint16_t op;

	if (from->sin_addr.s_addr != ld->opt.server.sin_addr.s_addr) {
		ld->foreign++;
		return;
	}
	if (!c->locked) {
		/* The server answers from its transfer port: that is the TID from now on. */
		c->locked = true;
		c->peer_port = from->sin_port;
	} else if (from->sin_port != c->peer_port) {
		reject_foreign(ld, c, from->sin_port);
		return;
	}
	if (len < 4) {
		ld->foreign++;
		return;
	}
	op = (uint16_t)(p[0] << 8 | p[1]);
	switch (op) {
	case OP_DATA:
		on_data(ld, c, p, len, now);
		break;
	case OP_OACK:
		on_oack(ld, c, p, len, now);
		break;
	case OP_ERROR:
		on_error(ld, c, p, len);
		break;
	default:
		ld->foreign++;
		break;
	}
}

/*
 * Reads what the socket holds, a batch per call; a short batch means it is
 * drained (recvmmsg stops at EAGAIN), so lockstep costs one call per block.
 */
static void drain_socket(struct load *ld, struct client *c)
{
	unsigned int k;
	int64_t now;
	int n;

	do {
		for (k = 0; k < RX_BATCH; k++)
			ld->msg[k].msg_hdr.msg_namelen = sizeof(ld->from[k]);
		n = recvmmsg(c->fd, ld->msg, RX_BATCH, MSG_DONTWAIT, NULL);
		if (n < 0) {
			if (errno == EINTR || errno == ECONNREFUSED) /* ICMP port unreachable */
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				client_fail(ld, c, "recvmmsg: %s", strerror(errno));
			return;
		}
		now = now_ns();
		for (k = 0; k < (unsigned int)n && c->state != CL_FAILED; k++)
			on_packet(ld, c, ld->rx[k], ld->msg[k].msg_len, &ld->from[k], now);
	} while (n == RX_BATCH || n < 0);
}

static void check_timers(struct load *ld, int64_t now)
{
	uint32_t i;

	for (i = 0; i < ld->opt.clients; i++) {
		struct client *c = &ld->cl[i];

		if ((c->state != CL_RRQ && c->state != CL_XFER) || now < c->deadline_ns)
			continue;
		if (c->tries >= ld->opt.retries) {
			client_fail(
				ld, c, "timeout after %" PRIu32 " retransmissions, %s", c->tries,
				c->state == CL_RRQ ? "no answer to the RRQ" : "waiting for DATA");
			continue;
		}
		c->tries++;
		ld->retransmits++;
		c->deadline_ns = now + (int64_t)ld->opt.timeout_ms * 1000000LL;
		if (c->state == CL_RRQ)
			send_rrq(ld, c);
		else
			send_ack(ld, c);
	}
}

static int map_compare_file(struct load *ld)
{
	struct stat st;
	int fd;

	if (!ld->opt.compare)
		return 0;
	fd = open(ld->opt.compare, O_RDONLY);
	if (fd < 0 || fstat(fd, &st) < 0) {
		fprintf(stderr, "tftp_load: -c %s: %s\n", ld->opt.compare, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	ld->image_size = (size_t)st.st_size;
	if (ld->image_size) {
		/* Populated now, so that page faults do not count as the clients' CPU. */
		void *m = mmap(NULL, ld->image_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);

		if (m == MAP_FAILED) {
			fprintf(stderr, "tftp_load: mmap %s: %s\n", ld->opt.compare,
				strerror(errno));
			close(fd);
			return -1;
		}
		ld->image = m;
	} else {
		ld->image = (const uint8_t *)""; /* empty file: compare sizes only */
	}
	close(fd);
	return 0;
}

/* One socket per client; room for as many descriptors as clients. */
static int open_sockets(struct load *ld)
{
	struct rlimit rl;
	uint32_t i;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < ld->opt.clients + 16ULL) {
		rl.rlim_cur = ld->opt.clients + 16ULL;
		if (rl.rlim_max < rl.rlim_cur)
			rl.rlim_max = rl.rlim_cur; /* root may raise it */
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
			fprintf(stderr,
				"tftp_load: %" PRIu32 " clients need %llu descriptors: %s\n",
				ld->opt.clients, (unsigned long long)rl.rlim_cur, strerror(errno));
			return -1;
		}
	}
	ld->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (ld->epfd < 0) {
		fprintf(stderr, "tftp_load: epoll_create1: %s\n", strerror(errno));
		return -1;
	}
	for (i = 0; i < ld->opt.clients; i++) {
		struct client *c = &ld->cl[i];
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};

		c->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (c->fd < 0) {
			fprintf(stderr, "tftp_load: socket for client %" PRIu32 ": %s\n", i,
				strerror(errno));
			return -1;
		}
		if (epoll_ctl(ld->epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
			fprintf(stderr, "tftp_load: epoll_ctl: %s\n", strerror(errno));
			return -1;
		}
		c->tsize = -1;
		c->next_block = 1;
	}
	return 0;
}

static void run(struct load *ld)
{
	struct epoll_event ev[EPOLL_BATCH];
	int64_t now = now_ns();
	int64_t stop = now + (int64_t)ld->opt.max_seconds * 1000000000LL;
	int64_t next_scan = now + TIMER_SCAN_NS;
	uint32_t i;
	int k, n;

	ld->active = ld->opt.clients;
	for (i = 0; i < ld->opt.clients; i++) {
		struct client *c = &ld->cl[i];

		c->start_ns = now_ns();
		c->deadline_ns = c->start_ns + (int64_t)ld->opt.timeout_ms * 1000000LL;
		send_rrq(ld, c);
	}
	while (ld->active > 0) {
		n = epoll_wait(ld->epfd, ev, EPOLL_BATCH, 1 + TIMER_SCAN_NS / 1000000);
		if (n < 0 && errno != EINTR) {
			fprintf(stderr, "tftp_load: epoll_wait: %s\n", strerror(errno));
			break;
		}
		for (k = 0; k < n; k++)
			drain_socket(ld, ev[k].data.ptr);
		now = now_ns();
		if (now >= next_scan) {
			check_timers(ld, now);
			next_scan = now + TIMER_SCAN_NS;
		}
		if (now >= stop)
			break;
	}
	for (i = 0; i < ld->opt.clients; i++)
		client_fail(ld, &ld->cl[i], "run time limit of %" PRIu32 " s reached",
			    ld->opt.max_seconds);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static double tv_s(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* Granted blksize/windowsize if all clients that got one agree, else -1. */
static long common_value(const struct load *ld, bool window)
{
	long v = 0;
	uint32_t i;

	for (i = 0; i < ld->opt.clients; i++) {
		const struct client *c = &ld->cl[i];
		long x = window ? c->window : c->blksize;

		if (!x)
			continue;
		if (v && x != v)
			return -1;
		v = x;
	}
	return v;
}

static int report(struct load *ld, const struct rusage *r0, const struct rusage *r1)
{
	int64_t *dur, first = INT64_MAX, last = 0;
	uint64_t bytes = 0;
	uint32_t ok = 0, i;
	double wall, user, sys;

	dur = calloc(ld->opt.clients, sizeof(*dur));
	if (!dur) {
		fprintf(stderr, "tftp_load: out of memory\n");
		return 1;
	}
	for (i = 0; i < ld->opt.clients; i++) {
		const struct client *c = &ld->cl[i];

		if (c->start_ns < first)
			first = c->start_ns;
		if (c->end_ns > last)
			last = c->end_ns;
		bytes += c->bytes;
		if (c->state == CL_DONE)
			dur[ok++] = c->end_ns - c->start_ns;
	}
	qsort(dur, ok, sizeof(*dur), cmp_i64);
	wall = last > first ? (double)(last - first) / 1e9 : 0;
	user = tv_s(r1->ru_utime) - tv_s(r0->ru_utime);
	sys = tv_s(r1->ru_stime) - tv_s(r0->ru_stime);
	printf("clients %" PRIu32 " ok %" PRIu32 " failed %" PRIu32 " bytes %" PRIu64
	       " wall_s %.3f mbs %.1f p50_s %.3f max_s %.3f retransmits %" PRIu64
	       " dup_data %" PRIu64 " foreign %" PRIu64 " blksize %ld windowsize %ld"
	       " blocks %" PRIu64 " cpu_user_s %.3f cpu_sys_s %.3f cpu_us_per_block %.2f\n",
	       ld->opt.clients, ok, ld->opt.clients - ok, bytes, wall,
	       wall > 0 ? (double)bytes / wall / 1e6 : 0.0,
	       ok ? (double)dur[(ok - 1) / 2] / 1e9 : 0.0, ok ? (double)dur[ok - 1] / 1e9 : 0.0,
	       ld->retransmits, ld->dup_data, ld->foreign, common_value(ld, false),
	       common_value(ld, true), ld->blocks, user, sys,
	       ld->blocks ? (user + sys) * 1e6 / (double)ld->blocks : 0.0);
	for (i = 0; i < ld->opt.clients; i++)
		if (ld->cl[i].state != CL_DONE)
			printf("fail %" PRIu32 " %s\n", i, ld->cl[i].reason);
	free(dur);
	return ok == ld->opt.clients ? 0 : 1;
}

static void cleanup(struct load *ld)
{
	uint32_t i;

	for (i = 0; ld->cl && i < ld->opt.clients; i++)
		if (ld->cl[i].fd >= 0)
			close(ld->cl[i].fd);
	if (ld->epfd >= 0)
		close(ld->epfd);
	if (ld->image && ld->image_size)
		munmap((void *)ld->image, ld->image_size);
	free(ld->cl);
	free(ld);
}

int main(int argc, char **argv)
{
	struct rusage r0, r1;
	struct load *ld;
	uint32_t i;
	int rc = 1;

	ld = calloc(1, sizeof(*ld));
	if (!ld) {
		fprintf(stderr, "tftp_load: out of memory\n");
		return 1;
	}
	ld->epfd = -1;
	for (i = 0; i < RX_BATCH; i++) {
		ld->iov[i] = (struct iovec){.iov_base = ld->rx[i], .iov_len = RX_BUF_SIZE};
		ld->msg[i].msg_hdr = (struct msghdr){
			.msg_name = &ld->from[i], .msg_iov = &ld->iov[i], .msg_iovlen = 1};
	}
	parse_args(argc, argv, &ld->opt);
	ld->cl = calloc(ld->opt.clients, sizeof(*ld->cl));
	if (!ld->cl) {
		fprintf(stderr, "tftp_load: out of memory for %" PRIu32 " clients\n",
			ld->opt.clients);
		free(ld);
		return 1;
	}
	for (i = 0; i < ld->opt.clients; i++)
		ld->cl[i].fd = -1;
	if (build_rrq(ld) < 0) {
		rc = 2;
		goto out;
	}
	if (map_compare_file(ld) < 0 || open_sockets(ld) < 0)
		goto out;
	getrusage(RUSAGE_SELF, &r0);
	run(ld);
	getrusage(RUSAGE_SELF, &r1);
	rc = report(ld, &r0, &r1);
out:
	cleanup(ld);
	return rc;
}
