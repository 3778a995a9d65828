/* SPDX-License-Identifier: BSD-3-Clause */
/* image_cache.c - images shared by snapshots, read only when new or changed (image_cache.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <rte_malloc.h>

#include <rte_common.h>

#include "image_cache.h"
#include "pkt.h"
#include "sbcfg_access.h"
#include "tftp.h"

void eng_image_cache_init(struct eng_image_cache *c, int socket)
{
	memset(c, 0, sizeof(*c));
	c->socket = socket;
	pthread_mutex_init(&c->lock, NULL);
}

static void key_of(const struct stat *st, struct eng_image_key *k)
{
	k->dev = (uint64_t)st->st_dev;
	k->ino = (uint64_t)st->st_ino;
	k->size = (uint64_t)st->st_size;
	k->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
	k->ctime_ns = (int64_t)st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec;
}

static bool key_equal(const struct eng_image_key *a, const struct eng_image_key *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime_ns == b->mtime_ns && a->ctime_ns == b->ctime_ns;
}

bool eng_image_changed(const struct eng_image *img)
{
	struct eng_image_key now;
	struct stat st;

	if (stat(img->path, &st) < 0)
		return true;
	key_of(&st, &now);
	return !key_equal(&img->key, &now);
}

#define READ_CHUNK (4u << 20) /* hashed and counted while still in the cache */

/* Read the open file fd (st: its fstat) into hugepage memory, hash it, size it in netascii. */
static int image_read(struct eng_image_cache *c, struct eng_image *img, int fd,
		      const struct stat *st, const char *name, char *err, size_t errlen)
{
	struct eng_image_key after;
	struct stat st2;
	uint8_t *buf = NULL;
	size_t off = 0, size = (size_t)st->st_size;
	uint64_t na_extra = 0;
	unsigned int mdlen = 0;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int rc = -EIO;

	if (md == NULL || !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
		snprintf(err, errlen, "image \"%s\": SHA-256 unavailable", name);
		goto fail;
	}
	if (size > 0) {
		buf = rte_malloc_socket("sb_image",
					RTE_ALIGN_CEIL(size, 8) +
						pkt_csum_prefix_len(size) * sizeof(uint32_t),
					64, c->socket);
		if (buf == NULL) {
			snprintf(err, errlen,
				 "image \"%s\": %s: no hugepage memory for %zu bytes (raise "
				 "nr_hugepages)",
				 name, img->path, size);
			rc = -ENOMEM;
			goto fail;
		}
	}
	while (off < size) {
		size_t want = size - off < READ_CHUNK ? size - off : READ_CHUNK;
		ssize_t n = read(fd, buf + off, want);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : -EAGAIN;
			snprintf(err, errlen, "image \"%s\": read(%s): %s", name, img->path,
				 n < 0 ? strerror(-rc) : "file shrank while reading");
			goto fail;
		}
		if (!EVP_DigestUpdate(md, buf + off, (size_t)n)) {
			snprintf(err, errlen, "image \"%s\": SHA-256 failed", name);
			goto fail;
		}
		na_extra += tftp_netascii_size(buf + off, (uint64_t)n) - (uint64_t)n;
		off += (size_t)n;
	}
	/* A file rewritten while we read it: the copy would be torn, and cached as the old one. */
	memset(&after, 0, sizeof(after));
	if (fstat(fd, &st2) == 0)
		key_of(&st2, &after);
	if (!key_equal(&after, &img->key)) {
		snprintf(err, errlen, "image \"%s\": %s changed while it was read (try again)",
			 name, img->path);
		rc = -EAGAIN;
		goto fail;
	}
	if (!EVP_DigestFinal_ex(md, img->sha256, &mdlen) || mdlen != sizeof(img->sha256)) {
		snprintf(err, errlen, "image \"%s\": SHA-256 failed", name);
		goto fail;
	}
	EVP_MD_CTX_free(md);
	img->data = buf;
	img->size = off;
	img->csum_prefix = NULL;
	if (buf) {
		uint32_t *prefix = (uint32_t *)(void *)(buf + RTE_ALIGN_CEIL(size, 8));

		pkt_csum_prefix_build(buf, size, prefix);
		img->csum_prefix = prefix;
	}
	img->netascii_size = off + na_extra;
	return 0;
fail:
	EVP_MD_CTX_free(md);
	rte_free(buf);
	return rc;
}

/* 0 when img's digest is the pinned one (or nothing is pinned), else -EBADMSG naming both. */
static int pin_check(const struct eng_image *img, const char *name, const char *pinned, char *err,
		     size_t errlen)
{
	uint8_t want[32];
	char hex[65];

	if (pinned == NULL || pinned[0] == '\0')
		return 0;
	if (sbcfg_sha256_from_hex(pinned, want) < 0) {
		snprintf(err, errlen,
			 "image \"%s\": pinned sha256 \"%.64s\" is not a SHA-256 digest", name,
			 pinned);
		return -EINVAL;
	}
	if (memcmp(want, img->sha256, sizeof(want)) == 0)
		return 0;
	eng_image_sha256_hex(img, hex);
	snprintf(err, errlen,
		 "image \"%s\": SHA-256 of %s is %s, but the config pins %s (images[].sha256): "
		 "refused",
		 name, img->path, hex, pinned);
	return -EBADMSG;
}

