/* SPDX-License-Identifier: BSD-3-Clause */
/* tftp_test.c - TFTP wire: RRQ parse, options, negotiation, OACK/ERROR/DATA build, netascii. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

/* Table rows name only the fields they test; the rest are zero on purpose. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include "fixtures.h"
#include "sb_drop.h"
#include "tftp.h"

/* A packet literal with embedded NULs: P("\0\1" "file\0" "octet\0"). */
#define P(lit) (const uint8_t *)(lit), sizeof(lit) - 1

#define OPT_ALL (TFTP_OPT_BLKSIZE | TFTP_OPT_TSIZE | TFTP_OPT_TIMEOUT | TFTP_OPT_WINDOWSIZE)

struct rrq_case {
	const char *what;
	const uint8_t *pkt;
	size_t len;
	int rc;
	const char *filename;
	enum tftp_mode mode;
	unsigned opts;
	uint16_t blksize;
	uint8_t timeout_s;
	uint16_t windowsize;
	uint64_t tsize;
	unsigned n_ignored;
};

static const struct rrq_case rrq_cases[] = {
	{"plain octet", P("\0\1pxelinux.0\0octet\0"), 0, "pxelinux.0", TFTP_MODE_OCTET},
	{"netascii upper", P("\0\1a.txt\0NETASCII\0"), 0, "a.txt", TFTP_MODE_NETASCII},
	{"octet mixed case", P("\0\1x\0OcTeT\0"), 0, "x", TFTP_MODE_OCTET},
	{"empty filename parses (catalog refuses)", P("\0\1\0octet\0"), 0, "", TFTP_MODE_OCTET},
	{"all options",
	 P("\0\1ipxe.efi\0octet\0blksize\0001468\0tsize\0000\0timeout\0005\0windowsize\0008\0"), 0,
	 "ipxe.efi", TFTP_MODE_OCTET, OPT_ALL, 1468, 5, 8, 0},
	{"option names case-insensitive",
	 P("\0\1f\0octet\0BLKSIZE\0001024\0TSize\0000\0TimeOut\0003\0WindowSize\0004\0"), 0, "f",
	 TFTP_MODE_OCTET, OPT_ALL, 1024, 3, 4, 0},
	{"blksize min 8", P("\0\1f\0octet\0blksize\0008\0"), 0, "f", TFTP_MODE_OCTET,
	 TFTP_OPT_BLKSIZE, 8},
	{"blksize max 65464", P("\0\1f\0octet\0blksize\00065464\0"), 0, "f", TFTP_MODE_OCTET,
	 TFTP_OPT_BLKSIZE, 65464},
	{"blksize 7 ignored", P("\0\1f\0octet\0blksize\0007\0"), 0, "f", TFTP_MODE_OCTET, 0,
	 .n_ignored = 1},
	{"blksize 65465 ignored", P("\0\1f\0octet\0blksize\00065465\0"), 0, "f", TFTP_MODE_OCTET, 0,
	 .n_ignored = 1},
	{"blksize huge saturates, ignored", P("\0\1f\0octet\0blksize\0009999999999999999999999\0"),
	 0, "f", TFTP_MODE_OCTET, 0, .n_ignored = 1},
	{"blksize not a number", P("\0\1f\0octet\0blksize\0abc\0"), 0, "f", TFTP_MODE_OCTET, 0,
	 .n_ignored = 1},
	{"blksize signed", P("\0\1f\0octet\0blksize\0+512\0"), 0, "f", TFTP_MODE_OCTET, 0,
	 .n_ignored = 1},
	{"blksize empty value", P("\0\1f\0octet\0blksize\0\0"), 0, "f", TFTP_MODE_OCTET, 0,
	 .n_ignored = 1},
	{"blksize repeated: first wins", P("\0\1f\0octet\0blksize\0001000\0blksize\0002000\0"), 0,
	 "f", TFTP_MODE_OCTET, TFTP_OPT_BLKSIZE, 1000, .n_ignored = 1},
	{"timeout 0 ignored", P("\0\1f\0octet\0timeout\0000\0"), 0, "f", TFTP_MODE_OCTET, 0,
	 .n_ignored = 1},
	{"timeout 256 ignored", P("\0\1f\0octet\0timeout\000256\0"), 0, "f", TFTP_MODE_OCTET, 0,
	 .n_ignored = 1},
	{"timeout 1", P("\0\1f\0octet\0timeout\0001\0"), 0, "f", TFTP_MODE_OCTET, TFTP_OPT_TIMEOUT,
	 .timeout_s = 1},
	{"timeout 255", P("\0\1f\0octet\0timeout\000255\0"), 0, "f", TFTP_MODE_OCTET,
	 TFTP_OPT_TIMEOUT, .timeout_s = 255},
	{"windowsize 0 ignored", P("\0\1f\0octet\0windowsize\0000\0"), 0, "f", TFTP_MODE_OCTET, 0,
	 .n_ignored = 1},
	{"windowsize 65536 ignored", P("\0\1f\0octet\0windowsize\00065536\0"), 0, "f",
	 TFTP_MODE_OCTET, 0, .n_ignored = 1},
	{"windowsize 65535", P("\0\1f\0octet\0windowsize\00065535\0"), 0, "f", TFTP_MODE_OCTET,
	 TFTP_OPT_WINDOWSIZE, .windowsize = 65535},
	{"tsize non-zero kept", P("\0\1f\0octet\0tsize\000123\0"), 0, "f", TFTP_MODE_OCTET,
	 TFTP_OPT_TSIZE, .tsize = 123},
	{"tsize not a number", P("\0\1f\0octet\0tsize\0x\0"), 0, "f", TFTP_MODE_OCTET, 0,
	 .n_ignored = 1},
	{"unknown options ignored, multicast recognised (RFC 2090)",
	 P("\0\1f\0octet\0multicast\0\0blksize\0001432\0rollover\0000\0"), 0, "f", TFTP_MODE_OCTET,
	 TFTP_OPT_BLKSIZE | TFTP_OPT_MULTICAST, 1432, .n_ignored = 1},
	{"multicast with a value, repeated", P("\0\1f\0octet\0MultiCast\0x\0multicast\0\0"), 0, "f",
	 TFTP_MODE_OCTET, TFTP_OPT_MULTICAST, .n_ignored = 1},
	{"trailing NUL padding", P("\0\1f\0octet\0tsize\0000\0\0\0\0"), 0, "f", TFTP_MODE_OCTET,
	 TFTP_OPT_TSIZE},
	{"mail mode", P("\0\1f\0mail\0"), -SB_DROP_TFTP_BAD_MODE},
	{"binary mode (not RFC 1350)", P("\0\1f\0binary\0"), -SB_DROP_TFTP_BAD_MODE},
	{"empty mode", P("\0\1f\0\0"), -SB_DROP_TFTP_BAD_MODE},
	{"filename without NUL", P("\0\1pxelinux.0"), -SB_DROP_TFTP_NO_NUL},
	{"mode without NUL", P("\0\1f\0octet"), -SB_DROP_TFTP_NO_NUL},
	{"no mode at all", P("\0\1f\0"), -SB_DROP_TFTP_NO_NUL},
	{"option name without value", P("\0\1f\0octet\0blksize\0"), -SB_DROP_TFTP_OPTION_NO_VALUE},
	{"option name unterminated", P("\0\1f\0octet\0blksize"), -SB_DROP_TFTP_NO_NUL},
	{"option value unterminated", P("\0\1f\0octet\0blksize\0001468"), -SB_DROP_TFTP_NO_NUL},
	{"garbage after options", P("\0\1f\0octet\0tsize\0000\0\0x"), -SB_DROP_TFTP_NO_NUL},
	{"WRQ", P("\0\2f\0octet\0"), -SB_DROP_TFTP_WRQ},
	{"DATA to port 69", P("\0\3\0\1abc"), -SB_DROP_TFTP_UNEXPECTED_OPCODE},
	{"ACK to port 69", P("\0\4\0\1"), -SB_DROP_TFTP_UNEXPECTED_OPCODE},
	{"OACK to port 69", P("\0\6blksize\000512\0"), -SB_DROP_TFTP_UNEXPECTED_OPCODE},
	{"ERROR to port 69", P("\0\5\0\0oops\0"), -SB_DROP_TFTP_ERROR_RECEIVED},
	{"opcode 0", P("\0\0f\0octet\0"), -SB_DROP_TFTP_BAD_OPCODE},
	{"opcode 7", P("\0\7f\0octet\0"), -SB_DROP_TFTP_BAD_OPCODE},
	{"opcode 0x0101", P("\1\1f\0octet\0"), -SB_DROP_TFTP_BAD_OPCODE},
	{"one byte", P("\0"), -SB_DROP_TFTP_SHORT},
	{"empty", P(""), -SB_DROP_TFTP_SHORT},
	{"opcode only", P("\0\1"), -SB_DROP_TFTP_NO_NUL},
};

