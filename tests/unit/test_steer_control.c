/* SPDX-License-Identifier: BSD-3-Clause
 *
 * test_steer_control.c: the steering control library (control/steer.c) and the sluice-steer
 * CLI, against maps pinned under a private bpffs directory (/sys/fs/bpf/sluice-test-<pid>), so
 * a running system's pins are never touched. The program is loaded by steer_load() with that
 * pin directory and driven with bpf_prog_test_run_opts, so the tests also show that a policy
 * written through the library is the one the program applies.
 *
 * Tables: prefix parsing (good and bad texts, canonical formatting), admission names. Then
 * services, blocklist, admission, settings, SYN buckets and counters through the pins, a
 * reload that keeps the policy, stale-layout detection, and the CLI's commands and --json.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_link.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "steer.h"
#include "steer_frames.h"
#include "test_main.h"

static char pin_dir[128];
static char stale_dir[128];
static struct steer_program *program;
static struct steer_maps *maps;

/* --- Parsing tables -------------------------------------------------------------------------- */

struct prefix_case {
	const char *text;
	int rc;
	uint8_t family;
	uint8_t len;
	const char *canonical; /* steer_format_prefix of the result */
};

static const struct prefix_case prefix_cases[] = {
	{"198.18.0.0/24", 0, STEER_FAMILY_IPV4, 24, "198.18.0.0/24"},
	{"fd5c::/64", 0, STEER_FAMILY_IPV6, 64, "fd5c::/64"},
	{"198.18.0.1", 0, STEER_FAMILY_IPV4, 32, "198.18.0.1/32"},
	{"fd5c::1", 0, STEER_FAMILY_IPV6, 128, "fd5c::1/128"},
	{"0.0.0.0/0", 0, STEER_FAMILY_IPV4, 0, "0.0.0.0/0"},
	{"::/0", 0, STEER_FAMILY_IPV6, 0, "::/0"},
	{"2001:db8:bad:0:0::/48", 0, STEER_FAMILY_IPV6, 48, "2001:db8:bad::/48"},
	{"203.0.113.128/25", 0, STEER_FAMILY_IPV4, 25, "203.0.113.128/25"},
	{"198.18.0.1/24", -EINVAL, 0, 0, NULL},   /* host bits set */
	{"fd5c::1/64", -EINVAL, 0, 0, NULL},      /* host bits set */
	{"198.18.0.0/33", -EINVAL, 0, 0, NULL},
	{"fd5c::/129", -EINVAL, 0, 0, NULL},
	{"198.18.0.0/", -EINVAL, 0, 0, NULL},
	{"198.18.0.0/-1", -EINVAL, 0, 0, NULL},
	{"198.18.0.0/+24", -EINVAL, 0, 0, NULL},
	{"198.18.0.0/ 24", -EINVAL, 0, 0, NULL},
	{"198.18.0.0/24x", -EINVAL, 0, 0, NULL},
	{"198.18.0.0/99999999999999999999", -EINVAL, 0, 0, NULL},
	{"/24", -EINVAL, 0, 0, NULL},
	{"", -EINVAL, 0, 0, NULL},
	{"198.18.0/24", -EINVAL, 0, 0, NULL},
	{"fd5c:::1/64", -EINVAL, 0, 0, NULL},
	{"example.com/24", -EINVAL, 0, 0, NULL},
	{"198.18.0.0/24/8", -EINVAL, 0, 0, NULL},
	{NULL, 0, 0, 0, NULL},
};

static void test_prefix_table(void)
{
	for (const struct prefix_case *c = prefix_cases; c->text; c++) {
		struct steer_prefix p;
		char text[STEER_ADDRESS_TEXT_MAX] = "";
		int rc = steer_parse_prefix(c->text, &p);

		TEST_CHECK(rc == c->rc, "'%s': rc %d, expected %d", c->text, rc, c->rc);
		if (rc != 0 || c->rc != 0)
			continue;
		steer_format_prefix(&p, text, sizeof(text));
		TEST_CHECK(p.family == c->family && p.len == c->len && strcmp(text, c->canonical) == 0,
			   "'%s': family %u len %u text '%s', expected %u %u '%s'", c->text, p.family, p.len, text,
			   c->family, c->len, c->canonical);
	}
}

