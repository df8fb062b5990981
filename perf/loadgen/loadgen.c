/* SPDX-License-Identifier: BSD-3-Clause
 *
 * loadgen.c: `sluice-loadgen`, many HTTP/1.1 clients emulated on one DPDK lcore, talking to the
 * data plane over a memif port (a second DPDK process with its own --file-prefix; the data
 * plane is the memif server, this is the client). It exists to measure the data plane without
 * a kernel in the path: on the lab veth most of the server core goes to the kernel's AF_XDP
 * copy path and to the client's receive stack (perf/README.md), here every cycle of the
 * server lcore is the data plane's own.
 *
 *   sluice-loadgen --socket PATH --server-ip A.B.C.D --client-ip A.B.C.D --connections N
 *                  --paths FILE [--duration S] [--open-rate N] [--requests-per-conn N]
 *                  [--lcore N] [--file-prefix P] [--no-huge] [--hold] [--wait-stdin] [--head]
 *
 * Each client is a connection from its own address/port (client-ip upwards, 50000 ports per
 * address): SYN with MSS and window scale, then a GET for the next path of the list
 * (round robin), the response head parsed for its Content-Length, the body counted, and the
 * next GET on the same connection (keep-alive) until --requests-per-conn (0: unlimited) or the
 * end. Receiving is what a receiver does at line rate: in-order bytes are consumed at once,
 * the window is always fully open (8 MiB), an ACK goes out for every second full segment and
 * at the end of each receive burst; a segment beyond rcv_nxt is dropped and answered with a
 * duplicate ACK. SYNs are retransmitted after 1 s, a request the server has not acknowledged
 * after 0.5 s, each time twice as late as the time before. --head sends HEAD instead of GET (connection-scale tests without bulk data).
 * At the end every connection is reset so the data plane frees it. --hold keeps connections
 * open without new requests once each has had its responses (connection-scale tests).
 *
 * Checksums: IPv4 and TCP checksums of what this sends are computed in software; what it
 * receives over memif (shared memory, no wire) is not verified.
 *
 * Output: a line per second on stderr, and at the end one JSON object on stdout: connections
 * opened/established, responses, bytes, Gb/s, req/s, TTFB and TTLB percentiles (µs).
 *
 * Layout (one lcore, run to completion, like the data plane): open new connections within
 * the rate → rx burst → per-packet input → ACKs for the burst → timer sweep (a slice of the
 * table per turn) → tx flush.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <inttypes.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LG_PORTS_PER_ADDRESS 50000u
#define LG_PORT_BASE 10000u
#define LG_RX_BURST 64
#define LG_TX_MAX 1024
#define LG_MSS 1460
#define LG_WSCALE 7
#define LG_WINDOW 65535u            /* << LG_WSCALE: 8 MiB, never closes: bytes are consumed at once */
#define LG_LINE_MAX 40              /* head bytes kept per line: enough for "content-length: N" */
#define LG_SYN_RTO_US 1000000
#define LG_REQUEST_RTO_US 500000
#define LG_SWEEP_PER_TURN 512
#define LG_HIST_BUCKETS 512         /* latency histogram: 16 linear sub-buckets per power of 2 µs */

enum lg_state { LG_IDLE = 0, LG_SYN_SENT, LG_HEAD, LG_BODY, LG_HELD, LG_CLOSED };

struct lg_conn {
	uint32_t snd_nxt;            /* sequence of our next new byte */
	uint32_t request_seq;        /* sequence of the request in flight (retransmission) */
	uint32_t rcv_nxt;
	uint32_t ack_next;           /* index + 1 in the burst's ACK list, 0 = not listed */
	uint64_t body_left;
	uint64_t content_length;
	uint64_t t_request;          /* tsc when the request (or SYN) went out */
	uint64_t t_progress;         /* tsc of the last progress, for retransmission */
	uint32_t requests;
	uint32_t path;               /* index in the path list of the request in flight */
	uint16_t line_len;
	uint8_t state;
	uint8_t unacked_segments;
	uint8_t got_first_byte;
	uint8_t line_is_status;
	uint8_t request_acked;       /* the server acknowledged the request in flight */
	uint8_t head_only;           /* HEAD request: no body follows the head */
	uint8_t retries;             /* retransmissions of the SYN or request in flight (backoff) */
	uint16_t status;
	char line[LG_LINE_MAX];
};

struct lg_hist {
	uint64_t count[LG_HIST_BUCKETS];
	uint64_t total;
};

