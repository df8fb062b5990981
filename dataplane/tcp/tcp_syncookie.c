/* SPDX-License-Identifier: BSD-3-Clause
 *
 * tcp_syncookie.c: SYN cookies (RFC 4987 §3.6), used when a listener's SYN backlog is full.
 *
 * The SYN-ACK's initial sequence number carries what the connection needs, authenticated, so
 * that no state is kept until the peer's ACK returns it:
 *
 *   bits 31-30  time counter (now >> 26: about 67 s) mod 4 — a cookie is accepted during its
 *               own period and the next (67-134 s)
 *   bits 29-27  index of the peer's MSS in syncookie_mss (rounded down)
 *   bits 26-0   SipHash-2-4 over (flow, peer ISN, counter, MSS index) with the stack's secret
 *
 * Window scale and SACK-permitted do not fit; when the peer uses timestamps they travel in the
 * low five bits of our TSval and come back in its TSecr (tcp_input.c), otherwise the
 * connection goes without them, as in Linux. A guess succeeds with probability 2^-27 per ACK.
 */
#include <string.h>

#include "tcp.h"

static const uint16_t syncookie_mss[8] = {536, 1200, 1220, 1360, 1400, 1440, 1460, 8960};

static uint32_t syncookie_mac(const struct tcp_stack *ts, const struct tcp_flow *flow, uint32_t peer_isn,
			      uint32_t counter, uint32_t mss_index)
{
	uint8_t buf[sizeof(*flow) + 12];

	memcpy(buf, flow, sizeof(*flow));
	memcpy(buf + sizeof(*flow), &peer_isn, 4);
	memcpy(buf + sizeof(*flow) + 4, &counter, 4);
	memcpy(buf + sizeof(*flow) + 8, &mss_index, 4);
	return (uint32_t)siphash24(&ts->settings.secret, buf, sizeof(buf)) & 0x07ffffffu;
}

uint32_t tcp_syncookie_make(const struct tcp_stack *ts, const struct tcp_flow *flow, uint32_t peer_isn,
			    uint16_t peer_mss, uint64_t now_us, uint16_t *mss_out)
{
	uint32_t counter = (uint32_t)(now_us >> 26), index = 0;

	for (uint32_t i = 0; i < 8; i++)
		if (syncookie_mss[i] <= peer_mss)
			index = i;
	*mss_out = syncookie_mss[index];
	return (counter & 3u) << 30 | index << 27 | syncookie_mac(ts, flow, peer_isn, counter, index);
}

int tcp_syncookie_check(const struct tcp_stack *ts, const struct tcp_flow *flow, uint32_t peer_isn, uint32_t cookie,
			uint64_t now_us, uint16_t *mss_out)
{
	uint32_t now_counter = (uint32_t)(now_us >> 26), index = (cookie >> 27) & 7u;

	for (uint32_t age = 0; age < 2; age++) {
		uint32_t counter = now_counter - age;

		if ((counter & 3u) != cookie >> 30)
			continue;
		if (syncookie_mac(ts, flow, peer_isn, counter, index) == (cookie & 0x07ffffffu)) {
			*mss_out = syncookie_mss[index];
			return 0;
		}
	}
	return -1;
}
