/* SPDX-License-Identifier: BSD-3-Clause
 *
 * http_harness.c: the HTTP server under test on the TCP engine and a real store (see
 * http_harness.h).
 */
#include "http_harness.h"

#include <CUnit/CUnit.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/store_resident.h"

const struct http_harness_file http_harness_default_files[] = {
	{"video/small.m4s", 1000},
	{"video/seg.m4s", 300000},
	{"video/empty.vtt", 0},
	{"video/big.mp4", 4 << 20},
	{NULL, 0},
};

uint8_t http_harness_byte(uint32_t file, uint64_t offset)
{
	uint64_t x = offset * 0x9e3779b97f4a7c15ull + file * 0x632be59bd9b4e019ull;

	return (uint8_t)(x >> 56 ^ x >> 23);
}

bool http_harness_body_ok(const uint8_t *body, size_t len, uint32_t file, uint64_t offset)
{
	for (size_t i = 0; i < len; i++)
		if (body[i] != http_harness_byte(file, offset + i))
			return false;
	return true;
}

void http_harness_file_path(const struct http_harness *h, uint32_t i, char *out, size_t size)
{
	snprintf(out, size, "%s/%s", h->root, h->files[i].name);
}

static void http_harness_write_file(struct http_harness *h, uint32_t i)
{
	char path[512], dir[512], *slash;
	uint8_t buf[65536];
	uint64_t off = 0;
	int fd;

	http_harness_file_path(h, i, path, sizeof(path));
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	*slash = 0;
	mkdir(dir, 0755);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CU_ASSERT_FATAL(fd >= 0);
	while (off < h->files[i].size) {
		size_t n = (size_t)SLUICE_MIN((uint64_t)sizeof(buf), h->files[i].size - off);

		for (size_t k = 0; k < n; k++)
			buf[k] = http_harness_byte(i, off + k);
		CU_ASSERT_FATAL(write(fd, buf, n) == (ssize_t)n);
		off += n;
	}
	{
		/* Last-Modified in the past (If-Range dates must be at least a second old). */
		struct timespec times[2] = {{HTTP_HARNESS_MTIME, 0}, {HTTP_HARNESS_MTIME, 0}};

		futimens(fd, times);
	}
	close(fd);
}

void http_harness_settings(struct http_server_settings *s, uint32_t max_connections)
{
	memset(s, 0, sizeof(*s));
	s->max_connections = max_connections;
	s->max_request_bytes = 8192;
	s->header_timeout_us = 10000000;
	s->keepalive_timeout_us = 60000000;
	s->send_timeout_us = 30000000;
	s->max_request_line_bytes = 4096;
	s->max_header_count = 64;
	s->max_body_bytes = 65536;
	s->max_ranges = 8;
	s->readahead_bytes = 256 * 1024;
	snprintf(s->server_name, sizeof(s->server_name), "sluice");
	snprintf(s->cache_control, sizeof(s->cache_control), "public, max-age=60");
	snprintf(s->cors_allow_headers, sizeof(s->cors_allow_headers), "Range");
	s->cors_max_age_s = 600;
	s->sign_skew_s = 5;
}

