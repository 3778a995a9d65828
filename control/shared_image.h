/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * shared_image.h - image metadata shared through etcd in cluster mode (docs/SCALE-OUT.md),
 * and the reservations of the config file pushed to etcd at start.
 *
 * image-add on any server: the image is registered here first (its file read and hashed,
 * the dataplane loads it), then {"name", "sha256", "source"} goes to etcd; the API answers
 * once both are done. Every other server's watch registers the same name from the same
 * source path with that SHA-256 pinned: a server whose file is missing, outside its
 * control.images_dirs or different refuses it, logs why and counts it
 * (cluster.images.refused in status). image-del likewise deletes the key.
 */
#ifndef SB_SHARED_IMAGE_H
#define SB_SHARED_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct daemon;

/* image-add in cluster mode, path already resolved under control.images_dirs; sha256 the
 * pinned digest or "". NULL (the reply comes later) or a reply. */
char *shared_image_add(struct daemon *d, uint64_t conn, const char *name, const char *path,
		       const char *sha256);
/* image-del in cluster mode. */
char *shared_image_del(struct daemon *d, uint64_t conn, const char *name);
/* cluster_image_fn: an image of etcd (read at start or watched), arg the daemon. */
void shared_image_on_etcd(void *arg, const char *name, const char *sha256, const char *source,
			  bool deleted);
/* cluster_resv_loaded_fn: push the config file's reservations etcd lacks. */
void shared_resv_on_loaded(void *arg, const uint8_t (*macs)[6], size_t n);
/* {"images_applied", "images_refused"} for cluster status (cluster.shared). */
json_t *shared_image_status(const struct daemon *d);

#endif
