/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * config_share.h - which parts of the config are fleet-wide in cluster mode, and how the
 * shared document of etcd (PREFIX "config") meets a server's own config (docs/SCALE-OUT.md,
 * "Shared configuration"). Pure: jansson and the config parser, no I/O, no daemon.
 *
 * The shared document is a JSON object holding only shared sections of the config file:
 *   "dhcp"          every field but "reservations" (shared one key each, reservations/)
 *   "tftp"          every field but "mtu" (the server's own link)
 *   "udp_checksum", "syslog"
 * Every other field is the server's own (interface, server_ip, queues, ipv6_ra, guard, http,
 * metrics, control, images (shared one key each, images/), tftp_root, cluster...). A section
 * the document leaves out means that section's defaults (the document replaces all shared
 * sections at once, it is not a patch).
 */
#ifndef SB_CONFIG_SHARE_H
#define SB_CONFIG_SHARE_H

#include <stdbool.h>
#include <stddef.h>

#include "sbcfg.h"

/* The top-level keys that are shared, and the fields inside them that are not. */
extern const char *const config_share_keys[];  /* NULL-terminated */
extern const char *const config_share_local[]; /* "dhcp.reservations", "tftp.mtu"; NULL-ended */

/*
 * The shared sections of cfg as a canonical JSON document (sorted keys, compact; free()).
 * NULL when out of memory. Two configs have the same shared sections iff their documents are
 * the same string.
 */
char *config_share_split(const struct sbcfg *cfg);

/*
 * Check a shared document's shape (len bytes, no NUL needed): a JSON object whose keys are
 * all shared, without the fields that stay local. 0, or -EINVAL with the reason in err
 * ("server_ip: local to each server, not shared", "dhcp.reservations: ...").
 */
int config_share_check(const char *doc, size_t len, char *err, size_t errlen);

/*
 * local's config with its shared sections replaced by doc's (dhcp.reservations and tftp.mtu
 * kept from local), parsed and validated by the config file's own parser into *out (free
 * with sbcfg_free()). Images found under tftp_root are left out (as in the config file): the
 * caller expands tftp_root again. 0, or -errno with the parser's message, naming the field,
 * in err ("<etcd config>: dhcp.subnets[0].pool: ..."); *out is then empty.
 */
int config_share_merge(const struct sbcfg *local, const char *doc, size_t len, struct sbcfg *out,
		       char *err, size_t errlen);

/*
 * Which shared top-level sections differ between a's and b's shared documents (both from
 * config_share_split()), written as "dhcp, tftp" into out; false (out "") when none does.
 */
bool config_share_diff(const char *a, const char *b, char *out, size_t cap);

#endif
