/* SPDX-License-Identifier: BSD-3-Clause
 *
 * test_net.c: the receive path beyond IPv4/TCP, driven through net_harness: the Ethernet
 * multicast filter, IPv6 input (header, extension headers within and beyond the bound,
 * fragments, addresses), ICMPv6 echo, NDP (solicitations for us, for others, duplicate
 * address detection, advertisements learned, solicitations we send), TCP over IPv6 from
 * handshake to TIME_WAIT, ICMP errors counted by kind, and PMTU for IPv4 and IPv6 (a quote
 * of a segment in flight lowers the MSS and the segments come again smaller; stale or forged
 * quotes are ignored and counted). Every valid frame kind is also cut at every byte and
 * injected from a buffer that ends at a guard page.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "net/neigh.h"
#include "net/net_csum.h"
#include "net/net_proto.h"
#include "net_harness.h"
#include "test_main.h"

#define CLIENT_ISN 5000000u
#define FRAME_BUF 2048

static struct harness h;

static const uint8_t all_nodes[16] = {0xff, 0x02, [15] = 0x01};
static const uint8_t unspecified[16];
static const uint8_t our_address[16] = {0xfd, 0x5c, [15] = 0x01};     /* fd5c::1 */
static const uint8_t other_group_mac[6] = {0x33, 0x33, 0xff, 0x00, 0x00, 0x09};
static const uint8_t other_host[16] = {0xfd, 0x5c, [15] = 0x09};            /* fd5c::9 */
static const uint8_t our_group[16] = {0xff, 0x02, [11] = 0x01, 0xff, 0x00, 0x00, 0x01}; /* ff02::1:ff00:1 */
static const uint8_t other_group[16] = {0xff, 0x02, [11] = 0x01, 0xff, 0x00, 0x00, 0x09};
static const uint8_t our_group_mac[6] = {0x33, 0x33, 0xff, 0x00, 0x00, 0x01};
static const uint8_t all_nodes_mac[6] = {0x33, 0x33, 0x00, 0x00, 0x00, 0x01};
static const uint8_t router_mac[6] = {0x02, 0, 0, 0, 0, 0xfe};

/* --- builders ------------------------------------------------------------------------------ */

/* ICMPv6 echo request body: type, code, checksum (filled by the builder), id, seq, data. */
static uint32_t echo6_body(uint8_t *b, uint32_t data_len)
{
	b[0] = ICMP6_ECHO_REQUEST;
	b[1] = 0;
	b[2] = b[3] = 0;
	net_store_be16(b + 4, 0x1234);
	net_store_be16(b + 6, 7);
	for (uint32_t i = 0; i < data_len; i++)
		b[8 + i] = (uint8_t)(i * 3 + 1);
	return 8 + data_len;
}

/* NS or NA body: target, then an optional link-layer address option. */
static uint32_t ndp_body(uint8_t *b, uint8_t type, uint8_t flags, const uint8_t target[16], uint8_t opt_type,
			 const uint8_t *opt_mac)
{
	memset(b, 0, 32);
	b[0] = type;
	b[4] = flags;
	memcpy(b + 8, target, 16);
	if (!opt_mac)
		return 24;
	b[24] = opt_type;
	b[25] = 1;
	memcpy(b + 26, opt_mac, 6);
	return 32;
}

static uint32_t build_ns(uint8_t *frame, const uint8_t *src, const uint8_t *dst, const uint8_t *dst_mac,
			 const uint8_t target[16], const uint8_t *slla, uint8_t hop_limit)
{
	uint8_t body[32];
	uint32_t n = ndp_body(body, ICMP6_NEIGHBOR_SOLICIT, 0, target, NDP_OPT_SOURCE_LLADDR, slla);
	struct harness_ip6_spec spec = {.src = src, .dst = dst, .dst_mac = dst_mac, .hop_limit = hop_limit,
					.upper = IP_PROTO_ICMPV6};

	return harness_build_ipv6(&h, frame, &spec, body, n);
}

static uint32_t build_na(uint8_t *frame, const uint8_t *dst, const uint8_t *dst_mac, uint8_t flags,
			 const uint8_t target[16], const uint8_t *tlla)
{
	uint8_t body[32];
	uint32_t n = ndp_body(body, ICMP6_NEIGHBOR_ADVERT, flags, target, NDP_OPT_TARGET_LLADDR, tlla);
	struct harness_ip6_spec spec = {.src = h.client_ip6, .dst = dst, .dst_mac = dst_mac, .hop_limit = 255,
					.upper = IP_PROTO_ICMPV6};

	return harness_build_ipv6(&h, frame, &spec, body, n);
}

/* An ICMPv4 error from a router: type/code, the 4 bytes after the checksum, the quote. */
static uint32_t build_icmp4_error(uint8_t *frame, uint8_t type, uint8_t code, uint32_t rest_host,
				  const uint8_t *quote, uint32_t quote_len)
{
	struct ether_header *eth = (struct ether_header *)frame;
	struct ipv4_header *ip = (struct ipv4_header *)(frame + ETHER_HDR_LEN);
	uint8_t *icmp = (uint8_t *)(ip + 1);
	uint32_t icmp_len = 8 + quote_len;

	memcpy(eth->dst, h.ns.mac, 6);
	memcpy(eth->src, router_mac, 6);
	eth->type = htons(ETHER_TYPE_IPV4);
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = 0x45;
	ip->total_length = htons((uint16_t)(20 + icmp_len));
	ip->ttl = 64;
	ip->protocol = IP_PROTO_ICMP;
	ip->src = htonl(0xc61200fe);
	ip->dst = h.ns.ipv4;
	net_store_be16(&ip->checksum, net_csum_fold(net_csum_partial(ip, 20, 0)));
	icmp[0] = type;
	icmp[1] = code;
	icmp[2] = icmp[3] = 0;
	net_store_be32(icmp + 4, rest_host);
	memcpy(icmp + 8, quote, quote_len);
	net_store_be16(icmp + 2, net_csum_fold(net_csum_partial(icmp, icmp_len, 0)));
	return ETHER_HDR_LEN + 20 + icmp_len;
}

static uint32_t build_icmp6_error(uint8_t *frame, uint8_t type, uint8_t code, uint32_t rest_host,
				  const uint8_t *quote, uint32_t quote_len)
{
	static const uint8_t router[16] = {0xfd, 0x5c, [15] = 0xfe};
	uint8_t body[1400];
	struct harness_ip6_spec spec = {.src = router, .upper = IP_PROTO_ICMPV6};

	body[0] = type;
	body[1] = code;
	body[2] = body[3] = 0;
	net_store_be32(body + 4, rest_host);
	memcpy(body + 8, quote, quote_len);
	return harness_build_ipv6(&h, frame, &spec, body, 8 + quote_len);
}

/* Extension header of type-specific layout: next header, length in 8-byte units beyond the
 * first 8, then the body (options for HBH/destination options, routing fields). */
static uint32_t ext_header(uint8_t *p, uint8_t next, uint32_t len8, const uint8_t *body, uint32_t body_len)
{
	uint32_t total = (len8 + 1) * 8;

	memset(p, 0, total);
	p[0] = next;
	p[1] = (uint8_t)len8;
	/* Default body: one PadN covering the rest (a valid options area). */
	p[2] = 1;
	p[3] = (uint8_t)(total - 4);
	if (body)
		memcpy(p + 2, body, body_len);
	return total;
}

static uint32_t count_counter(enum dp_counter_id id) { return (uint32_t)h.ns.counters.value[id]; }

/* --- the Ethernet multicast filter -------------------------------------------------------- */

