/* SPDX-License-Identifier: BSD-3-Clause
 *
 * config.h: the one configuration file shared by sluice-dataplane and sluice-control.
 *
 * The file is libconfig syntax (a well-kept, packaged parser that reports line numbers) with
 * one group per process:
 *
 *     dataplane = { port = { driver = "af_xdp"; iface = "sluice-edge"; }; ... };
 *     control   = { listen = "127.0.0.1:8701"; ... };
 *
 * Both processes parse and validate the whole file, so a mistake in either half is caught by
 * whichever starts first. Validation is table driven (config.c: one row per key with type,
 * range and default): unknown keys, wrong types and out-of-range values are errors that name
 * the file, line and full key path. Every key is documented in README.md (a unit test checks
 * that the README names each one).
 */
#ifndef SLUICE_CONFIG_H
#define SLUICE_CONFIG_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONFIG_PATH_MAX 256
#define CONFIG_NAME_MAX 64
#define CONFIG_LCORES_MAX 64
#define CONFIG_ERROR_MAX 512
#define CONFIG_CORS_ORIGINS_MAX 16
#define CONFIG_CORS_ORIGIN_MAX 128
#define CONFIG_TLS_CERTIFICATES_MAX 8
#define CONFIG_HEADER_VALUE_MAX 128

struct dataplane_config {
	/* Port. */
	char port_driver[CONFIG_NAME_MAX];     /* "af_xdp", "tap" or "pci" */
	char port_iface[CONFIG_NAME_MAX];      /* kernel interface (af_xdp, tap) */
	char port_pci[CONFIG_NAME_MAX];        /* PCI address (pci) */
	char port_xdp_prog[CONFIG_PATH_MAX];   /* af_xdp: steering program object, "" = PMD default */
	uint32_t port_service_id;              /* steering: admission state our services follow */
	uint32_t port_busy_budget;             /* af_xdp: packets per busy-poll syscall, 0 = none */
	uint32_t port_queues;                  /* RX/TX queue pairs = worker lcores */
	uint32_t port_mtu;                     /* bytes, IP MTU */
	uint32_t port_rx_ring;                 /* descriptors */
	uint32_t port_tx_ring;                 /* descriptors */
	uint32_t mbufs_per_queue;              /* mbufs in each queue's pool */

	/* EAL. */
	uint32_t lcores[CONFIG_LCORES_MAX];    /* worker lcore ids, one per queue */
	uint32_t lcore_count;
	uint32_t main_lcore;
	uint32_t memory_mb;                    /* EAL memory when hugepages are off */
	bool hugepages;                        /* false: --no-huge */
	char file_prefix[CONFIG_NAME_MAX];     /* EAL --file-prefix, keeps instances apart */

	/* Addresses served. */
	struct in_addr ipv4;
	uint32_t ipv4_prefix_len;
	struct in6_addr ipv6;
	uint32_t ipv6_prefix_len;
	bool ipv6_enabled;

	/* Services. */
	uint32_t http_port;
	uint32_t https_port;                   /* 0 = no HTTPS listener */
	char store_root[CONFIG_PATH_MAX];
	char catalog_path[CONFIG_PATH_MAX];    /* "" = <store_root>/catalog.json */

	/* Per-lcore capacity. */
	uint32_t max_connections;              /* per lcore */
	uint32_t arp_entries;                  /* per lcore */

	/* TCP. */
	char tcp_cc[CONFIG_NAME_MAX];          /* congestion control module name */
	uint32_t tcp_rto_min_ms;
	uint32_t tcp_rto_max_ms;
	uint32_t tcp_rto_initial_ms;
	uint32_t tcp_syn_retries;
	uint32_t tcp_data_retries;             /* RTOs before a connection is reset */
	uint32_t tcp_initial_cwnd_segments;
	uint32_t tcp_fin_timeout_ms;           /* FIN_WAIT/LAST_ACK/CLOSING bound */
	uint32_t tcp_time_wait_ms;
	uint32_t tcp_keepalive_idle_ms;        /* silence before the first keepalive probe, 0 = off */
	uint32_t tcp_keepalive_interval_ms;
	uint32_t tcp_keepalive_probes;
	uint32_t tcp_delack_ms;
	uint32_t tcp_syn_backlog;              /* SYN_RECEIVED per lcore before SYN cookies */
	uint32_t tcp_sendmap_entries;          /* per lcore, 0 = 2 per connection */
	bool tcp_pacing;
	bool tcp_tlp;

