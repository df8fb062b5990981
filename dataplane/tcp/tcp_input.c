/* SPDX-License-Identifier: BSD-3-Clause
 *
 * tcp_input.c: segment arrival (RFC 9293 §3.10.7), per packet.
 *
 *   tcp_input                  lookup; no connection → listener (SYN, SYN cookie ACK) or reset
 *   tcp_input_listen           SYN → new connection in SYN_RECEIVED (or a stateless SYN
 *                              cookie when the SYN backlog is full, RFC 4987), SYN-ACK out
 *   tcp_input_syn_received     the handshake's ACK → ESTABLISHED, application accepts
 *   tcp_input_synchronized     every later state: PAWS (RFC 7323), sequence check, RST/SYN
 *                              validation (RFC 5961), ACK processing, window update, in-order
 *                              data to the application, FIN
 *   tcp_input_ack              sendmap update from the cumulative ACK and SACK blocks, RTT,
 *                              RACK loss detection (RFC 8985), recovery with PRR (RFC 6937),
 *                              spurious RTO undo (RFC 3522, timestamps), congestion control
 *
 * The peer's data is small (requests), so segments beyond rcv_nxt are not queued: they are
 * dropped, counted, and answered with a duplicate ACK; the peer retransmits them. ACKs for
 * received data are delayed (delack_us) unless two segments' worth is unacknowledged, the
 * data was out of order, or a response carries the ACK anyway.
 */
#include <string.h>

#include "net/stack.h"
#include "tcp.h"

#define TCP_PAWS_IDLE_MS (24u * 24 * 3600 * 1000) /* RFC 7323 §5.5: 24 days */

static const struct tcp_app_ops *tcp_app(const struct net_stack *ns, const struct tcp_conn *c)
{
	return ns->tcp->listeners[c->listener].app;
}

int tcp_parse_options(const struct tcp_header *th, struct tcp_segment *seg)
{
	const uint8_t *p = (const uint8_t *)(th + 1);
	const uint8_t *end = (const uint8_t *)th + ((th->data_offset >> 4) * 4);

	seg->opt_mss = 0;
	seg->opt_wscale = -1;
	seg->opt_sack_permitted = false;
	seg->opt_timestamp = false;
	seg->sack_count = 0;
	while (p < end) {
		uint8_t kind = *p, len;

		if (kind == TCP_OPT_EOL)
			break;
		if (kind == TCP_OPT_NOP) {
			p++;
			continue;
		}
		if (end - p < 2)
			return -1;
		len = p[1];
		if (len < 2 || len > end - p)
			return -1;
		switch (kind) {
		case TCP_OPT_MSS:
			if (len != 4)
				return -1;
			seg->opt_mss = net_load_be16(p + 2);
			break;
		case TCP_OPT_WSCALE:
			if (len != 3)
				return -1;
			seg->opt_wscale = (int8_t)(p[2] > 14 ? 14 : p[2]); /* RFC 7323 §2.3 */
			break;
		case TCP_OPT_SACK_PERMITTED:
			if (len != 2)
				return -1;
			seg->opt_sack_permitted = true;
			break;
		case TCP_OPT_SACK:
			if (len < 10 || (len - 2) % 8)
				return -1;
			for (uint32_t i = 0; i < (uint32_t)(len - 2) / 8 && i < 4; i++) {
				seg->sack[i][0] = net_load_be32(p + 2 + 8 * i);
				seg->sack[i][1] = net_load_be32(p + 6 + 8 * i);
				seg->sack_count = (uint8_t)(i + 1);
			}
			break;
		case TCP_OPT_TIMESTAMP:
			if (len != 10)
				return -1;
			seg->opt_timestamp = true;
			seg->opt_tsval = net_load_be32(p + 2);
			seg->opt_tsecr = net_load_be32(p + 6);
			break;
		default:
			break; /* unknown options are skipped by their length */
		}
		p += len;
	}
	return 0;
}

static const struct tcp_listener *tcp_find_listener(const struct tcp_stack *ts, uint16_t port, uint8_t *index)
{
	for (uint32_t i = 0; i < ts->listener_count; i++)
		if (ts->listeners[i].port == port) {
			*index = (uint8_t)i;
			return &ts->listeners[i];
		}
	return NULL;
}

