/* SPDX-License-Identifier: BSD-3-Clause
 *
 * test_alloc_count.h: counts heap allocations made by the calling thread, to prove that hot
 * path functions allocate nothing. Under AddressSanitizer the sanitizer's allocator hooks
 * count every malloc/calloc/realloc; otherwise jemalloc's per-thread byte counter
 * (thread.allocated) is used, jemalloc being the process allocator of every sluice binary.
 */
#ifndef SLUICE_TEST_ALLOC_COUNT_H
#define SLUICE_TEST_ALLOC_COUNT_H

#include <stdint.h>

#include <stdbool.h>

/* A value that grows with every allocation of this thread (a count or a byte total). */
uint64_t test_alloc_counter(void);

/* Whether the counter sees a malloc at all; a "no allocation" check is only worth something
 * when this is true. */
bool test_alloc_counter_works(void);

#endif /* SLUICE_TEST_ALLOC_COUNT_H */
