/* SPDX-License-Identifier: BSD-3-Clause */
/* config_share_test.c - the shared config sections: split, shape check, merge, diff. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config_share.h"
#include "ctl_testing.h"
#include "sbcfg_json.h"

#define IP CTL_TESTING_IP

/* Server a's config: the tests' config with a reservation, a BIOS boot file, an MTU of its
 * own, an HTTP server and a metrics endpoint. server_ip / interface differ per server. */
static void load(struct sbcfg *c, const char *server_ip, const char *bios, const char *pool_end,
		 const char *mtu)
{
	char buf[4096], err[SBCFG_ERR_MAX];

	snprintf(buf, sizeof(buf),
		 "{\"interface\": \"sb0\", \"server_ip\": \"%s\","
		 " \"dhcp\": {\"boot\": {\"bios\": \"%s\"},"
		 "  \"subnets\": [{\"network\": \"198.18.0.0/24\","
		 "   \"pool\": {\"start\": \"198.18.0.10\", \"end\": \"%s\"}}],"
		 "  \"reservations\": [{\"mac\": \"52:54:00:00:00:01\", \"ip\": \"198.18.0.5\"}]},"
		 " \"tftp\": {\"mtu\": %s, \"blksize_max\": 1400},"
		 " \"http\": {\"listen\": \"%s:8080\"}, \"metrics\": {\"listen\": \"%s:9100\"}}",
		 server_ip, bios, pool_end, mtu, server_ip, server_ip);
	if (sbcfg_load_string(buf, c, err, sizeof(err)) < 0)
		fail_msg("%s", err);
}

static void test_split_holds_only_shared(void **state)
{
	(void)state;
	struct sbcfg a, b;

	load(&a, "198.18.0.1", "undionly.kpxe", "198.18.0.250", "1500");
	load(&b, "198.18.0.2", "undionly.kpxe", "198.18.0.250", "9000");
	char *da = config_share_split(&a), *db = config_share_split(&b);
	assert_non_null(da);
	assert_non_null(db);
	/* local fields left out, shared ones in */
	assert_null(strstr(da, "server_ip"));
	assert_null(strstr(da, "interface"));
	assert_null(strstr(da, "reservations"));
	assert_null(strstr(da, "\"mtu\""));
	assert_null(strstr(da, "metrics"));
	assert_null(strstr(da, "8080"));
	assert_non_null(strstr(da, "\"bios\":\"undionly.kpxe\""));
	assert_non_null(strstr(da, "\"blksize_max\":1400"));
	assert_non_null(strstr(da, "\"udp_checksum\""));
	/* two servers with the same shared sections (other address, MTU): the same document */
	assert_string_equal(da, db);
	assert_int_equal(config_share_check(da, strlen(da), (char[256]){0}, 256), 0);
	free(da);
	free(db);
	sbcfg_free(&a);
	sbcfg_free(&b);
}

static void test_check_refuses_local_keys(void **state)
{
	(void)state;
	static const struct {
		const char *doc;
		const char *msg; /* a part of the error */
	} cases[] = {
		{"{\"server_ip\": \"198.18.0.9\"}", "server_ip: local to each server"},
		{"{\"cluster\": {}}", "cluster: local to each server"},
		{"{\"guard\": {}}", "guard: local"},
		{"{\"images\": []}", "images: local"},
		{"{\"dhcp\": {\"reservations\": []}}", "dhcp.reservations: local"},
		{"{\"tftp\": {\"mtu\": 9000}}", "tftp.mtu: local"},
		{"{\"dhcp\": 3}", "dhcp: must be an object"},
		{"[]", "must be a JSON object"},
		{"{\"dhcp\": {}, \"dhcp\": {}}", "not JSON"},
		{"{\"dhcp\": {", "not JSON"},
		{"", "not JSON"},
	};
	char err[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		assert_int_equal(
			config_share_check(cases[i].doc, strlen(cases[i].doc), err, sizeof(err)),
			-EINVAL);
		if (!strstr(err, cases[i].msg))
			fail_msg("%s: \"%s\" lacks \"%s\"", cases[i].doc, err, cases[i].msg);
	}
	assert_int_equal(config_share_check("{}", 2, err, sizeof(err)), 0);
	assert_int_equal(
		config_share_check("{\"syslog\": {\"enabled\": true}}", 29, err, sizeof(err)), 0);
}

/* The document of server a merged over server b's config: b's local fields stay, a's shared
 * sections apply; merging b's own document gives b back. */
