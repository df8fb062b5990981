/* SPDX-License-Identifier: BSD-3-Clause
 *
 * alloc.h: jemalloc as the allocator of everything that is not a DPDK mempool.
 *
 * Both processes link jemalloc, which replaces malloc/free process-wide; sluice_alloc_init()
 * additionally routes OpenSSL's allocations (CRYPTO_set_mem_functions) through jemalloc's own
 * entry points, so that TLS handshake state is counted in jemalloc's statistics and uses its
 * per-thread caches. Call it first thing in main, before any OpenSSL call.
 */
#ifndef SLUICE_ALLOC_H
#define SLUICE_ALLOC_H

#include <stddef.h>

/* Returns 0, or -EALREADY if OpenSSL had allocated before (its functions can no longer change). */
int sluice_alloc_init(void);

/* Bytes jemalloc reports as allocated by the application right now (stats.allocated). */
size_t sluice_alloc_allocated_bytes(void);

#endif /* SLUICE_ALLOC_H */
