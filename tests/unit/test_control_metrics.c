/* SPDX-License-Identifier: BSD-3-Clause
 *
 * test_control_metrics.c: the Prometheus formatter (control/metrics.c) on a made-up stats
 * snapshot: a table of exact lines the scrape must contain, a table of bucket names, and a
 * checker of the exposition grammar (every sample under a TYPE line of its family, valid
 * names and labels, no series twice).
 */
#include <math.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "test_main.h"

static const struct {
	const char *name;
	uint32_t kind;
	uint64_t lcore[2];
} fake_counters[] = {
	{"busy_cycles", SLUICE_STATS_COUNTER, {3000000000ULL, 1000000000ULL}},
	{"idle_cycles", SLUICE_STATS_COUNTER, {1000000000ULL, 3000000000ULL}},
	{"tx_bytes", SLUICE_STATS_COUNTER, {1000, 2000}},
	{"rx_bytes", SLUICE_STATS_COUNTER, {10, 20}},
	{"tx_packets", SLUICE_STATS_COUNTER, {5, 6}},
	{"http_requests", SLUICE_STATS_COUNTER, {7, 8}},
	{"http_responses_2xx", SLUICE_STATS_COUNTER, {6, 7}},
	{"http_responses_4xx", SLUICE_STATS_COUNTER, {1, 0}},
	{"http_responses_404", SLUICE_STATS_COUNTER, {1, 0}},
	{"tcp_conn_active", SLUICE_STATS_GAUGE, {3, 4}},
	{"tcp_conn_established", SLUICE_STATS_GAUGE, {2, 3}},
	{"tcp_conn_time_wait", SLUICE_STATS_GAUGE, {1, 1}},
	{"tcp_conn_opened", SLUICE_STATS_COUNTER, {9, 9}},
	{"tls_handshakes_completed", SLUICE_STATS_COUNTER, {4, 2}},
	{"tls_handshakes_failed", SLUICE_STATS_COUNTER, {1, 0}},
	{"tls_handshakes_resumed", SLUICE_STATS_COUNTER, {2, 0}},
	/* cumulative buckets, in no particular order */
	{"store_pagein_le_1ms", SLUICE_STATS_COUNTER, {15, 11}},
	{"store_pagein_le_100us", SLUICE_STATS_COUNTER, {10, 10}},
	{"store_pagein_le_0_5s", SLUICE_STATS_COUNTER, {17, 11}},
	{"store_pagein_le_inf", SLUICE_STATS_COUNTER, {18, 11}},
	{"store_pagein_sum_us", SLUICE_STATS_COUNTER, {1500000, 500000}},
	{"queue_depth_le_8", SLUICE_STATS_COUNTER, {3, 3}},
	{"queue_depth_le_64", SLUICE_STATS_COUNTER, {4, 4}},
	{"queue_wait_le_1ms", SLUICE_STATS_COUNTER, {1, 1}},
	{"queue_wait_le_1s", SLUICE_STATS_COUNTER, {2, 2}},
	{"queue_wait_us", SLUICE_STATS_COUNTER, {1500000, 500000}},
	{"Bad-Name", SLUICE_STATS_COUNTER, {1, 1}},
	{"admission_state", SLUICE_STATS_GAUGE, {0, 0}},
};
#define FAKE_COUNT (sizeof(fake_counters) / sizeof(fake_counters[0]))

static struct sluice_stats_descriptor fake_descriptors[FAKE_COUNT];
static uint64_t fake_values[2 * FAKE_COUNT], fake_totals[FAKE_COUNT];

static void fake_snapshot(struct stats_snapshot *s)
{
	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < FAKE_COUNT; i++) {
		memset(&fake_descriptors[i], 0, sizeof(fake_descriptors[i]));
		snprintf(fake_descriptors[i].name, sizeof(fake_descriptors[i].name), "%s", fake_counters[i].name);
		fake_descriptors[i].kind = fake_counters[i].kind;
		fake_values[i] = fake_counters[i].lcore[0];
		fake_values[FAKE_COUNT + i] = fake_counters[i].lcore[1];
		fake_totals[i] = fake_counters[i].lcore[0] + fake_counters[i].lcore[1];
	}
	s->counter_count = FAKE_COUNT;
	s->lcore_count = 2;
	s->descriptors = fake_descriptors;
	s->values = fake_values;
	s->totals = fake_totals;
	s->lcore_ids[0] = 1;
	s->lcore_ids[1] = 3;
	s->tsc_hz = 2000000000ULL;
	s->start_time_ns = 1700000000500000000ULL;
	s->pid = 42;
}

