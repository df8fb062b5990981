/* SPDX-License-Identifier: BSD-3-Clause
 *
 * http_parse.h: the HTTP/1.1 request-head parser of the data plane (hot path, per request).
 *
 * Contract (picohttpparser, nginx ngx_http_parse.c): http_parse_request() is given the bytes
 * received so far for one request head, starting at its first byte, and returns
 *
 *   > 0                   the head is complete; that many bytes belong to it (leading empty
 *                         lines, request line, field lines, the final CRLF);
 *   HTTP_PARSE_PARTIAL    more bytes are needed; call again with the same bytes and more after
 *                         them (the buffer may have moved: the state keeps offsets only);
 *   HTTP_PARSE_<status>   the request is refused; the value is minus the HTTP status to answer
 *                         (http_parse_error_status()), and state->reason says why (counters).
 *
 * Nothing is copied: every slice in struct http_request points into the caller's buffer, which
 * must stay unchanged while the request is served. No allocation, no system call, no lock, no
 * logging; the per-connection state (struct http_parser) is 16 bytes.
 *
 * Resumable, O(n) in total. The state remembers the offset of the first byte not yet part of
 * a complete line and how far the search for its LF got. Each call searches only new bytes
 * for the next LF (memchr; an incomplete line is never searched twice), validates
 * each line once when its LF arrives, and enforces the limits on the incomplete line too: a
 * 100 KB request line is refused with 414 as soon as it is longer than the limit, a flood of
 * field lines with 431 as soon as one line too many starts. When the empty line arrives, one
 * final pass extracts the fields into the caller's struct http_request (a per-lcore scratch:
 * it is only meaningful after a return > 0). Cost: each head byte is touched three times
 * (memchr, line validation, extraction), all within one head of at most a few KB, in cache.
 * Because the checks of a line only depend on that line and the ones before it, feeding a head
 * one byte at a time returns exactly what feeding it whole returns (the unit tests and the
 * fuzzer check it), including which error and which reason.
 *
 * Order of checks, per line in order: limits (414 for the request line, 431 for the count of
 * field lines and the size of the head), then the line's syntax (400, 505 bad version, 501
 * unknown method or Transfer-Encoding); after the last line, checks across lines (duplicate
 * Host or other single-valued fields, conflicting Content-Length, missing Host: 400).
 *
 * Strict where leniency has been used for request smuggling and cache poisoning:
 *   - lines end with CRLF; a bare LF or a bare CR is 400 (RFC 9112 §2.2 makes accepting a
 *     bare LF optional; no player sends one, and one rule keeps the limit arithmetic exact);
 *   - exactly one SP between method, target and version; the version is case-sensitive;
 *   - NUL and other control characters (HTAB in field values excepted) are 400, bytes >= 0x80
 *     are only accepted in field values (obs-text);
 *   - obs-fold (a line starting with SP or HTAB) is 400 (RFC 9112 §5.2 allows rejecting);
 *   - whitespace between a field name and the colon is 400 (RFC 9112 §5.1 requires it);
 *   - Transfer-Encoding on a request is 501 (we do not accept request bodies in chunked
 *     coding; RFC 9112 §6.1 says 501 for codings not understood), and the connection closes;
 *   - Content-Length must be digits (a list of identical values is accepted, RFC 9110 §8.6);
 *     differing values are 400;
 *   - a second Host, Content-Length (different), Range, If-Range, If-Modified-Since, Origin
 *     or Access-Control-Request-Method line is 400: those are single-valued, and a recipient
 *     that picks one of two is what smuggling and cache-key confusion rely on;
 *   - HTTP/1.1 without Host is 400 (RFC 9112 §3.2);
 *   - empty lines before the request line are skipped (RFC 9112 §2.2: SHOULD ignore at
 *     least one; clients send a stray CRLF after a body); they count against the head limit.
 *
 * Request target (RFC 9112 §3.2): origin-form ("/path?query"), asterisk-form ("*", OPTIONS
 * only), authority-form (CONNECT only, which the server answers 405 anyway) and absolute-form
 * ("http://host[:port]/path?query", scheme http or https, no userinfo). For absolute-form the
 * host of the target replaces the Host field (RFC 9112 §3.2.2) in req->host; the server must
 * serve such a request only when that host is one of its own names (it compares req->host
 * against them; a proxy request for another host is answered as a request for an unknown
 * file). req->path stays percent-encoded: http_path_normalize() decodes it for the catalog.
 *
 * Versions: HTTP/1.0 and HTTP/1.1; HTTP/1.x with x > 1 is served as 1.1 (RFC 9110 §2.5);
 * any other major version is 505. keep_alive is computed from the version and every
 * Connection line: 1.1 keeps the connection unless "close"; 1.0 closes unless "keep-alive".
 *
 * Methods: GET, HEAD and OPTIONS are what the server serves; POST, PUT, DELETE, PATCH,
 * CONNECT and TRACE are recognized so the server answers 405 with Allow; any other token is
 * 501 (RFC 9110 §9.1). Method names are case-sensitive. A request body (Content-Length) is
 * allowed on any method: req->content_length tells the server how many bytes to skip before
 * the next pipelined head. Expect: 100-continue is not acted upon (we never read bodies).
 *
 * State -> function table:
 *   fresh state (http_parser_init)       -> http_parse_request
 *   returned HTTP_PARSE_PARTIAL          -> http_parse_request again, same buffer start, more bytes
 *   returned > 0 (complete)              -> serve req; skip req->content_length body bytes;
 *                                           http_parser_init, then parse the next head at
 *                                           buf + consumed + body
 *   returned an error                    -> answer http_parse_error_status(), close; further
 *                                           calls return the same error
 * Invariants: scanned <= searched <= bytes passed in the last call; every complete line
 * before scanned has been validated; no LF in [scanned, searched); phase says whether the
 * request line has been seen.
 */
