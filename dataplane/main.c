/* SPDX-License-Identifier: BSD-3-Clause
 *
 * main.c: sluice-dataplane — start, run, stop.
 *
 * Start (control path, in order): config → EAL → catalog → port → stats segment → one worker
 * per queue (network stack, TCP, HTTP) → launch the workers. The main lcore then only keeps
 * the stats heartbeat (and, later, the command socket) while the workers run their loops.
 * SIGINT/SIGTERM set the quit flag; workers reset their connections and stop; teardown runs
 * in reverse order through one cleanup path. Only main() exits.
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
#include "store/catalog.h"
#include "tcp/tcp.h"
#include "worker.h"

#define STATS_PUBLISH_PERIOD_US 5000
#define EAL_ARGS_MAX 32
#define CATALOGS_PENDING_MAX (HTTP_CATALOG_GENERATIONS - 1)
#define WORKER_COMMAND_TIMEOUT_US 1000000

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

static int dataplane_worker_create(struct dataplane *dp, uint32_t index, struct siphash_key secret)
{
	const struct dataplane_config *c = &dp->cfg.dataplane;
	const struct tcp_cc_ops *cc = tcp_cc_find(c->tcp_cc);
	struct tcp_settings ts = {
		.max_connections = c->max_connections,
		.app_size = (uint32_t)http_session_size(),
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
	struct http_server_settings hs = {
		.max_connections = c->max_connections,
		.max_request_bytes = c->http_max_request_bytes,
		.header_timeout_us = c->http_header_timeout_ms * 1000,
		.keepalive_timeout_us = c->http_keepalive_timeout_ms * 1000,
	};
	struct worker *w;
	int rc;

	if (!cc) {
		log_err("dataplane.tcp.cc: no congestion control module named '%s'", c->tcp_cc);
		return -EINVAL;
	}
	snprintf(hs.server_name, sizeof(hs.server_name), "%s", c->http_server_name);
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
	w->ns.tx_offloads = dp->port.tx_offloads;
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
	http_server_tick(w->http, &w->ns);
	log_info("worker %u on lcore %u: queue %u, %u connections of %u bytes", index, w->lcore_id, index,
		 c->max_connections, tcp_conn_slot_bytes(w->ns.tcp));
	return 0;
}

/* Posts a command to every worker and waits until all applied it. Returns 0 or the first
 * worker's error; -ETIMEDOUT names the lcore in message. */
static int dataplane_post(struct dataplane *dp, enum worker_command type, const struct store_catalog *catalog,
			  uint32_t admission, char *message, size_t message_len)
{
	uint64_t deadline = rte_get_timer_cycles() + rte_get_timer_hz() * WORKER_COMMAND_TIMEOUT_US / 1000000;
	int rc = 0;

	for (uint32_t i = 0; i < dp->worker_count; i++) {
		struct worker_mailbox *mb = &dp->workers[i]->mailbox;

		mb->type = type;
		mb->catalog = catalog;
		mb->admission = admission;
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

/* Frees replaced catalogs that no lcore holds any more. */
static void dataplane_release_catalogs(struct dataplane *dp)
{
	for (uint32_t p = 0; p < CATALOGS_PENDING_MAX; p++) {
		bool held = false;

		if (!dp->pending[p])
			continue;
		for (uint32_t i = 0; i < dp->worker_count && !held; i++)
			held = http_server_catalog_held(dp->workers[i]->http, dp->pending[p]);
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
	};
	struct dataplane *dp = ctx;

	(void)reply_max; /* every reply struct is far smaller than a message */
	if (type == 0 || type >= ARRAY_SIZE(request_size)) {
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
	case SLUICE_CMD_STATUS: {
		struct sluice_cmd_status_reply *r = (struct sluice_cmd_status_reply *)reply;

		r->admission = dp->admission;
		r->lcore_count = dp->worker_count;
		r->catalog_version = dp->catalog->version;
		r->connections = dataplane_published_total(dp, DPC_tcp_conn_established) +
				 dataplane_published_total(dp, DPC_tcp_conn_closing);
		return sizeof(*r);
	}
	}
	return 0;
}

static void dataplane_cleanup(struct dataplane *dp)
{
	for (uint32_t i = 0; i < dp->worker_count; i++) {
		struct worker *w = dp->workers[i];

		if (!w)
			continue;
		if (w->ns.tcp)
			tcp_stack_destroy(&w->ns, w->ns.tcp);
		http_server_destroy(w->http);
		neigh_table_free(w->ns.neigh);
		rte_free(w);
	}
	command_socket_close(&dp->commands);
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
	if (dp.cfg.dataplane.catalog_path[0])
		snprintf(dp.catalog_path, sizeof(dp.catalog_path), "%s", dp.cfg.dataplane.catalog_path);
	else
		snprintf(dp.catalog_path, sizeof(dp.catalog_path), "%s/catalog.json", dp.cfg.dataplane.store_root);
	dp.catalog = store_catalog_load(dp.cfg.dataplane.store_root, dp.catalog_path, err, sizeof(err));
	if (!dp.catalog) {
		log_err("catalog: %s", err);
		goto cleanup;
	}
	log_info("catalog %s: version %llu, %u files (%u rejected)", dp.catalog_path,
		 (unsigned long long)dp.catalog->version, dp.catalog->count, dp.catalog->rejected);
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
	rc = command_socket_open(&dp.commands, dp.cfg.dataplane.command_socket);
	if (rc) {
		log_err("command socket %s: %s", dp.cfg.dataplane.command_socket, strerror(-rc));
		rc = 1;
		goto cleanup;
	}
	rc = 1;
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
		log_info("serving %s:%u over %s (%u worker%s)", inet_ntoa(dp.cfg.dataplane.ipv4),
			 dp.cfg.dataplane.http_port, dp.cfg.dataplane.port_iface, dp.worker_count,
			 dp.worker_count == 1 ? "" : "s");
	while (!dataplane_quit) {
		stats_heartbeat(&dp.stats);
		command_socket_poll(&dp.commands, 100, dataplane_command, &dp);
		dataplane_release_catalogs(&dp);
	}
	log_info("stopping");
	rte_eal_mp_wait_lcore();
	rc = 0;
cleanup:
	dataplane_cleanup(&dp);
	log_info("stopped");
	return rc;
}
