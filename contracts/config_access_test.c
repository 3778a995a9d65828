/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * config_access_test.c - the access parts of the config (sbcfg_access.c): "control" (socket
 * users and groups, images_dirs), "images_allowed" on subnets, reservations and tftp, pinned
 * images[].sha256; values, rules with the field they name, round trip and comparison; and the
 * decision sbcfg_image_allowed() (which list applies, patterns).
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

#include "sbcfg_access.h"
#include "sbcfg_json.h"

#define SHA_A "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

/* Two subnets (one restricted), three reservations (one restricted, one not), tftp default. */
#define FULL                                                                                       \
	"{\"interface\":\"sb0\",\"server_ip\":\"198.18.0.1\","                                     \
	"\"control\":{\"api_users\":[\"alice\",\"1001\"],\"api_groups\":[\"stormboot\"],"          \
	"\"dataplane_users\":[\"root\"],\"dataplane_groups\":[\"0\"],"                             \
	"\"images_dirs\":[\"/srv/stormboot/images\",\"/var/lib/tftp\"]},"                          \
	"\"dhcp\":{\"subnets\":["                                                                  \
	"{\"network\":\"198.18.0.0/24\",\"pool\":{\"start\":\"198.18.0.100\","                     \
	"\"end\":\"198.18.0.200\"},\"images_allowed\":[\"pxelinux.0\",\"vmlinuz-*\"]},"            \
	"{\"network\":\"198.18.2.0/24\"}],"                                                        \
	"\"reservations\":["                                                                       \
	"{\"mac\":\"52:54:00:00:00:01\",\"images_allowed\":[\"linux/*\"]},"                        \
	"{\"mac\":\"52:54:00:00:00:02\",\"ip\":\"198.18.0.50\"},"                                  \
	"{\"mac\":\"52:54:00:00:00:03\",\"images_allowed\":[]}]},"                                 \
	"\"tftp\":{\"images_allowed\":[\"ipxe.efi\",\"[ab]?.img\"]},"                              \
	"\"images\":[{\"name\":\"pxelinux.0\",\"path\":\"/srv/p\","                                \
	"\"sha256\":\"9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08\"},"        \
	"{\"name\":\"vmlinuz-6.1\",\"path\":\"/srv/v\"}]}"

#define BASE "{\"interface\":\"sb0\",\"server_ip\":\"198.18.0.1\",\"dhcp\":{\"mode\":\"off\"}"

static int load(const char *json, struct sbcfg *c, char *err)
{
	return sbcfg_load_string(json, c, err, SBCFG_ERR_MAX);
}

static int load_frag(const char *frag, struct sbcfg *c, char *err)
{
	char json[8192];

	snprintf(json, sizeof(json), "%s%s%s}", BASE, *frag ? "," : "", frag);
	return load(json, c, err);
}

