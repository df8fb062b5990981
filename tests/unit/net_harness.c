/* SPDX-License-Identifier: BSD-3-Clause
 *
 * net_harness.c: the DPDK-free driver of the network stack for unit tests (net_harness.h).
 */
#include "net_harness.h"

#include <CUnit/CUnit.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "net/neigh.h"
#include "net/net_csum.h"
#include "test_guard.h"

static const uint8_t harness_server_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};

static struct harness *harness_of(struct net_stack *ns) { return ns->io_ctx; }

static uint8_t *harness_frame_alloc(struct net_stack *ns, void **frame, uint32_t len)
{
	uint8_t *buf;

	(void)ns;
	if (len > HARNESS_FRAME_MAX)
		return NULL;
	buf = calloc(1, HARNESS_FRAME_MAX);
	*frame = buf;
	return buf;
}

static void harness_capture(struct harness *h, uint8_t *buf, uint32_t len)
{
	if (h->tx_count == HARNESS_FRAMES_MAX) {
		free(buf);
		return;
	}
	h->tx[h->tx_count].data = buf;
	h->tx[h->tx_count].len = len;
	h->tx_count++;
	if (h->tx_room)
		h->tx_room--;
	COUNTER_INC(&h->ns.counters, tx_packets);
}

static void harness_frame_send(struct net_stack *ns, void *frame, uint32_t len)
{
	struct harness *h = harness_of(ns);

	if (frame && frame == h->inject_token) {
		/* A reply built in place in a guarded frame: capture a copy. */
		uint8_t *copy = calloc(1, HARNESS_FRAME_MAX);
		memcpy(copy, h->inject_data, len);
		h->inject_token = NULL;
		harness_capture(h, copy, len);
		return;
	}
	harness_capture(h, frame, len);
}

static void harness_frame_free(struct net_stack *ns, void *frame)
{
	struct harness *h = harness_of(ns);

	if (frame && frame == h->inject_token) {
		h->inject_token = NULL;
		return;
	}
	free(frame);
}

static int harness_tcp_send(struct net_stack *ns, const struct net_tcp_tx *tx)
{
	struct harness *h = harness_of(ns);
	const struct tcp_app_ops *app = ns->tcp->listeners[tx->conn->listener].app;
	uint8_t *buf;
	uint64_t sum;
	struct tcp_header *th;
	int rc;

	if (!h->tx_room)
		return -ENOBUFS;
	buf = calloc(1, HARNESS_FRAME_MAX);
	memcpy(buf, tx->hdr, tx->hdr_len);
	rc = 0;
	if (h->produce_iov && h->produce_piece && app->stream_produce_iov) {
		struct iovec pieces[HARNESS_FRAME_MAX / 256];
		unsigned count = 0;

		for (uint32_t done = 0; done < tx->payload_len && count < ARRAY_SIZE(pieces); count++) {
			uint32_t n = SLUICE_MIN(tx->payload_len - done, h->produce_piece);

			pieces[count] = (struct iovec){buf + tx->hdr_len + done, n};
			done += n;
		}
		rc = app->stream_produce_iov(ns, tx->conn, tx->stream_offset, pieces, count);
	}
	for (uint32_t done = h->produce_iov && h->produce_piece && app->stream_produce_iov ? tx->payload_len : 0;
	     done < tx->payload_len && rc == 0;) {
		uint32_t n = tx->payload_len - done;

		if (h->produce_piece && n > h->produce_piece)
			n = h->produce_piece;
		rc = app->stream_produce(ns, tx->conn, tx->stream_offset + done, n, buf + tx->hdr_len + done);
		done += n;
	}
	if (rc < 0) {
		free(buf);
		return rc;
	}
	/* A harness "port" without offloads: full software checksum, as on af_xdp. */
	th = (struct tcp_header *)(buf + tx->l2_len + tx->l3_len);
	{
		uint32_t l4_len = tx->l4_len + tx->payload_len;

		if (tx->ipv6) {
			const struct ipv6_header *ip6 = (const struct ipv6_header *)(buf + tx->l2_len);
			sum = net_csum_pseudo_v6(ip6->src, ip6->dst, IP_PROTO_TCP, l4_len);
		} else {
			const struct ipv4_header *ip = (const struct ipv4_header *)(buf + tx->l2_len);
			sum = net_csum_pseudo_v4(ip->src, ip->dst, IP_PROTO_TCP, l4_len);
		}
		th->checksum = 0;
		net_store_be16(&th->checksum, net_csum_fold(net_csum_partial(th, l4_len, sum)));
	}
	harness_capture(h, buf, tx->hdr_len + tx->payload_len);
	return 0;
}

