/* SPDX-License-Identifier: BSD-3-Clause
 *
 * waker.h: a control-plane background thread that sleeps until its period ends, someone
 * triggers it, or it is told to quit (health reports, etcd registration).
 *
 * The mutex also guards the owner's own state; the condition variable runs on
 * CLOCK_MONOTONIC so that a wall-clock step neither wakes nor stalls it. Creating and starting
 * are separate steps: owners that read each other's state exist before either thread runs.
 */
#ifndef SLUICE_CONTROL_WAKER_H
#define SLUICE_CONTROL_WAKER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct waker {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	bool started;
	bool quit;
	bool triggered;
};

void waker_init(struct waker *w);
/* Starts fn(arg) on the thread. Returns 0 or -errno. */
int waker_start(struct waker *w, void *(*fn)(void *), void *arg);
/* Waits up to ms, or until triggered or quit; called with the lock held. */
void waker_wait(struct waker *w, uint32_t ms);
/* Sets triggered and wakes the thread; called with the lock held. */
void waker_trigger_locked(struct waker *w);
/* Tells the thread to quit and joins it (if it was started), then frees the primitives. */
void waker_fini(struct waker *w);

#endif /* SLUICE_CONTROL_WAKER_H */
