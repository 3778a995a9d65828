/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * commands_test.c - the operator commands on a whole daemon in a temp dir (config file,
 * lease store, API socket), driven through the API socket, with a test clock and a
 * dataplane played with chan.h's client that answers config snapshots when the test says.
 * The dispatch table, lease times from the daemon's clock, a change that answers once the
 * dataplane adopted it (and not before), refusal, timeout, {"wait": false}, no dataplane,
 * changes one at a time, image hashing once per image-add and again only for a changed
 * file (size, mtime or inode), config-test, lease-release; image-add only from
 * control.images_dirs (symlinks and ".." resolved, regular files only), pinned digests
 * (images[].sha256) checked by image-add and config-reload, the socket users of
 * control.api_users checked at reload.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "ctl_testing.h"
#include "commands.h"
#include "daemon.h"
#include "sbcfg_json.h"

struct fx {
	char dir[64];
	char cfg[128], api[100], img[128], img2[128];
	uint64_t now;
	struct daemon d;
	struct chan_client *dp;
	uint32_t configs[32]; /* config generations the dataplane received, not answered yet */
	size_t n_configs;
	uint32_t last_config; /* the last one received */
	size_t revoked;
	bool closed; /* the test closed the daemon itself */
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[SBCFG_ERR_MAX + 256], json[1024], images[400];

