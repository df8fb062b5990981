/* SPDX-License-Identifier: BSD-3-Clause
 *
 * tls_keys.c: TLS 1.3 / 1.2 record key derivation through OpenSSL's KDFs, and the ticket
 * key ring with quiescent-state reclamation; see tls_keys.h. Control/handshake path only,
 * except tls_ticket_keyring_read/_quiescent (one atomic each).
 */
#include "tls_keys.h"

#include <errno.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compiler.h"

static EVP_KDF *kdf_tls13;
static EVP_KDF *kdf_tls1_prf;
static pthread_once_t kdf_once = PTHREAD_ONCE_INIT;

static void kdf_fetch(void)
{
	/* Fetched once for the process (fetching takes a lock and searches the providers). */
	kdf_tls13 = EVP_KDF_fetch(NULL, "TLS13-KDF", NULL);
	kdf_tls1_prf = EVP_KDF_fetch(NULL, "TLS1-PRF", NULL);
}

static const char *digest_name(enum tls_hash hash)
{
	switch (hash) {
	case TLS_HASH_SHA256:
		return "SHA256";
	case TLS_HASH_SHA384:
		return "SHA384";
	}
	return NULL;
}

static int kdf_derive(EVP_KDF *kdf, const OSSL_PARAM *params, uint8_t *out, size_t out_length)
{
	EVP_KDF_CTX *context;
	int rc;

	if (!kdf)
		return -ENOTSUP;
	context = EVP_KDF_CTX_new(kdf);
	if (!context)
		return -ENOMEM;
	rc = EVP_KDF_derive(context, out, out_length, params) > 0 ? 0 : -EIO;
	EVP_KDF_CTX_free(context);
	return rc;
}

int tls_keys_expand_label(enum tls_hash hash, const uint8_t *secret, const char *label, const uint8_t *context,
			  size_t context_length, uint8_t *out, size_t out_length)
{
	static const char prefix[] = "tls13 ";
	const char *digest = digest_name(hash);
	int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
	OSSL_PARAM params[7], *p = params;

	if (!digest || !label || strlen(label) > 255 - (sizeof(prefix) - 1) || context_length > 255)
		return -EINVAL;
	pthread_once(&kdf_once, kdf_fetch);
	*p++ = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)digest, 0);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)secret, (size_t)hash);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PREFIX, (void *)prefix, sizeof(prefix) - 1);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_LABEL, (void *)label, strlen(label));
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_DATA, (void *)(context ? context : (const uint8_t *)""),
						 context_length);
	*p = OSSL_PARAM_construct_end();
	return kdf_derive(kdf_tls13, params, out, out_length);
}

int tls_keys_traffic_key_13(enum tls_aead_cipher cipher, enum tls_hash hash, const uint8_t *secret,
			    struct tls_traffic_key *key)
{
	size_t key_length = tls_aead_key_length(cipher);
	int rc;

	if (!key_length)
		return -EINVAL;
	memset(key, 0, sizeof(*key));
	key->key.cipher = (uint8_t)cipher;
	rc = tls_keys_expand_label(hash, secret, "key", NULL, 0, key->key.bytes, key_length);
	if (rc == 0)
		rc = tls_keys_expand_label(hash, secret, "iv", NULL, 0, key->iv, TLS_AEAD_NONCE_LENGTH);
	if (rc < 0)
		tls_aead_wipe(key, sizeof(*key));
	return rc;
}

int tls_keys_next_secret_13(enum tls_hash hash, uint8_t *secret)
{
	uint8_t next[TLS_SECRET_MAX];
	int rc = tls_keys_expand_label(hash, secret, "traffic upd", NULL, 0, next, (size_t)hash);

	if (rc == 0)
		memcpy(secret, next, (size_t)hash);
	tls_aead_wipe(next, sizeof(next));
	return rc;
}

int tls_keys_block_12(enum tls_aead_cipher cipher, enum tls_hash hash, const uint8_t master_secret[48],
		      const uint8_t client_random[32], const uint8_t server_random[32], struct tls_traffic_key *client,
		      struct tls_traffic_key *server)
{
	static const char label[] = "key expansion";
	size_t key_length = tls_aead_key_length(cipher);
	const char *digest = digest_name(hash);
	uint8_t seed[sizeof(label) - 1 + 64], block[2 * 32 + 2 * 4];
	OSSL_PARAM params[4], *p = params;
	int rc;

	if (!key_length || !digest)
		return -EINVAL;
	pthread_once(&kdf_once, kdf_fetch);
	memcpy(seed, label, sizeof(label) - 1);
	memcpy(seed + sizeof(label) - 1, server_random, 32);
	memcpy(seed + sizeof(label) - 1 + 32, client_random, 32);
	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)digest, 0);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, (void *)master_secret, 48);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, seed, sizeof(seed));
	*p = OSSL_PARAM_construct_end();
	rc = kdf_derive(kdf_tls1_prf, params, block, 2 * key_length + 8);
	if (rc == 0) {
		memset(client, 0, sizeof(*client));
		memset(server, 0, sizeof(*server));
		client->key.cipher = server->key.cipher = (uint8_t)cipher;
		memcpy(client->key.bytes, block, key_length);
		memcpy(server->key.bytes, block + key_length, key_length);
		memcpy(client->iv, block + 2 * key_length, 4);
		memcpy(server->iv, block + 2 * key_length + 4, 4);
	}
	tls_aead_wipe(block, sizeof(block));
	return rc;
}