static void test_multicast_mac_filter(void)
{
	static const struct {
		const char *description;
		uint8_t dst_mac[6];
		bool ipv6_enabled;
		bool expect_answer;
		enum dp_counter_id expect_counter;
	} cases[] = {
		{"our solicited-node group 33:33:ff:00:00:01", {0x33, 0x33, 0xff, 0x00, 0x00, 0x01}, true, true,
		 DPC_ndp_solicitations_answered},
		{"all-nodes 33:33:00:00:00:01", {0x33, 0x33, 0, 0, 0, 0x01}, true, true, DPC_ndp_solicitations_answered},
		{"our unicast MAC", {0x02, 0, 0, 0, 0, 0x01}, true, true, DPC_ndp_solicitations_answered},
		{"another solicited-node group", {0x33, 0x33, 0xff, 0x00, 0x00, 0x09}, true, false, DPC_rx_drop_multicast_mac},
		{"all-routers 33:33:00:00:00:02", {0x33, 0x33, 0, 0, 0, 0x02}, true, false, DPC_rx_drop_multicast_mac},
		{"IPv4 multicast 01:00:5e:00:00:01", {0x01, 0x00, 0x5e, 0, 0, 0x01}, true, false, DPC_rx_drop_multicast_mac},
		{"our group with IPv6 disabled", {0x33, 0x33, 0xff, 0x00, 0x00, 0x01}, false, false,
		 DPC_rx_drop_multicast_mac},
		{"another host's unicast MAC", {0x02, 0, 0, 0, 0, 0x77}, true, false, DPC_rx_drop_not_our_mac},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint8_t frame[FRAME_BUF];
		uint32_t len;

		harness_init(&h, 4);
		h.ns.ipv6_enabled = cases[i].ipv6_enabled;
		len = build_ns(frame, h.client_ip6, our_group, cases[i].dst_mac, h.ns.ipv6, h.client_mac, 255);
		harness_inject(&h, frame, len);
		TEST_CHECK((h.tx_count == 1) == cases[i].expect_answer, "%s: answered %u", cases[i].description,
			   h.tx_count);
		TEST_CHECK(count_counter(cases[i].expect_counter) == 1, "%s: counter %s", cases[i].description,
			   dp_counter_name(cases[i].expect_counter));
		harness_fini(&h);
	}
}

/* --- IPv6 input ----------------------------------------------------------------------------- */

enum payload_kind { PAYLOAD_ECHO, PAYLOAD_TCP_SYN, PAYLOAD_UDP, PAYLOAD_NONE };

static void mutate_version4(uint8_t *f, uint32_t *len) { (void)len; f[ETHER_HDR_LEN] = 0x45; }
static void mutate_length_beyond(uint8_t *f, uint32_t *len)
{
	uint8_t *pl = f + ETHER_HDR_LEN + 4;
	(void)len;
	net_store_be16(pl, (uint16_t)(net_load_be16(pl) + 1));
}
static void mutate_padding(uint8_t *f, uint32_t *len)
{
	/* Ethernet padding after the IPv6 payload is not part of it. */
	memset(f + *len, 0xee, 20);
	*len += 20;
}
static void mutate_short_header(uint8_t *f, uint32_t *len) { (void)f; *len = ETHER_HDR_LEN + 39; }

