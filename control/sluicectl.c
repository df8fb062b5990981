/* SPDX-License-Identifier: BSD-3-Clause
 *
 * sluicectl.c: `sluicectl`, the operator's command line over sluice-control's REST API.
 *
 *   sluicectl [--url URL] [--token TOKEN | --token-file FILE] [--config FILE] [--ca-file FILE]
 *             [--json] [--timeout SECONDS] COMMAND ...
 *
 * Every command is one or a few REST calls (see usage() and control/openapi.json); nothing
 * here knows more than the API does, so the API stays the one interface. The address comes
 * from --url, $SLUICECTL_URL, or control.listen in --config (https when control.tls_cert is
 * set), else http://127.0.0.1:8701; the token from --token, $SLUICECTL_TOKEN, --token-file, or
 * the first token of control.token_file (when readable).
 *
 * Output is the API's JSON, indented; `health` prints one line unless --json. Exit status:
 * 0 the API answered 2xx (for health: status ok), 1 it answered an error (the message is
 * printed; for health: degraded or down), 2 usage error, 3 the API could not be reached.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "http_client.h"

#define EXIT_API 1
#define EXIT_USAGE 2
#define EXIT_UNREACHABLE 3

struct ctl_options {
	char url[300];
	char token[300];
	const char *ca_file;
	bool json;
	long timeout_ms;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: sluicectl [--url URL] [--token TOKEN | --token-file FILE] [--config FILE]\n"
		"                 [--ca-file FILE] [--json] [--timeout SECONDS] COMMAND ...\n"
		"\n"
		"  health                                   one line (--json: the whole answer)\n"
		"  metrics                                  the Prometheus exposition\n"
		"  stats [NAME...] [--no-lcores]            data plane counters\n"
		"  admission [show]                         state, source, controller inputs, history\n"
		"  admission set open|draining|closed [--ttl SECONDS] [--reason TEXT]\n"
		"  admission auto                           remove the override\n"
		"  drain start [--reason TEXT] | status | cancel\n"
		"  services list | add ADDRESS [PORT] --id N | del ADDRESS [PORT]\n"
		"  block list | add PREFIX | del PREFIX\n"
		"  catalog list [--prefix P] [--offset N] [--limit N] | reload\n"
		"  fill create MANIFEST.json | list | status ID | cancel ID | wait ID [--max SECONDS]\n"
		"  keys signing list | add KID (--secret HEX|base64:... | --generate [--length N]) | del KID\n"
		"  keys tickets list | rotate [--name HEX --aes-key HEX --hmac-key HEX]\n"
		"  config reload control|dataplane|all\n"
		"  logs rotate\n"
		"  openapi                                  the API's OpenAPI document\n"
		"  request METHOD PATH [BODY]               any call, raw\n");
}

/* --- HTTP ------------------------------------------------------------------------------------- */

/* Calls the API: returns the exit status, *out the parsed JSON body (or NULL). */
static int ctl_call(const struct ctl_options *o, const char *method, const char *path, const char *body, json_t **out,
		    long *status_out, char **raw_out)
{
	char url[1200];
	struct http_client_request req = {
		.method = method,
		.url = url,
		.body = body,
		.body_len = body ? strlen(body) : 0,
		.bearer_token = o->token[0] ? o->token : NULL,
		.ca_file = o->ca_file,
		.timeout_ms = o->timeout_ms,
		.max_response = 256u << 20,
	};
	struct http_client_response resp;
	int rc;

	if (out)
		*out = NULL;
	snprintf(url, sizeof(url), "%s%s", o->url, path);
	rc = http_client_request(&req, &resp);
	if (rc) {
		fprintf(stderr, "sluicectl: %s: %s\n", url, resp.error);
		return EXIT_UNREACHABLE;
	}
	if (status_out)
		*status_out = resp.status;
	if (out && resp.body && strstr(resp.content_type, "json"))
		*out = json_loadb(resp.body, resp.body_len, 0, NULL);
	if (resp.status < 200 || resp.status > 299) {
		json_t *err = out && *out ? *out : json_loadb(resp.body ? resp.body : "", resp.body_len, 0, NULL);
		const json_t *e = json_object_get(err, "error");

		if (e && !(status_out && (resp.status == 503 && !strcmp(path, "/v1/health"))))
			fprintf(stderr, "sluicectl: %ld %s: %s\n", resp.status,
				json_string_value(json_object_get(e, "code")) ?: "?",
				json_string_value(json_object_get(e, "message")) ?: "");
		else if (!e)
			fprintf(stderr, "sluicectl: HTTP %ld\n", resp.status);
		if (!(out && *out))
			json_decref(err);
		if (raw_out) {
			*raw_out = resp.body;
			resp.body = NULL;
		}
		http_client_response_free(&resp);
		return EXIT_API;
	}
	if (raw_out) {
		*raw_out = resp.body;
		resp.body = NULL;
	}
	http_client_response_free(&resp);
	return 0;
}