/* Every line of the exposition, checked against the grammar; families need a TYPE first. */
static void check_grammar(const char *text)
{
	regex_t sample_re, comment_re;
	char *copy = strdup(text), *save = NULL, *line;
	char types[512][128];
	char *series[2048];
	size_t type_count = 0, series_count = 0, line_no = 0;

	CU_ASSERT_FATAL(!regcomp(&sample_re,
				 "^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{[a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\]|\\\\.)*\""
				 "(,[a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\]|\\\\.)*\")*\\})? "
				 "(-?[0-9]+(\\.[0-9]+)?(e[-+]?[0-9]+)?|\\+Inf|-Inf|NaN)$",
				 REG_EXTENDED));
	CU_ASSERT_FATAL(!regcomp(&comment_re, "^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+$", REG_EXTENDED));
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		line_no++;
		if (line[0] == '#') {
			TEST_CHECK(!regexec(&comment_re, line, 0, NULL, 0), "line %zu: bad comment '%s'", line_no, line);
			if (!strncmp(line, "# TYPE ", 7) && type_count < 512) {
				sscanf(line + 7, "%127s", types[type_count]);
				for (size_t t = 0; t < type_count; t++)
					TEST_CHECK(strcmp(types[t], types[type_count]), "family %s typed twice", types[t]);
				type_count++;
			}
			continue;
		}
		TEST_CHECK(!regexec(&sample_re, line, 0, NULL, 0), "line %zu: bad sample '%s'", line_no, line);
		{
			char name[160];
			bool typed = false;
			size_t n = strcspn(line, "{ ");

			snprintf(name, sizeof(name), "%.*s", (int)n, line);
			for (size_t t = 0; t < type_count; t++) {
				size_t fl = strlen(types[t]);

				if (!strncmp(name, types[t], fl) &&
				    (!name[fl] || !strcmp(name + fl, "_bucket") || !strcmp(name + fl, "_count") ||
				     !strcmp(name + fl, "_sum")))
					typed = true;
			}
			TEST_CHECK(typed, "line %zu: sample %s has no TYPE before it", line_no, name);
		}
		{
			size_t key_len = strrchr(line, ' ') - line;

			for (size_t k = 0; k < series_count; k++)
				TEST_CHECK(strlen(series[k]) != key_len || strncmp(series[k], line, key_len),
					   "line %zu: series %.*s twice", line_no, (int)key_len, line);
			if (series_count < 2048)
				series[series_count++] = strndup(line, key_len);
		}
	}
	for (size_t k = 0; k < series_count; k++)
		free(series[k]);
	regfree(&sample_re);
	regfree(&comment_re);
	free(copy);
}

