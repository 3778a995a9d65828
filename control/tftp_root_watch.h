/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tftp_root_watch.h - tell the daemon when the files under tftp_root change (config
 * "tftp_root", sbcfg_root.h): inotify on the root and every directory below it (directories
 * created later are watched from the next event on), events gathered for
 * TFTP_ROOT_WATCH_SETTLE_MS so that a copy or an rsync of many files makes one call. The
 * owner then scans the tree again (daemon_root_expand) and makes a config change when a file
 * was added, removed, renamed or changed; files that did not change are not read again
 * (their identity: device, inode, size, mtime).
 */
#ifndef SB_TFTP_ROOT_WATCH_H
#define SB_TFTP_ROOT_WATCH_H

#include <limits.h>
#include <stdint.h>

#include "event_loop.h"

#define TFTP_ROOT_WATCH_SETTLE_MS 300

typedef void tftp_root_changed_fn(void *arg);

struct tftp_root_watch {
	struct ev_loop *loop;
	tftp_root_changed_fn *changed;
	void *arg;
	int fd; /* inotify, -1 = not watching */
	char root[PATH_MAX];
	long long settle_timer; /* > 0 while events wait */
	uint64_t events, calls, overflows;
	unsigned int dirs; /* directories watched */
};

/* A watcher that calls changed(arg) from the loop; watching nothing yet. */
void tftp_root_watch_init(struct tftp_root_watch *w, struct ev_loop *loop,
			  tftp_root_changed_fn *changed, void *arg);

/*
 * Watch root ("" = nothing); the same root again changes nothing. 0, or -errno with the
 * reason in err (then nothing is watched).
 */
int tftp_root_watch_set(struct tftp_root_watch *w, const char *root, char *err, size_t errlen);

/* Stop watching. */
void tftp_root_watch_close(struct tftp_root_watch *w);

#endif
