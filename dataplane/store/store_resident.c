/* SPDX-License-Identifier: BSD-3-Clause
 *
 * store_resident.c: residency bitmaps, their sweep with mincore, size checks (see
 * store_resident.h). store_file_mark_broken and store_resident_mark run on any thread
 * (atomics only); the sweep runs on the main thread between command-socket polls.
 */
#include "store_resident.h"

#include <errno.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "compiler.h"
#include "log.h"

#define STORE_PAGE_BYTES 4096u
#define STORE_PAGES_PER_CHUNK (STORE_CHUNK_BYTES / STORE_PAGE_BYTES)

bool store_file_mark_broken(struct store_file *f)
{
	return __atomic_exchange_n(&f->broken, 1, __ATOMIC_RELAXED) == 0;
}

bool store_file_shrunk(const struct store_file *f)
{
	struct stat st;

	return f->fd >= 0 && fstat(f->fd, &st) == 0 && (uint64_t)st.st_size < f->size;
}

static void store_bits_set(struct store_file *f, uint64_t first, uint64_t last, bool resident)
{
	while (first < last) {
		uint64_t word = first >> 6, bit = first & 63;
		uint64_t n = SLUICE_MIN(64 - bit, last - first);
		uint64_t mask = (n == 64 ? UINT64_MAX : ((1ull << n) - 1)) << bit;

		if (resident)
			__atomic_fetch_or(&f->resident[word], mask, __ATOMIC_RELAXED);
		else
			__atomic_fetch_and(&f->resident[word], ~mask, __ATOMIC_RELAXED);
		first += n;
	}
}

void store_resident_mark(struct store_file *f, uint64_t offset, uint64_t end, bool resident)
{
	uint64_t first = (offset + STORE_CHUNK_BYTES - 1) >> STORE_CHUNK_SHIFT;
	uint64_t last = end >= f->size ? f->chunk_count : end >> STORE_CHUNK_SHIFT;

	if (!resident)
		first = offset >> STORE_CHUNK_SHIFT; /* any chunk touched is no longer whole */
	if (!resident && end < f->size)
		last = (end + STORE_CHUNK_BYTES - 1) >> STORE_CHUNK_SHIFT;
	if (last > f->chunk_count)
		last = f->chunk_count;
	store_bits_set(f, first, last, resident);
}

int store_resident_scan(struct store_file *f, uint64_t offset, uint64_t len, uint8_t *vec)
{
	uint64_t pages, chunk, first_chunk;

	if (!f->map || offset >= f->size)
		return 0;
	if (offset + len > f->size)
		len = f->size - offset;
	pages = (len + STORE_PAGE_BYTES - 1) / STORE_PAGE_BYTES;
	if (mincore((void *)(f->map + offset), len, vec))
		return -errno;
	/* offset is chunk aligned (callers scan whole chunks); a chunk is resident when all its
	 * pages are. */
	first_chunk = offset >> STORE_CHUNK_SHIFT;
	for (uint64_t p = 0, c = 0; p < pages; c++) {
		uint64_t n = SLUICE_MIN((uint64_t)STORE_PAGES_PER_CHUNK, pages - p);
		bool all = true;

		for (uint64_t i = 0; i < n && all; i++)
			all = vec[p + i] & 1;
		chunk = first_chunk + c;
		store_bits_set(f, chunk, chunk + 1, all);
		p += n;
	}
	return 0;
}

/* Size check: a file shorter than the catalog says would raise SIGBUS beyond its new end. */
static void store_check_size(struct store_file *f, struct store_sweep_result *result)
{
	struct stat st;

	if (f->fd < 0 || fstat(f->fd, &st))
		return;
	result->files_checked++;
	if ((uint64_t)st.st_size < f->size) {
		if (store_file_mark_broken(f))
			result->files_broken++;
		if (!f->broken_logged) {
			/* Reported once, whoever saw it first (an lcore's SIGBUS guard, a helper). */
			f->broken_logged = 1;
			log_warn("store: %s shrank to %lld bytes (catalog: %llu): its responses fail until "
				 "the next catalog", f->path, (long long)st.st_size, (unsigned long long)f->size);
		}
	}
	if (st.st_nlink == 0)
		result->files_unlinked++;
}

void store_resident_sweep(struct store_catalog *cat, uint64_t page_budget, uint8_t *vec,
			  struct store_sweep_result *result)
{
	uint32_t files_visited = 0;

	while (page_budget && cat->count && files_visited <= cat->count) {
		struct store_file *f;
		uint64_t len;

		if (cat->sweep_file >= cat->count) {
			cat->sweep_file = 0;
			cat->sweep_offset = 0;
			result->wrapped = true;
			break; /* once round per step at most */
		}
		f = &cat->files[cat->sweep_file];
		if (!cat->sweep_offset) {
			store_check_size(f, result);
			files_visited++;
		}
		len = SLUICE_MIN(page_budget, (uint64_t)STORE_SWEEP_VEC_BYTES) * STORE_PAGE_BYTES;
		if (f->map && !store_file_broken(f) && cat->sweep_offset < f->size) {
			uint64_t n = SLUICE_MIN(len, f->size - cat->sweep_offset);

			/* Keep scans chunk aligned: the budget is rounded up to whole chunks. */
			n = (n + STORE_CHUNK_BYTES - 1) & ~(STORE_CHUNK_BYTES - 1);
			store_resident_scan(f, cat->sweep_offset, n, vec);
			n = SLUICE_MIN(n, f->size - cat->sweep_offset);
			cat->sweep_offset += n;
			result->pages_scanned += (n + STORE_PAGE_BYTES - 1) / STORE_PAGE_BYTES;
			page_budget -= SLUICE_MIN(page_budget, (n + STORE_PAGE_BYTES - 1) / STORE_PAGE_BYTES);
		} else {
			page_budget--; /* an empty or broken file still costs a step */
		}
		if (!f->map || store_file_broken(f) || cat->sweep_offset >= f->size) {
			cat->sweep_file++;
			cat->sweep_offset = 0;
		}
	}
}

void store_resident_sweep_catalog(struct store_catalog *cat, uint8_t *vec, struct store_sweep_result *result)
{
	cat->sweep_file = 0;
	cat->sweep_offset = 0;
	while (!result->wrapped && cat->count)
		store_resident_sweep(cat, UINT64_MAX / 2, vec, result);
	cat->sweep_file = 0;
	cat->sweep_offset = 0;
}

uint64_t store_resident_bytes(const struct store_catalog *cat)
{
	uint64_t bytes = 0;

	for (uint32_t i = 0; i < cat->count; i++) {
		const struct store_file *f = &cat->files[i];

		for (uint64_t c = 0; c < f->chunk_count; c++)
			if (store_chunk_resident(f, c))
				bytes += SLUICE_MIN(STORE_CHUNK_BYTES, f->size - (c << STORE_CHUNK_SHIFT));
	}
	return bytes;
}
