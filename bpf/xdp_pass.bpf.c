// SPDX-License-Identifier: BSD-3-Clause OR GPL-2.0-only
/*
 * xdp_pass.bpf.c: an XDP program that passes every frame, for the far end of a veth.
 *
 * A frame that XDP sends out of a veth (XDP_TX, or XDP_REDIRECT into a veth: the steering
 * program's RSTs, AF_XDP's zero-copy path) is delivered through the peer's NAPI context,
 * which the veth driver only runs when the peer has an XDP program (or GRO) enabled;
 * otherwise such frames are dropped or wait. scripts/lab attaches this program to the
 * router-side end of the edge veth in the bridged lab, so what the edge sends with XDP
 * reaches the bridge at once. It costs one call per frame and changes nothing.
 */
#include <linux/bpf.h>

#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_PASS;
}