static void test_ipv6_input_table(void)
{
	/* Extension headers used by the table (built once below). */
	static const uint8_t opt_router_alert[] = {5, 2, 0, 0, 1, 0};      /* router alert + PadN(0) */
	static const uint8_t opt_unknown_skip[] = {0x1e, 2, 0xaa, 0xbb, 0, 0}; /* action 00: skip */
	static const uint8_t opt_unknown_discard[] = {0x5e, 2, 0xaa, 0xbb, 0, 0}; /* action 01 */
	static const uint8_t opt_jumbo[] = {0xc2, 4, 0, 1, 0, 0};
	static const uint8_t opt_overrun[] = {1, 9, 0, 0, 0, 0};          /* PadN longer than the header */
	static const uint8_t routing_left0[] = {0, 0, 0, 0, 0, 0};        /* type 0, segments left 0 */
	static const uint8_t routing_left1[] = {4, 1, 0, 0, 0, 0};        /* SRH, segments left 1 */
	static const struct {
		const char *description;
		const uint8_t *src, *dst, *dst_mac;
		/* extension headers, in order: type and option body (NULL: PadN) */
		uint8_t ext_types[6];
		const uint8_t *ext_bodies[6];
		uint32_t ext_count;
		uint32_t ext_len8_last;           /* length field of the last header (0 normally) */
		enum payload_kind payload;
		void (*mutate)(uint8_t *frame, uint32_t *len);
		bool disabled;
		enum dp_counter_id expect;        /* DPC_icmp6_echo_answered / DPC_tcp_syn_received = served */
	} cases[] = {
		{"plain echo request", NULL, NULL, NULL, {0}, {0}, 0, 0, PAYLOAD_ECHO, NULL, false, DPC_icmp6_echo_answered},
		{"Ethernet padding after the payload", NULL, NULL, NULL, {0}, {0}, 0, 0, PAYLOAD_ECHO, mutate_padding, false,
		 DPC_icmp6_echo_answered},
		{"IPv6 disabled", NULL, NULL, NULL, {0}, {0}, 0, 0, PAYLOAD_ECHO, NULL, true, DPC_rx_drop_ipv6_disabled},
		{"version 4 in an IPv6 frame", NULL, NULL, NULL, {0}, {0}, 0, 0, PAYLOAD_ECHO, mutate_version4, false,
		 DPC_rx_drop_ipv6_header},
		{"frame shorter than the fixed header", NULL, NULL, NULL, {0}, {0}, 0, 0, PAYLOAD_ECHO, mutate_short_header,
		 false, DPC_rx_drop_ipv6_header},
		{"payload length beyond the frame", NULL, NULL, NULL, {0}, {0}, 0, 0, PAYLOAD_ECHO, mutate_length_beyond,
		 false, DPC_rx_drop_ipv6_length},
		{"multicast source", all_nodes, NULL, NULL, {0}, {0}, 0, 0, PAYLOAD_ECHO, NULL, false, DPC_rx_drop_ipv6_source},
		{"our own address as source", our_address, NULL, NULL, {0}, {0}, 0, 0,
		 PAYLOAD_ECHO, NULL, false, DPC_rx_drop_ipv6_source},
		{"another unicast destination", NULL, other_host, NULL, {0}, {0}, 0, 0, PAYLOAD_ECHO, NULL, false,
		 DPC_rx_drop_not_our_address},
		{"another solicited-node group", NULL, other_group, NULL, {0}, {0}, 0, 0, PAYLOAD_ECHO, NULL, false,
		 DPC_rx_drop_not_our_address},
		{"echo to all-nodes is not answered", NULL, all_nodes, all_nodes_mac, {0}, {0}, 0, 0, PAYLOAD_ECHO, NULL,
		 false, DPC_rx_drop_ipv6_multicast},
		{"TCP to all-nodes", NULL, all_nodes, all_nodes_mac, {0}, {0}, 0, 0, PAYLOAD_TCP_SYN, NULL, false,
		 DPC_rx_drop_ipv6_multicast},
		{"TCP from ::", unspecified, NULL, NULL, {0}, {0}, 0, 0, PAYLOAD_TCP_SYN, NULL, false, DPC_rx_drop_ipv6_source},
		{"TCP SYN", NULL, NULL, NULL, {0}, {0}, 0, 0, PAYLOAD_TCP_SYN, NULL, false, DPC_tcp_syn_received},
		{"UDP", NULL, NULL, NULL, {0}, {0}, 0, 0, PAYLOAD_UDP, NULL, false, DPC_rx_drop_ipv6_protocol},
		{"no next header", NULL, NULL, NULL, {0}, {0}, 0, 0, PAYLOAD_NONE, NULL, false, DPC_rx_drop_ipv6_protocol},
		{"hop-by-hop with router alert", NULL, NULL, NULL, {IPV6_NEXT_HOP_BY_HOP}, {opt_router_alert}, 1, 0,
		 PAYLOAD_ECHO, NULL, false, DPC_icmp6_echo_answered},
		{"destination options, unknown option to skip", NULL, NULL, NULL, {IPV6_NEXT_DEST_OPTIONS},
		 {opt_unknown_skip}, 1, 0, PAYLOAD_ECHO, NULL, false, DPC_icmp6_echo_answered},
		{"destination options, unknown option to discard", NULL, NULL, NULL, {IPV6_NEXT_DEST_OPTIONS},
		 {opt_unknown_discard}, 1, 0, PAYLOAD_ECHO, NULL, false, DPC_rx_drop_ipv6_option},
		{"hop-by-hop jumbo payload option", NULL, NULL, NULL, {IPV6_NEXT_HOP_BY_HOP}, {opt_jumbo}, 1, 0,
		 PAYLOAD_ECHO, NULL, false, DPC_rx_drop_ipv6_option},
		{"option longer than its header", NULL, NULL, NULL, {IPV6_NEXT_DEST_OPTIONS}, {opt_overrun}, 1, 0,
		 PAYLOAD_ECHO, NULL, false, DPC_rx_drop_ipv6_option},
		{"routing header, segments left 0", NULL, NULL, NULL, {IPV6_NEXT_ROUTING}, {routing_left0}, 1, 0,
		 PAYLOAD_ECHO, NULL, false, DPC_icmp6_echo_answered},
		{"routing header, segments left 1", NULL, NULL, NULL, {IPV6_NEXT_ROUTING}, {routing_left1}, 1, 0,
		 PAYLOAD_ECHO, NULL, false, DPC_rx_drop_ipv6_routing},
		{"hop-by-hop after another header", NULL, NULL, NULL, {IPV6_NEXT_DEST_OPTIONS, IPV6_NEXT_HOP_BY_HOP},
		 {0}, 2, 0, PAYLOAD_ECHO, NULL, false, DPC_rx_drop_ipv6_ext_header},
		{"fragment header", NULL, NULL, NULL, {IPV6_NEXT_FRAGMENT}, {0}, 1, 0, PAYLOAD_ECHO, NULL, false,
		 DPC_rx_drop_ipv6_fragment},
		{"fragment after destination options", NULL, NULL, NULL, {IPV6_NEXT_DEST_OPTIONS, IPV6_NEXT_FRAGMENT},
		 {0}, 2, 0, PAYLOAD_TCP_SYN, NULL, false, DPC_rx_drop_ipv6_fragment},
		{"extension header longer than the payload", NULL, NULL, NULL, {IPV6_NEXT_DEST_OPTIONS}, {0}, 1, 200,
		 PAYLOAD_ECHO, NULL, false, DPC_rx_drop_ipv6_ext_header},
		{"4 extension headers (the bound)", NULL, NULL, NULL,
		 {IPV6_NEXT_HOP_BY_HOP, IPV6_NEXT_DEST_OPTIONS, IPV6_NEXT_ROUTING, IPV6_NEXT_DEST_OPTIONS},
		 {0, 0, routing_left0, 0}, 4, 0, PAYLOAD_ECHO, NULL, false, DPC_icmp6_echo_answered},
		{"4 extension headers before TCP", NULL, NULL, NULL,
		 {IPV6_NEXT_HOP_BY_HOP, IPV6_NEXT_DEST_OPTIONS, IPV6_NEXT_ROUTING, IPV6_NEXT_DEST_OPTIONS},
		 {0, 0, routing_left0, 0}, 4, 0, PAYLOAD_TCP_SYN, NULL, false, DPC_tcp_syn_received},
		{"5 extension headers (beyond the bound)", NULL, NULL, NULL,
		 {IPV6_NEXT_HOP_BY_HOP, IPV6_NEXT_DEST_OPTIONS, IPV6_NEXT_ROUTING, IPV6_NEXT_DEST_OPTIONS,
		  IPV6_NEXT_DEST_OPTIONS},
		 {0, 0, routing_left0, 0, 0}, 5, 0, PAYLOAD_ECHO, NULL, false, DPC_rx_drop_ipv6_ext_limit},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint8_t frame[FRAME_BUF], ext[512], l4[256];
		uint32_t ext_len = 0, l4_len = 0, len;
		uint8_t upper;
		bool served = cases[i].expect == DPC_icmp6_echo_answered || cases[i].expect == DPC_tcp_syn_received;
		struct harness_ip6_spec spec;

		harness_init(&h, 4);
		h.ns.ipv6_enabled = !cases[i].disabled;
		switch (cases[i].payload) {
		case PAYLOAD_ECHO:
			upper = IP_PROTO_ICMPV6;
			l4_len = echo6_body(l4, 24);
			break;
		case PAYLOAD_TCP_SYN:
			upper = IP_PROTO_TCP;
			h.client_v6 = true;
			len = harness_build_tcp(&h, frame, 40000, 80, TCP_FLAG_SYN, CLIENT_ISN, 0, 65535, NULL, NULL, 0);
			l4_len = len - ETHER_HDR_LEN - 40;
			memcpy(l4, frame + ETHER_HDR_LEN + 40, l4_len);
			break;
		case PAYLOAD_UDP:
			upper = 17;
			memset(l4, 0, 16);
			l4_len = 16;
			break;
		default:
			upper = 59;
			l4_len = 0;
			break;
		}
		for (uint32_t e = 0; e < cases[i].ext_count; e++) {
			uint8_t next = e + 1 < cases[i].ext_count ? cases[i].ext_types[e + 1] : upper;
			const uint8_t *body = cases[i].ext_bodies[e];

			if (cases[i].ext_types[e] == IPV6_NEXT_FRAGMENT) {
				memset(ext + ext_len, 0, 8);
				ext[ext_len] = next;
				net_store_be16(ext + ext_len + 2, 0x0001); /* offset 0, more fragments */
				ext_len += 8;
				continue;
			}
			if (e + 1 == cases[i].ext_count && cases[i].ext_len8_last)
				ext[ext_len + 1] = 0; /* placeholder, patched below */
			ext_len += ext_header(ext + ext_len, next, 0, body, body ? 6 : 0);
			if (e + 1 == cases[i].ext_count && cases[i].ext_len8_last)
				ext[ext_len - 8 + 1] = (uint8_t)cases[i].ext_len8_last; /* claims more than is there */
		}
		memset(&spec, 0, sizeof(spec));
		spec.src = cases[i].src;
		spec.dst = cases[i].dst;
		spec.dst_mac = cases[i].dst_mac;
		spec.next_header = cases[i].ext_count ? cases[i].ext_types[0] : upper;
		spec.ext = ext;
		spec.ext_len = ext_len;
		spec.upper = upper;
		len = harness_build_ipv6(&h, frame, &spec, l4, l4_len);
		if (cases[i].mutate)
			cases[i].mutate(frame, &len);
		harness_inject(&h, frame, len);
		TEST_CHECK(count_counter(cases[i].expect) == 1, "%s: %s counted (rx_drop_ipv6_header %u length %u "
			   "ext %u option %u)", cases[i].description, dp_counter_name(cases[i].expect),
			   count_counter(DPC_rx_drop_ipv6_header), count_counter(DPC_rx_drop_ipv6_length),
			   count_counter(DPC_rx_drop_ipv6_ext_header), count_counter(DPC_rx_drop_ipv6_option));
		TEST_CHECK((h.tx_count == 1) == served, "%s: %u frames sent", cases[i].description, h.tx_count);
		if (served && cases[i].payload == PAYLOAD_ECHO) {
			struct harness_ip6_frame out;

			TEST_CHECK(harness_tx_ipv6(&h, 0, &out) && out.next_header == IP_PROTO_ICMPV6 &&
					   out.l4[0] == ICMP6_ECHO_REPLY && out.checksum_ok &&
					   out.payload_len == l4_len && !memcmp(out.l4 + 4, l4 + 4, l4_len - 4),
				   "%s: echo reply without extension headers, same id/seq/data", cases[i].description);
		}
		harness_fini(&h);
	}
}

