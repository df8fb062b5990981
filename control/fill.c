/* SPDX-License-Identifier: BSD-3-Clause
 *
 * fill.c: fill jobs (see fill.h for the publication rules and the state tables).
 *
 * One thread owns the curl multi handle and every transfer. It holds fill->lock while it
 * starts transfers, runs curl_multi_perform (the write callback appends to parts and hashes)
 * and finishes transfers (verify, fsync, rename), so the REST threads see consistent job
 * state; it releases the lock to wait in curl_multi_poll and to publish (catalog merge and
 * the data plane's CATALOG_RELOAD, which can take seconds). Only this thread frees jobs, so
 * a job's immutable fields (paths, URLs) may be read during the unlocked publish.
 */
#include "fill.h"

#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "catalog_file.h"
#include "keys.h"
#include "log.h"

#define FILL_PUBLISH_INTERVAL_NS 2000000000ULL
#define FILL_SAVE_INTERVAL_NS 1000000000ULL
#define FILL_PART_DIR ".fill"

enum fill_file_state {
	FILL_FILE_QUEUED,
	FILL_FILE_DOWNLOADING,
	FILL_FILE_VERIFIED,
	FILL_FILE_DONE,
	FILL_FILE_PRESENT,
	FILL_FILE_FAILED,
	FILL_FILE_CANCELLED,
	FILL_FILE_STATE_COUNT
};

enum fill_job_state {
	FILL_JOB_QUEUED,
	FILL_JOB_RUNNING,
	FILL_JOB_DONE,
	FILL_JOB_FAILED,
	FILL_JOB_CANCELLED,
	FILL_JOB_INTERRUPTED,
};

static const char *const fill_file_state_names[] = {"queued", "downloading", "verified", "done",
						     "present", "failed", "cancelled"};
static const char *const fill_job_state_names[] = {"queued", "running", "done", "failed", "cancelled", "interrupted"};

struct fill_file {
	char *path;
	char *url;
	uint64_t size;
	char sha256[65];
	enum fill_file_state state;
	uint64_t received;             /* bytes in the part */
	uint32_t attempts;
	uint32_t resumed;
	uint64_t not_before_ns;        /* monotonic: earliest next attempt */
	EVP_MD_CTX *sha;               /* running hash of the part; NULL: no part */
	int64_t mtime;
	char error[FILL_ERROR_MAX];
};

struct fill_job {
	char id[FILL_ID_LENGTH + 1];
	char name[128];
	enum fill_job_state state;
	int64_t created_s;
	int64_t finished_s;
	size_t count;
	struct fill_file *files;
	bool cancel_requested;
	uint32_t active;               /* transfers running */
	uint64_t catalog_version;
	char publish_message[256];
	uint64_t last_publish_ns;
	bool dirty;
	uint64_t last_save_ns;
	struct fill_job *next;         /* newest first */
};

struct fill_transfer {
	struct fill *fill;
	struct fill_job *job;
	size_t index;
	CURL *easy;
	int fd;
	uint64_t start_offset;
	bool first_write;
	int write_errno;
	bool too_big;
	char errbuf[CURL_ERROR_SIZE];
	struct fill_transfer *next;
};

struct fill {
	struct fill_options opts;
	pthread_mutex_t lock;
	pthread_t thread;
	bool thread_started;
	volatile bool quit;
	CURLM *multi;
	struct fill_job *jobs;
	struct fill_transfer *transfers;
	uint32_t active;
	fill_publish_fn publish;
	void *ctx;
	struct fill_stats stats;
};

static uint64_t fill_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

uint32_t fill_retry_delay_ms(uint32_t attempt)
{
	uint32_t ms = 1000;

	for (uint32_t i = 1; i < attempt && ms < 30000; i++)
		ms *= 2;
	return ms > 30000 ? 30000 : ms;
}

static void fill_part_path(const struct fill *f, const struct fill_job *job, size_t index, char *out, size_t size)
{
	snprintf(out, size, "%s/%s/%s-%zu.part", f->opts.store_root, FILL_PART_DIR, job->id, index);
}

static void fill_final_path(const struct fill *f, const struct fill_file *file, char *out, size_t size)
{
	snprintf(out, size, "%s%s", f->opts.store_root, file->path);
}

static void fill_file_drop_part(struct fill *f, struct fill_job *job, size_t index)
{
	struct fill_file *file = &job->files[index];
	char part[PATH_MAX];

	fill_part_path(f, job, index, part, sizeof(part));
	unlink(part);
	EVP_MD_CTX_free(file->sha);
	file->sha = NULL;
	file->received = 0;
}

/* --- Persistence ---------------------------------------------------------------------------- */

