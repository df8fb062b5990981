/* SPDX-License-Identifier: BSD-3-Clause
 *
 * control.c: the sluice-control daemon: start, the control loop, stop (main() is in
 * sluice_control.c).
 *
 * It keeps running, and keeps telling the truth, whatever the data plane does: it watches the
 * data plane through its stats segment and command socket (dplink.h), re-applies admission,
 * keys and the catalog to a data plane that restarted, and reports up, down and restarted in
 * health, /metrics, the backend reports and etcd. The loop below is the only place that
 * decides and applies admission; handlers change the inputs (override, drain) and call the
 * same apply function. See control.h for threads and locks.
 *
 * Start-up order (teardown runs in reverse through control_stop): state dir and state, token
 * file, OpenAPI document (checked against the route table: a mismatch is fatal), data plane
 * link, steering link, access log, fill, reports, etcd, one control-loop tick (so the first
 * health answer is already right), then the REST server.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "log.h"
#include "openapi_doc.h"

static uint64_t control_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int64_t control_now_s(void)
{
	return (int64_t)time(NULL);
}

/* --- Authentication ----------------------------------------------------------------------------- */

int control_authenticate(void *ctx, const char *authorization, char *who, size_t who_len)
{
	struct control *ctl = ctx;
	int rc;

	pthread_mutex_lock(&ctl->lock);
	rc = tokens_check(ctl->tokens, authorization, who, who_len);
	pthread_mutex_unlock(&ctl->lock);
	return rc;
}

bool control_is_public(void *ctx, enum rest_access access)
{
	struct control *ctl = ctx;
	bool public;

	pthread_mutex_lock(&ctl->lock);
	public = (access == REST_ACCESS_METRICS && ctl->cfg.control.public_metrics) ||
		 (access == REST_ACCESS_HEALTH && ctl->cfg.control.public_health);
	pthread_mutex_unlock(&ctl->lock);
	return public;
}

static void control_load_tokens(struct control *ctl, bool log_unchanged)
{
	char err[CONTROL_MESSAGE_MAX];
	struct tokens *tokens;
	struct stat st;
	int rc = tokens_load(ctl->cfg.control.token_file, &tokens, err, sizeof(err));

	if (rc) {
		/* Keep the tokens we had: a typo must not lock operators out (or let anyone in). */
		snprintf(ctl->tokens_error, sizeof(ctl->tokens_error), "%s", err);
		log_err("token file: %s (keeping the %zu tokens loaded before)", err, tokens_count(ctl->tokens));
		return;
	}
	if (!stat(ctl->cfg.control.token_file, &st) && (st.st_mode & 077))
		log_warn("token file %s can be read by other users (mode %o)", ctl->cfg.control.token_file,
			 st.st_mode & 0777);
	if (log_unchanged || tokens_count(tokens) != tokens_count(ctl->tokens))
		log_info("token file %s: %zu tokens", ctl->cfg.control.token_file, tokens_count(tokens));
	tokens_free(ctl->tokens);
	ctl->tokens = tokens;
	ctl->tokens_error[0] = 0;
}

/* --- State ------------------------------------------------------------------------------------------ */

int control_save_state(struct control *ctl, char *message, size_t message_len)
{
	char err[STATE_ERROR_MAX];
	int rc = state_save(ctl->cfg.control.state_dir, &ctl->state, err, sizeof(err));

	if (rc) {
		snprintf(message, message_len, "%s", err);
		log_err("%s", err);
	}
	return rc;
}

void control_state_to_admission(struct control *ctl)
{
	struct control_state *st = &ctl->state;

	if (st->override_active)
		admission_override_set(&ctl->admission, st->override_state, st->override_expires_s, st->override_reason);
	else
		admission_override_clear(&ctl->admission);
	if (st->drain_active) {
		admission_drain_start(&ctl->admission, st->drain_since_s, st->drain_reason);
		ctl->admission.drain_since_s = st->drain_since_s;
	} else {
		admission_drain_cancel(&ctl->admission);
	}
}

void control_admission_to_state(struct control *ctl)
{
	struct control_state *st = &ctl->state;
	const struct admission *a = &ctl->admission;

	st->override_active = a->override_active;
	st->override_state = a->override_state;
	st->override_expires_s = a->override_expires_s;
	snprintf(st->override_reason, sizeof(st->override_reason), "%s", a->override_reason);
	st->drain_active = a->drain_active;
	st->drain_since_s = a->drain_since_s;
	snprintf(st->drain_reason, sizeof(st->drain_reason), "%s", a->drain_reason);
}

/* --- Pushing to the data plane ------------------------------------------------------------------- */

