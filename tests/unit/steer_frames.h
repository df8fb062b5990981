/* SPDX-License-Identifier: BSD-3-Clause
 *
 * steer_frames.h: a frame builder for the steering program's tests. A struct frame_spec says
 * what a frame is (Ethernet, VLAN tags, ARP / IPv4 with options and fragment fields / IPv6 with
 * extension headers, TCP with options and payload, UDP, ICMP echo, errors quoting a packet,
 * NDP) and how to damage it (cut the IP payload with consistent lengths, cut the frame,
 * patch bytes); frame_build() writes the bytes with correct checksums.
 *
 * The checksums here are computed the RFC 1071 way over big-endian byte pairs, independently of
 * the program's little-endian word sums, so an RST the program builds is checked against a
 * frame built another way.
 */
#ifndef SLUICE_TEST_STEER_FRAMES_H
#define SLUICE_TEST_STEER_FRAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FRAME_MAX 1600

enum frame_l3 { FRAME_OTHER = 1, FRAME_ARP = 2, FRAME_IPV4 = 4, FRAME_IPV6 = 6 };

#define TCPF_FIN 0x01
#define TCPF_SYN 0x02
#define TCPF_RST 0x04
#define TCPF_PSH 0x08
#define TCPF_ACK 0x10

#define IPV6_EXT_HOP 0
#define IPV6_EXT_ROUTING 43
#define IPV6_EXT_FRAGMENT 44
#define IPV6_EXT_DEST 60

struct frame_patch {
	bool set;
	int l3_offset; /* from the start of the L3 header */
	uint8_t value;
};
#define PATCH(off, val) {.set = true, .l3_offset = (off), .value = (val)}

struct frame_quote {
	const char *src, *dst; /* the quoted packet: TCP from src:sport to dst:dport */
	uint16_t sport, dport;
	int len;               /* bytes of the quoted packet kept; 0 = IP header + 8 */
};

struct frame_spec {
	int l3;                  /* enum frame_l3 */
	bool reply;              /* Ethernet source is the edge, destination the client */
	int vlans;               /* 0..3 tags: the outermost is 802.1ad when there are two or more */
	uint16_t ethertype;      /* FRAME_OTHER */
	uint16_t arp_oper;       /* FRAME_ARP: 1 request, 2 reply; src/dst are sender/target */
	const char *src, *dst;   /* IP addresses */
	uint8_t proto;           /* IPPROTO_TCP, _UDP, _ICMP, _ICMPV6 */
	uint8_t ttl;             /* 0 = 64 */
	bool df;
	uint16_t frag_off;       /* IPv4 frag_off field without DF: offset/8 | 0x2000 (MF) */
	int ip_opt_len;          /* IPv4 options, bytes, multiple of 4 */
	uint8_t ext[8];          /* IPv6 extension headers in order */
	int ext_count;
	uint16_t frag6;          /* IPv6 fragment header field: offset/8 << 3 | M */
	uint16_t sport, dport;
	uint8_t tcp_flags;
	uint32_t seq, ack;
	uint16_t window;
	int tcp_opt_len;         /* bytes, multiple of 4 */
	int payload_len;         /* TCP/UDP/ICMP payload bytes */
	uint8_t icmp_type, icmp_code;
	const char *target;      /* NDP target address */
	struct frame_quote quote;
	int ip_payload_cut;      /* > 0: IP payload cut to this many bytes, length fields agree */
	int cut;                 /* > 0: frame cut to this many bytes, length fields do not agree */
	struct frame_patch patch[2];
};

/* Writes the frame into buf (FRAME_MAX bytes); returns its length. Aborts on a bad spec. */
size_t frame_build(const struct frame_spec *spec, uint8_t *buf);
/* Offset of the L3 header in a frame built from spec. */
size_t frame_l3_offset(const struct frame_spec *spec);
/* Hex dump of the first difference, for assertion messages. */
void frame_diff(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen, char *msg, size_t size);

#endif /* SLUICE_TEST_STEER_FRAMES_H */
