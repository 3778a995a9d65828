/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * api.h - the operator API's wire format, in the style of Kea's control socket.
 *
 * Framing: newline-delimited JSON on a Unix stream socket. A request is one JSON object
 * {"command": "...", "arguments": {...}} ended by '\n' (or by the end of the client's
 * stream); the reply is one JSON object {"result": N, "text": "...", "arguments": {...}}
 * ended by '\n'. A connection may carry many requests; replies come in request order.
 * Requests are capped at API_REQ_MAX bytes. Result codes are Kea's (enum api_result).
 *
 * Everything here is pure (no I/O) so it can be unit-tested; the daemon's handlers are in
 * cmd.c and the CLI in stormbootctl.c.
 */
#ifndef SB_API_H
#define SB_API_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

#define API_REQ_MAX	    (1u << 20)
#define API_DEFAULT_SOCKET "/run/stormboot/control.sock"

enum api_result {
	API_OK = 0,	     /* success */
	API_ERROR = 1,	     /* the command failed; text says why */
	API_UNSUPPORTED = 2, /* unknown command */
	API_EMPTY = 3,	     /* success, nothing to show (no leases, no such lease) */
};

/* One operator command: its name and a one-line description (for "help" and docs). */
struct api_cmd_desc {
	const char *name;
	const char *help;
};

/* The table of commands, ended by {NULL, NULL}. */
extern const struct api_cmd_desc api_commands[];

/* true if name is in api_commands. */
bool api_command_known(const char *name);

/*
 * Find the end of the first request in buf: returns its length including the '\n', 0 when
 * more bytes are needed, or -EMSGSIZE when API_REQ_MAX bytes came without a newline. At
 * eof a final request without '\n' counts (len returned). Blank lines are requests too
 * (they parse as malformed); leading whitespace is part of the request.
 */
ssize_t api_frame(const char *buf, size_t len, bool eof);

/*
 * Parse one request. On success *cmd points into *root (json_decref(*root) when done) and
 * *args is the "arguments" object (an empty object when absent; owned by *root).
 * On failure returns -EINVAL/-EMSGSIZE with the reason in err and *root NULL: not JSON,
 * not an object, no "command" string, "arguments" not an object, request too large.
 */
int api_parse_request(const char *buf, size_t len, json_t **root, const char **cmd,
		      json_t **args, char *err, size_t errlen);

/*
 * Handle one framed request (as cut by api_frame): a malformed or oversized request gets an
 * API_ERROR reply line, an unknown command API_UNSUPPORTED; a known one goes to
 * fn(ctx, cmd, args), whose return value (a reply line, or NULL when it will answer later)
 * is returned. The reply line is the caller's to free.
 */
typedef char *api_dispatch_fn(void *ctx, const char *cmd, json_t *args);
char *api_handle(const char *buf, size_t len, api_dispatch_fn *fn, void *ctx);

/* Build a reply line ("...\n", caller frees); args is stolen (may be NULL). NULL on OOM. */
char *api_reply(int result, const char *text, json_t *args);

/* A request line for command with args (stolen, may be NULL); caller frees. */
char *api_request(const char *command, json_t *args);

#endif
