/* SPDX-License-Identifier: BSD-3-Clause
 *
 * schema.h: validating JSON request bodies and text parameters against the schemas of
 * control/openapi.json, the REST API's OpenAPI 3 document.
 *
 * The document is the one source of truth for what the API accepts: sluice-control embeds it,
 * looks up each route's request body and parameter schemas in it, and validates every request
 * with this module before a handler runs. A constraint written in the document is therefore a
 * constraint enforced, and the unit tests only have to check that routes and document list the
 * same operations.
 *
 * The supported subset of JSON Schema (as OpenAPI 3.0 uses it): type (object, array, string,
 * integer, number, boolean), properties, required, additionalProperties (boolean), enum,
 * minimum, maximum, minLength, maxLength (in characters), pattern (POSIX extended regular
 * expression: write it anchored, "^...$", without \d or lookarounds), items, minItems,
 * maxItems, $ref to "#/components/schemas/NAME"; description, title, example, default,
 * format and readOnly are annotations. Any other keyword makes validation fail with -ENOTSUP
 * ("the document promises a check this validator does not make"), so the document cannot
 * drift into constraints that nothing enforces. Strings containing NUL are always refused,
 * integers must be written as integers (1.0 is not an integer here).
 *
 * Errors name the place in the value ("$.files[2].sha256: ...") in a caller's buffer.
 */
#ifndef SLUICE_CONTROL_SCHEMA_H
#define SLUICE_CONTROL_SCHEMA_H

#include <jansson.h>
#include <stddef.h>

#define SCHEMA_ERROR_MAX 256

/* Validates value against schema; $refs resolve in doc. Returns 0, -EINVAL (value invalid,
 * err says where and why) or -ENOTSUP (the schema uses an unsupported keyword, or a $ref does
 * not resolve: a document error). name is the root of paths in messages ("$", "query.limit"). */
int schema_validate(const json_t *doc, const json_t *schema, const json_t *value, const char *name, char *err,
		    size_t err_len);

/* Converts a text parameter (query string or path segment) into the JSON value its schema's
 * type calls for ("10" -> 10 for an integer schema, "true" -> true for a boolean), then
 * validates it. *out is a new reference on success. Integers: optional '-', decimal digits,
 * no leading zeros or '+'. Returns like schema_validate. */
int schema_parse_parameter(const json_t *doc, const json_t *schema, const char *text, const char *name,
			   json_t **out, char *err, size_t err_len);

/* Follows a "$ref" (if any) to the schema it names; NULL if it does not resolve. */
const json_t *schema_resolve(const json_t *doc, const json_t *schema);

/* Checks that every keyword in schema (recursively, following $refs) is supported. 0 or
 * -ENOTSUP with the keyword's place in err. Used at start-up and by the tests. */
int schema_check(const json_t *doc, const json_t *schema, char *err, size_t err_len);

#endif /* SLUICE_CONTROL_SCHEMA_H */