static void test_rrq_table(void **state)
{
	for (size_t i = 0; i < sizeof(rrq_cases) / sizeof(rrq_cases[0]); i++) {
		const struct rrq_case *c = &rrq_cases[i];
		uint8_t *copy = malloc(c->len ? c->len : 1); /* exact size: ASan sees over-reads */
		struct tftp_rrq r;
		int rc;

		memcpy(copy, c->pkt, c->len);
		rc = tftp_parse_request(copy, c->len, &r);
		if (rc != c->rc)
			fail_msg("%s: rc %d (%s), want %d (%s)", c->what, rc, sb_drop_name(rc),
				 c->rc, sb_drop_name(c->rc));
		if (rc == 0) {
			if (r.filename_len != strlen(c->filename) ||
			    memcmp(r.filename, c->filename, r.filename_len) != 0)
				fail_msg("%s: filename '%.*s'", c->what, (int)r.filename_len,
					 r.filename);
			if (r.filename[r.filename_len] != '\0')
				fail_msg("%s: filename not NUL-terminated in place", c->what);
			assert_int_equal(r.mode, c->mode);
			if (r.opts != c->opts)
				fail_msg("%s: opts %#x want %#x", c->what, r.opts, c->opts);
			if (c->opts & TFTP_OPT_BLKSIZE)
				assert_int_equal(r.blksize, c->blksize);
			if (c->opts & TFTP_OPT_TIMEOUT)
				assert_int_equal(r.timeout_s, c->timeout_s);
			if (c->opts & TFTP_OPT_WINDOWSIZE)
				assert_int_equal(r.windowsize, c->windowsize);
			if (c->opts & TFTP_OPT_TSIZE)
				assert_int_equal(r.tsize, c->tsize);
			if (r.n_ignored != c->n_ignored)
				fail_msg("%s: %u ignored, want %u", c->what, r.n_ignored,
					 c->n_ignored);
		}
		free(copy);
	}
}

