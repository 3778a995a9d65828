/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sbcfg_guard.c - "ipv6_ra" and the "guard" section on the C struct: the rules that relate
 * entries to each other (duplicates, a MAC on both lists), serialising, comparing, freeing.
 * Parsing is in sbcfg_json.c with the rest of the file; docs/CONFIG.md, "guard".
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sbcfg_json.h"
#include "sbcfg_names.h"
#include "sbcfg_reader.h"

/* "untagged", "100" or "100.200" */
static const char *vlan_fmt(uint32_t v, char buf[16])
{
	if (v == SBCFG_VLAN_UNTAGGED)
		snprintf(buf, 16, "untagged");
	else if ((v & 0xffff) == 0)
		snprintf(buf, 16, "%u", v >> 16);
	else
		snprintf(buf, 16, "%u.%u", v >> 16, v & 0xffff);
	return buf;
}

static bool vlan_ok(uint32_t v)
{
	uint32_t outer = v >> 16, inner = v & 0xffff;

	if (outer == 0)
		return inner == 0;
	return outer <= SBCFG_VLAN_ID_MAX && inner <= SBCFG_VLAN_ID_MAX;
}

static int mac_cmp(const void *a, const void *b)
{
	return memcmp(*(const uint8_t *const *)a, *(const uint8_t *const *)b, 6);
}

/* Multicast, zero and duplicate MACs (found through a sorted copy of pointers: 65536 entries). */
static int mac_list_check(const char *name, uint8_t (*list)[6], size_t n, size_t max, char *m)
{
	const uint8_t **sorted;
	char a[18];

	if (n > max)
		return sbr_vfail(m, "guard.%s: has %zu entries, at most %zu are allowed", name, n,
				 max);
	for (size_t i = 0; i < n; i++) {
		if (list[i][0] & 1)
			return sbr_vfail(m, "guard.%s[%zu]: %s is a multicast address", name, i,
					 sbcfg_mac_fmt(list[i], a));
		if (sbcfg_mac_is_zero(list[i]))
			return sbr_vfail(m, "guard.%s[%zu]: 00:00:00:00:00:00 is not a client MAC",
					 name, i);
	}
	if (n < 2)
		return 0;
	sorted = malloc(n * sizeof(*sorted));
	if (!sorted)
		return sbr_vfail(m, "guard.%s: out of memory", name), -ENOMEM;
	for (size_t i = 0; i < n; i++)
		sorted[i] = list[i];
	qsort(sorted, n, sizeof(*sorted), mac_cmp);
	for (size_t i = 1; i < n; i++) {
		if (memcmp(sorted[i - 1], sorted[i], 6) != 0)
			continue;
		/* Name both entries by their place in the file. */
		size_t first = n, second = n;
		for (size_t j = 0; j < n; j++)
			if (memcmp(list[j], sorted[i], 6) == 0) {
				if (first == n)
					first = j;
				else if (second == n)
					second = j;
			}
		free(sorted);
		return sbr_vfail(m, "guard.%s[%zu]: %s is also guard.%s[%zu]", name, second,
				 sbcfg_mac_fmt(list[first], a), name, first);
	}
	free(sorted);
	return 0;
}

static int rate_check(const char *name, const struct sbcfg_rate *r, char *m)
{
	if (r->per_second == 0 && r->burst == 0)
		return 0;
	if (r->per_second < 1 || r->per_second > SBCFG_RATE_MAX)
		return sbr_vfail(m, "guard.%s.per_second: %u is out of range 1..%u", name,
				 r->per_second, SBCFG_RATE_MAX);
	if (r->burst < 1 || r->burst > SBCFG_RATE_MAX)
		return sbr_vfail(m, "guard.%s.burst: %u is out of range 1..%u", name, r->burst,
				 SBCFG_RATE_MAX);
	return 0;
}

int sbcfg_guard_validate(const struct sbcfg *cfg, char *m)
{
	const struct sbcfg_guard *g = &cfg->guard;
	char a[18], v[16];
	int rc;

	if ((unsigned)cfg->ipv6_ra > SBCFG_RA_AUTO)
		return sbr_vfail(m, "ipv6_ra: invalid value %d", (int)cfg->ipv6_ra);
	if ((unsigned)g->dhcp_dst >= SBCFG_N_DHCP_DSTS)
		return sbr_vfail(m, "guard.dhcp_destination: invalid value %d", (int)g->dhcp_dst);
	if (g->n_vlans > SBCFG_GUARD_VLANS_MAX)
		return sbr_vfail(m, "guard.vlans: has %zu entries, at most %d are allowed",
				 g->n_vlans, SBCFG_GUARD_VLANS_MAX);
	for (size_t i = 0; i < g->n_vlans; i++) {
		if (!vlan_ok(g->vlans[i]))
			return sbr_vfail(m, "guard.vlans[%zu]: 0x%08x is not a VLAN", i,
					 g->vlans[i]);
		for (size_t j = 0; j < i; j++) /* at most 1024 entries */
			if (g->vlans[j] == g->vlans[i])
				return sbr_vfail(m, "guard.vlans[%zu]: %s is also guard.vlans[%zu]",
						 i, vlan_fmt(g->vlans[i], v), j);
	}
	if ((rc = mac_list_check("mac_deny", g->mac_deny, g->n_mac_deny, SBCFG_GUARD_DENY_MAX, m)) <
		    0 ||
	    (rc = mac_list_check("mac_allow", g->mac_allow, g->n_mac_allow, SBCFG_GUARD_ALLOW_MAX,
				 m)) < 0)
		return rc;
	/* A MAC on both lists: the deny list would win, and the allow entry would mislead. */
	for (size_t i = 0; i < g->n_mac_deny; i++)
		for (size_t j = 0; j < g->n_mac_allow; j++) /* deny lists are short */
			if (memcmp(g->mac_deny[i], g->mac_allow[j], 6) == 0)
				return sbr_vfail(
					m,
					"guard.mac_deny[%zu]: %s is also on guard.mac_allow "
					"(guard.mac_allow[%zu])",
					i, sbcfg_mac_fmt(g->mac_deny[i], a), j);
	if ((rc = rate_check("dhcp_rate", &g->dhcp_rate, m)) < 0 ||
	    (rc = rate_check("tftp_rate", &g->tftp_rate, m)) < 0)
		return rc;
	return 0;
}

