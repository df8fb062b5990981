/* SPDX-License-Identifier: BSD-3-Clause
 *
 * admission.c: the admission controller's rules (see admission.h for the state table).
 */
#include "admission.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sluice_cmd.h"
#include "steer_maps.h"

_Static_assert((int)ADMISSION_OPEN == (int)SLUICE_ADMISSION_OPEN &&
		       (int)ADMISSION_DRAINING == (int)SLUICE_ADMISSION_DRAINING &&
		       (int)ADMISSION_CLOSED == (int)SLUICE_ADMISSION_CLOSED,
	       "admission states are the command protocol's numbers");
_Static_assert((int)ADMISSION_OPEN == (int)STEER_ADMIT_OPEN && (int)ADMISSION_DRAINING == (int)STEER_ADMIT_DRAINING &&
		       (int)ADMISSION_CLOSED == (int)STEER_ADMIT_CLOSED,
	       "admission states are the steering map's numbers");

static const char *const admission_state_names[] = {"open", "draining", "closed"};
static const char *const admission_source_names[] = {"controller", "override", "drain", "dataplane_down"};
static const char *const admission_input_names[] = {"throughput", "connections", "lcore_busy", "pagein_backlog"};

const char *admission_state_name(enum admission_state state)
{
	return (unsigned)state < ADMISSION_STATE_COUNT ? admission_state_names[state] : "?";
}

int admission_state_parse(const char *text, enum admission_state *state)
{
	for (unsigned i = 0; i < ADMISSION_STATE_COUNT; i++)
		if (text && !strcmp(text, admission_state_names[i])) {
			*state = (enum admission_state)i;
			return 0;
		}
	return -EINVAL;
}

const char *admission_source_name(enum admission_source source)
{
	return (unsigned)source < sizeof(admission_source_names) / sizeof(admission_source_names[0])
		       ? admission_source_names[source]
		       : "?";
}

const char *admission_input_name(enum admission_input input)
{
	return (unsigned)input < ADMISSION_INPUT_COUNT ? admission_input_names[input] : "?";
}

void admission_init(struct admission *a, const struct admission_policy *policy)
{
	memset(a, 0, sizeof(*a));
	a->policy = *policy;
	a->controller_state = ADMISSION_OPEN;
	a->effective = ADMISSION_OPEN;
	a->effective_source = ADMISSION_SOURCE_CONTROLLER;
	for (int i = 0; i < ADMISSION_INPUT_COUNT; i++)
		a->inputs[i] = -1;
}

double admission_utilisation(const double inputs[ADMISSION_INPUT_COUNT])
{
	double u = 0;

	for (int i = 0; i < ADMISSION_INPUT_COUNT; i++)
		if (inputs[i] > u)
			u = inputs[i];
	return u;
}

bool admission_update(struct admission *a, const double inputs[ADMISSION_INPUT_COUNT], uint64_t now_ns)
{
	bool dwelt;

	memcpy(a->inputs, inputs, sizeof(a->inputs));
	a->utilisation = admission_utilisation(inputs);
	if (!a->controller_started) {
		/* The first sample starts the dwell clock: a restart of the control plane does not
		 * get to skip the minimum dwell. */
		a->controller_started = true;
		a->controller_since_ns = now_ns;
	}
	dwelt = now_ns - a->controller_since_ns >= a->policy.min_dwell_ns;
	if (!dwelt)
		return false;
	if (a->controller_state == ADMISSION_OPEN && a->utilisation >= a->policy.close_utilisation) {
		a->controller_state = ADMISSION_CLOSED;
		a->controller_since_ns = now_ns;
		return true;
	}
	if (a->controller_state == ADMISSION_CLOSED && a->utilisation <= a->policy.reopen_utilisation) {
		a->controller_state = ADMISSION_OPEN;
		a->controller_since_ns = now_ns;
		return true;
	}
	return false;
}

bool admission_effective(struct admission *a, int64_t now_s)
{
	enum admission_state state;
	enum admission_source source;

	if (a->override_active && a->override_expires_s && now_s >= a->override_expires_s)
		admission_override_clear(a);
	if (a->override_active) {
		state = a->override_state;
		source = ADMISSION_SOURCE_OVERRIDE;
	} else if (a->drain_active) {
		state = ADMISSION_DRAINING;
		source = ADMISSION_SOURCE_DRAIN;
	} else if (a->dataplane_down) {
		state = ADMISSION_CLOSED;
		source = ADMISSION_SOURCE_DATAPLANE_DOWN;
	} else {
		state = a->controller_state;
		source = ADMISSION_SOURCE_CONTROLLER;
	}
	a->effective_source = source;
	if (state == a->effective)
		return false;
	a->history[a->history_next % ADMISSION_HISTORY_MAX] = (struct admission_transition){
		.time_s = now_s, .from = a->effective, .to = state, .source = source, .utilisation = a->utilisation};
	a->history_next++;
	a->transitions++;
	a->effective = state;
	return true;
}

void admission_override_set(struct admission *a, enum admission_state state, int64_t expires_s, const char *reason)
{
	a->override_active = true;
	a->override_state = state;
	a->override_expires_s = expires_s;
	snprintf(a->override_reason, sizeof(a->override_reason), "%s", reason ? reason : "");
}

void admission_override_clear(struct admission *a)
{
	a->override_active = false;
	a->override_expires_s = 0;
	a->override_reason[0] = 0;
}

void admission_drain_start(struct admission *a, int64_t now_s, const char *reason)
{
	if (!a->drain_active)
		a->drain_since_s = now_s;
	a->drain_active = true;
	snprintf(a->drain_reason, sizeof(a->drain_reason), "%s", reason ? reason : "");
}

void admission_drain_cancel(struct admission *a)
{
	a->drain_active = false;
	a->drain_since_s = 0;
	a->drain_reason[0] = 0;
}
