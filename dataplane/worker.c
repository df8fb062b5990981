/* SPDX-License-Identifier: BSD-3-Clause
 *
 * worker.c: the worker lcore loop and the DPDK side of netio (see worker.h). Hot path: no
 * system calls, no locks, no allocation beyond the queue's mbuf pool.
 *
 * TX: frames are collected in tx_pending and handed to the PMD once per iteration (or when
 * the array fills). Whatever the PMD does not take stays pending for the next iteration; while
 * the array is full, tx_room() is 0 and TCP holds its data back (it never drops a segment it
 * built). Payload: produced by the stream source straight into the mbuf data (one pass; on
 * af_xdp that mbuf is the UMEM frame the kernel reads), for a whole burst in one call when the
 * application has stream_produce_iov. TCP always sends bursts of up to ~64 KB: with TSO the
 * payload spans a chain of mbufs and the port segments it; without TSO for the family
 * (af_xdp; IPv6 on tap) the burst is cut into one frame per MSS here (software segmentation).
 */
#include "worker.h"

#include <errno.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <string.h>

#include "http/http_server.h"
#include "net/net_csum.h"
#include "stats.h"
#include "store/catalog.h"
#include "tcp/tcp.h"
#include "tls/tls_app.h"

static struct worker *worker_of(struct net_stack *ns)
{
	return (struct worker *)(void *)ns; /* ns is the first member */
}

static void worker_flush(struct worker *w)
{
	uint16_t sent;
	uint64_t bytes = 0;

	if (!w->tx_count)
		return;
	sent = rte_eth_tx_burst(w->port_id, w->queue_id, w->tx_pending, (uint16_t)w->tx_count);
	for (uint16_t i = 0; i < sent; i++)
		bytes += w->tx_pending[i]->pkt_len;
	COUNTER_ADD(&w->ns.counters, tx_packets, sent);
	COUNTER_ADD(&w->ns.counters, tx_bytes, bytes);
	if (sent < w->tx_count) {
		COUNTER_INC(&w->ns.counters, tx_queue_full);
		memmove(w->tx_pending, w->tx_pending + sent, (w->tx_count - sent) * sizeof(w->tx_pending[0]));
	}
	w->tx_count -= sent;
	/* A packet the port refuses forever (a PMD's limits) would block the queue behind it:
	 * after 10 ms without any progress the head packet is dropped and counted; TCP
	 * retransmits what it carried. */
	if (sent) {
		w->tx_stalled_since = 0;
	} else if (w->tx_count) {
		uint64_t now = rte_rdtsc();

		if (!w->tx_stalled_since) {
			w->tx_stalled_since = now;
		} else if (now - w->tx_stalled_since > w->tsc_hz / 100) {
			COUNTER_INC(&w->ns.counters, tx_dropped_packets);
			rte_pktmbuf_free(w->tx_pending[0]);
			memmove(w->tx_pending, w->tx_pending + 1, (w->tx_count - 1) * sizeof(w->tx_pending[0]));
			w->tx_count--;
			w->tx_stalled_since = now;
		}
	}
}

static void worker_queue(struct worker *w, struct rte_mbuf *m)
{
	if (w->tx_count == WORKER_TX_PENDING)
		worker_flush(w);
	if (w->tx_count == WORKER_TX_PENDING) {
		COUNTER_INC(&w->ns.counters, tx_dropped_packets);
		rte_pktmbuf_free(m);
		return;
	}
	w->tx_pending[w->tx_count++] = m;
}

/*
 * af_xdp in copy mode (a veth, kernel NICs without zero copy) transmits what the PMD put in
 * the socket's TX ring only when the PMD kicks the kernel (sendto), which DPDK 22.11 does at the
 * end of each tx_burst. The kernel sends as much as the socket's send budget allows (each skb
 * stays charged to the socket until the receiver frees it) and leaves the rest in the ring.
 * With nothing new to send, nothing kicks again until TCP's retransmission timer fires, and
 * several connections at once stall on their own ACK clock (seen on the lab veth from four
 * parallel downloads on). So for a while after the last transmission an idle iteration kicks
 * the ring with a burst of zero packets, at most once per kick period; for other PMDs that is
 * a no-op.
 */
#define WORKER_TX_KICK_WINDOW_US 200000 /* after the last frame queued */
#define WORKER_TX_KICK_PERIOD_US 50

