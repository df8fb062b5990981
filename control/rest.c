/* SPDX-License-Identifier: BSD-3-Clause
 *
 * rest.c: the REST pipeline and its libmicrohttpd glue (see rest.h for the order of checks).
 *
 * Control path. The pipeline allocates a few small JSON values per request; bodies are
 * bounded by the route's limit before they are read into memory. The glue keeps one small
 * state per connection (the body read so far) and frees it when MHD reports completion.
 */
#include "rest.h"

#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "schema.h"

#define REST_SEGMENTS_MAX 16
#define REST_MESSAGE_MAX 512

int rest_error(struct rest_response *resp, unsigned status, const char *code, const char *fmt, ...)
{
	char message[REST_MESSAGE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	json_decref(resp->json);
	resp->status = status;
	resp->json = json_pack("{s:{s:s, s:s}}", "error", "code", code, "message", message);
	if (!resp->json) /* message not UTF-8 (a path from a request): keep the code at least */
		resp->json = json_pack("{s:{s:s, s:s}}", "error", "code", code, "message", "(message not printable)");
	return -1;
}

void rest_json(struct rest_response *resp, unsigned status, json_t *body)
{
	json_decref(resp->json);
	resp->status = status;
	resp->json = body;
	if (!body)
		rest_error(resp, 500, "internal", "out of memory");
}

void rest_response_release(struct rest_response *resp)
{
	json_decref(resp->json);
	free(resp->text);
	memset(resp, 0, sizeof(*resp));
}

/* --- Routing ---------------------------------------------------------------------------------- */

static size_t rest_split(const char *path, const char **segments, size_t *lengths, size_t max)
{
	size_t n = 0;

	if (path[0] != '/')
		return SIZE_MAX;
	while (*path == '/') {
		const char *start = ++path;

		while (*path && *path != '/')
			path++;
		if (n == max)
			return SIZE_MAX;
		segments[n] = start;
		lengths[n++] = (size_t)(path - start);
	}
	return n;
}

static bool rest_template_match(const char *template, const char *path)
{
	const char *ts[REST_SEGMENTS_MAX], *ps[REST_SEGMENTS_MAX];
	size_t tl[REST_SEGMENTS_MAX], pl[REST_SEGMENTS_MAX];
	size_t tn = rest_split(template, ts, tl, REST_SEGMENTS_MAX), pn = rest_split(path, ps, pl, REST_SEGMENTS_MAX);

	if (tn == SIZE_MAX || pn != tn)
		return false;
	for (size_t i = 0; i < tn; i++) {
		if (tl[i] >= 2 && ts[i][0] == '{' && ts[i][tl[i] - 1] == '}') {
			if (!pl[i])
				return false;
			continue;
		}
		if (tl[i] != pl[i] || memcmp(ts[i], ps[i], tl[i]))
			return false;
	}
	return true;
}

const struct rest_route *rest_route_find(const struct rest_config *cfg, const char *method, const char *path,
					 bool *path_known)
{
	*path_known = false;
	for (size_t i = 0; i < cfg->route_count; i++) {
		if (!rest_template_match(cfg->routes[i].path, path))
			continue;
		*path_known = true;
		if (!strcmp(cfg->routes[i].method, method))
			return &cfg->routes[i];
	}
	return NULL;
}

static void rest_method_lower(const char *method, char *out, size_t size)
{
	size_t i;

	for (i = 0; method[i] && i + 1 < size; i++)
		out[i] = (char)(method[i] >= 'A' && method[i] <= 'Z' ? method[i] + 32 : method[i]);
	out[i] = 0;
}

static const json_t *rest_operation(const json_t *doc, const struct rest_route *route, const json_t **path_item)
{
	char method[16];

	*path_item = json_object_get(json_object_get(doc, "paths"), route->path);
	rest_method_lower(route->method, method, sizeof(method));
	return json_object_get(*path_item, method);
}

/* The parameter object named name, in the operation or its path item; NULL if none. */
static const json_t *rest_parameter(const json_t *path_item, const json_t *op, const char *where,
				    const char *name)
{
	const json_t *lists[2] = {json_object_get(op, "parameters"), json_object_get(path_item, "parameters")};

	for (int l = 0; l < 2; l++) {
		const json_t *p;
		size_t i;

		json_array_foreach(lists[l], i, p) {
			if (!strcmp(json_string_value(json_object_get(p, "in")) ?: "", where) &&
			    !strcmp(json_string_value(json_object_get(p, "name")) ?: "", name))
				return p;
		}
	}
	return NULL;
}

/* --- The pipeline ------------------------------------------------------------------------------ */

static const json_t *rest_body_schema(const json_t *op)
{
	const json_t *content = json_object_get(json_object_get(op, "requestBody"), "content");

	return json_object_get(json_object_get(content, "application/json"), "schema");
}

static bool rest_content_type_is_json(const char *content_type)
{
	size_t n = strlen("application/json");

	if (!content_type)
		return false;
	while (*content_type == ' ')
		content_type++;
	return !strncasecmp(content_type, "application/json", n) &&
	       (content_type[n] == 0 || content_type[n] == ';' || content_type[n] == ' ');
}

static int rest_collect_path_params(const struct rest_config *cfg, const struct rest_input *in,
				    const struct rest_route *route, const json_t *path_item, const json_t *op,
				    json_t *params, struct rest_response *resp)
{
	const char *ts[REST_SEGMENTS_MAX], *ps[REST_SEGMENTS_MAX];
	size_t tl[REST_SEGMENTS_MAX], pl[REST_SEGMENTS_MAX];
	size_t n;

	n = rest_split(route->path, ts, tl, REST_SEGMENTS_MAX);
	rest_split(in->path, ps, pl, REST_SEGMENTS_MAX);
	for (size_t i = 0; i < n; i++) {
		char name[64], text[256], err[SCHEMA_ERROR_MAX], where[80];
		const json_t *param;
		json_t *value;
		int rc;

		if (!(tl[i] >= 2 && ts[i][0] == '{'))
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)(tl[i] - 2), ts[i] + 1);
		if (pl[i] >= sizeof(text))
			return rest_error(resp, 400, "invalid_parameter", "path parameter %s: too long", name);
		snprintf(text, sizeof(text), "%.*s", (int)pl[i], ps[i]);
		param = rest_parameter(path_item, op, "path", name);
		if (!param)
			return rest_error(resp, 500, "internal", "path parameter %s is not in the document", name);
		snprintf(where, sizeof(where), "path.%s", name);
		rc = schema_parse_parameter(cfg->doc, json_object_get(param, "schema"), text, where, &value, err,
					    sizeof(err));
		if (rc)
			return rest_error(resp, rc == -EINVAL ? 400 : 500, rc == -EINVAL ? "invalid_parameter" : "internal",
					  "%s", err);
		json_object_set_new(params, name, value);
	}
	return 0;
}

