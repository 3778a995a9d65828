/* SPDX-License-Identifier: BSD-3-Clause */
/* running_config.c - config copies and edits, atomic write-back, image hashing. */
#include "running_config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "sbcfg_json.h"

#define HASH_CHUNK (1u << 20)

struct running_config *running_config_new(const char *path, struct sbcfg *cfg)
{
	struct running_config *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->img = calloc(cfg->n_images ? cfg->n_images : 1, sizeof(*c->img));
	if (!c->img) {
		free(c);
		return NULL;
	}
	snprintf(c->path, sizeof(c->path), "%s", path);
	c->cfg = *cfg;
	memset(cfg, 0, sizeof(*cfg)); /* moved */
	return c;
}

void running_config_free(struct running_config *c)
{
	if (!c)
		return;
	sbcfg_free(&c->cfg);
	free(c->img);
	free(c);
}

int running_config_copy(const struct sbcfg *in, struct sbcfg *out, char *err, size_t errlen)
{
	char *json = sbcfg_to_json(in);
	int rc;

	if (!json) {
		snprintf(err, errlen, "config: out of memory");
		return -ENOMEM;
	}
	rc = sbcfg_load_string(json, out, err, errlen);
	free(json);
	return rc;
}

static void set_identity(struct running_config_image *m, const struct stat *sb)
{
	m->mtime_ns = (int64_t)sb->st_mtim.tv_sec * 1000000000 + sb->st_mtim.tv_nsec;
	m->ctime_ns = (int64_t)sb->st_ctim.tv_sec * 1000000000 + sb->st_ctim.tv_nsec;
	m->dev = (uint64_t)sb->st_dev;
	m->ino = (uint64_t)sb->st_ino;
}

int running_config_sha256_file(const char *path, struct running_config_image *out,
			       const atomic_bool *cancel, char *err, size_t errlen)
{
	unsigned char md[EVP_MAX_MD_SIZE], *buf;
	unsigned int mdlen = 0;
	struct stat sb;
	EVP_MD_CTX *ctx;
	int fd, rc = 0;

	memset(out, 0, sizeof(*out));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return out->err = rc;
	}
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		rc = S_ISDIR(sb.st_mode) ? -EISDIR : -EINVAL;
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return out->err = rc;
	}
	ctx = EVP_MD_CTX_new();
	buf = malloc(HASH_CHUNK);
	if (!ctx || !buf || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		snprintf(err, errlen, "%s: sha256: out of memory", path);
		rc = -ENOMEM;
		goto out;
	}
	for (;;) {
		if (cancel && atomic_load(cancel)) {
			snprintf(err, errlen, "%s: hashing cancelled", path);
			rc = -ECANCELED;
			goto out;
		}
		ssize_t n = read(fd, buf, HASH_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			snprintf(err, errlen, "read(%s): %s", path, strerror(-rc));
			goto out;
		}
		if (n == 0)
			break;
		EVP_DigestUpdate(ctx, buf, (size_t)n);
		out->size += (uint64_t)n;
	}
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	for (unsigned int i = 0; i < mdlen && i < 32; i++)
		snprintf(out->sha256 + 2 * i, 3, "%02x", md[i]);
	set_identity(out, &sb);
out:
	if (rc < 0) {
		out->size = 0;
		out->sha256[0] = '\0';
		out->err = rc;
	}
	EVP_MD_CTX_free(ctx);
	free(buf);
	close(fd);
	return rc;
}

/* prev's entry for path when the file is still the one that was read, else NULL. */
static const struct running_config_image *reusable(const struct running_config *prev,
						   const char *path)
{
	struct running_config_image now;
	struct stat sb;

	if (!prev || stat(path, &sb) < 0)
		return NULL;
	set_identity(&now, &sb);
	for (size_t j = 0; j < prev->cfg.n_images; j++) {
		const struct running_config_image *p = &prev->img[j];
		if (strcmp(prev->cfg.images[j].path, path) == 0 && !p->err && p->sha256[0] &&
		    p->size == (uint64_t)sb.st_size && p->mtime_ns == now.mtime_ns &&
		    p->ctime_ns == now.ctime_ns && p->dev == now.dev && p->ino == now.ino)
			return p;
	}
	return NULL;
}

