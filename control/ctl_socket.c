/* SPDX-License-Identifier: BSD-3-Clause */
/* ctl_socket.c - listening Unix sockets (see ctl_socket.h). */
#include "ctl_socket.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

_Static_assert(CTL_SOCKET_PATH_MAX == sizeof(((struct sockaddr_un *)0)->sun_path),
	       "CTL_SOCKET_PATH_MAX is sun_path's size");

/* mkdir -p for the socket's directory; the last level gets mode 0750. */
static int mkdir_parent(const char *path, char *err, size_t errlen)
{
	char dir[CTL_SOCKET_PATH_MAX];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
			snprintf(err, errlen, "mkdir(%s): %s", dir, strerror(errno));
			return -errno;
		}
		*p = '/';
	}
	if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "mkdir(%s): %s", dir, strerror(errno));
		return -errno;
	}
	return 0;
}

int ctl_socket_listen(const char *path, int *out, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd, rc;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "%s: socket path longer than %zu bytes", path,
			 sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	if ((rc = mkdir_parent(path, err, errlen)) < 0)
		return rc;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket(AF_UNIX): %s", strerror(errno));
		return -errno;
	}
	/* A socket file nobody answers on is left over from a crash: replace it. */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		snprintf(err, errlen, "%s: another process is already listening there", path);
		close(fd);
		return -EADDRINUSE;
	}
	close(fd);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket(AF_UNIX): %s", strerror(errno));
		return -errno;
	}
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0660) < 0 ||
	    listen(fd, 128) < 0) {
		rc = -errno;
		snprintf(err, errlen, "bind(%s): %s", path, strerror(-rc));
		close(fd);
		return rc;
	}
	*out = fd;
	return 0;
}
