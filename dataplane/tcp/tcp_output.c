/* SPDX-License-Identifier: BSD-3-Clause
 *
 * tcp_output.c: everything TCP sends and when: data segments from the stream source (first
 * transmissions and retransmissions alike), pure ACKs, SYN-ACKs, probes, resets; pacing;
 * the retransmission timer in its four roles (RTO, tail loss probe, RACK reordering timer,
 * zero-window persist); RTT estimation.
 *
 * Per packet. Headers are built in a small stack buffer; data goes to the port through netio
 * tcp_send, which produces the payload from the connection's stream source. Nothing is kept
 * of a segment once sent except its sendmap entry (tcp_sendmap.c).
 *
 * What tcp_output sends, in order, within one turn's burst (output_burst_bytes, or about
 * 1 ms at the pacing rate):
 *   1. retransmissions of entries marked lost, lowest sequence first;
 *   2. new data, while bytes in flight stay under cwnd (in recovery: PRR's allowance,
 *      RFC 6937) and inside the peer's window; a short segment only at the end of what the
 *      stream has (sender silly-window avoidance, RFC 9293 §3.8.6.2.1);
 *   3. the FIN after the last stream byte;
 *   4. a pure ACK if one is owed and nothing else carried it.
 * Pacing: after a burst the next one may leave at pace_at_us = now + bytes / rate; until then
 * the connection waits on the timer wheel (TCP_CONN_PACE_WAIT).
 */
#include <errno.h>
#include <string.h>

#include "net/net_csum.h"
#include "net/stack.h"
#include "tcp.h"

#define TCP_HEADER_BUF 128 /* Ethernet + IPv6 + TCP with options */
#define TCP_TSO_MAX_PAYLOAD 65000
#define TCP_TS_OPTION_BYTES 12
#define TCP_WC_DELACK_US 200000   /* worst-case delayed ACK of a peer (RFC 8985 §7.2) */
#define TCP_PTO_MIN_US 1000
#define TCP_PACING_QUANTUM_US 1000 /* a paced burst carries about this much time's worth */

static uint32_t tcp_min32(uint32_t a, uint32_t b) { return a < b ? a : b; }

static const struct tcp_app_ops *tcp_app(const struct net_stack *ns, const struct tcp_conn *c)
{
	return ns->tcp->listeners[c->listener].app;
}

uint32_t tcp_ts_now(const struct net_stack *ns, const struct tcp_conn *c)
{
	return (uint32_t)(ns->now_us / 1000) + c->ts_offset;
}

/* The window to advertise now, never moving the right edge left (RFC 9293 §3.8.6.2.2). */
static uint16_t tcp_window_field(struct net_stack *ns, struct tcp_conn *c)
{
	uint32_t space = tcp_app(ns, c)->receive_space(ns, c);
	uint32_t max = 65535u << c->rcv_wscale;

	if (space > max)
		space = max;
	if (tcp_seq_lt(c->rcv_nxt + space, c->rcv_adv))
		space = c->rcv_adv - c->rcv_nxt;
	c->rcv_adv = c->rcv_nxt + space;
	return (uint16_t)(space >> c->rcv_wscale);
}

/* Options of a non-SYN segment: the timestamp when negotiated. Returns their length. */
static uint32_t tcp_options_build(const struct net_stack *ns, const struct tcp_conn *c, uint8_t *o)
{
	if (!(c->flags & TCP_CONN_TIMESTAMPS))
		return 0;
	o[0] = TCP_OPT_NOP;
	o[1] = TCP_OPT_NOP;
	o[2] = TCP_OPT_TIMESTAMP;
	o[3] = 10;
	net_store_be32(o + 4, tcp_ts_now(ns, c));
	net_store_be32(o + 8, c->ts_recent);
	return TCP_TS_OPTION_BYTES;
}

/* Writes Ethernet, IP and TCP headers (TCP checksum left zero) for a segment of
 * payload_len bytes; returns the header length and fills the layer lengths. */