static void test_address_parse(void)
{
	uint8_t family, addr[16];
	char text[STEER_ADDRESS_TEXT_MAX];

	CU_ASSERT_EQUAL(steer_parse_address("198.18.0.1", &family, addr), 0);
	CU_ASSERT_EQUAL(family, STEER_FAMILY_IPV4);
	CU_ASSERT_EQUAL(addr[0], 198);
	CU_ASSERT_EQUAL(addr[4], 0); /* the rest of an IPv4 address is zero */
	CU_ASSERT_EQUAL(steer_format_address(family, addr, text, sizeof(text)), 0);
	CU_ASSERT_STRING_EQUAL(text, "198.18.0.1");
	CU_ASSERT_EQUAL(steer_parse_address("fd5c::1", &family, addr), 0);
	CU_ASSERT_EQUAL(family, STEER_FAMILY_IPV6);
	CU_ASSERT_EQUAL(steer_parse_address("198.18.0.1/32", &family, addr), -EINVAL);
	CU_ASSERT_EQUAL(steer_parse_address(" 198.18.0.1", &family, addr), -EINVAL);
	CU_ASSERT_EQUAL(steer_format_address(5, addr, text, sizeof(text)), -EINVAL);
	CU_ASSERT_EQUAL(steer_format_address(STEER_FAMILY_IPV6, addr, text, 4), -ENOSPC);
}

static void test_admission_names(void)
{
	static const struct {
		const char *text;
		int rc;
		enum steer_admission state;
	} cases[] = {
		{"open", 0, STEER_ADMIT_OPEN},
		{"draining", 0, STEER_ADMIT_DRAINING},
		{"closed", 0, STEER_ADMIT_CLOSED},
		{"Closed", -EINVAL, 0},
		{"", -EINVAL, 0},
		{"opened", -EINVAL, 0},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum steer_admission state = STEER_ADMIT_COUNT;
		int rc = steer_admission_parse(cases[i].text, &state);

		TEST_CHECK(rc == cases[i].rc && (rc || state == cases[i].state), "'%s': rc %d state %d", cases[i].text,
			   rc, state);
		if (rc == 0)
			TEST_CHECK(strcmp(steer_admission_name(state), cases[i].text) == 0, "name of %d", state);
	}
	CU_ASSERT_STRING_EQUAL(steer_admission_name((enum steer_admission)9), "unknown");
}

/* --- Through the pins ----------------------------------------------------------------------- */

static struct steer_service service_make(const char *addr, uint16_t port, uint32_t id)
{
	struct steer_service s = {.port = port, .service_id = id};

	CU_ASSERT_EQUAL(steer_parse_address(addr, &s.family, s.addr), 0);
	return s;
}

/* Runs a frame through the loaded program; returns the XDP action (or -errno). */
static int program_run(const struct frame_spec *spec)
{
	uint8_t frame[FRAME_MAX], out[FRAME_MAX];
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_out = out, .data_size_out = sizeof(out),
		    .repeat = 1);
	int rc;

	opts.data_size_in = (__u32)frame_build(spec, frame);
	rc = bpf_prog_test_run_opts(steer_program_fd(program), &opts);
	return rc < 0 ? rc : (int)opts.retval;
}

static const struct frame_spec syn_v4 = {.l3 = FRAME_IPV4, .src = "192.0.2.10", .dst = "198.18.0.1",
					 .proto = IPPROTO_TCP, .sport = 40000, .dport = 80, .tcp_flags = TCPF_SYN,
					 .seq = 7};
static const struct frame_spec syn_v4_blocked = {.l3 = FRAME_IPV4, .src = "203.0.113.9", .dst = "198.18.0.1",
						 .proto = IPPROTO_TCP, .sport = 40000, .dport = 80,
						 .tcp_flags = TCPF_SYN, .seq = 7};