static void test_icmp6_echo(void)
{
	uint8_t frame[FRAME_BUF], body[1300];
	struct harness_ip6_spec spec = {.upper = IP_PROTO_ICMPV6};
	struct harness_ip6_frame out;
	uint32_t n, len;

	harness_init(&h, 4);
	n = echo6_body(body, 1200);
	len = harness_build_ipv6(&h, frame, &spec, body, n);
	harness_inject(&h, frame, len);
	CU_ASSERT_EQUAL_FATAL(h.tx_count, 1);
	CU_ASSERT_FATAL(harness_tx_ipv6(&h, 0, &out));
	CU_ASSERT(!memcmp(out.eth_dst, h.client_mac, 6) && !memcmp(out.eth_src, h.ns.mac, 6));
	CU_ASSERT(!memcmp(out.src, h.ns.ipv6, 16) && !memcmp(out.dst, h.client_ip6, 16));
	CU_ASSERT_EQUAL(out.hop_limit, 64);
	CU_ASSERT(out.l4[0] == ICMP6_ECHO_REPLY && out.l4[1] == 0);
	CU_ASSERT(out.checksum_ok);
	CU_ASSERT_EQUAL(out.payload_len, n);
	CU_ASSERT(!memcmp(out.l4 + 4, body + 4, n - 4));
	CU_ASSERT_EQUAL(count_counter(DPC_icmp6_echo_answered), 1);
	/* A wrong checksum: dropped and counted, no reply. */
	harness_clear_tx(&h);
	spec.bad_checksum = true;
	len = harness_build_ipv6(&h, frame, &spec, body, n);
	harness_inject(&h, frame, len);
	CU_ASSERT_EQUAL(h.tx_count, 0);
	CU_ASSERT_EQUAL(count_counter(DPC_rx_drop_icmp6_checksum), 1);
	/* Echo with code 1, and an ICMPv6 message shorter than its header. */
	spec.bad_checksum = false;
	body[1] = 1;
	len = harness_build_ipv6(&h, frame, &spec, body, n);
	harness_inject(&h, frame, len);
	len = harness_build_ipv6(&h, frame, &spec, body, 6);
	harness_inject(&h, frame, len);
	CU_ASSERT_EQUAL(h.tx_count, 0);
	CU_ASSERT_EQUAL(count_counter(DPC_icmp6_other_received), 1);
	CU_ASSERT_EQUAL(count_counter(DPC_rx_drop_icmp6_malformed), 1);
	harness_fini(&h);
}

static void test_icmp_errors_by_kind(void)
{
	static const struct {
		const char *description;
		bool v6;
		uint8_t type, code;
		enum dp_counter_id expect;
	} cases[] = {
		{"IPv4 port unreachable", false, ICMP_DEST_UNREACH, 3, DPC_icmp_dest_unreach_received},
		{"IPv4 admin prohibited", false, ICMP_DEST_UNREACH, 13, DPC_icmp_dest_unreach_received},
		{"IPv4 time exceeded", false, ICMP_TIME_EXCEEDED, 0, DPC_icmp_time_exceeded_received},
		{"IPv4 source quench (obsolete)", false, 4, 0, DPC_icmp_other_received},
		{"IPv4 echo reply", false, ICMP_ECHO_REPLY, 0, DPC_icmp_other_received},
		{"IPv6 destination unreachable", true, ICMP6_DEST_UNREACH, 4, DPC_icmp6_dest_unreach_received},
		{"IPv6 time exceeded", true, ICMP6_TIME_EXCEEDED, 0, DPC_icmp6_time_exceeded_received},
		{"IPv6 parameter problem", true, ICMP6_PARAM_PROBLEM, 1, DPC_icmp6_param_problem_received},
		{"IPv6 router advertisement", true, ICMP6_ROUTER_ADVERT, 0, DPC_ndp_router_adverts_ignored},
		{"IPv6 redirect", true, ICMP6_REDIRECT, 0, DPC_ndp_redirects_ignored},
		{"IPv6 router solicitation", true, ICMP6_ROUTER_SOLICIT, 0, DPC_icmp6_other_received},
		{"MLDv2 report", true, 143, 0, DPC_icmp6_other_received},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint8_t frame[FRAME_BUF], quote[48];
		uint32_t len;

		memset(quote, 0x11, sizeof(quote));
		harness_init(&h, 4);
		len = cases[i].v6 ? build_icmp6_error(frame, cases[i].type, cases[i].code, 0, quote, sizeof(quote))
				  : build_icmp4_error(frame, cases[i].type, cases[i].code, 0, quote, 28);
		harness_inject(&h, frame, len);
		TEST_CHECK(count_counter(cases[i].expect) == 1, "%s: %s", cases[i].description,
			   dp_counter_name(cases[i].expect));
		TEST_CHECK(h.tx_count == 0, "%s: nothing sent", cases[i].description);
		harness_fini(&h);
	}
}

/* --- NDP ------------------------------------------------------------------------------------ */

/* Checks that frame i is our NA: addressed as given, flags, target, our MAC as option. */
static void check_na(uint32_t i, const uint8_t *eth_dst, const uint8_t *ip_dst, uint8_t flags, const char *what)
{
	struct harness_ip6_frame out;

	TEST_CHECK(harness_tx_ipv6(&h, i, &out), "%s: an IPv6 frame", what);
	TEST_CHECK(!memcmp(out.eth_dst, eth_dst, 6) && !memcmp(out.eth_src, h.ns.mac, 6), "%s: Ethernet addresses", what);
	TEST_CHECK(!memcmp(out.src, h.ns.ipv6, 16) && !memcmp(out.dst, ip_dst, 16), "%s: IPv6 addresses", what);
	TEST_CHECK(out.hop_limit == 255 && out.next_header == IP_PROTO_ICMPV6 && out.payload_len == 32, "%s: hop/len",
		   what);
	TEST_CHECK(out.checksum_ok, "%s: ICMPv6 checksum", what);
	TEST_CHECK(out.l4[0] == ICMP6_NEIGHBOR_ADVERT && out.l4[1] == 0, "%s: type", what);
	TEST_CHECK(out.l4[4] == flags && !out.l4[5] && !out.l4[6] && !out.l4[7], "%s: flags %#x want %#x", what,
		   out.l4[4], flags);
	TEST_CHECK(!memcmp(out.l4 + 8, h.ns.ipv6, 16), "%s: target is our address", what);
	TEST_CHECK(out.l4[24] == NDP_OPT_TARGET_LLADDR && out.l4[25] == 1 && !memcmp(out.l4 + 26, h.ns.mac, 6),
		   "%s: target link-layer address option", what);
}

