/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <rte_malloc.h>

#include "image_cache.h"

/* Read path into hugepage memory; SHA-256 over what was read. */
static int image_read(struct eng_image *img, int socket, char *err, size_t errlen)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t off = 0;
	unsigned int mdlen = 0;
	int fd, rc;

	fd = open(img->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "image \"%s\": open(%s): %s", img->name, img->path,
			 strerror(-rc));
		return rc;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		rc = S_ISREG(st.st_mode) ? -errno : -EINVAL;
		snprintf(err, errlen, "image \"%s\": %s: %s", img->name, img->path,
			 rc == -EINVAL ? "not a regular file" : strerror(-rc));
		close(fd);
		return rc;
	}
	if (st.st_size > 0) {
		buf = rte_malloc_socket("sb_image", (size_t)st.st_size, RTE_CACHE_LINE_SIZE,
					socket);
		if (buf == NULL) {
			snprintf(err, errlen,
				 "image \"%s\": %s: no hugepage memory for %lld bytes (raise "
				 "nr_hugepages)",
				 img->name, img->path, (long long)st.st_size);
			close(fd);
			return -ENOMEM;
		}
	}
	while (off < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + off, (size_t)st.st_size - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : -EIO;
			snprintf(err, errlen, "image \"%s\": read(%s): %s", img->name, img->path,
				 n < 0 ? strerror(-rc) : "file shrank while reading");
			rte_free(buf);
			close(fd);
			return rc;
		}
		off += (size_t)n;
	}
	close(fd);
	if (!EVP_Digest(buf ? (const void *)buf : (const void *)"", off, img->sha256, &mdlen,
			EVP_sha256(), NULL) ||
	    mdlen != sizeof(img->sha256)) {
		snprintf(err, errlen, "image \"%s\": SHA-256 failed", img->name);
		rte_free(buf);
		return -EIO;
	}
	img->data = buf;
	img->size = off;
	return 0;
}

int eng_images_load(struct eng_images *im, const struct sbcfg *cfg, int socket, char *err,
		    size_t errlen)
{
	int rc;

	memset(im, 0, sizeof(*im));
	if (cfg->n_images == 0)
		return 0;
	im->v = rte_zmalloc_socket("sb_images", cfg->n_images * sizeof(*im->v), 0, socket);
	if (im->v == NULL) {
		snprintf(err, errlen, "images: no memory for the image table");
		return -ENOMEM;
	}
	for (size_t i = 0; i < cfg->n_images; i++) {
		struct eng_image *img = &im->v[i];

		img->name = cfg->images[i].name;
		img->path = cfg->images[i].path;
		rc = image_read(img, socket, err, errlen);
		if (rc < 0) {
			eng_images_free(im);
			return rc;
		}
		im->n++;
		im->bytes += img->size;
	}
	return 0;
}

void eng_image_sha256_hex(const struct eng_image *img, char hex[65])
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 0; i < 32; i++) {
		hex[2 * i] = digits[img->sha256[i] >> 4];
		hex[2 * i + 1] = digits[img->sha256[i] & 15];
	}
	hex[64] = '\0';
}

void eng_images_free(struct eng_images *im)
{
	for (size_t i = 0; i < im->n; i++)
		rte_free((void *)(uintptr_t)im->v[i].data);
	rte_free(im->v);
	memset(im, 0, sizeof(*im));
}