static uint16_t tcp_mss_max(const struct net_stack *ns, const struct tcp_flow *flow)
{
	return (uint16_t)(ns->mtu - (flow->remote.family == NET_AF_IPV4 ? 40u : 60u));
}

/* Sets up a connection's options from the peer's SYN (or its SYN cookie). */
static void tcp_conn_negotiate(struct net_stack *ns, struct tcp_conn *c, uint16_t peer_mss, int8_t wscale, bool sack,
			       bool timestamps, uint32_t tsval)
{
	uint16_t mss_max = tcp_mss_max(ns, &c->flow);

	/* MSS: the peer's (536 when absent, RFC 9293 §3.7.1) bounded by our MTU. */
	c->mss = peer_mss ? (peer_mss < mss_max ? peer_mss : mss_max) : 536;
	if (c->mss < 64)
		c->mss = 64; /* refuse to be talked into tiny segments */
	if (wscale >= 0) {
		c->flags |= TCP_CONN_WSCALE;
		c->snd_wscale = (uint8_t)wscale;
		c->rcv_wscale = 0; /* requests are small: our window never needs scaling */
	}
	if (sack)
		c->flags |= TCP_CONN_SACK;
	if (timestamps) {
		c->flags |= TCP_CONN_TIMESTAMPS;
		c->ts_recent = tsval;
		c->ts_recent_ms = (uint32_t)(ns->now_us / 1000);
		c->mss -= 12; /* every segment carries the option */
	}
}

