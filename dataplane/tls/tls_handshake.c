/* SPDX-License-Identifier: BSD-3-Clause
 *
 * tls_handshake.c: OpenSSL 3.0 server contexts (certificates, SNI, ALPN, tickets) and the
 * per-connection handshake over memory BIOs, ending in the key handoff; see tls_handshake.h.
 * Handshake path: allocations go to OpenSSL (and through it to jemalloc), never per record.
 */
#include "tls_handshake.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "compiler.h"

#define TLS13_CIPHERSUITES "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384"
#define TLS12_CIPHERS                                                                                  \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"     \
	"ECDHE-RSA-AES256-GCM-SHA384"
/* No finite-field groups: a client must not make the server do a 2048+-bit DH per handshake. */
#define KEY_EXCHANGE_GROUPS "X25519:P-256:P-384"
#define SERVER_NAMES_MAX 64

struct server_name {
	char *name;     /* lower case; "*.example.com" for a wildcard */
	unsigned index; /* certificate */
};

struct tls_handshake_server {
	SSL_CTX **contexts;
	unsigned context_count;
	struct server_name *names;
	unsigned name_count;
	struct tls_ticket_keyring *ticket_keys;
	EVP_CIPHER *ticket_cipher; /* AES-256-CBC */
	uint32_t handshake_input_max;
};

struct tls_handshake {
	struct tls_handshake_server *server;
	SSL *ssl;
	BIO *read_bio, *write_bio; /* owned by ssl */
	enum tls_handshake_state state;
	size_t input_total;
	uint8_t client_secret[TLS_SECRET_MAX], server_secret[TLS_SECRET_MAX];
	uint8_t client_secret_length, server_secret_length;
	bool client_finished_seen;
	unsigned records_after_client_finished; /* TLS 1.3: the NewSessionTicket records */
	uint8_t alert_sent;
	uint8_t certificate_index;
};

static void set_error(char *error, size_t size, const char *fmt, ...) sluice_printf(3, 4);

static void set_error(char *error, size_t size, const char *fmt, ...)
{
	va_list ap;
	size_t n;
	unsigned long code;

	if (!error || !size)
		return;
	va_start(ap, fmt);
	vsnprintf(error, size, fmt, ap);
	va_end(ap);
	code = ERR_peek_last_error();
	n = strlen(error);
	if (code && n + 3 < size) {
		snprintf(error + n, size - n, ": ");
		ERR_error_string_n(code, error + n + 2, size - n - 2);
	}
	ERR_clear_error();
}

/* SNI ---------------------------------------------------------------------------------------- */

static bool name_matches(const char *pattern, const char *name)
{
	const char *dot;

	if (strcasecmp(pattern, name) == 0)
		return true;
	if (pattern[0] != '*' || pattern[1] != '.')
		return false;
	dot = strchr(name, '.');
	return dot && dot != name && strcasecmp(dot + 1, pattern + 2) == 0;
}

static int server_find_certificate(const struct tls_handshake_server *server, const char *name)
{
	for (int wildcard = 0; wildcard < 2; wildcard++)
		for (unsigned i = 0; i < server->name_count; i++)
			if ((server->names[i].name[0] == '*') == (wildcard == 1) && name_matches(server->names[i].name, name))
				return (int)server->names[i].index;
	return -1;
}

static int servername_callback(SSL *ssl, int *alert sluice_unused, void *arg)
{
	struct tls_handshake_server *server = arg;
	struct tls_handshake *handshake = SSL_get_app_data(ssl);
	const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	int index = name ? server_find_certificate(server, name) : -1;

	/* No SNI or an unknown name: keep the default certificate (see tls_handshake.h). */
	if (index > 0) {
		if (!SSL_set_SSL_CTX(ssl, server->contexts[index]))
			return SSL_TLSEXT_ERR_ALERT_FATAL;
		handshake->certificate_index = (uint8_t)index;
	}
	return SSL_TLSEXT_ERR_OK;
}

