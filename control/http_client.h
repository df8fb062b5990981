/* SPDX-License-Identifier: BSD-3-Clause
 *
 * http_client.h: one blocking HTTP request with libcurl, for the control plane's outbound
 * calls (health reports, etcd's JSON gateway) and for sluicectl.
 *
 * Every request has a total timeout; redirects are not followed (a backend or etcd that
 * redirects is misconfigured, and following would resend a bearer token elsewhere); only
 * http and https; the response body is kept up to a limit (larger is an error, not a silent
 * truncation). TLS verification is always on: a private CA is given with ca_file.
 */
#ifndef SLUICE_CONTROL_HTTP_CLIENT_H
#define SLUICE_CONTROL_HTTP_CLIENT_H

#include <stddef.h>

#define HTTP_CLIENT_ERROR_MAX 256

struct http_client_request {
	const char *method;        /* "GET", "POST", "PUT", "DELETE" */
	const char *url;
	const char *body;          /* NULL: none */
	size_t body_len;
	const char *content_type;  /* with a body; default application/json */
	const char *bearer_token;  /* NULL: no Authorization */
	const char *ca_file;       /* NULL or "": the system's CAs */
	long timeout_ms;
	size_t max_response;       /* bytes kept; 0 = 1 MiB */
};

struct http_client_response {
	long status;               /* 0 when no response arrived */
	char *body;                /* NUL-terminated, malloc'd (free it); NULL when empty */
	size_t body_len;
	char content_type[128];
	char error[HTTP_CLIENT_ERROR_MAX]; /* transport error, "" when a response arrived */
};

/* 0 when a response arrived (any status), -errno otherwise (error says why: -ETIMEDOUT,
 * -ECONNREFUSED, -EPROTO for TLS or protocol failures, -EFBIG for an oversized response). */
int http_client_request(const struct http_client_request *req, struct http_client_response *resp);
void http_client_response_free(struct http_client_response *resp);

#endif /* SLUICE_CONTROL_HTTP_CLIENT_H */