static void ctl_print(const json_t *j)
{
	char *text = json_dumps(j, JSON_INDENT(2));

	if (text)
		printf("%s\n", text);
	free(text);
}

/* One call, its JSON printed. */
static int ctl_simple(const struct ctl_options *o, const char *method, const char *path, json_t *body)
{
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_t *answer;
	int rc = ctl_call(o, method, path, text, &answer, NULL, NULL);

	free(text);
	json_decref(body);
	if (!rc && answer)
		ctl_print(answer);
	json_decref(answer);
	return rc;
}

/* --- Arguments ----------------------------------------------------------------------------------- */

static bool ctl_parse_long(const char *text, long lo, long hi, long *out)
{
	char *end;
	long v;

	if (!text || !*text)
		return false;
	errno = 0;
	v = strtol(text, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

/* Appends "name=value" to a query string, percent-encoding the value. */
static void ctl_query_add(char *query, size_t size, const char *name, const char *value)
{
	size_t n = strlen(query);

	n += (size_t)snprintf(query + n, size - n, "%s%s=", n ? "&" : "?", name);
	for (const unsigned char *p = (const unsigned char *)value; *p && n + 4 < size; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || strchr("-._~:", *p))
			query[n++] = (char)*p;
		else
			n += (size_t)snprintf(query + n, size - n, "%%%02X", *p);
	}
	query[n] = 0;
}

static void ctl_first_token(const char *path, char *out, size_t size)
{
	char line[600];
	FILE *f = fopen(path, "re");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *fields[3] = {NULL}, *save = NULL;
		int n = 0;

		line[strcspn(line, "\r\n")] = 0;
		for (char *t = strtok_r(line, " \t", &save); t && n < 3; t = strtok_r(NULL, " \t", &save))
			fields[n++] = t;
		if (!n || fields[0][0] == '#')
			continue;
		snprintf(out, size, "%s", fields[n - 1]);
		break;
	}
	fclose(f);
}

/* --- Commands ------------------------------------------------------------------------------------ */

static int ctl_health(const struct ctl_options *o)
{
	json_t *h;
	long status = 0;
	int rc = ctl_call(o, "GET", "/v1/health", NULL, &h, &status, NULL);
	const char *state;

	if (rc == EXIT_UNREACHABLE)
		return rc;
	if (!h) {
		fprintf(stderr, "sluicectl: health: no JSON in the answer\n");
		return EXIT_API;
	}
	state = json_string_value(json_object_get(h, "status")) ?: "?";
	if (o->json) {
		ctl_print(h);
	} else {
		const json_t *dp = json_object_get(h, "dataplane"), *adm = json_object_get(h, "admission");
		const json_t *reasons = json_object_get(h, "reasons"), *r;
		size_t i;

		printf("%s: data plane %s (pid %" JSON_INTEGER_FORMAT ", %" JSON_INTEGER_FORMAT " restarts), admission %s (%s), steering %s",
		       state, json_string_value(json_object_get(dp, "state")) ?: "?",
		       json_integer_value(json_object_get(dp, "pid")), json_integer_value(json_object_get(dp, "restarts")),
		       json_string_value(json_object_get(adm, "state")) ?: "?",
		       json_string_value(json_object_get(adm, "source")) ?: "?",
		       json_is_true(json_object_get(json_object_get(h, "steering"), "loaded")) ? "loaded" : "not loaded");
		if (json_is_string(json_object_get(adm, "drain")))
			printf(", %s", json_string_value(json_object_get(adm, "drain")));
		printf("\n");
		json_array_foreach(reasons, i, r)
			printf("  %s\n", json_string_value(r));
	}
	json_decref(h);
	return strcmp(state, "ok") ? EXIT_API : 0;
}

