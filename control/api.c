/* SPDX-License-Identifier: BSD-3-Clause
 *
 * api.c: the REST handlers of sluice-control and its route table (the table must match
 * control/openapi.json operation for operation; the daemon refuses to start otherwise and a
 * unit test checks it). Also the JSON bodies of health, the backend report and the etcd value.
 *
 * Handlers get bodies and parameters already validated against the document (rest.h); what
 * they check is meaning: an address that parses, a key id that exists, a drain to cancel. A
 * refused request changes nothing: every handler validates first, then changes state, then
 * persists (state.h) before it answers.
 *
 * Changes that reach the data plane go through control_push (control.c) under
 * ctl->apply_lock and are answered by outcome:
 *   applied 200/201;  data plane down or silent 202 (kept and applied when it returns);
 *   not implemented by the data plane 501 (its message; nothing kept);  refused 422 (-EINVAL)
 *   or 502 (anything else), with the data plane's message, nothing kept.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "control.h"
#include "log.h"
#include "metrics.h"
#include "openapi_doc.h"

#define API_MAX_BODY 65536
#define API_MAX_MANIFEST (64u << 20)

static int64_t api_now_s(void)
{
	return (int64_t)time(NULL);
}

static json_t *api_time(int64_t seconds)
{
	char text[40];
	time_t t = (time_t)seconds;
	struct tm tm;

	if (!seconds)
		return json_null();
	gmtime_r(&t, &tm);
	strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(text);
}

static const char *api_push_name(enum control_push outcome)
{
	static const char *const names[] = {"applied", "pending", "not_implemented", "refused"};

	return names[outcome];
}

/* The HTTP answer for a push outcome that is not "applied" or "pending". */
static void api_push_error(struct rest_response *resp, enum control_push outcome, int status, const char *message)
{
	if (outcome == CONTROL_PUSH_UNSUPPORTED)
		rest_error(resp, 501, "not_implemented", "the data plane does not implement this command yet: %s", message);
	else if (status == -EINVAL)
		rest_error(resp, 422, "invalid_value", "the data plane refused it: %s", message);
	else
		rest_error(resp, 502, "dataplane_refused", "the data plane refused it: %s", message);
}

static json_t *api_push_json(const struct control_push_status *p)
{
	if (!p->known)
		return json_null();
	return json_pack("{s:s, s:i, s:s}", "outcome", api_push_name(p->outcome), "status", p->status, "message",
			 p->message);
}

/* --- Health ------------------------------------------------------------------------------------- */

static const char *api_dplink_state_name(enum dplink_state state)
{
	return state == DPLINK_UP ? "up" : state == DPLINK_DOWN ? "down" : "unknown";
}

static const char *api_drain_state(const struct control *ctl)
{
	if (!ctl->admission.drain_active)
		return NULL;
	return ctl->connections == 0 || ctl->link_info.state != DPLINK_UP ? "drained" : "draining";
}

/* Caller holds ctl->lock. */
static json_t *api_health_locked(struct control *ctl, const struct report_status *rs, const struct etcd_status *es,
				 const struct fill_stats *fs, unsigned *http_status)
{
	const struct dplink_info *li = &ctl->link_info;
	json_t *reasons = json_array(), *o;
	const char *status = "ok", *drain = api_drain_state(ctl);
	bool steering_expected = ctl->cfg.dataplane.port_xdp_prog[0] != 0;
	bool steering_loaded = ctl->steer_info.maps_open && (ctl->steer_info.attached || !ctl->steer_info.iface[0]);

	if (li->state != DPLINK_UP) {
		status = "down";
		json_array_append_new(reasons, json_sprintf("data plane %s: %s", api_dplink_state_name(li->state), li->reason));
	} else if (ctl->applied_incarnation != li->incarnation) {
		json_array_append_new(reasons, json_string("state not yet applied to the data plane"));
	}
	if (ctl->admission.effective != ADMISSION_OPEN)
		json_array_append_new(reasons, json_sprintf("admission %s (%s)", admission_state_name(ctl->admission.effective),
							    admission_source_name(ctl->admission.effective_source)));
	if (!ctl->steer_info.maps_open)
		json_array_append_new(reasons, json_sprintf("steering program not loaded: %s", ctl->steer_info.error));
	else if (!steering_loaded)
		json_array_append_new(reasons, json_sprintf("steering program not loaded: maps are pinned in %s but no "
							    "steer_xdp is attached to %s", ctl->steer_info.pin_dir,
							    ctl->steer_info.iface));
	for (int k = 0; k < CONTROL_PUSHED_COUNT; k++)
		if (ctl->pushed[k].known && ctl->pushed[k].outcome == CONTROL_PUSH_REFUSED)
			json_array_append_new(reasons, json_sprintf("the data plane refused a command: %s", ctl->pushed[k].message));
	if (rs->enabled && rs->consecutive_failures)
		json_array_append_new(reasons, json_sprintf("health reports failing: %s", rs->last_error));
	if (es->enabled && !es->registered)
		json_array_append_new(reasons, json_sprintf("not registered in etcd: %s", es->last_error));
	if (ctl->state_error[0])
		json_array_append_new(reasons, json_sprintf("state file: %s", ctl->state_error));
	if (ctl->tokens_error[0])
		json_array_append_new(reasons, json_sprintf("token file: %s", ctl->tokens_error));
	if (!strcmp(status, "ok") && json_array_size(reasons)) {
		/* Steering simply not being used is not degradation. */
		bool only_unused_steering = json_array_size(reasons) == 1 && !steering_loaded && !steering_expected;

		if (!only_unused_steering)
			status = "degraded";
	}
	o = json_pack("{s:s, s:o, s:s, s:s, s:o, s:I}", "status", status, "reasons", reasons, "edge_id", ctl->edge_id,
		      "version", SLUICE_VERSION, "time", api_time(api_now_s()), "uptime_s",
		      (json_int_t)(api_now_s() - ctl->started_s));
	json_object_set_new(
		o, "dataplane",
		json_pack("{s:s, s:b, s:i, s:i, s:o, s:o, s:I, s:s, s:i, s:s, s:b, s:I, s:I}", "state",
			  api_dplink_state_name(li->state), "restarted", li->restarts > 0 && li->state == DPLINK_UP,
			  "restarts", (int)li->restarts, "pid", li->pid, "started",
			  api_time((int64_t)(li->start_time_ns / 1000000000ULL)), "since", api_time(li->since_s),
			  "heartbeat_age_ms", (json_int_t)(li->heartbeat_age_ns / 1000000ULL), "version", li->version,
			  "lcores", (int)li->lcore_count, "reason", li->reason, "state_applied",
			  li->state == DPLINK_UP && ctl->applied_incarnation == li->incarnation, "catalog_version",
			  (json_int_t)ctl->dp_catalog_version, "connections", (json_int_t)ctl->connections));
	json_object_set_new(o, "admission",
			    json_pack("{s:s, s:s, s:f, s:o}", "state", admission_state_name(ctl->admission.effective),
				      "source", admission_source_name(ctl->admission.effective_source), "utilisation",
				      ctl->admission.utilisation, "drain", drain ? json_string(drain) : json_null()));
	json_object_set_new(o, "steering",
			    json_pack("{s:b, s:b, s:b, s:i, s:s, s:s, s:s}", "loaded", steering_loaded, "maps_open",
				      ctl->steer_info.maps_open, "attached", ctl->steer_info.attached, "prog_id", (int)ctl->steer_info.prog_id, "pin_dir",
				      ctl->steer_info.pin_dir, "iface", ctl->steer_info.iface, "error", ctl->steer_info.error));
	json_object_set_new(
		o, "reporting",
		json_pack("{s:{s:b, s:I, s:I, s:i, s:o, s:s}, s:{s:b, s:b, s:s, s:I, s:I, s:s}}", "backend", "enabled",
			  rs->enabled, "sent", (json_int_t)rs->sent, "failures", (json_int_t)rs->failures,
			  "consecutive_failures", (int)rs->consecutive_failures, "last_success", api_time(rs->last_success_s),
			  "last_error", rs->last_error, "etcd", "enabled", es->enabled, "registered", es->registered, "key",
			  es->key, "lease_id", (json_int_t)es->lease_id, "grants", (json_int_t)es->grants, "last_error",
			  es->last_error));
	json_object_set_new(o, "fills", json_pack("{s:i}", "active", (int)fs->jobs_active));
	*http_status = !strcmp(status, "down") ? 503 : 200;
	return o;
}

