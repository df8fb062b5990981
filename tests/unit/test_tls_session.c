/* SPDX-License-Identifier: BSD-3-Clause
 *
 * test_tls_session.c: the handshake (dataplane/tls/tls_handshake.c) and the connection after
 * the handoff (tls_session.c) against a real OpenSSL client over memory BIOs: every version,
 * cipher, certificate type and AEAD engine; records of 1, 1400, 16384 and odd sizes across
 * many sequence numbers; retransmitted ranges; client data, KeyUpdate both ways, close_notify
 * both ways, tampering, resumption across ticket-key rotations, SNI, ALPN, max fragment
 * length, renegotiation, refused clients and garbage, and configuration errors.
 */
#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdlib.h>
#include <string.h>

#include "test_main.h"
#include "tls_handshake.h"
#include "tls_session.h"
#include "tls_test_pki.h"
#include "tls_test_util.h"

enum { SOURCE_SIZE = 1 << 20, INBOX_SIZE = 1 << 18 };

static struct test_pki pki;
static struct tls_aead_worker *workers[2];
static struct tls_ticket_keyring *keyring;
static struct tls_handshake_server *server;
static uint8_t *source_bytes;
static struct test_random random_state;

/* ---- set-up ----------------------------------------------------------------------------- */

static struct tls_ticket_keys ticket_keys(unsigned count, uint8_t first)
{
	struct tls_ticket_keys keys = {.count = count};

	for (unsigned i = 0; i < count; i++) {
		memset(&keys.keys[i], first + i, sizeof(keys.keys[i]));
		keys.keys[i].name[0] = (uint8_t)(first + i);
	}
	return keys;
}

static int server_make(struct tls_handshake_server **out, struct tls_ticket_keyring *ring, char *error, size_t size)
{
	static const char *const rsa_names[] = {"default.test", "www.default.test", NULL};
	struct tls_handshake_certificate certificates[TEST_CERTIFICATE_COUNT] = {
		{pki.chain_file[TEST_CERTIFICATE_RSA], pki.key_file[TEST_CERTIFICATE_RSA], rsa_names},
		{pki.chain_file[TEST_CERTIFICATE_ECDSA], pki.key_file[TEST_CERTIFICATE_ECDSA], NULL}, /* names from SAN */
		{pki.chain_file[TEST_CERTIFICATE_WILD], pki.key_file[TEST_CERTIFICATE_WILD], NULL},
	};
	struct tls_handshake_server_config config = {
		.certificates = certificates,
		.certificate_count = TEST_CERTIFICATE_COUNT,
		.ticket_keys = ring,
	};

	return tls_handshake_server_create(&config, out, error, size);
}

static void setup(void)
{
	char error[256] = "";
	struct tls_ticket_keys keys = ticket_keys(1, 0x10);

	if (server)
		return;
	test_random_seed(&random_state, 0x5e5);
	CU_ASSERT_EQUAL_FATAL(test_pki_create(&pki), 0);
	for (int e = 0; e < 2; e++)
		CU_ASSERT_EQUAL_FATAL(tls_aead_worker_create(tls_aead_engines[e], &workers[e]), 0);
	CU_ASSERT_EQUAL_FATAL(tls_ticket_keyring_create(1, &keys, &keyring), 0);
	TEST_CHECK(server_make(&server, keyring, error, sizeof(error)) == 0, "server: %s", error);
	CU_ASSERT_PTR_NOT_NULL_FATAL(server);
	source_bytes = malloc(SOURCE_SIZE);
	test_random_bytes(&random_state, source_bytes, SOURCE_SIZE);
}

static ssize_t source_map(void *context, uint64_t offset, size_t length, const uint8_t **piece)
{
	size_t at = (size_t)(offset % SOURCE_SIZE);

	(void)context;
	*piece = source_bytes + at;
	return (ssize_t)SLUICE_TEST_MIN(length, SOURCE_SIZE - at);
}

static const struct tls_record_source source = {.map = source_map, .context = NULL};

/* ---- the OpenSSL client ----------------------------------------------------------------- */

struct client_options {
	int min_version, max_version; /* 0: TLS 1.2 .. TLS 1.3 */
	const char *ciphersuites;     /* TLS 1.3 */
	const char *cipher_list;      /* TLS 1.2 */
	const char *server_name;
	const char *alpn;             /* wire format, NULL: none */
	SSL_SESSION *session;         /* resume */
	bool verify;                  /* against the test CA, for server_name */
	uint8_t max_fragment;         /* TLSEXT_max_fragment_length_*, 0: none */
	bool legacy;                  /* security level 0 (TLS 1.1) */
	const char *groups;           /* key exchange groups, NULL: OpenSSL's default */
};

struct connection {
	SSL_CTX *client_context;
	SSL *client;
	BIO *client_in, *client_out; /* client's read and write BIOs (owned by client) */
	struct tls_handshake *handshake;
	struct tls_handshake_output output;
	struct tls_handshake_handoff handoff;
	struct tls_session session;
	int engine;
	uint64_t server_sent;   /* wire bytes given to the client */
	uint64_t client_read;   /* plaintext bytes the client has read and checked */
	uint8_t *inbox;         /* client bytes not yet consumed by the session */
	size_t inbox_length;
	bool in_place;
};

static int connection_open(struct connection *c, const struct client_options *o, int engine)
{
	memset(c, 0, sizeof(*c));
	c->engine = engine;
	c->inbox = malloc(INBOX_SIZE);
	c->client_context = SSL_CTX_new(TLS_client_method());
	if (!c->inbox || !c->client_context)
		return -1;
	if (o->legacy) {
		SSL_CTX_set_security_level(c->client_context, 0);
		SSL_CTX_set_cipher_list(c->client_context, "DEFAULT@SECLEVEL=0");
	}
	SSL_CTX_set_min_proto_version(c->client_context, o->min_version ? o->min_version : TLS1_2_VERSION);
	SSL_CTX_set_max_proto_version(c->client_context, o->max_version ? o->max_version : TLS1_3_VERSION);
	if (o->ciphersuites)
		SSL_CTX_set_ciphersuites(c->client_context, o->ciphersuites);
	if (o->groups)
		SSL_CTX_set1_groups_list(c->client_context, o->groups);
	if (o->cipher_list)
		SSL_CTX_set_cipher_list(c->client_context, o->cipher_list);
	if (o->verify) {
		SSL_CTX_load_verify_locations(c->client_context, pki.ca_file, NULL);
		SSL_CTX_set_verify(c->client_context, SSL_VERIFY_PEER, NULL);
	}
	c->client = SSL_new(c->client_context);
	c->client_in = BIO_new(BIO_s_mem());
	c->client_out = BIO_new(BIO_s_mem());
	if (!c->client || !c->client_in || !c->client_out)
		return -1;
	BIO_set_mem_eof_return(c->client_in, -1);
	SSL_set_bio(c->client, c->client_in, c->client_out);
	SSL_set_connect_state(c->client);
	if (o->server_name)
		SSL_set_tlsext_host_name(c->client, o->server_name);
	if (o->verify && o->server_name)
		SSL_set1_host(c->client, o->server_name);
	if (o->alpn)
		SSL_set_alpn_protos(c->client, (const unsigned char *)o->alpn, (unsigned)strlen(o->alpn));
	if (o->session)
		SSL_set_session(c->client, o->session);
	if (o->max_fragment)
		SSL_set_tlsext_max_fragment_length(c->client, o->max_fragment);
	return tls_handshake_create(server, &c->handshake);
}

