/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * commands_template.c - the operator commands for iPXE templates and the HTTP server
 * (docs/HTTP.md); handlers of the table in commands.h. Templates are served by control's
 * HTTP server alone: a change is in effect for the next request, no dataplane involved.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "ctl_log.h"
#include "daemon.h"
#include "http_boot.h"
#include "ipxe_template.h"

#define AT_ONCE "in effect at once (served by stormboot-control's HTTP server, not the dataplane)"

/* Cluster mode: etcd first (every server's watch stores it), then here, then the answer. */
struct shared_tmpl {
	struct daemon *d;
	char name[256];
	char *text;
	size_t len;
	bool del;
};

static void shared_tmpl_written(void *arg, uint64_t conn, int rc, const char *e)
{
	struct shared_tmpl *s = arg;
	const char *what = s->del ? "template-del" : "template-add";
	char err[512], msg[1400];

	if (rc < 0) {
		api_server_reply(&s->d->api, conn,
				 api_fail("%s: not shared, nothing changed: %s", what, e));
	} else if (s->del ? (rc = http_boot_template_del(s->d->http, s->name, err, sizeof(err))) <
					     0 &&
				    rc != -ENOENT
			  : (rc = http_boot_template_set(s->d->http, s->name, s->text, s->len, err,
							 sizeof(err))) < 0) {
		api_server_reply(&s->d->api, conn,
				 api_fail("%s: in etcd, but not here: %s", what, err));
	} else {
		snprintf(msg, sizeof(msg), "template %s %s; shared through etcd, " AT_ONCE "; %s",
			 s->name, s->del ? "deleted" : "stored", e);
		ctl_log(LOG_INFO, "%s", msg);
		api_server_reply(&s->d->api, conn, api_reply(API_OK, msg, NULL));
	}
	free(s->text);
	free(s);
}

static char *shared_tmpl(struct daemon *d, uint64_t conn, const char *name, const char *text,
			 size_t len, bool del)
{
	struct shared_tmpl *s = calloc(1, sizeof(*s));

	if (!s || strlen(name) >= sizeof(s->name) || (!del && !(s->text = malloc(len + 1)))) {
		free(s);
		return api_fail("template: name too long, or out of memory");
	}
	s->d = d;
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->del = del;
	if (!del) {
		memcpy(s->text, text, len);
		s->text[len] = '\0';
		s->len = len;
	}
	if (cluster_tmpl_write(d->cluster, name, text, len, del, shared_tmpl_written, s, conn) < 0) {
		free(s->text);
		free(s);
		return api_fail("template: out of memory");
	}
	return NULL; /* shared_tmpl_written answers */
}

char *cmd_template_add(struct daemon *d, uint64_t conn_id, json_t *args)
{
	const char *name = api_arg_str(args, "name");
	json_t *text = json_object_get(args, "text");
	char err[512], msg[700];

	if (!name || !json_is_string(text))
		return api_fail("template-add: arguments need \"name\" and \"text\" (strings)");
	if (d->cluster) {
		/* the name and text are checked here first: etcd gets only what would be stored */
		if (ipxe_template_name_check(name) < 0 ||
		    ipxe_template_text_check(json_string_value(text), json_string_length(text)) <
			    0)
			return api_fail("template-add: a name of 1..%d characters of A-Z a-z 0-9 "
					". _ - and a text of at most 64 KiB without control "
					"characters other than tab, CR, LF",
					IPXE_TEMPLATE_NAME_MAX);
		return shared_tmpl(d, conn_id, name, json_string_value(text),
				   json_string_length(text), false);
	}
	bool replaced = http_boot_template_find(d->http, name) != NULL;
	if (http_boot_template_set(d->http, name, json_string_value(text), json_string_length(text),
				   err, sizeof(err)) < 0)
		return api_fail("template-add: %s", err);
	snprintf(msg, sizeof(msg), "template %s %s (%zu bytes); " AT_ONCE, name,
		 replaced ? "replaced" : "added", json_string_length(text));
	ctl_log(LOG_INFO, "%s", msg);
	return api_reply(API_OK, msg, NULL);
}

