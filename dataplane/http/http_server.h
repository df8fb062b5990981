/* SPDX-License-Identifier: BSD-3-Clause
 *
 * http_server.h: HTTP/1.1 serving on top of the data plane's TCP, one instance per lcore.
 *
 * The application behind the TCP listeners (struct tcp_app_ops): it takes request bytes,
 * parses them (http_parse.h), looks the path up in the store catalog, and answers by
 * appending items to the connection's send queue — the response head (a few hundred bytes
 * in a pooled buffer, kept until acknowledged) and the body as a reference into a mapped
 * file. TCP asks for bytes by stream offset (http_server's stream_produce) for first
 * transmissions and retransmissions alike; the body is copied from the mapping straight into
 * the packet, never into a socket buffer.
 *
 * Per-connection state (struct http_session) lives in the connection slot after the TCP part;
 * request buffers, head buffers and send items come from per-lcore pools sized at start, so
 * an idle keep-alive connection holds no buffer at all.
 */
#ifndef SLUICE_HTTP_SERVER_H
#define SLUICE_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "tcp/tcp.h"

struct net_stack;
struct store_catalog;
struct http_server;

struct http_server_settings {
	uint32_t max_connections;         /* sizes the pools */
	uint32_t max_request_bytes;
	uint32_t header_timeout_us;
	uint32_t keepalive_timeout_us;
	char server_name[64];
};

/* Control path. catalog: the catalog to serve from the start. */
struct http_server *http_server_create(const struct http_server_settings *settings,
				       const struct store_catalog *catalog);
void http_server_destroy(struct http_server *srv);

/* Catalog generations. A worker switches to a new catalog between packets
 * (http_server_set_catalog, on its lcore); responses already queued keep their files from the
 * catalog they started with, which stays "held" until the last of them is released. Returns
 * 0, or -EBUSY when HTTP_CATALOG_GENERATIONS catalogs are held already (nothing changed). */
#define HTTP_CATALOG_GENERATIONS 4
int http_server_set_catalog(struct http_server *srv, const struct store_catalog *catalog);
/* Any thread: whether this lcore still holds catalog (current or referenced by a response).
 * The main thread frees an old catalog only when no lcore holds it. */
bool http_server_catalog_held(const struct http_server *srv, const struct store_catalog *catalog);

/* --- transports -------------------------------------------------------------------------
 *
 * HTTP runs over a transport: plain TCP (http_plain_transport, with http_plain_app_ops as the
 * TCP application) or TLS (dataplane/tls's app, which decrypts, then calls the http_session_*
 * functions with plaintext). The HTTP session speaks in plaintext stream offsets; the
 * transport maps them to TCP. Each listener gets a struct http_listener (its TCP app_ctx)
 * naming the server and the transport. A connection's application area starts with the
 * HTTP session (http_session_size() bytes); a transport keeps its own state after it. */
struct http_transport_ops {
	const char *name;
	/* HTTP queued plaintext up to stream offset end. */
	void (*send_extend)(struct net_stack *ns, struct tcp_conn *c, uint64_t end);
	/* Nothing follows the queued bytes: end the stream after them (TLS: close_notify). */
	void (*send_close)(struct net_stack *ns, struct tcp_conn *c);
	/* The session consumed buffered request bytes and can take more. */
	void (*receive_space_changed)(struct net_stack *ns, struct tcp_conn *c);
};

#define HTTP_LISTENERS_MAX 4

struct http_listener {
	struct http_server *server;
	const struct http_transport_ops *transport;
	void *transport_ctx;
};

extern const struct http_transport_ops http_plain_transport;
extern const struct tcp_app_ops http_plain_app_ops;

/* Control path: the TCP app_ctx for a listener of this server over transport. */
struct http_listener *http_server_listener(struct http_server *srv, const struct http_transport_ops *transport,
					   void *transport_ctx);
struct http_server *http_listener_server(const struct http_listener *l);

/* Bytes of the HTTP part of a connection's application area. */
size_t http_session_size(void);

/* The session, called by the transport (plaintext in, plaintext offsets out). They follow
 * struct tcp_app_ops's contract. */
int http_session_accepted(struct net_stack *ns, struct tcp_conn *c);
uint32_t http_session_received(struct net_stack *ns, struct tcp_conn *c, const uint8_t *data, uint32_t len);
uint32_t http_session_receive_space(struct net_stack *ns, const struct tcp_conn *c);
void http_session_acked(struct net_stack *ns, struct tcp_conn *c, uint64_t offset);
void http_session_peer_closed(struct net_stack *ns, struct tcp_conn *c);
void http_session_timeout(struct net_stack *ns, struct tcp_conn *c);
void http_session_released(struct net_stack *ns, struct tcp_conn *c, enum tcp_close_reason reason);
/* Copies len plaintext bytes from offset (queued and not yet acknowledged) to dst. */
int http_session_produce(struct net_stack *ns, struct tcp_conn *c, uint64_t offset, uint32_t len, uint8_t *dst);
/* Zero copy: a pointer to the plaintext at offset and how many bytes follow contiguously
 * (*len), or NULL when offset is not queued. Valid until the bytes are acknowledged. */
const uint8_t *http_session_map(struct net_stack *ns, struct tcp_conn *c, uint64_t offset, uint32_t *len);

/* Once per publish period on the lcore: refreshes the cached Date header. */
void http_server_tick(struct http_server *srv, struct net_stack *ns);

#endif /* SLUICE_HTTP_SERVER_H */
