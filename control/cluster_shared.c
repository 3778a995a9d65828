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
		set->learn(set->c, json_object_get(ev, "kv"), t && strcmp(t, "DELETE") == 0);
	}
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
	json_array_foreach(json_object_get(resp, "kvs"), i, kv) set->learn(c, kv, false);
	set->loaded = true;
	if (set->loaded_fn)
		set->loaded_fn(c, json_object_get(resp, "kvs"));
	ctl_log(LOG_INFO, "cluster: %zu shared %s read from etcd",
		json_array_size(json_object_get(resp, "kvs")), set->what);
	int64_t rev = etcd_json_int(json_object_get(json_object_get(resp, "header"), "revision"));
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
	cluster_done_fn *fn;
	void *arg;
	uint64_t cookie;
};

static void on_resv_written(void *arg, int rc, json_t *resp, const char *err)
{
	struct resv_write *w = arg;

	cluster_note(w->c, rc, err);
	w->fn(w->arg, w->cookie, rc, err);
	free(w);
}

/* Put value (len bytes; NULL = out of memory) at key, or delete key (del); fn(arg, cookie)
 * when etcd answered. A reservation, a template and an image are written alike. */
static int shared_write(struct cluster *c, const char *key, const char *value, size_t len, bool del,
			cluster_done_fn *fn, void *arg, uint64_t cookie)
{
	struct resv_write *w;
	json_t *body = NULL;

	if (!del && !value)
		return -ENOMEM;
	if (!(w = calloc(1, sizeof(*w))))
		return -ENOMEM;
	*w = (struct resv_write){c, fn, arg, cookie};
	if (del) {
		body = json_pack("{s:o}", "key", cluster_b64s(key));
	} else {
		char *v64 = etcd_b64(value, len);

		body = v64 ? json_pack("{s:o, s:s}", "key", cluster_b64s(key), "value", v64) : NULL;
		free(v64);
	}
	if (!body ||
	    etcd_client_call(c->etcd, ETCD_LANE_KV, del ? "/v3/kv/deleterange" : "/v3/kv/put", body,
			     on_resv_written, w) < 0) {
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

	cluster_note(w->c, rc, err);
	if (rc < 0)
		ctl_log(LOG_ERR,
			"cluster: reservation %s of the config file not pushed to etcd: %s", w->mac,
			err);
	else if (json_is_true(json_object_get(resp, "succeeded")))
		ctl_log(LOG_INFO, "cluster: reservation %s of the config file pushed to etcd",
			w->mac);
	else
		ctl_log(LOG_INFO,
			"cluster: reservation %s: another server pushed it first; etcd's applies",
			w->mac);
	free(w);
}

int cluster_resv_push(struct cluster *c, const struct sbcfg_reservation *r,
		      const char (*patterns)[SBCFG_NAME_MAX])
{
	struct resv_push *w = calloc(1, sizeof(*w));
	char key[KEY_MAX], *v = NULL, *v64 = NULL;
	json_t *body = NULL;

	if (!w)
		return -ENOMEM;
	w->c = c;
	running_config_fmt_mac(r->mac, w->mac);
	snprintf(key, sizeof(key), "%s%s", c->resv.prefix, w->mac);
	if ((v = cluster_resv_value(r, patterns)) && (v64 = etcd_b64(v, strlen(v))))
		/* only if absent: a reservation another server wrote meanwhile is not replaced */
		body = json_pack("{s:[{s:o, s:s, s:s, s:o}], s:[{s:{s:o, s:s}}]}", "compare", "key",
				 cluster_b64s(key), "target", "CREATE", "result", "EQUAL",
				 "create_revision", cluster_i64s(0), "success", "request_put",
				 "key", cluster_b64s(key), "value", v64);
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

/* ---- the sets ---- */

void cluster_shared_init(struct cluster *c)
{
	const char *p = c->cfg.prefix;

	c->resv =
		(struct shared_set){c, "reservations", resv_learn, resv_loaded, {0}, false, false};
	c->tmpl = (struct shared_set){c, "templates", tmpl_learn, NULL, {0}, false, false};
	c->img = (struct shared_set){c, "images", img_learn, NULL, {0}, false, false};
	snprintf(c->resv.prefix, sizeof(c->resv.prefix), "%sreservations/", p);
	snprintf(c->tmpl.prefix, sizeof(c->tmpl.prefix), "%stemplates/", p);
	snprintf(c->img.prefix, sizeof(c->img.prefix), "%simages/", p);
}

/* A set is read (then watched) once the daemon has set its hook. */
void cluster_shared_tick(struct cluster *c)
{
	if (c->resv_fn && !c->resv.loaded && !c->resv.inflight)
		shared_load(&c->resv);
	if (c->tmpl_fn && !c->tmpl.loaded && !c->tmpl.inflight)
		shared_load(&c->tmpl);
	if (c->img_fn && !c->img.loaded && !c->img.inflight)
		shared_load(&c->img);
}
