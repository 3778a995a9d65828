/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctld.h - stormboot-control's state and the functions its parts call on each other:
 *   main.c    options, signals, startup, config apply/reload (daemon_*)
 *   srv.c     the operator API socket: connections, framing, replies (srv_*)
 *   dpconn.c  the dataplane channel: HELLO, snapshots, lease events, requests (dataplane_link_*)
 *   cmd.c     the operator commands (cmd_*)
 * Single-threaded: everything runs from the event loop.
 */
#ifndef SB_CTLD_H
#define SB_CTLD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "chan.h"
#include "running_config.h"
#include "event_loop.h"
#include "lease_store.h"

#define DAEMON_VERSION	      "0.1.0"
#define DAEMON_DEFAULT_STATEDIR "/var/lib/stormboot"
#define DAEMON_DP_TIMEOUT_MS    2000 /* a dataplane request without reply fails after this */
#define DAEMON_MAX_CONNS	      256

struct api_conn;
struct http_boot;

/* A LEASE_DURABLE reply waiting for the next commit. */
struct dp_ack {
	uint32_t id;
	uint32_t n;
	int32_t *status; /* one per record */
};

typedef void dp_reply_fn(void *d, uint64_t cookie, int32_t status, const uint8_t *payload,
			 size_t len);

/* A request to the dataplane waiting for its reply. */
struct dp_pending {
	uint32_t id;
	uint64_t deadline_ms;
	dp_reply_fn *fn;
	uint64_t cookie;
};

struct dataplane_link {
	int lfd;
	int fd; /* -1: no dataplane */
	bool hello;
	bool closing; /* close once out is flushed */
	struct chan_buf in, out;
	uint32_t next_id;
	long peer_pid; /* from SO_PEERCRED */
	uint64_t connected_ms;
	uint64_t config_acked; /* generation the dataplane confirmed */
	int32_t config_status;
	char config_err[512];
	struct dp_ack *acks;
	size_t n_acks, cap_acks;
	struct dp_pending *pend;
	size_t n_pend, cap_pend;
	uint64_t events, records, connects;
};

struct daemon {
	struct ev_loop *loop;
	struct running_config *cur; /* running config */
	struct lease_store *store;
	char sock_path[108];
	char dp_path[108];
	char state_dir[4096];
	int api_lfd;
	int sig_fd;
	uint64_t started_ms;
	time_t started;
	struct dataplane_link dp;
	struct api_conn *conns;
	struct http_boot *http; /* http_boot.c: HTTP boot server + iPXE templates */
	size_t n_conns;
	uint64_t conn_seq;
	uint64_t requests, request_errors;
	char last_reload[1024]; /* result of the last reload, for status */
};

/* ---- main.c ---- */
/*
 * Make next (consumed: freed on failure) the running config: hash its images, write it to
 * the config file when write_back, move the leases to it, push it to the dataplane.
 * 0, or -errno with the reason in msg (the running config is kept).
 */
int daemon_apply_config(struct daemon *d, struct sbcfg *next, bool write_back, char *msg,
		      size_t msglen);
/* Re-read the config file (SIGHUP, config-reload). */
int daemon_reload(struct daemon *d, char *msg, size_t msglen);
/* Wall-clock seconds, for lease times. */
uint64_t daemon_now(void);

/* ---- srv.c ---- */
/* Create path's directory (0750), replace a stale socket file, bind, chmod 0660, listen. */
int api_server_listen_path(const char *path, int *out, char *err, size_t errlen);
int api_server_listen(struct daemon *d, char *err, size_t errlen);
/* Deliver a deferred reply (line is consumed) to connection conn_id if it is still open. */
void api_server_reply(struct daemon *d, uint64_t conn_id, char *line);
void api_server_close_all(struct daemon *d);

/* ---- dpconn.c ---- */
int dataplane_link_listen(struct daemon *d, char *err, size_t errlen);
bool dataplane_link_connected(const struct daemon *d);
/* Send the running config (and with leases, every lease) when a dataplane is connected. */
void dataplane_link_push_config(struct daemon *d, bool leases);
/* Commit the lease store and send every LEASE_DURABLE reply that waited for it. */
void dataplane_link_durable_flush(struct daemon *d);
/* Send a request; fn(d, cookie, status, payload, len) runs on the reply or on timeout
 * (-ETIMEDOUT) / disconnect (-ECONNRESET). -ENOTCONN when no dataplane is connected. */
int dataplane_link_request(struct daemon *d, uint16_t type, const void *payload, size_t len,
		   dp_reply_fn *fn, uint64_t cookie);
/* Tell the dataplane that the operator released a lease (no reply awaited). */
void dataplane_link_revoke(struct daemon *d, const struct chan_lease *l);
void dataplane_link_close(struct daemon *d, const char *why);

/* ---- cmd.c ---- */
/* api_dispatch_fn for one connection: ctx is a struct cmd_ctx. */
struct cmd_ctx {
	struct daemon *d;
	uint64_t conn_id;
};
char *cmd_dispatch(void *ctx, const char *cmd, json_t *args);

#endif
