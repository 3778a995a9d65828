/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * image_cache.h - boot images in hugepage memory (rte_malloc), each with its size and SHA-256,
 * shared by every config snapshot that names them and kept apart from any one snapshot.
 *
 * An image is keyed by its path and the identity of the file (device, inode, size, mtime,
 * ctime): a snapshot built for a new config takes a reference on each image it names, and only
 * a file that is new or changed since it was read is read and hashed again. The old copy of a
 * changed file stays as long as something holds it.
 *
 * Holders: snapshots (snapshot.h; one reference per config image) and TFTP sessions (a session
 * takes one on the image it serves when it opens and drops it when it closes, on its lcore,
 * tftp_table.h), so a transfer keeps reading its bytes after the config it began under was
 * replaced and freed. TFTP DATA is copied from these bytes into each mbuf: no frame points
 * into an image.
 *
 * Threads: the cache's list is the control thread's (main() before the lcores are launched):
 * get, collect and destroy run there only. Reference counts are atomic: an lcore takes one
 * (eng_image_ref) only on an image its current snapshot holds, so a count never rises from
 * 0 on an lcore, and drops one (eng_image_put) without ever freeing: the memory is freed on
 * the control thread by eng_image_cache_collect(), which finds the images at 0. No lock.
 */
#ifndef SB_ENG_IMAGE_CACHE_H
#define SB_ENG_IMAGE_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>

/* What identifies one version of a file: a change to its bytes changes one of these. */
struct eng_image_key {
	uint64_t dev, ino, size;
	int64_t mtime_ns, ctime_ns; /* ctime too: cp --preserve=timestamps keeps the mtime */
};

struct eng_image {
	uint32_t refs;		/* holders (snapshots, TFTP sessions); atomic */
	struct eng_image *next; /* the cache's list (control thread only) */
	struct eng_image_key key;
	const uint8_t *data; /* hugepage memory, NULL for an empty file */
	size_t size;
	/* Checksum prefix sums of data (pkt_csum_prefix_build), in the same allocation, after
	 * it: a DATA block's UDP checksum without a pass over its bytes. NULL when empty. */
	const uint32_t *csum_prefix;
	uint64_t netascii_size; /* size after netascii conversion (catalog_entry.netascii_size) */
	uint8_t sha256[32];
	uint64_t served; /* file bytes sent by TFTP transfers that ended (atomic, lcores add) */
	char *name;	 /* the config's name for it when it was read (the metrics' label) */
	char path[];	 /* as the config names it */
};

/* The bytes served of images already freed, by name: a per-name total never goes down. */
struct eng_image_tally {
	struct eng_image_tally *next;
	uint64_t served;
	char name[];
};
#define ENG_IMAGE_TALLY_MAX 4096 /* names kept; more go to the name "(other)" */

struct eng_image_cache {
	struct eng_image *head;
	struct eng_image_tally *tally;
	size_t n_tally;
	pthread_mutex_t
		lock; /* the list against readers on other threads (eng_image_cache_served) */
	int socket;   /* NUMA socket of the image memory */
	/* written by the control thread, read by the statistics (a value may be a moment old) */
	uint64_t n, bytes;	     /* images held now and their sizes (gauges) */
	uint64_t reads, hits, freed; /* images read from files, found in the cache, freed */
};

/* An empty cache whose images go to NUMA socket `socket`. */
void eng_image_cache_init(struct eng_image_cache *c, int socket);

/*
 * Control thread: the image of config entry `name` at path, with one reference taken for the
 * caller. Found in the cache when the file is the one read before (same path and key), else
 * read now, in one pass that also hashes it and sizes it in netascii (*was_read true). Negative
 * errno with the image's name, its path and the cause in err: -ENOENT and the like from open/read,
 * -EINVAL (not a regular file), -ENOMEM (no hugepage memory), -EAGAIN (the file changed while it
 * was read).
 */
int eng_image_cache_get(struct eng_image_cache *c, const char *name, const char *path,
			struct eng_image **out, bool *was_read, char *err, size_t errlen);

/*
 * The same, for an image whose SHA-256 the config pins (sha256: 64 hex digits; NULL or "" =
 * not pinned): bytes whose digest is another, read now or found in the cache, are refused with
 * -EBADMSG and a message that names the image, its path and both digests (and a file read now
 * is not kept).
 */
int eng_image_cache_get_pinned(struct eng_image_cache *c, const char *name, const char *path,
			       const char *sha256, struct eng_image **out, bool *was_read,
			       char *err, size_t errlen);

/* One more holder of img, which the caller knows to be held already (any thread). */
static inline void eng_image_ref(struct eng_image *img)
{
	__atomic_fetch_add(&img->refs, 1, __ATOMIC_RELAXED);
}

/*
 * Drop one reference (any thread). Never frees: the last holder's reads of img->data are
 * ordered before the count reaches 0 (release), and the control thread frees it after.
 */
static inline void eng_image_put(struct eng_image *img)
{
	__atomic_fetch_sub(&img->refs, 1, __ATOMIC_RELEASE);
}

/* Control thread: free the images nobody holds; returns how many, their bytes in *bytes. */
size_t eng_image_cache_collect(struct eng_image_cache *c, uint64_t *bytes);

/*
 * After the lcores returned: free every image. Returns how many were still held (a holder that
 * forgot its reference: 0 when every snapshot and session was released first).
 */
size_t eng_image_cache_destroy(struct eng_image_cache *c);

/*
 * Any thread: fn(arg, name, bytes) for each image name with the file bytes its ended TFTP
 * transfers sent (images in the cache and those freed, summed by name; a name may repeat).
 */
void eng_image_cache_served(struct eng_image_cache *c,
			    void (*fn)(void *arg, const char *name, uint64_t bytes), void *arg);

/* Whether img's file is no longer the one read (changed, replaced, gone): a stat(2). */
bool eng_image_changed(const struct eng_image *img);

/* Lower-case hex of an image's SHA-256 into hex (65 bytes). */
void eng_image_sha256_hex(const struct eng_image *img, char hex[65]);

#endif
