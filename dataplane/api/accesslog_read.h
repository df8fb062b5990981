/* SPDX-License-Identifier: BSD-3-Clause
 *
 * accesslog_read.h: the reader side of the access log rings (sluice_accesslog.h), for
 * sluice-accesslog and the control plane.
 *
 * The reader maps the file read-write (it owns each ring's tail), copies records out in order
 * and then advances tail, so a record is never lost while its ring has room: the data plane
 * drops (and counts in the ring's `dropped`) only when a ring is full. One reader per file at a
 * time: two would each see a share of the records. Drops are reported as the growth of
 * `dropped` since a reader last reported (the ring keeps that count in its reader-owned
 * `dropped_reported`, so successive runs of a tool report each drop once). A data plane
 * restart replaces the file (a new inode, new start_time_ns); accesslog_reader_replaced()
 * tells the reader to reopen.
 *
 * accesslog_record_json() formats one record as a JSON object with readable fields:
 *
 *   {"time":"2025-01-31T12:00:00.123Z","client":"198.18.0.2","client_port":51234,
 *    "method":"GET","path":"/video/a.m4s","range":"bytes=0-16383","status":206,
 *    "bytes":16600,"duration_ms":1.234,"tls":false,"keepalive":true,"aborted":false,
 *    "lcore":1,"catalog_version":7,"file_id":12}
 *
 * This is the one format of the access log: sluice-accesslog prints it and sluice-control
 * writes it to control.access_log. "range" is null for responses without a range, "bytes=F-L"
 * for one range, and "N parts from byte F, B bytes" for multipart/byteranges (the record keeps
 * the first byte and the file bytes over all parts). "bytes" is what the client acknowledged,
 * head included; "file_id" is null when no file was served. Path bytes that are '"', '\\',
 * control characters or outside ASCII are escaped as \" \\ and \u00XX (a byte 0xff becomes
 * \u00ff), so every line is valid JSON whatever the client sent; the path is read up to its NUL
 * or SLUICE_ACCESSLOG_PATH_MAX.
 * No allocation after open; no locking (the rings are single producer, single consumer).
 */
#ifndef SLUICE_API_ACCESSLOG_READ_H
#define SLUICE_API_ACCESSLOG_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice_accesslog.h"

struct accesslog_reader {
	struct sluice_accesslog_header *header;
	size_t size;
	int fd;
	char path[256];
};

/* Rings a file may hold: one per worker lcore (CONFIG_LCORES_MAX in common/config.h). */
#define ACCESSLOG_LCORES_MAX 64

/* Maps the file. Returns 0 or -errno (-ENOENT: no file; -EPROTO: not an access log of this
 * version, or a layout that does not fit the file). */
int accesslog_reader_open(struct accesslog_reader *r, const char *path);
void accesslog_reader_close(struct accesslog_reader *r);

/* Whether the file at the reader's path is another incarnation (the data plane restarted). */
bool accesslog_reader_replaced(const struct accesslog_reader *r);

/* Called for each record, in ring order per lcore; returning nonzero stops the drain (the
 * record is not consumed). */
typedef int (*accesslog_record_fn)(const struct sluice_accesslog_record *rec, void *arg);

struct accesslog_drain_result {
	uint64_t records;              /* consumed */
	uint64_t dropped;              /* records the data plane dropped since the last drain */
	uint64_t lost;                 /* skipped because head ran more than a ring ahead of tail
					  (a writer bug the contract rules out) */
};

/* Takes up to max records from each ring (max 0: all there are), so a caller on a loop can
 * bound one call and one busy ring cannot starve the others. Returns 0, or the callback's
 * nonzero value (that ring's tail stays at the record it refused; later rings are not read). */
int accesslog_reader_drain(struct accesslog_reader *r, uint64_t max, accesslog_record_fn fn, void *arg,
			   struct accesslog_drain_result *result);

/* Records waiting in all rings. */
uint64_t accesslog_reader_pending(const struct accesslog_reader *r);

/* One JSON object (no newline); returns its length, or -ENOSPC. ACCESSLOG_JSON_MAX is always enough. */
#define ACCESSLOG_JSON_MAX 1024
int accesslog_record_json(const struct sluice_accesslog_record *rec, char *out, size_t size);

/* Name of an HTTP method number as the data plane records it ("GET", ...; "-" for none). */
const char *accesslog_method_name(uint8_t method);

#endif /* SLUICE_API_ACCESSLOG_READ_H */
