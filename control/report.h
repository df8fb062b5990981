/* SPDX-License-Identifier: BSD-3-Clause
 *
 * report.h: health reports to the service's backend (control.report.*).
 *
 * A thread POSTs a JSON report (built by the caller's callback at send time, so it is never
 * stale) to the backend URL every interval, and at once when report_trigger() says the
 * state changed (data plane down or up, admission). HTTPS with verification (a private CA
 * with control.report.ca_file), an optional bearer token, a timeout per attempt, and
 * control.report.retries further attempts after a failure, waiting with jittered
 * exponential backoff between them:
 *
 *   base(n) = min(backoff_max, backoff_initial * 2^(n-1)); wait = base/2 + random(0, base/2)
 *
 * ("equal jitter": never less than half the base, so a fleet that lost its backend at once
 * does not come back in lockstep). A trigger during the backoff abandons the retries and
 * sends a fresh report at once. Any 2xx is success.
 */
#ifndef SLUICE_CONTROL_REPORT_H
#define SLUICE_CONTROL_REPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct report_options {
	char url[300];                 /* "" = reports off */
	char ca_file[300];
	char token[300];               /* "" = none */
	uint32_t interval_ms;
	uint32_t timeout_ms;
	uint32_t retries;
	uint32_t backoff_initial_ms;
	uint32_t backoff_max_ms;
};

/* Builds the report (new reference); trigger is "periodic" or what changed. */
typedef json_t *(*report_build_fn)(void *ctx, const char *trigger, uint64_t sequence);

struct report_status {
	bool enabled;
	uint64_t sent;                 /* accepted by the backend */
	uint64_t failures;             /* failed attempts */
	uint32_t consecutive_failures;
	int64_t last_attempt_s, last_success_s;
	long last_http_status;
	char last_error[256];
	char last_trigger[64];
};

struct report;

/* Creates the reporter without its thread; report_start starts it. Two steps, because the
 * report and the etcd value each read the other's status: both exist before either runs. */
int report_create(const struct report_options *opts, report_build_fn build, void *ctx, struct report **out);
int report_start(struct report *r);
void report_destroy(struct report *report);
void report_set_options(struct report *report, const struct report_options *opts);
void report_trigger(struct report *report, const char *why);
void report_status(struct report *report, struct report_status *out);

/* The wait before retry `attempt` (1-based) with random in [0, 2^32): see above. */
uint32_t report_backoff_ms(uint32_t attempt, uint32_t initial_ms, uint32_t max_ms, uint32_t random);

#endif /* SLUICE_CONTROL_REPORT_H */
