/* SPDX-License-Identifier: BSD-3-Clause
 *
 * waker.c: see waker.h.
 */
#include "waker.h"

#include <errno.h>
#include <time.h>

void waker_init(struct waker *w)
{
	pthread_condattr_t attr;

	pthread_mutex_init(&w->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&w->wake, &attr);
	pthread_condattr_destroy(&attr);
	w->started = w->quit = w->triggered = false;
}

int waker_start(struct waker *w, void *(*fn)(void *), void *arg)
{
	int rc = pthread_create(&w->thread, NULL, fn, arg);

	if (rc)
		return -rc;
	w->started = true;
	return 0;
}

void waker_wait(struct waker *w, uint32_t ms)
{
	struct timespec deadline;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += ms / 1000;
	deadline.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	while (!w->quit && !w->triggered)
		if (pthread_cond_timedwait(&w->wake, &w->lock, &deadline) == ETIMEDOUT)
			break;
}

void waker_trigger_locked(struct waker *w)
{
	w->triggered = true;
	pthread_cond_broadcast(&w->wake);
}

void waker_fini(struct waker *w)
{
	if (w->started) {
		pthread_mutex_lock(&w->lock);
		w->quit = true;
		pthread_cond_broadcast(&w->wake);
		pthread_mutex_unlock(&w->lock);
		pthread_join(w->thread, NULL);
		w->started = false;
	}
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->lock);
}
