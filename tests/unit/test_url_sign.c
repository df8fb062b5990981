/* SPDX-License-Identifier: BSD-3-Clause
 *
 * test_url_sign.c: signed expiring URLs (dataplane/http/url_sign.c) and sluice-sign.
 *
 * - The HMAC from intel-ipsec-mb with precomputed states equals OpenSSL's HMAC-SHA256 over
 *   the message url_sign.h documents, for keys and paths of lengths around block edges.
 * - A table of key-file lines with what each must parse to.
 * - A table of signed URLs, each minted then optionally altered (tampered path, exp, kid,
 *   prefix or signature, missing or duplicated parameters, other clients, other times) with
 *   the status verification must return; key rotation with two rings.
 * - url_sign_verify allocates nothing (allocation counter around many verifications).
 * - sluice-sign's output, parsed as a request target by http_parse_request and normalized by
 *   http_path_normalize, verifies with a ring loaded from the same key file; its exit codes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "compiler.h"
#include "http_parse.h"
#include "test_alloc_count.h"
#include "test_guard.h"
#include "test_main.h"
#include "url_sign.h"

#define HEX_32 "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define HEX_64 HEX_32 "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
#define B64_48 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4v"
#define B64URL_32 "yMnKy8zNzs_Q0dLT1NXW19jZ2tvc3d7f4OHi4-Tl5uc"
#define B64STD_32 "yMnKy8zNzs/Q0dLT1NXW19jZ2tvc3d7f4OHi4+Tl5uc="
#define B64_31 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg=="

static struct IMB_MGR *engine;

static void engine_needed(void)
{
	if (!engine)
		engine = url_sign_engine_create();
	CU_ASSERT_PTR_NOT_NULL_FATAL(engine);
}

static void key_from_bytes(struct url_sign_key *key, uint8_t id, size_t len, uint8_t seed)
{
	memset(key, 0, sizeof(*key));
	key->id = id;
	key->secret_len = (uint8_t)len;
	for (size_t i = 0; i < len; i++)
		key->secret[i] = (uint8_t)(seed + i * 7);
}

static void base64url_of(const uint8_t *digest, char out[64])
{
	int n = EVP_EncodeBlock((unsigned char *)out, digest, URL_SIGN_DIGEST_LEN);

	while (n > 0 && out[n - 1] == '=')
		n--;
	out[n] = '\0';
	for (int i = 0; i < n; i++)
		out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
}

/* The token the library mints equals HMAC-SHA256 (OpenSSL) over the documented message. */
static void test_hmac_against_openssl(void)
{
	static const size_t key_lengths[] = {32, 33, 48, 55, 56, 63, 64};
	static const size_t path_lengths[] = {1, 2, 20, 40, 41, 46, 47, 55, 56, 63, 64, 119, 120, 500, 4096};
	static char path[URL_SIGN_PATH_MAX + 1];

	engine_needed();
	for (size_t k = 0; k < ARRAY_SIZE(key_lengths); k++) {
		for (size_t p = 0; p < ARRAY_SIZE(path_lengths); p++) {
			struct url_sign_keyring ring;
			struct url_sign_key key;
			char query[URL_SIGN_QUERY_MAX], message[URL_SIGN_MESSAGE_MAX + 1], expected[64];
			const char *prefix = p % 2 ? "198.18.0.0/24" : NULL;
			uint8_t digest[EVP_MAX_MD_SIZE];
			unsigned digest_len = 0;
			int message_len, rc;
			const char *sig;

			path[0] = '/';
			for (size_t i = 1; i < path_lengths[p]; i++)
				path[i] = (char)('a' + (i + k) % 26);
			key_from_bytes(&key, 17, key_lengths[k], (uint8_t)(k * 31));
			url_sign_keyring_init(&ring);
			CU_ASSERT_EQUAL_FATAL(url_sign_keyring_add(&ring, engine, &key), 0);
			rc = url_sign_mint(&ring, engine, 17, path, path_lengths[p], 1700000000, prefix,
					   query, sizeof(query));
			CU_ASSERT_FATAL(rc > 0);

			message_len = snprintf(message, sizeof(message), "%.*s\n1700000000\n17\n%s",
					       (int)path_lengths[p], path, prefix ? prefix : "");
			HMAC(EVP_sha256(), key.secret, (int)key.secret_len, (const unsigned char *)message,
			     (size_t)message_len, digest, &digest_len);
			base64url_of(digest, expected);
			sig = strstr(query, "&sig=");
			TEST_CHECK(sig && strcmp(sig + 5, expected) == 0,
				   "key of %zu bytes, path of %zu bytes: %s, OpenSSL says %s", key_lengths[k],
				   path_lengths[p], sig ? sig + 5 : "(none)", expected);
		}
	}
}

struct key_case {
	const char *line;
	int result;
	uint8_t id;
	uint8_t secret_len;
	uint8_t first_byte;
};

