/* SPDX-License-Identifier: BSD-3-Clause
 *
 * schema.c: the JSON Schema subset of schema.h, walked recursively over the value.
 *
 * Control path only (one request body at a time). Patterns are compiled per check: request
 * bodies are small and rare, and a cache would be state to invalidate when the document is
 * replaced. Recursion depth is bounded by the value's depth, which jansson bounds (2048) and
 * the request size limit bounds far more tightly.
 */
#include "schema.h"

#include <errno.h>
#include <inttypes.h>
#include <regex.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCHEMA_PATH_MAX 192

static const char *const schema_keywords[] = {
	"type", "properties", "required", "additionalProperties", "enum", "minimum", "maximum",
	"minLength", "maxLength", "pattern", "items", "minItems", "maxItems", "$ref",
	/* annotations */
	"description", "title", "example", "default", "format", "readOnly",
};

static int schema_fail(char *err, size_t err_len, int rc, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static int schema_fail(char *err, size_t err_len, int rc, const char *path, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!err || !err_len)
		return rc;
	n = snprintf(err, err_len, "%s: ", path);
	if (n < 0 || (size_t)n >= err_len)
		return rc;
	va_start(ap, fmt);
	vsnprintf(err + n, err_len - (size_t)n, fmt, ap);
	va_end(ap);
	return rc;
}

const json_t *schema_resolve(const json_t *doc, const json_t *schema)
{
	const char *ref;
	const json_t *node;

	for (int hops = 0; hops < 8 && json_is_object(schema); hops++) {
		const json_t *r = json_object_get(schema, "$ref");
		char name[128];

		if (!r)
			return schema;
		ref = json_string_value(r);
		if (!ref || strncmp(ref, "#/components/schemas/", 21) || strlen(ref + 21) >= sizeof(name))
			return NULL;
		snprintf(name, sizeof(name), "%s", ref + 21);
		node = json_object_get(json_object_get(json_object_get(doc, "components"), "schemas"), name);
		if (!node)
			return NULL;
		schema = node;
	}
	return json_is_object(schema) && !json_object_get(schema, "$ref") ? schema : NULL;
}

static bool schema_type_is(const json_t *value, const char *type)
{
	if (!strcmp(type, "object"))
		return json_is_object(value);
	if (!strcmp(type, "array"))
		return json_is_array(value);
	if (!strcmp(type, "string"))
		return json_is_string(value);
	if (!strcmp(type, "integer"))
		return json_is_integer(value);
	if (!strcmp(type, "number"))
		return json_is_number(value);
	if (!strcmp(type, "boolean"))
		return json_is_boolean(value);
	return false;
}

static const char *schema_type_of(const json_t *value)
{
	switch (json_typeof(value)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	case JSON_NULL: return "null";
	}
	return "?";
}

static size_t schema_utf8_length(const char *s, size_t bytes)
{
	size_t n = 0;

	for (size_t i = 0; i < bytes; i++)
		n += ((unsigned char)s[i] & 0xc0) != 0x80;
	return n;
}

static int schema_check_keywords(const json_t *schema, const char *path, char *err, size_t err_len)
{
	const char *key;
	const json_t *v;

	json_object_foreach((json_t *)schema, key, v) {
		bool known = false;

		for (size_t i = 0; i < sizeof(schema_keywords) / sizeof(schema_keywords[0]); i++)
			known |= !strcmp(key, schema_keywords[i]);
		if (!known)
			return schema_fail(err, err_len, -ENOTSUP, path, "schema keyword '%s' is not supported", key);
	}
	return 0;
}

static int schema_validate_at(const json_t *doc, const json_t *schema, const json_t *value, const char *path,
			      char *err, size_t err_len);

