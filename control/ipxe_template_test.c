/* SPDX-License-Identifier: BSD-3-Clause */
/* ipxe_template_test.c - iPXE template rendering, names and texts. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ipxe_template.h"

static const struct ipxe_template_var vars[] = {
	{"mac", "52:54:00:12:34:56"},
	{"ip", "198.18.0.100"},
	{"hostname", "node1"},
	{"arch", "x86_64"},
	{"server", "198.18.0.1"},
	{"base_url", "http://198.18.0.1:8080"},
	{"empty", ""},
};
#define NVARS (sizeof(vars) / sizeof(vars[0]))

static const struct {
	const char *in, *out;
} cases[] = {
	{"", ""},
	{"#!ipxe\n", "#!ipxe\n"},
	{"echo ${mac}", "echo 52:54:00:12:34:56"},
	{"${mac}${ip}", "52:54:00:12:34:56198.18.0.100"},
	{"kernel ${base_url}/linux/vmlinuz ip=${ip} hostname=${hostname}\n",
	 "kernel http://198.18.0.1:8080/linux/vmlinuz ip=198.18.0.100 hostname=node1\n"},
	{"a=${arch} s=${server}", "a=x86_64 s=198.18.0.1"},
	{"[${empty}]", "[]"},
	/* iPXE's own settings pass through for iPXE to expand */
	{"${net0/mac} ${buildarch} ${filename}", "${net0/mac} ${buildarch} ${filename}"},
	{"${MAC}", "${MAC}"}, /* names are case-sensitive */
	{"${ mac}", "${ mac}"},
	/* escape */
	{"$${mac}", "${mac}"},
	{"$$${mac}", "$${mac}"}, /* left to right: "$", then the escape */
	{"$$x", "$$x"},
	/* not a reference */
	{"cost $5", "cost $5"},
	{"$", "$"},
	{"${", "${"},
	{"${mac", "${mac"},
	{"end $$", "end $$"},
	{"${}", "${}"},
	{"${0123456789012345678901234567890123}", "${0123456789012345678901234567890123}"},
};

static void test_render(void **state)
{
	char out[512];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = ipxe_template_render(cases[i].in, strlen(cases[i].in), vars, NVARS, out,
						sizeof(out));
		if (n != strlen(cases[i].out) || strcmp(out, cases[i].out) != 0)
			fail_msg("'%s' -> '%s' (%zu), expected '%s'", cases[i].in, out, n,
				 cases[i].out);
		/* sizing call, and every shorter buffer: same length, cut, NUL-terminated */
		assert_int_equal(ipxe_template_render(cases[i].in, strlen(cases[i].in), vars, NVARS,
						      NULL, 0),
				 n);
		for (size_t cap = 1; cap <= n; cap++) {
			char small[512];
			memset(small, 'X', sizeof(small));
			assert_int_equal(ipxe_template_render(cases[i].in, strlen(cases[i].in),
							      vars, NVARS, small, cap),
					 n);
			assert_int_equal(small[cap - 1], '\0');
			assert_memory_equal(small, cases[i].out, cap - 1);
			assert_int_equal(small[cap], 'X');
		}
	}
}

/* The template is a length, not a C string: a '$' or '{' at the very end is not read past. */
static void test_render_bounds(void **state)
{
	const char t[] = "x${mac}yyy";
	char out[64];

	(void)state;
	/* cut inside the reference: "x${ma" is not a reference */
	assert_int_equal(ipxe_template_render(t, 5, vars, NVARS, out, sizeof(out)), 5);
	assert_string_equal(out, "x${ma");
	assert_int_equal(ipxe_template_render(t, 7, vars, NVARS, out, sizeof(out)), 18);
	assert_string_equal(out, "x52:54:00:12:34:56");
	assert_int_equal(ipxe_template_render(t, 2, vars, NVARS, out, sizeof(out)), 2);
	assert_string_equal(out, "x$");
	assert_int_equal(ipxe_template_render("$$", 2, vars, NVARS, out, sizeof(out)), 2);
	assert_int_equal(ipxe_template_render(t, strlen(t), NULL, 0, out, sizeof(out)), strlen(t));
	assert_string_equal(out, t);
}

static void test_names(void **state)
{
	static const struct {
		const char *name;
		int rc;
	} t[] = {
		{"boot.ipxe", 0},     {"node-1_a.IPXE", 0},	{"a", 0},	  {"", -EINVAL},
		{".hidden", -EINVAL}, {"..", -EINVAL},		{"a/b", -EINVAL}, {"a b", -EINVAL},
		{"a\\b", -EINVAL},    {"caf\xc3\xa9", -EINVAL},
	};
	char longest[IPXE_TEMPLATE_NAME_MAX + 2];

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (ipxe_template_name_check(t[i].name) != t[i].rc)
			fail_msg("name '%s': expected %d", t[i].name, t[i].rc);
	memset(longest, 'n', IPXE_TEMPLATE_NAME_MAX);
	longest[IPXE_TEMPLATE_NAME_MAX] = '\0';
	assert_int_equal(ipxe_template_name_check(longest), 0);
	longest[IPXE_TEMPLATE_NAME_MAX] = 'n';
	longest[IPXE_TEMPLATE_NAME_MAX + 1] = '\0';
	assert_int_equal(ipxe_template_name_check(longest), -EINVAL);
}

static void test_texts(void **state)
{
	static char big[IPXE_TEMPLATE_TEXT_MAX + 1];

	(void)state;
	assert_int_equal(ipxe_template_text_check("#!ipxe\r\n\tboot\n", 14), 0);
	assert_int_equal(ipxe_template_text_check("", 0), -EINVAL);
	assert_int_equal(ipxe_template_text_check("a\0b", 3), -EINVAL);
	assert_int_equal(ipxe_template_text_check("a\x1b[0m", 5), -EINVAL);
	assert_int_equal(ipxe_template_text_check("a\x7f", 2), -EINVAL);
	assert_int_equal(ipxe_template_text_check("caf\xc3\xa9", 5), 0); /* UTF-8 is fine */
	memset(big, 'a', sizeof(big));
	assert_int_equal(ipxe_template_text_check(big, IPXE_TEMPLATE_TEXT_MAX), 0);
	assert_int_equal(ipxe_template_text_check(big, IPXE_TEMPLATE_TEXT_MAX + 1), -EFBIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_render_bounds),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_texts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
