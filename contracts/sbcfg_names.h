/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sbcfg_names.h - private to the config module in contracts/: the JSON names of the config's
 * enums, the address formatters and the JSON type names, shared by the parser (sbcfg_json.c,
 * sbcfg_access.c) and the emitter (sbcfg_emit.c).
 */
#ifndef SB_SBCFG_NAMES_H
#define SB_SBCFG_NAMES_H

#include <stdbool.h>
#include <stdint.h>

#include "sbcfg.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define SBCFG_N_DHCP_MODES    (SBCFG_DHCP_OFF + 1)
#define SBCFG_N_CSUM_POLICIES (SBCFG_CSUM_VERIFY + 1)
#define SBCFG_N_DHCP_DSTS     (SBCFG_DHCP_DST_SERVER + 1)
#define SBCFG_N_DURABILITY    (SBCFG_DURABLE_AVAILABLE + 1)

extern const char *const sbcfg_mode_names[SBCFG_N_DHCP_MODES];	  /* "full", ... */
extern const char *const sbcfg_csum_names[SBCFG_N_CSUM_POLICIES]; /* "accept", "verify" */
extern const char *const sbcfg_arch_keys[SBCFG_ARCH__COUNT];	  /* "bios", "uefi_x64", ... */
extern const char *const sbcfg_dhcp_dst_names[SBCFG_N_DHCP_DSTS]; /* "any", "server" */
extern const char *const sbcfg_durability_names[SBCFG_N_DURABILITY]; /* "strict", "available" */

/* "an object", "a string", ...: a JSON value's type, for error messages. */
struct json_t;
const char *sbcfg_json_type_name(const struct json_t *v);

/* "a.b.c.d" of a host-order address into buf. */
const char *sbcfg_ip_fmt(uint32_t ip, char buf[16]);
/* "aa:bb:cc:dd:ee:ff" into buf. */
const char *sbcfg_mac_fmt(const uint8_t mac[6], char buf[18]);
bool sbcfg_mac_is_zero(const uint8_t mac[6]);
/* "network/prefix" of a subnet into buf. */
const char *sbcfg_cidr_fmt(const struct sbcfg_subnet *s, char buf[20]);
/* Does the subnet hand out addresses (a pool), or only serve reservations / relays? */
bool sbcfg_has_pool(const struct sbcfg_subnet *s);

/* sbcfg_guard.c: "ipv6_ra" and "guard" on the struct (the parser is in sbcfg_json.c). */
struct json_t;
/* The rules of "ipv6_ra" and "guard" (duplicates, multicast MACs...); "path: reason" in msg
 * (SBCFG_ERR_MAX bytes). 0 or -EINVAL. */
int sbcfg_guard_validate(const struct sbcfg *cfg, char *msg);
/* The "guard" object, or NULL when everything in it is at its default (or out of memory:
 * *failed). */
struct json_t *sbcfg_guard_json(const struct sbcfg_guard *g, bool *failed);
/* The "ipv6_ra" value: false, true or "auto". */
struct json_t *sbcfg_ra_json(enum sbcfg_ra_mode m);
void sbcfg_guard_free(struct sbcfg_guard *g);

/*
 * sbcfg_access.c: "control", "images_allowed" and images[].sha256 (docs/SECURITY.md). The
 * parsers take the JSON object that holds the field and the JSON path of that object ("" = the
 * top level) for their messages ("path.field: reason" in msg, SBCFG_ERR_MAX bytes).
 */
/* "control" of the top-level object root, if there. 0, -EINVAL or -ENOMEM. */
int sbcfg_control_parse(struct json_t *root, struct sbcfg_control *out, char *msg);
/* "images_allowed" of obj (at path), its patterns appended to cfg->image_patterns. */
int sbcfg_images_allowed_parse(struct json_t *obj, const char *path, struct sbcfg *cfg,
			       struct sbcfg_images_allowed *out, char *msg);
/* "sha256" of an image object (at path) into sha (lower case). */
int sbcfg_sha256_parse(struct json_t *obj, const char *path, char sha[SBCFG_SHA256_HEX], char *msg);
/* The rules of all three on the struct. */
int sbcfg_access_validate(const struct sbcfg *cfg, char *msg);
/* The "control" object, NULL when nothing in it is set (or out of memory: *failed). */
struct json_t *sbcfg_control_json(const struct sbcfg_control *c, bool *failed);
/* The "images_allowed" array of a, NULL when a is not restricted. */
struct json_t *sbcfg_images_allowed_json(const struct sbcfg *cfg,
					 const struct sbcfg_images_allowed *a, bool *failed);
/* The parts of a and b these files own are the same (lists compared in order). */
bool sbcfg_access_equal(const struct sbcfg *a, const struct sbcfg *b);
bool sbcfg_images_allowed_equal(const struct sbcfg *ca, const struct sbcfg_images_allowed *a,
				const struct sbcfg *cb, const struct sbcfg_images_allowed *b);
void sbcfg_access_free(struct sbcfg *cfg);
/* After parsing: the derived cfg->images_restricted. */
void sbcfg_access_finish(struct sbcfg *cfg);

/*
 * sbcfg_cluster.c: "cluster" (docs/SCALE-OUT.md). Parse it from the top-level object root
 * (absent: disabled), validate it against the rest of cfg, emit it (NULL when disabled),
 * compare it.
 */
int sbcfg_cluster_parse(struct json_t *root, struct sbcfg_cluster *out, char *msg);
int sbcfg_cluster_validate(const struct sbcfg *cfg, char *msg);
struct json_t *sbcfg_cluster_json(const struct sbcfg_cluster *c, bool *failed);
bool sbcfg_cluster_equal(const struct sbcfg_cluster *a, const struct sbcfg_cluster *b);

#endif
