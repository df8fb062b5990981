/* SPDX-License-Identifier: BSD-3-Clause
 *
 * test_alloc_count.c: allocation counting through ASan hooks or jemalloc (see
 * test_alloc_count.h).
 */
#include "test_alloc_count.h"

#include <stddef.h>
#include <stdlib.h>

#if defined(__SANITIZE_ADDRESS__)
#define TEST_ALLOC_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_ALLOC_ASAN 1
#endif
#endif

#ifdef TEST_ALLOC_ASAN
/* From <sanitizer/allocator_interface.h>, which gcc does not ship. */
int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void *, size_t),
					      void (*free_hook)(const volatile void *));

/* volatile: compilers assume malloc leaves program globals alone and would fold the reads. */
static _Thread_local volatile uint64_t allocations;
static int hooks_installed;

static void count_malloc(const volatile void *p, size_t size)
{
	(void)p, (void)size;
	allocations++;
}

static void count_free(const volatile void *p)
{
	(void)p;
}

uint64_t test_alloc_counter(void)
{
	if (!hooks_installed) {
		__sanitizer_install_malloc_and_free_hooks(count_malloc, count_free);
		hooks_installed = 1;
	}
	return allocations;
}
#else
#include <jemalloc/jemalloc.h>

uint64_t test_alloc_counter(void)
{
	uint64_t allocated = 0;
	size_t len = sizeof(allocated);

	mallctl("thread.allocated", &allocated, &len, NULL, 0);
	return allocated;
}
#endif

bool test_alloc_counter_works(void)
{
	uint64_t before = test_alloc_counter();
	void *volatile probe = malloc(64); /* volatile: the pair must not be optimized away */
	uint64_t after = test_alloc_counter();

	free(probe);
	return after != before;
}
