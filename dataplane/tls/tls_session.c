/* SPDX-License-Identifier: BSD-3-Clause
 *
 * tls_session.c: the connection after the key handoff: receiving records and the messages
 * that follow a handshake (KeyUpdate, alerts, renegotiation attempts), and the send stream
 * with its write keys; see tls_session.h.
 */
#include "tls_session.h"

#include <errno.h>
#include <string.h>

#include "compiler.h"

enum {
	HANDSHAKE_CLIENT_HELLO = 1,
	HANDSHAKE_KEY_UPDATE = 24,
	ALERT_ILLEGAL_PARAMETER = 47,
};

int tls_session_init(struct tls_session *session, struct tls_aead_worker *worker,
		     const struct tls_handshake_handoff *handoff, uint64_t wire_start,
		     const struct tls_stream_layout *layout)
{
	struct tls_stream_layout capped = {0, TLS_STREAM_SMALL_RECORD_COUNT, 0};
	int rc;

	memset(session, 0, sizeof(*session));
	if (handoff->version != TLS_VERSION_1_3 && handoff->version != TLS_VERSION_1_2)
		return -EINVAL;
	if (layout)
		capped = *layout;
	if (!capped.full_record_plaintext || capped.full_record_plaintext > handoff->record_plaintext_max)
		capped.full_record_plaintext = handoff->record_plaintext_max ? handoff->record_plaintext_max
									    : TLS_RECORD_PLAINTEXT_MAX;
	rc = tls_stream_init(&session->stream, handoff->version, wire_start, handoff->write_sequence, &capped);
	if (rc < 0)
		return rc;
	session->version = handoff->version;
	session->hash = handoff->hash;
	session->write_key[0] = handoff->write_key;
	session->read_key = handoff->read_key;
	session->read_sequence = handoff->read_sequence;
	memcpy(session->write_secret, handoff->write_secret, sizeof(session->write_secret));
	memcpy(session->read_secret, handoff->read_secret, sizeof(session->read_secret));
	session->write_schedule_epoch = 0;
	rc = tls_aead_schedule(worker, &session->write_key[0].key, &session->write_schedule);
	if (rc < 0)
		tls_session_wipe(session);
	return rc;
}

void tls_session_wipe(struct tls_session *session)
{
	tls_aead_wipe(session, sizeof(*session));
}

int tls_session_produce(struct tls_session *session, struct tls_aead_worker *worker, uint64_t wire_offset,
			size_t wire_length, const struct tls_record_source *source, const struct iovec *out,
			unsigned out_count)
{
	struct tls_stream_keys keys = {
		.key = {&session->write_key[0], &session->write_key[1]},
		.schedule = &session->write_schedule,
		.schedule_epoch = session->write_schedule_epoch,
	};
	struct tls_stream_record last;

	/* First transmission reached records after a KeyUpdate: the newer key becomes the hot one. */
	if (wire_length && tls_stream_locate(&session->stream, wire_offset + wire_length - 1, &last) == 0 &&
	    (int8_t)(last.epoch - session->write_schedule_epoch) > 0) {
		int rc = tls_aead_schedule(worker, &session->write_key[last.epoch & 1].key, &session->write_schedule);

		if (rc < 0)
			return rc;
		session->write_schedule_epoch = last.epoch;
		keys.schedule_epoch = last.epoch;
	}
	return tls_stream_produce(&session->stream, worker, &keys, wire_offset, wire_length, source, out, out_count);
}

