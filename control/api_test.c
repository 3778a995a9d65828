/* SPDX-License-Identifier: BSD-3-Clause */
/* api_test.c - operator API framing, request parsing, error replies. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api.h"

/* The dispatcher the daemon would run: records what it got. */
struct seen {
	int calls;
	char cmd[64];
	json_t *args;
};

static char *fake_dispatch(void *ctx, enum api_command cmd, json_t *args)
{
	struct seen *s = ctx;

	s->calls++;
	snprintf(s->cmd, sizeof(s->cmd), "%s", api_commands[cmd].name);
	json_decref(s->args);
	s->args = json_deep_copy(args);
	return api_reply(API_OK, "fine", NULL);
}

/* Parse a reply line and return its result code (-1 if it is not a valid reply). */
static int reply_result(const char *line, char *text, size_t cap)
{
	json_t *o;
	int r = -1;

	if (!line || !*line || line[strlen(line) - 1] != '\n' ||
	    strchr(line, '\n') != line + strlen(line) - 1)
		return -1;
	o = json_loads(line, 0, NULL);
	if (json_is_object(o) && json_is_integer(json_object_get(o, "result")) &&
	    json_is_string(json_object_get(o, "text"))) {
		r = (int)json_integer_value(json_object_get(o, "result"));
		if (text)
			snprintf(text, cap, "%s", json_string_value(json_object_get(o, "text")));
	}
	json_decref(o);
	return r;
}

static void test_frame(void **state)
{
	static const struct {
		const char *buf;
		bool eof;
		ssize_t want;
	} cases[] = {
		{"", false, 0},
		{"", true, 0},
		{"{\"command\":\"status\"}", false, 0},
		{"{\"command\":\"status\"}", true, 20},
		{"{\"command\":\"status\"}\n", false, 21},
		{"{\"command\":\"status\"}\n{\"command\"", false, 21},
		{"\n", false, 1},
		{"  x\n", false, 4},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(api_frame(cases[i].buf, strlen(cases[i].buf), cases[i].eof),
				 cases[i].want);
}

static void test_frame_oversized(void **state)
{
	char *big = malloc(API_REQ_MAX + 10);

	memset(big, 'a', API_REQ_MAX + 10);
	assert_int_equal(api_frame(big, API_REQ_MAX - 1, false), 0);
	assert_int_equal(api_frame(big, API_REQ_MAX, false), -EMSGSIZE);
	assert_int_equal(api_frame(big, API_REQ_MAX + 10, true), -EMSGSIZE);
	big[API_REQ_MAX - 1] = '\n'; /* the newline just fits */
	assert_int_equal(api_frame(big, API_REQ_MAX + 10, false), API_REQ_MAX);
	free(big);
}

static void test_parse_errors(void **state)
{
	static const struct {
		const char *req;
		const char *why; /* a piece of the message */
	} cases[] = {
		{"", "malformed request"},
		{"\n", "malformed request"},
		{"not json\n", "malformed request"},
		{"{\"command\": \"status\"\n", "malformed request"},
		{"[1, 2]\n", "not a JSON object"},
		{"\"status\"\n", "malformed request"},
		{"{}\n", "no \"command\""},
		{"{\"command\": 5}\n", "no \"command\""},
		{"{\"command\": \"\"}\n", "no \"command\""},
		{"{\"command\": \"status\", \"arguments\": 1}\n", "not an object"},
		{"{\"command\": \"status\", \"arguments\": [1]}\n", "not an object"},
		{"{\"command\": \"a\", \"command\": \"b\"}\n", "malformed request"},
		{"{\"command\": \"status\"} {\"x\": 1}\n", "malformed request"},
		{"{\"command\": \"st\\u0000atus\"}\n", "malformed request"},
	};
	char err[512];
	const char *cmd;
	json_t *root, *args;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		assert_int_equal(api_parse_request(cases[i].req, strlen(cases[i].req), &root, &cmd,
						   &args, err, sizeof(err)),
				 -EINVAL);
		assert_null(root);
		if (!strstr(err, cases[i].why))
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err, cases[i].why);
	}
	assert_int_equal(
		api_parse_request("{}", API_REQ_MAX + 1, &root, &cmd, &args, err, sizeof(err)),
		-EMSGSIZE);
}

