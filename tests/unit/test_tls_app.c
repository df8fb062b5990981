/* SPDX-License-Identifier: BSD-3-Clause
 *
 * test_tls_app.c: HTTPS end to end without DPDK: the real HTTP server over the TLS transport
 * (dataplane/tls/tls_app.c) on the data plane's TCP, driven through net_harness (virtual
 * clock, captured frames), against OpenSSL clients over memory BIOs that speak TCP through
 * the harness. Each test client keeps its own sequence numbers, delivers the server's
 * segments in order (dropping chosen ones to make TCP retransmit), acknowledges, and reads
 * plaintext with SSL_read.
 *
 * Covered: GET byte-exact over TLS 1.3 and 1.2 (both AEAD engines, RSA and ECDSA, whole and
 * mbuf-sized produce calls); keep-alive; retransmission of lost segments inside a record, of
 * a tag and across records (identical bytes, byte-exact download); a flipped bit (alert
 * bad_record_mac, only that connection ends); client KeyUpdate; close_notify both ways;
 * resumption; a burst of handshakes queued beyond the per-iteration budget; a garbage
 * ClientHello; a client that stops mid-handshake; records in one-byte segments; pipelined
 * requests beyond HTTP's buffer; per-connection memory; the segment store under HTTPS: a
 * download parked on a page-in, bytes evicted after they were queued (first transmissions
 * and a retransmission wait for the page-in: -ENOBUFS, no reset, records sealed once), and a
 * file truncated under a download (the SIGBUS while sealing resets only that connection).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http/http_server.h"
#include "net_harness.h"
#include "store/catalog.h"
#include "store/store_guard.h"
#include "store/store_pagein.h"
#include "store/store_resident.h"
#include "test_main.h"
#include "tls_app.h"
#include "tls_session.h"
#include "tls_test_pki.h"
#include "tls_test_util.h"

#define HTTPS_PORT 443
#define CLIENTS_MAX 8
#define BIG_FILE_SIZE (300 * 1024 + 77)
#define SMALL_FILE_SIZE 1000

static struct test_pki pki;
static char store_dir[64];
static struct store_catalog *catalog;
static uint8_t *big_file, *small_file;
static struct tls_ticket_keyring *keyring;
static struct tls_handshake_server *tls_server;

/* One HTTPS stack per test. */
static struct harness h;
static struct http_server *http;
static struct tls_app *app;
static struct store_pagein *pagein; /* NULL: every file counts as resident */
static bool pagein_hold;            /* page-in requests wait until the test lets them through */

/* ---- fixtures ----------------------------------------------------------------------------- */

static void write_file(const char *path, const uint8_t *bytes, size_t length)
{
	FILE *f = fopen(path, "w");

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(fwrite(bytes, 1, length, f), length);
	fclose(f);
}

/* A store of its own for a test that truncates files: /v/cut.mp4 and /v/keep.mp4, both with
 * big_file's bytes. */
struct private_store {
	char dir[64];
	struct store_catalog *catalog;
};

static const char *const private_store_files[] = {"v/cut.mp4", "v/keep.mp4", "catalog.json", "v", NULL};

static void private_store_path(const struct private_store *ps, unsigned i, char *path, size_t size)
{
	snprintf(path, size, "%s/%s", ps->dir, private_store_files[i]);
}

