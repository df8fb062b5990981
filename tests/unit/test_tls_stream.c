/* SPDX-License-Identifier: BSD-3-Clause
 *
 * test_tls_stream.c: the send-stream record plan (dataplane/tls/tls_stream.c): layouts as a
 * table, where appends merge, run slots and backpressure, and the central property: any
 * wire range, produced into any scatter list, equals the slice of the whole production,
 * which decrypts record by record (across KeyUpdates) to the plaintext the source holds.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "test_main.h"
#include "tls_stream.h"
#include "tls_test_util.h"

enum { SOURCE_SIZE = 1 << 21 };

static struct tls_aead_worker *workers[2];
static uint8_t *source_bytes; /* plaintext offset p holds source_bytes[p % SOURCE_SIZE] */

static void setup(void)
{
	struct test_random random;

	for (int e = 0; e < 2; e++)
		if (!workers[e])
			CU_ASSERT_EQUAL_FATAL(tls_aead_worker_create(tls_aead_engines[e], &workers[e]), 0);
	if (!source_bytes) {
		source_bytes = malloc(SOURCE_SIZE);
		test_random_seed(&random, 0x50);
		test_random_bytes(&random, source_bytes, SOURCE_SIZE);
	}
}

/* Pieces end at pseudo-random places, so that records gather from several map() calls. */
static unsigned long source_calls;

static ssize_t test_source_map(void *context, uint64_t offset, size_t length, const uint8_t **piece)
{
	size_t at = (size_t)(offset % SOURCE_SIZE);
	size_t n = SLUICE_TEST_MIN(length, SOURCE_SIZE - at);
	uint64_t *lowest = context;

	if (offset < *lowest)
		return -EFAULT; /* asked for released plaintext */
	source_calls++;
	n = SLUICE_TEST_MIN(n, (size_t)1 + (size_t)(offset * 7919 % 5000));
	*piece = source_bytes + at;
	return (ssize_t)n;
}

struct layout_case {
	const char *description;
	uint16_t version;
	struct tls_stream_layout layout;
	uint64_t length;
	uint64_t records;
	uint64_t wire;
	/* A probe: the record holding wire offset `probe` (from the run start). */
	uint64_t probe, probe_sequence, probe_plaintext, probe_length;
};

static const struct layout_case layout_cases[] = {
	{"1.3 one byte", TLS_VERSION_1_3, {0, 10, 0}, 1, 1, 23, 22, 0, 0, 1},
	{"1.3 one small record", TLS_VERSION_1_3, {0, 10, 0}, 100, 1, 122, 0, 0, 0, 100},
	{"1.3 exactly the small records", TLS_VERSION_1_3, {0, 10, 0}, 14000, 10, 14220, 1422, 1, 1400, 1400},
	{"1.3 one byte after the small records", TLS_VERSION_1_3, {0, 10, 0}, 14001, 11, 14001 + 11 * 22, 14220, 10,
	 14000, 1},
	{"1.3 a segment", TLS_VERSION_1_3, {0, 10, 0}, 1000000, 71, 1000000 + 71 * 22, 14220 + 16406 * 60, 70,
	 14000 + 16384 * 60, 1000000 - 14000 - 16384 * 60},
	{"1.3 last byte of record 3", TLS_VERSION_1_3, {0, 10, 0}, 50000, 10 + 3, 50000 + 13 * 22, 4 * 1422 - 1, 3,
	 4200, 1400},
	{"1.2 one small record", TLS_VERSION_1_2, {0, 10, 0}, 100, 1, 129, 128, 0, 0, 100},
	{"1.2 a segment", TLS_VERSION_1_2, {0, 10, 0}, 1000000, 71, 1000000 + 71 * 29, 14290, 10, 14000, 16384},
	{"no small records", TLS_VERSION_1_3, {0, 0, 0}, 40000, 3, 40000 + 66, 16406 * 2, 2, 32768, 40000 - 32768},
	{"three small records of 500", TLS_VERSION_1_3, {500, 3, 0}, 20000, 3 + 2, 20000 + 5 * 22, 3 * 522, 3, 1500,
	 16384},
	{"max fragment 512", TLS_VERSION_1_3, {0, 10, 512}, 2000, 4, 2000 + 88, 3 * 534, 3, 1536, 464},
	{NULL, 0, {0, 0, 0}, 0, 0, 0, 0, 0, 0, 0},
};