enum control_push control_push(struct control *ctl, uint16_t type, const void *payload, uint32_t payload_len,
			       void *reply, uint32_t reply_len, int timeout_ms, int *status, char *message,
			       size_t message_len)
{
	struct sluice_cmd_result result;
	struct dplink_info info;
	int rc;

	*status = 0;
	dplink_info(ctl->link, &info);
	if (info.state != DPLINK_UP) {
		snprintf(message, message_len, "the data plane is %s (%s): kept, applied when it returns",
			 info.state == DPLINK_DOWN ? "down" : "not running", info.reason);
		return CONTROL_PUSH_PENDING;
	}
	rc = dplink_call(ctl->link, type, payload, payload_len, &result, reply, reply_len, timeout_ms);
	if (rc) {
		snprintf(message, message_len, "the data plane did not answer (%s): kept, applied when it answers",
			 strerror(-rc));
		return CONTROL_PUSH_PENDING;
	}
	*status = result.status;
	snprintf(message, message_len, "%s", result.message[0] ? result.message : result.status ? strerror(-result.status)
												     : "done");
	if (result.status == -EOPNOTSUPP)
		return CONTROL_PUSH_UNSUPPORTED;
	return result.status ? CONTROL_PUSH_REFUSED : CONTROL_PUSH_APPLIED;
}

static void control_record_push(struct control *ctl, enum control_push_kind kind, enum control_push outcome,
				int status, const char *message)
{
	struct control_push_status *p = &ctl->pushed[kind];

	p->known = true;
	p->outcome = outcome;
	p->status = status;
	snprintf(p->message, sizeof(p->message), "%s", message);
}

size_t control_service_ids(struct control *ctl, uint32_t *ids, size_t max)
{
	struct steer_maps *maps = ctl->steer ? steer_link_maps(ctl->steer) : NULL;
	struct steer_service *list = NULL;
	size_t n = 0, count = 0;

	ids[n++] = ctl->cfg.dataplane.port_service_id;
	for (uint32_t i = 0; i < ctl->state.service_count && n < max; i++)
		ids[n++] = ctl->state.services[i].service_id;
	if (maps && !steer_service_list(maps, &list, &count)) {
		for (size_t i = 0; i < count && n < max; i++) {
			const struct steer_service *s = &list[i];
			bool ours = (s->family == STEER_FAMILY_IPV4 && !memcmp(s->addr, &ctl->cfg.dataplane.ipv4, 4)) ||
				    (s->family == STEER_FAMILY_IPV6 && !memcmp(s->addr, &ctl->cfg.dataplane.ipv6, 16));

			if (ours)
				ids[n++] = s->service_id;
		}
		free(list);
	}
	/* Distinct. */
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n;)
			if (ids[j] == ids[i])
				ids[j] = ids[--n];
			else
				j++;
	return n;
}

/* The steering program serves this edge: its maps are open and (when the data plane's port is
 * a kernel interface) steer_xdp is attached to that interface. Pins outlive programs and are
 * shared by name, so open maps alone may belong to no program, or to another edge's. */
static bool control_steer_active(const struct control *ctl)
{
	return ctl->steer_info.maps_open && (ctl->steer_info.attached || !ctl->steer_info.iface[0]);
}

/* Steering side of admission; caller holds lock. */
static void control_apply_steer_admission(struct control *ctl, bool force)
{
	struct steer_maps *maps = control_steer_active(ctl) ? steer_link_maps(ctl->steer) : NULL;
	uint32_t ids[STEER_SERVICE_ID_MAX];
	size_t n;
	int rc = 0;

	if (!maps || (!force && ctl->applied_steer_admission == (int)ctl->admission.effective))
		return;
	n = control_service_ids(ctl, ids, STEER_SERVICE_ID_MAX);
	for (size_t i = 0; i < n; i++) {
		int r = steer_admission_set(maps, ids[i], (enum steer_admission)ctl->admission.effective);

		if (r)
			rc = r;
	}
	if (rc) {
		log_err("steering admission %s: %s", admission_state_name(ctl->admission.effective), strerror(-rc));
		ctl->applied_steer_admission = -1;
		return;
	}
	if (ctl->applied_steer_admission != (int)ctl->admission.effective)
		log_info("steering: admission %s for %zu service id%s", admission_state_name(ctl->admission.effective), n,
			 n == 1 ? "" : "s");
	ctl->applied_steer_admission = (int)ctl->admission.effective;
}

void control_apply_admission(struct control *ctl, bool force)
{
	struct sluice_cmd_admission req = {0};
	char message[CONTROL_MESSAGE_MAX];
	enum control_push outcome;
	int status;
	bool need;

	pthread_mutex_lock(&ctl->lock);
	admission_effective(&ctl->admission, control_now_s());
	control_admission_to_state(ctl); /* an expired override is gone from the state too */
	control_apply_steer_admission(ctl, force);
	req.state = (uint32_t)ctl->admission.effective;
	need = ctl->link_info.state == DPLINK_UP && (force || ctl->applied_dp_admission != (int)req.state) &&
	       ctl->applied_incarnation == ctl->link_info.incarnation;
	pthread_mutex_unlock(&ctl->lock);
	if (!need)
		return;
	outcome = control_push(ctl, SLUICE_CMD_ADMISSION_SET, &req, sizeof(req), NULL, 0, 5000, &status, message,
			       sizeof(message));
	pthread_mutex_lock(&ctl->lock);
	control_record_push(ctl, CONTROL_PUSHED_ADMISSION, outcome, status, message);
	if (outcome == CONTROL_PUSH_APPLIED || outcome == CONTROL_PUSH_UNSUPPORTED || outcome == CONTROL_PUSH_REFUSED)
		ctl->applied_dp_admission = (int)req.state;
	if (outcome == CONTROL_PUSH_REFUSED)
		log_err("data plane refused admission %s: %s", admission_state_name(req.state), message);
	pthread_mutex_unlock(&ctl->lock);
}

