/* SPDX-License-Identifier: BSD-3-Clause */
/* daemon.c - stormboot-control's state and config changes (see daemon.h). */
#include "daemon.h"

#include <errno.h>
#include <libgen.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config_share.h"
#include "ctl_log.h"
#include "daemon_cluster.h"
#include "sbcfg_json.h"
#include "sbcfg_root.h"

#define COMPACT_CHECK_MS 10000
#define MSG_MAX		 (SBCFG_ERR_MAX + 1024)

enum change_state {
	CHANGE_QUEUED,	   /* waiting for its turn */
	CHANGE_HASHING,	   /* the hasher reads the new config's images */
	CHANGE_CONFIRMING, /* sent to the dataplane, waiting for its reply */
};

struct daemon_change {
	struct daemon_change *next;
	struct daemon *d;
	enum change_state state;
	char what[32];
	bool reload;   /* the config file, read at the change's turn */
	bool registry; /* not a change: the running config's images hashed (at start) */
	daemon_edit_fn *edit;
	void *arg;
	char *must_read;
	bool write_back, wait;
	daemon_change_done_fn *done;
	void *done_arg;
	uint64_t cookie;
	struct running_config *next_cfg; /* built at its turn */
	uint64_t generation;		 /* sent to the dataplane as this one (0: not sent) */
	int bad;			 /* images that could not be read */
	char warn[700];
	struct ctl_access api_access, dp_access; /* next_cfg's, resolved at its turn */
};

uint64_t daemon_now(const struct daemon *d)
{
	return ctl_clock_now(&d->clock);
}

/* d->clock as a clock of its own, for the parts: a test that sets d->clock sets theirs. */
static uint64_t clock_now(void *arg)
{
	return daemon_now(arg);
}

/* metrics_deps.cluster: what /metrics shows of cluster mode */
static json_t *metrics_cluster(void *arg)
{
	return daemon_cluster_status(arg);
}

const struct running_config *daemon_running(void *arg)
{
	const struct daemon *d = arg;
	return d->cur;
}

size_t daemon_changes_pending(const struct daemon *d)
{
	size_t n = 0;

	for (const struct daemon_change *c = d->changes; c; c = c->next)
		n++;
	return n;
}

static void change_free(struct daemon_change *c)
{
	ctl_access_free(&c->api_access);
	ctl_access_free(&c->dp_access);
	running_config_free(c->next_cfg);
	free(c->arg);
	free(c->must_read);
	free(c);
}

/*
 * Who may use the API and the dataplane sockets under cfg ("control"), names looked up now.
 * 0, or -ENOENT / -ENOMEM with the field in err (then both are empty).
 */
static int access_of(const struct sbcfg *cfg, struct ctl_access *api, struct ctl_access *dp,
		     char *err, size_t errlen)
{
	const struct sbcfg_control *c = &cfg->control;
	int rc;

	rc = ctl_access_resolve(api, "control.api_users/api_groups", "control.api_users",
				c->api_users, c->n_api_users, "control.api_groups", c->api_groups,
				c->n_api_groups, err, errlen);
	if (rc < 0)
		return rc;
	api->socket_group = !c->api_listed; /* the default: the socket file's group */
	rc = ctl_access_resolve(dp, "control.dataplane_users/dataplane_groups",
				"control.dataplane_users", c->dp_users, c->n_dp_users,
				"control.dataplane_groups", c->dp_groups, c->n_dp_groups, err,
				errlen);
	if (rc < 0)
		ctl_access_free(api);
	return rc;
}

/* Install the socket policies (of the config that becomes the running one). */
static void access_apply(struct daemon *d, const struct ctl_access *api,
			 const struct ctl_access *dp)
{
	if (api_server_set_access(&d->api, api) < 0 || dataplane_link_set_access(&d->dp, dp) < 0)
		ctl_log(LOG_ERR, "socket access: out of memory; the previous policy stays");
}

/*
 * The first image of n whose file is not the one its pinned SHA-256 (images[].sha256) says,
 * into msg; -1 when every pinned one matches (an unreadable file is another matter).
 */
