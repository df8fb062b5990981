/* SPDX-License-Identifier: BSD-3-Clause
 *
 * tcp_sendmap.c: what is in flight (the sendmap), SACK processing, RACK loss detection
 * (RFC 8985 §6) and delivery-rate samples (draft-cheng-iccrg-delivery-rate-estimation).
 * Per packet; entries come from a per-lcore pool (no allocation).
 *
 * Invariants, for every connection:
 *  - the entries cover [snd_una, snd_max) exactly, in sequence order, without overlap;
 *  - sacked_bytes is the total length of entries flagged SACKED, lost_bytes of those flagged
 *    LOST (never both);
 *  - bytes in flight = (snd_max - snd_una) - sacked_bytes - lost_bytes (RFC 6675's "pipe",
 *    with RACK's notion of lost).
 * Splitting an entry needs a free one; when the pool is empty a split is skipped and the
 * whole entry is treated together (coarser, never wrong).
 */
#include <errno.h>
#include <string.h>

#include "net/stack.h"
#include "tcp.h"

struct tcp_seg *tcp_map_seg(const struct tcp_stack *ts, uint32_t index_plus_one)
{
	return &ts->segs[index_plus_one - 1];
}

static uint32_t tcp_seg_index(const struct tcp_stack *ts, const struct tcp_seg *seg)
{
	return (uint32_t)(seg - ts->segs) + 1;
}

static struct tcp_seg *tcp_seg_alloc(struct tcp_stack *ts)
{
	uint32_t i = ts->seg_free;
	struct tcp_seg *seg;

	if (!i)
		return NULL;
	seg = tcp_map_seg(ts, i);
	ts->seg_free = seg->next;
	ts->seg_used++;
	memset(seg, 0, sizeof(*seg));
	return seg;
}

static void tcp_seg_release(struct tcp_stack *ts, struct tcp_seg *seg)
{
	seg->next = ts->seg_free;
	ts->seg_free = tcp_seg_index(ts, seg);
	ts->seg_used--;
}

uint32_t tcp_in_flight(const struct tcp_conn *c)
{
	return (c->snd_max - c->snd_una) - c->sacked_bytes - c->lost_bytes;
}

void tcp_map_free_all(struct tcp_stack *ts, struct tcp_conn *c)
{
	uint32_t i = c->map_head;

	while (i) {
		struct tcp_seg *seg = tcp_map_seg(ts, i);
		i = seg->next;
		tcp_seg_release(ts, seg);
	}
	c->map_head = c->map_tail = 0;
	c->sacked_bytes = c->lost_bytes = 0;
}

/* Splits seg at sequence at (start < at < end): seg keeps [start, at), a new entry after it
 * gets [at, end) with the same state. Returns false when the pool is empty. */
static bool tcp_seg_split(struct tcp_stack *ts, struct tcp_conn *c, struct tcp_seg *seg, uint32_t at)
{
	struct tcp_seg *tail = tcp_seg_alloc(ts);

	if (!tail)
		return false;
	*tail = *seg;
	tail->start = at;
	seg->end = at;
	seg->next = tcp_seg_index(ts, tail);
	if (c->map_tail == tcp_seg_index(ts, seg))
		c->map_tail = seg->next;
	return true;
}

int tcp_map_sent(struct net_stack *ns, struct tcp_conn *c, uint32_t start, uint32_t end, bool fin)
{
	struct tcp_stack *ts = ns->tcp;
	struct tcp_seg *tail = c->map_tail ? tcp_map_seg(ts, c->map_tail) : NULL;
	struct tcp_seg *seg;

	/* Delivery-rate bookkeeping: a send window starts when nothing is in flight. */
	if (c->snd_una == c->snd_max) {
		c->first_tx_us = ns->now_us;
		c->delivered_us = ns->now_us;
	}
	uint8_t flags = (uint8_t)((fin ? TCP_SEG_FIN : 0) | (c->app_limited_until > c->delivered ? TCP_SEG_APP_LIMITED : 0));

	/* The same burst goes on extending one entry. */
	if (tail && !fin && tail->end == start && tail->xmit_us == ns->now_us && tail->flags == flags &&
	    tail->xmits == 1 && tail->delivered == c->delivered) {
		tail->end = end;
		return 0;
	}
	seg = tcp_seg_alloc(ts);
	if (!seg)
		return -ENOBUFS;
	seg->start = start;
	seg->end = end;
	seg->xmits = 1;
	seg->xmit_us = ns->now_us;
	seg->delivered = c->delivered;
	seg->delivered_us = c->delivered_us;
	seg->first_tx_us = c->first_tx_us;
	seg->flags = flags;
	if (tail)
		tail->next = tcp_seg_index(ts, seg);
	else
		c->map_head = tcp_seg_index(ts, seg);
	c->map_tail = tcp_seg_index(ts, seg);
	return 0;
}