static const struct key_case key_cases[] = {
	{"1 " HEX_32, 0, 1, 32, 0x00},
	{"255 " HEX_64, 0, 255, 64, 0x00},
	{"  7\t" HEX_32 "  \r", 0, 7, 32, 0x00},
	{"3 " "FF" HEX_32 "01", 0, 3, 34, 0xff},
	{"3 base64:" B64_48, 0, 3, 48, 0x00},
	{"4 base64:" B64URL_32, 0, 4, 32, 0xc8},
	{"4 base64:" B64STD_32, 0, 4, 32, 0xc8},
	{"# a comment", -ENODATA, 0, 0, 0},
	{"", -ENODATA, 0, 0, 0},
	{"   \t", -ENODATA, 0, 0, 0},
	{"0 " HEX_32, -EINVAL, 0, 0, 0},
	{"256 " HEX_32, -EINVAL, 0, 0, 0},
	{"01 " HEX_32, -EINVAL, 0, 0, 0},
	{"x " HEX_32, -EINVAL, 0, 0, 0},
	{"1 " HEX_32 "0", -EINVAL, 0, 0, 0},
	{"1 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e", -EINVAL, 0, 0, 0},
	{"1 " HEX_64 "00", -EINVAL, 0, 0, 0},
	{"1 g00102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", -EINVAL, 0, 0, 0},
	{"1", -EINVAL, 0, 0, 0},
	{"1 " HEX_32 " extra", -EINVAL, 0, 0, 0},
	{"1 base64:" B64_31, -EINVAL, 0, 0, 0},
	{"1 base64:!!!!", -EINVAL, 0, 0, 0},
	{"1 base64:yMnKy8zNzs_Q0dLT1NXW19jZ2tvc3d7f4OHi4+Tl5uc", -EINVAL, 0, 0, 0},
	{"1 base64:", -EINVAL, 0, 0, 0},
};

static void test_key_parse_table(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(key_cases); i++) {
		const struct key_case *c = &key_cases[i];
		size_t len = strlen(c->line);
		struct guard_buffer guard;
		struct url_sign_key key;
		int rc;

		memset(&key, 0xaa, sizeof(key));
		CU_ASSERT_EQUAL_FATAL(guard_buffer_place(&guard, c->line, len), 0);
		rc = url_sign_key_parse(guard.data, len, &key);
		guard_buffer_release(&guard);
		TEST_CHECK(rc == c->result, "'%s': %d, expected %d", c->line, rc, c->result);
		if (rc == 0 && c->result == 0)
			TEST_CHECK(key.id == c->id && key.secret_len == c->secret_len &&
					   key.secret[0] == c->first_byte,
				   "'%s': id %u, %u bytes, first 0x%02x", c->line, key.id, key.secret_len,
				   key.secret[0]);
		if (c->result == -EINVAL)
			TEST_CHECK(key.secret_len == 0 && key.secret[0] == 0, "'%s': secret not wiped", c->line);
	}
}

static void test_keyring_load(void)
{
	static const char good[] = "# rotation: 1 is retiring, 2 is current\n\n1 " HEX_32 "\n2 base64:" B64_48 "\n";
	static const char duplicate[] = "1 " HEX_32 "\n# again\n1 " HEX_64 "\n";
	static const char broken[] = "1 " HEX_32 "\n2 nothex\n";
	struct url_sign_keyring ring;
	struct url_sign_key key;
	char err[256];
	char many[32 * 80];
	size_t n = 0;

	engine_needed();
	url_sign_keyring_init(&ring);
	CU_ASSERT_EQUAL(url_sign_keyring_load(&ring, engine, good, sizeof(good) - 1, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(ring.count, 2);

	url_sign_keyring_init(&ring);
	CU_ASSERT_EQUAL(url_sign_keyring_load(&ring, engine, duplicate, sizeof(duplicate) - 1, err, sizeof(err)), -EEXIST);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "line 3"));

	url_sign_keyring_init(&ring);
	CU_ASSERT_EQUAL(url_sign_keyring_load(&ring, engine, broken, sizeof(broken) - 1, err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "line 2"));

	for (int id = 1; id <= URL_SIGN_KEYS_MAX + 1; id++)
		n += (size_t)snprintf(many + n, sizeof(many) - n, "%d " HEX_32 "\n", id);
	url_sign_keyring_init(&ring);
	CU_ASSERT_EQUAL(url_sign_keyring_load(&ring, engine, many, n, err, sizeof(err)), -ENOSPC);
	CU_ASSERT_EQUAL(ring.count, URL_SIGN_KEYS_MAX);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "line 17"));

	key_from_bytes(&key, 0, 32, 1);
	CU_ASSERT_EQUAL(url_sign_keyring_add(&ring, engine, &key), -EINVAL);
	key_from_bytes(&key, 9, 31, 1);
	CU_ASSERT_EQUAL(url_sign_keyring_add(&ring, engine, &key), -EINVAL);
	url_sign_key_wipe(&key);
	CU_ASSERT_EQUAL(key.secret_len, 0);
}

/* ------------------------------------------------------------------------------------------ */
/* Verification table. */

#define PATH "/video/a.m4s"
#define NOW 1700000000
#define EXP 1700003600
#define EXP_TEXT "1700003600"

