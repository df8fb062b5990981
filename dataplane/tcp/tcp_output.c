/* SPDX-License-Identifier: BSD-3-Clause
 *
 * tcp_output.c: everything TCP sends: data segments from the stream source, pure ACKs,
 * SYN-ACKs, resets; the retransmission timeout; RTT estimation.
 *
 * Per packet. Headers are built in a small stack buffer; data segments go to the port through
 * netio tcp_send, which produces the payload from the connection's stream source (so a
 * retransmission re-reads the store, never a socket buffer). Control segments (no payload)
 * are built whole here, checksum included.
 *
 * Sending rule (tcp_output): bytes in flight stay within min(peer window, cwnd); a segment is
 * a full MSS (or a TSO burst of them) unless it is the last of what the stream has now
 * (sender-side silly window avoidance, RFC 9293 §3.8.6.2.1); each turn on the ready list
 * sends at most output_burst_bytes, so one fast connection cannot starve the others.
 */
#include <errno.h>
#include <string.h>

#include "net/net_csum.h"
#include "net/stack.h"
#include "tcp.h"

#define TCP_HEADER_BUF 128 /* Ethernet + IPv6 + TCP with options */
#define TCP_TSO_MAX_PAYLOAD 65000

static uint32_t tcp_min32(uint32_t a, uint32_t b) { return a < b ? a : b; }

