/* SPDX-License-Identifier: BSD-3-Clause
 *
 * http_server.h: HTTP/1.1 serving on top of the data plane's TCP, one instance per lcore.
 *
 * The application behind the TCP listeners (struct tcp_app_ops): it takes request bytes,
 * parses them (http_parse.h), decides the answer — signed URL (url_sign.h), catalog lookup,
 * conditional request (http_cond.h), byte ranges (http_range.h), CORS (http_response.h) — and
 * answers by appending items to the connection's send queue: the response head (in a pooled
 * response slot, kept until acknowledged) and the body as references into a mapped file; a
 * multipart/byteranges body is a sequence of part heads (bytes in the slot) and file ranges.
 * TCP asks for bytes by stream offset (http_session_produce) for first transmissions and
 * retransmissions alike; the body is copied from the mapping straight into the packet, never
 * into a socket buffer.
 *
 * The store may not have a file's pages in memory (store_resident.h). The session extends the
 * transport's stream only over bytes whose chunks are resident; at the first chunk that is
 * not, it posts a page-in request to the helpers (store_pagein.h) and the connection is
 * "parked": TCP simply has nothing more to send for it while every other connection flows.
 * The helper's completion (drained by http_server_poll) extends the stream again. Bytes that
 * were extended while resident can be evicted before TCP (re)sends them: the source then says
 * "not yet" (-ENOBUFS from stream_produce, which TCP treats like a full TX path and retries)
 * and asks for a page-in, rather than fault on the lcore. A file that shrank underneath fails
 * only the responses that read it (connection reset), by the store's broken flag or by the
 * SIGBUS guard around every copy (store_guard.h). The same holds over TLS, which reads the
 * plaintext in place (http_session_map) under the same guard.
 *
 * Per-connection state (struct http_session) lives in the connection slot after the TCP part;
 * request buffers, response slots and send items come from per-lcore pools sized at start,
 * so an idle keep-alive connection holds no buffer at all. A connection's first response can
 * always get a slot (the pools keep one in reserve for every connection that has none);
 * further pipelined responses wait for room instead.
 *
 * Every response ends with one access log record (http_accesslog.h) when its last byte is
 * acknowledged or its connection ends.
 */
#ifndef SLUICE_HTTP_SERVER_H
#define SLUICE_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "http_accesslog.h"
#include "tcp/tcp.h"

struct net_stack;
struct store_catalog;
struct store_pagein_queue;
struct url_sign_keyring;
struct http_server;

#define HTTP_SETTING_TEXT_MAX 256

struct http_server_settings {
	/* Fixed at create. */
	uint32_t max_connections;         /* sizes the pools */
	uint32_t max_request_bytes;       /* request head limit and buffer size */
	/* Changeable while running (http_server_set_settings). 0 / "" where noted = the default. */
	uint32_t header_timeout_us;       /* whole request head, from its first byte */
	uint32_t keepalive_timeout_us;    /* idle between responses */
	uint32_t send_timeout_us;         /* no new data acknowledged while queued; 0: 60 s */
	uint32_t max_request_line_bytes;  /* 0: http_parse's default */
	uint32_t max_header_count;        /* 0: http_parse's default */
	uint64_t max_body_bytes;          /* request bodies skipped up to this */
	uint32_t max_ranges;              /* 0: ranges off */
	uint32_t readahead_bytes;         /* page-in unit ahead of a response; 0: 2 MiB */
	char server_name[64];
	char cache_control[HTTP_SETTING_TEXT_MAX];
	char cors_origins[CONFIG_CORS_ORIGINS_MAX * CONFIG_CORS_ORIGIN_MAX]; /* "", "*", or a list */
	char cors_allow_headers[HTTP_SETTING_TEXT_MAX];
	uint32_t cors_max_age_s;
	bool sign_required;
	uint32_t sign_skew_s;
	char sign_prefixes[HTTP_SETTING_TEXT_MAX]; /* separated by spaces or commas; "" = all */
};

/* Control path: the settings a configuration asks for. */
void http_server_settings_from_config(const struct dataplane_config *config, struct http_server_settings *settings);

/* Control path. catalog: the catalog to serve from the start. Creates the lcore's
 * intel-ipsec-mb manager for URL signatures. NULL with errno set. */
struct http_server *http_server_create(const struct http_server_settings *settings,
				       const struct store_catalog *catalog);
void http_server_destroy(struct http_server *srv);

/* On the lcore (or before it starts): the changeable part of settings (timeouts, limits,
 * headers, CORS, signing policy); the pool sizes stay. Takes effect for the next request. */
void http_server_set_settings(struct http_server *srv, const struct http_server_settings *settings);
/* On the lcore (or before it starts): copies the URL-signing key ring. */
void http_server_set_sign_keys(struct http_server *srv, const struct url_sign_keyring *ring);
/* Before the lcore starts: its page-in queue (NULL: every file counts as resident) and its
 * access log ring (ring NULL: no access log). lcore_id goes into the records. */
void http_server_set_pagein(struct http_server *srv, struct store_pagein_queue *queue);
void http_server_set_accesslog(struct http_server *srv, struct http_accesslog_writer writer, uint32_t lcore_id);

/* Once per loop iteration on the lcore: resumes connections whose page-in completed. */
void http_server_poll(struct http_server *srv, struct net_stack *ns);

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
/* Copies len plaintext bytes from offset (queued and not yet acknowledged) to dst. Returns 0;
 * -ENOBUFS when some of the bytes were evicted from the page cache since they were queued (a
 * page-in is under way: try again later, as for a full TX path); -EIO when the file shrank
 * (reset the connection). Copies from files are guarded against SIGBUS. */
int http_session_produce(struct net_stack *ns, struct tcp_conn *c, uint64_t offset, uint32_t len, uint8_t *dst);
/* Zero copy (the TLS transport seals from it): where the plaintext at offset is. */
struct http_session_piece {
	const uint8_t *bytes;
	uint32_t len;                  /* bytes that follow contiguously (stops at a chunk not resident) */
	const struct store_file *file; /* the store file they are mapped from; NULL: head bytes */
};
/* Fills *piece and returns 0; or -ENOBUFS when the bytes at offset are not resident any more
 * (evicted since they were queued: a page-in was requested, try again later as for a full TX
 * path; the transport's send_extend is called when it completes); -EIO when their file shrank
 * (counted in store_file_broken_resets: reset the connection); -EINVAL when offset is not
 * queued. Valid until the bytes are acknowledged. Reading through the pointer is not guarded
 * against SIGBUS: the reader runs under store_guard_call (store/store_guard.h) and, on a
 * fault, marks piece->file broken (tls_app.c). */
int http_session_map(struct net_stack *ns, struct tcp_conn *c, uint64_t offset, struct http_session_piece *piece);

/* Once per publish period on the lcore: refreshes the cached Date header and the wall clock
 * the access log uses (vDSO, no system call). */
void http_server_tick(struct http_server *srv, struct net_stack *ns);

#endif /* SLUICE_HTTP_SERVER_H */
