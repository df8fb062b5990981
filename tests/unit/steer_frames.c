/* SPDX-License-Identifier: BSD-3-Clause
 *
 * steer_frames.c: builds test frames from a struct frame_spec (see steer_frames.h). Layer by
 * layer from the inside out: the L4 bytes first (their checksum needs the addresses), then the
 * IP header and extension headers that carry them, then Ethernet and VLAN tags; the damage the
 * spec asks for (payload cut, frame cut, byte patches) is applied last.
 */
#include "steer_frames.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t edge_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
static const uint8_t client_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t sum)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void address(int family, const char *text, uint8_t out[16])
{
	memset(out, 0, 16);
	if (!text || inet_pton(family == 4 ? AF_INET : AF_INET6, text, out) != 1) {
		fprintf(stderr, "steer_frames: bad IPv%d address '%s' in a test spec\n", family, text ? text : "(null)");
		abort();
	}
}

/* Pseudo-header sum (RFC 793 / RFC 8200 8.1). */
static uint32_t pseudo_sum(int family, const uint8_t *src, const uint8_t *dst, uint8_t proto, size_t len)
{
	int alen = family == 4 ? 4 : 16;
	uint32_t sum = sum16(src, alen, 0);

	sum = sum16(dst, alen, sum);
	sum += proto;
	sum += (uint32_t)(len >> 16) + (uint32_t)(len & 0xffff);
	return sum;
}

static void payload_fill(uint8_t *p, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)('a' + i % 26);
}

static size_t tcp_build(const struct frame_spec *s, uint8_t *p, int family, const uint8_t *src, const uint8_t *dst)
{
	size_t hlen = 20 + (size_t)s->tcp_opt_len, len = hlen + (size_t)s->payload_len;

	memset(p, 0, len);
	put16(p, s->sport);
	put16(p + 2, s->dport);
	put32(p + 4, s->seq);
	put32(p + 8, s->ack);
	p[12] = (uint8_t)(hlen / 4) << 4;
	p[13] = s->tcp_flags;
	put16(p + 14, s->window);
	for (int i = 0; i < s->tcp_opt_len; i++)
		p[20 + i] = 1; /* NOP */
	if (s->tcp_opt_len >= 4) {
		p[20] = 2; /* MSS 1460 */
		p[21] = 4;
		put16(p + 22, 1460);
	}
	payload_fill(p + hlen, s->payload_len);
	put16(p + 16, fold(sum16(p, len, pseudo_sum(family, src, dst, IPPROTO_TCP, len))));
	return len;
}

static size_t udp_build(const struct frame_spec *s, uint8_t *p, int family, const uint8_t *src, const uint8_t *dst)
{
	size_t len = 8 + (size_t)s->payload_len;

	memset(p, 0, len);
	put16(p, s->sport);
	put16(p + 2, s->dport);
	put16(p + 4, (uint16_t)len);
	payload_fill(p + 8, s->payload_len);
	put16(p + 6, fold(sum16(p, len, pseudo_sum(family, src, dst, IPPROTO_UDP, len))));
	return len;
}

/* The quoted packet of an ICMP error: IP header + the first 8 bytes of TCP. */
static size_t quote_build(const struct frame_quote *q, int family, uint8_t *p)
{
	uint8_t src[16], dst[16];
	size_t len;

	address(family, q->src, src);
	address(family, q->dst, dst);
	if (family == 4) {
		memset(p, 0, 28);
		p[0] = 0x45;
		put16(p + 2, 1500);
		p[6] = 0x40;
		p[8] = 64;
		p[9] = IPPROTO_TCP;
		memcpy(p + 12, src, 4);
		memcpy(p + 16, dst, 4);
		put16(p + 10, fold(sum16(p, 20, 0)));
		len = 28;
	} else {
		memset(p, 0, 48);
		p[0] = 0x60;
		put16(p + 4, 1460);
		p[6] = IPPROTO_TCP;
		p[7] = 64;
		memcpy(p + 8, src, 16);
		memcpy(p + 24, dst, 16);
		len = 48;
	}
	put16(p + len - 8, q->sport);
	put16(p + len - 6, q->dport);
	put32(p + len - 4, 0x01020304);
	return q->len ? (size_t)q->len : len;
}

static size_t icmp_build(const struct frame_spec *s, uint8_t *p, int family, const uint8_t *src, const uint8_t *dst)
{
	size_t len = 8;

	memset(p, 0, 8);
	p[0] = s->icmp_type;
	p[1] = s->icmp_code;
	if (family == 4 && s->icmp_type == 3 && s->icmp_code == 4)
		put16(p + 6, 1400); /* next-hop MTU */
	if (family == 6 && s->icmp_type == 2)
		put32(p + 4, 1280); /* MTU */
	if (s->target) {
		address(6, s->target, p + 8);
		len += 16;
	} else if (s->quote.src) {
		len += quote_build(&s->quote, family, p + 8);
	} else {
		payload_fill(p + 8, s->payload_len);
		len += (size_t)s->payload_len;
	}
	if (family == 4)
		put16(p + 2, fold(sum16(p, len, 0)));
	else
		put16(p + 2, fold(sum16(p, len, pseudo_sum(6, src, dst, IPPROTO_ICMPV6, len))));
	return len;
}