void tcp_map_retransmitted(struct net_stack *ns, struct tcp_conn *c, struct tcp_seg *seg, uint32_t end)
{
	if (tcp_seq_lt(end, seg->end) && !tcp_seg_split(ns->tcp, c, seg, end))
		end = seg->end; /* no entry to split with: the whole entry counts as resent */
	if (seg->flags & TCP_SEG_LOST)
		c->lost_bytes -= seg->end - seg->start;
	seg->flags &= (uint8_t)~TCP_SEG_LOST;
	seg->flags |= TCP_SEG_RETRANS;
	if (seg->xmits < UINT8_MAX)
		seg->xmits++;
	if (c->snd_una == c->snd_max || tcp_in_flight(c) == seg->end - seg->start) {
		c->first_tx_us = ns->now_us;
		c->delivered_us = ns->now_us;
	}
	seg->xmit_us = ns->now_us;
	seg->delivered = c->delivered;
	seg->delivered_us = c->delivered_us;
	seg->first_tx_us = c->first_tx_us;
}

struct tcp_seg *tcp_map_first_lost(struct tcp_stack *ts, struct tcp_conn *c)
{
	if (!c->lost_bytes)
		return NULL;
	for (uint32_t i = c->map_head; i;) {
		struct tcp_seg *seg = tcp_map_seg(ts, i);
		if (seg->flags & TCP_SEG_LOST)
			return seg;
		i = seg->next;
	}
	return NULL;
}

static void tcp_seg_mark_lost(struct tcp_conn *c, struct tcp_seg *seg)
{
	if (seg->flags & (TCP_SEG_LOST | TCP_SEG_SACKED))
		return;
	seg->flags |= TCP_SEG_LOST;
	c->lost_bytes += seg->end - seg->start;
}

void tcp_map_mark_all_lost(struct tcp_stack *ts, struct tcp_conn *c)
{
	for (uint32_t i = c->map_head; i;) {
		struct tcp_seg *seg = tcp_map_seg(ts, i);
		tcp_seg_mark_lost(c, seg);
		i = seg->next;
	}
}

void tcp_map_mark_lost_range(struct tcp_stack *ts, struct tcp_conn *c, uint32_t start, uint32_t end)
{
	for (uint32_t i = c->map_head; i;) {
		struct tcp_seg *seg = tcp_map_seg(ts, i);

		if (tcp_seq_geq(seg->start, end))
			break;
		if (tcp_seq_gt(seg->end, start) && !(seg->flags & (TCP_SEG_SACKED | TCP_SEG_LOST))) {
			if (tcp_seq_lt(seg->start, start) && tcp_seg_split(ts, c, seg, start)) {
				i = seg->next;
				continue;
			}
			if (tcp_seq_gt(seg->end, end))
				tcp_seg_split(ts, c, seg, end);
			tcp_seg_mark_lost(c, seg);
		}
		i = seg->next;
	}
}

/* One entry (or its acknowledged front) was delivered: rate sample and RACK state. */
static void tcp_seg_delivered(struct net_stack *ns, struct tcp_conn *c, const struct tcp_seg *seg, uint32_t bytes,
			      struct tcp_rate_sample *rs, uint64_t *newest_xmit)
{
	uint64_t now = ns->now_us;