json_t *api_health_json(struct control *ctl, unsigned *http_status)
{
	struct report_status rs;
	struct etcd_status es;
	struct fill_stats fs;
	json_t *o;

	report_status(ctl->report, &rs);
	etcd_status(ctl->etcd, &es);
	fill_stats(ctl->fill, &fs);
	pthread_mutex_lock(&ctl->lock);
	o = api_health_locked(ctl, &rs, &es, &fs, http_status);
	pthread_mutex_unlock(&ctl->lock);
	return o;
}

static void api_get_health(void *ctx, const struct rest_request *req, struct rest_response *resp)
{
	unsigned status;
	json_t *o = api_health_json(ctx, &status);

	(void)req;
	rest_json(resp, status, o);
}

/* --- Backend report and etcd value ------------------------------------------------------------- */

static uint64_t api_total(const struct stats_snapshot *snap, const char *name)
{
	return snap ? stats_snapshot_total(snap, name) : 0;
}

json_t *api_report_json(void *ctx, const char *trigger, uint64_t sequence)
{
	struct control *ctl = ctx;
	struct stats_snapshot snap;
	bool have = !dplink_snapshot(ctl->link, &snap);
	struct steer_counter_value steer[STEER_COUNTER_COUNT];
	bool have_steer = false;
	struct report_status rs;
	struct etcd_status es;
	struct fill_stats fs;
	unsigned http;
	json_t *health, *o, *lcores = json_array();

	report_status(ctl->report, &rs);
	etcd_status(ctl->etcd, &es);
	fill_stats(ctl->fill, &fs);
	pthread_mutex_lock(&ctl->lock);
	if (steer_link_maps(ctl->steer))
		have_steer = !steer_counters_read(steer_link_maps(ctl->steer), steer);
	health = api_health_locked(ctl, &rs, &es, &fs, &http);
	for (uint32_t l = 0; ctl->rates.valid && l < ctl->rates.lcore_count; l++)
		if (ctl->rates.busy_ratio[l] >= 0)
			json_array_append_new(lcores, json_pack("{s:i, s:f}", "lcore", (int)ctl->rates.lcore_ids[l], "ratio",
								ctl->rates.busy_ratio[l]));
	o = json_pack("{s:s, s:s, s:I, s:o, s:s, s:O, s:O}", "edge_id", ctl->edge_id, "version", SLUICE_VERSION, "sequence",
		      (json_int_t)sequence, "time", api_time(api_now_s()), "trigger", trigger, "state",
		      json_object_get(health, "status"), "reasons", json_object_get(health, "reasons"));
	json_object_set_new(o, "dataplane",
			    json_pack("{s:b, s:s, s:i, s:i, s:o}", "up", ctl->link_info.state == DPLINK_UP, "state",
				      api_dplink_state_name(ctl->link_info.state), "pid", ctl->link_info.pid, "restarts",
				      (int)ctl->link_info.restarts, "started",
				      api_time((int64_t)(ctl->link_info.start_time_ns / 1000000000ULL))));
	json_object_set_new(o, "admission",
			    json_pack("{s:s, s:s, s:o}", "state", admission_state_name(ctl->admission.effective), "source",
				      admission_source_name(ctl->admission.effective_source), "drain",
				      api_drain_state(ctl) ? json_string(api_drain_state(ctl)) : json_null()));
	json_object_set_new(o, "capacity", json_pack("{s:f, s:I}", "gbps", ctl->cfg.control.capacity_gbps, "connections",
						     (json_int_t)ctl->connections_max));
	json_object_set_new(o, "utilisation", json_real(ctl->admission.utilisation));
	json_object_set_new(o, "throughput",
			    json_pack("{s:f, s:f}", "tx_bps", ctl->rates.valid ? ctl->rates.tx_bits_per_s : 0.0, "rx_bps",
				      ctl->rates.valid ? ctl->rates.rx_bits_per_s : 0.0));
	json_object_set_new(o, "connections", json_integer((json_int_t)ctl->connections));
	json_object_set_new(o, "lcore_busy", lcores);
	json_object_set_new(
		o, "errors",
		json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "http_4xx", (json_int_t)api_total(have ? &snap : NULL, "http_responses_4xx"),
			  "http_5xx", (json_int_t)api_total(have ? &snap : NULL, "http_responses_5xx"), "tcp_resets_sent",
			  (json_int_t)api_total(have ? &snap : NULL, "tcp_rst_sent"), "tcp_timeouts",
			  (json_int_t)api_total(have ? &snap : NULL, "tcp_conn_timed_out"), "tcp_retransmits",
			  (json_int_t)api_total(have ? &snap : NULL, "tcp_retransmit_segments"), "steer_dropped",
			  (json_int_t)(have_steer ? steer[STEER_VERDICT_DROP].packets : 0), "steer_refused",
			  (json_int_t)(have_steer ? steer[STEER_VERDICT_TX].packets : 0)));
	json_object_set_new(o, "catalog",
			    json_pack("{s:I, s:I, s:s, s:I}", "version", (json_int_t)(ctl->catalog_loaded ? ctl->catalog.version : 0),
				      "files", (json_int_t)(ctl->catalog_loaded ? ctl->catalog.count : 0), "inventory_sha256",
				      ctl->catalog_loaded ? ctl->catalog.digest : "", "dataplane_version",
				      (json_int_t)ctl->dp_catalog_version));
	json_object_set_new(o, "steering", json_pack("{s:b, s:b}", "loaded",
						     ctl->steer_info.maps_open && (ctl->steer_info.attached || !ctl->steer_info.iface[0]),
						     "attached", ctl->steer_info.attached));
	pthread_mutex_unlock(&ctl->lock);
	json_decref(health);
	if (have)
		stats_snapshot_free(&snap);
	return o;
}

json_t *api_etcd_value(void *ctx)
{
	struct control *ctl = ctx;
	struct report_status rs;
	struct etcd_status es;
	struct fill_stats fs;
	char v4[16], v6[48];
	unsigned http;
	json_t *health, *o;

	report_status(ctl->report, &rs);
	etcd_status(ctl->etcd, &es);
	fill_stats(ctl->fill, &fs);
	pthread_mutex_lock(&ctl->lock);
	health = api_health_locked(ctl, &rs, &es, &fs, &http);
	{
		uint8_t addr[16] = {0};

		memcpy(addr, &ctl->cfg.dataplane.ipv4, 4);
		steer_format_address(STEER_FAMILY_IPV4, addr, v4, sizeof(v4));
	}
	steer_format_address(STEER_FAMILY_IPV6, (const uint8_t *)&ctl->cfg.dataplane.ipv6, v6, sizeof(v6));
	/* Coarse on purpose: the value is put again only when it changes. */
	o = json_pack("{s:s, s:s, s:O, s:s, s:{s:s, s:s}, s:i, s:i, s:s, s:I, s:s, s:f}", "edge_id", ctl->edge_id, "version",
		      SLUICE_VERSION, "status", json_object_get(health, "status"), "admission",
		      admission_state_name(ctl->admission.effective), "addresses", "ipv4", v4, "ipv6",
		      ctl->cfg.dataplane.ipv6_enabled ? v6 : "", "http_port", (int)ctl->cfg.dataplane.http_port,
		      "https_port", (int)ctl->cfg.dataplane.https_port, "api", ctl->cfg.control.listen, "catalog_version",
		      (json_int_t)(ctl->catalog_loaded ? ctl->catalog.version : 0), "inventory_sha256",
		      ctl->catalog_loaded ? ctl->catalog.digest : "", "capacity_gbps", ctl->cfg.control.capacity_gbps);
	pthread_mutex_unlock(&ctl->lock);
	json_decref(health);
	return o;
}

/* --- Metrics, document, stats --------------------------------------------------------------------- */

