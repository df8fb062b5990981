/* SPDX-License-Identifier: BSD-3-Clause
 *
 * test_control_schema.c: the JSON Schema subset (control/schema.c) as tables: one row per
 * (schema, value) with the expected result and a piece of the expected message; text
 * parameters; unsupported keywords.
 */
#include <errno.h>
#include <string.h>

#include "schema.h"
#include "test_main.h"

static const char *const test_doc_text =
	"{\"components\": {\"schemas\": {"
	" \"File\": {\"type\": \"object\", \"additionalProperties\": false, \"required\": [\"path\", \"size\"],"
	"   \"properties\": {\"path\": {\"type\": \"string\", \"pattern\": \"^/[a-z0-9/._-]+$\", \"maxLength\": 20},"
	"                  \"size\": {\"type\": \"integer\", \"minimum\": 0, \"maximum\": 1099511627776},"
	"                  \"sha\": {\"type\": \"string\", \"minLength\": 4, \"maxLength\": 4}}},"
	" \"Manifest\": {\"type\": \"object\", \"additionalProperties\": false, \"required\": [\"files\"],"
	"   \"properties\": {\"files\": {\"type\": \"array\", \"minItems\": 1, \"maxItems\": 3, \"items\": {\"$ref\": \"#/components/schemas/File\"}},"
	"                  \"mode\": {\"type\": \"string\", \"enum\": [\"fast\", \"slow\"]},"
	"                  \"ratio\": {\"type\": \"number\", \"minimum\": 0, \"maximum\": 1},"
	"                  \"flag\": {\"type\": \"boolean\"},"
	"                  \"free\": {\"type\": \"object\"}}},"
	" \"Loop\": {\"$ref\": \"#/components/schemas/Loop\"},"
	" \"Bad\": {\"type\": \"string\", \"format\": \"ipv4\", \"oneOf\": []},"
	" \"BadRef\": {\"$ref\": \"#/components/schemas/Nope\"},"
	" \"BadPattern\": {\"type\": \"string\", \"pattern\": \"([a-z\"}"
	"}}}";

struct schema_case {
	const char *description;
	const char *schema; /* name in components */
	const char *value;  /* JSON */
	int rc;
	const char *message; /* substring of err when rc != 0 */
};

