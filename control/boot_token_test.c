/* SPDX-License-Identifier: BSD-3-Clause */
/* boot_token_test.c - boot tokens: make/check, every refusal, rotation, the key file. */
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
#include <errno.h>

#include "boot_token_keys.h"

static const uint8_t MAC[6] = {0x02, 0x77, 0, 0, 0, 1};
#define IP  0xc6120032u /* 198.18.0.50 */
#define IP2 0xc6120033u

static char *tmp_path(void)
{
	static char dir[64], path[96];
	snprintf(dir, sizeof(dir), "/tmp/sb-token-test.XXXXXX");
	if (!mkdtemp(dir))
		fail();
	snprintf(path, sizeof(path), "%s/token.keys", dir);
	return path;
}

static void test_roundtrip_and_refusals(void **state)
{
	struct boot_token_keys k;
	char err[200], tok[BOOT_TOKEN_MAX], bad[BOOT_TOKEN_MAX];
	char *path = tmp_path();
	struct stat st;

	(void)state;
	assert_int_equal(boot_token_keys_load(&k, path, err, sizeof(err)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	boot_token_make(&k, MAC, IP, "linux/vmlinuz", 1000, tok);
	assert_int_equal(boot_token_check(&k, tok, IP, "linux/vmlinuz", 999), BOOT_TOKEN_OK);
	assert_int_equal(boot_token_check(&k, tok, IP, "linux/vmlinuz", 1000), BOOT_TOKEN_OK);
	assert_int_equal(boot_token_check(&k, tok, IP, "linux/vmlinuz", 1001), BOOT_TOKEN_EXPIRED);
	assert_int_equal(boot_token_check(&k, tok, IP2, "linux/vmlinuz", 999), BOOT_TOKEN_BAD);
	assert_int_equal(boot_token_check(&k, tok, IP, "linux/initrd", 999), BOOT_TOKEN_BAD);
	/* every single-character change is refused; every prefix is malformed or bad */
	for (size_t i = 0; i < strlen(tok); i++) {
		strcpy(bad, tok);
		bad[i] = bad[i] == '1' ? '2' : '1';
		assert_int_not_equal(boot_token_check(&k, bad, IP, "linux/vmlinuz", 999),
				     BOOT_TOKEN_OK);
		strcpy(bad, tok);
		bad[i] = '\0';
		assert_int_not_equal(boot_token_check(&k, bad, IP, "linux/vmlinuz", 999),
				     BOOT_TOKEN_OK);
	}
	assert_int_equal(boot_token_check(&k, "", IP, "x", 0), BOOT_TOKEN_MALFORMED);
	/* the same keys come back from the file */
	struct boot_token_keys k2;
	assert_int_equal(boot_token_keys_load(&k2, path, err, sizeof(err)), 0);
	assert_int_equal(boot_token_check(&k2, tok, IP, "linux/vmlinuz", 999), BOOT_TOKEN_OK);
	/* one rotation keeps the token, a second voids it */
	assert_int_equal(boot_token_keys_rotate(&k2, path, err, sizeof(err)), 0);
	assert_int_equal(boot_token_check(&k2, tok, IP, "linux/vmlinuz", 999), BOOT_TOKEN_OK);
	assert_int_equal(boot_token_keys_load(&k, path, err, sizeof(err)), 0);
	assert_int_equal(k.cur_id, 2);
	assert_int_equal(k.prev_id, 1);
	assert_int_equal(boot_token_check(&k, tok, IP, "linux/vmlinuz", 999), BOOT_TOKEN_OK);
	assert_int_equal(boot_token_keys_rotate(&k, path, err, sizeof(err)), 0);
	assert_int_equal(boot_token_check(&k, tok, IP, "linux/vmlinuz", 999),
			 BOOT_TOKEN_UNKNOWN_KEY);
	/* parse gives the MAC back */
	uint8_t mac[6];
	uint32_t kid;
	uint64_t exp;
	assert_int_equal(boot_token_parse(tok, mac, &kid, &exp), 0);
	assert_memory_equal(mac, MAC, 6);
	assert_int_equal(kid, 1);
	assert_int_equal(exp, 1000);
	assert_string_equal(boot_token_verdict_name(BOOT_TOKEN_FOREIGN), "foreign");
	unlink(path);
}

static void test_bad_key_file(void **state)
{
	struct boot_token_keys k;
	char err[200], *path = tmp_path();
	FILE *f = fopen(path, "w");

	(void)state;
	fputs("1 nothex\n", f);
	fclose(f);
	assert_int_equal(boot_token_keys_load(&k, path, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "line 1"));
	unlink(path);
}

/* The log form of a token: MAC.KEYID.EXPIRY kept, the signature replaced by 8 hex digits of
 * its SHA-256 (printf %s SIG | sha256sum), in every query of the text, whatever the cut. */
static void test_redact(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{"GET /ipxe.efi?t=027700000000.1.1000.0123456789abcdef0123456789abcdef HTTP/1.1",
		 "GET /ipxe.efi?t=027700000000.1.1000.redacted-3eb1bd43 HTTP/1.1"},
		{"/linux/vmlinuz?a=1&t=027700000000.1.1000.0123456789abcdef0123456789abcdef&b=2",
		 "/linux/vmlinuz?a=1&t=027700000000.1.1000.redacted-3eb1bd43&b=2"},
		{"/x?%74=027700000000.1.1000.0123456789abcdef0123456789abcdef",
		 "/x?%74=027700000000.1.1000.redacted-3eb1bd43"},
		{"/x?t=nonsense", "/x?t=redacted-999aaa86"},
		{"/x?t=a.nonsense;t=c.abc", "/x?t=a.redacted-999aaa86;t=c.redacted-ba7816bf"},
		{"/x?t=", "/x?t="},
		{"/x?t", "/x?t"},
		{"/x?at=abc&ta=abc&T=abc", "/x?at=abc&ta=abc&T=abc"},
		{"/t=abc/y", "/t=abc/y"},
		{"no query at all", "no query at all"},
		{"http://h/a?t=1.abc ok http://h/b?t=2.abc ok t=abc",
		 "http://h/a?t=1.redacted-ba7816bf ok http://h/b?t=2.redacted-ba7816bf ok t=abc"},
		{"/x?t=x.abc&t=y.", "/x?t=x.redacted-ba7816bf&t=y.redacted-e3b0c442"},
	};
	char out[200], cut[200];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		boot_token_redact(cases[i].in, out, sizeof(out));
		assert_string_equal(out, cases[i].out);
		/* cut to any size: a prefix of the redacted text, never a byte of the secret */
		for (size_t cap = 1; cap <= strlen(cases[i].out) + 1; cap++) {
			memset(cut, 'X', sizeof(cut));
			boot_token_redact(cases[i].in, cut, cap);
			assert_int_equal(strlen(cut), cap - 1);
			assert_memory_equal(cut, cases[i].out, cap - 1);
		}
	}
	boot_token_redact("x", out, 0); /* nothing written, no crash */
}

