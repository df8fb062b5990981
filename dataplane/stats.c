/* SPDX-License-Identifier: BSD-3-Clause
 *
 * stats.c: creating the stats segment and publishing into it (see stats.h and
 * api/sluice_stats.h for the layout and the consistency rule).
 */
#include "stats.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static uint64_t stats_clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int stats_segment_create(struct stats_segment *seg, const char *path, uint32_t lcore_count, uint64_t tsc_hz,
			 uint64_t publish_period_us)
{
	size_t desc_off = sizeof(struct sluice_stats_header);
	size_t lcores_off = (desc_off + DP_COUNTER_COUNT * sizeof(struct sluice_stats_descriptor) + 63) & ~(size_t)63;
	size_t block = (sizeof(struct sluice_stats_lcore) + DP_COUNTER_COUNT * sizeof(uint64_t) + 63) & ~(size_t)63;
	char tmp[300];
	struct sluice_stats_header *h;
	struct sluice_stats_descriptor *d;
	int fd, rc;

	memset(seg, 0, sizeof(*seg));
	if (lcore_count > SLUICE_STATS_LCORES_MAX)
		return -EINVAL;
	seg->size = lcores_off + block * lcore_count;
	snprintf(seg->path, sizeof(seg->path), "%s", path);
	/* Build under a temporary name and rename, so a reader never maps a half-written
	 * header. */
	snprintf(tmp, sizeof(tmp), "%s.%d", path, (int)getpid());
	fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)seg->size)) {
		rc = -errno;
		goto fail;
	}
	h = mmap(NULL, seg->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (h == MAP_FAILED) {
		rc = -errno;
		goto fail;
	}
	seg->header = h;
	h->magic = SLUICE_STATS_MAGIC;
	h->version = SLUICE_STATS_VERSION;
	h->header_size = sizeof(*h);
	h->segment_size = seg->size;
	h->counter_count = DP_COUNTER_COUNT;
	h->lcore_count = lcore_count;
	h->descriptors_offset = (uint32_t)desc_off;
	h->lcores_offset = (uint32_t)lcores_off;
	h->lcore_block_size = (uint32_t)block;
	h->pid = getpid();
	h->start_time_ns = stats_clock_ns(CLOCK_REALTIME);
	h->publish_period_us = publish_period_us;
	h->tsc_hz = tsc_hz;
	snprintf(h->version_string, sizeof(h->version_string), "%s", SLUICE_VERSION);
	d = (struct sluice_stats_descriptor *)((uint8_t *)h + desc_off);
	for (uint32_t i = 0; i < DP_COUNTER_COUNT; i++) {
		snprintf(d[i].name, sizeof(d[i].name), "%s", dp_counter_name((enum dp_counter_id)i));
		d[i].kind = (uint32_t)dp_counter_kind((enum dp_counter_id)i);
	}
	h->heartbeat_ns = stats_clock_ns(CLOCK_MONOTONIC);
	if (rename(tmp, path)) {
		rc = -errno;
		munmap(h, seg->size);
		seg->header = NULL;
		goto fail;
	}
	close(fd);
	return 0;
fail:
	close(fd);
	unlink(tmp);
	return rc;
}

void stats_segment_destroy(struct stats_segment *seg)
{
	if (!seg->header)
		return;
	/* The file stays: a reader can still see the last values and that the heartbeat stopped;
	 * the next start replaces it. */
	munmap(seg->header, seg->size);
	seg->header = NULL;
}

struct sluice_stats_lcore *stats_segment_lcore(struct stats_segment *seg, uint32_t index)
{
	return (struct sluice_stats_lcore *)((uint8_t *)seg->header + seg->header->lcores_offset +
					     (size_t)index * seg->header->lcore_block_size);
}

void stats_heartbeat(struct stats_segment *seg)
{
	seg->header->heartbeat_ns = stats_clock_ns(CLOCK_MONOTONIC);
}

void stats_publish(struct sluice_stats_lcore *block, const struct dp_counters *counters, uint64_t tsc)
{
	uint64_t seq = block->seq;

	block->seq = seq + 1; /* odd: being written */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	memcpy((void *)block->values, counters->value, sizeof(counters->value));
	block->snapshot_tsc = tsc;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	block->seq = seq + 2;
}
