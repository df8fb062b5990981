/* SPDX-License-Identifier: BSD-3-Clause
 *
 * catalog.c: loading, looking up and building the store catalog (see catalog.h).
 * Control path except store_catalog_lookup, which runs per request and only reads.
 */
#include "catalog.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compiler.h"
#include "log.h"
#include "net/siphash.h"
#include "store_resident.h"

static const struct siphash_key catalog_hash_key = {0x736c756963652d63ULL, 0x6174616c6f672d31ULL};

static uint32_t catalog_hash(const char *path, size_t len)
{
	/* Paths come from the catalog, not from attackers, but requests probe the index with
	 * arbitrary paths: a keyed hash keeps probe lengths short for any input. */
	return (uint32_t)siphash24(&catalog_hash_key, path, len);
}

const struct store_file *store_catalog_lookup(const struct store_catalog *cat, const char *path, size_t path_len)
{
	uint32_t i;

	if (!cat || !cat->count || path_len >= STORE_PATH_MAX)
		return NULL;
	i = catalog_hash(path, path_len);
	for (uint32_t n = 0; n <= cat->index_mask; n++, i++) {
		uint32_t slot = cat->index[i & cat->index_mask];
		const struct store_file *f;

		if (!slot)
			return NULL;
		f = &cat->files[slot - 1];
		if (f->path_len == path_len && !memcmp(f->path, path, path_len))
			return f;
	}
	return NULL;
}

void store_catalog_free(struct store_catalog *cat)
{
	if (!cat)
		return;
	for (uint32_t i = 0; i < cat->count; i++) {
		if (cat->files[i].map)
			munmap((void *)cat->files[i].map, cat->files[i].size);
		if (cat->files[i].fd >= 0)
			close(cat->files[i].fd);
	}
	free(cat->resident_words);
	free(cat->files);
	free(cat->index);
	free(cat);
}

