/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctlcfg.h - the config as stormboot-control owns it: load, copy, edit (reservations,
 * images), write back atomically, and the image registry (size and SHA-256 of each image
 * file, computed with OpenSSL EVP). Also the MAC/IPv4 text helpers the API uses.
 * Errors: negative errno with a message in err.
 */
#ifndef SB_CTLCFG_H
#define SB_CTLCFG_H

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
	time_t mtime;	 /* to reuse a hash when the file did not change */
};

/* A config with its image registry; generation counts every change since start. */
struct running_config {
	char path[4096]; /* the config file it is written back to */
	struct sbcfg cfg;
	struct running_config_image *img;
	uint64_t generation;
};

/* Deep copy through JSON (sbcfg_to_json + sbcfg_load_string): out validated. */
int running_config_copy(const struct sbcfg *in, struct sbcfg *out, char *err, size_t errlen);

/*
 * Fill img[] (cfg->n_images entries, caller allocates) by reading each file; entries of
 * prev (may be NULL) with the same path, size and mtime are reused. Returns the number of
 * images that could not be read; warn gets "images[i].path: /x: reason" for the first.
 */
int running_config_hash_images(const struct sbcfg *cfg, struct running_config_image *img,
		       const struct running_config *prev, char *warn, size_t warnlen);

/* Size and SHA-256 of a regular file. -ENOENT, -EISDIR (not a regular file), -errno. */
int running_config_sha256_file(const char *path, char hex[65], uint64_t *size, time_t *mtime, char *err,
		       size_t errlen);

/* Write data to path atomically: path.tmp, fsync, rename, fsync the directory. */
int running_config_write_atomic(const char *path, const char *data, size_t len, char *err, size_t errlen);

/* Add r (or replace the reservation of the same MAC when replace is true): -EEXIST. */
int running_config_reservation_add(struct sbcfg *cfg, const struct sbcfg_reservation *r, bool replace,
			   char *err, size_t errlen);
/* Remove the reservation of mac: -ENOENT. */
int running_config_reservation_del(struct sbcfg *cfg, const uint8_t mac[6], char *err, size_t errlen);
/* Index of mac's reservation or -1. */
long running_config_reservation_find(const struct sbcfg *cfg, const uint8_t mac[6]);
/* Add an image: -EEXIST for a name already used. */
int running_config_image_add(struct sbcfg *cfg, const char *name, const char *path, char *err,
		     size_t errlen);
/* Remove image name: -ENOENT. Index of the removed image in *idx (may be NULL). */
int running_config_image_del(struct sbcfg *cfg, const char *name, size_t *idx, char *err, size_t errlen);

/* "52:54:00:12:34:56" (':' or '-') -> mac; 0 or -EINVAL. */
int running_config_parse_mac(const char *s, uint8_t mac[6]);
/* Dotted quad -> host-order address; 0 or -EINVAL. */
int running_config_parse_ip(const char *s, uint32_t *ip);
/* Formatters into caller buffers of 18 and 16 bytes; return buf. */
char *running_config_fmt_mac(const uint8_t mac[6], char buf[18]);
char *running_config_fmt_ip(uint32_t ip, char buf[16]);

#endif
