/* SPDX-License-Identifier: BSD-3-Clause
 *
 * url_sign.h: signed expiring URLs, the request-level admission of the edge.
 *
 * The service's backend hands a player URLs that carry a token in the query string:
 *
 *   /video/a.m4s?exp=1767225600&kid=3&pfx=198.18.0.0/24&sig=<43 characters>
 *
 *   exp  expiry, seconds since the epoch, decimal without leading zeros (at most 19 digits);
 *   kid  key id, 1..255, decimal without leading zeros;
 *   pfx  optional: the client address must be inside this prefix (IPv4 "a.b.c.d/n" or IPv6
 *        "x::/n", host bits zero, length without leading zeros); may be percent-encoded
 *        (':' and '/' need not be: RFC 3986 allows both in a query);
 *   sig  base64url without padding of HMAC-SHA256(secret of kid, message), exactly 43
 *        characters (the 2 unused bits zero), where the message is
 *
 *            <normalized path> "\n" <exp> "\n" <kid> "\n" <pfx, decoded; empty when absent>
 *
 *        The normalized path is http_path_normalize() of the request path: what the catalog
 *        is looked up with, so two spellings of one file ("/a/./b", "/a/%62") carry the same
 *        signature and no spelling can reach another file. A path cannot contain "\n" (it is
 *        refused by the normalization), exp and kid are canonical decimals, so the message
 *        is unambiguous; kid is signed so a signature cannot be replayed under another key.
 *
 * Other query parameters are ignored and not signed (players append cache busters and
 * session ids). exp, kid, pfx and sig may each appear once; a second is MALFORMED.
 *
 * Verification order and statuses (the server's answer in brackets):
 *   MISSING         no sig parameter: the URL is not signed                         [403]
 *   MALFORMED       sig present but exp or kid missing, any of them not in the form
 *                   above, or a path longer than URL_SIGN_PATH_MAX                    [403]
 *   UNKNOWN_KEY     kid not in the key ring (retired, or never issued)                [403]
 *   BAD_SIGNATURE   the HMAC does not match (tampered path, exp, kid, pfx, or sig)    [403]
 *   EXPIRED         valid signature, now > exp + skew_seconds                         [410]
 *   WRONG_CLIENT    valid signature, pfx present and the client outside it            [403]
 *   OK              serve.
 * Expiry and client are checked only after the signature, so a forger learns nothing but
 * "forbidden". Why 410 for expiry: the URL was genuinely issued and is now permanently dead;
 * retrying it can never succeed (exp is part of the URL), so the precise status tells the
 * player and the operator "get a fresh URL from the backend" rather than "you are not
 * allowed", and a shared cache that keeps the 410 is right to (RFC 9110 §15.5.11 makes 410
 * heuristically cacheable: the same URL stays expired forever). 403s, in contrast, must be
 * sent with Cache-Control: no-store: WRONG_CLIENT depends on who asks.
 * skew_seconds tolerates an edge clock running ahead of the signer's (a few seconds; the
 * data plane takes it from configuration); it only ever extends validity.
 *
 * Keys: a ring of up to URL_SIGN_KEYS_MAX keys, each a 32..64-byte secret under an id, several
 * valid at once so keys rotate without a flag day (sign with the new id, keep the old one
 * until the last URL signed with it has expired, then drop it). Key file format (one file,
 * read by sluice-sign and by the data plane's control path, both through url_sign_key_parse):
 *
 *   # comment lines and blank lines are ignored
 *   <kid> <secret>
 *   3 8f2b...(64 to 128 hex digits)...
 *   4 base64:q83vEjRWeJC...(standard or url-safe base64, padding optional)
 *
 * Cost and the hot path. The ring is built on the control path: for each key the SHA-256
 * states after the inner (key ^ 0x36..) and outer (key ^ 0x5c..) blocks are precomputed with
 * intel-ipsec-mb's one-block SHA-256, and only those states are kept. Verifying is then a
 * query scan, a bounded copy of the message into a stack buffer (URL_SIGN_MESSAGE_MAX
 * bytes), one HMAC-SHA256 job on the caller's ipsec-mb manager (SHA-NI or AVX2: about
 * (message/64 + 2) compressions, well under a microsecond for typical paths) and a
 * constant-time compare. No allocation: the job API works inside the IMB_MGR the caller
 * allocated at start-up (test_url_sign counts allocations around url_sign_verify to prove
 * it), no system call, no lock. inet_pton (for pfx) is pure parsing in glibc.
 *
 * The IMB_MGR ("engine") must be one the calling lcore owns and that has no other job in
 * flight: url_sign submits one job and flushes it. url_sign_engine_create() makes one.
 *
 * State -> function table:
 *   control path: url_sign_engine_create, url_sign_keyring_init, url_sign_keyring_load
 *                 (or url_sign_key_parse + url_sign_keyring_add), then publish the ring
 *   hot path:     url_sign_verify (ring read-only), url_sign_status_http
 *   tools:        url_sign_mint (sluice-sign, tests)
 */
