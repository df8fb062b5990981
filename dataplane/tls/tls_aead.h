/* SPDX-License-Identifier: BSD-3-Clause
 *
 * tls_aead.h: AES-GCM for the TLS record layer, through an engine chosen at start-up.
 *
 * The record layer seals every byte the data plane sends over TLS, so this is the hottest code
 * in the TLS path and runs per record (STYLE.md rule 10: no I/O, no locks, no malloc here
 * after start-up). Two engines implement one table of function pointers (STYLE.md rule 2):
 *
 *   "ipsec-mb"  intel-ipsec-mb 1.3 GCM (init / enc_update / finalize). Several times faster
 *               than OpenSSL 3.0's EVP on AVX2/VAES CPUs. The library's IMB_MGR is not
 *               thread-safe: every lcore owns one worker, and with it one IMB_MGR.
 *   "openssl"   OpenSSL 3.0 EVP AES-GCM: the fallback, and a second implementation the tests
 *               compare against.
 *
 * The engine is picked once (tls_aead_engine_find) and every lcore creates its own worker from
 * it; nothing on the per-record path branches on the engine.
 *
 * Keys come in two forms:
 *   struct tls_aead_key       the raw key the handshake derives (33 bytes);
 *   struct tls_aead_schedule  what an engine encrypts with, 1024 bytes, 64-byte aligned:
 *                             ipsec-mb's struct gcm_key_data (AES round keys + GHASH key
 *                             powers; sizeof is 1024 because the VAES/AVX-512 code keeps 48
 *                             powers of H; the AVX2 code uses 368 of them), or, for OpenSSL,
 *                             a copy of the raw key (EVP expands it again for every record).
 * A schedule belongs to the engine that made it (all workers of a process use one engine).
 * A connection keeps a schedule only for the direction that is hot (sending); keys that are
 * used rarely (receiving requests, retransmitting under a retired key) are expanded on demand
 * into the worker's scratch schedule. perf/tls_bench reports what an expansion costs.
 *
 * Operations walk scatter lists (struct iovec) on both sides with different segmentations:
 * ciphertext goes straight into the data areas of several mbufs while the plaintext comes
 * from a mapped file, in one pass. A NULL output cursor means "compute but discard" (the
 * worker writes into a scratch area): the record layer uses it to run GHASH over the part of
 * a record it does not need to emit when it must recompute a tag (see tls_record.h).
 *
 * Sealing a record in pieces:
 *   tls_aead_begin(worker, cipher, schedule, nonce, aad, aad_length, true);
 *   tls_aead_update(worker, &out_cursor, plaintext_piece, length);   (any number of times)
 *   tls_aead_finish(worker, tag);
 * Opening is the same with encrypt = false and tls_aead_verify(worker, tag), which compares
 * in constant time and returns -EBADMSG on mismatch. One operation at a time per worker.
 *
 * Counter ranges: tls_aead_keystream_xor produces ciphertext bytes [offset, offset + length)
 * of a GCM message without touching the bytes before them (AES-GCM encrypts with counter
 * J0 + 1 + block, J0 = nonce || 1), which is how a retransmission of the middle of a record
 * costs only its own bytes.
 */
#ifndef SLUICE_TLS_AEAD_H
#define SLUICE_TLS_AEAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "tls_iov.h"

#define TLS_AEAD_TAG_LENGTH 16
#define TLS_AEAD_NONCE_LENGTH 12
#define TLS_AEAD_KEY_MAX 32
#define TLS_AEAD_SCHEDULE_SIZE 1024 /* bytes; >= sizeof(struct gcm_key_data), checked in tls_aead_ipsec_mb.c */
#define TLS_AEAD_DISCARD_SIZE 4096  /* bytes of scratch output per worker for discarded output */

enum tls_aead_cipher {
	TLS_AEAD_AES_128_GCM = 1,
	TLS_AEAD_AES_256_GCM = 2,
};

/* A raw AES-GCM key as the key schedule of TLS derives it. */
struct tls_aead_key {
	uint8_t bytes[TLS_AEAD_KEY_MAX]; /* the first tls_aead_key_length(cipher) bytes are used */
	uint8_t cipher;                  /* enum tls_aead_cipher */
};

/* An engine's expanded form of a key. Opaque; 64-byte aligned because ipsec-mb requires it. */
struct tls_aead_schedule {
	uint8_t bytes[TLS_AEAD_SCHEDULE_SIZE];
} __attribute__((aligned(64)));

struct tls_aead_worker;

/*
 * One AES-GCM implementation. All functions return 0 or -errno. begin/update/finish/verify
 * form one operation on the worker; keystream_xor is independent of it and starts at a block
 * boundary (tls_aead_keystream_xor handles unaligned starts).
 */
struct tls_aead_engine {
	const char *name;
	int (*worker_init)(struct tls_aead_worker *worker);
	void (*worker_fini)(struct tls_aead_worker *worker);
	/* Human-readable implementation, e.g. "ipsec-mb 1.3.0 avx2". */
	const char *(*describe)(const struct tls_aead_worker *worker);
	int (*schedule)(struct tls_aead_worker *worker, const struct tls_aead_key *key,
			struct tls_aead_schedule *schedule);
	int (*begin)(struct tls_aead_worker *worker, enum tls_aead_cipher cipher,
		     const struct tls_aead_schedule *schedule, const uint8_t nonce[TLS_AEAD_NONCE_LENGTH],
		     const uint8_t *aad, size_t aad_length, bool encrypt);
	int (*update)(struct tls_aead_worker *worker, uint8_t *out, const uint8_t *in, size_t length);
	int (*finish)(struct tls_aead_worker *worker, uint8_t tag[TLS_AEAD_TAG_LENGTH]);
	int (*verify)(struct tls_aead_worker *worker, const uint8_t tag[TLS_AEAD_TAG_LENGTH]);
	/* out = in XOR keystream starting at payload block `block` (counter J0 + 1 + block). */
	int (*keystream_xor)(struct tls_aead_worker *worker, enum tls_aead_cipher cipher,
			     const struct tls_aead_schedule *schedule,
			     const uint8_t nonce[TLS_AEAD_NONCE_LENGTH], uint64_t block, uint8_t *out,
			     const uint8_t *in, size_t length);
};

