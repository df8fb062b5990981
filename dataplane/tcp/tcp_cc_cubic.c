/* SPDX-License-Identifier: BSD-3-Clause
 *
 * tcp_cc_cubic.c: CUBIC congestion control (RFC 9438), the default module.
 *
 * Window growth is a cubic function of the time since the last reduction, centred on the
 * window where the loss happened (W_max): fast growth far from it, a plateau near it, then
 * probing beyond. Reduction by beta = 0.7 with fast convergence (a flow that keeps losing
 * below its previous W_max releases bandwidth faster). In the Reno-friendly region (RFC 9438
 * §4.3) the window grows at least as fast as an AIMD flow with the same loss rate would.
 * Slow start is standard (L = 2 MSS). Arithmetic in doubles, in segments, per RFC notation;
 * the cube root is libm's cbrt. State fits tcp_conn.cc_state (48 bytes).
 */
#include <math.h>
#include <string.h>

#include "tcp.h"

#define CUBIC_C 0.4
#define CUBIC_BETA 0.7

struct cubic_state {
	double w_max;            /* segments: window before the last reduction */
	double k;                /* seconds until the cubic reaches w_max again */
	double w_est;            /* segments: the Reno-friendly estimate */
	double cwnd_epoch;       /* segments: cwnd at the start of the epoch */
	uint64_t epoch_start_us; /* 0: a new epoch starts with the next ACK */
	double prior_w_max;      /* for undo */
};
_Static_assert(sizeof(struct cubic_state) <= sizeof(((struct tcp_conn *)0)->cc_state), "fits cc_state");

static struct cubic_state *cubic(struct tcp_conn *c)
{
	return (struct cubic_state *)(void *)c->cc_state;
}

static void cubic_init(struct tcp_stack *ts, struct tcp_conn *c)
{
	memset(c->cc_state, 0, sizeof(c->cc_state));
	c->cwnd = ts->settings.initial_cwnd_segments * c->mss;
	c->ssthresh = UINT32_MAX;
}

static void cubic_on_ack(struct tcp_stack *ts, struct tcp_conn *c, const struct tcp_rate_sample *rs, uint64_t now_us)
{
	struct cubic_state *cb = cubic(c);
	double cwnd = (double)c->cwnd / c->mss, acked = (double)rs->acked_sacked / c->mss, t, target, rtt;

	(void)ts;
	if ((c->flags & TCP_CONN_IN_RECOVERY) || !tcp_cc_cwnd_limited(c, rs))
		return;
	if (c->cwnd < c->ssthresh) {
		tcp_cc_slow_start(c, rs->acked_sacked);
		return;
	}
	if (!cb->epoch_start_us) {
		/* RFC 9438 §4.2: a new congestion avoidance epoch. */
		cb->epoch_start_us = now_us;
		cb->cwnd_epoch = cwnd;
		cb->w_est = cwnd;
		if (cb->w_max < cwnd) {
			cb->w_max = cwnd;
			cb->k = 0;
		} else {
			cb->k = cbrt((cb->w_max - cwnd) / CUBIC_C);
		}
	}
	rtt = (c->srtt_us ? c->srtt_us : c->min_rtt_us) / 1e6;
	t = (now_us - cb->epoch_start_us) / 1e6;
	/* W_cubic(t + RTT), bounded to [cwnd, 1.5 cwnd] (§4.2). */
	target = CUBIC_C * pow(t + rtt - cb->k, 3) + cb->w_max;
	if (target < cwnd)
		target = cwnd;
	if (target > 1.5 * cwnd)
		target = 1.5 * cwnd;
	/* Reno-friendly estimate (§4.3): alpha = 3 (1 - beta) / (1 + beta) until W_max. */
	cb->w_est += (cb->w_est < cb->w_max ? 3.0 * (1 - CUBIC_BETA) / (1 + CUBIC_BETA) : 1.0) * acked / cwnd;
	if (cb->w_est > target) {
		target = cb->w_est;
		if (target > 1.5 * cwnd)
			target = 1.5 * cwnd;
	}
	/* Grow toward the target over one RTT: (target - cwnd) / cwnd per acknowledged segment. */
	cwnd += (target - cwnd) / cwnd * acked;
	if ((uint32_t)(cwnd * c->mss) > c->cwnd)
		c->cwnd = (uint32_t)(cwnd * c->mss);
}

static void cubic_reduce(struct tcp_conn *c)
{
	struct cubic_state *cb = cubic(c);
	double cwnd = (double)c->cwnd / c->mss;
	uint32_t ssthresh;

	cb->prior_w_max = cb->w_max;
	/* Fast convergence (§4.7). */
	cb->w_max = cwnd < cb->w_max ? cwnd * (1 + CUBIC_BETA) / 2 : cwnd;
	cb->epoch_start_us = 0;
	ssthresh = (uint32_t)(c->cwnd * CUBIC_BETA);
	c->ssthresh = ssthresh > 2u * c->mss ? ssthresh : 2u * c->mss;
}

static void cubic_on_event(struct tcp_stack *ts, struct tcp_conn *c, enum tcp_cc_event event, uint64_t now_us)
{
	struct cubic_state *cb = cubic(c);

	(void)now_us;
	switch (event) {
	case TCP_CC_EVENT_LOSS:
		cubic_reduce(c);
		c->cwnd = c->ssthresh;
		break;
	case TCP_CC_EVENT_RTO:
		cubic_reduce(c);
		c->cwnd = c->mss;
		break;
	case TCP_CC_EVENT_UNDO:
		cb->w_max = cb->prior_w_max;
		cb->epoch_start_us = 0;
		break;
	case TCP_CC_EVENT_IDLE_RESTART:
		cb->epoch_start_us = 0; /* no cubic growth for the idle time (§5.8) */
		if (c->cwnd > ts->settings.initial_cwnd_segments * c->mss)
			c->cwnd = ts->settings.initial_cwnd_segments * c->mss;
		break;
	case TCP_CC_EVENT_RECOVERY_END:
		if (c->flags & TCP_CONN_IN_RECOVERY)
			c->cwnd = c->ssthresh; /* PRR hands over at ssthresh (RFC 6937) */
		cb->epoch_start_us = 0;
		break;
	}
}

const struct tcp_cc_ops tcp_cc_cubic = {
	.name = "cubic",
	.init = cubic_init,
	.on_ack = cubic_on_ack,
	.on_event = cubic_on_event,
};