/* Everything the data plane must have, pushed to a new incarnation. Caller holds apply_lock.
 * Returns false when the data plane did not answer (try again next tick). */
static bool control_reapply(struct control *ctl)
{
	struct sluice_cmd_hello_reply hello;
	struct sluice_cmd_sign_keys sign;
	struct sluice_cmd_ticket_keys ticket;
	struct sluice_cmd_admission admission = {0};
	struct sluice_cmd_catalog_reload reload;
	struct sluice_cmd_catalog_reply catalog_reply;
	char message[CONTROL_MESSAGE_MAX];
	enum control_push outcome;
	uint64_t incarnation, file_version;
	bool have_sign, have_ticket;
	int status;

	pthread_mutex_lock(&ctl->lock);
	incarnation = ctl->link_info.incarnation;
	admission_effective(&ctl->admission, control_now_s());
	admission.state = (uint32_t)ctl->admission.effective;
	keys_sign_payload(&ctl->state.keys, &sign);
	keys_ticket_payload(&ctl->state.keys, &ticket);
	have_sign = ctl->state.keys.sign_count > 0;
	have_ticket = ctl->state.keys.ticket_count > 0;
	file_version = ctl->catalog_loaded ? ctl->catalog.version : 0;
	memset(ctl->pushed, 0, sizeof(ctl->pushed));
	pthread_mutex_unlock(&ctl->lock);

	outcome = control_push(ctl, SLUICE_CMD_HELLO, NULL, 0, &hello, sizeof(hello), 2000, &status, message,
			       sizeof(message));
	if (outcome == CONTROL_PUSH_PENDING)
		return false;
	pthread_mutex_lock(&ctl->lock);
	if (outcome == CONTROL_PUSH_APPLIED)
		ctl->dp_catalog_version = hello.catalog_version;
	pthread_mutex_unlock(&ctl->lock);

	outcome = control_push(ctl, SLUICE_CMD_ADMISSION_SET, &admission, sizeof(admission), NULL, 0, 5000, &status,
			       message, sizeof(message));
	if (outcome == CONTROL_PUSH_PENDING)
		return false;
	pthread_mutex_lock(&ctl->lock);
	control_record_push(ctl, CONTROL_PUSHED_ADMISSION, outcome, status, message);
	ctl->applied_dp_admission = (int)admission.state;
	pthread_mutex_unlock(&ctl->lock);

	if (have_sign) {
		outcome = control_push(ctl, SLUICE_CMD_SIGN_KEYS_SET, &sign, sizeof(sign), NULL, 0, 5000, &status, message,
				       sizeof(message));
		explicit_bzero(&sign, sizeof(sign));
		if (outcome == CONTROL_PUSH_PENDING)
			return false;
		pthread_mutex_lock(&ctl->lock);
		control_record_push(ctl, CONTROL_PUSHED_SIGN_KEYS, outcome, status, message);
		pthread_mutex_unlock(&ctl->lock);
		if (outcome != CONTROL_PUSH_APPLIED)
			log_warn("re-applying %u signing keys: %s", sign.count, message);
	}
	if (have_ticket) {
		outcome = control_push(ctl, SLUICE_CMD_TICKET_KEYS_SET, &ticket, sizeof(ticket), NULL, 0, 5000, &status,
				       message, sizeof(message));
		explicit_bzero(&ticket, sizeof(ticket));
		if (outcome == CONTROL_PUSH_PENDING)
			return false;
		pthread_mutex_lock(&ctl->lock);
		control_record_push(ctl, CONTROL_PUSHED_TICKET_KEYS, outcome, status, message);
		pthread_mutex_unlock(&ctl->lock);
		if (outcome != CONTROL_PUSH_APPLIED)
			log_warn("re-applying ticket keys: %s", message);
	}
	if (file_version && file_version != hello.catalog_version) {
		/* The catalog file moved on (a fill published while the data plane was down). */
		memset(&reload, 0, sizeof(reload));
		outcome = control_push(ctl, SLUICE_CMD_CATALOG_RELOAD, &reload, sizeof(reload), &catalog_reply,
				       sizeof(catalog_reply), 30000, &status, message, sizeof(message));
		if (outcome == CONTROL_PUSH_PENDING)
			return false;
		pthread_mutex_lock(&ctl->lock);
		control_record_push(ctl, CONTROL_PUSHED_CATALOG, outcome, status, message);
		if (outcome == CONTROL_PUSH_APPLIED)
			ctl->dp_catalog_version = catalog_reply.version;
		pthread_mutex_unlock(&ctl->lock);
	}
	pthread_mutex_lock(&ctl->lock);
	ctl->applied_incarnation = incarnation;
	pthread_mutex_unlock(&ctl->lock);
	log_info("state applied to the data plane (pid %d): admission %s, %s signing keys, %s ticket keys",
		 ctl->link_info.pid, admission_state_name(admission.state), have_sign ? "with" : "no",
		 have_ticket ? "with" : "no");
	return true;
}

