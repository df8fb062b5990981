/* SPDX-License-Identifier: BSD-3-Clause
 *
 * test_control_admission.c: the admission controller (control/admission.c) driven by tables
 * of (time, utilisation) rows with the controller state expected after each, showing the
 * hysteresis and the minimum dwell; the precedence of override, drain and data plane down;
 * override expiry; and the load sampler's rates (control/load.c).
 */
#include <string.h>

#include "admission.h"
#include "load.h"
#include "test_main.h"

#define S 1000000000ULL

struct step {
	uint64_t time_s;
	double utilisation;
	enum admission_state expected;
	bool changed;
};

struct scenario {
	const char *description;
	struct admission_policy policy;
	struct step steps[16];
};

#define POLICY(close, reopen, dwell_s) {close, reopen, (dwell_s) * S}
#define END {UINT64_MAX, 0, 0, false}

static const struct scenario scenarios[] = {
	{"closes at the threshold, reopens at the lower one", POLICY(0.9, 0.6, 0),
	 {{0, 0.5, ADMISSION_OPEN, false}, {1, 0.89, ADMISSION_OPEN, false}, {2, 0.9, ADMISSION_CLOSED, true},
	  {3, 0.7, ADMISSION_CLOSED, false}, {4, 0.61, ADMISSION_CLOSED, false}, {5, 0.6, ADMISSION_OPEN, true},
	  {6, 0.89, ADMISSION_OPEN, false}, END}},
	{"load between the thresholds keeps either state (no flapping)", POLICY(0.9, 0.6, 0),
	 {{0, 0.75, ADMISSION_OPEN, false}, {1, 0.85, ADMISSION_OPEN, false}, {2, 0.65, ADMISSION_OPEN, false},
	  {3, 1.2, ADMISSION_CLOSED, true}, {4, 0.85, ADMISSION_CLOSED, false}, {5, 0.65, ADMISSION_CLOSED, false},
	  {6, 0.89, ADMISSION_CLOSED, false}, END}},
	{"minimum dwell delays a change", POLICY(0.9, 0.6, 10),
	 {{0, 0.1, ADMISSION_OPEN, false}, {5, 2.0, ADMISSION_OPEN, false}, {9, 2.0, ADMISSION_OPEN, false},
	  {10, 2.0, ADMISSION_CLOSED, true}, {11, 0.0, ADMISSION_CLOSED, false}, {19, 0.0, ADMISSION_CLOSED, false},
	  {20, 0.0, ADMISSION_OPEN, true}, {21, 5.0, ADMISSION_OPEN, false}, {30, 5.0, ADMISSION_CLOSED, true}, END}},
	{"after a quiet dwell an overload closes at once, reopening waits a dwell", POLICY(0.9, 0.6, 10),
	 {{0, 0.1, ADMISSION_OPEN, false}, {10, 0.1, ADMISSION_OPEN, false}, {11, 0.95, ADMISSION_CLOSED, true},
	  {12, 0.1, ADMISSION_CLOSED, false}, {21, 0.1, ADMISSION_OPEN, true}, END}},
	{"oscillating load makes at most one change per dwell", POLICY(0.9, 0.6, 5),
	 {{0, 0.1, ADMISSION_OPEN, false}, {5, 1.0, ADMISSION_CLOSED, true}, {6, 0.1, ADMISSION_CLOSED, false},
	  {7, 1.0, ADMISSION_CLOSED, false}, {8, 0.1, ADMISSION_CLOSED, false}, {9, 1.0, ADMISSION_CLOSED, false},
	  {10, 0.1, ADMISSION_OPEN, true}, {11, 1.0, ADMISSION_OPEN, false}, {15, 1.0, ADMISSION_CLOSED, true}, END}},
	{NULL, POLICY(0, 0, 0), {END}},
};

static void test_admission_hysteresis(void)
{
	for (const struct scenario *sc = scenarios; sc->description; sc++) {
		struct admission a;

		admission_init(&a, &sc->policy);
		for (const struct step *st = sc->steps; st->time_s != UINT64_MAX; st++) {
			double inputs[ADMISSION_INPUT_COUNT] = {st->utilisation, -1, -1, -1};
			bool changed = admission_update(&a, inputs, 1000 * S + st->time_s * S);

			TEST_CHECK(a.controller_state == st->expected && changed == st->changed,
				   "%s: at %llu s (utilisation %.2f) state %s changed %d, expected %s changed %d",
				   sc->description, (unsigned long long)st->time_s, st->utilisation,
				   admission_state_name(a.controller_state), changed, admission_state_name(st->expected),
				   st->changed);
		}
	}
}

