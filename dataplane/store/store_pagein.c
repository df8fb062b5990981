/* SPDX-License-Identifier: BSD-3-Clause
 *
 * store_pagein.c: page-in rings and helper threads (see store_pagein.h).
 *
 * The lcore side (post, completions, in_flight) is per packet: lock-free ring operations
 * only. Everything else runs on helper threads or the control path and may block.
 */
#include "store_pagein.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "compiler.h"
#include "log.h"
#include "store_resident.h"

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif

#define STORE_PAGEIN_BUSY_SLEEP_NS 50000
#define STORE_PAGEIN_IDLE_SLEEP_NS 1000000
#define STORE_PAGEIN_BUSY_WINDOW_NS 10000000
#define STORE_PAGEIN_READ_BUFFER (1u << 20)

/* One lcore's rings. head/tail are free-running; slot = index & mask. */
struct store_pagein_queue {
	/* Request ring: the lcore produces, helpers consume (under request_lock). */
	volatile uint32_t request_head sluice_cache_aligned;
	volatile uint32_t request_tail sluice_cache_aligned;
	/* Completion ring: helpers produce (under completion_lock), the lcore consumes. */
	volatile uint32_t completion_head sluice_cache_aligned;
	volatile uint32_t completion_tail sluice_cache_aligned;
	/* lcore only: posted - taken. */
	uint32_t in_flight sluice_cache_aligned;
	uint32_t mask;
	struct store_pagein_request *requests;
	struct store_pagein_completion *completions;
	pthread_mutex_t request_lock;
	pthread_mutex_t completion_lock;
};

struct store_pagein {
	uint32_t queue_count;
	uint32_t ring_size;
	struct store_pagein_queue *queues;
	uint32_t next_queue;            /* round robin over lcores, under dispatch_lock */
	pthread_mutex_t dispatch_lock;
	uint32_t thread_count;
	pthread_t *threads;
	volatile bool stop;
	uint64_t served, failed, bytes; /* atomics */
};

static void *store_pagein_thread(void *arg);

struct store_pagein *store_pagein_create(uint32_t lcores, uint32_t ring_size, uint32_t threads)
{
	struct store_pagein *p;

