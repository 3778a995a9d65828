/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * event_loop.h - a small epoll event loop for stormboot-control (in the manner of redis ae.c):
 * file events with typed callbacks, millisecond timers, and a hook that runs once per
 * iteration before the loop sleeps (where the lease store commits its group of records).
 * Single-threaded; callbacks may add and delete events, including their own.
 */
#ifndef SB_EV_H
#define SB_EV_H

#include <stddef.h>
#include <pthread.h>
#include <stdint.h>

#define EV_READ	 1u
#define EV_WRITE 2u

#define EV_TIMER_STOP (-1) /* a timer callback returns this, or the ms until it runs again */

struct ev_loop;

/* Called with the EV_* bits that are ready (errors and hang-ups read as EV_READ). */
typedef void ev_file_fn(struct ev_loop *l, int fd, void *arg, unsigned int ready);
typedef long ev_timer_fn(struct ev_loop *l, long long id, void *arg);
typedef void ev_hook_fn(struct ev_loop *l, void *arg);

/* A loop for file descriptors below max_fds; NULL with the reason in err. */
struct ev_loop *ev_loop_new(int max_fds, char *err, size_t errlen);
void ev_loop_free(struct ev_loop *l);

/*
 * Watch fd for mask (EV_READ|EV_WRITE); a second call for the same fd replaces the mask
 * and callback. 0 or -errno with "epoll_ctl(fd N): reason" in err (may be NULL).
 */
int ev_file_add(struct ev_loop *l, int fd, unsigned int mask, ev_file_fn *fn, void *arg, char *err,
		size_t errlen);
/* Change only the mask of a watched fd. */
int ev_file_mask(struct ev_loop *l, int fd, unsigned int mask);
/* Stop watching fd (call before close()). */
void ev_file_del(struct ev_loop *l, int fd);

/* Run fn after ms milliseconds; returns the timer id (> 0) or -ENOMEM. */
long long ev_timer_add(struct ev_loop *l, long ms, ev_timer_fn *fn, void *arg);
void ev_timer_del(struct ev_loop *l, long long id);

/* fn(l, arg) runs after each iteration's events, before the loop waits again. */
void ev_set_before_sleep(struct ev_loop *l, ev_hook_fn *fn, void *arg);

/* Monotonic milliseconds. */
uint64_t ev_now_ms(void);

/* Run until ev_stop(); returns 0, or -errno if epoll_wait fails. */
int ev_run(struct ev_loop *l);
/*
 * Run one turn (the before-sleep hook, then whatever is ready within max_wait_ms, then the
 * due timers); for tests that drive the loop step by step. Returns the number of file
 * events handled, or -errno.
 */
int ev_run_once(struct ev_loop *l, int max_wait_ms);
void ev_stop(struct ev_loop *l);

/*
 * From now on the loop's state is guarded by a mutex that the calling (loop) thread holds,
 * released only while the loop waits in epoll_wait: another thread (the HTTP server's) that
 * takes ev_lock() sees everything the loop owns at rest, and the loop stays responsive as
 * long as that thread holds it briefly. Call once, from the loop's thread.
 */
void ev_lock_enable(struct ev_loop *l);
/* The mutex of ev_lock_enable(), NULL when not enabled (or l is NULL). */
pthread_mutex_t *ev_lock(struct ev_loop *l);

#endif