static long pin_mismatch(const struct running_config *n, char *msg, size_t cap)
{
	for (size_t i = 0; i < n->cfg.n_images; i++) {
		const struct sbcfg_image *im = &n->cfg.images[i];

		if (!im->sha256[0] || n->img[i].err || !n->img[i].sha256[0] ||
		    strcmp(n->img[i].sha256, im->sha256) == 0)
			continue;
		snprintf(msg, cap,
			 "images[%zu] \"%s\": SHA-256 of %.1024s is %s, but the config pins %s "
			 "(images[].sha256)",
			 i, im->name, im->path, n->img[i].sha256, im->sha256);
		return (long)i;
	}
	return -1;
}

/* The head change c is over: take it off the queue, say so, free it. */
static void finish(struct daemon *d, struct daemon_change *c, int rc, const char *msg)
{
	d->changes = c->next;
	ctl_log(rc < 0 ? LOG_ERR : LOG_INFO, "%s: %s", c->what, msg);
	if (c->reload)
		snprintf(d->last_reload, sizeof(d->last_reload), "%s", msg);
	if (c->done)
		c->done(d, c->done_arg, c->cookie, rc, msg);
	change_free(c);
}

/* Send the running config again under a new generation, so that a dataplane that adopted
 * something else comes back to it. The message says so (appended to msg). */
static void resend_running(struct daemon *d, char *msg, size_t cap)
{
	if (!dataplane_link_connected(&d->dp))
		return;
	d->cur->generation = ++d->generation_seq;
	if (dataplane_link_send_config(&d->dp, &d->cur->cfg, d->cur->generation, 0, NULL, NULL,
				       0) == 0)
		snprintf(msg + strlen(msg), cap - strlen(msg), " and sent again as generation %llu",
			 (unsigned long long)d->cur->generation);
}

/* Make c's config the running one; how says where it is in effect. */
static void commit(struct daemon *d, struct daemon_change *c, const char *how)
{
	struct running_config *n = c->next_cfg;
	char err[SBCFG_ERR_MAX], msg[MSG_MAX];
	int rc, dropped;

	if (c->write_back) {
		char *json = sbcfg_to_json_file(&n->cfg);
		rc = json ? running_config_write_atomic(n->path, json, strlen(json), err,
							sizeof(err))
			  : -ENOMEM;
		free(json);
		if (rc < 0) {
			snprintf(msg, sizeof(msg), "not saved: %s; running configuration kept",
				 rc == -ENOMEM ? "out of memory" : err);
			if (c->generation)
				resend_running(d, msg, sizeof(msg));
			finish(d, c, rc, msg);
			return;
		}
	}
	/* every queued lease is on disk before the pool moves */
	dataplane_link_durable_flush(&d->dp);
	dropped = lease_store_set_config(d->store, &n->cfg, daemon_now(d), err, sizeof(err));
	if (dropped < 0) {
		snprintf(msg, sizeof(msg), "lease store: %s; running configuration kept", err);
		if (c->write_back) {
			char *json = sbcfg_to_json_file(&d->cur->cfg), e2[256];
			if (!json || running_config_write_atomic(d->cur->path, json, strlen(json),
								 e2, sizeof(e2)) < 0)
				snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg),
					 " (but the config file holds the refused one)");
			free(json);
		}
		if (c->generation)
			resend_running(d, msg, sizeof(msg));
		finish(d, c, dropped, msg);
		return;
	}
	n->generation = c->generation ? c->generation : ++d->generation_seq;
	running_config_free(d->cur);
	d->cur = n;
	c->next_cfg = NULL;
	access_apply(d, &c->api_access, &c->dp_access);
	http_boot_apply(d->http); /* follow http.listen */
	client_trace_apply(&d->trace); /* follow syslog */
	metrics_apply(d->metrics); /* follow metrics.listen */
	if (tftp_root_watch_set(&d->root_watch, n->cfg.tftp_root, err, sizeof(err)) < 0)
		ctl_log(LOG_ERR, "%s; changes of its files are not followed", err);
	snprintf(msg, sizeof(msg), "configuration generation %llu %s",
		 (unsigned long long)n->generation, how);
	if (dropped)
		snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg),
			 "; %d lease%s no longer fit and were dropped", dropped,
			 dropped == 1 ? "" : "s");
	if (c->bad)
		snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg),
			 "; warning: %d image file%s unreadable, first %s", c->bad,
			 c->bad == 1 ? "" : "s", c->warn);
	finish(d, c, 0, msg);
}

