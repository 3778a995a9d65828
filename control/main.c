/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * stormboot-control: owns the config file, the lease store and the operator API; feeds the
 * dataplane over the channel. A plain epoll daemon, no DPDK. See docs/CONTROL.md.
 */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "ctl_log.h"
#include "daemon.h"
#include "http_boot.h"
#include "sbcfg_json.h"

#define COMPACT_CHECK_MS 10000

uint64_t daemon_now(void)
{
	return (uint64_t)time(NULL);
}

static struct running_config *running_config_new(const char *path, struct sbcfg *cfg)
{
	struct running_config *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->img = calloc(cfg->n_images ? cfg->n_images : 1, sizeof(*c->img));
	if (!c->img) {
		free(c);
		return NULL;
	}
	snprintf(c->path, sizeof(c->path), "%s", path);
	c->cfg = *cfg;
	memset(cfg, 0, sizeof(*cfg)); /* moved */
	return c;
}

static void running_config_del(struct running_config *c)
{
	if (!c)
		return;
	sbcfg_free(&c->cfg);
	free(c->img);
	free(c);
}

int daemon_apply_config(struct daemon *d, struct sbcfg *next, bool write_back, char *msg,
		      size_t msglen)
{
	char err[SBCFG_ERR_MAX], warn[700] = "";
	struct running_config *n;
	int rc, bad, dropped;

	if ((rc = sbcfg_validate(next, err, sizeof(err))) < 0) {
		snprintf(msg, msglen, "%s", err);
		sbcfg_free(next);
		return rc;
	}
	if (!(n = running_config_new(d->cur->path, next))) {
		snprintf(msg, msglen, "out of memory");
		sbcfg_free(next);
		return -ENOMEM;
	}
	bad = running_config_hash_images(&n->cfg, n->img, d->cur, warn, sizeof(warn));
	if (write_back) {
		char *json = sbcfg_to_json(&n->cfg);
		rc = json ? running_config_write_atomic(n->path, json, strlen(json), err, sizeof(err))
			  : -ENOMEM;
		free(json);
		if (rc < 0) {
			snprintf(msg, msglen, "not saved, running config kept: %s",
				 rc == -ENOMEM ? "out of memory" : err);
			running_config_del(n);
			return rc;
		}
	}
	dataplane_link_durable_flush(d); /* every queued lease is on disk before the pool moves */
	dropped = lease_store_set_config(d->store, &n->cfg, daemon_now(), err, sizeof(err));
	if (dropped < 0) {
		snprintf(msg, msglen, "lease store: %s; running config kept", err);
		running_config_del(n);
		return dropped;
	}
	n->generation = d->cur->generation + 1;
	running_config_del(d->cur);
	d->cur = n;
	http_boot_apply(d); /* follow http.listen */
	dataplane_link_push_config(d, false);
	snprintf(msg, msglen, "configuration generation %llu applied%s",
		 (unsigned long long)n->generation,
		 dataplane_link_connected(d) ? " and sent to the dataplane" : "");
	if (dropped)
		snprintf(msg + strlen(msg), msglen - strlen(msg),
			 "; %d lease%s no longer fit and were dropped", dropped,
			 dropped == 1 ? "" : "s");
	if (bad)
		snprintf(msg + strlen(msg), msglen - strlen(msg),
			 "; warning: %d image file%s unreadable, first %s", bad, bad == 1 ? "" : "s",
			 warn);
	return 0;
}

int daemon_reload(struct daemon *d, char *msg, size_t msglen)
{
	char why[SBCFG_ERR_MAX + 256], err[sizeof(why)];
	struct sbcfg next;
	int rc;

	rc = sbcfg_load_file(d->cur->path, &next, err, sizeof(err));
	if (rc == 0 && sbcfg_equal(&next, &d->cur->cfg)) {
		sbcfg_free(&next);
		snprintf(msg, msglen, "configuration unchanged (generation %llu)",
			 (unsigned long long)d->cur->generation);
	} else if (rc == 0) {
		rc = daemon_apply_config(d, &next, false, why, sizeof(why));
		if (rc < 0)
			snprintf(err, sizeof(err), "%s", why);
		else
			snprintf(msg, msglen, "%s", why);
	}
	if (rc < 0)
		snprintf(msg, msglen, "reload refused, running configuration (generation %llu) kept: %s",
			 (unsigned long long)d->cur->generation, err);
	ctl_log(rc < 0 ? LOG_ERR : LOG_INFO, "config-reload: %s", msg);
	snprintf(d->last_reload, sizeof(d->last_reload), "%s", msg);
	return rc;
}

