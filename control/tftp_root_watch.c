/* SPDX-License-Identifier: BSD-3-Clause */
#include "tftp_root_watch.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl_log.h"
#include "sbcfg_root.h"

#define WATCH_MASK                                                                                 \
	(IN_CLOSE_WRITE | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_ATTRIB |        \
	 IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)

/* Watch dir and the directories below it (adding a watch twice is harmless). */
static void watch_tree(struct tftp_root_watch *w, const char *dir, int depth)
{
	DIR *d;
	struct dirent *e;

	if (inotify_add_watch(w->fd, dir, WATCH_MASK) < 0) {
		if (depth == 0 || errno == ENOSPC)
			ctl_log(LOG_WARNING, "tftp_root: cannot watch %s: %s%s", dir,
				strerror(errno),
				errno == ENOSPC ? " (fs.inotify.max_user_watches)" : "");
		return;
	}
	w->dirs++;
	if (depth + 1 >= SBCFG_ROOT_DEPTH_MAX || !(d = opendir(dir)))
		return;
	while ((e = readdir(d)) != NULL) {
		char path[PATH_MAX];
		struct stat st;

		if (e->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= (int)sizeof(path))
			continue;
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
			watch_tree(w, path, depth + 1);
	}
	closedir(d);
}

static long settled(struct ev_loop *l, long long id, void *arg)
{
	struct tftp_root_watch *w = arg;

	w->settle_timer = 0;
	w->dirs = 0;
	watch_tree(w, w->root, 0); /* directories made since */
	w->calls++;
	w->changed(w->arg);
	return EV_TIMER_STOP;
}

static void on_events(struct ev_loop *l, int fd, void *arg, unsigned int ready)
{
	struct tftp_root_watch *w = arg;
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;
	bool any = false;

	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;

			if (ev->mask & IN_Q_OVERFLOW)
				w->overflows++;
			/* hidden and temporary files are not served: their events change nothing,
			 * but a rename from one (rsync, editors) is an IN_MOVED_TO of the real name
			 */
			if (!(ev->len && ev->name[0] == '.'))
				any = true;
			w->events++;
			p += sizeof(*ev) + ev->len;
		}
	}
	if (any && w->settle_timer <= 0)
		w->settle_timer = ev_timer_add(w->loop, TFTP_ROOT_WATCH_SETTLE_MS, settled, w);
}

void tftp_root_watch_init(struct tftp_root_watch *w, struct ev_loop *loop,
			  tftp_root_changed_fn *changed, void *arg)
{
	memset(w, 0, sizeof(*w));
	w->loop = loop;
	w->changed = changed;
	w->arg = arg;
	w->fd = -1;
}

void tftp_root_watch_close(struct tftp_root_watch *w)
{
	if (w->settle_timer > 0)
		ev_timer_del(w->loop, w->settle_timer);
	w->settle_timer = 0;
	if (w->fd >= 0) {
		ev_file_del(w->loop, w->fd);
		close(w->fd);
	}
	w->fd = -1;
	w->root[0] = '\0';
	w->dirs = 0;
}

int tftp_root_watch_set(struct tftp_root_watch *w, const char *root, char *err, size_t errlen)
{
	int rc;

	if (w->fd >= 0 && strcmp(w->root, root) == 0)
		return 0;
	tftp_root_watch_close(w);
	if (!root[0])
		return 0;
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "tftp_root: inotify_init1: %s", strerror(-rc));
		return rc;
	}
	snprintf(w->root, sizeof(w->root), "%s", root);
	if (inotify_add_watch(w->fd, root, WATCH_MASK) < 0) {
		rc = -errno;
		snprintf(err, errlen, "tftp_root: cannot watch %s: %s", root, strerror(-rc));
		tftp_root_watch_close(w);
		return rc;
	}
	watch_tree(w, root, 0);
	if ((rc = ev_file_add(w->loop, w->fd, EV_READ, on_events, w, err, errlen)) < 0) {
		tftp_root_watch_close(w);
		return rc;
	}
	ctl_log(LOG_INFO, "tftp_root: watching %s (%u director%s)", root, w->dirs,
		w->dirs == 1 ? "y" : "ies");
	return 0;
}
