/* SPDX-License-Identifier: BSD-3-Clause
 *
 * test_tls_record.c: the record layer (dataplane/tls/tls_record.c). Every byte range of a
 * record equals the slice of the whole record, re-sealing is byte-identical, and the reader
 * is run over a table of good and bad records, at every truncation point on a buffer that
 * ends at a guard page, with headers split across segments, in place and into a buffer.
 * Interoperability with OpenSSL's own record layer is tested in test_tls_session.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "test_main.h"
#include "tls_record.h"
#include "tls_test_util.h"

static struct tls_aead_worker *workers[2];

struct protection_set {
	struct tls_record_key key;
	struct tls_aead_schedule schedule;
	struct tls_record_protection protection;
};

static void create_workers(void)
{
	for (int e = 0; e < 2; e++)
		if (!workers[e])
			CU_ASSERT_EQUAL_FATAL(tls_aead_worker_create(tls_aead_engines[e], &workers[e]), 0);
}

static void protection_make(struct protection_set *p, int engine, uint16_t version, enum tls_aead_cipher cipher,
			    uint64_t seed)
{
	struct test_random random;

	test_random_seed(&random, seed);
	memset(&p->key, 0, sizeof(p->key));
	p->key.key.cipher = (uint8_t)cipher;
	test_random_bytes(&random, p->key.key.bytes, tls_aead_key_length(cipher));
	test_random_bytes(&random, p->key.iv, version == TLS_VERSION_1_3 ? 12 : 4);
	CU_ASSERT_EQUAL_FATAL(tls_aead_schedule(workers[engine], &p->key.key, &p->schedule), 0);
	p->protection = (struct tls_record_protection){.version = version, .key = &p->key, .schedule = &p->schedule};
}

static int seal_flat(int engine, const struct protection_set *p, uint64_t sequence, uint8_t type,
		     const uint8_t *plaintext, size_t length, uint8_t *out)
{
	struct iovec iov = {out, tls_record_wire_length(p->protection.version, length)};
	struct tls_iov_cursor cursor;

	tls_iov_cursor_init(&cursor, &iov, 1);
	return tls_record_seal(workers[engine], &p->protection, sequence, type, plaintext, length, &cursor);
}

static const size_t record_sizes[] = {0, 1, 2, 15, 16, 17, 31, 100, 1399, 1400, 1401, 4097, 16383, 16384};

static void test_record_ranges(void)
{
	static uint8_t plaintext[TLS_RECORD_PLAINTEXT_MAX], full[TLS_RECORD_WIRE_MAX], again[TLS_RECORD_WIRE_MAX],
		part[TLS_RECORD_WIRE_MAX];
	struct test_random random;

	create_workers();
	test_random_seed(&random, 0x2ec);
	test_random_bytes(&random, plaintext, sizeof(plaintext));
	for (int e = 0; e < 2; e++)
		for (int v = 0; v < 2; v++)
			for (int c = 0; c < 2; c++)
				for (size_t s = 0; s < sizeof(record_sizes) / sizeof(record_sizes[0]); s++) {
					uint16_t version = v ? TLS_VERSION_1_3 : TLS_VERSION_1_2;
					struct protection_set p;
					size_t length = record_sizes[s], wire = tls_record_wire_length(version, length);
					uint64_t sequence = test_random_next(&random) >> (s % 64);
					struct tls_record_source source;
					struct tls_record_source_iovec list;
					struct iovec source_iov[3];

					protection_make(&p, e, version, c ? TLS_AEAD_AES_256_GCM : TLS_AEAD_AES_128_GCM,
							(uint64_t)s + 1);
					CU_ASSERT_EQUAL_FATAL(seal_flat(e, &p, sequence, 23, plaintext, length, full), 0);
					CU_ASSERT_EQUAL_FATAL(seal_flat(e, &p, sequence, 23, plaintext, length, again), 0);
					TEST_CHECK(memcmp(full, again, wire) == 0, "re-seal differs: length %zu", length);
					CU_ASSERT_EQUAL(full[0], 23);
					CU_ASSERT_EQUAL((size_t)(full[3] << 8 | full[4]), wire - 5);

					/* The plaintext, cut in three pieces, at an offset of 1000 in the source. */
					source_iov[0] = (struct iovec){plaintext, length / 3};
					source_iov[1] = (struct iovec){plaintext + length / 3, length / 3};
					source_iov[2] = (struct iovec){plaintext + 2 * (length / 3), length - 2 * (length / 3)};
					list = (struct tls_record_source_iovec){source_iov, 3, 1000};
					tls_record_source_from_iovec(&source, &list);
					for (int round = 0; round < 40; round++) {
						size_t from = round == 0 ? 0 : test_random_below(&random, wire);
						size_t to = round == 0 ? wire : from + 1 + test_random_below(&random, wire - from);
						struct iovec out_iov[12];
						struct tls_iov_cursor cursor;
						unsigned count = 0;
						size_t left = to - from;
						uint8_t *at = part;

						/* Destination: random pieces (an mbuf chain). */
						while (left && count < 11) {
							size_t piece = 1 + test_random_below(&random, SLUICE_TEST_MIN(left, 1448));

							out_iov[count++] = (struct iovec){at, piece};
							at += piece;
							left -= piece;
						}
						out_iov[count++] = (struct iovec){at, left};
						tls_iov_cursor_init(&cursor, out_iov, count);
						CU_ASSERT_EQUAL(tls_record_produce(workers[e], &p.protection, sequence, 23, &source,
										   1000, length, from, to, &cursor),
								0);
						TEST_CHECK(memcmp(part, full + from, to - from) == 0,
							   "%s v%x aes%d length %zu: [%zu, %zu) differs from the slice",
							   tls_aead_engines[e]->name, version, c ? 256 : 128, length, from, to);
					}
				}
}