static const char *const expected_lines[] = {
	"sluice_control_info{version=\"1.2.3\",edge_id=\"edge \\\"4\\\"\"} 1",
	"sluice_dataplane_up 1",
	"sluice_dataplane_restarts_total 2",
	"sluice_dataplane_heartbeat_age_seconds 0.25",
	"sluice_dataplane_start_time_seconds 1700000000.5",
	"# TYPE sluice_tx_bytes_total counter",
	"sluice_tx_bytes_total 3000",
	"sluice_rx_bytes_total 30",
	"sluice_tx_packets_total 11",
	"sluice_http_requests_total 15",
	"sluice_tls_handshakes_total{result=\"completed\"} 6",
	"sluice_tls_handshakes_total{result=\"failed\"} 1",
	"sluice_http_responses_total{code=\"2xx\"} 13",
	"sluice_http_responses_total{code=\"4xx\"} 1",
	"# TYPE sluice_connections gauge",
	"sluice_connections{state=\"established\"} 5",
	"sluice_connections{state=\"time_wait\"} 2",
	"sluice_lcore_busy_ratio{lcore=\"1\"} 0.75",
	"sluice_lcore_busy_ratio{lcore=\"3\"} 0.25",
	"sluice_lcore_busy_seconds_total{lcore=\"1\"} 1.5",
	"sluice_lcore_idle_seconds_total{lcore=\"3\"} 1.5",
	"# TYPE sluice_store_pagein_seconds histogram",
	"sluice_store_pagein_seconds_bucket{le=\"0.0001\"} 20",
	"sluice_store_pagein_seconds_bucket{le=\"0.001\"} 26",
	"sluice_store_pagein_seconds_bucket{le=\"0.5\"} 28",
	"sluice_store_pagein_seconds_bucket{le=\"+Inf\"} 29",
	"sluice_store_pagein_seconds_count 29",
	"sluice_store_pagein_seconds_sum 2",
	"# TYPE sluice_queue_depth histogram",
	"sluice_queue_depth_bucket{le=\"8\"} 6",
	"sluice_queue_depth_bucket{le=\"64\"} 8",
	"sluice_queue_depth_bucket{le=\"+Inf\"} 8",
	"sluice_queue_depth_count 8",
	"sluice_queue_depth_sum 0",
	"sluice_queue_wait_seconds_bucket{le=\"0.001\"} 2",
	"sluice_queue_wait_seconds_bucket{le=\"1\"} 4",
	"sluice_queue_wait_seconds_bucket{le=\"+Inf\"} 4",
	"sluice_queue_wait_seconds_sum 2",
	"# TYPE sluice_dp_tx_bytes_total counter",
	"sluice_dp_tx_bytes_total{lcore=\"1\"} 1000",
	"sluice_dp_tx_bytes_total{lcore=\"3\"} 2000",
	"# TYPE sluice_dp_tcp_conn_active gauge",
	"sluice_dp_tcp_conn_active{lcore=\"3\"} 4",
	"sluice_dp_http_responses_404_total{lcore=\"1\"} 1",
	/* microsecond counters in seconds (counter names carry their unit) */
	"# TYPE sluice_dp_store_pagein_sum_seconds_total counter",
	"sluice_dp_store_pagein_sum_seconds_total{lcore=\"1\"} 1.5",
	"sluice_dp_queue_wait_seconds_total{lcore=\"3\"} 0.5",
	"sluice_steer_loaded 1",
	"sluice_steer_packets_total{reason=\"redirect_syn\"} 12",
	"sluice_steer_bytes_total{reason=\"redirect_syn\"} 1200",
	"sluice_steer_packets_total{reason=\"refuse_closed\"} 3",
	"sluice_steer_verdicts_total{verdict=\"redirect\"} 100",
	"sluice_steer_verdicts_total{verdict=\"no_socket\"} 0",
	"sluice_admission_state{state=\"open\"} 0",
	"sluice_admission_state{state=\"closed\"} 1",
	"sluice_admission_source{source=\"controller\"} 1",
	"sluice_admission_utilisation 1.25",
	"sluice_admission_input_ratio{input=\"throughput\"} 1.25",
	"sluice_admission_transitions_total 1",
	"sluice_admission_override 0",
	"sluice_report_sent_total 10",
	"sluice_report_failures_total 1",
	"sluice_etcd_registered 1",
	"sluice_fill_files_total{result=\"failed\"} 2",
	"sluice_accesslog_dropped_total 4",
	NULL,
};

static const char *const absent_lines[] = {
	"sluice_tls_handshakes_total{result=\"timed_out\"}", "sluice_tls_handshakes_total 8",
	"Bad-Name", "sluice_connections{state=\"active\"}", "sluice_http_responses_total{code=\"404\"}",
	"sluice_admission_input_ratio{input=\"connections\"}", NULL,
};

static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)); p++)
		if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == 0))
			return true;
	return false;
}

