/* SPDX-License-Identifier: BSD-3-Clause
 *
 * test_steer.c: the XDP steering program (bpf/steer.bpf.c) run through bpf_prog_test_run_opts.
 *
 * The skeleton is loaded once with its maps unpinned (private to this process: a running
 * system's pins in /sys/fs/bpf are neither read nor disturbed). Each row of the table clears
 * every map, installs the fixtures it names, optionally sends some frames first, then runs its
 * frame `runs` times and checks: the XDP action of the last run, that exactly one reason and
 * one verdict counter moved per run (the named ones), and the output frame: byte-for-byte
 * equal to the expected RST for XDP_TX rows, unchanged for all others.
 *
 * Test runs perform no redirects, and xsks_map is empty here: a frame the program sends to the
 * data plane comes back as XDP_PASS (bpf_redirect_map's fallback action) with the verdict
 * counter verdict_no_socket, which is how the rows tell "for the data plane" from "for the
 * kernel". The kernel refuses test frames shorter than an Ethernet header (EINVAL), so the
 * trunc_eth path is proven by the verifier only; a test checks that refusal.
 *
 * Time: rate-limit rows use rate 0 (a bucket that never refills), rate 1e9 (refills within a
 * nanosecond), or a bucket written with a theoretical arrival time seconds away from now, so
 * no row depends on how fast the test runs.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "steer.skel.h"
#include "steer_frames.h"
#include "compiler.h"
#include "steer_maps.h"
#include "test_main.h"

/* Rows override fields of the frame macros below; later initialisers win on purpose. */
#pragma GCC diagnostic ignored "-Woverride-init"
/* Rows name only the columns they need; the rest are zero. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#define CLIENT4 "192.0.2.10"
#define CLIENT4_SAME24 "192.0.2.99"
#define CLIENT4_OTHER24 "192.0.3.10"
#define ROUTER4 "192.0.2.1"
#define SERVICE4 "198.18.0.1"   /* service ports 80, 443 (id 1); the kernel holds the address */
#define OWNED4 "198.18.0.2"     /* owned by the data plane (id 2) */
#define KERNEL4 "198.18.0.99"
#define BLOCKED4 "203.0.113.9"  /* in 203.0.113.0/24 and 203.0.0.0/16 */
#define BLOCKED4_16 "203.0.5.5" /* in 203.0.0.0/16 only */
#define CLIENT6 "2001:db8:1::10"
#define CLIENT6_SAME64 "2001:db8:1::99"
#define CLIENT6_OTHER64 "2001:db8:2::10"
#define ROUTER6 "fe80::1"
#define SERVICE6 "fd5c::1"
#define OWNED6 "fd5c::2"
#define KERNEL6 "fd5c::99"
#define SOLICITED_OWNED6 "ff02::1:ff00:2"
#define BLOCKED6 "2001:db8:bad:2::5"    /* in 2001:db8:bad::/48 */
#define BLOCKED6_64 "2001:db8:bad:1::5" /* in 2001:db8:bad::/48 and 2001:db8:bad:1::/64 */
#define UNBLOCKED6 "2001:db8:bae::5"

#define CPORT 40000
#define SEQ 1000

/* Frames. */
#define TCP4(dst_, dport_, flags_, ...) \
	{.l3 = FRAME_IPV4, .src = CLIENT4, .dst = dst_, .proto = IPPROTO_TCP, .df = true, .sport = CPORT, \
	 .dport = dport_, .tcp_flags = flags_, .seq = SEQ, .window = 64240, __VA_ARGS__}
#define TCP6(dst_, dport_, flags_, ...) \
	{.l3 = FRAME_IPV6, .src = CLIENT6, .dst = dst_, .proto = IPPROTO_TCP, .sport = CPORT, .dport = dport_, \
	 .tcp_flags = flags_, .seq = SEQ, .window = 64240, __VA_ARGS__}
#define UDP4(dst_, dport_, ...) \
	{.l3 = FRAME_IPV4, .src = CLIENT4, .dst = dst_, .proto = IPPROTO_UDP, .sport = CPORT, .dport = dport_, \
	 .payload_len = 20, __VA_ARGS__}
#define ICMP4(dst_, type_, code_, ...) \
	{.l3 = FRAME_IPV4, .src = CLIENT4, .dst = dst_, .proto = IPPROTO_ICMP, .icmp_type = type_, \
	 .icmp_code = code_, .payload_len = 16, __VA_ARGS__}
#define ICMP6(dst_, type_, code_, ...) \
	{.l3 = FRAME_IPV6, .src = CLIENT6, .dst = dst_, .proto = IPPROTO_ICMPV6, .icmp_type = type_, \
	 .icmp_code = code_, .payload_len = 16, __VA_ARGS__}
#define ARP(target_, ...) {.l3 = FRAME_ARP, .src = CLIENT4, .dst = target_, .arp_oper = 1, __VA_ARGS__}
/* The RST+ACK the program must build for a refused SYN (client port CPORT, sequence SEQ). */
#define RST4(from_, sport_, ack_, ...) \
	(&(struct frame_spec){.l3 = FRAME_IPV4, .reply = true, .src = from_, .dst = CLIENT4, .proto = IPPROTO_TCP, \
			      .df = true, .sport = sport_, .dport = CPORT, .tcp_flags = TCPF_RST | TCPF_ACK, \
			      .ack = ack_, __VA_ARGS__})
#define RST6(from_, sport_, ack_, ...) \
	(&(struct frame_spec){.l3 = FRAME_IPV6, .reply = true, .src = from_, .dst = CLIENT6, .proto = IPPROTO_TCP, \
			      .sport = sport_, .dport = CPORT, .tcp_flags = TCPF_RST | TCPF_ACK, .ack = ack_, \
			      __VA_ARGS__})

/* Fixtures a row can ask for (bits). */
enum {
	FIX_SERVICES = 1 << 0,      /* SERVICE4 tcp/80, tcp/443 and SERVICE6 tcp/80: service 1 */
	FIX_OWNED = 1 << 1,         /* OWNED4, OWNED6 owned: service 2 */
	FIX_BLOCK = 1 << 2,         /* 203.0.113.0/24, 203.0.0.0/16, 2001:db8:bad::/48, 2001:db8:bad:1::/64 */
	FIX_DRAINING = 1 << 3,      /* services 1 and 2 draining */
	FIX_CLOSED = 1 << 4,        /* services 1 and 2 closed */
	FIX_REFUSE_DROP = 1 << 5,   /* config: refuse by dropping */
	FIX_SCOPE_SERVICES = 1 << 6, /* config: blocklist only for data plane traffic */
	FIX_SYN_BURST3 = 1 << 7,    /* config: rate 0 (never refills), burst 3, /24 and /64 */
	FIX_SYN_REFILL = 1 << 8,    /* config: rate 1e9/s (refills in 1 ns), burst 1 */
	FIX_SYN_OFF = 1 << 9,       /* config: burst 0 */
	FIX_SYN_SLOW = 1 << 10,     /* config: rate 1/s, burst 1 */
};
#define FIX_CONFIG (FIX_REFUSE_DROP | FIX_SCOPE_SERVICES | FIX_SYN_BURST3 | FIX_SYN_REFILL | FIX_SYN_OFF | FIX_SYN_SLOW)

struct steer_case;
typedef void (*steer_case_fn)(const struct steer_case *c);

struct steer_count {
	int counter; /* enum steer_counter; 0 entries end the list when packets is 0 too */
	uint64_t packets;
};

struct steer_case {
	const char *description;
	struct frame_spec in;
	unsigned fixtures;
	int action;                     /* XDP action of the last run */
	int reason;                     /* reason counter of the last run */
	const struct frame_spec *out;   /* expected frame for XDP_TX */
	int runs;                       /* 0 = 1 */
	const struct frame_spec *before; /* sent before_runs times first (counters cleared after) */
	int before_runs;
	struct steer_count counts[3];   /* for multi-run rows: exact totals of these counters */
	steer_case_fn setup;            /* extra setup after the fixtures */
	steer_case_fn check;            /* extra checks after the runs */
};

static struct steer_bpf *skel;
static int possible_cpus;

/* --- Map helpers --------------------------------------------------------------------------- */

static void map_clear(struct bpf_map *map)
{
	uint8_t key[64];
	int fd = bpf_map__fd(map);

	while (bpf_map_get_next_key(fd, NULL, key) == 0)
		if (bpf_map_delete_elem(fd, key) < 0)
			break;
}