	c->delivered += bytes;
	c->delivered_us = now;
	rs->acked_sacked += bytes;
	/* The rate sample comes from the most recently sent entry delivered by this ACK. */
	if (seg->xmit_us >= *newest_xmit) {
		uint64_t send_elapsed = seg->xmit_us - seg->first_tx_us;
		uint64_t ack_elapsed = now - seg->delivered_us;

		*newest_xmit = seg->xmit_us;
		rs->delivered = seg->delivered; /* prior delivered; made a difference below */
		rs->interval_us = send_elapsed > ack_elapsed ? send_elapsed : ack_elapsed;
		rs->app_limited = (seg->flags & TCP_SEG_APP_LIMITED) != 0;
		c->first_tx_us = seg->xmit_us;
	}
	/* RACK (RFC 8985 §6.1): remember the latest transmission known delivered. A
	 * retransmitted entry delivered faster than min_rtt was most likely the original. */
	if ((seg->flags & TCP_SEG_RETRANS) && c->min_rtt_us && now - seg->xmit_us < c->min_rtt_us)
		return;
	if (seg->xmit_us > c->rack_xmit_us ||
	    (seg->xmit_us == c->rack_xmit_us && tcp_seq_gt(seg->end, c->rack_end_seq))) {
		c->rack_xmit_us = seg->xmit_us;
		c->rack_end_seq = seg->end;
		c->rack_rtt_us = (uint32_t)(now - seg->xmit_us);
	}
	if (!(seg->flags & TCP_SEG_RETRANS)) {
		uint32_t rtt = (uint32_t)(now - seg->xmit_us);
		if (!rs->rtt_us || rtt < rs->rtt_us)
			rs->rtt_us = rtt; /* Karn: sampled only from entries sent once */
	}
}

/* SACK block [start, end) (already validated): marks the entries it covers. */
static void tcp_map_sack_block(struct net_stack *ns, struct tcp_conn *c, uint32_t start, uint32_t end,
			       struct tcp_rate_sample *rs, uint64_t *newest_xmit, uint32_t *highest_sacked)
{
	struct tcp_stack *ts = ns->tcp;

	for (uint32_t i = c->map_head; i;) {
		struct tcp_seg *seg = tcp_map_seg(ts, i);

		if (tcp_seq_geq(seg->start, end))
			break;
		if (tcp_seq_leq(seg->end, start) || (seg->flags & TCP_SEG_SACKED)) {
			i = seg->next;
			continue;
		}
		/* Make the entry lie inside the block. */
		if (tcp_seq_lt(seg->start, start)) {
			if (!tcp_seg_split(ts, c, seg, start)) {
				i = seg->next; /* cannot separate the SACKed part: leave it unSACKed */
				continue;
			}
			i = seg->next;
			continue;
		}
		if (tcp_seq_gt(seg->end, end) && !tcp_seg_split(ts, c, seg, end))
			break;
		if (seg->flags & TCP_SEG_LOST) {
			seg->flags &= (uint8_t)~TCP_SEG_LOST;
			c->lost_bytes -= seg->end - seg->start;
		}
		seg->flags |= TCP_SEG_SACKED;
		c->sacked_bytes += seg->end - seg->start;
		if (tcp_seq_gt(seg->end, *highest_sacked))
			*highest_sacked = seg->end;
		tcp_seg_delivered(ns, c, seg, seg->end - seg->start, rs, newest_xmit);
		i = seg->next;
	}
}

