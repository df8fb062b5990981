/* SPDX-License-Identifier: BSD-3-Clause
 *
 * net_types.h: wire formats the stack parses and builds (Ethernet, ARP, IPv4, IPv6, ICMP, TCP)
 * and the address type shared by the neighbour table and the connection table.
 *
 * Our own definitions rather than DPDK's rte_*_hdr so the protocol engines build without DPDK
 * (unit tests, fuzzers). Multi-byte fields are in network byte order as on the wire. Sizes are
 * asserted: these structs overlay received bytes.
 */
#ifndef SLUICE_NET_TYPES_H
#define SLUICE_NET_TYPES_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define ETHER_ADDR_LEN 6
#define ETHER_HDR_LEN 14
#define ETHER_TYPE_IPV4 0x0800
#define ETHER_TYPE_ARP 0x0806
#define ETHER_TYPE_VLAN 0x8100
#define ETHER_TYPE_IPV6 0x86dd

#define IP_PROTO_ICMP 1
#define IP_PROTO_TCP 6
#define IP_PROTO_ICMPV6 58

struct ether_header {
	uint8_t dst[ETHER_ADDR_LEN];
	uint8_t src[ETHER_ADDR_LEN];
	uint16_t type;
} __attribute__((packed));
_Static_assert(sizeof(struct ether_header) == ETHER_HDR_LEN, "ethernet header");

struct arp_packet {
	uint16_t hardware_type;    /* 1 = Ethernet */
	uint16_t protocol_type;    /* 0x0800 */
	uint8_t hardware_len;      /* 6 */
	uint8_t protocol_len;      /* 4 */
	uint16_t opcode;           /* 1 request, 2 reply */
	uint8_t sender_mac[ETHER_ADDR_LEN];
	uint32_t sender_ip;
	uint8_t target_mac[ETHER_ADDR_LEN];
	uint32_t target_ip;
} __attribute__((packed));
_Static_assert(sizeof(struct arp_packet) == 28, "arp packet");

struct ipv4_header {
	uint8_t version_ihl;
	uint8_t tos;
	uint16_t total_length;
	uint16_t id;
	uint16_t fragment;         /* flags (3 bits) + offset (13 bits) */
	uint8_t ttl;
	uint8_t protocol;
	uint16_t checksum;
	uint32_t src;
	uint32_t dst;
} __attribute__((packed));
_Static_assert(sizeof(struct ipv4_header) == 20, "ipv4 header");
#define IPV4_FLAG_DF 0x4000
#define IPV4_FLAG_MF 0x2000
#define IPV4_OFFSET_MASK 0x1fff

struct ipv6_header {
	uint32_t version_class_flow;
	uint16_t payload_length;
	uint8_t next_header;
	uint8_t hop_limit;
	uint8_t src[16];
	uint8_t dst[16];
} __attribute__((packed));
_Static_assert(sizeof(struct ipv6_header) == 40, "ipv6 header");

struct icmp_header {
	uint8_t type;
	uint8_t code;
	uint16_t checksum;
	uint32_t rest;             /* id + seq for echo; unused/MTU for errors */
} __attribute__((packed));
_Static_assert(sizeof(struct icmp_header) == 8, "icmp header");
#define ICMP_ECHO_REPLY 0
#define ICMP_DEST_UNREACH 3
#define ICMP_FRAG_NEEDED 4  /* code of DEST_UNREACH */
#define ICMP_ECHO_REQUEST 8

struct tcp_header {
	uint16_t src_port;
	uint16_t dst_port;
	uint32_t seq;
	uint32_t ack;
	uint8_t data_offset;       /* high 4 bits: header length in 32-bit words */
	uint8_t flags;
	uint16_t window;
	uint16_t checksum;
	uint16_t urgent;
} __attribute__((packed));
_Static_assert(sizeof(struct tcp_header) == 20, "tcp header");
#define TCP_FLAG_FIN 0x01
#define TCP_FLAG_SYN 0x02
#define TCP_FLAG_RST 0x04
#define TCP_FLAG_PSH 0x08
#define TCP_FLAG_ACK 0x10
#define TCP_FLAG_URG 0x20
#define TCP_FLAG_ECE 0x40
#define TCP_FLAG_CWR 0x80

#define TCP_OPT_EOL 0
#define TCP_OPT_NOP 1
#define TCP_OPT_MSS 2
#define TCP_OPT_WSCALE 3
#define TCP_OPT_SACK_PERMITTED 4
#define TCP_OPT_SACK 5
#define TCP_OPT_TIMESTAMP 8
#define TCP_HEADER_MAX 60

/* An IPv4 or IPv6 address; IPv4 is kept in the first 4 bytes, network order, rest zero. */
struct net_addr {
	uint8_t family;            /* NET_AF_IPV4 or NET_AF_IPV6 */
	uint8_t pad[3];
	union {
		uint32_t v4;
		uint8_t v6[16];
		uint32_t words[4];
	};
};
_Static_assert(sizeof(struct net_addr) == 20, "net_addr");
#define NET_AF_IPV4 4
#define NET_AF_IPV6 6

static inline void net_addr_v4(struct net_addr *a, uint32_t v4_network_order)
{
	memset(a, 0, sizeof(*a));
	a->family = NET_AF_IPV4;
	a->v4 = v4_network_order;
}

static inline void net_addr_v6(struct net_addr *a, const uint8_t v6[16])
{
	a->family = NET_AF_IPV6;
	a->pad[0] = a->pad[1] = a->pad[2] = 0;
	memcpy(a->v6, v6, 16);
}

static inline bool net_addr_equal(const struct net_addr *a, const struct net_addr *b)
{
	return a->family == b->family && a->words[0] == b->words[0] && a->words[1] == b->words[1] &&
	       a->words[2] == b->words[2] && a->words[3] == b->words[3];
}

/* Unaligned big-endian loads/stores for option parsing and header building. */
static inline uint16_t net_load_be16(const void *p)
{
	const uint8_t *b = p;
	return (uint16_t)(b[0] << 8 | b[1]);
}

static inline uint32_t net_load_be32(const void *p)
{
	const uint8_t *b = p;
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static inline void net_store_be16(void *p, uint16_t v)
{
	uint8_t *b = p;
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

static inline void net_store_be32(void *p, uint32_t v)
{
	uint8_t *b = p;
	b[0] = (uint8_t)(v >> 24);
	b[1] = (uint8_t)(v >> 16);
	b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
}

#endif /* SLUICE_NET_TYPES_H */
