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
#include <signal.h>
#include <sys/un.h>
#include <unistd.h>

#include "api.h"
#include "ctl_cert.h"
#include "stormbootctl_fmt.h"
#include "stormbootctl_trace.h"
#include "stormbootctl_doctor.h"

enum { EXIT_CMD = 1, EXIT_USAGE = 2, EXIT_NOT_RUNNING = 3 };

/* How commands take their arguments here (a command not listed takes none). */
static const struct {
	const char *name;
	const char *args;
} cli_args[] = {
	{"config-test", "FILE"},
	{"lease-get", "MAC|IP"},
	{"lease-release", "MAC|IP"},
	{"reservation-add", "MAC [IP] [--hostname H] [--bootfile F] [--ipxe-script S]"},
	{"reservation-del", "MAC"},
	{"image-add", "NAME PATH [--sha256 HEX]"},
	{"image-del", "NAME"},
	{"template-add", "NAME FILE|-  (- reads standard input)"},
	{"template-del", "NAME"},
	{"template-get", "NAME"},
	{"template-render", "NAME [--mac MAC] [--ip IP] [--arch ARCH]"},
	{"guard-deny-add", "MAC"},
	{"guard-deny-del", "MAC"},
	{"guard-allow-add", "MAC"},
	{"guard-allow-del", "MAC"},
	{"guard-allow-enforce", "on|off"},
	{"guard-rate-set", "dhcp|tftp PER_SECOND BURST  (0 0: no limit)"},
	{"trace", "MAC [--follow]  (--follow: new steps as they come, until interrupted)"},
	{"clients", "[--state booting|done|stuck|failed] [--sort last|first|mac|state|steps] "
		    "[--limit N]"},
	{"config-share", "[FILE]  (default: the server's own config file)"},
};


/* CLI-only commands, made of API commands and local checks. */
static const struct api_cmd_desc cli_only[] = {
	{"doctor", "check config, images, pools, dataplane, XDP, other servers, MTU, hugepages, "
		   "clients: a verdict and a hint each; exit 1 if one failed (run it where the "
		   "boot interface is)"},
};

/* The commands come from the daemon's own table (api_commands), so help cannot drift. */
static void usage(FILE *f)
{
	fprintf(f, "usage: stormbootctl [-s SOCKET] [--json] [--no-wait] [-t SECONDS] COMMAND "
		   "[ARGS]\ncommands:\n");
	for (const struct api_cmd_desc *c = api_commands; c->name; c++) {
		const char *args = "";
		char head[128];

		for (size_t i = 0; i < sizeof(cli_args) / sizeof(cli_args[0]); i++)
			if (!strcmp(cli_args[i].name, c->name))
				args = cli_args[i].args;
		snprintf(head, sizeof(head), "%s%s%s", c->name, args[0] ? " " : "", args);
		if (strlen(head) > 28)
			fprintf(f, "  %s\n  %-28s %s\n", head, "", c->help);
		else
			fprintf(f, "  %-28s %s\n", head, c->help);
	}
	for (size_t i = 0; i < sizeof(cli_only) / sizeof(cli_only[0]); i++)
		fprintf(f, "  %-28s %s\n", cli_only[i].name, cli_only[i].help);
	fprintf(f,
		"  %-28s %s\n"
		"  make-cert --cert FILE --key FILE [--ip A,B] [--dns N,M] [--days D] [--rsa]\n"
		"  %-28s a self-signed certificate (its own CA) and key for HTTPS in a lab\n"
		"options:\n"
		"  -s SOCKET   API socket (default %s, or $STORMBOOT_SOCKET)\n"
		"  --json      print the daemon's JSON reply as is\n"
		"  --no-wait   a config change answers once it was sent to the dataplane, not "
		"once\n"
		"              the dataplane adopted it\n"
		"  -t SECONDS  give up waiting for the reply after this long (default 60)\n"
		"exit: 0 ok, 1 command failed, 2 usage, 3 stormboot-control not running\n",
		"raw JSON", "send one request as given", "", API_DEFAULT_SOCKET);
}

static bool is_mac(const char *s)
{
	return strlen(s) == 17 && (s[2] == ':' || s[2] == '-');
}

/*
 * "CMD POS.. [--opt V].." into a: long options (all with an argument) go to keys[i],
 * the positional arguments in order to pos[], between npos_min and npos_max of them.
 */
