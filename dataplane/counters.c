/* SPDX-License-Identifier: BSD-3-Clause
 *
 * counters.c: names and kinds of the counters listed in counters.h.
 */
#include "counters.h"

#include "sluice_stats.h"

static const char *const counter_names[DP_COUNTER_COUNT] = {
#define DP_COUNTER_NAME(name) #name,
	DP_COUNTER_LIST(DP_COUNTER_NAME, DP_COUNTER_NAME)
#undef DP_COUNTER_NAME
};

static const unsigned char counter_kinds[DP_COUNTER_COUNT] = {
#define DP_COUNTER_KIND_C(name) SLUICE_STATS_COUNTER,
#define DP_COUNTER_KIND_G(name) SLUICE_STATS_GAUGE,
	DP_COUNTER_LIST(DP_COUNTER_KIND_C, DP_COUNTER_KIND_G)
#undef DP_COUNTER_KIND_C
#undef DP_COUNTER_KIND_G
};

const char *dp_counter_name(enum dp_counter_id id)
{
	return (unsigned)id < DP_COUNTER_COUNT ? counter_names[id] : "?";
}

int dp_counter_kind(enum dp_counter_id id)
{
	return (unsigned)id < DP_COUNTER_COUNT ? counter_kinds[id] : 0;
}