/* --- Steering ----------------------------------------------------------------------------------------- */

/* Maps were (re)opened: put back the services and blocks this control plane manages. Caller
 * holds lock. */
static void control_steer_restore(struct control *ctl)
{
	struct steer_maps *maps = steer_link_maps(ctl->steer);
	const struct dataplane_config *dp = &ctl->cfg.dataplane;
	struct steer_block_entry *blocks = NULL;
	size_t block_count = 0;

	if (!maps)
		return;
	if (ctl->cfg.control.steer_auto_services) {
		uint32_t ports[2] = {dp->http_port, dp->https_port};

		for (int p = 0; p < 2; p++) {
			struct steer_service s = {.family = STEER_FAMILY_IPV4, .port = (uint16_t)ports[p],
						  .service_id = ctl->cfg.dataplane.port_service_id};

			if (!ports[p])
				continue;
			memcpy(s.addr, &dp->ipv4, 4);
			steer_service_add(maps, &s);
			if (dp->ipv6_enabled) {
				s.family = STEER_FAMILY_IPV6;
				memcpy(s.addr, &dp->ipv6, 16);
				steer_service_add(maps, &s);
			}
		}
	}
	for (uint32_t i = 0; i < ctl->state.service_count; i++)
		steer_service_add(maps, &ctl->state.services[i]);
	steer_block_list(maps, &blocks, &block_count);
	for (uint32_t i = 0; i < ctl->state.block_count; i++) {
		bool present = false;

		for (size_t k = 0; k < block_count && !present; k++)
			present = blocks[k].prefix.family == ctl->state.blocks[i].family &&
				  blocks[k].prefix.len == ctl->state.blocks[i].len &&
				  !memcmp(blocks[k].prefix.addr, ctl->state.blocks[i].addr, 16);
		if (!present)
			steer_block_add(maps, &ctl->state.blocks[i]);
	}
	free(blocks);
	ctl->applied_steer_admission = -1;
	log_info("steering: %s%u services and %u blocked prefixes restored",
		 ctl->cfg.control.steer_auto_services ? "the data plane's ports, " : "", ctl->state.service_count,
		 ctl->state.block_count);
}

/* --- Reports --------------------------------------------------------------------------------------- */

void control_trigger_reports(struct control *ctl, const char *why)
{
	if (ctl->report)
		report_trigger(ctl->report, why);
	if (ctl->etcd)
		etcd_trigger(ctl->etcd);
}

static void control_publish_catalog(void *ctx, uint64_t version, char *message, size_t message_len)
{
	struct control *ctl = ctx;
	struct sluice_cmd_catalog_reload reload;
	struct sluice_cmd_catalog_reply reply;
	enum control_push outcome;
	int status;

	memset(&reload, 0, sizeof(reload));
	pthread_mutex_lock(&ctl->apply_lock);
	outcome = control_push(ctl, SLUICE_CMD_CATALOG_RELOAD, &reload, sizeof(reload), &reply, sizeof(reply), 30000,
			       &status, message, message_len);
	pthread_mutex_lock(&ctl->lock);
	control_record_push(ctl, CONTROL_PUSHED_CATALOG, outcome, status, message);
	if (outcome == CONTROL_PUSH_APPLIED)
		ctl->dp_catalog_version = reply.version;
	pthread_mutex_unlock(&ctl->lock);
	pthread_mutex_unlock(&ctl->apply_lock);
	if (outcome == CONTROL_PUSH_APPLIED && reply.version != version)
		log_warn("catalog version %" PRIu64 " written, the data plane loaded %" PRIu64, version, reply.version);
	control_trigger_reports(ctl, "catalog");
}

/* --- Options from the config ------------------------------------------------------------------ */

static void control_read_secret_file(const char *path, char *out, size_t size)
{
	FILE *f;

	out[0] = 0;
	if (!path[0] || !(f = fopen(path, "re")))
		return;
	if (fgets(out, (int)size, f))
		out[strcspn(out, "\r\n")] = 0;
	fclose(f);
}

static void control_report_options(const struct control *ctl, struct report_options *o)
{
	const struct control_config *c = &ctl->cfg.control;

	memset(o, 0, sizeof(*o));
	snprintf(o->url, sizeof(o->url), "%s", c->report_url);
	snprintf(o->ca_file, sizeof(o->ca_file), "%s", c->report_ca_file);
	control_read_secret_file(c->report_token_file, o->token, sizeof(o->token));
	o->interval_ms = c->report_interval_ms;
	o->timeout_ms = c->report_timeout_ms;
	o->retries = c->report_retries;
	o->backoff_initial_ms = c->report_backoff_initial_ms;
	o->backoff_max_ms = c->report_backoff_max_ms;
}

