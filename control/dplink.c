/* SPDX-License-Identifier: BSD-3-Clause
 *
 * dplink.c: the data plane's stats segment and command socket, watched and used (dplink.h).
 */
#include "dplink.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cmd_client.h"
#include "log.h"

struct dplink {
	char stats_path[256];
	char socket_path[256];
	uint64_t heartbeat_timeout_ns;

	pthread_mutex_t reader_lock;   /* reader, info */
	struct stats_reader reader;
	bool reader_open;
	dev_t dev;
	ino_t ino;
	struct dplink_info info;
	int32_t known_pid;             /* incarnation identity */
	uint64_t known_start_ns;

	pthread_mutex_t cmd_lock;      /* client, client_incarnation */
	struct cmd_client client;
	uint64_t client_incarnation;   /* incarnation the connection was made to */
};

static int64_t dplink_wall_s(void)
{
	return (int64_t)time(NULL);
}

int dplink_create(const char *stats_path, const char *command_socket, uint64_t heartbeat_timeout_ns,
		  struct dplink **out)
{
	struct dplink *l = calloc(1, sizeof(*l));

	*out = NULL;
	if (!l)
		return -ENOMEM;
	if (strlen(stats_path) >= sizeof(l->stats_path) || strlen(command_socket) >= sizeof(l->socket_path)) {
		free(l);
		return -ENAMETOOLONG;
	}
	strcpy(l->stats_path, stats_path);
	strcpy(l->socket_path, command_socket);
	l->heartbeat_timeout_ns = heartbeat_timeout_ns;
	l->reader.fd = -1;
	l->client.fd = -1;
	pthread_mutex_init(&l->reader_lock, NULL);
	pthread_mutex_init(&l->cmd_lock, NULL);
	l->info.since_s = dplink_wall_s();
	snprintf(l->info.reason, sizeof(l->info.reason), "not seen yet");
	*out = l;
	return 0;
}

void dplink_destroy(struct dplink *l)
{
	if (!l)
		return;
	if (l->reader_open)
		stats_reader_close(&l->reader);
	cmd_client_close(&l->client);
	pthread_mutex_destroy(&l->reader_lock);
	pthread_mutex_destroy(&l->cmd_lock);
	free(l);
}

