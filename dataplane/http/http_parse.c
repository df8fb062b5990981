/* SPDX-License-Identifier: BSD-3-Clause
 *
 * http_parse.c: the HTTP/1.1 request-head parser (hot path; contract and design in
 * http_parse.h).
 *
 * Two layers. The scanner (http_parse_request) walks complete lines, applies the limits and
 * validates each line once as its LF arrives, remembering only offsets between calls. When the
 * empty line arrives, request_extract() walks the head again from the request line and fills
 * struct http_request, then applies the checks that need several lines. Both layers use the
 * same line parsers (request_line_parse, header_line_parse), so a line that validated during
 * the scan extracts the same way at the end.
 */
#include "http_parse.h"

#include <errno.h>
#include <string.h>

#include "compiler.h"

enum parser_phase {
	PHASE_REQUEST_LINE = 0, /* skipping empty lines, waiting for the request line */
	PHASE_HEADERS,          /* request line validated, field lines being validated */
	PHASE_COMPLETE,         /* head complete; calling again extracts again */
	PHASE_FAILED,           /* an error was returned; reason says which */
};

/* Character classes: token (RFC 9110 §5.6.2 tchar), field value (§5.5: HTAB, SP, VCHAR,
 * obs-text), request target (VCHAR except '#': a fragment is never sent), host (RFC 3986
 * unreserved, sub-delims, pct-encoded, and ':' '[' ']' for ports and IP literals). */
enum {
	CLASS_TOKEN = 1 << 0,
	CLASS_VALUE = 1 << 1,
	CLASS_TARGET = 1 << 2,
	CLASS_HOST = 1 << 3,
};
#define TK CLASS_TOKEN
#define VL CLASS_VALUE
#define TG CLASS_TARGET
#define HS CLASS_HOST
static const uint8_t char_class[256] = {
	['\t'] = VL,
	[' '] = VL,
	['!'] = VL | TG | TK | HS,
	['"'] = VL | TG,
	['#'] = VL | TK,
	['$'] = VL | TG | TK | HS,
	['%'] = VL | TG | TK | HS,
	['&'] = VL | TG | TK | HS,
	['\''] = VL | TG | TK | HS,
	['('] = VL | TG | HS,
	[')'] = VL | TG | HS,
	['*'] = VL | TG | TK | HS,
	['+'] = VL | TG | TK | HS,
	[','] = VL | TG | HS,
	['-'] = VL | TG | TK | HS,
	['.'] = VL | TG | TK | HS,
	['/'] = VL | TG,
	['0' ... '9'] = VL | TG | TK | HS,
	[':'] = VL | TG | HS,
	[';'] = VL | TG | HS,
	['<'] = VL | TG,
	['='] = VL | TG | HS,
	['>'] = VL | TG,
	['?'] = VL | TG,
	['@'] = VL | TG,
	['A' ... 'Z'] = VL | TG | TK | HS,
	['['] = VL | TG | HS,
	['\\'] = VL | TG,
	[']'] = VL | TG | HS,
	['^'] = VL | TG | TK,
	['_'] = VL | TG | TK | HS,
	['`'] = VL | TG | TK,
	['a' ... 'z'] = VL | TG | TK | HS,
	['{'] = VL | TG,
	['|'] = VL | TG | TK,
	['}'] = VL | TG,
	['~'] = VL | TG | TK | HS,
	[0x80 ... 0xff] = VL,
};
#undef TK
#undef VL
#undef TG
#undef HS

static inline bool char_is(char c, unsigned class)
{
	return char_class[(uint8_t)c] & class;
}

static inline bool char_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static inline char ascii_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c + ('a' - 'A')) : c;
}

bool http_ascii_case_equal(const char *a, const char *b, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (ascii_lower(a[i]) != ascii_lower(b[i]))
			return false;
	return true;
}

/* ------------------------------------------------------------------------------------------ */
/* Reasons and statuses. */

#define HTTP_PARSE_REASON_TEXT(name, text) [HTTP_PARSE_REASON_##name] = text,
static const char *const reason_names[HTTP_PARSE_REASON_COUNT] = {
	HTTP_PARSE_REASONS(HTTP_PARSE_REASON_TEXT)
};
#undef HTTP_PARSE_REASON_TEXT

