/* SPDX-License-Identifier: BSD-3-Clause
 *
 * http_mime.h: Content-Type by file extension for what a video edge serves (hot path).
 *
 * A fixed table rather than /etc/mime.types: the set of types players need is small and
 * known (CMAF/fMP4 and MPEG-TS media, HLS and DASH manifests, WebVTT subtitles, HLS keys,
 * JSON), a lookup must not depend on what the host has installed, and segments must get
 * exactly the type players and their MSE pipelines expect (video/iso.segment for .m4s, per
 * RFC 8216bis and the IANA registration). Matching ignores ASCII case; the extension is what
 * follows the last '.' of the last path segment. Unknown or missing extensions are
 * application/octet-stream. The catalog can call this once per file and keep the result.
 */
#ifndef SLUICE_HTTP_MIME_H
#define SLUICE_HTTP_MIME_H

#include <stddef.h>

#define HTTP_MIME_DEFAULT "application/octet-stream"

/* The Content-Type for path[0..len); *type_len (if not NULL) gets its length. Never NULL. */
const char *http_mime_type(const char *path, size_t len, size_t *type_len);

#endif /* SLUICE_HTTP_MIME_H */
