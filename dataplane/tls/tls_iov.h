/* SPDX-License-Identifier: BSD-3-Clause
 *
 * tls_iov.h: cursors over scatter lists (struct iovec), which every TLS module walks: the
 * data plane's buffers are never contiguous (ciphertext goes into several mbufs, plaintext
 * comes from a mapped file and a header buffer, received records span segments). A cursor is
 * a position (entry, offset); empty entries are skipped. Per-packet code: no allocation.
 */
#ifndef SLUICE_TLS_IOV_H
#define SLUICE_TLS_IOV_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/* A position in a scatter list: iov[index].iov_base + offset is the next byte. */
struct tls_iov_cursor {
	const struct iovec *iov;
	unsigned count;
	unsigned index;
	size_t offset;
};

void tls_iov_cursor_init(struct tls_iov_cursor *cursor, const struct iovec *iov, unsigned count);
/*
 * The contiguous bytes at the cursor (skipping empty entries): sets *piece and returns their
 * count, 0 at the end of the list. Does not advance (see tls_iov_cursor_skip).
 */
size_t tls_iov_cursor_peek(struct tls_iov_cursor *cursor, uint8_t **piece);
/* Bytes from the cursor to the end of the list (walks the list). */
size_t tls_iov_cursor_remaining(const struct tls_iov_cursor *cursor);
/* Copies `length` bytes into the list; -ENOSPC (nothing defined written) if it is shorter. */
int tls_iov_cursor_write(struct tls_iov_cursor *cursor, const void *bytes, size_t length);
/* Copies `length` bytes out of the list; -ENODATA if it is shorter. */
int tls_iov_cursor_read(struct tls_iov_cursor *cursor, void *bytes, size_t length);
int tls_iov_cursor_skip(struct tls_iov_cursor *cursor, size_t length);

#endif /* SLUICE_TLS_IOV_H */
