/* SPDX-License-Identifier: BSD-3-Clause
 *
 * tls_record.h: TLS 1.3 and TLS 1.2 AES-GCM records: sealing (whole records or any byte range
 * of one) and a record reader for the receive direction. Runs per record: no allocation,
 * no I/O, no logging (STYLE.md rule 10).
 *
 * Wire format of one record (H header bytes sent in clear, C body bytes encrypted, 16-byte tag):
 *
 *   TLS 1.3  H = 5:  23, 0x03 0x03, length(2)                  C = plaintext + 1 (inner type)
 *            nonce = IV XOR (0^4 || sequence), AAD = the 5-byte header
 *   TLS 1.2  H = 13: type, 0x03 0x03, length(2), sequence(8)   C = plaintext
 *            (the 8-byte explicit nonce is the sequence number, as OpenSSL sends it)
 *            nonce = salt(4) || sequence(8), AAD = sequence(8) type version(2) plaintext_length(2)
 *
 *   overhead per record: TLS 1.3 22 bytes, TLS 1.2 29 bytes (tls_record_overhead).
 *
 * Producing a byte range [from, to) of a record (tls_record_produce) is what a TCP
 * retransmission of part of a record costs, because the data plane keeps no ciphertext:
 *   - header bytes are rebuilt (free);
 *   - body bytes that end before the tag: AES-CTR over exactly those bytes (the keystream of
 *     GCM starts at counter block J0 + 1 + offset / 16), so cost ~ (to - from);
 *   - a range that includes any tag byte: the tag is GHASH over the whole ciphertext, so the
 *     whole record is sealed again (bytes before `from` go to the worker's discard area):
 *     cost ~ one full record (≈ 1.2 µs for 16 KiB at 14 GB/s; 1400-byte records ≈ 0.15 µs).
 *     Keeping the tags would cost 16 bytes per in-flight record per connection; we do not.
 * Sealing the same record again (same key, sequence, type and plaintext) gives identical bytes.
 *
 * Plaintext comes from a caller-supplied source (struct tls_record_source): one callback
 * that maps a range of the caller's plaintext offsets to a pointer (an mmap'd file page, a
 * header buffer). Ciphertext goes into a caller-supplied scatter list (mbuf data areas).
 *
 * Receiving (tls_record_read): TCP hands over the bytes it has received in order and not yet
 * consumed, as a scatter list starting at a record boundary (headers may be split across
 * segments; any segmentation works). The reader needs the whole record before it decrypts
 * (GCM must verify the tag before plaintext may be used), so when the record is incomplete it
 * returns 0 and the number of bytes it needs: TCP keeps those mbufs (at most one record,
 * 16,645 bytes) and calls again when more arrived. It copies only the 5 header bytes and the
 * tag; the body is decrypted into the caller's buffer, or in place in the input segments.
 * Errors carry the alert to send: bad_record_mac (authentication failed or the body is too
 * short to hold a tag), record_overflow (RFC 8446 5.2 / RFC 5246 6.2.3 limits),
 * unexpected_message (wrong outer type, TLS 1.3 all-zero inner plaintext),
 * protocol_version (record version is not 0x0303).
 */
#ifndef SLUICE_TLS_RECORD_H
#define SLUICE_TLS_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tls_aead.h"

enum tls_version {
	TLS_VERSION_1_2 = 0x0303,
	TLS_VERSION_1_3 = 0x0304,
};

enum tls_content_type {
	TLS_CONTENT_CHANGE_CIPHER_SPEC = 20,
	TLS_CONTENT_ALERT = 21,
	TLS_CONTENT_HANDSHAKE = 22,
	TLS_CONTENT_APPLICATION_DATA = 23,
};

enum tls_alert_level {
	TLS_ALERT_LEVEL_WARNING = 1,
	TLS_ALERT_LEVEL_FATAL = 2,
};

enum tls_alert {
	TLS_ALERT_CLOSE_NOTIFY = 0,
	TLS_ALERT_UNEXPECTED_MESSAGE = 10,
	TLS_ALERT_BAD_RECORD_MAC = 20,
	TLS_ALERT_RECORD_OVERFLOW = 22,
	TLS_ALERT_HANDSHAKE_FAILURE = 40,
	TLS_ALERT_DECODE_ERROR = 50,
	TLS_ALERT_PROTOCOL_VERSION = 70,
	TLS_ALERT_INTERNAL_ERROR = 80,
	TLS_ALERT_USER_CANCELED = 90,
	TLS_ALERT_NO_RENEGOTIATION = 100,
	TLS_ALERT_NO_APPLICATION_PROTOCOL = 120,
};

#define TLS_RECORD_HEADER_LENGTH 5
#define TLS_RECORD_PLAINTEXT_MAX 16384           /* 2^14 bytes of content per record */
#define TLS_RECORD_EXPLICIT_NONCE_LENGTH 8       /* TLS 1.2 AES-GCM */
#define TLS13_RECORD_OVERHEAD (TLS_RECORD_HEADER_LENGTH + 1 + TLS_AEAD_TAG_LENGTH)
#define TLS12_RECORD_OVERHEAD (TLS_RECORD_HEADER_LENGTH + TLS_RECORD_EXPLICIT_NONCE_LENGTH + TLS_AEAD_TAG_LENGTH)
#define TLS13_CIPHERTEXT_MAX (TLS_RECORD_PLAINTEXT_MAX + 256)   /* RFC 8446 5.2 */
#define TLS12_CIPHERTEXT_MAX (TLS_RECORD_PLAINTEXT_MAX + 2048)  /* RFC 5246 6.2.3 */
#define TLS_RECORD_WIRE_MAX (TLS_RECORD_HEADER_LENGTH + TLS12_CIPHERTEXT_MAX)