const char *http_parse_reason_name(enum http_parse_reason reason)
{
	return (unsigned)reason < HTTP_PARSE_REASON_COUNT ? reason_names[reason] : "?";
}

/* Each reason answers exactly one status, so the state only keeps the reason. */
static int reason_result(enum http_parse_reason reason)
{
	switch (reason) {
	case HTTP_PARSE_REASON_REQUEST_LINE_TOO_LONG:
		return HTTP_PARSE_URI_TOO_LONG;
	case HTTP_PARSE_REASON_TOO_MANY_HEADERS:
	case HTTP_PARSE_REASON_HEAD_TOO_LARGE:
		return HTTP_PARSE_HEADERS_TOO_LARGE;
	case HTTP_PARSE_REASON_METHOD_UNKNOWN:
	case HTTP_PARSE_REASON_TRANSFER_ENCODING:
		return HTTP_PARSE_NOT_IMPLEMENTED;
	case HTTP_PARSE_REASON_VERSION_UNSUPPORTED:
		return HTTP_PARSE_VERSION_NOT_SUPPORTED;
	case HTTP_PARSE_REASON_CALLER:
		return HTTP_PARSE_INTERNAL_ERROR;
	default:
		return HTTP_PARSE_BAD_REQUEST;
	}
}

static int parse_fail(struct http_parser *state, enum http_parse_reason reason)
{
	state->phase = PHASE_FAILED;
	state->reason = (uint8_t)reason;
	return reason_result(reason);
}

/* The reason for an unexpected byte: control characters are named as such, anything else
 * gets the reason of the element being parsed. */
static enum http_parse_reason char_reason(char c, enum http_parse_reason otherwise)
{
	if (c == '\r')
		return HTTP_PARSE_REASON_BARE_CR;
	if (c == '\0')
		return HTTP_PARSE_REASON_NUL;
	if ((uint8_t)c < 0x20 || c == 0x7f)
		return HTTP_PARSE_REASON_CONTROL_CHARACTER;
	return otherwise;
}

/* ------------------------------------------------------------------------------------------ */
/* Methods. */

static const struct method_entry {
	const char *name;
	uint8_t len;
	enum http_method method;
} method_table[] = {
	{"GET", 3, HTTP_METHOD_GET},
	{"HEAD", 4, HTTP_METHOD_HEAD},
	{"OPTIONS", 7, HTTP_METHOD_OPTIONS},
	{"POST", 4, HTTP_METHOD_POST},
	{"PUT", 3, HTTP_METHOD_PUT},
	{"DELETE", 6, HTTP_METHOD_DELETE},
	{"PATCH", 5, HTTP_METHOD_PATCH},
	{"CONNECT", 7, HTTP_METHOD_CONNECT},
	{"TRACE", 5, HTTP_METHOD_TRACE},
};

const char *http_method_name(enum http_method method)
{
	for (size_t i = 0; i < ARRAY_SIZE(method_table); i++)
		if (method_table[i].method == method)
			return method_table[i].name;
	return "?";
}

static enum http_method method_lookup(const char *name, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(method_table); i++)
		if (method_table[i].len == len && memcmp(method_table[i].name, name, len) == 0)
			return method_table[i].method;
	return HTTP_METHOD_UNKNOWN;
}

/* ------------------------------------------------------------------------------------------ */
/* Fields the server uses. */

enum request_field {
	FIELD_OTHER = 0,
	FIELD_HOST,
	FIELD_RANGE,
	FIELD_IF_RANGE,
	FIELD_IF_NONE_MATCH,
	FIELD_IF_MODIFIED_SINCE,
	FIELD_ORIGIN,
	FIELD_ACCESS_CONTROL_REQUEST_METHOD,
	FIELD_ACCESS_CONTROL_REQUEST_HEADERS,
	FIELD_CONTENT_LENGTH,
	FIELD_CONNECTION,
	FIELD_TRANSFER_ENCODING,
};

