/* SPDX-License-Identifier: BSD-3-Clause
 *
 * test_alloc.c: OpenSSL's allocations go through jemalloc once sluice_alloc_init() ran
 * (common/alloc.c): jemalloc's own statistics grow by what OpenSSL allocates.
 */
#include <openssl/evp.h>

#include "alloc.h"
#include "test_main.h"

static void test_openssl_uses_jemalloc(void)
{
	EVP_MD_CTX *ctx[64];
	size_t before, after;

	CU_ASSERT_EQUAL_FATAL(sluice_alloc_init(), 0);
	before = sluice_alloc_allocated_bytes();
	for (int i = 0; i < 64; i++) {
		ctx[i] = EVP_MD_CTX_new();
		CU_ASSERT_PTR_NOT_NULL(ctx[i]);
		CU_ASSERT(EVP_DigestInit_ex(ctx[i], EVP_sha256(), NULL));
	}
	after = sluice_alloc_allocated_bytes();
	CU_ASSERT(after > before);
	for (int i = 0; i < 64; i++)
		EVP_MD_CTX_free(ctx[i]);
	/* With our functions installed OpenSSL keeps accepting them: installing is idempotent. */
	CU_ASSERT_EQUAL(sluice_alloc_init(), 0);
}

void test_register(void)
{
	static const struct test_case cases[] = {
		{"OpenSSL allocates through jemalloc", test_openssl_uses_jemalloc},
		{NULL, NULL},
	};
	test_add_suite("alloc", cases);
}
