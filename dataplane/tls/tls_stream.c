/* SPDX-License-Identifier: BSD-3-Clause
 *
 * tls_stream.c: the send-stream record plan; see tls_stream.h for the model and contract.
 * Per-packet code (produce, acked, locate): constant work per record, no allocation.
 */
#include "tls_stream.h"

#include <errno.h>
#include <string.h>

#include "compiler.h"

static inline uint16_t stream_version(const struct tls_stream *stream)
{
	return stream->overhead == TLS13_RECORD_OVERHEAD ? TLS_VERSION_1_3 : TLS_VERSION_1_2;
}

static inline unsigned ring_index(const struct tls_stream *stream, unsigned i)
{
	return (stream->run_first + i) % TLS_STREAM_RUNS;
}

/* Records and wire bytes of a data run of `length` plaintext bytes. */
struct run_shape {
	uint64_t small_plaintext; /* plaintext in the small records */
	uint64_t small_records;
	uint64_t small_wire;
	uint64_t records;
	uint64_t wire;
};

static void data_run_shape(const struct tls_stream *stream, uint64_t length, struct run_shape *shape)
{
	uint64_t small = stream->small_record_plaintext, full = stream->full_record_plaintext;
	uint64_t rest;

	shape->small_plaintext = SLUICE_MIN(length, (uint64_t)stream->small_record_count * small);
	shape->small_records = (shape->small_plaintext + small - 1) / small;
	shape->small_wire = shape->small_plaintext + shape->small_records * stream->overhead;
	rest = length - shape->small_plaintext;
	shape->records = shape->small_records + (rest + full - 1) / full;
	shape->wire = length + shape->records * stream->overhead;
}

static uint32_t control_plaintext_length(uint8_t kind)
{
	return kind == TLS_STREAM_RUN_ALERT ? 2 : 5; /* alert: level, description; KeyUpdate: 4 + 1 */
}

static uint64_t run_wire_length(const struct tls_stream *stream, unsigned i, uint64_t *records)
{
	unsigned slot = ring_index(stream, i);
	struct run_shape shape;

	if (stream->run_kind[slot] != TLS_STREAM_RUN_DATA) {
		*records = 1;
		return control_plaintext_length(stream->run_kind[slot]) + stream->overhead;
	}
	data_run_shape(stream, stream->run_value[slot], &shape);
	*records = shape.records;
	return shape.wire;
}

int tls_stream_init(struct tls_stream *stream, uint16_t version, uint64_t wire_start, uint64_t first_record,
		    const struct tls_stream_layout *layout)
{
	struct tls_stream_layout defaults = {
		.small_record_plaintext = TLS_STREAM_SMALL_RECORD_PLAINTEXT,
		.small_record_count = TLS_STREAM_SMALL_RECORD_COUNT,
		.full_record_plaintext = TLS_RECORD_PLAINTEXT_MAX,
	};

	memset(stream, 0, sizeof(*stream));
	if (layout) {
		if (layout->full_record_plaintext)
			defaults.full_record_plaintext = layout->full_record_plaintext;
		if (layout->small_record_plaintext)
			defaults.small_record_plaintext = layout->small_record_plaintext;
		defaults.small_record_count = layout->small_record_count;
		if (defaults.small_record_plaintext > defaults.full_record_plaintext)
			defaults.small_record_plaintext = defaults.full_record_plaintext;
	}
	if ((version != TLS_VERSION_1_3 && version != TLS_VERSION_1_2) ||
	    defaults.full_record_plaintext > TLS_RECORD_PLAINTEXT_MAX)
		return -EINVAL;
	stream->head_wire = wire_start;
	stream->produced_wire = wire_start;
	stream->head_record = first_record;
	stream->overhead = (uint8_t)tls_record_overhead(version);
	stream->small_record_plaintext = defaults.small_record_plaintext;
	stream->small_record_count = defaults.small_record_count;
	stream->full_record_plaintext = defaults.full_record_plaintext;
	return 0;
}