static const struct schema_case schema_cases[] = {
	{"valid manifest", "Manifest", "{\"files\": [{\"path\": \"/a/b.m4s\", \"size\": 10}]}", 0, NULL},
	{"all optional fields", "Manifest",
	 "{\"files\": [{\"path\": \"/a\", \"size\": 0, \"sha\": \"abcd\"}], \"mode\": \"fast\", \"ratio\": 0.5, \"flag\": true, \"free\": {\"x\": [1]}}",
	 0, NULL},
	{"integer accepted as number", "Manifest", "{\"files\": [{\"path\": \"/a\", \"size\": 1}], \"ratio\": 1}", 0, NULL},
	{"missing required", "Manifest", "{}", -EINVAL, "$: 'files' is required"},
	{"unknown field", "Manifest", "{\"files\": [{\"path\": \"/a\", \"size\": 1}], \"extra\": 1}", -EINVAL,
	 "$: unknown field 'extra'"},
	{"unknown nested field", "Manifest", "{\"files\": [{\"path\": \"/a\", \"size\": 1, \"x\": 2}]}", -EINVAL,
	 "$.files[0]: unknown field 'x'"},
	{"wrong type array", "Manifest", "{\"files\": {}}", -EINVAL, "$.files: expected an array, got an object"},
	{"wrong type at root", "Manifest", "[1]", -EINVAL, "$: expected an object, got an array"},
	{"string for integer", "Manifest", "{\"files\": [{\"path\": \"/a\", \"size\": \"10\"}]}", -EINVAL,
	 "$.files[0].size: expected an integer, got a string"},
	{"real for integer", "Manifest", "{\"files\": [{\"path\": \"/a\", \"size\": 1.0}]}", -EINVAL,
	 "got a number"},
	{"negative size", "Manifest", "{\"files\": [{\"path\": \"/a\", \"size\": -1}]}", -EINVAL,
	 "$.files[0].size: -1 is below the minimum 0"},
	{"size past the maximum", "Manifest", "{\"files\": [{\"path\": \"/a\", \"size\": 1099511627777}]}", -EINVAL,
	 "is above the maximum"},
	{"size exactly the maximum", "Manifest", "{\"files\": [{\"path\": \"/a\", \"size\": 1099511627776}]}", 0, NULL},
	{"pattern mismatch", "Manifest", "{\"files\": [{\"path\": \"a\", \"size\": 1}]}", -EINVAL,
	 "$.files[0].path: does not match"},
	{"pattern anchored at the end", "Manifest", "{\"files\": [{\"path\": \"/a B\", \"size\": 1}]}", -EINVAL,
	 "does not match"},
	{"too long", "Manifest", "{\"files\": [{\"path\": \"/aaaaaaaaaaaaaaaaaaaaaaaa\", \"size\": 1}]}", -EINVAL,
	 "longer than 20 characters"},
	{"characters not bytes", "Manifest", "{\"files\": [{\"path\": \"/a\", \"size\": 1, \"sha\": \"\\u00e9\\u00e9\\u00e9\\u00e9\"}]}",
	 0, NULL},
	{"too short", "Manifest", "{\"files\": [{\"path\": \"/a\", \"size\": 1, \"sha\": \"abc\"}]}", -EINVAL,
	 "shorter than 4 characters"},
	{"NUL in a string", "Manifest", "{\"files\": [{\"path\": \"/a\", \"size\": 1, \"sha\": \"ab\\u0000c\"}]}", -EINVAL,
	 "contains a NUL character"},
	{"empty array", "Manifest", "{\"files\": []}", -EINVAL, "$.files: needs at least 1 items"},
	{"array too long", "Manifest",
	 "{\"files\": [{\"path\": \"/a\", \"size\": 1}, {\"path\": \"/a\", \"size\": 1}, {\"path\": \"/a\", \"size\": 1}, {\"path\": \"/a\", \"size\": 1}]}",
	 -EINVAL, "allows at most 3 items"},
	{"enum", "Manifest", "{\"files\": [{\"path\": \"/a\", \"size\": 1}], \"mode\": \"medium\"}", -EINVAL,
	 "$.mode: must be one of \"fast\", \"slow\""},
	{"number range", "Manifest", "{\"files\": [{\"path\": \"/a\", \"size\": 1}], \"ratio\": 1.5}", -EINVAL,
	 "$.ratio: 1.5 is above the maximum 1"},
	{"boolean", "Manifest", "{\"files\": [{\"path\": \"/a\", \"size\": 1}], \"flag\": 1}", -EINVAL,
	 "expected a boolean, got an integer"},
	{"null", "Manifest", "{\"files\": [{\"path\": \"/a\", \"size\": 1}], \"flag\": null}", -EINVAL, "got null"},
	{"unsupported keyword", "Bad", "\"x\"", -ENOTSUP, "schema keyword 'oneOf' is not supported"},
	{"ref loop", "Loop", "\"x\"", -ENOTSUP, "$ref does not resolve"},
	{"dangling ref", "BadRef", "\"x\"", -ENOTSUP, "$ref does not resolve"},
	{"bad pattern", "BadPattern", "\"x\"", -ENOTSUP, "pattern is not a POSIX extended regex"},
	{NULL, NULL, NULL, 0, NULL},
};

static json_t *test_doc(void)
{
	json_error_t jerr;
	json_t *doc = json_loads(test_doc_text, 0, &jerr);

	if (!doc)
		fprintf(stderr, "test doc: %s\n", jerr.text);
	return doc;
}

