/* SPDX-License-Identifier: BSD-3-Clause
 *
 * config.c: table-driven parsing and validation of sluice.conf (see config.h).
 *
 * One row per key: its dotted path, type, where it lands in struct sluice_config, its range,
 * default and help text. The parser walks the libconfig tree and looks every setting up in the
 * table, so an unknown key, a wrong type or an out-of-range value is reported with the line
 * number libconfig kept for that setting. Defaults are applied from the same table first, so a
 * missing key always has a documented value. The table is also what README.md documents.
 */
#include "config.h"

#include <arpa/inet.h>
#include <sys/socket.h>
#include <errno.h>
#include <inttypes.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler.h"

enum config_type {
	CONFIG_STRING,
	CONFIG_UINT,
	CONFIG_BOOL,
	CONFIG_IPV4,
	CONFIG_IPV6,
	CONFIG_LCORE_LIST,
	CONFIG_STRING_LIST,     /* char[max][size] at offset, uint32_t count at count_offset; a
				 * single string is a list of one */
	CONFIG_NUMBER,          /* double; integers are accepted */
};

struct config_key {
	const char *path;
	enum config_type type;
	size_t offset;          /* into struct sluice_config */
	size_t size;            /* strings: buffer size */
	uint64_t min, max;      /* CONFIG_UINT (inclusive) */
	const char *default_value;
	const char *help;
	size_t count_offset;    /* CONFIG_STRING_LIST: the entry count */
	double number_min, number_max; /* CONFIG_NUMBER (inclusive) */
	/* CONFIG_STRING: extra check of a non-empty value; fills why and returns -EINVAL. */
	int (*check)(const char *text, char *why, size_t why_len);
};

#define DP(field) offsetof(struct sluice_config, dataplane.field)
#define CTL(field) offsetof(struct sluice_config, control.field)
#define KEY(path_, type_, off, sz, lo, hi, def, help_)                                             \
	{.path = path_, .type = type_, .offset = off, .size = sz, .min = lo, .max = hi,             \
	 .default_value = def, .help = help_}
#define STRN(path, off, sz, def, help) KEY(path, CONFIG_STRING, off, sz, 0, 0, def, help)
#define UINT(path, off, lo, hi, def, help) KEY(path, CONFIG_UINT, off, 0, lo, hi, def, help)
#define BOOL(path, off, def, help) KEY(path, CONFIG_BOOL, off, 0, 0, 1, def, help)