static void worker_tx_kick(struct worker *w, uint64_t now_tsc)
{
	if (now_tsc - w->last_tx_tsc > w->tsc_per_us * WORKER_TX_KICK_WINDOW_US || now_tsc < w->next_kick_tsc)
		return;
	w->next_kick_tsc = now_tsc + w->tsc_per_us * WORKER_TX_KICK_PERIOD_US;
	(void)rte_eth_tx_burst(w->port_id, w->queue_id, w->tx_pending, 0);
	COUNTER_INC(&w->ns.counters, tx_kicks);
}

static uint8_t *worker_frame_alloc(struct net_stack *ns, void **frame, uint32_t len)
{
	struct worker *w = worker_of(ns);
	struct rte_mbuf *m = rte_pktmbuf_alloc(w->pool);

	if (!m) {
		COUNTER_INC(&ns->counters, mbuf_alloc_failed);
		return NULL;
	}
	if (rte_pktmbuf_tailroom(m) < len) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	*frame = m;
	return rte_pktmbuf_mtod(m, uint8_t *);
}

static void worker_frame_send(struct net_stack *ns, void *frame, uint32_t len)
{
	struct rte_mbuf *m = frame;

	m->data_len = (uint16_t)len;
	m->pkt_len = len;
	m->nb_segs = 1;
	m->next = NULL;
	m->ol_flags = 0;
	worker_queue(worker_of(ns), m);
}

static void worker_frame_free(struct net_stack *ns, void *frame)
{
	(void)ns;
	rte_pktmbuf_free(frame);
}

static uint32_t worker_tx_room(struct net_stack *ns)
{
	struct worker *w = worker_of(ns);

	return WORKER_TX_PENDING - w->tx_count;
}

/* TCP checksum in software over the header (in the first mbuf) and the payload chain. */
static void worker_tcp_checksum_sw(const struct net_tcp_tx *tx, struct rte_mbuf *m, uint32_t payload_len)
{
	uint8_t *base = rte_pktmbuf_mtod(m, uint8_t *);
	struct tcp_header *th = (struct tcp_header *)(base + tx->l2_len + tx->l3_len);
	uint32_t l4_len = tx->l4_len + payload_len;
	uint64_t sum;
	size_t offset;

	if (tx->ipv6) {
		const struct ipv6_header *ip6 = (const struct ipv6_header *)(base + tx->l2_len);
		sum = net_csum_pseudo_v6(ip6->src, ip6->dst, IP_PROTO_TCP, l4_len);
	} else {
		const struct ipv4_header *ip = (const struct ipv4_header *)(base + tx->l2_len);
		sum = net_csum_pseudo_v4(ip->src, ip->dst, IP_PROTO_TCP, l4_len);
	}
	th->checksum = 0;
	/* First mbuf: TCP header and the payload that follows it. */
	offset = m->data_len - (size_t)(tx->l2_len + tx->l3_len);
	sum = net_csum_partial(th, offset, sum);
	for (struct rte_mbuf *seg = m->next; seg; seg = seg->next) {
		sum = net_csum_add_at(sum, net_csum_partial(rte_pktmbuf_mtod(seg, void *), seg->data_len, 0), offset);
		offset += seg->data_len;
	}
	net_store_be16(&th->checksum, net_csum_fold(sum));
}

/* Checksums of a packet whose headers are final: offloaded where the port can, else here. */
static void worker_tcp_finish(struct net_stack *ns, const struct net_tcp_tx *tx, struct rte_mbuf *head,
			      uint32_t payload_len, uint16_t tso_segment_size)
{
	uint8_t *p = rte_pktmbuf_mtod(head, uint8_t *);

	head->l2_len = tx->l2_len;
	head->l3_len = tx->l3_len;
	head->l4_len = tx->l4_len;
	head->ol_flags = 0;
	if (ns->tx_offloads & NET_TX_OFFLOAD_TCP_CKSUM) {
		struct tcp_header *th = (struct tcp_header *)(p + tx->l2_len + tx->l3_len);
		void *l3 = p + tx->l2_len;

		head->ol_flags = RTE_MBUF_F_TX_TCP_CKSUM | (tx->ipv6 ? RTE_MBUF_F_TX_IPV6 : RTE_MBUF_F_TX_IPV4);
		if (!tx->ipv6 && (ns->tx_offloads & NET_TX_OFFLOAD_IPV4_CKSUM)) {
			head->ol_flags |= RTE_MBUF_F_TX_IP_CKSUM;
			((struct ipv4_header *)l3)->checksum = 0;
		}
		if (tso_segment_size) {
			head->ol_flags |= RTE_MBUF_F_TX_TCP_SEG;
			head->tso_segsz = tso_segment_size;
		}
		th->checksum = tx->ipv6 ? rte_ipv6_phdr_cksum(l3, head->ol_flags) : rte_ipv4_phdr_cksum(l3, head->ol_flags);
	} else {
		worker_tcp_checksum_sw(tx, head, payload_len);
	}
}

