/* SPDX-License-Identifier: BSD-3-Clause
 *
 * url_sign.c: signed expiring URLs (token format, statuses and costs in url_sign.h).
 *
 * Control path: engine creation, key file parsing, key ring building (HMAC state
 * precomputation). Hot path: url_sign_verify and what it calls (query scan, message build,
 * one ipsec-mb HMAC job, constant-time compare). url_sign_mint shares the message and HMAC
 * code with verification so that the tool and the data plane cannot disagree.
 */
#define NO_COMPAT_IMB_API_053
#include "url_sign.h"

#include <arpa/inet.h>
#include <errno.h>
#include <intel-ipsec-mb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "compiler.h"
#include "text.h"

#define SHA256_BLOCK_LEN 64

/* ------------------------------------------------------------------------------------------ */
/* Engine and HMAC. */

struct IMB_MGR *url_sign_engine_create(void)
{
	IMB_MGR *engine = alloc_mb_mgr(0);
	IMB_ARCH arch;

	if (!engine) {
		errno = ENOMEM;
		return NULL;
	}
	init_mb_mgr_auto(engine, &arch);
	if (imb_get_errno(engine) != 0) {
		free_mb_mgr(engine);
		errno = ENOTSUP;
		return NULL;
	}
	return engine;
}

void url_sign_engine_free(struct IMB_MGR *engine)
{
	if (engine)
		free_mb_mgr(engine);
}

/* HMAC-SHA256 with precomputed states: one job, submitted and flushed. Returns 0 or -EIO. */
static int hmac_sha256(IMB_MGR *engine, const struct url_sign_ring_entry *key,
		       const uint8_t *message, size_t len, uint8_t tag[URL_SIGN_DIGEST_LEN])
{
	IMB_JOB *job = IMB_GET_NEXT_JOB(engine), *done;

	job->enc_keys = NULL;
	job->dec_keys = NULL;
	job->key_len_in_bytes = 0;
	job->src = message;
	job->dst = NULL;
	job->cipher_start_src_offset_in_bytes = 0;
	job->msg_len_to_cipher_in_bytes = 0;
	job->hash_start_src_offset_in_bytes = 0;
	job->msg_len_to_hash_in_bytes = len;
	job->iv = NULL;
	job->iv_len_in_bytes = 0;
	job->auth_tag_output = tag;
	job->auth_tag_output_len_in_bytes = URL_SIGN_DIGEST_LEN;
	job->u.HMAC._hashed_auth_key_xor_ipad = key->inner_state;
	job->u.HMAC._hashed_auth_key_xor_opad = key->outer_state;
	job->cipher_mode = IMB_CIPHER_NULL;
	job->cipher_direction = IMB_DIR_ENCRYPT;
	job->hash_alg = IMB_AUTH_HMAC_SHA_256;
	job->chain_order = IMB_ORDER_HASH_CIPHER;
	job->user_data = NULL;

	done = IMB_SUBMIT_JOB(engine);
	if (!done)
		done = IMB_FLUSH_JOB(engine);
	if (done != job || done->status != IMB_STATUS_COMPLETED)
		return -EIO;
	return 0;
}

static void hmac_key_prepare(IMB_MGR *engine, const uint8_t *secret, size_t len,
			     struct url_sign_ring_entry *entry)
{
	uint8_t block[SHA256_BLOCK_LEN] __attribute__((aligned(16)));

	memset(block, 0x36, sizeof(block));
	for (size_t i = 0; i < len; i++)
		block[i] ^= secret[i];
	IMB_SHA256_ONE_BLOCK(engine, block, entry->inner_state);
	memset(block, 0x5c, sizeof(block));
	for (size_t i = 0; i < len; i++)
		block[i] ^= secret[i];
	IMB_SHA256_ONE_BLOCK(engine, block, entry->outer_state);
	explicit_bzero(block, sizeof(block));
}

static bool equal_constant_time(const uint8_t *a, const uint8_t *b, size_t len)
{
	uint8_t difference = 0;

	for (size_t i = 0; i < len; i++) {
		difference |= a[i] ^ b[i];
		/* Keep the compiler from turning the loop into an early exit. */
		__asm__ volatile("" : "+r"(difference));
	}
	return difference == 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Encodings. */

/* Value of a base64 character; url_safe selects "-_" over "+/". -1 when not in the alphabet. */
static int base64_value(char c, bool url_safe)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == (url_safe ? '-' : '+'))
		return 62;
	if (c == (url_safe ? '_' : '/'))
		return 63;
	return -1;
}

