/* SPDX-License-Identifier: BSD-3-Clause
 *
 * stats_read.c: reading the stats segment (see stats_read.h).
 */
#include "stats_read.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int stats_reader_open(struct stats_reader *r, const char *path)
{
	struct stat st;
	void *map;
	int rc;

	memset(r, 0, sizeof(*r));
	r->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (r->fd < 0)
		return -errno;
	if (fstat(r->fd, &st) || (size_t)st.st_size < sizeof(struct sluice_stats_header)) {
		rc = -EPROTO;
		goto fail;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, r->fd, 0);
	if (map == MAP_FAILED) {
		rc = -errno;
		goto fail;
	}
	r->header = map;
	r->size = (size_t)st.st_size;
	if (r->header->magic != SLUICE_STATS_MAGIC || r->header->version != SLUICE_STATS_VERSION ||
	    r->header->segment_size > r->size || r->header->lcore_count > SLUICE_STATS_LCORES_MAX ||
	    (uint64_t)r->header->descriptors_offset + (uint64_t)r->header->counter_count *
		    sizeof(struct sluice_stats_descriptor) > r->size ||
	    (uint64_t)r->header->lcores_offset + (uint64_t)r->header->lcore_count * r->header->lcore_block_size >
		    r->size ||
	    sizeof(struct sluice_stats_lcore) + (uint64_t)r->header->counter_count * 8 > r->header->lcore_block_size) {
		munmap(map, r->size);
		r->header = NULL;
		rc = -EPROTO;
		goto fail;
	}
	return 0;
fail:
	close(r->fd);
	r->fd = -1;
	return rc;
}

void stats_reader_close(struct stats_reader *r)
{
	if (r->header)
		munmap((void *)r->header, r->size);
	if (r->fd >= 0)
		close(r->fd);
	r->header = NULL;
	r->fd = -1;
}

int stats_reader_snapshot(const struct stats_reader *r, struct stats_snapshot *s)
{
	const struct sluice_stats_header *h = r->header;
	struct timespec now;

	memset(s, 0, sizeof(*s));
	s->counter_count = h->counter_count;
	s->lcore_count = h->lcore_count;
	s->descriptors = (const struct sluice_stats_descriptor *)((const uint8_t *)h + h->descriptors_offset);
	s->values = calloc((size_t)s->lcore_count * s->counter_count + 1, sizeof(uint64_t));
	s->totals = calloc((size_t)s->counter_count + 1, sizeof(uint64_t));
	if (!s->values || !s->totals) {
		stats_snapshot_free(s);
		return -ENOMEM;
	}
	for (uint32_t l = 0; l < s->lcore_count; l++) {
		const struct sluice_stats_lcore *b =
			(const struct sluice_stats_lcore *)((const uint8_t *)h + h->lcores_offset +
							    (size_t)l * h->lcore_block_size);
		uint64_t *dst = s->values + (size_t)l * s->counter_count;

		for (int attempt = 0;; attempt++) {
			uint64_t seq1 = __atomic_load_n(&b->seq, __ATOMIC_ACQUIRE), seq2;

			if (!(seq1 & 1)) {
				memcpy(dst, (const void *)b->values, s->counter_count * sizeof(uint64_t));
				__atomic_thread_fence(__ATOMIC_ACQUIRE);
				seq2 = __atomic_load_n(&b->seq, __ATOMIC_ACQUIRE);
				if (seq1 == seq2)
					break;
			}
			if (attempt > 1000) { /* a writer that died mid-publish: take what is there */
				memcpy(dst, (const void *)b->values, s->counter_count * sizeof(uint64_t));
				break;
			}
		}
		s->lcore_ids[l] = b->lcore_id;
		for (uint32_t c = 0; c < s->counter_count; c++)
			s->totals[c] += dst[c];
	}
	s->pid = h->pid;
	s->start_time_ns = h->start_time_ns;
	s->tsc_hz = h->tsc_hz;
	clock_gettime(CLOCK_MONOTONIC, &now);
	{
		uint64_t now_ns = (uint64_t)now.tv_sec * 1000000000ULL + (uint64_t)now.tv_nsec;
		uint64_t hb = h->heartbeat_ns;
		s->heartbeat_age_ns = now_ns > hb ? now_ns - hb : 0;
	}
	return 0;
}

void stats_snapshot_free(struct stats_snapshot *s)
{
	free(s->values);
	free(s->totals);
	s->values = s->totals = NULL;
}

int stats_snapshot_find(const struct stats_snapshot *s, const char *name)
{
	for (uint32_t i = 0; i < s->counter_count; i++)
		if (!strncmp(s->descriptors[i].name, name, SLUICE_STATS_NAME_MAX))
			return (int)i;
	return -1;
}

uint64_t stats_snapshot_total(const struct stats_snapshot *s, const char *name)
{
	int i = stats_snapshot_find(s, name);

	return i < 0 ? 0 : s->totals[i];
}
