/* SPDX-License-Identifier: BSD-3-Clause
 *
 * fuzz_http_parse.c: libFuzzer target for the request-head parser. Each input is parsed
 * whole and then fed in two pieces split at a point the input chooses (resuming the same
 * parser state); both must give the same result, and every slice must lie inside the buffer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_parse.h"

static void check_slice(const char *buf, size_t len, struct http_slice s)
{
	if (s.ptr && (s.ptr < buf || s.ptr + s.len > buf + len))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct http_limits limits = {.max_request_line = 512, .max_header_bytes = 2048, .max_headers = 32};
	struct http_parser whole, split;
	struct http_request a, b;
	size_t cut;
	char *buf;
	int ra, rb;

	if (size < 1)
		return 0;
	cut = data[0] % (size);
	data++, size--;
	buf = malloc(size ? size : 1); /* exactly sized: ASan catches any read past the end */
	memcpy(buf, data, size);
	http_parser_init(&whole);
	ra = http_parse_request(&whole, buf, size, &limits, &a);
	http_parser_init(&split);
	rb = http_parse_request(&split, buf, cut < size ? cut : size, &limits, &b);
	if (rb == HTTP_PARSE_PARTIAL)
		rb = http_parse_request(&split, buf, size, &limits, &b);
	if (ra != rb && !(ra < 0 && rb < 0 && ra != HTTP_PARSE_PARTIAL && rb != HTTP_PARSE_PARTIAL))
		abort(); /* the split changed a success into something else (errors may differ by limit) */
	if (ra > 0) {
		if ((size_t)ra > size)
			abort();
		check_slice(buf, size, a.path);
		check_slice(buf, size, a.query);
		check_slice(buf, size, a.host);
		check_slice(buf, size, a.range);
		for (uint32_t i = 0; i < a.header_count; i++) {
			check_slice(buf, size, a.headers[i].name);
			check_slice(buf, size, a.headers[i].value);
		}
		if (b.header_count != a.header_count || b.path.len != a.path.len)
			abort();
	}
	free(buf);
	return 0;
}