	if (!lcores || !ring_size || (ring_size & (ring_size - 1))) {
		errno = EINVAL;
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->ring_size = ring_size;
	pthread_mutex_init(&p->dispatch_lock, NULL);
	p->queues = aligned_alloc(SLUICE_CACHE_LINE,
				  (sizeof(*p->queues) * lcores + SLUICE_CACHE_LINE - 1) & ~(size_t)(SLUICE_CACHE_LINE - 1));
	if (!p->queues)
		goto fail;
	memset(p->queues, 0, sizeof(*p->queues) * lcores);
	for (uint32_t i = 0; i < lcores; i++) {
		struct store_pagein_queue *q = &p->queues[i];

		q->mask = ring_size - 1;
		q->requests = calloc(ring_size, sizeof(*q->requests));
		q->completions = calloc(ring_size, sizeof(*q->completions));
		pthread_mutex_init(&q->request_lock, NULL);
		pthread_mutex_init(&q->completion_lock, NULL);
		p->queue_count = i + 1;
		if (!q->requests || !q->completions)
			goto fail;
	}
	if (threads) {
		p->threads = calloc(threads, sizeof(*p->threads));
		if (!p->threads)
			goto fail;
		for (uint32_t i = 0; i < threads; i++) {
			int rc = pthread_create(&p->threads[i], NULL, store_pagein_thread, p);

			if (rc) {
				errno = rc;
				goto fail;
			}
			p->thread_count = i + 1;
			pthread_setname_np(p->threads[i], "sluice-pagein");
		}
	}
	return p;
fail:
	{
		int saved = errno ? errno : ENOMEM;

		store_pagein_destroy(p);
		errno = saved;
	}
	return NULL;
}

void store_pagein_destroy(struct store_pagein *p)
{
	if (!p)
		return;
	p->stop = true;
	for (uint32_t i = 0; i < p->thread_count; i++)
		pthread_join(p->threads[i], NULL);
	free(p->threads);
	for (uint32_t i = 0; p->queues && i < p->queue_count; i++) {
		free(p->queues[i].requests);
		free(p->queues[i].completions);
		pthread_mutex_destroy(&p->queues[i].request_lock);
		pthread_mutex_destroy(&p->queues[i].completion_lock);
	}
	free(p->queues);
	pthread_mutex_destroy(&p->dispatch_lock);
	free(p);
}

struct store_pagein_queue *store_pagein_queue_of(struct store_pagein *p, uint32_t lcore_index)
{
	return lcore_index < p->queue_count ? &p->queues[lcore_index] : NULL;
}

/* --- lcore side -------------------------------------------------------------------------------- */

int store_pagein_post(struct store_pagein_queue *q, const struct store_pagein_request *request)
{
	uint32_t head = q->request_head;

	if (q->in_flight > q->mask)
		return -ENOSPC;
	q->requests[head & q->mask] = *request;
	__atomic_fetch_add(&request->file->catalog->pagein_pending, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&q->request_head, head + 1, __ATOMIC_RELEASE);
	q->in_flight++;
	return 0;
}

uint32_t store_pagein_completions(struct store_pagein_queue *q, struct store_pagein_completion *out, uint32_t max)
{
	uint32_t tail = q->completion_tail;
	uint32_t head = __atomic_load_n(&q->completion_head, __ATOMIC_ACQUIRE);
	uint32_t n = 0;

	while (tail != head && n < max)
		out[n++] = q->completions[tail++ & q->mask];
	if (n) {
		__atomic_store_n(&q->completion_tail, tail, __ATOMIC_RELEASE);
		q->in_flight -= n;
	}
	return n;
}

uint32_t store_pagein_in_flight(const struct store_pagein_queue *q)
{
	return q->in_flight;
}

/* --- helper side --------------------------------------------------------------------------------- */

/* Each helper's scratch for pread (freed when the helper ends). */
static __thread uint8_t *store_pagein_buffer;

/* Reads [offset, offset + len) through the page cache: large synchronous reads of exactly
 * the range (a short read means the file shrank). */
static int store_pagein_read(struct store_file *f, uint64_t offset, uint64_t len)
{
	uint8_t *buffer = store_pagein_buffer;

	if (!buffer && !(buffer = store_pagein_buffer = malloc(STORE_PAGEIN_READ_BUFFER)))
		return -ENOMEM;
	while (len) {
		size_t n = (size_t)SLUICE_MIN(len, (uint64_t)STORE_PAGEIN_READ_BUFFER);
		ssize_t got = pread(f->fd, buffer, n, (off_t)offset);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return -EIO;
		if ((size_t)got < n)
			return -EFAULT;
		offset += n;
		len -= n;
	}
	return 0;
}

static int store_pagein_range(struct store_file *f, uint64_t offset, uint64_t len)
{
	static bool populate_unsupported;
	struct stat st;
	int rc;

	if (store_file_broken(f))
		return -EFAULT;
	if (offset >= f->size)
		return 0;
	len = SLUICE_MIN(len, f->size - offset);
	/* The disk part: pread, which is about twice as fast here as faulting the pages in
	 * (perf/store_bench), then the page tables of what is cached now, so that the lcore's
	 * copy does not even take a minor fault. Kernels before 5.14 lack MADV_POPULATE_READ:
	 * the lcore then takes one minor fault per 64 KiB (fault-around) on first access. */
	rc = store_pagein_read(f, offset, len);
	while (!rc && !populate_unsupported && madvise((void *)(f->map + offset), len, MADV_POPULATE_READ)) {
		if (errno == EINTR || errno == EAGAIN)
			continue;
		if (errno == EINVAL)
			populate_unsupported = true;
		else
			rc = errno == EFAULT ? -EFAULT : -EIO;
	}
	if (rc == -EFAULT && fstat(f->fd, &st) == 0 && (uint64_t)st.st_size >= f->size)
		rc = -EIO; /* not a truncation after all */
	if (rc == -EFAULT && store_file_mark_broken(f))
		log_warn("store: %s is shorter than the catalog says: its responses fail until the next catalog",
			 f->path);
	if (!rc)
		store_resident_mark(f, offset, offset + len, true);
	return rc;
}

/* Pops one request from some lcore's ring (round robin). */
static bool store_pagein_take(struct store_pagein *p, struct store_pagein_request *r, uint32_t *queue)
{
	bool found = false;

	pthread_mutex_lock(&p->dispatch_lock);
	for (uint32_t n = 0; n < p->queue_count && !found; n++) {
		uint32_t i = p->next_queue++ % p->queue_count;
		struct store_pagein_queue *q = &p->queues[i];
		uint32_t tail = q->request_tail;

		if (tail == __atomic_load_n(&q->request_head, __ATOMIC_ACQUIRE))
			continue;
		*r = q->requests[tail & q->mask];
		__atomic_store_n(&q->request_tail, tail + 1, __ATOMIC_RELEASE);
		*queue = i;
		found = true;
	}
	pthread_mutex_unlock(&p->dispatch_lock);
	return found;
}

static void store_pagein_complete(struct store_pagein_queue *q, const struct store_pagein_request *r, int status)
{
	uint32_t head;

	pthread_mutex_lock(&q->completion_lock);
	head = q->completion_head;
	/* Room is guaranteed: the lcore has at most ring-size requests outstanding. */
	q->completions[head & q->mask] = (struct store_pagein_completion){
		.posted_us = r->posted_us, .token = r->token, .cookie = r->cookie, .status = status};
	__atomic_store_n(&q->completion_head, head + 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&q->completion_lock);
}

uint32_t store_pagein_service(struct store_pagein *p, uint32_t max)
{
	uint32_t served = 0;

	while (served < max) {
		struct store_pagein_request r = {0};
		uint32_t queue;
		int rc;

		if (!store_pagein_take(p, &r, &queue))
			break;
		rc = store_pagein_range(r.file, r.offset, r.len);
		__atomic_fetch_add(rc ? &p->failed : &p->served, 1, __ATOMIC_RELAXED);
		if (!rc)
			__atomic_fetch_add(&p->bytes, r.len, __ATOMIC_RELAXED);
		/* Done with the file: its catalog may be freed from now on. */
		__atomic_fetch_sub(&r.file->catalog->pagein_pending, 1, __ATOMIC_RELEASE);
		store_pagein_complete(&p->queues[queue], &r, rc);
		served++;
	}
	return served;
}

static uint64_t store_pagein_clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void *store_pagein_thread(void *arg)
{
	struct store_pagein *p = arg;
	uint64_t last_work = 0;

	while (!p->stop) {
		uint64_t now;
		struct timespec pause;

		if (store_pagein_service(p, 16)) {
			last_work = store_pagein_clock_ns();
			continue;
		}
		now = store_pagein_clock_ns();
		pause.tv_sec = 0;
		pause.tv_nsec = now - last_work < STORE_PAGEIN_BUSY_WINDOW_NS ? STORE_PAGEIN_BUSY_SLEEP_NS
									   : STORE_PAGEIN_IDLE_SLEEP_NS;
		nanosleep(&pause, NULL);
	}
	free(store_pagein_buffer);
	store_pagein_buffer = NULL;
	return NULL;
}

void store_pagein_totals(const struct store_pagein *p, struct store_pagein_totals *t)
{
	t->served = __atomic_load_n(&p->served, __ATOMIC_RELAXED);
	t->failed = __atomic_load_n(&p->failed, __ATOMIC_RELAXED);
	t->bytes = __atomic_load_n(&p->bytes, __ATOMIC_RELAXED);
}
