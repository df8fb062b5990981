/* SPDX-License-Identifier: BSD-3-Clause
 *
 * ticket_key_file.c: reading and writing ticket key files (see ticket_key_file.h).
 */
#include "ticket_key_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#define TICKET_KEY_BYTES sizeof(struct sluice_cmd_ticket_key)

int ticket_key_file_read(const char *path, struct sluice_cmd_ticket_keys *keys, char *err, size_t err_len)
{
	uint8_t bytes[SLUICE_CMD_TICKET_KEYS_MAX * TICKET_KEY_BYTES + 1];
	size_t length = 0;
	ssize_t n;
	int fd, rc = 0;

	memset(keys, 0, sizeof(*keys));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, err_len, "%s: %s", path, strerror(errno));
		return rc;
	}
	while (length < sizeof(bytes) && (n = read(fd, bytes + length, sizeof(bytes) - length)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			snprintf(err, err_len, "%s: %s", path, strerror(errno));
			break;
		}
		length += (size_t)n;
	}
	close(fd);
	if (!rc && (length == 0 || length % TICKET_KEY_BYTES || length > SLUICE_CMD_TICKET_KEYS_MAX * TICKET_KEY_BYTES)) {
		snprintf(err, err_len, "%s: %zu%s bytes: a ticket key file holds 1 to %d keys of %zu bytes", path, length,
			 length == sizeof(bytes) ? "+" : "", SLUICE_CMD_TICKET_KEYS_MAX, TICKET_KEY_BYTES);
		rc = -EINVAL;
	}
	if (!rc) {
		keys->count = (uint32_t)(length / TICKET_KEY_BYTES);
		memcpy(keys->keys, bytes, length);
	}
	explicit_bzero(bytes, sizeof(bytes));
	return rc;
}

int ticket_key_file_generate(const char *path, unsigned count, char *err, size_t err_len)
{
	uint8_t bytes[SLUICE_CMD_TICKET_KEYS_MAX * TICKET_KEY_BYTES];
	size_t length = (size_t)count * TICKET_KEY_BYTES;
	char temporary[4096];
	int fd, rc = 0;

	if (!count || count > SLUICE_CMD_TICKET_KEYS_MAX) {
		snprintf(err, err_len, "between 1 and %d keys", SLUICE_CMD_TICKET_KEYS_MAX);
		return -EINVAL;
	}
	if ((size_t)snprintf(temporary, sizeof(temporary), "%s.tmp.%d", path, (int)getpid()) >= sizeof(temporary)) {
		snprintf(err, err_len, "%s: path too long", path);
		return -ENAMETOOLONG;
	}
	if (getrandom(bytes, length, 0) != (ssize_t)length) {
		rc = -errno;
		snprintf(err, err_len, "getrandom: %s", strerror(errno));
		return rc;
	}
	fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, err_len, "%s: %s", temporary, strerror(errno));
	} else if (write(fd, bytes, length) != (ssize_t)length || fsync(fd)) {
		rc = errno ? -errno : -EIO;
		snprintf(err, err_len, "%s: %s", temporary, strerror(-rc));
		close(fd);
		unlink(temporary);
	} else if (close(fd)) {
		rc = -errno;
		snprintf(err, err_len, "%s: %s", temporary, strerror(errno));
		unlink(temporary);
	} else if (rename(temporary, path)) {
		rc = -errno;
		snprintf(err, err_len, "%s: %s", path, strerror(errno));
		unlink(temporary);
	}
	explicit_bzero(bytes, sizeof(bytes));
	return rc;
}