static int opts_to_json(const char *cmd, int argc, char **argv, const struct option *lo,
			const char *const *keys, const char *const *pos, int npos_min, int npos_max,
			json_t *a)
{
	char **v = calloc((size_t)argc + 2, sizeof(*v));
	int o, li, n = 0;

	if (!v)
		return -1;
	v[0] = (char *)cmd;
	memcpy(v + 1, argv, (size_t)argc * sizeof(*v));
	optind = 0; /* reset getopt; GNU getopt permutes options after the positional ones */
	while ((o = getopt_long(argc + 1, v, "", lo, &li)) != -1) {
		if (o == '?') {
			free(v);
			return -1;
		}
		json_object_set_new(a, keys[li], json_string(optarg));
	}
	for (int i = optind; i < argc + 1; i++, n++)
		if (n < npos_max)
			json_object_set_new(a, pos[n], json_string(v[i]));
	free(v);
	return n < npos_min || n > npos_max ? -1 : 0;
}

/* The whole of a text file ("-": standard input), NUL-terminated; NULL with a message. */
static char *read_text(const char *path)
{
	enum { TEXT_MAX = 1 << 20 }; /* the daemon takes 64 KiB; let it name the limit */
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	char *buf = f ? malloc(TEXT_MAX + 1) : NULL;
	size_t n = 0;

	if (!f || !buf) {
		fprintf(stderr, "stormbootctl: cannot read %s: %s\n", path, strerror(errno));
		free(buf);
		if (f && f != stdin)
			fclose(f);
		return NULL;
	}
	n = fread(buf, 1, TEXT_MAX, f);
	if (ferror(f) || (n == TEXT_MAX && fgetc(f) != EOF) || memchr(buf, 0, n)) {
		const char *why = n == TEXT_MAX ? "larger than 1 MiB" : "binary (holds NUL bytes)";
		fprintf(stderr, "stormbootctl: %s: %s\n", path, ferror(f) ? strerror(errno) : why);
		free(buf);
		buf = NULL;
	} else {
		buf[n] = '\0';
	}
	if (f != stdin)
		fclose(f);
	return buf;
}

