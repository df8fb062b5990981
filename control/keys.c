/* SPDX-License-Identifier: BSD-3-Clause
 *
 * keys.c: key sets and their command payloads (keys.h).
 */
#include "keys.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <string.h>

#include "text.h"

int keys_hex_decode(const char *hex, uint8_t *out, size_t len)
{
	if (strlen(hex) != 2 * len)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		int hi = sluice_hex_digit(hex[2 * i]), lo = sluice_hex_digit(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

void keys_hex_encode(const uint8_t *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = 0;
}

static int keys_base64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

int keys_parse_secret(const char *text, uint8_t out[SLUICE_CMD_SIGN_KEY_BYTES_MAX])
{
	size_t n = strlen(text);

	if (!strncmp(text, "base64:", 7)) {
		const char *p = text + 7;
		uint32_t acc = 0;
		size_t bits = 0, len = 0, chars = strlen(p);

		while (chars && p[chars - 1] == '=')
			chars--;
		if (strlen(p) - chars > 2)
			return -EINVAL;
		for (size_t i = 0; i < chars; i++) {
			int v = keys_base64_value(p[i]);

			if (v < 0)
				return -EINVAL;
			acc = acc << 6 | (uint32_t)v;
			bits += 6;
			if (bits >= 8) {
				bits -= 8;
				if (len == SLUICE_CMD_SIGN_KEY_BYTES_MAX)
					return -EINVAL;
				out[len++] = (uint8_t)(acc >> bits);
			}
		}
		if (bits >= 6 || (acc & ((1u << bits) - 1))) /* a dangling character or non-zero unused bits */
			return -EINVAL;
		return len >= 32 ? (int)len : -EINVAL;
	}
	if (n % 2 || n < 64 || n > 2 * SLUICE_CMD_SIGN_KEY_BYTES_MAX)
		return -EINVAL;
	return keys_hex_decode(text, out, n / 2) ? -EINVAL : (int)(n / 2);
}

int keys_random(uint8_t *out, size_t len)
{
	return RAND_bytes(out, (int)len) == 1 ? 0 : -EIO;
}

int keys_sign_find(const struct keys_set *set, uint8_t kid)
{
	for (uint32_t i = 0; i < set->sign_count; i++)
		if (set->sign[i].kid == kid)
			return (int)i;
	return -1;
}

int keys_sign_add(struct keys_set *set, uint8_t kid, const uint8_t *secret, uint8_t length, int64_t now_s)
{
	struct keys_sign_key *k;

	if (!kid || length < 32 || length > SLUICE_CMD_SIGN_KEY_BYTES_MAX)
		return -EINVAL;
	if (keys_sign_find(set, kid) >= 0)
		return -EEXIST;
	if (set->sign_count == SLUICE_CMD_SIGN_KEYS_MAX)
		return -ENOSPC;
	k = &set->sign[set->sign_count++];
	memset(k, 0, sizeof(*k));
	k->kid = kid;
	k->length = length;
	memcpy(k->secret, secret, length);
	k->created_s = now_s;
	return 0;
}

int keys_sign_remove(struct keys_set *set, uint8_t kid)
{
	int i = keys_sign_find(set, kid);

	if (i < 0)
		return -ENOENT;
	OPENSSL_cleanse(&set->sign[i], sizeof(set->sign[i]));
	memmove(&set->sign[i], &set->sign[i + 1], (set->sign_count - (uint32_t)i - 1) * sizeof(set->sign[0]));
	set->sign_count--;
	return 0;
}

int keys_ticket_rotate(struct keys_set *set, const struct keys_ticket_key *key)
{
	for (uint32_t i = 0; i < set->ticket_count; i++)
		if (!memcmp(set->ticket[i].name, key->name, sizeof(key->name)))
			return -EEXIST;
	if (set->ticket_count == SLUICE_CMD_TICKET_KEYS_MAX)
		OPENSSL_cleanse(&set->ticket[--set->ticket_count], sizeof(set->ticket[0]));
	memmove(&set->ticket[1], &set->ticket[0], set->ticket_count * sizeof(set->ticket[0]));
	set->ticket[0] = *key;
	set->ticket_count++;
	return 0;
}

void keys_sign_payload(const struct keys_set *set, struct sluice_cmd_sign_keys *out)
{
	memset(out, 0, sizeof(*out));
	out->count = set->sign_count;
	for (uint32_t i = 0; i < set->sign_count; i++) {
		out->keys[i].kid = set->sign[i].kid;
		out->keys[i].length = set->sign[i].length;
		memcpy(out->keys[i].secret, set->sign[i].secret, set->sign[i].length);
	}
}

void keys_ticket_payload(const struct keys_set *set, struct sluice_cmd_ticket_keys *out)
{
	memset(out, 0, sizeof(*out));
	out->count = set->ticket_count;
	for (uint32_t i = 0; i < set->ticket_count; i++) {
		memcpy(out->keys[i].name, set->ticket[i].name, 16);
		memcpy(out->keys[i].aes_key, set->ticket[i].aes_key, 32);
		memcpy(out->keys[i].hmac_key, set->ticket[i].hmac_key, 32);
	}
}