uint32_t tcp_map_ack(struct net_stack *ns, struct tcp_conn *c, const struct tcp_segment *in, struct tcp_rate_sample *rs)
{
	struct tcp_stack *ts = ns->tcp;
	uint32_t ack = in->ack, highest_sacked = c->snd_una, prior_highest_sacked;
	uint64_t newest_xmit = 0;
	bool filled_hole = false;

	memset(rs, 0, sizeof(*rs));
	rs->prior_in_flight = tcp_in_flight(c);
	/* Highest SACKed sequence before this ACK: a cumulative ACK that covers a never
	 * resent hole below it shows reordering. */
	for (uint32_t i = c->map_head; i;) {
		struct tcp_seg *seg = tcp_map_seg(ts, i);
		if (seg->flags & TCP_SEG_SACKED)
			highest_sacked = seg->end;
		i = seg->next;
	}
	prior_highest_sacked = highest_sacked;
	/* SACK blocks first (RFC 2018): they may cover what the cumulative ACK then frees. */
	if (c->flags & TCP_CONN_SACK) {
		for (uint32_t b = 0; b < in->sack_count; b++) {
			uint32_t start = in->sack[b][0], end = in->sack[b][1];

			if (!tcp_seq_lt(start, end) || tcp_seq_gt(end, c->snd_max))
				continue; /* malformed, or beyond what we sent */
			if (tcp_seq_leq(end, ack) || tcp_seq_leq(end, c->snd_una)) {
				/* D-SACK (RFC 2883): a duplicate was received; our retransmission was
				 * unnecessary or the network reorders: widen RACK's window. */
				COUNTER_INC(&ns->counters, tcp_dsack_received);
				c->flags |= TCP_CONN_REORDERING;
				if (c->reo_wnd_mult < 16)
					c->reo_wnd_mult++;
				continue;
			}
			if (tcp_seq_lt(start, c->snd_una))
				start = c->snd_una;
			tcp_map_sack_block(ns, c, start, end, rs, &newest_xmit, &highest_sacked);
		}
	}
	/* Cumulative acknowledgement: free what it covers. */
	while (c->map_head) {
		struct tcp_seg *seg = tcp_map_seg(ts, c->map_head);
		uint32_t len;

		if (tcp_seq_leq(seg->end, ack)) {
			len = seg->end - seg->start;
			if (seg->flags & TCP_SEG_SACKED) {
				c->sacked_bytes -= len;
			} else {
				if (seg->flags & TCP_SEG_LOST)
					c->lost_bytes -= len;
				else if (!(seg->flags & TCP_SEG_RETRANS) && tcp_seq_lt(seg->end, prior_highest_sacked))
					filled_hole = true; /* delivered after data above it: reordering */
				tcp_seg_delivered(ns, c, seg, len, rs, &newest_xmit);
			}
			c->map_head = seg->next;
			if (!c->map_head)
				c->map_tail = 0;
			tcp_seg_release(ts, seg);
			continue;
		}
		if (tcp_seq_lt(seg->start, ack)) {
			/* Front of an entry acknowledged. */
			len = ack - seg->start;
			if (seg->flags & TCP_SEG_SACKED) {
				c->sacked_bytes -= len;
			} else {
				if (seg->flags & TCP_SEG_LOST)
					c->lost_bytes -= len;
				tcp_seg_delivered(ns, c, seg, len, rs, &newest_xmit);
			}
			seg->start = ack;
		}
		break;
	}
	if (filled_hole)
		c->flags |= TCP_CONN_REORDERING;
	if (rs->interval_us) {
		rs->delivered = c->delivered - rs->delivered;
		/* An interval shorter than min_rtt is an ACK compression artefact (draft §3.3). */
		if (c->min_rtt_us && rs->interval_us < c->min_rtt_us)
			rs->interval_us = 0;
	}
	return rs->acked_sacked;
}

uint32_t tcp_rack_detect_loss(struct net_stack *ns, struct tcp_conn *c, uint64_t *reorder_timeout_us)
{
	struct tcp_stack *ts = ns->tcp;
	uint64_t now = ns->now_us, timeout = 0;
	uint32_t reo_wnd = 0, lost = 0;

	*reorder_timeout_us = 0;
	if (!c->rack_xmit_us)
		return 0;
	/* RFC 8985 §6.2: no window while no reordering was seen and we are recovering (or
	 * three segments were SACKed above the hole); else min_rtt/4 per step, at most SRTT. */
	if ((c->flags & TCP_CONN_REORDERING) ||
	    !((c->flags & (TCP_CONN_IN_RECOVERY | TCP_CONN_IN_LOSS)) || c->sacked_bytes >= 3u * c->mss)) {
		reo_wnd = c->min_rtt_us / 4 * (c->reo_wnd_mult ? c->reo_wnd_mult : 1);
		if (c->srtt_us && reo_wnd > c->srtt_us)
			reo_wnd = c->srtt_us;
	}
	for (uint32_t i = c->map_head; i;) {
		struct tcp_seg *seg = tcp_map_seg(ts, i);
		int64_t remaining;

		i = seg->next;
		if (seg->flags & (TCP_SEG_SACKED | TCP_SEG_LOST))
			continue;
		/* Only transmissions older than the latest delivered one can be judged. */
		if (seg->xmit_us > c->rack_xmit_us ||
		    (seg->xmit_us == c->rack_xmit_us && tcp_seq_geq(seg->end, c->rack_end_seq)))
			continue;
		remaining = (int64_t)(seg->xmit_us + c->rack_rtt_us + reo_wnd) - (int64_t)now;
		if (remaining <= 0) {
			tcp_seg_mark_lost(c, seg);
			lost += seg->end - seg->start;
		} else if ((uint64_t)remaining > timeout) {
			timeout = (uint64_t)remaining;
		}
	}
	*reorder_timeout_us = timeout;
	return lost;
}
