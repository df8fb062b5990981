/* SPDX-License-Identifier: BSD-3-Clause
 *
 * sluice_cmd.h: the command protocol between sluice-control (client) and sluice-dataplane
 * (server), over a UNIX SOCK_SEQPACKET socket (dataplane.api.command_socket).
 *
 * One request message, one reply message; message boundaries are the socket's, so there is
 * no framing to get wrong. Every message starts with struct sluice_cmd_header; the payload
 * that follows is the fixed struct of its type (sizes asserted below), little endian, no
 * pointers. A reply has type | SLUICE_CMD_REPLY and starts with struct sluice_cmd_result
 * (status 0 or -errno, and a message naming the problem), followed by the type's reply
 * struct if it has one.
 *
 * Versioning: SLUICE_CMD_VERSION grows when a message changes; the server answers a request
 * of another version with -EPROTO and its own version in the reply header, so a client knows
 * what it talks to (HELLO is answered whatever the version). New commands get new type
 * numbers; numbers are never reused. A server answers unknown types with -EOPNOTSUPP.
 *
 * Commands that change what the lcores do (catalog, admission, drain) are applied by every
 * worker lcore at its next loop iteration, between packets; the reply is sent when all have
 * applied it (or with -ETIMEDOUT after a second, naming the lcore that did not).
 */
#ifndef SLUICE_API_CMD_H
#define SLUICE_API_CMD_H

#include <stdint.h>

#define SLUICE_CMD_MAGIC 0x444d4353u /* "SCMD" */
#define SLUICE_CMD_VERSION 1
#define SLUICE_CMD_REPLY 0x8000u
#define SLUICE_CMD_MESSAGE_MAX 4096

enum sluice_cmd_type {
	SLUICE_CMD_HELLO = 1,          /* -> sluice_cmd_hello_reply */
	SLUICE_CMD_CATALOG_RELOAD = 2, /* sluice_cmd_catalog_reload -> sluice_cmd_catalog_reply */
	SLUICE_CMD_ADMISSION_SET = 3,  /* sluice_cmd_admission */
	SLUICE_CMD_STATUS = 4,         /* -> sluice_cmd_status_reply */
	SLUICE_CMD_SIGN_KEYS_SET = 5,  /* sluice_cmd_sign_keys: URL-signing keys (replace all) */
	SLUICE_CMD_TICKET_KEYS_SET = 6, /* sluice_cmd_ticket_keys: TLS session ticket keys */
	SLUICE_CMD_CONFIG_RELOAD = 7,  /* sluice_cmd_config_reload: re-read the config file */
};

struct sluice_cmd_header {
	uint32_t magic;
	uint16_t version;
	uint16_t type;
	uint32_t length;               /* payload bytes after this header */
	uint32_t request_id;           /* echoed in the reply */
};
_Static_assert(sizeof(struct sluice_cmd_header) == 16, "command header is a contract");

struct sluice_cmd_result {
	int32_t status;                /* 0 or -errno */
	char message[252];             /* NUL-terminated; what went wrong, or what was done */
};
_Static_assert(sizeof(struct sluice_cmd_result) == 256, "command result is a contract");

struct sluice_cmd_hello_reply {
	int32_t pid;
	uint32_t lcore_count;
	uint64_t start_time_ns;        /* CLOCK_REALTIME */
	uint64_t catalog_version;
	char version_string[32];
};
_Static_assert(sizeof(struct sluice_cmd_hello_reply) == 56, "hello reply is a contract");

/* Load a catalog file and switch every lcore to it. path "" = the configured catalog. */
struct sluice_cmd_catalog_reload {
	char path[256];
};
_Static_assert(sizeof(struct sluice_cmd_catalog_reload) == 256, "catalog reload is a contract");

struct sluice_cmd_catalog_reply {
	uint64_t version;
	uint32_t files;
	uint32_t rejected;             /* entries skipped (file missing or of another size) */
	uint32_t previous_pending;     /* older catalogs still held by in-flight responses */
	uint32_t reserved;
};
_Static_assert(sizeof(struct sluice_cmd_catalog_reply) == 24, "catalog reply is a contract");

/* Admission of new connections by the data plane itself (the steering program refuses
 * them earlier when it is loaded): open accepts; draining and closed answer a SYN with RST
 * and let established connections finish; draining is reported as such so the control plane
 * can tell "finishing up" from "shut". */
enum sluice_admission {
	SLUICE_ADMISSION_OPEN = 0,
	SLUICE_ADMISSION_DRAINING = 1,
	SLUICE_ADMISSION_CLOSED = 2,
};

struct sluice_cmd_admission {
	uint32_t state;                /* enum sluice_admission */
	uint32_t reserved;
};
_Static_assert(sizeof(struct sluice_cmd_admission) == 8, "admission is a contract");

struct sluice_cmd_status_reply {
	uint32_t admission;            /* enum sluice_admission */
	uint32_t lcore_count;
	uint64_t catalog_version;
	uint64_t connections;          /* established and closing, all lcores */
};
_Static_assert(sizeof(struct sluice_cmd_status_reply) == 24, "status reply is a contract");

/* URL-signing keys (dataplane/http/url_sign.h): the whole set, replacing the previous one.
 * Several keys are valid at once so the backend can rotate: add the new key, move minting
 * to it, drop the old one when its tokens have expired. */
#define SLUICE_CMD_SIGN_KEYS_MAX 16
#define SLUICE_CMD_SIGN_KEY_BYTES_MAX 64

struct sluice_cmd_sign_key {
	uint8_t kid;                   /* 1..255 */
	uint8_t length;                /* secret bytes, 32..64 */
	uint8_t reserved[6];
	uint8_t secret[SLUICE_CMD_SIGN_KEY_BYTES_MAX];
};
_Static_assert(sizeof(struct sluice_cmd_sign_key) == 72, "sign key is a contract");

struct sluice_cmd_sign_keys {
	uint32_t count;
	uint32_t reserved;
	struct sluice_cmd_sign_key keys[SLUICE_CMD_SIGN_KEYS_MAX];
};
_Static_assert(sizeof(struct sluice_cmd_sign_keys) == 1160, "sign keys is a contract");

/* TLS session ticket keys (dataplane/tls/tls_ticket.h), shared by every lcore: keys[0]
 * encrypts new tickets, every key in the set still decrypts (resumes) tickets it made. */
#define SLUICE_CMD_TICKET_KEYS_MAX 4

struct sluice_cmd_ticket_key {
	uint8_t name[16];
	uint8_t aes_key[32];
	uint8_t hmac_key[32];
};
_Static_assert(sizeof(struct sluice_cmd_ticket_key) == 80, "ticket key is a contract");

struct sluice_cmd_ticket_keys {
	uint32_t count;                /* 1..SLUICE_CMD_TICKET_KEYS_MAX */
	uint32_t reserved;
	struct sluice_cmd_ticket_key keys[SLUICE_CMD_TICKET_KEYS_MAX];
};
_Static_assert(sizeof(struct sluice_cmd_ticket_keys) == 328, "ticket keys is a contract");

/* Re-read the configuration file (path "" = the one the data plane started with) and apply
 * what can change while running (timeouts, HTTP headers, CORS, ...); settings that need a
 * restart (port, lcores, addresses, memory) are compared and named in the reply message
 * when they differ, and nothing is applied if the file is invalid. */
struct sluice_cmd_config_reload {
	char path[256];
};
_Static_assert(sizeof(struct sluice_cmd_config_reload) == 256, "config reload is a contract");

#endif /* SLUICE_API_CMD_H */
