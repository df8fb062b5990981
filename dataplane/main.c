/* SPDX-License-Identifier: BSD-3-Clause
 *
 * main.c: sluice-dataplane — start, run, stop.
 *
 * Start (control path, in order): config → EAL → SIGBUS guard → catalog (and its first
 * residency sweep) → port → stats segment → access log rings → command socket → page-in
 * helpers → URL-signing keys → TLS (the AEAD engine, session-ticket keys, OpenSSL server
 * contexts: shared by every lcore) → one worker per queue (network stack, TCP, HTTP, the HTTPS
 * transport) → launch the workers. The main lcore then keeps the stats heartbeat, answers the
 * command socket, sweeps the store's residency and file sizes in slices (store_resident.h) and
 * frees replaced catalogs nobody holds, while the workers run their loops. SIGINT/SIGTERM set
 * the quit flag; workers reset their connections and stop; teardown runs in reverse order
 * through one cleanup path. Only main() exits.
 *
 * Commands that change what the lcores do (catalog, admission, HTTP settings, signing keys)
 * are built here and posted to every worker's mailbox; each worker copies or adopts the
 * object between packets, and the reply goes out when all have (dataplane_post). Ticket keys
 * are published through their own quiescent-state table (tls_ticket.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <unistd.h>

#include "alloc.h"
#include "command_socket.h"
#include "config.h"
#include "http/http_server.h"
#include "log.h"
#include "net/neigh.h"
#include "port.h"
#include "stats.h"
#include "steering.h"
#include "http/http_accesslog.h"
#include "http/url_sign.h"
#include "store/catalog.h"
#include "store/store_guard.h"
#include "store/store_pagein.h"
#include "store/store_resident.h"
#include "tcp/tcp.h"
#include "ticket_key_file.h"
#include "tls/tls_aead.h"
#include "tls/tls_app.h"
#include "tls/tls_handshake.h"
#include "tls/tls_ticket.h"
#include "worker.h"

#define STATS_PUBLISH_PERIOD_US 5000
#define MAIN_POLL_MS 10                /* command socket wait between sweep slices */
#define PAGEIN_RING_SIZE 1024
#define SIGN_KEYS_FILE_MAX 65536
#define EAL_ARGS_MAX 32
#define CATALOGS_PENDING_MAX (HTTP_CATALOG_GENERATIONS - 1)
#define WORKER_COMMAND_TIMEOUT_US 1000000
#define TICKET_ROTATION_TIMEOUT_MS 1000

static volatile bool dataplane_quit;

static void dataplane_signal(int sig)
{
	(void)sig;
	dataplane_quit = true;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: sluice-dataplane --config FILE\n"
		"       sluice-dataplane --check-config FILE     validate the file and exit\n"
		"       sluice-dataplane --config-reference      print every setting (Markdown)\n"
		"\n"
		"Serves the files of the store catalog over HTTP from a DPDK port, with its own\n"
		"TCP/IP stack; every setting is described in README.md and by --config-reference.\n");
}

static void print_config_key(const char *path, const char *type, const char *def, const char *help, void *arg)
{
	(void)arg;
	printf("| `%s` | %s | `%s` | %s |\n", path, type, def, help);
}

struct dataplane {
	struct sluice_config cfg;
	struct port port;
	struct stats_segment stats;
	struct command_socket commands;
	const struct store_catalog *catalog;
	/* Replaced catalogs that some lcore may still send files from; freed once none holds
	 * them. At most CATALOGS_PENDING_MAX, so that an lcore always has a generation slot for
	 * the next one. */
	const struct store_catalog *pending[CATALOGS_PENDING_MAX];
	uint32_t admission;
	char catalog_path[CONFIG_PATH_MAX + 16];
	struct worker *workers[CONFIG_LCORES_MAX];
	uint32_t worker_count;
	bool eal_ready;
	/* HTTPS: shared by every lcore, NULL when there is no HTTPS listener. */
	struct tls_handshake_server *tls_server;
	struct tls_ticket_keyring *tls_ticket_keys;
	const struct tls_aead_engine *tls_engine;
	struct http_accesslog accesslog;
	struct store_pagein *pagein;
	struct IMB_MGR *sign_engine;   /* key ring precomputation on the main thread */
	struct url_sign_keyring sign_keys;
	uint8_t sweep_vec[STORE_SWEEP_VEC_BYTES];
	uint64_t sweep_files_broken;
};

static int dataplane_eal_init(struct dataplane *dp, const char *argv0)
{
	const struct dataplane_config *c = &dp->cfg.dataplane;
	char lcores[256], main_lcore[16], memory[16], prefix[80], device[512];
	char *argv[EAL_ARGS_MAX];
	int argc = 0, n, rc;

	n = snprintf(lcores, sizeof(lcores), "%u", c->main_lcore);
	for (uint32_t i = 0; i < c->lcore_count; i++)
		n += snprintf(lcores + n, sizeof(lcores) - (size_t)n, ",%u", c->lcores[i]);
	snprintf(main_lcore, sizeof(main_lcore), "%u", c->main_lcore);
	snprintf(memory, sizeof(memory), "%u", c->memory_mb);
	snprintf(prefix, sizeof(prefix), "%s", c->file_prefix);
	rc = port_eal_device_args(c, device, sizeof(device));
	if (rc)
		return rc;
	argv[argc++] = (char *)argv0;
	argv[argc++] = "-l";
	argv[argc++] = lcores;
	argv[argc++] = "--main-lcore";
	argv[argc++] = main_lcore;
	argv[argc++] = "--file-prefix";
	argv[argc++] = prefix;
	argv[argc++] = "-m";
	argv[argc++] = memory;
	if (!c->hugepages)
		argv[argc++] = "--no-huge";
	argv[argc++] = "--no-telemetry";
	argv[argc++] = "--log-level";
	argv[argc++] = "*:notice";
	if (!strcmp(c->port_driver, "pci")) {
		argv[argc++] = "-a";
		argv[argc++] = device;
	} else {
		/* Virtual ports need no physical addresses: with IOVA = VA a pool is one
		 * contiguous chunk, which the af_xdp PMD needs for its UMEM (PLATFORM-NOTES.md). */
		argv[argc++] = "--iova-mode=va";
		argv[argc++] = "--no-pci";
		argv[argc++] = "--vdev";
		argv[argc++] = device;
	}
	argv[argc] = NULL;
	log_info("EAL: lcores %s, %s, device %s", lcores, c->hugepages ? "hugepages" : "no hugepages", device);
	rc = rte_eal_init(argc, argv);
	if (rc < 0) {
		log_err("EAL initialisation failed: %s", rte_strerror(rte_errno));
		return -rte_errno;
	}
	dp->eal_ready = true;
	return 0;
}

