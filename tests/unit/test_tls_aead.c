/* SPDX-License-Identifier: BSD-3-Clause
 *
 * test_tls_aead.c: the AES-GCM engines (dataplane/tls/tls_aead.c): the GCM specification's
 * test vectors on both engines, both engines agreeing on random messages cut into random
 * scatter lists on both sides, discarded prefixes, counter ranges at every alignment,
 * in-place opening, tampering, and no OpenSSL allocation per record.
 */
#include <errno.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "test_main.h"
#include "tls_aead.h"
#include "tls_test_util.h"

/* The test cases of "The Galois/Counter Mode of Operation (GCM)", McGrew and Viega. */
struct gcm_vector {
	const char *description;
	enum tls_aead_cipher cipher;
	const char *key, *nonce, *aad, *plaintext, *ciphertext, *tag;
};

static const struct gcm_vector gcm_vectors[] = {
	{"test case 1 (128, empty)", TLS_AEAD_AES_128_GCM, "00000000000000000000000000000000",
	 "000000000000000000000000", "", "", "", "58e2fccefa7e3061367f1d57a4e7455a"},
	{"test case 2 (128, one block)", TLS_AEAD_AES_128_GCM, "00000000000000000000000000000000",
	 "000000000000000000000000", "", "00000000000000000000000000000000",
	 "0388dace60b6a392f328c2b971b2fe78", "ab6e47d42cec13bdf53a67b21257bddf"},
	{"test case 4 (128, aad, partial block)", TLS_AEAD_AES_128_GCM, "feffe9928665731c6d6a8f9467308308",
	 "cafebabefacedbaddecaf888", "feedfacedeadbeeffeedfacedeadbeefabaddad2",
	 "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525"
	 "b16aedf5aa0de657ba637b39",
	 "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa05"
	 "1ba30b396a0aac973d58e091",
	 "5bc94fbc3221a5db94fae95ae7121a47"},
	{"test case 13 (256, empty)", TLS_AEAD_AES_256_GCM,
	 "0000000000000000000000000000000000000000000000000000000000000000", "000000000000000000000000", "",
	 "", "", "530f8afbc74536b9a963b4f1c4cb738b"},
	{"test case 14 (256, one block)", TLS_AEAD_AES_256_GCM,
	 "0000000000000000000000000000000000000000000000000000000000000000", "000000000000000000000000", "",
	 "00000000000000000000000000000000", "cea7403d4d606b6e074ec5d3baf39d18",
	 "d0d1c8a799996bf0265b98b5d48ab919"},
	{"test case 16 (256, aad, partial block)", TLS_AEAD_AES_256_GCM,
	 "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888",
	 "feedfacedeadbeeffeedfacedeadbeefabaddad2",
	 "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525"
	 "b16aedf5aa0de657ba637b39",
	 "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838"
	 "c5f61e6393ba7a0abcc9f662",
	 "76fc6ece0f4e1768cddf8853bb2d551b"},
	{NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL},
};

static struct tls_aead_worker *workers[2]; /* one per engine, in tls_aead_engines order */

static void create_workers(void)
{
	for (int e = 0; e < 2; e++) {
		if (workers[e])
			continue;
		CU_ASSERT_EQUAL_FATAL(tls_aead_worker_create(tls_aead_engines[e], &workers[e]), 0);
	}
}

static void test_engine_table(void)
{
	static const struct {
		const char *name;
		bool found;
	} rows[] = {
		{"ipsec-mb", true}, {"openssl", true}, {"aesni", false}, {"", false}, {NULL, false},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct tls_aead_engine *e = tls_aead_engine_find(rows[i].name);

		TEST_CHECK((e != NULL) == rows[i].found, "engine '%s'", rows[i].name ? rows[i].name : "(null)");
		if (e)
			TEST_CHECK(strcmp(e->name, rows[i].name) == 0, "engine '%s' name", rows[i].name);
	}
	create_workers();
	for (int e = 0; e < 2; e++)
		TEST_CHECK(strstr(tls_aead_worker_describe(workers[e]), tls_aead_engines[e]->name) != NULL,
			   "describe %s", tls_aead_worker_describe(workers[e]));
	CU_ASSERT_EQUAL(tls_aead_key_length(TLS_AEAD_AES_128_GCM), 16);
	CU_ASSERT_EQUAL(tls_aead_key_length(TLS_AEAD_AES_256_GCM), 32);
	CU_ASSERT_EQUAL(tls_aead_key_length((enum tls_aead_cipher)7), 0);
	{
		struct tls_aead_worker *none = (struct tls_aead_worker *)1;

		CU_ASSERT_EQUAL(tls_aead_worker_create(NULL, &none), -EINVAL);
		CU_ASSERT_PTR_NULL(none);
	}
	tls_aead_worker_free(NULL);
}

