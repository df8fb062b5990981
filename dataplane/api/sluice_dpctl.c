/* SPDX-License-Identifier: BSD-3-Clause
 *
 * sluice_dpctl.c: `sluice-dpctl`, talks to the data plane's command socket directly (for tests,
 * and for operators when the control plane is not running).
 *
 *   sluice-dpctl [--socket PATH] hello | status | catalog-reload [FILE] | admission open|draining|closed
 *   sluice-dpctl [--socket PATH] ticket-keys FILE      TLS session ticket keys for every lcore
 *   sluice-dpctl ticket-keys --generate FILE [COUNT]  write COUNT (1) random keys to FILE
 *   sluice-dpctl [--socket PATH] sign-keys FILE        URL-signing keys (replace the whole ring)
 *   sluice-dpctl [--socket PATH] config-reload [FILE]  re-read the config, apply what can change
 *
 * sign-keys reads a key file in the format of url_sign.h (lines "<kid> <hex or base64:...>",
 * comments and blank lines ignored), parsed by url_sign_key_parse exactly as sluice-sign and
 * the data plane do, and replaces the data plane's whole key ring with it (an empty file
 * removes every key). config-reload re-reads the data plane's config file (or FILE) and
 * applies what can change while running; the answer names what needs a restart.
 *
 * A ticket key file is 1 to 4 keys of 80 bytes (ticket_key_file.h); the first encrypts. To
 * rotate: generate a key, put it first and keep the previous ones after it, send the file.
 * Options come before the command.
 * Prints the data plane's answer; exit status 0 when it succeeded, 1 when it refused (the
 * message says why), 2 for usage errors, 3 when the data plane cannot be reached.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_client.h"
#include "ticket_key_file.h"
#include "http/url_sign.h"

static void usage(FILE *out)
{
	fprintf(out, "usage: sluice-dpctl [--socket PATH] hello | status | catalog-reload [FILE] |\n"
		     "                    admission open|draining|closed | ticket-keys FILE | sign-keys FILE\n"
		     "                    config-reload [FILE]\n"
		     "       sluice-dpctl ticket-keys --generate FILE [COUNT]\n");
}

/* Reads a key file into req. Returns 0, or 2 (usage error) with a message printed. */
static int dpctl_read_keys(const char *path, struct sluice_cmd_sign_keys *req)
{
	char line[1024];
	unsigned lineno = 0;
	FILE *f = fopen(path, "r");

	memset(req, 0, sizeof(*req));
	if (!f) {
		fprintf(stderr, "sluice-dpctl: %s: %s\n", path, strerror(errno));
		return 2;
	}
	while (fgets(line, sizeof(line), f)) {
		struct url_sign_key key;
		size_t len = strcspn(line, "\r\n");
		int rc;

		lineno++;
		rc = url_sign_key_parse(line, len, &key);
		if (rc == -ENODATA)
			continue;
		if (rc || req->count == SLUICE_CMD_SIGN_KEYS_MAX) {
			fprintf(stderr, "sluice-dpctl: %s:%u: %s\n", path, lineno,
				rc ? "not a key (\"<kid 1..255> <32..64 bytes as hex or base64:...>\")"
				   : "more than 16 keys");
			url_sign_key_wipe(&key);
			fclose(f);
			return 2;
		}
		req->keys[req->count].kid = key.id;
		req->keys[req->count].length = key.secret_len;
		memcpy(req->keys[req->count].secret, key.secret, key.secret_len);
		req->count++;
		url_sign_key_wipe(&key);
	}
	explicit_bzero(line, sizeof(line));
	fclose(f);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{"socket", required_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	static const char *const admission_names[] = {"open", "draining", "closed"};
	const char *path = "/run/sluice/dataplane.sock", *cmd;
	struct sluice_cmd_result result;
	struct cmd_client client;
	uint8_t reply[SLUICE_CMD_MESSAGE_MAX];
	int opt, rc;

	/* "+": options end at the command, whose own arguments may look like options. */
	while ((opt = getopt_long(argc, argv, "+s:h", options, NULL)) != -1) {
		switch (opt) {
		case 's': path = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	cmd = argv[optind];
	if (!strcmp(cmd, "ticket-keys") && optind + 1 < argc && !strcmp(argv[optind + 1], "--generate")) {
		char err[512];
		long count = 1;

		if (optind + 3 != argc && optind + 4 != argc) {
			usage(stderr);
			return 2;
		}
		if (optind + 4 == argc)
			count = strtol(argv[optind + 3], NULL, 10);
		if (count < 1 || count > SLUICE_CMD_TICKET_KEYS_MAX) {
			fprintf(stderr, "sluice-dpctl: COUNT must be 1 to %d\n", SLUICE_CMD_TICKET_KEYS_MAX);
			return 2;
		}
		rc = ticket_key_file_generate(argv[optind + 2], (unsigned)count, err, sizeof(err));
		if (rc) {
			fprintf(stderr, "sluice-dpctl: %s\n", err);
			return 1;
		}
		printf("%ld random ticket key%s written to %s\n", count, count == 1 ? "" : "s", argv[optind + 2]);
		return 0;
	}
	rc = cmd_client_connect(&client, path);
	if (rc) {
		fprintf(stderr, "sluice-dpctl: %s: %s\n", path, strerror(-rc));
		return 3;
	}
	if (!strcmp(cmd, "hello") && optind + 1 == argc) {
		struct sluice_cmd_hello_reply *r = (struct sluice_cmd_hello_reply *)reply;
		rc = cmd_client_call(&client, SLUICE_CMD_HELLO, NULL, 0, &result, r, sizeof(*r), 5000);
		if (!rc && !result.status)
			printf("pid %d, %u lcores, catalog version %" PRIu64 ", %s\n", r->pid, r->lcore_count,
			       r->catalog_version, r->version_string);
	} else if (!strcmp(cmd, "status") && optind + 1 == argc) {
		struct sluice_cmd_status_reply *r = (struct sluice_cmd_status_reply *)reply;
		rc = cmd_client_call(&client, SLUICE_CMD_STATUS, NULL, 0, &result, r, sizeof(*r), 5000);
		if (!rc && !result.status)
			printf("admission %s, %u lcores, catalog version %" PRIu64 ", %" PRIu64 " connections\n",
			       r->admission < 3 ? admission_names[r->admission] : "?", r->lcore_count,
			       r->catalog_version, r->connections);
	} else if (!strcmp(cmd, "catalog-reload") && optind + 2 >= argc) {
		struct sluice_cmd_catalog_reload req;
		struct sluice_cmd_catalog_reply *r = (struct sluice_cmd_catalog_reply *)reply;

		memset(&req, 0, sizeof(req));
		if (optind + 2 == argc) {
			if (strlen(argv[optind + 1]) >= sizeof(req.path)) {
				fprintf(stderr, "sluice-dpctl: path too long\n");
				return 2;
			}
			strcpy(req.path, argv[optind + 1]);
		}
		rc = cmd_client_call(&client, SLUICE_CMD_CATALOG_RELOAD, &req, sizeof(req), &result, r, sizeof(*r), 30000);
	} else if (!strcmp(cmd, "sign-keys") && optind + 2 == argc) {
		static struct sluice_cmd_sign_keys req;

		if (dpctl_read_keys(argv[optind + 1], &req)) {
			cmd_client_close(&client);
			return 2;
		}
		rc = cmd_client_call(&client, SLUICE_CMD_SIGN_KEYS_SET, &req, sizeof(req), &result, NULL, 0, 5000);
		explicit_bzero(&req, sizeof(req));
	} else if (!strcmp(cmd, "config-reload") && optind + 2 >= argc) {
		struct sluice_cmd_config_reload req;

		memset(&req, 0, sizeof(req));
		if (optind + 2 == argc) {
			if (strlen(argv[optind + 1]) >= sizeof(req.path)) {
				fprintf(stderr, "sluice-dpctl: path too long\n");
				return 2;
			}
			strcpy(req.path, argv[optind + 1]);
		}
		rc = cmd_client_call(&client, SLUICE_CMD_CONFIG_RELOAD, &req, sizeof(req), &result, NULL, 0, 10000);
	} else if (!strcmp(cmd, "admission") && optind + 2 == argc) {
		struct sluice_cmd_admission req = {.state = 3};

		for (uint32_t i = 0; i < 3; i++)
			if (!strcmp(argv[optind + 1], admission_names[i]))
				req.state = i;
		if (req.state == 3) {
			usage(stderr);
			return 2;
		}
		rc = cmd_client_call(&client, SLUICE_CMD_ADMISSION_SET, &req, sizeof(req), &result, NULL, 0, 5000);
	} else if (!strcmp(cmd, "ticket-keys") && optind + 2 == argc) {
		struct sluice_cmd_ticket_keys req;
		char err[512];

		if (ticket_key_file_read(argv[optind + 1], &req, err, sizeof(err))) {
			fprintf(stderr, "sluice-dpctl: %s\n", err);
			cmd_client_close(&client);
			return 1;
		}
		rc = cmd_client_call(&client, SLUICE_CMD_TICKET_KEYS_SET, &req, sizeof(req), &result, NULL, 0, 5000);
		explicit_bzero(&req, sizeof(req));
	} else {
		usage(stderr);
		return 2;
	}
	cmd_client_close(&client);
	if (rc) {
		fprintf(stderr, "sluice-dpctl: %s: %s\n", path, strerror(-rc));
		return 3;
	}
	if (result.message[0])
		printf("%s%s\n", result.status ? "refused: " : "", result.message);
	return result.status ? 1 : 0;
}
