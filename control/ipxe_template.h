/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ipxe_template.h - per-client iPXE script templates (docs/HTTP.md): names, checks and rendering.
 * Pure: no I/O, no allocation.
 *
 * Syntax: ${NAME} is replaced by the value of variable NAME when the caller defines it (mac,
 * ip, hostname, arch, server, base_url). Everything else is copied unchanged, in particular
 * iPXE's own settings (${net0/mac}, ${filename}, ${buildarch}...), which iPXE expands itself
 * when it runs the script. "$${" is written as "${": the escape for a stormboot variable name
 * that must reach iPXE unexpanded ("$${mac}" -> "${mac}").
 */
#ifndef SB_TMPL_H
#define SB_TMPL_H

#include <stddef.h>
#include <sys/types.h>

#define IPXE_TEMPLATE_NAME_MAX 127	   /* bytes of a template name */
#define IPXE_TEMPLATE_TEXT_MAX (64u << 10) /* bytes of a template */
#define IPXE_TEMPLATE_VAR_MAX  200	   /* bytes of a variable name (url:IMAGE) */

struct ipxe_template_var {
	const char *name;
	const char *value;
};

/*
 * Render t[0..len) with vars[0..n) into out[0..cap), NUL-terminated when cap > 0. Returns the
 * length of the whole rendering like snprintf: a result >= cap means out was cut.
 */
size_t ipxe_template_render(const char *t, size_t len, const struct ipxe_template_var *vars,
			    size_t n, char *out, size_t cap);

/* A template name: 1..IPXE_TEMPLATE_NAME_MAX bytes of [A-Za-z0-9._-], not starting with '.'.
 * 0/-EINVAL. */
int ipxe_template_name_check(const char *name);

/*
 * A template text: 1..IPXE_TEMPLATE_TEXT_MAX bytes, no NUL, and no control character other than
 * tab, CR and LF (iPXE reads lines of text). 0, -EINVAL, or -EFBIG.
 */
int ipxe_template_text_check(const char *text, size_t len);

#endif
