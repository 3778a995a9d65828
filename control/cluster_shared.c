/* SPDX-License-Identifier: BSD-3-Clause */
/* cluster_shared.c - the key sets every server shares (reservations, templates, images): each a
 * struct shared_set read once, then watched, its kvs given to a learn callback; written by
 * shared_write(). Reservations of the config file pushed at start. See cluster_shared.h. */
#include "cluster_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_log.h"
#include "running_config.h"

/* ---- shared key sets: read once, then watched from the revision read ---- */

/* One kv of set's (or its key's deletion) to the set's learn callback, which may hold the
 * change's revision open (cluster_apply_hold) until the change is in effect. */
static void learn_one(struct shared_set *set, json_t *kv, bool del, int64_t rev)
{
	struct cluster *c = set->c;

	c->cur_set = set;
	c->cur_rev = rev;
	set->learn(c, kv, del);
	c->cur_set = NULL;
}

static void on_shared_watch(void *arg, int rc, json_t *result, const char *err)
{
	struct shared_set *set = arg;
	size_t i;
	json_t *ev;

	(void)err;
	if (rc < 0)
		return; /* the lease watch logs the same breakage */
	json_array_foreach(json_object_get(result, "events"), i, ev)
	{
		const char *t = json_string_value(json_object_get(ev, "type"));
		json_t *kv = json_object_get(ev, "kv");
		int64_t rev = etcd_json_int(json_object_get(kv, "mod_revision"));

		learn_one(set, kv, t && strcmp(t, "DELETE") == 0, rev);
		if (rev > set->seen_rev)
			set->seen_rev = rev;
	}
	cluster_apply_progress(set->c, set);
}

static void on_shared_load(void *arg, int rc, json_t *resp, const char *err)
{
	struct shared_set *set = arg;
	struct cluster *c = set->c;
	size_t i;
	json_t *kv;

	set->inflight = false;
	cluster_note(c, rc, err);
	if (rc < 0)
		return;
	json_array_foreach(json_object_get(resp, "kvs"), i, kv)
		learn_one(set, kv, false, etcd_json_int(json_object_get(kv, "mod_revision")));
	set->loaded = true;
	if (set->loaded_fn)
		set->loaded_fn(c, json_object_get(resp, "kvs"));
	ctl_log(LOG_INFO, "cluster: %zu shared %s read from etcd",
		json_array_size(json_object_get(resp, "kvs")), set->what);
	int64_t rev = etcd_json_int(json_object_get(json_object_get(resp, "header"), "revision"));
	set->seen_rev = rev;
	cluster_apply_progress(c, set);
	if (etcd_client_watch(c->etcd, set->prefix, rev + 1, on_shared_watch, set) < 0)
		ctl_log(LOG_ERR, "cluster: cannot watch the shared %s", set->what);
}

static void shared_load(struct shared_set *set)
{
	char *end = etcd_prefix_end_b64(set->prefix);
	json_t *body =
		end ? json_pack("{s:o, s:s}", "key", cluster_b64s(set->prefix), "range_end", end)
		    : NULL;

	free(end);
	if (body && etcd_client_call(set->c->etcd, ETCD_LANE_KV, "/v3/kv/range", body,
				     on_shared_load, set) == 0)
		set->inflight = true;
}

/* ---- shared reservations ---- */

/* One kv (or a deletion of its key) of reservations/: to the daemon's hook. */
static void resv_learn(struct cluster *c, json_t *kv, bool del)
{
	const char *k64 = json_string_value(json_object_get(kv, "key"));
	const char *v64 = json_string_value(json_object_get(kv, "value"));
	char key[KEY_MAX], val[16384];
	size_t pl = strlen(c->resv.prefix);
	struct cluster_resv *r;
	long kl, vl;

	if (!c->resv_fn || !k64 || (kl = etcd_unb64(k64, key, sizeof(key) - 1)) <= (long)pl)
		return;
	key[kl] = '\0';
	if (!(r = calloc(1, sizeof(*r)))) {
		ctl_log(LOG_ERR, "cluster: %s: out of memory; change not applied", key);
		return;
	}
	if (del) {
		if (cluster_parse_mac(key + pl, r->r.mac) == 0)
			c->resv_fn(c->resv_arg, r, true);
	} else if (!v64 || (vl = etcd_unb64(v64, val, sizeof(val))) < 0 ||
		   cluster_resv_parse(val, (size_t)vl, r) < 0) {
		ctl_log(LOG_WARNING,
			"cluster: %s: not a reservation this server understands; ignored", key);
	} else {
		c->resv_fn(c->resv_arg, r, false);
	}
	free(r);
}

