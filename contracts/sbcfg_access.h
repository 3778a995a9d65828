/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sbcfg_access.h - who may fetch which image (config "images_allowed", docs/SECURITY.md), as
 * one pure decision shared by the dataplane's TFTP path and control's HTTP server, and the
 * pinned digests of images ("sha256"). No I/O, no allocation, no globals.
 */
#ifndef SB_SBCFG_ACCESS_H
#define SB_SBCFG_ACCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sbcfg.h"

/* Which images_allowed list decided. */
enum sbcfg_image_rule_kind {
	SBCFG_IMAGE_RULE_NONE = 0,    /* no list covers the client: every image */
	SBCFG_IMAGE_RULE_RESERVATION, /* dhcp.reservations[index], by MAC */
	SBCFG_IMAGE_RULE_SUBNET,      /* dhcp.subnets[index], by address */
	SBCFG_IMAGE_RULE_TFTP,	      /* tftp.images_allowed */
};

struct sbcfg_image_rule {
	enum sbcfg_image_rule_kind kind;
	size_t index;
};

/*
 * May the client with MAC mac (NULL: unknown) and IPv4 address ip (host order, 0: unknown)
 * fetch the image called name (its catalog name)? The most specific list decides: the
 * images_allowed of mac's reservation, else that of the subnet that contains ip, else
 * tftp.images_allowed; with none of them every image is allowed. A list allows the names that
 * match one of its patterns (fnmatch(3), flags 0: '*' also matches '/'). rule (may be NULL)
 * gets the list that decided. O(1) when cfg->images_restricted is 0; otherwise a scan of the
 * reservations (only when one of them is restricted) and of the subnets (only when one is).
 */
bool sbcfg_image_allowed(const struct sbcfg *cfg, const uint8_t mac[6], uint32_t ip,
			 const char *name, struct sbcfg_image_rule *rule);

/* "dhcp.reservations[3]", "dhcp.subnets[0]", "tftp" or "none" into buf (64 bytes). */
const char *sbcfg_image_rule_fmt(const struct sbcfg_image_rule *rule, char buf[64]);

/* Set cfg->images_restricted from the lists (after adding one in C). */
void sbcfg_access_refresh(struct sbcfg *cfg);

/* 64 hex digits (either case) into 32 bytes: 0, or -EINVAL. */
int sbcfg_sha256_from_hex(const char *hex, uint8_t out[32]);

#endif
