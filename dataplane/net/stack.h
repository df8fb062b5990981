/* SPDX-License-Identifier: BSD-3-Clause
 *
 * stack.h: one worker lcore's network stack, without DPDK.
 *
 * A struct net_stack holds everything one lcore's traffic touches: its counters, its clock,
 * its neighbour table and TCP state (tcp/tcp.h). The lcore is the only writer, so nothing
 * here is locked. The stack talks to the port only through struct netio_ops: the DPDK glue
 * (worker.c) implements it with mbufs and a TX queue; the unit-test harness implements it with
 * plain buffers and a virtual clock. That seam is what lets the same protocol code run in
 * tests, in fuzzers and on the wire.
 *
 * Input: net_input() takes one received frame and consumes it (frees it, or turns it into a
 * reply in place: ARP and ICMP/ICMPv6 echo answers reuse the received buffer; neighbour
 * advertisements are built in a fresh frame). IPv4 and IPv6 share the TCP connection table
 * (struct net_addr keys); the receive-path files and their entry points are listed in
 * net_proto.h.
 * Output: small control frames (ARP, ICMP, RST, pure ACKs) are built in buffers from
 * io->frame_alloc; TCP data goes through io->tcp_send, which copies or attaches the payload
 * from the connection's stream source and handles segmentation offload.
 */
#ifndef SLUICE_NET_STACK_H
#define SLUICE_NET_STACK_H

#include <stdbool.h>
#include <stdint.h>

#include "compiler.h"
#include "counters.h"
#include "net_types.h"

struct net_stack;
struct tcp_conn;

/* Offloads the port performs for us (net_stack.tx_offloads). */
#define NET_TX_OFFLOAD_IPV4_CKSUM 0x1
#define NET_TX_OFFLOAD_TCP_CKSUM 0x2
#define NET_TX_OFFLOAD_TCP_TSO 0x4  /* IPv4 TSO */
#define NET_TX_OFFLOAD_TCP_TSO6 0x8 /* IPv6 TSO */

/* A TCP segment to transmit: the complete L2-L4 header is built by TCP in hdr; the payload
 * (payload_len bytes of the connection's send stream from stream_offset) is produced by the
 * netio implementation through tcp_stream_produce(). With tso_segment_size set, payload_len
 * may exceed one segment and the port segments it. */
struct net_tcp_tx {
	const uint8_t *hdr;
	uint16_t hdr_len;
	uint8_t l2_len, l3_len, l4_len;
	bool ipv6;
	uint16_t tso_segment_size;     /* 0: one segment */
	uint32_t payload_len;
	uint64_t stream_offset;
	struct tcp_conn *conn;
};

struct netio_ops {
	/* A buffer for a control frame of up to len bytes; NULL (and counted) if none. */
	uint8_t *(*frame_alloc)(struct net_stack *ns, void **frame, uint32_t len);
	/* Queue frame (from frame_alloc or a received frame) with len bytes for transmission. */
	void (*frame_send)(struct net_stack *ns, void *frame, uint32_t len);
	/* Give back a received or allocated frame that will not be sent. */
	void (*frame_free)(struct net_stack *ns, void *frame);
	/* Build and queue a TCP data segment. Returns 0, -ENOBUFS when the TX path is full
	 * (nothing queued; retry later), or another -errno when the payload source failed. */
	int (*tcp_send)(struct net_stack *ns, const struct net_tcp_tx *tx);
	/* Frames that can still be queued before the TX path is full. */
	uint32_t (*tx_room)(struct net_stack *ns);
};

struct net_neigh_table;
struct tcp_stack;

struct net_stack {
	struct dp_counters counters;
	uint64_t now_us;                 /* this iteration's clock, microseconds */
	const struct netio_ops *io;
	void *io_ctx;                    /* netio implementation's own state */

	/* Identity on the link. */
	uint8_t mac[ETHER_ADDR_LEN];
	uint16_t mtu;                    /* IP MTU */
	uint32_t ipv4;                   /* network order */
	uint32_t ipv4_netmask;           /* network order */
	uint8_t ipv6[16];
	uint8_t ipv6_prefix_len;
	bool ipv6_enabled;
	uint32_t tx_offloads;            /* NET_TX_OFFLOAD_* */
	uint16_t ipv4_next_id;

	struct net_neigh_table *neigh;
	struct tcp_stack *tcp;

	uint32_t lcore_id;
	uint32_t queue_id;
};

/* Handles one received frame of len bytes at data; always consumes frame. */
void net_input(struct net_stack *ns, void *frame, uint8_t *data, uint32_t len);

/* Whether addr is one of ours. */
static inline bool net_is_local_v4(const struct net_stack *ns, uint32_t addr)
{
	return addr == ns->ipv4;
}

#endif /* SLUICE_NET_STACK_H */
