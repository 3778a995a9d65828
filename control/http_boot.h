/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * http_boot.h - HTTP boot in stormboot-control (docs/HTTP.md): the HTTP server (http.h) bound
 * to the running config's "http" section, serving
 *   GET/HEAD /NAME          the image NAME of the registry (config "images"), with sendfile;
 *   GET/HEAD /ipxe/NAME     the iPXE template NAME rendered for the client
 *                           (ipxe_template.h), the client being ?mac=MAC or else the holder
 *                           of the lease of the connection's source address;
 *   GET/HEAD /fwlog?mac=..&step=..&err=..  a firmware failure report (fwlog.h): a step of the
 *                           client's timeline (deps.firmware), 200; 400 bad query, 403 the
 *                           address is leased to another MAC or the MAC is unknown, 429 over
 *                           the rate (FWLOG_RATE/s after FWLOG_BURST), each counted;
 * and the template store: one file per template under STATE_DIR/templates/, loaded at start,
 * changed through the API (commands_template.c). Templates are control's alone: a change is
 * in effect for the next request, the dataplane never sees them.
 *
 * The module owns no daemon state: its owner gives it the loop, the state directory, the
 * lease store, a getter for the running config and a clock.
 */
#ifndef SB_HTTP_BOOT_H
#define SB_HTTP_BOOT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "boot_token.h"
#include "ctl_clock.h"
#include "ctl_log.h"
#include "fwlog.h"
#include "http.h"
#include "ipxe_template.h"
#include "lease_store.h"
#include "running_config.h"
#include "timeline.h"

/* What HTTP boot needs from its owner. */
struct http_boot_deps {
	struct ev_loop *loop;
	const char *state_dir; /* templates live in STATE_DIR/templates */
	const struct lease_store *store;
	/* The running config: images, reservations (hostname), http section. */
	const struct running_config *(*running)(void *arg);
	void *arg;
	struct ctl_clock clock; /* lease expiry, to tell who holds an address */
	/* Each request answered (for the client's boot timeline), may be NULL: arg, the
	 * client's address, the path, the status and the body's bytes. */
	void (*step)(void *arg, uint32_t ip, const char *path, int status, uint64_t bytes);
	/* A firmware report of mac from ip, text for its timeline; leased: ip is leased to mac
	 * now (else the owner accepts it only for a client it knows). 0, or -ENOENT: unknown
	 * client. May be NULL (reports are then refused 403). */
	int (*firmware)(void *arg, const uint8_t mac[6], uint32_t ip, bool leased,
			const char *text);
};

/* HTTP bytes sent per image (whole responses), kept by name across config changes. */
struct http_boot_served {
	char name[SBCFG_NAME_MAX];
	uint64_t bytes, responses;
};
#define HTTP_BOOT_SERVED_MAX 4096 /* image names counted; more are not (served_untracked) */

/* One iPXE template, as stored in STATE_DIR/templates/NAME. */
struct http_boot_template {
	char name[IPXE_TEMPLATE_NAME_MAX + 1];
	char *text;
	size_t len;
};

struct http_boot {
	struct http_boot_deps deps;
	struct http_srv *srv;
	char dir[PATH_MAX + 16]; /* STATE_DIR/templates */
	struct http_boot_template *templates;
	size_t n_templates, cap_templates;
	uint64_t rendered;   /* templates rendered over HTTP */
	uint64_t anonymous;  /* ... for a client that could not be identified (no mac, no lease) */
	uint64_t forbidden;  /* images refused with 403: not in the client's images_allowed */
	uint64_t unverified; /* pinned images refused with 503: the file is not the one checked */
	struct ctl_log_limit forbidden_log, unverified_log, token_log;
	char listen_err[300];
	/* boot tokens (boot_token.h): keys in STATE_DIR/token.keys */
	struct boot_token_keys keys;
	char keys_path[PATH_MAX + 16];
	uint64_t tokens_issued;			      /* put into rendered scripts */
	uint64_t tokens_accepted;		      /* protected images served */
	uint64_t tokens_refused[BOOT_TOKEN__COUNT]; /* 403 by reason (index 0 unused) */
	/* firmware reports (/fwlog) */
	uint64_t fwlog_accepted, fwlog_bad, fwlog_forbidden, fwlog_unknown_client,
		fwlog_rate_limited;
	struct tl_bucket fwlog_bucket;
	struct ctl_log_limit fwlog_log;
	/* bytes per image */
	struct http_boot_served *served;
	size_t n_served, cap_served;
	uint64_t served_untracked; /* responses of images past HTTP_BOOT_SERVED_MAX names */
};

/* What a template is rendered for. */
struct http_client {
	uint8_t mac[6];
	bool have_mac;
	uint32_t ip;	    /* host order, 0 = unknown */
	uint32_t server_ip; /* the address the client reached us on */
	uint16_t server_port;
	bool tls;      /* reached us over HTTPS: base_url is https:// */
	char arch[33]; /* "" = unknown */
};

/*
 * Load the templates and listen on the running config's http.listen (nothing when it has
 * none). 0 with the server in *out, or -errno with the reason in err.
 */
int http_boot_start(struct http_boot **out, const struct http_boot_deps *deps, char *err,
		    size_t errlen);
/* Start serving on the HTTP thread (after the daemon forked). */
void http_boot_run(struct http_boot *h);
/* After a config change: follow http.listen and its limits (errors are logged). */
void http_boot_apply(struct http_boot *h);
/* Close everything (NULL is fine). */
void http_boot_stop(struct http_boot *h);

/* A new token key (the current one stays accepted until the next rotation). 0 or -errno. */
int http_boot_token_rotate(struct http_boot *h, char *err, size_t errlen);

/* Add or replace a template (written to disk first). 0, or -errno with the reason in err. */
int http_boot_template_set(struct http_boot *h, const char *name, const char *text, size_t len,
			   char *err, size_t errlen);
/* Remove a template: -ENOENT when there is none. */
int http_boot_template_del(struct http_boot *h, const char *name, char *err, size_t errlen);
/* The template called name, or NULL. */
const struct http_boot_template *http_boot_template_find(const struct http_boot *h,
							 const char *name);

/*
 * Render template t for client c: the variables mac, ip, hostname (the MAC's reservation),
 * arch, server, base_url, and for each image NAME of the registry url:NAME (base_url/NAME,
 * with ?t=TOKEN, a boot token for c, when the image is protected and c is known) and
 * sha256:NAME (its pinned digest, else the registry's). Returns a malloc'd NUL-terminated
 * text (length in *len) or NULL.
 */
char *http_boot_render(const struct http_boot *h, const struct http_boot_template *t,
		       const struct http_client *c, size_t *len);

/* {"accepted", "bad_request", "forbidden", "unknown_client", "rate_limited"} of /fwlog. */
json_t *http_boot_fwlog_json(const struct http_boot *h);
/* {NAME: {"bytes", "responses"}} of the images sent over HTTP. */
json_t *http_boot_served_json(const struct http_boot *h);

/*
 * The server's route (http_route_fn; arg is the struct http_boot): /ipxe/NAME renders the
 * template NAME, any other path opens the image of that name, else 404.
 */
void http_boot_route(void *arg, const struct http_req *req, const struct http_peer *peer,
		     struct http_body *out);

#endif