static uint32_t tcp_build_headers(struct net_stack *ns, const struct tcp_conn *c, uint8_t *buf, uint32_t seq,
				  uint32_t ack, uint8_t flags, uint16_t window, const uint8_t *options,
				  uint32_t options_len, uint32_t payload_len, struct net_tcp_tx *tx)
{
	struct ether_header *eth = (struct ether_header *)buf;
	uint32_t tcp_len = (uint32_t)sizeof(struct tcp_header) + options_len;
	struct tcp_header *th;
	uint32_t l3_len;

	memcpy(eth->dst, c->peer_mac, ETHER_ADDR_LEN);
	memcpy(eth->src, ns->mac, ETHER_ADDR_LEN);
	if (c->flow.remote.family == NET_AF_IPV4) {
		struct ipv4_header *ip = (struct ipv4_header *)(buf + ETHER_HDR_LEN);

		eth->type = __builtin_bswap16(ETHER_TYPE_IPV4);
		l3_len = sizeof(*ip);
		ip->version_ihl = 0x45;
		ip->tos = 0;
		ip->total_length = __builtin_bswap16((uint16_t)(l3_len + tcp_len + payload_len));
		ip->id = __builtin_bswap16(ns->ipv4_next_id++);
		ip->fragment = __builtin_bswap16(IPV4_FLAG_DF);
		ip->ttl = 64;
		ip->protocol = IP_PROTO_TCP;
		ip->checksum = 0;
		ip->src = ns->ipv4;
		ip->dst = c->flow.remote.v4;
		/* Always in software: control frames carry no offload request; the data path
		 * clears it again when the port computes it (worker_tcp_send). */
		net_store_be16(&ip->checksum, net_csum_fold(net_csum_partial(ip, sizeof(*ip), 0)));
	} else {
		struct ipv6_header *ip6 = (struct ipv6_header *)(buf + ETHER_HDR_LEN);

		eth->type = __builtin_bswap16(ETHER_TYPE_IPV6);
		l3_len = sizeof(*ip6);
		ip6->version_class_flow = __builtin_bswap32(6u << 28);
		ip6->payload_length = __builtin_bswap16((uint16_t)(tcp_len + payload_len));
		ip6->next_header = IP_PROTO_TCP;
		ip6->hop_limit = 64;
		memcpy(ip6->src, ns->ipv6, 16);
		memcpy(ip6->dst, c->flow.remote.v6, 16);
	}
	th = (struct tcp_header *)(buf + ETHER_HDR_LEN + l3_len);
	th->src_port = c->flow.local_port;
	th->dst_port = c->flow.remote_port;
	th->seq = __builtin_bswap32(seq);
	th->ack = __builtin_bswap32(ack);
	th->data_offset = (uint8_t)((tcp_len / 4) << 4);
	th->flags = flags;
	th->window = __builtin_bswap16(window);
	th->checksum = 0;
	th->urgent = 0;
	if (options_len)
		memcpy(th + 1, options, options_len);
	if (tx) {
		tx->l2_len = ETHER_HDR_LEN;
		tx->l3_len = (uint8_t)l3_len;
		tx->l4_len = (uint8_t)tcp_len;
		tx->ipv6 = c->flow.remote.family == NET_AF_IPV6;
	}
	return ETHER_HDR_LEN + l3_len + tcp_len;
}

/* TCP checksum over a whole control segment held contiguously after the L2 header. */
static void tcp_checksum_control(const struct tcp_conn *c, uint8_t *frame, uint32_t l3_len, uint32_t l4_len)
{
	struct tcp_header *th = (struct tcp_header *)(frame + ETHER_HDR_LEN + l3_len);
	uint64_t sum;

	if (c->flow.remote.family == NET_AF_IPV4) {
		const struct ipv4_header *ip = (const struct ipv4_header *)(frame + ETHER_HDR_LEN);
		sum = net_csum_pseudo_v4(ip->src, ip->dst, IP_PROTO_TCP, l4_len);
	} else {
		const struct ipv6_header *ip6 = (const struct ipv6_header *)(frame + ETHER_HDR_LEN);
		sum = net_csum_pseudo_v6(ip6->src, ip6->dst, IP_PROTO_TCP, l4_len);
	}
	th->checksum = 0;
	net_store_be16(&th->checksum, net_csum_fold(net_csum_partial(th, l4_len, sum)));
}

static void tcp_ack_sent(struct tcp_conn *c)
{
	c->flags &= (uint16_t)~TCP_CONN_ACK_NOW;
	c->delack_at_us = 0;
	c->last_ack_sent = c->rcv_nxt;
}

/* Sends a segment without payload on connection c; options_len 0 means "the usual ones"
 * (timestamps) unless it is a reset. */
static int tcp_send_control(struct net_stack *ns, struct tcp_conn *c, uint32_t seq, uint8_t flags,
			    const uint8_t *syn_options, uint32_t syn_options_len)
{
	uint8_t options[40];
	uint32_t options_len = syn_options_len;
	uint16_t window = (flags & TCP_FLAG_RST) ? 0 : tcp_window_field(ns, c);
	struct net_tcp_tx layers;
	uint32_t len, max_len;
	uint8_t *frame;
	void *handle;

	if (syn_options_len)
		memcpy(options, syn_options, syn_options_len);
	else if (!(flags & TCP_FLAG_RST))
		options_len = tcp_options_build(ns, c, options);
	max_len = ETHER_HDR_LEN + sizeof(struct ipv6_header) + sizeof(struct tcp_header) + options_len;
	frame = ns->io->frame_alloc(ns, &handle, max_len);
	if (!frame)
		return -ENOBUFS;
	len = tcp_build_headers(ns, c, frame, seq, (flags & TCP_FLAG_ACK) ? c->rcv_nxt : 0, flags, window, options,
				options_len, 0, &layers);
	tcp_checksum_control(c, frame, layers.l3_len, layers.l4_len);
	ns->io->frame_send(ns, handle, len);
	COUNTER_INC(&ns->counters, tcp_tx_segments);
	if (flags & TCP_FLAG_ACK)
		tcp_ack_sent(c);
	return 0;
}

