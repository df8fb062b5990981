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

/* The TCP application and the bytes of its per-connection state. */
extern const struct tcp_app_ops http_server_app_ops;
size_t http_session_size(void);

/* Once per publish period on the lcore: refreshes the cached Date header. */
void http_server_tick(struct http_server *srv, struct net_stack *ns);

#endif /* SLUICE_HTTP_SERVER_H */
