/* SPDX-License-Identifier: BSD-3-Clause */
/* shared_config.c - the fleet-wide config sections through etcd (see .h). */
#include "shared_config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "cluster.h"
#include "cluster_apply.h"
#include "config_share.h"
#include "ctl_log.h"
#include "daemon.h"
#include "sbcfg_json.h"

#define MSG_MAX (SBCFG_ERR_MAX + 512)

/* The change's edit: next's shared sections replaced by the document arg (NUL-terminated). */
static int edit_merge(struct sbcfg *next, const void *arg, char *err, size_t errlen)
{
	const char *doc = arg;
	struct sbcfg m;
	int rc = config_share_merge(next, doc, strlen(doc), &m, err, errlen);

	if (rc < 0)
		return rc;
	sbcfg_free(next);
	*next = m;
	return 0;
}

/* Remember doc (canonical) as etcd's document, for config-reload. */
static void keep_doc(struct daemon *d, const char *doc)
{
	char *s = strdup(doc);

	if (!s) {
		ctl_log(LOG_ERR, "cluster: shared config: out of memory");
		return;
	}
	free(d->shared_config_doc);
	d->shared_config_doc = s;
}

/* The canonical document of doc merged over the running config, into *canon (free()); 0, or
 * -errno with the reason in err. */
