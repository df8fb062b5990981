/* SPDX-License-Identifier: BSD-3-Clause
 *
 * neigh.c: neighbour table and ARP (see neigh.h; NDP's messages are in ndp.c). arp_input and
 * the table operations run per packet; create/free run at start and stop.
 */
#include "neigh.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "net_proto.h"
#include "stack.h"

static const uint8_t ether_broadcast[ETHER_ADDR_LEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

struct net_neigh_table *neigh_table_create(uint32_t entries)
{
	struct net_neigh_table *t;
	uint32_t slots = 16;

	while (slots < entries && slots < (1u << 30))
		slots <<= 1;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->slots = calloc(slots, sizeof(*t->slots));
	if (!t->slots) {
		free(t);
		return NULL;
	}
	t->mask = slots - 1;
	return t;
}

void neigh_table_free(struct net_neigh_table *t)
{
	if (!t)
		return;
	free(t->slots);
	free(t);
}

static uint32_t neigh_hash(const struct net_addr *a)
{
	uint64_t lo = (uint64_t)a->words[0] << 32 | a->words[1], hi = (uint64_t)a->words[2] << 32 | a->words[3];
	uint64_t h = (lo ^ (hi * 0x9e3779b97f4a7c15ULL)) * 0xff51afd7ed558ccdULL;
	return (uint32_t)(h >> 32) ^ a->family;
}

static struct neigh_entry *neigh_find(const struct net_neigh_table *t, const struct net_addr *addr)
{
	uint32_t i = neigh_hash(addr);

	for (uint32_t n = 0; n < NEIGH_PROBE_MAX; n++, i++) {
		struct neigh_entry *e = &t->slots[i & t->mask];
		if (e->addr.family && net_addr_equal(&e->addr, addr))
			return e;
	}
	return NULL;
}

/* Slot for a new entry: a free one in the probe window, else the least recently updated. */
static struct neigh_entry *neigh_claim(struct net_stack *ns, const struct net_addr *addr)
{
	struct net_neigh_table *t = ns->neigh;
	struct neigh_entry *oldest = NULL;
	uint32_t i = neigh_hash(addr);

	for (uint32_t n = 0; n < NEIGH_PROBE_MAX; n++, i++) {
		struct neigh_entry *e = &t->slots[i & t->mask];
		if (!e->addr.family) {
			t->count++;
			memset(e, 0, sizeof(*e));
			e->addr = *addr;
			return e;
		}
		if (!oldest || e->updated_us < oldest->updated_us)
			oldest = e;
	}
	COUNTER_INC(&ns->counters, arp_table_full);
	memset(oldest, 0, sizeof(*oldest));
	oldest->addr = *addr;
	return oldest;
}

bool neigh_lookup(const struct net_neigh_table *t, const struct net_addr *addr, uint8_t mac[ETHER_ADDR_LEN])
{
	const struct neigh_entry *e = neigh_find(t, addr);

	if (!e || !e->resolved)
		return false;
	memcpy(mac, e->mac, ETHER_ADDR_LEN);
	return true;
}

void neigh_update(struct net_stack *ns, const struct net_addr *addr, const uint8_t mac[ETHER_ADDR_LEN])
{
	struct neigh_entry *e = neigh_find(ns->neigh, addr);

	if (!e)
		e = neigh_claim(ns, addr);
	memcpy(e->mac, mac, ETHER_ADDR_LEN);
	e->resolved = 1;
	e->updated_us = ns->now_us;
}

int neigh_advertised(struct net_stack *ns, const struct net_addr *addr, const uint8_t mac[ETHER_ADDR_LEN],
		     bool override)
{
	struct neigh_entry *e = neigh_find(ns->neigh, addr);

	if (!e)
		return -ENOENT;
	if (e->resolved && !override && memcmp(e->mac, mac, ETHER_ADDR_LEN))
		return -EEXIST;
	memcpy(e->mac, mac, ETHER_ADDR_LEN);
	e->resolved = 1;
	e->updated_us = ns->now_us;
	return 0;
}

static void arp_fill(struct net_stack *ns, uint8_t *frame, uint16_t opcode, const uint8_t dst_mac[ETHER_ADDR_LEN],
		     const uint8_t target_mac[ETHER_ADDR_LEN], uint32_t target_ip)
{
	struct ether_header *eth = (struct ether_header *)frame;
	struct arp_packet *arp = (struct arp_packet *)(frame + ETHER_HDR_LEN);

	memcpy(eth->dst, dst_mac, ETHER_ADDR_LEN);
	memcpy(eth->src, ns->mac, ETHER_ADDR_LEN);
	eth->type = __builtin_bswap16(ETHER_TYPE_ARP);
	arp->hardware_type = __builtin_bswap16(1);
	arp->protocol_type = __builtin_bswap16(ETHER_TYPE_IPV4);
	arp->hardware_len = ETHER_ADDR_LEN;
	arp->protocol_len = 4;
	arp->opcode = __builtin_bswap16(opcode);
	memcpy(arp->sender_mac, ns->mac, ETHER_ADDR_LEN);
	arp->sender_ip = ns->ipv4;
	memcpy(arp->target_mac, target_mac, ETHER_ADDR_LEN);
	arp->target_ip = target_ip;
}

void neigh_solicit(struct net_stack *ns, const struct net_addr *addr)
{
	static const uint8_t zero_mac[ETHER_ADDR_LEN];
	struct neigh_entry *e;
	uint8_t *frame;
	void *handle;
	uint32_t len = ETHER_HDR_LEN + sizeof(struct arp_packet);

	if (addr->family != NET_AF_IPV4 && addr->family != NET_AF_IPV6)
		return;
	e = neigh_find(ns->neigh, addr);
	if (!e)
		e = neigh_claim(ns, addr);
	if (e->solicited_us && ns->now_us - e->solicited_us < NEIGH_SOLICIT_INTERVAL_US)
		return;
	e->solicited_us = ns->now_us;
	if (addr->family == NET_AF_IPV6) {
		if (ns->ipv6_enabled)
			ndp_send_solicitation(ns, addr->v6, e->resolved ? e->mac : NULL);
		return;
	}
	frame = ns->io->frame_alloc(ns, &handle, len);
	if (!frame)
		return;
	arp_fill(ns, frame, 1, ether_broadcast, zero_mac, addr->v4);
	ns->io->frame_send(ns, handle, len);
	COUNTER_INC(&ns->counters, arp_requests_sent);
}

void arp_input(struct net_stack *ns, void *frame, uint8_t *data, uint32_t len)
{
	struct arp_packet *arp = (struct arp_packet *)(data + ETHER_HDR_LEN);
	struct net_addr sender;
	uint16_t opcode;

	if (len < ETHER_HDR_LEN + sizeof(*arp) || arp->hardware_type != __builtin_bswap16(1) ||
	    arp->protocol_type != __builtin_bswap16(ETHER_TYPE_IPV4) || arp->hardware_len != ETHER_ADDR_LEN ||
	    arp->protocol_len != 4) {
		COUNTER_INC(&ns->counters, rx_drop_arp_malformed);
		goto drop;
	}
	opcode = __builtin_bswap16(arp->opcode);
	if ((opcode != 1 && opcode != 2) || (arp->sender_mac[0] & 1)) {
		COUNTER_INC(&ns->counters, rx_drop_arp_malformed);
		goto drop;
	}
	if (arp->target_ip != ns->ipv4) {
		COUNTER_INC(&ns->counters, rx_drop_arp_not_ours);
		goto drop;
	}
	net_addr_v4(&sender, arp->sender_ip);
	if (arp->sender_ip)
		neigh_update(ns, &sender, arp->sender_mac);
	if (opcode == 2) {
		COUNTER_INC(&ns->counters, arp_replies_received);
		goto drop;
	}
	/* Request for our address: answer in place, in the received buffer. */
	{
		uint8_t requester_mac[ETHER_ADDR_LEN];
		uint32_t requester_ip = arp->sender_ip;

		memcpy(requester_mac, arp->sender_mac, ETHER_ADDR_LEN);
		arp_fill(ns, data, 2, requester_mac, requester_mac, requester_ip);
		/* NICs pad short frames to the Ethernet minimum themselves. */
		ns->io->frame_send(ns, frame, ETHER_HDR_LEN + sizeof(*arp));
		COUNTER_INC(&ns->counters, arp_requests_answered);
		return;
	}
drop:
	ns->io->frame_free(ns, frame);
}
