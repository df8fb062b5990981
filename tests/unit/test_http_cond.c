/* SPDX-License-Identifier: BSD-3-Clause
 *
 * test_http_cond.c: entity tags and If-None-Match / If-Modified-Since
 * (dataplane/http/http_cond.c).
 *
 * Tables: entity-tag comparison (strong, weak), list matching, and whole requests (parsed by
 * http_parse_request, so the extracted fields are the real ones) with the status each must
 * get for a file with a known ETag and Last-Modified.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "compiler.h"
#include "http_cond.h"
#include "test_alloc_count.h"
#include "test_guard.h"
#include "test_main.h"

struct etag_case {
	const char *a, *b;
	bool strong, weak;
};

static const struct etag_case etag_cases[] = {
	{"\"a\"", "\"a\"", true, true},
	{"W/\"a\"", "\"a\"", false, true},
	{"\"a\"", "W/\"a\"", false, true},
	{"W/\"a\"", "W/\"a\"", false, true},
	{"\"a\"", "\"b\"", false, false},
	{"W/\"a\"", "W/\"b\"", false, false},
	{"\"\"", "\"\"", true, true},
	{"\"\xff\"", "\"\xff\"", true, true},
	{"a", "a", false, false},
	{"\"a", "\"a", false, false},
	{"\"a\"x", "\"a\"x", false, false},
	{"w/\"a\"", "\"a\"", false, false},
	{"\"a b\"", "\"a b\"", false, false},
	{"\"a\"", "", false, false},
};

static void test_etag_compare(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(etag_cases); i++) {
		const struct etag_case *c = &etag_cases[i];

		TEST_CHECK(http_etag_equal_strong(c->a, strlen(c->a), c->b, strlen(c->b)) == c->strong,
			   "strong %s vs %s", c->a, c->b);
		TEST_CHECK(http_etag_equal_weak(c->a, strlen(c->a), c->b, strlen(c->b)) == c->weak,
			   "weak %s vs %s", c->a, c->b);
	}
}

struct list_case {
	const char *list;
	const char *etag;
	bool strong;
	int expected;
};

static const struct list_case list_cases[] = {
	{"*", "\"a\"", false, 1},
	{"*", "", false, 1},
	{"\"a\", \"b\"", "\"b\"", false, 1},
	{"\"a\",\"b\"", "\"c\"", false, 0},
	{"W/\"a\"", "\"a\"", false, 1},
	{"W/\"a\"", "\"a\"", true, 0},
	{"\"a\"", "W/\"a\"", true, 0},
	{"\"a\"", "\"a\"", true, 1},
	{" , \"a\" ,", "\"a\"", false, 1},
	{"\"a\"\t,\t\"b\"", "\"b\"", false, 1},
	{"\"a\" \"b\"", "\"b\"", false, -EINVAL},
	{"\"a", "\"a\"", false, -EINVAL},
	{"a", "\"a\"", false, -EINVAL},
	{"", "\"a\"", false, -EINVAL},
	{",", "\"a\"", false, -EINVAL},
	{"\"a\", *", "\"a\"", false, -EINVAL},
	{"\"a\"", "", false, 0},
};

static void test_etag_list(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(list_cases); i++) {
		const struct list_case *c = &list_cases[i];
		struct guard_buffer guard;
		size_t len = strlen(c->list);
		int rc;

		CU_ASSERT_EQUAL_FATAL(guard_buffer_place(&guard, c->list, len), 0);
		rc = http_etag_list_match(guard.data, len, c->etag, strlen(c->etag), c->strong);
		guard_buffer_release(&guard);
		TEST_CHECK(rc == c->expected, "'%s' against %s (%s): %d, expected %d", c->list, c->etag,
			   c->strong ? "strong" : "weak", rc, c->expected);
	}
}

#define ETAG "\"2ebc98a1-1a\""
#define LAST_MODIFIED 784111777 /* Sun, 06 Nov 1994 08:49:37 GMT */
#define NOW 1700000000

struct cond_case {
	const char *description;
	const char *fields; /* field lines after "GET / HTTP/1.1\r\nHost: a\r\n" (or the method) */
	const char *method;
	const char *etag;   /* the file's; NULL: ETAG */
	enum http_cond_result expected;
};