int tls_ticket_key_generate(struct tls_ticket_key *key)
{
	if (RAND_bytes(key->name, sizeof(key->name)) != 1 || RAND_bytes(key->aes_key, sizeof(key->aes_key)) != 1 ||
	    RAND_bytes(key->hmac_key, sizeof(key->hmac_key)) != 1)
		return -EIO;
	return 0;
}

struct tls_ticket_reader {
	_Atomic uint64_t seen; /* generation seen at the last quiescent state; UINT64_MAX: offline */
} sluice_cache_aligned;

struct tls_ticket_keyring {
	_Atomic(struct tls_ticket_keys *) current;
	_Atomic uint64_t generation;
	struct tls_ticket_keys *retired; /* swapped out, not yet freed (a replace timed out) */
	uint64_t retired_generation;
	unsigned readers;
	struct tls_ticket_reader reader[];
};

static struct tls_ticket_keys *keys_copy(const struct tls_ticket_keys *keys)
{
	struct tls_ticket_keys *copy;

	if (!keys || keys->count == 0 || keys->count > TLS_TICKET_KEYS_MAX)
		return NULL;
	copy = malloc(sizeof(*copy));
	if (copy)
		memcpy(copy, keys, sizeof(*copy));
	return copy;
}

static void keys_free(struct tls_ticket_keys *keys)
{
	if (!keys)
		return;
	tls_aead_wipe(keys, sizeof(*keys));
	free(keys);
}

int tls_ticket_keyring_create(unsigned readers, const struct tls_ticket_keys *initial,
			      struct tls_ticket_keyring **out)
{
	struct tls_ticket_keyring *ring;
	struct tls_ticket_keys *keys;
	size_t size = sizeof(*ring) + readers * sizeof(ring->reader[0]);

	*out = NULL;
	if (readers == 0 || readers > TLS_TICKET_READERS_MAX)
		return -EINVAL;
	keys = keys_copy(initial);
	if (!keys)
		return initial && initial->count && initial->count <= TLS_TICKET_KEYS_MAX ? -ENOMEM : -EINVAL;
	size = (size + SLUICE_CACHE_LINE - 1) & ~(size_t)(SLUICE_CACHE_LINE - 1);
	ring = aligned_alloc(SLUICE_CACHE_LINE, size);
	if (!ring) {
		keys_free(keys);
		return -ENOMEM;
	}
	memset(ring, 0, size);
	atomic_init(&ring->current, keys);
	atomic_init(&ring->generation, 1);
	ring->readers = readers;
	for (unsigned i = 0; i < readers; i++)
		atomic_init(&ring->reader[i].seen, 1);
	*out = ring;
	return 0;
}

void tls_ticket_keyring_free(struct tls_ticket_keyring *ring)
{
	if (!ring)
		return;
	keys_free(atomic_load(&ring->current));
	keys_free(ring->retired);
	free(ring);
}

static bool grace_period_over(const struct tls_ticket_keyring *ring, uint64_t generation)
{
	for (unsigned i = 0; i < ring->readers; i++)
		if (atomic_load_explicit(&ring->reader[i].seen, memory_order_acquire) < generation)
			return false;
	return true;
}

static bool wait_grace_period(const struct tls_ticket_keyring *ring, uint64_t generation, unsigned timeout_ms)
{
	const struct timespec pause = {.tv_sec = 0, .tv_nsec = 100 * 1000};
	struct timespec start, now;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		if (grace_period_over(ring, generation))
			return true;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 >= (long)timeout_ms)
			return false;
		nanosleep(&pause, NULL);
	}
}

int tls_ticket_keyring_replace(struct tls_ticket_keyring *ring, const struct tls_ticket_keys *keys,
			       unsigned timeout_ms)
{
	struct tls_ticket_keys *fresh, *old;
	uint64_t generation;

	if (!keys || keys->count == 0 || keys->count > TLS_TICKET_KEYS_MAX)
		return -EINVAL;
	if (ring->retired) {
		if (!wait_grace_period(ring, ring->retired_generation, timeout_ms))
			return -EBUSY;
		keys_free(ring->retired);
		ring->retired = NULL;
	}
	fresh = keys_copy(keys);
	if (!fresh)
		return -ENOMEM;
	old = atomic_exchange(&ring->current, fresh);
	generation = atomic_fetch_add(&ring->generation, 1) + 1;
	if (!wait_grace_period(ring, generation, timeout_ms)) {
		ring->retired = old;
		ring->retired_generation = generation;
		return -ETIMEDOUT;
	}
	keys_free(old);
	return 0;
}

const struct tls_ticket_keys *tls_ticket_keyring_read(const struct tls_ticket_keyring *ring)
{
	return atomic_load_explicit(&((struct tls_ticket_keyring *)(uintptr_t)ring)->current, memory_order_acquire);
}

void tls_ticket_keyring_quiescent(struct tls_ticket_keyring *ring, unsigned reader)
{
	uint64_t generation = atomic_load(&ring->generation);

	atomic_store_explicit(&ring->reader[reader].seen, generation, memory_order_release);
}

void tls_ticket_keyring_offline(struct tls_ticket_keyring *ring, unsigned reader)
{
	atomic_store_explicit(&ring->reader[reader].seen, UINT64_MAX, memory_order_release);
}

void tls_ticket_keyring_online(struct tls_ticket_keyring *ring, unsigned reader)
{
	atomic_store(&ring->reader[reader].seen, atomic_load(&ring->generation));
}
