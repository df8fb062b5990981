/* SPDX-License-Identifier: BSD-3-Clause
 *
 * metrics.h: the Prometheus text exposition (format 0.0.4) served at GET /metrics.
 *
 * metrics_format() is a pure function of a struct metrics_input (a stats snapshot, the
 * steering counters, the control plane's own state), so the unit tests check exact lines.
 * Names follow Prometheus conventions: base units (seconds, bytes), counters end in _total,
 * ratios are 0..1, enumerations are one gauge per state with value 1 for the current one.
 *
 * Families (all prefixed sluice_):
 *   dataplane_up, dataplane_restarts_total, dataplane_heartbeat_age_seconds,
 *   dataplane_start_time_seconds, control_info{version,edge_id}
 *   tx_bytes_total, rx_bytes_total, tx_packets_total, rx_packets_total  (all lcores)
 *   http_requests_total, http_responses_total{code="2xx"...}  (from http_responses_Nxx)
 *   connections{state}  (from the tcp_conn_<state> gauges, tcp_conn_active excluded)
 *   tls_handshakes_total{result}  (completed, failed, timed_out: from the data plane's
 *                                  tls_handshakes_<result> counters, once it has them)
 *   lcore_busy_ratio{lcore}, lcore_busy_seconds_total{lcore}, lcore_idle_seconds_total{lcore}
 *   <histograms>_seconds  (see below)
 *   steer_loaded, steer_packets_total{reason}, steer_bytes_total{reason},
 *   steer_verdicts_total{verdict}
 *   admission_state{state}, admission_source{source}, admission_utilisation,
 *   admission_input_ratio{input}, admission_transitions_total, admission_override
 *   report_sent_total, report_failures_total, report_last_success_timestamp_seconds,
 *   etcd_registered, fill_jobs_active, fill_files_total{result}, fill_bytes_total,
 *   accesslog_records_total, accesslog_dropped_total
 *   dp_<counter>{lcore}  every data-plane counter, by lcore (counters get _total), so nothing
 *                        the data plane counts is hidden, including counters added later.
 *
 * Histograms from counter names: the data plane publishes a histogram as one counter per
 * bucket, "<base>_le_<bound><unit>" with unit us, ms or s (or none; a decimal point is written
 * '_': 0_5ms), and "<base>_le_inf", with Prometheus semantics: a bucket counts every
 * observation <= its bound (cumulative), so le_inf is the number of observations. The sum of
 * the observations is "<base>_sum_<unit>" or "<base>_<unit>". That becomes
 * sluice_<base>_seconds (time units converted to seconds) with _bucket{le}, _count and _sum,
 * e.g. store_pagein_le_100us ... store_pagein_le_inf, store_pagein_sum_us ->
 * sluice_store_pagein_seconds. Without an le_inf counter, +Inf and _count repeat the largest
 * bucket (observations above it are not known).
 */
#ifndef SLUICE_CONTROL_METRICS_H
#define SLUICE_CONTROL_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "admission.h"
#include "load.h"
#include "stats_read.h"
#include "steer_maps.h"

struct metrics_input {
	const char *version;
	const char *edge_id;

	/* Data plane. snapshot NULL: no stats segment (never started, or unreadable). */
	const struct stats_snapshot *snapshot;
	bool dataplane_up;
	uint32_t dataplane_restarts;
	double heartbeat_age_s;
	/* Busy ratio per lcore between the previous scrape and this one (or the sampler's
	 * window when there is no previous scrape); NULL or !valid: not shown. */
	const struct load_rates *busy;

	/* Steering program: loaded = maps open and steer_xdp attached to the data plane's
	 * interface; counters NULL when the maps are not open. */
	bool steer_loaded;
	const struct steer_counter_value *steer_counters;

	/* Control plane. */
	const struct admission *admission;
	uint64_t report_sent, report_failures;
	double report_last_success_s;      /* 0: never */
	bool etcd_registered;
	uint32_t fill_jobs_active;
	uint64_t fill_files_done, fill_files_failed, fill_files_present, fill_bytes;
	uint64_t accesslog_records, accesslog_dropped;
};

struct metrics_buffer {
	char *data;
	size_t len;
	size_t cap;
	int error;                         /* -ENOMEM once an append failed */
};

/* Appends the exposition to out (which starts zeroed; free(out->data) after). Returns 0 or
 * -ENOMEM. */
int metrics_format(const struct metrics_input *in, struct metrics_buffer *out);

/* Appends one line; printf-style. For tests and the formatter. */
void metrics_printf(struct metrics_buffer *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Parses a histogram bucket counter name: 0 with the base, the bound in seconds (or the unit-less
 * bound) and whether it was time, or -1 (not a bucket name). "_le_inf" gives +INFINITY. */
int metrics_parse_bucket(const char *name, char *base, size_t base_size, double *bound, bool *is_time);

#endif /* SLUICE_CONTROL_METRICS_H */