static void test_gcm_vectors(void)
{
	create_workers();
	for (const struct gcm_vector *v = gcm_vectors; v->description; v++) {
		for (int e = 0; e < 2; e++) {
			struct tls_aead_key key = {.cipher = (uint8_t)v->cipher};
			struct tls_aead_schedule schedule;
			uint8_t nonce[12], aad[64], plaintext[128], expected[128], tag_expected[16];
			uint8_t out[128], back[128], tag[16];
			size_t aad_length = test_hex_decode(v->aad, aad, sizeof(aad));
			size_t length = test_hex_decode(v->plaintext, plaintext, sizeof(plaintext));
			struct iovec in_iov = {plaintext, length}, out_iov = {out, length};
			struct iovec cipher_iov = {out, length}, back_iov = {back, length};

			test_hex_decode(v->key, key.bytes, sizeof(key.bytes));
			test_hex_decode(v->nonce, nonce, sizeof(nonce));
			CU_ASSERT_EQUAL(test_hex_decode(v->ciphertext, expected, sizeof(expected)), length);
			test_hex_decode(v->tag, tag_expected, sizeof(tag_expected));
			CU_ASSERT_EQUAL_FATAL(tls_aead_schedule(workers[e], &key, &schedule), 0);
			TEST_CHECK(tls_aead_seal(workers[e], v->cipher, &schedule, nonce, aad, aad_length, &in_iov, 1,
						 &out_iov, 1, tag) == 0,
				   "%s/%s: seal", v->description, tls_aead_engines[e]->name);
			TEST_CHECK(memcmp(out, expected, length) == 0 && memcmp(tag, tag_expected, 16) == 0,
				   "%s/%s: ciphertext or tag differs", v->description, tls_aead_engines[e]->name);
			TEST_CHECK(tls_aead_open(workers[e], v->cipher, &schedule, nonce, aad, aad_length, &cipher_iov,
						 1, &back_iov, 1, tag) == 0 &&
					   memcmp(back, plaintext, length) == 0,
				   "%s/%s: open", v->description, tls_aead_engines[e]->name);
			tag[15] ^= 1;
			TEST_CHECK(tls_aead_open(workers[e], v->cipher, &schedule, nonce, aad, aad_length, &cipher_iov,
						 1, &back_iov, 1, tag) == -EBADMSG,
				   "%s/%s: bad tag accepted", v->description, tls_aead_engines[e]->name);
			for (size_t i = 0; i < length; i++)
				TEST_CHECK(back[i] == 0, "%s/%s: output not wiped after failure", v->description,
					   tls_aead_engines[e]->name);
			if (aad_length) {
				tag[15] ^= 1;
				aad[0] ^= 0x80;
				TEST_CHECK(tls_aead_open(workers[e], v->cipher, &schedule, nonce, aad, aad_length,
							 &cipher_iov, 1, &back_iov, 1, tag) == -EBADMSG,
					   "%s/%s: changed aad accepted", v->description, tls_aead_engines[e]->name);
			}
		}
	}
}

/* Cuts [0, length) of `bytes` into at most `max` random pieces (some empty). */
static unsigned random_iov(struct test_random *random, uint8_t *bytes, size_t length, struct iovec *iov,
			   unsigned max)
{
	unsigned n = 0;

	while (length && n < max - 1) {
		size_t piece = test_random_below(random, 4) == 0 ? 0 : test_random_below(random, length + 1);

		if (test_random_below(random, 3) == 0) {
			size_t small = test_random_below(random, 40);

			piece = SLUICE_TEST_MIN(piece, small);
		}
		iov[n].iov_base = bytes;
		iov[n].iov_len = piece;
		bytes += piece;
		length -= piece;
		n++;
	}
	iov[n].iov_base = bytes;
	iov[n].iov_len = length;
	return n + 1;
}

enum { RANDOM_MAX = 20000 };

