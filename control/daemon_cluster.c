/* SPDX-License-Identifier: BSD-3-Clause */
/* daemon_cluster.c - the daemon in cluster mode (see daemon_cluster.h): what etcd's shared
 * reservations and templates do to the running config and the HTTP boot templates. */
#include "daemon_cluster.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_log.h"
#include "http_boot.h"
#include "running_config.h"
#include "shared_config.h"
#include "shared_image.h"

/* A shared reservation in: its images_allowed patterns appended to c's (the old ones of a
 * replaced reservation stay unused in the array, and are not written back). */
static int edit_resv_put(struct sbcfg *c, const void *arg, char *err, size_t len)
{
	const struct cluster_resv *cr = arg;
	struct sbcfg_reservation r = cr->r;

	if (r.images_allowed.restricted && r.images_allowed.n) {
		void *n = realloc(c->image_patterns, (c->n_image_patterns + r.images_allowed.n) *
							     sizeof(*c->image_patterns));
		if (!n) {
			snprintf(err, len, "out of memory");
			return -ENOMEM;
		}
		c->image_patterns = n;
		memcpy(c->image_patterns[c->n_image_patterns], cr->patterns[r.images_allowed.first],
		       r.images_allowed.n * sizeof(*c->image_patterns));
		r.images_allowed.first = (uint32_t)c->n_image_patterns;
		c->n_image_patterns += r.images_allowed.n;
	} else {
		r.images_allowed.first = 0;
	}
	return running_config_reservation_add(c, &r, true, err, len);
}

static int edit_resv_del(struct sbcfg *c, const void *arg, char *err, size_t len)
{
	int rc = running_config_reservation_del(c, arg, err, len);
	return rc == -ENOENT ? 0 : rc; /* gone already */
}

void daemon_shared_resv(struct daemon *d, const struct cluster_resv *r, bool deleted,
			daemon_change_done_fn *done, void *done_arg, uint64_t cookie)
{
	struct daemon_change_req req = {.what = deleted ? "reservation-del (shared)"
							: "reservation-add (shared)",
					.edit = deleted ? edit_resv_del : edit_resv_put,
					.arg = deleted ? (const void *)r->r.mac : (const void *)r,
					.arg_len = deleted ? 6 : sizeof(*r),
					.write_back = true,
					.wait = true,
					.done = done,
					.done_arg = done_arg,
					.cookie = cookie};
	daemon_change(d, &req);
}

/* A reservation of etcd (read at start or watched): applied when it differs from ours. */
static bool same_images_allowed(const struct sbcfg *c, const struct sbcfg_images_allowed *a,
				const struct cluster_resv *cr)
{
	const struct sbcfg_images_allowed *b = &cr->r.images_allowed;

	if (a->restricted != b->restricted || (a->restricted && a->n != b->n))
		return false;
	for (uint16_t i = 0; a->restricted && i < a->n; i++)
		if (strcmp(c->image_patterns[a->first + i], cr->patterns[b->first + i]) != 0)
			return false;
	return true;
}

/* A shared reservation's change is in effect here (or failed, logged): the set's progress
 * moves on (cluster_apply.h). */
static void resv_applied(struct daemon *d, void *arg, uint64_t token, int rc, const char *msg)
{
	(void)arg;
	if (rc < 0) {
		char why[1024]; /* cut to CLUSTER_REFUSAL_WHY_MAX when published */

		ctl_log(LOG_ERR, "cluster: shared reservation not applied here: %s", msg);
		snprintf(why, sizeof(why), "reservation: %s", msg);
		cluster_apply_refused(d->cluster, token, why);
	}
	cluster_apply_done(d->cluster, token);
}