	f->now = CTL_TESTING_NOW;
	snprintf(f->dir, sizeof(f->dir), "/tmp/commands_test.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->cfg, sizeof(f->cfg), "%s/stormboot.json", f->dir);
	snprintf(f->api, sizeof(f->api), "%s/run/control.sock", f->dir);
	snprintf(f->img, sizeof(f->img), "%s/boot.img", f->dir);
	snprintf(f->img2, sizeof(f->img2), "%s/extra.img", f->dir);
	ctl_testing_write_file(f->img, "0123456789", 10);
	ctl_testing_write_file(f->img2, "abc", 3);
	snprintf(images, sizeof(images),
		 ", \"images\": [{\"name\": \"boot.img\", \"path\": \"%s\"}], \"control\": "
		 "{\"images_dirs\": [\"%s\"]}",
		 f->img, f->dir);
	ctl_testing_config(json, sizeof(json), "", images);
	ctl_testing_write_file(f->cfg, json, strlen(json));
	struct daemon_options o = {.config = f->cfg,
				   .api_socket = f->api,
				   .state_dir = f->dir,
				   .confirm_timeout_ms = 2000,
				   .dispatch = commands_dispatch};
	assert_int_equal(daemon_open(&f->d, &o, err, sizeof(err)), 0);
	f->d.clock = (struct ctl_clock){ctl_testing_clock, &f->now};
	/* the running config's images are read first, beside the loop */
	assert_true(f->d.registry_pending);
	daemon_start(&f->d);
	for (uint64_t end = ev_now_ms() + 2000; f->d.registry_pending && ev_now_ms() < end;)
		ev_run_once(f->d.loop, 5);
	assert_false(f->d.registry_pending);
	assert_string_equal(f->d.cur->img[0].sha256, /* sha256("0123456789") */
			    "84d89877f0d4041efb6bf91a16f0248f2fd573e6af05c19f96bedb9f882f7882");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[200];

	chan_client_free(f->dp);
	if (!f->closed)
		daemon_close(&f->d);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* One turn of the daemon's loop and of the dataplane: snapshots of leases and revocations
 * are answered at once, config snapshots are noted and wait for answer_config(). */
static void turn(struct fx *f)
{
	struct chan_msg m;

	ev_run_once(f->d.loop, 2);
	while (f->dp && chan_client_poll(f->dp, ev_now_ms(), &m) == 1) {
		if (m.hdr.type == CHAN_MSG_CONFIG_SNAPSHOT) {
			assert_true(f->n_configs < 32);
			f->configs[f->n_configs++] = m.hdr.id;
			f->last_config = m.hdr.id;
		} else if (m.hdr.type == CHAN_MSG_LEASES_SNAPSHOT) {
			chan_client_reply(f->dp, m.hdr.type, m.hdr.id, 0, NULL, 0);
		} else if (m.hdr.type == CHAN_MSG_LEASE_REVOKE) {
			f->revoked++;
			chan_client_reply(f->dp, m.hdr.type, m.hdr.id, 0, NULL, 0);
		}
	}
}

static void pump(struct fx *f, int ms)
{
	uint64_t end = ev_now_ms() + (uint64_t)ms;

	while (ev_now_ms() < end)
		turn(f);
}

/* Answer the oldest config snapshot the dataplane holds: status, and text when refused. */
static uint32_t answer_config(struct fx *f, int32_t status, const char *text)
{
	uint64_t end = ev_now_ms() + 2000;

	while (!f->n_configs && ev_now_ms() < end)
		turn(f);
	assert_true(f->n_configs > 0);
	uint32_t id = f->configs[0];
	memmove(f->configs, f->configs + 1, --f->n_configs * sizeof(f->configs[0]));
	chan_client_reply(f->dp, CHAN_MSG_CONFIG_SNAPSHOT, id, status, text,
			  text ? strlen(text) : 0);
	return id;
}

static void connect_dataplane(struct fx *f)
{
	uint64_t end = ev_now_ms() + 2000;

	f->dp = chan_client_new(f->d.dp.path, NULL);
	while (!dataplane_link_connected(&f->d.dp) && ev_now_ms() < end)
		turn(f);
	assert_true(dataplane_link_connected(&f->d.dp));
	answer_config(f, 0, NULL); /* the running config, sent on HELLO */
	pump(f, 10);
}

/* Send one request on a new API connection (half-closed, like stormbootctl). */
static int request(struct fx *f, const char *line)
{
	return ctl_testing_connect(f->api, line, true);
}

/* The reply on fd if it came within ms (the loop turning meanwhile): a JSON object the
 * caller frees, or NULL. */
static json_t *reply_within(struct fx *f, int fd, int ms)
{
	uint64_t end = ev_now_ms() + (uint64_t)ms;
	static char buf[1 << 16];
	size_t n = 0;

	while (ev_now_ms() < end) {
		struct pollfd p = {fd, POLLIN, 0};
		turn(f);
		if (poll(&p, 1, 0) == 1) {
			ssize_t r = read(fd, buf + n, sizeof(buf) - n - 1);
			assert_true(r >= 0);
			n += (size_t)r;
			buf[n] = '\0';
			if (r == 0 || memchr(buf, '\n', n))
				break;
		}
	}
	return n ? json_loads(buf, JSON_DISABLE_EOF_CHECK, NULL) : NULL;
}

/* Run one command to its end: its result code and text (in text). */
static int call(struct fx *f, const char *line, char *text, size_t cap)
{
	int fd = request(f, line);
	json_t *r = reply_within(f, fd, 3000);
	int result;

	close(fd);
	assert_non_null(r);
	result = (int)json_integer_value(json_object_get(r, "result"));
	if (text)
		snprintf(text, cap, "%s", json_string_value(json_object_get(r, "text")));
	json_decref(r);
	return result;
}

/* Files the image hasher read while the command line ran (it must succeed). */
static uint64_t hashed_by(struct fx *f, const char *line)
{
	uint64_t before = image_hasher_files_hashed(f->d.hasher);
	char text[2048];

	assert_int_equal(call(f, line, text, sizeof(text)), API_OK);
	return image_hasher_files_hashed(f->d.hasher) - before;
}

static bool file_has(const char *path, const char *what)
{
	static char buf[1 << 16];
	int fd = open(path, O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	if (fd >= 0)
		close(fd);
	if (n < 0)
		return false;
	buf[n] = '\0';
	return strstr(buf, what) != NULL;
}

static void test_table_and_unknown(void **state)
{
	struct fx *f = *state;
	int fd = request(f, "{\"command\": \"help\"}\n");
	json_t *r = reply_within(f, fd, 2000), *cmds;
	char *line;

	close(fd);
	assert_non_null(r);
	cmds = json_object_get(json_object_get(r, "arguments"), "commands");
	assert_int_equal(json_array_size(cmds), API_CMD__COUNT);
	for (size_t i = 0; i < API_CMD__COUNT; i++)
		assert_string_equal(
			json_string_value(json_object_get(json_array_get(cmds, i), "command")),
			api_commands[i].name);
	json_decref(r);
	/* an id past the table (the API server never passes one): unsupported, not a crash */
	line = commands_dispatch(&f->d, 1, API_CMD__COUNT, NULL);
	assert_non_null(strstr(line, "\"result\":2"));
	free(line);
	assert_int_equal(call(f, "{\"command\": \"no-such\"}\n", NULL, 0), API_UNSUPPORTED);
}

static void test_leases_use_the_daemon_clock(void **state)
{
	struct fx *f = *state;
	struct chan_lease ev = {.expires = CTL_TESTING_NOW + 3600,
				.ip = CTL_TESTING_IP(198, 18, 0, 20),
				.mac = {0x02, 0, 0, 0, 0, 1},
				.event = CHAN_LEASE_BOUND};
	char text[512];
	json_t *r;
	int fd;

	connect_dataplane(f);
	assert_int_equal(chan_client_request(f->dp, CHAN_MSG_LEASE_EVENT, &ev, sizeof(ev), NULL),
			 0);
	pump(f, 50);
	f->now = CTL_TESTING_NOW + 600;
	fd = request(f, "{\"command\": \"lease-get\", \"arguments\": {\"ip\": \"198.18.0.20\"}}\n");
	r = reply_within(f, fd, 2000);
	close(fd);
	json_t *l = json_array_get(json_object_get(json_object_get(r, "arguments"), "leases"), 0);
	assert_int_equal(json_integer_value(json_object_get(l, "expires_in")), 3000);
	json_decref(r);
	/* an hour later it is over */
	f->now = CTL_TESTING_NOW + 3601;
	assert_int_equal(call(f,
			      "{\"command\": \"lease-release\", \"arguments\": {\"ip\": "
			      "\"198.18.0.20\"}}\n",
			      text, sizeof(text)),
			 API_EMPTY);
}

static void test_change_answers_once_adopted(void **state)
{
	struct fx *f = *state;
	const char *add = "{\"command\": \"reservation-add\", \"arguments\": {\"mac\": "
			  "\"52:54:00:00:00:01\", \"ip\": \"198.18.0.60\"}}\n";
	char text[2048], want[128];
	int fd;

	connect_dataplane(f);
	uint64_t running = f->d.cur->generation;
	fd = request(f, add);
	assert_null(reply_within(f, fd, 200)); /* sent, not adopted: no answer */
	assert_int_equal(f->n_configs, 1);
	assert_int_equal(f->d.cur->generation, running); /* not running either */
	assert_false(file_has(f->cfg, "52:54:00:00:00:01"));
	uint32_t gen = answer_config(f, 0, NULL);
	json_t *r = reply_within(f, fd, 2000);
	close(fd);
	assert_non_null(r);
	assert_int_equal(json_integer_value(json_object_get(r, "result")), API_OK);
	snprintf(want, sizeof(want), "configuration generation %u in effect in the dataplane", gen);
	assert_non_null(strstr(json_string_value(json_object_get(r, "text")), want));
	json_decref(r);
	assert_int_equal(f->d.cur->generation, gen);
	assert_true(file_has(f->cfg, "52:54:00:00:00:01"));
	assert_int_equal(call(f, "{\"command\": \"reservation-list\"}\n", text, sizeof(text)),
			 API_OK);
}

static void test_change_refused(void **state)
{
	struct fx *f = *state;
	char text[2048];
	int fd;

	connect_dataplane(f);
	uint64_t running = f->d.cur->generation;
	fd = request(f, "{\"command\": \"image-del\", \"arguments\": {\"name\": \"boot.img\"}}\n");
	answer_config(f, -EINVAL, "images: the dataplane says no");
	json_t *r = reply_within(f, fd, 2000);
	close(fd);
	assert_int_equal(json_integer_value(json_object_get(r, "result")), API_ERROR);
	snprintf(text, sizeof(text), "%s", json_string_value(json_object_get(r, "text")));
	json_decref(r);
	assert_non_null(strstr(text, "image-del: the dataplane refused configuration generation"));
	assert_non_null(strstr(text, "images: the dataplane says no"));
	assert_non_null(strstr(text, "kept"));
	/* control runs what the dataplane runs */
	assert_int_equal(f->d.cur->generation, running);
	assert_int_equal(f->d.cur->cfg.n_images, 1);
	assert_true(file_has(f->cfg, "boot.img"));
}

static void test_timeout_and_no_wait(void **state)
{
	struct fx *f = *state;
	char text[2048], want[160];
	int fd;

	connect_dataplane(f);
	f->d.confirm_timeout_ms = 100;
	uint64_t running = f->d.cur->generation;
	assert_int_equal(call(f,
			      "{\"command\": \"reservation-add\", \"arguments\": {\"mac\": "
			      "\"52:54:00:00:00:02\"}}\n",
			      text, sizeof(text)),
			 API_ERROR);
	snprintf(want, sizeof(want), "did not confirm configuration generation %llu within 100 ms",
		 (unsigned long long)running + 1);
	assert_non_null(strstr(text, want));
	/* the running config went to the dataplane again, under a new generation */
	pump(f, 20);
	assert_int_equal(f->last_config, f->d.cur->generation);
	assert_true(f->d.cur->generation > running + 1);
	assert_int_equal(f->d.cur->cfg.dhcp.n_reservations, 0);
	answer_config(f, 0, NULL); /* the late ones: moot */
	answer_config(f, 0, NULL);
	/* {"wait": false}: answered once sent; running once adopted */
	f->d.confirm_timeout_ms = 2000;
	fd = request(f, "{\"command\": \"reservation-add\", \"arguments\": {\"mac\": "
			"\"52:54:00:00:00:03\", \"wait\": false}}\n");
	json_t *r = reply_within(f, fd, 1000);
	close(fd);
	assert_non_null(r);
	assert_int_equal(json_integer_value(json_object_get(r, "result")), API_OK);
	assert_non_null(strstr(json_string_value(json_object_get(r, "text")), "not waiting"));
	json_decref(r);
	assert_int_equal(f->d.cur->cfg.dhcp.n_reservations, 0);
	uint32_t gen = answer_config(f, 0, NULL);
	pump(f, 20);
	assert_int_equal(f->d.cur->cfg.dhcp.n_reservations, 1);
	assert_int_equal(f->d.cur->generation, gen);
	/* "wait" must be a boolean */
	assert_int_equal(call(f, "{\"command\": \"config-reload\", \"arguments\": {\"wait\": 0}}\n",
			      text, sizeof(text)),
			 API_ERROR);
	assert_non_null(strstr(text, "\"wait\" must be true or false"));
}

static void test_no_dataplane_and_one_at_a_time(void **state)
{
	struct fx *f = *state;
	char text[2048];
	int a, b;

	assert_int_equal(call(f,
			      "{\"command\": \"reservation-add\", \"arguments\": {\"mac\": "
			      "\"52:54:00:00:00:04\"}}\n",
			      text, sizeof(text)),
			 API_OK);
	assert_non_null(strstr(text, "applied; no dataplane connected"));
	/* two changes at once: the second waits for the first and is built on it */
	connect_dataplane(f);
	a = request(f, "{\"command\": \"reservation-add\", \"arguments\": {\"mac\": "
		       "\"52:54:00:00:00:05\"}}\n");
	b = request(f, "{\"command\": \"reservation-add\", \"arguments\": {\"mac\": "
		       "\"52:54:00:00:00:06\"}}\n");
	pump(f, 100);
	assert_int_equal(f->n_configs, 1); /* the second is not sent before the first is over */
	assert_int_equal(daemon_changes_pending(&f->d), 2);
	answer_config(f, 0, NULL);
	json_t *ra = reply_within(f, a, 2000);
	answer_config(f, 0, NULL);
	json_t *rb = reply_within(f, b, 2000);
	close(a);
	close(b);
	assert_int_equal(json_integer_value(json_object_get(ra, "result")), API_OK);
	assert_int_equal(json_integer_value(json_object_get(rb, "result")), API_OK);
	json_decref(ra);
	json_decref(rb);
	assert_int_equal(f->d.cur->cfg.dhcp.n_reservations, 3);
	assert_true(file_has(f->cfg, "52:54:00:00:00:05"));
	assert_true(file_has(f->cfg, "52:54:00:00:00:06"));
	assert_int_equal(daemon_changes_pending(&f->d), 0);
}

static void test_image_hashing(void **state)
{
	struct fx *f = *state;
	char line[512], text[2048], moved[160];
	struct timespec ts[2];
	struct stat sb;

	/* image-add reads the new file once; the registry has its size and hash */
	snprintf(line, sizeof(line),
		 "{\"command\": \"image-add\", \"arguments\": {\"name\": \"extra.img\", "
		 "\"path\": \"%s\"}}\n",
		 f->img2);
	assert_int_equal(hashed_by(f, line), 1);
	assert_int_equal(f->d.cur->cfg.n_images, 2);
	assert_int_equal(f->d.cur->img[1].size, 3);
	assert_string_equal(f->d.cur->img[1].sha256, /* sha256("abc") */
			    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	/* another change reads nothing: both files are as they were */
	assert_int_equal(hashed_by(f, "{\"command\": \"reservation-add\", \"arguments\": "
				      "{\"mac\": \"52:54:00:00:00:07\"}}\n"),
			 0);
	/* same size, same mtime, another file (renamed over it): another inode, read again */
	assert_int_equal(stat(f->img2, &sb), 0);
	snprintf(moved, sizeof(moved), "%s.new", f->img2);
	ctl_testing_write_file(moved, "xyz", 3);
	ts[0] = sb.st_atim;
	ts[1] = sb.st_mtim;
	assert_int_equal(utimensat(AT_FDCWD, moved, ts, 0), 0);
	assert_int_equal(rename(moved, f->img2), 0);
	assert_int_equal(hashed_by(f, "{\"command\": \"reservation-del\", \"arguments\": "
				      "{\"mac\": \"52:54:00:00:00:07\"}}\n"),
			 1);
	assert_string_equal(f->d.cur->img[1].sha256, /* sha256("xyz") */
			    "3608bca1e44ea6c4d268eb6db02260269892c0b42b86bbf1e77a6fa16c3c9282");
	/* a file that cannot be read refuses image-add, naming it */
	snprintf(line, sizeof(line),
		 "{\"command\": \"image-add\", \"arguments\": {\"name\": \"nope.img\", "
		 "\"path\": \"%s/missing.img\"}}\n",
		 f->dir);
	assert_int_equal(call(f, line, text, sizeof(text)), API_ERROR);
	assert_non_null(strstr(text, "missing.img: No such file or directory"));
	assert_int_equal(f->d.cur->cfg.n_images, 2);
	/* config-test reads beside the loop too, and warns about what it cannot read */
	snprintf(line, sizeof(line),
		 "{\"command\": \"config-test\", \"arguments\": {\"config\": {\"interface\": "
		 "\"sb0\", \"server_ip\": \"198.18.0.1\", \"dhcp\": {\"subnets\": [{\"network\": "
		 "\"198.18.0.0/24\", \"pool\": {\"start\": \"198.18.0.10\", \"end\": "
		 "\"198.18.0.20\"}}]}, \"images\": [{\"name\": \"x\", \"path\": "
		 "\"%s/missing.img\"}]}}}\n",
		 f->dir);
	assert_int_equal(call(f, line, text, sizeof(text)), API_OK);
	assert_non_null(strstr(text, "configuration valid; warning: 1 image file unreadable"));
}

#define SHA_0_9 "84d89877f0d4041efb6bf91a16f0248f2fd573e6af05c19f96bedb9f882f7882"
#define SHA_ABC "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

/* image-add takes regular files under control.images_dirs only, resolved first. */
static void test_image_add_dirs(void **state)
{
	struct fx *f = *state;
	char line[1024], text[2048], link[160], sub[160], json[1024], more[400];

	/* a file of the host outside the directories: /etc/shadow never becomes an image */
	assert_int_equal(call(f,
			      "{\"command\": \"image-add\", \"arguments\": {\"name\": \"s\", "
			      "\"path\": \"/etc/shadow\"}}\n",
			      text, sizeof(text)),
			 API_ERROR);
	assert_non_null(strstr(text, "image-add: refused: /etc/shadow"));
	assert_non_null(strstr(text, "is not inside control.images_dirs"));
	/* a symlink inside the directory to a file outside it: resolved, refused */
	snprintf(link, sizeof(link), "%s/passwd.img", f->dir);
	assert_int_equal(symlink("/etc/passwd", link), 0);
	snprintf(line, sizeof(line),
		 "{\"command\": \"image-add\", \"arguments\": {\"name\": \"p\", \"path\": "
		 "\"%s\"}}\n",
		 link);
	assert_int_equal(call(f, line, text, sizeof(text)), API_ERROR);
	assert_non_null(strstr(text, "-> /etc/passwd is not inside control.images_dirs"));
	/* ".." out of it: the same */
	snprintf(line, sizeof(line),
		 "{\"command\": \"image-add\", \"arguments\": {\"name\": \"p\", \"path\": "
		 "\"%s/../../etc/passwd\"}}\n",
		 f->dir);
	assert_int_equal(call(f, line, text, sizeof(text)), API_ERROR);
	assert_non_null(strstr(text, "-> /etc/passwd is not inside"));
	/* not a regular file */
	snprintf(sub, sizeof(sub), "%s/sub", f->dir);
	assert_int_equal(mkdir(sub, 0755), 0);
	snprintf(line, sizeof(line),
		 "{\"command\": \"image-add\", \"arguments\": {\"name\": \"d\", \"path\": "
		 "\"%s\"}}\n",
		 sub);
	assert_int_equal(call(f, line, text, sizeof(text)), API_ERROR);
	assert_non_null(strstr(text, "not a regular file"));
	assert_int_equal(f->d.cur->cfg.n_images, 1);
	/* a file under the directory, named through ".." inside it: added, path resolved */
	snprintf(line, sizeof(line),
		 "{\"command\": \"image-add\", \"arguments\": {\"name\": \"extra.img\", "
		 "\"path\": \"%s/sub/../extra.img\"}}\n",
		 f->dir);
	assert_int_equal(call(f, line, text, sizeof(text)), API_OK);
	assert_int_equal(f->d.cur->cfg.n_images, 2);
	assert_string_equal(f->d.cur->cfg.images[1].path, f->img2);
	/* no directory configured (the default): image-add is refused, saying what to set */
	snprintf(more, sizeof(more), ", \"images\": [{\"name\": \"boot.img\", \"path\": \"%s\"}]",
		 f->img);
	ctl_testing_config(json, sizeof(json), "", more);
	ctl_testing_write_file(f->cfg, json, strlen(json));
	assert_int_equal(call(f, "{\"command\": \"config-reload\"}\n", text, sizeof(text)), API_OK);
	assert_int_equal(f->d.cur->cfg.control.n_images_dirs, 0);
	snprintf(line, sizeof(line),
		 "{\"command\": \"image-add\", \"arguments\": {\"name\": \"x\", \"path\": "
		 "\"%s\"}}\n",
		 f->img2);
	assert_int_equal(call(f, line, text, sizeof(text)), API_ERROR);
	assert_non_null(strstr(text, "no image directory is configured"));
	assert_non_null(strstr(text, "control.images_dirs"));
	assert_int_equal(f->d.image_add_refused, 5); /* each refusal counted (status) */
}

/* A pinned SHA-256 refuses a file with other bytes: at image-add and at config-reload. */
static void test_pinned_digest(void **state)
{
	struct fx *f = *state;
	char line[1024], text[2048], json[1200], more[600];

	/* image-add with the wrong digest: refused, naming the image and both digests */
	snprintf(line, sizeof(line),
		 "{\"command\": \"image-add\", \"arguments\": {\"name\": \"extra.img\", "
		 "\"path\": \"%s\", \"sha256\": \"" SHA_0_9 "\"}}\n",
		 f->img2);
	assert_int_equal(call(f, line, text, sizeof(text)), API_ERROR);
	assert_non_null(strstr(text, "\"extra.img\""));
	assert_non_null(strstr(text, "is " SHA_ABC ", but the config pins " SHA_0_9));
	assert_non_null(strstr(text, "running configuration (generation 0) kept"));
	assert_int_equal(f->d.cur->cfg.n_images, 1);
	/* the right one (upper case is fine): added, pinned, written to the file */
	snprintf(line, sizeof(line),
		 "{\"command\": \"image-add\", \"arguments\": {\"name\": \"extra.img\", "
		 "\"path\": \"%s\", \"sha256\": "
		 "\"BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD\"}}\n",
		 f->img2);
	assert_int_equal(call(f, line, text, sizeof(text)), API_OK);
	assert_string_equal(f->d.cur->cfg.images[1].sha256, SHA_ABC);
	assert_true(file_has(f->cfg, "\"sha256\": \"" SHA_ABC "\""));
	assert_int_equal(call(f,
			      "{\"command\": \"image-add\", \"arguments\": {\"name\": \"y\", "
			      "\"path\": \"/x\", \"sha256\": \"abc\"}}\n",
			      text, sizeof(text)),
			 API_ERROR);
	assert_non_null(strstr(text, "\"sha256\" must be a SHA-256 digest"));

	/* the config file pins boot.img; the file changes; a reload is refused naming it */
	snprintf(more, sizeof(more),
		 ", \"images\": [{\"name\": \"boot.img\", \"path\": \"%s\", \"sha256\": "
		 "\"" SHA_0_9 "\"}], \"control\": {\"images_dirs\": [\"%s\"]}",
		 f->img, f->dir);
	ctl_testing_config(json, sizeof(json), "", more);
	ctl_testing_write_file(f->cfg, json, strlen(json));
	assert_int_equal(call(f, "{\"command\": \"config-reload\"}\n", text, sizeof(text)), API_OK);
	assert_string_equal(f->d.cur->cfg.images[0].sha256, SHA_0_9);
	uint64_t gen = f->d.cur->generation;
	ctl_testing_write_file(f->img, "tampered!!", 10);
	ctl_testing_config(json, sizeof(json), ", \"max_lease_time\": 7200", more);
	ctl_testing_write_file(f->cfg, json, strlen(json));
	assert_int_equal(call(f, "{\"command\": \"config-reload\"}\n", text, sizeof(text)),
			 API_ERROR);
	assert_non_null(strstr(text, "images[0] \"boot.img\": SHA-256 of"));
	assert_non_null(strstr(text, ", but the config pins " SHA_0_9));
	assert_non_null(strstr(text, "refused, running configuration"));
	assert_int_equal(f->d.cur->generation, gen);
	assert_int_equal(f->d.cur->cfg.dhcp.max_lease_time, 86400);
	assert_int_equal(f->d.pins_refused, 2);
	/* config-test says so too */
	snprintf(line, sizeof(line),
		 "{\"command\": \"config-test\", \"arguments\": {\"path\": \"%s\"}}\n", f->cfg);
	assert_int_equal(call(f, line, text, sizeof(text)), API_ERROR);
	assert_non_null(strstr(text, "images[0] \"boot.img\": SHA-256 of"));
	/* the right bytes again: the same reload goes through */
	ctl_testing_write_file(f->img, "0123456789", 10);
	assert_int_equal(call(f, "{\"command\": \"config-reload\"}\n", text, sizeof(text)), API_OK);
	assert_int_equal(f->d.cur->cfg.dhcp.max_lease_time, 7200);
}

/* A socket user that does not exist refuses the reload, naming the field. */
static void test_access_names(void **state)
{
	struct fx *f = *state;
	char text[2048], json[1200], more[600];

	snprintf(more, sizeof(more),
		 ", \"control\": {\"api_users\": [\"root\", \"no-such-user-sb\"]}");
	ctl_testing_config(json, sizeof(json), "", more);
	ctl_testing_write_file(f->cfg, json, strlen(json));
	assert_int_equal(call(f, "{\"command\": \"config-reload\"}\n", text, sizeof(text)),
			 API_ERROR);
	assert_non_null(strstr(text, "control.api_users[1]: no user \"no-such-user-sb\""));
	snprintf(more, sizeof(more),
		 ", \"control\": {\"api_users\": [\"root\", \"4242\"], "
		 "\"dataplane_groups\": [\"no-such-group-sb\"]}");
	ctl_testing_config(json, sizeof(json), "", more);
	ctl_testing_write_file(f->cfg, json, strlen(json));
	assert_int_equal(call(f, "{\"command\": \"config-reload\"}\n", text, sizeof(text)),
			 API_ERROR);
	assert_non_null(strstr(text, "control.dataplane_groups[0]: no group \"no-such-group-sb\""));
	/* ids need not exist; our own user is always allowed, so the API still answers */
	snprintf(more, sizeof(more), ", \"control\": {\"api_users\": [\"4242\"]}");
	ctl_testing_config(json, sizeof(json), "", more);
	ctl_testing_write_file(f->cfg, json, strlen(json));
	assert_int_equal(call(f, "{\"command\": \"config-reload\"}\n", text, sizeof(text)), API_OK);
	assert_int_equal(f->d.api.access.n_users, 1);
	assert_int_equal(f->d.api.access.users[0], 4242);
	assert_false(f->d.api.access.socket_group);
	assert_int_equal(call(f, "{\"command\": \"status\"}\n", text, sizeof(text)), API_OK);
}

static void test_reload(void **state)
{
	struct fx *f = *state;
	char text[2048];

	assert_int_equal(call(f, "{\"command\": \"config-reload\"}\n", text, sizeof(text)), API_OK);
	assert_non_null(strstr(text, "configuration unchanged"));
	ctl_testing_write_file(f->cfg, "{\"interface\": \"sb0\"", 19);
	assert_int_equal(call(f, "{\"command\": \"config-reload\"}\n", text, sizeof(text)),
			 API_ERROR);
	assert_non_null(strstr(text, "reload refused, running configuration (generation 0) kept"));
	assert_non_null(strstr(f->d.last_reload, "reload refused"));
}

/* One server (no "cluster"): config-share refuses, saying why; nothing changes. */
static void test_config_share_single(void **state)
{
	struct fx *f = *state;
	char text[2048];

	assert_int_equal(call(f, "{\"command\": \"config-share\"}\n", text, sizeof(text)),
			 API_ERROR);
	assert_non_null(strstr(text, "config-share: not in cluster mode"));
	assert_int_equal(daemon_changes_pending(&f->d), 0);
}

static void test_lease_release(void **state)
{
	struct fx *f = *state;
	struct chan_lease ev = {.expires = CTL_TESTING_NOW + 3600,
				.ip = CTL_TESTING_IP(198, 18, 0, 30),
				.mac = {0x02, 0, 0, 0, 0, 2},
				.event = CHAN_LEASE_BOUND};
	struct lease_store_stats before, after;
	char text[512];

	connect_dataplane(f);
	chan_client_request(f->dp, CHAN_MSG_LEASE_EVENT, &ev, sizeof(ev), NULL);
	pump(f, 50);
	lease_store_get_stats(f->d.store, &before);
	assert_int_equal(call(f,
			      "{\"command\": \"lease-release\", \"arguments\": {\"mac\": "
			      "\"02:00:00:00:00:02\"}}\n",
			      text, sizeof(text)),
			 API_OK);
	lease_store_get_stats(f->d.store, &after);
	assert_int_equal(after.committed, before.committed + 1); /* durable before the reply */
	pump(f, 20);
	assert_int_equal(f->revoked, 1);
}

static void test_close_with_changes_in_flight(void **state)
{
	struct fx *f = *state;
	char line[512], buf[64];
	int a, b;

	connect_dataplane(f);
	a = request(f, "{\"command\": \"reservation-add\", \"arguments\": {\"mac\": "
		       "\"52:54:00:00:00:08\"}}\n");
	snprintf(line, sizeof(line),
		 "{\"command\": \"image-add\", \"arguments\": {\"name\": \"extra.img\", "
		 "\"path\": \"%s\"}}\n",
		 f->img2);
	b = request(f, line);
	pump(f, 100);
	assert_int_equal(daemon_changes_pending(&f->d), 2); /* one sent, one queued */
	/* closing ends both (their clients see the end of the stream, no reply), frees all */
	daemon_close(&f->d);
	assert_int_equal(read(a, buf, sizeof(buf)), 0);
	assert_int_equal(read(b, buf, sizeof(buf)), 0);
	close(a);
	close(b);
	assert_null(f->d.changes);
	f->closed = true;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_table_and_unknown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_leases_use_the_daemon_clock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_change_answers_once_adopted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_change_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout_and_no_wait, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_dataplane_and_one_at_a_time, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_image_hashing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_image_add_dirs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pinned_digest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_access_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lease_release, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_with_changes_in_flight, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_share_single, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