void tcp_send_ack(struct net_stack *ns, struct tcp_conn *c)
{
	tcp_send_control(ns, c, c->snd_max, TCP_FLAG_ACK, NULL, 0);
}

/* A zero-window or keepalive probe: an ACK one below snd_una, which the peer must answer
 * with its current window and ACK (RFC 9293 §3.8.4 keepalives, Linux's window probes). */
void tcp_send_probe(struct net_stack *ns, struct tcp_conn *c)
{
	tcp_send_control(ns, c, c->snd_una - 1, TCP_FLAG_ACK, NULL, 0);
}

void tcp_send_reset(struct net_stack *ns, struct tcp_conn *c)
{
	if (tcp_send_control(ns, c, c->snd_max, TCP_FLAG_RST | TCP_FLAG_ACK, NULL, 0) == 0)
		COUNTER_INC(&ns->counters, tcp_rst_sent);
}

void tcp_send_syn_ack(struct net_stack *ns, struct tcp_conn *c)
{
	uint8_t options[24];
	uint32_t n = 0;

	/* Our MSS is what our MTU allows, whatever the peer announced (RFC 9293 §3.7.1). */
	options[n++] = TCP_OPT_MSS;
	options[n++] = 4;
	net_store_be16(&options[n], (uint16_t)(ns->mtu - (c->flow.remote.family == NET_AF_IPV4 ? 40 : 60)));
	n += 2;
	if (c->flags & TCP_CONN_SACK) {
		options[n++] = TCP_OPT_NOP;
		options[n++] = TCP_OPT_NOP;
		options[n++] = TCP_OPT_SACK_PERMITTED;
		options[n++] = 2;
	}
	if (c->flags & TCP_CONN_TIMESTAMPS) {
		options[n++] = TCP_OPT_NOP;
		options[n++] = TCP_OPT_NOP;
		options[n++] = TCP_OPT_TIMESTAMP;
		options[n++] = 10;
		net_store_be32(&options[n], tcp_ts_now(ns, c));
		net_store_be32(&options[n + 4], c->ts_recent);
		n += 8;
	}
	if (c->flags & TCP_CONN_WSCALE) {
		options[n++] = TCP_OPT_NOP;
		options[n++] = TCP_OPT_WSCALE;
		options[n++] = 3;
		options[n++] = c->rcv_wscale;
	}
	tcp_send_control(ns, c, c->iss, TCP_FLAG_SYN | TCP_FLAG_ACK, options, n);
}

void tcp_send_reset_for(struct net_stack *ns, const struct tcp_segment *seg)
{
	/* RFC 9293 §3.10.7.1: answer a segment that belongs to no connection. Built from a
	 * temporary connection so the header code is shared. */
	struct tcp_conn tmp;
	uint8_t flags = TCP_FLAG_RST;
	uint32_t max_len = ETHER_HDR_LEN + sizeof(struct ipv6_header) + sizeof(struct tcp_header);
	struct net_tcp_tx layers;
	uint32_t len, seq = 0, ack = 0;
	uint8_t *frame;
	void *handle;

	if (seg->flags & TCP_FLAG_RST)
		return;
	memset(&tmp, 0, sizeof(tmp));
	tmp.flow.remote = seg->src;
	tmp.flow.remote_port = seg->th->src_port;
	tmp.flow.local_port = seg->th->dst_port;
	memcpy(tmp.peer_mac, seg->src_mac, ETHER_ADDR_LEN);
	if (seg->flags & TCP_FLAG_ACK) {
		seq = seg->ack;
	} else {
		flags |= TCP_FLAG_ACK;
		ack = seg->seq + seg->payload_len + !!(seg->flags & TCP_FLAG_SYN) + !!(seg->flags & TCP_FLAG_FIN);
	}
	frame = ns->io->frame_alloc(ns, &handle, max_len);
	if (!frame)
		return;
	len = tcp_build_headers(ns, &tmp, frame, seq, ack, flags, 0, NULL, 0, 0, &layers);
	tcp_checksum_control(&tmp, frame, layers.l3_len, layers.l4_len);
	ns->io->frame_send(ns, handle, len);
	COUNTER_INC(&ns->counters, tcp_rst_sent);
}

/* Sequence number of our FIN (valid when the application has closed). */
static uint32_t tcp_fin_seq(const struct tcp_conn *c)
{
	return c->snd_una + (uint32_t)(c->stream_end - c->una_offset);
}

