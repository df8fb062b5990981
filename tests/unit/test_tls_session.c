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
static struct tls_server *server;
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

static int server_make(struct tls_server **out, struct tls_ticket_keyring *ring, char *error, size_t size)
{
	static const char *const rsa_names[] = {"default.test", "www.default.test", NULL};
	struct tls_certificate_config certificates[TEST_CERTIFICATE_COUNT] = {
		{pki.chain_file[TEST_CERTIFICATE_RSA], pki.key_file[TEST_CERTIFICATE_RSA], rsa_names},
		{pki.chain_file[TEST_CERTIFICATE_ECDSA], pki.key_file[TEST_CERTIFICATE_ECDSA], NULL}, /* names from SAN */
		{pki.chain_file[TEST_CERTIFICATE_WILD], pki.key_file[TEST_CERTIFICATE_WILD], NULL},
	};
	struct tls_server_config config = {
		.certificates = certificates,
		.certificate_count = TEST_CERTIFICATE_COUNT,
		.ticket_keys = ring,
	};

	return tls_server_create(&config, out, error, size);
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

static const struct tls_plaintext_source source = {.map = source_map, .context = NULL};

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
};

struct connection {
	SSL_CTX *client_context;
	SSL *client;
	BIO *client_in, *client_out; /* client's read and write BIOs (owned by client) */
	struct tls_handshake *handshake;
	struct tls_handshake_output output;
	struct tls_handoff handoff;
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

void test_register(void)
{
	static const struct test_case cases[] = {
		{"matrix: versions, ciphers, certificates, engines; records both ways", test_matrix},
		{NULL, NULL},
	};
	test_add_suite("tls_session", cases);
}