static void dataplane_ticket_keys_convert(const struct sluice_cmd_ticket_keys *in, struct tls_ticket_keys *out)
{
	_Static_assert(sizeof(struct sluice_cmd_ticket_key) == sizeof(struct tls_ticket_key),
		       "the command's ticket key is the ring's");
	_Static_assert(SLUICE_CMD_TICKET_KEYS_MAX <= TLS_TICKET_KEYS_MAX, "ticket key counts");
	memset(out, 0, sizeof(*out));
	out->count = in->count;
	for (uint32_t i = 0; i < in->count && i < SLUICE_CMD_TICKET_KEYS_MAX; i++) {
		memcpy(out->keys[i].name, in->keys[i].name, sizeof(out->keys[i].name));
		memcpy(out->keys[i].aes_key, in->keys[i].aes_key, sizeof(out->keys[i].aes_key));
		memcpy(out->keys[i].hmac_key, in->keys[i].hmac_key, sizeof(out->keys[i].hmac_key));
	}
}

/*
 * HTTPS, control path: the AEAD engine (the configured one, else the next in the engine
 * table that runs on this CPU), the ticket key ring (keys from the configured file, else
 * random), the OpenSSL server contexts with every certificate.
 */
static int dataplane_tls_init(struct dataplane *dp)
{
	const struct dataplane_config *c = &dp->cfg.dataplane;
	struct tls_handshake_certificate certificates[CONFIG_TLS_CERTIFICATES_MAX];
	struct tls_handshake_server_config server = {
		.certificates = certificates,
		.certificate_count = c->tls_certificate_chains_count,
	};
	struct sluice_cmd_ticket_keys file_keys;
	struct tls_ticket_keys keys;
	struct tls_aead_worker *probe = NULL;
	char err[512];
	int rc;

	if (!c->https_port)
		return 0;
	if (!c->tls_certificate_chains_count) {
		log_warn("dataplane.service.https_port is %u but dataplane.tls.certificate_chains is empty: no HTTPS",
			 c->https_port);
		return 0;
	}
	dp->tls_engine = tls_aead_engine_find(c->tls_aead_engine);
	rc = dp->tls_engine ? tls_aead_worker_create(dp->tls_engine, &probe) : -ENOENT;
	for (const struct tls_aead_engine *const *e = tls_aead_engines; rc < 0 && *e; e++) {
		log_warn("TLS: AEAD engine %s cannot run here (%s); trying %s", dp->tls_engine ? dp->tls_engine->name : "?",
			 strerror(-rc), (*e)->name);
		dp->tls_engine = *e;
		rc = tls_aead_worker_create(dp->tls_engine, &probe);
	}
	if (rc < 0) {
		log_err("TLS: no AEAD engine runs on this CPU: %s", strerror(-rc));
		return rc;
	}
	log_info("TLS: AEAD engine %s (%s)", dp->tls_engine->name, tls_aead_worker_describe(probe));
	tls_aead_worker_free(probe);

	memset(&keys, 0, sizeof(keys));
	if (c->tls_ticket_key_file[0]) {
		rc = ticket_key_file_read(c->tls_ticket_key_file, &file_keys, err, sizeof(err));
		if (rc < 0) {
			log_err("dataplane.tls.ticket_key_file: %s", err);
			return rc;
		}
		dataplane_ticket_keys_convert(&file_keys, &keys);
		explicit_bzero(&file_keys, sizeof(file_keys));
	} else {
		keys.count = 1;
		rc = tls_ticket_key_generate(&keys.keys[0]);
		if (rc < 0) {
			log_err("TLS: cannot generate a session ticket key: %s", strerror(-rc));
			return rc;
		}
	}
	rc = tls_ticket_keyring_create(c->lcore_count, &keys, &dp->tls_ticket_keys);
	explicit_bzero(&keys, sizeof(keys));
	if (rc < 0) {
		log_err("TLS: ticket key ring: %s", strerror(-rc));
		return rc;
	}
	server.ticket_keys = dp->tls_ticket_keys;
	for (uint32_t i = 0; i < c->tls_certificate_chains_count; i++)
		certificates[i] = (struct tls_handshake_certificate){
			.chain_file = c->tls_certificate_chains[i],
			.key_file = c->tls_certificate_keys[i],
			.server_names = NULL, /* the certificate's DNS names */
		};
	rc = tls_handshake_server_create(&server, &dp->tls_server, err, sizeof(err));
	if (rc < 0) {
		log_err("TLS: %s", err);
		return rc;
	}
	log_info("TLS: %u certificate%s, session tickets from %s", c->tls_certificate_chains_count,
		 c->tls_certificate_chains_count == 1 ? "" : "s",
		 c->tls_ticket_key_file[0] ? c->tls_ticket_key_file : "a random key");
	return 0;
}