#define DP_STRLIST(path_, field, help_)                                                             \
	{.path = path_, .type = CONFIG_STRING_LIST, .offset = DP(field),                            \
	 .size = sizeof(((struct dataplane_config *)0)->field[0]),                                  \
	 .max = ARRAY_SIZE(((struct dataplane_config *)0)->field), .default_value = "[]", .help = help_, \
	 .count_offset = DP(field##_count)}
#define DP_STR(path, field, def, help) \
	STRN(path, DP(field), sizeof(((struct dataplane_config *)0)->field), def, help)
#define CTL_STR(path, field, def, help) \
	STRN(path, CTL(field), sizeof(((struct control_config *)0)->field), def, help)
#define CTL_STR_CHECKED(key_path, field, def, check_fn, help_text)                                \
	{.path = key_path, .type = CONFIG_STRING, .offset = CTL(field),                               \
	 .size = sizeof(((struct control_config *)0)->field), .default_value = def, .help = help_text, \
	 .check = check_fn}
#define CTL_NUM(key_path, field, lo, hi, def, help_text)                                          \
	{.path = key_path, .type = CONFIG_NUMBER, .offset = CTL(field), .default_value = def,          \
	 .help = help_text, .number_min = lo, .number_max = hi}

static int config_check_listen(const char *text, char *why, size_t why_len);
static int config_check_url(const char *text, char *why, size_t why_len);
static int config_check_etcd_prefix(const char *text, char *why, size_t why_len);

static const struct config_key config_keys[] = {
	/* dataplane.port */
	DP_STR("dataplane.port.driver", port_driver, "af_xdp",
	       "DPDK port kind: af_xdp (AF_XDP socket on a kernel interface), tap (net_tap), memif "
	       "(shared memory with another DPDK process, e.g. perf/loadgen; iface is the socket path) or pci"),
	DP_STR("dataplane.port.iface", port_iface, "sluice-edge",
	       "kernel interface the af_xdp port binds to, or the tap interface to create"),
	DP_STR("dataplane.port.pci", port_pci, "", "PCI address of the NIC when driver = pci"),
	DP_STR("dataplane.port.xdp_prog", port_xdp_prog, "",
	       "af_xdp: XDP steering program object (bpf/steer.bpf.o); empty = the PMD's default "
	       "program, which sends every frame of the queue to the data plane"),
	UINT("dataplane.port.service_id", DP(port_service_id), 0, 255, "1",
	     "steering program: the service id (admission state) the data plane's addresses and ports "
	     "are registered under"),
	UINT("dataplane.port.busy_budget", DP(port_busy_budget), 0, 4096, "64",
	     "af_xdp: packets the kernel processes per busy-poll system call of the PMD (its "
	     "busy_budget devarg); 0 leaves receiving to the kernel's softirq"),
	UINT("dataplane.port.queues", DP(port_queues), 1, CONFIG_LCORES_MAX, "1",
	     "RX/TX queue pairs; one worker lcore owns each"),
	UINT("dataplane.port.mtu", DP(port_mtu), 576, 9000, "1500", "IP MTU of the port, bytes"),
	UINT("dataplane.port.rx_ring", DP(port_rx_ring), 64, 16384, "1024", "RX descriptors per queue"),
	UINT("dataplane.port.tx_ring", DP(port_tx_ring), 64, 16384, "1024", "TX descriptors per queue"),
	UINT("dataplane.port.mbufs_per_queue", DP(mbufs_per_queue), 1024, 1048576, "8192",
	     "mbufs in each queue's packet pool"),

	/* dataplane.eal */
	KEY("dataplane.eal.lcores", CONFIG_LCORE_LIST, DP(lcores), 0, 0, 1023, "[1]",
	    "worker lcore ids, one per port queue (list of integers)"),
	UINT("dataplane.eal.main_lcore", DP(main_lcore), 0, 1023, "0",
	     "lcore of the main thread (command socket, stats, page-in helpers)"),
	BOOL("dataplane.eal.hugepages", DP(hugepages), "true",
	     "use hugepages; false runs the EAL with --no-huge"),
	UINT("dataplane.eal.memory_mb", DP(memory_mb), 64, 1048576, "1024",
	     "EAL memory in MiB (used with hugepages = false, and as the reservation otherwise)"),
	DP_STR("dataplane.eal.file_prefix", file_prefix, "sluice",
	       "EAL --file-prefix: lets several DPDK processes share a machine"),

	/* dataplane.net */
	KEY("dataplane.net.ipv4", CONFIG_IPV4, DP(ipv4), 0, 0, 0, "198.18.0.1", "IPv4 service address"),
	UINT("dataplane.net.ipv4_prefix_len", DP(ipv4_prefix_len), 1, 32, "24",
	     "prefix length of the IPv4 subnet on the port"),
	KEY("dataplane.net.ipv6", CONFIG_IPV6, DP(ipv6), 0, 0, 0, "fd5c::1", "IPv6 service address"),
	UINT("dataplane.net.ipv6_prefix_len", DP(ipv6_prefix_len), 1, 128, "64",
	     "prefix length of the IPv6 subnet on the port"),
	BOOL("dataplane.net.ipv6_enabled", DP(ipv6_enabled), "true", "serve over IPv6 too"),
	UINT("dataplane.net.arp_entries", DP(arp_entries), 16, 1048576, "4096",
	     "neighbour (ARP/NDP) entries per lcore"),

	/* dataplane.service */
	UINT("dataplane.service.http_port", DP(http_port), 1, 65535, "80", "plain HTTP listener port"),
	UINT("dataplane.service.https_port", DP(https_port), 0, 65535, "443",
	     "HTTPS listener port (0 = none)"),
	DP_STR("dataplane.service.store_root", store_root, "/var/lib/sluice/store",
	       "directory holding the segment files"),
	DP_STR("dataplane.service.catalog", catalog_path, "",
	       "catalog file listing the store's files; empty = <store_root>/catalog.json"),
	UINT("dataplane.service.max_connections", DP(max_connections), 16, 16777216, "65536",
	     "connections per lcore (memory is reserved up front)"),

	/* dataplane.tcp */
	DP_STR("dataplane.tcp.cc", tcp_cc, "cubic", "congestion control module: cubic, newreno or bbr (BBR v1)"),
	UINT("dataplane.tcp.rto_min_ms", DP(tcp_rto_min_ms), 1, 60000, "200", "lower bound of the RTO, ms"),
	UINT("dataplane.tcp.rto_max_ms", DP(tcp_rto_max_ms), 100, 600000, "60000",
	     "upper bound of the RTO after backoff, ms"),
	UINT("dataplane.tcp.rto_initial_ms", DP(tcp_rto_initial_ms), 100, 60000, "1000",
	     "RTO before the first RTT sample (RFC 6298: 1 s), ms"),
	UINT("dataplane.tcp.syn_retries", DP(tcp_syn_retries), 0, 16, "5", "SYN-ACK retransmissions"),
	UINT("dataplane.tcp.data_retries", DP(tcp_data_retries), 1, 64, "15",
	     "consecutive RTOs before a connection is reset"),
	UINT("dataplane.tcp.initial_cwnd_segments", DP(tcp_initial_cwnd_segments), 1, 1000, "10",
	     "initial congestion window, segments (RFC 6928)"),
	UINT("dataplane.tcp.fin_timeout_ms", DP(tcp_fin_timeout_ms), 100, 600000, "30000",
	     "longest a closing connection may wait for the peer, ms"),
	UINT("dataplane.tcp.time_wait_ms", DP(tcp_time_wait_ms), 0, 240000, "2000",
	     "TIME_WAIT duration, ms"),
	UINT("dataplane.tcp.keepalive_idle_ms", DP(tcp_keepalive_idle_ms), 0, 86400000, "75000",
	     "silence from the peer before the first keepalive probe, ms (0 = no keepalive)"),
	UINT("dataplane.tcp.keepalive_interval_ms", DP(tcp_keepalive_interval_ms), 100, 3600000, "15000",
	     "between keepalive probes, ms"),
	UINT("dataplane.tcp.keepalive_probes", DP(tcp_keepalive_probes), 1, 100, "5",
	     "unanswered keepalive probes before the connection is reset"),
	UINT("dataplane.tcp.delack_ms", DP(tcp_delack_ms), 1, 500, "40",
	     "delayed ACK for received data that no response acknowledges first, ms"),
	UINT("dataplane.tcp.syn_backlog", DP(tcp_syn_backlog), 1, 16777216, "4096",
	     "half-open connections per lcore before SYN cookies are used (RFC 4987)"),
	UINT("dataplane.tcp.sendmap_entries", DP(tcp_sendmap_entries), 0, 268435456, "0",
	     "in-flight transmission records per lcore (48 bytes each); 0 = two per connection"),
	BOOL("dataplane.tcp.pacing", DP(tcp_pacing), "true",
	     "pace every connection at its congestion control's rate"),
	BOOL("dataplane.tcp.tlp", DP(tcp_tlp), "true", "tail loss probes (RFC 8985)"),

	/* dataplane.http */
	UINT("dataplane.http.keepalive_timeout_ms", DP(http_keepalive_timeout_ms), 100, 3600000, "60000",
	     "idle time between requests before the server closes, ms"),
	UINT("dataplane.http.header_timeout_ms", DP(http_header_timeout_ms), 100, 600000, "10000",
	     "time allowed to receive a whole request head, ms"),
	UINT("dataplane.http.send_timeout_ms", DP(http_send_timeout_ms), 1000, 3600000, "60000",
	     "a connection that acknowledges no new data this long while a response is queued is reset, ms"),
	UINT("dataplane.http.max_request_bytes", DP(http_max_request_bytes), 256, 65536, "8192",
	     "largest request head accepted (431 beyond), bytes; sizes the request buffers (restart)"),
	UINT("dataplane.http.max_request_line_bytes", DP(http_max_request_line_bytes), 64, 65536, "4096",
	     "longest request line (414 beyond), bytes; at most max_request_bytes - 2"),
	UINT("dataplane.http.max_header_count", DP(http_max_header_count), 1, 64, "64",
	     "most header fields in a request (431 beyond)"),
	UINT("dataplane.http.max_body_bytes", DP(http_max_body_bytes), 0, 1073741824, "1048576",
	     "request bodies (Content-Length) up to this are read and discarded; larger: 413 and close, bytes"),
	UINT("dataplane.http.max_ranges", DP(http_max_ranges), 0, 16, "8",
	     "ranges honored in one request; more (or 0 = ranges off) answers the whole file with 200"),
	DP_STR("dataplane.http.server_name", http_server_name, "sluice", "Server header value"),
	DP_STR("dataplane.http.cache_control", http_cache_control, "public, max-age=86400",
	       "Cache-Control of file responses (200, 206, 304); empty = none"),
	DP_STR("dataplane.http.cors_origins", http_cors_origins, "",
	       "CORS: empty = no CORS fields, \"*\" = any origin, or origins separated by spaces or commas "
	       "(echoed with Vary: Origin), at most 16"),
	DP_STR("dataplane.http.cors_allow_headers", http_cors_allow_headers,
	       "Range, If-None-Match, If-Modified-Since, If-Range",
	       "CORS preflight: Access-Control-Allow-Headers"),
	UINT("dataplane.http.cors_max_age_s", DP(http_cors_max_age_s), 0, 604800, "86400",
	     "CORS preflight: Access-Control-Max-Age, seconds"),
	BOOL("dataplane.http.sign_required", DP(http_sign_required), "false",
	     "require signed URLs (403 unsigned or forged, 410 expired) under sign_prefixes"),
	DP_STR("dataplane.http.sign_prefixes", http_sign_prefixes, "",
	       "path prefixes that need a signature, separated by spaces or commas; empty = every path"),
	UINT("dataplane.http.sign_skew_s", DP(http_sign_skew_s), 0, 3600, "30",
	     "signed URLs stay valid this long after their expiry (clock skew), seconds"),
	DP_STR("dataplane.http.sign_keys_file", http_sign_keys_file, "",
	       "URL-signing keys loaded at start and at config reload (lines \"<kid> <hex or base64:...>\"); "
	       "empty = none until sluice-dpctl sign-keys"),

	/* dataplane.store */
	UINT("dataplane.store.pagein_threads", DP(store_pagein_threads), 1, 64, "4",
	     "helper threads that page cold file ranges in while their connections wait (restart)"),
	UINT("dataplane.store.readahead_kb", DP(store_readahead_kb), 64, 65536, "2048",
	     "a page-in brings this much of a response in at once, KiB"),
	UINT("dataplane.store.scan_interval_ms", DP(store_scan_interval_ms), 10, 600000, "1000",
	     "each file's page-cache residency and size are re-checked about this often, ms"),

	/* dataplane.tls */
	DP_STRLIST("dataplane.tls.certificate_chains", tls_certificate_chains,
		   "PEM certificate chains (leaf first), RSA or ECDSA; chosen by the client's SNI among "
		   "each certificate's DNS names, the first one when none matches; none = no HTTPS"),
	DP_STRLIST("dataplane.tls.certificate_keys", tls_certificate_keys,
		   "PEM private keys, one per certificate chain, in the same order"),
	DP_STR("dataplane.tls.aead_engine", tls_aead_engine, "ipsec-mb",
	       "AES-GCM engine of the record layer: ipsec-mb, or openssl (also the fallback when "
	       "ipsec-mb cannot run on this CPU)"),
	DP_STR("dataplane.tls.ticket_key_file", tls_ticket_key_file, "",
	       "session ticket keys: 1 to 4 keys of 80 bytes (name 16, AES 32, HMAC 32), the first "
	       "encrypts; empty = random keys at start; rotate with sluice-dpctl ticket-keys"),
	UINT("dataplane.tls.max_handshakes", DP(tls_max_handshakes), 1, 65536, "64",
	     "TLS handshakes in progress at once per lcore (OpenSSL holds ~50 KiB each); more wait "
	     "in a queue"),
	UINT("dataplane.tls.handshakes_per_iteration", DP(tls_handshakes_per_iteration), 1, 1024, "1",
	     "handshakes an lcore starts per loop iteration (each costs a signature: ~0.7 ms ECDSA, "
	     "~2 ms RSA-2048), so that a burst cannot starve established connections"),
	UINT("dataplane.tls.handshake_timeout_ms", DP(tls_handshake_timeout_ms), 100, 600000, "10000",
	     "time from the TCP handshake to the end of the TLS handshake, queueing included, ms"),
	UINT("dataplane.tls.receive_buffers", DP(tls_receive_buffers), 16, 1048576, "1024",
	     "16 KiB buffers per lcore for incomplete records and queued ClientHellos"),

	/* dataplane.api */
	DP_STR("dataplane.api.stats_path", stats_path, "/dev/shm/sluice-stats",
	       "shared-memory stats segment the control plane reads"),
	DP_STR("dataplane.api.command_socket", command_socket, "/run/sluice/dataplane.sock",
	       "UNIX socket the control plane sends commands to"),
	DP_STR("dataplane.api.accesslog_path", accesslog_path, "",
	       "shared-memory access log rings (sluice-accesslog reads them); empty = <stats_path>.accesslog"),
	UINT("dataplane.api.accesslog_records", DP(accesslog_records), 1024, 16777216, "65536",
	     "access log records per lcore ring (a power of two); a full ring drops and counts"),

	/* control */
	CTL_STR_CHECKED("control.listen", listen, "127.0.0.1:8701", config_check_listen,
			"REST API address:port: 127.0.0.1:8701, [::1]:8701, or [::]:8701 for every address "
			"of both families"),
	CTL_STR("control.token_file", token_file, "/etc/sluice/tokens",
		"file of operator bearer tokens, one per line (\"TOKEN\" or \"NAME TOKEN\"); re-read when "
		"it changes and on SIGHUP"),
	CTL_STR("control.state_dir", state_dir, "/var/lib/sluice/control",
		"where the control plane keeps its state (admission override, drain, keys, services, "
		"fill jobs); re-applied to a restarted data plane"),
	CTL_STR("control.tls_cert", tls_cert, "", "PEM certificate for the REST API; empty = plain HTTP"),
	CTL_STR("control.tls_key", tls_key, "", "PEM private key of tls_cert"),
	BOOL("control.public_metrics", CTL(public_metrics), "true", "GET /metrics needs no token"),
	BOOL("control.public_health", CTL(public_health), "true", "GET /v1/health needs no token"),
	CTL_STR("control.edge_id", edge_id, "", "this edge's name in reports and etcd; empty = the host name"),
	UINT("control.tick_ms", CTL(tick_ms), 50, 10000, "250",
	     "control loop period: data plane liveness, admission, access log draining, ms"),
	UINT("control.heartbeat_timeout_ms", CTL(heartbeat_timeout_ms), 200, 600000, "2000",
	     "the data plane counts as down when its stats heartbeat is older than this, ms"),
	CTL_STR("control.access_log", access_log, "/var/log/sluice/access.log",
		"JSON-lines access log drained from the data plane's rings; empty = not written"),
	UINT("control.access_log_keep", CTL(access_log_keep), 0, 1000, "5",
	     "rotated access logs kept (access.log.1 is the newest)"),

	/* control.admission */
	CTL_NUM("control.admission.capacity_gbps", capacity_gbps, 0, 10000, "10",
		"throughput this edge is sized for, Gbit/s; 0 = throughput is not an input"),
	UINT("control.admission.max_connections", CTL(max_connections), 0, 1u << 31, "0",
	     "connections this edge is sized for; 0 = dataplane.service.max_connections x lcores"),
	CTL_NUM("control.admission.close_utilisation", admission_close_utilisation, 0.01, 100, "0.95",
		"admission closes when utilisation (the highest of the load ratios) reaches this"),
	CTL_NUM("control.admission.reopen_utilisation", admission_reopen_utilisation, 0, 100, "0.8",
		"admission reopens when utilisation falls to this (below close_utilisation: hysteresis)"),
	UINT("control.admission.min_dwell_ms", CTL(admission_min_dwell_ms), 0, 86400000, "30000",
	     "least time admission stays open or closed before the controller changes it, ms"),
	UINT("control.admission.window_ms", CTL(admission_window_ms), 100, 600000, "5000",
	     "load (throughput, busy ratio) is averaged over this window, ms"),
	CTL_NUM("control.admission.busy_limit", admission_busy_limit, 0, 1, "0.95",
		"lcore busy ratio that counts as full utilisation; 0 = lcore load is not an input"),
	UINT("control.admission.pagein_backlog_max", CTL(admission_pagein_backlog_max), 0, 1u << 31, "0",
	     "connections parked on page-ins (the data plane's store_parked gauge) that count as full "
	     "utilisation; 0 = not an input"),

	/* control.steer */
	CTL_STR("control.steer.pin_dir", steer_pin_dir, "/sys/fs/bpf",
		"bpffs directory holding the steering program's pinned maps"),
	BOOL("control.steer.auto_services", CTL(steer_auto_services), "true",
	     "put the data plane's addresses and ports back in the services map (under "
	     "dataplane.port.service_id) whenever the maps are (re)opened"),

	/* control.report */
	CTL_STR_CHECKED("control.report.url", report_url, "", config_check_url,
			"backend URL health reports are POSTed to (https://...); empty = no reports"),
	CTL_STR("control.report.ca_file", report_ca_file, "",
		"CA bundle that verifies the backend; empty = the system's"),
	CTL_STR("control.report.token_file", report_token_file, "",
		"file holding a bearer token sent to the backend; empty = none"),
	UINT("control.report.interval_ms", CTL(report_interval_ms), 100, 3600000, "10000",
	     "time between health reports (a state change reports at once), ms"),
	UINT("control.report.timeout_ms", CTL(report_timeout_ms), 100, 600000, "5000",
	     "one report attempt may take this long, ms"),
	UINT("control.report.retries", CTL(report_retries), 0, 100, "3",
	     "further attempts after a failed report"),
	UINT("control.report.backoff_initial_ms", CTL(report_backoff_initial_ms), 1, 600000, "500",
	     "wait before the first retry; doubles per retry, with jitter, ms"),
	UINT("control.report.backoff_max_ms", CTL(report_backoff_max_ms), 1, 3600000, "30000",
	     "longest wait between retries, ms"),

	/* control.etcd */
	CTL_STR_CHECKED("control.etcd.endpoint", etcd_endpoint, "", config_check_url,
			"etcd client URL (v3 JSON gateway, http://host:2379); empty = no registration"),
	CTL_STR_CHECKED("control.etcd.prefix", etcd_prefix, "/sluice/edges/", config_check_etcd_prefix,
			"key prefix; the edge registers the key prefix + edge id"),
	UINT("control.etcd.ttl_s", CTL(etcd_ttl_s), 2, 3600, "10",
	     "lease TTL: a dead edge's key disappears this long after its last keepalive, s"),

	/* control.fill */
	UINT("control.fill.concurrency", CTL(fill_concurrency), 1, 64, "4", "segments downloaded at once"),
	UINT("control.fill.bandwidth_mbps", CTL(fill_bandwidth_mbps), 0, 1000000, "0",
	     "fill download cap over all transfers, Mbit/s; 0 = unlimited"),
	UINT("control.fill.retries", CTL(fill_retries), 0, 100, "3",
	     "further attempts per segment after a failure (resumed with Range when possible)"),
	UINT("control.fill.connect_timeout_ms", CTL(fill_connect_timeout_ms), 100, 600000, "10000",
	     "connecting to the origin may take this long, ms"),
	UINT("control.fill.stall_timeout_ms", CTL(fill_stall_timeout_ms), 1000, 3600000, "30000",
	     "a transfer that receives nothing for this long times out, ms"),
	UINT("control.fill.file_timeout_ms", CTL(fill_file_timeout_ms), 0, 86400000, "0",
	     "one segment attempt may take this long; 0 = no limit, ms"),
	UINT("control.fill.max_files", CTL(fill_max_files), 1, 1000000, "10000", "segments per manifest"),
};

static const char *config_type_name(enum config_type type)
{
	switch (type) {
	case CONFIG_STRING: return "string";
	case CONFIG_UINT: return "integer";
	case CONFIG_BOOL: return "boolean";
	case CONFIG_IPV4: return "IPv4 address";
	case CONFIG_IPV6: return "IPv6 address";
	case CONFIG_LCORE_LIST: return "list of integers";
	case CONFIG_STRING_LIST: return "list of strings";
	case CONFIG_NUMBER: return "number";
	}
	return "?";
}

static int config_fail(char *err, size_t err_len, const char *name, int line, const char *fmt, ...)
	sluice_printf(5, 6);

static int config_fail(char *err, size_t err_len, const char *name, int line, const char *fmt, ...)
{
	va_list ap;
	int n = line > 0 ? snprintf(err, err_len, "%s:%d: ", name, line)
			 : snprintf(err, err_len, "%s: ", name);

	if (n < 0 || (size_t)n >= err_len)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(err + n, err_len - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Parses text into a key's slot; line/name only for messages. */
static int config_store_text(const struct config_key *key, const char *text, struct sluice_config *cfg,
			     const char *name, int line, char *err, size_t err_len)
{
	void *slot = (char *)cfg + key->offset;
	char *end;

	switch (key->type) {
	case CONFIG_STRING:
		if (strlen(text) >= key->size)
			return config_fail(err, err_len, name, line, "%s: value longer than %zu bytes",
					   key->path, key->size - 1);
		if (key->check && text[0]) {
			char why[160];

			if (key->check(text, why, sizeof(why)))
				return config_fail(err, err_len, name, line, "%s: '%s' %s", key->path, text, why);
		}
		strcpy(slot, text);
		return 0;
	case CONFIG_NUMBER: {
		double v;

		errno = 0;
		v = strtod(text, &end);
		if (errno || end == text || *end || v != v)
			return config_fail(err, err_len, name, line, "%s: '%s' is not a number", key->path, text);
		if (v < key->number_min || v > key->number_max)
			return config_fail(err, err_len, name, line, "%s: %g is outside [%g, %g]", key->path, v,
					   key->number_min, key->number_max);
		*(double *)slot = v;
		return 0;
	}
	case CONFIG_UINT: {
		unsigned long long v;

		errno = 0;
		v = strtoull(text, &end, 10);
		if (errno || end == text || *end || text[0] == '-')
			return config_fail(err, err_len, name, line, "%s: '%s' is not an integer", key->path, text);
		if (v < key->min || v > key->max)
			return config_fail(err, err_len, name, line, "%s: %llu is outside [%" PRIu64 ", %" PRIu64 "]",
					   key->path, v, key->min, key->max);
		*(uint32_t *)slot = (uint32_t)v;
		return 0;
	}
	case CONFIG_BOOL:
		if (!strcmp(text, "true"))
			*(bool *)slot = true;
		else if (!strcmp(text, "false"))
			*(bool *)slot = false;
		else
			return config_fail(err, err_len, name, line, "%s: '%s' is not true or false", key->path, text);
		return 0;
	case CONFIG_IPV4:
		if (inet_pton(AF_INET, text, slot) != 1)
			return config_fail(err, err_len, name, line, "%s: '%s' is not an IPv4 address", key->path, text);
		return 0;
	case CONFIG_IPV6:
		if (inet_pton(AF_INET6, text, slot) != 1)
			return config_fail(err, err_len, name, line, "%s: '%s' is not an IPv6 address", key->path, text);
		return 0;
	case CONFIG_STRING_LIST: {
		/* Defaults are written "[]" (or "[a, b]", no quoting). */
		uint32_t *count = (uint32_t *)(void *)((char *)cfg + key->count_offset);
		const char *p = text;

		*count = 0;
		while (*p) {
			size_t n;

			while (*p == '[' || *p == ' ' || *p == ',' || *p == ']')
				p++;
			n = strcspn(p, ",]");
			if (!n)
				break;
			if (*count >= key->max || n >= key->size)
				return config_fail(err, err_len, name, line, "%s: bad list '%s'", key->path, text);
			memcpy((char *)slot + (size_t)*count * key->size, p, n);
			((char *)slot)[(size_t)*count * key->size + n] = 0;
			(*count)++;
			p += n;
		}
		return 0;
	}
	case CONFIG_LCORE_LIST: {
		/* Defaults are written "[a, b]". */
		struct dataplane_config *dp = &cfg->dataplane;
		const char *p = text;

		dp->lcore_count = 0;
		while (*p) {
			unsigned long v;

			while (*p == '[' || *p == ' ' || *p == ',' || *p == ']')
				p++;
			if (!*p)
				break;
			v = strtoul(p, &end, 10);
			if (end == p || v > key->max || dp->lcore_count >= CONFIG_LCORES_MAX)
				return config_fail(err, err_len, name, line, "%s: bad lcore list '%s'", key->path, text);
			dp->lcores[dp->lcore_count++] = (uint32_t)v;
			p = end;
		}
		return 0;
	}
	}
	return -EINVAL;
}

void config_defaults(struct sluice_config *cfg)
{
	char err[CONFIG_ERROR_MAX];

	memset(cfg, 0, sizeof(*cfg));
	for (size_t i = 0; i < ARRAY_SIZE(config_keys); i++) {
		int rc = config_store_text(&config_keys[i], config_keys[i].default_value, cfg, "defaults", 0,
					   err, sizeof(err));
		if (rc) {
			/* A bad default is a programming error caught by the unit tests. */
			fprintf(stderr, "config: bad default: %s\n", err);
			abort();
		}
	}
}

static const struct config_key *config_find_key(const char *path)
{
	for (size_t i = 0; i < ARRAY_SIZE(config_keys); i++)
		if (!strcmp(config_keys[i].path, path))
			return &config_keys[i];
	return NULL;
}

static bool config_is_group_path(const char *path)
{
	size_t n = strlen(path);

	for (size_t i = 0; i < ARRAY_SIZE(config_keys); i++)
		if (!strncmp(config_keys[i].path, path, n) && config_keys[i].path[n] == '.')
			return true;
	return false;
}

static int config_store_setting(const struct config_key *key, config_setting_t *s, struct sluice_config *cfg,
				const char *name, char *err, size_t err_len)
{
	int line = (int)config_setting_source_line(s);
	int type = config_setting_type(s);
	char text[CONFIG_PATH_MAX];

	switch (key->type) {
	case CONFIG_STRING:
	case CONFIG_IPV4:
	case CONFIG_IPV6:
		if (type != CONFIG_TYPE_STRING)
			return config_fail(err, err_len, name, line, "%s: expected a %s in quotes", key->path,
					   config_type_name(key->type));
		return config_store_text(key, config_setting_get_string(s), cfg, name, line, err, err_len);
	case CONFIG_UINT:
		if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64)
			return config_fail(err, err_len, name, line, "%s: expected an integer", key->path);
		if (config_setting_get_int64(s) < 0)
			return config_fail(err, err_len, name, line, "%s: must not be negative", key->path);
		snprintf(text, sizeof(text), "%lld", config_setting_get_int64(s));
		return config_store_text(key, text, cfg, name, line, err, err_len);
	case CONFIG_NUMBER:
		if (type == CONFIG_TYPE_INT || type == CONFIG_TYPE_INT64)
			snprintf(text, sizeof(text), "%lld", config_setting_get_int64(s));
		else if (type == CONFIG_TYPE_FLOAT)
			snprintf(text, sizeof(text), "%.17g", config_setting_get_float(s));
		else
			return config_fail(err, err_len, name, line, "%s: expected a number", key->path);
		return config_store_text(key, text, cfg, name, line, err, err_len);
	case CONFIG_BOOL:
		if (type != CONFIG_TYPE_BOOL)
			return config_fail(err, err_len, name, line, "%s: expected true or false", key->path);
		*(bool *)((char *)cfg + key->offset) = config_setting_get_bool(s);
		return 0;
	case CONFIG_STRING_LIST: {
		uint32_t *count = (uint32_t *)(void *)((char *)cfg + key->count_offset);
		char *slot = (char *)cfg + key->offset;
		int n = config_setting_length(s);

		if (type == CONFIG_TYPE_STRING) { /* one entry written without brackets */
			const char *v = config_setting_get_string(s);

			if (strlen(v) >= key->size)
				return config_fail(err, err_len, name, line, "%s: value longer than %zu bytes", key->path,
						   key->size - 1);
			strcpy(slot, v);
			*count = 1;
			return 0;
		}
		if (type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST)
			return config_fail(err, err_len, name, line, "%s: expected a list like [\"a\", \"b\"]",
					   key->path);
		if (n > (int)key->max)
			return config_fail(err, err_len, name, line, "%s: at most %u entries", key->path,
					   (unsigned)key->max);
		*count = 0;
		for (int i = 0; i < n; i++) {
			config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
			const char *v = config_setting_get_string(e);

			if (config_setting_type(e) != CONFIG_TYPE_STRING || !v)
				return config_fail(err, err_len, name, line, "%s: entry %d is not a string in quotes",
						   key->path, i);
			if (strlen(v) >= key->size)
				return config_fail(err, err_len, name, line, "%s: entry %d longer than %zu bytes",
						   key->path, i, key->size - 1);
			strcpy(slot + (size_t)i * key->size, v);
			(*count)++;
		}
		return 0;
	}
	case CONFIG_LCORE_LIST: {
		struct dataplane_config *dp = &cfg->dataplane;
		int n = config_setting_length(s);

		if (type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST)
			return config_fail(err, err_len, name, line, "%s: expected a list like [1, 2]", key->path);
		if (n < 1 || n > CONFIG_LCORES_MAX)
			return config_fail(err, err_len, name, line, "%s: needs 1 to %d entries", key->path,
					   CONFIG_LCORES_MAX);
		dp->lcore_count = 0;
		for (int i = 0; i < n; i++) {
			config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
			long long v;

			if (config_setting_type(e) != CONFIG_TYPE_INT)
				return config_fail(err, err_len, name, line, "%s: entry %d is not an integer",
						   key->path, i);
			v = config_setting_get_int64(e);
			if (v < 0 || (uint64_t)v > key->max)
				return config_fail(err, err_len, name, line, "%s: lcore %lld out of range", key->path, v);
			dp->lcores[dp->lcore_count++] = (uint32_t)v;
		}
		return 0;
	}
	}
	return -EINVAL;
}

static int config_walk(config_setting_t *group, const char *prefix, struct sluice_config *cfg,
		       const char *name, char *err, size_t err_len)
{
	int n = config_setting_length(group);

	for (int i = 0; i < n; i++) {
		config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
		const char *key_name = config_setting_name(s);
		int line = (int)config_setting_source_line(s);
		char path[CONFIG_PATH_MAX];
		const struct config_key *key;
		int rc;

		if (!key_name)
			return config_fail(err, err_len, name, line, "%s: unnamed setting", prefix);
		snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", key_name);
		key = config_find_key(path);
		if (key) {
			rc = config_store_setting(key, s, cfg, name, err, err_len);
		} else if (config_setting_type(s) == CONFIG_TYPE_GROUP && config_is_group_path(path)) {
			rc = config_walk(s, path, cfg, name, err, err_len);
		} else {
			rc = config_fail(err, err_len, name, line, "unknown key '%s'", path);
		}
		if (rc)
			return rc;
	}
	return 0;
}

/* Checks that need several keys at once. */
static int config_check_consistency(const struct sluice_config *cfg, const char *name, char *err, size_t err_len)
{
	const struct dataplane_config *dp = &cfg->dataplane;
	const struct control_config *ctl = &cfg->control;

	if (strcmp(dp->port_driver, "af_xdp") && strcmp(dp->port_driver, "tap") && strcmp(dp->port_driver, "pci") &&
	    strcmp(dp->port_driver, "memif"))
		return config_fail(err, err_len, name, 0, "dataplane.port.driver: '%s' is not af_xdp, tap, memif or pci",
				   dp->port_driver);
	if (!strcmp(dp->port_driver, "pci") && !dp->port_pci[0])
		return config_fail(err, err_len, name, 0, "dataplane.port.pci: required when driver = pci");
	if (strcmp(dp->port_driver, "pci") && !dp->port_iface[0])
		return config_fail(err, err_len, name, 0, "dataplane.port.iface: required for driver %s",
				   dp->port_driver);
	if (dp->lcore_count != dp->port_queues)
		return config_fail(err, err_len, name, 0,
				   "dataplane.eal.lcores: %u lcores for %u queues (one lcore owns each queue)",
				   dp->lcore_count, dp->port_queues);
	for (uint32_t i = 0; i < dp->lcore_count; i++) {
		if (dp->lcores[i] == dp->main_lcore)
			return config_fail(err, err_len, name, 0,
					   "dataplane.eal.lcores: lcore %u is also the main lcore", dp->main_lcore);
		for (uint32_t j = 0; j < i; j++)
			if (dp->lcores[i] == dp->lcores[j])
				return config_fail(err, err_len, name, 0, "dataplane.eal.lcores: lcore %u listed twice",
						   dp->lcores[i]);
	}
	if (dp->https_port == dp->http_port)
		return config_fail(err, err_len, name, 0, "dataplane.service.https_port equals http_port");
	if (dp->tcp_rto_min_ms > dp->tcp_rto_max_ms)
		return config_fail(err, err_len, name, 0, "dataplane.tcp.rto_min_ms exceeds rto_max_ms");
	if (!dp->store_root[0])
		return config_fail(err, err_len, name, 0, "dataplane.service.store_root: must not be empty");
	if (dp->tls_certificate_chains_count != dp->tls_certificate_keys_count)
		return config_fail(err, err_len, name, 0,
				   "dataplane.tls.certificate_keys: %u keys for %u certificate chains (one each)",
				   dp->tls_certificate_keys_count, dp->tls_certificate_chains_count);
	if (strcmp(dp->tls_aead_engine, "ipsec-mb") && strcmp(dp->tls_aead_engine, "openssl"))
		return config_fail(err, err_len, name, 0, "dataplane.tls.aead_engine: '%s' is not ipsec-mb or openssl",
				   dp->tls_aead_engine);
	if (dp->accesslog_records & (dp->accesslog_records - 1))
		return config_fail(err, err_len, name, 0, "dataplane.api.accesslog_records: %u is not a power of two",
				   dp->accesslog_records);
	{
		static const struct {
			const char *path;
			size_t offset;
		} header_values[] = {
			{"dataplane.http.server_name", DP(http_server_name)},
			{"dataplane.http.cache_control", DP(http_cache_control)},
			{"dataplane.http.cors_origins", DP(http_cors_origins)},
			{"dataplane.http.cors_allow_headers", DP(http_cors_allow_headers)},
			{"dataplane.http.sign_prefixes", DP(http_sign_prefixes)},
		};

		/* Values that go into response heads: visible ASCII and spaces only. */
		for (size_t i = 0; i < ARRAY_SIZE(header_values); i++)
			for (const char *p = (const char *)cfg + header_values[i].offset; *p; p++)
				if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
					return config_fail(err, err_len, name, 0,
							   "%s: control or non-ASCII character", header_values[i].path);
	}
	{
		uint32_t origins = 0;
		const char *p = dp->http_cors_origins;

		while (*p) {
			size_t n;

			p += strspn(p, " ,");
			n = strcspn(p, " ,");
			if (!n)
				break;
			if (n >= CONFIG_CORS_ORIGIN_MAX || ++origins > CONFIG_CORS_ORIGINS_MAX)
				return config_fail(err, err_len, name, 0,
						   "dataplane.http.cors_origins: at most %d origins of at most %d bytes",
						   CONFIG_CORS_ORIGINS_MAX, CONFIG_CORS_ORIGIN_MAX - 1);
			if (n == 1 && *p == '*' && origins > 1)
				return config_fail(err, err_len, name, 0, "dataplane.http.cors_origins: \"*\" must be alone");
			p += n;
		}
	}
	{
		const char *p = dp->http_sign_prefixes;

		while (*p) {
			size_t n;

			p += strspn(p, " ,");
			n = strcspn(p, " ,");
			if (n && *p != '/')
				return config_fail(err, err_len, name, 0,
						   "dataplane.http.sign_prefixes: '%.*s' does not start with '/'", (int)n, p);
			p += n;
		}
	}
	if (ctl->admission_reopen_utilisation >= ctl->admission_close_utilisation)
		return config_fail(err, err_len, name, 0,
				   "control.admission.reopen_utilisation (%g) must be below close_utilisation (%g)",
				   ctl->admission_reopen_utilisation, ctl->admission_close_utilisation);
	if (!ctl->tls_cert[0] != !ctl->tls_key[0])
		return config_fail(err, err_len, name, 0, "control.tls_cert and control.tls_key go together");
	if (ctl->report_backoff_initial_ms > ctl->report_backoff_max_ms)
		return config_fail(err, err_len, name, 0,
				   "control.report.backoff_initial_ms exceeds backoff_max_ms");
	if (!ctl->state_dir[0])
		return config_fail(err, err_len, name, 0, "control.state_dir: must not be empty");
	return 0;
}

static int config_load(config_t *lc, int read_ok, const char *name, struct sluice_config *cfg, char *err,
		       size_t err_len)
{
	int rc;

	if (!read_ok) {
		rc = config_fail(err, err_len, name, config_error_line(lc), "%s", config_error_text(lc));
		return rc;
	}
	rc = config_walk(config_root_setting(lc), "", cfg, name, err, err_len);
	if (rc)
		return rc;
	return config_check_consistency(cfg, name, err, err_len);
}

int config_load_string(const char *text, const char *name, struct sluice_config *cfg, char *err, size_t err_len)
{
	config_t lc;
	int rc;

	config_defaults(cfg);
	snprintf(cfg->source_path, sizeof(cfg->source_path), "%s", name);
	config_init(&lc);
	rc = config_load(&lc, config_read_string(&lc, text) == CONFIG_TRUE, name, cfg, err, err_len);
	config_destroy(&lc);
	return rc;
}

int config_load_file(const char *path, struct sluice_config *cfg, char *err, size_t err_len)
{
	config_t lc;
	FILE *f;
	int rc;

	config_defaults(cfg);
	snprintf(cfg->source_path, sizeof(cfg->source_path), "%s", path);
	f = fopen(path, "r");
	if (!f) {
		rc = -errno;
		snprintf(err, err_len, "%s: %s", path, strerror(errno));
		return rc;
	}
	config_init(&lc);
	rc = config_load(&lc, config_read(&lc, f) == CONFIG_TRUE, path, cfg, err, err_len);
	config_destroy(&lc);
	fclose(f);
	return rc;
}

static bool config_key_equal(const struct config_key *key, const struct sluice_config *a, const struct sluice_config *b)
{
	const char *x = (const char *)a + key->offset, *y = (const char *)b + key->offset;

	switch (key->type) {
	case CONFIG_STRING: return !strcmp(x, y);
	case CONFIG_UINT: return *(const uint32_t *)(const void *)x == *(const uint32_t *)(const void *)y;
	case CONFIG_BOOL: return *(const bool *)x == *(const bool *)y;
	case CONFIG_NUMBER: return *(const double *)(const void *)x == *(const double *)(const void *)y;
	case CONFIG_IPV4: return !memcmp(x, y, sizeof(struct in_addr));
	case CONFIG_IPV6: return !memcmp(x, y, sizeof(struct in6_addr));
	case CONFIG_LCORE_LIST:
		return a->dataplane.lcore_count == b->dataplane.lcore_count &&
		       !memcmp(a->dataplane.lcores, b->dataplane.lcores, a->dataplane.lcore_count * sizeof(uint32_t));
	case CONFIG_STRING_LIST: {
		uint32_t count = *(const uint32_t *)(const void *)((const char *)a + key->count_offset);

		if (count != *(const uint32_t *)(const void *)((const char *)b + key->count_offset))
			return false;
		for (uint32_t i = 0; i < count; i++)
			if (strcmp(x + i * key->size, y + i * key->size))
				return false;
		return true;
	}
	}
	return false;
}

uint32_t config_diff(const struct sluice_config *a, const struct sluice_config *b, config_diff_visitor visit,
		     void *arg)
{
	uint32_t n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(config_keys); i++)
		if (!config_key_equal(&config_keys[i], a, b)) {
			n++;
			if (visit)
				visit(config_keys[i].path, arg);
		}
	return n;
}

int config_parse_listen(const char *text, struct sockaddr_storage *addr, unsigned *len)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *port_text, *end;
	unsigned long port;
	char *port_end;
	size_t host_len;
	bool bracketed = text[0] == '[';

	memset(addr, 0, sizeof(*addr));
	if (bracketed) {
		end = strchr(text, ']');
		if (!end || end[1] != ':')
			return -EINVAL;
		host_len = (size_t)(end - text - 1);
		port_text = end + 2;
		text++;
	} else {
		end = strrchr(text, ':');
		if (!end)
			return -EINVAL;
		host_len = (size_t)(end - text);
		port_text = end + 1;
	}
	if (host_len == 0 || host_len >= sizeof(host) || !port_text[0] || port_text[0] < '0' || port_text[0] > '9')
		return -EINVAL;
	memcpy(host, text, host_len);
	host[host_len] = 0;
	errno = 0;
	port = strtoul(port_text, &port_end, 10);
	if (errno || *port_end || port == 0 || port > 65535)
		return -EINVAL;
	if (bracketed) {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)addr;

		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1)
			return -EINVAL;
		*len = sizeof(*a6);
	} else {
		struct sockaddr_in *a4 = (struct sockaddr_in *)addr;

		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
			return -EINVAL;
		*len = sizeof(*a4);
	}
	return 0;
}