static uint32_t harness_tx_room(struct net_stack *ns)
{
	return harness_of(ns)->tx_room;
}

static const struct netio_ops harness_netio = {
	.frame_alloc = harness_frame_alloc,
	.frame_send = harness_frame_send,
	.frame_free = harness_frame_free,
	.tcp_send = harness_tcp_send,
	.tx_room = harness_tx_room,
};

/* --- the test application --------------------------------------------------------------- */

static struct harness_app *app_of(struct tcp_conn *c) { return tcp_conn_app(c); }

static int happ_accepted(struct net_stack *ns, struct tcp_conn *c)
{
	struct harness_app *a = app_of(c);

	(void)ns;
	memset(a, 0, sizeof(*a));
	a->accepted = true;
	a->released_reason = -1;
	return 0;
}

static uint32_t happ_received(struct net_stack *ns, struct tcp_conn *c, const uint8_t *data, uint32_t len)
{
	struct harness_app *a = app_of(c);
	uint32_t space = a->receive_space ? a->receive_space : 65535;

	(void)ns, (void)data;
	if (len > space)
		len = space;
	a->received += len;
	return len;
}

static uint32_t happ_receive_space(struct net_stack *ns, const struct tcp_conn *c)
{
	const struct harness_app *a = tcp_conn_app_const(c);

	(void)ns;
	if (c->state == TCP_SYN_RECEIVED)
		return 65535;
	return a->receive_space ? a->receive_space : 65535;
}

static void happ_acked(struct net_stack *ns, struct tcp_conn *c, uint64_t offset)
{
	(void)ns;
	app_of(c)->acked = offset;
}

static void happ_peer_closed(struct net_stack *ns, struct tcp_conn *c)
{
	struct harness_app *a = app_of(c);

	a->peer_closed = true;
	if (a->close_on_peer_fin)
		tcp_send_close(ns, c);
}

static void happ_timeout(struct net_stack *ns, struct tcp_conn *c)
{
	tcp_abort(ns, c);
}

static void happ_released(struct net_stack *ns, struct tcp_conn *c, enum tcp_close_reason reason)
{
	struct harness *h = harness_of(ns);

	app_of(c)->released_reason = (int)reason;
	h->released_count++;
	h->last_released_reason = (int)reason;
}

static int happ_stream_produce(struct net_stack *ns, struct tcp_conn *c, uint64_t offset, uint32_t len, uint8_t *dst)
{
	(void)ns;
	if (app_of(c)->fail_source)
		return -EIO;
	CU_ASSERT(offset + len <= c->stream_end);
	for (uint32_t i = 0; i < len; i++)
		dst[i] = harness_pattern(offset + i);
	return 0;
}

const struct tcp_app_ops harness_app_ops = {
	.accepted = happ_accepted,
	.received = happ_received,
	.receive_space = happ_receive_space,
	.acked = happ_acked,
	.peer_closed = happ_peer_closed,
	.timeout = happ_timeout,
	.released = happ_released,
	.stream_produce = happ_stream_produce,
};

/* --- setup --------------------------------------------------------------------------------- */

void harness_init(struct harness *h, uint32_t max_connections)
{
	harness_init_app(h, max_connections, sizeof(struct harness_app), 80, &harness_app_ops, NULL);
}