static int dataplane_worker_create(struct dataplane *dp, uint32_t index, struct siphash_key secret)
{
	const struct dataplane_config *c = &dp->cfg.dataplane;
	const struct tcp_cc_ops *cc = tcp_cc_find(c->tcp_cc);
	struct tcp_settings ts = {
		.max_connections = c->max_connections,
		.app_size = (uint32_t)(dp->tls_server ? tls_app_area_size() : http_session_size()),
		.rto_min_us = c->tcp_rto_min_ms * 1000,
		.rto_max_us = c->tcp_rto_max_ms * 1000,
		.rto_initial_us = c->tcp_rto_initial_ms * 1000,
		.syn_retries = c->tcp_syn_retries,
		.data_retries = c->tcp_data_retries,
		.initial_cwnd_segments = c->tcp_initial_cwnd_segments,
		.fin_timeout_us = c->tcp_fin_timeout_ms * 1000,
		.time_wait_us = c->tcp_time_wait_ms * 1000,
		.keepalive_idle_us = c->tcp_keepalive_idle_ms * 1000,
		.keepalive_interval_us = c->tcp_keepalive_interval_ms * 1000,
		.keepalive_probes = c->tcp_keepalive_probes,
		.delack_us = c->tcp_delack_ms * 1000,
		.syn_backlog = c->tcp_syn_backlog,
		.sendmap_entries = c->tcp_sendmap_entries,
		.pacing = c->tcp_pacing,
		.tlp = c->tcp_tlp,
		.timer_tick_us = 50,
		.output_burst_bytes = 256 * 1024,
		.secret = secret,
	};
	struct http_server_settings hs;
	struct worker *w;
	int rc;

	if (!cc) {
		log_err("dataplane.tcp.cc: no congestion control module named '%s'", c->tcp_cc);
		return -EINVAL;
	}
	http_server_settings_from_config(c, &hs);
	w = rte_zmalloc("sluice_worker", sizeof(*w), 64);
	if (!w)
		return -ENOMEM;
	dp->workers[index] = w;
	w->lcore_id = c->lcores[index];
	w->queue_id = (uint16_t)index;
	w->port_id = dp->port.port_id;
	w->pool = dp->port.pools[index];
	w->tx_segments_max = dp->port.tx_segments_max;
	w->tsc_hz = rte_get_tsc_hz();
	w->tsc_per_us = w->tsc_hz / 1000000 ? w->tsc_hz / 1000000 : 1;
	w->tsc_base = rte_rdtsc();
	w->publish_period_tsc = w->tsc_hz / 1000000 * STATS_PUBLISH_PERIOD_US;
	w->stats = stats_segment_lcore(&dp->stats, index);
	w->stats->lcore_id = w->lcore_id;
	w->stats->queue_id = index;
	w->quit = &dataplane_quit;

	w->ns.io = &worker_netio;
	w->ns.io_ctx = w;
	memcpy(w->ns.mac, dp->port.mac, 6);
	w->ns.mtu = dp->port.mtu;
	w->ns.ipv4 = c->ipv4.s_addr;
	w->ns.ipv4_netmask = htonl(c->ipv4_prefix_len == 32 ? 0xffffffffu : ~(0xffffffffu >> c->ipv4_prefix_len));
	memcpy(w->ns.ipv6, &c->ipv6, 16);
	w->ns.ipv6_prefix_len = (uint8_t)c->ipv6_prefix_len;
	w->ns.ipv6_enabled = c->ipv6_enabled;
	/* TCP sends bursts either way: the port segments them (TSO), or worker.c does. */
	w->port_tx_offloads = dp->port.tx_offloads;
	w->ns.tx_offloads = dp->port.tx_offloads | NET_TX_OFFLOAD_TCP_TSO | NET_TX_OFFLOAD_TCP_TSO6;
	w->ns.lcore_id = w->lcore_id;
	w->ns.queue_id = index;
	w->ns.now_us = 1;
	w->ns.neigh = neigh_table_create(c->arp_entries);
	w->ns.tcp = tcp_stack_create(&ts);
	w->http = http_server_create(&hs, dp->catalog);
	w->ns.counters.value[DPC_catalog_version] = dp->catalog->version;
	if (!w->ns.neigh || !w->ns.tcp || !w->http) {
		log_err("worker %u: cannot allocate its tables (%u connections): %s", index, c->max_connections,
			strerror(errno));
		return -ENOMEM;
	}
	rc = tcp_listen(w->ns.tcp, (uint16_t)c->http_port, &http_plain_app_ops, cc,
			http_server_listener(w->http, &http_plain_transport, NULL));
	if (rc) {
		log_err("worker %u: cannot listen on port %u: %s", index, c->http_port, strerror(-rc));
		return rc;
	}
	http_server_set_pagein(w->http, store_pagein_queue_of(dp->pagein, index));
	http_server_set_accesslog(w->http, http_accesslog_writer_of(&dp->accesslog, index, w->lcore_id), w->lcore_id);
	http_server_set_sign_keys(w->http, &dp->sign_keys);
	if (dp->tls_server) {
		struct tls_app_settings tls = {
			.engine = dp->tls_engine,
			.server = dp->tls_server,
			.ticket_keys = dp->tls_ticket_keys,
			.ticket_reader = index,
			.sessions = c->max_connections,
			.receive_buffers = c->tls_receive_buffers,
			.max_handshakes = c->tls_max_handshakes,
			.handshakes_per_iteration = c->tls_handshakes_per_iteration,
			.handshake_timeout_us = c->tls_handshake_timeout_ms * 1000,
		};

		w->tls = tls_app_create(&tls);
		if (!w->tls) {
			log_err("worker %u: cannot create its TLS state: %s", index, strerror(errno));
			return -ENOMEM;
		}
		rc = tcp_listen(w->ns.tcp, (uint16_t)c->https_port, &tls_app_ops, cc,
				http_server_listener(w->http, &tls_transport, w->tls));
		if (rc) {
			log_err("worker %u: cannot listen on port %u: %s", index, c->https_port, strerror(-rc));
			return rc;
		}
	}
	http_server_tick(w->http, &w->ns);
	log_info("worker %u on lcore %u: queue %u, %u connections of %u bytes", index, w->lcore_id, index,
		 c->max_connections, tcp_conn_slot_bytes(w->ns.tcp));
	return 0;
}

/* Posts a command to every worker and waits until all applied it. Returns 0 or the first
 * worker's error; -ETIMEDOUT names the lcore in message. */