static void api_get_metrics(void *ctx, const struct rest_request *req, struct rest_response *resp)
{
	struct control *ctl = ctx;
	struct stats_snapshot snap;
	bool have = !dplink_snapshot(ctl->link, &snap);
	struct steer_counter_value steer[STEER_COUNTER_COUNT];
	struct metrics_buffer out = {0};
	struct metrics_input in;
	struct report_status rs;
	struct etcd_status es;
	struct fill_stats fs;
	struct accesslog_stats as;
	struct load_rates busy;
	struct timespec now;

	(void)req;
	report_status(ctl->report, &rs);
	etcd_status(ctl->etcd, &es);
	fill_stats(ctl->fill, &fs);
	accesslog_writer_stats(ctl->access_log, &as);
	clock_gettime(CLOCK_MONOTONIC, &now);
	memset(&in, 0, sizeof(in));
	pthread_mutex_lock(&ctl->lock);
	if (have) {
		/* Busy ratio between this scrape and the previous one (at least a second apart; a
		 * quicker scrape shows the previous interval again). */
		struct load_sample sample;

		load_sample_from_snapshot(&snap, (uint64_t)now.tv_sec * 1000000000ULL + (uint64_t)now.tv_nsec, &sample);
		if (ctl->have_scrape_sample && sample.time_ns - ctl->scrape_sample.time_ns >= 1000000000ULL) {
			load_rates_between(&ctl->scrape_sample, &sample, &busy);
			if (busy.valid) {
				ctl->scrape_rates = busy;
				ctl->scrape_sample = sample;
			} else {
				ctl->have_scrape_sample = false;
			}
		}
		if (!ctl->have_scrape_sample) {
			ctl->scrape_sample = sample;
			ctl->have_scrape_sample = true;
			ctl->scrape_rates = ctl->rates; /* the admission window until a second scrape */
		}
		in.busy = &ctl->scrape_rates;
	}
	in.version = SLUICE_VERSION;
	in.edge_id = ctl->edge_id;
	in.snapshot = have ? &snap : NULL;
	in.dataplane_up = ctl->link_info.state == DPLINK_UP;
	in.dataplane_restarts = ctl->link_info.restarts;
	in.heartbeat_age_s = have ? (double)snap.heartbeat_age_ns / 1e9 : 0;
	in.steer_loaded = ctl->steer_info.maps_open && (ctl->steer_info.attached || !ctl->steer_info.iface[0]);
	if (steer_link_maps(ctl->steer) && !steer_counters_read(steer_link_maps(ctl->steer), steer))
		in.steer_counters = steer;
	in.admission = &ctl->admission;
	in.report_sent = rs.sent;
	in.report_failures = rs.failures;
	in.report_last_success_s = (double)rs.last_success_s;
	in.etcd_registered = es.registered;
	in.fill_jobs_active = fs.jobs_active;
	in.fill_files_done = fs.files_done;
	in.fill_files_failed = fs.files_failed;
	in.fill_files_present = fs.files_present;
	in.fill_bytes = fs.bytes;
	in.accesslog_records = as.records;
	in.accesslog_dropped = as.dropped;
	metrics_format(&in, &out);
	pthread_mutex_unlock(&ctl->lock);
	if (have)
		stats_snapshot_free(&snap);
	if (out.error) {
		free(out.data);
		rest_error(resp, 500, "internal", "cannot format metrics: %s", strerror(-out.error));
		return;
	}
	resp->status = 200;
	resp->text = out.data;
	resp->text_len = out.len;
	resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
}

static void api_get_openapi(void *ctx, const struct rest_request *req, struct rest_response *resp)
{
	(void)ctx, (void)req;
	resp->text = malloc(openapi_json_len);
	if (!resp->text) {
		rest_error(resp, 500, "internal", "out of memory");
		return;
	}
	memcpy(resp->text, openapi_json, openapi_json_len);
	resp->text_len = openapi_json_len;
	resp->content_type = "application/json";
	resp->status = 200;
}

static void api_get_stats(void *ctx, const struct rest_request *req, struct rest_response *resp)
{
	struct control *ctl = ctx;
	const char *names = json_string_value(json_object_get(req->params, "names"));
	const json_t *lcores_param = json_object_get(req->params, "lcores");
	bool per_lcore = !lcores_param || json_is_true(lcores_param);
	struct steer_counter_value steer[STEER_COUNTER_COUNT];
	struct stats_snapshot snap;
	bool wanted[1024] = {false}, have_steer = false;
	json_t *o, *totals, *lcores, *steering;
	struct dplink_info info;

	if (dplink_snapshot(ctl->link, &snap)) {
		rest_error(resp, 503, "dataplane_down", "no stats segment: the data plane has not run since it was created");
		return;
	}
	if (snap.counter_count > 1024) {
		stats_snapshot_free(&snap);
		rest_error(resp, 500, "internal", "too many counters");
		return;
	}
	if (names) {
		char *copy = strdup(names), *save = NULL;

		for (char *n = strtok_r(copy, ",", &save); n; n = strtok_r(NULL, ",", &save)) {
			int i = stats_snapshot_find(&snap, n);

			if (i < 0) {
				rest_error(resp, 400, "invalid_parameter", "query.names: no counter named '%.48s'", n);
				free(copy);
				stats_snapshot_free(&snap);
				return;
			}
			wanted[i] = true;
		}
		free(copy);
	} else {
		for (uint32_t i = 0; i < snap.counter_count; i++)
			wanted[i] = true;
	}
	dplink_info(ctl->link, &info);
	totals = json_object();
	lcores = json_array();
	for (uint32_t i = 0; i < snap.counter_count; i++)
		if (wanted[i])
			json_object_set_new(totals, snap.descriptors[i].name, json_integer((json_int_t)snap.totals[i]));
	for (uint32_t l = 0; per_lcore && l < snap.lcore_count; l++) {
		json_t *counters = json_object();

		for (uint32_t i = 0; i < snap.counter_count; i++)
			if (wanted[i])
				json_object_set_new(counters, snap.descriptors[i].name,
						    json_integer((json_int_t)snap.values[(size_t)l * snap.counter_count + i]));
		json_array_append_new(lcores, json_pack("{s:i, s:o}", "lcore", (int)snap.lcore_ids[l], "counters", counters));
	}
	pthread_mutex_lock(&ctl->lock);
	if (steer_link_maps(ctl->steer))
		have_steer = !steer_counters_read(steer_link_maps(ctl->steer), steer);
	pthread_mutex_unlock(&ctl->lock);
	steering = json_object();
	for (int i = 0; have_steer && i < STEER_COUNTER_COUNT; i++)
		json_object_set_new(steering, steer_counter_names[i],
				    json_pack("{s:I, s:I}", "packets", (json_int_t)steer[i].packets, "bytes",
					      (json_int_t)steer[i].bytes));
	o = json_pack("{s:{s:s, s:i, s:o, s:I, s:i}, s:o, s:o, s:o}", "dataplane", "state", api_dplink_state_name(info.state),
		      "pid", snap.pid, "started", api_time((int64_t)(snap.start_time_ns / 1000000000ULL)),
		      "heartbeat_age_ms", (json_int_t)(snap.heartbeat_age_ns / 1000000ULL), "lcores", (int)snap.lcore_count,
		      "totals", totals, "lcores", lcores, "steering", have_steer ? steering : json_null());
	if (!have_steer)
		json_decref(steering);
	stats_snapshot_free(&snap);
	rest_json(resp, 200, o);
}

/* --- Admission and drain ------------------------------------------------------------------------ */

