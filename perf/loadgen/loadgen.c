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
 *                  [--server-port N] [--tls --store DIR [--tls-sample N]] [--idle N]
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
 * --idle N mixes the two: the first N connections (of --connections) open at --open-rate, each
 * sends one HEAD and is then held; the others are active (keep-alive GETs, round robin) and
 * open only once every idle connection is established and has had its HEAD's response (or 5 s
 * after the last idle SYN went out, whichever comes first). --duration then counts from that moment, and responses, bytes,
 * Gb/s, req/s, TTFB and TTLB in the summary are the active connections' alone
 * ("idle_established": idle connections established when the run ended, "idle_held": those
 * that had their HEAD's response; "idle_phase_s": seconds before the active ones started).
 *
 * --tls (port 443 unless --server-port): after the SYN-ACK each connection runs a TLS 1.3
 * handshake (TLS_AES_128_GCM_SHA256 only, no certificate check) with an OpenSSL client over
 * memory BIOs; its key log line SERVER_TRAFFIC_SECRET_0 gives the server's application key and
 * IV (HKDF-Expand-Label, RFC 8446 7.1/7.3). From then on OpenSSL only seals the requests; the
 * server's records never reach it: they are framed here by their 5-byte headers and numbered.
 * A record is opened (AES-128-GCM, nonce = IV XOR record number) when the connection is
 * sampled (every Nth, --tls-sample, default 16; 0: none) or when it may hold a response head
 * (it starts while no body is expected: NewSessionTickets, inner type 22, are skipped there);
 * any other record counts as length - 17 plaintext bytes, an assumption (no padding) checked on
 * every opened record (`records_padded`). Bodies of sampled responses are compared byte for
 * byte with the files under --store. Bytes reported are plaintext; retransmission resends the
 * last flight OpenSSL wrote (ClientHello, or Finished and the sealed request). Costs: one
 * SSL object and a 21 KiB record buffer per connection.
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
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/ssl.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <fcntl.h>
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
#define LG_TLS_RECORD_MAX (16384 + 256) /* TLS 1.3 TLSCiphertext.length limit (RFC 8446 5.2) */
#define LG_TLS_TAG 16
#define LG_TLS_FLIGHT_MAX 4096      /* our bytes in flight: ClientHello, or Finished + a request */

enum lg_state { LG_IDLE = 0, LG_SYN_SENT, LG_TLS_HANDSHAKE, LG_HEAD, LG_BODY, LG_HELD, LG_CLOSED };

/* --tls: one client's TLS side. OpenSSL runs the handshake over memory BIOs and seals the
 * requests; the server's application records are never given to it: they are framed here,
 * counted by sequence number and opened (AES-128-GCM) only when their plaintext is needed.
 * Invariant: after the handshake every byte the server sends belongs to the record framed by
 * (header, header_have, record_length, record_have), and `sequence` numbers that record. */
struct lg_tls {
	SSL *ssl;
	BIO *network_in;             /* server bytes for OpenSSL (handshake only) */
	BIO *network_out;            /* OpenSSL's bytes for the server */
	uint8_t key[16], iv[12];
	bool have_key;               /* SERVER_TRAFFIC_SECRET_0 seen and expanded */
	uint64_t sequence;           /* record number of the record being framed */
	uint8_t header[5];
	uint8_t header_have;
	bool record_open;            /* this record is decrypted (sampled, or not inside a body) */
	uint32_t record_length, record_have;
	uint32_t flight_length;      /* our unacknowledged bytes at request_seq, for retransmission */
	uint8_t flight[LG_TLS_FLIGHT_MAX];
	uint8_t record[LG_TLS_RECORD_MAX];
};

/* A store file mapped for the byte-exact check of sampled TLS responses. */
struct lg_file {
	const uint8_t *data;
	size_t size;
	int state;                   /* 0 not tried, 1 mapped, -1 cannot be opened */
};

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
	uint8_t sampled;             /* --tls: every record is opened, bodies compared with the file */
	uint8_t body_matches;        /* sampled: every body byte so far equals the file's */
	uint16_t status;
	char line[LG_LINE_MAX];
	struct lg_tls *tls;
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
	bool no_huge, hold, wait_stdin, head, tls;
	uint32_t idle;                           /* --idle: connections [0, idle) are held after one HEAD */
	uint16_t server_port;
	uint32_t tls_sample;                     /* every Nth connection is sampled (0: none) */
	const char *store_root;
	char **paths;
	uint32_t path_count;
	struct lg_file *files;
	SSL_CTX *ssl_context;
	EVP_CIPHER_CTX *gcm;
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
	uint64_t t_active;                       /* --idle: when the active connections started (0: not yet) */
	uint64_t t_idle_opened;                  /* --idle: when the last idle SYN went out */
	uint64_t idle_established;               /* --idle: idle connections established now */
	uint64_t idle_held;                      /* --idle: of those, held after their HEAD's response */
	/* counters */
	uint64_t established, responses, bytes, rx_packets, tx_packets, tx_dropped, syn_retransmits,
		request_retransmits, dup_acks, resets_received, bad_status, arp_replies, stale_resets;
	uint64_t tls_handshakes, tls_handshake_failures, tls_wire_bytes, tls_records, tls_records_opened,
		tls_records_padded, tls_open_failures, tls_bad_records, tls_tickets_skipped, tls_alerts,
		sampled_connections, sampled_verified, sampled_mismatched;
	struct lg_hist ttfb, ttlb;
	char tls_json[768];
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
	tcp[0] = (uint8_t)(port >> 8), tcp[1] = (uint8_t)port;
	tcp[2] = (uint8_t)(g->server_port >> 8), tcp[3] = (uint8_t)g->server_port;
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

static int lg_format_request(const struct lg *g, uint32_t path, bool head, char *buf, size_t len)
{
	return snprintf(buf, len, "%s %s HTTP/1.1\r\nHost: sluice\r\nUser-Agent: sluice-loadgen\r\n\r\n",
			head ? "HEAD" : "GET", g->paths[path]);
}

/* Our bytes in order from seq, cut at the MSS, each segment with PSH|ACK. */
static void lg_send_bytes(struct lg *g, uint32_t index, uint32_t seq, const uint8_t *data, uint32_t len)
{
	for (uint32_t off = 0; off < len; off += LG_MSS)
		lg_send_segment(g, index, 0x18, seq + off, data + off, len - off < LG_MSS ? len - off : LG_MSS);
}

/* --tls: whatever OpenSSL has written (a handshake flight, a sealed request) goes out as the
 * new flight in flight; it is kept until the next one for retransmission. */
static int lg_tls_send_flight(struct lg *g, uint32_t index)
{
	struct lg_conn *c = &g->conns[index];
	struct lg_tls *t = c->tls;
	size_t pending = BIO_ctrl_pending(t->network_out);
	int n;

	if (!pending)
		return 0;
	if (pending > sizeof(t->flight))
		return -EMSGSIZE;
	n = BIO_read(t->network_out, t->flight, (int)pending);
	if (n <= 0)
		return -EIO;
	t->flight_length = (uint32_t)n;
	c->request_seq = c->snd_nxt;
	c->request_acked = 0;
	lg_send_bytes(g, index, c->snd_nxt, t->flight, t->flight_length);
	c->snd_nxt += t->flight_length;
	return n;
}

/* A connection ends (reset or FIN): --idle keeps the count of idle ones established. */
static void lg_close(struct lg *g, uint32_t index)
{
	struct lg_conn *c = &g->conns[index];

	if (index < g->idle && c->state != LG_IDLE && c->state != LG_SYN_SENT && c->state != LG_CLOSED)
		g->idle_established--;
	if (index < g->idle && c->state == LG_HELD)
		g->idle_held--;
	c->state = LG_CLOSED;
}

static void lg_reset_connection(struct lg *g, uint32_t index)
{
	struct lg_conn *c = &g->conns[index];

	lg_send_segment(g, index, 0x14, c->snd_nxt, NULL, 0); /* RST|ACK */
	lg_close(g, index);
}

static void lg_send_request(struct lg *g, uint32_t index)
{
	struct lg_conn *c = &g->conns[index];
	char req[512];
	int n;

	c->head_only = g->head || index < g->idle;
	c->path = g->next_path++ % g->path_count;
	n = lg_format_request(g, c->path, c->head_only, req, sizeof(req));
	c->request_seq = c->snd_nxt;
	c->state = LG_HEAD;
	c->line_len = 0;
	c->line_is_status = 1;
	c->content_length = UINT64_MAX;
	c->got_first_byte = 0;
	c->request_acked = 0;
	c->retries = 0;
	c->unacked_segments = 0;
	c->t_request = c->t_progress = rte_rdtsc();
	c->requests++;
	if (c->tls) { /* sealed by OpenSSL; after the handshake its Finished goes out with it */
		if (SSL_write(c->tls->ssl, req, n) != n || lg_tls_send_flight(g, index) <= 0) {
			g->tls_bad_records++;
			lg_reset_connection(g, index);
		}
		return;
	}
	lg_send_segment(g, index, 0x18, c->snd_nxt, req, (uint32_t)n); /* PSH|ACK */
	c->snd_nxt += (uint32_t)n;
}

/* The request in flight again, byte for byte (rebuilt from its path, never stored). */
static void lg_resend_request(struct lg *g, uint32_t index)
{
	struct lg_conn *c = &g->conns[index];
	char req[512];
	int n;

	g->request_retransmits++;
	if (c->tls) {
		lg_send_bytes(g, index, c->request_seq, c->tls->flight, c->tls->flight_length);
		c->t_progress = rte_rdtsc();
		return;
	}
	n = lg_format_request(g, c->path, c->head_only, req, sizeof(req));
	lg_send_segment(g, index, 0x18, c->request_seq, req, (uint32_t)n);
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

/* A connection whose received bytes are acknowledged. */
static bool lg_conn_live(const struct lg_conn *c)
{
	return c->state == LG_TLS_HANDSHAKE || c->state == LG_HEAD || c->state == LG_BODY || c->state == LG_HELD;
}

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
		if (lg_conn_live(c)) {
			lg_send_segment(g, i - 1, 0x10, c->snd_nxt, NULL, 0);
			c->unacked_segments = 0;
		}
		i = next;
	}
	g->ack_head = 0;
}

