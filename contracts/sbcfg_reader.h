/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sbcfg_reader.h - private to the config module in contracts/: the tools its parsers share
 * (sbcfg_json.c reads the config's sections with them, sbcfg_validate.c checks the struct).
 *
 * Values: strict syntax, -1 (or a reason string) when a value is not what it claims to be.
 * Reading: a struct pctx carries the JSON path of the value being read ("dhcp.subnets[1].pool");
 * every sbr_get_*() pushes its key, checks type and range, and on error writes
 * "path: reason" into c->msg (SBCFG_ERR_MAX bytes) and returns -EINVAL. An absent optional
 * member leaves the destination as it was (its default).
 */
#ifndef SB_SBCFG_READER_H
#define SB_SBCFG_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "sbcfg.h"

/* ---- values ---- */

/* Strict dotted quad: four decimal parts 0..255, no leading zeros, nothing else. 0 or -1. */
int sbr_ipv4_parse(const char *s, uint32_t *out);
/* "a.b.c.d/len" with len 0..32 (no leading zeros). 0 or -1. */
int sbr_cidr_parse(const char *s, uint32_t *net, unsigned *len);
uint32_t sbr_prefix_mask(unsigned len);
/* Length of a contiguous netmask, -1 if it is not one. */
int sbr_mask_len(uint32_t mask);
/* The value of a hex digit (either case), -1 if c is not one. */
int sbr_hexval(char c);
/* "52:54:00:12:34:56", hex digits in either case. 0 or -1. */
int sbr_mac_parse(const char *s, uint8_t mac[6]);
/* A unicast host address: not 0/8, 127/8, multicast, class E or broadcast. */
bool sbr_ip_is_unicast(uint32_t ip);
/* The problem of a string, or NULL: NUL inside cap, no control bytes. */
const char *sbr_str_problem(const char *s, size_t cap);
/* RFC 1123 2.1 host name (empty is fine). */
const char *sbr_hostname_problem(const char *s);
/* An image name as clients ask for it after normalisation (no leading '/', no "..", ...). */
const char *sbr_image_name_problem(const char *s);
/* Copy s for an error message: control bytes become '?', long strings end in "...". */
const char *sbr_printable(const char *s, char *buf, size_t cap);
/* Levenshtein distance of two short strings (1000 past 64 bytes): "did you mean". */
size_t sbr_edit_distance(const char *a, const char *b);
/* Format into msg (SBCFG_ERR_MAX bytes); returns -EINVAL. */
int sbr_vfail(char *msg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- reading JSON with a path ---- */

struct pctx {
	char path[512]; /* JSON path of the value being read */
	size_t plen;
	char *msg;	   /* SBCFG_ERR_MAX bytes */
	struct sbcfg *cfg; /* being filled (images_allowed patterns go to its pool) */
};

#define SBR_GET_UINT(c, obj, key, lo, hi, field)                                                   \
	({                                                                                         \
		long long _x = (field);                                                            \
		int _rc = sbr_get_uint(c, obj, key, lo, hi, &_x);                                  \
		(field) = (__typeof__(field))_x;                                                   \
		_rc;                                                                               \
	})

/* The path grows by ".key" or "[i]"; each returns the old length for sbr_pop(). */
size_t sbr_push_key(struct pctx *c, const char *key);
size_t sbr_push_index(struct pctx *c, size_t i);
void sbr_pop(struct pctx *c, size_t old);
/* "path: reason" into c->msg; returns -EINVAL. */
int sbr_perr(struct pctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Refuse keys that are not in known (NULL-terminated), with a "did you mean". */
int sbr_check_keys(struct pctx *c, json_t *obj, const char *const *known);
/* Member key of obj, or NULL; *rc = error if it is missing and required. */
json_t *sbr_member(struct pctx *c, json_t *obj, const char *key, bool required, int *rc);
/* v is of type t (JSON_TRUE: a boolean); what names it in the message ("a string"). */
int sbr_want_type(struct pctx *c, json_t *v, json_type t, const char *what);
/* The value at the current path as a string that fits cap bytes with its NUL. */
int sbr_str_value(struct pctx *c, json_t *v, char *dst, size_t cap);
/* An IPv4 address string; 0.0.0.0 is refused (an absent field means "none"). */
int sbr_ip_value(struct pctx *c, json_t *v, uint32_t *dst);
int sbr_get_str(struct pctx *c, json_t *obj, const char *key, char *dst, size_t cap, bool req);
int sbr_get_ip(struct pctx *c, json_t *obj, const char *key, uint32_t *dst, bool req);
/* zero_ok: "00:00:00:00:00:00" is a valid value (server_mac: use the port's). */
int sbr_get_mac(struct pctx *c, json_t *obj, const char *key, uint8_t mac[6], bool req,
		bool zero_ok);
/* An integer in lo..hi (SBR_GET_UINT: into a field of any integer type). */
int sbr_get_uint(struct pctx *c, json_t *obj, const char *key, long long lo, long long hi,
		 long long *dst);
int sbr_get_bool(struct pctx *c, json_t *obj, const char *key, bool *out);
/* One of n names; *dst = its index. */
int sbr_get_enum(struct pctx *c, json_t *obj, const char *key, const char *const *names, size_t n,
		 int *dst);
/* Member key as an object (or an array of at most max entries), NULL if absent or on error. */
json_t *sbr_get_obj(struct pctx *c, json_t *obj, const char *key, bool req, int *rc);
json_t *sbr_get_array(struct pctx *c, json_t *obj, const char *key, size_t max, int *rc);

#endif