static json_t *api_admission_locked(struct control *ctl)
{
	const struct admission *a = &ctl->admission;
	const struct control_config *c = &ctl->cfg.control;
	json_t *inputs = json_object(), *history = json_array(), *o;
	uint32_t first = a->history_next > ADMISSION_HISTORY_MAX ? a->history_next - ADMISSION_HISTORY_MAX : 0;

	for (int i = 0; i < ADMISSION_INPUT_COUNT; i++)
		if (a->inputs[i] >= 0)
			json_object_set_new(inputs, admission_input_name((enum admission_input)i), json_real(a->inputs[i]));
	for (uint32_t i = first; i < a->history_next; i++) {
		const struct admission_transition *t = &a->history[i % ADMISSION_HISTORY_MAX];

		json_array_append_new(history, json_pack("{s:o, s:s, s:s, s:s, s:f}", "time", api_time(t->time_s), "from",
							 admission_state_name(t->from), "to", admission_state_name(t->to),
							 "source", admission_source_name(t->source), "utilisation",
							 t->utilisation));
	}
	o = json_pack("{s:s, s:s, s:b}", "state", admission_state_name(a->effective), "source",
		      admission_source_name(a->effective_source), "dataplane_down", a->dataplane_down);
	json_object_set_new(
		o, "controller",
		json_pack("{s:s, s:f, s:o, s:{s:f, s:f, s:I, s:I, s:f, s:I}, s:{s:f, s:I, s:f}}", "state",
			  admission_state_name(a->controller_state), "utilisation", a->utilisation, "inputs", inputs,
			  "thresholds", "close_utilisation", a->policy.close_utilisation, "reopen_utilisation",
			  a->policy.reopen_utilisation, "min_dwell_ms", (json_int_t)(a->policy.min_dwell_ns / 1000000ULL),
			  "window_ms", (json_int_t)c->admission_window_ms, "busy_limit", c->admission_busy_limit,
			  "pagein_backlog_max", (json_int_t)c->admission_pagein_backlog_max, "capacity", "gbps",
			  c->capacity_gbps, "connections", (json_int_t)ctl->connections_max, "throughput_bps",
			  ctl->rates.valid ? ctl->rates.tx_bits_per_s : 0.0));
	json_object_set_new(o, "override",
			    a->override_active
				    ? json_pack("{s:s, s:o, s:s}", "state", admission_state_name(a->override_state), "expires",
						api_time(a->override_expires_s), "reason", a->override_reason)
				    : json_null());
	json_object_set_new(o, "drain",
			    a->drain_active ? json_pack("{s:s, s:o, s:s}", "state", api_drain_state(ctl), "since",
							api_time(a->drain_since_s), "reason", a->drain_reason)
					    : json_null());
	json_object_set_new(o, "applied",
			    json_pack("{s:o, s:o, s:o}", "steering",
				      ctl->applied_steer_admission >= 0
					      ? json_string(admission_state_name((enum admission_state)ctl->applied_steer_admission))
					      : json_null(),
				      "dataplane",
				      ctl->applied_dp_admission >= 0
					      ? json_string(admission_state_name((enum admission_state)ctl->applied_dp_admission))
					      : json_null(),
				      "dataplane_result", api_push_json(&ctl->pushed[CONTROL_PUSHED_ADMISSION])));
	json_object_set_new(o, "connections", json_integer((json_int_t)ctl->connections));
	json_object_set_new(o, "transitions_total", json_integer((json_int_t)a->transitions));
	json_object_set_new(o, "transitions", history);
	return o;
}

static void api_get_admission(void *ctx, const struct rest_request *req, struct rest_response *resp)
{
	struct control *ctl = ctx;
	json_t *o;

	(void)req;
	pthread_mutex_lock(&ctl->lock);
	o = api_admission_locked(ctl);
	pthread_mutex_unlock(&ctl->lock);
	rest_json(resp, 200, o);
}

/* Persists the controller's override/drain; on failure restores `saved`. Caller holds lock. */
static bool api_persist_admission(struct control *ctl, const struct admission *saved, struct rest_response *resp)
{
	char message[CONTROL_MESSAGE_MAX];

	control_admission_to_state(ctl);
	if (!control_save_state(ctl, message, sizeof(message)))
		return true;
	ctl->admission = *saved;
	control_admission_to_state(ctl);
	rest_error(resp, 500, "internal", "%s", message);
	return false;
}

static void api_set_admission(void *ctx, const struct rest_request *req, struct rest_response *resp)
{
	struct control *ctl = ctx;
	const char *state_text = json_string_value(json_object_get(req->body, "state"));
	const json_t *ttl = json_object_get(req->body, "ttl_s");
	const char *reason = json_string_value(json_object_get(req->body, "reason"));
	enum admission_state state = ADMISSION_OPEN;
	struct admission saved;
	bool ok;
	json_t *o;

	if (!strcmp(state_text, "auto")) {
		if (ttl) {
			rest_error(resp, 400, "invalid_body", "$.ttl_s: an expiry only applies to an override, not to auto");
			return;
		}
	} else {
		admission_state_parse(state_text, &state);
	}
	pthread_mutex_lock(&ctl->apply_lock);
	pthread_mutex_lock(&ctl->lock);
	saved = ctl->admission;
	if (!strcmp(state_text, "auto"))
		admission_override_clear(&ctl->admission);
	else
		admission_override_set(&ctl->admission, state, ttl ? api_now_s() + json_integer_value(ttl) : 0, reason);
	ok = api_persist_admission(ctl, &saved, resp);
	if (ok)
		log_info("admission override %s%s%s by %s", state_text, reason ? ": " : "", reason ? reason : "",
			 req->who[0] ? req->who : "?");
	pthread_mutex_unlock(&ctl->lock);
	if (ok)
		control_apply_admission(ctl, false);
	pthread_mutex_unlock(&ctl->apply_lock);
	if (!ok)
		return;
	control_trigger_reports(ctl, "admission");
	pthread_mutex_lock(&ctl->lock);
	o = api_admission_locked(ctl);
	pthread_mutex_unlock(&ctl->lock);
	rest_json(resp, 200, o);
}

static json_t *api_drain_locked(struct control *ctl)
{
	const char *state = api_drain_state(ctl);

	return json_pack("{s:s, s:o, s:s, s:I, s:s}", "state", state ? state : "inactive", "since",
			 api_time(ctl->admission.drain_since_s), "reason", ctl->admission.drain_reason, "connections",
			 (json_int_t)ctl->connections, "admission", admission_state_name(ctl->admission.effective));
}

static void api_get_drain(void *ctx, const struct rest_request *req, struct rest_response *resp)
{
	struct control *ctl = ctx;
	json_t *o;

	(void)req;
	pthread_mutex_lock(&ctl->lock);
	o = api_drain_locked(ctl);
	pthread_mutex_unlock(&ctl->lock);
	rest_json(resp, 200, o);
}

static void api_change_drain(struct control *ctl, const struct rest_request *req, struct rest_response *resp, bool start)
{
	const char *reason = json_string_value(json_object_get(req->body, "reason"));
	struct admission saved;
	bool ok;
	json_t *o;

	pthread_mutex_lock(&ctl->apply_lock);
	pthread_mutex_lock(&ctl->lock);
	if (!start && !ctl->admission.drain_active) {
		pthread_mutex_unlock(&ctl->lock);
		pthread_mutex_unlock(&ctl->apply_lock);
		rest_error(resp, 409, "conflict", "no drain in progress");
		return;
	}
	saved = ctl->admission;
	if (start)
		admission_drain_start(&ctl->admission, api_now_s(), reason);
	else
		admission_drain_cancel(&ctl->admission);
	ok = api_persist_admission(ctl, &saved, resp);
	if (ok)
		log_info("drain %s by %s", start ? "started" : "cancelled", req->who[0] ? req->who : "?");
	pthread_mutex_unlock(&ctl->lock);
	if (ok)
		control_apply_admission(ctl, false);
	pthread_mutex_unlock(&ctl->apply_lock);
	if (!ok)
		return;
	control_trigger_reports(ctl, start ? "drain" : "drain_cancelled");
	pthread_mutex_lock(&ctl->lock);
	o = api_drain_locked(ctl);
	pthread_mutex_unlock(&ctl->lock);
	rest_json(resp, start ? 202 : 200, o);
}

static void api_start_drain(void *ctx, const struct rest_request *req, struct rest_response *resp)
{
	api_change_drain(ctx, req, resp, true);
}

static void api_cancel_drain(void *ctx, const struct rest_request *req, struct rest_response *resp)
{
	api_change_drain(ctx, req, resp, false);
}

/* --- Steering: services and blocklist ----------------------------------------------------------- */

/* The maps, with ctl->lock held; NULL (and a 503 answered, lock released) when not loaded. */
static struct steer_maps *api_steer_maps(struct control *ctl, struct rest_response *resp)
{
	struct steer_maps *maps;

	pthread_mutex_lock(&ctl->lock);
	maps = steer_link_maps(ctl->steer);
	if (!maps) {
		rest_error(resp, 503, "steering_unavailable", "the steering program's maps are not open: %s",
			   ctl->steer_info.error);
		pthread_mutex_unlock(&ctl->lock);
	}
	return maps;
}

