/* SPDX-License-Identifier: BSD-3-Clause
 *
 * net_csum.c: Internet checksum arithmetic (see net_csum.h). Runs per packet.
 */
#include "net_csum.h"

#include <string.h>

uint64_t net_csum_partial(const void *data, size_t len, uint64_t sum)
{
	const uint8_t *p = data;
	uint64_t acc = 0;

	/* The one's-complement sum is byte-order independent as long as we fold consistently:
	 * summing native 32-bit halves of 64-bit loads and folding gives the network-order
	 * sum's byte-swapped value on little endian, fixed once at the end. */
	while (len >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		acc += w & 0xffffffff;
		acc += w >> 32;
		p += 8;
		len -= 8;
	}
	if (len >= 4) {
		uint32_t w;
		memcpy(&w, p, 4);
		acc += w;
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		uint16_t w;
		memcpy(&w, p, 2);
		acc += w;
		p += 2;
		len -= 2;
	}
	if (len)
		acc += *p; /* little endian: the odd byte is the high-order byte in network order */
	/* Fold acc to 16 bits, then convert from little-endian lane order to network order. */
	acc = (acc & 0xffffffff) + (acc >> 32);
	acc = (acc & 0xffff) + (acc >> 16);
	acc = (acc & 0xffff) + (acc >> 16);
	acc = (acc & 0xffff) + (acc >> 16);
	acc = ((acc & 0xff) << 8) | (acc >> 8);
	return sum + acc;
}

uint16_t net_csum_fold(uint64_t sum)
{
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	/* sum is in network (big-endian) numeric order: return it as host value to be stored
	 * big-endian by the caller (net_store_be16). */
	return (uint16_t)~sum;
}

uint64_t net_csum_pseudo_v4(uint32_t src, uint32_t dst, uint8_t protocol, uint32_t l4_len)
{
	uint8_t buf[12];

	memcpy(buf, &src, 4);
	memcpy(buf + 4, &dst, 4);
	buf[8] = 0;
	buf[9] = protocol;
	buf[10] = (uint8_t)(l4_len >> 8);
	buf[11] = (uint8_t)l4_len;
	return net_csum_partial(buf, sizeof(buf), 0);
}

uint64_t net_csum_pseudo_v6(const uint8_t src[16], const uint8_t dst[16], uint8_t next_header, uint32_t l4_len)
{
	uint8_t buf[40];

	memcpy(buf, src, 16);
	memcpy(buf + 16, dst, 16);
	buf[32] = (uint8_t)(l4_len >> 24);
	buf[33] = (uint8_t)(l4_len >> 16);
	buf[34] = (uint8_t)(l4_len >> 8);
	buf[35] = (uint8_t)l4_len;
	buf[36] = buf[37] = buf[38] = 0;
	buf[39] = next_header;
	return net_csum_partial(buf, sizeof(buf), 0);
}
