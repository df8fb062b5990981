/* SPDX-License-Identifier: BSD-3-Clause
 *
 * store_pagein.h: helper threads that bring store pages into memory so that lcores never
 * wait for a disk.
 *
 * When a response reaches a chunk that is not resident (store_resident.h), the lcore posts a
 * request — file, range, and a token naming the connection — on its own request ring and
 * parks the connection (its stream is simply not extended; TCP has nothing to send for it and
 * every other connection keeps flowing). A helper thread takes the request and pages the
 * range in: pread of exactly the range in 1 MiB pieces (large synchronous reads through the
 * page cache; a short read means the file shrank), then madvise(MADV_POPULATE_READ) over it,
 * which by then only fills this process's page tables, so the lcore's later copy takes
 * neither a major nor a minor fault. Measured on the lab VM (perf/store_bench, 2 MiB windows
 * of an evicted file): pread + populate 1.1-1.9 GB/s, populate alone (faulting the pages in)
 * 0.5-1 GB/s. Mappings are MADV_RANDOM (catalog.c): a fault never triggers the kernel's
 * read-around of up to read_ahead_kb; what is read is the response's own window
 * (dataplane.store.readahead_kb, bounded by the response's end), so a 16 KiB range request
 * reads 64 KiB, not megabytes. A range beyond the file's current end fails (-EFAULT: the
 * file shrank; the helper marks it broken) instead of raising SIGBUS. The helper then
 * sets the chunks' residency bits and posts a completion on the lcore's completion ring; the
 * lcore drains completions once per loop iteration (store_pagein_completions), measures the
 * page-in latency from the time it posted, and resumes the connection.
 *
 * Rings: per lcore, one request ring and one completion ring of equal size, each a
 * single-producer single-consumer ring on the lcore's side. Several helper threads consume
 * requests and produce completions: on the helpers' side each ring end is serialized by a mutex
 * that only helpers take, so the lcore never takes a lock, makes a system call or waits. The
 * lcore posts at most `ring size` requests before draining their completions, so a completion
 * always has room. Helpers poll (no wake-up system call from the lcore): they sleep 50 us
 * between polls while there was work in the last 10 ms and 1 ms when idle, which bounds the
 * added latency of a page-in and costs an idle helper about a thousand wake-ups per second.
 *
 * Lifetimes: a request names a file of a catalog; the lcore increments the catalog's
 * pagein_pending when posting and the helper decrements it once it no longer touches the
 * file, so the main thread (which frees replaced catalogs only when no lcore holds them and
 * pagein_pending is zero) never unmaps a file under a helper. Completions carry the token and
 * a cookie the lcore checks, so a connection that ended (and a slot reused) meanwhile ignores
 * them.
 *
 * Threads: store_pagein_create starts them (control path); with threads = 0 nothing runs and
 * the caller serves requests itself with store_pagein_service (unit tests).
 */
#ifndef SLUICE_STORE_PAGEIN_H
#define SLUICE_STORE_PAGEIN_H

#include <stdbool.h>
#include <stdint.h>

#include "catalog.h"

struct store_pagein;
struct store_pagein_queue;

struct store_pagein_request {
	struct store_file *file;
	uint64_t offset;               /* chunk aligned */
	uint64_t len;
	uint64_t posted_us;            /* lcore clock when posted (returned in the completion) */
	uint32_t token;                /* the lcore's: which connection (0: none, a prefetch) */
	uint32_t cookie;               /* the lcore's: which park of that connection */
};

struct store_pagein_completion {
	uint64_t posted_us;
	uint32_t token;
	uint32_t cookie;
	int32_t status;                /* 0, -EFAULT (the file is shorter than listed), -EIO */
	uint32_t pad;
};

/* Control path. lcores: request/completion ring pairs; ring_size: power of two; threads: helper
 * threads to start (0: none, serve with store_pagein_service). NULL with errno set. */
struct store_pagein *store_pagein_create(uint32_t lcores, uint32_t ring_size, uint32_t threads);
/* Stops and joins the threads, frees the rings. NULL is a no-op. */
void store_pagein_destroy(struct store_pagein *p);
struct store_pagein_queue *store_pagein_queue_of(struct store_pagein *p, uint32_t lcore_index);

/* lcore: posts a request; 0 or -ENOSPC (as many requests in flight as the ring holds). */
int store_pagein_post(struct store_pagein_queue *q, const struct store_pagein_request *request);
/* lcore: takes up to max completions; returns how many. */
uint32_t store_pagein_completions(struct store_pagein_queue *q, struct store_pagein_completion *out, uint32_t max);
/* lcore: requests posted and not yet completed-and-taken. */
uint32_t store_pagein_in_flight(const struct store_pagein_queue *q);

/* Helpers, or the test thread: serves up to max requests from any lcore's ring (blocking on
 * the disk); returns how many were served. */
uint32_t store_pagein_service(struct store_pagein *p, uint32_t max);

/* Helpers' totals, for logs and tests (any thread). */
struct store_pagein_totals {
	uint64_t served;
	uint64_t failed;
	uint64_t bytes;
};
void store_pagein_totals(const struct store_pagein *p, struct store_pagein_totals *t);

#endif /* SLUICE_STORE_PAGEIN_H */