static void test_values(void **state)
{
	char err[SBCFG_ERR_MAX];
	struct sbcfg c, d;

	if (load(FULL, &c, err) != 0)
		fail_msg("%s", err);
	assert_int_equal(c.control.n_api_users, 2);
	assert_string_equal(c.control.api_users[1], "1001");
	assert_int_equal(c.control.n_api_groups, 1);
	assert_true(c.control.api_listed);
	assert_int_equal(c.control.n_dp_users, 1);
	assert_int_equal(c.control.n_dp_groups, 1);
	assert_int_equal(c.control.n_images_dirs, 2);
	assert_string_equal(c.control.images_dirs[1], "/var/lib/tftp");
	/* pinned digest, kept in lower case */
	assert_string_equal(c.images[0].sha256, SHA_A);
	assert_string_equal(c.images[1].sha256, "");
	/* lists */
	assert_true(c.dhcp.subnets[0].images_allowed.restricted);
	assert_int_equal(c.dhcp.subnets[0].images_allowed.n, 2);
	assert_false(c.dhcp.subnets[1].images_allowed.restricted);
	assert_true(c.dhcp.reservations[0].images_allowed.restricted);
	assert_false(c.dhcp.reservations[1].images_allowed.restricted);
	assert_true(c.dhcp.reservations[2].images_allowed.restricted);
	assert_int_equal(c.dhcp.reservations[2].images_allowed.n, 0);
	assert_true(c.tftp.images_allowed.restricted);
	assert_int_equal(c.n_image_patterns, 5);
	assert_int_equal(c.images_restricted, SBCFG_RESTRICTED_RESERVATIONS |
						      SBCFG_RESTRICTED_SUBNETS |
						      SBCFG_RESTRICTED_TFTP);

	/* round trip, and a fixed point after one round */
	char *json = sbcfg_to_json(&c);
	assert_non_null(json);
	assert_non_null(strstr(json, "\"sha256\": \"" SHA_A "\""));
	assert_non_null(strstr(json, "\"images_allowed\": []"));
	if (load(json, &d, err) != 0)
		fail_msg("%s\n%s", err, json);
	assert_true(sbcfg_equal(&c, &d));
	assert_int_equal(d.images_restricted, c.images_restricted);
	char *again = sbcfg_to_json(&d);
	assert_string_equal(json, again);
	free(json);
	free(again);
	sbcfg_free(&d);
	sbcfg_free(&c);

	/* nothing set: no "control" object, no lists, nothing restricted */
	assert_int_equal(load_frag("", &c, err), 0);
	assert_int_equal(c.images_restricted, 0);
	assert_false(c.control.api_listed);
	json = sbcfg_to_json(&c);
	assert_null(strstr(json, "\"control\""));
	assert_null(strstr(json, "images_allowed"));
	assert_null(strstr(json, "sha256"));
	free(json);
	sbcfg_free(&c);

	/* "api_users": [] alone means "root only", and survives the round trip */
	assert_int_equal(load_frag("\"control\":{\"api_users\":[]}", &c, err), 0);
	assert_true(c.control.api_listed);
	json = sbcfg_to_json(&c);
	assert_int_equal(load(json, &d, err), 0);
	assert_true(d.control.api_listed);
	assert_true(sbcfg_equal(&c, &d));
	free(json);
	sbcfg_free(&d);
	sbcfg_free(&c);
}

/* A change in any access field makes two configs differ. */
static void test_equal(void **state)
{
	static const char *const variants[] = {
		"\"control\":{\"api_users\":[\"alice\"]}",
		"\"control\":{\"api_users\":[\"bob\"]}",
		"\"control\":{\"api_users\":[]}",
		"\"control\":{\"api_groups\":[\"alice\"]}",
		"\"control\":{\"dataplane_users\":[\"alice\"]}",
		"\"control\":{\"dataplane_groups\":[\"alice\"]}",
		"\"control\":{\"images_dirs\":[\"/srv\"]}",
		"\"control\":{\"images_dirs\":[\"/srv/a\"]}",
		"\"tftp\":{\"images_allowed\":[\"a\"]}",
		"\"tftp\":{\"images_allowed\":[\"b\"]}",
		"\"tftp\":{\"images_allowed\":[]}",
		"\"images\":[{\"name\":\"a\",\"path\":\"/a\"}]",
		"\"images\":[{\"name\":\"a\",\"path\":\"/a\",\"sha256\":\"" SHA_A "\"}]",
		"",
	};
	const size_t n = sizeof(variants) / sizeof(variants[0]);
	char err[SBCFG_ERR_MAX];

	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++) {
			struct sbcfg a, b;
			if (load_frag(variants[i], &a, err) || load_frag(variants[j], &b, err))
				fail_msg("%s", err);
			if (sbcfg_equal(&a, &b) != (i == j))
				fail_msg("%s vs %s: equal %d", variants[i], variants[j], i == j);
			sbcfg_free(&a);
			sbcfg_free(&b);
		}

	/* per subnet and per reservation too */
	struct sbcfg a, b;
	assert_int_equal(load(FULL, &a, err), 0);
	assert_int_equal(load(FULL, &b, err), 0);
	assert_true(sbcfg_equal(&a, &b));
	strcpy(b.image_patterns[b.dhcp.subnets[0].images_allowed.first + 1], "vmlinuz-6*");
	assert_false(sbcfg_equal(&a, &b));
	sbcfg_free(&b);
	assert_int_equal(load(FULL, &b, err), 0);
	b.dhcp.reservations[2].images_allowed.restricted = false;
	assert_false(sbcfg_equal(&a, &b));
	sbcfg_free(&b);
	sbcfg_free(&a);
}

