/* SPDX-License-Identifier: BSD-3-Clause
 *
 * steer_link.h: sluice-control's link to the XDP steering program: its pinned maps, opened
 * through control/steer.h, watched for the program being (re)loaded or gone.
 *
 * The maps are pinned by whoever loads the program (the data plane's af_xdp PMD, or
 * sluice-steer load). steer_link_refresh() opens them when they appear, notices a re-pin (a
 * new program load makes new maps: another inode under the pin path) and reopens, and lets
 * go when the pins vanish. A fresh open is reported as STEER_LINK_OPENED so the caller
 * re-applies its policy (services, blocklist, admission) to maps that may be empty.
 *
 * Pins outlive programs, so "maps are open" is not "traffic is steered": steer_link_info also
 * says whether an XDP program named steer_xdp is attached to the data plane's interface.
 * When nothing is pinned the control plane carries on without steering and says so in
 * health; that is a supported way to run (the PMD's default program, or a tap port).
 */
#ifndef SLUICE_CONTROL_STEER_LINK_H
#define SLUICE_CONTROL_STEER_LINK_H

#include <stdbool.h>
#include <stdint.h>

#include "steer.h"

enum steer_link_event {
	STEER_LINK_OPENED = 1,
	STEER_LINK_LOST = 2,
};

struct steer_link_info {
	bool maps_open;
	bool attached;                 /* steer_xdp attached to the interface */
	uint32_t prog_id;              /* the attached XDP program, 0 none */
	char prog_name[16];
	char pin_dir[256];
	char iface[64];
	char error[STEER_ERROR_MAX];   /* why the maps are not open */
};

struct steer_link;

/* iface may be "" (no interface to check for an attached program). */
int steer_link_create(const char *pin_dir, const char *iface, struct steer_link **out);
void steer_link_destroy(struct steer_link *link);

/* Opens, reopens or drops the maps; returns enum steer_link_event bits. */
int steer_link_refresh(struct steer_link *link);

/* The open maps, or NULL. Valid until the next steer_link_refresh (callers serialise them). */
struct steer_maps *steer_link_maps(struct steer_link *link);

void steer_link_info(struct steer_link *link, struct steer_link_info *out);

#endif /* SLUICE_CONTROL_STEER_LINK_H */