	/* HTTP. */
	uint32_t http_keepalive_timeout_ms;
	uint32_t http_header_timeout_ms;
	uint32_t http_send_timeout_ms;         /* no new data acknowledged while some is queued */
	uint32_t http_max_request_bytes;       /* request head, and the size of its buffer */
	uint32_t http_max_request_line_bytes;
	uint32_t http_max_header_count;
	uint32_t http_max_body_bytes;          /* request body skipped up to this, bytes */
	uint32_t http_max_ranges;              /* ranges per request; more: 200 */
	char http_server_name[CONFIG_NAME_MAX];
	char http_cache_control[CONFIG_HEADER_VALUE_MAX];
	char http_cors_origins[CONFIG_CORS_ORIGINS_MAX * CONFIG_CORS_ORIGIN_MAX]; /* "", "*" or a list */
	char http_cors_allow_headers[2 * CONFIG_HEADER_VALUE_MAX];
	uint32_t http_cors_max_age_s;
	bool http_sign_required;
	char http_sign_prefixes[2 * CONFIG_HEADER_VALUE_MAX]; /* "" = every path */
	uint32_t http_sign_skew_s;
	char http_sign_keys_file[CONFIG_PATH_MAX];

	/* Segment store. */
	uint32_t store_pagein_threads;
	uint32_t store_readahead_kb;           /* page-in unit ahead of a response */
	uint32_t store_scan_interval_ms;       /* residency and size re-checked this often */

	/* TLS (HTTPS on service.https_port). */
	char tls_certificate_chains[CONFIG_TLS_CERTIFICATES_MAX][CONFIG_PATH_MAX]; /* PEM, leaf first */
	uint32_t tls_certificate_chains_count;
	char tls_certificate_keys[CONFIG_TLS_CERTIFICATES_MAX][CONFIG_PATH_MAX];   /* PEM, same order */
	uint32_t tls_certificate_keys_count;
	char tls_aead_engine[CONFIG_NAME_MAX];      /* "ipsec-mb" or "openssl" */
	char tls_ticket_key_file[CONFIG_PATH_MAX];  /* "" = random keys at start */
	uint32_t tls_max_handshakes;                /* in progress at once, per lcore */
	uint32_t tls_handshakes_per_iteration;      /* started per loop iteration, per lcore */
	uint32_t tls_handshake_timeout_ms;
	uint32_t tls_receive_buffers;               /* per lcore */

	/* Outside interfaces. */
	char stats_path[CONFIG_PATH_MAX];      /* shared-memory stats segment */
	char command_socket[CONFIG_PATH_MAX];  /* control plane's command socket */
	char accesslog_path[CONFIG_PATH_MAX];  /* "" = <stats_path>.accesslog */
	uint32_t accesslog_records;            /* per lcore ring, power of two */
};

struct control_config {
	/* REST API. */
	char listen[CONFIG_NAME_MAX];          /* "127.0.0.1:8701", "[::1]:8701", "[::]:8701" */
	char token_file[CONFIG_PATH_MAX];
	char state_dir[CONFIG_PATH_MAX];
	char tls_cert[CONFIG_PATH_MAX];        /* PEM; "" = plain HTTP */
	char tls_key[CONFIG_PATH_MAX];
	bool public_metrics;                   /* GET /metrics without a token */
	bool public_health;                    /* GET /v1/health without a token */
	char edge_id[CONFIG_NAME_MAX];         /* "" = the host name */
	uint32_t tick_ms;                      /* control loop period */
	uint32_t heartbeat_timeout_ms;         /* data plane down when its heartbeat is older */

