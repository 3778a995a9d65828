/* SPDX-License-Identifier: BSD-3-Clause */
/* fwlog_test.c - firmware failure reports: the query, iPXE error numbers, the line. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fwlog.h"

static void test_errno_parse(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		int rc;
		uint32_t v;
	} cases[] = {
		{"0x2d0c613c", 0, 0x2d0c613c}, /* as iPXE prints ${errno}: "%#lx" */
		{"0X2D0C613C", 0, 0x2d0c613c},
		{"0", 0, 0}, /* ${errno} before any failure */
		{"0x1", 0, 1},
		{"755000636", 0, 755000636}, /* decimal (${errno:int32}) */
		{"0x7fffffff", 0, 0x7fffffff},
		{"2147483647", 0, 0x7fffffff},
		{"0x80000000", -EINVAL, 0}, /* bit 31 is reserved */
		{"2147483648", -EINVAL, 0},
		{"0x123456789", -EINVAL, 0}, /* 9 hex digits */
		{"12345678901", -EINVAL, 0},
		{"0x", -EINVAL, 0},
		{"", -EINVAL, 0},
		{"0x2d0g613c", -EINVAL, 0},
		{"-1", -EINVAL, 0},
		{" 1", -EINVAL, 0},
		{"1 ", -EINVAL, 0},
		{"0x2d0c613c\n", -EINVAL, 0},
		{"${errno}", -EINVAL, 0}, /* a script run by something that is not iPXE */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t v = 0xdeadbeef;
		int rc = fwlog_errno_parse(cases[i].in, &v);
		if (rc != cases[i].rc)
			fail_msg("\"%s\": rc %d, want %d", cases[i].in, rc, cases[i].rc);
		if (rc == 0 && v != cases[i].v)
			fail_msg("\"%s\": 0x%x, want 0x%x", cases[i].in, v, cases[i].v);
	}
	assert_int_equal(fwlog_errno_parse(NULL, &(uint32_t){0}), -EINVAL);
}

static void test_errno_text(void **state)
{
	(void)state;
	/* the POSIX part, bits 30-24, from iPXE's errno.h whatever the rest says */
	/* what Debian 12's iPXE ROM (pxe-virtio.rom) set after an HTTP 404, seen in vm-fwlog */
	assert_string_equal(fwlog_errno_text(0x2d0c613b), "No such file or directory");
	assert_string_equal(fwlog_errno_text(0x2d0c613c), "No such file or directory");
	assert_string_equal(fwlog_errno_text(0x2d000000), "No such file or directory");
	assert_string_equal(fwlog_errno_text(0x4c0a6035), "Connection timed out");
	assert_string_equal(fwlog_errno_text(0x0216eb3c), "Permission denied");
	assert_string_equal(fwlog_errno_text(0x0e0a603c), "Connection refused");
	assert_string_equal(fwlog_errno_text(0x2e008081), "Exec format error");
	assert_string_equal(fwlog_errno_text(0x1d0c6503), "Input/output error");
	assert_string_equal(fwlog_errno_text(0x28086011), "Network unreachable");
	assert_string_equal(fwlog_errno_text(0x3c000000), "Operation not supported");
	assert_string_equal(fwlog_errno_text(0x4f000000), "Improper link"); /* the last */
	assert_string_equal(fwlog_errno_text(0), "Operation completed successfully");
	assert_null(fwlog_errno_text(0x50000000)); /* past iPXE's list */
	assert_null(fwlog_errno_text(0x7f000001));
}