static void connection_close(struct connection *c)
{
	tls_handshake_free(c->handshake);
	SSL_free(c->client);
	SSL_CTX_free(c->client_context);
	free(c->inbox);
	tls_session_wipe(&c->session);
	ERR_clear_error();
}

/* Takes what the client wrote. */
static size_t client_output(struct connection *c, uint8_t *buffer, size_t capacity)
{
	int n = BIO_read(c->client_out, buffer, (int)capacity);

	return n > 0 ? (size_t)n : 0;
}

/*
 * Runs the handshake to its end. early_data: written by the client as soon as its side of the
 * handshake is done (TLS 1.3: it travels with the client's Finished). Returns the final state.
 */
static enum tls_handshake_state connection_handshake(struct connection *c, const char *early_data)
{
	static uint8_t buffer[65536];
	bool early_written = false;

	for (int round = 0; round < 16; round++) {
		size_t n;

		if (!SSL_is_init_finished(c->client))
			SSL_do_handshake(c->client);
		if (early_data && !early_written && SSL_is_init_finished(c->client)) {
			SSL_write(c->client, early_data, (int)strlen(early_data));
			early_written = true;
		}
		n = client_output(c, buffer, sizeof(buffer));
		if (!n && round > 0)
			break;
		CU_ASSERT_EQUAL_FATAL(tls_handshake_feed(c->handshake, buffer, n, &c->output), 0);
		BIO_write(c->client_in, c->output.bytes, (int)c->output.length);
		c->server_sent += c->output.length;
		if (c->output.state != TLS_HANDSHAKE_CONTINUE)
			break;
	}
	if (c->output.state == TLS_HANDSHAKE_DONE && !SSL_is_init_finished(c->client))
		SSL_do_handshake(c->client); /* TLS 1.2: the server's Finished came last */
	tls_ticket_keyring_quiescent(keyring, 0); /* this thread's loop iteration ends */
	return c->output.state;
}

/* Handoff + session; the handshake object is freed once its leftover bytes are consumed. */
static void connection_handoff(struct connection *c, const struct tls_stream_layout *layout)
{
	CU_ASSERT_EQUAL_FATAL(c->output.state, TLS_HANDSHAKE_DONE);
	CU_ASSERT_EQUAL_FATAL(tls_handshake_handoff(c->handshake, &c->handoff), 0);
	CU_ASSERT_EQUAL_FATAL(tls_session_init(&c->session, workers[c->engine], &c->handoff, c->server_sent, layout), 0);
	CU_ASSERT_FATAL(c->handoff.leftover_length <= INBOX_SIZE);
	memcpy(c->inbox, c->handoff.leftover, c->handoff.leftover_length);
	c->inbox_length = c->handoff.leftover_length;
	tls_handshake_free(c->handshake);
	c->handshake = NULL;
}

/* Produces everything not yet sent into random scatter pieces and hands it to the client. */
static void server_flush(struct connection *c)
{
	uint64_t end = tls_session_wire_end(&c->session);

	while (c->server_sent < end) {
		static uint8_t buffer[65536 + 4096];
		uint64_t length = SLUICE_TEST_MIN(end - c->server_sent, (uint64_t)65536);
		struct iovec out[48];
		unsigned count = 0;
		size_t left = (size_t)length;
		uint8_t *at = buffer;

		while (left && count < 47) {
			size_t piece = 1 + test_random_below(&random_state, SLUICE_TEST_MIN(left, (size_t)1448 * 2));

			out[count++] = (struct iovec){at, piece};
			at += piece;
			left -= piece;
		}
		out[count++] = (struct iovec){at, left};
		CU_ASSERT_EQUAL_FATAL(tls_session_produce(&c->session, workers[c->engine], c->server_sent, (size_t)length,
							  &source, out, count), 0);
		BIO_write(c->client_in, buffer, (int)length);
		c->server_sent += length;
	}
	tls_session_acked(&c->session, c->server_sent);
}

/* The client reads `length` plaintext bytes; they must be the source's. Returns bytes read. */
static uint64_t client_read_check(struct connection *c, uint64_t length, const char *what)
{
	static uint8_t buffer[16384];
	uint64_t done = 0;

	while (done < length) {
		int n = SSL_read(c->client, buffer, (int)SLUICE_TEST_MIN(length - done, (uint64_t)sizeof(buffer)));
		bool same = true;

		if (n <= 0) {
			TEST_CHECK(n > 0, "%s: client read failed after %llu of %llu bytes (error %d, %s)", what,
				   (unsigned long long)done, (unsigned long long)length, SSL_get_error(c->client, n),
				   ERR_reason_error_string(ERR_peek_error()));
			return done;
		}
		for (int i = 0; same && i < n; i++)
			same = buffer[i] == source_bytes[(c->client_read + (uint64_t)i) % SOURCE_SIZE];
		TEST_CHECK(same, "%s: plaintext differs at %llu", what, (unsigned long long)c->client_read);
		if (!same)
			return done;
		c->client_read += (uint64_t)n;
		done += (uint64_t)n;
	}
	return done;
}

/* Moves what the client wrote into the inbox. */
static void client_to_inbox(struct connection *c)
{
	c->inbox_length += client_output(c, c->inbox + c->inbox_length, INBOX_SIZE - c->inbox_length);
}

/*
 * Lets the session consume the inbox, one record per call, presented in 1-3 random segments;
 * stops at NEED_MORE or after the first non-DATA event, which it returns. DATA is appended to
 * `data` (at most capacity bytes).
 */
static enum tls_session_event server_receive(struct connection *c, uint8_t *data, size_t capacity, size_t *data_length,
					     struct tls_session_receive_result *last)
{
	static uint8_t plaintext[TLS_RECORD_PLAINTEXT_MAX + 256];

	*data_length = 0;
	for (;;) {
		struct iovec in[3];
		unsigned count = 0;
		size_t left = c->inbox_length, at = 0;
		int rc;

		while (left && count < 2) {
			size_t piece = test_random_below(&random_state, left + 1);

			in[count++] = (struct iovec){c->inbox + at, piece};
			at += piece;
			left -= piece;
		}
		in[count++] = (struct iovec){c->inbox + at, left};
		rc = tls_session_receive(&c->session, workers[c->engine], in, count, c->in_place ? NULL : plaintext,
					 sizeof(plaintext), last);
		CU_ASSERT_EQUAL_FATAL(rc, 0);
		if (last->event == TLS_SESSION_DATA) {
			const uint8_t *content = c->in_place ? c->inbox + last->plaintext_offset : plaintext;

			CU_ASSERT_FATAL(*data_length + last->plaintext_length <= capacity);
			memcpy(data + *data_length, content, last->plaintext_length);
			*data_length += last->plaintext_length;
		}
		if (last->consumed) {
			memmove(c->inbox, c->inbox + last->consumed, c->inbox_length - last->consumed);
			c->inbox_length -= last->consumed;
		}
		if (last->event != TLS_SESSION_DATA)
			return last->event;
	}
}

