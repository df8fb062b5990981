/* SPDX-License-Identifier: BSD-3-Clause
 *
 * test_http_range.c: Range resolution, If-Range and multipart/byteranges framing
 * (dataplane/http/http_range.c).
 *
 * A table of Range values (the RFC 9110 §14.1.2 examples first) with the file size, the
 * configured maximum, and the result and ranges each must give, run on guard-page buffers
 * (whole and every truncation); Content-Range formatting; an If-Range table; and the
 * multipart length computation checked against a body actually assembled from the formatted
 * part heads and the file bytes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler.h"
#include "http_range.h"
#include "test_alloc_count.h"
#include "test_guard.h"
#include "test_main.h"

#define SIZE_10K 10000
#define MAX_RANGES 4

struct range_case {
	const char *description;
	const char *value;
	uint64_t size;
	uint32_t max_ranges;
	enum http_range_result result;
	uint32_t count;
	struct http_range ranges[HTTP_RANGES_MAX];
};

#define IGNORE HTTP_RANGE_IGNORE
#define PARTIAL HTTP_RANGE_PARTIAL
#define UNSATISFIABLE HTTP_RANGE_UNSATISFIABLE

static const struct range_case range_cases[] = {
	/* RFC 9110 §14.1.2, a representation of 10000 bytes. */
	{"first 500 bytes", "bytes=0-499", SIZE_10K, MAX_RANGES, PARTIAL, 1, {{0, 499}}},
	{"second 500 bytes", "bytes=500-999", SIZE_10K, MAX_RANGES, PARTIAL, 1, {{500, 999}}},
	{"final 500 bytes, suffix", "bytes=-500", SIZE_10K, MAX_RANGES, PARTIAL, 1, {{9500, 9999}}},
	{"final 500 bytes, open-ended", "bytes=9500-", SIZE_10K, MAX_RANGES, PARTIAL, 1, {{9500, 9999}}},
	{"first and last bytes", "bytes=0-0,-1", SIZE_10K, MAX_RANGES, PARTIAL, 2, {{0, 0}, {9999, 9999}}},
	{"three ranges with spaces", "bytes= 0-999, 4500-5499, -1000", SIZE_10K, MAX_RANGES, PARTIAL, 3,
	 {{0, 999}, {4500, 5499}, {9000, 9999}}},
	{"adjacent ranges coalesce", "bytes=500-600,601-999", SIZE_10K, MAX_RANGES, PARTIAL, 1, {{500, 999}}},
	{"overlapping ranges coalesce", "bytes=500-700,601-999", SIZE_10K, MAX_RANGES, PARTIAL, 1, {{500, 999}}},

	/* Order and coalescing. */
	{"order kept when nothing touches", "bytes=5000-5099,0-99", SIZE_10K, MAX_RANGES, PARTIAL, 2,
	 {{5000, 5099}, {0, 99}}},
	{"sorted and merged when some touch", "bytes=200-299,0-99,100-199,5000-", SIZE_10K, MAX_RANGES, PARTIAL, 2,
	 {{0, 299}, {5000, 9999}}},
	{"one byte gap is not merged", "bytes=0-9,11-20", SIZE_10K, MAX_RANGES, PARTIAL, 2, {{0, 9}, {11, 20}}},
	{"contained range", "bytes=0-999,10-20", SIZE_10K, MAX_RANGES, PARTIAL, 1, {{0, 999}}},
	{"same range repeated", "bytes=0-0,0-0,0-0", SIZE_10K, MAX_RANGES, PARTIAL, 1, {{0, 0}}},

	/* Clamping and unsatisfiable ranges. */
	{"suffix larger than the file", "bytes=-20000", SIZE_10K, MAX_RANGES, PARTIAL, 1, {{0, 9999}}},
	{"last beyond the end", "bytes=9000-20000", SIZE_10K, MAX_RANGES, PARTIAL, 1, {{9000, 9999}}},
	{"whole file", "bytes=0-", SIZE_10K, MAX_RANGES, PARTIAL, 1, {{0, 9999}}},
	{"first at the end", "bytes=10000-", SIZE_10K, MAX_RANGES, UNSATISFIABLE, 0, {{0, 0}}},
	{"entirely beyond", "bytes=10000-10005", SIZE_10K, MAX_RANGES, UNSATISFIABLE, 0, {{0, 0}}},
	{"empty suffix", "bytes=-0", SIZE_10K, MAX_RANGES, UNSATISFIABLE, 0, {{0, 0}}},
	{"all unsatisfiable", "bytes=-0,10000-,20000-30000", SIZE_10K, MAX_RANGES, UNSATISFIABLE, 0, {{0, 0}}},
	{"unsatisfiable ones dropped", "bytes=10000-,0-1", SIZE_10K, MAX_RANGES, PARTIAL, 1, {{0, 1}}},
	{"one-byte file", "bytes=0-", 1, MAX_RANGES, PARTIAL, 1, {{0, 0}}},
	{"one-byte file suffix", "bytes=-1", 1, MAX_RANGES, PARTIAL, 1, {{0, 0}}},
	{"one-byte file beyond", "bytes=1-", 1, MAX_RANGES, UNSATISFIABLE, 0, {{0, 0}}},
	{"zero-length file", "bytes=0-", 0, MAX_RANGES, IGNORE, 0, {{0, 0}}},
	{"zero-length file suffix", "bytes=-5", 0, MAX_RANGES, IGNORE, 0, {{0, 0}}},
	{"zero-length file beyond", "bytes=5-", 0, MAX_RANGES, IGNORE, 0, {{0, 0}}},

	/* Numbers too large for 64 bits saturate. */
	{"huge first-pos", "bytes=99999999999999999999999-", SIZE_10K, MAX_RANGES, UNSATISFIABLE, 0, {{0, 0}}},
	{"huge last-pos", "bytes=0-99999999999999999999999", SIZE_10K, MAX_RANGES, PARTIAL, 1, {{0, 9999}}},
	{"huge suffix", "bytes=-99999999999999999999999", SIZE_10K, MAX_RANGES, PARTIAL, 1, {{0, 9999}}},
	{"UINT64_MAX", "bytes=18446744073709551615-18446744073709551615", SIZE_10K, MAX_RANGES, UNSATISFIABLE, 0, {{0, 0}}},
	{"UINT64_MAX + 1", "bytes=18446744073709551616-", SIZE_10K, MAX_RANGES, UNSATISFIABLE, 0, {{0, 0}}},
	{"huge file", "bytes=18446744073709551000-", UINT64_MAX, MAX_RANGES, PARTIAL, 1,
	 {{18446744073709551000ULL, UINT64_MAX - 1}}},

	/* Syntax: invalid means ignored (200), even next to unsatisfiable ranges. */
	{"last before first", "bytes=500-400", SIZE_10K, MAX_RANGES, IGNORE, 0, {{0, 0}}},
	{"letters", "bytes=a-b", SIZE_10K, MAX_RANGES, IGNORE, 0, {{0, 0}}},
	{"semicolon separator", "bytes=0-1;2-3", SIZE_10K, MAX_RANGES, IGNORE, 0, {{0, 0}}},
	{"no range", "bytes=", SIZE_10K, MAX_RANGES, IGNORE, 0, {{0, 0}}},
	{"only a comma", "bytes=,", SIZE_10K, MAX_RANGES, IGNORE, 0, {{0, 0}}},
	{"other unit", "items=0-1", SIZE_10K, MAX_RANGES, IGNORE, 0, {{0, 0}}},
	{"no equals sign", "bytes 0-1", SIZE_10K, MAX_RANGES, IGNORE, 0, {{0, 0}}},
	{"space before equals", "bytes =0-1", SIZE_10K, MAX_RANGES, IGNORE, 0, {{0, 0}}},
	{"space inside a spec", "bytes=0 -1", SIZE_10K, MAX_RANGES, IGNORE, 0, {{0, 0}}},
	{"space after the dash", "bytes=0- 1", SIZE_10K, MAX_RANGES, IGNORE, 0, {{0, 0}}},
	{"double dash", "bytes=--1", SIZE_10K, MAX_RANGES, IGNORE, 0, {{0, 0}}},
	{"no dash", "bytes=1", SIZE_10K, MAX_RANGES, IGNORE, 0, {{0, 0}}},
	{"lone dash", "bytes=-", SIZE_10K, MAX_RANGES, IGNORE, 0, {{0, 0}}},
	{"negative number", "bytes=-1-2", SIZE_10K, MAX_RANGES, IGNORE, 0, {{0, 0}}},
	{"garbage after a valid spec", "bytes=0-1,junk", SIZE_10K, MAX_RANGES, IGNORE, 0, {{0, 0}}},
	{"invalid beats unsatisfiable", "bytes=10000-,x", SIZE_10K, MAX_RANGES, IGNORE, 0, {{0, 0}}},
	{"missing comma", "bytes=0-1 5-6", SIZE_10K, MAX_RANGES, IGNORE, 0, {{0, 0}}},

	/* Tolerated: unit case, whitespace around commas, empty list elements. */
	{"uppercase unit", "BYTES=0-1", SIZE_10K, MAX_RANGES, PARTIAL, 1, {{0, 1}}},
	{"mixed-case unit", "Bytes=0-1", SIZE_10K, MAX_RANGES, PARTIAL, 1, {{0, 1}}},
	{"whitespace around commas", "bytes=0-1 ,\t5-6", SIZE_10K, MAX_RANGES, PARTIAL, 2, {{0, 1}, {5, 6}}},
	{"trailing whitespace", "bytes=0-1 ", SIZE_10K, MAX_RANGES, PARTIAL, 1, {{0, 1}}},
	{"empty list elements", "bytes=,0-1,,5-6,", SIZE_10K, MAX_RANGES, PARTIAL, 2, {{0, 1}, {5, 6}}},

	/* The configured maximum (counts satisfiable ranges before coalescing, like nginx). */
	{"at the maximum", "bytes=0-0,2-2", SIZE_10K, 2, PARTIAL, 2, {{0, 0}, {2, 2}}},
	{"over the maximum", "bytes=0-0,2-2,4-4", SIZE_10K, 2, IGNORE, 0, {{0, 0}}},
	{"over the maximum even if they would merge", "bytes=0-0,0-0,0-0", SIZE_10K, 2, IGNORE, 0, {{0, 0}}},
	{"unsatisfiable ranges do not count", "bytes=20000-,0-1", SIZE_10K, 1, PARTIAL, 1, {{0, 1}}},
	{"maximum 0 disables ranges", "bytes=0-1", SIZE_10K, 0, IGNORE, 0, {{0, 0}}},
	{"maximum above the storage is lowered", "bytes=0-0,2-2,4-4,6-6,8-8,10-10,12-12,14-14,16-16,18-18,"
	 "20-20,22-22,24-24,26-26,28-28,30-30,32-32", SIZE_10K, 1000, IGNORE, 0, {{0, 0}}},
	{"sixteen touching ranges", "bytes=0-0,1-1,2-2,3-3,4-4,5-5,6-6,7-7,8-8,9-9,10-10,11-11,12-12,13-13,14-14,15-15",
	 SIZE_10K, 1000, PARTIAL, 1, {{0, 15}}},
};