#ifndef SLUICE_HTTP_PARSE_H
#define SLUICE_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Field lines a request may carry at most, whatever the configured limit says. */
#define HTTP_HEADERS_MAX 64

/* Defaults for struct http_limits (the head size matches dataplane.http.max_request_bytes). */
#define HTTP_LIMIT_REQUEST_LINE_BYTES_DEFAULT 4096
#define HTTP_LIMIT_HEADER_COUNT_DEFAULT 64
#define HTTP_LIMIT_HEAD_BYTES_DEFAULT 8192

enum http_parse_result {
	HTTP_PARSE_PARTIAL = -1,
	HTTP_PARSE_BAD_REQUEST = -400,
	HTTP_PARSE_URI_TOO_LONG = -414,
	HTTP_PARSE_HEADERS_TOO_LARGE = -431,
	HTTP_PARSE_INTERNAL_ERROR = -500,   /* the caller broke the contract (shorter buffer) */
	HTTP_PARSE_NOT_IMPLEMENTED = -501,
	HTTP_PARSE_VERSION_NOT_SUPPORTED = -505,
};

/* Why a request was refused: one counter per reason, names from http_parse_reason_name(). */
#define HTTP_PARSE_REASONS(X)                                                                      \
	X(NONE, "none")                                                                            \
	X(REQUEST_LINE_TOO_LONG, "request line too long")                                         \
	X(TOO_MANY_HEADERS, "too many header fields")                                             \
	X(HEAD_TOO_LARGE, "request head too large")                                                \
	X(BARE_LF, "line ends with LF without CR")                                                 \
	X(BARE_CR, "CR not followed by LF")                                                        \
	X(NUL, "NUL byte")                                                                         \
	X(CONTROL_CHARACTER, "control character")                                                  \
	X(METHOD, "invalid method token")                                                          \
	X(METHOD_UNKNOWN, "unknown method")                                                        \
	X(TARGET, "invalid request target")                                                        \
	X(VERSION, "invalid HTTP version")                                                         \
	X(VERSION_UNSUPPORTED, "unsupported HTTP version")                                         \
	X(OBS_FOLD, "obsolete line folding")                                                       \
	X(SPACE_BEFORE_COLON, "whitespace before colon")                                           \
	X(FIELD_NAME, "invalid field name")                                                        \
	X(FIELD_VALUE, "invalid field value")                                                      \
	X(HOST_MISSING, "HTTP/1.1 request without Host")                                           \
	X(HOST_INVALID, "invalid Host")                                                            \
	X(DUPLICATE_FIELD, "single-valued field repeated")                                         \
	X(CONTENT_LENGTH_INVALID, "invalid Content-Length")                                        \
	X(CONTENT_LENGTH_CONFLICT, "conflicting Content-Length")                                   \
	X(TRANSFER_ENCODING, "Transfer-Encoding on a request")                                     \
	X(CALLER, "buffer shorter than in the previous call")