char *cmd_template_del(struct daemon *d, uint64_t conn_id, json_t *args)
{
	const char *name = api_arg_str(args, "name");
	char err[512], msg[200];

	if (!name)
		return api_fail("template-del: arguments need \"name\"");
	if (d->cluster) {
		if (!http_boot_template_find(d->http, name))
			return api_reply(API_EMPTY, "no such template", NULL);
		return shared_tmpl(d, conn_id, name, NULL, 0, true);
	}
	int rc = http_boot_template_del(d->http, name, err, sizeof(err));
	if (rc == -ENOENT)
		return api_reply(API_EMPTY, err, NULL);
	if (rc < 0)
		return api_fail("template-del: %s", err);
	snprintf(msg, sizeof(msg), "template %s deleted; " AT_ONCE, name);
	ctl_log(LOG_INFO, "%s", msg);
	return api_reply(API_OK, msg, NULL);
}

char *cmd_template_list(struct daemon *d, uint64_t conn_id, json_t *args)
{
	const struct http_boot *h = d->http;
	json_t *a = json_array();
	char t[64];

	for (size_t i = 0; i < h->n_templates; i++)
		json_array_append_new(a, json_pack("{s:s, s:I}", "name", h->templates[i].name,
						   "size", (json_int_t)h->templates[i].len));
	snprintf(t, sizeof(t), "%zu template%s", h->n_templates, h->n_templates == 1 ? "" : "s");
	return api_reply(h->n_templates ? API_OK : API_EMPTY, t,
			 json_pack("{s:o}", "templates", a));
}

char *cmd_template_get(struct daemon *d, uint64_t conn_id, json_t *args)
{
	const char *name = api_arg_str(args, "name");
	const struct http_boot_template *t;

	if (!name)
		return api_fail("template-get: arguments need \"name\"");
	if (!(t = http_boot_template_find(d->http, name)))
		return api_reply(API_EMPTY, "no such template", NULL);
	return api_reply(API_OK, name,
			 json_pack("{s:s, s:s%}", "name", t->name, "text", t->text, t->len));
}

/* Preview what a client would get: the same rendering as GET /ipxe/NAME. */
char *cmd_template_render(struct daemon *d, uint64_t conn_id, json_t *args)
{
	const char *name = api_arg_str(args, "name"), *mac = api_arg_str(args, "mac");
	const char *ip = api_arg_str(args, "ip"), *arch = api_arg_str(args, "arch");
	const struct sbcfg_http *hc = &d->cur->cfg.http;
	struct http_client c = {.server_ip = hc->listen_ip ? hc->listen_ip : d->cur->cfg.server_ip,
				.server_port = hc->port};
	const struct http_boot_template *t;
	size_t len;

	if (!name)
		return api_fail("template-render: arguments need \"name\"");
	if (!(t = http_boot_template_find(d->http, name)))
		return api_reply(API_EMPTY, "no such template", NULL);
	if (mac) {
		if (running_config_parse_mac(mac, c.mac) < 0)
			return api_fail("template-render: \"mac\": \"%s\" is not a MAC address",
					mac);
		c.have_mac = true;
	}
	if (ip && running_config_parse_ip(ip, &c.ip) < 0)
		return api_fail("template-render: \"ip\": \"%s\" is not an IPv4 address", ip);
	if (arch)
		snprintf(c.arch, sizeof(c.arch), "%s", arch);
	char *out = http_boot_render(d->http, t, &c, &len);
	if (!out)
		return api_fail("template-render: out of memory");
	json_t *a = json_pack("{s:s, s:s%}", "name", t->name, "text", out, len);
	free(out);
	return api_reply(API_OK, "rendered", a);
}