static void test_engines_agree_on_scatter_lists(void)
{
	static uint8_t plaintext[RANDOM_MAX], flat[RANDOM_MAX], scattered[RANDOM_MAX], back[RANDOM_MAX];
	struct test_random random;

	test_random_seed(&random, 0xae5);
	create_workers();
	for (int round = 0; round < 300; round++) {
		enum tls_aead_cipher cipher = round % 2 ? TLS_AEAD_AES_256_GCM : TLS_AEAD_AES_128_GCM;
		struct tls_aead_key key = {.cipher = (uint8_t)cipher};
		struct tls_aead_schedule schedules[2];
		uint8_t nonce[12], aad[13], tag_flat[16], tag[16];
		size_t length = round < 40 ? (size_t)round : test_random_below(&random, RANDOM_MAX + 1);
		struct iovec in_iov[24], out_iov[24], flat_iov = {flat, length}, plain_iov = {plaintext, length};
		unsigned in_count, out_count;
		int first = round % 2, second = 1 - first;

		test_random_bytes(&random, key.bytes, sizeof(key.bytes));
		test_random_bytes(&random, nonce, sizeof(nonce));
		test_random_bytes(&random, aad, sizeof(aad));
		test_random_bytes(&random, plaintext, length);
		for (int e = 0; e < 2; e++)
			CU_ASSERT_EQUAL_FATAL(tls_aead_schedule(workers[e], &key, &schedules[e]), 0);
		CU_ASSERT_EQUAL_FATAL(tls_aead_seal(workers[first], cipher, &schedules[first], nonce, aad, sizeof(aad),
						    &plain_iov, 1, &flat_iov, 1, tag_flat), 0);
		in_count = random_iov(&random, plaintext, length, in_iov, 24);
		out_count = random_iov(&random, scattered, length, out_iov, 24);
		CU_ASSERT_EQUAL_FATAL(tls_aead_seal(workers[second], cipher, &schedules[second], nonce, aad, sizeof(aad),
						    in_iov, in_count, out_iov, out_count, tag), 0);
		TEST_CHECK(memcmp(flat, scattered, length) == 0 && memcmp(tag, tag_flat, 16) == 0,
			   "round %d length %zu: engines or segmentations disagree", round, length);

		/* Open in place on a scatter list of the ciphertext. */
		memcpy(back, flat, length);
		in_count = random_iov(&random, back, length, in_iov, 24);
		TEST_CHECK(tls_aead_open(workers[first], cipher, &schedules[first], nonce, aad, sizeof(aad), in_iov,
					 in_count, in_iov, in_count, tag) == 0 &&
				   memcmp(back, plaintext, length) == 0,
			   "round %d: in-place open", round);
		if (length) {
			size_t bit = test_random_below(&random, length * 8);

			memcpy(back, flat, length);
			back[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			TEST_CHECK(tls_aead_open(workers[second], cipher, &schedules[second], nonce, aad, sizeof(aad),
						 in_iov, in_count, in_iov, in_count, tag) == -EBADMSG,
				   "round %d: flipped bit %zu accepted", round, bit);
		}
		/* Mismatched lengths are refused. */
		if (length) {
			struct iovec short_iov = {scattered, length - 1};

			CU_ASSERT_EQUAL(tls_aead_seal(workers[first], cipher, &schedules[first], nonce, aad, sizeof(aad),
						      &plain_iov, 1, &short_iov, 1, tag), -EINVAL);
		}
	}
}

static void test_discarded_prefix(void)
{
	static uint8_t plaintext[RANDOM_MAX], flat[RANDOM_MAX], part[RANDOM_MAX];
	struct test_random random;

	test_random_seed(&random, 0xd15c);
	create_workers();
	for (int round = 0; round < 200; round++) {
		int e = round % 2;
		enum tls_aead_cipher cipher = round % 4 < 2 ? TLS_AEAD_AES_128_GCM : TLS_AEAD_AES_256_GCM;
		struct tls_aead_key key = {.cipher = (uint8_t)cipher};
		struct tls_aead_schedule schedule;
		uint8_t nonce[12], aad[5] = {23, 3, 3, 0, 0}, tag_flat[16], tag[16];
		size_t length = 1 + test_random_below(&random, RANDOM_MAX);
		size_t skip = test_random_below(&random, length + 1);
		struct iovec plain_iov = {plaintext, length}, flat_iov = {flat, length}, out_iov[16];
		struct tls_iov_cursor cursor;
		unsigned out_count;

		test_random_bytes(&random, key.bytes, sizeof(key.bytes));
		test_random_bytes(&random, nonce, sizeof(nonce));
		test_random_bytes(&random, plaintext, length);
		CU_ASSERT_EQUAL_FATAL(tls_aead_schedule(workers[e], &key, &schedule), 0);
		CU_ASSERT_EQUAL_FATAL(tls_aead_seal(workers[e], cipher, &schedule, nonce, aad, sizeof(aad), &plain_iov,
						    1, &flat_iov, 1, tag_flat), 0);
		out_count = random_iov(&random, part, length - skip, out_iov, 16);
		tls_iov_cursor_init(&cursor, out_iov, out_count);
		CU_ASSERT_EQUAL(tls_aead_begin(workers[e], cipher, &schedule, nonce, aad, sizeof(aad), true), 0);
		CU_ASSERT_EQUAL(tls_aead_update(workers[e], NULL, plaintext, skip), 0);
		CU_ASSERT_EQUAL(tls_aead_update(workers[e], &cursor, plaintext + skip, length - skip), 0);
		CU_ASSERT_EQUAL(tls_aead_finish(workers[e], tag), 0);
		TEST_CHECK(memcmp(part, flat + skip, length - skip) == 0 && memcmp(tag, tag_flat, 16) == 0,
			   "round %d: length %zu skip %zu", round, length, skip);
		CU_ASSERT_EQUAL(tls_aead_verify(workers[e], tag), -EINVAL); /* verify after a seal */
	}
}

static void test_keystream_ranges(void)
{
	static uint8_t plaintext[RANDOM_MAX], flat[RANDOM_MAX], part[RANDOM_MAX];
	struct test_random random;

	test_random_seed(&random, 0xc7);
	create_workers();
	for (int round = 0; round < 400; round++) {
		int e = round % 2;
		enum tls_aead_cipher cipher = round % 4 < 2 ? TLS_AEAD_AES_128_GCM : TLS_AEAD_AES_256_GCM;
		struct tls_aead_key key = {.cipher = (uint8_t)cipher};
		struct tls_aead_schedule schedule;
		uint8_t nonce[12], tag[16];
		size_t length = 1 + test_random_below(&random, RANDOM_MAX);
		/* Early rounds walk every alignment of start and end within the first blocks. */
		size_t from = round < 64 ? (size_t)round % 33 : test_random_below(&random, length);
		size_t to = round < 64 ? from + (size_t)round / 2 : from + test_random_below(&random, length - from + 1);
		struct iovec plain_iov, flat_iov, out_iov[16];
		struct tls_iov_cursor cursor;
		unsigned out_count;

		if (to > length)
			length = to;
		plain_iov = (struct iovec){plaintext, length};
		flat_iov = (struct iovec){flat, length};
		test_random_bytes(&random, key.bytes, sizeof(key.bytes));
		test_random_bytes(&random, nonce, sizeof(nonce));
		test_random_bytes(&random, plaintext, length);
		CU_ASSERT_EQUAL_FATAL(tls_aead_schedule(workers[e], &key, &schedule), 0);
		CU_ASSERT_EQUAL_FATAL(tls_aead_seal(workers[e], cipher, &schedule, nonce, NULL, 0, &plain_iov, 1,
						    &flat_iov, 1, tag), 0);
		out_count = random_iov(&random, part, to - from, out_iov, 16);
		tls_iov_cursor_init(&cursor, out_iov, out_count);
		CU_ASSERT_EQUAL(tls_aead_keystream_xor(workers[e], cipher, &schedule, nonce, from, &cursor,
						       plaintext + from, to - from), 0);
		TEST_CHECK(memcmp(part, flat + from, to - from) == 0, "round %d %s: [%zu, %zu) of %zu", round,
			   tls_aead_engines[e]->name, from, to, length);
	}
}

static void test_tag_compare(void)
{
	static const struct {
		const char *description;
		int flip_byte; /* -1: equal */
	} rows[] = {
		{"equal", -1}, {"first byte", 0}, {"middle byte", 7}, {"last byte", 15},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint8_t a[16], b[16];

		for (int j = 0; j < 16; j++)
			a[j] = b[j] = (uint8_t)(j * 37);
		if (rows[i].flip_byte >= 0)
			b[rows[i].flip_byte] ^= 0x10;
		TEST_CHECK(tls_aead_tag_equal(a, b) == (rows[i].flip_byte < 0), "%s", rows[i].description);
	}
}

static void test_cursors(void)
{
	uint8_t a[3], b[5], c[2], out[10];
	struct iovec iov[4] = {{a, 3}, {NULL, 0}, {b, 5}, {c, 2}};
	struct tls_iov_cursor cursor;

	tls_iov_cursor_init(&cursor, iov, 4);
	CU_ASSERT_EQUAL(tls_iov_cursor_remaining(&cursor), 10);
	CU_ASSERT_EQUAL(tls_iov_cursor_write(&cursor, "0123", 4), 0);
	CU_ASSERT_EQUAL(tls_iov_cursor_remaining(&cursor), 6);
	CU_ASSERT_EQUAL(tls_iov_cursor_write(&cursor, "456789", 6), 0);
	CU_ASSERT_EQUAL(tls_iov_cursor_write(&cursor, "x", 1), -ENOSPC);
	tls_iov_cursor_init(&cursor, iov, 4);
	CU_ASSERT_EQUAL(tls_iov_cursor_skip(&cursor, 2), 0);
	CU_ASSERT_EQUAL(tls_iov_cursor_read(&cursor, out, 8), 0);
	CU_ASSERT_EQUAL(memcmp(out, "23456789", 8), 0);
	CU_ASSERT_EQUAL(tls_iov_cursor_read(&cursor, out, 1), -ENODATA);
	CU_ASSERT_EQUAL(tls_iov_cursor_skip(&cursor, 1), -ENODATA);
}

/* Counts OpenSSL's allocations: sealing and opening records must make none. */
static unsigned long openssl_allocations;

static void *counting_malloc(size_t n, const char *file, int line)
{
	(void)file, (void)line;
	openssl_allocations++;
	return malloc(n);
}

static void *counting_realloc(void *p, size_t n, const char *file, int line)
{
	(void)file, (void)line;
	openssl_allocations++;
	return realloc(p, n);
}

static void counting_free(void *p, const char *file, int line)
{
	(void)file, (void)line;
	free(p);
}

static void test_no_allocation_per_record(void)
{
	static uint8_t buffer[16384 + 64];
	struct tls_aead_schedule schedule;
	uint8_t nonce[12] = {0}, tag[16];

	create_workers();
	for (int e = 0; e < 2; e++) {
		for (int c = 0; c < 2; c++) {
			enum tls_aead_cipher cipher = c ? TLS_AEAD_AES_256_GCM : TLS_AEAD_AES_128_GCM;
			struct tls_aead_key key = {.cipher = (uint8_t)cipher};
			struct iovec iov = {buffer, sizeof(buffer)};
			struct tls_iov_cursor cursor;
			unsigned long before;

			CU_ASSERT_EQUAL(tls_aead_schedule(workers[e], &key, &schedule), 0);
			before = openssl_allocations;
			for (int i = 0; i < 50; i++) {
				nonce[11] = (uint8_t)i;
				CU_ASSERT_EQUAL(tls_aead_seal(workers[e], cipher, &schedule, nonce, nonce, 5, &iov, 1, &iov,
							      1, tag), 0);
				CU_ASSERT_EQUAL(tls_aead_open(workers[e], cipher, &schedule, nonce, nonce, 5, &iov, 1, &iov,
							      1, tag), 0);
				tls_iov_cursor_init(&cursor, &iov, 1);
				CU_ASSERT_EQUAL(tls_aead_keystream_xor(workers[e], cipher, &schedule, nonce, 100, &cursor,
								       buffer, 1000), 0);
			}
			TEST_CHECK(openssl_allocations == before, "%s: %lu OpenSSL allocations per 50 records",
				   tls_aead_engines[e]->name, openssl_allocations - before);
		}
	}
}

static void test_cleanup(void)
{
	for (int e = 0; e < 2; e++) {
		tls_aead_worker_free(workers[e]);
		workers[e] = NULL;
	}
}

void test_register(void)
{
	static const struct test_case cases[] = {
		{"engine table", test_engine_table},
		{"GCM specification vectors, both engines", test_gcm_vectors},
		{"engines agree on random scatter lists", test_engines_agree_on_scatter_lists},
		{"discarded prefix keeps the tag", test_discarded_prefix},
		{"counter ranges equal slices of the seal", test_keystream_ranges},
		{"constant-time tag compare", test_tag_compare},
		{"scatter-list cursors", test_cursors},
		{"no OpenSSL allocation per record", test_no_allocation_per_record},
		{"free workers", test_cleanup},
		{NULL, NULL},
	};
	CRYPTO_set_mem_functions(counting_malloc, counting_realloc, counting_free);
	test_add_suite("tls_aead", cases);
}
