/* SPDX-License-Identifier: BSD-3-Clause
 *
 * tls_bench.c: how fast the data plane's TLS is on one core, as one JSON object on stdout.
 *
 *   aead_16k_gbps            AES-GCM seal of 16 KiB records, flat buffers, per engine and key size
 *   aead_1400_gbps           the same with 1400-byte records
 *   aead_16k_into_1448_gbps  16 KiB records from a hot buffer into 1448-byte pieces: the cost
 *                            of scattered output alone (partial GCM blocks at every piece)
 *   record_layer_gbps        tls_stream producing 16 KiB TLS 1.3 records into 1448-byte
 *                            destinations (a pool of mbuf-sized buffers, 44 per call: a TSO
 *                            burst) from a 64 MiB file mapped from the page cache
 *   record_layer_to_raw      record_layer_gbps / aead_16k_gbps (AES-128): what the record
 *                            layer's scatter walking, headers and source mapping cost
 *   schedule_ns              expanding one AES-128-GCM key (what a per-record on-demand
 *                            expansion of a raw key costs)
 *   retransmit_ns            re-producing one 1448-byte segment from the middle of a 16 KiB
 *                            record (counter mode) and the last 16 bytes of one (the tag: a
 *                            whole record is sealed again)
 *   handshakes_per_s         full TLS 1.3 handshakes (X25519), client and server in memory on
 *                            this one thread, RSA-2048 and ECDSA P-256 certificates: "wall"
 *                            counts both sides, "server" counts only the server's CPU time
 *                            (thread CPU clock around tls_handshake_* and tls_session_init)
 *   resumed_handshakes_per_s TLS 1.3 PSK-DHE resumption with a ticket (ECDSA), same two numbers
 *   handshake_bytes          OpenSSL memory of one server handshake (steady state, not the
 *                            first one): "waiting" is what it holds between its first flight
 *                            and the client's Finished (what many concurrent handshakes cost),
 *                            "peak" the most it held at any point, "after" what is left once
 *                            the handoff is done and the SSL object freed (should be 0)
 *   session_bytes            per-connection TLS state after the handoff
 *
 * Not a test: run it by hand on an idle machine (`build/perf/tls_bench [seconds]`).
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <jemalloc/jemalloc.h>
#include <openssl/crypto.h>

#include "tls_handshake.h"
#include "tls_session.h"
#include "tls_test_pki.h"

enum {
	SOURCE_SIZE = 64 << 20,
	SEGMENT = 1448,
	SEGMENTS_PER_CALL = 44,
	POOL_BUFFERS = 4096,
	POOL_BUFFER_SIZE = 2048,
};

static double measure_seconds = 1.0;

static double now(clockid_t clock)
{
	struct timespec t;

	clock_gettime(clock, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void die(const char *what, int rc)
{
	fprintf(stderr, "tls_bench: %s failed (%d)\n", what, rc);
	exit(1);
}

/* ---- AEAD ---------------------------------------------------------------------------------- */

static double aead_gbps(struct tls_aead_worker *worker, enum tls_aead_cipher cipher, size_t record)
{
	static uint8_t in[16384], out[16384];
	struct tls_aead_key key = {.cipher = (uint8_t)cipher};
	struct tls_aead_schedule schedule;
	struct iovec in_iov = {in, record}, out_iov = {out, record};
	uint8_t nonce[12] = {0}, tag[16], aad[5] = {23, 3, 3, 0, 0};
	double start = now(CLOCK_MONOTONIC), elapsed;
	uint64_t bytes = 0;

	memset(key.bytes, 7, sizeof(key.bytes));
	tls_aead_schedule(worker, &key, &schedule);
	do {
		for (int i = 0; i < 256; i++) {
			nonce[11]++;
			tls_aead_seal(worker, cipher, &schedule, nonce, aad, 5, &in_iov, 1, &out_iov, 1, tag);
		}
		bytes += 256 * record;
		elapsed = now(CLOCK_MONOTONIC) - start;
	} while (elapsed < measure_seconds);
	return (double)bytes / elapsed / 1e9;
}