static void maps_reset(void)
{
	struct steer_counter_value *zeros = calloc((size_t)possible_cpus, sizeof(*zeros));
	struct steer_config cfg = {0};
	__u32 zero = 0, state = STEER_ADMIT_OPEN;

	map_clear(skel->maps.sluice_services);
	map_clear(skel->maps.sluice_block);
	map_clear(skel->maps.sluice_syn_rate);
	for (__u32 i = 0; i < STEER_SERVICE_ID_MAX; i++)
		bpf_map_update_elem(bpf_map__fd(skel->maps.sluice_admit), &i, &state, BPF_ANY);
	bpf_map_update_elem(bpf_map__fd(skel->maps.sluice_config), &zero, &cfg, BPF_ANY);
	for (__u32 i = 0; i < STEER_COUNTER_COUNT; i++)
		bpf_map_update_elem(bpf_map__fd(skel->maps.sluice_counters), &i, zeros, BPF_ANY);
	free(zeros);
}

static void service_put(int family, const char *addr, uint16_t port, uint32_t id)
{
	struct steer_service_key key = {.family = (uint8_t)family, .proto = port ? IPPROTO_TCP : 0, .port = htons(port)};
	struct steer_service_value value = {.service_id = id};

	inet_pton(family == 4 ? AF_INET : AF_INET6, addr, key.addr);
	CU_ASSERT_EQUAL(bpf_map_update_elem(bpf_map__fd(skel->maps.sluice_services), &key, &value, BPF_ANY), 0);
}

static void block_key(struct steer_block_key *key, int family, const char *addr, unsigned len)
{
	memset(key, 0, sizeof(*key));
	key->prefixlen = STEER_BLOCK_PREFIXLEN(len);
	key->family = (uint8_t)family;
	inet_pton(family == 4 ? AF_INET : AF_INET6, addr, key->addr);
}

static void block_put(int family, const char *addr, unsigned len)
{
	struct steer_block_key key;
	struct steer_block_value value = {0};

	block_key(&key, family, addr, len);
	CU_ASSERT_EQUAL(bpf_map_update_elem(bpf_map__fd(skel->maps.sluice_block), &key, &value, BPF_ANY), 0);
}

static uint64_t block_drops(int family, const char *addr, unsigned len)
{
	struct steer_block_key key;
	struct steer_block_value value = {0};

	block_key(&key, family, addr, len);
	if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.sluice_block), &key, &value) < 0)
		return UINT64_MAX;
	return value.drops;
}

static void admission_put(uint32_t id, uint32_t state)
{
	CU_ASSERT_EQUAL(bpf_map_update_elem(bpf_map__fd(skel->maps.sluice_admit), &id, &state, BPF_ANY), 0);
}

static void counters_read(struct steer_counter_value totals[STEER_COUNTER_COUNT])
{
	struct steer_counter_value *per_cpu = calloc((size_t)possible_cpus, sizeof(*per_cpu));

	for (__u32 i = 0; i < STEER_COUNTER_COUNT; i++) {
		totals[i].packets = totals[i].bytes = 0;
		if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.sluice_counters), &i, per_cpu) < 0)
			continue;
		for (int cpu = 0; cpu < possible_cpus; cpu++) {
			totals[i].packets += per_cpu[cpu].packets;
			totals[i].bytes += per_cpu[cpu].bytes;
		}
	}
	free(per_cpu);
}

static void counters_clear(void)
{
	struct steer_counter_value *zeros = calloc((size_t)possible_cpus, sizeof(*zeros));

	for (__u32 i = 0; i < STEER_COUNTER_COUNT; i++)
		bpf_map_update_elem(bpf_map__fd(skel->maps.sluice_counters), &i, zeros, BPF_ANY);
	free(zeros);
}

static void fixtures_apply(unsigned fixtures)
{
	if (fixtures & FIX_SERVICES) {
		service_put(4, SERVICE4, 80, 1);
		service_put(4, SERVICE4, 443, 1);
		service_put(6, SERVICE6, 80, 1);
	}
	if (fixtures & FIX_OWNED) {
		service_put(4, OWNED4, 0, 2);
		service_put(6, OWNED6, 0, 2);
	}
	if (fixtures & FIX_BLOCK) {
		block_put(4, "203.0.113.0", 24);
		block_put(4, "203.0.0.0", 16);
		block_put(6, "2001:db8:bad::", 48);
		block_put(6, "2001:db8:bad:1::", 64);
	}
	if (fixtures & (FIX_DRAINING | FIX_CLOSED)) {
		uint32_t state = fixtures & FIX_CLOSED ? STEER_ADMIT_CLOSED : STEER_ADMIT_DRAINING;

		admission_put(1, state);
		admission_put(2, state);
	}
	if (fixtures & FIX_CONFIG) {
		struct steer_config cfg = {
			.magic = STEER_CONFIG_MAGIC,
			.layout_version = STEER_LAYOUT_VERSION,
			.syn_rate_per_sec = STEER_DEFAULT_SYN_RATE_PER_SEC,
			.syn_burst = STEER_DEFAULT_SYN_BURST,
			.syn_prefix_len_v4 = 24,
			.syn_prefix_len_v6 = 64,
		};
		__u32 zero = 0;

		if (fixtures & FIX_REFUSE_DROP)
			cfg.refuse_action = STEER_REFUSE_DROP;
		if (fixtures & FIX_SCOPE_SERVICES)
			cfg.block_scope = STEER_BLOCK_SERVICES;
		if (fixtures & FIX_SYN_BURST3) {
			cfg.syn_rate_per_sec = 0;
			cfg.syn_burst = 3;
		}
		if (fixtures & FIX_SYN_REFILL) {
			cfg.syn_rate_per_sec = 1000000000;
			cfg.syn_burst = 1;
		}
		if (fixtures & FIX_SYN_OFF)
			cfg.syn_burst = 0;
		if (fixtures & FIX_SYN_SLOW) {
			cfg.syn_rate_per_sec = 1;
			cfg.syn_burst = 1;
		}
		CU_ASSERT_EQUAL(bpf_map_update_elem(bpf_map__fd(skel->maps.sluice_config), &zero, &cfg, BPF_ANY), 0);
	}
}

/* --- Running frames ----------------------------------------------------------------------- */

struct run_result {
	int rc;
	uint32_t action;
	uint8_t out[FRAME_MAX];
	size_t out_len;
};

static void frame_run(const uint8_t *frame, size_t len, struct run_result *r)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = (__u32)len, .data_out = r->out,
		    .data_size_out = sizeof(r->out), .repeat = 1);

	r->rc = bpf_prog_test_run_opts(bpf_program__fd(skel->progs.steer_xdp), &opts);
	r->action = opts.retval;
	r->out_len = opts.data_size_out;
}

static void spec_run(const struct frame_spec *spec, struct run_result *r)
{
	uint8_t frame[FRAME_MAX];

	frame_run(frame, frame_build(spec, frame), r);
}

static bool reason_is_redirect(int reason)
{
	return reason >= STEER_REDIRECT_ARP && reason <= STEER_REDIRECT_SERVICE;
}

static int expected_verdict(int action, int reason)
{
	if (action == XDP_DROP)
		return STEER_VERDICT_DROP;
	if (action == XDP_TX)
		return STEER_VERDICT_TX;
	return reason_is_redirect(reason) ? STEER_VERDICT_NO_SOCKET : STEER_VERDICT_PASS;
}

static const char *action_name(uint32_t action)
{
	static const char *const names[] = {"XDP_ABORTED", "XDP_DROP", "XDP_PASS", "XDP_TX", "XDP_REDIRECT"};

	return action < ARRAY_SIZE(names) ? names[action] : "?";
}

