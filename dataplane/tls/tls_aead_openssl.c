/* SPDX-License-Identifier: BSD-3-Clause
 *
 * tls_aead_openssl.c: the "openssl" AES-GCM engine (OpenSSL 3.0 EVP), see tls_aead.h.
 *
 * The fallback when ipsec-mb is not wanted, and a second implementation for the tests. A
 * schedule is only a copy of the raw key: EVP re-expands the key for every record (tens of
 * nanoseconds with AES-NI, small next to sealing 16 KiB at 3-4 GB/s). Each worker keeps one
 * EVP_CIPHER_CTX per algorithm (AES-128-GCM, AES-256-GCM, AES-128-CTR, AES-256-CTR), bound
 * to its cipher once at start-up: re-initialising a context with a NULL cipher only re-keys
 * it, whereas passing the cipher again would free and reallocate the provider context on
 * every record. Per record: no allocation, no lock.
 */
#include <errno.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler.h"
#include "tls_aead.h"

enum { CIPHER_INDEX_128 = 0, CIPHER_INDEX_256 = 1, CIPHER_INDEX_COUNT };

struct openssl_state {
	EVP_CIPHER_CTX *gcm[CIPHER_INDEX_COUNT];
	EVP_CIPHER_CTX *counter[CIPHER_INDEX_COUNT];
	EVP_CIPHER_CTX *current; /* the gcm context of the operation in progress */
	bool encrypt;
	char description[64];
};

static inline struct openssl_state *state_of(const struct tls_aead_worker *worker)
{
	return worker->engine_state;
}

static inline int index_of(enum tls_aead_cipher cipher)
{
	return cipher == TLS_AEAD_AES_128_GCM ? CIPHER_INDEX_128 : CIPHER_INDEX_256;
}

static void openssl_worker_fini(struct tls_aead_worker *worker)
{
	struct openssl_state *state = state_of(worker);

	if (!state)
		return;
	for (int i = 0; i < CIPHER_INDEX_COUNT; i++) {
		EVP_CIPHER_CTX_free(state->gcm[i]);
		EVP_CIPHER_CTX_free(state->counter[i]);
	}
	free(state);
	worker->engine_state = NULL;
}

/* Binds a fresh context to `algorithm` with a dummy key so later inits only re-key it. */
static EVP_CIPHER_CTX *context_bound_to(const char *algorithm)
{
	static const uint8_t zero[32];
	EVP_CIPHER *cipher = EVP_CIPHER_fetch(NULL, algorithm, NULL);
	EVP_CIPHER_CTX *context = cipher ? EVP_CIPHER_CTX_new() : NULL;

	if (context && !EVP_CipherInit_ex2(context, cipher, zero, zero, 1, NULL)) {
		EVP_CIPHER_CTX_free(context);
		context = NULL;
	}
	EVP_CIPHER_free(cipher); /* the context holds its own reference */
	return context;
}

static int openssl_worker_init(struct tls_aead_worker *worker)
{
	static const char *const gcm_names[CIPHER_INDEX_COUNT] = {"AES-128-GCM", "AES-256-GCM"};
	static const char *const counter_names[CIPHER_INDEX_COUNT] = {"AES-128-CTR", "AES-256-CTR"};
	struct openssl_state *state = calloc(1, sizeof(*state));

	if (!state)
		return -ENOMEM;
	worker->engine_state = state;
	for (int i = 0; i < CIPHER_INDEX_COUNT; i++) {
		state->gcm[i] = context_bound_to(gcm_names[i]);
		state->counter[i] = context_bound_to(counter_names[i]);
		if (!state->gcm[i] || !state->counter[i]) {
			openssl_worker_fini(worker);
			return -ENOTSUP;
		}
	}
	snprintf(state->description, sizeof(state->description), "openssl %s",
		 OpenSSL_version(OPENSSL_VERSION_STRING));
	return 0;
}

static const char *openssl_describe(const struct tls_aead_worker *worker)
{
	return state_of(worker)->description;
}

static int openssl_schedule(struct tls_aead_worker *worker sluice_unused, const struct tls_aead_key *key,
			    struct tls_aead_schedule *schedule)
{
	memset(schedule->bytes, 0, TLS_AEAD_KEY_MAX);
	memcpy(schedule->bytes, key->bytes, tls_aead_key_length(key->cipher));
	return 0;
}

