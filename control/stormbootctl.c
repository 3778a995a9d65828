/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * stormbootctl: the operator CLI for stormboot-control's API socket.
 * Exit codes: 0 ok (result 0 or 3), 1 the command failed, 2 usage, 3 daemon not running.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "api.h"
#include "stormbootctl.h"

enum { EXIT_CMD = 1, EXIT_USAGE = 2, EXIT_NOT_RUNNING = 3 };

static void usage(FILE *f)
{
	fprintf(f,
		"usage: stormbootctl [-s SOCKET] [--json] [-t SECONDS] COMMAND [ARGS]\n"
		"  status | config-get | config-reload | config-test FILE\n"
		"  lease-list | lease-get MAC|IP | lease-release MAC|IP\n"
		"  reservation-list | reservation-del MAC\n"
		"  reservation-add MAC [IP] [--hostname H] [--bootfile F] [--ipxe-script S]\n"
		"  image-list | image-add NAME PATH | image-del NAME\n"
		"  stats | latency | sessions | help\n"
		"  raw JSON        send one request as given\n"
		"  -s SOCKET  API socket (default %s, or $STORMBOOT_SOCKET)\n"
		"  --json     print the daemon's JSON reply as is\n"
		"exit: 0 ok, 1 command failed, 2 usage, 3 stormboot-control not running\n",
		API_DEFAULT_SOCKET);
}

static bool is_mac(const char *s)
{
	return strlen(s) == 17 && (s[2] == ':' || s[2] == '-');
}

/* Build the request for argv (after the command); NULL with a usage message. */
static char *build(const char *cmd, int argc, char **argv)
{
	json_t *a = json_object();
	bool needs = false;

	if (!strcmp(cmd, "lease-get") || !strcmp(cmd, "lease-release")) {
		if (argc != 1)
			goto usage;
		json_object_set_new(a, is_mac(argv[0]) ? "mac" : "ip", json_string(argv[0]));
	} else if (!strcmp(cmd, "reservation-del")) {
		if (argc != 1)
			goto usage;
		json_object_set_new(a, "mac", json_string(argv[0]));
	} else if (!strcmp(cmd, "reservation-add")) {
		static const struct option lo[] = {{"hostname", required_argument, 0, 'h'},
						   {"bootfile", required_argument, 0, 'b'},
						   {"ipxe-script", required_argument, 0, 'i'},
						   {0, 0, 0, 0}};
		int o, pos = 0;

		optind = 0; /* argv[0] is the MAC: reset getopt, permuting options after it */
		char **v = calloc((size_t)argc + 2, sizeof(*v));
		v[0] = (char *)cmd;
		memcpy(v + 1, argv, (size_t)argc * sizeof(*v));
		while ((o = getopt_long(argc + 1, v, "", lo, NULL)) != -1) {
			if (o == '?') {
				free(v);
				goto usage;
			}
			json_object_set_new(a, o == 'h' ? "hostname" : o == 'b' ? "bootfile"
										 : "ipxe_script",
					    json_string(optarg));
		}
		for (int i = optind; i < argc + 1; i++, pos++)
			json_object_set_new(a, pos == 0 ? "mac" : "ip", json_string(v[i]));
		free(v);
		if (pos < 1 || pos > 2)
			goto usage;
	} else if (!strcmp(cmd, "image-add")) {
		char abs[PATH_MAX];
		if (argc != 2)
			goto usage;
		json_object_set_new(a, "name", json_string(argv[0]));
		/* the daemon resolves nothing: send an absolute path */
		json_object_set_new(a, "path", json_string(realpath(argv[1], abs) ? abs : argv[1]));
	} else if (!strcmp(cmd, "image-del")) {
		if (argc != 1)
			goto usage;
		json_object_set_new(a, "name", json_string(argv[0]));
	} else if (!strcmp(cmd, "config-test")) {
		char abs[PATH_MAX];
		if (argc != 1)
			goto usage;
		json_object_set_new(a, "path", json_string(realpath(argv[0], abs) ? abs : argv[0]));
	} else {
		needs = argc != 0;
	}
	if (needs)
		goto usage;
	return api_request(cmd, a);
usage:
	json_decref(a);
	fprintf(stderr, "stormbootctl: wrong arguments for %s\n", cmd);
	usage(stderr);
	return NULL;
}