static const struct cond_case cond_cases[] = {
	{"no conditions", "", "GET", NULL, HTTP_COND_PROCEED},
	{"If-None-Match matches", "If-None-Match: " ETAG "\r\n", "GET", NULL, HTTP_COND_NOT_MODIFIED},
	{"If-None-Match matches, HEAD", "If-None-Match: " ETAG "\r\n", "HEAD", NULL, HTTP_COND_NOT_MODIFIED},
	{"If-None-Match matches, other method", "If-None-Match: " ETAG "\r\n", "DELETE", NULL, HTTP_COND_PRECONDITION_FAILED},
	{"If-None-Match differs", "If-None-Match: \"other\"\r\n", "GET", NULL, HTTP_COND_PROCEED},
	{"If-None-Match star", "If-None-Match: *\r\n", "GET", NULL, HTTP_COND_NOT_MODIFIED},
	{"If-None-Match weak tag", "If-None-Match: W/" ETAG "\r\n", "GET", NULL, HTTP_COND_NOT_MODIFIED},
	{"If-None-Match in a list", "If-None-Match: \"x\", " ETAG ", \"y\"\r\n", "GET", NULL, HTTP_COND_NOT_MODIFIED},
	{"If-None-Match on the second line", "If-None-Match: \"x\"\r\nIf-None-Match: " ETAG "\r\n", "GET", NULL, HTTP_COND_NOT_MODIFIED},
	{"If-None-Match on no line", "If-None-Match: \"x\"\r\nIf-None-Match: \"y\"\r\n", "GET", NULL, HTTP_COND_PROCEED},
	{"If-None-Match for a file without tag", "If-None-Match: " ETAG "\r\n", "GET", "", HTTP_COND_PROCEED},
	{"star for a file without tag", "If-None-Match: *\r\n", "GET", "", HTTP_COND_NOT_MODIFIED},
	{"If-Modified-Since equal", "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n", "GET", NULL, HTTP_COND_NOT_MODIFIED},
	{"If-Modified-Since later", "If-Modified-Since: Mon, 07 Nov 1994 00:00:00 GMT\r\n", "GET", NULL, HTTP_COND_NOT_MODIFIED},
	{"If-Modified-Since earlier", "If-Modified-Since: Sun, 06 Nov 1994 08:49:36 GMT\r\n", "GET", NULL, HTTP_COND_PROCEED},
	{"If-Modified-Since RFC 850", "If-Modified-Since: Sunday, 06-Nov-94 08:49:37 GMT\r\n", "GET", NULL, HTTP_COND_NOT_MODIFIED},
	{"If-Modified-Since asctime", "If-Modified-Since: Sun Nov  6 08:49:37 1994\r\n", "HEAD", NULL, HTTP_COND_NOT_MODIFIED},
	{"If-Modified-Since invalid", "If-Modified-Since: yesterday\r\n", "GET", NULL, HTTP_COND_PROCEED},
	{"If-Modified-Since ignored for other methods", "If-Modified-Since: Mon, 07 Nov 1994 00:00:00 GMT\r\n", "POST", NULL, HTTP_COND_PROCEED},
	{"If-None-Match differs hides If-Modified-Since",
	 "If-None-Match: \"other\"\r\nIf-Modified-Since: Mon, 07 Nov 1994 00:00:00 GMT\r\n", "GET", NULL, HTTP_COND_PROCEED},
	{"If-None-Match matches, If-Modified-Since earlier",
	 "If-None-Match: " ETAG "\r\nIf-Modified-Since: Sun, 06 Nov 1994 08:00:00 GMT\r\n", "GET", NULL, HTTP_COND_NOT_MODIFIED},
	{"invalid If-None-Match still hides If-Modified-Since",
	 "If-None-Match: garbage\r\nIf-Modified-Since: Mon, 07 Nov 1994 00:00:00 GMT\r\n", "GET", NULL, HTTP_COND_PROCEED},
};

static void test_cond_table(void)
{
	struct http_limits limits = http_limits_default();

	for (size_t i = 0; i < ARRAY_SIZE(cond_cases); i++) {
		const struct cond_case *c = &cond_cases[i];
		const char *etag = c->etag ? c->etag : ETAG;
		static struct http_request req;
		struct http_parser state;
		char head[512];
		int len = snprintf(head, sizeof(head), "%s /a.m4s HTTP/1.1\r\nHost: a\r\n%s\r\n", c->method, c->fields);
		enum http_cond_result result;

		http_parser_init(&state);
		CU_ASSERT_EQUAL_FATAL(http_parse_request(&state, head, (size_t)len, &limits, &req), len);
		result = http_cond_evaluate(&req, etag, strlen(etag), LAST_MODIFIED, NOW);
		TEST_CHECK(result == c->expected, "%s: %d, expected %d", c->description, result, c->expected);
	}
}

static void test_etag_format(void)
{
	char out[HTTP_ETAG_MAX], expected[64];
	int rc = http_etag_format(out, sizeof(out), LAST_MODIFIED, 26);

	CU_ASSERT_EQUAL(rc, (int)strlen(ETAG));
	CU_ASSERT_NSTRING_EQUAL(out, ETAG, strlen(ETAG));
	rc = http_etag_format(out, sizeof(out), (time_t)INT64_MAX, UINT64_MAX);
	snprintf(expected, sizeof(expected), "\"%llx-%llx\"", (unsigned long long)INT64_MAX,
		 (unsigned long long)UINT64_MAX);
	CU_ASSERT_EQUAL(rc, (int)strlen(expected));
	CU_ASSERT_NSTRING_EQUAL(out, expected, strlen(expected));
	CU_ASSERT_EQUAL(http_etag_format(out, 5, LAST_MODIFIED, 26), -ENOSPC);
	CU_ASSERT(http_etag_equal_strong(out, (size_t)rc, expected, strlen(expected)));
}

static void test_cond_allocates_nothing(void)
{
	struct http_limits limits = http_limits_default();
	static const char head[] = "GET / HTTP/1.1\r\nHost: a\r\nIf-None-Match: \"x\", " ETAG "\r\n\r\n";
	static struct http_request req;
	struct http_parser state;
	uint64_t before;

	CU_ASSERT_TRUE_FATAL(test_alloc_counter_works());
	http_parser_init(&state);
	CU_ASSERT_FATAL(http_parse_request(&state, head, sizeof(head) - 1, &limits, &req) > 0);
	before = test_alloc_counter();
	CU_ASSERT_EQUAL(http_cond_evaluate(&req, ETAG, strlen(ETAG), LAST_MODIFIED, NOW), HTTP_COND_NOT_MODIFIED);
	CU_ASSERT_EQUAL(test_alloc_counter(), before);
}

void test_register(void)
{
	static const struct test_case cases[] = {
		{"entity-tag comparison", test_etag_compare},
		{"entity-tag lists", test_etag_list},
		{"conditional requests", test_cond_table},
		{"ETag format", test_etag_format},
		{"no allocation", test_cond_allocates_nothing},
		{NULL, NULL},
	};
	test_add_suite("http_cond", cases);
}