static void test_produce_arguments(void)
{
	struct protection_set p;
	uint8_t out[64];
	struct iovec iov = {out, sizeof(out)};
	struct tls_iov_cursor cursor;

	create_workers();
	protection_make(&p, 0, TLS_VERSION_1_3, TLS_AEAD_AES_128_GCM, 1);
	static const struct {
		const char *description;
		uint16_t version;
		uint8_t type;
		size_t length, from, to;
		int rc;
	} rows[] = {
		{"range past the record", TLS_VERSION_1_3, 23, 10, 0, 33, -EINVAL},
		{"from after to", TLS_VERSION_1_3, 23, 10, 5, 4, -EINVAL},
		{"empty range", TLS_VERSION_1_3, 23, 10, 5, 5, 0},
		{"content type 24", TLS_VERSION_1_3, 24, 10, 0, 32, -EINVAL},
		{"content type 19", TLS_VERSION_1_3, 19, 10, 0, 32, -EINVAL},
		{"plaintext over 2^14", TLS_VERSION_1_3, 23, 16385, 0, 1, -EINVAL},
		{"TLS 1.1", 0x0302, 23, 10, 0, 1, -EINVAL},
		{"destination too short", TLS_VERSION_1_3, 23, 60, 0, 82, -ENOSPC},
		{"header only", TLS_VERSION_1_3, 23, 10, 0, 5, 0},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		static const uint8_t zero[TLS_RECORD_PLAINTEXT_MAX + 1];
		struct tls_record_source_iovec list;
		struct tls_record_source source;
		struct iovec plain_iov = {(void *)zero, sizeof(zero)};
		int rc;

		list = (struct tls_record_source_iovec){&plain_iov, 1, 0};
		tls_record_source_from_iovec(&source, &list);
		p.protection.version = rows[i].version;
		tls_iov_cursor_init(&cursor, &iov, 1);
		rc = tls_record_produce(workers[0], &p.protection, 0, rows[i].type, &source, 0, rows[i].length,
					rows[i].from, rows[i].to, &cursor);
		TEST_CHECK(rc == rows[i].rc, "%s: got %d, expected %d", rows[i].description, rc, rows[i].rc);
	}
	CU_ASSERT_EQUAL(tls_record_overhead(TLS_VERSION_1_3), 22);
	CU_ASSERT_EQUAL(tls_record_overhead(TLS_VERSION_1_2), 29);
	CU_ASSERT_EQUAL(tls_record_overhead(0x0302), 0);
	CU_ASSERT_EQUAL(tls_record_header_length(TLS_VERSION_1_2), 13);
}