static uint64_t tcp_seq_offset(const struct tcp_conn *c, uint32_t seq)
{
	return c->una_offset + (uint32_t)(seq - c->snd_una);
}

/* Sends [seq, seq + len) of the stream as one segment or one TSO burst. Returns 0,
 * -ENOBUFS (the TX path is full: nothing sent) or another -errno (source failed). */
static int tcp_send_data(struct net_stack *ns, struct tcp_conn *c, uint32_t seq, uint32_t len, bool push)
{
	uint8_t hdr[TCP_HEADER_BUF], options[TCP_TS_OPTION_BYTES];
	uint32_t options_len = tcp_options_build(ns, c, options);
	struct net_tcp_tx tx;
	int rc;

	memset(&tx, 0, sizeof(tx));
	tx.hdr = hdr;
	tx.hdr_len = (uint16_t)tcp_build_headers(ns, c, hdr, seq, c->rcv_nxt,
						 (uint8_t)(TCP_FLAG_ACK | (push ? TCP_FLAG_PSH : 0)),
						 tcp_window_field(ns, c), options, options_len, len, &tx);
	tx.tso_segment_size = len > c->mss ? c->mss : 0;
	tx.payload_len = len;
	tx.stream_offset = tcp_seq_offset(c, seq);
	tx.conn = c;
	rc = ns->io->tcp_send(ns, &tx);
	if (rc)
		return rc;
	COUNTER_ADD(&ns->counters, tcp_tx_segments, len > c->mss ? (len + c->mss - 1) / c->mss : 1);
	COUNTER_ADD(&ns->counters, tcp_tx_payload_bytes, len);
	tcp_ack_sent(c);
	return 0;
}

static bool tcp_state_sends_data(uint8_t state)
{
	return state == TCP_ESTABLISHED || state == TCP_CLOSE_WAIT || state == TCP_FIN_WAIT_1 ||
	       state == TCP_CLOSING || state == TCP_LAST_ACK;
}

/* Whether PRR paces recovery for this connection (not for modules that own cwnd, BBR). */
static bool tcp_uses_prr(const struct net_stack *ns, const struct tcp_conn *c)
{
	return (c->flags & TCP_CONN_IN_RECOVERY) && !ns->tcp->listeners[c->listener].cc->sets_pacing;
}

/* Bytes congestion control lets us put in flight now (PRR's allowance in recovery). */
static uint32_t tcp_cwnd_room(const struct net_stack *ns, const struct tcp_conn *c)
{
	uint32_t flight;

	if (tcp_uses_prr(ns, c))
		return c->prr_quota;
	flight = tcp_in_flight(c);
	return c->cwnd > flight ? c->cwnd - flight : 0;
}

static void tcp_spend(const struct net_stack *ns, struct tcp_conn *c, uint32_t len)
{
	if (tcp_uses_prr(ns, c)) {
		c->prr_out += len;
		c->prr_quota = c->prr_quota > len ? c->prr_quota - len : 0;
	}
}

/* The pacing rate in force: CC's (or cwnd/srtt-derived) capped by the application's. */
static uint64_t tcp_effective_rate(const struct tcp_conn *c)
{
	uint64_t rate = c->pacing_rate;

	if (c->max_rate && (!rate || c->max_rate < rate))
		rate = c->max_rate;
	return rate;
}

/* Retransmits what is marked lost. Returns false when output must stop (TX full, failure). */
static bool tcp_output_retransmit(struct net_stack *ns, struct tcp_conn *c, uint32_t *budget, uint32_t seg_max)
{
	struct tcp_stack *ts = ns->tcp;

	while (c->lost_bytes && *budget) {
		struct tcp_seg *seg = tcp_map_first_lost(ts, c);
		uint32_t room = tcp_cwnd_room(ns, c), len;
		int rc;

		if (!seg)
			break;
		/* The first retransmission of a recovery goes out whatever PRR says (RFC 6937: the
		 * fast retransmit), the rest within the allowance. */
		if (!room && !(tcp_uses_prr(ns, c) && !c->prr_out))
			break;
		if (seg->flags & TCP_SEG_FIN) {
			if (tcp_send_control(ns, c, seg->start, TCP_FLAG_FIN | TCP_FLAG_ACK, NULL, 0))
				return false;
			tcp_map_retransmitted(ns, c, seg, seg->end);
			tcp_spend(ns, c, 1);
			continue;
		}
		len = seg->end - seg->start;
		len = tcp_min32(len, seg_max);
		len = tcp_min32(len, *budget);
		if (room && room < len)
			len = room < c->mss ? tcp_min32(len, c->mss) : room / c->mss * c->mss;
		if (!ns->io->tx_room(ns)) {
			tcp_ready(ns, c);
			return false;
		}
		rc = tcp_send_data(ns, c, seg->start, len, false);
		if (rc == -ENOBUFS) {
			tcp_ready(ns, c);
			return false;
		}
		if (rc < 0) {
			COUNTER_INC(&ns->counters, tcp_payload_source_failed);
			tcp_abort(ns, c);
			return false;
		}
		COUNTER_ADD(&ns->counters, tcp_retransmit_segments, (len + c->mss - 1) / c->mss);
		COUNTER_ADD(&ns->counters, tcp_retransmit_bytes, len);
		tcp_map_retransmitted(ns, c, seg, seg->start + len);
		tcp_spend(ns, c, len);
		*budget -= len < *budget ? len : *budget;
	}
	return true;
}