enum mutation {
	KEEP = 0,
	REPLACE,          /* find -> replace in the query */
	OVERRIDE,         /* replace the whole query */
	SIG_BAD_CHAR,     /* a '+' in the signature */
	SIG_SHORT,        /* 42 characters */
	SIG_LONG,         /* 44 characters */
	SIG_TRAILING_BITS,/* unused bits of the last character set */
	SIG_FLIP,         /* another valid character */
};

struct verify_case {
	const char *description;
	uint8_t kid;              /* minting key */
	int64_t expires;
	const char *prefix;       /* minted pfx, NULL: none */
	enum mutation mutation;
	const char *find, *replace;
	const char *verify_path;  /* NULL: PATH */
	const char *client;       /* address text */
	int64_t now;
	uint32_t skew;
	enum url_sign_status expected;
};

static const struct verify_case verify_cases[] = {
	{"valid", 1, EXP, NULL, KEEP, NULL, NULL, NULL, "198.18.0.7", NOW, 0, URL_SIGN_OK},
	{"valid with the second key", 2, EXP, NULL, KEEP, NULL, NULL, NULL, "198.18.0.7", NOW, 0, URL_SIGN_OK},
	{"valid at the expiry second", 1, EXP, NULL, KEEP, NULL, NULL, NULL, "198.18.0.7", EXP, 0, URL_SIGN_OK},
	{"expired", 1, EXP, NULL, KEEP, NULL, NULL, NULL, "198.18.0.7", EXP + 1, 0, URL_SIGN_EXPIRED},
	{"expired within the skew", 1, EXP, NULL, KEEP, NULL, NULL, NULL, "198.18.0.7", EXP + 5, 10, URL_SIGN_OK},
	{"expired beyond the skew", 1, EXP, NULL, KEEP, NULL, NULL, NULL, "198.18.0.7", EXP + 5, 4, URL_SIGN_EXPIRED},
	{"largest expiry and skew", 1, INT64_MAX, NULL, KEEP, NULL, NULL, NULL, "198.18.0.7", NOW, UINT32_MAX, URL_SIGN_OK},
	{"client inside IPv4 prefix", 1, EXP, "198.18.0.0/24", KEEP, NULL, NULL, NULL, "198.18.0.7", NOW, 0, URL_SIGN_OK},
	{"client outside IPv4 prefix", 1, EXP, "198.18.0.0/24", KEEP, NULL, NULL, NULL, "198.18.1.7", NOW, 0, URL_SIGN_WRONG_CLIENT},
	{"IPv6 client, IPv4 prefix", 1, EXP, "198.18.0.0/24", KEEP, NULL, NULL, NULL, "fd5c::7", NOW, 0, URL_SIGN_WRONG_CLIENT},
	{"client inside IPv6 prefix", 1, EXP, "fd5c::/64", KEEP, NULL, NULL, NULL, "fd5c::1234:5678", NOW, 0, URL_SIGN_OK},
	{"client outside IPv6 prefix", 1, EXP, "fd5c::/64", KEEP, NULL, NULL, NULL, "fd5c:0:0:1::1", NOW, 0, URL_SIGN_WRONG_CLIENT},
	{"IPv4 client, IPv6 prefix", 1, EXP, "fd5c::/64", KEEP, NULL, NULL, NULL, "198.18.0.7", NOW, 0, URL_SIGN_WRONG_CLIENT},
	{"prefix length not on a byte, inside", 1, EXP, "198.18.0.128/25", KEEP, NULL, NULL, NULL, "198.18.0.200", NOW, 0, URL_SIGN_OK},
	{"prefix length not on a byte, outside", 1, EXP, "198.18.0.128/25", KEEP, NULL, NULL, NULL, "198.18.0.127", NOW, 0, URL_SIGN_WRONG_CLIENT},
	{"prefix /0", 1, EXP, "0.0.0.0/0", KEEP, NULL, NULL, NULL, "203.0.113.9", NOW, 0, URL_SIGN_OK},
	{"prefix /32", 1, EXP, "198.18.0.7/32", KEEP, NULL, NULL, NULL, "198.18.0.7", NOW, 0, URL_SIGN_OK},
	{"prefix /128, other address", 1, EXP, "fd5c::1/128", KEEP, NULL, NULL, NULL, "fd5c::2", NOW, 0, URL_SIGN_WRONG_CLIENT},
	{"expiry checked before the client", 1, EXP, "198.18.0.0/24", KEEP, NULL, NULL, NULL, "198.18.1.7", EXP + 1, 0, URL_SIGN_EXPIRED},
	{"percent-encoded prefix", 1, EXP, "fd5c::/64", REPLACE, "pfx=fd5c::/64", "pfx=fd5c%3A%3A%2F64", NULL, "fd5c::1", NOW, 0, URL_SIGN_OK},
	{"percent-encoded prefix, lowercase", 1, EXP, "fd5c::/64", REPLACE, "pfx=fd5c::/64", "pfx=fd5c%3a%3a%2f64", NULL, "fd5c::1", NOW, 0, URL_SIGN_OK},

	{"wrong key id", 1, EXP, NULL, REPLACE, "kid=1", "kid=9", NULL, "198.18.0.7", NOW, 0, URL_SIGN_UNKNOWN_KEY},
	{"other key's id", 1, EXP, NULL, REPLACE, "kid=1", "kid=2", NULL, "198.18.0.7", NOW, 0, URL_SIGN_BAD_SIGNATURE},
	{"tampered path", 1, EXP, NULL, KEEP, NULL, NULL, "/video/b.m4s", "198.18.0.7", NOW, 0, URL_SIGN_BAD_SIGNATURE},
	{"tampered path, prefix of it", 1, EXP, NULL, KEEP, NULL, NULL, "/video/a.m4", "198.18.0.7", NOW, 0, URL_SIGN_BAD_SIGNATURE},
	{"tampered expiry", 1, EXP, NULL, REPLACE, "exp=" EXP_TEXT, "exp=1700003601", NULL, "198.18.0.7", NOW, 0, URL_SIGN_BAD_SIGNATURE},
	{"tampered prefix", 1, EXP, "198.18.0.0/24", REPLACE, "pfx=198.18.0.0/24", "pfx=198.18.0.0/16", NULL, "198.18.0.7", NOW, 0, URL_SIGN_BAD_SIGNATURE},
	{"prefix removed", 1, EXP, "198.18.0.0/24", REPLACE, "&pfx=198.18.0.0/24", "", NULL, "198.18.1.7", NOW, 0, URL_SIGN_BAD_SIGNATURE},
	{"prefix added", 1, EXP, NULL, REPLACE, "&kid=1", "&kid=1&pfx=0.0.0.0/0", NULL, "198.18.0.7", NOW, 0, URL_SIGN_BAD_SIGNATURE},
	{"tampered and expired", 1, EXP, NULL, KEEP, NULL, NULL, "/video/b.m4s", "198.18.0.7", EXP + 100, 0, URL_SIGN_BAD_SIGNATURE},
	{"another valid signature character", 1, EXP, NULL, SIG_FLIP, NULL, NULL, NULL, "198.18.0.7", NOW, 0, URL_SIGN_BAD_SIGNATURE},

	{"no parameters", 1, EXP, NULL, OVERRIDE, NULL, "", NULL, "198.18.0.7", NOW, 0, URL_SIGN_MISSING},
	{"other parameters only", 1, EXP, NULL, OVERRIDE, NULL, "a=1&b=2", NULL, "198.18.0.7", NOW, 0, URL_SIGN_MISSING},
	{"signature missing", 1, EXP, NULL, OVERRIDE, NULL, "exp=" EXP_TEXT "&kid=1", NULL, "198.18.0.7", NOW, 0, URL_SIGN_MISSING},
	{"expiry missing", 1, EXP, NULL, REPLACE, "exp=" EXP_TEXT "&", "", NULL, "198.18.0.7", NOW, 0, URL_SIGN_MALFORMED},
	{"key id missing", 1, EXP, NULL, REPLACE, "&kid=1", "", NULL, "198.18.0.7", NOW, 0, URL_SIGN_MALFORMED},
	{"signature with a '+'", 1, EXP, NULL, SIG_BAD_CHAR, NULL, NULL, NULL, "198.18.0.7", NOW, 0, URL_SIGN_MALFORMED},
	{"signature too short", 1, EXP, NULL, SIG_SHORT, NULL, NULL, NULL, "198.18.0.7", NOW, 0, URL_SIGN_MALFORMED},
	{"signature too long", 1, EXP, NULL, SIG_LONG, NULL, NULL, NULL, "198.18.0.7", NOW, 0, URL_SIGN_MALFORMED},
	{"signature with unused bits set", 1, EXP, NULL, SIG_TRAILING_BITS, NULL, NULL, NULL, "198.18.0.7", NOW, 0, URL_SIGN_MALFORMED},
	{"empty signature", 1, EXP, NULL, OVERRIDE, NULL, "exp=" EXP_TEXT "&kid=1&sig=", NULL, "198.18.0.7", NOW, 0, URL_SIGN_MALFORMED},
	{"expiry twice", 1, EXP, NULL, REPLACE, "&kid=1", "&kid=1&exp=" EXP_TEXT, NULL, "198.18.0.7", NOW, 0, URL_SIGN_MALFORMED},
	{"key id twice", 1, EXP, NULL, REPLACE, "&kid=1", "&kid=1&kid=1", NULL, "198.18.0.7", NOW, 0, URL_SIGN_MALFORMED},
	{"expiry with a leading zero", 1, EXP, NULL, REPLACE, "exp=" EXP_TEXT, "exp=0" EXP_TEXT, NULL, "198.18.0.7", NOW, 0, URL_SIGN_MALFORMED},
	{"expiry with a sign", 1, EXP, NULL, REPLACE, "exp=" EXP_TEXT, "exp=+" EXP_TEXT, NULL, "198.18.0.7", NOW, 0, URL_SIGN_MALFORMED},
	{"expiry of 20 digits", 1, EXP, NULL, REPLACE, "exp=" EXP_TEXT, "exp=10000000000000000000", NULL, "198.18.0.7", NOW, 0, URL_SIGN_MALFORMED},
	{"expiry above INT64_MAX", 1, EXP, NULL, REPLACE, "exp=" EXP_TEXT, "exp=9223372036854775808", NULL, "198.18.0.7", NOW, 0, URL_SIGN_MALFORMED},
	{"key id 0", 1, EXP, NULL, REPLACE, "kid=1", "kid=0", NULL, "198.18.0.7", NOW, 0, URL_SIGN_MALFORMED},
	{"key id 256", 1, EXP, NULL, REPLACE, "kid=1", "kid=256", NULL, "198.18.0.7", NOW, 0, URL_SIGN_MALFORMED},
	{"key id with a leading zero", 1, EXP, NULL, REPLACE, "kid=1", "kid=01", NULL, "198.18.0.7", NOW, 0, URL_SIGN_MALFORMED},
	{"parameter names are case-sensitive", 1, EXP, NULL, REPLACE, "exp=", "EXP=", NULL, "198.18.0.7", NOW, 0, URL_SIGN_MALFORMED},
	{"prefix with host bits", 1, EXP, "198.18.0.0/24", REPLACE, "pfx=198.18.0.0/24", "pfx=198.18.0.1/24", NULL, "198.18.0.7", NOW, 0, URL_SIGN_MALFORMED},
	{"prefix not an address", 1, EXP, "198.18.0.0/24", REPLACE, "pfx=198.18.0.0/24", "pfx=banana/24", NULL, "198.18.0.7", NOW, 0, URL_SIGN_MALFORMED},
	{"prefix without length", 1, EXP, "198.18.0.0/24", REPLACE, "pfx=198.18.0.0/24", "pfx=198.18.0.0", NULL, "198.18.0.7", NOW, 0, URL_SIGN_MALFORMED},
	{"prefix length too long", 1, EXP, "198.18.0.0/24", REPLACE, "pfx=198.18.0.0/24", "pfx=198.18.0.0/33", NULL, "198.18.0.7", NOW, 0, URL_SIGN_MALFORMED},
	{"prefix length leading zero", 1, EXP, "198.18.0.0/24", REPLACE, "pfx=198.18.0.0/24", "pfx=198.18.0.0/024", NULL, "198.18.0.7", NOW, 0, URL_SIGN_MALFORMED},
	{"empty prefix", 1, EXP, "198.18.0.0/24", REPLACE, "pfx=198.18.0.0/24", "pfx=", NULL, "198.18.0.7", NOW, 0, URL_SIGN_MALFORMED},
	{"encoded NUL in prefix", 1, EXP, "198.18.0.0/24", REPLACE, "pfx=198.18.0.0/24", "pfx=198.18.0.0%00/24", NULL, "198.18.0.7", NOW, 0, URL_SIGN_MALFORMED},
	{"broken escape in prefix", 1, EXP, "198.18.0.0/24", REPLACE, "pfx=198.18.0.0/24", "pfx=198.18.0.0%2", NULL, "198.18.0.7", NOW, 0, URL_SIGN_MALFORMED},

	{"other parameters ignored", 1, EXP, NULL, REPLACE, "&kid=1", "&session=42&kid=1&", NULL, "198.18.0.7", NOW, 0, URL_SIGN_OK},
	{"look-alike parameter names ignored", 1, EXP, NULL, REPLACE, "&kid=1", "&kid2=7&kidx=3&sig_=4&kid=1", NULL, "198.18.0.7", NOW, 0, URL_SIGN_OK},
	{"empty parameters ignored", 1, EXP, NULL, REPLACE, "&kid=1", "&&kid=1&", NULL, "198.18.0.7", NOW, 0, URL_SIGN_OK},
};

