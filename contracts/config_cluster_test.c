/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * config_cluster_test.c - "cluster" (sbcfg_cluster.c): values and defaults, round trip
 * through the emitter, comparison, and refusals that name the field.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sbcfg_json.h"

#define BASE "{\"interface\":\"sb0\",\"server_ip\":\"198.18.0.1\""

#define DHCP                                                                                       \
	",\"dhcp\":{\"durability\":\"%s\",\"subnets\":[{\"network\":\"198.18.0.0/24\","            \
	"\"pool\":{\"start\":\"198.18.0.100\",\"end\":\"198.18.0.200\"}}]}"

/* BASE, a dhcp section (durability "available" when frag starts with '!'), frag. */
static int load_frag(const char *frag, struct sbcfg *c, char *err)
{
	char json[8192], dhcp[512];
	bool avail = frag[0] == '!';

	frag += avail;
	snprintf(dhcp, sizeof(dhcp), DHCP, avail ? "available" : "strict");
	snprintf(json, sizeof(json), "%s%s%s%s}", BASE, dhcp, *frag ? "," : "", frag);
	return sbcfg_load_string(json, c, err, SBCFG_ERR_MAX);
}

static void test_absent(void **state)
{
	char err[SBCFG_ERR_MAX];
	struct sbcfg c;

	assert_int_equal(load_frag("", &c, err), 0);
	assert_false(c.cluster.enabled);
	char *json = sbcfg_to_json(&c);
	assert_non_null(json);
	assert_null(strstr(json, "cluster"));
	free(json);
	sbcfg_free(&c);
}

static void test_values(void **state)
{
	char err[SBCFG_ERR_MAX];
	struct sbcfg c, d;

	assert_int_equal(
		load_frag("\"cluster\":{\"server_id\":\"boot-a\",\"etcd\":{\"endpoints\":["
			  "\"http://198.18.7.1:2379/\",\"https://198.18.7.2:2379\"],"
			  "\"ca_file\":\"/etc/ca.pem\",\"cert_file\":\"/c\",\"key_file\":\"/k\","
			  "\"user\":\"sb\",\"password_file\":\"/p\"},\"lease_ttl_s\":5,"
			  "\"commit_batch_max\":64}",
			  &c, err),
		0);
	assert_true(c.cluster.enabled);
	assert_string_equal(c.cluster.server_id, "boot-a");
	assert_int_equal(c.cluster.n_endpoints, 2);
	assert_string_equal(c.cluster.endpoints[0], "http://198.18.7.1:2379");
	assert_string_equal(c.cluster.prefix, "/stormboot/");
	assert_int_equal(c.cluster.timeout_ms, 1000);
	assert_int_equal(c.cluster.lease_ttl_s, 5);
	assert_int_equal(c.cluster.batch_max, 64);
	assert_int_equal(c.cluster.apply_wait_ms, 1000); /* the default */
	assert_string_equal(c.cluster.password_file, "/p");

	char *json = sbcfg_to_json(&c), err2[SBCFG_ERR_MAX];
	assert_non_null(json);
	assert_int_equal(sbcfg_load_string(json, &d, err2, sizeof(err2)), 0);
	assert_true(sbcfg_equal(&c, &d));
	d.cluster.lease_ttl_s = 4;
	assert_false(sbcfg_equal(&c, &d));
	free(json);
	sbcfg_free(&c);
	sbcfg_free(&d);
}

static void test_bad(void **state)
{
	static const struct {
		const char *frag, *want;
	} t[] = {
		{"\"cluster\":[]", "cluster: must be an object"},
		{"\"cluster\":{\"etcd\":{\"endpoints\":[\"http://a:1\"]}}",
		 "cluster.server_id: required"},
		{"\"cluster\":{\"server_id\":\"a b\",\"etcd\":{\"endpoints\":[\"http://a:1\"]}}",
		 "cluster.server_id: \"a b\" may hold only"},
		{"\"cluster\":{\"server_id\":\"a\"}", "cluster.etcd: required"},
		{"\"cluster\":{\"server_id\":\"a\",\"etcd\":{}}",
		 "cluster.etcd.endpoints: required"},
		{"\"cluster\":{\"server_id\":\"a\",\"etcd\":{\"endpoints\":[]}}",
		 "cluster.etcd.endpoints: must be an array of 1..8"},
		{"\"cluster\":{\"server_id\":\"a\",\"etcd\":{\"endpoints\":[\"198.18.7.1:2379\"]}}",
		 "cluster.etcd.endpoints[0]: \"198.18.7.1:2379\" is not an http://"},
		{"\"cluster\":{\"server_id\":\"a\",\"etcd\":{\"endpoints\":[\"http://a:1\"],"
		 "\"prefix\":\"sb\"}}",
		 "cluster.etcd.prefix: \"sb\" must start and end with '/'"},
		{"\"cluster\":{\"server_id\":\"a\",\"etcd\":{\"endpoints\":[\"http://a:1\"],"
		 "\"cert_file\":\"/c\"}}",
		 "cluster.etcd.cert_file and key_file: give both"},
		{"\"cluster\":{\"server_id\":\"a\",\"etcd\":{\"endpoints\":[\"http://a:1\"],"
		 "\"password_file\":\"/p\"}}",
		 "cluster.etcd.password_file: needs cluster.etcd.user"},
		{"\"cluster\":{\"server_id\":\"a\",\"etcd\":{\"endpoints\":[\"http://a:1\"],"
		 "\"tls\":1}}",
		 "cluster.etcd.tls: unknown field"},
		{"\"cluster\":{\"server_id\":\"a\",\"etcd\":{\"endpoints\":[\"http://a:1\"]},"
		 "\"lease_ttl_s\":1}",
		 "cluster.lease_ttl_s: must be an integer in 2..60"},
		{"\"cluster\":{\"server_id\":\"a\",\"etcd\":{\"endpoints\":[\"http://a:1\"]},"
		 "\"apply_wait_ms\":60001}",
		 "cluster.apply_wait_ms: must be an integer in 0..60000"},
		{"!\"cluster\":{\"server_id\":\"a\",\"etcd\":{\"endpoints\":[\"http://a:1\"]}}",
		 "cluster: needs dhcp.durability \"strict\""},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char err[SBCFG_ERR_MAX];
		struct sbcfg c;

		assert_int_equal(load_frag(t[i].frag, &c, err), -EINVAL);
		if (!strstr(err, t[i].want))
			fail_msg("%s: got \"%s\", want \"%s\"", t[i].frag, err, t[i].want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_absent),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