static void test_parse_ok(void **state)
{
	static const char *const ok[] = {
		"{\"command\": \"status\"}\n",
		"{\"command\": \"status\", \"arguments\": null}",
		"  {\"command\": \"status\", \"arguments\": {}}\r\n",
		"{\"arguments\": {\"mac\": \"52:54:00:12:34:56\"}, \"command\": \"status\"}",
	};
	char err[256];
	const char *cmd;
	json_t *root, *args;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(api_parse_request(ok[i], strlen(ok[i]), &root, &cmd, &args, err,
						   sizeof(err)),
				 0);
		assert_string_equal(cmd, "status");
		assert_true(json_is_object(args));
		json_decref(root);
	}
}

static void test_handle(void **state)
{
	struct seen s = {0};
	char text[512];
	char *r;

	/* Unknown command: result 2, dispatcher not called. */
	r = api_handle("{\"command\": \"reboot-the-world\"}\n", 32, fake_dispatch, &s);
	assert_int_equal(reply_result(r, text, sizeof(text)), API_UNSUPPORTED);
	assert_non_null(strstr(text, "reboot-the-world"));
	free(r);
	/* An unknown command name never leaks more than a bounded piece into the text. */
	char longcmd[3000];
	memset(longcmd, 0, sizeof(longcmd));
	strcpy(longcmd, "{\"command\": \"");
	memset(longcmd + strlen(longcmd), 'z', 2000);
	strcat(longcmd, "\"}");
	r = api_handle(longcmd, strlen(longcmd), fake_dispatch, &s);
	assert_int_equal(reply_result(r, text, sizeof(text)), API_UNSUPPORTED);
	assert_true(strlen(text) < 200);
	free(r);
	assert_int_equal(s.calls, 0);
	/* Known: dispatched with the arguments. */
	const char *req = "{\"command\": \"lease-get\", \"arguments\": {\"ip\": \"198.18.0.5\"}}\n";
	r = api_handle(req, strlen(req), fake_dispatch, &s);
	assert_int_equal(reply_result(r, NULL, 0), API_OK);
	free(r);
	assert_int_equal(s.calls, 1);
	assert_string_equal(s.cmd, "lease-get");
	assert_string_equal(json_string_value(json_object_get(s.args, "ip")), "198.18.0.5");
	/* Every truncated prefix of that request: a clean error reply, never a dispatch. */
	for (size_t k = 0; k + 1 < strlen(req); k++) {
		r = api_handle(req, k, fake_dispatch, &s);
		assert_int_equal(reply_result(r, NULL, 0), API_ERROR);
		free(r);
	}
	assert_int_equal(s.calls, 1);
	/* Binary garbage (NUL bytes, invalid UTF-8) is an error reply that is valid JSON. */
	static const char junk[] = "\x00\xff\xfe{\"command\":\xc3\x28}\n";
	r = api_handle(junk, sizeof(junk) - 1, fake_dispatch, &s);
	assert_int_equal(reply_result(r, NULL, 0), API_ERROR);
	free(r);
	json_decref(s.args);
}

static void test_reply_request(void **state)
{
	char *r = api_reply(API_EMPTY, "nothing", json_pack("{s:i}", "n", 0));
	json_t *o = json_loads(r, 0, NULL);

	assert_int_equal(reply_result(r, NULL, 0), API_EMPTY);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "arguments"), "n")),
			 0);
	json_decref(o);
	free(r);
	/* A text that is not UTF-8 still gives a valid reply. */
	r = api_reply(API_ERROR, "bad \xff byte", NULL);
	assert_int_equal(reply_result(r, NULL, 0), API_ERROR);
	free(r);
	r = api_request("status", NULL);
	assert_string_equal(r, "{\"command\":\"status\"}\n");
	free(r);
	r = api_request("lease-get", json_pack("{s:s}", "mac", "52:54:00:12:34:56"));
	assert_non_null(strstr(r, "\"arguments\":{\"mac\":\"52:54:00:12:34:56\"}"));
	free(r);
	/* Every command in the table is known, others are not. */
	for (const struct api_cmd_desc *c = api_commands; c->name; c++) {
		assert_true(api_command_known(c->name));
		assert_non_null(c->help);
	}
	assert_false(api_command_known("Status"));
	assert_false(api_command_known(""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frame),	     cmocka_unit_test(test_frame_oversized),
		cmocka_unit_test(test_parse_errors), cmocka_unit_test(test_parse_ok),
		cmocka_unit_test(test_handle),	     cmocka_unit_test(test_reply_request),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
