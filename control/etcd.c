/* SPDX-License-Identifier: BSD-3-Clause
 *
 * etcd.c: the registration thread (see etcd.h).
 */
#include "etcd.h"

#include <errno.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http_client.h"
#include "log.h"
#include "waker.h"

struct etcd_registration {
	struct waker w;                /* its thread; the lock guards everything below too */
	struct etcd_options opts;
	etcd_value_fn value;
	void *ctx;
	char *last_value;              /* what was put, to put again only on change */
	int64_t lease_ok_mono_s;       /* monotonic time of the last successful keepalive or grant */
	struct etcd_status status;
};

void etcd_base64(const void *data, size_t len, char *out)
{
	EVP_EncodeBlock((unsigned char *)out, data, (int)len);
}

static int64_t etcd_mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* POSTs body to endpoint + path; 0 with the parsed answer in *out, or -errno with error set. */
static int etcd_post(const struct etcd_options *opts, const char *path, json_t *body, json_t **out, char *error,
		     size_t error_len)
{
	char url[400], *text = json_dumps(body, JSON_COMPACT);
	struct http_client_request req = {.method = "POST", .url = url, .body = text, .body_len = text ? strlen(text) : 0,
					  .timeout_ms = opts->timeout_ms, .max_response = 65536};
	struct http_client_response resp;
	int rc;

	*out = NULL;
	if (!text)
		return -ENOMEM;
	snprintf(url, sizeof(url), "%s%s", opts->endpoint, path);
	rc = http_client_request(&req, &resp);
	free(text);
	if (rc) {
		snprintf(error, error_len, "%.120s: %.120s", url, resp.error);
		return rc;
	}
	if (resp.status != 200) {
		snprintf(error, error_len, "%.100s: HTTP %ld: %.120s", url, resp.status, resp.body ? resp.body : "");
		http_client_response_free(&resp);
		return -EPROTO;
	}
	*out = json_loadb(resp.body ? resp.body : "", resp.body_len, 0, NULL);
	http_client_response_free(&resp);
	if (!*out) {
		snprintf(error, error_len, "%.200s: the answer is not JSON", url);
		return -EPROTO;
	}
	return 0;
}

/* The gateway writes 64-bit integers as strings. */
static int64_t etcd_int(const json_t *v)
{
	if (json_is_integer(v))
		return json_integer_value(v);
	if (json_is_string(v))
		return strtoll(json_string_value(v), NULL, 10);
	return 0;
}

static int etcd_grant(struct etcd_registration *r, const struct etcd_options *opts, int64_t *lease, char *error,
		      size_t error_len)
{
	json_t *body = json_pack("{s:i}", "TTL", (int)opts->ttl_s), *answer;
	int rc = etcd_post(opts, "/v3/lease/grant", body, &answer, error, error_len);

	json_decref(body);
	if (rc)
		return rc;
	*lease = etcd_int(json_object_get(answer, "ID"));
	json_decref(answer);
	if (!*lease) {
		snprintf(error, error_len, "lease grant answered without an ID");
		return -EPROTO;
	}
	(void)r;
	return 0;
}

static int etcd_put(const struct etcd_options *opts, int64_t lease, const char *value, char *error, size_t error_len)
{
	size_t klen = strlen(opts->key), vlen = strlen(value);
	char *key64 = malloc(4 * (klen / 3 + 1) + 1), *value64 = malloc(4 * (vlen / 3 + 1) + 1), lease_text[32];
	json_t *body, *answer;
	int rc;

	if (!key64 || !value64) {
		free(key64);
		free(value64);
		return -ENOMEM;
	}
	etcd_base64(opts->key, klen, key64);
	etcd_base64(value, vlen, value64);
	snprintf(lease_text, sizeof(lease_text), "%" PRId64, lease);
	body = json_pack("{s:s, s:s, s:s}", "key", key64, "value", value64, "lease", lease_text);
	rc = etcd_post(opts, "/v3/kv/put", body, &answer, error, error_len);
	json_decref(body);
	json_decref(answer);
	free(key64);
	free(value64);
	return rc;
}

/* 1: alive, 0: the lease is gone, -errno: etcd not reachable. */
static int etcd_keepalive(const struct etcd_options *opts, int64_t lease, char *error, size_t error_len)
{
	char lease_text[32];
	json_t *body, *answer;
	int64_t ttl;
	int rc;

	snprintf(lease_text, sizeof(lease_text), "%" PRId64, lease);
	body = json_pack("{s:s}", "ID", lease_text);
	rc = etcd_post(opts, "/v3/lease/keepalive", body, &answer, error, error_len);
	json_decref(body);
	if (rc)
		return rc;
	ttl = etcd_int(json_object_get(json_object_get(answer, "result"), "TTL"));
	json_decref(answer);
	if (ttl <= 0)
		snprintf(error, error_len, "lease %" PRId64 " is gone (expired, or etcd lost it)", lease);
	return ttl > 0;
}

static void etcd_revoke(const struct etcd_options *opts, int64_t lease)
{
	char lease_text[32], error[256];
	json_t *body, *answer = NULL;

	snprintf(lease_text, sizeof(lease_text), "%" PRId64, lease);
	body = json_pack("{s:s}", "ID", lease_text);
	if (etcd_post(opts, "/v3/lease/revoke", body, &answer, error, sizeof(error)))
		log_warn("etcd: revoking lease %" PRId64 ": %s", lease, error);
	json_decref(body);
	json_decref(answer);
}