static void tcp_input_listen(struct net_stack *ns, struct tcp_segment *seg, const struct tcp_flow *flow)
{
	struct tcp_stack *ts = ns->tcp;
	const struct tcp_listener *l;
	struct tcp_conn *c;
	uint8_t index;

	l = tcp_find_listener(ts, seg->th->dst_port, &index);
	if (!l) {
		COUNTER_INC(&ns->counters, rx_drop_tcp_no_listener);
		tcp_send_reset_for(ns, seg);
		return;
	}
	if (seg->flags & TCP_FLAG_RST)
		return;
	if (seg->flags & TCP_FLAG_ACK) {
		/* Possibly the ACK of a SYN cookie (RFC 4987): the cookie is ack - 1. */
		uint16_t mss;

		if (!(seg->flags & (TCP_FLAG_SYN | TCP_FLAG_FIN)) && !ts->refuse_new &&
		    tcp_syncookie_check(ts, flow, seg->seq - 1, seg->ack - 1, ns->now_us, &mss) == 0) {
			c = tcp_conn_alloc(ns, flow);
			if (!c)
				return;
			COUNTER_INC(&ns->counters, tcp_syncookies_accepted);
			c->listener = index;
			c->flags |= TCP_CONN_SYNCOOKIE;
			memcpy(c->peer_mac, seg->src_mac, ETHER_ADDR_LEN);
			c->irs = seg->seq - 1;
			c->rcv_nxt = seg->seq;
			c->rcv_adv = c->rcv_nxt;
			c->iss = seg->ack - 1;
			c->snd_una = c->snd_max = seg->ack;
			c->recover = c->iss;
			c->ts_offset = 0;
			/* Window scale and SACK travel in our TSval's low bits (tcp_syncookie.c). */
			if (seg->opt_timestamp) {
				uint32_t bits = seg->opt_tsecr & 0x1f;
				tcp_conn_negotiate(ns, c, mss, (bits & 0xf) == 0xf ? -1 : (int8_t)(bits & 0xf),
						   bits & 0x10, true, seg->opt_tsval);
			} else {
				tcp_conn_negotiate(ns, c, mss, -1, false, false, 0);
			}
			c->rto_us = ts->settings.rto_initial_us;
			c->last_rx_us = ns->now_us;
			tcp_conn_set_state(ns, c, TCP_SYN_RECEIVED);
			/* Continue as if our SYN-ACK had been in SYN_RECEIVED all along. */
			tcp_input(ns, seg);
			return;
		}
		/* An ACK for a connection we do not have (e.g. after a restart). */
		COUNTER_INC(&ns->counters, rx_drop_tcp_bad_ack);
		tcp_send_reset_for(ns, seg);
		return;
	}
	if ((seg->flags & (TCP_FLAG_SYN | TCP_FLAG_FIN)) != TCP_FLAG_SYN) {
		COUNTER_INC(&ns->counters, rx_drop_tcp_header);
		return;
	}
	COUNTER_INC(&ns->counters, tcp_syn_received);
	if (ts->refuse_new) {
		/* Admission closed: a reset makes the player try another edge at once. */
		COUNTER_INC(&ns->counters, tcp_syn_refused);
		tcp_send_reset_for(ns, seg);
		return;
	}
	if (ts->syn_received >= ts->settings.syn_backlog) {
		/* SYN flood or just a burst: answer without keeping state (RFC 4987 §3.6). */
		struct tcp_conn tmp;
		uint16_t mss;

		memset(&tmp, 0, sizeof(tmp));
		tmp.flow = *flow;
		tmp.listener = index;
		memcpy(tmp.peer_mac, seg->src_mac, ETHER_ADDR_LEN);
		tmp.iss = tcp_syncookie_make(ts, flow, seg->seq, seg->opt_mss ? seg->opt_mss : 536, ns->now_us, &mss);
		tmp.rcv_nxt = seg->seq + 1;
		tmp.rcv_adv = tmp.rcv_nxt;
		tmp.state = TCP_SYN_RECEIVED;
		if (seg->opt_sack_permitted)
			tmp.flags |= TCP_CONN_SACK;
		if (seg->opt_wscale >= 0)
			tmp.flags |= TCP_CONN_WSCALE;
		if (seg->opt_timestamp) {
			/* Our TSval carries wscale (4 bits, 15 = none) and SACK (1 bit). */
			tmp.flags |= TCP_CONN_TIMESTAMPS;
			tmp.ts_recent = seg->opt_tsval;
			tmp.ts_offset = (uint32_t)-((ns->now_us / 1000) & 0x1f) +
					(uint32_t)((seg->opt_wscale >= 0 ? seg->opt_wscale : 0xf) |
						   (seg->opt_sack_permitted ? 0x10 : 0));
		} else {
			tmp.flags &= (uint16_t)~(TCP_CONN_SACK | TCP_CONN_WSCALE); /* cannot be kept */
		}
		COUNTER_INC(&ns->counters, tcp_syncookies_sent);
		tcp_send_syn_ack(ns, &tmp);
		return;
	}
	c = tcp_conn_alloc(ns, flow);
	if (!c)
		return;
	c->listener = index;
	tcp_conn_set_state(ns, c, TCP_SYN_RECEIVED);
	memcpy(c->peer_mac, seg->src_mac, ETHER_ADDR_LEN);
	c->irs = seg->seq;
	c->rcv_nxt = seg->seq + 1;
	c->rcv_adv = c->rcv_nxt;
	c->iss = tcp_iss(ts, ns, flow);
	c->snd_una = c->iss;
	c->snd_max = c->iss + 1;
	c->recover = c->iss; /* RFC 6582 §3.2 step 1 */
	c->ts_offset = (uint32_t)siphash24(&ts->settings.secret, &c->iss, sizeof(c->iss)); /* RFC 7323 §5.4 */
	tcp_conn_negotiate(ns, c, seg->opt_mss, seg->opt_wscale, seg->opt_sack_permitted, seg->opt_timestamp,
			   seg->opt_tsval);
	c->snd_wnd = seg->window; /* never scaled in a SYN */
	c->rto_us = ts->settings.rto_initial_us;
	c->last_rx_us = ns->now_us;
	c->first_tx_us = ns->now_us; /* the SYN-ACK is timed unless resent */
	tcp_send_syn_ack(ns, c);
	c->rto_at_us = ns->now_us + c->rto_us;
	tcp_timer_update(ns, c);
}

