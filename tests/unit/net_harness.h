/* SPDX-License-Identifier: BSD-3-Clause
 *
 * net_harness.h: drives one lcore's network stack (dataplane/net, dataplane/tcp) without
 * DPDK: a netio that captures every transmitted frame, a virtual clock, a client that
 * builds frames (Ethernet/ARP/IPv4/ICMP/TCP with options and correct or deliberately wrong
 * checksums; the same over IPv6 with extension headers and ICMPv6), parsers for what the
 * stack sent back, and a test application serving a deterministic byte pattern, so that every
 * payload byte the stack sends — first time or retransmitted — can be checked.
 *
 * Address family: the TCP helpers (harness_build_tcp, harness_send_tcp, harness_tx_tcp,
 * harness_conn, harness_handshake) speak IPv4, or IPv6 once a test sets h.client_v6.
 */
#ifndef SLUICE_TEST_NET_HARNESS_H
#define SLUICE_TEST_NET_HARNESS_H

#include <stdbool.h>
#include <stdint.h>

#include "net/stack.h"
#include "tcp/tcp.h"

#define HARNESS_FRAMES_MAX 4096
#define HARNESS_FRAME_MAX 70000

struct harness_frame {
	uint8_t *data;
	uint32_t len;
};

/* A transmitted TCP segment, parsed back. */
struct harness_segment {
	uint8_t flags;
	uint32_t seq, ack;
	uint16_t window;
	uint32_t payload_len;
	const uint8_t *payload;
	uint16_t opt_mss;
	int8_t opt_wscale;
	bool checksum_ok;
	uint16_t dst_port;
};

/* Per-connection state of the test application. */
struct harness_app {
	uint64_t received;       /* request bytes taken */
	uint64_t acked;          /* last acked() offset */
	bool accepted, peer_closed;
	bool close_on_peer_fin;  /* answer the peer's FIN with ours */
	uint32_t receive_space;  /* 0 means the default 65535 */
	int released_reason;     /* -1 while alive */
	bool fail_source;        /* stream_produce fails */
};

struct harness {
	struct net_stack ns;
	struct harness_frame tx[HARNESS_FRAMES_MAX];
	uint32_t tx_count;
	uint32_t tx_room;         /* frames the fake port still accepts */
	uint32_t released_count;
	int last_released_reason;
	uint8_t client_mac[6];
	uint32_t client_ip;       /* network order */
	bool client_v6;           /* the TCP helpers use IPv6 (client_ip6 → ns.ipv6) */
	uint8_t client_ip6[16];
	/* harness_inject_guarded: the token net_input sees as the frame, and its bytes. */
	void *inject_token;
	uint8_t *inject_data;
	uint16_t server_port;     /* the listener harness_conn and harness_handshake use (80) */
	uint32_t produce_piece;   /* stream_produce per piece of this many bytes (mbufs); 0: one call */
	bool produce_iov;         /* with produce_piece: the pieces as one scatter list (stream_produce_iov) */
};

extern const struct tcp_app_ops harness_app_ops;

/* A stack with default settings (HTTP listener on port 80 with the test app). */
void harness_init(struct harness *h, uint32_t max_connections);
/* The same stack with another application (e.g. the real HTTP server or TLS): app_size bytes of
 * per-connection state, listening on port, app_ctx its listener context. */
void harness_init_app(struct harness *h, uint32_t max_connections, uint32_t app_size, uint16_t port,
		      const struct tcp_app_ops *app, void *app_ctx);
void harness_fini(struct harness *h);
void harness_clear_tx(struct harness *h);
void harness_advance(struct harness *h, uint64_t us); /* move the clock, run timers and output */
void harness_run_output(struct harness *h);

/* Pattern byte of the test stream at offset. */
static inline uint8_t harness_pattern(uint64_t offset) { return (uint8_t)(offset * 131 + (offset >> 8) * 7 + 3); }

/* Client frames. */
struct harness_tcp_opts {
	uint16_t mss;             /* 0: absent */
	int8_t wscale;            /* -1: absent */
	bool sack_permitted;
	bool timestamp;
	uint32_t tsval, tsecr;
};
uint32_t harness_build_tcp(struct harness *h, uint8_t *frame, uint16_t src_port, uint16_t dst_port, uint8_t flags,
			   uint32_t seq, uint32_t ack, uint16_t window, const struct harness_tcp_opts *opts,
			   const void *payload, uint32_t payload_len);
void harness_send_tcp(struct harness *h, uint16_t src_port, uint16_t dst_port, uint8_t flags, uint32_t seq,
		      uint32_t ack, uint16_t window, const struct harness_tcp_opts *opts, const void *payload,
		      uint32_t payload_len);
void harness_inject(struct harness *h, const uint8_t *frame, uint32_t len);
/* The same, with the frame's last byte right before an inaccessible page (a read past len
 * faults); a reply built in place is captured as a copy. */
void harness_inject_guarded(struct harness *h, const uint8_t *frame, uint32_t len);

/* An IPv6 frame from the client: Ethernet, the fixed header, ext_len bytes of extension
 * headers as given, then l4 (whose ICMPv6 or TCP checksum, per upper, is filled in unless
 * bad_checksum). With ext_len 0 the fixed header's next header is upper. */
struct harness_ip6_spec {
	const uint8_t *src;       /* NULL: h->client_ip6 */
	const uint8_t *dst;       /* NULL: h->ns.ipv6 */
	const uint8_t *dst_mac;   /* NULL: h->ns.mac */
	uint8_t hop_limit;        /* 0: 64 */
	uint8_t next_header;      /* of the fixed header when ext_len > 0 */
	const uint8_t *ext;
	uint32_t ext_len;
	uint8_t upper;            /* IP_PROTO_ICMPV6 or IP_PROTO_TCP */
	bool bad_checksum;
};
uint32_t harness_build_ipv6(struct harness *h, uint8_t *frame, const struct harness_ip6_spec *spec, const void *l4,
			    uint32_t l4_len);

/* A transmitted IPv6 frame, parsed back (no extension headers: the stack sends none). */
struct harness_ip6_frame {
	uint8_t eth_dst[6], eth_src[6];
	uint8_t src[16], dst[16];
	uint8_t hop_limit, next_header;
	uint32_t payload_len;     /* IPv6 payload length field */
	const uint8_t *l4;
	uint32_t l4_len;          /* bytes after the fixed header in the frame */
	bool checksum_ok;         /* ICMPv6 or TCP checksum over payload_len bytes */
};
bool harness_tx_ipv6(const struct harness *h, uint32_t i, struct harness_ip6_frame *out);
/* The same for any frame (IPv6 only). */
bool harness_parse_ipv6(const uint8_t *frame, uint32_t len, struct harness_ip6_frame *out);

/* Parses transmitted frame i as TCP over IPv4 or IPv6 (false if it is neither). */
bool harness_tx_tcp(const struct harness *h, uint32_t i, struct harness_segment *seg);
/* The same for any frame. */
bool harness_parse_tcp(const uint8_t *frame, uint32_t len, struct harness_segment *seg);

/* Connection of the client port (NULL if none). */
struct tcp_conn *harness_conn(struct harness *h, uint16_t client_port);

/* Three-way handshake from client_port (client ISN isn, window), returns our ISS. */
uint32_t harness_handshake(struct harness *h, uint16_t client_port, uint32_t isn, uint16_t window);

/* Checks that seg's payload is the pattern at stream offset. */
bool harness_payload_ok(const struct harness_segment *seg, uint64_t offset);

#endif /* SLUICE_TEST_NET_HARNESS_H */
