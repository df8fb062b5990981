/* SPDX-License-Identifier: BSD-3-Clause
 *
 * http_accesslog.h: the writer side of the access log rings (layout and ordering rules in
 * api/sluice_accesslog.h).
 *
 * main.c creates the shared-memory file at start (control path): a header and one ring per
 * worker lcore, built under a temporary name and renamed so a reader never maps a half-made
 * file. Each lcore gets a struct http_accesslog_writer for its ring and pushes one record per
 * response (http_accesslog_push, hot path): a copy of 176 bytes into the slot and a release
 * store of head; never a system call, never a wait. A full ring (the reader is behind or
 * absent) counts the record in the ring's `dropped` instead of blocking. The file stays in
 * place when the data plane stops, so a reader can drain the last records; the next start
 * replaces it.
 */
#ifndef SLUICE_HTTP_ACCESSLOG_H
#define SLUICE_HTTP_ACCESSLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice_accesslog.h"

struct http_accesslog {
	struct sluice_accesslog_header *header;
	size_t size;
	char path[256];
};

struct http_accesslog_writer {
	struct sluice_accesslog_ring *ring;     /* NULL: no access log */
	struct sluice_accesslog_record *records;
	uint32_t mask;
};

/* Control path. ring_records: a power of two. Returns 0 or -errno. */
int http_accesslog_create(struct http_accesslog *log, const char *path, uint32_t lcore_count,
			  uint32_t ring_records);
/* Unmaps (the file stays for readers). */
void http_accesslog_close(struct http_accesslog *log);
/* The writer of ring index for lcore_id. */
struct http_accesslog_writer http_accesslog_writer_of(struct http_accesslog *log, uint32_t index,
							uint32_t lcore_id);

/* Hot path: appends a record; false (and counted in the ring's dropped) when the ring is full. */
static inline bool http_accesslog_push(struct http_accesslog_writer *w, const struct sluice_accesslog_record *rec)
{
	struct sluice_accesslog_ring *ring = w->ring;
	uint64_t head = ring->head;

	if (head - __atomic_load_n(&ring->tail, __ATOMIC_ACQUIRE) > w->mask) {
		ring->dropped = ring->dropped + 1;
		return false;
	}
	w->records[head & w->mask] = *rec;
	__atomic_store_n(&ring->head, head + 1, __ATOMIC_RELEASE);
	return true;
}

#endif /* SLUICE_HTTP_ACCESSLOG_H */