static void test_layouts(void)
{
	for (const struct layout_case *c = layout_cases; c->description; c++) {
		struct tls_stream stream;
		struct tls_stream_record record;
		uint64_t start = 5000, first = 2;

		CU_ASSERT_EQUAL_FATAL(tls_stream_init(&stream, c->version, start, first, &c->layout), 0);
		CU_ASSERT_EQUAL(tls_stream_append(&stream, c->length), 0);
		TEST_CHECK(tls_stream_wire_end(&stream) == start + c->wire, "%s: wire length %llu, expected %llu",
			   c->description, (unsigned long long)(tls_stream_wire_end(&stream) - start),
			   (unsigned long long)c->wire);
		CU_ASSERT_EQUAL(tls_stream_locate(&stream, start + c->wire - 1, &record), 0);
		TEST_CHECK(record.sequence == first + c->records - 1, "%s: %llu records, expected %llu", c->description,
			   (unsigned long long)(record.sequence - first + 1), (unsigned long long)c->records);
		CU_ASSERT_EQUAL(tls_stream_locate(&stream, start + c->probe, &record), 0);
		TEST_CHECK(record.sequence == first + c->probe_sequence && record.plaintext_offset == c->probe_plaintext &&
				   record.plaintext_length == c->probe_length && record.content_type == 23,
			   "%s: probe %llu: record %llu plaintext %llu+%u", c->description, (unsigned long long)c->probe,
			   (unsigned long long)(record.sequence - first), (unsigned long long)record.plaintext_offset,
			   record.plaintext_length);
		CU_ASSERT_EQUAL(tls_stream_locate(&stream, start - 1, &record), -ERANGE);
		CU_ASSERT_EQUAL(tls_stream_locate(&stream, start + c->wire, &record), -ERANGE);
		CU_ASSERT_EQUAL(tls_stream_plaintext_end(&stream), c->length);
	}
	{
		struct tls_stream stream;

		CU_ASSERT_EQUAL(tls_stream_init(&stream, 0x0302, 0, 0, NULL), -EINVAL);
		CU_ASSERT_EQUAL(tls_stream_init(&stream, TLS_VERSION_1_3, 0, 0,
						&(struct tls_stream_layout){0, 1, 16385}), -EINVAL);
	}
}

/* Keys for epochs 0 and 1 and a schedule for one of them. */
struct test_keys {
	struct tls_record_key key[2];
	struct tls_aead_schedule schedule[2];
	struct tls_stream_keys stream_keys;
};

static void keys_make(struct test_keys *k, int engine, uint16_t version, enum tls_aead_cipher cipher, int scheduled)
{
	struct test_random random;

	test_random_seed(&random, 0x4e7 + (uint64_t)cipher);
	memset(k, 0, sizeof(*k));
	for (int e = 0; e < 2; e++) {
		k->key[e].key.cipher = (uint8_t)cipher;
		test_random_bytes(&random, k->key[e].key.bytes, tls_aead_key_length(cipher));
		test_random_bytes(&random, k->key[e].iv, version == TLS_VERSION_1_3 ? 12 : 4);
		CU_ASSERT_EQUAL(tls_aead_schedule(workers[engine], &k->key[e].key, &k->schedule[e]), 0);
	}
	k->stream_keys.key[0] = &k->key[0];
	k->stream_keys.key[1] = &k->key[1];
	k->stream_keys.schedule = scheduled >= 0 ? &k->schedule[scheduled] : NULL;
	k->stream_keys.schedule_epoch = (uint8_t)(scheduled >= 0 ? scheduled : 0);
}

/*
 * Opens every record of wire[0, length) (which starts at a record boundary with record
 * number `sequence`, epoch `epoch`) and checks each against the plan and the source.
 */
