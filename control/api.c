/* SPDX-License-Identifier: BSD-3-Clause */
/* api.c - operator API framing, request parsing and reply building. */
#include "api.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct api_cmd_desc api_commands[API_CMD__COUNT + 1] = {
#define API_COMMAND_DESC(id, name, help) [API_CMD_##id] = {name, help},
	API_COMMANDS(API_COMMAND_DESC)
#undef API_COMMAND_DESC
		[API_CMD__COUNT] = {NULL, NULL},
};

int api_command_find(const char *name)
{
	for (int i = 0; i < API_CMD__COUNT; i++)
		if (strcmp(api_commands[i].name, name) == 0)
			return i;
	return -1;
}

bool api_command_known(const char *name)
{
	return api_command_find(name) >= 0;
}

int api_arg_wait(json_t *args, char *err, size_t errlen)
{
	json_t *w = json_object_get(args, "wait");

	if (!w)
		return 1;
	if (!json_is_boolean(w)) {
		snprintf(err, errlen, "\"wait\" must be true or false");
		return -EINVAL;
	}
	return json_is_true(w);
}

const char *api_arg_str(json_t *args, const char *key)
{
	return json_string_value(json_object_get(args, key));
}

ssize_t api_frame(const char *buf, size_t len, bool eof)
{
	size_t scan = len < API_REQ_MAX ? len : API_REQ_MAX;
	const char *nl = memchr(buf, '\n', scan);

	if (nl)
		return nl - buf + 1;
	if (len >= API_REQ_MAX)
		return -EMSGSIZE;
	if (eof && len)
		return (ssize_t)len;
	return 0;
}

int api_parse_request(const char *buf, size_t len, json_t **root, const char **cmd, json_t **args,
		      char *err, size_t errlen)
{
	json_error_t je;
	json_t *c, *a;

	*root = NULL;
	if (len > API_REQ_MAX) {
		snprintf(err, errlen, "request of %zu bytes is larger than %u", len, API_REQ_MAX);
		return -EMSGSIZE;
	}
	json_t *r = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (!r) {
		snprintf(err, errlen, "malformed request: %s (line %d column %d)", je.text, je.line,
			 je.column);
		return -EINVAL;
	}
	if (!json_is_object(r)) {
		snprintf(err, errlen, "malformed request: not a JSON object");
		goto bad;
	}
	c = json_object_get(r, "command");
	if (!json_is_string(c) || json_string_length(c) == 0) {
		snprintf(err, errlen, "malformed request: no \"command\" string");
		goto bad;
	}
	a = json_object_get(r, "arguments");
	if (a && json_is_null(a))
		a = NULL;
	if (a && !json_is_object(a)) {
		snprintf(err, errlen, "malformed request: \"arguments\" is not an object");
		goto bad;
	}
	if (!a) {
		a = json_object();
		if (!a || json_object_set_new(r, "arguments", a) < 0) {
			snprintf(err, errlen, "out of memory");
			goto bad;
		}
	}
	*root = r;
	*cmd = json_string_value(c);
	*args = a;
	return 0;
bad:
	json_decref(r);
	return -EINVAL;
}

char *api_handle(const char *buf, size_t len, api_dispatch_fn *fn, void *ctx)
{
	char err[512], *reply;
	const char *cmd;
	json_t *root, *args;

	if (api_parse_request(buf, len, &root, &cmd, &args, err, sizeof(err)) < 0)
		return api_reply(API_ERROR, err, NULL);
	int id = api_command_find(cmd);
	if (id < 0) {
		snprintf(err, sizeof(err),
			 "unknown command \"%.64s\" (\"help\" lists the commands)", cmd);
		json_decref(root);
		return api_reply(API_UNSUPPORTED, err, NULL);
	}
	reply = fn(ctx, (enum api_command)id, args);
	json_decref(root);
	return reply;
}

static char *dump_line(json_t *o)
{
	char *s = o ? json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
	char *line = NULL;

	if (s) {
		size_t n = strlen(s);
		line = malloc(n + 2);
		if (line) {
			memcpy(line, s, n);
			line[n] = '\n';
			line[n + 1] = '\0';
		}
		free(s);
	}
	json_decref(o);
	return line;
}

char *api_reply(int result, const char *text, json_t *args)
{
	json_t *o = json_object();

	if (o) {
		json_object_set_new(o, "result", json_integer(result));
		json_t *t = json_string(text ? text : "");
		json_object_set_new(o, "text", t ? t : json_string("(message is not UTF-8)"));
		if (args)
			json_object_set(o, "arguments", args);
	}
	json_decref(args);
	return dump_line(o);
}

char *api_fail(const char *fmt, ...)
{
	char msg[1200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return api_reply(API_ERROR, msg, NULL);
}

char *api_request(const char *command, json_t *args)
{
	json_t *o = json_object();

	if (o) {
		json_object_set_new(o, "command", json_string(command));
		if (args)
			json_object_set(o, "arguments", args);
	}
	json_decref(args);
	return dump_line(o);
}
