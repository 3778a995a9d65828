/* SPDX-License-Identifier: BSD-3-Clause */
#include "sbcfg_root.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct walk {
	struct sbcfg_root_scan *out;
	char root[PATH_MAX]; /* resolved */
	size_t root_len;
	struct sbcfg_image *v; /* found, unsorted */
	size_t n, cap;
	const struct sbcfg *cfg; /* its listed images win */
};

static void skip(struct walk *w, const char *path, const char *why)
{
	if (w->out->skipped++ == 0)
		snprintf(w->out->warn, sizeof(w->out->warn), "tftp_root: %.400s: %s", path, why);
}

static bool listed(const struct sbcfg *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_images; i++)
		if (!cfg->images[i].from_root && strcmp(cfg->images[i].name, name) == 0)
			return true;
	return false;
}

/* A name the config's rules take as an image name (sbcfg_json.c): printable, no '\\'. */
static bool name_ok(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f || *s == '\\')
			return false;
	return true;
}

static int add(struct walk *w, const char *name, const char *path)
{
	if (w->cfg->n_images + w->n >= SBCFG_ROOT_IMAGES_MAX) {
		skip(w, path, "more than 65536 images");
		return 0;
	}
	if (w->n == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 64;
		void *v = realloc(w->v, cap * sizeof(*w->v));

		if (!v)
			return -ENOMEM;
		w->v = v;
		w->cap = cap;
	}
	memset(&w->v[w->n], 0, sizeof(w->v[w->n]));
	snprintf(w->v[w->n].name, sizeof(w->v[w->n].name), "%s", name);
	snprintf(w->v[w->n].path, sizeof(w->v[w->n].path), "%s", path);
	w->v[w->n].from_root = true;
	w->n++;
	return 0;
}

/* dir: absolute path of a directory under the root; rel: its name below the root ("" = root) */
static int walk_dir(struct walk *w, const char *dir, const char *rel, int depth)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int rc = 0;

	if (!d) {
		if (depth == 0)
			return -errno;
		skip(w, dir, strerror(errno));
		return 0;
	}
	while (rc == 0 && (e = readdir(d)) != NULL) {
		char path[PATH_MAX], name[PATH_MAX], real[PATH_MAX];
		struct stat st;

		if (e->d_name[0] == '.')
			continue; /* ".", "..", hidden and temporary files */
		if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= (int)sizeof(path) ||
		    snprintf(name, sizeof(name), "%s%s%s", rel, rel[0] ? "/" : "", e->d_name) >=
			    (int)sizeof(name)) {
			skip(w, dir, "a name too long");
			continue;
		}
		if (lstat(path, &st) < 0) {
			continue; /* gone since readdir */
		}
		if (S_ISLNK(st.st_mode)) {
			/* a link is followed only to a target inside the root */
			if (!realpath(path, real) || strncmp(real, w->root, w->root_len) != 0 ||
			    (real[w->root_len] != '/' && real[w->root_len] != '\0')) {
				skip(w, path,
				     "a symbolic link that leads outside tftp_root (or nowhere)");
				continue;
			}
			if (stat(path, &st) < 0)
				continue;
		}
		if (S_ISDIR(st.st_mode)) {
			if (depth + 1 >= SBCFG_ROOT_DEPTH_MAX) {
				skip(w, path, "deeper than 16 directories");
				continue;
			}
			rc = walk_dir(w, path, name, depth + 1);
			continue;
		}
		if (!S_ISREG(st.st_mode)) {
			skip(w, path, "not a regular file");
			continue;
		}
		if (strlen(name) >= SBCFG_NAME_MAX) {
			skip(w, path, "its name below tftp_root is longer than 127 bytes");
			continue;
		}
		if (!name_ok(e->d_name)) {
			skip(w, path, "a control character or '\\' in its name");
			continue;
		}
		if (listed(w->cfg, name))
			continue; /* "images" names it: that entry wins */
		rc = add(w, name, path);
	}
	closedir(d);
	return rc;
}

static int image_name_cmp(const void *a, const void *b)
{
	return strcmp(((const struct sbcfg_image *)a)->name, ((const struct sbcfg_image *)b)->name);
}

int sbcfg_root_expand(struct sbcfg *cfg, struct sbcfg_root_scan *out, char *err, size_t errlen)
{
	struct sbcfg_root_scan dummy;
	struct walk w = {.cfg = cfg};
	size_t keep = 0;
	int rc;

	if (!out)
		out = &dummy;
	memset(out, 0, sizeof(*out));
	w.out = out;
	/* the listed images stay, in their order; the found ones are replaced */
	for (size_t i = 0; i < cfg->n_images; i++)
		if (!cfg->images[i].from_root)
			cfg->images[keep++] = cfg->images[i];
	cfg->n_images = keep;
	if (!cfg->tftp_root[0])
		return 0;
	if (!realpath(cfg->tftp_root, w.root)) {
		rc = -errno;
		snprintf(err, errlen, "tftp_root: %.400s: %s", cfg->tftp_root, strerror(-rc));
		return rc;
	}
	w.root_len = strlen(w.root);
	if (w.root_len == 1) /* "/": every path is inside */
		w.root_len = 0;
	rc = walk_dir(&w, cfg->tftp_root, "", 0);
	if (rc < 0) {
		snprintf(err, errlen, "tftp_root: %.400s: %s", cfg->tftp_root,
			 rc == -ENOMEM ? "out of memory" : strerror(-rc));
		free(w.v);
		return rc;
	}
	if (w.n) {
		struct sbcfg_image *all = realloc(cfg->images, (keep + w.n) * sizeof(*all));

		if (!all) {
			free(w.v);
			snprintf(err, errlen, "tftp_root: out of memory");
			return -ENOMEM;
		}
		qsort(w.v, w.n, sizeof(*w.v), image_name_cmp);
		memcpy(all + keep, w.v, w.n * sizeof(*w.v));
		cfg->images = all;
		cfg->n_images = keep + w.n;
	}
	out->added = w.n;
	free(w.v);
	return 0;
}
