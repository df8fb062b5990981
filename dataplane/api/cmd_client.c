/* SPDX-License-Identifier: BSD-3-Clause
 *
 * cmd_client.c: command protocol client (see cmd_client.h).
 */
#include "cmd_client.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int cmd_client_connect(struct cmd_client *c, const char *path)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	strcpy(addr.sun_path, path);
	c->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -errno;
	if (connect(c->fd, (struct sockaddr *)&addr, sizeof(addr))) {
		int rc = -errno;
		close(c->fd);
		c->fd = -1;
		return rc;
	}
	return 0;
}

void cmd_client_close(struct cmd_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

int cmd_client_call(struct cmd_client *c, uint16_t type, const void *payload, uint32_t payload_len,
		    struct sluice_cmd_result *result, void *reply, uint32_t reply_len, int timeout_ms)
{
	uint8_t msg[SLUICE_CMD_MESSAGE_MAX];
	struct sluice_cmd_header h = {
		.magic = SLUICE_CMD_MAGIC,
		.version = SLUICE_CMD_VERSION,
		.type = type,
		.length = payload_len,
		.request_id = ++c->next_request_id,
	};
	struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
	ssize_t n;

	if (c->fd < 0)
		return -ENOTCONN;
	if (sizeof(h) + payload_len > sizeof(msg))
		return -EMSGSIZE;
	memcpy(msg, &h, sizeof(h));
	if (payload_len)
		memcpy(msg + sizeof(h), payload, payload_len);
	if (send(c->fd, msg, sizeof(h) + payload_len, MSG_NOSIGNAL) < 0)
		return -errno;
	for (;;) {
		int rc = poll(&pfd, 1, timeout_ms);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0)
			return -errno;
		if (rc == 0)
			return -ETIMEDOUT;
		break;
	}
	n = recv(c->fd, msg, sizeof(msg), 0);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -ECONNRESET;
	if ((size_t)n < sizeof(h) + sizeof(*result))
		return -EPROTO;
	memcpy(&h, msg, sizeof(h));
	if (h.magic != SLUICE_CMD_MAGIC || h.type != (type | SLUICE_CMD_REPLY) || h.request_id != c->next_request_id ||
	    h.length != (uint32_t)n - sizeof(h))
		return -EPROTO;
	c->server_version = h.version;
	memcpy(result, msg + sizeof(h), sizeof(*result));
	result->message[sizeof(result->message) - 1] = 0;
	if (reply && reply_len) {
		uint32_t have = h.length - (uint32_t)sizeof(*result);
		memset(reply, 0, reply_len);
		memcpy(reply, msg + sizeof(h) + sizeof(*result), have < reply_len ? have : reply_len);
	}
	return 0;
}