#define FIELD_NO_SLOT SIZE_MAX
static const struct field_entry {
	const char *name;
	uint8_t len;
	uint8_t field;        /* enum request_field */
	bool single;          /* a second line is 400 */
	size_t slot;          /* offset of the struct http_slice in struct http_request */
} field_table[] = {
#define FIELD_ENTRY(text, field, single, member) \
	{text, sizeof(text) - 1, field, single, offsetof(struct http_request, member)}
	FIELD_ENTRY("host", FIELD_HOST, true, host),
	FIELD_ENTRY("range", FIELD_RANGE, true, range),
	FIELD_ENTRY("if-range", FIELD_IF_RANGE, true, if_range),
	FIELD_ENTRY("if-none-match", FIELD_IF_NONE_MATCH, false, if_none_match),
	FIELD_ENTRY("if-modified-since", FIELD_IF_MODIFIED_SINCE, true, if_modified_since),
	FIELD_ENTRY("origin", FIELD_ORIGIN, true, origin),
	FIELD_ENTRY("access-control-request-method", FIELD_ACCESS_CONTROL_REQUEST_METHOD, true,
		    access_control_request_method),
	FIELD_ENTRY("access-control-request-headers", FIELD_ACCESS_CONTROL_REQUEST_HEADERS, false,
		    access_control_request_headers),
	FIELD_ENTRY("connection", FIELD_CONNECTION, false, connection),
#undef FIELD_ENTRY
	{"content-length", 14, FIELD_CONTENT_LENGTH, false, FIELD_NO_SLOT},
	{"transfer-encoding", 17, FIELD_TRANSFER_ENCODING, false, FIELD_NO_SLOT},
};

static const struct field_entry *field_lookup(const char *name, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(field_table); i++)
		if (field_table[i].len == len && http_ascii_case_equal(field_table[i].name, name, len))
			return &field_table[i];
	return NULL;
}

static inline bool is_whitespace(char c)
{
	return c == ' ' || c == '\t';
}

/* Content-Length = 1*DIGIT; a list of identical values is accepted (RFC 9110 §8.6). Values
 * above INT64_MAX are invalid: body lengths are compared with signed file offsets. */
static enum http_parse_reason content_length_parse(const char *v, size_t len, uint64_t *out)
{
	bool have = false;
	uint64_t first = 0;
	size_t i = 0;

	for (;;) {
		uint64_t n = 0;

		if (i == len || !char_is_digit(v[i]))
			return HTTP_PARSE_REASON_CONTENT_LENGTH_INVALID;
		for (; i < len && char_is_digit(v[i]); i++) {
			unsigned digit = (unsigned)(v[i] - '0');

			if (n > ((uint64_t)INT64_MAX - digit) / 10)
				return HTTP_PARSE_REASON_CONTENT_LENGTH_INVALID;
			n = n * 10 + digit;
		}
		if (have && n != first)
			return HTTP_PARSE_REASON_CONTENT_LENGTH_CONFLICT;
		first = n;
		have = true;
		while (i < len && is_whitespace(v[i]))
			i++;
		if (i == len)
			break;
		if (v[i] != ',')
			return HTTP_PARSE_REASON_CONTENT_LENGTH_INVALID;
		i++;
		while (i < len && is_whitespace(v[i]))
			i++;
	}
	*out = first;
	return HTTP_PARSE_REASON_NONE;
}

/* uri-host [ ":" port ] (RFC 9110 §7.2). IP literals are IPv6 (hex digits, ':' and '.'). An
 * empty value is valid for Host (RFC 9112 §3.2, targets without an authority). */
static bool host_valid(const char *v, size_t len)
{
	size_t i = 0;

	if (len && v[0] == '[') {
		for (i = 1; i < len && v[i] != ']'; i++)
			if (!(char_is_digit(v[i]) || (ascii_lower(v[i]) >= 'a' && ascii_lower(v[i]) <= 'f') ||
			      v[i] == ':' || v[i] == '.'))
				return false;
		if (i == len || i == 1)
			return false;
		i++;
	} else {
		for (; i < len && v[i] != ':'; i++)
			if (!char_is(v[i], CLASS_HOST) || v[i] == '[' || v[i] == ']')
				return false;
	}
	if (i == len)
		return true;
	if (v[i] != ':')
		return false;
	for (i++; i < len; i++)
		if (!char_is_digit(v[i]))
			return false;
	return true;
}

