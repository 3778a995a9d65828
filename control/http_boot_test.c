/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * http_boot_test.c - HTTP boot's routes and template store, through the route the server
 * calls (http_boot_route) on parsed requests, with a test clock: a template rendered for
 * ?mac=, for the holder of the peer's lease while the lease lasts (the clock says), for an
 * unknown client; an image served from its file; '..' and unknown names refused; templates
 * written to the state directory and loaded again at start; images_allowed: 403 for a client
 * whose subnet's list has not the image, 200 for the lease holder whose reservation allows it
 * (a ?mac= in the request changes nothing); a pinned image only while its file is the one whose
 * digest was checked (503 otherwise).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "ctl_testing.h"
#include "http_boot.h"
#include "sbcfg_access.h"
#include "sbcfg_json.h"

#define TEMPLATE "#!ipxe\necho ${hostname} ${mac} ${arch} ${ip}\nchain ${base_url}/k\n"

struct fx {
	char dir[64];
	char img[128];
	uint64_t now;
	struct running_config *rc;
	struct lease_store *store;
	struct ev_loop *loop;
	struct http_boot *h;
	/* firmware reports handed to the owner */
	int fw_calls, fw_rc;
	bool fw_leased;
	uint8_t fw_mac[6];
	char fw_text[160];
};

static int on_firmware(void *arg, const uint8_t mac[6], uint32_t ip, bool leased, const char *text)
{
	struct fx *f = arg;

	(void)ip;
	f->fw_calls++;
	f->fw_leased = leased;
	memcpy(f->fw_mac, mac, 6);
	snprintf(f->fw_text, sizeof(f->fw_text), "%s", text);
	return f->fw_rc;
}

static const struct running_config *running(void *arg)
{
	return ((struct fx *)arg)->rc;
}

static void start(struct fx *f)
{
	char err[512];
	struct http_boot_deps deps = {f->loop, f->dir, f->store,
				      running, f,      {ctl_testing_clock, &f->now}, NULL,
				      on_firmware};

	assert_int_equal(http_boot_start(&f->h, &deps, err, sizeof(err)), 0);
}

