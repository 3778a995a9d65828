/* SPDX-License-Identifier: BSD-3-Clause */
/* commands.c - the operator commands of stormboot-control and their table (commands.h). */
#include "commands.h"

#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api_server.h"
#include "ctl_log.h"
#include "daemon.h"
#include "daemon_cluster.h"
#include "sbcfg_access.h"
#include "sbcfg_json.h"
#include "shared_config.h"
#include "shared_image.h"
#ifdef SB_HAVE_XDP_CTL
#include "xdp_ctl.h"
#endif

#define MSG_TEXT_MAX (SBCFG_ERR_MAX + 1200)

static const char *state_name(enum lease_state s)
{
	static const char *const n[] = {"free", "offered", "bound", "declined"};
	return (unsigned)s < 4 ? n[s] : "?";
}

static json_t *lease_json(const struct lease_info *l, uint64_t now)
{
	char m[18], ip[16];

	return json_pack("{s:s, s:s, s:s, s:I, s:I, s:i}", "mac", running_config_fmt_mac(l->mac, m),
			 "ip", running_config_fmt_ip(l->ip, ip), "state", state_name(l->state),
			 "expires", (json_int_t)l->expires, "expires_in",
			 (json_int_t)(l->expires > now ? l->expires - now : 0), "subnet",
			 (int)l->subnet);
}

/* {"mac"} or {"ip"}: 1 = by mac, 2 = by ip, or an error reply in *reply. */
static int mac_or_ip(json_t *args, uint8_t mac[6], uint32_t *ip, char **reply)
{
	const char *m = api_arg_str(args, "mac"), *i = api_arg_str(args, "ip");

	if (m && running_config_parse_mac(m, mac) == 0)
		return 1;
	if (i && running_config_parse_ip(i, ip) == 0)
		return 2;
	if (m || i)
		*reply = api_fail("\"%s\" is not a %s", m ? m : i,
				  m ? "MAC address (52:54:00:12:34:56)" : "IPv4 address");
	else
		*reply = api_fail("arguments need \"mac\" or \"ip\"");
	return 0;
}

struct collect {
	json_t *arr;
	const uint8_t *mac; /* filter, or NULL */
	uint64_t now;
	struct lease_info found[64];
	size_t n_found;
};

static int collect_cb(const struct lease_info *l, void *arg)
{
	struct collect *c = arg;

	if (c->mac && memcmp(c->mac, l->mac, 6) != 0)
		return 0;
	if (c->arr)
		json_array_append_new(c->arr, lease_json(l, c->now));
	if (c->n_found < 64)
		c->found[c->n_found++] = *l;
	return 0;
}

static int cmp_ip(const void *a, const void *b)
{
	const char *x = json_string_value(json_object_get(*(json_t *const *)a, "ip"));
	const char *y = json_string_value(json_object_get(*(json_t *const *)b, "ip"));
	uint32_t p = 0, q = 0;

	running_config_parse_ip(x, &p);
	running_config_parse_ip(y, &q);
	return p < q ? -1 : p > q;
}

static char *leases(struct daemon *d, json_t *args, bool one)
{
	struct collect c = {.arr = json_array(), .now = daemon_now(d)};
	uint8_t mac[6];
	uint32_t ip = 0;
	char *reply = NULL, t[128];
	int by = 0;

	if (one && !(by = mac_or_ip(args, mac, &ip, &reply))) {
		json_decref(c.arr);
		return reply;
	}
	if (by == 2) {
		struct lease_info l;
		if (lease_find_ip(lease_store_pool(d->store), ip, c.now, &l) == 0 &&
		    l.state != LEASE_FREE)
			collect_cb(&l, &c);
	} else {
		c.mac = by == 1 ? mac : NULL;
		lease_foreach(lease_store_pool(d->store), c.now, collect_cb, &c);
	}
	size_t n = json_array_size(c.arr);
	json_t **v = malloc((n ? n : 1) * sizeof(*v));
	if (v) { /* by address, so the table reads in order */
		for (size_t i = 0; i < n; i++)
			v[i] = json_incref(json_array_get(c.arr, i));
		qsort(v, n, sizeof(*v), cmp_ip);
		json_array_clear(c.arr);
		for (size_t i = 0; i < n; i++)
			json_array_append_new(c.arr, v[i]);
		free(v);
	}
	if (one && n == 0) {
		snprintf(t, sizeof(t), "no lease for %s",
			 api_arg_str(args, by == 1 ? "mac" : "ip"));
		json_decref(c.arr);
		return api_reply(API_EMPTY, t, NULL);
	}
	snprintf(t, sizeof(t), "%zu lease%s", n, n == 1 ? "" : "s");
	return api_reply(n ? API_OK : API_EMPTY, t, json_pack("{s:o}", "leases", c.arr));
}