static void private_store_create(struct private_store *ps)
{
	char path[256], catalog_path[256], err[256] = "";

	snprintf(ps->dir, sizeof(ps->dir), "/tmp/sluice-tls-cut-XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(ps->dir));
	private_store_path(ps, 3, path, sizeof(path));
	mkdir(path, 0755);
	for (unsigned i = 0; i < 2; i++) {
		private_store_path(ps, i, path, sizeof(path));
		write_file(path, big_file, BIG_FILE_SIZE);
	}
	private_store_path(ps, 2, catalog_path, sizeof(catalog_path));
	CU_ASSERT_EQUAL_FATAL(store_catalog_build(ps->dir, catalog_path, 1, err, sizeof(err)), 2);
	ps->catalog = store_catalog_load(ps->dir, catalog_path, err, sizeof(err));
	TEST_CHECK(ps->catalog != NULL, "private catalog: %s", err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ps->catalog);
}

static void private_store_free(struct private_store *ps)
{
	char path[256];

	store_catalog_free(ps->catalog);
	for (unsigned i = 0; private_store_files[i]; i++) {
		private_store_path(ps, i, path, sizeof(path));
		if (unlink(path))
			rmdir(path);
	}
	rmdir(ps->dir);
}

static void setup_once(void)
{
	static const char *const rsa_names[] = {"default.test", NULL};
	struct tls_handshake_certificate certificates[2];
	struct tls_handshake_server_config config = {.certificates = certificates, .certificate_count = 2};
	struct tls_ticket_keys keys = {.count = 1};
	struct test_random random;
	char path[256], err[256] = "";

	if (tls_server)
		return;
	CU_ASSERT_EQUAL_FATAL(test_pki_create(&pki), 0);
	certificates[0] = (struct tls_handshake_certificate){pki.chain_file[TEST_CERTIFICATE_RSA],
							     pki.key_file[TEST_CERTIFICATE_RSA], rsa_names};
	certificates[1] = (struct tls_handshake_certificate){pki.chain_file[TEST_CERTIFICATE_ECDSA],
							     pki.key_file[TEST_CERTIFICATE_ECDSA], NULL};
	CU_ASSERT_EQUAL_FATAL(tls_ticket_key_generate(&keys.keys[0]), 0);
	CU_ASSERT_EQUAL_FATAL(tls_ticket_keyring_create(1, &keys, &keyring), 0);
	config.ticket_keys = keyring;
	TEST_CHECK(tls_handshake_server_create(&config, &tls_server, err, sizeof(err)) == 0, "server: %s", err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tls_server);

	test_random_seed(&random, 0x7157);
	big_file = malloc(BIG_FILE_SIZE);
	small_file = malloc(SMALL_FILE_SIZE);
	test_random_bytes(&random, big_file, BIG_FILE_SIZE);
	test_random_bytes(&random, small_file, SMALL_FILE_SIZE);
	snprintf(store_dir, sizeof(store_dir), "/tmp/sluice-tls-app-XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(store_dir));
	snprintf(path, sizeof(path), "%s/v", store_dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/v/big.mp4", store_dir);
	write_file(path, big_file, BIG_FILE_SIZE);
	snprintf(path, sizeof(path), "%s/v/small.m4s", store_dir);
	write_file(path, small_file, SMALL_FILE_SIZE);
	snprintf(path, sizeof(path), "%s/catalog.json", store_dir);
	CU_ASSERT_EQUAL_FATAL(store_catalog_build(store_dir, path, 1, err, sizeof(err)), 2);
	catalog = store_catalog_load(store_dir, path, err, sizeof(err));
	TEST_CHECK(catalog != NULL, "catalog: %s", err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(catalog);
}

struct stack_options {
	int engine;                   /* index in tls_aead_engines */
	uint32_t max_handshakes;      /* 0: 16 */
	uint32_t per_iteration;       /* 0: 4 */
	uint32_t produce_piece;       /* 0: one stream_produce per segment */
	bool produce_iov;             /* the pieces in one stream_produce_iov */
	bool tso;                     /* TCP sends bursts of up to ~64 KB (TSO or worker.c's segmentation) */
	uint32_t handshake_timeout_us; /* 0: 5 s */
	const struct store_catalog *catalog; /* NULL: the shared one */
	bool pagein;                  /* a page-in queue, served by pump_once unless held */
};

static void stack_start(const struct stack_options *o)
{
	setup_once();
	struct http_server_settings hs = {
		.max_connections = 64,
		.max_request_bytes = 8192,
		.header_timeout_us = 10000000,
		.keepalive_timeout_us = 60000000,
		.server_name = "sluice-test",
	};
	struct tls_app_settings ts = {
		.engine = tls_aead_engines[o->engine],
		.server = tls_server,
		.ticket_keys = keyring,
		.ticket_reader = 0,
		.sessions = 64,
		.receive_buffers = 32,
		.max_handshakes = o->max_handshakes ? o->max_handshakes : 16,
		.handshakes_per_iteration = o->per_iteration ? o->per_iteration : 4,
		.handshake_timeout_us = o->handshake_timeout_us ? o->handshake_timeout_us : 5000000,
	};

	http = http_server_create(&hs, o->catalog ? o->catalog : catalog);
	CU_ASSERT_PTR_NOT_NULL_FATAL(http);
	pagein_hold = false;
	if (o->pagein) {
		pagein = store_pagein_create(1, 64, 0);
		CU_ASSERT_PTR_NOT_NULL_FATAL(pagein);
		http_server_set_pagein(http, store_pagein_queue_of(pagein, 0));
	}
	app = tls_app_create(&ts);
	TEST_CHECK(app != NULL, "tls_app_create: %s", strerror(errno));
	CU_ASSERT_PTR_NOT_NULL_FATAL(app);
	harness_init_app(&h, 64, (uint32_t)tls_app_area_size(), HTTPS_PORT, &tls_app_ops,
			 http_server_listener(http, &tls_transport, app));
	http_server_tick(http, &h.ns);
	h.produce_piece = o->produce_piece;
	h.produce_iov = o->produce_iov;
	if (o->tso)
		h.ns.tx_offloads |= NET_TX_OFFLOAD_TCP_TSO;
}

static void stack_stop(void)
{
	harness_fini(&h); /* releases every connection first */
	store_pagein_destroy(pagein);
	tls_app_destroy(app);
	http_server_destroy(http);
	pagein = NULL;
	app = NULL;
	http = NULL;
}

/* ---- a TLS client on the harness ----------------------------------------------------------- */

struct client_options {
	int min_version, max_version; /* 0: TLS 1.2 .. 1.3 */
	const char *server_name;
	const char *cipher_list;      /* TLS 1.2 suites, NULL: OpenSSL's default */
	SSL_SESSION *session;
};

struct client {
	bool used;
	uint16_t port;
	uint32_t iss;                 /* server's */
	uint32_t snd_nxt, rcv_nxt;
	SSL_CTX *context;
	SSL *ssl;
	BIO *in, *out;                /* the client reads from in, writes to out */
	bool fin, rst;
	bool raw;                     /* no TLS any more: sends and reads nothing by itself */
	uint8_t *plain;               /* plaintext read */
	size_t plain_length, plain_capacity;
	int read_error;               /* SSL_get_error of the last failed SSL_read, 0 */
	unsigned long read_reason;    /* ERR reason of an SSL_ERROR_SSL */
	bool peer_closed;             /* close_notify read */
	/* Loss: the first server segment covering stream offset drop_at is not delivered. */
	int64_t drop_at;
	uint8_t dropped[HARNESS_FRAME_MAX];
	uint32_t dropped_seq, dropped_length;
	bool dropped_seen, retransmit_checked, retransmit_identical;
};

static struct client clients[CLIENTS_MAX];

static struct client *client_new(uint16_t port, const struct client_options *o)
{
	struct client *cl = NULL;

	for (int i = 0; i < CLIENTS_MAX && !cl; i++)
		if (!clients[i].used)
			cl = &clients[i];
	CU_ASSERT_PTR_NOT_NULL_FATAL(cl);
	memset(cl, 0, sizeof(*cl));
	cl->used = true;
	cl->port = port;
	cl->drop_at = -1;
	cl->context = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_min_proto_version(cl->context, o && o->min_version ? o->min_version : TLS1_2_VERSION);
	SSL_CTX_set_max_proto_version(cl->context, o && o->max_version ? o->max_version : TLS1_3_VERSION);
	SSL_CTX_load_verify_locations(cl->context, pki.ca_file, NULL);
	SSL_CTX_set_verify(cl->context, SSL_VERIFY_PEER, NULL);
	cl->ssl = SSL_new(cl->context);
	cl->in = BIO_new(BIO_s_mem());
	cl->out = BIO_new(BIO_s_mem());
	BIO_set_mem_eof_return(cl->in, -1);
	SSL_set_bio(cl->ssl, cl->in, cl->out);
	SSL_set_connect_state(cl->ssl);
	SSL_set_tlsext_host_name(cl->ssl, (char *)(uintptr_t)(o && o->server_name ? o->server_name : "default.test"));
	SSL_set1_host(cl->ssl, o && o->server_name ? o->server_name : "default.test");
	if (o && o->session)
		SSL_set_session(cl->ssl, o->session);
	if (o && o->cipher_list)
		SSL_set_cipher_list(cl->ssl, o->cipher_list);
	cl->plain_capacity = 2 * BIG_FILE_SIZE + 65536;
	cl->plain = malloc(cl->plain_capacity);
	/* TCP: window 512 << 7 = 64 KiB. */
	cl->iss = harness_handshake(&h, port, 7000000u + port, 512);
	cl->snd_nxt = 7000000u + port + 1;
	cl->rcv_nxt = cl->iss + 1;
	SSL_do_handshake(cl->ssl);
	return cl;
}

static void client_free(struct client *cl)
{
	SSL_free(cl->ssl);
	SSL_CTX_free(cl->context);
	free(cl->plain);
	cl->used = false;
	ERR_clear_error();
}

static void clients_free(void)
{
	for (int i = 0; i < CLIENTS_MAX; i++)
		if (clients[i].used)
			client_free(&clients[i]);
}

/* Sends raw bytes on the client's TCP connection (in segments of at most `segment`). */
static void client_send_raw(struct client *cl, const uint8_t *bytes, size_t length, size_t segment)
{
	for (size_t at = 0; at < length;) {
		uint32_t n = (uint32_t)SLUICE_TEST_MIN(length - at, segment);

		harness_send_tcp(&h, cl->port, HTTPS_PORT, TCP_FLAG_ACK | TCP_FLAG_PSH, cl->snd_nxt, cl->rcv_nxt, 512, NULL,
				 bytes + at, n);
		cl->snd_nxt += n;
		at += n;
	}
}

/* The client's FIN. */
static void client_send_fin(struct client *cl)
{
	harness_send_tcp(&h, cl->port, HTTPS_PORT, TCP_FLAG_ACK | TCP_FLAG_FIN, cl->snd_nxt, cl->rcv_nxt, 512, NULL, NULL, 0);
	cl->snd_nxt++;
}

/* What OpenSSL wrote, onto TCP. */
static void client_flush(struct client *cl)
{
	uint8_t buffer[65536];
	int n;

	if (cl->raw)
		return;
	while ((n = BIO_read(cl->out, buffer, sizeof(buffer))) > 0)
		client_send_raw(cl, buffer, (size_t)n, 1460);
}

static void client_read(struct client *cl)
{
	if (cl->raw)
		return;
	if (!SSL_is_init_finished(cl->ssl)) {
		if (SSL_do_handshake(cl->ssl) != 1)
			return;
	}
	for (;;) {
		int n = SSL_read(cl->ssl, cl->plain + cl->plain_length, (int)(cl->plain_capacity - cl->plain_length));

		if (n > 0) {
			cl->plain_length += (size_t)n;
			continue;
		}
		switch (SSL_get_error(cl->ssl, n)) {
		case SSL_ERROR_WANT_READ:
			return;
		case SSL_ERROR_ZERO_RETURN:
			cl->peer_closed = true;
			return;
		case SSL_ERROR_SSL:
			cl->read_error = SSL_ERROR_SSL;
			cl->read_reason = ERR_GET_REASON(ERR_peek_last_error());
			ERR_clear_error();
			return;
		default:
			cl->read_error = SSL_get_error(cl->ssl, n);
			return;
		}
	}
}

/* The server's frames to their clients: in order only; the chosen loss; then one ACK each. */
static bool deliver(void)
{
	bool any = false, acked[CLIENTS_MAX] = {false};

	for (uint32_t i = 0; i < h.tx_count; i++) {
		struct harness_segment seg;
		struct client *cl = NULL;

		if (!harness_tx_tcp(&h, i, &seg))
			continue;
		for (int k = 0; k < CLIENTS_MAX; k++)
			if (clients[k].used && clients[k].port == seg.dst_port)
				cl = &clients[k];
		if (!cl)
			continue;
		any = true;
		CU_ASSERT(seg.checksum_ok);
		if (seg.flags & TCP_FLAG_RST) {
			cl->rst = true;
			continue;
		}
		if (seg.payload_len) {
			uint64_t offset = seg.seq - (cl->iss + 1);

			if (cl->dropped_seen && !cl->retransmit_checked && seg.seq == cl->dropped_seq) {
				uint32_t n = SLUICE_TEST_MIN(seg.payload_len, cl->dropped_length);

				cl->retransmit_checked = true;
				cl->retransmit_identical = n > 0 && memcmp(seg.payload, cl->dropped, n) == 0;
			}
			if (cl->drop_at >= 0 && !cl->dropped_seen && (uint64_t)cl->drop_at >= offset &&
			    (uint64_t)cl->drop_at < offset + seg.payload_len) {
				cl->dropped_seen = true;
				cl->dropped_seq = seg.seq;
				cl->dropped_length = seg.payload_len;
				memcpy(cl->dropped, seg.payload, seg.payload_len);
				continue; /* lost */
			}
			if (seg.seq == cl->rcv_nxt) {
				BIO_write(cl->in, seg.payload, (int)seg.payload_len);
				cl->rcv_nxt += seg.payload_len;
			}
		}
		if ((seg.flags & TCP_FLAG_FIN) && seg.seq + seg.payload_len == cl->rcv_nxt) {
			cl->rcv_nxt++;
			cl->fin = true;
		}
		acked[cl - clients] = true;
	}
	harness_clear_tx(&h);
	for (int k = 0; k < CLIENTS_MAX; k++)
		if (acked[k] && clients[k].used && !clients[k].rst)
			harness_send_tcp(&h, clients[k].port, HTTPS_PORT, TCP_FLAG_ACK, clients[k].snd_nxt, clients[k].rcv_nxt,
					 512, NULL, NULL, 0);
	return any;
}

/* One exchange: client bytes out, the lcore's loop (queued handshakes, output), server bytes in. */
static void pump_once(void)
{
	for (int k = 0; k < CLIENTS_MAX; k++)
		if (clients[k].used && !clients[k].rst)
			client_flush(&clients[k]);
	tls_app_poll(app, &h.ns);
	if (pagein && !pagein_hold)
		store_pagein_service(pagein, 1000);
	http_server_poll(http, &h.ns); /* page-in completions */
	harness_run_output(&h);
	if (!deliver())
		harness_advance(&h, 20000); /* quiet: let timers (RTO) run */
	for (int k = 0; k < CLIENTS_MAX; k++)
		if (clients[k].used && !clients[k].rst)
			client_read(&clients[k]);
}

static void pump(int rounds)
{
	for (int i = 0; i < rounds; i++)
		pump_once();
}

typedef bool (*client_predicate)(const struct client *cl);

static bool pump_until(struct client *cl, client_predicate done, int rounds)
{
	for (int i = 0; i < rounds; i++) {
		if (done(cl))
			return true;
		pump_once();
	}
	return done(cl);
}

static bool handshake_done(const struct client *cl)
{
	return SSL_is_init_finished(cl->ssl) || cl->rst || cl->fin;
}

/* Length of the first complete HTTP response in the client's plaintext, 0 if incomplete. */
static size_t response_length(const struct client *cl, size_t from)
{
	const char *text = (const char *)cl->plain + from;
	size_t available = cl->plain_length - from;
	const char *end = memmem(text, available, "\r\n\r\n", 4);
	const char *field;
	size_t head, body = 0;

	if (!end)
		return 0;
	head = (size_t)(end - text) + 4;
	field = memmem(text, head, "Content-Length: ", 16);
	if (field)
		body = strtoul(field + 16, NULL, 10);
	return head + body <= available ? head + body : 0;
}

static bool one_response(const struct client *cl)
{
	return response_length(cl, 0) > 0 || cl->rst || cl->fin || cl->read_error;
}

static void client_write(struct client *cl, const char *text)
{
	CU_ASSERT_EQUAL(SSL_write(cl->ssl, text, (int)strlen(text)), (int)strlen(text));
}

/* Checks the first response in the client's plaintext: 200 and the file's bytes; consumes it. */
static bool response_is_file(struct client *cl, const uint8_t *file, size_t size)
{
	size_t length = response_length(cl, 0);
	const uint8_t *body;
	bool ok;

	if (!length || length < size)
		return false;
	body = cl->plain + length - size;
	ok = memcmp(cl->plain, "HTTP/1.1 200 OK\r\n", 17) == 0 && memcmp(body, file, size) == 0;
	memmove(cl->plain, cl->plain + length, cl->plain_length - length);
	cl->plain_length -= length;
	return ok;
}

static struct tcp_conn *server_conn(const struct client *cl)
{
	return harness_conn(&h, cl->port);
}

/* ---- tests -------------------------------------------------------------------------------- */

static void test_get_byte_exact(void)
{
	static const struct {
		const char *description;
		int version;
		int engine;
		const char *server_name;
		uint32_t produce_piece;
		bool iov, tso;
		const char *tls12_cipher;
	} cases[] = {
		{"TLS 1.3, ipsec-mb, RSA", TLS1_3_VERSION, 0, "default.test", 0, false, false, NULL},
		{"TLS 1.3, openssl, ECDSA", TLS1_3_VERSION, 1, "ecdsa.test", 0, false, false, NULL},
		{"TLS 1.3, ipsec-mb, produce per 1000-byte piece", TLS1_3_VERSION, 0, "default.test", 1000, false, false, NULL},
		{"TLS 1.3, bursts of 64 KB in 1448-byte buffers, one scatter call each", TLS1_3_VERSION, 0, "default.test",
		 1448, true, true, NULL},
		{"TLS 1.3, openssl, bursts in 2 KiB mbufs, one call per mbuf", TLS1_3_VERSION, 1, "default.test", 2048, false,
		 true, NULL},
		{"TLS 1.2, ipsec-mb, ECDSA", TLS1_2_VERSION, 0, "ecdsa.test", 0, false, false, NULL},
		{"TLS 1.2, openssl, RSA, AES-256", TLS1_2_VERSION, 1, "default.test", 0, false, false,
		 "ECDHE-RSA-AES256-GCM-SHA384"},
		{"TLS 1.2, ipsec-mb, produce per 333-byte piece", TLS1_2_VERSION, 0, "default.test", 333, false, false, NULL},
		{"TLS 1.2, bursts in 777-byte pieces, one scatter call", TLS1_2_VERSION, 0, "default.test", 777, true, true,
		 NULL},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct stack_options so = {.engine = cases[i].engine, .produce_piece = cases[i].produce_piece,
					   .produce_iov = cases[i].iov, .tso = cases[i].tso};
		struct client_options co = {.min_version = cases[i].version, .max_version = cases[i].version,
					    .server_name = cases[i].server_name, .cipher_list = cases[i].tls12_cipher};
		struct client *cl;
		uint64_t sealed, produced, spilled;

		stack_start(&so);
		cl = client_new(41000, &co);
		TEST_CHECK(pump_until(cl, handshake_done, 50) && SSL_is_init_finished(cl->ssl), "%s: handshake",
			   cases[i].description);
		TEST_CHECK(SSL_version(cl->ssl) == cases[i].version, "%s: version", cases[i].description);
		if (cases[i].tls12_cipher)
			TEST_CHECK(!strcmp(SSL_get_cipher_name(cl->ssl), cases[i].tls12_cipher), "%s: suite %s",
				   cases[i].description, SSL_get_cipher_name(cl->ssl));
		client_write(cl, "GET /v/big.mp4 HTTP/1.1\r\nHost: default.test\r\n\r\n");
		TEST_CHECK(pump_until(cl, one_response, 2000), "%s: a response", cases[i].description);
		TEST_CHECK(response_is_file(cl, big_file, BIG_FILE_SIZE), "%s: the file, byte-exact", cases[i].description);
		/* Keep-alive: a second request on the connection. */
		client_write(cl, "GET /v/small.m4s HTTP/1.1\r\nHost: default.test\r\n\r\n");
		TEST_CHECK(pump_until(cl, one_response, 200) && response_is_file(cl, small_file, SMALL_FILE_SIZE),
			   "%s: keep-alive second response", cases[i].description);
		sealed = COUNTER_GET(&h.ns.counters, tls_records_sealed);
		produced = COUNTER_GET(&h.ns.counters, tls_produce_bytes);
		spilled = COUNTER_GET(&h.ns.counters, tls_spill_bytes);
		TEST_CHECK(COUNTER_GET(&h.ns.counters, tls_handshakes_completed) == 1 &&
				   COUNTER_GET(&h.ns.counters, tls_records_resealed) == 0 && sealed >= 20,
			   "%s: one handshake, %llu records each sealed once (%llu resealed)", cases[i].description,
			   (unsigned long long)sealed,
			   (unsigned long long)COUNTER_GET(&h.ns.counters, tls_records_resealed));
		TEST_CHECK(produced >= BIG_FILE_SIZE + SMALL_FILE_SIZE && spilled < produced, "%s: %llu bytes produced",
			   cases[i].description, (unsigned long long)produced);
		clients_free();
		stack_stop();
	}
}

static void test_retransmission_identical(void)
{
	static const struct {
		const char *description;
		int version;
		int64_t drop_at;  /* stream offset after the handshake's output */
		uint32_t produce_piece;
		bool iov, tso;
	} cases[] = {
		{"TLS 1.3: inside a small record", TLS1_3_VERSION, 3000, 0, false, false},
		{"TLS 1.3: inside a 16 KiB record", TLS1_3_VERSION, 60000, 0, false, false},
		{"TLS 1.3: the segment with a tag", TLS1_3_VERSION, -1, 0, false, false},
		{"TLS 1.3: far into the file, 700-byte pieces", TLS1_3_VERSION, 200000, 700, false, false},
		{"TLS 1.3: a burst, scatter produce", TLS1_3_VERSION, 100000, 1448, true, true},
		{"TLS 1.2: inside a 16 KiB record", TLS1_2_VERSION, 90000, 0, false, false},
		{"TLS 1.2: the segment with a tag", TLS1_2_VERSION, -1, 0, false, false},
		{"TLS 1.2: a burst, scatter produce", TLS1_2_VERSION, 150000, 1448, true, true},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct stack_options so = {.produce_piece = cases[i].produce_piece, .produce_iov = cases[i].iov,
					   .tso = cases[i].tso};
		struct client_options co = {.min_version = cases[i].version, .max_version = cases[i].version};
		struct client *cl;
		struct tcp_conn *c;
		uint64_t handshake_bytes;

		stack_start(&so);
		cl = client_new(41100, &co);
		TEST_CHECK(pump_until(cl, handshake_done, 50) && SSL_is_init_finished(cl->ssl), "%s: handshake",
			   cases[i].description);
		pump(3); /* TLS 1.3: the tickets */
		c = server_conn(cl);
		CU_ASSERT_PTR_NOT_NULL_FATAL(c);
		handshake_bytes = c->stream_end;
		if (cases[i].drop_at >= 0) {
			cl->drop_at = (int64_t)handshake_bytes + cases[i].drop_at;
		} else {
			/* The last byte of the 12th record: 10 small (MSS) records, then full ones. */
			size_t overhead = cases[i].version == TLS1_3_VERSION ? 22 : 29;

			cl->drop_at = (int64_t)(handshake_bytes + 10 * (size_t)c->mss + 2 * (16384 + overhead) - 1);
		}
		client_write(cl, "GET /v/big.mp4 HTTP/1.1\r\nHost: default.test\r\n\r\n");
		TEST_CHECK(pump_until(cl, one_response, 5000), "%s: a response", cases[i].description);
		TEST_CHECK(cl->dropped_seen && cl->retransmit_checked && cl->retransmit_identical,
			   "%s: the retransmitted segment equals the lost one (seen %d, checked %d)", cases[i].description,
			   cl->dropped_seen, cl->retransmit_checked);
		TEST_CHECK(COUNTER_GET(&h.ns.counters, tcp_retransmit_segments) >= 1, "%s: TCP retransmitted",
			   cases[i].description);
		TEST_CHECK(response_is_file(cl, big_file, BIG_FILE_SIZE), "%s: byte-exact after the loss",
			   cases[i].description);
		/* A lost tag is re-produced by sealing its whole record again (nothing is kept). */
		if (cases[i].drop_at < 0)
			TEST_CHECK(COUNTER_GET(&h.ns.counters, tls_records_resealed) >= 1, "%s: the record was sealed again",
				   cases[i].description);
		clients_free();
		stack_stop();
	}
}

static void test_flipped_bit_ends_one_connection(void)
{
	struct stack_options so = {0};
	struct client *victim, *other;
	uint8_t record[512];
	int n;

	stack_start(&so);
	victim = client_new(41200, NULL);
	other = client_new(41201, NULL);
	TEST_CHECK(pump_until(victim, handshake_done, 50) && pump_until(other, handshake_done, 50),
		   "both handshakes done");
	pump(3);
	client_write(other, "GET /v/big.mp4 HTTP/1.1\r\nHost: default.test\r\n\r\n");
	/* The victim's request record with one bit flipped in its body. */
	client_write(victim, "GET /v/small.m4s HTTP/1.1\r\nHost: default.test\r\n\r\n");
	n = BIO_read(victim->out, record, sizeof(record));
	CU_ASSERT_FATAL(n > 30);
	record[n / 2] ^= 0x10;
	client_send_raw(victim, record, (size_t)n, 1460);
	pump_until(other, one_response, 2000);
	pump(10);
	TEST_CHECK(victim->read_error == SSL_ERROR_SSL && victim->read_reason == SSL_R_SSLV3_ALERT_BAD_RECORD_MAC,
		   "the victim reads a bad_record_mac alert (error %d, reason %lu)", victim->read_error,
		   victim->read_reason);
	TEST_CHECK(victim->fin || victim->rst, "the victim's connection ends");
	TEST_CHECK(COUNTER_GET(&h.ns.counters, tls_bad_record_mac) == 1, "counted");
	TEST_CHECK(response_is_file(other, big_file, BIG_FILE_SIZE), "the other download is byte-exact");
	TEST_CHECK(!other->fin && !other->rst && server_conn(other) != NULL, "the other connection goes on");
	client_write(other, "GET /v/small.m4s HTTP/1.1\r\nHost: default.test\r\n\r\n");
	TEST_CHECK(pump_until(other, one_response, 200) && response_is_file(other, small_file, SMALL_FILE_SIZE),
		   "and serves its next request");
	clients_free();
	stack_stop();
}

static void test_client_key_update(void)
{
	for (int requested = 0; requested < 2; requested++) {
		struct stack_options so = {0};
		struct client_options co = {.min_version = TLS1_3_VERSION};
		struct client *cl;

		stack_start(&so);
		cl = client_new(41300, &co);
		TEST_CHECK(pump_until(cl, handshake_done, 50), "handshake");
		pump(3);
		CU_ASSERT_EQUAL(SSL_key_update(cl->ssl, requested ? SSL_KEY_UPDATE_REQUESTED : SSL_KEY_UPDATE_NOT_REQUESTED),
				1);
		client_write(cl, "GET /v/big.mp4 HTTP/1.1\r\nHost: default.test\r\n\r\n");
		TEST_CHECK(pump_until(cl, one_response, 2000) && response_is_file(cl, big_file, BIG_FILE_SIZE),
			   "KeyUpdate (requested %d): the response under the new keys is byte-exact", requested);
		TEST_CHECK(COUNTER_GET(&h.ns.counters, tls_key_updates_received) == 1, "counted");
		/* Once more, after the update (and ours, if it was requested). */
		CU_ASSERT_EQUAL(SSL_key_update(cl->ssl, SSL_KEY_UPDATE_REQUESTED), 1);
		client_write(cl, "GET /v/small.m4s HTTP/1.1\r\nHost: default.test\r\n\r\n");
		TEST_CHECK(pump_until(cl, one_response, 200) && response_is_file(cl, small_file, SMALL_FILE_SIZE),
			   "KeyUpdate (requested %d): and again", requested);
		TEST_CHECK(cl->read_error == 0 && !cl->fin, "no error");
		clients_free();
		stack_stop();
	}
}

static bool closed_both_ways(const struct client *cl)
{
	return (cl->peer_closed && cl->fin) || cl->rst || cl->read_error;
}

static void test_close_notify(void)
{
	for (int version = 0; version < 2; version++) {
		struct stack_options so = {0};
		int v = version ? TLS1_2_VERSION : TLS1_3_VERSION;
		struct client_options co = {.min_version = v, .max_version = v};
		struct client *cl;
		struct client *second;

		stack_start(&so);
		/* The client closes: the server answers with its close_notify, then FIN. */
		cl = client_new(41400, &co);
		TEST_CHECK(pump_until(cl, handshake_done, 50), "handshake");
		pump(3);
		CU_ASSERT_EQUAL(SSL_shutdown(cl->ssl), 0);
		TEST_CHECK(pump_until(cl, closed_both_ways, 100) && cl->peer_closed && cl->fin && !cl->rst,
			   "TLS %d: close_notify answered, then FIN", version ? 12 : 13);
		TEST_CHECK(SSL_shutdown(cl->ssl) == 1, "TLS %d: the client's shutdown completes", version ? 12 : 13);
		TEST_CHECK(COUNTER_GET(&h.ns.counters, tls_close_notify_received) == 1 &&
				   COUNTER_GET(&h.ns.counters, tls_close_notify_sent) == 1,
			   "counted");
		client_send_fin(cl);
		/* The server closes after "Connection: close": response, close_notify, FIN. */
		second = client_new(41401, &co);
		TEST_CHECK(pump_until(second, handshake_done, 50), "handshake");
		client_write(second, "GET /v/small.m4s HTTP/1.1\r\nHost: default.test\r\nConnection: close\r\n\r\n");
		TEST_CHECK(pump_until(second, closed_both_ways, 200) && second->peer_closed && second->fin,
			   "TLS %d: the server's close_notify after the response", version ? 12 : 13);
		TEST_CHECK(response_is_file(second, small_file, SMALL_FILE_SIZE), "and the response is whole");
		SSL_shutdown(second->ssl); /* the client's close_notify reaches a server that closed */
		client_flush(second);
		client_send_fin(second);
		pump(5);
		harness_advance(&h, 3000000); /* TIME_WAIT (2 s) ends */
		TEST_CHECK(!server_conn(cl) && !server_conn(second) &&
				   COUNTER_GET(&h.ns.counters, tls_sessions_active) == 0,
			   "TLS %d: both connections closed and their sessions back in the pool", version ? 12 : 13);
		clients_free();
		stack_stop();
	}
}

static void test_resumption(void)
{
	for (int version = 0; version < 2; version++) {
		int v = version ? TLS1_2_VERSION : TLS1_3_VERSION;
		struct stack_options so = {0};
		struct client_options co = {.min_version = v, .max_version = v};
		struct client *first, *second;
		SSL_SESSION *session;

		stack_start(&so);
		first = client_new(41500, &co);
		TEST_CHECK(pump_until(first, handshake_done, 50), "handshake");
		client_write(first, "GET /v/small.m4s HTTP/1.1\r\nHost: default.test\r\n\r\n");
		TEST_CHECK(pump_until(first, one_response, 200) && response_is_file(first, small_file, SMALL_FILE_SIZE),
			   "first connection");
		session = SSL_get1_session(first->ssl);
		TEST_CHECK(session && SSL_SESSION_is_resumable(session), "TLS %d: a ticket", version ? 12 : 13);
		co.session = session;
		second = client_new(41501, &co);
		TEST_CHECK(pump_until(second, handshake_done, 50), "handshake");
		client_write(second, "GET /v/small.m4s HTTP/1.1\r\nHost: default.test\r\n\r\n");
		TEST_CHECK(pump_until(second, one_response, 200) && response_is_file(second, small_file, SMALL_FILE_SIZE),
			   "resumed connection serves");
		TEST_CHECK(SSL_session_reused(second->ssl) == 1, "TLS %d: resumed", version ? 12 : 13);
		TEST_CHECK(COUNTER_GET(&h.ns.counters, tls_handshakes_resumed) == 1, "counted");
		SSL_SESSION_free(session);
		clients_free();
		stack_stop();
	}
}

static void test_handshake_queue(void)
{
	struct stack_options so = {.max_handshakes = 2, .per_iteration = 1};
	struct client *cl[6];
	bool all = true;

	stack_start(&so);
	/* Six ClientHellos arrive within one loop iteration. */
	for (int i = 0; i < 6; i++)
		cl[i] = client_new((uint16_t)(41600 + i), NULL);
	for (int i = 0; i < 6; i++)
		client_flush(cl[i]);
	TEST_CHECK(COUNTER_GET(&h.ns.counters, tls_handshakes_started) == 1, "one started at once (%llu)",
		   (unsigned long long)COUNTER_GET(&h.ns.counters, tls_handshakes_started));
	TEST_CHECK(COUNTER_GET(&h.ns.counters, tls_handshake_queue_depth) == 5, "five queued (%llu)",
		   (unsigned long long)COUNTER_GET(&h.ns.counters, tls_handshake_queue_depth));
	tls_app_poll(app, &h.ns);
	TEST_CHECK(COUNTER_GET(&h.ns.counters, tls_handshakes_started) == 1, "the budget was spent this iteration");
	tls_app_poll(app, &h.ns);
	TEST_CHECK(COUNTER_GET(&h.ns.counters, tls_handshakes_started) == 2 &&
			   COUNTER_GET(&h.ns.counters, tls_handshakes_active) == 2,
		   "one more in the next iteration, two in progress");
	tls_app_poll(app, &h.ns);
	TEST_CHECK(COUNTER_GET(&h.ns.counters, tls_handshakes_started) == 2, "no third while two are in progress");
	for (int i = 0; i < 6; i++)
		all = pump_until(cl[i], handshake_done, 100) && SSL_is_init_finished(cl[i]->ssl) && all;
	TEST_CHECK(all, "all six finish");
	pump(3); /* the last Finished reaches the server */
	TEST_CHECK(COUNTER_GET(&h.ns.counters, tls_handshakes_completed) == 6 &&
			   COUNTER_GET(&h.ns.counters, tls_handshakes_queued) == 5 &&
			   COUNTER_GET(&h.ns.counters, tls_handshake_queue_depth) == 0 &&
			   COUNTER_GET(&h.ns.counters, tls_handshake_queue_wait_le_1s) == 5,
		   "counted: 6 completed (%llu), 5 queued (%llu), queue empty (%llu), waits (%llu)",
		   (unsigned long long)COUNTER_GET(&h.ns.counters, tls_handshakes_completed),
		   (unsigned long long)COUNTER_GET(&h.ns.counters, tls_handshakes_queued),
		   (unsigned long long)COUNTER_GET(&h.ns.counters, tls_handshake_queue_depth),
		   (unsigned long long)COUNTER_GET(&h.ns.counters, tls_handshake_queue_wait_le_1s));
	for (int i = 0; i < 6; i++) {
		client_write(cl[i], "GET /v/small.m4s HTTP/1.1\r\nHost: default.test\r\n\r\n");
		all = pump_until(cl[i], one_response, 200) && response_is_file(cl[i], small_file, SMALL_FILE_SIZE) && all;
	}
	TEST_CHECK(all, "all six serve");
	clients_free();
	stack_stop();
}

static void test_bad_clients_end_alone(void)
{
	static const uint8_t garbage[] = "GET / HTTP/1.1\r\nHost: not-tls\r\n\r\n";
	static const uint8_t bad_hello[] = {22, 3, 1, 0, 8, 1, 0, 0, 4, 3, 3, 0xde, 0xad};
	struct stack_options so = {.handshake_timeout_us = 2000000};
	struct client *good, *plain, *malformed, *silent, *truncated;
	uint8_t hello[4096];
	int n;

	stack_start(&so);
	good = client_new(41700, NULL);
	plain = client_new(41701, NULL);
	malformed = client_new(41702, NULL);
	silent = client_new(41703, NULL);
	truncated = client_new(41704, NULL);
	/* Not TLS at all; a ClientHello that is not one; a client that sends half a ClientHello
	 * and stops; one that stops after its ClientHello. */
	(void)BIO_reset(plain->out);
	(void)BIO_reset(malformed->out);
	plain->raw = malformed->raw = true;
	client_send_raw(plain, garbage, sizeof(garbage) - 1, 1460);
	client_send_raw(malformed, bad_hello, sizeof(bad_hello), 1460);
	n = BIO_read(truncated->out, hello, sizeof(hello));
	CU_ASSERT_FATAL(n > 100);
	truncated->raw = true;
	client_send_raw(truncated, hello, (size_t)n / 2, 1460);
	client_flush(silent);
	silent->raw = true;
	TEST_CHECK(pump_until(good, handshake_done, 50) && SSL_is_init_finished(good->ssl), "the good client's handshake");
	client_write(good, "GET /v/big.mp4 HTTP/1.1\r\nHost: default.test\r\n\r\n");
	TEST_CHECK(pump_until(good, one_response, 2000) && response_is_file(good, big_file, BIG_FILE_SIZE),
		   "the good client's download is byte-exact");
	TEST_CHECK(plain->fin || plain->rst, "plain HTTP on the TLS port: closed");
	TEST_CHECK(malformed->fin || malformed->rst, "a malformed ClientHello: closed");
	/* The handshake timeout (2 s) ends the two that stopped. */
	for (int i = 0; i < 150 && (server_conn(silent) || server_conn(truncated)); i++)
		harness_advance(&h, 20000), deliver();
	TEST_CHECK(!server_conn(silent) && !server_conn(truncated), "the stalled handshakes are reset at the timeout");
	TEST_CHECK(COUNTER_GET(&h.ns.counters, tls_handshakes_timed_out) == 2, "two timed out (%llu)",
		   (unsigned long long)COUNTER_GET(&h.ns.counters, tls_handshakes_timed_out));
	TEST_CHECK(server_conn(good) != NULL && !good->fin && !good->rst, "the good connection is untouched");
	TEST_CHECK(COUNTER_GET(&h.ns.counters, tls_handshakes_active) == 0 &&
			   COUNTER_GET(&h.ns.counters, tls_handshakes_started) ==
				   COUNTER_GET(&h.ns.counters, tls_handshakes_completed) +
					   COUNTER_GET(&h.ns.counters, tls_handshakes_failed),
		   "started = completed + failed (%llu, %llu, %llu)",
		   (unsigned long long)COUNTER_GET(&h.ns.counters, tls_handshakes_started),
		   (unsigned long long)COUNTER_GET(&h.ns.counters, tls_handshakes_completed),
		   (unsigned long long)COUNTER_GET(&h.ns.counters, tls_handshakes_failed));
	clients_free();
	stack_stop();
}

static void test_records_in_small_segments(void)
{
	struct stack_options so = {0};
	struct client *cl;
	uint8_t record[512];
	int n;

	stack_start(&so);
	cl = client_new(41800, NULL);
	TEST_CHECK(pump_until(cl, handshake_done, 50), "handshake");
	pump(3);
	client_write(cl, "GET /v/small.m4s HTTP/1.1\r\nHost: default.test\r\n\r\n");
	n = BIO_read(cl->out, record, sizeof(record));
	CU_ASSERT_FATAL(n > 30);
	client_send_raw(cl, record, (size_t)n, 1); /* one byte per segment */
	TEST_CHECK(pump_until(cl, one_response, 200) && response_is_file(cl, small_file, SMALL_FILE_SIZE),
		   "a request record in %d one-byte segments", n);
	clients_free();
	stack_stop();
}

static void test_pipelined_beyond_http_buffer(void)
{
	struct stack_options so = {0};
	static const char request[] = "GET /v/small.m4s HTTP/1.1\r\nHost: default.test\r\n\r\n";
	enum { REQUESTS = 250 };
	char *text = malloc(REQUESTS * sizeof(request));
	struct client *cl;
	size_t length = 0, answered = 0;

	for (int i = 0; i < REQUESTS; i++) {
		memcpy(text + length, request, sizeof(request) - 1);
		length += sizeof(request) - 1;
	}
	text[length] = 0;
	stack_start(&so);
	cl = client_new(41900, NULL);
	TEST_CHECK(pump_until(cl, handshake_done, 50), "handshake");
	/* 12 KB of requests in one record: more than HTTP's 8 KiB request buffer. */
	client_write(cl, text);
	for (int round = 0; round < 3000 && answered < REQUESTS && !cl->fin && !cl->rst; round++) {
		pump_once();
		while (response_length(cl, 0) && response_is_file(cl, small_file, SMALL_FILE_SIZE))
			answered++;
	}
	TEST_CHECK(answered == REQUESTS, "%zu of %d pipelined responses", answered, REQUESTS);
	TEST_CHECK(!cl->fin && !cl->rst, "the connection goes on");
	free(text);
	clients_free();
	stack_stop();
}

static void test_memory_per_connection(void)
{
	struct stack_options so = {0};

	stack_start(&so);
	TEST_CHECK(tls_app_area_size() - http_session_size() <= 40, "TLS state in the slot: %zu bytes",
		   tls_app_area_size() - http_session_size());
	/* A TLS connection's slot: TCP, HTTP and TLS state rounded to cache lines, at most 576
	 * bytes (README, HTTPS); the session below is held only once the handshake is done. */
	TEST_CHECK(tcp_conn_slot_bytes(h.ns.tcp) ==
			   ((sizeof(struct tcp_conn) + tls_app_area_size() + SLUICE_CACHE_LINE - 1) & ~(size_t)(SLUICE_CACHE_LINE - 1)) &&
		   tcp_conn_slot_bytes(h.ns.tcp) <= 576,
		   "a connection slot is %u bytes (TCP %zu + HTTP %zu + TLS %zu)", tcp_conn_slot_bytes(h.ns.tcp),
		   sizeof(struct tcp_conn), http_session_size(), tls_app_area_size() - http_session_size());
	TEST_CHECK(sizeof(struct tls_session) == 1344, "a session is %zu bytes", sizeof(struct tls_session));
	stack_stop();
}

/* ---- the segment store under HTTPS ----------------------------------------------------------- */

static bool some_plaintext(const struct client *cl)
{
	return cl->plain_length > 0 || cl->rst || cl->fin || cl->read_error;
}

static struct store_file *shared_file(const char *path)
{
	const struct store_file *f = store_catalog_lookup(catalog, path, strlen(path));

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	return (struct store_file *)(uintptr_t)f; /* its residency bits are the test's to set */
}

static void test_pagein_over_https(void)
{
	static const struct {
		const char *description;
		int version;
		int engine;
		bool parked;      /* not resident when requested: the stream waits for the page-in */
		bool evicted;     /* evicted after the first flight: produce says -ENOBUFS until paged in */
		int64_t drop_at;  /* a lost segment, stream offset after the handshake's output; -1: none */
		uint32_t produce_piece;
		bool iov, tso;
	} cases[] = {
		{"TLS 1.3, ipsec-mb: parked on a page-in", TLS1_3_VERSION, 0, true, false, -1, 0, false, false},
		{"TLS 1.2, openssl: parked on a page-in", TLS1_2_VERSION, 1, true, false, -1, 0, false, false},
		{"TLS 1.3, ipsec-mb: evicted mid-download", TLS1_3_VERSION, 0, false, true, -1, 0, false, false},
		{"TLS 1.3, openssl: evicted mid-download, bursts in 1448-byte buffers", TLS1_3_VERSION, 1, false, true, -1,
		 1448, true, true},
		{"TLS 1.2, ipsec-mb: evicted mid-download, 1000-byte pieces", TLS1_2_VERSION, 0, false, true, -1, 1000, false,
		 false},
		{"TLS 1.3, ipsec-mb: evicted, a lost segment retransmitted after the page-in", TLS1_3_VERSION, 0, false, true,
		 3000, 0, false, false},
		{"TLS 1.2, openssl: evicted, a lost segment in a burst", TLS1_2_VERSION, 1, false, true, 5000, 1448, true,
		 true},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct stack_options so = {.engine = cases[i].engine, .produce_piece = cases[i].produce_piece,
					   .produce_iov = cases[i].iov, .tso = cases[i].tso, .pagein = true};
		struct client_options co = {.min_version = cases[i].version, .max_version = cases[i].version};
		struct store_file *big;
		struct client *cl;

		stack_start(&so);
		big = shared_file("/v/big.mp4");
		store_resident_mark(big, 0, big->size, !cases[i].parked);
		cl = client_new(42000, &co);
		TEST_CHECK(pump_until(cl, handshake_done, 50) && SSL_is_init_finished(cl->ssl), "%s: handshake",
			   cases[i].description);
		pump(3);
		if (cases[i].drop_at >= 0)
			cl->drop_at = (int64_t)server_conn(cl)->stream_end + cases[i].drop_at;
		pagein_hold = true;
		client_write(cl, "GET /v/big.mp4 HTTP/1.1\r\nHost: default.test\r\n\r\n");
		if (cases[i].evicted) {
			TEST_CHECK(pump_until(cl, some_plaintext, 50) && cl->plain_length > 0 &&
					   cl->plain_length < BIG_FILE_SIZE / 2,
				   "%s: the first flight arrived (%zu bytes)", cases[i].description, cl->plain_length);
			store_resident_mark(big, 0, big->size, false); /* the kernel evicted the file */
		}
		pump(20);
		TEST_CHECK(!cl->rst && !cl->fin && !response_length(cl, 0), "%s: the download waits for the page-in",
			   cases[i].description);
		TEST_CHECK(COUNTER_GET(&h.ns.counters, store_pagein_requests) >= 1, "%s: a page-in was requested",
			   cases[i].description);
		if (cases[i].parked)
			TEST_CHECK(COUNTER_GET(&h.ns.counters, store_parked_total) >= 1, "%s: parked", cases[i].description);
		if (cases[i].evicted)
			TEST_CHECK(COUNTER_GET(&h.ns.counters, store_not_resident_retries) >= 1,
				   "%s: produce said \"not yet\" (%llu)", cases[i].description,
				   (unsigned long long)COUNTER_GET(&h.ns.counters, store_not_resident_retries));
		pagein_hold = false;
		TEST_CHECK(pump_until(cl, one_response, 5000) && response_is_file(cl, big_file, BIG_FILE_SIZE),
			   "%s: byte-exact after the page-in", cases[i].description);
		TEST_CHECK(!cl->rst && !cl->fin && cl->read_error == 0, "%s: no reset, every record decrypts (error %d)",
			   cases[i].description, cl->read_error);
		TEST_CHECK(COUNTER_GET(&h.ns.counters, tcp_payload_source_failed) == 0, "%s: no source failure",
			   cases[i].description);
		if (cases[i].drop_at >= 0)
			TEST_CHECK(cl->dropped_seen && cl->retransmit_checked && cl->retransmit_identical,
				   "%s: the retransmitted segment equals the lost one (seen %d, checked %d)",
				   cases[i].description, cl->dropped_seen, cl->retransmit_checked);
		else
			/* A failed produce left no trace: the record tail sealed ahead was kept. */
			TEST_CHECK(COUNTER_GET(&h.ns.counters, tls_records_resealed) == 0, "%s: %llu records sealed twice",
				   cases[i].description,
				   (unsigned long long)COUNTER_GET(&h.ns.counters, tls_records_resealed));
		client_write(cl, "GET /v/small.m4s HTTP/1.1\r\nHost: default.test\r\n\r\n");
		TEST_CHECK(pump_until(cl, one_response, 200) && response_is_file(cl, small_file, SMALL_FILE_SIZE),
			   "%s: and the next request", cases[i].description);
		store_resident_mark(big, 0, big->size, true);
		clients_free();
		stack_stop();
	}
}

static void test_truncated_over_https(void)
{
	static const struct {
		const char *description;
		int version;
		int engine;
		uint32_t produce_piece;
		bool iov, tso;
	} cases[] = {
		{"TLS 1.3, ipsec-mb", TLS1_3_VERSION, 0, 0, false, false},
		{"TLS 1.3, openssl, bursts in 1448-byte buffers", TLS1_3_VERSION, 1, 1448, true, true},
		{"TLS 1.2, ipsec-mb, bursts in 2 KiB mbufs", TLS1_2_VERSION, 0, 2048, false, true},
	};

	CU_ASSERT_FATAL(store_guard_install() == 0);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct private_store ps;
		struct stack_options so = {.engine = cases[i].engine, .produce_piece = cases[i].produce_piece,
					   .produce_iov = cases[i].iov, .tso = cases[i].tso};
		struct client_options co = {.min_version = cases[i].version, .max_version = cases[i].version};
		struct client *victim, *other;
		uint64_t faults = store_guard_faults();
		char path[256];

		private_store_create(&ps);
		so.catalog = ps.catalog;
		stack_start(&so);
		victim = client_new(42100, &co);
		other = client_new(42101, &co);
		TEST_CHECK(pump_until(victim, handshake_done, 50) && pump_until(other, handshake_done, 50),
			   "%s: both handshakes", cases[i].description);
		pump(3);
		client_write(victim, "GET /v/cut.mp4 HTTP/1.1\r\nHost: default.test\r\n\r\n");
		client_write(other, "GET /v/keep.mp4 HTTP/1.1\r\nHost: default.test\r\n\r\n");
		TEST_CHECK(pump_until(victim, some_plaintext, 50) && victim->plain_length < 60000,
			   "%s: the download is under way (%zu bytes)", cases[i].description, victim->plain_length);
		/* Cut to 96 KiB under the mapping; the residency bits (none: no page-in queue) do not
		 * know: sealing the bytes beyond raises SIGBUS inside the AEAD engine. */
		private_store_path(&ps, 0, path, sizeof(path));
		CU_ASSERT_FATAL(truncate(path, 96 << 10) == 0);
		TEST_CHECK(pump_until(other, one_response, 3000) && response_is_file(other, big_file, BIG_FILE_SIZE),
			   "%s: the other download is byte-exact", cases[i].description);
		TEST_CHECK(victim->rst, "%s: the truncated download is reset", cases[i].description);
		TEST_CHECK(!other->rst && !other->fin && other->read_error == 0 && server_conn(other) != NULL,
			   "%s: the other connection goes on", cases[i].description);
		TEST_CHECK(COUNTER_GET(&h.ns.counters, store_sigbus_caught) == 1 &&
				   COUNTER_GET(&h.ns.counters, store_file_broken_resets) == 1 &&
				   COUNTER_GET(&h.ns.counters, tcp_payload_source_failed) == 1 &&
				   store_guard_faults() == faults + 1,
			   "%s: counted: SIGBUS %llu, broken-file resets %llu, source failures %llu", cases[i].description,
			   (unsigned long long)COUNTER_GET(&h.ns.counters, store_sigbus_caught),
			   (unsigned long long)COUNTER_GET(&h.ns.counters, store_file_broken_resets),
			   (unsigned long long)COUNTER_GET(&h.ns.counters, tcp_payload_source_failed));
		TEST_CHECK(store_file_broken(store_catalog_lookup(ps.catalog, "/v/cut.mp4", 10)) &&
				   !store_file_broken(store_catalog_lookup(ps.catalog, "/v/keep.mp4", 11)),
			   "%s: the cut file is marked broken, the other not", cases[i].description);
		client_write(other, "GET /v/cut.mp4 HTTP/1.1\r\nHost: default.test\r\n\r\n");
		TEST_CHECK(pump_until(other, one_response, 200) && !memcmp(other->plain, "HTTP/1.1 503", 12),
			   "%s: the cut file is refused from now on", cases[i].description);
		other->plain_length = 0;
		client_write(other, "GET /v/keep.mp4 HTTP/1.1\r\nHost: default.test\r\n\r\n");
		TEST_CHECK(pump_until(other, one_response, 3000) && response_is_file(other, big_file, BIG_FILE_SIZE),
			   "%s: and the other file serves on", cases[i].description);
		clients_free();
		stack_stop();
		private_store_free(&ps);
	}
}

static void cleanup_once(void)
{
	char path[256];

	if (!tls_server)
		return;
	tls_handshake_server_free(tls_server);
	tls_ticket_keyring_free(keyring);
	store_catalog_free(catalog);
	snprintf(path, sizeof(path), "%s/v/big.mp4", store_dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/v/small.m4s", store_dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/catalog.json", store_dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/v", store_dir);
	rmdir(path);
	rmdir(store_dir);
	test_pki_remove(&pki);
	free(big_file);
	free(small_file);
	tls_server = NULL;
}

void test_register(void)
{
	static const struct test_case cases[] = {
		{"GET byte-exact over TLS 1.3 and 1.2, engines, certificates", test_get_byte_exact},
		{"a lost segment is retransmitted with identical bytes", test_retransmission_identical},
		{"a flipped bit: alert, only that connection ends", test_flipped_bit_ends_one_connection},
		{"client KeyUpdate", test_client_key_update},
		{"close_notify both ways", test_close_notify},
		{"resumption with a ticket", test_resumption},
		{"handshakes beyond the budget wait in a queue", test_handshake_queue},
		{"bad and stalled clients end alone", test_bad_clients_end_alone},
		{"a record in one-byte segments", test_records_in_small_segments},
		{"pipelined requests beyond HTTP's buffer", test_pipelined_beyond_http_buffer},
		{"memory per connection", test_memory_per_connection},
		{"HTTPS waits for page-ins: parked, evicted, retransmitted", test_pagein_over_https},
		{"a file truncated under an HTTPS download resets only that connection", test_truncated_over_https},
		{"cleanup", cleanup_once},
		{NULL, NULL},
	};
	test_add_suite("tls_app", cases);
}