void harness_init_app(struct harness *h, uint32_t max_connections, uint32_t app_size, uint16_t port,
		      const struct tcp_app_ops *app, void *app_ctx)
{
	struct tcp_settings s = {
		.max_connections = max_connections,
		.app_size = app_size,
		.rto_min_us = 200000,
		.rto_max_us = 60000000,
		.rto_initial_us = 1000000,
		.syn_retries = 3,
		.data_retries = 5,
		.initial_cwnd_segments = 10,
		.fin_timeout_us = 30000000,
		.time_wait_us = 2000000,
		.keepalive_idle_us = 75000000,
		.keepalive_interval_us = 15000000,
		.keepalive_probes = 5,
		.delack_us = 40000,
		.syn_backlog = 1024,
		.pacing = false,
		.tlp = true,
		.timer_tick_us = 50,
		.output_burst_bytes = 256 * 1024,
		.secret = {0x0123456789abcdefULL, 0xfedcba9876543210ULL},
	};

	memset(h, 0, sizeof(*h));
	h->ns.io = &harness_netio;
	h->ns.io_ctx = h;
	memcpy(h->ns.mac, harness_server_mac, 6);
	h->ns.mtu = 1500;
	h->ns.ipv4 = htonl(0xc6120001);        /* 198.18.0.1 */
	h->ns.ipv4_netmask = htonl(0xffffff00);
	memcpy(h->ns.ipv6, (uint8_t[16]){0xfd, 0x5c, [15] = 0x01}, 16); /* fd5c::1 */
	h->ns.ipv6_prefix_len = 64;
	h->ns.ipv6_enabled = true;
	h->ns.now_us = 1000000;
	h->ns.neigh = neigh_table_create(64);
	h->ns.tcp = tcp_stack_create(&s);
	CU_ASSERT_PTR_NOT_NULL_FATAL(h->ns.neigh);
	CU_ASSERT_PTR_NOT_NULL_FATAL(h->ns.tcp);
	CU_ASSERT_EQUAL(tcp_listen(h->ns.tcp, port, app, tcp_cc_find("newreno"), app_ctx), 0);
	h->server_port = port;
	/* The wheel starts at the clock's tick on its first run, as in the worker loop, which
	 * runs timers before any packet: timers linked before that run would be skipped. */
	tcp_timers_run(&h->ns);
	h->tx_room = UINT32_MAX;
	memcpy(h->client_mac, (uint8_t[]){0x02, 0, 0, 0, 0, 0x02}, 6);
	h->client_ip = htonl(0xc6120002);      /* 198.18.0.2 */
	memcpy(h->client_ip6, (uint8_t[16]){0xfd, 0x5c, [15] = 0x02}, 16); /* fd5c::2 */
}

void harness_clear_tx(struct harness *h)
{
	for (uint32_t i = 0; i < h->tx_count; i++)
		free(h->tx[i].data);
	h->tx_count = 0;
}

void harness_fini(struct harness *h)
{
	tcp_stack_destroy(&h->ns, h->ns.tcp);
	neigh_table_free(h->ns.neigh);
	harness_clear_tx(h);
}

void harness_run_output(struct harness *h)
{
	tcp_output_run(&h->ns);
}

void harness_advance(struct harness *h, uint64_t us)
{
	h->ns.now_us += us;
	tcp_timers_run(&h->ns);
	tcp_output_run(&h->ns);
}

void harness_inject(struct harness *h, const uint8_t *frame, uint32_t len)
{
	/* The stack owns received buffers: give it a heap copy with room to answer in place. */
	uint8_t *buf = calloc(1, HARNESS_FRAME_MAX);

	memcpy(buf, frame, len);
	net_input(&h->ns, buf, buf, len);
	tcp_output_run(&h->ns);
}

void harness_inject_guarded(struct harness *h, const uint8_t *frame, uint32_t len)
{
	struct guard_buffer guard;
	uint8_t token;

	CU_ASSERT_EQUAL_FATAL(guard_buffer_place(&guard, frame, len), 0);
	h->inject_token = &token;
	h->inject_data = (uint8_t *)guard.data;
	net_input(&h->ns, &token, (uint8_t *)guard.data, len);
	CU_ASSERT_PTR_NULL(h->inject_token); /* consumed: sent or freed */
	h->inject_token = NULL;
	guard_buffer_release(&guard);
	tcp_output_run(&h->ns);
}