static int server_add_name(struct tls_handshake_server *server, const char *name, size_t length, unsigned index)
{
	char *copy;

	if (server->name_count == SERVER_NAMES_MAX || length == 0 || length > TLS_HANDSHAKE_SERVER_NAME_MAX)
		return -E2BIG;
	copy = malloc(length + 1);
	if (!copy)
		return -ENOMEM;
	for (size_t i = 0; i < length; i++)
		copy[i] = (char)tolower((unsigned char)name[i]);
	copy[length] = '\0';
	server->names[server->name_count].name = copy;
	server->names[server->name_count].index = index;
	server->name_count++;
	return 0;
}

/* The certificate's DNS names: subjectAltName dNSName entries, else the subject CN. */
static int server_add_certificate_names(struct tls_handshake_server *server, SSL_CTX *context, unsigned index)
{
	X509 *leaf = SSL_CTX_get0_certificate(context);
	GENERAL_NAMES *names = leaf ? X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL) : NULL;
	int added = 0, rc = 0;

	for (int i = 0; names && i < sk_GENERAL_NAME_num(names) && rc == 0; i++) {
		const GENERAL_NAME *name = sk_GENERAL_NAME_value(names, i);

		if (name->type != GEN_DNS)
			continue;
		rc = server_add_name(server, (const char *)ASN1_STRING_get0_data(name->d.dNSName),
				     (size_t)ASN1_STRING_length(name->d.dNSName), index);
		added++;
	}
	GENERAL_NAMES_free(names);
	if (rc == 0 && !added && leaf) {
		char common_name[TLS_HANDSHAKE_SERVER_NAME_MAX + 1];
		int length = X509_NAME_get_text_by_NID(X509_get_subject_name(leaf), NID_commonName, common_name,
						       sizeof(common_name));

		if (length > 0)
			rc = server_add_name(server, common_name, (size_t)length, index);
	}
	return rc;
}

/* ALPN: "http/1.1" only. */
static int alpn_callback(SSL *ssl sluice_unused, const unsigned char **out, unsigned char *out_length,
			 const unsigned char *in, unsigned int in_length, void *arg sluice_unused)
{
	static const unsigned char http11[] = "\x08http/1.1";
	unsigned char *selected;

	if (SSL_select_next_proto(&selected, out_length, http11, sizeof(http11) - 1, in, in_length) !=
	    OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_ALERT_FATAL; /* no_application_protocol */
	*out = selected;
	return SSL_TLSEXT_ERR_OK;
}

/* Session tickets: keys[0] encrypts; any key of the current table decrypts (2 = renew). */
static int ticket_key_callback(SSL *ssl, unsigned char key_name[16], unsigned char iv[EVP_MAX_IV_LENGTH],
			       EVP_CIPHER_CTX *cipher, EVP_MAC_CTX *mac, int encrypt)
{
	struct tls_handshake_server *server = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
	const struct tls_ticket_keys *keys = tls_ticket_keyring_read(server->ticket_keys);
	const struct tls_ticket_key *key = NULL;
	OSSL_PARAM params[3];
	int rc = 1;

	if (encrypt) {
		key = &keys->keys[0];
		memcpy(key_name, key->name, TLS_TICKET_KEY_NAME_LENGTH);
		if (RAND_bytes(iv, 16) != 1 || !EVP_EncryptInit_ex2(cipher, server->ticket_cipher, key->aes_key, iv, NULL))
			return -1;
	} else {
		for (unsigned i = 0; i < keys->count && !key; i++)
			if (memcmp(key_name, keys->keys[i].name, TLS_TICKET_KEY_NAME_LENGTH) == 0) {
				key = &keys->keys[i];
				rc = i == 0 ? 1 : 2;
			}
		if (!key)
			return 0; /* unknown or retired key: full handshake */
		if (!EVP_DecryptInit_ex2(cipher, server->ticket_cipher, key->aes_key, iv, NULL))
			return -1;
	}
	params[0] = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, (void *)key->hmac_key, sizeof(key->hmac_key));
	params[1] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
	params[2] = OSSL_PARAM_construct_end();
	if (!EVP_MAC_CTX_set_params(mac, params))
		return -1;
	return rc;
}

