/* SPDX-License-Identifier: BSD-3-Clause
 *
 * accesslog_writer.h: drains the data plane's access log rings (sluice_accesslog.h) into a
 * JSON-lines file (control.access_log), and rotates it.
 *
 * Written against the ring layout in dataplane/api/sluice_accesslog.h; when the reader
 * library dataplane/api/accesslog_read.[ch] lands this module should use it for the ring
 * walk and keep only the output side (formatting, the file, rotation).
 *
 * The ring file (<stats_path>.accesslog) is mapped read-write: the reader owns each ring's
 * tail and stores it with release ordering after copying records [tail, head) out, so the
 * lcore may reuse the slots. A new data plane writes a new file (another inode or start
 * time): the writer reopens it. A ring whose head ran more than a ring ahead of tail (which
 * the contract rules out) is skipped forward and counted as lost rather than misread.
 *
 * One line per record:
 *   {"time":"2024-05-01T12:00:00.123Z","client":"198.18.0.2","port":51234,"method":"GET",
 *    "path":"/video/a.m4s","status":206,"bytes":1048576,"range":[0,1048576],
 *    "duration_us":8123,"tls":false,"aborted":false,"keepalive":true,"lcore":1,
 *    "catalog_version":7,"file_id":3}
 * (range only for range requests, file_id only when a file was served). Path bytes outside
 * printable ASCII, '"', '\\' and '%' are percent-encoded, so every line is valid JSON.
 *
 * Rotation: rotate() renames access.log to access.log.1 (shifting older ones up to keep and
 * deleting beyond) and opens a new file; reopen() only reopens the path (for an external
 * logrotate that renamed the file and sent SIGHUP).
 */
#ifndef SLUICE_CONTROL_ACCESSLOG_WRITER_H
#define SLUICE_CONTROL_ACCESSLOG_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice_accesslog.h"

#define ACCESSLOG_LINE_MAX 1024

struct accesslog_writer;

struct accesslog_stats {
	bool rings_mapped;
	bool output_open;
	uint64_t records;              /* written since start */
	uint64_t dropped;              /* the data plane's dropped counters, summed (current rings) */
	uint64_t lost;                 /* skipped by this reader (contract violations) */
	char error[160];
};

/* out_path "" disables writing (rings are still not drained then: the data plane drops). */
int accesslog_writer_create(const char *rings_path, const char *out_path, unsigned keep,
			    struct accesslog_writer **out);
void accesslog_writer_destroy(struct accesslog_writer *w);

/* Drains every ring once; returns records written or -errno. */
int accesslog_writer_drain(struct accesslog_writer *w);
int accesslog_writer_reopen(struct accesslog_writer *w);
/* Rotates: 0 with the rotated file's name in rotated_to, -ENOENT when no log is configured. */
int accesslog_writer_rotate(struct accesslog_writer *w, char *rotated_to, size_t size);
void accesslog_writer_stats(struct accesslog_writer *w, struct accesslog_stats *out);

/* One record as a JSON object (no newline); returns its length or -ENOSPC. */
int accesslog_writer_format_record(const struct sluice_accesslog_record *r, char *buf, size_t size);

#endif /* SLUICE_CONTROL_ACCESSLOG_WRITER_H */
