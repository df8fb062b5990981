/* SPDX-License-Identifier: BSD-3-Clause
 *
 * icmp.c: ICMP for IPv4, per packet: echo requests answered in place, errors counted by kind,
 * and "fragmentation needed" (type 3 code 4, RFC 1191) turned into a path MTU for TCP.
 *
 * A PMTU message is only believed when its quote is one of our own segments: at least the
 * quoted IPv4 header and the first 8 bytes of TCP (ports and sequence number), version 4,
 * source = our address, protocol TCP, first fragment. TCP then checks that the quoted
 * sequence number is in flight on that connection (RFC 5927 §4.1) before it lowers the MSS;
 * what became of each message is counted (icmp_pmtu_report, shared with ICMPv6). An attacker
 * off the path who cannot see our sequence numbers cannot shrink a connection's segments.
 *
 * Other errors (port unreachable, time exceeded, ...) are soft errors for a TCP sender
 * (RFC 1122 §4.2.3.9, RFC 5461): counted, never acted on.
 */
#include <errno.h>
#include <string.h>

#include "net_csum.h"
#include "net_proto.h"
#include "stack.h"
#include "tcp/tcp.h"

/* RFC 1191 §7: when a router reports a next-hop MTU of 0 (pre-RFC 1191 routers), take the
 * largest plateau below the length of the datagram that did not fit. */
static uint32_t icmp_mtu_plateau(uint32_t too_big_len)
{
	static const uint16_t plateaus[] = {32000, 17914, 8166, 4352, 2002, 1492, 1006, 508, 296, 68};

	for (uint32_t i = 0; i < sizeof(plateaus) / sizeof(plateaus[0]); i++)
		if (plateaus[i] < too_big_len)
			return plateaus[i];
	return 68;
}

void icmp_pmtu_report(struct net_stack *ns, const struct net_addr *remote, uint16_t remote_port, uint16_t local_port,
		      uint32_t seq, uint32_t mtu)
{
	switch (tcp_icmp_too_big(ns, remote, remote_port, local_port, seq, mtu)) {
	case 0:
		break; /* counted by TCP as tcp_pmtu_lowered */
	case -ENOENT:
		COUNTER_INC(&ns->counters, icmp_pmtu_ignored_no_connection);
		break;
	case -EINVAL:
		COUNTER_INC(&ns->counters, icmp_pmtu_ignored_not_in_flight);
		break;
	default:
		COUNTER_INC(&ns->counters, icmp_pmtu_ignored_not_smaller);
		break;
	}
}

/* Type 3 code 4: validates the quote (see the file comment) and reports the MTU. */
static void icmp_frag_needed(struct net_stack *ns, const struct icmp_header *icmp, uint32_t icmp_len)
{
	const struct ipv4_header *inner = (const struct ipv4_header *)(icmp + 1);
	const uint8_t *quoted_tcp;
	uint32_t inner_header_len, mtu;
	struct net_addr remote;

	COUNTER_INC(&ns->counters, icmp_frag_needed_received);
	if (icmp_len < sizeof(*icmp) + sizeof(*inner) + 8 || (inner->version_ihl >> 4) != 4) {
		COUNTER_INC(&ns->counters, rx_drop_icmp_bad_quote);
		return;
	}
	inner_header_len = (uint32_t)(inner->version_ihl & 0xf) * 4;
	if (inner_header_len < sizeof(*inner) || icmp_len < sizeof(*icmp) + inner_header_len + 8 ||
	    inner->src != ns->ipv4 || inner->protocol != IP_PROTO_TCP ||
	    (__builtin_bswap16(inner->fragment) & IPV4_OFFSET_MASK)) {
		COUNTER_INC(&ns->counters, rx_drop_icmp_bad_quote);
		return;
	}
	quoted_tcp = (const uint8_t *)inner + inner_header_len;
	mtu = net_load_be16((const uint8_t *)&icmp->rest + 2);
	if (!mtu)
		mtu = icmp_mtu_plateau(__builtin_bswap16(inner->total_length));
	net_addr_v4(&remote, inner->dst);
	/* Quoted TCP: our port first (we sent it), the peer's second, then the sequence. */
	icmp_pmtu_report(ns, &remote, ((const struct tcp_header *)quoted_tcp)->dst_port,
			 ((const struct tcp_header *)quoted_tcp)->src_port, net_load_be32(quoted_tcp + 4), mtu);
}

void icmp_input(struct net_stack *ns, void *frame, uint8_t *data, struct ipv4_header *ip, uint32_t ip_header_len,
		uint32_t ip_total_len)
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
	switch (icmp->type) {
	case ICMP_ECHO_REQUEST:
		if (icmp->code == 0)
			break;
		COUNTER_INC(&ns->counters, icmp_other_received);
		goto drop;
	case ICMP_DEST_UNREACH:
		if (icmp->code == ICMP_FRAG_NEEDED)
			icmp_frag_needed(ns, icmp, icmp_len);
		else
			COUNTER_INC(&ns->counters, icmp_dest_unreach_received);
		goto drop;
	case ICMP_TIME_EXCEEDED:
		COUNTER_INC(&ns->counters, icmp_time_exceeded_received);
		goto drop;
	default:
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
	ns->io->frame_send(ns, frame, ETHER_HDR_LEN + (uint32_t)sizeof(*ip) + icmp_len);
	COUNTER_INC(&ns->counters, icmp_echo_answered);
	return;
drop:
	ns->io->frame_free(ns, frame);
}