static int talk(const char *path, const char *req, int timeout_s, char **out)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = timeout_s};
	size_t len = 0, cap = 65536;
	char *buf = malloc(cap);
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path) || !buf) {
		fprintf(stderr, "stormbootctl: socket path too long: %s\n", path);
		free(buf);
		return EXIT_USAGE;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "stormboot-control is not running (connect %s: %s)\n", path,
			strerror(errno));
		free(buf);
		if (fd >= 0)
			close(fd);
		return EXIT_NOT_RUNNING;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	for (size_t off = 0, n = strlen(req); off < n;) {
		ssize_t w = send(fd, req + off, n - off, MSG_NOSIGNAL);
		if (w < 0) {
			fprintf(stderr, "stormbootctl: send(%s): %s\n", path, strerror(errno));
			goto fail;
		}
		off += (size_t)w;
	}
	shutdown(fd, SHUT_WR);
	for (;;) {
		if (len + 1 >= cap) {
			char *n = realloc(buf, cap *= 2);
			if (!n)
				goto fail;
			buf = n;
		}
		ssize_t r = recv(fd, buf + len, cap - len - 1, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			fprintf(stderr, "stormbootctl: no reply from %s: %s\n", path,
				strerror(errno == EAGAIN ? ETIMEDOUT : errno));
			goto fail;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (memchr(buf + len - (size_t)r, '\n', (size_t)r))
			break;
	}
	buf[len] = '\0';
	close(fd);
	*out = buf;
	return 0;
fail:
	close(fd);
	free(buf);
	return EXIT_CMD;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {{"json", no_argument, 0, 'j'},
					   {"socket", required_argument, 0, 's'},
					   {"timeout", required_argument, 0, 't'},
					   {"help", no_argument, 0, 'h'},
					   {0, 0, 0, 0}};
	const char *sock = getenv("STORMBOOT_SOCKET");
	bool raw_json = false;
	int o, timeout = 60, rc;
	char *req, *reply = NULL;

	if (!sock || !sock[0])
		sock = API_DEFAULT_SOCKET;
	while ((o = getopt_long(argc, argv, "+s:t:jh", lo, NULL)) != -1) {
		switch (o) {
		case 's': sock = optarg; break;
		case 't': timeout = atoi(optarg) > 0 ? atoi(optarg) : 60; break;
		case 'j': raw_json = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	const char *cmd = argv[optind];
	if (!strcmp(cmd, "raw")) {
		if (argc - optind != 2) {
			usage(stderr);
			return EXIT_USAGE;
		}
		size_t n = strlen(argv[optind + 1]);
		req = malloc(n + 2);
		memcpy(req, argv[optind + 1], n);
		memcpy(req + n, "\n", 2);
	} else if (!api_command_known(cmd)) {
		fprintf(stderr, "stormbootctl: unknown command \"%s\"\n", cmd);
		usage(stderr);
		return EXIT_USAGE;
	} else if (!(req = build(cmd, argc - optind - 1, argv + optind + 1))) {
		return EXIT_USAGE;
	}
	rc = talk(sock, req, timeout, &reply);
	free(req);
	if (rc)
		return rc;
	json_error_t je;
	json_t *r = json_loads(reply, JSON_DISABLE_EOF_CHECK, &je);
	if (!json_is_object(r) || !json_is_integer(json_object_get(r, "result"))) {
		fprintf(stderr, "stormbootctl: malformed reply: %s\n", reply);
		free(reply);
		json_decref(r);
		return EXIT_CMD;
	}
	json_int_t result = json_integer_value(json_object_get(r, "result"));
	if (raw_json)
		fputs(reply, stdout);
	else
		sbctl_print(result == 1 || result == 2 ? stderr : stdout, cmd, r);
	free(reply);
	json_decref(r);
	return result == API_OK || result == API_EMPTY ? 0 : EXIT_CMD;
}
