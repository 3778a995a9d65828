/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sb-fake-dataplane: plays the dataplane for the control tests, through chan.h's client.
 * usage: sb-fake-dataplane SOCKET [-b N] [-i FIRST_IP] [-m MAC_PREFIX_BYTE] [-w SECONDS]
 *                                 [-r] [-B BATCH] [-C MS] [-R TEXT] [-S MS]
 *   -b N     send N "bound" lease events (MAC 02:MM:00:00:hi:lo, IP FIRST_IP + k)
 *   -w S     keep serving requests (stats/latency/sessions) for S seconds, then exit
 *   -r       send one "released" event for the first address after the binds
 *   -C MS    answer each config snapshot MS milliseconds after it came (a slow adoption)
 *   -R TEXT  refuse (-EINVAL) every config snapshot whose JSON contains TEXT
 *   -S MS    answer stats/latency/sessions requests MS milliseconds late
 * Prints "connected", "hello-refused STATUS TEXT", "config GEN", "config-reply GEN STATUS"
 * (when the reply leaves),
 * "leases N" (snapshot), "acked MAC IP" for every durable record, "refused MAC IP ERR",
 * "done" - one per line, flushed, so a script can kill the daemon at any moment and still
 * know exactly which leases were confirmed.
 */
#define _GNU_SOURCE /* memmem */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "chan.h"

#define REFUSAL_TEXT "fake dataplane refuses this snapshot"

/* A reply held back by -C or -S until its time comes. */
struct late_reply {
	uint64_t due_ms;
	uint16_t type;
	uint32_t id;
	int32_t status;
	char *payload; /* malloc'd, may be NULL */
	size_t len;
};