void cluster_set_resv_hook(struct cluster *c, cluster_resv_fn *fn, void *arg)
{
	c->resv_fn = fn;
	c->resv_arg = arg;
}

struct resv_write {
	struct cluster *c;
	struct shared_set *set; /* the key's set: the wait is for its progress */
	bool del;
	cluster_done_fn *fn;
	void *arg;
	uint64_t cookie;
};

static void on_resv_written(void *arg, int rc, json_t *resp, const char *err)
{
	struct resv_write *w = arg;
	int64_t rev = etcd_json_int(json_object_get(json_object_get(resp, "header"), "revision"));
	json_t *dr = json_object_get(json_array_get(json_object_get(resp, "responses"), 0),
				     "response_delete_range");

	cluster_note(w->c, rc, err);
	if (rc < 0)
		w->fn(w->arg, w->cookie, rc, err);
	else if (w->del && etcd_json_int(json_object_get(dr, "deleted")) == 0)
		/* the key was not there: no event, nothing for the others to apply */
		cluster_apply_wait(w->c, NULL, 0, w->fn, w->arg, w->cookie);
	else
		cluster_apply_wait(w->c, w->set, rev, w->fn, w->arg, w->cookie);
	free(w);
}

/* The set whose prefix key starts with, or NULL. */
static struct shared_set *set_of(struct cluster *c, const char *key)
{
	for (size_t i = 0; i < c->n_sets; i++)
		if (strncmp(key, c->sets[i]->prefix, strlen(c->sets[i]->prefix)) == 0)
			return c->sets[i];
	return NULL;
}

/* PREFIX "deleted/" REST of key PREFIX REST: its tombstone. */
static void tomb_key(const struct cluster *c, const char *key, char *out, size_t cap)
{
	snprintf(out, cap, "%s%s", c->tomb_prefix, key + strlen(c->cfg.prefix));
}

/* Put value (len bytes; NULL = out of memory) at key, or delete key (del); fn(arg, cookie)
 * once etcd answered and the other live servers applied it (cluster_apply.c). A reservation,
 * a template and an image are written alike: one transaction that also writes the key's
 * tombstone (delete) or removes it (put). */
static int shared_write(struct cluster *c, const char *key, const char *value, size_t len, bool del,
			cluster_done_fn *fn, void *arg, uint64_t cookie)
{
	char tomb[KEY_MAX * 2];
	struct resv_write *w;
	json_t *body = NULL, *op = NULL, *top = NULL;

	if (!del && !value)
		return -ENOMEM;
	if (strncmp(key, c->cfg.prefix, strlen(c->cfg.prefix)) != 0)
		return -EINVAL;
	if (!(w = calloc(1, sizeof(*w))))
		return -ENOMEM;
	*w = (struct resv_write){c, set_of(c, key), del, fn, arg, cookie};
	tomb_key(c, key, tomb, sizeof(tomb));
	if (del) {
		json_t *t = json_pack("{s:s, s:I}", "deleted_by", c->cfg.server_id, "at",
				      (json_int_t)cluster_now_s(c));
		char *tv = t ? json_dumps(t, JSON_COMPACT) : NULL;
		char *tv64 = tv ? etcd_b64(tv, strlen(tv)) : NULL;

		op = json_pack("{s:{s:o}}", "request_delete_range", "key", cluster_b64s(key));
		top = tv64 ? json_pack("{s:{s:o, s:s}}", "request_put", "key", cluster_b64s(tomb),
				       "value", tv64)
			   : NULL;
		json_decref(t);
		free(tv);
		free(tv64);
	} else {
		char *v64 = etcd_b64(value, len);

		op = v64 ? json_pack("{s:{s:o, s:s}}", "request_put", "key", cluster_b64s(key),
				     "value", v64)
			 : NULL;
		top = json_pack("{s:{s:o}}", "request_delete_range", "key", cluster_b64s(tomb));
		free(v64);
	}
	if (op && top)
		body = json_pack("{s:[], s:[o, o]}", "compare", "success", op, top);
	else {
		json_decref(op);
		json_decref(top);
	}
	if (!body ||
	    etcd_client_call(c->etcd, ETCD_LANE_KV, "/v3/kv/txn", body, on_resv_written, w) < 0) {
		free(w);
		return -ENOMEM;
	}
	return 0;
}