static int hex_decode(const char *hex, uint8_t *out, size_t out_len)
{
	if (strlen(hex) != out_len * 2)
		return -1;
	for (size_t i = 0; i < out_len; i++) {
		unsigned v;
		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	return 0;
}

/* Opens and maps one file, keeping the descriptor; 0, or -errno with the reason logged. */
static int catalog_map_file(const char *store_root, const char *rel, struct store_file *f)
{
	char full[STORE_PATH_MAX * 2];
	struct stat st;
	int fd, rc = 0;

	f->fd = -1;
	if (rel[0] == '/' || strstr(rel, "..")) {
		log_warn("catalog: %s: file must be relative to the store root without '..'", f->path);
		return -EINVAL;
	}
	snprintf(full, sizeof(full), "%s/%s", store_root, rel);
	fd = open(full, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		log_warn("catalog: %s: cannot open %s: %s", f->path, full, strerror(errno));
		return rc;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		log_warn("catalog: %s: %s is not a regular file", f->path, full);
		close(fd);
		return -EINVAL;
	}
	if ((uint64_t)st.st_size != f->size) {
		log_warn("catalog: %s: %s has %lld bytes, the catalog says %llu", f->path, full,
			 (long long)st.st_size, (unsigned long long)f->size);
		close(fd);
		return -EINVAL;
	}
	if (f->size) {
		void *map = mmap(NULL, f->size, PROT_READ, MAP_SHARED, fd, 0);
		if (map == MAP_FAILED) {
			rc = -errno;
			log_warn("catalog: %s: cannot map %s: %s", f->path, full, strerror(errno));
		} else {
			/* No read-around on faults: page-ins are explicit, sized ranges
			 * (store_pagein.c), and a 16 KiB range must not read megabytes. */
			madvise(map, f->size, MADV_RANDOM);
			f->map = map;
			f->fd = fd;
			return 0;
		}
	}
	close(fd);
	return rc;
}

/* One allocation for every file's residency bitmap, all bits clear (not resident) until the
 * first sweep (store_resident_sweep_catalog). */
static int catalog_bitmaps(struct store_catalog *cat)
{
	size_t words = 0, at = 0;

	for (uint32_t i = 0; i < cat->count; i++) {
		struct store_file *f = &cat->files[i];

		f->chunk_count = (uint32_t)((f->size + STORE_CHUNK_BYTES - 1) >> STORE_CHUNK_SHIFT);
		words += (f->chunk_count + 63) / 64;
		cat->total_bytes += f->size;
	}
	cat->resident_words = calloc(words ? words : 1, sizeof(uint64_t));
	if (!cat->resident_words)
		return -ENOMEM;
	for (uint32_t i = 0; i < cat->count; i++) {
		struct store_file *f = &cat->files[i];

		f->resident = cat->resident_words + at;
		f->catalog = cat;
		at += (f->chunk_count + 63) / 64;
	}
	return 0;
}

static int catalog_fail(char *err, size_t err_len, const char *fmt, ...) sluice_printf(3, 4);
static int catalog_fail(char *err, size_t err_len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, err_len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

struct store_catalog *store_catalog_load(const char *store_root, const char *catalog_path, char *err,
					 size_t err_len)
{
	struct store_catalog *cat = NULL;
	json_error_t jerr;
	json_t *root, *files, *entry;
	size_t i, slots = 16;

	root = json_load_file(catalog_path, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		catalog_fail(err, err_len, "%s:%d: %s", catalog_path, jerr.line, jerr.text);
		return NULL;
	}
	files = json_object_get(root, "files");
	if (!json_is_object(root) || !json_is_integer(json_object_get(root, "version")) || !json_is_array(files)) {
		catalog_fail(err, err_len, "%s: expected {\"version\": N, \"files\": [...]}", catalog_path);
		goto fail;
	}
	cat = calloc(1, sizeof(*cat));
	if (!cat)
		goto oom;
	cat->version = (uint64_t)json_integer_value(json_object_get(root, "version"));
	cat->files = calloc(json_array_size(files) ? json_array_size(files) : 1, sizeof(*cat->files));
	while (slots < 2 * json_array_size(files))
		slots <<= 1;
	cat->index = calloc(slots, sizeof(*cat->index));
	if (!cat->files || !cat->index)
		goto oom;
	cat->index_mask = (uint32_t)slots - 1;
	json_array_foreach(files, i, entry) {
		struct store_file *f = &cat->files[cat->count];
		const char *path, *file, *sha, *ctype;
		json_int_t size, mtime;
		uint32_t h;

		if (json_unpack_ex(entry, &jerr, JSON_STRICT, "{s:s, s:s, s:I, s:s, s:I, s?:s}", "path", &path, "file",
				   &file, "size", &size, "sha256", &sha, "mtime", &mtime, "content_type", &ctype) ) {
			catalog_fail(err, err_len, "%s: files[%zu]: %s", catalog_path, i, jerr.text);
			goto fail;
		}
		if (json_unpack(entry, "{s:s}", "content_type", &ctype))
			ctype = "";
		if (path[0] != '/' || strlen(path) >= STORE_PATH_MAX || size < 0 ||
		    strlen(ctype) >= STORE_CONTENT_TYPE_MAX || hex_decode(sha, f->sha256, 32)) {
			catalog_fail(err, err_len, "%s: files[%zu] (%s): bad path, size, sha256 or content_type",
				     catalog_path, i, path);
			goto fail;
		}
		if (store_catalog_lookup(cat, path, strlen(path))) {
			catalog_fail(err, err_len, "%s: files[%zu]: path %s listed twice", catalog_path, i, path);
			goto fail;
		}
		memset(f, 0, sizeof(*f));
		hex_decode(sha, f->sha256, 32);
		f->path_len = (uint32_t)strlen(path);
		memcpy(f->path, path, f->path_len + 1);
		f->size = (uint64_t)size;
		f->mtime = (time_t)mtime;
		snprintf(f->content_type, sizeof(f->content_type), "%s", ctype);
		/* Strong ETag: the first 80 bits of the content hash, in hex. */
		snprintf(f->etag, sizeof(f->etag), "\"%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x\"", f->sha256[0],
			 f->sha256[1], f->sha256[2], f->sha256[3], f->sha256[4], f->sha256[5], f->sha256[6],
			 f->sha256[7], f->sha256[8], f->sha256[9]);
		if (catalog_map_file(store_root, file, f)) {
			memset(f, 0, sizeof(*f));
			cat->rejected++;
			continue;
		}
		f->id = cat->count;
		h = catalog_hash(f->path, f->path_len);
		while (cat->index[h & cat->index_mask])
			h++;
		cat->index[h & cat->index_mask] = ++cat->count;
	}
	json_decref(root);
	if (catalog_bitmaps(cat)) {
		catalog_fail(err, err_len, "%s: out of memory", catalog_path);
		store_catalog_free(cat);
		return NULL;
	}
	return cat;
oom:
	catalog_fail(err, err_len, "%s: out of memory", catalog_path);
fail:
	json_decref(root);
	store_catalog_free(cat);
	return NULL;
}

/* --- building ------------------------------------------------------------------------------ */

static int sha256_file(const char *full, uint8_t digest[32], uint64_t *size)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t buf[1 << 16];
	ssize_t n;
	int fd, rc = 0;

	if (!ctx)
		return -ENOMEM;
	fd = open(full, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		EVP_MD_CTX_free(ctx);
		return -errno;
	}
	*size = 0;
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		EVP_DigestUpdate(ctx, buf, (size_t)n);
		*size += (uint64_t)n;
	}
	if (n < 0)
		rc = -errno;
	EVP_DigestFinal_ex(ctx, digest, NULL);
	EVP_MD_CTX_free(ctx);
	close(fd);
	return rc;
}

