/* SPDX-License-Identifier: BSD-3-Clause
 *
 * test_tcp.c: the TCP engine driven segment by segment through net_harness (virtual clock,
 * no DPDK): handshake and options, sending within windows, retransmission by timeout and by
 * duplicate ACKs (bytes re-produced from the stream source, checked against the pattern),
 * both close orders and TIME_WAIT, resets and RFC 5961 challenge ACKs, table exhaustion,
 * source failure, and the stack's handling of bad frames.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "net_harness.h"
#include "test_main.h"

#define CLIENT_ISN 1000000u

static struct harness h;

static uint32_t count_payload(uint32_t *segments, uint32_t *first_seq)
{
	struct harness_segment seg;
	uint32_t bytes = 0;

	*segments = 0;
	for (uint32_t i = 0; i < h.tx_count; i++) {
		if (!harness_tx_tcp(&h, i, &seg) || !seg.payload_len)
			continue;
		if (!*segments && first_seq)
			*first_seq = seg.seq;
		(*segments)++;
		bytes += seg.payload_len;
	}
	return bytes;
}

static void test_handshake_options(void)
{
	static const struct {
		const char *description;
		struct harness_tcp_opts opts;
		uint16_t expect_mss;
		bool expect_wscale;
	} cases[] = {
		{"no options: MSS 536 (RFC 9293 default)", {.wscale = -1}, 536, false},
		{"MSS 1460 + wscale", {.mss = 1460, .wscale = 7}, 1460, true},
		{"MSS larger than our MTU allows", {.mss = 9000, .wscale = -1}, 1460, false},
		{"tiny MSS is raised", {.mss = 10, .wscale = -1}, 64, false},
		{"wscale above 14 clamped", {.mss = 1400, .wscale = 20}, 1400, true},
		{"SACK and timestamps: 12 option bytes per segment", {.mss = 1460, .wscale = 2, .sack_permitted = true,
		 .timestamp = true, .tsval = 5}, 1448, true},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct harness_segment seg;
		struct tcp_conn *c;

		harness_init(&h, 16);
		harness_send_tcp(&h, 40000, 80, TCP_FLAG_SYN, CLIENT_ISN, 0, 65535, &cases[i].opts, NULL, 0);
		TEST_CHECK(h.tx_count == 1 && harness_tx_tcp(&h, 0, &seg), "%s: one SYN-ACK", cases[i].description);
		TEST_CHECK(seg.flags == (TCP_FLAG_SYN | TCP_FLAG_ACK) && seg.ack == CLIENT_ISN + 1 && seg.checksum_ok,
			   "%s: SYN-ACK flags/ack/checksum", cases[i].description);
		TEST_CHECK(seg.opt_mss == 1460, "%s: we announce our MSS (got %u)", cases[i].description, seg.opt_mss);
		TEST_CHECK((seg.opt_wscale >= 0) == cases[i].expect_wscale, "%s: wscale echoed only if offered",
			   cases[i].description);
		c = harness_conn(&h, 40000);
		TEST_CHECK(c && c->state == TCP_SYN_RECEIVED && c->mss == cases[i].expect_mss,
			   "%s: mss %u expected %u", cases[i].description, c ? c->mss : 0, cases[i].expect_mss);
		harness_clear_tx(&h);
		harness_send_tcp(&h, 40000, 80, TCP_FLAG_ACK, CLIENT_ISN + 1, seg.seq + 1, 100, NULL, NULL, 0);
		TEST_CHECK(c->state == TCP_ESTABLISHED && ((struct harness_app *)tcp_conn_app(c))->accepted,
			   "%s: established and accepted", cases[i].description);
		if (cases[i].expect_wscale)
			TEST_CHECK(c->snd_wnd == (100u << (cases[i].opts.wscale > 14 ? 14 : cases[i].opts.wscale)),
				   "%s: peer window scaled (%u)", cases[i].description, c->snd_wnd);
		harness_fini(&h);
	}
}

static void test_send_within_windows(void)
{
	struct tcp_conn *c;
	uint32_t iss, segs, first = 0, bytes;
	struct harness_segment seg;

	harness_init(&h, 16);
	iss = harness_handshake(&h, 40001, CLIENT_ISN, 65535 >> 7 << 0);
	c = harness_conn(&h, 40001);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	/* Window field 511 << 7 = 65408 bytes; initial cwnd 10 * 1460 = 14600 limits first. */
	harness_clear_tx(&h);
	tcp_send_extend(&h.ns, c, 1000000);
	harness_run_output(&h);
	bytes = count_payload(&segs, &first);
	CU_ASSERT_EQUAL(bytes, 14600);
	CU_ASSERT_EQUAL(segs, 10);
	CU_ASSERT_EQUAL(first, iss + 1);
	for (uint32_t i = 0; i < h.tx_count; i++) {
		CU_ASSERT(harness_tx_tcp(&h, i, &seg));
		CU_ASSERT(seg.checksum_ok);
		CU_ASSERT(harness_payload_ok(&seg, seg.seq - iss - 1));
		CU_ASSERT(seg.payload_len <= 1460);
	}
	/* Acknowledge everything: slow start doubles the window (ABC, L = 2). */
	harness_clear_tx(&h);
	harness_send_tcp(&h, 40001, 80, TCP_FLAG_ACK, CLIENT_ISN + 1, iss + 1 + 14600, 511, NULL, NULL, 0);
	CU_ASSERT_EQUAL(((struct harness_app *)tcp_conn_app(c))->acked, 14600);
	bytes = count_payload(&segs, NULL);
	CU_ASSERT_EQUAL(bytes, 14600 + 2920);
	/* The peer's window limits: announce a window of 1000 bytes (unscaled field 7 → 896). */
	harness_clear_tx(&h);
	harness_send_tcp(&h, 40001, 80, TCP_FLAG_ACK, CLIENT_ISN + 1, iss + 1 + 14600 + 17520, 7, NULL, NULL, 0);
	bytes = count_payload(&segs, NULL);
	CU_ASSERT_EQUAL(bytes, 896);
	harness_fini(&h);
}