static json_t *api_service_json(const struct control *ctl, const struct steer_service *s)
{
	char text[STEER_ADDRESS_TEXT_MAX];

	steer_format_address(s->family, s->addr, text, sizeof(text));
	return json_pack("{s:s, s:i, s:i, s:b}", "address", text, "port", s->port, "id", (int)s->service_id, "managed",
			 state_service_find(&ctl->state, s) >= 0);
}

static void api_list_services(void *ctx, const struct rest_request *req, struct rest_response *resp)
{
	struct control *ctl = ctx;
	struct steer_maps *maps = api_steer_maps(ctl, resp);
	struct steer_service *list = NULL;
	size_t count = 0;
	json_t *items;
	int rc;

	(void)req;
	if (!maps)
		return;
	rc = steer_service_list(maps, &list, &count);
	if (rc) {
		pthread_mutex_unlock(&ctl->lock);
		rest_error(resp, 500, "internal", "reading the services map: %s", strerror(-rc));
		return;
	}
	items = json_array();
	for (size_t i = 0; i < count; i++)
		json_array_append_new(items, api_service_json(ctl, &list[i]));
	pthread_mutex_unlock(&ctl->lock);
	free(list);
	rest_json(resp, 200, json_pack("{s:o}", "services", items));
}

static void api_add_service(void *ctx, const struct rest_request *req, struct rest_response *resp)
{
	struct control *ctl = ctx;
	struct steer_service s = {0};
	struct steer_maps *maps;
	const char *address = json_string_value(json_object_get(req->body, "address"));
	char message[CONTROL_MESSAGE_MAX];
	int at, rc;

	if (steer_parse_address(address, &s.family, s.addr)) {
		rest_error(resp, 422, "invalid_value", "$.address: '%s' is not an IPv4 or IPv6 address", address);
		return;
	}
	s.port = (uint16_t)json_integer_value(json_object_get(req->body, "port"));
	s.service_id = (uint32_t)json_integer_value(json_object_get(req->body, "id"));
	maps = api_steer_maps(ctl, resp);
	if (!maps)
		return;
	at = state_service_find(&ctl->state, &s);
	if (at < 0 && ctl->state.service_count == STATE_SERVICES_MAX) {
		pthread_mutex_unlock(&ctl->lock);
		rest_error(resp, 409, "conflict", "the control plane manages at most %d services", STATE_SERVICES_MAX);
		return;
	}
	rc = steer_service_add(maps, &s);
	if (rc) {
		pthread_mutex_unlock(&ctl->lock);
		rest_error(resp, rc == -E2BIG || rc == -ENOSPC ? 409 : 500, rc == -E2BIG || rc == -ENOSPC ? "conflict" : "internal",
			   "adding to the services map: %s", strerror(-rc));
		return;
	}
	if (at < 0)
		ctl->state.services[ctl->state.service_count++] = s;
	else
		ctl->state.services[at] = s;
	if (control_save_state(ctl, message, sizeof(message))) {
		pthread_mutex_unlock(&ctl->lock);
		rest_error(resp, 500, "internal", "%s", message);
		return;
	}
	/* The new id follows the edge's admission at once. */
	steer_admission_set(maps, s.service_id, (enum steer_admission)ctl->admission.effective);
	log_info("service %s port %u id %u added by %s", address, s.port, s.service_id, req->who);
	rest_json(resp, 201, api_service_json(ctl, &s));
	pthread_mutex_unlock(&ctl->lock);
}

static void api_remove_service(void *ctx, const struct rest_request *req, struct rest_response *resp)
{
	struct control *ctl = ctx;
	struct steer_service s = {0};
	struct steer_maps *maps;
	const char *address = json_string_value(json_object_get(req->params, "address"));
	char message[CONTROL_MESSAGE_MAX];
	int at, rc;

	if (steer_parse_address(address, &s.family, s.addr)) {
		rest_error(resp, 422, "invalid_value", "query.address: '%s' is not an IPv4 or IPv6 address", address);
		return;
	}
	s.port = (uint16_t)json_integer_value(json_object_get(req->params, "port"));
	maps = api_steer_maps(ctl, resp);
	if (!maps)
		return;
	rc = steer_service_remove(maps, &s);
	if (rc) {
		pthread_mutex_unlock(&ctl->lock);
		if (rc == -ENOENT)
			rest_error(resp, 404, "not_found", "no service %s port %u", address, s.port);
		else
			rest_error(resp, 500, "internal", "removing from the services map: %s", strerror(-rc));
		return;
	}
	at = state_service_find(&ctl->state, &s);
	if (at >= 0) {
		ctl->state.services[at] = ctl->state.services[--ctl->state.service_count];
		if (control_save_state(ctl, message, sizeof(message))) {
			pthread_mutex_unlock(&ctl->lock);
			rest_error(resp, 500, "internal", "%s", message);
			return;
		}
	}
	pthread_mutex_unlock(&ctl->lock);
	log_info("service %s port %u removed by %s", address, s.port, req->who);
	rest_json(resp, 200, json_pack("{s:s, s:i, s:b}", "removed", address, "port", s.port, "managed", at >= 0));
}

static void api_list_blocklist(void *ctx, const struct rest_request *req, struct rest_response *resp)
{
	struct control *ctl = ctx;
	struct steer_maps *maps = api_steer_maps(ctl, resp);
	struct steer_block_entry *list = NULL;
	size_t count = 0;
	json_t *items;
	int rc;

	(void)req;
	if (!maps)
		return;
	rc = steer_block_list(maps, &list, &count);
	if (rc) {
		pthread_mutex_unlock(&ctl->lock);
		rest_error(resp, 500, "internal", "reading the blocklist: %s", strerror(-rc));
		return;
	}
	items = json_array();
	for (size_t i = 0; i < count; i++) {
		char text[STEER_ADDRESS_TEXT_MAX];

		steer_format_prefix(&list[i].prefix, text, sizeof(text));
		json_array_append_new(items, json_pack("{s:s, s:I, s:b}", "prefix", text, "drops", (json_int_t)list[i].drops,
						       "managed", state_block_find(&ctl->state, &list[i].prefix) >= 0));
	}
	pthread_mutex_unlock(&ctl->lock);
	free(list);
	rest_json(resp, 200, json_pack("{s:o}", "blocklist", items));
}

static void api_change_block(struct control *ctl, const struct rest_request *req, struct rest_response *resp,
			     const char *text, bool add)
{
	struct steer_prefix prefix;
	struct steer_maps *maps;
	char message[CONTROL_MESSAGE_MAX], canonical[STEER_ADDRESS_TEXT_MAX];
	int at, rc;

	if (steer_parse_prefix(text, &prefix)) {
		rest_error(resp, 422, "invalid_value",
			   "%s: '%s' is not a prefix (an address, /length in range, no bits set past the length)",
			   add ? "$.prefix" : "query.prefix", text);
		return;
	}
	steer_format_prefix(&prefix, canonical, sizeof(canonical));
	maps = api_steer_maps(ctl, resp);
	if (!maps)
		return;
	at = state_block_find(&ctl->state, &prefix);
	if (add && at < 0 && ctl->state.block_count == STATE_BLOCKS_MAX) {
		pthread_mutex_unlock(&ctl->lock);
		rest_error(resp, 409, "conflict", "the control plane manages at most %d blocked prefixes", STATE_BLOCKS_MAX);
		return;
	}
	rc = add ? steer_block_add(maps, &prefix) : steer_block_remove(maps, &prefix);
	if (rc) {
		pthread_mutex_unlock(&ctl->lock);
		if (rc == -ENOENT)
			rest_error(resp, 404, "not_found", "%s is not blocked", canonical);
		else
			rest_error(resp, 500, "internal", "blocklist: %s", strerror(-rc));
		return;
	}
	if (add && at < 0)
		ctl->state.blocks[ctl->state.block_count++] = prefix;
	else if (!add && at >= 0)
		ctl->state.blocks[at] = ctl->state.blocks[--ctl->state.block_count];
	if ((add && at < 0) || (!add && at >= 0)) {
		if (control_save_state(ctl, message, sizeof(message))) {
			pthread_mutex_unlock(&ctl->lock);
			rest_error(resp, 500, "internal", "%s", message);
			return;
		}
	}
	pthread_mutex_unlock(&ctl->lock);
	log_info("blocklist: %s %s by %s", add ? "added" : "removed", canonical, req->who);
	rest_json(resp, add ? 201 : 200, json_pack("{s:s}", add ? "blocked" : "unblocked", canonical));
}