static int dataplane_post_object(struct dataplane *dp, enum worker_command type, const struct store_catalog *catalog,
				 uint32_t admission, const void *object, char *message, size_t message_len)
{
	uint64_t deadline = rte_get_timer_cycles() + rte_get_timer_hz() * WORKER_COMMAND_TIMEOUT_US / 1000000;
	int rc = 0;

	for (uint32_t i = 0; i < dp->worker_count; i++) {
		struct worker_mailbox *mb = &dp->workers[i]->mailbox;

		mb->type = type;
		mb->catalog = catalog;
		mb->admission = admission;
		mb->object = object;
		__atomic_store_n(&mb->posted, mb->posted + 1, __ATOMIC_RELEASE);
	}
	for (uint32_t i = 0; i < dp->worker_count; i++) {
		struct worker_mailbox *mb = &dp->workers[i]->mailbox;

		while (__atomic_load_n(&mb->applied, __ATOMIC_ACQUIRE) != mb->posted) {
			if (rte_get_timer_cycles() > deadline) {
				snprintf(message, message_len, "lcore %u did not apply the command within 1 s",
					 dp->workers[i]->lcore_id);
				return -ETIMEDOUT;
			}
			usleep(50);
		}
		if (mb->result && !rc) {
			rc = mb->result;
			snprintf(message, message_len, "lcore %u: %s", dp->workers[i]->lcore_id, strerror(-rc));
		}
	}
	return rc;
}

static int dataplane_post(struct dataplane *dp, enum worker_command type, const struct store_catalog *catalog,
			  uint32_t admission, char *message, size_t message_len)
{
	return dataplane_post_object(dp, type, catalog, admission, NULL, message, message_len);
}

/* Frees replaced catalogs that no lcore holds any more and no page-in helper reads. */
static void dataplane_release_catalogs(struct dataplane *dp)
{
	for (uint32_t p = 0; p < CATALOGS_PENDING_MAX; p++) {
		bool held = false;

		if (!dp->pending[p])
			continue;
		for (uint32_t i = 0; i < dp->worker_count && !held; i++)
			held = http_server_catalog_held(dp->workers[i]->http, dp->pending[p]);
		if (__atomic_load_n(&dp->pending[p]->pagein_pending, __ATOMIC_ACQUIRE))
			held = true;
		if (!held) {
			log_info("catalog version %llu released", (unsigned long long)dp->pending[p]->version);
			store_catalog_free((struct store_catalog *)dp->pending[p]);
			dp->pending[p] = NULL;
		}
	}
}

static uint32_t dataplane_catalog_reload(struct dataplane *dp, const struct sluice_cmd_catalog_reload *req,
					 struct sluice_cmd_result *result, struct sluice_cmd_catalog_reply *reply)
{
	char path[CONFIG_PATH_MAX + 16], err[200];
	const struct store_catalog *next;
	uint32_t slot = CATALOGS_PENDING_MAX;
	int rc;

	memcpy(path, req->path, sizeof(req->path));
	path[sizeof(req->path)] = 0;
	if (!path[0])
		memcpy(path, dp->catalog_path, sizeof(path));
	dataplane_release_catalogs(dp);
	for (uint32_t p = 0; p < CATALOGS_PENDING_MAX && slot == CATALOGS_PENDING_MAX; p++)
		if (!dp->pending[p])
			slot = p;
	if (slot == CATALOGS_PENDING_MAX) {
		result->status = -EBUSY;
		snprintf(result->message, sizeof(result->message),
			 "%d older catalogs are still being sent from; try again when downloads finish",
			 CATALOGS_PENDING_MAX);
		return 0;
	}
	next = store_catalog_load(dp->cfg.dataplane.store_root, path, err, sizeof(err));
	if (!next) {
		result->status = -EINVAL;
		snprintf(result->message, sizeof(result->message), "%s", err);
		return 0;
	}
	{
		/* Residency before the lcores see it, so that hot files do not park. */
		struct store_sweep_result sweep = {0};

		store_resident_sweep_catalog((struct store_catalog *)next, dp->sweep_vec, &sweep);
	}
	rc = dataplane_post(dp, WORKER_CMD_CATALOG, next, 0, result->message, sizeof(result->message));
	if (rc) {
		/* Cannot happen while pending slots are bounded; keep the new catalog alive
		 * anyway, since some lcores may have switched. */
		result->status = rc;
	}
	dp->pending[slot] = dp->catalog;
	dp->catalog = next;
	dataplane_release_catalogs(dp);
	reply->version = next->version;
	reply->files = next->count;
	reply->rejected = next->rejected;
	for (uint32_t p = 0; p < CATALOGS_PENDING_MAX; p++)
		reply->previous_pending += dp->pending[p] != NULL;
	if (!rc)
		snprintf(result->message, sizeof(result->message), "catalog version %llu: %u files, %u rejected",
			 (unsigned long long)next->version, next->count, next->rejected);
	log_info("catalog %s: version %llu, %u files (%u rejected)", path, (unsigned long long)next->version,
		 next->count, next->rejected);
	return sizeof(*reply);
}

/* Session ticket keys for every lcore: published at once, the old table freed after each
 * lcore passed a quiescent state (tls_ticket.h). */
static uint32_t dataplane_ticket_keys_set(struct dataplane *dp, const uint8_t *payload, struct sluice_cmd_result *result)
{
	struct sluice_cmd_ticket_keys req;
	struct tls_ticket_keys keys;
	int rc;

	memcpy(&req, payload, sizeof(req));
	if (!dp->tls_ticket_keys) {
		result->status = -ENOTCONN;
		snprintf(result->message, sizeof(result->message), "no HTTPS listener: no ticket keys to replace");
	} else if (req.count < 1 || req.count > SLUICE_CMD_TICKET_KEYS_MAX) {
		result->status = -EINVAL;
		snprintf(result->message, sizeof(result->message), "%u ticket keys: 1 to %d expected", req.count,
			 SLUICE_CMD_TICKET_KEYS_MAX);
	} else {
		dataplane_ticket_keys_convert(&req, &keys);
		rc = tls_ticket_keyring_replace(dp->tls_ticket_keys, &keys, TICKET_ROTATION_TIMEOUT_MS);
		explicit_bzero(&keys, sizeof(keys));
		if (rc == -ETIMEDOUT)
			rc = 0; /* published; the old table is freed by a later rotation */
		result->status = rc;
		if (rc)
			snprintf(result->message, sizeof(result->message), "ticket keys not replaced: %s",
				 rc == -EBUSY ? "an lcore still holds the keys before the last ones" : strerror(-rc));
		else
			snprintf(result->message, sizeof(result->message), "%u ticket key%s in use", req.count,
				 req.count == 1 ? "" : "s");
		log_info("session ticket keys: %s", result->message);
	}
	explicit_bzero(&req, sizeof(req));
	return 0;
}

