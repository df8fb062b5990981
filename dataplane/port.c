/* SPDX-License-Identifier: BSD-3-Clause
 *
 * port.c: opening the DPDK port (af_xdp on a kernel interface, net_tap, or a PCI NIC).
 *
 * Each queue gets its own packet pool so that a worker's RX and TX buffers never cross
 * lcores. For af_xdp the pool is the AF_XDP UMEM (the PMD registers it), which is what makes
 * TX from it zero-copy into the kernel, and DPDK 22.11 registers only the pool's first memory
 * chunk: a pool that came out in several chunks is refused here with a clear message rather
 * than failing mysteriously later (PLATFORM-NOTES.md). Offloads are taken only when the
 * device reports them; the stack's netio then picks the matching send path.
 */
#include "port.h"

#include <errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "net/stack.h"

#define PORT_MBUF_CACHE 256

int port_eal_device_args(const struct dataplane_config *cfg, char *buf, size_t len)
{
	int n;

	if (!strcmp(cfg->port_driver, "af_xdp")) {
		n = snprintf(buf, len, "net_af_xdp0,iface=%s,start_queue=0,queue_count=%u,busy_budget=%u%s%s",
			     cfg->port_iface, cfg->port_queues, cfg->port_busy_budget,
			     cfg->port_xdp_prog[0] ? ",xdp_prog=" : "", cfg->port_xdp_prog);
	} else if (!strcmp(cfg->port_driver, "tap")) {
		n = snprintf(buf, len, "net_tap0,iface=%s", cfg->port_iface);
	} else if (!strcmp(cfg->port_driver, "memif")) {
		/* The data plane is the memif server; the client (perf/loadgen) connects to the
		 * socket file named by iface. */
		n = snprintf(buf, len, "net_memif0,role=server,id=0,socket=%s,socket-abstract=no", cfg->port_iface);
	} else if (!strcmp(cfg->port_driver, "pci")) {
		n = snprintf(buf, len, "%s", cfg->port_pci);
	} else {
		return -EINVAL;
	}
	return n > 0 && (size_t)n < len ? 0 : -ENAMETOOLONG;
}

