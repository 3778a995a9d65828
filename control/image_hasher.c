/* SPDX-License-Identifier: BSD-3-Clause */
/* image_hasher.c - image hashing on a worker thread (see image_hasher.h). */
#include "image_hasher.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct job {
	struct job *next;
	struct sbcfg_image *images; /* n copies */
	struct running_config prev; /* only cfg.images, cfg.n_images and img are set */
	bool have_prev;
	struct image_hasher_result r;
	image_hasher_done_fn *fn;
	void *arg;
};

struct image_hasher {
	struct ev_loop *loop;
	int efd; /* the thread writes 1 when it moved a job to done */
	pthread_t thread;
	bool started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct job *todo, **todo_tail; /* under mu */
	struct job *done, **done_tail; /* under mu */
	bool stop;		       /* under mu */
	atomic_bool cancel;	       /* read by the hashing between chunks */
	uint64_t files_hashed;	       /* loop side */
};

static void job_free(struct job *j)
{
	if (!j)
		return;
	free(j->images);
	free(j->prev.cfg.images);
	free(j->prev.img);
	free(j->r.img);
	free(j);
}

static void *worker(void *arg)
{
	struct image_hasher *h = arg;

	pthread_mutex_lock(&h->mu);
	for (;;) {
		while (!h->todo && !h->stop)
			pthread_cond_wait(&h->cv, &h->mu);
		if (h->stop)
			break;
		struct job *j = h->todo;
		h->todo = j->next;
		if (!h->todo)
			h->todo_tail = &h->todo;
		pthread_mutex_unlock(&h->mu);

		j->r.bad = running_config_hash_images(j->images, j->r.n, j->r.img,
						      j->have_prev ? &j->prev : NULL, &h->cancel,
						      &j->r.hashed, j->r.warn, sizeof(j->r.warn));
		pthread_mutex_lock(&h->mu);
		j->next = NULL;
		*h->done_tail = j;
		h->done_tail = &j->next;
		uint64_t one = 1;
		(void)!write(h->efd, &one, sizeof(one));
	}
	pthread_mutex_unlock(&h->mu);
	return NULL;
}

/* In the loop: report every finished job. */
static void on_done(struct ev_loop *l, int fd, void *arg, unsigned int ready)
{
	struct image_hasher *h = arg;
	uint64_t cnt;
	struct job *list;

	(void)!read(fd, &cnt, sizeof(cnt));
	pthread_mutex_lock(&h->mu);
	list = h->done;
	h->done = NULL;
	h->done_tail = &h->done;
	pthread_mutex_unlock(&h->mu);
	while (list) {
		struct job *j = list;
		list = j->next;
		h->files_hashed += j->r.hashed;
		j->fn(j->arg, &j->r);
		j->r.img = NULL; /* the callback's now */
		job_free(j);
	}
}

struct image_hasher *image_hasher_new(struct ev_loop *l, char *err, size_t errlen)
{
	struct image_hasher *h = calloc(1, sizeof(*h));

	if (!h) {
		snprintf(err, errlen, "image hasher: out of memory");
		return NULL;
	}
	h->loop = l;
	h->todo_tail = &h->todo;
	h->done_tail = &h->done;
	atomic_init(&h->cancel, false);
	h->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (h->efd < 0) {
		snprintf(err, errlen, "image hasher: eventfd: %s", strerror(errno));
		free(h);
		return NULL;
	}
	if (ev_file_add(l, h->efd, EV_READ, on_done, h, err, errlen) < 0) {
		close(h->efd);
		free(h);
		return NULL;
	}
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->cv, NULL);
	return h;
}

/* Report jobs in list as cancelled and free them. */
static void cancel_list(struct job *list)
{
	while (list) {
		struct job *j = list;
		list = j->next;
		j->r.status = -ECANCELED;
		j->fn(j->arg, &j->r);
		j->r.img = NULL;
		job_free(j);
	}
}

void image_hasher_free(struct image_hasher *h)
{
	if (!h)
		return;
	pthread_mutex_lock(&h->mu);
	h->stop = true;
	atomic_store(&h->cancel, true);
	pthread_cond_signal(&h->cv);
	pthread_mutex_unlock(&h->mu);
	if (h->started)
		pthread_join(h->thread, NULL);
	/* the thread is gone: whatever it finished or never started is cancelled alike */
	cancel_list(h->done);
	cancel_list(h->todo);
	ev_file_del(h->loop, h->efd);
	close(h->efd);
	pthread_cond_destroy(&h->cv);
	pthread_mutex_destroy(&h->mu);
	free(h);
}

static struct job *job_new(const struct sbcfg_image *images, size_t n,
			   const struct running_config *prev)
{
	struct job *j = calloc(1, sizeof(*j));
	size_t np = prev ? prev->cfg.n_images : 0;

	if (!j)
		return NULL;
	j->r.n = n;
	j->images = malloc((n ? n : 1) * sizeof(*images));
	j->r.img = calloc(n ? n : 1, sizeof(*j->r.img));
	if (!j->images || !j->r.img)
		goto fail;
	if (n) /* a config with no images may have images == NULL */
		memcpy(j->images, images, n * sizeof(*images));
	if (prev) {
		j->have_prev = true;
		j->prev.cfg.n_images = np;
		j->prev.cfg.images = malloc((np ? np : 1) * sizeof(*images));
		j->prev.img = malloc((np ? np : 1) * sizeof(*prev->img));
		if (!j->prev.cfg.images || !j->prev.img)
			goto fail;
		if (np) { /* no images: the arrays may be NULL */
			memcpy(j->prev.cfg.images, prev->cfg.images, np * sizeof(*images));
			memcpy(j->prev.img, prev->img, np * sizeof(*prev->img));
		}
	}
	return j;
fail:
	job_free(j);
	return NULL;
}

int image_hasher_submit(struct image_hasher *h, const struct sbcfg_image *images, size_t n,
			const struct running_config *prev, image_hasher_done_fn *fn, void *arg)
{
	struct job *j = job_new(images, n, prev);
	int rc;

	if (!j)
		return -ENOMEM;
	j->fn = fn;
	j->arg = arg;
	pthread_mutex_lock(&h->mu);
	if (!h->started) {
		rc = pthread_create(&h->thread, NULL, worker, h);
		if (rc != 0) {
			pthread_mutex_unlock(&h->mu);
			job_free(j);
			return -rc;
		}
		h->started = true;
	}
	*h->todo_tail = j;
	h->todo_tail = &j->next;
	pthread_cond_signal(&h->cv);
	pthread_mutex_unlock(&h->mu);
	return 0;
}

uint64_t image_hasher_files_hashed(const struct image_hasher *h)
{
	return h->files_hashed;
}