static void case_run(const struct steer_case *c)
{
	struct steer_counter_value totals[STEER_COUNTER_COUNT];
	uint8_t frame[FRAME_MAX], expected[FRAME_MAX];
	size_t len, expected_len;
	int runs = c->runs ? c->runs : 1, verdict = expected_verdict(c->action, c->reason);
	uint64_t reasons = 0, verdicts = 0;
	struct run_result r;
	char diff[160];

	maps_reset();
	fixtures_apply(c->fixtures);
	if (c->setup)
		c->setup(c);
	for (int i = 0; i < c->before_runs; i++)
		spec_run(c->before, &r);
	counters_clear();

	len = frame_build(&c->in, frame);
	for (int i = 0; i < runs; i++) {
		frame_run(frame, len, &r);
		if (r.rc != 0)
			break;
	}
	TEST_CHECK(r.rc == 0, "%s: test run failed: %s", c->description, strerror(-r.rc));
	if (r.rc != 0)
		return;
	TEST_CHECK(r.action == (uint32_t)c->action, "%s: action %s, expected %s", c->description,
		   action_name(r.action), action_name((uint32_t)c->action));

	counters_read(totals);
	for (int i = 0; i < STEER_COUNTER_COUNT; i++)
		*(i < STEER_REASON_COUNT ? &reasons : &verdicts) += totals[i].packets;
	TEST_CHECK(reasons == (uint64_t)runs && verdicts == (uint64_t)runs,
		   "%s: %d run(s) moved %llu reason and %llu verdict counters", c->description, runs,
		   (unsigned long long)reasons, (unsigned long long)verdicts);
	if (!c->counts[0].counter && !c->counts[0].packets) {
		TEST_CHECK(totals[c->reason].packets == (uint64_t)runs, "%s: reason %s counted %llu, expected %d",
			   c->description, steer_counter_names[c->reason],
			   (unsigned long long)totals[c->reason].packets, runs);
		TEST_CHECK(totals[verdict].packets == (uint64_t)runs, "%s: verdict %s counted %llu, expected %d",
			   c->description, steer_counter_names[verdict], (unsigned long long)totals[verdict].packets, runs);
		TEST_CHECK(totals[c->reason].bytes == (uint64_t)runs * len, "%s: %s bytes %llu, expected %zu",
			   c->description, steer_counter_names[c->reason], (unsigned long long)totals[c->reason].bytes,
			   runs * len);
		if (runs == 1)
			for (int i = 0; i < STEER_COUNTER_COUNT; i++)
				if (i != c->reason && i != verdict)
					TEST_CHECK(totals[i].packets == 0, "%s: %s also counted", c->description,
						   steer_counter_names[i]);
	}
	for (int i = 0; i < 3 && (c->counts[i].counter || c->counts[i].packets); i++)
		TEST_CHECK(totals[c->counts[i].counter].packets == c->counts[i].packets, "%s: %s counted %llu, expected %llu",
			   c->description, steer_counter_names[c->counts[i].counter],
			   (unsigned long long)totals[c->counts[i].counter].packets,
			   (unsigned long long)c->counts[i].packets);

	if (c->out) {
		expected_len = frame_build(c->out, expected);
		frame_diff(r.out, r.out_len, expected, expected_len, diff, sizeof(diff));
		TEST_CHECK(r.out_len == expected_len && memcmp(r.out, expected, expected_len) == 0,
			   "%s: output frame differs from the expected RST: %s", c->description, diff);
	} else {
		frame_diff(r.out, r.out_len, frame, len, diff, sizeof(diff));
		TEST_CHECK(r.out_len == len && memcmp(r.out, frame, len) == 0, "%s: frame modified: %s",
			   c->description, diff);
	}
	if (c->check)
		c->check(c);
}

/* --- Custom setups and checks -------------------------------------------------------------- */

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void syn_bucket_put(const char *prefix, uint8_t len, uint64_t tat)
{
	struct steer_syn_key key = {.family = STEER_FAMILY_IPV4, .prefix_len = len};
	struct steer_syn_bucket bucket = {.tat = tat};

	inet_pton(AF_INET, prefix, key.addr);
	CU_ASSERT_EQUAL(bpf_map_update_elem(bpf_map__fd(skel->maps.sluice_syn_rate), &key, &bucket, BPF_ANY), 0);
}

static uint64_t syn_bucket_drops(int family, const char *prefix, uint8_t len)
{
	struct steer_syn_key key = {.family = (uint8_t)family, .prefix_len = len};
	struct steer_syn_bucket bucket;

	inet_pton(family == 4 ? AF_INET : AF_INET6, prefix, key.addr);
	if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.sluice_syn_rate), &key, &bucket) < 0)
		return UINT64_MAX;
	return bucket.drops;
}

/* Rate 1/s, burst 1: a bucket that was emptied just now needs a second to let a SYN in... */
static void setup_bucket_exhausted(const struct steer_case *c)
{
	(void)c;
	syn_bucket_put("192.0.2.0", 24, monotonic_ns() + 10 * 1000000000ull);
}

/* ...and one that was last used ten seconds ago is full again. */
static void setup_bucket_refilled(const struct steer_case *c)
{
	(void)c;
	syn_bucket_put("192.0.2.0", 24, monotonic_ns() - 10 * 1000000000ull);
}

static void setup_close_service1(const struct steer_case *c)
{
	(void)c;
	admission_put(1, STEER_ADMIT_CLOSED);
}

static void setup_admission_garbage(const struct steer_case *c)
{
	(void)c;
	admission_put(1, 77);
}

/* Burst 1 with a foreign layout version: the program must keep its defaults (burst 2000). */
static void setup_config_other_layout(const struct steer_case *c)
{
	struct steer_config cfg = {.magic = STEER_CONFIG_MAGIC, .layout_version = STEER_LAYOUT_VERSION + 1,
				   .syn_burst = 1, .syn_prefix_len_v4 = 24, .syn_prefix_len_v6 = 64};
	__u32 zero = 0;

	(void)c;
	CU_ASSERT_EQUAL(bpf_map_update_elem(bpf_map__fd(skel->maps.sluice_config), &zero, &cfg, BPF_ANY), 0);
}

static void check_longest_prefix_v4(const struct steer_case *c)
{
	TEST_CHECK(block_drops(4, "203.0.113.0", 24) == 1 && block_drops(4, "203.0.0.0", 16) == 0,
		   "%s: the /24 entry must count the drop, not the /16", c->description);
}

static void check_shorter_prefix_v4(const struct steer_case *c)
{
	TEST_CHECK(block_drops(4, "203.0.0.0", 16) == 1 && block_drops(4, "203.0.113.0", 24) == 0,
		   "%s: the /16 entry must count the drop", c->description);
}

static void check_longest_prefix_v6(const struct steer_case *c)
{
	TEST_CHECK(block_drops(6, "2001:db8:bad:1::", 64) == 1 && block_drops(6, "2001:db8:bad::", 48) == 0,
		   "%s: the /64 entry must count the drop, not the /48", c->description);
}

static void check_bucket_v4_24(const struct steer_case *c)
{
	TEST_CHECK(syn_bucket_drops(4, "192.0.2.0", 24) == 1, "%s: the 192.0.2.0/24 bucket must count 1 drop",
		   c->description);
}

static void check_bucket_v6_64(const struct steer_case *c)
{
	TEST_CHECK(syn_bucket_drops(6, "2001:db8:1::", 64) == 1, "%s: the 2001:db8:1::/64 bucket must count 1 drop",
		   c->description);
}

/* Without a written config the load-time defaults apply: /24 buckets, limit on. */
static void check_default_bucket(const struct steer_case *c)
{
	TEST_CHECK(syn_bucket_drops(4, "192.0.2.0", STEER_DEFAULT_SYN_PREFIX_LEN_V4) == 0,
		   "%s: a bucket for 192.0.2.0/%d must exist", c->description, STEER_DEFAULT_SYN_PREFIX_LEN_V4);
}

/* --- The table ------------------------------------------------------------------------------ */

static const struct frame_spec syn4_client = TCP4(SERVICE4, 80, TCPF_SYN);
static const struct frame_spec syn6_client = TCP6(SERVICE6, 80, TCPF_SYN);

