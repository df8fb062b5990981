/* SPDX-License-Identifier: BSD-3-Clause
 *
 * tls_stream.h: the send direction of a TLS connection as a record plan: TCP asks for any
 * byte range of its send stream and gets exactly those bytes, sealed on demand from the
 * plaintext source. No ciphertext is kept for in-flight data, and no per-record state exists.
 * Runs per packet (produce, acked): no allocation, no I/O.
 *
 * Model. The HTTP layer appends plaintext; the stream lays it out in records by a fixed rule,
 * so that wire offset -> (record sequence number, offset in record, plaintext offset) is
 * computed, not stored:
 *
 *   - Each append() starts a "run" (unless it can extend the previous one, below). A run of
 *     L plaintext bytes is cut into records from its first byte: the first
 *     small_record_count records carry small_record_plaintext bytes each (default 10 x 1400:
 *     a 1400-byte record is 1422 (TLS 1.3) or 1429 (TLS 1.2) bytes on the wire and fits a
 *     1448-byte MSS, so the first packets of a response decode on their own and the player
 *     sees its first bytes without waiting for a 16 KiB record), then records of
 *     full_record_plaintext bytes (default 16384), the last one holding the remainder.
 *     Records never span runs: everything appended can be sealed at once.
 *   - Record numbers run on across runs; wire offsets are contiguous; application plaintext
 *     offsets count only appended data (alerts and KeyUpdates are not in that numbering).
 *   - An append extends the last run instead of starting one when no byte of the last run's
 *     last record has been produced yet (so nothing already sent changes): appending a
 *     response header and then its body, or several pipelined responses before TCP sends,
 *     costs no extra short records and no extra run slot.
 *   - Control runs hold one record each: an alert (close_notify, or the alert of an error) or
 *     a TLS 1.3 KeyUpdate. Records after a KeyUpdate use the next write key epoch and start
 *     again at sequence number 0; the stream tells produce() which epoch each record uses.
 *   - At most TLS_STREAM_RUNS runs are in flight (not fully acknowledged). Data and KeyUpdate
 *     runs use at most TLS_STREAM_RUNS - 1, so an alert always has a slot. append() returns
 *     -ENOBUFS when full: retry after acked() (backpressure to HTTP).
 *
 * Offsets. Wire offsets are TCP send-stream offsets relative to the start of the connection's
 * byte stream (the caller picks the origin, e.g. 0 = first byte after the SYN); the stream
 * starts at `wire_start` = the bytes of the handshake sent before the handoff (which TCP
 * keeps and retransmits itself). Plaintext offsets are the HTTP layer's: 0 is the first byte
 * it appended. A run appended when the stream ends at (W, P) maps plaintext [P, P+L) to
 * wire [W, W + L + records * overhead).
 *
 * Contract.
 *   append(L)                    the plaintext [plaintext_end, plaintext_end + L) exists in
 *                                the source from now on;
 *   wire_end()                   how far TCP may send;
 *   produce(off, len, src, out)  writes wire bytes [off, off + len) into `out`; any range of
 *                                [acked point, wire_end), any number of times, identical bytes
 *                                every time;
 *   acked(off)                   TCP's snd_una: runs entirely below are dropped; returns the
 *                                plaintext offset below which the source will not be asked
 *                                again (the start of the oldest record not entirely acked:
 *                                retransmitting its tag needs its whole plaintext).
 *
 * Invariants: head_wire <= produced_wire <= wire_end; runs are contiguous from head_wire;
 * at most one KeyUpdate run is in flight, so at most two write key epochs are live (the
 * record's epoch & 1 picks its key in struct tls_stream_keys).
 *
 * Memory: 64 bytes per connection, whatever the amount of data in flight.
 */
#ifndef SLUICE_TLS_STREAM_H
#define SLUICE_TLS_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "tls_aead.h"
#include "tls_record.h"

#define TLS_STREAM_RUNS 4
#define TLS_STREAM_SMALL_RECORD_PLAINTEXT 1400 /* bytes; default */
#define TLS_STREAM_SMALL_RECORD_COUNT 10       /* records; default */
#define TLS_STREAM_RUN_PLAINTEXT_MAX UINT32_MAX /* bytes one run holds; longer appends start new runs */

enum tls_stream_run_kind {
	TLS_STREAM_RUN_DATA = 0,
	TLS_STREAM_RUN_ALERT = 1,      /* run_value = level << 8 | description */
	TLS_STREAM_RUN_KEY_UPDATE = 2, /* run_value = 1 if update_requested */
};

enum tls_stream_flags {
	TLS_STREAM_CLOSED = 1 << 0, /* close_notify or a fatal alert appended: nothing may follow */
};

/* How runs are cut into records. Zero fields take the defaults. */
struct tls_stream_layout {
	uint16_t small_record_plaintext; /* bytes, <= full_record_plaintext */
	uint8_t small_record_count;      /* records at the start of each run; 0 = none */
	uint16_t full_record_plaintext;  /* bytes, <= 16384 (lower after max_fragment_length) */
};

