/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * image_cache.h - boot images read once into hugepage memory (rte_malloc) with
 * their size and SHA-256. TFTP DATA is built from these bytes; the file system
 * is never touched after start.
 */
#ifndef SB_ENG_IMAGE_CACHE_H
#define SB_ENG_IMAGE_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "sbcfg.h"

struct eng_image {
	const char *name; /* points into the config (sbcfg_image.name) */
	const char *path;
	const uint8_t *data; /* hugepage memory, NULL for an empty file */
	size_t size;
	uint8_t sha256[32];
};

struct eng_images {
	struct eng_image *v;
	size_t n;
	size_t bytes; /* sum of sizes */
};

/*
 * Read every image of cfg into memory on NUMA socket `socket`. On error returns
 * a negative errno and names the image and path (and why) in err; nothing is
 * left allocated.
 */
int eng_images_load(struct eng_images *im, const struct sbcfg *cfg, int socket, char *err,
		    size_t errlen);

/* Lower-case hex of an image's SHA-256 into hex (65 bytes). */
void eng_image_sha256_hex(const struct eng_image *img, char hex[65]);

/* Release what eng_images_load() took. */
void eng_images_free(struct eng_images *im);

#endif