/*
 * The key of one direction under one key epoch. TLS 1.3: iv is the 12-byte static IV.
 * TLS 1.2: iv[0..3] is the 4-byte salt ("implicit nonce"), iv[4..11] are zero.
 */
struct tls_record_key {
	struct tls_aead_key key;
	uint8_t iv[TLS_AEAD_NONCE_LENGTH];
	uint8_t padding[3];
};
_Static_assert(sizeof(struct tls_record_key) == 48, "tls_record_key is part of per-connection state");

/*
 * How one direction's records are protected: the raw key + IV and the engine's schedule of it.
 * tls_record_read accepts schedule == NULL: it then expands the key into the worker's scratch
 * schedule when a whole record is there (keys kept raw, see tls_aead.h).
 */
struct tls_record_protection {
	uint16_t version; /* enum tls_version */
	const struct tls_record_key *key;
	const struct tls_aead_schedule *schedule;
};

/*
 * Where plaintext comes from. map() points *piece at the plaintext bytes at `offset` (the
 * caller's own numbering) and returns how many are there, at least 1 and at most `length`,
 * or -errno (which produce returns). The bytes must stay valid until the next map() call.
 */
struct tls_record_source {
	ssize_t (*map)(void *context, uint64_t offset, size_t length, const uint8_t **piece);
	void *context;
};

/* A source over a scatter list whose first byte has plaintext offset `base_offset`. */
struct tls_record_source_iovec {
	const struct iovec *iov;
	unsigned count;
	uint64_t base_offset;
};
void tls_record_source_from_iovec(struct tls_record_source *source, struct tls_record_source_iovec *list);

/* Bytes a record adds to its plaintext: 22 (TLS 1.3), 29 (TLS 1.2), 0 for another version. */
size_t tls_record_overhead(uint16_t version);
/* Bytes before the encrypted body: 5 (TLS 1.3), 13 (TLS 1.2). */
size_t tls_record_header_length(uint16_t version);
/* The whole record's wire length for `plaintext_length` bytes of content. */
static inline size_t tls_record_wire_length(uint16_t version, size_t plaintext_length)
{
	return plaintext_length + tls_record_overhead(version);
}

/*
 * Writes bytes [from, to) of the record with this sequence number, content type and the
 * `plaintext_length` bytes of plaintext at `plaintext_offset` of `source`, into `out`
 * (advanced). to <= tls_record_wire_length(). Returns 0, -EINVAL (range, type, length),
 * -ENOSPC (out too short; output is then incomplete) or the source's error.
 */
int tls_record_produce(struct tls_aead_worker *worker, const struct tls_record_protection *protection,
		       uint64_t sequence, uint8_t content_type, const struct tls_record_source *source,
		       uint64_t plaintext_offset, size_t plaintext_length, size_t from, size_t to,
		       struct tls_iov_cursor *out);

/* The whole record from flat plaintext (alerts, tests). */
int tls_record_seal(struct tls_aead_worker *worker, const struct tls_record_protection *protection,
		    uint64_t sequence, uint8_t content_type, const void *plaintext, size_t plaintext_length,
		    struct tls_iov_cursor *out);

/* What tls_record_read found. */
struct tls_record_read_result {
	size_t consumed;          /* opened: input bytes the record took (header + body + tag) */
	size_t need;              /* partial: input bytes needed from the record start */
	size_t plaintext_offset;  /* opened in place: offset of the plaintext from the record start */
	size_t plaintext_length;  /* opened: content bytes (TLS 1.3: type and padding removed) */
	uint8_t content_type;     /* opened: enum tls_content_type (TLS 1.3: the inner type) */
	uint8_t alert;            /* error: enum tls_alert to send before closing */
};

/*
 * Parses and opens the record at the start of `in` (in_count entries) with `protection` and
 * sequence number *sequence (incremented on success).
 *   plaintext != NULL: the body is decrypted into plaintext[0..capacity); a record whose body
 *                      does not fit returns -ENOSPC with result->need = the capacity needed
 *                      (nothing consumed; no alert).
 *   plaintext == NULL: decrypted in place; the content is at result->plaintext_offset from the
 *                      record start in `in` (input must be writable).
 * Returns 1 (a record opened), 0 (incomplete: result->need bytes are needed; call again with
 * more), or -EBADMSG / -EMSGSIZE / -EPROTO with result->alert set. After an error the
 * connection must be closed (with that alert): the reader does not resynchronise.
 */
int tls_record_read(struct tls_aead_worker *worker, const struct tls_record_protection *protection,
		    uint64_t *sequence, const struct iovec *in, unsigned in_count, void *plaintext,
		    size_t capacity, struct tls_record_read_result *result);

#endif /* SLUICE_TLS_RECORD_H */
