/* SPDX-License-Identifier: BSD-3-Clause
 *
 * ipv6.c: the IPv6 receive path (RFC 8200), per packet: the fixed header, the extension
 * headers a host must walk, and the hand-off to TCP or ICMPv6.
 *
 * Checks, in order, each with its drop counter:
 *   version 6 and a whole fixed header            rx_drop_ipv6_header
 *   payload length within the frame               rx_drop_ipv6_length (Ethernet padding after
 *                                                 the payload is ignored)
 *   source neither multicast nor ours             rx_drop_ipv6_source
 *   destination: our address, the all-nodes group rx_drop_not_our_address
 *     or our solicited-node group
 *   extension headers, at most IPV6_EXT_HEADERS_MAX:
 *     hop-by-hop (first only), destination         options walked: Pad1/PadN and unknown
 *     options                                      options whose action bits say "skip" are
 *                                                  skipped, any other is dropped
 *                                                  (rx_drop_ipv6_option: jumbograms too)
 *     routing with segments left 0                 skipped; segments left > 0 would make us a
 *                                                  router: rx_drop_ipv6_routing
 *     fragment                                     rx_drop_ipv6_fragment (no reassembly: our
 *                                                  TCP learns the path MTU instead)
 *     truncated or misplaced                       rx_drop_ipv6_ext_header
 *     one too many                                 rx_drop_ipv6_ext_limit
 *   upper layer: TCP to our unicast address from a unicast source → net_tcp_segment_in;
 *     ICMPv6 → icmp6.c; TCP to a group → rx_drop_ipv6_multicast; anything else (UDP, ESP,
 *     no next header) → rx_drop_ipv6_protocol.
 *
 * Every length is checked before the bytes it covers are read; the walk is bounded by the
 * header count and by the payload length, so no input makes it loop or read past the frame.
 */
#include <string.h>

#include "net_csum.h"
#include "net_proto.h"
#include "stack.h"

/* Options of a hop-by-hop or destination options header (RFC 8200 §4.2): true when every
 * option may be skipped. The two high bits of an unknown option's type say what to do with
 * a packet that carries it; only 00 ("skip over this option") lets it through. */
static bool ipv6_options_skippable(const uint8_t *p, const uint8_t *end)
{
	while (p < end) {
		uint8_t type = p[0];

		if (type == 0) { /* Pad1 */
			p++;
			continue;
		}
		if (end - p < 2 || p[1] > end - p - 2)
			return false;
		if (type != 1 && (type >> 6) != 0) /* PadN, or an option we must not ignore */
			return false;
		p += 2 + p[1];
	}
	return true;
}

void ipv6_input(struct net_stack *ns, void *frame, uint8_t *data, uint32_t len)
{
	struct ipv6_header *ip6 = (struct ipv6_header *)(data + ETHER_HDR_LEN);
	uint32_t payload_len, offset = 0, headers = 0;
	struct ipv6_rx rx;
	uint8_t *payload;
	uint8_t next;

	if (!ns->ipv6_enabled) {
		COUNTER_INC(&ns->counters, rx_drop_ipv6_disabled);
		goto drop;
	}
	if (len < ETHER_HDR_LEN + sizeof(*ip6) || (net_load_be32(&ip6->version_class_flow) >> 28) != 6) {
		COUNTER_INC(&ns->counters, rx_drop_ipv6_header);
		goto drop;
	}
	payload_len = net_load_be16(&ip6->payload_length);
	if (payload_len > len - ETHER_HDR_LEN - sizeof(*ip6)) {
		COUNTER_INC(&ns->counters, rx_drop_ipv6_length);
		goto drop;
	}
	if (ipv6_addr_is_multicast(ip6->src) || !memcmp(ip6->src, ns->ipv6, 16)) {
		COUNTER_INC(&ns->counters, rx_drop_ipv6_source);
		goto drop;
	}
	rx.multicast_dst = false;
	if (memcmp(ip6->dst, ns->ipv6, 16)) {
		if (!ipv6_addr_is_all_nodes(ip6->dst) && !ipv6_addr_is_solicited_node_of(ip6->dst, ns->ipv6)) {
			COUNTER_INC(&ns->counters, rx_drop_not_our_address);
			goto drop;
		}
		rx.multicast_dst = true;
	}
	payload = (uint8_t *)(ip6 + 1);
	next = ip6->next_header;
	for (;;) {
		uint8_t *ext = payload + offset;
		uint32_t ext_len;

		if (next != IPV6_NEXT_HOP_BY_HOP && next != IPV6_NEXT_ROUTING && next != IPV6_NEXT_DEST_OPTIONS &&
		    next != IPV6_NEXT_FRAGMENT)
			break;
		if (next == IPV6_NEXT_FRAGMENT) {
			COUNTER_INC(&ns->counters, rx_drop_ipv6_fragment);
			goto drop;
		}
		if (headers == IPV6_EXT_HEADERS_MAX) {
			COUNTER_INC(&ns->counters, rx_drop_ipv6_ext_limit);
			goto drop;
		}
		/* Hop-by-hop only right after the fixed header (RFC 8200 §4.1). */
		if ((next == IPV6_NEXT_HOP_BY_HOP && headers) || payload_len - offset < 8) {
			COUNTER_INC(&ns->counters, rx_drop_ipv6_ext_header);
			goto drop;
		}
		ext_len = ((uint32_t)ext[1] + 1) * 8;
		if (ext_len > payload_len - offset) {
			COUNTER_INC(&ns->counters, rx_drop_ipv6_ext_header);
			goto drop;
		}
		if (next == IPV6_NEXT_ROUTING) {
			if (ext[3] != 0) { /* segments left */
				COUNTER_INC(&ns->counters, rx_drop_ipv6_routing);
				goto drop;
			}
		} else if (!ipv6_options_skippable(ext + 2, ext + ext_len)) {
			COUNTER_INC(&ns->counters, rx_drop_ipv6_option);
			goto drop;
		}
		next = ext[0];
		offset += ext_len;
		headers++;
	}
	rx.ip6 = ip6;
	rx.l4 = payload + offset;
	rx.l4_len = payload_len - offset;
	switch (next) {
	case IP_PROTO_TCP: {
		struct net_addr src, dst;

		if (rx.multicast_dst) {
			COUNTER_INC(&ns->counters, rx_drop_ipv6_multicast);
			goto drop;
		}
		if (ipv6_addr_is_unspecified(ip6->src)) {
			COUNTER_INC(&ns->counters, rx_drop_ipv6_source);
			goto drop;
		}
		net_addr_v6(&src, ip6->src);
		net_addr_v6(&dst, ip6->dst);
		net_tcp_segment_in(ns, ((const struct ether_header *)data)->src, &src, &dst, rx.l4, rx.l4_len,
				   net_csum_pseudo_v6(ip6->src, ip6->dst, IP_PROTO_TCP, rx.l4_len));
		goto drop; /* TCP never keeps the received buffer */
	}
	case IP_PROTO_ICMPV6:
		icmp6_input(ns, frame, data, &rx);
		return;
	default:
		COUNTER_INC(&ns->counters, rx_drop_ipv6_protocol);
		goto drop;
	}
drop:
	ns->io->frame_free(ns, frame);
}
