/* SPDX-License-Identifier: BSD-3-Clause
 *
 * ndp.c: IPv6 neighbour discovery for a host (RFC 4861 §7), per packet: the IPv6 half of
 * what neigh.c does with ARP for IPv4.
 *
 *   neighbour solicitation for our address   → neighbour advertisement with our MAC
 *     from a unicast source                    unicast to the solicitor, flags S|O; the
 *                                              solicitor's source link-layer address option
 *                                              (or, without one, its Ethernet source) is learned
 *     from :: (duplicate address detection)    to all-nodes, flags O only (§7.2.4): the prober
 *                                              learns that the address is taken
 *     for another address                      nothing (rx_drop_ndp_not_ours)
 *   neighbour advertisement                    the target's link-layer address updates an entry
 *                                              we created by soliciting (§7.2.5: unsolicited
 *                                              advertisements for unknown addresses create
 *                                              nothing, rx_drop_ndp_unsolicited); one that
 *                                              claims our own address is counted
 *                                              (ndp_duplicate_address_seen)
 *   ndp_send_solicitation                      NS to the target's solicited-node group, or
 *                                              unicast to confirm a known neighbour; called by
 *                                              neigh_solicit, which rate-limits it
 *
 * Validation (§7.1): hop limit 255 (rx_drop_ndp_hop_limit: the message crossed a router),
 * code 0, the fixed part present, target not multicast, every option of non-zero length
 * inside the message, a DAD probe sent to the solicited-node group without a source
 * link-layer address, a multicast advertisement not flagged solicited (rx_drop_ndp_malformed).
 * The ICMPv6 checksum was verified by icmp6.c.
 *
 * Replies are built in a fresh frame (86 bytes: the solicitation may be shorter).
 */
#include <errno.h>
#include <string.h>

#include "neigh.h"
#include "net_csum.h"
#include "net_proto.h"
#include "stack.h"

#define NDP_FIXED_LEN 24  /* type, code, checksum, flags/reserved, target */
#define NDP_LLADDR_OPT_LEN 8
#define NDP_FRAME_LEN (ETHER_HDR_LEN + sizeof(struct ipv6_header) + NDP_FIXED_LEN + NDP_LLADDR_OPT_LEN)

/* Finds the link-layer address option of the given type; returns false when an option is
 * malformed. *lladdr is NULL when the option is absent. */
static bool ndp_parse_options(const uint8_t *p, const uint8_t *end, uint8_t type, const uint8_t **lladdr)
{
	*lladdr = NULL;
	while (p < end) {
		uint32_t opt_len;

		if (end - p < 2 || p[1] == 0)
			return false;
		opt_len = (uint32_t)p[1] * 8;
		if (opt_len > (uint32_t)(end - p))
			return false;
		if (p[0] == type && opt_len == NDP_LLADDR_OPT_LEN)
			*lladdr = p + 2;
		p += opt_len;
	}
	return true;
}

/* Writes Ethernet, IPv6 and the NS/NA message (target, one link-layer address option of
 * ours) into frame; the checksum is filled in. */
static void ndp_fill(struct net_stack *ns, uint8_t *frame, const uint8_t dst_mac[ETHER_ADDR_LEN],
		     const uint8_t dst[16], uint8_t type, uint8_t flags, const uint8_t target[16])
{
	struct ether_header *eth = (struct ether_header *)frame;
	struct ipv6_header *ip6 = (struct ipv6_header *)(frame + ETHER_HDR_LEN);
	uint8_t *msg = (uint8_t *)(ip6 + 1);
	uint32_t msg_len = NDP_FIXED_LEN + NDP_LLADDR_OPT_LEN;

	memcpy(eth->dst, dst_mac, ETHER_ADDR_LEN);
	memcpy(eth->src, ns->mac, ETHER_ADDR_LEN);
	eth->type = __builtin_bswap16(ETHER_TYPE_IPV6);
	net_store_be32(&ip6->version_class_flow, 6u << 28);
	net_store_be16(&ip6->payload_length, (uint16_t)msg_len);
	ip6->next_header = IP_PROTO_ICMPV6;
	ip6->hop_limit = NDP_HOP_LIMIT;
	memcpy(ip6->src, ns->ipv6, 16);
	memcpy(ip6->dst, dst, 16);
	memset(msg, 0, msg_len);
	msg[0] = type;
	msg[4] = flags;
	memcpy(msg + 8, target, 16);
	msg[24] = type == ICMP6_NEIGHBOR_SOLICIT ? NDP_OPT_SOURCE_LLADDR : NDP_OPT_TARGET_LLADDR;
	msg[25] = 1;
	memcpy(msg + 26, ns->mac, ETHER_ADDR_LEN);
	net_store_be16(msg + 2, net_csum_fold(net_csum_partial(
					msg, msg_len, net_csum_pseudo_v6(ip6->src, ip6->dst, IP_PROTO_ICMPV6, msg_len))));
}

