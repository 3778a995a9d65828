/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * config_guard_test.c - "ipv6_ra" (true, false, "auto") and the "guard" section: values,
 * every rule with the field it names, serialising and comparing, truncated input.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sbcfg_json.h"

#define BASE "{\"interface\":\"sb0\",\"server_ip\":\"198.18.0.1\",\"dhcp\":{\"mode\":\"off\"}"

#define FULL_GUARD                                                                                 \
	BASE ",\"ipv6_ra\":false,\"guard\":{"                                                      \
	     "\"vlans\":[\"untagged\",100,\"100.200\",4094],"                                      \
	     "\"dhcp_destination\":\"server\","                                                    \
	     "\"mac_deny\":[\"02:00:5E:10:00:66\",\"02:00:5e:10:00:67\"],"                         \
	     "\"mac_allow\":[\"52:54:00:00:00:01\",\"52:54:00:00:00:02\",\"02:00:5e:10:00:64\"],"  \
	     "\"dhcp_rate\":{\"per_second\":20,\"burst\":40},"                                     \
	     "\"tftp_rate\":{\"burst\":10000,\"per_second\":5000}}}"

static int load(const char *json, struct sbcfg *c, char *err)
{
	return sbcfg_load_string(json, c, err, SBCFG_ERR_MAX);
}

/* BASE + "," + fragment + "}" */
static int load_frag(const char *frag, struct sbcfg *c, char *err)
{
	char json[8192];

	snprintf(json, sizeof(json), "%s%s%s}", BASE, *frag ? "," : "", frag);
	return load(json, c, err);
}

static void test_ipv6_ra_values(void **state)
{
	static const struct {
		const char *frag;
		enum sbcfg_ra_mode mode;
		const char *emitted;
	} v[] = {
		{"", SBCFG_RA_AUTO, "\"ipv6_ra\": \"auto\""},
		{"\"ipv6_ra\":\"auto\"", SBCFG_RA_AUTO, "\"ipv6_ra\": \"auto\""},
		{"\"ipv6_ra\":true", SBCFG_RA_ON, "\"ipv6_ra\": true"},
		{"\"ipv6_ra\":false", SBCFG_RA_OFF, "\"ipv6_ra\": false"},
	};
	char err[SBCFG_ERR_MAX];
	struct sbcfg c, d;

	assert_int_equal(SBCFG_RA_OFF, 0); /* `if (cfg.ipv6_ra)` means "answer when steered" */
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		if (load_frag(v[i].frag, &c, err) != 0)
			fail_msg("%s: %s", v[i].frag, err);
		assert_int_equal(c.ipv6_ra, v[i].mode);
		char *json = sbcfg_to_json(&c);
		assert_non_null(json);
		if (!strstr(json, v[i].emitted))
			fail_msg("%s: emitted JSON lacks %s:\n%s", v[i].frag, v[i].emitted, json);
		assert_null(strstr(json, "\"guard\"")); /* all defaults: no guard object */
		assert_int_equal(load(json, &d, err), 0);
		assert_true(sbcfg_equal(&c, &d));
		free(json);
		sbcfg_free(&d);
		sbcfg_free(&c);
	}
}

static void test_guard_values(void **state)
{
	static const uint8_t deny0[6] = {0x02, 0x00, 0x5e, 0x10, 0x00, 0x66};
	static const uint8_t allow2[6] = {0x02, 0x00, 0x5e, 0x10, 0x00, 0x64};
	char err[SBCFG_ERR_MAX];
	struct sbcfg c, d;

	if (load(FULL_GUARD, &c, err) != 0)
		fail_msg("%s", err);
	assert_int_equal(c.ipv6_ra, SBCFG_RA_OFF);
	assert_int_equal(c.guard.n_vlans, 4);
	assert_int_equal(c.guard.vlans[0], SBCFG_VLAN_UNTAGGED);
	assert_int_equal(c.guard.vlans[1], SBCFG_VLAN(100, 0));
	assert_int_equal(c.guard.vlans[2], SBCFG_VLAN(100, 200));
	assert_int_equal(c.guard.vlans[3], SBCFG_VLAN(4094, 0));
	assert_int_equal(c.guard.dhcp_dst, SBCFG_DHCP_DST_SERVER);
	assert_int_equal(c.guard.n_mac_deny, 2);
	assert_memory_equal(c.guard.mac_deny[0], deny0, 6);
	assert_int_equal(c.guard.n_mac_allow, 3);
	assert_memory_equal(c.guard.mac_allow[2], allow2, 6);
	assert_int_equal(c.guard.dhcp_rate.per_second, 20);
	assert_int_equal(c.guard.dhcp_rate.burst, 40);
	assert_int_equal(c.guard.tftp_rate.per_second, 5000);
	assert_int_equal(c.guard.tftp_rate.burst, 10000);

	/* Round trip: the same config, and a fixed point after one round. */
	char *json = sbcfg_to_json(&c);
	assert_non_null(json);
	assert_non_null(strstr(json, "\"02:00:5e:10:00:66\"")); /* lower case */
	if (load(json, &d, err) != 0)
		fail_msg("%s\n%s", err, json);
	assert_true(sbcfg_equal(&c, &d));
	assert_true(sbcfg_guard_equal(&c.guard, &d.guard));
	char *again = sbcfg_to_json(&d);
	assert_string_equal(json, again);
	free(json);
	free(again);
	sbcfg_free(&d);
	sbcfg_free(&c);
}

