/* SPDX-License-Identifier: BSD-3-Clause
 *
 * catalog_file.h: the store catalog file as the control plane reads and extends it (the
 * format is dataplane/store/catalog.h's; the data plane loads it on CATALOG_RELOAD).
 *
 * Reading gives the entries sorted by path (for GET /v1/catalog) and the inventory digest
 * reported to the backend: SHA-256 over the lines "<path>\t<sha256>\n" in path order, so two
 * edges with the same content report the same digest whatever the order of their files.
 *
 * Merging adds or replaces entries (by path) and writes the whole file atomically, the way
 * store_catalog_build does (temporary file in the same directory, fsync, rename, fsync of the
 * directory), with a version above the previous one and never below the current time in
 * seconds (sluice-catalog's convention), so the data plane sees a new version. Entries this
 * module does not know are copied as they are. Callers serialise merges (one writer).
 */
#ifndef SLUICE_CONTROL_CATALOG_FILE_H
#define SLUICE_CONTROL_CATALOG_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct catalog_entry {
	char *path;                    /* URL path */
	char *file;                    /* relative to the store root */
	uint64_t size;
	char sha256[65];
	int64_t mtime;
	char *content_type;            /* NULL when absent */
};

struct catalog_listing {
	uint64_t version;
	size_t count;
	struct catalog_entry *entries; /* sorted by path */
	char digest[65];               /* inventory digest, hex */
	/* identity of the file read */
	dev_t dev;
	ino_t ino;
	off_t size;
	int64_t mtime_ns;
};

/* Reads path: 0, -ENOENT, or -EINVAL with the reason in err. */
int catalog_file_read(const char *path, struct catalog_listing *out, char *err, size_t err_len);
void catalog_listing_free(struct catalog_listing *listing);
/* True when path is not the file listing was read from (or it changed). */
int catalog_file_changed(const struct catalog_listing *listing, const char *path);

/* Adds or replaces entries by path and writes path atomically (a missing file starts empty).
 * 0 with the new version in *version, or -errno with the reason in err (nothing changed). */
int catalog_file_merge(const char *path, const struct catalog_entry *add, size_t count, uint64_t *version,
		       char *err, size_t err_len);

#endif /* SLUICE_CONTROL_CATALOG_FILE_H */