static void test_metrics_scrape(void)
{
	struct stats_snapshot snap;
	struct load_rates busy = {.valid = true, .lcore_count = 2, .lcore_ids = {1, 3}, .busy_ratio = {0.75, 0.25}};
	struct steer_counter_value steer[STEER_COUNTER_COUNT];
	struct admission_policy policy = {0.9, 0.6, 0};
	struct admission adm;
	struct metrics_buffer out = {0};
	struct metrics_input in;
	double inputs[ADMISSION_INPUT_COUNT] = {1.25, -1, 0.5, -1};

	fake_snapshot(&snap);
	memset(steer, 0, sizeof(steer));
	steer[STEER_REDIRECT_SYN] = (struct steer_counter_value){12, 1200};
	steer[STEER_REFUSE_CLOSED] = (struct steer_counter_value){3, 180};
	steer[STEER_VERDICT_REDIRECT] = (struct steer_counter_value){100, 10000};
	admission_init(&adm, &policy);
	admission_update(&adm, inputs, 1);
	admission_effective(&adm, 1000);
	memset(&in, 0, sizeof(in));
	in.version = "1.2.3";
	in.edge_id = "edge \"4\"";
	in.snapshot = &snap;
	in.dataplane_up = true;
	in.dataplane_restarts = 2;
	in.heartbeat_age_s = 0.25;
	in.busy = &busy;
	in.steer_loaded = true;
	in.steer_counters = steer;
	in.admission = &adm;
	in.report_sent = 10;
	in.report_failures = 1;
	in.etcd_registered = true;
	in.fill_files_failed = 2;
	in.accesslog_dropped = 4;
	CU_ASSERT_EQUAL_FATAL(metrics_format(&in, &out), 0);
	for (const char *const *l = expected_lines; *l; l++)
		TEST_CHECK(has_line(out.data, *l), "scrape lacks the line: %s", *l);
	for (const char *const *l = absent_lines; *l; l++)
		TEST_CHECK(!strstr(out.data, *l), "scrape has: %s", *l);
	check_grammar(out.data);
	free(out.data);
}

static void test_metrics_no_dataplane(void)
{
	struct metrics_buffer out = {0};
	struct metrics_input in;

	memset(&in, 0, sizeof(in));
	in.version = "1";
	in.edge_id = "e";
	CU_ASSERT_EQUAL_FATAL(metrics_format(&in, &out), 0);
	CU_ASSERT_TRUE(has_line(out.data, "sluice_dataplane_up 0"));
	CU_ASSERT_TRUE(has_line(out.data, "sluice_steer_loaded 0"));
	CU_ASSERT_PTR_NULL(strstr(out.data, "sluice_tx_bytes_total"));
	CU_ASSERT_PTR_NULL(strstr(out.data, "sluice_steer_packets_total"));
	check_grammar(out.data);
	free(out.data);
}

struct bucket_case {
	const char *name;
	int rc;
	const char *base;
	double bound;
	bool is_time;
};

static void test_metrics_bucket_names(void)
{
	static const struct bucket_case cases[] = {
		{"store_pagein_le_100us", 0, "store_pagein", 1e-4, true},
		{"store_pagein_le_1ms", 0, "store_pagein", 1e-3, true},
		{"store_pagein_le_2s", 0, "store_pagein", 2, true},
		{"store_pagein_le_0_25ms", 0, "store_pagein", 2.5e-4, true},
		{"store_pagein_le_inf", 0, "store_pagein", INFINITY, false},
		{"queue_le_16", 0, "queue", 16, false},
		{"a_le_b_le_5", 0, "a_le_b", 5, false},
		{"store_pagein_le_", -1, NULL, 0, false},
		{"store_pagein_le_5xs", -1, NULL, 0, false},
		{"store_pagein_le_1_", -1, NULL, 0, false},
		{"store_pagein_le_1_2_3ms", -1, NULL, 0, false},
		{"store_pagein_le_ms", -1, NULL, 0, false},
		{"_le_5", -1, NULL, 0, false},
		{"tx_bytes", -1, NULL, 0, false},
		{NULL, 0, NULL, 0, false},
	};

	for (const struct bucket_case *c = cases; c->name; c++) {
		char base[64] = "";
		double bound = 0;
		bool is_time = false;
		int rc = metrics_parse_bucket(c->name, base, sizeof(base), &bound, &is_time);

		TEST_CHECK(rc == c->rc, "%s: rc %d", c->name, rc);
		if (!rc && !c->rc)
			TEST_CHECK(!strcmp(base, c->base) && is_time == c->is_time &&
					   (isinf(c->bound) ? isinf(bound) : fabs(bound - c->bound) < 1e-12),
				   "%s: base %s bound %g time %d", c->name, base, bound, is_time);
	}
}

void test_register(void)
{
	static const struct test_case cases[] = {
		{"scrape lines and grammar", test_metrics_scrape},
		{"no data plane", test_metrics_no_dataplane},
		{"histogram bucket names", test_metrics_bucket_names},
		{NULL, NULL},
	};
	test_add_suite("control_metrics", cases);
}
