/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * http_test.c - the HTTP request parser (RFC 9112 request line and fields), byte ranges
 * (RFC 9110 14), query parameters and response heads. Every valid request is also fed as
 * every truncated prefix (must ask for more) and with a pipelined follower (must stop at its
 * own end).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http.h"

#define N HTTP_RANGE_NONE

struct good_case {
	const char *name;
	const char *head;
	enum http_method method;
	const char *path, *query;
	uint8_t minor;
	bool keep_alive;
	bool range;
	uint64_t first, last;
};

static const struct good_case good[] = {
	{"curl GET",
	 "GET /vmlinuz HTTP/1.1\r\nHost: 198.18.0.1:8080\r\nUser-Agent: curl/7.88.1\r\n"
	 "Accept: */*\r\n\r\n",
	 HTTP_GET, "/vmlinuz", "", 1, true, false, N, N},
	{"iPXE GET",
	 "GET /ipxe/boot.ipxe?mac=52:54:00:12:34:56&arch=x86_64 HTTP/1.1\r\n"
	 "Connection: keep-alive\r\nUser-Agent: iPXE/1.21.1+\r\nHost: 198.18.0.1\r\n\r\n",
	 HTTP_GET, "/ipxe/boot.ipxe", "mac=52:54:00:12:34:56&arch=x86_64", 1, true, false, N, N},
	{"HEAD", "HEAD /a HTTP/1.1\r\nHost: h\r\n\r\n", HTTP_HEAD, "/a", "", 1, true, false, N, N},
	{"1.0 closes", "GET /a HTTP/1.0\r\n\r\n", HTTP_GET, "/a", "", 0, false, false, N, N},
	{"1.0 keep-alive", "GET /a HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", HTTP_GET, "/a", "",
	 0, true, false, N, N},
	{"1.1 close", "GET /a HTTP/1.1\r\nHost: h\r\nConnection: foo, close\r\n\r\n", HTTP_GET,
	 "/a", "", 1, false, false, N, N},
	{"1.9 served as 1.1", "GET /a HTTP/1.9\r\nHost: h\r\n\r\n", HTTP_GET, "/a", "", 1, true,
	 false, N, N},
	{"bare LF", "GET /a HTTP/1.1\nHost: h\n\n", HTTP_GET, "/a", "", 1, true, false, N, N},
	{"leading empty lines", "\r\n\r\nGET /a HTTP/1.1\r\nHost: h\r\n\r\n", HTTP_GET, "/a", "", 1,
	 true, false, N, N},
	{"percent-decoded path", "GET /linux/vm%6Cinuz%20x HTTP/1.1\r\nHost: h\r\n\r\n", HTTP_GET,
	 "/linux/vmlinuz x", "", 1, true, false, N, N},
	{"encoded dots stay dots", "GET /%2e%2E/etc/passwd HTTP/1.1\r\nHost: h\r\n\r\n", HTTP_GET,
	 "/../etc/passwd", "", 1, true, false, N, N},
	{"absolute-form", "GET http://198.18.0.1:8080/x?y=1 HTTP/1.1\r\nHost: h\r\n\r\n", HTTP_GET,
	 "/x", "y=1", 1, true, false, N, N},
	{"empty query", "GET /x? HTTP/1.1\r\nHost: h\r\n\r\n", HTTP_GET, "/x", "", 1, true, false,
	 N, N},
	{"OWS around value", "GET /a HTTP/1.1\r\nHost:h\r\nRange: \t bytes=0-99 \t\r\n\r\n",
	 HTTP_GET, "/a", "", 1, true, true, 0, 99},
	{"range open", "GET /a HTTP/1.1\r\nHost: h\r\nrange: bytes=100-\r\n\r\n", HTTP_GET, "/a",
	 "", 1, true, true, 100, N},
	{"range suffix", "GET /a HTTP/1.1\r\nHost: h\r\nRange: bytes=-500\r\n\r\n", HTTP_GET, "/a",
	 "", 1, true, true, N, 500},
	{"range unit case", "GET /a HTTP/1.1\r\nHost: h\r\nRange: BYTES=1-1\r\n\r\n", HTTP_GET,
	 "/a", "", 1, true, true, 1, 1},
	/* RFC 9110 14.2: what the server does not do or understand is ignored, not refused */
	{"multi-range ignored", "GET /a HTTP/1.1\r\nHost: h\r\nRange: bytes=0-1,5-6\r\n\r\n",
	 HTTP_GET, "/a", "", 1, true, false, N, N},
	{"other unit ignored", "GET /a HTTP/1.1\r\nHost: h\r\nRange: items=0-1\r\n\r\n", HTTP_GET,
	 "/a", "", 1, true, false, N, N},
	{"last < first ignored", "GET /a HTTP/1.1\r\nHost: h\r\nRange: bytes=9-1\r\n\r\n", HTTP_GET,
	 "/a", "", 1, true, false, N, N},
	{"range junk ignored", "GET /a HTTP/1.1\r\nHost: h\r\nRange: bytes=x-\r\n\r\n", HTTP_GET,
	 "/a", "", 1, true, false, N, N},
	{"range overflow ignored",
	 "GET /a HTTP/1.1\r\nHost: h\r\nRange: bytes=99999999999999999999-\r\n\r\n", HTTP_GET, "/a",
	 "", 1, true, false, N, N},
	{"two ranges ignored",
	 "GET /a HTTP/1.1\r\nHost: h\r\nRange: bytes=0-1\r\nRange: bytes=2-3"
	 "\r\n\r\n",
	 HTTP_GET, "/a", "", 1, true, false, N, N},
	{"content-length 0", "GET /a HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n", HTTP_GET,
	 "/a", "", 1, true, false, N, N},
	{"obs-text value", "GET /a HTTP/1.1\r\nHost: h\r\nX-A: caf\xc3\xa9\r\n\r\n", HTTP_GET, "/a",
	 "", 1, true, false, N, N},
};