/* 16 KiB records from a hot buffer into 1448-byte pieces: the cost of scattered output alone. */
static double aead_scatter_gbps(struct tls_aead_worker *worker)
{
	static uint8_t in[16384], out[16384];
	struct tls_aead_key key = {.cipher = TLS_AEAD_AES_128_GCM};
	struct tls_aead_schedule schedule;
	struct iovec in_iov = {in, sizeof(in)}, out_iov[12];
	uint8_t nonce[12] = {0}, tag[16], aad[5] = {23, 3, 3, 0, 0};
	double start = now(CLOCK_MONOTONIC), elapsed;
	uint64_t bytes = 0;
	unsigned count = 0;

	for (size_t at = 0; at < sizeof(out); at += SEGMENT)
		out_iov[count++] = (struct iovec){out + at, sizeof(out) - at < SEGMENT ? sizeof(out) - at : SEGMENT};
	memset(key.bytes, 7, sizeof(key.bytes));
	tls_aead_schedule(worker, &key, &schedule);
	do {
		for (int i = 0; i < 256; i++) {
			nonce[11]++;
			tls_aead_seal(worker, TLS_AEAD_AES_128_GCM, &schedule, nonce, aad, 5, &in_iov, 1, out_iov, count, tag);
		}
		bytes += 256 * sizeof(in);
		elapsed = now(CLOCK_MONOTONIC) - start;
	} while (elapsed < measure_seconds);
	return (double)bytes / elapsed / 1e9;
}

static double schedule_ns(struct tls_aead_worker *worker)
{
	struct tls_aead_key key = {.cipher = TLS_AEAD_AES_128_GCM};
	struct tls_aead_schedule schedule;
	int rounds = 200000;
	double start = now(CLOCK_MONOTONIC);

	for (int i = 0; i < rounds; i++) {
		key.bytes[0] = (uint8_t)i;
		tls_aead_schedule(worker, &key, &schedule);
	}
	return (now(CLOCK_MONOTONIC) - start) / rounds * 1e9;
}

/* ---- the record layer from a mapped file ----------------------------------------------------- */

struct mapped_source {
	const uint8_t *bytes;
};

static ssize_t mapped_map(void *context, uint64_t offset, size_t length, const uint8_t **piece)
{
	const struct mapped_source *source = context;
	size_t at = (size_t)(offset % SOURCE_SIZE);

	*piece = source->bytes + at;
	return (ssize_t)(length < SOURCE_SIZE - at ? length : SOURCE_SIZE - at);
}

static volatile uint8_t page_touch_sum; /* keeps the touching loop */