/* The ACK that completes the handshake. Returns false when the connection is gone. */
static bool tcp_input_syn_received(struct net_stack *ns, struct tcp_conn *c, const struct tcp_segment *seg)
{
	struct tcp_stack *ts = ns->tcp;
	const struct tcp_listener *l = &ts->listeners[c->listener];

	if (seg->flags & TCP_FLAG_RST) {
		if (seg->seq == c->rcv_nxt) {
			COUNTER_INC(&ns->counters, tcp_rst_received);
			tcp_conn_free(ns, c, TCP_CLOSE_RESET_RECEIVED);
		}
		return false;
	}
	if (seg->flags & TCP_FLAG_SYN) {
		if (seg->seq == c->irs && !(seg->flags & TCP_FLAG_ACK))
			tcp_send_syn_ack(ns, c); /* the peer did not get ours */
		return false;
	}
	if (!(seg->flags & TCP_FLAG_ACK))
		return false;
	if (seg->ack != c->iss + 1) {
		COUNTER_INC(&ns->counters, rx_drop_tcp_bad_ack);
		tcp_send_reset_for(ns, seg);
		return false;
	}
	if (seg->seq != c->rcv_nxt && !(tcp_seq_gt(seg->seq, c->rcv_nxt) &&
					tcp_seq_lt(seg->seq, c->rcv_adv))) {
		COUNTER_INC(&ns->counters, rx_drop_tcp_out_of_window);
		return false;
	}
	c->snd_una = seg->ack;
	c->snd_max = seg->ack;
	c->una_offset = 0;
	c->snd_wnd = seg->window << c->snd_wscale;
	c->snd_wl1 = seg->seq;
	c->snd_wl2 = seg->ack;
	if (!c->rto_shift && !(c->flags & TCP_CONN_SYNCOOKIE))
		tcp_rtt_sample(ts, c, (uint32_t)(ns->now_us - c->first_tx_us), ns->now_us);
	c->rto_shift = 0;
	c->rto_at_us = 0;
	c->delivered_us = c->first_tx_us = ns->now_us;
	l->cc->init(ts, c);
	tcp_conn_set_state(ns, c, TCP_ESTABLISHED);
	COUNTER_INC(&ns->counters, tcp_conn_opened);
	c->flags |= TCP_CONN_ACCEPTED;
	if (l->app->accepted(ns, c) < 0) {
		tcp_abort(ns, c);
		return false;
	}
	return true;
}

/* RFC 5961 §3.2/§4.2: a challenge ACK tells a genuine peer our exact rcv_nxt, while a blind
 * attacker's guess in the window achieves nothing. */
static void tcp_challenge_ack(struct net_stack *ns, struct tcp_conn *c)
{
	COUNTER_INC(&ns->counters, tcp_challenge_acks_sent);
	tcp_send_ack(ns, c);
}

static bool tcp_segment_acceptable(const struct tcp_conn *c, const struct tcp_segment *seg)
{
	uint32_t wnd = c->rcv_adv - c->rcv_nxt;
	uint32_t seg_len = seg->payload_len + !!(seg->flags & TCP_FLAG_FIN);

	if (!seg_len)
		return wnd ? tcp_seq_leq(c->rcv_nxt, seg->seq) && tcp_seq_lt(seg->seq, c->rcv_nxt + wnd)
			   : seg->seq == c->rcv_nxt;
	if (!wnd)
		return false;
	/* Either end of the segment inside the window. */
	return (tcp_seq_leq(c->rcv_nxt, seg->seq) && tcp_seq_lt(seg->seq, c->rcv_nxt + wnd)) ||
	       (tcp_seq_leq(c->rcv_nxt, seg->seq + seg_len - 1) &&
		tcp_seq_lt(seg->seq + seg_len - 1, c->rcv_nxt + wnd));
}

/* Our FIN has been acknowledged. */
static bool tcp_fin_acked(const struct tcp_conn *c)
{
	return (c->flags & TCP_CONN_FIN_SENT) && c->snd_una == c->snd_max;
}

/* Pacing for modules that do not pace themselves: 2x cwnd/SRTT in slow start, 1.2x after
 * (Linux's ratios), so bursts are spread over the RTT instead of hitting the bottleneck. */
static void tcp_update_pacing_rate(const struct tcp_stack *ts, struct tcp_conn *c)
{
	uint64_t rate;

	if (!ts->settings.pacing || ts->listeners[c->listener].cc->sets_pacing || !c->srtt_us)
		return;
	rate = (uint64_t)c->cwnd * 1000000 / c->srtt_us;
	rate = c->cwnd < c->ssthresh / 2 ? rate * 2 : rate * 6 / 5;
	c->pacing_rate = rate;
}