static void check_range_case(const struct range_case *c, const char *value, size_t len)
{
	struct http_range_set set;
	enum http_range_result result = http_range_resolve(value, len, c->size, c->max_ranges, &set);
	bool same = result == c->result && (result != PARTIAL || set.count == c->count);

	for (uint32_t i = 0; same && result == PARTIAL && i < set.count; i++)
		same = set.ranges[i].first == c->ranges[i].first && set.ranges[i].last == c->ranges[i].last;
	TEST_CHECK(same, "%s: '%s' gave %d with %u ranges (first %llu-%llu), expected %d with %u",
		   c->description, c->value, result, set.count,
		   set.count ? (unsigned long long)set.ranges[0].first : 0ULL,
		   set.count ? (unsigned long long)set.ranges[0].last : 0ULL, c->result, c->count);
	if (result != PARTIAL)
		TEST_CHECK(set.count == 0, "%s: ranges left in a non-206 result", c->description);
}

static void test_range_table(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(range_cases); i++) {
		const struct range_case *c = &range_cases[i];
		size_t len = strlen(c->value);
		struct guard_buffer guard;

		CU_ASSERT_EQUAL_FATAL(guard_buffer_place(&guard, c->value, len), 0);
		check_range_case(c, guard.data, len);
		guard_buffer_release(&guard);
		/* Truncations: any result, but no read past the end (the guard page faults). */
		for (size_t n = 0; n < len; n++) {
			struct http_range_set set;

			CU_ASSERT_EQUAL_FATAL(guard_buffer_place(&guard, c->value, n), 0);
			http_range_resolve(guard.data, n, c->size, c->max_ranges, &set);
			guard_buffer_release(&guard);
		}
	}
}

