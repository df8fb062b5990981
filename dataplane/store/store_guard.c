/* SPDX-License-Identifier: BSD-3-Clause
 *
 * store_guard.c: the SIGBUS guard around copies from, and code reading, store mappings (see
 * store_guard.h).
 */
#include "store_guard.h"

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>

/* The jump target of the innermost guarded copy or call in progress on this thread, NULL
 * outside one. */
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

/* Kept out of line and simple: nothing in this frame lives across the longjmp but the return
 * value and `outer`, which is not modified after sigsetjmp. */
__attribute__((noinline)) int store_guard_call(int (*fn)(void *arg), void *arg)
{
	sigjmp_buf *outer = store_guard_target;
	sigjmp_buf env;
	int rc;

	if (sigsetjmp(env, 0)) {
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		store_guard_target = outer;
		return -EFAULT;
	}
	store_guard_target = &env;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	rc = fn(arg);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	store_guard_target = outer;
	return rc;
}

struct store_guard_copy_args {
	void *dst;
	const void *src;
	size_t len;
};

static int store_guard_memcpy(void *arg)
{
	const struct store_guard_copy_args *copy = arg;

	memcpy(copy->dst, copy->src, copy->len);
	return 0;
}

/* A guarded call of memcpy: one indirect call (about a nanosecond) more than inlining it. */
int store_guard_copy(void *dst, const void *src, size_t len)
{
	struct store_guard_copy_args copy = {dst, src, len};

	return store_guard_call(store_guard_memcpy, &copy);
}

uint64_t store_guard_faults(void)
{
	return __atomic_load_n(&store_guard_fault_count, __ATOMIC_RELAXED);
}
