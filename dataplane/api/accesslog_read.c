/* SPDX-License-Identifier: BSD-3-Clause
 *
 * accesslog_read.c: draining the access log rings and formatting records (see
 * accesslog_read.h).
 */
#include "accesslog_read.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int accesslog_reader_open(struct accesslog_reader *r, const char *path)
{
	struct stat st;
	int rc;

	memset(r, 0, sizeof(*r));
	r->fd = -1;
	snprintf(r->path, sizeof(r->path), "%s", path);
	r->fd = open(path, O_RDWR | O_CLOEXEC);
	if (r->fd < 0)
		return -errno;
	if (fstat(r->fd, &st)) {
		rc = -errno;
		goto fail;
	}
	if ((size_t)st.st_size < sizeof(struct sluice_accesslog_header)) {
		rc = -EPROTO;
		goto fail;
	}
	r->size = (size_t)st.st_size;
	r->header = mmap(NULL, r->size, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
	if (r->header == MAP_FAILED) {
		r->header = NULL;
		rc = -errno;
		goto fail;
	}
	/* Everything the ring walk relies on, so a damaged or foreign file is refused, never misread. */
	if (r->header->magic != SLUICE_ACCESSLOG_MAGIC || r->header->version != SLUICE_ACCESSLOG_VERSION ||
	    r->header->record_size != sizeof(struct sluice_accesslog_record) || !r->header->ring_records ||
	    (r->header->ring_records & (r->header->ring_records - 1)) || r->header->lcore_count > ACCESSLOG_LCORES_MAX ||
	    r->header->rings_offset < sizeof(struct sluice_accesslog_header) ||
	    r->header->ring_stride < sizeof(struct sluice_accesslog_ring) +
					     (uint64_t)r->header->ring_records * sizeof(struct sluice_accesslog_record) ||
	    (uint64_t)r->header->rings_offset + (uint64_t)r->header->ring_stride * r->header->lcore_count > r->size) {
		rc = -EPROTO;
		goto fail;
	}
	return 0;
fail:
	accesslog_reader_close(r);
	return rc;
}

void accesslog_reader_close(struct accesslog_reader *r)
{
	if (r->header)
		munmap(r->header, r->size);
	if (r->fd >= 0)
		close(r->fd);
	r->header = NULL;
	r->fd = -1;
}

bool accesslog_reader_replaced(const struct accesslog_reader *r)
{
	struct stat now, mine;

	if (stat(r->path, &now) || fstat(r->fd, &mine))
		return true;
	return now.st_ino != mine.st_ino || now.st_dev != mine.st_dev;
}

static struct sluice_accesslog_ring *accesslog_ring(const struct accesslog_reader *r, uint32_t i)
{
	return (struct sluice_accesslog_ring *)(void *)((uint8_t *)r->header + r->header->rings_offset +
							(size_t)i * r->header->ring_stride);
}

uint64_t accesslog_reader_pending(const struct accesslog_reader *r)
{
	uint64_t n = 0;

	for (uint32_t i = 0; i < r->header->lcore_count; i++) {
		const struct sluice_accesslog_ring *ring = accesslog_ring(r, i);

		n += __atomic_load_n(&ring->head, __ATOMIC_ACQUIRE) - ring->tail;
	}
	return n;
}

int accesslog_reader_drain(struct accesslog_reader *r, uint64_t max, accesslog_record_fn fn, void *arg,
			   struct accesslog_drain_result *result)
{
	uint32_t mask = r->header->ring_records - 1;

	memset(result, 0, sizeof(*result));
	for (uint32_t i = 0; i < r->header->lcore_count; i++) {
		struct sluice_accesslog_ring *ring = accesslog_ring(r, i);
		const struct sluice_accesslog_record *records =
			(const void *)((const uint8_t *)ring + sizeof(struct sluice_accesslog_ring));
		uint64_t head = __atomic_load_n(&ring->head, __ATOMIC_ACQUIRE);
		uint64_t tail = ring->tail, dropped = ring->dropped;

		/* What earlier readers of this file did not report yet. */
		if (dropped != ring->dropped_reported) {
			result->dropped += dropped - ring->dropped_reported;
			ring->dropped_reported = dropped;
		}
		if (head - tail > r->header->ring_records) {
			/* A writer bug: skip (and count) what was overwritten; never read torn slots. */
			result->lost += head - tail - r->header->ring_records;
			tail = head - r->header->ring_records;
		}
		for (uint64_t taken = 0; tail != head && (!max || taken < max); taken++) {
			struct sluice_accesslog_record rec = records[tail & mask];
			int rc = fn(&rec, arg);

			if (rc) {
				__atomic_store_n(&ring->tail, tail, __ATOMIC_RELEASE);
				return rc;
			}
			tail++;
			result->records++;
		}
		__atomic_store_n(&ring->tail, tail, __ATOMIC_RELEASE);
	}
	return 0;
}

/* Mirrors enum http_method (dataplane/http/http_parse.h); test_accesslog checks it. */
static const char *const accesslog_methods[] = {"-", "GET", "HEAD", "OPTIONS", "POST",
						"PUT", "DELETE", "PATCH", "CONNECT", "TRACE"};

const char *accesslog_method_name(uint8_t method)
{
	return method < sizeof(accesslog_methods) / sizeof(accesslog_methods[0]) ? accesslog_methods[method] : "?";
}

/* JSON string body of a path: escapes quotes, backslashes and control characters. */
static size_t accesslog_json_string(char *out, size_t size, const char *s, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < max && s[i]; i++) {
		unsigned char ch = (unsigned char)s[i];
		char esc[8];
		size_t len;

		if (ch == '"' || ch == '\\')
			len = (size_t)snprintf(esc, sizeof(esc), "\\%c", ch);
		else if (ch < 0x20 || ch >= 0x7f)
			len = (size_t)snprintf(esc, sizeof(esc), "\\u%04x", ch);
		else
			esc[0] = (char)ch, len = 1;
		if (n + len >= size)
			break;
		memcpy(out + n, esc, len);
		n += len;
	}
	out[n] = 0;
	return n;
}