int running_config_hash_images(const struct sbcfg_image *images, size_t n,
			       struct running_config_image *img, const struct running_config *prev,
			       const atomic_bool *cancel, unsigned int *hashed, char *warn,
			       size_t warnlen)
{
	int bad = 0;

	if (warn && warnlen)
		warn[0] = '\0';
	if (hashed)
		*hashed = 0;
	for (size_t i = 0; i < n; i++) {
		const struct running_config_image *p = reusable(prev, images[i].path);
		char e[512];

		if (p) {
			img[i] = *p;
			continue;
		}
		if (running_config_sha256_file(images[i].path, &img[i], cancel, e, sizeof(e)) < 0 &&
		    bad++ == 0 && warn)
			snprintf(warn, warnlen, "images[%zu].path: %s", i, e);
		if (hashed && img[i].err != -ECANCELED)
			(*hashed)++;
	}
	return bad;
}

static int fsync_parent(const char *path)
{
	char *dup = strdup(path), *dir;
	int fd, rc = 0;

	if (!dup)
		return -ENOMEM;
	dir = dirname(dup);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0)
		rc = -errno;
	if (fd >= 0)
		close(fd);
	free(dup);
	return rc;
}

int running_config_write_atomic(const char *path, const char *data, size_t len, char *err,
				size_t errlen)
{
	char tmp[PATH_MAX + 8];
	struct stat sb;
	mode_t mode = 0640;
	int fd, rc = 0;

	if (stat(path, &sb) == 0)
		mode = sb.st_mode & 07777; /* keep the operator's permissions */
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "open(%s): %s", tmp, strerror(-rc));
		return rc;
	}
	for (size_t off = 0; off < len;) {
		ssize_t n = write(fd, data + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			snprintf(err, errlen, "write(%s): %s", tmp, strerror(-rc));
			goto fail;
		}
		off += (size_t)n;
	}
	if (fsync(fd) < 0) {
		rc = -errno;
		snprintf(err, errlen, "fsync(%s): %s", tmp, strerror(-rc));
		goto fail;
	}
	close(fd);
	if (rename(tmp, path) < 0) {
		rc = -errno;
		snprintf(err, errlen, "rename(%s, %s): %s", tmp, path, strerror(-rc));
		unlink(tmp);
		return rc;
	}
	if ((rc = fsync_parent(path)) < 0)
		snprintf(err, errlen, "fsync(directory of %s): %s", path, strerror(-rc));
	return rc;
fail:
	close(fd);
	unlink(tmp);
	return rc;
}

long running_config_reservation_find(const struct sbcfg *cfg, const uint8_t mac[6])
{
	for (size_t i = 0; i < cfg->dhcp.n_reservations; i++)
		if (memcmp(cfg->dhcp.reservations[i].mac, mac, 6) == 0)
			return (long)i;
	return -1;
}

int running_config_reservation_add(struct sbcfg *cfg, const struct sbcfg_reservation *r,
				   bool replace, char *err, size_t errlen)
{
	long i = running_config_reservation_find(cfg, r->mac);
	char m[18];

	if (i >= 0) {
		if (!replace) {
			snprintf(err, errlen, "%s already has a reservation (delete it first)",
				 running_config_fmt_mac(r->mac, m));
			return -EEXIST;
		}
		cfg->dhcp.reservations[i] = *r;
		return 0;
	}
	struct sbcfg_reservation *n =
		realloc(cfg->dhcp.reservations, (cfg->dhcp.n_reservations + 1) * sizeof(*n));
	if (!n) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	n[cfg->dhcp.n_reservations++] = *r;
	cfg->dhcp.reservations = n;
	return 0;
}

int running_config_reservation_del(struct sbcfg *cfg, const uint8_t mac[6], char *err,
				   size_t errlen)
{
	long i = running_config_reservation_find(cfg, mac);
	char m[18];

	if (i < 0) {
		snprintf(err, errlen, "%s has no reservation", running_config_fmt_mac(mac, m));
		return -ENOENT;
	}
	memmove(&cfg->dhcp.reservations[i], &cfg->dhcp.reservations[i + 1],
		(cfg->dhcp.n_reservations - (size_t)i - 1) * sizeof(cfg->dhcp.reservations[0]));
	cfg->dhcp.n_reservations--;
	return 0;
}