/* The client sends `length` bytes of a pattern; the session must deliver them. */
static void client_send_check(struct connection *c, size_t length, const char *what)
{
	static uint8_t message[70000], received[70000];
	struct tls_session_receive_result last;
	size_t received_length = 0, total = 0;

	for (size_t i = 0; i < length; i++)
		message[i] = (uint8_t)(i * 13 + length);
	CU_ASSERT_EQUAL_FATAL(SSL_write(c->client, message, (int)length), (int)length);
	client_to_inbox(c);
	while (c->inbox_length) {
		enum tls_session_event event = server_receive(c, received + total, sizeof(received) - total,
							      &received_length, &last);

		total += received_length;
		if (event == TLS_SESSION_NEED_MORE)
			break;
		TEST_CHECK(event == TLS_SESSION_NEED_MORE, "%s: unexpected event %d", what, event);
		return;
	}
	TEST_CHECK(total == length && memcmp(received, message, length) == 0, "%s: server received %zu of %zu bytes",
		   what, total, length);
}

/* ---- the matrix: versions x ciphers x certificates x engines ------------------------------ */

struct matrix_case {
	const char *description;
	int version;
	const char *ciphersuite, *cipher_list;
	const char *server_name;
	uint8_t certificate_index;
	enum tls_aead_cipher cipher;
};

static const struct matrix_case matrix_cases[] = {
	{"1.3 AES-128 RSA", TLS1_3_VERSION, "TLS_AES_128_GCM_SHA256", NULL, "default.test", 0, TLS_AEAD_AES_128_GCM},
	{"1.3 AES-256 RSA", TLS1_3_VERSION, "TLS_AES_256_GCM_SHA384", NULL, "default.test", 0, TLS_AEAD_AES_256_GCM},
	{"1.3 AES-128 ECDSA", TLS1_3_VERSION, "TLS_AES_128_GCM_SHA256", NULL, "ecdsa.test", 1, TLS_AEAD_AES_128_GCM},
	{"1.3 AES-256 ECDSA", TLS1_3_VERSION, "TLS_AES_256_GCM_SHA384", NULL, "ecdsa.test", 1, TLS_AEAD_AES_256_GCM},
	{"1.2 AES-128 RSA", TLS1_2_VERSION, NULL, "ECDHE-RSA-AES128-GCM-SHA256", "default.test", 0, TLS_AEAD_AES_128_GCM},
	{"1.2 AES-256 RSA", TLS1_2_VERSION, NULL, "ECDHE-RSA-AES256-GCM-SHA384", "default.test", 0, TLS_AEAD_AES_256_GCM},
	{"1.2 AES-128 ECDSA", TLS1_2_VERSION, NULL, "ECDHE-ECDSA-AES128-GCM-SHA256", "ecdsa.test", 1,
	 TLS_AEAD_AES_128_GCM},
	{"1.2 AES-256 ECDSA", TLS1_2_VERSION, NULL, "ECDHE-ECDSA-AES256-GCM-SHA384", "ecdsa.test", 1,
	 TLS_AEAD_AES_256_GCM},
	{NULL, 0, NULL, NULL, NULL, 0, 0},
};

static void test_matrix(void)
{
	static const uint64_t fixed_sizes[] = {1, 1400, 16384, 777, 16383, 1, 5000, 13, 16384, 1399, 2, 16000};

	setup();
	for (const struct matrix_case *m = matrix_cases; m->description; m++)
		for (int e = 0; e < 2; e++) {
			struct client_options options = {
				.min_version = m->version,
				.max_version = m->version,
				.ciphersuites = m->ciphersuite,
				.cipher_list = m->cipher_list,
				.server_name = m->server_name,
				.alpn = "\x02h2\x08http/1.1",
				.verify = true,
			};
			/* Records exactly as appended (no small-record ramp), to control their sizes. */
			struct tls_stream_layout layout = {0, 0, 0};
			struct connection c;
			char what[128];
			uint64_t total = 0;

			snprintf(what, sizeof(what), "%s on %s", m->description, tls_aead_engines[e]->name);
			CU_ASSERT_EQUAL_FATAL(connection_open(&c, &options, e), 0);
			TEST_CHECK(connection_handshake(&c, NULL) == TLS_HANDSHAKE_DONE, "%s: handshake state %d alert %u", what,
				   c.output.state, c.output.alert);
			if (c.output.state != TLS_HANDSHAKE_DONE) {
				connection_close(&c);
				continue;
			}
			TEST_CHECK(SSL_get_verify_result(c.client) == X509_V_OK, "%s: client verification failed", what);
			connection_handoff(&c, &layout);
			TEST_CHECK(c.handoff.version == (m->version == TLS1_3_VERSION ? TLS_VERSION_1_3 : TLS_VERSION_1_2) &&
					   c.handoff.cipher == m->cipher && c.handoff.certificate_index == m->certificate_index &&
					   c.handoff.alpn_http11 && !c.handoff.resumed &&
					   strcmp(c.handoff.server_name, m->server_name) == 0,
				   "%s: handoff version %x cipher %u certificate %u alpn %d", what, c.handoff.version,
				   c.handoff.cipher, c.handoff.certificate_index, c.handoff.alpn_http11);
			/* OpenSSL sends 2 NewSessionTickets by default: the first server record is number 2. */
			TEST_CHECK(c.handoff.write_sequence == (m->version == TLS1_3_VERSION ? 2u : 1u) &&
					   c.handoff.read_sequence == (m->version == TLS1_3_VERSION ? 0u : 1u),
				   "%s: first records %llu / %llu", what, (unsigned long long)c.handoff.write_sequence,
				   (unsigned long long)c.handoff.read_sequence);

			/* Fixed sizes, each its own record, then 150 random sizes: sequence numbers > 160. */
			for (size_t i = 0; i < sizeof(fixed_sizes) / sizeof(fixed_sizes[0]) + 150; i++) {
				uint64_t size = i < sizeof(fixed_sizes) / sizeof(fixed_sizes[0])
							? fixed_sizes[i]
							: 1 + test_random_below(&random_state, 16384);

				CU_ASSERT_EQUAL_FATAL(tls_session_append(&c.session, size), 0);
				server_flush(&c); /* produced at once: the next append starts a new record */
				total += size;
				if (i % 16 == 15)
					client_read_check(&c, c.session.stream.head_plaintext - c.client_read, what);
			}
			/* And a large response laid out in full records. */
			CU_ASSERT_EQUAL_FATAL(tls_session_append(&c.session, 300000), 0);
			server_flush(&c);
			total += 300000;
			client_read_check(&c, total - c.client_read, what);

			/* Client to server: small, middle, a full record, and more than one record. */
			c.in_place = e == 1;
			client_send_check(&c, 10, what);
			client_send_check(&c, 5000, what);
			client_send_check(&c, 16384, what);
			client_send_check(&c, 40000, what);

			/* Our close_notify: the client sees a clean end of stream. */
			CU_ASSERT_EQUAL(tls_session_close(&c.session), 0);
			server_flush(&c);
			{
				uint8_t byte;
				int n = SSL_read(c.client, &byte, 1);

				TEST_CHECK(n == 0 && SSL_get_error(c.client, n) == SSL_ERROR_ZERO_RETURN,
					   "%s: client did not see close_notify (%d, %d)", what, n, SSL_get_error(c.client, n));
			}
			CU_ASSERT_EQUAL(tls_session_append(&c.session, 1), -EPIPE);
			connection_close(&c);
		}
}