uint32_t harness_build_ipv6(struct harness *h, uint8_t *frame, const struct harness_ip6_spec *spec, const void *l4,
			    uint32_t l4_len)
{
	struct ether_header *eth = (struct ether_header *)frame;
	struct ipv6_header *ip6 = (struct ipv6_header *)(frame + ETHER_HDR_LEN);
	uint8_t *ext = (uint8_t *)(ip6 + 1);
	uint8_t *upper = ext + spec->ext_len;
	uint16_t csum;

	memcpy(eth->dst, spec->dst_mac ? spec->dst_mac : h->ns.mac, 6);
	memcpy(eth->src, h->client_mac, 6);
	eth->type = htons(ETHER_TYPE_IPV6);
	net_store_be32(&ip6->version_class_flow, 6u << 28);
	net_store_be16(&ip6->payload_length, (uint16_t)(spec->ext_len + l4_len));
	ip6->next_header = spec->ext_len ? spec->next_header : spec->upper;
	ip6->hop_limit = spec->hop_limit ? spec->hop_limit : 64;
	memcpy(ip6->src, spec->src ? spec->src : h->client_ip6, 16);
	memcpy(ip6->dst, spec->dst ? spec->dst : h->ns.ipv6, 16);
	if (spec->ext_len)
		memcpy(ext, spec->ext, spec->ext_len);
	memcpy(upper, l4, l4_len);
	if (spec->upper == IP_PROTO_ICMPV6 && l4_len >= 4) {
		upper[2] = upper[3] = 0;
		csum = net_csum_fold(net_csum_partial(upper, l4_len,
						      net_csum_pseudo_v6(ip6->src, ip6->dst, IP_PROTO_ICMPV6, l4_len)));
		net_store_be16(upper + 2, (uint16_t)(spec->bad_checksum ? csum ^ 0x5555 : csum));
	} else if (spec->upper == IP_PROTO_TCP && l4_len >= 20) {
		upper[16] = upper[17] = 0;
		csum = net_csum_fold(net_csum_partial(upper, l4_len,
						      net_csum_pseudo_v6(ip6->src, ip6->dst, IP_PROTO_TCP, l4_len)));
		net_store_be16(upper + 16, (uint16_t)(spec->bad_checksum ? csum ^ 0x5555 : csum));
	}
	return ETHER_HDR_LEN + (uint32_t)sizeof(*ip6) + spec->ext_len + l4_len;
}

bool harness_tx_ipv6(const struct harness *h, uint32_t i, struct harness_ip6_frame *out)
{
	memset(out, 0, sizeof(*out));
	if (i >= h->tx_count)
		return false;
	return harness_parse_ipv6(h->tx[i].data, h->tx[i].len, out);
}

bool harness_parse_ipv6(const uint8_t *f, uint32_t len, struct harness_ip6_frame *out)
{
	const struct ipv6_header *ip6 = (const struct ipv6_header *)(f + ETHER_HDR_LEN);

	memset(out, 0, sizeof(*out));
	if (len < ETHER_HDR_LEN + sizeof(*ip6) || net_load_be16(f + 12) != ETHER_TYPE_IPV6 ||
	    (net_load_be32(&ip6->version_class_flow) >> 28) != 6)
		return false;
	memcpy(out->eth_dst, f, 6);
	memcpy(out->eth_src, f + 6, 6);
	memcpy(out->src, ip6->src, 16);
	memcpy(out->dst, ip6->dst, 16);
	out->hop_limit = ip6->hop_limit;
	out->next_header = ip6->next_header;
	out->payload_len = net_load_be16(&ip6->payload_length);
	out->l4 = (const uint8_t *)(ip6 + 1);
	out->l4_len = len - ETHER_HDR_LEN - (uint32_t)sizeof(*ip6);
	out->checksum_ok = out->payload_len <= out->l4_len &&
			   (out->next_header == IP_PROTO_ICMPV6 || out->next_header == IP_PROTO_TCP) &&
			   net_csum_fold(net_csum_partial(out->l4, out->payload_len,
							  net_csum_pseudo_v6(ip6->src, ip6->dst, out->next_header,
									     out->payload_len))) == 0;
	return true;
}