/* RFC 6937 (with the slow-start reduction bound): how much recovery may send on this ACK. */
static void tcp_prr_update(struct tcp_conn *c, uint32_t delivered, uint32_t newly_lost)
{
	uint32_t pipe = tcp_in_flight(c);
	int64_t sndcnt;

	c->prr_delivered += delivered;
	if (pipe > c->ssthresh) {
		uint64_t fs = c->prr_recover_fs ? c->prr_recover_fs : 1;
		sndcnt = (int64_t)(((uint64_t)c->prr_delivered * c->ssthresh + fs - 1) / fs) - c->prr_out;
	} else {
		int64_t limit = (int64_t)c->prr_delivered - c->prr_out;
		if (limit < (int64_t)delivered)
			limit = delivered;
		limit += c->mss;
		sndcnt = (int64_t)c->ssthresh - pipe;
		if (sndcnt > limit)
			sndcnt = limit;
	}
	if (sndcnt < 0)
		sndcnt = 0;
	/* A newly detected loss may always be repaired by one segment (RFC 6937bis). */
	if (!sndcnt && newly_lost)
		sndcnt = c->mss;
	c->prr_quota = (uint32_t)sndcnt;
}

static void tcp_enter_recovery(struct net_stack *ns, struct tcp_conn *c)
{
	struct tcp_stack *ts = ns->tcp;

	c->prior_cwnd = c->cwnd;
	c->prior_ssthresh = c->ssthresh;
	c->recover = c->snd_max;
	c->flags |= TCP_CONN_IN_RECOVERY;
	c->flags &= (uint16_t)~TCP_CONN_TLP_OUT;
	c->prr_delivered = 0;
	c->prr_out = 0;
	c->prr_recover_fs = c->snd_max - c->snd_una;
	ts->listeners[c->listener].cc->on_event(ts, c, TCP_CC_EVENT_LOSS, ns->now_us);
	COUNTER_INC(&ns->counters, tcp_recoveries);
}

