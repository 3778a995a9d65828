/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * client_trace.h - stormboot-control's timelines of client boots (docs/TIMELINE.md).
 *
 * Steps come from the dataplane (CHAN_MSG_TIMELINE: DHCP, TFTP, RA), from HTTP boot
 * (client_trace_http) and from the clients' firmware: a syslog receiver on UDP
 * syslog.port (kernel path, the daemon's loop) joins each message to the client that holds
 * the lease of its source address. They are kept per client MAC in the core's store
 * (timeline.h, CLIENT_TRACE_CAP clients, the least recently active making room) and
 * written to the log, one line per step that matters (lease given, file served, transfer
 * failed and why, firmware errors; the rest at debug), through a token bucket: a storm writes
 * at most CLIENT_TRACE_LOG_BURST lines at once and CLIENT_TRACE_LOG_RATE per second, and the
 * next line written (or a timer, within CLIENT_TRACE_LOG_REPORT_MS) says how many were left
 * out (counted in log_suppressed).
 *
 * The API views (trace, clients) are built here as JSON.
 */
#ifndef SB_CLIENT_TRACE_H
#define SB_CLIENT_TRACE_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "ctl_clock.h"
#include "event_loop.h"
#include "lease_store.h"
#include "running_config.h"
#include "timeline.h"

#define CLIENT_TRACE_CAP	   16384 /* clients kept */
#define CLIENT_TRACE_LOG_RATE	   20	 /* step lines per second ... */
#define CLIENT_TRACE_LOG_BURST	   200	 /* ... after a burst of this many */
#define CLIENT_TRACE_SYSLOG_MAX	   1024	 /* bytes of a syslog datagram read */
#define CLIENT_TRACE_LOG_REPORT_MS 10000 /* lines left out are reported at least this often */

struct client_trace_deps {
	struct ev_loop *loop;
	const struct lease_store *store; /* who holds an address (HTTP, syslog) */
	const struct running_config *(*running)(void *arg);
	void *arg;
	struct ctl_clock clock;
	uint64_t (*now_ms)(void *arg); /* wall clock, unix ms (NULL: the real clock) */
};

struct client_trace {
	struct client_trace_deps deps;
	struct tl_store st;
	struct tl_client *clients;
	uint32_t *buckets;
	struct tl_params params;
	struct tl_bucket log;
	uint64_t from_dataplane; /* steps received from the dataplane */
	uint64_t log_lines, log_suppressed;
	long long log_timer;
	/* syslog receiver */
	int syslog_fd;
	uint16_t syslog_port; /* bound to, 0 = none */
	uint64_t syslog_received, syslog_unknown_client, syslog_bad;
	char syslog_err[160];
};

/* Allocate the store. 0 or -ENOMEM. */
int client_trace_open(struct client_trace *t, const struct client_trace_deps *deps);
/* Follow the running config's "syslog" section: open, move or close the receiver (errors are
 * logged and kept in syslog_err). */
void client_trace_apply(struct client_trace *t);
void client_trace_close(struct client_trace *t);

/* Record steps (and log them). */
void client_trace_add(struct client_trace *t, const struct sb_tl_event *ev, size_t n);

/* An HTTP request answered: status, body bytes, for the client of mac (NULL: the holder of the
 * lease of ip). */
void client_trace_http(struct client_trace *t, const uint8_t *mac, uint32_t ip, const char *path,
		       int status, uint64_t bytes);

/*
 * One syslog datagram (RFC 3164/5424 "<PRI>..."), from ip: recorded as a firmware-log step of
 * the lease holder of ip. 0, -EINVAL (no <PRI>), -ENOENT (no client holds ip).
 */
int client_trace_syslog(struct client_trace *t, uint32_t ip, const char *msg, size_t len);

/*
 * A firmware failure report over HTTP (GET /fwlog, fwlog.h) of mac from ip: a "firmware err"
 * step with text. leased: ip is leased to mac (checked by the caller); otherwise only a MAC
 * already in the timelines is accepted (proxyDHCP). 0 or -ENOENT.
 */
int client_trace_firmware(struct client_trace *t, const uint8_t mac[6], uint32_t ip, bool leased,
			  const char *text);

/*
 * The timeline of mac: {"mac", "ip", "state", "first", "last", "steps": [{"seq", "time"
 * (unix ms), "kind", "step", "detail", "outcome"}...]} with the steps whose seq > after;
 * NULL when mac is unknown.
 */
json_t *client_trace_json(const struct client_trace *t, const uint8_t mac[6], uint64_t after);

/*
 * The clients, filtered by state (-1: all), sorted by sort ("last": most recent first,
 * "first": earliest start first, "mac", "state", "steps"; NULL = "last"), at most limit of
 * them (0: none, only the counts): {"counts": {"booting": N, ...}, "total", "shown",
 * "clients": [{"mac", "ip", "state", "last_step", "last_detail", "first", "last", "steps"}]}.
 * -EINVAL for an unknown sort key.
 */
int client_trace_clients_json(const struct client_trace *t, int state, const char *sort,
			      size_t limit, json_t **out);

/* Clients per state at now (counts[TL_STATE__COUNT]). */
void client_trace_counts(const struct client_trace *t, uint64_t counts[TL_STATE__COUNT]);

/* Counters for status: {"clients", "steps", "evicted", "log_lines", "log_suppressed",
 * "syslog_port", "syslog_received", ...}. */
json_t *client_trace_status_json(const struct client_trace *t);

#endif