static void test_content_range_format(void)
{
	char out[HTTP_CONTENT_RANGE_MAX];
	struct http_range range = {0, 499};
	struct http_range largest = {UINT64_MAX - 1, UINT64_MAX - 1};
	int rc;

	rc = http_content_range_format(out, sizeof(out), &range, 10000);
	CU_ASSERT_EQUAL(rc, 17);
	CU_ASSERT_NSTRING_EQUAL(out, "bytes 0-499/10000", 17);
	rc = http_content_range_unsatisfied_format(out, sizeof(out), 10000);
	CU_ASSERT_EQUAL(rc, 13);
	CU_ASSERT_NSTRING_EQUAL(out, "bytes */10000", 13);
	rc = http_content_range_format(out, sizeof(out), &largest, UINT64_MAX);
	CU_ASSERT_EQUAL(rc, 6 + 20 + 1 + 20 + 1 + 20);
	CU_ASSERT_NSTRING_EQUAL(out, "bytes 18446744073709551614-18446744073709551614/18446744073709551615", rc);
	/* Every size short of the need is refused, and nothing is written past it. */
	for (size_t size = 0; size < 17; size++) {
		struct guard_buffer guard;

		CU_ASSERT_EQUAL_FATAL(guard_buffer_place(&guard, NULL, size), 0);
		TEST_CHECK(http_content_range_format(guard.data, size, &range, 10000) == -ENOSPC,
			   "size %zu accepted", size);
		guard_buffer_release(&guard);
	}
}