void tcp_output(struct net_stack *ns, struct tcp_conn *c)
{
	struct tcp_stack *ts = ns->tcp;
	bool tso = c->flow.remote.family == NET_AF_IPV4 ? (ns->tx_offloads & NET_TX_OFFLOAD_TCP_TSO)
							: (ns->tx_offloads & NET_TX_OFFLOAD_TCP_TSO6);
	uint32_t seg_max = tso ? TCP_TSO_MAX_PAYLOAD / c->mss * c->mss : c->mss;
	uint32_t budget = ts->settings.output_burst_bytes, sent = 0, start_budget;
	uint64_t rate = tcp_effective_rate(c);

	if (!tcp_state_sends_data(c->state)) {
		if (c->flags & TCP_CONN_ACK_NOW)
			tcp_send_ack(ns, c);
		return;
	}
	if (rate) {
		uint64_t quantum = rate * TCP_PACING_QUANTUM_US / 1000000;

		if (c->pace_at_us > ns->now_us) {
			/* Too early: wait on the wheel; an owed ACK goes now. */
			c->flags |= TCP_CONN_PACE_WAIT;
			if (c->flags & TCP_CONN_ACK_NOW)
				tcp_send_ack(ns, c);
			tcp_timer_update(ns, c);
			return;
		}
		if (quantum < 2u * c->mss)
			quantum = 2u * c->mss;
		if (quantum < budget)
			budget = (uint32_t)quantum;
	}
	c->flags &= (uint16_t)~TCP_CONN_PACE_WAIT;
	start_budget = budget;

	if (!tcp_output_retransmit(ns, c, &budget, seg_max))
		return;

	/* New data. */
	while (budget) {
		uint64_t next_offset = tcp_seq_offset(c, c->snd_max);
		uint64_t avail = next_offset < c->stream_end ? c->stream_end - next_offset : 0;
		uint32_t wnd_edge = c->snd_una + c->snd_wnd;
		uint32_t wnd_room = tcp_seq_gt(wnd_edge, c->snd_max) ? wnd_edge - c->snd_max : 0;
		uint32_t room = tcp_cwnd_room(ns, c), len;
		int rc;

		if (!avail)
			break;
		len = (uint32_t)(avail < wnd_room ? avail : wnd_room);
		len = tcp_min32(len, room);
		len = tcp_min32(len, budget);
		len = tcp_min32(len, seg_max);
		if (!len)
			break;
		if (!ts->seg_free) {
			/* Every in-flight byte needs a sendmap entry: wait for ACKs to free some. */
			COUNTER_INC(&ns->counters, tcp_sendmap_full);
			break;
		}
		/* Silly window avoidance: a short segment only at the end of what we have, or
		 * when nothing is in flight to clock more window open. */
		if (len < c->mss && len < avail && c->snd_una != c->snd_max)
			break;
		if (!ns->io->tx_room(ns)) {
			tcp_ready(ns, c);
			return;
		}
		rc = tcp_send_data(ns, c, c->snd_max, len, len == avail);
		if (rc == -ENOBUFS) {
			tcp_ready(ns, c);
			return;
		}
		if (rc < 0) {
			COUNTER_INC(&ns->counters, tcp_payload_source_failed);
			tcp_abort(ns, c);
			return;
		}
		tcp_map_sent(ns, c, c->snd_max, c->snd_max + len, false); /* an entry was free */
		c->snd_max += len;
		tcp_spend(ns, c, len);
		budget -= len;
		sent += len;
	}

	/* Application-limited (rate sampling): the stream ran dry before cwnd did. */
	if (tcp_seq_offset(c, c->snd_max) >= c->stream_end && tcp_cwnd_room(ns, c))
		c->app_limited_until = c->delivered + tcp_in_flight(c) + 1;

	/* FIN after the last stream byte, once. */
	if ((c->flags & TCP_CONN_FIN_QUEUED) && !(c->flags & TCP_CONN_FIN_SENT) && c->snd_max == tcp_fin_seq(c) &&
	    ts->seg_free) {
		if (tcp_send_control(ns, c, c->snd_max, TCP_FLAG_FIN | TCP_FLAG_ACK, NULL, 0) == 0) {
			tcp_map_sent(ns, c, c->snd_max, c->snd_max + 1, true);
			c->flags |= TCP_CONN_FIN_SENT;
			c->snd_max++;
		} else {
			tcp_ready(ns, c);
		}
	}
	if (c->flags & TCP_CONN_ACK_NOW)
		tcp_send_ack(ns, c);

	if (rate && start_budget > budget)
		c->pace_at_us = ns->now_us + (uint64_t)(start_budget - budget) * 1000000 / rate;
	/* More to send after this burst (budget or pacing ran out): come back. */
	if (!budget) {
		if (rate) {
			c->flags |= TCP_CONN_PACE_WAIT;
		} else {
			tcp_ready(ns, c);
		}
	}
	if (sent || c->lost_bytes || !c->rto_at_us || c->rtx_timer == TCP_TIMER_TLP ||
	    c->rtx_timer == TCP_TIMER_PERSIST)
		tcp_rtx_timer_arm(ns, c);
	tcp_timer_update(ns, c);
}