static void control_etcd_options(const struct control *ctl, struct etcd_options *o)
{
	const struct control_config *c = &ctl->cfg.control;

	memset(o, 0, sizeof(*o));
	snprintf(o->endpoint, sizeof(o->endpoint), "%s", c->etcd_endpoint);
	snprintf(o->key, sizeof(o->key), "%s%s", c->etcd_prefix, ctl->edge_id);
	o->ttl_s = c->etcd_ttl_s;
	o->timeout_ms = 3000;
}

static void control_fill_options(const struct control *ctl, struct fill_options *o)
{
	const struct control_config *c = &ctl->cfg.control;

	memset(o, 0, sizeof(*o));
	snprintf(o->store_root, sizeof(o->store_root), "%s", ctl->cfg.dataplane.store_root);
	snprintf(o->catalog_path, sizeof(o->catalog_path), "%s", ctl->catalog_path);
	snprintf(o->jobs_dir, sizeof(o->jobs_dir), "%s/fills", c->state_dir);
	o->concurrency = c->fill_concurrency;
	o->bandwidth_bytes_per_s = (uint64_t)c->fill_bandwidth_mbps * 1000000ULL / 8;
	o->retries = c->fill_retries;
	o->connect_timeout_ms = c->fill_connect_timeout_ms;
	o->stall_timeout_ms = c->fill_stall_timeout_ms;
	o->file_timeout_ms = c->fill_file_timeout_ms;
	o->max_files = c->fill_max_files;
	o->user_agent = "sluice-control/" SLUICE_VERSION;
}

static void control_apply_policy(struct control *ctl)
{
	const struct control_config *c = &ctl->cfg.control;

	ctl->admission.policy.close_utilisation = c->admission_close_utilisation;
	ctl->admission.policy.reopen_utilisation = c->admission_reopen_utilisation;
	ctl->admission.policy.min_dwell_ns = (uint64_t)c->admission_min_dwell_ms * 1000000ULL;
	ctl->sampler.window_ns = (uint64_t)c->admission_window_ms * 1000000ULL;
	ctl->connections_max = c->max_connections ? c->max_connections
						  : (uint64_t)ctl->cfg.dataplane.max_connections * ctl->cfg.dataplane.lcore_count;
}

static void control_set_derived_paths(struct control *ctl)
{
	if (ctl->cfg.control.edge_id[0]) {
		snprintf(ctl->edge_id, sizeof(ctl->edge_id), "%s", ctl->cfg.control.edge_id);
	} else if (gethostname(ctl->edge_id, sizeof(ctl->edge_id) - 1)) {
		snprintf(ctl->edge_id, sizeof(ctl->edge_id), "edge");
	}
	if (ctl->cfg.dataplane.catalog_path[0])
		snprintf(ctl->catalog_path, sizeof(ctl->catalog_path), "%s", ctl->cfg.dataplane.catalog_path);
	else
		snprintf(ctl->catalog_path, sizeof(ctl->catalog_path), "%s/catalog.json", ctl->cfg.dataplane.store_root);
}