int cluster_resv_write(struct cluster *c, const struct sbcfg_reservation *r,
		       const char (*patterns)[SBCFG_NAME_MAX], bool del, cluster_done_fn *fn,
		       void *arg, uint64_t cookie)
{
	char key[KEY_MAX], m[18];
	char *v = del ? NULL : cluster_resv_value(r, patterns);
	int rc;

	snprintf(key, sizeof(key), "%s%s", c->resv.prefix, running_config_fmt_mac(r->mac, m));
	rc = shared_write(c, key, v, v ? strlen(v) : 0, del, fn, arg, cookie);
	free(v);
	return rc;
}

/* ---- shared templates ---- */

static void tmpl_learn(struct cluster *c, json_t *kv, bool del)
{
	const char *k64 = json_string_value(json_object_get(kv, "key"));
	const char *v64 = json_string_value(json_object_get(kv, "value"));
	size_t pl = strlen(c->tmpl.prefix);
	char key[KEY_MAX];
	long kl, vl = 0;
	char *text = NULL;

	if (!c->tmpl_fn || !k64 || (kl = etcd_unb64(k64, key, sizeof(key) - 1)) <= (long)pl)
		return;
	key[kl] = '\0';
	if (del) {
		c->tmpl_fn(c->tmpl_arg, key + pl, NULL, 0, true);
		return;
	}
	size_t cap = v64 ? strlen(v64) / 4 * 3 + 1 : 1;
	if (!(text = malloc(cap)))
		return;
	if (v64 && (vl = etcd_unb64(v64, text, cap - 1)) < 0) {
		free(text);
		return;
	}
	text[vl] = '\0';
	c->tmpl_fn(c->tmpl_arg, key + pl, text, (size_t)vl, false);
	free(text);
}

void cluster_set_tmpl_hook(struct cluster *c, cluster_tmpl_fn *fn, void *arg)
{
	c->tmpl_fn = fn;
	c->tmpl_arg = arg;
}

int cluster_tmpl_write(struct cluster *c, const char *name, const char *text, size_t len, bool del,
		       cluster_done_fn *fn, void *arg, uint64_t cookie)
{
	char key[KEY_MAX + sizeof(c->tmpl.prefix)];

	if (strlen(name) >= KEY_MAX)
		return -EINVAL;
	snprintf(key, sizeof(key), "%s%s", c->tmpl.prefix, name);
	return shared_write(c, key, text, len, del, fn, arg, cookie);
}

/* ---- local reservations pushed at start ---- */

/* After the first read of reservations/: the MACs etcd has, to the daemon, which pushes the
 * reservations only its own config file has. */
static void resv_loaded(struct cluster *c, json_t *kvs)
{
	size_t pl = strlen(c->resv.prefix), n = 0, i;
	uint8_t(*macs)[6] = calloc(json_array_size(kvs) + 1, 6);
	json_t *kv;

	if (!macs || !c->resv_loaded_fn) {
		free(macs);
		return;
	}
	json_array_foreach(kvs, i, kv)
	{
		const char *k64 = json_string_value(json_object_get(kv, "key"));
		char key[KEY_MAX];
		long kl;

		if (k64 && (kl = etcd_unb64(k64, key, sizeof(key) - 1)) > (long)pl) {
			key[kl] = '\0';
			if (cluster_parse_mac(key + pl, macs[n]) == 0)
				n++;
		}
	}
	c->resv_loaded_fn(c->resv_arg, (const uint8_t(*)[6])macs, n);
	free(macs);
}

