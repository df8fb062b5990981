/* SPDX-License-Identifier: BSD-3-Clause
 *
 * catalog.h: the segment store's catalog — which files the edge serves, under which URL
 * paths, with which validators.
 *
 * The catalog file (JSON, <store_root>/catalog.json by default) is the contract between
 * whoever puts content on the box (sluice-catalog, the control plane's fill) and the data
 * plane that serves it:
 *
 *   {"version": 7, "files": [
 *     {"path": "/video/a/seg1.m4s", "file": "video/a/seg1.m4s", "size": 2097152,
 *      "sha256": "<64 hex>", "mtime": 1732900000, "content_type": "video/iso.segment"}, ...]}
 *
 * path is the URL path players request; file is relative to the store root; the ETag is
 * derived from sha256 (strong: the content's own hash), Last-Modified from mtime;
 * content_type is optional (by extension otherwise). Files are immutable once listed: new
 * content comes as new files and a new catalog version.
 *
 * Loading (control path) parses the file, opens and maps every listed file read-only, checks
 * its size against the catalog, and builds a read-only hash index. The loaded struct
 * store_catalog is never modified afterwards, so worker lcores read it without locks.
 */
#ifndef SLUICE_STORE_CATALOG_H
#define SLUICE_STORE_CATALOG_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define STORE_PATH_MAX 512
#define STORE_ETAG_MAX 24           /* "\"" + 20 hex + "\"" + NUL */
#define STORE_CONTENT_TYPE_MAX 48

struct store_file {
	const uint8_t *map;         /* read-only mapping of the whole file (NULL when size is 0) */
	uint64_t size;
	time_t mtime;
	uint32_t path_len;
	uint32_t id;                /* index in the catalog: access logs name files by it */
	char etag[STORE_ETAG_MAX];
	char content_type[STORE_CONTENT_TYPE_MAX]; /* "" = by extension (HTTP layer) */
	uint8_t sha256[32];
	char path[STORE_PATH_MAX];  /* URL path */
};

struct store_catalog {
	uint64_t version;
	uint32_t count;
	uint32_t index_mask;        /* open-addressing index: slots - 1 */
	uint32_t *index;            /* file index + 1, 0 = empty */
	struct store_file *files;
	uint32_t rejected;          /* entries skipped at load (missing, wrong size) */
};

/* Loads catalog_path and maps the files under store_root. Returns NULL with a message naming
 * the problem in err. Entries whose file is missing or has another size are skipped and
 * counted (rejected), each logged; a malformed catalog file fails as a whole. */
struct store_catalog *store_catalog_load(const char *store_root, const char *catalog_path, char *err,
					 size_t err_len);
void store_catalog_free(struct store_catalog *cat);

/* Per request: the file for an exact URL path, or NULL. */
const struct store_file *store_catalog_lookup(const struct store_catalog *cat, const char *path, size_t path_len);

/* Writes a catalog for every regular file under store_root (recursively, skipping
 * catalog.json and dot files) to catalog_path atomically: temporary file, fsync, rename.
 * Returns the number of files or -errno, with a message in err. */
int store_catalog_build(const char *store_root, const char *catalog_path, uint64_t version, char *err,
			size_t err_len);

#endif /* SLUICE_STORE_CATALOG_H */
