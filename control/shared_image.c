/* SPDX-License-Identifier: BSD-3-Clause */
/* shared_image.c - image metadata and config-file reservations through etcd (see .h). */
#include "shared_image.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "cluster.h"
#include "cluster_apply.h"
#include "ctl_log.h"
#include "daemon.h"
#include "running_config.h"

struct img_arg {
	char name[SBCFG_NAME_MAX];
	char path[PATH_MAX]; /* resolved */
	char sha256[SBCFG_SHA256_HEX];
};

/* Replace (or add) the image: the same name from etcd may come with another source or hash. */
static int edit_put(struct sbcfg *c, const void *arg, char *err, size_t len)
{
	const struct img_arg *ia = arg;
	char real[PATH_MAX];
	int rc;

	if ((rc = running_config_image_path(c, ia->path, real, err, len)) < 0)
		return rc;
	for (size_t i = 0; i < c->n_images; i++)
		if (strcmp(c->images[i].name, ia->name) == 0 &&
		    (rc = running_config_image_del(c, ia->name, NULL, err, len)) < 0)
			return rc;
	return running_config_image_add(c, ia->name, real, ia->sha256, err, len);
}

static int edit_del(struct sbcfg *c, const void *arg, char *err, size_t len)
{
	return running_config_image_del(c, arg, NULL, err, len);
}

/* ---- the API (this server first, then etcd) ---- */

struct shared_op {
	struct daemon *d;
	struct img_arg ia;
	bool del;
	char msg[512]; /* the local outcome */
};

static const char *what(const struct shared_op *op)
{
	return op->del ? "image-del" : "image-add";
}

static void on_written(void *arg, uint64_t conn, int rc, const char *err)
{
	struct shared_op *op = arg;

	api_server_reply(&op->d->api, conn, cluster_written_reply(what(op), op->msg, rc, err));
	free(op);
}

static void on_local_done(struct daemon *d, void *arg, uint64_t conn, int rc, const char *msg)
{
	struct shared_op *op = arg;
	const char *sha = "";
	int wrc;

	if (rc == -ENOENT && op->del) {
		/* not registered here (this server refused it, say): still gone from etcd */
		snprintf(op->msg, sizeof(op->msg),
			 "image-del: %s was not registered on this server; deleted from etcd",
			 op->ia.name);
	} else if (rc < 0) {
		api_server_reply(&d->api, conn, api_reply(API_ERROR, msg, NULL));
		free(op);
		return;
	} else {
		snprintf(op->msg, sizeof(op->msg), "%s: %s; shared through etcd", what(op), msg);
	}
	for (size_t i = 0; !op->del && i < d->cur->cfg.n_images; i++)
		if (strcmp(d->cur->cfg.images[i].name, op->ia.name) == 0)
			sha = d->cur->img[i].sha256;
	if (!op->del && strlen(sha) != 64) {
		api_server_reply(&d->api, conn,
				 api_fail("%s: in effect on this server only, NOT shared: its "
					  "SHA-256 is not known",
					  what(op)));
		free(op);
		return;
	}
	wrc = cluster_image_write(d->cluster, op->ia.name, sha, op->ia.path, op->del, on_written,
				  op, conn);
	if (wrc < 0) {
		api_server_reply(&d->api, conn,
				 api_fail("%s: in effect on this server only, NOT shared: %s",
					  what(op), strerror(-wrc)));
		free(op);
	}
}

static char *start(struct daemon *d, uint64_t conn, struct shared_op *op)
{
	struct daemon_change_req req = {.what = what(op),
					.edit = op->del ? edit_del : edit_put,
					.arg = op->del ? (const void *)op->ia.name : (const void *)&op->ia,
					.arg_len = op->del ? strlen(op->ia.name) + 1 : sizeof(op->ia),
					.must_read = op->del ? NULL : op->ia.path,
					.write_back = true,
					.wait = true,
					.done = on_local_done,
					.done_arg = op,
					.cookie = conn};
	daemon_change(d, &req);
	return NULL; /* on_local_done, then on_written, answers */
}

char *shared_image_add(struct daemon *d, uint64_t conn, const char *name, const char *path,
		       const char *sha256)
{
	struct shared_op *op = calloc(1, sizeof(*op));

	if (!op)
		return api_fail("image-add: out of memory");
	op->d = d;
	snprintf(op->ia.name, sizeof(op->ia.name), "%s", name);
	snprintf(op->ia.path, sizeof(op->ia.path), "%s", path);
	snprintf(op->ia.sha256, sizeof(op->ia.sha256), "%s", sha256);
	for (size_t i = 0; i < d->cur->cfg.n_images; i++)
		if (strcmp(d->cur->cfg.images[i].name, name) == 0) {
			free(op);
			return api_fail("image-add: image \"%s\" exists (path %s); delete it first",
					name, d->cur->cfg.images[i].path);
		}
	return start(d, conn, op);
}

