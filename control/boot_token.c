/* SPDX-License-Identifier: BSD-3-Clause */
/* boot_token.c - per-client boot tokens (see boot_token.h). */
#include "boot_token.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "running_config.h"

#define SIG_BYTES 16

const char *boot_token_verdict_name(enum boot_token_verdict v)
{
	static const char *const names[] = {"ok",
#define BOOT_TOKEN_NAME(id, name) name,
					    BOOT_TOKEN_REFUSALS(BOOT_TOKEN_NAME)
#undef BOOT_TOKEN_NAME
	};
	return (unsigned)v < BOOT_TOKEN__COUNT ? names[v] : "?";
}

static void hex(const uint8_t *b, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = d[b[i] >> 4];
		out[2 * i + 1] = d[b[i] & 15];
	}
	out[2 * n] = '\0';
}

static int unhex(const char *s, size_t n, uint8_t *out)
{
	for (size_t i = 0; i < n; i++) {
		int v = 0;
		for (int k = 0; k < 2; k++) {
			char c = s[2 * i + k];
			int x = c >= '0' && c <= '9'   ? c - '0'
				: c >= 'a' && c <= 'f' ? c - 'a' + 10
						       : -1;
			if (x < 0)
				return -EINVAL;
			v = v * 16 + x;
		}
		out[i] = (uint8_t)v;
	}
	return 0;
}

static int keys_write(const struct boot_token_keys *k, const char *path, char *err, size_t errlen)
{
	char text[2 * (16 + 2 * BOOT_TOKEN_KEY_LEN + 2)], h[2 * BOOT_TOKEN_KEY_LEN + 1];
	size_t o;

	hex(k->cur, BOOT_TOKEN_KEY_LEN, h);
	o = (size_t)snprintf(text, sizeof(text), "%" PRIu32 " %s\n", k->cur_id, h);
	if (k->prev_id) {
		hex(k->prev, BOOT_TOKEN_KEY_LEN, h);
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
		    unhex(h, BOOT_TOKEN_KEY_LEN, n ? k->prev : k->cur) < 0) {
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

static void sign(const uint8_t key[BOOT_TOKEN_KEY_LEN], const uint8_t mac[6], uint32_t ip,
		 const char *image, uint64_t expiry, uint8_t out[SIG_BYTES])
{
	char msg[600], m[18], a[16];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdl = 0;
	int n = snprintf(msg, sizeof(msg), "sbtok1|%s|%s|%s|%" PRIu64,
			 running_config_fmt_mac(mac, m), running_config_fmt_ip(ip, a), image,
			 expiry);

	if (n < 0 || (size_t)n >= sizeof(msg))
		n = (int)sizeof(msg) - 1;
	if (!HMAC(EVP_sha256(), key, BOOT_TOKEN_KEY_LEN, (const unsigned char *)msg, (size_t)n, md,
		  &mdl) ||
	    mdl < SIG_BYTES)
		memset(md, 0, sizeof(md)); /* cannot happen; never matches a real token */
	memcpy(out, md, SIG_BYTES);
}

void boot_token_make(const struct boot_token_keys *k, const uint8_t mac[6], uint32_t ip,
		     const char *image, uint64_t expiry, char out[BOOT_TOKEN_MAX])
{
	uint8_t sig[SIG_BYTES];
	char m[13], s[2 * SIG_BYTES + 1];

	sign(k->cur, mac, ip, image, expiry, sig);
	hex(mac, 6, m);
	hex(sig, SIG_BYTES, s);
	snprintf(out, BOOT_TOKEN_MAX, "%s.%" PRIu32 ".%" PRIu64 ".%s", m, k->cur_id, expiry, s);
}

static int parse_all(const char *tok, uint8_t mac[6], uint32_t *key_id, uint64_t *expiry,
		     uint8_t sig[SIG_BYTES])
{
	const char *p = tok;
	char *e;

	if (strlen(tok) >= BOOT_TOKEN_MAX || strlen(tok) < 12 + 1 + 1 + 1 + 1 + 1 + 2 * SIG_BYTES)
		return -EINVAL;
	if (unhex(p, 6, mac) < 0 || p[12] != '.')
		return -EINVAL;
	p += 13;
	if (*p < '1' || *p > '9')
		return -EINVAL;
	unsigned long long id = strtoull(p, &e, 10);
	if (*e != '.' || id > UINT32_MAX)
		return -EINVAL;
	p = e + 1;
	if (*p < '0' || *p > '9')
		return -EINVAL;
	unsigned long long x = strtoull(p, &e, 10);
	if (*e != '.')
		return -EINVAL;
	p = e + 1;
	if (strlen(p) != 2 * SIG_BYTES || unhex(p, SIG_BYTES, sig) < 0)
		return -EINVAL;
	*key_id = (uint32_t)id;
	*expiry = x;
	return 0;
}

int boot_token_parse(const char *tok, uint8_t mac[6], uint32_t *key_id, uint64_t *expiry)
{
	uint8_t sig[SIG_BYTES];
	return parse_all(tok, mac, key_id, expiry, sig);
}

enum boot_token_verdict boot_token_check(const struct boot_token_keys *k, const char *tok,
					 uint32_t ip, const char *image, uint64_t now)
{
	uint8_t mac[6], sig[SIG_BYTES], want[SIG_BYTES];
	uint32_t id;
	uint64_t exp;
	const uint8_t *key;

	if (parse_all(tok, mac, &id, &exp, sig) < 0)
		return BOOT_TOKEN_MALFORMED;
	if (id == k->cur_id)
		key = k->cur;
	else if (k->prev_id && id == k->prev_id)
		key = k->prev;
	else
		return BOOT_TOKEN_UNKNOWN_KEY;
	sign(key, mac, ip, image, exp, want);
	if (CRYPTO_memcmp(want, sig, SIG_BYTES) != 0)
		return BOOT_TOKEN_BAD;
	if (exp < now)
		return BOOT_TOKEN_EXPIRED;
	return BOOT_TOKEN_OK;
}