static void api_add_block(void *ctx, const struct rest_request *req, struct rest_response *resp)
{
	api_change_block(ctx, req, resp, json_string_value(json_object_get(req->body, "prefix")), true);
}

static void api_remove_block(void *ctx, const struct rest_request *req, struct rest_response *resp)
{
	api_change_block(ctx, req, resp, json_string_value(json_object_get(req->params, "prefix")), false);
}

/* --- Catalog ---------------------------------------------------------------------------------------- */

static void api_list_catalog(void *ctx, const struct rest_request *req, struct rest_response *resp)
{
	struct control *ctl = ctx;
	const json_t *p_offset = json_object_get(req->params, "offset"), *p_limit = json_object_get(req->params, "limit");
	const char *prefix = json_string_value(json_object_get(req->params, "prefix"));
	size_t offset = p_offset ? (size_t)json_integer_value(p_offset) : 0;
	size_t limit = p_limit ? (size_t)json_integer_value(p_limit) : 100, matched = 0, prefix_len = prefix ? strlen(prefix) : 0;
	json_t *files = json_array(), *o;

	pthread_mutex_lock(&ctl->lock);
	for (size_t i = 0; ctl->catalog_loaded && i < ctl->catalog.count; i++) {
		const struct catalog_entry *e = &ctl->catalog.entries[i];

		if (prefix && strncmp(e->path, prefix, prefix_len))
			continue;
		if (matched++ < offset || json_array_size(files) >= limit)
			continue;
		json_array_append_new(files, json_pack("{s:s, s:I, s:s, s:o, s:o}", "path", e->path, "size", (json_int_t)e->size,
						       "sha256", e->sha256, "mtime", api_time(e->mtime), "content_type",
						       e->content_type ? json_string(e->content_type) : json_null()));
	}
	o = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:s, s:I, s:o}", "path", ctl->catalog_path, "version",
		      (json_int_t)(ctl->catalog_loaded ? ctl->catalog.version : 0), "files_total",
		      (json_int_t)(ctl->catalog_loaded ? ctl->catalog.count : 0), "matched", (json_int_t)matched, "offset",
		      (json_int_t)offset, "limit", (json_int_t)limit, "inventory_sha256",
		      ctl->catalog_loaded ? ctl->catalog.digest : "", "dataplane_version", (json_int_t)ctl->dp_catalog_version,
		      "files", files);
	if (!ctl->catalog_loaded)
		json_object_set_new(o, "error", json_string(ctl->catalog_error));
	pthread_mutex_unlock(&ctl->lock);
	rest_json(resp, 200, o);
}

static void api_reload_catalog(void *ctx, const struct rest_request *req, struct rest_response *resp)
{
	struct control *ctl = ctx;
	struct sluice_cmd_catalog_reload reload;
	struct sluice_cmd_catalog_reply reply = {0};
	char message[CONTROL_MESSAGE_MAX];
	enum control_push outcome;
	int status;

	memset(&reload, 0, sizeof(reload));
	pthread_mutex_lock(&ctl->apply_lock);
	outcome = control_push(ctl, SLUICE_CMD_CATALOG_RELOAD, &reload, sizeof(reload), &reply, sizeof(reply), 30000,
			       &status, message, sizeof(message));
	pthread_mutex_lock(&ctl->lock);
	if (outcome != CONTROL_PUSH_PENDING)
		ctl->pushed[CONTROL_PUSHED_CATALOG] = (struct control_push_status){.known = true, .outcome = outcome,
										   .status = status};
	snprintf(ctl->pushed[CONTROL_PUSHED_CATALOG].message, sizeof(ctl->pushed[0].message), "%s", message);
	if (outcome == CONTROL_PUSH_APPLIED)
		ctl->dp_catalog_version = reply.version;
	pthread_mutex_unlock(&ctl->lock);
	pthread_mutex_unlock(&ctl->apply_lock);
	log_info("catalog reload by %s: %s", req->who, message);
	if (outcome == CONTROL_PUSH_PENDING) {
		rest_error(resp, 503, "dataplane_down", "%s", message);
		return;
	}
	if (outcome != CONTROL_PUSH_APPLIED) {
		api_push_error(resp, outcome, status, message);
		return;
	}
	control_trigger_reports(ctl, "catalog");
	rest_json(resp, 200, json_pack("{s:I, s:i, s:i, s:i, s:s}", "version", (json_int_t)reply.version, "files",
				       (int)reply.files, "rejected", (int)reply.rejected, "previous_pending",
				       (int)reply.previous_pending, "message", message));
}

/* --- Fill ---------------------------------------------------------------------------------------------- */

static void api_create_fill(void *ctx, const struct rest_request *req, struct rest_response *resp)
{
	struct control *ctl = ctx;
	char id[FILL_ID_LENGTH + 1], err[512], url[64];
	int rc = fill_submit(ctl->fill, req->body, id, err, sizeof(err));
	json_t *job, *o;

	if (rc == -EINVAL) {
		rest_error(resp, 422, "invalid_value", "%s", err);
		return;
	}
	if (rc) {
		rest_error(resp, 500, "internal", "cannot queue the job: %s", strerror(-rc));
		return;
	}
	log_info("fill %s created by %s", id, req->who);
	snprintf(url, sizeof(url), "/v1/fills/%s", id);
	job = fill_job_json(ctl->fill, id);
	o = json_pack("{s:s, s:s, s:s}", "id", id, "status_url", url, "state",
		      json_string_value(json_object_get(job, "state")) ?: "queued");
	json_decref(job);
	rest_json(resp, 202, o);
}

static void api_list_fills(void *ctx, const struct rest_request *req, struct rest_response *resp)
{
	struct control *ctl = ctx;

	(void)req;
	rest_json(resp, 200, json_pack("{s:o}", "jobs", fill_list_json(ctl->fill)));
}

static void api_get_fill(void *ctx, const struct rest_request *req, struct rest_response *resp)
{
	struct control *ctl = ctx;
	const char *id = json_string_value(json_object_get(req->params, "id"));
	json_t *job = fill_job_json(ctl->fill, id);

	if (!job) {
		rest_error(resp, 404, "not_found", "no fill job %s", id);
		return;
	}
	rest_json(resp, 200, job);
}

static void api_cancel_fill(void *ctx, const struct rest_request *req, struct rest_response *resp)
{
	struct control *ctl = ctx;
	const char *id = json_string_value(json_object_get(req->params, "id"));
	int rc = fill_cancel(ctl->fill, id);

	if (rc == -ENOENT) {
		rest_error(resp, 404, "not_found", "no fill job %s", id);
		return;
	}
	if (rc == -EALREADY) {
		rest_error(resp, 409, "conflict", "fill job %s has already finished", id);
		return;
	}
	log_info("fill %s cancelled by %s", id, req->who);
	rest_json(resp, 202, json_pack("{s:s, s:s}", "id", id, "state", "cancelling"));
}

/* --- Keys ---------------------------------------------------------------------------------------------- */

static json_t *api_sign_keys_locked(struct control *ctl)
{
	json_t *keys = json_array();

	for (uint32_t i = 0; i < ctl->state.keys.sign_count; i++)
		json_array_append_new(keys, json_pack("{s:i, s:i, s:o}", "kid", ctl->state.keys.sign[i].kid, "length",
						      ctl->state.keys.sign[i].length, "created",
						      api_time(ctl->state.keys.sign[i].created_s)));
	return json_pack("{s:o, s:o}", "keys", keys, "dataplane", api_push_json(&ctl->pushed[CONTROL_PUSHED_SIGN_KEYS]));
}

static json_t *api_ticket_keys_locked(struct control *ctl)
{
	json_t *keys = json_array();

	for (uint32_t i = 0; i < ctl->state.keys.ticket_count; i++) {
		char name[33];

		keys_hex_encode(ctl->state.keys.ticket[i].name, 16, name);
		json_array_append_new(keys, json_pack("{s:s, s:o, s:b}", "name", name, "created",
						      api_time(ctl->state.keys.ticket[i].created_s), "encrypting", i == 0));
	}
	return json_pack("{s:o, s:o}", "keys", keys, "dataplane", api_push_json(&ctl->pushed[CONTROL_PUSHED_TICKET_KEYS]));
}