/* Seals a TLS 1.3 record with an arbitrary inner plaintext (content, type, padding). */
static size_t seal_inner_13(int engine, const struct protection_set *p, uint64_t sequence, const uint8_t *inner,
			    size_t inner_length, uint8_t *out)
{
	uint8_t nonce[12];
	size_t length = inner_length + 16;
	struct iovec in = {(void *)(uintptr_t)inner, inner_length}, body = {out + 5, inner_length};

	out[0] = 23, out[1] = 3, out[2] = 3, out[3] = (uint8_t)(length >> 8), out[4] = (uint8_t)length;
	memcpy(nonce, p->key.iv, 12);
	for (int i = 0; i < 8; i++)
		nonce[4 + i] ^= (uint8_t)(sequence >> (56 - 8 * i));
	CU_ASSERT_EQUAL(tls_aead_seal(workers[engine], (enum tls_aead_cipher)p->key.key.cipher, &p->schedule, nonce,
				      out, 5, &in, 1, &body, 1, out + 5 + inner_length), 0);
	return 5 + length;
}

enum mutation {
	MUTATE_NONE,
	MUTATE_TYPE,          /* outer content type := value */
	MUTATE_VERSION,       /* record version := 0x03 value */
	MUTATE_LENGTH,        /* length field := value (record cut or extended to match) */
	MUTATE_FLIP,          /* flip a bit at byte `value` from the end */
	MUTATE_SEQUENCE,      /* open with a different sequence number */
	MUTATE_INNER_PADDING, /* TLS 1.3: inner plaintext = content type 23 + value zero bytes */
	MUTATE_INNER_ZEROS,   /* TLS 1.3: inner plaintext = value zero bytes */
	MUTATE_INNER_TYPE,    /* TLS 1.3: inner type := value */
	MUTATE_EXPLICIT_NONCE,/* TLS 1.2: explicit nonce differs from the one sealed with */
};

struct read_case {
	const char *description;
	uint16_t version;
	uint8_t type;
	size_t length;
	enum mutation mutation;
	unsigned value;
	int rc;
	uint8_t alert;
	size_t content_length;
};

