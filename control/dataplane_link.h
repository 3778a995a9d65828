/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dataplane_link.h - control's end of the dataplane channel (chan.h, docs/CONTROL.md):
 * HELLO, config and lease snapshots, lease events made durable by group commit
 * (LEASE_DURABLE only after the lease store's fdatasync), requests with replies.
 *
 * The link owns no daemon state: its owner gives it the loop, the lease store, a getter for
 * the running config (sent to every dataplane that connects) and a clock.
 * One dataplane at a time. Who may connect: the peer's credentials against a policy
 * (ctl_access.h; by default root and the daemon's user). While a dataplane is connected and
 * alive (its socket open, its process there), another connection is refused, whoever makes
 * it: it could otherwise displace the real one and inject lease events. A connection that says
 * no HELLO within DATAPLANE_LINK_HELLO_MS is dropped, so it cannot hold the place either.
 * Refusals get a HELLO reply with -EACCES or -EBUSY and a text, are counted and logged
 * (rate-limited).
 */
#ifndef SB_DATAPLANE_LINK_H
#define SB_DATAPLANE_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "boot_token.h"
#include "chan.h"
#include "sb_timeline.h"
#include "ctl_access.h"
#include "ctl_clock.h"
#include "ctl_log.h"
#include "ctl_socket.h"
#include "event_loop.h"
#include "lease_store.h"
#include "running_config.h"

#define DATAPLANE_LINK_OUT_MAX	(512u << 20) /* a dataplane that reads nothing is dropped */
#define DATAPLANE_LINK_HELLO_MS 5000	     /* a connection says HELLO within this, or goes */

/* What the link needs from its owner. */
struct dataplane_link_deps {
	struct ev_loop *loop;
	struct lease_store *store;
	/* The running config and its generation, sent to a dataplane when it says HELLO. */
	const struct running_config *(*running)(void *arg);
	void *arg;
	struct ctl_clock clock; /* lease times */
	const char *version;	/* control's, in the reply to HELLO */
	/* Boot steps the dataplane sent (CHAN_MSG_TIMELINE), may be NULL: arg, events. */
	void (*timeline)(void *arg, const struct sb_tl_event *ev, size_t n);
	/*
	 * Cluster mode (NULL otherwise): every record the lease store accepted also goes to
	 * remote_submit, and its LEASE_DURABLE waits until dataplane_link_remote_done() gave the
	 * outcome of each one (etcd's commit). ticket names the record for that call. 0, or
	 * -errno: the record is refused with it at once.
	 */
	int (*remote_submit)(void *arg, const struct chan_lease *ev, uint64_t ticket);
	/* Cluster mode: a dataplane connected and was sent its state (push what else it needs). */
	void (*connected)(void *arg);
	void *remote_arg;
};

/* How a request ended. */
enum dataplane_link_outcome {
	DATAPLANE_LINK_REPLIED,	  /* the dataplane answered: status, payload */
	DATAPLANE_LINK_TIMED_OUT, /* no answer within the request's timeout */
	DATAPLANE_LINK_GONE,	  /* the connection closed first */
};

struct dataplane_link_reply {
	enum dataplane_link_outcome outcome;
	uint32_t id;	/* the id the reply carried (for a config: the generation) */
	int32_t status; /* REPLIED: 0 or -errno */
	const uint8_t *payload;
	size_t len;
};

typedef void dataplane_link_reply_fn(void *arg, uint64_t cookie,
				     const struct dataplane_link_reply *r);

/* A LEASE_DURABLE reply waiting for the next commit. */
struct dataplane_link_ack {
	uint32_t id;
	uint32_t n;
	uint32_t remote; /* records still waiting for their remote commit */
	int32_t *status; /* one per record */
};

/* A request waiting for its reply. */
struct dataplane_link_pending {
	uint16_t type;
	uint32_t id;
	uint64_t deadline_ms;
	dataplane_link_reply_fn *fn;
	void *arg;
	uint64_t cookie;
};

struct dataplane_link {
	struct dataplane_link_deps deps;
	char path[CTL_SOCKET_PATH_MAX];
	int lfd;
	int fd; /* -1: no dataplane */
	bool hello;
	bool closing; /* close once out is flushed */
	struct chan_buf in, out;
	uint32_t next_id;
	long long timer;
	long peer_pid; /* from SO_PEERCRED */
	struct ctl_peer peer;
	uint64_t connected_ms;
	/* what the dataplane said about configs: the last generation it adopted, and the
	 * status and error text of its last config reply */
	uint64_t config_adopted;
	int32_t config_status;
	char config_err[512];
	struct dataplane_link_ack *acks;
	size_t n_acks, cap_acks;
	struct dataplane_link_pending *pend;
	size_t n_pend, cap_pend;
	uint64_t events, records, connects; /* counters for status */
	struct ctl_access access;	    /* who may connect */
	uint64_t refused_access;	    /* connections refused: not an allowed user */
	uint64_t refused_busy;		    /* ... : another dataplane is connected and alive */
	uint64_t hello_timeouts;	    /* connections dropped for saying no HELLO */
	uint32_t hello_timeout_ms;	    /* DATAPLANE_LINK_HELLO_MS (tests lower it) */
	struct ctl_log_limit refuse_log;
	struct ctl_refusals refusals; /* refused connections reading their HELLO reply */
	bool lb_set;		      /* cluster mode: the bucket map sent to every dataplane */
	uint8_t lb_map[32];
	bool keys_set; /* the boot token keys, sent on connect and when they change */
	struct chan_token_keys keys;
	uint64_t remote_refused; /* records the remote commit refused (cluster mode) */
};

/* Listen on path for the dataplane. 0, or -errno with the reason in err. */
int dataplane_link_open(struct dataplane_link *dp, const struct dataplane_link_deps *deps,
			const char *path, char *err, size_t errlen);
/* Close the connection (its requests end GONE) and the socket; remove the socket file. */
void dataplane_link_close(struct dataplane_link *dp);

/*
 * Serve fd (a connected stream socket of peer p, taken) as the dataplane. Refused (-EACCES:
 * p is not allowed; -EBUSY: another dataplane is connected and alive) with a HELLO reply that
 * says why, the socket closed, counted and logged. A connected dataplane that is gone (its
 * process exited, or it closed its end: what is left of its stream is read first) is replaced.
 * 0, or -errno with the reason in err.
 */
int dataplane_link_attach(struct dataplane_link *dp, int fd, const struct ctl_peer *p, char *err,
			  size_t errlen);

/* Who may connect from now on (a copy). 0 or -ENOMEM (the policy is then kept). */
int dataplane_link_set_access(struct dataplane_link *dp, const struct ctl_access *a);
/* Drop the connection, if any, saying why in the log; its requests end GONE. */
void dataplane_link_disconnect(struct dataplane_link *dp, const char *why);
/* A dataplane is connected and said HELLO. */
bool dataplane_link_connected(const struct dataplane_link *dp);

/*
 * Send cfg as CONFIG_SNAPSHOT with id generation. When fn is not NULL, fn(arg, cookie, r)
 * runs once, later: on the dataplane's reply for this generation or a later one, after
 * timeout_ms (TIMED_OUT), or when the connection closes (GONE). -ENOTCONN when no dataplane
 * is connected (or the connection closed while sending), -ENOMEM (the connection is then
 * closed); fn is never called on an error, nor before this returns.
 */
int dataplane_link_send_config(struct dataplane_link *dp, const struct sbcfg *cfg,
			       uint64_t generation, uint32_t timeout_ms,
			       dataplane_link_reply_fn *fn, void *arg, uint64_t cookie);

/*
 * Send a request of type (stats, sessions, latency) with a fresh id; fn(arg, cookie, r)
 * runs once, later: on its reply, after timeout_ms or on disconnection. -ENOTCONN,
 * -ENOMEM; fn is never called on an error, nor before this returns.
 */
int dataplane_link_request(struct dataplane_link *dp, uint16_t type, const void *payload,
			   size_t len, uint32_t timeout_ms, dataplane_link_reply_fn *fn, void *arg,
			   uint64_t cookie);

/* Commit the lease store and send every LEASE_DURABLE reply that waited for it. */
void dataplane_link_durable_flush(struct dataplane_link *dp);

/* The outcome of a record given to remote_submit: 0 (committed) or -errno (refused). Call
 * dataplane_link_durable_flush() after a group of them. A stale ticket is ignored. */
void dataplane_link_remote_done(struct dataplane_link *dp, uint64_t ticket, int32_t status);

/* Cluster mode: which RFC 3074 buckets the dataplane answers (32-byte bitmap), now and after
 * every reconnection; NULL: every client. */
void dataplane_link_set_buckets(struct dataplane_link *dp, const uint8_t *map32);

/* The boot token keys (CHAN_MSG_TOKEN_KEYS) for the dataplane's DHCP boot-file URLs, now and
 * after every reconnection. */
void dataplane_link_set_token_keys(struct dataplane_link *dp, const struct boot_token_keys *k);

/* Cluster mode: leases of other servers, for the dataplane's pool (a LEASES_SNAPSHOT). */
void dataplane_link_push_leases(struct dataplane_link *dp, const struct chan_lease *v, size_t n);

/* Tell the dataplane that the operator released a lease (no reply awaited). */
void dataplane_link_revoke(struct dataplane_link *dp, const struct chan_lease *l);

#endif
