/* SPDX-License-Identifier: BSD-3-Clause
 *
 * icmp6.c: ICMPv6 (RFC 4443), per packet. The checksum (over the IPv6 pseudo-header) is
 * verified for every message before anything else is read; then:
 *
 *   echo request to our address   answered in place (extension headers of the request are
 *                                 not copied to the reply), icmp6_echo_answered
 *   packet too big                quote validated (our source address, TCP right after the
 *                                 fixed header, 8 bytes of TCP present), MTU to TCP
 *                                 (icmp_pmtu_report: RFC 8201, RFC 5927)
 *   other errors                  counted by kind (soft errors for TCP, never acted on)
 *   NS, NA                        ndp.c
 *   router advertisement,         counted and ignored: addresses and routes of the data
 *   redirect                      plane are configured, never learned from the link
 *   the rest (MLD, RS, ...)       icmp6_other_received
 *
 * Echo to a multicast group is not answered (rx_drop_ipv6_multicast): a reply would come from
 * our unicast address to a sender that pinged a group, and flood pings of ff02::1 should not
 * cost the data plane anything.
 */
#include <string.h>

#include "net_csum.h"
#include "net_proto.h"
#include "stack.h"

/* Packet too big: the message quotes as much of our packet as fits in the minimum MTU. */
static void icmp6_packet_too_big(struct net_stack *ns, const struct icmp_header *icmp, uint32_t icmp_len)
{
	const struct ipv6_header *inner = (const struct ipv6_header *)(icmp + 1);
	const uint8_t *quoted_tcp = (const uint8_t *)(inner + 1);
	struct net_addr remote;

	COUNTER_INC(&ns->counters, icmp6_too_big_received);
	/* Our TCP sends no extension headers: TCP must follow the fixed header directly. */
	if (icmp_len < sizeof(*icmp) + sizeof(*inner) + 8 || (net_load_be32(&inner->version_class_flow) >> 28) != 6 ||
	    memcmp(inner->src, ns->ipv6, 16) || inner->next_header != IP_PROTO_TCP) {
		COUNTER_INC(&ns->counters, rx_drop_icmp_bad_quote);
		return;
	}
	net_addr_v6(&remote, inner->dst);
	icmp_pmtu_report(ns, &remote, ((const struct tcp_header *)quoted_tcp)->dst_port,
			 ((const struct tcp_header *)quoted_tcp)->src_port, net_load_be32(quoted_tcp + 4),
			 net_load_be32(&icmp->rest));
}

static void icmp6_echo_reply(struct net_stack *ns, void *frame, uint8_t *data, const struct ipv6_rx *rx)
{
	struct ether_header *eth = (struct ether_header *)data;
	struct ipv6_header *ip6 = rx->ip6;
	uint8_t *icmp = rx->l4;
	uint32_t icmp_len = rx->l4_len;
	uint8_t tmp[16];

	/* Reply in place, without the request's extension headers. */
	if (icmp != (uint8_t *)(ip6 + 1)) {
		memmove(ip6 + 1, icmp, icmp_len);
		icmp = (uint8_t *)(ip6 + 1);
	}
	memcpy(eth->dst, eth->src, ETHER_ADDR_LEN);
	memcpy(eth->src, ns->mac, ETHER_ADDR_LEN);
	memcpy(tmp, ip6->src, 16);
	memcpy(ip6->src, ip6->dst, 16);
	memcpy(ip6->dst, tmp, 16);
	ip6->next_header = IP_PROTO_ICMPV6;
	ip6->hop_limit = 64;
	net_store_be16(&ip6->payload_length, (uint16_t)icmp_len);
	icmp[0] = ICMP6_ECHO_REPLY;
	icmp[2] = icmp[3] = 0;
	net_store_be16(icmp + 2, net_csum_fold(net_csum_partial(
					 icmp, icmp_len, net_csum_pseudo_v6(ip6->src, ip6->dst, IP_PROTO_ICMPV6, icmp_len))));
	ns->io->frame_send(ns, frame, ETHER_HDR_LEN + (uint32_t)sizeof(*ip6) + icmp_len);
	COUNTER_INC(&ns->counters, icmp6_echo_answered);
}

void icmp6_input(struct net_stack *ns, void *frame, uint8_t *data, const struct ipv6_rx *rx)
{
	const struct icmp_header *icmp = (const struct icmp_header *)rx->l4;
	const struct ipv6_header *ip6 = rx->ip6;

	if (rx->l4_len < sizeof(*icmp)) {
		COUNTER_INC(&ns->counters, rx_drop_icmp6_malformed);
		goto drop;
	}
	if (net_csum_fold(net_csum_partial(rx->l4, rx->l4_len,
					   net_csum_pseudo_v6(ip6->src, ip6->dst, IP_PROTO_ICMPV6, rx->l4_len))) != 0) {
		COUNTER_INC(&ns->counters, rx_drop_icmp6_checksum);
		goto drop;
	}
	switch (icmp->type) {
	case ICMP6_ECHO_REQUEST:
		if (icmp->code != 0) {
			COUNTER_INC(&ns->counters, icmp6_other_received);
			goto drop;
		}
		if (rx->multicast_dst) {
			COUNTER_INC(&ns->counters, rx_drop_ipv6_multicast);
			goto drop;
		}
		if (ipv6_addr_is_unspecified(ip6->src)) {
			COUNTER_INC(&ns->counters, rx_drop_ipv6_source);
			goto drop;
		}
		icmp6_echo_reply(ns, frame, data, rx);
		return;
	case ICMP6_PACKET_TOO_BIG:
		icmp6_packet_too_big(ns, icmp, rx->l4_len);
		goto drop;
	case ICMP6_DEST_UNREACH:
		COUNTER_INC(&ns->counters, icmp6_dest_unreach_received);
		goto drop;
	case ICMP6_TIME_EXCEEDED:
		COUNTER_INC(&ns->counters, icmp6_time_exceeded_received);
		goto drop;
	case ICMP6_PARAM_PROBLEM:
		COUNTER_INC(&ns->counters, icmp6_param_problem_received);
		goto drop;
	case ICMP6_NEIGHBOR_SOLICIT:
	case ICMP6_NEIGHBOR_ADVERT:
		ndp_input(ns, ((const struct ether_header *)data)->src, rx);
		goto drop;
	case ICMP6_ROUTER_ADVERT:
		COUNTER_INC(&ns->counters, ndp_router_adverts_ignored);
		goto drop;
	case ICMP6_REDIRECT:
		COUNTER_INC(&ns->counters, ndp_redirects_ignored);
		goto drop;
	default:
		COUNTER_INC(&ns->counters, icmp6_other_received);
		goto drop;
	}
drop:
	ns->io->frame_free(ns, frame);
}