void tcp_rtt_sample(struct tcp_stack *ts, struct tcp_conn *c, uint32_t rtt_us, uint64_t now_us)
{
	uint32_t var4;

	if (!rtt_us)
		rtt_us = 1;
	/* Windowed minimum over ten seconds (RACK's reordering window, BBR). */
	if (!c->min_rtt_us || rtt_us <= c->min_rtt_us || now_us - c->min_rtt_stamp_us > 10000000) {
		c->min_rtt_us = rtt_us;
		c->min_rtt_stamp_us = now_us;
	}
	if (!c->srtt_us) {
		c->srtt_us = rtt_us;
		c->rttvar_us = rtt_us / 2;
	} else {
		uint32_t delta = c->srtt_us > rtt_us ? c->srtt_us - rtt_us : rtt_us - c->srtt_us;
		c->rttvar_us = (3 * c->rttvar_us + delta) / 4;
		c->srtt_us = (7 * c->srtt_us + rtt_us) / 8;
	}
	/* RFC 6298 (2.3): RTO = SRTT + max(G, 4 * RTTVAR), G being our timer granularity. */
	var4 = 4 * c->rttvar_us;
	if (var4 < ts->wheel.tick_us)
		var4 = ts->wheel.tick_us;
	c->rto_us = c->srtt_us + var4;
	if (c->rto_us < ts->settings.rto_min_us)
		c->rto_us = ts->settings.rto_min_us;
	if (c->rto_us > ts->settings.rto_max_us)
		c->rto_us = ts->settings.rto_max_us;
}

static uint64_t tcp_backed_off_rto(const struct tcp_stack *ts, const struct tcp_conn *c)
{
	uint64_t rto = (uint64_t)c->rto_us << (c->rto_shift < 20 ? c->rto_shift : 20);

	return rto > ts->settings.rto_max_us ? ts->settings.rto_max_us : rto;
}

void tcp_rtx_timer_arm(struct net_stack *ns, struct tcp_conn *c)
{
	struct tcp_stack *ts = ns->tcp;
	uint64_t now = ns->now_us, rto = tcp_backed_off_rto(ts, c);

	if (c->state == TCP_SYN_RECEIVED)
		return; /* the SYN-ACK's timer is set where it is sent */
	if (c->snd_una == c->snd_max) {
		uint64_t offset = tcp_seq_offset(c, c->snd_max);

		/* Nothing in flight but data waiting behind a closed window: persist. */
		if (offset < c->stream_end && tcp_seq_leq(c->snd_una + c->snd_wnd, c->snd_max) &&
		    tcp_state_sends_data(c->state)) {
			if (c->rtx_timer != TCP_TIMER_PERSIST || !c->rto_at_us) {
				c->rtx_timer = TCP_TIMER_PERSIST;
				c->rto_at_us = now + rto;
			}
		} else {
			c->rto_at_us = 0;
		}
		return;
	}
	if (c->rtx_timer == TCP_TIMER_REORDER && c->rto_at_us)
		return; /* RACK's timer is due first and re-arms when it fires */
	if (ts->settings.tlp && (c->flags & TCP_CONN_SACK) && c->srtt_us &&
	    !(c->flags & (TCP_CONN_IN_RECOVERY | TCP_CONN_IN_LOSS | TCP_CONN_TLP_OUT))) {
		uint64_t pto = 2ull * c->srtt_us;

		if (tcp_in_flight(c) <= c->mss && pto < c->srtt_us * 3ull / 2 + TCP_WC_DELACK_US)
			pto = c->srtt_us * 3ull / 2 + TCP_WC_DELACK_US;
		if (pto < TCP_PTO_MIN_US)
			pto = TCP_PTO_MIN_US;
		if (pto < rto) {
			c->rtx_timer = TCP_TIMER_TLP;
			c->rto_at_us = now + pto;
			return;
		}
	}
	c->rtx_timer = TCP_TIMER_RTO;
	c->rto_at_us = now + rto;
}

