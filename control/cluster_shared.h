/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cluster_shared.h - the key sets every server of a cluster shares through etcd (reservations,
 * templates, image metadata): each is read at start, then followed with a watch; a change
 * made through any server's API is written here (docs/SCALE-OUT.md).
 */
#ifndef SB_CLUSTER_SHARED_H
#define SB_CLUSTER_SHARED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sbcfg.h"

struct cluster;

/*
 * Shared reservations: PREFIX "reservations/" MAC, value {"mac", "ip", "hostname",
 * "bootfile", "ipxe_script", "images_allowed"?} (images_allowed: the reservation's own list
 * of image name patterns, absent when it has none). Every server reads them at start and
 * follows them with a watch; fn(arg, r, deleted) runs (on the loop) for each one, and the
 * daemon applies it to its running config when it differs.
 */
/* A reservation as etcd holds it: its images_allowed patterns travel with it. */
struct cluster_resv {
	struct sbcfg_reservation r; /* r.images_allowed.first indexes patterns (0) */
	char patterns[SBCFG_PATTERNS_MAX][SBCFG_NAME_MAX];
};
typedef void cluster_resv_fn(void *arg, const struct cluster_resv *r, bool deleted);
void cluster_set_resv_hook(struct cluster *c, cluster_resv_fn *fn, void *arg);

/*
 * How a write to etcd ended: rc 0 with msg what the other live servers did with it (every
 * one applied it, or which did not confirm within cluster.apply_wait_ms: cluster_apply.h),
 * or -errno with msg the error. A delete leaves a tombstone PREFIX "deleted/" KEY (value
 * {"deleted_by", "at"}) that a put of the key removes: a server's start-up push of its config
 * file's reservations respects it, so a deleted one does not come back.
 */
typedef void cluster_done_fn(void *arg, uint64_t cookie, int rc, const char *msg);
/* Put (or delete) r's key in etcd (r's images_allowed indexes patterns, which may be NULL when
 * r has none); fn runs once, later. 0 or -ENOMEM (fn not called). */
int cluster_resv_write(struct cluster *c, const struct sbcfg_reservation *r,
		       const char (*patterns)[SBCFG_NAME_MAX], bool del, cluster_done_fn *fn,
		       void *arg, uint64_t cookie);

/*
 * Shared iPXE templates: PREFIX "templates/" NAME, value the template's text. Read at start,
 * watched; fn(arg, name, text, len, deleted) runs for each (text NULL when deleted).
 */
typedef void cluster_tmpl_fn(void *arg, const char *name, const char *text, size_t len,
			     bool deleted);
void cluster_set_tmpl_hook(struct cluster *c, cluster_tmpl_fn *fn, void *arg);
/* Put (or delete) template name in etcd; fn runs once, later. 0 or -ENOMEM / -EINVAL. */
int cluster_tmpl_write(struct cluster *c, const char *name, const char *text, size_t len, bool del,
		       cluster_done_fn *fn, void *arg, uint64_t cookie);

/*
 * Reservations of this server's config file that etcd lacks at start are pushed: after the
 * first read of reservations/, fn(arg, macs, n) gets the MACs etcd has (resv hook's arg);
 * the daemon calls cluster_resv_push() for each of its own that is not among them. The push
 * is a transaction that writes only if the key is still absent (another server's wins) and has
 * no tombstone: one deleted through the API is not pushed (logged, counted in
 * push_skipped_deleted) and the resv hook gets its deletion, so it goes from this server too.
 */
typedef void cluster_resv_loaded_fn(void *arg, const uint8_t (*macs)[6], size_t n);
void cluster_set_resv_loaded_hook(struct cluster *c, cluster_resv_loaded_fn *fn);
int cluster_resv_push(struct cluster *c, const struct sbcfg_reservation *r,
		      const char (*patterns)[SBCFG_NAME_MAX]);

/*
 * Shared image metadata: PREFIX "images/" NAME, value {"name", "sha256", "source"} (source:
 * the file's path, the same on every server). Read at start, watched; fn(arg, name, sha256,
 * source, deleted) runs for each (sha256 and source NULL when deleted): the daemon registers
 * the image from source with its SHA-256 pinned, so a server whose file differs refuses it.
 */
typedef void cluster_image_fn(void *arg, const char *name, const char *sha256, const char *source,
			      bool deleted);
void cluster_set_image_hook(struct cluster *c, cluster_image_fn *fn, void *arg);
/* Put (or delete) image name's metadata in etcd; fn runs once, later. 0 or -ENOMEM / -EINVAL. */
int cluster_image_write(struct cluster *c, const char *name, const char *sha256, const char *source,
			bool del, cluster_done_fn *fn, void *arg, uint64_t cookie);

/*
 * The shared config document (config_share.h): PREFIX "config", one key. Read at start,
 * watched; fn(arg, value, len, rev, present) runs after the first read (present false: etcd
 * has none), then for each change (present false: deleted). value is NUL-terminated.
 */
typedef void cluster_config_fn(void *arg, const char *value, size_t len, int64_t rev, bool present);
void cluster_set_config_hook(struct cluster *c, cluster_config_fn *fn, void *arg);
/* Put the document (the same path as every shared write); fn runs once, later. 0 or -ENOMEM. */
int cluster_config_write(struct cluster *c, const char *value, size_t len, cluster_done_fn *fn,
			 void *arg, uint64_t cookie);
/* Put it only if etcd has none (at start); fn(arg, 0, rc, err) once, later: rc -EEXIST when
 * another server's was there first. 0 or -ENOMEM. */
int cluster_config_push(struct cluster *c, const char *value, size_t len, cluster_done_fn *fn,
			void *arg);

#endif
