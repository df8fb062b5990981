/* SPDX-License-Identifier: BSD-3-Clause
 *
 * tls_iov.c: scatter-list cursors; see tls_iov.h.
 */
#include "tls_iov.h"

#include <errno.h>
#include <string.h>

#include "compiler.h"

void tls_iov_cursor_init(struct tls_iov_cursor *cursor, const struct iovec *iov, unsigned count)
{
	cursor->iov = iov;
	cursor->count = count;
	cursor->index = 0;
	cursor->offset = 0;
}

size_t tls_iov_cursor_remaining(const struct tls_iov_cursor *cursor)
{
	size_t total = 0;

	for (unsigned i = cursor->index; i < cursor->count; i++)
		total += cursor->iov[i].iov_len;
	return total - (cursor->index < cursor->count ? cursor->offset : 0);
}

size_t tls_iov_cursor_peek(struct tls_iov_cursor *cursor, uint8_t **piece)
{
	while (cursor->index < cursor->count && cursor->offset >= cursor->iov[cursor->index].iov_len) {
		cursor->index++;
		cursor->offset = 0;
	}
	if (cursor->index == cursor->count)
		return 0;
	*piece = (uint8_t *)cursor->iov[cursor->index].iov_base + cursor->offset;
	return cursor->iov[cursor->index].iov_len - cursor->offset;
}

int tls_iov_cursor_skip(struct tls_iov_cursor *cursor, size_t length)
{
	while (length) {
		uint8_t *piece;
		size_t n = tls_iov_cursor_peek(cursor, &piece);

		if (!n)
			return -ENODATA;
		n = SLUICE_MIN(n, length);
		cursor->offset += n;
		length -= n;
	}
	return 0;
}

int tls_iov_cursor_write(struct tls_iov_cursor *cursor, const void *bytes, size_t length)
{
	const uint8_t *from = bytes;

	while (length) {
		uint8_t *piece;
		size_t n = tls_iov_cursor_peek(cursor, &piece);

		if (!n)
			return -ENOSPC;
		n = SLUICE_MIN(n, length);
		memcpy(piece, from, n);
		from += n;
		cursor->offset += n;
		length -= n;
	}
	return 0;
}

int tls_iov_cursor_read(struct tls_iov_cursor *cursor, void *bytes, size_t length)
{
	uint8_t *to = bytes;

	while (length) {
		uint8_t *piece;
		size_t n = tls_iov_cursor_peek(cursor, &piece);

		if (!n)
			return -ENODATA;
		n = SLUICE_MIN(n, length);
		memcpy(to, piece, n);
		to += n;
		cursor->offset += n;
		length -= n;
	}
	return 0;
}