/* sbcfg_equal and sbcfg_guard_equal see a change in any part of the guard. */
static void test_guard_equal(void **state)
{
	char err[SBCFG_ERR_MAX];
	struct sbcfg a, b;

	assert_int_equal(load(FULL_GUARD, &a, err), 0);
	for (int change = 0; change < 10; change++) {
		assert_int_equal(load(FULL_GUARD, &b, err), 0);
		assert_true(sbcfg_equal(&a, &b));
		switch (change) {
		case 0:
			b.guard.vlans[3]--;
			break;
		case 1:
			b.guard.n_vlans--;
			break;
		case 2:
			b.guard.dhcp_dst = SBCFG_DHCP_DST_ANY;
			break;
		case 3:
			b.guard.mac_deny[1][5]++;
			break;
		case 4:
			b.guard.mac_allow[0][0] = 0x06;
			break;
		case 5:
			b.guard.n_mac_allow--;
			break;
		case 6:
			b.guard.dhcp_rate.burst++;
			break;
		case 7:
			b.guard.tftp_rate.per_second++;
			break;
		case 8:
			b.ipv6_ra = SBCFG_RA_AUTO;
			break;
		case 9:
			b.guard.n_mac_deny = 0;
			break;
		}
		assert_false(sbcfg_equal(&a, &b));
		if (change != 8)
			assert_false(sbcfg_guard_equal(&a.guard, &b.guard));
		sbcfg_free(&b); /* frees the arrays whatever the counts say */
	}
	sbcfg_free(&a);
}

