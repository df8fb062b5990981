/* SPDX-License-Identifier: BSD-3-Clause
 *
 * tls_handshake.h: the TLS server handshake, done by OpenSSL 3.0 over memory BIOs, ending in
 * a key handoff to the data plane's own record layer (kTLS-style: OpenSSL does exactly what
 * it would do before handing keys to kernel TLS).
 *
 * tls_handshake_server (one per process, shared by all lcores; built on the control path):
 *   - one SSL_CTX per certificate (chain + key, RSA or ECDSA); the first is the default;
 *     the servername callback switches the SSL to the certificate whose names match the
 *     client's SNI (exact names first, then "*.domain" wildcards covering one label).
 *     A name that matches nothing, or no SNI at all, gets the default certificate and the
 *     handshake continues (no unrecognized_name alert): players with odd SNI still play;
 *   - TLS 1.2 and 1.3 only; AES-GCM only (TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384;
 *     ECDHE-ECDSA/RSA-AES128/256-GCM-SHA256/384); key exchange X25519, P-256, P-384 only
 *     (no finite-field DH, which would cost the server far more per handshake); no
 *     compression; no renegotiation;
 *     server cipher preference; ALPN: "http/1.1" only (a client offering ALPN without it gets
 *     no_application_protocol; a client offering no ALPN is served as HTTP/1.1);
 *   - session tickets encrypted with the shared struct tls_ticket_keyring (tls_ticket.h):
 *     stateless resumption, no server-side session cache; TLS 1.3 sends
 *     tickets_per_handshake NewSessionTickets; a ticket under a non-current key resumes and
 *     is renewed; an unknown key name means a full handshake.
 *   OpenSSL's SSL_CTX is safe to share between threads for creating SSL objects; nothing of
 *   tls_handshake_server is written after tls_handshake_server_create.
 *
 * tls_handshake (one per connection, on its lcore, until the handoff):
 *
 *   state      what feed() returned   next
 *   CONTINUE   bytes to send (maybe)  feed() with the next TCP payload
 *   DONE       bytes to send          send them, then tls_handshake_handoff(), then free
 *   FAILED     bytes to send: the     send them (an alert, if OpenSSL produced one), close
 *              alert, or nothing
 *
 *   Cost bound: each feed() runs SSL_do_handshake once on what has arrived; it returns when
 *   OpenSSL needs more input. A handshake may receive at most handshake_input_max bytes in
 *   all (default 32 KiB, counting application data that arrives with the client's Finished)
 *   before it fails, which bounds the memory and work any client can cause
 *   (at most two ClientHellos with HelloRetryRequest, one key exchange, one signature).
 *   The lead's queueing decides how many handshakes an lcore runs per loop iteration.
 *
 * The handoff (TLS 1.3): the keylog callback gives SERVER_TRAFFIC_SECRET_0 and
 * CLIENT_TRAFFIC_SECRET_0; keys and IVs come from HKDF-Expand-Label. The first server
 * application record number is the number of records OpenSSL wrote after it read the
 * client's Finished (its NewSessionTickets, counted with the message callback); the
 * client's is 0. TLS 1.2: the key block from the master secret; both sides' first
 * application record is 1 (the Finished messages were 0). Bytes the client sent after its
 * Finished (application data in the same TCP segment) are still in the read BIO: the handoff
 * returns them for the data plane's record reader. Then the SSL object is freed.
 *
 * Transient memory (OpenSSL's allocations, counted by perf/tls_bench, TLS 1.3, steady state):
 * ~49 KiB held while a handshake waits for the client's Finished (SSL object, session,
 * transcript, key share, message buffer, our output BIO; SSL_MODE_RELEASE_BUFFERS frees the
 * record buffers between flights), ~83 KiB at peak inside feed(), 0 once handed off and
 * freed. 10,000 concurrent handshakes on an lcore would hold ~0.5 GB: the lead's admission
 * should bound handshakes in progress per lcore.
 */
#ifndef SLUICE_TLS_HANDSHAKE_H
#define SLUICE_TLS_HANDSHAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tls_keys.h"
#include "tls_record.h"
#include "tls_ticket.h"