static void test_pins_created(void)
{
	static const char *const names[] = {STEER_MAP_SERVICES, STEER_MAP_ADMIT, STEER_MAP_BLOCK,
					    STEER_MAP_SYN_RATE, STEER_MAP_CONFIG, STEER_MAP_COUNTERS};
	char path[256];
	struct stat st;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", pin_dir, names[i]);
		TEST_CHECK(stat(path, &st) == 0, "%s not pinned", path);
	}
	snprintf(path, sizeof(path), "%s/%s", pin_dir, STEER_MAP_XSKS);
	TEST_CHECK(stat(path, &st) < 0 && errno == ENOENT, "xsks_map must not be pinned");
	CU_ASSERT(steer_program_map_fd(program, STEER_MAP_XSKS) >= 0);
	CU_ASSERT_EQUAL(steer_program_map_fd(program, "sluice_nothing"), -ENOENT);
}

static void test_services(void)
{
	struct steer_service v4 = service_make("198.18.0.1", 80, 1), v6 = service_make("fd5c::1", 443, 1);
	struct steer_service owned = service_make("198.18.0.2", 0, 2), bad = v4, *list;
	char text[STEER_ADDRESS_TEXT_MAX];
	size_t count;

	CU_ASSERT_EQUAL(steer_service_add(maps, &v6), 0);
	CU_ASSERT_EQUAL(steer_service_add(maps, &owned), 0);
	CU_ASSERT_EQUAL(steer_service_add(maps, &v4), 0);
	CU_ASSERT_EQUAL(steer_service_add(maps, &v4), 0); /* replacing is fine */
	bad.service_id = STEER_SERVICE_ID_MAX;
	CU_ASSERT_EQUAL(steer_service_add(maps, &bad), -ERANGE);
	bad = v4;
	bad.family = 5;
	CU_ASSERT_EQUAL(steer_service_add(maps, &bad), -EINVAL);

	CU_ASSERT_EQUAL_FATAL(steer_service_list(maps, &list, &count), 0);
	CU_ASSERT_EQUAL_FATAL(count, 3);
	/* Sorted: IPv4 before IPv6, then by address. */
	steer_format_address(list[0].family, list[0].addr, text, sizeof(text));
	CU_ASSERT_STRING_EQUAL(text, "198.18.0.1");
	CU_ASSERT_EQUAL(list[0].port, 80);
	CU_ASSERT_EQUAL(list[0].service_id, 1);
	CU_ASSERT_EQUAL(list[1].port, 0);
	CU_ASSERT_EQUAL(list[1].service_id, 2);
	CU_ASSERT_EQUAL(list[2].family, STEER_FAMILY_IPV6);
	CU_ASSERT_EQUAL(list[2].port, 443);
	free(list);

	CU_ASSERT_EQUAL(steer_service_remove(maps, &v6), 0);
	CU_ASSERT_EQUAL(steer_service_remove(maps, &v6), -ENOENT);
	CU_ASSERT_EQUAL_FATAL(steer_service_list(maps, &list, &count), 0);
	CU_ASSERT_EQUAL(count, 2);
	free(list);

	/* The program sees what the library wrote. */
	CU_ASSERT_EQUAL(program_run(&syn_v4), XDP_PASS);
}

static void test_admission_through_pins(void)
{
	enum steer_admission state = STEER_ADMIT_COUNT;

	CU_ASSERT_EQUAL(steer_admission_get(maps, 1, &state), 0);
	CU_ASSERT_EQUAL(state, STEER_ADMIT_OPEN);
	CU_ASSERT_EQUAL(steer_admission_set(maps, 1, STEER_ADMIT_CLOSED), 0);
	CU_ASSERT_EQUAL(steer_admission_get(maps, 1, &state), 0);
	CU_ASSERT_EQUAL(state, STEER_ADMIT_CLOSED);
	CU_ASSERT_EQUAL(program_run(&syn_v4), XDP_TX);
	CU_ASSERT_EQUAL(steer_admission_set(maps, 1, STEER_ADMIT_DRAINING), 0);
	CU_ASSERT_EQUAL(program_run(&syn_v4), XDP_TX);
	CU_ASSERT_EQUAL(steer_admission_set(maps, 1, STEER_ADMIT_OPEN), 0);
	CU_ASSERT_EQUAL(program_run(&syn_v4), XDP_PASS);
	CU_ASSERT_EQUAL(steer_admission_set(maps, STEER_SERVICE_ID_MAX, STEER_ADMIT_OPEN), -ERANGE);
	CU_ASSERT_EQUAL(steer_admission_get(maps, STEER_SERVICE_ID_MAX, &state), -ERANGE);
	CU_ASSERT_EQUAL(steer_admission_set(maps, 1, STEER_ADMIT_COUNT), -EINVAL);
}