char *cmd_lease_list(struct daemon *d, uint64_t conn_id, json_t *args)
{
	return leases(d, args, false);
}

char *cmd_lease_get(struct daemon *d, uint64_t conn_id, json_t *args)
{
	return leases(d, args, true);
}

char *cmd_lease_release(struct daemon *d, uint64_t conn_id, json_t *args)
{
	struct collect c = {.now = daemon_now(d)};
	struct lease_store_stats before, after;
	uint8_t mac[6];
	uint32_t ip = 0;
	char *reply = NULL, m[18], a[16], t[512];
	int by = mac_or_ip(args, mac, &ip, &reply);
	size_t done = 0;

	if (!by)
		return reply;
	if (by == 2) {
		struct lease_info l;
		if (lease_find_ip(lease_store_pool(d->store), ip, c.now, &l) == 0 &&
		    l.state == LEASE_BOUND)
			collect_cb(&l, &c);
	} else {
		c.mac = mac;
		lease_foreach(lease_store_pool(d->store), c.now, collect_cb, &c);
	}
	lease_store_get_stats(d->store, &before);
	t[0] = '\0';
	for (size_t i = 0; i < c.n_found; i++) {
		struct chan_lease ev = {.ip = c.found[i].ip,
					.event = CHAN_LEASE_RELEASED,
					.expires = c.now,
					.subnet = c.found[i].subnet};
		if (c.found[i].state != LEASE_BOUND)
			continue;
		memcpy(ev.mac, c.found[i].mac, 6);
		if (lease_store_apply(d->store, &ev, c.now) < 0)
			continue;
		done++;
		snprintf(t + strlen(t), sizeof(t) - strlen(t), "%s%s (%s)", done > 1 ? ", " : "",
			 running_config_fmt_ip(ev.ip, a), running_config_fmt_mac(ev.mac, m));
		dataplane_link_revoke(&d->dp, &ev);
	}
	if (done == 0)
		return api_reply(API_EMPTY, "no bound lease to release", NULL);
	dataplane_link_durable_flush(&d->dp); /* answer only once the release is on disk */
	lease_store_get_stats(d->store, &after);
	if (after.commit_errors != before.commit_errors)
		return api_fail("lease store commit failed; see the log");
	ctl_log(LOG_INFO, "operator released %s", t);
	return api_reply(API_OK, "released", json_pack("{s:s}", "released", t));
}

static json_t *reservation_json(const struct sbcfg_reservation *r)
{
	char m[18], ip[16];

	return json_pack("{s:s, s:o, s:s, s:s, s:s}", "mac", running_config_fmt_mac(r->mac, m),
			 "ip", r->ip ? json_string(running_config_fmt_ip(r->ip, ip)) : json_null(),
			 "hostname", r->hostname, "bootfile", r->bootfile, "ipxe_script",
			 r->ipxe_script);
}

static int put_str(char *dst, size_t cap, json_t *args, const char *key, char **reply)
{
	json_t *v = json_object_get(args, key);

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v)) {
		*reply = api_fail("%s: not a string", key);
		return -EINVAL;
	}
	if (json_string_length(v) >= cap) {
		*reply = api_fail("%s: longer than %zu characters", key, cap - 1);
		return -EINVAL;
	}
	strcpy(dst, json_string_value(v));
	return 0;
}

/* The outcome of a config change for connection conn; what (a literal) prefixes it. */
static void change_done(struct daemon *d, void *what, uint64_t conn, int rc, const char *msg)
{
	const char *w = what;
	char t[MSG_TEXT_MAX];

	snprintf(t, sizeof(t), "%s%s%s", w ? w : "", w ? ": " : "", msg);
	api_server_reply(&d->api, conn, api_reply(rc < 0 ? API_ERROR : API_OK, t, NULL));
}

/* Queue the change req for connection conn: it answers when the change is over, or once it
 * was sent to the dataplane when the arguments say {"wait": false}. */
