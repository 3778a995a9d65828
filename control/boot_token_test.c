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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_and_refusals),
		cmocka_unit_test(test_bad_key_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