struct tls_stream {
	uint64_t head_wire;      /* wire offset of the first byte of the oldest run */
	uint64_t head_plaintext; /* plaintext offset of the oldest run */
	uint64_t head_record;    /* sequence number of the oldest run's first record */
	uint64_t produced_wire;  /* end of the furthest byte ever produced */
	uint32_t run_value[TLS_STREAM_RUNS];
	uint8_t run_kind[TLS_STREAM_RUNS];
	uint8_t run_first;       /* ring index of the oldest run */
	uint8_t run_count;
	uint8_t overhead;        /* 22: TLS 1.3, 29: TLS 1.2 */
	uint8_t head_epoch;      /* write key epoch of the oldest run (mod 256) */
	uint16_t small_record_plaintext;
	uint16_t full_record_plaintext;
	uint8_t small_record_count;
	uint8_t flags;
};
_Static_assert(sizeof(struct tls_stream) == 64, "the record plan must stay one cache line");

/* One record of the plan, as tls_stream_locate finds it. */
struct tls_stream_record {
	uint64_t wire_offset;      /* first byte of the record */
	uint64_t sequence;         /* record number under its epoch */
	uint64_t plaintext_offset; /* data: application plaintext offset of its first byte */
	uint32_t plaintext_length; /* bytes of content (alert 2, KeyUpdate 5) */
	uint8_t content_type;      /* enum tls_content_type */
	uint8_t epoch;             /* write key epoch */
	uint8_t run_kind;          /* enum tls_stream_run_kind */
	uint32_t run_value;
};

/*
 * The write keys. key[e & 1] is the raw key + IV of epoch e; schedule, if not NULL, is the
 * expanded key of epoch schedule_epoch. Records of another epoch are sealed with a key
 * expanded on demand into the worker's scratch schedule (retransmissions across a KeyUpdate).
 */
struct tls_stream_keys {
	const struct tls_record_key *key[2];
	const struct tls_aead_schedule *schedule;
	uint8_t schedule_epoch;
};

/*
 * Starts the plan: version TLS_VERSION_1_3 / _1_2, the wire offset of its first byte, the
 * sequence number of its first record (TLS 1.3: the number of NewSessionTicket records the
 * handshake sent; TLS 1.2: 1), `layout` (NULL = defaults). -EINVAL on a bad version/layout.
 */
int tls_stream_init(struct tls_stream *stream, uint16_t version, uint64_t wire_start, uint64_t first_record,
		    const struct tls_stream_layout *layout);

/* 0, -ENOBUFS (no run slot: retry after acked), -EPIPE (closed). Zero length is a no-op. */
int tls_stream_append(struct tls_stream *stream, uint64_t plaintext_length);
/* An alert record; close_notify or a fatal level closes the stream. 0, -ENOBUFS, -EPIPE. */
int tls_stream_append_alert(struct tls_stream *stream, uint8_t level, uint8_t description);
/*
 * A TLS 1.3 KeyUpdate record, after which records use epoch tls_stream_write_epoch() (one
 * more). The caller must have the new key in struct tls_stream_keys before producing them.
 * -EBUSY: a KeyUpdate is still in flight (retry after acked); -EPROTO: TLS 1.2.
 */
int tls_stream_append_key_update(struct tls_stream *stream, bool update_requested);

uint64_t tls_stream_wire_end(const struct tls_stream *stream);
uint64_t tls_stream_plaintext_end(const struct tls_stream *stream);
/* The epoch of records appended from now on. */
uint8_t tls_stream_write_epoch(const struct tls_stream *stream);
/* The sequence number the next appended record will have (under tls_stream_write_epoch). */
uint64_t tls_stream_next_record(const struct tls_stream *stream);
static inline bool tls_stream_closed(const struct tls_stream *stream)
{
	return stream->flags & TLS_STREAM_CLOSED;
}

/* The record holding wire byte `wire_offset`: 0, or -ERANGE outside [head, wire_end). */
int tls_stream_locate(const struct tls_stream *stream, uint64_t wire_offset, struct tls_stream_record *record);

/*
 * Writes wire bytes [wire_offset, wire_offset + wire_length) into `out` (out_count entries,
 * at least wire_length bytes in all). Returns 0, -ERANGE (outside [head, wire_end)),
 * -ENOSPC, or the source's error. A failed call changes nothing in the stream (produced_wire
 * moves only on success), so calling again once the source can deliver (a page-in) produces
 * what the failed call would have; `out` holds garbage after a failure.
 */
int tls_stream_produce(struct tls_stream *stream, struct tls_aead_worker *worker, const struct tls_stream_keys *keys,
		       uint64_t wire_offset, size_t wire_length, const struct tls_record_source *source,
		       const struct iovec *out, unsigned out_count);

/* TCP acknowledged everything below `wire_offset`; returns the released plaintext offset. */
uint64_t tls_stream_acked(struct tls_stream *stream, uint64_t wire_offset);

#endif /* SLUICE_TLS_STREAM_H */