struct if_range_case {
	const char *description;
	const char *value;
	const char *etag; /* the file's, NULL: none */
	time_t now;
	bool allows;
};

#define LAST_MODIFIED 784111777 /* Sun, 06 Nov 1994 08:49:37 GMT */
#define LATER 1700000000

static const struct if_range_case if_range_cases[] = {
	{"equal strong tag", "\"2ebc98a1-2710\"", "\"2ebc98a1-2710\"", LATER, true},
	{"other tag", "\"2ebc98a1-2711\"", "\"2ebc98a1-2710\"", LATER, false},
	{"weak tag never matches", "W/\"2ebc98a1-2710\"", "\"2ebc98a1-2710\"", LATER, false},
	{"file with a weak tag", "\"a\"", "W/\"a\"", LATER, false},
	{"tag but the file has none", "\"a\"", NULL, LATER, false},
	{"date equal to Last-Modified", "Sun, 06 Nov 1994 08:49:37 GMT", "\"x\"", LATER, true},
	{"RFC 850 date equal", "Sunday, 06-Nov-94 08:49:37 GMT", "\"x\"", LATER, true},
	{"asctime date equal", "Sun Nov  6 08:49:37 1994", NULL, LATER, true},
	{"date one second later", "Sun, 06 Nov 1994 08:49:38 GMT", "\"x\"", LATER, false},
	{"date one second earlier", "Sun, 06 Nov 1994 08:49:36 GMT", "\"x\"", LATER, false},
	{"Last-Modified not yet a second old is weak", "Sun, 06 Nov 1994 08:49:37 GMT", "\"x\"", LAST_MODIFIED, false},
	{"garbage", "yesterday", "\"x\"", LATER, false},
	{"unterminated tag", "\"abc", "\"abc\"", LATER, false},
	{"empty", "", "\"x\"", LATER, false},
};