int tls_session_update_keys(struct tls_session *session, bool request_peer_update)
{
	struct tls_record_key next_key;
	uint8_t next_secret[TLS_SECRET_MAX];
	uint8_t epoch;
	int rc;

	if (session->version != TLS_VERSION_1_3)
		return -EPROTO;
	memcpy(next_secret, session->write_secret, sizeof(next_secret));
	rc = tls_keys_next_secret_13((enum tls_hash)session->hash, next_secret);
	if (rc == 0)
		rc = tls_keys_traffic_key_13((enum tls_aead_cipher)session->write_key[0].key.cipher,
					     (enum tls_hash)session->hash, next_secret, &next_key);
	if (rc == 0)
		rc = tls_stream_append_key_update(&session->stream, request_peer_update);
	if (rc == 0) {
		/* Records appended from now on are sealed under the next epoch. */
		epoch = tls_stream_write_epoch(&session->stream);
		session->write_key[epoch & 1] = next_key;
		memcpy(session->write_secret, next_secret, sizeof(next_secret));
	}
	tls_aead_wipe(next_secret, sizeof(next_secret));
	tls_aead_wipe(&next_key, sizeof(next_key));
	return rc;
}

int tls_session_append(struct tls_session *session, uint64_t plaintext_length)
{
	if (session->version == TLS_VERSION_1_3 && plaintext_length &&
	    tls_stream_next_record(&session->stream) >= TLS_SESSION_RECORDS_PER_KEY)
		(void)tls_session_update_keys(session, false); /* -EBUSY: one is already on its way */
	return tls_stream_append(&session->stream, plaintext_length);
}

uint64_t tls_session_acked(struct tls_session *session, uint64_t wire_offset)
{
	uint64_t released = tls_stream_acked(&session->stream, wire_offset);

	if ((session->flags & TLS_SESSION_FLAG_KEY_UPDATE_OWED) && tls_session_update_keys(session, false) == 0)
		session->flags &= (uint8_t)~TLS_SESSION_FLAG_KEY_UPDATE_OWED;
	return released;
}

int tls_session_close(struct tls_session *session)
{
	return tls_stream_append_alert(&session->stream, TLS_ALERT_LEVEL_WARNING, TLS_ALERT_CLOSE_NOTIFY);
}

/* Fails the connection: queue a fatal alert (if the stream still takes one). */
static int session_fail(struct tls_session *session, struct tls_session_receive_result *result, uint8_t alert)
{
	session->flags |= TLS_SESSION_FLAG_FAILED;
	result->event = TLS_SESSION_ERROR;
	result->alert = alert;
	(void)tls_stream_append_alert(&session->stream, TLS_ALERT_LEVEL_FATAL, alert);
	return 0;
}

/* Copies up to `length` content bytes of the opened record (from the buffer or in place). */
static size_t content_copy(const struct iovec *in, unsigned in_count, const void *plaintext,
			   const struct tls_record_read_result *opened, uint8_t *out, size_t length)
{
	struct tls_iov_cursor cursor;

	length = SLUICE_MIN(length, opened->plaintext_length);
	if (plaintext) {
		memcpy(out, plaintext, length);
		return length;
	}
	tls_iov_cursor_init(&cursor, in, in_count);
	if (tls_iov_cursor_skip(&cursor, opened->plaintext_offset) < 0 || tls_iov_cursor_read(&cursor, out, length) < 0)
		return 0;
	return length;
}

static int receive_key_update(struct tls_session *session, struct tls_session_receive_result *result, uint8_t request)
{
	struct tls_record_key next_key;
	int rc;

	if (request > 1)
		return session_fail(session, result, ALERT_ILLEGAL_PARAMETER);
	rc = tls_keys_next_secret_13((enum tls_hash)session->hash, session->read_secret);
	if (rc == 0)
		rc = tls_keys_traffic_key_13((enum tls_aead_cipher)session->read_key.key.cipher,
					     (enum tls_hash)session->hash, session->read_secret, &next_key);
	if (rc < 0)
		return session_fail(session, result, TLS_ALERT_INTERNAL_ERROR);
	session->read_key = next_key;
	session->read_sequence = 0;
	tls_aead_wipe(&next_key, sizeof(next_key));
	if (request) {
		rc = tls_session_update_keys(session, false);
		if (rc == -EBUSY || rc == -ENOBUFS)
			session->flags |= TLS_SESSION_FLAG_KEY_UPDATE_OWED;
		else if (rc < 0 && rc != -EPIPE)
			return session_fail(session, result, TLS_ALERT_INTERNAL_ERROR);
	}
	result->event = TLS_SESSION_KEY_UPDATE;
	return 0;
}