void http_harness_init(struct http_harness *h, const struct http_harness_file *files,
		       const struct http_server_settings *settings, uint32_t max_connections,
		       uint32_t accesslog_records)
{
	struct http_server_settings defaults;
	struct store_sweep_result sweep = {0};
	static uint8_t vec[STORE_SWEEP_VEC_BYTES];
	char err[256];

	memset(h, 0, sizeof(*h));
	if (!files)
		files = http_harness_default_files;
	snprintf(h->root, sizeof(h->root), "/tmp/sluice-http-test.XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(h->root));
	for (uint32_t i = 0; files[i].name && i < HTTP_HARNESS_FILES; i++) {
		h->files[i] = files[i];
		h->file_count = i + 1;
		http_harness_write_file(h, i);
	}
	snprintf(h->catalog_path, sizeof(h->catalog_path), "%s/catalog.json", h->root);
	CU_ASSERT_FATAL(store_catalog_build(h->root, h->catalog_path, 7, err, sizeof(err)) == (int)h->file_count);
	h->catalog = store_catalog_load(h->root, h->catalog_path, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(h->catalog);
	/* Just written: every page is in the page cache. */
	store_resident_sweep_catalog(h->catalog, vec, &sweep);
	if (!settings) {
		http_harness_settings(&defaults, max_connections);
		settings = &defaults;
	}
	h->srv = http_server_create(settings, h->catalog);
	CU_ASSERT_PTR_NOT_NULL_FATAL(h->srv);
	h->pagein = store_pagein_create(1, 64, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(h->pagein);
	http_server_set_pagein(h->srv, store_pagein_queue_of(h->pagein, 0));
	if (accesslog_records) {
		snprintf(h->accesslog_path, sizeof(h->accesslog_path), "%s/accesslog", h->root);
		CU_ASSERT_FATAL(http_accesslog_create(&h->accesslog, h->accesslog_path, 1, accesslog_records) == 0);
		http_server_set_accesslog(h->srv, http_accesslog_writer_of(&h->accesslog, 0, 1), 1);
	}
	h->listener = http_server_listener(h->srv, &http_plain_transport, NULL);
	harness_init_app(&h->net, max_connections, (uint32_t)http_session_size(), 80, &http_plain_app_ops, h->listener);
	h->net.tx_room = HARNESS_FRAMES_MAX;
	http_server_tick(h->srv, &h->net.ns);
}

void http_harness_fini(struct http_harness *h)
{
	char cmd[300];

	harness_fini(&h->net);
	store_pagein_destroy(h->pagein);
	http_server_destroy(h->srv);
	store_catalog_free(h->catalog);
	http_accesslog_close(&h->accesslog);
	for (uint32_t i = 0; i < HTTP_HARNESS_CLIENTS; i++)
		free(h->clients[i].rx);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", h->root);
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", h->root);
	memset(h, 0, sizeof(*h));
}

const struct store_file *http_harness_file_entry(struct http_harness *h, const char *path)
{
	return store_catalog_lookup(h->catalog, path, strlen(path));
}

static struct http_client *http_client_of_port(struct http_harness *h, uint16_t port)
{
	for (uint32_t i = 0; i < HTTP_HARNESS_CLIENTS; i++)
		if (h->clients[i].used && h->clients[i].port == port)
			return &h->clients[i];
	return NULL;
}

static void http_client_append(struct http_client *cl, const uint8_t *data, size_t len)
{
	if (cl->rx_len + len > cl->rx_cap) {
		cl->rx_cap = (cl->rx_len + len) * 2 + 65536;
		cl->rx = realloc(cl->rx, cl->rx_cap);
		CU_ASSERT_PTR_NOT_NULL_FATAL(cl->rx);
	}
	memcpy(cl->rx + cl->rx_len, data, len);
	cl->rx_len += len;
}

void http_client_ack(struct http_harness *h, struct http_client *cl)
{
	harness_send_tcp(&h->net, cl->port, 80, TCP_FLAG_ACK, cl->snd_nxt, cl->rcv_nxt, cl->window, NULL, NULL, 0);
}

/* One pass over the captured frames; returns whether any carried something new. */
static bool http_harness_deliver(struct http_harness *h)
{
	uint32_t count = h->net.tx_count;
	bool progress = false;
	struct harness_frame frames[HARNESS_FRAMES_MAX];
	bool ack[HTTP_HARNESS_CLIENTS] = {false};

	if (!count)
		return false;
	/* Take the frames out first: acknowledging makes the server send more. */
	memcpy(frames, h->net.tx, count * sizeof(frames[0]));
	h->net.tx_count = 0;
	h->net.tx_room = HARNESS_FRAMES_MAX; /* a full "port" holds TCP back instead of dropping */
	for (uint32_t i = 0; i < count; i++) {
		struct harness_segment seg;
		struct http_client *cl;

		if (!harness_parse_tcp(frames[i].data, frames[i].len, &seg) || !(cl = http_client_of_port(h, seg.dst_port))) {
			free(frames[i].data);
			continue;
		}
		CU_ASSERT(seg.checksum_ok);
		cl->segments++;
		if (seg.flags & TCP_FLAG_RST) {
			cl->got_rst = true;
			progress = true;
		} else {
			uint32_t len = seg.payload_len + !!(seg.flags & TCP_FLAG_FIN);

			if (seg.seq == cl->rcv_nxt && len) {
				http_client_append(cl, seg.payload, seg.payload_len);
				cl->rcv_nxt += len;
				if (seg.flags & TCP_FLAG_FIN)
					cl->got_fin = true;
				progress = true;
				ack[cl - h->clients] = true;
			} else if (len) {
				ack[cl - h->clients] = true; /* a duplicate: tell it where we are */
			}
		}
		free(frames[i].data);
	}
	for (uint32_t i = 0; i < HTTP_HARNESS_CLIENTS; i++)
		if (ack[i] && !h->clients[i].hold_acks && !h->clients[i].got_rst)
			http_client_ack(h, &h->clients[i]);
	return progress;
}

uint32_t http_harness_serve_pageins(struct http_harness *h)
{
	uint32_t n = store_pagein_service(h->pagein, 1000);

	http_server_poll(h->srv, &h->net.ns);
	harness_run_output(&h->net);
	return n;
}

void http_harness_pump(struct http_harness *h)
{
	for (int round = 0; round < 100000; round++) {
		bool progress = http_harness_deliver(h);

		if (!h->pagein_manual && store_pagein_service(h->pagein, 1000))
			progress = true;
		http_server_poll(h->srv, &h->net.ns);
		harness_run_output(&h->net);
		if (!progress && !h->net.tx_count)
			return;
	}
	CU_FAIL("http_harness_pump: no quiescence");
}

void http_harness_advance(struct http_harness *h, uint64_t us)
{
	/* In steps, so that timers fire in order and output follows each. */
	while (us) {
		uint64_t step = us < 100000 ? us : 100000;

		harness_advance(&h->net, step);
		us -= step;
		http_harness_pump(h);
	}
}

struct http_client *http_client_connect(struct http_harness *h, uint16_t port)
{
	struct http_client *cl = NULL;
	uint32_t iss, isn = 1000u + port * 7919u;

	for (uint32_t i = 0; i < HTTP_HARNESS_CLIENTS && !cl; i++)
		if (!h->clients[i].used)
			cl = &h->clients[i];
	CU_ASSERT_PTR_NOT_NULL_FATAL(cl);
	free(cl->rx);
	memset(cl, 0, sizeof(*cl));
	cl->used = true;
	cl->port = port;
	cl->window = 0xffff; /* with window scale 7: about 8 MB */
	iss = harness_handshake(&h->net, port, isn, cl->window);
	cl->snd_nxt = isn + 1;
	cl->rcv_nxt = iss + 1;
	http_harness_pump(h);
	return cl;
}

void http_client_send(struct http_harness *h, struct http_client *cl, const void *data, size_t len)
{
	const uint8_t *p = data;

	while (len) {
		uint32_t n = (uint32_t)SLUICE_MIN(len, (size_t)1400);

		harness_send_tcp(&h->net, cl->port, 80, TCP_FLAG_ACK | TCP_FLAG_PSH, cl->snd_nxt, cl->rcv_nxt, cl->window,
				 NULL, p, n);
		cl->snd_nxt += n;
		p += n;
		len -= n;
	}
	http_harness_pump(h);
}

void http_client_send_str(struct http_harness *h, struct http_client *cl, const char *text)
{
	http_client_send(h, cl, text, strlen(text));
}

void http_client_send_fin(struct http_harness *h, struct http_client *cl)
{
	harness_send_tcp(&h->net, cl->port, 80, TCP_FLAG_ACK | TCP_FLAG_FIN, cl->snd_nxt, cl->rcv_nxt, cl->window, NULL,
			 NULL, 0);
	cl->snd_nxt++;
	http_harness_pump(h);
}

const char *http_test_field(const struct http_test_response *r, const char *name, char *out, size_t size)
{
	size_t name_len = strlen(name);
	const char *p = strstr(r->head, "\r\n");

	while (p && p[2] != '\r') {
		const char *line = p + 2, *end = strstr(line, "\r\n");

		if (!end)
			break;
		if ((size_t)(end - line) > name_len && line[name_len] == ':' && !strncasecmp(line, name, name_len)) {
			const char *v = line + name_len + 1;

			while (*v == ' ')
				v++;
			snprintf(out, size, "%.*s", (int)(end - v), v);
			return out;
		}
		p = end;
	}
	return NULL;
}

bool http_client_next_response(struct http_client *cl, struct http_test_response *r, bool head_request)
{
	const uint8_t *start = cl->rx + cl->rx_taken;
	size_t avail = cl->rx_len - cl->rx_taken;
	const uint8_t *end = NULL;
	char value[64];

	memset(r, 0, sizeof(*r));
	for (size_t i = 0; i + 3 < avail; i++)
		if (!memcmp(start + i, "\r\n\r\n", 4)) {
			end = start + i + 4;
			break;
		}
	if (!end || (size_t)(end - start) >= sizeof(r->head))
		return false;
	r->head_len = (size_t)(end - start);
	memcpy(r->head, start, r->head_len);
	r->head[r->head_len] = 0;
	if (sscanf(r->head, "HTTP/1.1 %d ", &r->status) != 1)
		return false;
	if (!head_request && r->status != 304 && r->status != 204 && http_test_field(r, "Content-Length", value, sizeof(value)))
		r->body_len = strtoull(value, NULL, 10);
	if (r->head_len + r->body_len > avail)
		return false;
	r->body = end;
	cl->rx_taken += r->head_len + r->body_len;
	return true;
}