	/* Access log (JSON lines drained from the data plane's rings). */
	char access_log[CONFIG_PATH_MAX];      /* "" = not written */
	uint32_t access_log_keep;              /* rotated files kept: path.1 .. path.N */

	/* Admission controller. */
	double capacity_gbps;                  /* 0 = throughput not an input */
	uint32_t max_connections;              /* 0 = dataplane max_connections x lcores */
	double admission_close_utilisation;    /* close at or above */
	double admission_reopen_utilisation;   /* reopen at or below */
	uint32_t admission_min_dwell_ms;       /* least time in a state before the next change */
	uint32_t admission_window_ms;          /* load averaged over */
	double admission_busy_limit;           /* lcore busy ratio counted as full; 0 = ignored */
	uint32_t admission_pagein_backlog_max; /* page-ins waiting counted as full; 0 = ignored */

	/* Steering program. */
	char steer_pin_dir[CONFIG_PATH_MAX];
	bool steer_auto_services;              /* keep the data plane's address:ports in the map */

	/* Health reports to the backend. */
	char report_url[CONFIG_PATH_MAX];      /* "" = off */
	char report_ca_file[CONFIG_PATH_MAX];  /* "" = the system's CAs */
	char report_token_file[CONFIG_PATH_MAX]; /* bearer token for the backend; "" = none */
	uint32_t report_interval_ms;
	uint32_t report_timeout_ms;
	uint32_t report_retries;
	uint32_t report_backoff_initial_ms;
	uint32_t report_backoff_max_ms;

	/* Fleet registration in etcd (v3 JSON gateway). */
	char etcd_endpoint[CONFIG_PATH_MAX];   /* "" = off */
	char etcd_prefix[CONFIG_NAME_MAX];
	uint32_t etcd_ttl_s;

	/* Fill from origin. */
	uint32_t fill_concurrency;             /* transfers at once */
	uint32_t fill_bandwidth_mbps;          /* Mbit/s over all transfers; 0 = unlimited */
	uint32_t fill_retries;                 /* attempts after the first, per file */
	uint32_t fill_connect_timeout_ms;
	uint32_t fill_stall_timeout_ms;        /* no byte for this long: timed out */
	uint32_t fill_file_timeout_ms;         /* whole file; 0 = no limit */
	uint32_t fill_max_files;               /* per manifest */
};

struct sluice_config {
	char source_path[CONFIG_PATH_MAX];
	struct dataplane_config dataplane;
	struct control_config control;
};

/* Fill cfg with every default; used before parsing and by tests. */
void config_defaults(struct sluice_config *cfg);

/* Parse and validate a file. Returns 0, or -EINVAL with a message naming file, line and key
 * in err (and -errno when the file cannot be read). cfg is fully written either way. */
int config_load_file(const char *path, struct sluice_config *cfg, char *err, size_t err_len);

/* Same, from a string (tests, REST config validation). name is used in messages. */
int config_load_string(const char *text, const char *name, struct sluice_config *cfg,
		       char *err, size_t err_len);

/* Iterate over every documented key ("dataplane.port.iface", ...) with its help text. */
typedef void (*config_key_visitor)(const char *path, const char *type, const char *default_value,
				   const char *help, void *arg);
void config_for_each_key(config_key_visitor visit, void *arg);

/* Calls visit(path, arg) for every key whose value differs between a and b (config reload:
 * what changed, and whether it can change while running). Returns how many differ. */
typedef void (*config_diff_visitor)(const char *path, void *arg);
uint32_t config_diff(const struct sluice_config *a, const struct sluice_config *b, config_diff_visitor visit,
		     void *arg);

/* "host:port" for IPv4 ("127.0.0.1:8701") or "[v6]:port" ("[::1]:8701", "[::]:8701": every
 * address, both families). Fills addr (struct sockaddr_in or sockaddr_in6) and *len.
 * Returns 0 or -EINVAL. */
struct sockaddr_storage;
int config_parse_listen(const char *text, struct sockaddr_storage *addr, unsigned *len);

#endif /* SLUICE_CONFIG_H */
