/* SPDX-License-Identifier: BSD-3-Clause
 *
 * test_lossy.c: the lab's loss program (bpf/lossy.bpf.c) run by the kernel through
 * bpf_prog_test_run_opts, without an interface: a table of settings, each run over many
 * packets, checking the drop counts against the probabilities (bounds wide enough to hold
 * for any seed), that a seed repeats its pattern, that bursts come in runs of the expected
 * mean length, and that every packet is counted once. Needs root (it loads BPF).
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/pkt_cls.h>

#include "compiler.h"
#include "lossy.h"
#include "lossy.skel.h"
#include "test_main.h"

struct lossy_run {
	struct lossy_stats stats;
	int last_retval;
};

/* Loads the program with the settings, runs it `packets` times on one frame, sums counters. */
static int lossy_run(double loss, double enter, double exit_p, double burst_loss, unsigned long long seed,
		     uint32_t packets, struct lossy_run *out)
{
	uint8_t frame[64] = {0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00, 0x45};
	struct lossy_bpf *skel = lossy_bpf__open();
	int ncpus = libbpf_num_possible_cpus(), rc;
	struct lossy_stats *per_cpu = NULL;
	__u32 key = 0;
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = sizeof(frame), .repeat = packets);

	memset(out, 0, sizeof(*out));
	if (!skel)
		return -errno;
	skel->rodata->loss_threshold = (__u64)(loss * (double)LOSSY_PROBABILITY_ONE);
	skel->rodata->burst_enter_threshold = (__u64)(enter * (double)LOSSY_PROBABILITY_ONE);
	skel->rodata->burst_exit_threshold = (__u64)(exit_p * (double)LOSSY_PROBABILITY_ONE);
	skel->rodata->burst_loss_threshold = (__u64)(burst_loss * (double)LOSSY_PROBABILITY_ONE);
	if (loss >= 1.0)
		skel->rodata->loss_threshold = LOSSY_PROBABILITY_ONE;
	if (burst_loss >= 1.0)
		skel->rodata->burst_loss_threshold = LOSSY_PROBABILITY_ONE;
	skel->rodata->seed = seed;
	rc = lossy_bpf__load(skel);
	if (rc)
		goto cleanup;
	rc = bpf_prog_test_run_opts(bpf_program__fd(skel->progs.lossy), &opts);
	if (rc)
		goto cleanup;
	out->last_retval = (int)opts.retval;
	per_cpu = calloc((size_t)ncpus, sizeof(*per_cpu));
	rc = per_cpu ? bpf_map_lookup_elem(bpf_map__fd(skel->maps.lossy_stats), &key, per_cpu) : -ENOMEM;
	if (rc)
		goto cleanup;
	for (int c = 0; c < ncpus; c++) {
		out->stats.passed_packets += per_cpu[c].passed_packets;
		out->stats.passed_bytes += per_cpu[c].passed_bytes;
		out->stats.dropped_packets += per_cpu[c].dropped_packets;
		out->stats.dropped_bytes += per_cpu[c].dropped_bytes;
		out->stats.bad_state_packets += per_cpu[c].bad_state_packets;
		out->stats.bad_state_entries += per_cpu[c].bad_state_entries;
	}
cleanup:
	free(per_cpu);
	lossy_bpf__destroy(skel);
	return rc;
}