struct lg {
	/* settings */
	const char *socket_path, *paths_file, *file_prefix;
	uint32_t server_ip, client_ip;           /* host order */
	uint32_t connections, open_rate, requests_per_conn, lcore;
	double duration_s;
	bool no_huge, hold, wait_stdin, head;
	char **paths;
	uint32_t path_count;
	/* port */
	uint16_t port_id;
	struct rte_mempool *pool;
	uint8_t mac[6], server_mac[6];
	bool server_mac_known;
	struct rte_mbuf *tx[LG_TX_MAX];
	uint32_t tx_count;
	/* connections */
	struct lg_conn *conns;
	uint32_t opened, sweep_at, ack_head;
	uint32_t next_path;
	/* time */
	uint64_t tsc_hz, tsc_per_us, t_start, t_end;
	/* counters */
	uint64_t established, responses, bytes, rx_packets, tx_packets, tx_dropped, syn_retransmits,
		request_retransmits, dup_acks, resets_received, bad_status, arp_replies, stale_resets;
	struct lg_hist ttfb, ttlb;
};

static volatile bool lg_quit;

static void lg_signal(int sig)
{
	(void)sig;
	lg_quit = true;
}

/* --- small helpers ------------------------------------------------------------------------- */

static void lg_hist_add(struct lg_hist *h, uint64_t us)
{
	uint32_t b;

	if (us < 16) {
		b = (uint32_t)us;
	} else {
		uint32_t lg2 = 63u - (uint32_t)__builtin_clzll(us); /* >= 4 */
		b = (lg2 - 3) * 16 + (uint32_t)((us >> (lg2 - 4)) & 15);
	}
	if (b >= LG_HIST_BUCKETS)
		b = LG_HIST_BUCKETS - 1;
	h->count[b]++;
	h->total++;
}

static uint64_t lg_hist_value(uint32_t b)
{
	uint32_t lg2;

	if (b < 16)
		return b;
	lg2 = b / 16 + 3;
	return ((uint64_t)(16 + b % 16)) << (lg2 - 4);
}

static uint64_t lg_hist_percentile(const struct lg_hist *h, double p)
{
	uint64_t want = (uint64_t)(p / 100.0 * (double)h->total + 0.5), seen = 0;

	if (!h->total)
		return 0;
	if (want < 1)
		want = 1;
	for (uint32_t b = 0; b < LG_HIST_BUCKETS; b++) {
		seen += h->count[b];
		if (seen >= want)
			return lg_hist_value(b);
	}
	return lg_hist_value(LG_HIST_BUCKETS - 1);
}

static uint32_t lg_csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;

	while (len > 1) {
		sum += (uint32_t)p[0] << 8 | p[1];
		p += 2;
		len -= 2;
	}
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static uint16_t lg_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void lg_conn_address(const struct lg *g, uint32_t index, uint32_t *ip, uint16_t *port)
{
	*ip = g->client_ip + index / LG_PORTS_PER_ADDRESS;
	*port = (uint16_t)(LG_PORT_BASE + index % LG_PORTS_PER_ADDRESS);
}

static uint32_t lg_iss_secret;

static uint32_t lg_iss(uint32_t index)
{
	uint32_t x = index * 2654435761u + lg_iss_secret;

	x ^= x >> 15;
	return x * 2246822519u;
}

/* --- transmit ------------------------------------------------------------------------------ */

static void lg_tx_flush(struct lg *g)
{
	uint16_t sent;

	if (!g->tx_count)
		return;
	sent = rte_eth_tx_burst(g->port_id, 0, g->tx, (uint16_t)g->tx_count);
	g->tx_packets += sent;
	if (sent < g->tx_count) {
		memmove(g->tx, g->tx + sent, (g->tx_count - sent) * sizeof(g->tx[0]));
	}
	g->tx_count -= sent;
}

static void lg_tx_queue(struct lg *g, struct rte_mbuf *m)
{
	if (g->tx_count == LG_TX_MAX)
		lg_tx_flush(g);
	if (g->tx_count == LG_TX_MAX) {
		g->tx_dropped++;
		rte_pktmbuf_free(m);
		return;
	}
	g->tx[g->tx_count++] = m;
}