static void *etcd_thread(void *arg)
{
	struct etcd_registration *r = arg;
	int64_t lease = 0;
	struct etcd_options used = {0};

	pthread_mutex_lock(&r->w.lock);
	while (!r->w.quit) {
		struct etcd_options opts = r->opts;
		char error[256] = "", *value_text = NULL;
		bool triggered = r->w.triggered;
		json_t *value;
		int rc = 0, puts = 0, grants = 0;

		r->w.triggered = false;
		if (!opts.endpoint[0]) {
			if (lease) {
				pthread_mutex_unlock(&r->w.lock);
				etcd_revoke(&used, lease);
				pthread_mutex_lock(&r->w.lock);
				lease = 0;
			}
			r->status.registered = false;
			waker_wait(&r->w, 1000);
			continue;
		}
		if (lease && (strcmp(used.endpoint, opts.endpoint) || strcmp(used.key, opts.key) || used.ttl_s != opts.ttl_s)) {
			pthread_mutex_unlock(&r->w.lock);
			etcd_revoke(&used, lease); /* settings changed: register afresh */
			pthread_mutex_lock(&r->w.lock);
			lease = 0;
		}
		used = opts;
		pthread_mutex_unlock(&r->w.lock);
		value = r->value(r->ctx);
		value_text = value ? json_dumps(value, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
		json_decref(value);
		if (lease && etcd_mono_s() - r->lease_ok_mono_s > (int64_t)opts.ttl_s) {
			lease = 0; /* no keepalive got through for a TTL: the lease has expired */
		}
		if (lease) {
			rc = etcd_keepalive(&opts, lease, error, sizeof(error));
			if (rc == 1) {
				r->lease_ok_mono_s = etcd_mono_s();
				rc = 0;
				if (value_text && (triggered || !r->last_value || strcmp(r->last_value, value_text))) {
					rc = etcd_put(&opts, lease, value_text, error, sizeof(error));
					if (!rc) {
						free(r->last_value);
						r->last_value = value_text;
						value_text = NULL;
						puts++;
					}
				}
			} else if (rc == 0) {
				lease = 0; /* gone: grant again below */
				log_warn("etcd: %s; registering again", error);
			}
		}
		if (!lease && value_text) {
			rc = etcd_grant(r, &opts, &lease, error, sizeof(error));
			if (!rc) {
				rc = etcd_put(&opts, lease, value_text, error, sizeof(error));
				if (!rc) {
					r->lease_ok_mono_s = etcd_mono_s();
					free(r->last_value);
					r->last_value = value_text;
					value_text = NULL;
					grants++;
					puts++;
					log_info("etcd: registered %s under lease %" PRId64 " (TTL %u s)", opts.key, lease,
						 opts.ttl_s);
				} else {
					lease = 0;
				}
			}
		}
		free(value_text);
		pthread_mutex_lock(&r->w.lock);
		r->status.lease_id = lease;
		r->status.registered = lease && !rc;
		r->status.puts += (uint64_t)puts;
		r->status.grants += (uint64_t)grants;
		snprintf(r->status.key, sizeof(r->status.key), "%s", opts.key);
		if (rc) {
			if (strcmp(r->status.last_error, error))
				log_warn("etcd: %s", error);
			snprintf(r->status.last_error, sizeof(r->status.last_error), "%s", error);
		} else {
			r->status.last_error[0] = 0;
			r->status.last_keepalive_s = (int64_t)time(NULL);
		}
		waker_wait(&r->w, rc ? 1000 : opts.ttl_s * 1000 / 3);
	}
	pthread_mutex_unlock(&r->w.lock);
	if (lease)
		etcd_revoke(&used, lease);
	return NULL;
}

int etcd_create(const struct etcd_options *opts, etcd_value_fn value, void *ctx, struct etcd_registration **out)
{
	struct etcd_registration *r = calloc(1, sizeof(*r));

	*out = NULL;
	if (!r)
		return -ENOMEM;
	r->opts = *opts;
	r->value = value;
	r->ctx = ctx;
	r->status.enabled = opts->endpoint[0] != 0;
	waker_init(&r->w);
	*out = r;
	return 0;
}

int etcd_start(struct etcd_registration *r)
{
	return waker_start(&r->w, etcd_thread, r);
}

void etcd_destroy(struct etcd_registration *r)
{
	if (!r)
		return;
	waker_fini(&r->w);
	free(r->last_value);
	free(r);
}

void etcd_set_options(struct etcd_registration *r, const struct etcd_options *opts)
{
	pthread_mutex_lock(&r->w.lock);
	r->opts = *opts;
	r->status.enabled = opts->endpoint[0] != 0;
	waker_trigger_locked(&r->w);
	pthread_mutex_unlock(&r->w.lock);
}

void etcd_trigger(struct etcd_registration *r)
{
	pthread_mutex_lock(&r->w.lock);
	waker_trigger_locked(&r->w);
	pthread_mutex_unlock(&r->w.lock);
}

void etcd_status(struct etcd_registration *r, struct etcd_status *out)
{
	pthread_mutex_lock(&r->w.lock);
	*out = r->status;
	pthread_mutex_unlock(&r->w.lock);
}