static bool dplink_pid_alive(int32_t pid)
{
	return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

/* Sets the state; returns the event bits the change means. Called with reader_lock held. */
static int dplink_set_state(struct dplink *l, enum dplink_state state, const char *reason)
{
	enum dplink_state old = l->info.state;

	snprintf(l->info.reason, sizeof(l->info.reason), "%s", reason ? reason : "");
	if (state == old)
		return 0;
	l->info.state = state;
	l->info.since_s = dplink_wall_s();
	if (state == DPLINK_DOWN) {
		log_warn("data plane down (pid %d): %s", l->info.pid, l->info.reason);
		return DPLINK_EVENT_DOWN;
	}
	if (state == DPLINK_UP) {
		log_info("data plane up: pid %d, %u lcores, %s", l->info.pid, l->info.lcore_count, l->info.version);
		return DPLINK_EVENT_UP;
	}
	return 0;
}

int dplink_poll(struct dplink *l, struct stats_snapshot *snap, bool *have_snap)
{
	struct stats_snapshot local;
	struct stat st;
	int events = 0, rc;

	if (have_snap)
		*have_snap = false;
	pthread_mutex_lock(&l->reader_lock);
	if (stat(l->stats_path, &st)) {
		if (l->reader_open) {
			stats_reader_close(&l->reader);
			l->reader_open = false;
		}
		l->info.segment_present = false;
		if (l->info.state == DPLINK_UP)
			events |= dplink_set_state(l, DPLINK_DOWN, "the stats segment is gone");
		else
			snprintf(l->info.reason, sizeof(l->info.reason), "no stats segment at %.120s", l->stats_path);
		goto out;
	}
	if (l->reader_open && (st.st_dev != l->dev || st.st_ino != l->ino)) {
		stats_reader_close(&l->reader); /* replaced: a new data plane wrote a new segment */
		l->reader_open = false;
	}
	if (!l->reader_open) {
		rc = stats_reader_open(&l->reader, l->stats_path);
		if (rc) {
			l->info.segment_present = false;
			if (l->info.state == DPLINK_UP)
				events |= dplink_set_state(l, DPLINK_DOWN, "the stats segment is unreadable");
			snprintf(l->info.reason, sizeof(l->info.reason), "%.100s: %.50s", l->stats_path,
				 rc == -EPROTO ? "not a stats segment of this version" : strerror(-rc));
			goto out;
		}
		l->reader_open = true;
		l->dev = st.st_dev;
		l->ino = st.st_ino;
	}
	l->info.segment_present = true;
	rc = stats_reader_snapshot(&l->reader, &local);
	if (rc)
		goto out;
	l->info.heartbeat_age_ns = local.heartbeat_age_ns;
	{
		bool same = local.pid == l->known_pid && local.start_time_ns == l->known_start_ns;
		bool alive = dplink_pid_alive(local.pid);
		bool fresh = local.heartbeat_age_ns < l->heartbeat_timeout_ns;

		if (!same && alive && fresh) {
			/* A new incarnation. */
			l->known_pid = local.pid;
			l->known_start_ns = local.start_time_ns;
			l->info.incarnation++;
			l->info.pid = local.pid;
			l->info.start_time_ns = local.start_time_ns;
			l->info.lcore_count = local.lcore_count;
			snprintf(l->info.version, sizeof(l->info.version), "%.31s", l->reader.header->version_string);
			if (l->info.incarnation > 1) {
				l->info.restarts++;
				events |= DPLINK_EVENT_RESTART;
				log_info("data plane restarted: pid %d (restart %u)", local.pid, l->info.restarts);
			}
			if (l->info.state == DPLINK_UP)
				events |= DPLINK_EVENT_UP; /* up -> up across a quick restart */
			events |= dplink_set_state(l, DPLINK_UP, "");
		} else if (same && alive && fresh) {
			events |= dplink_set_state(l, DPLINK_UP, "");
		} else if (l->info.state != DPLINK_DOWN) {
			char why[DPLINK_ERROR_MAX];

			if (!alive)
				snprintf(why, sizeof(why), "process %d is gone", local.pid);
			else
				snprintf(why, sizeof(why), "heartbeat %llu ms old",
					 (unsigned long long)(local.heartbeat_age_ns / 1000000));
			events |= dplink_set_state(l, DPLINK_DOWN, why);
		}
	}
	if (snap && have_snap) {
		*snap = local;
		*have_snap = true;
	} else {
		stats_snapshot_free(&local);
	}
out:
	pthread_mutex_unlock(&l->reader_lock);
	return events;
}

void dplink_info(struct dplink *l, struct dplink_info *out)
{
	pthread_mutex_lock(&l->reader_lock);
	*out = l->info;
	pthread_mutex_unlock(&l->reader_lock);
}

int dplink_snapshot(struct dplink *l, struct stats_snapshot *snap)
{
	int rc = -ENOENT;

	pthread_mutex_lock(&l->reader_lock);
	if (l->reader_open)
		rc = stats_reader_snapshot(&l->reader, snap);
	pthread_mutex_unlock(&l->reader_lock);
	return rc;
}

int dplink_call(struct dplink *l, uint16_t type, const void *payload, uint32_t payload_len,
		struct sluice_cmd_result *result, void *reply, uint32_t reply_len, int timeout_ms)
{
	uint64_t incarnation;
	int rc = -ENOTCONN;

	pthread_mutex_lock(&l->reader_lock);
	incarnation = l->info.incarnation;
	pthread_mutex_unlock(&l->reader_lock);

	pthread_mutex_lock(&l->cmd_lock);
	if (l->client.fd >= 0 && l->client_incarnation != incarnation)
		cmd_client_close(&l->client); /* made to an older data plane */
	for (int attempt = 0; attempt < 2; attempt++) {
		if (l->client.fd < 0) {
			rc = cmd_client_connect(&l->client, l->socket_path);
			if (rc)
				break;
			l->client_incarnation = incarnation;
		}
		rc = cmd_client_call(&l->client, type, payload, payload_len, result, reply, reply_len, timeout_ms);
		if (!rc)
			break;
		cmd_client_close(&l->client);
		if (rc != -ECONNRESET && rc != -EPIPE && rc != -ENOTCONN)
			break; /* timeouts and protocol errors are not retried */
	}
	pthread_mutex_unlock(&l->cmd_lock);
	return rc;
}
