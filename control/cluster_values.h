/* SPDX-License-Identifier: BSD-3-Clause */
/* cluster_values.h - pure parts of cluster mode (unit-tested): the values kept in etcd as JSON
 * text, and bucket ownership by rendezvous hashing. */
#ifndef SB_CLUSTER_VALUES_H
#define SB_CLUSTER_VALUES_H

#include <stddef.h>
#include <stdint.h>

#include "chan.h"
#include "cluster_shared.h"
#include "sbcfg.h"

/* An image's value in etcd (JSON text, free()), and back: 0 or -EINVAL (sha256: 64
 * lower-case hex digits, source an absolute path, name not empty). */
char *cluster_image_value(const char *name, const char *sha256, const char *source);
int cluster_image_parse(const char *value, size_t len, char name[SBCFG_NAME_MAX],
			char sha256[SBCFG_SHA256_HEX], char source[SBCFG_PATH_MAX]);

/* A reservation's value in etcd (JSON text, free()), and back: 0 or -EINVAL (patterns
 * checked as the config file's are). */
char *cluster_resv_value(const struct sbcfg_reservation *r, const char (*patterns)[SBCFG_NAME_MAX]);
int cluster_resv_parse(const char *value, size_t len, struct cluster_resv *out);

/*
 * The buckets that server me owns among the live servers ids[0..n): rendezvous hashing,
 * bucket b to the server with the highest weight of (id, b). Bit b of map[b / 8]. Returns
 * how many me owns (0 when me is not in ids).
 */
unsigned cluster_buckets(const char *const *ids, size_t n, const char *me, uint8_t map[32]);

/* A lease's value in etcd (JSON text, free()). */
char *cluster_lease_value(const struct chan_lease *ev, const char *server_id);
/* Parse a value: 0, or -EINVAL. server: at least SBCFG_CLUSTER_ID_MAX bytes. */
int cluster_lease_parse(const char *value, size_t len, uint8_t mac[6], uint64_t *expires,
			uint16_t *subnet, char *server);

#endif
