/* SPDX-License-Identifier: BSD-3-Clause
 *
 * sluice_stats.h: the stats segment, the data plane's read-only window for the outside.
 *
 * Contract between sluice-dataplane (writer) and sluice-control, sluicectl, tests and
 * benchmarks (readers). A file in shared memory (default /dev/shm/sluice-stats) that the data
 * plane creates at start and refreshes while it runs:
 *
 *   [header][counter descriptors: name + kind, counter_count of them][lcore block 0][lcore block 1]...
 *
 * The segment describes itself: a reader learns every counter's name and kind from the
 * descriptors, so a reader built from an older or newer tree still reads what it knows and
 * shows the rest by name. Offsets and sizes are in the header; nothing is assumed.
 *
 * Consistency without locking the lcores: each worker lcore keeps its counters in its own
 * private context and publishes a snapshot into its block every publish period under a
 * sequence counter (odd while writing). A reader copies the block and retries if the sequence
 * changed or was odd. Liveness: the writer refreshes heartbeat_ns (CLOCK_MONOTONIC) at every
 * publish; a reader that sees it stale knows the data plane stopped, and a new pid or
 * start_time_ns means it restarted.
 */
#ifndef SLUICE_API_STATS_H
#define SLUICE_API_STATS_H

#include <stdint.h>

#define SLUICE_STATS_MAGIC 0x5354415453434c53ULL /* "SLCSTATS" little-endian */
#define SLUICE_STATS_VERSION 1
#define SLUICE_STATS_NAME_MAX 48
#define SLUICE_STATS_LCORES_MAX 64

enum sluice_stats_kind {
	SLUICE_STATS_COUNTER = 1, /* only grows (Prometheus counter) */
	SLUICE_STATS_GAUGE = 2,   /* current value (Prometheus gauge) */
};

struct sluice_stats_header {
	uint64_t magic;
	uint32_t version;
	uint32_t header_size;           /* sizeof(struct sluice_stats_header) of the writer */
	uint64_t segment_size;          /* bytes in the whole file */
	uint32_t counter_count;
	uint32_t lcore_count;
	uint32_t descriptors_offset;    /* from the start of the segment */
	uint32_t lcores_offset;
	uint32_t lcore_block_size;      /* bytes per lcore block, cache-line multiple */
	int32_t pid;                    /* writer */
	uint64_t start_time_ns;         /* CLOCK_REALTIME at start */
	volatile uint64_t heartbeat_ns; /* CLOCK_MONOTONIC at the last publish */
	uint64_t publish_period_us;
	uint64_t tsc_hz;                /* cycles per second of busy/idle cycle counters */
	char version_string[32];        /* sluice version that wrote the segment */
	uint8_t reserved[48];
};
_Static_assert(sizeof(struct sluice_stats_header) == 160, "stats header layout is a contract");

struct sluice_stats_descriptor {
	char name[SLUICE_STATS_NAME_MAX]; /* snake_case, unit as suffix: tx_bytes, busy_cycles */
	uint32_t kind;                    /* enum sluice_stats_kind */
	uint32_t reserved;
};
_Static_assert(sizeof(struct sluice_stats_descriptor) == 56, "descriptor layout is a contract");

struct sluice_stats_lcore {
	volatile uint64_t seq;      /* odd while the lcore writes the snapshot */
	uint32_t lcore_id;
	uint32_t queue_id;
	uint64_t snapshot_tsc;
	uint64_t reserved[5];
	uint64_t values[];          /* counter_count values, in descriptor order */
};
_Static_assert(sizeof(struct sluice_stats_lcore) == 64, "lcore block header is one cache line");

#endif /* SLUICE_API_STATS_H */