static int ctl_text(const struct ctl_options *o, const char *path)
{
	char *raw = NULL;
	int rc = ctl_call(o, "GET", path, NULL, NULL, NULL, &raw);

	if (!rc && raw)
		fputs(raw, stdout);
	free(raw);
	return rc;
}

static int ctl_admission(const struct ctl_options *o, int argc, char **argv)
{
	json_t *body;
	long ttl;

	if (argc == 0 || (argc == 1 && !strcmp(argv[0], "show")))
		return ctl_simple(o, "GET", "/v1/admission", NULL);
	if (argc == 1 && !strcmp(argv[0], "auto"))
		return ctl_simple(o, "PUT", "/v1/admission", json_pack("{s:s}", "state", "auto"));
	if (argc < 2 || strcmp(argv[0], "set"))
		return -1;
	body = json_pack("{s:s}", "state", argv[1]);
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--ttl") && i + 1 < argc && ctl_parse_long(argv[i + 1], 1, 2592000, &ttl)) {
			json_object_set_new(body, "ttl_s", json_integer(ttl));
			i++;
		} else if (!strcmp(argv[i], "--reason") && i + 1 < argc) {
			json_object_set_new(body, "reason", json_string(argv[++i]));
		} else {
			json_decref(body);
			return -1;
		}
	}
	return ctl_simple(o, "PUT", "/v1/admission", body);
}

static int ctl_drain(const struct ctl_options *o, int argc, char **argv)
{
	if (argc == 1 && !strcmp(argv[0], "status"))
		return ctl_simple(o, "GET", "/v1/drain", NULL);
	if (argc == 1 && !strcmp(argv[0], "cancel"))
		return ctl_simple(o, "DELETE", "/v1/drain", NULL);
	if (argc >= 1 && !strcmp(argv[0], "start")) {
		if (argc == 1)
			return ctl_simple(o, "POST", "/v1/drain", json_object());
		if (argc == 3 && !strcmp(argv[1], "--reason"))
			return ctl_simple(o, "POST", "/v1/drain", json_pack("{s:s}", "reason", argv[2]));
	}
	return -1;
}

static int ctl_services(const struct ctl_options *o, int argc, char **argv)
{
	char query[256] = "", path[300];
	long port = 0, id = -1;
	int positional = 0;
	const char *address = NULL;

	if (argc == 1 && !strcmp(argv[0], "list"))
		return ctl_simple(o, "GET", "/v1/services", NULL);
	if (argc < 2 || (strcmp(argv[0], "add") && strcmp(argv[0], "del")))
		return -1;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--id") && i + 1 < argc) {
			if (!ctl_parse_long(argv[++i], 0, 255, &id))
				return -1;
		} else if (positional == 0) {
			address = argv[i];
			positional++;
		} else if (positional == 1 && ctl_parse_long(argv[i], 0, 65535, &port)) {
			positional++;
		} else {
			return -1;
		}
	}
	if (!strcmp(argv[0], "add")) {
		if (id < 0)
			return -1;
		return ctl_simple(o, "POST", "/v1/services",
				  json_pack("{s:s, s:i, s:i}", "address", address, "port", (int)port, "id", (int)id));
	}
	if (id >= 0)
		return -1;
	ctl_query_add(query, sizeof(query), "address", address);
	snprintf(path, sizeof(path), "%ld", port);
	ctl_query_add(query, sizeof(query), "port", path);
	snprintf(path, sizeof(path), "/v1/services%s", query);
	return ctl_simple(o, "DELETE", path, NULL);
}

static int ctl_block(const struct ctl_options *o, int argc, char **argv)
{
	char query[256] = "", path[300];

	if (argc == 1 && !strcmp(argv[0], "list"))
		return ctl_simple(o, "GET", "/v1/blocklist", NULL);
	if (argc == 2 && !strcmp(argv[0], "add"))
		return ctl_simple(o, "POST", "/v1/blocklist", json_pack("{s:s}", "prefix", argv[1]));
	if (argc == 2 && !strcmp(argv[0], "del")) {
		ctl_query_add(query, sizeof(query), "prefix", argv[1]);
		snprintf(path, sizeof(path), "/v1/blocklist%s", query);
		return ctl_simple(o, "DELETE", path, NULL);
	}
	return -1;
}