char *shared_image_del(struct daemon *d, uint64_t conn, const char *name)
{
	struct shared_op *op = calloc(1, sizeof(*op));

	if (!op)
		return api_fail("image-del: out of memory");
	op->d = d;
	op->del = true;
	snprintf(op->ia.name, sizeof(op->ia.name), "%s", name);
	return start(d, conn, op);
}

/* ---- the watch (etcd first, then here) ---- */

/* A refusal here, published for the API that waits on the change (cluster_apply.h): short,
 * the image's name and the cause first. */
static void publish_refusal(struct daemon *d, uint64_t cookie, const char *name, int rc,
			    const char *msg)
{
	char why[1024]; /* cut to CLUSTER_REFUSAL_WHY_MAX when published */
	const char *of = strstr(msg, "SHA-256 of "); /* past "images[i] NAME: " (daemon.c) */

	if (rc == -EBADMSG)
		snprintf(why, sizeof(why), "image %s: file differs from the pinned SHA-256 (%s)",
			 name ? name : "?", of ? of : msg);
	else
		snprintf(why, sizeof(why), "image %s: %s", name ? name : "?", msg);
	cluster_apply_refused(d->cluster, cookie, why);
}

static void on_applied(struct daemon *d, void *arg, uint64_t cookie, int rc, const char *msg)
{
	char *name = arg; /* malloc'd, or NULL (out of memory) */

	if (rc < 0) {
		d->shared_images_refused++;
		ctl_log(LOG_ERR, "cluster: shared image not served by this server: %s", msg);
		publish_refusal(d, cookie, name, rc, msg);
	} else {
		d->shared_images_applied++;
	}
	cluster_apply_done(d->cluster, cookie); /* in effect here (or refused): progress moves */
	free(name);
}

void shared_image_on_etcd(void *arg, const char *name, const char *sha256, const char *source,
			  bool deleted)
{
	struct daemon *d = arg;
	const struct running_config *c = d->cur;
	long i = -1;

	for (size_t k = 0; k < c->cfg.n_images && i < 0; k++)
		if (strcmp(c->cfg.images[k].name, name) == 0)
			i = (long)k;
	if (deleted) {
		if (i < 0 || c->cfg.images[i].from_root)
			return;
		struct daemon_change_req req = {.what = "image-del (shared)",
						.edit = edit_del,
						.arg = name,
						.arg_len = strlen(name) + 1,
						.write_back = true,
						.wait = true,
						.done = on_applied,
						.done_arg = strdup(name),
						.cookie = cluster_apply_hold(d->cluster)};
		daemon_change(d, &req);
		return;
	}
	/* the same here (our own change seen back, or the same file at start) */
	if (i >= 0 && strcmp(c->cfg.images[i].path, source) == 0 &&
	    (strcmp(c->cfg.images[i].sha256, sha256) == 0 ||
	     (!d->registry_pending && strcmp(c->img[i].sha256, sha256) == 0)))
		return;
	struct img_arg ia = {0};
	char err[512];

	snprintf(ia.name, sizeof(ia.name), "%s", name);
	snprintf(ia.sha256, sizeof(ia.sha256), "%s", sha256);
	if (running_config_image_path(&c->cfg, source, ia.path, err, sizeof(err)) < 0) {
		d->shared_images_refused++;
		ctl_log(LOG_ERR, "cluster: shared image %s (%s) not served by this server: %s", name,
			source, err);
		publish_refusal(d, 0, name, -EPERM, err); /* inside the hook: its change */
		return;
	}
	struct daemon_change_req req = {.what = "image-add (shared)",
					.edit = edit_put,
					.arg = &ia,
					.arg_len = sizeof(ia),
					.must_read = ia.path,
					.write_back = true,
					.wait = true,
					.done = on_applied,
					.done_arg = strdup(name),
					.cookie = cluster_apply_hold(d->cluster)};
	daemon_change(d, &req);
}

void shared_resv_on_loaded(void *arg, const uint8_t (*macs)[6], size_t n)
{
	struct daemon *d = arg;
	const struct sbcfg_dhcp *h = &d->cur->cfg.dhcp;

	for (size_t i = 0; i < h->n_reservations; i++) {
		bool there = false;

		for (size_t k = 0; k < n && !there; k++)
			there = memcmp(macs[k], h->reservations[i].mac, 6) == 0;
		if (!there && cluster_resv_push(d->cluster, &h->reservations[i],
						(const char(*)[SBCFG_NAME_MAX])d->cur->cfg.image_patterns) < 0)
			ctl_log(LOG_ERR, "cluster: out of memory: reservation %zu of the config file "
					 "not pushed to etcd", i);
	}
}

json_t *shared_image_status(const struct daemon *d)
{
	return json_pack("{s:I, s:I}", "images_applied", (json_int_t)d->shared_images_applied,
			 "images_refused", (json_int_t)d->shared_images_refused);
}
