/* SPDX-License-Identifier: BSD-3-Clause */
/* boot_token.c - per-client boot tokens (see boot_token.h). */
#include "boot_token.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

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

void boot_token_hex(const uint8_t *b, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = d[b[i] >> 4];
		out[2 * i + 1] = d[b[i] & 15];
	}
	out[2 * n] = '\0';
}

int boot_token_unhex(const char *s, size_t n, uint8_t *out)
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

static void sign(const uint8_t key[BOOT_TOKEN_KEY_LEN], const uint8_t mac[6], uint32_t ip,
		 const char *image, uint64_t expiry, uint8_t out[SIG_BYTES])
{
	char msg[600];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdl = 0;
	int n = snprintf(msg, sizeof(msg),
			 "sbtok1|%02x:%02x:%02x:%02x:%02x:%02x|%u.%u.%u.%u|%s|%" PRIu64, mac[0],
			 mac[1], mac[2], mac[3], mac[4], mac[5], ip >> 24, (ip >> 16) & 255,
			 (ip >> 8) & 255, ip & 255, image, expiry);

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
	boot_token_hex(mac, 6, m);
	boot_token_hex(sig, SIG_BYTES, s);
	snprintf(out, BOOT_TOKEN_MAX, "%s.%" PRIu32 ".%" PRIu64 ".%s", m, k->cur_id, expiry, s);
}

static int parse_all(const char *tok, uint8_t mac[6], uint32_t *key_id, uint64_t *expiry,
		     uint8_t sig[SIG_BYTES])
{
	const char *p = tok;
	char *e;

	if (strlen(tok) >= BOOT_TOKEN_MAX || strlen(tok) < 12 + 1 + 1 + 1 + 1 + 1 + 2 * SIG_BYTES)
		return -EINVAL;
	if (boot_token_unhex(p, 6, mac) < 0 || p[12] != '.')
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
	if (strlen(p) != 2 * SIG_BYTES || boot_token_unhex(p, SIG_BYTES, sig) < 0)
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

/* ---- redaction for logs ---- */

struct redact_out {
	char *p;
	size_t cap, n;
};

static void put(struct redact_out *o, const char *s, size_t n)
{
	for (size_t i = 0; i < n && o->n + 1 < o->cap; i++)
		o->p[o->n++] = s[i];
}

static bool query_end(char c)
{
	return c == '\0' || c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Is the parameter name s[0..n) "t", as sent or percent-encoded? */
static bool name_is_t(const char *s, size_t n)
{
	return (n == 1 && s[0] == 't') || (n == 3 && s[0] == '%' && s[1] == '7' && s[2] == '4');
}

void boot_token_redact(const char *s, char *out, size_t cap)
{
	struct redact_out o = {out, cap, 0};
	bool in_query = false;
	size_t i = 0;

	if (cap == 0)
		return;
	while (s[i]) {
		if (!in_query) {
			in_query = s[i] == '?';
			put(&o, &s[i++], 1);
			continue;
		}
		if (query_end(s[i])) {
			in_query = false;
			put(&o, &s[i++], 1);
			continue;
		}
		/* one parameter: NAME[=VALUE], up to '&', ';' or the query's end */
		size_t a = i, eq = 0, e;
		for (e = i; !query_end(s[e]) && s[e] != '&' && s[e] != ';'; e++)
			if (!eq && s[e] == '=')
				eq = e;
		if (eq && name_is_t(&s[a], eq - a) && e > eq + 1) {
			size_t v = eq + 1, sig = v;
			unsigned char md[SHA256_DIGEST_LENGTH];
			char hex[2 * SHA256_DIGEST_LENGTH + 1];

			for (size_t k = v; k < e; k++)
				if (s[k] == '.')
					sig = k + 1;
			put(&o, &s[a], sig - a);
			SHA256((const unsigned char *)&s[sig], e - sig, md);
			boot_token_hex(md, 4, hex);
			put(&o, BOOT_TOKEN_REDACTED, strlen(BOOT_TOKEN_REDACTED));
			put(&o, hex, 8);
		} else {
			put(&o, &s[a], e - a);
		}
		i = e;
		if (s[i] == '&' || s[i] == ';')
			put(&o, &s[i++], 1);
	}
	out[o.n] = '\0';
}
