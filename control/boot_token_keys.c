/* SPDX-License-Identifier: BSD-3-Clause */
/* boot_token_keys.c - the boot token keys in STATE_DIR/token.keys (see boot_token_keys.h). */
#include "boot_token_keys.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "running_config.h"

static int keys_write(const struct boot_token_keys *k, const char *path, char *err, size_t errlen)
{
	char text[2 * (16 + 2 * BOOT_TOKEN_KEY_LEN + 2)], h[2 * BOOT_TOKEN_KEY_LEN + 1];
	size_t o;

	boot_token_hex(k->cur, BOOT_TOKEN_KEY_LEN, h);
	o = (size_t)snprintf(text, sizeof(text), "%" PRIu32 " %s\n", k->cur_id, h);
	if (k->prev_id) {
		boot_token_hex(k->prev, BOOT_TOKEN_KEY_LEN, h);
		o += (size_t)snprintf(text + o, sizeof(text) - o, "%" PRIu32 " %s\n", k->prev_id,
				      h);
	}
	OPENSSL_cleanse(h, sizeof(h));
	mode_t old = umask(077); /* the keys are secrets: 0600 */
	int rc = running_config_write_atomic(path, text, o, err, errlen);
	umask(old);
	OPENSSL_cleanse(text, sizeof(text));
	return rc;
}

int boot_token_keys_load(struct boot_token_keys *k, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	char line[200];
	int n = 0;

	memset(k, 0, sizeof(*k));
	if (!f) {
		if (errno != ENOENT) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			return -errno;
		}
		k->cur_id = 1;
		if (RAND_bytes(k->cur, BOOT_TOKEN_KEY_LEN) != 1) {
			snprintf(err, errlen, "token key: no random bytes from OpenSSL");
			return -EIO;
		}
		return keys_write(k, path, err, errlen);
	}
	while (n < 2 && fgets(line, sizeof(line), f)) {
		unsigned long id;
		char h[2 * BOOT_TOKEN_KEY_LEN + 3]; /* 64 hex, one more to see a longer one, NUL */
		if (sscanf(line, "%lu %65s", &id, h) != 2 || id == 0 || id > UINT32_MAX ||
		    strlen(h) != 2 * BOOT_TOKEN_KEY_LEN ||
		    boot_token_unhex(h, BOOT_TOKEN_KEY_LEN, n ? k->prev : k->cur) < 0) {
			fclose(f);
			OPENSSL_cleanse(line, sizeof(line));
			snprintf(err, errlen, "%s: line %d is not \"ID HEX64\"", path, n + 1);
			return -EINVAL;
		}
		*(n ? &k->prev_id : &k->cur_id) = (uint32_t)id;
		n++;
	}
	OPENSSL_cleanse(line, sizeof(line));
	fclose(f);
	if (!n) {
		snprintf(err, errlen, "%s: no key", path);
		return -EINVAL;
	}
	return 0;
}

int boot_token_keys_rotate(struct boot_token_keys *k, const char *path, char *err, size_t errlen)
{
	struct boot_token_keys n = {.cur_id = k->cur_id + 1, .prev_id = k->cur_id};
	int rc;

	memcpy(n.prev, k->cur, BOOT_TOKEN_KEY_LEN);
	if (RAND_bytes(n.cur, BOOT_TOKEN_KEY_LEN) != 1) {
		snprintf(err, errlen, "token key: no random bytes from OpenSSL");
		return -EIO;
	}
	if ((rc = keys_write(&n, path, err, errlen)) == 0)
		*k = n;
	OPENSSL_cleanse(&n, sizeof(n));
	return rc;
}
