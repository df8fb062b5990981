/* SPDX-License-Identifier: BSD-3-Clause
 *
 * net_input.c: receive path from Ethernet to TCP, per packet.
 *
 *   net_input           Ethernet: our MAC, broadcast, or our IPv6 groups (all-nodes, our
 *                       solicited-node group); ARP → neigh.c; IPv4 → ipv4_input; IPv6 → ipv6.c
 *   ipv4_input          header checks (version, length, checksum, fragments, address)
 *   icmp_input          icmp.c: echo answered in place, PMTU, the rest counted by kind
 *   net_tcp_segment_in  length, checksum and options checked, then tcp_input (both families)
 *
 * Every malformed or unwanted frame is dropped with a counter naming the reason; nothing a
 * peer sends can make this code read past the frame (each length is checked before the bytes
 * it covers are touched), allocate, or block.
 */
#include <string.h>

#include "net_csum.h"
#include "net_proto.h"
#include "neigh.h"
#include "stack.h"
#include "tcp/tcp.h"

/* Group addresses we listen to besides our own MAC: broadcast (ARP) and, with IPv6, the
 * all-nodes group and our address's solicited-node group (NDP). Other multicast is not ours. */
static bool net_mac_group_accepted(const struct net_stack *ns, const uint8_t *dst)
{
	static const uint8_t broadcast[ETHER_ADDR_LEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	static const uint8_t all_nodes[ETHER_ADDR_LEN] = {0x33, 0x33, 0, 0, 0, 0x01};

	if (!memcmp(dst, broadcast, ETHER_ADDR_LEN))
		return true;
	if (!ns->ipv6_enabled || dst[0] != 0x33 || dst[1] != 0x33)
		return false;
	if (!memcmp(dst, all_nodes, ETHER_ADDR_LEN))
		return true;
	return dst[2] == 0xff && !memcmp(dst + 3, ns->ipv6 + 13, 3);
}

void net_tcp_segment_in(struct net_stack *ns, const uint8_t *src_mac, const struct net_addr *src,
			const struct net_addr *dst, const uint8_t *l4, uint32_t l4_len, uint64_t pseudo_sum)
{
	const struct tcp_header *th = (const struct tcp_header *)l4;
	struct tcp_segment seg;
	uint32_t hlen;

	if (l4_len < sizeof(*th)) {
		COUNTER_INC(&ns->counters, rx_drop_tcp_header);
		return;
	}
	hlen = (uint32_t)(th->data_offset >> 4) * 4;
	if (hlen < sizeof(*th) || hlen > l4_len) {
		COUNTER_INC(&ns->counters, rx_drop_tcp_header);
		return;
	}
	if (net_csum_fold(net_csum_partial(l4, l4_len, pseudo_sum)) != 0) {
		COUNTER_INC(&ns->counters, rx_drop_tcp_checksum);
		return;
	}
	seg.src = *src;
	seg.dst = *dst;
	seg.src_mac = src_mac;
	seg.th = th;
	seg.payload = l4 + hlen;
	seg.payload_len = l4_len - hlen;
	seg.seq = __builtin_bswap32(th->seq);
	seg.ack = __builtin_bswap32(th->ack);
	seg.window = __builtin_bswap16(th->window);
	seg.flags = th->flags;
	if (tcp_parse_options(th, &seg) < 0) {
		COUNTER_INC(&ns->counters, rx_drop_tcp_header);
		return;
	}
	if (th->src_port == 0 || th->dst_port == 0) {
		COUNTER_INC(&ns->counters, rx_drop_tcp_header);
		return;
	}
	tcp_input(ns, &seg);
}

static void ipv4_input(struct net_stack *ns, void *frame, uint8_t *data, uint32_t len)
{
	struct ipv4_header *ip = (struct ipv4_header *)(data + ETHER_HDR_LEN);
	uint32_t header_len, total_len;
	struct net_addr src, dst;
	uint16_t fragment;

	if (len < ETHER_HDR_LEN + sizeof(*ip) || (ip->version_ihl >> 4) != 4) {
		COUNTER_INC(&ns->counters, rx_drop_ip_header);
		goto drop;
	}
	header_len = (uint32_t)(ip->version_ihl & 0xf) * 4;
	total_len = __builtin_bswap16(ip->total_length);
	if (header_len < sizeof(*ip) || total_len < header_len || total_len > len - ETHER_HDR_LEN) {
		COUNTER_INC(&ns->counters, rx_drop_ip_length);
		goto drop;
	}
	if (net_csum_fold(net_csum_partial(ip, header_len, 0)) != 0) {
		COUNTER_INC(&ns->counters, rx_drop_ip_checksum);
		goto drop;
	}
	if (ip->dst != ns->ipv4) {
		COUNTER_INC(&ns->counters, rx_drop_not_our_address);
		goto drop;
	}
	fragment = __builtin_bswap16(ip->fragment);
	if (fragment & (IPV4_FLAG_MF | IPV4_OFFSET_MASK)) {
		/* Players send small requests with DF set: no reassembly. */
		COUNTER_INC(&ns->counters, rx_drop_ip_fragment);
		goto drop;
	}
	switch (ip->protocol) {
	case IP_PROTO_TCP:
		net_addr_v4(&src, ip->src);
		net_addr_v4(&dst, ip->dst);
		net_tcp_segment_in(ns, ((const struct ether_header *)data)->src, &src, &dst, (uint8_t *)ip + header_len,
				   total_len - header_len, net_csum_pseudo_v4(ip->src, ip->dst, IP_PROTO_TCP, total_len - header_len));
		goto drop; /* TCP never keeps the received buffer */
	case IP_PROTO_ICMP:
		icmp_input(ns, frame, data, ip, header_len, total_len);
		return;
	default:
		COUNTER_INC(&ns->counters, rx_drop_ip_protocol);
		goto drop;
	}
drop:
	ns->io->frame_free(ns, frame);
}

void net_input(struct net_stack *ns, void *frame, uint8_t *data, uint32_t len)
{
	const struct ether_header *eth = (const struct ether_header *)data;
	uint16_t type;

	COUNTER_INC(&ns->counters, rx_packets);
	COUNTER_ADD(&ns->counters, rx_bytes, len);
	if (len < ETHER_HDR_LEN) {
		COUNTER_INC(&ns->counters, rx_drop_runt);
		ns->io->frame_free(ns, frame);
		return;
	}
	if (memcmp(eth->dst, ns->mac, ETHER_ADDR_LEN)) {
		if (!(eth->dst[0] & 1)) {
			COUNTER_INC(&ns->counters, rx_drop_not_our_mac);
			ns->io->frame_free(ns, frame);
			return;
		}
		if (!net_mac_group_accepted(ns, eth->dst)) {
			COUNTER_INC(&ns->counters, rx_drop_multicast_mac);
			ns->io->frame_free(ns, frame);
			return;
		}
	}
	type = __builtin_bswap16(eth->type);
	switch (type) {
	case ETHER_TYPE_IPV4:
		ipv4_input(ns, frame, data, len);
		return;
	case ETHER_TYPE_ARP:
		arp_input(ns, frame, data, len);
		return;
	case ETHER_TYPE_IPV6:
		ipv6_input(ns, frame, data, len);
		return;
	default:
		COUNTER_INC(&ns->counters, rx_drop_ethertype);
		break;
	}
	ns->io->frame_free(ns, frame);
}
