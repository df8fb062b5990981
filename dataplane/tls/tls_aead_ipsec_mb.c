/* SPDX-License-Identifier: BSD-3-Clause
 *
 * tls_aead_ipsec_mb.c: the "ipsec-mb" AES-GCM engine (intel-ipsec-mb 1.3), see tls_aead.h.
 *
 * Each worker owns an IMB_MGR (not thread-safe; alloc_mb_mgr + init_mb_mgr_auto picks the
 * best code path for this CPU: SSE, AVX, AVX2 or AVX-512/VAES) and the gcm_context_data of
 * the operation in progress. A schedule is ipsec-mb's struct gcm_key_data (1024 bytes:
 * 240 bytes of AES round keys + up to 768 bytes of GHASH key powers), computed by
 * IMB_AESxxx_GCM_PRE. Counter ranges go through the job API (IMB_CIPHER_CNTR with a full
 * 16-byte counter block), whose AES-CTR jobs complete synchronously.
 * Per record: no allocation, no lock.
 */
#define NO_COMPAT_IMB_API_053
#include <intel-ipsec-mb.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler.h"
#include "tls_aead.h"

_Static_assert(sizeof(struct gcm_key_data) <= TLS_AEAD_SCHEDULE_SIZE,
	       "struct tls_aead_schedule must hold ipsec-mb's struct gcm_key_data");
_Static_assert(_Alignof(struct gcm_key_data) <= _Alignof(struct tls_aead_schedule),
	       "struct tls_aead_schedule must be aligned like struct gcm_key_data");

struct ipsec_mb_state {
	struct gcm_context_data context; /* the operation in progress */
	IMB_MGR *manager;
	const struct gcm_key_data *key;
	enum tls_aead_cipher cipher;
	bool encrypt;
	char description[64];
};

static inline struct ipsec_mb_state *state_of(const struct tls_aead_worker *worker)
{
	return worker->engine_state;
}

static inline const struct gcm_key_data *key_data_of(const struct tls_aead_schedule *schedule)
{
	return (const struct gcm_key_data *)(const void *)schedule->bytes;
}

static int ipsec_mb_worker_init(struct tls_aead_worker *worker)
{
	static const char *const arch_names[] = {"none", "no-aesni", "sse", "avx", "avx2", "avx512"};
	struct ipsec_mb_state *state;
	IMB_ARCH arch = IMB_ARCH_NONE;

	/* aligned_alloc wants a multiple of the alignment. */
	state = aligned_alloc(SLUICE_CACHE_LINE, (sizeof(*state) + SLUICE_CACHE_LINE - 1) & ~(size_t)(SLUICE_CACHE_LINE - 1));
	if (!state)
		return -ENOMEM;
	memset(state, 0, sizeof(*state));
	state->manager = alloc_mb_mgr(0);
	if (!state->manager) {
		free(state);
		return -ENOMEM;
	}
	init_mb_mgr_auto(state->manager, &arch);
	if (imb_get_errno(state->manager) || arch == IMB_ARCH_NONE || arch == IMB_ARCH_NOAESNI) {
		free_mb_mgr(state->manager);
		free(state);
		return -ENOTSUP;
	}
	snprintf(state->description, sizeof(state->description), "ipsec-mb %s %s", imb_get_version_str(),
		 (unsigned)arch < ARRAY_SIZE(arch_names) ? arch_names[arch] : "?");
	worker->engine_state = state;
	return 0;
}

static void ipsec_mb_worker_fini(struct tls_aead_worker *worker)
{
	struct ipsec_mb_state *state = state_of(worker);

	if (!state)
		return;
	free_mb_mgr(state->manager);
	tls_aead_wipe(state, sizeof(*state));
	free(state);
	worker->engine_state = NULL;
}

static const char *ipsec_mb_describe(const struct tls_aead_worker *worker)
{
	return state_of(worker)->description;
}

static int ipsec_mb_schedule(struct tls_aead_worker *worker, const struct tls_aead_key *key,
			     struct tls_aead_schedule *schedule)
{
	IMB_MGR *manager = state_of(worker)->manager;
	struct gcm_key_data *key_data = (struct gcm_key_data *)(void *)schedule->bytes;

	if (key->cipher == TLS_AEAD_AES_128_GCM)
		IMB_AES128_GCM_PRE(manager, key->bytes, key_data);
	else
		IMB_AES256_GCM_PRE(manager, key->bytes, key_data);
	return 0;
}

static int ipsec_mb_begin(struct tls_aead_worker *worker, enum tls_aead_cipher cipher,
			  const struct tls_aead_schedule *schedule,
			  const uint8_t nonce[TLS_AEAD_NONCE_LENGTH], const uint8_t *aad, size_t aad_length,
			  bool encrypt)
{
	struct ipsec_mb_state *state = state_of(worker);

	state->key = key_data_of(schedule);
	state->cipher = cipher;
	state->encrypt = encrypt;
	if (cipher == TLS_AEAD_AES_128_GCM)
		IMB_AES128_GCM_INIT(state->manager, state->key, &state->context, nonce, aad, aad_length);
	else
		IMB_AES256_GCM_INIT(state->manager, state->key, &state->context, nonce, aad, aad_length);
	return 0;
}

