/* SPDX-License-Identifier: BSD-3-Clause
 *
 * store_bench.c: what the segment store's safety nets cost (one JSON object on stdout).
 *
 *   store_bench [DIR] [MIB]       a MIB-MiB scratch file in DIR (default /tmp, 256)
 *
 * Measures, on one core:
 *   - mincore over a mapping, per 4 KiB page: pages in the page cache and in our page tables,
 *     and in the page cache only (what the residency sweep pays per sweep, store_resident.h);
 *   - the whole catalog sweep step (store_resident_scan) per GiB;
 *   - the lcore-side residency check (store_resident_extent) over a resident 64 MiB range;
 *   - sigsetjmp(env, 0) and store_guard_copy against a plain memcpy, for one 1448-byte segment
 *     and one 64 KiB TSO burst (what the SIGBUS guard adds per copy, store_guard.h);
 *   - page-in of an evicted file in 2 MiB windows: posix_fadvise(WILLNEED) +
 *     madvise(MADV_POPULATE_READ) on an MADV_RANDOM mapping (store_pagein.c), per window and
 *     as MB/s, and pread of the same windows for comparison.
 * Numbers vary with the machine and with other load; the data plane's README quotes a run.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "compiler.h"
#include "store/catalog.h"
#include "store/store_guard.h"
#include "store/store_resident.h"

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif

static double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void bench_evict(int fd)
{
	fdatasync(fd);
	posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "/tmp";
	size_t mib = argc > 2 ? strtoul(argv[2], NULL, 10) : 256, size = mib << 20, pages = size / 4096;
	char path[512];
	uint8_t *map, *vec = malloc(pages), *buf = malloc(1 << 21), *dst = malloc(65536);
	struct store_file f;
	struct store_catalog cat;
	volatile uint64_t sink = 0;
	double t0, mincore_mapped_ns, mincore_cache_ns, scan_ms_per_gib, extent_ns, setjmp_ns;
	double copy_ns[2], guarded_ns[2], populate_ms, populate_mbs, pread_ms, pread_mbs, pread_populate_ms,
	       pread_populate_mbs;
	const size_t sizes[2] = {1448, 65536};
	int fd, reps;

	snprintf(path, sizeof(path), "%s/store_bench.XXXXXX", dir);
	fd = mkstemp(path);
	if (fd < 0 || !vec || !buf || !dst) {
		perror("store_bench");
		return 1;
	}
	unlink(path);
	for (size_t off = 0; off < size; off += 1 << 21) {
		for (size_t i = 0; i < (1u << 21); i += 8)
			*(uint64_t *)(void *)(buf + i) = off + i * 0x9e3779b97f4a7c15ull;
		if (write(fd, buf, 1 << 21) != 1 << 21) {
			perror("write");
			return 1;
		}
	}
	fsync(fd);
	map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	madvise(map, size, MADV_RANDOM);

	/* mincore: page cache only (nothing mapped in our page tables yet), then mapped. */
	reps = 20;
	t0 = bench_now();
	for (int r = 0; r < reps; r++)
		mincore(map, size, vec);
	mincore_cache_ns = (bench_now() - t0) / reps / (double)pages * 1e9;
	for (size_t i = 0; i < size; i += 4096)
		sink += map[i];
	t0 = bench_now();
	for (int r = 0; r < reps; r++)
		mincore(map, size, vec);
	mincore_mapped_ns = (bench_now() - t0) / reps / (double)pages * 1e9;

	/* A store_file over the mapping, for the store's own functions. */
	memset(&f, 0, sizeof(f));
	memset(&cat, 0, sizeof(cat));
	f.map = map;
	f.size = size;
	f.fd = fd;
	f.chunk_count = (uint32_t)((size + STORE_CHUNK_BYTES - 1) >> STORE_CHUNK_SHIFT);
	f.resident = calloc((f.chunk_count + 63) / 64, sizeof(uint64_t));
	f.catalog = &cat;
	t0 = bench_now();
	for (int r = 0; r < reps; r++)
		for (uint64_t off = 0; off < size; off += (uint64_t)STORE_SWEEP_VEC_BYTES * 4096)
			store_resident_scan(&f, off, SLUICE_MIN((uint64_t)STORE_SWEEP_VEC_BYTES * 4096, size - off), vec);
	scan_ms_per_gib = (bench_now() - t0) / reps * 1e3 * 1024.0 / (double)mib;
	reps = 1000000;
	t0 = bench_now();
	for (int r = 0; r < reps; r++)
		sink += store_resident_extent(&f, (uint64_t)(r & 7) * 4096, SLUICE_MIN(size, (size_t)64 << 20));
	extent_ns = (bench_now() - t0) / reps * 1e9;

	/* The SIGBUS guard. */
	{
		sigjmp_buf env;

		reps = 10000000;
		t0 = bench_now();
		for (int r = 0; r < reps; r++) {
			if (sigsetjmp(env, 0))
				sink++;
			__asm__ volatile("" ::: "memory");
		}
		setjmp_ns = (bench_now() - t0) / reps * 1e9;
	}
	for (int k = 0; k < 2; k++) {
		reps = k ? 200000 : 2000000;
		t0 = bench_now();
		for (int r = 0; r < reps; r++) {
			memcpy(dst, map + ((size_t)(r & 1023) << 16), sizes[k]);
			__asm__ volatile("" : : "r"(dst) : "memory");
		}
		copy_ns[k] = (bench_now() - t0) / reps * 1e9;
		t0 = bench_now();
		for (int r = 0; r < reps; r++)
			sink += (uint64_t)store_guard_copy(dst, map + ((size_t)(r & 1023) << 16), sizes[k]);
		guarded_ns[k] = (bench_now() - t0) / reps * 1e9;
	}

	/* Page-in of an evicted file, 2 MiB windows, as the helpers do it. */
	munmap(map, size);
	bench_evict(fd);
	map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	madvise(map, size, MADV_RANDOM);
	t0 = bench_now();
	for (size_t off = 0; off < size; off += 1 << 21) {
		posix_fadvise(fd, (off_t)off, 1 << 21, POSIX_FADV_WILLNEED);
		if (madvise(map + off, 1 << 21, MADV_POPULATE_READ)) {
			perror("MADV_POPULATE_READ");
			break;
		}
	}
	populate_ms = (bench_now() - t0) * 1e3 / (double)(size >> 21);
	populate_mbs = (double)size / ((bench_now() - t0) * 1e6);
	munmap(map, size);
	bench_evict(fd);
	t0 = bench_now();
	for (size_t off = 0; off < size; off += 1 << 21)
		if (pread(fd, buf, 1 << 21, (off_t)off) != 1 << 21)
			break;
	pread_ms = (bench_now() - t0) * 1e3 / (double)(size >> 21);
	pread_mbs = (double)size / ((bench_now() - t0) * 1e6);
	/* pread (the disk), then MADV_POPULATE_READ of what is cached now (page tables only). */
	bench_evict(fd);
	map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	madvise(map, size, MADV_RANDOM);
	t0 = bench_now();
	for (size_t off = 0; off < size; off += 1 << 21)
		if (pread(fd, buf, 1 << 21, (off_t)off) != 1 << 21 || madvise(map + off, 1 << 21, MADV_POPULATE_READ))
			break;
	pread_populate_ms = (bench_now() - t0) * 1e3 / (double)(size >> 21);
	pread_populate_mbs = (double)size / ((bench_now() - t0) * 1e6);
	munmap(map, size);
	close(fd);

	printf("{\"bench\":\"store_bench\",\"file_mib\":%zu,"
	       "\"mincore_ns_per_page_mapped\":%.2f,\"mincore_ns_per_page_cache_only\":%.2f,"
	       "\"sweep_scan_ms_per_gib\":%.2f,\"resident_extent_ns_64mib\":%.1f,"
	       "\"sigsetjmp_nomask_ns\":%.2f,\"memcpy_1448_ns\":%.1f,\"guarded_copy_1448_ns\":%.1f,"
	       "\"memcpy_65536_ns\":%.1f,\"guarded_copy_65536_ns\":%.1f,"
	       "\"pagein_2mib_window_ms\":%.2f,\"pagein_mb_per_s\":%.0f,"
	       "\"pread_2mib_window_ms\":%.2f,\"pread_mb_per_s\":%.0f,"
	       "\"pread_populate_2mib_window_ms\":%.2f,\"pread_populate_mb_per_s\":%.0f,\"sink\":%llu}\n",
	       mib, mincore_mapped_ns, mincore_cache_ns, scan_ms_per_gib, extent_ns, setjmp_ns, copy_ns[0],
	       guarded_ns[0], copy_ns[1], guarded_ns[1], populate_ms, populate_mbs, pread_ms, pread_mbs,
	       pread_populate_ms, pread_populate_mbs, (unsigned long long)(sink & 1));
	free(f.resident);
	free(vec);
	free(buf);
	free(dst);
	return 0;
}
