/* SPDX-License-Identifier: BSD-3-Clause */
/* catalog_test.c - image catalog: name normalisation, init, lookup. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* Table rows name only the fields they test; the rest are zero on purpose. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include "catalog.h"
#include "sb_drop.h"

#define S(lit) lit, sizeof(lit) - 1

static const struct {
	const char *in;
	size_t len;
	int rc;		 /* > 0: expect success with this text */
	const char *out; /* when rc > 0 */
} norm_cases[] = {
	{S("pxelinux.0"), 1, "pxelinux.0"},
	{S("/pxelinux.0"), 1, "pxelinux.0"},
	{S("///pxelinux.0"), 1, "pxelinux.0"},
	{S("\\boot\\x"), 1, "boot/x"},
	{S("\\Boot\\x86\\wdsnbp.com"), 1, "Boot/x86/wdsnbp.com"},
	{S("a//b"), 1, "a/b"},
	{S("a\\/\\/b"), 1, "a/b"},
	{S("a/./b"), 1, "a/b"},
	{S("./a"), 1, "a"},
	{S("a/"), 1, "a"},
	{S("...") /* not a parent reference */, 1, "..."},
	{S("..a/b.."), 1, "..a/b.."},
	{S("ipxe/boot.ipxe"), 1, "ipxe/boot.ipxe"},
	{S("../etc/passwd"), -SB_DROP_TFTP_BAD_PATH},
	{S("/../etc/passwd"), -SB_DROP_TFTP_BAD_PATH},
	{S("a/../../b"), -SB_DROP_TFTP_BAD_PATH},
	{S("a/.."), -SB_DROP_TFTP_BAD_PATH},
	{S(".."), -SB_DROP_TFTP_BAD_PATH},
	{S("..\\windows\\system32"), -SB_DROP_TFTP_BAD_PATH},
	{S("a\\..\\b"), -SB_DROP_TFTP_BAD_PATH},
	{S(""), -SB_DROP_TFTP_NOT_FOUND},
	{S("/"), -SB_DROP_TFTP_NOT_FOUND},
	{S("//\\//"), -SB_DROP_TFTP_NOT_FOUND},
	{S("."), -SB_DROP_TFTP_NOT_FOUND},
	{S("a\0b"), -SB_DROP_TFTP_NOT_FOUND}, /* embedded NUL */
};

static void test_normalize(void **state)
{
	for (size_t i = 0; i < sizeof(norm_cases) / sizeof(norm_cases[0]); i++) {
		char out[SBCFG_NAME_MAX];
		char *in = malloc(norm_cases[i].len + 1); /* exact, for ASan */
		int rc;

		memcpy(in, norm_cases[i].in, norm_cases[i].len);
		rc = catalog_normalize(in, norm_cases[i].len, out, sizeof(out));
		if (norm_cases[i].rc > 0) {
			if (rc < 0 || strcmp(out, norm_cases[i].out) != 0)
				fail_msg("'%s': rc %d out '%s', want '%s'", norm_cases[i].in, rc,
					 rc < 0 ? "" : out, norm_cases[i].out);
			assert_int_equal(rc, strlen(norm_cases[i].out));
		} else if (rc != norm_cases[i].rc) {
			fail_msg("'%s': rc %d (%s), want %s", norm_cases[i].in, rc,
				 sb_drop_name(rc), sb_drop_name(norm_cases[i].rc));
		}
		free(in);
	}
}

static void test_normalize_length(void **state)
{
	char name[300], out[SBCFG_NAME_MAX];

	memset(name, 'a', sizeof(name));
	/* 127 characters fit a 128-byte name with its NUL, 128 do not */
	assert_int_equal(catalog_normalize(name, SBCFG_NAME_MAX - 1, out, sizeof(out)),
			 SBCFG_NAME_MAX - 1);
	assert_int_equal(catalog_normalize(name, SBCFG_NAME_MAX, out, sizeof(out)),
			 -SB_DROP_TFTP_NOT_FOUND);
	/* leading slashes do not count */
	name[0] = '/';
	name[1] = '/';
	assert_int_equal(catalog_normalize(name, SBCFG_NAME_MAX + 1, out, sizeof(out)),
			 SBCFG_NAME_MAX - 1);
	assert_int_equal(catalog_normalize("ab", 2, out, 2), -SB_DROP_TFTP_NOT_FOUND);
	assert_int_equal(catalog_normalize("ab", 2, out, 3), 2);
	assert_int_equal(catalog_normalize("ab", 2, out, 0), -SB_DROP_TFTP_NOT_FOUND);
}

