/* SPDX-License-Identifier: BSD-3-Clause
 *
 * fuzz_net_input.c: libFuzzer target for the network stack's receive path (Ethernet, ARP,
 * IPv4, ICMP, IPv6 with extension headers, ICMPv6, NDP, TCP state machine over both
 * families, PMTU). The input is a sequence of frames [len hi][len lo][flags][bytes]; flag
 * bit 0 asks the target to fix the checksums first (IPv4 header, TCP over IPv4 or IPv6,
 * ICMPv6 after any extension headers), so the fuzzer reaches the state machines instead of
 * stopping at checksum drops; bit 1 advances the virtual clock by a second (timers fire);
 * bit 2 asks the neighbour table to solicit the frame's IPv6 source (NDP output). A small
 * application serves a byte pattern on port 80, so data, retransmissions and closes are
 * exercised too. Seeds for each frame kind are in corpus/net_input (named by kind).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "net/neigh.h"
#include "net/net_csum.h"
#include "net/stack.h"
#include "tcp/tcp.h"

static uint8_t *fuzz_frame_alloc(struct net_stack *ns, void **frame, uint32_t len)
{
	(void)ns;
	*frame = malloc(len < 2048 ? 2048 : len);
	return *frame;
}
static void fuzz_frame_send(struct net_stack *ns, void *frame, uint32_t len) { (void)ns, (void)len; free(frame); }
static void fuzz_frame_free(struct net_stack *ns, void *frame) { (void)ns; free(frame); }
static int fuzz_tcp_send(struct net_stack *ns, const struct net_tcp_tx *tx)
{
	uint8_t *buf = malloc(tx->hdr_len + tx->payload_len + 1);
	int rc = ns->tcp->listeners[tx->conn->listener].app->stream_produce(ns, tx->conn, tx->stream_offset,
									    tx->payload_len, buf + tx->hdr_len);
	free(buf);
	return rc;
}
static uint32_t fuzz_tx_room(struct net_stack *ns) { (void)ns; return 64; }

static const struct netio_ops fuzz_io = {fuzz_frame_alloc, fuzz_frame_send, fuzz_frame_free, fuzz_tcp_send,
					 fuzz_tx_room};

struct fuzz_app { uint64_t taken; };
static int app_accepted(struct net_stack *ns, struct tcp_conn *c) { (void)ns; memset(tcp_conn_app(c), 0, 8); return 0; }
static uint32_t app_received(struct net_stack *ns, struct tcp_conn *c, const uint8_t *d, uint32_t len)
{
	struct fuzz_app *a = tcp_conn_app(c);
	(void)d;
	a->taken += len;
	if (len && d[0] == 'G')
		tcp_send_extend(ns, c, c->stream_end + 100000); /* a "request": send a response */
	if (len && d[0] == 'C')
		tcp_send_close(ns, c);
	if (len && d[0] == 'X')
		tcp_abort(ns, c);
	return len;
}
static uint32_t app_space(struct net_stack *ns, const struct tcp_conn *c) { (void)ns, (void)c; return 8192; }
static void app_acked(struct net_stack *ns, struct tcp_conn *c, uint64_t off)
{
	(void)ns;
	if (off > c->stream_end)
		abort(); /* acknowledged beyond what was ever sent */
}
static void app_peer_closed(struct net_stack *ns, struct tcp_conn *c) { tcp_send_close(ns, c); }
static void app_timeout(struct net_stack *ns, struct tcp_conn *c) { tcp_abort(ns, c); }
static void app_released(struct net_stack *ns, struct tcp_conn *c, enum tcp_close_reason r) { (void)ns, (void)c, (void)r; }
static int app_produce(struct net_stack *ns, struct tcp_conn *c, uint64_t off, uint32_t len, uint8_t *dst)
{
	(void)ns;
	if (off + len > c->stream_end)
		abort(); /* TCP asked for bytes the application never made available */
	memset(dst, (int)(off & 0xff), len);
	return 0;
}
static const struct tcp_app_ops fuzz_app_ops = {
	.accepted = app_accepted,
	.received = app_received,
	.receive_space = app_space,
	.acked = app_acked,
	.peer_closed = app_peer_closed,
	.timeout = app_timeout,
	.released = app_released,
	.stream_produce = app_produce,
};

/* IPv6: walk the extension headers the stack walks (bounded) and fix the ICMPv6 or TCP
 * checksum of what follows. */