static void test_if_range_table(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(if_range_cases); i++) {
		const struct if_range_case *c = &if_range_cases[i];
		struct guard_buffer guard;
		size_t len = strlen(c->value);
		bool allows;

		CU_ASSERT_EQUAL_FATAL(guard_buffer_place(&guard, c->value, len), 0);
		allows = http_if_range_allows(guard.data, len, c->etag, c->etag ? strlen(c->etag) : 0,
					      LAST_MODIFIED, c->now);
		guard_buffer_release(&guard);
		TEST_CHECK(allows == c->allows, "%s: '%s' gave %d", c->description, c->value, allows);
	}
}

static uint8_t file_byte(uint64_t offset)
{
	return (uint8_t)(offset * 131 + 7);
}

/* Builds the whole multipart body the way the server sends it and checks its length and
 * structure against http_range_multipart_length(). */
static void check_multipart(const char *description, const char *range_value, uint64_t size,
			    const char *content_type, bool materialize)
{
	struct http_range_set set;
	char boundary[HTTP_RANGE_BOUNDARY_SIZE];
	char head[512];
	uint64_t expected, built = 0;
	size_t capacity = materialize ? (size_t)size * 2 + 4096 : 0;
	char *body = materialize ? malloc(capacity) : NULL;
	int rc;

	TEST_CHECK(http_range_resolve(range_value, strlen(range_value), size, HTTP_RANGES_MAX, &set) ==
			   HTTP_RANGE_PARTIAL && set.count > 1,
		   "%s: not a multi-range request", description);
	http_range_boundary_make(0x5eed0000cafe0000ULL + set.count, boundary);
	expected = http_range_multipart_length(&set, size, strlen(content_type), strlen(boundary));

	for (uint32_t i = 0; i < set.count; i++) {
		const struct http_range *r = &set.ranges[i];
		uint64_t data_len = r->last - r->first + 1;

		rc = http_range_part_head_format(head, sizeof(head), boundary, content_type,
						 strlen(content_type), r, size);
		CU_ASSERT_FATAL(rc > 0);
		TEST_CHECK((size_t)rc == http_range_part_head_length(r, size, strlen(content_type),
								     strlen(boundary)),
			   "%s: part %u head length", description, i);
		if (body) {
			memcpy(body + built, head, (size_t)rc);
			for (uint64_t o = 0; o < data_len; o++)
				body[built + (size_t)rc + o] = (char)file_byte(r->first + o);
		}
		built += (uint64_t)rc + data_len;
	}
	rc = http_range_multipart_end_format(head, sizeof(head), boundary);
	CU_ASSERT_FATAL(rc > 0);
	if (body)
		memcpy(body + built, head, (size_t)rc);
	built += (uint64_t)rc;
	TEST_CHECK(built == expected, "%s: built %llu bytes, computed %llu", description,
		   (unsigned long long)built, (unsigned long long)expected);

	if (body) {
		/* Walk the body as a client would: delimiter, fields, empty line, bytes. */
		char delimiter[64];
		size_t delimiter_len = (size_t)snprintf(delimiter, sizeof(delimiter), "\r\n--%s\r\n", boundary);
		size_t p = 0;

		for (uint32_t i = 0; i < set.count; i++) {
			const struct http_range *r = &set.ranges[i];
			char fields[256];
			int fields_len = snprintf(fields, sizeof(fields),
						  "Content-Type: %s\r\nContent-Range: bytes %llu-%llu/%llu\r\n\r\n",
						  content_type, (unsigned long long)r->first,
						  (unsigned long long)r->last, (unsigned long long)size);
			bool ok = memcmp(body + p, delimiter, delimiter_len) == 0;

			p += delimiter_len;
			ok = ok && memcmp(body + p, fields, (size_t)fields_len) == 0;
			p += (size_t)fields_len;
			for (uint64_t o = 0; ok && o <= r->last - r->first; o++)
				ok = (uint8_t)body[p + o] == file_byte(r->first + o);
			p += (size_t)(r->last - r->first + 1);
			TEST_CHECK(ok, "%s: part %u malformed", description, i);
		}
		snprintf(delimiter, sizeof(delimiter), "\r\n--%s--\r\n", boundary);
		TEST_CHECK(p + strlen(delimiter) == built && memcmp(body + p, delimiter, strlen(delimiter)) == 0,
			   "%s: closing delimiter", description);
	}
	free(body);
}

