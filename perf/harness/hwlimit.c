/* SPDX-License-Identifier: BSD-3-Clause
 *
 * hwlimit.c: what one core of this machine can do per byte, the ceiling the data plane is
 * measured against ("sluice against the hardware limit"). One JSON object on stdout.
 *
 *   hwlimit FILE [seconds_per_test]
 *
 * FILE is a large file of the store (the 64 MiB one), mapped read-only and paged in first,
 * exactly as the data plane maps its store. Each test walks it and reports bytes per second
 * of this thread's CPU time (CLOCK_THREAD_CPUTIME_ID): on a core shared with other work the
 * rate is what the core does while it runs this code, not what is left of the wall clock.
 *
 *   copy_1448_gbyte_s            memcpy of 1448-byte pieces of the file into a ring of 2 KiB
 *                                buffers as large as a queue's mbuf pool: the one payload
 *                                copy plain HTTP makes on af_xdp (store page -> UMEM frame)
 *   copy_csum_1448_gbyte_s       the same followed by the data plane's own software TCP
 *                                checksum (dataplane/net/net_csum.c) over the copied piece:
 *                                the data plane's per-byte work per plain segment on af_xdp
 *   aes128gcm_16k_ipsecmb_gbyte_s  AES-128-GCM seal of 16 KiB records from the file into a
 *                                ring of record buffers, intel-ipsec-mb (the data plane's
 *                                TLS engine): the per-byte floor of HTTPS ("the encryption
 *                                is the only pass over the bytes")
 *   aes128gcm_16k_openssl_gbyte_s  the same through OpenSSL 3 EVP (what nginx uses)
 *   *_hot_gbyte_s                the same with a 256 KiB source that stays in the L2 cache:
 *                                the compute ceiling, against the file's memory-bound one
 *   ipsecmb_arch                 the code path intel-ipsec-mb picked for this CPU
 *
 * Not a test; perf/run starts it pinned to the server core while no server runs.
 */
#define NO_COMPAT_IMB_API_053
#include <errno.h>
#include <fcntl.h>
#include <intel-ipsec-mb.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "net/net_csum.h"

#define PIECE_BYTES 1448u
#define SLOT_BYTES 2048u
#define SLOTS 8192u                  /* a queue's mbuf pool: 16 MiB of frames */
#define RECORD_BYTES 16384u
#define RECORD_SLOTS 1024u           /* 16 MiB of records */

struct source {
	const uint8_t *map;
	size_t len;
};

static double thread_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define HOT_SOURCE_BYTES (256u * 1024u)

static const char *const ipsecmb_arch_names[] = {"none", "noaesni", "sse", "avx", "avx2", "avx512"};
static uint32_t ipsecmb_arch_used;

static volatile uint64_t sink; /* keeps results alive */

static double run_copy(const struct source *src, uint8_t *ring, double seconds, int with_csum)
{
	double start = thread_seconds(), now;
	uint64_t bytes = 0, sum = 0;
	size_t off = 0;
	uint32_t slot = 0;

	do {
		for (int i = 0; i < 4096; i++) {
			uint8_t *dst = ring + (size_t)slot * SLOT_BYTES;

			if (off + PIECE_BYTES > src->len)
				off = 0;
			memcpy(dst, src->map + off, PIECE_BYTES);
			if (with_csum)
				sum += net_csum_fold(net_csum_partial(dst, PIECE_BYTES, 0));
			off += PIECE_BYTES;
			slot = (slot + 1) % SLOTS;
			bytes += PIECE_BYTES;
		}
		now = thread_seconds();
	} while (now - start < seconds);
	sink += sum + ring[0];
	return (double)bytes / (now - start) / 1e9;
}

