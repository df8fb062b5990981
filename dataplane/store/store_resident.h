/* SPDX-License-Identifier: BSD-3-Clause
 *
 * store_resident.h: which parts of the store's files are in the page cache, known without a
 * system call on the lcores.
 *
 * An lcore must never wait for a disk: touching a mapped page that is not in the page cache
 * is a major fault, and the whole lcore (every connection on it) stops until the read
 * completes. The kernel can tell residency only through a system call (mincore), which the hot
 * path does not make. So residency is kept as a bitmap per file, one bit per 64 KiB chunk
 * (STORE_CHUNK_BYTES), in memory the lcores read with plain loads:
 *
 *   - the main thread sweeps every live catalog with mincore (store_resident_sweep), in slices
 *     between command-socket polls, so that each file is re-checked about once per
 *     dataplane.store.scan_interval_ms; a chunk's bit is set when every page of it is
 *     resident and cleared otherwise. The same pass fstat()s each file: a file found shorter
 *     than the catalog says is marked broken (its responses fail instead of raising SIGBUS);
 *   - the page-in helpers (store_pagein.h) set the bits of the chunks they just brought in;
 *   - the lcores read bits (store_resident_extent) before extending a response's stream: the
 *     stream stops at the first chunk that is not resident, and that chunk is paged in while
 *     the connection waits ("parked").
 *
 * Honest limits. A bit is a hint as old as the last sweep of its chunk: a page evicted after
 * the sweep saw it is still marked resident, and copying from it faults on the lcore. Pages an
 * lcore copied recently sit at the active end of the LRU and are evicted last, so in practice
 * this takes memory pressure severe enough to evict what was just sent; a shorter
 * scan_interval_ms narrows the window at the price of more sweeping. A resident page the
 * data plane never touched (the sweep found it in the page cache, no page-in mapped it) costs
 * the lcore one minor fault per 64 KiB (fault-around) on first copy: a kernel entry of about
 * a microsecond, no disk. Populating page tables for the whole resident store instead would
 * cost 8 bytes of page table per 4 KiB page (2 GiB per TiB). Cost of the sweep,
 * measured on the 2-core lab VM (perf/store_bench): mincore costs 0.3-3 ns per 4 KiB page for
 * pages the data plane has mapped (everything it served or paged in), but 70-100 ns per page
 * for pages that are in the page cache and were never touched by this process (content just
 * written by a fill): 0.1-0.7 ms of main-thread CPU per GiB and sweep in the first case, 18-25
 * ms in the second, plus one fstat (about 0.4 us) per file. A sweep step covers at most
 * STORE_SWEEP_STEP_PAGES (128 MiB) per 10 ms main-loop turn, so a store larger than about
 * 12 GiB per second of scan_interval_ms is swept more slowly than asked. Bitmap memory: one
 * bit per 64 KiB, 2 MiB per TiB of store. The lcore-side check costs one load per 64
 * chunks (4 MiB) scanned: about 55 ns for a resident 64 MiB range.
 *
 * Concurrency: bits change with atomic OR/AND (sweep and helpers are different threads);
 * lcores load words relaxed. A race between the sweep and a helper can clear a bit the helper
 * just set; the next page-in request for it is then fast (the pages are there) and sets it
 * again. Nothing here allocates; every function but store_resident_sweep* is safe on an lcore
 * (store_file_shrunk makes a system call: not for the per-packet path).
 */
#ifndef SLUICE_STORE_RESIDENT_H
#define SLUICE_STORE_RESIDENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "catalog.h"

#define STORE_CHUNK_SHIFT 16
#define STORE_CHUNK_BYTES (1ull << STORE_CHUNK_SHIFT)

static inline bool store_chunk_resident(const struct store_file *f, uint64_t chunk)
{
	return (__atomic_load_n(&f->resident[chunk >> 6], __ATOMIC_RELAXED) >> (chunk & 63)) & 1;
}