/*
 * A prefix of a valid RRQ is itself valid only when it ends exactly after the
 * mode or after an option value (it is then the same request with fewer
 * options); anything else must be refused with a clean error.
 */
struct prefix_arg {
	const uint8_t *full;
	size_t full_len;
	struct tftp_rrq full_rrq;
};

static int rrq_prefix_check(const uint8_t *buf, size_t len, void *argp)
{
	const struct prefix_arg *a = argp;
	struct tftp_rrq r;
	size_t nuls = 0;
	int rc = tftp_parse_request(buf, len, &r);

	for (size_t i = 2; i < len; i++)
		nuls += buf[i] == 0;
	bool boundary = len > 2 && buf[len - 1] == 0 && nuls >= 2 && nuls % 2 == 0;
	if (boundary) {
		if (rc != 0)
			fail_msg("prefix %zu (pair boundary) refused: %s", len, sb_drop_name(rc));
		assert_int_equal(r.filename_len, a->full_rrq.filename_len);
		assert_memory_equal(r.filename, a->full_rrq.filename, r.filename_len);
		assert_int_equal(r.mode, a->full_rrq.mode);
		/* fewer options: a subset of the full request's */
		assert_int_equal(r.opts & ~a->full_rrq.opts, 0);
	} else {
		if (rc >= 0)
			fail_msg("prefix %zu of %zu parsed as valid", len, a->full_len);
		if (rc != -SB_DROP_TFTP_SHORT && rc != -SB_DROP_TFTP_NO_NUL &&
		    rc != -SB_DROP_TFTP_OPTION_NO_VALUE)
			fail_msg("prefix %zu: unexpected reason %s", len, sb_drop_name(rc));
	}
	return rc;
}

/* Offset just after the mode's NUL: the shortest valid prefix. */
static size_t after_mode(const uint8_t *p, size_t len)
{
	size_t n = 0;

	for (size_t i = 2; i < len; i++)
		if (p[i] == 0 && ++n == 2)
			return i + 1;
	return len;
}