/* One TCP segment from connection index to the server: flags, our sequence, optional payload. */
static void lg_send_segment(struct lg *g, uint32_t index, uint8_t flags, uint32_t seq, const void *payload,
			    uint32_t payload_len)
{
	struct lg_conn *c = &g->conns[index];
	struct rte_mbuf *m = rte_pktmbuf_alloc(g->pool);
	uint8_t options[8];
	uint32_t opt_len = 0, ip, tcp_len, sum;
	uint16_t port;
	uint8_t *p, *tcp;

	if (!m) {
		g->tx_dropped++;
		return;
	}
	if (flags & 0x02) { /* SYN: MSS and window scale */
		options[0] = 2, options[1] = 4, options[2] = LG_MSS >> 8, options[3] = LG_MSS & 0xff;
		options[4] = 1, options[5] = 3, options[6] = 3, options[7] = LG_WSCALE;
		opt_len = 8;
	}
	tcp_len = 20 + opt_len;
	p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(14 + 20 + tcp_len + payload_len));
	if (!p) {
		rte_pktmbuf_free(m);
		g->tx_dropped++;
		return;
	}
	lg_conn_address(g, index, &ip, &port);
	memcpy(p, g->server_mac, 6);
	memcpy(p + 6, g->mac, 6);
	p[12] = 0x08, p[13] = 0x00;
	/* IPv4 */
	p[14] = 0x45, p[15] = 0;
	p[16] = (uint8_t)((20 + tcp_len + payload_len) >> 8), p[17] = (uint8_t)(20 + tcp_len + payload_len);
	p[18] = 0, p[19] = 0, p[20] = 0x40, p[21] = 0; /* id 0, DF */
	p[22] = 64, p[23] = 6, p[24] = 0, p[25] = 0;
	*(uint32_t *)(void *)(p + 26) = htonl(ip);
	*(uint32_t *)(void *)(p + 30) = htonl(g->server_ip);
	sum = lg_csum_fold(lg_csum_add(0, p + 14, 20));
	p[24] = (uint8_t)(sum >> 8), p[25] = (uint8_t)sum;
	/* TCP */
	tcp = p + 34;
	tcp[0] = (uint8_t)(port >> 8), tcp[1] = (uint8_t)port, tcp[2] = 0, tcp[3] = 80;
	*(uint32_t *)(void *)(tcp + 4) = htonl(seq);
	*(uint32_t *)(void *)(tcp + 8) = htonl((flags & 0x10) ? c->rcv_nxt : 0);
	tcp[12] = (uint8_t)((tcp_len / 4) << 4), tcp[13] = flags;
	tcp[14] = LG_WINDOW >> 8, tcp[15] = LG_WINDOW & 0xff;
	tcp[16] = 0, tcp[17] = 0, tcp[18] = 0, tcp[19] = 0;
	memcpy(tcp + 20, options, opt_len);
	if (payload_len)
		memcpy(tcp + tcp_len, payload, payload_len);
	sum = lg_csum_add(0, p + 26, 8); /* pseudo header: addresses, protocol, length */
	sum += 6 + tcp_len + payload_len;
	sum = lg_csum_fold(lg_csum_add(sum, tcp, tcp_len + payload_len));
	tcp[16] = (uint8_t)(sum >> 8), tcp[17] = (uint8_t)sum;
	lg_tx_queue(g, m);
}

static int lg_format_request(const struct lg *g, uint32_t path, char *buf, size_t len)
{
	return snprintf(buf, len, "%s %s HTTP/1.1\r\nHost: sluice\r\nUser-Agent: sluice-loadgen\r\n\r\n",
			g->head ? "HEAD" : "GET", g->paths[path]);
}

static void lg_send_request(struct lg *g, uint32_t index)
{
	struct lg_conn *c = &g->conns[index];
	char req[512];
	int n;

	c->path = g->next_path++ % g->path_count;
	n = lg_format_request(g, c->path, req, sizeof(req));
	c->request_seq = c->snd_nxt;
	c->state = LG_HEAD;
	c->line_len = 0;
	c->line_is_status = 1;
	c->content_length = UINT64_MAX;
	c->got_first_byte = 0;
	c->request_acked = 0;
	c->retries = 0;
	c->head_only = g->head;
	c->unacked_segments = 0;
	c->t_request = c->t_progress = rte_rdtsc();
	lg_send_segment(g, index, 0x18, c->snd_nxt, req, (uint32_t)n); /* PSH|ACK */
	c->snd_nxt += (uint32_t)n;
	c->requests++;
}

/* The request in flight again, byte for byte (rebuilt from its path, never stored). */
static void lg_resend_request(struct lg *g, uint32_t index)
{
	struct lg_conn *c = &g->conns[index];
	char req[512];
	int n = lg_format_request(g, c->path, req, sizeof(req));

	lg_send_segment(g, index, 0x18, c->request_seq, req, (uint32_t)n);
	g->request_retransmits++;
	c->t_progress = rte_rdtsc();
}

static void lg_open(struct lg *g, uint32_t index)
{
	struct lg_conn *c = &g->conns[index];

	memset(c, 0, sizeof(*c));
	c->snd_nxt = lg_iss(index);
	c->state = LG_SYN_SENT;
	c->t_request = c->t_progress = rte_rdtsc();
	lg_send_segment(g, index, 0x02, c->snd_nxt, NULL, 0);
	c->snd_nxt++;
}

/* --- receive ------------------------------------------------------------------------------- */

