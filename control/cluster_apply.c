/* SPDX-License-Identifier: BSD-3-Clause */
/* cluster_apply.c - each server's progress through the shared sets, published as applied/ID;
 * an API change waits until every other live server applied it (see cluster_apply.h). */
#include "cluster_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "ctl_array.h"
#include "ctl_log.h"

struct apply_wait {
	struct apply_wait *next;
	struct cluster *c;
	char what[32]; /* the set's name, the key in applied/ID's value */
	int64_t rev;
	cluster_done_fn *fn;
	void *arg;
	uint64_t cookie;
	long long timer;
	uint64_t since_us;
};

/* ---- pure ---- */

size_t cluster_apply_missing(const char *const *ids, const int64_t *applied, size_t n,
			     const char *me, int64_t rev, size_t *missing)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (strcmp(ids[i], me) != 0 && applied[i] < rev)
			missing[k++] = i;
	return k;
}

/* ---- this server's progress ---- */

static void publish(struct cluster *c);

static void on_published(void *arg, int rc, json_t *resp, const char *err)
{
	struct cluster *c = arg;

	(void)resp;
	c->publish_inflight = false;
	cluster_note(c, rc, err);
	if (rc < 0)
		c->publish_dirty = true; /* again at the next progress or registration */
	else if (c->publish_dirty)
		publish(c);
}

/* PREFIX "applied/" ID = {"set": revision, ...} under the registration's lease. */
static void publish(struct cluster *c)
{
	char key[KEY_MAX];
	json_t *v, *body = NULL;
	char *s, *s64;

	if (c->publish_inflight || !c->registered || !c->lease_id)
		return; /* on_published or cluster_apply_registered calls again */
	if (!(v = json_object()))
		return;
	for (size_t i = 0; i < c->n_sets; i++)
		if (c->sets[i]->loaded)
			json_object_set_new(v, c->sets[i]->what,
					    json_integer(c->sets[i]->applied_rev));
	if (cluster_refusals_put(&c->refusals, v) < 0)
		ctl_log(LOG_ERR, "cluster: out of memory: this server's refusals not published");
	s = json_dumps(v, JSON_COMPACT);
	json_decref(v);
	s64 = s ? etcd_b64(s, strlen(s)) : NULL;
	free(s);
	snprintf(key, sizeof(key), "%s%s", c->applied.prefix, c->cfg.server_id);
	if (s64)
		body = json_pack("{s:o, s:s, s:o}", "key", cluster_b64s(key), "value", s64, "lease",
				 cluster_i64s(c->lease_id));
	free(s64);
	if (body && etcd_client_call(c->etcd, ETCD_LANE_SESSION, "/v3/kv/put", body, on_published,
				     c) == 0) {
		c->publish_inflight = true;
		c->publish_dirty = false;
	}
}

void cluster_apply_progress(struct cluster *c, struct shared_set *set)
{
	int64_t r = set->seen_rev;

	if (set->untracked || !set->loaded)
		return;
	for (size_t i = 0; i < c->n_holds; i++)
		if (c->holds[i].set == set && c->holds[i].rev - 1 < r)
			r = c->holds[i].rev - 1;
	if (r <= set->applied_rev)
		return;
	set->applied_rev = r;
	c->publish_dirty = true;
	publish(c);
}

void cluster_apply_registered(struct cluster *c)
{
	c->publish_dirty = true;
	publish(c);
}

uint64_t cluster_apply_hold(struct cluster *c)
{
	struct apply_hold *h;

	if (!c || !c->cur_set || c->cur_set->untracked)
		return 0;
	if (!(h = ctl_array_grow(c->holds, &c->cap_holds, c->n_holds, sizeof(*h), 16))) {
		ctl_log(LOG_ERR,
			"cluster: out of memory: %s changes counted applied before they are",
			c->cur_set->what);
		return 0;
	}
	c->holds = h;
	c->holds[c->n_holds++] = (struct apply_hold){++c->next_token, c->cur_set, c->cur_rev};
	return c->next_token;
}