static json_t *fill_job_to_json(const struct fill_job *job, bool with_files)
{
	uint64_t counts[FILL_FILE_STATE_COUNT] = {0}, bytes_total = 0, bytes_done = 0;
	json_t *o, *files = with_files ? json_array() : NULL, *c = json_object();

	for (size_t i = 0; i < job->count; i++) {
		const struct fill_file *file = &job->files[i];

		counts[file->state]++;
		bytes_total += file->size;
		bytes_done += file->state == FILL_FILE_DONE || file->state == FILL_FILE_PRESENT ||
					      file->state == FILL_FILE_VERIFIED
				      ? file->size
				      : file->received;
		if (files) {
			json_t *e = json_pack("{s:s, s:s, s:I, s:s, s:s, s:I, s:i, s:i}", "path", file->path, "url", file->url,
					      "size", (json_int_t)file->size, "sha256", file->sha256, "state",
					      fill_file_state_names[file->state], "bytes",
					      (json_int_t)(file->state == FILL_FILE_DONE || file->state == FILL_FILE_PRESENT ||
									   file->state == FILL_FILE_VERIFIED
								   ? file->size
								   : file->received),
					      "attempts", (int)file->attempts, "resumed", (int)file->resumed);

			if (file->error[0])
				json_object_set_new(e, "error", json_string(file->error));
			json_array_append_new(files, e);
		}
	}
	for (int s = 0; s < FILL_FILE_STATE_COUNT; s++)
		json_object_set_new(c, fill_file_state_names[s], json_integer((json_int_t)counts[s]));
	o = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:o, s:I, s:I, s:I, s:s}", "id", job->id, "name", job->name, "state",
		      fill_job_state_names[job->state], "created", (json_int_t)job->created_s, "finished",
		      (json_int_t)job->finished_s, "files_total", (json_int_t)job->count, "counts", c, "bytes_total",
		      (json_int_t)bytes_total, "bytes_done", (json_int_t)bytes_done, "catalog_version",
		      (json_int_t)job->catalog_version, "publish", job->publish_message);
	if (o && files)
		json_object_set_new(o, "files", files);
	else
		json_decref(files);
	return o;
}

static void fill_job_save(struct fill *f, struct fill_job *job)
{
	char path[PATH_MAX], tmp[PATH_MAX + 16];
	json_t *o = fill_job_to_json(job, true);

	job->dirty = false;
	job->last_save_ns = fill_now_ns();
	if (!o)
		return;
	snprintf(path, sizeof(path), "%s/%s.json", f->opts.jobs_dir, job->id);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (json_dump_file(o, tmp, JSON_COMPACT) || rename(tmp, path)) {
		log_warn("fill %s: cannot save %s: %s", job->id, path, strerror(errno));
		unlink(tmp);
	}
	json_decref(o);
}

static bool fill_job_terminal(const struct fill_job *job)
{
	return job->state >= FILL_JOB_DONE;
}

static void fill_job_free(struct fill_job *job)
{
	if (!job)
		return;
	for (size_t i = 0; i < job->count; i++) {
		free(job->files[i].path);
		free(job->files[i].url);
		EVP_MD_CTX_free(job->files[i].sha);
	}
	free(job->files);
	free(job);
}

/* Loads one saved job; running ones become interrupted. */
static struct fill_job *fill_job_load(struct fill *f, const char *path)
{
	json_t *o = json_load_file(path, 0, NULL), *files, *e;
	struct fill_job *job = NULL;
	const char *id, *name, *state, *publish = "";
	json_int_t created, finished = 0, version = 0;
	size_t i;

	if (!o || json_unpack(o, "{s:s, s:s, s:s, s:I, s?:I, s?:I, s?:s, s:o}", "id", &id, "name", &name, "state", &state,
			      "created", &created, "finished", &finished, "catalog_version", &version, "publish", &publish,
			      "files", &files) ||
	    strlen(id) != FILL_ID_LENGTH || !json_is_array(files))
		goto fail;
	job = calloc(1, sizeof(*job));
	if (!job || !(job->files = calloc(json_array_size(files) + 1, sizeof(*job->files))))
		goto fail;
	snprintf(job->id, sizeof(job->id), "%s", id);
	snprintf(job->name, sizeof(job->name), "%s", name);
	snprintf(job->publish_message, sizeof(job->publish_message), "%s", publish);
	job->created_s = created;
	job->finished_s = finished;
	job->catalog_version = (uint64_t)version;
	job->state = FILL_JOB_INTERRUPTED;
	for (int s = 0; s <= FILL_JOB_INTERRUPTED; s++)
		if (!strcmp(state, fill_job_state_names[s]))
			job->state = (enum fill_job_state)s;
	json_array_foreach(files, i, e) {
		struct fill_file *file = &job->files[job->count];
		const char *p, *u, *sha, *fs, *error = "";
		json_int_t size, bytes = 0;
		int attempts = 0, resumed = 0;

		if (json_unpack(e, "{s:s, s:s, s:I, s:s, s:s, s?:I, s?:i, s?:i, s?:s}", "path", &p, "url", &u, "size", &size,
				"sha256", &sha, "state", &fs, "bytes", &bytes, "attempts", &attempts, "resumed", &resumed,
				"error", &error) ||
		    strlen(sha) != 64)
			goto fail;
		file->path = strdup(p);
		file->url = strdup(u);
		job->count++;
		if (!file->path || !file->url)
			goto fail;
		file->size = (uint64_t)size;
		memcpy(file->sha256, sha, 65);
		file->attempts = (uint32_t)attempts;
		file->resumed = (uint32_t)resumed;
		snprintf(file->error, sizeof(file->error), "%s", error);
		file->state = FILL_FILE_FAILED;
		for (int s = 0; s < FILL_FILE_STATE_COUNT; s++)
			if (!strcmp(fs, fill_file_state_names[s]))
				file->state = (enum fill_file_state)s;
		if (file->state == FILL_FILE_QUEUED || file->state == FILL_FILE_DOWNLOADING ||
		    file->state == FILL_FILE_VERIFIED) {
			file->state = FILL_FILE_CANCELLED;
			snprintf(file->error, sizeof(file->error), "interrupted: the control plane stopped");
		}
	}
	if (!fill_job_terminal(job) || job->state == FILL_JOB_INTERRUPTED) {
		if (job->state != FILL_JOB_INTERRUPTED) {
			job->state = FILL_JOB_INTERRUPTED;
			job->finished_s = (int64_t)time(NULL);
			job->dirty = true;
		}
	}
	json_decref(o);
	(void)f;
	return job;
fail:
	json_decref(o);
	fill_job_free(job);
	return NULL;
}