/* A real token in a URL: the signature is nowhere in the log form; the same token gives the
 * same log form, another token another one. */
static void test_redact_real_token(void **state)
{
	struct boot_token_keys k;
	char err[200], tok[BOOT_TOKEN_MAX], tok2[BOOT_TOKEN_MAX], url[160], a[160], b[160];

	(void)state;
	assert_int_equal(boot_token_keys_load(&k, tmp_path(), err, sizeof(err)), 0);
	boot_token_make(&k, MAC, IP, "vmlinuz", 1000, tok);
	boot_token_make(&k, MAC, IP, "vmlinuz", 1001, tok2);
	snprintf(url, sizeof(url), "GET /vmlinuz?t=%s HTTP/1.1", tok);
	boot_token_redact(url, a, sizeof(a));
	assert_null(strstr(a, strrchr(tok, '.') + 1));
	assert_non_null(strstr(a, "?t=027700000001.1.1000.redacted-"));
	boot_token_redact(url, b, sizeof(b));
	assert_string_equal(a, b);
	snprintf(url, sizeof(url), "GET /vmlinuz?t=%s HTTP/1.1", tok2);
	boot_token_redact(url, b, sizeof(b));
	assert_string_not_equal(strrchr(a, '-'), strrchr(b, '-'));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_and_refusals),
		cmocka_unit_test(test_bad_key_file),
		cmocka_unit_test(test_redact),
		cmocka_unit_test(test_redact_real_token),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