static void check_good(const struct good_case *g, const struct http_req *r)
{
	if (r->method != g->method || strcmp(r->path, g->path) != 0 ||
	    strcmp(r->query, g->query) != 0 || r->minor != g->minor ||
	    r->keep_alive != g->keep_alive || r->range != g->range ||
	    (g->range && (r->range_first != g->first || r->range_last != g->last)))
		fail_msg("%s: method %d path '%s' query '%s' minor %u ka %d range %d %llu-%llu",
			 g->name, r->method, r->path, r->query, r->minor, r->keep_alive, r->range,
			 (unsigned long long)r->range_first, (unsigned long long)r->range_last);
}

static void test_good(void **state)
{
	static struct http_req r;
	char buf[2048];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		const struct good_case *g = &good[i];
		size_t len = strlen(g->head);

		int rc = http_parse_request(g->head, len, &r);
		if (rc != (int)len)
			fail_msg("%s: rc %d, expected %zu (status %d)", g->name, rc, len, r.status);
		check_good(g, &r);
		/* every truncated prefix: incomplete, never an error */
		for (size_t k = 0; k < len; k++) {
			rc = http_parse_request(g->head, k, &r);
			if (rc != 0)
				fail_msg("%s: prefix of %zu bytes: rc %d status %d", g->name, k, rc,
					 r.status);
		}
		/* pipelined: a second request behind the first is not part of it */
		snprintf(buf, sizeof(buf), "%sGET /next HTTP/1.1\r\nHost: h\r\n\r\n", g->head);
		rc = http_parse_request(buf, strlen(buf), &r);
		if (rc != (int)len)
			fail_msg("%s: pipelined rc %d, expected %zu", g->name, rc, len);
		check_good(g, &r);
	}
}

struct bad_case {
	const char *name;
	const char *head;
	int err, status;
};

