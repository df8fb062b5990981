/* SPDX-License-Identifier: BSD-3-Clause OR GPL-2.0-only
 *
 * lossy.h: what the lab's loss program (lossy.bpf.c) shares with its loader (tools/sluice_lossy.c)
 * and tests: the counters' layout and where on the tc hook the program sits.
 *
 * Probabilities cross as thresholds on a 32-bit random number: a packet is dropped when
 * random < threshold, so threshold = p * 2^32 (LOSSY_PROBABILITY_ONE is p = 1).
 */
#ifndef SLUICE_LOSSY_H
#define SLUICE_LOSSY_H

#include <linux/types.h>

#define LOSSY_PROBABILITY_ONE (1ULL << 32)

/* tc filter identity on the clsact hook: one lossy program per interface and direction. */
#define LOSSY_TC_HANDLE 0x5105
#define LOSSY_TC_PRIORITY 0x5105

/* Per-CPU counters (map lossy_stats, one entry); the loader sums the CPUs. */
struct lossy_stats {
	__u64 passed_packets;
	__u64 passed_bytes;
	__u64 dropped_packets;
	__u64 dropped_bytes;
	__u64 bad_state_packets;   /* packets seen while the Gilbert-Elliott chain was "bad" */
	__u64 bad_state_entries;   /* good → bad transitions (loss bursts begun) */
};
_Static_assert(sizeof(struct lossy_stats) == 48, "lossy_stats is shared with user space");

/* Per-CPU chain state (map lossy_state, one entry). */
struct lossy_state {
	__u64 rng;                 /* xorshift state when seeded; 0 until the first packet */
	__u32 bad;                 /* 1 while in the bad state */
	__u32 pad;
};
_Static_assert(sizeof(struct lossy_state) == 16, "lossy_state layout");

#endif /* SLUICE_LOSSY_H */