/* Key handoff: the TLS 1.3 traffic secrets, from the keylog callback. */
static size_t hex_decode(const char *hex, size_t hex_length, uint8_t *out, size_t capacity)
{
	size_t n = 0;

	if (hex_length % 2 || hex_length / 2 > capacity)
		return 0;
	for (size_t i = 0; i < hex_length; i += 2) {
		unsigned value;

		if (!isxdigit((unsigned char)hex[i]) || !isxdigit((unsigned char)hex[i + 1]) ||
		    sscanf(hex + i, "%2x", &value) != 1)
			return 0;
		out[n++] = (uint8_t)value;
	}
	return n;
}

static void keylog_callback(const SSL *ssl, const char *line)
{
	static const char client_label[] = "CLIENT_TRAFFIC_SECRET_0 ", server_label[] = "SERVER_TRAFFIC_SECRET_0 ";
	struct tls_handshake *handshake = SSL_get_app_data(ssl);
	uint8_t *secret;
	uint8_t *length;
	const char *hex;

	if (!handshake)
		return;
	if (strncmp(line, client_label, sizeof(client_label) - 1) == 0) {
		secret = handshake->client_secret;
		length = &handshake->client_secret_length;
		hex = line + sizeof(client_label) - 1;
	} else if (strncmp(line, server_label, sizeof(server_label) - 1) == 0) {
		secret = handshake->server_secret;
		length = &handshake->server_secret_length;
		hex = line + sizeof(server_label) - 1;
	} else {
		return;
	}
	hex = strchr(hex, ' '); /* skip the client random */
	if (hex)
		*length = (uint8_t)hex_decode(hex + 1, strlen(hex + 1), secret, TLS_SECRET_MAX);
}

/* Counts what the handoff needs: records written after the client's Finished, alerts sent. */
static void message_callback(int write_p, int version sluice_unused, int content_type, const void *buf, size_t length,
			     SSL *ssl sluice_unused, void *arg)
{
	struct tls_handshake *handshake = arg;
	const uint8_t *bytes = buf;

	if (!write_p && content_type == SSL3_RT_HANDSHAKE && length >= 1 && bytes[0] == SSL3_MT_FINISHED)
		handshake->client_finished_seen = true;
	else if (write_p && content_type == SSL3_RT_HEADER && length >= 1 && handshake->client_finished_seen &&
		 bytes[0] == TLS_CONTENT_APPLICATION_DATA)
		handshake->records_after_client_finished++;
	else if (write_p && content_type == SSL3_RT_ALERT && length == 2)
		handshake->alert_sent = bytes[1];
}

