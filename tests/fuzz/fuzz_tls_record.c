/* SPDX-License-Identifier: BSD-3-Clause
 *
 * fuzz_tls_record.c: libFuzzer target for the receive direction of a TLS connection after the
 * handoff (tls_session_receive over tls_record_read), the parser that sees attacker bytes on
 * every connection. The first input byte picks the version, in-place or buffered output, how
 * the bytes are cut into segments, and the mode:
 *   raw     the bytes go to the session as they are (headers, lengths, truncations, tags);
 *   sealed  the bytes are a list of (inner type, length, content) that the target seals with
 *           the session's own read key first, so the fuzzer reaches what follows decryption:
 *           TLS 1.3 padding and inner types, alerts, KeyUpdate, renegotiation attempts.
 * After the input, the session's pending output is produced, which exercises the alerts and
 * KeyUpdates the input made the session append.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tls_session.h"

static struct tls_aead_worker *worker;

static void handoff_make(struct tls_handshake_handoff *handoff, uint16_t version, enum tls_aead_cipher cipher)
{
	memset(handoff, 0, sizeof(*handoff));
	handoff->version = version;
	handoff->cipher = (uint8_t)cipher;
	handoff->hash = cipher == TLS_AEAD_AES_128_GCM ? TLS_HASH_SHA256 : TLS_HASH_SHA384;
	handoff->write_key.key.cipher = handoff->read_key.key.cipher = (uint8_t)cipher;
	memset(handoff->write_key.key.bytes, 0x11, sizeof(handoff->write_key.key.bytes));
	memset(handoff->read_key.key.bytes, 0x22, sizeof(handoff->read_key.key.bytes));
	memset(handoff->write_key.iv, 0x33, version == TLS_VERSION_1_3 ? 12 : 4);
	memset(handoff->read_key.iv, 0x44, version == TLS_VERSION_1_3 ? 12 : 4);
	memset(handoff->write_secret, 0x55, sizeof(handoff->write_secret));
	memset(handoff->read_secret, 0x66, sizeof(handoff->read_secret));
	handoff->write_sequence = version == TLS_VERSION_1_3 ? 2 : 1;
	handoff->read_sequence = version == TLS_VERSION_1_3 ? 0 : 1;
	handoff->record_plaintext_max = TLS_RECORD_PLAINTEXT_MAX;
}

/* Seals fuzzer-chosen inner plaintexts with the session's read key (TLS 1.3 inner bytes as given). */
static size_t seal_list(const struct tls_session *session, const uint8_t *data, size_t size, uint8_t *out,
			size_t capacity)
{
	struct tls_aead_schedule schedule;
	uint64_t sequence = session->read_sequence;
	size_t written = 0;

	tls_aead_schedule(worker, &session->read_key.key, &schedule);
	while (size >= 3) {
		uint8_t type = data[0];
		size_t length = ((size_t)data[1] << 8 | data[2]) % 600;
		struct tls_record_protection protection = {session->version, &session->read_key, &schedule};
		size_t wire = length + tls_record_overhead(session->version) - (session->version == TLS_VERSION_1_3);

		data += 3, size -= 3;
		if (length > size)
			length = size;
		if (written + wire + 32 > capacity)
			break;
		if (session->version == TLS_VERSION_1_3) {
			/* The content is the whole inner plaintext: content, type, padding, as fuzzed. */
			uint8_t nonce[12];
			struct iovec in = {(void *)(uintptr_t)data, length}, body;
			uint8_t *record = out + written;

			wire = 5 + length + 16;
			record[0] = 23, record[1] = 3, record[2] = 3;
			record[3] = (uint8_t)((length + 16) >> 8), record[4] = (uint8_t)(length + 16);
			memcpy(nonce, session->read_key.iv, 12);
			for (int i = 0; i < 8; i++)
				nonce[4 + i] ^= (uint8_t)(sequence >> (56 - 8 * i));
			body = (struct iovec){record + 5, length};
			tls_aead_seal(worker, (enum tls_aead_cipher)session->read_key.key.cipher, &schedule, nonce, record, 5,
				      &in, 1, &body, 1, record + 5 + length);
		} else {
			struct iovec iov = {out + written, wire};
			struct tls_iov_cursor cursor;

			tls_iov_cursor_init(&cursor, &iov, 1);
			if (tls_record_seal(worker, &protection, sequence, (uint8_t)(20 + type % 4), data, length, &cursor) < 0)
				break;
		}
		written += wire;
		sequence++;
		data += length, size -= length;
	}
	return written;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tls_session session __attribute__((aligned(64)));
	static uint8_t sealed[1 << 16], plaintext[TLS_RECORD_PLAINTEXT_MAX + 256], output[1 << 16];
	struct tls_handshake_handoff handoff;
	uint8_t *input;
	size_t length, offset = 0;
	uint8_t selector;

	if (!worker && tls_aead_worker_create(tls_aead_engines[0], &worker) < 0)
		abort();
	if (size < 1)
		return 0;
	selector = data[0];
	data++, size--;
	handoff_make(&handoff, selector & 1 ? TLS_VERSION_1_3 : TLS_VERSION_1_2,
		     selector & 2 ? TLS_AEAD_AES_256_GCM : TLS_AEAD_AES_128_GCM);
	if (tls_session_init(&session, worker, &handoff, 0, NULL) < 0)
		abort();
	if (selector & 4) {
		length = seal_list(&session, data, size, sealed, sizeof(sealed));
	} else {
		length = size < sizeof(sealed) ? size : sizeof(sealed);
		memcpy(sealed, data, length);
	}
	/* A private copy: in-place decryption writes into the input. */
	input = malloc(length ? length : 1);
	memcpy(input, sealed, length);
	for (int records = 0; records < 256 && offset <= length; records++) {
		struct tls_session_receive_result result;
		size_t rest = length - offset, cut = (selector >> 4) % (rest + 1);
		struct iovec in[2] = {{input + offset, cut}, {input + offset + cut, rest - cut}};
		int rc = tls_session_receive(&session, worker, in, 2, selector & 8 ? NULL : plaintext, sizeof(plaintext),
					     &result);

		if (rc < 0 || result.event == TLS_SESSION_NEED_MORE || result.event == TLS_SESSION_ERROR ||
		    result.event == TLS_SESSION_PEER_CLOSED || result.event == TLS_SESSION_PEER_ALERT)
			break;
		offset += result.consumed;
		tls_session_acked(&session, 0);
	}
	free(input);
	/* Whatever the input made the session append (alerts, KeyUpdate) must produce. */
	{
		uint64_t end = tls_session_wire_end(&session);
		struct iovec out = {output, sizeof(output)};
		static const struct tls_record_source no_data = {NULL, NULL};

		if (end && end <= sizeof(output) &&
		    tls_session_produce(&session, worker, 0, (size_t)end, &no_data, &out, 1) < 0)
			abort();
	}
	tls_session_wipe(&session);
	return 0;
}
