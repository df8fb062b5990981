/* SPDX-License-Identifier: BSD-3-Clause
 *
 * steer_link.c: opening and watching the steering program's pins (steer_link.h).
 */
#include "steer_link.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

struct steer_link {
	struct steer_maps *maps;
	dev_t dev;
	ino_t ino;                     /* of the sluice_admit pin when opened */
	struct steer_link_info info;
};

int steer_link_create(const char *pin_dir, const char *iface, struct steer_link **out)
{
	struct steer_link *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (!s)
		return -ENOMEM;
	snprintf(s->info.pin_dir, sizeof(s->info.pin_dir), "%s", pin_dir);
	snprintf(s->info.iface, sizeof(s->info.iface), "%s", iface ? iface : "");
	snprintf(s->info.error, sizeof(s->info.error), "not checked yet");
	*out = s;
	return 0;
}

void steer_link_destroy(struct steer_link *s)
{
	if (!s)
		return;
	steer_close(s->maps);
	free(s);
}

static void steer_link_check_attached(struct steer_link *s)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info), id = 0;
	unsigned ifindex = s->info.iface[0] ? if_nametoindex(s->info.iface) : 0;
	int fd;

	s->info.attached = false;
	s->info.prog_id = 0;
	s->info.prog_name[0] = 0;
	if (!ifindex || bpf_xdp_query_id((int)ifindex, 0, &id) || !id)
		return;
	s->info.prog_id = id;
	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return;
	memset(&info, 0, sizeof(info));
	if (!bpf_obj_get_info_by_fd(fd, &info, &len)) {
		snprintf(s->info.prog_name, sizeof(s->info.prog_name), "%s", info.name);
		s->info.attached = !strcmp(info.name, "steer_xdp");
	}
	close(fd);
}

int steer_link_refresh(struct steer_link *s)
{
	char path[PATH_MAX];
	struct stat st;
	int events = 0, rc;

	snprintf(path, sizeof(path), "%s/%s", s->info.pin_dir, STEER_MAP_ADMIT);
	if (stat(path, &st)) {
		if (s->maps) {
			steer_close(s->maps);
			s->maps = NULL;
			events |= STEER_LINK_LOST;
			log_warn("steering maps are gone from %s: carrying on without steering", s->info.pin_dir);
		}
		snprintf(s->info.error, sizeof(s->info.error), "%.300s: not pinned (is the steering program loaded?)", path);
		goto out;
	}
	if (s->maps && (st.st_dev != s->dev || st.st_ino != s->ino)) {
		steer_close(s->maps); /* re-pinned: a new program load made new maps */
		s->maps = NULL;
		events |= STEER_LINK_LOST;
	}
	if (!s->maps) {
		rc = steer_open(s->info.pin_dir, &s->maps, s->info.error, sizeof(s->info.error));
		if (rc) {
			s->maps = NULL;
			goto out;
		}
		s->dev = st.st_dev;
		s->ino = st.st_ino;
		s->info.error[0] = 0;
		events |= STEER_LINK_OPENED;
		log_info("steering maps opened in %s", s->info.pin_dir);
	}
out:
	s->info.maps_open = s->maps != NULL;
	steer_link_check_attached(s);
	return events;
}

struct steer_maps *steer_link_maps(struct steer_link *s)
{
	return s->maps;
}

void steer_link_info(struct steer_link *s, struct steer_link_info *out)
{
	*out = s->info;
}
