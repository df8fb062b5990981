/* SPDX-License-Identifier: BSD-3-Clause
 *
 * tls_app.h: HTTPS on the data plane's TCP: the TLS transport under the HTTP session.
 *
 * The HTTPS listener's TCP application (struct tcp_app_ops tls_app_ops) and the HTTP
 * transport it offers the session (struct http_transport_ops tls_transport). It joins the TLS
 * library of this folder to TCP and HTTP:
 *
 *   TCP bytes in ─► handshake: tls_handshake_feed (OpenSSL over memory BIOs)
 *                   then:      tls_session_receive ─► plaintext ─► http_session_received
 *   TCP asks for send-stream bytes [off, off+len) ─►
 *                   [0, H):    the handshake's output, kept here until acknowledged
 *                   [H, ...):  tls_session_produce, sealing from http_session_map (the
 *                              mapped file or the response-head buffer) straight into the
 *                              packet buffers: the encryption is the pass over the bytes,
 *                              under the store's SIGBUS guard (store_guard_call)
 *                   bytes being paged in: -ENOBUFS, TCP retries later, the TLS stream
 *                              unchanged; a file that shrank (broken flag, or SIGBUS while
 *                              sealing): -EIO, TCP resets only this connection (tls_app.c)
 *   TCP acked(off) ─► tls_session_acked ─► http_session_acked(plaintext offset)
 *   HTTP send_extend(plaintext end) ─► tls_session_append ─► tcp_send_extend(wire end)
 *   HTTP send_close ─► close_notify, then FIN
 *
 * One struct tls_app per worker lcore (STYLE.md rule 1): the AEAD worker, the pools, the
 * queue of handshakes waiting for their turn. Shared by every lcore and built on the control
 * path: the OpenSSL server contexts (struct tls_handshake_server) and the session-ticket key
 * ring (struct tls_ticket_keyring, rotated from outside through RCU).
 *
 * Memory per connection. The connection slot's application area holds the HTTP session and
 * then a struct tls_conn (32 bytes: pool indices, the handshake length, receive-buffer
 * cursors, state); every connection slot of an lcore that serves HTTPS has that size, plain
 * or TLS: 408 (TCP) + 96 (HTTP) + 32 rounded to cache lines is 576 bytes, against 512 on an
 * lcore without HTTPS (checked by test_tls_app). A TLS connection also holds, by index:
 *   - a struct tls_session (1344 bytes) from the lcore's session pool, once established;
 *   - while handshaking: a handshake slot (the OpenSSL handshake, ~49 KiB of OpenSSL's
 *     heap, and the handshake output kept for retransmission, up to 16 KiB) — at most
 *     max_handshakes per lcore run at once; the slot's output outlives the handshake until
 *     TCP has it acknowledged (at most 2 x max_handshakes slots);
 *   - a receive buffer (16,704 bytes) only while a record is incomplete, a ClientHello
 *     waits in the queue, or HTTP has not taken all of a record's plaintext.
 * Pools are reserved up front (mmap: pages cost nothing until used).
 *
 * Handshake admission. A ClientHello costs the server a signature and a key exchange
 * (~0.7 ms ECDSA P-256, ~2 ms RSA-2048 on this class of CPU): done inline in the receive
 * path, a burst of them would stall every established connection of the lcore. So at most
 * handshakes_per_iteration handshakes start per loop iteration, and at most max_handshakes
 * are in progress; a ClientHello beyond that is kept in a receive buffer and queued (FIFO),
 * and tls_app_poll, run by the worker loop after the RX burst, starts queued ones as the
 * budget allows. Later messages of a started handshake (the client's Finished) run at once:
 * they are cheap, and finishing handshakes is what frees slots. A handshake that does not
 * finish within handshake_timeout_us (queued or not) is reset.
 *
 * Per packet (received, produce, acked): no allocation outside OpenSSL's handshake path, no
 * I/O, no lock; counters only (STYLE.md rule 10).
 */
#ifndef SLUICE_TLS_APP_H
#define SLUICE_TLS_APP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "http/http_server.h"
#include "tcp/tcp.h"
#include "tls_aead.h"
#include "tls_handshake.h"
#include "tls_ticket.h"

struct net_stack;
struct tls_app;

#define TLS_APP_HANDSHAKE_OUTPUT_MAX 16384 /* bytes of handshake output kept per connection */
#define TLS_APP_RECEIVE_BUFFER 16704       /* bytes: one whole record (<= 16,645) rounded up */
#define TLS_APP_SPILL_ENTRIES 16           /* per lcore: record tails sealed ahead, see tls_app.c */

struct tls_app_settings {
	const struct tls_aead_engine *engine;
	struct tls_handshake_server *server;   /* shared by every lcore */
	struct tls_ticket_keyring *ticket_keys; /* shared; NULL: no session tickets */
	unsigned ticket_reader;                /* this lcore's reader id in ticket_keys */
	uint32_t sessions;                     /* established TLS connections per lcore */
	uint32_t receive_buffers;              /* per lcore */
	uint32_t max_handshakes;               /* in progress at once, per lcore */
	uint32_t handshakes_per_iteration;     /* started per loop iteration */
	uint32_t handshake_timeout_us;         /* accept to key handoff */
};

/* Control path: one per worker lcore (the AEAD worker is created here). NULL with errno. */
struct tls_app *tls_app_create(const struct tls_app_settings *settings);
/* After tcp_stack_destroy (which releases every connection). NULL is a no-op. */
void tls_app_destroy(struct tls_app *app);

/* Bytes of a connection's application area when the lcore has an HTTPS listener: the HTTP
 * session, then struct tls_conn. Pass it as tcp_settings.app_size. */
size_t tls_app_area_size(void);

/* The TCP application of the HTTPS listener; its app_ctx is an http_listener made with
 * http_server_listener(server, &tls_transport, app). */
extern const struct tcp_app_ops tls_app_ops;
extern const struct http_transport_ops tls_transport;

/*
 * Once per loop iteration, after the RX burst and before TCP output: starts queued
 * handshakes within the iteration's budget, renews the budget, and marks a quiescent state
 * for the ticket key ring (outside any handshake). Returns the handshakes it started.
 */
unsigned tls_app_poll(struct tls_app *app, struct net_stack *ns);

/* The lcore stops polling: it must not hold ticket key rotations up any more. */
void tls_app_stop(struct tls_app *app);

/* Human-readable AEAD implementation of this lcore (logging). */
const char *tls_app_engine_description(const struct tls_app *app);

#endif /* SLUICE_TLS_APP_H */