static size_t l4_build(const struct frame_spec *s, uint8_t *p, int family, const uint8_t *src, const uint8_t *dst)
{
	switch (s->proto) {
	case IPPROTO_TCP:
		return tcp_build(s, p, family, src, dst);
	case IPPROTO_UDP:
		return udp_build(s, p, family, src, dst);
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return icmp_build(s, p, family, src, dst);
	default:
		payload_fill(p, s->payload_len);
		return (size_t)s->payload_len;
	}
}

static size_t ipv6_ext_build(const struct frame_spec *s, uint8_t *p)
{
	size_t len = 0;

	for (int i = 0; i < s->ext_count; i++) {
		uint8_t next = i + 1 < s->ext_count ? s->ext[i + 1] : s->proto;
		uint8_t *h = p + len;

		memset(h, 0, 8);
		h[0] = next;
		if (s->ext[i] == IPV6_EXT_FRAGMENT) {
			put16(h + 2, s->frag6);
			put32(h + 4, 0xabcd0001);
		} else if (s->ext[i] == IPV6_EXT_ROUTING) {
			h[2] = 4; /* segment routing header type, segments left 0 */
		} else {
			h[2] = 1; /* PadN over the remaining 4 bytes */
			h[3] = 4;
		}
		len += 8;
	}
	return len;
}

size_t frame_l3_offset(const struct frame_spec *spec)
{
	return 14 + 4 * (size_t)spec->vlans;
}

size_t frame_build(const struct frame_spec *s, uint8_t *buf)
{
	size_t l3 = frame_l3_offset(s), len, ip_payload;
	uint8_t src[16], dst[16], *ip = buf + l3;
	uint16_t ethertype;

	memset(buf, 0, FRAME_MAX);
	memcpy(buf, s->reply ? client_mac : edge_mac, 6);
	memcpy(buf + 6, s->reply ? edge_mac : client_mac, 6);
	switch (s->l3) {
	case FRAME_IPV4:
		ethertype = 0x0800;
		break;
	case FRAME_IPV6:
		ethertype = 0x86dd;
		break;
	case FRAME_ARP:
		ethertype = 0x0806;
		break;
	default:
		ethertype = s->ethertype;
		break;
	}
	for (int i = 0; i < s->vlans; i++) {
		put16(buf + 12 + 4 * i, i == 0 && s->vlans > 1 ? 0x88a8 : 0x8100);
		put16(buf + 14 + 4 * i, (uint16_t)(100 + i));
	}
	put16(buf + 12 + 4 * s->vlans, ethertype);

	if (s->l3 == FRAME_IPV4) {
		size_t hlen = 20 + (size_t)s->ip_opt_len;

		address(4, s->src, src);
		address(4, s->dst, dst);
		ip_payload = l4_build(s, ip + hlen, 4, src, dst);
		if (s->ip_payload_cut > 0)
			ip_payload = (size_t)s->ip_payload_cut;
		ip[0] = (uint8_t)(0x40 | hlen / 4);
		put16(ip + 2, (uint16_t)(hlen + ip_payload));
		put16(ip + 6, (uint16_t)(s->frag_off | (s->df ? 0x4000 : 0)));
		ip[8] = s->ttl ? s->ttl : 64;
		ip[9] = s->proto;
		memcpy(ip + 12, src, 4);
		memcpy(ip + 16, dst, 4);
		for (int i = 0; i < s->ip_opt_len; i++)
			ip[20 + i] = 1; /* NOP */
		put16(ip + 10, fold(sum16(ip, hlen, 0)));
		len = l3 + hlen + ip_payload;
	} else if (s->l3 == FRAME_IPV6) {
		size_t ext;

		address(6, s->src, src);
		address(6, s->dst, dst);
		ext = ipv6_ext_build(s, ip + 40);
		ip_payload = ext + l4_build(s, ip + 40 + ext, 6, src, dst);
		if (s->ip_payload_cut > 0)
			ip_payload = (size_t)s->ip_payload_cut;
		ip[0] = 0x60;
		put16(ip + 4, (uint16_t)ip_payload);
		ip[6] = s->ext_count ? s->ext[0] : s->proto;
		ip[7] = s->ttl ? s->ttl : 64;
		memcpy(ip + 8, src, 16);
		memcpy(ip + 24, dst, 16);
		len = l3 + 40 + ip_payload;
	} else if (s->l3 == FRAME_ARP) {
		put16(ip, 1);
		put16(ip + 2, 0x0800);
		ip[4] = 6;
		ip[5] = 4;
		put16(ip + 6, s->arp_oper ? s->arp_oper : 1);
		memcpy(ip + 8, client_mac, 6);
		address(4, s->src, src);
		address(4, s->dst, dst);
		memcpy(ip + 14, src, 4);
		memcpy(ip + 24, dst, 4);
		len = l3 + 28;
	} else {
		len = l3 + 46;
	}
	for (int i = 0; i < 2; i++)
		if (s->patch[i].set)
			ip[s->patch[i].l3_offset] = s->patch[i].value;
	if (s->cut > 0)
		len = (size_t)s->cut;
	return len;
}

void frame_diff(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen, char *msg, size_t size)
{
	size_t n = alen < blen ? alen : blen, i;

	for (i = 0; i < n && a[i] == b[i]; i++)
		;
	if (i == n && alen == blen) {
		snprintf(msg, size, "identical");
		return;
	}
	snprintf(msg, size, "lengths %zu/%zu, first difference at byte %zu: %02x/%02x", alen, blen, i,
		 i < alen ? a[i] : 0, i < blen ? b[i] : 0);
}
