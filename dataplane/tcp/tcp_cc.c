/* SPDX-License-Identifier: BSD-3-Clause
 *
 * tcp_cc.c: the table of congestion control modules, and NewReno (RFC 5681 + RFC 6582).
 *
 * A listener picks its module by name at start-up (dataplane.tcp.cc); the loop never branches
 * on the algorithm, it calls through struct tcp_cc_ops (the way FreeBSD registers its CC
 * modules). NewReno is the reference every other module is measured against: slow start to
 * ssthresh, then one MSS per RTT (byte counting, RFC 3465 with L = 2 MSS), halve on loss,
 * collapse to one segment on a timeout.
 */
#include <string.h>

#include "tcp.h"

static uint32_t newreno_flight(const struct tcp_conn *c)
{
	return c->snd_max - c->snd_una;
}

static void newreno_init(struct tcp_stack *ts, struct tcp_conn *c)
{
	c->cwnd = ts->settings.initial_cwnd_segments * c->mss;
	c->ssthresh = UINT32_MAX;
	c->cc_state[0] = 0; /* bytes acked in congestion avoidance */
}

static void newreno_on_ack(struct tcp_stack *ts, struct tcp_conn *c, uint32_t acked, uint32_t rtt_us)
{
	(void)ts, (void)rtt_us;
	if (c->cwnd < c->ssthresh) {
		c->cwnd += acked < 2u * c->mss ? acked : 2u * c->mss;
		return;
	}
	c->cc_state[0] += acked;
	if (c->cc_state[0] >= c->cwnd) {
		c->cc_state[0] -= c->cwnd;
		c->cwnd += c->mss;
	}
}

static void newreno_on_event(struct tcp_stack *ts, struct tcp_conn *c, enum tcp_cc_event event)
{
	uint32_t half = newreno_flight(c) / 2;

	(void)ts;
	switch (event) {
	case TCP_CC_EVENT_FAST_RETRANSMIT:
		c->ssthresh = half > 2u * c->mss ? half : 2u * c->mss;
		c->cwnd = c->ssthresh + 3u * c->mss;
		break;
	case TCP_CC_EVENT_RTO:
		c->ssthresh = half > 2u * c->mss ? half : 2u * c->mss;
		c->cwnd = c->mss;
		c->cc_state[0] = 0;
		break;
	case TCP_CC_EVENT_RECOVERY_END:
		/* RFC 6582 §3.2 step 4: deflate to ssthresh (or the flight, if smaller). */
		c->cwnd = SLUICE_MIN(c->ssthresh, SLUICE_MAX(newreno_flight(c), c->mss) + c->mss);
		c->cc_state[0] = 0;
		break;
	}
}

static const struct tcp_cc_ops tcp_cc_newreno = {
	.name = "newreno",
	.init = newreno_init,
	.on_ack = newreno_on_ack,
	.on_event = newreno_on_event,
};

static const struct tcp_cc_ops *const tcp_cc_modules[] = {
	&tcp_cc_newreno,
};

const struct tcp_cc_ops *tcp_cc_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(tcp_cc_modules); i++)
		if (!strcmp(tcp_cc_modules[i]->name, name))
			return tcp_cc_modules[i];
	return NULL;
}
