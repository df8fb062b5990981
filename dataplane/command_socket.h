/* SPDX-License-Identifier: BSD-3-Clause
 *
 * command_socket.h: the server side of the command protocol's transport (api/sluice_cmd.h):
 * a UNIX SOCK_SEQPACKET listener on the main thread, polled between heartbeats. Validates
 * every message's header (magic, version, length) before the handler sees it and answers
 * malformed ones itself, so handlers only deal with well-formed requests. Control path.
 */
#ifndef SLUICE_COMMAND_SOCKET_H
#define SLUICE_COMMAND_SOCKET_H

#include <stdint.h>

#include "sluice_cmd.h"

#define COMMAND_CLIENTS_MAX 16

/* Answers a request: fills result and up to reply_max bytes of reply; returns the reply
 * payload length. payload_len is exactly the request's payload length. */
typedef uint32_t (*command_handler)(void *ctx, uint16_t type, const uint8_t *payload, uint32_t payload_len,
				    struct sluice_cmd_result *result, uint8_t *reply, uint32_t reply_max);

struct command_socket {
	int listen_fd;
	int clients[COMMAND_CLIENTS_MAX];
	char path[256];
	uint64_t requests;
	uint64_t rejected;             /* malformed messages */
};

int command_socket_open(struct command_socket *cs, const char *path);
void command_socket_close(struct command_socket *cs);
/* Waits up to timeout_ms for activity; accepts clients and answers their requests. */
void command_socket_poll(struct command_socket *cs, int timeout_ms, command_handler handler, void *ctx);

#endif /* SLUICE_COMMAND_SOCKET_H */
