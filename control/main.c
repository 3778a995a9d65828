/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * stormboot-control: owns the config file, the lease store and the operator API; feeds the
 * dataplane over the channel. A plain epoll daemon, no DPDK. See docs/CONTROL.md.
 * main() only: options, signals, the background, the loop; the daemon is daemon.h.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "api.h"
#include "commands.h"
#include "ctl_log.h"
#include "daemon.h"
#include "sbcfg_json.h"
#include "shared_config.h"
#include "shared_image.h"

static void on_signal(struct ev_loop *l, int fd, void *arg, unsigned int ready)
{
	struct daemon *d = arg;
	struct signalfd_siginfo si;

	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			ctl_log(LOG_INFO, "SIGHUP: reloading %s", d->cur->path);
			daemon_reload(d, true, NULL, NULL, 0); /* the outcome is logged */
		} else {
			ctl_log(LOG_INFO, "signal %u: shutting down", si.ssi_signo);
			ev_stop(l);
		}
	}
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: stormboot-control -c CONFIG [-s SOCKET] [-p DP_SOCKET] [-d STATE_DIR] "
		"[-t MS] [-f] [-v]\n"
		"  -c CONFIG     JSON config file (docs/CONFIG.md); written back on API changes\n"
		"  -s SOCKET     operator API socket (default %s)\n"
		"  -p DP_SOCKET  dataplane channel socket (default: dataplane.sock beside SOCKET)\n"
		"  -d STATE_DIR  lease store directory (default %s)\n"
		"  -t MS         how long a config change waits for the dataplane to adopt it\n"
		"                (default %u)\n"
		"  -f            stay in the foreground, log to stderr (else syslog)\n"
		"  -v            debug log\n",
		API_DEFAULT_SOCKET, DAEMON_DEFAULT_STATEDIR, DAEMON_CONFIRM_TIMEOUT_MS);
}

int main(int argc, char **argv)
{
	struct daemon_options o = {.api_socket = API_DEFAULT_SOCKET,
				   .state_dir = DAEMON_DEFAULT_STATEDIR,
				   .confirm_timeout_ms = DAEMON_CONFIRM_TIMEOUT_MS,
				   .dispatch = commands_dispatch,
				   .shared_image = shared_image_on_etcd,
				   .shared_resv_loaded = shared_resv_on_loaded,
				   .shared_config = shared_config_on_etcd};
	bool fg = false, debug = false;
	char err[SBCFG_ERR_MAX + 256];
	struct daemon d;
	int opt, rc = 1, sig_fd = -1;
	sigset_t ss;

	while ((opt = getopt(argc, argv, "c:s:p:d:t:fvh")) != -1) {
		switch (opt) {
		case 'c':
			o.config = optarg;
			break;
		case 's':
			o.api_socket = optarg;
			break;
		case 'p':
			o.dp_socket = optarg;
			break;
		case 'd':
			o.state_dir = optarg;
			break;
		case 't':
			o.confirm_timeout_ms = (uint32_t)strtoul(optarg, NULL, 10);
			if (o.confirm_timeout_ms == 0) {
				usage(stderr);
				return 2;
			}
			break;
		case 'f':
			fg = true;
			break;
		case 'v':
			debug = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!o.config || optind != argc) {
		usage(stderr);
		return 2;
	}
	ctl_log_init("stormboot-control", true, debug);
	/* A bad file stops us here, with the parser's message naming the field. */
	if (daemon_open(&d, &o, err, sizeof(err)) < 0) {
		fprintf(stderr, "stormboot-control: %s\n", err);
		goto out;
	}
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&ss);
	sigaddset(&ss, SIGHUP);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigprocmask(SIG_BLOCK, &ss, NULL);
	sig_fd = signalfd(-1, &ss, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sig_fd < 0 ||
	    ev_file_add(d.loop, sig_fd, EV_READ, on_signal, &d, err, sizeof(err)) < 0) {
		fprintf(stderr, "stormboot-control: signalfd: %s\n", strerror(errno));
		goto out;
	}
	/* before any thread: the image hasher's starts with its first job */
	if (!fg && daemon(0, 0) < 0) {
		fprintf(stderr, "stormboot-control: daemon: %s\n", strerror(errno));
		goto out;
	}
	ctl_log_init("stormboot-control", fg, debug);
	daemon_start(&d);
	ctl_log(LOG_INFO, "started: config %s, api %s, dataplane channel %s, state %s", o.config,
		d.api.path, d.dp.path, d.state_dir);
	rc = ev_run(d.loop) < 0 ? 1 : 0;
	ctl_log(LOG_INFO, "stopped");
out:
	if (sig_fd >= 0) {
		if (d.loop)
			ev_file_del(d.loop, sig_fd);
		close(sig_fd);
	}
	daemon_close(&d);
	return rc;
}