static int ctl_catalog(const struct ctl_options *o, int argc, char **argv)
{
	char query[1200] = "", path[1300];

	if (argc == 1 && !strcmp(argv[0], "reload"))
		return ctl_simple(o, "POST", "/v1/catalog/reload", json_object());
	if (argc < 1 || strcmp(argv[0], "list"))
		return -1;
	for (int i = 1; i < argc; i += 2) {
		if (i + 1 >= argc || (strcmp(argv[i], "--prefix") && strcmp(argv[i], "--offset") && strcmp(argv[i], "--limit")))
			return -1;
		ctl_query_add(query, sizeof(query), argv[i] + 2, argv[i + 1]);
	}
	snprintf(path, sizeof(path), "/v1/catalog%s", query);
	return ctl_simple(o, "GET", path, NULL);
}

static int ctl_fill_wait(const struct ctl_options *o, const char *id, long max_s)
{
	char path[128];
	time_t deadline = time(NULL) + max_s;

	snprintf(path, sizeof(path), "/v1/fills/%s", id);
	for (;;) {
		json_t *job;
		int rc = ctl_call(o, "GET", path, NULL, &job, NULL, NULL);
		const char *state;

		if (rc)
			return rc;
		state = json_string_value(json_object_get(job, "state")) ?: "?";
		if (strcmp(state, "queued") && strcmp(state, "running")) {
			ctl_print(job);
			rc = strcmp(state, "done") ? EXIT_API : 0;
			json_decref(job);
			return rc;
		}
		json_decref(job);
		if (time(NULL) >= deadline) {
			fprintf(stderr, "sluicectl: fill %s still %s after %ld s\n", id, state, max_s);
			return EXIT_API;
		}
		usleep(250000);
	}
}

static int ctl_fill(const struct ctl_options *o, int argc, char **argv)
{
	char path[128];
	long max_s = 600;

	if (argc == 1 && !strcmp(argv[0], "list"))
		return ctl_simple(o, "GET", "/v1/fills", NULL);
	if (argc == 2 && !strcmp(argv[0], "create")) {
		FILE *f = strcmp(argv[1], "-") ? fopen(argv[1], "re") : stdin;
		char *body = NULL;
		size_t len = 0, cap = 0;
		json_t *answer;
		int rc;

		if (!f) {
			fprintf(stderr, "sluicectl: %s: %s\n", argv[1], strerror(errno));
			return EXIT_USAGE;
		}
		for (;;) {
			if (len + 65536 + 1 > cap) {
				char *grown = realloc(body, cap = cap ? cap * 2 : 131072);

				if (!grown) {
					free(body);
					return EXIT_USAGE;
				}
				body = grown;
			}
			size_t n = fread(body + len, 1, 65536, f);

			len += n;
			if (n < 65536)
				break;
		}
		body[len] = 0;
		if (f != stdin)
			fclose(f);
		rc = ctl_call(o, "POST", "/v1/fills", body, &answer, NULL, NULL);
		free(body);
		if (!rc)
			ctl_print(answer);
		json_decref(answer);
		return rc;
	}
	if (argc == 2 && !strcmp(argv[0], "status")) {
		snprintf(path, sizeof(path), "/v1/fills/%.64s", argv[1]);
		return ctl_simple(o, "GET", path, NULL);
	}
	if (argc == 2 && !strcmp(argv[0], "cancel")) {
		snprintf(path, sizeof(path), "/v1/fills/%.64s", argv[1]);
		return ctl_simple(o, "DELETE", path, NULL);
	}
	if ((argc == 2 || (argc == 4 && !strcmp(argv[2], "--max") && ctl_parse_long(argv[3], 1, 86400, &max_s))) &&
	    !strcmp(argv[0], "wait"))
		return ctl_fill_wait(o, argv[1], max_s);
	return -1;
}

