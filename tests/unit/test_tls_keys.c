/* SPDX-License-Identifier: BSD-3-Clause
 *
 * test_tls_keys.c: key derivation (dataplane/tls/tls_keys.c) against RFC 8448's traces,
 * known-answer records of RFC 8448 through the record layer on both engines, and the
 * ticket key ring (tls_ticket.c): a table of rotation steps and a threaded run under ASan (readers use
 * tables while the control thread replaces them; a read after free would fault).
 * The TLS 1.2 key block and KeyUpdate are checked against OpenSSL in test_tls_session.c.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "test_main.h"
#include "tls_keys.h"
#include "tls_ticket.h"
#include "tls_test_util.h"

/* RFC 8448 section 3 (Simple 1-RTT Handshake), TLS_AES_128_GCM_SHA256. */
static const char rfc8448_server_secret[] = "a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643";
static const char rfc8448_client_secret[] = "9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5";

struct traffic_case {
	const char *description;
	const char *secret, *key, *iv;
};

static const struct traffic_case traffic_cases[] = {
	{"server application traffic", rfc8448_server_secret, "9f02283b6c9c07efc26bb9f2ac92e356",
	 "cf782b88dd83549aadf1e984"},
	{"client application traffic", rfc8448_client_secret, "17422dda596ed5d9acd890e3c63f5051",
	 "5b78923dee08579033e523d9"},
	{NULL, NULL, NULL, NULL},
};

static void test_traffic_keys(void)
{
	for (const struct traffic_case *c = traffic_cases; c->description; c++) {
		uint8_t secret[32], key[16], iv[12];
		struct tls_record_key traffic;

		test_hex_decode(c->secret, secret, sizeof(secret));
		test_hex_decode(c->key, key, sizeof(key));
		test_hex_decode(c->iv, iv, sizeof(iv));
		CU_ASSERT_EQUAL(tls_keys_traffic_key_13(TLS_AEAD_AES_128_GCM, TLS_HASH_SHA256, secret, &traffic), 0);
		TEST_CHECK(memcmp(traffic.key.bytes, key, 16) == 0 && memcmp(traffic.iv, iv, 12) == 0 &&
				   traffic.key.cipher == TLS_AEAD_AES_128_GCM,
			   "%s: key or iv differs from RFC 8448", c->description);
	}
}

/* RFC 8448 section 3: the 50-byte application data records (bytes 00..31). */
struct record_case {
	const char *description;
	const char *secret;
	uint64_t sequence;
	const char *record;
};

static const struct record_case record_cases[] = {
	{"server record 1", rfc8448_server_secret, 1,
	 "17030300432e937e11ef4ac740e538ad36005fc4a46932fc3225d05f82aa1b36e30efaf97d90e6dffc602dcb"
	 "501a59a8fcc49c4bf2e5f0a21c0047c2abf332540dd032e167c2955d"},
	{"client record 0", rfc8448_client_secret, 0,
	 "1703030043a23f7054b62c94d0affafe8228ba55cbefacea42f914aa66bcab3f2b9819a8a5b46b395bd54a9a"
	 "20441e2b62974e1f5a6292a2977014bd1e3deae63aeebb21694915e4"},
	{NULL, NULL, 0, NULL},
};

static void test_rfc8448_records(void)
{
	for (const struct record_case *c = record_cases; c->description; c++)
		for (int e = 0; e < 2; e++) {
			struct tls_aead_worker *worker;
			struct tls_record_key traffic;
			struct tls_aead_schedule schedule;
			struct tls_record_protection protection = {TLS_VERSION_1_3, &traffic, &schedule};
			struct tls_record_read_result result;
			uint8_t secret[32], expected[128], out[128], plaintext[64], opened[128];
			size_t length = test_hex_decode(c->record, expected, sizeof(expected));
			struct iovec iov = {out, length}, in = {expected, length};
			struct tls_iov_cursor cursor;
			uint64_t sequence = c->sequence;

			CU_ASSERT_EQUAL_FATAL(tls_aead_worker_create(tls_aead_engines[e], &worker), 0);
			for (int i = 0; i < 50; i++)
				plaintext[i] = (uint8_t)i;
			test_hex_decode(c->secret, secret, sizeof(secret));
			CU_ASSERT_EQUAL(tls_keys_traffic_key_13(TLS_AEAD_AES_128_GCM, TLS_HASH_SHA256, secret, &traffic), 0);
			CU_ASSERT_EQUAL(tls_aead_schedule(worker, &traffic.key, &schedule), 0);
			CU_ASSERT_EQUAL(length, 50 + 22);
			tls_iov_cursor_init(&cursor, &iov, 1);
			CU_ASSERT_EQUAL(tls_record_seal(worker, &protection, c->sequence, 23, plaintext, 50, &cursor), 0);
			TEST_CHECK(memcmp(out, expected, length) == 0, "%s (%s): sealed record differs from RFC 8448",
				   c->description, tls_aead_engines[e]->name);
			TEST_CHECK(tls_record_read(worker, &protection, &sequence, &in, 1, opened, sizeof(opened), &result) == 1 &&
					   result.plaintext_length == 50 && memcmp(opened, plaintext, 50) == 0,
				   "%s (%s): RFC 8448 record does not open", c->description, tls_aead_engines[e]->name);
			tls_aead_worker_free(worker);
		}
}

