/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * boot_token.h - per-client boot tokens (docs/SECURITY.md): an HMAC-SHA256 (OpenSSL) over the
 * client's MAC, the IPv4 address its lease gave it, the image name and an expiry, under a key
 * that control keeps in STATE_DIR/token.keys (control/boot_token_keys.h). Two keys are
 * accepted, the current and the previous one, so a rotation does not void tokens in flight; a
 * second rotation does. Pure (no I/O, no clock): control mints tokens for templates and checks
 * them in HTTP; the dataplane, which holds a copy of the keys pushed over the control channel
 * (CHAN_MSG_TOKEN_KEYS), mints them for the DHCP boot-file URL of UEFI HTTP boot clients.
 *
 * A token is one URL-safe word: MAC12HEX.KEYID.EXPIRY.SIG32HEX (the MAC in 12 hex digits,
 * the key's number, the expiry in Unix seconds, the first 128 bits of the HMAC), carried as
 * ?t=TOKEN. The text that is signed: "sbtok1|MAC|IP|IMAGE|EXPIRY".
 */
#ifndef SB_BOOT_TOKEN_H
#define SB_BOOT_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BOOT_TOKEN_KEY_LEN 32
#define BOOT_TOKEN_MAX	   64 /* bytes of a token, with its NUL */

struct boot_token_keys {
	uint32_t cur_id;
	uint8_t cur[BOOT_TOKEN_KEY_LEN];
	uint32_t prev_id; /* 0 = none */
	uint8_t prev[BOOT_TOKEN_KEY_LEN];
};

/* Why a token was refused; X(id, counter name). */
#define BOOT_TOKEN_REFUSALS(X)                                                                     \
	X(MISSING, "missing")	      /* a protected image asked for without ?t= */                \
	X(MALFORMED, "malformed")     /* not MAC.KEYID.EXPIRY.SIG */                               \
	X(UNKNOWN_KEY, "unknown_key") /* signed with a key rotated out (or never ours) */          \
	X(EXPIRED, "expired")	      /* past its expiry */                                        \
	X(FOREIGN, "foreign")	      /* valid for that MAC's address, used from another */        \
	X(BAD, "bad")		      /* the signature does not match: forged or altered */        \
	X(NO_LEASE, "no_lease")	      /* the requester's address is not leased to that MAC */

enum boot_token_verdict {
	BOOT_TOKEN_OK = 0,
#define BOOT_TOKEN_ENUM(id, name) BOOT_TOKEN_##id,
	BOOT_TOKEN_REFUSALS(BOOT_TOKEN_ENUM)
#undef BOOT_TOKEN_ENUM
		BOOT_TOKEN__COUNT
};

/* The counter name of verdict v ("foreign"), "ok" for BOOT_TOKEN_OK. */
const char *boot_token_verdict_name(enum boot_token_verdict v);

/* b[0..n) as 2n lowercase hex digits and a NUL, into out. */
void boot_token_hex(const uint8_t *b, size_t n, char *out);

/* 2n lowercase hex digits of s into out[0..n). 0, or -EINVAL on another character. */
int boot_token_unhex(const char *s, size_t n, uint8_t *out);

/* The token for (mac, ip, image, expiry) under the current key, into out[BOOT_TOKEN_MAX]. */
void boot_token_make(const struct boot_token_keys *k, const uint8_t mac[6], uint32_t ip,
		     const char *image, uint64_t expiry, char out[BOOT_TOKEN_MAX]);

/* The parts of a token. 0, or -EINVAL for a malformed one. */
int boot_token_parse(const char *tok, uint8_t mac[6], uint32_t *key_id, uint64_t *expiry);

/*
 * Does tok sign (its MAC, ip, image, its expiry) with a key we accept, and is it not expired
 * at now? BOOT_TOKEN_OK, or MALFORMED, UNKNOWN_KEY, EXPIRED, BAD (the signature is not for
 * this ip, image: the caller tells FOREIGN from BAD by trying the MAC's own address).
 */
enum boot_token_verdict boot_token_check(const struct boot_token_keys *k, const char *tok,
					 uint32_t ip, const char *image, uint64_t now);

#define BOOT_TOKEN_REDACTED "redacted-" /* then 8 hex digits */

/*
 * Text for a log or a timeline (s: a URI, a URL, a firmware's line) into out[cap], cut to fit
 * and always NUL-terminated, with the secret of every boot token in it hidden: a token is a
 * bearer secret until it expires. In each query (from a '?' to a blank), the value of a
 * parameter named "t" (or "%74") keeps what stands before its last '.' (MAC.KEYID.EXPIRY,
 * not secret) and its rest (the signature) becomes "redacted-" and the first 8 hex digits of
 * the rest's SHA-256: two lines that carry the same token show the same digits, and none of
 * the signature's characters is shown. A cut never shows more than the redacted text.
 */
void boot_token_redact(const char *s, char *out, size_t cap);

#endif
