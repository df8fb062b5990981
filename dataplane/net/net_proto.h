/* SPDX-License-Identifier: BSD-3-Clause
 *
 * net_proto.h: the entry points the receive-path files hand frames to each other through,
 * and the IPv6 address helpers they share. Internal to dataplane/net (and its unit tests).
 *
 *   net_input.c   Ethernet (MAC filter), IPv4, TCP hand-off      net_input, net_tcp_segment_in
 *   icmp.c        ICMPv4: echo, errors by kind, PMTU             icmp_input, icmp_pmtu_report
 *   ipv6.c        IPv6 header, extension headers                 ipv6_input
 *   icmp6.c       ICMPv6: echo, errors by kind, PMTU, NDP demux  icmp6_input
 *   ndp.c         neighbour solicitation/advertisement           ndp_input, ndp_send_solicitation
 *
 * Ownership of the frame: every *_input that takes a frame consumes it (sends it back
 * as a reply in place, or frees it). net_tcp_segment_in and ndp_input only read the bytes:
 * their caller frees the frame.
 *
 * All of it runs per packet: no allocation beyond io->frame_alloc, no I/O, counters only.
 */
#ifndef SLUICE_NET_PROTO_H
#define SLUICE_NET_PROTO_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "net_types.h"

struct net_stack;

#define ICMP6_DEST_UNREACH 1
#define ICMP6_PACKET_TOO_BIG 2
#define ICMP6_TIME_EXCEEDED 3
#define ICMP6_PARAM_PROBLEM 4
#define ICMP6_ECHO_REQUEST 128
#define ICMP6_ECHO_REPLY 129
#define ICMP6_ROUTER_SOLICIT 133
#define ICMP6_ROUTER_ADVERT 134
#define ICMP6_NEIGHBOR_SOLICIT 135
#define ICMP6_NEIGHBOR_ADVERT 136
#define ICMP6_REDIRECT 137
#define ICMP_TIME_EXCEEDED 11

#define IPV6_NEXT_HOP_BY_HOP 0
#define IPV6_NEXT_ROUTING 43
#define IPV6_NEXT_FRAGMENT 44
#define IPV6_NEXT_DEST_OPTIONS 60

/* Extension headers skipped before the upper-layer header; one more is dropped
 * (rx_drop_ipv6_ext_limit). Same bound as the steering program (STEER_IPV6_EXT_MAX). */
#define IPV6_EXT_HEADERS_MAX 4

#define NDP_HOP_LIMIT 255 /* RFC 4861: NDP messages that crossed a router are forged */
#define NDP_OPT_SOURCE_LLADDR 1
#define NDP_OPT_TARGET_LLADDR 2
#define NDP_NA_FLAG_ROUTER 0x80
#define NDP_NA_FLAG_SOLICITED 0x40
#define NDP_NA_FLAG_OVERRIDE 0x20

/* A validated IPv6 packet handed from ipv6_input to the upper layer. */
struct ipv6_rx {
	struct ipv6_header *ip6;
	uint8_t *l4;          /* upper-layer header, after the extension headers */
	uint32_t l4_len;      /* bytes from l4 to the end of the IPv6 payload */
	bool multicast_dst;   /* all-nodes or our solicited-node group, not our unicast address */
};

void net_tcp_segment_in(struct net_stack *ns, const uint8_t *src_mac, const struct net_addr *src,
			const struct net_addr *dst, const uint8_t *l4, uint32_t l4_len, uint64_t pseudo_sum);
void icmp_input(struct net_stack *ns, void *frame, uint8_t *data, struct ipv4_header *ip, uint32_t ip_header_len,
		uint32_t ip_total_len);
void ipv6_input(struct net_stack *ns, void *frame, uint8_t *data, uint32_t len);
void icmp6_input(struct net_stack *ns, void *frame, uint8_t *data, const struct ipv6_rx *rx);
void ndp_input(struct net_stack *ns, const uint8_t *src_mac, const struct ipv6_rx *rx);
/* NS for target: to its solicited-node group, or unicast to mac when mac is not NULL
 * (confirming a known neighbour). Returns 0 or -ENOBUFS. */
int ndp_send_solicitation(struct net_stack *ns, const uint8_t target[16], const uint8_t *mac);
/* Hands a PMTU message's validated quote to TCP and counts what became of it. */
void icmp_pmtu_report(struct net_stack *ns, const struct net_addr *remote, uint16_t remote_port, uint16_t local_port,
		      uint32_t seq, uint32_t mtu);

/* --- IPv6 addresses ---------------------------------------------------------------------- */

static inline bool ipv6_addr_is_multicast(const uint8_t a[16]) { return a[0] == 0xff; }

static inline bool ipv6_addr_is_unspecified(const uint8_t a[16])
{
	static const uint8_t zero[16];
	return !memcmp(a, zero, 16);
}

static inline bool ipv6_addr_is_all_nodes(const uint8_t a[16])
{
	static const uint8_t all_nodes[16] = {0xff, 0x02, [15] = 0x01};
	return !memcmp(a, all_nodes, 16);
}

/* ff02::1:ffXX:XXXX, XX:XXXX the low 24 bits of addr (RFC 4291 §2.7.1). */
static inline void ipv6_solicited_node(uint8_t group[16], const uint8_t addr[16])
{
	static const uint8_t prefix[13] = {0xff, 0x02, [11] = 0x01, [12] = 0xff};
	memcpy(group, prefix, 13);
	memcpy(group + 13, addr + 13, 3);
}

static inline bool ipv6_addr_is_solicited_node_of(const uint8_t group[16], const uint8_t addr[16])
{
	uint8_t g[16];
	ipv6_solicited_node(g, addr);
	return !memcmp(g, group, 16);
}

/* 33:33 followed by the group's low 32 bits (RFC 2464 §7). */
static inline void ipv6_multicast_mac(uint8_t mac[ETHER_ADDR_LEN], const uint8_t group[16])
{
	mac[0] = 0x33;
	mac[1] = 0x33;
	memcpy(mac + 2, group + 12, 4);
}

#endif /* SLUICE_NET_PROTO_H */
