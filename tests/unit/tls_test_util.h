/* SPDX-License-Identifier: BSD-3-Clause
 *
 * tls_test_util.h: helpers the TLS unit tests share: hex, a reproducible random generator,
 * buffers that end at a guard page, and (tls_test_pki.c) certificates made at test time.
 */
#ifndef SLUICE_TLS_TEST_UTIL_H
#define SLUICE_TLS_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define SLUICE_TEST_MIN(a, b) ((a) < (b) ? (a) : (b))

/* Decodes hex into out (at most capacity bytes); returns the byte count. */
size_t test_hex_decode(const char *hex, uint8_t *out, size_t capacity);

/* xorshift64*: the same sequence on every run for a seed. */
struct test_random {
	uint64_t state;
};
void test_random_seed(struct test_random *random, uint64_t seed);
uint64_t test_random_next(struct test_random *random);
/* Uniform-ish in [0, bound); 0 when bound is 0. */
size_t test_random_below(struct test_random *random, size_t bound);
void test_random_bytes(struct test_random *random, void *bytes, size_t length);

/*
 * A buffer of `length` bytes whose last byte is followed by an inaccessible page, so that a
 * parser reading one byte too far faults. Free with test_guarded_free.
 */
uint8_t *test_guarded_alloc(size_t length);
void test_guarded_free(uint8_t *bytes, size_t length);

#endif /* SLUICE_TLS_TEST_UTIL_H */