struct batch {
	uint32_t id;
	uint32_t n;
	struct chan_lease rec[64];
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void print_rec(const char *what, const struct chan_lease *r, int err)
{
	struct in_addr a = {htonl(r->ip)};

	printf("%s %02x:%02x:%02x:%02x:%02x:%02x %s", what, r->mac[0], r->mac[1], r->mac[2],
	       r->mac[3], r->mac[4], r->mac[5], inet_ntoa(a));
	if (err)
		printf(" %s", strerror(-err));
	printf("\n");
}

/* Queue a reply for due_ms (payload copied); send it at once when due_ms is 0. */
static void reply_at(struct chan_client *c, struct late_reply **late, size_t *n_late,
		     uint64_t due_ms, uint16_t type, uint32_t id, int32_t status,
		     const void *payload, size_t len)
{
	struct late_reply *v;

	if (!due_ms) {
		chan_client_reply(c, type, id, status, payload, len);
		if (type == CHAN_MSG_CONFIG_SNAPSHOT)
			printf("config-reply %u %d\n", id, status);
		return;
	}
	v = realloc(*late, (*n_late + 1) * sizeof(*v));
	if (!v)
		exit(1);
	*late = v;
	v[*n_late] = (struct late_reply){due_ms, type, id, status, NULL, len};
	if (len) {
		v[*n_late].payload = malloc(len);
		if (!v[*n_late].payload)
			exit(1);
		memcpy(v[*n_late].payload, payload, len);
	}
	(*n_late)++;
}

/* Send the held replies whose time has come, in the order they came. */
static void reply_due(struct chan_client *c, struct late_reply *late, size_t *n_late, uint64_t now)
{
	size_t k = 0;

	for (size_t i = 0; i < *n_late; i++) {
		struct late_reply *r = &late[i];
		if (r->due_ms > now) {
			late[k++] = *r;
			continue;
		}
		reply_at(c, NULL, NULL, 0, r->type, r->id, r->status, r->payload, r->len);
		free(r->payload);
	}
	*n_late = k;
}

int main(int argc, char **argv)
{
	uint64_t config_delay = 0, stats_delay = 0;
	const char *refuse = NULL;
	struct late_reply *late = NULL;
	size_t n_late = 0;
	uint32_t first_ip = 0xc6120064; /* 198.18.0.100 */
	int n_bind = 0, wait_s = 0, batch_sz = 64, o;
	unsigned int macb = 1;
	bool release = false, sent_release = false;
	struct batch *b = NULL;
	size_t nb = 0, acked_batches = 0, sent = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: sb-fake-dataplane SOCKET [-b N] [-i IP] [-m BYTE] [-w S] "
				"[-r] [-B BATCH]\n");
		return 2;
	}
	optind = 2;
	while ((o = getopt(argc, argv, "b:i:m:w:rB:C:R:S:")) != -1) {
		struct in_addr a;
		switch (o) {
		case 'b':
			n_bind = atoi(optarg);
			break;
		case 'i':
			if (inet_pton(AF_INET, optarg, &a) != 1)
				return 2;
			first_ip = ntohl(a.s_addr);
			break;
		case 'm':
			macb = (unsigned)strtoul(optarg, NULL, 0);
			break;
		case 'w':
			wait_s = atoi(optarg);
			break;
		case 'r':
			release = true;
			break;
		case 'B':
			batch_sz = atoi(optarg) < 1 || atoi(optarg) > 64 ? 64 : atoi(optarg);
			break;
		case 'C':
			config_delay = strtoull(optarg, NULL, 0);
			break;
		case 'R':
			refuse = optarg;
			break;
		case 'S':
			stats_delay = strtoull(optarg, NULL, 0);
			break;
		default:
			return 2;
		}
	}
	nb = ((size_t)n_bind + (size_t)batch_sz - 1) / (size_t)batch_sz;
	b = calloc(nb ? nb : 1, sizeof(*b));
	for (int k = 0; k < n_bind; k++) {
		struct chan_lease *r = &b[k / batch_sz].rec[b[k / batch_sz].n++];
		r->ip = first_ip + (uint32_t)k;
		r->mac[0] = 0x02;
		r->mac[1] = (uint8_t)macb;
		r->mac[4] = (uint8_t)(k >> 8);
		r->mac[5] = (uint8_t)k;
		r->event = CHAN_LEASE_BOUND;
		r->expires = (uint64_t)time(NULL) + 3600;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	struct chan_client *c = chan_client_new(argv[1], NULL);
	uint64_t start = now_ms(), deadline = start + 30000;
	bool ready = false, done_printed = false;

	while (now_ms() < deadline) {
		struct chan_msg m;
		int got = chan_client_poll(c, now_ms(), &m);

		reply_due(c, late, &n_late, now_ms());
		if (got == 0) {
			if (ready && sent < nb) { /* keep a few batches in flight */
				while (sent < nb && sent - acked_batches < 8) {
					if (chan_client_request(c, CHAN_MSG_LEASE_EVENT,
								b[sent].rec,
								b[sent].n * sizeof(b[0].rec[0]),
								&b[sent].id) < 0)
						break;
					sent++;
				}
			}
			if (ready && acked_batches == nb && release && !sent_release && n_bind) {
				struct chan_lease r = b[0].rec[0];
				r.event = CHAN_LEASE_RELEASED;
				chan_client_request(c, CHAN_MSG_LEASE_EVENT, &r, sizeof(r), NULL);
				sent_release = true;
			}
			if (ready && acked_batches == nb && !done_printed) {
				printf("done\n");
				done_printed = true;
				deadline = now_ms() + (uint64_t)wait_s * 1000;
			}
			struct pollfd p = {chan_client_fd(c), POLLIN, 0};
			if (p.fd >= 0)
				poll(&p, 1, 20);
			else
				usleep(20000);
			continue;
		}
		switch (m.hdr.type) {
		case CHAN_EV_CONNECTED:
			printf("connected\n");
			break;
		case CHAN_EV_DISCONNECTED:
			printf("disconnected\n");
			for (size_t i = 0; i < n_late; i++)
				free(late[i].payload);
			n_late = 0; /* replies for the lost connection are moot */
			if (!wait_s)
				return 1;
			ready = false;
			sent = acked_batches; /* unconfirmed batches are sent again */
			break;
		case CHAN_MSG_HELLO | CHAN_REPLY:
			if (m.hdr.status) /* refused (access, another dataplane): say why */
				printf("hello-refused %d %.*s\n", m.hdr.status, (int)m.hdr.len,
				       (const char *)m.payload);
			break;
		case CHAN_MSG_CONFIG_SNAPSHOT: {
			bool no = refuse && memmem(m.payload, m.hdr.len, refuse, strlen(refuse));
			printf("config %u\n", m.hdr.id);
			reply_at(c, &late, &n_late, config_delay ? now_ms() + config_delay : 0,
				 m.hdr.type, m.hdr.id, no ? -EINVAL : 0, no ? REFUSAL_TEXT : NULL,
				 no ? strlen(REFUSAL_TEXT) : 0);
			break;
		}
		case CHAN_MSG_LEASES_SNAPSHOT:
			printf("leases %zu\n", m.hdr.len / sizeof(struct chan_lease));
			chan_client_reply(c, m.hdr.type, m.hdr.id, 0, NULL, 0);
			ready = true;
			break;
		case CHAN_MSG_LEASE_DURABLE:
			for (size_t i = acked_batches; i < sent; i++) {
				if (b[i].id != m.hdr.id)
					continue;
				const int32_t *st = (const int32_t *)m.payload;
				for (uint32_t k = 0; k < b[i].n; k++) {
					int32_t s = k < m.hdr.len / 4 ? st[k] : m.hdr.status;
					print_rec(s == 0 ? "acked" : "refused", &b[i].rec[k], s);
				}
				acked_batches++;
			}
			break;
		case CHAN_MSG_STATS_REQUEST: {
			static const char s[] =
				"{\"rx_pkts\": 42, \"drop_dhcp_bad_op\": 1}"; /* docs/METRICS.md */
			reply_at(c, &late, &n_late, stats_delay ? now_ms() + stats_delay : 0,
				 m.hdr.type, m.hdr.id, 0, s, sizeof(s) - 1);
			break;
		}
		case CHAN_MSG_LATENCY_REQUEST: {
			static const char s[] =
				"{\"latency_p50_ns\": 900, \"latency_p99_ns\": 4000, \"latency_max_ns\": 9000}";
			reply_at(c, &late, &n_late, stats_delay ? now_ms() + stats_delay : 0,
				 m.hdr.type, m.hdr.id, 0, s, sizeof(s) - 1);
			break;
		}
		case CHAN_MSG_SESSIONS_REQUEST: {
			static const char s[] = "{\"tftp_sessions_active\": 0}";
			reply_at(c, &late, &n_late, stats_delay ? now_ms() + stats_delay : 0,
				 m.hdr.type, m.hdr.id, 0, s, sizeof(s) - 1);
			break;
		}
		case CHAN_MSG_IMAGES_REQUEST: {
			static const char s[] = "{\"undionly.kpxe\": 65536}";
			reply_at(c, &late, &n_late, stats_delay ? now_ms() + stats_delay : 0,
				 m.hdr.type, m.hdr.id, 0, s, sizeof(s) - 1);
			break;
		}
		case CHAN_MSG_LEASE_REVOKE:
			print_rec("revoked", (const struct chan_lease *)m.payload, 0);
			chan_client_reply(c, m.hdr.type, m.hdr.id, 0, NULL, 0);
			break;
		default:
			break;
		}
	}
	for (size_t i = 0; i < n_late; i++)
		free(late[i].payload);
	free(late);
	chan_client_free(c);
	free(b);
	return done_printed ? 0 : 1;
}