uint32_t harness_build_tcp(struct harness *h, uint8_t *frame, uint16_t src_port, uint16_t dst_port, uint8_t flags,
			   uint32_t seq, uint32_t ack, uint16_t window, const struct harness_tcp_opts *opts,
			   const void *payload, uint32_t payload_len)
{
	struct ether_header *eth = (struct ether_header *)frame;
	struct ipv4_header *ip = (struct ipv4_header *)(frame + ETHER_HDR_LEN);
	struct tcp_header *th = (struct tcp_header *)(ip + 1);
	uint8_t *o = (uint8_t *)(th + 1);
	uint32_t olen = 0, tcp_len;

	if (h->client_v6) /* TCP header and options built where IPv6 puts them, then wrapped */
		th = (struct tcp_header *)(frame + ETHER_HDR_LEN + sizeof(struct ipv6_header));
	o = (uint8_t *)(th + 1);
	memcpy(eth->dst, h->ns.mac, 6);
	memcpy(eth->src, h->client_mac, 6);
	eth->type = htons(ETHER_TYPE_IPV4);
	if (opts) {
		if (opts->mss) {
			o[olen++] = TCP_OPT_MSS; o[olen++] = 4;
			net_store_be16(o + olen, opts->mss); olen += 2;
		}
		if (opts->wscale >= 0) {
			o[olen++] = TCP_OPT_NOP; o[olen++] = TCP_OPT_WSCALE; o[olen++] = 3; o[olen++] = (uint8_t)opts->wscale;
		}
		if (opts->sack_permitted) {
			o[olen++] = TCP_OPT_NOP; o[olen++] = TCP_OPT_NOP; o[olen++] = TCP_OPT_SACK_PERMITTED; o[olen++] = 2;
		}
		if (opts->timestamp) {
			o[olen++] = TCP_OPT_NOP; o[olen++] = TCP_OPT_NOP; o[olen++] = TCP_OPT_TIMESTAMP; o[olen++] = 10;
			net_store_be32(o + olen, opts->tsval); olen += 4;
			net_store_be32(o + olen, opts->tsecr); olen += 4;
		}
	}
	tcp_len = (uint32_t)sizeof(*th) + olen;
	if (h->client_v6) {
		struct harness_ip6_spec spec = {.upper = IP_PROTO_TCP};
		uint8_t *l4 = malloc(tcp_len + payload_len);
		uint32_t len;

		th->src_port = htons(src_port);
		th->dst_port = htons(dst_port);
		th->seq = htonl(seq);
		th->ack = htonl(ack);
		th->data_offset = (uint8_t)((tcp_len / 4) << 4);
		th->flags = flags;
		th->window = htons(window);
		th->checksum = 0;
		th->urgent = 0;
		memcpy(l4, th, tcp_len);
		if (payload_len)
			memcpy(l4 + tcp_len, payload, payload_len);
		len = harness_build_ipv6(h, frame, &spec, l4, tcp_len + payload_len);
		free(l4);
		return len;
	}
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = 0x45;
	ip->total_length = htons((uint16_t)(sizeof(*ip) + tcp_len + payload_len));
	ip->ttl = 64;
	ip->protocol = IP_PROTO_TCP;
	ip->src = h->client_ip;
	ip->dst = h->ns.ipv4;
	ip->fragment = htons(IPV4_FLAG_DF);
	net_store_be16(&ip->checksum, net_csum_fold(net_csum_partial(ip, sizeof(*ip), 0)));
	th->src_port = htons(src_port);
	th->dst_port = htons(dst_port);
	th->seq = htonl(seq);
	th->ack = htonl(ack);
	th->data_offset = (uint8_t)((tcp_len / 4) << 4);
	th->flags = flags;
	th->window = htons(window);
	th->checksum = 0;
	th->urgent = 0;
	if (payload_len)
		memcpy((uint8_t *)th + tcp_len, payload, payload_len);
	net_store_be16(&th->checksum,
		       net_csum_fold(net_csum_partial(th, tcp_len + payload_len,
						      net_csum_pseudo_v4(ip->src, ip->dst, IP_PROTO_TCP, tcp_len + payload_len))));
	return ETHER_HDR_LEN + (uint32_t)sizeof(*ip) + tcp_len + payload_len;
}

void harness_send_tcp(struct harness *h, uint16_t src_port, uint16_t dst_port, uint8_t flags, uint32_t seq,
		      uint32_t ack, uint16_t window, const struct harness_tcp_opts *opts, const void *payload,
		      uint32_t payload_len)
{
	uint8_t *frame = calloc(1, HARNESS_FRAME_MAX);
	uint32_t len = harness_build_tcp(h, frame, src_port, dst_port, flags, seq, ack, window, opts, payload,
					 payload_len);

	harness_inject(h, frame, len);
	free(frame);
}