static char *change(struct daemon *d, uint64_t conn, json_t *args, struct daemon_change_req *req)
{
	char err[128];
	int wait = api_arg_wait(args, err, sizeof(err));

	if (wait < 0)
		return api_fail("%s: %s", req->what, err);
	req->wait = wait;
	req->done = change_done;
	req->done_arg = (void *)req->what;
	req->cookie = conn;
	daemon_change(d, req);
	return NULL; /* change_done answers */
}

/* Cluster mode: a reservation change goes to etcd first (every server's watch applies it),
 * then here; the API answers once it is in effect here. */
struct shared_resv {
	struct daemon *d;
	struct cluster_resv r; /* an API reservation has no images_allowed */
	bool del;
	const char *what;
	char others[MSG_TEXT_MAX / 2]; /* what the other servers did (cluster_apply.h) */
};

static void shared_resv_done(struct daemon *d, void *arg, uint64_t conn, int rc, const char *msg)
{
	struct shared_resv *s = arg;
	char t[MSG_TEXT_MAX];

	snprintf(t, sizeof(t), "%s: %s%s%s", s->what, msg, rc < 0 ? "" : "; ",
		 rc < 0 ? "" : s->others);
	api_server_reply(&d->api, conn, api_reply(rc < 0 ? API_ERROR : API_OK, t, NULL));
	free(s);
}

/* etcd has it and the other live servers applied it (or did not within apply_wait_ms): now
 * here, and the API answers once it is in effect here too. */
static void shared_resv_written(void *arg, uint64_t conn, int rc, const char *err)
{
	struct shared_resv *s = arg;

	if (rc < 0) {
		api_server_reply(&s->d->api, conn,
				 api_fail("%s: not shared, nothing changed: %s", s->what, err));
		free(s);
		return;
	}
	snprintf(s->others, sizeof(s->others), "%s", err);
	daemon_shared_resv(s->d, &s->r, s->del, shared_resv_done, s, conn);
}

static char *shared_resv(struct daemon *d, uint64_t conn, const struct sbcfg_reservation *r,
			 bool del, const char *what)
{
	struct shared_resv *s = calloc(1, sizeof(*s));

	if (!s)
		return api_fail("%s: out of memory", what);
	s->d = d;
	s->r.r = *r;
	s->del = del;
	s->what = what;
	if (cluster_resv_write(d->cluster, r, NULL, del, shared_resv_written, s, conn) < 0) {
		free(s);
		return api_fail("%s: out of memory", what);
	}
	return NULL; /* shared_resv_written, then change_done, answers */
}

static int edit_reservation_add(struct sbcfg *c, const void *arg, char *err, size_t len)
{
	return running_config_reservation_add(c, arg, false, err, len);
}

static int edit_reservation_del(struct sbcfg *c, const void *arg, char *err, size_t len)
{
	return running_config_reservation_del(c, arg, err, len);
}

char *cmd_reservation_add(struct daemon *d, uint64_t conn_id, json_t *args)
{
	struct sbcfg_reservation r = {0};
	const char *ip = api_arg_str(args, "ip");
	char *reply = NULL;
	struct lease_info l;

	if (!api_arg_str(args, "mac") ||
	    running_config_parse_mac(api_arg_str(args, "mac"), r.mac) < 0)
		return api_fail(
			"reservation-add: \"mac\" must be a MAC address (52:54:00:12:34:56)");
	if (ip && running_config_parse_ip(ip, &r.ip) < 0)
		return api_fail("reservation-add: \"ip\": \"%s\" is not an IPv4 address", ip);
	if (put_str(r.hostname, sizeof(r.hostname), args, "hostname", &reply) < 0 ||
	    put_str(r.bootfile, sizeof(r.bootfile), args, "bootfile", &reply) < 0 ||
	    put_str(r.ipxe_script, sizeof(r.ipxe_script), args, "ipxe_script", &reply) < 0)
		return reply;
	/* An address leased to someone else cannot become this MAC's. */
	if (r.ip && lease_find_ip(lease_store_pool(d->store), r.ip, daemon_now(d), &l) == 0 &&
	    l.state == LEASE_BOUND && memcmp(l.mac, r.mac, 6) != 0) {
		char m[18];
		return api_fail(
			"reservation-add: %s is leased to %s for %llu s more; release it first "
			"(stormbootctl lease-release %s)",
			ip, running_config_fmt_mac(l.mac, m),
			(unsigned long long)(l.expires - daemon_now(d)), ip);
	}
	if (d->cluster) {
		for (size_t i = 0; i < d->cur->cfg.dhcp.n_reservations; i++)
			if (memcmp(d->cur->cfg.dhcp.reservations[i].mac, r.mac, 6) == 0)
				return api_fail("reservation-add: %s already has a reservation "
						"(reservation-del it first)",
						api_arg_str(args, "mac"));
		return shared_resv(d, conn_id, &r, false, "reservation-add");
	}
	struct daemon_change_req req = {.what = "reservation-add",
					.edit = edit_reservation_add,
					.arg = &r,
					.arg_len = sizeof(r),
					.write_back = true};
	return change(d, conn_id, args, &req);
}

