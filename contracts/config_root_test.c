/* SPDX-License-Identifier: BSD-3-Clause */
/* sbcfg_root: the files of tftp_root as images (a temporary directory, no root needed). */
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

#include "sbcfg_json.h"
#include "sbcfg_root.h"

static char dir[64], outside[64];

static void put(const char *rel, const char *text)
{
	char p[256];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	char p[256], q[256];

	snprintf(dir, sizeof(dir), "/tmp/sbroot.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(outside, sizeof(outside), "/tmp/sbroot-out.XXXXXX");
	assert_non_null(mkdtemp(outside));
	snprintf(p, sizeof(p), "%s/pxelinux.cfg", dir);
	assert_int_equal(mkdir(p, 0755), 0);
	put("undionly.kpxe", "x");
	put("pxelinux.cfg/default", "DEFAULT linux");
	put(".hidden.swp", "editor");
	put("listed.img", "from the root");
	snprintf(p, sizeof(p), "%s/secret", outside);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fclose(f);
	snprintf(q, sizeof(q), "%s/escape", dir);
	assert_int_equal(symlink(p, q), 0); /* leads outside: left out */
	snprintf(q, sizeof(q), "%s/alias.kpxe", dir);
	assert_int_equal(symlink("undionly.kpxe", q), 0); /* inside: taken */
	return 0;
}

static int teardown(void **state)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", dir, outside);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_expand(void **state)
{
	char json[512], err[SBCFG_ERR_MAX];
	struct sbcfg_root_scan scan;
	struct sbcfg cfg;

	snprintf(json, sizeof(json),
		 "{\"interface\": \"x0\", \"server_ip\": \"198.18.0.1\", \"dhcp\": {\"mode\": "
		 "\"off\"}, \"tftp_root\": \"%s\", "
		 "\"images\": [{\"name\": \"listed.img\", \"path\": \"/etc/hostname\"}]}",
		 dir);
	assert_int_equal(sbcfg_load_buffer(json, strlen(json), "t", &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.n_images, 1);
	assert_int_equal(sbcfg_root_expand(&cfg, &scan, err, sizeof(err)), 0);
	assert_int_equal(sbcfg_validate(&cfg, err, sizeof(err)), 0);
	/* the listed one first, then the found ones sorted by name; listed.img not twice */
	assert_int_equal(cfg.n_images, 4);
	assert_string_equal(cfg.images[0].name, "listed.img");
	assert_false(cfg.images[0].from_root);
	assert_string_equal(cfg.images[1].name, "alias.kpxe");
	assert_string_equal(cfg.images[2].name, "pxelinux.cfg/default");
	assert_string_equal(cfg.images[3].name, "undionly.kpxe");
	assert_true(cfg.images[3].from_root);
	assert_int_equal(scan.added, 3);
	assert_int_equal(scan.skipped, 1); /* the link that leads outside */
	assert_non_null(strstr(scan.warn, "escape"));

	/* the file's JSON keeps them out; the snapshot's carries them back */
	char *file = sbcfg_to_json_file(&cfg), *snap = sbcfg_to_json(&cfg);
	assert_null(strstr(file, "from_tftp_root"));
	assert_non_null(strstr(snap, "\"from_tftp_root\": true"));
	struct sbcfg back;
	assert_int_equal(sbcfg_load_buffer(snap, strlen(snap), "s", &back, err, sizeof(err)), 0);
	assert_int_equal(back.n_images, 4);
	assert_true(back.images[2].from_root);
	assert_true(sbcfg_equal(&back, &cfg));
	free(file);
	free(snap);
	sbcfg_free(&back);

	/* a second scan after a removal replaces the found ones */
	char p[256];
	snprintf(p, sizeof(p), "%s/pxelinux.cfg/default", dir);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(sbcfg_root_expand(&cfg, &scan, err, sizeof(err)), 0);
	assert_int_equal(cfg.n_images, 3);
	assert_string_equal(cfg.images[2].name, "undionly.kpxe");
	sbcfg_free(&cfg);
}

static void test_errors(void **state)
{
	const char *rel = "{\"interface\": \"x0\", \"server_ip\": \"198.18.0.1\", \"dhcp\": "
			  "{\"mode\": \"off\"}, "
			  "\"tftp_root\": \"srv/tftp\"}";
	const char *gone = "{\"interface\": \"x0\", \"server_ip\": \"198.18.0.1\", \"dhcp\": "
			   "{\"mode\": \"off\"}, "
			   "\"tftp_root\": \"/nonexistent/tftp\"}";
	char err[SBCFG_ERR_MAX];
	struct sbcfg cfg;

	assert_true(sbcfg_load_buffer(rel, strlen(rel), "t", &cfg, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "tftp_root: \"srv/tftp\" is not an absolute path"));
	assert_int_equal(sbcfg_load_buffer(gone, strlen(gone), "t", &cfg, err, sizeof(err)), 0);
	assert_int_equal(sbcfg_root_expand(&cfg, NULL, err, sizeof(err)), -2 /* ENOENT */);
	assert_non_null(strstr(err, "tftp_root: /nonexistent/tftp: No such file or directory"));
	assert_int_equal(cfg.n_images, 0);
	sbcfg_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expand),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
