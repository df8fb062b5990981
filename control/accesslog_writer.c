/* SPDX-License-Identifier: BSD-3-Clause
 *
 * accesslog_writer.c: ring draining, JSON lines and rotation (see accesslog_writer.h).
 *
 * One mutex serialises drain (control loop), rotate (REST) and reopen (SIGHUP). Records are
 * copied out of the ring before formatting, so a slot is never read after tail moved past it.
 */
#include "accesslog_writer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define ACCESSLOG_BATCH 4096 /* records per ring per drain, so one busy ring cannot starve the loop */

struct accesslog_writer {
	pthread_mutex_t lock;
	char rings_path[PATH_MAX];
	char out_path[PATH_MAX];
	unsigned keep;

	uint8_t *map;
	size_t map_size;
	dev_t dev;
	ino_t ino;
	const struct sluice_accesslog_header *header;

	FILE *out;
	struct accesslog_stats stats;
};

/* Names of enum http_method (dataplane/http/http_parse.h), in its order. */
static const char *const accesslog_methods[] = {"-", "GET", "HEAD", "OPTIONS", "POST", "PUT", "DELETE", "PATCH",
						"CONNECT", "TRACE"};

int accesslog_writer_format_record(const struct sluice_accesslog_record *r, char *buf, size_t size)
{
	char client[INET6_ADDRSTRLEN], path[3 * SLUICE_ACCESSLOG_PATH_MAX + 1], time_text[64], extra[96] = "";
	size_t path_len = strnlen(r->path, SLUICE_ACCESSLOG_PATH_MAX), o = 0;
	time_t seconds = (time_t)(r->time_ns / 1000000000ULL);
	struct tm tm;
	int n;

	if (r->flags & SLUICE_ACCESSLOG_IPV6)
		inet_ntop(AF_INET6, r->client, client, sizeof(client));
	else
		inet_ntop(AF_INET, r->client, client, sizeof(client));
	for (size_t i = 0; i < path_len; i++) {
		unsigned char c = (unsigned char)r->path[i];

		if (c < 0x21 || c > 0x7e || c == '"' || c == '\\' || c == '%') {
			static const char hex[] = "0123456789ABCDEF";

			path[o++] = '%';
			path[o++] = hex[c >> 4];
			path[o++] = hex[c & 15];
		} else {
			path[o++] = (char)c;
		}
	}
	path[o] = 0;
	gmtime_r(&seconds, &tm);
	snprintf(time_text, sizeof(time_text), "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)(r->time_ns / 1000000ULL % 1000));
	if (r->flags & SLUICE_ACCESSLOG_RANGE)
		snprintf(extra, sizeof(extra), ",\"range\":[%" PRIu64 ",%" PRIu64 "]", r->range_start, r->range_length);
	n = snprintf(buf, size,
		     "{\"time\":\"%s\",\"client\":\"%s\",\"port\":%u,\"method\":\"%s\",\"path\":\"%s\",\"status\":%u,"
		     "\"bytes\":%" PRIu64 "%s,\"duration_us\":%" PRIu64 ",\"tls\":%s,\"aborted\":%s,\"keepalive\":%s,"
		     "\"lcore\":%u,\"catalog_version\":%" PRIu64,
		     time_text, client, r->client_port, r->method < sizeof(accesslog_methods) / sizeof(accesslog_methods[0])
								? accesslog_methods[r->method] : "-",
		     path, r->status, r->bytes_sent, extra, r->duration_us, r->flags & SLUICE_ACCESSLOG_TLS ? "true" : "false",
		     r->flags & SLUICE_ACCESSLOG_ABORTED ? "true" : "false",
		     r->flags & SLUICE_ACCESSLOG_KEEPALIVE ? "true" : "false", r->lcore_id, r->catalog_version);
	if (n < 0 || (size_t)n >= size)
		return -ENOSPC;
	if (r->file_id != UINT32_MAX)
		n += snprintf(buf + n, size - (size_t)n, ",\"file_id\":%u", r->file_id);
	if ((size_t)n + 2 > size)
		return -ENOSPC;
	buf[n++] = '}';
	buf[n] = 0;
	return n;
}

static void accesslog_unmap(struct accesslog_writer *w)
{
	if (w->map)
		munmap(w->map, w->map_size);
	w->map = NULL;
	w->header = NULL;
	w->stats.rings_mapped = false;
}

static const struct sluice_accesslog_ring *accesslog_ring(const struct accesslog_writer *w, uint32_t i)
{
	return (const struct sluice_accesslog_ring *)(w->map + w->header->rings_offset + (size_t)i * w->header->ring_stride);
}

/* Maps the ring file if it exists and is valid; remaps when it was replaced. */
static void accesslog_map(struct accesslog_writer *w)
{
	const struct sluice_accesslog_header *h;
	struct stat st;
	uint64_t need;
	void *map;
	int fd;

	if (stat(w->rings_path, &st)) {
		accesslog_unmap(w);
		snprintf(w->stats.error, sizeof(w->stats.error), "no access log rings at %.120s", w->rings_path);
		return;
	}
	if (w->map && st.st_dev == w->dev && st.st_ino == w->ino)
		return;
	accesslog_unmap(w);
	if ((size_t)st.st_size < sizeof(*h))
		return;
	fd = open(w->rings_path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return;
	map = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return;
	h = map;
	need = (uint64_t)h->rings_offset + (uint64_t)h->lcore_count * h->ring_stride;
	if (h->magic != SLUICE_ACCESSLOG_MAGIC || h->version != SLUICE_ACCESSLOG_VERSION ||
	    h->record_size < sizeof(struct sluice_accesslog_record) || !h->ring_records ||
	    (h->ring_records & (h->ring_records - 1)) || h->lcore_count > 1024 ||
	    h->ring_stride < sizeof(struct sluice_accesslog_ring) + (uint64_t)h->ring_records * h->record_size ||
	    h->rings_offset < sizeof(*h) || need > (uint64_t)st.st_size) {
		munmap(map, (size_t)st.st_size);
		snprintf(w->stats.error, sizeof(w->stats.error), "%.100s: not an access log ring file of version %d",
			 w->rings_path, SLUICE_ACCESSLOG_VERSION);
		return;
	}
	w->map = map;
	w->map_size = (size_t)st.st_size;
	w->dev = st.st_dev;
	w->ino = st.st_ino;
	w->header = h;
	w->stats.rings_mapped = true;
	w->stats.error[0] = 0;
	log_info("access log: reading %u rings from %s (writer pid %d)", h->lcore_count, w->rings_path, h->pid);
}

static int accesslog_open_output(struct accesslog_writer *w)
{
	int fd;

	if (w->out) {
		fclose(w->out);
		w->out = NULL;
	}
	w->stats.output_open = false;
	if (!w->out_path[0])
		return 0;
	fd = open(w->out_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0 || !(w->out = fdopen(fd, "a"))) {
		int rc = -errno;

		if (fd >= 0)
			close(fd);
		snprintf(w->stats.error, sizeof(w->stats.error), "%.100s: %.50s", w->out_path, strerror(-rc));
		return rc;
	}
	w->stats.output_open = true;
	return 0;
}

int accesslog_writer_create(const char *rings_path, const char *out_path, unsigned keep,
			    struct accesslog_writer **out)
{
	struct accesslog_writer *w = calloc(1, sizeof(*w));
	int rc;

	*out = NULL;
	if (!w)
		return -ENOMEM;
	pthread_mutex_init(&w->lock, NULL);
	snprintf(w->rings_path, sizeof(w->rings_path), "%s", rings_path);
	snprintf(w->out_path, sizeof(w->out_path), "%s", out_path);
	w->keep = keep;
	rc = accesslog_open_output(w);
	if (rc) {
		log_err("access log %s: %s (will retry at the next drain)", out_path, strerror(-rc));
	}
	*out = w;
	return 0;
}

void accesslog_writer_destroy(struct accesslog_writer *w)
{
	if (!w)
		return;
	accesslog_unmap(w);
	if (w->out)
		fclose(w->out);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

int accesslog_writer_drain(struct accesslog_writer *w)
{
	char line[ACCESSLOG_LINE_MAX];
	int written = 0;
	uint64_t dropped = 0;

	pthread_mutex_lock(&w->lock);
	if (!w->out_path[0]) {
		pthread_mutex_unlock(&w->lock);
		return 0;
	}
	if (!w->out)
		accesslog_open_output(w);
	accesslog_map(w);
	if (!w->map || !w->out)
		goto out;
	for (uint32_t i = 0; i < w->header->lcore_count; i++) {
		struct sluice_accesslog_ring *ring = (struct sluice_accesslog_ring *)accesslog_ring(w, i);
		const uint8_t *records = (const uint8_t *)ring + sizeof(*ring);
		uint64_t head = __atomic_load_n(&ring->head, __ATOMIC_ACQUIRE);
		uint64_t tail = __atomic_load_n(&ring->tail, __ATOMIC_RELAXED);
		uint32_t batch = 0;

		dropped += __atomic_load_n(&ring->dropped, __ATOMIC_RELAXED);
		if (head - tail > w->header->ring_records && head > tail) {
			w->stats.lost += head - tail - w->header->ring_records;
			tail = head - w->header->ring_records;
		}
		while (tail != head && batch < ACCESSLOG_BATCH) {
			struct sluice_accesslog_record r;
			int n;

			memcpy(&r, records + (size_t)(tail & (w->header->ring_records - 1)) * w->header->record_size,
			       sizeof(r));
			tail++;
			batch++;
			n = accesslog_writer_format_record(&r, line, sizeof(line) - 1);
			if (n < 0)
				continue;
			line[n++] = '\n';
			if (fwrite(line, 1, (size_t)n, w->out) != (size_t)n)
				break;
			written++;
		}
		__atomic_store_n(&ring->tail, tail, __ATOMIC_RELEASE);
	}
	if (written && fflush(w->out))
		snprintf(w->stats.error, sizeof(w->stats.error), "%.100s: %.50s", w->out_path, strerror(errno));
	w->stats.records += (uint64_t)written;
	w->stats.dropped = dropped;
out:
	pthread_mutex_unlock(&w->lock);
	return written;
}

int accesslog_writer_reopen(struct accesslog_writer *w)
{
	int rc;

	pthread_mutex_lock(&w->lock);
	rc = accesslog_open_output(w);
	pthread_mutex_unlock(&w->lock);
	return rc;
}

int accesslog_writer_rotate(struct accesslog_writer *w, char *rotated_to, size_t size)
{
	char from[PATH_MAX + 16], to[PATH_MAX + 16];
	int rc = 0;

	pthread_mutex_lock(&w->lock);
	if (!w->out_path[0]) {
		pthread_mutex_unlock(&w->lock);
		return -ENOENT;
	}
	if (w->out)
		fflush(w->out);
	if (w->keep == 0) {
		if (unlink(w->out_path) && errno != ENOENT)
			rc = -errno;
		snprintf(rotated_to, size, "%s", "");
	} else {
		snprintf(to, sizeof(to), "%s.%u", w->out_path, w->keep);
		unlink(to);
		for (unsigned i = w->keep; i > 1; i--) {
			snprintf(from, sizeof(from), "%s.%u", w->out_path, i - 1);
			snprintf(to, sizeof(to), "%s.%u", w->out_path, i);
			if (rename(from, to) && errno != ENOENT)
				rc = -errno;
		}
		snprintf(to, sizeof(to), "%s.1", w->out_path);
		if (rename(w->out_path, to) && errno != ENOENT)
			rc = -errno;
		snprintf(rotated_to, size, "%s", to);
	}
	if (!rc)
		rc = accesslog_open_output(w);
	pthread_mutex_unlock(&w->lock);
	return rc;
}

void accesslog_writer_stats(struct accesslog_writer *w, struct accesslog_stats *out)
{
	pthread_mutex_lock(&w->lock);
	*out = w->stats;
	pthread_mutex_unlock(&w->lock);
}