static const struct steer_case steer_cases[] = {
	/* Not IP, ARP, NDP: the kernel's unless the data plane owns the target. */
	{"LLDP frame is not IP", {.l3 = FRAME_OTHER, .ethertype = 0x88cc}, FIX_SERVICES | FIX_OWNED, XDP_PASS,
	 STEER_PASS_NON_IP},
	{"ARP request for a kernel address", ARP(KERNEL4), FIX_SERVICES | FIX_OWNED, XDP_PASS, STEER_PASS_ARP},
	{"ARP request for a service-port address the kernel holds", ARP(SERVICE4), FIX_SERVICES | FIX_OWNED,
	 XDP_PASS, STEER_PASS_ARP},
	{"ARP request for an owned address", ARP(OWNED4), FIX_OWNED, XDP_PASS, STEER_REDIRECT_ARP},
	{"ARP reply to the data plane", ARP(OWNED4, .arp_oper = 2), FIX_OWNED, XDP_PASS, STEER_REDIRECT_ARP},
	{"ARP for an owned address over 802.1Q", ARP(OWNED4, .vlans = 1), FIX_OWNED, XDP_PASS, STEER_REDIRECT_ARP},
	{"ARP that is not Ethernet/IPv4", ARP(OWNED4, .patch = {PATCH(1, 6)}), FIX_OWNED, XDP_PASS, STEER_PASS_ARP},
	{"ARP cut short", ARP(OWNED4, .cut = 14 + 20), FIX_OWNED, XDP_PASS, STEER_TRUNC_ARP},
	{"NDP solicitation for an owned address", ICMP6(SOLICITED_OWNED6, 135, 0, .target = OWNED6, .ttl = 255),
	 FIX_OWNED, XDP_PASS, STEER_REDIRECT_NDP},
	{"NDP solicitation for a kernel address", ICMP6("ff02::1:ff00:99", 135, 0, .target = KERNEL6, .ttl = 255),
	 FIX_OWNED, XDP_PASS, STEER_PASS_ICMP},
	{"NDP advertisement to the kernel", ICMP6(KERNEL6, 136, 0, .target = CLIENT6, .ttl = 255), FIX_OWNED,
	 XDP_PASS, STEER_PASS_ICMP},
	{"NDP advertisement to an owned address", ICMP6(OWNED6, 136, 0, .target = CLIENT6, .ttl = 255), FIX_OWNED,
	 XDP_PASS, STEER_REDIRECT_OWNED},
	{"router advertisement", ICMP6("ff02::1", 134, 0, .src = ROUTER6, .ttl = 255), FIX_OWNED, XDP_PASS,
	 STEER_PASS_ICMP},
	{"NDP solicitation cut before its target", ICMP6(SOLICITED_OWNED6, 135, 0, .target = OWNED6, .ip_payload_cut = 12),
	 FIX_OWNED, XDP_PASS, STEER_TRUNC_ICMP},

	/* The kernel's traffic. */
	{"TCP to the kernel's port on a service address", TCP4(SERVICE4, 22, TCPF_SYN), FIX_SERVICES | FIX_OWNED,
	 XDP_PASS, STEER_PASS_NOT_SERVICE},
	{"TCP to another address", TCP4(KERNEL4, 80, TCPF_SYN), FIX_SERVICES | FIX_OWNED, XDP_PASS,
	 STEER_PASS_NOT_SERVICE},
	{"IPv6 TCP to the kernel's port", TCP6(SERVICE6, 22, TCPF_ACK), FIX_SERVICES, XDP_PASS, STEER_PASS_NOT_SERVICE},
	{"UDP to a service address", UDP4(SERVICE4, 80), FIX_SERVICES, XDP_PASS, STEER_PASS_NOT_SERVICE},
	{"no services at all", TCP4(SERVICE4, 80, TCPF_SYN), 0, XDP_PASS, STEER_PASS_NOT_SERVICE},
	{"ICMP echo to a kernel address", ICMP4(KERNEL4, 8, 0), FIX_SERVICES | FIX_OWNED, XDP_PASS, STEER_PASS_ICMP},
	{"ICMP echo to a service-port address", ICMP4(SERVICE4, 8, 0), FIX_SERVICES, XDP_PASS, STEER_PASS_ICMP},
	{"ICMPv6 echo to a kernel address", ICMP6(KERNEL6, 128, 0), FIX_SERVICES | FIX_OWNED, XDP_PASS,
	 STEER_PASS_ICMP},

	/* The data plane's traffic. */
	{"IPv4 SYN to a service", TCP4(SERVICE4, 80, TCPF_SYN), FIX_SERVICES, XDP_PASS, STEER_REDIRECT_SYN},
	{"IPv4 SYN to the second service port", TCP4(SERVICE4, 443, TCPF_SYN), FIX_SERVICES, XDP_PASS,
	 STEER_REDIRECT_SYN},
	{"IPv4 ACK to a service", TCP4(SERVICE4, 80, TCPF_ACK), FIX_SERVICES, XDP_PASS, STEER_REDIRECT_SERVICE},
	{"IPv4 data to a service", TCP4(SERVICE4, 80, TCPF_ACK | TCPF_PSH, .payload_len = 300), FIX_SERVICES,
	 XDP_PASS, STEER_REDIRECT_SERVICE},
	{"IPv4 FIN to a service", TCP4(SERVICE4, 80, TCPF_ACK | TCPF_FIN), FIX_SERVICES, XDP_PASS,
	 STEER_REDIRECT_SERVICE},
	{"IPv6 SYN to a service", TCP6(SERVICE6, 80, TCPF_SYN), FIX_SERVICES, XDP_PASS, STEER_REDIRECT_SYN},
	{"IPv6 data to a service", TCP6(SERVICE6, 80, TCPF_ACK | TCPF_PSH, .payload_len = 1000), FIX_SERVICES,
	 XDP_PASS, STEER_REDIRECT_SERVICE},
	{"SYN with TCP options", TCP4(SERVICE4, 80, TCPF_SYN, .tcp_opt_len = 20), FIX_SERVICES, XDP_PASS,
	 STEER_REDIRECT_SYN},
	{"SYN with IPv4 options", TCP4(SERVICE4, 80, TCPF_SYN, .ip_opt_len = 8), FIX_SERVICES, XDP_PASS,
	 STEER_REDIRECT_SYN},
	{"SYN with the longest IPv4 options", TCP4(SERVICE4, 80, TCPF_SYN, .ip_opt_len = 40, .tcp_opt_len = 40),
	 FIX_SERVICES, XDP_PASS, STEER_REDIRECT_SYN},
	{"SYN over 802.1Q", TCP4(SERVICE4, 80, TCPF_SYN, .vlans = 1), FIX_SERVICES, XDP_PASS, STEER_REDIRECT_SYN},
	{"IPv6 ACK over 802.1ad + 802.1Q", TCP6(SERVICE6, 80, TCPF_ACK, .vlans = 2), FIX_SERVICES, XDP_PASS,
	 STEER_REDIRECT_SERVICE},
	{"three VLAN tags are not ours", TCP4(SERVICE4, 80, TCPF_SYN, .vlans = 3), FIX_SERVICES, XDP_PASS,
	 STEER_PASS_NON_IP},
	{"Ethernet padding after the IP packet", TCP4(SERVICE4, 80, TCPF_ACK, .cut = 64), FIX_SERVICES, XDP_PASS,
	 STEER_REDIRECT_SERVICE},
	{"TCP to an owned address, any port", TCP4(OWNED4, 8080, TCPF_ACK), FIX_OWNED, XDP_PASS,
	 STEER_REDIRECT_SERVICE},
	{"SYN to an owned address", TCP6(OWNED6, 22, TCPF_SYN), FIX_OWNED, XDP_PASS, STEER_REDIRECT_SYN},
	{"UDP to an owned address", UDP4(OWNED4, 53), FIX_OWNED, XDP_PASS, STEER_REDIRECT_OWNED},
	{"ICMP echo to an owned address", ICMP4(OWNED4, 8, 0), FIX_OWNED, XDP_PASS, STEER_REDIRECT_OWNED},
	{"ICMPv6 echo to an owned address", ICMP6(OWNED6, 128, 0), FIX_OWNED, XDP_PASS, STEER_REDIRECT_OWNED},
	{"fragmentation needed about a service connection",
	 ICMP4(SERVICE4, 3, 4, .src = ROUTER4, .quote = {SERVICE4, CLIENT4, 80, CPORT}), FIX_SERVICES, XDP_PASS,
	 STEER_REDIRECT_ICMP_ERROR},
	{"fragmentation needed about the kernel's SSH", ICMP4(SERVICE4, 3, 4, .src = ROUTER4, .quote = {SERVICE4, CLIENT4, 22, CPORT}),
	 FIX_SERVICES, XDP_PASS, STEER_PASS_ICMP},
	{"time exceeded about a service connection",
	 ICMP4(SERVICE4, 11, 0, .src = ROUTER4, .quote = {SERVICE4, CLIENT4, 443, CPORT}), FIX_SERVICES, XDP_PASS,
	 STEER_REDIRECT_ICMP_ERROR},
	{"ICMP error quoting UDP", ICMP4(SERVICE4, 3, 3, .src = ROUTER4, .quote = {SERVICE4, CLIENT4, 80, CPORT}, .patch = {PATCH(20 + 8 + 9, IPPROTO_UDP)}),
	 FIX_SERVICES, XDP_PASS, STEER_PASS_ICMP},
	{"ICMP error quote cut short", ICMP4(SERVICE4, 3, 4, .src = ROUTER4, .quote = {SERVICE4, CLIENT4, 80, CPORT, 22}),
	 FIX_SERVICES, XDP_PASS, STEER_TRUNC_ICMP},
	{"packet too big about a service connection",
	 ICMP6(SERVICE6, 2, 0, .src = ROUTER6, .quote = {SERVICE6, CLIENT6, 80, CPORT}), FIX_SERVICES, XDP_PASS,
	 STEER_REDIRECT_ICMP_ERROR},
	{"packet too big about the kernel's SSH", ICMP6(SERVICE6, 2, 0, .src = ROUTER6, .quote = {SERVICE6, CLIENT6, 22, CPORT}),
	 FIX_SERVICES, XDP_PASS, STEER_PASS_ICMP},
	{"packet too big quote cut short", ICMP6(SERVICE6, 2, 0, .src = ROUTER6, .quote = {SERVICE6, CLIENT6, 80, CPORT, 42}),
	 FIX_SERVICES, XDP_PASS, STEER_TRUNC_ICMP},

	/* IPv6 extension headers. */
	{"IPv6 SYN after hop-by-hop and destination options",
	 TCP6(SERVICE6, 80, TCPF_SYN, .ext = {IPV6_EXT_HOP, IPV6_EXT_DEST}, .ext_count = 2), FIX_SERVICES, XDP_PASS,
	 STEER_REDIRECT_SYN},
	{"IPv6 ACK after four extension headers (the bound)",
	 TCP6(SERVICE6, 80, TCPF_ACK, .ext = {IPV6_EXT_HOP, IPV6_EXT_DEST, IPV6_EXT_ROUTING, IPV6_EXT_DEST}, .ext_count = 4),
	 FIX_SERVICES, XDP_PASS, STEER_REDIRECT_SERVICE},
	{"five extension headers to a service address: kernel decides",
	 TCP6(SERVICE6, 80, TCPF_SYN, .ext = {IPV6_EXT_HOP, IPV6_EXT_DEST, IPV6_EXT_ROUTING, IPV6_EXT_DEST, IPV6_EXT_DEST}, .ext_count = 5),
	 FIX_SERVICES, XDP_PASS, STEER_IPV6_EXT_LIMIT},
	{"five extension headers to an owned address: dropped",
	 TCP6(OWNED6, 80, TCPF_SYN, .ext = {IPV6_EXT_HOP, IPV6_EXT_DEST, IPV6_EXT_ROUTING, IPV6_EXT_DEST, IPV6_EXT_DEST}, .ext_count = 5),
	 FIX_OWNED, XDP_DROP, STEER_IPV6_EXT_LIMIT},
	{"IPv6 payload ends inside hop-by-hop", TCP6(SERVICE6, 80, TCPF_SYN, .ext = {IPV6_EXT_HOP}, .ext_count = 1, .ip_payload_cut = 4),
	 FIX_SERVICES, XDP_PASS, STEER_TRUNC_IPV6_EXT},
	{"IPv6 payload ends inside hop-by-hop, owned", TCP6(OWNED6, 80, TCPF_SYN, .ext = {IPV6_EXT_HOP}, .ext_count = 1, .ip_payload_cut = 4),
	 FIX_OWNED, XDP_DROP, STEER_TRUNC_IPV6_EXT},
	{"extension header longer than the payload",
	 TCP6(OWNED6, 80, TCPF_SYN, .ext = {IPV6_EXT_DEST}, .ext_count = 1, .patch = {PATCH(41, 10)}), FIX_OWNED,
	 XDP_DROP, STEER_TRUNC_IPV6_EXT},
	{"IPv6 payload ends inside the fragment header",
	 TCP6(OWNED6, 80, TCPF_SYN, .ext = {IPV6_EXT_FRAGMENT}, .ext_count = 1, .ip_payload_cut = 6), FIX_OWNED,
	 XDP_DROP, STEER_TRUNC_IPV6_EXT},

	/* Fragments. */
	{"IPv4 first fragment of a SYN to a service", TCP4(SERVICE4, 80, TCPF_SYN, .df = false, .frag_off = 0x2000),
	 FIX_SERVICES, XDP_DROP, STEER_DROP_FRAGMENT},
	{"IPv4 first fragment to an owned address", UDP4(OWNED4, 53, .frag_off = 0x2000), FIX_OWNED, XDP_DROP,
	 STEER_DROP_FRAGMENT},
	{"IPv4 non-first fragment to a service address", UDP4(SERVICE4, 0, .frag_off = 185), FIX_SERVICES, XDP_PASS,
	 STEER_PASS_FRAGMENT},
	{"IPv4 non-first fragment to an owned address", UDP4(OWNED4, 0, .frag_off = 185 | 0x2000), FIX_OWNED,
	 XDP_DROP, STEER_DROP_FRAGMENT},
	{"IPv4 first fragment of UDP to the kernel", UDP4(KERNEL4, 53, .frag_off = 0x2000), FIX_SERVICES | FIX_OWNED,
	 XDP_PASS, STEER_PASS_FRAGMENT},
	{"IPv4 first fragment of TCP to the kernel", TCP4(KERNEL4, 22, TCPF_ACK, .df = false, .frag_off = 0x2000),
	 FIX_SERVICES, XDP_PASS, STEER_PASS_NOT_SERVICE},
	{"tiny first fragment: TCP header split", TCP4(SERVICE4, 80, TCPF_SYN, .df = false, .frag_off = 0x2000, .ip_payload_cut = 8),
	 FIX_SERVICES, XDP_DROP, STEER_TRUNC_TCP},
	{"IPv6 first fragment of a SYN to a service",
	 TCP6(SERVICE6, 80, TCPF_SYN, .ext = {IPV6_EXT_FRAGMENT}, .ext_count = 1, .frag6 = 1), FIX_SERVICES,
	 XDP_DROP, STEER_DROP_FRAGMENT},
	{"IPv6 non-first fragment to an owned address",
	 TCP6(OWNED6, 80, TCPF_ACK, .ext = {IPV6_EXT_FRAGMENT}, .ext_count = 1, .frag6 = 185 << 3), FIX_OWNED,
	 XDP_DROP, STEER_DROP_FRAGMENT},
	{"IPv6 non-first fragment to a service address",
	 TCP6(SERVICE6, 80, TCPF_ACK, .ext = {IPV6_EXT_HOP, IPV6_EXT_FRAGMENT}, .ext_count = 2, .frag6 = 185 << 3 | 1),
	 FIX_SERVICES, XDP_PASS, STEER_PASS_FRAGMENT},
	{"IPv6 atomic fragment (offset 0, no M) is whole",
	 TCP6(SERVICE6, 80, TCPF_SYN, .ext = {IPV6_EXT_FRAGMENT}, .ext_count = 1, .frag6 = 0), FIX_SERVICES, XDP_PASS,
	 STEER_REDIRECT_SYN},

	/* Truncated or malformed at each layer. */
	{"frame ends inside the VLAN tag", TCP4(SERVICE4, 80, TCPF_SYN, .vlans = 1, .cut = 16), FIX_SERVICES, XDP_PASS,
	 STEER_TRUNC_VLAN},
	{"frame ends inside the second VLAN tag", TCP4(SERVICE4, 80, TCPF_SYN, .vlans = 2, .cut = 20), FIX_SERVICES,
	 XDP_PASS, STEER_TRUNC_VLAN},
	{"Ethernet header only", TCP4(OWNED4, 80, TCPF_SYN, .cut = 14), FIX_OWNED, XDP_PASS, STEER_TRUNC_IPV4},
	{"frame ends inside the IPv4 header", TCP4(OWNED4, 80, TCPF_SYN, .cut = 14 + 10), FIX_OWNED, XDP_PASS,
	 STEER_TRUNC_IPV4},
	{"frame ends inside IPv4 options, owned", TCP4(OWNED4, 80, TCPF_SYN, .ip_opt_len = 8, .cut = 14 + 24), FIX_OWNED,
	 XDP_DROP, STEER_TRUNC_IPV4},
	{"frame ends inside IPv4 options, service address", TCP4(SERVICE4, 80, TCPF_SYN, .ip_opt_len = 8, .cut = 14 + 24),
	 FIX_SERVICES, XDP_PASS, STEER_TRUNC_IPV4},
	{"IPv4 total length past the frame, owned", TCP4(OWNED4, 80, TCPF_ACK, .payload_len = 100, .cut = 14 + 60),
	 FIX_OWNED, XDP_DROP, STEER_TRUNC_IPV4},
	{"IPv4 IHL below 5", TCP4(OWNED4, 80, TCPF_SYN, .patch = {PATCH(0, 0x44)}), FIX_OWNED, XDP_DROP, STEER_BAD_IPV4},
	{"IPv4 ethertype, IPv6 version", TCP4(KERNEL4, 80, TCPF_SYN, .patch = {PATCH(0, 0x65)}), FIX_OWNED, XDP_PASS,
	 STEER_BAD_IPV4},
	{"IPv4 total length below the header", TCP4(OWNED4, 80, TCPF_SYN, .patch = {PATCH(2, 0), PATCH(3, 16)}),
	 FIX_OWNED, XDP_DROP, STEER_BAD_IPV4},
	{"frame ends inside the IPv6 header", TCP6(OWNED6, 80, TCPF_SYN, .cut = 14 + 30), FIX_OWNED, XDP_PASS,
	 STEER_TRUNC_IPV6},
	{"IPv6 payload length past the frame, owned", TCP6(OWNED6, 80, TCPF_SYN, .cut = 14 + 50), FIX_OWNED, XDP_DROP,
	 STEER_TRUNC_IPV6},
	{"IPv6 payload length past the frame, kernel", TCP6(KERNEL6, 80, TCPF_SYN, .cut = 14 + 50), FIX_OWNED,
	 XDP_PASS, STEER_TRUNC_IPV6},
	{"IPv6 ethertype, IPv4 version", TCP6(OWNED6, 80, TCPF_SYN, .patch = {PATCH(0, 0x40)}), FIX_OWNED, XDP_DROP,
	 STEER_BAD_IPV6},
	{"TCP header cut, service port", TCP4(SERVICE4, 80, TCPF_SYN, .ip_payload_cut = 12), FIX_SERVICES, XDP_DROP,
	 STEER_TRUNC_TCP},
	{"TCP header cut, kernel port", TCP4(SERVICE4, 22, TCPF_SYN, .ip_payload_cut = 12), FIX_SERVICES, XDP_PASS,
	 STEER_TRUNC_TCP},
	{"TCP header cut before the ports, service address", TCP4(SERVICE4, 80, TCPF_SYN, .ip_payload_cut = 2),
	 FIX_SERVICES, XDP_PASS, STEER_TRUNC_TCP},
	{"TCP header cut before the ports, owned", TCP6(OWNED6, 80, TCPF_SYN, .ip_payload_cut = 2), FIX_OWNED, XDP_DROP,
	 STEER_TRUNC_TCP},
	{"TCP options cut", TCP4(SERVICE4, 80, TCPF_SYN, .tcp_opt_len = 12, .ip_payload_cut = 24), FIX_SERVICES,
	 XDP_DROP, STEER_TRUNC_TCP},
	{"IPv6 TCP options cut", TCP6(SERVICE6, 80, TCPF_SYN, .tcp_opt_len = 20, .ip_payload_cut = 36), FIX_SERVICES,
	 XDP_DROP, STEER_TRUNC_TCP},
	{"TCP data offset 4", TCP4(SERVICE4, 80, TCPF_SYN, .patch = {PATCH(20 + 12, 0x40)}), FIX_SERVICES, XDP_DROP,
	 STEER_BAD_TCP},
	{"ICMP header cut, kernel", ICMP4(KERNEL4, 8, 0, .ip_payload_cut = 4), FIX_OWNED, XDP_PASS, STEER_TRUNC_ICMP},
	{"ICMP header cut, owned", ICMP4(OWNED4, 8, 0, .ip_payload_cut = 4), FIX_OWNED, XDP_DROP, STEER_TRUNC_ICMP},
	{"ICMPv6 header cut, owned", ICMP6(OWNED6, 128, 0, .ip_payload_cut = 6), FIX_OWNED, XDP_DROP, STEER_TRUNC_ICMP},

	/* Blocklist. */
	{"blocked IPv4 source, SYN to a service", TCP4(SERVICE4, 80, TCPF_SYN, .src = BLOCKED4), FIX_SERVICES | FIX_BLOCK,
	 XDP_DROP, STEER_DROP_BLOCKED, .check = check_longest_prefix_v4},
	{"blocked by the shorter prefix only", TCP4(SERVICE4, 80, TCPF_ACK, .src = BLOCKED4_16), FIX_SERVICES | FIX_BLOCK,
	 XDP_DROP, STEER_DROP_BLOCKED, .check = check_shorter_prefix_v4},
	{"blocked IPv4 source to the kernel's SSH", TCP4(SERVICE4, 22, TCPF_SYN, .src = BLOCKED4), FIX_SERVICES | FIX_BLOCK,
	 XDP_DROP, STEER_DROP_BLOCKED},
	{"blocked source, ICMP echo to the kernel", ICMP4(KERNEL4, 8, 0, .src = BLOCKED4), FIX_BLOCK, XDP_DROP,
	 STEER_DROP_BLOCKED},
	{"unblocked neighbour of a blocked prefix", TCP4(SERVICE4, 80, TCPF_SYN, .src = "203.1.113.9"),
	 FIX_SERVICES | FIX_BLOCK, XDP_PASS, STEER_REDIRECT_SYN},
	{"blocked IPv6 source (/48)", TCP6(SERVICE6, 80, TCPF_SYN, .src = BLOCKED6), FIX_SERVICES | FIX_BLOCK, XDP_DROP,
	 STEER_DROP_BLOCKED},
	{"blocked IPv6 source counted by the longest prefix", TCP6(SERVICE6, 80, TCPF_ACK, .src = BLOCKED6_64),
	 FIX_SERVICES | FIX_BLOCK, XDP_DROP, STEER_DROP_BLOCKED, .check = check_longest_prefix_v6},
	{"IPv6 source outside the blocked /48", TCP6(SERVICE6, 80, TCPF_SYN, .src = UNBLOCKED6), FIX_SERVICES | FIX_BLOCK,
	 XDP_PASS, STEER_REDIRECT_SYN},
	{"scope services: blocked source still reaches SSH", TCP4(SERVICE4, 22, TCPF_SYN, .src = BLOCKED4),
	 FIX_SERVICES | FIX_BLOCK | FIX_SCOPE_SERVICES, XDP_PASS, STEER_PASS_NOT_SERVICE},
	{"scope services: blocked source to a service", TCP4(SERVICE4, 80, TCPF_ACK, .src = BLOCKED4),
	 FIX_SERVICES | FIX_BLOCK | FIX_SCOPE_SERVICES, XDP_DROP, STEER_DROP_BLOCKED},
	{"scope services: blocked source, echo to owned", ICMP6(OWNED6, 128, 0, .src = BLOCKED6),
	 FIX_OWNED | FIX_BLOCK | FIX_SCOPE_SERVICES, XDP_DROP, STEER_DROP_BLOCKED},
	{"scope services: blocked router's PMTU error", ICMP4(SERVICE4, 3, 4, .src = BLOCKED4, .quote = {SERVICE4, CLIENT4, 80, CPORT}),
	 FIX_SERVICES | FIX_BLOCK | FIX_SCOPE_SERVICES, XDP_DROP, STEER_DROP_BLOCKED},

	/* Admission: open / draining / closed x SYN / ACK / SYN-ACK. */
	{"open: SYN admitted", TCP4(SERVICE4, 80, TCPF_SYN), FIX_SERVICES, XDP_PASS, STEER_REDIRECT_SYN},
	{"open: ACK continues", TCP4(SERVICE4, 80, TCPF_ACK), FIX_SERVICES, XDP_PASS, STEER_REDIRECT_SERVICE},
	{"open: SYN-ACK continues", TCP4(SERVICE4, 80, TCPF_SYN | TCPF_ACK), FIX_SERVICES, XDP_PASS,
	 STEER_REDIRECT_SERVICE},
	{"draining: SYN refused with RST", TCP4(SERVICE4, 80, TCPF_SYN), FIX_SERVICES | FIX_DRAINING, XDP_TX,
	 STEER_REFUSE_DRAINING, RST4(SERVICE4, 80, SEQ + 1)},
	{"draining: ACK continues", TCP4(SERVICE4, 80, TCPF_ACK), FIX_SERVICES | FIX_DRAINING, XDP_PASS,
	 STEER_REDIRECT_SERVICE},
	{"draining: SYN-ACK continues", TCP4(SERVICE4, 80, TCPF_SYN | TCPF_ACK), FIX_SERVICES | FIX_DRAINING, XDP_PASS,
	 STEER_REDIRECT_SERVICE},
	{"closed: SYN refused with RST", TCP4(SERVICE4, 80, TCPF_SYN), FIX_SERVICES | FIX_CLOSED, XDP_TX,
	 STEER_REFUSE_CLOSED, RST4(SERVICE4, 80, SEQ + 1)},
	{"closed: ACK continues", TCP4(SERVICE4, 80, TCPF_ACK), FIX_SERVICES | FIX_CLOSED, XDP_PASS,
	 STEER_REDIRECT_SERVICE},
	{"closed: SYN-ACK continues", TCP4(SERVICE4, 80, TCPF_SYN | TCPF_ACK), FIX_SERVICES | FIX_CLOSED, XDP_PASS,
	 STEER_REDIRECT_SERVICE},
	{"closed: RST continues, never answered", TCP4(SERVICE4, 80, TCPF_RST), FIX_SERVICES | FIX_CLOSED, XDP_PASS,
	 STEER_REDIRECT_SERVICE},
	{"closed: SYN+RST is not a new flow", TCP4(SERVICE4, 80, TCPF_SYN | TCPF_RST), FIX_SERVICES | FIX_CLOSED,
	 XDP_PASS, STEER_REDIRECT_SERVICE},
	{"closed: IPv6 SYN refused with RST", TCP6(SERVICE6, 80, TCPF_SYN), FIX_SERVICES | FIX_CLOSED, XDP_TX,
	 STEER_REFUSE_CLOSED, RST6(SERVICE6, 80, SEQ + 1)},
	{"closed: RST drops IPv4 and TCP options, keeps the VLAN tag",
	 TCP4(SERVICE4, 443, TCPF_SYN, .vlans = 1, .ip_opt_len = 12, .tcp_opt_len = 20, .seq = 0xfffffff0),
	 FIX_SERVICES | FIX_CLOSED, XDP_TX, STEER_REFUSE_CLOSED, RST4(SERVICE4, 443, 0xfffffff1, .vlans = 1)},
	{"closed: IPv6 RST drops extension headers, keeps both tags",
	 TCP6(SERVICE6, 80, TCPF_SYN, .vlans = 2, .ext = {IPV6_EXT_HOP, IPV6_EXT_DEST}, .ext_count = 2, .tcp_opt_len = 20),
	 FIX_SERVICES | FIX_CLOSED, XDP_TX, STEER_REFUSE_CLOSED, RST6(SERVICE6, 80, SEQ + 1, .vlans = 2)},
	{"closed: SYN with data (TFO) acknowledged whole", TCP4(SERVICE4, 80, TCPF_SYN, .payload_len = 10),
	 FIX_SERVICES | FIX_CLOSED, XDP_TX, STEER_REFUSE_CLOSED, RST4(SERVICE4, 80, SEQ + 11)},
	{"closed: SYN+FIN acknowledged with both", TCP4(SERVICE4, 80, TCPF_SYN | TCPF_FIN), FIX_SERVICES | FIX_CLOSED,
	 XDP_TX, STEER_REFUSE_CLOSED, RST4(SERVICE4, 80, SEQ + 2)},
	{"closed: SYN from a minimum frame with padding", TCP4(SERVICE4, 80, TCPF_SYN, .cut = 60), FIX_SERVICES | FIX_CLOSED,
	 XDP_TX, STEER_REFUSE_CLOSED, RST4(SERVICE4, 80, SEQ + 1)},
	{"closed: owned address answers for any port", TCP6(OWNED6, 8443, TCPF_SYN), FIX_OWNED | FIX_CLOSED, XDP_TX,
	 STEER_REFUSE_CLOSED, RST6(OWNED6, 8443, SEQ + 1)},
	{"closed, refuse by drop", TCP4(SERVICE4, 80, TCPF_SYN), FIX_SERVICES | FIX_CLOSED | FIX_REFUSE_DROP, XDP_DROP,
	 STEER_REFUSE_CLOSED},
	{"draining, refuse by drop", TCP6(SERVICE6, 80, TCPF_SYN), FIX_SERVICES | FIX_DRAINING | FIX_REFUSE_DROP,
	 XDP_DROP, STEER_REFUSE_DRAINING},
	{"closing service 1 leaves service 2 open", TCP4(OWNED4, 80, TCPF_SYN), FIX_SERVICES | FIX_OWNED, XDP_PASS,
	 STEER_REDIRECT_SYN, .setup = setup_close_service1},
	{"an admission value the program does not know means closed", TCP4(SERVICE4, 80, TCPF_SYN), FIX_SERVICES,
	 XDP_TX, STEER_REFUSE_CLOSED, RST4(SERVICE4, 80, SEQ + 1), .setup = setup_admission_garbage},

	/* SYN rate limit per source prefix. */
	{"burst 3: third SYN admitted", TCP4(SERVICE4, 80, TCPF_SYN), FIX_SERVICES | FIX_SYN_BURST3, XDP_PASS,
	 STEER_REDIRECT_SYN, .runs = 3},
	{"burst 3: fourth SYN dropped", TCP4(SERVICE4, 80, TCPF_SYN), FIX_SERVICES | FIX_SYN_BURST3, XDP_DROP,
	 STEER_DROP_SYN_RATE, .runs = 4,
	 .counts = {{STEER_REDIRECT_SYN, 3}, {STEER_DROP_SYN_RATE, 1}, {STEER_VERDICT_DROP, 1}},
	 .check = check_bucket_v4_24},
	{"burst 3: same /24, other host shares the bucket", TCP4(SERVICE4, 80, TCPF_SYN, .src = CLIENT4_SAME24),
	 FIX_SERVICES | FIX_SYN_BURST3, XDP_DROP, STEER_DROP_SYN_RATE, .before = &syn4_client, .before_runs = 3},
	{"burst 3: another /24 has its own bucket", TCP4(SERVICE4, 80, TCPF_SYN, .src = CLIENT4_OTHER24),
	 FIX_SERVICES | FIX_SYN_BURST3, XDP_PASS, STEER_REDIRECT_SYN, .before = &syn4_client, .before_runs = 4},
	{"burst 3: IPv6 same /64 shares the bucket", TCP6(SERVICE6, 80, TCPF_SYN, .src = CLIENT6_SAME64),
	 FIX_SERVICES | FIX_SYN_BURST3, XDP_DROP, STEER_DROP_SYN_RATE, .before = &syn6_client, .before_runs = 3,
	 .check = check_bucket_v6_64},
	{"burst 3: IPv6 other /64 has its own bucket", TCP6(SERVICE6, 80, TCPF_SYN, .src = CLIENT6_OTHER64),
	 FIX_SERVICES | FIX_SYN_BURST3, XDP_PASS, STEER_REDIRECT_SYN, .before = &syn6_client, .before_runs = 3},
	{"limited prefix: established flows continue", TCP4(SERVICE4, 80, TCPF_ACK), FIX_SERVICES | FIX_SYN_BURST3,
	 XDP_PASS, STEER_REDIRECT_SERVICE, .before = &syn4_client, .before_runs = 5},
	{"limit counts SYNs to the kernel not at all", TCP4(SERVICE4, 22, TCPF_SYN), FIX_SERVICES | FIX_SYN_BURST3,
	 XDP_PASS, STEER_PASS_NOT_SERVICE, .runs = 5},
	{"rate 1e9/s refills between SYNs", TCP4(SERVICE4, 80, TCPF_SYN), FIX_SERVICES | FIX_SYN_REFILL, XDP_PASS,
	 STEER_REDIRECT_SYN, .runs = 5},
	{"rate 1/s: bucket emptied now drops", TCP4(SERVICE4, 80, TCPF_SYN), FIX_SERVICES | FIX_SYN_SLOW, XDP_DROP,
	 STEER_DROP_SYN_RATE, .setup = setup_bucket_exhausted},
	{"rate 1/s: bucket idle for 10 s admits", TCP4(SERVICE4, 80, TCPF_SYN), FIX_SERVICES | FIX_SYN_SLOW, XDP_PASS,
	 STEER_REDIRECT_SYN, .setup = setup_bucket_refilled},
	{"burst 0: no limit", TCP4(SERVICE4, 80, TCPF_SYN), FIX_SERVICES | FIX_SYN_OFF, XDP_PASS, STEER_REDIRECT_SYN,
	 .runs = 20},
	{"load-time defaults without a written config", TCP4(SERVICE4, 80, TCPF_SYN), FIX_SERVICES, XDP_PASS,
	 STEER_REDIRECT_SYN, .check = check_default_bucket},
	{"a config of another layout version is ignored", TCP4(SERVICE4, 80, TCPF_SYN), FIX_SERVICES, XDP_PASS,
	 STEER_REDIRECT_SYN, .runs = 5, .setup = setup_config_other_layout},
	{"rate limit comes before admission: no RST to a flood", TCP4(SERVICE4, 80, TCPF_SYN),
	 FIX_SERVICES | FIX_SYN_BURST3 | FIX_CLOSED, XDP_DROP, STEER_DROP_SYN_RATE, .runs = 5,
	 .counts = {{STEER_REFUSE_CLOSED, 3}, {STEER_DROP_SYN_RATE, 2}, {STEER_VERDICT_TX, 3}}},
	{NULL},
};

