/* SPDX-License-Identifier: BSD-3-Clause
 *
 * test_http_server.c: the HTTP server (dataplane/http/http_server.c) on the real TCP engine and
 * a real store, through http_harness: every response compared field by field and body byte
 * for byte. Tables for ranges, conditional requests, CORS, methods, malformed requests and
 * signed URLs; scenarios for multipart bodies, pipelining, HTTP/1.0, request bodies, the three
 * timeouts, page-ins (parking, latency histogram, retransmission of evicted bytes), files that
 * shrink underneath (broken flag and SIGBUS guard), pool exhaustion, the access log and its
 * reader, catalog swaps and settings changes.
 */
#define NO_COMPAT_IMB_API_053
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "accesslog_read.h"
#include "http/http_parse.h"
#include "http/http_range.h"
#include "http/url_sign.h"
#include "http_harness.h"
#include "store/store_guard.h"
#include "store/store_resident.h"
#include "test_main.h"

#define SMALL 0  /* file indices in http_harness_default_files */
#define SEG 1
#define EMPTY 2
#define BIG 3

static struct http_harness H;
static uint16_t next_port = 20000;

static struct http_client *connect_client(void)
{
	return http_client_connect(&H, next_port++);
}

/* Sends request text and takes one response. */
static bool exchange(struct http_client *cl, const char *request, struct http_test_response *r, bool head)
{
	http_client_send_str(&H, cl, request);
	return http_client_next_response(cl, r, head);
}

static bool get(struct http_client *cl, const char *path, const char *fields, struct http_test_response *r)
{
	char request[2048];

	snprintf(request, sizeof(request), "GET %s HTTP/1.1\r\nHost: edge\r\n%s\r\n", path, fields ? fields : "");
	return exchange(cl, request, r, false);
}

static bool field_is(const struct http_test_response *r, const char *name, const char *want)
{
	char v[512];
	const char *got = http_test_field(r, name, v, sizeof(v));

	if (!want)
		return !got;
	return got && !strcmp(got, want);
}

/* --- basics ----------------------------------------------------------------------------------- */

static void test_get_head_404(void)
{
	struct http_test_response r;
	struct http_client *cl;
	char etag[64];

	http_harness_init(&H, NULL, NULL, 64, 0);
	cl = connect_client();
	CU_ASSERT_FATAL(get(cl, "/video/small.m4s", NULL, &r));
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT(field_is(&r, "Content-Type", "video/iso.segment"));
	CU_ASSERT(field_is(&r, "Content-Length", "1000"));
	CU_ASSERT(field_is(&r, "Accept-Ranges", "bytes"));
	CU_ASSERT(field_is(&r, "Cache-Control", "public, max-age=60"));
	CU_ASSERT(field_is(&r, "Last-Modified", "Tue, 14 Nov 2023 22:13:20 GMT"));
	CU_ASSERT(field_is(&r, "Connection", "keep-alive"));
	CU_ASSERT(field_is(&r, "Server", "sluice"));
	CU_ASSERT(field_is(&r, "ETag", http_harness_file_entry(&H, "/video/small.m4s")->etag));
	CU_ASSERT_PTR_NOT_NULL(http_test_field(&r, "Date", etag, sizeof(etag)));
	CU_ASSERT(r.body_len == 1000 && http_harness_body_ok(r.body, r.body_len, SMALL, 0));
	/* HEAD: the same head, no body. */
	CU_ASSERT_FATAL(exchange(cl, "HEAD /video/small.m4s HTTP/1.1\r\nHost: edge\r\n\r\n", &r, true));
	CU_ASSERT(r.status == 200 && field_is(&r, "Content-Length", "1000"));
	CU_ASSERT_EQUAL(cl->rx_len, cl->rx_taken);
	/* Empty file, absent file, big file. */
	CU_ASSERT_FATAL(get(cl, "/video/empty.vtt", NULL, &r));
	CU_ASSERT(r.status == 200 && r.body_len == 0 && field_is(&r, "Content-Type", "text/vtt"));
	CU_ASSERT_FATAL(get(cl, "/video/none.m4s", NULL, &r));
	CU_ASSERT(r.status == 404 && field_is(&r, "Content-Type", "text/plain") && field_is(&r, "Cache-Control", NULL));
	CU_ASSERT(r.body_len == 14 && !memcmp(r.body, "404 Not Found\n", 14));
	CU_ASSERT_FATAL(get(cl, "/video/./x/../big.mp4", NULL, &r));
	CU_ASSERT(r.status == 200 && r.body_len == (4u << 20) && http_harness_body_ok(r.body, r.body_len, BIG, 0));
	CU_ASSERT_EQUAL(HTTP_COUNTER(&H, http_requests), 5);
	CU_ASSERT_EQUAL(HTTP_COUNTER(&H, http_responses_404), 1);
	CU_ASSERT_FALSE(cl->got_fin || cl->got_rst);
	http_harness_fini(&H);
}

/* --- ranges ------------------------------------------------------------------------------------ */

static void test_ranges(void)
{
	static const struct {
		const char *description;
		const char *fields;
		int status;
		const char *content_range; /* NULL: none */
		uint64_t first, length;    /* body: SEG bytes from first */
	} cases[] = {
		{"first 100", "Range: bytes=0-99\r\n", 206, "bytes 0-99/300000", 0, 100},
		{"open-ended", "Range: bytes=299900-\r\n", 206, "bytes 299900-299999/300000", 299900, 100},
		{"suffix", "Range: bytes=-100\r\n", 206, "bytes 299900-299999/300000", 299900, 100},
		{"suffix larger than the file", "Range: bytes=-400000\r\n", 206, "bytes 0-299999/300000", 0, 300000},
		{"last beyond the end is clamped", "Range: bytes=299990-400000\r\n", 206, "bytes 299990-299999/300000",
		 299990, 10},
		{"one byte", "Range: bytes=0-0\r\n", 206, "bytes 0-0/300000", 0, 1},
		{"overlapping ranges coalesce", "Range: bytes=0-9,5-20\r\n", 206, "bytes 0-20/300000", 0, 21},
		{"invalid (last < first): whole file", "Range: bytes=100-50\r\n", 200, NULL, 0, 300000},
		{"other unit: whole file", "Range: items=0-1\r\n", 200, NULL, 0, 300000},
		{"more ranges than max_ranges: whole file",
		 "Range: bytes=0-1,3-4,6-7,9-10,12-13,15-16,18-19,21-22,24-25\r\n", 200, NULL, 0, 300000},
		{"unsatisfiable", "Range: bytes=300000-\r\n", 416, "bytes */300000", 0, 0},
		{"zero suffix unsatisfiable", "Range: bytes=-0\r\n", 416, "bytes */300000", 0, 0},
	};
	struct http_client *cl;

	http_harness_init(&H, NULL, NULL, 64, 0);
	cl = connect_client();
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct http_test_response r;
		char v[64];

		TEST_CHECK(get(cl, "/video/seg.m4s", cases[i].fields, &r), "%s: a response", cases[i].description);
		TEST_CHECK(r.status == cases[i].status, "%s: status %d", cases[i].description, r.status);
		TEST_CHECK(field_is(&r, "Content-Range", cases[i].content_range), "%s: Content-Range %s",
			   cases[i].description, http_test_field(&r, "Content-Range", v, sizeof(v)) ? v : "(none)");
		if (cases[i].status == 416) {
			TEST_CHECK(field_is(&r, "Content-Type", "text/plain"), "%s: 416 text body", cases[i].description);
			continue;
		}
		TEST_CHECK(r.body_len == cases[i].length && http_harness_body_ok(r.body, r.body_len, SEG, cases[i].first),
			   "%s: body %zu bytes from %llu", cases[i].description, r.body_len,
			   (unsigned long long)cases[i].first);
		TEST_CHECK(field_is(&r, "Content-Type", "video/iso.segment"), "%s: type", cases[i].description);
	}
	/* HEAD ignores Range (RFC 9110 §14.2: defined for GET only). */
	{
		struct http_test_response r;

		CU_ASSERT_FATAL(exchange(cl, "HEAD /video/seg.m4s HTTP/1.1\r\nHost: e\r\nRange: bytes=0-9\r\n\r\n", &r, true));
		CU_ASSERT(r.status == 200 && field_is(&r, "Content-Length", "300000"));
	}
	CU_ASSERT_EQUAL(HTTP_COUNTER(&H, http_responses_416), 2);
	http_harness_fini(&H);
}

