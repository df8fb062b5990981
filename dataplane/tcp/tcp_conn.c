/* SPDX-License-Identifier: BSD-3-Clause
 *
 * tcp_conn.c: the per-lcore connection table: slot pool, hash lookup, allocation and
 * release, state accounting, listeners.
 *
 * Invariants:
 *  - a slot is either on the free list (state CLOSED, linked through hash_next) or in exactly
 *    one hash bucket (linked through hash_next);
 *  - tcp_stack.active equals the number of slots in buckets, and state_count[] their states;
 *  - a slot in a bucket is linked in the timer wheel iff TCP_CONN_TIMER_LINKED is set, and on
 *    the ready list iff TCP_CONN_READY is set.
 * Lookup is O(1): buckets >= max_connections, bucket chosen by SipHash of the flow with a
 * per-stack secret so that a client cannot aim many flows at one bucket.
 * Create/destroy run on the control path; the rest per packet, without allocating.
 */
#include "tcp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "net/stack.h"

static const char *const tcp_state_names[TCP_STATE_COUNT] = {
	[TCP_CLOSED] = "CLOSED",           [TCP_SYN_RECEIVED] = "SYN_RECEIVED",
	[TCP_ESTABLISHED] = "ESTABLISHED", [TCP_CLOSE_WAIT] = "CLOSE_WAIT",
	[TCP_LAST_ACK] = "LAST_ACK",       [TCP_FIN_WAIT_1] = "FIN_WAIT_1",
	[TCP_FIN_WAIT_2] = "FIN_WAIT_2",   [TCP_CLOSING] = "CLOSING",
	[TCP_TIME_WAIT] = "TIME_WAIT",
};

const char *tcp_state_name(enum tcp_state state)
{
	return (unsigned)state < TCP_STATE_COUNT ? tcp_state_names[state] : "?";
}

struct tcp_stack *tcp_stack_create(const struct tcp_settings *settings)
{
	struct tcp_stack *ts;
	uint32_t buckets = 16, slots = 64;
	size_t pool_bytes;

	if (!settings->max_connections || !settings->timer_tick_us || settings->max_connections > (1u << 28)) {
		errno = EINVAL;
		return NULL;
	}
	ts = calloc(1, sizeof(*ts));
	if (!ts)
		return NULL;
	ts->settings = *settings;
	ts->conn_stride = (uint32_t)((sizeof(struct tcp_conn) + settings->app_size + SLUICE_CACHE_LINE - 1) &
				     ~(size_t)(SLUICE_CACHE_LINE - 1));
	pool_bytes = (size_t)ts->conn_stride * settings->max_connections;
	/* mmap rather than malloc: large, page aligned, and untouched pages cost nothing until
	 * connections use them. */
	ts->pool = mmap(NULL, pool_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ts->pool == MAP_FAILED) {
		ts->pool = NULL;
		goto fail;
	}
	while (buckets < settings->max_connections)
		buckets <<= 1;
	ts->buckets = calloc(buckets, sizeof(*ts->buckets));
	if (!ts->buckets)
		goto fail;
	ts->bucket_mask = buckets - 1;
	/* The wheel spans at least 2 s at its tick so that most timers fire on their first
	 * pass; longer ones go round again. */
	while ((uint64_t)slots * settings->timer_tick_us < 2000000 && slots < (1u << 22))
		slots <<= 1;
	ts->wheel.slots = calloc(slots, sizeof(*ts->wheel.slots));
	if (!ts->wheel.slots)
		goto fail;
	ts->wheel.mask = slots - 1;
	ts->wheel.tick_us = settings->timer_tick_us;
	if (!ts->settings.sendmap_entries)
		ts->settings.sendmap_entries = settings->max_connections * 2 + 1024;
	ts->segs = mmap(NULL, (size_t)ts->settings.sendmap_entries * sizeof(struct tcp_seg), PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ts->segs == MAP_FAILED) {
		ts->segs = NULL;
		goto fail;
	}
	for (uint32_t i = ts->settings.sendmap_entries; i > 0; i--) {
		ts->segs[i - 1].next = ts->seg_free;
		ts->seg_free = i;
	}
	/* Free list in index order, so the pool's pages are touched front to back. */
	for (uint32_t i = settings->max_connections; i > 0; i--) {
		struct tcp_conn *c = tcp_conn_by_index(ts, i);
		c->hash_next = ts->free_head;
		ts->free_head = i;
	}
	return ts;
fail:
	if (ts->pool)
		munmap(ts->pool, pool_bytes);
	if (ts->segs)
		munmap(ts->segs, (size_t)ts->settings.sendmap_entries * sizeof(struct tcp_seg));
	free(ts->buckets);
	free(ts->wheel.slots);
	free(ts);
	errno = ENOMEM;
	return NULL;
}