static void check_all_prefixes(const uint8_t *pkt, size_t len)
{
	struct prefix_arg a = {.full = pkt, .full_len = len};

	assert_int_equal(tftp_parse_request(pkt, len, &a.full_rrq), 0);
	size_t n = fixture_for_each_prefix(pkt, len, after_mode(pkt, len), rrq_prefix_check, &a);
	assert_int_equal(n, len);
}

static void test_rrq_truncated_prefixes(void **state)
{
	for (size_t i = 0; i < sizeof(rrq_cases) / sizeof(rrq_cases[0]); i++) {
		const struct rrq_case *c = &rrq_cases[i];

		/* padded requests are valid at more lengths than the boundary rule knows */
		if (c->rc != 0 || strcmp(c->what, "trailing NUL padding") == 0 ||
		    strstr(c->what, "empty value"))
			continue;
		check_all_prefixes(c->pkt, c->len);
	}
}

/* ---- negotiation (clamping) ---- */

struct nego_case {
	const char *what;
	const uint8_t *pkt;
	size_t len;
	struct sbcfg_tftp cfg;
	uint64_t size, na_size;
	struct tftp_params want;
};

#define CFG(bmax_, wmax_, mtu_, tmo_)                                                              \
	{                                                                                          \
		.blksize_max = bmax_, .windowsize_max = wmax_, .mtu = mtu_, .timeout_ms = tmo_,    \
		.retries = 5                                                                       \
	}

