/* SPDX-License-Identifier: BSD-3-Clause
 *
 * http_range.c: Range resolution, If-Range and multipart/byteranges framing (hot path; see
 * http_range.h).
 */
#include "http_range.h"

#include <errno.h>
#include <string.h>

#include "compiler.h"
#include "http_cond.h"
#include "http_date.h"
#include "http_parse.h"

static inline bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static inline bool is_whitespace(char c)
{
	return c == ' ' || c == '\t';
}

/* 1*DIGIT at value[*i], saturating at UINT64_MAX. False when there is no digit. */
static bool number_parse(const char *value, size_t len, size_t *i, uint64_t *out)
{
	uint64_t n = 0;
	size_t p = *i;

	if (p >= len || !is_digit(value[p]))
		return false;
	for (; p < len && is_digit(value[p]); p++) {
		unsigned digit = (unsigned)(value[p] - '0');

		n = n > (UINT64_MAX - digit) / 10 ? UINT64_MAX : n * 10 + digit;
	}
	*i = p;
	*out = n;
	return true;
}

static bool ranges_touch(const struct http_range *a, const struct http_range *b)
{
	/* Overlapping or adjacent: neither ends before the other starts, with no gap. */
	return !(a->last < b->first && b->first - a->last > 1) &&
	       !(b->last < a->first && a->first - b->last > 1);
}

static void ranges_coalesce(struct http_range_set *set)
{
	bool touching = false;
	uint32_t out = 0;

	for (uint32_t i = 0; i < set->count && !touching; i++)
		for (uint32_t j = i + 1; j < set->count && !touching; j++)
			touching = ranges_touch(&set->ranges[i], &set->ranges[j]);
	if (!touching)
		return;
	/* Insertion sort by first byte: at most HTTP_RANGES_MAX elements. */
	for (uint32_t i = 1; i < set->count; i++) {
		struct http_range r = set->ranges[i];
		uint32_t j = i;

		for (; j > 0 && set->ranges[j - 1].first > r.first; j--)
			set->ranges[j] = set->ranges[j - 1];
		set->ranges[j] = r;
	}
	for (uint32_t i = 1; i < set->count; i++) {
		struct http_range *current = &set->ranges[out];

		if (set->ranges[i].first <= current->last || set->ranges[i].first - current->last == 1)
			current->last = SLUICE_MAX(current->last, set->ranges[i].last);
		else
			set->ranges[++out] = set->ranges[i];
	}
	set->count = out + 1;
}

static enum http_range_result range_set_parse(const char *value, size_t len, uint64_t size,
					      uint32_t max_ranges, struct http_range_set *set)
{
	bool any_spec = false;
	size_t i = 6;

	set->count = 0;
	max_ranges = SLUICE_MIN(max_ranges, HTTP_RANGES_MAX);
	if (max_ranges == 0 || size == 0)
		return HTTP_RANGE_IGNORE;
	if (len < 6 || !http_ascii_case_equal(value, "bytes=", 6))
		return HTTP_RANGE_IGNORE;

	for (;;) {
		struct http_range range;
		bool satisfiable;

		while (i < len && (is_whitespace(value[i]) || value[i] == ','))
			i++;
		if (i == len)
			break;
		if (value[i] == '-') {
			uint64_t suffix;

			i++;
			if (!number_parse(value, len, &i, &suffix))
				return HTTP_RANGE_IGNORE;
			satisfiable = suffix > 0;
			range.first = suffix >= size ? 0 : size - suffix;
			range.last = size - 1;
		} else {
			uint64_t first, last = UINT64_MAX;

			if (!number_parse(value, len, &i, &first) || i == len || value[i] != '-')
				return HTTP_RANGE_IGNORE;
			i++;
			if (i < len && is_digit(value[i])) {
				number_parse(value, len, &i, &last);
				if (last < first)
					return HTTP_RANGE_IGNORE;
			}
			satisfiable = first < size;
			range.first = first;
			range.last = SLUICE_MIN(last, size - 1);
		}
		any_spec = true;
		if (satisfiable) {
			if (set->count == max_ranges)
				return HTTP_RANGE_IGNORE;
			set->ranges[set->count++] = range;
		}
		while (i < len && is_whitespace(value[i]))
			i++;
		if (i == len)
			break;
		if (value[i] != ',')
			return HTTP_RANGE_IGNORE;
	}
	if (!any_spec)
		return HTTP_RANGE_IGNORE; /* "bytes=" or "bytes=,": range-set needs one element */
	if (set->count == 0)
		return HTTP_RANGE_UNSATISFIABLE;
	ranges_coalesce(set);
	return HTTP_RANGE_PARTIAL;
}

enum http_range_result http_range_resolve(const char *value, size_t len, uint64_t size,
					  uint32_t max_ranges, struct http_range_set *set)
{
	enum http_range_result result = range_set_parse(value, len, size, max_ranges, set);

	if (result != HTTP_RANGE_PARTIAL)
		set->count = 0; /* no half-parsed ranges for a caller to trip on */
	return result;
}