static const struct read_case read_cases[] = {
	{"1.3 data", TLS_VERSION_1_3, 23, 100, MUTATE_NONE, 0, 1, 0, 100},
	{"1.3 empty data", TLS_VERSION_1_3, 23, 0, MUTATE_NONE, 0, 1, 0, 0},
	{"1.3 full record", TLS_VERSION_1_3, 23, 16384, MUTATE_NONE, 0, 1, 0, 16384},
	{"1.3 alert", TLS_VERSION_1_3, 21, 2, MUTATE_NONE, 0, 1, 0, 2},
	{"1.3 handshake", TLS_VERSION_1_3, 22, 5, MUTATE_NONE, 0, 1, 0, 5},
	{"1.3 padded", TLS_VERSION_1_3, 23, 100, MUTATE_INNER_PADDING, 50, 1, 0, 100},
	{"1.3 all padding", TLS_VERSION_1_3, 23, 0, MUTATE_INNER_ZEROS, 40, -EPROTO, TLS_ALERT_UNEXPECTED_MESSAGE, 0},
	{"1.3 inner type 24", TLS_VERSION_1_3, 23, 10, MUTATE_INNER_TYPE, 24, -EPROTO, TLS_ALERT_UNEXPECTED_MESSAGE, 0},
	{"1.3 inner type ccs", TLS_VERSION_1_3, 23, 10, MUTATE_INNER_TYPE, 20, -EPROTO, TLS_ALERT_UNEXPECTED_MESSAGE, 0},
	{"1.3 inner plaintext over 2^14+1", TLS_VERSION_1_3, 23, 16384, MUTATE_INNER_PADDING, 1, -EMSGSIZE,
	 TLS_ALERT_RECORD_OVERFLOW, 0},
	{"1.3 outer type handshake", TLS_VERSION_1_3, 23, 10, MUTATE_TYPE, 22, -EPROTO, TLS_ALERT_UNEXPECTED_MESSAGE, 0},
	{"1.3 outer type ccs", TLS_VERSION_1_3, 23, 10, MUTATE_TYPE, 20, -EPROTO, TLS_ALERT_UNEXPECTED_MESSAGE, 0},
	{"1.3 version 0x0301", TLS_VERSION_1_3, 23, 10, MUTATE_VERSION, 1, -EPROTO, TLS_ALERT_PROTOCOL_VERSION, 0},
	{"1.3 length over 2^14+256", TLS_VERSION_1_3, 23, 10, MUTATE_LENGTH, 16641, -EMSGSIZE,
	 TLS_ALERT_RECORD_OVERFLOW, 0},
	{"1.3 length shorter than a tag", TLS_VERSION_1_3, 23, 10, MUTATE_LENGTH, 16, -EBADMSG,
	 TLS_ALERT_BAD_RECORD_MAC, 0},
	{"1.3 flipped tag bit", TLS_VERSION_1_3, 23, 100, MUTATE_FLIP, 1, -EBADMSG, TLS_ALERT_BAD_RECORD_MAC, 0},
	{"1.3 flipped body bit", TLS_VERSION_1_3, 23, 100, MUTATE_FLIP, 40, -EBADMSG, TLS_ALERT_BAD_RECORD_MAC, 0},
	{"1.3 flipped length (aad)", TLS_VERSION_1_3, 23, 100, MUTATE_FLIP, 100 + 22 - 4, -EBADMSG,
	 TLS_ALERT_BAD_RECORD_MAC, 0},
	{"1.3 wrong sequence", TLS_VERSION_1_3, 23, 100, MUTATE_SEQUENCE, 0, -EBADMSG, TLS_ALERT_BAD_RECORD_MAC, 0},
	{"1.2 data", TLS_VERSION_1_2, 23, 100, MUTATE_NONE, 0, 1, 0, 100},
	{"1.2 empty data", TLS_VERSION_1_2, 23, 0, MUTATE_NONE, 0, 1, 0, 0},
	{"1.2 full record", TLS_VERSION_1_2, 23, 16384, MUTATE_NONE, 0, 1, 0, 16384},
	{"1.2 alert", TLS_VERSION_1_2, 21, 2, MUTATE_NONE, 0, 1, 0, 2},
	{"1.2 handshake", TLS_VERSION_1_2, 22, 40, MUTATE_NONE, 0, 1, 0, 40},
	{"1.2 ccs", TLS_VERSION_1_2, 20, 1, MUTATE_NONE, 0, -EPROTO, TLS_ALERT_UNEXPECTED_MESSAGE, 0},
	{"1.2 type 24", TLS_VERSION_1_2, 23, 10, MUTATE_TYPE, 24, -EPROTO, TLS_ALERT_UNEXPECTED_MESSAGE, 0},
	{"1.2 type changed (aad)", TLS_VERSION_1_2, 23, 10, MUTATE_TYPE, 22, -EBADMSG, TLS_ALERT_BAD_RECORD_MAC, 0},
	{"1.2 version 0x0302", TLS_VERSION_1_2, 23, 10, MUTATE_VERSION, 2, -EPROTO, TLS_ALERT_PROTOCOL_VERSION, 0},
	{"1.2 length over 2^14+2048", TLS_VERSION_1_2, 23, 10, MUTATE_LENGTH, 18433, -EMSGSIZE,
	 TLS_ALERT_RECORD_OVERFLOW, 0},
	{"1.2 plaintext over 2^14", TLS_VERSION_1_2, 23, 10, MUTATE_LENGTH, 16385 + 24, -EMSGSIZE,
	 TLS_ALERT_RECORD_OVERFLOW, 0},
	{"1.2 shorter than nonce + tag", TLS_VERSION_1_2, 23, 10, MUTATE_LENGTH, 23, -EBADMSG,
	 TLS_ALERT_BAD_RECORD_MAC, 0},
	{"1.2 flipped tag bit", TLS_VERSION_1_2, 23, 100, MUTATE_FLIP, 16, -EBADMSG, TLS_ALERT_BAD_RECORD_MAC, 0},
	{"1.2 flipped body bit", TLS_VERSION_1_2, 23, 100, MUTATE_FLIP, 70, -EBADMSG, TLS_ALERT_BAD_RECORD_MAC, 0},
	{"1.2 other explicit nonce", TLS_VERSION_1_2, 23, 100, MUTATE_EXPLICIT_NONCE, 0, -EBADMSG,
	 TLS_ALERT_BAD_RECORD_MAC, 0},
	{"1.2 wrong sequence", TLS_VERSION_1_2, 23, 100, MUTATE_SEQUENCE, 0, -EBADMSG, TLS_ALERT_BAD_RECORD_MAC, 0},
	{NULL, 0, 0, 0, 0, 0, 0, 0, 0},
};

