/* SPDX-License-Identifier: BSD-3-Clause
 *
 * tcp_cc_bbr.c: BBR congestion control, version 1 (draft-cardwell-iccrg-bbr-congestion-
 * control-00, the algorithm of Linux's tcp_bbr.c since 4.9).
 *
 * BBR models the path by its bottleneck bandwidth (windowed maximum of delivery-rate samples
 * over 10 round trips, from tcp_sendmap.c's rate samples) and its round-trip propagation time
 * (the connection's 10-second windowed min_rtt), and sends at pacing_gain x bandwidth with
 * cwnd_gain x BDP in flight:
 *
 *   STARTUP    gain 2/ln2 until the bandwidth stops growing 25% per round for 3 rounds
 *   DRAIN      pacing gain ln2/2 until in flight falls to one BDP
 *   PROBE_BW   pacing gains cycle 1.25, 0.75, 1, 1, 1, 1, 1, 1 (one phase per min_rtt),
 *              cwnd gain 2
 *   PROBE_RTT  when min_rtt is 10 s old: cwnd 4 segments for 200 ms and one round, so that
 *              queues drain and a fresh minimum can be seen
 *
 * Loss: packet conservation in the first round of recovery, the prior cwnd restored after
 * (v1 does not react to loss otherwise). The core does not apply PRR to this module
 * (sets_pacing): BBR governs its own cwnd in recovery. State fits tcp_conn.cc_state.
 */
#include <string.h>

#include "tcp.h"

#define BBR_HIGH_GAIN_X1000 2885     /* 2/ln(2) */
#define BBR_DRAIN_GAIN_X1000 347     /* ln(2)/2 */
#define BBR_CWND_GAIN_X1000 2000
#define BBR_BW_ROUNDS 10
#define BBR_FULL_BW_GROWTH_X1000 1250
#define BBR_FULL_BW_ROUNDS 3
#define BBR_PROBE_RTT_US 200000
#define BBR_MIN_RTT_WINDOW_US 10000000
#define BBR_CYCLE 8

enum bbr_mode { BBR_STARTUP = 0, BBR_DRAIN, BBR_PROBE_BW, BBR_PROBE_RTT };

static const uint16_t bbr_pacing_gain_x1000[BBR_CYCLE] = {1250, 750, 1000, 1000, 1000, 1000, 1000, 1000};

struct bbr_bw_sample {
	uint32_t bw;             /* bytes per millisecond */
	uint32_t round;
};

struct bbr_state {
	struct bbr_bw_sample bw[3]; /* windowed max filter (Nichols' three-sample scheme) */
	uint64_t next_round_delivered;
	uint32_t round_count;
	uint32_t full_bw;        /* bytes per ms at the last 25% growth */
	uint32_t cycle_stamp_ms;
	uint32_t probe_rtt_done_ms;
	uint32_t prior_cwnd;
	uint8_t mode;
	uint8_t cycle_index;
	uint8_t full_bw_count;
	uint8_t flags;           /* BBR_F_* */
};
_Static_assert(sizeof(struct bbr_state) <= sizeof(((struct tcp_conn *)0)->cc_state), "fits cc_state");

#define BBR_F_ROUND_START 0x01
#define BBR_F_FULL_BW 0x02
#define BBR_F_CONSERVATION 0x04
#define BBR_F_PROBE_RTT_ROUND 0x08

static struct bbr_state *bbr(struct tcp_conn *c)
{
	return (struct bbr_state *)(void *)c->cc_state;
}

static uint32_t bbr_max_bw(const struct bbr_state *b)
{
	return b->bw[0].bw; /* bytes per ms */
}

/* Windowed max over BBR_BW_ROUNDS rounds (the running-min/max of Linux's lib/minmax.c). */
static void bbr_bw_update(struct bbr_state *b, uint32_t bw, uint32_t round)
{
	struct bbr_bw_sample s = {bw, round};

	if (bw >= b->bw[0].bw || round - b->bw[2].round > BBR_BW_ROUNDS) {
		b->bw[0] = b->bw[1] = b->bw[2] = s;
		return;
	}
	if (bw >= b->bw[1].bw)
		b->bw[1] = b->bw[2] = s;
	else if (bw >= b->bw[2].bw)
		b->bw[2] = s;
	if (round - b->bw[0].round > BBR_BW_ROUNDS) {
		b->bw[0] = b->bw[1];
		b->bw[1] = b->bw[2];
		b->bw[2] = s;
		if (round - b->bw[0].round > BBR_BW_ROUNDS) {
			b->bw[0] = b->bw[1];
			b->bw[1] = b->bw[2];
		}
	} else if (b->bw[1].round == b->bw[0].round && round - b->bw[1].round > BBR_BW_ROUNDS / 4) {
		b->bw[1] = b->bw[2] = s;
	} else if (b->bw[2].round == b->bw[1].round && round - b->bw[2].round > BBR_BW_ROUNDS / 2) {
		b->bw[2] = s;
	}
}

