/* SPDX-License-Identifier: BSD-3-Clause */
/* event_loop.c - epoll event loop with timers (see event_loop.h). */
#include "event_loop.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#define EV_BATCH 64

struct ev_file {
	unsigned int mask;
	ev_file_fn *fn;
	void *arg;
};

struct ev_timer {
	long long id;
	uint64_t when;
	ev_timer_fn *fn;
	void *arg;
	struct ev_timer *next;
};

struct ev_loop {
	int epfd;
	int max_fds;
	bool stop;
	struct ev_file *files;
	struct ev_timer *timers;
	long long next_timer_id;
	ev_hook_fn *before_sleep;
	void *before_sleep_arg;
	pthread_mutex_t lock; /* held by the loop's thread but while it waits (ev_lock_enable) */
	bool locked;
};

uint64_t ev_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

struct ev_loop *ev_loop_new(int max_fds, char *err, size_t errlen)
{
	struct ev_loop *l = calloc(1, sizeof(*l));

	if (!l || !(l->files = calloc((size_t)max_fds, sizeof(*l->files)))) {
		snprintf(err, errlen, "event loop: out of memory");
		free(l);
		return NULL;
	}
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		snprintf(err, errlen, "epoll_create1: %s", strerror(errno));
		free(l->files);
		free(l);
		return NULL;
	}
	l->max_fds = max_fds;
	l->next_timer_id = 1;
	return l;
}

void ev_loop_free(struct ev_loop *l)
{
	if (!l)
		return;
	while (l->timers) {
		struct ev_timer *t = l->timers;
		l->timers = t->next;
		free(t);
	}
	close(l->epfd);
	free(l->files);
	if (l->locked) {
		pthread_mutex_unlock(&l->lock);
		pthread_mutex_destroy(&l->lock);
	}
	free(l);
}

static uint32_t ep_mask(unsigned int mask)
{
	return (mask & EV_READ ? EPOLLIN : 0) | (mask & EV_WRITE ? EPOLLOUT : 0);
}

int ev_file_add(struct ev_loop *l, int fd, unsigned int mask, ev_file_fn *fn, void *arg, char *err,
		size_t errlen)
{
	struct epoll_event ee = {.events = ep_mask(mask), .data.fd = fd};
	int op;

	if (fd < 0 || fd >= l->max_fds) {
		if (err)
			snprintf(err, errlen, "fd %d: more than %d open files", fd, l->max_fds);
		return -EMFILE;
	}
	op = l->files[fd].fn ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	if (epoll_ctl(l->epfd, op, fd, &ee) < 0) {
		int e = errno;
		if (err)
			snprintf(err, errlen, "epoll_ctl(fd %d): %s", fd, strerror(e));
		return -e;
	}
	l->files[fd] = (struct ev_file){mask, fn, arg};
	return 0;
}

int ev_file_mask(struct ev_loop *l, int fd, unsigned int mask)
{
	struct epoll_event ee = {.events = ep_mask(mask), .data.fd = fd};

	if (fd < 0 || fd >= l->max_fds || !l->files[fd].fn)
		return -EBADF;
	if (l->files[fd].mask == mask)
		return 0;
	if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ee) < 0)
		return -errno;
	l->files[fd].mask = mask;
	return 0;
}

void ev_file_del(struct ev_loop *l, int fd)
{
	if (fd < 0 || fd >= l->max_fds || !l->files[fd].fn)
		return;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	memset(&l->files[fd], 0, sizeof(l->files[fd]));
}

long long ev_timer_add(struct ev_loop *l, long ms, ev_timer_fn *fn, void *arg)
{
	struct ev_timer *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->id = l->next_timer_id++;
	t->when = ev_now_ms() + (uint64_t)(ms < 0 ? 0 : ms);
	t->fn = fn;
	t->arg = arg;
	t->next = l->timers;
	l->timers = t;
	return t->id;
}

void ev_timer_del(struct ev_loop *l, long long id)
{
	for (struct ev_timer **p = &l->timers; *p; p = &(*p)->next) {
		if ((*p)->id == id) {
			struct ev_timer *t = *p;
			*p = t->next;
			free(t);
			return;
		}
	}
}

void ev_set_before_sleep(struct ev_loop *l, ev_hook_fn *fn, void *arg)
{
	l->before_sleep = fn;
	l->before_sleep_arg = arg;
}

void ev_lock_enable(struct ev_loop *l)
{
	if (l->locked)
		return;
	pthread_mutex_init(&l->lock, NULL);
	pthread_mutex_lock(&l->lock);
	l->locked = true;
}

pthread_mutex_t *ev_lock(struct ev_loop *l)
{
	return l && l->locked ? &l->lock : NULL;
}

void ev_stop(struct ev_loop *l)
{
	l->stop = true;
}

static int timeout_ms(struct ev_loop *l)
{
	uint64_t now = ev_now_ms(), first = UINT64_MAX;

	for (struct ev_timer *t = l->timers; t; t = t->next)
		if (t->when < first)
			first = t->when;
	if (first == UINT64_MAX)
		return -1;
	return first <= now ? 0 : (int)(first - now > 60000 ? 60000 : first - now);
}

/* Run the timers due now; a callback may add or delete timers (new ones wait a turn). */
static void run_timers(struct ev_loop *l)
{
	uint64_t now = ev_now_ms();
	long long due[EV_BATCH];
	int n = 0;

	for (struct ev_timer *t = l->timers; t && n < EV_BATCH; t = t->next)
		if (t->when <= now)
			due[n++] = t->id;
	for (int i = 0; i < n; i++) {
		struct ev_timer *t;

		for (t = l->timers; t && t->id != due[i]; t = t->next)
			;
		if (!t)
			continue; /* deleted by an earlier callback */
		long next = t->fn(l, t->id, t->arg);
		for (t = l->timers; t && t->id != due[i]; t = t->next)
			;
		if (!t)
			continue;
		if (next == EV_TIMER_STOP)
			ev_timer_del(l, due[i]);
		else
			t->when = ev_now_ms() + (uint64_t)(next < 0 ? 0 : next);
	}
}

/* One turn: the before-sleep hook, a wait of at most max_wait_ms (-1: until the next timer),
 * the ready files, the due timers. The number of file events handled, or -errno. */
static int run_turn(struct ev_loop *l, int max_wait_ms)
{
	struct epoll_event evs[EV_BATCH];
	int wait = timeout_ms(l);

	if (l->before_sleep)
		l->before_sleep(l, l->before_sleep_arg);
	if (max_wait_ms >= 0 && (wait < 0 || wait > max_wait_ms))
		wait = max_wait_ms;
	if (l->locked)
		pthread_mutex_unlock(&l->lock);
	int n = epoll_wait(l->epfd, evs, EV_BATCH, wait);
	int e = errno;
	if (l->locked)
		pthread_mutex_lock(&l->lock);
	if (n < 0)
		return e == EINTR ? 0 : -e;
	for (int i = 0; i < n && !l->stop; i++) {
		int fd = evs[i].data.fd;
		struct ev_file *f = &l->files[fd];
		unsigned int ready = 0;

		if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
			ready |= EV_READ;
		if (evs[i].events & EPOLLOUT)
			ready |= EV_WRITE;
		ready &= f->mask | EV_READ;
		if (f->fn && ready)
			f->fn(l, fd, f->arg, ready);
	}
	run_timers(l);
	return n;
}

int ev_run(struct ev_loop *l)
{
	l->stop = false;
	while (!l->stop) {
		int rc = run_turn(l, -1);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int ev_run_once(struct ev_loop *l, int max_wait_ms)
{
	return run_turn(l, max_wait_ms);
}
