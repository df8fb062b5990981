/* SPDX-License-Identifier: BSD-3-Clause
 *
 * tls_test_pki.h: certificates made at test time with OpenSSL's APIs (no files to expire in
 * the repository): a CA (ECDSA P-256) and leaves signed by it, written as PEM under a
 * temporary directory, each chain file = leaf + CA.
 */
#ifndef SLUICE_TLS_TEST_PKI_H
#define SLUICE_TLS_TEST_PKI_H

enum test_certificate {
	TEST_CERTIFICATE_RSA = 0,   /* RSA-2048, DNS: default.test, www.default.test (the default) */
	TEST_CERTIFICATE_ECDSA = 1, /* P-256, DNS: ecdsa.test */
	TEST_CERTIFICATE_WILD = 2,  /* P-256, DNS: *.wild.test */
	TEST_CERTIFICATE_COUNT = 3,
};

struct test_pki {
	char directory[64];
	char ca_file[128];
	char chain_file[TEST_CERTIFICATE_COUNT][128];
	char key_file[TEST_CERTIFICATE_COUNT][128];
	char unmatched_key_file[128]; /* a P-256 key that belongs to no certificate */
};

/* 0 or -1 (with a message on stderr). */
int test_pki_create(struct test_pki *pki);
void test_pki_remove(struct test_pki *pki);

#endif /* SLUICE_TLS_TEST_PKI_H */