void cluster_apply_done(struct cluster *c, uint64_t token)
{
	if (!c || !token)
		return;
	for (size_t i = 0; i < c->n_holds; i++) {
		if (c->holds[i].token != token)
			continue;
		struct shared_set *set = c->holds[i].set;
		c->holds[i] = c->holds[--c->n_holds];
		cluster_apply_progress(c, set);
		return;
	}
}

void cluster_apply_refused(struct cluster *c, uint64_t token, const char *why)
{
	struct shared_set *set = NULL;
	int64_t rev = 0;

	if (!c)
		return;
	if (!token && c->cur_set) {
		set = c->cur_set;
		rev = c->cur_rev;
	}
	for (size_t i = 0; token && i < c->n_holds && !set; i++)
		if (c->holds[i].token == token) {
			set = c->holds[i].set;
			rev = c->holds[i].rev;
		}
	if (!set || set->untracked)
		return;
	c->st.refused_here++;
	cluster_refusals_add(&c->refusals, set->what, rev, why);
	ctl_log(LOG_WARNING,
		"cluster: %s change of etcd revision %lld refused here; published in %s%s for the "
		"waiting API: %s",
		set->what, (long long)rev, c->applied.prefix, c->cfg.server_id, why);
	c->publish_dirty = true; /* with the progress past rev, which follows */
}

/* ---- the others' progress, and the changes waiting for it ---- */

static void wait_end(struct apply_wait *w, const char *msg)
{
	struct cluster *c = w->c;

	for (struct apply_wait **p = &c->waits; *p; p = &(*p)->next)
		if (*p == w) {
			*p = w->next;
			break;
		}
	if (w->timer > 0)
		ev_timer_del(c->loop, w->timer);
	w->fn(w->arg, w->cookie, 0, msg);
	free(w);
}

/* The live servers that have not applied w's revision: their count, names into list. */
static size_t wait_missing(struct apply_wait *w, char *list, size_t cap)
{
	struct cluster *c = w->c;
	const char *ids[CLUSTER_SERVERS_MAX];
	int64_t applied[CLUSTER_SERVERS_MAX];
	size_t missing[CLUSTER_SERVERS_MAX], k, len = 0;

	for (size_t i = 0; i < c->n_servers; i++) {
		json_t *v = json_object_get(json_object_get(c->peers, c->servers[i]), w->what);
		ids[i] = c->servers[i];
		applied[i] = json_is_integer(v) ? json_integer_value(v) : -1;
	}
	k = cluster_apply_missing(ids, applied, c->n_servers, c->cfg.server_id, w->rev, missing);
	if (list && cap)
		list[0] = '\0';
	for (size_t i = 0; list && i < k && len < cap; i++)
		len += (size_t)snprintf(list + len, cap - len, "%s%s", i ? ", " : "",
					c->servers[missing[i]]);
	return k;
}

/* The servers that applied w's revision but refused it, "; refused by ID: why; ID: why" into
 * out (empty when none); their count. */
static size_t wait_refusals(struct apply_wait *w, char *out, size_t cap)
{
	struct cluster *c = w->c;
	char why[CLUSTER_REFUSAL_WHY_MAX];
	size_t k = 0, len = 0;

	out[0] = '\0';
	for (size_t i = 0; i < c->n_servers && len < cap; i++) {
		if (strcmp(c->servers[i], c->cfg.server_id) == 0 ||
		    cluster_apply_state_of(json_object_get(c->peers, c->servers[i]), w->what,
					   w->rev, why, sizeof(why)) != CLUSTER_APPLY_REFUSED)
			continue;
		len += (size_t)snprintf(out + len, cap - len, "%s %s: %s",
					k++ ? ";" : "; refused by", c->servers[i], why);
	}
	return k;
}