/* ---- layout, retransmission, early client data ------------------------------------------- */

static void test_retransmissions(void)
{
	static uint8_t first[1100000], again[70000];

	setup();
	for (int v = 0; v < 2; v++) {
		struct client_options options = {.min_version = v ? TLS1_3_VERSION : TLS1_2_VERSION,
						  .max_version = v ? TLS1_3_VERSION : TLS1_2_VERSION};
		struct connection c;
		uint64_t start, end, length = 1000000;
		char what[64];

		snprintf(what, sizeof(what), "retransmissions v1.%d", v ? 3 : 2);
		CU_ASSERT_EQUAL_FATAL(connection_open(&c, &options, v), 0);
		CU_ASSERT_EQUAL_FATAL(connection_handshake(&c, NULL), TLS_HANDSHAKE_DONE);
		connection_handoff(&c, NULL); /* default layout: 10 records of 1400, then 16 KiB */
		CU_ASSERT_EQUAL(tls_session_append(&c.session, length), 0);
		start = c.server_sent;
		end = tls_session_wire_end(&c.session);
		CU_ASSERT_FATAL(end - start <= sizeof(first));
		/* First transmission: one 1448-byte segment at a time, as TCP would ask. */
		for (uint64_t at = start; at < end; at += 1448) {
			size_t n = (size_t)SLUICE_TEST_MIN((uint64_t)1448, end - at);
			struct iovec segment = {first + (at - start), n};

			CU_ASSERT_EQUAL_FATAL(tls_session_produce(&c.session, workers[c.engine], at, n, &source, &segment, 1), 0);
		}
		/* Retransmissions of random ranges (some spanning records, some only a tag). */
		for (int round = 0; round < 300; round++) {
			uint64_t from = start + test_random_below(&random_state, end - start);
			size_t n = 1 + test_random_below(&random_state, (size_t)SLUICE_TEST_MIN(end - from, (uint64_t)sizeof(again)));
			struct iovec out[2] = {{again, n / 3}, {again + n / 3, n - n / 3}};

			if (round < 20) { /* the last 1..16 bytes of a record: the tag alone */
				struct tls_stream_record record;

				CU_ASSERT_EQUAL(tls_stream_locate(&c.session.stream, from, &record), 0);
				from = record.wire_offset + tls_record_wire_length(c.session.version, record.plaintext_length) -
				       1 - (uint64_t)round % 16;
				n = 1 + (size_t)round % 16;
				out[0].iov_len = 0;
				out[1] = (struct iovec){again, n};
			}
			CU_ASSERT_EQUAL(tls_session_produce(&c.session, workers[c.engine], from, n, &source, out, 2), 0);
			TEST_CHECK(memcmp(again, first + (from - start), n) == 0, "%s: [%llu, +%zu) differs", what,
				   (unsigned long long)(from - start), n);
		}
		BIO_write(c.client_in, first, (int)(end - start));
		c.server_sent = end;
		client_read_check(&c, length, what);
		connection_close(&c);
	}
}

static void test_client_data_with_finished(void)
{
	static const char request[] = "GET /video/seg-1.m4s HTTP/1.1\r\nHost: default.test\r\n\r\n";
	struct client_options options = {.min_version = TLS1_3_VERSION};
	struct tls_session_receive_result last;
	struct connection c;
	uint8_t data[256];
	size_t length;

	setup();
	CU_ASSERT_EQUAL_FATAL(connection_open(&c, &options, 0), 0);
	CU_ASSERT_EQUAL_FATAL(connection_handshake(&c, request), TLS_HANDSHAKE_DONE);
	connection_handoff(&c, NULL);
	TEST_CHECK(c.handoff.leftover_length == strlen(request) + 22,
		   "the request's record should be left over after Finished: %zu bytes", c.handoff.leftover_length);
	CU_ASSERT_EQUAL(server_receive(&c, data, sizeof(data), &length, &last), TLS_SESSION_NEED_MORE);
	TEST_CHECK(length == strlen(request) && memcmp(data, request, length) == 0, "request not received (%zu bytes)",
		   length);
	connection_close(&c);
}

/* ---- KeyUpdate ------------------------------------------------------------------------- */

enum key_update_initiator { UPDATE_BY_CLIENT, UPDATE_BY_SERVER, UPDATE_OWED };

struct key_update_case {
	const char *description;
	enum key_update_initiator initiator;
	bool requested;
};

static const struct key_update_case key_update_cases[] = {
	{"client, update not requested", UPDATE_BY_CLIENT, false},
	{"client, update requested", UPDATE_BY_CLIENT, true},
	{"server, update requested", UPDATE_BY_SERVER, true},
	{"server, update not requested", UPDATE_BY_SERVER, false},
	{"client requests while ours is in flight", UPDATE_OWED, true},
	{NULL, 0, false},
};