/* The payload for the data areas `dst`: one call for the whole burst when the application can
 * produce into a scatter list (TLS: each record sealed once), else one call per buffer. */
static int worker_produce(struct net_stack *ns, const struct tcp_app_ops *app, struct tcp_conn *c, uint64_t offset,
			  const struct iovec *dst, unsigned count)
{
	int rc = 0;

	if (app->stream_produce_iov)
		return app->stream_produce_iov(ns, c, offset, dst, count);
	for (unsigned i = 0; i < count && rc == 0; i++) {
		rc = app->stream_produce(ns, c, offset, (uint32_t)dst[i].iov_len, dst[i].iov_base);
		offset += dst[i].iov_len;
	}
	return rc;
}

/*
 * Segmentation in software, for bursts on a port without TSO for this family (af_xdp, or
 * IPv6 on tap): TCP hands over up to ~64 KB as on a TSO port, and the burst becomes one
 * single-mbuf frame per segment here, each with its own headers (sequence number, IP length
 * and id, PSH on the last one) and checksums. The payload of all of them is produced in one
 * call. This is what lets the TLS record layer seal a whole burst in one pass on af_xdp.
 */
static int worker_tcp_send_segmented(struct worker *w, const struct net_tcp_tx *tx, const struct tcp_app_ops *app)
{
	struct net_stack *ns = &w->ns;
	uint32_t mss = tx->tso_segment_size, count = (tx->payload_len + mss - 1) / mss;
	struct rte_mbuf *m[WORKER_SEGMENTS_MAX];
	struct iovec dst[WORKER_SEGMENTS_MAX];
	const struct tcp_header *template_th = (const struct tcp_header *)(tx->hdr + tx->l2_len + tx->l3_len);
	uint32_t seq = rte_be_to_cpu_32(template_th->seq);
	int rc;

	if (count > WORKER_SEGMENTS_MAX || mss + tx->hdr_len > (uint32_t)rte_pktmbuf_data_room_size(w->pool) -
							      RTE_PKTMBUF_HEADROOM)
		return -EMSGSIZE;
	if (count > WORKER_TX_PENDING - w->tx_count)
		return -ENOBUFS;
	if (rte_pktmbuf_alloc_bulk(w->pool, m, count)) {
		COUNTER_INC(&ns->counters, mbuf_alloc_failed);
		return -ENOBUFS;
	}
	for (uint32_t k = 0; k < count; k++) {
		uint32_t len = k + 1 < count ? mss : tx->payload_len - k * mss;
		uint8_t *p = rte_pktmbuf_mtod(m[k], uint8_t *);

		memcpy(p, tx->hdr, tx->hdr_len);
		dst[k] = (struct iovec){p + tx->hdr_len, len};
		m[k]->data_len = (uint16_t)(tx->hdr_len + len);
		m[k]->pkt_len = m[k]->data_len;
	}
	rc = worker_produce(ns, app, tx->conn, tx->stream_offset, dst, count);
	if (rc < 0) {
		rte_pktmbuf_free_bulk(m, count);
		return rc;
	}
	for (uint32_t k = 0; k < count; k++) {
		uint8_t *p = rte_pktmbuf_mtod(m[k], uint8_t *);
		struct tcp_header *th = (struct tcp_header *)(p + tx->l2_len + tx->l3_len);
		uint32_t len = (uint32_t)dst[k].iov_len;

		th->seq = rte_cpu_to_be_32(seq + k * mss);
		if (k + 1 < count)
			th->flags &= (uint8_t)~(TCP_FLAG_PSH | TCP_FLAG_FIN);
		if (tx->ipv6) {
			struct ipv6_header *ip6 = (struct ipv6_header *)(p + tx->l2_len);

			ip6->payload_length = rte_cpu_to_be_16((uint16_t)(tx->l4_len + len));
		} else {
			struct ipv4_header *ip = (struct ipv4_header *)(p + tx->l2_len);

			ip->total_length = rte_cpu_to_be_16((uint16_t)(tx->l3_len + tx->l4_len + len));
			ip->id = rte_cpu_to_be_16((uint16_t)(rte_be_to_cpu_16(ip->id) + k));
			ip->checksum = 0;
			if (!(ns->tx_offloads & NET_TX_OFFLOAD_IPV4_CKSUM))
				net_store_be16(&ip->checksum, net_csum_fold(net_csum_partial(ip, sizeof(*ip), 0)));
		}
		worker_tcp_finish(ns, tx, m[k], len, 0);
		w->tx_pending[w->tx_count++] = m[k];
	}
	/* TCP numbered one IP id for the burst: the others are taken now. */
	if (!tx->ipv6)
		ns->ipv4_next_id = (uint16_t)(ns->ipv4_next_id + count - 1);
	COUNTER_ADD(&ns->counters, tx_segmented_packets, count);
	return 0;
}