static void test_blocklist(void)
{
	struct steer_prefix v4, v6, host_bits;
	struct steer_block_entry *list;
	char text[STEER_ADDRESS_TEXT_MAX];
	size_t count;

	CU_ASSERT_EQUAL_FATAL(steer_parse_prefix("203.0.113.0/24", &v4), 0);
	CU_ASSERT_EQUAL_FATAL(steer_parse_prefix("2001:db8:bad::/48", &v6), 0);
	CU_ASSERT_EQUAL(steer_block_add(maps, &v6), 0);
	CU_ASSERT_EQUAL(steer_block_add(maps, &v4), 0);
	host_bits = v4;
	host_bits.addr[3] = 1;
	CU_ASSERT_EQUAL(steer_block_add(maps, &host_bits), -EINVAL);
	host_bits = v4;
	host_bits.len = 33;
	CU_ASSERT_EQUAL(steer_block_add(maps, &host_bits), -EINVAL);

	CU_ASSERT_EQUAL(program_run(&syn_v4_blocked), XDP_DROP);
	CU_ASSERT_EQUAL(program_run(&syn_v4_blocked), XDP_DROP);
	CU_ASSERT_EQUAL_FATAL(steer_block_list(maps, &list, &count), 0);
	CU_ASSERT_EQUAL_FATAL(count, 2);
	steer_format_prefix(&list[0].prefix, text, sizeof(text));
	CU_ASSERT_STRING_EQUAL(text, "203.0.113.0/24");
	CU_ASSERT_EQUAL(list[0].drops, 2);
	steer_format_prefix(&list[1].prefix, text, sizeof(text));
	CU_ASSERT_STRING_EQUAL(text, "2001:db8:bad::/48");
	CU_ASSERT_EQUAL(list[1].drops, 0);
	free(list);

	CU_ASSERT_EQUAL(steer_block_remove(maps, &v4), 0);
	CU_ASSERT_EQUAL(steer_block_remove(maps, &v4), -ENOENT);
	CU_ASSERT_EQUAL(program_run(&syn_v4_blocked), XDP_PASS);
}