static int catalog_scan(const char *root, const char *rel, json_t *files, char *err, size_t err_len)
{
	char dir_path[STORE_PATH_MAX * 2];
	struct dirent *de;
	DIR *dir;
	int rc = 0;

	snprintf(dir_path, sizeof(dir_path), "%s%s%s", root, rel[0] ? "/" : "", rel);
	dir = opendir(dir_path);
	if (!dir)
		return catalog_fail(err, err_len, "%s: %s", dir_path, strerror(errno)), -errno;
	while (!rc && (de = readdir(dir))) {
		char child_rel[STORE_PATH_MAX], full[STORE_PATH_MAX * 2], hex[65], url[STORE_PATH_MAX + 1];
		struct stat st;
		uint8_t digest[32];
		uint64_t size;

		if (de->d_name[0] == '.' || (!rel[0] && !strcmp(de->d_name, "catalog.json")))
			continue;
		if ((size_t)snprintf(child_rel, sizeof(child_rel), "%s%s%s", rel, rel[0] ? "/" : "", de->d_name) >=
		    sizeof(child_rel) - 1)
			continue;
		snprintf(full, sizeof(full), "%s/%s", root, child_rel);
		if (lstat(full, &st))
			continue;
		if (S_ISDIR(st.st_mode)) {
			rc = catalog_scan(root, child_rel, files, err, err_len);
			continue;
		}
		if (!S_ISREG(st.st_mode))
			continue;
		rc = sha256_file(full, digest, &size);
		if (rc) {
			catalog_fail(err, err_len, "%s: %s", full, strerror(-rc));
			break;
		}
		for (int i = 0; i < 32; i++)
			snprintf(hex + 2 * i, 3, "%02x", digest[i]);
		snprintf(url, sizeof(url), "/%s", child_rel);
		json_array_append_new(files, json_pack("{s:s, s:s, s:I, s:s, s:I}", "path", url, "file", child_rel,
						       "size", (json_int_t)size, "sha256", hex, "mtime",
						       (json_int_t)st.st_mtim.tv_sec));
	}
	closedir(dir);
	return rc;
}

int store_catalog_build(const char *store_root, const char *catalog_path, uint64_t version, char *err,
			size_t err_len)
{
	char tmp[STORE_PATH_MAX * 2];
	json_t *root = json_object(), *files = json_array();
	int rc, fd, count;
	FILE *f;

	json_object_set_new(root, "version", json_integer((json_int_t)version));
	json_object_set(root, "files", files);
	rc = catalog_scan(store_root, "", files, err, err_len);
	count = (int)json_array_size(files);
	json_decref(files);
	if (rc) {
		json_decref(root);
		return rc;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", catalog_path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		rc = -errno;
		catalog_fail(err, err_len, "%s: %s", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		json_decref(root);
		return rc;
	}
	rc = json_dumpf(root, f, JSON_INDENT(1) | JSON_SORT_KEYS) ? -EIO : 0;
	json_decref(root);
	if (!rc && (fflush(f) || fsync(fd)))
		rc = -errno;
	if (fclose(f) && !rc)
		rc = -errno;
	if (!rc && rename(tmp, catalog_path))
		rc = -errno;
	if (rc) {
		unlink(tmp);
		catalog_fail(err, err_len, "writing %s: %s", catalog_path, strerror(-rc));
		return rc;
	}
	return count;
}
