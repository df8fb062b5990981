/* SPDX-License-Identifier: BSD-3-Clause
 *
 * http_mime.c: the extension table (hot path; see http_mime.h).
 */
#include "http_mime.h"

#include <stdint.h>

#include "compiler.h"
#include "http_parse.h"

#define MIME_ENTRY(extension, type) {extension, sizeof(extension) - 1, type, sizeof(type) - 1}
static const struct mime_entry {
	const char *extension; /* without the dot, lowercase */
	uint8_t extension_len;
	const char *type;
	uint8_t type_len;
} mime_table[] = {
	MIME_ENTRY("mp4", "video/mp4"),
	MIME_ENTRY("m4s", "video/iso.segment"),
	MIME_ENTRY("m4a", "audio/mp4"),
	MIME_ENTRY("m4v", "video/mp4"),
	MIME_ENTRY("ts", "video/mp2t"),
	MIME_ENTRY("m3u8", "application/vnd.apple.mpegurl"),
	MIME_ENTRY("mpd", "application/dash+xml"),
	MIME_ENTRY("vtt", "text/vtt"),
	MIME_ENTRY("key", "application/octet-stream"),
	MIME_ENTRY("json", "application/json"),
};
#undef MIME_ENTRY

const char *http_mime_type(const char *path, size_t len, size_t *type_len)
{
	size_t dot = len;

	for (size_t i = len; i > 0; i--) {
		if (path[i - 1] == '/')
			break;
		if (path[i - 1] == '.') {
			dot = i - 1;
			break;
		}
	}
	if (dot < len) {
		const char *extension = path + dot + 1;
		size_t extension_len = len - dot - 1;

		for (size_t i = 0; i < ARRAY_SIZE(mime_table); i++)
			if (mime_table[i].extension_len == extension_len &&
			    http_ascii_case_equal(mime_table[i].extension, extension, extension_len)) {
				if (type_len)
					*type_len = mime_table[i].type_len;
				return mime_table[i].type;
			}
	}
	if (type_len)
		*type_len = sizeof(HTTP_MIME_DEFAULT) - 1;
	return HTTP_MIME_DEFAULT;
}
