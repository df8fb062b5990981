/* SPDX-License-Identifier: BSD-3-Clause
 *
 * tcp_timer.c: the per-lcore timer wheel, the connection deadlines it serves, and the output
 * ready list.
 *
 * A hashed wheel (Varghese & Lauck): slot = (deadline / tick) mod slots. Each connection is
 * linked in at most one slot, at the earliest of its deadlines (tcp_timer_update). A slot is
 * run once its tick has fully elapsed, so a timer fires at most one tick late (tick_us, 50 us
 * by default); entries whose deadline is a later turn of the wheel are skipped and stay.
 * Linking and unlinking are O(1); running costs the slots elapsed plus the entries in them.
 *
 * Deadline → action (tcp_timer_fire):
 *   close_at_us   TIME_WAIT over → free; any other closing state → reset (bounded close)
 *   rto_at_us     tcp_rtx_timer_expired: RTO, tail loss probe, RACK reorder timer, persist
 *   app_at_us     the application's timeout (HTTP header/keep-alive timeouts)
 *   delack_at_us  the delayed ACK goes out
 *   pace_at_us    (while PACE_WAIT) the next paced burst may leave
 *   keepalive     silence for keepalive_idle: a probe every keepalive_interval, reset after
 *                 keepalive_probes unanswered
 * Per packet/iteration code: no allocation, no system calls.
 */
#include "tcp.h"

#include "net/stack.h"

static uint32_t *tcp_timer_slot(struct tcp_timer_wheel *w, uint64_t at_us)
{
	return &w->slots[(at_us / w->tick_us) & w->mask];
}

void tcp_timer_unlink(struct tcp_stack *ts, struct tcp_conn *c)
{
	uint32_t *head = tcp_timer_slot(&ts->wheel, c->timer_at_us);

	if (c->timer_prev)
		tcp_conn_by_index(ts, c->timer_prev)->timer_next = c->timer_next;
	else
		*head = c->timer_next;
	if (c->timer_next)
		tcp_conn_by_index(ts, c->timer_next)->timer_prev = c->timer_prev;
	c->timer_next = c->timer_prev = 0;
	c->flags &= (uint16_t)~TCP_CONN_TIMER_LINKED;
}

static void tcp_timer_link(struct tcp_stack *ts, struct tcp_conn *c, uint64_t at_us)
{
	struct tcp_timer_wheel *w = &ts->wheel;
	/* Never into a slot already run (or being run): the next one at the earliest. */
	uint64_t earliest = (w->current_tick + 1) * w->tick_us;
	uint32_t idx = tcp_conn_index(ts, c), *head;

	if (at_us < earliest)
		at_us = earliest;
	c->timer_at_us = at_us;
	head = tcp_timer_slot(w, at_us);
	c->timer_prev = 0;
	c->timer_next = *head;
	if (*head)
		tcp_conn_by_index(ts, *head)->timer_prev = idx;
	*head = idx;
	c->flags |= TCP_CONN_TIMER_LINKED;
}

static bool tcp_state_keepalive(uint8_t state)
{
	return state == TCP_ESTABLISHED || state == TCP_CLOSE_WAIT;
}

static uint64_t tcp_earliest(uint64_t a, uint64_t b)
{
	if (!a)
		return b;
	if (!b)
		return a;
	return a < b ? a : b;
}

/* When the next keepalive probe (or the reset after the last one) is due. */
static uint64_t tcp_keepalive_at(const struct tcp_settings *s, const struct tcp_conn *c)
{
	if (!s->keepalive_idle_us || !tcp_state_keepalive(c->state))
		return 0;
	return c->last_rx_us + s->keepalive_idle_us + (uint64_t)c->keepalive_probes * s->keepalive_interval_us;
}

void tcp_timer_update(struct net_stack *ns, struct tcp_conn *c)
{
	struct tcp_stack *ts = ns->tcp;
	uint64_t next = tcp_earliest(c->rto_at_us, c->close_at_us);

	next = tcp_earliest(next, c->app_at_us);
	next = tcp_earliest(next, c->delack_at_us);
	next = tcp_earliest(next, tcp_keepalive_at(&ts->settings, c));
	if (c->flags & TCP_CONN_PACE_WAIT)
		next = tcp_earliest(next, c->pace_at_us);
	if (c->flags & TCP_CONN_TIMER_LINKED) {
		uint64_t earliest = (ts->wheel.current_tick + 1) * ts->wheel.tick_us;
		uint64_t effective = next < earliest ? earliest : next;
		if (next && effective == c->timer_at_us)
			return;
		tcp_timer_unlink(ts, c);
	}
	if (next)
		tcp_timer_link(ts, c, next);
}