int control_reload_config(struct control *ctl, char *message, size_t message_len, json_t *restart_required)
{
	struct sluice_config next;
	struct report_options ro;
	struct etcd_options eo;
	struct fill_options fo;
	char err[CONFIG_ERROR_MAX];
	int rc = config_load_file(ctl->config_path, &next, err, sizeof(err));

	if (rc) {
		snprintf(message, message_len, "%s", err);
		return -EINVAL;
	}
	pthread_mutex_lock(&ctl->lock);
	{
		/* Settings the running daemon cannot take over: reported, the running value kept. */
		static const struct {
			const char *key;
			size_t offset;
			size_t size;
		} fixed[] = {
#define FIXED_CTL(key, field) {key, offsetof(struct sluice_config, control.field), sizeof(((struct control_config *)0)->field)}
#define FIXED_DP(key, field) {key, offsetof(struct sluice_config, dataplane.field), sizeof(((struct dataplane_config *)0)->field)}
			FIXED_CTL("control.listen", listen), FIXED_CTL("control.tls_cert", tls_cert),
			FIXED_CTL("control.tls_key", tls_key), FIXED_CTL("control.state_dir", state_dir),
			FIXED_CTL("control.steer.pin_dir", steer_pin_dir), FIXED_CTL("control.access_log", access_log),
			FIXED_CTL("control.access_log_keep", access_log_keep),
			FIXED_CTL("control.heartbeat_timeout_ms", heartbeat_timeout_ms),
			FIXED_DP("dataplane.api.stats_path", stats_path),
			FIXED_DP("dataplane.api.command_socket", command_socket),
			FIXED_DP("dataplane.service.store_root", store_root),
			FIXED_DP("dataplane.service.catalog", catalog_path),
			FIXED_DP("dataplane.port.iface", port_iface),
#undef FIXED_CTL
#undef FIXED_DP
		};

		for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
			const char *a = (const char *)&ctl->cfg + fixed[i].offset, *b = (const char *)&next + fixed[i].offset;

			if (memcmp(a, b, fixed[i].size)) {
				json_array_append_new(restart_required, json_string(fixed[i].key));
				memcpy((char *)&next + fixed[i].offset, a, fixed[i].size); /* keep the running value */
			}
		}
	}
	/* The data plane's own settings are the data plane's business (CONFIG_RELOAD); keep what the
	 * control plane derived from them. */
	next.dataplane = ctl->cfg.dataplane;
	if (strcmp(next.control.token_file, ctl->cfg.control.token_file) ||
	    next.control.public_health != ctl->cfg.control.public_health)
		log_info("config: token file %s", next.control.token_file);
	ctl->cfg = next;
	control_set_derived_paths(ctl);
	control_apply_policy(ctl);
	control_load_tokens(ctl, false);
	control_report_options(ctl, &ro);
	control_etcd_options(ctl, &eo);
	control_fill_options(ctl, &fo);
	ctl->applied_steer_admission = -1;
	if (control_steer_active(ctl))
		control_steer_restore(ctl);
	pthread_mutex_unlock(&ctl->lock);
	report_set_options(ctl->report, &ro);
	etcd_set_options(ctl->etcd, &eo);
	fill_set_limits(ctl->fill, &fo);
	snprintf(message, message_len, "%s reloaded%s", ctl->config_path,
		 json_array_size(restart_required) ? "; some settings need a restart" : "");
	log_info("config: %s", message);
	return 0;
}

/* --- The control loop ----------------------------------------------------------------------------- */

struct control_tick {
	uint64_t n;
	uint64_t last_steer_ns;
	uint64_t last_files_ns;
};

