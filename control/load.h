/* SPDX-License-Identifier: BSD-3-Clause
 *
 * load.h: turning stats snapshots into rates: throughput (bits/s) and per-lcore busy ratio.
 *
 * The data plane publishes only monotonic counters (tx_bytes, busy_cycles, idle_cycles); a rate
 * needs two snapshots and the time between them. A load_sampler keeps a short history of
 * samples (the last window_ns, thinned so that at most LOAD_SAMPLES_MAX are kept) and gives
 * the rates between the oldest sample inside the window and the newest, which is what the
 * admission controller wants: load averaged over its window, not one noisy tick.
 *
 * A sample whose counters went backwards (the data plane restarted, or another incarnation's
 * segment) starts the history again; callers also reset it when they see a new incarnation.
 * The busy ratio of an lcore is busy / (busy + idle) cycles over the interval: lcores poll,
 * so "CPU used" means cycles spent on iterations that found work.
 */
#ifndef SLUICE_CONTROL_LOAD_H
#define SLUICE_CONTROL_LOAD_H

#include <stdbool.h>
#include <stdint.h>

#include "stats_read.h"

#define LOAD_SAMPLES_MAX 64

struct load_sample {
	uint64_t time_ns;          /* monotonic */
	uint64_t tx_bytes;
	uint64_t rx_bytes;
	uint32_t lcore_count;
	uint32_t lcore_ids[SLUICE_STATS_LCORES_MAX];
	uint64_t busy_cycles[SLUICE_STATS_LCORES_MAX];
	uint64_t idle_cycles[SLUICE_STATS_LCORES_MAX];
};

struct load_rates {
	bool valid;                /* false: fewer than two usable samples */
	double interval_s;
	double tx_bits_per_s;
	double rx_bits_per_s;
	uint32_t lcore_count;
	uint32_t lcore_ids[SLUICE_STATS_LCORES_MAX];
	double busy_ratio[SLUICE_STATS_LCORES_MAX]; /* < 0: no cycles counted in the interval */
	double busy_ratio_max;     /* highest over lcores, 0 if none */
};

struct load_sampler {
	uint64_t window_ns;
	struct load_sample samples[LOAD_SAMPLES_MAX];
	uint32_t first;            /* index of the oldest */
	uint32_t count;
};

/* A sample from a snapshot taken at time_ns (counters it does not have read as 0). */
void load_sample_from_snapshot(const struct stats_snapshot *snap, uint64_t time_ns, struct load_sample *out);

/* Rates from a to b (b later). Invalid if b is not later or a counter went backwards. */
void load_rates_between(const struct load_sample *a, const struct load_sample *b, struct load_rates *out);

void load_sampler_init(struct load_sampler *s, uint64_t window_ns);
void load_sampler_reset(struct load_sampler *s);
void load_sampler_add(struct load_sampler *s, const struct load_sample *sample);
/* Rates over the window (oldest sample not older than window_ns before the newest). */
void load_sampler_rates(const struct load_sampler *s, struct load_rates *out);

#endif /* SLUICE_CONTROL_LOAD_H */
