/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_socket.h - the listening Unix sockets of stormboot-control (the operator API and the
 * dataplane channel): directory created, stale socket file replaced, mode 0660.
 */
#ifndef SB_CTL_SOCKET_H
#define SB_CTL_SOCKET_H

#include <stddef.h>
#include <stdint.h>

#include "event_loop.h"

#define CTL_SOCKET_PATH_MAX 108 /* sizeof(sockaddr_un.sun_path), with its NUL */

/*
 * Create path's directory (0750, parents 0755), replace a socket file nobody answers on
 * (left over from a crash), bind a non-blocking stream socket, chmod 0660, listen.
 * 0 with the socket in *out, or -errno with the reason in err: -EADDRINUSE when another
 * process listens there, -ENAMETOOLONG for a path of CTL_SOCKET_PATH_MAX bytes or more.
 */
int ctl_socket_listen(const char *path, int *out, char *err, size_t errlen);

#define CTL_REFUSALS_MAX       32   /* refused connections lingering at once */
#define CTL_REFUSALS_LINGER_MS 1000 /* at most this long */

/*
 * Connections refused with a message (access denied): the message is written and the sending
 * side shut down, then what the peer still sends is read and dropped until it closes, for at
 * most CTL_REFUSALS_LINGER_MS. A peer that writes its request after we refused (most clients
 * write right after connect) thus reads the message and then the end of the stream, instead
 * of a failed write or a reset connection.
 */
struct ctl_refusal {
	int fd;
	uint64_t until_ms;
};

struct ctl_refusals {
	struct ev_loop *loop;
	struct ctl_refusal v[CTL_REFUSALS_MAX];
	size_t n;
	long long timer; /* -1: none running */
};

void ctl_refusals_init(struct ctl_refusals *r, struct ev_loop *l);
/* Refuse fd (taken) with msg; when CTL_REFUSALS_MAX linger already, the oldest is closed. */
void ctl_refusals_add(struct ctl_refusals *r, int fd, const void *msg, size_t len);
/* Close every lingering connection. */
void ctl_refusals_close(struct ctl_refusals *r);

#endif
