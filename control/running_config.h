/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * running_config.h - the config as stormboot-control owns it: copy, edit (reservations,
 * images), write back atomically, and the image registry (size and SHA-256 of each image
 * file, computed with OpenSSL EVP). Also the MAC/IPv4 text helpers the API uses.
 * Errors: negative errno with a message in err.
 */
#ifndef SB_RUNNING_CONFIG_H
#define SB_RUNNING_CONFIG_H

#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sbcfg.h"

/* What control knows about one image file (parallel to sbcfg.images). */
struct running_config_image {
	uint64_t size;
	char sha256[65]; /* lowercase hex, "" when the file could not be read */
	int err;	 /* 0, or -errno from reading the file */
	/* The file's identity when it was read: a hash is reused while path, size, mtime and
	 * inode stay the same (a file replaced by rename gets another inode). */
	int64_t mtime_ns;
	int64_t ctime_ns; /* any write or attribute change moves it; no one can set it back */
	uint64_t dev, ino;
};

/* A config with its image registry; generation counts every change since start. */
struct running_config {
	char path[PATH_MAX]; /* the config file it is written back to */
	struct sbcfg cfg;
	struct running_config_image *img;
	uint64_t generation;
};

/*
 * A running config that takes cfg (moved: *cfg is zeroed), written back to path, with an
 * image registry of cfg->n_images zeroed entries and generation 0. NULL on ENOMEM (cfg is
 * then left as it was).
 */
struct running_config *running_config_new(const char *path, struct sbcfg *cfg);
/* Free c and its config (NULL is fine). */
void running_config_free(struct running_config *c);

/* Deep copy through JSON (sbcfg_to_json + sbcfg_load_string): out validated. */
int running_config_copy(const struct sbcfg *in, struct sbcfg *out, char *err, size_t errlen);

/*
 * Fill img[0..n) for images[0..n) by reading each file; an entry of prev (may be NULL) with
 * the same path and a file of the same size, mtime and inode is reused instead. Blocks for
 * as long as the reading takes: call it beside the event loop (image_hasher.h). Stops with
 * -ECANCELED in the entries not done when *cancel (may be NULL) becomes true. Returns the
 * number of images that could not be read; warn gets "images[i].path: /x: reason" for the
 * first; *hashed (may be NULL) the number of files read.
 */
int running_config_hash_images(const struct sbcfg_image *images, size_t n,
			       struct running_config_image *img, const struct running_config *prev,
			       const atomic_bool *cancel, unsigned int *hashed, char *warn,
			       size_t warnlen);

/*
 * Size, SHA-256 and identity of a regular file: -ENOENT, -EISDIR or -EINVAL (not a regular
 * file), -ECANCELED (*cancel, may be NULL, became true), -errno; the reason in err.
 */
int running_config_sha256_file(const char *path, struct running_config_image *out,
			       const atomic_bool *cancel, char *err, size_t errlen);

/* Write data to path atomically: path.tmp, fsync, rename, fsync the directory. */
int running_config_write_atomic(const char *path, const char *data, size_t len, char *err,
				size_t errlen);

/* Add r (or replace the reservation of the same MAC when replace is true): -EEXIST. */
int running_config_reservation_add(struct sbcfg *cfg, const struct sbcfg_reservation *r,
				   bool replace, char *err, size_t errlen);
/* Remove the reservation of mac: -ENOENT. */
int running_config_reservation_del(struct sbcfg *cfg, const uint8_t mac[6], char *err,
				   size_t errlen);
/* Index of mac's reservation or -1. */
long running_config_reservation_find(const struct sbcfg *cfg, const uint8_t mac[6]);
/* Add an image (sha256: its pinned digest, "" or NULL = none): -EEXIST for a name already
 * used. */
int running_config_image_add(struct sbcfg *cfg, const char *name, const char *path,
			     const char *sha256, char *err, size_t errlen);
/*
 * Where image-add may take path from (config control.images_dirs, docs/SECURITY.md): path,
 * resolved (realpath: symlinks and ".." followed), must be a regular file inside one of the
 * directories (also resolved). 0 with the resolved path in out, or -EPERM (no directory
 * configured, or outside them), -EINVAL (not a regular file), -errno (it cannot be resolved),
 * the reason in err.
 */
int running_config_image_path(const struct sbcfg *cfg, const char *path, char out[PATH_MAX],
			      char *err, size_t errlen);
/* Remove image name: -ENOENT. Index of the removed image in *idx (may be NULL). */
int running_config_image_del(struct sbcfg *cfg, const char *name, size_t *idx, char *err,
			     size_t errlen);

/* "52:54:00:12:34:56" (':' or '-') -> mac; 0 or -EINVAL. */
int running_config_parse_mac(const char *s, uint8_t mac[6]);
/* Dotted quad -> host-order address; 0 or -EINVAL. */
int running_config_parse_ip(const char *s, uint32_t *ip);
/* Formatters into caller buffers of 18 and 16 bytes; return buf. */
char *running_config_fmt_mac(const uint8_t mac[6], char buf[18]);
char *running_config_fmt_ip(uint32_t ip, char buf[16]);

#endif