static int worker_tcp_send(struct net_stack *ns, const struct net_tcp_tx *tx)
{
	struct worker *w = worker_of(ns);
	const struct tcp_app_ops *app = ns->tcp->listeners[tx->conn->listener].app;
	uint64_t hardware_tso = tx->ipv6 ? NET_TX_OFFLOAD_TCP_TSO6 : NET_TX_OFFLOAD_TCP_TSO;
	struct rte_mbuf *head, *last;
	struct iovec dst[WORKER_SEGMENTS_MAX];
	uint32_t remaining = tx->payload_len, chunk;
	unsigned count = 0;
	uint8_t *p;
	int rc;

	if (tx->tso_segment_size && !(w->port_tx_offloads & hardware_tso))
		return worker_tcp_send_segmented(w, tx, app);
	if (w->tx_count == WORKER_TX_PENDING)
		return -ENOBUFS;
	head = rte_pktmbuf_alloc(w->pool);
	if (!head) {
		COUNTER_INC(&ns->counters, mbuf_alloc_failed);
		return -ENOBUFS;
	}
	p = rte_pktmbuf_mtod(head, uint8_t *);
	memcpy(p, tx->hdr, tx->hdr_len);
	chunk = SLUICE_MIN(remaining, (uint32_t)rte_pktmbuf_tailroom(head) - tx->hdr_len);
	dst[count++] = (struct iovec){p + tx->hdr_len, chunk};
	head->data_len = (uint16_t)(tx->hdr_len + chunk);
	head->pkt_len = tx->hdr_len + tx->payload_len;
	head->nb_segs = 1;
	remaining -= chunk;
	last = head;
	/* A TSO chain: every mbuf first, then the payload of all of them in one go. */
	while (remaining) {
		struct rte_mbuf *seg;

		if (head->nb_segs >= w->tx_segments_max || count == WORKER_SEGMENTS_MAX) {
			rc = -EMSGSIZE; /* TCP asked for more than the port can take in one packet */
			goto fail;
		}
		seg = rte_pktmbuf_alloc(w->pool);
		if (!seg) {
			COUNTER_INC(&ns->counters, mbuf_alloc_failed);
			rc = -ENOBUFS;
			goto fail;
		}
		chunk = SLUICE_MIN(remaining, (uint32_t)rte_pktmbuf_tailroom(seg));
		dst[count++] = (struct iovec){rte_pktmbuf_mtod(seg, uint8_t *), chunk};
		seg->data_len = (uint16_t)chunk;
		last->next = seg;
		last = seg;
		head->nb_segs++;
		remaining -= chunk;
	}
	rc = worker_produce(ns, app, tx->conn, tx->stream_offset, dst, count);
	if (rc < 0)
		goto fail;
	worker_tcp_finish(ns, tx, head, tx->payload_len, tx->tso_segment_size);
	worker_queue(w, head);
	return 0;
fail:
	rte_pktmbuf_free(head);
	return rc;
}

const struct netio_ops worker_netio = {
	.frame_alloc = worker_frame_alloc,
	.frame_send = worker_frame_send,
	.frame_free = worker_frame_free,
	.tcp_send = worker_tcp_send,
	.tx_room = worker_tx_room,
};

