/* SPDX-License-Identifier: BSD-3-Clause
 *
 * http_accesslog.c: creating the access log file (control path; see http_accesslog.h).
 */
#include "http_accesslog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "compiler.h"

int http_accesslog_create(struct http_accesslog *log, const char *path, uint32_t lcore_count,
			  uint32_t ring_records)
{
	size_t rings_offset = (sizeof(struct sluice_accesslog_header) + 63) & ~(size_t)63;
	size_t stride = sizeof(struct sluice_accesslog_ring) +
			(size_t)ring_records * sizeof(struct sluice_accesslog_record);
	struct sluice_accesslog_header *h;
	struct timespec now;
	char tmp[300];
	int fd, rc;

	memset(log, 0, sizeof(*log));
	if (!lcore_count || !ring_records || (ring_records & (ring_records - 1)))
		return -EINVAL;
	stride = (stride + 63) & ~(size_t)63;
	log->size = rings_offset + stride * lcore_count;
	snprintf(log->path, sizeof(log->path), "%s", path);
	snprintf(tmp, sizeof(tmp), "%s.%d", path, (int)getpid());
	fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)log->size)) {
		rc = -errno;
		goto fail;
	}
	h = mmap(NULL, log->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (h == MAP_FAILED) {
		rc = -errno;
		goto fail;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	h->magic = SLUICE_ACCESSLOG_MAGIC;
	h->version = SLUICE_ACCESSLOG_VERSION;
	h->header_size = sizeof(*h);
	h->lcore_count = lcore_count;
	h->ring_records = ring_records;
	h->record_size = sizeof(struct sluice_accesslog_record);
	h->rings_offset = (uint32_t)rings_offset;
	h->ring_stride = (uint32_t)stride;
	h->pid = getpid();
	h->start_time_ns = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
	if (rename(tmp, path)) {
		rc = -errno;
		munmap(h, log->size);
		goto fail;
	}
	close(fd);
	log->header = h;
	return 0;
fail:
	close(fd);
	unlink(tmp);
	return rc;
}

void http_accesslog_close(struct http_accesslog *log)
{
	if (log->header)
		munmap(log->header, log->size);
	log->header = NULL;
}

struct http_accesslog_writer http_accesslog_writer_of(struct http_accesslog *log, uint32_t index, uint32_t lcore_id)
{
	struct http_accesslog_writer w = {0};
	uint8_t *base;

	if (!log->header || index >= log->header->lcore_count)
		return w;
	base = (uint8_t *)log->header + log->header->rings_offset + (size_t)index * log->header->ring_stride;
	w.ring = (struct sluice_accesslog_ring *)(void *)base;
	w.ring->lcore_id = lcore_id;
	w.records = (struct sluice_accesslog_record *)(void *)(base + sizeof(struct sluice_accesslog_ring));
	w.mask = log->header->ring_records - 1;
	return w;
}