static void test_rto_retransmits_from_source(void)
{
	struct tcp_conn *c;
	struct harness_segment seg;
	uint32_t iss, segs, first = 0;

	harness_init(&h, 16);
	iss = harness_handshake(&h, 40002, CLIENT_ISN, 1000);
	c = harness_conn(&h, 40002);
	tcp_send_extend(&h.ns, c, 5000);
	harness_run_output(&h);
	harness_clear_tx(&h);
	/* Nothing acknowledged: after the RTO (>= rto_min 200 ms) the first segment again. */
	harness_advance(&h, 150000);
	CU_ASSERT_EQUAL(h.tx_count, 0);
	harness_advance(&h, 100000);
	CU_ASSERT(count_payload(&segs, &first) == 1460 && segs == 1);
	CU_ASSERT_EQUAL(first, iss + 1);
	CU_ASSERT(harness_tx_tcp(&h, 0, &seg) && harness_payload_ok(&seg, 0));
	CU_ASSERT_EQUAL(COUNTER_GET(&h.ns.counters, tcp_rto_fired), 1);
	CU_ASSERT_EQUAL(c->cwnd, c->mss);
	/* Backoff: the next retransmission comes after twice the RTO, not before. */
	harness_clear_tx(&h);
	harness_advance(&h, 300000);
	CU_ASSERT_EQUAL(h.tx_count, 0);
	harness_advance(&h, 150000);
	CU_ASSERT_EQUAL(count_payload(&segs, NULL), 1460);
	/* Give up after data_retries (5) timeouts: reset and release. */
	for (int i = 0; i < 10 && harness_conn(&h, 40002); i++)
		harness_advance(&h, 60000000);
	CU_ASSERT_PTR_NULL(harness_conn(&h, 40002));
	CU_ASSERT_EQUAL(h.last_released_reason, TCP_CLOSE_TIMEOUT);
	harness_fini(&h);
}