static int port_create_pools(const struct dataplane_config *cfg, struct port *port, bool af_xdp)
{
	for (uint16_t q = 0; q < port->queues; q++) {
		char name[RTE_MEMPOOL_NAMESIZE];
		struct rte_mempool *mp;

		snprintf(name, sizeof(name), "sluice_q%u", q);
		mp = rte_pktmbuf_pool_create(name, cfg->mbufs_per_queue, PORT_MBUF_CACHE, 0,
					     RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
		if (!mp) {
			log_err("port: cannot create packet pool %s (%u mbufs): %s", name, cfg->mbufs_per_queue,
				rte_strerror(rte_errno));
			return -ENOMEM;
		}
		if (af_xdp && mp->nb_mem_chunks != 1) {
			log_err("port: packet pool %s spans %u memory chunks; the af_xdp PMD of DPDK 22.11 "
				"registers only the first as UMEM. Lower dataplane.port.mbufs_per_queue or "
				"run with hugepages = false", name, mp->nb_mem_chunks);
			rte_mempool_free(mp);
			return -E2BIG;
		}
		port->pools[q] = mp;
	}
	return 0;
}

int port_open(const struct dataplane_config *cfg, struct port *port)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	struct rte_ether_addr mac;
	bool af_xdp = !strcmp(cfg->port_driver, "af_xdp");
	uint16_t rx_desc = (uint16_t)cfg->port_rx_ring, tx_desc = (uint16_t)cfg->port_tx_ring;
	int rc;

	memset(port, 0, sizeof(*port));
	if (rte_eth_dev_count_avail() != 1) {
		log_err("port: expected exactly one DPDK port, found %u (check dataplane.port settings)",
			rte_eth_dev_count_avail());
		return -ENODEV;
	}
	port->port_id = 0;
	RTE_ETH_FOREACH_DEV(port->port_id) break;
	port->queues = (uint16_t)cfg->port_queues;
	rc = rte_eth_dev_info_get(port->port_id, &info);
	if (rc) {
		log_err("port: cannot read device info: %s", strerror(-rc));
		return rc;
	}
	snprintf(port->driver_name, sizeof(port->driver_name), "%s", info.driver_name);
	if (info.max_rx_queues < port->queues || info.max_tx_queues < port->queues) {
		log_err("port: %s offers %u RX / %u TX queues, %u configured", info.driver_name, info.max_rx_queues,
			info.max_tx_queues, port->queues);
		return -EINVAL;
	}
	memset(&conf, 0, sizeof(conf));
	/* Offloads that the stack can use, only when offered. af_xdp offers none in 22.11. */
	if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM) {
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_IPV4_CKSUM;
		port->tx_offloads |= NET_TX_OFFLOAD_IPV4_CKSUM;
	}
	if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_TCP_CKSUM) {
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_TCP_CKSUM;
		port->tx_offloads |= NET_TX_OFFLOAD_TCP_CKSUM;
	}
	port->tx_segments_max = 1;
	if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS) {
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
		port->tx_segments_max = info.tx_desc_lim.nb_seg_max ? info.tx_desc_lim.nb_seg_max : 40;
	}
	if ((info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_TCP_TSO) && port->tx_segments_max > 1 &&
	    (port->tx_offloads & NET_TX_OFFLOAD_TCP_CKSUM)) {
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_TCP_TSO;
		port->tx_offloads |= NET_TX_OFFLOAD_TCP_TSO;
	}
	if (port->queues > 1) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf = (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP) & info.flow_type_rss_offloads;
		if (!conf.rx_adv_conf.rss_conf.rss_hf)
			conf.rxmode.mq_mode = RTE_ETH_MQ_RX_NONE; /* af_xdp: the kernel picks queues */
	}
	rc = rte_eth_dev_configure(port->port_id, port->queues, port->queues, &conf);
	if (rc) {
		log_err("port: configure failed: %s", strerror(-rc));
		return rc;
	}
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(port->port_id, &rx_desc, &tx_desc);
	if (rc)
		return rc;
	rc = port_create_pools(cfg, port, af_xdp);
	if (rc)
		goto fail;
	for (uint16_t q = 0; q < port->queues; q++) {
		struct rte_eth_txconf txconf = info.default_txconf;

		txconf.offloads = conf.txmode.offloads;
		rc = rte_eth_rx_queue_setup(port->port_id, q, rx_desc, rte_eth_dev_socket_id(port->port_id), NULL,
					    port->pools[q]);
		if (rc) {
			log_err("port: RX queue %u setup failed: %s", q, strerror(-rc));
			goto fail;
		}
		rc = rte_eth_tx_queue_setup(port->port_id, q, tx_desc, rte_eth_dev_socket_id(port->port_id), &txconf);
		if (rc) {
			log_err("port: TX queue %u setup failed: %s", q, strerror(-rc));
			goto fail;
		}
	}
	rc = rte_eth_dev_set_mtu(port->port_id, (uint16_t)cfg->port_mtu);
	if (rc && rc != -ENOTSUP)
		log_warn("port: cannot set MTU %u: %s (keeping the device's)", cfg->port_mtu, strerror(-rc));
	if (rte_eth_dev_get_mtu(port->port_id, &port->mtu) || port->mtu > cfg->port_mtu)
		port->mtu = (uint16_t)cfg->port_mtu;
	/* net_tap's software TSO refuses segments whose size plus every header, Ethernet
	 * included, exceeds the MTU (DPDK 22.11 tap_write_mbufs): give the stack 14 bytes less. */
	if (!strcmp(info.driver_name, "net_tap") && (port->tx_offloads & NET_TX_OFFLOAD_TCP_TSO))
		port->mtu = (uint16_t)(port->mtu - RTE_ETHER_HDR_LEN);
	rc = rte_eth_dev_start(port->port_id);
	if (rc) {
		log_err("port: start failed: %s", strerror(-rc));
		goto fail;
	}
	port->started = true;
	rte_eth_macaddr_get(port->port_id, &mac);
	memcpy(port->mac, mac.addr_bytes, 6);
	log_info("port: %s (%s), %u queue(s), MTU %u, MAC %02x:%02x:%02x:%02x:%02x:%02x, offloads%s%s%s, "
		 "%u mbufs per packet",
		 cfg->port_iface[0] ? cfg->port_iface : cfg->port_pci, port->driver_name, port->queues, port->mtu,
		 port->mac[0], port->mac[1], port->mac[2], port->mac[3], port->mac[4], port->mac[5],
		 port->tx_offloads & NET_TX_OFFLOAD_IPV4_CKSUM ? " ipv4-cksum" : "",
		 port->tx_offloads & NET_TX_OFFLOAD_TCP_CKSUM ? " tcp-cksum" : "",
		 port->tx_offloads & NET_TX_OFFLOAD_TCP_TSO ? " tso" : (port->tx_offloads ? "" : " none"),
		 port->tx_segments_max);
	return 0;
fail:
	port_close(port);
	return rc;
}

void port_close(struct port *port)
{
	if (port->started) {
		rte_eth_dev_stop(port->port_id);
		port->started = false;
	}
	if (port->queues)
		rte_eth_dev_close(port->port_id);
	for (uint16_t q = 0; q < PORT_QUEUES_MAX; q++) {
		rte_mempool_free(port->pools[q]);
		port->pools[q] = NULL;
	}
	port->queues = 0;
}