static void test_multipart_length(void)
{
	check_multipart("RFC example", "bytes=0-999,4500-5499,-1000", 10000, "video/mp4", true);
	check_multipart("one-byte parts", "bytes=0-0,-1", 10000, "video/iso.segment", true);
	check_multipart("digit counts change", "bytes=0-8,9-9,99-99,100-999", 1000, "text/vtt", true);
	check_multipart("small file", "bytes=0-0,2-2,4-4", 5, "application/octet-stream", true);
	check_multipart("coalesced to two", "bytes=0-9,5-19,30-39", 100, "video/mp2t", true);
	check_multipart("large file, not materialized", "bytes=0-1,9999999999-,123456789-123456790",
			10000000000000ULL, "video/mp4", false);
}

static void test_multipart_headers(void)
{
	char boundary[HTTP_RANGE_BOUNDARY_SIZE], out[128];
	struct http_range r = {500, 999};
	int rc;

	http_range_boundary_make(0x0123456789abcdefULL, boundary);
	CU_ASSERT_STRING_EQUAL(boundary, "0123456789abcdef");
	rc = http_range_multipart_type_format(out, sizeof(out), boundary);
	CU_ASSERT_EQUAL(rc, 47);
	CU_ASSERT_NSTRING_EQUAL(out, "multipart/byteranges; boundary=0123456789abcdef", 47);
	rc = http_range_part_head_format(out, sizeof(out), boundary, "video/mp4", 9, &r, 8000);
	CU_ASSERT_NSTRING_EQUAL(out, "\r\n--0123456789abcdef\r\nContent-Type: video/mp4\r\n"
				     "Content-Range: bytes 500-999/8000\r\n\r\n", (size_t)rc);
	CU_ASSERT_EQUAL(http_range_part_head_format(out, 20, boundary, "video/mp4", 9, &r, 8000), -ENOSPC);
	CU_ASSERT_EQUAL(http_range_multipart_end_format(out, 10, boundary), -ENOSPC);
	CU_ASSERT_EQUAL(http_range_multipart_type_format(out, 10, boundary), -ENOSPC);
}

static void test_range_allocates_nothing(void)
{
	uint64_t before;

	CU_ASSERT_TRUE_FATAL(test_alloc_counter_works());
	before = test_alloc_counter();
	for (size_t i = 0; i < ARRAY_SIZE(range_cases); i++) {
		struct http_range_set set;

		http_range_resolve(range_cases[i].value, strlen(range_cases[i].value), range_cases[i].size,
				   range_cases[i].max_ranges, &set);
	}
	for (size_t i = 0; i < ARRAY_SIZE(if_range_cases); i++)
		http_if_range_allows(if_range_cases[i].value, strlen(if_range_cases[i].value), "\"x\"", 3,
				     LAST_MODIFIED, LATER);
	CU_ASSERT_EQUAL(test_alloc_counter(), before);
}

void test_register(void)
{
	static const struct test_case cases[] = {
		{"Range table, truncations, guard page", test_range_table},
		{"Content-Range values", test_content_range_format},
		{"If-Range table", test_if_range_table},
		{"multipart length against a built body", test_multipart_length},
		{"multipart type, part head, closing", test_multipart_headers},
		{"no allocation", test_range_allocates_nothing},
		{NULL, NULL},
	};
	test_add_suite("http_range", cases);
}