static int config_check_listen(const char *text, char *why, size_t why_len)
{
	struct sockaddr_storage addr;
	unsigned len;

	if (config_parse_listen(text, &addr, &len)) {
		snprintf(why, why_len, "is not ADDRESS:PORT (127.0.0.1:8701, [::1]:8701)");
		return -EINVAL;
	}
	return 0;
}

static int config_check_url(const char *text, char *why, size_t why_len)
{
	const char *rest = !strncmp(text, "https://", 8) ? text + 8 : !strncmp(text, "http://", 7) ? text + 7 : NULL;

	if (!rest || !rest[0] || rest[0] == '/') {
		snprintf(why, why_len, "is not an http:// or https:// URL with a host");
		return -EINVAL;
	}
	for (const char *p = text; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f) {
			snprintf(why, why_len, "contains a space or control character");
			return -EINVAL;
		}
	return 0;
}

static int config_check_etcd_prefix(const char *text, char *why, size_t why_len)
{
	if (text[0] != '/' || text[strlen(text) - 1] != '/') {
		snprintf(why, why_len, "must start and end with '/'");
		return -EINVAL;
	}
	return 0;
}

void config_for_each_key(config_key_visitor visit, void *arg)
{
	for (size_t i = 0; i < ARRAY_SIZE(config_keys); i++)
		visit(config_keys[i].path, config_type_name(config_keys[i].type), config_keys[i].default_value,
		      config_keys[i].help, arg);
}