/* Connection = #connection-option: the tokens the server acts on are "close" and
 * "keep-alive"; others (upgrade, TE, ...) are ignored. */
static void connection_tokens(const char *v, size_t len, bool *close, bool *keep_alive)
{
	size_t i = 0;

	while (i < len) {
		size_t start, end;

		while (i < len && (is_whitespace(v[i]) || v[i] == ','))
			i++;
		start = i;
		while (i < len && v[i] != ',')
			i++;
		end = i;
		while (end > start && is_whitespace(v[end - 1]))
			end--;
		if (end - start == 5 && http_ascii_case_equal(v + start, "close", 5))
			*close = true;
		else if (end - start == 10 && http_ascii_case_equal(v + start, "keep-alive", 10))
			*keep_alive = true;
	}
}

/* ------------------------------------------------------------------------------------------ */
/* Line parsers: used by the scan (to validate) and by the extraction (to fill req). */

static bool target_parse(struct http_request *req, const char *t, size_t len)
{
	static const char root[] = "/";
	size_t i, scheme_len;

	if (t[0] == '/') {
		const char *q = memchr(t, '?', len);

		req->target_form = HTTP_TARGET_ORIGIN;
		req->path = (struct http_slice){t, q ? (size_t)(q - t) : len};
		if (q) {
			req->has_query = true;
			req->query = (struct http_slice){q + 1, len - (size_t)(q - t) - 1};
		}
		return true;
	}
	if (len == 1 && t[0] == '*') {
		req->target_form = HTTP_TARGET_ASTERISK;
		req->path = (struct http_slice){t, 1};
		return req->method == HTTP_METHOD_OPTIONS;
	}
	if (req->method == HTTP_METHOD_CONNECT) {
		req->target_form = HTTP_TARGET_AUTHORITY;
		req->authority = (struct http_slice){t, len};
		return host_valid(t, len);
	}
	if (len > 7 && http_ascii_case_equal(t, "http://", 7))
		scheme_len = 7;
	else if (len > 8 && http_ascii_case_equal(t, "https://", 8))
		scheme_len = 8;
	else
		return false;
	req->target_form = HTTP_TARGET_ABSOLUTE;
	for (i = scheme_len; i < len && t[i] != '/' && t[i] != '?'; i++)
		;
	/* An http URI with an empty host is invalid (RFC 9110 §4.2.1); userinfo ('@') is not a
	 * host character, so it is refused too (§4.2.4). */
	if (i == scheme_len || !host_valid(t + scheme_len, i - scheme_len))
		return false;
	req->authority = (struct http_slice){t + scheme_len, i - scheme_len};
	if (i < len && t[i] == '/') {
		const char *q = memchr(t + i, '?', len - i);

		req->path = (struct http_slice){t + i, q ? (size_t)(q - (t + i)) : len - i};
		i += req->path.len;
	} else {
		req->path = (struct http_slice){root, 1};
	}
	if (i < len) { /* t[i] == '?' */
		req->has_query = true;
		req->query = (struct http_slice){t + i + 1, len - i - 1};
	}
	return true;
}

/* method SP request-target SP HTTP-version (RFC 9112 §3), line without CRLF. */
static enum http_parse_reason request_line_parse(const char *line, size_t len,
						 struct http_request *req)
{
	const char *end = line + len, *p = line, *target;
	const char *version;