static void on_shared_resv(void *arg, const struct cluster_resv *cr, bool deleted)
{
	struct daemon *d = arg;
	const struct sbcfg_dhcp *h = &d->cur->cfg.dhcp;
	const struct sbcfg_reservation *mine = NULL, *r = &cr->r;

	for (size_t i = 0; i < h->n_reservations && !mine; i++)
		if (memcmp(h->reservations[i].mac, r->mac, 6) == 0)
			mine = &h->reservations[i];
	if (deleted ? !mine
		    : mine && mine->ip == r->ip && strcmp(mine->hostname, r->hostname) == 0 &&
			      strcmp(mine->bootfile, r->bootfile) == 0 &&
			      strcmp(mine->ipxe_script, r->ipxe_script) == 0 &&
			      same_images_allowed(&d->cur->cfg, &mine->images_allowed, cr))
		return; /* the same here (our own change, seen back) */
	daemon_shared_resv(d, cr, deleted, resv_applied, NULL, cluster_apply_hold(d->cluster));
}

/* A template of etcd (read at start or watched): stored here when it differs. */
static void on_shared_tmpl(void *arg, const char *name, const char *text, size_t len, bool deleted)
{
	struct daemon *d = arg;
	const struct http_boot_template *t = http_boot_template_find(d->http, name);
	char err[512];

	if (deleted) {
		if (t && http_boot_template_del(d->http, name, err, sizeof(err)) < 0)
			ctl_log(LOG_ERR, "shared template %s: %s", name, err);
		else if (t)
			ctl_log(LOG_INFO, "shared template %s deleted (etcd)", name);
		return;
	}
	if (t && t->len == len && memcmp(t->text, text, len) == 0)
		return; /* the same here (our own change, seen back) */
	if (http_boot_template_set(d->http, name, text, len, err, sizeof(err)) < 0) {
		char why[1024]; /* cut to CLUSTER_REFUSAL_WHY_MAX when published */

		ctl_log(LOG_ERR, "shared template %s: %s", name, err);
		snprintf(why, sizeof(why), "template %s: %s", name, err);
		cluster_apply_refused(d->cluster, 0, why); /* inside the hook: its change */
	} else
		ctl_log(LOG_INFO, "shared template %s stored (%zu bytes, etcd)", name, len);
}

static int refuse_remote(void *arg, const struct chan_lease *ev, uint64_t ticket)
{
	return -ENOTCONN;
}

void daemon_cluster_start(struct daemon *d, struct ctl_clock clock)
{
	char err[512];

	d->cluster = cluster_new(d->loop, &d->dp, &d->cur->cfg.cluster, clock, err, sizeof(err));
	if (!d->cluster) {
		/* no cluster, no commits: every lease is refused until a restart */
		ctl_log(LOG_CRIT, "cluster: %s; no lease will be ACKed", err);
		d->dp.deps.remote_submit = refuse_remote;
		return;
	}
	d->dp.deps.remote_submit = cluster_submit;
	d->dp.deps.connected = cluster_connected;
	d->dp.deps.remote_arg = d->cluster;
	cluster_set_resv_hook(d->cluster, on_shared_resv, d);
	cluster_set_tmpl_hook(d->cluster, on_shared_tmpl, d);
	if (d->shared_resv_loaded_fn)
		cluster_set_resv_loaded_hook(d->cluster, d->shared_resv_loaded_fn);
	if (d->shared_image_fn)
		cluster_set_image_hook(d->cluster, d->shared_image_fn, d);
	if (d->shared_config_fn)
		cluster_set_config_hook(d->cluster, d->shared_config_fn, d);
}

json_t *daemon_cluster_status(struct daemon *d)
{
	json_t *o, *sh;
	struct cluster_stats st;

	if (!d->cluster) {
		if (!d->cur->cfg.cluster.enabled)
			return NULL;
		return json_pack("{s:b, s:s}", "ready", 0, "error",
				 "the cluster client did not start (see the log)");
	}
	if (!(o = cluster_status_json(d->cluster)))
		return NULL;
	/* applied revisions, waits for the other servers, pushes skipped (tombstones) */
	if ((sh = shared_image_status(d))) {
		json_object_update_new(sh, cluster_apply_status_json(d->cluster));
		/* the total of the confirmed waits (Prometheus: a sum and a count) */
		cluster_get_stats(d->cluster, &st);
		json_object_set_new(sh, "apply_wait_us_sum",
				    json_integer((json_int_t)st.apply_wait_us_sum));
	}
	if (sh)
		json_object_set_new(o, "shared", sh);
	/* the shared config document (shared_config.h) */
	shared_config_status(d, sh);
	return o;
}