static void test_config_and_syn_buckets(void)
{
	struct steer_config cfg, bad;
	struct steer_syn_entry *list;
	char text[STEER_ADDRESS_TEXT_MAX];
	size_t count;

	/* Nothing written yet: the build's defaults. */
	CU_ASSERT_EQUAL_FATAL(steer_config_get(maps, &cfg), 0);
	CU_ASSERT_EQUAL(cfg.magic, 0);
	CU_ASSERT_EQUAL(cfg.syn_burst, STEER_DEFAULT_SYN_BURST);
	CU_ASSERT_EQUAL(cfg.syn_prefix_len_v4, STEER_DEFAULT_SYN_PREFIX_LEN_V4);

	/* Rate 0, burst 2: the third SYN from 192.0.2.0/24 is dropped. */
	CU_ASSERT_EQUAL(steer_syn_limit_set(maps, 0, 2), 0);
	CU_ASSERT_EQUAL_FATAL(steer_config_get(maps, &cfg), 0);
	CU_ASSERT_EQUAL(cfg.magic, STEER_CONFIG_MAGIC);
	CU_ASSERT_EQUAL(cfg.layout_version, STEER_LAYOUT_VERSION);
	CU_ASSERT_EQUAL(cfg.syn_rate_per_sec, 0);
	CU_ASSERT_EQUAL(cfg.syn_burst, 2);
	CU_ASSERT_EQUAL(program_run(&syn_v4), XDP_PASS);
	CU_ASSERT_EQUAL(program_run(&syn_v4), XDP_PASS);
	CU_ASSERT_EQUAL(program_run(&syn_v4), XDP_DROP);
	CU_ASSERT_EQUAL_FATAL(steer_syn_list(maps, &list, &count), 0);
	CU_ASSERT_EQUAL_FATAL(count, 1);
	steer_format_prefix(&list[0].prefix, text, sizeof(text));
	CU_ASSERT_STRING_EQUAL(text, "192.0.2.0/24");
	CU_ASSERT_EQUAL(list[0].drops, 1);
	free(list);

	/* Settings that do not touch the SYN limit keep the buckets... */
	cfg.refuse_action = STEER_REFUSE_DROP;
	CU_ASSERT_EQUAL(steer_config_set(maps, &cfg), 0);
	CU_ASSERT_EQUAL(program_run(&syn_v4), XDP_DROP);
	CU_ASSERT_EQUAL_FATAL(steer_syn_list(maps, &list, &count), 0);
	CU_ASSERT_EQUAL(count, 1);
	free(list);
	/* ...a new limit empties them. */
	CU_ASSERT_EQUAL(steer_syn_limit_set(maps, 0, 3), 0);
	CU_ASSERT_EQUAL_FATAL(steer_syn_list(maps, &list, &count), 0);
	CU_ASSERT_EQUAL(count, 0);
	free(list);
	CU_ASSERT_EQUAL(program_run(&syn_v4), XDP_PASS);

	bad = cfg;
	bad.syn_prefix_len_v4 = 33;
	CU_ASSERT_EQUAL(steer_config_set(maps, &bad), -EINVAL);
	bad = cfg;
	bad.syn_prefix_len_v6 = 129;
	CU_ASSERT_EQUAL(steer_config_set(maps, &bad), -EINVAL);
	bad = cfg;
	bad.block_scope = 2;
	CU_ASSERT_EQUAL(steer_config_set(maps, &bad), -EINVAL);
	bad = cfg;
	bad.refuse_action = 2;
	CU_ASSERT_EQUAL(steer_config_set(maps, &bad), -EINVAL);
	bad = cfg;
	bad.reserved = 1;
	CU_ASSERT_EQUAL(steer_config_set(maps, &bad), -EINVAL);

	/* A config from a build with another layout version: reported, then replaced. */
	{
		int fd = steer_program_map_fd(program, STEER_MAP_CONFIG);
		struct steer_config foreign = cfg;
		__u32 zero = 0;

		foreign.layout_version = STEER_LAYOUT_VERSION + 1;
		CU_ASSERT_EQUAL(bpf_map_update_elem(fd, &zero, &foreign, BPF_ANY), 0);
		CU_ASSERT_EQUAL(steer_config_get(maps, &bad), -EPROTO);
	}
	steer_config_defaults(&cfg);
	CU_ASSERT_EQUAL(steer_config_set(maps, &cfg), 0);
	CU_ASSERT_EQUAL(steer_config_get(maps, &cfg), 0);
	CU_ASSERT_EQUAL(cfg.layout_version, STEER_LAYOUT_VERSION);
}

static void test_counters(void)
{
	struct steer_counter_value totals[STEER_COUNTER_COUNT];

	CU_ASSERT_EQUAL(steer_counters_clear(maps), 0);
	CU_ASSERT_EQUAL(program_run(&syn_v4), XDP_PASS);
	CU_ASSERT_EQUAL(program_run(&syn_v4_blocked), XDP_PASS); /* not blocked any more */
	CU_ASSERT_EQUAL_FATAL(steer_counters_read(maps, totals), 0);
	CU_ASSERT_EQUAL(totals[STEER_REDIRECT_SYN].packets, 2);
	CU_ASSERT_EQUAL(totals[STEER_REDIRECT_SYN].bytes, 2 * 54);
	CU_ASSERT_EQUAL(totals[STEER_VERDICT_NO_SOCKET].packets, 2);
	CU_ASSERT_EQUAL(totals[STEER_VERDICT_PASS].packets, 0);
	CU_ASSERT_EQUAL(steer_counters_clear(maps), 0);
	CU_ASSERT_EQUAL_FATAL(steer_counters_read(maps, totals), 0);
	CU_ASSERT_EQUAL(totals[STEER_REDIRECT_SYN].packets, 0);
	for (int i = 0; i < STEER_COUNTER_COUNT; i++)
		TEST_CHECK(steer_counter_names[i] && steer_counter_help[i], "counter %d has no name or help", i);
}