static const struct nego_case nego_cases[] = {
	{"no options: 512, lock-step, no OACK",
	 P("\0\1f\0octet\0"),
	 CFG(1468, 16, 1500, 700),
	 1000,
	 1000,
	 {TFTP_MODE_OCTET, 512, 1, 0, 700, 1000, 0}},
	{"blksize 1468 at MTU 1500",
	 P("\0\1f\0octet\0blksize\0001468\0"),
	 CFG(65464, 16, 1500, 1000),
	 10,
	 10,
	 {TFTP_MODE_OCTET, 1468, 1, 0, 1000, 10, TFTP_OPT_BLKSIZE}},
	{"blksize 65464 clamped to MTU 1500 - 32",
	 P("\0\1f\0octet\0blksize\00065464\0"),
	 CFG(65464, 16, 1500, 1000),
	 10,
	 10,
	 {TFTP_MODE_OCTET, 1468, 1, 0, 1000, 10, TFTP_OPT_BLKSIZE}},
	{"blksize 9000 at MTU 9000",
	 P("\0\1f\0octet\0blksize\0009000\0"),
	 CFG(65464, 16, 9000, 1000),
	 10,
	 10,
	 {TFTP_MODE_OCTET, 8968, 1, 0, 1000, 10, TFTP_OPT_BLKSIZE}},
	{"blksize clamped to cfg max",
	 P("\0\1f\0octet\0blksize\0001468\0"),
	 CFG(1024, 16, 1500, 1000),
	 10,
	 10,
	 {TFTP_MODE_OCTET, 1024, 1, 0, 1000, 10, TFTP_OPT_BLKSIZE}},
	{"blksize below max untouched",
	 P("\0\1f\0octet\0blksize\000512\0"),
	 CFG(1024, 16, 1500, 1000),
	 10,
	 10,
	 {TFTP_MODE_OCTET, 512, 1, 0, 1000, 10, TFTP_OPT_BLKSIZE}},
	{"no MTU, no max: client's value",
	 P("\0\1f\0octet\0blksize\00065464\0"),
	 CFG(0, 16, 0, 1000),
	 10,
	 10,
	 {TFTP_MODE_OCTET, 65464, 1, 0, 1000, 10, TFTP_OPT_BLKSIZE}},
	{"tiny MTU floors at 8",
	 P("\0\1f\0octet\0blksize\0001468\0"),
	 CFG(0, 16, 30, 1000),
	 10,
	 10,
	 {TFTP_MODE_OCTET, 8, 1, 0, 1000, 10, TFTP_OPT_BLKSIZE}},
	{"windowsize clamped to cfg",
	 P("\0\1f\0octet\0windowsize\00064\0"),
	 CFG(1468, 16, 1500, 1000),
	 10,
	 10,
	 {TFTP_MODE_OCTET, 512, 16, 0, 1000, 10, TFTP_OPT_WINDOWSIZE}},
	{"windowsize max 0 means lock-step",
	 P("\0\1f\0octet\0windowsize\0008\0"),
	 CFG(1468, 0, 1500, 1000),
	 10,
	 10,
	 {TFTP_MODE_OCTET, 512, 1, 0, 1000, 10, TFTP_OPT_WINDOWSIZE}},
	{"netascii windowsize clamped to ring",
	 P("\0\1f\0netascii\0windowsize\000100\0"),
	 CFG(1468, 1000, 1500, 1000),
	 10,
	 12,
	 {TFTP_MODE_NETASCII, 512, TFTP_NETASCII_WINDOW_MAX, 0, 1000, 12, TFTP_OPT_WINDOWSIZE}},
	{"timeout echoed, used for retransmission",
	 P("\0\1f\0octet\0timeout\0003\0"),
	 CFG(1468, 16, 1500, 1000),
	 10,
	 10,
	 {TFTP_MODE_OCTET, 512, 1, 3, 3000, 10, TFTP_OPT_TIMEOUT}},
	{"tsize: real size",
	 P("\0\1f\0octet\0tsize\0000\0"),
	 CFG(1468, 16, 1500, 1000),
	 33554532,
	 33554532,
	 {TFTP_MODE_OCTET, 512, 1, 0, 1000, 33554532, TFTP_OPT_TSIZE}},
	{"tsize netascii: converted size",
	 P("\0\1f\0netascii\0tsize\0000\0"),
	 CFG(1468, 16, 1500, 1000),
	 100,
	 120,
	 {TFTP_MODE_NETASCII, 512, 1, 0, 1000, 120, TFTP_OPT_TSIZE}},
	{"cfg timeout 0 defaults to 1 s",
	 P("\0\1f\0octet\0"),
	 CFG(1468, 16, 1500, 0),
	 1,
	 1,
	 {TFTP_MODE_OCTET, 512, 1, 0, 1000, 1, 0}},
	{"no blksize option: cfg blksize_default",
	 P("\0\1f\0octet\0"),
	 {.blksize_default = 1024, .blksize_max = 1468, .mtu = 1500, .timeout_ms = 1000},
	 1,
	 1,
	 {TFTP_MODE_OCTET, 1024, 1, 0, 1000, 1, 0}},
	{"blksize option wins over cfg blksize_default",
	 P("\0\1f\0octet\0blksize\000256\0"),
	 {.blksize_default = 1024, .blksize_max = 1468, .mtu = 1500, .timeout_ms = 1000},
	 1,
	 1,
	 {TFTP_MODE_OCTET, 256, 1, 0, 1000, 1, TFTP_OPT_BLKSIZE}},
	{"ignored options not acknowledged",
	 P("\0\1f\0octet\0blksize\0004\0timeout\0000\0"),
	 CFG(1468, 16, 1500, 1000),
	 1,
	 1,
	 {TFTP_MODE_OCTET, 512, 1, 0, 1000, 1, 0}},
};

static void test_negotiate_table(void **state)
{
	for (size_t i = 0; i < sizeof(nego_cases) / sizeof(nego_cases[0]); i++) {
		const struct nego_case *c = &nego_cases[i];
		struct tftp_rrq r;
		struct tftp_params p;

		assert_int_equal(tftp_parse_request(c->pkt, c->len, &r), 0);
		tftp_negotiate(&r, c->size, c->na_size, &c->cfg, &p);
		if (p.mode != c->want.mode || p.blksize != c->want.blksize ||
		    p.windowsize != c->want.windowsize || p.timeout_s != c->want.timeout_s ||
		    p.timeout_ms != c->want.timeout_ms || p.tsize != c->want.tsize ||
		    p.oack_opts != c->want.oack_opts)
			fail_msg("%s: got mode %d blk %u win %u tmo %u/%u tsize %llu oack %#x",
				 c->what, p.mode, p.blksize, p.windowsize, p.timeout_s,
				 p.timeout_ms, (unsigned long long)p.tsize, p.oack_opts);
	}
}

/* ---- builders ---- */

