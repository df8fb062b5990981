/* SPDX-License-Identifier: BSD-3-Clause
 *
 * test_control_rest.c: the REST pipeline (control/rest.c) and bearer tokens
 * (control/tokens.c), without sockets: a small document and route table, and one table row
 * per request (method, path, query, Authorization, Content-Type, body) with the status and
 * error code expected and whether the handler ran (a refused request must change nothing).
 * Then the token file parser and the Authorization header rules, also as tables.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rest.h"
#include "test_main.h"
#include "tokens.h"

static const char *const doc_text =
	"{\"paths\": {"
	" \"/v1/things\": {"
	"  \"get\": {\"operationId\": \"list\", \"parameters\": ["
	"    {\"name\": \"limit\", \"in\": \"query\", \"schema\": {\"type\": \"integer\", \"minimum\": 1, \"maximum\": 10}},"
	"    {\"name\": \"prefix\", \"in\": \"query\", \"schema\": {\"type\": \"string\", \"pattern\": \"^/\"}}]},"
	"  \"post\": {\"operationId\": \"add\", \"requestBody\": {\"required\": true, \"content\": {\"application/json\": {\"schema\": {\"$ref\": \"#/components/schemas/Thing\"}}}}},"
	"  \"delete\": {\"operationId\": \"remove\", \"parameters\": ["
	"    {\"name\": \"name\", \"in\": \"query\", \"required\": true, \"schema\": {\"type\": \"string\", \"maxLength\": 8}}]}},"
	" \"/v1/things/{id}\": {\"parameters\": [{\"name\": \"id\", \"in\": \"path\", \"required\": true, \"schema\": {\"type\": \"integer\", \"minimum\": 1, \"maximum\": 255}}],"
	"  \"get\": {\"operationId\": \"get\"}},"
	" \"/v1/poke\": {\"post\": {\"operationId\": \"poke\", \"requestBody\": {\"required\": false, \"content\": {\"application/json\": {\"schema\": {\"type\": \"object\", \"additionalProperties\": false, \"properties\": {}}}}}}},"
	" \"/metrics\": {\"get\": {\"operationId\": \"metrics\"}}"
	"},"
	"\"components\": {\"schemas\": {\"Thing\": {\"type\": \"object\", \"additionalProperties\": false, \"required\": [\"name\"],"
	"  \"properties\": {\"name\": {\"type\": \"string\", \"minLength\": 1, \"maxLength\": 8}, \"weight\": {\"type\": \"integer\", \"minimum\": 0}}}}}}";

static int handler_calls;
static char last_who[REST_WHO_MAX];
static json_t *last_params;

static void handler_echo(void *ctx, const struct rest_request *req, struct rest_response *resp)
{
	(void)ctx;
	handler_calls++;
	snprintf(last_who, sizeof(last_who), "%s", req->who);
	json_decref(last_params);
	last_params = json_deep_copy(req->params);
	rest_json(resp, req->body ? 201 : 200,
		  json_pack("{s:O, s:O?}", "params", req->params, "body", req->body));
}

static void handler_silent(void *ctx, const struct rest_request *req, struct rest_response *resp)
{
	(void)ctx, (void)req, (void)resp;
	handler_calls++;
}

static const struct rest_route routes[] = {
	{"GET", "/v1/things", handler_echo, REST_ACCESS_TOKEN, 0},
	{"POST", "/v1/things", handler_echo, REST_ACCESS_TOKEN, 64},
	{"DELETE", "/v1/things", handler_echo, REST_ACCESS_TOKEN, 0},
	{"GET", "/v1/things/{id}", handler_echo, REST_ACCESS_TOKEN, 0},
	{"POST", "/v1/poke", handler_silent, REST_ACCESS_TOKEN, 64},
	{"GET", "/metrics", handler_echo, REST_ACCESS_METRICS, 0},
};

static struct tokens *test_tokens;
static bool metrics_public = true;

static int test_authenticate(void *ctx, const char *authorization, char *who, size_t who_len)
{
	(void)ctx;
	return tokens_check(test_tokens, authorization, who, who_len);
}

static bool test_is_public(void *ctx, enum rest_access access)
{
	(void)ctx;
	return access == REST_ACCESS_METRICS && metrics_public;
}

#define GOOD "Bearer 0123456789abcdef0123"
#define OTHER "Bearer zzzzzzzzzzzzzzzzzzzzzzzz"

struct rest_case {
	const char *description;
	const char *method, *path;
	const char *query[6];
	const char *authorization, *content_type, *body;
	bool too_large;
	unsigned status;
	const char *code;   /* error code, NULL for success */
	bool handled;       /* the handler ran */
};

