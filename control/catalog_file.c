/* SPDX-License-Identifier: BSD-3-Clause
 *
 * catalog_file.c: reading, digesting and merging the catalog file (catalog_file.h).
 */
#include "catalog_file.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <stdbool.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void catalog_listing_free(struct catalog_listing *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->count; i++) {
		free(l->entries[i].path);
		free(l->entries[i].file);
		free(l->entries[i].content_type);
	}
	free(l->entries);
	memset(l, 0, sizeof(*l));
}

static int catalog_entry_compare(const void *a, const void *b)
{
	return strcmp(((const struct catalog_entry *)a)->path, ((const struct catalog_entry *)b)->path);
}

static bool catalog_is_hex64(const char *s)
{
	if (strlen(s) != 64)
		return false;
	for (int i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') || (s[i] >= 'A' && s[i] <= 'F')))
			return false;
	return true;
}

static void catalog_digest(struct catalog_listing *l)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char digest[32];
	static const char hex[] = "0123456789abcdef";

	l->digest[0] = 0;
	if (!ctx)
		return;
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	for (size_t i = 0; i < l->count; i++) {
		char lower[65];

		for (int k = 0; k < 65; k++)
			lower[k] = (char)(l->entries[i].sha256[k] >= 'A' && l->entries[i].sha256[k] <= 'F'
						  ? l->entries[i].sha256[k] + 32
						  : l->entries[i].sha256[k]);
		EVP_DigestUpdate(ctx, l->entries[i].path, strlen(l->entries[i].path));
		EVP_DigestUpdate(ctx, "\t", 1);
		EVP_DigestUpdate(ctx, lower, 64);
		EVP_DigestUpdate(ctx, "\n", 1);
	}
	EVP_DigestFinal_ex(ctx, digest, NULL);
	EVP_MD_CTX_free(ctx);
	for (int i = 0; i < 32; i++) {
		l->digest[2 * i] = hex[digest[i] >> 4];
		l->digest[2 * i + 1] = hex[digest[i] & 15];
	}
	l->digest[64] = 0;
}

int catalog_file_read(const char *path, struct catalog_listing *out, char *err, size_t err_len)
{
	json_error_t jerr;
	json_t *root, *files, *e;
	struct stat st;
	size_t i;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (stat(path, &st)) {
		rc = -errno;
		snprintf(err, err_len, "%s: %s", path, strerror(errno));
		return rc;
	}
	root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		snprintf(err, err_len, "%s:%d: %s", path, jerr.line, jerr.text);
		return -EINVAL;
	}
	files = json_object_get(root, "files");
	if (!json_is_integer(json_object_get(root, "version")) || !json_is_array(files)) {
		snprintf(err, err_len, "%s: expected {\"version\": N, \"files\": [...]}", path);
		json_decref(root);
		return -EINVAL;
	}
	out->version = (uint64_t)json_integer_value(json_object_get(root, "version"));
	out->entries = calloc(json_array_size(files) + 1, sizeof(*out->entries));
	if (!out->entries) {
		json_decref(root);
		return -ENOMEM;
	}
	json_array_foreach(files, i, e) {
		const char *p, *f, *sha, *ctype = NULL;
		json_int_t size, mtime;
		struct catalog_entry *c = &out->entries[out->count];

		if (json_unpack_ex(e, &jerr, 0, "{s:s, s:s, s:I, s:s, s:I, s?:s}", "path", &p, "file", &f, "size", &size,
				   "sha256", &sha, "mtime", &mtime, "content_type", &ctype) ||
		    !catalog_is_hex64(sha) || size < 0) {
			snprintf(err, err_len, "%s: files[%zu]: bad entry", path, i);
			rc = -EINVAL;
			break;
		}
		c->path = strdup(p);
		c->file = strdup(f);
		c->content_type = ctype ? strdup(ctype) : NULL;
		c->size = (uint64_t)size;
		c->mtime = mtime;
		memcpy(c->sha256, sha, 65);
		out->count++;
		if (!c->path || !c->file || (ctype && !c->content_type)) {
			rc = -ENOMEM;
			break;
		}
	}
	json_decref(root);
	if (rc) {
		catalog_listing_free(out);
		return rc;
	}
	qsort(out->entries, out->count, sizeof(*out->entries), catalog_entry_compare);
	catalog_digest(out);
	out->dev = st.st_dev;
	out->ino = st.st_ino;
	out->size = st.st_size;
	out->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	return 0;
}