static void control_tick(struct control *ctl, struct control_tick *tick)
{
	uint64_t now = control_mono_ns();
	struct stats_snapshot snap;
	bool have_snap = false, admission_changed, need_reapply, drained_before, drained_after;
	int events = dplink_poll(ctl->link, &snap, &have_snap);
	const char *why = NULL;

	pthread_mutex_lock(&ctl->lock);
	drained_before = ctl->admission.drain_active && (ctl->connections == 0 || ctl->link_info.state != DPLINK_UP);
	dplink_info(ctl->link, &ctl->link_info);
	if (events & (DPLINK_EVENT_RESTART | DPLINK_EVENT_UP)) {
		load_sampler_reset(&ctl->sampler);
		ctl->have_scrape_sample = false;
		ctl->applied_dp_admission = -1;
	}
	if (have_snap) {
		struct load_sample sample;
		const struct control_config *c = &ctl->cfg.control;
		double inputs[ADMISSION_INPUT_COUNT] = {-1, -1, -1, -1};
		int backlog = stats_snapshot_find(&snap, "store_parked");

		load_sample_from_snapshot(&snap, now, &sample);
		load_sampler_add(&ctl->sampler, &sample);
		load_sampler_rates(&ctl->sampler, &ctl->rates);
		ctl->connections = stats_snapshot_total(&snap, "tcp_conn_established") +
				   stats_snapshot_total(&snap, "tcp_conn_closing");
		ctl->pagein_backlog = backlog >= 0 ? snap.totals[backlog] : 0;
		if (ctl->link_info.state == DPLINK_UP) {
			if (c->capacity_gbps > 0)
				inputs[ADMISSION_INPUT_THROUGHPUT] =
					ctl->rates.valid ? ctl->rates.tx_bits_per_s / (c->capacity_gbps * 1e9) : 0;
			if (ctl->connections_max)
				inputs[ADMISSION_INPUT_CONNECTIONS] = (double)ctl->connections / (double)ctl->connections_max;
			if (c->admission_busy_limit > 0)
				inputs[ADMISSION_INPUT_LCORE_BUSY] =
					ctl->rates.valid ? ctl->rates.busy_ratio_max / c->admission_busy_limit : 0;
			if (c->admission_pagein_backlog_max && backlog >= 0)
				inputs[ADMISSION_INPUT_PAGEIN_BACKLOG] =
					(double)ctl->pagein_backlog / (double)c->admission_pagein_backlog_max;
			admission_update(&ctl->admission, inputs, now);
		}
		stats_snapshot_free(&snap);
	}
	if (ctl->link_info.state != DPLINK_UP)
		ctl->connections = 0;
	ctl->admission.dataplane_down = ctl->link_info.state != DPLINK_UP;
	admission_changed = admission_effective(&ctl->admission, control_now_s());
	if (admission_changed) {
		const struct admission_transition *t =
			&ctl->admission.history[(ctl->admission.history_next - 1) % ADMISSION_HISTORY_MAX];

		log_info("admission %s -> %s (%s, utilisation %.2f)", admission_state_name(t->from),
			 admission_state_name(t->to), admission_source_name(t->source), t->utilisation);
		control_admission_to_state(ctl);
	}
	/* Steering maps: once a second is enough to notice a (re)load. */
	if (now - tick->last_steer_ns >= 1000000000ULL || !tick->n) {
		int sev = steer_link_refresh(ctl->steer);

		tick->last_steer_ns = now;
		steer_link_info(ctl->steer, &ctl->steer_info);
		if (sev & (STEER_LINK_OPENED | STEER_LINK_LOST)) {
			ctl->steer_restored = false;
			ctl->applied_steer_admission = -1;
			why = "steering";
		}
		if (control_steer_active(ctl) && !ctl->steer_restored) {
			control_steer_restore(ctl);
			ctl->steer_restored = true;
		}
	}
	control_apply_steer_admission(ctl, false);
	/* Files that change under us: tokens, the catalog. */
	if (now - tick->last_files_ns >= 1000000000ULL || !tick->n) {
		tick->last_files_ns = now;
		if (tokens_file_changed(ctl->tokens, ctl->cfg.control.token_file))
			control_load_tokens(ctl, true);
		if (!ctl->catalog_loaded || catalog_file_changed(&ctl->catalog, ctl->catalog_path)) {
			struct catalog_listing listing;
			char err[CONTROL_MESSAGE_MAX];
			int rc = catalog_file_read(ctl->catalog_path, &listing, err, sizeof(err));

			if (!rc) {
				catalog_listing_free(&ctl->catalog);
				ctl->catalog = listing;
				ctl->catalog_loaded = true;
				ctl->catalog_error[0] = 0;
			} else if (strcmp(ctl->catalog_error, err)) {
				snprintf(ctl->catalog_error, sizeof(ctl->catalog_error), "%s", err);
				if (rc != -ENOENT)
					log_warn("catalog: %s", err);
			}
		}
	}
	need_reapply = ctl->link_info.state == DPLINK_UP && ctl->applied_incarnation != ctl->link_info.incarnation;
	drained_after = ctl->admission.drain_active && (ctl->connections == 0 || ctl->link_info.state != DPLINK_UP);
	pthread_mutex_unlock(&ctl->lock);

	if (events & DPLINK_EVENT_DOWN)
		why = "dataplane_down";
	else if (events & DPLINK_EVENT_RESTART)
		why = "dataplane_restarted";
	else if (events & DPLINK_EVENT_UP)
		why = "dataplane_up";
	else if (admission_changed)
		why = "admission";
	else if (drained_after && !drained_before)
		why = "drained";
	if (why)
		control_trigger_reports(ctl, why);

	if (!pthread_mutex_trylock(&ctl->apply_lock)) {
		bool reapplied = false;

		if (need_reapply)
			reapplied = control_reapply(ctl);
		if (!need_reapply || reapplied)
			control_apply_admission(ctl, false);
		pthread_mutex_unlock(&ctl->apply_lock);
		if (reapplied)
			control_trigger_reports(ctl, "state_applied");
	}
	accesslog_writer_drain(ctl->access_log);
	tick->n++;
}

/* --- Start and stop ---------------------------------------------------------------------------------- */

void control_stop(struct control *ctl)
{
	rest_server_stop(ctl->rest);
	etcd_destroy(ctl->etcd);
	report_destroy(ctl->report);
	fill_destroy(ctl->fill);
	accesslog_writer_destroy(ctl->access_log);
	steer_link_destroy(ctl->steer);
	dplink_destroy(ctl->link);
	tokens_free(ctl->tokens);
	catalog_listing_free(&ctl->catalog);
	json_decref(ctl->doc);
	explicit_bzero(&ctl->state.keys, sizeof(ctl->state.keys));
	pthread_mutex_destroy(&ctl->lock);
	pthread_mutex_destroy(&ctl->apply_lock);
}