static void test_lossy_table(void)
{
	static const struct {
		const char *description;
		double loss, enter, exit_p, burst_loss;
		unsigned long long seed;
		uint32_t packets;
		uint64_t drop_min, drop_max;
		double burst_len_min, burst_len_max; /* dropped / bursts, when bursts are on */
	} cases[] = {
		{"no loss", 0, 0, 0, 0, 0, 5000, 0, 0, 0, 0},
		{"loss 1: everything dropped", 1, 0, 0, 0, 0, 5000, 5000, 5000, 0, 0},
		{"1 % (kernel randomness)", 0.01, 0, 0, 0, 0, 100000, 700, 1300, 0, 0},
		{"1 %, seeded", 0.01, 0, 0, 0, 42, 100000, 700, 1300, 0, 0},
		{"5 %, seeded", 0.05, 0, 0, 0, 7, 100000, 4400, 5600, 0, 0},
		{"50 %, seeded", 0.5, 0, 0, 0, 9, 20000, 9400, 10600, 0, 0},
		/* Bad state 1/(1 + 0.1/0.01) of the time ~ 9 %, bursts of mean 1/0.1 = 10 packets. */
		{"bursts: enter 1 %, exit 10 %, loss 100 % in bad", 0, 0.01, 0.1, 1, 3, 100000, 6000, 12000, 6, 16},
		{"bursts with 0.1 % background loss", 0.001, 0.005, 0.25, 0.5, 5, 100000, 500, 2200, 0, 0},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct lossy_run r;
		int rc = lossy_run(cases[i].loss, cases[i].enter, cases[i].exit_p, cases[i].burst_loss, cases[i].seed,
				   cases[i].packets, &r);

		TEST_CHECK(rc == 0, "%s: loaded and ran (%d)", cases[i].description, rc);
		TEST_CHECK(r.stats.passed_packets + r.stats.dropped_packets == cases[i].packets,
			   "%s: every packet counted once (%llu + %llu)", cases[i].description,
			   (unsigned long long)r.stats.passed_packets, (unsigned long long)r.stats.dropped_packets);
		TEST_CHECK(r.stats.dropped_bytes == r.stats.dropped_packets * 64 &&
				   r.stats.passed_bytes == r.stats.passed_packets * 64,
			   "%s: bytes counted", cases[i].description);
		TEST_CHECK(r.stats.dropped_packets >= cases[i].drop_min && r.stats.dropped_packets <= cases[i].drop_max,
			   "%s: %llu dropped, want %llu..%llu", cases[i].description,
			   (unsigned long long)r.stats.dropped_packets, (unsigned long long)cases[i].drop_min,
			   (unsigned long long)cases[i].drop_max);
		if (cases[i].burst_len_max > 0) {
			double mean = r.stats.bad_state_entries ? (double)r.stats.dropped_packets / r.stats.bad_state_entries
								: 0;
			TEST_CHECK(mean >= cases[i].burst_len_min && mean <= cases[i].burst_len_max,
				   "%s: mean burst %.1f packets (%llu bursts)", cases[i].description, mean,
				   (unsigned long long)r.stats.bad_state_entries);
		}
		if (cases[i].loss >= 1.0)
			TEST_CHECK(r.last_retval == TC_ACT_SHOT, "%s: verdict TC_ACT_SHOT", cases[i].description);
		if (cases[i].loss == 0 && cases[i].enter == 0)
			TEST_CHECK(r.last_retval == TC_ACT_OK, "%s: verdict TC_ACT_OK", cases[i].description);
	}
}

static void test_lossy_seed_repeats(void)
{
	struct lossy_run a, b, c;

	CU_ASSERT_EQUAL_FATAL(lossy_run(0.03, 0.01, 0.2, 0.7, 1234, 50000, &a), 0);
	CU_ASSERT_EQUAL_FATAL(lossy_run(0.03, 0.01, 0.2, 0.7, 1234, 50000, &b), 0);
	CU_ASSERT_EQUAL_FATAL(lossy_run(0.03, 0.01, 0.2, 0.7, 4321, 50000, &c), 0);
	CU_ASSERT_EQUAL(a.stats.dropped_packets, b.stats.dropped_packets);
	CU_ASSERT_EQUAL(a.stats.bad_state_entries, b.stats.bad_state_entries);
	CU_ASSERT_NOT_EQUAL(a.stats.dropped_packets, c.stats.dropped_packets);
}

void test_register(void)
{
	static const struct test_case cases[] = {
		{"drop rates and bursts", test_lossy_table},
		{"a seed repeats its pattern", test_lossy_seed_repeats},
		{NULL, NULL},
	};
	cpu_set_t one;

	/* One CPU: per-CPU chains and seeds stay comparable between runs. */
	CPU_ZERO(&one);
	CPU_SET(0, &one);
	sched_setaffinity(0, sizeof(one), &one);
	test_add_suite("lossy", cases);
}