/* The image registry's hashes, as the hasher thread would fill them. */
static void hash(struct fx *f)
{
	assert_int_equal(running_config_hash_images(f->rc->cfg.images, f->rc->cfg.n_images,
						    f->rc->img, NULL, NULL, NULL, NULL, 0),
			 0);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[SBCFG_ERR_MAX], json[1024], images[300];
	struct sbcfg cfg;

	f->now = CTL_TESTING_NOW;
	snprintf(f->dir, sizeof(f->dir), "/tmp/http_boot_test.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->img, sizeof(f->img), "%s/vmlinuz", f->dir);
	ctl_testing_write_file(f->img, "KERNEL-BYTES", 12);
	snprintf(images, sizeof(images),
		 ", \"images\": [{\"name\": \"linux/vmlinuz\", \"path\": \"%s\"}]", f->img);
	ctl_testing_config(json, sizeof(json),
			   ", \"reservations\": [{\"mac\": \"52:54:00:00:00:01\", \"ip\": "
			   "\"198.18.0.50\", \"hostname\": \"vm50\"}]",
			   images);
	assert_int_equal(sbcfg_load_string(json, &cfg, err, sizeof(err)), 0);
	assert_non_null(f->rc = running_config_new("/nonexistent.json", &cfg));
	hash(f);
	assert_non_null(f->store = lease_store_open(f->dir, &f->rc->cfg, f->now, err, sizeof(err)));
	assert_non_null(f->loop = ev_loop_new(1024, err, sizeof(err)));
	start(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[200];

	http_boot_stop(f->h);
	ev_loop_free(f->loop);
	lease_store_close(f->store);
	running_config_free(f->rc);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* Route "GET path?query" from peer_ip as the server would; the caller frees out->buf and
 * closes out->fd. */
static void get(struct fx *f, const char *path, const char *query, uint32_t peer_ip,
		struct http_body *out)
{
	struct http_req req = {.method = HTTP_GET, .minor = 1, .keep_alive = true};
	struct http_peer peer = {.ip = peer_ip,
				 .local_ip = CTL_TESTING_IP(198, 18, 0, 1),
				 .port = 40000,
				 .local_port = 8080};

	snprintf(req.path, sizeof(req.path), "%s", path);
	snprintf(req.query, sizeof(req.query), "%s", query);
	*out = (struct http_body){.status = 404, .fd = -1};
	http_boot_route(f->h, &req, &peer, out);
}

static void add_template(struct fx *f)
{
	char err[256];

	assert_int_equal(http_boot_template_set(f->h, "boot.ipxe", TEMPLATE, strlen(TEMPLATE), err,
						sizeof(err)),
			 0);
}

static void test_template_for_mac(void **state)
{
	struct fx *f = *state;
	struct http_body b;

	add_template(f);
	get(f, "/ipxe/boot.ipxe", "mac=52:54:00:00:00:01&arch=x86_64",
	    CTL_TESTING_IP(198, 18, 0, 77), &b);
	assert_int_equal(b.status, 200);
	assert_string_equal(b.buf, "#!ipxe\necho vm50 52:54:00:00:00:01 x86_64 198.18.0.77\n"
				   "chain http://198.18.0.1:8080/k\n");
	assert_string_equal(b.type, "text/plain; charset=utf-8");
	free(b.buf);
	get(f, "/ipxe/boot.ipxe", "mac=nonsense", CTL_TESTING_IP(198, 18, 0, 77), &b);
	assert_int_equal(b.status, 400);
	assert_null(b.buf);
	assert_int_equal(f->h->rendered, 1);
}

static void test_template_for_lease_holder_uses_clock(void **state)
{
	struct fx *f = *state;
	struct chan_lease ev = {.expires = CTL_TESTING_NOW + 100,
				.ip = CTL_TESTING_IP(198, 18, 0, 50),
				.mac = {0x52, 0x54, 0, 0, 0, 1},
				.event = CHAN_LEASE_BOUND};
	struct http_body b;

	add_template(f);
	assert_int_equal(lease_store_apply(f->store, &ev, f->now), 0);
	f->now = CTL_TESTING_NOW + 50;
	get(f, "/ipxe/boot.ipxe", "", CTL_TESTING_IP(198, 18, 0, 50), &b);
	assert_int_equal(b.status, 200);
	assert_non_null(strstr(b.buf, "echo vm50 52:54:00:00:00:01"));
	free(b.buf);
	/* the lease is over by the test clock: an unknown client */
	f->now = CTL_TESTING_NOW + 200;
	get(f, "/ipxe/boot.ipxe", "", CTL_TESTING_IP(198, 18, 0, 50), &b);
	assert_int_equal(b.status, 200);
	assert_non_null(strstr(b.buf, "echo   "));
	free(b.buf);
	assert_int_equal(f->h->anonymous, 1);
}

static void test_images(void **state)
{
	struct fx *f = *state;
	struct http_body b;
	char buf[64];

	get(f, "/linux//vmlinuz", "", CTL_TESTING_IP(198, 18, 0, 77), &b);
	assert_int_equal(b.status, 200);
	assert_true(b.fd >= 0);
	assert_int_equal(b.size, 12);
	assert_int_equal(pread(b.fd, buf, sizeof(buf), 0), 12);
	assert_memory_equal(buf, "KERNEL-BYTES", 12);
	close(b.fd);
	get(f, "/linux/../../etc/passwd", "", CTL_TESTING_IP(198, 18, 0, 77), &b);
	assert_int_equal(b.status, 404);
	assert_int_equal(b.fd, -1);
	assert_string_equal(b.note, "refused: '..' in path");
	get(f, "/initrd", "", CTL_TESTING_IP(198, 18, 0, 77), &b);
	assert_int_equal(b.status, 404);
	assert_string_equal(b.note, "not in catalog");
	/* /ipxe/NAME with no such template: an image of that name, else 404 */
	get(f, "/ipxe/none.ipxe", "", CTL_TESTING_IP(198, 18, 0, 77), &b);
	assert_int_equal(b.status, 404);
	/* an image sent whole is counted under its name (the server's done callback, tag) */
	get(f, "/linux/vmlinuz", "", CTL_TESTING_IP(198, 18, 0, 77), &b);
	assert_int_equal(b.status, 200);
	assert_int_equal(b.tag, 0);
	close(b.fd);
	json_t *served = http_boot_served_json(f->h);
	assert_non_null(json_object_get(served, "linux/vmlinuz"));
	json_decref(served);
	/* the file is gone from disk: 404 (iPXE says "No such file or directory"), named */
	unlink(f->img);
	get(f, "/linux/vmlinuz", "", CTL_TESTING_IP(198, 18, 0, 77), &b);
	assert_int_equal(b.status, 404);
	assert_int_equal(b.fd, -1);
	assert_string_equal(b.note, "image linux/vmlinuz: file missing on disk");
	/* a file that cannot be opened for another reason: 500 */
	assert_int_equal(mkdir(f->img, 0700), 0);
	get(f, "/linux/vmlinuz", "", CTL_TESTING_IP(198, 18, 0, 77), &b);
	assert_int_equal(b.status, 500);
	rmdir(f->img);
}

/* GET /fwlog: the client checked against the lease of its address, reports counted by
 * result, bad ones refused, a flood limited. */
static void test_fwlog(void **state)
{
	struct fx *f = *state;
	struct chan_lease ev = {.expires = CTL_TESTING_NOW + 100,
				.ip = CTL_TESTING_IP(198, 18, 0, 50),
				.mac = {0x52, 0x54, 0, 0, 0, 1},
				.event = CHAN_LEASE_BOUND};
	struct http_body b;

	assert_int_equal(lease_store_apply(f->store, &ev, f->now), 0);
	/* the lease holder reports: 200, a step for its MAC with iPXE's error explained */
	get(f, "/fwlog", "mac=52:54:00:00:00:01&step=kernel&err=0x2d0c613c",
	    CTL_TESTING_IP(198, 18, 0, 50), &b);
	assert_int_equal(b.status, 200);
	assert_string_equal(b.buf, "ok\n");
	free(b.buf);
	assert_int_equal(f->fw_calls, 1);
	assert_true(f->fw_leased);
	assert_memory_equal(f->fw_mac, ev.mac, 6);
	assert_string_equal(f->fw_text, "kernel: No such file or directory (0x2d0c613c) "
					"https://ipxe.org/err/2d0c613c");
	assert_int_equal(f->h->fwlog_accepted, 1);
	/* another MAC from that address: 403, the owner never hears of it */
	get(f, "/fwlog", "mac=52:54:00:00:00:02&step=kernel&err=0x2d0c613c",
	    CTL_TESTING_IP(198, 18, 0, 50), &b);
	assert_int_equal(b.status, 403);
	assert_int_equal(f->fw_calls, 1);
	assert_int_equal(f->h->fwlog_forbidden, 1);
	/* an address nobody leases: the owner decides (here: a MAC it does not know) */
	f->fw_rc = -ENOENT;
	get(f, "/fwlog", "mac=52:54:00:00:00:03&step=initrd", CTL_TESTING_IP(198, 18, 0, 77), &b);
	assert_int_equal(b.status, 403);
	assert_int_equal(f->fw_calls, 2);
	assert_false(f->fw_leased);
	assert_string_equal(f->fw_text, "initrd failed");
	assert_int_equal(f->h->fwlog_unknown_client, 1);
	f->fw_rc = 0;
	/* bad input: 400, counted, named */
	get(f, "/fwlog", "mac=52:54:00:00:00:01&step=kernel&err=${errno}",
	    CTL_TESTING_IP(198, 18, 0, 50), &b);
	assert_int_equal(b.status, 400);
	assert_non_null(strstr(b.note, "err: not an iPXE error number"));
	get(f, "/fwlog", "", CTL_TESTING_IP(198, 18, 0, 50), &b);
	assert_int_equal(b.status, 400);
	assert_int_equal(f->h->fwlog_bad, 2);
	assert_int_equal(f->fw_calls, 2);
	/* a flood: the bucket (FWLOG_BURST, then FWLOG_RATE/s) answers 429 */
	int limited = 0;
	for (int i = 0; i < FWLOG_BURST + 100; i++) {
		get(f, "/fwlog", "mac=52:54:00:00:00:01&step=boot", CTL_TESTING_IP(198, 18, 0, 50),
		    &b);
		free(b.buf);
		limited += b.status == 429;
	}
	assert_true(limited > 0);
	assert_int_equal(f->h->fwlog_rate_limited, (uint64_t)limited);
	json_t *j = http_boot_fwlog_json(f->h);
	assert_int_equal(json_integer_value(json_object_get(j, "rate_limited")), limited);
	assert_int_equal(json_integer_value(json_object_get(j, "forbidden")), 1);
	json_decref(j);
}

#define KERNEL_SHA "157d0c5b1b717fea02f9fac34fe3420e3a37baf86ce18f16835a6216262bde10"

/* Replace the running config by the test's with extra (inside "dhcp") and top (top level). */
static void use_config(struct fx *f, const char *dhcp_more, const char *image_more)
{
	char err[SBCFG_ERR_MAX], json[2048], images[400];
	struct sbcfg cfg;

	snprintf(images, sizeof(images),
		 ", \"images\": [{\"name\": \"linux/vmlinuz\", \"path\": \"%s\"%s}]", f->img,
		 image_more);
	ctl_testing_config(json, sizeof(json), dhcp_more, images);
	if (sbcfg_load_string(json, &cfg, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	running_config_free(f->rc);
	assert_non_null(f->rc = running_config_new("/nonexistent.json", &cfg));
}

static void test_images_allowed(void **state)
{
	struct fx *f = *state;
	struct chan_lease ev = {.expires = CTL_TESTING_NOW + 100,
				.ip = CTL_TESTING_IP(198, 18, 0, 50),
				.mac = {0x52, 0x54, 0, 0, 0, 1},
				.event = CHAN_LEASE_BOUND};
	struct http_body b;

	/* the subnet allows only ipxe.efi, the reserved MAC linux/ */
	http_boot_stop(f->h);
	f->h = NULL;
	lease_store_close(f->store);
	use_config(f,
		   ", \"reservations\": [{\"mac\": \"52:54:00:00:00:01\", \"ip\": \"198.18.0.50\", "
		   "\"images_allowed\": [\"linux/*\"]}]",
		   "");
	hash(f);
	f->rc->cfg.dhcp.subnets[0].images_allowed = (struct sbcfg_images_allowed){0, 0, true};
	sbcfg_access_refresh(&f->rc->cfg); /* an empty list for the subnet: nothing */
	char err[512];
	assert_non_null(f->store = lease_store_open(f->dir, &f->rc->cfg, f->now, err, sizeof(err)));
	start(f);
	/* a client of the subnet: 403, counted */
	get(f, "/linux/vmlinuz", "", CTL_TESTING_IP(198, 18, 0, 77), &b);
	assert_int_equal(b.status, 403);
	assert_int_equal(b.fd, -1);
	assert_non_null(strstr(b.note, "not allowed (dhcp.subnets[0])"));
	assert_int_equal(f->h->forbidden, 1);
	/* claiming the reserved MAC in the query changes nothing */
	get(f, "/linux/vmlinuz", "mac=52:54:00:00:00:01", CTL_TESTING_IP(198, 18, 0, 77), &b);
	assert_int_equal(b.status, 403);
	assert_int_equal(f->h->forbidden, 2);
	/* the holder of the reserved MAC's lease: its reservation's list allows linux/ */
	assert_int_equal(lease_store_apply(f->store, &ev, f->now), 0);
	get(f, "/linux/vmlinuz", "", CTL_TESTING_IP(198, 18, 0, 50), &b);
	assert_int_equal(b.status, 200);
	close(b.fd);
	/* names not in the catalog stay 404, whoever asks */
	get(f, "/initrd", "", CTL_TESTING_IP(198, 18, 0, 77), &b);
	assert_int_equal(b.status, 404);
	assert_int_equal(f->h->forbidden, 2);
}

static void test_pinned_image(void **state)
{
	struct fx *f = *state;
	struct http_body b;

	use_config(f, "", ", \"sha256\": \"" KERNEL_SHA "\"");
	/* not hashed yet (the registry is read at start, beside the loop): not sent */
	get(f, "/linux/vmlinuz", "", CTL_TESTING_IP(198, 18, 0, 77), &b);
	assert_int_equal(b.status, 503);
	assert_int_equal(f->h->unverified, 1);
	/* checked: sent */
	assert_int_equal(running_config_hash_images(f->rc->cfg.images, 1, f->rc->img, NULL, NULL,
						    NULL, NULL, 0),
			 0);
	assert_string_equal(f->rc->img[0].sha256, KERNEL_SHA);
	get(f, "/linux/vmlinuz", "", CTL_TESTING_IP(198, 18, 0, 77), &b);
	assert_int_equal(b.status, 200);
	close(b.fd);
	/* the file replaced after the check (another inode): not sent */
	char tmp[160];
	snprintf(tmp, sizeof(tmp), "%s.new", f->img);
	ctl_testing_write_file(tmp, "KERNEL-BYTEZ", 12);
	assert_int_equal(rename(tmp, f->img), 0);
	get(f, "/linux/vmlinuz", "", CTL_TESTING_IP(198, 18, 0, 77), &b);
	assert_int_equal(b.status, 503);
	assert_int_equal(b.fd, -1);
	assert_non_null(strstr(b.note, "bytes not verified: changed since it was hashed"));
	assert_int_equal(f->h->unverified, 2);
}

/* Any image, pinned or not: the bytes sent are the ones hashed, a file changed in place
 * (same inode) is refused until it is hashed again. */
static void test_changed_in_place(void **state)
{
	struct fx *f = *state;
	struct http_body b;

	get(f, "/linux/vmlinuz", "", CTL_TESTING_IP(198, 18, 0, 77), &b);
	assert_int_equal(b.status, 200);
	close(b.fd);
	struct stat before, after;
	assert_int_equal(stat(f->img, &before), 0);
	usleep(10000); /* a later ctime on file systems with coarse timestamps */
	FILE *w = fopen(f->img, "r+");
	assert_non_null(w);
	fputs("KERNEL-BYTEZ", w); /* same size, same inode */
	fclose(w);
	assert_int_equal(stat(f->img, &after), 0);
	assert_int_equal(before.st_ino, after.st_ino);
	get(f, "/linux/vmlinuz", "", CTL_TESTING_IP(198, 18, 0, 77), &b);
	assert_int_equal(b.status, 503);
	assert_int_equal(b.fd, -1);
	assert_int_equal(f->h->unverified, 1);
	hash(f); /* re-registered */
	get(f, "/linux/vmlinuz", "", CTL_TESTING_IP(198, 18, 0, 77), &b);
	assert_int_equal(b.status, 200);
	close(b.fd);
}

static void test_template_store(void **state)
{
	struct fx *f = *state;
	char err[256], path[160];
	struct stat sb;

	add_template(f);
	snprintf(path, sizeof(path), "%s/templates/boot.ipxe", f->dir);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_size, (off_t)strlen(TEMPLATE));
	assert_int_equal(http_boot_template_set(f->h, "x.tmp", "#!ipxe\n", 7, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(http_boot_template_set(f->h, "ctl", "a\001b", 3, err, sizeof(err)),
			 -EINVAL);
	/* loaded again at start */
	http_boot_stop(f->h);
	start(f);
	assert_int_equal(f->h->n_templates, 1);
	assert_non_null(http_boot_template_find(f->h, "boot.ipxe"));
	assert_int_equal(http_boot_template_del(f->h, "boot.ipxe", err, sizeof(err)), 0);
	assert_int_equal(stat(path, &sb), -1);
	assert_int_equal(http_boot_template_del(f->h, "boot.ipxe", err, sizeof(err)), -ENOENT);
	assert_null(http_boot_template_find(f->h, "boot.ipxe"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_template_for_mac, setup, teardown),
		cmocka_unit_test_setup_teardown(test_template_for_lease_holder_uses_clock, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_images, setup, teardown),
		cmocka_unit_test_setup_teardown(test_images_allowed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pinned_image, setup, teardown),
		cmocka_unit_test_setup_teardown(test_changed_in_place, setup, teardown),
		cmocka_unit_test_setup_teardown(test_template_store, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fwlog, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