void cluster_set_resv_loaded_hook(struct cluster *c, cluster_resv_loaded_fn *fn)
{
	c->resv_loaded_fn = fn;
}

struct resv_push {
	struct cluster *c;
	char mac[18];
};

static void on_resv_pushed(void *arg, int rc, json_t *resp, const char *err)
{
	struct resv_push *w = arg;
	struct cluster *c = w->c;
	json_t *tomb = json_object_get(
		json_object_get(json_array_get(json_object_get(resp, "responses"), 0),
				"response_range"),
		"kvs");

	cluster_note(c, rc, err);
	if (rc < 0) {
		ctl_log(LOG_ERR,
			"cluster: reservation %s of the config file not pushed to etcd: %s", w->mac,
			err);
	} else if (json_is_true(json_object_get(resp, "succeeded"))) {
		c->st.resv_pushed++;
		ctl_log(LOG_INFO, "cluster: reservation %s of the config file pushed to etcd",
			w->mac);
	} else if (json_array_size(tomb)) {
		/* deleted through an API while this server was away: it stays deleted */
		char val[512] = "";
		const char *v64 =
			json_string_value(json_object_get(json_array_get(tomb, 0), "value"));
		long vl = v64 ? etcd_unb64(v64, val, sizeof(val) - 1) : -1;
		struct cluster_resv *r = calloc(1, sizeof(*r));

		val[vl > 0 ? vl : 0] = '\0';
		c->st.push_skipped_deleted++;
		ctl_log(LOG_WARNING,
			"cluster: reservation %s of the config file NOT pushed to etcd: it was "
			"deleted "
			"through the API (tombstone %sreservations/%s: %s); removed here too. To "
			"have it "
			"again, add it through the API",
			w->mac, c->tomb_prefix, w->mac, val);
		if (r && cluster_parse_mac(w->mac, r->r.mac) == 0 && c->resv_fn)
			c->resv_fn(c->resv_arg, r, true);
		free(r);
	} else {
		ctl_log(LOG_INFO,
			"cluster: reservation %s: another server pushed it first; etcd's applies",
			w->mac);
	}
	free(w);
}

int cluster_resv_push(struct cluster *c, const struct sbcfg_reservation *r,
		      const char (*patterns)[SBCFG_NAME_MAX])
{
	struct resv_push *w = calloc(1, sizeof(*w));
	char key[KEY_MAX], tomb[KEY_MAX * 2], *v = NULL, *v64 = NULL;
	json_t *body = NULL;

	if (!w)
		return -ENOMEM;
	w->c = c;
	running_config_fmt_mac(r->mac, w->mac);
	snprintf(key, sizeof(key), "%s%s", c->resv.prefix, w->mac);
	tomb_key(c, key, tomb, sizeof(tomb));
	if ((v = cluster_resv_value(r, patterns)) && (v64 = etcd_b64(v, strlen(v))))
		/* only if absent and not deleted: a reservation another server wrote meanwhile is
		 * not replaced, one deleted through the API does not come back */
		body = json_pack("{s:[{s:o, s:s, s:s, s:o}, {s:o, s:s, s:s, s:o}], "
				 "s:[{s:{s:o, s:s}}], s:[{s:{s:o}}]}",
				 "compare", "key", cluster_b64s(key), "target", "CREATE", "result",
				 "EQUAL", "create_revision", cluster_i64s(0), "key",
				 cluster_b64s(tomb), "target", "CREATE", "result", "EQUAL",
				 "create_revision", cluster_i64s(0), "success", "request_put",
				 "key", cluster_b64s(key), "value", v64, "failure", "request_range",
				 "key", cluster_b64s(tomb));
	free(v);
	free(v64);
	if (!body ||
	    etcd_client_call(c->etcd, ETCD_LANE_KV, "/v3/kv/txn", body, on_resv_pushed, w) < 0) {
		free(w);
		return -ENOMEM;
	}
	return 0;
}

/* ---- shared image metadata ---- */