void tcp_stack_destroy(struct net_stack *ns, struct tcp_stack *ts)
{
	if (!ts)
		return;
	for (uint32_t b = 0; b <= ts->bucket_mask; b++)
		while (ts->buckets[b])
			tcp_conn_free(ns, tcp_conn_by_index(ts, ts->buckets[b]), TCP_CLOSE_SHUTDOWN);
	munmap(ts->pool, (size_t)ts->conn_stride * ts->settings.max_connections);
	munmap(ts->segs, (size_t)ts->settings.sendmap_entries * sizeof(struct tcp_seg));
	free(ts->buckets);
	free(ts->wheel.slots);
	free(ts);
}

void tcp_abort_all(struct net_stack *ns)
{
	struct tcp_stack *ts = ns->tcp;

	for (uint32_t b = 0; b <= ts->bucket_mask; b++)
		while (ts->buckets[b])
			tcp_abort(ns, tcp_conn_by_index(ts, ts->buckets[b]));
}

int tcp_listen(struct tcp_stack *ts, uint16_t port, const struct tcp_app_ops *app, const struct tcp_cc_ops *cc,
	       void *app_ctx)
{
	uint16_t port_be = __builtin_bswap16(port);

	if (!port || !app || !cc)
		return -EINVAL;
	for (uint32_t i = 0; i < ts->listener_count; i++)
		if (ts->listeners[i].port == port_be)
			return -EADDRINUSE;
	if (ts->listener_count == TCP_LISTENERS_MAX)
		return -ENOSPC;
	ts->listeners[ts->listener_count++] = (struct tcp_listener){
		.port = port_be, .app = app, .cc = cc, .app_ctx = app_ctx};
	return 0;
}

struct tcp_conn *tcp_conn_by_index(const struct tcp_stack *ts, uint32_t index_plus_one)
{
	return (struct tcp_conn *)(void *)(ts->pool + (size_t)(index_plus_one - 1) * ts->conn_stride);
}

uint32_t tcp_conn_index(const struct tcp_stack *ts, const struct tcp_conn *c)
{
	return (uint32_t)(((const uint8_t *)c - ts->pool) / ts->conn_stride) + 1;
}

void *tcp_conn_app_ctx(const struct net_stack *ns, const struct tcp_conn *c)
{
	return ns->tcp->listeners[c->listener].app_ctx;
}

static uint32_t tcp_flow_bucket(const struct tcp_stack *ts, const struct tcp_flow *flow)
{
	return (uint32_t)siphash24(&ts->settings.secret, flow, sizeof(*flow)) & ts->bucket_mask;
}

static bool tcp_flow_equal(const struct tcp_flow *a, const struct tcp_flow *b)
{
	return a->remote_port == b->remote_port && a->local_port == b->local_port &&
	       net_addr_equal(&a->remote, &b->remote);
}

struct tcp_conn *tcp_conn_lookup(const struct tcp_stack *ts, const struct tcp_flow *flow)
{
	uint32_t i = ts->buckets[tcp_flow_bucket(ts, flow)];

	while (i) {
		struct tcp_conn *c = tcp_conn_by_index(ts, i);
		if (tcp_flow_equal(&c->flow, flow))
			return c;
		i = c->hash_next;
	}
	return NULL;
}

struct tcp_conn *tcp_conn_alloc(struct net_stack *ns, const struct tcp_flow *flow)
{
	struct tcp_stack *ts = ns->tcp;
	uint32_t idx = ts->free_head, bucket;
	struct tcp_conn *c;

	if (!idx) {
		COUNTER_INC(&ns->counters, tcp_conn_table_full);
		return NULL;
	}
	c = tcp_conn_by_index(ts, idx);
	ts->free_head = c->hash_next;
	memset(c, 0, ts->conn_stride);
	c->flow = *flow;
	bucket = tcp_flow_bucket(ts, flow);
	c->hash_next = ts->buckets[bucket];
	ts->buckets[bucket] = idx;
	ts->active++;
	c->state = TCP_CLOSED;
	ts->state_count[TCP_CLOSED]++;
	COUNTER_INC(&ns->counters, tcp_conn_active);
	return c;
}