static int client_parse(const char *text, struct url_sign_client *client)
{
	memset(client, 0, sizeof(*client));
	client->family = strchr(text, ':') ? AF_INET6 : AF_INET;
	return inet_pton(client->family, text, client->address) == 1 ? 0 : -EINVAL;
}

static void string_replace(char *text, size_t size, const char *find, const char *replace)
{
	char *at = strstr(text, find);
	char rest[1024];

	CU_ASSERT_PTR_NOT_NULL_FATAL(at);
	snprintf(rest, sizeof(rest), "%s", at + strlen(find));
	snprintf(at, size - (size_t)(at - text), "%s%s", replace, rest);
}

static void ring_with_keys(struct url_sign_keyring *ring, const uint8_t *ids, size_t count)
{
	url_sign_keyring_init(ring);
	for (size_t i = 0; i < count; i++) {
		struct url_sign_key key;

		key_from_bytes(&key, ids[i], 32 + ids[i], (uint8_t)(ids[i] * 13));
		CU_ASSERT_EQUAL_FATAL(url_sign_keyring_add(ring, engine, &key), 0);
		url_sign_key_wipe(&key);
	}
}

static void mutate(const struct verify_case *c, char *query, size_t size)
{
	char *sig = strstr(query, "sig=");
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

	if (c->mutation >= SIG_BAD_CHAR)
		CU_ASSERT_PTR_NOT_NULL_FATAL(sig);
	switch (c->mutation) {
	case KEEP:
		break;
	case REPLACE:
		string_replace(query, size, c->find, c->replace);
		break;
	case OVERRIDE:
		snprintf(query, size, "%s", c->replace);
		break;
	case SIG_BAD_CHAR:
		sig[4 + 10] = '+';
		break;
	case SIG_SHORT:
		sig[4 + URL_SIGN_SIGNATURE_LEN - 1] = '\0';
		break;
	case SIG_LONG:
		strcat(query, "A");
		break;
	case SIG_TRAILING_BITS: {
		char *last = &sig[4 + URL_SIGN_SIGNATURE_LEN - 1];
		int value = (int)(strchr(alphabet, *last) - alphabet);

		*last = alphabet[value | 1];
		break;
	}
	case SIG_FLIP: {
		char *c10 = &sig[4 + 10];

		*c10 = *c10 == 'A' ? 'B' : 'A';
		break;
	}
	}
}