static void img_learn(struct cluster *c, json_t *kv, bool del)
{
	const char *k64 = json_string_value(json_object_get(kv, "key"));
	const char *v64 = json_string_value(json_object_get(kv, "value"));
	size_t pl = strlen(c->img.prefix);
	char key[KEY_MAX], val[2048], name[SBCFG_NAME_MAX], sha[SBCFG_SHA256_HEX];
	char source[SBCFG_PATH_MAX];
	long kl, vl;

	if (!c->img_fn || !k64 || (kl = etcd_unb64(k64, key, sizeof(key) - 1)) <= (long)pl)
		return;
	key[kl] = '\0';
	if (del) {
		c->img_fn(c->img_arg, key + pl, NULL, NULL, true);
		return;
	}
	if (!v64 || (vl = etcd_unb64(v64, val, sizeof(val))) < 0 ||
	    cluster_image_parse(val, (size_t)vl, name, sha, source) < 0 ||
	    strcmp(name, key + pl) != 0) {
		ctl_log(LOG_WARNING, "cluster: %s: not an image this server understands; ignored",
			key);
		return;
	}
	c->img_fn(c->img_arg, name, sha, source, false);
}

void cluster_set_image_hook(struct cluster *c, cluster_image_fn *fn, void *arg)
{
	c->img_fn = fn;
	c->img_arg = arg;
}

int cluster_image_write(struct cluster *c, const char *name, const char *sha256, const char *source,
			bool del, cluster_done_fn *fn, void *arg, uint64_t cookie)
{
	char key[KEY_MAX + sizeof(c->img.prefix)];
	char *v;
	int rc;

	if (strlen(name) >= KEY_MAX)
		return -EINVAL;
	snprintf(key, sizeof(key), "%s%s", c->img.prefix, name);
	v = del ? NULL : cluster_image_value(name, sha256, source);
	rc = shared_write(c, key, v, v ? strlen(v) : 0, del, fn, arg, cookie);
	free(v);
	return rc;
}

/* ---- the shared config document (config_share.h): one key, PREFIX "config" ---- */

/* A kv of the range prefix/config*: only the exact key is the document. */
static void conf_learn(struct cluster *c, json_t *kv, bool del)
{
	const char *k64 = json_string_value(json_object_get(kv, "key"));
	const char *v64 = json_string_value(json_object_get(kv, "value"));
	int64_t rev = etcd_json_int(json_object_get(kv, "mod_revision"));
	char key[KEY_MAX + 32];
	long kl, vl = 0;
	char *val;

	if (!c->conf_fn || !k64 || (kl = etcd_unb64(k64, key, sizeof(key) - 1)) < 0)
		return;
	key[kl] = '\0';
	if (strcmp(key, c->conf_key) != 0)
		return;
	if (del) {
		c->conf_fn(c->conf_arg, NULL, 0, rev, false);
		return;
	}
	size_t cap = v64 ? strlen(v64) / 4 * 3 + 4 : 4;
	if (!(val = malloc(cap))) {
		ctl_log(LOG_ERR, "cluster: %s: out of memory; change not applied", key);
		return;
	}
	if (v64 && (vl = etcd_unb64(v64, val, cap - 1)) < 0)
		vl = 0;
	val[vl] = '\0';
	c->conf_fn(c->conf_arg, val, (size_t)vl, rev, true);
	free(val);
}

/* After the first read: say so when etcd has no document (the daemon pushes its own). */
static void conf_loaded(struct cluster *c, json_t *kvs)
{
	size_t i;
	json_t *kv;

	json_array_foreach(kvs, i, kv)
	{
		const char *k64 = json_string_value(json_object_get(kv, "key"));
		char key[KEY_MAX + 32];
		long kl = k64 ? etcd_unb64(k64, key, sizeof(key) - 1) : -1;

		if (kl >= 0 && (key[kl] = '\0', strcmp(key, c->conf_key) == 0))
			return;
	}
	if (c->conf_fn)
		c->conf_fn(c->conf_arg, NULL, 0, 0, false);
}

void cluster_set_config_hook(struct cluster *c, cluster_config_fn *fn, void *arg)
{
	c->conf_fn = fn;
	c->conf_arg = arg;
}

int cluster_config_write(struct cluster *c, const char *value, size_t len, cluster_done_fn *fn,
			 void *arg, uint64_t cookie)
{
	return shared_write(c, c->conf_key, value, len, false, fn, arg, cookie);
}