static void test_ndp_solicitations(void)
{
	static const uint8_t slla[6] = {0x02, 0, 0, 0, 0, 0x42};
	static const struct {
		const char *description;
		const uint8_t *src, *dst, *dst_mac, *target, *slla;
		uint8_t hop_limit;
		bool expect_na;
		const uint8_t *na_eth_dst, *na_ip_dst;
		uint8_t na_flags;
		bool expect_learned;              /* the solicitor's address → slla (or its Ethernet source) */
		const uint8_t *learned_mac;
		enum dp_counter_id expect;
	} cases[] = {
		{"NS for us to our group, with SLLA", NULL, our_group, our_group_mac, NULL, slla, 255, true, slla, NULL,
		 NDP_NA_FLAG_SOLICITED | NDP_NA_FLAG_OVERRIDE, true, slla, DPC_ndp_solicitations_answered},
		{"NS for us, unicast, without SLLA", NULL, NULL, NULL, NULL, NULL, 255, true, NULL, NULL,
		 NDP_NA_FLAG_SOLICITED | NDP_NA_FLAG_OVERRIDE, true, NULL, DPC_ndp_solicitations_answered},
		{"NS for another address", NULL, other_group, other_group_mac, other_host,
		 slla, 255, false, NULL, NULL, 0, false, NULL, DPC_rx_drop_multicast_mac},
		{"NS for another address to our MAC", NULL, NULL, NULL, other_host, slla, 255, false, NULL, NULL, 0, false,
		 NULL, DPC_rx_drop_ndp_not_ours},
		{"DAD probe for our address", unspecified, our_group, our_group_mac, NULL, NULL, 255, true, all_nodes_mac,
		 all_nodes, NDP_NA_FLAG_OVERRIDE, false, NULL, DPC_ndp_dad_probes_answered},
		{"DAD probe with SLLA (invalid)", unspecified, our_group, our_group_mac, NULL, slla, 255, false, NULL, NULL,
		 0, false, NULL, DPC_rx_drop_ndp_malformed},
		{"DAD probe to our unicast address (invalid)", unspecified, NULL, NULL, NULL, NULL, 255, false, NULL, NULL,
		 0, false, NULL, DPC_rx_drop_ndp_malformed},
		{"hop limit 64 (crossed a router)", NULL, our_group, our_group_mac, NULL, slla, 64, false, NULL, NULL, 0,
		 false, NULL, DPC_rx_drop_ndp_hop_limit},
		{"multicast target", NULL, our_group, our_group_mac, all_nodes, slla, 255, false, NULL, NULL, 0, false, NULL,
		 DPC_rx_drop_ndp_malformed},
		{"multicast SLLA", NULL, our_group, our_group_mac, NULL, all_nodes_mac, 255, false, NULL, NULL, 0, false,
		 NULL, DPC_rx_drop_ndp_malformed},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint8_t frame[FRAME_BUF], mac[6];
		struct net_addr client;
		uint32_t len;

		harness_init(&h, 4);
		len = build_ns(frame, cases[i].src ? cases[i].src : h.client_ip6, cases[i].dst, cases[i].dst_mac,
			       cases[i].target ? cases[i].target : h.ns.ipv6, cases[i].slla, cases[i].hop_limit);
		harness_inject(&h, frame, len);
		TEST_CHECK(count_counter(cases[i].expect) == 1, "%s: %s counted", cases[i].description,
			   dp_counter_name(cases[i].expect));
		TEST_CHECK((h.tx_count == 1) == cases[i].expect_na, "%s: %u frames", cases[i].description, h.tx_count);
		if (cases[i].expect_na && h.tx_count == 1)
			check_na(0, cases[i].na_eth_dst ? cases[i].na_eth_dst : h.client_mac,
				 cases[i].na_ip_dst ? cases[i].na_ip_dst : h.client_ip6, cases[i].na_flags,
				 cases[i].description);
		net_addr_v6(&client, h.client_ip6);
		TEST_CHECK(neigh_lookup(h.ns.neigh, &client, mac) == cases[i].expect_learned, "%s: learned",
			   cases[i].description);
		if (cases[i].expect_learned)
			TEST_CHECK(!memcmp(mac, cases[i].learned_mac ? cases[i].learned_mac : h.client_mac, 6),
				   "%s: learned MAC", cases[i].description);
		harness_fini(&h);
	}
	/* Malformed: an option of length 0, code 1, a message shorter than the fixed part. */
	{
		uint8_t frame[FRAME_BUF], body[40];
		struct harness_ip6_spec spec = {.dst = our_group, .dst_mac = our_group_mac, .hop_limit = 255,
						.upper = IP_PROTO_ICMPV6};
		uint32_t n, len;

		harness_init(&h, 4);
		n = ndp_body(body, ICMP6_NEIGHBOR_SOLICIT, 0, h.ns.ipv6, NDP_OPT_SOURCE_LLADDR, h.client_mac);
		body[25] = 0;
		len = harness_build_ipv6(&h, frame, &spec, body, n);
		harness_inject(&h, frame, len);
		body[25] = 1;
		body[1] = 1;
		len = harness_build_ipv6(&h, frame, &spec, body, n);
		harness_inject(&h, frame, len);
		body[1] = 0;
		len = harness_build_ipv6(&h, frame, &spec, body, 20);
		harness_inject(&h, frame, len);
		CU_ASSERT_EQUAL(count_counter(DPC_rx_drop_ndp_malformed), 3);
		CU_ASSERT_EQUAL(h.tx_count, 0);
		harness_fini(&h);
	}
}

static void test_ndp_solicit_and_learn(void)
{
	static const uint8_t client_group[16] = {0xff, 0x02, [11] = 0x01, 0xff, 0x00, 0x00, 0x02};
	static const uint8_t client_group_mac[6] = {0x33, 0x33, 0xff, 0x00, 0x00, 0x02};
	static const uint8_t new_mac[6] = {0x02, 0, 0, 0, 0, 0x55};
	struct harness_ip6_frame out;
	struct net_addr client, stranger;
	uint8_t frame[FRAME_BUF], mac[6];
	uint32_t len;

	harness_init(&h, 4);
	net_addr_v6(&client, h.client_ip6);
	/* Asked to resolve: NS to the solicited-node group, with our link-layer address. */
	neigh_solicit(&h.ns, &client);
	CU_ASSERT_EQUAL_FATAL(h.tx_count, 1);
	CU_ASSERT_FATAL(harness_tx_ipv6(&h, 0, &out));
	CU_ASSERT(!memcmp(out.eth_dst, client_group_mac, 6) && !memcmp(out.dst, client_group, 16));
	CU_ASSERT(!memcmp(out.src, h.ns.ipv6, 16) && out.hop_limit == 255 && out.checksum_ok);
	CU_ASSERT(out.l4[0] == ICMP6_NEIGHBOR_SOLICIT && !memcmp(out.l4 + 8, h.client_ip6, 16));
	CU_ASSERT(out.l4[24] == NDP_OPT_SOURCE_LLADDR && out.l4[25] == 1 && !memcmp(out.l4 + 26, h.ns.mac, 6));
	CU_ASSERT_EQUAL(count_counter(DPC_ndp_solicitations_sent), 1);
	/* Rate limited: not again within a second. */
	h.ns.now_us += 500000;
	neigh_solicit(&h.ns, &client);
	CU_ASSERT_EQUAL(h.tx_count, 1);
	CU_ASSERT(!neigh_lookup(h.ns.neigh, &client, mac));
	/* The solicited advertisement resolves it. */
	harness_clear_tx(&h);
	len = build_na(frame, NULL, NULL, NDP_NA_FLAG_SOLICITED | NDP_NA_FLAG_OVERRIDE, h.client_ip6, h.client_mac);
	harness_inject(&h, frame, len);
	CU_ASSERT(neigh_lookup(h.ns.neigh, &client, mac) && !memcmp(mac, h.client_mac, 6));
	CU_ASSERT_EQUAL(count_counter(DPC_ndp_advertisements_received), 1);
	CU_ASSERT_EQUAL(h.tx_count, 0);
	/* Confirming a known neighbour: unicast NS to its MAC and address. */
	h.ns.now_us += 1000000;
	neigh_solicit(&h.ns, &client);
	CU_ASSERT_EQUAL_FATAL(h.tx_count, 1);
	CU_ASSERT(harness_tx_ipv6(&h, 0, &out) && !memcmp(out.eth_dst, h.client_mac, 6) &&
		  !memcmp(out.dst, h.client_ip6, 16) && out.checksum_ok);
	/* Without the override flag a resolved entry keeps its MAC; with it, it changes. */
	len = build_na(frame, NULL, NULL, NDP_NA_FLAG_SOLICITED, h.client_ip6, new_mac);
	harness_inject(&h, frame, len);
	CU_ASSERT(neigh_lookup(h.ns.neigh, &client, mac) && !memcmp(mac, h.client_mac, 6));
	len = build_na(frame, NULL, NULL, NDP_NA_FLAG_SOLICITED | NDP_NA_FLAG_OVERRIDE, h.client_ip6, new_mac);
	harness_inject(&h, frame, len);
	CU_ASSERT(neigh_lookup(h.ns.neigh, &client, mac) && !memcmp(mac, new_mac, 6));
	/* An advertisement for an address we never asked about creates nothing. */
	net_addr_v6(&stranger, other_host);
	len = build_na(frame, all_nodes, all_nodes_mac, NDP_NA_FLAG_OVERRIDE, other_host, new_mac);
	harness_inject(&h, frame, len);
	CU_ASSERT(!neigh_lookup(h.ns.neigh, &stranger, mac));
	CU_ASSERT_EQUAL(count_counter(DPC_rx_drop_ndp_unsolicited), 1);
	/* Multicast advertisement flagged solicited: invalid. One claiming our address: counted. */
	len = build_na(frame, all_nodes, all_nodes_mac, NDP_NA_FLAG_SOLICITED, h.client_ip6, h.client_mac);
	harness_inject(&h, frame, len);
	CU_ASSERT_EQUAL(count_counter(DPC_rx_drop_ndp_malformed), 1);
	len = build_na(frame, all_nodes, all_nodes_mac, NDP_NA_FLAG_OVERRIDE, h.ns.ipv6, new_mac);
	harness_inject(&h, frame, len);
	CU_ASSERT_EQUAL(count_counter(DPC_ndp_duplicate_address_seen), 1);
	CU_ASSERT_EQUAL(h.tx_count, 1); /* only the unicast NS above */
	/* With IPv6 disabled nothing is solicited. */
	h.ns.ipv6_enabled = false;
	h.ns.now_us += 2000000;
	neigh_solicit(&h.ns, &client);
	CU_ASSERT_EQUAL(h.tx_count, 1);
	harness_fini(&h);
}