static const struct rest_case rest_cases[] = {
	{"list", "GET", "/v1/things", {NULL}, GOOD, NULL, NULL, false, 200, NULL, true},
	{"no token", "GET", "/v1/things", {NULL}, NULL, NULL, NULL, false, 401, "unauthorized", false},
	{"basic auth", "GET", "/v1/things", {NULL}, "Basic dXNlcjpwYXNz", NULL, NULL, false, 401, "unauthorized", false},
	{"bearer without token", "GET", "/v1/things", {NULL}, "Bearer ", NULL, NULL, false, 401, "unauthorized", false},
	{"bearer with bad characters", "GET", "/v1/things", {NULL}, "Bearer abc$def0123456789xx", NULL, NULL, false, 401,
	 "unauthorized", false},
	{"bearer with two tokens", "GET", "/v1/things", {NULL}, "Bearer 0123456789abcdef0123 x", NULL, NULL, false, 401,
	 "unauthorized", false},
	{"unknown token", "GET", "/v1/things", {NULL}, OTHER, NULL, NULL, false, 403, "forbidden", false},
	{"token as a prefix of a good one", "GET", "/v1/things", {NULL}, "Bearer 0123456789abcdef012", NULL, NULL, false,
	 403, "forbidden", false},
	{"scheme case-insensitive", "GET", "/v1/things", {NULL}, "bearer 0123456789abcdef0123", NULL, NULL, false, 200,
	 NULL, true},
	{"unknown path", "GET", "/v1/nothing", {NULL}, GOOD, NULL, NULL, false, 404, "not_found", false},
	{"unknown path without token", "GET", "/v1/nothing", {NULL}, NULL, NULL, NULL, false, 404, "not_found", false},
	{"trailing slash is another path", "GET", "/v1/things/", {NULL}, GOOD, NULL, NULL, false, 404, "not_found", false},
	{"wrong method", "PUT", "/v1/things", {NULL}, GOOD, NULL, NULL, false, 405, "method_not_allowed", false},
	{"query ok", "GET", "/v1/things", {"limit", "5", "prefix", "/a"}, GOOD, NULL, NULL, false, 200, NULL, true},
	{"query out of range", "GET", "/v1/things", {"limit", "11"}, GOOD, NULL, NULL, false, 400, "invalid_parameter",
	 false},
	{"query not a number", "GET", "/v1/things", {"limit", "ten"}, GOOD, NULL, NULL, false, 400, "invalid_parameter",
	 false},
	{"query unknown", "GET", "/v1/things", {"limt", "5"}, GOOD, NULL, NULL, false, 400, "invalid_parameter", false},
	{"query twice", "GET", "/v1/things", {"limit", "5", "limit", "6"}, GOOD, NULL, NULL, false, 400,
	 "invalid_parameter", false},
	{"query flag without value", "GET", "/v1/things", {"limit", NULL}, GOOD, NULL, NULL, false, 400,
	 "invalid_parameter", false},
	{"required query missing", "DELETE", "/v1/things", {NULL}, GOOD, NULL, NULL, false, 400, "invalid_parameter",
	 false},
	{"required query present", "DELETE", "/v1/things", {"name", "x"}, GOOD, NULL, NULL, false, 200, NULL, true},
	{"path parameter", "GET", "/v1/things/7", {NULL}, GOOD, NULL, NULL, false, 200, NULL, true},
	{"path parameter out of range", "GET", "/v1/things/256", {NULL}, GOOD, NULL, NULL, false, 400,
	 "invalid_parameter", false},
	{"path parameter not an integer", "GET", "/v1/things/x1", {NULL}, GOOD, NULL, NULL, false, 400,
	 "invalid_parameter", false},
	{"body ok", "POST", "/v1/things", {NULL}, GOOD, "application/json", "{\"name\": \"a\"}", false, 201, NULL, true},
	{"body with charset", "POST", "/v1/things", {NULL}, GOOD, "application/json; charset=utf-8", "{\"name\": \"a\"}",
	 false, 201, NULL, true},
	{"body without token", "POST", "/v1/things", {NULL}, NULL, "application/json", "{\"name\": \"a\"}", false, 401,
	 "unauthorized", false},
	{"body missing", "POST", "/v1/things", {NULL}, GOOD, "application/json", "", false, 400, "invalid_body", false},
	{"body not JSON", "POST", "/v1/things", {NULL}, GOOD, "application/json", "{name: a}", false, 400, "invalid_json",
	 false},
	{"body truncated", "POST", "/v1/things", {NULL}, GOOD, "application/json", "{\"name\": \"a\"", false, 400,
	 "invalid_json", false},
	{"body with trailing garbage", "POST", "/v1/things", {NULL}, GOOD, "application/json", "{\"name\": \"a\"} x",
	 false, 400, "invalid_json", false},
	{"duplicate key", "POST", "/v1/things", {NULL}, GOOD, "application/json", "{\"name\": \"a\", \"name\": \"b\"}",
	 false, 400, "invalid_json", false},
	{"unknown field", "POST", "/v1/things", {NULL}, GOOD, "application/json", "{\"name\": \"a\", \"color\": 1}", false,
	 400, "invalid_body", false},
	{"wrong type", "POST", "/v1/things", {NULL}, GOOD, "application/json", "{\"name\": 5}", false, 400,
	 "invalid_body", false},
	{"array body", "POST", "/v1/things", {NULL}, GOOD, "application/json", "[]", false, 400, "invalid_body", false},
	{"negative weight", "POST", "/v1/things", {NULL}, GOOD, "application/json", "{\"name\": \"a\", \"weight\": -1}",
	 false, 400, "invalid_body", false},
	{"text/plain body", "POST", "/v1/things", {NULL}, GOOD, "text/plain", "{\"name\": \"a\"}", false, 415,
	 "unsupported_media_type", false},
	{"no content type", "POST", "/v1/things", {NULL}, GOOD, NULL, "{\"name\": \"a\"}", false, 415,
	 "unsupported_media_type", false},
	{"application/jsonx", "POST", "/v1/things", {NULL}, GOOD, "application/jsonx", "{\"name\": \"a\"}", false, 415,
	 "unsupported_media_type", false},
	{"body too large", "POST", "/v1/things", {NULL}, GOOD, "application/json", "", true, 413, "body_too_large", false},
	{"body on a GET", "GET", "/v1/things", {NULL}, GOOD, "application/json", "{}", false, 400, "invalid_body", false},
	{"optional body left out", "POST", "/v1/poke", {NULL}, GOOD, NULL, NULL, false, 500, "internal", true},
	{"optional body with a field", "POST", "/v1/poke", {NULL}, GOOD, "application/json", "{\"x\": 1}", false, 400,
	 "invalid_body", false},
	{"public metrics", "GET", "/metrics", {NULL}, NULL, NULL, NULL, false, 200, NULL, true},
	{"public metrics ignores a bad token", "GET", "/metrics", {NULL}, "Basic x", NULL, NULL, false, 200, NULL, true},
	{NULL, NULL, NULL, {NULL}, NULL, NULL, NULL, false, 0, NULL, false},
};