static int ctl_keys(const struct ctl_options *o, int argc, char **argv)
{
	char path[64];
	long kid, length;

	if (argc == 2 && !strcmp(argv[0], "signing") && !strcmp(argv[1], "list"))
		return ctl_simple(o, "GET", "/v1/keys/signing", NULL);
	if (argc == 2 && !strcmp(argv[0], "tickets") && !strcmp(argv[1], "list"))
		return ctl_simple(o, "GET", "/v1/keys/tickets", NULL);
	if (argc == 3 && !strcmp(argv[0], "signing") && !strcmp(argv[1], "del") && ctl_parse_long(argv[2], 1, 255, &kid)) {
		snprintf(path, sizeof(path), "/v1/keys/signing/%ld", kid);
		return ctl_simple(o, "DELETE", path, NULL);
	}
	if (argc >= 4 && !strcmp(argv[0], "signing") && !strcmp(argv[1], "add") && ctl_parse_long(argv[2], 1, 255, &kid)) {
		json_t *body = json_pack("{s:i}", "kid", (int)kid);

		for (int i = 3; i < argc; i++) {
			if (!strcmp(argv[i], "--secret") && i + 1 < argc) {
				json_object_set_new(body, "secret", json_string(argv[++i]));
			} else if (!strcmp(argv[i], "--generate")) {
				json_object_set_new(body, "generate", json_true());
			} else if (!strcmp(argv[i], "--length") && i + 1 < argc && ctl_parse_long(argv[i + 1], 32, 64, &length)) {
				json_object_set_new(body, "length", json_integer(length));
				i++;
			} else {
				json_decref(body);
				return -1;
			}
		}
		return ctl_simple(o, "POST", "/v1/keys/signing", body);
	}
	if (argc >= 2 && !strcmp(argv[0], "tickets") && !strcmp(argv[1], "rotate")) {
		json_t *body = json_object();

		for (int i = 2; i < argc; i += 2) {
			const char *field = !strcmp(argv[i], "--name")      ? "name"
					    : !strcmp(argv[i], "--aes-key") ? "aes_key"
					    : !strcmp(argv[i], "--hmac-key") ? "hmac_key"
									     : NULL;

			if (!field || i + 1 >= argc) {
				json_decref(body);
				return -1;
			}
			json_object_set_new(body, field, json_string(argv[i + 1]));
		}
		return ctl_simple(o, "POST", "/v1/keys/tickets", body);
	}
	return -1;
}

static int ctl_stats(const struct ctl_options *o, int argc, char **argv)
{
	char names[4096] = "", query[4200] = "", path[4300];
	size_t n = 0;

	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--no-lcores")) {
			ctl_query_add(query, sizeof(query), "lcores", "false");
			continue;
		}
		n += (size_t)snprintf(names + n, sizeof(names) - n, "%s%s", n ? "," : "", argv[i]);
		if (n >= sizeof(names))
			return -1;
	}
	if (names[0])
		ctl_query_add(query, sizeof(query), "names", names);
	snprintf(path, sizeof(path), "/v1/stats%s", query);
	return ctl_simple(o, "GET", path, NULL);
}

static int ctl_config(const struct ctl_options *o, int argc, char **argv)
{
	int rc;

	if (argc != 2 || strcmp(argv[0], "reload"))
		return -1;
	if (!strcmp(argv[1], "all")) {
		rc = ctl_simple(o, "POST", "/v1/config/reload", json_pack("{s:s}", "target", "control"));
		if (rc)
			return rc;
		return ctl_simple(o, "POST", "/v1/config/reload", json_pack("{s:s}", "target", "dataplane"));
	}
	return ctl_simple(o, "POST", "/v1/config/reload", json_pack("{s:s}", "target", argv[1]));
}

