/* SPDX-License-Identifier: BSD-3-Clause
 *
 * tls_ticket.c: the ticket key ring with quiescent-state reclamation; see tls_ticket.h.
 * Control path, except tls_ticket_keyring_read/_quiescent (one atomic each).
 */
#include "tls_ticket.h"

#include <errno.h>
#include <openssl/rand.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compiler.h"
#include "tls_aead.h"

int tls_ticket_key_generate(struct tls_ticket_key *key)
{
	if (RAND_bytes(key->name, sizeof(key->name)) != 1 || RAND_bytes(key->aes_key, sizeof(key->aes_key)) != 1 ||
	    RAND_bytes(key->hmac_key, sizeof(key->hmac_key)) != 1)
		return -EIO;
	return 0;
}

struct tls_ticket_reader {
	_Atomic uint64_t seen; /* generation seen at the last quiescent state; UINT64_MAX: offline */
} sluice_cache_aligned;

struct tls_ticket_keyring {
	_Atomic(struct tls_ticket_keys *) current;
	_Atomic uint64_t generation;
	struct tls_ticket_keys *retired; /* swapped out, not yet freed (a replace timed out) */
	uint64_t retired_generation;
	unsigned readers;
	struct tls_ticket_reader reader[];
};

static struct tls_ticket_keys *keys_copy(const struct tls_ticket_keys *keys)
{
	struct tls_ticket_keys *copy;

	if (!keys || keys->count == 0 || keys->count > TLS_TICKET_KEYS_MAX)
		return NULL;
	copy = malloc(sizeof(*copy));
	if (copy)
		memcpy(copy, keys, sizeof(*copy));
	return copy;
}

static void keys_free(struct tls_ticket_keys *keys)
{
	if (!keys)
		return;
	tls_aead_wipe(keys, sizeof(*keys));
	free(keys);
}

int tls_ticket_keyring_create(unsigned readers, const struct tls_ticket_keys *initial,
			      struct tls_ticket_keyring **out)
{
	struct tls_ticket_keyring *ring;
	struct tls_ticket_keys *keys;
	size_t size = sizeof(*ring) + readers * sizeof(ring->reader[0]);

	*out = NULL;
	if (readers == 0 || readers > TLS_TICKET_READERS_MAX)
		return -EINVAL;
	keys = keys_copy(initial);
	if (!keys)
		return initial && initial->count && initial->count <= TLS_TICKET_KEYS_MAX ? -ENOMEM : -EINVAL;
	size = (size + SLUICE_CACHE_LINE - 1) & ~(size_t)(SLUICE_CACHE_LINE - 1);
	ring = aligned_alloc(SLUICE_CACHE_LINE, size);
	if (!ring) {
		keys_free(keys);
		return -ENOMEM;
	}
	memset(ring, 0, size);
	atomic_init(&ring->current, keys);
	atomic_init(&ring->generation, 1);
	ring->readers = readers;
	for (unsigned i = 0; i < readers; i++)
		atomic_init(&ring->reader[i].seen, 1);
	*out = ring;
	return 0;
}

void tls_ticket_keyring_free(struct tls_ticket_keyring *ring)
{
	if (!ring)
		return;
	keys_free(atomic_load(&ring->current));
	keys_free(ring->retired);
	free(ring);
}

static bool grace_period_over(const struct tls_ticket_keyring *ring, uint64_t generation)
{
	for (unsigned i = 0; i < ring->readers; i++)
		if (atomic_load_explicit(&ring->reader[i].seen, memory_order_acquire) < generation)
			return false;
	return true;
}

static bool wait_grace_period(const struct tls_ticket_keyring *ring, uint64_t generation, unsigned timeout_ms)
{
	const struct timespec pause = {.tv_sec = 0, .tv_nsec = 100 * 1000};
	struct timespec start, now;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		if (grace_period_over(ring, generation))
			return true;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 >= (long)timeout_ms)
			return false;
		nanosleep(&pause, NULL);
	}
}

int tls_ticket_keyring_replace(struct tls_ticket_keyring *ring, const struct tls_ticket_keys *keys,
			       unsigned timeout_ms)
{
	struct tls_ticket_keys *fresh, *old;
	uint64_t generation;

	if (!keys || keys->count == 0 || keys->count > TLS_TICKET_KEYS_MAX)
		return -EINVAL;
	if (ring->retired) {
		if (!wait_grace_period(ring, ring->retired_generation, timeout_ms))
			return -EBUSY;
		keys_free(ring->retired);
		ring->retired = NULL;
	}
	fresh = keys_copy(keys);
	if (!fresh)
		return -ENOMEM;
	old = atomic_exchange(&ring->current, fresh);
	generation = atomic_fetch_add(&ring->generation, 1) + 1;
	if (!wait_grace_period(ring, generation, timeout_ms)) {
		ring->retired = old;
		ring->retired_generation = generation;
		return -ETIMEDOUT;
	}
	keys_free(old);
	return 0;
}

const struct tls_ticket_keys *tls_ticket_keyring_read(const struct tls_ticket_keyring *ring)
{
	return atomic_load_explicit(&((struct tls_ticket_keyring *)(uintptr_t)ring)->current, memory_order_acquire);
}

void tls_ticket_keyring_quiescent(struct tls_ticket_keyring *ring, unsigned reader)
{
	uint64_t generation = atomic_load(&ring->generation);

	atomic_store_explicit(&ring->reader[reader].seen, generation, memory_order_release);
}

void tls_ticket_keyring_offline(struct tls_ticket_keyring *ring, unsigned reader)
{
	atomic_store_explicit(&ring->reader[reader].seen, UINT64_MAX, memory_order_release);
}

void tls_ticket_keyring_online(struct tls_ticket_keyring *ring, unsigned reader)
{
	atomic_store(&ring->reader[reader].seen, atomic_load(&ring->generation));
}