/* Applies the main thread's command between packets. */
static void worker_apply_command(struct worker *w)
{
	struct worker_mailbox *mb = &w->mailbox;
	uint64_t posted = __atomic_load_n(&mb->posted, __ATOMIC_ACQUIRE);
	int32_t result = 0;

	switch (mb->type) {
	case WORKER_CMD_CATALOG:
		result = http_server_set_catalog(w->http, mb->catalog);
		if (!result)
			w->ns.counters.value[DPC_catalog_version] = mb->catalog->version;
		break;
	case WORKER_CMD_ADMISSION:
		w->ns.tcp->refuse_new = mb->admission != 0;
		w->ns.counters.value[DPC_admission_state] = mb->admission;
		break;
	case WORKER_CMD_HTTP_SETTINGS:
		http_server_set_settings(w->http, mb->object);
		break;
	case WORKER_CMD_SIGN_KEYS:
		http_server_set_sign_keys(w->http, mb->object);
		break;
	default:
		result = -EOPNOTSUPP;
		break;
	}
	COUNTER_INC(&w->ns.counters, commands_applied);
	mb->result = result;
	__atomic_store_n(&mb->applied, posted, __ATOMIC_RELEASE);
	/* Publish at once so the control plane sees the new state with the reply. */
	stats_publish(w->stats, &w->ns.counters, rte_rdtsc());
}

static uint64_t worker_now_us(const struct worker *w, uint64_t tsc)
{
	return (tsc - w->tsc_base) / w->tsc_per_us + 1; /* never 0: 0 means "unset" in deadlines */
}

int worker_main(void *arg)
{
	struct worker *w = arg;
	struct net_stack *ns = &w->ns;
	struct rte_mbuf *rx[WORKER_RX_BURST];

	w->next_publish_tsc = rte_rdtsc();
	while (!*w->quit) {
		uint64_t start = rte_rdtsc(), end;
		uint16_t n;
		bool busy;

		ns->now_us = worker_now_us(w, start);
		tcp_timers_run(ns);
		if (unlikely(w->mailbox.posted != w->mailbox.applied))
			worker_apply_command(w);
		http_server_poll(w->http, ns);
		/* Drain the RX ring (up to WORKER_RX_DRAIN_BURSTS full bursts): one iteration may send
		 * hundreds of segments, and the ACKs, requests and SYNs they provoke must not overflow
		 * the ring while the lcore sends (perf/results/experiments: kernel drops at the XDP
		 * redirect fell from 272k to 0 and the p99 TTFB from 1 s to 20 ms). */
		n = 0;
		for (uint32_t b = 0; b < WORKER_RX_DRAIN_BURSTS; b++) {
			uint16_t got = rte_eth_rx_burst(w->port_id, w->queue_id, rx, WORKER_RX_BURST);

			for (uint16_t i = 0; i < got; i++) {
				struct rte_mbuf *m = rx[i];

				if (unlikely(m->nb_segs != 1)) {
					COUNTER_INC(&ns->counters, rx_drop_runt);
					rte_pktmbuf_free(m);
					continue;
				}
				net_input(ns, m, rte_pktmbuf_mtod(m, uint8_t *), m->data_len);
			}
			n = (uint16_t)(n + got);
			if (got < WORKER_RX_BURST)
				break;
			if (w->tx_count >= WORKER_TX_PENDING / 2)
				worker_flush(w); /* replies to what came in keep room for the next burst */
		}
		busy = n || w->tx_count;
		if (w->tls && tls_app_poll(w->tls, ns)) /* + ticket key ring quiescent state */
			busy = true;
		tcp_output_run(ns);
		busy = busy || w->tx_count;
		if (w->tx_count) {
			w->last_tx_tsc = start;
			worker_flush(w);
		} else {
			worker_tx_kick(w, start);
		}
		end = rte_rdtsc();
		COUNTER_INC(&ns->counters, loop_iterations);
		if (busy)
			COUNTER_ADD(&ns->counters, busy_cycles, end - start);
		else
			COUNTER_ADD(&ns->counters, idle_cycles, end - start);
		if (end >= w->next_publish_tsc) {
			http_server_tick(w->http, ns);
			stats_publish(w->stats, &ns->counters, end);
			w->next_publish_tsc = end + w->publish_period_tsc;
		}
	}
	/* Stopping: reset every connection so players fail over at once, and send it out. */
	ns->now_us = worker_now_us(w, rte_rdtsc());
	tcp_abort_all(ns);
	for (int i = 0; i < 100 && w->tx_count; i++)
		worker_flush(w);
	if (w->tls)
		tls_app_stop(w->tls); /* ticket key rotations no longer wait for this lcore */
	stats_publish(w->stats, &ns->counters, rte_rdtsc());
	return 0;
}