static void test_parse(void **state)
{
	(void)state;
	struct fwlog_report r;
	const char *why;

	assert_int_equal(fwlog_parse("mac=52:54:00:5b:00:01&step=kernel&err=0x2d0c613c", &r, &why),
			 0);
	assert_memory_equal(r.mac, "\x52\x54\x00\x5b\x00\x01", 6);
	assert_string_equal(r.step, "kernel");
	assert_true(r.have_err);
	assert_int_equal(r.err, 0x2d0c613c);
	assert_string_equal(r.msg, "");

	/* order free, escapes decoded, unknown keys ignored, msg with '+' as a space */
	assert_int_equal(
		fwlog_parse("x=1&msg=no+disk%21&err=0x4c0a6035&step=initrd&mac=52%3A54%3A00"
			    "%3A5b%3A00%3A01",
			    &r, &why),
		0);
	assert_string_equal(r.step, "initrd");
	assert_string_equal(r.msg, "no disk!");
	assert_int_equal(r.err, 0x4c0a6035);

	/* no err: fine */
	assert_int_equal(fwlog_parse("mac=52:54:00:5b:00:01&step=boot", &r, &why), 0);
	assert_false(r.have_err);

	static const struct {
		const char *q, *why;
	} bad[] = {
		{"", "no mac="},
		{"step=kernel", "no mac="},
		{"mac=52:54:00:5b:00&step=kernel", "mac: not a MAC"},
		{"mac=zz:54:00:5b:00:01&step=kernel", "mac: not a MAC"},
		{"mac=52:54:00:5b:00:01%zz&step=kernel", "mac: bad escape"},
		{"mac=52:54:00:5b:00:01", "no step="},
		{"mac=52:54:00:5b:00:01&step=", "step: 1..16"},
		{"mac=52:54:00:5b:00:01&step=a%20b", "step: 1..16"},
		{"mac=52:54:00:5b:00:01&step=abcdefghijklmnopq", "step: 1..16"},
		{"mac=52:54:00:5b:00:01&step=k&err=", "err: not"},
		{"mac=52:54:00:5b:00:01&step=k&err=${errno}", "err: not"},
		{"mac=52:54:00:5b:00:01&step=k&err=0x80000000", "err: not"},
		{"mac=52:54:00:5b:00:01&step=k&err=%00", "err: bad escape"},
		{"mac=52:54:00:5b:00:01&step=k&msg=a%0Ab", "msg: not printable"},
		{"mac=52:54:00:5b:00:01&step=k&msg=caf%C3%A9", "msg: not printable"},
		{"mac=52:54:00:5b:00:01&step=k&msg="
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		 "msg: longer"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		if (fwlog_parse(bad[i].q, &r, &why) != -EINVAL)
			fail_msg("\"%s\" accepted", bad[i].q);
		if (!why || strncmp(why, bad[i].why, strlen(bad[i].why)) != 0)
			fail_msg("\"%s\": why \"%s\", want \"%s...\"", bad[i].q,
				 why ? why : "(null)", bad[i].why);
	}
	/* a query longer than the cap, even a valid one */
	char big[FWLOG_QUERY_MAX + 64];
	snprintf(big, sizeof(big), "mac=52:54:00:5b:00:01&step=k&pad=");
	memset(big + strlen(big), 'a', sizeof(big) - strlen(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(fwlog_parse(big, &r, &why), -EINVAL);
	assert_string_equal(why, "query longer than 512 bytes");
	/* every prefix of a valid query: a clean answer, never a crash */
	const char *q = "mac=52:54:00:5b:00:01&step=kernel&err=0x2d0c613c&msg=x";
	for (size_t n = 0; n < strlen(q); n++) {
		char p[128];
		memcpy(p, q, n);
		p[n] = '\0';
		int rc = fwlog_parse(p, &r, &why);
		assert_true(rc == 0 || rc == -EINVAL);
	}
}

static void test_describe(void **state)
{
	(void)state;
	struct fwlog_report r;
	const char *why;
	char line[200];

	assert_int_equal(fwlog_parse("mac=52:54:00:5b:00:01&step=kernel&err=0x2d0c613c", &r, &why),
			 0);
	fwlog_describe(&r, line, sizeof(line));
	assert_string_equal(
		line,
		"kernel: No such file or directory (0x2d0c613c) https://ipxe.org/err/2d0c613c");
	assert_int_equal(
		fwlog_parse("mac=52:54:00:5b:00:01&step=chain&err=0x7f000001&msg=hi", &r, &why), 0);
	fwlog_describe(&r, line, sizeof(line));
	assert_string_equal(line, "chain: Error 0x7f000001 https://ipxe.org/err/7f000001 - hi");
	assert_int_equal(fwlog_parse("mac=52:54:00:5b:00:01&step=boot&msg=no+kernel", &r, &why), 0);
	fwlog_describe(&r, line, sizeof(line));
	assert_string_equal(line, "boot failed - no kernel");
	assert_int_equal(fwlog_parse("mac=52:54:00:5b:00:01&step=boot&err=0", &r, &why), 0);
	fwlog_describe(&r, line, sizeof(line));
	assert_string_equal(line, "boot failed");
	/* 0x0000002a: small numbers print with 8 digits, as ipxe.org/err/ wants */
	assert_int_equal(fwlog_parse("mac=52:54:00:5b:00:01&step=s&err=42", &r, &why), 0);
	fwlog_describe(&r, line, sizeof(line));
	assert_string_equal(
		line,
		"s: Operation completed successfully (0x0000002a) https://ipxe.org/err/0000002a");
	/* cut at cap, NUL-terminated */
	assert_int_equal(fwlog_parse("mac=52:54:00:5b:00:01&step=kernel&err=0x2d0c613c", &r, &why),
			 0);
	assert_true(fwlog_describe(&r, line, 10) > 10);
	assert_string_equal(line, "kernel: N");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errno_parse),
		cmocka_unit_test(test_errno_text),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_describe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