static void test_schema_table(void)
{
	json_t *doc = test_doc();

	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	for (const struct schema_case *c = schema_cases; c->description; c++) {
		const json_t *schema = json_object_get(json_object_get(json_object_get(doc, "components"), "schemas"), c->schema);
		json_error_t jerr;
		json_t *value = json_loads(c->value, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
		char err[SCHEMA_ERROR_MAX] = "";
		int rc;

		TEST_CHECK(value != NULL, "%s: test value does not parse: %s", c->description, jerr.text);
		if (!value)
			continue;
		rc = schema_validate(doc, schema, value, "$", err, sizeof(err));
		TEST_CHECK(rc == c->rc, "%s: rc %d, expected %d (%s)", c->description, rc, c->rc, err);
		if (c->message)
			TEST_CHECK(strstr(err, c->message) != NULL, "%s: message '%s' lacks '%s'", c->description, err,
				   c->message);
		json_decref(value);
	}
	json_decref(doc);
}

struct parameter_case {
	const char *schema; /* JSON */
	const char *text;
	int rc;
	const char *value; /* JSON of the parsed value when rc == 0 */
};

static const struct parameter_case parameter_cases[] = {
	{"{\"type\": \"integer\", \"minimum\": 1, \"maximum\": 100}", "10", 0, "10"},
	{"{\"type\": \"integer\", \"minimum\": 1, \"maximum\": 100}", "0", -EINVAL, NULL},
	{"{\"type\": \"integer\", \"minimum\": 1, \"maximum\": 100}", "101", -EINVAL, NULL},
	{"{\"type\": \"integer\"}", "-5", 0, "-5"},
	{"{\"type\": \"integer\"}", "007", -EINVAL, NULL},
	{"{\"type\": \"integer\"}", "+7", -EINVAL, NULL},
	{"{\"type\": \"integer\"}", "", -EINVAL, NULL},
	{"{\"type\": \"integer\"}", "1e3", -EINVAL, NULL},
	{"{\"type\": \"integer\"}", "99999999999999999999", -EINVAL, NULL},
	{"{\"type\": \"integer\"}", "-", -EINVAL, NULL},
	{"{\"type\": \"boolean\"}", "true", 0, "true"},
	{"{\"type\": \"boolean\"}", "false", 0, "false"},
	{"{\"type\": \"boolean\"}", "1", -EINVAL, NULL},
	{"{\"type\": \"boolean\"}", "", -EINVAL, NULL},
	{"{\"type\": \"string\", \"pattern\": \"^[0-9a-f]{16}$\"}", "0123456789abcdef", 0, "\"0123456789abcdef\""},
	{"{\"type\": \"string\", \"pattern\": \"^[0-9a-f]{16}$\"}", "0123456789abcdeF", -EINVAL, NULL},
	{"{\"type\": \"string\", \"maxLength\": 3}", "abcd", -EINVAL, NULL},
	{"{\"type\": \"string\"}", "\xff\xfe", -EINVAL, NULL},
	{"{\"type\": \"number\"}", "1", -ENOTSUP, NULL},
	{"{\"description\": \"no type\"}", "1", -ENOTSUP, NULL},
	{NULL, NULL, 0, NULL},
};

static void test_schema_parameters(void)
{
	json_t *doc = json_object();

	for (const struct parameter_case *c = parameter_cases; c->schema; c++) {
		json_t *schema = json_loads(c->schema, 0, NULL), *out = NULL;
		char err[SCHEMA_ERROR_MAX] = "";
		int rc = schema_parse_parameter(doc, schema, c->text, "query.x", &out, err, sizeof(err));

		TEST_CHECK(rc == c->rc, "%s with '%s': rc %d, expected %d (%s)", c->schema, c->text, rc, c->rc, err);
		if (!rc && c->value) {
			char *dumped = json_dumps(out, JSON_ENCODE_ANY);

			TEST_CHECK(dumped && !strcmp(dumped, c->value), "%s with '%s': got %s, expected %s", c->schema,
				   c->text, dumped, c->value);
			free(dumped);
		}
		if (rc)
			TEST_CHECK(out == NULL && strstr(err, "query.x"), "%s with '%s': error names the parameter (%s)",
				   c->schema, c->text, err);
		json_decref(out);
		json_decref(schema);
	}
	json_decref(doc);
}

static void test_schema_check(void)
{
	json_t *doc = test_doc();
	const json_t *schemas = json_object_get(json_object_get(doc, "components"), "schemas");
	char err[SCHEMA_ERROR_MAX];

	CU_ASSERT_EQUAL(schema_check(doc, json_object_get(schemas, "Manifest"), err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(schema_check(doc, json_object_get(schemas, "Bad"), err, sizeof(err)), -ENOTSUP);
	CU_ASSERT_EQUAL(schema_check(doc, json_object_get(schemas, "BadRef"), err, sizeof(err)), -ENOTSUP);
	CU_ASSERT_EQUAL(schema_check(doc, json_object_get(schemas, "BadPattern"), err, sizeof(err)), -ENOTSUP);
	CU_ASSERT_EQUAL(schema_check(doc, json_object_get(schemas, "Loop"), err, sizeof(err)), -ENOTSUP);
	json_decref(doc);
}

void test_register(void)
{
	static const struct test_case cases[] = {
		{"validation table", test_schema_table},
		{"text parameters", test_schema_parameters},
		{"document check", test_schema_check},
		{NULL, NULL},
	};
	test_add_suite("control_schema", cases);
}
