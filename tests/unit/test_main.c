/* SPDX-License-Identifier: BSD-3-Clause
 *
 * test_main.c: runs every suite a unit-test binary registers (see test_main.h).
 */
#include "test_main.h"

#include <stdlib.h>

void test_add_suite(const char *suite, const struct test_case *cases)
{
	CU_pSuite s = CU_add_suite(suite, NULL, NULL);

	if (!s) {
		fprintf(stderr, "cannot add suite %s: %s\n", suite, CU_get_error_msg());
		exit(2);
	}
	for (; cases->name; cases++)
		if (!CU_add_test(s, cases->name, cases->fn)) {
			fprintf(stderr, "cannot add test %s: %s\n", cases->name, CU_get_error_msg());
			exit(2);
		}
}

int main(void)
{
	unsigned failures;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	test_register();
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failures = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failures ? 1 : 0;
}