static int schema_validate_object(const json_t *doc, const json_t *schema, const json_t *value, const char *path,
				  char *err, size_t err_len)
{
	const json_t *props = json_object_get(schema, "properties"), *req = json_object_get(schema, "required");
	const json_t *extra = json_object_get(schema, "additionalProperties"), *v;
	char sub[SCHEMA_PATH_MAX];
	const char *key;
	size_t i;
	int rc;

	if (req) {
		if (!json_is_array(req))
			return schema_fail(err, err_len, -ENOTSUP, path, "schema 'required' is not an array");
		json_array_foreach(req, i, v) {
			if (!json_is_string(v))
				return schema_fail(err, err_len, -ENOTSUP, path, "schema 'required' lists a non-string");
			if (!json_object_get(value, json_string_value(v)))
				return schema_fail(err, err_len, -EINVAL, path, "'%s' is required", json_string_value(v));
		}
	}
	if (extra && !json_is_boolean(extra))
		return schema_fail(err, err_len, -ENOTSUP, path, "additionalProperties must be true or false");
	json_object_foreach((json_t *)value, key, v) {
		const json_t *prop = props ? json_object_get(props, key) : NULL;

		snprintf(sub, sizeof(sub), "%s.%s", path, key);
		if (!prop) {
			if (json_is_false(extra))
				return schema_fail(err, err_len, -EINVAL, path, "unknown field '%.64s'", key);
			continue;
		}
		rc = schema_validate_at(doc, prop, v, sub, err, err_len);
		if (rc)
			return rc;
	}
	return 0;
}

static int schema_validate_array(const json_t *doc, const json_t *schema, const json_t *value, const char *path,
				 char *err, size_t err_len)
{
	const json_t *items = json_object_get(schema, "items"), *v;
	const json_t *lo = json_object_get(schema, "minItems"), *hi = json_object_get(schema, "maxItems");
	char sub[SCHEMA_PATH_MAX];
	size_t i, n = json_array_size(value);
	int rc;

	if ((lo && !json_is_integer(lo)) || (hi && !json_is_integer(hi)))
		return schema_fail(err, err_len, -ENOTSUP, path, "minItems/maxItems must be integers");
	if (lo && (json_int_t)n < json_integer_value(lo))
		return schema_fail(err, err_len, -EINVAL, path, "needs at least %" JSON_INTEGER_FORMAT " items",
				   json_integer_value(lo));
	if (hi && (json_int_t)n > json_integer_value(hi))
		return schema_fail(err, err_len, -EINVAL, path, "allows at most %" JSON_INTEGER_FORMAT " items",
				   json_integer_value(hi));
	if (!items)
		return 0;
	json_array_foreach(value, i, v) {
		snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
		rc = schema_validate_at(doc, items, v, sub, err, err_len);
		if (rc)
			return rc;
	}
	return 0;
}

static int schema_validate_string(const json_t *schema, const json_t *value, const char *path, char *err,
				  size_t err_len)
{
	const json_t *lo = json_object_get(schema, "minLength"), *hi = json_object_get(schema, "maxLength");
	const json_t *pattern = json_object_get(schema, "pattern");
	const char *s = json_string_value(value);
	size_t bytes = json_string_length(value), chars;

	if (memchr(s, 0, bytes))
		return schema_fail(err, err_len, -EINVAL, path, "contains a NUL character");
	if ((lo && !json_is_integer(lo)) || (hi && !json_is_integer(hi)))
		return schema_fail(err, err_len, -ENOTSUP, path, "minLength/maxLength must be integers");
	chars = schema_utf8_length(s, bytes);
	if (lo && (json_int_t)chars < json_integer_value(lo))
		return schema_fail(err, err_len, -EINVAL, path, "shorter than %" JSON_INTEGER_FORMAT " characters",
				   json_integer_value(lo));
	if (hi && (json_int_t)chars > json_integer_value(hi))
		return schema_fail(err, err_len, -EINVAL, path, "longer than %" JSON_INTEGER_FORMAT " characters",
				   json_integer_value(hi));
	if (pattern) {
		regex_t re;
		int rc;

		if (!json_is_string(pattern) || regcomp(&re, json_string_value(pattern), REG_EXTENDED | REG_NOSUB))
			return schema_fail(err, err_len, -ENOTSUP, path, "pattern is not a POSIX extended regex");
		rc = regexec(&re, s, 0, NULL, 0);
		regfree(&re);
		if (rc)
			return schema_fail(err, err_len, -EINVAL, path, "does not match %s", json_string_value(pattern));
	}
	return 0;
}