static const struct bad_case bad[] = {
	{"POST", "POST /a HTTP/1.1\r\nHost: h\r\n\r\n", -EOPNOTSUPP, 405},
	{"lowercase get", "get /a HTTP/1.1\r\nHost: h\r\n\r\n", -EOPNOTSUPP, 405},
	{"HTTP/2", "GET /a HTTP/2.0\r\nHost: h\r\n\r\n", -EOPNOTSUPP, 505},
	{"HTTP/0.9 form", "GET /a\r\n\r\n", -EINVAL, 400},
	{"bad version", "GET /a HTTX/1.1\r\nHost: h\r\n\r\n", -EINVAL, 400},
	{"two spaces", "GET  /a HTTP/1.1\r\nHost: h\r\n\r\n", -EINVAL, 400},
	{"space in target", "GET /a b HTTP/1.1\r\nHost: h\r\n\r\n", -EINVAL, 400},
	{"method not a token", "G(T /a HTTP/1.1\r\nHost: h\r\n\r\n", -EINVAL, 400},
	{"no leading slash", "GET a HTTP/1.1\r\nHost: h\r\n\r\n", -EINVAL, 400},
	{"asterisk", "GET * HTTP/1.1\r\nHost: h\r\n\r\n", -EINVAL, 400},
	{"absolute without path", "GET http://h HTTP/1.1\r\nHost: h\r\n\r\n", -EINVAL, 400},
	{"fragment", "GET /a#b HTTP/1.1\r\nHost: h\r\n\r\n", -EINVAL, 400},
	{"bad escape", "GET /a%zz HTTP/1.1\r\nHost: h\r\n\r\n", -EINVAL, 400},
	{"short escape", "GET /a% HTTP/1.1\r\nHost: h\r\n\r\n", -EINVAL, 400},
	{"NUL escape", "GET /a%00b HTTP/1.1\r\nHost: h\r\n\r\n", -EINVAL, 400},
	{"1.1 without Host", "GET /a HTTP/1.1\r\n\r\n", -EINVAL, 400},
	{"two Hosts", "GET /a HTTP/1.1\r\nHost: h\r\nhost: i\r\n\r\n", -EINVAL, 400},
	{"space before colon", "GET /a HTTP/1.1\r\nHost : h\r\n\r\n", -EINVAL, 400},
	{"obs-fold", "GET /a HTTP/1.1\r\nHost: h\r\nX-A: b\r\n c\r\n\r\n", -EINVAL, 400},
	{"no colon", "GET /a HTTP/1.1\r\nHost: h\r\nbogus\r\n\r\n", -EINVAL, 400},
	{"empty name", "GET /a HTTP/1.1\r\nHost: h\r\n: v\r\n\r\n", -EINVAL, 400},
	{"bare CR", "GET /a HTTP/1.1\r\nHost: h\rX\r\n\r\n", -EINVAL, 400},
	{"control in value", "GET /a HTTP/1.1\r\nHost: h\x01\r\n\r\n", -EINVAL, 400},
	{"body", "GET /a HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello", -EINVAL, 400},
	{"bad length", "GET /a HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", -EINVAL, 400},
	{"chunked", "GET /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", -EINVAL,
	 400},
	{"too many empty lines", "\r\n\r\n\r\n\r\n\r\nGET /a HTTP/1.1\r\nHost: h\r\n\r\n", -EINVAL,
	 400},
};

static void test_bad(void **state)
{
	static struct http_req r;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const struct bad_case *b = &bad[i];
		int rc = http_parse_request(b->head, strlen(b->head), &r);
		if (rc != b->err || r.status != b->status)
			fail_msg("%s: rc %d status %d, expected %d %d", b->name, rc, r.status,
				 b->err, b->status);
	}
}

static void test_limits(void **state)
{
	static struct http_req r;
	static char buf[HTTP_HEAD_MAX + 4096];
	int n;

	(void)state;
	/* a path longer than HTTP_PATH_MAX: 414 */
	n = snprintf(buf, sizeof(buf), "GET /");
	memset(buf + n, 'a', HTTP_PATH_MAX);
	n += HTTP_PATH_MAX;
	n += snprintf(buf + n, sizeof(buf) - (size_t)n, " HTTP/1.1\r\nHost: h\r\n\r\n");
	assert_int_equal(http_parse_request(buf, (size_t)n, &r), -EMSGSIZE);
	assert_int_equal(r.status, 414);
	/* the longest path that fits */
	n = snprintf(buf, sizeof(buf), "GET /");
	memset(buf + n, 'a', HTTP_PATH_MAX - 2);
	n += HTTP_PATH_MAX - 2;
	n += snprintf(buf + n, sizeof(buf) - (size_t)n, " HTTP/1.1\r\nHost: h\r\n\r\n");
	assert_int_equal(http_parse_request(buf, (size_t)n, &r), n);
	assert_int_equal(strlen(r.path), HTTP_PATH_MAX - 1);
	/* a request line that never ends: 414 once HTTP_HEAD_MAX bytes came */
	memset(buf, 'a', sizeof(buf));
	memcpy(buf, "GET /", 5);
	assert_int_equal(http_parse_request(buf, HTTP_HEAD_MAX - 1, &r), 0);
	assert_int_equal(http_parse_request(buf, HTTP_HEAD_MAX, &r), -EMSGSIZE);
	assert_int_equal(r.status, 414);
	/* fields that never end: 431 */
	n = snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\nHost: h\r\n");
	while ((size_t)n + 20 < sizeof(buf))
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, "X-Pad: 0123456789\r\n");
	assert_int_equal(http_parse_request(buf, (size_t)n, &r), -EMSGSIZE);
	assert_int_equal(r.status, 431);
	/* a head that ends exactly at HTTP_HEAD_MAX is accepted */
	n = snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\nHost: h\r\nX-Pad: ");
	memset(buf + n, 'p', (size_t)(HTTP_HEAD_MAX - n - 4));
	memcpy(buf + HTTP_HEAD_MAX - 4, "\r\n\r\n", 4);
	assert_int_equal(http_parse_request(buf, HTTP_HEAD_MAX, &r), HTTP_HEAD_MAX);
}