static void kick(struct daemon *d);

/* The dataplane's answer about the head change's generation. */
static void on_confirm(void *arg, uint64_t generation, const struct dataplane_link_reply *r)
{
	struct daemon *d = arg;
	struct daemon_change *c = d->changes;
	unsigned long long gen = (unsigned long long)generation;
	unsigned long long kept = (unsigned long long)d->cur->generation;
	char msg[MSG_MAX];

	if (!c || c->state != CHANGE_CONFIRMING || c->generation != generation)
		return; /* a change that already ended */
	switch (r->outcome) {
	case DATAPLANE_LINK_REPLIED:
		if (r->status == 0) {
			commit(d, c, "in effect in the dataplane");
			break;
		}
		if (r->len)
			snprintf(msg, sizeof(msg),
				 "the dataplane refused configuration generation %llu: %.*s; "
				 "running configuration (generation %llu) kept",
				 gen, (int)(r->len < 1024 ? r->len : 1024),
				 (const char *)r->payload, kept);
		else
			snprintf(msg, sizeof(msg),
				 "the dataplane refused configuration generation %llu: %s; "
				 "running configuration (generation %llu) kept",
				 gen, strerror(-r->status), kept);
		finish(d, c, r->status < 0 ? r->status : -EPROTO, msg);
		break;
	case DATAPLANE_LINK_TIMED_OUT:
		snprintf(
			msg, sizeof(msg),
			"the dataplane did not confirm configuration generation %llu within %u ms; "
			"not applied: running configuration kept",
			gen, d->confirm_timeout_ms);
		resend_running(d, msg, sizeof(msg));
		finish(d, c, -ETIMEDOUT, msg);
		break;
	case DATAPLANE_LINK_GONE:
		snprintf(msg, sizeof(msg),
			 "the dataplane disconnected before confirming configuration generation "
			 "%llu; not applied: running configuration (generation %llu) kept",
			 gen, kept);
		finish(d, c, -ECONNRESET, msg);
		break;
	}
	kick(d);
}

/* The head change's images are hashed: send it to the dataplane, or commit it at once. */
static void send_or_commit(struct daemon *d, struct daemon_change *c)
{
	char msg[MSG_MAX];
	int rc;

	if (!dataplane_link_connected(&d->dp)) {
		commit(d, c, "applied; no dataplane connected");
		return;
	}
	c->generation = ++d->generation_seq;
	rc = dataplane_link_send_config(&d->dp, &c->next_cfg->cfg, c->generation,
					d->confirm_timeout_ms, on_confirm, d, c->generation);
	if (rc == -ENOTCONN) { /* the link just failed */
		c->generation = 0;
		commit(d, c, "applied; no dataplane connected");
		return;
	}
	if (rc < 0) {
		snprintf(msg, sizeof(msg), "configuration generation %llu not sent: %s",
			 (unsigned long long)c->generation, strerror(-rc));
		finish(d, c, rc, msg);
		return;
	}
	c->state = CHANGE_CONFIRMING;
	if (!c->wait && c->done) {
		snprintf(msg, sizeof(msg),
			 "configuration generation %llu sent to the dataplane; not waiting for it "
			 "(it becomes the running configuration once the dataplane adopts it)",
			 (unsigned long long)c->generation);
		c->done(d, c->done_arg, c->cookie, 0, msg);
		c->done = NULL; /* the outcome is only logged */
	}
}

