/* SPDX-License-Identifier: BSD-3-Clause
 *
 * fuzz_http_parse.c: libFuzzer target for the request-head parser and what the server does
 * with the fields it extracts.
 *
 * Input layout: byte 0 picks the limits (default, or small ones so that 414/431 paths are
 * reached) and the file size used for ranges; byte 1 picks where to split the head; the rest
 * is the bytes a client sent. Each input is parsed three ways, which must agree exactly
 * (result, reason, and every extracted field):
 *   - whole, in a heap copy of exactly its size (ASan catches any read past the end);
 *   - split: the first part in its own exact-size copy, then the whole in another buffer with
 *     the same state (the contract allows the buffer to move between calls);
 *   - byte by byte with one state (for inputs up to 2 KB, to keep executions fast).
 * A complete head then goes through http_path_normalize, http_range_resolve (with invariants
 * on the resolved set and the multipart length), If-Range, If-Modified-Since (and a date
 * format/parse round trip), http_cond_evaluate, http_mime_type, and http_response_format with
 * the CORS fields derived from it. Any disagreement or broken invariant aborts.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_cond.h"
#include "http_date.h"
#include "http_mime.h"
#include "http_parse.h"
#include "http_range.h"
#include "http_response.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                   \
	do {                          \
		if (!(cond))          \
			abort();      \
	} while (0)

static struct http_request whole_request, other_request;

static bool requests_equal(const struct http_request *a, const char *a_base,
			   const struct http_request *b, const char *b_base)
{
	/* Same fields at the same offsets into their own buffers (the buffers differ). */
#define SAME_SLICE(field)                                                                      \
	((a->field.data == NULL) == (b->field.data == NULL) && a->field.len == b->field.len && \
	 (!a->field.data || (a->field.data - a_base == b->field.data - b_base) ||                \
	  (a->field.len == 1 && a->field.data[0] == '/' && b->field.data[0] == '/')))
	if (a->method != b->method || a->target_form != b->target_form ||
	    a->version_minor != b->version_minor || a->keep_alive != b->keep_alive ||
	    a->has_query != b->has_query || a->has_content_length != b->has_content_length ||
	    a->content_length != b->content_length || a->head_bytes != b->head_bytes ||
	    a->header_count != b->header_count || a->if_none_match_lines != b->if_none_match_lines ||
	    a->access_control_request_headers_lines != b->access_control_request_headers_lines)
		return false;
	if (!SAME_SLICE(method_name) || !SAME_SLICE(target) || !SAME_SLICE(path) || !SAME_SLICE(query) ||
	    !SAME_SLICE(authority) || !SAME_SLICE(host) || !SAME_SLICE(range) || !SAME_SLICE(if_range) ||
	    !SAME_SLICE(if_none_match) || !SAME_SLICE(if_modified_since) || !SAME_SLICE(origin) ||
	    !SAME_SLICE(access_control_request_method) || !SAME_SLICE(access_control_request_headers) ||
	    !SAME_SLICE(connection))
		return false;
	for (uint32_t i = 0; i < a->header_count; i++)
		if (!SAME_SLICE(headers[i].name) || !SAME_SLICE(headers[i].value))
			return false;
#undef SAME_SLICE
	return true;
}

static char *copy_of(const uint8_t *bytes, size_t len)
{
	char *copy = malloc(len ? len : 1);

	CHECK(copy);
	if (len)
		memcpy(copy, bytes, len);
	return copy;
}

static void check_ranges(const struct http_request *req, uint64_t file_size)
{
	struct http_range_set set;
	enum http_range_result result;
	char boundary[HTTP_RANGE_BOUNDARY_SIZE], head[512];
	uint64_t total, built;
	int rc;

	result = http_range_resolve(req->range.data, req->range.len, file_size, HTTP_RANGES_DEFAULT, &set);
	CHECK(result == HTTP_RANGE_IGNORE || result == HTTP_RANGE_PARTIAL || result == HTTP_RANGE_UNSATISFIABLE);
	if (result != HTTP_RANGE_PARTIAL) {
		CHECK(set.count == 0);
		return;
	}
	CHECK(set.count >= 1 && set.count <= HTTP_RANGES_DEFAULT);
	for (uint32_t i = 0; i < set.count; i++) {
		CHECK(set.ranges[i].first <= set.ranges[i].last && set.ranges[i].last < file_size);
		for (uint32_t j = i + 1; j < set.count; j++) {
			const struct http_range *a = &set.ranges[i], *b = &set.ranges[j];

			/* After coalescing no two ranges overlap or touch. */
			CHECK(a->last + 1 < b->first || b->last + 1 < a->first);
		}
	}
	http_range_boundary_make(file_size * 0x9e3779b97f4a7c15ULL, boundary);
	total = http_range_multipart_length(&set, file_size, 9, HTTP_RANGE_BOUNDARY_LEN);
	built = 0;
	for (uint32_t i = 0; i < set.count; i++) {
		rc = http_range_part_head_format(head, sizeof(head), boundary, "video/mp4", 9, &set.ranges[i], file_size);
		CHECK(rc > 0);
		built += (uint64_t)rc + set.ranges[i].last - set.ranges[i].first + 1;
	}
	rc = http_range_multipart_end_format(head, sizeof(head), boundary);
	CHECK(rc > 0 && built + (uint64_t)rc == total);
	rc = http_content_range_format(head, HTTP_CONTENT_RANGE_MAX, &set.ranges[0], file_size);
	CHECK(rc > 0);
}