	while (p < end && char_is(*p, CLASS_TOKEN))
		p++;
	if (p == end || *p != ' ' || p == line)
		return char_reason(p < end ? *p : ' ', HTTP_PARSE_REASON_METHOD);
	req->method_name = (struct http_slice){line, (size_t)(p - line)};
	target = ++p;
	while (p < end && char_is(*p, CLASS_TARGET))
		p++;
	if (p == end || *p != ' ' || p == target)
		return char_reason(p < end ? *p : ' ', HTTP_PARSE_REASON_TARGET);
	req->target = (struct http_slice){target, (size_t)(p - target)};
	version = ++p;
	for (; p < end; p++)
		if (!char_is(*p, CLASS_TOKEN) && *p != '/')
			return char_reason(*p, HTTP_PARSE_REASON_VERSION);
	/* HTTP-version = "HTTP/" DIGIT "." DIGIT, case-sensitive. */
	if (end - version != 8 || memcmp(version, "HTTP/", 5) != 0 || !char_is_digit(version[5]) ||
	    version[6] != '.' || !char_is_digit(version[7]))
		return HTTP_PARSE_REASON_VERSION;
	if (version[5] != '1')
		return HTTP_PARSE_REASON_VERSION_UNSUPPORTED;
	req->version_minor = version[7] == '0' ? 0 : 1;
	req->method = method_lookup(req->method_name.data, req->method_name.len);
	if (req->method == HTTP_METHOD_UNKNOWN)
		return HTTP_PARSE_REASON_METHOD_UNKNOWN;
	if (!target_parse(req, req->target.data, req->target.len))
		return HTTP_PARSE_REASON_TARGET;
	return HTTP_PARSE_REASON_NONE;
}

/* field-name ":" OWS field-value OWS (RFC 9112 §5), line without CRLF. Also checks the value
 * of the fields whose syntax alone decides (Host, Content-Length, Transfer-Encoding). */
static enum http_parse_reason header_line_parse(const char *line, size_t len,
						struct http_header *header,
						const struct field_entry **field,
						uint64_t *content_length)
{
	const char *end = line + len, *p = line, *value, *value_end;

	if (is_whitespace(line[0]))
		return HTTP_PARSE_REASON_OBS_FOLD;
	while (p < end && char_is(*p, CLASS_TOKEN))
		p++;
	if (p == end || *p != ':' || p == line) {
		if (p < end && p != line && is_whitespace(*p))
			return HTTP_PARSE_REASON_SPACE_BEFORE_COLON;
		return char_reason(p < end ? *p : ' ', HTTP_PARSE_REASON_FIELD_NAME);
	}
	header->name = (struct http_slice){line, (size_t)(p - line)};
	for (p++; p < end && is_whitespace(*p); p++)
		;
	value = p;
	for (; p < end; p++)
		if (!char_is(*p, CLASS_VALUE))
			return char_reason(*p, HTTP_PARSE_REASON_FIELD_VALUE);
	value_end = end;
	while (value_end > value && is_whitespace(value_end[-1]))
		value_end--;
	header->value = (struct http_slice){value, (size_t)(value_end - value)};

	*field = field_lookup(header->name.data, header->name.len);
	if (!*field)
		return HTTP_PARSE_REASON_NONE;
	switch ((*field)->field) {
	case FIELD_HOST:
		return host_valid(header->value.data, header->value.len) ? HTTP_PARSE_REASON_NONE
									  : HTTP_PARSE_REASON_HOST_INVALID;
	case FIELD_CONTENT_LENGTH:
		return content_length_parse(header->value.data, header->value.len, content_length);
	case FIELD_TRANSFER_ENCODING:
		return HTTP_PARSE_REASON_TRANSFER_ENCODING;
	default:
		return HTTP_PARSE_REASON_NONE;
	}
}

/* ------------------------------------------------------------------------------------------ */
/* Extraction: the head is complete and every line is valid on its own. */

static int request_extract(struct http_parser *state, const char *buf, size_t head_end,
			   struct http_request *req)
{
	const char *line = buf + state->request_line_start, *end = buf + head_end;
	const char *lf = memchr(line, '\n', (size_t)(end - line));
	enum http_parse_reason reason;
	bool close = false, keep_alive = false, have_host = false;

	memset(req, 0, offsetof(struct http_request, headers));
	reason = request_line_parse(line, (size_t)(lf - 1 - line), req);
	if (reason != HTTP_PARSE_REASON_NONE)
		return parse_fail(state, reason);