static void test_verify_table(void)
{
	static const uint8_t ids[] = {1, 2};
	struct url_sign_keyring ring;

	engine_needed();
	ring_with_keys(&ring, ids, ARRAY_SIZE(ids));
	for (size_t i = 0; i < ARRAY_SIZE(verify_cases); i++) {
		const struct verify_case *c = &verify_cases[i];
		const char *path = c->verify_path ? c->verify_path : PATH;
		struct url_sign_client client;
		char query[1024];
		struct guard_buffer guard;
		enum url_sign_status status;
		int rc;

		rc = url_sign_mint(&ring, engine, c->kid, PATH, strlen(PATH), (time_t)c->expires, c->prefix,
				   query, sizeof(query));
		TEST_CHECK(rc > 0, "%s: mint returned %d", c->description, rc);
		if (rc <= 0)
			continue;
		mutate(c, query, sizeof(query));
		CU_ASSERT_EQUAL_FATAL(client_parse(c->client, &client), 0);
		CU_ASSERT_EQUAL_FATAL(guard_buffer_place(&guard, query, strlen(query)), 0);
		status = url_sign_verify(&ring, engine, path, strlen(path), guard.data, strlen(query), &client,
					 (time_t)c->now, c->skew);
		guard_buffer_release(&guard);
		TEST_CHECK(status == c->expected, "%s: '%s' gave %s, expected %s", c->description, query,
			   url_sign_status_name(status), url_sign_status_name(c->expected));
	}
}