struct conf_push {
	struct cluster *c;
	cluster_done_fn *fn;
	void *arg;
};

static void on_conf_pushed(void *arg, int rc, json_t *resp, const char *err)
{
	struct conf_push *w = arg;

	cluster_note(w->c, rc, err);
	if (rc == 0 && !json_is_true(json_object_get(resp, "succeeded")))
		rc = -EEXIST;
	w->fn(w->arg, 0, rc, rc == -EEXIST ? "another server pushed it first" : err);
	free(w);
}

int cluster_config_push(struct cluster *c, const char *value, size_t len, cluster_done_fn *fn,
			void *arg)
{
	struct conf_push *w = calloc(1, sizeof(*w));
	char *v64 = etcd_b64(value, len);
	json_t *body = NULL;

	if (w && v64) /* only if absent: a document another server wrote meanwhile stays */
		body = json_pack("{s:[{s:o, s:s, s:s, s:o}], s:[{s:{s:o, s:s}}]}", "compare", "key",
				 cluster_b64s(c->conf_key), "target", "CREATE", "result", "EQUAL",
				 "create_revision", cluster_i64s(0), "success", "request_put",
				 "key", cluster_b64s(c->conf_key), "value", v64);
	free(v64);
	if (!body) {
		free(w);
		return -ENOMEM;
	}
	*w = (struct conf_push){c, fn, arg};
	if (etcd_client_call(c->etcd, ETCD_LANE_KV, "/v3/kv/txn", body, on_conf_pushed, w) < 0) {
		free(w);
		return -ENOMEM;
	}
	return 0;
}

/* ---- the sets ---- */

void cluster_shared_init(struct cluster *c)
{
	const char *p = c->cfg.prefix;

	c->resv = (struct shared_set){
		.c = c, .what = "reservations", .learn = resv_learn, .loaded_fn = resv_loaded};
	c->tmpl = (struct shared_set){
		.c = c, .what = "templates", .learn = tmpl_learn, .loaded_fn = NULL};
	c->img = (struct shared_set){
		.c = c, .what = "images", .learn = img_learn, .loaded_fn = NULL};
	snprintf(c->resv.prefix, sizeof(c->resv.prefix), "%sreservations/", p);
	snprintf(c->tmpl.prefix, sizeof(c->tmpl.prefix), "%stemplates/", p);
	snprintf(c->img.prefix, sizeof(c->img.prefix), "%simages/", p);
	c->conf = (struct shared_set){
		.c = c, .what = "config documents", .learn = conf_learn, .loaded_fn = conf_loaded};
	snprintf(c->conf.prefix, sizeof(c->conf.prefix), "%sconfig", p);
	snprintf(c->conf_key, sizeof(c->conf_key), "%sconfig", p);
	c->sets[c->n_sets++] = &c->resv;
	c->sets[c->n_sets++] = &c->tmpl;
	c->sets[c->n_sets++] = &c->img;
	c->sets[c->n_sets++] = &c->conf; /* shared_config.c holds it until the dataplane has it */
	/* every server's progress through the sets above (cluster_apply.c) */
	c->applied = (struct shared_set){
		.c = c, .what = "applied", .learn = cluster_apply_learn, .loaded_fn = NULL};
	c->applied.untracked = true;
	snprintf(c->applied.prefix, sizeof(c->applied.prefix), "%sapplied/", p);
	snprintf(c->tomb_prefix, sizeof(c->tomb_prefix), "%sdeleted/", p);
}

/* A set is read (then watched) once the daemon has set its hook; applied/ always. */
void cluster_shared_tick(struct cluster *c)
{
	if (c->resv_fn && !c->resv.loaded && !c->resv.inflight)
		shared_load(&c->resv);
	if (c->tmpl_fn && !c->tmpl.loaded && !c->tmpl.inflight)
		shared_load(&c->tmpl);
	if (c->img_fn && !c->img.loaded && !c->img.inflight)
		shared_load(&c->img);
	if (c->conf_fn && !c->conf.loaded && !c->conf.inflight)
		shared_load(&c->conf);
	if (!c->applied.loaded && !c->applied.inflight)
		shared_load(&c->applied);
}
