/* SPDX-License-Identifier: BSD-3-Clause
 *
 * test_http_response.c: response heads and CORS fields (dataplane/http/http_response.c).
 *
 * A table of responses (struct http_response as the server would fill it) with the exact
 * bytes each must format to; every output size short of the need is -ENOSPC with nothing
 * written past the buffer (guard page); a table of CORS policies and requests with the
 * fields each must produce.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "compiler.h"
#include "http_response.h"
#include "test_alloc_count.h"
#include "test_guard.h"
#include "test_main.h"

#define DATE "Sun, 06 Nov 1994 08:49:37 GMT"
#define S(text) ((struct http_slice){text, sizeof(text) - 1})

struct response_case {
	const char *description;
	struct http_response response;
	const char *expected;
};

static const struct response_case response_cases[] = {
	{"200 segment",
	 {.status = 200, .keep_alive = true, .accept_ranges = true, .has_content_length = true,
	  .content_length = 1048576, .date = DATE, .server = S("sluice"), .content_type = S("video/iso.segment"),
	  .etag = S("\"2ebc98a1-100000\""), .last_modified = S(DATE), .cache_control = S("public, max-age=31536000, immutable")},
	 "HTTP/1.1 200 OK\r\nServer: sluice\r\nDate: " DATE "\r\nContent-Type: video/iso.segment\r\n"
	 "Content-Length: 1048576\r\nAccept-Ranges: bytes\r\nETag: \"2ebc98a1-100000\"\r\nLast-Modified: " DATE "\r\n"
	 "Cache-Control: public, max-age=31536000, immutable\r\nConnection: keep-alive\r\n\r\n"},
	{"206 single part, closing",
	 {.status = 206, .keep_alive = false, .accept_ranges = true, .has_content_length = true, .content_length = 500,
	  .date = DATE, .content_type = S("video/mp4"), .content_range = HTTP_CONTENT_RANGE_PART,
	  .range = {500, 999}, .complete_length = 8000},
	 "HTTP/1.1 206 Partial Content\r\nDate: " DATE "\r\nContent-Type: video/mp4\r\nContent-Length: 500\r\n"
	 "Content-Range: bytes 500-999/8000\r\nAccept-Ranges: bytes\r\nConnection: close\r\n\r\n"},
	{"416 with its body",
	 {.status = 416, .keep_alive = true, .error_body = true, .content_range = HTTP_CONTENT_RANGE_UNSATISFIED,
	  .complete_length = 8000, .content_type = S("video/mp4"), .has_content_length = true, .content_length = 8000},
	 "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Type: text/plain\r\nContent-Length: 26\r\n"
	 "Content-Range: bytes */8000\r\nConnection: keep-alive\r\n\r\n416 Range Not Satisfiable\n"},
	{"304 has no length and no body",
	 {.status = 304, .keep_alive = true, .has_content_length = true, .content_length = 99, .error_body = true,
	  .date = DATE, .etag = S("\"x\""), .cache_control = S("max-age=60")},
	 "HTTP/1.1 304 Not Modified\r\nDate: " DATE "\r\nETag: \"x\"\r\nCache-Control: max-age=60\r\n"
	 "Connection: keep-alive\r\n\r\n"},
	{"405 with Allow",
	 {.status = 405, .keep_alive = false, .allow = true, .error_body = true, .server = S("sluice")},
	 "HTTP/1.1 405 Method Not Allowed\r\nServer: sluice\r\nContent-Type: text/plain\r\nContent-Length: 23\r\n"
	 "Allow: GET, HEAD, OPTIONS\r\nConnection: close\r\n\r\n405 Method Not Allowed\n"},
	{"404 to a HEAD request: length but no body",
	 {.status = 404, .keep_alive = true, .error_body = true, .head_request = true},
	 "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 14\r\nConnection: keep-alive\r\n\r\n"},
	{"403 from a signed URL, not stored by caches",
	 {.status = 403, .keep_alive = true, .error_body = true, .cache_control = S("no-store")},
	 "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 14\r\nCache-Control: no-store\r\n"
	 "Connection: keep-alive\r\n\r\n403 Forbidden\n"},
	{"204 preflight",
	 {.status = 204, .keep_alive = true, .has_content_length = true, .allow = true,
	  .cors = {.allow_origin = S("https://player.example"), .vary_origin = true, .preflight = true,
		   .allow_headers = S("Range, If-None-Match"), .max_age_seconds = 86400}},
	 "HTTP/1.1 204 No Content\r\nAllow: GET, HEAD, OPTIONS\r\nAccess-Control-Allow-Origin: https://player.example\r\n"
	 "Access-Control-Allow-Methods: GET, HEAD, OPTIONS\r\nAccess-Control-Allow-Headers: Range, If-None-Match\r\n"
	 "Access-Control-Max-Age: 86400\r\nVary: Origin\r\nConnection: keep-alive\r\n\r\n"},
	{"200 with CORS star",
	 {.status = 200, .keep_alive = true, .has_content_length = true, .content_length = 0,
	  .cors = {.allow_origin = S("*")}},
	 "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nAccess-Control-Allow-Origin: *\r\n"
	 "Access-Control-Expose-Headers: Content-Range, Content-Length, ETag, Date\r\nConnection: keep-alive\r\n\r\n"},
	{"200 with Vary but no allowed origin",
	 {.status = 200, .keep_alive = true, .cors = {.vary_origin = true}},
	 "HTTP/1.1 200 OK\r\nVary: Origin\r\nConnection: keep-alive\r\n\r\n"},
	{"410 expired URL",
	 {.status = 410, .keep_alive = true, .error_body = true},
	 "HTTP/1.1 410 Gone\r\nContent-Type: text/plain\r\nContent-Length: 9\r\nConnection: keep-alive\r\n\r\n410 Gone\n"},
	{"largest Content-Length",
	 {.status = 200, .has_content_length = true, .content_length = UINT64_MAX},
	 "HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551615\r\nConnection: close\r\n\r\n"},
};