static const uint8_t *map_source(void)
{
	char path[] = "/tmp/tls_bench-XXXXXX";
	int fd = mkstemp(path);
	uint8_t *chunk = malloc(1 << 20);
	const uint8_t *mapped;

	if (fd < 0 || !chunk)
		die("temporary file", -errno);
	for (int i = 0; i < (1 << 20); i++)
		chunk[i] = (uint8_t)(i * 2654435761u >> 13);
	for (int i = 0; i < SOURCE_SIZE >> 20; i++)
		if (write(fd, chunk, 1 << 20) != 1 << 20)
			die("writing the source", -errno);
	free(chunk);
	mapped = mmap(NULL, SOURCE_SIZE, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	unlink(path);
	if (mapped == MAP_FAILED)
		die("mmap", -errno);
	for (size_t i = 0; i < SOURCE_SIZE; i += 4096) /* resident in the page cache and mapped */
		page_touch_sum += mapped[i];
	return mapped;
}

struct record_layer_result {
	double gbps;
	double retransmit_segment_ns, retransmit_tag_ns;
};

static struct record_layer_result record_layer(struct tls_aead_worker *worker, const uint8_t *mapped)
{
	static uint8_t pool[POOL_BUFFERS][POOL_BUFFER_SIZE];
	struct tls_handshake_handoff handoff = {.version = TLS_VERSION_1_3, .cipher = TLS_AEAD_AES_128_GCM,
				      .hash = TLS_HASH_SHA256, .write_sequence = 2, .record_plaintext_max = 16384};
	struct tls_stream_layout layout = {0, 0, 0}; /* 16 KiB records only */
	struct mapped_source context = {mapped};
	struct tls_record_source source = {.map = mapped_map, .context = &context};
	struct tls_session *session = aligned_alloc(64, sizeof(*session));
	struct record_layer_result result;
	uint64_t wire = 0, bytes = 0;
	unsigned next_buffer = 0;
	double start, elapsed;
	int rc;

	handoff.write_key.key.cipher = TLS_AEAD_AES_128_GCM;
	memset(handoff.write_key.key.bytes, 3, 16);
	handoff.read_key = handoff.write_key;
	rc = tls_session_init(session, worker, &handoff, 0, &layout);
	if (rc < 0)
		die("tls_session_init", rc);
	start = now(CLOCK_MONOTONIC);
	do {
		uint64_t end;

		if ((rc = tls_session_append(session, SOURCE_SIZE)) < 0)
			die("append", rc);
		end = tls_session_wire_end(session);
		while (wire < end) {
			struct iovec out[SEGMENTS_PER_CALL];
			size_t length = 0;
			unsigned count = 0;

			while (count < SEGMENTS_PER_CALL && wire + length < end) {
				size_t n = end - wire - length < SEGMENT ? (size_t)(end - wire - length) : SEGMENT;

				out[count++] = (struct iovec){pool[next_buffer], n};
				next_buffer = (next_buffer + 1) % POOL_BUFFERS;
				length += n;
			}
			if ((rc = tls_session_produce(session, worker, wire, length, &source, out, count)) < 0)
				die("produce", rc);
			wire += length;
			tls_session_acked(session, wire);
		}
		bytes += SOURCE_SIZE;
		elapsed = now(CLOCK_MONOTONIC) - start;
	} while (elapsed < measure_seconds);
	result.gbps = (double)bytes / elapsed / 1e9;

	/* Retransmission costs, on a fresh 16 KiB record. */
	if ((rc = tls_session_append(session, 16384)) < 0)
		die("append", rc);
	{
		struct iovec out = {pool[0], SEGMENT};
		uint64_t record_start = wire;
		int rounds = 20000;

		start = now(CLOCK_MONOTONIC);
		for (int i = 0; i < rounds; i++)
			tls_session_produce(session, worker, record_start + 5 * SEGMENT, SEGMENT, &source, &out, 1);
		result.retransmit_segment_ns = (now(CLOCK_MONOTONIC) - start) / rounds * 1e9;
		out.iov_len = 16;
		start = now(CLOCK_MONOTONIC);
		for (int i = 0; i < rounds; i++)
			tls_session_produce(session, worker, record_start + 16384 + 22 - 16, 16, &source, &out, 1);
		result.retransmit_tag_ns = (now(CLOCK_MONOTONIC) - start) / rounds * 1e9;
	}
	tls_session_wipe(session);
	free(session);
	return result;
}

/* ---- handshakes -------------------------------------------------------------------------- */

/*
 * OpenSSL's allocations through jemalloc, as sluice_alloc_init() routes them, plus a count of
 * the bytes allocated while the server side runs (client and server share this thread).
 */
static bool server_accounting;
static long long server_live, server_peak;

static void account(long long delta)
{
	if (!server_accounting)
		return;
	server_live += delta;
	if (server_live > server_peak)
		server_peak = server_live;
}

static void *counting_malloc(size_t n, const char *file, int line)
{
	void *p = n ? mallocx(n, 0) : NULL;

	(void)file, (void)line;
	if (p)
		account((long long)sallocx(p, 0));
	return p;
}

static void *counting_realloc(void *p, size_t n, const char *file, int line)
{
	void *q;

	if (!p)
		return counting_malloc(n, file, line);
	account(-(long long)sallocx(p, 0));
	if (!n) {
		dallocx(p, 0);
		return NULL;
	}
	q = rallocx(p, n, 0);
	account((long long)sallocx(q ? q : p, 0));
	return q;
}

static void counting_free(void *p, const char *file, int line)
{
	(void)file, (void)line;
	if (!p)
		return;
	account(-(long long)sallocx(p, 0));
	dallocx(p, 0);
}

struct handshake_memory {
	long long waiting, peak, after;
};

struct handshake_rate {
	double wall_per_s, server_per_s;
	struct handshake_memory memory;
};

static void move_bytes(SSL *from_client, BIO *client_out, uint8_t *buffer, size_t capacity, size_t *length)
{
	int n;

	(void)from_client;
	n = BIO_read(client_out, buffer, (int)capacity);
	*length = n > 0 ? (size_t)n : 0;
}

/* One full or resumed handshake; adds the server's CPU time; returns the session if asked. */
static void one_handshake(struct tls_handshake_server *server, SSL_CTX *client_context, struct tls_aead_worker *worker,
			  SSL_SESSION *resume, SSL_SESSION **session_out, double *server_cpu, struct handshake_memory *memory)
{
	static uint8_t buffer[65536];
	static struct tls_session session __attribute__((aligned(64)));
	SSL *client = SSL_new(client_context);
	BIO *client_in = BIO_new(BIO_s_mem()), *client_out = BIO_new(BIO_s_mem());
	struct tls_handshake *handshake;
	struct tls_handshake_output output = {0};
	struct tls_handshake_handoff handoff;
	uint64_t sent = 0;
	double t0;
	int rc;

	BIO_set_mem_eof_return(client_in, -1);
	SSL_set_bio(client, client_in, client_out);
	SSL_set_connect_state(client);
	SSL_set_tlsext_host_name(client, "default.test");
	if (resume)
		SSL_set_session(client, resume);
	server_live = server_peak = 0;
	t0 = now(CLOCK_THREAD_CPUTIME_ID);
	server_accounting = true;
	rc = tls_handshake_create(server, &handshake);
	server_accounting = false;
	*server_cpu += now(CLOCK_THREAD_CPUTIME_ID) - t0;
	if (rc < 0)
		die("tls_handshake_create", rc);
	for (int round = 0; round < 8 && output.state == TLS_HANDSHAKE_CONTINUE; round++) {
		size_t length;

		SSL_do_handshake(client);
		move_bytes(client, client_out, buffer, sizeof(buffer), &length);
		t0 = now(CLOCK_THREAD_CPUTIME_ID);
		server_accounting = true;
		rc = tls_handshake_feed(handshake, buffer, length, &output);
		server_accounting = false;
		*server_cpu += now(CLOCK_THREAD_CPUTIME_ID) - t0;
		if (rc < 0)
			die("tls_handshake_feed", rc);
		if (memory && round == 0)
			memory->waiting = server_live;
		BIO_write(client_in, output.bytes, (int)output.length);
		sent += output.length;
	}
	if (output.state != TLS_HANDSHAKE_DONE)
		die("handshake", -EPROTO);
	t0 = now(CLOCK_THREAD_CPUTIME_ID);
	server_accounting = true;
	rc = tls_handshake_handoff(handshake, &handoff);
	if (rc == 0)
		rc = tls_session_init(&session, worker, &handoff, sent, NULL);
	tls_handshake_free(handshake);
	server_accounting = false;
	*server_cpu += now(CLOCK_THREAD_CPUTIME_ID) - t0;
	if (memory) {
		memory->peak = server_peak;
		memory->after = server_live;
	}
	if (rc < 0)
		die("handoff", rc);
	if (session_out) {
		uint8_t byte;

		SSL_read(client, &byte, 1); /* the NewSessionTickets */
		*session_out = SSL_get1_session(client);
	}
	/* Keep the client's session resumable without running the close exchange. */
	SSL_set_shutdown(client, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
	SSL_free(client);
	tls_session_wipe(&session);
}

static struct handshake_rate handshakes(struct tls_handshake_server *server, struct tls_aead_worker *worker,
					bool resumed)
{
	SSL_CTX *client_context = SSL_CTX_new(TLS_client_method());
	SSL_SESSION *ticket = NULL;
	struct handshake_rate rate = {0};
	double server_cpu = 0, start, elapsed;
	unsigned count = 0;

	SSL_CTX_set_min_proto_version(client_context, TLS1_3_VERSION);
	if (resumed)
		one_handshake(server, client_context, worker, NULL, &ticket, &server_cpu, NULL);
	for (int i = 0; i < 3; i++) /* warm: one-time caches (RSA blinding, DRBG) are not per handshake */
		one_handshake(server, client_context, worker, ticket, NULL, &server_cpu, &rate.memory);
	server_cpu = 0;
	start = now(CLOCK_MONOTONIC);
	do {
		one_handshake(server, client_context, worker, ticket, NULL, &server_cpu, NULL);
		count++;
		elapsed = now(CLOCK_MONOTONIC) - start;
	} while (elapsed < measure_seconds);
	rate.wall_per_s = count / elapsed;
	rate.server_per_s = count / server_cpu;
	SSL_SESSION_free(ticket);
	SSL_CTX_free(client_context);
	return rate;
}

static struct tls_handshake_server *server_for(const struct test_pki *pki, int certificate,
					       struct tls_ticket_keyring *ring)
{
	static const char *const names[] = {"default.test", NULL};
	struct tls_handshake_certificate config = {pki->chain_file[certificate], pki->key_file[certificate], names};
	struct tls_handshake_server_config server_config = {.certificates = &config, .certificate_count = 1,
							    .ticket_keys = ring};
	struct tls_handshake_server *server;
	char error[256];
	int rc = tls_handshake_server_create(&server_config, &server, error, sizeof(error));

	if (rc < 0) {
		fprintf(stderr, "tls_bench: %s\n", error);
		exit(1);
	}
	return server;
}

int main(int argc, char **argv)
{
	struct tls_aead_worker *workers[2];
	struct tls_ticket_keys keys = {.count = 1};
	struct tls_ticket_keyring *ring;
	struct test_pki pki;
	struct record_layer_result layer[2];
	struct handshake_rate rsa, ecdsa, resumed;
	double aead16[2][2], aead1400[2], scatter[2], expand[2];
	const uint8_t *mapped;
	int rc;

	/* First, before OpenSSL allocates: like sluice_alloc_init(), with counting. */
	CRYPTO_set_mem_functions(counting_malloc, counting_realloc, counting_free);
	if (argc > 1)
		measure_seconds = atof(argv[1]) > 0 ? atof(argv[1]) : 1.0;
	for (int e = 0; e < 2; e++)
		if ((rc = tls_aead_worker_create(tls_aead_engines[e], &workers[e])) < 0)
			die(tls_aead_engines[e]->name, rc);
	for (int e = 0; e < 2; e++) {
		aead16[e][0] = aead_gbps(workers[e], TLS_AEAD_AES_128_GCM, 16384);
		aead16[e][1] = aead_gbps(workers[e], TLS_AEAD_AES_256_GCM, 16384);
		aead1400[e] = aead_gbps(workers[e], TLS_AEAD_AES_128_GCM, 1400);
		scatter[e] = aead_scatter_gbps(workers[e]);
		expand[e] = schedule_ns(workers[e]);
	}
	mapped = map_source();
	for (int e = 0; e < 2; e++)
		layer[e] = record_layer(workers[e], mapped);

	if (test_pki_create(&pki) < 0)
		die("certificates", -1);
	tls_ticket_key_generate(&keys.keys[0]);
	if ((rc = tls_ticket_keyring_create(1, &keys, &ring)) < 0)
		die("key ring", rc);
	{
		struct tls_handshake_server *server = server_for(&pki, TEST_CERTIFICATE_RSA, ring);

		rsa = handshakes(server, workers[0], false);
		tls_handshake_server_free(server);
		server = server_for(&pki, TEST_CERTIFICATE_ECDSA, ring);
		ecdsa = handshakes(server, workers[0], false);
		resumed = handshakes(server, workers[0], true);
		tls_handshake_server_free(server);
	}
	test_pki_remove(&pki);
	tls_ticket_keyring_free(ring);

	printf("{\n");
	printf("  \"engines\": {\"ipsec-mb\": \"%s\", \"openssl\": \"%s\"},\n", tls_aead_worker_describe(workers[0]),
	       tls_aead_worker_describe(workers[1]));
	printf("  \"seconds_per_measurement\": %.2f,\n", measure_seconds);
	printf("  \"aead_16k_gbps\": {\"ipsec-mb\": {\"aes128\": %.2f, \"aes256\": %.2f}, "
	       "\"openssl\": {\"aes128\": %.2f, \"aes256\": %.2f}},\n",
	       aead16[0][0], aead16[0][1], aead16[1][0], aead16[1][1]);
	printf("  \"aead_1400_gbps\": {\"ipsec-mb\": %.2f, \"openssl\": %.2f},\n", aead1400[0], aead1400[1]);
	printf("  \"aead_16k_into_1448_gbps\": {\"ipsec-mb\": %.2f, \"openssl\": %.2f},\n", scatter[0], scatter[1]);
	printf("  \"record_layer_gbps\": {\"ipsec-mb\": %.2f, \"openssl\": %.2f},\n", layer[0].gbps, layer[1].gbps);
	printf("  \"record_layer_to_raw\": {\"ipsec-mb\": %.2f, \"openssl\": %.2f},\n", layer[0].gbps / aead16[0][0],
	       layer[1].gbps / aead16[1][0]);
	printf("  \"schedule_ns\": {\"ipsec-mb\": %.0f, \"openssl\": %.0f},\n", expand[0], expand[1]);
	printf("  \"retransmit_ns\": {\"ipsec-mb\": {\"segment_mid_record\": %.0f, \"tag_only\": %.0f}, "
	       "\"openssl\": {\"segment_mid_record\": %.0f, \"tag_only\": %.0f}},\n",
	       layer[0].retransmit_segment_ns, layer[0].retransmit_tag_ns, layer[1].retransmit_segment_ns,
	       layer[1].retransmit_tag_ns);
	printf("  \"handshakes_per_s\": {\"rsa2048\": {\"wall\": %.0f, \"server\": %.0f}, "
	       "\"ecdsa_p256\": {\"wall\": %.0f, \"server\": %.0f}},\n",
	       rsa.wall_per_s, rsa.server_per_s, ecdsa.wall_per_s, ecdsa.server_per_s);
	printf("  \"resumed_handshakes_per_s\": {\"ecdsa_p256\": {\"wall\": %.0f, \"server\": %.0f}},\n",
	       resumed.wall_per_s, resumed.server_per_s);
	printf("  \"handshake_bytes\": {\"rsa2048\": {\"waiting\": %lld, \"peak\": %lld, \"after\": %lld}, "
	       "\"ecdsa_p256\": {\"waiting\": %lld, \"peak\": %lld, \"after\": %lld}, "
	       "\"resumed\": {\"waiting\": %lld, \"peak\": %lld, \"after\": %lld}},\n",
	       rsa.memory.waiting, rsa.memory.peak, rsa.memory.after, ecdsa.memory.waiting, ecdsa.memory.peak,
	       ecdsa.memory.after, resumed.memory.waiting, resumed.memory.peak, resumed.memory.after);
	printf("  \"session_bytes\": %zu\n", sizeof(struct tls_session));
	printf("}\n");
	munmap((void *)(uintptr_t)mapped, SOURCE_SIZE);
	for (int e = 0; e < 2; e++)
		tls_aead_worker_free(workers[e]);
	return 0;
}
