/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_socket.h - the listening Unix sockets of stormboot-control (the operator API and the
 * dataplane channel): directory created, stale socket file replaced, mode 0660.
 */
#ifndef SB_CTL_SOCKET_H
#define SB_CTL_SOCKET_H

#include <stddef.h>

#define CTL_SOCKET_PATH_MAX 108 /* sizeof(sockaddr_un.sun_path), with its NUL */

/*
 * Create path's directory (0750, parents 0755), replace a socket file nobody answers on
 * (left over from a crash), bind a non-blocking stream socket, chmod 0660, listen.
 * 0 with the socket in *out, or -errno with the reason in err: -EADDRINUSE when another
 * process listens there, -ENAMETOOLONG for a path of CTL_SOCKET_PATH_MAX bytes or more.
 */
int ctl_socket_listen(const char *path, int *out, char *err, size_t errlen);

#endif
