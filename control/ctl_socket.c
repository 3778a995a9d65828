/* SPDX-License-Identifier: BSD-3-Clause */
/* ctl_socket.c - listening Unix sockets (see ctl_socket.h). */
#include "ctl_socket.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
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

void ctl_refusals_init(struct ctl_refusals *r, struct ev_loop *l)
{
	r->loop = l;
	r->n = 0;
	r->timer = -1;
}

static void refusal_drop(struct ctl_refusals *r, size_t i)
{
	ev_file_del(r->loop, r->v[i].fd);
	close(r->v[i].fd);
	r->v[i] = r->v[--r->n];
}

/* What the refused peer sends is read and dropped; its end of the stream closes ours. */
static void refusal_io(struct ev_loop *l, int fd, void *arg, unsigned int ready)
{
	struct ctl_refusals *r = arg;
	char buf[4096];
	ssize_t n;

	for (int k = 0; k < 16; k++) { /* bounded: a peer that floods is cut at its deadline */
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n > 0)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return;
		break; /* closed, or an error */
	}
	if (n > 0)
		return;
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].fd == fd) {
			refusal_drop(r, i);
			return;
		}
}

static long refusal_timer(struct ev_loop *l, long long id, void *arg)
{
	struct ctl_refusals *r = arg;
	uint64_t now = ev_now_ms();

	for (size_t i = 0; i < r->n;)
		if (r->v[i].until_ms <= now)
			refusal_drop(r, i);
		else
			i++;
	if (r->n == 0) {
		r->timer = -1;
		return EV_TIMER_STOP;
	}
	return 100;
}

void ctl_refusals_add(struct ctl_refusals *r, int fd, const void *msg, size_t len)
{
	size_t oldest = 0;

	(void)!send(fd, msg, len, MSG_NOSIGNAL | MSG_DONTWAIT); /* an empty buffer takes it */
	shutdown(fd, SHUT_WR);
	if (r->n == CTL_REFUSALS_MAX) {
		for (size_t i = 1; i < r->n; i++)
			if (r->v[i].until_ms < r->v[oldest].until_ms)
				oldest = i;
		refusal_drop(r, oldest);
	}
	if (ev_file_add(r->loop, fd, EV_READ, refusal_io, r, NULL, 0) < 0) {
		close(fd);
		return;
	}
	r->v[r->n++] = (struct ctl_refusal){fd, ev_now_ms() + CTL_REFUSALS_LINGER_MS};
	if (r->timer < 0 && (r->timer = ev_timer_add(r->loop, 100, refusal_timer, r)) < 0)
		r->timer = -1; /* out of memory: the next refusal tries again; peers close them */
}

void ctl_refusals_close(struct ctl_refusals *r)
{
	while (r->n)
		refusal_drop(r, r->n - 1);
	if (r->timer > 0)
		ev_timer_del(r->loop, r->timer);
	r->timer = -1;
}
