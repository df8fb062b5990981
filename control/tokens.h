/* SPDX-License-Identifier: BSD-3-Clause
 *
 * tokens.h: operators' bearer tokens for the REST API (control.token_file).
 *
 * The file holds one token per line, optionally after a name that the daemon's log uses to
 * say who did what ("alice 9f2c..."); '#' starts a comment line. Tokens are RFC 6750
 * b64token characters, 16 to 256 of them; names are [A-Za-z0-9_.@-], up to 63. A malformed
 * line, a short token or a duplicate fails the whole load with the line number, so a typo
 * never silently locks an operator out or lets a weak token in; the daemon then keeps the
 * tokens it had.
 *
 * Only SHA-256 digests of the tokens are kept. A check hashes the presented token and
 * compares the digest with every known one using CRYPTO_memcmp, without stopping at a match,
 * so the time taken does not depend on which token matched, on how much of one matched, or
 * on the token's length.
 */
#ifndef SLUICE_CONTROL_TOKENS_H
#define SLUICE_CONTROL_TOKENS_H

#include <stdbool.h>
#include <stddef.h>

#define TOKENS_MIN_LENGTH 16
#define TOKENS_MAX_LENGTH 256
#define TOKENS_NAME_MAX 64
#define TOKENS_MAX 1024

struct tokens;

/* Loads path. -ENOENT when the file does not exist; -EINVAL with "path:line: why" in err. */
int tokens_load(const char *path, struct tokens **out, char *err, size_t err_len);
/* Same from text (tests). */
int tokens_parse(const char *text, const char *name, struct tokens **out, char *err, size_t err_len);
void tokens_free(struct tokens *tokens);
size_t tokens_count(const struct tokens *tokens);

/* Splits "Bearer TOKEN" (scheme case-insensitive, then spaces): 0 with *token and *len in the
 * header, or -EACCES when absent or malformed. */
int tokens_parse_header(const char *authorization, const char **token, size_t *len);

/* 0 with the token's name (or "token N") in who; -EACCES missing or malformed header (401);
 * -EPERM well-formed but unknown (403). tokens may be NULL (no file: every token unknown). */
int tokens_check(const struct tokens *tokens, const char *authorization, char *who, size_t who_len);

/* True when path's inode, size or mtime differs from what tokens were loaded from (or it
 * appeared or vanished). */
bool tokens_file_changed(const struct tokens *tokens, const char *path);

#endif /* SLUICE_CONTROL_TOKENS_H */
