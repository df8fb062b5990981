/* SPDX-License-Identifier: BSD-3-Clause
 *
 * tls_session.h: a TLS connection after the key handoff: everything the data plane keeps per
 * connection once OpenSSL's SSL object is freed, and the protocol it then speaks by itself.
 * Runs per packet: no allocation (KeyUpdate derivations call OpenSSL's KDF, which allocates
 * briefly; a KeyUpdate is rare and bounded to one per received record), no I/O.
 *
 * Send:    tls_session_append(len) -> the HTTP layer's plaintext, laid out by tls_stream;
 *          tls_session_produce(off, len, source, out) -> wire bytes for TCP, first
 *          transmission or retransmission alike; tls_session_acked(snd_una) -> plaintext
 *          offset the source may release. See tls_stream.h for offsets and the layout.
 * Receive: tls_session_receive(in) on TCP's unconsumed in-order bytes -> one record's event.
 *
 *   record received                    event              what the session did
 *   application data                   DATA               plaintext in the caller's buffer
 *   TLS 1.3 KeyUpdate                  KEY_UPDATE         next read key ("traffic upd"); if
 *                                                         update_requested: our KeyUpdate
 *                                                         appended, write keys switched after it
 *   close_notify                       PEER_CLOSED        our close_notify appended: send, close
 *   any other alert                    PEER_ALERT         nothing sent: close
 *   TLS 1.2 ClientHello (renegotiate)  RENEGOTIATION_REFUSED  warning no_renegotiation appended;
 *                                                         the connection goes on (the client
 *                                                         decides; OpenSSL clients then abort)
 *   bad record, bad message            ERROR              fatal alert appended: send, close
 *   incomplete record                  NEED_MORE          keep the bytes, call with >= need
 *
 * Post-handshake handshake messages must arrive whole, one per record (as OpenSSL and the
 * browsers send KeyUpdate); a fragmented one is answered with unexpected_message, a
 * coalesced one with decode_error.
 *
 * Keys. Sending uses one expanded schedule (the epoch TCP is sending in) plus raw keys of at
 * most two write epochs (a KeyUpdate in flight: retransmissions of records sealed before it
 * expand the old key on demand). Receiving keeps only the raw key and expands it per
 * received record into the worker's scratch schedule (requests are rare and small).
 * If our KeyUpdate cannot be appended yet (the previous one is not acknowledged), it is owed
 * and appended by a later tls_session_acked (RFC 8446 4.6.3 allows one answer for several).
 *
 * Memory per connection after the handoff (both engines), struct tls_session:
 *   write schedule 1024 (ipsec-mb gcm_key_data; OpenSSL uses 32 of it)
 *   + raw write keys 2 x 48 + raw read key 48 + TLS 1.3 traffic secrets 2 x 48
 *   + read sequence 8 + record plan (tls_stream) 64 + 8 of flags  = 1344 bytes (21 cache lines).
 * Without the write schedule (expanding it per produce call instead, see perf/tls_bench's
 * schedule_ns) it would be 320 bytes.
 */
#ifndef SLUICE_TLS_SESSION_H
#define SLUICE_TLS_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "tls_aead.h"
#include "tls_handshake.h"
#include "tls_keys.h"
#include "tls_record.h"
#include "tls_stream.h"

#define TLS_SESSION_RECORDS_PER_KEY (1ull << 23) /* records; margin under RFC 8446 5.5 */

enum tls_session_flags {
	TLS_SESSION_FLAG_KEY_UPDATE_OWED = 1 << 0, /* peer asked for a KeyUpdate we could not append yet */
	TLS_SESSION_FLAG_PEER_CLOSED = 1 << 1,     /* close_notify or an alert received: nothing more is read */
	TLS_SESSION_FLAG_FAILED = 1 << 2,          /* we sent a fatal alert */
};

