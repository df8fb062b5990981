/* SPDX-License-Identifier: BSD-3-Clause
 *
 * neigh.h: the per-lcore neighbour table (ARP for IPv4, NDP for IPv6): address → MAC.
 *
 * Entries are learned from ARP requests and replies addressed to us, from IPv6 neighbour
 * solicitations for our address and from advertisements answering ours (ndp.c), and from
 * solicitations we send when a peer stops answering (tcp: repeated RTOs re-resolve the peer,
 * the way a neighbour cache confirms reachability). Connections copy the MAC they first saw into their
 * own state, so the hot path does not look up this table per segment.
 *
 * Open addressing, a power-of-two number of slots, linear probing over at most
 * NEIGH_PROBE_MAX slots; when those are all taken the oldest is replaced (counted). Memory is
 * allocated once at start (control path); per-packet operations never allocate.
 */
#ifndef SLUICE_NET_NEIGH_H
#define SLUICE_NET_NEIGH_H

#include <stdbool.h>
#include <stdint.h>

#include "net_types.h"

#define NEIGH_PROBE_MAX 8
#define NEIGH_SOLICIT_INTERVAL_US 1000000 /* at most one solicitation per address per second */

struct neigh_entry {
	struct net_addr addr;           /* family 0 = free */
	uint8_t mac[ETHER_ADDR_LEN];
	uint8_t resolved;               /* 1 when mac is valid */
	uint8_t pad;
	uint64_t updated_us;
	uint64_t solicited_us;
};

struct net_neigh_table {
	uint32_t mask;                  /* slots - 1 */
	uint32_t count;
	struct neigh_entry *slots;
};

struct net_stack;

/* Control path: table with at least `entries` slots (rounded up to a power of two). */
struct net_neigh_table *neigh_table_create(uint32_t entries);
void neigh_table_free(struct net_neigh_table *t);

/* Looks addr up; copies its MAC and returns true when resolved. */
bool neigh_lookup(const struct net_neigh_table *t, const struct net_addr *addr, uint8_t mac[ETHER_ADDR_LEN]);

/* Records addr → mac (learned now). */
void neigh_update(struct net_stack *ns, const struct net_addr *addr, const uint8_t mac[ETHER_ADDR_LEN]);

/* An IPv6 neighbour advertisement for addr (RFC 4861 §7.2.5): updates the entry only when
 * one exists (created by neigh_solicit or learned before); a resolved entry keeps a different
 * MAC unless override is set. Returns 0 (updated), -ENOENT (no entry: nothing created) or
 * -EEXIST (kept the known MAC). */
int neigh_advertised(struct net_stack *ns, const struct net_addr *addr, const uint8_t mac[ETHER_ADDR_LEN],
		     bool override);

/* Resolves or confirms addr unless a solicitation for it went out less than
 * NEIGH_SOLICIT_INTERVAL_US ago: an ARP request (broadcast) for IPv4; for IPv6 a neighbour
 * solicitation, unicast to the known MAC when the entry is resolved, else to the address's
 * solicited-node group. */
void neigh_solicit(struct net_stack *ns, const struct net_addr *addr);

/* ARP input (frame consumed). */
void arp_input(struct net_stack *ns, void *frame, uint8_t *data, uint32_t len);

#endif /* SLUICE_NET_NEIGH_H */