static void lg_ack_later(struct lg *g, uint32_t index)
{
	struct lg_conn *c = &g->conns[index];

	if (c->ack_next)
		return;
	c->ack_next = g->ack_head ? g->ack_head : UINT32_MAX; /* UINT32_MAX ends the list */
	g->ack_head = index + 1;
}

static void lg_send_acks(struct lg *g)
{
	uint32_t i = g->ack_head;

	while (i && i != UINT32_MAX) {
		struct lg_conn *c = &g->conns[i - 1];
		uint32_t next = c->ack_next;

		c->ack_next = 0;
		if (c->state == LG_HEAD || c->state == LG_BODY || c->state == LG_HELD) {
			lg_send_segment(g, i - 1, 0x10, c->snd_nxt, NULL, 0);
			c->unacked_segments = 0;
		}
		i = next;
	}
	g->ack_head = 0;
}

static bool lg_more_requests(const struct lg *g, const struct lg_conn *c)
{
	return !lg_quit && rte_rdtsc() < g->t_end && (!g->requests_per_conn || c->requests < g->requests_per_conn);
}

static void lg_response_done(struct lg *g, uint32_t index)
{
	struct lg_conn *c = &g->conns[index];

	g->responses++;
	lg_hist_add(&g->ttlb, (rte_rdtsc() - c->t_request) / g->tsc_per_us);
	if (c->status != 200 && c->status != 206)
		g->bad_status++;
	if (lg_more_requests(g, c)) {
		lg_send_request(g, index); /* carries the ACK */
		c->unacked_segments = 0;
	} else {
		c->state = LG_HELD;
		lg_ack_later(g, index);
	}
}

/* Head bytes: lines kept up to LG_LINE_MAX; the status line and Content-Length are parsed. */
static uint32_t lg_consume_head(struct lg_conn *c, const uint8_t *p, uint32_t len)
{
	uint32_t i = 0;

	while (i < len) {
		uint8_t ch = p[i++];

		if (ch != '\n') {
			if (c->line_len < LG_LINE_MAX)
				c->line[c->line_len] = (char)ch;
			c->line_len++;
			continue;
		}
		if (c->line_len <= 1) { /* "\r\n" alone: end of the head */
			c->state = LG_BODY;
			c->body_left = c->content_length == UINT64_MAX || c->head_only ? 0 : c->content_length;
			return i;
		}
		if (c->line_is_status) {
			c->status = c->line_len >= 12 ? (uint16_t)atoi(c->line + 9) : 0;
			c->line_is_status = 0;
		} else if (c->line_len > 15 && !strncasecmp(c->line, "content-length:", 15)) {
			char num[24];
			uint32_t n = c->line_len < LG_LINE_MAX ? c->line_len : LG_LINE_MAX;

			memcpy(num, c->line + 15, n - 15 < sizeof(num) - 1 ? n - 15 : sizeof(num) - 1);
			num[n - 15 < sizeof(num) - 1 ? n - 15 : sizeof(num) - 1] = 0;
			c->content_length = strtoull(num, NULL, 10);
		}
		c->line_len = 0;
	}
	return i;
}

