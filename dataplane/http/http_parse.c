/* SPDX-License-Identifier: BSD-3-Clause
 *
 * http_parse.c: the strict, resumable request-head parser (see http_parse.h). Per request.
 *
 * Two passes: find the end of the head (CRLF CRLF) incrementally, checking the limits as the
 * bytes come; then parse the complete head once, line by line. Nothing is copied.
 */
#include "http_parse.h"

#include <string.h>

/* RFC 9110 §5.6.2 tchar. */
static const uint8_t http_tchar[256] = {
	['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1, ['*'] = 1, ['+'] = 1, ['-'] = 1,
	['.'] = 1, ['^'] = 1, ['_'] = 1, ['`'] = 1, ['|'] = 1, ['~'] = 1,
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
	['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1, ['I'] = 1,
	['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1,
	['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1,
	['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1,
	['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1,
	['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1,
};

static const struct {
	const char *name;
	uint8_t len;
	enum http_method method;
} http_methods[] = {
	{"GET", 3, HTTP_METHOD_GET},         {"HEAD", 4, HTTP_METHOD_HEAD},
	{"OPTIONS", 7, HTTP_METHOD_OPTIONS}, {"POST", 4, HTTP_METHOD_POST},
	{"PUT", 3, HTTP_METHOD_PUT},         {"DELETE", 6, HTTP_METHOD_DELETE},
	{"PATCH", 5, HTTP_METHOD_PATCH},     {"CONNECT", 7, HTTP_METHOD_CONNECT},
	{"TRACE", 5, HTTP_METHOD_TRACE},
};

int http_parse_error_status(int rc)
{
	switch (rc) {
	case HTTP_PARSE_ELINE_TOO_LONG: return 414;
	case HTTP_PARSE_EHEAD_TOO_LARGE: return 431;
	case HTTP_PARSE_EMETHOD:
	case HTTP_PARSE_ETRANSFER: return 501;
	case HTTP_PARSE_EVERSION: return 505;
	default: return 400;
	}
}

static int http_lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

static bool http_slice_equal_nocase(const char *a, uint32_t len, const char *lower)
{
	for (uint32_t i = 0; i < len; i++)
		if (!lower[i] || http_lower((unsigned char)a[i]) != lower[i])
			return false;
	return lower[len] == 0;
}

/* Finds the end of the head. Returns the head length, PARTIAL, or a limit error. */
static int http_find_head_end(struct http_parser *state, const char *buf, size_t len,
			      const struct http_limits *limits)
{
	size_t i = state->scanned >= 3 ? state->scanned - 3 : 0;
	const char *first_lf = memchr(buf, '\n', len < (size_t)limits->max_request_line + 2
						 ? len : (size_t)limits->max_request_line + 2);

	/* Request line over the limit (CRLF not counted). */
	if (!first_lf && len > (size_t)limits->max_request_line + 1)
		return HTTP_PARSE_ELINE_TOO_LONG;
	if (first_lf && (size_t)(first_lf - buf) > (size_t)limits->max_request_line + 1)
		return HTTP_PARSE_ELINE_TOO_LONG;
	for (; i + 3 < len; i++) {
		const char *p = memchr(buf + i, '\r', len - i - 3);
		if (!p)
			break;
		i = (size_t)(p - buf);
		if (p[1] == '\n' && p[2] == '\r' && p[3] == '\n') {
			if (i + 4 > limits->max_header_bytes)
				return HTTP_PARSE_EHEAD_TOO_LARGE;
			return (int)(i + 4);
		}
	}
	state->scanned = (uint32_t)(len < 3 ? 0 : len - 3);
	if (len > limits->max_header_bytes)
		return HTTP_PARSE_EHEAD_TOO_LARGE;
	return HTTP_PARSE_PARTIAL;
}

static int http_parse_request_line(const char *p, const char *end, struct http_request *req)
{
	const char *start = p;
	const char *target;

	while (p < end && http_tchar[(unsigned char)*p])
		p++;
	if (p == start || p >= end || *p != ' ')
		return HTTP_PARSE_EBAD;
	req->method_name = (struct http_slice){start, (uint32_t)(p - start)};
	req->method = HTTP_METHOD_UNKNOWN;
	for (size_t i = 0; i < sizeof(http_methods) / sizeof(http_methods[0]); i++)
		if (http_methods[i].len == req->method_name.len && !memcmp(http_methods[i].name, start, http_methods[i].len))
			req->method = http_methods[i].method;
	target = ++p;
	while (p < end && (unsigned char)*p > ' ' && *p != 0x7f)
		p++;
	if (p == target || p >= end || *p != ' ')
		return HTTP_PARSE_EBAD;
	req->target = (struct http_slice){target, (uint32_t)(p - target)};
	p++;
	if (end - p != 8 || memcmp(p, "HTTP/", 5) || p[6] != '.' || p[5] < '0' || p[5] > '9' || p[7] < '0' ||
	    p[7] > '9')
		return HTTP_PARSE_EBAD;
	if (p[5] != '1')
		return HTTP_PARSE_EVERSION;
	req->minor_version = (uint8_t)(p[7] - '0');
	if (req->minor_version > 1)
		req->minor_version = 1; /* HTTP/1.2+ are served as 1.1 (RFC 9110 §6.2) */
	if (req->method == HTTP_METHOD_UNKNOWN)
		return HTTP_PARSE_EMETHOD;
	return 0;
}

/* Splits the target into path and query: origin form "/p?q", absolute form
 * "http://host/p?q", or "*" (OPTIONS only). */
static int http_split_target(struct http_request *req)
{
	const char *t = req->target.ptr, *end = t + req->target.len, *path = t, *q;

	if (req->target.len == 1 && t[0] == '*') {
		if (req->method != HTTP_METHOD_OPTIONS)
			return HTTP_PARSE_EBAD;
		req->path = req->target;
		req->query = (struct http_slice){NULL, 0};
		return 0;
	}
	if (t[0] != '/') {
		size_t scheme = 0;
		if (req->target.len > 7 && !memcmp(t, "http://", 7))
			scheme = 7;
		else if (req->target.len > 8 && !memcmp(t, "https://", 8))
			scheme = 8;
		else
			return HTTP_PARSE_EBAD;
		path = memchr(t + scheme, '/', (size_t)(end - t) - scheme);
		if (!path || path == t + scheme)
			return HTTP_PARSE_EBAD;
	}
	q = memchr(path, '?', (size_t)(end - path));
	if (q) {
		req->path = (struct http_slice){path, (uint32_t)(q - path)};
		req->query = (struct http_slice){q + 1, (uint32_t)(end - q - 1)};
	} else {
		req->path = (struct http_slice){path, (uint32_t)(end - path)};
		req->query = (struct http_slice){NULL, 0};
	}
	if (memchr(req->path.ptr, '#', req->path.len))
		return HTTP_PARSE_EBAD; /* a fragment is never sent */
	return 0;
}

static int http_parse_content_length(struct http_slice v, struct http_request *req)
{
	uint64_t n = 0;

	if (!v.len || v.len > 19)
		return HTTP_PARSE_EBAD;
	for (uint32_t i = 0; i < v.len; i++) {
		if (v.ptr[i] < '0' || v.ptr[i] > '9')
			return HTTP_PARSE_EBAD;
		n = n * 10 + (uint64_t)(v.ptr[i] - '0');
	}
	if (req->has_content_length && req->content_length != n)
		return HTTP_PARSE_EBAD;
	req->has_content_length = true;
	req->content_length = n;
	return 0;
}

bool http_value_has_token(struct http_slice value, const char *token)
{
	size_t tlen = strlen(token);
	uint32_t i = 0;

	while (i < value.len) {
		uint32_t start, stop;

		while (i < value.len && (value.ptr[i] == ' ' || value.ptr[i] == '\t' || value.ptr[i] == ','))
			i++;
		start = i;
		while (i < value.len && value.ptr[i] != ',')
			i++;
		stop = i;
		while (stop > start && (value.ptr[stop - 1] == ' ' || value.ptr[stop - 1] == '\t'))
			stop--;
		if (stop - start == tlen && http_slice_equal_nocase(value.ptr + start, stop - start, token))
			return true;
	}
	return false;
}

/* Remembers the headers the server uses. Returns 0 or an error. */
static int http_note_header(struct http_request *req, const struct http_header *h, bool *connection_close,
			    bool *connection_keep_alive)
{
	const char *n = h->name.ptr;
	uint32_t len = h->name.len;

#define HTTP_IS(lower) http_slice_equal_nocase(n, len, lower)
	switch (http_lower((unsigned char)n[0])) {
	case 'h':
		if (HTTP_IS("host")) {
			if (req->host.ptr)
				return HTTP_PARSE_EBAD; /* RFC 9112 §3.2: exactly one */
			req->host = h->value;
		}
		break;
	case 'r':
		if (HTTP_IS("range"))
			req->range = h->value;
		break;
	case 'i':
		if (HTTP_IS("if-range"))
			req->if_range = h->value;
		else if (HTTP_IS("if-none-match"))
			req->if_none_match = h->value;
		else if (HTTP_IS("if-modified-since"))
			req->if_modified_since = h->value;
		break;
	case 'o':
		if (HTTP_IS("origin"))
			req->origin = h->value;
		break;
	case 'a':
		if (HTTP_IS("access-control-request-method"))
			req->access_control_request_method = h->value;
		else if (HTTP_IS("access-control-request-headers"))
			req->access_control_request_headers = h->value;
		break;
	case 'c':
		if (HTTP_IS("content-length"))
			return http_parse_content_length(h->value, req);
		if (HTTP_IS("connection")) {
			*connection_close |= http_value_has_token(h->value, "close");
			*connection_keep_alive |= http_value_has_token(h->value, "keep-alive");
		}
		break;
	case 't':
		if (HTTP_IS("transfer-encoding"))
			return HTTP_PARSE_ETRANSFER;
		break;
	default:
		break;
	}
#undef HTTP_IS
	return 0;
}

static int http_parse_header_line(const char *p, const char *end, struct http_header *h)
{
	const char *name = p, *value, *value_end;

	while (p < end && http_tchar[(unsigned char)*p])
		p++;
	if (p == name || p >= end || *p != ':')
		return HTTP_PARSE_EBAD; /* empty name, bad character, or space before the colon */
	h->name = (struct http_slice){name, (uint32_t)(p - name)};
	p++;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	value = p;
	for (; p < end; p++) {
		unsigned char c = (unsigned char)*p;
		if ((c < ' ' && c != '\t') || c == 0x7f)
			return HTTP_PARSE_EBAD; /* NUL, bare CR or LF, other controls */
	}
	value_end = end;
	while (value_end > value && (value_end[-1] == ' ' || value_end[-1] == '\t'))
		value_end--;
	h->value = (struct http_slice){value, (uint32_t)(value_end - value)};
	return 0;
}

int http_parse_request(struct http_parser *state, const char *buf, size_t len, const struct http_limits *limits,
		       struct http_request *req)
{
	int head_len = http_find_head_end(state, buf, len, limits);
	const char *p, *end, *line_end;
	bool connection_close = false, connection_keep_alive = false;
	uint32_t max_headers = limits->max_headers < HTTP_HEADERS_MAX ? limits->max_headers : HTTP_HEADERS_MAX;
	int rc;

	if (head_len < 0)
		return head_len;
	memset(req, 0, offsetof(struct http_request, headers));
	memset(&req->host, 0, sizeof(*req) - offsetof(struct http_request, host));
	p = buf;
	end = buf + head_len - 2; /* the final empty line's CRLF */
	line_end = memchr(p, '\r', (size_t)(end - p));
	if (!line_end || line_end[1] != '\n' || memchr(p, '\n', (size_t)(line_end - p)))
		return HTTP_PARSE_EBAD;
	rc = http_parse_request_line(p, line_end, req);
	if (rc)
		return rc;
	rc = http_split_target(req);
	if (rc)
		return rc;
	p = line_end + 2;
	while (p < end) {
		struct http_header *h;

		line_end = memchr(p, '\r', (size_t)(end - p));
		if (!line_end || line_end[1] != '\n' || memchr(p, '\n', (size_t)(line_end - p)))
			return HTTP_PARSE_EBAD;
		if (*p == ' ' || *p == '\t')
			return HTTP_PARSE_EBAD; /* obs-fold (RFC 9112 §5.2) */
		if (req->header_count == max_headers)
			return HTTP_PARSE_EHEAD_TOO_LARGE;
		h = &req->headers[req->header_count++];
		rc = http_parse_header_line(p, line_end, h);
		if (rc)
			return rc;
		rc = http_note_header(req, h, &connection_close, &connection_keep_alive);
		if (rc)
			return rc;
		p = line_end + 2;
	}
	if (req->minor_version == 1 && !req->host.ptr)
		return HTTP_PARSE_EBAD; /* RFC 9112 §3.2 */
	req->keep_alive = req->minor_version == 1 ? !connection_close : (connection_keep_alive && !connection_close);
	return head_len;
}

const struct http_header *http_request_header(const struct http_request *req, const char *name)
{
	char lower[64];
	size_t n = strlen(name);

	if (n >= sizeof(lower))
		return NULL;
	for (size_t i = 0; i <= n; i++)
		lower[i] = (char)http_lower((unsigned char)name[i]);
	for (uint32_t i = 0; i < req->header_count; i++)
		if (http_slice_equal_nocase(req->headers[i].name.ptr, req->headers[i].name.len, lower))
			return &req->headers[i];
	return NULL;
}
