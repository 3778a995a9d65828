/* SPDX-License-Identifier: BSD-3-Clause */
/* ipxe_template.c - iPXE script templates (see ipxe_template.h). */
#include "ipxe_template.h"

#include <errno.h>
#include <string.h>

static void put(char *out, size_t cap, size_t *o, const char *s, size_t n)
{
	if (*o < cap) {
		size_t room = cap - 1 - *o; /* keep one byte for the NUL */
		memcpy(out + *o, s, n < room ? n : room);
	}
	*o += n;
}

static const struct ipxe_template_var *find_var(const struct ipxe_template_var *v, size_t n,
						const char *name, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(v[i].name) == len && memcmp(v[i].name, name, len) == 0)
			return &v[i];
	return NULL;
}

size_t ipxe_template_render(const char *t, size_t len, const struct ipxe_template_var *vars,
			    size_t n, char *out, size_t cap)
{
	size_t i = 0, o = 0;

	while (i < len) {
		const char *d = memchr(t + i, '$', len - i);
		size_t lit = d ? (size_t)(d - (t + i)) : len - i;

		put(out, cap, &o, t + i, lit);
		i += lit;
		if (i == len)
			break;
		/* t[i] == '$' */
		if (i + 2 < len && t[i + 1] == '$' && t[i + 2] == '{') {
			put(out, cap, &o, "${", 2); /* escape */
			i += 3;
			continue;
		}
		if (i + 1 < len && t[i + 1] == '{') {
			const char *close = memchr(t + i + 2, '}', len - i - 2);
			if (close) {
				size_t nl = (size_t)(close - (t + i + 2));
				const struct ipxe_template_var *v =
					nl <= IPXE_TEMPLATE_VAR_MAX
						? find_var(vars, n, t + i + 2, nl)
						: NULL;
				if (v) {
					put(out, cap, &o, v->value, strlen(v->value));
					i += nl + 3;
					continue;
				}
			}
		}
		put(out, cap, &o, "$", 1); /* not ours: iPXE's setting or a plain '$' */
		i++;
	}
	if (cap)
		out[o < cap ? o : cap - 1] = '\0';
	return o;
}

int ipxe_template_name_check(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > IPXE_TEMPLATE_NAME_MAX || name[0] == '.')
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return -EINVAL;
	}
	return 0;
}

int ipxe_template_text_check(const char *text, size_t len)
{
	if (len == 0)
		return -EINVAL;
	if (len > IPXE_TEMPLATE_TEXT_MAX)
		return -EFBIG;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if ((c < 0x20 && c != '\t' && c != '\r' && c != '\n') || c == 0x7f)
			return -EINVAL;
	}
	return 0;
}