static int openssl_begin(struct tls_aead_worker *worker, enum tls_aead_cipher cipher,
			 const struct tls_aead_schedule *schedule, const uint8_t nonce[TLS_AEAD_NONCE_LENGTH],
			 const uint8_t *aad, size_t aad_length, bool encrypt)
{
	struct openssl_state *state = state_of(worker);
	EVP_CIPHER_CTX *context = state->gcm[index_of(cipher)];
	int written;

	state->current = context;
	state->encrypt = encrypt;
	if (aad_length > INT_MAX || !EVP_CipherInit_ex2(context, NULL, schedule->bytes, nonce, encrypt, NULL))
		return -EIO;
	if (aad_length && !EVP_CipherUpdate(context, NULL, &written, aad, (int)aad_length))
		return -EIO;
	return 0;
}

static int openssl_update(struct tls_aead_worker *worker, uint8_t *out, const uint8_t *in, size_t length)
{
	EVP_CIPHER_CTX *context = state_of(worker)->current;

	while (length) {
		int n = (int)SLUICE_MIN(length, (size_t)INT_MAX & ~(size_t)15), written;

		if (!EVP_CipherUpdate(context, out, &written, in, n) || written != n)
			return -EIO;
		out += n;
		in += n;
		length -= (size_t)n;
	}
	return 0;
}

static int openssl_finish(struct tls_aead_worker *worker, uint8_t tag[TLS_AEAD_TAG_LENGTH])
{
	struct openssl_state *state = state_of(worker);
	uint8_t unused[16];
	int written;

	if (!state->encrypt)
		return -EINVAL;
	if (!EVP_CipherFinal_ex(state->current, unused, &written) ||
	    !EVP_CIPHER_CTX_ctrl(state->current, EVP_CTRL_AEAD_GET_TAG, TLS_AEAD_TAG_LENGTH, tag))
		return -EIO;
	return 0;
}

static int openssl_verify(struct tls_aead_worker *worker, const uint8_t tag[TLS_AEAD_TAG_LENGTH])
{
	struct openssl_state *state = state_of(worker);
	uint8_t unused[16];
	int written;

	if (state->encrypt)
		return -EINVAL;
	if (!EVP_CIPHER_CTX_ctrl(state->current, EVP_CTRL_AEAD_SET_TAG, TLS_AEAD_TAG_LENGTH, (void *)tag))
		return -EIO;
	/* OpenSSL compares the tag with CRYPTO_memcmp (constant time). */
	return EVP_CipherFinal_ex(state->current, unused, &written) > 0 ? 0 : -EBADMSG;
}

static int openssl_keystream_xor(struct tls_aead_worker *worker, enum tls_aead_cipher cipher,
				 const struct tls_aead_schedule *schedule,
				 const uint8_t nonce[TLS_AEAD_NONCE_LENGTH], uint64_t block, uint8_t *out,
				 const uint8_t *in, size_t length)
{
	EVP_CIPHER_CTX *context = state_of(worker)->counter[index_of(cipher)];
	uint8_t counter[16];
	uint32_t first = (uint32_t)(block + 2);

	if (block > UINT32_MAX - 2 || length > (UINT32_MAX - 2 - block) * 16)
		return -ERANGE;
	memcpy(counter, nonce, TLS_AEAD_NONCE_LENGTH);
	counter[12] = (uint8_t)(first >> 24);
	counter[13] = (uint8_t)(first >> 16);
	counter[14] = (uint8_t)(first >> 8);
	counter[15] = (uint8_t)first;
	if (!EVP_CipherInit_ex2(context, NULL, schedule->bytes, counter, 1, NULL))
		return -EIO;
	while (length) {
		int n = (int)SLUICE_MIN(length, (size_t)INT_MAX & ~(size_t)15), written;

		if (!EVP_CipherUpdate(context, out, &written, in, n) || written != n)
			return -EIO;
		out += n;
		in += n;
		length -= (size_t)n;
	}
	return 0;
}

const struct tls_aead_engine tls_aead_engine_openssl = {
	.name = "openssl",
	.worker_init = openssl_worker_init,
	.worker_fini = openssl_worker_fini,
	.describe = openssl_describe,
	.schedule = openssl_schedule,
	.begin = openssl_begin,
	.update = openssl_update,
	.finish = openssl_finish,
	.verify = openssl_verify,
	.keystream_xor = openssl_keystream_xor,
};
