/* SPDX-License-Identifier: BSD-3-Clause
 *
 * state.h: what sluice-control must remember across its own restarts and re-apply to a
 * restarted data plane or a reloaded steering program: the admission override and drain,
 * services and blocked prefixes added through the API, URL-signing and ticket keys.
 *
 * Kept in <control.state_dir>/state.json (mode 0600: it holds secrets), written atomically
 * (temporary file, fsync, rename, fsync of the directory) after every change, before the
 * API answers, so an acknowledged change survives a crash. Everything else the daemon shows
 * (load, history, reports) is recomputed after a restart.
 *
 * A state file that cannot be parsed is moved aside (state.json.bad-<time>) and the daemon
 * starts empty, saying so in health: refusing to start would leave the edge without its
 * control plane, which is worse than forgetting an override.
 */
#ifndef SLUICE_CONTROL_STATE_H
#define SLUICE_CONTROL_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "admission.h"
#include "keys.h"
#include "steer.h"

#define STATE_SERVICES_MAX 256
#define STATE_BLOCKS_MAX 4096
#define STATE_ERROR_MAX 512

struct state_service {
	struct steer_service service;
};

struct control_state {
	bool override_active;
	enum admission_state override_state;
	int64_t override_expires_s;            /* 0 = until removed */
	char override_reason[ADMISSION_REASON_MAX];
	bool drain_active;
	int64_t drain_since_s;
	char drain_reason[ADMISSION_REASON_MAX];

	uint32_t service_count;
	struct steer_service services[STATE_SERVICES_MAX];
	uint32_t block_count;
	struct steer_prefix blocks[STATE_BLOCKS_MAX];

	struct keys_set keys;
};

/* Reads <dir>/state.json into st (zeroed first). A missing file is an empty state (0).
 * Malformed: -EINVAL with the reason in err (the caller moves it aside with state_quarantine). */
int state_load(const char *dir, struct control_state *st, char *err, size_t err_len);
int state_save(const char *dir, const struct control_state *st, char *err, size_t err_len);
/* Renames a bad state file aside; the new name in moved_to. */
int state_quarantine(const char *dir, char *moved_to, size_t moved_len);

/* Creates dir (and parents) with mode 0700 if missing. */
int state_make_dir(const char *dir);

/* Lookups and edits of the service and block lists (by address+port / by prefix). */
int state_service_find(const struct control_state *st, const struct steer_service *service);
int state_block_find(const struct control_state *st, const struct steer_prefix *prefix);

#endif /* SLUICE_CONTROL_STATE_H */