int accesslog_record_json(const struct sluice_accesslog_record *rec, char *out, size_t size)
{
	char when[40], client[INET6_ADDRSTRLEN], path[SLUICE_ACCESSLOG_PATH_MAX * 6 + 1], range[80], file_id[16];
	time_t seconds = (time_t)(rec->time_ns / 1000000000ull);
	struct tm tm;
	int n;

	gmtime_r(&seconds, &tm);
	n = (int)strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when + n, sizeof(when) - (size_t)n, ".%03uZ", (unsigned)(rec->time_ns / 1000000 % 1000));
	if (!inet_ntop((rec->flags & SLUICE_ACCESSLOG_IPV6) ? AF_INET6 : AF_INET, rec->client, client, sizeof(client)))
		snprintf(client, sizeof(client), "?");
	accesslog_json_string(path, sizeof(path), rec->path, SLUICE_ACCESSLOG_PATH_MAX);
	if (!(rec->flags & SLUICE_ACCESSLOG_RANGE))
		snprintf(range, sizeof(range), "null");
	else if (rec->range_parts > 1)
		snprintf(range, sizeof(range), "\"%u parts from byte %" PRIu64 ", %" PRIu64 " bytes\"", rec->range_parts,
			 rec->range_start, rec->range_length);
	else if (rec->range_length)
		snprintf(range, sizeof(range), "\"bytes=%" PRIu64 "-%" PRIu64 "\"", rec->range_start,
			 rec->range_start + rec->range_length - 1);
	else
		snprintf(range, sizeof(range), "\"bytes=%" PRIu64 "-\"", rec->range_start);
	if (rec->file_id == UINT32_MAX)
		snprintf(file_id, sizeof(file_id), "null");
	else
		snprintf(file_id, sizeof(file_id), "%u", rec->file_id);
	n = snprintf(out, size,
		     "{\"time\":\"%s\",\"client\":\"%s\",\"client_port\":%u,\"method\":\"%s\",\"path\":\"%s\","
		     "\"range\":%s,\"status\":%u,\"bytes\":%" PRIu64 ",\"duration_ms\":%.3f,\"tls\":%s,"
		     "\"keepalive\":%s,\"aborted\":%s,\"lcore\":%u,\"catalog_version\":%" PRIu64 ",\"file_id\":%s}",
		     when, client, rec->client_port, accesslog_method_name(rec->method), path, range, rec->status,
		     rec->bytes_sent, (double)rec->duration_us / 1000.0, (rec->flags & SLUICE_ACCESSLOG_TLS) ? "true" : "false",
		     (rec->flags & SLUICE_ACCESSLOG_KEEPALIVE) ? "true" : "false",
		     (rec->flags & SLUICE_ACCESSLOG_ABORTED) ? "true" : "false", rec->lcore_id, rec->catalog_version,
		     file_id);
	if (n < 0 || (size_t)n >= size)
		return -ENOSPC;
	return n;
}