/* Walks the runs to the end: wire end, plaintext end, next record number, epoch. */
struct stream_end {
	uint64_t wire, plaintext, record;
	uint8_t epoch;
	uint64_t last_run_wire; /* wire offset where the last run starts */
};

static void stream_end(const struct tls_stream *stream, struct stream_end *end)
{
	end->wire = stream->head_wire;
	end->plaintext = stream->head_plaintext;
	end->record = stream->head_record;
	end->epoch = stream->head_epoch;
	end->last_run_wire = stream->head_wire;
	for (unsigned i = 0; i < stream->run_count; i++) {
		unsigned slot = ring_index(stream, i);
		uint64_t records;

		end->last_run_wire = end->wire;
		end->wire += run_wire_length(stream, i, &records);
		if (stream->run_kind[slot] == TLS_STREAM_RUN_DATA)
			end->plaintext += stream->run_value[slot];
		if (stream->run_kind[slot] == TLS_STREAM_RUN_KEY_UPDATE) {
			end->record = 0;
			end->epoch++;
		} else {
			end->record += records;
		}
	}
}

uint64_t tls_stream_wire_end(const struct tls_stream *stream)
{
	struct stream_end end;

	stream_end(stream, &end);
	return end.wire;
}

uint64_t tls_stream_plaintext_end(const struct tls_stream *stream)
{
	struct stream_end end;

	stream_end(stream, &end);
	return end.plaintext;
}

uint8_t tls_stream_write_epoch(const struct tls_stream *stream)
{
	struct stream_end end;

	stream_end(stream, &end);
	return end.epoch;
}

uint64_t tls_stream_next_record(const struct tls_stream *stream)
{
	struct stream_end end;

	stream_end(stream, &end);
	return end.record;
}

static int push_run(struct tls_stream *stream, uint8_t kind, uint32_t value, unsigned limit)
{
	unsigned slot;

	if (stream->run_count >= limit)
		return -ENOBUFS;
	slot = ring_index(stream, stream->run_count);
	stream->run_kind[slot] = kind;
	stream->run_value[slot] = value;
	stream->run_count++;
	return 0;
}

/* Plaintext bytes the last run can still take without changing anything already produced. */
static uint64_t last_run_room(const struct tls_stream *stream)
{
	unsigned last = ring_index(stream, stream->run_count + TLS_STREAM_RUNS - 1u);
	struct stream_end end;
	struct tls_stream_record record;

	if (!stream->run_count || stream->run_kind[last] != TLS_STREAM_RUN_DATA)
		return 0;
	/* Extending a run changes only its last record: allowed while none of it went out. */
	stream_end(stream, &end);
	if (tls_stream_locate(stream, end.wire - 1, &record) < 0 || stream->produced_wire > record.wire_offset)
		return 0;
	return (uint64_t)TLS_STREAM_RUN_PLAINTEXT_MAX - stream->run_value[last];
}

int tls_stream_append(struct tls_stream *stream, uint64_t plaintext_length)
{
	uint64_t room, rest, runs;

	if (stream->flags & TLS_STREAM_CLOSED)
		return -EPIPE;
	if (!plaintext_length)
		return 0;
	room = SLUICE_MIN(last_run_room(stream), plaintext_length);
	rest = plaintext_length - room;
	runs = (rest + TLS_STREAM_RUN_PLAINTEXT_MAX - 1) / TLS_STREAM_RUN_PLAINTEXT_MAX;
	if (stream->run_count + runs > TLS_STREAM_RUNS - 1)
		return -ENOBUFS; /* nothing appended */
	if (room)
		stream->run_value[ring_index(stream, stream->run_count - 1u)] += (uint32_t)room;
	while (rest) {
		uint32_t piece = (uint32_t)SLUICE_MIN(rest, (uint64_t)TLS_STREAM_RUN_PLAINTEXT_MAX);

		(void)push_run(stream, TLS_STREAM_RUN_DATA, piece, TLS_STREAM_RUNS - 1);
		rest -= piece;
	}
	return 0;
}

