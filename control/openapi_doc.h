/* SPDX-License-Identifier: BSD-3-Clause
 *
 * openapi_doc.h: control/openapi.json, embedded in the binary at build time (meson runs xxd
 * over it), so the document the daemon validates requests with and serves at
 * GET /v1/openapi.json is byte for byte the one in the source tree.
 */
#ifndef SLUICE_CONTROL_OPENAPI_DOC_H
#define SLUICE_CONTROL_OPENAPI_DOC_H

#include <stddef.h>

extern const unsigned char openapi_json[];
extern const size_t openapi_json_len;

#endif /* SLUICE_CONTROL_OPENAPI_DOC_H */
