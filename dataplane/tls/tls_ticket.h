/* SPDX-License-Identifier: BSD-3-Clause
 *
 * tls_ticket.h: the session-ticket key ring shared by all lcores.
 *
 * Every lcore's SSL_CTX encrypts and decrypts session tickets with one shared
 * table {name 16 B, AES-256-CBC key, HMAC-SHA256 key}: keys[0] encrypts new tickets, all of
 * them decrypt (so a ticket survives rotations while its key is in the table). The control
 * path replaces the table; lcores read it without locks:
 *
 *   publication  the control path builds a new immutable table and swaps the ring's pointer
 *                (atomic exchange), then bumps the ring's generation;
 *   reading      an lcore loads the pointer (acquire) inside the ticket callback, i.e. inside
 *                tls_handshake_feed, and never keeps it beyond that call;
 *   grace period each lcore calls tls_ticket_keyring_quiescent() once per loop iteration,
 *                outside any handshake (it publishes the generation it has seen, release);
 *                the old table is freed only after every online reader has published a
 *                generation >= the one of the swap. Readers that stop polling go offline
 *                (tls_ticket_keyring_offline) so they do not hold rotations up.
 * This is quiescent-state-based reclamation (like DPDK's rte_rcu_qsbr) with one writer.
 * The reader's cost is one atomic load per handshake and one store per loop iteration.
 */
#ifndef SLUICE_TLS_TICKET_H
#define SLUICE_TLS_TICKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TLS_TICKET_KEYS_MAX 4
#define TLS_TICKET_KEY_NAME_LENGTH 16
#define TLS_TICKET_READERS_MAX 128

struct tls_ticket_key {
	uint8_t name[TLS_TICKET_KEY_NAME_LENGTH];
	uint8_t aes_key[32];  /* AES-256-CBC */
	uint8_t hmac_key[32]; /* HMAC-SHA256 */
};

/* One generation of the table: keys[0] encrypts, keys[0..count) decrypt. */
struct tls_ticket_keys {
	unsigned count;
	struct tls_ticket_key keys[TLS_TICKET_KEYS_MAX];
};

struct tls_ticket_keyring;

/* A key with random name and secrets (RAND_bytes). */
int tls_ticket_key_generate(struct tls_ticket_key *key);

/* `readers` lcores will read the ring (ids 0..readers-1), all online. Copies `initial`. */
int tls_ticket_keyring_create(unsigned readers, const struct tls_ticket_keys *initial,
			      struct tls_ticket_keyring **out);
/* Control path, after every reader stopped. NULL is a no-op. */
void tls_ticket_keyring_free(struct tls_ticket_keyring *ring);

/*
 * Control path: publishes a copy of `keys` and frees the previous table once every online
 * reader has passed a quiescent state, waiting at most timeout_ms (sleeping, not spinning).
 * Returns 0; -ETIMEDOUT: published, but the old table is parked and freed by a later call;
 * -EBUSY: a parked table is still in use, nothing published; -EINVAL: count is 0 or too big.
 * One writer at a time (the control thread).
 */
int tls_ticket_keyring_replace(struct tls_ticket_keyring *ring, const struct tls_ticket_keys *keys,
			       unsigned timeout_ms);

/* Reader side. The table stays valid until this reader's next quiescent state. */
const struct tls_ticket_keys *tls_ticket_keyring_read(const struct tls_ticket_keyring *ring);
void tls_ticket_keyring_quiescent(struct tls_ticket_keyring *ring, unsigned reader);
void tls_ticket_keyring_offline(struct tls_ticket_keyring *ring, unsigned reader);
void tls_ticket_keyring_online(struct tls_ticket_keyring *ring, unsigned reader);

#endif /* SLUICE_TLS_TICKET_H */
