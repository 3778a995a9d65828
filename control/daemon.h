/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * daemon.h - stormboot-control's state, and its config changes.
 *
 * The daemon owns the running config, the lease store, the operator API server, the
 * dataplane link, HTTP boot and the image hasher, and gives each part what it needs (loop,
 * store, running-config getter, clock). Single-threaded (the event loop) except for the
 * image hasher's worker.
 *
 * A config change (config-reload, SIGHUP, reservation-*, image-*) goes through one queue,
 * one change at a time, each built on the running config of its turn:
 *   1. build: copy the running config and edit it (or read the config file), validate;
 *   2. hash: the image registry of the new config is computed on the hasher's thread (files
 *      unchanged since the last time are not read again);
 *   3. confirm: with a dataplane connected, the new config is sent as the next generation
 *      and the change waits until the dataplane adopted it (its reply for that generation),
 *      refused it, did not answer within the confirmation timeout, or disconnected;
 *   4. commit: only a config the dataplane adopted (or any, when no dataplane is connected)
 *      becomes the running config: written back to the file, the lease store moved to it,
 *      HTTP following it. Control and dataplane thus run the same generation; a refused,
 *      unconfirmed or interrupted change leaves control's running config as it was (after
 *      a timeout the running config is sent again under a new generation, so a dataplane
 *      that adopts the late one comes back to it).
 * The requester hears the outcome through its callback at 4 (or, when it asked not to
 * wait, as soon as the config was sent at 3).
 */
#ifndef SB_DAEMON_H
#define SB_DAEMON_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api_server.h"
#include "client_trace.h"
#include "cluster.h"
#include "ctl_clock.h"
#include "dataplane_link.h"
#include "event_loop.h"
#include "http_boot.h"
#include "image_hasher.h"
#include "lease_store.h"
#include "metrics.h"
#include "running_config.h"
#include "tftp_root_watch.h"

#define DAEMON_VERSION		     "0.1.0"
#define DAEMON_DEFAULT_STATEDIR	     "/var/lib/stormboot"
#define DAEMON_CONFIRM_TIMEOUT_MS    10000 /* a change waits this long for the dataplane */
#define DAEMON_DP_REQUEST_TIMEOUT_MS 2000  /* stats, sessions, latency */

struct daemon;
struct daemon_change;

/* How a change ended (or, for one that does not wait, that it was sent): rc 0 or -errno,
 * msg says what happened. Called once per change. */
typedef void daemon_change_done_fn(struct daemon *d, void *arg, uint64_t cookie, int rc,
				   const char *msg);

/* Edit next (a copy of the running config) as arg says; -errno with the reason in err. */
typedef int daemon_edit_fn(struct sbcfg *next, const void *arg, char *err, size_t errlen);

/* A config change asked for. */
struct daemon_change_req {
	const char *what;     /* names it in the log: "reservation-add" */
	daemon_edit_fn *edit; /* applied to a copy of the running config */
	const void *arg;      /* edit's argument, arg_len bytes copied */
	size_t arg_len;
	const char *must_read; /* an image path whose file must be readable (image-add), or NULL */
	bool write_back;       /* write the new config to the config file */
	bool wait;	       /* answer once the dataplane adopted it (else once sent) */
	daemon_change_done_fn *done; /* may be NULL: the outcome is only logged */
	void *done_arg;
	uint64_t cookie;
};

struct daemon_options {
	const char *config;	/* config file */
	const char *api_socket; /* operator API */
	const char *dp_socket;	/* dataplane channel; NULL: dataplane.sock beside api_socket */
	const char *state_dir;	/* lease store, templates */
	uint32_t confirm_timeout_ms;
	api_server_dispatch_fn *dispatch; /* the operator commands, called with the daemon */
	/* cluster mode: images of etcd, and the reservations etcd lacks at start (shared_image.h;
	 * NULL: not shared), called with the daemon */
	cluster_image_fn *shared_image;
	cluster_resv_loaded_fn *shared_resv_loaded;
	/* cluster mode: etcd's shared config document (shared_config.h; NULL: not shared) */
	cluster_config_fn *shared_config;
};