static void check_decrypts(int engine, uint16_t version, const struct test_keys *k, const uint8_t *wire, size_t length,
			   uint64_t sequence, int epoch, uint64_t plaintext, const char *what)
{
	static uint8_t content[TLS_RECORD_PLAINTEXT_MAX + 1];
	size_t offset = 0;
	unsigned records = 0;

	while (offset < length) {
		struct tls_aead_schedule schedule;
		struct tls_record_protection protection = {.version = version, .key = &k->key[epoch & 1],
							   .schedule = &schedule};
		struct tls_record_read_result result;
		struct iovec in = {(void *)(uintptr_t)(wire + offset), length - offset};
		int rc;

		CU_ASSERT_EQUAL_FATAL(tls_aead_schedule(workers[engine], &k->key[epoch & 1].key, &schedule), 0);
		rc = tls_record_read(workers[engine], &protection, &sequence, &in, 1, content, sizeof(content), &result);
		if (rc != 1) {
			TEST_CHECK(rc == 1, "%s: record %u at %zu: rc %d alert %u", what, records, offset, rc, result.alert);
			return;
		}
		if (result.content_type == TLS_CONTENT_APPLICATION_DATA) {
			bool same = true;

			for (size_t i = 0; same && i < result.plaintext_length; i++)
				same = content[i] == source_bytes[(plaintext + i) % SOURCE_SIZE];
			TEST_CHECK(same, "%s: record %u: plaintext differs from the source", what, records);
			plaintext += result.plaintext_length;
		} else if (result.content_type == TLS_CONTENT_HANDSHAKE) {
			TEST_CHECK(result.plaintext_length == 5 && content[0] == 24 && content[3] == 1,
				   "%s: record %u: not a KeyUpdate", what, records);
			epoch++;
			sequence = 0;
		} else {
			TEST_CHECK(result.content_type == TLS_CONTENT_ALERT && result.plaintext_length == 2,
				   "%s: record %u: type %u", what, records, result.content_type);
		}
		offset += result.consumed;
		records++;
	}
}

/* Builds the same mixed stream for each engine, version and key arrangement. */
static void build_mixed_stream(struct tls_stream *stream, uint16_t version, uint64_t start, uint64_t first)
{
	CU_ASSERT_EQUAL(tls_stream_init(stream, version, start, first, NULL), 0);
	CU_ASSERT_EQUAL(tls_stream_append(stream, 310), 0);    /* a response header ... */
	CU_ASSERT_EQUAL(tls_stream_append(stream, 60000), 0);  /* ... and its body: merged */
	CU_ASSERT_EQUAL(stream->run_count, 1);
	if (version == TLS_VERSION_1_3)
		CU_ASSERT_EQUAL(tls_stream_append_key_update(stream, false), 0);
	CU_ASSERT_EQUAL(tls_stream_append(stream, 1), 0);
	CU_ASSERT_EQUAL(tls_stream_append(stream, 20000), 0); /* merged with the 1-byte run */
	CU_ASSERT_EQUAL(tls_stream_append_alert(stream, TLS_ALERT_LEVEL_WARNING, TLS_ALERT_CLOSE_NOTIFY), 0);
	CU_ASSERT_EQUAL(tls_stream_append(stream, 1), -EPIPE);
	CU_ASSERT(tls_stream_closed(stream));
}