static void tcp_timer_fire(struct net_stack *ns, struct tcp_conn *c)
{
	struct tcp_stack *ts = ns->tcp;
	uint64_t now = ns->now_us, keepalive;

	if (c->close_at_us && c->close_at_us <= now) {
		if (c->state == TCP_TIME_WAIT) {
			tcp_conn_free(ns, c, TCP_CLOSE_NORMAL);
		} else {
			tcp_send_reset(ns, c);
			tcp_conn_free(ns, c, TCP_CLOSE_TIMEOUT);
		}
		return;
	}
	if (c->rto_at_us && c->rto_at_us <= now) {
		c->rto_at_us = 0;
		tcp_rtx_timer_expired(ns, c);
		if (c->state == TCP_CLOSED)
			return;
	}
	if (c->app_at_us && c->app_at_us <= now) {
		c->app_at_us = 0;
		ts->listeners[c->listener].app->timeout(ns, c);
		if (c->state == TCP_CLOSED)
			return;
	}
	if (c->delack_at_us && c->delack_at_us <= now) {
		c->delack_at_us = 0;
		c->flags |= TCP_CONN_ACK_NOW;
		tcp_ready(ns, c);
	}
	if ((c->flags & TCP_CONN_PACE_WAIT) && c->pace_at_us <= now) {
		c->flags &= (uint16_t)~TCP_CONN_PACE_WAIT;
		tcp_ready(ns, c);
	}
	keepalive = tcp_keepalive_at(&ts->settings, c);
	if (keepalive && keepalive <= now) {
		if (c->keepalive_probes >= ts->settings.keepalive_probes) {
			COUNTER_INC(&ns->counters, tcp_keepalive_timeouts);
			tcp_send_reset(ns, c);
			tcp_conn_free(ns, c, TCP_CLOSE_TIMEOUT);
			return;
		}
		c->keepalive_probes++;
		COUNTER_INC(&ns->counters, tcp_keepalive_probes);
		tcp_send_probe(ns, c);
	}
	tcp_timer_update(ns, c);
}

void tcp_timers_run(struct net_stack *ns)
{
	struct tcp_stack *ts = ns->tcp;
	struct tcp_timer_wheel *w = &ts->wheel;
	uint64_t now_tick = ns->now_us / w->tick_us;
	uint32_t slots_run = 0;

	if (!w->current_tick)
		w->current_tick = now_tick;
	while (w->current_tick < now_tick) {
		uint32_t i = w->slots[w->current_tick & w->mask];
		uint64_t tick_end = (w->current_tick + 1) * w->tick_us;

		while (i) {
			struct tcp_conn *c = tcp_conn_by_index(ts, i);

			i = c->timer_next;
			if (c->timer_at_us < tick_end) {
				tcp_timer_unlink(ts, c);
				tcp_timer_fire(ns, c);
			}
		}
		w->current_tick++;
		/* After a long stall every slot has been visited once: whatever was due has
		 * fired; later deadlines are still in their slots. */
		if (++slots_run > w->mask) {
			w->current_tick = now_tick;
			break;
		}
	}
}

void tcp_set_app_deadline(struct net_stack *ns, struct tcp_conn *c, uint64_t at_us)
{
	c->app_at_us = at_us;
	tcp_timer_update(ns, c);
}

void tcp_ready(struct net_stack *ns, struct tcp_conn *c)
{
	struct tcp_stack *ts = ns->tcp;
	uint32_t idx;

	if (c->flags & TCP_CONN_READY)
		return;
	idx = tcp_conn_index(ts, c);
	c->flags |= TCP_CONN_READY;
	c->ready_next = 0;
	c->ready_prev = ts->ready_tail;
	if (ts->ready_tail)
		tcp_conn_by_index(ts, ts->ready_tail)->ready_next = idx;
	else
		ts->ready_head = idx;
	ts->ready_tail = idx;
}

void tcp_output_run(struct net_stack *ns)
{
	struct tcp_stack *ts = ns->tcp;
	uint32_t last = ts->ready_tail;

	/* One turn over the connections that were ready when the turn began; a connection
	 * that still has data after its burst goes to the back for the next turn. */
	while (ts->ready_head) {
		uint32_t idx = ts->ready_head;
		struct tcp_conn *c = tcp_conn_by_index(ts, idx);

		if (!ns->io->tx_room(ns))
			break;
		tcp_ready_unlink(ts, c);
		tcp_output(ns, c);
		if (idx == last)
			break;
	}
}
