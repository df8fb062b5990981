/* SPDX-License-Identifier: BSD-3-Clause
 *
 * tls_aead.c: the engine table, per-lcore workers, and the scatter-list walking that both
 * engines share (see tls_aead.h). Runs per record: no allocation outside worker creation.
 */
#include "tls_aead.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "compiler.h"

extern const struct tls_aead_engine tls_aead_engine_ipsec_mb;
extern const struct tls_aead_engine tls_aead_engine_openssl;

const struct tls_aead_engine *const tls_aead_engines[] = {
	&tls_aead_engine_ipsec_mb,
	&tls_aead_engine_openssl,
	NULL,
};

const struct tls_aead_engine *tls_aead_engine_find(const char *name)
{
	for (const struct tls_aead_engine *const *e = tls_aead_engines; *e; e++)
		if (name && strcmp((*e)->name, name) == 0)
			return *e;
	return NULL;
}

int tls_aead_worker_create(const struct tls_aead_engine *engine, struct tls_aead_worker **out)
{
	struct tls_aead_worker *worker;
	int rc;

	*out = NULL;
	if (!engine)
		return -EINVAL;
	_Static_assert(sizeof(struct tls_aead_worker) % SLUICE_CACHE_LINE == 0, "aligned_alloc size");
	worker = aligned_alloc(SLUICE_CACHE_LINE, sizeof(*worker));
	if (!worker)
		return -ENOMEM;
	memset(worker, 0, sizeof(*worker));
	worker->engine = engine;
	rc = engine->worker_init(worker);
	if (rc < 0) {
		free(worker);
		return rc;
	}
	*out = worker;
	return 0;
}

void tls_aead_worker_free(struct tls_aead_worker *worker)
{
	if (!worker)
		return;
	worker->engine->worker_fini(worker);
	tls_aead_wipe(&worker->scratch_schedule, sizeof(worker->scratch_schedule));
	free(worker);
}

size_t tls_aead_key_length(enum tls_aead_cipher cipher)
{
	switch (cipher) {
	case TLS_AEAD_AES_128_GCM:
		return 16;
	case TLS_AEAD_AES_256_GCM:
		return 32;
	}
	return 0;
}

int tls_aead_schedule(struct tls_aead_worker *worker, const struct tls_aead_key *key,
		      struct tls_aead_schedule *schedule)
{
	if (!tls_aead_key_length(key->cipher))
		return -EINVAL;
	return worker->engine->schedule(worker, key, schedule);
}

void tls_aead_wipe(void *bytes, size_t length)
{
	explicit_bzero(bytes, length);
}

bool tls_aead_tag_equal(const uint8_t a[TLS_AEAD_TAG_LENGTH], const uint8_t b[TLS_AEAD_TAG_LENGTH])
{
	volatile uint8_t difference = 0;

	for (size_t i = 0; i < TLS_AEAD_TAG_LENGTH; i++)
		difference |= a[i] ^ b[i];
	return difference == 0;
}

int tls_aead_update(struct tls_aead_worker *worker, struct tls_iov_cursor *out, const uint8_t *in,
		    size_t length)
{
	while (length) {
		uint8_t *piece;
		size_t n;
		int rc;

		if (out) {
			n = tls_iov_cursor_peek(out, &piece);
			if (!n)
				return -ENOSPC;
		} else {
			piece = worker->discard;
			n = sizeof(worker->discard);
		}
		n = SLUICE_MIN(n, length);
		rc = worker->engine->update(worker, piece, in, n);
		if (unlikely(rc < 0))
			return rc;
		if (out)
			out->offset += n;
		in += n;
		length -= n;
	}
	return 0;
}

static size_t iov_total(const struct iovec *iov, unsigned count)
{
	size_t total = 0;

	for (unsigned i = 0; i < count; i++)
		total += iov[i].iov_len;
	return total;
}

/* Runs the engine over every piece of `in`, writing to `out`. */
static int aead_run(struct tls_aead_worker *worker, const struct iovec *in, unsigned in_count,
		    const struct iovec *out, unsigned out_count)
{
	struct tls_iov_cursor out_cursor;

	tls_iov_cursor_init(&out_cursor, out, out_count);
	for (unsigned i = 0; i < in_count; i++) {
		int rc = tls_aead_update(worker, &out_cursor, in[i].iov_base, in[i].iov_len);

		if (rc < 0)
			return rc;
	}
	return 0;
}

int tls_aead_seal(struct tls_aead_worker *worker, enum tls_aead_cipher cipher,
		  const struct tls_aead_schedule *schedule, const uint8_t nonce[TLS_AEAD_NONCE_LENGTH],
		  const uint8_t *aad, size_t aad_length, const struct iovec *in, unsigned in_count,
		  const struct iovec *out, unsigned out_count, uint8_t tag[TLS_AEAD_TAG_LENGTH])
{
	int rc;

	if (iov_total(in, in_count) != iov_total(out, out_count))
		return -EINVAL;
	rc = tls_aead_begin(worker, cipher, schedule, nonce, aad, aad_length, true);
	if (rc == 0)
		rc = aead_run(worker, in, in_count, out, out_count);
	if (rc == 0)
		rc = tls_aead_finish(worker, tag);
	return rc;
}

int tls_aead_open(struct tls_aead_worker *worker, enum tls_aead_cipher cipher,
		  const struct tls_aead_schedule *schedule, const uint8_t nonce[TLS_AEAD_NONCE_LENGTH],
		  const uint8_t *aad, size_t aad_length, const struct iovec *in, unsigned in_count,
		  const struct iovec *out, unsigned out_count, const uint8_t tag[TLS_AEAD_TAG_LENGTH])
{
	int rc;

	if (iov_total(in, in_count) != iov_total(out, out_count))
		return -EINVAL;
	rc = tls_aead_begin(worker, cipher, schedule, nonce, aad, aad_length, false);
	if (rc == 0)
		rc = aead_run(worker, in, in_count, out, out_count);
	if (rc == 0)
		rc = tls_aead_verify(worker, tag);
	if (rc < 0)
		for (unsigned i = 0; i < out_count; i++)
			tls_aead_wipe(out[i].iov_base, out[i].iov_len);
	return rc;
}

int tls_aead_keystream_xor(struct tls_aead_worker *worker, enum tls_aead_cipher cipher,
			   const struct tls_aead_schedule *schedule,
			   const uint8_t nonce[TLS_AEAD_NONCE_LENGTH], uint64_t offset,
			   struct tls_iov_cursor *out, const uint8_t *in, size_t length)
{
	static const uint8_t zero_block[16];

	while (length) {
		uint8_t *piece;
		size_t n = tls_iov_cursor_peek(out, &piece);
		size_t skip = offset % 16;
		int rc;

		if (!n)
			return -ENOSPC;
		n = SLUICE_MIN(n, length);
		if (skip) {
			/* Unaligned start: one block of keystream, XORed by hand. */
			uint8_t keystream[16];

			rc = worker->engine->keystream_xor(worker, cipher, schedule, nonce, offset / 16,
							   keystream, zero_block, 16);
			if (rc < 0)
				return rc;
			n = SLUICE_MIN(n, 16 - skip);
			for (size_t i = 0; i < n; i++)
				piece[i] = in[i] ^ keystream[skip + i];
		} else {
			rc = worker->engine->keystream_xor(worker, cipher, schedule, nonce, offset / 16,
							   piece, in, n);
			if (rc < 0)
				return rc;
		}
		out->offset += n;
		offset += n;
		in += n;
		length -= n;
	}
	return 0;
}