static int ctl_request(const struct ctl_options *o, int argc, char **argv)
{
	char *raw = NULL;
	int rc;

	if (argc < 2 || argc > 3)
		return -1;
	rc = ctl_call(o, argv[0], argv[1], argc == 3 ? argv[2] : NULL, NULL, NULL, &raw);
	if (raw)
		fputs(raw, rc ? stderr : stdout);
	free(raw);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{"url", required_argument, NULL, 'u'},
		{"token", required_argument, NULL, 't'},
		{"token-file", required_argument, NULL, 'T'},
		{"config", required_argument, NULL, 'c'},
		{"ca-file", required_argument, NULL, 'C'},
		{"json", no_argument, NULL, 'j'},
		{"timeout", required_argument, NULL, 'w'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct ctl_options o = {.timeout_ms = 60000};
	const char *url = getenv("SLUICECTL_URL"), *token = getenv("SLUICECTL_TOKEN"), *token_file = NULL;
	const char *config_path = NULL, *cmd;
	struct sluice_config cfg;
	bool have_cfg = false;
	long seconds;
	int opt, rc;

	while ((opt = getopt_long(argc, argv, "+u:t:T:c:C:jw:h", options, NULL)) != -1) {
		switch (opt) {
		case 'u': url = optarg; break;
		case 't': token = optarg; break;
		case 'T': token_file = optarg; break;
		case 'c': config_path = optarg; break;
		case 'C': o.ca_file = optarg; break;
		case 'j': o.json = true; break;
		case 'w':
			if (!ctl_parse_long(optarg, 1, 86400, &seconds)) {
				usage(stderr);
				return EXIT_USAGE;
			}
			o.timeout_ms = seconds * 1000;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (config_path) {
		char err[CONFIG_ERROR_MAX];

		if (config_load_file(config_path, &cfg, err, sizeof(err))) {
			fprintf(stderr, "sluicectl: %s\n", err);
			return EXIT_USAGE;
		}
		have_cfg = true;
	}
	if (url)
		snprintf(o.url, sizeof(o.url), "%s", url);
	else if (have_cfg)
		snprintf(o.url, sizeof(o.url), "%s://%s", cfg.control.tls_cert[0] ? "https" : "http", cfg.control.listen);
	else
		snprintf(o.url, sizeof(o.url), "http://127.0.0.1:8701");
	o.url[strcspn(o.url, "\n")] = 0;
	if (o.url[0] && o.url[strlen(o.url) - 1] == '/')
		o.url[strlen(o.url) - 1] = 0;
	if (token)
		snprintf(o.token, sizeof(o.token), "%s", token);
	else if (token_file)
		ctl_first_token(token_file, o.token, sizeof(o.token));
	else if (have_cfg)
		ctl_first_token(cfg.control.token_file, o.token, sizeof(o.token));
	if (token_file && !o.token[0]) {
		fprintf(stderr, "sluicectl: no token in %s\n", token_file);
		return EXIT_USAGE;
	}

	cmd = argv[optind];
	argc -= optind + 1;
	argv += optind + 1;
	if (!strcmp(cmd, "health") && argc == 0)
		rc = ctl_health(&o);
	else if (!strcmp(cmd, "metrics") && argc == 0)
		rc = ctl_text(&o, "/metrics");
	else if (!strcmp(cmd, "openapi") && argc == 0)
		rc = ctl_text(&o, "/v1/openapi.json");
	else if (!strcmp(cmd, "stats"))
		rc = ctl_stats(&o, argc, argv);
	else if (!strcmp(cmd, "admission"))
		rc = ctl_admission(&o, argc, argv);
	else if (!strcmp(cmd, "drain"))
		rc = ctl_drain(&o, argc, argv);
	else if (!strcmp(cmd, "services"))
		rc = ctl_services(&o, argc, argv);
	else if (!strcmp(cmd, "block"))
		rc = ctl_block(&o, argc, argv);
	else if (!strcmp(cmd, "catalog"))
		rc = ctl_catalog(&o, argc, argv);
	else if (!strcmp(cmd, "fill"))
		rc = ctl_fill(&o, argc, argv);
	else if (!strcmp(cmd, "keys"))
		rc = ctl_keys(&o, argc, argv);
	else if (!strcmp(cmd, "config"))
		rc = ctl_config(&o, argc, argv);
	else if (!strcmp(cmd, "logs") && argc == 1 && !strcmp(argv[0], "rotate"))
		rc = ctl_simple(&o, "POST", "/v1/logs/rotate", json_object());
	else if (!strcmp(cmd, "request"))
		rc = ctl_request(&o, argc, argv);
	else
		rc = -1;
	if (rc < 0) {
		usage(stderr);
		return EXIT_USAGE;
	}
	return rc;
}