static void test_ranges_equal_slices(void)
{
	static uint8_t full[120000], part[120000];
	struct test_random random;

	setup();
	test_random_seed(&random, 0x51);
	for (int e = 0; e < 2; e++)
		for (int v = 0; v < 2; v++)
			for (int c = 0; c < 2; c++)
				for (int scheduled = -1; scheduled < 2; scheduled++) {
					uint16_t version = v ? TLS_VERSION_1_3 : TLS_VERSION_1_2;
					enum tls_aead_cipher cipher = c ? TLS_AEAD_AES_256_GCM : TLS_AEAD_AES_128_GCM;
					struct tls_stream stream;
					struct test_keys k;
					uint64_t start = 4321, first = v ? 2 : 1, lowest = 0, end;
					struct tls_record_source source = {.map = test_source_map, .context = &lowest};
					struct iovec whole;
					char what[96];

					snprintf(what, sizeof(what), "%s v%x aes%d schedule %d", tls_aead_engines[e]->name, version,
						 c ? 256 : 128, scheduled);
					keys_make(&k, e, version, cipher, scheduled);
					build_mixed_stream(&stream, version, start, first);
					end = tls_stream_wire_end(&stream);
					CU_ASSERT_FATAL(end - start <= sizeof(full));
					whole = (struct iovec){full, end - start};
					CU_ASSERT_EQUAL_FATAL(tls_stream_produce(&stream, workers[e], &k.stream_keys, start, end - start,
										 &source, &whole, 1), 0);
					check_decrypts(e, version, &k, full, end - start, first, 0, 0, what);
					for (int round = 0; round < 60; round++) {
						uint64_t from = start + test_random_below(&random, end - start);
						uint64_t to = from + 1 + test_random_below(&random, SLUICE_TEST_MIN(end - from, (uint64_t)70000));
						struct iovec out[64];
						unsigned count = 0;
						size_t left = to - from;
						uint8_t *at = part;

						while (left && count < 63) {
							size_t piece = 1 + test_random_below(&random, SLUICE_TEST_MIN(left, (size_t)2000));

							out[count++] = (struct iovec){at, piece};
							at += piece;
							left -= piece;
						}
						out[count++] = (struct iovec){at, left};
						CU_ASSERT_EQUAL(tls_stream_produce(&stream, workers[e], &k.stream_keys, from, to - from,
										   &source, out, count), 0);
						TEST_CHECK(memcmp(part, full + (from - start), to - from) == 0,
							   "%s: [%llu, %llu) differs", what, (unsigned long long)(from - start),
							   (unsigned long long)(to - start));
					}
				}
}

static void test_merging_and_slots(void)
{
	struct tls_stream stream;
	struct test_keys k;
	uint64_t lowest = 0;
	struct tls_record_source source = {.map = test_source_map, .context = &lowest};
	uint8_t out[2000];
	struct iovec iov = {out, sizeof(out)};
	struct tls_stream_record record;

	setup();
	keys_make(&k, 0, TLS_VERSION_1_3, TLS_AEAD_AES_128_GCM, 0);
	CU_ASSERT_EQUAL(tls_stream_init(&stream, TLS_VERSION_1_3, 0, 0, NULL), 0);
	CU_ASSERT_EQUAL(tls_stream_append(&stream, 0), 0);
	CU_ASSERT_EQUAL(stream.run_count, 0);
	CU_ASSERT_EQUAL(tls_stream_append(&stream, 2000), 0); /* records 1400 + 600 */
	/* Producing the first record does not freeze the last one: still merges. */
	CU_ASSERT_EQUAL(tls_stream_produce(&stream, workers[0], &k.stream_keys, 0, 1422, &source, &iov, 1), 0);
	CU_ASSERT_EQUAL(tls_stream_append(&stream, 1000), 0);
	CU_ASSERT_EQUAL(stream.run_count, 1);
	CU_ASSERT_EQUAL(tls_stream_locate(&stream, 1422, &record), 0);
	CU_ASSERT_EQUAL(record.plaintext_length, 1400); /* 600 grew to 1400; 200 more follow */
	/* Once a byte of the last record went out, a new run starts. */
	CU_ASSERT_EQUAL(tls_stream_produce(&stream, workers[0], &k.stream_keys, 2844, 1, &source, &iov, 1), 0);
	CU_ASSERT_EQUAL(tls_stream_append(&stream, 5), 0);
	CU_ASSERT_EQUAL(stream.run_count, 2);
	CU_ASSERT_EQUAL(tls_stream_append_key_update(&stream, true), 0);
	CU_ASSERT_EQUAL(tls_stream_write_epoch(&stream), 1);
	CU_ASSERT_EQUAL(tls_stream_append(&stream, 7), -ENOBUFS); /* data may use 3 of 4 slots */
	CU_ASSERT_EQUAL(tls_stream_append_key_update(&stream, false), -EBUSY);
	CU_ASSERT_EQUAL(tls_stream_append_alert(&stream, TLS_ALERT_LEVEL_WARNING, TLS_ALERT_NO_RENEGOTIATION), 0);
	CU_ASSERT_FALSE(tls_stream_closed(&stream));
	CU_ASSERT_EQUAL(tls_stream_append_alert(&stream, TLS_ALERT_LEVEL_FATAL, TLS_ALERT_DECODE_ERROR), -ENOBUFS);
	/* Acknowledging the first run frees a slot; its plaintext is released. */
	CU_ASSERT_EQUAL(tls_stream_acked(&stream, 3000 + 3 * 22), 3000);
	CU_ASSERT_EQUAL(stream.run_count, 3);
	CU_ASSERT_EQUAL(tls_stream_append_alert(&stream, TLS_ALERT_LEVEL_FATAL, TLS_ALERT_DECODE_ERROR), 0);
	CU_ASSERT(tls_stream_closed(&stream));
	CU_ASSERT_EQUAL(tls_stream_append_alert(&stream, TLS_ALERT_LEVEL_WARNING, TLS_ALERT_CLOSE_NOTIFY), -EPIPE);
	CU_ASSERT_EQUAL(tls_stream_append_key_update(&stream, false), -EPIPE);

	CU_ASSERT_EQUAL(tls_stream_init(&stream, TLS_VERSION_1_2, 0, 1, NULL), 0);
	CU_ASSERT_EQUAL(tls_stream_append_key_update(&stream, false), -EPROTO);

	/* Appends over 4 GiB take several runs, all or nothing. */
	CU_ASSERT_EQUAL(tls_stream_init(&stream, TLS_VERSION_1_3, 0, 0, NULL), 0);
	CU_ASSERT_EQUAL(tls_stream_append(&stream, (1ull << 32) + 9), 0);
	CU_ASSERT_EQUAL(stream.run_count, 2);
	CU_ASSERT_EQUAL(tls_stream_plaintext_end(&stream), (1ull << 32) + 9);
	CU_ASSERT_EQUAL(tls_stream_append(&stream, 100), 0); /* merges into the second run */
	CU_ASSERT_EQUAL(stream.run_count, 2);
	{
		uint64_t end = tls_stream_wire_end(&stream);

		CU_ASSERT_EQUAL(tls_stream_produce(&stream, workers[0], &k.stream_keys, end - 10, 10, &source, &iov, 1), 0);
		CU_ASSERT_EQUAL(tls_stream_append(&stream, (1ull << 32) + 1), -ENOBUFS); /* would need 2 more runs */
		CU_ASSERT_EQUAL(tls_stream_wire_end(&stream), end);
		CU_ASSERT_EQUAL(tls_stream_append(&stream, 1ull << 31), 0);
		CU_ASSERT_EQUAL(stream.run_count, 3);
		CU_ASSERT_EQUAL(tls_stream_next_record(&stream), tls_stream_locate(&stream, tls_stream_wire_end(&stream) - 1,
										    &record) == 0 ? record.sequence + 1 : 0);
	}
}