static void lg_input_tcp(struct lg *g, const uint8_t *ip4, uint32_t ip_len)
{
	uint32_t ihl = (ip4[0] & 15u) * 4, dst = ntohl(*(const uint32_t *)(const void *)(ip4 + 16)), index, seq,
		 ack, hdr, payload_len;
	const uint8_t *tcp = ip4 + ihl, *payload;
	uint16_t dport;
	uint8_t flags;
	struct lg_conn *c;

	if (ip_len < ihl + 20)
		return;
	dport = (uint16_t)(tcp[2] << 8 | tcp[3]);
	if (dst < g->client_ip || dport < LG_PORT_BASE || dport >= LG_PORT_BASE + LG_PORTS_PER_ADDRESS)
		return;
	index = (dst - g->client_ip) * LG_PORTS_PER_ADDRESS + (dport - LG_PORT_BASE);
	if (index >= g->opened)
		return;
	c = &g->conns[index];
	seq = ntohl(*(const uint32_t *)(const void *)(tcp + 4));
	ack = ntohl(*(const uint32_t *)(const void *)(tcp + 8));
	hdr = (uint32_t)(tcp[12] >> 4) * 4;
	flags = tcp[13];
	if (ip_len < ihl + hdr)
		return;
	payload = tcp + hdr;
	payload_len = ip_len - ihl - hdr;
	if (flags & 0x04) { /* RST */
		if (c->state != LG_CLOSED && c->state != LG_IDLE)
			g->resets_received++;
		c->state = LG_CLOSED;
		return;
	}
	if (c->state == LG_SYN_SENT) {
		if ((flags & 0x12) == 0x10) {
			/* An ACK for something else: the server still holds an older connection on this
			 * address/port (RFC 9293 3.10.7.3: reset it with <SEQ=SEG.ACK>); the SYN goes
			 * out again at once. */
			lg_send_segment(g, index, 0x04, ack, NULL, 0);
			lg_send_segment(g, index, 0x02, c->snd_nxt - 1, NULL, 0);
			g->stale_resets++;
			return;
		}
		if ((flags & 0x12) == 0x12) {
			c->rcv_nxt = seq + 1;
			g->established++;
			lg_send_request(g, index); /* ACK of the SYN-ACK, with the request */
		}
		return;
	}
	if (c->state != LG_HEAD && c->state != LG_BODY && c->state != LG_HELD)
		return;
	if ((flags & 0x10) && (int32_t)(ack - c->snd_nxt) >= 0)
		c->request_acked = 1;
	if (payload_len) {
		if (seq != c->rcv_nxt) {
			/* old (retransmitted) or beyond a gap: a duplicate ACK right away */
			lg_send_segment(g, index, 0x10, c->snd_nxt, NULL, 0);
			g->dup_acks++;
			return;
		}
		c->rcv_nxt += payload_len;
		g->bytes += payload_len;
		c->t_progress = rte_rdtsc();
		while (payload_len) {
			uint32_t used;

			if (c->state == LG_HEAD) {
				if (!c->got_first_byte) {
					c->got_first_byte = 1;
					lg_hist_add(&g->ttfb, (rte_rdtsc() - c->t_request) / g->tsc_per_us);
				}
				used = lg_consume_head(c, payload, payload_len);
				payload += used, payload_len -= used;
				if (c->state == LG_BODY && !c->body_left) {
					lg_response_done(g, index);
					continue;
				}
			} else if (c->state == LG_BODY) {
				used = payload_len < c->body_left ? payload_len : (uint32_t)c->body_left;
				c->body_left -= used;
				payload += used, payload_len -= used;
				if (!c->body_left)
					lg_response_done(g, index);
			} else {
				break; /* bytes after what was asked: counted, ignored */
			}
		}
		if (c->state == LG_HEAD || c->state == LG_BODY || c->state == LG_HELD) {
			if (++c->unacked_segments >= 2) {
				lg_send_segment(g, index, 0x10, c->snd_nxt, NULL, 0);
				c->unacked_segments = 0;
			} else {
				lg_ack_later(g, index);
			}
		}
	}
	if (flags & 0x01) { /* FIN: acknowledge it and close our side */
		c->rcv_nxt++;
		lg_send_segment(g, index, 0x11, c->snd_nxt, NULL, 0);
		c->snd_nxt++;
		c->state = LG_CLOSED;
	}
}

static void lg_input_arp(struct lg *g, struct rte_mbuf *m, uint8_t *p, uint32_t len)
{
	uint32_t sender, target;

	if (len < 42 || p[20] != 0 || (p[21] != 1 && p[21] != 2))
		return;
	sender = ntohl(*(uint32_t *)(void *)(p + 28));
	target = ntohl(*(uint32_t *)(void *)(p + 38));
	if (sender == g->server_ip) {
		memcpy(g->server_mac, p + 22, 6);
		g->server_mac_known = true;
		g->arp_replies += p[21] == 2;
	}
	if (p[21] == 1 && target >= g->client_ip &&
	    target < g->client_ip + (g->connections + LG_PORTS_PER_ADDRESS - 1) / LG_PORTS_PER_ADDRESS) {
		struct rte_mbuf *r = rte_pktmbuf_alloc(g->pool);
		uint8_t *q;

		if (!r)
			return;
		q = (uint8_t *)rte_pktmbuf_append(r, 42);
		memcpy(q, p + 6, 6);
		memcpy(q + 6, g->mac, 6);
		q[12] = 0x08, q[13] = 0x06;
		memcpy(q + 14, p + 14, 6); /* hardware/protocol types and sizes */
		q[20] = 0, q[21] = 2;
		memcpy(q + 22, g->mac, 6);
		memcpy(q + 28, p + 38, 4);
		memcpy(q + 32, p + 22, 10); /* target = the requester's MAC and IP */
		lg_tx_queue(g, r);
	}
	(void)m;
}

static void lg_arp_request(struct lg *g)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(g->pool);
	uint8_t *q;
	uint32_t sip = htonl(g->client_ip), tip = htonl(g->server_ip);

	if (!m)
		return;
	q = (uint8_t *)rte_pktmbuf_append(m, 42);
	memset(q, 0xff, 6);
	memcpy(q + 6, g->mac, 6);
	q[12] = 0x08, q[13] = 0x06;
	q[14] = 0, q[15] = 1, q[16] = 0x08, q[17] = 0, q[18] = 6, q[19] = 4, q[20] = 0, q[21] = 1;
	memcpy(q + 22, g->mac, 6);
	memcpy(q + 28, &sip, 4);
	memset(q + 32, 0, 6);
	memcpy(q + 38, &tip, 4);
	lg_tx_queue(g, m);
}