int catalog_file_changed(const struct catalog_listing *l, const char *path)
{
	struct stat st;

	if (stat(path, &st))
		return l->ino != 0;
	return st.st_dev != l->dev || st.st_ino != l->ino || st.st_size != l->size ||
	       (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec != l->mtime_ns;
}

static int catalog_write_all(int fd, const char *text, size_t len)
{
	while (len) {
		ssize_t n = write(fd, text, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		text += n;
		len -= (size_t)n;
	}
	return 0;
}

int catalog_file_merge(const char *path, const struct catalog_entry *add, size_t count, uint64_t *version,
		       char *err, size_t err_len)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	json_error_t jerr;
	json_t *root, *files, *index;
	uint64_t old_version = 0, new_version;
	char *text = NULL;
	int fd = -1, dir_fd, rc = 0;
	size_t i;
	json_t *e;

	if (access(path, F_OK) == 0) {
		root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
		if (!root) {
			snprintf(err, err_len, "%s:%d: %s", path, jerr.line, jerr.text);
			return -EINVAL;
		}
	} else {
		root = json_pack("{s:i, s:[]}", "version", 0, "files");
	}
	files = json_object_get(root, "files");
	if (!json_is_integer(json_object_get(root, "version")) || !json_is_array(files)) {
		snprintf(err, err_len, "%s: expected {\"version\": N, \"files\": [...]}", path);
		json_decref(root);
		return -EINVAL;
	}
	old_version = (uint64_t)json_integer_value(json_object_get(root, "version"));
	/* path -> position, to replace entries in place */
	index = json_object();
	json_array_foreach(files, i, e) {
		const char *p = json_string_value(json_object_get(e, "path"));

		if (p)
			json_object_set_new(index, p, json_integer((json_int_t)i));
	}
	for (size_t k = 0; k < count; k++) {
		json_t *entry = json_pack("{s:s, s:s, s:I, s:s, s:I}", "path", add[k].path, "file", add[k].file, "size",
					  (json_int_t)add[k].size, "sha256", add[k].sha256, "mtime",
					  (json_int_t)add[k].mtime);
		json_t *at = json_object_get(index, add[k].path);

		if (!entry) {
			rc = -EINVAL;
			snprintf(err, err_len, "entry %s is not valid UTF-8", add[k].path);
			break;
		}
		if (add[k].content_type)
			json_object_set_new(entry, "content_type", json_string(add[k].content_type));
		if (at) {
			json_array_set_new(files, (size_t)json_integer_value(at), entry);
		} else {
			json_object_set_new(index, add[k].path, json_integer((json_int_t)json_array_size(files)));
			json_array_append_new(files, entry);
		}
	}
	json_decref(index);
	new_version = old_version + 1;
	if (new_version < (uint64_t)time(NULL))
		new_version = (uint64_t)time(NULL);
	json_object_set_new(root, "version", json_integer((json_int_t)new_version));
	if (!rc) {
		text = json_dumps(root, JSON_INDENT(1));
		if (!text)
			rc = -ENOMEM;
	}
	json_decref(root);
	if (rc)
		goto cleanup;
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, err_len, "%s: %s", tmp, strerror(errno));
		goto cleanup;
	}
	rc = catalog_write_all(fd, text, strlen(text));
	if (!rc)
		rc = catalog_write_all(fd, "\n", 1);
	if (!rc && fsync(fd))
		rc = -errno;
	if (close(fd) && !rc)
		rc = -errno;
	fd = -1;
	if (!rc && rename(tmp, path))
		rc = -errno;
	if (rc) {
		snprintf(err, err_len, "writing %s: %s", path, strerror(-rc));
		unlink(tmp);
		goto cleanup;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	dir_fd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir_fd >= 0) {
		fsync(dir_fd);
		close(dir_fd);
	}
	*version = new_version;
cleanup:
	free(text);
	return rc;
}