char *cmd_reservation_del(struct daemon *d, uint64_t conn_id, json_t *args)
{
	uint8_t mac[6];

	if (!api_arg_str(args, "mac") ||
	    running_config_parse_mac(api_arg_str(args, "mac"), mac) < 0)
		return api_fail(
			"reservation-del: \"mac\" must be a MAC address (52:54:00:12:34:56)");
	if (d->cluster) {
		struct sbcfg_reservation r = {0};
		bool found = false;
		for (size_t i = 0; i < d->cur->cfg.dhcp.n_reservations; i++)
			found |= memcmp(d->cur->cfg.dhcp.reservations[i].mac, mac, 6) == 0;
		if (!found)
			return api_fail("reservation-del: no reservation for %s",
					api_arg_str(args, "mac"));
		memcpy(r.mac, mac, 6);
		return shared_resv(d, conn_id, &r, true, "reservation-del");
	}
	struct daemon_change_req req = {.what = "reservation-del",
					.edit = edit_reservation_del,
					.arg = mac,
					.arg_len = sizeof(mac),
					.write_back = true};
	return change(d, conn_id, args, &req);
}

char *cmd_reservation_list(struct daemon *d, uint64_t conn_id, json_t *args)
{
	const struct sbcfg_dhcp *h = &d->cur->cfg.dhcp;
	json_t *a = json_array();
	char t[64];

	for (size_t i = 0; i < h->n_reservations; i++)
		json_array_append_new(a, reservation_json(&h->reservations[i]));
	snprintf(t, sizeof(t), "%zu reservation%s", h->n_reservations,
		 h->n_reservations == 1 ? "" : "s");
	return api_reply(h->n_reservations ? API_OK : API_EMPTY, t,
			 json_pack("{s:o}", "reservations", a));
}

struct image_arg {
	char name[SBCFG_NAME_MAX];
	char path[SBCFG_PATH_MAX]; /* resolved */
	char sha256[SBCFG_SHA256_HEX];
};

static int edit_image_add(struct sbcfg *c, const void *arg, char *err, size_t len)
{
	const struct image_arg *ia = arg;
	char real[PATH_MAX];
	int rc;

	/* again, under the image directories of the config this change is built on */
	if ((rc = running_config_image_path(c, ia->path, real, err, len)) < 0)
		return rc;
	return running_config_image_add(c, ia->name, real, ia->sha256, err, len);
}

static int edit_image_del(struct sbcfg *c, const void *arg, char *err, size_t len)
{
	return running_config_image_del(c, arg, NULL, err, len);
}

char *cmd_image_add(struct daemon *d, uint64_t conn_id, json_t *args)
{
	const char *name = api_arg_str(args, "name"), *path = api_arg_str(args, "path");
	const char *sha = api_arg_str(args, "sha256");
	struct image_arg ia = {0};
	char err[SBCFG_ERR_MAX];
	uint8_t bin[32];

	if (!name || !path)
		return api_fail("image-add: arguments need \"name\" and \"path\"");
	if (path[0] != '/')
		return api_fail("image-add: path \"%s\" is not absolute", path);
	if (strlen(name) >= sizeof(ia.name) || strlen(path) >= sizeof(ia.path))
		return api_fail("image-add: image name or path too long");
	if (json_object_get(args, "sha256") &&
	    (!sha || strlen(sha) != 64 || sbcfg_sha256_from_hex(sha, bin) < 0))
		return api_fail("image-add: \"sha256\" must be a SHA-256 digest (64 hex digits)");
	/* Only files under control.images_dirs, symlinks and ".." resolved first: the file is
	 * served to the boot network (docs/SECURITY.md). */
	if (running_config_image_path(&d->cur->cfg, path, ia.path, err, sizeof(err)) < 0) {
		d->image_add_refused++;
		ctl_log(LOG_WARNING, "api: connection #%llu: image-add %s refused: %s",
			(unsigned long long)conn_id, name, err);
		return api_fail("image-add: refused: %s", err);
	}
	snprintf(ia.name, sizeof(ia.name), "%s", name);
	for (size_t i = 0; sha && i < 64; i++) /* lower case, as the config keeps it */
		ia.sha256[i] = sha[i] >= 'A' && sha[i] <= 'F' ? (char)(sha[i] - 'A' + 'a') : sha[i];
	if (d->cluster) /* here first, then its name, SHA-256 and source in etcd */
		return shared_image_add(d, conn_id, ia.name, ia.path, ia.sha256);
	/* The file is hashed once, beside the loop, with the new config's registry; a file the
	 * dataplane could not load refuses the change. */
	struct daemon_change_req req = {.what = "image-add",
					.edit = edit_image_add,
					.arg = &ia,
					.arg_len = sizeof(ia),
					.must_read = ia.path,
					.write_back = true};
	return change(d, conn_id, args, &req);
}