static void lg_rx(struct lg *g)
{
	struct rte_mbuf *rx[LG_RX_BURST];
	uint16_t n = rte_eth_rx_burst(g->port_id, 0, rx, LG_RX_BURST);

	g->rx_packets += n;
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = rx[i];
		uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
		uint32_t len = rte_pktmbuf_data_len(m);

		if (len >= 14 && p[12] == 0x08 && p[13] == 0x06) {
			lg_input_arp(g, m, p, len);
		} else if (len >= 34 && p[12] == 0x08 && p[13] == 0x00 && p[23] == 6 &&
			   ntohl(*(uint32_t *)(void *)(p + 26)) == g->server_ip) {
			uint32_t ip_len = (uint32_t)(p[16] << 8 | p[17]);

			if (ip_len <= len - 14 && m->nb_segs == 1)
				lg_input_tcp(g, p + 14, ip_len);
		}
		rte_pktmbuf_free(m);
	}
	lg_send_acks(g);
}

/* Retransmissions, a slice of the table per turn. */
static void lg_sweep(struct lg *g)
{
	uint64_t now = rte_rdtsc();

	for (uint32_t k = 0; k < LG_SWEEP_PER_TURN && g->opened; k++) {
		uint32_t index = g->sweep_at++ % g->opened;
		struct lg_conn *c = &g->conns[index];

		uint64_t backoff = 1ull << (c->retries < 6 ? c->retries : 6); /* like TCP: doubling */

		if (c->state == LG_SYN_SENT && now - c->t_progress > g->tsc_per_us * LG_SYN_RTO_US * backoff) {
			lg_send_segment(g, index, 0x02, c->snd_nxt - 1, NULL, 0);
			c->t_progress = now;
			c->retries++;
			g->syn_retransmits++;
		} else if (c->state == LG_HEAD && !c->got_first_byte && !c->request_acked &&
			   now - c->t_progress > g->tsc_per_us * LG_REQUEST_RTO_US * backoff) {
			lg_resend_request(g, index);
			c->retries++;
		}
	}
}

/* --- setup --------------------------------------------------------------------------------- */

static int lg_load_paths(struct lg *g)
{
	FILE *f = fopen(g->paths_file, "r");
	char line[400];
	uint32_t cap = 0;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = 0;
		if (!line[0])
			continue;
		if (g->path_count == cap) {
			char **np = realloc(g->paths, (cap = cap ? cap * 2 : 64) * sizeof(*np));
			if (!np) {
				fclose(f);
				return -ENOMEM;
			}
			g->paths = np;
		}
		g->paths[g->path_count++] = strdup(line);
	}
	fclose(f);
	return g->path_count ? 0 : -ENOENT;
}