static void test_steer_table(void)
{
	for (const struct steer_case *c = steer_cases; c->description; c++)
		case_run(c);
}

/* --- Truncation sweeps ----------------------------------------------------------------------- */

/* Well-formed frames and how many bytes of IP payload the program needs to act on each (the
 * headers it reads: extension headers, TCP with options, an ICMP error's quote up to the ports,
 * an NDP target). */
struct sweep_frame {
	struct frame_spec spec;
	int needed;
};

static const struct sweep_frame sweep_frames[] = {
	{TCP4(SERVICE4, 80, TCPF_SYN, .vlans = 1, .ip_opt_len = 8, .tcp_opt_len = 12, .payload_len = 5), 32},
	{TCP4(OWNED4, 80, TCPF_ACK, .vlans = 2, .payload_len = 3), 20},
	{TCP6(SERVICE6, 80, TCPF_SYN, .ext = {IPV6_EXT_HOP, IPV6_EXT_FRAGMENT, IPV6_EXT_DEST}, .ext_count = 3, .tcp_opt_len = 8), 52},
	{TCP6(OWNED6, 443, TCPF_SYN, .ext = {IPV6_EXT_ROUTING}, .ext_count = 1, .payload_len = 2), 28},
	{ICMP4(SERVICE4, 3, 4, .src = ROUTER4, .quote = {SERVICE4, CLIENT4, 80, CPORT}), 32},
	{ICMP6(SERVICE6, 2, 0, .src = ROUTER6, .quote = {SERVICE6, CLIENT6, 80, CPORT}), 52},
	{ICMP6(SOLICITED_OWNED6, 135, 0, .target = OWNED6), 24},
	{ICMP4(OWNED4, 8, 0), 8},
	{ARP(OWNED4), 0},
};

