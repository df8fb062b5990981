/* SPDX-License-Identifier: BSD-3-Clause
 *
 * sluice_steer.c: sluice-steer, the operator's command line for the XDP steering program. It
 * reads and changes the policy in the pinned maps (services, blocklist, admission, SYN limit,
 * settings), prints the counters (text or --json), and can load/attach the program itself for
 * the lab and manual checks when the data plane's af_xdp PMD is not the loader.
 *
 * A thin shell over control/steer.c: parsing arguments and printing is all it does, so the
 * control daemon's REST API gets the same behaviour from the same library calls. Exit status:
 * 0 done, 1 the operation failed (message on stderr), 2 usage error.
 */
#include <errno.h>
#include <inttypes.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "steer.h"

#define EXIT_USAGE 2

static const char *pin_dir;   /* --pin-dir, NULL = default */
static int json_output;       /* --json */
static int libbpf_verbose;    /* --verbose */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: sluice-steer [--pin-dir DIR] [--json] [--verbose] COMMAND ...\n"
		"\n"
		"  service list\n"
		"  service add ADDRESS [PORT] --id N   TCP PORT of ADDRESS is service N; without PORT the\n"
		"                                      data plane owns ADDRESS (ARP/NDP, ICMP, every port)\n"
		"  service del ADDRESS [PORT]\n"
		"  block list | add PREFIX | del PREFIX   source prefixes dropped (198.18.0.0/24, fd5c::/64)\n"
		"  admission get ID | set ID open|draining|closed\n"
		"  syn-limit RATE BURST                SYNs per second and burst per source prefix (BURST 0: off)\n"
		"  syn list                            source prefixes with a SYN bucket and their drops\n"
		"  config show\n"
		"  config set KEY VALUE ...            syn-rate N, syn-burst N, syn-prefix4 N, syn-prefix6 N,\n"
		"                                      block-scope all|services, refuse rst|drop\n"
		"  counters [clear]                    per-verdict and per-reason counters (--json)\n"
		"  load IFACE [--skb]                  load, pin the maps, attach (when the data plane does not)\n"
		"  unload IFACE [--skb]                detach the XDP program of IFACE\n"
		"  unpin                               remove the pinned maps (stale layout, clean slate)\n"
		"\n"
		"Maps are pinned in %s unless --pin-dir says otherwise.\n",
		STEER_PIN_ROOT_DEFAULT);
}

