/* SPDX-License-Identifier: BSD-3-Clause
 *
 * tls_test_pki.c: see tls_test_pki.h.
 */
#include "tls_test_pki.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int write_key(const char *path, EVP_PKEY *key)
{
	FILE *f = fopen(path, "w");
	int ok = f && PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);

	if (f)
		fclose(f);
	return ok ? 0 : -1;
}

static int add_extension(X509 *certificate, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX context;
	X509_EXTENSION *extension;
	int ok;

	X509V3_set_ctx(&context, issuer, certificate, NULL, NULL, 0);
	extension = X509V3_EXT_conf_nid(NULL, &context, nid, value);
	ok = extension && X509_add_ext(certificate, extension, -1);
	X509_EXTENSION_free(extension);
	return ok ? 0 : -1;
}

/* A certificate for `key`, named `common_name`, signed by issuer_key (self-signed if issuer is NULL). */
static X509 *make_certificate(EVP_PKEY *key, const char *common_name, const char *alt_names, X509 *issuer,
			      EVP_PKEY *issuer_key, long serial)
{
	X509 *certificate = X509_new();
	X509_NAME *name = X509_NAME_new();
	int ok = certificate && name;

	ok = ok && X509_set_version(certificate, 2) && ASN1_INTEGER_set(X509_get_serialNumber(certificate), serial);
	ok = ok && X509_gmtime_adj(X509_getm_notBefore(certificate), -3600) &&
	     X509_gmtime_adj(X509_getm_notAfter(certificate), 30L * 86400);
	ok = ok && X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)common_name, -1, -1, 0);
	ok = ok && X509_set_subject_name(certificate, name) &&
	     X509_set_issuer_name(certificate, issuer ? X509_get_subject_name(issuer) : name);
	ok = ok && X509_set_pubkey(certificate, key);
	if (ok && !issuer)
		ok = add_extension(certificate, certificate, NID_basic_constraints, "critical,CA:TRUE") == 0 &&
		     add_extension(certificate, certificate, NID_key_usage, "critical,keyCertSign,cRLSign") == 0;
	if (ok && alt_names)
		ok = add_extension(certificate, issuer, NID_subject_alt_name, alt_names) == 0 &&
		     add_extension(certificate, issuer, NID_ext_key_usage, "serverAuth") == 0;
	ok = ok && X509_sign(certificate, issuer_key, EVP_sha256()) > 0;
	X509_NAME_free(name);
	if (!ok) {
		X509_free(certificate);
		return NULL;
	}
	return certificate;
}

static int write_chain(const char *path, X509 *leaf, X509 *ca)
{
	FILE *f = fopen(path, "w");
	int ok = f && PEM_write_X509(f, leaf) && (!ca || PEM_write_X509(f, ca));

	if (f)
		fclose(f);
	return ok ? 0 : -1;
}

int test_pki_create(struct test_pki *pki)
{
	static const struct {
		const char *name, *algorithm, *common_name, *alt_names;
	} leaves[TEST_CERTIFICATE_COUNT] = {
		{"rsa", "RSA", "default.test", "DNS:default.test,DNS:www.default.test"},
		{"ecdsa", "EC", "ecdsa.test", "DNS:ecdsa.test"},
		{"wild", "EC", "wild.test", "DNS:*.wild.test"},
	};
	EVP_PKEY *ca_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"), *other;
	X509 *ca = NULL;
	int rc = -1;

	memset(pki, 0, sizeof(*pki));
	snprintf(pki->directory, sizeof(pki->directory), "/tmp/sluice-tls-test-XXXXXX");
	if (!ca_key || !mkdtemp(pki->directory))
		goto cleanup;
	ca = make_certificate(ca_key, "sluice test CA", NULL, NULL, ca_key, 1);
	snprintf(pki->ca_file, sizeof(pki->ca_file), "%s/ca.pem", pki->directory);
	if (!ca || write_chain(pki->ca_file, ca, NULL))
		goto cleanup;
	for (int i = 0; i < TEST_CERTIFICATE_COUNT; i++) {
		EVP_PKEY *key = strcmp(leaves[i].algorithm, "RSA") == 0 ? EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048)
								       : EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		X509 *leaf = key ? make_certificate(key, leaves[i].common_name, leaves[i].alt_names, ca, ca_key, 10 + i)
				 : NULL;
		int ok;

		snprintf(pki->chain_file[i], sizeof(pki->chain_file[i]), "%s/%s.chain.pem", pki->directory, leaves[i].name);
		snprintf(pki->key_file[i], sizeof(pki->key_file[i]), "%s/%s.key.pem", pki->directory, leaves[i].name);
		ok = leaf && write_chain(pki->chain_file[i], leaf, ca) == 0 && write_key(pki->key_file[i], key) == 0;
		X509_free(leaf);
		EVP_PKEY_free(key);
		if (!ok)
			goto cleanup;
	}
	other = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	snprintf(pki->unmatched_key_file, sizeof(pki->unmatched_key_file), "%s/other.key.pem", pki->directory);
	if (other && write_key(pki->unmatched_key_file, other) == 0)
		rc = 0;
	EVP_PKEY_free(other);
cleanup:
	if (rc)
		fprintf(stderr, "test_pki_create: cannot make the test certificates in %s\n", pki->directory);
	X509_free(ca);
	EVP_PKEY_free(ca_key);
	return rc;
}

void test_pki_remove(struct test_pki *pki)
{
	unlink(pki->ca_file);
	unlink(pki->unmatched_key_file);
	for (int i = 0; i < TEST_CERTIFICATE_COUNT; i++) {
		unlink(pki->chain_file[i]);
		unlink(pki->key_file[i]);
	}
	if (pki->directory[0])
		rmdir(pki->directory);
}