static void before_sleep(struct ev_loop *l, void *arg)
{
	dataplane_link_durable_flush(arg); /* group commit: all events of this iteration, one fdatasync */
}

static long compact_timer(struct ev_loop *l, long long id, void *arg)
{
	struct daemon *d = arg;
	char err[512];

	if (lease_store_should_compact(d->store, daemon_now())) {
		dataplane_link_durable_flush(d);
		if (lease_store_compact(d->store, daemon_now(), err, sizeof(err)) < 0)
			ctl_log(LOG_ERR, "lease store compaction: %s", err);
		else
			ctl_log(LOG_INFO, "lease store compacted");
	}
	return COMPACT_CHECK_MS;
}

static void on_signal(struct ev_loop *l, int fd, void *arg, unsigned int ready)
{
	struct daemon *d = arg;
	struct signalfd_siginfo si;
	char msg[SBCFG_ERR_MAX + 256];

	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			ctl_log(LOG_INFO, "SIGHUP: reloading %s", d->cur->path);
			daemon_reload(d, msg, sizeof(msg));
		} else {
			ctl_log(LOG_INFO, "signal %u: shutting down", si.ssi_signo);
			ev_stop(l);
		}
	}
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: stormboot-control -c CONFIG [-s SOCKET] [-p DP_SOCKET] [-d STATE_DIR] [-f] "
		"[-v]\n"
		"  -c CONFIG     JSON config file (docs/CONFIG.md); written back on API changes\n"
		"  -s SOCKET     operator API socket (default %s)\n"
		"  -p DP_SOCKET  dataplane channel socket (default: dataplane.sock beside SOCKET)\n"
		"  -d STATE_DIR  lease store directory (default %s)\n"
		"  -f            stay in the foreground, log to stderr (else syslog)\n"
		"  -v            debug log\n",
		API_DEFAULT_SOCKET, DAEMON_DEFAULT_STATEDIR);
}

static void log_replay(struct daemon *d)
{
	struct lease_store_stats s;
	struct lease_stats ls;

	lease_store_get_stats(d->store, &s);
	lease_pool_stats(lease_store_pool(d->store), daemon_now(), &ls);
	ctl_log(LOG_INFO, "lease store %s: %llu records replayed, %u leases bound",
		d->state_dir, (unsigned long long)s.replayed, ls.bound);
	if (s.replay_torn)
		ctl_log(LOG_WARNING, "lease store: torn last record ignored (a write cut short by "
				     "a crash; it was never confirmed)");
	if (s.replay_corrupt)
		ctl_log(LOG_ERR, "lease store: %llu records with a bad CRC skipped; log rewritten",
			(unsigned long long)s.replay_corrupt);
	if (s.replay_conflicts || s.replay_rejected)
		ctl_log(LOG_WARNING, "lease store: %llu address conflicts resolved, %llu records "
				     "that no longer fit the config ignored",
			(unsigned long long)s.replay_conflicts,
			(unsigned long long)s.replay_rejected);
}

