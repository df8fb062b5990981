// SPDX-License-Identifier: BSD-3-Clause OR GPL-2.0-only
/*
 * lossy.bpf.c: packet loss for the lab, because this kernel has no netem. A tc (clsact)
 * classifier that drops each packet with a probability, optionally with bursts from a
 * two-state Gilbert-Elliott chain: in the good state packets are lost with probability
 * `loss` and the chain enters the bad state with `burst_enter`; in the bad state they are
 * lost with `burst_loss` and it leaves with `burst_exit` (mean burst length 1/burst_exit
 * packets). Every verdict is counted (packets and bytes passed and dropped).
 *
 * Why tc and not XDP: the lab shapes where a real bottleneck drops, on the egress of the
 * bridge port towards the client, beside the TBF qdisc (scripts/lab shape). Only a tc
 * program sits on an egress path; XDP sees received frames only. The same object attaches
 * on ingress too (e.g. the client's veth in the plain lab, where the data plane's AF_XDP TX
 * bypasses the edge veth's egress hooks). An XDP program on a veth would also switch that
 * veth to NAPI/XDP mode and change the path other tests measure. Cost of tc: the packet
 * already is an skb; irrelevant at lab rates.
 *
 * Parameters are `const volatile` (set by the loader before load; a new setting is a new
 * program, attached with replace, so its counters start at zero). Random numbers come from
 * bpf_get_prandom_u32, or, with a seed, from a per-CPU xorshift64* so a run's loss pattern
 * can be repeated. The chain state and counters are per CPU: no atomics, no sharing; with
 * bursts each CPU runs its own chain (the lab's traffic is forwarded on one CPU per flow).
 * A GSO packet counts (and is dropped) as one: the lab turns GSO off on the shaped port.
 */
#include <stdbool.h>

#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include <bpf/bpf_helpers.h>

#include "lossy.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Thresholds (probability * 2^32) and the seed; set by the loader before load. */
const volatile __u64 loss_threshold = 0;
const volatile __u64 burst_enter_threshold = 0;
const volatile __u64 burst_exit_threshold = 0;
const volatile __u64 burst_loss_threshold = 0;
const volatile __u64 seed = 0;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lossy_stats);
} lossy_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lossy_state);
} lossy_state SEC(".maps");

static __always_inline __u64 lossy_random(struct lossy_state *st)
{
	__u64 x;

	if (!seed)
		return bpf_get_prandom_u32();
	x = st->rng;
	if (!x)
		x = (seed ^ 0x9e3779b97f4a7c15ULL) * (bpf_get_smp_processor_id() + 1) | 1;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	st->rng = x;
	return (x * 0x2545f4914f6cdd1dULL) >> 32;
}

SEC("tc")
int lossy(struct __sk_buff *skb)
{
	__u32 key = 0;
	struct lossy_stats *stats = bpf_map_lookup_elem(&lossy_stats, &key);
	struct lossy_state *st = bpf_map_lookup_elem(&lossy_state, &key);
	bool drop;

	if (!stats || !st)
		return TC_ACT_OK;
	if (st->bad) {
		stats->bad_state_packets++;
		drop = lossy_random(st) < burst_loss_threshold;
		if (lossy_random(st) < burst_exit_threshold)
			st->bad = 0;
	} else {
		drop = lossy_random(st) < loss_threshold;
		if (burst_enter_threshold && lossy_random(st) < burst_enter_threshold) {
			st->bad = 1;
			stats->bad_state_entries++;
		}
	}
	if (drop) {
		stats->dropped_packets++;
		stats->dropped_bytes += skb->len;
		return TC_ACT_SHOT;
	}
	stats->passed_packets++;
	stats->passed_bytes += skb->len;
	return TC_ACT_OK;
}
