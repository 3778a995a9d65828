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

#define AT_ONCE "in effect at once (served by stormboot-control's HTTP server, not the dataplane)"

char *cmd_template_add(struct daemon *d, uint64_t conn_id, json_t *args)
{
	const char *name = api_arg_str(args, "name");
	json_t *text = json_object_get(args, "text");
	char err[512], msg[700];

	if (!name || !json_is_string(text))
		return api_fail("template-add: arguments need \"name\" and \"text\" (strings)");
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
	return api_reply(API_OK, "boot token key rotated",
			 json_pack("{s:I, s:I}", "key_id", (json_int_t)d->http->keys.cur_id,
				   "previous_key_id", (json_int_t)d->http->keys.prev_id));
}