static const struct {
	const char *frag;
	const char *want; /* the message must contain "<file>: " and then this */
} bad[] = {
	{"\"ipv6_ra\":\"yes\"", "ipv6_ra: \"yes\" is not true, false or \"auto\""},
	{"\"ipv6_ra\":1", "ipv6_ra: must be true, false or \"auto\", not an integer"},
	{"\"ipv6_ra\":null", "ipv6_ra: must be true, false or \"auto\", not null"},
	{"\"guard\":[]", "guard: must be an object, not an array"},
	{"\"guard\":{\"mac_dney\":[]}",
	 "guard.mac_dney: unknown field; did you mean \"mac_deny\"?"},
	{"\"gaurd\":{}", "gaurd: unknown field; did you mean \"guard\"?"},
	{"\"guard\":{\"vlans\":[]}", "guard.vlans: is empty (leave it out to steer every VLAN)"},
	{"\"guard\":{\"vlans\":100}", "guard.vlans: must be an array, not an integer"},
	{"\"guard\":{\"vlans\":[0]}", "guard.vlans[0]: 0 is out of range 1..4094"},
	{"\"guard\":{\"vlans\":[1,4095]}", "guard.vlans[1]: 4095 is out of range 1..4094"},
	{"\"guard\":{\"vlans\":[\"100.0\"]}", "guard.vlans[0]: \"100.0\" is not a VLAN"},
	{"\"guard\":{\"vlans\":[\"0100\"]}", "guard.vlans[0]: \"0100\" is not a VLAN"},
	{"\"guard\":{\"vlans\":[\"100\"]}", "guard.vlans[0]: \"100\" is not a VLAN"},
	{"\"guard\":{\"vlans\":[\"1.2.3\"]}", "guard.vlans[0]: \"1.2.3\" is not a VLAN"},
	{"\"guard\":{\"vlans\":[\"Untagged\"]}", "guard.vlans[0]: \"Untagged\" is not a VLAN"},
	{"\"guard\":{\"vlans\":[true]}",
	 "guard.vlans[0]: must be a VLAN ID, \"untagged\" or \"OUTER.INNER\", not a boolean"},
	{"\"guard\":{\"vlans\":[100,\"untagged\",100]}",
	 "guard.vlans[2]: 100 is also guard.vlans[0]"},
	{"\"guard\":{\"vlans\":[\"untagged\",\"5.6\",\"untagged\"]}",
	 "guard.vlans[2]: untagged is also guard.vlans[0]"},
	{"\"guard\":{\"vlans\":[\"5.6\",\"5.6\"]}", "guard.vlans[1]: 5.6 is also guard.vlans[0]"},
	{"\"guard\":{\"dhcp_destination\":\"relay\"}",
	 "guard.dhcp_destination: \"relay\" is not one of \"any\", \"server\""},
	{"\"guard\":{\"mac_deny\":[\"52:54:00:00:00\"]}",
	 "guard.mac_deny[0]: \"52:54:00:00:00\" is not a MAC address"},
	{"\"guard\":{\"mac_deny\":[7]}", "guard.mac_deny[0]: must be a string, not an integer"},
	{"\"guard\":{\"mac_deny\":[\"52:54:00:00:00:01\",\"01:00:5e:00:00:01\"]}",
	 "guard.mac_deny[1]: 01:00:5e:00:00:01 is a multicast address"},
	{"\"guard\":{\"mac_allow\":[\"00:00:00:00:00:00\"]}",
	 "guard.mac_allow[0]: 00:00:00:00:00:00 is not a client MAC"},
	{"\"guard\":{\"mac_deny\":[\"52:54:00:00:00:0a\",\"52:54:00:00:00:0b\",\"52:54:00:00:00:"
	 "0A\"]}",
	 "guard.mac_deny[2]: 52:54:00:00:00:0a is also guard.mac_deny[0]"},
	{"\"guard\":{\"mac_allow\":[]}",
	 "guard.mac_allow: is empty (it would drop every client; leave it out to allow every MAC)"},
	{"\"guard\":{\"mac_deny\":[\"52:54:00:00:00:02\"],"
	 "\"mac_allow\":[\"52:54:00:00:00:01\",\"52:54:00:00:00:02\"]}",
	 "guard.mac_deny[0]: 52:54:00:00:00:02 is also on guard.mac_allow (guard.mac_allow[1])"},
	{"\"guard\":{\"dhcp_rate\":5}", "guard.dhcp_rate: must be an object, not an integer"},
	{"\"guard\":{\"dhcp_rate\":{\"per_second\":10}}",
	 "guard.dhcp_rate.burst: required field is missing"},
	{"\"guard\":{\"dhcp_rate\":{\"burst\":10}}",
	 "guard.dhcp_rate.per_second: required field is missing"},
	{"\"guard\":{\"dhcp_rate\":{\"per_second\":0,\"burst\":1}}",
	 "guard.dhcp_rate.per_second: 0 is out of range 1..1000000"},
	{"\"guard\":{\"tftp_rate\":{\"per_second\":5,\"burst\":1000001}}",
	 "guard.tftp_rate.burst: 1000001 is out of range 1..1000000"},
	{"\"guard\":{\"tftp_rate\":{\"per_second\":5,\"burst\":0}}",
	 "guard.tftp_rate.burst: 0 is out of range 1..1000000"},
	{"\"guard\":{\"tftp_rate\":{\"per_second\":5,\"burst\":5,\"brust\":1}}",
	 "guard.tftp_rate.brust: unknown field; did you mean \"burst\"?"},
	{"\"guard\":{\"tftp_rate\":{\"per_second\":\"5\",\"burst\":5}}",
	 "guard.tftp_rate.per_second: must be an integer, not a string"},
};

static void test_guard_bad(void **state)
{
	char err[SBCFG_ERR_MAX];
	struct sbcfg c;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char want[SBCFG_ERR_MAX];

		memset(&c, 0xa5, sizeof(c));
		int rc = load_frag(bad[i].frag, &c, err);
		snprintf(want, sizeof(want), "<string>: %s", bad[i].want);
		if (rc != -EINVAL || !strstr(err, want))
			fail_msg("%s: rc %d, message \"%s\", expected \"%s\"", bad[i].frag, rc, err,
				 want);
		for (size_t b = 0; b < sizeof(c); b++) /* left empty */
			assert_int_equal(((const uint8_t *)&c)[b], 0);
	}
}