/* Keeps the per-state gauges in the counters in step with state_count. */
static void tcp_state_gauge(struct net_stack *ns, enum tcp_state state, int delta)
{
	struct dp_counters *ctr = &ns->counters;

	switch (state) {
	case TCP_SYN_RECEIVED: ctr->value[DPC_tcp_conn_syn_received] += (uint64_t)(int64_t)delta; break;
	case TCP_ESTABLISHED: ctr->value[DPC_tcp_conn_established] += (uint64_t)(int64_t)delta; break;
	case TCP_CLOSE_WAIT:
	case TCP_LAST_ACK:
	case TCP_FIN_WAIT_1:
	case TCP_FIN_WAIT_2:
	case TCP_CLOSING: ctr->value[DPC_tcp_conn_closing] += (uint64_t)(int64_t)delta; break;
	case TCP_TIME_WAIT: ctr->value[DPC_tcp_conn_time_wait] += (uint64_t)(int64_t)delta; break;
	default: break;
	}
}

void tcp_conn_set_state(struct net_stack *ns, struct tcp_conn *c, enum tcp_state state)
{
	struct tcp_stack *ts = ns->tcp;

	ts->state_count[c->state]--;
	tcp_state_gauge(ns, c->state, -1);
	if (c->state == TCP_SYN_RECEIVED)
		ts->syn_received--;
	c->state = (uint8_t)state;
	ts->state_count[state]++;
	tcp_state_gauge(ns, state, 1);
	if (state == TCP_SYN_RECEIVED)
		ts->syn_received++;
}

void tcp_ready_unlink(struct tcp_stack *ts, struct tcp_conn *c)
{
	if (c->ready_prev)
		tcp_conn_by_index(ts, c->ready_prev)->ready_next = c->ready_next;
	else
		ts->ready_head = c->ready_next;
	if (c->ready_next)
		tcp_conn_by_index(ts, c->ready_next)->ready_prev = c->ready_prev;
	else
		ts->ready_tail = c->ready_prev;
	c->ready_next = c->ready_prev = 0;
	c->flags &= (uint16_t)~TCP_CONN_READY;
}

void tcp_conn_free(struct net_stack *ns, struct tcp_conn *c, enum tcp_close_reason reason)
{
	struct tcp_stack *ts = ns->tcp;
	uint32_t idx = tcp_conn_index(ts, c);
	uint32_t *link = &ts->buckets[tcp_flow_bucket(ts, &c->flow)];

	if (c->flags & TCP_CONN_ACCEPTED)
		ts->listeners[c->listener].app->released(ns, c, reason);
	switch (reason) {
	case TCP_CLOSE_NORMAL: COUNTER_INC(&ns->counters, tcp_conn_closed); break;
	case TCP_CLOSE_TIMEOUT: COUNTER_INC(&ns->counters, tcp_conn_timed_out); break;
	default: COUNTER_INC(&ns->counters, tcp_conn_reset); break;
	}
	if (c->flags & TCP_CONN_TIMER_LINKED)
		tcp_timer_unlink(ts, c);
	if (c->flags & TCP_CONN_READY)
		tcp_ready_unlink(ts, c);
	tcp_map_free_all(ts, c);
	while (*link != idx)
		link = &tcp_conn_by_index(ts, *link)->hash_next;
	*link = c->hash_next;
	ts->state_count[c->state]--;
	tcp_state_gauge(ns, c->state, -1);
	if (c->state == TCP_SYN_RECEIVED)
		ts->syn_received--;
	c->state = TCP_CLOSED;
	c->hash_next = ts->free_head;
	ts->free_head = idx;
	ts->active--;
	COUNTER_DEC(&ns->counters, tcp_conn_active);
}

uint32_t tcp_iss(const struct tcp_stack *ts, const struct net_stack *ns, const struct tcp_flow *flow)
{
	/* RFC 6528: a keyed hash of the connection identifiers plus a clock that ticks every
	 * 4 microseconds, so a new incarnation of a flow starts above the old one. */
	return (uint32_t)siphash24(&ts->settings.secret, flow, sizeof(*flow)) + (uint32_t)(ns->now_us / 4);
}