/* Builds the record of a case; returns its length. */
static size_t build_case(int engine, const struct protection_set *p, const struct read_case *c, uint64_t sequence,
			 uint8_t *out)
{
	static uint8_t inner[TLS_RECORD_PLAINTEXT_MAX + 300];
	size_t n;

	for (size_t i = 0; i < c->length; i++)
		inner[i] = (uint8_t)(i * 7 + 1);
	switch (c->mutation) {
	case MUTATE_INNER_PADDING:
		inner[c->length] = c->type;
		memset(inner + c->length + 1, 0, c->value);
		return seal_inner_13(engine, p, sequence, inner, c->length + 1 + c->value, out);
	case MUTATE_INNER_ZEROS:
		memset(inner, 0, c->value);
		return seal_inner_13(engine, p, sequence, inner, c->value, out);
	case MUTATE_INNER_TYPE:
		inner[c->length] = (uint8_t)c->value;
		return seal_inner_13(engine, p, sequence, inner, c->length + 1, out);
	default:
		break;
	}
	CU_ASSERT_EQUAL(seal_flat(engine, p, sequence, c->type, inner, c->length, out), 0);
	n = tls_record_wire_length(p->protection.version, c->length);
	switch (c->mutation) {
	case MUTATE_TYPE:
		out[0] = (uint8_t)c->value;
		break;
	case MUTATE_VERSION:
		out[2] = (uint8_t)c->value;
		break;
	case MUTATE_LENGTH:
		out[3] = (uint8_t)(c->value >> 8);
		out[4] = (uint8_t)c->value;
		if (5 + c->value > n)
			memset(out + n, 0x55, 5 + c->value - n);
		n = 5 + c->value;
		break;
	case MUTATE_FLIP:
		out[n - c->value] ^= 0x04;
		break;
	case MUTATE_EXPLICIT_NONCE:
		out[12] ^= 1;
		break;
	default:
		break;
	}
	return n;
}

static void test_read_table(void)
{
	static uint8_t record[TLS_RECORD_WIRE_MAX + 64], plaintext[TLS_RECORD_PLAINTEXT_MAX + 300];

	create_workers();
	for (const struct read_case *c = read_cases; c->description; c++)
		for (int e = 0; e < 2; e++)
			for (int in_place = 0; in_place < 2; in_place++) {
				struct protection_set p;
				struct tls_record_read_result result;
				uint64_t sequence = 77, read_sequence;
				size_t n;
				struct iovec iov[2];
				int rc;

				protection_make(&p, e, c->version, e ? TLS_AEAD_AES_256_GCM : TLS_AEAD_AES_128_GCM, 9);
				n = build_case(e, &p, c, sequence, record);
				/* Split after 3 bytes: the header spans two segments. */
				iov[0] = (struct iovec){record, 3};
				iov[1] = (struct iovec){record + 3, n - 3};
				read_sequence = c->mutation == MUTATE_SEQUENCE ? sequence + 1 : sequence;
				rc = tls_record_read(workers[e], &p.protection, &read_sequence, iov, 2,
						     in_place ? NULL : plaintext, sizeof(plaintext), &result);
				TEST_CHECK(rc == c->rc, "%s (%s, %s): rc %d, expected %d", c->description,
					   tls_aead_engines[e]->name, in_place ? "in place" : "buffer", rc, c->rc);
				if (rc < 0) {
					TEST_CHECK(result.alert == c->alert, "%s: alert %u, expected %u", c->description,
						   result.alert, c->alert);
					continue;
				}
				if (rc != 1)
					continue;
				{
					const uint8_t *content = in_place ? record + result.plaintext_offset : plaintext;
					bool same = result.plaintext_length == c->content_length;

					for (size_t i = 0; same && i < c->content_length; i++)
						same = content[i] == (uint8_t)(i * 7 + 1);
					TEST_CHECK(same && result.content_type == c->type && result.consumed == n &&
							   read_sequence == sequence + 1,
						   "%s: wrong content, type %u, length %zu, consumed %zu", c->description,
						   result.content_type, result.plaintext_length, result.consumed);
				}
			}
}