/* Every truncation of a valid query is refused, none reads past the end. */
static void test_verify_truncations(void)
{
	static const uint8_t ids[] = {1};
	struct url_sign_keyring ring;
	struct url_sign_client client;
	char query[URL_SIGN_QUERY_MAX];
	int len;

	engine_needed();
	ring_with_keys(&ring, ids, 1);
	client_parse("198.18.0.7", &client);
	len = url_sign_mint(&ring, engine, 1, PATH, strlen(PATH), EXP, "198.18.0.0/24", query, sizeof(query));
	CU_ASSERT_FATAL(len > 0);
	for (int n = 0; n < len; n++) {
		struct guard_buffer guard;
		enum url_sign_status status;

		CU_ASSERT_EQUAL_FATAL(guard_buffer_place(&guard, query, (size_t)n), 0);
		status = url_sign_verify(&ring, engine, PATH, strlen(PATH), guard.data, (size_t)n, &client, NOW, 0);
		guard_buffer_release(&guard);
		TEST_CHECK(status != URL_SIGN_OK, "prefix of %d bytes verified", n);
	}
}

static void test_verify_long_path(void)
{
	static const uint8_t ids[] = {1};
	static char path[URL_SIGN_PATH_MAX + 2];
	struct url_sign_keyring ring;
	struct url_sign_client client;
	char query[URL_SIGN_QUERY_MAX];

	engine_needed();
	ring_with_keys(&ring, ids, 1);
	client_parse("198.18.0.7", &client);
	memset(path, 'a', sizeof(path));
	path[0] = '/';
	CU_ASSERT(url_sign_mint(&ring, engine, 1, path, URL_SIGN_PATH_MAX, EXP, NULL, query, sizeof(query)) > 0);
	CU_ASSERT_EQUAL(url_sign_verify(&ring, engine, path, URL_SIGN_PATH_MAX, query, strlen(query), &client, NOW, 0),
			URL_SIGN_OK);
	CU_ASSERT_EQUAL(url_sign_mint(&ring, engine, 1, path, URL_SIGN_PATH_MAX + 1, EXP, NULL, query, sizeof(query)),
			-EINVAL);
	CU_ASSERT_EQUAL(url_sign_verify(&ring, engine, path, URL_SIGN_PATH_MAX + 1, query, strlen(query), &client, NOW, 0),
			URL_SIGN_MALFORMED);
	CU_ASSERT_EQUAL(url_sign_mint(&ring, engine, 3, path, 5, EXP, NULL, query, sizeof(query)), -ENOENT);
	CU_ASSERT_EQUAL(url_sign_mint(&ring, engine, 1, path, 5, EXP, "10.0.0.1/8", query, sizeof(query)), -EINVAL);
	CU_ASSERT_EQUAL(url_sign_mint(&ring, engine, 1, path, 5, -1, NULL, query, sizeof(query)), -EINVAL);
	CU_ASSERT_EQUAL(url_sign_mint(&ring, engine, 1, path, 5, EXP, NULL, query, 10), -ENOSPC);
}

