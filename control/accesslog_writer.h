/* SPDX-License-Identifier: BSD-3-Clause
 *
 * accesslog_writer.h: writes the data plane's access log (sluice_accesslog.h) to a
 * JSON-lines file (control.access_log), and rotates it.
 *
 * The ring side is the reader library (dataplane/api/accesslog_read.h), the same code
 * sluice-accesslog uses: it maps and validates the ring file, walks the rings and counts drops,
 * and formats each record with accesslog_record_json(), so the file holds exactly the lines
 * sluice-accesslog prints (fields and escaping described there):
 *   {"time":"2025-01-31T12:00:00.123Z","client":"198.18.0.2","client_port":51234,
 *    "method":"GET","path":"/video/a.m4s","range":"bytes=0-16383","status":206,
 *    "bytes":16600,"duration_ms":1.234,"tls":false,"keepalive":true,"aborted":false,
 *    "lcore":1,"catalog_version":7,"file_id":12}
 * This module keeps the output side: the file, rotation and the stats.
 *
 * States of the ring file, per drain: not open (no file yet, or not a ring file: the reason is
 * in stats.error, retried each drain) → open (drained, at most ACCESSLOG_WRITER_BATCH records per
 * ring per drain so one busy ring cannot starve the control loop) → replaced (a new data plane
 * wrote a new file: the old one's last records are drained, then the new one is opened). The
 * rings are drained only while the output file is open: otherwise they fill and the data plane
 * drops (and counts) records, instead of this reader losing them.
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

#define ACCESSLOG_WRITER_BATCH 4096 /* records per ring per drain */

struct accesslog_writer;

struct accesslog_stats {
	bool rings_mapped;
	bool output_open;
	uint64_t records;              /* written since start */
	uint64_t dropped;              /* the data plane dropped for a full ring, since start (all
					  ring files this writer read, as the reader reports them) */
	uint64_t lost;                 /* skipped by the reader (contract violations), since start */
	char error[160];               /* the last problem with the ring file or the output; "" */
};

/* out_path "" disables writing (rings are still not drained then: the data plane drops). */
int accesslog_writer_create(const char *rings_path, const char *out_path, unsigned keep,
			    struct accesslog_writer **out);
void accesslog_writer_destroy(struct accesslog_writer *w);

/* Drains every ring once (up to ACCESSLOG_WRITER_BATCH records each); returns records written
 * or -errno. */
int accesslog_writer_drain(struct accesslog_writer *w);
int accesslog_writer_reopen(struct accesslog_writer *w);
/* Rotates: 0 with the rotated file's name in rotated_to, -ENOENT when no log is configured. */
int accesslog_writer_rotate(struct accesslog_writer *w, char *rotated_to, size_t size);
void accesslog_writer_stats(struct accesslog_writer *w, struct accesslog_stats *out);

#endif /* SLUICE_CONTROL_ACCESSLOG_WRITER_H */