static void test_fast_retransmit(void)
{
	struct tcp_conn *c;
	struct harness_segment seg;
	uint32_t iss, segs, first = 0;

	harness_init(&h, 16);
	iss = harness_handshake(&h, 40003, CLIENT_ISN, 1000);
	c = harness_conn(&h, 40003);
	tcp_send_extend(&h.ns, c, 100000);
	harness_run_output(&h);
	/* The first segment is lost: the peer acknowledges iss+1 three more times. */
	harness_clear_tx(&h);
	for (int i = 0; i < 3; i++)
		harness_send_tcp(&h, 40003, 80, TCP_FLAG_ACK, CLIENT_ISN + 1, iss + 1, 1000, NULL, NULL, 0);
	CU_ASSERT_EQUAL(COUNTER_GET(&h.ns.counters, tcp_recoveries), 1);
	CU_ASSERT_EQUAL(COUNTER_GET(&h.ns.counters, tcp_retransmit_segments), 1);
	CU_ASSERT(count_payload(&segs, &first) >= 1460);
	CU_ASSERT_EQUAL(first, iss + 1);
	CU_ASSERT(harness_tx_tcp(&h, 0, &seg) && harness_payload_ok(&seg, 0));
	CU_ASSERT(c->flags & TCP_CONN_IN_RECOVERY);
	/* Full ACK of the recovery point ends recovery with cwnd = ssthresh. */
	harness_send_tcp(&h, 40003, 80, TCP_FLAG_ACK, CLIENT_ISN + 1, c->recover, 1000, NULL, NULL, 0);
	CU_ASSERT_FALSE(c->flags & TCP_CONN_IN_RECOVERY);
	CU_ASSERT(c->cwnd <= c->ssthresh + c->mss); /* handed over at ssthresh, then one ACK of growth */
	harness_fini(&h);
}

static void test_peer_closes_first(void)
{
	struct tcp_conn *c;
	struct harness_segment seg;
	uint32_t iss;

	harness_init(&h, 16);
	iss = harness_handshake(&h, 40004, CLIENT_ISN, 1000);
	c = harness_conn(&h, 40004);
	((struct harness_app *)tcp_conn_app(c))->close_on_peer_fin = true;
	harness_clear_tx(&h);
	harness_send_tcp(&h, 40004, 80, TCP_FLAG_ACK | TCP_FLAG_FIN, CLIENT_ISN + 1, iss + 1, 1000, NULL, NULL, 0);
	/* FIN acknowledged and ours sent: LAST_ACK. */
	CU_ASSERT_EQUAL(c->state, TCP_LAST_ACK);
	CU_ASSERT(h.tx_count >= 1);
	CU_ASSERT(harness_tx_tcp(&h, h.tx_count - 1, &seg));
	CU_ASSERT(seg.flags & TCP_FLAG_FIN);
	CU_ASSERT_EQUAL(seg.ack, CLIENT_ISN + 2);
	harness_send_tcp(&h, 40004, 80, TCP_FLAG_ACK, CLIENT_ISN + 2, seg.seq + 1, 1000, NULL, NULL, 0);
	CU_ASSERT_PTR_NULL(harness_conn(&h, 40004));
	CU_ASSERT_EQUAL(h.last_released_reason, TCP_CLOSE_NORMAL);
	harness_fini(&h);
}

