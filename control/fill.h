/* SPDX-License-Identifier: BSD-3-Clause
 *
 * fill.h: filling the store from an origin. A manifest (path, origin URL, size, sha256 per
 * segment) becomes a job; its segments are downloaded, verified and published.
 *
 * Publication is what makes a segment visible, and only verified bytes are ever published:
 *
 *   download into <store_root>/.fill/<job>-<n>.part (a dot directory: the catalog builder and
 *   the data plane never look there), hashing as bytes arrive
 *     -> size and sha256 equal to the manifest's, else the part is deleted
 *     -> fsync the part, rename it to its final name, fsync the directory
 *     -> merge the job's new entries into the catalog file (written atomically, catalog_file.h)
 *     -> CATALOG_RELOAD, through the caller's publish callback.
 *
 * A failed, cancelled or interrupted transfer deletes its part; nothing appears under a final
 * name before it is complete and verified, and the catalog lists only files already in place.
 * A segment the catalog already lists with the same sha256 and size, and whose file exists, is
 * "present" and not fetched again.
 *
 * Transfers run on one thread with libcurl's multi interface: at most `concurrency` at once,
 * each capped at bandwidth / concurrency bytes per second, a stall timeout (no byte for that
 * long) and an optional whole-file timeout. A transfer that breaks after receiving bytes is
 * resumed with a Range request from the bytes already in the part (the running hash carries
 * on); an origin that ignores the Range (answers 200) makes it start again from zero. Retries
 * (control.fill.retries) wait 1, 2, 4 ... 30 s. Not retried: 4xx other than 408 and 429, a
 * hash or size mismatch, disk full. Every file's state, attempts, resumptions and last error
 * are in the job's status:
 *
 *   queued -> downloading -> (retry: queued) -> verified -> done        (published)
 *                         \-> failed                      \-> failed    (catalog update failed)
 *   present (already in the catalog); cancelled (job cancelled before it finished)
 *
 * A job is queued, running, done (every file done or present), failed (some file failed),
 * cancelled, or interrupted (the control plane stopped while it ran; its parts are deleted at
 * the next start, and posting the manifest again fetches only what is missing). Jobs are kept
 * in <state_dir>/fills/<id>.json (the newest FILL_JOBS_KEPT).
 */
#ifndef SLUICE_CONTROL_FILL_H
#define SLUICE_CONTROL_FILL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define FILL_ID_LENGTH 16
#define FILL_JOBS_KEPT 100
#define FILL_ERROR_MAX 256

struct fill_options {
	char store_root[256];
	char catalog_path[300];
	char jobs_dir[300];            /* <state_dir>/fills */
	uint32_t concurrency;
	uint64_t bandwidth_bytes_per_s; /* 0 = unlimited */
	uint32_t retries;
	uint32_t connect_timeout_ms;
	uint32_t stall_timeout_ms;
	uint32_t file_timeout_ms;      /* 0 = none */
	uint32_t max_files;
	const char *user_agent;
};

/* Called on the fill thread after a merge wrote catalog version `version`: push it to the data
 * plane and describe the outcome in message. */
typedef void (*fill_publish_fn)(void *ctx, uint64_t version, char *message, size_t message_size);

struct fill_stats {
	uint32_t jobs_active;
	uint64_t files_done, files_failed, files_present;
	uint64_t bytes;
};

struct fill;

/* Loads kept jobs (running ones become interrupted), clears stale parts, starts the thread. */
int fill_create(const struct fill_options *opts, fill_publish_fn publish, void *ctx, struct fill **out, char *err,
		size_t err_len);
/* Stops the thread; running jobs become interrupted, their parts are deleted. NULL: no-op. */
void fill_destroy(struct fill *fill);
/* New limits for transfers started from now on (config reload). */
void fill_set_limits(struct fill *fill, const struct fill_options *opts);

/* A manifest already validated against the document's Manifest schema. Checks what the schema
 * cannot (distinct paths, max_files, paths clear of the catalog file) and queues a job:
 * 0 with its id, or -EINVAL with the reason in err. */
int fill_submit(struct fill *fill, const json_t *manifest, char id[FILL_ID_LENGTH + 1], char *err, size_t err_len);

/* The job's status (new reference), NULL if unknown. */
json_t *fill_job_json(struct fill *fill, const char *id);
/* Summaries of every kept job, newest first. */
json_t *fill_list_json(struct fill *fill);
/* 0, -ENOENT (unknown), -EALREADY (already finished). */
int fill_cancel(struct fill *fill, const char *id);
void fill_stats(struct fill *fill, struct fill_stats *out);

/* Backoff before retry n (1-based): 1 s doubling to 30 s. */
uint32_t fill_retry_delay_ms(uint32_t attempt);

#endif /* SLUICE_CONTROL_FILL_H */