static void test_key_updates(void)
{
	static uint8_t before[30000], again[30000];

	setup();
	for (const struct key_update_case *k = key_update_cases; k->description; k++)
		for (int e = 0; e < 2; e++) {
			struct client_options options = {.min_version = TLS1_3_VERSION,
							 .ciphersuites = e ? "TLS_AES_256_GCM_SHA384" : "TLS_AES_128_GCM_SHA256"};
			struct tls_session_receive_result last;
			struct connection c;
			uint8_t data[64];
			size_t length;
			uint64_t mark, mark_end;
			struct iovec iov;

			CU_ASSERT_EQUAL_FATAL(connection_open(&c, &options, e), 0);
			CU_ASSERT_EQUAL_FATAL(connection_handshake(&c, NULL), TLS_HANDSHAKE_DONE);
			connection_handoff(&c, NULL);
			/* Data before the update, kept to compare retransmissions later. */
			mark = c.server_sent;
			CU_ASSERT_EQUAL(tls_session_append(&c.session, 20000), 0);
			mark_end = tls_session_wire_end(&c.session);
			iov = (struct iovec){before, (size_t)(mark_end - mark)};
			CU_ASSERT_EQUAL_FATAL(tls_session_produce(&c.session, workers[e], mark, (size_t)(mark_end - mark), &source,
								  &iov, 1), 0);
			BIO_write(c.client_in, before, (int)(mark_end - mark));
			c.server_sent = mark_end; /* not acknowledged yet: the old epoch stays live */
			client_read_check(&c, 20000, k->description);

			if (k->initiator == UPDATE_BY_SERVER || k->initiator == UPDATE_OWED) {
				CU_ASSERT_EQUAL(tls_session_update_keys(&c.session, k->initiator == UPDATE_BY_SERVER && k->requested), 0);
				CU_ASSERT_EQUAL(tls_session_update_keys(&c.session, false), -EBUSY);
			}
			if (k->initiator == UPDATE_BY_CLIENT || k->initiator == UPDATE_OWED) {
				CU_ASSERT_EQUAL_FATAL(SSL_key_update(c.client, k->requested ? SSL_KEY_UPDATE_REQUESTED
											   : SSL_KEY_UPDATE_NOT_REQUESTED), 1);
				CU_ASSERT_EQUAL(SSL_write(c.client, "after", 5), 5);
				client_to_inbox(&c);
				TEST_CHECK(server_receive(&c, data, sizeof(data), &length, &last) == TLS_SESSION_KEY_UPDATE,
					   "%s: no KeyUpdate event (%d)", k->description, last.event);
				CU_ASSERT_EQUAL(server_receive(&c, data, sizeof(data), &length, &last), TLS_SESSION_NEED_MORE);
				TEST_CHECK(length == 5 && memcmp(data, "after", 5) == 0, "%s: data after the client's KeyUpdate",
					   k->description);
				TEST_CHECK(((c.session.flags & TLS_SESSION_FLAG_KEY_UPDATE_OWED) != 0) == (k->initiator == UPDATE_OWED),
					   "%s: owed flag %u", k->description, c.session.flags);
			}
			/* Retransmitting data sealed before the update still gives the same bytes. */
			iov = (struct iovec){again, (size_t)(mark_end - mark - 100)};
			CU_ASSERT_EQUAL(tls_session_produce(&c.session, workers[e], mark + 50, iov.iov_len, &source, &iov, 1), 0);
			TEST_CHECK(memcmp(again, before + 50, iov.iov_len) == 0, "%s: retransmission differs", k->description);

			/* Everything acknowledged (an owed KeyUpdate goes out now), more data, the client reads it. */
			server_flush(&c);
			CU_ASSERT_EQUAL(tls_session_append(&c.session, 50000), 0);
			server_flush(&c);
			client_read_check(&c, 50000, k->description);
			TEST_CHECK(tls_stream_write_epoch(&c.session.stream) ==
					   (k->initiator == UPDATE_OWED ? 2 : (k->initiator == UPDATE_BY_SERVER || k->requested) ? 1 : 0),
				   "%s: write epoch %u", k->description, tls_stream_write_epoch(&c.session.stream));
			/* The client answers a requested update with its own on its next write. */
			CU_ASSERT_EQUAL(SSL_write(c.client, "again", 5), 5);
			client_to_inbox(&c);
			if (k->initiator == UPDATE_BY_SERVER && k->requested)
				TEST_CHECK(server_receive(&c, data, sizeof(data), &length, &last) == TLS_SESSION_KEY_UPDATE,
					   "%s: the client did not answer our request", k->description);
			CU_ASSERT_EQUAL(server_receive(&c, data, sizeof(data), &length, &last), TLS_SESSION_NEED_MORE);
			TEST_CHECK(length == 5 && memcmp(data, "again", 5) == 0, "%s: last client data", k->description);
			connection_close(&c);
		}
}

/* ---- closing, tampering ------------------------------------------------------------------ */

static void test_client_close_notify(void)
{
	setup();
	for (int v = 0; v < 2; v++) {
		struct client_options options = {.max_version = v ? TLS1_3_VERSION : TLS1_2_VERSION};
		struct tls_session_receive_result last;
		struct connection c;
		uint8_t data[16];
		size_t length;

		CU_ASSERT_EQUAL_FATAL(connection_open(&c, &options, v), 0);
		CU_ASSERT_EQUAL_FATAL(connection_handshake(&c, NULL), TLS_HANDSHAKE_DONE);
		connection_handoff(&c, NULL);
		server_flush(&c);
		CU_ASSERT_EQUAL(SSL_shutdown(c.client), 0); /* sent, not yet received */
		client_to_inbox(&c);
		CU_ASSERT_EQUAL(server_receive(&c, data, sizeof(data), &length, &last), TLS_SESSION_PEER_CLOSED);
		CU_ASSERT_EQUAL(last.alert, TLS_ALERT_CLOSE_NOTIFY);
		CU_ASSERT(tls_stream_closed(&c.session.stream));
		server_flush(&c);
		TEST_CHECK(SSL_shutdown(c.client) == 1, "v1.%d: the client did not get our close_notify", v ? 3 : 2);
		{
			struct iovec in = {c.inbox, 0};

			CU_ASSERT_EQUAL(tls_session_receive(&c.session, workers[0], &in, 1, data, sizeof(data), &last), -EPIPE);
		}
		connection_close(&c);
	}
}

struct tamper_case {
	const char *description;
	int version;
	const char *inject_hex; /* bytes put in front of the inbox instead of a client record; NULL: flip a bit */
	uint8_t alert;
	unsigned long client_reason; /* what the client reports on reading our alert */
};

static const struct tamper_case tamper_cases[] = {
	{"1.3 flipped bit", TLS1_3_VERSION, NULL, TLS_ALERT_BAD_RECORD_MAC, SSL_R_SSLV3_ALERT_BAD_RECORD_MAC},
	{"1.2 flipped bit", TLS1_2_VERSION, NULL, TLS_ALERT_BAD_RECORD_MAC, SSL_R_SSLV3_ALERT_BAD_RECORD_MAC},
	{"1.3 record too long", TLS1_3_VERSION, "17030341010000", TLS_ALERT_RECORD_OVERFLOW,
	 SSL_R_TLSV1_ALERT_RECORD_OVERFLOW},
	{"1.2 record too long", TLS1_2_VERSION, "17030348010000", TLS_ALERT_RECORD_OVERFLOW,
	 SSL_R_TLSV1_ALERT_RECORD_OVERFLOW},
	{"1.3 change_cipher_spec after the handshake", TLS1_3_VERSION, "140303000101", TLS_ALERT_UNEXPECTED_MESSAGE,
	 SSL_R_SSLV3_ALERT_UNEXPECTED_MESSAGE},
	{"1.2 plaintext alert type with an old version", TLS1_2_VERSION, "150301000202", TLS_ALERT_PROTOCOL_VERSION,
	 SSL_R_TLSV1_ALERT_PROTOCOL_VERSION},
	{NULL, 0, NULL, 0, 0},
};

static void test_tampering(void)
{
	setup();
	for (const struct tamper_case *t = tamper_cases; t->description; t++) {
		struct client_options options = {.min_version = t->version, .max_version = t->version};
		struct tls_session_receive_result last;
		struct connection c;
		uint8_t data[256], byte;
		size_t length;
		int n;

		CU_ASSERT_EQUAL_FATAL(connection_open(&c, &options, 1), 0);
		CU_ASSERT_EQUAL_FATAL(connection_handshake(&c, NULL), TLS_HANDSHAKE_DONE);
		connection_handoff(&c, NULL);
		server_flush(&c);
		if (t->inject_hex) {
			c.inbox_length = test_hex_decode(t->inject_hex, c.inbox, INBOX_SIZE);
		} else {
			CU_ASSERT_EQUAL(SSL_write(c.client, "hello", 5), 5);
			client_to_inbox(&c);
			c.inbox[c.inbox_length - 3] ^= 0x20;
		}
		TEST_CHECK(server_receive(&c, data, sizeof(data), &length, &last) == TLS_SESSION_ERROR && last.alert == t->alert,
			   "%s: event %d alert %u", t->description, last.event, last.alert);
		CU_ASSERT(tls_stream_closed(&c.session.stream));
		server_flush(&c);
		ERR_clear_error();
		n = SSL_read(c.client, &byte, 1);
		TEST_CHECK(n <= 0 && ERR_GET_REASON(ERR_peek_error()) == (int)t->client_reason,
			   "%s: the client saw %d, %s", t->description, n, ERR_reason_error_string(ERR_peek_error()));
		connection_close(&c);
	}
}

