/* SPDX-License-Identifier: BSD-3-Clause
 *
 * test_control_openapi.c: control/openapi.json against the daemon.
 *
 *  - the file in the source tree is byte for byte the document the daemon embeds and serves;
 *  - every route sluice-control registers is an operation of the document and vice versa,
 *    with the same access (public operations list an empty security requirement);
 *  - every schema the routes use is one the validator supports, every request object schema
 *    refuses unknown fields, every operation has an operationId and responses;
 *  - every example request body in the document validates against its schema, and a table of
 *    bad bodies (one row per operation and mistake) is refused by the same validation the
 *    server runs.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "openapi_doc.h"
#include "schema.h"
#include "test_main.h"

static json_t *doc;

static json_t *load_doc(void)
{
	json_error_t jerr;
	json_t *d = json_loadb((const char *)openapi_json, openapi_json_len, JSON_REJECT_DUPLICATES, &jerr);

	if (!d)
		fprintf(stderr, "openapi.json: line %d: %s\n", jerr.line, jerr.text);
	return d;
}

static void test_openapi_file_is_embedded(void)
{
	FILE *f = fopen("control/openapi.json", "rb");
	char *text;
	long n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	text = malloc((size_t)n);
	CU_ASSERT_EQUAL(fread(text, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	CU_ASSERT_EQUAL((size_t)n, openapi_json_len);
	CU_ASSERT(n > 0 && (size_t)n == openapi_json_len && !memcmp(text, openapi_json, (size_t)n));
	free(text);
}

static void test_openapi_routes_match(void)
{
	struct rest_config cfg = {.routes = api_routes, .route_count = api_route_count};
	char err[256] = "";

	doc = load_doc();
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	cfg.doc = doc;

	TEST_CHECK(rest_config_check(&cfg, err, sizeof(err)) == 0, "routes and document: %s", err);
	/* Access: public operations (health, metrics) say so in the document; the others rely on
	 * the global bearer requirement. */
	for (size_t i = 0; i < api_route_count; i++) {
		const struct rest_route *r = &api_routes[i];
		char method[8];
		const json_t *op, *security;
		size_t k;

		for (k = 0; r->method[k] && k < sizeof(method) - 1; k++)
			method[k] = (char)(r->method[k] + 32);
		method[k] = 0;
		op = json_object_get(json_object_get(json_object_get(doc, "paths"), r->path), method);
		security = json_object_get(op, "security");
		if (r->access == REST_ACCESS_TOKEN)
			TEST_CHECK(!security, "%s %s needs a token but the document overrides security", r->method, r->path);
		else
			TEST_CHECK(json_is_array(security) && json_array_size(security) == 2 &&
					   json_object_size(json_array_get(security, 0)) == 0,
				   "%s %s is public but the document does not say so", r->method, r->path);
		TEST_CHECK(json_is_string(json_object_get(op, "operationId")), "%s %s has no operationId", r->method,
			   r->path);
		TEST_CHECK(json_is_object(json_object_get(op, "responses")), "%s %s has no responses", r->method, r->path);
	}
	CU_ASSERT(json_is_array(json_object_get(doc, "security")));
	json_decref(doc);
	doc = NULL;
}

/* Every object schema reachable from a request body refuses unknown fields. */
static void check_strict(const json_t *schema, const char *where)
{
	const json_t *s = schema_resolve(doc, schema), *v;
	const char *key;
	char sub[256];

	if (!s)
		return;
	if (json_is_object(json_object_get(s, "properties")) ||
	    !strcmp(json_string_value(json_object_get(s, "type")) ?: "", "object"))
		TEST_CHECK(json_is_false(json_object_get(s, "additionalProperties")), "%s: object schema accepts unknown fields",
			   where);
	json_object_foreach((json_t *)json_object_get(s, "properties"), key, v) {
		snprintf(sub, sizeof(sub), "%s.%s", where, key);
		check_strict(v, sub);
	}
	if (json_object_get(s, "items")) {
		snprintf(sub, sizeof(sub), "%s[]", where);
		check_strict(json_object_get(s, "items"), sub);
	}
}

