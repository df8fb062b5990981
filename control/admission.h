/* SPDX-License-Identifier: BSD-3-Clause
 *
 * admission.h: the admission controller: whether this edge takes new connections.
 *
 * Four things decide the admission state that sluice-control writes to the steering maps
 * (every service of this edge) and to the data plane (ADMISSION_SET), in this order:
 *
 *   1. an operator override (open, draining or closed), until it expires or is removed;
 *   2. a drain the operator started (draining, until the drain is cancelled);
 *   3. the data plane being down (closed: refused at line rate by the steering program
 *      instead of reaching a queue without a socket);
 *   4. the controller, from measured load.
 *
 * The controller turns load into open or closed with hysteresis. Utilisation is the highest
 * of its input ratios (throughput / capacity, connections / maximum, lcore busy ratio / busy
 * limit, connections parked on page-ins (store_parked) / maximum; an input that is not configured is left out). It closes
 * when utilisation reaches close_utilisation and reopens when it falls to reopen_utilisation,
 * which is lower, and it never changes state sooner than min_dwell after the last change, so
 * load hovering around one threshold cannot make it flap. Inputs are averaged over a window
 * by the caller (load.h) before they arrive here.
 *
 * State -> transition:
 *   open   --(utilisation >= close  and dwell elapsed)--> closed
 *   closed --(utilisation <= reopen and dwell elapsed)--> open
 *
 * Invariants: reopen_utilisation < close_utilisation (the config refuses anything else);
 * the controller's own state is only ever open or closed (draining is an operator's); the
 * transition history keeps the last ADMISSION_HISTORY_MAX changes of the effective state.
 *
 * Pure logic, no I/O and no clock of its own: callers pass the time (monotonic ns for dwell,
 * wall-clock seconds for override expiry, which must survive a restart), so the unit tests
 * drive it with tables of (time, load) rows.
 */
#ifndef SLUICE_CONTROL_ADMISSION_H
#define SLUICE_CONTROL_ADMISSION_H

#include <stdbool.h>
#include <stdint.h>

#define ADMISSION_HISTORY_MAX 32
#define ADMISSION_REASON_MAX 201

/* Same numbers as enum sluice_admission (sluice_cmd.h) and enum steer_admission. */
enum admission_state {
	ADMISSION_OPEN = 0,
	ADMISSION_DRAINING = 1,
	ADMISSION_CLOSED = 2,
	ADMISSION_STATE_COUNT
};

enum admission_source {
	ADMISSION_SOURCE_CONTROLLER = 0,
	ADMISSION_SOURCE_OVERRIDE,
	ADMISSION_SOURCE_DRAIN,
	ADMISSION_SOURCE_DATAPLANE_DOWN,
};

enum admission_input {
	ADMISSION_INPUT_THROUGHPUT = 0,
	ADMISSION_INPUT_CONNECTIONS,
	ADMISSION_INPUT_LCORE_BUSY,
	ADMISSION_INPUT_PAGEIN_BACKLOG,
	ADMISSION_INPUT_COUNT
};

struct admission_policy {
	double close_utilisation;
	double reopen_utilisation;
	uint64_t min_dwell_ns;
};

struct admission_transition {
	int64_t time_s;            /* wall clock */
	enum admission_state from, to;
	enum admission_source source;
	double utilisation;
};

struct admission {
	struct admission_policy policy;

	/* Controller. */
	enum admission_state controller_state; /* open or closed */
	uint64_t controller_since_ns;          /* monotonic time of its last change */
	bool controller_started;
	double utilisation;
	double inputs[ADMISSION_INPUT_COUNT];  /* ratios; < 0: not an input */

	/* Override. */
	bool override_active;
	enum admission_state override_state;
	int64_t override_expires_s;            /* wall clock; 0 = until removed */
	char override_reason[ADMISSION_REASON_MAX];

	/* Drain. */
	bool drain_active;
	int64_t drain_since_s;
	char drain_reason[ADMISSION_REASON_MAX];

	bool dataplane_down;

	/* Effective state, as last computed by admission_effective(). */
	enum admission_state effective;
	enum admission_source effective_source;
	uint64_t transitions;                  /* changes of the effective state */
	struct admission_transition history[ADMISSION_HISTORY_MAX];
	uint32_t history_next;
};

void admission_init(struct admission *a, const struct admission_policy *policy);

/* Utilisation of a set of input ratios: the highest one that is >= 0, else 0. */
double admission_utilisation(const double inputs[ADMISSION_INPUT_COUNT]);

/* Feeds the controller the current inputs at monotonic time now_ns. Returns true when the
 * controller's state changed. */
bool admission_update(struct admission *a, const double inputs[ADMISSION_INPUT_COUNT], uint64_t now_ns);

/* Computes the effective state (dropping an override whose time has come at now_s) and
 * records a transition when it changed. Returns true when the effective state changed. */
bool admission_effective(struct admission *a, int64_t now_s);

/* Operator actions. expires_s 0 = no expiry. reason may be NULL. */
void admission_override_set(struct admission *a, enum admission_state state, int64_t expires_s, const char *reason);
void admission_override_clear(struct admission *a);
void admission_drain_start(struct admission *a, int64_t now_s, const char *reason);
void admission_drain_cancel(struct admission *a);

const char *admission_state_name(enum admission_state state);  /* "open", "draining", "closed" */
int admission_state_parse(const char *text, enum admission_state *state); /* 0 or -EINVAL */
const char *admission_source_name(enum admission_source source); /* "controller", "override", ... */
const char *admission_input_name(enum admission_input input); /* "throughput", ... */

#endif /* SLUICE_CONTROL_ADMISSION_H */
