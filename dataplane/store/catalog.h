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
 * its size against the catalog, and builds a read-only hash index. What the lcores look up
 * (paths, sizes, validators, mappings) is never modified afterwards, so they read it without
 * locks. Three things in it do change while it is served, each with one writer and atomic
 * access, and are documented where they live: the residency bitmaps (store_resident.h: the
 * main thread's sweep and the page-in helpers write, lcores read), a file's `broken` flag
 * (set once by whoever sees the file shrink: sweep, helper or an lcore's SIGBUS guard), and the
 * catalog's count of page-in requests in flight (lcores add, helpers subtract; the main thread
 * frees a replaced catalog only when it is zero and no lcore holds the catalog).
 *
 * Each listed file keeps its descriptor open for the catalog's lifetime: the sweep checks its
 * size with fstat (a file truncated under the mapping would raise SIGBUS on access) and a
 * file unlinked from the store stays readable through it and its mapping, so responses that
 * started before a catalog swap finish byte-exact. Cost: one descriptor per file per live
 * catalog generation (main.c raises RLIMIT_NOFILE to its hard limit).
 */
#ifndef SLUICE_STORE_CATALOG_H
#define SLUICE_STORE_CATALOG_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define STORE_PATH_MAX 512
#define STORE_ETAG_MAX 24           /* "\"" + 20 hex + "\"" + NUL */
#define STORE_CONTENT_TYPE_MAX 48

struct store_catalog;

struct store_file {
	const uint8_t *map;         /* read-only mapping of the whole file (NULL when size is 0) */
	uint64_t size;
	time_t mtime;
	uint32_t path_len;
	uint32_t id;                /* index in the catalog: access logs name files by it */
	int fd;                     /* open for the catalog's lifetime (-1 when size is 0) */
	uint32_t chunk_count;       /* residency chunks (store_resident.h) */
	uint64_t *resident;         /* residency bitmap: bit i = chunk i is in the page cache */
	volatile uint32_t broken;   /* nonzero once the file was found shorter than size */
	uint32_t broken_logged;     /* main thread: the sweep reported it */
	struct store_catalog *catalog; /* the catalog this entry belongs to */
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
	uint32_t pad;
	uint64_t *resident_words;   /* every file's bitmap, one allocation */
	volatile uint32_t pagein_pending; /* page-in requests in flight (store_pagein.h) */
	/* Main thread only: where the residency sweep continues (store_resident_sweep). */
	uint32_t sweep_file;
	uint64_t sweep_offset;
	uint64_t total_bytes;       /* sum of file sizes */
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
