/* SPDX-License-Identifier: BSD-3-Clause
 *
 * tokens.c: loading the token file and checking bearer tokens in constant time (tokens.h).
 */
#include "tokens.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

struct tokens_entry {
	uint8_t digest[SHA256_DIGEST_LENGTH];
	char name[TOKENS_NAME_MAX];
};

struct tokens {
	size_t count;
	struct tokens_entry *entries;
	/* Identity of the file it was loaded from (all zero: parsed from text, or no file). */
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

static bool tokens_is_token_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
	       c == '_' || c == '~' || c == '+' || c == '/';
}

/* RFC 6750 b64token: 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=" */
static bool tokens_is_token(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len && tokens_is_token_char(s[i]))
		i++;
	if (i == 0)
		return false;
	while (i < len && s[i] == '=')
		i++;
	return i == len;
}

static bool tokens_is_name(const char *s, size_t len)
{
	if (!len || len >= TOKENS_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		      s[i] == '_' || s[i] == '.' || s[i] == '@' || s[i] == '-'))
			return false;
	return true;
}

void tokens_free(struct tokens *tokens)
{
	if (!tokens)
		return;
	if (tokens->entries)
		OPENSSL_cleanse(tokens->entries, tokens->count * sizeof(*tokens->entries));
	free(tokens->entries);
	free(tokens);
}

size_t tokens_count(const struct tokens *tokens)
{
	return tokens ? tokens->count : 0;
}

int tokens_parse(const char *text, const char *name, struct tokens **out, char *err, size_t err_len)
{
	struct tokens *t = calloc(1, sizeof(*t));
	const char *line = text;
	int line_no = 0, rc = 0;

	*out = NULL;
	if (!t)
		return -ENOMEM;
	t->entries = calloc(TOKENS_MAX, sizeof(*t->entries));
	if (!t->entries) {
		tokens_free(t);
		return -ENOMEM;
	}
	while (*line) {
		const char *end = strchr(line, '\n'), *fields[3];
		size_t len = end ? (size_t)(end - line) : strlen(line), lengths[3], n = 0, i = 0;

		line_no++;
		if (len && line[len - 1] == '\r')
			len--;
		while (i < len) { /* split on spaces and tabs */
			while (i < len && (line[i] == ' ' || line[i] == '\t'))
				i++;
			if (i == len || line[i] == '#')
				break;
			if (n == 3) {
				n++;
				break;
			}
			fields[n] = line + i;
			while (i < len && line[i] != ' ' && line[i] != '\t')
				i++;
			lengths[n] = (size_t)(line + i - fields[n]);
			n++;
		}
		if (n) {
			const char *token = fields[n - 1];
			size_t token_len = lengths[n - 1];
			struct tokens_entry *e = &t->entries[t->count];

			if (n > 2) {
				snprintf(err, err_len, "%s:%d: expected TOKEN or NAME TOKEN", name, line_no);
				rc = -EINVAL;
				break;
			}
			if (n == 2 && !tokens_is_name(fields[0], lengths[0])) {
				snprintf(err, err_len, "%s:%d: a name is 1 to %d of A-Z a-z 0-9 _ . @ -", name, line_no,
					 TOKENS_NAME_MAX - 1);
				rc = -EINVAL;
				break;
			}
			if (!tokens_is_token(token, token_len) || token_len < TOKENS_MIN_LENGTH ||
			    token_len > TOKENS_MAX_LENGTH) {
				snprintf(err, err_len, "%s:%d: a token is %d to %d characters of A-Z a-z 0-9 - . _ ~ + / "
					 "(then '=' padding)", name, line_no, TOKENS_MIN_LENGTH, TOKENS_MAX_LENGTH);
				rc = -EINVAL;
				break;
			}
			if (t->count == TOKENS_MAX) {
				snprintf(err, err_len, "%s:%d: more than %d tokens", name, line_no, TOKENS_MAX);
				rc = -EINVAL;
				break;
			}
			SHA256((const unsigned char *)token, token_len, e->digest);
			for (size_t k = 0; k < t->count; k++)
				if (!CRYPTO_memcmp(t->entries[k].digest, e->digest, sizeof(e->digest))) {
					snprintf(err, err_len, "%s:%d: the same token as %s", name, line_no,
						 t->entries[k].name);
					rc = -EINVAL;
				}
			if (rc)
				break;
			if (n == 2)
				snprintf(e->name, sizeof(e->name), "%.*s", (int)lengths[0], fields[0]);
			else
				snprintf(e->name, sizeof(e->name), "token %zu (line %d)", t->count + 1, line_no);
			t->count++;
		}
		if (!end)
			break;
		line = end + 1;
	}
	if (rc) {
		tokens_free(t);
		return rc;
	}
	*out = t;
	return 0;
}

