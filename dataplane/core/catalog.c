/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "sb_drop.h"
#include "tftp.h"

int catalog_normalize(const char *name, size_t len, char *out, size_t cap)
{
	size_t i = 0, o = 0;

	if (cap == 0)
		return -SB_DROP_TFTP_NOT_FOUND;
	while (i < len) {
		size_t start, clen;

		/* skip separators: leading '/', "//" collapsed; '\\' counts as '/' */
		while (i < len && (name[i] == '/' || name[i] == '\\'))
			i++;
		if (i == len)
			break;
		start = i;
		while (i < len && name[i] != '/' && name[i] != '\\') {
			if (name[i] == '\0')
				return -SB_DROP_TFTP_NOT_FOUND;
			i++;
		}
		clen = i - start;
		if (clen == 1 && name[start] == '.')
			continue;
		if (clen == 2 && name[start] == '.' && name[start + 1] == '.')
			return -SB_DROP_TFTP_BAD_PATH; /* never climb out of the catalog */
		if (o + (o ? 1 : 0) + clen + 1 > cap)
			return -SB_DROP_TFTP_NOT_FOUND;
		if (o)
			out[o++] = '/';
		memcpy(out + o, name + start, clen);
		o += clen;
	}
	if (o == 0)
		return -SB_DROP_TFTP_NOT_FOUND;
	out[o] = '\0';
	return (int)o;
}

static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct catalog_entry *)a)->name,
		      ((const struct catalog_entry *)b)->name);
}

int catalog_init(struct catalog *cat, struct catalog_entry *entries, size_t n)
{
	char tmp[SBCFG_NAME_MAX];

	cat->entries = entries;
	cat->n = 0;
	for (size_t i = 0; i < n; i++) {
		struct catalog_entry *e = &entries[i];
		size_t len = strnlen(e->name, sizeof(e->name));

		if (len == sizeof(e->name))
			return -EINVAL;
		if (catalog_normalize(e->name, len, tmp, sizeof(tmp)) < 0)
			return -EINVAL;
		if (!e->data && e->size)
			return -EINVAL;
		memcpy(e->name, tmp, sizeof(tmp));
		e->netascii_size = e->size ? tftp_netascii_size(e->data, e->size) : 0;
	}
	if (n > 1)
		qsort(entries, n, sizeof(entries[0]), entry_cmp);
	for (size_t i = 1; i < n; i++)
		if (strcmp(entries[i - 1].name, entries[i].name) == 0)
			return -EEXIST;
	cat->n = n;
	return 0;
}

const struct catalog_entry *catalog_lookup(const struct catalog *cat, const char *name, size_t len,
					   int *err)
{
	char key[SBCFG_NAME_MAX];
	int rc = catalog_normalize(name, len, key, sizeof(key));
	size_t lo = 0, hi;

	if (rc < 0)
		goto fail;
	hi = cat->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(key, cat->entries[mid].name);

		if (c == 0)
			return &cat->entries[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	rc = -SB_DROP_TFTP_NOT_FOUND;
fail:
	if (err)
		*err = rc;
	return NULL;
}