/* ---- resumption and ticket-key rotation ---------------------------------------------------- */

/* The client's session, once it processed the TLS 1.3 NewSessionTickets (before any data). */
static SSL_SESSION *client_session(struct connection *c)
{
	uint8_t byte;

	CU_ASSERT_EQUAL(SSL_read(c->client, &byte, 1), -1);
	return SSL_get1_session(c->client);
}

/* The control thread is not a reader of the key ring: this test's thread steps aside. */
static int rotate(const struct tls_ticket_keys *keys)
{
	int rc;

	tls_ticket_keyring_offline(keyring, 0);
	rc = tls_ticket_keyring_replace(keyring, keys, 1000);
	tls_ticket_keyring_online(keyring, 0);
	return rc;
}

/* One handshake resuming `session` (NULL: full); returns whether it resumed, and the new session. */
static bool handshake_with(SSL_SESSION *session, int version, SSL_SESSION **renewed, const char *what)
{
	struct client_options options = {.min_version = version, .max_version = version, .session = session,
					 .server_name = "default.test"};
	struct connection c;
	bool resumed;

	CU_ASSERT_EQUAL_FATAL(connection_open(&c, &options, 0), 0);
	TEST_CHECK(connection_handshake(&c, NULL) == TLS_HANDSHAKE_DONE, "%s: handshake failed", what);
	if (c.output.state != TLS_HANDSHAKE_DONE) {
		connection_close(&c);
		return false;
	}
	connection_handoff(&c, NULL);
	resumed = c.handoff.resumed;
	TEST_CHECK(resumed == (SSL_session_reused(c.client) == 1), "%s: client and server disagree on resumption", what);
	if (renewed)
		*renewed = client_session(&c);
	/* The resumed connection carries data like any other. */
	CU_ASSERT_EQUAL(tls_session_append(&c.session, 3000), 0);
	server_flush(&c);
	client_read_check(&c, 3000, what);
	/* A clean close: OpenSSL clients do not resume sessions of connections that were not closed. */
	{
		struct tls_session_receive_result last;
		uint8_t data[16];
		size_t length;

		CU_ASSERT_EQUAL(SSL_shutdown(c.client), 0);
		client_to_inbox(&c);
		CU_ASSERT_EQUAL(server_receive(&c, data, sizeof(data), &length, &last), TLS_SESSION_PEER_CLOSED);
		server_flush(&c);
		CU_ASSERT_EQUAL(SSL_shutdown(c.client), 1);
	}
	connection_close(&c);
	return resumed;
}

static void test_resumption_and_rotation(void)
{
	setup();
	for (int v = 0; v < 2; v++) {
		int version = v ? TLS1_3_VERSION : TLS1_2_VERSION;
		struct tls_ticket_keys k1 = ticket_keys(1, 0x10), k21 = ticket_keys(2, 0x20), k32 = ticket_keys(2, 0x30);
		SSL_SESSION *first = NULL, *renewed = NULL, *unused = NULL;

		k21.keys[1] = k1.keys[0];  /* {K2, K1} */
		k32.keys[1] = k21.keys[0]; /* {K3, K2} */
		CU_ASSERT_EQUAL(rotate(&k1), 0);
		TEST_CHECK(!handshake_with(NULL, version, &first, "full"), "v%x: a first handshake resumed", version);
		CU_ASSERT_PTR_NOT_NULL_FATAL(first);
		TEST_CHECK(handshake_with(first, version, NULL, "resume under K1"), "v%x: no resumption under K1", version);
		CU_ASSERT_EQUAL(rotate(&k21), 0);
		TEST_CHECK(handshake_with(first, version, &renewed, "resume under a previous key"),
			   "v%x: a ticket of a previous key did not resume", version);
		CU_ASSERT_EQUAL(rotate(&k32), 0);
		TEST_CHECK(!handshake_with(first, version, &unused, "K1 dropped"),
			   "v%x: a ticket of a dropped key resumed", version);
		TEST_CHECK(handshake_with(renewed, version, NULL, "renewed ticket under K2"),
			   "v%x: the ticket renewed under K2 did not resume", version);
		SSL_SESSION_free(first);
		SSL_SESSION_free(renewed);
		SSL_SESSION_free(unused);
	}
}

/* ---- SNI, refusals, garbage, ALPN, max fragment length, renegotiation, configuration -------- */

struct sni_case {
	const char *server_name;
	uint8_t certificate_index;
	bool verifies; /* the client can verify the served certificate for this name */
};

static const struct sni_case sni_cases[] = {
	{"default.test", TEST_CERTIFICATE_RSA, true},
	{"www.default.test", TEST_CERTIFICATE_RSA, true},
	{"ecdsa.test", TEST_CERTIFICATE_ECDSA, true},
	{"ECDSA.Test", TEST_CERTIFICATE_ECDSA, true},
	{"a.wild.test", TEST_CERTIFICATE_WILD, true},
	{"b.a.wild.test", TEST_CERTIFICATE_RSA, false}, /* a wildcard covers one label: the default */
	{"wild.test", TEST_CERTIFICATE_RSA, false},
	{"unknown.test", TEST_CERTIFICATE_RSA, false},  /* unknown name: the default, no alert */
	{NULL, TEST_CERTIFICATE_RSA, false},            /* no SNI: the default */
	{"", 0, false},
};

static void test_sni(void)
{
	setup();
	for (const struct sni_case *s = sni_cases; !s->server_name || s->server_name[0]; s++)
		for (int v = 0; v < 2; v++) {
			struct client_options options = {.max_version = v ? TLS1_3_VERSION : TLS1_2_VERSION,
							 .server_name = s->server_name, .verify = s->verifies};
			struct connection c;

			CU_ASSERT_EQUAL_FATAL(connection_open(&c, &options, 0), 0);
			TEST_CHECK(connection_handshake(&c, NULL) == TLS_HANDSHAKE_DONE, "SNI %s: handshake failed",
				   s->server_name ? s->server_name : "(none)");
			if (c.output.state == TLS_HANDSHAKE_DONE) {
				X509 *peer = SSL_get0_peer_certificate(c.client);
				EVP_PKEY *key = peer ? X509_get0_pubkey(peer) : NULL;

				connection_handoff(&c, NULL);
				TEST_CHECK(c.handoff.certificate_index == s->certificate_index &&
						   (!s->verifies || SSL_get_verify_result(c.client) == X509_V_OK) && key &&
						   EVP_PKEY_is_a(key, s->certificate_index == TEST_CERTIFICATE_RSA ? "RSA" : "EC"),
					   "SNI %s v1.%d: certificate %u", s->server_name ? s->server_name : "(none)", v ? 3 : 2,
					   c.handoff.certificate_index);
			}
			connection_close(&c);
		}
}

struct refusal_case {
	const char *description;
	struct client_options options; /* used when input_hex is NULL */
	const char *input_hex;         /* raw bytes instead of a client */
	size_t extra_zeros;            /* then a second feed of this many zero bytes */
	int alert;                     /* expected alert; -1: none produced; -2: either */
};