#ifndef SLUICE_URL_SIGN_H
#define SLUICE_URL_SIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct IMB_MGR; /* intel-ipsec-mb's manager; callers need not include its header */

#define URL_SIGN_KEYS_MAX 16
#define URL_SIGN_SECRET_MIN 32
#define URL_SIGN_SECRET_MAX 64           /* one SHA-256 block: no pre-hashing of keys */
#define URL_SIGN_PATH_MAX 4096           /* longer normalized paths are MALFORMED */
#define URL_SIGN_PREFIX_MAX 63           /* decoded pfx text */
#define URL_SIGN_SIGNATURE_LEN 43        /* base64url of 32 bytes, no padding */
#define URL_SIGN_DIGEST_LEN 32
/* path, exp (19), kid (3), pfx and three separators. */
#define URL_SIGN_MESSAGE_MAX (URL_SIGN_PATH_MAX + 19 + 3 + URL_SIGN_PREFIX_MAX + 3)
/* "exp=" 19 "&kid=" 3 "&pfx=" 3*63 "&sig=" 43, and a NUL. */
#define URL_SIGN_QUERY_MAX 288

enum url_sign_status {
	URL_SIGN_OK = 0,
	URL_SIGN_MISSING,
	URL_SIGN_MALFORMED,
	URL_SIGN_UNKNOWN_KEY,
	URL_SIGN_BAD_SIGNATURE,
	URL_SIGN_EXPIRED,
	URL_SIGN_WRONG_CLIENT,
};

/* A key as read from the key file (control path; wipe it with url_sign_key_wipe). */
struct url_sign_key {
	uint8_t id;
	uint8_t secret_len;
	uint8_t secret[URL_SIGN_SECRET_MAX];
};

/* What the hot path keeps per key: the HMAC states, not the secret. */
struct url_sign_ring_entry {
	uint8_t id;
	uint8_t inner_state[URL_SIGN_DIGEST_LEN] __attribute__((aligned(16)));
	uint8_t outer_state[URL_SIGN_DIGEST_LEN] __attribute__((aligned(16)));
};

struct url_sign_keyring {
	uint32_t count;
	struct url_sign_ring_entry entries[URL_SIGN_KEYS_MAX];
};

/* The client of a request: AF_INET or AF_INET6, address in network byte order (the first 4
 * bytes for AF_INET). */
struct url_sign_client {
	int family;
	uint8_t address[16];
};

/* Control path: an ipsec-mb manager for this lcore (NULL with errno set), and its release
 * (NULL is a no-op). */
struct IMB_MGR *url_sign_engine_create(void);
void url_sign_engine_free(struct IMB_MGR *engine);

/* One line of a key file (without its newline). Returns 0 with *key filled, -ENODATA for a
 * blank or comment line, -EINVAL for anything else (bad id, bad encoding, secret shorter
 * than URL_SIGN_SECRET_MIN or longer than URL_SIGN_SECRET_MAX bytes, trailing text); *key is
 * all zero unless 0 is returned. */
int url_sign_key_parse(const char *line, size_t len, struct url_sign_key *key);
void url_sign_key_wipe(struct url_sign_key *key);

void url_sign_keyring_init(struct url_sign_keyring *ring);
/* Returns 0, -EEXIST (id already in the ring), -ENOSPC (ring full), -EINVAL. */
int url_sign_keyring_add(struct url_sign_keyring *ring, struct IMB_MGR *engine,
			 const struct url_sign_key *key);
/* Every key of a key file's text; on error, err names the line. Secrets are wiped from the
 * stack afterwards. Returns 0 or the first error of url_sign_key_parse / keyring_add. */
int url_sign_keyring_load(struct url_sign_keyring *ring, struct IMB_MGR *engine, const char *text,
			  size_t len, char *err, size_t err_len);

/* Hot path. path is the normalized path, query the raw query string (without '?'), now the
 * current time in seconds since the epoch. */
enum url_sign_status url_sign_verify(const struct url_sign_keyring *ring, struct IMB_MGR *engine,
				     const char *path, size_t path_len, const char *query,
				     size_t query_len, const struct url_sign_client *client,
				     time_t now, uint32_t skew_seconds);

/* The status the server answers: 0 for URL_SIGN_OK, 410 for EXPIRED, 403 otherwise. */
unsigned url_sign_status_http(enum url_sign_status status);
const char *url_sign_status_name(enum url_sign_status status);

/* Writes the query string "exp=..&kid=..[&pfx=..]&sig=.." (NUL-terminated) for the normalized
 * path; prefix may be NULL. Returns its length, -ENOENT (no key kid in the ring), -EINVAL
 * (prefix or path invalid, expires negative), -ENOSPC, -EIO (engine failure). */
int url_sign_mint(const struct url_sign_keyring *ring, struct IMB_MGR *engine, uint8_t kid,
		  const char *path, size_t path_len, time_t expires, const char *prefix, char *out,
		  size_t out_size);

#endif /* SLUICE_URL_SIGN_H */