/* RFC 8985 §7.3: the probe is new data when there is some and the window allows, else the
 * last segment sent once more. */
static void tcp_send_tlp(struct net_stack *ns, struct tcp_conn *c)
{
	struct tcp_stack *ts = ns->tcp;
	uint64_t next_offset = tcp_seq_offset(c, c->snd_max);
	uint32_t wnd_edge = c->snd_una + c->snd_wnd;

	COUNTER_INC(&ns->counters, tcp_tlp_probes);
	c->flags |= TCP_CONN_TLP_OUT;
	c->tlp_high_seq = c->snd_max;
	if (next_offset < c->stream_end && tcp_seq_geq(wnd_edge, c->snd_max + c->mss) && ts->seg_free) {
		uint32_t len = (uint32_t)SLUICE_MIN(c->stream_end - next_offset, (uint64_t)c->mss);

		if (tcp_send_data(ns, c, c->snd_max, len, true) == 0) {
			tcp_map_sent(ns, c, c->snd_max, c->snd_max + len, false);
			c->snd_max += len;
		}
		return;
	}
	/* The highest unSACKed entry: resend its last segment. */
	{
		struct tcp_seg *last = NULL;

		for (uint32_t i = c->map_head; i;) {
			struct tcp_seg *seg = tcp_map_seg(ts, i);
			if (!(seg->flags & TCP_SEG_SACKED))
				last = seg;
			i = seg->next;
		}
		if (!last)
			return;
		if (last->flags & TCP_SEG_FIN) {
			tcp_send_control(ns, c, last->start, TCP_FLAG_FIN | TCP_FLAG_ACK, NULL, 0);
			return;
		}
		{
			uint32_t len = tcp_min32(last->end - last->start, c->mss);
			uint32_t start = last->end - len;

			if (tcp_send_data(ns, c, start, len, true) == 0) {
				COUNTER_INC(&ns->counters, tcp_retransmit_segments);
				COUNTER_ADD(&ns->counters, tcp_retransmit_bytes, len);
			}
		}
	}
}

void tcp_rtx_timer_expired(struct net_stack *ns, struct tcp_conn *c)
{
	struct tcp_stack *ts = ns->tcp;
	const struct tcp_cc_ops *cc = ts->listeners[c->listener].cc;

	if (c->state == TCP_SYN_RECEIVED) {
		if (c->rto_shift >= ts->settings.syn_retries) {
			tcp_conn_free(ns, c, TCP_CLOSE_TIMEOUT);
			return;
		}
		c->rto_shift++;
		COUNTER_INC(&ns->counters, tcp_syn_ack_retransmits);
		tcp_send_syn_ack(ns, c);
		c->rto_at_us = ns->now_us + tcp_backed_off_rto(ts, c);
		return;
	}
	switch (c->rtx_timer) {
	case TCP_TIMER_PERSIST:
		COUNTER_INC(&ns->counters, tcp_persist_probes);
		tcp_send_probe(ns, c);
		if (c->rto_shift < 20)
			c->rto_shift++;
		c->rto_at_us = ns->now_us + tcp_backed_off_rto(ts, c);
		return;
	case TCP_TIMER_TLP:
		if (c->snd_una == c->snd_max)
			return;
		tcp_send_tlp(ns, c);
		if (c->state == TCP_CLOSED)
			return;
		c->rtx_timer = TCP_TIMER_RTO;
		c->rto_at_us = ns->now_us + tcp_backed_off_rto(ts, c);
		return;
	case TCP_TIMER_REORDER: {
		uint64_t timeout;
		uint32_t lost = tcp_rack_detect_loss(ns, c, &timeout);

		c->rtx_timer = TCP_TIMER_RTO;
		c->rto_at_us = 0;
		if (lost && !(c->flags & (TCP_CONN_IN_RECOVERY | TCP_CONN_IN_LOSS))) {
			c->prior_cwnd = c->cwnd;
			c->prior_ssthresh = c->ssthresh;
			c->recover = c->snd_max;
			c->flags |= TCP_CONN_IN_RECOVERY;
			c->prr_delivered = c->prr_out = 0;
			c->prr_recover_fs = c->snd_max - c->snd_una;
			cc->on_event(ts, c, TCP_CC_EVENT_LOSS, ns->now_us);
			c->prr_quota = c->mss;
			COUNTER_INC(&ns->counters, tcp_recoveries);
		}
		if (timeout) {
			c->rtx_timer = TCP_TIMER_REORDER;
			c->rto_at_us = ns->now_us + timeout;
		}
		tcp_output(ns, c);
		return;
	}
	case TCP_TIMER_KEEPALIVE:
	case TCP_TIMER_RTO:
	default:
		break;
	}
	if (c->snd_una == c->snd_max)
		return; /* everything acknowledged meanwhile */
	if (c->rto_shift >= ts->settings.data_retries) {
		tcp_send_reset(ns, c);
		tcp_conn_free(ns, c, TCP_CLOSE_TIMEOUT);
		return;
	}
	COUNTER_INC(&ns->counters, tcp_rto_fired);
	/* RFC 6298 §5.5-5.7 and RFC 8985 §6.3: everything outstanding is lost; slow start from
	 * one segment. The prior window is kept in case the timeout proves spurious (Eifel). */
	if (!(c->flags & TCP_CONN_IN_LOSS)) {
		c->prior_cwnd = c->cwnd;
		c->prior_ssthresh = c->ssthresh;
		c->undo_tsval = (c->flags & TCP_CONN_TIMESTAMPS) ? tcp_ts_now(ns, c) : 0;
	}
	c->rto_shift++;
	cc->on_event(ts, c, TCP_CC_EVENT_RTO, ns->now_us);
	c->flags &= (uint16_t)~(TCP_CONN_IN_RECOVERY | TCP_CONN_TLP_OUT);
	c->flags |= TCP_CONN_IN_LOSS;
	c->recover = c->snd_max;
	c->dupacks = 0;
	tcp_map_mark_all_lost(ts, c);
	c->rtx_timer = TCP_TIMER_RTO;
	c->rto_at_us = ns->now_us + tcp_backed_off_rto(ts, c);
	c->pace_at_us = 0;
	tcp_output(ns, c);
}