int control_start(struct control *ctl, const struct sluice_config *cfg)
{
	struct report_options ro;
	struct etcd_options eo;
	struct fill_options fo;
	struct rest_server_options so;
	struct control_tick tick = {0};
	char err[CONFIG_ERROR_MAX], moved[PATH_MAX + 32];
	json_error_t jerr;
	int rc;

	pthread_mutex_init(&ctl->lock, NULL);
	pthread_mutex_init(&ctl->apply_lock, NULL);
	ctl->cfg = *cfg;
	ctl->started_s = control_now_s();
	ctl->applied_steer_admission = -1;
	ctl->applied_dp_admission = -1;
	control_set_derived_paths(ctl);
	if (cfg->dataplane.accesslog_path[0]) /* where the data plane writes them (dataplane/main.c) */
		snprintf(ctl->rings_path, sizeof(ctl->rings_path), "%s", cfg->dataplane.accesslog_path);
	else
		snprintf(ctl->rings_path, sizeof(ctl->rings_path), "%s.accesslog", cfg->dataplane.stats_path);

	rc = state_make_dir(cfg->control.state_dir);
	if (rc) {
		log_err("control.state_dir %s: %s", cfg->control.state_dir, strerror(-rc));
		return rc;
	}
	rc = state_load(cfg->control.state_dir, &ctl->state, err, sizeof(err));
	if (rc == -EINVAL) {
		state_quarantine(cfg->control.state_dir, moved, sizeof(moved));
		snprintf(ctl->state_error, sizeof(ctl->state_error), "%.140s; moved to %.80s, started empty", err, moved);
		log_err("state: %s", ctl->state_error);
	} else if (rc) {
		log_err("state: %s", strerror(-rc));
		return rc;
	}
	{
		struct admission_policy policy = {0};

		admission_init(&ctl->admission, &policy);
		load_sampler_init(&ctl->sampler, 0);
		control_apply_policy(ctl);
		control_state_to_admission(ctl);
	}
	control_load_tokens(ctl, true);

	ctl->doc = json_loadb((const char *)openapi_json, openapi_json_len, JSON_REJECT_DUPLICATES, &jerr);
	if (!ctl->doc) {
		log_err("the embedded OpenAPI document does not parse: %s", jerr.text);
		return -EINVAL;
	}
	ctl->rest_cfg = (struct rest_config){.doc = ctl->doc, .routes = api_routes, .route_count = api_route_count,
					     .authenticate = control_authenticate, .is_public = control_is_public,
					     .ctx = ctl};
	rc = rest_config_check(&ctl->rest_cfg, err, sizeof(err));
	if (rc) {
		log_err("routes and control/openapi.json disagree: %s", err);
		return rc;
	}

	rc = dplink_create(cfg->dataplane.stats_path, cfg->dataplane.command_socket,
			   (uint64_t)cfg->control.heartbeat_timeout_ms * 1000000ULL, &ctl->link);
	if (!rc)
		rc = steer_link_create(cfg->control.steer_pin_dir,
				       strcmp(cfg->dataplane.port_driver, "pci") ? cfg->dataplane.port_iface : "", &ctl->steer);
	if (!rc)
		rc = accesslog_writer_create(ctl->rings_path, cfg->control.access_log, cfg->control.access_log_keep,
					     &ctl->access_log);
	if (rc) {
		log_err("start: %s", strerror(-rc));
		return rc;
	}
	control_fill_options(ctl, &fo);
	rc = fill_create(&fo, control_publish_catalog, ctl, &ctl->fill, err, sizeof(err));
	if (rc) {
		log_err("fill: %s", err);
		return rc;
	}
	control_report_options(ctl, &ro);
	control_etcd_options(ctl, &eo);
	rc = report_create(&ro, api_report_json, ctl, &ctl->report);
	if (!rc)
		rc = etcd_create(&eo, api_etcd_value, ctl, &ctl->etcd);
	if (!rc)
		rc = report_start(ctl->report);
	if (!rc)
		rc = etcd_start(ctl->etcd);
	if (rc) {
		log_err("start: %s", strerror(-rc));
		return rc;
	}
	control_tick(ctl, &tick);

	so = (struct rest_server_options){.listen = cfg->control.listen, .tls_cert_file = cfg->control.tls_cert,
					  .tls_key_file = cfg->control.tls_key, .connection_limit = 64, .timeout_s = 60};
	rc = rest_server_start(&ctl->rest_cfg, &so, &ctl->rest, err, sizeof(err));
	if (rc) {
		log_err("REST API: %s", err);
		return rc;
	}
	log_info("sluice-control %s: edge %s, REST API on %s%s, %zu tokens", SLUICE_VERSION, ctl->edge_id,
		 cfg->control.tls_cert[0] ? "https://" : "http://", cfg->control.listen, tokens_count(ctl->tokens));
	return 0;
}

void control_run(struct control *ctl)
{
	struct control_tick tick = {.n = 1};
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	while (!ctl->quit) {
		uint32_t tick_ms;
		struct timespec wait;
		siginfo_t info;
		int sig;

		pthread_mutex_lock(&ctl->lock);
		tick_ms = ctl->cfg.control.tick_ms;
		pthread_mutex_unlock(&ctl->lock);
		wait.tv_sec = tick_ms / 1000;
		wait.tv_nsec = (long)(tick_ms % 1000) * 1000000L;
		sig = sigtimedwait(&set, &info, &wait);
		if (sig == SIGTERM || sig == SIGINT) {
			log_info("stopping (%s)", sig == SIGTERM ? "SIGTERM" : "SIGINT");
			ctl->quit = 1;
			break;
		}
		if (sig == SIGHUP) {
			char message[CONTROL_MESSAGE_MAX];
			json_t *restart = json_array();

			log_info("SIGHUP: reloading the config and the token file, reopening the access log");
			if (control_reload_config(ctl, message, sizeof(message), restart))
				log_err("config reload: %s (nothing changed)", message);
			json_decref(restart);
			accesslog_writer_reopen(ctl->access_log);
		}
		control_tick(ctl, &tick);
	}
}