static int context_configure(struct tls_handshake_server *server, const struct tls_handshake_server_config *config,
			     const struct tls_handshake_certificate *certificate, SSL_CTX *context, char *error,
			     size_t error_size)
{
	static const unsigned char session_context[] = "sluice";
	uint64_t options = SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE;

	if (!config->ticket_keys)
		options |= SSL_OP_NO_TICKET;
	SSL_CTX_set_options(context, options);
	SSL_CTX_set_mode(context, SSL_MODE_RELEASE_BUFFERS);
	if (!SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION) ||
	    !SSL_CTX_set_max_proto_version(context, TLS1_3_VERSION) ||
	    !SSL_CTX_set_ciphersuites(context, TLS13_CIPHERSUITES) || !SSL_CTX_set_cipher_list(context, TLS12_CIPHERS) ||
	    !SSL_CTX_set1_groups_list(context, KEY_EXCHANGE_GROUPS)) {
		set_error(error, error_size, "TLS versions or cipher suites refused");
		return -EINVAL;
	}
	SSL_CTX_set_session_cache_mode(context, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_session_id_context(context, session_context, sizeof(session_context) - 1);
	SSL_CTX_set_timeout(context, config->ticket_lifetime_s ? config->ticket_lifetime_s : 7200);
	if (config->tickets_per_handshake)
		SSL_CTX_set_num_tickets(context, config->tickets_per_handshake);
	if (!config->ticket_keys)
		SSL_CTX_set_num_tickets(context, 0);
	SSL_CTX_set_max_early_data(context, 0);
	SSL_CTX_set_app_data(context, server);
	SSL_CTX_set_tlsext_servername_callback(context, servername_callback);
	SSL_CTX_set_tlsext_servername_arg(context, server);
	SSL_CTX_set_alpn_select_cb(context, alpn_callback, server);
	SSL_CTX_set_keylog_callback(context, keylog_callback);
	if (config->ticket_keys)
		SSL_CTX_set_tlsext_ticket_key_evp_cb(context, ticket_key_callback);
	if (!certificate->chain_file || !certificate->key_file) {
		set_error(error, error_size, "a certificate needs chain_file and key_file");
		return -EINVAL;
	}
	if (SSL_CTX_use_certificate_chain_file(context, certificate->chain_file) != 1) {
		set_error(error, error_size, "%s: cannot load the certificate chain", certificate->chain_file);
		return -EINVAL;
	}
	if (SSL_CTX_use_PrivateKey_file(context, certificate->key_file, SSL_FILETYPE_PEM) != 1) {
		set_error(error, error_size, "%s: cannot load the private key", certificate->key_file);
		return -EINVAL;
	}
	if (SSL_CTX_check_private_key(context) != 1) {
		set_error(error, error_size, "%s does not match %s", certificate->key_file, certificate->chain_file);
		return -EINVAL;
	}
	return 0;
}

void tls_handshake_server_free(struct tls_handshake_server *server)
{
	if (!server)
		return;
	for (unsigned i = 0; i < server->name_count; i++)
		free(server->names[i].name);
	free(server->names);
	for (unsigned i = 0; i < server->context_count; i++)
		SSL_CTX_free(server->contexts[i]);
	free(server->contexts);
	EVP_CIPHER_free(server->ticket_cipher);
	free(server);
}

int tls_handshake_server_create(const struct tls_handshake_server_config *config,
				struct tls_handshake_server **out, char *error, size_t error_size)
{
	struct tls_handshake_server *server;
	int rc = 0;

	*out = NULL;
	if (!config || !config->certificates || config->certificate_count == 0 || config->certificate_count > 255) {
		set_error(error, error_size, "between 1 and 255 certificates are needed");
		return -EINVAL;
	}
	server = calloc(1, sizeof(*server));
	if (!server)
		return -ENOMEM;
	server->contexts = calloc(config->certificate_count, sizeof(server->contexts[0]));
	server->names = calloc(SERVER_NAMES_MAX, sizeof(server->names[0]));
	server->ticket_cipher = EVP_CIPHER_fetch(NULL, "AES-256-CBC", NULL);
	server->ticket_keys = config->ticket_keys;
	server->handshake_input_max = config->handshake_input_max ? config->handshake_input_max : TLS_HANDSHAKE_INPUT_MAX;
	if (!server->contexts || !server->names || !server->ticket_cipher) {
		rc = -ENOMEM;
		goto cleanup;
	}
	for (unsigned i = 0; i < config->certificate_count && rc == 0; i++) {
		const struct tls_handshake_certificate *certificate = &config->certificates[i];

		server->contexts[i] = SSL_CTX_new_ex(NULL, NULL, TLS_server_method());
		if (!server->contexts[i]) {
			rc = -ENOMEM;
			break;
		}
		server->context_count++;
		rc = context_configure(server, config, certificate, server->contexts[i], error, error_size);
		if (rc < 0)
			break;
		if (certificate->server_names) {
			for (const char *const *name = certificate->server_names; *name && rc == 0; name++)
				rc = server_add_name(server, *name, strlen(*name), i);
		} else {
			rc = server_add_certificate_names(server, server->contexts[i], i);
		}
		if (rc == -E2BIG)
			set_error(error, error_size, "%s: more than %d server names, or a name longer than %d",
				  certificate->chain_file, SERVER_NAMES_MAX, TLS_HANDSHAKE_SERVER_NAME_MAX);
	}
cleanup:
	if (rc < 0) {
		if (rc == -ENOMEM)
			set_error(error, error_size, "out of memory");
		tls_handshake_server_free(server);
		return rc;
	}
	*out = server;
	return 0;
}