/* One slice of the residency and size sweep over every live catalog, sized so that each
 * catalog is swept once per scan_interval_ms (store_resident.h has the cost). */
static void dataplane_sweep(struct dataplane *dp, uint64_t elapsed_us)
{
	const struct store_catalog *cats[1 + CATALOGS_PENDING_MAX];
	uint32_t n = 0;

	cats[n++] = dp->catalog;
	for (uint32_t p = 0; p < CATALOGS_PENDING_MAX; p++)
		if (dp->pending[p])
			cats[n++] = dp->pending[p];
	for (uint32_t i = 0; i < n; i++) {
		struct store_catalog *cat = (struct store_catalog *)cats[i];
		uint64_t pages = cat->total_bytes / 4096 + cat->count;
		uint64_t budget = pages * elapsed_us / ((uint64_t)dp->cfg.dataplane.store_scan_interval_ms * 1000);
		struct store_sweep_result result = {0};

		if (budget < 64)
			budget = 64;
		if (budget > STORE_SWEEP_STEP_PAGES)
			budget = STORE_SWEEP_STEP_PAGES; /* keep the command socket responsive */
		store_resident_sweep(cat, budget, dp->sweep_vec, &result);
		dp->sweep_files_broken += result.files_broken;
	}
}

/* Reads a key file (url_sign.h format) into ring. Returns 0 or -errno with err set. */
static int dataplane_sign_keys_load(struct dataplane *dp, const char *path, struct url_sign_keyring *ring, char *err,
				    size_t err_len)
{
	char *text = malloc(SIGN_KEYS_FILE_MAX);
	size_t len = 0;
	FILE *f;
	int rc;

	url_sign_keyring_init(ring);
	if (!text)
		return -ENOMEM;
	f = fopen(path, "r");
	if (!f) {
		rc = -errno;
		snprintf(err, err_len, "%s: %s", path, strerror(errno));
		free(text);
		return rc;
	}
	len = fread(text, 1, SIGN_KEYS_FILE_MAX, f);
	fclose(f);
	if (len == SIGN_KEYS_FILE_MAX) {
		snprintf(err, err_len, "%s: larger than %d bytes", path, SIGN_KEYS_FILE_MAX);
		rc = -EFBIG;
	} else {
		char line_err[160];

		rc = url_sign_keyring_load(ring, dp->sign_engine, text, len, line_err, sizeof(line_err));
		if (rc)
			snprintf(err, err_len, "%s: %s", path, line_err);
	}
	explicit_bzero(text, SIGN_KEYS_FILE_MAX);
	free(text);
	return rc;
}

/* SLUICE_CMD_SIGN_KEYS_SET: the whole key ring, replacing the previous one. */
static void dataplane_sign_keys_set(struct dataplane *dp, const struct sluice_cmd_sign_keys *req,
				    struct sluice_cmd_result *result)
{
	struct url_sign_keyring ring;
	char ids[160] = "";
	int rc = 0, n = 0;

	url_sign_keyring_init(&ring);
	if (req->count > SLUICE_CMD_SIGN_KEYS_MAX) {
		result->status = -EINVAL;
		snprintf(result->message, sizeof(result->message), "%u keys: at most %d", req->count,
			 SLUICE_CMD_SIGN_KEYS_MAX);
		return;
	}
	for (uint32_t i = 0; i < req->count && !rc; i++) {
		struct url_sign_key key = {.id = req->keys[i].kid, .secret_len = req->keys[i].length};

		if (!key.id || key.secret_len < URL_SIGN_SECRET_MIN || key.secret_len > URL_SIGN_SECRET_MAX) {
			rc = -EINVAL;
		} else {
			memcpy(key.secret, req->keys[i].secret, key.secret_len);
			rc = url_sign_keyring_add(&ring, dp->sign_engine, &key);
			url_sign_key_wipe(&key);
		}
		if (rc)
			snprintf(result->message, sizeof(result->message), "key %u (kid %u, %u bytes): %s", i,
				 req->keys[i].kid, req->keys[i].length,
				 rc == -EEXIST ? "kid listed twice" : "kid must be 1..255 and the secret 32..64 bytes");
		else
			n += snprintf(ids + n, sizeof(ids) - (size_t)n, "%s%u", i ? ", " : "", req->keys[i].kid);
	}
	if (!rc)
		rc = dataplane_post_object(dp, WORKER_CMD_SIGN_KEYS, NULL, 0, &ring, result->message,
					   sizeof(result->message));
	if (!rc) {
		dp->sign_keys = ring;
		snprintf(result->message, sizeof(result->message), "%u signing key%s%s%s", req->count,
			 req->count == 1 ? "" : "s", req->count ? ": kid " : "", ids);
		log_info("URL-signing keys replaced: %u key(s)", req->count);
	}
	result->status = rc;
	explicit_bzero(&ring, sizeof(ring));
}

/* Settings SLUICE_CMD_CONFIG_RELOAD applies while running; everything else needs a restart
 * (the control.* group belongs to the control plane and is not the data plane's concern). */
static bool dataplane_setting_reloadable(const char *path)
{
	if (!strcmp(path, "dataplane.http.max_request_bytes"))
		return false; /* sizes the request buffers */
	return !strncmp(path, "dataplane.http.", 15) || !strcmp(path, "dataplane.store.readahead_kb") ||
	       !strcmp(path, "dataplane.store.scan_interval_ms");
}

struct dataplane_reload_diff {
	char applied[512];
	char restart[512];
	uint32_t applied_count, restart_count;
};

static void dataplane_reload_visit(const char *path, void *arg)
{
	struct dataplane_reload_diff *d = arg;
	char *list;
	size_t len;

	if (!strncmp(path, "control.", 8))
		return;
	if (dataplane_setting_reloadable(path)) {
		list = d->applied;
		d->applied_count++;
	} else {
		list = d->restart;
		d->restart_count++;
	}
	len = strlen(list);
	snprintf(list + len, 512 - len, "%s%s", len ? ", " : "", path + 10 /* without "dataplane." */);
}