/* Rotation: URLs signed with the retiring key verify while it is in the ring, and stop when
 * the ring without it is published; URLs with the new key verify throughout. */
static void test_rotation(void)
{
	static const uint8_t before_ids[] = {1, 2}, after_ids[] = {2, 3};
	struct url_sign_keyring before, after;
	struct url_sign_client client;
	char old_query[URL_SIGN_QUERY_MAX], new_query[URL_SIGN_QUERY_MAX];

	engine_needed();
	ring_with_keys(&before, before_ids, 2);
	ring_with_keys(&after, after_ids, 2);
	client_parse("198.18.0.7", &client);
	CU_ASSERT_FATAL(url_sign_mint(&before, engine, 1, PATH, strlen(PATH), EXP, NULL, old_query, sizeof(old_query)) > 0);
	CU_ASSERT_FATAL(url_sign_mint(&before, engine, 2, PATH, strlen(PATH), EXP, NULL, new_query, sizeof(new_query)) > 0);
	CU_ASSERT_EQUAL(url_sign_verify(&before, engine, PATH, strlen(PATH), old_query, strlen(old_query), &client, NOW, 0), URL_SIGN_OK);
	CU_ASSERT_EQUAL(url_sign_verify(&before, engine, PATH, strlen(PATH), new_query, strlen(new_query), &client, NOW, 0), URL_SIGN_OK);
	CU_ASSERT_EQUAL(url_sign_verify(&after, engine, PATH, strlen(PATH), old_query, strlen(old_query), &client, NOW, 0), URL_SIGN_UNKNOWN_KEY);
	CU_ASSERT_EQUAL(url_sign_verify(&after, engine, PATH, strlen(PATH), new_query, strlen(new_query), &client, NOW, 0), URL_SIGN_OK);
}

static void test_statuses(void)
{
	static const struct {
		enum url_sign_status status;
		unsigned http;
	} map[] = {
		{URL_SIGN_OK, 0},           {URL_SIGN_MISSING, 403},       {URL_SIGN_MALFORMED, 403},
		{URL_SIGN_UNKNOWN_KEY, 403}, {URL_SIGN_BAD_SIGNATURE, 403}, {URL_SIGN_EXPIRED, 410},
		{URL_SIGN_WRONG_CLIENT, 403},
	};

	for (size_t i = 0; i < ARRAY_SIZE(map); i++) {
		TEST_CHECK(url_sign_status_http(map[i].status) == map[i].http, "%s answers %u",
			   url_sign_status_name(map[i].status), url_sign_status_http(map[i].status));
		TEST_CHECK(strcmp(url_sign_status_name(map[i].status), "?") != 0, "status %d has a name",
			   map[i].status);
	}
	url_sign_engine_free(NULL);
}

static void test_verify_allocates_nothing(void)
{
	static const uint8_t ids[] = {1, 2};
	struct url_sign_keyring ring;
	struct url_sign_client client;
	char query[URL_SIGN_QUERY_MAX];
	uint64_t before;
	int ok = 0;

	engine_needed();
	ring_with_keys(&ring, ids, 2);
	client_parse("fd5c::9", &client);
	CU_ASSERT_FATAL(url_sign_mint(&ring, engine, 2, PATH, strlen(PATH), EXP, "fd5c::/64", query, sizeof(query)) > 0);
	CU_ASSERT_TRUE_FATAL(test_alloc_counter_works());
	before = test_alloc_counter();
	for (int i = 0; i < 1000; i++)
		ok += url_sign_verify(&ring, engine, PATH, strlen(PATH), query, strlen(query), &client, NOW, 0) == URL_SIGN_OK;
	CU_ASSERT_EQUAL(test_alloc_counter(), before);
	CU_ASSERT_EQUAL(ok, 1000);
}

/* ------------------------------------------------------------------------------------------ */
/* sluice-sign. */

static char key_file[64];