/* Decodes unpadded base64 of in[0..len) into out; the unused low bits of the last character
 * must be zero (one encoding per value). Returns the bytes written or -EINVAL. */
static int base64_decode(const char *in, size_t len, bool url_safe, uint8_t *out, size_t out_size)
{
	uint32_t bits = 0;
	unsigned bit_count = 0;
	size_t n = 0;

	if (len % 4 == 1)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		int v = base64_value(in[i], url_safe);

		if (v < 0)
			return -EINVAL;
		bits = bits << 6 | (uint32_t)v;
		bit_count += 6;
		if (bit_count >= 8) {
			bit_count -= 8;
			if (n == out_size)
				return -EINVAL;
			out[n++] = (uint8_t)(bits >> bit_count);
			bits &= (1u << bit_count) - 1;
		}
	}
	if (bits != 0)
		return -EINVAL;
	return (int)n;
}

static size_t base64url_encode(const uint8_t *in, size_t len, char *out)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	uint32_t bits = 0;
	unsigned bit_count = 0;
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		bits = bits << 8 | in[i];
		bit_count += 8;
		while (bit_count >= 6) {
			bit_count -= 6;
			out[n++] = alphabet[(bits >> bit_count) & 63];
		}
	}
	if (bit_count)
		out[n++] = alphabet[(bits << (6 - bit_count)) & 63];
	return n;
}

/* Canonical decimal (no sign, no leading zero unless "0") of at most max_digits digits. */
static bool decimal_parse(const char *s, size_t len, size_t max_digits, uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0 || len > max_digits || (len > 1 && s[0] == '0'))
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return true;
}

static size_t decimal_format(uint64_t v, char *out)
{
	char digits[20];
	size_t n = 0;

	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (size_t i = 0; i < n; i++)
		out[i] = digits[n - 1 - i];
	return n;
}

/* ------------------------------------------------------------------------------------------ */
/* Client prefixes. */

struct client_prefix {
	int family;
	uint8_t address[16];
	unsigned length; /* bits */
};

static bool prefix_parse(const char *text, size_t len, struct client_prefix *prefix)
{
	char address[URL_SIGN_PREFIX_MAX + 1];
	const char *slash = memchr(text, '/', len);
	size_t address_len;
	uint64_t length;
	unsigned address_bits;

	if (!slash || len > URL_SIGN_PREFIX_MAX)
		return false;
	address_len = (size_t)(slash - text);
	if (!decimal_parse(slash + 1, len - address_len - 1, 3, &length))
		return false;
	memcpy(address, text, address_len);
	address[address_len] = '\0';
	memset(prefix->address, 0, sizeof(prefix->address));
	if (memchr(address, ':', address_len)) {
		prefix->family = AF_INET6;
		address_bits = 128;
	} else {
		prefix->family = AF_INET;
		address_bits = 32;
	}
	if (length > address_bits || inet_pton(prefix->family, address, prefix->address) != 1)
		return false;
	prefix->length = (unsigned)length;
	/* Host bits must be zero: one spelling per prefix, and no "10.0.0.7/8" surprises. */
	for (unsigned bit = prefix->length; bit < address_bits; bit++)
		if (prefix->address[bit / 8] & (0x80 >> (bit % 8)))
			return false;
	return true;
}

static bool prefix_contains(const struct client_prefix *prefix, const struct url_sign_client *client)
{
	unsigned whole = prefix->length / 8, rest = prefix->length % 8;

	if (client->family != prefix->family)
		return false;
	if (memcmp(prefix->address, client->address, whole) != 0)
		return false;
	if (rest) {
		uint8_t mask = (uint8_t)(0xff << (8 - rest));

		if ((client->address[whole] & mask) != prefix->address[whole])
			return false;
	}
	return true;
}

/* ------------------------------------------------------------------------------------------ */
/* Keys. */

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