int tls_handshake_create(struct tls_handshake_server *server, struct tls_handshake **out)
{
	struct tls_handshake *handshake = calloc(1, sizeof(*handshake));

	*out = NULL;
	if (!handshake)
		return -ENOMEM;
	handshake->server = server;
	handshake->ssl = SSL_new(server->contexts[0]);
	handshake->read_bio = BIO_new(BIO_s_mem());
	handshake->write_bio = BIO_new(BIO_s_mem());
	if (!handshake->ssl || !handshake->read_bio || !handshake->write_bio) {
		BIO_free(handshake->read_bio);
		BIO_free(handshake->write_bio);
		SSL_free(handshake->ssl);
		free(handshake);
		return -ENOMEM;
	}
	/* Reading an empty memory BIO means "wait for more", not end of file. */
	BIO_set_mem_eof_return(handshake->read_bio, -1);
	SSL_set_bio(handshake->ssl, handshake->read_bio, handshake->write_bio);
	SSL_set_accept_state(handshake->ssl);
	SSL_set_app_data(handshake->ssl, handshake);
	SSL_set_msg_callback(handshake->ssl, message_callback);
	SSL_set_msg_callback_arg(handshake->ssl, handshake);
	*out = handshake;
	return 0;
}

void tls_handshake_free(struct tls_handshake *handshake)
{
	if (!handshake)
		return;
	SSL_free(handshake->ssl); /* frees both BIOs */
	tls_aead_wipe(handshake, sizeof(*handshake));
	free(handshake);
}

static void output_fill(struct tls_handshake *handshake, struct tls_handshake_output *output)
{
	char *bytes = NULL;
	long length = BIO_get_mem_data(handshake->write_bio, &bytes);

	output->bytes = (const uint8_t *)bytes;
	output->length = length > 0 ? (size_t)length : 0;
	output->state = handshake->state;
	output->alert = handshake->state == TLS_HANDSHAKE_FAILED ? handshake->alert_sent : 0;
}

int tls_handshake_feed(struct tls_handshake *handshake, const void *input, size_t length,
		       struct tls_handshake_output *output)
{
	int rc;

	memset(output, 0, sizeof(*output));
	if (handshake->state != TLS_HANDSHAKE_CONTINUE)
		return -EINVAL;
	(void)BIO_reset(handshake->write_bio); /* the caller took the previous output */
	handshake->input_total += length;
	if (handshake->input_total > handshake->server->handshake_input_max) {
		handshake->state = TLS_HANDSHAKE_FAILED;
		output_fill(handshake, output);
		return 0;
	}
	if (length && BIO_write(handshake->read_bio, input, (int)length) != (int)length)
		return -ENOMEM;
	ERR_clear_error();
	rc = SSL_do_handshake(handshake->ssl);
	if (rc == 1) {
		handshake->state = TLS_HANDSHAKE_DONE;
	} else {
		int reason = SSL_get_error(handshake->ssl, rc);

		if (reason != SSL_ERROR_WANT_READ)
			handshake->state = TLS_HANDSHAKE_FAILED;
	}
	ERR_clear_error();
	output_fill(handshake, output);
	return 0;
}

