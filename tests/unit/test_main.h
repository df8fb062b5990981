/* SPDX-License-Identifier: BSD-3-Clause
 *
 * test_main.h: the shared CUnit runner. Each unit-test file defines test_register(), which adds
 * its suites; test_main.c runs them all and exits non-zero on any failure, so meson counts the
 * binary as failed. Tables of cases (STYLE.md rule 6) are run by one CUnit test each, which
 * names the failing row in its assertion message.
 */
#ifndef SLUICE_TEST_MAIN_H
#define SLUICE_TEST_MAIN_H

#include <CUnit/Basic.h>
#include <stdio.h>

void test_register(void);

/* Adds a suite with the given tests (NULL-terminated {name, fn} array). */
struct test_case {
	const char *name;
	void (*fn)(void);
};
void test_add_suite(const char *suite, const struct test_case *cases);

/* Assertion that names a table row: CU_ASSERT with a formatted message on failure. */
#define TEST_CHECK(cond, ...)                                                    \
	do {                                                                     \
		if (!(cond)) {                                                   \
			char test_msg_[512];                                     \
			snprintf(test_msg_, sizeof(test_msg_), __VA_ARGS__);     \
			CU_assertImplementation(CU_FALSE, __LINE__, test_msg_, __FILE__, "", CU_FALSE); \
		} else {                                                         \
			CU_PASS(#cond);                                          \
		}                                                                \
	} while (0)

#endif /* SLUICE_TEST_MAIN_H */
