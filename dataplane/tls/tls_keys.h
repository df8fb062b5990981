/* SPDX-License-Identifier: BSD-3-Clause
 *
 * tls_keys.h: the key schedule pieces the data plane needs after the handshake.
 *
 * Derivations (OpenSSL 3.0 EVP_KDF; each call allocates a KDF context, so they belong to the
 * handshake and to KeyUpdate, never to the per-record path):
 *   TLS 1.3  HKDF-Expand-Label (RFC 8446 7.1) via "TLS13-KDF" mode EXPAND_ONLY, prefix
 *            "tls13 ": key = Expand-Label(secret, "key", "", key_length),
 *            iv = Expand-Label(secret, "iv", "", 12),
 *            next secret (KeyUpdate) = Expand-Label(secret, "traffic upd", "", hash_length).
 *   TLS 1.2  key block = PRF(master_secret, "key expansion", server_random + client_random)
 *            via "TLS1-PRF", cut as client key, server key, client salt (4), server salt (4)
 *            (AES-GCM suites have no MAC keys).
 */
#ifndef SLUICE_TLS_KEYS_H
#define SLUICE_TLS_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tls_aead.h"
#include "tls_record.h"

enum tls_hash {
	TLS_HASH_SHA256 = 32, /* the value is the digest length */
	TLS_HASH_SHA384 = 48,
};
#define TLS_SECRET_MAX 48

/* HKDF-Expand-Label(secret, label, context, out_length) of TLS 1.3. 0 or -errno. */
int tls_keys_expand_label(enum tls_hash hash, const uint8_t *secret, const char *label, const uint8_t *context,
			  size_t context_length, uint8_t *out, size_t out_length);
/* The record key and IV of a TLS 1.3 traffic secret. */
int tls_keys_traffic_key_13(enum tls_aead_cipher cipher, enum tls_hash hash, const uint8_t *secret,
			    struct tls_record_key *key);
/* secret := the next generation of a TLS 1.3 traffic secret ("traffic upd"). */
int tls_keys_next_secret_13(enum tls_hash hash, uint8_t *secret);
/* The TLS 1.2 AES-GCM record keys of both sides from the master secret (48 bytes). */
int tls_keys_block_12(enum tls_aead_cipher cipher, enum tls_hash hash, const uint8_t master_secret[48],
		      const uint8_t client_random[32], const uint8_t server_random[32], struct tls_record_key *client,
		      struct tls_record_key *server);

#endif /* SLUICE_TLS_KEYS_H */