static const struct refusal_case refusal_cases[] = {
	{"TLS 1.1 client", {.min_version = TLS1_1_VERSION, .max_version = TLS1_1_VERSION, .legacy = true}, NULL, 0,
	 TLS_ALERT_PROTOCOL_VERSION},
	{"ALPN without http/1.1", {.alpn = "\x02h2"}, NULL, 0, TLS_ALERT_NO_APPLICATION_PROTOCOL},
	{"TLS 1.2 with CBC suites only", {.max_version = TLS1_2_VERSION, .cipher_list = "ECDHE-RSA-AES128-SHA"}, NULL, 0,
	 TLS_ALERT_HANDSHAKE_FAILURE},
	{"TLS 1.3 with finite-field DH only", {.min_version = TLS1_3_VERSION, .groups = "ffdhe2048"}, NULL, 0,
	 TLS_ALERT_HANDSHAKE_FAILURE},
	{"TLS 1.3 with ChaCha20 only", {.min_version = TLS1_3_VERSION, .ciphersuites = "TLS_CHACHA20_POLY1305_SHA256"},
	 NULL, 0, TLS_ALERT_HANDSHAKE_FAILURE},
	{"garbage ClientHello body", {0},
	 "160301002c01000028ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", 0,
	 TLS_ALERT_DECODE_ERROR},
	{"handshake record of another type", {0}, "1603010008020000040303abcd", 0, TLS_ALERT_UNEXPECTED_MESSAGE},
	{"record longer than 2^14 + 2048", {0}, "1603014801", 0, TLS_ALERT_RECORD_OVERFLOW},
	{"application data first", {0}, "1703030005hello", 0, TLS_ALERT_UNEXPECTED_MESSAGE},
	{"an HTTP request", {0}, "474554202f20485454502f312e310d0a0d0a", 0, -1},
	{"SSLv2 ClientHello", {0},
	 "802e0103010015000000100100800300800700c0060040040080020080c02f00002f00000a0102030405060708090a0b0c0d0e0f10", 0,
	 -2},
	{"more input than a handshake may take", {0}, "1603014000", 32768, -1},
	{NULL, {0}, NULL, 0, 0},
};

static void test_refusals(void)
{
	static uint8_t input[40000];

	setup();
	for (const struct refusal_case *r = refusal_cases; r->description; r++) {
		struct connection c;

		CU_ASSERT_EQUAL_FATAL(connection_open(&c, &r->options, 0), 0);
		if (r->input_hex) {
			size_t length = test_hex_decode(r->input_hex, input, sizeof(input));
			const char *text = strstr(r->input_hex, "hello");

			if (text) /* allow readable tails */
				length = test_hex_decode(r->input_hex, input, sizeof(input)),
				memcpy(input + length, "hello", 5), length += 5;
			CU_ASSERT_EQUAL(tls_handshake_feed(c.handshake, input, length, &c.output), 0);
			if (r->extra_zeros && c.output.state == TLS_HANDSHAKE_CONTINUE) {
				memset(input, 0, r->extra_zeros);
				CU_ASSERT_EQUAL(tls_handshake_feed(c.handshake, input, r->extra_zeros, &c.output), 0);
			}
		} else {
			connection_handshake(&c, NULL);
		}
		TEST_CHECK(c.output.state == TLS_HANDSHAKE_FAILED, "%s: state %d", r->description, c.output.state);
		if (r->alert == -2)
			;
		else if (r->alert >= 0)
			TEST_CHECK(c.output.alert == r->alert && c.output.length >= 7 && c.output.bytes[0] == TLS_CONTENT_ALERT &&
					   c.output.bytes[c.output.length - 1] == r->alert,
				   "%s: alert %u in %zu bytes, expected %d", r->description, c.output.alert, c.output.length,
				   r->alert);
		else
			TEST_CHECK(c.output.alert == 0, "%s: unexpected alert %u", r->description, c.output.alert);
		CU_ASSERT_EQUAL(tls_handshake_feed(c.handshake, "x", 1, &c.output), -EINVAL);
		{
			struct tls_handshake_handoff handoff;

			CU_ASSERT_EQUAL(tls_handshake_handoff(c.handshake, &handoff), -EINVAL);
		}
		connection_close(&c);
	}
}

static void test_alpn_and_fragment_length(void)
{
	static const struct {
		const char *description;
		int version;
		const char *alpn;
		bool alpn_http11;
		uint8_t max_fragment;
		uint16_t record_plaintext_max;
	} rows[] = {
		{"1.3 no ALPN", TLS1_3_VERSION, NULL, false, 0, 16384},
		{"1.3 http/1.1 among others", TLS1_3_VERSION, "\x02h2\x08http/1.1\x06spdy/1", true, 0, 16384},
		{"1.2 max fragment 512", TLS1_2_VERSION, NULL, false, TLSEXT_max_fragment_length_512, 512},
		{"1.3 max fragment 1024", TLS1_3_VERSION, "\x08http/1.1", true, TLSEXT_max_fragment_length_1024, 1024},
		{"1.3 max fragment 4096", TLS1_3_VERSION, NULL, false, TLSEXT_max_fragment_length_4096, 4096},
	};
	setup();
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct client_options options = {.min_version = rows[i].version, .max_version = rows[i].version,
						 .alpn = rows[i].alpn, .max_fragment = rows[i].max_fragment};
		struct connection c;

		CU_ASSERT_EQUAL_FATAL(connection_open(&c, &options, (int)i % 2), 0);
		CU_ASSERT_EQUAL_FATAL(connection_handshake(&c, NULL), TLS_HANDSHAKE_DONE);
		connection_handoff(&c, NULL);
		TEST_CHECK(c.handoff.alpn_http11 == rows[i].alpn_http11 &&
				   c.handoff.record_plaintext_max == rows[i].record_plaintext_max,
			   "%s: alpn %d, record limit %u", rows[i].description, c.handoff.alpn_http11,
			   c.handoff.record_plaintext_max);
		/* The client refuses records over the limit: this checks the stream honours it. */
		CU_ASSERT_EQUAL(tls_session_append(&c.session, 60000), 0);
		server_flush(&c);
		client_read_check(&c, 60000, rows[i].description);
		client_send_check(&c, 3000, rows[i].description);
		connection_close(&c);
	}
}

static void test_renegotiation_refused(void)
{
	struct client_options options = {.max_version = TLS1_2_VERSION};
	struct tls_session_receive_result last;
	struct connection c;
	uint8_t data[64];
	size_t length;
	int n;

	setup();
	CU_ASSERT_EQUAL_FATAL(connection_open(&c, &options, 0), 0);
	CU_ASSERT_EQUAL_FATAL(connection_handshake(&c, NULL), TLS_HANDSHAKE_DONE);
	connection_handoff(&c, NULL);
	server_flush(&c);
	CU_ASSERT_EQUAL_FATAL(SSL_renegotiate(c.client), 1);
	SSL_do_handshake(c.client); /* sends a ClientHello under the current keys */
	client_to_inbox(&c);
	TEST_CHECK(server_receive(&c, data, sizeof(data), &length, &last) == TLS_SESSION_RENEGOTIATION_REFUSED,
		   "renegotiation: event %d", last.event);
	server_flush(&c); /* the warning no_renegotiation */
	n = SSL_do_handshake(c.client);
	TEST_CHECK(n != 1, "the client renegotiated anyway");
	/* OpenSSL's client gives up the connection with a fatal alert of its own. */
	client_to_inbox(&c);
	if (c.inbox_length)
		TEST_CHECK(server_receive(&c, data, sizeof(data), &length, &last) == TLS_SESSION_PEER_ALERT,
			   "after refusing: event %d alert %u", last.event, last.alert);
	connection_close(&c);
}

