/* SPDX-License-Identifier: BSD-3-Clause
 *
 * tls_keys.c: TLS 1.3 / 1.2 record key derivation through OpenSSL's KDFs; see tls_keys.h.
 * Handshake and KeyUpdate path only.
 */
#include "tls_keys.h"

#include <errno.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <pthread.h>
#include <string.h>

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
			    struct tls_record_key *key)
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
		      const uint8_t client_random[32], const uint8_t server_random[32], struct tls_record_key *client,
		      struct tls_record_key *server)
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
