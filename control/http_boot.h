/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * http_boot.h - HTTP boot in stormboot-control (docs/HTTP.md): the HTTP server (http.h) bound
 * to the running config's "http" section, serving
 *   GET/HEAD /NAME          the image NAME of the registry (config "images"), with sendfile;
 *   GET/HEAD /ipxe/NAME     the iPXE template NAME rendered for the client (tmpl.h), the
 *                           client being ?mac=MAC or else the holder of the lease of the
 *                           connection's source address;
 * and the template store: one file per template under STATE_DIR/templates/, loaded at start,
 * changed through the API (cmd_template.c).
 */
#ifndef SB_HTTP_BOOT_H
#define SB_HTTP_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http.h"
#include "ipxe_template.h"

struct daemon;

struct http_tmpl {
	char name[IPXE_TEMPLATE_NAME_MAX + 1];
	char *text;
	size_t len;
};

struct http_boot {
	struct http_srv *srv;
	char dir[4200]; /* STATE_DIR/templates */
	struct http_tmpl *t;
	size_t n, cap;
	uint64_t rendered;  /* templates rendered over HTTP */
	uint64_t anonymous; /* ... for a client that could not be identified (no mac, no lease) */
	char listen_err[300];
};

/* What a template is rendered for. */
struct http_client {
	uint8_t mac[6];
	bool have_mac;
	uint32_t ip;	    /* host order, 0 = unknown */
	uint32_t server_ip; /* the address the client reached us on */
	uint16_t server_port;
	char arch[33]; /* "" = unknown */
};

/*
 * Load the templates and listen on the config's http.listen (nothing when it has none).
 * Call once the loop exists. 0, or -errno with the reason in err.
 */
int http_boot_start(struct daemon *d, char *err, size_t errlen);
/* After a config change: follow http.listen and its limits (errors are logged). */
void http_boot_apply(struct daemon *d);
/* Close everything (d->http may be NULL). */
void http_boot_stop(struct daemon *d);

/* Add or replace a template (written to disk first). 0, or -errno with the reason in err. */
int http_boot_template_set(struct daemon *d, const char *name, const char *text, size_t len,
			   char *err, size_t errlen);
/* Remove a template: -ENOENT when there is none. */
int http_boot_template_del(struct daemon *d, const char *name, char *err, size_t errlen);
/* The template called name, or NULL. */
const struct http_tmpl *http_boot_template_find(const struct daemon *d, const char *name);

/*
 * Render template t for client c: the variables mac, ip, hostname (the MAC's reservation),
 * arch, server, base_url. Returns a malloc'd NUL-terminated text (length in *len) or NULL.
 */
char *http_boot_render(const struct daemon *d, const struct http_tmpl *t, const struct http_client *c,
		       size_t *len);

/* ---- cmd_template.c ---- */
/*
 * The operator commands template-add {"name", "text"}, template-del {"name"}, template-list,
 * template-get {"name"}, template-render {"name", "mac"?, "ip"?, "arch"?} and http-status.
 * Returns the reply line (api_reply); API_UNSUPPORTED for any other command.
 */
struct json_t;
char *cmd_template(struct daemon *d, const char *cmd, struct json_t *args);

#endif