struct acked_case {
	const char *description;
	uint64_t acked;     /* from the stream start */
	uint64_t released;  /* plaintext offset */
	uint8_t run_count;
	uint8_t head_epoch;
};

static void test_acked_table(void)
{
	/*
	 * TLS 1.3, start 1000: run A = 3000 plaintext (1400, 1400, 200 -> wire 3066), KeyUpdate
	 * (27), run B = 100 (122), close_notify (24).
	 */
	static const struct acked_case cases[] = {
		{"nothing", 0, 0, 4, 0},
		{"inside the first record", 1, 0, 4, 0},
		{"end of the first record", 1422, 1400, 4, 0},
		{"inside the third record", 2845, 2800, 4, 0},
		{"all of run A", 3066, 3000, 3, 0},
		{"inside the KeyUpdate", 3070, 3000, 3, 0},
		{"after the KeyUpdate", 3093, 3000, 2, 1},
		{"inside run B", 3100, 3000, 2, 1},
		{"all data", 3215, 3100, 1, 1},
		{"everything", 3239, 3100, 0, 1},
		{"beyond the end", 5000, 3100, 0, 1},
		{NULL, 0, 0, 0, 0},
	};
	setup();
	for (const struct acked_case *c = cases; c->description; c++) {
		struct tls_stream stream;
		struct test_keys k;
		uint64_t lowest = 0, released;
		struct tls_record_source source = {.map = test_source_map, .context = &lowest};
		static uint8_t out[4000];
		struct iovec iov = {out, sizeof(out)};

		keys_make(&k, 1, TLS_VERSION_1_3, TLS_AEAD_AES_128_GCM, 1);
		CU_ASSERT_EQUAL(tls_stream_init(&stream, TLS_VERSION_1_3, 1000, 2, NULL), 0);
		CU_ASSERT_EQUAL(tls_stream_append(&stream, 3000), 0);
		CU_ASSERT_EQUAL(tls_stream_append_key_update(&stream, false), 0);
		CU_ASSERT_EQUAL(tls_stream_append(&stream, 100), 0);
		CU_ASSERT_EQUAL(tls_stream_append_alert(&stream, TLS_ALERT_LEVEL_WARNING, TLS_ALERT_CLOSE_NOTIFY), 0);
		CU_ASSERT_EQUAL(tls_stream_wire_end(&stream), 1000 + 3239);
		released = tls_stream_acked(&stream, 1000 + c->acked);
		TEST_CHECK(released == c->released && stream.run_count == c->run_count && stream.head_epoch == c->head_epoch,
			   "%s: released %llu, %u runs, epoch %u", c->description, (unsigned long long)released,
			   stream.run_count, stream.head_epoch);
		/* What is left still produces, and the released plaintext is never asked for. */
		lowest = released;
		if (1000 + c->acked < tls_stream_wire_end(&stream)) {
			uint64_t from = 1000 + c->acked;

			TEST_CHECK(tls_stream_produce(&stream, workers[1], &k.stream_keys, from,
						      tls_stream_wire_end(&stream) - from, &source, &iov, 1) == 0,
				   "%s: producing the rest failed", c->description);
		}
		if (c->acked > 0)
			TEST_CHECK(tls_stream_produce(&stream, workers[1], &k.stream_keys, stream.head_wire - 1, 1, &source,
						      &iov, 1) == -ERANGE,
				   "%s: produced below the head", c->description);
	}
}