static void test_admission_utilisation(void)
{
	double none[ADMISSION_INPUT_COUNT] = {-1, -1, -1, -1};
	double mixed[ADMISSION_INPUT_COUNT] = {0.2, -1, 0.7, 0.1};
	double over[ADMISSION_INPUT_COUNT] = {0.2, 3.5, 0.7, -1};

	CU_ASSERT_DOUBLE_EQUAL(admission_utilisation(none), 0, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(admission_utilisation(mixed), 0.7, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(admission_utilisation(over), 3.5, 1e-12);
}

struct precedence_case {
	const char *description;
	bool override;
	enum admission_state override_state;
	bool drain, down;
	enum admission_state controller;
	enum admission_state expected;
	enum admission_source source;
};

static void test_admission_precedence(void)
{
	static const struct precedence_case cases[] = {
		{"controller open", false, 0, false, false, ADMISSION_OPEN, ADMISSION_OPEN, ADMISSION_SOURCE_CONTROLLER},
		{"controller closed", false, 0, false, false, ADMISSION_CLOSED, ADMISSION_CLOSED, ADMISSION_SOURCE_CONTROLLER},
		{"data plane down closes", false, 0, false, true, ADMISSION_OPEN, ADMISSION_CLOSED,
		 ADMISSION_SOURCE_DATAPLANE_DOWN},
		{"drain over down", false, 0, true, true, ADMISSION_OPEN, ADMISSION_DRAINING, ADMISSION_SOURCE_DRAIN},
		{"drain over controller", false, 0, true, false, ADMISSION_CLOSED, ADMISSION_DRAINING, ADMISSION_SOURCE_DRAIN},
		{"override over all", true, ADMISSION_OPEN, true, true, ADMISSION_CLOSED, ADMISSION_OPEN,
		 ADMISSION_SOURCE_OVERRIDE},
		{"override closed", true, ADMISSION_CLOSED, false, false, ADMISSION_OPEN, ADMISSION_CLOSED,
		 ADMISSION_SOURCE_OVERRIDE},
		{NULL, false, 0, false, false, 0, 0, 0},
	};
	struct admission_policy policy = POLICY(0.9, 0.6, 0);

	for (const struct precedence_case *c = cases; c->description; c++) {
		struct admission a;

		admission_init(&a, &policy);
		a.controller_state = c->controller;
		if (c->override)
			admission_override_set(&a, c->override_state, 0, "test");
		if (c->drain)
			admission_drain_start(&a, 100, NULL);
		a.dataplane_down = c->down;
		admission_effective(&a, 100);
		TEST_CHECK(a.effective == c->expected && a.effective_source == c->source, "%s: %s from %s", c->description,
			   admission_state_name(a.effective), admission_source_name(a.effective_source));
	}
}

static void test_admission_override_expiry(void)
{
	struct admission_policy policy = POLICY(0.9, 0.6, 0);
	struct admission a;

	admission_init(&a, &policy);
	CU_ASSERT_FALSE(admission_effective(&a, 1000));
	admission_override_set(&a, ADMISSION_CLOSED, 1060, "maintenance");
	CU_ASSERT_TRUE(admission_effective(&a, 1000));
	CU_ASSERT_EQUAL(a.effective, ADMISSION_CLOSED);
	CU_ASSERT_FALSE(admission_effective(&a, 1059));
	CU_ASSERT_TRUE(a.override_active);
	CU_ASSERT_TRUE(admission_effective(&a, 1060)); /* expired: back to the controller */
	CU_ASSERT_EQUAL(a.effective, ADMISSION_OPEN);
	CU_ASSERT_FALSE(a.override_active);
	CU_ASSERT_EQUAL(a.transitions, 2);
	CU_ASSERT_EQUAL(a.history[0].to, ADMISSION_CLOSED);
	CU_ASSERT_EQUAL(a.history[0].source, ADMISSION_SOURCE_OVERRIDE);
	CU_ASSERT_EQUAL(a.history[1].to, ADMISSION_OPEN);
	CU_ASSERT_EQUAL(a.history[1].time_s, 1060);
	/* Drain keeps its start time when started twice. */
	admission_drain_start(&a, 2000, "one");
	admission_drain_start(&a, 2005, "two");
	CU_ASSERT_EQUAL(a.drain_since_s, 2000);
	CU_ASSERT_STRING_EQUAL(a.drain_reason, "two");
	admission_drain_cancel(&a);
	CU_ASSERT_FALSE(a.drain_active);
}

static void sample(struct load_sample *s, uint64_t t_ms, uint64_t tx, uint64_t busy, uint64_t idle)
{
	memset(s, 0, sizeof(*s));
	s->time_ns = t_ms * 1000000ULL;
	s->tx_bytes = tx;
	s->lcore_count = 2;
	s->lcore_ids[0] = 1;
	s->lcore_ids[1] = 2;
	s->busy_cycles[0] = busy;
	s->idle_cycles[0] = idle;
	s->busy_cycles[1] = busy / 2;
	s->idle_cycles[1] = idle + busy / 2;
}

static void test_load_rates(void)
{
	struct load_sample a, b;
	struct load_rates r;

	sample(&a, 1000, 0, 0, 0);
	sample(&b, 2000, 125000000, 300, 700); /* 1 Gbit in 1 s, lcore 1 30 % busy */
	load_rates_between(&a, &b, &r);
	CU_ASSERT_TRUE(r.valid);
	CU_ASSERT_DOUBLE_EQUAL(r.tx_bits_per_s, 1e9, 1);
	CU_ASSERT_DOUBLE_EQUAL(r.busy_ratio[0], 0.3, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(r.busy_ratio[1], 0.15, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(r.busy_ratio_max, 0.3, 1e-9);
	CU_ASSERT_EQUAL(r.lcore_ids[1], 2);
	/* Backwards (a restart) and same-time samples give no rate. */
	load_rates_between(&b, &a, &r);
	CU_ASSERT_FALSE(r.valid);
	sample(&a, 2000, 0, 0, 0);
	load_rates_between(&b, &a, &r);
	CU_ASSERT_FALSE(r.valid);
	/* No cycles counted: the ratio is unknown, not 0. */
	sample(&a, 1000, 0, 5, 5);
	sample(&b, 1500, 0, 5, 5);
	load_rates_between(&a, &b, &r);
	CU_ASSERT_TRUE(r.valid);
	CU_ASSERT(r.busy_ratio[0] < 0);
}

static void test_load_sampler(void)
{
	struct load_sampler s;
	struct load_sample x;
	struct load_rates r;

	load_sampler_init(&s, 5000 * 1000000ULL); /* 5 s window */
	load_sampler_rates(&s, &r);
	CU_ASSERT_FALSE(r.valid);
	/* 10 MB/s for 20 s, sampled every 250 ms. */
	for (uint64_t t = 0; t <= 20000; t += 250) {
		sample(&x, t, t * 10000, t, 3 * t);
		load_sampler_add(&s, &x);
	}
	CU_ASSERT(s.count <= LOAD_SAMPLES_MAX);
	load_sampler_rates(&s, &r);
	CU_ASSERT_TRUE(r.valid);
	CU_ASSERT_DOUBLE_EQUAL(r.tx_bits_per_s, 80e6, 1);
	CU_ASSERT(r.interval_s >= 5.0 && r.interval_s <= 5.5);
	CU_ASSERT_DOUBLE_EQUAL(r.busy_ratio[0], 0.25, 1e-9);
	/* Load stops: after a window the rate is 0. */
	for (uint64_t t = 20250; t <= 26000; t += 250) {
		sample(&x, t, 20000 * 10000, 20000, 3 * 20000 + (t - 20000));
		load_sampler_add(&s, &x);
	}
	load_sampler_rates(&s, &r);
	CU_ASSERT_DOUBLE_EQUAL(r.tx_bits_per_s, 0, 1);
	/* A restart (counters back to 0) starts over. */
	sample(&x, 26250, 0, 0, 0);
	load_sampler_add(&s, &x);
	load_sampler_rates(&s, &r);
	CU_ASSERT_FALSE(r.valid);
	sample(&x, 27250, 1250000, 10, 10);
	load_sampler_add(&s, &x);
	load_sampler_rates(&s, &r);
	CU_ASSERT_TRUE(r.valid);
	CU_ASSERT_DOUBLE_EQUAL(r.tx_bits_per_s, 10e6, 1);
	/* Fast ticks are thinned, not allowed to push the window out. */
	load_sampler_init(&s, 1000 * 1000000ULL);
	for (uint64_t t = 0; t <= 3000; t++) {
		sample(&x, t, t * 1000, 0, 0);
		load_sampler_add(&s, &x);
	}
	load_sampler_rates(&s, &r);
	CU_ASSERT_TRUE(r.valid);
	CU_ASSERT(r.interval_s >= 0.95 && r.interval_s <= 1.1);
	CU_ASSERT_DOUBLE_EQUAL(r.tx_bits_per_s, 8e6, 1);
}

void test_register(void)
{
	static const struct test_case cases[] = {
		{"hysteresis and dwell scenarios", test_admission_hysteresis},
		{"utilisation is the highest input", test_admission_utilisation},
		{"override, drain, data plane down, controller", test_admission_precedence},
		{"override expiry and history", test_admission_override_expiry},
		{"rates between samples", test_load_rates},
		{"sampler window", test_load_sampler},
		{NULL, NULL},
	};
	test_add_suite("control_admission", cases);
}