	for (line = lf + 1; line[0] != '\r'; line = lf + 1) {
		struct http_header *header = &req->headers[req->header_count];
		const struct field_entry *field = NULL;
		uint64_t content_length = 0;
		struct http_slice *slot;

		lf = memchr(line, '\n', (size_t)(end - line));
		reason = header_line_parse(line, (size_t)(lf - 1 - line), header, &field,
					   &content_length);
		if (reason != HTTP_PARSE_REASON_NONE)
			return parse_fail(state, reason);
		req->header_count++;
		if (!field)
			continue;
		switch (field->field) {
		case FIELD_CONTENT_LENGTH:
			if (req->has_content_length && req->content_length != content_length)
				return parse_fail(state, HTTP_PARSE_REASON_CONTENT_LENGTH_CONFLICT);
			req->has_content_length = true;
			req->content_length = content_length;
			continue;
		case FIELD_CONNECTION:
			connection_tokens(header->value.data, header->value.len, &close, &keep_alive);
			break;
		case FIELD_HOST:
			have_host = true;
			break;
		case FIELD_IF_NONE_MATCH:
			req->if_none_match_lines++;
			break;
		case FIELD_ACCESS_CONTROL_REQUEST_HEADERS:
			req->access_control_request_headers_lines++;
			break;
		default:
			break;
		}
		slot = (struct http_slice *)(void *)((char *)req + field->slot);
		if (slot->data) {
			if (field->single)
				return parse_fail(state, HTTP_PARSE_REASON_DUPLICATE_FIELD);
			continue;
		}
		*slot = header->value;
	}

	if (req->version_minor == 1 && !have_host)
		return parse_fail(state, HTTP_PARSE_REASON_HOST_MISSING);
	if (req->target_form == HTTP_TARGET_ABSOLUTE)
		req->host = req->authority;
	req->keep_alive = !close && (req->version_minor == 1 || keep_alive);
	req->head_bytes = (uint32_t)head_end;
	state->phase = PHASE_COMPLETE;
	state->scanned = (uint32_t)head_end;
	return (int)head_end;
}

/* ------------------------------------------------------------------------------------------ */
/* The scanner. */

int http_parse_request(struct http_parser *state, const char *buf, size_t len,
		       const struct http_limits *limits, struct http_request *req)
{
	size_t head_limit = SLUICE_MIN(limits->head_bytes, (uint32_t)INT32_MAX);
	size_t line_limit = SLUICE_MIN(limits->request_line_bytes, head_limit);
	uint32_t count_limit = SLUICE_MIN(limits->header_count, HTTP_HEADERS_MAX);
	size_t search_end = SLUICE_MIN(len, head_limit);
	size_t pos = state->scanned;
	size_t search_from;

	if (unlikely(state->phase == PHASE_FAILED))
		return reason_result(state->reason);
	if (unlikely(len < state->searched || len < pos))
		return parse_fail(state, HTTP_PARSE_REASON_CALLER);
	if (unlikely(state->phase == PHASE_COMPLETE))
		return request_extract(state, buf, pos, req);

	search_from = SLUICE_MAX(pos, (size_t)state->searched);
	while (search_from < search_end) {
		const char *lf = memchr(buf + search_from, '\n', search_end - search_from);
		size_t lf_offset, content_len;
		bool has_cr;
		enum http_parse_reason reason;

		if (!lf)
			break;
		lf_offset = (size_t)(lf - buf);
		has_cr = lf_offset > pos && buf[lf_offset - 1] == '\r';
		content_len = lf_offset - pos - has_cr;

		if (state->phase == PHASE_REQUEST_LINE) {
			if (content_len > line_limit)
				return parse_fail(state, HTTP_PARSE_REASON_REQUEST_LINE_TOO_LONG);
			if (!has_cr)
				return parse_fail(state, HTTP_PARSE_REASON_BARE_LF);
			if (content_len == 0) { /* empty line before the request line */
				pos = search_from = lf_offset + 1;
				continue;
			}
			reason = request_line_parse(buf + pos, content_len, req);
			if (reason != HTTP_PARSE_REASON_NONE)
				return parse_fail(state, reason);
			state->phase = PHASE_HEADERS;
			state->request_line_start = (uint32_t)pos;
		} else {
			struct http_header header;
			const struct field_entry *field;
			uint64_t content_length;

			/* The same "is it a field line" rule as for an incomplete line below, so
			 * that feeding the bytes whole or one by one fails the same way. */
			if (buf[pos] != '\r' && buf[pos] != '\n' && state->header_lines >= count_limit)
				return parse_fail(state, HTTP_PARSE_REASON_TOO_MANY_HEADERS);
			if (!has_cr)
				return parse_fail(state, HTTP_PARSE_REASON_BARE_LF);
			if (content_len == 0)
				return request_extract(state, buf, lf_offset + 1, req);
			reason = header_line_parse(buf + pos, content_len, &header, &field,
						   &content_length);
			if (reason != HTTP_PARSE_REASON_NONE)
				return parse_fail(state, reason);
			state->header_lines++;
		}
		pos = search_from = lf_offset + 1;
		state->scanned = (uint32_t)pos;
	}

	/* No LF in [pos, search_end): the line at pos is incomplete (or runs past the limit). */
	state->scanned = (uint32_t)pos;
	state->searched = (uint32_t)SLUICE_MAX(pos, search_end);
	if (state->phase == PHASE_REQUEST_LINE) {
		size_t have = len - pos;

		if (have && buf[len - 1] == '\r')
			have--; /* the CR may be the one before LF */
		if (have > line_limit || len >= head_limit)
			return parse_fail(state, HTTP_PARSE_REASON_REQUEST_LINE_TOO_LONG);
	} else {
		if (pos < search_end && buf[pos] != '\r' && state->header_lines >= count_limit)
			return parse_fail(state, HTTP_PARSE_REASON_TOO_MANY_HEADERS);
		if (len >= head_limit)
			return parse_fail(state, HTTP_PARSE_REASON_HEAD_TOO_LARGE);
	}
	return HTTP_PARSE_PARTIAL;
}