static void run_case(const struct rest_config *cfg, const struct rest_case *c)
{
	struct rest_input in;
	struct rest_response resp;
	int before = handler_calls;
	const char *code;

	memset(&in, 0, sizeof(in));
	in.method = c->method;
	in.path = c->path;
	for (size_t i = 0; i < 6 && (c->query[i] || (i % 2)); i += 2) {
		if (!c->query[i])
			break;
		in.query[2 * in.query_count] = c->query[i];
		in.query[2 * in.query_count + 1] = c->query[i + 1];
		in.query_count++;
	}
	in.authorization = c->authorization;
	in.content_type = c->content_type;
	in.body = c->body;
	in.body_len = c->body ? strlen(c->body) : 0;
	in.body_too_large = c->too_large;
	rest_process(cfg, &in, &resp);
	code = json_string_value(json_object_get(json_object_get(resp.json, "error"), "code"));
	TEST_CHECK(resp.status == c->status, "%s: status %u, expected %u (%s)", c->description, resp.status, c->status,
		   code ? code : "-");
	if (c->code)
		TEST_CHECK(code && !strcmp(code, c->code), "%s: error code %s, expected %s", c->description,
			   code ? code : "(none)", c->code);
	else
		TEST_CHECK(!code, "%s: unexpected error %s", c->description, code);
	TEST_CHECK((handler_calls > before) == c->handled, "%s: handler %s", c->description,
		   c->handled ? "did not run" : "ran for a refused request");
	if (resp.status == 401)
		TEST_CHECK(resp.www_authenticate != NULL, "%s: 401 without WWW-Authenticate", c->description);
	if (resp.status == 405)
		TEST_CHECK(strstr(resp.allow, "GET") && strstr(resp.allow, "POST"), "%s: Allow '%s'", c->description,
			   resp.allow);
	rest_response_release(&resp);
}