/* Parses a multipart/byteranges body and checks every part against the file. */
static bool multipart_ok(const struct http_test_response *r, uint32_t file, uint64_t size,
			 const struct http_range *want, uint32_t parts)
{
	char type[128], delimiter[160], expect[512];
	const char *boundary;
	size_t at = 0;

	if (!http_test_field(r, "Content-Type", type, sizeof(type)) ||
	    strncmp(type, "multipart/byteranges; boundary=", 31))
		return false;
	boundary = type + 31;
	snprintf(delimiter, sizeof(delimiter), "\r\n--%s", boundary);
	for (uint32_t p = 0; p < parts; p++) {
		int n = snprintf(expect, sizeof(expect), "%s\r\nContent-Type: video/mp4\r\nContent-Range: bytes %llu-%llu/%llu\r\n\r\n",
				 delimiter, (unsigned long long)want[p].first, (unsigned long long)want[p].last,
				 (unsigned long long)size);
		uint64_t len = want[p].last - want[p].first + 1;

		if (at + (size_t)n + len > r->body_len || memcmp(r->body + at, expect, (size_t)n))
			return false;
		at += (size_t)n;
		if (!http_harness_body_ok(r->body + at, len, file, want[p].first))
			return false;
		at += len;
	}
	snprintf(expect, sizeof(expect), "%s--\r\n", delimiter);
	return at + strlen(expect) == r->body_len && !memcmp(r->body + at, expect, strlen(expect));
}

static void test_multipart(void)
{
	static const struct http_range three[] = {{0, 9}, {100, 199}, {(4 << 20) - 50, (4 << 20) - 1}};
	struct http_range sixteen[16];
	struct http_server_settings s;
	struct http_test_response r;
	struct http_client *cl;
	char fields[1024];
	int n;

	http_harness_settings(&s, 64);
	s.max_ranges = 16;
	http_harness_init(&H, NULL, &s, 64, 0);
	cl = connect_client();
	CU_ASSERT_FATAL(get(cl, "/video/big.mp4", "Range: bytes=0-9,100-199,-50\r\n", &r));
	CU_ASSERT_EQUAL(r.status, 206);
	CU_ASSERT(field_is(&r, "Content-Range", NULL));
	CU_ASSERT(multipart_ok(&r, BIG, 4 << 20, three, 3));
	/* Sixteen parts: part heads take more than one response slot buffer. */
	n = snprintf(fields, sizeof(fields), "Range: bytes=");
	for (uint32_t i = 0; i < 16; i++) {
		sixteen[i].first = (uint64_t)i * 200000 + 17;
		sixteen[i].last = sixteen[i].first + 1000 + i * 5000;
		n += snprintf(fields + n, sizeof(fields) - (size_t)n, "%s%llu-%llu", i ? "," : "",
			      (unsigned long long)sixteen[i].first, (unsigned long long)sixteen[i].last);
	}
	snprintf(fields + n, sizeof(fields) - (size_t)n, "\r\n");
	CU_ASSERT_FATAL(get(cl, "/video/big.mp4", fields, &r));
	CU_ASSERT_EQUAL(r.status, 206);
	CU_ASSERT(multipart_ok(&r, BIG, 4 << 20, sixteen, 16));
	CU_ASSERT_EQUAL(HTTP_COUNTER(&H, http_range_multipart), 2);
	/* Both answered: every slot and item returned once acknowledged. */
	CU_ASSERT_EQUAL(cl->rx_len, cl->rx_taken);
	http_harness_fini(&H);
}

/* --- conditional requests ---------------------------------------------------------------------- */

