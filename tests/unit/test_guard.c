/* SPDX-License-Identifier: BSD-3-Clause
 *
 * test_guard.c: guard-page buffers (see test_guard.h).
 */
#include "test_guard.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int guard_buffer_place(struct guard_buffer *guard, const void *bytes, size_t len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t data_pages = (len + page - 1) / page;
	char *map;

	guard->map_len = (data_pages + 1) * page;
	map = mmap(NULL, guard->map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED)
		return -errno;
	if (mprotect(map + data_pages * page, page, PROT_NONE) < 0) {
		int rc = -errno;

		munmap(map, guard->map_len);
		return rc;
	}
	guard->map = map;
	guard->data = map + data_pages * page - len;
	if (len && bytes)
		memcpy(guard->data, bytes, len);
	return 0;
}

void guard_buffer_release(struct guard_buffer *guard)
{
	if (guard->map)
		munmap(guard->map, guard->map_len);
	guard->map = NULL;
	guard->data = NULL;
}
