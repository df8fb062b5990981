/* SPDX-License-Identifier: BSD-3-Clause
 *
 * test_http_parse.c: the request-head parser as a table of requests with their expected
 * result, each also run at every truncation point on a buffer that ends at a guard page
 * (a read past the input faults), byte at a time (resumed state), and pipelined.
 */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "http/http_parse.h"
#include "test_main.h"

static const struct http_limits limits = {.max_request_line = 200, .max_header_bytes = 1024, .max_headers = 8};

struct parse_case {
	const char *description;
	const char *input;
	int expect;                     /* > 0: success (the head length is strlen); else an error */
	int status;                     /* for errors */
	enum http_method method;
	const char *path;
	const char *query;
	bool keep_alive;
};

#define OK_GET(d, in, p, q, ka) {d, in, 1, 0, HTTP_METHOD_GET, p, q, ka}
#define ERR(d, in, rc, st) {d, in, rc, st, HTTP_METHOD_UNKNOWN, NULL, NULL, false}

static const struct parse_case cases[] = {
	OK_GET("simple", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", "/", NULL, true),
	OK_GET("query", "GET /v/a.m4s?exp=1&sig=x HTTP/1.1\r\nHost: a\r\n\r\n", "/v/a.m4s", "exp=1&sig=x", true),
	OK_GET("empty query", "GET /a? HTTP/1.1\r\nHost: a\r\n\r\n", "/a", "", true),
	OK_GET("HTTP/1.0 closes by default", "GET /a HTTP/1.0\r\n\r\n", "/a", NULL, false),
	OK_GET("HTTP/1.0 keep-alive", "GET /a HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", "/a", NULL, true),
	OK_GET("1.1 close", "GET /a HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", "/a", NULL, false),
	OK_GET("close among tokens", "GET /a HTTP/1.1\r\nHost: a\r\nConnection: upgrade, Close\r\n\r\n", "/a", NULL, false),
	OK_GET("absolute form", "GET http://edge.example/v/a.ts HTTP/1.1\r\nHost: edge.example\r\n\r\n", "/v/a.ts", NULL, true),
	OK_GET("header value whitespace trimmed", "GET / HTTP/1.1\r\nHost:   a  \t\r\nRange:bytes=0-1\r\n\r\n", "/", NULL, true),
	OK_GET("HTTP/1.9 served as 1.1", "GET / HTTP/1.9\r\nHost: a\r\n\r\n", "/", NULL, true),
	OK_GET("empty header value", "GET / HTTP/1.1\r\nHost: a\r\nX-Empty:\r\n\r\n", "/", NULL, true),
	{"HEAD", "HEAD /x HTTP/1.1\r\nHost: a\r\n\r\n", 1, 0, HTTP_METHOD_HEAD, "/x", NULL, true},
	{"OPTIONS *", "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", 1, 0, HTTP_METHOD_OPTIONS, "*", NULL, true},
	{"POST is known (405 later)", "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", 1, 0, HTTP_METHOD_POST,
	 "/x", NULL, true},
	ERR("unknown method", "BREW /pot HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_PARSE_EMETHOD, 501),
	ERR("lower-case method is another token", "get / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_PARSE_EMETHOD, 501),
	ERR("HTTP/2.0", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", HTTP_PARSE_EVERSION, 505),
	ERR("bad version", "GET / HTTQ/1.1\r\nHost: a\r\n\r\n", HTTP_PARSE_EBAD, 400),
	ERR("missing version", "GET /\r\nHost: a\r\n\r\n", HTTP_PARSE_EBAD, 400),
	ERR("two spaces", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_PARSE_EBAD, 400),
	ERR("missing Host in 1.1", "GET / HTTP/1.1\r\n\r\n", HTTP_PARSE_EBAD, 400),
	ERR("two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", HTTP_PARSE_EBAD, 400),
	ERR("space before colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", HTTP_PARSE_EBAD, 400),
	ERR("obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n c\r\n\r\n", HTTP_PARSE_EBAD, 400),
	ERR("bare LF in a header line", "GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n", HTTP_PARSE_EBAD, 400),
	ERR("bare CR in a value", "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", HTTP_PARSE_EBAD, 400),
	ERR("control character in a value", "GET / HTTP/1.1\r\nHost: a\x01\r\n\r\n", HTTP_PARSE_EBAD, 400),
	ERR("empty header name", "GET / HTTP/1.1\r\n: a\r\nHost: a\r\n\r\n", HTTP_PARSE_EBAD, 400),
	ERR("bad token in name", "GET / HTTP/1.1\r\nHo(st: a\r\n\r\n", HTTP_PARSE_EBAD, 400),
	ERR("target not a path", "GET a/b HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_PARSE_EBAD, 400),
	ERR("asterisk only for OPTIONS", "GET * HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_PARSE_EBAD, 400),
	ERR("fragment in target", "GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_PARSE_EBAD, 400),
	ERR("Content-Length not a number", "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n", HTTP_PARSE_EBAD, 400),
	ERR("Content-Length disagrees", "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
	    HTTP_PARSE_EBAD, 400),
	ERR("Transfer-Encoding", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", HTTP_PARSE_ETRANSFER, 501),
	ERR("too many headers", "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 1\r\nC: 1\r\nD: 1\r\nE: 1\r\nF: 1\r\nG: 1\r\nH: 1\r\n\r\n",
	    HTTP_PARSE_EHEAD_TOO_LARGE, 431),
	{NULL, NULL, 0, 0, 0, NULL, NULL, false},
};

/* A buffer whose last byte is the last byte before an inaccessible page. */
static char *guard_base;
static size_t guard_page;

static char *guarded_copy(const char *in, size_t len)
{
	char *dst = guard_base + guard_page - len;
	memcpy(dst, in, len);
	return dst;
}

static bool slice_is(struct http_slice s, const char *want)
{
	if (!want)
		return s.ptr == NULL;
	return s.ptr && s.len == strlen(want) && !memcmp(s.ptr, want, s.len);
}

static void test_parse_table(void)
{
	for (const struct parse_case *c = cases; c->description; c++) {
		size_t len = strlen(c->input);
		char *buf = guarded_copy(c->input, len);
		struct http_parser p;
		struct http_request req;
		int rc;

		http_parser_init(&p);
		rc = http_parse_request(&p, buf, len, &limits, &req);
		if (c->expect > 0) {
			TEST_CHECK(rc == (int)len, "%s: rc %d, expected %zu", c->description, rc, len);
			if (rc <= 0)
				continue;
			TEST_CHECK(req.method == c->method, "%s: method %d", c->description, req.method);
			TEST_CHECK(slice_is(req.path, c->path), "%s: path '%.*s'", c->description, (int)req.path.len,
				   req.path.ptr ? req.path.ptr : "");
			TEST_CHECK(slice_is(req.query, c->query), "%s: query", c->description);
			TEST_CHECK(req.keep_alive == c->keep_alive, "%s: keep_alive %d", c->description, req.keep_alive);
		} else {
			TEST_CHECK(rc == c->expect, "%s: rc %d, expected %d", c->description, rc, c->expect);
			TEST_CHECK(http_parse_error_status(rc) == c->status, "%s: status %d", c->description,
				   http_parse_error_status(rc));
		}
		/* Every truncation is partial (or, for bad input, may already be an error —
		 * never a success, never a read past the end). */
		for (size_t cut = 0; cut < len; cut++) {
			char *t = guarded_copy(c->input, cut);
			int r;

			http_parser_init(&p);
			r = http_parse_request(&p, t, cut, &limits, &req);
			TEST_CHECK(r == HTTP_PARSE_PARTIAL || (c->expect < 0 && r < 0),
				   "%s: truncated to %zu gives %d", c->description, cut, r);
		}
		/* Byte at a time, resuming the same state, ends with the same result. */
		http_parser_init(&p);
		buf = guarded_copy(c->input, len);
		rc = HTTP_PARSE_PARTIAL;
		for (size_t n = 1; n <= len && rc == HTTP_PARSE_PARTIAL; n++) {
			/* The state holds offsets only, so the growing head may move. */
			buf = guarded_copy(c->input, n);
			rc = http_parse_request(&p, buf, n, &limits, &req);
		}
		TEST_CHECK(c->expect > 0 ? rc == (int)len : rc < 0, "%s: byte at a time gives %d", c->description, rc);
	}
}

static void test_parse_headers_found(void)
{
	static const char in[] = "GET /a HTTP/1.1\r\nhost: edge\r\nRANGE: bytes=1-2\r\nIf-None-Match: \"x\"\r\n"
				 "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\nOrigin: https://player\r\n"
				 "If-Range: \"x\"\r\n\r\n";
	struct http_parser p;
	struct http_request req;

	http_parser_init(&p);
	CU_ASSERT_EQUAL_FATAL(http_parse_request(&p, in, sizeof(in) - 1, &(struct http_limits){200, 1024, 16}, &req),
			      (int)sizeof(in) - 1);
	CU_ASSERT(slice_is(req.host, "edge"));
	CU_ASSERT(slice_is(req.range, "bytes=1-2"));
	CU_ASSERT(slice_is(req.if_none_match, "\"x\""));
	CU_ASSERT(slice_is(req.if_range, "\"x\""));
	CU_ASSERT(slice_is(req.origin, "https://player"));
	CU_ASSERT(slice_is(req.if_modified_since, "Sun, 06 Nov 1994 08:49:37 GMT"));
	CU_ASSERT_PTR_NOT_NULL(http_request_header(&req, "Range"));
	CU_ASSERT_PTR_NULL(http_request_header(&req, "Cookie"));
}

static void test_parse_limits_while_partial(void)
{
	char line[400];
	struct http_parser p;
	struct http_request req;

	/* A request line past the limit is refused before its end arrives. */
	memset(line, 'a', sizeof(line));
	memcpy(line, "GET /", 5);
	http_parser_init(&p);
	CU_ASSERT_EQUAL(http_parse_request(&p, line, 150, &limits, &req), HTTP_PARSE_PARTIAL);
	CU_ASSERT_EQUAL(http_parse_request(&p, line, 202, &limits, &req), HTTP_PARSE_ELINE_TOO_LONG);
	/* A head past the byte limit: 431 before it ends. */
	{
		static char big[2048];
		size_t n = (size_t)snprintf(big, sizeof(big), "GET / HTTP/1.1\r\nHost: a\r\nX: ");
		memset(big + n, 'b', sizeof(big) - n);
		http_parser_init(&p);
		CU_ASSERT_EQUAL(http_parse_request(&p, big, 1025, &limits, &req), HTTP_PARSE_EHEAD_TOO_LARGE);
	}
}

static void test_parse_pipelined(void)
{
	static const char in[] = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nHEAD /2 HTTP/1.1\r\nHost: a\r\n\r\nGET /3 HT";
	struct http_parser p;
	struct http_request req;
	size_t off = 0;
	int rc;

	http_parser_init(&p);
	rc = http_parse_request(&p, in, sizeof(in) - 1, &limits, &req);
	CU_ASSERT_EQUAL_FATAL(rc, 28);
	CU_ASSERT(slice_is(req.path, "/1"));
	off += (size_t)rc;
	http_parser_init(&p);
	rc = http_parse_request(&p, in + off, sizeof(in) - 1 - off, &limits, &req);
	CU_ASSERT_EQUAL_FATAL(rc, 29);
	CU_ASSERT_EQUAL(req.method, HTTP_METHOD_HEAD);
	off += (size_t)rc;
	http_parser_init(&p);
	CU_ASSERT_EQUAL(http_parse_request(&p, in + off, sizeof(in) - 1 - off, &limits, &req), HTTP_PARSE_PARTIAL);
}

void test_register(void)
{
	static const struct test_case tests[] = {
		{"table, truncations at a guard page, byte at a time", test_parse_table},
		{"headers the server uses", test_parse_headers_found},
		{"limits while partial", test_parse_limits_while_partial},
		{"pipelined heads", test_parse_pipelined},
		{NULL, NULL},
	};

	guard_page = (size_t)sysconf(_SC_PAGESIZE);
	guard_base = mmap(NULL, 2 * guard_page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (guard_base == MAP_FAILED || mprotect(guard_base + guard_page, guard_page, PROT_NONE))
		abort();
	test_add_suite("http_parse", tests);
}