static int ipsec_mb_update(struct tls_aead_worker *worker, uint8_t *out, const uint8_t *in, size_t length)
{
	struct ipsec_mb_state *state = state_of(worker);

	if (state->cipher == TLS_AEAD_AES_128_GCM) {
		if (state->encrypt)
			IMB_AES128_GCM_ENC_UPDATE(state->manager, state->key, &state->context, out, in, length);
		else
			IMB_AES128_GCM_DEC_UPDATE(state->manager, state->key, &state->context, out, in, length);
	} else {
		if (state->encrypt)
			IMB_AES256_GCM_ENC_UPDATE(state->manager, state->key, &state->context, out, in, length);
		else
			IMB_AES256_GCM_DEC_UPDATE(state->manager, state->key, &state->context, out, in, length);
	}
	return 0;
}

static void ipsec_mb_final_tag(struct ipsec_mb_state *state, uint8_t tag[TLS_AEAD_TAG_LENGTH])
{
	if (state->cipher == TLS_AEAD_AES_128_GCM) {
		if (state->encrypt)
			IMB_AES128_GCM_ENC_FINALIZE(state->manager, state->key, &state->context, tag, TLS_AEAD_TAG_LENGTH);
		else
			IMB_AES128_GCM_DEC_FINALIZE(state->manager, state->key, &state->context, tag, TLS_AEAD_TAG_LENGTH);
	} else {
		if (state->encrypt)
			IMB_AES256_GCM_ENC_FINALIZE(state->manager, state->key, &state->context, tag, TLS_AEAD_TAG_LENGTH);
		else
			IMB_AES256_GCM_DEC_FINALIZE(state->manager, state->key, &state->context, tag, TLS_AEAD_TAG_LENGTH);
	}
}

static int ipsec_mb_finish(struct tls_aead_worker *worker, uint8_t tag[TLS_AEAD_TAG_LENGTH])
{
	struct ipsec_mb_state *state = state_of(worker);

	if (!state->encrypt)
		return -EINVAL;
	ipsec_mb_final_tag(state, tag);
	return 0;
}

static int ipsec_mb_verify(struct tls_aead_worker *worker, const uint8_t tag[TLS_AEAD_TAG_LENGTH])
{
	struct ipsec_mb_state *state = state_of(worker);
	uint8_t computed[TLS_AEAD_TAG_LENGTH];
	bool equal;

	if (state->encrypt)
		return -EINVAL;
	ipsec_mb_final_tag(state, computed);
	equal = tls_aead_tag_equal(computed, tag);
	tls_aead_wipe(computed, sizeof(computed));
	return equal ? 0 : -EBADMSG;
}

static int ipsec_mb_keystream_xor(struct tls_aead_worker *worker, enum tls_aead_cipher cipher,
				  const struct tls_aead_schedule *schedule,
				  const uint8_t nonce[TLS_AEAD_NONCE_LENGTH], uint64_t block, uint8_t *out,
				  const uint8_t *in, size_t length)
{
	IMB_MGR *manager = state_of(worker)->manager;
	uint8_t counter[16];
	uint32_t first = (uint32_t)(block + 2); /* J0 is nonce || 1; payload block 0 uses 2 */
	IMB_JOB *job;

	if (block > UINT32_MAX - 2 || length > (UINT32_MAX - 2 - block) * 16)
		return -ERANGE;
	memcpy(counter, nonce, TLS_AEAD_NONCE_LENGTH);
	counter[12] = (uint8_t)(first >> 24);
	counter[13] = (uint8_t)(first >> 16);
	counter[14] = (uint8_t)(first >> 8);
	counter[15] = (uint8_t)first;

	job = IMB_GET_NEXT_JOB(manager);
	job->cipher_mode = IMB_CIPHER_CNTR;
	job->cipher_direction = IMB_DIR_ENCRYPT;
	job->chain_order = IMB_ORDER_CIPHER_HASH;
	job->hash_alg = IMB_AUTH_NULL;
	job->key_len_in_bytes = cipher == TLS_AEAD_AES_128_GCM ? IMB_KEY_128_BYTES : IMB_KEY_256_BYTES;
	job->enc_keys = key_data_of(schedule)->expanded_keys;
	job->dec_keys = key_data_of(schedule)->expanded_keys;
	job->src = in;
	job->dst = out;
	job->cipher_start_src_offset_in_bytes = 0;
	job->msg_len_to_cipher_in_bytes = length;
	job->iv = counter;
	job->iv_len_in_bytes = sizeof(counter);
	job = IMB_SUBMIT_JOB(manager);
	/* Only this job is ever in flight: flushing returns it. */
	for (int i = 0; !job && i < 4; i++)
		job = IMB_FLUSH_JOB(manager);
	if (!job || job->status != IMB_STATUS_COMPLETED)
		return -EIO;
	return 0;
}

const struct tls_aead_engine tls_aead_engine_ipsec_mb = {
	.name = "ipsec-mb",
	.worker_init = ipsec_mb_worker_init,
	.worker_fini = ipsec_mb_worker_fini,
	.describe = ipsec_mb_describe,
	.schedule = ipsec_mb_schedule,
	.begin = ipsec_mb_begin,
	.update = ipsec_mb_update,
	.finish = ipsec_mb_finish,
	.verify = ipsec_mb_verify,
	.keystream_xor = ipsec_mb_keystream_xor,
};
