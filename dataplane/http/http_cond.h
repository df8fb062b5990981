/* SPDX-License-Identifier: BSD-3-Clause
 *
 * http_cond.h: conditional requests (RFC 9110 §13) for immutable segments (hot path).
 *
 * What a player sends when it revalidates: If-None-Match with the ETag it has (answered 304
 * when it matches), or If-Modified-Since with the Last-Modified it has (304 when the file is
 * not newer). If-Range lives with ranges (http_range.h) but uses the entity-tag comparison
 * here. If-Match and If-Unmodified-Since are not evaluated: they guard writes and lost-update
 * races, which an edge serving immutable files does not have; the parser does not extract
 * them, so such a request is served as if they were absent.
 *
 * Precedence (RFC 9110 §13.2.2): If-None-Match first; when it is present If-Modified-Since is
 * ignored. If-None-Match whose condition is false answers 304 for GET and HEAD and 412 for
 * any other method; If-Modified-Since is only evaluated for GET and HEAD, and ignored when its
 * value is not a valid HTTP-date. A syntactically invalid If-None-Match matches nothing (the
 * request is served in full) and still hides If-Modified-Since: we do not guess what a broken
 * client meant, and serving the body is always correct.
 *
 * Entity tags (RFC 9110 §8.8.3): opaque-tag = DQUOTE *etagc DQUOTE, optionally prefixed W/
 * (weak). Strong comparison: both strong and identical; weak comparison: opaque tags
 * identical. If-None-Match uses weak comparison, If-Range strong. The server's own tags are
 * strong, formatted by http_etag_format() from the file's size and modification time (as
 * nginx does) so they are stable across restarts and identical on every edge with the file.
 */
#ifndef SLUICE_HTTP_COND_H
#define SLUICE_HTTP_COND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "http_parse.h"

/* Result of http_cond_evaluate(): serve normally (200 or 206), or answer this status. */
enum http_cond_result {
	HTTP_COND_PROCEED = 0,
	HTTP_COND_NOT_MODIFIED = 304,
	HTTP_COND_PRECONDITION_FAILED = 412,
};

/* The selected representation: its entity tag with quotes (and W/ when weak; len 0 when it
 * has none) and its modification time, seconds since the epoch. now places RFC 850 years. */
enum http_cond_result http_cond_evaluate(const struct http_request *req, const char *etag,
					 size_t etag_len, time_t last_modified, time_t now);

/* Entity-tag comparison; false when either is not a valid entity-tag. */
bool http_etag_equal_strong(const char *a, size_t a_len, const char *b, size_t b_len);
bool http_etag_equal_weak(const char *a, size_t a_len, const char *b, size_t b_len);

/* Does the If-None-Match style list ("*" or #entity-tag) contain etag? Returns 1 (match), 0
 * (no match) or -EINVAL (invalid list). "*" matches any representation. */
int http_etag_list_match(const char *list, size_t len, const char *etag, size_t etag_len,
			 bool strong);

/* Writes "\"<mtime hex>-<size hex>\"" into out; returns its length or -ENOSPC. At most
 * HTTP_ETAG_MAX bytes. */
#define HTTP_ETAG_MAX 36
int http_etag_format(char *out, size_t size, time_t last_modified, uint64_t length);

#endif /* SLUICE_HTTP_COND_H */
