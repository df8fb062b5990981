/* SPDX-License-Identifier: BSD-3-Clause
 *
 * sluice_catalog.c: `sluice-catalog`, the operator's tool for the store catalog.
 *
 *   sluice-catalog build STORE_ROOT [--output FILE] [--version N]
 *       hash every file under STORE_ROOT and write the catalog atomically
 *       (default STORE_ROOT/catalog.json, version = current time in seconds)
 *   sluice-catalog check STORE_ROOT [--catalog FILE]
 *       load the catalog the way the data plane does and report what it would serve
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog.h"
#include "log.h"

static void usage(FILE *out)
{
	fprintf(out, "usage: sluice-catalog build STORE_ROOT [--output FILE] [--version N]\n"
		     "       sluice-catalog check STORE_ROOT [--catalog FILE]\n");
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{"output", required_argument, NULL, 'o'},
		{"catalog", required_argument, NULL, 'c'},
		{"version", required_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	char catalog_path[4096] = "", err[512];
	uint64_t version = (uint64_t)time(NULL);
	const char *command, *root;
	int opt;

	log_set_program("sluice-catalog");
	while ((opt = getopt_long(argc, argv, "o:c:v:h", options, NULL)) != -1) {
		switch (opt) {
		case 'o':
		case 'c':
			snprintf(catalog_path, sizeof(catalog_path), "%s", optarg);
			break;
		case 'v': {
			char *end;
			version = strtoull(optarg, &end, 10);
			if (*end || end == optarg) {
				fprintf(stderr, "sluice-catalog: --version needs a number\n");
				return 2;
			}
			break;
		}
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (argc - optind != 2) {
		usage(stderr);
		return 2;
	}
	command = argv[optind];
	root = argv[optind + 1];
	if (!catalog_path[0])
		snprintf(catalog_path, sizeof(catalog_path), "%s/catalog.json", root);
	if (!strcmp(command, "build")) {
		int n = store_catalog_build(root, catalog_path, version, err, sizeof(err));
		if (n < 0) {
			fprintf(stderr, "sluice-catalog: %s\n", err);
			return 1;
		}
		printf("%s: %d files, version %llu\n", catalog_path, n, (unsigned long long)version);
		return 0;
	}
	if (!strcmp(command, "check")) {
		struct store_catalog *cat = store_catalog_load(root, catalog_path, err, sizeof(err));
		uint64_t bytes = 0;

		if (!cat) {
			fprintf(stderr, "sluice-catalog: %s\n", err);
			return 1;
		}
		for (uint32_t i = 0; i < cat->count; i++)
			bytes += cat->files[i].size;
		printf("%s: version %llu, %u files (%llu bytes) served, %u rejected\n", catalog_path,
		       (unsigned long long)cat->version, cat->count, (unsigned long long)bytes, cat->rejected);
		store_catalog_free(cat);
		return 0;
	}
	usage(stderr);
	return 2;
}