static void test_conditional(void)
{
	static const struct {
		const char *description;
		const char *fields;        /* %s: the file's ETag */
		int status;
	} cases[] = {
		{"If-None-Match with the ETag", "If-None-Match: %s\r\n", 304},
		{"If-None-Match with a weak form of it", "If-None-Match: W/%s\r\n", 304},
		{"If-None-Match in a list", "If-None-Match: \"x\", %s\r\n", 304},
		{"If-None-Match other", "If-None-Match: \"other\"\r\n", 200},
		{"If-None-Match *", "If-None-Match: *\r\n", 304},
		{"If-Modified-Since = Last-Modified", "If-Modified-Since: Tue, 14 Nov 2023 22:13:20 GMT\r\n", 304},
		{"If-Modified-Since later", "If-Modified-Since: Wed, 15 Nov 2023 00:00:00 GMT\r\n", 304},
		{"If-Modified-Since earlier", "If-Modified-Since: Mon, 13 Nov 2023 00:00:00 GMT\r\n", 200},
		{"If-None-Match wins over If-Modified-Since",
		 "If-None-Match: \"other\"\r\nIf-Modified-Since: Wed, 15 Nov 2023 00:00:00 GMT\r\n", 200},
		{"If-Range with the ETag", "Range: bytes=0-9\r\nIf-Range: %s\r\n", 206},
		{"If-Range with another ETag", "Range: bytes=0-9\r\nIf-Range: \"other\"\r\n", 200},
		{"If-Range with a weak ETag", "Range: bytes=0-9\r\nIf-Range: W/%s\r\n", 200},
		{"If-Range with Last-Modified", "Range: bytes=0-9\r\nIf-Range: Tue, 14 Nov 2023 22:13:20 GMT\r\n", 206},
		{"If-Range with another date", "Range: bytes=0-9\r\nIf-Range: Tue, 14 Nov 2023 22:13:21 GMT\r\n", 200},
		{"304 before Range", "If-None-Match: %s\r\nRange: bytes=0-9\r\n", 304},
	};
	const char *etag;
	struct http_client *cl;

	http_harness_init(&H, NULL, NULL, 64, 0);
	etag = http_harness_file_entry(&H, "/video/small.m4s")->etag;
	cl = connect_client();
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct http_test_response r;
		char fields[512];
		const char *mark = strstr(cases[i].fields, "%s");

		if (mark)
			snprintf(fields, sizeof(fields), "%.*s%s%s", (int)(mark - cases[i].fields), cases[i].fields, etag,
				 mark + 2);
		else
			snprintf(fields, sizeof(fields), "%s", cases[i].fields);
		TEST_CHECK(get(cl, "/video/small.m4s", fields, &r), "%s: a response", cases[i].description);
		TEST_CHECK(r.status == cases[i].status, "%s: status %d, expected %d", cases[i].description, r.status,
			   cases[i].status);
		if (r.status == 304)
			TEST_CHECK(r.body_len == 0 && field_is(&r, "ETag", etag) && field_is(&r, "Content-Length", NULL) &&
					   field_is(&r, "Cache-Control", "public, max-age=60"),
				   "%s: 304 carries the validators, no body", cases[i].description);
		if (r.status == 206)
			TEST_CHECK(r.body_len == 10 && http_harness_body_ok(r.body, 10, SMALL, 0), "%s: range body",
				   cases[i].description);
		if (r.status == 200)
			TEST_CHECK(r.body_len == 1000, "%s: whole body", cases[i].description);
	}
	http_harness_fini(&H);
}

/* --- CORS and methods ------------------------------------------------------------------------- */