/* A second load with the same pin directory reuses the maps: the policy outlives the program. */
static void test_reload_keeps_policy(void)
{
	struct steer_load_opts opts = {.pin_dir = pin_dir};
	struct steer_program *second = NULL;
	char err[STEER_ERROR_MAX] = "";
	struct steer_service *list;
	size_t count;

	TEST_CHECK(steer_load(&opts, &second, err, sizeof(err)) == 0, "reload: %s", err);
	steer_program_free(second);
	CU_ASSERT_EQUAL_FATAL(steer_service_list(maps, &list, &count), 0);
	CU_ASSERT_EQUAL(count, 2);
	free(list);
}

/* no_pin: private maps, nothing in bpffs; load-time defaults reach the program's rodata. */
static void test_unpinned_load(void)
{
	struct steer_config defaults;
	struct steer_load_opts opts = {.pin_dir = stale_dir, .no_pin = true, .defaults = &defaults};
	struct steer_program *private_program = NULL, *shared = program;
	struct steer_service_key key = {.family = STEER_FAMILY_IPV4, .proto = IPPROTO_TCP, .port = htons(80)};
	struct steer_service_value value = {.service_id = 1};
	char err[STEER_ERROR_MAX] = "", path[256];
	struct stat st;

	steer_config_defaults(&defaults);
	defaults.syn_rate_per_sec = 0;
	defaults.syn_burst = 1;
	defaults.syn_prefix_len_v4 = 33;
	CU_ASSERT_EQUAL(steer_load(&opts, &private_program, err, sizeof(err)), -EINVAL);
	defaults.syn_prefix_len_v4 = 24;
	TEST_CHECK(steer_load(&opts, &private_program, err, sizeof(err)) == 0, "no_pin load: %s", err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(private_program);
	snprintf(path, sizeof(path), "%s/%s", stale_dir, STEER_MAP_SERVICES);
	CU_ASSERT(stat(path, &st) < 0);

	/* Burst 1 from the load-time defaults: the second SYN of the prefix is dropped. */
	inet_pton(AF_INET, "198.18.0.1", key.addr);
	CU_ASSERT_EQUAL(bpf_map_update_elem(steer_program_map_fd(private_program, STEER_MAP_SERVICES), &key, &value,
					    BPF_ANY), 0);
	program = private_program;
	CU_ASSERT_EQUAL(program_run(&syn_v4), XDP_PASS);
	CU_ASSERT_EQUAL(program_run(&syn_v4), XDP_DROP);
	program = shared;

	steer_program_free(private_program);
	steer_program_free(NULL);
	steer_close(NULL);
}

/* A map pinned by a build with another layout is named, not misread. */
static void test_stale_layout(void)
{
	char err[STEER_ERROR_MAX] = "", path[256];
	struct steer_load_opts opts = {.pin_dir = stale_dir};
	struct steer_program *fresh = NULL;
	struct steer_maps *stale = NULL;
	int fd;

	CU_ASSERT_EQUAL(steer_open(stale_dir, &stale, err, sizeof(err)), -ENOENT);
	TEST_CHECK(strstr(err, "not pinned") != NULL, "missing pins: '%s'", err);

	/* An older services map: same key, a 12-byte value. */
	fd = bpf_map_create(BPF_MAP_TYPE_HASH, "sluice_services", sizeof(struct steer_service_key), 12, 16, NULL);
	CU_ASSERT_FATAL(fd >= 0);
	snprintf(path, sizeof(path), "%s/%s", stale_dir, STEER_MAP_SERVICES);
	CU_ASSERT_EQUAL_FATAL(bpf_obj_pin(fd, path), 0);
	close(fd);

	err[0] = '\0';
	CU_ASSERT_EQUAL(steer_open(stale_dir, &stale, err, sizeof(err)), -EPROTO);
	TEST_CHECK(strstr(err, "sluice_services") && strstr(err, "value 12 B") && strstr(err, "unpin"),
		   "stale open message: '%s'", err);
	err[0] = '\0';
	CU_ASSERT_EQUAL(steer_load(&opts, &fresh, err, sizeof(err)), -EPROTO);
	TEST_CHECK(strstr(err, "sluice_services") != NULL, "stale load message: '%s'", err);

	CU_ASSERT_EQUAL(steer_unpin(stale_dir), 1);
	CU_ASSERT_EQUAL(steer_unpin(stale_dir), 0);
	TEST_CHECK(steer_load(&opts, &fresh, err, sizeof(err)) == 0, "load after unpin: %s", err);
	steer_program_free(fresh);
	CU_ASSERT_EQUAL(steer_unpin(stale_dir), 6);
}

static void test_attach_arguments(void)
{
	CU_ASSERT_EQUAL(steer_attach(program, 0, XDP_FLAGS_SKB_MODE), -EINVAL);
	CU_ASSERT_EQUAL(steer_attach(program, 1, 1u << 20), -EINVAL);
	CU_ASSERT_EQUAL(steer_attach(NULL, 1, XDP_FLAGS_SKB_MODE), -EINVAL);
	CU_ASSERT_EQUAL(steer_detach(0, XDP_FLAGS_SKB_MODE), -EINVAL);
}

/* --- The CLI ------------------------------------------------------------------------------ */

struct cli_case {
	const char *args;      /* after --pin-dir DIR */
	int status;            /* exit status */
	const char *output;    /* substring of stdout+stderr, or NULL */
};

static const struct cli_case cli_cases[] = {
	{"service add 198.18.0.10 8080 --id 3", 0, NULL},
	{"service add fd5c::10 --id 4", 0, NULL},
	{"service list", 0, "198.18.0.10"},
	{"service list", 0, "owned  4"},
	{"service add 198.18.0.10 8080 --id 256", 2, "service add ADDRESS"},
	{"service add 198.18.0.10 0 --id 1", 2, "not a port"},
	{"service add 198.18.0 80 --id 1", 2, "not an IPv4 or IPv6 address"},
	{"service del 198.18.0.10 8080", 0, NULL},
	{"service del 198.18.0.10 8080", 1, "No such file"},
	{"block add 198.51.100.0/24", 0, NULL},
	{"block add 198.51.100.1/24", 2, "no bits set past the length"},
	{"block list", 0, "198.51.100.0/24"},
	{"block del 198.51.100.0/24", 0, NULL},
	{"admission set 3 draining", 0, NULL},
	{"admission get 3", 0, "draining"},
	{"admission set 3 shut", 2, "open, draining or closed"},
	{"admission get 300", 2, "not a service id"},
	{"syn-limit 100 200", 0, NULL},
	{"config show", 0, "syn-burst      200"},
	{"config set refuse drop block-scope services", 0, NULL},
	{"config show", 0, "block-scope    services"},
	{"config set syn-prefix4 33", 2, "bad setting"},
	{"config set refuse rst block-scope all", 0, NULL},
	{"syn list", 0, "source prefix"},
	{"counters", 0, "verdict_no_socket"},
	{"--json counters", 0, "\"redirect_syn\": {\"packets\": "},
	{"counters clear", 0, NULL},
	{"frobnicate", 2, "usage"},
	{"load no-such-interface", 1, "no interface"},
	{NULL, 0, NULL},
};

static void test_cli(void)
{
	const char *cli = getenv("SLUICE_STEER_CLI");

	CU_ASSERT_PTR_NOT_NULL_FATAL(cli);
	for (const struct cli_case *c = cli_cases; c->args; c++) {
		char command[512], output[8192] = "";
		size_t n = 0;
		FILE *p;
		int status;

		snprintf(command, sizeof(command), "%s --pin-dir %s %s 2>&1", cli, pin_dir, c->args);
		p = popen(command, "r");
		CU_ASSERT_PTR_NOT_NULL_FATAL(p);
		while (n + 1 < sizeof(output) && fgets(output + n, (int)(sizeof(output) - n), p))
			n = strlen(output);
		status = pclose(p);
		status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		TEST_CHECK(status == c->status && (!c->output || strstr(output, c->output)),
			   "sluice-steer %s: status %d (expected %d), output '%s'", c->args, status, c->status, output);
	}
	/* The CLI's --json is one JSON object with every counter. */
	{
		char command[512], output[8192] = "";
		size_t n = 0;
		FILE *p;

		snprintf(command, sizeof(command), "%s --pin-dir %s --json counters", cli, pin_dir);
		p = popen(command, "r");
		CU_ASSERT_PTR_NOT_NULL_FATAL(p);
		while (n + 1 < sizeof(output) && fgets(output + n, (int)(sizeof(output) - n), p))
			n = strlen(output);
		pclose(p);
		for (int i = 0; i < STEER_COUNTER_COUNT; i++) {
			char key[64];

			snprintf(key, sizeof(key), "\"%s\": {\"packets\": 0, \"bytes\": 0}", steer_counter_names[i]);
			TEST_CHECK(strstr(output, key) != NULL, "--json lacks %s", key);
		}
		CU_ASSERT(output[0] == '{' && strstr(output, "}}\n") != NULL);
	}
}

/* --- Set-up ------------------------------------------------------------------------------- */

static void cleanup(void)
{
	steer_close(maps);
	maps = NULL;
	steer_program_free(program);
	program = NULL;
	steer_unpin(pin_dir);
	steer_unpin(stale_dir);
	rmdir(pin_dir);
	rmdir(stale_dir);
}

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level, (void)fmt, (void)ap;
	return 0; /* the stale-layout test makes libbpf complain on purpose */
}