/* Three records back to back, read at every truncation point from a guard-page buffer. */
static void test_read_truncations(void)
{
	static const size_t lengths[] = {1, 300, 0};
	static uint8_t stream[3 * 400], plaintext[TLS_RECORD_PLAINTEXT_MAX];

	create_workers();
	for (int v = 0; v < 2; v++) {
		uint16_t version = v ? TLS_VERSION_1_3 : TLS_VERSION_1_2;
		struct protection_set p;
		size_t total = 0, ends[3];

		protection_make(&p, 0, version, TLS_AEAD_AES_128_GCM, 3);
		for (int r = 0; r < 3; r++) {
			uint8_t content[300];

			memset(content, 'a' + r, sizeof(content));
			CU_ASSERT_EQUAL(seal_flat(0, &p, (uint64_t)r, 23, content, lengths[r], stream + total), 0);
			total += tls_record_wire_length(version, lengths[r]);
			ends[r] = total;
		}
		for (size_t cut = 0; cut <= total; cut++) {
			for (size_t split = 0; split <= SLUICE_TEST_MIN(cut, (size_t)8); split++) {
				uint8_t *guarded = test_guarded_alloc(cut);
				uint64_t sequence = 0;
				size_t offset = 0, opened = 0;

				memcpy(guarded, stream, cut);
				for (;;) {
					struct tls_record_read_result result;
					struct iovec rest[2];
					unsigned count = 0;
					int rc;

					/* The unconsumed bytes, as TCP would present them. */
					if (offset < split) {
						rest[count++] = (struct iovec){guarded + offset, split - offset};
						rest[count++] = (struct iovec){guarded + split, cut - split};
					} else {
						rest[count++] = (struct iovec){guarded + offset, cut - offset};
					}
					rc = tls_record_read(workers[0], &p.protection, &sequence, rest, count,
							     opened % 2 ? NULL : plaintext, sizeof(plaintext), &result);
					if (rc == 1) {
						offset += result.consumed;
						TEST_CHECK(offset == ends[opened], "v%x cut %zu split %zu: record %zu ends at %zu",
							   version, cut, split, opened, offset);
						opened++;
						continue;
					}
					TEST_CHECK(rc == 0 && result.need > cut - offset && opened <= 3,
						   "v%x cut %zu split %zu: rc %d need %zu after %zu records", version, cut,
						   split, rc, result.need, opened);
					break;
				}
				TEST_CHECK(opened == (cut >= ends[2] ? 3u : cut >= ends[1] ? 2u : cut >= ends[0] ? 1u : 0u),
					   "v%x cut %zu: %zu records opened", version, cut, opened);
				test_guarded_free(guarded, cut);
			}
		}
	}
}

static void test_read_capacity(void)
{
	static uint8_t record[200], plaintext[200];
	struct protection_set p;
	struct tls_record_read_result result;
	struct iovec iov;
	uint64_t sequence = 0;
	size_t n;

	create_workers();
	protection_make(&p, 1, TLS_VERSION_1_3, TLS_AEAD_AES_128_GCM, 5);
	CU_ASSERT_EQUAL(seal_flat(1, &p, 0, 23, (const uint8_t *)"hello world", 11, record), 0);
	n = tls_record_wire_length(TLS_VERSION_1_3, 11);
	iov = (struct iovec){record, n};
	CU_ASSERT_EQUAL(tls_record_read(workers[1], &p.protection, &sequence, &iov, 1, plaintext, 11, &result), -ENOSPC);
	CU_ASSERT_EQUAL(result.need, 12);
	CU_ASSERT_EQUAL(result.alert, 0);
	CU_ASSERT_EQUAL(sequence, 0);
	CU_ASSERT_EQUAL(tls_record_read(workers[1], &p.protection, &sequence, &iov, 1, plaintext, 12, &result), 1);
	CU_ASSERT_EQUAL(memcmp(plaintext, "hello world", 11), 0);
	CU_ASSERT_EQUAL(sequence, 1);
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
		{"any byte range equals the slice of the record", test_record_ranges},
		{"produce arguments table", test_produce_arguments},
		{"reader table", test_read_table},
		{"reader at every truncation and split", test_read_truncations},
		{"reader output capacity", test_read_capacity},
		{"free workers", test_cleanup},
		{NULL, NULL},
	};
	test_add_suite("tls_record", cases);
}
