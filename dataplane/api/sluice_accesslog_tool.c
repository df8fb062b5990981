/* SPDX-License-Identifier: BSD-3-Clause
 *
 * sluice_accesslog_tool.c: `sluice-accesslog`, drains the data plane's access log rings to
 * JSON lines (one object per response, fields in accesslog_read.h).
 *
 *   sluice-accesslog [--path FILE] [--follow] [--interval MS]
 *
 * Without --follow it takes every record waiting and exits; with --follow it keeps draining
 * every interval (200 ms by default) and reopens the file when the data plane restarts, until
 * SIGINT/SIGTERM. Records go to stdout; records the data plane had to drop because a ring
 * was full are reported on stderr ("sluice-accesslog: N records dropped"), and the totals at
 * exit. Exit status 0, 3 when the file cannot be opened. It is the one reader of the rings
 * while it runs (the control plane's drain is another: run one of them).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "accesslog_read.h"

static volatile sig_atomic_t accesslog_quit;

static void accesslog_signal(int sig)
{
	(void)sig;
	accesslog_quit = 1;
}

static int accesslog_print(const struct sluice_accesslog_record *rec, void *arg)
{
	char line[ACCESSLOG_JSON_MAX];
	int n = accesslog_record_json(rec, line, sizeof(line));

	(void)arg;
	if (n > 0) {
		fwrite(line, 1, (size_t)n, stdout);
		fputc('\n', stdout);
	}
	return 0;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: sluice-accesslog [--path FILE] [--follow] [--interval MS]\n"
		     "  drains the data plane's access log rings (default /dev/shm/sluice-stats.accesslog)\n"
		     "  to JSON lines on stdout; drops are reported on stderr\n");
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{"path", required_argument, NULL, 'p'},
		{"follow", no_argument, NULL, 'f'},
		{"interval", required_argument, NULL, 'i'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *path = "/dev/shm/sluice-stats.accesslog";
	struct accesslog_reader reader;
	uint64_t records = 0, dropped = 0;
	long interval_ms = 200;
	int opt, rc;
	bool follow = false;

	while ((opt = getopt_long(argc, argv, "p:fi:h", options, NULL)) != -1) {
		switch (opt) {
		case 'p': path = optarg; break;
		case 'f': follow = true; break;
		case 'i': interval_ms = strtol(optarg, NULL, 10); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc || interval_ms <= 0) {
		usage(stderr);
		return 2;
	}
	signal(SIGINT, accesslog_signal);
	signal(SIGTERM, accesslog_signal);
	rc = accesslog_reader_open(&reader, path);
	if (rc) {
		fprintf(stderr, "sluice-accesslog: %s: %s\n", path,
			rc == -EPROTO ? "not an access log of this version" : strerror(-rc));
		return 3;
	}
	do {
		struct accesslog_drain_result result;
		struct timespec pause = {interval_ms / 1000, interval_ms % 1000 * 1000000};

		accesslog_reader_drain(&reader, 0, accesslog_print, NULL, &result);
		fflush(stdout);
		records += result.records;
		if (result.dropped) {
			dropped += result.dropped;
			fprintf(stderr, "sluice-accesslog: %" PRIu64 " records dropped (a ring was full)\n", result.dropped);
		}
		if (!follow)
			break;
		if (accesslog_reader_replaced(&reader)) {
			accesslog_reader_drain(&reader, 0, accesslog_print, NULL, &result); /* the old one's last */
			records += result.records;
			accesslog_reader_close(&reader);
			while (!accesslog_quit && accesslog_reader_open(&reader, path))
				nanosleep(&pause, NULL);
			if (accesslog_quit)
				break;
			fprintf(stderr, "sluice-accesslog: %s was recreated (data plane restarted)\n", path);
			continue;
		}
		nanosleep(&pause, NULL);
	} while (!accesslog_quit);
	if (reader.header)
		accesslog_reader_close(&reader);
	fprintf(stderr, "sluice-accesslog: %" PRIu64 " records, %" PRIu64 " dropped\n", records, dropped);
	return 0;
}
