/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sbcfg_root.h - "tftp_root": a directory whose every regular file is an image, named by its
 * path below the directory ("pxelinux.cfg/default"), as an alternative to listing each one in
 * "images". Both processes expand it the same way: the dataplane when it reads its config file
 * alone, stormboot-control for every config it builds (and again when the directory changes,
 * tftp_root_watch.h), so that the snapshot it sends carries the files as images marked
 * from_root ("from_tftp_root": true in the JSON; never written back to the config file).
 *
 * What is taken: regular files, and symbolic links to regular files that resolve inside the
 * root; not: names starting with '.' (editors' and rsync's temporary files), names longer
 * than an image name may be, anything deeper than SBCFG_ROOT_DEPTH_MAX directories, a name
 * that "images" lists already (the list wins).
 */
#ifndef SB_SBCFG_ROOT_H
#define SB_SBCFG_ROOT_H

#include <stddef.h>

#include "sbcfg.h"

#define SBCFG_ROOT_DEPTH_MAX  16
#define SBCFG_ROOT_IMAGES_MAX 65536 /* images in all, as "images" may list */

/* What one scan found besides the images. */
struct sbcfg_root_scan {
	size_t added;	/* images added */
	size_t skipped; /* entries left out (see above), the first one named in warn */
	char warn[600]; /* "" or "tftp_root: <path>: <why skipped>" */
};

/*
 * Replace the from_root images of cfg by the files under cfg->tftp_root now, sorted by name
 * (so that two scans of an unchanged directory give equal configs). Nothing when tftp_root
 * is "". 0, or -errno when the root itself cannot be read (cfg then holds no from_root image)
 * with the reason in err; -ENOMEM.
 */
int sbcfg_root_expand(struct sbcfg *cfg, struct sbcfg_root_scan *out, char *err, size_t errlen);

#endif
