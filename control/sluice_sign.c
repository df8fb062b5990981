/* SPDX-License-Identifier: BSD-3-Clause
 *
 * sluice_sign.c: sluice-sign, mints signed expiring URLs for the edge.
 *
 *   sluice-sign --key-file F --kid N --path /video/a.m4s --ttl 3600
 *               [--prefix 198.18.0.0/24] [--now T]
 *
 * prints the path (normalized, then percent-encoded where RFC 3986 requires) followed by
 * "?exp=..&kid=..[&pfx=..]&sig=..", one line, ready to append to "https://edge". It loads the
 * key file with the data plane's own parser (url_sign_keyring_load) and signs with the data
 * plane's own code (url_sign_mint over http_path_normalize), so a URL this tool prints is
 * exactly one the edge accepts: the unit tests run its output through url_sign_verify. The
 * token format and the key file format are described in dataplane/http/url_sign.h.
 *
 * --now sets the signing time (seconds since the epoch; default: the current time), so that
 * scripts and tests produce reproducible URLs. Exit status: 0 printed, 1 failed (message on
 * stderr), 2 usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http_parse.h"
#include "url_sign.h"

#define KEY_FILE_MAX (64 * 1024)

static void usage(FILE *out)
{
	fprintf(out,
		"usage: sluice-sign --key-file FILE --kid N --path PATH --ttl SECONDS\n"
		"                   [--prefix CIDR] [--now SECONDS]\n"
		"  --key-file FILE  key file: lines '<kid> <hex secret>' or '<kid> base64:<secret>'\n"
		"  --kid N          key id to sign with (1..255), must be in the file\n"
		"  --path PATH      path of the file to sign, starting with '/'\n"
		"  --ttl SECONDS    validity from --now, seconds (> 0)\n"
		"  --prefix CIDR    only clients in this prefix may use the URL (198.18.0.0/24, fd5c::/64)\n"
		"  --now SECONDS    signing time, seconds since the epoch (default: now)\n");
}

static int number_option(const char *name, const char *text, long long min, long long max,
			 long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno || end == text || *end || v < min || v > max) {
		fprintf(stderr, "sluice-sign: %s: '%s' is not an integer in [%lld, %lld]\n", name,
			text, min, max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

/* Reads the whole key file (small, at most KEY_FILE_MAX bytes) into a heap buffer. */
static int key_file_read(const char *path, char **text, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buffer;
	size_t n;

	if (!f)
		return -errno;
	buffer = malloc(KEY_FILE_MAX);
	if (!buffer) {
		fclose(f);
		return -ENOMEM;
	}
	n = fread(buffer, 1, KEY_FILE_MAX, f);
	if (ferror(f) || !feof(f)) {
		int rc = ferror(f) ? -EIO : -EFBIG;

		fclose(f);
		explicit_bzero(buffer, KEY_FILE_MAX);
		free(buffer);
		return rc;
	}
	fclose(f);
	*text = buffer;
	*len = n;
	return 0;
}

/* Percent-encodes a normalized path for a request line: RFC 3986 pchar and '/' pass. */
static void path_print(const char *path, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)path[i];

		if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c && strchr("-._~!$&'()*+,;=:@/", c)))
			putchar(c);
		else
			printf("%%%02X", c);
	}
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{"key-file", required_argument, NULL, 'k'},
		{"kid", required_argument, NULL, 'i'},
		{"path", required_argument, NULL, 'p'},
		{"ttl", required_argument, NULL, 't'},
		{"prefix", required_argument, NULL, 'x'},
		{"now", required_argument, NULL, 'n'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *key_file = NULL, *path = NULL, *prefix = NULL;
	long long kid = -1, ttl = -1, now = (long long)time(NULL);
	struct url_sign_keyring ring;
	struct IMB_MGR *engine = NULL;
	char normalized[URL_SIGN_PATH_MAX + 1];
	char query[URL_SIGN_QUERY_MAX];
	char err[256] = "";
	char *text = NULL;
	size_t text_len = 0;
	int opt, rc, normalized_len, status = 1;

	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 'k':
			key_file = optarg;
			break;
		case 'i':
			if (number_option("--kid", optarg, 1, 255, &kid) < 0)
				return 2;
			break;
		case 'p':
			path = optarg;
			break;
		case 't':
			if (number_option("--ttl", optarg, 1, INT32_MAX, &ttl) < 0)
				return 2;
			break;
		case 'x':
			prefix = optarg;
			break;
		case 'n':
			if (number_option("--now", optarg, 0, INT64_MAX / 2, &now) < 0)
				return 2;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || !key_file || !path || kid < 0 || ttl < 0) {
		fprintf(stderr, "sluice-sign: --key-file, --kid, --path and --ttl are required%s\n",
			optind != argc ? " (and nothing else)" : "");
		usage(stderr);
		return 2;
	}

	normalized_len = http_path_normalize(path, strlen(path), normalized, sizeof(normalized));
	if (normalized_len < 0 || normalized_len > URL_SIGN_PATH_MAX) {
		fprintf(stderr, "sluice-sign: --path '%s': %s\n", path,
			normalized_len == -ENOSPC || normalized_len > URL_SIGN_PATH_MAX
				? "too long"
				: "not a valid path (must start with '/', no %00, %2F or '..' above the root)");
		return 2;
	}

	rc = key_file_read(key_file, &text, &text_len);
	if (rc < 0) {
		fprintf(stderr, "sluice-sign: %s: %s\n", key_file, strerror(-rc));
		goto cleanup;
	}
	engine = url_sign_engine_create();
	if (!engine) {
		fprintf(stderr, "sluice-sign: cannot set up intel-ipsec-mb: %s\n", strerror(errno));
		goto cleanup;
	}
	url_sign_keyring_init(&ring);
	rc = url_sign_keyring_load(&ring, engine, text, text_len, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "sluice-sign: %s: %s\n", key_file, err);
		goto cleanup;
	}
	rc = url_sign_mint(&ring, engine, (uint8_t)kid, normalized, (size_t)normalized_len,
			   (time_t)(now + ttl), prefix, query, sizeof(query));
	if (rc == -ENOENT) {
		fprintf(stderr, "sluice-sign: %s has no key %lld\n", key_file, kid);
		goto cleanup;
	}
	if (rc == -EINVAL && prefix) {
		fprintf(stderr, "sluice-sign: --prefix '%s': expected an address/length with zero host bits\n",
			prefix);
		goto cleanup;
	}
	if (rc < 0) {
		fprintf(stderr, "sluice-sign: cannot sign: %s\n", strerror(-rc));
		goto cleanup;
	}
	path_print(normalized, (size_t)normalized_len);
	printf("?%s\n", query);
	status = fflush(stdout) == 0 ? 0 : 1;

cleanup:
	explicit_bzero(&ring, sizeof(ring));
	url_sign_engine_free(engine);
	if (text) {
		explicit_bzero(text, KEY_FILE_MAX);
		free(text);
	}
	return status;
}