static int schema_validate_number(const json_t *schema, const json_t *value, const char *path, char *err,
				  size_t err_len)
{
	const json_t *lo = json_object_get(schema, "minimum"), *hi = json_object_get(schema, "maximum");

	if ((lo && !json_is_number(lo)) || (hi && !json_is_number(hi)))
		return schema_fail(err, err_len, -ENOTSUP, path, "minimum/maximum must be numbers");
	if (json_is_integer(value)) {
		json_int_t v = json_integer_value(value);

		/* Compare integers as integers: a double loses precision above 2^53. */
		if (lo && (json_is_integer(lo) ? v < json_integer_value(lo) : (double)v < json_number_value(lo)))
			return schema_fail(err, err_len, -EINVAL, path, "%" JSON_INTEGER_FORMAT " is below the minimum %g",
					   v, json_number_value(lo));
		if (hi && (json_is_integer(hi) ? v > json_integer_value(hi) : (double)v > json_number_value(hi)))
			return schema_fail(err, err_len, -EINVAL, path, "%" JSON_INTEGER_FORMAT " is above the maximum %g",
					   v, json_number_value(hi));
		return 0;
	}
	if (lo && json_real_value(value) < json_number_value(lo))
		return schema_fail(err, err_len, -EINVAL, path, "%g is below the minimum %g", json_real_value(value),
				   json_number_value(lo));
	if (hi && json_real_value(value) > json_number_value(hi))
		return schema_fail(err, err_len, -EINVAL, path, "%g is above the maximum %g", json_real_value(value),
				   json_number_value(hi));
	return 0;
}

static int schema_validate_at(const json_t *doc, const json_t *schema, const json_t *value, const char *path,
			      char *err, size_t err_len)
{
	const json_t *type, *choices;
	const char *type_name;
	int rc;

	schema = schema_resolve(doc, schema);
	if (!schema)
		return schema_fail(err, err_len, -ENOTSUP, path, "schema $ref does not resolve");
	rc = schema_check_keywords(schema, path, err, err_len);
	if (rc)
		return rc;
	type = json_object_get(schema, "type");
	type_name = json_string_value(type);
	if (type && !type_name)
		return schema_fail(err, err_len, -ENOTSUP, path, "schema type must be a string");
	if (type_name && strcmp(type_name, "object") && strcmp(type_name, "array") && strcmp(type_name, "string") &&
	    strcmp(type_name, "integer") && strcmp(type_name, "number") && strcmp(type_name, "boolean"))
		return schema_fail(err, err_len, -ENOTSUP, path, "schema type '%s' is not supported", type_name);
	if (type_name && !schema_type_is(value, type_name))
		return schema_fail(err, err_len, -EINVAL, path, "expected %s %s, got %s",
				   type_name[0] == 'i' || type_name[0] == 'a' || type_name[0] == 'o' ? "an" : "a",
				   type_name, schema_type_of(value));
	choices = json_object_get(schema, "enum");
	if (choices) {
		const json_t *c;
		size_t i;
		bool found = false;

		if (!json_is_array(choices))
			return schema_fail(err, err_len, -ENOTSUP, path, "enum must be an array");
		json_array_foreach(choices, i, c)
			found |= json_equal((json_t *)c, (json_t *)value);
		if (!found) {
			char list[160] = "";
			size_t used = 0;

			json_array_foreach(choices, i, c) {
				char *text = json_dumps(c, JSON_ENCODE_ANY);

				if (text && used < sizeof(list))
					used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "",
								 text);
				free(text);
			}
			return schema_fail(err, err_len, -EINVAL, path, "must be one of %s", list);
		}
	}
	if (json_is_object(value))
		return schema_validate_object(doc, schema, value, path, err, err_len);
	if (json_is_array(value))
		return schema_validate_array(doc, schema, value, path, err, err_len);
	if (json_is_string(value))
		return schema_validate_string(schema, value, path, err, err_len);
	if (json_is_number(value))
		return schema_validate_number(schema, value, path, err, err_len);
	return 0;
}