static void test_cors(void)
{
	static const struct {
		const char *description;
		const char *origins;       /* policy */
		const char *request;
		int status;
		const char *allow_origin;  /* NULL: absent */
		const char *vary;
		const char *allow_methods;
		const char *expose;
	} cases[] = {
		{"no policy", "", "GET /video/small.m4s HTTP/1.1\r\nHost: e\r\nOrigin: https://a.example\r\n\r\n", 200,
		 NULL, NULL, NULL, NULL},
		{"any origin", "*", "GET /video/small.m4s HTTP/1.1\r\nHost: e\r\nOrigin: https://a.example\r\n\r\n", 200,
		 "*", NULL, NULL, "Content-Range, Content-Length, ETag, Date"},
		{"listed origin echoed", "https://b.example https://a.example",
		 "GET /video/small.m4s HTTP/1.1\r\nHost: e\r\nOrigin: https://a.example\r\n\r\n", 200, "https://a.example",
		 "Origin", NULL, "Content-Range, Content-Length, ETag, Date"},
		{"unlisted origin", "https://b.example",
		 "GET /video/small.m4s HTTP/1.1\r\nHost: e\r\nOrigin: https://a.example\r\n\r\n", 200, NULL, "Origin",
		 NULL, NULL},
		{"no Origin with a list: Vary anyway", "https://b.example",
		 "GET /video/small.m4s HTTP/1.1\r\nHost: e\r\n\r\n", 200, NULL, "Origin", NULL, NULL},
		{"preflight", "https://a.example",
		 "OPTIONS /video/small.m4s HTTP/1.1\r\nHost: e\r\nOrigin: https://a.example\r\n"
		 "Access-Control-Request-Method: GET\r\nAccess-Control-Request-Headers: range\r\n\r\n",
		 204, "https://a.example", "Origin", "GET, HEAD, OPTIONS", NULL},
		{"OPTIONS without preflight", "", "OPTIONS * HTTP/1.1\r\nHost: e\r\n\r\n", 204, NULL, NULL, NULL, NULL},
		{"CORS on errors too", "*", "GET /none HTTP/1.1\r\nHost: e\r\nOrigin: https://a.example\r\n\r\n", 404, "*",
		 NULL, NULL, "Content-Range, Content-Length, ETag, Date"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct http_server_settings s;
		struct http_test_response r;
		struct http_client *cl;

		http_harness_settings(&s, 16);
		snprintf(s.cors_origins, sizeof(s.cors_origins), "%s", cases[i].origins);
		http_harness_init(&H, NULL, &s, 16, 0);
		cl = connect_client();
		TEST_CHECK(exchange(cl, cases[i].request, &r, false), "%s: a response", cases[i].description);
		TEST_CHECK(r.status == cases[i].status, "%s: status %d", cases[i].description, r.status);
		TEST_CHECK(field_is(&r, "Access-Control-Allow-Origin", cases[i].allow_origin), "%s: allow origin",
			   cases[i].description);
		TEST_CHECK(field_is(&r, "Vary", cases[i].vary), "%s: Vary", cases[i].description);
		TEST_CHECK(field_is(&r, "Access-Control-Allow-Methods", cases[i].allow_methods), "%s: allow methods",
			   cases[i].description);
		TEST_CHECK(field_is(&r, "Access-Control-Expose-Headers", cases[i].expose), "%s: expose",
			   cases[i].description);
		if (cases[i].allow_methods)
			TEST_CHECK(field_is(&r, "Access-Control-Allow-Headers", "Range") &&
					   field_is(&r, "Access-Control-Max-Age", "600"),
				   "%s: preflight fields", cases[i].description);
		if (r.status == 204)
			TEST_CHECK(field_is(&r, "Allow", "GET, HEAD, OPTIONS"), "%s: Allow", cases[i].description);
		http_harness_fini(&H);
	}
}

static void test_methods_and_errors(void)
{
	static const struct {
		const char *description;
		const char *request;
		int status;
		bool closes;
	} cases[] = {
		{"POST: 405 with Allow", "POST /video/small.m4s HTTP/1.1\r\nHost: e\r\n\r\n", 405, false},
		{"DELETE: 405", "DELETE /video/small.m4s HTTP/1.1\r\nHost: e\r\n\r\n", 405, false},
		{"unknown method: 501", "BREW /pot HTTP/1.1\r\nHost: e\r\n\r\n", 501, true},
		{"HTTP/2.0: 505", "GET / HTTP/2.0\r\nHost: e\r\n\r\n", 505, true},
		{"no Host: 400", "GET /video/small.m4s HTTP/1.1\r\n\r\n", 400, true},
		{"bare LF: 400", "GET /video/small.m4s HTTP/1.1\nHost: e\n\n", 400, true},
		{"path above the root: 400", "GET /../etc/passwd HTTP/1.1\r\nHost: e\r\n\r\n", 400, false},
		{"encoded slash: 400", "GET /video%2fsmall.m4s HTTP/1.1\r\nHost: e\r\n\r\n", 400, false},
		{"Transfer-Encoding: 501", "POST /x HTTP/1.1\r\nHost: e\r\nTransfer-Encoding: chunked\r\n\r\n", 501, true},
		{"too many header fields: 431",
		 "GET / HTTP/1.1\r\nHost: e\r\na: 1\r\nb: 1\r\nc: 1\r\nd: 1\r\ne: 1\r\n\r\n", 431, true},
		{"request line too long: 414",
		 "GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		 " HTTP/1.1\r\nHost: e\r\n\r\n", 414, true},
		{"absolute form", "GET http://edge/video/small.m4s HTTP/1.1\r\nHost: other\r\n\r\n", 200, false},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct http_server_settings s;
		struct http_test_response r;
		struct http_client *cl;

		http_harness_settings(&s, 16);
		s.max_header_count = 4;
		s.max_request_line_bytes = 128;
		http_harness_init(&H, NULL, &s, 16, 0);
		cl = connect_client();
		TEST_CHECK(exchange(cl, cases[i].request, &r, false), "%s: a response", cases[i].description);
		TEST_CHECK(r.status == cases[i].status, "%s: status %d", cases[i].description, r.status);
		TEST_CHECK(field_is(&r, "Connection", cases[i].closes ? "close" : "keep-alive") && cl->got_fin == cases[i].closes,
			   "%s: connection %s", cases[i].description, cases[i].closes ? "closed" : "kept");
		if (r.status == 405)
			TEST_CHECK(field_is(&r, "Allow", "GET, HEAD, OPTIONS"), "%s: Allow", cases[i].description);
		if (!cases[i].closes) {
			/* The connection still serves. */
			TEST_CHECK(get(cl, "/video/small.m4s", NULL, &r) && r.status == 200, "%s: serves after",
				   cases[i].description);
		}
		http_harness_fini(&H);
	}
}

/* --- connection handling ------------------------------------------------------------------------ */

static void test_pipelining_and_http10(void)
{
	struct http_test_response r;
	struct http_client *cl;
	char many[4096] = "";

	http_harness_init(&H, NULL, NULL, 16, 0);
	cl = connect_client();
	/* Twelve requests in one segment: more than the pipeline depth (8). */
	for (int i = 0; i < 12; i++)
		strcat(many, i % 3 == 0 ? "GET /video/small.m4s HTTP/1.1\r\nHost: e\r\n\r\n"
			   : i % 3 == 1 ? "GET /video/seg.m4s HTTP/1.1\r\nHost: e\r\nRange: bytes=10-19\r\n\r\n"
					: "HEAD /video/seg.m4s HTTP/1.1\r\nHost: e\r\n\r\n");
	http_client_send_str(&H, cl, many);
	for (int i = 0; i < 12; i++) {
		bool ok = http_client_next_response(cl, &r, i % 3 == 2);

		TEST_CHECK(ok, "pipelined response %d", i);
		if (i % 3 == 0)
			TEST_CHECK(r.status == 200 && http_harness_body_ok(r.body, 1000, SMALL, 0), "response %d", i);
		else if (i % 3 == 1)
			TEST_CHECK(r.status == 206 && http_harness_body_ok(r.body, 10, SEG, 10), "response %d", i);
		else
			TEST_CHECK(r.status == 200 && r.body_len == 0, "response %d", i);
	}
	/* HTTP/1.0: closed after the response unless keep-alive is asked for. */
	CU_ASSERT_FATAL(exchange(cl, "GET /video/small.m4s HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &r, false));
	CU_ASSERT(r.status == 200 && field_is(&r, "Connection", "keep-alive") && !cl->got_fin);
	CU_ASSERT_FATAL(exchange(cl, "GET /video/small.m4s HTTP/1.0\r\n\r\nGET /video/small.m4s HTTP/1.0\r\n\r\n", &r,
				 false));
	CU_ASSERT(r.status == 200 && field_is(&r, "Connection", "close") && r.body_len == 1000);
	CU_ASSERT(cl->got_fin);
	CU_ASSERT_FALSE(http_client_next_response(cl, &r, false)); /* the second was not answered */
	http_harness_fini(&H);
}

static void test_request_bodies(void)
{
	struct http_test_response r;
	struct http_client *cl;
	char big[256];

	http_harness_init(&H, NULL, NULL, 16, 0);
	cl = connect_client();
	/* A body in the same segment as the head, then a pipelined GET. */
	http_client_send_str(&H, cl, "POST /video/small.m4s HTTP/1.1\r\nHost: e\r\nContent-Length: 5\r\n\r\nhello"
				     "GET /video/small.m4s HTTP/1.1\r\nHost: e\r\n\r\n");
	CU_ASSERT(http_client_next_response(cl, &r, false) && r.status == 405);
	CU_ASSERT(http_client_next_response(cl, &r, false) && r.status == 200 && r.body_len == 1000);
	/* A GET with a body arriving in pieces. */
	http_client_send_str(&H, cl, "GET /video/small.m4s HTTP/1.1\r\nHost: e\r\nContent-Length: 3000\r\n\r\n0123");
	CU_ASSERT(http_client_next_response(cl, &r, false) && r.status == 200);
	memset(big, 'x', sizeof(big));
	for (int i = 0; i < 11; i++)
		http_client_send(&H, cl, big, sizeof(big));
	http_client_send(&H, cl, big, 3000 - 4 - 11 * sizeof(big));
	CU_ASSERT(get(cl, "/video/seg.m4s", "Range: bytes=0-0\r\n", &r) && r.status == 206);
	CU_ASSERT_EQUAL(HTTP_COUNTER(&H, http_request_body_bytes_skipped), 3005);
	/* Larger than max_body_bytes (64 KiB here): 413 and close. */
	CU_ASSERT(exchange(cl, "POST /x HTTP/1.1\r\nHost: e\r\nContent-Length: 100000\r\n\r\n", &r, false));
	CU_ASSERT(r.status == 413 && cl->got_fin);
	CU_ASSERT_EQUAL(HTTP_COUNTER(&H, http_request_body_too_large), 1);
	http_harness_fini(&H);
}

static void test_timeouts(void)
{
	struct http_test_response r;
	struct http_client *cl, *idle, *slow, *stuck;

	http_harness_init(&H, NULL, NULL, 16, 0);
	/* Header timeout (10 s): a head that never completes is reset... */
	cl = connect_client();
	http_client_send_str(&H, cl, "GET /video/small.m4s HTTP/1.1\r\n");
	/* ...also when it trickles in a byte at a time (slowloris): the clock runs from its first
	 * byte. */
	slow = connect_client();
	http_client_send_str(&H, slow, "G");
	for (int i = 0; i < 9; i++) {
		http_harness_advance(&H, 1000000);
		http_client_send_str(&H, slow, "E");
	}
	CU_ASSERT_FALSE(cl->got_rst || slow->got_rst);
	/* Keep-alive timeout (60 s): an idle connection after a response gets a FIN. */
	idle = connect_client();
	CU_ASSERT(get(idle, "/video/small.m4s", NULL, &r) && r.status == 200);
	/* Send timeout (30 s): the peer takes nothing (zero window) while a response is queued. */
	stuck = connect_client();
	stuck->window = 0;
	http_client_send_str(&H, stuck, "GET /video/big.mp4 HTTP/1.1\r\nHost: e\r\n\r\n");
	http_harness_advance(&H, 1200000);
	CU_ASSERT(cl->got_rst && slow->got_rst);
	CU_ASSERT_EQUAL(HTTP_COUNTER(&H, http_header_timeouts), 2);
	CU_ASSERT_FALSE(idle->got_fin || stuck->got_rst);
	http_harness_advance(&H, 30000000);
	CU_ASSERT(stuck->got_rst);
	CU_ASSERT_EQUAL(HTTP_COUNTER(&H, http_send_timeouts), 1);
	CU_ASSERT_FALSE(idle->got_fin);
	http_harness_advance(&H, 30000000);
	CU_ASSERT(idle->got_fin && !idle->got_rst);
	CU_ASSERT_EQUAL(HTTP_COUNTER(&H, http_keepalive_timeouts), 1);
	CU_ASSERT_EQUAL(HTTP_COUNTER(&H, http_send_timeouts), 1);
	http_harness_fini(&H);
}

/* --- signed URLs ---------------------------------------------------------------------------------- */

static void test_signed_urls(void)
{
	static const char secret3[] = "3 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
	static const char secret4[] = "4 202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f";
	enum { VALID, EXPIRED, SKEW, WRONG_KID, TAMPERED_PATH, TAMPERED_PREFIX, MISSING, WRONG_CLIENT, UNSIGNED_PREFIX,
	       OTHER_SPELLING, KEY_ROTATED };
	static const struct {
		const char *description;
		int kind;
		int status;
	} cases[] = {
		{"valid", VALID, 200},
		{"expired", EXPIRED, 410},
		{"expired within the skew", SKEW, 200},
		{"unknown key id", WRONG_KID, 403},
		{"tampered path", TAMPERED_PATH, 403},
		{"tampered prefix", TAMPERED_PREFIX, 403},
		{"missing signature", MISSING, 403},
		{"client outside the prefix", WRONG_CLIENT, 403},
		{"path outside sign_prefixes", UNSIGNED_PREFIX, 200},
		{"another spelling of the signed path", OTHER_SPELLING, 200},
		{"key removed from the ring", KEY_ROTATED, 403},
	};
	struct http_server_settings s;
	struct url_sign_keyring ring, ring_without_4;
	struct url_sign_key key;
	struct IMB_MGR *engine = url_sign_engine_create();
	time_t now = time(NULL);

	CU_ASSERT_PTR_NOT_NULL_FATAL(engine);
	url_sign_keyring_init(&ring);
	url_sign_keyring_init(&ring_without_4);
	CU_ASSERT_FATAL(url_sign_key_parse(secret3, strlen(secret3), &key) == 0);
	CU_ASSERT_FATAL(url_sign_keyring_add(&ring, engine, &key) == 0);
	CU_ASSERT_FATAL(url_sign_keyring_add(&ring_without_4, engine, &key) == 0);
	CU_ASSERT_FATAL(url_sign_key_parse(secret4, strlen(secret4), &key) == 0);
	CU_ASSERT_FATAL(url_sign_keyring_add(&ring, engine, &key) == 0);
	http_harness_settings(&s, 16);
	s.sign_required = true;
	snprintf(s.sign_prefixes, sizeof(s.sign_prefixes), "/video/, /other/");
	http_harness_init(&H, NULL, &s, 16, 0);
	http_server_set_sign_keys(H.srv, &ring);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const char *path = "/video/small.m4s";
		struct http_test_response r;
		struct http_client *cl = connect_client();
		char query[URL_SIGN_QUERY_MAX], target[1024];
		time_t exp = now + 60;
		const char *prefix = NULL;
		uint8_t kid = 3;

		switch (cases[i].kind) {
		case EXPIRED: exp = now - 60; break;
		case SKEW: exp = now - 2; break;
		case WRONG_CLIENT: prefix = "10.0.0.0/8"; break;
		case TAMPERED_PREFIX: prefix = "198.18.0.0/24"; break;
		case KEY_ROTATED: kid = 4; break;
		default: break;
		}
		CU_ASSERT_FATAL(url_sign_mint(&ring, engine, kid, path, strlen(path), exp, prefix, query, sizeof(query)) > 0);
		switch (cases[i].kind) {
		case WRONG_KID: {
			char *k = strstr(query, "kid=3");

			k[4] = '9';
			break;
		}
		case TAMPERED_PATH: path = "/video/seg.m4s"; break;
		case TAMPERED_PREFIX: {
			char *p = strstr(query, "0/24");

			CU_ASSERT_PTR_NOT_NULL_FATAL(p);
			memcpy(p + 2, "16", 2); /* a wider prefix than signed */
			break;
		}
		case MISSING: query[0] = 0; break;
		case UNSIGNED_PREFIX: path = "/video2/none"; query[0] = 0; break;
		case OTHER_SPELLING: path = "/video/./x/../%73mall.m4s"; break;
		case KEY_ROTATED: http_server_set_sign_keys(H.srv, &ring_without_4); break;
		default: break;
		}
		snprintf(target, sizeof(target), "%s%s%s", path, query[0] ? "?" : "", query);
		TEST_CHECK(get(cl, target, NULL, &r), "%s: a response", cases[i].description);
		if (cases[i].kind == UNSIGNED_PREFIX)
			TEST_CHECK(r.status == 404, "%s: not signed, not found (%d)", cases[i].description, r.status);
		else
			TEST_CHECK(r.status == cases[i].status, "%s: status %d, expected %d (%.300s)", cases[i].description,
				   r.status, cases[i].status, target);
		if (r.status == 403 || r.status == 410)
			TEST_CHECK(field_is(&r, "Cache-Control", "no-store"), "%s: no-store", cases[i].description);
		if (cases[i].kind == KEY_ROTATED)
			http_server_set_sign_keys(H.srv, &ring);
	}
	CU_ASSERT_EQUAL(HTTP_COUNTER(&H, http_sign_expired), 1);
	CU_ASSERT_EQUAL(HTTP_COUNTER(&H, http_sign_rejected), 6);
	url_sign_key_wipe(&key);
	url_sign_engine_free(engine);
	http_harness_fini(&H);
}

/* --- store: page-ins, evictions, files that shrink ------------------------------------------------- */

static void test_pagein_parks(void)
{
	const struct store_file *big;
	struct http_test_response r;
	struct http_client *cl, *hot;
	uint64_t le_inf;

	http_harness_init(&H, NULL, NULL, 16, 0);
	H.pagein_manual = true;
	big = http_harness_file_entry(&H, "/video/big.mp4");
	store_resident_mark((struct store_file *)big, 0, big->size, false); /* as if evicted */
	cl = connect_client();
	http_client_send_str(&H, cl, "GET /video/big.mp4 HTTP/1.1\r\nHost: e\r\n\r\n");
	/* The head went out; the body waits for the page-in. */
	CU_ASSERT_EQUAL(HTTP_COUNTER(&H, store_parked), 1);
	CU_ASSERT_EQUAL(HTTP_COUNTER(&H, store_parked_total), 1);
	CU_ASSERT_EQUAL(HTTP_COUNTER(&H, store_pagein_requests), 1);
	CU_ASSERT(cl->rx_len > 0 && cl->rx_len < 1000);
	/* Another connection keeps flowing meanwhile. */
	hot = connect_client();
	CU_ASSERT(get(hot, "/video/seg.m4s", NULL, &r) && r.status == 200 && r.body_len == 300000);
	/* Page-ins come 256 KiB at a time (readahead_bytes): serve them until the body is in. */
	for (int i = 0; i < 100 && !http_client_next_response(cl, &r, false); i++) {
		H.net.ns.now_us += 1500; /* 1.5 ms of "disk" per page-in */
		http_harness_serve_pageins(&H);
		http_harness_pump(&H);
	}
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT(r.body_len == big->size && http_harness_body_ok(r.body, r.body_len, BIG, 0));
	CU_ASSERT_EQUAL(HTTP_COUNTER(&H, store_parked), 0);
	le_inf = HTTP_COUNTER(&H, store_pagein_le_inf);
	CU_ASSERT_EQUAL(le_inf, 16); /* 4 MiB / 256 KiB */
	CU_ASSERT_EQUAL(HTTP_COUNTER(&H, store_pagein_le_1ms), 0);
	CU_ASSERT_EQUAL(HTTP_COUNTER(&H, store_pagein_le_10ms), le_inf);
	CU_ASSERT(HTTP_COUNTER(&H, store_pagein_sum_us) >= le_inf * 1500);
	CU_ASSERT(store_range_resident(big, 0, big->size));
	http_harness_fini(&H);
}

static void test_retransmit_of_evicted_bytes(void)
{
	const struct store_file *big;
	struct http_test_response r;
	struct http_client *cl;

	http_harness_init(&H, NULL, NULL, 16, 0);
	H.pagein_manual = true;
	big = http_harness_file_entry(&H, "/video/big.mp4");
	cl = connect_client();
	cl->hold_acks = true;
	http_client_send_str(&H, cl, "GET /video/big.mp4 HTTP/1.1\r\nHost: e\r\n\r\n");
	CU_ASSERT(cl->rx_len > 0);
	/* The client "lost" everything: rewind, so the server's retransmission is what we keep. */
	cl->rcv_nxt -= (uint32_t)cl->rx_len;
	cl->rx_len = 0;
	/* Meanwhile the kernel evicted the file. */
	store_resident_mark((struct store_file *)big, 0, big->size, false);
	cl->hold_acks = false;
	http_harness_advance(&H, 1100000); /* RTO */
	CU_ASSERT(HTTP_COUNTER(&H, store_not_resident_retries) > 0);
	CU_ASSERT_EQUAL(HTTP_COUNTER(&H, tcp_payload_source_failed), 0);
	CU_ASSERT_FALSE(cl->got_rst);
	for (int i = 0; i < 100 && !http_client_next_response(cl, &r, false); i++) {
		http_harness_serve_pageins(&H);
		http_harness_advance(&H, 1000);
	}
	CU_ASSERT(r.status == 200 && r.body_len == big->size && http_harness_body_ok(r.body, r.body_len, BIG, 0));
	http_harness_fini(&H);
}

static void test_file_shrinks(void)
{
	struct store_sweep_result sweep = {0};
	static uint8_t vec[STORE_SWEEP_VEC_BYTES];
	struct http_test_response r;
	struct http_client *during, *after, *other;
	char path[512];

	CU_ASSERT_FATAL(store_guard_install() == 0);
	http_harness_init(&H, NULL, NULL, 16, 0);
	/* A download in progress (the client acknowledges nothing yet). */
	during = connect_client();
	during->hold_acks = true;
	http_client_send_str(&H, during, "GET /video/big.mp4 HTTP/1.1\r\nHost: e\r\n\r\n");
	/* The file is cut to 1 MiB under the mapping. Bits still say resident: the copy of the
	 * bytes beyond the new end raises SIGBUS, which the guard turns into a reset. */
	http_harness_file_path(&H, BIG, path, sizeof(path));
	CU_ASSERT_FATAL(truncate(path, 1 << 20) == 0);
	other = connect_client();
	CU_ASSERT(get(other, "/video/big.mp4", "Range: bytes=3000000-3000099\r\n", &r) == false);
	CU_ASSERT(other->got_rst);
	CU_ASSERT_EQUAL(HTTP_COUNTER(&H, store_sigbus_caught), 1);
	CU_ASSERT_EQUAL(HTTP_COUNTER(&H, store_file_broken_resets), 1);
	CU_ASSERT(store_file_broken(http_harness_file_entry(&H, "/video/big.mp4")));
	/* The download in progress fails when it reaches bytes it must send... */
	during->hold_acks = false;
	http_client_ack(&H, during);
	http_harness_pump(&H);
	CU_ASSERT(during->got_rst);
	/* ...new requests for the file are refused cleanly, other files serve on. */
	after = connect_client();
	CU_ASSERT(get(after, "/video/big.mp4", NULL, &r) && r.status == 503);
	CU_ASSERT(get(after, "/video/seg.m4s", NULL, &r) && r.status == 200 && r.body_len == 300000);
	/* The sweep finds the same by size. */
	store_resident_sweep_catalog(H.catalog, vec, &sweep);
	CU_ASSERT_EQUAL(sweep.files_broken, 0); /* already marked */
	http_harness_file_path(&H, SEG, path, sizeof(path));
	CU_ASSERT_FATAL(truncate(path, 1000) == 0);
	memset(&sweep, 0, sizeof(sweep));
	store_resident_sweep_catalog(H.catalog, vec, &sweep);
	CU_ASSERT_EQUAL(sweep.files_broken, 1);
	CU_ASSERT(get(after, "/video/seg.m4s", NULL, &r) && r.status == 503);
	http_harness_fini(&H);
}

static void test_pagein_of_shrunk_file(void)
{
	const struct store_file *big;
	struct http_client *cl;
	char path[512];

	http_harness_init(&H, NULL, NULL, 16, 0);
	big = http_harness_file_entry(&H, "/video/big.mp4");
	store_resident_mark((struct store_file *)big, 0, big->size, false);
	http_harness_file_path(&H, BIG, path, sizeof(path));
	CU_ASSERT_FATAL(truncate(path, 1 << 20) == 0);
	cl = connect_client();
	http_client_send_str(&H, cl, "GET /video/big.mp4 HTTP/1.1\r\nHost: e\r\nRange: bytes=2000000-\r\n\r\n");
	/* The helper's MADV_POPULATE_READ reports the range beyond the end instead of faulting. */
	CU_ASSERT(cl->got_rst);
	CU_ASSERT_EQUAL(HTTP_COUNTER(&H, store_pagein_failed), 1);
	CU_ASSERT(store_file_broken(big));
	CU_ASSERT_EQUAL(HTTP_COUNTER(&H, store_sigbus_caught), 0);
	http_harness_fini(&H);
}

/* --- pools ------------------------------------------------------------------------------------- */

static void test_pool_exhaustion(void)
{
	struct http_server_settings s;
	struct http_client *cl[16];
	char request[8192];
	int n;

	/* Sixteen connections pipelining eight 16-part requests each need far more response
	 * slots than the pool's spare room: later requests wait for acknowledgements or fall back
	 * to whole files; every connection still gets every answer. */
	http_harness_settings(&s, 16);
	s.max_ranges = 16;
	http_harness_init(&H, NULL, &s, 16, 0);
	n = 0;
	for (int k = 0; k < 8; k++) {
		n += snprintf(request + n, sizeof(request) - (size_t)n, "GET /video/seg.m4s HTTP/1.1\r\nHost: e\r\nRange: bytes=");
		for (int i = 0; i < 16; i++)
			n += snprintf(request + n, sizeof(request) - (size_t)n, "%s%d-%d", i ? "," : "", i * 1000, i * 1000 + 9);
		n += snprintf(request + n, sizeof(request) - (size_t)n, "\r\n\r\n");
	}
	for (int c = 0; c < 16; c++) {
		cl[c] = connect_client();
		cl[c]->hold_acks = true;
		http_client_send_str(&H, cl[c], request);
	}
	CU_ASSERT(HTTP_COUNTER(&H, http_pipeline_waits) + HTTP_COUNTER(&H, http_multipart_degraded) > 0);
	for (int c = 0; c < 16; c++)
		cl[c]->hold_acks = false;
	for (int round = 0; round < 20; round++)
		for (int c = 0; c < 16; c++) {
			http_client_ack(&H, cl[c]);
			http_harness_pump(&H);
		}
	for (int c = 0; c < 16; c++) {
		int answered = 0;
		struct http_test_response r;

		while (http_client_next_response(cl[c], &r, false)) {
			TEST_CHECK(r.status == 206 || (r.status == 200 && r.body_len == 300000), "client %d: status %d", c,
				   r.status);
			answered++;
		}
		TEST_CHECK(answered == 8, "client %d: %d of 8 answered", c, answered);
		TEST_CHECK(!cl[c]->got_rst, "client %d not reset", c);
	}
	CU_ASSERT_EQUAL(HTTP_COUNTER(&H, http_no_session_memory), 0);
	http_harness_fini(&H);
}

static void test_request_buffers_exhausted(void)
{
	struct http_server_settings s;
	struct http_test_response r;
	struct http_client *cl[80];
	int refused = 0;

	/* 16 connections' worth of HTTP pools (16 / 4 + 64 = 68 request buffers) under a TCP
	 * table of 128: the 69th incomplete head gets 503 and a close. */
	http_harness_settings(&s, 16);
	http_harness_init(&H, NULL, &s, 128, 0);
	for (int c = 0; c < 80; c++) {
		cl[c] = connect_client();
		http_client_send_str(&H, cl[c], "GET /video/small.m4s HTTP/1.1\r\n");
	}
	for (int c = 0; c < 80; c++)
		if (http_client_next_response(cl[c], &r, false)) {
			TEST_CHECK(r.status == 503 && cl[c]->got_fin, "client %d: 503 and close", c);
			refused++;
		}
	CU_ASSERT_EQUAL(refused, 80 - 68);
	CU_ASSERT_EQUAL(HTTP_COUNTER(&H, http_no_session_memory), 80 - 68);
	/* The others complete their heads and are served. */
	http_client_send_str(&H, cl[0], "Host: e\r\n\r\n");
	CU_ASSERT(http_client_next_response(cl[0], &r, false) && r.status == 200);
	http_harness_fini(&H);
}

/* --- access log ---------------------------------------------------------------------------------- */

struct log_capture {
	struct sluice_accesslog_record records[16];
	uint32_t count;
};

static int log_capture(const struct sluice_accesslog_record *rec, void *arg)
{
	struct log_capture *cap = arg;

	if (cap->count < 16)
		cap->records[cap->count++] = *rec;
	return 0;
}

static void test_accesslog(void)
{
	struct accesslog_reader reader;
	struct accesslog_drain_result result;
	struct log_capture cap = {0};
	struct http_test_response r;
	struct http_client *cl;
	char json[ACCESSLOG_JSON_MAX];

	http_harness_init(&H, NULL, NULL, 16, 4);
	CU_ASSERT_FATAL(accesslog_reader_open(&reader, H.accesslog_path) == 0);
	cl = connect_client();
	CU_ASSERT(get(cl, "/video/seg.m4s", "Range: bytes=100-199\r\n", &r) && r.status == 206);
	CU_ASSERT(get(cl, "/video/none?x=1", NULL, &r) && r.status == 404);
	CU_ASSERT(exchange(cl, "HEAD /video/small.m4s HTTP/1.1\r\nHost: e\r\n\r\n", &r, true));
	CU_ASSERT_EQUAL(accesslog_reader_pending(&reader), 3);
	CU_ASSERT_EQUAL(accesslog_reader_drain(&reader, 0, log_capture, &cap, &result), 0);
	CU_ASSERT(result.records == 3 && result.dropped == 0 && cap.count == 3);
	CU_ASSERT(cap.records[0].status == 206 && cap.records[0].method == HTTP_METHOD_GET);
	CU_ASSERT(cap.records[0].range_start == 100 && cap.records[0].range_length == 100 && cap.records[0].range_parts == 1);
	CU_ASSERT(cap.records[0].bytes_sent > 100 && !(cap.records[0].flags & SLUICE_ACCESSLOG_ABORTED));
	CU_ASSERT(!strcmp(cap.records[0].path, "/video/seg.m4s") && cap.records[0].lcore_id == 1);
	CU_ASSERT(cap.records[0].catalog_version == 7 && cap.records[0].client_port == cl->port);
	CU_ASSERT(cap.records[1].status == 404 && !strcmp(cap.records[1].path, "/video/none") &&
		  cap.records[1].file_id == UINT32_MAX);
	CU_ASSERT(cap.records[2].method == HTTP_METHOD_HEAD);
	CU_ASSERT(accesslog_record_json(&cap.records[0], json, sizeof(json)) > 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"client\":\"198.18.0.2\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"method\":\"GET\",\"path\":\"/video/seg.m4s\",\"range\":\"bytes=100-199\","
					    "\"status\":206"));
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"tls\":false"));
	/* A ring of 4 with nobody reading: the 5th and 6th are dropped and counted. */
	for (int i = 0; i < 6; i++)
		CU_ASSERT(get(cl, "/video/small.m4s", NULL, &r) && r.status == 200);
	CU_ASSERT_EQUAL(HTTP_COUNTER(&H, accesslog_dropped), 2);
	cap.count = 0;
	accesslog_reader_drain(&reader, 0, log_capture, &cap, &result);
	CU_ASSERT(result.records == 4 && result.dropped == 2);
	/* A response cut short is logged as aborted, with the bytes acknowledged. */
	cl->hold_acks = true;
	http_client_send_str(&H, cl, "GET /video/big.mp4 HTTP/1.1\r\nHost: e\r\n\r\n");
	harness_send_tcp(&H.net, cl->port, 80, TCP_FLAG_RST | TCP_FLAG_ACK, cl->snd_nxt, 0, 0, NULL, NULL, 0);
	cap.count = 0;
	accesslog_reader_drain(&reader, 0, log_capture, &cap, &result);
	CU_ASSERT(cap.count == 1 && (cap.records[0].flags & SLUICE_ACCESSLOG_ABORTED) && cap.records[0].bytes_sent == 0);
	/* The method names the reader prints match the parser's. */
	for (int m = HTTP_METHOD_GET; m <= HTTP_METHOD_TRACE; m++)
		TEST_CHECK(!strcmp(accesslog_method_name((uint8_t)m), http_method_name((enum http_method)m)),
			   "method %d: %s", m, accesslog_method_name((uint8_t)m));
	accesslog_reader_close(&reader);
	http_harness_fini(&H);
}

