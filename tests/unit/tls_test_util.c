/* SPDX-License-Identifier: BSD-3-Clause
 *
 * tls_test_util.c: see tls_test_util.h.
 */
#include "tls_test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "text.h"

size_t test_hex_decode(const char *hex, uint8_t *out, size_t capacity)
{
	size_t n = 0;

	while (hex[0] && hex[1] && n < capacity) {
		int high = sluice_hex_digit(hex[0]), low = sluice_hex_digit(hex[1]);

		if (high < 0 || low < 0)
			break;
		out[n++] = (uint8_t)(high << 4 | low);
		hex += 2;
	}
	return n;
}

void test_random_seed(struct test_random *random, uint64_t seed)
{
	random->state = seed * 0x9e3779b97f4a7c15ull + 1;
}

uint64_t test_random_next(struct test_random *random)
{
	uint64_t x = random->state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	random->state = x;
	return x * 0x2545f4914f6cdd1dull;
}

size_t test_random_below(struct test_random *random, size_t bound)
{
	return bound ? (size_t)(test_random_next(random) % bound) : 0;
}

void test_random_bytes(struct test_random *random, void *bytes, size_t length)
{
	uint8_t *p = bytes;

	while (length) {
		uint64_t v = test_random_next(random);
		size_t n = length < 8 ? length : 8;

		memcpy(p, &v, n);
		p += n;
		length -= n;
	}
}

uint8_t *test_guarded_alloc(size_t length)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t pages = (length + page - 1) / page + 1;
	uint8_t *base = mmap(NULL, pages * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (base == MAP_FAILED) {
		perror("mmap");
		abort();
	}
	if (mprotect(base + (pages - 1) * page, page, PROT_NONE)) {
		perror("mprotect");
		abort();
	}
	return base + (pages - 1) * page - length;
}

void test_guarded_free(uint8_t *bytes, size_t length)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t pages = (length + page - 1) / page + 1;
	uint8_t *base = bytes + length - (pages - 1) * page;

	munmap(base, pages * page);
}
