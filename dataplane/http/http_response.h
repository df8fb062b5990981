/* SPDX-License-Identifier: BSD-3-Clause
 *
 * http_response.h: response heads, formatted into a caller buffer (hot path, per response).
 *
 * The server fills one struct http_response (a value on the stack, most fields zero) and
 * calls http_response_format() once, which writes the status line, the fields in a fixed
 * order, the empty line and, for error statuses asked to carry one, a short text body. No
 * printf: each field is a few memcpy and a decimal conversion, bounded by the buffer; a buffer
 * too small is -ENOSPC and nothing useful is left in it (the caller sizes it for the largest
 * head, HTTP_RESPONSE_HEAD_MAX covers every field at its largest configured size).
 *
 * Rules the formatter enforces so callers cannot get them wrong:
 *   - 1xx, 204 and 304 carry no Content-Length and no body (RFC 9110 §8.6, §15.4.5);
 *   - error_body replaces Content-Type and Content-Length with those of the text body
 *     ("404 Not Found\n"), which is written after the head unless head_request is set (a HEAD
 *     response announces the same length but sends no body, §9.3.2);
 *   - Content-Range comes from a resolved range (206) or the file size (416: "bytes *\/N");
 *   - Connection is always explicit: "keep-alive" or "close" (an HTTP/1.0 client needs the
 *     former to keep the connection, and stating the latter lets clients stop pipelining).
 *
 * Date is the text of the per-lcore struct http_date_cache (refreshed once a second by the
 * loop), Last-Modified and ETag are texts the catalog keeps per file, Cache-Control and the
 * server name come from the configuration: none is formatted per response.
 *
 * CORS (Fetch standard, "CORS protocol"): http_response_cors() derives the CORS fields from
 * the policy and the request. With "*" the response carries Access-Control-Allow-Origin: *
 * (segments are public and no credentials are involved). With a list of origins, an Origin
 * in the list is echoed and every response carries Vary: Origin so that caches between us
 * and players keep one copy per origin (also responses to requests without Origin, or a
 * cache could hand a response lacking the header to a CORS request). Responses that allow an
 * origin expose Content-Range, Content-Length, ETag and Date to scripts (MSE players read
 * Content-Range). A preflight (OPTIONS with Origin and Access-Control-Request-Method) gets
 * Allow-Methods (GET, HEAD, OPTIONS), Allow-Headers from the policy and Max-Age; the caller
 * answers it 204.
 */
#ifndef SLUICE_HTTP_RESPONSE_H
#define SLUICE_HTTP_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http_parse.h"
#include "http_range.h"

/* Enough for any head whose configuration strings (server name, Cache-Control, allowed
 * origins and headers, content types) are at most 256 bytes each: about 2.2 KB at worst. */
#define HTTP_RESPONSE_HEAD_MAX 4096

#define HTTP_CORS_ORIGINS_MAX 16
#define HTTP_CORS_ALLOW_METHODS "GET, HEAD, OPTIONS"
#define HTTP_CORS_EXPOSE_HEADERS "Content-Range, Content-Length, ETag, Date"
#define HTTP_CORS_ALLOW_HEADERS_DEFAULT "Range, If-None-Match, If-Modified-Since, If-Range"
#define HTTP_ALLOW_METHODS "GET, HEAD, OPTIONS"

enum http_content_range_kind {
	HTTP_CONTENT_RANGE_NONE = 0,
	HTTP_CONTENT_RANGE_PART,        /* 206 single part: range of complete_length */
	HTTP_CONTENT_RANGE_UNSATISFIED, /* 416: "bytes *\/complete_length" */
};

struct http_response_cors {
	struct http_slice allow_origin; /* "*" or the request's Origin; empty: no CORS fields */
	bool vary_origin;               /* Vary: Origin */
	bool preflight;                 /* Allow-Methods, Allow-Headers, Max-Age; no Expose */
	struct http_slice allow_headers;
	uint32_t max_age_seconds;
};

struct http_response {
	uint16_t status;
	bool keep_alive;
	bool head_request;              /* HEAD: no body is written, lengths are still announced */
	bool error_body;                /* write the status's text body (Content-Type text/plain) */
	bool accept_ranges;             /* Accept-Ranges: bytes */
	bool allow;                     /* Allow: GET, HEAD, OPTIONS (405 and OPTIONS) */
	bool has_content_length;
	uint64_t content_length;        /* bytes of the body that follows (not for error_body) */

	const char *date;               /* HTTP_DATE_LEN characters, NULL: no Date */
	struct http_slice server;
	struct http_slice content_type;
	enum http_content_range_kind content_range;
	struct http_range range;
	uint64_t complete_length;       /* file size, for Content-Range */
	struct http_slice etag;         /* with quotes */
	struct http_slice last_modified;
	struct http_slice cache_control;
	struct http_response_cors cors;
};

struct http_cors_policy {
	bool enabled;
	bool any_origin;                /* answer "*" instead of consulting origins */
	uint32_t origin_count;
	struct http_slice origins[HTTP_CORS_ORIGINS_MAX]; /* "https://player.example.com" */
	struct http_slice allow_headers;                  /* for preflights */
	uint32_t max_age_seconds;                         /* preflight cache lifetime */
};

/* Writes the head (and error body) into out; returns the bytes written, -ENOSPC, or -EINVAL
 * for a status without a reason phrase here. */
int http_response_format(const struct http_response *resp, char *out, size_t size);

/* Reason phrase of a status (RFC 9110 §15), NULL for statuses the edge never sends. */
const char *http_status_reason(unsigned status);

/* Fills resp->cors; returns true when req is a CORS preflight (the caller answers 204). */
bool http_response_cors(struct http_response *resp, const struct http_cors_policy *policy,
			const struct http_request *req);

#endif /* SLUICE_HTTP_RESPONSE_H */
