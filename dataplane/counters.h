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
	C(tx_queue_full)                                                                 \
	C(mbuf_alloc_failed)                                                             \
	/* ethernet and IP input: drops by reason */                                     \
	C(rx_drop_runt) C(rx_drop_not_our_mac) C(rx_drop_ethertype)                      \
	C(rx_drop_ip_header) C(rx_drop_ip_checksum) C(rx_drop_ip_length)                 \
	C(rx_drop_ip_fragment) C(rx_drop_ip_options) C(rx_drop_not_our_address)          \
	C(rx_drop_ip_protocol) C(rx_drop_ipv6_disabled)                                  \
	/* ARP and ICMP */                                                               \
	C(arp_requests_answered) C(arp_replies_received) C(arp_requests_sent)            \
	C(arp_table_full) C(rx_drop_arp_malformed) C(rx_drop_arp_not_for_us)             \
	C(icmp_echo_answered) C(rx_drop_icmp_malformed) C(rx_drop_icmp_checksum)         \
	C(icmp_other_received)                                                           \
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
	C(http_request_too_large) C(http_bad_request) C(http_header_timeouts)            \
	C(http_keepalive_timeouts) C(http_body_bytes) C(http_no_session_memory)    \
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