char *cmd_image_del(struct daemon *d, uint64_t conn_id, json_t *args)
{
	const char *name = api_arg_str(args, "name");

	if (!name)
		return api_fail("image-del: arguments need \"name\"");
	if (d->cluster && strlen(name) < SBCFG_NAME_MAX)
		return shared_image_del(d, conn_id, name);
	struct daemon_change_req req = {.what = "image-del",
					.edit = edit_image_del,
					.arg = name,
					.arg_len = strlen(name) + 1,
					.write_back = true};
	return change(d, conn_id, args, &req);
}

char *cmd_image_list(struct daemon *d, uint64_t conn_id, json_t *args)
{
	const struct running_config *c = d->cur;
	json_t *a = json_array();
	char t[64];

	/* at start the files are read beside the loop: size and hash are null until then */
	for (size_t i = 0; i < c->cfg.n_images; i++) {
		bool known = !d->registry_pending;
		json_t *o =
			json_pack("{s:s, s:s, s:o, s:o}", "name", c->cfg.images[i].name, "path",
				  c->cfg.images[i].path, "size",
				  known ? json_integer((json_int_t)c->img[i].size) : json_null(),
				  "sha256", known ? json_string(c->img[i].sha256) : json_null());
		if (c->cfg.images[i].sha256[0])
			json_object_set_new(o, "sha256_pinned",
					    json_string(c->cfg.images[i].sha256));
		if (c->img[i].err == -EBADMSG) /* pin_mismatch() in daemon.c */
			json_object_set_new(o, "error",
					    json_string("refused: SHA-256 is not the pinned one"));
		else if (c->img[i].err)
			json_object_set_new(o, "error", json_string(strerror(-c->img[i].err)));
		json_array_append_new(a, o);
	}
	snprintf(t, sizeof(t), "%zu image%s%s", c->cfg.n_images, c->cfg.n_images == 1 ? "" : "s",
		 d->registry_pending ? "; reading the files" : "");
	return api_reply(c->cfg.n_images ? API_OK : API_EMPTY, t, json_pack("{s:o}", "images", a));
}

