/* SPDX-License-Identifier: BSD-3-Clause
 *
 * rest.h: the REST server of sluice-control: routing, bearer-token authentication, request
 * validation against the OpenAPI document, JSON errors, and the libmicrohttpd glue.
 *
 * A request goes through one pipeline, rest_process(), which is a plain function of the
 * request's parts (method, path, query pairs, Authorization, Content-Type, body) so that the
 * unit tests drive every rule without a socket:
 *
 *   route (404 no path, 405 other method) -> authenticate (401 missing or malformed
 *   Authorization, 403 unknown token; public routes skip this when the daemon allows it) ->
 *   parameters (path and query, each parsed and validated with its schema from the document;
 *   unknown or repeated query parameters 400) -> body (413 over the route's limit, 415 not
 *   application/json, 400 malformed JSON or schema violation; a route without a request body
 *   in the document refuses one) -> the handler, with the validated body and parameters.
 *
 * So a handler only ever sees values the document allows; it still checks meaning that a
 * schema cannot express (an address that parses, a key that exists) and answers 4xx for
 * those, before it changes anything.
 *
 * Errors are {"error": {"code": "...", "message": "..."}} (rest_error); codes are listed in
 * the document's Error schema. The MHD glue runs one thread per connection (handlers may block
 * on the data plane, a catalog reload takes seconds) with a connection limit, reads at most a
 * route's body limit (declared Content-Length over it is refused before reading), and serves
 * IPv4, IPv6 (dual stack on [::]) and TLS.
 */
#ifndef SLUICE_CONTROL_REST_H
#define SLUICE_CONTROL_REST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define REST_WHO_MAX 64
#define REST_QUERY_MAX 16 /* query parameters per request */

enum rest_access {
	REST_ACCESS_TOKEN = 0,    /* a valid bearer token, always */
	REST_ACCESS_METRICS,      /* public when the daemon says so (control.public_metrics) */
	REST_ACCESS_HEALTH,       /* public when the daemon says so (control.public_health) */
};

struct rest_request {
	const char *method;
	const char *path;
	const struct rest_route *route;
	json_t *body;             /* validated body (an object), or NULL when the route has none */
	json_t *params;           /* object: validated path and query parameters by name */
	char who[REST_WHO_MAX];   /* token's name from the token file, "" for public access */
};

struct rest_response {
	unsigned status;
	json_t *json;             /* body, owned */
	char *text;               /* or a text body (malloc'd, owned) */
	size_t text_len;
	const char *content_type; /* for text */
	const char *www_authenticate; /* 401: the header's value */
	char allow[64];           /* 405: the Allow header */
};

typedef void (*rest_handler)(void *ctx, const struct rest_request *req, struct rest_response *resp);

struct rest_route {
	const char *method;       /* "GET", "POST", "PUT", "DELETE" */
	const char *path;         /* the document's template: "/v1/fills/{id}" */
	rest_handler handler;
	enum rest_access access;
	size_t max_body;          /* largest body read, bytes (ignored without a request body) */
};

/* 0: allowed, who filled; -EACCES: no or malformed credentials (401); -EPERM: unknown (403). */
typedef int (*rest_authenticate_fn)(void *ctx, const char *authorization, char *who, size_t who_len);
typedef bool (*rest_public_fn)(void *ctx, enum rest_access access);

struct rest_config {
	const json_t *doc;        /* the OpenAPI document */
	const struct rest_route *routes;
	size_t route_count;
	rest_authenticate_fn authenticate;
	rest_public_fn is_public;
	void *ctx;                /* given to handlers and the callbacks */
};

/* One request, as parsed by the HTTP layer. */
struct rest_input {
	const char *method;
	const char *path;                       /* percent-decoded, without the query */
	const char *query[2 * REST_QUERY_MAX];  /* name, value pairs (value NULL for "?flag") */
	size_t query_count;                     /* pairs */
	bool query_overflow;                    /* more than REST_QUERY_MAX */
	const char *authorization;              /* header, or NULL */
	const char *content_type;               /* header, or NULL */
	const char *body;
	size_t body_len;
	bool body_too_large;                    /* the HTTP layer stopped reading */
};

/* Checks that routes and document agree (every route has an operation with the same method
 * and path, and every operation a route) and that every schema they use is supported.
 * 0 or -EINVAL with the first difference in err. */
int rest_config_check(const struct rest_config *cfg, char *err, size_t err_len);

/* The pipeline above; resp is always filled (free with rest_response_release). */
void rest_process(const struct rest_config *cfg, const struct rest_input *in, struct rest_response *resp);
void rest_response_release(struct rest_response *resp);

/* Responses for handlers. rest_error returns -1 so handlers can `return rest_error(...)`. */
int rest_error(struct rest_response *resp, unsigned status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void rest_json(struct rest_response *resp, unsigned status, json_t *body); /* steals body */

/* The route for method + path, or NULL (then *path_known says whether another method has it). */
const struct rest_route *rest_route_find(const struct rest_config *cfg, const char *method, const char *path,
					 bool *path_known);

/* --- The HTTP server (libmicrohttpd) ---------------------------------------------------------- */

struct rest_server;

struct rest_server_options {
	const char *listen;       /* control.listen */
	const char *tls_cert_file; /* PEM; NULL or "" = plain HTTP */
	const char *tls_key_file;
	unsigned connection_limit;
	unsigned timeout_s;       /* idle connection timeout */
};

/* Starts listening; the config (and what it points to) must outlive the server. */
int rest_server_start(const struct rest_config *cfg, const struct rest_server_options *opts, struct rest_server **out,
		      char *err, size_t err_len);
/* Stops accepting, waits for running handlers, frees. NULL is a no-op. */
void rest_server_stop(struct rest_server *server);

#endif /* SLUICE_CONTROL_REST_H */
