/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * shared_config.h - the fleet-wide sections of the config shared through etcd in cluster mode
 * (docs/SCALE-OUT.md, "Shared configuration"; which sections: config_share.h).
 *
 * One key, PREFIX "config", holds the shared sections as one JSON document. Every server
 * watches it: a new document is merged over the server's own running config (its local
 * sections, reservations and images kept), checked by the config file's own parser and applied
 * through the ordinary change path (the dataplane adopts it, the file is written back). A
 * document this server refuses (a bad field, or one its dataplane cannot take at run time)
 * leaves the running config as it was, is logged with the parser's message naming the field
 * and counted (cluster.shared.config_refused).
 *
 * Who wins: once etcd holds a document, etcd's. At start a server whose file's shared sections
 * differ says which sections and applies etcd's; a server that finds no document pushes its
 * file's (only if still absent: two servers starting at once, the first one's stays).
 * config-reload reads the file's local sections and keeps etcd's shared ones.
 * config-share publishes (this server first, then etcd): the file's shared sections, or a
 * document given as an argument.
 */
#ifndef SB_SHARED_CONFIG_H
#define SB_SHARED_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct daemon;

/* cluster_config_fn: etcd's document (read at start, or watched), arg the daemon. */
void shared_config_on_etcd(void *arg, const char *value, size_t len, int64_t rev, bool present);
/* The config-share command (cluster mode): NULL (the reply comes later) or a reply. */
char *shared_config_share(struct daemon *d, uint64_t conn, json_t *args);
/* Add {"config_revision", "config_applied", "config_refused", "config_pushed"} to shared. */
void shared_config_status(const struct daemon *d, json_t *shared);

#endif
