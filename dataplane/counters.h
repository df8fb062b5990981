/* SPDX-License-Identifier: BSD-3-Clause
 *
 * counters.h: every per-lcore counter of the data plane, in one list.
 *
 * The list is an X-macro so that one line defines the enum index, the name the stats segment
 * publishes (and /metrics derives its names from), and whether it is a counter or a gauge.
 * Each worker lcore owns a struct dp_counters in its private context and increments it with
 * plain stores (no atomics: nobody else writes it); stats.c publishes snapshots of it.
 * Names carry their unit: *_packets, *_bytes, *_cycles, *_us.
 */
#ifndef SLUICE_DP_COUNTERS_H
#define SLUICE_DP_COUNTERS_H

#include <stdint.h>

/* C(name) is a counter, G(name) a gauge. */
#define DP_COUNTER_LIST(C, G)                                                            \
	/* lcore loop */                                                                 \
	C(loop_iterations) C(busy_cycles) C(idle_cycles)                                 \
	/* port */                                                                       \
	C(rx_packets) C(rx_bytes) C(tx_packets) C(tx_bytes) C(tx_dropped_packets)        \
	C(tx_queue_full) C(tx_segmented_packets) C(tx_kicks)                             \
	C(mbuf_alloc_failed)                                                             \
	/* ethernet and IP input: drops by reason */                                     \
	C(rx_drop_runt) C(rx_drop_not_our_mac) C(rx_drop_ethertype)                      \
	C(rx_drop_ip_header) C(rx_drop_ip_checksum) C(rx_drop_ip_length)                 \
	C(rx_drop_ip_fragment) C(rx_drop_ip_options) C(rx_drop_not_our_address)          \
	C(rx_drop_ip_protocol) C(rx_drop_ipv6_disabled) C(rx_drop_multicast_mac)         \
	/* IPv6 input: drops by reason */                                                \
	C(rx_drop_ipv6_header) C(rx_drop_ipv6_length) C(rx_drop_ipv6_source)             \
	C(rx_drop_ipv6_fragment) C(rx_drop_ipv6_ext_header) C(rx_drop_ipv6_ext_limit)    \
	C(rx_drop_ipv6_option) C(rx_drop_ipv6_routing) C(rx_drop_ipv6_protocol)          \
	C(rx_drop_ipv6_multicast)                                                        \
	/* ARP and ICMP */                                                               \
	C(arp_requests_answered) C(arp_replies_received) C(arp_requests_sent)            \
	C(arp_table_full) C(rx_drop_arp_malformed) C(rx_drop_arp_not_ours)             \
	C(icmp_echo_answered) C(rx_drop_icmp_malformed) C(rx_drop_icmp_checksum)         \
	C(icmp_other_received)                                                           \
	/* ICMP errors by kind (IPv4) */                                                 \
	C(icmp_frag_needed_received) C(icmp_dest_unreach_received)                      \
	C(icmp_time_exceeded_received)                                                   \
	/* ICMPv6 */                                                                     \
	C(icmp6_echo_answered) C(rx_drop_icmp6_malformed) C(rx_drop_icmp6_checksum)      \
	C(icmp6_too_big_received) C(icmp6_dest_unreach_received)                         \
	C(icmp6_time_exceeded_received) C(icmp6_param_problem_received)                  \
	C(icmp6_other_received)                                                          \
	/* PMTU messages (both families): what became of each */                        \
	C(rx_drop_icmp_bad_quote) C(icmp_pmtu_ignored_no_connection)                     \
	C(icmp_pmtu_ignored_not_in_flight) C(icmp_pmtu_ignored_not_smaller)              \
	/* NDP */                                                                        \
	C(ndp_solicitations_answered) C(ndp_dad_probes_answered)                         \
	C(ndp_solicitations_sent) C(ndp_advertisements_received)                         \
	C(ndp_router_adverts_ignored) C(ndp_redirects_ignored)                           \
	C(ndp_duplicate_address_seen) C(rx_drop_ndp_hop_limit) C(rx_drop_ndp_malformed)  \
	C(rx_drop_ndp_not_ours) C(rx_drop_ndp_unsolicited)                             \
	/* TCP input */                                                                  \
	C(tcp_rx_segments) C(rx_drop_tcp_header) C(rx_drop_tcp_checksum)                 \
	C(rx_drop_tcp_no_listener) C(rx_drop_tcp_out_of_window) C(rx_drop_tcp_bad_ack)   \
	C(tcp_rst_sent) C(tcp_rst_received) C(tcp_challenge_acks_sent)                   \
	C(tcp_syn_received) C(tcp_syn_refused) C(tcp_conn_table_full)                                       \
	C(tcp_rx_payload_bytes) C(tcp_rx_out_of_order_dropped)                           \
	/* TCP connections */                                                            \
	C(tcp_conn_opened) C(tcp_conn_closed) C(tcp_conn_reset)                          \
	C(tcp_conn_timed_out) G(tcp_conn_active) G(tcp_conn_syn_received)                \
	G(tcp_conn_established) G(tcp_conn_closing) G(tcp_conn_time_wait)                \
	/* TCP output */                                                                 \
	C(tcp_tx_segments) C(tcp_tx_payload_bytes) C(tcp_retransmit_segments)            \
	C(tcp_retransmit_bytes) C(tcp_rto_fired)                 \
	C(tcp_syn_ack_retransmits) C(tcp_payload_source_failed) C(tcp_pmtu_lowered)         \
	C(tcp_recoveries) C(tcp_lost_bytes_detected) C(tcp_tlp_probes) C(tcp_dsack_received) \
	C(tcp_spurious_rto_undone) C(tcp_persist_probes) C(tcp_keepalive_probes)           \
	C(tcp_keepalive_timeouts) C(tcp_sendmap_full) C(rx_drop_tcp_paws)                 \
	C(tcp_syncookies_sent) C(tcp_syncookies_accepted)                          \
	/* HTTP */                                                                       \
	C(http_requests) C(http_responses_2xx) C(http_responses_3xx)                     \
	C(http_responses_4xx) C(http_responses_5xx) C(http_responses_404)                \
	C(http_responses_206) C(http_responses_304) C(http_responses_416)                \
	C(http_request_too_large) C(http_bad_request) C(http_header_timeouts)            \
	C(http_keepalive_timeouts) C(http_send_timeouts) C(http_body_bytes)              \
	C(http_no_session_memory) C(http_pipeline_waits) C(http_multipart_degraded)      \
	C(http_range_multipart) C(http_method_not_allowed) C(http_cors_preflights)       \
	C(http_request_body_bytes_skipped) C(http_request_body_too_large)                \
	C(http_sign_ok) C(http_sign_rejected) C(http_sign_expired)                       \
	C(accesslog_records) C(accesslog_dropped)                                        \
	/* segment store: parking on page-ins, their latency (cumulative histogram     \
	 * buckets, Prometheus semantics: le_X counts observations <= X), failures */  \
	G(store_parked) C(store_parked_total) C(store_pagein_requests)                   \
	C(store_pagein_ring_full) C(store_pagein_failed)                                 \
	C(store_pagein_le_100us) C(store_pagein_le_1ms) C(store_pagein_le_10ms)          \
	C(store_pagein_le_100ms) C(store_pagein_le_1s) C(store_pagein_le_inf)            \
	C(store_pagein_sum_us) C(store_not_resident_retries)                             \
	C(store_file_broken_resets) C(store_file_broken_refused) C(store_sigbus_caught)  \
	/* TLS (dataplane/tls/tls_app.c): handshakes, queueing, records, alerts */       \
	C(tls_handshakes_started) C(tls_handshakes_completed) C(tls_handshakes_failed)   \
	C(tls_handshakes_resumed) C(tls_handshakes_timed_out) C(tls_handshakes_tls13)    \
	C(tls_handshakes_tls12) G(tls_handshakes_active) G(tls_handshake_queue_depth)    \
	C(tls_handshakes_queued) C(tls_handshake_queue_wait_us)                          \
	C(tls_handshake_queue_wait_le_1ms) C(tls_handshake_queue_wait_le_10ms)           \
	C(tls_handshake_queue_wait_le_100ms) C(tls_handshake_queue_wait_le_1s)           \
	G(tls_handshake_queue_wait_max_us) G(tls_sessions_active)                        \
	C(tls_records_sealed) C(tls_records_resealed) C(tls_records_opened)              \
	C(tls_produce_bytes) C(tls_produce_cycles) C(tls_spill_bytes)                    \
	C(tls_plaintext_received_bytes) C(tls_alerts_sent) C(tls_alerts_received)        \
	C(tls_close_notify_sent) C(tls_close_notify_received) C(tls_bad_record_mac)      \
	C(tls_key_updates_received) C(tls_renegotiations_refused)                        \
	C(tls_append_deferred) C(tls_receive_buffers_exhausted)                          \
	C(tls_sessions_exhausted) C(tls_handshake_output_overflow)                       \
	/* commands applied from the control plane */                                  \
	C(commands_applied) G(catalog_version) G(admission_state)

enum dp_counter_id {
#define DP_COUNTER_ENUM(name) DPC_##name,
	DP_COUNTER_LIST(DP_COUNTER_ENUM, DP_COUNTER_ENUM)
#undef DP_COUNTER_ENUM
	DP_COUNTER_COUNT
};

struct dp_counters {
	uint64_t value[DP_COUNTER_COUNT];
};

#define COUNTER_INC(ctr, name) ((ctr)->value[DPC_##name]++)
#define COUNTER_ADD(ctr, name, n) ((ctr)->value[DPC_##name] += (uint64_t)(n))
#define COUNTER_DEC(ctr, name) ((ctr)->value[DPC_##name]--)
#define COUNTER_GET(ctr, name) ((ctr)->value[DPC_##name])

/* Name and kind (SLUICE_STATS_COUNTER / _GAUGE) of each id; used by stats.c and tests. */
const char *dp_counter_name(enum dp_counter_id id);
int dp_counter_kind(enum dp_counter_id id);

#endif /* SLUICE_DP_COUNTERS_H */