static void wait_check(struct apply_wait *w)
{
	struct cluster *c = w->c;
	uint64_t us = cluster_mono_us() - w->since_us;
	const char *ids[CLUSTER_SERVERS_MAX], *whys[CLUSTER_SERVERS_MAX];
	enum cluster_apply_state st[CLUSTER_SERVERS_MAX];
	char why[CLUSTER_SERVERS_MAX][CLUSTER_REFUSAL_WHY_MAX];
	char msg[256 + CLUSTER_SERVERS_MAX * (CLUSTER_REFUSAL_WHY_MAX + 24)];
	size_t n = c->n_servers > 0 ? c->n_servers : 1;

	if (wait_missing(w, NULL, 0))
		return;
	c->st.apply_waits++;
	c->st.apply_wait_us_sum += us;
	if (us > c->st.apply_wait_us_max)
		c->st.apply_wait_us_max = us;
	for (size_t i = 0; i < c->n_servers; i++) {
		ids[i] = c->servers[i];
		whys[i] = why[i];
		st[i] = strcmp(c->servers[i], c->cfg.server_id) == 0
				? CLUSTER_APPLY_DONE /* in effect here when written */
				: cluster_apply_state_of(json_object_get(c->peers, c->servers[i]),
							 w->what, w->rev, why[i], sizeof(why[i]));
	}
	if (!c->n_servers) {
		ids[0] = c->cfg.server_id;
		st[0] = CLUSTER_APPLY_DONE;
		whys[0] = NULL;
	}
	if (cluster_apply_answer(ids, st, whys, n, (us + 999) / 1000, msg, sizeof(msg))) {
		c->st.apply_refused++;
		ctl_log(LOG_WARNING, "cluster: %s change (etcd revision %lld): %s", w->what,
			(long long)w->rev, msg);
	}
	wait_end(w, msg);
}

static void check_all(struct cluster *c)
{
	struct apply_wait *w = c->waits, *next;

	for (; w; w = next) {
		next = w->next; /* w may end */
		wait_check(w);
	}
}

static long wait_timeout(struct ev_loop *l, long long id, void *arg)
{
	struct apply_wait *w = arg;
	struct cluster *c = w->c;
	char list[CLUSTER_SERVERS_MAX * 24], msg[sizeof(list) + 2048], refused[1536];
	size_t k;

	(void)l;
	(void)id;
	w->timer = -1; /* this one ends: not deleted again */
	if (!(k = wait_missing(w, list, sizeof(list)))) {
		wait_check(w);
		return EV_TIMER_STOP;
	}
	c->st.apply_timeouts++;
	if (wait_refusals(w, refused, sizeof(refused)))
		c->st.apply_refused++;
	snprintf(
		msg, sizeof(msg),
		"written to etcd (revision %lld) and in effect here, but NOT confirmed within "
		"%u ms by %zu of %zu live servers: %s (each applies it when its watch delivers it; "
		"see its log and status)%s",
		(long long)w->rev, c->cfg.apply_wait_ms, k, c->n_servers, list, refused);
	ctl_log(LOG_WARNING, "cluster: %s change %s", w->what, msg);
	wait_end(w, msg);
	return EV_TIMER_STOP;
}

void cluster_apply_wait(struct cluster *c, struct shared_set *set, int64_t rev, cluster_done_fn *fn,
			void *arg, uint64_t cookie)
{
	struct apply_wait *w;

	if (!rev) {
		fn(arg, cookie, 0, "written to etcd; nothing for the other servers to apply");
		return;
	}
	if (!set) { /* a key outside the tracked sets (the shared config document) */
		fn(arg, cookie, 0,
		   "in effect on the other servers within their watch delay (not waited for)");
		return;
	}
	if (!c->cfg.apply_wait_ms) {
		fn(arg, cookie, 0,
		   "written to etcd; in effect on the other servers within their watch delay "
		   "(not waited for: cluster.apply_wait_ms is 0)");
		return;
	}
	if (!(w = calloc(1, sizeof(*w)))) {
		fn(arg, cookie, 0,
		   "written to etcd; out of memory: not waited for the other servers");
		return;
	}
	*w = (struct apply_wait){c->waits, c, {0}, rev, fn, arg, cookie, -1, cluster_mono_us()};
	snprintf(w->what, sizeof(w->what), "%s", set->what);
	c->waits = w;
	if (!wait_missing(w, NULL, 0)) {
		wait_check(w);
		return;
	}
	w->timer = ev_timer_add(c->loop, (long)c->cfg.apply_wait_ms, wait_timeout, w);
	if (w->timer < 0) {
		c->waits = w->next;
		free(w);
		fn(arg, cookie, 0,
		   "written to etcd; out of memory: not waited for the other servers");
	}
}