static void test_response_table(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(response_cases); i++) {
		const struct response_case *c = &response_cases[i];
		size_t expected_len = strlen(c->expected);
		char out[HTTP_RESPONSE_HEAD_MAX];
		int rc = http_response_format(&c->response, out, sizeof(out));

		TEST_CHECK(rc == (int)expected_len && memcmp(out, c->expected, expected_len) == 0,
			   "%s: got %d bytes:\n%.*s\nexpected %zu:\n%s", c->description, rc, rc > 0 ? rc : 0,
			   out, expected_len, c->expected);

		/* Exactly enough room works; any less is -ENOSPC and nothing lands past the end. */
		for (size_t size = 0; size <= expected_len; size++) {
			struct guard_buffer guard;
			int sized;

			CU_ASSERT_EQUAL_FATAL(guard_buffer_place(&guard, NULL, size), 0);
			sized = http_response_format(&c->response, guard.data, size);
			guard_buffer_release(&guard);
			if (size == expected_len)
				TEST_CHECK(sized == rc, "%s: exact size refused", c->description);
			else if (sized != -ENOSPC) {
				TEST_CHECK(0, "%s: %zu bytes gave %d", c->description, size, sized);
				break;
			}
		}
	}
}

static void test_response_unknown_status(void)
{
	struct http_response resp = {.status = 299};
	char out[256];

	CU_ASSERT_EQUAL(http_response_format(&resp, out, sizeof(out)), -EINVAL);
	CU_ASSERT_PTR_NULL(http_status_reason(299));
	CU_ASSERT_STRING_EQUAL(http_status_reason(431), "Request Header Fields Too Large");
	CU_ASSERT_STRING_EQUAL(http_status_reason(505), "HTTP Version Not Supported");
	/* Every status the parser and the signed URLs can ask for has a phrase. */
	for (unsigned status = 400; status < 600; status++)
		if (status == 400 || status == 403 || status == 410 || status == 414 || status == 431 ||
		    status == 500 || status == 501 || status == 505)
			TEST_CHECK(http_status_reason(status) != NULL, "no reason for %u", status);
}

struct cors_case {
	const char *description;
	bool enabled, any_origin;
	const char *request;      /* the head after the request line */
	const char *method;
	bool preflight;           /* returned */
	const char *allow_origin; /* NULL: none */
	bool vary_origin;
	bool preflight_fields;
};