static void on_hashed(void *arg, struct image_hasher_result *r)
{
	struct daemon_change *c = arg;
	struct daemon *d = c->d;
	struct running_config *n = c->next_cfg;
	char msg[MSG_MAX];

	if (r->status < 0) {
		free(r->img);
		finish(d, c, r->status, "stormboot-control is shutting down");
		return;
	}
	if (c->registry) { /* nothing changed meanwhile: the queue waited for this */
		long bad;

		free(d->cur->img);
		d->cur->img = r->img;
		d->registry_pending = false;
		/* A pinned image whose file is another is refused: never served over HTTP; the
		 * dataplane refuses it too (and every change keeps it out until it is fixed). */
		while ((bad = pin_mismatch(d->cur, msg, sizeof(msg))) >= 0) {
			d->cur->img[bad].err = -EBADMSG;
			d->pins_refused++;
			ctl_log(LOG_ERR, "%s: refused, not served", msg);
		}
		if (r->bad)
			ctl_log(LOG_WARNING, "%d image file%s unreadable, first %s", r->bad,
				r->bad == 1 ? "" : "s", r->warn);
		snprintf(msg, sizeof(msg), "%zu image%s, %u file%s read", r->n,
			 r->n == 1 ? "" : "s", r->hashed, r->hashed == 1 ? "" : "s");
		finish(d, c, 0, msg);
		kick(d);
		return;
	}
	free(n->img);
	n->img = r->img;
	c->bad = r->bad;
	snprintf(c->warn, sizeof(c->warn), "%s", r->warn);
	if (pin_mismatch(n, msg, sizeof(msg) - 200) >= 0) {
		snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg),
			 "; refused, running configuration (generation %llu) kept",
			 (unsigned long long)d->cur->generation);
		d->pins_refused++;
		finish(d, c, -EBADMSG, msg);
		kick(d);
		return;
	}
	for (size_t i = 0; c->must_read && i < n->cfg.n_images; i++) {
		if (strcmp(n->cfg.images[i].path, c->must_read) != 0 || !n->img[i].err)
			continue;
		int e = n->img[i].err;
		snprintf(msg, sizeof(msg), "%s: %s", c->must_read,
			 e == -EISDIR || e == -EINVAL ? "not a regular file" : strerror(-e));
		finish(d, c, e, msg);
		kick(d);
		return;
	}
	send_or_commit(d, c);
	kick(d);
}

/* Build the head change's config and start hashing its images; or end it. */

/* Has a registered image's file changed since it was hashed (a reload then hashes it
 * again: "re-registering" an image whose file was replaced or rewritten)? */