static void test_bad(void **state)
{
	static const struct {
		const char *frag;
		const char *msg;
	} v[] = {
		{"\"control\":[]", "control: must be an object, not an array"},
		{"\"control\":{\"api_user\":[]}",
		 "control.api_user: unknown field; did you mean \"api_users\"?"},
		{"\"control\":{\"api_users\":\"alice\"}",
		 "control.api_users: must be an array, not a string"},
		{"\"control\":{\"api_users\":[1000]}",
		 "control.api_users[0]: must be a string, not an integer"},
		{"\"control\":{\"api_users\":[\"\"]}", "control.api_users[0]: \"\" is empty"},
		{"\"control\":{\"api_groups\":[\"a b\"]}",
		 "control.api_groups[0]: \"a b\" is not a user or group name"},
		{"\"control\":{\"dataplane_users\":[\"-x\"]}",
		 "control.dataplane_users[0]: \"-x\" must not start with '-'"},
		{"\"control\":{\"dataplane_groups\":[\"4294967295\"]}",
		 "control.dataplane_groups[0]: \"4294967295\" is out of range for an id"},
		{"\"control\":{\"api_users\":[\"abcdefghijklmnopqrstuvwxyzabcdefg\"]}",
		 "control.api_users[0]: \"abcdefghijklmnopqrstuvwxyzabcdefg\" is 33 bytes long"},
		{"\"control\":{\"images_dirs\":[\"srv\"]}",
		 "control.images_dirs[0]: \"srv\" is not an absolute path"},
		{"\"control\":{\"images_dirs\":[\"/\"]}",
		 "control.images_dirs[0]: \"/\" is the root directory"},
		{"\"control\":{\"images_dirs\":[\"/srv/../etc\"]}",
		 "control.images_dirs[0]: \"/srv/../etc\" must not contain"},
		{"\"tftp\":{\"images_allowed\":\"a\"}",
		 "tftp.images_allowed: must be an array of image name patterns, not a string"},
		{"\"tftp\":{\"images_allowed\":[\"/a\"]}",
		 "tftp.images_allowed[0]: \"/a\" must not start with '/'"},
		{"\"tftp\":{\"images_allowed\":[\"ok\",7]}",
		 "tftp.images_allowed[1]: must be a string, not an integer"},
		{"\"tftp\":{\"images_allowed\":[\"\"]}", "tftp.images_allowed[0]: \"\" is empty"},
		{"{\"interface\":\"sb0\",\"server_ip\":\"198.18.0.1\",\"tftp\":{},"
		 "\"dhcp\":{\"mode\":\"off\",\"subnets\":[{\"network\":\"198.18.0.0/24\","
		 "\"images_allowed\":[\"a\\u0001\"]}]}}",
		 "dhcp.subnets[0].images_allowed[0]: \"a?\" contains a control character"},
		{"{\"interface\":\"sb0\",\"server_ip\":\"198.18.0.1\","
		 "\"dhcp\":{\"mode\":\"off\",\"reservations\":[{\"mac\":\"52:54:00:00:00:01\","
		 "\"images_allowed\":{}}]}}",
		 "dhcp.reservations[0].images_allowed: must be an array of image name patterns, "
		 "not "
		 "an object"},
		{"\"images\":[{\"name\":\"a\",\"path\":\"/a\",\"sha256\":\"abc\"}]",
		 "images[0].sha256: \"abc\" is not a SHA-256 digest (64 hex digits)"},
		{"\"images\":[{\"name\":\"a\",\"path\":\"/a\",\"sha256\":"
		 "\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a0g\"}]",
		 "images[0].sha256: "
		 "\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b...\" is not"},
		{"\"images\":[{\"name\":\"a\",\"path\":\"/a\",\"sha256\":1}]",
		 "images[0].sha256: must be a string of 64 hex digits, not an integer"},
	};
	char err[SBCFG_ERR_MAX];
	struct sbcfg c;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		/* a fragment after BASE, or a whole file */
		int rc = v[i].frag[0] == '{' ? load(v[i].frag, &c, err)
					     : load_frag(v[i].frag, &c, err);
		if (rc != -EINVAL)
			fail_msg("%s: rc %d", v[i].frag, rc);
		if (!strstr(err, v[i].msg))
			fail_msg("%s:\n  got  %s\n  want %s", v[i].frag, err, v[i].msg);
	}
}

