/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * image_hasher.h - the image registry's hashing, beside the event loop: SHA-256 of a
 * multi-gigabyte image takes seconds, so it runs on a worker thread and never in the loop.
 * Jobs run one at a time, in the order they were submitted; each one's result comes back
 * in the loop (an eventfd watched by the loop) through the job's callback.
 * The thread starts with the first job (after the daemon forked into the background).
 */
#ifndef SB_IMAGE_HASHER_H
#define SB_IMAGE_HASHER_H

#include <stddef.h>
#include <stdint.h>

#include "event_loop.h"
#include "running_config.h"

struct image_hasher;

/* What a job found; given to the job's callback. */
struct image_hasher_result {
	int status;			  /* 0, or -ECANCELED: the hasher was freed first */
	struct running_config_image *img; /* n entries; the callback takes it (free()) */
	size_t n;
	int bad;	     /* images that could not be read */
	unsigned int hashed; /* files read (the others were reused) */
	char warn[700];	     /* "images[i].path: /x: reason" for the first bad one */
};

typedef void image_hasher_done_fn(void *arg, struct image_hasher_result *r);

/* A hasher whose results come back through l. NULL with the reason in err. */
struct image_hasher *image_hasher_new(struct ev_loop *l, char *err, size_t errlen);

/*
 * Stop the thread (the file being read is abandoned at its next MiB) and free h; every job
 * not reported yet gets its callback with status -ECANCELED, from this call. NULL is fine.
 */
void image_hasher_free(struct image_hasher *h);

/*
 * Queue a job: hash images[0..n) (copied) like running_config_hash_images(), reusing the
 * entries of prev (copied now, may be NULL) for files that did not change. fn(arg, result)
 * runs later in the loop, exactly once. 0, or -ENOMEM / -errno of pthread_create (then fn
 * is not called).
 */
int image_hasher_submit(struct image_hasher *h, const struct sbcfg_image *images, size_t n,
			const struct running_config *prev, image_hasher_done_fn *fn, void *arg);

/* Files read since h was created (a reused hash is not counted). */
uint64_t image_hasher_files_hashed(const struct image_hasher *h);

#endif