static int fail(const char *what, int rc)
{
	fprintf(stderr, "sluice-steer: %s: %s\n", what, strerror(-rc));
	return 1;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* The library reports what went wrong; libbpf's own detail is for --verbose. */
	if (!libbpf_verbose || level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static int parse_u32(const char *text, uint32_t max, uint32_t *out)
{
	unsigned long long v;
	char *end;

	if (!text || text[0] < '0' || text[0] > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

static int open_maps(struct steer_maps **maps)
{
	char err[STEER_ERROR_MAX] = "";
	int rc = steer_open(pin_dir, maps, err, sizeof(err));

	if (rc < 0)
		fprintf(stderr, "sluice-steer: %s\n", err[0] ? err : strerror(-rc));
	return rc;
}

/* ADDRESS [PORT] into a service (id left 0). */
static int parse_service(int argc, char **argv, struct steer_service *service, int *used)
{
	uint32_t port = 0;

	memset(service, 0, sizeof(*service));
	if (argc < 1 || steer_parse_address(argv[0], &service->family, service->addr) < 0) {
		fprintf(stderr, "sluice-steer: '%s' is not an IPv4 or IPv6 address\n", argc ? argv[0] : "");
		return -EINVAL;
	}
	*used = 1;
	if (argc > 1 && argv[1][0] != '-') {
		if (parse_u32(argv[1], 65535, &port) < 0 || port == 0) {
			fprintf(stderr, "sluice-steer: '%s' is not a port (1..65535)\n", argv[1]);
			return -EINVAL;
		}
		*used = 2;
	}
	service->port = (uint16_t)port;
	return 0;
}

static int cmd_service(struct steer_maps *maps, int argc, char **argv)
{
	struct steer_service service, *list;
	char address[STEER_ADDRESS_TEXT_MAX];
	size_t count;
	int rc, used;

	if (argc >= 1 && strcmp(argv[0], "list") == 0) {
		rc = steer_service_list(maps, &list, &count);
		if (rc < 0)
			return fail("listing services", rc);
		printf("%-40s %-6s %s\n", "address", "port", "service");
		for (size_t i = 0; i < count; i++) {
			steer_format_address(list[i].family, list[i].addr, address, sizeof(address));
			if (list[i].port)
				printf("%-40s %-6u %" PRIu32 "\n", address, list[i].port, list[i].service_id);
			else
				printf("%-40s %-6s %" PRIu32 "\n", address, "owned", list[i].service_id);
		}
		free(list);
		return 0;
	}
	if (argc >= 2 && strcmp(argv[0], "add") == 0) {
		if (parse_service(argc - 1, argv + 1, &service, &used) < 0)
			return EXIT_USAGE;
		if (argc != 1 + used + 2 || strcmp(argv[1 + used], "--id") != 0 ||
		    parse_u32(argv[2 + used], STEER_SERVICE_ID_MAX - 1, &service.service_id) < 0) {
			fprintf(stderr, "sluice-steer: service add ADDRESS [PORT] --id N (N < %d)\n", STEER_SERVICE_ID_MAX);
			return EXIT_USAGE;
		}
		rc = steer_service_add(maps, &service);
		return rc < 0 ? fail("adding the service", rc) : 0;
	}
	if (argc >= 2 && strcmp(argv[0], "del") == 0) {
		if (parse_service(argc - 1, argv + 1, &service, &used) < 0 || argc != 1 + used)
			return EXIT_USAGE;
		rc = steer_service_remove(maps, &service);
		return rc < 0 ? fail("removing the service", rc) : 0;
	}
	usage(stderr);
	return EXIT_USAGE;
}

static int cmd_block(struct steer_maps *maps, int argc, char **argv)
{
	char text[STEER_ADDRESS_TEXT_MAX];
	struct steer_block_entry *list;
	struct steer_prefix prefix;
	size_t count;
	int rc;

	if (argc == 1 && strcmp(argv[0], "list") == 0) {
		rc = steer_block_list(maps, &list, &count);
		if (rc < 0)
			return fail("listing the blocklist", rc);
		printf("%-44s %s\n", "prefix", "drops");
		for (size_t i = 0; i < count; i++) {
			steer_format_prefix(&list[i].prefix, text, sizeof(text));
			printf("%-44s %" PRIu64 "\n", text, list[i].drops);
		}
		free(list);
		return 0;
	}
	if (argc == 2 && (strcmp(argv[0], "add") == 0 || strcmp(argv[0], "del") == 0)) {
		if (steer_parse_prefix(argv[1], &prefix) < 0) {
			fprintf(stderr, "sluice-steer: '%s' is not a prefix (198.18.0.0/24, fd5c::/64; no bits set "
				"past the length)\n", argv[1]);
			return EXIT_USAGE;
		}
		if (argv[0][0] == 'a')
			rc = steer_block_add(maps, &prefix);
		else
			rc = steer_block_remove(maps, &prefix);
		return rc < 0 ? fail(argv[0][0] == 'a' ? "adding the prefix" : "removing the prefix", rc) : 0;
	}
	usage(stderr);
	return EXIT_USAGE;
}

static int cmd_admission(struct steer_maps *maps, int argc, char **argv)
{
	enum steer_admission state;
	uint32_t id;
	int rc;

	if (argc >= 2 && parse_u32(argv[1], STEER_SERVICE_ID_MAX - 1, &id) < 0) {
		fprintf(stderr, "sluice-steer: '%s' is not a service id (0..%d)\n", argv[1], STEER_SERVICE_ID_MAX - 1);
		return EXIT_USAGE;
	}
	if (argc == 2 && strcmp(argv[0], "get") == 0) {
		rc = steer_admission_get(maps, id, &state);
		if (rc < 0)
			return fail("reading admission", rc);
		printf("%s\n", steer_admission_name(state));
		return 0;
	}
	if (argc == 3 && strcmp(argv[0], "set") == 0) {
		if (steer_admission_parse(argv[2], &state) < 0) {
			fprintf(stderr, "sluice-steer: admission is open, draining or closed\n");
			return EXIT_USAGE;
		}
		rc = steer_admission_set(maps, id, state);
		return rc < 0 ? fail("setting admission", rc) : 0;
	}
	usage(stderr);
	return EXIT_USAGE;
}

static int cmd_syn_limit(struct steer_maps *maps, int argc, char **argv)
{
	uint32_t rate, burst;
	int rc;

	if (argc != 2 || parse_u32(argv[0], UINT32_MAX, &rate) < 0 || parse_u32(argv[1], UINT32_MAX, &burst) < 0) {
		fprintf(stderr, "sluice-steer: syn-limit RATE BURST (SYNs per second per prefix; BURST 0 turns the "
			"limit off; RATE 0 never refills)\n");
		return EXIT_USAGE;
	}
	rc = steer_syn_limit_set(maps, rate, burst);
	return rc < 0 ? fail("setting the SYN limit", rc) : 0;
}

static int cmd_syn(struct steer_maps *maps, int argc, char **argv)
{
	char text[STEER_ADDRESS_TEXT_MAX];
	struct steer_syn_entry *list;
	size_t count;
	int rc;

	if (argc != 1 || strcmp(argv[0], "list") != 0) {
		usage(stderr);
		return EXIT_USAGE;
	}
	rc = steer_syn_list(maps, &list, &count);
	if (rc < 0)
		return fail("listing SYN buckets", rc);
	printf("%-44s %s\n", "source prefix", "syn drops");
	for (size_t i = 0; i < count; i++) {
		steer_format_prefix(&list[i].prefix, text, sizeof(text));
		printf("%-44s %" PRIu64 "\n", text, list[i].drops);
	}
	free(list);
	return 0;
}

static void config_print(const struct steer_config *cfg)
{
	printf("source         %s\n", cfg->magic == STEER_CONFIG_MAGIC ? "sluice_config" : "load-time defaults");
	printf("syn-rate       %" PRIu32 " per second per prefix%s\n", cfg->syn_rate_per_sec,
	       cfg->syn_rate_per_sec ? "" : " (never refills)");
	printf("syn-burst      %" PRIu32 "%s\n", cfg->syn_burst, cfg->syn_burst ? "" : " (SYN limit off)");
	printf("syn-prefix4    /%u\n", cfg->syn_prefix_len_v4);
	printf("syn-prefix6    /%u\n", cfg->syn_prefix_len_v6);
	printf("block-scope    %s\n", cfg->block_scope == STEER_BLOCK_SERVICES ? "services" : "all");
	printf("refuse         %s\n", cfg->refuse_action == STEER_REFUSE_DROP ? "drop" : "rst");
}

static int config_apply(struct steer_config *cfg, const char *key, const char *value)
{
	uint32_t v;

	if (strcmp(key, "syn-rate") == 0 && parse_u32(value, UINT32_MAX, &v) == 0)
		cfg->syn_rate_per_sec = v;
	else if (strcmp(key, "syn-burst") == 0 && parse_u32(value, UINT32_MAX, &v) == 0)
		cfg->syn_burst = v;
	else if (strcmp(key, "syn-prefix4") == 0 && parse_u32(value, 32, &v) == 0)
		cfg->syn_prefix_len_v4 = (uint8_t)v;
	else if (strcmp(key, "syn-prefix6") == 0 && parse_u32(value, 128, &v) == 0)
		cfg->syn_prefix_len_v6 = (uint8_t)v;
	else if (strcmp(key, "block-scope") == 0 && strcmp(value, "all") == 0)
		cfg->block_scope = STEER_BLOCK_ALL;
	else if (strcmp(key, "block-scope") == 0 && strcmp(value, "services") == 0)
		cfg->block_scope = STEER_BLOCK_SERVICES;
	else if (strcmp(key, "refuse") == 0 && strcmp(value, "rst") == 0)
		cfg->refuse_action = STEER_REFUSE_RST;
	else if (strcmp(key, "refuse") == 0 && strcmp(value, "drop") == 0)
		cfg->refuse_action = STEER_REFUSE_DROP;
	else
		return -EINVAL;
	return 0;
}

static int cmd_config(struct steer_maps *maps, int argc, char **argv)
{
	struct steer_config cfg;
	int rc;

	if (argc == 1 && strcmp(argv[0], "show") == 0) {
		rc = steer_config_get(maps, &cfg);
		if (rc == -EPROTO) {
			fprintf(stderr, "sluice-steer: sluice_config was written by another sluice build; the program "
				"ignores it and runs on its load-time defaults ('config set' replaces it)\n");
			return 1;
		}
		if (rc < 0)
			return fail("reading the config", rc);
		config_print(&cfg);
		return 0;
	}
	if (argc >= 3 && argc % 2 == 1 && strcmp(argv[0], "set") == 0) {
		rc = steer_config_get(maps, &cfg);
		if (rc == -EPROTO)
			steer_config_defaults(&cfg); /* another build's config: start from ours */
		else if (rc < 0)
			return fail("reading the config", rc);
		for (int i = 1; i < argc; i += 2)
			if (config_apply(&cfg, argv[i], argv[i + 1]) < 0) {
				fprintf(stderr, "sluice-steer: bad setting '%s %s'\n", argv[i], argv[i + 1]);
				return EXIT_USAGE;
			}
		rc = steer_config_set(maps, &cfg);
		return rc < 0 ? fail("writing the config", rc) : 0;
	}
	usage(stderr);
	return EXIT_USAGE;
}

static int cmd_counters(struct steer_maps *maps, int argc, char **argv)
{
	struct steer_counter_value totals[STEER_COUNTER_COUNT];
	int rc;

	if (argc == 1 && strcmp(argv[0], "clear") == 0) {
		rc = steer_counters_clear(maps);
		return rc < 0 ? fail("clearing counters", rc) : 0;
	}
	if (argc != 0) {
		usage(stderr);
		return EXIT_USAGE;
	}
	rc = steer_counters_read(maps, totals);
	if (rc < 0)
		return fail("reading counters", rc);
	if (json_output) {
		/* Names are fixed identifiers ([a-z0-9_]): nothing to escape. */
		printf("{\"counters\": {");
		for (int i = 0; i < STEER_COUNTER_COUNT; i++)
			printf("%s\n  \"%s\": {\"packets\": %" PRIu64 ", \"bytes\": %" PRIu64 "}", i ? "," : "",
			       steer_counter_names[i], (uint64_t)totals[i].packets, (uint64_t)totals[i].bytes);
		printf("\n}}\n");
		return 0;
	}
	printf("%-20s %14s %16s  %s\n", "counter", "packets", "bytes", "meaning");
	for (int i = 0; i < STEER_COUNTER_COUNT; i++)
		printf("%-20s %14" PRIu64 " %16" PRIu64 "  %s\n", steer_counter_names[i], (uint64_t)totals[i].packets,
		       (uint64_t)totals[i].bytes, steer_counter_help[i]);
	return 0;
}

static int parse_iface(int argc, char **argv, int *ifindex, uint32_t *flags)
{
	if (argc < 1 || argc > 2 || (argc == 2 && strcmp(argv[1], "--skb") != 0)) {
		usage(stderr);
		return -EINVAL;
	}
	*ifindex = (int)if_nametoindex(argv[0]);
	if (!*ifindex) {
		fprintf(stderr, "sluice-steer: no interface '%s'\n", argv[0]);
		return -ENODEV;
	}
	*flags = argc == 2 ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
	return 0;
}

static int cmd_load(int argc, char **argv)
{
	struct steer_load_opts opts = {.pin_dir = pin_dir};
	char err[STEER_ERROR_MAX] = "";
	struct steer_program *program;
	uint32_t flags;
	int ifindex, rc;

	rc = parse_iface(argc, argv, &ifindex, &flags);
	if (rc < 0)
		return rc == -ENODEV ? 1 : EXIT_USAGE;
	rc = steer_load(&opts, &program, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "sluice-steer: %s\n", err[0] ? err : strerror(-rc));
		return 1;
	}
	rc = steer_attach(program, ifindex, flags);
	steer_program_free(program);
	if (rc == -EBUSY || rc == -EEXIST) {
		fprintf(stderr, "sluice-steer: %s already has an XDP program (sluice-steer unload %s)\n", argv[0],
			argv[0]);
		return 1;
	}
	return rc < 0 ? fail("attaching", rc) : 0;
}

static int cmd_unload(int argc, char **argv)
{
	uint32_t flags;
	int ifindex, rc;

	rc = parse_iface(argc, argv, &ifindex, &flags);
	if (rc < 0)
		return rc == -ENODEV ? 1 : EXIT_USAGE;
	rc = steer_detach(ifindex, flags);
	return rc < 0 ? fail("detaching", rc) : 0;
}

int main(int argc, char **argv)
{
	struct steer_maps *maps = NULL;
	const char *command;
	int i = 1, rc;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--pin-dir") == 0 && i + 1 < argc) {
			pin_dir = argv[++i];
		} else if (strcmp(argv[i], "--json") == 0) {
			json_output = 1;
		} else if (strcmp(argv[i], "--verbose") == 0) {
			libbpf_verbose = 1;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	libbpf_set_print(libbpf_print);
	command = argv[i++];
	argc -= i;
	argv += i;

	if (strcmp(command, "load") == 0)
		return cmd_load(argc, argv);
	if (strcmp(command, "unload") == 0)
		return cmd_unload(argc, argv);
	if (strcmp(command, "unpin") == 0) {
		rc = steer_unpin(pin_dir);
		if (rc < 0)
			return fail("unpinning", rc);
		printf("removed %d pinned map(s)\n", rc);
		return 0;
	}
	if (strcmp(command, "service") != 0 && strcmp(command, "block") != 0 && strcmp(command, "admission") != 0 &&
	    strcmp(command, "syn-limit") != 0 && strcmp(command, "syn") != 0 && strcmp(command, "config") != 0 &&
	    strcmp(command, "counters") != 0) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (open_maps(&maps) < 0)
		return 1;
	if (strcmp(command, "service") == 0)
		rc = cmd_service(maps, argc, argv);
	else if (strcmp(command, "block") == 0)
		rc = cmd_block(maps, argc, argv);
	else if (strcmp(command, "admission") == 0)
		rc = cmd_admission(maps, argc, argv);
	else if (strcmp(command, "syn-limit") == 0)
		rc = cmd_syn_limit(maps, argc, argv);
	else if (strcmp(command, "syn") == 0)
		rc = cmd_syn(maps, argc, argv);
	else if (strcmp(command, "config") == 0)
		rc = cmd_config(maps, argc, argv);
	else
		rc = cmd_counters(maps, argc, argv);
	steer_close(maps);
	return rc;
}