static void test_limits(void **state)
{
	char err[SBCFG_ERR_MAX], *json = malloc(1 << 16), *p;
	struct sbcfg c;

	/* 65 patterns in one list */
	p = json + sprintf(json, "%s,\"tftp\":{\"images_allowed\":[", BASE);
	for (int i = 0; i < SBCFG_PATTERNS_MAX + 1; i++)
		p += sprintf(p, "%s\"p%d\"", i ? "," : "", i);
	strcpy(p, "]}}");
	assert_int_equal(load(json, &c, err), -EINVAL);
	assert_non_null(strstr(err, "tftp.images_allowed: has 65 entries, at most 64"));
	/* 64 is fine */
	p = json + sprintf(json, "%s,\"tftp\":{\"images_allowed\":[", BASE);
	for (int i = 0; i < SBCFG_PATTERNS_MAX; i++)
		p += sprintf(p, "%s\"p%d\"", i ? "," : "", i);
	strcpy(p, "]}}");
	if (load(json, &c, err) != 0)
		fail_msg("%s", err);
	sbcfg_free(&c);
	/* 65 image directories */
	p = json + sprintf(json, "%s,\"control\":{\"images_dirs\":[", BASE);
	for (int i = 0; i < SBCFG_IMAGES_DIRS_MAX + 1; i++)
		p += sprintf(p, "%s\"/d%d\"", i ? "," : "", i);
	strcpy(p, "]}}");
	assert_int_equal(load(json, &c, err), -EINVAL);
	assert_non_null(strstr(err, "control.images_dirs: has 65 entries, at most 64"));
	free(json);
}

/* sbcfg_validate() checks what C code filled in. */
static void test_validate_struct(void **state)
{
	char err[SBCFG_ERR_MAX];
	struct sbcfg c;

	assert_int_equal(load(FULL, &c, err), 0);
	c.dhcp.subnets[0].images_allowed.first = 4; /* 4 + 2 > 5 patterns */
	assert_int_equal(sbcfg_validate(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "dhcp.subnets[0].images_allowed: patterns 4..6"));
	c.dhcp.subnets[0].images_allowed.first = 0;
	strcpy(c.images[1].sha256, "xyz");
	assert_int_equal(sbcfg_validate(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "images[1].sha256: \"xyz\""));
	c.images[1].sha256[0] = '\0';
	strcpy(c.control.images_dirs[0], "relative");
	assert_int_equal(sbcfg_validate(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "control.images_dirs[0]"));
	strcpy(c.control.images_dirs[0], "/ok");
	strcpy(c.control.api_users[0], "no way");
	assert_int_equal(sbcfg_validate(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "control.api_users[0]"));
	strcpy(c.control.api_users[0], "alice");
	assert_int_equal(sbcfg_validate(&c, err, sizeof(err)), 0);
	sbcfg_free(&c);
}

/* Every cut of the full config is refused cleanly (no crash, no leak: ASan). */
static void test_truncated(void **state)
{
	const char *full = FULL;
	size_t n = strlen(full);
	char err[SBCFG_ERR_MAX];
	struct sbcfg c;

	for (size_t len = 0; len < n; len++) {
		int rc = sbcfg_load_buffer(full, len, NULL, &c, err, sizeof(err));
		if (rc == 0)
			fail_msg("a cut of %zu bytes loaded", len);
	}
	assert_int_equal(sbcfg_load_buffer(full, n, NULL, &c, err, sizeof(err)), 0);
	sbcfg_free(&c);
}

static const uint8_t MAC1[6] = {0x52, 0x54, 0x00, 0x00, 0x00, 0x01}; /* reservation: "linux/ *" */
static const uint8_t MAC2[6] = {0x52, 0x54, 0x00, 0x00, 0x00, 0x02}; /* reservation, no list */
static const uint8_t MAC3[6] = {0x52, 0x54, 0x00, 0x00, 0x00, 0x03}; /* reservation: [] */
static const uint8_t MAC9[6] = {0x52, 0x54, 0x00, 0x00, 0x00, 0x09}; /* none */
#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

