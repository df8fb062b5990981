/* SPDX-License-Identifier: BSD-3-Clause
 *
 * cmd_client.h: the client side of the command protocol (sluice_cmd.h), for sluice-control
 * and sluice-dpctl. Blocking, with a timeout; one request at a time per connection.
 */
#ifndef SLUICE_API_CMD_CLIENT_H
#define SLUICE_API_CMD_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "sluice_cmd.h"

struct cmd_client {
	int fd;
	uint32_t next_request_id;
	uint16_t server_version;       /* from the last reply */
};

/* Connects to the data plane's socket. Returns 0 or -errno. */
int cmd_client_connect(struct cmd_client *c, const char *path);
void cmd_client_close(struct cmd_client *c);

/* Sends type with payload and waits up to timeout_ms for the reply. On return 0 the result
 * (status and message) is in *result and up to reply_len bytes of the reply struct in reply.
 * Returns -errno for transport errors (the connection should be reopened). */
int cmd_client_call(struct cmd_client *c, uint16_t type, const void *payload, uint32_t payload_len,
		    struct sluice_cmd_result *result, void *reply, uint32_t reply_len, int timeout_ms);

#endif /* SLUICE_API_CMD_CLIENT_H */