static uint32_t bbr_pacing_gain(const struct bbr_state *b)
{
	switch (b->mode) {
	case BBR_STARTUP: return BBR_HIGH_GAIN_X1000;
	case BBR_DRAIN: return BBR_DRAIN_GAIN_X1000;
	case BBR_PROBE_BW: return bbr_pacing_gain_x1000[b->cycle_index];
	default: return 1000;
	}
}

static uint32_t bbr_cwnd_gain(const struct bbr_state *b)
{
	return b->mode == BBR_PROBE_BW ? BBR_CWND_GAIN_X1000 : b->mode == BBR_PROBE_RTT ? 1000 : BBR_HIGH_GAIN_X1000;
}

/* Bandwidth-delay product times gain, in bytes. */
static uint64_t bbr_bdp(const struct tcp_conn *c, const struct bbr_state *b, uint32_t gain_x1000)
{
	if (!c->min_rtt_us || !bbr_max_bw(b))
		return 0;
	return (uint64_t)bbr_max_bw(b) * c->min_rtt_us / 1000 * gain_x1000 / 1000;
}

static void bbr_set_pacing_rate(struct tcp_conn *c, struct bbr_state *b)
{
	uint64_t rate = (uint64_t)bbr_max_bw(b) * 1000 * bbr_pacing_gain(b) / 1000;

	rate = rate * 99 / 100; /* pace 1% below the estimate so queues drain */
	if (!rate && c->srtt_us) /* no sample yet: the initial window over the handshake RTT */
		rate = (uint64_t)c->cwnd * 1000000 / c->srtt_us * BBR_HIGH_GAIN_X1000 / 1000;
	if (!(b->flags & BBR_F_FULL_BW) && rate < c->pacing_rate)
		return; /* in startup the rate only grows */
	c->pacing_rate = rate;
}

static void bbr_init(struct tcp_stack *ts, struct tcp_conn *c)
{
	struct bbr_state *b = bbr(c);

	memset(c->cc_state, 0, sizeof(c->cc_state));
	c->cwnd = ts->settings.initial_cwnd_segments * c->mss;
	c->ssthresh = UINT32_MAX;
	b->mode = BBR_STARTUP;
	b->next_round_delivered = c->delivered;
	c->pacing_rate = 0;
	bbr_set_pacing_rate(c, b);
}

static void bbr_enter_probe_bw(struct tcp_conn *c, struct bbr_state *b, uint64_t now_us)
{
	b->mode = BBR_PROBE_BW;
	/* A random phase other than the draining one (Linux picks among the others). */
	b->cycle_index = (uint8_t)(BBR_CYCLE - 1 - (c->snd_una ^ (uint32_t)now_us) % (BBR_CYCLE - 1));
	b->cycle_stamp_ms = (uint32_t)(now_us / 1000);
}