static void fix_checksums_v6(uint8_t *f, uint32_t len)
{
	struct ipv6_header *ip6 = (struct ipv6_header *)(f + ETHER_HDR_LEN);
	uint32_t payload_len, offset = 0;
	uint8_t *payload = (uint8_t *)(ip6 + 1);
	uint8_t next;

	if (len < ETHER_HDR_LEN + sizeof(*ip6))
		return;
	payload_len = net_load_be16(&ip6->payload_length);
	if (payload_len > len - ETHER_HDR_LEN - sizeof(*ip6))
		return;
	next = ip6->next_header;
	for (int n = 0; n < 8 && (next == 0 || next == 43 || next == 60); n++) {
		uint32_t ext_len;

		if (payload_len - offset < 8)
			return;
		ext_len = ((uint32_t)payload[offset + 1] + 1) * 8;
		if (ext_len > payload_len - offset)
			return;
		next = payload[offset];
		offset += ext_len;
	}
	if (next == IP_PROTO_ICMPV6 && payload_len - offset >= 4) {
		uint8_t *icmp = payload + offset;
		icmp[2] = icmp[3] = 0;
		net_store_be16(icmp + 2, net_csum_fold(net_csum_partial(icmp, payload_len - offset,
			net_csum_pseudo_v6(ip6->src, ip6->dst, IP_PROTO_ICMPV6, payload_len - offset))));
	} else if (next == IP_PROTO_TCP && payload_len - offset >= 20) {
		struct tcp_header *th = (struct tcp_header *)(payload + offset);
		th->checksum = 0;
		net_store_be16(&th->checksum, net_csum_fold(net_csum_partial(th, payload_len - offset,
			net_csum_pseudo_v6(ip6->src, ip6->dst, IP_PROTO_TCP, payload_len - offset))));
	}
}

static void fix_checksums(uint8_t *f, uint32_t len)
{
	struct ipv4_header *ip = (struct ipv4_header *)(f + ETHER_HDR_LEN);
	uint32_t hl, tl;

	if (len >= ETHER_HDR_LEN && net_load_be16(f + 12) == ETHER_TYPE_IPV6) {
		fix_checksums_v6(f, len);
		return;
	}
	if (len < ETHER_HDR_LEN + 20 || net_load_be16(f + 12) != ETHER_TYPE_IPV4)
		return;
	hl = (uint32_t)(ip->version_ihl & 0xf) * 4;
	tl = ntohs(ip->total_length);
	if (hl < 20 || tl < hl || tl > len - ETHER_HDR_LEN)
		return;
	ip->checksum = 0;
	net_store_be16(&ip->checksum, net_csum_fold(net_csum_partial(ip, hl, 0)));
	if (ip->protocol == IP_PROTO_ICMP && tl - hl >= 4) {
		uint8_t *icmp = (uint8_t *)ip + hl;
		icmp[2] = icmp[3] = 0;
		net_store_be16(icmp + 2, net_csum_fold(net_csum_partial(icmp, tl - hl, 0)));
	}
	if (ip->protocol == IP_PROTO_TCP && tl - hl >= 20) {
		struct tcp_header *th = (struct tcp_header *)((uint8_t *)ip + hl);
		th->checksum = 0;
		net_store_be16(&th->checksum, net_csum_fold(net_csum_partial(th, tl - hl,
			net_csum_pseudo_v4(ip->src, ip->dst, IP_PROTO_TCP, tl - hl))));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tcp_settings s = {.max_connections = 8, .app_size = 16, .rto_min_us = 200000, .rto_max_us = 2000000,
				 .rto_initial_us = 1000000, .syn_retries = 2, .data_retries = 3,
				 .initial_cwnd_segments = 10, .fin_timeout_us = 3000000, .time_wait_us = 1000000,
				 .keepalive_idle_us = 10000000, .keepalive_interval_us = 1000000, .keepalive_probes = 3, .delack_us = 40000, .syn_backlog = 4, .pacing = true, .tlp = true, .timer_tick_us = 1000, .output_burst_bytes = 65536,
				 .secret = {1, 2}};
	struct net_stack ns;
	size_t i = 0;

	memset(&ns, 0, sizeof(ns));
	ns.io = &fuzz_io;
	memcpy(ns.mac, "\x02\x00\x00\x00\x00\x01", 6);
	ns.mtu = 1500;
	ns.ipv4 = htonl(0xc6120001);
	memcpy(ns.ipv6, "\xfd\x5c\0\0\0\0\0\0\0\0\0\0\0\0\0\x01", 16); /* fd5c::1 */
	ns.ipv6_prefix_len = 64;
	ns.ipv6_enabled = true;
	ns.now_us = 1000000;
	ns.neigh = neigh_table_create(16);
	ns.tcp = tcp_stack_create(&s);
	tcp_listen(ns.tcp, 80, &fuzz_app_ops, tcp_cc_find("newreno"), NULL);
	while (i + 3 <= size) {
		uint32_t len = (uint32_t)(data[i] << 8 | data[i + 1]) % 1600;
		uint8_t flags = data[i + 2];
		uint8_t *frame;

		i += 3;
		if (len > size - i)
			len = (uint32_t)(size - i);
		frame = malloc(2048);
		memcpy(frame, data + i, len);
		i += len;
		if (flags & 1)
			fix_checksums(frame, len);
		if (flags & 2)
			ns.now_us += 1000000;
		ns.now_us += 100;
		tcp_timers_run(&ns);
		if ((flags & 4) && len >= ETHER_HDR_LEN + 40 && net_load_be16(frame + 12) == ETHER_TYPE_IPV6) {
			struct net_addr peer;
			net_addr_v6(&peer, frame + ETHER_HDR_LEN + 8);
			neigh_solicit(&ns, &peer);
		}
		net_input(&ns, frame, frame, len);
		tcp_output_run(&ns);
	}
	ns.now_us += 100000000; /* everything times out */
	tcp_timers_run(&ns);
	tcp_stack_destroy(&ns, ns.tcp);
	neigh_table_free(ns.neigh);
	return 0;
}