int url_sign_key_parse(const char *line, size_t len, struct url_sign_key *key)
{
	size_t i = 0, id_start, secret_start, secret_len, end = len;
	uint64_t id;
	int n;

	memset(key, 0, sizeof(*key)); /* whatever happens, no stale secret is left in *key */
	while (i < len && is_space(line[i]))
		i++;
	while (end > i && is_space(line[end - 1]))
		end--;
	if (i == end || line[i] == '#')
		return -ENODATA;
	id_start = i;
	while (i < end && !is_space(line[i]))
		i++;
	if (!decimal_parse(line + id_start, i - id_start, 3, &id) || id < 1 || id > 255)
		return -EINVAL;
	while (i < end && is_space(line[i]))
		i++;
	secret_start = i;
	while (i < end && !is_space(line[i]))
		i++;
	if (i != end || secret_start == end)
		return -EINVAL;
	secret_len = end - secret_start;
	key->id = (uint8_t)id;

	if (secret_len > 7 && memcmp(line + secret_start, "base64:", 7) == 0) {
		const char *b64 = line + secret_start + 7;
		size_t b64_len = secret_len - 7;
		bool url_safe = memchr(b64, '-', b64_len) || memchr(b64, '_', b64_len);

		while (b64_len && b64[b64_len - 1] == '=')
			b64_len--;
		n = base64_decode(b64, b64_len, url_safe, key->secret, sizeof(key->secret));
		if (n < 0)
			goto invalid;
	} else {
		if (secret_len % 2 || secret_len / 2 > sizeof(key->secret))
			goto invalid;
		for (size_t j = 0; j < secret_len; j += 2) {
			int high = sluice_hex_digit(line[secret_start + j]);
			int low = sluice_hex_digit(line[secret_start + j + 1]);

			if (high < 0 || low < 0)
				goto invalid;
			key->secret[j / 2] = (uint8_t)(high << 4 | low);
		}
		n = (int)(secret_len / 2);
	}
	if (n < URL_SIGN_SECRET_MIN || n > URL_SIGN_SECRET_MAX)
		goto invalid;
	key->secret_len = (uint8_t)n;
	return 0;
invalid:
	url_sign_key_wipe(key);
	return -EINVAL;
}

void url_sign_key_wipe(struct url_sign_key *key)
{
	explicit_bzero(key, sizeof(*key));
}

void url_sign_keyring_init(struct url_sign_keyring *ring)
{
	memset(ring, 0, sizeof(*ring));
}

static const struct url_sign_ring_entry *keyring_find(const struct url_sign_keyring *ring, uint8_t id)
{
	for (uint32_t i = 0; i < ring->count; i++)
		if (ring->entries[i].id == id)
			return &ring->entries[i];
	return NULL;
}

int url_sign_keyring_add(struct url_sign_keyring *ring, struct IMB_MGR *engine,
			 const struct url_sign_key *key)
{
	if (key->id == 0 || key->secret_len < URL_SIGN_SECRET_MIN || key->secret_len > URL_SIGN_SECRET_MAX)
		return -EINVAL;
	if (keyring_find(ring, key->id))
		return -EEXIST;
	if (ring->count == URL_SIGN_KEYS_MAX)
		return -ENOSPC;
	ring->entries[ring->count].id = key->id;
	hmac_key_prepare(engine, key->secret, key->secret_len, &ring->entries[ring->count]);
	ring->count++;
	return 0;
}

