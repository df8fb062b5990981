/* SPDX-License-Identifier: BSD-3-Clause
 *
 * net_input.c: receive path from Ethernet to TCP, per packet.
 *
 *   net_input       Ethernet: ours or broadcast; ARP → neigh.c; IPv4 → ipv4_input
 *   ipv4_input      header checks (version, length, checksum, fragments, address)
 *   icmp_input      echo answered in place; the rest counted
 *   tcp_segment_in  length, checksum and options checked, then tcp_input
 *
 * Every malformed or unwanted frame is dropped with a counter naming the reason; nothing a
 * peer sends can make this code read past the frame (each length is checked before the bytes
 * it covers are touched), allocate, or block.
 */
#include <string.h>

#include "net_csum.h"
#include "neigh.h"
#include "stack.h"
#include "tcp/tcp.h"

static void icmp_input(struct net_stack *ns, void *frame, uint8_t *data, uint32_t len, struct ipv4_header *ip,
		       uint32_t ip_header_len, uint32_t ip_total_len)
{
	uint32_t icmp_len = ip_total_len - ip_header_len;
	struct icmp_header *icmp = (struct icmp_header *)((uint8_t *)ip + ip_header_len);
	struct ether_header *eth = (struct ether_header *)data;
	uint32_t tmp_ip;

	if (icmp_len < sizeof(*icmp)) {
		COUNTER_INC(&ns->counters, rx_drop_icmp_malformed);
		goto drop;
	}
	if (net_csum_fold(net_csum_partial(icmp, icmp_len, 0)) != 0) {
		COUNTER_INC(&ns->counters, rx_drop_icmp_checksum);
		goto drop;
	}
	if (icmp->type != ICMP_ECHO_REQUEST || icmp->code != 0) {
		COUNTER_INC(&ns->counters, icmp_other_received);
		goto drop;
	}
	/* Echo reply in place: swap addresses, change the type, fix both checksums. Options of
	 * the request are dropped from the reply by rebuilding a 20-byte IP header. */
	if (ip_header_len != sizeof(*ip)) {
		memmove((uint8_t *)ip + sizeof(*ip), icmp, icmp_len);
		icmp = (struct icmp_header *)((uint8_t *)ip + sizeof(*ip));
		ip->version_ihl = 0x45;
	}
	memcpy(eth->dst, eth->src, ETHER_ADDR_LEN);
	memcpy(eth->src, ns->mac, ETHER_ADDR_LEN);
	tmp_ip = ip->src;
	ip->src = ip->dst;
	ip->dst = tmp_ip;
	ip->ttl = 64;
	ip->fragment = 0;
	ip->total_length = __builtin_bswap16((uint16_t)(sizeof(*ip) + icmp_len));
	ip->checksum = 0;
	net_store_be16(&ip->checksum, net_csum_fold(net_csum_partial(ip, sizeof(*ip), 0)));
	icmp->type = ICMP_ECHO_REPLY;
	icmp->checksum = 0;
	net_store_be16(&icmp->checksum, net_csum_fold(net_csum_partial(icmp, icmp_len, 0)));
	(void)len;
	ns->io->frame_send(ns, frame, ETHER_HDR_LEN + (uint32_t)sizeof(*ip) + icmp_len);
	COUNTER_INC(&ns->counters, icmp_echo_answered);
	return;
drop:
	ns->io->frame_free(ns, frame);
}

static void tcp_segment_in(struct net_stack *ns, const uint8_t *src_mac, const struct net_addr *src,
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
		tcp_segment_in(ns, ((const struct ether_header *)data)->src, &src, &dst, (uint8_t *)ip + header_len, total_len - header_len,
			       net_csum_pseudo_v4(ip->src, ip->dst, IP_PROTO_TCP, total_len - header_len));
		goto drop; /* TCP never keeps the received buffer */
	case IP_PROTO_ICMP:
		icmp_input(ns, frame, data, len, ip, header_len, total_len);
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
	if (memcmp(eth->dst, ns->mac, ETHER_ADDR_LEN) && !(eth->dst[0] & 1)) {
		COUNTER_INC(&ns->counters, rx_drop_not_our_mac);
		ns->io->frame_free(ns, frame);
		return;
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
		COUNTER_INC(&ns->counters, rx_drop_ipv6_disabled);
		break;
	default:
		COUNTER_INC(&ns->counters, rx_drop_ethertype);
		break;
	}
	ns->io->frame_free(ns, frame);
}