struct json_t *sbcfg_ra_json(enum sbcfg_ra_mode mode)
{
	if (mode == SBCFG_RA_AUTO)
		return json_string("auto");
	return json_boolean(mode == SBCFG_RA_ON);
}

static void put(json_t *o, const char *key, json_t *v, bool *failed)
{
	if (!v || json_object_set_new(o, key, v) < 0)
		*failed = true;
}

static json_t *mac_array(uint8_t (*list)[6], size_t n, bool *failed)
{
	json_t *a = json_array();
	char s[18];

	for (size_t i = 0; a && i < n; i++)
		if (json_array_append_new(a, json_string(sbcfg_mac_fmt(list[i], s))) < 0)
			*failed = true;
	return a;
}

static json_t *rate_json(const struct sbcfg_rate *r)
{
	return json_pack("{s:I, s:I}", "per_second", (json_int_t)r->per_second, "burst",
			 (json_int_t)r->burst);
}

struct json_t *sbcfg_guard_json(const struct sbcfg_guard *g, bool *failed)
{
	json_t *o;
	char v[16];

	if (g->n_vlans == 0 && g->dhcp_dst == SBCFG_DHCP_DST_ANY && g->n_mac_deny == 0 &&
	    g->n_mac_allow == 0 && g->dhcp_rate.per_second == 0 && g->tftp_rate.per_second == 0)
		return NULL;
	o = json_object();
	if (!o) {
		*failed = true;
		return NULL;
	}
	if (g->n_vlans) {
		json_t *a = json_array();
		for (size_t i = 0; a && i < g->n_vlans; i++) {
			uint32_t x = g->vlans[i];
			json_t *e = x && (x & 0xffff) == 0 ? json_integer(x >> 16)
							   : json_string(vlan_fmt(x, v));
			if (json_array_append_new(a, e) < 0)
				*failed = true;
		}
		put(o, "vlans", a, failed);
	}
	if (g->dhcp_dst != SBCFG_DHCP_DST_ANY && (unsigned)g->dhcp_dst < SBCFG_N_DHCP_DSTS)
		put(o, "dhcp_destination", json_string(sbcfg_dhcp_dst_names[g->dhcp_dst]), failed);
	if (g->n_mac_deny)
		put(o, "mac_deny", mac_array(g->mac_deny, g->n_mac_deny, failed), failed);
	if (g->n_mac_allow)
		put(o, "mac_allow", mac_array(g->mac_allow, g->n_mac_allow, failed), failed);
	if (g->dhcp_rate.per_second)
		put(o, "dhcp_rate", rate_json(&g->dhcp_rate), failed);
	if (g->tftp_rate.per_second)
		put(o, "tftp_rate", rate_json(&g->tftp_rate), failed);
	return o;
}

bool sbcfg_guard_equal(const struct sbcfg_guard *a, const struct sbcfg_guard *b)
{
	if (a->n_vlans != b->n_vlans || a->dhcp_dst != b->dhcp_dst ||
	    a->n_mac_deny != b->n_mac_deny || a->n_mac_allow != b->n_mac_allow ||
	    a->dhcp_rate.per_second != b->dhcp_rate.per_second ||
	    a->dhcp_rate.burst != b->dhcp_rate.burst ||
	    a->tftp_rate.per_second != b->tftp_rate.per_second ||
	    a->tftp_rate.burst != b->tftp_rate.burst)
		return false;
	return (a->n_vlans == 0 ||
		memcmp(a->vlans, b->vlans, a->n_vlans * sizeof(*a->vlans)) == 0) &&
	       (a->n_mac_deny == 0 ||
		memcmp(a->mac_deny, b->mac_deny, a->n_mac_deny * sizeof(*a->mac_deny)) == 0) &&
	       (a->n_mac_allow == 0 ||
		memcmp(a->mac_allow, b->mac_allow, a->n_mac_allow * sizeof(*a->mac_allow)) == 0);
}

void sbcfg_guard_free(struct sbcfg_guard *g)
{
	free(g->vlans);
	free(g->mac_deny);
	free(g->mac_allow);
	memset(g, 0, sizeof(*g));
}