static json_t *load_doc(void)
{
	json_error_t jerr;
	json_t *doc = json_loads(doc_text, 0, &jerr);

	if (!doc)
		fprintf(stderr, "doc: %d: %s\n", jerr.position, jerr.text);
	return doc;
}

static void test_rest_table(void)
{
	struct rest_config cfg = {.routes = routes, .route_count = sizeof(routes) / sizeof(routes[0]),
				  .authenticate = test_authenticate, .is_public = test_is_public};
	char err[256];

	cfg.doc = load_doc();
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg.doc);
	CU_ASSERT_EQUAL_FATAL(tokens_parse("ops 0123456789abcdef0123\n", "<t>", &test_tokens, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(rest_config_check(&cfg, err, sizeof(err)), 0);
	for (const struct rest_case *c = rest_cases; c->description; c++)
		run_case(&cfg, c);
	/* Parameters reach the handler typed. */
	{
		const struct rest_case c = {"typed", "GET", "/v1/things/42", {NULL}, GOOD, NULL, NULL, false, 200, NULL, true};

		run_case(&cfg, &c);
		CU_ASSERT(json_is_integer(json_object_get(last_params, "id")));
		CU_ASSERT_EQUAL(json_integer_value(json_object_get(last_params, "id")), 42);
		CU_ASSERT_STRING_EQUAL(last_who, "ops");
	}
	/* Metrics behind a token when the daemon says so. */
	metrics_public = false;
	{
		const struct rest_case c = {"metrics private", "GET", "/metrics", {NULL}, NULL, NULL, NULL, false, 401,
					    "unauthorized", false};

		run_case(&cfg, &c);
	}
	metrics_public = true;
	json_decref(last_params);
	last_params = NULL;
	tokens_free(test_tokens);
	test_tokens = NULL;
	json_decref((json_t *)cfg.doc);
}

static void test_rest_config_check(void)
{
	struct rest_config cfg = {.routes = routes, .route_count = sizeof(routes) / sizeof(routes[0])};
	static const struct rest_route extra[] = {{"GET", "/v1/ghost", handler_echo, REST_ACCESS_TOKEN, 0}};
	char err[256] = "";

	cfg.doc = load_doc();
	/* A route the document lacks. */
	cfg.routes = extra;
	cfg.route_count = 1;
	CU_ASSERT_EQUAL(rest_config_check(&cfg, err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "GET /v1/ghost is not in the document"));
	/* An operation without a route. */
	cfg.routes = routes;
	cfg.route_count = 3;
	CU_ASSERT_EQUAL(rest_config_check(&cfg, err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "has no route"));
	json_decref((json_t *)cfg.doc);
}

struct token_file_case {
	const char *description;
	const char *text;
	int rc;
	size_t count;
	const char *message;
};

static const struct token_file_case token_file_cases[] = {
	{"empty", "", 0, 0, NULL},
	{"comments and blanks", "# operators\n\n   \n# end\n", 0, 0, NULL},
	{"bare token", "0123456789abcdef\n", 0, 1, NULL},
	{"named tokens, CRLF, tabs", "alice\t0123456789abcdef\r\nbob   fedcba9876543210==\n", 0, 2, NULL},
	{"no final newline", "alice 0123456789abcdef", 0, 1, NULL},
	{"token too short", "alice 0123456789abcde\n", -EINVAL, 0, "<t>:1: a token is 16 to 256"},
	{"bad character", "\nalice 0123456789abcdef!\n", -EINVAL, 0, "<t>:2: a token"},
	{"padding in the middle", "alice 01234567=89abcdef\n", -EINVAL, 0, "a token"},
	{"three fields", "alice bob 0123456789abcdef\n", -EINVAL, 0, "<t>:1: expected TOKEN or NAME TOKEN"},
	{"bad name", "al!ce 0123456789abcdef\n", -EINVAL, 0, "a name is"},
	{"duplicate", "a 0123456789abcdef\nb 0123456789abcdef\n", -EINVAL, 0, "<t>:2: the same token as a"},
	{NULL, NULL, 0, 0, NULL},
};

static void test_tokens_file(void)
{
	for (const struct token_file_case *c = token_file_cases; c->description; c++) {
		struct tokens *t = NULL;
		char err[256] = "";
		int rc = tokens_parse(c->text, "<t>", &t, err, sizeof(err));

		TEST_CHECK(rc == c->rc, "%s: rc %d, expected %d (%s)", c->description, rc, c->rc, err);
		if (!rc)
			TEST_CHECK(tokens_count(t) == c->count, "%s: %zu tokens", c->description, tokens_count(t));
		if (c->message)
			TEST_CHECK(strstr(err, c->message) != NULL, "%s: '%s' lacks '%s'", c->description, err, c->message);
		tokens_free(t);
	}
}

struct token_check_case {
	const char *authorization;
	int rc;
	const char *who;
};

static void test_tokens_check(void)
{
	static const struct token_check_case cases[] = {
		{"Bearer 0123456789abcdef", 0, "alice"},
		{"Bearer fedcba9876543210==", 0, "bob"},
		{"Bearer    fedcba9876543210==  ", 0, "bob"},
		{"BEARER 0123456789abcdef", 0, "alice"},
		{"Bearer 1111111111111111", 0, "token 3 (line 3)"},
		{"Bearer 0123456789abcdeF", -EPERM, NULL},
		{"Bearer 0123456789abcdef0", -EPERM, NULL},
		{"Bearer fedcba9876543210", -EPERM, NULL},
		{NULL, -EACCES, NULL},
		{"", -EACCES, NULL},
		{"Bearer", -EACCES, NULL},
		{"Bearer ", -EACCES, NULL},
		{"Bearer0123456789abcdef", -EACCES, NULL},
		{"Token 0123456789abcdef", -EACCES, NULL},
		{"Bearer 0123456789abcdef\t", -EACCES, NULL},
		{"Bearer =0123456789abcdef", -EACCES, NULL},
		{"Bearer 0123 456789abcdef", -EACCES, NULL},
		{"sentinel", 1, NULL},
	};
	struct tokens *t;
	char err[256], who[REST_WHO_MAX];

	CU_ASSERT_EQUAL_FATAL(tokens_parse("alice 0123456789abcdef\nbob fedcba9876543210==\n1111111111111111\n", "<t>", &t,
					   err, sizeof(err)),
			      0);
	for (const struct token_check_case *c = cases; c->rc != 1; c++) {
		int rc;

		who[0] = 0;
		rc = tokens_check(t, c->authorization, who, sizeof(who));
		TEST_CHECK(rc == c->rc, "'%s': rc %d, expected %d", c->authorization ? c->authorization : "(none)", rc, c->rc);
		if (c->who)
			TEST_CHECK(!strcmp(who, c->who), "'%s': who '%s'", c->authorization, who);
	}
	/* No token file at all: every token is unknown, a missing header still 401. */
	CU_ASSERT_EQUAL(tokens_check(NULL, "Bearer 0123456789abcdef", who, sizeof(who)), -EPERM);
	CU_ASSERT_EQUAL(tokens_check(NULL, NULL, who, sizeof(who)), -EACCES);
	tokens_free(t);
}

static void test_tokens_reload(void)
{
	char path[] = "/tmp/sluice-test-tokens-XXXXXX", err[256];
	struct tokens *t;
	int fd = mkstemp(path);
	FILE *f;

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(write(fd, "a 0123456789abcdef\n", 19), 19);
	close(fd);
	CU_ASSERT_EQUAL_FATAL(tokens_load(path, &t, err, sizeof(err)), 0);
	CU_ASSERT_FALSE(tokens_file_changed(t, path));
	f = fopen(path, "a");
	fputs("b fedcba9876543210\n", f);
	fclose(f);
	CU_ASSERT_TRUE(tokens_file_changed(t, path));
	tokens_free(t);
	CU_ASSERT_EQUAL(tokens_load(path, &t, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(tokens_count(t), 2);
	unlink(path);
	CU_ASSERT_TRUE(tokens_file_changed(t, path));
	tokens_free(t);
	CU_ASSERT_EQUAL(tokens_load(path, &t, err, sizeof(err)), -ENOENT);
	CU_ASSERT_TRUE(tokens_file_changed(NULL, "/etc/hostname"));
	CU_ASSERT_FALSE(tokens_file_changed(NULL, path));
}

void test_register(void)
{
	static const struct test_case cases[] = {
		{"request table", test_rest_table},
		{"routes and document agree", test_rest_config_check},
		{"token file table", test_tokens_file},
		{"token check table", test_tokens_check},
		{"token file reload", test_tokens_reload},
		{NULL, NULL},
	};
	test_add_suite("control_rest", cases);
}
