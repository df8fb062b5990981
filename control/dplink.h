/* SPDX-License-Identifier: BSD-3-Clause
 *
 * dplink.h: sluice-control's link to the data plane: its stats segment (liveness and
 * counters) and its command socket, through the data plane's own client libraries
 * (dataplane/api/stats_read.h, cmd_client.h).
 *
 * Liveness. The data plane refreshes a heartbeat in the segment about every 100 ms, and on
 * every start it writes a new segment (a new file renamed into place) with its pid and start
 * time. dplink_poll() notices a replaced file (another inode) and reopens it, and classifies:
 *
 *   up       the heartbeat is fresh (younger than heartbeat_timeout) and the pid exists;
 *   down     the heartbeat is stale, the pid is gone (kill -9 is seen at once, not after the
 *            timeout), or there is no segment any more;
 *   unknown  no data plane has been seen since this control plane started.
 *
 * An incarnation is a (pid, start time) pair. A new one that is up is reported as
 * DPLINK_EVENT_UP, plus DPLINK_EVENT_RESTART when an earlier one had been seen: the caller
 * then re-applies its state (admission, keys, catalog) once the command socket answers.
 *
 * Commands. dplink_call() serialises callers (one request at a time on one connection),
 * connects lazily, and reconnects once when the connection broke (the data plane restarted)
 * or belongs to an older incarnation. A timeout closes the connection, so a late reply can
 * never be taken for the answer to the next request.
 *
 * Threads: dplink_poll from one thread (the control loop); dplink_info, dplink_snapshot and
 * dplink_call from any. Two internal mutexes: the reader's (short: a snapshot) and the
 * command connection's (held for a whole call, up to its timeout); never both at once.
 */
#ifndef SLUICE_CONTROL_DPLINK_H
#define SLUICE_CONTROL_DPLINK_H

#include <stdbool.h>
#include <stdint.h>

#include "sluice_cmd.h"
#include "stats_read.h"

enum dplink_state { DPLINK_UNKNOWN = 0, DPLINK_UP, DPLINK_DOWN };

enum dplink_event {
	DPLINK_EVENT_UP = 1,
	DPLINK_EVENT_DOWN = 2,
	DPLINK_EVENT_RESTART = 4,
};

#define DPLINK_ERROR_MAX 160

struct dplink_info {
	enum dplink_state state;
	int32_t pid;
	uint64_t start_time_ns;        /* CLOCK_REALTIME of the incarnation's start */
	char version[32];
	uint32_t lcore_count;
	uint64_t heartbeat_age_ns;
	uint64_t incarnation;          /* 1, 2, ...: incarnations seen; 0 none */
	uint32_t restarts;             /* incarnations after the first */
	int64_t since_s;               /* wall clock of the last change of state */
	bool segment_present;
	char reason[DPLINK_ERROR_MAX]; /* why down (or not yet up) */
};

struct dplink;

int dplink_create(const char *stats_path, const char *command_socket, uint64_t heartbeat_timeout_ns,
		  struct dplink **out);
void dplink_destroy(struct dplink *link);

/* Refreshes liveness; returns enum dplink_event bits. When snap is given and a segment is
 * mapped, a snapshot is taken into it (*have_snap true; free with stats_snapshot_free). */
int dplink_poll(struct dplink *link, struct stats_snapshot *snap, bool *have_snap);

void dplink_info(struct dplink *link, struct dplink_info *out);

/* A fresh snapshot: 0, or -ENOENT when no segment is mapped. */
int dplink_snapshot(struct dplink *link, struct stats_snapshot *snap);

/* A command (see cmd_client_call). Returns 0 with the data plane's result in *result, or
 * -errno: -ENOTCONN/-ECONNREFUSED/-ENOENT when it does not listen, -ETIMEDOUT. */
int dplink_call(struct dplink *link, uint16_t type, const void *payload, uint32_t payload_len,
		struct sluice_cmd_result *result, void *reply, uint32_t reply_len, int timeout_ms);

#endif /* SLUICE_CONTROL_DPLINK_H */