int tokens_load(const char *path, struct tokens **out, char *err, size_t err_len)
{
	struct stat st;
	char *text;
	FILE *f;
	int rc;

	*out = NULL;
	f = fopen(path, "re");
	if (!f) {
		rc = -errno;
		snprintf(err, err_len, "%s: %s", path, strerror(errno));
		return rc;
	}
	if (fstat(fileno(f), &st) || st.st_size > 1 << 20) {
		fclose(f);
		snprintf(err, err_len, "%s: unreadable or over 1 MiB", path);
		return -EINVAL;
	}
	text = calloc(1, (size_t)st.st_size + 1);
	if (!text) {
		fclose(f);
		return -ENOMEM;
	}
	if (fread(text, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
		snprintf(err, err_len, "%s: short read", path);
		rc = -EIO;
	} else if (memchr(text, 0, (size_t)st.st_size)) {
		snprintf(err, err_len, "%s: contains a NUL byte", path);
		rc = -EINVAL;
	} else {
		rc = tokens_parse(text, path, out, err, err_len);
	}
	OPENSSL_cleanse(text, (size_t)st.st_size);
	free(text);
	fclose(f);
	if (!rc) {
		(*out)->dev = st.st_dev;
		(*out)->ino = st.st_ino;
		(*out)->size = st.st_size;
		(*out)->mtime = st.st_mtim;
	}
	return rc;
}

int tokens_parse_header(const char *authorization, const char **token, size_t *len)
{
	const char *p;
	size_t n;

	if (!authorization || strncasecmp(authorization, "Bearer", 6) || authorization[6] != ' ')
		return -EACCES;
	p = authorization + 6;
	while (*p == ' ')
		p++;
	n = strlen(p);
	while (n && p[n - 1] == ' ')
		n--;
	if (!n || n > TOKENS_MAX_LENGTH || !tokens_is_token(p, n))
		return -EACCES;
	*token = p;
	*len = n;
	return 0;
}

int tokens_check(const struct tokens *tokens, const char *authorization, char *who, size_t who_len)
{
	uint8_t digest[SHA256_DIGEST_LENGTH];
	const char *token;
	size_t len, match = SIZE_MAX;

	if (tokens_parse_header(authorization, &token, &len))
		return -EACCES;
	SHA256((const unsigned char *)token, len, digest);
	for (size_t i = 0; tokens && i < tokens->count; i++) {
		/* No early exit: every entry is compared, a match only selects the index. */
		size_t equal = (size_t)(CRYPTO_memcmp(tokens->entries[i].digest, digest, sizeof(digest)) == 0);
		size_t mask = (size_t)0 - equal;

		match = (match & ~mask) | (i & mask);
	}
	OPENSSL_cleanse(digest, sizeof(digest));
	if (match == SIZE_MAX)
		return -EPERM;
	if (who && who_len)
		snprintf(who, who_len, "%s", tokens->entries[match].name);
	return 0;
}

bool tokens_file_changed(const struct tokens *tokens, const char *path)
{
	struct stat st;

	if (stat(path, &st))
		return tokens && tokens->ino; /* vanished */
	if (!tokens || !tokens->ino)
		return true;
	return st.st_dev != tokens->dev || st.st_ino != tokens->ino || st.st_size != tokens->size ||
	       st.st_mtim.tv_sec != tokens->mtime.tv_sec || st.st_mtim.tv_nsec != tokens->mtime.tv_nsec;
}