#define TLS_HANDSHAKE_SERVER_NAME_MAX 255
#define TLS_HANDSHAKE_INPUT_MAX 32768 /* bytes; default bound on a handshake's input */

struct tls_handshake_certificate {
	const char *chain_file;          /* PEM: the certificate, then its intermediates */
	const char *key_file;            /* PEM private key: RSA or EC */
	const char *const *server_names; /* NULL-terminated; NULL: the certificate's DNS names (SAN, else CN) */
};

struct tls_handshake_server_config {
	const struct tls_handshake_certificate *certificates; /* [0] is the default certificate */
	unsigned certificate_count;
	struct tls_ticket_keyring *ticket_keys; /* NULL: no session tickets */
	unsigned tickets_per_handshake;         /* TLS 1.3 NewSessionTickets; 0: OpenSSL's default (2) */
	uint32_t ticket_lifetime_s;             /* 0: 7200 */
	uint32_t handshake_input_max;           /* bytes; 0: TLS_HANDSHAKE_INPUT_MAX */
};

struct tls_handshake_server;
struct tls_handshake;

/* Control path. On failure, `error` says which file or setting and why. */
int tls_handshake_server_create(const struct tls_handshake_server_config *config,
				struct tls_handshake_server **out, char *error, size_t error_size);
void tls_handshake_server_free(struct tls_handshake_server *server);

enum tls_handshake_state {
	TLS_HANDSHAKE_CONTINUE = 0,
	TLS_HANDSHAKE_DONE = 1,
	TLS_HANDSHAKE_FAILED = 2,
};

struct tls_handshake_output {
	const uint8_t *bytes; /* to send; valid until the next feed or free */
	size_t length;
	enum tls_handshake_state state;
	uint8_t alert;        /* FAILED: the alert description in `bytes`, 0 if none was produced */
};

int tls_handshake_create(struct tls_handshake_server *server, struct tls_handshake **out);
void tls_handshake_free(struct tls_handshake *handshake);

/*
 * Feeds TCP payload received from the client. Returns 0 with *output filled (including FAILED:
 * a protocol failure is a state, not an error), -EINVAL if the handshake is not CONTINUE,
 * -ENOMEM.
 */
int tls_handshake_feed(struct tls_handshake *handshake, const void *input, size_t length,
		       struct tls_handshake_output *output);

/* What the data plane's record layer needs once the handshake is DONE. */
struct tls_handshake_handoff {
	uint16_t version;            /* TLS_VERSION_1_3 or TLS_VERSION_1_2 */
	uint8_t cipher;              /* enum tls_aead_cipher */
	uint8_t hash;                /* enum tls_hash of the suite (TLS 1.3 KeyUpdate) */
	struct tls_record_key write_key; /* server -> client */
	struct tls_record_key read_key;  /* client -> server */
	uint8_t write_secret[TLS_SECRET_MAX]; /* TLS 1.3 application traffic secrets */
	uint8_t read_secret[TLS_SECRET_MAX];
	uint64_t write_sequence;     /* number of the first record the data plane sends */
	uint64_t read_sequence;      /* number of the first record it receives */
	uint16_t record_plaintext_max; /* 16384, or less after max_fragment_length */
	bool resumed;
	bool alpn_http11;            /* the client negotiated "http/1.1" (false: it offered no ALPN) */
	uint8_t certificate_index;   /* which configured certificate was served */
	char server_name[TLS_HANDSHAKE_SERVER_NAME_MAX + 1]; /* the client's SNI, "" if none */
	const uint8_t *leftover;     /* client bytes received after its Finished: feed them to */
	size_t leftover_length;      /* tls_session_receive first; valid until tls_handshake_free */
};

/* Fills *handoff (DONE only: -EINVAL otherwise; -EPROTO if a secret is missing). Wipe it after use. */
int tls_handshake_handoff(struct tls_handshake *handshake, struct tls_handshake_handoff *handoff);

#endif /* SLUICE_TLS_HANDSHAKE_H */