static void test_merge(void **state)
{
	(void)state;
	struct sbcfg a, b, m;
	char err[SBCFG_ERR_MAX];

	load(&a, "198.18.0.1", "pxelinux.0", "198.18.0.99", "1500");
	load(&b, "198.18.0.2", "undionly.kpxe", "198.18.0.250", "9000");
	char *da = config_share_split(&a), *db = config_share_split(&b);
	assert_int_equal(config_share_merge(&b, da, strlen(da), &m, err, sizeof(err)), 0);
	assert_int_equal(m.server_ip, IP(198, 18, 0, 2));			 /* b's */
	assert_int_equal(m.tftp.mtu, 9000);					 /* b's */
	assert_int_equal(m.metrics.listen_ip, IP(198, 18, 0, 2));		 /* b's */
	assert_int_equal(m.dhcp.n_reservations, 1);				 /* b's */
	assert_string_equal(m.dhcp.boot.by_arch[SBCFG_ARCH_BIOS], "pxelinux.0"); /* a's */
	assert_int_equal(m.dhcp.subnets[0].pool_end, IP(198, 18, 0, 99));	 /* a's */
	char *dm = config_share_split(&m);
	assert_string_equal(dm, da);
	char diff[128];
	assert_true(config_share_diff(db, da, diff, sizeof(diff)));
	assert_string_equal(diff, "dhcp");
	assert_false(config_share_diff(dm, da, diff, sizeof(diff)));
	assert_string_equal(diff, "");
	free(dm);
	sbcfg_free(&m);
	/* b's own document over b: b */
	assert_int_equal(config_share_merge(&b, db, strlen(db), &m, err, sizeof(err)), 0);
	assert_true(sbcfg_equal(&m, &b));
	sbcfg_free(&m);
	/* a section left out: its defaults (a patch it is not); the local mtu stays */
	const char *only_dhcp = "{\"dhcp\": {\"subnets\": [{\"network\": \"198.18.0.0/24\"}]}}";
	assert_int_equal(config_share_merge(&b, only_dhcp, strlen(only_dhcp), &m, err, sizeof(err)),
			 0);
	assert_int_equal(m.tftp.blksize_max, 1468);
	assert_int_equal(m.tftp.mtu, 9000);
	assert_string_equal(m.dhcp.boot.by_arch[SBCFG_ARCH_BIOS], "");
	sbcfg_free(&m);
	/* checked with the local parts: no subnet left for b's own reservation */
	const char *other = "{\"dhcp\": {\"subnets\": [{\"network\": \"198.18.5.0/24\"}]}}";
	assert_true(config_share_merge(&b, other, strlen(other), &m, err, sizeof(err)) < 0);
	if (!strstr(err, "dhcp.reservations[0]"))
		fail_msg("%s", err);
	assert_true(config_share_merge(&b, "{}", 2, &m, err, sizeof(err)) < 0);
	if (!strstr(err, "dhcp.subnets: full mode needs at least one subnet"))
		fail_msg("%s", err);
	free(da);
	free(db);
	sbcfg_free(&a);
	sbcfg_free(&b);
}

/* A document the parser refuses: the message names the field; nothing is returned. */
static void test_merge_refused(void **state)
{
	(void)state;
	static const struct {
		const char *doc;
		const char *msg;
	} cases[] = {
		/* the pool outside its subnet */
		{"{\"dhcp\": {\"subnets\": [{\"network\": \"198.18.0.0/24\", \"pool\": {\"start\": "
		 "\"198.18.1.10\", \"end\": \"198.18.1.20\"}}]}}",
		 "dhcp.subnets[0].pool"},
		{"{\"tftp\": {\"blksize_max\": 3}}", "tftp.blksize_max"},
		{"{\"dhcp\": {\"mode\": \"sometimes\"}}", "dhcp.mode"},
		{"{\"dhcp\": {\"lease_thyme\": 5}}", "dhcp.lease_thyme"},
		{"{\"server_ip\": \"198.18.0.7\"}", "server_ip: local"},
	};
	struct sbcfg b, m;
	char err[SBCFG_ERR_MAX];

	load(&b, "198.18.0.2", "undionly.kpxe", "198.18.0.250", "9000");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		assert_true(config_share_merge(&b, cases[i].doc, strlen(cases[i].doc), &m, err,
					       sizeof(err)) < 0);
		if (!strstr(err, cases[i].msg))
			fail_msg("%s: \"%s\" lacks \"%s\"", cases[i].doc, err, cases[i].msg);
		assert_int_equal(m.dhcp.n_subnets, 0);
	}
	/* every truncated prefix of a good document: a clean refusal, no crash */
	char *db = config_share_split(&b);
	for (size_t n = 0; n < strlen(db); n++) {
		assert_true(config_share_merge(&b, db, n, &m, err, sizeof(err)) < 0);
		assert_true(config_share_check(db, n, err, sizeof(err)) < 0);
	}
	free(db);
	sbcfg_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_holds_only_shared),
		cmocka_unit_test(test_check_refuses_local_keys),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_merge_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