#define HTTP_PARSE_REASON_ENUM(name, text) HTTP_PARSE_REASON_##name,
enum http_parse_reason { HTTP_PARSE_REASONS(HTTP_PARSE_REASON_ENUM) HTTP_PARSE_REASON_COUNT };
#undef HTTP_PARSE_REASON_ENUM

enum http_method {
	HTTP_METHOD_UNKNOWN = 0, /* never in a parsed request: unknown methods are 501 */
	HTTP_METHOD_GET,
	HTTP_METHOD_HEAD,
	HTTP_METHOD_OPTIONS,
	HTTP_METHOD_POST,        /* POST and below: recognized, answered 405 */
	HTTP_METHOD_PUT,
	HTTP_METHOD_DELETE,
	HTTP_METHOD_PATCH,
	HTTP_METHOD_CONNECT,
	HTTP_METHOD_TRACE,
};

enum http_target_form {
	HTTP_TARGET_ORIGIN = 0,  /* /path?query */
	HTTP_TARGET_ABSOLUTE,    /* http://host/path?query */
	HTTP_TARGET_AUTHORITY,   /* host:port (CONNECT) */
	HTTP_TARGET_ASTERISK,    /* * (OPTIONS) */
};

/* Bytes of something, not NUL-terminated. data is NULL when len is 0 and the thing is absent. */
struct http_slice {
	const char *data;
	size_t len;
};

struct http_header {
	struct http_slice name;  /* as sent (case preserved) */
	struct http_slice value; /* without leading and trailing whitespace */
};

struct http_limits {
	uint32_t request_line_bytes; /* request line without CRLF; longer: 414 */
	uint32_t header_count;       /* field lines; more: 431 (at most HTTP_HEADERS_MAX) */
	uint32_t head_bytes;         /* whole head with every CRLF; larger: 431 (414 while in the
	                                request line) */
};

struct http_parser {
	uint32_t scanned;             /* offset of the first byte not part of a validated line */
	uint32_t searched;            /* no LF in [scanned, searched): the next search starts here */
	uint32_t request_line_start;  /* offset of the request line, after leading empty lines */
	uint16_t header_lines;        /* field lines validated so far */
	uint8_t phase;                /* internal: before/after the request line, failed */
	uint8_t reason;               /* enum http_parse_reason of the error returned */
};
_Static_assert(sizeof(struct http_parser) == 16, "the per-connection parser state is 16 bytes");

struct http_request {
	enum http_method method;
	enum http_target_form target_form;
	uint8_t version_minor;        /* 0 for HTTP/1.0, 1 for HTTP/1.1 (and 1.x, x > 1) */
	bool keep_alive;
	bool has_query;               /* a '?' was present, even with nothing after it */
	bool has_content_length;
	uint64_t content_length;      /* bytes of body following the head; 0 when absent */
	uint32_t head_bytes;          /* = the value returned */

