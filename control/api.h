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
 * commands.c and the CLI in stormbootctl.c.
 */
#ifndef SB_API_H
#define SB_API_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

#define API_REQ_MAX	   (1u << 20)
#define API_DEFAULT_SOCKET "/run/stormboot/control.sock"

enum api_result {
	API_OK = 0,	     /* success */
	API_ERROR = 1,	     /* the command failed; text says why */
	API_UNSUPPORTED = 2, /* unknown command */
	API_EMPTY = 3,	     /* success, nothing to show (no leases, no such lease) */
};

/*
 * Every operator command, once: X(id, "name", "help"). The CLI's help and the API's "help"
 * come from here (api_commands); the daemon's dispatch table (commands.c) pairs each entry
 * with its handler cmd_<id>, so a command without a handler does not link.
 */
#define API_COMMANDS(X)                                                                            \
	X(status, "status", "daemon, dataplane and lease store state")                             \
	X(config_get, "config-get", "the running configuration")                                   \
	X(config_test, "config-test",                                                              \
	  "validate a config: arguments {\"config\": {...}} or {\"path\": \"...\"}")               \
	X(config_reload, "config-reload",                                                          \
	  "re-read the config file; a bad file keeps the running config")                          \
	X(lease_list, "lease-list", "every durable lease")                                         \
	X(lease_get, "lease-get", "one lease: {\"mac\": \"..\"} or {\"ip\": \"..\"}")              \
	X(lease_release, "lease-release", "free a lease: {\"mac\": \"..\"} or {\"ip\": \"..\"}")   \
	X(reservation_add, "reservation-add",                                                      \
	  "{\"mac\", \"ip\"?, \"hostname\"?, \"bootfile\"?, \"ipxe_script\"?}")                    \
	X(reservation_del, "reservation-del", "{\"mac\": \"..\"}")                                 \
	X(reservation_list, "reservation-list", "every reservation")                               \
	X(image_add, "image-add",                                                                  \
	  "{\"name\", \"path\", \"sha256\"?}: a file under control.images_dirs; size and SHA-256 " \
	  "computed (and checked against sha256)")                                                 \
	X(image_del, "image-del", "{\"name\": \"..\"}")                                            \
	X(image_list, "image-list", "every image with path, size and SHA-256")                     \
	X(stats, "stats", "dataplane counters (drop reasons) and XDP verdict counters")            \
	X(latency, "latency", "per-packet latency percentiles from the dataplane")                 \
	X(sessions, "sessions", "active TFTP transfers in the dataplane")                          \
	X(template_add, "template-add", "{\"name\", \"text\"}: add or replace an iPXE template")   \
	X(template_del, "template-del", "{\"name\": \"..\"}")                                      \
	X(template_list, "template-list", "every iPXE template with its size")                     \
	X(template_get, "template-get", "{\"name\": \"..\"}: the template's text")                 \
	X(template_render, "template-render",                                                      \
	  "{\"name\", \"mac\"?, \"ip\"?, \"arch\"?}: what a client would get")                     \
	X(http_status, "http-status", "HTTP boot server: address, counters, templates")            \
	X(guard_show, "guard-show", "XDP guard in force: lists, rates, drop counters")             \
	X(guard_deny_add, "guard-deny-add", "{\"mac\"}: drop DHCP/PXE/TFTP from it in XDP")        \
	X(guard_deny_del, "guard-deny-del", "{\"mac\"}: off the deny list")                        \
	X(guard_deny_list, "guard-deny-list", "the deny list with drops per MAC")                  \
	X(guard_allow_add, "guard-allow-add", "{\"mac\"}: onto the allow list")                    \
	X(guard_allow_del, "guard-allow-del", "{\"mac\"}: off the allow list")                     \
	X(guard_allow_list, "guard-allow-list", "the allow list")                                  \
	X(guard_allow_enforce, "guard-allow-enforce",                                              \
	  "{\"on\": true|false}: only allow-listed MACs get through, or every MAC")                \
	X(guard_rate_set, "guard-rate-set",                                                        \
	  "{\"kind\": \"dhcp\"|\"tftp\", \"per_second\", \"burst\"}: per-source limit, 0 0 = "     \
	  "none")                                                                                  \
	X(token_key_rotate, "token-key-rotate",                                                    \
	  "a new boot-token key; tokens of the one before stay valid until the next rotation")     \
	X(help, "help", "this list")                                                               \
	X(trace, "trace",                                                                          \
	  "{\"mac\", \"after\"?}: the client's boot timeline (steps after seq \"after\")")         \
	X(clients, "clients",                                                                      \
	  "{\"state\"?, \"sort\"?: last|first|mac|state|steps, \"limit\"?}: clients seen, their "  \
	  "last step and state, counts per state")                                                \
	X(config_share, "config-share",                                                            \
	  "{\"path\"?|\"config\"?}: publish the shared sections (dhcp, tftp, udp_checksum, "        \
	  "syslog) of this server's config file (or of path, or the document config) to every "    \
	  "server through etcd (cluster mode)")

/* The commands' ids, in table order: API_CMD_status, API_CMD_config_get, ... */
/* clang-format off */
enum api_command {
#define API_COMMAND_ID(id, name, help) API_CMD_##id,
	API_COMMANDS(API_COMMAND_ID)
#undef API_COMMAND_ID
	API_CMD__COUNT
};
/* clang-format on */

/* One operator command: its name and a one-line description (for "help" and docs). */
struct api_cmd_desc {
	const char *name;
	const char *help;
};

/* The table of commands, indexed by enum api_command, ended by {NULL, NULL}. */
extern const struct api_cmd_desc api_commands[API_CMD__COUNT + 1];

/* The id of command name, or -1 when there is no such command. */
int api_command_find(const char *name);

/* true if name is in api_commands. */
bool api_command_known(const char *name);

/*
 * Mutating commands take {"wait": false} to answer as soon as the change was sent to the
 * dataplane instead of when the dataplane adopted it. 1 wait, 0 do not, -EINVAL when
 * "wait" is not a boolean (the reason in err).
 */
int api_arg_wait(json_t *args, char *err, size_t errlen);

/* The string argument key of args, or NULL when absent or not a string. */
const char *api_arg_str(json_t *args, const char *key);

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
int api_parse_request(const char *buf, size_t len, json_t **root, const char **cmd, json_t **args,
		      char *err, size_t errlen);

/*
 * Handle one framed request (as cut by api_frame): a malformed or oversized request gets an
 * API_ERROR reply line, an unknown command API_UNSUPPORTED; a known one goes to
 * fn(ctx, cmd, args), whose return value (a reply line, or NULL when it will answer later)
 * is returned. The reply line is the caller's to free.
 */
typedef char *api_dispatch_fn(void *ctx, enum api_command cmd, json_t *args);
char *api_handle(const char *buf, size_t len, api_dispatch_fn *fn, void *ctx);

/* Build a reply line ("...\n", caller frees); args is stolen (may be NULL). NULL on OOM. */
char *api_reply(int result, const char *text, json_t *args);

/* An API_ERROR reply line whose text is printf(fmt, ...) (at most 1200 bytes). */
char *api_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A request line for command with args (stolen, may be NULL); caller frees. */
char *api_request(const char *command, json_t *args);

#endif