char *cmd_status(struct daemon *d, uint64_t conn_id, json_t *args)
{
	struct lease_store_stats s;
	struct lease_stats ls;
	uint64_t now = daemon_now(d);
	json_t *dp;

	lease_store_get_stats(d->store, &s);
	lease_pool_stats(lease_store_pool(d->store), now, &ls);
	if (dataplane_link_connected(&d->dp))
		dp = json_pack("{s:b, s:I, s:I, s:I, s:i, s:s, s:I, s:I}", "connected", 1, "pid",
			       (json_int_t)d->dp.peer_pid, "connected_s",
			       (json_int_t)((ev_now_ms() - d->dp.connected_ms) / 1000),
			       "config_generation", (json_int_t)d->dp.config_adopted,
			       "config_status", (int)d->dp.config_status, "config_error",
			       d->dp.config_err, "lease_events", (json_int_t)d->dp.events,
			       "lease_records", (json_int_t)d->dp.records);
	else
		dp = json_pack("{s:b, s:s}", "connected", 0, "socket", d->dp.path);
	json_t *a = json_pack(
		"{s:I, s:s, s:I, s:s, s:s, s:{s:s, s:I, s:s, s:I}, s:o, "
		"s:{s:i, s:i, s:i, s:i, s:i, s:i}, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
		"s:I, s:I, s:I}, s:{s:I, s:I, s:I}}",
		"pid", (json_int_t)getpid(), "version", DAEMON_VERSION, "uptime_s",
		(json_int_t)((ev_now_ms() - d->started_ms) / 1000), "socket", d->api.path,
		"state_dir", d->state_dir, "config", "path", d->cur->path, "generation",
		(json_int_t)d->cur->generation, "last_reload", d->last_reload, "changes_pending",
		(json_int_t)daemon_changes_pending(d), "dataplane", dp, "leases", "total",
		(int)ls.total, "free", (int)ls.free, "offered", (int)ls.offered, "bound",
		(int)ls.bound, "declined", (int)ls.declined, "reserved", (int)ls.reserved,
		"lease_store", "appended", (json_int_t)s.appended, "committed",
		(json_int_t)s.committed, "commits", (json_int_t)s.commits, "commit_errors",
		(json_int_t)s.commit_errors, "replayed", (json_int_t)s.replayed, "replay_torn",
		(json_int_t)s.replay_torn, "replay_corrupt", (json_int_t)s.replay_corrupt,
		"replay_conflicts", (json_int_t)s.replay_conflicts, "replay_rejected",
		(json_int_t)s.replay_rejected, "compactions", (json_int_t)s.compactions,
		"log_records", (json_int_t)s.log_records, "log_bytes", (json_int_t)s.log_bytes,
		"api", "connections", (json_int_t)d->api.n_conns, "requests",
		(json_int_t)d->api.requests, "errors", (json_int_t)d->api.request_errors);
	if (!a)
		return api_fail("status: out of memory");
	/* cluster mode (docs/SCALE-OUT.md): etcd, registration, buckets, lease commits */
	json_t *cl = daemon_cluster_status(d);
	if (cl)
		json_object_set_new(a, "cluster", cl);
	json_object_set_new(a, "lease_remote_refused",
			    json_integer((json_int_t)d->dp.remote_refused));
	/* connections refused by the socket policies (docs/SECURITY.md) */
	json_object_set_new(a, "access",
			    json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "api_refused",
				      (json_int_t)d->api.refused, "dataplane_refused",
				      (json_int_t)d->dp.refused_access, "dataplane_busy",
				      (json_int_t)d->dp.refused_busy, "dataplane_hello_timeouts",
				      (json_int_t)d->dp.hello_timeouts, "image_add_refused",
				      (json_int_t)d->image_add_refused, "pins_refused",
				      (json_int_t)d->pins_refused));
	json_object_set_new(a, "timeline", client_trace_status_json(&d->trace));
	return api_reply(API_OK,
			 dataplane_link_connected(&d->dp) ? "running, dataplane connected"
							  : "running, dataplane not connected",
			 a);
}

char *cmd_config_get(struct daemon *d, uint64_t conn_id, json_t *args)
{
	char *s = sbcfg_to_json(&d->cur->cfg), t[64];
	json_t *o = s ? json_loads(s, 0, NULL) : NULL;

	free(s);
	if (!o)
		return api_fail("config-get: out of memory");
	snprintf(t, sizeof(t), "configuration generation %llu",
		 (unsigned long long)d->cur->generation);
	return api_reply(API_OK, t, o);
}

struct config_test {
	struct daemon *d;
	uint64_t conn;
	struct sbcfg cfg; /* the config tested: its pinned digests */
};

static void config_test_hashed(void *arg, struct image_hasher_result *r)
{
	struct config_test *ct = arg;
	const struct sbcfg_image *im = NULL;
	size_t i;
	char t[900];

	/* a pinned digest that the file does not have: the config would be refused */
	for (i = 0; r->status == 0 && i < r->n && i < ct->cfg.n_images; i++) {
		im = &ct->cfg.images[i];
		if (im->sha256[0] && !r->img[i].err && strcmp(r->img[i].sha256, im->sha256) != 0)
			break;
	}
	if (r->status == 0 && i < r->n && i < ct->cfg.n_images) {
		snprintf(t, sizeof(t),
			 "images[%zu] \"%s\": SHA-256 of %.300s is %s, but the config pins %s "
			 "(images[].sha256)",
			 i, im->name, im->path, r->img[i].sha256, im->sha256);
		api_server_reply(&ct->d->api, ct->conn, api_fail("%s", t));
		free(r->img);
		sbcfg_free(&ct->cfg);
		free(ct);
		return;
	}
	free(r->img);
	sbcfg_free(&ct->cfg);
	if (r->status < 0)
		snprintf(t, sizeof(t), "config-test: stormboot-control is shutting down");
	else if (r->bad)
		snprintf(t, sizeof(t),
			 "configuration valid; warning: %d image file%s unreadable, first %s",
			 r->bad, r->bad == 1 ? "" : "s", r->warn);
	else
		snprintf(t, sizeof(t), "configuration valid");
	api_server_reply(&ct->d->api, ct->conn,
			 r->status < 0 ? api_fail("%s", t) : api_reply(API_OK, t, NULL));
	free(ct);
}