int running_config_image_add(struct sbcfg *cfg, const char *name, const char *path,
			     const char *sha256, char *err, size_t errlen)
{
	struct sbcfg_image im = {0};

	for (size_t i = 0; i < cfg->n_images; i++)
		if (strcmp(cfg->images[i].name, name) == 0) {
			snprintf(err, errlen, "image \"%s\" exists (path %s); delete it first",
				 name, cfg->images[i].path);
			return -EEXIST;
		}
	if (strlen(name) >= sizeof(im.name) || strlen(path) >= sizeof(im.path)) {
		snprintf(err, errlen, "image name or path too long");
		return -ENAMETOOLONG;
	}
	strcpy(im.name, name);
	strcpy(im.path, path);
	if (sha256 && strlen(sha256) >= sizeof(im.sha256)) {
		snprintf(err, errlen, "sha256: not a SHA-256 digest");
		return -EINVAL;
	}
	snprintf(im.sha256, sizeof(im.sha256), "%s", sha256 ? sha256 : "");
	struct sbcfg_image *n = realloc(cfg->images, (cfg->n_images + 1) * sizeof(*n));
	if (!n) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	n[cfg->n_images++] = im;
	cfg->images = n;
	return 0;
}

/* Is the resolved path inside the resolved directory dir (dir itself is not a file)? */
static bool path_under(const char *dir, const char *path)
{
	size_t n = strlen(dir);

	if (n == 1 && dir[0] == '/')
		return true;
	return strncmp(path, dir, n) == 0 && path[n] == '/';
}

int running_config_image_path(const struct sbcfg *cfg, const char *path, char out[PATH_MAX],
			      char *err, size_t errlen)
{
	const struct sbcfg_control *c = &cfg->control;
	char dir[PATH_MAX];
	struct stat st;

	if (c->n_images_dirs == 0) {
		snprintf(err, errlen,
			 "no image directory is configured: image-add takes files only from "
			 "control.images_dirs (set it in the config file; images listed in the "
			 "config file itself need none)");
		return -EPERM;
	}
	if (!realpath(path, out)) {
		int rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	if (stat(out, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s%s%s: not a regular file", path,
			 strcmp(path, out) ? " -> " : "", strcmp(path, out) ? out : "");
		return -EINVAL;
	}
	for (size_t i = 0; i < c->n_images_dirs; i++)
		if (realpath(c->images_dirs[i], dir) && path_under(dir, out))
			return 0;
	snprintf(err, errlen, "%s%s%s is not inside control.images_dirs (%s%s)", path,
		 strcmp(path, out) ? " -> " : "", strcmp(path, out) ? out : "", c->images_dirs[0],
		 c->n_images_dirs > 1 ? ", ..." : "");
	return -EPERM;
}

int running_config_image_del(struct sbcfg *cfg, const char *name, size_t *idx, char *err,
			     size_t errlen)
{
	for (size_t i = 0; i < cfg->n_images; i++) {
		if (strcmp(cfg->images[i].name, name) != 0)
			continue;
		memmove(&cfg->images[i], &cfg->images[i + 1],
			(cfg->n_images - i - 1) * sizeof(cfg->images[0]));
		cfg->n_images--;
		if (idx)
			*idx = i;
		return 0;
	}
	snprintf(err, errlen, "no image named \"%s\"", name);
	return -ENOENT;
}

static int isxdigit_ascii(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

int running_config_parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];
	char sep1, sep2, sep3, sep4, sep5, extra;

	if (!s || sscanf(s, "%2x%c%2x%c%2x%c%2x%c%2x%c%2x%c", &b[0], &sep1, &b[1], &sep2, &b[2],
			 &sep3, &b[3], &sep4, &b[4], &sep5, &b[5], &extra) != 11)
		return -EINVAL;
	if (strlen(s) != 17)
		return -EINVAL;
	for (const char *c = s; *c; c++)
		if (!(isxdigit_ascii(*c) || *c == ':' || *c == '-'))
			return -EINVAL;
	char seps[5] = {sep1, sep2, sep3, sep4, sep5};
	for (int i = 0; i < 5; i++)
		if (seps[i] != seps[0] || (seps[i] != ':' && seps[i] != '-'))
			return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return 0;
}

int running_config_parse_ip(const char *s, uint32_t *ip)
{
	struct in_addr a;

	if (!s || inet_pton(AF_INET, s, &a) != 1)
		return -EINVAL;
	*ip = ntohl(a.s_addr);
	return 0;
}

char *running_config_fmt_mac(const uint8_t mac[6], char buf[18])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
		 mac[5]);
	return buf;
}

char *running_config_fmt_ip(uint32_t ip, char buf[16])
{
	snprintf(buf, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
	return buf;
}
