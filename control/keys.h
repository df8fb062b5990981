/* SPDX-License-Identifier: BSD-3-Clause
 *
 * keys.h: URL-signing keys and TLS session ticket keys as the control plane keeps them, and
 * their conversion to the command payloads that push them to the data plane
 * (SLUICE_CMD_SIGN_KEYS_SET, SLUICE_CMD_TICKET_KEYS_SET).
 *
 * Signing keys: up to SLUICE_CMD_SIGN_KEYS_MAX, each a key id (1..255) and a 32..64-byte
 * secret, accepted as hex or "base64:" (standard or url-safe alphabet, padding optional) —
 * the same forms as the key file the data plane and sluice-sign read (url_sign.h) — or
 * generated from the OpenSSL RNG. The whole set is pushed every time (the command replaces
 * the set), so adding or retiring one key is one command.
 *
 * Ticket keys: the newest encrypts new tickets and sits first; older ones still decrypt
 * tickets they made. Rotation puts a new key (generated, or uploaded as hex) first and keeps
 * at most SLUICE_CMD_TICKET_KEYS_MAX.
 *
 * Secrets never leave through the API after they were set, except a generated signing secret,
 * returned once to whoever generated it (the backend needs it to mint URLs).
 */
#ifndef SLUICE_CONTROL_KEYS_H
#define SLUICE_CONTROL_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "sluice_cmd.h"

struct keys_sign_key {
	uint8_t kid;
	uint8_t length;
	uint8_t secret[SLUICE_CMD_SIGN_KEY_BYTES_MAX];
	int64_t created_s;
};

struct keys_ticket_key {
	uint8_t name[16];
	uint8_t aes_key[32];
	uint8_t hmac_key[32];
	int64_t created_s;
};

struct keys_set {
	uint32_t sign_count;
	struct keys_sign_key sign[SLUICE_CMD_SIGN_KEYS_MAX];
	uint32_t ticket_count;         /* ticket[0] is the newest */
	struct keys_ticket_key ticket[SLUICE_CMD_TICKET_KEYS_MAX];
};

/* Hex (either case) or "base64:..." into out; returns the byte count (32..64) or -EINVAL. */
int keys_parse_secret(const char *text, uint8_t out[SLUICE_CMD_SIGN_KEY_BYTES_MAX]);
/* Exactly len bytes of hex into out: 0 or -EINVAL. */
int keys_hex_decode(const char *hex, uint8_t *out, size_t len);
void keys_hex_encode(const uint8_t *in, size_t len, char *out); /* out: 2 * len + 1 */
/* Random bytes from the OpenSSL RNG: 0 or -EIO. */
int keys_random(uint8_t *out, size_t len);

/* Index of kid in set, or -1. */
int keys_sign_find(const struct keys_set *set, uint8_t kid);
/* Adds a key: 0, -EEXIST (kid taken), -ENOSPC (set full), -EINVAL (bad kid or length). */
int keys_sign_add(struct keys_set *set, uint8_t kid, const uint8_t *secret, uint8_t length, int64_t now_s);
/* Removes a key: 0 or -ENOENT. */
int keys_sign_remove(struct keys_set *set, uint8_t kid);
/* Puts key first, dropping the oldest beyond SLUICE_CMD_TICKET_KEYS_MAX; -EEXIST when its name
 * is already in the set. */
int keys_ticket_rotate(struct keys_set *set, const struct keys_ticket_key *key);

void keys_sign_payload(const struct keys_set *set, struct sluice_cmd_sign_keys *out);
void keys_ticket_payload(const struct keys_set *set, struct sluice_cmd_ticket_keys *out);

#endif /* SLUICE_CONTROL_KEYS_H */