static int rest_collect_query(const struct rest_config *cfg, const struct rest_input *in, const json_t *path_item,
			      const json_t *op, json_t *params, struct rest_response *resp)
{
	const json_t *lists[2] = {json_object_get(op, "parameters"), json_object_get(path_item, "parameters")};

	if (in->query_overflow)
		return rest_error(resp, 400, "invalid_parameter", "more than %d query parameters", REST_QUERY_MAX);
	for (size_t q = 0; q < in->query_count; q++) {
		const char *name = in->query[2 * q], *text = in->query[2 * q + 1] ? in->query[2 * q + 1] : "";
		char err[SCHEMA_ERROR_MAX], where[80];
		const json_t *param = rest_parameter(path_item, op, "query", name);
		json_t *value;
		int rc;

		if (!param)
			return rest_error(resp, 400, "invalid_parameter", "unknown query parameter '%.64s'", name);
		if (json_object_get(params, name))
			return rest_error(resp, 400, "invalid_parameter", "query parameter '%.64s' given twice", name);
		snprintf(where, sizeof(where), "query.%.64s", name);
		rc = schema_parse_parameter(cfg->doc, json_object_get(param, "schema"), text, where, &value, err,
					    sizeof(err));
		if (rc)
			return rest_error(resp, rc == -EINVAL ? 400 : 500, rc == -EINVAL ? "invalid_parameter" : "internal",
					  "%s", err);
		json_object_set_new(params, name, value);
	}
	for (int l = 0; l < 2; l++) {
		const json_t *p;
		size_t i;

		json_array_foreach(lists[l], i, p) {
			const char *name = json_string_value(json_object_get(p, "name"));

			if (json_is_true(json_object_get(p, "required")) &&
			    !strcmp(json_string_value(json_object_get(p, "in")) ?: "", "query") && name &&
			    !json_object_get(params, name))
				return rest_error(resp, 400, "invalid_parameter", "query parameter '%s' is required", name);
		}
	}
	return 0;
}

