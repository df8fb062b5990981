/* SPDX-License-Identifier: BSD-3-Clause
 *
 * report.c: the health report thread (see report.h).
 */
#include "report.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http_client.h"
#include "keys.h"
#include "log.h"
#include "waker.h"

struct report {
	struct waker w;                /* its thread; the lock guards everything below too */
	char trigger[64];
	struct report_options opts;
	report_build_fn build;
	void *ctx;
	uint64_t sequence;
	struct report_status status;
};

uint32_t report_backoff_ms(uint32_t attempt, uint32_t initial_ms, uint32_t max_ms, uint32_t random)
{
	uint64_t base = initial_ms ? initial_ms : 1;

	for (uint32_t i = 1; i < attempt && base < max_ms; i++)
		base *= 2;
	if (base > max_ms)
		base = max_ms;
	return (uint32_t)(base / 2 + ((base - base / 2) * (uint64_t)random >> 32));
}

/* One attempt; called without the lock. */
static int report_send(struct report *r, const struct report_options *opts, const char *body, long *status,
		       char *error, size_t error_len)
{
	struct http_client_request req = {
		.method = "POST",
		.url = opts->url,
		.body = body,
		.body_len = strlen(body),
		.bearer_token = opts->token[0] ? opts->token : NULL,
		.ca_file = opts->ca_file,
		.timeout_ms = opts->timeout_ms,
		.max_response = 65536,
	};
	struct http_client_response resp;
	int rc = http_client_request(&req, &resp);

	(void)r;
	*status = resp.status;
	if (rc) {
		snprintf(error, error_len, "%s", resp.error);
		return rc;
	}
	http_client_response_free(&resp);
	if (resp.status < 200 || resp.status > 299) {
		snprintf(error, error_len, "the backend answered HTTP %ld", resp.status);
		return -EPROTO;
	}
	error[0] = 0;
	return 0;
}

static void *report_thread(void *arg)
{
	struct report *r = arg;

	pthread_mutex_lock(&r->w.lock);
	while (!r->w.quit) {
		struct report_options opts = r->opts;
		char trigger[64], *body;
		json_t *report;
		uint64_t sequence;

		if (!opts.url[0]) {
			waker_wait(&r->w, 1000);
			r->w.triggered = false;
			continue;
		}
		snprintf(trigger, sizeof(trigger), "%s", r->w.triggered ? r->trigger : "periodic");
		r->w.triggered = false;
		sequence = ++r->sequence;
		pthread_mutex_unlock(&r->w.lock);
		report = r->build(r->ctx, trigger, sequence);
		body = report ? json_dumps(report, JSON_COMPACT) : NULL;
		json_decref(report);
		pthread_mutex_lock(&r->w.lock);
		if (!body) {
			waker_wait(&r->w, opts.interval_ms);
			continue;
		}
		snprintf(r->status.last_trigger, sizeof(r->status.last_trigger), "%s", trigger);
		for (uint32_t attempt = 0; attempt <= opts.retries && !r->w.quit; attempt++) {
			char error[256];
			long status = 0;
			int rc;

			if (attempt) {
				uint8_t random[4];
				uint32_t rnd = 0;

				if (!keys_random(random, sizeof(random)))
					rnd = (uint32_t)random[0] << 24 | (uint32_t)random[1] << 16 | (uint32_t)random[2] << 8 |
					      random[3];
				waker_wait(&r->w, report_backoff_ms(attempt, opts.backoff_initial_ms, opts.backoff_max_ms, rnd));
				if (r->w.quit || r->w.triggered)
					break; /* something changed: send a fresh report instead */
			}
			pthread_mutex_unlock(&r->w.lock);
			rc = report_send(r, &opts, body, &status, error, sizeof(error));
			pthread_mutex_lock(&r->w.lock);
			r->status.last_attempt_s = (int64_t)time(NULL);
			r->status.last_http_status = status;
			if (!rc) {
				r->status.sent++;
				r->status.consecutive_failures = 0;
				r->status.last_success_s = r->status.last_attempt_s;
				r->status.last_error[0] = 0;
				break;
			}
			r->status.failures++;
			r->status.consecutive_failures++;
			snprintf(r->status.last_error, sizeof(r->status.last_error), "%s", error);
			if (r->status.consecutive_failures == 1 || r->status.consecutive_failures % 10 == 0)
				log_warn("health report %llu to %s: %s (failure %u)", (unsigned long long)sequence, opts.url,
					 error, r->status.consecutive_failures);
		}
		free(body);
		if (!r->w.triggered)
			waker_wait(&r->w, opts.interval_ms);
	}
	pthread_mutex_unlock(&r->w.lock);
	return NULL;
}

int report_create(const struct report_options *opts, report_build_fn build, void *ctx, struct report **out)
{
	struct report *r = calloc(1, sizeof(*r));

	*out = NULL;
	if (!r)
		return -ENOMEM;
	r->opts = *opts;
	r->build = build;
	r->ctx = ctx;
	r->status.enabled = opts->url[0] != 0;
	waker_init(&r->w);
	*out = r;
	return 0;
}

int report_start(struct report *r)
{
	return waker_start(&r->w, report_thread, r);
}

void report_destroy(struct report *r)
{
	if (!r)
		return;
	waker_fini(&r->w);
	free(r);
}

void report_set_options(struct report *r, const struct report_options *opts)
{
	pthread_mutex_lock(&r->w.lock);
	r->opts = *opts;
	r->status.enabled = opts->url[0] != 0;
	pthread_cond_broadcast(&r->w.wake);
	pthread_mutex_unlock(&r->w.lock);
}

void report_trigger(struct report *r, const char *why)
{
	pthread_mutex_lock(&r->w.lock);
	snprintf(r->trigger, sizeof(r->trigger), "%s", why);
	waker_trigger_locked(&r->w);
	pthread_mutex_unlock(&r->w.lock);
}

void report_status(struct report *r, struct report_status *out)
{
	pthread_mutex_lock(&r->w.lock);
	*out = r->status;
	pthread_mutex_unlock(&r->w.lock);
}