static bool reason_is_malformed(int reason)
{
	return reason >= STEER_TRUNC_ETH && reason <= STEER_TRUNC_ICMP;
}

/* Runs one damaged frame; it must be passed or dropped and counted as malformed, never sent to
 * the data plane or answered. */
static void sweep_run(const uint8_t *frame, size_t len, const char *how, size_t f, size_t at)
{
	struct steer_counter_value totals[STEER_COUNTER_COUNT];
	struct run_result r;
	int reason = -1;

	counters_clear();
	frame_run(frame, len, &r);
	counters_read(totals);
	for (int i = 0; i < STEER_REASON_COUNT; i++)
		if (totals[i].packets)
			reason = i;
	TEST_CHECK(r.rc == 0 && (r.action == XDP_PASS || r.action == XDP_DROP) &&
			   totals[STEER_VERDICT_NO_SOCKET].packets == 0 && reason_is_malformed(reason),
		   "sweep frame %zu %s %zu: rc %d action %s reason %s", f, how, at, r.rc, action_name(r.action),
		   reason >= 0 ? steer_counter_names[reason] : "none");
}

/* Every prefix of each frame (from the Ethernet header on), lengths in the headers untouched. */
static void test_steer_truncation_sweep(void)
{
	maps_reset();
	fixtures_apply(FIX_SERVICES | FIX_OWNED | FIX_CLOSED);
	for (size_t f = 0; f < ARRAY_SIZE(sweep_frames); f++) {
		uint8_t frame[FRAME_MAX];
		size_t len = frame_build(&sweep_frames[f].spec, frame);

		for (size_t cut = 14; cut < len; cut++)
			sweep_run(frame, cut, "cut at byte", f, cut);
	}
}

