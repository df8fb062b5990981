/* SPDX-License-Identifier: BSD-3-Clause
 *
 * state.c: state.json reading and atomic writing (see state.h).
 */
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define STATE_FILE "state.json"
#define STATE_VERSION 1

int state_make_dir(const char *dir)
{
	char path[PATH_MAX];
	size_t n = strlen(dir);

	if (!n || n >= sizeof(path))
		return -ENAMETOOLONG;
	memcpy(path, dir, n + 1);
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(path, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(path, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

int state_service_find(const struct control_state *st, const struct steer_service *service)
{
	for (uint32_t i = 0; i < st->service_count; i++)
		if (st->services[i].family == service->family && st->services[i].port == service->port &&
		    !memcmp(st->services[i].addr, service->addr, 16))
			return (int)i;
	return -1;
}

int state_block_find(const struct control_state *st, const struct steer_prefix *prefix)
{
	for (uint32_t i = 0; i < st->block_count; i++)
		if (st->blocks[i].family == prefix->family && st->blocks[i].len == prefix->len &&
		    !memcmp(st->blocks[i].addr, prefix->addr, 16))
			return (int)i;
	return -1;
}

static int state_fail(char *err, size_t err_len, const char *what)
{
	snprintf(err, err_len, "%s", what);
	return -EINVAL;
}

static int state_parse(json_t *root, struct control_state *st, char *err, size_t err_len)
{
	json_t *admission, *services, *blocks, *sign, *tickets, *v;
	json_error_t jerr;
	size_t i;

	if (!json_is_object(root) || json_integer_value(json_object_get(root, "version")) != STATE_VERSION)
		return state_fail(err, err_len, "not a state file of version 1");
	admission = json_object_get(root, "admission");
	services = json_object_get(root, "services");
	blocks = json_object_get(root, "blocklist");
	sign = json_object_get(root, "sign_keys");
	tickets = json_object_get(root, "ticket_keys");
	if ((admission && !json_is_object(admission)) || (services && !json_is_array(services)) ||
	    (blocks && !json_is_array(blocks)) || (sign && !json_is_array(sign)) || (tickets && !json_is_array(tickets)))
		return state_fail(err, err_len, "a section has the wrong type");
	if (admission) {
		json_t *o = json_object_get(admission, "override"), *d = json_object_get(admission, "drain");

		if (json_is_object(o)) {
			const char *state_name, *reason = "";
			json_int_t expires = 0;

			if (json_unpack_ex(o, &jerr, 0, "{s:s, s?:I, s?:s}", "state", &state_name, "expires", &expires,
					   "reason", &reason) ||
			    admission_state_parse(state_name, &st->override_state))
				return state_fail(err, err_len, "admission.override: bad state or expiry");
			st->override_active = true;
			st->override_expires_s = expires;
			snprintf(st->override_reason, sizeof(st->override_reason), "%s", reason);
		}
		if (json_is_object(d)) {
			const char *reason = "";
			json_int_t since = 0;

			if (json_unpack_ex(d, &jerr, 0, "{s:I, s?:s}", "since", &since, "reason", &reason))
				return state_fail(err, err_len, "admission.drain: bad since");
			st->drain_active = true;
			st->drain_since_s = since;
			snprintf(st->drain_reason, sizeof(st->drain_reason), "%s", reason);
		}
	}
	json_array_foreach(services, i, v) {
		struct steer_service *s = &st->services[st->service_count];
		const char *address;
		json_int_t port, id;

		if (st->service_count == STATE_SERVICES_MAX ||
		    json_unpack_ex(v, &jerr, 0, "{s:s, s:I, s:I}", "address", &address, "port", &port, "id", &id) ||
		    steer_parse_address(address, &s->family, s->addr) || port < 0 || port > 65535 || id < 0 ||
		    id >= STEER_SERVICE_ID_MAX)
			return state_fail(err, err_len, "services: bad entry");
		s->port = (uint16_t)port;
		s->service_id = (uint32_t)id;
		st->service_count++;
	}
	json_array_foreach(blocks, i, v) {
		if (st->block_count == STATE_BLOCKS_MAX || !json_is_string(v) ||
		    steer_parse_prefix(json_string_value(v), &st->blocks[st->block_count]))
			return state_fail(err, err_len, "blocklist: bad entry");
		st->block_count++;
	}
	json_array_foreach(sign, i, v) {
		const char *secret;
		json_int_t kid, created = 0;
		uint8_t bytes[SLUICE_CMD_SIGN_KEY_BYTES_MAX];
		int len;

		if (json_unpack_ex(v, &jerr, 0, "{s:I, s:s, s?:I}", "kid", &kid, "secret", &secret, "created", &created) ||
		    kid < 1 || kid > 255 || (len = keys_parse_secret(secret, bytes)) < 0 ||
		    keys_sign_add(&st->keys, (uint8_t)kid, bytes, (uint8_t)len, created))
			return state_fail(err, err_len, "sign_keys: bad entry");
		OPENSSL_cleanse(bytes, sizeof(bytes));
	}
	json_array_foreach(tickets, i, v) {
		struct keys_ticket_key *k = &st->keys.ticket[st->keys.ticket_count];
		const char *name, *aes, *hmac;
		json_int_t created = 0;

		if (st->keys.ticket_count == SLUICE_CMD_TICKET_KEYS_MAX ||
		    json_unpack_ex(v, &jerr, 0, "{s:s, s:s, s:s, s?:I}", "name", &name, "aes_key", &aes, "hmac_key", &hmac,
				   "created", &created) ||
		    keys_hex_decode(name, k->name, 16) || keys_hex_decode(aes, k->aes_key, 32) ||
		    keys_hex_decode(hmac, k->hmac_key, 32))
			return state_fail(err, err_len, "ticket_keys: bad entry");
		k->created_s = created;
		st->keys.ticket_count++;
	}
	return 0;
}

int state_load(const char *dir, struct control_state *st, char *err, size_t err_len)
{
	char path[PATH_MAX];
	json_error_t jerr;
	json_t *root;
	int rc;

	memset(st, 0, sizeof(*st));
	snprintf(path, sizeof(path), "%s/%s", dir, STATE_FILE);
	if (access(path, F_OK))
		return errno == ENOENT ? 0 : -errno;
	root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		snprintf(err, err_len, "%s:%d: %s", path, jerr.line, jerr.text);
		return -EINVAL;
	}
	rc = state_parse(root, st, err, err_len);
	json_decref(root);
	if (rc) {
		char reason[STATE_ERROR_MAX];

		snprintf(reason, sizeof(reason), "%s", err);
		snprintf(err, err_len, "%s: %s", path, reason);
		memset(st, 0, sizeof(*st));
	}
	return rc;
}

static json_t *state_to_json(const struct control_state *st)
{
	json_t *root = json_pack("{s:i}", "version", STATE_VERSION), *admission = json_object();
	json_t *services = json_array(), *blocks = json_array(), *sign = json_array(), *tickets = json_array();
	char text[STEER_ADDRESS_TEXT_MAX], hex[2 * SLUICE_CMD_SIGN_KEY_BYTES_MAX + 1], hex2[65], hex3[65];

	if (st->override_active)
		json_object_set_new(admission, "override",
				    json_pack("{s:s, s:I, s:s}", "state", admission_state_name(st->override_state), "expires",
					      (json_int_t)st->override_expires_s, "reason", st->override_reason));
	if (st->drain_active)
		json_object_set_new(admission, "drain",
				    json_pack("{s:I, s:s}", "since", (json_int_t)st->drain_since_s, "reason", st->drain_reason));
	for (uint32_t i = 0; i < st->service_count; i++) {
		steer_format_address(st->services[i].family, st->services[i].addr, text, sizeof(text));
		json_array_append_new(services, json_pack("{s:s, s:i, s:i}", "address", text, "port", st->services[i].port,
							  "id", (int)st->services[i].service_id));
	}
	for (uint32_t i = 0; i < st->block_count; i++) {
		steer_format_prefix(&st->blocks[i], text, sizeof(text));
		json_array_append_new(blocks, json_string(text));
	}
	for (uint32_t i = 0; i < st->keys.sign_count; i++) {
		keys_hex_encode(st->keys.sign[i].secret, st->keys.sign[i].length, hex);
		json_array_append_new(sign, json_pack("{s:i, s:s, s:I}", "kid", st->keys.sign[i].kid, "secret", hex,
						      "created", (json_int_t)st->keys.sign[i].created_s));
	}
	for (uint32_t i = 0; i < st->keys.ticket_count; i++) {
		keys_hex_encode(st->keys.ticket[i].name, 16, hex);
		keys_hex_encode(st->keys.ticket[i].aes_key, 32, hex2);
		keys_hex_encode(st->keys.ticket[i].hmac_key, 32, hex3);
		json_array_append_new(tickets, json_pack("{s:s, s:s, s:s, s:I}", "name", hex, "aes_key", hex2, "hmac_key",
							 hex3, "created", (json_int_t)st->keys.ticket[i].created_s));
	}
	OPENSSL_cleanse(hex, sizeof(hex));
	OPENSSL_cleanse(hex2, sizeof(hex2));
	OPENSSL_cleanse(hex3, sizeof(hex3));
	json_object_set_new(root, "admission", admission);
	json_object_set_new(root, "services", services);
	json_object_set_new(root, "blocklist", blocks);
	json_object_set_new(root, "sign_keys", sign);
	json_object_set_new(root, "ticket_keys", tickets);
	return root;
}

int state_save(const char *dir, const struct control_state *st, char *err, size_t err_len)
{
	char path[PATH_MAX], tmp[PATH_MAX + 32];
	json_t *root = state_to_json(st);
	char *text = root ? json_dumps(root, JSON_INDENT(1)) : NULL;
	size_t len = text ? strlen(text) : 0, done = 0;
	int fd = -1, dir_fd = -1, rc = 0;

	json_decref(root);
	if (!text)
		return -ENOMEM;
	snprintf(path, sizeof(path), "%s/%s", dir, STATE_FILE);
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = -errno;
		goto cleanup;
	}
	while (done < len) {
		ssize_t n = write(fd, text + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			goto cleanup;
		}
		done += (size_t)n;
	}
	if (fsync(fd) || close(fd)) {
		fd = -1;
		rc = -errno;
		goto cleanup;
	}
	fd = -1;
	if (rename(tmp, path)) {
		rc = -errno;
		goto cleanup;
	}
	dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir_fd >= 0)
		fsync(dir_fd);
cleanup:
	if (rc) {
		snprintf(err, err_len, "saving %s: %s", path, strerror(-rc));
		unlink(tmp);
	}
	if (fd >= 0)
		close(fd);
	if (dir_fd >= 0)
		close(dir_fd);
	OPENSSL_cleanse(text, len);
	free(text);
	return rc;
}

int state_quarantine(const char *dir, char *moved_to, size_t moved_len)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, STATE_FILE);
	snprintf(moved_to, moved_len, "%s.bad-%lld", path, (long long)time(NULL));
	return rename(path, moved_to) ? -errno : 0;
}