/* Hot path: the end of the resident run of bytes starting at offset, at most end (a file
 * offset, end <= size). Returns offset when the chunk holding offset is not resident. */
static inline uint64_t store_resident_extent(const struct store_file *f, uint64_t offset, uint64_t end)
{
	uint64_t chunk = offset >> STORE_CHUNK_SHIFT;
	uint64_t last = (end + STORE_CHUNK_BYTES - 1) >> STORE_CHUNK_SHIFT; /* exclusive */

	if (offset >= end)
		return end;
	while (chunk < last) {
		uint64_t word = __atomic_load_n(&f->resident[chunk >> 6], __ATOMIC_RELAXED) >> (chunk & 63);

		if (word == UINT64_MAX >> (chunk & 63)) {
			chunk = (chunk | 63) + 1; /* the rest of this word is resident */
			continue;
		}
		/* First clear bit at or after chunk, within this word. */
		chunk += (uint64_t)__builtin_ctzll(~word);
		break;
	}
	if (chunk >= last)
		return end;
	return chunk << STORE_CHUNK_SHIFT > offset ? chunk << STORE_CHUNK_SHIFT : offset;
}

/* Hot path: is every byte of [offset, offset + len) marked resident? */
static inline bool store_range_resident(const struct store_file *f, uint64_t offset, uint64_t len)
{
	return store_resident_extent(f, offset, offset + len) == offset + len;
}

static inline bool store_file_broken(const struct store_file *f)
{
	return __atomic_load_n(&f->broken, __ATOMIC_RELAXED) != 0;
}

/* Any thread: marks the file broken (shorter than the catalog says). Returns true for the
 * caller that set it first. */
bool store_file_mark_broken(struct store_file *f);

/* Any thread, one system call (fstat, about 0.4 us): whether the file on disk is now shorter
 * than the catalog says, as the sweep checks it. For rare paths that must tell a truncated
 * file from another cause before marking it broken (a SIGBUS in code that read the mapping
 * itself, tls_app.c); false when the size cannot be read. */
bool store_file_shrunk(const struct store_file *f);

/* Helpers and sweep: set (or clear) the bits of every chunk wholly inside [offset, end), the
 * last chunk of the file counting as whole when end is the file size. */
void store_resident_mark(struct store_file *f, uint64_t offset, uint64_t end, bool resident);

/* Control path (main thread): mincore over [offset, offset + len) of f (page aligned offset),
 * setting and clearing chunk bits; vec holds at least len / 4096 + 1 bytes. Returns 0 or
 * -errno (the mapping is gone: only in tests). */
int store_resident_scan(struct store_file *f, uint64_t offset, uint64_t len, uint8_t *vec);

/* Control path (main thread): what one sweep step found. */
struct store_sweep_result {
	uint64_t pages_scanned;
	uint32_t files_checked;     /* fstat size checks */
	uint32_t files_broken;      /* found shorter than listed, newly */
	uint32_t files_unlinked;    /* found deleted from the store (still served) */
	bool wrapped;               /* the catalog's sweep went once round */
};

/* Scans up to page_budget pages of cat from where its last step stopped, file after file,
 * checking each file's size when the scan enters it. vec: scratch of STORE_SWEEP_VEC_BYTES. */
#define STORE_SWEEP_VEC_BYTES 16384 /* 64 MiB of pages per mincore call */
#define STORE_SWEEP_STEP_PAGES 32768 /* at most 128 MiB per step (main.c) */
void store_resident_sweep(struct store_catalog *cat, uint64_t page_budget, uint8_t *vec,
			  struct store_sweep_result *result);
/* Control path: bytes of the catalog's files marked resident (chunk granularity). */
uint64_t store_resident_bytes(const struct store_catalog *cat);

/* The whole catalog at once (after loading, before the lcores see it). */
void store_resident_sweep_catalog(struct store_catalog *cat, uint8_t *vec, struct store_sweep_result *result);

#endif /* SLUICE_STORE_RESIDENT_H */