char *cmd_config_test(struct daemon *d, uint64_t conn_id, json_t *args)
{
	json_t *c = json_object_get(args, "config");
	const char *path = api_arg_str(args, "path");
	char err[SBCFG_ERR_MAX];
	struct config_test *ct;
	struct sbcfg cfg;
	int rc;

	if (json_is_object(c)) {
		char *s = json_dumps(c, JSON_COMPACT);
		if (!s)
			return api_fail("config-test: out of memory");
		rc = sbcfg_load_buffer(s, strlen(s), "<config-test>", &cfg, err, sizeof(err));
		free(s);
	} else if (path) {
		rc = sbcfg_load_file(path, &cfg, err, sizeof(err));
	} else {
		return api_fail("config-test: arguments need \"config\" (an object) or \"path\"");
	}
	if (rc < 0)
		return api_fail("%s", err);
	/* its images are read beside the loop; the reply waits for them */
	if (!(ct = malloc(sizeof(*ct)))) {
		sbcfg_free(&cfg);
		return api_fail("config-test: out of memory");
	}
	*ct = (struct config_test){d, conn_id, cfg}; /* cfg moved */
	rc = image_hasher_submit(d->hasher, ct->cfg.images, ct->cfg.n_images, d->cur,
				 config_test_hashed, ct);
	if (rc < 0) {
		sbcfg_free(&ct->cfg);
		free(ct);
		return api_fail("config-test: image hashing: %s", strerror(-rc));
	}
	return NULL;
}

char *cmd_config_reload(struct daemon *d, uint64_t conn_id, json_t *args)
{
	char err[128];
	int wait = api_arg_wait(args, err, sizeof(err));

	if (wait < 0)
		return api_fail("config-reload: %s", err);
	daemon_reload(d, wait, change_done, NULL, conn_id);
	return NULL; /* change_done answers */
}

/* The counters of the program on the boot interface (control runs where it is), else of the
 * pinned maps. */
static json_t *xdp_counters(const struct daemon *d, char *err, size_t errlen)
{
#ifdef SB_HAVE_XDP_CTL
	struct xdp_ctl x; /* set by xdp_ctl_open_*(), whatever it returns */
	struct sb_xdp_counters cnt;
	const char *ifname = d->cur->cfg.interface;
	unsigned int ifindex = ifname[0] ? if_nametoindex(ifname) : 0;
	int rc = -ENOENT;

	if (ifindex) {
		rc = xdp_ctl_open_ifindex(&x, ifindex);
		if (rc < 0)
			xdp_ctl_close(&x);
	}
	if (rc < 0)
		rc = xdp_ctl_open_pinned(&x, NULL);

	if (rc == 0)
		rc = xdp_ctl_counters_read(&x, &cnt);
	xdp_ctl_close(&x);
	if (rc < 0) {
		snprintf(err, errlen, "XDP counters unavailable (maps pinned under %s): %s",
			 XDP_CTL_PIN_ROOT, strerror(-rc));
		return NULL;
	}
	json_t *o = json_object();
	for (unsigned int i = 0; i < SB_XDP_CNT__COUNT; i++)
		json_object_set_new(o, xdp_ctl_counter_name(i), json_integer((json_int_t)cnt.v[i]));
	return o;
#else
	(void)d;
	snprintf(err, errlen, "XDP counters unavailable: built without libbpf");
	return NULL;
#endif
}

enum { ASK_STATS = 1, ASK_LATENCY, ASK_SESSIONS };