/* ------------------------------------------------------------------------------------------ */
/* Lookups. */

const struct http_header *http_request_header_next(const struct http_request *req,
						   const char *name, size_t name_len,
						   uint32_t *cursor)
{
	for (uint32_t i = *cursor; i < req->header_count; i++) {
		const struct http_header *h = &req->headers[i];

		if (h->name.len == name_len && http_ascii_case_equal(h->name.data, name, name_len)) {
			*cursor = i + 1;
			return h;
		}
	}
	*cursor = req->header_count;
	return NULL;
}

const struct http_header *http_request_header(const struct http_request *req, const char *name,
					      size_t name_len)
{
	uint32_t cursor = 0;

	return http_request_header_next(req, name, name_len, &cursor);
}

/* ------------------------------------------------------------------------------------------ */
/* Path normalization. */

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = ascii_lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int http_path_normalize(const char *in, size_t len, char *out, size_t out_size)
{
	size_t i = 0, o = 0;

	if (len == 0 || in[0] != '/')
		return -EINVAL;
	while (i < len) {
		size_t segment_start;   /* offset in out of the '/' that starts this segment */
		size_t segment_len;

		while (i < len && in[i] == '/')
			i++;
		if (o >= out_size)
			return -ENOSPC;
		segment_start = o;
		out[o++] = '/';
		while (i < len && in[i] != '/') {
			unsigned char c = (unsigned char)in[i];

			if (c == '%') {
				int high = i + 2 < len ? hex_value(in[i + 1]) : -1;
				int low = i + 2 < len ? hex_value(in[i + 2]) : -1;

				if (high < 0 || low < 0)
					return -EINVAL;
				c = (unsigned char)(high << 4 | low);
				if (c == '/')
					return -EINVAL;
				i += 3;
			} else {
				i++;
			}
			if (c < 0x20 || c == 0x7f)
				return -EINVAL;
			if (o >= out_size)
				return -ENOSPC;
			out[o++] = (char)c;
		}
		segment_len = o - segment_start - 1;
		if (segment_len == 1 && out[segment_start + 1] == '.') {
			o = segment_start;
		} else if (segment_len == 2 && out[segment_start + 1] == '.' &&
			   out[segment_start + 2] == '.') {
			if (segment_start == 0)
				return -EINVAL;
			o = segment_start;
			while (o > 0 && out[o - 1] != '/')
				o--;
			o--; /* back onto the '/' that started the removed segment */
		} else {
			continue;
		}
		/* A dot segment at the end leaves a directory: keep its trailing '/'. */
		if (i == len) {
			if (o >= out_size)
				return -ENOSPC;
			out[o++] = '/';
		}
	}
	return (int)o;
}