static int rest_parse_body(const struct rest_config *cfg, const struct rest_input *in,
			   const struct rest_route *route, const json_t *op, json_t **body,
			   struct rest_response *resp)
{
	const json_t *request_body = json_object_get(op, "requestBody");
	const json_t *schema = rest_body_schema(op);
	char err[SCHEMA_ERROR_MAX];
	json_error_t jerr;
	int rc;

	*body = NULL;
	if (!request_body) {
		if (in->body_len || in->body_too_large)
			return rest_error(resp, 400, "invalid_body", "this operation takes no request body");
		return 0;
	}
	if (!schema)
		return rest_error(resp, 500, "internal", "the document has no JSON schema for this body");
	if (in->body_too_large)
		return rest_error(resp, 413, "body_too_large", "request body over %zu bytes", route->max_body);
	if (!in->body_len) {
		if (json_is_true(json_object_get(request_body, "required")))
			return rest_error(resp, 400, "invalid_body", "a JSON request body is required");
		*body = json_object();
	} else {
		if (!rest_content_type_is_json(in->content_type))
			return rest_error(resp, 415, "unsupported_media_type", "request bodies are application/json");
		*body = json_loadb(in->body, in->body_len, JSON_REJECT_DUPLICATES, &jerr);
		if (!*body)
			return rest_error(resp, 400, "invalid_json", "line %d column %d: %s", jerr.line, jerr.column,
					  jerr.text);
	}
	rc = schema_validate(cfg->doc, schema, *body, "$", err, sizeof(err));
	if (rc) {
		json_decref(*body);
		*body = NULL;
		return rest_error(resp, rc == -EINVAL ? 400 : 500, rc == -EINVAL ? "invalid_body" : "internal", "%s",
				  err);
	}
	return 0;
}