static void test_build_oack(void **state)
{
	struct tftp_params p = {.blksize = 1468,
				.tsize = 33554532,
				.timeout_s = 5,
				.windowsize = 8,
				.oack_opts = OPT_ALL};
	static const char want[] = "\0\6blksize\0001468\0tsize\00033554532\0timeout\0005\0"
				   "windowsize\0008\0";
	uint8_t out[TFTP_OACK_MAX];
	int n = tftp_build_oack(out, sizeof(out), &p);

	assert_int_equal(n, sizeof(want) - 1);
	assert_memory_equal(out, want, n);
	/* every cap below the needed length is refused, never overrun */
	for (size_t cap = 0; cap < (size_t)n; cap++) {
		uint8_t *b = malloc(cap ? cap : 1);
		assert_int_equal(tftp_build_oack(b, cap, &p), -ENOSPC);
		free(b);
	}

	p.oack_opts = TFTP_OPT_TSIZE;
	p.tsize = 0;
	n = tftp_build_oack(out, sizeof(out), &p);
	assert_int_equal(n, 10);
	assert_memory_equal(out, "\0\6tsize\0000\0", 10);

	/* worst case fits TFTP_OACK_MAX */
	p = (struct tftp_params){.blksize = 65464,
				 .tsize = UINT64_MAX,
				 .timeout_s = 255,
				 .windowsize = 65535,
				 .oack_opts = OPT_ALL};
	assert_true(tftp_build_oack(out, sizeof(out), &p) > 0);
}

static void test_build_error(void **state)
{
	uint8_t out[64];
	int n;

	n = tftp_build_error(out, sizeof(out), TFTP_ERR_NOT_FOUND, NULL);
	assert_int_equal(n, 4 + strlen("File not found") + 1);
	assert_memory_equal(out, "\0\5\0\1File not found\0", n);

	n = tftp_build_error(out, sizeof(out), TFTP_ERR_UNDEF, "Server busy");
	assert_memory_equal(out, "\0\5\0\0Server busy\0", n);

	n = tftp_build_error(out, 8, TFTP_ERR_ACCESS, "Access violation");
	assert_int_equal(n, 8);
	assert_memory_equal(out, "\0\5\0\2Acc\0", 8);

	n = tftp_build_error(out, sizeof(out), 42, NULL); /* unknown code: generic text */
	assert_memory_equal(out,
			    "\0\5\0\x2a"
			    "Error\0",
			    n);
	assert_int_equal(tftp_build_error(out, 4, 1, NULL), -ENOSPC);

	/* round trip through the parser */
	uint16_t code;
	const char *msg;
	size_t mlen;
	n = tftp_build_error(out, sizeof(out), TFTP_ERR_OPTION, NULL);
	assert_int_equal(tftp_parse_error(out, n, &code, &msg, &mlen), 0);
	assert_int_equal(code, 8);
	assert_int_equal(mlen, strlen("Option negotiation refused"));
	assert_int_equal(tftp_parse_error(out, 3, &code, &msg, &mlen), -SB_DROP_TFTP_SHORT);
	/* message without NUL still parses: the error ends the transfer anyway */
	assert_int_equal(tftp_parse_error(out, 6, &code, &msg, &mlen), 0);
	assert_int_equal(mlen, 2);
}

static void test_parse_ack(void **state)
{
	uint16_t b = 0;

	assert_int_equal(tftp_parse_ack(P("\0\4\xff\xfe"), &b), 0);
	assert_int_equal(b, 65534);
	assert_int_equal(tftp_parse_ack(P("\0\4\0\0extra"), &b), 0); /* trailing bytes tolerated */
	assert_int_equal(b, 0);
	assert_int_equal(tftp_parse_ack(P("\0\4\0"), &b), -SB_DROP_TFTP_SHORT);
	assert_int_equal(tftp_parse_ack(P("\0"), &b), -SB_DROP_TFTP_SHORT);
	assert_int_equal(tftp_parse_ack(P("\0\3\0\1"), &b), -SB_DROP_TFTP_BAD_OPCODE);
	assert_int_equal(tftp_opcode(P("\1\2")), 0x102);
}

static void test_data_hdr(void **state)
{
	uint8_t out[4];

	assert_int_equal(tftp_build_data_hdr(out, 4, 0xabcd), 4);
	assert_memory_equal(out, "\0\3\xab\xcd", 4);
	assert_int_equal(tftp_build_data_hdr(out, 3, 1), -ENOSPC);
}