int tls_handshake_handoff(struct tls_handshake *handshake, struct tls_handshake_handoff *handoff)
{
	SSL *ssl = handshake->ssl;
	const SSL_CIPHER *suite = SSL_get_current_cipher(ssl);
	SSL_SESSION *session = SSL_get_session(ssl);
	const EVP_MD *digest;
	const unsigned char *alpn = NULL;
	unsigned alpn_length = 0;
	const char *name;
	char *leftover = NULL;
	long leftover_length;
	uint8_t fragment;
	int nid, rc;

	memset(handoff, 0, sizeof(*handoff));
	if (handshake->state != TLS_HANDSHAKE_DONE || !suite || !session)
		return -EINVAL;
	if (SSL_has_pending(ssl))
		return -EPROTO; /* OpenSSL buffered records itself: they would be lost */
	nid = SSL_CIPHER_get_cipher_nid(suite);
	digest = SSL_CIPHER_get_handshake_digest(suite);
	handoff->cipher = nid == NID_aes_128_gcm ? TLS_AEAD_AES_128_GCM : nid == NID_aes_256_gcm ? TLS_AEAD_AES_256_GCM : 0;
	handoff->hash = (uint8_t)(digest ? EVP_MD_get_size(digest) : 0);
	if (!handoff->cipher || (handoff->hash != TLS_HASH_SHA256 && handoff->hash != TLS_HASH_SHA384))
		return -EPROTO;

	switch (SSL_version(ssl)) {
	case TLS1_3_VERSION:
		handoff->version = TLS_VERSION_1_3;
		if (handshake->client_secret_length != handoff->hash || handshake->server_secret_length != handoff->hash)
			return -EPROTO;
		memcpy(handoff->write_secret, handshake->server_secret, handoff->hash);
		memcpy(handoff->read_secret, handshake->client_secret, handoff->hash);
		rc = tls_keys_traffic_key_13(handoff->cipher, handoff->hash, handoff->write_secret, &handoff->write_key);
		if (rc == 0)
			rc = tls_keys_traffic_key_13(handoff->cipher, handoff->hash, handoff->read_secret, &handoff->read_key);
		handoff->write_sequence = handshake->records_after_client_finished;
		handoff->read_sequence = 0;
		break;
	case TLS1_2_VERSION: {
		uint8_t master[48], client_random[32], server_random[32];

		if (SSL_SESSION_get_master_key(session, master, sizeof(master)) != sizeof(master) ||
		    SSL_get_client_random(ssl, client_random, sizeof(client_random)) != sizeof(client_random) ||
		    SSL_get_server_random(ssl, server_random, sizeof(server_random)) != sizeof(server_random))
			return -EPROTO;
		handoff->version = TLS_VERSION_1_2;
		rc = tls_keys_block_12(handoff->cipher, handoff->hash, master, client_random, server_random,
				       &handoff->read_key, &handoff->write_key);
		tls_aead_wipe(master, sizeof(master));
		handoff->write_sequence = 1;
		handoff->read_sequence = 1;
		break;
	}
	default:
		return -EPROTO;
	}
	if (rc < 0) {
		tls_aead_wipe(handoff, sizeof(*handoff));
		return rc;
	}
	fragment = SSL_SESSION_get_max_fragment_length(session);
	handoff->record_plaintext_max = fragment >= 1 && fragment <= 4 ? (uint16_t)(256u << fragment)
								       : TLS_RECORD_PLAINTEXT_MAX;
	handoff->resumed = SSL_session_reused(ssl) == 1;
	SSL_get0_alpn_selected(ssl, &alpn, &alpn_length);
	handoff->alpn_http11 = alpn_length == 8 && memcmp(alpn, "http/1.1", 8) == 0;
	handoff->certificate_index = handshake->certificate_index;
	name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	if (name)
		snprintf(handoff->server_name, sizeof(handoff->server_name), "%s", name);
	leftover_length = BIO_get_mem_data(handshake->read_bio, &leftover);
	handoff->leftover = (const uint8_t *)leftover;
	handoff->leftover_length = leftover_length > 0 ? (size_t)leftover_length : 0;
	return 0;
}