static void test_we_close_first_time_wait(void)
{
	struct tcp_conn *c;
	struct harness_segment seg;
	uint32_t iss, fin_seq = 0;

	harness_init(&h, 16);
	iss = harness_handshake(&h, 40005, CLIENT_ISN, 1000);
	c = harness_conn(&h, 40005);
	harness_clear_tx(&h);
	tcp_send_extend(&h.ns, c, 3000);
	tcp_send_close(&h.ns, c);
	harness_run_output(&h);
	CU_ASSERT_EQUAL(c->state, TCP_FIN_WAIT_1);
	for (uint32_t i = 0; i < h.tx_count; i++)
		if (harness_tx_tcp(&h, i, &seg) && (seg.flags & TCP_FLAG_FIN))
			fin_seq = seg.seq;
	CU_ASSERT_EQUAL(fin_seq, iss + 1 + 3000);
	harness_send_tcp(&h, 40005, 80, TCP_FLAG_ACK, CLIENT_ISN + 1, fin_seq + 1, 1000, NULL, NULL, 0);
	CU_ASSERT_EQUAL(c->state, TCP_FIN_WAIT_2);
	CU_ASSERT_EQUAL(((struct harness_app *)tcp_conn_app(c))->acked, 3000);
	harness_send_tcp(&h, 40005, 80, TCP_FLAG_ACK | TCP_FLAG_FIN, CLIENT_ISN + 1, fin_seq + 1, 1000, NULL, NULL, 0);
	CU_ASSERT_EQUAL(c->state, TCP_TIME_WAIT);
	/* A new SYN above the old sequence space reuses the TIME_WAIT flow at once. */
	harness_clear_tx(&h);
	harness_send_tcp(&h, 40005, 80, TCP_FLAG_SYN, CLIENT_ISN + 100000, 0, 65535,
			 &(struct harness_tcp_opts){.mss = 1460, .wscale = -1}, NULL, 0);
	c = harness_conn(&h, 40005);
	CU_ASSERT(c && c->state == TCP_SYN_RECEIVED);
	harness_fini(&h);

	/* Without reuse TIME_WAIT ends after time_wait_us. */
	harness_init(&h, 16);
	iss = harness_handshake(&h, 40006, CLIENT_ISN, 1000);
	c = harness_conn(&h, 40006);
	tcp_send_close(&h.ns, c);
	harness_run_output(&h);
	harness_send_tcp(&h, 40006, 80, TCP_FLAG_ACK | TCP_FLAG_FIN, CLIENT_ISN + 1, iss + 2, 1000, NULL, NULL, 0);
	CU_ASSERT_EQUAL(c->state, TCP_TIME_WAIT);
	harness_advance(&h, 1900000);
	CU_ASSERT_PTR_NOT_NULL(harness_conn(&h, 40006));
	harness_advance(&h, 200000);
	CU_ASSERT_PTR_NULL(harness_conn(&h, 40006));
	harness_fini(&h);
}

static void test_reset_validation(void)
{
	static const struct {
		const char *description;
		int32_t seq_delta;         /* from rcv_nxt */
		bool expect_reset;
		bool expect_challenge;
	} cases[] = {
		{"RST at rcv_nxt resets", 0, true, false},
		{"RST inside the window: challenge ACK", 100, false, true},
		{"RST outside the window: dropped", 1000000, false, false},
		{"RST before the window: dropped", -5000, false, false},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct harness_segment seg;
		uint32_t iss;

		harness_init(&h, 16);
		iss = harness_handshake(&h, 40007, CLIENT_ISN, 1000);
		harness_clear_tx(&h);
		harness_send_tcp(&h, 40007, 80, TCP_FLAG_RST, CLIENT_ISN + 1 + (uint32_t)cases[i].seq_delta, 0, 0, NULL,
				 NULL, 0);
		TEST_CHECK((harness_conn(&h, 40007) == NULL) == cases[i].expect_reset, "%s: reset", cases[i].description);
		TEST_CHECK((COUNTER_GET(&h.ns.counters, tcp_challenge_acks_sent) == 1) == cases[i].expect_challenge,
			   "%s: challenge ACK", cases[i].description);
		if (cases[i].expect_challenge)
			TEST_CHECK(h.tx_count == 1 && harness_tx_tcp(&h, 0, &seg) && seg.flags == TCP_FLAG_ACK &&
					   seg.ack == CLIENT_ISN + 1 && seg.seq == iss + 1,
				   "%s: challenge ACK carries rcv_nxt", cases[i].description);
		harness_fini(&h);
	}
	/* A SYN on an established connection: challenge ACK, connection kept (RFC 5961 §4). */
	harness_init(&h, 16);
	harness_handshake(&h, 40008, CLIENT_ISN, 1000);
	harness_send_tcp(&h, 40008, 80, TCP_FLAG_SYN, CLIENT_ISN + 1, 0, 1000, NULL, NULL, 0);
	CU_ASSERT_PTR_NOT_NULL(harness_conn(&h, 40008));
	CU_ASSERT_EQUAL(COUNTER_GET(&h.ns.counters, tcp_challenge_acks_sent), 1);
	harness_fini(&h);
}

