/* SPDX-License-Identifier: BSD-3-Clause
 *
 * net_csum.h: the Internet checksum (RFC 1071) and the TCP/IP pseudo-header sums.
 *
 * Per packet. Sums are accumulated in 64 bits over 8-byte words and folded once, which the
 * compiler turns into a tight add-with-carry loop; good enough for software checksums on
 * ports without offload (af_xdp), where the payload is in cache right after being written.
 */
#ifndef SLUICE_NET_CSUM_H
#define SLUICE_NET_CSUM_H

#include <stddef.h>
#include <stdint.h>

/* Partial sum of len bytes (any alignment), added to sum; fold with net_csum_fold. */
uint64_t net_csum_partial(const void *data, size_t len, uint64_t sum);

/* Folds a partial sum to 16 bits and complements it: the value to store (network order
 * when the partial sum was over network-order data, as all of ours are). */
uint16_t net_csum_fold(uint64_t sum);

/* Pseudo-header partial sums (addresses in network order, length and protocol in host). */
uint64_t net_csum_pseudo_v4(uint32_t src, uint32_t dst, uint8_t protocol, uint32_t l4_len);
uint64_t net_csum_pseudo_v6(const uint8_t src[16], const uint8_t dst[16], uint8_t next_header,
			    uint32_t l4_len);

/* Adds two partial sums where the second covers data that starts at an odd offset. */
static inline uint64_t net_csum_add_at(uint64_t sum, uint64_t part, size_t offset)
{
	if (offset & 1) {
		/* Byte-swap the 16-bit folded value of part. */
		uint64_t p = part;
		p = (p & 0xffffffff) + (p >> 32);
		p = (p & 0xffff) + (p >> 16);
		p = (p & 0xffff) + (p >> 16);
		p = ((p & 0xff) << 8) | ((p >> 8) & 0xff);
		return sum + p;
	}
	return sum + part;
}

#endif /* SLUICE_NET_CSUM_H */