static int canonical(struct daemon *d, const char *doc, size_t len, char **canon, char *err,
		     size_t errlen)
{
	struct sbcfg m;
	int rc = config_share_merge(&d->cur->cfg, doc, len, &m, err, errlen);

	if (rc < 0)
		return rc;
	*canon = config_share_split(&m);
	sbcfg_free(&m);
	if (!*canon) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

/* ---- the watch (etcd first, then here) ---- */

struct applied {
	int64_t rev;
	uint64_t hold; /* the set's progress waits for this change (cluster_apply.h) */
	char doc[];    /* canonical */
};

/* hold: the change's (0: inside the hook, its change): the refusal is published with it for
 * the API waiting on it (cluster_apply.h). */
static void refused(struct daemon *d, int64_t rev, uint64_t hold, const char *msg)
{
	char why[1024]; /* cut to CLUSTER_REFUSAL_WHY_MAX when published */

	snprintf(why, sizeof(why), "config: %s", msg);
	if (d->cluster)
		cluster_apply_refused(d->cluster, hold, why);
	d->shared_config_refused++;
	if (strstr(msg, "kept")) /* the change path said so already */
		ctl_log(LOG_ERR,
			"cluster: shared config (etcd revision %lld) refused by this server: %s",
			(long long)rev, msg);
	else
		ctl_log(LOG_ERR,
			"cluster: shared config (etcd revision %lld) refused by this server: %s; "
			"running configuration (generation %llu) kept",
			(long long)rev, msg, (unsigned long long)d->cur->generation);
}

static void on_applied(struct daemon *d, void *arg, uint64_t cookie, int rc, const char *msg)
{
	struct applied *a = arg;

	(void)cookie;
	if (rc < 0) {
		refused(d, a->rev, a->hold, msg);
	} else {
		d->shared_config_applied++;
		keep_doc(d, a->doc);
		ctl_log(LOG_INFO, "cluster: shared config (etcd revision %lld) in effect: %s",
			(long long)a->rev, msg);
	}
	if (d->cluster)
		cluster_apply_done(d->cluster, a->hold);
	free(a);
}

static void on_pushed(void *arg, uint64_t cookie, int rc, const char *err)
{
	struct daemon *d = arg;

	(void)cookie;
	if (rc == 0) {
		d->shared_config_pushed++;
		ctl_log(LOG_INFO, "cluster: etcd had no shared config: this server's file's shared "
				  "sections pushed (dhcp, tftp, udp_checksum, syslog)");
	} else if (rc == -EEXIST) {
		ctl_log(LOG_INFO, "cluster: shared config: %s; etcd's applies", err);
	} else {
		ctl_log(LOG_ERR, "cluster: shared config not pushed to etcd: %s", err);
	}
}

void shared_config_on_etcd(void *arg, const char *value, size_t len, int64_t rev, bool present)
{
	struct daemon *d = arg;
	bool first = !d->shared_config_seen;
	char err[SBCFG_ERR_MAX], diff[128], *canon = NULL, *mine;
	struct applied *a;

	d->shared_config_seen = true;
	if (!present && rev == 0) { /* first read: etcd has none, ours goes there */
		char *doc = config_share_split(&d->cur->cfg);
		if (!doc || cluster_config_push(d->cluster, doc, strlen(doc), on_pushed, d) < 0)
			ctl_log(LOG_ERR,
				"cluster: shared config not pushed to etcd: out of memory");
		free(doc);
		return;
	}
	if (!present) {
		ctl_log(LOG_WARNING,
			"cluster: shared config deleted from etcd (revision %lld): every server "
			"keeps "
			"its running configuration; put one again with stormbootctl config-share",
			(long long)rev);
		free(d->shared_config_doc);
		d->shared_config_doc = NULL;
		d->shared_config_rev = rev;
		return;
	}
	d->shared_config_rev = rev;
	if (canonical(d, value, len, &canon, err, sizeof(err)) < 0) {
		refused(d, rev, 0, err);
		return;
	}
	if (!(mine = config_share_split(&d->cur->cfg))) {
		free(canon);
		refused(d, rev, 0, "out of memory");
		return;
	}
	if (config_share_diff(mine, canon, diff, sizeof(diff))) {
		if (first)
			ctl_log(LOG_WARNING,
				"cluster: this server's config differs from etcd's shared config "
				"in: "
				"%s; etcd's applies (once etcd holds a shared config, it wins; "
				"publish "
				"a file's with stormbootctl config-share)",
				diff);
	} else {
		keep_doc(d, canon); /* the same here (our own change, seen back) */
		free(mine);
		free(canon);
		return;
	}
	free(mine);
	if (!(a = malloc(sizeof(*a) + strlen(canon) + 1))) {
		free(canon);
		refused(d, rev, 0, "out of memory");
		return;
	}
	a->rev = rev;
	a->hold = cluster_apply_hold(d->cluster);
	strcpy(a->doc, canon);
	struct daemon_change_req req = {.what = "config (shared)",
					.edit = edit_merge,
					.arg = canon,
					.arg_len = strlen(canon) + 1,
					.write_back = true,
					.wait = true,
					.done = on_applied,
					.done_arg = a};
	daemon_change(d, &req);
	free(canon);
}

/* ---- config-share (this server first, then etcd) ---- */

struct share_op {
	struct daemon *d;
	char msg[MSG_MAX]; /* the local outcome */
	char *doc;	   /* what goes to etcd */
};

static void op_free(struct share_op *op)
{
	free(op->doc);
	free(op);
}

static void on_written(void *arg, uint64_t conn, int rc, const char *err)
{
	struct share_op *op = arg;

	api_server_reply(&op->d->api, conn, cluster_written_reply("config-share", op->msg, rc, err));
	if (rc == 0) /* etcd's now (not before: a failed write leaves etcd's as it was) */
		keep_doc(op->d, op->doc);
	op_free(op);
}

static void on_local_done(struct daemon *d, void *arg, uint64_t conn, int rc, const char *msg)
{
	struct share_op *op = arg;
	int wrc;

	if (rc < 0) {
		api_server_reply(
			&d->api, conn,
			api_fail("config-share: refused by this server, not shared: %s", msg));
		op_free(op);
		return;
	}
	snprintf(op->msg, sizeof(op->msg), "config-share: %s; shared through etcd", msg);
	if (!(op->doc = config_share_split(&d->cur->cfg))) {
		api_server_reply(
			&d->api, conn,
			api_fail("config-share: in effect on this server only, NOT shared: "
				 "out of memory"));
		op_free(op);
		return;
	}
	wrc = cluster_config_write(d->cluster, op->doc, strlen(op->doc), on_written, op, conn);
	if (wrc < 0) {
		api_server_reply(
			&d->api, conn,
			api_fail("config-share: in effect on this server only, NOT shared: %s",
				 strerror(-wrc)));
		op_free(op);
	}
}

char *shared_config_share(struct daemon *d, uint64_t conn, json_t *args)
{
	json_t *cfgarg = json_object_get(args, "config");
	json_t *patharg = json_object_get(args, "path");
	char err[SBCFG_ERR_MAX], *doc = NULL;
	struct share_op *op;
	int rc;

	if (!d->cluster)
		return api_fail(
			"config-share: not in cluster mode (no \"cluster\" in the config, or "
			"its client did not start): nothing to share");
	if (cfgarg && patharg)
		return api_fail("config-share: give \"config\" or \"path\", not both");
	if (cfgarg) { /* a shared document */
		if (!(doc = json_dumps(cfgarg, JSON_COMPACT)))
			return api_fail("config-share: out of memory");
	} else { /* a config file (this server's own by default): its shared sections */
		const char *path = patharg ? json_string_value(patharg) : d->cur->path;
		struct sbcfg f;

		if (!path)
			return api_fail("config-share: path: not a string");
		if (sbcfg_load_file(path, &f, err, sizeof(err)) < 0)
			return api_fail("config-share: %s", err);
		doc = config_share_split(&f);
		sbcfg_free(&f);
		if (!doc)
			return api_fail("config-share: out of memory");
	}
	if ((rc = config_share_check(doc, strlen(doc), err, sizeof(err))) < 0) {
		free(doc);
		return api_fail("config-share: refused, not shared: %s", err);
	}
	if (!(op = calloc(1, sizeof(*op)))) {
		free(doc);
		return api_fail("config-share: out of memory");
	}
	op->d = d;
	struct daemon_change_req req = {.what = "config-share",
					.edit = edit_merge,
					.arg = doc,
					.arg_len = strlen(doc) + 1,
					.write_back = true,
					.wait = true,
					.done = on_local_done,
					.done_arg = op,
					.cookie = conn};
	daemon_change(d, &req);
	free(doc);
	return NULL; /* on_local_done, then on_written, answers */
}

void shared_config_status(const struct daemon *d, json_t *shared)
{
	if (!shared)
		return;
	json_object_set_new(shared, "config_revision", json_integer(d->shared_config_rev));
	json_object_set_new(shared, "config_applied",
			    json_integer((json_int_t)d->shared_config_applied));
	json_object_set_new(shared, "config_refused",
			    json_integer((json_int_t)d->shared_config_refused));
	json_object_set_new(shared, "config_pushed",
			    json_integer((json_int_t)d->shared_config_pushed));
}