static void test_error_for_drop(void **state)
{
	static const struct {
		int rc;
		bool reply;
		uint16_t code;
	} t[] = {
		{-SB_DROP_TFTP_WRQ, true, TFTP_ERR_ACCESS},
		{-SB_DROP_TFTP_NOT_FOUND, true, TFTP_ERR_NOT_FOUND},
		{-SB_DROP_TFTP_BAD_PATH, true, TFTP_ERR_ACCESS},
		{-SB_DROP_TFTP_BAD_MODE, true, TFTP_ERR_ILLEGAL_OP},
		{-SB_DROP_TFTP_BAD_OPCODE, true, TFTP_ERR_ILLEGAL_OP},
		{-SB_DROP_TFTP_UNEXPECTED_OPCODE, true, TFTP_ERR_ILLEGAL_OP},
		{-SB_DROP_TFTP_NO_NUL, true, TFTP_ERR_ILLEGAL_OP},
		{-SB_DROP_TFTP_OPTION_NO_VALUE, true, TFTP_ERR_ILLEGAL_OP},
		{-SB_DROP_TFTP_UNKNOWN_TID, true, TFTP_ERR_UNKNOWN_TID},
		{-SB_DROP_TFTP_SHORT, false, 0},
		{-SB_DROP_TFTP_ERROR_RECEIVED, false, 0}, /* RFC 1350: never answer an ERROR */
		{-SB_DROP_TFTP_ACK_DUP, false, 0},
		{-SB_DROP_TFTP_ACK_STALE, false, 0},
		{-SB_DROP_TFTP_SESSION_CLOSED, false, 0},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint16_t code = 0xffff;
		const char *msg = NULL;
		bool r = tftp_error_for_drop(t[i].rc, &code, &msg);

		if (r != t[i].reply)
			fail_msg("%s: reply %d", sb_drop_name(t[i].rc), r);
		if (r) {
			assert_int_equal(code, t[i].code);
			assert_non_null(msg);
		}
	}
	/* drop names exist and are distinct from the placeholder */
	assert_string_equal(sb_drop_name(-SB_DROP_TFTP_ACK_DUP), "tftp_ack_duplicate");
}

/* ---- netascii ---- */

static size_t ref_netascii(const uint8_t *in, size_t n, uint8_t *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		if (in[i] == '\n') {
			out[o++] = '\r';
			out[o++] = '\n';
		} else if (in[i] == '\r') {
			out[o++] = '\r';
			out[o++] = 0;
		} else {
			out[o++] = in[i];
		}
	}
	return o;
}

static void test_netascii(void **state)
{
	static const struct {
		const char *in;
		size_t len;
	} t[] = {
		{"", 0},
		{"a", 1},
		{"\n", 1},
		{"\r", 1},
		{"\r\n", 2},
		{"line1\nline2\r\n\n\rx", 17},
		{"\n\n\n\n\n\n", 6},
		{"abc\0def\r", 8},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		const uint8_t *in = (const uint8_t *)t[i].in;
		uint8_t want[64], got[64];
		size_t wn = ref_netascii(in, t[i].len, want);

		assert_int_equal(tftp_netascii_size(in, t[i].len), wn);
		/* every chunk size: chunks concatenate to the whole conversion */
		for (size_t cap = 1; cap <= wn + 1; cap++) {
			struct tftp_na_pos pos = {0};
			size_t g = 0, n;

			do {
				n = tftp_netascii_encode(in, t[i].len, &pos, got + g, cap);
				g += n;
				assert_true(g <= wn);
			} while (n == cap && g < wn);
			if (g != wn || memcmp(got, want, wn) != 0)
				fail_msg("case %zu cap %zu: %zu bytes, want %zu", i, cap, g, wn);
			/* counting mode reaches the same end */
			struct tftp_na_pos p2 = {0};
			size_t c = 0;
			do {
				n = tftp_netascii_encode(in, t[i].len, &p2, NULL, cap);
				c += n;
			} while (n == cap && c < wn);
			assert_int_equal(c, wn);
			assert_int_equal(p2.src, pos.src);
		}
	}
}

/* ---- real clients ---- */

/*
 * Independent oracle for a captured RRQ: split the packet at NULs (no
 * validation) and derive which options the parser must report, with what
 * values. The expectation comes from the real packet, not from memory.
 */