static bool lg_more_requests(const struct lg *g, uint32_t index, const struct lg_conn *c)
{
	if (index < g->idle)
		return c->requests < 1; /* --idle: one HEAD, then held */
	return !lg_quit && rte_rdtsc() < g->t_end && (!g->requests_per_conn || c->requests < g->requests_per_conn);
}

static void lg_response_done(struct lg *g, uint32_t index)
{
	struct lg_conn *c = &g->conns[index];

	if (index >= g->idle) { /* --idle: the idle connections' HEADs are not counted */
		g->responses++;
		lg_hist_add(&g->ttlb, (rte_rdtsc() - c->t_request) / g->tsc_per_us);
	}
	if (c->status != 200 && c->status != 206)
		g->bad_status++;
	if (c->sampled && !c->head_only) {
		if (c->body_matches && c->status == 200)
			g->sampled_verified++;
		else
			g->sampled_mismatched++;
	}
	if (lg_more_requests(g, index, c)) {
		lg_send_request(g, index); /* carries the ACK */
		c->unacked_segments = 0;
	} else {
		if (index < g->idle && c->state != LG_HELD)
			g->idle_held++;
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

/* A store file, mapped on first use, for the byte-exact check of sampled responses. */
static const struct lg_file *lg_file_get(struct lg *g, uint32_t path)
{
	struct lg_file *f = &g->files[path];
	char name[1024];
	struct stat st;
	void *map;
	int fd;

	if (f->state)
		return f->state > 0 ? f : NULL;
	f->state = -1;
	snprintf(name, sizeof(name), "%s/%s", g->store_root, g->paths[path]);
	fd = open(name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) == 0 && st.st_size > 0) {
		map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
		if (map != MAP_FAILED) {
			f->data = map, f->size = (size_t)st.st_size, f->state = 1;
		}
	}
	close(fd);
	return f->state > 0 ? f : NULL;
}

/* Body bytes of a sampled response against the file (data NULL: bytes never seen). */
static void lg_sample_check(struct lg *g, struct lg_conn *c, const uint8_t *data, uint32_t len)
{
	const struct lg_file *f = lg_file_get(g, c->path);
	uint64_t offset = c->content_length - c->body_left;

	if (!c->body_matches)
		return;
	if (!data || !f || f->size != c->content_length || offset + len > f->size ||
	    memcmp(f->data + offset, data, len))
		c->body_matches = 0;
}

/* Response bytes in order: the head parsed, the body counted (and compared when sampled).
 * data is NULL for the body bytes of records left sealed (--tls, unsampled): only their count
 * is known. */
static void lg_consume_plain(struct lg *g, uint32_t index, const uint8_t *data, uint32_t len)
{
	struct lg_conn *c = &g->conns[index];

	if (index >= g->idle)
		g->bytes += len;
	while (len) {
		uint32_t used;

		if (c->state == LG_HEAD) {
			if (!data) { /* cannot happen: records that may hold a head are opened */
				g->tls_bad_records++;
				lg_reset_connection(g, index);
				return;
			}
			if (!c->got_first_byte) {
				c->got_first_byte = 1;
				if (index >= g->idle)
					lg_hist_add(&g->ttfb, (rte_rdtsc() - c->t_request) / g->tsc_per_us);
			}
			used = lg_consume_head(c, data, len);
			data += used, len -= used;
			if (c->state == LG_BODY) {
				c->body_matches = 1;
				if (!c->body_left)
					lg_response_done(g, index);
			}
		} else if (c->state == LG_BODY) {
			used = len < c->body_left ? len : (uint32_t)c->body_left;
			if (c->sampled && !c->head_only)
				lg_sample_check(g, c, data, used);
			c->body_left -= used;
			if (data)
				data += used;
			len -= used;
			if (!c->body_left)
				lg_response_done(g, index);
		} else {
			break; /* bytes after what was asked: counted, ignored */
		}
	}
}

/* --- TLS (--tls) ----------------------------------------------------------------------------- */

static int lg_tls_index = -1; /* SSL ex_data slot: the connection index */

/* HKDF-Expand-Label(secret, label, "", length) with SHA-256 (RFC 8446 7.1), length <= 32:
 * HKDF-Expand's first block, HMAC(secret, HkdfLabel || 0x01), is all that is needed. */
static int lg_tls_expand_label(const uint8_t secret[32], const char *label, uint8_t *out, size_t length)
{
	uint8_t info[2 + 1 + 6 + 32 + 1 + 1], digest[EVP_MAX_MD_SIZE];
	size_t label_length = strlen(label), n = 0;
	unsigned int digest_length = 0;

	if (length > 32 || label_length > 32)
		return -EINVAL;
	info[n++] = (uint8_t)(length >> 8), info[n++] = (uint8_t)length;
	info[n++] = (uint8_t)(6 + label_length);
	memcpy(info + n, "tls13 ", 6), n += 6;
	memcpy(info + n, label, label_length), n += label_length;
	info[n++] = 0;    /* empty context */
	info[n++] = 0x01; /* HKDF-Expand block counter */
	if (!HMAC(EVP_sha256(), secret, 32, info, n, digest, &digest_length) || digest_length < length)
		return -EIO;
	memcpy(out, digest, length);
	return 0;
}

static int lg_hex_byte(const char *p)
{
	int v = 0;

	for (int i = 0; i < 2; i++) {
		char ch = p[i];

		v <<= 4;
		if (ch >= '0' && ch <= '9')
			v |= ch - '0';
		else if (ch >= 'a' && ch <= 'f')
			v |= ch - 'a' + 10;
		else if (ch >= 'A' && ch <= 'F')
			v |= ch - 'A' + 10;
		else
			return -1;
	}
	return v;
}

/* The key log line "SERVER_TRAFFIC_SECRET_0 <client random> <secret>": the server's
 * application key and IV (RFC 8446 7.3). */
static void lg_tls_keylog(const SSL *ssl, const char *line)
{
	static const char tag[] = "SERVER_TRAFFIC_SECRET_0 ";
	struct lg_tls *t = SSL_get_ex_data(ssl, lg_tls_index);
	const char *hex;
	uint8_t secret[32];

	if (!t || strncmp(line, tag, sizeof(tag) - 1))
		return;
	hex = strchr(line + sizeof(tag) - 1, ' ');
	if (!hex || strlen(hex + 1) != 64)
		return; /* not SHA-256: only TLS_AES_128_GCM_SHA256 is offered */
	for (int i = 0; i < 32; i++) {
		int v = lg_hex_byte(hex + 1 + 2 * i);

		if (v < 0)
			return;
		secret[i] = (uint8_t)v;
	}
	t->have_key = !lg_tls_expand_label(secret, "key", t->key, 16) && !lg_tls_expand_label(secret, "iv", t->iv, 12);
	OPENSSL_cleanse(secret, sizeof(secret));
}

static int lg_tls_setup(struct lg *g)
{
	g->ssl_context = SSL_CTX_new(TLS_client_method());
	g->gcm = EVP_CIPHER_CTX_new();
	lg_tls_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	g->files = calloc(g->path_count, sizeof(*g->files));
	if (!g->ssl_context || !g->gcm || lg_tls_index < 0 || !g->files)
		return -ENOMEM;
	if (!SSL_CTX_set_min_proto_version(g->ssl_context, TLS1_3_VERSION) ||
	    !SSL_CTX_set_max_proto_version(g->ssl_context, TLS1_3_VERSION) ||
	    !SSL_CTX_set_ciphersuites(g->ssl_context, "TLS_AES_128_GCM_SHA256") ||
	    !EVP_DecryptInit_ex(g->gcm, EVP_aes_128_gcm(), NULL, NULL, NULL))
		return -EINVAL;
	SSL_CTX_set_verify(g->ssl_context, SSL_VERIFY_NONE, NULL);
	SSL_CTX_clear_options(g->ssl_context, SSL_OP_ENABLE_MIDDLEBOX_COMPAT);
	SSL_CTX_set_mode(g->ssl_context, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_keylog_callback(g->ssl_context, lg_tls_keylog);
	return 0;
}

static void lg_tls_free(struct lg_tls *t)
{
	if (!t)
		return;
	SSL_free(t->ssl); /* frees both BIOs */
	free(t);
}

static void lg_tls_fail(struct lg *g, uint32_t index)
{
	g->tls_handshake_failures++;
	lg_reset_connection(g, index);
}

/* After the SYN-ACK: a TLS client for this connection, its ClientHello on the wire. */
static void lg_tls_start(struct lg *g, uint32_t index)
{
	struct lg_conn *c = &g->conns[index];
	struct lg_tls *t = c->tls;

	if (!t) {
		t = c->tls = calloc(1, sizeof(*t));
		if (!t) {
			lg_tls_fail(g, index);
			return;
		}
	} else {
		SSL_free(t->ssl);
		memset(t, 0, sizeof(*t));
	}
	t->ssl = SSL_new(g->ssl_context);
	t->network_in = BIO_new(BIO_s_mem());
	t->network_out = BIO_new(BIO_s_mem());
	if (!t->ssl || !t->network_in || !t->network_out) {
		if (!t->ssl) {
			BIO_free(t->network_in);
			BIO_free(t->network_out);
		}
		lg_tls_fail(g, index);
		return;
	}
	SSL_set_bio(t->ssl, t->network_in, t->network_out);
	SSL_set_ex_data(t->ssl, lg_tls_index, t);
	SSL_set_connect_state(t->ssl);
	c->sampled = g->tls_sample && index % g->tls_sample == 0;
	g->sampled_connections += c->sampled;
	c->state = LG_TLS_HANDSHAKE;
	c->retries = 0;
	c->t_request = c->t_progress = rte_rdtsc();
	if (SSL_do_handshake(t->ssl) != -1 || SSL_get_error(t->ssl, -1) != SSL_ERROR_WANT_READ ||
	    lg_tls_send_flight(g, index) <= 0)
		lg_tls_fail(g, index);
}

/* A whole record of the server's application stream, opened in place: AES-128-GCM with
 * nonce = iv XOR sequence, AAD = its header; the inner content type and zero padding
 * stripped (RFC 8446 5.2-5.3). */
static void lg_tls_open_record(struct lg *g, uint32_t index)
{
	struct lg_conn *c = &g->conns[index];
	struct lg_tls *t = c->tls;
	uint32_t sealed = t->record_length - LG_TLS_TAG, n;
	uint8_t nonce[12];
	int out = 0;

	memcpy(nonce, t->iv, 12);
	for (int i = 0; i < 8; i++)
		nonce[4 + i] ^= (uint8_t)(t->sequence >> (56 - 8 * i));
	if (!EVP_DecryptInit_ex(g->gcm, NULL, NULL, t->key, nonce) ||
	    !EVP_DecryptUpdate(g->gcm, NULL, &out, t->header, 5) ||
	    !EVP_DecryptUpdate(g->gcm, t->record, &out, t->record, (int)sealed) ||
	    !EVP_CIPHER_CTX_ctrl(g->gcm, EVP_CTRL_GCM_SET_TAG, LG_TLS_TAG, t->record + sealed) ||
	    EVP_DecryptFinal_ex(g->gcm, t->record + out, &out) <= 0) {
		g->tls_open_failures++;
		lg_reset_connection(g, index);
		return;
	}
	g->tls_records_opened++;
	for (n = sealed; n && !t->record[n - 1]; n--)
		;
	if (!n) {
		g->tls_bad_records++;
		lg_reset_connection(g, index);
		return;
	}
	n--; /* the inner content type */
	if (n != sealed - 1)
		g->tls_records_padded++; /* counting unopened records as length - 17 would be wrong */
	switch (t->record[n]) {
	case 23:
		lg_consume_plain(g, index, t->record, n);
		break;
	case 22: /* NewSessionTicket (a KeyUpdate would change the key: not expected) */
		g->tls_tickets_skipped++;
		if (n >= 1 && t->record[0] == 24) {
			g->tls_bad_records++;
			lg_reset_connection(g, index);
		}
		break;
	default: /* alert */
		g->tls_alerts++;
		lg_reset_connection(g, index);
		break;
	}
}

/* Server bytes after the handshake: records framed by their 5-byte headers and numbered. A
 * record is opened when the connection is sampled or a response head may be in it (the
 * connection is not inside a body when it starts); any other record is counted as
 * length - 17 plaintext bytes (TLS 1.3 without padding, checked on the opened ones). */
static void lg_tls_records(struct lg *g, uint32_t index, const uint8_t *p, uint32_t len)
{
	struct lg_conn *c = &g->conns[index];
	struct lg_tls *t = c->tls;

	while (len && c->state != LG_CLOSED) {
		uint32_t n;

		if (t->header_have < 5) {
			n = 5u - t->header_have < len ? 5u - t->header_have : len;
			memcpy(t->header + t->header_have, p, n);
			t->header_have = (uint8_t)(t->header_have + n);
			p += n, len -= n;
			if (t->header_have < 5)
				break;
			t->record_length = (uint32_t)t->header[3] << 8 | t->header[4];
			t->record_have = 0;
			if (t->header[0] != 23 || t->header[1] != 3 || t->header[2] != 3 ||
			    t->record_length <= LG_TLS_TAG || t->record_length > LG_TLS_RECORD_MAX) {
				g->tls_bad_records++;
				lg_reset_connection(g, index);
				return;
			}
			t->record_open = c->sampled || c->state != LG_BODY;
			continue;
		}
		n = t->record_length - t->record_have < len ? t->record_length - t->record_have : len;
		if (t->record_open)
			memcpy(t->record + t->record_have, p, n);
		t->record_have += n;
		p += n, len -= n;
		if (t->record_have < t->record_length)
			break;
		g->tls_records++;
		if (t->record_open)
			lg_tls_open_record(g, index);
		else
			lg_consume_plain(g, index, NULL, t->record_length - LG_TLS_TAG - 1);
		t->sequence++;
		t->header_have = 0;
	}
}

/* In-order server bytes on a --tls connection: to OpenSSL until the handshake is done, then
 * the record framer. */
static void lg_tls_input(struct lg *g, uint32_t index, const uint8_t *p, uint32_t len)
{
	struct lg_conn *c = &g->conns[index];
	struct lg_tls *t = c->tls;
	uint8_t rest[4096];
	int rc, n;

	if (c->state != LG_TLS_HANDSHAKE) {
		lg_tls_records(g, index, p, len);
		return;
	}
	if (BIO_write(t->network_in, p, (int)len) != (int)len) {
		lg_tls_fail(g, index);
		return;
	}
	rc = SSL_do_handshake(t->ssl);
	if (rc != 1) {
		if (SSL_get_error(t->ssl, rc) != SSL_ERROR_WANT_READ || lg_tls_send_flight(g, index) < 0)
			lg_tls_fail(g, index);
		return;
	}
	if (!t->have_key || SSL_version(t->ssl) != TLS1_3_VERSION) {
		lg_tls_fail(g, index);
		return;
	}
	g->tls_handshakes++;
	/* OpenSSL reads record by record (no read-ahead): what it left in the BIO is the start
	 * of the server's application stream, record number 0. */
	n = BIO_read(t->network_in, rest, sizeof(rest));
	if (BIO_ctrl_pending(t->network_in)) {
		lg_tls_fail(g, index);
		return;
	}
	lg_send_request(g, index); /* our Finished and the first request */
	if (n > 0 && c->state == LG_HEAD)
		lg_tls_records(g, index, rest, (uint32_t)n);
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
		if (c->state == LG_TLS_HANDSHAKE)
			g->tls_handshake_failures++;
		lg_close(g, index);
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
			if (index < g->idle)
				g->idle_established++;
			if (g->tls)
				lg_tls_start(g, index); /* ACK of the SYN-ACK, with the ClientHello */
			else
				lg_send_request(g, index); /* ACK of the SYN-ACK, with the request */
		}
		return;
	}
	if (!lg_conn_live(c))
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
		c->t_progress = rte_rdtsc();
		if (c->tls) {
			g->tls_wire_bytes += payload_len;
			lg_tls_input(g, index, payload, payload_len);
		} else {
			lg_consume_plain(g, index, payload, payload_len);
		}
		if (lg_conn_live(c)) {
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
		lg_close(g, index);
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
		} else if ((c->state == LG_TLS_HANDSHAKE || (c->state == LG_HEAD && !c->got_first_byte)) &&
			   !c->request_acked &&
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
		     "                      [--lcore N] [--file-prefix P] [--no-huge] [--wait-stdin] [--head]\n"
		     "                      [--server-port N] [--tls --store DIR [--tls-sample N]] [--idle N]\n");
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
		{"server-port", required_argument, NULL, 'P'}, {"tls", no_argument, NULL, 't'},
		{"tls-sample", required_argument, NULL, 'T'}, {"store", required_argument, NULL, 'R'},
		{"idle", required_argument, NULL, 'i'},
		{"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
	};
	struct in_addr a;
	int opt;

	g->duration_s = 10;
	g->open_rate = 100000;
	g->file_prefix = "sluice-loadgen";
	g->tls_sample = 16;
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
		case 'P': g->server_port = (uint16_t)strtoul(optarg, NULL, 10); break;
		case 't': g->tls = true; break;
		case 'T': g->tls_sample = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'R': g->store_root = optarg; break;
		case 'i': g->idle = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'h': lg_usage(stdout); exit(0);
		default: return -EINVAL;
		}
	}
	if (!g->socket_path || !g->server_ip || !g->client_ip || !g->connections || !g->paths_file ||
	    g->duration_s <= 0 || !g->open_rate || optind != argc)
		return -EINVAL;
	if (g->idle >= g->connections || (g->idle && (g->hold || g->tls)))
		return -EINVAL; /* --idle: some connections must be active; not with --hold or --tls */
	if (g->tls && g->tls_sample && !g->store_root)
		return -EINVAL; /* sampled responses are compared with the store's files */
	if (!g->server_port)
		g->server_port = g->tls ? 443 : 80;
	if (g->hold && !g->requests_per_conn)
		g->requests_per_conn = 1;
	return 0;
}

