/* SPDX-License-Identifier: BSD-3-Clause
 *
 * stats.h: the writer side of the stats segment (api/sluice_stats.h).
 *
 * The main thread creates the segment at start (control path); each worker lcore publishes
 * its own counters into its block with stats_publish() every publish period (a copy of a few
 * hundred bytes under a sequence counter: no lock, no system call); the main thread refreshes
 * the heartbeat. The reader side used by tools and the control plane is stats_read.c.
 */
#ifndef SLUICE_DP_STATS_H
#define SLUICE_DP_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "counters.h"
#include "sluice_stats.h"

struct stats_segment {
	struct sluice_stats_header *header;
	size_t size;
	char path[256];
};

int stats_segment_create(struct stats_segment *seg, const char *path, uint32_t lcore_count, uint64_t tsc_hz,
			 uint64_t publish_period_us);
void stats_segment_destroy(struct stats_segment *seg);
struct sluice_stats_lcore *stats_segment_lcore(struct stats_segment *seg, uint32_t index);
void stats_heartbeat(struct stats_segment *seg);

/* Per lcore, every publish period. */
void stats_publish(struct sluice_stats_lcore *block, const struct dp_counters *counters, uint64_t tsc);

#endif /* SLUICE_DP_STATS_H */
