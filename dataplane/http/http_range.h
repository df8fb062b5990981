/* SPDX-License-Identifier: BSD-3-Clause
 *
 * http_range.h: byte ranges (RFC 9110 §14) for players that fetch parts of segments (hot
 * path).
 *
 * http_range_resolve() turns a Range value into a set of inclusive byte ranges resolved
 * against the file size, and says which response that calls for:
 *
 *   HTTP_RANGE_IGNORE          serve the whole file, 200. For: a unit other than "bytes"
 *                              (case-insensitive), any syntactically invalid range-spec (the
 *                              whole field is then invalid and ignored, §14.2), more
 *                              satisfiable ranges than max_ranges (what nginx's max_ranges
 *                              does; max_ranges 0 disables ranges), and an empty file (a 206
 *                              cannot describe zero bytes; nginx also answers 200 there).
 *   HTTP_RANGE_PARTIAL         206; one range after coalescing: a single part with
 *                              Content-Range; several: multipart/byteranges.
 *   HTTP_RANGE_UNSATISFIABLE   416 with "Content-Range: bytes *\/<size>": every range-spec
 *                              was valid and none was satisfiable (first-pos >= size, or a
 *                              suffix of length 0).
 *
 * Forms: "first-last", "first-" (to the end), "-suffix" (the last suffix bytes; larger than
 * the file means the whole file), comma-separated with optional whitespace around commas and
 * empty list elements ignored (§5.6.1); no whitespace inside a range-spec. A last-pos beyond
 * the end is clamped; last < first is invalid. Numbers saturate instead of overflowing:
 * 99999999999999999999999- is a valid, unsatisfiable first-pos (RFC 9110 sets no limit).
 *
 * Coalescing (§14.2 allows it "regardless of the order"): when any two ranges overlap or
 * touch, the set is sorted and merged, so no byte is sent twice and "bytes=0-0,0-0,..."
 * cannot multiply the response. When none do, the client's order is kept (§15.3.7.2 SHOULD).
 *
 * Multipart layout, byte for byte (the server must announce the exact Content-Length):
 *
 *   for each range:  "\r\n--" boundary "\r\n"
 *                    "Content-Type: " type "\r\n"
 *                    "Content-Range: bytes " first "-" last "/" size "\r\n"
 *                    "\r\n"
 *                    the range's bytes
 *   then:            "\r\n--" boundary "--\r\n"
 *
 * (the leading CRLF of the first part is an empty preamble, RFC 2046 §5.1.1; nginx writes the
 * same). http_range_multipart_length() computes that total without formatting anything.
 *
 * If-Range (§13.1.5) is evaluated by http_if_range_allows(): the Range is honored only if the
 * If-Range value is a strong entity tag equal to the file's, or an HTTP-date exactly equal to
 * its Last-Modified, which must itself be at least one second in the past (a weak validator
 * otherwise, §8.8.2.2). Anything else (weak tag, other date, garbage) means: send all of it.
 */
#ifndef SLUICE_HTTP_RANGE_H
#define SLUICE_HTTP_RANGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Ranges a set can hold; a configured maximum above this is lowered to it. */
#define HTTP_RANGES_MAX 16
#define HTTP_RANGES_DEFAULT 8

/* Multipart boundary: 16 lowercase hex digits. */
#define HTTP_RANGE_BOUNDARY_LEN 16
#define HTTP_RANGE_BOUNDARY_SIZE (HTTP_RANGE_BOUNDARY_LEN + 1)

enum http_range_result {
	HTTP_RANGE_IGNORE = 200,
	HTTP_RANGE_PARTIAL = 206,
	HTTP_RANGE_UNSATISFIABLE = 416,
};

struct http_range {
	uint64_t first; /* offset of the first byte */
	uint64_t last;  /* offset of the last byte (inclusive), < size */
};

struct http_range_set {
	uint32_t count;
	struct http_range ranges[HTTP_RANGES_MAX];
};

/* value is the Range field value; size the file's length in bytes. set->count is 0 unless
 * the result is HTTP_RANGE_PARTIAL. */
enum http_range_result http_range_resolve(const char *value, size_t len, uint64_t size,
					  uint32_t max_ranges, struct http_range_set *set);

/* If-Range: see above. etag with quotes (len 0: none); times in seconds since the epoch. */
bool http_if_range_allows(const char *value, size_t len, const char *etag, size_t etag_len,
			  time_t last_modified, time_t now);

/* Content-Range values: "bytes <first>-<last>/<size>" and "bytes *\/<size>". Return the
 * length written (no NUL) or -ENOSPC. HTTP_CONTENT_RANGE_MAX is always enough. */
#define HTTP_CONTENT_RANGE_MAX 68
int http_content_range_format(char *out, size_t size, const struct http_range *range,
			      uint64_t complete_length);
int http_content_range_unsatisfied_format(char *out, size_t size, uint64_t complete_length);

/* The boundary for one response from a 64-bit value the caller draws (per-lcore PRNG). Writes
 * HTTP_RANGE_BOUNDARY_LEN characters and a NUL. */
void http_range_boundary_make(uint64_t random, char out[HTTP_RANGE_BOUNDARY_SIZE]);

/* The response's Content-Type: "multipart/byteranges; boundary=<boundary>". */
int http_range_multipart_type_format(char *out, size_t size, const char *boundary);

/* The head of part `range` (from its leading CRLF to the empty line), and the closing
 * delimiter. Return the length written or -ENOSPC. */
int http_range_part_head_format(char *out, size_t size, const char *boundary,
				const char *content_type, size_t content_type_len,
				const struct http_range *range, uint64_t complete_length);
int http_range_multipart_end_format(char *out, size_t size, const char *boundary);

/* Exact length of the multipart/byteranges body for the set (heads, data, closing). */
uint64_t http_range_multipart_length(const struct http_range_set *set, uint64_t complete_length,
				     size_t content_type_len, size_t boundary_len);

/* Length of a part head, for callers sizing buffers. */
size_t http_range_part_head_length(const struct http_range *range, uint64_t complete_length,
				   size_t content_type_len, size_t boundary_len);

#endif /* SLUICE_HTTP_RANGE_H */
