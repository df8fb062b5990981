/* SPDX-License-Identifier: BSD-3-Clause
 *
 * test_http_parse.c: the request-head parser (dataplane/http/http_parse.c).
 *
 * One table of requests, valid and invalid, each with the result, the reason and the fields
 * it must produce. Every row runs three ways, always on a buffer ending at a guard page:
 * whole; byte by byte with one resumed state (must give exactly the same result, reason and
 * fields); and at every truncation point with a fresh state (a valid head must be PARTIAL
 * before its last byte; an invalid one PARTIAL or its own error, never anything else). Then:
 * pipelined heads, limits that fire before the head ends, lookups, path normalization, and
 * the absence of allocations.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler.h"
#include "http_parse.h"
#include "test_alloc_count.h"
#include "test_guard.h"
#include "test_main.h"

#define COMPLETE 1 /* expected result: the whole input is the head */

struct parse_case {
	const char *description;
	const char *input;
	size_t input_len;               /* 0: strlen(input) (set it for inputs with NUL) */
	int result;                     /* COMPLETE, HTTP_PARSE_PARTIAL or an error */
	enum http_parse_reason reason;
	struct http_limits limits;      /* all zero: defaults */
	/* Expected fields when COMPLETE; NULL strings mean "absent". */
	enum http_method method;
	const char *path;
	const char *query;
	const char *host;
	uint8_t version_minor;
	bool keep_alive;
	uint64_t content_length;
	uint32_t header_count;
	const char *range;
};

#define OK(d, in, m, p, q, h, v, ka, cl, n, r) \
	{d, in, 0, COMPLETE, HTTP_PARSE_REASON_NONE, {0, 0, 0}, m, p, q, h, v, ka, cl, n, r}