static const struct cors_case cors_cases[] = {
	{"disabled", false, false, "Origin: https://player.example\r\n", "GET", false, NULL, false, false},
	{"any origin", true, true, "Origin: https://evil.example\r\n", "GET", false, "*", false, false},
	{"any origin without Origin", true, true, "", "GET", false, "*", false, false},
	{"listed origin echoed", true, false, "Origin: https://player.example\r\n", "GET", false, "https://player.example", true, false},
	{"listed origin, other case", true, false, "Origin: HTTPS://Player.Example\r\n", "GET", false, "HTTPS://Player.Example", true, false},
	{"unlisted origin", true, false, "Origin: https://evil.example\r\n", "GET", false, NULL, true, false},
	{"no Origin still varies", true, false, "", "GET", false, NULL, true, false},
	{"prefix of a listed origin", true, false, "Origin: https://player.exam\r\n", "GET", false, NULL, true, false},
	{"preflight allowed", true, false, "Origin: https://player.example\r\nAccess-Control-Request-Method: GET\r\n",
	 "OPTIONS", true, "https://player.example", true, true},
	{"preflight refused", true, false, "Origin: https://evil.example\r\nAccess-Control-Request-Method: GET\r\n",
	 "OPTIONS", true, NULL, true, false},
	{"OPTIONS without request method", true, false, "Origin: https://player.example\r\n", "OPTIONS", false,
	 "https://player.example", true, false},
	{"preflight with star", true, true, "Origin: https://x.example\r\nAccess-Control-Request-Method: HEAD\r\n",
	 "OPTIONS", true, "*", false, true},
};

static void test_cors_table(void)
{
	struct http_cors_policy policy = {
		.origin_count = 2,
		.origins = {S("https://other.example"), S("https://player.example")},
		.allow_headers = S(HTTP_CORS_ALLOW_HEADERS_DEFAULT),
		.max_age_seconds = 600,
	};
	struct http_limits limits = http_limits_default();

	for (size_t i = 0; i < ARRAY_SIZE(cors_cases); i++) {
		const struct cors_case *c = &cors_cases[i];
		static struct http_request req;
		struct http_response resp = {.status = 200};
		struct http_parser state;
		char head[512];
		int len = snprintf(head, sizeof(head), "%s /a.m4s HTTP/1.1\r\nHost: a\r\n%s\r\n", c->method, c->request);
		bool preflight;

		policy.enabled = c->enabled;
		policy.any_origin = c->any_origin;
		http_parser_init(&state);
		CU_ASSERT_EQUAL_FATAL(http_parse_request(&state, head, (size_t)len, &limits, &req), len);
		preflight = http_response_cors(&resp, &policy, &req);
		TEST_CHECK(preflight == c->preflight, "%s: preflight %d", c->description, preflight);
		if (c->allow_origin)
			TEST_CHECK(resp.cors.allow_origin.len == strlen(c->allow_origin) &&
					   memcmp(resp.cors.allow_origin.data, c->allow_origin, resp.cors.allow_origin.len) == 0,
				   "%s: allow origin '%.*s'", c->description, (int)resp.cors.allow_origin.len,
				   resp.cors.allow_origin.data);
		else
			TEST_CHECK(resp.cors.allow_origin.len == 0, "%s: an origin was allowed", c->description);
		TEST_CHECK(resp.cors.vary_origin == c->vary_origin, "%s: vary", c->description);
		TEST_CHECK(resp.cors.preflight == c->preflight_fields, "%s: preflight fields", c->description);
		if (c->preflight_fields)
			TEST_CHECK(resp.cors.max_age_seconds == 600 &&
					   resp.cors.allow_headers.len == strlen(HTTP_CORS_ALLOW_HEADERS_DEFAULT),
				   "%s: preflight values", c->description);
	}
}

static void test_response_allocates_nothing(void)
{
	char out[HTTP_RESPONSE_HEAD_MAX];
	uint64_t before;

	CU_ASSERT_TRUE_FATAL(test_alloc_counter_works());
	before = test_alloc_counter();
	for (size_t i = 0; i < ARRAY_SIZE(response_cases); i++)
		http_response_format(&response_cases[i].response, out, sizeof(out));
	CU_ASSERT_EQUAL(test_alloc_counter(), before);
}

void test_register(void)
{
	static const struct test_case cases[] = {
		{"response table and every short buffer", test_response_table},
		{"statuses", test_response_unknown_status},
		{"CORS table", test_cors_table},
		{"no allocation", test_response_allocates_nothing},
		{NULL, NULL},
	};
	test_add_suite("http_response", cases);
}