/* The --tls part of the summary: bytes above are plaintext (response heads and bodies). */
static void lg_print_tls_json(struct lg *g)
{
	snprintf(g->tls_json, sizeof(g->tls_json),
		 ",\"tls\":{\"handshakes_completed\":%" PRIu64 ",\"handshakes_failed\":%" PRIu64
		 ",\"wire_bytes\":%" PRIu64 ",\"records\":%" PRIu64 ",\"records_opened\":%" PRIu64
		 ",\"records_padded\":%" PRIu64 ",\"open_failures\":%" PRIu64 ",\"bad_records\":%" PRIu64
		 ",\"tickets_skipped\":%" PRIu64 ",\"alerts\":%" PRIu64 ",\"sample_every\":%u"
		 ",\"sampled_connections\":%" PRIu64 ",\"sampled_responses_verified\":%" PRIu64
		 ",\"sampled_responses_mismatched\":%" PRIu64 "}",
		 g->tls_handshakes, g->tls_handshake_failures, g->tls_wire_bytes, g->tls_records, g->tls_records_opened,
		 g->tls_records_padded, g->tls_open_failures, g->tls_bad_records, g->tls_tickets_skipped, g->tls_alerts,
		 g->tls_sample, g->sampled_connections, g->sampled_verified, g->sampled_mismatched);
}