static void check_against_oracle(const struct fixture_pkt *p, const struct tftp_rrq *r)
{
	const char *f[64];
	size_t nf = 0, pos = 2;
	unsigned want = 0;

	while (pos < p->udp_len && nf < 64) {
		f[nf++] = (const char *)p->udp_payload + pos;
		pos += strnlen((const char *)p->udp_payload + pos, p->udp_len - pos) + 1;
	}
	assert_true(nf >= 2);
	assert_string_equal(r->filename, f[0]);
	for (size_t i = 2; i + 1 < nf; i += 2) {
		unsigned long long v = strtoull(f[i + 1], NULL, 10);

		if (!strcasecmp(f[i], "blksize") && !(want & TFTP_OPT_BLKSIZE)) {
			want |= TFTP_OPT_BLKSIZE;
			assert_int_equal(r->blksize, v);
		} else if (!strcasecmp(f[i], "tsize") && !(want & TFTP_OPT_TSIZE)) {
			want |= TFTP_OPT_TSIZE;
			assert_int_equal(r->tsize, v);
		} else if (!strcasecmp(f[i], "timeout") && !(want & TFTP_OPT_TIMEOUT)) {
			want |= TFTP_OPT_TIMEOUT;
			assert_int_equal(r->timeout_s, v);
		} else if (!strcasecmp(f[i], "windowsize") && !(want & TFTP_OPT_WINDOWSIZE)) {
			want |= TFTP_OPT_WINDOWSIZE;
			assert_int_equal(r->windowsize, v);
		}
	}
	if (r->opts != want)
		fail_msg("%s#%u: parser opts %#x, packet carries %#x", p->file, p->index, r->opts,
			 want);
	print_message("  %s#%u: RRQ '%s' mode %s opts %#x blksize %u windowsize %u\n", p->file,
		      p->index, r->filename, r->mode == TFTP_MODE_NETASCII ? "netascii" : "octet",
		      r->opts, r->blksize, r->windowsize);
}

static int ack_prefix(const uint8_t *buf, size_t len, void *arg)
{
	uint16_t b;

	return tftp_parse_ack(buf, len, &b);
}

static void test_fixtures(void **state)
{
	struct fixture_set set;
	size_t n_rrq = 0, n_ack = 0;

	fixture_load("tftp", &set);
	for (size_t i = 0; i < set.n; i++) {
		const struct fixture_pkt *p = &set.pkts[i];
		struct tftp_rrq r;
		int op;

		if (!p->udp_payload)
			continue;
		op = tftp_opcode(p->udp_payload, p->udp_len);
		if (op == TFTP_OP_RRQ && p->dst_port == SB_PORT_TFTP) {
			int rc = tftp_parse_request(p->udp_payload, p->udp_len, &r);

			if (rc != 0)
				fail_msg("%s#%u: RRQ refused: %s", p->file, p->index,
					 sb_drop_name(rc));
			check_against_oracle(p, &r);
			/* every prefix of the request without any trailing NUL padding */
			size_t end = p->udp_len;
			while (end > 0 && p->udp_payload[end - 1] == 0)
				end--;
			check_all_prefixes(p->udp_payload, end + 1);
			n_rrq++;
		} else if (op == TFTP_OP_ACK && p->src_port != SB_PORT_TFTP) {
			uint16_t b;

			assert_int_equal(tftp_parse_ack(p->udp_payload, p->udp_len, &b), 0);
			fixture_for_each_prefix(p->udp_payload, p->udp_len, TFTP_HDR_LEN,
						ack_prefix, NULL);
			n_ack++;
		}
	}
	print_message("tftp fixtures: %zu frames, %zu RRQ, %zu ACK\n", set.n, n_rrq, n_ack);
	assert_true(n_rrq > 0);
	fixture_free(&set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rrq_table),
		cmocka_unit_test(test_rrq_truncated_prefixes),
		cmocka_unit_test(test_negotiate_table),
		cmocka_unit_test(test_build_oack),
		cmocka_unit_test(test_build_error),
		cmocka_unit_test(test_parse_ack),
		cmocka_unit_test(test_data_hdr),
		cmocka_unit_test(test_error_for_drop),
		cmocka_unit_test(test_netascii),
		cmocka_unit_test(test_fixtures),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