/* Copies the settings that can change while running from next into the running config. */
static void dataplane_adopt_reloadable(struct dataplane_config *run, const struct dataplane_config *next)
{
	run->http_keepalive_timeout_ms = next->http_keepalive_timeout_ms;
	run->http_header_timeout_ms = next->http_header_timeout_ms;
	run->http_send_timeout_ms = next->http_send_timeout_ms;
	run->http_max_request_line_bytes = next->http_max_request_line_bytes;
	run->http_max_header_count = next->http_max_header_count;
	run->http_max_body_bytes = next->http_max_body_bytes;
	run->http_max_ranges = next->http_max_ranges;
	memcpy(run->http_server_name, next->http_server_name, sizeof(run->http_server_name));
	memcpy(run->http_cache_control, next->http_cache_control, sizeof(run->http_cache_control));
	memcpy(run->http_cors_origins, next->http_cors_origins, sizeof(run->http_cors_origins));
	memcpy(run->http_cors_allow_headers, next->http_cors_allow_headers, sizeof(run->http_cors_allow_headers));
	run->http_cors_max_age_s = next->http_cors_max_age_s;
	run->http_sign_required = next->http_sign_required;
	memcpy(run->http_sign_prefixes, next->http_sign_prefixes, sizeof(run->http_sign_prefixes));
	run->http_sign_skew_s = next->http_sign_skew_s;
	memcpy(run->http_sign_keys_file, next->http_sign_keys_file, sizeof(run->http_sign_keys_file));
	run->store_readahead_kb = next->store_readahead_kb;
	run->store_scan_interval_ms = next->store_scan_interval_ms;
}

/* SLUICE_CMD_CONFIG_RELOAD: nothing is applied unless the whole file (and its key file) is
 * valid; then the changeable settings go to every lcore and the rest is named. */
static void dataplane_config_reload(struct dataplane *dp, const struct sluice_cmd_config_reload *req,
				    struct sluice_cmd_result *result)
{
	struct sluice_config *next = calloc(1, sizeof(*next));
	struct dataplane_reload_diff *diff = calloc(1, sizeof(*diff));
	char path[sizeof(req->path) + 1], err[CONFIG_ERROR_MAX];
	struct http_server_settings *hs = calloc(1, sizeof(*hs));
	struct url_sign_keyring ring;
	bool keys = false;
	int rc;

	url_sign_keyring_init(&ring);
	if (!next || !diff || !hs) {
		result->status = -ENOMEM;
		goto out;
	}
	memcpy(path, req->path, sizeof(req->path));
	path[sizeof(req->path)] = 0;
	if (!path[0])
		snprintf(path, sizeof(path), "%s", dp->cfg.source_path);
	rc = config_load_file(path, next, err, sizeof(err));
	if (rc) {
		result->status = rc;
		snprintf(result->message, sizeof(result->message), "nothing applied: %.230s", err);
		goto out;
	}
	if (next->dataplane.http_sign_keys_file[0]) {
		rc = dataplane_sign_keys_load(dp, next->dataplane.http_sign_keys_file, &ring, err, sizeof(err));
		if (rc) {
			result->status = rc;
			snprintf(result->message, sizeof(result->message), "nothing applied: %.230s", err);
			goto out;
		}
		keys = true;
	}
	config_diff(&dp->cfg, next, dataplane_reload_visit, diff);
	http_server_settings_from_config(&next->dataplane, hs);
	rc = dataplane_post_object(dp, WORKER_CMD_HTTP_SETTINGS, NULL, 0, hs, result->message, sizeof(result->message));
	if (!rc && keys)
		rc = dataplane_post_object(dp, WORKER_CMD_SIGN_KEYS, NULL, 0, &ring, result->message,
					   sizeof(result->message));
	if (rc) {
		result->status = rc;
		goto out;
	}
	if (keys)
		dp->sign_keys = ring;
	dataplane_adopt_reloadable(&dp->cfg.dataplane, &next->dataplane);
	{
		char *summary = malloc(2048);

		if (summary) {
			snprintf(summary, 2048, "%s%s%s%s%s%s%s", diff->restart_count ? "needs a restart: " : "",
				 diff->restart, diff->restart_count ? "; " : "",
				 diff->applied_count ? "applied: " : "no change to apply", diff->applied,
				 keys ? "; signing keys reloaded from " : "", keys ? next->dataplane.http_sign_keys_file : "");
			/* The reply holds 251 characters; the log has it all. */
			snprintf(result->message, sizeof(result->message), "%.251s", summary);
			log_info("config %s reloaded: %s", path, summary);
			free(summary);
		}
	}
out:
	explicit_bzero(&ring, sizeof(ring));
	free(next);
	free(diff);
	free(hs);
}

static uint64_t dataplane_published_total(struct dataplane *dp, enum dp_counter_id id)
{
	uint64_t total = 0;

	for (uint32_t i = 0; i < dp->worker_count; i++)
		total += stats_segment_lcore(&dp->stats, i)->values[id];
	return total;
}

static uint32_t dataplane_command(void *ctx, uint16_t type, const uint8_t *payload, uint32_t payload_len,
				  struct sluice_cmd_result *result, uint8_t *reply, uint32_t reply_max)
{
	static const uint32_t request_size[] = {
		[SLUICE_CMD_HELLO] = 0,
		[SLUICE_CMD_CATALOG_RELOAD] = sizeof(struct sluice_cmd_catalog_reload),
		[SLUICE_CMD_ADMISSION_SET] = sizeof(struct sluice_cmd_admission),
		[SLUICE_CMD_STATUS] = 0,
		[SLUICE_CMD_SIGN_KEYS_SET] = sizeof(struct sluice_cmd_sign_keys),
		[SLUICE_CMD_TICKET_KEYS_SET] = sizeof(struct sluice_cmd_ticket_keys),
		[SLUICE_CMD_CONFIG_RELOAD] = sizeof(struct sluice_cmd_config_reload),
	};
	struct dataplane *dp = ctx;