/* Build the request for argv (after the command); NULL with a usage message. */
static char *build(const char *cmd, int argc, char **argv, bool no_wait)
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
		static const struct option lo[] = {{"hostname", required_argument, 0, 0},
						   {"bootfile", required_argument, 0, 0},
						   {"ipxe-script", required_argument, 0, 0},
						   {0, 0, 0, 0}};
		static const char *const keys[] = {"hostname", "bootfile", "ipxe_script"};
		static const char *const pos[] = {"mac", "ip"};

		if (opts_to_json(cmd, argc, argv, lo, keys, pos, 1, 2, a) < 0)
			goto usage;
	} else if (!strcmp(cmd, "template-render")) {
		static const struct option lo[] = {{"mac", required_argument, 0, 0},
						   {"ip", required_argument, 0, 0},
						   {"arch", required_argument, 0, 0},
						   {0, 0, 0, 0}};
		static const char *const keys[] = {"mac", "ip", "arch"};
		static const char *const pos[] = {"name"};

		if (opts_to_json(cmd, argc, argv, lo, keys, pos, 1, 1, a) < 0)
			goto usage;
	} else if (!strcmp(cmd, "template-add")) {
		char *text;
		if (argc != 2)
			goto usage;
		if (!(text = read_text(argv[1]))) {
			json_decref(a);
			return NULL;
		}
		json_object_set_new(a, "name", json_string(argv[0]));
		json_t *t = json_string(text);
		free(text);
		if (!t) {
			fprintf(stderr, "stormbootctl: %s is not UTF-8 text\n", argv[1]);
			json_decref(a);
			return NULL;
		}
		json_object_set_new(a, "text", t);
	} else if (!strcmp(cmd, "template-del") || !strcmp(cmd, "template-get")) {
		if (argc != 1)
			goto usage;
		json_object_set_new(a, "name", json_string(argv[0]));
	} else if (!strcmp(cmd, "image-add")) {
		static const struct option lo[] = {{"sha256", required_argument, 0, 0},
						   {0, 0, 0, 0}};
		static const char *const keys[] = {"sha256"};
		static const char *const pos[] = {"name", "path"};
		char cwd[PATH_MAX], abs[2 * PATH_MAX];

		if (opts_to_json(cmd, argc, argv, lo, keys, pos, 2, 2, a) < 0)
			goto usage;
		/* absolute, as typed: the daemon resolves symlinks and ".." itself and checks the
		 * result against control.images_dirs */
		const char *path = json_string_value(json_object_get(a, "path"));
		if (path[0] != '/' && getcwd(cwd, sizeof(cwd))) {
			snprintf(abs, sizeof(abs), "%s/%s", cwd, path);
			json_object_set_new(a, "path", json_string(abs));
		}
	} else if (!strncmp(cmd, "guard-", 6) &&
		   (!strcmp(cmd + 6, "deny-add") || !strcmp(cmd + 6, "deny-del") ||
		    !strcmp(cmd + 6, "allow-add") || !strcmp(cmd + 6, "allow-del"))) {
		if (argc != 1)
			goto usage;
		json_object_set_new(a, "mac", json_string(argv[0]));
	} else if (!strcmp(cmd, "guard-allow-enforce")) {
		if (argc != 1 || (strcmp(argv[0], "on") && strcmp(argv[0], "off")))
			goto usage;
		json_object_set_new(a, "on", json_boolean(!strcmp(argv[0], "on")));
	} else if (!strcmp(cmd, "guard-rate-set")) {
		char *e1, *e2;
		long long pps, burst;

		if (argc != 3)
			goto usage;
		pps = strtoll(argv[1], &e1, 10);
		burst = strtoll(argv[2], &e2, 10);
		if (!argv[1][0] || *e1 || !argv[2][0] || *e2 || pps < 0 || burst < 0)
			goto usage;
		json_object_set_new(a, "kind", json_string(argv[0]));
		json_object_set_new(a, "per_second", json_integer(pps));
		json_object_set_new(a, "burst", json_integer(burst));
	} else if (!strcmp(cmd, "image-del")) {
		if (argc != 1)
			goto usage;
		json_object_set_new(a, "name", json_string(argv[0]));
	} else if (!strcmp(cmd, "trace")) {
		if (argc < 1 || argc > 2 || !is_mac(argv[0]) ||
		    (argc == 2 && strcmp(argv[1], "--follow")))
			goto usage;
		json_object_set_new(a, "mac", json_string(argv[0]));
	} else if (!strcmp(cmd, "clients")) {
		for (int i = 0; i < argc; i += 2) {
			char *e;
			long long n;

			if (i + 1 >= argc)
				goto usage;
			if (!strcmp(argv[i], "--state") || !strcmp(argv[i], "--sort")) {
				json_object_set_new(a, argv[i] + 2, json_string(argv[i + 1]));
			} else if (!strcmp(argv[i], "--limit")) {
				n = strtoll(argv[i + 1], &e, 10);
				if (!argv[i + 1][0] || *e || n < 0)
					goto usage;
				json_object_set_new(a, "limit", json_integer(n));
			} else {
				goto usage;
			}
		}
	} else if (!strcmp(cmd, "config-share")) {
		char abs[PATH_MAX];
		if (argc > 1)
			goto usage;
		if (argc == 1)
			json_object_set_new(a, "path",
					    json_string(realpath(argv[0], abs) ? abs : argv[0]));
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
	if (no_wait) /* commands that do not wait for the dataplane ignore it */
		json_object_set_new(a, "wait", json_false());
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
		if (w < 0 && (errno == EPIPE || errno == ECONNRESET))
			break; /* closed at once (access denied): its reply may be there to read */
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

struct doctor_ctx {
	const char *sock;
	int timeout;
};

static json_t *doctor_ask(void *ctx, const char *command, json_t *args)
{
	struct doctor_ctx *c = ctx;
	char *req = api_request(command, args), *reply = NULL;
	json_t *r = NULL;

	if (req && talk(c->sock, req, c->timeout, &reply) == 0)
		r = json_loads(reply, JSON_DISABLE_EOF_CHECK, NULL);
	free(req);
	free(reply);
	return r;
}

static volatile sig_atomic_t stop;

static void on_sigint(int sig)
{
	(void)sig;
	stop = 1;
}

/*
 * trace MAC --follow: the timeline, then every second its new steps (after the last seq
 * shown), until SIGINT/SIGTERM or the daemon goes away.
 */
static int follow(const char *sock, const char *first_req, int timeout)
{
	struct trace_view v = {0};
	json_t *req = json_loads(first_req, JSON_DISABLE_EOF_CHECK, NULL);
	char *line = NULL, *reply = NULL;
	bool said_wait = false;
	int rc = 0;

	signal(SIGINT, on_sigint);
	signal(SIGTERM, on_sigint);
	setvbuf(stdout, NULL, _IOLBF, 0);
	while (!stop && req) {
		json_t *r, *args;

		json_object_set_new(json_object_get(req, "arguments"), "after",
				    json_integer((json_int_t)v.last_seq));
		free(line);
		line = json_dumps(req, JSON_COMPACT);
		if (!line || (rc = talk(sock, line, timeout, &reply)) != 0)
			break;
		r = json_loads(reply, JSON_DISABLE_EOF_CHECK, NULL);
		free(reply);
		reply = NULL;
		args = json_object_get(r, "arguments");
		if (json_integer_value(json_object_get(r, "result")) == API_OK && args)
			stormbootctl_trace_print(stdout, args, &v);
		else if (!said_wait &&
			 json_integer_value(json_object_get(r, "result")) == API_EMPTY) {
			printf("(no step seen from this MAC yet; waiting)\n");
			said_wait = true;
		} else if (json_integer_value(json_object_get(r, "result")) != API_EMPTY) {
			fprintf(stderr, "%s\n", json_string_value(json_object_get(r, "text")));
			json_decref(r);
			rc = EXIT_CMD;
			break;
		}
		json_decref(r);
		for (int i = 0; i < 10 && !stop; i++)
			usleep(100000);
	}
	free(line);
	json_decref(req);
	return rc;
}

/* make-cert: local, no daemon needed. */
static int make_cert(int argc, char **argv)
{
	static const struct option lo[] = {
		{"cert", required_argument, 0, 'c'}, {"key", required_argument, 0, 'k'},
		{"ip", required_argument, 0, 'i'},   {"dns", required_argument, 0, 'd'},
		{"days", required_argument, 0, 'D'}, {"rsa", no_argument, 0, 'r'},
		{0, 0, 0, 0}};
	const char *cert = NULL, *key = NULL, *ip = NULL, *dns = NULL;
	int days = 365, o;
	bool rsa = false;
	char err[300];

	optind = 1;
	while ((o = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (o) {
		case 'c': cert = optarg; break;
		case 'k': key = optarg; break;
		case 'i': ip = optarg; break;
		case 'd': dns = optarg; break;
		case 'D': days = atoi(optarg); break;
		case 'r': rsa = true; break;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (!cert || !key || (!ip && !dns) || days < 1 || days > 36500 || optind != argc) {
		fprintf(stderr, "stormbootctl: make-cert --cert FILE --key FILE [--ip A,B] "
				"[--dns N,M] [--days 1..36500] [--rsa]\n");
		return EXIT_USAGE;
	}
	if (ctl_cert_make(cert, key, ip, dns, days, rsa, err, sizeof(err)) < 0) {
		fprintf(stderr, "stormbootctl: %s\n", err);
		return EXIT_CMD;
	}
	printf("certificate %s, key %s (%s, self-signed, %d days)\n", cert, key,
	       rsa ? "RSA 2048" : "ECDSA P-256", days);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"json", no_argument, 0, 'j'},		{"socket", required_argument, 0, 's'},
		{"timeout", required_argument, 0, 't'}, {"no-wait", no_argument, 0, 'W'},
		{"help", no_argument, 0, 'h'},		{0, 0, 0, 0}};
	const char *sock = getenv("STORMBOOT_SOCKET");
	bool raw_json = false, no_wait = false;
	int o, timeout = 60, rc;
	char *req, *reply = NULL;

	if (!sock || !sock[0])
		sock = API_DEFAULT_SOCKET;
	while ((o = getopt_long(argc, argv, "+s:t:jh", lo, NULL)) != -1) {
		switch (o) {
		case 's':
			sock = optarg;
			break;
		case 't':
			timeout = atoi(optarg) > 0 ? atoi(optarg) : 60;
			break;
		case 'j':
			raw_json = true;
			break;
		case 'W':
			no_wait = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	const char *cmd = argv[optind];
	if (!strcmp(cmd, "doctor")) {
		struct doctor_ctx dc = {sock, timeout};

		if (argc - optind != 1) {
			usage(stderr);
			return EXIT_USAGE;
		}
		return stormbootctl_doctor(stdout, doctor_ask, &dc, "/proc", "/sys") ? EXIT_CMD : 0;
	}
	if (!strcmp(cmd, "make-cert"))
		return make_cert(argc - optind, argv + optind);
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
	} else if (!(req = build(cmd, argc - optind - 1, argv + optind + 1, no_wait))) {
		return EXIT_USAGE;
	}
	if (!strcmp(cmd, "trace") && argc - optind == 3) {
		rc = follow(sock, req, timeout);
		free(req);
		return rc;
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
		stormbootctl_fmt_print(result == 1 || result == 2 ? stderr : stdout, cmd, r);
	free(reply);
	json_decref(r);
	return result == API_OK || result == API_EMPTY ? 0 : EXIT_CMD;
}