/* A list longer than its map: the limit is named. */
static void test_guard_limits(void **state)
{
	size_t n = SBCFG_GUARD_DENY_MAX + 1, cap = 64 + n * 22, off = 0;
	char *frag = malloc(cap), err[SBCFG_ERR_MAX];
	struct sbcfg c;

	assert_non_null(frag);
	off += (size_t)snprintf(frag, cap, "\"guard\":{\"mac_deny\":[");
	for (size_t i = 0; i < n; i++)
		off += (size_t)snprintf(frag + off, cap - off, "%s\"52:54:00:00:%02zx:%02zx\"",
					i ? "," : "", i >> 8, i & 0xff);
	snprintf(frag + off, cap - off, "]}");
	char *json = malloc(cap + 128);
	assert_non_null(json);
	snprintf(json, cap + 128, "%s,%s}", BASE, frag);
	assert_int_equal(load(json, &c, err), -EINVAL);
	assert_non_null(strstr(err, "guard.mac_deny: has 4097 entries, at most 4096 are allowed"));
	/* One fewer fits. */
	char *last = strrchr(json, ',');
	memcpy(last, "]}}", 4);
	if (load(json, &c, err) != 0)
		fail_msg("%s", err);
	assert_int_equal(c.guard.n_mac_deny, SBCFG_GUARD_DENY_MAX);
	sbcfg_free(&c);
	free(json);
	free(frag);
}

/* Rules on the struct that JSON cannot break but C code (the control API) can. */
static void test_guard_validate_struct(void **state)
{
	char err[SBCFG_ERR_MAX];
	struct sbcfg c;

	assert_int_equal(load(FULL_GUARD, &c, err), 0);
	c.ipv6_ra = (enum sbcfg_ra_mode)7;
	assert_int_equal(sbcfg_validate(&c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "ipv6_ra: invalid value 7");
	c.ipv6_ra = SBCFG_RA_AUTO;
	c.guard.vlans[1] = SBCFG_VLAN(0, 5); /* an inner tag without an outer one */
	assert_int_equal(sbcfg_validate(&c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "guard.vlans[1]: 0x00000005 is not a VLAN");
	c.guard.vlans[1] = SBCFG_VLAN(4095, 0);
	assert_int_equal(sbcfg_validate(&c, err, sizeof(err)), -EINVAL);
	c.guard.vlans[1] = SBCFG_VLAN(100, 0);
	c.guard.dhcp_dst = (enum sbcfg_dhcp_dst)9;
	assert_int_equal(sbcfg_validate(&c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "guard.dhcp_destination: invalid value 9");
	c.guard.dhcp_dst = SBCFG_DHCP_DST_ANY;
	c.guard.dhcp_rate.per_second = 0; /* burst 40 left: a half-set rate */
	assert_int_equal(sbcfg_validate(&c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "guard.dhcp_rate.per_second: 0 is out of range 1..1000000");
	c.guard.dhcp_rate.burst = 0;
	assert_int_equal(sbcfg_validate(&c, err, sizeof(err)), 0);
	c.guard.n_vlans = SBCFG_GUARD_VLANS_MAX + 1;
	assert_int_equal(sbcfg_validate(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "guard.vlans: has 1025 entries"));
	c.guard.n_vlans = 4;
	assert_int_equal(sbcfg_validate(&c, err, sizeof(err)), 0);
	sbcfg_free(&c);
}

/* Every strict prefix of a config with a full guard fails cleanly and leaves nothing. */
static void test_guard_truncated(void **state)
{
	const char *full = FULL_GUARD;
	size_t len = strlen(full);
	char err[SBCFG_ERR_MAX];
	struct sbcfg c;

	for (size_t l = 0; l < len; l++) {
		char *buf = malloc(l ? l : 1);
		assert_non_null(buf);
		memcpy(buf, full, l);
		memset(&c, 0xa5, sizeof(c));
		if (sbcfg_load_buffer(buf, l, "t", &c, err, sizeof(err)) != -EINVAL)
			fail_msg("cut at %zu: accepted", l);
		for (size_t b = 0; b < sizeof(c); b++)
			assert_int_equal(((const uint8_t *)&c)[b], 0);
		free(buf);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv6_ra_values),
		cmocka_unit_test(test_guard_values),
		cmocka_unit_test(test_guard_equal),
		cmocka_unit_test(test_guard_bad),
		cmocka_unit_test(test_guard_limits),
		cmocka_unit_test(test_guard_validate_struct),
		cmocka_unit_test(test_guard_truncated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