static int run(const char *command, char *out, size_t out_size)
{
	FILE *p = popen(command, "r");
	size_t n = 0;
	int status;

	if (!p)
		return -1;
	if (out) {
		n = fread(out, 1, out_size - 1, p);
		out[n] = '\0';
		if (n && out[n - 1] == '\n')
			out[n - 1] = '\0';
	} else {
		char sink[256];

		while (fread(sink, 1, sizeof(sink), p) > 0)
			;
	}
	status = pclose(p);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void verify_printed_url(const char *printed, const struct url_sign_keyring *ring, const char *client_text,
			       time_t now, enum url_sign_status expected)
{
	struct http_limits limits = http_limits_default();
	static struct http_request req;
	struct http_parser state;
	struct url_sign_client client;
	char head[1024], path[URL_SIGN_PATH_MAX + 1];
	int len = snprintf(head, sizeof(head), "GET %s HTTP/1.1\r\nHost: edge\r\n\r\n", printed);
	int path_len;
	enum url_sign_status status;

	http_parser_init(&state);
	CU_ASSERT_EQUAL_FATAL(http_parse_request(&state, head, (size_t)len, &limits, &req), len);
	path_len = http_path_normalize(req.path.data, req.path.len, path, sizeof(path));
	CU_ASSERT_FATAL(path_len > 0);
	client_parse(client_text, &client);
	status = url_sign_verify(ring, engine, path, (size_t)path_len, req.query.data, req.query.len, &client, now, 0);
	TEST_CHECK(status == expected, "'%s' from %s at %lld: %s, expected %s", printed, client_text,
		   (long long)now, url_sign_status_name(status), url_sign_status_name(expected));
}

static void test_sluice_sign(void)
{
	const char *tool = getenv("SLUICE_SIGN");
	static const char keys[] = "# sluice-sign test keys\n1 " HEX_32 "\n2 base64:" B64_48 "\n";
	struct url_sign_keyring ring;
	static const char expected_start[] = "/video/seg%201.m4s?exp=1700003600&kid=2&pfx=198.18.0.0/24&sig=";
	char command[1024], printed[1024], err[256];
	FILE *f;
	int fd;

	engine_needed();
	if (!tool) {
		CU_FAIL("SLUICE_SIGN is not set: run through meson test");
		return;
	}
	snprintf(key_file, sizeof(key_file), "/tmp/sluice-sign-test-XXXXXX");
	fd = mkstemp(key_file);
	CU_ASSERT_FATAL(fd >= 0);
	f = fdopen(fd, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(keys, f);
	fclose(f);
	url_sign_keyring_init(&ring);
	CU_ASSERT_EQUAL_FATAL(url_sign_keyring_load(&ring, engine, keys, sizeof(keys) - 1, err, sizeof(err)), 0);

	/* A path that needs normalizing and percent-encoding, with a client prefix. */
	snprintf(command, sizeof(command),
		 "'%s' --key-file '%s' --kid 2 --path '/video/./seg 1.m4s' --ttl 3600 --now 1700000000 "
		 "--prefix 198.18.0.0/24", tool, key_file);
	CU_ASSERT_EQUAL(run(command, printed, sizeof(printed)), 0);
	TEST_CHECK(strncmp(printed, expected_start, strlen(expected_start)) == 0 &&
			   strlen(printed) == strlen(expected_start) + URL_SIGN_SIGNATURE_LEN,
		   "printed '%s'", printed);
	verify_printed_url(printed, &ring, "198.18.0.9", 1700000100, URL_SIGN_OK);
	verify_printed_url(printed, &ring, "198.18.0.9", 1700003601, URL_SIGN_EXPIRED);
	verify_printed_url(printed, &ring, "198.18.1.9", 1700000100, URL_SIGN_WRONG_CLIENT);

	/* IPv6, the hex key, no --now (current time): valid now. */
	snprintf(command, sizeof(command), "'%s' --key-file '%s' --kid 1 --path /a.m3u8 --ttl 60 --prefix fd5c::/64",
		 tool, key_file);
	CU_ASSERT_EQUAL(run(command, printed, sizeof(printed)), 0);
	verify_printed_url(printed, &ring, "fd5c::77", time(NULL), URL_SIGN_OK);

	/* Exit codes: usage 2, failures 1. */
	snprintf(command, sizeof(command), "'%s' --key-file '%s' --kid 1 --ttl 60 2>/dev/null", tool, key_file);
	CU_ASSERT_EQUAL(run(command, NULL, 0), 2);
	snprintf(command, sizeof(command), "'%s' --bogus 2>/dev/null", tool);
	CU_ASSERT_EQUAL(run(command, NULL, 0), 2);
	snprintf(command, sizeof(command), "'%s' --key-file '%s' --kid 7 --path /a --ttl 60 2>/dev/null", tool, key_file);
	CU_ASSERT_EQUAL(run(command, NULL, 0), 1);
	snprintf(command, sizeof(command), "'%s' --key-file '%s' --kid 1 --path /a --ttl 60 --prefix 10.0.0.1/8 2>/dev/null",
		 tool, key_file);
	CU_ASSERT_EQUAL(run(command, NULL, 0), 1);
	snprintf(command, sizeof(command), "'%s' --key-file '%s' --kid 1 --path /../a --ttl 60 2>/dev/null", tool, key_file);
	CU_ASSERT_EQUAL(run(command, NULL, 0), 2);
	snprintf(command, sizeof(command), "'%s' --key-file /nonexistent --kid 1 --path /a --ttl 60 2>/dev/null", tool);
	CU_ASSERT_EQUAL(run(command, NULL, 0), 1);
	unlink(key_file);
}

static void test_engine_release(void)
{
	url_sign_engine_free(engine);
	engine = NULL;
}

void test_register(void)
{
	static const struct test_case cases[] = {
		{"HMAC equals OpenSSL's over the documented message", test_hmac_against_openssl},
		{"key file lines", test_key_parse_table},
		{"key ring loading", test_keyring_load},
		{"verification table", test_verify_table},
		{"truncated queries", test_verify_truncations},
		{"path length limit and mint errors", test_verify_long_path},
		{"key rotation", test_rotation},
		{"statuses", test_statuses},
		{"no allocation in verification", test_verify_allocates_nothing},
		{"sluice-sign output verifies", test_sluice_sign},
		{"engine release", test_engine_release},
		{NULL, NULL},
	};
	test_add_suite("url_sign", cases);
}
