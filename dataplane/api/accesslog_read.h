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
 * `dropped_reported`, so successive runs of a tool report each drop once). A data plane restart replaces the file (new
 * start_time_ns); accesslog_reader_replaced() tells the reader to reopen.
 *
 * accesslog_record_json() formats one record as a JSON object with readable fields:
 *
 *   {"time":"2025-01-31T12:00:00.123Z","client":"198.18.0.2","client_port":51234,
 *    "method":"GET","path":"/video/a.m4s","range":"bytes=0-16383","status":206,
 *    "bytes":16600,"duration_ms":1.234,"tls":false,"keepalive":true,"aborted":false,
 *    "lcore":1,"catalog_version":7,"file_id":12}
 *
 * "range" is null for responses without a range, "bytes=F-L" for one range, and "N parts from
 * byte F, B bytes" for multipart/byteranges (the record keeps the first byte and the file
 * bytes over all parts). "bytes" is what the client acknowledged, head included.
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

/* Maps the file. Returns 0 or -errno (-EPROTO: not an access log of this version). */
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
};

/* Takes up to max records from every ring (max 0: all there are). Returns 0, or the
 * callback's nonzero value. */
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