static int lg_port_open(struct lg *g)
{
	struct rte_eth_conf conf;
	struct rte_ether_addr mac;
	uint16_t rx_desc = 1024, tx_desc = 1024;
	int rc;

	memset(&conf, 0, sizeof(conf));
	if (rte_eth_dev_count_avail() != 1)
		return -ENODEV;
	RTE_ETH_FOREACH_DEV(g->port_id) break;
	g->pool = rte_pktmbuf_pool_create("lg_pool", 32768, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	if (!g->pool)
		return -ENOMEM;
	rc = rte_eth_dev_configure(g->port_id, 1, 1, &conf);
	if (!rc)
		rc = rte_eth_dev_adjust_nb_rx_tx_desc(g->port_id, &rx_desc, &tx_desc);
	if (!rc)
		rc = rte_eth_rx_queue_setup(g->port_id, 0, rx_desc, (unsigned)rte_socket_id(), NULL, g->pool);
	if (!rc)
		rc = rte_eth_tx_queue_setup(g->port_id, 0, tx_desc, (unsigned)rte_socket_id(), NULL);
	if (!rc)
		rc = rte_eth_dev_start(g->port_id);
	if (rc)
		return rc;
	rte_eth_macaddr_get(g->port_id, &mac);
	memcpy(g->mac, mac.addr_bytes, 6);
	return 0;
}

static void lg_usage(FILE *out)
{
	fprintf(out, "usage: sluice-loadgen --socket PATH --server-ip IP --client-ip IP --connections N --paths FILE\n"
		     "                      [--duration S] [--open-rate N/s] [--requests-per-conn N] [--hold]\n"
		     "                      [--lcore N] [--file-prefix P] [--no-huge] [--wait-stdin] [--head]\n");
}

static int lg_parse(struct lg *g, int argc, char **argv)
{
	static const struct option options[] = {
		{"socket", required_argument, NULL, 's'},  {"server-ip", required_argument, NULL, 'S'},
		{"client-ip", required_argument, NULL, 'C'}, {"connections", required_argument, NULL, 'n'},
		{"paths", required_argument, NULL, 'p'},   {"duration", required_argument, NULL, 'd'},
		{"open-rate", required_argument, NULL, 'r'}, {"requests-per-conn", required_argument, NULL, 'q'},
		{"lcore", required_argument, NULL, 'l'},   {"file-prefix", required_argument, NULL, 'f'},
		{"no-huge", no_argument, NULL, 'H'},       {"hold", no_argument, NULL, 'o'},
		{"wait-stdin", no_argument, NULL, 'w'},    {"head", no_argument, NULL, 'm'},
		{"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
	};
	struct in_addr a;
	int opt;

	g->duration_s = 10;
	g->open_rate = 100000;
	g->file_prefix = "sluice-loadgen";
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 's': g->socket_path = optarg; break;
		case 'S':
			if (inet_pton(AF_INET, optarg, &a) != 1)
				return -EINVAL;
			g->server_ip = ntohl(a.s_addr);
			break;
		case 'C':
			if (inet_pton(AF_INET, optarg, &a) != 1)
				return -EINVAL;
			g->client_ip = ntohl(a.s_addr);
			break;
		case 'n': g->connections = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'p': g->paths_file = optarg; break;
		case 'd': g->duration_s = atof(optarg); break;
		case 'r': g->open_rate = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'q': g->requests_per_conn = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'l': g->lcore = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'f': g->file_prefix = optarg; break;
		case 'H': g->no_huge = true; break;
		case 'o': g->hold = true; break;
		case 'w': g->wait_stdin = true; break;
		case 'm': g->head = true; break;
		case 'h': lg_usage(stdout); exit(0);
		default: return -EINVAL;
		}
	}
	if (!g->socket_path || !g->server_ip || !g->client_ip || !g->connections || !g->paths_file ||
	    g->duration_s <= 0 || !g->open_rate || optind != argc)
		return -EINVAL;
	if (g->hold && !g->requests_per_conn)
		g->requests_per_conn = 1;
	return 0;
}

