/* SPDX-License-Identifier: BSD-3-Clause
 *
 * http_response.c: response head formatting and CORS fields (hot path; see http_response.h).
 */
#include "http_response.h"

#include <errno.h>
#include <string.h>

#include "compiler.h"
#include "http_date.h"

static const struct status_entry {
	uint16_t status;
	const char *reason;
} status_table[] = {
	{200, "OK"},
	{204, "No Content"},
	{206, "Partial Content"},
	{304, "Not Modified"},
	{400, "Bad Request"},
	{403, "Forbidden"},
	{404, "Not Found"},
	{405, "Method Not Allowed"},
	{408, "Request Timeout"},
	{410, "Gone"},
	{412, "Precondition Failed"},
	{413, "Content Too Large"},
	{414, "URI Too Long"},
	{416, "Range Not Satisfiable"},
	{431, "Request Header Fields Too Large"},
	{500, "Internal Server Error"},
	{501, "Not Implemented"},
	{503, "Service Unavailable"},
	{505, "HTTP Version Not Supported"},
};

const char *http_status_reason(unsigned status)
{
	for (size_t i = 0; i < ARRAY_SIZE(status_table); i++)
		if (status_table[i].status == status)
			return status_table[i].reason;
	return NULL;
}

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

static void put_string(struct writer *w, const char *s)
{
	put_bytes(w, s, strlen(s));
}

static void put_slice(struct writer *w, struct http_slice s)
{
	put_bytes(w, s.data, s.len);
}

static void put_decimal(struct writer *w, uint64_t v)
{
	char digits[20];
	size_t n = 0;

	do {
		digits[sizeof(digits) - 1 - n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put_bytes(w, digits + sizeof(digits) - n, n);
}

/* "Name: value\r\n" for a slice, skipped when the slice is empty. */
static void put_field(struct writer *w, const char *name, size_t name_len, struct http_slice value)
{
	if (!value.len)
		return;
	put_bytes(w, name, name_len);
	put_slice(w, value);
	put_literal(w, "\r\n");
}

#define put_field_literal(w, name, value) put_field(w, name, sizeof(name) - 1, value)

static struct http_slice slice_of(const char *s, size_t len)
{
	return (struct http_slice){s, len};
}

int http_response_format(const struct http_response *resp, char *out, size_t size)
{
	const char *reason = http_status_reason(resp->status);
	struct writer w = {out, out + size, false};
	bool bodiless = resp->status < 200 || resp->status == 204 || resp->status == 304;
	bool error_body = resp->error_body && !bodiless;
	char body[64];
	size_t body_len = 0;

	if (!reason)
		return -EINVAL;
	if (error_body) {
		struct writer b = {body, body + sizeof(body), false};

		put_decimal(&b, resp->status);
		put_literal(&b, " ");
		put_string(&b, reason);
		put_literal(&b, "\n");
		body_len = (size_t)(b.p - body);
	}

	put_literal(&w, "HTTP/1.1 ");
	put_decimal(&w, resp->status);
	put_literal(&w, " ");
	put_string(&w, reason);
	put_literal(&w, "\r\n");
	put_field_literal(&w, "Server: ", resp->server);
	if (resp->date)
		put_field_literal(&w, "Date: ", slice_of(resp->date, HTTP_DATE_LEN));
	if (error_body) {
		put_literal(&w, "Content-Type: text/plain\r\n");
		put_literal(&w, "Content-Length: ");
		put_decimal(&w, body_len);
		put_literal(&w, "\r\n");
	} else {
		put_field_literal(&w, "Content-Type: ", resp->content_type);
		if (resp->has_content_length && !bodiless) {
			put_literal(&w, "Content-Length: ");
			put_decimal(&w, resp->content_length);
			put_literal(&w, "\r\n");
		}
	}
	if (resp->content_range == HTTP_CONTENT_RANGE_PART) {
		put_literal(&w, "Content-Range: bytes ");
		put_decimal(&w, resp->range.first);
		put_literal(&w, "-");
		put_decimal(&w, resp->range.last);
		put_literal(&w, "/");
		put_decimal(&w, resp->complete_length);
		put_literal(&w, "\r\n");
	} else if (resp->content_range == HTTP_CONTENT_RANGE_UNSATISFIED) {
		put_literal(&w, "Content-Range: bytes */");
		put_decimal(&w, resp->complete_length);
		put_literal(&w, "\r\n");
	}
	if (resp->accept_ranges)
		put_literal(&w, "Accept-Ranges: bytes\r\n");
	put_field_literal(&w, "ETag: ", resp->etag);
	put_field_literal(&w, "Last-Modified: ", resp->last_modified);
	put_field_literal(&w, "Cache-Control: ", resp->cache_control);
	if (resp->allow)
		put_literal(&w, "Allow: " HTTP_ALLOW_METHODS "\r\n");
	if (resp->cors.allow_origin.len) {
		put_field_literal(&w, "Access-Control-Allow-Origin: ", resp->cors.allow_origin);
		if (resp->cors.preflight) {
			put_literal(&w, "Access-Control-Allow-Methods: " HTTP_CORS_ALLOW_METHODS "\r\n");
			put_field_literal(&w, "Access-Control-Allow-Headers: ", resp->cors.allow_headers);
			put_literal(&w, "Access-Control-Max-Age: ");
			put_decimal(&w, resp->cors.max_age_seconds);
			put_literal(&w, "\r\n");
		} else {
			put_literal(&w, "Access-Control-Expose-Headers: " HTTP_CORS_EXPOSE_HEADERS "\r\n");
		}
	}
	if (resp->cors.vary_origin)
		put_literal(&w, "Vary: Origin\r\n");
	if (resp->keep_alive)
		put_literal(&w, "Connection: keep-alive\r\n");
	else
		put_literal(&w, "Connection: close\r\n");
	put_literal(&w, "\r\n");
	if (error_body && !resp->head_request)
		put_bytes(&w, body, body_len);
	return w.overflow ? -ENOSPC : (int)(w.p - out);
}

static bool origin_allowed(const struct http_cors_policy *policy, struct http_slice origin)
{
	for (uint32_t i = 0; i < policy->origin_count && i < HTTP_CORS_ORIGINS_MAX; i++)
		if (policy->origins[i].len == origin.len &&
		    http_ascii_case_equal(policy->origins[i].data, origin.data, origin.len))
			return true;
	return false;
}

bool http_response_cors(struct http_response *resp, const struct http_cors_policy *policy,
			const struct http_request *req)
{
	bool preflight = req->method == HTTP_METHOD_OPTIONS && req->origin.len &&
			 req->access_control_request_method.len;

	resp->cors = (struct http_response_cors){0};
	if (!policy->enabled)
		return false;
	if (policy->any_origin) {
		resp->cors.allow_origin = slice_of("*", 1);
	} else {
		resp->cors.vary_origin = true;
		if (req->origin.len && origin_allowed(policy, req->origin))
			resp->cors.allow_origin = req->origin;
	}
	if (preflight && resp->cors.allow_origin.len) {
		resp->cors.preflight = true;
		resp->cors.allow_headers = policy->allow_headers;
		resp->cors.max_age_seconds = policy->max_age_seconds;
	}
	return preflight;
}