/*
 * Per-lcore (per-thread) AES-GCM state. Created on the control path, used by one thread only.
 * scratch_schedule is free for the caller between operations (on-demand key expansion).
 */
struct tls_aead_worker {
	struct tls_aead_schedule scratch_schedule;
	const struct tls_aead_engine *engine;
	void *engine_state; /* IMB_MGR + gcm_context_data, or EVP contexts */
	uint8_t discard[TLS_AEAD_DISCARD_SIZE];
};

/* The engines, in order of preference; NULL-terminated. */
extern const struct tls_aead_engine *const tls_aead_engines[];

/* The engine called `name` ("ipsec-mb", "openssl"), or NULL. */
const struct tls_aead_engine *tls_aead_engine_find(const char *name);

/* Creates a worker for the calling thread (allocates; control path). -ENOTSUP: the CPU lacks AES-NI. */
int tls_aead_worker_create(const struct tls_aead_engine *engine, struct tls_aead_worker **out);
void tls_aead_worker_free(struct tls_aead_worker *worker);

static inline const char *tls_aead_worker_describe(const struct tls_aead_worker *worker)
{
	return worker->engine->describe(worker);
}

/* 16 or 32; 0 for an unknown cipher. */
size_t tls_aead_key_length(enum tls_aead_cipher cipher);

/* Expands `key` into `schedule` (about as costly as sealing a few hundred bytes). */
int tls_aead_schedule(struct tls_aead_worker *worker, const struct tls_aead_key *key,
		      struct tls_aead_schedule *schedule);

/* Overwrites a schedule or key with zeros in a way the compiler keeps. */
void tls_aead_wipe(void *bytes, size_t length);

/* Constant-time comparison of two tags: true when equal. */
bool tls_aead_tag_equal(const uint8_t a[TLS_AEAD_TAG_LENGTH], const uint8_t b[TLS_AEAD_TAG_LENGTH]);

/* One operation; see the file comment. */
static inline int tls_aead_begin(struct tls_aead_worker *worker, enum tls_aead_cipher cipher,
				 const struct tls_aead_schedule *schedule,
				 const uint8_t nonce[TLS_AEAD_NONCE_LENGTH], const uint8_t *aad,
				 size_t aad_length, bool encrypt)
{
	return worker->engine->begin(worker, cipher, schedule, nonce, aad, aad_length, encrypt);
}

/* Processes `length` bytes of `in` into `out` (advanced), or into scratch when out is NULL. */
int tls_aead_update(struct tls_aead_worker *worker, struct tls_iov_cursor *out, const uint8_t *in,
		    size_t length);

static inline int tls_aead_finish(struct tls_aead_worker *worker, uint8_t tag[TLS_AEAD_TAG_LENGTH])
{
	return worker->engine->finish(worker, tag);
}

/* 0 if the computed tag equals `tag` (constant time), else -EBADMSG. */
static inline int tls_aead_verify(struct tls_aead_worker *worker, const uint8_t tag[TLS_AEAD_TAG_LENGTH])
{
	return worker->engine->verify(worker, tag);
}

/*
 * Whole-message helpers on scatter lists. `out` may be the same list as `in` (in place,
 * piece for piece) or must not overlap it. Lengths of in and out must be equal.
 * tls_aead_open returns -EBADMSG on authentication failure, after zeroing `out`.
 */
int tls_aead_seal(struct tls_aead_worker *worker, enum tls_aead_cipher cipher,
		  const struct tls_aead_schedule *schedule, const uint8_t nonce[TLS_AEAD_NONCE_LENGTH],
		  const uint8_t *aad, size_t aad_length, const struct iovec *in, unsigned in_count,
		  const struct iovec *out, unsigned out_count, uint8_t tag[TLS_AEAD_TAG_LENGTH]);
int tls_aead_open(struct tls_aead_worker *worker, enum tls_aead_cipher cipher,
		  const struct tls_aead_schedule *schedule, const uint8_t nonce[TLS_AEAD_NONCE_LENGTH],
		  const uint8_t *aad, size_t aad_length, const struct iovec *in, unsigned in_count,
		  const struct iovec *out, unsigned out_count, const uint8_t tag[TLS_AEAD_TAG_LENGTH]);

/*
 * Ciphertext bytes [offset, offset + length) of the GCM message with this nonce, from the
 * plaintext bytes at the same positions (`in`), written to `out` (advanced). No tag.
 */
int tls_aead_keystream_xor(struct tls_aead_worker *worker, enum tls_aead_cipher cipher,
			   const struct tls_aead_schedule *schedule,
			   const uint8_t nonce[TLS_AEAD_NONCE_LENGTH], uint64_t offset,
			   struct tls_iov_cursor *out, const uint8_t *in, size_t length);

#endif /* SLUICE_TLS_AEAD_H */