static void api_list_sign_keys(void *ctx, const struct rest_request *req, struct rest_response *resp)
{
	struct control *ctl = ctx;
	json_t *o;

	(void)req;
	pthread_mutex_lock(&ctl->lock);
	o = api_sign_keys_locked(ctl);
	pthread_mutex_unlock(&ctl->lock);
	rest_json(resp, 200, o);
}

static void api_list_ticket_keys(void *ctx, const struct rest_request *req, struct rest_response *resp)
{
	struct control *ctl = ctx;
	json_t *o;

	(void)req;
	pthread_mutex_lock(&ctl->lock);
	o = api_ticket_keys_locked(ctl);
	pthread_mutex_unlock(&ctl->lock);
	rest_json(resp, 200, o);
}

/* Pushes a changed key set and keeps it if the data plane took it or is down. Caller holds
 * apply_lock. Returns true when kept; otherwise the error is answered. */
static bool api_commit_keys(struct control *ctl, const struct keys_set *next, bool sign, struct rest_response *resp,
			    enum control_push *outcome_out, char *message, size_t message_len)
{
	struct sluice_cmd_sign_keys sign_payload;
	struct sluice_cmd_ticket_keys ticket_payload;
	enum control_push outcome;
	struct keys_set previous;
	int status;

	if (sign) {
		keys_sign_payload(next, &sign_payload);
		outcome = control_push(ctl, SLUICE_CMD_SIGN_KEYS_SET, &sign_payload, sizeof(sign_payload), NULL, 0, 5000,
				       &status, message, message_len);
		OPENSSL_cleanse(&sign_payload, sizeof(sign_payload));
	} else {
		keys_ticket_payload(next, &ticket_payload);
		outcome = control_push(ctl, SLUICE_CMD_TICKET_KEYS_SET, &ticket_payload, sizeof(ticket_payload), NULL, 0,
				       5000, &status, message, message_len);
		OPENSSL_cleanse(&ticket_payload, sizeof(ticket_payload));
	}
	*outcome_out = outcome;
	if (outcome == CONTROL_PUSH_UNSUPPORTED || outcome == CONTROL_PUSH_REFUSED) {
		api_push_error(resp, outcome, status, message);
		return false;
	}
	pthread_mutex_lock(&ctl->lock);
	previous = ctl->state.keys;
	ctl->state.keys = *next;
	if (control_save_state(ctl, message, message_len)) {
		ctl->state.keys = previous;
		pthread_mutex_unlock(&ctl->lock);
		OPENSSL_cleanse(&previous, sizeof(previous));
		rest_error(resp, 500, "internal", "%s (the data plane may already use the new keys)", message);
		return false;
	}
	if (outcome == CONTROL_PUSH_APPLIED)
		ctl->pushed[sign ? CONTROL_PUSHED_SIGN_KEYS : CONTROL_PUSHED_TICKET_KEYS] =
			(struct control_push_status){.known = true, .outcome = outcome};
	else
		ctl->applied_incarnation = 0; /* push everything again once the data plane answers */
	pthread_mutex_unlock(&ctl->lock);
	OPENSSL_cleanse(&previous, sizeof(previous));
	return true;
}

static void api_add_sign_key(void *ctx, const struct rest_request *req, struct rest_response *resp)
{
	struct control *ctl = ctx;
	const json_t *kid_v = json_object_get(req->body, "kid"), *length_v = json_object_get(req->body, "length");
	const char *secret_text = json_string_value(json_object_get(req->body, "secret"));
	bool generate = json_is_true(json_object_get(req->body, "generate"));
	uint8_t secret[SLUICE_CMD_SIGN_KEY_BYTES_MAX], kid = (uint8_t)json_integer_value(kid_v);
	char message[CONTROL_MESSAGE_MAX], hex[2 * SLUICE_CMD_SIGN_KEY_BYTES_MAX + 1];
	enum control_push outcome;
	struct keys_set next;
	int length, rc;
	json_t *o;

	if (!!secret_text == generate) {
		rest_error(resp, 400, "invalid_body", "give either secret or \"generate\": true");
		return;
	}
	if (length_v && !generate) {
		rest_error(resp, 400, "invalid_body", "$.length: only with \"generate\": true");
		return;
	}
	if (generate) {
		length = length_v ? (int)json_integer_value(length_v) : 32;
		if (keys_random(secret, (size_t)length)) {
			rest_error(resp, 500, "internal", "the random generator failed");
			return;
		}
	} else {
		length = keys_parse_secret(secret_text, secret);
		if (length < 0) {
			rest_error(resp, 422, "invalid_value", "$.secret: not 32 to 64 bytes of hex or base64");
			return;
		}
	}
	pthread_mutex_lock(&ctl->apply_lock);
	pthread_mutex_lock(&ctl->lock);
	next = ctl->state.keys;
	pthread_mutex_unlock(&ctl->lock);
	rc = keys_sign_add(&next, kid, secret, (uint8_t)length, api_now_s());
	if (rc) {
		pthread_mutex_unlock(&ctl->apply_lock);
		OPENSSL_cleanse(secret, sizeof(secret));
		OPENSSL_cleanse(&next, sizeof(next));
		if (rc == -EEXIST)
			rest_error(resp, 409, "conflict", "key id %u exists: retire it first", kid);
		else
			rest_error(resp, 409, "conflict", "the data plane holds at most %d signing keys", SLUICE_CMD_SIGN_KEYS_MAX);
		return;
	}
	if (!api_commit_keys(ctl, &next, true, resp, &outcome, message, sizeof(message))) {
		pthread_mutex_unlock(&ctl->apply_lock);
		OPENSSL_cleanse(secret, sizeof(secret));
		OPENSSL_cleanse(&next, sizeof(next));
		return;
	}
	pthread_mutex_unlock(&ctl->apply_lock);
	OPENSSL_cleanse(&next, sizeof(next));
	log_info("signing key %u added (%s) by %s: %s", kid, generate ? "generated" : "uploaded", req->who, message);
	o = json_pack("{s:i, s:i, s:s, s:s}", "kid", kid, "length", length, "dataplane", api_push_name(outcome), "message",
		      message);
	if (generate) {
		keys_hex_encode(secret, (size_t)length, hex);
		json_object_set_new(o, "secret", json_string(hex)); /* shown once, to whoever generated it */
		OPENSSL_cleanse(hex, sizeof(hex));
	}
	OPENSSL_cleanse(secret, sizeof(secret));
	rest_json(resp, outcome == CONTROL_PUSH_APPLIED ? 201 : 202, o);
}

static void api_remove_sign_key(void *ctx, const struct rest_request *req, struct rest_response *resp)
{
	struct control *ctl = ctx;
	uint8_t kid = (uint8_t)json_integer_value(json_object_get(req->params, "kid"));
	char message[CONTROL_MESSAGE_MAX];
	enum control_push outcome;
	struct keys_set next;

	pthread_mutex_lock(&ctl->apply_lock);
	pthread_mutex_lock(&ctl->lock);
	next = ctl->state.keys;
	pthread_mutex_unlock(&ctl->lock);
	if (keys_sign_remove(&next, kid)) {
		pthread_mutex_unlock(&ctl->apply_lock);
		OPENSSL_cleanse(&next, sizeof(next));
		rest_error(resp, 404, "not_found", "no signing key %u", kid);
		return;
	}
	if (!api_commit_keys(ctl, &next, true, resp, &outcome, message, sizeof(message))) {
		pthread_mutex_unlock(&ctl->apply_lock);
		OPENSSL_cleanse(&next, sizeof(next));
		return;
	}
	pthread_mutex_unlock(&ctl->apply_lock);
	OPENSSL_cleanse(&next, sizeof(next));
	log_info("signing key %u retired by %s: %s", kid, req->who, message);
	rest_json(resp, outcome == CONTROL_PUSH_APPLIED ? 200 : 202,
		  json_pack("{s:i, s:s, s:s}", "retired", kid, "dataplane", api_push_name(outcome), "message", message));
}