static void test_derivation_arguments(void)
{
	uint8_t secret[48] = {1}, copy[48], out[64], expected[48];
	struct tls_record_key client, server;
	uint8_t randoms[64] = {0};

	memcpy(copy, secret, sizeof(copy));
	CU_ASSERT_EQUAL(tls_keys_next_secret_13(TLS_HASH_SHA384, copy), 0);
	CU_ASSERT_EQUAL(tls_keys_expand_label(TLS_HASH_SHA384, secret, "traffic upd", NULL, 0, expected, 48), 0);
	CU_ASSERT_EQUAL(memcmp(copy, expected, 48), 0);
	CU_ASSERT_NOT_EQUAL(memcmp(copy, secret, 48), 0);
	CU_ASSERT_EQUAL(tls_keys_expand_label((enum tls_hash)20, secret, "key", NULL, 0, out, 16), -EINVAL);
	CU_ASSERT_EQUAL(tls_keys_traffic_key_13((enum tls_aead_cipher)9, TLS_HASH_SHA256, secret, &client), -EINVAL);
	CU_ASSERT_EQUAL(tls_keys_block_12((enum tls_aead_cipher)9, TLS_HASH_SHA256, secret, randoms, randoms + 32, &client,
					  &server), -EINVAL);
	CU_ASSERT_EQUAL(tls_keys_block_12(TLS_AEAD_AES_256_GCM, TLS_HASH_SHA384, secret, randoms, randoms + 32, &client,
					  &server), 0);
	CU_ASSERT_EQUAL(client.key.cipher, TLS_AEAD_AES_256_GCM);
	CU_ASSERT_NOT_EQUAL(memcmp(client.key.bytes, server.key.bytes, 32), 0);
	CU_ASSERT_EQUAL(client.iv[4], 0);
}

static void make_keys(struct tls_ticket_keys *keys, unsigned count, uint8_t tag)
{
	memset(keys, 0, sizeof(*keys));
	keys->count = count;
	for (unsigned i = 0; i < count; i++) {
		memset(keys->keys[i].name, tag + i, sizeof(keys->keys[i].name));
		memset(keys->keys[i].aes_key, tag + i, sizeof(keys->keys[i].aes_key));
		memset(keys->keys[i].hmac_key, tag + i, sizeof(keys->keys[i].hmac_key));
	}
}

static void test_keyring_steps(void)
{
	struct tls_ticket_keyring *ring;
	struct tls_ticket_keys keys;
	const struct tls_ticket_keys *seen;

	make_keys(&keys, 1, 10);
	CU_ASSERT_EQUAL(tls_ticket_keyring_create(0, &keys, &ring), -EINVAL);
	keys.count = 0;
	CU_ASSERT_EQUAL(tls_ticket_keyring_create(2, &keys, &ring), -EINVAL);
	make_keys(&keys, 1, 10);
	CU_ASSERT_EQUAL_FATAL(tls_ticket_keyring_create(2, &keys, &ring), 0);
	seen = tls_ticket_keyring_read(ring);
	CU_ASSERT_EQUAL(seen->count, 1);
	CU_ASSERT_EQUAL(seen->keys[0].name[0], 10);

	/* Both readers quiescent: the replace completes at once. */
	tls_ticket_keyring_quiescent(ring, 0);
	tls_ticket_keyring_quiescent(ring, 1);
	make_keys(&keys, 2, 20);
	/* Reader 1 is behind: the old table is parked (-ETIMEDOUT), the new one is visible. */
	CU_ASSERT_EQUAL(tls_ticket_keyring_replace(ring, &keys, 5), -ETIMEDOUT);
	seen = tls_ticket_keyring_read(ring);
	CU_ASSERT_EQUAL(seen->count, 2);
	CU_ASSERT_EQUAL(seen->keys[1].name[0], 21);
	/* A parked table still in use blocks the next rotation. */
	make_keys(&keys, 3, 30);
	CU_ASSERT_EQUAL(tls_ticket_keyring_replace(ring, &keys, 5), -EBUSY);
	CU_ASSERT_EQUAL(tls_ticket_keyring_read(ring)->count, 2);
	/* Reader 0 passes a quiescent state, reader 1 goes offline: rotations complete. */
	tls_ticket_keyring_quiescent(ring, 0);
	tls_ticket_keyring_offline(ring, 1);
	CU_ASSERT_EQUAL(tls_ticket_keyring_replace(ring, &keys, 5), -ETIMEDOUT); /* reader 0 saw the old generation */
	tls_ticket_keyring_quiescent(ring, 0);
	make_keys(&keys, 4, 40);
	CU_ASSERT_EQUAL(tls_ticket_keyring_replace(ring, &keys, 5), -ETIMEDOUT);
	tls_ticket_keyring_quiescent(ring, 0);
	tls_ticket_keyring_online(ring, 1);
	make_keys(&keys, 1, 50);
	CU_ASSERT_EQUAL(tls_ticket_keyring_replace(ring, &keys, 5), -ETIMEDOUT); /* the new table's wait */
	tls_ticket_keyring_quiescent(ring, 0);
	tls_ticket_keyring_quiescent(ring, 1);
	make_keys(&keys, 2, 60);
	CU_ASSERT_EQUAL(tls_ticket_keyring_replace(ring, &keys, 1000), -ETIMEDOUT);
	tls_ticket_keyring_quiescent(ring, 0);
	tls_ticket_keyring_quiescent(ring, 1);
	make_keys(&keys, 2, 70);
	/* Parked table reclaimed; the new wait times out again only because nobody polls. */
	CU_ASSERT_EQUAL(tls_ticket_keyring_replace(ring, &keys, 5), -ETIMEDOUT);
	keys.count = TLS_TICKET_KEYS_MAX + 1;
	CU_ASSERT_EQUAL(tls_ticket_keyring_replace(ring, &keys, 5), -EINVAL);
	tls_ticket_keyring_free(ring);
	tls_ticket_keyring_free(NULL);
	{
		struct tls_ticket_key a, b;

		CU_ASSERT_EQUAL(tls_ticket_key_generate(&a), 0);
		CU_ASSERT_EQUAL(tls_ticket_key_generate(&b), 0);
		CU_ASSERT_NOT_EQUAL(memcmp(&a, &b, sizeof(a)), 0);
	}
}

