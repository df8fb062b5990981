/* SPDX-License-Identifier: BSD-3-Clause
 *
 * accesslog_writer.c: the access log file and its rotation, fed by the reader library (see
 * accesslog_writer.h).
 *
 * One mutex serialises drain (control loop), rotate (REST) and reopen (SIGHUP). The library
 * copies each record out of its ring before the callback formats it, and advances tail only
 * past records the callback accepted: a line that could not be written stays in the ring.
 */
#include "accesslog_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "accesslog_read.h"
#include "log.h"

struct accesslog_writer {
	pthread_mutex_t lock;
	char rings_path[PATH_MAX];
	char out_path[PATH_MAX];
	unsigned keep;

	struct accesslog_reader reader; /* open when stats.rings_mapped */
	FILE *out;
	struct accesslog_stats stats;
};

/* Opens the ring file (stats.error says why not). */
static void accesslog_attach(struct accesslog_writer *w)
{
	int rc = accesslog_reader_open(&w->reader, w->rings_path);

	if (rc == -ENOENT)
		snprintf(w->stats.error, sizeof(w->stats.error), "no access log rings at %.120s", w->rings_path);
	else if (rc == -EPROTO)
		snprintf(w->stats.error, sizeof(w->stats.error), "%.100s: not an access log ring file of version %d",
			 w->rings_path, SLUICE_ACCESSLOG_VERSION);
	else if (rc)
		snprintf(w->stats.error, sizeof(w->stats.error), "%.100s: %.50s", w->rings_path, strerror(-rc));
	if (rc)
		return;
	w->stats.rings_mapped = true;
	w->stats.error[0] = 0;
	log_info("access log: reading %u rings from %s (writer pid %d)", w->reader.header->lcore_count, w->rings_path,
		 w->reader.header->pid);
}

/* accesslog_record_fn: one line to the output; nonzero (the record stays in its ring) when the
 * file takes no more. */
static int accesslog_write_line(const struct sluice_accesslog_record *rec, void *arg)
{
	struct accesslog_writer *w = arg;
	char line[ACCESSLOG_JSON_MAX + 1];
	int n = accesslog_record_json(rec, line, sizeof(line) - 1);

	if (n < 0)
		return 0; /* cannot happen (ACCESSLOG_JSON_MAX is enough); never block the ring on it */
	line[n++] = '\n';
	errno = 0;
	if (fwrite(line, 1, (size_t)n, w->out) != (size_t)n)
		return errno ? -errno : -EIO;
	return 0;
}

/* Drains the open ring file into the open output; returns records written or -errno. */
static int accesslog_drain_rings(struct accesslog_writer *w)
{
	struct accesslog_drain_result result;
	int rc = accesslog_reader_drain(&w->reader, ACCESSLOG_WRITER_BATCH, accesslog_write_line, w, &result);

	if (result.records && fflush(w->out) && !rc)
		rc = -errno;
	if (rc)
		snprintf(w->stats.error, sizeof(w->stats.error), "%.100s: %.50s", w->out_path, strerror(-rc));
	w->stats.records += result.records;
	w->stats.dropped += result.dropped;
	w->stats.lost += result.lost;
	return rc ? rc : (int)result.records;
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
	if (w->stats.rings_mapped)
		accesslog_reader_close(&w->reader);
	if (w->out)
		fclose(w->out);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

int accesslog_writer_drain(struct accesslog_writer *w)
{
	int rc = 0, written = 0;

	pthread_mutex_lock(&w->lock);
	if (!w->out_path[0])
		goto out;
	if (!w->out)
		accesslog_open_output(w);
	if (w->stats.rings_mapped && accesslog_reader_replaced(&w->reader)) {
		if (w->out) {
			rc = accesslog_drain_rings(w); /* the old data plane's last records */
			written += rc > 0 ? rc : 0;
		}
		accesslog_reader_close(&w->reader);
		w->stats.rings_mapped = false;
	}
	if (!w->stats.rings_mapped)
		accesslog_attach(w);
	rc = 0;
	if (w->stats.rings_mapped && w->out)
		rc = accesslog_drain_rings(w);
	if (rc >= 0)
		rc += written;
out:
	pthread_mutex_unlock(&w->lock);
	return rc;
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
