/* SPDX-License-Identifier: BSD-3-Clause
 *
 * metrics.c: the Prometheus exposition (see metrics.h for the families and the histogram
 * naming convention).
 *
 * Control path, one scrape at a time; output is built in a growing buffer. Counter names
 * come from the stats segment, which another build may have written: a name with characters
 * Prometheus does not allow is skipped rather than emitted malformed.
 */
#include "metrics.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define METRICS_HISTOGRAMS_MAX 16
#define METRICS_BUCKETS_MAX 32
#define METRICS_NAME_MAX 128

void metrics_printf(struct metrics_buffer *out, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (out->error)
		return;
	for (;;) {
		size_t room = out->cap - out->len;

		va_start(ap, fmt);
		n = vsnprintf(out->data ? out->data + out->len : NULL, out->data ? room : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			out->error = -EINVAL;
			return;
		}
		if (out->data && (size_t)n < room) {
			out->len += (size_t)n;
			return;
		}
		size_t cap = out->cap ? out->cap * 2 : 16384;
		while (cap < out->len + (size_t)n + 1)
			cap *= 2;
		char *grown = realloc(out->data, cap);
		if (!grown) {
			out->error = -ENOMEM;
			return;
		}
		out->data = grown;
		out->cap = cap;
	}
}

static void metrics_family(struct metrics_buffer *out, const char *name, const char *type, const char *help)
{
	metrics_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Label values: backslash, double quote and newline escaped. */
static void metrics_escape(const char *in, char *out, size_t size)
{
	size_t o = 0;

	for (; *in && o + 3 < size; in++) {
		if (*in == '\\' || *in == '"') {
			out[o++] = '\\';
			out[o++] = *in;
		} else if (*in == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else {
			out[o++] = *in;
		}
	}
	out[o] = 0;
}

static void metrics_double(char *buf, size_t size, double v)
{
	if (isnan(v))
		snprintf(buf, size, "NaN");
	else if (isinf(v))
		snprintf(buf, size, v > 0 ? "+Inf" : "-Inf");
	else
		snprintf(buf, size, "%.15g", v);
}

static void metrics_sample_double(struct metrics_buffer *out, const char *name, const char *labels, double v)
{
	char text[48];

	metrics_double(text, sizeof(text), v);
	metrics_printf(out, "%s%s%s%s %s\n", name, labels ? "{" : "", labels ? labels : "", labels ? "}" : "", text);
}

static void metrics_sample_u64(struct metrics_buffer *out, const char *name, const char *labels, uint64_t v)
{
	metrics_printf(out, "%s%s%s%s %" PRIu64 "\n", name, labels ? "{" : "", labels ? labels : "", labels ? "}" : "",
		       v);
}

static bool metrics_valid_name(const char *name, size_t len)
{
	if (!len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') || name[i] == '_'))
			return false;
	return true;
}

/* The descriptor's name as a C string (names fill up to SLUICE_STATS_NAME_MAX bytes). */
static const char *metrics_counter_name(const struct stats_snapshot *s, uint32_t i, char *buf)
{
	size_t len = strnlen(s->descriptors[i].name, SLUICE_STATS_NAME_MAX);

	memcpy(buf, s->descriptors[i].name, len);
	buf[len] = 0;
	return metrics_valid_name(buf, len) ? buf : NULL;
}

int metrics_parse_bucket(const char *name, char *base, size_t base_size, double *bound, bool *is_time)
{
	const char *le = NULL, *p, *unit;
	char number[32], *end;
	double v, scale = 1;
	size_t digits;

	/* The last "_le_" in the name. */
	for (p = strstr(name, "_le_"); p; p = strstr(p + 1, "_le_"))
		le = p;
	if (!le || le == name || (size_t)(le - name) >= base_size)
		return -1;
	p = le + 4;
	*is_time = false;
	if (!strcmp(p, "inf")) {
		v = INFINITY;
	} else {
		/* A decimal point is written '_' in counter names: 0_5ms is 0.5 ms. */
		digits = strspn(p, "0123456789_");
		if (*p < '0' || *p > '9' || digits >= sizeof(number) || p[digits - 1] == '_')
			return -1;
		memcpy(number, p, digits);
		number[digits] = 0;
		if (strchr(number, '_') != strrchr(number, '_'))
			return -1;
		if (strchr(number, '_'))
			*strchr(number, '_') = '.';
		v = strtod(number, &end);
		if (*end)
			return -1;
		unit = p + digits;
		if (!strcmp(unit, "us")) {
			scale = 1e-6, *is_time = true;
		} else if (!strcmp(unit, "ms")) {
			scale = 1e-3, *is_time = true;
		} else if (!strcmp(unit, "s")) {
			*is_time = true;
		} else if (*unit) {
			return -1;
		}
		v *= scale;
	}
	memcpy(base, name, (size_t)(le - name));
	base[le - name] = 0;
	*bound = v;
	return 0;
}

struct metrics_histogram {
	char base[SLUICE_STATS_NAME_MAX];
	bool is_time;
	uint32_t count;
	double bounds[METRICS_BUCKETS_MAX];
	uint64_t values[METRICS_BUCKETS_MAX];
	bool has_sum;
	double sum;
};

static void metrics_histograms(struct metrics_buffer *out, const struct stats_snapshot *s)
{
	struct metrics_histogram *h = calloc(METRICS_HISTOGRAMS_MAX, sizeof(*h));
	uint32_t n = 0;
	char name[SLUICE_STATS_NAME_MAX + 1];

	if (!h) {
		out->error = -ENOMEM;
		return;
	}
	for (uint32_t i = 0; i < s->counter_count; i++) {
		char base[SLUICE_STATS_NAME_MAX];
		double bound;
		bool is_time;
		uint32_t k;

		if (!metrics_counter_name(s, i, name) || metrics_parse_bucket(name, base, sizeof(base), &bound, &is_time))
			continue;
		for (k = 0; k < n && strcmp(h[k].base, base); k++)
			;
		if (k == n) {
			if (n == METRICS_HISTOGRAMS_MAX)
				continue;
			snprintf(h[n].base, sizeof(h[n].base), "%s", base);
			n++;
		}
		if (h[k].count == METRICS_BUCKETS_MAX)
			continue;
		h[k].is_time |= is_time;
		/* Insert sorted by bound. */
		uint32_t at = h[k].count;
		while (at && h[k].bounds[at - 1] > bound) {
			h[k].bounds[at] = h[k].bounds[at - 1];
			h[k].values[at] = h[k].values[at - 1];
			at--;
		}
		h[k].bounds[at] = bound;
		h[k].values[at] = s->totals[i];
		h[k].count++;
	}
	for (uint32_t k = 0; k < n; k++) {
		static const struct {
			const char *suffix;
			double scale;
		} sums[] = {{"_sum_us", 1e-6}, {"_sum_ms", 1e-3}, {"_sum_s", 1}, {"_sum", 1},
			    {"_us", 1e-6},     {"_ms", 1e-3},     {"_s", 1}};
		char family[METRICS_NAME_MAX], sample[METRICS_NAME_MAX + 16], labels[64];
		bool has_inf = h[k].count && isinf(h[k].bounds[h[k].count - 1]);
		uint64_t total = h[k].count ? h[k].values[h[k].count - 1] : 0;

		for (size_t u = 0; u < sizeof(sums) / sizeof(sums[0]); u++) {
			char sum_name[SLUICE_STATS_NAME_MAX * 2];
			int idx;

			if (!h[k].is_time && sums[u].scale != 1)
				continue;
			snprintf(sum_name, sizeof(sum_name), "%s%s", h[k].base, sums[u].suffix);
			idx = stats_snapshot_find(s, sum_name);
			if (idx >= 0) {
				h[k].has_sum = true;
				h[k].sum = (double)s->totals[idx] * sums[u].scale;
				break;
			}
		}
		snprintf(family, sizeof(family), "sluice_%s%s", h[k].base, h[k].is_time ? "_seconds" : "");
		metrics_family(out, family, "histogram", "from the data plane's cumulative bucket counters");
		snprintf(sample, sizeof(sample), "%s_bucket", family);
		for (uint32_t b = 0; b < h[k].count; b++) {
			char bound[48];

			metrics_double(bound, sizeof(bound), h[k].bounds[b]);
			snprintf(labels, sizeof(labels), "le=\"%s\"", bound);
			metrics_sample_u64(out, sample, labels, h[k].values[b]);
		}
		if (!has_inf)
			metrics_sample_u64(out, sample, "le=\"+Inf\"", total);
		snprintf(sample, sizeof(sample), "%s_count", family);
		metrics_sample_u64(out, sample, NULL, total);
		snprintf(sample, sizeof(sample), "%s_sum", family);
		metrics_sample_double(out, sample, NULL, h[k].has_sum ? h[k].sum : 0);
	}
	free(h);
}

static void metrics_total(struct metrics_buffer *out, const struct stats_snapshot *s, const char *counter,
			  const char *family, const char *help)
{
	if (stats_snapshot_find(s, counter) < 0)
		return;
	metrics_family(out, family, "counter", help);
	metrics_sample_u64(out, family, NULL, stats_snapshot_total(s, counter));
}

static void metrics_dataplane(struct metrics_buffer *out, const struct metrics_input *in)
{
	const struct stats_snapshot *s = in->snapshot;
	char name[SLUICE_STATS_NAME_MAX + 1], labels[96], family[METRICS_NAME_MAX];
	bool first;

	metrics_total(out, s, "tx_bytes", "sluice_tx_bytes_total", "bytes sent by the data plane (all lcores)");
	metrics_total(out, s, "rx_bytes", "sluice_rx_bytes_total", "bytes received by the data plane (all lcores)");
	metrics_total(out, s, "tx_packets", "sluice_tx_packets_total", "packets sent by the data plane");
	metrics_total(out, s, "rx_packets", "sluice_rx_packets_total", "packets received by the data plane");
	metrics_total(out, s, "http_requests", "sluice_http_requests_total", "HTTP requests parsed");
	first = true;
	for (const char *const *r = (const char *const[]){"completed", "failed", "timed_out", NULL}; *r; r++) {
		char counter[64];
		int idx;

		snprintf(counter, sizeof(counter), "tls_handshakes_%s", *r);
		idx = stats_snapshot_find(s, counter);
		if (idx < 0)
			continue;
		if (first)
			metrics_family(out, "sluice_tls_handshakes_total", "counter", "TLS handshakes by result");
		first = false;
		snprintf(labels, sizeof(labels), "result=\"%s\"", *r);
		metrics_sample_u64(out, "sluice_tls_handshakes_total", labels, s->totals[idx]);
	}
	if (first)
		metrics_total(out, s, "tls_handshakes", "sluice_tls_handshakes_total", "TLS handshakes completed");

	first = true;
	for (uint32_t i = 0; i < s->counter_count; i++) {
		const char *n = metrics_counter_name(s, i, name);

		if (!n || strncmp(n, "http_responses_", 15) || strlen(n) != 18 || n[15] < '1' || n[15] > '5' ||
		    strcmp(n + 16, "xx"))
			continue;
		if (first)
			metrics_family(out, "sluice_http_responses_total", "counter", "HTTP responses by status class");
		first = false;
		snprintf(labels, sizeof(labels), "code=\"%s\"", n + 15);
		metrics_sample_u64(out, "sluice_http_responses_total", labels, s->totals[i]);
	}

	first = true;
	for (uint32_t i = 0; i < s->counter_count; i++) {
		const char *n = metrics_counter_name(s, i, name);

		if (!n || strncmp(n, "tcp_conn_", 9) || s->descriptors[i].kind != SLUICE_STATS_GAUGE ||
		    !strcmp(n, "tcp_conn_active"))
			continue;
		if (first)
			metrics_family(out, "sluice_connections", "gauge", "TCP connections by state (all lcores)");
		first = false;
		snprintf(labels, sizeof(labels), "state=\"%s\"", n + 9);
		metrics_sample_u64(out, "sluice_connections", labels, s->totals[i]);
	}

	if (in->busy && in->busy->valid) {
		metrics_family(out, "sluice_lcore_busy_ratio", "gauge",
			       "share of an lcore's cycles spent on loop iterations that found work, since the last scrape");
		for (uint32_t l = 0; l < in->busy->lcore_count; l++) {
			if (in->busy->busy_ratio[l] < 0)
				continue;
			snprintf(labels, sizeof(labels), "lcore=\"%u\"", in->busy->lcore_ids[l]);
			metrics_sample_double(out, "sluice_lcore_busy_ratio", labels, in->busy->busy_ratio[l]);
		}
	}
	if (s->tsc_hz) {
		static const char *const kinds[2][3] = {
			{"busy_cycles", "sluice_lcore_busy_seconds_total", "time lcores spent on iterations that found work"},
			{"idle_cycles", "sluice_lcore_idle_seconds_total", "time lcores spent polling without work"},
		};

		for (int k = 0; k < 2; k++) {
			int idx = stats_snapshot_find(s, kinds[k][0]);

			if (idx < 0)
				continue;
			metrics_family(out, kinds[k][1], "counter", kinds[k][2]);
			for (uint32_t l = 0; l < s->lcore_count; l++) {
				snprintf(labels, sizeof(labels), "lcore=\"%u\"", s->lcore_ids[l]);
				metrics_sample_double(out, kinds[k][1], labels,
						      (double)s->values[(size_t)l * s->counter_count + (size_t)idx] /
							      (double)s->tsc_hz);
			}
		}
	}
	metrics_histograms(out, s);

	/* Every counter, by lcore. */
	for (uint32_t i = 0; i < s->counter_count; i++) {
		const char *n = metrics_counter_name(s, i, name);
		bool counter = s->descriptors[i].kind == SLUICE_STATS_COUNTER;
		char help[96];

		size_t len;
		bool micros;

		if (!n)
			continue;
		/* Counter names carry their unit (dataplane/counters.h); microseconds are exported in
		 * the base unit, seconds, as Prometheus wants. */
		len = strlen(n);
		micros = len > 3 && !strcmp(n + len - 3, "_us");
		snprintf(family, sizeof(family), "sluice_dp_%.*s%s%s", (int)(micros ? len - 3 : len), n,
			 micros ? "_seconds" : "", counter ? "_total" : "");
		snprintf(help, sizeof(help), "data-plane %s %s, per lcore", counter ? "counter" : "gauge", n);
		metrics_family(out, family, counter ? "counter" : "gauge", help);
		for (uint32_t l = 0; l < s->lcore_count; l++) {
			uint64_t v = s->values[(size_t)l * s->counter_count + i];

			snprintf(labels, sizeof(labels), "lcore=\"%u\"", s->lcore_ids[l]);
			if (micros)
				metrics_sample_double(out, family, labels, (double)v / 1e6);
			else
				metrics_sample_u64(out, family, labels, v);
		}
	}
}

static void metrics_steering(struct metrics_buffer *out, const struct metrics_input *in)
{
	char labels[96];

	metrics_family(out, "sluice_steer_loaded", "gauge", "1 when the steering program runs on the data plane's interface (maps open, steer_xdp attached)");
	metrics_sample_u64(out, "sluice_steer_loaded", NULL, in->steer_loaded);
	if (!in->steer_counters)
		return;
	metrics_family(out, "sluice_steer_packets_total", "counter", "frames the steering program classified, by reason");
	for (int i = 0; i < STEER_REASON_COUNT; i++) {
		snprintf(labels, sizeof(labels), "reason=\"%s\"", steer_counter_names[i]);
		metrics_sample_u64(out, "sluice_steer_packets_total", labels, in->steer_counters[i].packets);
	}
	metrics_family(out, "sluice_steer_bytes_total", "counter", "frame bytes the steering program classified, by reason");
	for (int i = 0; i < STEER_REASON_COUNT; i++) {
		snprintf(labels, sizeof(labels), "reason=\"%s\"", steer_counter_names[i]);
		metrics_sample_u64(out, "sluice_steer_bytes_total", labels, in->steer_counters[i].bytes);
	}
	metrics_family(out, "sluice_steer_verdicts_total", "counter", "frames by the steering program's verdict");
	for (int i = STEER_REASON_COUNT; i < STEER_COUNTER_COUNT; i++) {
		const char *name = steer_counter_names[i];

		if (!strncmp(name, "verdict_", 8))
			name += 8;
		snprintf(labels, sizeof(labels), "verdict=\"%s\"", name);
		metrics_sample_u64(out, "sluice_steer_verdicts_total", labels, in->steer_counters[i].packets);
	}
}

static void metrics_control(struct metrics_buffer *out, const struct metrics_input *in)
{
	const struct admission *a = in->admission;
	char labels[128];

	if (a) {
		metrics_family(out, "sluice_admission_state", "gauge",
			       "1 for the admission state in force (new connections: open, draining, closed)");
		for (int st = 0; st < ADMISSION_STATE_COUNT; st++) {
			snprintf(labels, sizeof(labels), "state=\"%s\"", admission_state_name((enum admission_state)st));
			metrics_sample_u64(out, "sluice_admission_state", labels, a->effective == (enum admission_state)st);
		}
		metrics_family(out, "sluice_admission_source", "gauge", "1 for what decides the admission state now");
		for (int src = ADMISSION_SOURCE_CONTROLLER; src <= ADMISSION_SOURCE_DATAPLANE_DOWN; src++) {
			snprintf(labels, sizeof(labels), "source=\"%s\"", admission_source_name((enum admission_source)src));
			metrics_sample_u64(out, "sluice_admission_source", labels,
					   a->effective_source == (enum admission_source)src);
		}
		metrics_family(out, "sluice_admission_utilisation", "gauge",
			       "the controller's utilisation: the highest of its input ratios");
		metrics_sample_double(out, "sluice_admission_utilisation", NULL, a->utilisation);
		metrics_family(out, "sluice_admission_input_ratio", "gauge", "each load input against its limit");
		for (int i = 0; i < ADMISSION_INPUT_COUNT; i++) {
			if (a->inputs[i] < 0)
				continue;
			snprintf(labels, sizeof(labels), "input=\"%s\"", admission_input_name((enum admission_input)i));
			metrics_sample_double(out, "sluice_admission_input_ratio", labels, a->inputs[i]);
		}
		metrics_family(out, "sluice_admission_transitions_total", "counter", "changes of the admission state");
		metrics_sample_u64(out, "sluice_admission_transitions_total", NULL, a->transitions);
		metrics_family(out, "sluice_admission_override", "gauge", "1 while an operator override is in force");
		metrics_sample_u64(out, "sluice_admission_override", NULL, a->override_active);
	}
	metrics_family(out, "sluice_report_sent_total", "counter", "health reports the backend accepted");
	metrics_sample_u64(out, "sluice_report_sent_total", NULL, in->report_sent);
	metrics_family(out, "sluice_report_failures_total", "counter", "health report attempts that failed");
	metrics_sample_u64(out, "sluice_report_failures_total", NULL, in->report_failures);
	metrics_family(out, "sluice_report_last_success_timestamp_seconds", "gauge",
		       "when the backend last accepted a report (0: never)");
	metrics_sample_double(out, "sluice_report_last_success_timestamp_seconds", NULL, in->report_last_success_s);
	metrics_family(out, "sluice_etcd_registered", "gauge", "1 while the edge's key is held under a live etcd lease");
	metrics_sample_u64(out, "sluice_etcd_registered", NULL, in->etcd_registered);
	metrics_family(out, "sluice_fill_jobs_active", "gauge", "fill jobs running");
	metrics_sample_u64(out, "sluice_fill_jobs_active", NULL, in->fill_jobs_active);
	metrics_family(out, "sluice_fill_files_total", "counter", "fill files finished, by result");
	metrics_sample_u64(out, "sluice_fill_files_total", "result=\"done\"", in->fill_files_done);
	metrics_sample_u64(out, "sluice_fill_files_total", "result=\"failed\"", in->fill_files_failed);
	metrics_sample_u64(out, "sluice_fill_files_total", "result=\"present\"", in->fill_files_present);
	metrics_family(out, "sluice_fill_bytes_total", "counter", "bytes downloaded from origins");
	metrics_sample_u64(out, "sluice_fill_bytes_total", NULL, in->fill_bytes);
	metrics_family(out, "sluice_accesslog_records_total", "counter", "access log records written");
	metrics_sample_u64(out, "sluice_accesslog_records_total", NULL, in->accesslog_records);
	metrics_family(out, "sluice_accesslog_dropped_total", "counter",
		       "access log records the data plane dropped because a ring was full");
	metrics_sample_u64(out, "sluice_accesslog_dropped_total", NULL, in->accesslog_dropped);
}

int metrics_format(const struct metrics_input *in, struct metrics_buffer *out)
{
	char version[96], edge[160], labels[300];

	metrics_escape(in->version ? in->version : "", version, sizeof(version));
	metrics_escape(in->edge_id ? in->edge_id : "", edge, sizeof(edge));
	snprintf(labels, sizeof(labels), "version=\"%s\",edge_id=\"%s\"", version, edge);
	metrics_family(out, "sluice_control_info", "gauge", "sluice-control build and edge id");
	metrics_sample_u64(out, "sluice_control_info", labels, 1);
	metrics_family(out, "sluice_dataplane_up", "gauge", "1 when the data plane runs (fresh heartbeat)");
	metrics_sample_u64(out, "sluice_dataplane_up", NULL, in->dataplane_up);
	metrics_family(out, "sluice_dataplane_restarts_total", "counter",
		       "data plane restarts seen by this control plane");
	metrics_sample_u64(out, "sluice_dataplane_restarts_total", NULL, in->dataplane_restarts);
	if (in->snapshot) {
		metrics_family(out, "sluice_dataplane_heartbeat_age_seconds", "gauge",
			       "age of the data plane's last stats publish");
		metrics_sample_double(out, "sluice_dataplane_heartbeat_age_seconds", NULL, in->heartbeat_age_s);
		metrics_family(out, "sluice_dataplane_start_time_seconds", "gauge",
			       "when the data plane now in the stats segment started (Unix time)");
		metrics_sample_double(out, "sluice_dataplane_start_time_seconds", NULL,
				      (double)in->snapshot->start_time_ns / 1e9);
		metrics_dataplane(out, in);
	}
	metrics_steering(out, in);
	metrics_control(out, in);
	return out->error;
}
