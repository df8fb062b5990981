/* SPDX-License-Identifier: BSD-3-Clause
 *
 * alloc.c: OpenSSL's allocations through jemalloc (see alloc.h).
 */
#include "alloc.h"

#include <errno.h>
#include <jemalloc/jemalloc.h>
#include <openssl/crypto.h>
#include <stdint.h>

#include "compiler.h"

static void *alloc_openssl_malloc(size_t n, const char *file sluice_unused, int line sluice_unused)
{
	return n ? mallocx(n, 0) : NULL;
}

static void *alloc_openssl_realloc(void *p, size_t n, const char *file sluice_unused, int line sluice_unused)
{
	if (!p)
		return n ? mallocx(n, 0) : NULL;
	if (!n) {
		dallocx(p, 0);
		return NULL;
	}
	return rallocx(p, n, 0);
}

static void alloc_openssl_free(void *p, const char *file sluice_unused, int line sluice_unused)
{
	if (p)
		dallocx(p, 0);
}

int sluice_alloc_init(void)
{
	if (!CRYPTO_set_mem_functions(alloc_openssl_malloc, alloc_openssl_realloc, alloc_openssl_free))
		return -EALREADY;
	return 0;
}

size_t sluice_alloc_allocated_bytes(void)
{
	uint64_t epoch = 1;
	size_t allocated = 0, len = sizeof(epoch);

	/* Statistics are cached; bumping the epoch refreshes them. */
	mallctl("epoch", &epoch, &len, &epoch, len);
	len = sizeof(allocated);
	if (mallctl("stats.allocated", &allocated, &len, NULL, 0))
		return 0;
	return allocated;
}