/* Random bytes and random mutations of a good request: never a crash, a sane answer. */
static void test_garbage(void **state)
{
	static struct http_req r;
	char buf[512];
	unsigned int seed = 12345;

	(void)state;
	for (int it = 0; it < 20000; it++) {
		size_t len;
		if (it & 1) {
			len = (size_t)(rand_r(&seed) % sizeof(buf));
			for (size_t i = 0; i < len; i++)
				buf[i] = (char)rand_r(&seed);
		} else {
			const char *g =
				good[(size_t)rand_r(&seed) % (sizeof(good) / sizeof(good[0]))].head;
			len = strlen(g);
			memcpy(buf, g, len);
			for (int m = 0; m < 3; m++)
				buf[(size_t)rand_r(&seed) % len] = (char)rand_r(&seed);
		}
		int rc = http_parse_request(buf, len, &r);
		assert_true(rc <= (int)len);
		if (rc < 0)
			assert_true(r.status >= 400 && r.status < 600);
		if (rc > 0)
			assert_true(r.path[0] == '/' && strlen(r.path) < HTTP_PATH_MAX);
	}
}

struct range_case {
	const char *range; /* NULL: no Range */
	uint64_t size;
	int status;
	uint64_t off, n;
};

static const struct range_case ranges[] = {
	{NULL, 1000, 200, 0, 1000},
	{NULL, 0, 200, 0, 0},
	{"bytes=0-99", 1000, 206, 0, 100},
	{"bytes=0-0", 1000, 206, 0, 1},
	{"bytes=999-999", 1000, 206, 999, 1},
	{"bytes=500-", 1000, 206, 500, 500},
	{"bytes=900-5000", 1000, 206, 900, 100}, /* 14.1.2: last clamped to the end */
	{"bytes=-100", 1000, 206, 900, 100},
	{"bytes=-5000", 1000, 206, 0, 1000},
	{"bytes=1000-", 1000, 416, 0, 0},
	{"bytes=1000-2000", 1000, 416, 0, 0},
	{"bytes=-0", 1000, 416, 0, 0},
	{"bytes=0-", 0, 416, 0, 0},
	{"bytes=-1", 0, 416, 0, 0},
	{"bytes=0-1,2-3", 1000, 200, 0, 1000}, /* ignored */
};

static void test_range_apply(void **state)
{
	static struct http_req r;
	char head[256];

	(void)state;
	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
		const struct range_case *c = &ranges[i];
		uint64_t off = 0, n = 0;
		if (c->range)
			snprintf(head, sizeof(head),
				 "GET / HTTP/1.1\r\nHost: h\r\nRange: %s\r\n\r\n", c->range);
		else
			snprintf(head, sizeof(head), "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
		assert_true(http_parse_request(head, strlen(head), &r) > 0);
		int st = http_range_apply(&r, c->size, &off, &n);
		if (st != c->status || (st != 416 && (off != c->off || n != c->n)))
			fail_msg("%s of %llu: %d %llu+%llu, expected %d %llu+%llu",
				 c->range ? c->range : "(none)", (unsigned long long)c->size, st,
				 (unsigned long long)off, (unsigned long long)n, c->status,
				 (unsigned long long)c->off, (unsigned long long)c->n);
	}
}

static void test_query(void **state)
{
	static const struct {
		const char *q, *key;
		int rc;
		const char *val;
	} t[] = {
		{"mac=52:54:00:12:34:56&arch=x86_64", "mac", 0, "52:54:00:12:34:56"},
		{"mac=52:54:00:12:34:56&arch=x86_64", "arch", 0, "x86_64"},
		{"mac=52%3A54%3a00:12:34:56", "mac", 0, "52:54:00:12:34:56"},
		{"a=b+c", "a", 0, "b c"},
		{"a=", "a", 0, ""},
		{"xmac=1&mac=2", "mac", 0, "2"},
		{"mac", "mac", -ENOENT, NULL},
		{"", "mac", -ENOENT, NULL},
		{"ma=1", "mac", -ENOENT, NULL},
		{"mac=%zz", "mac", -EINVAL, NULL},
		{"mac=%4", "mac", -EINVAL, NULL},
		{"mac=%00", "mac", -EINVAL, NULL},
		{"mac=0123456789", "mac", -ENOSPC, NULL},
	};
	char out[8];
	char big[64];

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int rc = http_query_get(t[i].q, t[i].key, big, i == 12 ? sizeof(out) : sizeof(big));
		if (rc != t[i].rc || (rc == 0 && strcmp(big, t[i].val) != 0))
			fail_msg("%s [%s]: rc %d '%s'", t[i].q, t[i].key, rc, rc == 0 ? big : "");
	}
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),	    cmocka_unit_test(test_bad),
		cmocka_unit_test(test_limits),	    cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_range_apply), cmocka_unit_test(test_query),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
