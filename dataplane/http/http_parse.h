/* SPDX-License-Identifier: BSD-3-Clause
 *
 * http_parse.h: the HTTP/1.1 request-head parser (RFC 9110/9112), strict and resumable.
 *
 * Contract (STYLE.md rule 7, as picohttpparser and nginx): http_parse_request() returns the
 * number of bytes of a complete head (> 0), HTTP_PARSE_PARTIAL when more bytes are needed, or
 * a negative HTTP_PARSE_E* error that http_parse_error_status() maps to the status to answer.
 * It never copies the input: every slice in struct http_request points into the caller's
 * buffer, which must stay unchanged while the request is used. Resumable: struct http_parser
 * remembers how far the search for the end of the head got, so a head arriving a byte at a
 * time costs O(n) in total; the limits are checked while the head is still partial, so an
 * over-long request line is refused as soon as the limit is crossed.
 *
 * Strictness (each answered with 400 unless noted): bare CR or LF line ends, obs-fold, NUL and
 * control characters, whitespace before a header colon, invalid token characters, missing or
 * repeated Host in HTTP/1.1, Content-Length that is not a number or disagrees with itself;
 * unknown method tokens → 501, Transfer-Encoding on a request → 501, other versions → 505.
 * Per request; no allocation, no system calls.
 */
#ifndef SLUICE_HTTP_PARSE_H
#define SLUICE_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_PARSE_PARTIAL (-1)
#define HTTP_PARSE_EBAD (-2)          /* 400 */
#define HTTP_PARSE_ELINE_TOO_LONG (-3) /* 414 */
#define HTTP_PARSE_EHEAD_TOO_LARGE (-4) /* 431 */
#define HTTP_PARSE_EMETHOD (-5)       /* 501: unknown method */
#define HTTP_PARSE_EVERSION (-6)      /* 505 */
#define HTTP_PARSE_ETRANSFER (-7)     /* 501: Transfer-Encoding on a request */

#define HTTP_HEADERS_MAX 64

enum http_method {
	HTTP_METHOD_UNKNOWN = 0,
	HTTP_METHOD_GET,
	HTTP_METHOD_HEAD,
	HTTP_METHOD_OPTIONS,
	HTTP_METHOD_POST,
	HTTP_METHOD_PUT,
	HTTP_METHOD_DELETE,
	HTTP_METHOD_PATCH,
	HTTP_METHOD_CONNECT,
	HTTP_METHOD_TRACE,
};

struct http_slice {
	const char *ptr;              /* NULL when absent */
	uint32_t len;
};

struct http_header {
	struct http_slice name;
	struct http_slice value;      /* without surrounding whitespace */
};

struct http_limits {
	uint32_t max_request_line;    /* bytes, CRLF excluded */
	uint32_t max_header_bytes;    /* whole head, bytes */
	uint32_t max_headers;         /* at most HTTP_HEADERS_MAX */
};

/* Resumable state between calls on the same (growing) buffer. */
struct http_parser {
	uint32_t scanned;             /* bytes searched for the end of the head */
};

struct http_request {
	enum http_method method;
	struct http_slice method_name;
	struct http_slice target;     /* as sent */
	struct http_slice path;       /* target without query (absolute form: the path part) */
	struct http_slice query;      /* after '?', without it; ptr NULL when absent */
	uint8_t minor_version;        /* HTTP/1.x */
	bool keep_alive;              /* after version defaults and Connection tokens */
	bool has_content_length;
	uint64_t content_length;
	uint32_t header_count;
	struct http_header headers[HTTP_HEADERS_MAX];
	/* Headers the server uses, found once. */
	struct http_slice host, range, if_range, if_none_match, if_modified_since, origin,
		access_control_request_method, access_control_request_headers;
};

static inline void http_parser_init(struct http_parser *p) { p->scanned = 0; }

int http_parse_request(struct http_parser *state, const char *buf, size_t len, const struct http_limits *limits,
		       struct http_request *req);

/* The status code to answer a negative result with (400 for anything unknown). */
int http_parse_error_status(int rc);

/* Case-insensitive lookup of a header by name; NULL when absent. */
const struct http_header *http_request_header(const struct http_request *req, const char *name);

/* Whether a comma-separated header value contains token (case-insensitive). */
bool http_value_has_token(struct http_slice value, const char *token);

#endif /* SLUICE_HTTP_PARSE_H */