/* Every IP payload length short of what the program needs, with lengths that agree. */
static void test_steer_payload_sweep(void)
{
	maps_reset();
	fixtures_apply(FIX_SERVICES | FIX_OWNED | FIX_CLOSED);
	for (size_t f = 0; f < ARRAY_SIZE(sweep_frames); f++) {
		for (int cut = 1; cut < sweep_frames[f].needed; cut++) {
			struct frame_spec spec = sweep_frames[f].spec;
			uint8_t frame[FRAME_MAX];

			spec.ip_payload_cut = cut;
			sweep_run(frame, frame_build(&spec, frame), "IP payload cut to", f, (size_t)cut);
		}
	}
}

/* The kernel refuses test frames below an Ethernet header: trunc_eth is proven by the verifier. */
static void test_steer_runt_refused(void)
{
	uint8_t frame[13] = {0};
	struct run_result r;

	frame_run(frame, sizeof(frame), &r);
	CU_ASSERT_EQUAL(r.rc, -EINVAL);
}

/* A context naming an ingress interface and queue (the way the PMD's queue reaches the program):
 * with no socket at that key of xsks_map, service traffic falls back to the kernel. */
static void test_steer_rx_queue_context(void)
{
	struct xdp_md ctx_in = {.ingress_ifindex = 1, .rx_queue_index = 0};
	uint8_t frame[FRAME_MAX], out[FRAME_MAX];
	struct frame_spec syn = TCP4(SERVICE4, 80, TCPF_SYN);
	size_t len;
	struct steer_counter_value totals[STEER_COUNTER_COUNT];
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_out = out, .data_size_out = sizeof(out), .ctx_in = &ctx_in,
		    .ctx_size_in = sizeof(ctx_in), .repeat = 1);

	maps_reset();
	fixtures_apply(FIX_SERVICES);
	len = frame_build(&syn, frame);
	opts.data_in = frame;
	opts.data_size_in = (__u32)len;
	ctx_in.data_end = (__u32)len;
	CU_ASSERT_EQUAL_FATAL(bpf_prog_test_run_opts(bpf_program__fd(skel->progs.steer_xdp), &opts), 0);
	CU_ASSERT_EQUAL(opts.retval, XDP_PASS);
	counters_read(totals);
	CU_ASSERT_EQUAL(totals[STEER_VERDICT_NO_SOCKET].packets, 1);
}

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level != LIBBPF_WARN)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static void steer_unload(void)
{
	steer_bpf__destroy(skel);
	skel = NULL;
}