static void test_no_connection_resets(void)
{
	struct harness_segment seg;

	harness_init(&h, 16);
	/* SYN to a port nobody listens on: RST|ACK acknowledging the SYN. */
	harness_send_tcp(&h, 40009, 81, TCP_FLAG_SYN, CLIENT_ISN, 0, 1000, NULL, NULL, 0);
	CU_ASSERT(h.tx_count == 1 && harness_tx_tcp(&h, 0, &seg));
	CU_ASSERT_EQUAL(seg.flags, TCP_FLAG_RST | TCP_FLAG_ACK);
	CU_ASSERT_EQUAL(seg.ack, CLIENT_ISN + 1);
	CU_ASSERT(seg.checksum_ok);
	/* ACK for no connection: RST with seq = their ack. */
	harness_clear_tx(&h);
	harness_send_tcp(&h, 40009, 80, TCP_FLAG_ACK, CLIENT_ISN, 777, 1000, NULL, NULL, 0);
	CU_ASSERT(h.tx_count == 1 && harness_tx_tcp(&h, 0, &seg));
	CU_ASSERT_EQUAL(seg.flags, TCP_FLAG_RST);
	CU_ASSERT_EQUAL(seg.seq, 777);
	/* A RST for no connection is never answered. */
	harness_clear_tx(&h);
	harness_send_tcp(&h, 40009, 80, TCP_FLAG_RST, CLIENT_ISN, 0, 0, NULL, NULL, 0);
	CU_ASSERT_EQUAL(h.tx_count, 0);
	harness_fini(&h);
}

static void test_table_full_and_source_failure(void)
{
	struct tcp_conn *c;

	harness_init(&h, 2);
	harness_handshake(&h, 41000, CLIENT_ISN, 1000);
	harness_handshake(&h, 41001, CLIENT_ISN, 1000);
	harness_clear_tx(&h);
	harness_send_tcp(&h, 41002, 80, TCP_FLAG_SYN, CLIENT_ISN, 0, 1000, NULL, NULL, 0);
	CU_ASSERT_EQUAL(h.tx_count, 0);
	CU_ASSERT_EQUAL(COUNTER_GET(&h.ns.counters, tcp_conn_table_full), 1);
	/* The others are undisturbed; a failing source resets only its own connection. */
	c = harness_conn(&h, 41000);
	((struct harness_app *)tcp_conn_app(c))->fail_source = true;
	tcp_send_extend(&h.ns, c, 10000);
	harness_run_output(&h);
	CU_ASSERT_PTR_NULL(harness_conn(&h, 41000));
	CU_ASSERT_PTR_NOT_NULL(harness_conn(&h, 41001));
	CU_ASSERT_EQUAL(COUNTER_GET(&h.ns.counters, tcp_payload_source_failed), 1);
	harness_fini(&h);
}

static void test_request_data_and_acks(void)
{
	struct tcp_conn *c;
	struct harness_segment seg;
	uint32_t iss;
	static const char req[] = "GET / HTTP/1.1\r\n\r\n";

	harness_init(&h, 16);
	iss = harness_handshake(&h, 40010, CLIENT_ISN, 1000);
	c = harness_conn(&h, 40010);
	harness_clear_tx(&h);
	harness_send_tcp(&h, 40010, 80, TCP_FLAG_ACK | TCP_FLAG_PSH, CLIENT_ISN + 1, iss + 1, 1000, NULL, req,
			 sizeof(req) - 1);
	CU_ASSERT_EQUAL(((struct harness_app *)tcp_conn_app(c))->received, sizeof(req) - 1);
	/* No response from this application: the ACK is delayed (delack_us = 40 ms). */
	CU_ASSERT_EQUAL(h.tx_count, 0);
	harness_advance(&h, 39000);
	CU_ASSERT_EQUAL(h.tx_count, 0);
	harness_advance(&h, 1100);
	CU_ASSERT(h.tx_count == 1 && harness_tx_tcp(&h, 0, &seg) && seg.ack == CLIENT_ISN + sizeof(req));
	/* The same segment again (retransmitted by the peer): not delivered twice, re-ACKed. */
	harness_clear_tx(&h);
	harness_send_tcp(&h, 40010, 80, TCP_FLAG_ACK | TCP_FLAG_PSH, CLIENT_ISN + 1, iss + 1, 1000, NULL, req,
			 sizeof(req) - 1);
	CU_ASSERT_EQUAL(((struct harness_app *)tcp_conn_app(c))->received, sizeof(req) - 1);
	CU_ASSERT_EQUAL(h.tx_count, 1);
	/* A segment beyond rcv_nxt is not taken (no reassembly queue) and is duplicate-ACKed. */
	harness_clear_tx(&h);
	harness_send_tcp(&h, 40010, 80, TCP_FLAG_ACK, CLIENT_ISN + sizeof(req) + 10, iss + 1, 1000, NULL, req, 5);
	CU_ASSERT_EQUAL(COUNTER_GET(&h.ns.counters, tcp_rx_out_of_order_dropped), 1);
	CU_ASSERT(h.tx_count == 1 && harness_tx_tcp(&h, 0, &seg) && seg.ack == CLIENT_ISN + sizeof(req));
	/* The application takes only part: the rest is left unacknowledged. */
	((struct harness_app *)tcp_conn_app(c))->receive_space = 4;
	harness_clear_tx(&h);
	harness_send_tcp(&h, 40010, 80, TCP_FLAG_ACK, CLIENT_ISN + sizeof(req), iss + 1, 1000, NULL, req, 3);
	harness_send_tcp(&h, 40010, 80, TCP_FLAG_ACK, CLIENT_ISN + sizeof(req) + 3, iss + 1, 1000, NULL, req, 10);
	CU_ASSERT_EQUAL(c->rcv_nxt, CLIENT_ISN + sizeof(req) + 3 + 4);
	harness_fini(&h);
}