/* --- TCP over IPv6 --------------------------------------------------------------------------- */

static void test_tcp6_handshake_data_close(void)
{
	struct harness_ip6_frame out;
	struct harness_segment seg;
	struct tcp_conn *c;
	uint32_t iss, fin_seq = 0, bytes = 0;
	bool all_ok = true;
	static const char req[] = "GET /v HTTP/1.1\r\n\r\n";

	harness_init(&h, 8);
	h.client_v6 = true;
	/* SYN-ACK: IPv6, our MSS is the MTU less 60 bytes of headers. */
	harness_send_tcp(&h, 40100, 80, TCP_FLAG_SYN, CLIENT_ISN, 0, 65535,
			 &(struct harness_tcp_opts){.mss = 1440, .wscale = 7}, NULL, 0);
	CU_ASSERT_EQUAL_FATAL(h.tx_count, 1);
	CU_ASSERT_FATAL(harness_tx_tcp(&h, 0, &seg));
	CU_ASSERT_EQUAL(seg.flags, TCP_FLAG_SYN | TCP_FLAG_ACK);
	CU_ASSERT_EQUAL(seg.ack, CLIENT_ISN + 1);
	CU_ASSERT_EQUAL(seg.opt_mss, 1440);
	CU_ASSERT(seg.checksum_ok);
	CU_ASSERT(harness_tx_ipv6(&h, 0, &out) && !memcmp(out.src, h.ns.ipv6, 16) && !memcmp(out.dst, h.client_ip6, 16) &&
		  !memcmp(out.eth_dst, h.client_mac, 6) && out.hop_limit == 64);
	iss = seg.seq;
	harness_clear_tx(&h);
	harness_send_tcp(&h, 40100, 80, TCP_FLAG_ACK, CLIENT_ISN + 1, iss + 1, 512, NULL, NULL, 0);
	c = harness_conn(&h, 40100);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->state, TCP_ESTABLISHED);
	CU_ASSERT_EQUAL(c->mss, 1440);
	CU_ASSERT_EQUAL(c->flow.remote.family, NET_AF_IPV6);
	/* A request, then 20000 bytes of response and our FIN. */
	harness_send_tcp(&h, 40100, 80, TCP_FLAG_ACK | TCP_FLAG_PSH, CLIENT_ISN + 1, iss + 1, 512, NULL, req,
			 sizeof(req) - 1);
	CU_ASSERT_EQUAL(((struct harness_app *)tcp_conn_app(c))->received, sizeof(req) - 1);
	harness_clear_tx(&h);
	tcp_send_extend(&h.ns, c, 20000);
	tcp_send_close(&h.ns, c);
	for (int round = 0; round < 10 && !fin_seq; round++) {
		uint32_t acked = 0;

		harness_run_output(&h);
		for (uint32_t i = 0; i < h.tx_count; i++) {
			if (!harness_tx_tcp(&h, i, &seg))
				continue;
			all_ok &= seg.checksum_ok && seg.payload_len <= 1440 && harness_payload_ok(&seg, seg.seq - iss - 1);
			bytes += seg.payload_len;
			acked = seg.seq + seg.payload_len;
			if (seg.flags & TCP_FLAG_FIN)
				fin_seq = seg.seq;
		}
		harness_clear_tx(&h);
		if (acked)
			harness_send_tcp(&h, 40100, 80, TCP_FLAG_ACK, CLIENT_ISN + sizeof(req), acked, 512, NULL, NULL, 0);
	}
	CU_ASSERT(all_ok);
	CU_ASSERT_EQUAL(bytes, 20000);
	CU_ASSERT_EQUAL(fin_seq, iss + 1 + 20000);
	harness_send_tcp(&h, 40100, 80, TCP_FLAG_ACK, CLIENT_ISN + sizeof(req), fin_seq + 1, 512, NULL, NULL, 0);
	CU_ASSERT_EQUAL(c->state, TCP_FIN_WAIT_2);
	CU_ASSERT_EQUAL(((struct harness_app *)tcp_conn_app(c))->acked, 20000);
	harness_send_tcp(&h, 40100, 80, TCP_FLAG_ACK | TCP_FLAG_FIN, CLIENT_ISN + sizeof(req), fin_seq + 1, 512, NULL,
			 NULL, 0);
	CU_ASSERT_EQUAL(c->state, TCP_TIME_WAIT);
	CU_ASSERT(h.tx_count == 1 && harness_tx_tcp(&h, 0, &seg) && seg.checksum_ok &&
		  seg.ack == CLIENT_ISN + sizeof(req) + 1);
	harness_advance(&h, 2100000);
	CU_ASSERT_PTR_NULL(harness_conn(&h, 40100));
	/* The IPv4 table is separate: the same port over IPv4 is another connection. */
	h.client_v6 = false;
	CU_ASSERT_PTR_NULL(harness_conn(&h, 40100));
	/* A segment with a bad checksum, and a RST for no connection, over IPv6. */
	h.client_v6 = true;
	harness_clear_tx(&h);
	{
		uint8_t frame[FRAME_BUF];
		uint32_t len = harness_build_tcp(&h, frame, 40101, 80, TCP_FLAG_SYN, CLIENT_ISN, 0, 1000, NULL, NULL, 0);
		frame[len - 1] ^= 0x40;
		harness_inject(&h, frame, len);
		CU_ASSERT_EQUAL(count_counter(DPC_rx_drop_tcp_checksum), 1);
		harness_send_tcp(&h, 40101, 80, TCP_FLAG_ACK, CLIENT_ISN, 777, 1000, NULL, NULL, 0);
		CU_ASSERT(h.tx_count == 1 && harness_tx_tcp(&h, 0, &seg) && seg.flags == TCP_FLAG_RST && seg.seq == 777 &&
			  seg.checksum_ok);
	}
	harness_fini(&h);
}