static void test_produce_errors(void)
{
	struct tls_stream stream;
	struct test_keys k;
	uint64_t lowest = 0;
	struct tls_record_source source = {.map = test_source_map, .context = &lowest};
	uint8_t out[200];
	struct iovec iov = {out, sizeof(out)}, small = {out, 10};

	setup();
	keys_make(&k, 0, TLS_VERSION_1_2, TLS_AEAD_AES_256_GCM, 0);
	CU_ASSERT_EQUAL(tls_stream_init(&stream, TLS_VERSION_1_2, 0, 1, NULL), 0);
	CU_ASSERT_EQUAL(tls_stream_append(&stream, 100), 0);
	CU_ASSERT_EQUAL(tls_stream_produce(&stream, workers[0], &k.stream_keys, 0, 130, &source, &iov, 1), -ERANGE);
	CU_ASSERT_EQUAL(tls_stream_produce(&stream, workers[0], &k.stream_keys, 129, 1, &source, &iov, 1), -ERANGE);
	CU_ASSERT_EQUAL(tls_stream_produce(&stream, workers[0], &k.stream_keys, 0, 20, &source, &small, 1), -ENOSPC);
	CU_ASSERT_EQUAL(tls_stream_produce(&stream, workers[0], &k.stream_keys, 0, 0, &source, &small, 1), 0);
	lowest = 50; /* a source error is passed on */
	CU_ASSERT_EQUAL(tls_stream_produce(&stream, workers[0], &k.stream_keys, 0, 129, &source, &iov, 1), -EFAULT);
	CU_ASSERT_EQUAL(stream.produced_wire, 0);
}

static void test_cleanup(void)
{
	for (int e = 0; e < 2; e++) {
		tls_aead_worker_free(workers[e]);
		workers[e] = NULL;
	}
	free(source_bytes);
	source_bytes = NULL;
}

void test_register(void)
{
	static const struct test_case cases[] = {
		{"layout table", test_layouts},
		{"any range into any scatter list equals the slice; records decrypt", test_ranges_equal_slices},
		{"merging appends, run slots, backpressure, closing", test_merging_and_slots},
		{"acked table: runs released, plaintext released", test_acked_table},
		{"produce errors", test_produce_errors},
		{"cleanup", test_cleanup},
		{NULL, NULL},
	};
	test_add_suite("tls_stream", cases);
}
