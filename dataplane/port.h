/* SPDX-License-Identifier: BSD-3-Clause
 *
 * port.h: the data plane's DPDK port — which kind, its queues and packet pools, and what the
 * hardware (or virtual device) does for us.
 *
 * One port, N queue pairs, one worker lcore per pair. Control path only (start and stop).
 */
#ifndef SLUICE_PORT_H
#define SLUICE_PORT_H

#include <stdint.h>

#include "config.h"

struct rte_mempool;

#define PORT_QUEUES_MAX 64

struct port {
	uint16_t port_id;
	uint16_t queues;
	uint16_t mtu;
	uint8_t mac[6];
	uint32_t tx_offloads;                 /* NET_TX_OFFLOAD_* the stack may use */
	uint32_t tx_segments_max;             /* mbufs per packet the port accepts (1: linear only) */
	char driver_name[32];
	struct rte_mempool *pools[PORT_QUEUES_MAX];
	bool started;
};

/* EAL device arguments for the configured port kind (--vdev or -a), into buf. */
int port_eal_device_args(const struct dataplane_config *cfg, char *buf, size_t len);

/* Configures and starts the port after rte_eal_init. Returns 0 or -errno with a message logged. */
int port_open(const struct dataplane_config *cfg, struct port *port);
void port_close(struct port *port);

#endif /* SLUICE_PORT_H */
