/* SPDX-License-Identifier: BSD-3-Clause */
/* cluster_refusal.c - refused shared changes in applied/ID, and the API's answer from them
 * (see cluster_refusal.h). Pure. */
#include "cluster_refusal.h"

#include <stdio.h>
#include <string.h>

void cluster_refusals_add(struct cluster_refusals *l, const char *set, int64_t rev, const char *why)
{
	struct cluster_refusal *r;
	size_t i;

	if (l->n == CLUSTER_REFUSALS_MAX) {
		if (l->r[0].rev > l->lost)
			l->lost = l->r[0].rev;
		memmove(&l->r[0], &l->r[1], sizeof(l->r[0]) * (CLUSTER_REFUSALS_MAX - 1));
		l->n--;
	}
	r = &l->r[l->n++];
	memset(r, 0, sizeof(*r));
	snprintf(r->set, sizeof(r->set), "%s", set ? set : "?");
	r->rev = rev;
	for (i = 0; why && why[i] && i < sizeof(r->why) - 1; i++) {
		unsigned char ch = (unsigned char)why[i];
		r->why[i] = ch == '"'			? '\''
			    : ch == '\\'		? '/'
			    : (ch < 0x20 || ch >= 0x7f) ? ' '
							: (char)ch;
	}
	r->why[i] = '\0';
}

int cluster_refusals_put(const struct cluster_refusals *l, json_t *v)
{
	json_t *a;

	if (!l->n && !l->lost)
		return 0;
	if (!(a = json_array()) || json_object_set_new(v, "refused", a) < 0)
		return -1;
	for (size_t i = 0; i < l->n; i++)
		if (json_array_append_new(a, json_pack("{s:s, s:I, s:s}", "set", l->r[i].set, "rev",
						       (json_int_t)l->r[i].rev, "why",
						       l->r[i].why)) < 0)
			return -1;
	if (l->lost && json_object_set_new(v, "refused_lost", json_integer(l->lost)) < 0)
		return -1;
	return 0;
}

enum cluster_apply_state cluster_apply_state_of(const json_t *v, const char *set, int64_t rev,
						char *why, size_t cap)
{
	const json_t *a, *lost, *r;
	json_t *applied;
	size_t i;

	if (why && cap)
		why[0] = '\0';
	applied = json_object_get(v, set);
	if (!json_is_integer(applied) || json_integer_value(applied) < rev)
		return CLUSTER_APPLY_PENDING;
	a = json_object_get(v, "refused");
	json_array_foreach(a, i, r)
	{
		const json_t *rs = json_object_get(r, "set"), *rr = json_object_get(r, "rev");
		const char *w = json_string_value(json_object_get(r, "why"));

		if (!json_is_string(rs) || strcmp(json_string_value(rs), set) != 0 ||
		    !json_is_integer(rr) || json_integer_value(rr) != rev)
			continue;
		if (why && cap)
			snprintf(why, cap, "%s", w && *w ? w : "(no reason given)");
		return CLUSTER_APPLY_REFUSED;
	}
	lost = json_object_get(v, "refused_lost");
	if (json_is_integer(lost) && json_integer_value(lost) >= rev)
		return CLUSTER_APPLY_UNKNOWN;
	return CLUSTER_APPLY_DONE;
}

size_t cluster_apply_answer(const char *const *ids, const enum cluster_apply_state *st,
			    const char *const *whys, size_t n, uint64_t ms, char *out, size_t cap)
{
	size_t bad = 0, len;
	bool first_refused = true, first_unknown = true;

	for (size_t i = 0; i < n; i++)
		bad += st[i] == CLUSTER_APPLY_REFUSED || st[i] == CLUSTER_APPLY_UNKNOWN;
	if (!cap)
		return bad;
	if (n <= 1)
		len = (size_t)snprintf(out, cap, "in effect on the only live server (this one)");
	else if (!bad)
		len = (size_t)snprintf(out, cap,
				       "in effect on all %zu live servers (confirmed in %llu ms)",
				       n, (unsigned long long)ms);
	else
		len = (size_t)snprintf(out, cap,
				       "in effect on %zu of %zu live servers (answered in %llu ms)",
				       n - bad, n, (unsigned long long)ms);
	for (size_t i = 0; i < n && len < cap; i++) {
		if (st[i] != CLUSTER_APPLY_REFUSED)
			continue;
		len += (size_t)snprintf(out + len, cap - len, "%s %s: %s",
					first_refused ? "; refused by" : ";", ids[i],
					whys && whys[i] ? whys[i] : "(no reason given)");
		first_refused = false;
	}
	for (size_t i = 0; i < n && len < cap; i++) {
		if (st[i] != CLUSTER_APPLY_UNKNOWN)
			continue;
		len += (size_t)snprintf(
			out + len, cap - len, "%s %s",
			first_unknown ? "; not known whether applied or refused by" : ",", ids[i]);
		first_unknown = false;
	}
	if (!first_unknown && len < cap)
		snprintf(out + len, cap - len,
			 " (more than %d refusals there since: see its log and status)",
			 CLUSTER_REFUSALS_MAX);
	return bad;
}
