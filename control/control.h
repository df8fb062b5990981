/* SPDX-License-Identifier: BSD-3-Clause
 *
 * control.h: the sluice-control daemon's shared state, between its control loop
 * (control.c), the REST handlers (api.c) and the module threads (fill, report, etcd).
 *
 * Threads and locks:
 *   main       the control loop: every control.tick_ms it polls the data plane (dplink), feeds
 *              the admission controller, applies admission to the steering maps and the data
 *              plane, re-applies state to a restarted data plane, drains the access log,
 *              watches the token and catalog files; it also takes the signals (SIGHUP reloads,
 *              SIGTERM/SIGINT stop) with sigtimedwait, all other threads block them.
 *   REST       libmicrohttpd, a thread per connection, running api.c's handlers.
 *   fill, report, etcd: their modules' threads, calling back into this file's builders.
 *
 *   ctl->lock         everything in struct control below it, briefly (no I/O to the data
 *                     plane or the network while held; steering map writes are syscalls and are
 *                     done under it, since the maps handle belongs to the loop).
 *   ctl->apply_lock   serialises operations that change the data plane's state (admission,
 *                     keys, catalog, re-application): taken first, held across "change state,
 *                     push, persist", so two operators cannot interleave. The loop only
 *                     try-locks it and retries on the next tick.
 *   Order: apply_lock before lock; never a dplink call while holding lock.
 *
 * What the data plane has applied is tracked per incarnation: after a restart everything
 * (admission, signing keys, ticket keys, the catalog) is pushed again once its command socket
 * answers. A command the data plane does not implement (-EOPNOTSUPP) is recorded as such and
 * not retried until the next incarnation.
 */
#ifndef SLUICE_CONTROL_CONTROL_H
#define SLUICE_CONTROL_CONTROL_H

#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "accesslog_writer.h"
#include "admission.h"
#include "catalog_file.h"
#include "config.h"
#include "dplink.h"
#include "etcd.h"
#include "fill.h"
#include "load.h"
#include "report.h"
#include "rest.h"
#include "state.h"
#include "steer_link.h"
#include "tokens.h"

#define CONTROL_MESSAGE_MAX 256

/* Outcome of pushing something to the data plane. */
enum control_push {
	CONTROL_PUSH_APPLIED = 0,
	CONTROL_PUSH_PENDING,      /* data plane down or not answering: kept, applied when it returns */
	CONTROL_PUSH_UNSUPPORTED,  /* -EOPNOTSUPP: this data plane does not implement the command */
	CONTROL_PUSH_REFUSED,      /* the data plane answered an error */
};

struct control_push_status {
	bool known;                /* pushed at least once to this incarnation */
	enum control_push outcome;
	int status;                /* the data plane's status (0 or -errno) */
	char message[CONTROL_MESSAGE_MAX];
};

enum control_push_kind {
	CONTROL_PUSHED_ADMISSION = 0,
	CONTROL_PUSHED_SIGN_KEYS,
	CONTROL_PUSHED_TICKET_KEYS,
	CONTROL_PUSHED_CATALOG,
	CONTROL_PUSHED_COUNT
};

struct control {
	char config_path[PATH_MAX];
	/* Access log rings: dataplane.api.accesslog_path, or <stats_path>.accesslog (its default). */
	char rings_path[PATH_MAX + 16];
	int64_t started_s;

	pthread_mutex_t apply_lock;
	pthread_mutex_t lock;

	/* --- under lock -------------------------------------------------------------------------- */
	struct sluice_config cfg;
	char edge_id[CONFIG_NAME_MAX];
	char catalog_path[CONFIG_PATH_MAX + 16];

	struct tokens *tokens;
	char tokens_error[CONTROL_MESSAGE_MAX];

	struct control_state state;
	char state_error[CONTROL_MESSAGE_MAX];

	struct admission admission;
	struct load_sampler sampler;
	struct load_rates rates;           /* over the admission window */
	uint64_t connections;              /* established + closing, all lcores */
	uint64_t connections_max;
	uint64_t pagein_backlog;
	struct load_sample scrape_sample;  /* at the previous /metrics scrape */
	bool have_scrape_sample;
	struct load_rates scrape_rates;

	struct dplink_info link_info;      /* as of the last poll */
	uint64_t applied_incarnation;      /* state re-applied to this incarnation; 0 none */
	int applied_steer_admission;       /* -1: not applied since the maps were opened */
	int applied_dp_admission;          /* -1: not applied to this incarnation */
	struct control_push_status pushed[CONTROL_PUSHED_COUNT];
	uint64_t dp_catalog_version;       /* from HELLO / CATALOG_RELOAD */

	struct steer_link *steer;
	struct steer_link_info steer_info;
	bool steer_restored;               /* policy put back since the maps were (re)opened */

	struct catalog_listing catalog;
	bool catalog_loaded;
	char catalog_error[CONTROL_MESSAGE_MAX];

	/* --- own locking ------------------------------------------------------------------------ */
	struct dplink *link;
	struct report *report;
	struct etcd_registration *etcd;
	struct fill *fill;
	struct accesslog_writer *access_log;
	struct rest_server *rest;
	struct rest_config rest_cfg;
	json_t *doc;                       /* the OpenAPI document */

	volatile sig_atomic_t quit;
};

/* api.c: the route table (also used by the unit tests) and the bodies of health, reports and
 * etcd values, built under ctl->lock by the callers below. */
extern const struct rest_route api_routes[];
extern const size_t api_route_count;

json_t *api_health_json(struct control *ctl, unsigned *http_status);
json_t *api_report_json(void *ctx, const char *trigger, uint64_t sequence);
json_t *api_etcd_value(void *ctx);

/* control.c: the daemon (sluice_control.c's main calls start, run, stop). */
int control_start(struct control *ctl, const struct sluice_config *cfg);
void control_run(struct control *ctl);
void control_stop(struct control *ctl);

/* control.c: used by the handlers. */
int control_authenticate(void *ctx, const char *authorization, char *who, size_t who_len);
bool control_is_public(void *ctx, enum rest_access access);
/* Sends a command; fills message with what happened. Never called with ctl->lock held. */
enum control_push control_push(struct control *ctl, uint16_t type, const void *payload, uint32_t payload_len,
			       void *reply, uint32_t reply_len, int timeout_ms, int *status, char *message,
			       size_t message_len);
/* Applies the effective admission to the steering maps and the data plane now (caller holds
 * apply_lock, not lock). */
void control_apply_admission(struct control *ctl, bool force);
/* Persists ctl->state (caller holds lock): 0 or -errno with message. */
int control_save_state(struct control *ctl, char *message, size_t message_len);
/* Copies the persisted admission override and drain into the controller (caller holds lock). */
void control_state_to_admission(struct control *ctl);
void control_admission_to_state(struct control *ctl);
/* Re-reads the control part of the config file: 0, or -EINVAL with the reason; restart_required
 * gets the keys that changed but need a restart. */
int control_reload_config(struct control *ctl, char *message, size_t message_len, json_t *restart_required);
/* The service ids whose admission this edge controls (see README: Admission). Caller holds lock. */
size_t control_service_ids(struct control *ctl, uint32_t *ids, size_t max);
void control_trigger_reports(struct control *ctl, const char *why);

#endif /* SLUICE_CONTROL_CONTROL_H */
