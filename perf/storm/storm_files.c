/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * storm_files.c - the expected files: mapped from their paths (content, size and SHA-256),
 * or given as a digest and a size.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "storm_files.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* "sha256:HEX:SIZE" */
static int parse_digest(const char *v, struct storm_file *f, char *err, size_t errlen)
{
	const char *hex = v + 7, *colon = strchr(hex, ':');
	char *end;
	unsigned long long size;

	if (!colon || colon - hex != 64) {
		snprintf(err, errlen, "%s: expected sha256:<64 hex digits>:<size>", v);
		return -EINVAL;
	}
	for (int i = 0; i < 32; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			snprintf(err, errlen, "%s: not a hex digest", v);
			return -EINVAL;
		}
		f->sha256[i] = (uint8_t)(hi << 4 | lo);
	}
	errno = 0;
	size = strtoull(colon + 1, &end, 10);
	if (errno || end == colon + 1 || *end) {
		snprintf(err, errlen, "%s: bad size", v);
		return -EINVAL;
	}
	f->size = size;
	f->has_sha = true;
	return 0;
}

static int map_file(const char *path, struct storm_file *f, char *err, size_t errlen)
{
	static const uint8_t empty[1];
	struct stat st;
	unsigned mdlen = 0;
	void *p;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		snprintf(err, errlen, "open(%s): %s", path, strerror(errno));
		return -errno;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return -EINVAL;
	}
	if (st.st_size == 0) {
		p = (void *)empty;
	} else {
		p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
		if (p == MAP_FAILED) {
			snprintf(err, errlen, "mmap(%s): %s", path, strerror(errno));
			close(fd);
			return -ENOMEM;
		}
	}
	close(fd);
	f->data = p;
	f->size = (uint64_t)st.st_size;
	if (!EVP_Digest(p, (size_t)st.st_size, f->sha256, &mdlen, EVP_sha256(), NULL) ||
	    mdlen != 32) {
		snprintf(err, errlen, "%s: SHA-256 failed", path);
		return -EIO;
	}
	f->has_sha = true;
	return 0;
}

int storm_files_add(struct storm_files *fs, const char *spec, char *err, size_t errlen)
{
	const char *eq = strchr(spec, '='), *val, *slash;
	struct storm_file *f;
	size_t nl;

	if (fs->n >= STORM_FILES_MAX) {
		snprintf(err, errlen, "--file %s: at most %d files", spec, STORM_FILES_MAX);
		return -E2BIG;
	}
	f = &fs->f[fs->n];
	memset(f, 0, sizeof(*f));
	if (eq) {
		nl = (size_t)(eq - spec);
		val = eq + 1;
		while (nl && spec[0] == '/') { /* names are kept without a leading '/' */
			spec++;
			nl--;
		}
	} else {
		val = spec;
		slash = strrchr(spec, '/');
		spec = slash ? slash + 1 : spec;
		nl = strlen(spec);
	}
	if (nl == 0 || nl >= sizeof(f->name)) {
		snprintf(err, errlen, "--file %s: the name must have 1 to %zu bytes", val,
			 sizeof(f->name) - 1);
		return -EINVAL;
	}
	memcpy(f->name, spec, nl);
	f->name[nl] = 0;
	for (unsigned i = 0; i < fs->n; i++)
		if (strcmp(fs->f[i].name, f->name) == 0) {
			snprintf(err, errlen, "--file %s: given twice", f->name);
			return -EEXIST;
		}
	int rc = strncmp(val, "sha256:", 7) == 0 ? parse_digest(val, f, err, errlen)
						 : map_file(val, f, err, errlen);
	if (rc < 0)
		return rc;
	fs->n++;
	return 0;
}

void storm_files_free(struct storm_files *fs)
{
	for (unsigned i = 0; i < fs->n; i++)
		if (fs->f[i].data && fs->f[i].size)
			munmap((void *)fs->f[i].data, fs->f[i].size);
	fs->n = 0;
}
