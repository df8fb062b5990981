/* SPDX-License-Identifier: BSD-3-Clause
 *
 * test_tcp_scale.c: a million connections on one lcore's TCP stack: they fit, lookups stay
 * O(1) (bucket chains short), freeing returns every slot, and the memory per established
 * connection — TCP state, the HTTP session after it, its hash bucket and its share of the
 * sendmap pool — stays within 1 KiB (response heads in flight excluded, as the issue states).
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_server.h"
#include "net_harness.h"
#include "test_main.h"

#define SCALE_CONNECTIONS 1000000u

_Static_assert(sizeof(struct tcp_conn) <= 512, "TCP state of a connection");

static void test_million_connections(void)
{
	struct tcp_settings s = {
		.max_connections = SCALE_CONNECTIONS,
		.app_size = (uint32_t)http_session_size(),
		.rto_min_us = 200000, .rto_max_us = 60000000, .rto_initial_us = 1000000,
		.timer_tick_us = 50, .output_burst_bytes = 65536, .syn_backlog = 1024,
		.secret = {7, 9},
	};
	struct net_stack ns;
	struct tcp_stack *ts;
	uint64_t per_connection, longest = 0;
	uint32_t allocated = 0;

	memset(&ns, 0, sizeof(ns));
	ts = tcp_stack_create(&s);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ts);
	ns.tcp = ts;
	/* Bytes reserved per connection: slot, bucket, sendmap entries (two per connection). */
	per_connection = tcp_conn_slot_bytes(ts) + (uint64_t)(ts->bucket_mask + 1) * 4 / SCALE_CONNECTIONS +
			 (uint64_t)ts->settings.sendmap_entries * sizeof(struct tcp_seg) / SCALE_CONNECTIONS;
	TEST_CHECK(per_connection <= 1024, "%llu bytes per connection", (unsigned long long)per_connection);
	printf("\n    %u bytes per connection slot, %llu bytes per connection with bucket and sendmap share\n",
	       tcp_conn_slot_bytes(ts), (unsigned long long)per_connection);

	for (uint32_t i = 0; i < SCALE_CONNECTIONS; i++) {
		struct tcp_flow flow;
		struct tcp_conn *c;

		memset(&flow, 0, sizeof(flow));
		net_addr_v4(&flow.remote, htonl(0x0a000000u | (i >> 4)));
		flow.remote_port = htons((uint16_t)(1024 + (i & 15)));
		flow.local_port = htons(80);
		c = tcp_conn_alloc(&ns, &flow);
		if (!c)
			break;
		allocated++;
		tcp_conn_set_state(&ns, c, TCP_ESTABLISHED);
	}
	CU_ASSERT_EQUAL(allocated, SCALE_CONNECTIONS);
	CU_ASSERT_EQUAL(ts->state_count[TCP_ESTABLISHED], SCALE_CONNECTIONS);
	CU_ASSERT_EQUAL(COUNTER_GET(&ns.counters, tcp_conn_established), SCALE_CONNECTIONS);
	/* One more does not fit and is counted. */
	{
		struct tcp_flow extra;
		memset(&extra, 0, sizeof(extra));
		net_addr_v4(&extra.remote, htonl(0x0b000001));
		extra.remote_port = htons(1);
		extra.local_port = htons(80);
		CU_ASSERT_PTR_NULL(tcp_conn_alloc(&ns, &extra));
		CU_ASSERT_EQUAL(COUNTER_GET(&ns.counters, tcp_conn_table_full), 1);
	}
	/* Lookups: every 97th flow found, bucket chains short. */
	for (uint32_t i = 0; i < SCALE_CONNECTIONS; i += 97) {
		struct tcp_flow flow;
		struct tcp_conn *c;

		memset(&flow, 0, sizeof(flow));
		net_addr_v4(&flow.remote, htonl(0x0a000000u | (i >> 4)));
		flow.remote_port = htons((uint16_t)(1024 + (i & 15)));
		flow.local_port = htons(80);
		c = tcp_conn_lookup(ts, &flow);
		TEST_CHECK(c && c->flow.remote_port == flow.remote_port, "flow %u found", i);
	}
	for (uint32_t b = 0; b <= ts->bucket_mask; b++) {
		uint64_t n = 0;
		for (uint32_t i = ts->buckets[b]; i; i = tcp_conn_by_index(ts, i)->hash_next)
			n++;
		if (n > longest)
			longest = n;
	}
	TEST_CHECK(longest <= 16, "longest bucket chain %llu", (unsigned long long)longest);
	/* Free them all: every slot returns (never accepted: no application to release). */
	for (uint32_t b = 0; b <= ts->bucket_mask; b++)
		while (ts->buckets[b])
			tcp_conn_free(&ns, tcp_conn_by_index(ts, ts->buckets[b]), TCP_CLOSE_NORMAL);
	CU_ASSERT_EQUAL(ts->active, 0);
	CU_ASSERT_EQUAL(COUNTER_GET(&ns.counters, tcp_conn_established), 0);
	tcp_stack_destroy(&ns, ts);
}

void test_register(void)
{
	static const struct test_case cases[] = {
		{"a million connections on one lcore", test_million_connections},
		{NULL, NULL},
	};
	test_add_suite("tcp_scale", cases);
}