/* Processes the ACK field. Returns false when the connection is gone. */
static bool tcp_input_ack(struct net_stack *ns, struct tcp_conn *c, const struct tcp_segment *seg)
{
	struct tcp_stack *ts = ns->tcp;
	const struct tcp_cc_ops *cc = ts->listeners[c->listener].cc;
	uint32_t ack = seg->ack, prior_una = c->snd_una, newly_lost = 0, delivered;
	struct tcp_rate_sample rs;
	uint64_t reorder_timeout = 0;

	if (tcp_seq_gt(ack, c->snd_max)) {
		/* Acknowledges what we never sent: ACK back and drop (RFC 9293). */
		COUNTER_INC(&ns->counters, rx_drop_tcp_bad_ack);
		c->flags |= TCP_CONN_ACK_NOW;
		tcp_ready(ns, c);
		return false;
	}
	if (tcp_seq_lt(ack, c->snd_una - (c->snd_wnd > 65535 ? c->snd_wnd : 65535))) {
		/* RFC 5961 §5.2: far too old to be genuine. */
		COUNTER_INC(&ns->counters, rx_drop_tcp_bad_ack);
		tcp_challenge_ack(ns, c);
		return false;
	}
	if (tcp_seq_lt(ack, c->snd_una))
		ack = c->snd_una; /* an old ACK still carries SACK blocks and a window */

	delivered = tcp_map_ack(ns, c, seg, &rs);
	if (tcp_seq_gt(ack, c->snd_una)) {
		uint32_t acked = ack - c->snd_una;

		/* The FIN's sequence number carries no stream byte. */
		if ((c->flags & TCP_CONN_FIN_SENT) && ack == c->snd_max)
			acked--;
		c->una_offset += acked;
		c->snd_una = ack;
		c->rto_shift = 0;
		c->dupacks = 0;
		c->keepalive_probes = 0;
		if (tcp_seq_geq(ack, c->tlp_high_seq))
			c->flags &= (uint16_t)~TCP_CONN_TLP_OUT;
		/* Eifel (RFC 3522): the first ACK after an RTO echoes a TSval older than our
		 * retransmission: the original arrived, the timeout was spurious. Undo. */
		if ((c->flags & TCP_CONN_IN_LOSS) && c->undo_tsval && seg->opt_timestamp &&
		    tcp_seq_lt(seg->opt_tsecr, c->undo_tsval)) {
			c->cwnd = SLUICE_MAX(c->cwnd, c->prior_cwnd);
			c->ssthresh = SLUICE_MAX(c->ssthresh, c->prior_ssthresh);
			c->flags &= (uint16_t)~TCP_CONN_IN_LOSS;
			c->undo_tsval = 0;
			/* Nothing above ack is lost after all. */
			for (uint32_t i = c->map_head; i;) {
				struct tcp_seg *s = tcp_map_seg(ts, i);
				s->flags &= (uint8_t)~TCP_SEG_LOST;
				i = s->next;
			}
			c->lost_bytes = 0;
			COUNTER_INC(&ns->counters, tcp_spurious_rto_undone);
			cc->on_event(ts, c, TCP_CC_EVENT_UNDO, ns->now_us);
		}
		c->undo_tsval = 0;
	} else if (!seg->payload_len && c->snd_una != c->snd_max && !(seg->flags & (TCP_FLAG_SYN | TCP_FLAG_FIN)) &&
		   !(c->flags & TCP_CONN_SACK) && (seg->window << c->snd_wscale) == c->snd_wnd) {
		/* Without SACK: duplicate ACKs (RFC 5681 §3.2), three mark the head lost; in
		 * recovery a partial ACK does (RFC 6582) — below. */
		if (++c->dupacks == 3 && !(c->flags & (TCP_CONN_IN_RECOVERY | TCP_CONN_IN_LOSS))) {
			uint32_t before = c->lost_bytes;
			tcp_map_mark_lost_range(ts, c, c->snd_una, c->snd_una + c->mss);
			newly_lost += c->lost_bytes - before;
		}
	}
	if (rs.rtt_us)
		tcp_rtt_sample(ts, c, rs.rtt_us, ns->now_us);

	/* Loss detection: RACK with SACK; without SACK the head after a partial ACK. */
	if (c->flags & TCP_CONN_SACK) {
		newly_lost += tcp_rack_detect_loss(ns, c, &reorder_timeout);
	} else if ((c->flags & TCP_CONN_IN_RECOVERY) && tcp_seq_gt(ack, prior_una) && tcp_seq_lt(ack, c->recover)) {
		uint32_t before = c->lost_bytes;
		tcp_map_mark_lost_range(ts, c, c->snd_una, c->snd_una + c->mss);
		newly_lost += c->lost_bytes - before;
	}
	rs.lost = newly_lost;
	if (newly_lost)
		COUNTER_ADD(&ns->counters, tcp_lost_bytes_detected, newly_lost);

	/* Recovery state. The module sees the flags of the recovery that ends. */
	if ((c->flags & (TCP_CONN_IN_RECOVERY | TCP_CONN_IN_LOSS)) && tcp_seq_geq(c->snd_una, c->recover)) {
		cc->on_event(ts, c, TCP_CC_EVENT_RECOVERY_END, ns->now_us);
		c->flags &= (uint16_t)~(TCP_CONN_IN_RECOVERY | TCP_CONN_IN_LOSS);
	}
	if (newly_lost && !(c->flags & (TCP_CONN_IN_RECOVERY | TCP_CONN_IN_LOSS)))
		tcp_enter_recovery(ns, c);
	if (c->flags & TCP_CONN_IN_RECOVERY)
		tcp_prr_update(c, delivered, newly_lost);
	if (delivered)
		cc->on_ack(ts, c, &rs, ns->now_us);
	tcp_update_pacing_rate(ts, c);

	/* Window update (RFC 9293 §3.10.7.4, SND.WL1/WL2 rule). */
	if (tcp_seq_lt(c->snd_wl1, seg->seq) || (c->snd_wl1 == seg->seq && tcp_seq_leq(c->snd_wl2, seg->ack))) {
		uint32_t wnd = seg->window << c->snd_wscale;
		if (wnd > c->snd_wnd && c->rtx_timer == TCP_TIMER_PERSIST) {
			c->rto_at_us = 0; /* the window opened: stop probing */
			c->rto_shift = 0;
		}
		c->snd_wnd = wnd;
		c->snd_wl1 = seg->seq;
		c->snd_wl2 = seg->ack;
	}

	/* Retransmission timer (RFC 6298 §5.2-5.3 and RACK's reordering timer). */
	if (reorder_timeout) {
		c->rtx_timer = TCP_TIMER_REORDER;
		c->rto_at_us = ns->now_us + reorder_timeout;
	} else if (tcp_seq_gt(c->snd_una, prior_una) || c->rtx_timer == TCP_TIMER_REORDER ||
		   c->snd_una == c->snd_max) {
		c->rto_at_us = 0;
		if (c->rtx_timer == TCP_TIMER_REORDER)
			c->rtx_timer = TCP_TIMER_RTO;
		tcp_rtx_timer_arm(ns, c);
	}

	if (tcp_seq_gt(c->snd_una, prior_una) && c->una_offset)
		tcp_app(ns, c)->acked(ns, c, c->una_offset);
	if (c->state == TCP_CLOSED)
		return false;
	if (delivered || newly_lost || tcp_seq_gt(c->snd_una, prior_una) || c->snd_wnd)
		tcp_ready(ns, c);

	if (tcp_fin_acked(c)) {
		switch (c->state) {
		case TCP_FIN_WAIT_1:
			tcp_conn_set_state(ns, c, TCP_FIN_WAIT_2);
			c->close_at_us = ns->now_us + ts->settings.fin_timeout_us;
			break;
		case TCP_CLOSING:
			tcp_conn_set_state(ns, c, TCP_TIME_WAIT);
			c->close_at_us = ns->now_us + ts->settings.time_wait_us;
			c->rto_at_us = 0;
			break;
		case TCP_LAST_ACK:
			tcp_conn_free(ns, c, TCP_CLOSE_NORMAL);
			return false;
		default:
			break;
		}
	}
	return true;
}