int tls_stream_append_alert(struct tls_stream *stream, uint8_t level, uint8_t description)
{
	int rc;

	if (stream->flags & TLS_STREAM_CLOSED)
		return -EPIPE;
	rc = push_run(stream, TLS_STREAM_RUN_ALERT, (uint32_t)level << 8 | description, TLS_STREAM_RUNS);
	if (rc == 0 && (level == TLS_ALERT_LEVEL_FATAL || description == TLS_ALERT_CLOSE_NOTIFY))
		stream->flags |= TLS_STREAM_CLOSED;
	return rc;
}

int tls_stream_append_key_update(struct tls_stream *stream, bool update_requested)
{
	if (stream->flags & TLS_STREAM_CLOSED)
		return -EPIPE;
	if (stream->overhead != TLS13_RECORD_OVERHEAD)
		return -EPROTO;
	for (unsigned i = 0; i < stream->run_count; i++)
		if (stream->run_kind[ring_index(stream, i)] == TLS_STREAM_RUN_KEY_UPDATE)
			return -EBUSY;
	return push_run(stream, TLS_STREAM_RUN_KEY_UPDATE, update_requested, TLS_STREAM_RUNS - 1);
}

int tls_stream_locate(const struct tls_stream *stream, uint64_t wire_offset, struct tls_stream_record *record)
{
	uint64_t wire = stream->head_wire, plaintext = stream->head_plaintext, sequence = stream->head_record;
	uint8_t epoch = stream->head_epoch;

	if (wire_offset < wire)
		return -ERANGE;
	for (unsigned i = 0; i < stream->run_count; i++) {
		unsigned slot = ring_index(stream, i);
		uint8_t kind = stream->run_kind[slot];
		uint64_t records, length = run_wire_length(stream, i, &records);

		if (wire_offset < wire + length) {
			record->epoch = epoch;
			record->run_kind = kind;
			record->run_value = stream->run_value[slot];
			record->plaintext_offset = plaintext;
			if (kind != TLS_STREAM_RUN_DATA) {
				record->wire_offset = wire;
				record->sequence = sequence;
				record->plaintext_length = control_plaintext_length(kind);
				record->content_type = kind == TLS_STREAM_RUN_ALERT ? TLS_CONTENT_ALERT : TLS_CONTENT_HANDSHAKE;
				return 0;
			}
			{
				struct run_shape shape;
				uint64_t x = wire_offset - wire, index, offset;
				uint64_t small = stream->small_record_plaintext, full = stream->full_record_plaintext;
				uint64_t run_length = stream->run_value[slot];

				data_run_shape(stream, run_length, &shape);
				if (x < shape.small_wire) {
					index = x / (small + stream->overhead);
					offset = index * small;
					record->wire_offset = wire + index * (small + stream->overhead);
					record->plaintext_length = (uint32_t)SLUICE_MIN(small, shape.small_plaintext - offset);
				} else {
					uint64_t k = (x - shape.small_wire) / (full + stream->overhead);

					index = shape.small_records + k;
					offset = shape.small_plaintext + k * full;
					record->wire_offset = wire + shape.small_wire + k * (full + stream->overhead);
					record->plaintext_length = (uint32_t)SLUICE_MIN(full, run_length - offset);
				}
				record->sequence = sequence + index;
				record->plaintext_offset = plaintext + offset;
				record->content_type = TLS_CONTENT_APPLICATION_DATA;
				return 0;
			}
		}
		wire += length;
		if (kind == TLS_STREAM_RUN_DATA)
			plaintext += stream->run_value[slot];
		if (kind == TLS_STREAM_RUN_KEY_UPDATE) {
			sequence = 0;
			epoch++;
		} else {
			sequence += records;
		}
	}
	return -ERANGE;
}

static ssize_t control_map(void *context, uint64_t offset, size_t length, const uint8_t **piece)
{
	*piece = (const uint8_t *)context + offset;
	return (ssize_t)length;
}

