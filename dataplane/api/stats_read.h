/* SPDX-License-Identifier: BSD-3-Clause
 *
 * stats_read.h: the reader side of the stats segment (sluice_stats.h), for sluice-control,
 * sluice-stats, tests and benchmarks. Never blocks the data plane: snapshots are taken with
 * the per-lcore sequence counters and retried when a publish was in progress.
 */
#ifndef SLUICE_API_STATS_READ_H
#define SLUICE_API_STATS_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice_stats.h"

struct stats_reader {
	const struct sluice_stats_header *header;
	size_t size;
	int fd;
};

struct stats_snapshot {
	uint32_t counter_count;
	uint32_t lcore_count;
	const struct sluice_stats_descriptor *descriptors; /* in the mapping */
	uint64_t *values;            /* lcore_count * counter_count, lcore major */
	uint64_t *totals;            /* counter_count, summed over lcores */
	int32_t pid;
	uint64_t start_time_ns;
	uint64_t heartbeat_age_ns;   /* now (CLOCK_MONOTONIC) - heartbeat */
	uint64_t tsc_hz;
	uint32_t lcore_ids[SLUICE_STATS_LCORES_MAX];
};

/* Maps the segment read-only. Returns 0 or -errno (-EPROTO: not a stats segment or an
 * incompatible version). */
int stats_reader_open(struct stats_reader *r, const char *path);
void stats_reader_close(struct stats_reader *r);

/* Takes a consistent snapshot (allocates its arrays; free with stats_snapshot_free). */
int stats_reader_snapshot(const struct stats_reader *r, struct stats_snapshot *s);
void stats_snapshot_free(struct stats_snapshot *s);

/* Index of a counter by name, or -1. */
int stats_snapshot_find(const struct stats_snapshot *s, const char *name);
/* Total of a counter by name over all lcores (0 if unknown). */
uint64_t stats_snapshot_total(const struct stats_snapshot *s, const char *name);

#endif /* SLUICE_API_STATS_READ_H */
