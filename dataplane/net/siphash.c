/* SPDX-License-Identifier: BSD-3-Clause
 *
 * siphash.c: SipHash-2-4 from its specification (see siphash.h); checked against the
 * reference test vector in the unit tests.
 */
#include "siphash.h"

#include <string.h>

#define SIPHASH_ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

#define SIPHASH_ROUND(v0, v1, v2, v3)                                            \
	do {                                                                     \
		v0 += v1; v1 = SIPHASH_ROTL(v1, 13); v1 ^= v0; v0 = SIPHASH_ROTL(v0, 32); \
		v2 += v3; v3 = SIPHASH_ROTL(v3, 16); v3 ^= v2;                   \
		v0 += v3; v3 = SIPHASH_ROTL(v3, 21); v3 ^= v0;                   \
		v2 += v1; v1 = SIPHASH_ROTL(v1, 17); v1 ^= v2; v2 = SIPHASH_ROTL(v2, 32); \
	} while (0)

uint64_t siphash24(const struct siphash_key *key, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t v0 = 0x736f6d6570736575ULL ^ key->k0;
	uint64_t v1 = 0x646f72616e646f6dULL ^ key->k1;
	uint64_t v2 = 0x6c7967656e657261ULL ^ key->k0;
	uint64_t v3 = 0x7465646279746573ULL ^ key->k1;
	uint64_t b = (uint64_t)len << 56;
	size_t left = len & 7;
	const uint8_t *end = p + len - left;

	for (; p != end; p += 8) {
		uint64_t m;
		memcpy(&m, p, 8); /* little-endian host: the spec's load */
		v3 ^= m;
		SIPHASH_ROUND(v0, v1, v2, v3);
		SIPHASH_ROUND(v0, v1, v2, v3);
		v0 ^= m;
	}
	for (size_t i = 0; i < left; i++)
		b |= (uint64_t)p[i] << (8 * i);
	v3 ^= b;
	SIPHASH_ROUND(v0, v1, v2, v3);
	SIPHASH_ROUND(v0, v1, v2, v3);
	v0 ^= b;
	v2 ^= 0xff;
	SIPHASH_ROUND(v0, v1, v2, v3);
	SIPHASH_ROUND(v0, v1, v2, v3);
	SIPHASH_ROUND(v0, v1, v2, v3);
	SIPHASH_ROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}
