/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * http_parse.h - HTTP/1.1 request parsing (the Range field, the query) for the boot server
 * (http.h): http_parse_request, http_range_apply, http_query_get, http_status_text. Pure: no
 * I/O, no allocation; unit-tested in http_test.c.
 */
#ifndef SB_HTTP_PARSE_H
#define SB_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_HEAD_MAX 8192 /* request line + header fields; more is refused (431) */
#define HTTP_PATH_MAX 1024 /* decoded path and raw query, each */

enum http_method {
	HTTP_GET = 1,
	HTTP_HEAD,
};

/* A parsed request head. Strings are NUL-terminated copies. */
struct http_req {
	enum http_method method;
	uint8_t minor;		  /* HTTP/1.minor, 0 or 1 */
	bool keep_alive;	  /* RFC 9112 9.3: 1.1 unless "close"; 1.0 only with "keep-alive" */
	char path[HTTP_PATH_MAX]; /* percent-decoded, without the query; starts with '/' */
	char query[HTTP_PATH_MAX]; /* raw text after '?', "" when none */
	bool range;		   /* one usable "bytes=" range was given */
	uint64_t range_first;	   /* HTTP_RANGE_NONE: suffix range ("bytes=-N") */
	uint64_t range_last;	   /* HTTP_RANGE_NONE: to the end ("bytes=N-"); suffix: N */
	int status;		   /* on a parse error: the status to answer with */
};

#define HTTP_RANGE_NONE UINT64_MAX

/*
 * Parse the request head at buf[0..len). Returns the length of the head (through the empty
 * line) when it is complete, 0 when more bytes are needed, or a negative errno with
 * req->status set to the answer: -EINVAL 400 (malformed; RFC 9112 3, 5), -EMSGSIZE 414 (path
 * or query too long) or 431 (head longer than HTTP_HEAD_MAX), -EOPNOTSUPP 405 (a method other
 * than GET/HEAD) or 505 (not HTTP/1.x). A request with a body (Content-Length > 0,
 * Transfer-Encoding) is refused with 400: GET and HEAD carry none here.
 */
int http_parse_request(const char *buf, size_t len, struct http_req *req);

/*
 * Apply the request's range to a body of size bytes (RFC 9110 14.1.2): 200 with the whole body
 * (no range, or a range the server ignores), 206 with [*off, *off + *n), or 416 when the range
 * is not satisfiable (first byte at or past the end).
 */
int http_range_apply(const struct http_req *req, uint64_t size, uint64_t *off, uint64_t *n);

/*
 * Find key in an application/x-www-form-urlencoded query ("a=1&b=2") and percent-decode its
 * value ('+' is a space) into out. 0, -ENOENT (absent), -ENOSPC (does not fit cap), -EINVAL (bad
 * escape or a NUL byte).
 */
int http_query_get(const char *query, const char *key, char *out, size_t cap);

/* Reason phrase of a status code ("Not Found"), "Unknown" for others. */
const char *http_status_text(int status);


#endif
