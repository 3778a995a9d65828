/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * api_server.h - the operator API socket of stormboot-control: non-blocking connections in
 * the event loop, newline framing (api.h), requests answered in order, deferred replies.
 *
 * A handler may answer later (a dataplane request, a config change waiting for the
 * dataplane): it returns NULL and the answer comes through api_server_reply(). Until then
 * the connection reads nothing more (its next requests wait in the socket); a client that
 * half-closed its side after the request (stormbootctl does) is not read again either, and
 * is answered, then closed.
 *
 * Who may connect: the peer's credentials against a policy (ctl_access.h; by default root,
 * the daemon's user and the socket file's group). A refused peer gets one reply line saying
 * why, the connection is closed, and the refusal is counted and logged (rate-limited).
 */
#ifndef SB_API_SERVER_H
#define SB_API_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "api.h"
#include "ctl_access.h"
#include "ctl_log.h"
#include "ctl_socket.h"
#include "event_loop.h"

#define API_SERVER_MAX_CONNS 256

/*
 * Run command cmd for connection conn_id: a reply line (api_reply), or NULL when the reply
 * comes later through api_server_reply(conn_id, ...), exactly once.
 */
typedef char *api_server_dispatch_fn(void *arg, uint64_t conn_id, enum api_command cmd,
				     json_t *args);

struct api_conn;

struct api_server {
	struct ev_loop *loop;
	char path[CTL_SOCKET_PATH_MAX];
	int lfd;
	api_server_dispatch_fn *dispatch;
	void *arg;
	struct api_conn *conns;
	size_t n_conns;
	uint64_t conn_seq;
	uint64_t requests, request_errors; /* counters for status */
	struct ctl_access access;	   /* who may connect */
	gid_t socket_gid;		   /* the socket file's group */
	uint64_t refused;		   /* connections refused by access (status) */
	struct ctl_log_limit refuse_log;
	struct ctl_refusals refusals; /* refused connections reading their reply */
};

/*
 * Listen on path (ctl_socket_listen) and serve requests with dispatch(arg, ...).
 * 0, or -errno with the reason in err.
 */
int api_server_open(struct api_server *s, struct ev_loop *l, const char *path,
		    api_server_dispatch_fn *dispatch, void *arg, char *err, size_t errlen);

/*
 * Deliver the deferred reply line (consumed; NULL stands for "out of memory") of
 * connection conn_id, then go on with its next requests. Dropped when the client left.
 */
void api_server_reply(struct api_server *s, uint64_t conn_id, char *line);

/*
 * Who may connect from now on (a copy of a; with a->socket_group, the group is the socket
 * file's). Open connections of peers a no longer allows are closed. 0 or -ENOMEM (the policy
 * is then kept).
 */
int api_server_set_access(struct api_server *s, const struct ctl_access *a);

/*
 * Serve fd (connected, non-blocking; taken) for peer p: 0, or -EACCES when the policy refuses
 * p (it got a reply line saying why, the socket is closed, the refusal counted and logged),
 * -EMFILE (too many connections) or another -errno (closed).
 */
int api_server_attach(struct api_server *s, int fd, const struct ctl_peer *p);

/* Close every connection and the socket, remove the socket file. */
void api_server_close(struct api_server *s);

#endif