static void dp_answer(void *arg, uint64_t cookie, const struct dataplane_link_reply *r)
{
	struct daemon *d = arg;
	uint64_t conn = cookie >> 8;
	int kind = (int)(cookie & 0xff);
	char xerr[256] = "", *line;
	json_t *o = NULL;

	if (r->outcome == DATAPLANE_LINK_TIMED_OUT) {
		api_server_reply(&d->api, conn,
				 api_fail("the dataplane did not answer within %d ms",
					  DAEMON_DP_REQUEST_TIMEOUT_MS));
		return;
	}
	if (r->outcome == DATAPLANE_LINK_GONE) {
		api_server_reply(&d->api, conn,
				 api_fail("dataplane disconnected before answering"));
		return;
	}
	if (r->status != 0) {
		api_server_reply(&d->api, conn, api_fail("dataplane: %s", strerror(-r->status)));
		return;
	}
	o = json_loadb((const char *)r->payload, r->len, 0, NULL);
	if (!o) {
		api_server_reply(&d->api, conn,
				 api_fail("the dataplane sent a reply that is not JSON"));
		return;
	}
	if (kind != ASK_STATS) {
		api_server_reply(
			&d->api, conn,
			api_reply(API_OK, kind == ASK_LATENCY ? "latency" : "sessions", o));
		return;
	}
	json_t *x = xdp_counters(d, xerr, sizeof(xerr));
	json_t *a = json_pack("{s:o, s:o}", "dataplane", o, "xdp", x ? x : json_null());
	if (!x)
		json_object_set_new(a, "xdp_error", json_string(xerr));
	line = api_reply(API_OK, x ? "dataplane and XDP counters" : xerr, a);
	api_server_reply(&d->api, conn, line);
}

static char *ask(struct daemon *d, uint64_t conn, int kind)
{
	static const uint16_t type[] = {0, CHAN_MSG_STATS_REQUEST, CHAN_MSG_LATENCY_REQUEST,
					CHAN_MSG_SESSIONS_REQUEST};
	char xerr[256] = "", t[400];

	if (dataplane_link_request(&d->dp, type[kind], NULL, 0, DAEMON_DP_REQUEST_TIMEOUT_MS,
				   dp_answer, d, conn << 8 | (uint64_t)kind) == 0)
		return NULL; /* answered by dp_answer */
	if (kind != ASK_STATS)
		return api_fail("dataplane not connected");
	json_t *x = xdp_counters(d, xerr, sizeof(xerr));
	if (!x)
		return api_fail("dataplane not connected; %s", xerr);
	snprintf(t, sizeof(t), "dataplane not connected; XDP counters only");
	return api_reply(API_OK, t, json_pack("{s:n, s:o}", "dataplane", "xdp", x));
}

char *cmd_stats(struct daemon *d, uint64_t conn_id, json_t *args)
{
	return ask(d, conn_id, ASK_STATS);
}

char *cmd_latency(struct daemon *d, uint64_t conn_id, json_t *args)
{
	return ask(d, conn_id, ASK_LATENCY);
}

char *cmd_sessions(struct daemon *d, uint64_t conn_id, json_t *args)
{
	return ask(d, conn_id, ASK_SESSIONS);
}

/* The one table: name and help from API_COMMANDS, handler cmd_<id>. */
static const struct {
	const char *name;
	const char *help;
	char *(*handler)(struct daemon *d, uint64_t conn_id, json_t *args);
} commands[API_CMD__COUNT] = {
#define COMMANDS_ENTRY(id, name, help) [API_CMD_##id] = {name, help, cmd_##id},
	API_COMMANDS(COMMANDS_ENTRY)
#undef COMMANDS_ENTRY
};

char *cmd_help(struct daemon *d, uint64_t conn_id, json_t *args)
{
	json_t *a = json_array();

	for (size_t i = 0; i < API_CMD__COUNT; i++)
		json_array_append_new(a, json_pack("{s:s, s:s}", "command", commands[i].name,
						   "help", commands[i].help));
	return api_reply(API_OK, "commands", json_pack("{s:o}", "commands", a));
}

char *commands_dispatch(void *arg, uint64_t conn_id, enum api_command cmd, json_t *args)
{
	struct daemon *d = arg;

	if ((unsigned int)cmd >= API_CMD__COUNT)
		return api_reply(API_UNSUPPORTED, "unknown command", NULL);
	ctl_log(LOG_DEBUG, "api: connection #%llu: %s", (unsigned long long)conn_id,
		commands[cmd].name);
	return commands[cmd].handler(d, conn_id, args);
}

/* Cluster mode: the shared config sections to every server (shared_config.h). */
char *cmd_config_share(struct daemon *d, uint64_t conn_id, json_t *args)
{
	return shared_config_share(d, conn_id, args);
}