static void test_bad_frames_counted(void)
{
	uint8_t frame[2048];
	uint32_t len;

	harness_init(&h, 16);
	/* Bad TCP checksum. */
	len = harness_build_tcp(&h, frame, 40011, 80, TCP_FLAG_SYN, CLIENT_ISN, 0, 1000, NULL, NULL, 0);
	frame[len - 1] ^= 0xff;
	harness_inject(&h, frame, len);
	CU_ASSERT_EQUAL(COUNTER_GET(&h.ns.counters, rx_drop_tcp_checksum), 1);
	CU_ASSERT_EQUAL(h.tx_count, 0);
	/* Every truncation of a valid SYN with options is dropped without a reply. */
	len = harness_build_tcp(&h, frame, 40011, 80, TCP_FLAG_SYN, CLIENT_ISN, 0, 1000,
				&(struct harness_tcp_opts){.mss = 1460, .wscale = 3, .sack_permitted = true,
							   .timestamp = true},
				NULL, 0);
	for (uint32_t cut = 0; cut < len; cut++)
		harness_inject(&h, frame, cut);
	CU_ASSERT_EQUAL(h.tx_count, 0);
	CU_ASSERT_EQUAL(COUNTER_GET(&h.ns.counters, tcp_conn_active), 0);
	/* Random garbage frames. */
	srand(7);
	for (int i = 0; i < 5000; i++) {
		uint32_t n = (uint32_t)(rand() % 200);
		for (uint32_t j = 0; j < n; j++)
			frame[j] = (uint8_t)rand();
		if (n > 14 && (i & 1)) { /* half of them look like IPv4 to us */
			memcpy(frame, h.ns.mac, 6);
			frame[12] = 0x08, frame[13] = 0x00;
		}
		harness_inject(&h, frame, n);
	}
	CU_ASSERT_EQUAL(COUNTER_GET(&h.ns.counters, rx_packets), 1 + len + 5000);
	harness_fini(&h);
}

void test_register(void)
{
	static const struct test_case cases[] = {
		{"handshake options", test_handshake_options},
		{"send within cwnd and peer window", test_send_within_windows},
		{"RTO retransmits from the source, backs off, gives up", test_rto_retransmits_from_source},
		{"fast retransmit and NewReno recovery", test_fast_retransmit},
		{"peer closes first", test_peer_closes_first},
		{"we close first, TIME_WAIT and reuse", test_we_close_first_time_wait},
		{"RST and SYN validation (RFC 5961)", test_reset_validation},
		{"segments without a connection", test_no_connection_resets},
		{"table full, failing source", test_table_full_and_source_failure},
		{"request data, duplicates, partial take", test_request_data_and_acks},
		{"bad frames counted", test_bad_frames_counted},
		{NULL, NULL},
	};
	test_add_suite("tcp", cases);
}