static void test_init(void **state)
{
	struct catalog cat;
	struct catalog_entry e[4] = {
		{.name = "/pxelinux.0", .data = (const uint8_t *)"\n\r\n", .size = 3},
		{.name = "\\boot\\vmlinuz", .data = (const uint8_t *)"kernel", .size = 6},
		{.name = "ipxe.efi", .data = (const uint8_t *)"", .size = 0},
		{.name = "a//b", .data = NULL, .size = 0},
	};

	assert_int_equal(catalog_init(&cat, e, 4), 0);
	assert_int_equal(cat.n, 4);
	/* sorted, normalised in place */
	assert_string_equal(e[0].name, "a/b");
	assert_string_equal(e[1].name, "boot/vmlinuz");
	assert_string_equal(e[2].name, "ipxe.efi");
	assert_string_equal(e[3].name, "pxelinux.0");
	assert_int_equal(e[3].netascii_size, 6);
	assert_int_equal(e[1].netascii_size, 6);
	assert_int_equal(e[0].netascii_size, 0);

	struct catalog_entry dup[2] = {{.name = "/x"}, {.name = "x"}};
	assert_int_equal(catalog_init(&cat, dup, 2), -EEXIST);
	struct catalog_entry bad[1] = {{.name = "../x"}};
	assert_int_equal(catalog_init(&cat, bad, 1), -EINVAL);
	struct catalog_entry empty[1] = {{.name = ""}};
	assert_int_equal(catalog_init(&cat, empty, 1), -EINVAL);
	struct catalog_entry nodata[1] = {{.name = "x", .data = NULL, .size = 5}};
	assert_int_equal(catalog_init(&cat, nodata, 1), -EINVAL);
	struct catalog_entry unterminated[1];
	memset(unterminated[0].name, 'a', sizeof(unterminated[0].name));
	unterminated[0].data = NULL;
	unterminated[0].size = 0;
	assert_int_equal(catalog_init(&cat, unterminated, 1), -EINVAL);
	assert_int_equal(catalog_init(&cat, NULL, 0), 0);
	assert_int_equal(cat.n, 0);
}

static void test_lookup(void **state)
{
	struct catalog cat;
	struct catalog_entry e[3] = {
		{.name = "pxelinux.0", .size = 0},
		{.name = "boot/x", .size = 0},
		{.name = "EFI/BOOT/BOOTX64.EFI", .size = 0},
	};
	static const struct {
		const char *req;
		const char *want; /* NULL: refused with rc */
		int rc;
	} t[] = {
		{"/pxelinux.0", "pxelinux.0"},
		{"pxelinux.0", "pxelinux.0"},
		{"\\boot\\x", "boot/x"},
		{"boot//x", "boot/x"},
		{"/EFI/BOOT/BOOTX64.EFI", "EFI/BOOT/BOOTX64.EFI"},
		{"efi/boot/bootx64.efi", NULL, -SB_DROP_TFTP_NOT_FOUND}, /* case-sensitive */
		{"pxelinux.cfg/default", NULL, -SB_DROP_TFTP_NOT_FOUND},
		{"../etc/passwd", NULL, -SB_DROP_TFTP_BAD_PATH},
		{"boot/../pxelinux.0", NULL, -SB_DROP_TFTP_BAD_PATH},
		{"", NULL, -SB_DROP_TFTP_NOT_FOUND},
		{"pxelinux.", NULL, -SB_DROP_TFTP_NOT_FOUND},
		{"pxelinux.00", NULL, -SB_DROP_TFTP_NOT_FOUND},
	};

	assert_int_equal(catalog_init(&cat, e, 3), 0);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int err = 0;
		const struct catalog_entry *r =
			catalog_lookup(&cat, t[i].req, strlen(t[i].req), &err);

		if (t[i].want) {
			if (!r)
				fail_msg("'%s' not found (%s)", t[i].req, sb_drop_name(err));
			assert_string_equal(r->name, t[i].want);
		} else {
			if (r)
				fail_msg("'%s' found '%s'", t[i].req, r->name);
			if (err != t[i].rc)
				fail_msg("'%s': %s", t[i].req, sb_drop_name(err));
		}
	}
	/* err may be NULL */
	assert_null(catalog_lookup(&cat, "nope", 4, NULL));
	/* the name is counted, not NUL-terminated: a longer buffer does not matter */
	assert_non_null(catalog_lookup(&cat, "boot/xyz", 6, NULL));

	struct catalog none;
	assert_int_equal(catalog_init(&none, NULL, 0), 0);
	assert_null(catalog_lookup(&none, "x", 1, NULL));
}

/* Binary search over many entries: every name found, every near-miss not. */
static void test_lookup_many(void **state)
{
	enum { N = 1000 };
	struct catalog_entry *e = calloc(N, sizeof(*e));
	struct catalog cat;
	uint32_t x = 12345;

	for (size_t i = 0; i < N; i++) {
		x = x * 1103515245u + 12345u;
		snprintf(e[i].name, sizeof(e[i].name), "img/%08x/%zu", x, i);
	}
	assert_int_equal(catalog_init(&cat, e, N), 0);
	for (size_t i = 1; i < N; i++)
		assert_true(strcmp(e[i - 1].name, e[i].name) < 0);
	for (size_t i = 0; i < N; i++) {
		char req[SBCFG_NAME_MAX + 2];
		int n = snprintf(req, sizeof(req), "/%s", e[i].name);
		assert_ptr_equal(catalog_lookup(&cat, req, (size_t)n, NULL), &e[i]);
		req[n] = 'z';
		assert_null(catalog_lookup(&cat, req, (size_t)n + 1, NULL));
		assert_null(catalog_lookup(&cat, req, (size_t)n - 1, NULL));
	}
	free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalize),   cmocka_unit_test(test_normalize_length),
		cmocka_unit_test(test_init),	    cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_lookup_many),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