/* Threaded: readers check every table they read is whole while the writer rotates. */
struct reader_arguments {
	struct tls_ticket_keyring *ring;
	unsigned id;
	atomic_bool *stop;
	unsigned long reads, torn;
};

static void *reader_main(void *argument)
{
	struct reader_arguments *a = argument;

	while (!atomic_load(a->stop)) {
		for (int i = 0; i < 64; i++) {
			const struct tls_ticket_keys *keys = tls_ticket_keyring_read(a->ring);

			for (unsigned k = 0; k < keys->count; k++)
				if (keys->keys[k].aes_key[31] != keys->keys[k].name[0] ||
				    keys->keys[k].hmac_key[0] != keys->keys[k].name[15])
					a->torn++;
			a->reads++;
		}
		tls_ticket_keyring_quiescent(a->ring, a->id);
	}
	tls_ticket_keyring_offline(a->ring, a->id);
	return NULL;
}

static void test_keyring_threads(void)
{
	struct tls_ticket_keyring *ring;
	struct tls_ticket_keys keys;
	atomic_bool stop = false;
	struct reader_arguments readers[2];
	pthread_t threads[2];
	int completed = 0;

	make_keys(&keys, 2, 1);
	CU_ASSERT_EQUAL_FATAL(tls_ticket_keyring_create(2, &keys, &ring), 0);
	for (unsigned i = 0; i < 2; i++) {
		readers[i] = (struct reader_arguments){ring, i, &stop, 0, 0};
		CU_ASSERT_EQUAL_FATAL(pthread_create(&threads[i], NULL, reader_main, &readers[i]), 0);
	}
	for (int round = 0; round < 300; round++) {
		make_keys(&keys, 1 + (unsigned)round % TLS_TICKET_KEYS_MAX, (uint8_t)(round * 5));
		if (tls_ticket_keyring_replace(ring, &keys, 2000) == 0)
			completed++;
	}
	atomic_store(&stop, true);
	for (int i = 0; i < 2; i++)
		pthread_join(threads[i], NULL);
	TEST_CHECK(completed == 300, "%d of 300 rotations completed", completed);
	for (int i = 0; i < 2; i++)
		TEST_CHECK(readers[i].torn == 0 && readers[i].reads > 0, "reader %d: %lu reads, %lu torn", i,
			   readers[i].reads, readers[i].torn);
	tls_ticket_keyring_free(ring);
}

void test_register(void)
{
	static const struct test_case cases[] = {
		{"TLS 1.3 traffic keys (RFC 8448)", test_traffic_keys},
		{"TLS 1.3 records (RFC 8448), both engines", test_rfc8448_records},
		{"derivation arguments, traffic upd, TLS 1.2 key block", test_derivation_arguments},
		{"ticket key ring: rotation steps", test_keyring_steps},
		{"ticket key ring: readers and writer in threads", test_keyring_threads},
		{NULL, NULL},
	};
	test_add_suite("tls_keys", cases);
}