static int setup(void)
{
	struct steer_load_opts opts = {0};
	char err[STEER_ERROR_MAX] = "";

	libbpf_set_print(libbpf_quiet);
	snprintf(pin_dir, sizeof(pin_dir), "%s/sluice-test-%d", STEER_PIN_ROOT_DEFAULT, (int)getpid());
	snprintf(stale_dir, sizeof(stale_dir), "%s/sluice-test-%d-stale", STEER_PIN_ROOT_DEFAULT, (int)getpid());
	if ((mkdir(pin_dir, 0700) < 0 && errno != EEXIST) || (mkdir(stale_dir, 0700) < 0 && errno != EEXIST)) {
		fprintf(stderr, "test_steer_control: cannot create %s (is bpffs mounted?)\n", pin_dir);
		return -1;
	}
	atexit(cleanup);
	opts.pin_dir = pin_dir;
	if (steer_load(&opts, &program, err, sizeof(err)) < 0) {
		fprintf(stderr, "test_steer_control: %s\n", err);
		return -1;
	}
	if (steer_open(pin_dir, &maps, err, sizeof(err)) < 0) {
		fprintf(stderr, "test_steer_control: %s\n", err);
		return -1;
	}
	return 0;
}

void test_register(void)
{
	static const struct test_case parsing[] = {
		{"prefix table", test_prefix_table},
		{"addresses", test_address_parse},
		{"admission names", test_admission_names},
		{NULL, NULL},
	};
	static const struct test_case pinned[] = {
		{"pins created, xsks_map not pinned", test_pins_created},
		{"services", test_services},
		{"admission", test_admission_through_pins},
		{"blocklist", test_blocklist},
		{"settings and SYN buckets", test_config_and_syn_buckets},
		{"counters", test_counters},
		{"reload keeps the policy", test_reload_keeps_policy},
		{"private maps with no_pin", test_unpinned_load},
		{"stale layout detected", test_stale_layout},
		{"attach arguments", test_attach_arguments},
		{"sluice-steer CLI", test_cli},
		{NULL, NULL},
	};

	test_add_suite("steer control: parsing", parsing);
	if (geteuid() != 0) {
		fprintf(stderr, "test_steer_control: needs root (bpffs, BPF maps); skipped\n");
		exit(77);
	}
	if (setup() < 0)
		exit(1);
	test_add_suite("steer control: pinned maps", pinned);
}
