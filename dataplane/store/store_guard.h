/* SPDX-License-Identifier: BSD-3-Clause
 *
 * store_guard.h: reading a mapped store file without dying of SIGBUS.
 *
 * A file truncated while it is mapped turns every access beyond its new end into SIGBUS,
 * whose default action kills the process — every connection of every lcore. The sweep
 * (store_resident.h) notices a shrunk file within scan_interval_ms and marks it broken, and
 * the lcores stop serving it; this guard covers the window before that: each copy from a
 * mapping runs under a per-thread sigsetjmp, and the process-wide SIGBUS handler jumps back
 * to it when the fault happened inside a guarded copy. The copy then fails (-EFAULT), the
 * caller marks the file broken and resets only the connection that was being served.
 *
 * Code that reads a mapping by itself rather than through a copy (the TLS record layer, whose
 * AES-GCM engine encrypts straight from the mapped file into the packet buffers) runs under
 * the guard as a whole with store_guard_call: one sigsetjmp per call, i.e. per produce call
 * (a segment or a TSO burst), not per record or per piece. What the function was doing when
 * the fault hit is abandoned mid-way (no unwinding): it must keep nothing that outlives the
 * call half-updated (locks, allocations, state published before it returns), and its caller
 * treats every output of a faulted call as garbage. The function's stack and the guard's own
 * frame are simply dropped; nothing in the guard's frame lives across the jump but the return
 * value. Guards nest: an inner guarded copy or call restores the outer one's target on return.
 *
 * Cost: sigsetjmp(env, 0) saves registers only (no signal mask, hence no system call; with
 * the mask it would be a sigprocmask call, about 180 ns): 5-15 ns measured on the lab VM
 * (perf/store_bench), once per copy, i.e. per 1448-byte segment (whose copy takes 150-400 ns)
 * or per TSO burst of up to 64 KB (13 us); guarded and plain copies measure the same within
 * the noise of that VM. The handler is installed with
 * SA_NODEFER so that leaving it by siglongjmp without restoring a mask leaves SIGBUS
 * unblocked. A SIGBUS outside a guarded copy (a bug elsewhere) restores the default action and
 * returns, so the fault repeats and kills the process as it would have without us.
 *
 * Hot path: store_guard_copy, store_guard_call (no allocation, no system call). Control path:
 * store_guard_install, once per process, after anything else (the EAL) installed handlers.
 */
#ifndef SLUICE_STORE_GUARD_H
#define SLUICE_STORE_GUARD_H

#include <stddef.h>
#include <stdint.h>

/* Installs the SIGBUS handler. Returns 0 or -errno. */
int store_guard_install(void);

/* Copies len bytes from a store mapping; 0, or -EFAULT when the source faulted (SIGBUS). */
int store_guard_copy(void *dst, const void *src, size_t len);

/* Runs fn(arg) under the guard: fn's return value, or -EFAULT when a SIGBUS interrupted it
 * (fn must not return -EFAULT for anything else). */
int store_guard_call(int (*fn)(void *arg), void *arg);

/* SIGBUS faults caught in this process so far (any thread). */
uint64_t store_guard_faults(void);

#endif /* SLUICE_STORE_GUARD_H */