static void test_openapi_examples(void)
{
	const char *path, *method;
	json_t *item, *op;
	size_t examples = 0;

	doc = load_doc();
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	json_object_foreach(json_object_get(doc, "paths"), path, item) {
		json_object_foreach(item, method, op) {
			const json_t *media = json_object_get(json_object_get(json_object_get(op, "requestBody"), "content"),
							      "application/json");
			const json_t *schema = json_object_get(media, "schema"), *example;
			const char *name;
			char where[128];

			if (!json_object_get(op, "requestBody") || !strcmp(method, "parameters"))
				continue;
			snprintf(where, sizeof(where), "%s %s", method, path);
			TEST_CHECK(schema != NULL, "%s: body without a JSON schema", where);
			TEST_CHECK(json_object_size(json_object_get(media, "examples")) > 0, "%s: no example body", where);
			check_strict(schema, where);
			json_object_foreach((json_t *)json_object_get(media, "examples"), name, example) {
				char err[SCHEMA_ERROR_MAX] = "";
				int rc = schema_validate(doc, schema, json_object_get(example, "value"), "$", err, sizeof(err));

				TEST_CHECK(rc == 0, "%s: example '%s' does not validate: %s", where, name, err);
				examples++;
			}
		}
	}
	CU_ASSERT(examples >= 15);
	json_decref(doc);
	doc = NULL;
}

struct bad_body {
	const char *method, *path, *body, *message;
};

static const struct bad_body bad_bodies[] = {
	{"put", "/v1/admission", "{}", "'state' is required"},
	{"put", "/v1/admission", "{\"state\": \"half-open\"}", "must be one of"},
	{"put", "/v1/admission", "{\"state\": \"closed\", \"ttl_s\": 0}", "below the minimum"},
	{"put", "/v1/admission", "{\"state\": \"closed\", \"ttl_s\": 2592001}", "above the maximum"},
	{"put", "/v1/admission", "{\"state\": \"closed\", \"ttl_s\": \"60\"}", "expected an integer"},
	{"put", "/v1/admission", "{\"state\": \"closed\", \"until\": 5}", "unknown field 'until'"},
	{"put", "/v1/admission", "{\"state\": \"closed\", \"reason\": \"a\\nb\"}", "does not match"},
	{"post", "/v1/drain", "{\"reason\": 5}", "expected a string"},
	{"post", "/v1/drain", "{\"why\": \"x\"}", "unknown field"},
	{"post", "/v1/services", "{\"address\": \"198.18.0.1\", \"port\": 80}", "'id' is required"},
	{"post", "/v1/services", "{\"address\": \"198.18.0.1\", \"port\": 65536, \"id\": 0}", "above the maximum"},
	{"post", "/v1/services", "{\"address\": \"198.18.0.1\", \"port\": 80, \"id\": 256}", "above the maximum"},
	{"post", "/v1/services", "{\"address\": \"example.com\", \"port\": 80, \"id\": 0}", "does not match"},
	{"post", "/v1/services", "{\"address\": [\"198.18.0.1\"], \"id\": 0}", "expected a string"},
	{"post", "/v1/blocklist", "{\"prefix\": \"203.0.113.0/24 \"}", "does not match"},
	{"post", "/v1/blocklist", "{\"prefix\": \"203.0.113.0/2400\"}", "does not match"},
	{"post", "/v1/blocklist", "{}", "'prefix' is required"},
	{"post", "/v1/catalog/reload", "{\"path\": \"/etc/shadow\"}", "unknown field 'path'"},
	{"post", "/v1/fills", "{\"files\": []}", "needs at least 1 items"},
	{"post", "/v1/fills", "{\"files\": [{\"path\": \"/a\", \"url\": \"http://o/a\", \"size\": 1}]}", "'sha256' is required"},
	{"post", "/v1/fills", "{\"files\": [{\"path\": \"/a/../b\", \"url\": \"http://o/a\", \"size\": 1, \"sha256\": \"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"}]}", "does not match"},
	{"post", "/v1/fills", "{\"files\": [{\"path\": \"/.fill/x\", \"url\": \"http://o/a\", \"size\": 1, \"sha256\": \"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"}]}", "does not match"},
	{"post", "/v1/fills", "{\"files\": [{\"path\": \"/a//b\", \"url\": \"http://o/a\", \"size\": 1, \"sha256\": \"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"}]}", "does not match"},
	{"post", "/v1/fills", "{\"files\": [{\"path\": \"/a\", \"url\": \"file:///etc/passwd\", \"size\": 1, \"sha256\": \"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"}]}", "does not match"},
	{"post", "/v1/fills", "{\"files\": [{\"path\": \"/a\", \"url\": \"http://o/a b\", \"size\": 1, \"sha256\": \"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"}]}", "does not match"},
	{"post", "/v1/fills", "{\"files\": [{\"path\": \"/a\", \"url\": \"http://o/a\", \"size\": -1, \"sha256\": \"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"}]}", "below the minimum"},
	{"post", "/v1/fills", "{\"files\": [{\"path\": \"/a\", \"url\": \"http://o/a\", \"size\": 1, \"sha256\": \"E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855\"}]}", "does not match"},
	{"post", "/v1/fills", "{\"files\": [{\"path\": \"/a\", \"url\": \"http://o/a\", \"size\": 1, \"sha256\": \"e3b0\"}]}", "does not match"},
	{"post", "/v1/fills", "{\"files\": [{\"path\": \"/a\", \"url\": \"http://o/a\", \"size\": 1.5, \"sha256\": \"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"}]}", "expected an integer"},
	{"post", "/v1/fills", "{\"files\": {}}", "expected an array"},
	{"post", "/v1/fills", "{\"name\": \"x\", \"origin\": \"y\", \"files\": []}", "unknown field 'origin'"},
	{"post", "/v1/keys/signing", "{\"kid\": 0, \"generate\": true}", "below the minimum"},
	{"post", "/v1/keys/signing", "{\"kid\": 3, \"secret\": \"xyz\"}", "shorter than"},
	{"post", "/v1/keys/signing", "{\"kid\": 3, \"secret\": \"zz2b6c1d0e9a7b3c5d4e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4\"}", "does not match"},
	{"post", "/v1/keys/signing", "{\"kid\": 3, \"generate\": true, \"length\": 16}", "below the minimum"},
	{"post", "/v1/keys/signing", "{\"kid\": 3, \"generate\": \"yes\"}", "expected a boolean"},
	{"post", "/v1/keys/tickets", "{\"name\": \"00\"}", "does not match"},
	{"post", "/v1/keys/tickets", "{\"name\": \"00112233445566778899aabbccddeeff\", \"aes_key\": 1}", "expected a string"},
	{"post", "/v1/config/reload", "{}", "'target' is required"},
	{"post", "/v1/config/reload", "{\"target\": \"everything\"}", "must be one of"},
	{"post", "/v1/logs/rotate", "{\"now\": true}", "unknown field"},
	{NULL, NULL, NULL, NULL},
};