int tls_session_receive(struct tls_session *session, struct tls_aead_worker *worker, const struct iovec *in,
			unsigned in_count, void *plaintext, size_t capacity, struct tls_session_receive_result *result)
{
	struct tls_record_protection protection = {
		.version = session->version,
		.key = &session->read_key,
		.schedule = NULL, /* expanded per record into the worker's scratch schedule */
	};
	struct tls_record_read_result opened;
	uint8_t head[5];
	size_t head_length;
	int rc;

	memset(result, 0, sizeof(*result));
	if (session->flags & (TLS_SESSION_FLAG_PEER_CLOSED | TLS_SESSION_FLAG_FAILED))
		return -EPIPE;
	rc = tls_record_read(worker, &protection, &session->read_sequence, in, in_count, plaintext, capacity, &opened);
	if (rc == 0) {
		result->event = TLS_SESSION_NEED_MORE;
		result->need = opened.need;
		return 0;
	}
	if (rc == -ENOSPC) {
		result->need = opened.need;
		return -ENOSPC;
	}
	if (rc < 0)
		return session_fail(session, result, opened.alert ? opened.alert : TLS_ALERT_INTERNAL_ERROR);
	result->consumed = opened.consumed;
	head_length = content_copy(in, in_count, plaintext, &opened, head, sizeof(head));

	switch (opened.content_type) {
	case TLS_CONTENT_APPLICATION_DATA:
		result->event = TLS_SESSION_DATA;
		result->plaintext_offset = opened.plaintext_offset;
		result->plaintext_length = opened.plaintext_length;
		return 0;
	case TLS_CONTENT_ALERT:
		if (opened.plaintext_length != 2)
			return session_fail(session, result, TLS_ALERT_DECODE_ERROR);
		session->flags |= TLS_SESSION_FLAG_PEER_CLOSED;
		result->alert = head[1];
		if (head[1] == TLS_ALERT_CLOSE_NOTIFY) {
			result->event = TLS_SESSION_PEER_CLOSED;
			(void)tls_session_close(session); /* answer with ours, unless we already closed */
		} else {
			result->event = TLS_SESSION_PEER_ALERT;
		}
		return 0;
	case TLS_CONTENT_HANDSHAKE:
		if (head_length < 4)
			return session_fail(session, result, TLS_ALERT_UNEXPECTED_MESSAGE);
		if (session->version == TLS_VERSION_1_2) {
			if (head[0] != HANDSHAKE_CLIENT_HELLO)
				return session_fail(session, result, TLS_ALERT_UNEXPECTED_MESSAGE);
			/* RFC 5246 7.2.2: no_renegotiation is a warning; the client decides. */
			(void)tls_stream_append_alert(&session->stream, TLS_ALERT_LEVEL_WARNING, TLS_ALERT_NO_RENEGOTIATION);
			result->event = TLS_SESSION_RENEGOTIATION_REFUSED;
			return 0;
		}
		if (head[0] != HANDSHAKE_KEY_UPDATE)
			return session_fail(session, result, TLS_ALERT_UNEXPECTED_MESSAGE);
		/* One KeyUpdate, alone in its record (it must end the record: RFC 8446 5.1). */
		if (opened.plaintext_length != 5 || head[1] != 0 || head[2] != 0 || head[3] != 1)
			return session_fail(session, result, TLS_ALERT_DECODE_ERROR);
		return receive_key_update(session, result, head[4]);
	default:
		return session_fail(session, result, TLS_ALERT_UNEXPECTED_MESSAGE);
	}
}
