/* SPDX-License-Identifier: BSD-3-Clause
 *
 * worker.h: one worker lcore — its queue of the port, its network stack, its loop.
 *
 * struct worker is the per-core context of STYLE.md rule 1: cache aligned, written only by
 * its own lcore once running; the main thread reads nothing in it (counters reach the outside
 * through the stats segment). The loop, in this fixed order:
 *
 *   timers due → commands from the control ring → page-in completions → rx burst →
 *   protocol processing → queued TLS handshakes (within the iteration's budget) → send what
 *   windows allow → flush TX → publish stats (every publish period)
 *
 * Busy and idle cycles are counted separately: an iteration that received or sent something
 * is busy, the others idle, so CPU per byte can be reported although the lcore polls.
 */
#ifndef SLUICE_WORKER_H
#define SLUICE_WORKER_H

#include <stdbool.h>
#include <stdint.h>

#include "net/stack.h"
#include "sluice_stats.h"

struct rte_mbuf;
struct rte_mempool;
struct port;
struct http_server;
struct tls_app;

#define WORKER_RX_BURST 32
#define WORKER_RX_DRAIN_BURSTS 16 /* full RX bursts taken per loop iteration at most */
#define WORKER_TX_PENDING 512
#define WORKER_SEGMENTS_MAX 64  /* mbufs of one TCP burst: TSO chain or software segments */

/* One-slot mailbox from the main thread: the main thread fills the fields and bumps posted;
 * the worker applies the command at the top of its next iteration and sets applied = posted.
 * The main thread posts the next command only once every worker has applied the last. */
enum worker_command {
	WORKER_CMD_CATALOG = 1,
	WORKER_CMD_ADMISSION = 2,
	WORKER_CMD_HTTP_SETTINGS = 3,  /* object: struct http_server_settings (copied) */
	WORKER_CMD_SIGN_KEYS = 4,      /* object: struct url_sign_keyring (copied) */
};

struct worker_mailbox {
	volatile uint64_t posted;
	volatile uint64_t applied;
	volatile int32_t result;       /* 0 or -errno of the last command */
	uint32_t type;                 /* enum worker_command */
	const struct store_catalog *catalog;
	uint32_t admission;
	const void *object;            /* the command's object; valid until applied */
} __attribute__((aligned(64)));

struct worker {
	struct net_stack ns;
	struct worker_mailbox mailbox;
	uint16_t port_id;
	uint16_t queue_id;
	uint32_t lcore_id;
	struct rte_mempool *pool;
	uint32_t tx_segments_max;
	uint32_t port_tx_offloads;     /* what the port does (ns.tx_offloads adds software TSO) */
	uint32_t tx_count;
	uint64_t tx_stalled_since;       /* tsc of the first flush that sent nothing, 0 = moving */
	struct rte_mbuf *tx_pending[WORKER_TX_PENDING];
	uint64_t tsc_hz;
	uint64_t tsc_per_us;
	uint64_t tsc_base;
	uint64_t last_tx_tsc;          /* when frames were last queued (worker_tx_kick) */
	uint64_t next_kick_tsc;
	struct sluice_stats_lcore *stats;
	uint64_t publish_period_tsc;
	uint64_t next_publish_tsc;
	struct http_server *http;
	struct tls_app *tls;           /* NULL without an HTTPS listener */
	const volatile bool *quit;
} __attribute__((aligned(64)));

/* The netio implementation over a DPDK port queue (worker.c). */
extern const struct netio_ops worker_netio;

/* lcore entry point (rte_eal_remote_launch). */
int worker_main(void *arg);

#endif /* SLUICE_WORKER_H */
