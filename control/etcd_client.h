/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * etcd_client.h - stormboot-control's client of etcd v3 (docs/SCALE-OUT.md).
 *
 * Why not a C client library: Debian 12 packages none for etcd v3 (etcd's own clients are Go;
 * the C ones on the net are unmaintained or speak v2). etcd v3 serves its whole KV, lease and
 * watch API as JSON over HTTP (the gRPC gateway, /v3/...), so this module speaks that with
 * libcurl (TLS, client certificates) and jansson. Keys and values are base64 on that wire;
 * 64-bit integers are JSON strings.
 *
 * Threads: every request runs on a worker thread of its lane (a blocking libcurl call with
 * the configured timeout), never on control's loop. Lanes are independent, so a slow
 * transaction on the KV lane does not delay the session lane's keepalives. A watch runs on a
 * thread of its own: one long HTTP response of newline-separated JSON messages, reopened
 * from the next revision after an error. Results and watch events come back to the loop
 * thread through an eventfd: every callback runs on the loop thread.
 *
 * Endpoints: tried in order from the last one that answered; a transport error moves to the
 * next. Authentication: with a user, /v3/auth/authenticate gives a token sent as the
 * Authorization header, fetched again when etcd says it is invalid.
 */
#ifndef SB_ETCD_CLIENT_H
#define SB_ETCD_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "event_loop.h"
#include "sbcfg.h"

enum etcd_lane {
	ETCD_LANE_KV,	   /* lease commits, reads */
	ETCD_LANE_SESSION, /* registration, keepalive */
	ETCD_LANE__COUNT,
};

struct etcd_client;

/*
 * A request's outcome, on the loop thread: rc 0 and resp (etcd's JSON reply, borrowed for the
 * call) or rc -errno (-ETIMEDOUT, -ECONNREFUSED, -EHOSTUNREACH: etcd not reached; -EPROTO:
 * etcd answered with an error, in err; -EACCES: authentication refused) and resp NULL.
 */
typedef void etcd_reply_fn(void *arg, int rc, json_t *resp, const char *err);

/* A watch event batch (etcd's "result" object: {"events": [...], "header": {...}}), or
 * rc < 0 when the stream broke (it is reopened; err says why). */
typedef void etcd_watch_fn(void *arg, int rc, json_t *result, const char *err);

struct etcd_client_stats {
	uint64_t requests, failures, timeouts;
	uint64_t watch_events, watch_reconnects;
	uint64_t queued[ETCD_LANE__COUNT];    /* requests waiting now */
	char endpoint[SBCFG_CLUSTER_URL_MAX]; /* the one that answered last */
	char last_error[256];
};

/*
 * A client for c (endpoints, TLS, user and password file read now). Starts its threads.
 * NULL with the reason in err.
 */
struct etcd_client *etcd_client_new(struct ev_loop *loop, const struct sbcfg_cluster *c, char *err,
				    size_t errlen);
/* Stop the threads (requests in progress end with -ECANCELED, their callbacks not called). */
void etcd_client_free(struct etcd_client *cl);

/*
 * POST body (taken) to path ("/v3/kv/txn") on lane; fn(arg, ...) runs once, later, on the
 * loop thread. -ENOMEM (fn not called).
 */
int etcd_client_call(struct etcd_client *cl, enum etcd_lane lane, const char *path, json_t *body,
		     etcd_reply_fn *fn, void *arg);

/*
 * Watch the keys with prefix from revision start_rev (0: now) on the watch thread; fn gets
 * every event batch. One watch per call; it lives until the client is freed. 0 or -errno.
 */
int etcd_client_watch(struct etcd_client *cl, const char *prefix, int64_t start_rev,
		      etcd_watch_fn *fn, void *arg);

void etcd_client_get_stats(struct etcd_client *cl, struct etcd_client_stats *out);

/* ---- the wire: pure helpers (unit-tested) ---- */

/* base64 of len bytes into a new string (free()), NULL when out of memory. */
char *etcd_b64(const void *buf, size_t len);
/* Decode s into out (cap bytes); the length, or -EINVAL. */
long etcd_unb64(const char *s, void *out, size_t cap);
/* The range_end that selects every key with prefix p (p with its last byte + 1), base64. */
char *etcd_prefix_end_b64(const char *p);
/* A JSON int64 of etcd's gateway (a string, or a number): the value, 0 when absent. */
int64_t etcd_json_int(const json_t *v);

#endif