static void lg_print_json(struct lg *g, double seconds)
{
	printf("{\"connections\":%u,\"opened\":%u,\"established\":%" PRIu64 ",\"responses\":%" PRIu64
	       ",\"bytes\":%" PRIu64 ",\"seconds\":%.3f,\"gbit_s\":%.3f,\"req_s\":%.1f,"
	       "\"ttfb_us\":{\"p50\":%" PRIu64 ",\"p99\":%" PRIu64 ",\"count\":%" PRIu64 "},"
	       "\"ttlb_us\":{\"p50\":%" PRIu64 ",\"p99\":%" PRIu64 ",\"count\":%" PRIu64 "},"
	       "\"rx_packets\":%" PRIu64 ",\"tx_packets\":%" PRIu64 ",\"tx_dropped\":%" PRIu64
	       ",\"syn_retransmits\":%" PRIu64 ",\"request_retransmits\":%" PRIu64 ",\"dup_acks\":%" PRIu64
	       ",\"resets_received\":%" PRIu64 ",\"stale_connections_reset\":%" PRIu64 ",\"bad_status\":%" PRIu64 "}\n",
	       g->connections, g->opened, g->established, g->responses, g->bytes, seconds,
	       (double)g->bytes * 8 / 1e9 / seconds, (double)g->responses / seconds, lg_hist_percentile(&g->ttfb, 50),
	       lg_hist_percentile(&g->ttfb, 99), g->ttfb.total, lg_hist_percentile(&g->ttlb, 50),
	       lg_hist_percentile(&g->ttlb, 99), g->ttlb.total, g->rx_packets, g->tx_packets, g->tx_dropped,
	       g->syn_retransmits, g->request_retransmits, g->dup_acks, g->resets_received, g->stale_resets,
	       g->bad_status);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	static struct lg g;
	char lcore[16], prefix[96], vdev[600];
	char *eal[16];
	int n = 0, rc;
	uint64_t next_report, last_bytes = 0, t_stop;

	if (lg_parse(&g, argc, argv)) {
		lg_usage(stderr);
		return 2;
	}
	if ((rc = lg_load_paths(&g))) {
		fprintf(stderr, "sluice-loadgen: %s: %s\n", g.paths_file, strerror(-rc));
		return 1;
	}
	snprintf(lcore, sizeof(lcore), "%u", g.lcore);
	snprintf(prefix, sizeof(prefix), "%s", g.file_prefix);
	snprintf(vdev, sizeof(vdev), "net_memif0,role=client,id=0,socket=%s,socket-abstract=no", g.socket_path);
	eal[n++] = argv[0];
	eal[n++] = "-l";
	eal[n++] = lcore;
	eal[n++] = "--file-prefix";
	eal[n++] = prefix;
	eal[n++] = "--no-pci";
	eal[n++] = "--no-telemetry";
	eal[n++] = "--vdev";
	eal[n++] = vdev;
	eal[n++] = "-m";
	eal[n++] = "512";
	eal[n++] = "--log-level";
	eal[n++] = "*:notice";
	if (g.no_huge)
		eal[n++] = "--no-huge";
	eal[n] = NULL;
	if (rte_eal_init(n, eal) < 0) {
		fprintf(stderr, "sluice-loadgen: EAL initialisation failed\n");
		return 1;
	}
	signal(SIGINT, lg_signal);
	signal(SIGTERM, lg_signal);
	rc = 1;
	g.conns = calloc(g.connections, sizeof(*g.conns));
	if (!g.conns || lg_port_open(&g)) {
		fprintf(stderr, "sluice-loadgen: cannot set up the memif port or %u connections\n", g.connections);
		goto cleanup;
	}
	g.tsc_hz = rte_get_tsc_hz();
	lg_iss_secret = (uint32_t)rte_rdtsc() * 2246822519u;
	g.tsc_per_us = g.tsc_hz / 1000000;
	g.t_start = rte_rdtsc();
	/* Wait for the memif link and the server's MAC (ARP), up to 20 s. */
	for (int i = 0; i < 2000 && !lg_quit && !g.server_mac_known; i++) {
		struct rte_eth_link link;

		rte_eth_link_get_nowait(g.port_id, &link);
		if (link.link_status && i % 50 == 0)
			lg_arp_request(&g);
		lg_tx_flush(&g);
		lg_rx(&g);
		lg_tx_flush(&g);
		rte_delay_us_sleep(10000);
	}
	if (!g.server_mac_known) {
		fprintf(stderr, "sluice-loadgen: no ARP answer from the server over %s\n", g.socket_path);
		goto cleanup;
	}
	g.t_start = rte_rdtsc();
	g.t_end = g.t_start + (uint64_t)(g.duration_s * (double)g.tsc_hz);
	next_report = g.t_start + g.tsc_hz;
	while (!lg_quit && rte_rdtsc() < g.t_end) {
		uint64_t now = rte_rdtsc();
		uint64_t allowed = (now - g.t_start) / g.tsc_per_us * g.open_rate / 1000000 + 1;

		while (g.opened < g.connections && g.opened < allowed && g.tx_count < LG_TX_MAX / 2)
			lg_open(&g, g.opened++);
		lg_rx(&g);
		lg_sweep(&g);
		lg_tx_flush(&g);
		if (now >= next_report) {
			fprintf(stderr, "loadgen: %6.1f s  opened %u established %" PRIu64 " responses %" PRIu64
				"  %.2f Gb/s\n", (double)(now - g.t_start) / (double)g.tsc_hz, g.opened, g.established,
				g.responses, (double)(g.bytes - last_bytes) * 8 / 1e9);
			last_bytes = g.bytes;
			next_report += g.tsc_hz;
		}
	}
	t_stop = rte_rdtsc();
	lg_print_json(&g, (double)(t_stop - g.t_start) / (double)g.tsc_hz);
	/* Reset every connection so the data plane frees its slots at once. */
	for (uint32_t i = 0; i < g.opened; i++) {
		struct lg_conn *c = &g.conns[i];

		if (c->state != LG_IDLE && c->state != LG_CLOSED)
			lg_send_segment(&g, i, 0x14, c->snd_nxt, NULL, 0); /* RST|ACK */
		if (g.tx_count >= LG_TX_MAX / 2) {
			lg_tx_flush(&g);
			lg_rx(&g);
		}
	}
	/* Keep the port running a little: memif frames still in the ring are lost when the
	 * client disconnects. With --wait-stdin, until stdin closes: the caller stops the data
	 * plane first, because DPDK 22.11's memif server can crash when its client disconnects
	 * while its lcore is inside a burst (seen: segfault in librte_net_memif on the server). */
	for (uint64_t until = rte_rdtsc() + g.tsc_hz / 4; rte_rdtsc() < until || g.wait_stdin;) {
		lg_tx_flush(&g);
		lg_rx(&g);
		if (g.wait_stdin) {
			struct pollfd pfd = {.fd = 0, .events = POLLIN};

			if (poll(&pfd, 1, 0) > 0 || lg_quit)
				break;
			rte_delay_us_sleep(1000);
		}
	}
	rc = 0;
cleanup:
	rte_eth_dev_stop(g.port_id);
	rte_eth_dev_close(g.port_id);
	free(g.conns);
	rte_eal_cleanup();
	return rc;
}
