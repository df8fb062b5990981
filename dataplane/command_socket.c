/* SPDX-License-Identifier: BSD-3-Clause
 *
 * command_socket.c: UNIX SOCK_SEQPACKET command server (see command_socket.h).
 */
#include "command_socket.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"

int command_socket_open(struct command_socket *cs, const char *path)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	char dir[256], *slash;

	memset(cs, 0, sizeof(*cs));
	for (int i = 0; i < COMMAND_CLIENTS_MAX; i++)
		cs->clients[i] = -1;
	cs->listen_fd = -1;
	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	snprintf(cs->path, sizeof(cs->path), "%s", path);
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		mkdir(dir, 0755); /* the parent of /run/sluice/... may not exist yet */
	}
	strcpy(addr.sun_path, path);
	cs->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (cs->listen_fd < 0)
		return -errno;
	unlink(path); /* a socket file left by a previous run */
	if (bind(cs->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) || chmod(path, 0600) ||
	    listen(cs->listen_fd, COMMAND_CLIENTS_MAX)) {
		int rc = -errno;
		close(cs->listen_fd);
		cs->listen_fd = -1;
		return rc;
	}
	return 0;
}

void command_socket_close(struct command_socket *cs)
{
	for (int i = 0; i < COMMAND_CLIENTS_MAX; i++)
		if (cs->clients[i] >= 0)
			close(cs->clients[i]);
	if (cs->listen_fd >= 0) {
		close(cs->listen_fd);
		unlink(cs->path);
	}
	cs->listen_fd = -1;
}

static void command_socket_answer(struct command_socket *cs, int fd, command_handler handler, void *ctx)
{
	uint8_t in[SLUICE_CMD_MESSAGE_MAX], out[SLUICE_CMD_MESSAGE_MAX];
	struct sluice_cmd_header h, *rh = (struct sluice_cmd_header *)out;
	struct sluice_cmd_result *result = (struct sluice_cmd_result *)(out + sizeof(*rh));
	uint8_t *reply = out + sizeof(*rh) + sizeof(*result);
	uint32_t reply_len = 0;
	ssize_t n = recv(fd, in, sizeof(in), MSG_DONTWAIT);

	if (n <= 0)
		return;
	memset(out, 0, sizeof(*rh) + sizeof(*result));
	memcpy(&h, in, (size_t)n < sizeof(h) ? (size_t)n : sizeof(h));
	rh->magic = SLUICE_CMD_MAGIC;
	rh->version = SLUICE_CMD_VERSION;
	rh->type = (uint16_t)(h.type | SLUICE_CMD_REPLY);
	rh->request_id = h.request_id;
	cs->requests++;
	if ((size_t)n < sizeof(h) || h.magic != SLUICE_CMD_MAGIC || h.length != (uint32_t)n - sizeof(h)) {
		cs->rejected++;
		result->status = -EBADMSG;
		snprintf(result->message, sizeof(result->message), "malformed message (%zd bytes)", n);
	} else if (h.version != SLUICE_CMD_VERSION && h.type != SLUICE_CMD_HELLO) {
		cs->rejected++;
		result->status = -EPROTO;
		snprintf(result->message, sizeof(result->message), "protocol version %u; this data plane speaks %u",
			 h.version, SLUICE_CMD_VERSION);
	} else {
		reply_len = handler(ctx, h.type, in + sizeof(h), h.length, result, reply,
				    (uint32_t)(sizeof(out) - sizeof(*rh) - sizeof(*result)));
	}
	rh->length = (uint32_t)sizeof(*result) + reply_len;
	if (send(fd, out, sizeof(*rh) + rh->length, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		log_warn("command socket: reply not sent: %s", strerror(errno));
}

void command_socket_poll(struct command_socket *cs, int timeout_ms, command_handler handler, void *ctx)
{
	struct pollfd pfd[COMMAND_CLIENTS_MAX + 1];
	int n = 0;

	if (cs->listen_fd < 0)
		return;
	pfd[n++] = (struct pollfd){.fd = cs->listen_fd, .events = POLLIN};
	for (int i = 0; i < COMMAND_CLIENTS_MAX; i++)
		if (cs->clients[i] >= 0)
			pfd[n++] = (struct pollfd){.fd = cs->clients[i], .events = POLLIN};
	if (poll(pfd, (nfds_t)n, timeout_ms) <= 0)
		return;
	for (int i = 1; i < n; i++) {
		if (pfd[i].revents & POLLIN)
			command_socket_answer(cs, pfd[i].fd, handler, ctx);
		if (pfd[i].revents & (POLLHUP | POLLERR)) {
			for (int j = 0; j < COMMAND_CLIENTS_MAX; j++)
				if (cs->clients[j] == pfd[i].fd)
					cs->clients[j] = -1;
			close(pfd[i].fd);
		}
	}
	if (pfd[0].revents & POLLIN) {
		int fd = accept4(cs->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		int slot = -1;

		if (fd < 0)
			return;
		for (int j = 0; j < COMMAND_CLIENTS_MAX && slot < 0; j++)
			if (cs->clients[j] < 0)
				slot = j;
		if (slot < 0) {
			log_warn("command socket: %d clients already, refusing another", COMMAND_CLIENTS_MAX);
			close(fd);
			return;
		}
		cs->clients[slot] = fd;
	}
}