static double run_ipsecmb(const struct source *src, uint8_t *ring, double seconds)
{
	IMB_MGR *mgr = alloc_mb_mgr(0);
	struct gcm_key_data key_data __attribute__((aligned(64)));
	struct gcm_context_data ctx __attribute__((aligned(64)));
	uint8_t key[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
	uint8_t iv[12] = {0}, aad[13] = {23, 3, 3}, tag[16];
	double start, now;
	uint64_t bytes = 0, record = 0;
	size_t off = 0;

	if (!mgr)
		return -1;
	init_mb_mgr_auto(mgr, NULL);
	if (imb_get_errno(mgr)) {
		free_mb_mgr(mgr);
		return -1;
	}
	ipsecmb_arch_used = mgr->used_arch;
	IMB_AES128_GCM_PRE(mgr, key, &key_data);
	start = thread_seconds();
	do {
		for (int i = 0; i < 256; i++) {
			if (off + RECORD_BYTES > src->len)
				off = 0;
			memcpy(iv + 4, &record, 8);
			IMB_AES128_GCM_ENC(mgr, &key_data, &ctx, ring + (record % RECORD_SLOTS) * RECORD_BYTES,
					   src->map + off, RECORD_BYTES, iv, aad, sizeof(aad), tag, sizeof(tag));
			off += RECORD_BYTES;
			record++;
			bytes += RECORD_BYTES;
		}
		now = thread_seconds();
	} while (now - start < seconds);
	sink += tag[0];
	free_mb_mgr(mgr);
	return (double)bytes / (now - start) / 1e9;
}

static double run_openssl(const struct source *src, uint8_t *ring, double seconds)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	const EVP_CIPHER *gcm = EVP_aes_128_gcm();
	uint8_t key[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
	uint8_t iv[12] = {0}, aad[13] = {23, 3, 3}, tag[16];
	double start, now, rate = -1;
	uint64_t bytes = 0, record = 0;
	size_t off = 0;
	int outl;

	if (!ctx || !EVP_EncryptInit_ex(ctx, gcm, NULL, key, NULL))
		goto out;
	start = thread_seconds();
	do {
		for (int i = 0; i < 256; i++) {
			uint8_t *dst = ring + (record % RECORD_SLOTS) * RECORD_BYTES;

			if (off + RECORD_BYTES > src->len)
				off = 0;
			memcpy(iv + 4, &record, 8);
			if (!EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, iv) ||
			    !EVP_EncryptUpdate(ctx, NULL, &outl, aad, sizeof(aad)) ||
			    !EVP_EncryptUpdate(ctx, dst, &outl, src->map + off, RECORD_BYTES) ||
			    !EVP_EncryptFinal_ex(ctx, dst + outl, &outl) ||
			    !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, sizeof(tag), tag))
				goto out;
			off += RECORD_BYTES;
			record++;
			bytes += RECORD_BYTES;
		}
		now = thread_seconds();
	} while (now - start < seconds);
	sink += tag[0];
	rate = (double)bytes / (now - start) / 1e9;
out:
	EVP_CIPHER_CTX_free(ctx);
	return rate;
}

int main(int argc, char **argv)
{
	struct source src, hot;
	struct stat st;
	double seconds = argc > 2 ? atof(argv[2]) : 1.0;
	uint8_t *ring = NULL;
	int fd, rc = 1;

	if (argc < 2 || seconds <= 0) {
		fprintf(stderr, "usage: hwlimit FILE [seconds_per_test]\n");
		return 2;
	}
	fd = open(argv[1], O_RDONLY);
	if (fd < 0 || fstat(fd, &st) || st.st_size < (off_t)HOT_SOURCE_BYTES) {
		fprintf(stderr, "hwlimit: %s: %s\n", argv[1], fd < 0 ? strerror(errno) : "too small");
		return 1;
	}
	src.len = (size_t)st.st_size;
	src.map = mmap(NULL, src.len, PROT_READ, MAP_SHARED | MAP_POPULATE, fd, 0);
	close(fd);
	if (src.map == MAP_FAILED) {
		fprintf(stderr, "hwlimit: mmap: %s\n", strerror(errno));
		return 1;
	}
	/* One ring large enough for either test; touched once so no test pays page faults. */
	if (posix_memalign((void **)&ring, 4096, (size_t)SLOTS * SLOT_BYTES))
		goto cleanup;
	memset(ring, 0, (size_t)SLOTS * SLOT_BYTES);
	hot = src;
	hot.len = HOT_SOURCE_BYTES;
	printf("{\"copy_1448_gbyte_s\":%.3f,", run_copy(&src, ring, seconds, 0));
	printf("\"copy_csum_1448_gbyte_s\":%.3f,", run_copy(&src, ring, seconds, 1));
	printf("\"aes128gcm_16k_ipsecmb_gbyte_s\":%.3f,", run_ipsecmb(&src, ring, seconds));
	printf("\"aes128gcm_16k_openssl_gbyte_s\":%.3f,", run_openssl(&src, ring, seconds));
	printf("\"copy_csum_1448_hot_gbyte_s\":%.3f,", run_copy(&hot, ring, seconds, 1));
	printf("\"aes128gcm_16k_ipsecmb_hot_gbyte_s\":%.3f,", run_ipsecmb(&hot, ring, seconds));
	printf("\"aes128gcm_16k_openssl_hot_gbyte_s\":%.3f,", run_openssl(&hot, ring, seconds));
	printf("\"ipsecmb_version\":\"%s\",\"ipsecmb_arch\":\"%s\",\"seconds_per_test\":%.2f}\n",
	       imb_get_version_str(),
	       ipsecmb_arch_used < sizeof(ipsecmb_arch_names) / sizeof(ipsecmb_arch_names[0])
		       ? ipsecmb_arch_names[ipsecmb_arch_used] : "?",
	       seconds);
	rc = 0;
cleanup:
	free(ring);
	munmap((void *)src.map, src.len);
	return rc;
}