static void use_request(const struct http_request *req, uint64_t file_size)
{
	static const char etag[] = "\"2ebc98a1-2710\"";
	char path[HTTP_LIMIT_HEAD_BYTES_DEFAULT + 1], out[HTTP_RESPONSE_HEAD_MAX], date[HTTP_DATE_SIZE];
	const time_t now = 1700000000, last_modified = 784111777;
	struct http_response resp = {.status = 200, .keep_alive = req->keep_alive, .accept_ranges = true};
	struct http_cors_policy policy = {
		.enabled = true,
		.origin_count = 1,
		.origins = {{"https://player.example", 22}},
		.allow_headers = {"Range", 5},
		.max_age_seconds = 600,
	};
	time_t since;
	int rc;

	if (req->target_form != HTTP_TARGET_AUTHORITY) {
		rc = http_path_normalize(req->path.data, req->path.len, path, sizeof(path));
		CHECK(rc == -EINVAL || (rc > 0 && (size_t)rc <= req->path.len + 1 && path[0] == '/'));
		if (rc > 0) {
			size_t type_len;
			const char *type = http_mime_type(path, (size_t)rc, &type_len);

			CHECK(type && type_len == strlen(type));
			resp.content_type = (struct http_slice){type, type_len};
		}
	}
	if (req->range.data)
		check_ranges(req, file_size);
	if (req->if_range.data)
		http_if_range_allows(req->if_range.data, req->if_range.len, etag, sizeof(etag) - 1, last_modified, now);
	if (req->if_modified_since.data &&
	    http_date_parse(req->if_modified_since.data, req->if_modified_since.len, now, &since) == 0 &&
	    http_date_format(since, date) == HTTP_DATE_LEN) {
		time_t again;

		CHECK(http_date_parse(date, HTTP_DATE_LEN, now, &again) == 0 && again == since);
	}
	http_cond_evaluate(req, etag, sizeof(etag) - 1, last_modified, now);

	http_response_cors(&resp, &policy, req);
	resp.has_content_length = true;
	resp.content_length = file_size;
	resp.etag = (struct http_slice){etag, sizeof(etag) - 1};
	rc = http_response_format(&resp, out, sizeof(out));
	CHECK(rc > 0 && memcmp(out + rc - 4, "\r\n\r\n", 4) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_limits limits = http_limits_default();
	struct http_parser whole_state, split_state, byte_state;
	const uint8_t *input;
	size_t len, split;
	char *whole, *first_part, *second;
	uint64_t file_size;
	int rc_whole, rc_split, rc_byte;

	if (size < 2)
		return 0;
	input = data + 2;
	len = size - 2;
	if (data[0] & 1) {
		limits.request_line_bytes = 8 + (data[0] >> 1) % 64;
		limits.header_count = 1 + (data[0] >> 3) % 8;
		limits.head_bytes = 16 + data[0];
	}
	file_size = (data[0] & 6) == 6 ? 0 : (uint64_t)data[0] * 997 + 1;
	split = len ? (size_t)data[1] * len / 255 : 0;

	/* Whole. */
	whole = copy_of(input, len);
	http_parser_init(&whole_state);
	rc_whole = http_parse_request(&whole_state, whole, len, &limits, &whole_request);
	CHECK(rc_whole == HTTP_PARSE_PARTIAL || rc_whole < -1 || (rc_whole > 0 && (size_t)rc_whole <= len));
	if (rc_whole < -1)
		CHECK(http_parse_error_status(rc_whole) == (unsigned)-rc_whole);

	/* Split: the first part in its own buffer, the rest after a move. */
	first_part = copy_of(input, split);
	http_parser_init(&split_state);
	rc_split = http_parse_request(&split_state, first_part, split, &limits, &other_request);
	free(first_part);
	second = copy_of(input, len);
	if (rc_split == HTTP_PARSE_PARTIAL)
		rc_split = http_parse_request(&split_state, second, len, &limits, &other_request);
	else if (rc_split > 0) /* complete within the first part: again on the moved buffer */
		rc_split = http_parse_request(&split_state, second, len, &limits, &other_request);
	CHECK(rc_split == rc_whole && split_state.reason == whole_state.reason);
	if (rc_whole > 0)
		CHECK(requests_equal(&whole_request, whole, &other_request, second));
	free(second);

	/* Byte by byte (the buffer grows in place, as a connection's would). */
	if (len <= 2048) {
		rc_byte = HTTP_PARSE_PARTIAL;
		http_parser_init(&byte_state);
		for (size_t n = 0; n <= len && rc_byte == HTTP_PARSE_PARTIAL; n++)
			rc_byte = http_parse_request(&byte_state, whole, n, &limits, &other_request);
		CHECK(rc_byte == rc_whole && byte_state.reason == whole_state.reason);
		if (rc_whole > 0)
			CHECK(requests_equal(&whole_request, whole, &other_request, whole));
	}

	if (rc_whole > 0)
		use_request(&whole_request, file_size);
	free(whole);
	return 0;
}