	struct http_slice method_name;
	struct http_slice target;     /* as sent */
	struct http_slice path;       /* percent-encoded; "/" (static) for http://host; "*" */
	struct http_slice query;      /* after '?' */
	struct http_slice authority;  /* absolute-form and authority-form targets */

	/* Fields the server uses, found once; empty when absent. For list fields sent on several
	 * lines (If-None-Match, Access-Control-Request-Headers) this is the first line and
	 * *_lines says how many; http_request_header_next() walks the others. */
	struct http_slice host;       /* Host, or the authority of an absolute-form target */
	struct http_slice range;
	struct http_slice if_range;
	struct http_slice if_none_match;
	struct http_slice if_modified_since;
	struct http_slice origin;
	struct http_slice access_control_request_method;
	struct http_slice access_control_request_headers;
	struct http_slice connection; /* first line; keep_alive already accounts for all */
	uint8_t if_none_match_lines;
	uint8_t access_control_request_headers_lines;

	uint32_t header_count;
	struct http_header headers[HTTP_HEADERS_MAX];
};

static inline void http_parser_init(struct http_parser *state)
{
	*state = (struct http_parser){0};
}

static inline struct http_limits http_limits_default(void)
{
	return (struct http_limits){
		.request_line_bytes = HTTP_LIMIT_REQUEST_LINE_BYTES_DEFAULT,
		.header_count = HTTP_LIMIT_HEADER_COUNT_DEFAULT,
		.head_bytes = HTTP_LIMIT_HEAD_BYTES_DEFAULT,
	};
}

/* See the contract above. buf holds len bytes from the first byte of the head. */
int http_parse_request(struct http_parser *state, const char *buf, size_t len,
		       const struct http_limits *limits, struct http_request *req);

/* The status to answer for a negative result other than HTTP_PARSE_PARTIAL (500 for others). */
static inline unsigned http_parse_error_status(int result)
{
	switch (result) {
	case HTTP_PARSE_BAD_REQUEST:
	case HTTP_PARSE_URI_TOO_LONG:
	case HTTP_PARSE_HEADERS_TOO_LARGE:
	case HTTP_PARSE_NOT_IMPLEMENTED:
	case HTTP_PARSE_VERSION_NOT_SUPPORTED:
		return (unsigned)-result;
	default:
		return 500;
	}
}

const char *http_parse_reason_name(enum http_parse_reason reason);
const char *http_method_name(enum http_method method);

/* First field named name (ASCII case-insensitive), or NULL. */
const struct http_header *http_request_header(const struct http_request *req, const char *name,
					      size_t name_len);

/* Walks every line of a field: start with *cursor = 0; returns NULL after the last. */
const struct http_header *http_request_header_next(const struct http_request *req,
						   const char *name, size_t name_len,
						   uint32_t *cursor);

/* ASCII case-insensitive equality, independent of the locale. */
bool http_ascii_case_equal(const char *a, const char *b, size_t len);

/*
 * Decodes and normalizes a request path (req->path) into out, the form the catalog is keyed
 * by: %XX decoded (hex digits of either case); "." segments dropped; ".." segments remove the
 * previous segment; runs of '/' merged into one; a trailing '/' kept. Returns the length
 * written (out is not NUL-terminated), or
 *   -EINVAL  not starting with '/', a malformed %, %00 or a decoded control character, an
 *            encoded '/' (%2F: the catalog could not tell it from a separator), or a ".."
 *            that would climb above the root (also when spelled %2E%2E);
 *   -ENOSPC  out_size too small (len + 1 is always enough).
 * The server answers 400 for -EINVAL. Dot segments are recognized after decoding, so
 * "/a/%2e%2e/b" is "/b", exactly what the file system would make of it.
 */
int http_path_normalize(const char *in, size_t len, char *out, size_t out_size);

#endif /* SLUICE_HTTP_PARSE_H */
