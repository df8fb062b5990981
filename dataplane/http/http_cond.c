/* SPDX-License-Identifier: BSD-3-Clause
 *
 * http_cond.c: entity tags and If-None-Match / If-Modified-Since (hot path; see http_cond.h).
 */
#include "http_cond.h"

#include <errno.h>
#include <string.h>

#include "http_date.h"

struct entity_tag {
	bool weak;
	const char *opaque; /* with its quotes */
	size_t opaque_len;
};

/* etagc = %x21 / %x23-7E / obs-text */
static bool etag_char(unsigned char c)
{
	return c == 0x21 || (c >= 0x23 && c != 0x7f);
}

/* Parses one entity-tag at text[*i]; advances *i past it. */
static bool etag_parse_at(const char *text, size_t len, size_t *i, struct entity_tag *tag)
{
	size_t p = *i, start;

	tag->weak = false;
	if (len - p >= 2 && text[p] == 'W' && text[p + 1] == '/') {
		tag->weak = true;
		p += 2;
	}
	if (p >= len || text[p] != '"')
		return false;
	start = p++;
	while (p < len && text[p] != '"') {
		if (!etag_char((unsigned char)text[p]))
			return false;
		p++;
	}
	if (p >= len)
		return false;
	p++;
	tag->opaque = text + start;
	tag->opaque_len = p - start;
	*i = p;
	return true;
}

static bool etag_parse(const char *text, size_t len, struct entity_tag *tag)
{
	size_t i = 0;

	return etag_parse_at(text, len, &i, tag) && i == len;
}

static bool opaque_equal(const struct entity_tag *a, const struct entity_tag *b)
{
	return a->opaque_len == b->opaque_len && memcmp(a->opaque, b->opaque, a->opaque_len) == 0;
}

bool http_etag_equal_strong(const char *a, size_t a_len, const char *b, size_t b_len)
{
	struct entity_tag x, y;

	return etag_parse(a, a_len, &x) && etag_parse(b, b_len, &y) && !x.weak && !y.weak &&
	       opaque_equal(&x, &y);
}

bool http_etag_equal_weak(const char *a, size_t a_len, const char *b, size_t b_len)
{
	struct entity_tag x, y;

	return etag_parse(a, a_len, &x) && etag_parse(b, b_len, &y) && opaque_equal(&x, &y);
}

static inline bool is_whitespace(char c)
{
	return c == ' ' || c == '\t';
}

int http_etag_list_match(const char *list, size_t len, const char *etag, size_t etag_len,
			 bool strong)
{
	struct entity_tag own;
	bool own_valid = etag_len && etag_parse(etag, etag_len, &own);
	bool match = false, any = false;
	size_t i = 0;

	/* "*" alone (with optional whitespace, already trimmed by the parser). */
	if (len == 1 && list[0] == '*')
		return 1;
	for (;;) {
		struct entity_tag tag;

		/* Empty list elements are allowed (RFC 9110 §5.6.1). */
		while (i < len && (is_whitespace(list[i]) || list[i] == ','))
			i++;
		if (i == len)
			break;
		if (!etag_parse_at(list, len, &i, &tag))
			return -EINVAL;
		any = true;
		if (own_valid && opaque_equal(&tag, &own) && (!strong || (!tag.weak && !own.weak)))
			match = true;
		while (i < len && is_whitespace(list[i]))
			i++;
		if (i < len && list[i] != ',')
			return -EINVAL;
	}
	if (!any)
		return -EINVAL;
	return match;
}

static bool method_is_get_or_head(const struct http_request *req)
{
	return req->method == HTTP_METHOD_GET || req->method == HTTP_METHOD_HEAD;
}

enum http_cond_result http_cond_evaluate(const struct http_request *req, const char *etag,
					 size_t etag_len, time_t last_modified, time_t now)
{
	time_t since;

	if (req->if_none_match_lines) {
		bool match = false;

		if (req->if_none_match_lines == 1) {
			match = http_etag_list_match(req->if_none_match.data, req->if_none_match.len,
						     etag, etag_len, false) == 1;
		} else {
			uint32_t cursor = 0;
			const struct http_header *h;

			while (!match && (h = http_request_header_next(req, "if-none-match", 13, &cursor)))
				match = http_etag_list_match(h->value.data, h->value.len, etag,
							     etag_len, false) == 1;
		}
		if (!match)
			return HTTP_COND_PROCEED;
		return method_is_get_or_head(req) ? HTTP_COND_NOT_MODIFIED
						  : HTTP_COND_PRECONDITION_FAILED;
	}
	if (req->if_modified_since.data && method_is_get_or_head(req) &&
	    http_date_parse(req->if_modified_since.data, req->if_modified_since.len, now, &since) == 0 &&
	    last_modified <= since)
		return HTTP_COND_NOT_MODIFIED;
	return HTTP_COND_PROCEED;
}

static size_t hex_length(uint64_t v)
{
	size_t n = 1;

	while (v >>= 4)
		n++;
	return n;
}

static char *put_hex(char *p, uint64_t v)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = hex_length(v);

	for (size_t i = n; i > 0; i--, v >>= 4)
		p[i - 1] = hex[v & 15];
	return p + n;
}

int http_etag_format(char *out, size_t size, time_t last_modified, uint64_t length)
{
	uint64_t mtime = (uint64_t)last_modified;
	size_t need = 1 + hex_length(mtime) + 1 + hex_length(length) + 1;
	char *p = out;

	if (need > size)
		return -ENOSPC;
	*p++ = '"';
	p = put_hex(p, mtime);
	*p++ = '-';
	p = put_hex(p, length);
	*p++ = '"';
	return (int)(p - out);
}
