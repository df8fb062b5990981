/* SPDX-License-Identifier: BSD-3-Clause
 *
 * http_harness.h: the real HTTP server (dataplane/http/http_server.c) on the real TCP engine,
 * driven without DPDK through net_harness, with a real store: files written to a temporary
 * directory, a catalog built and loaded the way the data plane does, page-in requests served
 * by the test thread (store_pagein with no helper threads) when the test says so.
 *
 * Clients are modelled on top of the harness's frames: each has a port, sends request bytes
 * as TCP segments, and reassembles what the server sends into a byte stream, acknowledging it
 * (or not: tests hold ACKs back, advertise zero windows, or drop segments) as it goes.
 * http_client_next_response() cuts one response off the stream (status, fields, body by
 * Content-Length), so tests compare whole responses byte for byte. File bytes follow
 * http_harness_byte(file, offset), so any body can be checked against what it must be.
 */
#ifndef SLUICE_TEST_HTTP_HARNESS_H
#define SLUICE_TEST_HTTP_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/http_server.h"
#include "net_harness.h"
#include "store/catalog.h"
#include "store/store_pagein.h"

#define HTTP_HARNESS_CLIENTS 256
#define HTTP_HARNESS_FILES 8
#define HTTP_HARNESS_MTIME 1700000000 /* Tue, 14 Nov 2023 22:13:20 GMT */

struct http_harness_file {
	const char *name;              /* under the store root, e.g. "video/a.m4s" */
	uint64_t size;
};

struct http_client {
	uint16_t port;
	bool used;
	uint32_t snd_nxt;              /* client's next sequence number */
	uint32_t rcv_nxt;              /* next server sequence number expected */
	uint16_t window;               /* advertised window field (scale 7) */
	bool hold_acks;                /* receive but do not acknowledge */
	bool got_fin, got_rst;
	uint8_t *rx;                   /* response bytes received in order, not yet taken */
	size_t rx_len, rx_cap;
	size_t rx_taken;               /* bytes taken from the front of rx */
	uint64_t segments;
};

struct http_harness {
	struct harness net;
	struct http_server *srv;
	struct http_listener *listener;
	struct store_catalog *catalog;
	struct store_pagein *pagein;
	struct http_accesslog accesslog;
	bool pagein_manual;            /* page-ins wait for http_harness_serve_pageins */
	char root[128];
	char catalog_path[192];
	char accesslog_path[192];
	struct http_harness_file files[HTTP_HARNESS_FILES];
	uint32_t file_count;
	struct http_client clients[HTTP_HARNESS_CLIENTS];
};

/* The default files: a 1000-byte segment, a 300 000-byte one, an empty one, a 4 MiB one. */
extern const struct http_harness_file http_harness_default_files[];

/* Writes the files (NULL: the defaults), builds and loads the catalog, marks it resident,
 * creates the server with settings (NULL: defaults suitable for tests) and a page-in queue,
 * and an access log of accesslog_records per ring (0: none). */
void http_harness_init(struct http_harness *h, const struct http_harness_file *files,
		       const struct http_server_settings *settings, uint32_t max_connections,
		       uint32_t accesslog_records);
void http_harness_fini(struct http_harness *h);
/* Default settings, for tests that change one thing. */
void http_harness_settings(struct http_server_settings *s, uint32_t max_connections);

/* Byte at offset of file i (what the store holds). */
uint8_t http_harness_byte(uint32_t file, uint64_t offset);
/* The catalog entry of a URL path. */
const struct store_file *http_harness_file_entry(struct http_harness *h, const char *path);
/* Full path on disk of file i. */
void http_harness_file_path(const struct http_harness *h, uint32_t i, char *out, size_t size);

/* Opens a connection from port (handshake done). */
struct http_client *http_client_connect(struct http_harness *h, uint16_t port);
/* Sends bytes (one segment per 1400 bytes) and pumps. */
void http_client_send(struct http_harness *h, struct http_client *cl, const void *data, size_t len);
void http_client_send_str(struct http_harness *h, struct http_client *cl, const char *text);
void http_client_send_fin(struct http_harness *h, struct http_client *cl);
/* Acknowledges everything received (with the client's window). */
void http_client_ack(struct http_harness *h, struct http_client *cl);

/* Processes every frame the server sent: in-order payload appended to its client's stream,
 * ACKed unless held; then serves page-ins (unless manual) and completions; repeats until
 * quiet. */
void http_harness_pump(struct http_harness *h);
/* Moves the clock by us (timers run), then pumps. */
void http_harness_advance(struct http_harness *h, uint64_t us);
/* Serves every queued page-in request now and delivers completions. Returns how many. */
uint32_t http_harness_serve_pageins(struct http_harness *h);

struct http_test_response {
	int status;
	char head[4096];               /* the head, NUL-terminated */
	size_t head_len;
	const uint8_t *body;           /* into the client's buffer, valid until the next call */
	size_t body_len;
};

/* Takes the next complete response off the client's stream: true when one was there.
 * head_request: a response to HEAD (no body whatever Content-Length says). */
bool http_client_next_response(struct http_client *cl, struct http_test_response *r, bool head_request);
/* Value of a field in a response head (case-insensitive name), or NULL; copied into out. */
const char *http_test_field(const struct http_test_response *r, const char *name, char *out, size_t size);
/* Whether body equals file i's bytes from offset. */
bool http_harness_body_ok(const uint8_t *body, size_t len, uint32_t file, uint64_t offset);

/* Counter value on the harness lcore. */
#define HTTP_COUNTER(h, name) ((h)->net.ns.counters.value[DPC_##name])

#endif /* SLUICE_TEST_HTTP_HARNESS_H */