/* --- PMTU ------------------------------------------------------------------------------------- */

enum quote_fault { QUOTE_OK, QUOTE_SEQ_NOT_IN_FLIGHT, QUOTE_FORGED_SOURCE, QUOTE_NOT_TCP, QUOTE_SHORT,
		   QUOTE_OTHER_PORT };

static void test_pmtu(void)
{
	static const struct {
		const char *description;
		bool v6;
		enum quote_fault fault;
		uint32_t mtu;
		uint16_t expect_mss;              /* unchanged = 1460 / 1440 */
		enum dp_counter_id expect;
	} cases[] = {
		{"IPv4: quote of the first segment in flight", false, QUOTE_OK, 1280, 1240, DPC_tcp_pmtu_lowered},
		{"IPv4: MTU 0 (old router): plateau below 1500", false, QUOTE_OK, 0, 1452, DPC_tcp_pmtu_lowered},
		{"IPv4: below the minimum: floor 536", false, QUOTE_OK, 300, 536, DPC_tcp_pmtu_lowered},
		{"IPv4: not smaller", false, QUOTE_OK, 1500, 1460, DPC_icmp_pmtu_ignored_not_smaller},
		{"IPv4: quoted seq not in flight", false, QUOTE_SEQ_NOT_IN_FLIGHT, 1280, 1460,
		 DPC_icmp_pmtu_ignored_not_in_flight},
		{"IPv4: forged source in the quote", false, QUOTE_FORGED_SOURCE, 1280, 1460, DPC_rx_drop_icmp_bad_quote},
		{"IPv4: quoted protocol UDP", false, QUOTE_NOT_TCP, 1280, 1460, DPC_rx_drop_icmp_bad_quote},
		{"IPv4: quote without the TCP sequence", false, QUOTE_SHORT, 1280, 1460, DPC_rx_drop_icmp_bad_quote},
		{"IPv4: no such connection", false, QUOTE_OTHER_PORT, 1280, 1460, DPC_icmp_pmtu_ignored_no_connection},
		{"IPv6: quote of the first segment in flight", true, QUOTE_OK, 1400, 1340, DPC_tcp_pmtu_lowered},
		{"IPv6: below 1280: floor 1220 (RFC 8201)", true, QUOTE_OK, 1000, 1220, DPC_tcp_pmtu_lowered},
		{"IPv6: not smaller", true, QUOTE_OK, 1500, 1440, DPC_icmp_pmtu_ignored_not_smaller},
		{"IPv6: quoted seq not in flight", true, QUOTE_SEQ_NOT_IN_FLIGHT, 1280, 1440,
		 DPC_icmp_pmtu_ignored_not_in_flight},
		{"IPv6: forged source in the quote", true, QUOTE_FORGED_SOURCE, 1280, 1440, DPC_rx_drop_icmp_bad_quote},
		{"IPv6: quoted next header UDP", true, QUOTE_NOT_TCP, 1280, 1440, DPC_rx_drop_icmp_bad_quote},
		{"IPv6: quote without the TCP sequence", true, QUOTE_SHORT, 1280, 1440, DPC_rx_drop_icmp_bad_quote},
		{"IPv6: no such connection", true, QUOTE_OTHER_PORT, 1280, 1440, DPC_icmp_pmtu_ignored_no_connection},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const char *d = cases[i].description;
		uint16_t full_mss = cases[i].v6 ? 1440 : 1460;
		uint32_t ip_len = cases[i].v6 ? 40 : 20, quote_len, len, iss, resent = 0, max_payload = 0;
		uint8_t quote[1300], frame[FRAME_BUF];
		struct harness_segment seg;
		struct tcp_conn *c;
		bool pattern_ok = true;
		uint32_t first_seq = 0;

		harness_init(&h, 4);
		h.client_v6 = cases[i].v6;
		harness_clear_tx(&h);
		harness_send_tcp(&h, 40200, 80, TCP_FLAG_SYN, CLIENT_ISN, 0, 65535,
				 &(struct harness_tcp_opts){.mss = 1460, .wscale = 7}, NULL, 0);
		CU_ASSERT_FATAL(harness_tx_tcp(&h, 0, &seg));
		iss = seg.seq;
		harness_send_tcp(&h, 40200, 80, TCP_FLAG_ACK, CLIENT_ISN + 1, iss + 1, 1000, NULL, NULL, 0);
		c = harness_conn(&h, 40200);
		CU_ASSERT_PTR_NOT_NULL_FATAL(c);
		TEST_CHECK(c->mss == full_mss, "%s: mss %u before", d, c->mss);
		harness_clear_tx(&h);
		tcp_send_extend(&h.ns, c, 100000);
		harness_run_output(&h);
		CU_ASSERT_FATAL(h.tx_count >= 2);
		/* The router quotes our second segment: IP header and as much as the minimum MTU holds. */
		quote_len = cases[i].v6 ? 1232 : 28;
		memcpy(quote, h.tx[1].data + ETHER_HDR_LEN, quote_len);
		switch (cases[i].fault) {
		case QUOTE_SEQ_NOT_IN_FLIGHT:
			net_store_be32(quote + ip_len + 4, iss + 1 + 200000);
			break;
		case QUOTE_FORGED_SOURCE:
			if (cases[i].v6)
				quote[8 + 15] ^= 0x10;
			else
				quote[12 + 3] ^= 0x10;
			break;
		case QUOTE_NOT_TCP:
			quote[cases[i].v6 ? 6 : 9] = 17;
			break;
		case QUOTE_SHORT:
			quote_len = ip_len + 4;
			break;
		case QUOTE_OTHER_PORT:
			net_store_be16(quote + ip_len + 2, 40999); /* quoted destination port = the peer's */
			break;
		default:
			break;
		}
		if (!cases[i].v6)
			net_store_be16(quote + 2, 1500); /* what the quote's total length said */
		harness_clear_tx(&h);
		len = cases[i].v6 ? build_icmp6_error(frame, ICMP6_PACKET_TOO_BIG, 0, cases[i].mtu, quote, quote_len)
				  : build_icmp4_error(frame, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, cases[i].mtu, quote,
						      quote_len);
		harness_inject(&h, frame, len);
		TEST_CHECK(count_counter(cases[i].expect) == 1, "%s: %s counted", d, dp_counter_name(cases[i].expect));
		TEST_CHECK(count_counter(cases[i].v6 ? DPC_icmp6_too_big_received : DPC_icmp_frag_needed_received) == 1,
			   "%s: message counted by kind", d);
		TEST_CHECK(c->mss == cases[i].expect_mss, "%s: mss %u want %u", d, c->mss, cases[i].expect_mss);
		for (uint32_t f = 0; f < h.tx_count; f++) {
			if (!harness_tx_tcp(&h, f, &seg) || !seg.payload_len)
				continue;
			if (!resent++)
				first_seq = seg.seq;
			if (seg.payload_len > max_payload)
				max_payload = seg.payload_len;
			pattern_ok &= seg.checksum_ok && harness_payload_ok(&seg, seg.seq - iss - 1);
		}
		if (cases[i].expect == DPC_tcp_pmtu_lowered) {
			/* Everything in flight again, from the first unacknowledged byte, smaller. */
			TEST_CHECK(resent > 0 && first_seq == iss + 1, "%s: resent from snd_una (%u segments)", d, resent);
			TEST_CHECK(max_payload == cases[i].expect_mss, "%s: segments of %u bytes", d, max_payload);
			TEST_CHECK(pattern_ok, "%s: resent bytes and checksums", d);
		} else {
			TEST_CHECK(resent == 0, "%s: nothing resent (%u)", d, resent);
		}
		harness_fini(&h);
	}
}