int url_sign_keyring_load(struct url_sign_keyring *ring, struct IMB_MGR *engine, const char *text,
			  size_t len, char *err, size_t err_len)
{
	struct url_sign_key key;
	unsigned line_number = 0;
	size_t start = 0;
	int rc = 0;

	while (start < len && rc == 0) {
		const char *newline = memchr(text + start, '\n', len - start);
		size_t end = newline ? (size_t)(newline - text) : len;

		line_number++;
		rc = url_sign_key_parse(text + start, end - start, &key);
		if (rc == -ENODATA) {
			rc = 0;
		} else if (rc < 0) {
			snprintf(err, err_len, "line %u: expected '<key id 1..255> <secret: %d..%d bytes as hex or base64:...>'",
				 line_number, URL_SIGN_SECRET_MIN, URL_SIGN_SECRET_MAX);
		} else {
			rc = url_sign_keyring_add(ring, engine, &key);
			if (rc == -EEXIST)
				snprintf(err, err_len, "line %u: key id %u listed twice", line_number, key.id);
			else if (rc == -ENOSPC)
				snprintf(err, err_len, "line %u: more than %d keys", line_number, URL_SIGN_KEYS_MAX);
			else if (rc < 0)
				snprintf(err, err_len, "line %u: invalid key", line_number);
		}
		start = end + 1;
	}
	url_sign_key_wipe(&key);
	return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* The message. */

/* path "\n" exp "\n" kid "\n" pfx into out (URL_SIGN_MESSAGE_MAX bytes); its length, or 0 if
 * the path is too long. */
static size_t message_build(char *out, const char *path, size_t path_len, const char *exp,
			    size_t exp_len, const char *kid, size_t kid_len, const char *prefix,
			    size_t prefix_len)
{
	size_t n = 0;

	if (path_len == 0 || path_len > URL_SIGN_PATH_MAX || exp_len > 19 || kid_len > 3 ||
	    prefix_len > URL_SIGN_PREFIX_MAX)
		return 0;
	memcpy(out + n, path, path_len);
	n += path_len;
	out[n++] = '\n';
	memcpy(out + n, exp, exp_len);
	n += exp_len;
	out[n++] = '\n';
	memcpy(out + n, kid, kid_len);
	n += kid_len;
	out[n++] = '\n';
	memcpy(out + n, prefix, prefix_len);
	n += prefix_len;
	return n;
}

/* ------------------------------------------------------------------------------------------ */
/* Verification. */

struct token {
	const char *exp, *kid, *prefix, *sig; /* values as in the query, NULL when absent */
	size_t exp_len, kid_len, prefix_len, sig_len;
};

/* Splits the query on '&' and picks the four parameters; false when one appears twice. */
static bool token_scan(const char *query, size_t len, struct token *token)
{
	size_t i = 0;

	memset(token, 0, sizeof(*token));
	while (i < len) {
		const char *param = query + i, *amp = memchr(param, '&', len - i);
		size_t param_len = amp ? (size_t)(amp - param) : len - i;
		const char **value = NULL;
		size_t *value_len = NULL;

		i += param_len + 1;
		if (param_len < 4 || param[3] != '=')
			continue;
		if (memcmp(param, "exp", 3) == 0) {
			value = &token->exp;
			value_len = &token->exp_len;
		} else if (memcmp(param, "kid", 3) == 0) {
			value = &token->kid;
			value_len = &token->kid_len;
		} else if (memcmp(param, "pfx", 3) == 0) {
			value = &token->prefix;
			value_len = &token->prefix_len;
		} else if (memcmp(param, "sig", 3) == 0) {
			value = &token->sig;
			value_len = &token->sig_len;
		} else {
			continue;
		}
		if (*value)
			return false;
		*value = param + 4;
		*value_len = param_len - 4;
	}
	return true;
}

/* Percent-decodes a pfx value into out (URL_SIGN_PREFIX_MAX + 1 bytes). -1 if invalid. */
static int prefix_decode(const char *in, size_t len, char *out)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		char c = in[i];

		if (c == '%') {
			int high = i + 2 < len ? sluice_hex_digit(in[i + 1]) : -1;
			int low = i + 2 < len ? sluice_hex_digit(in[i + 2]) : -1;

			if (high < 0 || low < 0)
				return -1;
			c = (char)(high << 4 | low);
			i += 2;
		}
		if ((unsigned char)c <= 0x20 || (unsigned char)c >= 0x7f || n == URL_SIGN_PREFIX_MAX)
			return -1;
		out[n++] = c;
	}
	return (int)n;
}

enum url_sign_status url_sign_verify(const struct url_sign_keyring *ring, struct IMB_MGR *engine,
				     const char *path, size_t path_len, const char *query,
				     size_t query_len, const struct url_sign_client *client,
				     time_t now, uint32_t skew_seconds)
{
	char message[URL_SIGN_MESSAGE_MAX];
	char prefix_text[URL_SIGN_PREFIX_MAX + 1];
	uint8_t expected[URL_SIGN_DIGEST_LEN], received[URL_SIGN_DIGEST_LEN];
	const struct url_sign_ring_entry *key;
	struct client_prefix prefix;
	struct token token;
	uint64_t exp, kid;
	int prefix_len = 0;
	size_t message_len;

	if (!token_scan(query, query_len, &token))
		return URL_SIGN_MALFORMED;
	if (!token.sig)
		return URL_SIGN_MISSING;
	if (!token.exp || !token.kid || !decimal_parse(token.exp, token.exp_len, 19, &exp) ||
	    exp > INT64_MAX || !decimal_parse(token.kid, token.kid_len, 3, &kid) || kid < 1 ||
	    kid > 255 || token.sig_len != URL_SIGN_SIGNATURE_LEN ||
	    base64_decode(token.sig, token.sig_len, true, received, sizeof(received)) !=
		    URL_SIGN_DIGEST_LEN)
		return URL_SIGN_MALFORMED;
	if (token.prefix) {
		prefix_len = prefix_decode(token.prefix, token.prefix_len, prefix_text);
		if (prefix_len <= 0 || !prefix_parse(prefix_text, (size_t)prefix_len, &prefix))
			return URL_SIGN_MALFORMED;
	}
	message_len = message_build(message, path, path_len, token.exp, token.exp_len, token.kid,
				    token.kid_len, prefix_text, (size_t)prefix_len);
	if (!message_len)
		return URL_SIGN_MALFORMED;

	key = keyring_find(ring, (uint8_t)kid);
	if (!key)
		return URL_SIGN_UNKNOWN_KEY;
	if (hmac_sha256(engine, key, (const uint8_t *)message, message_len, expected) < 0 ||
	    !equal_constant_time(expected, received, URL_SIGN_DIGEST_LEN))
		return URL_SIGN_BAD_SIGNATURE;

	/* exp <= INT64_MAX and skew < 2^32: the sum cannot overflow an unsigned 64-bit value. */
	if (now > 0 && (uint64_t)now > exp + skew_seconds)
		return URL_SIGN_EXPIRED;
	if (token.prefix && !prefix_contains(&prefix, client))
		return URL_SIGN_WRONG_CLIENT;
	return URL_SIGN_OK;
}