static void lg_print_json(struct lg *g, double seconds)
{
	if (g->tls)
		lg_print_tls_json(g);
	printf("{\"connections\":%u,\"opened\":%u,\"established\":%" PRIu64 ",\"responses\":%" PRIu64
	       ",\"bytes\":%" PRIu64 ",\"seconds\":%.3f,\"gbit_s\":%.3f,\"req_s\":%.1f,"
	       "\"ttfb_us\":{\"p50\":%" PRIu64 ",\"p99\":%" PRIu64 ",\"count\":%" PRIu64 "},"
	       "\"ttlb_us\":{\"p50\":%" PRIu64 ",\"p99\":%" PRIu64 ",\"count\":%" PRIu64 "},"
	       "\"rx_packets\":%" PRIu64 ",\"tx_packets\":%" PRIu64 ",\"tx_dropped\":%" PRIu64
	       ",\"syn_retransmits\":%" PRIu64 ",\"request_retransmits\":%" PRIu64 ",\"dup_acks\":%" PRIu64
	       ",\"resets_received\":%" PRIu64 ",\"stale_connections_reset\":%" PRIu64 ",\"bad_status\":%" PRIu64
	       ",\"idle\":%u,\"idle_established\":%" PRIu64 ",\"idle_held\":%" PRIu64 ",\"idle_phase_s\":%.3f%s}\n",
	       g->connections, g->opened, g->established, g->responses, g->bytes, seconds,
	       (double)g->bytes * 8 / 1e9 / seconds, (double)g->responses / seconds, lg_hist_percentile(&g->ttfb, 50),
	       lg_hist_percentile(&g->ttfb, 99), g->ttfb.total, lg_hist_percentile(&g->ttlb, 50),
	       lg_hist_percentile(&g->ttlb, 99), g->ttlb.total, g->rx_packets, g->tx_packets, g->tx_dropped,
	       g->syn_retransmits, g->request_retransmits, g->dup_acks, g->resets_received, g->stale_resets,
	       g->bad_status, g->idle, g->idle_established, g->idle_held,
	       g->idle ? (double)((g->t_active ? g->t_active : rte_rdtsc()) - g->t_start) / (double)g->tsc_hz : 0.0,
	       g->tls ? g->tls_json : "");
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
	if (g.tls && lg_tls_setup(&g)) {
		fprintf(stderr, "sluice-loadgen: cannot set up the TLS client\n");
		goto cleanup;
	}
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
	g.t_end = g.idle ? UINT64_MAX : g.t_start + (uint64_t)(g.duration_s * (double)g.tsc_hz);
	next_report = g.t_start + g.tsc_hz;
	while (!lg_quit && rte_rdtsc() < g.t_end) {
		uint64_t now = rte_rdtsc();
		uint64_t allowed = (now - g.t_start) / g.tsc_per_us * g.open_rate / 1000000 + 1;
		uint32_t limit = g.connections;

		if (g.idle && !g.t_active) {
			/* --idle: the idle population first; the active connections (and the measured
			 * window) start once it is in place, or 5 s after its last SYN. */
			limit = g.idle;
			if (g.opened >= g.idle && !g.t_idle_opened)
				g.t_idle_opened = now;
			if (g.idle_held >= g.idle || (g.t_idle_opened && now - g.t_idle_opened > 5 * g.tsc_hz)) {
				g.t_active = now;
				g.t_end = now + (uint64_t)(g.duration_s * (double)g.tsc_hz);
				fprintf(stderr, "loadgen: %6.1f s  %" PRIu64 " of %u idle connections established, %" PRIu64
					" held after their HEAD; %u active connections start\n",
					(double)(now - g.t_start) / (double)g.tsc_hz, g.idle_established, g.idle, g.idle_held,
					g.connections - g.idle);
				limit = g.connections;
			}
		}
		while (g.opened < limit && (g.opened < allowed || (g.idle && g.opened >= g.idle)) && g.tx_count < LG_TX_MAX / 2)
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
	lg_print_json(&g, (double)(t_stop - (g.t_active ? g.t_active : g.t_start)) / (double)g.tsc_hz);
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
	for (uint32_t i = 0; g.conns && i < g.opened; i++)
		lg_tls_free(g.conns[i].tls);
	for (uint32_t i = 0; g.files && i < g.path_count; i++)
		if (g.files[i].state > 0)
			munmap((void *)g.files[i].data, g.files[i].size);
	free(g.files);
	EVP_CIPHER_CTX_free(g.gcm);
	SSL_CTX_free(g.ssl_context);
	free(g.conns);
	rte_eal_cleanup();
	return rc;
}
