/* SPDX-License-Identifier: BSD-3-Clause
 *
 * tcp_cc.c: the table of congestion control modules, and NewReno (RFC 5681 + RFC 6582).
 *
 * A listener picks its module by name at start-up (dataplane.tcp.cc); the loop never branches
 * on the algorithm, it calls through struct tcp_cc_ops (the way FreeBSD registers its CC
 * modules). Loss detection (RACK-TLP) and sending during recovery (PRR) belong to the core;
 * a module only sets ssthresh and cwnd (and, for BBR, the pacing rate).
 *
 * NewReno: slow start to ssthresh with appropriate byte counting (RFC 3465, L = 2 MSS), then
 * one MSS per window; halve on loss; one segment after a timeout. The window only grows while
 * it is being used (RFC 7661's idea): an application-limited video flow does not inflate it.
 */
#include <string.h>

#include "tcp.h"

extern const struct tcp_cc_ops tcp_cc_cubic;
extern const struct tcp_cc_ops tcp_cc_bbr;

/* Whether the flow used enough of its window for growth to be meaningful. */
bool tcp_cc_cwnd_limited(const struct tcp_conn *c, const struct tcp_rate_sample *rs)
{
	return (uint64_t)rs->prior_in_flight * 2 >= c->cwnd || c->cwnd < c->ssthresh;
}

uint32_t tcp_cc_flight_size(const struct tcp_conn *c)
{
	return c->snd_max - c->snd_una;
}

void tcp_cc_slow_start(struct tcp_conn *c, uint32_t acked)
{
	c->cwnd += acked < 2u * c->mss ? acked : 2u * c->mss;
}

struct newreno_state {
	uint64_t bytes_acked;         /* in congestion avoidance, since the last increase */
};
_Static_assert(sizeof(struct newreno_state) <= sizeof(((struct tcp_conn *)0)->cc_state), "fits cc_state");

static void newreno_init(struct tcp_stack *ts, struct tcp_conn *c)
{
	c->cwnd = ts->settings.initial_cwnd_segments * c->mss;
	c->ssthresh = UINT32_MAX;
	memset(c->cc_state, 0, sizeof(c->cc_state));
}

static void newreno_on_ack(struct tcp_stack *ts, struct tcp_conn *c, const struct tcp_rate_sample *rs, uint64_t now_us)
{
	struct newreno_state *nr = (struct newreno_state *)c->cc_state;

	(void)ts, (void)now_us;
	if ((c->flags & TCP_CONN_IN_RECOVERY) || !tcp_cc_cwnd_limited(c, rs))
		return;
	if (c->cwnd < c->ssthresh) {
		tcp_cc_slow_start(c, rs->acked_sacked);
		return;
	}
	nr->bytes_acked += rs->acked_sacked;
	if (nr->bytes_acked >= c->cwnd) {
		nr->bytes_acked -= c->cwnd;
		c->cwnd += c->mss;
	}
}

static void newreno_on_event(struct tcp_stack *ts, struct tcp_conn *c, enum tcp_cc_event event, uint64_t now_us)
{
	struct newreno_state *nr = (struct newreno_state *)c->cc_state;
	uint32_t half = tcp_cc_flight_size(c) / 2;

	(void)now_us;
	switch (event) {
	case TCP_CC_EVENT_LOSS:
		c->ssthresh = half > 2u * c->mss ? half : 2u * c->mss;
		c->cwnd = c->ssthresh;
		nr->bytes_acked = 0;
		break;
	case TCP_CC_EVENT_RTO:
		c->ssthresh = half > 2u * c->mss ? half : 2u * c->mss;
		c->cwnd = c->mss;
		nr->bytes_acked = 0;
		break;
	case TCP_CC_EVENT_IDLE_RESTART:
		/* RFC 5681 §4.1: restart from the initial window after an idle RTO. */
		if (c->cwnd > ts->settings.initial_cwnd_segments * c->mss)
			c->cwnd = ts->settings.initial_cwnd_segments * c->mss;
		break;
	case TCP_CC_EVENT_RECOVERY_END:
		if (c->flags & TCP_CONN_IN_RECOVERY)
			c->cwnd = c->ssthresh; /* PRR hands over at ssthresh (RFC 6937) */
		break;
	case TCP_CC_EVENT_UNDO:
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
	&tcp_cc_cubic,
	&tcp_cc_newreno,
	&tcp_cc_bbr,
};

const struct tcp_cc_ops *tcp_cc_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(tcp_cc_modules); i++)
		if (!strcmp(tcp_cc_modules[i]->name, name))
			return tcp_cc_modules[i];
	return NULL;
}
