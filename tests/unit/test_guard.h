/* SPDX-License-Identifier: BSD-3-Clause
 *
 * test_guard.h: input buffers that end at an inaccessible page, for parser tests (STYLE.md
 * rule 6). The bytes are copied so that the last one is the last byte before a PROT_NONE
 * page: a parser that reads one byte past the length it was given faults at once, with or
 * without AddressSanitizer (whose redzones a static string would not have).
 */
#ifndef SLUICE_TEST_GUARD_H
#define SLUICE_TEST_GUARD_H

#include <stddef.h>

struct guard_buffer {
	void *map;
	size_t map_len;
	char *data; /* the copy; data + len is the first byte of the guard page */
};

/* Returns 0, or -errno when the mapping fails. len may be 0; bytes NULL leaves len zero
 * bytes (an output buffer ending at the guard). */
int guard_buffer_place(struct guard_buffer *guard, const void *bytes, size_t len);
void guard_buffer_release(struct guard_buffer *guard);

#endif /* SLUICE_TEST_GUARD_H */
