/* SPDX-License-Identifier: BSD-3-Clause
 *
 * etcd.h: fleet registration in etcd, through etcd's v3 JSON gateway (no gRPC client is
 * packaged for C): the key <prefix><edge id> holds a summary of this edge (JSON) under a
 * lease, so the set of keys under the prefix is the set of live edges that any steering
 * service can watch, and an edge that dies disappears by itself when its lease runs out.
 *
 *   POST /v3/lease/grant     {"TTL": ttl}                        -> {"ID": "..."}
 *   POST /v3/kv/put          {"key": b64, "value": b64, "lease": id}
 *   POST /v3/lease/keepalive {"ID": id}                          -> {"result": {"TTL": "..."}}
 *   POST /v3/lease/revoke    {"ID": id}                          (clean stop: key gone at once)
 *
 * Keys and values are base64 in the gateway's JSON. A thread keeps the lease alive every
 * ttl/3; a keepalive answered without a TTL means the lease is gone (it expired, or etcd
 * lost its data): the thread grants a new one and puts the key again. When etcd cannot be
 * reached the key is reported unregistered, keepalives are retried every second, and a new
 * lease is granted once etcd answers after more than a TTL. The value is put again only when
 * it changes (etcd_trigger), so a fleet does not write every keepalive.
 */
#ifndef SLUICE_CONTROL_ETCD_H
#define SLUICE_CONTROL_ETCD_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct etcd_options {
	char endpoint[300];            /* "" = off */
	char key[400];                 /* prefix + edge id */
	uint32_t ttl_s;
	uint32_t timeout_ms;
};

/* The value to register (new reference). */
typedef json_t *(*etcd_value_fn)(void *ctx);

struct etcd_status {
	bool enabled;
	bool registered;               /* key put under a lease that was alive at the last keepalive */
	int64_t lease_id;
	uint64_t grants;               /* leases granted (more than one: etcd lost one) */
	uint64_t puts;
	int64_t last_keepalive_s;
	char key[400];
	char last_error[256];
};

struct etcd_registration;

/* Creates the registration without its thread; etcd_start starts it (see report_create). */
int etcd_create(const struct etcd_options *opts, etcd_value_fn value, void *ctx, struct etcd_registration **out);
int etcd_start(struct etcd_registration *r);
/* Revokes the lease (the key goes at once) and stops. NULL is a no-op. */
void etcd_destroy(struct etcd_registration *reg);
void etcd_set_options(struct etcd_registration *reg, const struct etcd_options *opts);
void etcd_trigger(struct etcd_registration *reg);
void etcd_status(struct etcd_registration *reg, struct etcd_status *out);

/* Base64 (standard, padded) of len bytes into out (4 * ceil(len / 3) + 1 bytes). */
void etcd_base64(const void *data, size_t len, char *out);

#endif /* SLUICE_CONTROL_ETCD_H */
