/* SPDX-License-Identifier: BSD-3-Clause
 *
 * compiler.h: the few compiler helpers every sluice module uses.
 *
 * Kept free of DPDK so that the protocol engines (TCP, HTTP, TLS records) build and run in
 * unit tests without an EAL. DPDK code may use rte_ equivalents; these are identical in
 * meaning (likely/unlikely hints, cache-line alignment, array sizes).
 */
#ifndef SLUICE_COMPILER_H
#define SLUICE_COMPILER_H

#include <stddef.h>
#include <stdint.h>

#define SLUICE_CACHE_LINE 64
#define sluice_cache_aligned __attribute__((aligned(SLUICE_CACHE_LINE)))

#ifndef likely
#define likely(x) __builtin_expect(!!(x), 1)
#endif
#ifndef unlikely
#define unlikely(x) __builtin_expect(!!(x), 0)
#endif

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define container_of_const(ptr, type, member) \
	((const type *)(const void *)((const char *)(ptr) - offsetof(type, member)))
#define sluice_container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

#define SLUICE_MIN(a, b) ((a) < (b) ? (a) : (b))
#define SLUICE_MAX(a, b) ((a) > (b) ? (a) : (b))

#define sluice_unused __attribute__((unused))
#define sluice_printf(f, a) __attribute__((format(printf, f, a)))

#endif /* SLUICE_COMPILER_H */