/* PAWS (RFC 7323 §5): a segment whose TSval is older than ts_recent is an old duplicate. */
static bool tcp_paws_reject(struct net_stack *ns, const struct tcp_conn *c, const struct tcp_segment *seg)
{
	uint32_t now_ms = (uint32_t)(ns->now_us / 1000);

	if (!(c->flags & TCP_CONN_TIMESTAMPS) || !seg->opt_timestamp || (seg->flags & TCP_FLAG_RST))
		return false;
	if ((int32_t)(seg->opt_tsval - c->ts_recent) >= 0)
		return false;
	return now_ms - c->ts_recent_ms < TCP_PAWS_IDLE_MS;
}

static void tcp_input_synchronized(struct net_stack *ns, struct tcp_conn *c, struct tcp_segment *seg)
{
	struct tcp_stack *ts = ns->tcp;
	uint32_t seq = seg->seq;
	const uint8_t *data = seg->payload;
	uint32_t len = seg->payload_len;

	if (tcp_paws_reject(ns, c, seg)) {
		COUNTER_INC(&ns->counters, rx_drop_tcp_paws);
		c->flags |= TCP_CONN_ACK_NOW;
		tcp_ready(ns, c);
		return;
	}
	if (!tcp_segment_acceptable(c, seg)) {
		COUNTER_INC(&ns->counters, rx_drop_tcp_out_of_window);
		if (!(seg->flags & TCP_FLAG_RST)) {
			c->flags |= TCP_CONN_ACK_NOW;
			tcp_ready(ns, c);
		}
		return;
	}
	/* RFC 7323 §4.3: remember the TSval of the segment at the left edge. */
	if ((c->flags & TCP_CONN_TIMESTAMPS) && seg->opt_timestamp && tcp_seq_leq(seq, c->last_ack_sent) &&
	    (int32_t)(seg->opt_tsval - c->ts_recent) >= 0) {
		c->ts_recent = seg->opt_tsval;
		c->ts_recent_ms = (uint32_t)(ns->now_us / 1000);
	}
	if (seg->flags & TCP_FLAG_RST) {
		if (seq == c->rcv_nxt) {
			COUNTER_INC(&ns->counters, tcp_rst_received);
			tcp_conn_free(ns, c, c->state == TCP_TIME_WAIT ? TCP_CLOSE_NORMAL : TCP_CLOSE_RESET_RECEIVED);
		} else {
			tcp_challenge_ack(ns, c);
		}
		return;
	}
	if (seg->flags & TCP_FLAG_SYN) {
		tcp_challenge_ack(ns, c);
		return;
	}
	if (!(seg->flags & TCP_FLAG_ACK))
		return;
	if (!tcp_input_ack(ns, c, seg))
		return;

	/* Data: in order only; the part before rcv_nxt was delivered already. */
	if (len) {
		if (c->state == TCP_ESTABLISHED || c->state == TCP_FIN_WAIT_1 || c->state == TCP_FIN_WAIT_2) {
			if (tcp_seq_lt(seq, c->rcv_nxt)) {
				uint32_t skip = c->rcv_nxt - seq;
				data += skip;
				len = skip < len ? len - skip : 0;
				seq = c->rcv_nxt;
			}
			if (seq != c->rcv_nxt) {
				COUNTER_INC(&ns->counters, tcp_rx_out_of_order_dropped);
				c->flags |= TCP_CONN_ACK_NOW; /* a duplicate ACK tells the peer at once */
				len = 0;
			} else if (len) {
				uint32_t taken = tcp_app(ns, c)->received(ns, c, data, len);

				if (c->state == TCP_CLOSED)
					return;
				COUNTER_ADD(&ns->counters, tcp_rx_payload_bytes, taken);
				c->rcv_nxt += taken;
				if (taken < len) {
					len = taken;
					seg->flags &= (uint8_t)~TCP_FLAG_FIN; /* FIN comes later */
					c->flags |= TCP_CONN_ACK_NOW;
				}
			}
		} else {
			c->flags |= TCP_CONN_ACK_NOW; /* data after the peer's FIN: just acknowledge */
		}
		/* Delayed ACK (RFC 9293 §3.8.6.3): at once for two segments' worth, else soon
		 * (a response usually carries it first). */
		if (c->rcv_nxt - c->last_ack_sent >= 2u * c->mss)
			c->flags |= TCP_CONN_ACK_NOW;
		else if (!c->delack_at_us)
			c->delack_at_us = ns->now_us + ts->settings.delack_us;
		tcp_ready(ns, c);
	}

	/* FIN, once every byte before it has been taken. */
	if ((seg->flags & TCP_FLAG_FIN) && seg->seq + seg->payload_len == c->rcv_nxt) {
		bool first = !(c->flags & TCP_CONN_PEER_FIN);

		c->flags |= TCP_CONN_PEER_FIN | TCP_CONN_ACK_NOW;
		if (first)
			c->rcv_nxt++;
		switch (c->state) {
		case TCP_ESTABLISHED:
			tcp_conn_set_state(ns, c, TCP_CLOSE_WAIT);
			tcp_app(ns, c)->peer_closed(ns, c);
			if (c->state == TCP_CLOSED)
				return;
			break;
		case TCP_FIN_WAIT_1:
			if (tcp_fin_acked(c)) {
				tcp_conn_set_state(ns, c, TCP_TIME_WAIT);
				c->close_at_us = ns->now_us + ts->settings.time_wait_us;
			} else {
				tcp_conn_set_state(ns, c, TCP_CLOSING);
			}
			break;
		case TCP_FIN_WAIT_2:
			tcp_conn_set_state(ns, c, TCP_TIME_WAIT);
			c->close_at_us = ns->now_us + ts->settings.time_wait_us;
			c->rto_at_us = 0;
			break;
		case TCP_TIME_WAIT:
			c->close_at_us = ns->now_us + ts->settings.time_wait_us; /* FIN resent: restart */
			break;
		default:
			break;
		}
		tcp_ready(ns, c);
	}
	tcp_timer_update(ns, c);
}