bool http_if_range_allows(const char *value, size_t len, const char *etag, size_t etag_len,
			  time_t last_modified, time_t now)
{
	time_t date;

	if (len >= 1 && (value[0] == '"' || (len >= 2 && value[0] == 'W' && value[1] == '/')))
		return etag_len && http_etag_equal_strong(value, len, etag, etag_len);
	if (http_date_parse(value, len, now, &date) < 0)
		return false;
	return date == last_modified && last_modified < now;
}

/* ------------------------------------------------------------------------------------------ */
/* Formatting: a bounded writer; overflow is remembered and reported once at the end. */

struct writer {
	char *p;
	char *end;
	bool overflow;
};

static void put_bytes(struct writer *w, const char *s, size_t n)
{
	if ((size_t)(w->end - w->p) < n) {
		w->overflow = true;
		w->p = w->end;
		return;
	}
	memcpy(w->p, s, n);
	w->p += n;
}

#define put_literal(w, s) put_bytes(w, s, sizeof(s) - 1)

static size_t decimal_length(uint64_t v)
{
	size_t n = 1;

	while (v >= 10) {
		v /= 10;
		n++;
	}
	return n;
}

static void put_decimal(struct writer *w, uint64_t v)
{
	char digits[20];
	size_t n = decimal_length(v);

	for (size_t i = n; i > 0; i--, v /= 10)
		digits[i - 1] = (char)('0' + v % 10);
	put_bytes(w, digits, n);
}

static int writer_result(const struct writer *w, const char *start)
{
	return w->overflow ? -ENOSPC : (int)(w->p - start);
}

int http_content_range_format(char *out, size_t size, const struct http_range *range,
			      uint64_t complete_length)
{
	struct writer w = {out, out + size, false};

	put_literal(&w, "bytes ");
	put_decimal(&w, range->first);
	put_literal(&w, "-");
	put_decimal(&w, range->last);
	put_literal(&w, "/");
	put_decimal(&w, complete_length);
	return writer_result(&w, out);
}

int http_content_range_unsatisfied_format(char *out, size_t size, uint64_t complete_length)
{
	struct writer w = {out, out + size, false};

	put_literal(&w, "bytes */");
	put_decimal(&w, complete_length);
	return writer_result(&w, out);
}

void http_range_boundary_make(uint64_t random, char out[HTTP_RANGE_BOUNDARY_SIZE])
{
	static const char hex[] = "0123456789abcdef";

	for (int i = HTTP_RANGE_BOUNDARY_LEN - 1; i >= 0; i--, random >>= 4)
		out[i] = hex[random & 15];
	out[HTTP_RANGE_BOUNDARY_LEN] = '\0';
}

int http_range_multipart_type_format(char *out, size_t size, const char *boundary)
{
	struct writer w = {out, out + size, false};

	put_literal(&w, "multipart/byteranges; boundary=");
	put_bytes(&w, boundary, strlen(boundary));
	return writer_result(&w, out);
}

int http_range_part_head_format(char *out, size_t size, const char *boundary,
				const char *content_type, size_t content_type_len,
				const struct http_range *range, uint64_t complete_length)
{
	struct writer w = {out, out + size, false};

	put_literal(&w, "\r\n--");
	put_bytes(&w, boundary, strlen(boundary));
	put_literal(&w, "\r\nContent-Type: ");
	put_bytes(&w, content_type, content_type_len);
	put_literal(&w, "\r\nContent-Range: bytes ");
	put_decimal(&w, range->first);
	put_literal(&w, "-");
	put_decimal(&w, range->last);
	put_literal(&w, "/");
	put_decimal(&w, complete_length);
	put_literal(&w, "\r\n\r\n");
	return writer_result(&w, out);
}

int http_range_multipart_end_format(char *out, size_t size, const char *boundary)
{
	struct writer w = {out, out + size, false};

	put_literal(&w, "\r\n--");
	put_bytes(&w, boundary, strlen(boundary));
	put_literal(&w, "--\r\n");
	return writer_result(&w, out);
}

size_t http_range_part_head_length(const struct http_range *range, uint64_t complete_length,
				   size_t content_type_len, size_t boundary_len)
{
	return sizeof("\r\n--") - 1 + boundary_len + sizeof("\r\nContent-Type: ") - 1 +
	       content_type_len + sizeof("\r\nContent-Range: bytes ") - 1 +
	       decimal_length(range->first) + 1 + decimal_length(range->last) + 1 +
	       decimal_length(complete_length) + sizeof("\r\n\r\n") - 1;
}

uint64_t http_range_multipart_length(const struct http_range_set *set, uint64_t complete_length,
				     size_t content_type_len, size_t boundary_len)
{
	uint64_t total = sizeof("\r\n--") - 1 + boundary_len + sizeof("--\r\n") - 1;

	for (uint32_t i = 0; i < set->count; i++)
		total += http_range_part_head_length(&set->ranges[i], complete_length,
						     content_type_len, boundary_len) +
			 (set->ranges[i].last - set->ranges[i].first + 1);
	return total;
}