void cluster_apply_members(struct cluster *c)
{
	check_all(c);
}

void cluster_apply_learn(struct cluster *c, json_t *kv, bool del)
{
	const char *k64 = json_string_value(json_object_get(kv, "key"));
	const char *v64 = json_string_value(json_object_get(kv, "value"));
	size_t pl = strlen(c->applied.prefix);
	char key[KEY_MAX], val[4096]; /* this server's own stay under 1024 (cluster_refusal.h) */
	long kl, vl;
	json_t *v;

	if (!c->peers && !(c->peers = json_object()))
		return;
	if (!k64 || (kl = etcd_unb64(k64, key, sizeof(key) - 1)) <= (long)pl)
		return;
	key[kl] = '\0';
	if (del) {
		json_object_del(c->peers, key + pl);
		return;
	}
	if (!v64 || (vl = etcd_unb64(v64, val, sizeof(val))) < 0 ||
	    !(v = json_loadb(val, (size_t)vl, 0, NULL)) || !json_is_object(v)) {
		ctl_log(LOG_WARNING, "cluster: %s: not a server's progress; ignored", key);
		return;
	}
	json_object_set_new(c->peers, key + pl, v);
	check_all(c);
}

void cluster_apply_free(struct cluster *c)
{
	while (c->waits) {
		struct apply_wait *w = c->waits;
		c->waits = w->next;
		if (w->timer > 0)
			ev_timer_del(c->loop, w->timer);
		w->fn(w->arg, w->cookie, -ECANCELED, "stormboot-control is shutting down");
		free(w);
	}
	json_decref(c->peers);
	c->peers = NULL;
	free(c->holds);
	c->holds = NULL;
	c->n_holds = 0;
}

json_t *cluster_apply_status_json(const struct cluster *c)
{
	json_t *a = json_object(), *mine = json_object(), *r;

	for (size_t i = 0; a && i < c->n_sets; i++)
		if (c->sets[i]->loaded)
			json_object_set_new(a, c->sets[i]->what,
					    json_integer(c->sets[i]->applied_rev));
	if (mine) /* the same list as in applied/ID */
		cluster_refusals_put(&c->refusals, mine);
	r = json_object_get(mine, "refused");
	r = r ? json_incref(r) : json_array();
	json_decref(mine);
	return json_pack(
		"{s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "applied",
		a ? a : json_object(), "apply_waits", (json_int_t)c->st.apply_waits,
		"apply_timeouts", (json_int_t)c->st.apply_timeouts, "apply_wait_us_avg",
		(json_int_t)(c->st.apply_waits ? c->st.apply_wait_us_sum / c->st.apply_waits : 0),
		"apply_wait_us_max", (json_int_t)c->st.apply_wait_us_max, "apply_holds",
		(json_int_t)c->n_holds, "reservations_pushed", (json_int_t)c->st.resv_pushed,
		"push_skipped_deleted", (json_int_t)c->st.push_skipped_deleted, "apply_refused",
		(json_int_t)c->st.apply_refused, "refused_here", (json_int_t)c->st.refused_here,
		"refused", r ? r : json_object());
}

char *cluster_written_reply(const char *what, const char *local, int rc, const char *others)
{
	if (rc < 0)
		return api_fail(
			"%s: in effect on this server only, NOT shared through etcd: %s (run "
			"it again once etcd answers)",
			what, others ? others : "");
	if (others && *others) {
		size_t n = strlen(local) + strlen(others) + 3;
		char *t = malloc(n), *line;

		if (!t)
			return api_fail("%s: out of memory", what);
		snprintf(t, n, "%s; %s", local, others);
		line = api_reply(API_OK, t, NULL);
		free(t);
		return line;
	}
	return api_reply(API_OK, local, NULL);
}