void tcp_input(struct net_stack *ns, struct tcp_segment *seg)
{
	struct tcp_stack *ts = ns->tcp;
	struct tcp_flow flow;
	struct tcp_conn *c;

	COUNTER_INC(&ns->counters, tcp_rx_segments);
	memset(&flow, 0, sizeof(flow));
	flow.remote = seg->src;
	flow.remote_port = seg->th->src_port;
	flow.local_port = seg->th->dst_port;
	c = tcp_conn_lookup(ts, &flow);
	if (c && c->state == TCP_TIME_WAIT && (seg->flags & (TCP_FLAG_SYN | TCP_FLAG_ACK | TCP_FLAG_RST)) == TCP_FLAG_SYN &&
	    tcp_seq_gt(seg->seq, c->rcv_nxt)) {
		/* RFC 6191 / RFC 1122 §4.2.2.13: a new SYN above the old sequence space (or
		 * with a newer timestamp) reopens the flow. */
		tcp_conn_free(ns, c, TCP_CLOSE_NORMAL);
		c = NULL;
	}
	if (!c) {
		tcp_input_listen(ns, seg, &flow);
		return;
	}
	c->last_rx_us = ns->now_us;
	c->keepalive_probes = 0;
	if (c->state == TCP_SYN_RECEIVED) {
		if (!tcp_input_syn_received(ns, c, seg))
			return;
		/* The ACK may carry the request already: go on with it. */
	}
	tcp_input_synchronized(ns, c, seg);
}
