/* SPDX-License-Identifier: BSD-3-Clause
 *
 * ticket_key_file.h: the file format of TLS session ticket keys, shared by sluice-dataplane
 * (dataplane.tls.ticket_key_file, read at start) and `sluice-dpctl ticket-keys` (which sends
 * the keys with SLUICE_CMD_TICKET_KEYS_SET).
 *
 * The file is 1 to SLUICE_CMD_TICKET_KEYS_MAX keys of 80 bytes each, nothing else:
 * name (16) | AES-256 key (32) | HMAC-SHA256 key (32), in the order of struct
 * sluice_cmd_ticket_key. The first key encrypts new tickets; all of them decrypt. Any 80
 * random bytes are a key (`openssl rand 80`). Rotation: put a new key first, keep the old
 * ones after it while their tickets may still be presented, drop them later.
 * Control path: file I/O, no allocation.
 */
#ifndef SLUICE_API_TICKET_KEY_FILE_H
#define SLUICE_API_TICKET_KEY_FILE_H

#include <stddef.h>

#include "sluice_cmd.h"

/* Reads a key file. 0, or -errno with a message naming the file in err. */
int ticket_key_file_read(const char *path, struct sluice_cmd_ticket_keys *keys, char *err, size_t err_len);

/* Writes `count` random keys (getrandom) to path, mode 0600, atomically (temporary file,
 * fsync, rename). 0, or -errno with a message in err. */
int ticket_key_file_generate(const char *path, unsigned count, char *err, size_t err_len);

#endif /* SLUICE_API_TICKET_KEY_FILE_H */