struct daemon {
	struct ev_loop *loop;
	struct ctl_clock clock; /* wall clock for lease times; tests replace it */
	struct running_config *cur;
	struct lease_store *store;
	char state_dir[PATH_MAX];
	uint32_t confirm_timeout_ms;
	uint64_t generation_seq; /* the last generation number given out */
	struct api_server api;
	struct dataplane_link dp;
	struct http_boot *http;
	struct client_trace trace; /* boot timelines, firmware syslog */
	struct metrics *metrics; /* Prometheus endpoint and status page (metrics.listen) */
	struct tftp_root_watch root_watch; /* tftp_root's files (tftp_root_watch.h) */
	bool root_queued;		   /* a tftp_root change waits in the queue */
	uint64_t root_changes;		   /* config changes made for tftp_root's files */
	struct image_hasher *hasher;
	struct cluster *cluster; /* "cluster" in the config (started by daemon_start), or NULL */
	struct daemon_change *changes; /* FIFO; the head is in progress */
	bool kicking, closing;
	bool registry_pending; /* the running config's images are being hashed (at start) */
	long long compact_timer;
	uint64_t started_ms;
	char last_reload[1024];	    /* outcome of the last reload, for status */
	uint64_t image_add_refused; /* image-add paths outside control.images_dirs (status) */
	uint64_t pins_refused;	    /* changes refused for a pinned SHA-256 (status) */
	/* cluster mode (shared_image.h): images of etcd registered here / refused here, and
	 * reservations of the config file pushed to etcd at start */
	uint64_t shared_images_applied, shared_images_refused;
	cluster_image_fn *shared_image_fn;
	cluster_resv_loaded_fn *shared_resv_loaded_fn;
	/* cluster mode (shared_config.h): etcd's shared config document as last applied here
	 * (canonical; NULL: none), kept over the file's shared sections by config-reload */
	cluster_config_fn *shared_config_fn;
	char *shared_config_doc;
	int64_t shared_config_rev; /* etcd's revision of the last document seen */
	bool shared_config_seen;   /* the first read of etcd is over */
	uint64_t shared_config_applied, shared_config_refused, shared_config_pushed;
};

/*
 * Load the config file (a bad one is refused with the parser's message naming the field),
 * open the lease store, the loop, the API socket, the dataplane socket and HTTP boot.
 * 0, or -errno with the reason in err; daemon_close() frees what was opened either way.
 */
int daemon_open(struct daemon *d, const struct daemon_options *o, char *err, size_t errlen);
/*
 * Start the work queued at open (hashing the running config's images, on the hasher's
 * thread: after daemon(3) forked, since threads do not survive a fork).
 */
void daemon_start(struct daemon *d);
/* End every change in progress (their requesters are told), close everything. */
void daemon_close(struct daemon *d);

/* Wall-clock seconds from d->clock. */
uint64_t daemon_now(const struct daemon *d);

/* The running config (for the parts that are given a getter). */
const struct running_config *daemon_running(void *d);

/* Queue a config change (see above); req->done runs exactly once, maybe before return. */
void daemon_change(struct daemon *d, const struct daemon_change_req *req);

/*
 * Re-read the config file (SIGHUP, config-reload) and change to it; an unchanged file is
 * answered at once. The outcome goes to done (may be NULL), the log and d->last_reload.
 */
void daemon_reload(struct daemon *d, bool wait, daemon_change_done_fn *done, void *done_arg,
		   uint64_t cookie);

/*
 * Replace cfg's tftp_root images by the files there now (sbcfg_root.h; entries left out are
 * logged) and validate the result. 0, or -errno with the reason in err.
 */
int daemon_root_expand(struct sbcfg *cfg, char *err, size_t errlen);

/* Config changes queued or in progress. */
size_t daemon_changes_pending(const struct daemon *d);

#endif