	(void)reply_max; /* every reply struct is far smaller than a message */
	if (type == 0 || type >= ARRAY_SIZE(request_size) || request_size[type] == UINT32_MAX) {
		result->status = -EOPNOTSUPP;
		snprintf(result->message, sizeof(result->message), "unknown command type %u", type);
		return 0;
	}
	if (payload_len != request_size[type]) {
		result->status = -EINVAL;
		snprintf(result->message, sizeof(result->message), "command %u expects %u payload bytes, got %u", type,
			 request_size[type], payload_len);
		return 0;
	}
	switch (type) {
	case SLUICE_CMD_HELLO: {
		struct sluice_cmd_hello_reply *r = (struct sluice_cmd_hello_reply *)reply;

		r->pid = getpid();
		r->lcore_count = dp->worker_count;
		r->start_time_ns = dp->stats.header->start_time_ns;
		r->catalog_version = dp->catalog->version;
		snprintf(r->version_string, sizeof(r->version_string), "%s", SLUICE_VERSION);
		snprintf(result->message, sizeof(result->message), "sluice-dataplane %s", SLUICE_VERSION);
		return sizeof(*r);
	}
	case SLUICE_CMD_CATALOG_RELOAD: {
		struct sluice_cmd_catalog_reload req;

		memcpy(&req, payload, sizeof(req));
		return dataplane_catalog_reload(dp, &req, result, (struct sluice_cmd_catalog_reply *)reply);
	}
	case SLUICE_CMD_ADMISSION_SET: {
		static const char *const names[] = {"open", "draining", "closed"};
		struct sluice_cmd_admission req;

		memcpy(&req, payload, sizeof(req));
		if (req.state > SLUICE_ADMISSION_CLOSED) {
			result->status = -EINVAL;
			snprintf(result->message, sizeof(result->message), "admission state %u is not 0, 1 or 2",
				 req.state);
			return 0;
		}
		result->status = dataplane_post(dp, WORKER_CMD_ADMISSION, NULL, req.state, result->message,
						sizeof(result->message));
		if (!result->status) {
			dp->admission = req.state;
			snprintf(result->message, sizeof(result->message), "admission %s", names[req.state]);
			log_info("admission %s", names[req.state]);
		}
		return 0;
	}
	case SLUICE_CMD_TICKET_KEYS_SET:
		return dataplane_ticket_keys_set(dp, payload, result);
	case SLUICE_CMD_STATUS: {
		struct sluice_cmd_status_reply *r = (struct sluice_cmd_status_reply *)reply;

		r->admission = dp->admission;
		r->lcore_count = dp->worker_count;
		r->catalog_version = dp->catalog->version;
		r->connections = dataplane_published_total(dp, DPC_tcp_conn_established) +
				 dataplane_published_total(dp, DPC_tcp_conn_closing);
		return sizeof(*r);
	}
	case SLUICE_CMD_SIGN_KEYS_SET: {
		struct sluice_cmd_sign_keys *req = malloc(sizeof(*req));

		if (!req) {
			result->status = -ENOMEM;
			return 0;
		}
		memcpy(req, payload, sizeof(*req));
		dataplane_sign_keys_set(dp, req, result);
		explicit_bzero(req, sizeof(*req));
		free(req);
		return 0;
	}
	case SLUICE_CMD_CONFIG_RELOAD: {
		struct sluice_cmd_config_reload req;

		memcpy(&req, payload, sizeof(req));
		dataplane_config_reload(dp, &req, result);
		return 0;
	}
	default:
		result->status = -EOPNOTSUPP;
		snprintf(result->message, sizeof(result->message), "command type %u is not served here", type);
		return 0;
	}
}