unsigned url_sign_status_http(enum url_sign_status status)
{
	switch (status) {
	case URL_SIGN_OK:
		return 0;
	case URL_SIGN_EXPIRED:
		return 410;
	default:
		return 403;
	}
}

const char *url_sign_status_name(enum url_sign_status status)
{
	static const char *const names[] = {
		[URL_SIGN_OK] = "ok",
		[URL_SIGN_MISSING] = "missing",
		[URL_SIGN_MALFORMED] = "malformed",
		[URL_SIGN_UNKNOWN_KEY] = "unknown key",
		[URL_SIGN_BAD_SIGNATURE] = "bad signature",
		[URL_SIGN_EXPIRED] = "expired",
		[URL_SIGN_WRONG_CLIENT] = "wrong client",
	};

	return (unsigned)status < ARRAY_SIZE(names) ? names[status] : "?";
}

/* ------------------------------------------------------------------------------------------ */
/* Minting. */

/* Query-safe spelling of a prefix: RFC 3986 query characters pass, the rest is %XX. */
static size_t prefix_encode(const char *in, size_t len, char *out)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];

		if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    c == '.' || c == ':' || c == '/' || c == '-' || c == '_' || c == '~') {
			out[n++] = (char)c;
		} else {
			out[n++] = '%';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 15];
		}
	}
	return n;
}

int url_sign_mint(const struct url_sign_keyring *ring, struct IMB_MGR *engine, uint8_t kid,
		  const char *path, size_t path_len, time_t expires, const char *prefix, char *out,
		  size_t out_size)
{
	char message[URL_SIGN_MESSAGE_MAX];
	char query[URL_SIGN_QUERY_MAX];
	char exp_text[20], kid_text[4];
	uint8_t tag[URL_SIGN_DIGEST_LEN];
	const struct url_sign_ring_entry *key = keyring_find(ring, kid);
	size_t exp_len, kid_len, prefix_len = prefix ? strlen(prefix) : 0, message_len, n = 0;
	struct client_prefix parsed;

	if (!key)
		return -ENOENT;
	if (expires < 0 || (prefix && !prefix_parse(prefix, prefix_len, &parsed)))
		return -EINVAL;
	exp_len = decimal_format((uint64_t)expires, exp_text);
	kid_len = decimal_format(kid, kid_text);
	message_len = message_build(message, path, path_len, exp_text, exp_len, kid_text, kid_len,
				    prefix ? prefix : "", prefix_len);
	if (!message_len)
		return -EINVAL;
	if (hmac_sha256(engine, key, (const uint8_t *)message, message_len, tag) < 0)
		return -EIO;

	memcpy(query + n, "exp=", 4);
	n += 4;
	memcpy(query + n, exp_text, exp_len);
	n += exp_len;
	memcpy(query + n, "&kid=", 5);
	n += 5;
	memcpy(query + n, kid_text, kid_len);
	n += kid_len;
	if (prefix) {
		memcpy(query + n, "&pfx=", 5);
		n += 5;
		n += prefix_encode(prefix, prefix_len, query + n);
	}
	memcpy(query + n, "&sig=", 5);
	n += 5;
	n += base64url_encode(tag, sizeof(tag), query + n);
	if (n + 1 > out_size)
		return -ENOSPC;
	memcpy(out, query, n);
	out[n] = '\0';
	return (int)n;
}