static const struct tcp_app_ops *tcp_app(const struct net_stack *ns, const struct tcp_conn *c)
{
	return ns->tcp->listeners[c->listener].app;
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
		if (!(ns->tx_offloads & NET_TX_OFFLOAD_IPV4_CKSUM))
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

/* Sends a segment without payload (ACK, SYN-ACK, FIN, RST) on connection c. */
static int tcp_send_control(struct net_stack *ns, struct tcp_conn *c, uint32_t seq, uint8_t flags,
			    const uint8_t *options, uint32_t options_len)
{
	uint32_t max_len = ETHER_HDR_LEN + sizeof(struct ipv6_header) + sizeof(struct tcp_header) + options_len;
	uint16_t window = (flags & TCP_FLAG_RST) ? 0 : tcp_window_field(ns, c);
	struct net_tcp_tx layers;
	uint32_t len;
	uint8_t *frame;
	void *handle;

	frame = ns->io->frame_alloc(ns, &handle, max_len);
	if (!frame)
		return -ENOBUFS;
	len = tcp_build_headers(ns, c, frame, seq, (flags & TCP_FLAG_ACK) ? c->rcv_nxt : 0, flags, window, options,
				options_len, 0, &layers);
	tcp_checksum_control(c, frame, layers.l3_len, layers.l4_len);
	ns->io->frame_send(ns, handle, len);
	COUNTER_INC(&ns->counters, tcp_tx_segments);
	if (flags & TCP_FLAG_ACK)
		c->flags &= (uint16_t)~TCP_CONN_ACK_NOW;
	return 0;
}

void tcp_send_ack(struct net_stack *ns, struct tcp_conn *c)
{
	tcp_send_control(ns, c, c->snd_nxt, TCP_FLAG_ACK, NULL, 0);
}

void tcp_send_reset(struct net_stack *ns, struct tcp_conn *c)
{
	if (tcp_send_control(ns, c, c->snd_nxt, TCP_FLAG_RST | TCP_FLAG_ACK, NULL, 0) == 0)
		COUNTER_INC(&ns->counters, tcp_rst_sent);
}

void tcp_send_syn_ack(struct net_stack *ns, struct tcp_conn *c)
{
	uint8_t options[8];
	uint32_t n = 0;

	/* Our MSS is what our MTU allows, whatever the peer announced (RFC 9293 §3.7.1). */
	options[n++] = TCP_OPT_MSS;
	options[n++] = 4;
	net_store_be16(&options[n], (uint16_t)(ns->mtu - (c->flow.remote.family == NET_AF_IPV4 ? 40 : 60)));
	n += 2;
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

static void tcp_arm_rto(struct net_stack *ns, struct tcp_conn *c)
{
	uint64_t rto = (uint64_t)c->rto_us << c->rto_shift;

	if (rto > ns->tcp->settings.rto_max_us)
		rto = ns->tcp->settings.rto_max_us;
	c->rto_at_us = ns->now_us + rto;
}

static bool tcp_state_sends_data(uint8_t state)
{
	return state == TCP_ESTABLISHED || state == TCP_CLOSE_WAIT || state == TCP_FIN_WAIT_1 ||
	       state == TCP_CLOSING || state == TCP_LAST_ACK;
}

void tcp_output(struct net_stack *ns, struct tcp_conn *c)
{
	struct tcp_stack *ts = ns->tcp;
	uint32_t budget = ts->settings.output_burst_bytes;
	bool tso = c->flow.remote.family == NET_AF_IPV4 ? (ns->tx_offloads & NET_TX_OFFLOAD_TCP_TSO)
							: (ns->tx_offloads & NET_TX_OFFLOAD_TCP_TSO6);
	uint8_t hdr[TCP_HEADER_BUF];

	if (!tcp_state_sends_data(c->state)) {
		if (c->flags & TCP_CONN_ACK_NOW)
			tcp_send_ack(ns, c);
		return;
	}
	for (;;) {
		uint32_t flight = c->snd_nxt - c->snd_una;
		uint32_t wnd = tcp_min32(c->snd_wnd, c->cwnd);
		uint64_t next_offset = tcp_seq_offset(c, c->snd_nxt);
		uint64_t avail = next_offset < c->stream_end ? c->stream_end - next_offset : 0;
		uint32_t len, seg_max;
		struct net_tcp_tx tx;
		bool retransmit;
		int rc;

		if (!avail || flight >= wnd)
			break;
		len = (uint32_t)(avail < wnd - flight ? avail : wnd - flight);
		len = tcp_min32(len, budget);
		seg_max = tso ? TCP_TSO_MAX_PAYLOAD / c->mss * c->mss : c->mss;
		len = tcp_min32(len, seg_max);
		/* Silly window avoidance: a short segment only at the end of what we have, or
		 * when nothing is in flight to clock more window open. */
		if (len < c->mss && len < avail && flight)
			break;
		if (!ns->io->tx_room(ns)) {
			tcp_ready(ns, c);
			return;
		}
		memset(&tx, 0, sizeof(tx));
		tx.hdr = hdr;
		tx.hdr_len = (uint16_t)tcp_build_headers(ns, c, hdr, c->snd_nxt, c->rcv_nxt,
							 (uint8_t)(TCP_FLAG_ACK | (len == avail ? TCP_FLAG_PSH : 0)),
							 tcp_window_field(ns, c), NULL, 0, len, &tx);
		tx.tso_segment_size = len > c->mss ? c->mss : 0;
		tx.payload_len = len;
		tx.stream_offset = next_offset;
		tx.conn = c;
		rc = ns->io->tcp_send(ns, &tx);
		if (rc == -ENOBUFS) {
			tcp_ready(ns, c);
			return;
		}
		if (rc < 0) {
			COUNTER_INC(&ns->counters, tcp_payload_source_failed);
			tcp_abort(ns, c);
			return;
		}
		retransmit = tcp_seq_lt(c->snd_nxt, c->snd_max);
		COUNTER_ADD(&ns->counters, tcp_tx_segments, len > c->mss ? (len + c->mss - 1) / c->mss : 1);
		COUNTER_ADD(&ns->counters, tcp_tx_payload_bytes, len);
		if (retransmit) {
			COUNTER_INC(&ns->counters, tcp_retransmit_segments);
			COUNTER_ADD(&ns->counters, tcp_retransmit_bytes, len);
		} else if (!(c->flags & TCP_CONN_RTT_TIMING)) {
			/* Karn: only segments sent once are timed. */
			c->flags |= TCP_CONN_RTT_TIMING;
			c->rtt_seq = c->snd_nxt + len;
			c->rtt_start_us = ns->now_us;
		}
		c->snd_nxt += len;
		if (tcp_seq_gt(c->snd_nxt, c->snd_max))
			c->snd_max = c->snd_nxt;
		c->flags &= (uint16_t)~TCP_CONN_ACK_NOW;
		if (!c->rto_at_us)
			tcp_arm_rto(ns, c);
		budget -= len;
		if (!budget) {
			tcp_ready(ns, c); /* more next turn */
			break;
		}
	}
	/* FIN after the last stream byte, once (again after a retransmission timeout). */
	if ((c->flags & TCP_CONN_FIN_QUEUED) && c->snd_nxt == tcp_fin_seq(c)) {
		if (tcp_send_control(ns, c, c->snd_nxt, TCP_FLAG_FIN | TCP_FLAG_ACK, NULL, 0) == 0) {
			c->flags |= TCP_CONN_FIN_SENT;
			c->snd_nxt++;
			if (tcp_seq_gt(c->snd_nxt, c->snd_max))
				c->snd_max = c->snd_nxt;
			if (!c->rto_at_us)
				tcp_arm_rto(ns, c);
		} else {
			tcp_ready(ns, c);
		}
	}
	if (c->flags & TCP_CONN_ACK_NOW)
		tcp_send_ack(ns, c);
	tcp_timer_update(ns, c);
}

/* Resends the first unacknowledged segment (fast retransmit, partial ACKs) without moving
 * snd_nxt: new data continues after snd_max as the window allows. */
void tcp_retransmit_head(struct net_stack *ns, struct tcp_conn *c)
{
	uint64_t end = c->stream_end;
	uint32_t len;
	struct net_tcp_tx tx;
	uint8_t hdr[TCP_HEADER_BUF];
	int rc;

	if (c->una_offset >= end) {
		if ((c->flags & TCP_CONN_FIN_SENT) && c->snd_una != c->snd_max)
			tcp_send_control(ns, c, c->snd_una, TCP_FLAG_FIN | TCP_FLAG_ACK, NULL, 0);
		return;
	}
	len = (uint32_t)SLUICE_MIN(end - c->una_offset, (uint64_t)c->mss);
	len = tcp_min32(len, c->snd_max - c->snd_una);
	if (!len)
		return;
	memset(&tx, 0, sizeof(tx));
	tx.hdr = hdr;
	tx.hdr_len = (uint16_t)tcp_build_headers(ns, c, hdr, c->snd_una, c->rcv_nxt, TCP_FLAG_ACK,
						 tcp_window_field(ns, c), NULL, 0, len, &tx);
	tx.payload_len = len;
	tx.stream_offset = c->una_offset;
	tx.conn = c;
	rc = ns->io->tcp_send(ns, &tx);
	if (rc == -ENOBUFS)
		return; /* the RTO will repair it */
	if (rc < 0) {
		COUNTER_INC(&ns->counters, tcp_payload_source_failed);
		tcp_abort(ns, c);
		return;
	}
	COUNTER_INC(&ns->counters, tcp_tx_segments);
	COUNTER_ADD(&ns->counters, tcp_tx_payload_bytes, len);
	COUNTER_INC(&ns->counters, tcp_retransmit_segments);
	COUNTER_ADD(&ns->counters, tcp_retransmit_bytes, len);
	c->flags &= (uint16_t)~TCP_CONN_ACK_NOW;
}

void tcp_rtt_sample(struct tcp_stack *ts, struct tcp_conn *c, uint32_t rtt_us)
{
	uint32_t var4;

	if (!rtt_us)
		rtt_us = 1;
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

void tcp_rto_expired(struct net_stack *ns, struct tcp_conn *c)
{
	struct tcp_stack *ts = ns->tcp;

	if (c->state == TCP_SYN_RECEIVED) {
		if (c->rto_shift >= ts->settings.syn_retries) {
			tcp_conn_free(ns, c, TCP_CLOSE_TIMEOUT);
			return;
		}
		c->rto_shift++;
		COUNTER_INC(&ns->counters, tcp_syn_ack_retransmits);
		tcp_send_syn_ack(ns, c);
		tcp_arm_rto(ns, c);
		return;
	}
	if (c->snd_una == c->snd_max)
		return; /* everything acknowledged meanwhile */
	if (c->rto_shift >= ts->settings.data_retries) {
		tcp_send_reset(ns, c);
		tcp_conn_free(ns, c, TCP_CLOSE_TIMEOUT);
		return;
	}
	COUNTER_INC(&ns->counters, tcp_rto_fired);
	c->rto_shift++;
	ts->listeners[c->listener].cc->on_event(ts, c, TCP_CC_EVENT_RTO);
	c->flags &= (uint16_t)~(TCP_CONN_RTT_TIMING | TCP_CONN_IN_RECOVERY);
	c->dupacks = 0;
	c->recover = c->snd_max;
	/* Go back to the first unacknowledged byte; tcp_output re-produces it from the stream. */
	c->snd_nxt = c->snd_una;
	tcp_arm_rto(ns, c);
	tcp_output(ns, c);
}

int tcp_icmp_too_big(struct net_stack *ns, const struct net_addr *remote, uint16_t remote_port, uint16_t local_port,
		     uint32_t seq, uint32_t mtu)
{
	struct tcp_flow flow;
	struct tcp_conn *c;
	uint32_t header = remote->family == NET_AF_IPV4 ? 40 : 60;
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
	mss = mtu > header ? mtu - header : 0;
	if (mss < floor)
		mss = floor; /* never below the protocol minimum, whatever the message says */
	if (mss >= c->mss)
		return -EALREADY;
	c->mss = (uint16_t)mss;
	COUNTER_INC(&ns->counters, tcp_pmtu_lowered);
	/* What was in flight was too big and is lost: send it again at the new size. */
	c->snd_nxt = c->snd_una;
	c->flags &= (uint16_t)~TCP_CONN_RTT_TIMING;
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
