/* SPDX-License-Identifier: BSD-3-Clause
 *
 * steering.h: the data plane's side of the XDP steering program (bpf/). When the af_xdp port
 * is configured with the steering program (dataplane.port.xdp_prog), the data plane clears a
 * stale program from the interface before DPDK attaches its own, and registers the
 * addresses and ports it serves in the pinned services map, so the program sends them to
 * the data plane's sockets and everything else to the kernel. Control path only.
 */
#ifndef SLUICE_STEERING_H
#define SLUICE_STEERING_H

#include <stddef.h>

#include "config.h"

/* Before EAL start: detach whatever XDP program sits on the interface (the PMD attaches
 * with UPDATE_IF_NOEXIST and would fail). Returns 0 or -errno. */
int steering_prepare(const struct dataplane_config *cfg);

/* After the port started: add our services (IPv4 and IPv6 addresses, HTTP and HTTPS ports)
 * to the pinned services map. Returns the number added or -errno with a message in err. */
int steering_register(const struct dataplane_config *cfg, char *err, size_t err_len);

#endif /* SLUICE_STEERING_H */
