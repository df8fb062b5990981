/* SPDX-License-Identifier: BSD-3-Clause
 *
 * siphash.h: SipHash-2-4 (Aumasson & Bernstein), a keyed hash for short inputs.
 *
 * Used where an attacker chooses the input and must not predict or collide the output:
 * initial sequence numbers (RFC 6528), SYN cookies (RFC 4987) and the connection table's
 * bucket choice (hash flooding). The same function the Linux and FreeBSD TCP stacks use for
 * these jobs; 64-bit output, 128-bit key, about 1 ns per byte plus a small constant.
 */
#ifndef SLUICE_NET_SIPHASH_H
#define SLUICE_NET_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

struct siphash_key {
	uint64_t k0, k1;
};

uint64_t siphash24(const struct siphash_key *key, const void *data, size_t len);

#endif /* SLUICE_NET_SIPHASH_H */
