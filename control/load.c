/* SPDX-License-Identifier: BSD-3-Clause
 *
 * load.c: samples and rates (see load.h).
 */
#include "load.h"

#include <string.h>

void load_sample_from_snapshot(const struct stats_snapshot *snap, uint64_t time_ns, struct load_sample *out)
{
	int busy = stats_snapshot_find(snap, "busy_cycles"), idle = stats_snapshot_find(snap, "idle_cycles");

	memset(out, 0, sizeof(*out));
	out->time_ns = time_ns;
	out->tx_bytes = stats_snapshot_total(snap, "tx_bytes");
	out->rx_bytes = stats_snapshot_total(snap, "rx_bytes");
	out->lcore_count = snap->lcore_count;
	for (uint32_t l = 0; l < snap->lcore_count && l < SLUICE_STATS_LCORES_MAX; l++) {
		const uint64_t *values = snap->values + (size_t)l * snap->counter_count;

		out->lcore_ids[l] = snap->lcore_ids[l];
		out->busy_cycles[l] = busy >= 0 ? values[busy] : 0;
		out->idle_cycles[l] = idle >= 0 ? values[idle] : 0;
	}
}

void load_rates_between(const struct load_sample *a, const struct load_sample *b, struct load_rates *out)
{
	double dt;

	memset(out, 0, sizeof(*out));
	if (b->time_ns <= a->time_ns || b->tx_bytes < a->tx_bytes || b->rx_bytes < a->rx_bytes ||
	    a->lcore_count != b->lcore_count)
		return;
	dt = (double)(b->time_ns - a->time_ns) / 1e9;
	out->interval_s = dt;
	out->tx_bits_per_s = (double)(b->tx_bytes - a->tx_bytes) * 8 / dt;
	out->rx_bits_per_s = (double)(b->rx_bytes - a->rx_bytes) * 8 / dt;
	out->lcore_count = b->lcore_count;
	for (uint32_t l = 0; l < b->lcore_count; l++) {
		uint64_t busy = b->busy_cycles[l] - a->busy_cycles[l], idle = b->idle_cycles[l] - a->idle_cycles[l];

		out->lcore_ids[l] = b->lcore_ids[l];
		if (b->busy_cycles[l] < a->busy_cycles[l] || b->idle_cycles[l] < a->idle_cycles[l])
			return; /* counters went backwards: another incarnation */
		out->busy_ratio[l] = busy + idle ? (double)busy / (double)(busy + idle) : -1;
		if (out->busy_ratio[l] > out->busy_ratio_max)
			out->busy_ratio_max = out->busy_ratio[l];
	}
	out->valid = true;
}

void load_sampler_init(struct load_sampler *s, uint64_t window_ns)
{
	memset(s, 0, sizeof(*s));
	s->window_ns = window_ns;
}

void load_sampler_reset(struct load_sampler *s)
{
	s->first = 0;
	s->count = 0;
}

static const struct load_sample *load_sampler_at(const struct load_sampler *s, uint32_t i)
{
	return &s->samples[(s->first + i) % LOAD_SAMPLES_MAX];
}

void load_sampler_add(struct load_sampler *s, const struct load_sample *sample)
{
	if (s->count) {
		const struct load_sample *newest = load_sampler_at(s, s->count - 1);
		struct load_rates check;

		load_rates_between(newest, sample, &check);
		if (!check.valid && sample->time_ns > newest->time_ns) {
			load_sampler_reset(s); /* counters went backwards: start again */
		} else if (sample->time_ns <= newest->time_ns) {
			return;
		} else if (s->count >= 2 &&
			   sample->time_ns - load_sampler_at(s, s->count - 2)->time_ns < s->window_ns / (LOAD_SAMPLES_MAX / 2)) {
			/* Thin: replace the newest instead of adding one that close to its neighbour. */
			s->samples[(s->first + s->count - 1) % LOAD_SAMPLES_MAX] = *sample;
			goto trim;
		}
	}
	if (s->count == LOAD_SAMPLES_MAX) {
		s->first = (s->first + 1) % LOAD_SAMPLES_MAX;
		s->count--;
	}
	s->samples[(s->first + s->count) % LOAD_SAMPLES_MAX] = *sample;
	s->count++;
trim:
	/* Drop samples older than the window, but keep one at or before its start. */
	while (s->count > 2 && sample->time_ns - load_sampler_at(s, 1)->time_ns >= s->window_ns) {
		s->first = (s->first + 1) % LOAD_SAMPLES_MAX;
		s->count--;
	}
}

void load_sampler_rates(const struct load_sampler *s, struct load_rates *out)
{
	if (s->count < 2) {
		memset(out, 0, sizeof(*out));
		return;
	}
	load_rates_between(load_sampler_at(s, 0), load_sampler_at(s, s->count - 1), out);
}