/* Which list decides, and what it allows. */
static void test_decision(void **state)
{
	static const struct {
		const uint8_t *mac;
		uint32_t ip;
		const char *name;
		bool allowed;
		const char *rule;
	} v[] = {
		/* the reservation's list first, whatever the subnet says */
		{MAC1, IP(198, 18, 0, 101), "linux/vmlinuz", true, "dhcp.reservations[0]"},
		{MAC1, IP(198, 18, 0, 101), "linux/sub/initrd", true, "dhcp.reservations[0]"},
		{MAC1, IP(198, 18, 0, 101), "pxelinux.0", false, "dhcp.reservations[0]"},
		/* an empty list allows nothing */
		{MAC3, IP(198, 18, 0, 101), "pxelinux.0", false, "dhcp.reservations[2]"},
		{MAC3, IP(198, 18, 9, 9), "ipxe.efi", false, "dhcp.reservations[2]"},
		/* a reservation without a list: its subnet's */
		{MAC2, IP(198, 18, 0, 50), "pxelinux.0", true, "dhcp.subnets[0]"},
		{MAC2, IP(198, 18, 0, 50), "vmlinuz-6.1", true, "dhcp.subnets[0]"},
		{MAC2, IP(198, 18, 0, 50), "vmlinuz", false, "dhcp.subnets[0]"},
		{MAC9, IP(198, 18, 0, 150), "ipxe.efi", false, "dhcp.subnets[0]"},
		{NULL, IP(198, 18, 0, 150), "pxelinux.0", true, "dhcp.subnets[0]"},
		/* a subnet without a list, or no subnet: tftp's */
		{MAC9, IP(198, 18, 2, 10), "ipxe.efi", true, "tftp"},
		{MAC9, IP(198, 18, 2, 10), "a1.img", true, "tftp"},
		{MAC9, IP(198, 18, 2, 10), "c1.img", false, "tftp"},
		{MAC9, IP(198, 18, 2, 10), "a12.img", false, "tftp"},
		{MAC9, IP(10, 0, 0, 1), "pxelinux.0", false, "tftp"},
		{NULL, 0, "ipxe.efi", true, "tftp"},
	};
	char err[SBCFG_ERR_MAX], b[64];
	struct sbcfg c;

	if (load(FULL, &c, err) != 0)
		fail_msg("%s", err);
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct sbcfg_image_rule r;
		bool ok = sbcfg_image_allowed(&c, v[i].mac, v[i].ip, v[i].name, &r);
		if (ok != v[i].allowed || strcmp(sbcfg_image_rule_fmt(&r, b), v[i].rule) != 0)
			fail_msg("case %zu (%s): allowed %d by %s, want %d by %s", i, v[i].name, ok,
				 b, v[i].allowed, v[i].rule);
	}
	/* no tftp list: a client no list covers gets every image */
	c.tftp.images_allowed.restricted = false;
	sbcfg_access_refresh(&c);
	assert_true(sbcfg_image_allowed(&c, MAC9, IP(10, 0, 0, 1), "anything", NULL));
	assert_false(sbcfg_image_allowed(&c, MAC9, IP(198, 18, 0, 7), "anything", NULL));
	/* no list at all: everything, without looking */
	for (size_t i = 0; i < c.dhcp.n_subnets; i++)
		c.dhcp.subnets[i].images_allowed.restricted = false;
	for (size_t i = 0; i < c.dhcp.n_reservations; i++)
		c.dhcp.reservations[i].images_allowed.restricted = false;
	sbcfg_access_refresh(&c);
	assert_int_equal(c.images_restricted, 0);
	struct sbcfg_image_rule r;
	assert_true(sbcfg_image_allowed(&c, MAC3, IP(198, 18, 0, 7), "x", &r));
	assert_int_equal(r.kind, SBCFG_IMAGE_RULE_NONE);
	/* a list added in C counts once refreshed */
	c.dhcp.reservations[1].images_allowed =
		(struct sbcfg_images_allowed){.first = 0, .n = 1, .restricted = true};
	assert_true(sbcfg_image_allowed(&c, MAC2, 0, "x", NULL)); /* not refreshed yet */
	sbcfg_access_refresh(&c);
	assert_int_equal(c.images_restricted, SBCFG_RESTRICTED_RESERVATIONS);
	assert_false(sbcfg_image_allowed(&c, MAC2, 0, "x", NULL));
	assert_true(sbcfg_image_allowed(&c, MAC2, 0, "pxelinux.0", NULL));
	sbcfg_free(&c);
}

static void test_sha256_hex(void **state)
{
	uint8_t b[32];

	assert_int_equal(sbcfg_sha256_from_hex(SHA_A, b), 0);
	assert_int_equal(b[0], 0x9f);
	assert_int_equal(b[31], 0x08);
	assert_int_equal(sbcfg_sha256_from_hex("9F86", b), -EINVAL);
	assert_int_equal(sbcfg_sha256_from_hex(SHA_A "0", b), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_equal),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_validate_struct),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_decision),
		cmocka_unit_test(test_sha256_hex),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