int tcp_icmp_too_big(struct net_stack *ns, const struct net_addr *remote, uint16_t remote_port, uint16_t local_port,
		     uint32_t seq, uint32_t mtu)
{
	struct tcp_flow flow;
	struct tcp_conn *c;
	uint32_t header = (remote->family == NET_AF_IPV4 ? 40 : 60);
	uint32_t floor = remote->family == NET_AF_IPV4 ? 536 : 1220; /* RFC 8201: 1280 - 60 */
	uint32_t mss;

	memset(&flow, 0, sizeof(flow));
	flow.remote = *remote;
	flow.remote_port = remote_port;
	flow.local_port = local_port;
	c = tcp_conn_lookup(ns->tcp, &flow);
	if (!c)
		return -ENOENT;
	/* RFC 5927 §4.1: only a segment we sent and that is still unacknowledged counts. */
	if (tcp_seq_lt(seq, c->snd_una) || tcp_seq_geq(seq, c->snd_max) || c->state == TCP_SYN_RECEIVED)
		return -EINVAL;
	if (c->flags & TCP_CONN_TIMESTAMPS)
		header += TCP_TS_OPTION_BYTES;
	mss = mtu > header ? mtu - header : 0;
	if (mss < floor)
		mss = floor; /* never below the protocol minimum, whatever the message says */
	if (mss >= c->mss)
		return -EALREADY;
	c->mss = (uint16_t)mss;
	COUNTER_INC(&ns->counters, tcp_pmtu_lowered);
	/* What is in flight was too big and is lost: it goes again at the new size, without
	 * a congestion response (RFC 1191 §6.5: this is not congestion). */
	tcp_map_mark_all_lost(ns->tcp, c);
	tcp_ready(ns, c);
	return 0;
}

void tcp_send_extend(struct net_stack *ns, struct tcp_conn *c, uint64_t stream_end)
{
	if (stream_end <= c->stream_end)
		return;
	c->stream_end = stream_end;
	tcp_ready(ns, c);
}

void tcp_send_close(struct net_stack *ns, struct tcp_conn *c)
{
	if (c->flags & TCP_CONN_FIN_QUEUED)
		return;
	c->flags |= TCP_CONN_FIN_QUEUED;
	if (c->state == TCP_ESTABLISHED)
		tcp_conn_set_state(ns, c, TCP_FIN_WAIT_1);
	else if (c->state == TCP_CLOSE_WAIT)
		tcp_conn_set_state(ns, c, TCP_LAST_ACK);
	tcp_ready(ns, c);
}

void tcp_abort(struct net_stack *ns, struct tcp_conn *c)
{
	if (c->state == TCP_CLOSED)
		return;
	tcp_send_reset(ns, c);
	tcp_conn_free(ns, c, TCP_CLOSE_RESET_SENT);
}

void tcp_receive_space_changed(struct net_stack *ns, struct tcp_conn *c)
{
	c->flags |= TCP_CONN_ACK_NOW;
	tcp_ready(ns, c);
}

void tcp_set_max_rate(struct net_stack *ns, struct tcp_conn *c, uint64_t bytes_per_second)
{
	(void)ns;
	c->max_rate = bytes_per_second;
}