static void dataplane_cleanup(struct dataplane *dp)
{
	for (uint32_t i = 0; i < dp->worker_count; i++) {
		struct worker *w = dp->workers[i];

		if (!w)
			continue;
		if (w->ns.tcp)
			tcp_stack_destroy(&w->ns, w->ns.tcp);
		tls_app_destroy(w->tls); /* after TCP released its connections */
		http_server_destroy(w->http);
		neigh_table_free(w->ns.neigh);
		rte_free(w);
	}
	tls_handshake_server_free(dp->tls_server);
	tls_ticket_keyring_free(dp->tls_ticket_keys);
	/* Helpers may read catalogs until they stop. */
	store_pagein_destroy(dp->pagein);
	url_sign_engine_free(dp->sign_engine);
	explicit_bzero(&dp->sign_keys, sizeof(dp->sign_keys));
	command_socket_close(&dp->commands);
	http_accesslog_close(&dp->accesslog);
	stats_segment_destroy(&dp->stats);
	port_close(&dp->port);
	store_catalog_free((struct store_catalog *)dp->catalog);
	for (uint32_t i = 0; i < CATALOGS_PENDING_MAX; i++)
		store_catalog_free((struct store_catalog *)dp->pending[i]);
	if (dp->eal_ready)
		rte_eal_cleanup();
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{"config", required_argument, NULL, 'c'},
		{"check-config", required_argument, NULL, 'k'},
		{"config-reference", no_argument, NULL, 'r'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	static struct dataplane dp;
	const char *config_path = NULL;
	bool check_only = false;
	char err[CONFIG_ERROR_MAX];
	struct siphash_key secret;
	int opt, rc = 1;

	log_set_program("sluice-dataplane");
	if (sluice_alloc_init())
		log_warn("OpenSSL allocated before jemalloc could be installed");
	while ((opt = getopt_long(argc, argv, "c:k:rh", options, NULL)) != -1) {
		switch (opt) {
		case 'c': config_path = optarg; break;
		case 'k': config_path = optarg; check_only = true; break;
		case 'r':
			printf("| key | type | default | meaning |\n|---|---|---|---|\n");
			config_for_each_key(print_config_key, NULL);
			return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!config_path || optind != argc) {
		usage(stderr);
		return 2;
	}
	if (config_load_file(config_path, &dp.cfg, err, sizeof(err))) {
		log_err("%s", err);
		return 1;
	}
	if (check_only) {
		printf("%s: ok\n", config_path);
		return 0;
	}
	{
		/* One descriptor per cataloged file per live catalog (catalog.h). */
		struct rlimit nofile;

		if (!getrlimit(RLIMIT_NOFILE, &nofile) && nofile.rlim_cur < nofile.rlim_max) {
			nofile.rlim_cur = nofile.rlim_max;
			setrlimit(RLIMIT_NOFILE, &nofile);
		}
	}
	if (getrandom(&secret, sizeof(secret), 0) != sizeof(secret)) {
		log_err("getrandom: %s", strerror(errno));
		return 1;
	}
	signal(SIGINT, dataplane_signal);
	signal(SIGTERM, dataplane_signal);
	signal(SIGPIPE, SIG_IGN);

	if (steering_prepare(&dp.cfg.dataplane))
		log_warn("steering: interface %s not found", dp.cfg.dataplane.port_iface);
	if (dataplane_eal_init(&dp, argv[0]))
		goto cleanup;
	/* After the EAL, which installs and removes its own SIGBUS handler while mapping memory. */
	if (store_guard_install()) {
		log_err("cannot install the SIGBUS handler: %s", strerror(errno));
		goto cleanup;
	}
	if (dp.cfg.dataplane.catalog_path[0])
		snprintf(dp.catalog_path, sizeof(dp.catalog_path), "%s", dp.cfg.dataplane.catalog_path);
	else
		snprintf(dp.catalog_path, sizeof(dp.catalog_path), "%s/catalog.json", dp.cfg.dataplane.store_root);
	dp.catalog = store_catalog_load(dp.cfg.dataplane.store_root, dp.catalog_path, err, sizeof(err));
	if (!dp.catalog) {
		log_err("catalog: %s", err);
		goto cleanup;
	}
	{
		struct store_sweep_result sweep = {0};

		store_resident_sweep_catalog((struct store_catalog *)dp.catalog, dp.sweep_vec, &sweep);
		log_info("catalog %s: version %llu, %u files (%u rejected), %llu of %llu MiB resident",
			 dp.catalog_path, (unsigned long long)dp.catalog->version, dp.catalog->count,
			 dp.catalog->rejected, (unsigned long long)(store_resident_bytes(dp.catalog) >> 20),
			 (unsigned long long)(dp.catalog->total_bytes >> 20));
	}
	if (port_open(&dp.cfg.dataplane, &dp.port))
		goto cleanup;
	rc = steering_register(&dp.cfg.dataplane, err, sizeof(err));
	if (rc < 0) {
		log_err("steering: %s", err);
		rc = 1;
		goto cleanup;
	}
	if (rc > 0)
		log_info("steering: %d service ports registered under service id %u", rc,
			 dp.cfg.dataplane.port_service_id);
	rc = stats_segment_create(&dp.stats, dp.cfg.dataplane.stats_path, dp.cfg.dataplane.lcore_count,
				  rte_get_tsc_hz(), STATS_PUBLISH_PERIOD_US);
	if (rc) {
		log_err("stats segment %s: %s", dp.cfg.dataplane.stats_path, strerror(-rc));
		rc = 1;
		goto cleanup;
	}
	{
		char path[CONFIG_PATH_MAX + 16];

		if (dp.cfg.dataplane.accesslog_path[0])
			snprintf(path, sizeof(path), "%s", dp.cfg.dataplane.accesslog_path);
		else
			snprintf(path, sizeof(path), "%s.accesslog", dp.cfg.dataplane.stats_path);
		rc = http_accesslog_create(&dp.accesslog, path, dp.cfg.dataplane.lcore_count,
					   dp.cfg.dataplane.accesslog_records);
		if (rc) {
			log_err("access log %s: %s", path, strerror(-rc));
			rc = 1;
			goto cleanup;
		}
	}
	rc = command_socket_open(&dp.commands, dp.cfg.dataplane.command_socket);
	if (rc) {
		log_err("command socket %s: %s", dp.cfg.dataplane.command_socket, strerror(-rc));
		rc = 1;
		goto cleanup;
	}
	rc = 1;
	dp.pagein = store_pagein_create(dp.cfg.dataplane.lcore_count, PAGEIN_RING_SIZE,
					dp.cfg.dataplane.store_pagein_threads);
	dp.sign_engine = url_sign_engine_create();
	if (!dp.pagein || !dp.sign_engine) {
		log_err("page-in helpers or signing engine: %s", strerror(errno));
		goto cleanup;
	}
	url_sign_keyring_init(&dp.sign_keys);
	if (dp.cfg.dataplane.http_sign_keys_file[0] &&
	    dataplane_sign_keys_load(&dp, dp.cfg.dataplane.http_sign_keys_file, &dp.sign_keys, err, sizeof(err))) {
		log_err("dataplane.http.sign_keys_file: %s", err);
		goto cleanup;
	}
	if (dataplane_tls_init(&dp))
		goto cleanup;
	for (uint32_t i = 0; i < dp.cfg.dataplane.lcore_count; i++) {
		dp.worker_count = i + 1;
		if (dataplane_worker_create(&dp, i, secret))
			goto cleanup;
	}
	for (uint32_t i = 0; i < dp.worker_count; i++) {
		int lrc = rte_eal_remote_launch(worker_main, dp.workers[i], dp.workers[i]->lcore_id);
		if (lrc) {
			log_err("cannot launch worker %u on lcore %u: %s", i, dp.workers[i]->lcore_id, strerror(-lrc));
			dataplane_quit = true;
			break;
		}
	}
	if (!dataplane_quit)
		log_info("serving %s:%u%s over %s (%u worker%s)", inet_ntoa(dp.cfg.dataplane.ipv4),
			 dp.cfg.dataplane.http_port, dp.tls_server ? " and HTTPS" : "", dp.cfg.dataplane.port_iface,
			 dp.worker_count, dp.worker_count == 1 ? "" : "s");
	{
		uint64_t last = rte_get_timer_cycles(), hz = rte_get_timer_hz();

		while (!dataplane_quit) {
			uint64_t now;

			stats_heartbeat(&dp.stats);
			command_socket_poll(&dp.commands, MAIN_POLL_MS, dataplane_command, &dp);
			now = rte_get_timer_cycles();
			dataplane_sweep(&dp, (now - last) * 1000000 / hz);
			last = now;
			dataplane_release_catalogs(&dp);
		}
	}
	log_info("stopping");
	rte_eal_mp_wait_lcore();
	rc = 0;
cleanup:
	dataplane_cleanup(&dp);
	log_info("stopped");
	return rc;
}