static void ndp_solicitation_in(struct net_stack *ns, const uint8_t *src_mac, const struct ipv6_rx *rx)
{
	static const uint8_t all_nodes[16] = {0xff, 0x02, [15] = 0x01};
	static const uint8_t all_nodes_mac[ETHER_ADDR_LEN] = {0x33, 0x33, 0, 0, 0, 0x01};
	const struct ipv6_header *ip6 = rx->ip6;
	const uint8_t *target = rx->l4 + 8, *source_lladdr;
	bool dad = ipv6_addr_is_unspecified(ip6->src);
	uint8_t *frame;
	void *handle;

	if (!ndp_parse_options(rx->l4 + NDP_FIXED_LEN, rx->l4 + rx->l4_len, NDP_OPT_SOURCE_LLADDR, &source_lladdr) ||
	    (dad && (source_lladdr || !ipv6_addr_is_solicited_node_of(ip6->dst, target)))) {
		COUNTER_INC(&ns->counters, rx_drop_ndp_malformed);
		return;
	}
	if (memcmp(target, ns->ipv6, 16)) {
		COUNTER_INC(&ns->counters, rx_drop_ndp_not_ours);
		return;
	}
	if (!dad) {
		struct net_addr solicitor;

		if (!source_lladdr)
			source_lladdr = src_mac;
		if (source_lladdr[0] & 1) {
			COUNTER_INC(&ns->counters, rx_drop_ndp_malformed);
			return;
		}
		net_addr_v6(&solicitor, ip6->src);
		neigh_update(ns, &solicitor, source_lladdr);
	}
	frame = ns->io->frame_alloc(ns, &handle, NDP_FRAME_LEN);
	if (!frame)
		return;
	if (dad)
		ndp_fill(ns, frame, all_nodes_mac, all_nodes, ICMP6_NEIGHBOR_ADVERT, NDP_NA_FLAG_OVERRIDE, ns->ipv6);
	else
		ndp_fill(ns, frame, source_lladdr, ip6->src, ICMP6_NEIGHBOR_ADVERT,
			 NDP_NA_FLAG_SOLICITED | NDP_NA_FLAG_OVERRIDE, ns->ipv6);
	ns->io->frame_send(ns, handle, NDP_FRAME_LEN);
	if (dad)
		COUNTER_INC(&ns->counters, ndp_dad_probes_answered);
	else
		COUNTER_INC(&ns->counters, ndp_solicitations_answered);
}

static void ndp_advertisement_in(struct net_stack *ns, const struct ipv6_rx *rx)
{
	const uint8_t *target = rx->l4 + 8, *target_lladdr;
	uint8_t flags = rx->l4[4];
	struct net_addr neighbour;

	if (!ndp_parse_options(rx->l4 + NDP_FIXED_LEN, rx->l4 + rx->l4_len, NDP_OPT_TARGET_LLADDR, &target_lladdr) ||
	    (rx->multicast_dst && (flags & NDP_NA_FLAG_SOLICITED)) || (target_lladdr && (target_lladdr[0] & 1))) {
		COUNTER_INC(&ns->counters, rx_drop_ndp_malformed);
		return;
	}
	COUNTER_INC(&ns->counters, ndp_advertisements_received);
	if (!memcmp(target, ns->ipv6, 16)) {
		COUNTER_INC(&ns->counters, ndp_duplicate_address_seen);
		return;
	}
	if (!target_lladdr)
		return; /* nothing to learn (RFC 4861 §7.2.5: no change without the option) */
	net_addr_v6(&neighbour, target);
	if (neigh_advertised(ns, &neighbour, target_lladdr, flags & NDP_NA_FLAG_OVERRIDE) == -ENOENT)
		COUNTER_INC(&ns->counters, rx_drop_ndp_unsolicited);
}

void ndp_input(struct net_stack *ns, const uint8_t *src_mac, const struct ipv6_rx *rx)
{
	if (rx->ip6->hop_limit != NDP_HOP_LIMIT) {
		COUNTER_INC(&ns->counters, rx_drop_ndp_hop_limit);
		return;
	}
	if (rx->l4_len < NDP_FIXED_LEN || rx->l4[1] != 0 || ipv6_addr_is_multicast(rx->l4 + 8)) {
		COUNTER_INC(&ns->counters, rx_drop_ndp_malformed);
		return;
	}
	if (rx->l4[0] == ICMP6_NEIGHBOR_SOLICIT)
		ndp_solicitation_in(ns, src_mac, rx);
	else
		ndp_advertisement_in(ns, rx);
}

int ndp_send_solicitation(struct net_stack *ns, const uint8_t target[16], const uint8_t *mac)
{
	uint8_t group[16], group_mac[ETHER_ADDR_LEN];
	uint8_t *frame;
	void *handle;

	frame = ns->io->frame_alloc(ns, &handle, NDP_FRAME_LEN);
	if (!frame)
		return -ENOBUFS;
	if (mac) {
		ndp_fill(ns, frame, mac, target, ICMP6_NEIGHBOR_SOLICIT, 0, target);
	} else {
		ipv6_solicited_node(group, target);
		ipv6_multicast_mac(group_mac, group);
		ndp_fill(ns, frame, group_mac, group, ICMP6_NEIGHBOR_SOLICIT, 0, target);
	}
	ns->io->frame_send(ns, handle, NDP_FRAME_LEN);
	COUNTER_INC(&ns->counters, ndp_solicitations_sent);
	return 0;
}