/* --- truncation at every byte ----------------------------------------------------------------- */

static void test_truncation_every_byte(void)
{
	enum { ECHO_EXT, NS, NA, DAD, PTB, FRAG4, TCP6_SYN, KINDS };
	static const char *const names[KINDS] = {"echo with extension headers", "NS", "NA", "DAD probe",
						 "packet too big", "fragmentation needed", "TCP SYN over IPv6"};

	for (int kind = 0; kind < KINDS; kind++) {
		uint8_t frame[FRAME_BUF], body[256], ext[64], quote[80];
		uint32_t len = 0, n, ext_len;
		struct harness_ip6_spec spec = {.upper = IP_PROTO_ICMPV6};
		struct net_addr client;
		uint32_t full_tx;

		harness_init(&h, 4);
		net_addr_v6(&client, h.client_ip6);
		switch (kind) {
		case ECHO_EXT:
			ext_len = ext_header(ext, IPV6_NEXT_DEST_OPTIONS, 0, NULL, 0);
			ext_len += ext_header(ext + ext_len, IP_PROTO_ICMPV6, 1, NULL, 0);
			spec.next_header = IPV6_NEXT_HOP_BY_HOP;
			spec.ext = ext;
			spec.ext_len = ext_len;
			n = echo6_body(body, 40);
			len = harness_build_ipv6(&h, frame, &spec, body, n);
			break;
		case NS:
			len = build_ns(frame, h.client_ip6, our_group, our_group_mac, h.ns.ipv6, h.client_mac, 255);
			break;
		case NA:
			neigh_solicit(&h.ns, &client); /* so that the NA has an entry to update */
			harness_clear_tx(&h);
			len = build_na(frame, NULL, NULL, NDP_NA_FLAG_SOLICITED, h.client_ip6, h.client_mac);
			break;
		case DAD:
			len = build_ns(frame, unspecified, our_group, our_group_mac, h.ns.ipv6, NULL, 255);
			break;
		case PTB:
			memset(quote, 0, sizeof(quote));
			quote[0] = 0x60;
			quote[6] = IP_PROTO_TCP;
			memcpy(quote + 8, h.ns.ipv6, 16);
			memcpy(quote + 24, h.client_ip6, 16);
			len = build_icmp6_error(frame, ICMP6_PACKET_TOO_BIG, 0, 1280, quote, 48);
			break;
		case FRAG4:
			memset(quote, 0, sizeof(quote));
			quote[0] = 0x45;
			quote[9] = IP_PROTO_TCP;
			memcpy(quote + 12, &h.ns.ipv4, 4);
			len = build_icmp4_error(frame, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, 1280, quote, 28);
			break;
		default:
			h.client_v6 = true;
			len = harness_build_tcp(&h, frame, 40300, 80, TCP_FLAG_SYN, CLIENT_ISN, 0, 1000,
						&(struct harness_tcp_opts){.mss = 1440, .wscale = 3, .timestamp = true},
						NULL, 0);
			break;
		}
		for (uint32_t cut = 0; cut < len; cut++)
			harness_inject_guarded(&h, frame, cut);
		TEST_CHECK(h.tx_count == 0, "%s: no reply to any truncation (%u)", names[kind], h.tx_count);
		TEST_CHECK(count_counter(DPC_tcp_conn_active) == 0 && count_counter(DPC_tcp_syn_received) == 0,
			   "%s: no connection from a truncation", names[kind]);
		TEST_CHECK(count_counter(DPC_rx_packets) == len, "%s: every frame counted", names[kind]);
		/* The whole frame is valid and reaches its handler. */
		full_tx = kind == ECHO_EXT || kind == NS || kind == DAD || kind == TCP6_SYN ? 1 : 0;
		harness_inject_guarded(&h, frame, len);
		TEST_CHECK(h.tx_count == full_tx, "%s: the whole frame is answered (%u frames)", names[kind], h.tx_count);
		if (kind == NA)
			TEST_CHECK(count_counter(DPC_ndp_advertisements_received) == 1, "%s: learned", names[kind]);
		if (kind == PTB || kind == FRAG4)
			TEST_CHECK(count_counter(DPC_icmp_pmtu_ignored_no_connection) == 1, "%s: quote reached TCP",
				   names[kind]);
		harness_fini(&h);
	}
}

/* Random bytes behind valid IPv6 headers: nothing crashes, every frame is counted. */
static void test_ipv6_garbage(void)
{
	uint8_t frame[FRAME_BUF];
	uint64_t drops = 0;

	harness_init(&h, 8);
	srand(11);
	for (int i = 0; i < 20000; i++) {
		uint32_t n = 54 + (uint32_t)(rand() % 300);
		struct harness_ip6_spec spec = {.upper = (uint8_t)(i % 3 ? IP_PROTO_ICMPV6 : IP_PROTO_TCP)};
		uint8_t body[400];
		uint32_t len;

		for (uint32_t j = 0; j < n; j++)
			body[j] = (uint8_t)rand();
		if (i % 5 == 0)
			body[0] = (uint8_t)(128 + rand() % 10); /* echo / NDP types */
		spec.hop_limit = (uint8_t)(i & 1 ? 255 : 64);
		spec.dst = i % 4 == 1 ? our_group : NULL;
		spec.dst_mac = i % 4 == 1 ? our_group_mac : NULL;
		if (i % 7 == 0) {
			spec.next_header = (uint8_t)(i % 2 ? IPV6_NEXT_HOP_BY_HOP : IPV6_NEXT_DEST_OPTIONS);
			spec.ext = body + 200;
			spec.ext_len = 8 * (uint32_t)(1 + rand() % 4);
		}
		len = harness_build_ipv6(&h, frame, &spec, body, n - 54);
		if (i % 11 == 0)
			len = (uint32_t)rand() % len;
		harness_inject_guarded(&h, frame, len);
		harness_clear_tx(&h);
	}
	for (int id = 0; id < DP_COUNTER_COUNT; id++)
		if (!strncmp(dp_counter_name((enum dp_counter_id)id), "rx_drop_", 8))
			drops += h.ns.counters.value[id];
	CU_ASSERT_EQUAL(count_counter(DPC_rx_packets), 20000);
	CU_ASSERT(drops > 0);
	harness_fini(&h);
}

void test_register(void)
{
	static const struct test_case ipv6_cases[] = {
		{"Ethernet multicast filter", test_multicast_mac_filter},
		{"IPv6 input table: header, addresses, extension headers", test_ipv6_input_table},
		{"ICMPv6 echo", test_icmp6_echo},
		{"ICMP errors counted by kind", test_icmp_errors_by_kind},
		{"truncation at every byte (guard page)", test_truncation_every_byte},
		{"random payloads behind IPv6 headers", test_ipv6_garbage},
		{NULL, NULL},
	};
	static const struct test_case ndp_cases[] = {
		{"solicitations: for us, for others, DAD, invalid", test_ndp_solicitations},
		{"solicitations sent, advertisements learned", test_ndp_solicit_and_learn},
		{NULL, NULL},
	};
	static const struct test_case tcp6_cases[] = {
		{"TCP over IPv6: handshake, data, close", test_tcp6_handshake_data_close},
		{"PMTU: IPv4 fragmentation needed and ICMPv6 packet too big", test_pmtu},
		{NULL, NULL},
	};
	test_add_suite("ipv6", ipv6_cases);
	test_add_suite("ndp", ndp_cases);
	test_add_suite("tcp6", tcp6_cases);
}