bool harness_tx_tcp(const struct harness *h, uint32_t i, struct harness_segment *seg)
{
	memset(seg, 0, sizeof(*seg));
	if (i >= h->tx_count)
		return false;
	return harness_parse_tcp(h->tx[i].data, h->tx[i].len, seg);
}

/* The TCP fields of seg from a header whose segment (header and payload) is l4_len bytes. */
static void harness_fill_segment(const struct tcp_header *th, uint32_t l4_len, bool checksum_ok,
				 struct harness_segment *seg)
{
	uint32_t tcp_hlen = (uint32_t)(th->data_offset >> 4) * 4;
	struct tcp_segment parsed;

	seg->flags = th->flags;
	seg->seq = ntohl(th->seq);
	seg->ack = ntohl(th->ack);
	seg->window = ntohs(th->window);
	seg->dst_port = ntohs(th->dst_port);
	seg->payload_len = l4_len - tcp_hlen;
	seg->payload = (const uint8_t *)th + tcp_hlen;
	seg->checksum_ok = checksum_ok;
	parsed.th = th;
	tcp_parse_options(th, &parsed);
	seg->opt_mss = parsed.opt_mss;
	seg->opt_wscale = parsed.opt_wscale;
}

bool harness_parse_tcp(const uint8_t *f, uint32_t len, struct harness_segment *seg)
{
	const struct ipv4_header *ip = (const struct ipv4_header *)(f + ETHER_HDR_LEN);
	const struct tcp_header *th;
	struct harness_ip6_frame f6;
	uint32_t l4_len;

	memset(seg, 0, sizeof(*seg));
	if (harness_parse_ipv6(f, len, &f6)) {
		if (f6.next_header != IP_PROTO_TCP || f6.payload_len < 20 || f6.payload_len > f6.l4_len)
			return false;
		harness_fill_segment((const struct tcp_header *)f6.l4, f6.payload_len, f6.checksum_ok, seg);
		return true;
	}
	if (len < ETHER_HDR_LEN + 40 || net_load_be16(f + 12) != ETHER_TYPE_IPV4 ||
	    ip->protocol != IP_PROTO_TCP)
		return false;
	l4_len = ntohs(ip->total_length) - 20u;
	th = (const struct tcp_header *)(ip + 1);
	harness_fill_segment(th, l4_len,
			     net_csum_fold(net_csum_partial(th, l4_len,
							    net_csum_pseudo_v4(ip->src, ip->dst, IP_PROTO_TCP, l4_len))) == 0 &&
				     net_csum_fold(net_csum_partial(ip, 20, 0)) == 0,
			     seg);
	return true;
}

struct tcp_conn *harness_conn(struct harness *h, uint16_t client_port)
{
	struct tcp_flow flow;

	memset(&flow, 0, sizeof(flow));
	if (h->client_v6)
		net_addr_v6(&flow.remote, h->client_ip6);
	else
		net_addr_v4(&flow.remote, h->client_ip);
	flow.remote_port = htons(client_port);
	flow.local_port = htons(h->server_port);
	return tcp_conn_lookup(h->ns.tcp, &flow);
}

uint32_t harness_handshake(struct harness *h, uint16_t client_port, uint32_t isn, uint16_t window)
{
	struct harness_tcp_opts opts = {.mss = 1460, .wscale = 7};
	struct harness_segment seg;
	uint32_t iss;

	harness_clear_tx(h);
	harness_send_tcp(h, client_port, h->server_port, TCP_FLAG_SYN, isn, 0, 65535, &opts, NULL, 0);
	CU_ASSERT_EQUAL_FATAL(h->tx_count, 1);
	CU_ASSERT_FATAL(harness_tx_tcp(h, 0, &seg));
	CU_ASSERT_EQUAL(seg.flags, TCP_FLAG_SYN | TCP_FLAG_ACK);
	CU_ASSERT_EQUAL(seg.ack, isn + 1);
	iss = seg.seq;
	harness_clear_tx(h);
	harness_send_tcp(h, client_port, h->server_port, TCP_FLAG_ACK, isn + 1, iss + 1, window, NULL, NULL, 0);
	return iss;
}

bool harness_payload_ok(const struct harness_segment *seg, uint64_t offset)
{
	for (uint32_t i = 0; i < seg->payload_len; i++)
		if (seg->payload[i] != harness_pattern(offset + i))
			return false;
	return true;
}