void rest_process(const struct rest_config *cfg, const struct rest_input *in, struct rest_response *resp)
{
	struct rest_request req;
	const json_t *path_item, *op;
	bool known;
	int rc;

	memset(resp, 0, sizeof(*resp));
	memset(&req, 0, sizeof(req));
	req.method = in->method;
	req.path = in->path;
	req.route = rest_route_find(cfg, in->method, in->path, &known);
	if (!req.route) {
		if (!known) {
			rest_error(resp, 404, "not_found", "no such resource");
			return;
		}
		for (size_t i = 0, used = 0; i < cfg->route_count; i++)
			if (rest_template_match(cfg->routes[i].path, in->path) && used < sizeof(resp->allow))
				used += (size_t)snprintf(resp->allow + used, sizeof(resp->allow) - used, "%s%s",
							 used ? ", " : "", cfg->routes[i].method);
		rest_error(resp, 405, "method_not_allowed", "%.16s is not allowed here (allowed: %s)", in->method,
			   resp->allow);
		return;
	}
	if (req.route->access == REST_ACCESS_TOKEN || !cfg->is_public || !cfg->is_public(cfg->ctx, req.route->access)) {
		rc = cfg->authenticate ? cfg->authenticate(cfg->ctx, in->authorization, req.who, sizeof(req.who))
				       : -EPERM;
		if (rc == -EACCES) {
			resp->www_authenticate = in->authorization ? "Bearer realm=\"sluice-control\", error=\"invalid_request\""
								   : "Bearer realm=\"sluice-control\"";
			rest_error(resp, 401, "unauthorized",
				   in->authorization ? "malformed Authorization header (expected: Bearer TOKEN)"
						     : "a bearer token is required");
			return;
		}
		if (rc) {
			rest_error(resp, 403, "forbidden", "unknown token");
			return;
		}
	}
	op = rest_operation(cfg->doc, req.route, &path_item);
	if (!op) {
		rest_error(resp, 500, "internal", "route %s %s is not in the document", req.route->method, req.route->path);
		return;
	}
	req.params = json_object();
	if (!req.params) {
		rest_error(resp, 500, "internal", "out of memory");
		return;
	}
	if (rest_collect_path_params(cfg, in, req.route, path_item, op, req.params, resp) ||
	    rest_collect_query(cfg, in, path_item, op, req.params, resp) ||
	    rest_parse_body(cfg, in, req.route, op, &req.body, resp))
		goto done;
	req.route->handler(cfg->ctx, &req, resp);
	if (!resp->status)
		rest_error(resp, 500, "internal", "the handler gave no answer");
done:
	json_decref(req.params);
	json_decref(req.body);
}

int rest_config_check(const struct rest_config *cfg, char *err, size_t err_len)
{
	static const char *const methods[] = {"get", "put", "post", "delete", "patch", "head", "options"};
	const json_t *paths = json_object_get(cfg->doc, "paths"), *item;
	const char *path;

	for (size_t i = 0; i < cfg->route_count; i++) {
		const struct rest_route *r = &cfg->routes[i];
		const json_t *path_item, *op = rest_operation(cfg->doc, r, &path_item), *p;
		const json_t *schema;
		size_t k;

		if (!op) {
			snprintf(err, err_len, "route %s %s is not in the document", r->method, r->path);
			return -EINVAL;
		}
		schema = rest_body_schema(op);
		if (json_object_get(op, "requestBody") && (!schema || schema_check(cfg->doc, schema, err, err_len))) {
			if (!schema)
				snprintf(err, err_len, "%s %s: request body without an application/json schema", r->method,
					 r->path);
			return -EINVAL;
		}
		if (json_object_get(op, "requestBody") && !r->max_body) {
			snprintf(err, err_len, "%s %s: takes a body but the route reads none", r->method, r->path);
			return -EINVAL;
		}
		for (int l = 0; l < 2; l++)
			json_array_foreach(json_object_get(l ? path_item : op, "parameters"), k, p) {
				if (schema_check(cfg->doc, json_object_get(p, "schema"), err, err_len))
					return -EINVAL;
			}
	}
	json_object_foreach((json_t *)paths, path, item) {
		for (size_t m = 0; m < sizeof(methods) / sizeof(methods[0]); m++) {
			bool found = false;

			if (!json_object_get(item, methods[m]))
				continue;
			for (size_t i = 0; i < cfg->route_count; i++) {
				char lower[16];

				rest_method_lower(cfg->routes[i].method, lower, sizeof(lower));
				found |= !strcmp(cfg->routes[i].path, path) && !strcmp(lower, methods[m]);
			}
			if (!found) {
				snprintf(err, err_len, "the document's %s %s has no route", methods[m], path);
				return -EINVAL;
			}
		}
	}
	return 0;
}

/* --- libmicrohttpd glue ------------------------------------------------------------------------- */

struct rest_server {
	struct MHD_Daemon *daemon;
	const struct rest_config *cfg;
	char *cert;
	char *key;
};

struct rest_connection {
	const struct rest_route *route;
	char *body;
	size_t len;
	size_t limit;
	bool too_large;
};

