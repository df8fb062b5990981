/* SPDX-License-Identifier: BSD-3-Clause
 *
 * store_guard.c: the SIGBUS guard around copies from store mappings (see store_guard.h).
 */
#include "store_guard.h"

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>

/* The jump target of the copy in progress on this thread, NULL outside one. */
static __thread sigjmp_buf *volatile store_guard_target;
static uint64_t store_guard_fault_count;

static void store_guard_handler(int sig, siginfo_t *info, void *context)
{
	sigjmp_buf *target = store_guard_target;
	struct sigaction dfl;

	(void)info, (void)context;
	if (target) {
		store_guard_target = NULL;
		__atomic_fetch_add(&store_guard_fault_count, 1, __ATOMIC_RELAXED);
		siglongjmp(*target, 1);
	}
	/* Not ours: let the fault repeat with the default action. */
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigaction(sig, &dfl, NULL);
}

int store_guard_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = store_guard_handler;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, NULL))
		return -errno;
	return 0;
}

/* Kept out of line and simple: nothing in this frame lives across the longjmp but the
 * return value. */
__attribute__((noinline)) int store_guard_copy(void *dst, const void *src, size_t len)
{
	sigjmp_buf env;

	if (sigsetjmp(env, 0)) {
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		return -EFAULT;
	}
	store_guard_target = &env;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	memcpy(dst, src, len);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	store_guard_target = NULL;
	return 0;
}

uint64_t store_guard_faults(void)
{
	return __atomic_load_n(&store_guard_fault_count, __ATOMIC_RELAXED);
}