#define BAD(d, in, res, why) {d, in, 0, res, HTTP_PARSE_REASON_##why, {0, 0, 0}, 0, NULL, NULL, NULL, 0, false, 0, 0, NULL}
#define BAD_BYTES(d, in, res, why) {d, in, sizeof(in) - 1, res, HTTP_PARSE_REASON_##why, {0, 0, 0}, 0, NULL, NULL, NULL, 0, false, 0, 0, NULL}
#define LIMITED(d, in, line, count, head, res, why) \
	{d, in, 0, res, HTTP_PARSE_REASON_##why, {line, count, head}, HTTP_METHOD_GET, "/", NULL, "a", 1, true, 0, 1, NULL}

#define E400 HTTP_PARSE_BAD_REQUEST
#define E414 HTTP_PARSE_URI_TOO_LONG
#define E431 HTTP_PARSE_HEADERS_TOO_LARGE
#define E501 HTTP_PARSE_NOT_IMPLEMENTED
#define E505 HTTP_PARSE_VERSION_NOT_SUPPORTED
#define GET HTTP_METHOD_GET

static const struct parse_case parse_cases[] = {
	/* Valid requests. */
	OK("minimal HTTP/1.1", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", GET, "/", NULL, "a", 1, true, 0, 1, NULL),
	OK("segment with query and range",
	   "GET /video/a.m4s?x=1&y HTTP/1.1\r\nHost: edge.example:8080\r\nRange: bytes=0-99\r\n\r\n",
	   GET, "/video/a.m4s", "x=1&y", "edge.example:8080", 1, true, 0, 2, "bytes=0-99"),
	OK("HTTP/1.0 closes by default", "GET /a HTTP/1.0\r\n\r\n", GET, "/a", NULL, NULL, 0, false, 0, 0, NULL),
	OK("HTTP/1.0 keep-alive", "GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", GET, "/a", NULL, NULL, 0, true, 0, 1, NULL),
	OK("HTTP/1.1 close", "GET /a HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", GET, "/a", NULL, "a", 1, false, 0, 2, NULL),
	OK("close among tokens, any case", "GET /a HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, CLOSE\r\n\r\n", GET, "/a", NULL, "a", 1, false, 0, 2, NULL),
	OK("close on a second Connection line", "GET /a HTTP/1.1\r\nConnection: x\r\nHost: a\r\nConnection: close\r\n\r\n", GET, "/a", NULL, "a", 1, false, 0, 3, NULL),
	OK("HTTP/1.0 keep-alive then close", "GET /a HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", GET, "/a", NULL, NULL, 0, false, 0, 1, NULL),
	OK("HEAD", "HEAD /a.ts HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_METHOD_HEAD, "/a.ts", NULL, "a", 1, true, 0, 1, NULL),
	OK("OPTIONS *", "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_METHOD_OPTIONS, "*", NULL, "a", 1, true, 0, 1, NULL),
	OK("CORS preflight",
	   "OPTIONS /a.m4s HTTP/1.1\r\nHost: a\r\nOrigin: https://p.example\r\nAccess-Control-Request-Method: GET\r\n"
	   "Access-Control-Request-Headers: range\r\n\r\n",
	   HTTP_METHOD_OPTIONS, "/a.m4s", NULL, "a", 1, true, 0, 4, NULL),
	OK("POST with a body to skip", "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n", HTTP_METHOD_POST, "/a", NULL, "a", 1, true, 5, 2, NULL),
	OK("Content-Length list of equal values", "PUT /a HTTP/1.1\r\nHost: a\r\nContent-Length: 7 , 7\r\n\r\n", HTTP_METHOD_PUT, "/a", NULL, "a", 1, true, 7, 2, NULL),
	OK("Content-Length twice, equal", "GET /a HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\ncontent-length: 0\r\n\r\n", GET, "/a", NULL, "a", 1, true, 0, 3, NULL),
	OK("absolute-form replaces Host", "GET http://edge.example/v/a.ts?q HTTP/1.1\r\nHost: other\r\n\r\n", GET, "/v/a.ts", "q", "edge.example", 1, true, 0, 1, NULL),
	OK("absolute-form without path", "GET https://edge.example HTTP/1.1\r\nHost: x\r\n\r\n", GET, "/", NULL, "edge.example", 1, true, 0, 1, NULL),
	OK("absolute-form query without path", "GET HTTP://Edge:80?a=b HTTP/1.1\r\nHost: x\r\n\r\n", GET, "/", "a=b", "Edge:80", 1, true, 0, 1, NULL),
	OK("leading empty lines are skipped", "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", GET, "/", NULL, "a", 1, true, 0, 1, NULL),
	OK("HTTP/1.2 is served as 1.1", "GET / HTTP/1.2\r\nHost: a\r\n\r\n", GET, "/", NULL, "a", 1, true, 0, 1, NULL),
	OK("obs-text and HTAB in a value", "GET / HTTP/1.1\r\nHost: a\r\nX-Title: caf\xc3\xa9\tbar\r\n\r\n", GET, "/", NULL, "a", 1, true, 0, 2, NULL),
	OK("whitespace around values is trimmed", "GET / HTTP/1.1\r\nHost: \t a \t\r\n\r\n", GET, "/", NULL, "a", 1, true, 0, 1, NULL),
	OK("empty query", "GET /a? HTTP/1.1\r\nHost: a\r\n\r\n", GET, "/a", "", "a", 1, true, 0, 1, NULL),
	OK("empty Host", "GET / HTTP/1.1\r\nHost:\r\n\r\n", GET, "/", NULL, "", 1, true, 0, 1, NULL),
	OK("IPv6 literal Host", "GET / HTTP/1.1\r\nHost: [fd5c::1]:8080\r\n\r\n", GET, "/", NULL, "[fd5c::1]:8080", 1, true, 0, 1, NULL),
	OK("all the fields the server uses",
	   "GET /a HTTP/1.1\r\nhost: a\r\nRANGE: bytes=1-2\r\nIf-Range: \"x\"\r\nIf-None-Match: \"x\"\r\n"
	   "If-None-Match: \"y\"\r\nIf-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\nOrigin: null\r\n\r\n",
	   GET, "/a", NULL, "a", 1, true, 0, 7, "bytes=1-2"),
	OK("CONNECT is parsed (the server answers 405)", "CONNECT edge:443 HTTP/1.1\r\nHost: edge:443\r\n\r\n", HTTP_METHOD_CONNECT, NULL, NULL, "edge:443", 1, true, 0, 1, NULL),
	OK("DELETE is parsed", "DELETE /a HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_METHOD_DELETE, "/a", NULL, "a", 1, true, 0, 1, NULL),
	OK("unknown fields kept", "GET / HTTP/1.1\r\nHost: a\r\nX-Request-Id: 42\r\nUser-Agent: hls.js\r\n\r\n", GET, "/", NULL, "a", 1, true, 0, 3, NULL),

	/* Request line. */
	BAD("lowercase method", "get / HTTP/1.1\r\nHost: a\r\n\r\n", E501, METHOD_UNKNOWN),
	BAD("unknown method", "BREW /pot HTTP/1.1\r\nHost: a\r\n\r\n", E501, METHOD_UNKNOWN),
	BAD("HTTP/2.0", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", E505, VERSION_UNSUPPORTED),
	BAD("HTTP/0.9", "GET / HTTP/0.9\r\n\r\n", E505, VERSION_UNSUPPORTED),
	BAD("version before method check", "BREW / HTTP/3.0\r\n\r\n", E505, VERSION_UNSUPPORTED),
	BAD("lowercase version", "GET / http/1.1\r\nHost: a\r\n\r\n", E400, VERSION),
	BAD("short version", "GET / HTTP/1\r\nHost: a\r\n\r\n", E400, VERSION),
	BAD("two-digit minor", "GET / HTTP/1.10\r\nHost: a\r\n\r\n", E400, VERSION),
	BAD("trailing space", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", E400, VERSION),
	BAD("no version", "GET /\r\nHost: a\r\n\r\n", E400, TARGET),
	BAD("two spaces", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", E400, TARGET),
	BAD("leading space", " GET / HTTP/1.1\r\nHost: a\r\n\r\n", E400, METHOD),
	BAD("tab separator", "GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", E400, CONTROL_CHARACTER),
	BAD("space in target", "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", E400, VERSION),
	BAD("fragment", "GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n", E400, TARGET),
	BAD("raw UTF-8 in target", "GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n", E400, TARGET),
	BAD("DEL in target", "GET /a\x7f HTTP/1.1\r\nHost: a\r\n\r\n", E400, CONTROL_CHARACTER),
	BAD_BYTES("NUL in method", "G\0T / HTTP/1.1\r\nHost: a\r\n\r\n", E400, NUL),
	BAD("asterisk with GET", "GET * HTTP/1.1\r\nHost: a\r\n\r\n", E400, TARGET),
	BAD("relative target", "GET a/b HTTP/1.1\r\nHost: a\r\n\r\n", E400, TARGET),
	BAD("other scheme", "GET ftp://h/a HTTP/1.1\r\nHost: a\r\n\r\n", E400, TARGET),
	BAD("userinfo in absolute-form", "GET http://u@h/a HTTP/1.1\r\nHost: a\r\n\r\n", E400, TARGET),
	BAD("empty host in absolute-form", "GET http:///a HTTP/1.1\r\nHost: a\r\n\r\n", E400, TARGET),
	BAD("bare LF after request line", "GET / HTTP/1.1\nHost: a\r\n\r\n", E400, BARE_LF),
	BAD("bare CR in request line", "GET /\ra HTTP/1.1\r\nHost: a\r\n\r\n", E400, BARE_CR),
	BAD("bare LF as first line", "\nGET / HTTP/1.1\r\n\r\n", E400, BARE_LF),

	/* Field lines. */
	BAD("bare LF after a field", "GET / HTTP/1.1\r\nHost: a\n\r\n", E400, BARE_LF),
	BAD("bare LF as the end", "GET / HTTP/1.1\r\nHost: a\r\n\n", E400, BARE_LF),
	BAD("bare CR in a name", "GET / HTTP/1.1\r\nHo\rst: a\r\n\r\n", E400, BARE_CR),
	BAD("bare CR in a value", "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", E400, BARE_CR),
	BAD("CR CR LF", "GET / HTTP/1.1\r\nHost: a\r\r\n\r\n", E400, BARE_CR),
	BAD("line of a lone CR", "GET / HTTP/1.1\r\nHost: a\r\n\rX\r\n\r\n", E400, BARE_CR),
	BAD_BYTES("NUL in a value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n", E400, NUL),
	BAD("control character in a value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\x01\r\n\r\n", E400, CONTROL_CHARACTER),
	BAD("obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", E400, OBS_FOLD),
	BAD("whitespace line before fields", "GET / HTTP/1.1\r\n \r\nHost: a\r\n\r\n", E400, OBS_FOLD),
	BAD("space before colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", E400, SPACE_BEFORE_COLON),
	BAD("tab before colon", "GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", E400, SPACE_BEFORE_COLON),
	BAD("no colon", "GET / HTTP/1.1\r\nHost: a\r\nJunk\r\n\r\n", E400, FIELD_NAME),
	BAD("empty name", "GET / HTTP/1.1\r\nHost: a\r\n: a\r\n\r\n", E400, FIELD_NAME),
	BAD("invalid name character", "GET / HTTP/1.1\r\nHost: a\r\nX(y): a\r\n\r\n", E400, FIELD_NAME),
	BAD("UTF-8 in a name", "GET / HTTP/1.1\r\nHost: a\r\nX\xc3\xa9: a\r\n\r\n", E400, FIELD_NAME),
	BAD("DEL in a value", "GET / HTTP/1.1\r\nHost: a\r\nX: \x7f\r\n\r\n", E400, CONTROL_CHARACTER),

	/* Fields with rules. */
	BAD("HTTP/1.1 without Host", "GET / HTTP/1.1\r\nX: a\r\n\r\n", E400, HOST_MISSING),
	BAD("two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", E400, DUPLICATE_FIELD),
	BAD("Host with a space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", E400, HOST_INVALID),
	BAD("Host with userinfo", "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", E400, HOST_INVALID),
	BAD("Host with a bad port", "GET / HTTP/1.1\r\nHost: a:8o\r\n\r\n", E400, HOST_INVALID),
	BAD("Host unclosed bracket", "GET / HTTP/1.1\r\nHost: [fd5c::1\r\n\r\n", E400, HOST_INVALID),
	BAD("two Ranges", "GET / HTTP/1.1\r\nHost: a\r\nRange: bytes=0-1\r\nRange: bytes=2-3\r\n\r\n", E400, DUPLICATE_FIELD),
	BAD("two If-Modified-Since", "GET / HTTP/1.1\r\nHost: a\r\nIf-Modified-Since: x\r\nif-modified-since: y\r\n\r\n", E400, DUPLICATE_FIELD),
	BAD("two Origins", "GET / HTTP/1.1\r\nHost: a\r\nOrigin: a\r\nOrigin: b\r\n\r\n", E400, DUPLICATE_FIELD),
	BAD("Content-Length not a number", "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n", E400, CONTENT_LENGTH_INVALID),
	BAD("Content-Length negative", "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", E400, CONTENT_LENGTH_INVALID),
	BAD("Content-Length plus sign", "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: +1\r\n\r\n", E400, CONTENT_LENGTH_INVALID),
	BAD("Content-Length empty", "GET / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", E400, CONTENT_LENGTH_INVALID),
	BAD("Content-Length two numbers", "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 2\r\n\r\n", E400, CONTENT_LENGTH_INVALID),
	BAD("Content-Length overflow", "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n", E400, CONTENT_LENGTH_INVALID),
	BAD("Content-Length above INT64_MAX", "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 9223372036854775808\r\n\r\n", E400, CONTENT_LENGTH_INVALID),
	BAD("Content-Length list differs", "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\n", E400, CONTENT_LENGTH_CONFLICT),
	BAD("Content-Length lines differ", "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", E400, CONTENT_LENGTH_CONFLICT),
	BAD("Transfer-Encoding chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", E501, TRANSFER_ENCODING),
	BAD("Transfer-Encoding with Content-Length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", E501, TRANSFER_ENCODING),
	BAD("per-line error before a cross-line one", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\nX : y\r\n\r\n", E400, SPACE_BEFORE_COLON),

	/* Limits {request line bytes, field lines, head bytes}; the request line below is 14
	 * bytes, the head 27. */
	LIMITED("request line at its limit", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 14, 8, 100, COMPLETE, NONE),
	LIMITED("request line over its limit", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 13, 8, 100, E414, REQUEST_LINE_TOO_LONG),
	LIMITED("head limit below the request line", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 100, 8, 10, E414, REQUEST_LINE_TOO_LONG),
	LIMITED("head at its limit", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 100, 8, 27, COMPLETE, NONE),
	LIMITED("head over its limit", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 100, 8, 26, E431, HEAD_TOO_LARGE),
	LIMITED("field lines at their limit", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 100, 1, 100, COMPLETE, NONE),
	LIMITED("field lines over their limit", "GET / HTTP/1.1\r\nHost: a\r\nX: y\r\n\r\n", 100, 1, 100, E431, TOO_MANY_HEADERS),
	LIMITED("count before syntax", "GET / HTTP/1.1\r\nHost: a\r\n X\r\n\r\n", 100, 1, 100, E431, TOO_MANY_HEADERS),
	LIMITED("limit before syntax", "GET / HTTP/1.1\r\nHost: a\r\nX : y\r\n\r\n", 100, 8, 30, E431, HEAD_TOO_LARGE),
};

static struct http_limits case_limits(const struct parse_case *c)
{
	if (c->limits.request_line_bytes || c->limits.header_count || c->limits.head_bytes)
		return c->limits;
	return http_limits_default();
}

static size_t case_len(const struct parse_case *c)
{
	return c->input_len ? c->input_len : strlen(c->input);
}

static bool slice_is(struct http_slice s, const char *expected)
{
	if (!expected)
		return s.data == NULL && s.len == 0;
	return s.data && s.len == strlen(expected) && memcmp(s.data, expected, s.len) == 0;
}

/* Field-by-field comparison of two results of the same buffer (the pointers are equal). */
static bool requests_equal(const struct http_request *a, const struct http_request *b)
{
	if (memcmp(a, b, offsetof(struct http_request, headers)) != 0)
		return false;
	return memcmp(a->headers, b->headers, a->header_count * sizeof(a->headers[0])) == 0;
}

static void check_fields(const struct parse_case *c, const struct http_request *req, const char *how)
{
	TEST_CHECK(req->method == c->method, "%s (%s): method %d, expected %d", c->description, how,
		   req->method, c->method);
	if (c->method != HTTP_METHOD_CONNECT)
		TEST_CHECK(slice_is(req->path, c->path), "%s (%s): path '%.*s'", c->description, how,
			   (int)req->path.len, req->path.data);
	TEST_CHECK(slice_is(req->query, c->query), "%s (%s): query '%.*s'", c->description, how,
		   (int)req->query.len, req->query.data);
	TEST_CHECK(req->has_query == (c->query != NULL), "%s (%s): has_query", c->description, how);
	TEST_CHECK(slice_is(req->host, c->host), "%s (%s): host '%.*s'", c->description, how,
		   (int)req->host.len, req->host.data);
	TEST_CHECK(slice_is(req->range, c->range), "%s (%s): range", c->description, how);
	TEST_CHECK(req->version_minor == c->version_minor, "%s (%s): version", c->description, how);
	TEST_CHECK(req->keep_alive == c->keep_alive, "%s (%s): keep_alive %d", c->description, how,
		   req->keep_alive);
	TEST_CHECK(req->content_length == c->content_length, "%s (%s): content_length %llu",
		   c->description, how, (unsigned long long)req->content_length);
	TEST_CHECK(req->has_content_length == (c->content_length != 0 || strstr(c->input, "Content-Length") ||
					       strstr(c->input, "content-length")),
		   "%s (%s): has_content_length", c->description, how);
	TEST_CHECK(req->header_count == c->header_count, "%s (%s): %u header fields, expected %u",
		   c->description, how, req->header_count, c->header_count);
	TEST_CHECK(req->head_bytes == case_len(c), "%s (%s): head_bytes", c->description, how);
}

static void check_result(const struct parse_case *c, int rc, const struct http_parser *state,
			 const char *how)
{
	size_t len = case_len(c);

	if (c->result == COMPLETE)
		TEST_CHECK(rc == (int)len, "%s (%s): returned %d (%s), expected %zu", c->description,
			   how, rc, http_parse_reason_name(state->reason), len);
	else
		TEST_CHECK(rc == c->result && state->reason == c->reason,
			   "%s (%s): returned %d reason '%s', expected %d '%s'", c->description, how,
			   rc, http_parse_reason_name(state->reason), c->result,
			   http_parse_reason_name(c->reason));
}

static void test_parse_table_whole_and_byte_by_byte(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(parse_cases); i++) {
		const struct parse_case *c = &parse_cases[i];
		struct http_limits limits = case_limits(c);
		size_t len = case_len(c);
		struct guard_buffer guard;
		struct http_parser whole_state, byte_state;
		static struct http_request whole, by_byte;
		int rc_whole, rc_byte = HTTP_PARSE_PARTIAL;

		CU_ASSERT_EQUAL_FATAL(guard_buffer_place(&guard, c->input, len), 0);
		http_parser_init(&whole_state);
		rc_whole = http_parse_request(&whole_state, guard.data, len, &limits, &whole);
		check_result(c, rc_whole, &whole_state, "whole");
		if (c->result == COMPLETE && rc_whole == (int)len)
			check_fields(c, &whole, "whole");
		guard_buffer_release(&guard);

		/* Byte by byte: the buffer grows, each time ending at the guard page. */
		http_parser_init(&byte_state);
		for (size_t n = 1; n <= len && rc_byte == HTTP_PARSE_PARTIAL; n++) {
			CU_ASSERT_EQUAL_FATAL(guard_buffer_place(&guard, c->input, n), 0);
			rc_byte = http_parse_request(&byte_state, guard.data, n, &limits, &by_byte);
			if (rc_byte > 0) {
				/* Compare in this buffer: re-parse whole at the same address. */
				struct http_parser again;

				http_parser_init(&again);
				http_parse_request(&again, guard.data, n, &limits, &whole);
				TEST_CHECK(requests_equal(&whole, &by_byte),
					   "%s: byte by byte gives other fields than whole", c->description);
			}
			guard_buffer_release(&guard);
		}
		TEST_CHECK(rc_byte == rc_whole && byte_state.reason == whole_state.reason,
			   "%s: byte by byte returned %d '%s', whole %d '%s'", c->description, rc_byte,
			   http_parse_reason_name(byte_state.reason), rc_whole,
			   http_parse_reason_name(whole_state.reason));
	}
}

/* Every proper prefix of a head, fresh state each time, ending at the guard page. */
static void test_parse_table_truncations(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(parse_cases); i++) {
		const struct parse_case *c = &parse_cases[i];
		struct http_limits limits = case_limits(c);
		size_t len = case_len(c);

		for (size_t n = 0; n < len; n++) {
			struct guard_buffer guard;
			struct http_parser state;
			static struct http_request req;
			int rc;

			CU_ASSERT_EQUAL_FATAL(guard_buffer_place(&guard, c->input, n), 0);
			http_parser_init(&state);
			rc = http_parse_request(&state, guard.data, n, &limits, &req);
			guard_buffer_release(&guard);
			if (c->result == COMPLETE)
				TEST_CHECK(rc == HTTP_PARSE_PARTIAL, "%s: prefix of %zu bytes returned %d (%s)",
					   c->description, n, rc, http_parse_reason_name(state.reason));
			else
				TEST_CHECK(rc == HTTP_PARSE_PARTIAL || (rc == c->result && state.reason == c->reason),
					   "%s: prefix of %zu bytes returned %d (%s)", c->description, n, rc,
					   http_parse_reason_name(state.reason));
		}
	}
}

/* Two heads in one buffer, the first with a body, then a third after a stray CRLF. */
static void test_parse_pipelined(void)
{
	static const char first[] = "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n";
	static const char body[] = "hello";
	static const char second[] = "GET /b HTTP/1.1\r\nHost: a\r\n\r\n";
	static const char third[] = "\r\nHEAD /c HTTP/1.0\r\n\r\n";
	char input[256];
	struct http_limits limits = http_limits_default();
	struct guard_buffer guard;
	struct http_parser state;
	static struct http_request req;
	size_t len, offset = 0;
	int rc;

	len = (size_t)snprintf(input, sizeof(input), "%s%s%s%s", first, body, second, third);
	CU_ASSERT_EQUAL_FATAL(guard_buffer_place(&guard, input, len), 0);
	http_parser_init(&state);
	rc = http_parse_request(&state, guard.data, len, &limits, &req);
	CU_ASSERT_EQUAL(rc, (int)strlen(first));
	CU_ASSERT_EQUAL(req.method, HTTP_METHOD_POST);
	CU_ASSERT_EQUAL(req.content_length, strlen(body));
	/* Calling again on a complete head returns it again. */
	CU_ASSERT_EQUAL(http_parse_request(&state, guard.data, len, &limits, &req), (int)strlen(first));
	offset = strlen(first) + req.content_length;

	http_parser_init(&state);
	rc = http_parse_request(&state, guard.data + offset, len - offset, &limits, &req);
	CU_ASSERT_EQUAL(rc, (int)strlen(second));
	CU_ASSERT(slice_is(req.path, "/b"));
	CU_ASSERT_EQUAL(req.method, HTTP_METHOD_GET);
	offset += strlen(second);

	http_parser_init(&state);
	rc = http_parse_request(&state, guard.data + offset, len - offset, &limits, &req);
	CU_ASSERT_EQUAL(rc, (int)strlen(third));
	CU_ASSERT_EQUAL(offset + strlen(third), len);
	CU_ASSERT(slice_is(req.path, "/c"));
	CU_ASSERT_EQUAL(req.method, HTTP_METHOD_HEAD);
	CU_ASSERT_FALSE(req.keep_alive);
	guard_buffer_release(&guard);
}

/* Feeds input in growing prefixes with one state; returns the first non-PARTIAL result and
 * the length at which it came. */
static int feed_until_result(const char *input, size_t len, const struct http_limits *limits,
			     size_t step, size_t *at, struct http_parser *state)
{
	static struct http_request req;
	int rc = HTTP_PARSE_PARTIAL;
	size_t n;

	http_parser_init(state);
	for (n = step; rc == HTTP_PARSE_PARTIAL; n += step) {
		if (n > len)
			n = len;
		rc = http_parse_request(state, input, n, limits, &req);
		*at = n;
		if (n == len)
			break;
	}
	return rc;
}

/* The limits refuse a head as soon as it crosses them, long before it would end. */
static void test_parse_limits_fire_early(void)
{
	struct http_limits limits = http_limits_default();
	size_t big = 100 * 1024, at = 0, len;
	char *input = malloc(big + 64 * 40 + 100);
	struct http_parser state;
	int rc;

	CU_ASSERT_PTR_NOT_NULL_FATAL(input);

	/* A 100 KB request line: 414 at the first byte past request_line_bytes. */
	len = (size_t)sprintf(input, "GET /");
	memset(input + len, 'a', big);
	len += big;
	rc = feed_until_result(input, len, &limits, 1, &at, &state);
	CU_ASSERT_EQUAL(rc, HTTP_PARSE_URI_TOO_LONG);
	CU_ASSERT_EQUAL(at, limits.request_line_bytes + 1);
	/* Same in big steps, and whole. */
	rc = feed_until_result(input, len, &limits, 1460, &at, &state);
	CU_ASSERT_EQUAL(rc, HTTP_PARSE_URI_TOO_LONG);
	CU_ASSERT(at < limits.request_line_bytes + 1460 + 1);
	rc = feed_until_result(input, len, &limits, len, &at, &state);
	CU_ASSERT_EQUAL(rc, HTTP_PARSE_URI_TOO_LONG);

	/* A flood of field lines: 431 at the first byte of the one too many. */
	len = (size_t)sprintf(input, "GET / HTTP/1.1\r\n");
	for (int i = 0; i < HTTP_LIMIT_HEADER_COUNT_DEFAULT; i++)
		len += (size_t)sprintf(input + len, "X-Field-%02d: v\r\n", i);
	{
		size_t first_byte_of_extra = len;

		len += (size_t)sprintf(input + len, "X-One-Too-Many: v\r\n\r\n");
		rc = feed_until_result(input, len, &limits, 1, &at, &state);
		CU_ASSERT_EQUAL(rc, HTTP_PARSE_HEADERS_TOO_LARGE);
		CU_ASSERT_EQUAL(state.reason, HTTP_PARSE_REASON_TOO_MANY_HEADERS);
		CU_ASSERT_EQUAL(at, first_byte_of_extra + 1);
	}

	/* One huge field value: 431 when the head reaches head_bytes without an end. */
	len = (size_t)sprintf(input, "GET / HTTP/1.1\r\nHost: a\r\nX-Big: ");
	memset(input + len, 'v', big);
	len += big;
	rc = feed_until_result(input, len, &limits, 1, &at, &state);
	CU_ASSERT_EQUAL(rc, HTTP_PARSE_HEADERS_TOO_LARGE);
	CU_ASSERT_EQUAL(state.reason, HTTP_PARSE_REASON_HEAD_TOO_LARGE);
	CU_ASSERT_EQUAL(at, limits.head_bytes);
	/* An error sticks: more bytes do not change it. */
	CU_ASSERT_EQUAL(http_parse_request(&state, input, len, &limits, NULL), HTTP_PARSE_HEADERS_TOO_LARGE);
	free(input);
}

static void test_parse_contract_violation(void)
{
	static const char input[] = "GET / HTTP/1.1\r\nHost: a\r\n";
	struct http_limits limits = http_limits_default();
	struct http_parser state;
	static struct http_request req;

	http_parser_init(&state);
	CU_ASSERT_EQUAL(http_parse_request(&state, input, sizeof(input) - 1, &limits, &req), HTTP_PARSE_PARTIAL);
	CU_ASSERT_EQUAL(http_parse_request(&state, input, 5, &limits, &req), HTTP_PARSE_INTERNAL_ERROR);
	CU_ASSERT_EQUAL(state.reason, HTTP_PARSE_REASON_CALLER);
	CU_ASSERT_EQUAL(http_parse_error_status(HTTP_PARSE_INTERNAL_ERROR), 500);
}

static void test_parse_statuses_and_names(void)
{
	static const struct {
		int result;
		unsigned status;
	} statuses[] = {
		{HTTP_PARSE_BAD_REQUEST, 400},       {HTTP_PARSE_URI_TOO_LONG, 414},
		{HTTP_PARSE_HEADERS_TOO_LARGE, 431}, {HTTP_PARSE_NOT_IMPLEMENTED, 501},
		{HTTP_PARSE_VERSION_NOT_SUPPORTED, 505}, {-12345, 500},
	};

	for (size_t i = 0; i < ARRAY_SIZE(statuses); i++)
		TEST_CHECK(http_parse_error_status(statuses[i].result) == statuses[i].status,
			   "status of %d", statuses[i].result);
	for (int r = 0; r < HTTP_PARSE_REASON_COUNT; r++)
		TEST_CHECK(http_parse_reason_name(r) && strlen(http_parse_reason_name(r)) > 0,
			   "reason %d has a name", r);
	CU_ASSERT_STRING_EQUAL(http_method_name(HTTP_METHOD_OPTIONS), "OPTIONS");
	CU_ASSERT_STRING_EQUAL(http_method_name(HTTP_METHOD_TRACE), "TRACE");
}

static void test_parse_header_lookup(void)
{
	static const char input[] = "GET / HTTP/1.1\r\nHost: a\r\nIf-None-Match: \"a\"\r\nX-A: 1\r\n"
				    "if-none-match: \"b\", \"c\"\r\nAccess-Control-Request-Headers: range\r\n\r\n";
	struct http_limits limits = http_limits_default();
	struct http_parser state;
	static struct http_request req;
	const struct http_header *h;
	uint32_t cursor = 0;

	http_parser_init(&state);
	CU_ASSERT_EQUAL_FATAL(http_parse_request(&state, input, sizeof(input) - 1, &limits, &req),
			      (int)sizeof(input) - 1);
	h = http_request_header(&req, "x-a", 3);
	CU_ASSERT_PTR_NOT_NULL_FATAL(h);
	CU_ASSERT(slice_is(h->value, "1"));
	CU_ASSERT(slice_is(h->name, "X-A"));
	CU_ASSERT_PTR_NULL(http_request_header(&req, "x-b", 3));
	CU_ASSERT_EQUAL(req.if_none_match_lines, 2);
	CU_ASSERT(slice_is(req.if_none_match, "\"a\""));
	CU_ASSERT_EQUAL(req.access_control_request_headers_lines, 1);
	h = http_request_header_next(&req, "IF-NONE-MATCH", 13, &cursor);
	CU_ASSERT(h && slice_is(h->value, "\"a\""));
	h = http_request_header_next(&req, "IF-NONE-MATCH", 13, &cursor);
	CU_ASSERT(h && slice_is(h->value, "\"b\", \"c\""));
	CU_ASSERT_PTR_NULL(http_request_header_next(&req, "IF-NONE-MATCH", 13, &cursor));
}

struct normalize_case {
	const char *description;
	const char *input;
	int result;          /* expected length is strlen(output) when >= 0 */
	const char *output;
};

static const struct normalize_case normalize_cases[] = {
	{"root", "/", 0, "/"},
	{"plain", "/video/a.m4s", 0, "/video/a.m4s"},
	{"percent decoding", "/a%20b/%41%62c", 0, "/a b/Abc"},
	{"lowercase hex", "/%7e%7E", 0, "/~~"},
	{"UTF-8 decoded", "/caf%C3%A9", 0, "/caf\xc3\xa9"},
	{"dot segment", "/a/./b", 0, "/a/b"},
	{"dot-dot segment", "/a/b/../c", 0, "/a/c"},
	{"dot-dot to root", "/a/..", 0, "/"},
	{"trailing dot", "/a/.", 0, "/a/"},
	{"trailing dot-dot keeps directory", "/a/b/..", 0, "/a/"},
	{"encoded dots are dots", "/a/%2e%2E/b", 0, "/b"},
	{"encoded single dot", "/a/%2e/b", 0, "/a/b"},
	{"dots inside a name", "/a/..b/c..", 0, "/a/..b/c.."},
	{"three dots is a name", "/a/.../b", 0, "/a/.../b"},
	{"merged slashes", "//a///b//", 0, "/a/b/"},
	{"trailing slash kept", "/a/", 0, "/a/"},
	{"escape above root", "/..", -EINVAL, NULL},
	{"escape above root later", "/a/../../etc/passwd", -EINVAL, NULL},
	{"encoded escape", "/%2e%2e/etc", -EINVAL, NULL},
	{"relative", "a/b", -EINVAL, NULL},
	{"empty", "", -EINVAL, NULL},
	{"asterisk", "*", -EINVAL, NULL},
	{"encoded slash", "/a%2fb", -EINVAL, NULL},
	{"encoded slash upper", "/a%2Fb", -EINVAL, NULL},
	{"encoded NUL", "/a%00b", -EINVAL, NULL},
	{"encoded control", "/a%0ab", -EINVAL, NULL},
	{"encoded DEL", "/a%7f", -EINVAL, NULL},
	{"truncated escape", "/a%4", -EINVAL, NULL},
	{"truncated escape at end", "/a%", -EINVAL, NULL},
	{"bad hex", "/a%zz", -EINVAL, NULL},
};

static void test_path_normalize_table(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(normalize_cases); i++) {
		const struct normalize_case *c = &normalize_cases[i];
		size_t len = strlen(c->input);
		char out[256];
		struct guard_buffer guard;
		int rc;

		CU_ASSERT_EQUAL_FATAL(guard_buffer_place(&guard, c->input, len), 0);
		rc = http_path_normalize(guard.data, len, out, sizeof(out));
		guard_buffer_release(&guard);
		if (c->output)
			TEST_CHECK(rc == (int)strlen(c->output) && memcmp(out, c->output, (size_t)rc) == 0,
				   "%s: '%s' gave %d '%.*s', expected '%s'", c->description, c->input,
				   rc, rc > 0 ? rc : 0, out, c->output);
		else
			TEST_CHECK(rc == c->result, "%s: '%s' gave %d, expected %d", c->description,
				   c->input, rc, c->result);
		/* len + 1 bytes of output are always enough; fewer may not be. */
		if (c->output) {
			char *tight = malloc(len + 1);

			CU_ASSERT_PTR_NOT_NULL_FATAL(tight);
			TEST_CHECK(http_path_normalize(c->input, len, tight, len + 1) == rc,
				   "%s: len + 1 bytes of output not enough", c->description);
			TEST_CHECK(http_path_normalize(c->input, len, tight, (size_t)rc - 1) == -ENOSPC,
				   "%s: short output not refused", c->description);
			free(tight);
		}
	}
}

/* The parser allocates nothing. */
static void test_parse_allocates_nothing(void)
{
	struct http_limits limits = http_limits_default();
	static struct http_request req;
	uint64_t before, after;

	CU_ASSERT_TRUE_FATAL(test_alloc_counter_works());
	before = test_alloc_counter();
	for (size_t i = 0; i < ARRAY_SIZE(parse_cases); i++) {
		struct http_parser state;
		char out[512];

		http_parser_init(&state);
		http_parse_request(&state, parse_cases[i].input, case_len(&parse_cases[i]), &limits, &req);
		if (req.path.data)
			http_path_normalize(req.path.data, req.path.len, out, sizeof(out));
	}
	after = test_alloc_counter();
	CU_ASSERT_EQUAL(before, after);
}

void test_register(void)
{
	static const struct test_case cases[] = {
		{"table: whole and byte by byte", test_parse_table_whole_and_byte_by_byte},
		{"table: every truncation point", test_parse_table_truncations},
		{"pipelined heads", test_parse_pipelined},
		{"limits fire before the head ends", test_parse_limits_fire_early},
		{"shorter buffer than before", test_parse_contract_violation},
		{"statuses and names", test_parse_statuses_and_names},
		{"header lookup", test_parse_header_lookup},
		{"path normalization table", test_path_normalize_table},
		{"no allocation", test_parse_allocates_nothing},
		{NULL, NULL},
	};
	test_add_suite("http_parse", cases);
}
