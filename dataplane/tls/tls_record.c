/* SPDX-License-Identifier: BSD-3-Clause
 *
 * tls_record.c: TLS 1.3 / 1.2 AES-GCM record sealing (whole or a byte range) and the record
 * reader; see tls_record.h for the formats, costs and contracts. Per-record code: no
 * allocation, no I/O.
 */
#include "tls_record.h"

#include <errno.h>
#include <string.h>

#include "compiler.h"

size_t tls_record_overhead(uint16_t version)
{
	switch (version) {
	case TLS_VERSION_1_3:
		return TLS13_RECORD_OVERHEAD;
	case TLS_VERSION_1_2:
		return TLS12_RECORD_OVERHEAD;
	}
	return 0;
}

size_t tls_record_header_length(uint16_t version)
{
	return version == TLS_VERSION_1_2 ? TLS_RECORD_HEADER_LENGTH + TLS_RECORD_EXPLICIT_NONCE_LENGTH
					  : TLS_RECORD_HEADER_LENGTH;
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

/* TLS 1.3: IV XOR sequence. TLS 1.2: salt || sequence. */
static void record_nonce(const struct tls_record_protection *protection, uint64_t sequence,
			 uint8_t nonce[TLS_AEAD_NONCE_LENGTH])
{
	uint8_t sequence_bytes[8];

	put_be64(sequence_bytes, sequence);
	memcpy(nonce, protection->key->iv, TLS_AEAD_NONCE_LENGTH);
	if (protection->version == TLS_VERSION_1_3) {
		for (int i = 0; i < 8; i++)
			nonce[4 + i] ^= sequence_bytes[i];
	} else {
		memcpy(nonce + 4, sequence_bytes, 8);
	}
}

/* The additional data: TLS 1.3 the record header; TLS 1.2 seq, type, version, plaintext length. */
static size_t record_aad(const struct tls_record_protection *protection, uint64_t sequence,
			 uint8_t content_type, size_t plaintext_length, const uint8_t *header, uint8_t aad[13])
{
	if (protection->version == TLS_VERSION_1_3) {
		memcpy(aad, header, TLS_RECORD_HEADER_LENGTH);
		return TLS_RECORD_HEADER_LENGTH;
	}
	put_be64(aad, sequence);
	aad[8] = content_type;
	aad[9] = 3;
	aad[10] = 3;
	put_be16(aad + 11, (uint16_t)plaintext_length);
	return 13;
}

/*
 * Feeds plaintext [begin, end) of the record (positions in the body, the TLS 1.3 type byte at
 * position plaintext_length) to `step`, one contiguous piece at a time.
 */
struct body_walk {
	struct tls_aead_worker *worker;
	const struct tls_record_source *source;
	uint64_t plaintext_offset;
	size_t plaintext_length;
	uint8_t type_byte; /* TLS 1.3 inner content type, appended after the plaintext */
	bool has_type_byte;
};

typedef int (*body_step_fn)(void *context, size_t position, const uint8_t *bytes, size_t length);

static int body_walk_range(const struct body_walk *walk, size_t begin, size_t end, body_step_fn step,
			   void *context)
{
	size_t position = begin;
	int rc;

	while (position < end && position < walk->plaintext_length) {
		const uint8_t *piece;
		size_t want = SLUICE_MIN(end, walk->plaintext_length) - position;
		ssize_t got = walk->source->map(walk->source->context, walk->plaintext_offset + position, want,
						&piece);

		if (unlikely(got <= 0))
			return got < 0 ? (int)got : -EIO;
		if ((size_t)got > want)
			got = (ssize_t)want;
		rc = step(context, position, piece, (size_t)got);
		if (rc < 0)
			return rc;
		position += (size_t)got;
	}
	if (walk->has_type_byte && position < end)
		return step(context, position, &walk->type_byte, 1);
	return 0;
}

/* Sealing the whole body: output before `emit_from` is discarded. */
struct seal_step {
	struct tls_aead_worker *worker;
	struct tls_iov_cursor *out;
	size_t emit_from;
};

static int seal_step(void *context, size_t position, const uint8_t *bytes, size_t length)
{
	struct seal_step *s = context;
	int rc;

	if (position < s->emit_from) {
		size_t discard = SLUICE_MIN(length, s->emit_from - position);

		rc = tls_aead_update(s->worker, NULL, bytes, discard);
		if (rc < 0)
			return rc;
		bytes += discard;
		length -= discard;
	}
	return length ? tls_aead_update(s->worker, s->out, bytes, length) : 0;
}

/* Counter-mode range: no tag. */
struct range_step {
	struct tls_aead_worker *worker;
	const struct tls_record_protection *protection;
	const uint8_t *nonce;
	struct tls_iov_cursor *out;
};

static int range_step(void *context, size_t position, const uint8_t *bytes, size_t length)
{
	struct range_step *s = context;

	return tls_aead_keystream_xor(s->worker, (enum tls_aead_cipher)s->protection->key->key.cipher,
				      s->protection->schedule, s->nonce, position, s->out, bytes, length);
}

int tls_record_produce(struct tls_aead_worker *worker, const struct tls_record_protection *protection,
		       uint64_t sequence, uint8_t content_type, const struct tls_record_source *source,
		       uint64_t plaintext_offset, size_t plaintext_length, size_t from, size_t to,
		       struct tls_iov_cursor *out)
{
	bool v13 = protection->version == TLS_VERSION_1_3;
	size_t header_length = tls_record_header_length(protection->version);
	size_t body_length = plaintext_length + (v13 ? 1 : 0);
	size_t wire_length = header_length + body_length + TLS_AEAD_TAG_LENGTH;
	uint8_t header[TLS_RECORD_HEADER_LENGTH + TLS_RECORD_EXPLICIT_NONCE_LENGTH];
	uint8_t nonce[TLS_AEAD_NONCE_LENGTH];
	struct body_walk walk = {
		.worker = worker,
		.source = source,
		.plaintext_offset = plaintext_offset,
		.plaintext_length = plaintext_length,
		.type_byte = content_type,
		.has_type_byte = v13,
	};
	int rc;

	if (unlikely(!tls_record_overhead(protection->version) || plaintext_length > TLS_RECORD_PLAINTEXT_MAX ||
		     from > to || to > wire_length || content_type < TLS_CONTENT_CHANGE_CIPHER_SPEC ||
		     content_type > TLS_CONTENT_APPLICATION_DATA))
		return -EINVAL;
	if (from == to)
		return 0;

	header[0] = v13 ? TLS_CONTENT_APPLICATION_DATA : content_type;
	header[1] = 3;
	header[2] = 3;
	put_be16(header + 3, (uint16_t)(wire_length - TLS_RECORD_HEADER_LENGTH));
	if (!v13)
		put_be64(header + TLS_RECORD_HEADER_LENGTH, sequence);
	if (from < header_length) {
		rc = tls_iov_cursor_write(out, header + from, SLUICE_MIN(to, header_length) - from);
		if (rc < 0)
			return rc;
	}
	record_nonce(protection, sequence, nonce);

	if (to > header_length + body_length) {
		/* The range needs (part of) the tag: seal the whole body. */
		struct seal_step step = {
			.worker = worker,
			.out = out,
			.emit_from = from > header_length ? from - header_length : 0,
		};
		uint8_t aad[13], tag[TLS_AEAD_TAG_LENGTH];
		size_t aad_length = record_aad(protection, sequence, content_type, plaintext_length, header, aad);
		size_t tag_from = from > header_length + body_length ? from - header_length - body_length : 0;

		rc = tls_aead_begin(worker, (enum tls_aead_cipher)protection->key->key.cipher, protection->schedule,
				    nonce, aad, aad_length, true);
		if (rc == 0)
			rc = body_walk_range(&walk, 0, body_length, seal_step, &step);
		if (rc == 0)
			rc = tls_aead_finish(worker, tag);
		if (rc == 0)
			rc = tls_iov_cursor_write(out, tag + tag_from,
						  to - header_length - body_length - tag_from);
		return rc;
	}
	if (to > header_length) {
		struct range_step step = {.worker = worker, .protection = protection, .nonce = nonce, .out = out};
		size_t begin = from > header_length ? from - header_length : 0;

		return body_walk_range(&walk, begin, to - header_length, range_step, &step);
	}
	return 0;
}

static ssize_t flat_map(void *context, uint64_t offset, size_t length, const uint8_t **piece)
{
	*piece = (const uint8_t *)context + offset;
	return (ssize_t)length;
}

int tls_record_seal(struct tls_aead_worker *worker, const struct tls_record_protection *protection,
		    uint64_t sequence, uint8_t content_type, const void *plaintext, size_t plaintext_length,
		    struct tls_iov_cursor *out)
{
	struct tls_record_source source = {.map = flat_map, .context = (void *)(uintptr_t)plaintext};

	return tls_record_produce(worker, protection, sequence, content_type, &source, 0, plaintext_length, 0,
				  tls_record_wire_length(protection->version, plaintext_length), out);
}

static ssize_t iovec_map(void *context, uint64_t offset, size_t length, const uint8_t **piece)
{
	const struct tls_record_source_iovec *list = context;
	uint64_t position;

	if (offset < list->base_offset)
		return -ERANGE;
	position = offset - list->base_offset;
	for (unsigned i = 0; i < list->count; i++) {
		if (position < list->iov[i].iov_len) {
			*piece = (const uint8_t *)list->iov[i].iov_base + position;
			return (ssize_t)SLUICE_MIN(length, list->iov[i].iov_len - position);
		}
		position -= list->iov[i].iov_len;
	}
	return -ERANGE;
}

void tls_record_source_from_iovec(struct tls_record_source *source, struct tls_record_source_iovec *list)
{
	source->map = iovec_map;
	source->context = list;
}

static uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static int read_error(struct tls_record_read_result *result, uint8_t alert, int rc)
{
	result->alert = alert;
	return rc;
}

/* Position of the last non-zero byte of the TLS 1.3 inner plaintext, or -1. */
static ssize_t last_nonzero(struct tls_iov_cursor cursor, size_t length)
{
	ssize_t last = -1;
	size_t position = 0;

	while (position < length) {
		uint8_t *piece;
		size_t n = SLUICE_MIN(tls_iov_cursor_peek(&cursor, &piece), length - position);

		if (!n)
			break;
		for (size_t i = n; i-- > 0;)
			if (piece[i]) {
				last = (ssize_t)(position + i);
				break;
			}
		cursor.offset += n;
		position += n;
	}
	return last;
}

int tls_record_read(struct tls_aead_worker *worker, const struct tls_record_protection *protection,
		    uint64_t *sequence, const struct iovec *in, unsigned in_count, void *plaintext,
		    size_t capacity, struct tls_record_read_result *result)
{
	bool v13 = protection->version == TLS_VERSION_1_3;
	size_t header_length = tls_record_header_length(protection->version);
	uint8_t header[TLS_RECORD_HEADER_LENGTH + TLS_RECORD_EXPLICIT_NONCE_LENGTH];
	uint8_t nonce[TLS_AEAD_NONCE_LENGTH], aad[13], tag[TLS_AEAD_TAG_LENGTH];
	struct tls_iov_cursor cursor, out;
	struct iovec flat = {plaintext, capacity};
	const struct tls_aead_schedule *schedule;
	size_t length, body_length, available, aad_length, content_length;
	uint8_t type;
	int rc;

	memset(result, 0, sizeof(*result));
	if (!tls_record_overhead(protection->version))
		return -EINVAL;
	tls_iov_cursor_init(&cursor, in, in_count);
	available = tls_iov_cursor_remaining(&cursor);
	if (available < TLS_RECORD_HEADER_LENGTH) {
		result->need = TLS_RECORD_HEADER_LENGTH;
		return 0;
	}
	tls_iov_cursor_read(&cursor, header, TLS_RECORD_HEADER_LENGTH);
	type = header[0];
	length = get_be16(header + 3);
	if (v13 ? type != TLS_CONTENT_APPLICATION_DATA
		: type < TLS_CONTENT_ALERT || type > TLS_CONTENT_APPLICATION_DATA)
		return read_error(result, TLS_ALERT_UNEXPECTED_MESSAGE, -EPROTO);
	if (header[1] != 3 || header[2] != 3)
		return read_error(result, TLS_ALERT_PROTOCOL_VERSION, -EPROTO);
	if (length > (v13 ? TLS13_CIPHERTEXT_MAX : TLS12_CIPHERTEXT_MAX))
		return read_error(result, TLS_ALERT_RECORD_OVERFLOW, -EMSGSIZE);
	if (length < header_length - TLS_RECORD_HEADER_LENGTH + (v13 ? 1 : 0) + TLS_AEAD_TAG_LENGTH)
		return read_error(result, TLS_ALERT_BAD_RECORD_MAC, -EBADMSG);
	body_length = length - (header_length - TLS_RECORD_HEADER_LENGTH) - TLS_AEAD_TAG_LENGTH;
	if (body_length > TLS_RECORD_PLAINTEXT_MAX + (v13 ? 1 : 0))
		return read_error(result, TLS_ALERT_RECORD_OVERFLOW, -EMSGSIZE);
	if (available < TLS_RECORD_HEADER_LENGTH + length) {
		result->need = TLS_RECORD_HEADER_LENGTH + length;
		return 0;
	}
	if (plaintext && capacity < body_length) {
		result->need = body_length;
		return -ENOSPC;
	}
	if (!v13)
		tls_iov_cursor_read(&cursor, header + TLS_RECORD_HEADER_LENGTH, TLS_RECORD_EXPLICIT_NONCE_LENGTH);

	/* The nonce: TLS 1.2 takes the explicit part from the record, whatever the peer chose. */
	record_nonce(protection, *sequence, nonce);
	if (!v13)
		memcpy(nonce + 4, header + TLS_RECORD_HEADER_LENGTH, TLS_RECORD_EXPLICIT_NONCE_LENGTH);
	aad_length = record_aad(protection, *sequence, type, body_length, header, aad);

	if (plaintext) {
		tls_iov_cursor_init(&out, &flat, 1);
	} else {
		out = cursor;
		result->plaintext_offset = header_length;
	}
	schedule = protection->schedule;
	if (!schedule) {
		/* A key kept raw (the receive direction): expand it now that a record is here. */
		rc = tls_aead_schedule(worker, &protection->key->key, &worker->scratch_schedule);
		if (rc < 0)
			return rc;
		schedule = &worker->scratch_schedule;
	}
	rc = tls_aead_begin(worker, (enum tls_aead_cipher)protection->key->key.cipher, schedule, nonce, aad,
			    aad_length, false);
	for (size_t done = 0; rc == 0 && done < body_length;) {
		uint8_t *piece;
		size_t n = SLUICE_MIN(tls_iov_cursor_peek(&cursor, &piece), body_length - done);

		rc = tls_aead_update(worker, &out, piece, n);
		cursor.offset += n;
		done += n;
	}
	if (rc == 0)
		rc = tls_iov_cursor_read(&cursor, tag, TLS_AEAD_TAG_LENGTH);
	if (rc == 0)
		rc = tls_aead_verify(worker, tag);
	if (rc < 0) {
		/* Unauthenticated plaintext must not be seen. */
		if (plaintext)
			tls_aead_wipe(plaintext, body_length);
		return read_error(result, TLS_ALERT_BAD_RECORD_MAC, -EBADMSG);
	}

	content_length = body_length;
	if (v13) {
		struct tls_iov_cursor start;
		ssize_t last;

		if (plaintext) {
			tls_iov_cursor_init(&start, &flat, 1);
		} else {
			tls_iov_cursor_init(&start, in, in_count);
			tls_iov_cursor_skip(&start, header_length);
		}
		last = last_nonzero(start, body_length);
		if (last < 0)
			return read_error(result, TLS_ALERT_UNEXPECTED_MESSAGE, -EPROTO);
		content_length = (size_t)last;
		tls_iov_cursor_skip(&start, content_length);
		tls_iov_cursor_read(&start, &type, 1);
		if (type < TLS_CONTENT_ALERT || type > TLS_CONTENT_APPLICATION_DATA)
			return read_error(result, TLS_ALERT_UNEXPECTED_MESSAGE, -EPROTO);
		if (content_length > TLS_RECORD_PLAINTEXT_MAX)
			return read_error(result, TLS_ALERT_RECORD_OVERFLOW, -EMSGSIZE);
	}
	(*sequence)++;
	result->consumed = TLS_RECORD_HEADER_LENGTH + length;
	result->content_type = type;
	result->plaintext_length = content_length;
	return 1;
}
