/* SPDX-License-Identifier: BSD-3-Clause
 *
 * tcp_input.c: segment arrival (RFC 9293 §3.10.7), per packet.
 *
 *   tcp_input                  lookup; no connection → listener (SYN) or reset
 *   tcp_input_listen           SYN → new connection in SYN_RECEIVED, SYN-ACK out
 *   tcp_input_syn_received     the handshake's ACK → ESTABLISHED, application accepts
 *   tcp_input_synchronized     every later state: sequence check, RST/SYN validation
 *                              (RFC 5961), ACK processing (NewReno recovery, RFC 6582),
 *                              window update, in-order data to the application, FIN
 *
 * The peer's data is small (requests), so segments beyond rcv_nxt are not queued: they are
 * dropped, counted, and answered with a duplicate ACK; the peer retransmits them.
 */
#include <string.h>

#include "net/stack.h"
#include "tcp.h"

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

static void tcp_input_listen(struct net_stack *ns, struct tcp_segment *seg, const struct tcp_flow *flow)
{
	struct tcp_stack *ts = ns->tcp;
	const struct tcp_listener *l;
	struct tcp_conn *c;
	uint32_t mss_max;
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
	c->snd_nxt = c->iss + 1;
	c->snd_max = c->iss + 1;
	c->recover = c->iss; /* RFC 6582 §3.2 step 1 */
	/* MSS: the peer's (536 when absent, RFC 9293 §3.7.1) bounded by our MTU. */
	mss_max = ns->mtu - (flow->remote.family == NET_AF_IPV4 ? 40u : 60u);
	c->mss = (uint16_t)(seg->opt_mss ? (seg->opt_mss < mss_max ? seg->opt_mss : mss_max) : 536);
	if (c->mss < 64)
		c->mss = 64; /* refuse to be talked into tiny segments */
	if (seg->opt_wscale >= 0) {
		c->flags |= TCP_CONN_WSCALE;
		c->snd_wscale = (uint8_t)seg->opt_wscale;
		c->rcv_wscale = 0; /* requests are small: our window never needs scaling */
	}
	if (seg->opt_sack_permitted)
		c->flags |= TCP_CONN_SACK_PERMITTED;
	if (seg->opt_timestamp)
		c->flags |= TCP_CONN_TIMESTAMPS;
	c->snd_wnd = seg->window; /* never scaled in a SYN */
	c->rto_us = ts->settings.rto_initial_us;
	c->last_rx_us = ns->now_us;
	c->rtt_start_us = ns->now_us; /* SYN-ACK sent now: timed unless resent */
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
	c->una_offset = 0;
	c->snd_wnd = seg->window << c->snd_wscale;
	c->snd_wl1 = seg->seq;
	c->snd_wl2 = seg->ack;
	if (!c->rto_shift)
		tcp_rtt_sample(ts, c, (uint32_t)(ns->now_us - c->rtt_start_us));
	c->rto_shift = 0;
	c->rto_at_us = 0;
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

/* Processes the ACK field. Returns false when the connection is gone. */
static bool tcp_input_ack(struct net_stack *ns, struct tcp_conn *c, const struct tcp_segment *seg)
{
	struct tcp_stack *ts = ns->tcp;
	const struct tcp_cc_ops *cc = ts->listeners[c->listener].cc;
	uint32_t ack = seg->ack;

	if (tcp_seq_gt(ack, c->snd_max)) {
		/* Acknowledges what we never sent: ACK back and drop (RFC 9293). */
		COUNTER_INC(&ns->counters, rx_drop_tcp_bad_ack);
		c->flags |= TCP_CONN_ACK_NOW;
		tcp_ready(ns, c);
		return false;
	}
	if (tcp_seq_gt(ack, c->snd_una)) {
		uint32_t acked = ack - c->snd_una;
		uint32_t data_acked = acked;
		uint32_t rtt = 0;

		/* The FIN's sequence number carries no stream byte. */
		if ((c->flags & TCP_CONN_FIN_SENT) && ack == c->snd_max)
			data_acked--;
		c->una_offset += data_acked;
		c->snd_una = ack;
		if (tcp_seq_lt(c->snd_nxt, ack))
			c->snd_nxt = ack;
		if ((c->flags & TCP_CONN_RTT_TIMING) && tcp_seq_geq(ack, c->rtt_seq)) {
			rtt = (uint32_t)(ns->now_us - c->rtt_start_us);
			tcp_rtt_sample(ts, c, rtt);
			c->flags &= (uint16_t)~TCP_CONN_RTT_TIMING;
		}
		c->rto_shift = 0;
		if (c->flags & TCP_CONN_IN_RECOVERY) {
			if (tcp_seq_geq(ack, c->recover)) {
				c->flags &= (uint16_t)~TCP_CONN_IN_RECOVERY;
				cc->on_event(ts, c, TCP_CC_EVENT_RECOVERY_END);
			} else {
				/* Partial ACK (RFC 6582 §3.2 step 3): the next hole is lost too;
				 * retransmit it and deflate by what was acknowledged. */
				c->cwnd = c->cwnd > data_acked ? c->cwnd - data_acked + c->mss : c->mss;
				COUNTER_INC(&ns->counters, tcp_fast_retransmits);
				tcp_retransmit_head(ns, c);
			}
		} else {
			cc->on_ack(ts, c, data_acked, rtt);
		}
		c->dupacks = 0;
		c->rto_at_us = 0;
		if (c->snd_una != c->snd_max) {
			uint64_t rto = (uint64_t)c->rto_us;
			c->rto_at_us = ns->now_us + (rto > ts->settings.rto_max_us ? ts->settings.rto_max_us : rto);
		}
		if (data_acked)
			tcp_app(ns, c)->acked(ns, c, c->una_offset);
		if (c->state == TCP_CLOSED)
			return false;
		tcp_ready(ns, c);
	} else if (ack == c->snd_una && !seg->payload_len && c->snd_una != c->snd_max &&
		   (seg->window << c->snd_wscale) == c->snd_wnd && !(seg->flags & (TCP_FLAG_SYN | TCP_FLAG_FIN))) {
		/* Duplicate ACK (RFC 5681 §2). */
		if (++c->dupacks == 3 && !(c->flags & TCP_CONN_IN_RECOVERY) &&
		    tcp_seq_gt(c->snd_una, c->recover - 1)) {
			c->recover = c->snd_max;
			c->flags |= TCP_CONN_IN_RECOVERY;
			cc->on_event(ts, c, TCP_CC_EVENT_FAST_RETRANSMIT);
			c->flags &= (uint16_t)~TCP_CONN_RTT_TIMING;
			COUNTER_INC(&ns->counters, tcp_fast_retransmits);
			tcp_retransmit_head(ns, c);
			if (c->state == TCP_CLOSED)
				return false;
			tcp_ready(ns, c);
		} else if (c->dupacks > 3 && (c->flags & TCP_CONN_IN_RECOVERY)) {
			c->cwnd += c->mss; /* each further duplicate: a segment has left the network */
			tcp_ready(ns, c);
		}
	}
	/* Window update (RFC 9293 §3.10.7.4, SND.WL1/WL2 rule). */
	if (tcp_seq_lt(c->snd_wl1, seg->seq) || (c->snd_wl1 == seg->seq && tcp_seq_leq(c->snd_wl2, ack))) {
		uint32_t wnd = seg->window << c->snd_wscale;
		if (wnd > c->snd_wnd)
			tcp_ready(ns, c);
		c->snd_wnd = wnd;
		c->snd_wl1 = seg->seq;
		c->snd_wl2 = ack;
	}

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

static void tcp_input_synchronized(struct net_stack *ns, struct tcp_conn *c, struct tcp_segment *seg)
{
	struct tcp_stack *ts = ns->tcp;
	uint32_t seq = seg->seq;
	const uint8_t *data = seg->payload;
	uint32_t len = seg->payload_len;

	if (!tcp_segment_acceptable(c, seg)) {
		COUNTER_INC(&ns->counters, rx_drop_tcp_out_of_window);
		if (!(seg->flags & TCP_FLAG_RST)) {
			c->flags |= TCP_CONN_ACK_NOW;
			tcp_ready(ns, c);
		}
		return;
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
				len = 0;
			} else if (len) {
				uint32_t taken = tcp_app(ns, c)->received(ns, c, data, len);

				if (c->state == TCP_CLOSED)
					return;
				COUNTER_ADD(&ns->counters, tcp_rx_payload_bytes, taken);
				c->rcv_nxt += taken;
				if (taken < len)
					len = taken, seg->flags &= (uint8_t)~TCP_FLAG_FIN; /* FIN comes later */
			}
		}
		c->flags |= TCP_CONN_ACK_NOW;
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
	flow.remote = seg->src;
	flow.remote_port = seg->th->src_port;
	flow.local_port = seg->th->dst_port;
	c = tcp_conn_lookup(ts, &flow);
	if (c && c->state == TCP_TIME_WAIT && (seg->flags & (TCP_FLAG_SYN | TCP_FLAG_ACK | TCP_FLAG_RST)) == TCP_FLAG_SYN &&
	    tcp_seq_gt(seg->seq, c->rcv_nxt)) {
		/* RFC 1122 §4.2.2.13: a new SYN above the old sequence space reopens the flow. */
		tcp_conn_free(ns, c, TCP_CLOSE_NORMAL);
		c = NULL;
	}
	if (!c) {
		tcp_input_listen(ns, seg, &flow);
		return;
	}
	c->last_rx_us = ns->now_us;
	if (c->state == TCP_SYN_RECEIVED) {
		if (!tcp_input_syn_received(ns, c, seg))
			return;
		/* The ACK may carry the request already: go on with it. */
	}
	tcp_input_synchronized(ns, c, seg);
}