int eng_image_cache_get(struct eng_image_cache *c, const char *name, const char *path,
			struct eng_image **out, bool *was_read, char *err, size_t errlen)
{
	return eng_image_cache_get_pinned(c, name, path, NULL, out, was_read, err, errlen);
}

int eng_image_cache_get_pinned(struct eng_image_cache *c, const char *name, const char *path,
			       const char *sha256, struct eng_image **out, bool *was_read,
			       char *err, size_t errlen)
{
	size_t plen = strlen(path) + 1;
	struct eng_image_key key;
	struct eng_image *img;
	struct stat st;
	int fd, rc;

	*out = NULL;
	*was_read = false;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "image \"%s\": open(%s): %s", name, path, strerror(-rc));
		return rc;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		rc = S_ISREG(st.st_mode) ? -errno : -EINVAL;
		snprintf(err, errlen, "image \"%s\": %s: %s", name, path,
			 rc == -EINVAL ? "not a regular file" : strerror(-rc));
		close(fd);
		return rc;
	}
	key_of(&st, &key);
	for (img = c->head; img; img = img->next) {
		if (!key_equal(&img->key, &key) || strcmp(img->path, path) != 0)
			continue;
		close(fd);
		/* a digest pinned since the file was read is checked on the cached bytes */
		if ((rc = pin_check(img, name, sha256, err, errlen)) < 0)
			return rc;
		/* At 0 it waits for collect, on this thread: taking it back is safe here. */
		eng_image_ref(img);
		c->hits++;
		*out = img;
		return 0;
	}
	img = calloc(1, sizeof(*img) + plen);
	if (img == NULL) {
		snprintf(err, errlen, "image \"%s\": %s: out of memory", name, path);
		close(fd);
		return -ENOMEM;
	}
	memcpy(img->path, path, plen);
	img->key = key;
	img->name = strdup(name);
	if (img->name == NULL) {
		snprintf(err, errlen, "image \"%s\": %s: out of memory", name, path);
		close(fd);
		free(img);
		return -ENOMEM;
	}
	rc = image_read(c, img, fd, &st, name, err, errlen);
	close(fd);
	if (rc == 0 && (rc = pin_check(img, name, sha256, err, errlen)) < 0)
		rte_free((void *)(uintptr_t)img->data); /* refused: not cached */
	if (rc < 0) {
		free(img->name);
		free(img);
		return rc;
	}
	img->refs = 1;
	pthread_mutex_lock(&c->lock);
	img->next = c->head;
	c->head = img;
	pthread_mutex_unlock(&c->lock);
	c->n++;
	c->bytes += img->size;
	c->reads++;
	*out = img;
	*was_read = true;
	return 0;
}

/* Keep what a freed image served under its name (lock held). */
static void tally_add(struct eng_image_cache *c, const char *name, uint64_t served)
{
	struct eng_image_tally *t;
	size_t len;

	if (served == 0)
		return;
	if (c->n_tally >= ENG_IMAGE_TALLY_MAX)
		name = "(other)";
	for (t = c->tally; t; t = t->next) {
		if (strcmp(t->name, name) == 0) {
			t->served += served;
			return;
		}
	}
	len = strlen(name) + 1;
	if ((t = malloc(sizeof(*t) + len)) == NULL)
		return; /* out of memory: this total is lost, nothing else */
	memcpy(t->name, name, len);
	t->served = served;
	t->next = c->tally;
	c->tally = t;
	c->n_tally++;
}

/* lock held */
static void image_free(struct eng_image_cache *c, struct eng_image *img)
{
	tally_add(c, img->name, __atomic_load_n(&img->served, __ATOMIC_RELAXED));
	free(img->name);
	c->n--;
	c->bytes -= img->size;
	c->freed++;
	rte_free((void *)(uintptr_t)img->data);
	free(img);
}

size_t eng_image_cache_collect(struct eng_image_cache *c, uint64_t *bytes)
{
	size_t n = 0;

	*bytes = 0;
	pthread_mutex_lock(&c->lock);
	for (struct eng_image **p = &c->head; *p;) {
		struct eng_image *img = *p;

		/* acquire: the last holder's reads of the bytes are over */
		if (__atomic_load_n(&img->refs, __ATOMIC_ACQUIRE) != 0) {
			p = &img->next;
			continue;
		}
		*p = img->next;
		*bytes += img->size;
		n++;
		image_free(c, img);
	}
	pthread_mutex_unlock(&c->lock);
	return n;
}

size_t eng_image_cache_destroy(struct eng_image_cache *c)
{
	size_t held = 0;

	pthread_mutex_lock(&c->lock);
	while (c->head) {
		struct eng_image *img = c->head;

		c->head = img->next;
		held += __atomic_load_n(&img->refs, __ATOMIC_ACQUIRE) != 0;
		image_free(c, img);
	}
	while (c->tally) {
		struct eng_image_tally *t = c->tally;

		c->tally = t->next;
		free(t);
	}
	c->n_tally = 0;
	pthread_mutex_unlock(&c->lock);
	return held;
}

void eng_image_cache_served(struct eng_image_cache *c,
			    void (*fn)(void *arg, const char *name, uint64_t bytes), void *arg)
{
	pthread_mutex_lock(&c->lock);
	for (const struct eng_image_tally *t = c->tally; t; t = t->next)
		fn(arg, t->name, t->served);
	for (const struct eng_image *img = c->head; img; img = img->next)
		fn(arg, img->name, __atomic_load_n(&img->served, __ATOMIC_RELAXED));
	pthread_mutex_unlock(&c->lock);
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