static void test_openapi_bad_bodies(void)
{
	doc = load_doc();
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	for (const struct bad_body *b = bad_bodies; b->method; b++) {
		const json_t *op = json_object_get(json_object_get(json_object_get(doc, "paths"), b->path), b->method);
		const json_t *schema = json_object_get(
			json_object_get(json_object_get(json_object_get(op, "requestBody"), "content"), "application/json"),
			"schema");
		json_t *body = json_loads(b->body, 0, NULL);
		char err[SCHEMA_ERROR_MAX] = "";
		int rc;

		TEST_CHECK(schema && body, "%s %s: no schema, or the test body does not parse", b->method, b->path);
		if (!schema || !body) {
			json_decref(body);
			continue;
		}
		rc = schema_validate(doc, schema, body, "$", err, sizeof(err));
		TEST_CHECK(rc == -EINVAL && strstr(err, b->message), "%s %s with %s: rc %d '%s', expected '%s'", b->method,
			   b->path, b->body, rc, err, b->message);
		json_decref(body);
	}
	json_decref(doc);
	doc = NULL;
}

void test_register(void)
{
	static const struct test_case cases[] = {
		{"source file is the embedded document", test_openapi_file_is_embedded},
		{"routes and operations match", test_openapi_routes_match},
		{"examples validate, objects are strict", test_openapi_examples},
		{"bad bodies are refused", test_openapi_bad_bodies},
		{NULL, NULL},
	};
	test_add_suite("control_openapi", cases);
}