static int fill_job_compare_created(const void *a, const void *b)
{
	const struct fill_job *x = *(const struct fill_job *const *)a, *y = *(const struct fill_job *const *)b;

	return x->created_s < y->created_s ? 1 : x->created_s > y->created_s ? -1 : strcmp(y->id, x->id);
}

static void fill_load_jobs(struct fill *f)
{
	struct fill_job *loaded[FILL_JOBS_KEPT * 4];
	size_t n = 0;
	struct dirent *de;
	DIR *dir = opendir(f->opts.jobs_dir);

	if (!dir)
		return;
	while ((de = readdir(dir))) {
		char path[PATH_MAX];
		size_t len = strlen(de->d_name);

		if (len != FILL_ID_LENGTH + 5 || strcmp(de->d_name + FILL_ID_LENGTH, ".json"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", f->opts.jobs_dir, de->d_name);
		if (n == sizeof(loaded) / sizeof(loaded[0])) {
			unlink(path);
			continue;
		}
		loaded[n] = fill_job_load(f, path);
		if (loaded[n])
			n++;
		else
			log_warn("fill: ignoring unreadable job file %s", path);
	}
	closedir(dir);
	qsort(loaded, n, sizeof(loaded[0]), fill_job_compare_created);
	for (size_t i = n; i-- > 0;) {
		if (i >= FILL_JOBS_KEPT) {
			char path[PATH_MAX];

			snprintf(path, sizeof(path), "%s/%s.json", f->opts.jobs_dir, loaded[i]->id);
			unlink(path);
			fill_job_free(loaded[i]);
			continue;
		}
		loaded[i]->next = f->jobs;
		f->jobs = loaded[i];
		if (loaded[i]->dirty)
			fill_job_save(f, loaded[i]);
	}
}

/* Deletes parts left by a previous run (interrupted jobs). */
static void fill_clear_parts(struct fill *f)
{
	char dir_path[PATH_MAX];
	struct dirent *de;
	DIR *dir;

	snprintf(dir_path, sizeof(dir_path), "%s/%s", f->opts.store_root, FILL_PART_DIR);
	dir = opendir(dir_path);
	if (!dir)
		return;
	while ((de = readdir(dir))) {
		char path[PATH_MAX + 260];
		size_t len = strlen(de->d_name);

		if (len < 5 || strcmp(de->d_name + len - 5, ".part"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir_path, de->d_name);
		if (!unlink(path))
			log_info("fill: removed %s left by an interrupted fill", path);
	}
	closedir(dir);
}

/* --- Transfers ----------------------------------------------------------------------------------- */

static size_t fill_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct fill_transfer *t = arg;
	struct fill_file *file = &t->job->files[t->index];
	size_t n = size * nmemb, done = 0;

	if (t->first_write) {
		long code = 0;

		t->first_write = false;
		curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &code);
		if (t->start_offset && code == 200) {
			/* The origin ignored the Range: take the whole body from the start. */
			if (ftruncate(t->fd, 0) || lseek(t->fd, 0, SEEK_SET)) {
				t->write_errno = errno;
				return 0;
			}
			EVP_DigestInit_ex(file->sha, EVP_sha256(), NULL);
			file->received = 0;
			t->start_offset = 0;
		}
	}
	if (file->received + n > file->size) {
		t->too_big = true;
		return 0;
	}
	while (done < n) {
		ssize_t w = write(t->fd, data + done, n - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			t->write_errno = errno;
			return 0;
		}
		done += (size_t)w;
	}
	EVP_DigestUpdate(file->sha, data, n);
	file->received += n;
	t->fill->stats.bytes += n;
	return n;
}

static void fill_file_fail(struct fill *f, struct fill_job *job, size_t index, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void fill_file_fail(struct fill *f, struct fill_job *job, size_t index, const char *fmt, ...)
{
	struct fill_file *file = &job->files[index];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(file->error, sizeof(file->error), fmt, ap);
	va_end(ap);
	fill_file_drop_part(f, job, index);
	file->state = FILL_FILE_FAILED;
	f->stats.files_failed++;
	job->dirty = true;
	log_warn("fill %s: %s: %s", job->id, file->path, file->error);
}

/* mkdir -p for the directory part of path (under the store root). */
static int fill_make_parents(const char *path)
{
	char buf[PATH_MAX];
	size_t n = strlen(path);

	if (n >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, n + 1);
	for (char *p = strrchr(buf, '/'); p; p = NULL) {
		*p = 0;
		for (char *q = buf + 1; *q; q++) {
			if (*q != '/')
				continue;
			*q = 0;
			if (mkdir(buf, 0755) && errno != EEXIST)
				return -errno;
			*q = '/';
		}
		if (mkdir(buf, 0755) && errno != EEXIST)
			return -errno;
	}
	return 0;
}

static void fill_fsync_dir_of(const char *path)
{
	char buf[PATH_MAX];
	char *slash;
	int fd;

	snprintf(buf, sizeof(buf), "%s", path);
	slash = strrchr(buf, '/');
	if (!slash)
		return;
	*slash = 0;
	fd = open(buf, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

/* The part holds every byte: check size and hash, make it durable, put it in place. */
static void fill_file_complete(struct fill *f, struct fill_job *job, size_t index, int fd)
{
	struct fill_file *file = &job->files[index];
	char part[PATH_MAX], final[PATH_MAX], hex[65];
	unsigned char digest[32];
	EVP_MD_CTX *copy = EVP_MD_CTX_new();
	struct stat st;
	int rc;

	fill_part_path(f, job, index, part, sizeof(part));
	if (file->received != file->size) {
		if (copy)
			EVP_MD_CTX_free(copy);
		close(fd);
		fill_file_fail(f, job, index, "size mismatch: the origin sent %" PRIu64 " bytes, the manifest says %" PRIu64,
			       file->received, file->size);
		return;
	}
	if (!copy || !EVP_MD_CTX_copy_ex(copy, file->sha) || !EVP_DigestFinal_ex(copy, digest, NULL)) {
		EVP_MD_CTX_free(copy);
		close(fd);
		fill_file_fail(f, job, index, "cannot compute sha256");
		return;
	}
	EVP_MD_CTX_free(copy);
	keys_hex_encode(digest, 32, hex);
	if (strcasecmp(hex, file->sha256)) {
		close(fd);
		fill_file_fail(f, job, index, "sha256 mismatch: the origin's bytes hash to %s", hex);
		return;
	}
	if (fsync(fd)) {
		rc = errno;
		close(fd);
		fill_file_fail(f, job, index, "fsync of the part failed: %s%s", strerror(rc),
			       rc == ENOSPC ? " (disk full)" : "");
		return;
	}
	fstat(fd, &st);
	close(fd);
	fill_final_path(f, file, final, sizeof(final));
	rc = fill_make_parents(final);
	if (rc || rename(part, final)) {
		rc = rc ? -rc : errno;
		fill_file_fail(f, job, index, "cannot put it in place at %s: %s%s", final, strerror(rc),
			       rc == ENOSPC ? " (disk full)" : "");
		return;
	}
	fill_fsync_dir_of(final);
	EVP_MD_CTX_free(file->sha);
	file->sha = NULL;
	file->mtime = st.st_mtim.tv_sec;
	file->state = FILL_FILE_VERIFIED;
	file->error[0] = 0;
	job->dirty = true;
}

static int fill_start(struct fill *f, struct fill_job *job, size_t index)
{
	struct fill_file *file = &job->files[index];
	struct fill_transfer *t;
	char part[PATH_MAX];
	struct stat st;
	uint64_t per_transfer;
	int fd;

	fill_part_path(f, job, index, part, sizeof(part));
	fd = open(part, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		fill_file_fail(f, job, index, "cannot create %s: %s", part, strerror(errno));
		return -1;
	}
	if (!file->sha || fstat(fd, &st) || (uint64_t)st.st_size != file->received) {
		/* No part, or one that does not match the hash state: start from zero. */
		if (!file->sha)
			file->sha = EVP_MD_CTX_new();
		if (!file->sha || ftruncate(fd, 0)) {
			close(fd);
			fill_file_fail(f, job, index, "cannot start the part");
			return -1;
		}
		EVP_DigestInit_ex(file->sha, EVP_sha256(), NULL);
		file->received = 0;
	}
	if (lseek(fd, (off_t)file->received, SEEK_SET) < 0) {
		close(fd);
		fill_file_fail(f, job, index, "cannot seek in the part");
		return -1;
	}
	file->attempts++;
	job->dirty = true;
	if (file->received == file->size && file->size) {
		fill_file_complete(f, job, index, fd); /* every byte already there */
		return 0;
	}
	t = calloc(1, sizeof(*t));
	if (!t || !(t->easy = curl_easy_init())) {
		free(t);
		close(fd);
		fill_file_fail(f, job, index, "out of memory");
		return -1;
	}
	t->fill = f;
	t->job = job;
	t->index = index;
	t->fd = fd;
	t->start_offset = file->received;
	t->first_write = true;
	per_transfer = f->opts.bandwidth_bytes_per_s / (f->opts.concurrency ? f->opts.concurrency : 1);
	curl_easy_setopt(t->easy, CURLOPT_URL, file->url);
	curl_easy_setopt(t->easy, CURLOPT_PRIVATE, t);
	curl_easy_setopt(t->easy, CURLOPT_WRITEFUNCTION, fill_write);
	curl_easy_setopt(t->easy, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(t->easy, CURLOPT_ERRORBUFFER, t->errbuf);
	curl_easy_setopt(t->easy, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(t->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(t->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(t->easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(t->easy, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(t->easy, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(t->easy, CURLOPT_USERAGENT, f->opts.user_agent ? f->opts.user_agent : "sluice-control");
	curl_easy_setopt(t->easy, CURLOPT_CONNECTTIMEOUT_MS, (long)f->opts.connect_timeout_ms);
	curl_easy_setopt(t->easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(t->easy, CURLOPT_LOW_SPEED_TIME, (long)(f->opts.stall_timeout_ms + 999) / 1000);
	if (f->opts.file_timeout_ms)
		curl_easy_setopt(t->easy, CURLOPT_TIMEOUT_MS, (long)f->opts.file_timeout_ms);
	if (per_transfer)
		curl_easy_setopt(t->easy, CURLOPT_MAX_RECV_SPEED_LARGE, (curl_off_t)per_transfer);
	if (file->received) {
		curl_easy_setopt(t->easy, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)file->received);
		file->resumed++;
		log_info("fill %s: %s: resuming at byte %" PRIu64, job->id, file->path, file->received);
	}
	if (curl_multi_add_handle(f->multi, t->easy) != CURLM_OK) {
		curl_easy_cleanup(t->easy);
		free(t);
		close(fd);
		fill_file_fail(f, job, index, "cannot start the transfer");
		return -1;
	}
	t->next = f->transfers;
	f->transfers = t;
	file->state = FILL_FILE_DOWNLOADING;
	job->active++;
	f->active++;
	if (job->state == FILL_JOB_QUEUED)
		job->state = FILL_JOB_RUNNING;
	return 0;
}

static void fill_transfer_unlink(struct fill *f, struct fill_transfer *t)
{
	for (struct fill_transfer **p = &f->transfers; *p; p = &(*p)->next)
		if (*p == t) {
			*p = t->next;
			break;
		}
	curl_multi_remove_handle(f->multi, t->easy);
	curl_easy_cleanup(t->easy);
	t->job->active--;
	f->active--;
}

static bool fill_retryable(CURLcode rc, long http_code)
{
	switch (rc) {
	case CURLE_HTTP_RETURNED_ERROR:
		return http_code >= 500 || http_code == 408 || http_code == 429;
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_PARTIAL_FILE:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_RANGE_ERROR:
	case CURLE_SSL_CONNECT_ERROR:
		return true;
	default:
		return false;
	}
}

static void fill_finish(struct fill *f, struct fill_transfer *t, CURLcode rc)
{
	struct fill_job *job = t->job;
	struct fill_file *file = &job->files[t->index];
	long code = 0;
	char why[FILL_ERROR_MAX];

	curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &code);
	fill_transfer_unlink(f, t);
	if (rc == CURLE_OK) {
		fill_file_complete(f, job, t->index, t->fd);
		free(t);
		return;
	}
	close(t->fd);
	if (t->too_big) {
		fill_file_fail(f, job, t->index, "the origin sent more than the manifest's %" PRIu64 " bytes", file->size);
		free(t);
		return;
	}
	if (t->write_errno) {
		fill_file_fail(f, job, t->index, "writing the part failed after %" PRIu64 " bytes: %s%s", file->received,
			       strerror(t->write_errno), t->write_errno == ENOSPC ? " (disk full)" : "");
		free(t);
		return;
	}
	if (rc == CURLE_HTTP_RETURNED_ERROR)
		snprintf(why, sizeof(why), "the origin answered HTTP %ld", code);
	else if (rc == CURLE_OPERATION_TIMEDOUT)
		snprintf(why, sizeof(why), "timed out: %.200s", t->errbuf[0] ? t->errbuf : curl_easy_strerror(rc));
	else
		snprintf(why, sizeof(why), "%s", t->errbuf[0] ? t->errbuf : curl_easy_strerror(rc));
	if (rc == CURLE_RANGE_ERROR && file->sha) {
		/* The origin will not resume: start again from zero at once. Not counted as an
		 * attempt (the next one sends no Range, so this cannot repeat). */
		char part[PATH_MAX];

		EVP_DigestInit_ex(file->sha, EVP_sha256(), NULL);
		file->received = 0;
		fill_part_path(f, job, t->index, part, sizeof(part));
		if (truncate(part, 0)) /* the next attempt sees the size differ and restarts anyway */
			log_warn("fill %s: cannot truncate %s: %s", job->id, part, strerror(errno));
		free(t);
		file->attempts--;
		file->state = FILL_FILE_QUEUED;
		file->not_before_ns = 0;
		snprintf(file->error, sizeof(file->error), "the origin does not resume (no Range support): starting again");
		job->dirty = true;
		log_info("fill %s: %s: %s", job->id, file->path, file->error);
		return;
	}
	free(t);
	if (fill_retryable(rc, code) && file->attempts <= f->opts.retries && !job->cancel_requested) {
		uint32_t delay = fill_retry_delay_ms(file->attempts);

		snprintf(file->error, sizeof(file->error), "attempt %u: %.160s (retrying in %u ms, %" PRIu64 " bytes kept)",
			 file->attempts, why, delay, file->received);
		file->state = FILL_FILE_QUEUED;
		file->not_before_ns = fill_now_ns() + (uint64_t)delay * 1000000ULL;
		job->dirty = true;
		log_info("fill %s: %s: %s", job->id, file->path, file->error);
		return;
	}
	fill_file_fail(f, job, t->index, "%s (after %u attempt%s)", why, file->attempts, file->attempts == 1 ? "" : "s");
}

/* Stops every transfer of a cancelled job and deletes their parts. */
static void fill_cancel_job_transfers(struct fill *f, struct fill_job *job, enum fill_job_state final_state,
				      const char *why)
{
	for (struct fill_transfer *t = f->transfers, *next; t; t = next) {
		next = t->next;
		if (t->job != job)
			continue;
		fill_transfer_unlink(f, t);
		close(t->fd);
		free(t);
	}
	for (size_t i = 0; i < job->count; i++) {
		struct fill_file *file = &job->files[i];

		if (file->state == FILL_FILE_QUEUED || file->state == FILL_FILE_DOWNLOADING) {
			fill_file_drop_part(f, job, i);
			file->state = FILL_FILE_CANCELLED;
			snprintf(file->error, sizeof(file->error), "%s", why);
		}
	}
	job->state = final_state;
	job->dirty = true;
}

/* --- Publication ------------------------------------------------------------------------------ */

struct fill_publish_work {
	struct fill_job *job;
	size_t count;
	size_t *indices;
	struct catalog_entry *entries;
};

/* Under the lock: picks a job with verified files due for publication. */
static bool fill_publish_pick(struct fill *f, struct fill_publish_work *w, uint64_t now)
{
	for (struct fill_job *job = f->jobs; job; job = job->next) {
		size_t verified = 0, pending = 0;

		for (size_t i = 0; i < job->count; i++) {
			verified += job->files[i].state == FILL_FILE_VERIFIED;
			pending += job->files[i].state == FILL_FILE_QUEUED || job->files[i].state == FILL_FILE_DOWNLOADING;
		}
		if (!verified || (pending && now - job->last_publish_ns < FILL_PUBLISH_INTERVAL_NS))
			continue;
		w->job = job;
		w->indices = calloc(verified, sizeof(*w->indices));
		w->entries = calloc(verified, sizeof(*w->entries));
		if (!w->indices || !w->entries) {
			free(w->indices);
			free(w->entries);
			return false;
		}
		w->count = 0;
		for (size_t i = 0; i < job->count; i++) {
			struct fill_file *file = &job->files[i];

			if (file->state != FILL_FILE_VERIFIED)
				continue;
			w->indices[w->count] = i;
			w->entries[w->count] = (struct catalog_entry){.path = file->path, .file = file->path + 1,
								      .size = file->size, .mtime = file->mtime};
			for (int k = 0; k < 65; k++)
				w->entries[w->count].sha256[k] =
					(char)(file->sha256[k] >= 'A' && file->sha256[k] <= 'F' ? file->sha256[k] + 32
												: file->sha256[k]);
			w->count++;
		}
		job->last_publish_ns = now;
		return true;
	}
	return false;
}

static void fill_job_settle(struct fill_job *job)
{
	size_t failed = 0;

	if (fill_job_terminal(job) && job->state != FILL_JOB_CANCELLED)
		return;
	for (size_t i = 0; i < job->count; i++) {
		enum fill_file_state s = job->files[i].state;

		if (s == FILL_FILE_QUEUED || s == FILL_FILE_DOWNLOADING || s == FILL_FILE_VERIFIED)
			return;
		failed += s == FILL_FILE_FAILED;
	}
	if (job->state != FILL_JOB_CANCELLED)
		job->state = failed ? FILL_JOB_FAILED : FILL_JOB_DONE;
	if (!job->finished_s) {
		job->finished_s = (int64_t)time(NULL);
		log_info("fill %s: %s (%zu files, %zu failed)", job->id, fill_job_state_names[job->state], job->count, failed);
	}
	job->dirty = true;
}

/* Without the lock: writes the catalog and has the data plane load it. */
static void fill_publish_run(struct fill *f, struct fill_publish_work *w)
{
	char err[512] = "", message[256] = "";
	uint64_t version = 0;
	int rc = catalog_file_merge(f->opts.catalog_path, w->entries, w->count, &version, err, sizeof(err));

	if (!rc && f->publish)
		f->publish(f->ctx, version, message, sizeof(message));
	pthread_mutex_lock(&f->lock);
	for (size_t k = 0; k < w->count; k++) {
		struct fill_file *file = &w->job->files[w->indices[k]];

		if (rc) {
			snprintf(file->error, sizeof(file->error),
				 "verified and in place, but the catalog update failed: %.180s", err);
			file->state = FILL_FILE_FAILED;
			f->stats.files_failed++;
		} else {
			file->state = FILL_FILE_DONE;
			f->stats.files_done++;
		}
	}
	if (!rc) {
		w->job->catalog_version = version;
		snprintf(w->job->publish_message, sizeof(w->job->publish_message), "catalog version %" PRIu64 ": %s", version,
			 message);
	} else {
		snprintf(w->job->publish_message, sizeof(w->job->publish_message), "catalog update failed: %.200s", err);
		log_err("fill %s: %s", w->job->id, w->job->publish_message);
	}
	w->job->dirty = true;
	fill_job_settle(w->job);
	pthread_mutex_unlock(&f->lock);
	free(w->indices);
	free(w->entries);
}

/* --- The thread ------------------------------------------------------------------------------ */

static void fill_start_due(struct fill *f, uint64_t now)
{
	/* Oldest job first: walk to the end of the newest-first list. */
	struct fill_job *order[FILL_JOBS_KEPT * 4];
	size_t n = 0;

	for (struct fill_job *job = f->jobs; job && n < sizeof(order) / sizeof(order[0]); job = job->next)
		if (!fill_job_terminal(job) && !job->cancel_requested)
			order[n++] = job;
	while (n-- > 0 && f->active < f->opts.concurrency) {
		struct fill_job *job = order[n];

		for (size_t i = 0; i < job->count && f->active < f->opts.concurrency; i++)
			if (job->files[i].state == FILL_FILE_QUEUED && job->files[i].not_before_ns <= now)
				fill_start(f, job, i);
	}
}

static void *fill_thread(void *arg)
{
	struct fill *f = arg;

	while (!f->quit) {
		struct fill_publish_work work;
		uint64_t now = fill_now_ns();
		bool have_work;
		CURLMsg *msg;
		int running, left;

		pthread_mutex_lock(&f->lock);
		for (struct fill_job *job = f->jobs; job; job = job->next)
			if (job->cancel_requested && !fill_job_terminal(job)) {
				fill_cancel_job_transfers(f, job, FILL_JOB_CANCELLED, "cancelled");
				log_info("fill %s: cancelled", job->id);
			}
		fill_start_due(f, now);
		curl_multi_perform(f->multi, &running);
		while ((msg = curl_multi_info_read(f->multi, &left))) {
			struct fill_transfer *t = NULL;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t);
			if (t)
				fill_finish(f, t, msg->data.result);
		}
		for (struct fill_job *job = f->jobs; job; job = job->next) {
			fill_job_settle(job);
			if (job->dirty && (fill_job_terminal(job) || now - job->last_save_ns >= FILL_SAVE_INTERVAL_NS))
				fill_job_save(f, job);
		}
		have_work = fill_publish_pick(f, &work, now);
		pthread_mutex_unlock(&f->lock);
		if (have_work) {
			fill_publish_run(f, &work);
			continue;
		}
		curl_multi_poll(f->multi, NULL, 0, 200, NULL);
	}
	return NULL;
}

/* --- API ---------------------------------------------------------------------------------------- */

int fill_create(const struct fill_options *opts, fill_publish_fn publish, void *ctx, struct fill **out, char *err,
		size_t err_len)
{
	struct fill *f = calloc(1, sizeof(*f));
	char dir[PATH_MAX];
	int rc;

	*out = NULL;
	if (!f)
		return -ENOMEM;
	f->opts = *opts;
	f->publish = publish;
	f->ctx = ctx;
	pthread_mutex_init(&f->lock, NULL);
	f->multi = curl_multi_init();
	if (!f->multi) {
		rc = -ENOMEM;
		goto fail;
	}
	if (mkdir(opts->jobs_dir, 0700) && errno != EEXIST) {
		rc = -errno;
		snprintf(err, err_len, "%s: %s", opts->jobs_dir, strerror(errno));
		goto fail;
	}
	snprintf(dir, sizeof(dir), "%s/%s", opts->store_root, FILL_PART_DIR);
	if (mkdir(dir, 0700) && errno != EEXIST)
		log_warn("fill: cannot create %s: %s (fills will fail until it can be)", dir, strerror(errno));
	fill_clear_parts(f);
	fill_load_jobs(f);
	rc = pthread_create(&f->thread, NULL, fill_thread, f);
	if (rc) {
		rc = -rc;
		goto fail;
	}
	f->thread_started = true;
	*out = f;
	return 0;
fail:
	fill_destroy(f);
	return rc;
}

void fill_destroy(struct fill *f)
{
	if (!f)
		return;
	if (f->thread_started) {
		f->quit = true;
		curl_multi_wakeup(f->multi);
		pthread_join(f->thread, NULL);
	}
	for (struct fill_job *job = f->jobs; job; job = job->next)
		if (!fill_job_terminal(job)) {
			fill_cancel_job_transfers(f, job, FILL_JOB_INTERRUPTED, "interrupted: the control plane stopped");
			for (size_t i = 0; i < job->count; i++)
				if (job->files[i].state == FILL_FILE_VERIFIED) {
					job->files[i].state = FILL_FILE_CANCELLED;
					snprintf(job->files[i].error, sizeof(job->files[i].error),
						 "interrupted before publication (the file is in place but not listed)");
				}
			job->finished_s = (int64_t)time(NULL);
			fill_job_save(f, job);
		}
	while (f->jobs) {
		struct fill_job *next = f->jobs->next;

		fill_job_free(f->jobs);
		f->jobs = next;
	}
	if (f->multi)
		curl_multi_cleanup(f->multi);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

void fill_set_limits(struct fill *f, const struct fill_options *opts)
{
	pthread_mutex_lock(&f->lock);
	f->opts.concurrency = opts->concurrency;
	f->opts.bandwidth_bytes_per_s = opts->bandwidth_bytes_per_s;
	f->opts.retries = opts->retries;
	f->opts.connect_timeout_ms = opts->connect_timeout_ms;
	f->opts.stall_timeout_ms = opts->stall_timeout_ms;
	f->opts.file_timeout_ms = opts->file_timeout_ms;
	f->opts.max_files = opts->max_files;
	pthread_mutex_unlock(&f->lock);
}

static int fill_path_compare(const void *a, const void *b)
{
	return strcmp(**(const char *const *const *)a, **(const char *const *const *)b);
}

static const struct catalog_entry *fill_catalog_lookup(const struct catalog_listing *l, const char *path)
{
	size_t lo = 0, hi = l->count;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(l->entries[mid].path, path);

		if (!c)
			return &l->entries[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

int fill_submit(struct fill *f, const json_t *manifest, char id[FILL_ID_LENGTH + 1], char *err, size_t err_len)
{
	const json_t *files = json_object_get(manifest, "files"), *e;
	const char *name = json_string_value(json_object_get(manifest, "name"));
	struct catalog_listing listing;
	struct fill_job *job;
	const char ***sorted = NULL;
	char catalog_rel[PATH_MAX] = "";
	uint8_t random[FILL_ID_LENGTH / 2];
	size_t n = json_array_size(files), i, root_len = strlen(f->opts.store_root);
	int rc;

	if (n > f->opts.max_files) {
		snprintf(err, err_len, "%zu files: more than control.fill.max_files (%u)", n, f->opts.max_files);
		return -EINVAL;
	}
	/* The catalog file, if it lives in the store, is not a segment path. */
	if (!strncmp(f->opts.catalog_path, f->opts.store_root, root_len) && f->opts.catalog_path[root_len] == '/')
		snprintf(catalog_rel, sizeof(catalog_rel), "%s", f->opts.catalog_path + root_len);
	job = calloc(1, sizeof(*job));
	if (!job || !(job->files = calloc(n, sizeof(*job->files))) || !(sorted = calloc(n, sizeof(*sorted)))) {
		free(sorted);
		fill_job_free(job);
		return -ENOMEM;
	}
	json_array_foreach(files, i, e) {
		struct fill_file *file = &job->files[i];

		file->path = strdup(json_string_value(json_object_get(e, "path")));
		file->url = strdup(json_string_value(json_object_get(e, "url")));
		job->count++;
		if (!file->path || !file->url) {
			rc = -ENOMEM;
			goto fail;
		}
		file->size = (uint64_t)json_integer_value(json_object_get(e, "size"));
		snprintf(file->sha256, sizeof(file->sha256), "%s", json_string_value(json_object_get(e, "sha256")));
		if (catalog_rel[0] && !strcmp(file->path, catalog_rel)) {
			snprintf(err, err_len, "files[%zu].path %s is the catalog file", i, file->path);
			rc = -EINVAL;
			goto fail;
		}
		sorted[i] = (const char **)&file->path;
	}
	qsort(sorted, n, sizeof(*sorted), fill_path_compare);
	for (i = 1; i < n; i++)
		if (!strcmp(*sorted[i], *sorted[i - 1])) {
			snprintf(err, err_len, "path %s is listed twice", *sorted[i]);
			rc = -EINVAL;
			goto fail;
		}
	/* Segments already served with the same content are present; other content is a conflict
	 * (files are immutable: new content comes under a new path). */
	rc = catalog_file_read(f->opts.catalog_path, &listing, err, err_len);
	if (rc && rc != -ENOENT) {
		rc = -EINVAL;
		goto fail;
	}
	err[0] = 0;
	pthread_mutex_lock(&f->lock);
	for (i = 0; i < job->count; i++) {
		struct fill_file *file = &job->files[i];
		const struct catalog_entry *c = rc ? NULL : fill_catalog_lookup(&listing, file->path);
		char final[PATH_MAX];
		struct stat st;

		fill_final_path(f, file, final, sizeof(final));
		if (c && !strcasecmp(c->sha256, file->sha256) && c->size == file->size && !stat(final, &st) &&
		    (uint64_t)st.st_size == file->size) {
			file->state = FILL_FILE_PRESENT;
			f->stats.files_present++;
			continue;
		}
		if (c) {
			file->state = FILL_FILE_FAILED;
			snprintf(file->error, sizeof(file->error),
				 "the catalog already lists this path with other content (sha256 %.16s..., %" PRIu64
				 " bytes); files are immutable: publish new content under a new path",
				 c->sha256, c->size);
			f->stats.files_failed++;
			continue;
		}
		for (struct fill_job *other = f->jobs; other; other = other->next) {
			if (fill_job_terminal(other))
				continue;
			for (size_t k = 0; k < other->count; k++)
				if ((other->files[k].state <= FILL_FILE_VERIFIED) && !strcmp(other->files[k].path, file->path)) {
					file->state = FILL_FILE_FAILED;
					snprintf(file->error, sizeof(file->error), "job %s is already filling this path",
						 other->id);
					f->stats.files_failed++;
					break;
				}
			if (file->state == FILL_FILE_FAILED)
				break;
		}
	}
	if (keys_random(random, sizeof(random))) {
		pthread_mutex_unlock(&f->lock);
		if (!rc)
			catalog_listing_free(&listing);
		rc = -EIO;
		goto fail;
	}
	keys_hex_encode(random, sizeof(random), job->id);
	snprintf(job->name, sizeof(job->name), "%s", name ? name : "");
	job->created_s = (int64_t)time(NULL);
	job->state = FILL_JOB_QUEUED;
	job->dirty = true;
	job->next = f->jobs;
	f->jobs = job;
	fill_job_settle(job);
	fill_job_save(f, job);
	/* Keep the newest FILL_JOBS_KEPT finished jobs. */
	{
		size_t kept = 0;

		for (struct fill_job **p = &f->jobs; *p;) {
			struct fill_job *j = *p;

			if (++kept > FILL_JOBS_KEPT && fill_job_terminal(j)) {
				char path[PATH_MAX];

				*p = j->next;
				snprintf(path, sizeof(path), "%s/%s.json", f->opts.jobs_dir, j->id);
				unlink(path);
				fill_job_free(j);
				continue;
			}
			p = &j->next;
		}
	}
	snprintf(id, FILL_ID_LENGTH + 1, "%s", job->id);
	log_info("fill %s: queued %zu files%s%s", job->id, job->count, name ? " for " : "", name ? name : "");
	pthread_mutex_unlock(&f->lock);
	curl_multi_wakeup(f->multi);
	if (!rc)
		catalog_listing_free(&listing);
	free(sorted);
	return 0;
fail:
	free(sorted);
	fill_job_free(job);
	return rc;
}

static struct fill_job *fill_find(struct fill *f, const char *id)
{
	for (struct fill_job *job = f->jobs; job; job = job->next)
		if (!strcmp(job->id, id))
			return job;
	return NULL;
}

json_t *fill_job_json(struct fill *f, const char *id)
{
	json_t *o = NULL;
	struct fill_job *job;

	pthread_mutex_lock(&f->lock);
	job = fill_find(f, id);
	if (job)
		o = fill_job_to_json(job, true);
	pthread_mutex_unlock(&f->lock);
	return o;
}

json_t *fill_list_json(struct fill *f)
{
	json_t *list = json_array();

	pthread_mutex_lock(&f->lock);
	for (struct fill_job *job = f->jobs; job; job = job->next)
		json_array_append_new(list, fill_job_to_json(job, false));
	pthread_mutex_unlock(&f->lock);
	return list;
}

int fill_cancel(struct fill *f, const char *id)
{
	struct fill_job *job;
	int rc = 0;

	pthread_mutex_lock(&f->lock);
	job = fill_find(f, id);
	if (!job)
		rc = -ENOENT;
	else if (fill_job_terminal(job))
		rc = -EALREADY;
	else
		job->cancel_requested = true;
	pthread_mutex_unlock(&f->lock);
	if (!rc)
		curl_multi_wakeup(f->multi);
	return rc;
}

void fill_stats(struct fill *f, struct fill_stats *out)
{
	pthread_mutex_lock(&f->lock);
	*out = f->stats;
	out->jobs_active = 0;
	for (struct fill_job *job = f->jobs; job; job = job->next)
		out->jobs_active += !fill_job_terminal(job);
	pthread_mutex_unlock(&f->lock);
}