static bool registry_stale(const struct running_config *rc)
{
	for (size_t i = 0; rc->img && i < rc->cfg.n_images; i++) {
		const struct running_config_image *m = &rc->img[i];
		struct stat sb;
		if (stat(rc->cfg.images[i].path, &sb) < 0)
			return m->sha256[0] != '\0';
		if (m->size != (uint64_t)sb.st_size || m->dev != (uint64_t)sb.st_dev ||
		    m->ino != (uint64_t)sb.st_ino ||
		    m->mtime_ns != (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec ||
		    m->ctime_ns != (int64_t)sb.st_ctim.tv_sec * 1000000000 + sb.st_ctim.tv_nsec)
			return true;
	}
	return false;
}

/*
 * Cluster mode, config-reload: etcd's shared config wins over the file's shared sections
 * (shared_config.h); say so when they differ. 0, or -errno with err (next freed then).
 */
static int shared_overlay(struct daemon *d, struct sbcfg *next, char *err, size_t errlen)
{
	char *mine = config_share_split(next), diff[128];
	struct sbcfg m;
	int rc;

	if (mine && config_share_diff(mine, d->shared_config_doc, diff, sizeof(diff)))
		ctl_log(LOG_WARNING,
			"config-reload: the file's shared sections (%s) differ from etcd's shared "
			"config; etcd's apply (publish the file's with stormbootctl config-share)",
			diff);
	free(mine);
	rc = config_share_merge(next, d->shared_config_doc, strlen(d->shared_config_doc), &m, err,
				errlen);
	sbcfg_free(next);
	if (rc == 0)
		*next = m;
	return rc;
}

static void start(struct daemon *d, struct daemon_change *c)
{
	char err[SBCFG_ERR_MAX], msg[MSG_MAX];
	struct sbcfg next;
	int rc;

	if (c->registry) {
		rc = image_hasher_submit(d->hasher, d->cur->cfg.images, d->cur->cfg.n_images, NULL,
					 on_hashed, c);
		if (rc < 0) {
			snprintf(msg, sizeof(msg), "image hashing: %s", strerror(-rc));
			finish(d, c, rc, msg);
		} else {
			c->state = CHANGE_HASHING;
		}
		return;
	}
	if (c->reload) {
		rc = sbcfg_load_file(d->cur->path, &next, err, sizeof(err));
		if (rc < 0) {
			snprintf(msg, sizeof(msg),
				 "reload refused, running configuration (generation %llu) kept: %s",
				 (unsigned long long)d->cur->generation, err);
			finish(d, c, rc, msg);
			return;
		}
		if (d->shared_config_doc && (rc = shared_overlay(d, &next, err, sizeof(err))) < 0) {
			snprintf(msg, sizeof(msg),
				 "reload refused, running configuration (generation %llu) kept: %s",
				 (unsigned long long)d->cur->generation, err);
			finish(d, c, rc, msg);
			return;
		}
		if ((rc = daemon_root_expand(&next, err, sizeof(err))) < 0) {
			sbcfg_free(&next);
			snprintf(msg, sizeof(msg),
				 "reload refused, running configuration (generation %llu) kept: %s",
				 (unsigned long long)d->cur->generation, err);
			finish(d, c, rc, msg);
			return;
		}
		if (sbcfg_equal(&next, &d->cur->cfg) && !registry_stale(d->cur)) {
			sbcfg_free(&next);
			snprintf(msg, sizeof(msg), "configuration unchanged (generation %llu)",
				 (unsigned long long)d->cur->generation);
			finish(d, c, 0, msg);
			return;
		}
	} else {
		if ((rc = running_config_copy(&d->cur->cfg, &next, err, sizeof(err))) < 0) {
			finish(d, c, rc, err);
			return;
		}
		if ((rc = c->edit(&next, c->arg, err, sizeof(err))) < 0 ||
		    (rc = daemon_root_expand(&next, err, sizeof(err))) < 0) {
			sbcfg_free(&next);
			finish(d, c, rc, err);
			return;
		}
	}
	if ((rc = sbcfg_validate(&next, err, sizeof(err))) < 0 ||
	    (rc = access_of(&next, &c->api_access, &c->dp_access, err, sizeof(err))) < 0) {
		sbcfg_free(&next);
		snprintf(msg, sizeof(msg), "refused: %s", err);
		finish(d, c, rc, msg);
		return;
	}
	if (!(c->next_cfg = running_config_new(d->cur->path, &next))) {
		sbcfg_free(&next);
		finish(d, c, -ENOMEM, "out of memory");
		return;
	}
	rc = image_hasher_submit(d->hasher, c->next_cfg->cfg.images, c->next_cfg->cfg.n_images,
				 d->cur, on_hashed, c);
	if (rc < 0) {
		snprintf(msg, sizeof(msg), "image hashing: %s", strerror(-rc));
		finish(d, c, rc, msg);
		return;
	}
	c->state = CHANGE_HASHING;
}

/* Start queued changes until one is in progress (or none is left). */
static void kick(struct daemon *d)
{
	if (d->kicking || d->closing)
		return;
	d->kicking = true;
	while (d->changes && d->changes->state == CHANGE_QUEUED)
		start(d, d->changes);
	d->kicking = false;
}

static void enqueue(struct daemon *d, struct daemon_change *c)
{
	struct daemon_change **p = &d->changes;

	while (*p)
		p = &(*p)->next;
	*p = c;
	kick(d);
}

void daemon_change(struct daemon *d, const struct daemon_change_req *req)
{
	struct daemon_change *c = calloc(1, sizeof(*c));

	if (c && req->arg_len && !(c->arg = malloc(req->arg_len)))
		goto oom;
	if (c && req->must_read && !(c->must_read = strdup(req->must_read)))
		goto oom;
	if (!c)
		goto oom;
	if (req->arg_len)
		memcpy(c->arg, req->arg, req->arg_len);
	c->d = d;
	snprintf(c->what, sizeof(c->what), "%s", req->what);
	c->edit = req->edit;
	c->write_back = req->write_back;
	c->wait = req->wait;
	c->done = req->done;
	c->done_arg = req->done_arg;
	c->cookie = req->cookie;
	enqueue(d, c);
	return;
oom:
	if (c)
		change_free(c);
	ctl_log(LOG_ERR, "%s: out of memory", req->what);
	if (req->done)
		req->done(d, req->done_arg, req->cookie, -ENOMEM, "out of memory");
}

void daemon_reload(struct daemon *d, bool wait, daemon_change_done_fn *done, void *done_arg,
		   uint64_t cookie)
{
	struct daemon_change *c = calloc(1, sizeof(*c));

	if (!c) {
		ctl_log(LOG_ERR, "config-reload: out of memory");
		if (done)
			done(d, done_arg, cookie, -ENOMEM, "out of memory");
		return;
	}
	c->d = d;
	snprintf(c->what, sizeof(c->what), "config-reload");
	c->reload = true;
	c->wait = wait;
	c->done = done;
	c->done_arg = done_arg;
	c->cookie = cookie;
	enqueue(d, c);
}

static void before_sleep(struct ev_loop *l, void *arg)
{
	struct daemon *d = arg;

	/* group commit: the records of this iteration, one fdatasync */
	dataplane_link_durable_flush(&d->dp);
	/* ... and in a cluster, one etcd transaction (when none is in flight) */
	if (d->cluster)
		cluster_kick(d->cluster);
}

static long compact_timer(struct ev_loop *l, long long id, void *arg)
{
	struct daemon *d = arg;
	char err[512];

	if (lease_store_should_compact(d->store, daemon_now(d))) {
		dataplane_link_durable_flush(&d->dp);
		if (lease_store_compact(d->store, daemon_now(d), err, sizeof(err)) < 0)
			ctl_log(LOG_ERR, "lease store compaction: %s", err);
		else
			ctl_log(LOG_INFO, "lease store compacted");
	}
	return COMPACT_CHECK_MS;
}

static void log_replay(struct daemon *d)
{
	struct lease_store_stats s;
	struct lease_stats ls;

	lease_store_get_stats(d->store, &s);
	lease_pool_stats(lease_store_pool(d->store), daemon_now(d), &ls);
	ctl_log(LOG_INFO, "lease store %s: %llu records replayed, %u leases bound", d->state_dir,
		(unsigned long long)s.replayed, ls.bound);
	if (s.replay_torn)
		ctl_log(LOG_WARNING, "lease store: torn last record ignored (a write cut short by "
				     "a crash; it was never confirmed)");
	if (s.replay_corrupt)
		ctl_log(LOG_ERR, "lease store: %llu records with a bad CRC skipped; log rewritten",
			(unsigned long long)s.replay_corrupt);
	if (s.replay_conflicts || s.replay_rejected)
		ctl_log(LOG_WARNING,
			"lease store: %llu address conflicts resolved, %llu records "
			"that no longer fit the config ignored",
			(unsigned long long)s.replay_conflicts,
			(unsigned long long)s.replay_rejected);
}

int daemon_root_expand(struct sbcfg *cfg, char *err, size_t errlen)
{
	struct sbcfg_root_scan s;
	int rc = sbcfg_root_expand(cfg, &s, err, errlen);

	if (rc < 0)
		return rc;
	if (s.skipped)
		ctl_log(LOG_WARNING, "tftp_root: %zu entr%s left out, first %s", s.skipped,
			s.skipped == 1 ? "y" : "ies", s.warn);
	return sbcfg_validate(cfg, err, errlen);
}

/* The change made for tftp_root: its scan is done by start(), as for every change. */
static int root_edit(struct sbcfg *next, const void *arg, char *err, size_t errlen)
{
	struct daemon *d = *(struct daemon *const *)arg;

	d->root_queued = false; /* events from now on make another change */
	return 0;
}

/*
 * Whether the files under tftp_root are other than the running config's: another list of
 * names, or a file whose identity (device, inode, size, mtime) is not the one hashed.
 */
static bool root_differs(struct daemon *d)
{
	const struct running_config *cur = d->cur;
	struct sbcfg next;
	char err[SBCFG_ERR_MAX];
	bool differs = true;

	if (d->registry_pending || running_config_copy(&cur->cfg, &next, err, sizeof(err)) < 0)
		return true;
	if (sbcfg_root_expand(&next, NULL, err, sizeof(err)) < 0 ||
	    next.n_images != cur->cfg.n_images)
		goto out;
	for (size_t i = 0; i < next.n_images; i++) {
		const struct running_config_image *r = &cur->img[i];
		struct stat st;

		if (strcmp(next.images[i].name, cur->cfg.images[i].name) != 0 ||
		    strcmp(next.images[i].path, cur->cfg.images[i].path) != 0)
			goto out;
		if (!next.images[i].from_root)
			continue;
		if (stat(next.images[i].path, &st) < 0 || (uint64_t)st.st_size != r->size ||
		    (uint64_t)st.st_dev != r->dev || (uint64_t)st.st_ino != r->ino ||
		    (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec != r->mtime_ns)
			goto out;
	}
	differs = false;
out:
	sbcfg_free(&next);
	return differs;
}

/* tftp_root_watch: files under tftp_root changed (events settled). */
static void root_changed(void *arg)
{
	struct daemon *d = arg;
	struct daemon *self = d;

	if (d->root_queued || d->closing)
		return;
	if (!root_differs(d)) {
		ctl_log(LOG_DEBUG, "tftp_root: events, but no file changed");
		return;
	}
	d->root_queued = true;
	d->root_changes++;
	struct daemon_change_req req = {
		.what = "tftp_root",
		.edit = root_edit,
		.arg = &self,
		.arg_len = sizeof(self),
		.write_back = false, /* the found files are never written to the config file */
		.wait = true,
	};
	daemon_change(d, &req);
}

/* The config file; its images are hashed by the first entry of the change queue. */
static int load_config(struct daemon *d, const char *path, char *err, size_t errlen)
{
	struct sbcfg cfg;
	int rc;

	if ((rc = sbcfg_load_file(path, &cfg, err, errlen)) < 0)
		return rc;
	if ((rc = daemon_root_expand(&cfg, err, errlen)) < 0) {
		sbcfg_free(&cfg);
		return rc;
	}
	if (!(d->cur = running_config_new(path, &cfg))) {
		sbcfg_free(&cfg);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

static void on_timeline(void *arg, const struct sb_tl_event *ev, size_t n)
{
	struct daemon *d = arg;

	d->trace.from_dataplane += n;
	client_trace_add(&d->trace, ev, n);
}

static void on_http_step(void *arg, uint32_t ip, const char *path, int status, uint64_t bytes)
{
	struct daemon *d = arg;

	client_trace_http(&d->trace, NULL, ip, path, status, bytes);
}

static int on_firmware(void *arg, const uint8_t mac[6], uint32_t ip, bool leased, const char *text)
{
	struct daemon *d = arg;

	return client_trace_firmware(&d->trace, mac, ip, leased, text);
}

int daemon_open(struct daemon *d, const struct daemon_options *o, char *err, size_t errlen)
{
	char dp_path[sizeof(d->dp.path)], tmp[sizeof(d->api.path)];
	int rc;

	memset(d, 0, sizeof(*d));
	d->api.lfd = -1;
	d->root_watch.fd = -1;
	d->compact_timer = -1;
	d->clock = ctl_clock_default();
	d->confirm_timeout_ms =
		o->confirm_timeout_ms ? o->confirm_timeout_ms : DAEMON_CONFIRM_TIMEOUT_MS;
	snprintf(d->state_dir, sizeof(d->state_dir), "%s", o->state_dir);
	d->shared_image_fn = o->shared_image;
	d->shared_resv_loaded_fn = o->shared_resv_loaded;
	d->shared_config_fn = o->shared_config;
	snprintf(tmp, sizeof(tmp), "%s", o->api_socket);
	if (o->dp_socket)
		snprintf(dp_path, sizeof(dp_path), "%s", o->dp_socket);
	else
		snprintf(dp_path, sizeof(dp_path), "%s/dataplane.sock", dirname(tmp));

	if ((rc = load_config(d, o->config, err, errlen)) < 0)
		return rc;
	d->store = lease_store_open(d->state_dir, &d->cur->cfg, daemon_now(d), err, errlen);
	if (!d->store) {
		char why[512];
		snprintf(why, sizeof(why), "lease store: %s", err);
		snprintf(err, errlen, "%s", why);
		return -EIO;
	}
	log_replay(d);
	if (!(d->loop = ev_loop_new(65536, err, errlen)))
		return -ENOMEM;
	ev_lock_enable(d->loop); /* HTTP boot's thread reads what the loop owns under it */
	struct ctl_access api_access, dp_access;
	if ((rc = access_of(&d->cur->cfg, &api_access, &dp_access, err, errlen)) < 0)
		return rc;
	rc = api_server_open(&d->api, d->loop, o->api_socket, o->dispatch, d, err, errlen);
	if (rc == 0 && api_server_set_access(&d->api, &api_access) < 0) {
		snprintf(err, errlen, "out of memory");
		rc = -ENOMEM;
	}
	ctl_access_free(&api_access);
	if (rc < 0) {
		ctl_access_free(&dp_access);
		return rc;
	}
	struct ctl_clock clock = {clock_now, d};
	struct client_trace_deps td = {d->loop, d->store, daemon_running, d, clock, NULL};
	if (client_trace_open(&d->trace, &td) < 0) {
		snprintf(err, errlen, "client timelines: out of memory");
		return -ENOMEM;
	}
	client_trace_apply(&d->trace);
	struct dataplane_link_deps dd = {d->loop, d->store, daemon_running,
					 d,	  clock,    DAEMON_VERSION, on_timeline, NULL, NULL, NULL};
	rc = dataplane_link_open(&d->dp, &dd, dp_path, err, errlen);
	if (rc == 0 && dataplane_link_set_access(&d->dp, &dp_access) < 0) {
		snprintf(err, errlen, "out of memory");
		rc = -ENOMEM;
	}
	ctl_access_free(&dp_access);
	if (rc < 0)
		return rc;
	struct http_boot_deps hd = {d->loop,	   d->state_dir, d->store, daemon_running,
				    d,		   clock,	 on_http_step, on_firmware};
	if ((rc = http_boot_start(&d->http, &hd, err, errlen)) < 0)
		return rc;
	/* the dataplane mints the tokens of DHCP boot-file URLs (UEFI HTTP boot) */
	dataplane_link_set_token_keys(&d->dp, &d->http->keys);
	struct metrics_deps md = {d->loop, &d->dp,	   d->store,	daemon_running, d,
				  clock,   DAEMON_VERSION, ev_now_ms(), &d->trace, d->http,
				  metrics_cluster};
	if ((rc = metrics_start(&d->metrics, &md, err, errlen)) < 0)
		return rc;
	tftp_root_watch_init(&d->root_watch, d->loop, root_changed, d);
	if (tftp_root_watch_set(&d->root_watch, d->cur->cfg.tftp_root, err, errlen) < 0)
		return -EIO;
	if (!(d->hasher = image_hasher_new(d->loop, err, errlen)))
		return -ENOMEM;
	ev_set_before_sleep(d->loop, before_sleep, d);
	d->compact_timer = ev_timer_add(d->loop, COMPACT_CHECK_MS, compact_timer, d);
	d->started_ms = ev_now_ms();
	/* The image registry is filled beside the loop, before any change (they queue behind
	 * it): a start with many gigabytes of images does not keep the sockets shut. */
	struct daemon_change *c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	c->d = d;
	snprintf(c->what, sizeof(c->what), "image registry");
	c->registry = true;
	d->registry_pending = true;
	d->changes = c;
	return 0;
}

void daemon_start(struct daemon *d)
{
	http_boot_run(d->http);
	if (d->cur->cfg.cluster.enabled)
		daemon_cluster_start(d, (struct ctl_clock){clock_now, d});
	kick(d);
}

void daemon_close(struct daemon *d)
{
	d->closing = true;
	/* first the clients: no request may start while the parts below go away */
	if (d->api.loop)
		api_server_close(&d->api);
	image_hasher_free(d->hasher); /* the change hashing now ends, cancelled */
	d->hasher = NULL;
	while (d->changes)
		finish(d, d->changes, -ECANCELED, "stormboot-control is shutting down");
	cluster_free(d->cluster); /* its threads end; the records it held are not answered */
	d->cluster = NULL;
	d->dp.deps.remote_submit = NULL;
	if (d->dp.deps.loop) {
		dataplane_link_durable_flush(&d->dp);
		dataplane_link_close(&d->dp);
	}
	http_boot_stop(d->http);
	d->http = NULL;
	client_trace_close(&d->trace);
	metrics_stop(d->metrics); /* after the link: its answers resumed every waiting request */
	d->metrics = NULL;
	if (d->loop)
		tftp_root_watch_close(&d->root_watch);
	if (d->loop) {
		if (d->compact_timer > 0)
			ev_timer_del(d->loop, d->compact_timer);
		ev_loop_free(d->loop);
		d->loop = NULL;
	}
	lease_store_close(d->store);
	d->store = NULL;
	running_config_free(d->cur);
	d->cur = NULL;
	free(d->shared_config_doc);
	d->shared_config_doc = NULL;
}