struct tls_session {
	struct tls_aead_schedule write_schedule; /* epoch write_schedule_epoch, expanded */
	struct tls_record_key write_key[2];     /* raw key of write epoch e at [e & 1] */
	struct tls_record_key read_key;
	uint8_t write_secret[TLS_SECRET_MAX];    /* TLS 1.3: secret of the newest write epoch */
	uint8_t read_secret[TLS_SECRET_MAX];
	uint64_t read_sequence;
	struct tls_stream stream;
	uint16_t version;
	uint8_t hash;
	uint8_t write_schedule_epoch;
	uint8_t flags;
};
_Static_assert(sizeof(struct tls_session) == 1344, "per-connection TLS memory is documented in tls_session.h");

enum tls_session_event {
	TLS_SESSION_NEED_MORE = 0,
	TLS_SESSION_DATA,
	TLS_SESSION_KEY_UPDATE,
	TLS_SESSION_PEER_CLOSED,
	TLS_SESSION_PEER_ALERT,
	TLS_SESSION_RENEGOTIATION_REFUSED,
	TLS_SESSION_ERROR,
};

struct tls_session_receive_result {
	enum tls_session_event event;
	size_t consumed;         /* input bytes of the record (0 for NEED_MORE) */
	size_t need;             /* NEED_MORE: input bytes needed; -ENOSPC: plaintext capacity needed */
	size_t plaintext_offset; /* DATA decrypted in place: offset from the record start */
	size_t plaintext_length; /* DATA */
	uint8_t alert;           /* PEER_ALERT: received; ERROR: the fatal alert appended */
};

/*
 * Takes over from the handshake: keys, sequence numbers, the stream starting at wire offset
 * `wire_start` (after the handshake bytes TCP already holds), record layout (NULL = defaults;
 * full records are capped at handoff->record_plaintext_max). Expands the write key.
 */
int tls_session_init(struct tls_session *session, struct tls_aead_worker *worker,
		     const struct tls_handshake_handoff *handoff, uint64_t wire_start,
		     const struct tls_stream_layout *layout);
/* Erases keys and secrets (call when the connection is freed). */
void tls_session_wipe(struct tls_session *session);

/*
 * The HTTP layer's next plaintext bytes (see tls_stream_append). TLS 1.3: once a write key
 * has sealed TLS_SESSION_RECORDS_PER_KEY records, a KeyUpdate is appended first (RFC 8446
 * 5.5 limits AES-GCM to 2^24.5 records per key).
 */
int tls_session_append(struct tls_session *session, uint64_t plaintext_length);
static inline uint64_t tls_session_wire_end(const struct tls_session *session)
{
	return tls_stream_wire_end(&session->stream);
}

/* TCP needs wire bytes [wire_offset, +wire_length): see tls_stream_produce. A source error
 * (-ENOBUFS: bytes being paged in) leaves the stream as it was; the only state that may have
 * moved is the expanded write key (to a newer epoch), which does not change any byte. */
int tls_session_produce(struct tls_session *session, struct tls_aead_worker *worker, uint64_t wire_offset,
			size_t wire_length, const struct tls_record_source *source, const struct iovec *out,
			unsigned out_count);

/* TCP's snd_una moved: returns the released plaintext offset; appends an owed KeyUpdate. */
uint64_t tls_session_acked(struct tls_session *session, uint64_t wire_offset);

/* Appends close_notify (our side is done). -EPIPE if already closed. */
int tls_session_close(struct tls_session *session);

/* TLS 1.3: appends our KeyUpdate and moves the write keys on. -EBUSY: one is in flight. */
int tls_session_update_keys(struct tls_session *session, bool request_peer_update);

/*
 * Opens the record at the start of `in` (TCP's unconsumed bytes) and acts on it (see the
 * table above). `plaintext`/`capacity` as in tls_record_read (NULL: in place). Returns 0
 * with result->event set, -ENOSPC (capacity too small: result->need), -EPIPE (the session
 * already ended: closed or failed).
 */
int tls_session_receive(struct tls_session *session, struct tls_aead_worker *worker, const struct iovec *in,
			unsigned in_count, void *plaintext, size_t capacity, struct tls_session_receive_result *result);

#endif /* SLUICE_TLS_SESSION_H */