int tls_stream_produce(struct tls_stream *stream, struct tls_aead_worker *worker, const struct tls_stream_keys *keys,
		       uint64_t wire_offset, size_t wire_length, const struct tls_record_source *source,
		       const struct iovec *out, unsigned out_count)
{
	uint64_t end = wire_offset + wire_length, position = wire_offset;
	int scratch_epoch = -1; /* epoch the worker's scratch schedule holds in this call, if any */
	struct tls_iov_cursor cursor;

	if (!wire_length)
		return 0;
	if (wire_offset < stream->head_wire || end > tls_stream_wire_end(stream) || end < wire_offset)
		return -ERANGE;
	tls_iov_cursor_init(&cursor, out, out_count);
	if (tls_iov_cursor_remaining(&cursor) < wire_length)
		return -ENOSPC;
	while (position < end) {
		struct tls_stream_record record;
		struct tls_record_protection protection = {.version = stream_version(stream)};
		uint8_t control[5];
		struct tls_record_source control_source = {.map = control_map, .context = control};
		const struct tls_record_source *from = source;
		size_t record_wire;
		int rc;

		rc = tls_stream_locate(stream, position, &record);
		if (unlikely(rc < 0))
			return rc;
		protection.key = keys->key[record.epoch & 1];
		if (keys->schedule && record.epoch == keys->schedule_epoch) {
			protection.schedule = keys->schedule;
		} else {
			/* A key not kept expanded: expand it once per call. */
			if (scratch_epoch != record.epoch) {
				rc = tls_aead_schedule(worker, &protection.key->key, &worker->scratch_schedule);
				if (rc < 0)
					return rc;
				scratch_epoch = record.epoch;
			}
			protection.schedule = &worker->scratch_schedule;
		}
		if (record.run_kind == TLS_STREAM_RUN_ALERT) {
			control[0] = (uint8_t)(record.run_value >> 8);
			control[1] = (uint8_t)record.run_value;
			from = &control_source;
		} else if (record.run_kind == TLS_STREAM_RUN_KEY_UPDATE) {
			control[0] = 24; /* key_update */
			control[1] = 0;
			control[2] = 0;
			control[3] = 1;
			control[4] = (uint8_t)record.run_value;
			from = &control_source;
		}
		record_wire = tls_record_wire_length(protection.version, record.plaintext_length);
		rc = tls_record_produce(worker, &protection, record.sequence, record.content_type, from,
					from == source ? record.plaintext_offset : 0, record.plaintext_length,
					(size_t)(position - record.wire_offset),
					(size_t)(SLUICE_MIN(end, record.wire_offset + record_wire) - record.wire_offset),
					&cursor);
		if (unlikely(rc < 0))
			return rc;
		position = SLUICE_MIN(end, record.wire_offset + record_wire);
	}
	if (end > stream->produced_wire)
		stream->produced_wire = end;
	return 0;
}

uint64_t tls_stream_acked(struct tls_stream *stream, uint64_t wire_offset)
{
	struct tls_stream_record record;

	while (stream->run_count) {
		unsigned slot = stream->run_first;
		uint64_t records, length = run_wire_length(stream, 0, &records);

		if (stream->head_wire + length > wire_offset)
			break;
		stream->head_wire += length;
		if (stream->run_kind[slot] == TLS_STREAM_RUN_DATA)
			stream->head_plaintext += stream->run_value[slot];
		if (stream->run_kind[slot] == TLS_STREAM_RUN_KEY_UPDATE) {
			stream->head_record = 0;
			stream->head_epoch++;
		} else {
			stream->head_record += records;
		}
		stream->run_first = (uint8_t)ring_index(stream, 1);
		stream->run_count--;
	}
	if (stream->produced_wire < stream->head_wire)
		stream->produced_wire = stream->head_wire;
	if (wire_offset > stream->head_wire && tls_stream_locate(stream, wire_offset, &record) == 0 &&
	    record.run_kind == TLS_STREAM_RUN_DATA)
		return record.plaintext_offset;
	return stream->head_plaintext;
}