static enum MHD_Result rest_query_pair(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct rest_input *in = cls;

	(void)kind;
	if (in->query_count == REST_QUERY_MAX) {
		in->query_overflow = true;
		return MHD_NO;
	}
	in->query[2 * in->query_count] = key;
	in->query[2 * in->query_count + 1] = value;
	in->query_count++;
	return MHD_YES;
}

static enum MHD_Result rest_send(struct MHD_Connection *connection, struct rest_response *resp)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	char *text;
	size_t len;

	if (resp->json) {
		text = json_dumps(resp->json, JSON_INDENT(2));
		if (!text)
			return MHD_NO;
		len = strlen(text);
		text = realloc(text, len + 2);
		if (!text)
			return MHD_NO;
		text[len++] = '\n';
		text[len] = 0;
	} else {
		text = resp->text;
		len = resp->text_len;
		resp->text = NULL;
	}
	r = MHD_create_response_from_buffer(len, text ? text : (char *)"", text ? MHD_RESPMEM_MUST_FREE
										: MHD_RESPMEM_PERSISTENT);
	if (!r) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				resp->json ? "application/json" : resp->content_type ? resp->content_type : "text/plain");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (resp->www_authenticate)
		MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, resp->www_authenticate);
	if (resp->allow[0])
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, resp->allow);
	ret = MHD_queue_response(connection, resp->status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result rest_access(void *cls, struct MHD_Connection *connection, const char *url, const char *method,
				   const char *version, const char *upload_data, size_t *upload_data_size,
				   void **con_cls)
{
	struct rest_server *server = cls;
	struct rest_connection *state = *con_cls;
	struct rest_response resp;
	struct rest_input in;
	enum MHD_Result ret;

	(void)version;
	if (!state) {
		const char *length = MHD_lookup_connection_value(connection, MHD_HEADER_KIND,
								 MHD_HTTP_HEADER_CONTENT_LENGTH);
		bool known;

		state = calloc(1, sizeof(*state));
		if (!state)
			return MHD_NO;
		*con_cls = state;
		state->route = rest_route_find(server->cfg, method, url, &known);
		state->limit = state->route ? state->route->max_body : 0;
		if (length && strtoull(length, NULL, 10) > state->limit && state->limit)
			state->too_large = true; /* answered below without reading the body */
		if (!state->too_large)
			return MHD_YES;
	}
	if (*upload_data_size && !state->too_large) {
		size_t n = *upload_data_size;

		if (state->len + n > state->limit) {
			state->too_large = true;
			free(state->body);
			state->body = NULL;
			state->len = 0;
		} else {
			char *grown = realloc(state->body, state->len + n + 1);

			if (!grown)
				return MHD_NO;
			state->body = grown;
			memcpy(state->body + state->len, upload_data, n);
			state->len += n;
			state->body[state->len] = 0;
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (*upload_data_size && state->too_large) {
		/* Answer at once; MHD closes the connection instead of reading the rest. */
		*upload_data_size = 0;
	}
	memset(&in, 0, sizeof(in));
	in.method = method;
	in.path = url;
	MHD_get_connection_values(connection, MHD_GET_ARGUMENT_KIND, rest_query_pair, &in);
	in.authorization = MHD_lookup_connection_value(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	in.content_type = MHD_lookup_connection_value(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	in.body = state->body;
	in.body_len = state->len;
	in.body_too_large = state->too_large;
	if (state->too_large && state->route) {
		memset(&resp, 0, sizeof(resp));
		rest_error(&resp, 413, "body_too_large", "request body over %zu bytes", state->limit);
	} else {
		rest_process(server->cfg, &in, &resp);
	}
	ret = rest_send(connection, &resp);
	rest_response_release(&resp);
	return ret;
}

static void rest_completed(void *cls, struct MHD_Connection *connection, void **con_cls,
			   enum MHD_RequestTerminationCode toe)
{
	struct rest_connection *state = *con_cls;

	(void)cls, (void)connection, (void)toe;
	if (state) {
		free(state->body);
		free(state);
	}
	*con_cls = NULL;
}

static void rest_mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static void rest_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = 0;
	log_warn("http: %s", line);
}

static char *rest_read_file(const char *path, char *err, size_t err_len)
{
	struct stat st;
	char *buf = NULL;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) || st.st_size > (1 << 20) || !(buf = calloc(1, (size_t)st.st_size + 1))) {
		snprintf(err, err_len, "%s: %s", path, fd < 0 ? strerror(errno) : "cannot read (over 1 MiB?)");
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	n = read(fd, buf, (size_t)st.st_size);
	close(fd);
	if (n != st.st_size) {
		snprintf(err, err_len, "%s: short read", path);
		free(buf);
		return NULL;
	}
	return buf;
}

int rest_server_start(const struct rest_config *cfg, const struct rest_server_options *opts, struct rest_server **out,
		      char *err, size_t err_len)
{
	struct sockaddr_storage addr;
	unsigned addr_len, flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
				   MHD_USE_ERROR_LOG;
	struct rest_server *server;
	bool tls = opts->tls_cert_file && opts->tls_cert_file[0];
	int rc;

	*out = NULL;
	if (config_parse_listen(opts->listen, &addr, &addr_len)) {
		snprintf(err, err_len, "control.listen: '%s' is not ADDRESS:PORT", opts->listen);
		return -EINVAL;
	}
	server = calloc(1, sizeof(*server));
	if (!server)
		return -ENOMEM;
	server->cfg = cfg;
	if (addr.ss_family == AF_INET6) {
		const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)&addr;

		flags |= MHD_USE_IPv6;
		if (!memcmp(&a6->sin6_addr, &in6addr_any, sizeof(in6addr_any)))
			flags |= MHD_USE_DUAL_STACK;
	}
	if (tls) {
		server->cert = rest_read_file(opts->tls_cert_file, err, err_len);
		server->key = server->cert ? rest_read_file(opts->tls_key_file, err, err_len) : NULL;
		if (!server->key) {
			rc = -EINVAL;
			goto cleanup;
		}
		flags |= MHD_USE_TLS;
	}
	if (tls)
		server->daemon = MHD_start_daemon(flags, 0, NULL, NULL, rest_access, server,
						  MHD_OPTION_EXTERNAL_LOGGER, rest_mhd_log, NULL, MHD_OPTION_SOCK_ADDR, &addr,
						  MHD_OPTION_NOTIFY_COMPLETED, rest_completed, server,
						  MHD_OPTION_CONNECTION_LIMIT, opts->connection_limit,
						  MHD_OPTION_CONNECTION_TIMEOUT, opts->timeout_s,
						  MHD_OPTION_HTTPS_MEM_CERT, server->cert, MHD_OPTION_HTTPS_MEM_KEY,
						  server->key, MHD_OPTION_END);
	else
		server->daemon = MHD_start_daemon(flags, 0, NULL, NULL, rest_access, server,
						  MHD_OPTION_EXTERNAL_LOGGER, rest_mhd_log, NULL, MHD_OPTION_SOCK_ADDR, &addr,
						  MHD_OPTION_NOTIFY_COMPLETED, rest_completed, server,
						  MHD_OPTION_CONNECTION_LIMIT, opts->connection_limit,
						  MHD_OPTION_CONNECTION_TIMEOUT, opts->timeout_s, MHD_OPTION_END);
	if (!server->daemon) {
		snprintf(err, err_len, "cannot listen on %s%s (address in use, or a bad certificate?)", opts->listen,
			 tls ? " with TLS" : "");
		rc = -EADDRNOTAVAIL;
		goto cleanup;
	}
	*out = server;
	return 0;

cleanup:
	rest_server_stop(server);
	return rc;
}

void rest_server_stop(struct rest_server *server)
{
	if (!server)
		return;
	if (server->daemon)
		MHD_stop_daemon(server->daemon);
	free(server->cert);
	if (server->key) {
		explicit_bzero(server->key, strlen(server->key));
		free(server->key);
	}
	free(server);
}