static void bbr_on_ack(struct tcp_stack *ts, struct tcp_conn *c, const struct tcp_rate_sample *rs, uint64_t now_us)
{
	struct bbr_state *b = bbr(c);
	uint32_t now_ms = (uint32_t)(now_us / 1000), in_flight = tcp_in_flight(c);
	uint64_t prior_delivered = c->delivered - rs->delivered, target;

	(void)ts;
	/* Rounds: a round ends when data sent after its start is delivered. */
	b->flags &= (uint8_t)~BBR_F_ROUND_START;
	if (rs->interval_us && prior_delivered >= b->next_round_delivered) {
		b->next_round_delivered = c->delivered;
		b->round_count++;
		b->flags |= BBR_F_ROUND_START;
		b->flags &= (uint8_t)~BBR_F_CONSERVATION;
	}
	/* Bandwidth: application-limited samples only when they raise the estimate. */
	if (rs->interval_us) {
		uint64_t bw = rs->delivered * 1000 / rs->interval_us; /* bytes per ms */

		if (bw > UINT32_MAX)
			bw = UINT32_MAX;
		if (!rs->app_limited || bw >= bbr_max_bw(b))
			bbr_bw_update(b, (uint32_t)bw, b->round_count);
	}
	/* Gain cycling: one phase per min_rtt; 1.25 also until in flight reaches 1.25 BDP,
	 * 0.75 ends early once in flight is down to one BDP. */
	if (b->mode == BBR_PROBE_BW && c->min_rtt_us) {
		bool elapsed = (now_ms - b->cycle_stamp_ms) * 1000u > c->min_rtt_us;
		uint32_t gain = bbr_pacing_gain_x1000[b->cycle_index];
		bool advance = elapsed;

		if (gain > 1000)
			advance = elapsed && (rs->lost || in_flight >= bbr_bdp(c, b, gain));
		else if (gain < 1000)
			advance = elapsed || in_flight <= bbr_bdp(c, b, 1000);
		if (advance) {
			b->cycle_index = (uint8_t)((b->cycle_index + 1) % BBR_CYCLE);
			b->cycle_stamp_ms = now_ms;
		}
	}
	/* Startup ends when the bandwidth plateaus. */
	if (!(b->flags & BBR_F_FULL_BW) && (b->flags & BBR_F_ROUND_START) && !rs->app_limited) {
		if ((uint64_t)bbr_max_bw(b) * 1000 >= (uint64_t)b->full_bw * BBR_FULL_BW_GROWTH_X1000) {
			b->full_bw = bbr_max_bw(b);
			b->full_bw_count = 0;
		} else if (++b->full_bw_count >= BBR_FULL_BW_ROUNDS) {
			b->flags |= BBR_F_FULL_BW;
		}
	}
	if (b->mode == BBR_STARTUP && (b->flags & BBR_F_FULL_BW))
		b->mode = BBR_DRAIN;
	if (b->mode == BBR_DRAIN && in_flight <= bbr_bdp(c, b, 1000))
		bbr_enter_probe_bw(c, b, now_us);
	/* PROBE_RTT when the minimum is stale. */
	if (b->mode != BBR_PROBE_RTT && c->min_rtt_stamp_us && now_us - c->min_rtt_stamp_us > BBR_MIN_RTT_WINDOW_US) {
		b->mode = BBR_PROBE_RTT;
		b->prior_cwnd = c->cwnd;
		b->probe_rtt_done_ms = 0;
	}
	if (b->mode == BBR_PROBE_RTT) {
		if (!b->probe_rtt_done_ms && in_flight <= 4u * c->mss) {
			b->probe_rtt_done_ms = now_ms + BBR_PROBE_RTT_US / 1000;
			b->flags &= (uint8_t)~BBR_F_PROBE_RTT_ROUND;
			b->next_round_delivered = c->delivered;
		} else if (b->probe_rtt_done_ms) {
			if (b->flags & BBR_F_ROUND_START)
				b->flags |= BBR_F_PROBE_RTT_ROUND;
			if ((b->flags & BBR_F_PROBE_RTT_ROUND) && (int32_t)(now_ms - b->probe_rtt_done_ms) > 0) {
				c->min_rtt_stamp_us = now_us; /* the minimum seen during the probe stands */
				c->cwnd = c->cwnd > b->prior_cwnd ? c->cwnd : b->prior_cwnd;
				if (b->flags & BBR_F_FULL_BW)
					bbr_enter_probe_bw(c, b, now_us);
				else
					b->mode = BBR_STARTUP;
			}
		}
	}
	bbr_set_pacing_rate(c, b);

	/* cwnd: toward gain x BDP plus room for TSO bursts and delayed ACKs. */
	target = bbr_bdp(c, b, bbr_cwnd_gain(b)) + 3u * c->mss;
	if (b->flags & BBR_F_CONSERVATION) {
		if (c->cwnd < in_flight + rs->acked_sacked)
			c->cwnd = in_flight + rs->acked_sacked;
	} else if ((b->flags & BBR_F_FULL_BW) && bbr_bdp(c, b, 1000)) {
		uint64_t grown = (uint64_t)c->cwnd + rs->acked_sacked;
		c->cwnd = (uint32_t)(grown < target ? grown : target);
	} else if (c->cwnd < target || !bbr_bdp(c, b, 1000)) {
		c->cwnd += rs->acked_sacked;
	}
	if (c->cwnd < 4u * c->mss)
		c->cwnd = 4u * c->mss;
	if (b->mode == BBR_PROBE_RTT && c->cwnd > 4u * c->mss)
		c->cwnd = 4u * c->mss;
}

static void bbr_on_event(struct tcp_stack *ts, struct tcp_conn *c, enum tcp_cc_event event, uint64_t now_us)
{
	struct bbr_state *b = bbr(c);
	uint32_t in_flight = tcp_in_flight(c);

	(void)ts, (void)now_us;
	switch (event) {
	case TCP_CC_EVENT_LOSS:
		/* Packet conservation for the first round of recovery. */
		b->prior_cwnd = c->cwnd;
		b->flags |= BBR_F_CONSERVATION;
		b->next_round_delivered = c->delivered;
		c->cwnd = in_flight + c->mss > 4u * c->mss ? in_flight + c->mss : 4u * c->mss;
		break;
	case TCP_CC_EVENT_RTO:
		b->prior_cwnd = c->cwnd > b->prior_cwnd ? c->cwnd : b->prior_cwnd;
		c->cwnd = c->mss;
		break;
	case TCP_CC_EVENT_RECOVERY_END:
	case TCP_CC_EVENT_UNDO:
		b->flags &= (uint8_t)~BBR_F_CONSERVATION;
		if (c->cwnd < b->prior_cwnd)
			c->cwnd = b->prior_cwnd;
		break;
	case TCP_CC_EVENT_IDLE_RESTART:
		/* Restarting from idle: pace at the estimated rate, no burst of the old window. */
		if (b->mode == BBR_PROBE_BW)
			bbr_set_pacing_rate(c, b);
		break;
	}
}

const struct tcp_cc_ops tcp_cc_bbr = {
	.name = "bbr",
	.init = bbr_init,
	.on_ack = bbr_on_ack,
	.on_event = bbr_on_event,
	.sets_pacing = true,
};