int main(int argc, char **argv)
{
	struct daemon d = {.api_lfd = -1, .sig_fd = -1, .dp = {.fd = -1, .lfd = -1}};
	const char *config = NULL, *sock = API_DEFAULT_SOCKET, *dp = NULL;
	const char *state = DAEMON_DEFAULT_STATEDIR;
	bool fg = false, debug = false;
	char err[SBCFG_ERR_MAX + 256];
	struct sbcfg cfg;
	sigset_t ss;
	int opt, rc = 1;

	while ((opt = getopt(argc, argv, "c:s:p:d:fvh")) != -1) {
		switch (opt) {
		case 'c': config = optarg; break;
		case 's': sock = optarg; break;
		case 'p': dp = optarg; break;
		case 'd': state = optarg; break;
		case 'f': fg = true; break;
		case 'v': debug = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!config || optind != argc) {
		usage(stderr);
		return 2;
	}
	snprintf(d.sock_path, sizeof(d.sock_path), "%s", sock);
	if (dp) {
		snprintf(d.dp_path, sizeof(d.dp_path), "%s", dp);
	} else {
		char tmp[sizeof(d.sock_path)];
		snprintf(tmp, sizeof(tmp), "%s", sock);
		snprintf(d.dp_path, sizeof(d.dp_path), "%s/dataplane.sock", dirname(tmp));
	}
	snprintf(d.state_dir, sizeof(d.state_dir), "%s", state);
	ctl_log_init("stormboot-control", true, debug);

	/* A bad file stops us here, with the parser's message naming the field. */
	if (sbcfg_load_file(config, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "stormboot-control: %s\n", err);
		return 1;
	}
	if (!(d.cur = running_config_new(config, &cfg))) {
		fprintf(stderr, "stormboot-control: out of memory\n");
		return 1;
	}
	int bad = running_config_hash_images(&d.cur->cfg, d.cur->img, NULL, err, sizeof(err));
	if (bad)
		ctl_log(LOG_WARNING, "%d image file%s unreadable, first %s", bad,
			bad == 1 ? "" : "s", err);
	d.store = lease_store_open(state, &d.cur->cfg, daemon_now(), err, sizeof(err));
	if (!d.store) {
		fprintf(stderr, "stormboot-control: lease store: %s\n", err);
		goto out;
	}
	log_replay(&d);
	if (!(d.loop = ev_loop_new(65536, err, sizeof(err))) || api_server_listen(&d, err, sizeof(err)) < 0 ||
	    dataplane_link_listen(&d, err, sizeof(err)) < 0 || http_boot_start(&d, err, sizeof(err)) < 0) {
		fprintf(stderr, "stormboot-control: %s\n", err);
		goto out;
	}
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&ss);
	sigaddset(&ss, SIGHUP);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigprocmask(SIG_BLOCK, &ss, NULL);
	d.sig_fd = signalfd(-1, &ss, SFD_NONBLOCK | SFD_CLOEXEC);
	if (d.sig_fd < 0 || ev_file_add(d.loop, d.sig_fd, EV_READ, on_signal, &d, err,
					sizeof(err)) < 0) {
		fprintf(stderr, "stormboot-control: signalfd: %s\n", strerror(errno));
		goto out;
	}
	ev_set_before_sleep(d.loop, before_sleep, &d);
	ev_timer_add(d.loop, COMPACT_CHECK_MS, compact_timer, &d);
	if (!fg && daemon(0, 0) < 0) {
		fprintf(stderr, "stormboot-control: daemon: %s\n", strerror(errno));
		goto out;
	}
	ctl_log_init("stormboot-control", fg, debug);
	d.started_ms = ev_now_ms();
	d.started = time(NULL);
	ctl_log(LOG_INFO, "started: config %s, api %s, dataplane channel %s, state %s", config,
		d.sock_path, d.dp_path, d.state_dir);
	rc = ev_run(d.loop) < 0 ? 1 : 0;
	dataplane_link_durable_flush(&d);
	ctl_log(LOG_INFO, "stopped");
out:
	if (d.loop) {
		api_server_close_all(&d);
		http_boot_stop(&d);
		dataplane_link_close(&d, "shutting down");
		chan_buf_free(&d.dp.in);
		chan_buf_free(&d.dp.out);
		free(d.dp.acks);
		free(d.dp.pend);
		if (d.dp.lfd >= 0) {
			close(d.dp.lfd);
			unlink(d.dp_path);
		}
		ev_loop_free(d.loop);
	}
	if (d.sig_fd >= 0)
		close(d.sig_fd);
	lease_store_close(d.store);
	running_config_del(d.cur);
	return rc;
}
