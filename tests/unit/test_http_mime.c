/* SPDX-License-Identifier: BSD-3-Clause
 *
 * test_http_mime.c: content types by extension (dataplane/http/http_mime.c): one row per
 * path, with the type it must get.
 */
#include <string.h>

#include "compiler.h"
#include "http_mime.h"
#include "test_guard.h"
#include "test_main.h"

static const struct {
	const char *path;
	const char *type;
} mime_cases[] = {
	{"/v/init.mp4", "video/mp4"},
	{"/v/seg-00001.m4s", "video/iso.segment"},
	{"/a/audio.m4a", "audio/mp4"},
	{"/v/video.m4v", "video/mp4"},
	{"/v/seg-1.ts", "video/mp2t"},
	{"/v/master.m3u8", "application/vnd.apple.mpegurl"},
	{"/v/manifest.mpd", "application/dash+xml"},
	{"/s/en.vtt", "text/vtt"},
	{"/k/seg.key", "application/octet-stream"},
	{"/meta/info.json", "application/json"},
	{"/V/UPPER.MP4", "video/mp4"},
	{"/v/Mixed.M3u8", "application/vnd.apple.mpegurl"},
	{"/v/archive.tar.ts", "video/mp2t"},
	{"/v/readme", "application/octet-stream"},
	{"/v/trailing.", "application/octet-stream"},
	{"/dir.mp4/file", "application/octet-stream"},
	{"/v/.mp4", "video/mp4"},
	{"/v/a.mp44", "application/octet-stream"},
	{"/v/a.html", "application/octet-stream"},
	{"", "application/octet-stream"},
	{"/", "application/octet-stream"},
};

static void test_mime_table(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(mime_cases); i++) {
		size_t len = strlen(mime_cases[i].path), type_len = 0;
		struct guard_buffer guard;
		const char *type;

		CU_ASSERT_EQUAL_FATAL(guard_buffer_place(&guard, mime_cases[i].path, len), 0);
		type = http_mime_type(guard.data, len, &type_len);
		guard_buffer_release(&guard);
		TEST_CHECK(strcmp(type, mime_cases[i].type) == 0 && type_len == strlen(type),
			   "%s: %s (%zu), expected %s", mime_cases[i].path, type, type_len, mime_cases[i].type);
	}
	CU_ASSERT_STRING_EQUAL(http_mime_type("/a.mpd", 6, NULL), "application/dash+xml");
}

void test_register(void)
{
	static const struct test_case cases[] = {
		{"extension table", test_mime_table},
		{NULL, NULL},
	};
	test_add_suite("http_mime", cases);
}