/* --- catalog swap and settings ------------------------------------------------------------------------ */

static void test_catalog_swap(void)
{
	struct store_catalog *next;
	struct store_sweep_result sweep = {0};
	static uint8_t vec[STORE_SWEEP_VEC_BYTES];
	struct http_test_response r;
	struct http_client *during, *later;
	char err[256], path[512], cmd[2048];

	http_harness_init(&H, NULL, NULL, 16, 0);
	during = connect_client();
	during->hold_acks = true;
	http_client_send_str(&H, during, "GET /video/big.mp4 HTTP/1.1\r\nHost: e\r\n\r\n");
	/* New catalog: big.mp4 removed from the store (and the disk), a new file added. */
	http_harness_file_path(&H, BIG, path, sizeof(path));
	snprintf(cmd, sizeof(cmd), "rm '%s' && head -c 5000 /dev/zero > '%s/video/new.m4s'", path, H.root);
	CU_ASSERT_FATAL(system(cmd) == 0);
	CU_ASSERT_FATAL(store_catalog_build(H.root, H.catalog_path, 8, err, sizeof(err)) > 0);
	next = store_catalog_load(H.root, H.catalog_path, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(next);
	store_resident_sweep_catalog(next, vec, &sweep);
	CU_ASSERT_EQUAL(http_server_set_catalog(H.srv, next), 0);
	CU_ASSERT(http_server_catalog_held(H.srv, H.catalog) && http_server_catalog_held(H.srv, next));
	later = connect_client();
	CU_ASSERT(get(later, "/video/big.mp4", NULL, &r) && r.status == 404);
	CU_ASSERT(get(later, "/video/new.m4s", NULL, &r) && r.status == 200 && r.body_len == 5000);
	/* The download that started before finishes byte-exact from the deleted file. */
	during->hold_acks = false;
	http_client_ack(&H, during);
	http_harness_pump(&H);
	CU_ASSERT(http_client_next_response(during, &r, false) && r.status == 200 && r.body_len == (4u << 20) &&
		  http_harness_body_ok(r.body, r.body_len, BIG, 0));
	CU_ASSERT_FALSE(http_server_catalog_held(H.srv, H.catalog));
	store_catalog_free(H.catalog);
	H.catalog = next;
	http_harness_fini(&H);
}

static void test_settings_change(void)
{
	struct http_server_settings s;
	struct http_test_response r;
	struct http_client *cl;

	http_harness_init(&H, NULL, NULL, 16, 0);
	cl = connect_client();
	CU_ASSERT(get(cl, "/video/small.m4s", "Origin: https://a.example\r\n", &r));
	CU_ASSERT(field_is(&r, "Access-Control-Allow-Origin", NULL));
	http_harness_settings(&s, 16);
	snprintf(s.cache_control, sizeof(s.cache_control), "max-age=5");
	snprintf(s.cors_origins, sizeof(s.cors_origins), "*");
	snprintf(s.server_name, sizeof(s.server_name), "edge-7");
	s.max_ranges = 0;
	http_server_set_settings(H.srv, &s);
	CU_ASSERT(get(cl, "/video/small.m4s", "Origin: https://a.example\r\nRange: bytes=0-1\r\n", &r));
	CU_ASSERT(r.status == 200 && field_is(&r, "Cache-Control", "max-age=5") && field_is(&r, "Server", "edge-7"));
	CU_ASSERT(field_is(&r, "Access-Control-Allow-Origin", "*") && field_is(&r, "Accept-Ranges", NULL));
	http_harness_fini(&H);
}

void test_register(void)
{
	static const struct test_case cases[] = {
		{"GET, HEAD, 404, big file", test_get_head_404},
		{"ranges (table)", test_ranges},
		{"multipart/byteranges byte-exact", test_multipart},
		{"conditional requests (table)", test_conditional},
		{"CORS (table)", test_cors},
		{"methods and malformed requests (table)", test_methods_and_errors},
		{"pipelining and HTTP/1.0", test_pipelining_and_http10},
		{"request bodies skipped", test_request_bodies},
		{"header, keep-alive and send timeouts", test_timeouts},
		{"signed URLs (table)", test_signed_urls},
		{"page-in parks only its connection", test_pagein_parks},
		{"retransmission of evicted bytes waits for a page-in", test_retransmit_of_evicted_bytes},
		{"a file shrinks underneath", test_file_shrinks},
		{"page-in of a shrunk file", test_pagein_of_shrunk_file},
		{"response pools exhausted", test_pool_exhaustion},
		{"request buffers exhausted", test_request_buffers_exhausted},
		{"access log records and reader", test_accesslog},
		{"catalog swap during a download", test_catalog_swap},
		{"settings changed while running", test_settings_change},
		{NULL, NULL},
	};

	test_add_suite("http_server", cases);
}
