/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * commands.h - the operator commands of stormboot-control (reference: docs/CONTROL.md).
 *
 * One table drives them: every entry X(id, "name", "help") of API_COMMANDS (api.h) has its
 * handler cmd_<id>, declared here from that list, so that a command listed without a
 * handler fails to link and a handler with the wrong signature fails to compile. The
 * template and HTTP commands are in commands_template.c, the others in commands.c.
 */
#ifndef SB_COMMANDS_H
#define SB_COMMANDS_H

#include <stdint.h>

#include <jansson.h>

#include "api.h"

struct daemon;

/*
 * The API server's dispatch function (api_server_dispatch_fn); arg is the struct daemon.
 * Returns the reply line, or NULL when the reply comes later (api_server_reply).
 */
char *commands_dispatch(void *arg, uint64_t conn_id, enum api_command cmd, json_t *args);

/*
 * cmd_<id>(d, conn_id, args): command <id> for connection conn_id: a reply line, or NULL
 * when it answers later through api_server_reply(&d->api, conn_id, ...).
 */
#define COMMANDS_HANDLER(id, name, help)                                                           \
	char *cmd_##id(struct daemon *d, uint64_t conn_id, json_t *args);
API_COMMANDS(COMMANDS_HANDLER)
#undef COMMANDS_HANDLER

#endif