int schema_validate(const json_t *doc, const json_t *schema, const json_t *value, const char *name, char *err,
		    size_t err_len)
{
	if (!schema || !value)
		return schema_fail(err, err_len, -EINVAL, name ? name : "$", "nothing to validate");
	return schema_validate_at(doc, schema, value, name ? name : "$", err, err_len);
}

int schema_parse_parameter(const json_t *doc, const json_t *schema, const char *text, const char *name,
			   json_t **out, char *err, size_t err_len)
{
	const json_t *resolved = schema_resolve(doc, schema);
	const char *type = resolved ? json_string_value(json_object_get(resolved, "type")) : NULL;
	json_t *value;
	int rc;

	*out = NULL;
	if (!type)
		return schema_fail(err, err_len, -ENOTSUP, name, "parameter schema has no type");
	if (!strcmp(type, "integer")) {
		const char *p = text + (text[0] == '-');
		char *end;
		long long v;

		if (!*p || (p[0] == '0' && p[1]) || strspn(p, "0123456789") != strlen(p))
			return schema_fail(err, err_len, -EINVAL, name, "'%.32s' is not an integer", text);
		errno = 0;
		v = strtoll(text, &end, 10);
		if (errno)
			return schema_fail(err, err_len, -EINVAL, name, "'%.32s' is out of range", text);
		value = json_integer(v);
	} else if (!strcmp(type, "boolean")) {
		if (strcmp(text, "true") && strcmp(text, "false"))
			return schema_fail(err, err_len, -EINVAL, name, "'%.32s' is not true or false", text);
		value = json_boolean(!strcmp(text, "true"));
	} else if (!strcmp(type, "string")) {
		value = json_string(text);
		if (!value)
			return schema_fail(err, err_len, -EINVAL, name, "is not valid UTF-8");
	} else {
		return schema_fail(err, err_len, -ENOTSUP, name, "parameters of type %s are not supported", type);
	}
	if (!value)
		return -ENOMEM;
	rc = schema_validate(doc, resolved, value, name, err, err_len);
	if (rc) {
		json_decref(value);
		return rc;
	}
	*out = value;
	return 0;
}

static int schema_check_at(const json_t *doc, const json_t *schema, const char *path, int depth, char *err,
			   size_t err_len)
{
	const json_t *resolved = schema_resolve(doc, schema), *v;
	char sub[SCHEMA_PATH_MAX];
	const char *key;
	int rc;

	if (depth > 32)
		return schema_fail(err, err_len, -ENOTSUP, path, "schema nests too deeply (recursive $ref?)");
	if (!resolved)
		return schema_fail(err, err_len, -ENOTSUP, path, "schema $ref does not resolve");
	rc = schema_check_keywords(resolved, path, err, err_len);
	if (rc)
		return rc;
	json_object_foreach((json_t *)json_object_get(resolved, "properties"), key, v) {
		snprintf(sub, sizeof(sub), "%s.%s", path, key);
		rc = schema_check_at(doc, v, sub, depth + 1, err, err_len);
		if (rc)
			return rc;
	}
	v = json_object_get(resolved, "items");
	if (v) {
		snprintf(sub, sizeof(sub), "%s[]", path);
		return schema_check_at(doc, v, sub, depth + 1, err, err_len);
	}
	v = json_object_get(resolved, "pattern");
	if (v) {
		regex_t re;

		if (!json_is_string(v) || regcomp(&re, json_string_value(v), REG_EXTENDED | REG_NOSUB))
			return schema_fail(err, err_len, -ENOTSUP, path, "pattern is not a POSIX extended regex");
		regfree(&re);
	}
	return 0;
}

int schema_check(const json_t *doc, const json_t *schema, char *err, size_t err_len)
{
	return schema_check_at(doc, schema, "$", 0, err, err_len);
}