static void test_configuration_errors(void)
{
	struct {
		const char *description;
		const char *chain, *key;
		unsigned count;
		const char *error;
	} rows[] = {
		{"no certificates", pki.chain_file[0], pki.key_file[0], 0, "between 1 and 255 certificates"},
		{"missing chain", "/nonexistent/chain.pem", pki.key_file[0], 1, "/nonexistent/chain.pem: cannot load"},
		{"missing key", pki.chain_file[0], "/nonexistent/key.pem", 1, "/nonexistent/key.pem: cannot load"},
		{"key of another certificate", pki.chain_file[0], pki.key_file[1], 1, "does not match"},
		{"unrelated key of the same type", pki.chain_file[1], pki.unmatched_key_file, 1, ""},
		{"no key file", pki.chain_file[0], NULL, 1, "needs chain_file and key_file"},
	};
	setup();
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct tls_handshake_certificate certificate = {rows[i].chain, rows[i].key, NULL};
		struct tls_handshake_server_config config = {.certificates = &certificate, .certificate_count = rows[i].count};
		struct tls_handshake_server *made = (struct tls_handshake_server *)1;
		char error[512] = "";

		TEST_CHECK(tls_handshake_server_create(&config, &made, error, sizeof(error)) == -EINVAL && made == NULL &&
				   strstr(error, rows[i].error) && error[0],
			   "%s: error '%s'", rows[i].description, error);
	}
	{
		struct tls_handshake_certificate certificate = {pki.chain_file[1], pki.key_file[1], NULL};
		struct tls_handshake_server_config config = {.certificates = &certificate, .certificate_count = 1};
		struct tls_handshake_server *made;
		char error[256] = "";

		CU_ASSERT_EQUAL(tls_handshake_server_create(&config, &made, error, sizeof(error)), 0);
		tls_handshake_server_free(made);
		tls_handshake_server_free(NULL);
	}
}

/* A write key seals at most TLS_SESSION_RECORDS_PER_KEY records, then a KeyUpdate comes first. */
static void test_records_per_key(void)
{
	static uint8_t wire[4096], plaintext[2048];
	struct tls_handshake_handoff handoff = {.version = TLS_VERSION_1_3, .cipher = TLS_AEAD_AES_128_GCM,
						.hash = TLS_HASH_SHA256,
						.write_sequence = TLS_SESSION_RECORDS_PER_KEY - 1,
						.record_plaintext_max = 16384};
	static struct tls_session session __attribute__((aligned(64)));
	struct tls_record_key next_key;
	struct tls_record_protection protection = {TLS_VERSION_1_3, &handoff.write_key, NULL};
	struct tls_record_read_result result;
	uint64_t sequence = TLS_SESSION_RECORDS_PER_KEY - 1, end;
	struct iovec out = {wire, sizeof(wire)}, in;
	size_t offset = 0;

	setup();
	handoff.write_key.key.cipher = TLS_AEAD_AES_128_GCM;
	memset(handoff.write_key.key.bytes, 9, 16);
	memset(handoff.write_secret, 7, 32);
	CU_ASSERT_EQUAL_FATAL(tls_session_init(&session, workers[0], &handoff, 0, NULL), 0);
	CU_ASSERT_EQUAL(tls_session_append(&session, 100), 0); /* the last record of key 0 */
	CU_ASSERT_EQUAL(tls_session_produce(&session, workers[0], 0, tls_session_wire_end(&session), &source, &out, 1), 0);
	CU_ASSERT_EQUAL(tls_stream_write_epoch(&session.stream), 0);
	CU_ASSERT_EQUAL(tls_session_append(&session, 200), 0); /* needs a KeyUpdate first */
	CU_ASSERT_EQUAL(tls_stream_write_epoch(&session.stream), 1);
	end = tls_session_wire_end(&session);
	CU_ASSERT_EQUAL_FATAL(end, 100 + 22 + 5 + 22 + 200 + 22);
	CU_ASSERT_EQUAL(tls_session_produce(&session, workers[0], 0, end, &source, &out, 1), 0);
	/* Opened record by record: data (key 0), KeyUpdate (key 0), data (key 1, sequence 0). */
	for (int r = 0; r < 3; r++) {
		in = (struct iovec){wire + offset, end - offset};
		CU_ASSERT_EQUAL_FATAL(tls_record_read(workers[0], &protection, &sequence, &in, 1, plaintext, sizeof(plaintext),
						      &result), 1);
		offset += result.consumed;
		if (r == 1) {
			CU_ASSERT(result.content_type == TLS_CONTENT_HANDSHAKE && plaintext[0] == 24 && plaintext[4] == 0);
			CU_ASSERT_EQUAL(tls_keys_next_secret_13(TLS_HASH_SHA256, handoff.write_secret), 0);
			CU_ASSERT_EQUAL(tls_keys_traffic_key_13(TLS_AEAD_AES_128_GCM, TLS_HASH_SHA256, handoff.write_secret,
								&next_key), 0);
			protection.key = &next_key;
			sequence = 0;
		} else {
			CU_ASSERT(result.content_type == TLS_CONTENT_APPLICATION_DATA &&
				  result.plaintext_length == (r ? 200u : 100u));
		}
	}
	CU_ASSERT_EQUAL(offset, end);
	tls_session_wipe(&session);
}

static void test_cleanup(void)
{
	tls_handshake_server_free(server);
	server = NULL;
	tls_ticket_keyring_free(keyring);
	for (int e = 0; e < 2; e++)
		tls_aead_worker_free(workers[e]);
	free(source_bytes);
	test_pki_remove(&pki);
}

void test_register(void)
{
	static const struct test_case cases[] = {
		{"matrix: versions, ciphers, certificates, engines; records both ways", test_matrix},
		{"default layout; retransmitted ranges equal the first transmission", test_retransmissions},
		{"client data that came with Finished", test_client_data_with_finished},
		{"KeyUpdate table", test_key_updates},
		{"close_notify from the client", test_client_close_notify},
		{"tampered and malformed records: alerts the client sees", test_tampering},
		{"resumption across ticket-key rotations", test_resumption_and_rotation},
		{"SNI table", test_sni},
		{"refused clients and garbage", test_refusals},
		{"ALPN and max fragment length", test_alpn_and_fragment_length},
		{"TLS 1.2 renegotiation refused", test_renegotiation_refused},
		{"configuration errors", test_configuration_errors},
		{"KeyUpdate after TLS_SESSION_RECORDS_PER_KEY records", test_records_per_key},
		{"cleanup", test_cleanup},
		{NULL, NULL},
	};
	test_add_suite("tls_session", cases);
}