static void api_rotate_ticket_keys(void *ctx, const struct rest_request *req, struct rest_response *resp)
{
	struct control *ctl = ctx;
	const char *name = json_string_value(json_object_get(req->body, "name"));
	const char *aes = json_string_value(json_object_get(req->body, "aes_key"));
	const char *hmac = json_string_value(json_object_get(req->body, "hmac_key"));
	char message[CONTROL_MESSAGE_MAX], name_hex[33];
	struct keys_ticket_key key = {.created_s = api_now_s()};
	enum control_push outcome;
	struct keys_set next;
	int given = !!name + !!aes + !!hmac;

	if (given && given != 3) {
		rest_error(resp, 400, "invalid_body", "give name, aes_key and hmac_key together, or none to generate a key");
		return;
	}
	if (given) {
		keys_hex_decode(name, key.name, 16); /* the schema checked the hex */
		keys_hex_decode(aes, key.aes_key, 32);
		keys_hex_decode(hmac, key.hmac_key, 32);
	} else if (keys_random(key.name, 16) || keys_random(key.aes_key, 32) || keys_random(key.hmac_key, 32)) {
		rest_error(resp, 500, "internal", "the random generator failed");
		return;
	}
	pthread_mutex_lock(&ctl->apply_lock);
	pthread_mutex_lock(&ctl->lock);
	next = ctl->state.keys;
	pthread_mutex_unlock(&ctl->lock);
	if (keys_ticket_rotate(&next, &key)) {
		pthread_mutex_unlock(&ctl->apply_lock);
		OPENSSL_cleanse(&key, sizeof(key));
		OPENSSL_cleanse(&next, sizeof(next));
		rest_error(resp, 409, "conflict", "a ticket key with this name is already in the set");
		return;
	}
	keys_hex_encode(key.name, 16, name_hex);
	OPENSSL_cleanse(&key, sizeof(key));
	if (!api_commit_keys(ctl, &next, false, resp, &outcome, message, sizeof(message))) {
		pthread_mutex_unlock(&ctl->apply_lock);
		OPENSSL_cleanse(&next, sizeof(next));
		return;
	}
	pthread_mutex_unlock(&ctl->apply_lock);
	log_info("ticket keys rotated (%s) by %s: %s", given ? "uploaded" : "generated", req->who, message);
	rest_json(resp, outcome == CONTROL_PUSH_APPLIED ? 201 : 202,
		  json_pack("{s:s, s:i, s:s, s:s}", "name", name_hex, "keys", (int)next.ticket_count, "dataplane",
			    api_push_name(outcome), "message", message));
	OPENSSL_cleanse(&next, sizeof(next));
}

/* --- Config and logs ----------------------------------------------------------------------------- */

static void api_reload_config(void *ctx, const struct rest_request *req, struct rest_response *resp)
{
	struct control *ctl = ctx;
	const char *target = json_string_value(json_object_get(req->body, "target"));
	char message[CONTROL_MESSAGE_MAX * 2];

	if (!strcmp(target, "control")) {
		json_t *restart = json_array();

		if (control_reload_config(ctl, message, sizeof(message), restart)) {
			json_decref(restart);
			rest_error(resp, 422, "invalid_value", "%s (nothing changed)", message);
			return;
		}
		control_trigger_reports(ctl, "config");
		rest_json(resp, 200, json_pack("{s:s, s:s, s:o}", "target", "control", "message", message, "restart_required",
					       restart));
	} else {
		struct sluice_cmd_config_reload reload;
		enum control_push outcome;
		int status;

		memset(&reload, 0, sizeof(reload));
		pthread_mutex_lock(&ctl->apply_lock);
		outcome = control_push(ctl, SLUICE_CMD_CONFIG_RELOAD, &reload, sizeof(reload), NULL, 0, 10000, &status,
				       message, sizeof(message));
		pthread_mutex_unlock(&ctl->apply_lock);
		log_info("data plane config reload by %s: %s", req->who, message);
		if (outcome == CONTROL_PUSH_PENDING) {
			rest_error(resp, 503, "dataplane_down", "%s", message);
			return;
		}
		if (outcome != CONTROL_PUSH_APPLIED) {
			api_push_error(resp, outcome, status, message);
			return;
		}
		rest_json(resp, 200, json_pack("{s:s, s:s}", "target", "dataplane", "message", message));
	}
}

static void api_rotate_logs(void *ctx, const struct rest_request *req, struct rest_response *resp)
{
	struct control *ctl = ctx;
	char rotated[PATH_MAX + 16];
	int rc;

	accesslog_writer_drain(ctl->access_log); /* what is in the rings now goes to the old file */
	rc = accesslog_writer_rotate(ctl->access_log, rotated, sizeof(rotated));
	if (rc == -ENOENT) {
		rest_error(resp, 409, "conflict", "no access log is configured (control.access_log is empty)");
		return;
	}
	if (rc) {
		rest_error(resp, 500, "internal", "rotating the access log: %s", strerror(-rc));
		return;
	}
	log_info("access log rotated by %s to %s", req->who, rotated[0] ? rotated : "(deleted: access_log_keep = 0)");
	pthread_mutex_lock(&ctl->lock);
	rest_json(resp, 200, json_pack("{s:s, s:s}", "access_log", ctl->cfg.control.access_log, "rotated_to", rotated));
	pthread_mutex_unlock(&ctl->lock);
}

/* --- Routes ------------------------------------------------------------------------------------------ */

const struct rest_route api_routes[] = {
	{"GET", "/v1/health", api_get_health, REST_ACCESS_HEALTH, 0},
	{"GET", "/metrics", api_get_metrics, REST_ACCESS_METRICS, 0},
	{"GET", "/v1/openapi.json", api_get_openapi, REST_ACCESS_TOKEN, 0},
	{"GET", "/v1/stats", api_get_stats, REST_ACCESS_TOKEN, 0},
	{"GET", "/v1/admission", api_get_admission, REST_ACCESS_TOKEN, 0},
	{"PUT", "/v1/admission", api_set_admission, REST_ACCESS_TOKEN, API_MAX_BODY},
	{"GET", "/v1/drain", api_get_drain, REST_ACCESS_TOKEN, 0},
	{"POST", "/v1/drain", api_start_drain, REST_ACCESS_TOKEN, API_MAX_BODY},
	{"DELETE", "/v1/drain", api_cancel_drain, REST_ACCESS_TOKEN, 0},
	{"GET", "/v1/services", api_list_services, REST_ACCESS_TOKEN, 0},
	{"POST", "/v1/services", api_add_service, REST_ACCESS_TOKEN, API_MAX_BODY},
	{"DELETE", "/v1/services", api_remove_service, REST_ACCESS_TOKEN, 0},
	{"GET", "/v1/blocklist", api_list_blocklist, REST_ACCESS_TOKEN, 0},
	{"POST", "/v1/blocklist", api_add_block, REST_ACCESS_TOKEN, API_MAX_BODY},
	{"DELETE", "/v1/blocklist", api_remove_block, REST_ACCESS_TOKEN, 0},
	{"GET", "/v1/catalog", api_list_catalog, REST_ACCESS_TOKEN, 0},
	{"POST", "/v1/catalog/reload", api_reload_catalog, REST_ACCESS_TOKEN, API_MAX_BODY},
	{"GET", "/v1/fills", api_list_fills, REST_ACCESS_TOKEN, 0},
	{"POST", "/v1/fills", api_create_fill, REST_ACCESS_TOKEN, API_MAX_MANIFEST},
	{"GET", "/v1/fills/{id}", api_get_fill, REST_ACCESS_TOKEN, 0},
	{"DELETE", "/v1/fills/{id}", api_cancel_fill, REST_ACCESS_TOKEN, 0},
	{"GET", "/v1/keys/signing", api_list_sign_keys, REST_ACCESS_TOKEN, 0},
	{"POST", "/v1/keys/signing", api_add_sign_key, REST_ACCESS_TOKEN, API_MAX_BODY},
	{"DELETE", "/v1/keys/signing/{kid}", api_remove_sign_key, REST_ACCESS_TOKEN, 0},
	{"GET", "/v1/keys/tickets", api_list_ticket_keys, REST_ACCESS_TOKEN, 0},
	{"POST", "/v1/keys/tickets", api_rotate_ticket_keys, REST_ACCESS_TOKEN, API_MAX_BODY},
	{"POST", "/v1/config/reload", api_reload_config, REST_ACCESS_TOKEN, API_MAX_BODY},
	{"POST", "/v1/logs/rotate", api_rotate_logs, REST_ACCESS_TOKEN, API_MAX_BODY},
};
const size_t api_route_count = sizeof(api_routes) / sizeof(api_routes[0]);
