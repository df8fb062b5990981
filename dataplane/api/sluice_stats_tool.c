/* SPDX-License-Identifier: BSD-3-Clause
 *
 * sluice_stats_tool.c: `sluice-stats`, prints the data plane's counters from the stats
 * segment (no control plane needed): a table, or one JSON object with --json.
 *
 *   sluice-stats [--path /dev/shm/sluice-stats] [--json] [--lcores] [NAME...]
 *
 * Exit status 3 when the data plane's heartbeat is older than 2 seconds (stopped).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "stats_read.h"

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{"path", required_argument, NULL, 'p'},
		{"json", no_argument, NULL, 'j'},
		{"lcores", no_argument, NULL, 'l'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *path = "/dev/shm/sluice-stats";
	struct stats_reader r;
	struct stats_snapshot s;
	bool json = false, per_lcore = false, stale;
	int opt, rc;

	while ((opt = getopt_long(argc, argv, "p:jlh", options, NULL)) != -1) {
		switch (opt) {
		case 'p': path = optarg; break;
		case 'j': json = true; break;
		case 'l': per_lcore = true; break;
		case 'h':
			printf("usage: sluice-stats [--path FILE] [--json] [--lcores] [NAME...]\n");
			return 0;
		default:
			return 2;
		}
	}
	rc = stats_reader_open(&r, path);
	if (rc) {
		fprintf(stderr, "sluice-stats: %s: %s\n", path, rc == -EPROTO ? "not a sluice stats segment" : strerror(-rc));
		return 1;
	}
	if (stats_reader_snapshot(&r, &s)) {
		stats_reader_close(&r);
		return 1;
	}
	stale = s.heartbeat_age_ns > 2000000000ULL;
	if (json)
		printf("{\"pid\":%d,\"alive\":%s,\"heartbeat_age_ms\":%llu,\"lcores\":%u,\"counters\":{", s.pid,
		       stale ? "false" : "true", (unsigned long long)(s.heartbeat_age_ns / 1000000), s.lcore_count);
	for (uint32_t i = 0, first = 1; i < s.counter_count; i++) {
		const char *name = s.descriptors[i].name;
		bool wanted = optind >= argc;

		for (int a = optind; a < argc; a++)
			wanted |= !strcmp(argv[a], name);
		if (!wanted)
			continue;
		if (json) {
			printf("%s\"%s\":%llu", first ? "" : ",", name, (unsigned long long)s.totals[i]);
			first = 0;
		} else {
			printf("%-32s %20llu", name, (unsigned long long)s.totals[i]);
			if (per_lcore)
				for (uint32_t l = 0; l < s.lcore_count; l++)
					printf(" %16llu", (unsigned long long)s.values[(size_t)l * s.counter_count + i]);
			printf("\n");
		}
	}
	if (json)
		printf("}}\n");
	stats_snapshot_free(&s);
	stats_reader_close(&r);
	return stale ? 3 : 0;
}