/* Loads the program once, before the first test (test_main has no suite set-up hook). */
static int steer_load_once(void)
{
	struct bpf_map *map;

	if (skel)
		return 0;
	libbpf_set_print(libbpf_quiet);
	possible_cpus = libbpf_num_possible_cpus();
	skel = steer_bpf__open();
	if (!skel || possible_cpus <= 0)
		return -1;
	/* Private maps: nothing pinned, nothing reused from a running system. */
	bpf_object__for_each_map(map, skel->obj)
		if (bpf_map__set_pin_path(map, NULL) < 0)
			return -1;
	if (steer_bpf__load(skel) < 0) {
		fprintf(stderr, "test_steer: loading the program failed (root and bpffs needed)\n");
		steer_unload();
		return -1;
	}
	atexit(steer_unload);
	return 0;
}

void test_register(void)
{
	static const struct test_case cases[] = {
		{"fixture table", test_steer_table},
		{"every truncation point", test_steer_truncation_sweep},
		{"every short IP payload", test_steer_payload_sweep},
		{"runt frames refused by test_run", test_steer_runt_refused},
		{"rx queue context", test_steer_rx_queue_context},
		{NULL, NULL},
	};

	if (geteuid() != 0) {
		fprintf(stderr, "test_steer: needs root (loads BPF programs); skipped\n");
		exit(77);
	}
	if (steer_load_once() < 0) {
		fprintf(stderr, "test_steer: cannot load bpf/steer.bpf.o\n");
		exit(1);
	}
	test_add_suite("steer program", cases);
}