char *cmd_http_status(struct daemon *d, uint64_t conn_id, json_t *args)
{
	const struct http_boot *h = d->http;
	const struct sbcfg_http *c = &d->cur->cfg.http;
	struct http_stats s;
	char ip[16], listen[32] = "";

	http_srv_get_stats(h->srv, &s);
	if (c->port)
		snprintf(listen, sizeof(listen), "%s:%u", running_config_fmt_ip(c->listen_ip, ip),
			 c->port);
	json_t *cnt = json_pack(
		"{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
		"s:I, s:I, s:I}",
		"accepted", (json_int_t)s.accepted, "active", (json_int_t)s.active, "refused",
		(json_int_t)s.refused, "refused_conn_limit", (json_int_t)s.refused_conn_limit,
		"refused_per_ip", (json_int_t)s.refused_per_ip, "refused_library",
		(json_int_t)s.refused_library, "header_timeouts", (json_int_t)s.header_timeouts,
		"timed_out", (json_int_t)s.timed_out, "aborted", (json_int_t)s.aborted, "requests",
		(json_int_t)s.requests, "status_2xx", (json_int_t)s.status_2xx, "status_4xx",
		(json_int_t)s.status_4xx, "status_5xx", (json_int_t)s.status_5xx, "not_found",
		(json_int_t)s.not_found, "bad_requests", (json_int_t)s.bad_requests, "bytes_sent",
		(json_int_t)s.bytes_sent, "tls_requests", (json_int_t)s.tls_requests,
		"images_forbidden", (json_int_t)h->forbidden, "images_unverified",
		(json_int_t)h->unverified);
	json_t *tok = json_pack("{s:I, s:I, s:I, s:I}", "key_id", (json_int_t)h->keys.cur_id,
				"previous_key_id", (json_int_t)h->keys.prev_id, "issued",
				(json_int_t)h->tokens_issued, "accepted",
				(json_int_t)h->tokens_accepted);
	for (int v = 1; tok && v < BOOT_TOKEN__COUNT; v++) {
		char name[48];
		snprintf(name, sizeof(name), "refused_%s", boot_token_verdict_name(v));
		json_object_set_new(tok, name, json_integer((json_int_t)h->tokens_refused[v]));
	}
	json_t *a = json_pack("{s:s, s:b, s:I, s:b, s:s, s:I, s:I, s:I, s:I, s:o*, s:{s:I, s:I, s:I, s:s}, s:o*}",
			      "listen", listen, "listening", http_srv_port(h->srv) != 0,
			      "https_port", (json_int_t)c->https_port, "https_listening",
			      http_srv_https_port(h->srv) != 0, "error",
			      h->listen_err, "max_connections", (json_int_t)c->max_conns,
			      "max_connections_per_ip", (json_int_t)c->max_per_ip,
			      "idle_timeout_ms", (json_int_t)c->idle_timeout_ms,
			      "header_timeout_ms", (json_int_t)c->header_timeout_ms, "counters",
			      cnt, "templates", "count", (json_int_t)h->n_templates, "rendered",
			      (json_int_t)h->rendered, "anonymous", (json_int_t)h->anonymous,
			      "dir", h->dir, "tokens", tok);
	if (a) {
		json_object_set_new(a, "firmware_reports", http_boot_fwlog_json(h));
		json_object_set_new(a, "images", http_boot_served_json(h));
		json_object_set_new(a, "images_untracked", json_integer((json_int_t)h->served_untracked));
	}
	if (!a)
		return api_fail("http-status: out of memory");
	return api_reply(API_OK,
			 !c->port		 ? "HTTP off (no \"http\" in the config)"
			 : http_srv_port(h->srv) ? "HTTP listening"
						 : "HTTP not listening; see \"error\"",
			 a);
}

char *cmd_token_key_rotate(struct daemon *d, uint64_t conn_id, json_t *args)
{
	char err[300];

	(void)conn_id;
	(void)args;
	if (http_boot_token_rotate(d->http, err, sizeof(err)) < 0)
		return api_fail("token-key-rotate: %s", err);
	dataplane_link_set_token_keys(&d->dp, &d->http->keys);
	return api_reply(API_OK, "boot token key rotated",
			 json_pack("{s:I, s:I}", "key_id", (json_int_t)d->http->keys.cur_id,
				   "previous_key_id", (json_int_t)d->http->keys.prev_id));
}
