/* SPDX-License-Identifier: BSD-3-Clause
 *
 * http_server.c: the HTTP/1.1 application on the data plane's TCP (see http_server.h).
 * Per request and per packet; pools are allocated at create time only.
 *
 * Session states (struct http_session), as functions:
 *   reading      http_received → http_process_requests: bytes into the request buffer,
 *                complete heads answered in order (pipelining) while the queue has room
 *   answering    http_queue_* append send items; TCP sends them (http_stream_produce) and
 *                http_acked releases what the peer acknowledged, then resumes reading
 *   closing      after "Connection: close", an error, or the peer's FIN: FIN after the
 *                queued bytes (tcp_send_close); nothing more is read
 * Timeouts (one application deadline in TCP): header_timeout while a request head is
 * incomplete (slowloris), keepalive_timeout while idle between requests.
 */
#include "http_server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compiler.h"
#include "http_parse.h"
#include "net/stack.h"
#include "store/catalog.h"

#define HTTP_HEAD_BUFFER_BYTES 1024
#define HTTP_PIPELINE_MAX 8        /* responses queued per connection before reading pauses */

enum http_item_kind { HTTP_ITEM_BYTES = 1, HTTP_ITEM_FILE = 2 };

struct http_send_item {
	uint64_t stream_start;
	uint64_t len;
	uint32_t next;                 /* index + 1 */
	uint8_t kind;
	uint8_t last_of_response;
	uint8_t generation;            /* FILE: catalog generation slot holding the file */
	uint8_t pad;
	union {
		uint32_t buffer;       /* BYTES: head buffer index + 1 */
		struct {
			const struct store_file *file;
			uint64_t offset;
		} file;
	};
};

struct http_session {
	uint32_t request_buffer;       /* index + 1, 0 = none held */
	uint32_t request_len;
	struct http_parser parser;
	uint32_t queue_head, queue_tail;
	uint32_t queued_responses;
	uint8_t closing;
	uint8_t peer_fin;
	uint16_t pad;
	uint64_t queue_end;            /* stream offset after the last queued byte */
};

struct http_pool {
	uint32_t free_head;            /* index + 1 */
	uint32_t *next;
	uint32_t count;
};

/* A catalog this lcore serves from or still sends files of. */
struct http_catalog_generation {
	const struct store_catalog *catalog;
	uint32_t file_items;           /* queued FILE items referencing it */
};

struct http_server {
	struct http_server_settings settings;
	uint32_t current;              /* generation slot of the catalog for new requests */
	struct http_catalog_generation generations[HTTP_CATALOG_GENERATIONS];
	/* What the main thread reads: catalogs held (written only by this lcore). */
	const struct store_catalog *volatile held[HTTP_CATALOG_GENERATIONS];
	struct http_limits limits;
	struct http_pool request_pool;
	uint8_t *request_buffers;
	struct http_pool head_pool;
	uint8_t *head_buffers;
	struct http_pool item_pool;
	struct http_send_item *items;
	time_t date_second;
	char date[40];                 /* IMF-fixdate of date_second */
	struct http_listener listeners[HTTP_LISTENERS_MAX];
	struct http_request request;   /* scratch for the request being answered */
	char path[STORE_PATH_MAX];     /* scratch: its decoded path */
};

size_t http_session_size(void)
{
	return sizeof(struct http_session);
}

/* --- pools ------------------------------------------------------------------------------- */

static int http_pool_init(struct http_pool *p, uint32_t count)
{
	p->next = calloc(count, sizeof(*p->next));
	if (!p->next)
		return -ENOMEM;
	p->count = count;
	for (uint32_t i = count; i > 0; i--) {
		p->next[i - 1] = p->free_head;
		p->free_head = i;
	}
	return 0;
}

static uint32_t http_pool_get(struct http_pool *p)
{
	uint32_t i = p->free_head;

	if (i)
		p->free_head = p->next[i - 1];
	return i;
}

static void http_pool_put(struct http_pool *p, uint32_t i)
{
	p->next[i - 1] = p->free_head;
	p->free_head = i;
}

struct http_server *http_server_create(const struct http_server_settings *settings,
				       const struct store_catalog *catalog)
{
	struct http_server *srv = calloc(1, sizeof(*srv));
	uint32_t requests, heads, items;

	if (!srv)
		return NULL;
	srv->settings = *settings;
	srv->current = 0;
	srv->generations[0].catalog = catalog;
	srv->held[0] = catalog;
	srv->limits = http_limits_default();
	srv->limits.head_bytes = settings->max_request_bytes;
	if (srv->limits.request_line_bytes > settings->max_request_bytes - 2)
		srv->limits.request_line_bytes = settings->max_request_bytes - 2; /* 414 before the buffer fills */
	/* Request buffers are held only while a head is arriving; heads and items while a
	 * response is unacknowledged. */
	requests = settings->max_connections / 4 + 64;
	heads = settings->max_connections + 64;
	items = 2 * settings->max_connections * 2 + 64;
	if (http_pool_init(&srv->request_pool, requests) || http_pool_init(&srv->head_pool, heads) ||
	    http_pool_init(&srv->item_pool, items))
		goto fail;
	srv->request_buffers = malloc((size_t)requests * settings->max_request_bytes);
	srv->head_buffers = malloc((size_t)heads * HTTP_HEAD_BUFFER_BYTES);
	srv->items = calloc(items, sizeof(*srv->items));
	if (!srv->request_buffers || !srv->head_buffers || !srv->items)
		goto fail;
	return srv;
fail:
	http_server_destroy(srv);
	errno = ENOMEM;
	return NULL;
}

void http_server_destroy(struct http_server *srv)
{
	if (!srv)
		return;
	free(srv->request_pool.next);
	free(srv->head_pool.next);
	free(srv->item_pool.next);
	free(srv->request_buffers);
	free(srv->head_buffers);
	free(srv->items);
	free(srv);
}

int http_server_set_catalog(struct http_server *srv, const struct store_catalog *catalog)
{
	uint32_t free_slot = HTTP_CATALOG_GENERATIONS;
	struct http_catalog_generation *old = &srv->generations[srv->current];

	for (uint32_t i = 0; i < HTTP_CATALOG_GENERATIONS; i++)
		if (!srv->generations[i].catalog && free_slot == HTTP_CATALOG_GENERATIONS)
			free_slot = i;
	/* The current catalog without in-flight files is released right away. */
	if (free_slot == HTTP_CATALOG_GENERATIONS && !old->file_items)
		free_slot = srv->current;
	if (free_slot == HTTP_CATALOG_GENERATIONS)
		return -EBUSY;
	if (!old->file_items) {
		old->catalog = NULL;
		__atomic_store_n(&srv->held[srv->current], NULL, __ATOMIC_RELEASE);
	}
	srv->generations[free_slot].catalog = catalog;
	srv->generations[free_slot].file_items = 0;
	__atomic_store_n(&srv->held[free_slot], catalog, __ATOMIC_RELEASE);
	srv->current = free_slot;
	return 0;
}

bool http_server_catalog_held(const struct http_server *srv, const struct store_catalog *catalog)
{
	for (uint32_t i = 0; i < HTTP_CATALOG_GENERATIONS; i++)
		if (__atomic_load_n(&srv->held[i], __ATOMIC_ACQUIRE) == catalog)
			return true;
	return false;
}

void http_server_tick(struct http_server *srv, struct net_stack *ns)
{
	time_t now = time(NULL); /* vDSO: no system call */
	struct tm tm;

	(void)ns;
	if (now == srv->date_second)
		return;
	srv->date_second = now;
	gmtime_r(&now, &tm);
	strftime(srv->date, sizeof(srv->date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

static const struct http_listener *http_listener_of(const struct net_stack *ns, const struct tcp_conn *c)
{
	return tcp_conn_app_ctx(ns, c);
}

static struct http_server *http_server_of(const struct net_stack *ns, const struct tcp_conn *c)
{
	return http_listener_of(ns, c)->server;
}

/* The transport of this connection's listener (plain TCP or TLS). */
static const struct http_transport_ops *http_transport(const struct net_stack *ns, const struct tcp_conn *c)
{
	return http_listener_of(ns, c)->transport;
}

static struct http_session *http_session_of(struct tcp_conn *c)
{
	return tcp_conn_app(c);
}

static uint8_t *http_request_bytes(struct http_server *srv, uint32_t buffer)
{
	return srv->request_buffers + (size_t)(buffer - 1) * srv->settings.max_request_bytes;
}

static uint8_t *http_head_bytes(struct http_server *srv, uint32_t buffer)
{
	return srv->head_buffers + (size_t)(buffer - 1) * HTTP_HEAD_BUFFER_BYTES;
}

/* --- send queue --------------------------------------------------------------------------- */

static struct http_send_item *http_item(struct http_server *srv, uint32_t i)
{
	return &srv->items[i - 1];
}

static struct http_send_item *http_queue_append(struct http_server *srv, struct http_session *s, uint64_t len)
{
	uint32_t i = http_pool_get(&srv->item_pool);
	struct http_send_item *it;

	if (!i)
		return NULL;
	it = http_item(srv, i);
	memset(it, 0, sizeof(*it));
	it->stream_start = s->queue_end;
	it->len = len;
	if (s->queue_tail)
		http_item(srv, s->queue_tail)->next = i;
	else
		s->queue_head = i;
	s->queue_tail = i;
	s->queue_end += len;
	return it;
}

static void http_item_release(struct http_server *srv, uint32_t i)
{
	struct http_send_item *it = http_item(srv, i);

	if (it->kind == HTTP_ITEM_BYTES && it->buffer)
		http_pool_put(&srv->head_pool, it->buffer);
	if (it->kind == HTTP_ITEM_FILE) {
		struct http_catalog_generation *g = &srv->generations[it->generation];

		/* An old catalog's last file sent: this lcore no longer holds it. */
		if (!--g->file_items && it->generation != srv->current) {
			g->catalog = NULL;
			__atomic_store_n(&srv->held[it->generation], NULL, __ATOMIC_RELEASE);
		}
	}
	http_pool_put(&srv->item_pool, i);
}

static const char *http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 414: return "URI Too Long";
	case 431: return "Request Header Fields Too Large";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Error";
	}
}

static void http_count_status(struct net_stack *ns, int status)
{
	if (status < 300)
		COUNTER_INC(&ns->counters, http_responses_2xx);
	else if (status < 400)
		COUNTER_INC(&ns->counters, http_responses_3xx);
	else if (status < 500)
		COUNTER_INC(&ns->counters, http_responses_4xx);
	else
		COUNTER_INC(&ns->counters, http_responses_5xx);
	if (status == 404)
		COUNTER_INC(&ns->counters, http_responses_404);
}

/* Queues one response: a head (and, for errors, a short text body in the same buffer) and
 * optionally the file body. Returns 0 or -ENOMEM (pools exhausted). */
static int http_queue_response(struct net_stack *ns, struct tcp_conn *c, int status, const struct store_file *file,
			       bool head_only)
{
	struct http_server *srv = http_server_of(ns, c);
	struct http_session *s = http_session_of(c);
	uint32_t buffer = http_pool_get(&srv->head_pool);
	struct http_send_item *head_item, *body_item;
	char *p;
	int n;

	if (!buffer) {
		COUNTER_INC(&ns->counters, http_no_session_memory);
		return -ENOMEM;
	}
	p = (char *)http_head_bytes(srv, buffer);
	if (file) {
		char last_modified[40];
		struct tm tm;

		gmtime_r(&file->mtime, &tm);
		strftime(last_modified, sizeof(last_modified), "%a, %d %b %Y %H:%M:%S GMT", &tm);
		n = snprintf(p, HTTP_HEAD_BUFFER_BYTES,
			     "HTTP/1.1 %d %s\r\nServer: %s\r\nDate: %s\r\nContent-Type: %s\r\n"
			     "Content-Length: %llu\r\nETag: %s\r\nLast-Modified: %s\r\nAccept-Ranges: bytes\r\n%s\r\n",
			     status, http_reason(status), srv->settings.server_name, srv->date,
			     file->content_type[0] ? file->content_type : "application/octet-stream",
			     (unsigned long long)file->size, file->etag, last_modified,
			     s->closing ? "Connection: close\r\n" : "");
	} else {
		char body[64];
		int body_len = snprintf(body, sizeof(body), "%d %s\n", status, http_reason(status));

		n = snprintf(p, HTTP_HEAD_BUFFER_BYTES,
			     "HTTP/1.1 %d %s\r\nServer: %s\r\nDate: %s\r\nContent-Type: text/plain\r\n"
			     "Content-Length: %d\r\n%s%s\r\n%s",
			     status, http_reason(status), srv->settings.server_name, srv->date, body_len,
			     status == 405 ? "Allow: GET, HEAD, OPTIONS\r\n" : "",
			     s->closing ? "Connection: close\r\n" : "", head_only ? "" : body);
	}
	if (n <= 0 || n >= HTTP_HEAD_BUFFER_BYTES) {
		http_pool_put(&srv->head_pool, buffer);
		return -ENOMEM;
	}
	head_item = http_queue_append(srv, s, (uint64_t)n);
	if (!head_item) {
		http_pool_put(&srv->head_pool, buffer);
		COUNTER_INC(&ns->counters, http_no_session_memory);
		return -ENOMEM;
	}
	head_item->kind = HTTP_ITEM_BYTES;
	head_item->buffer = buffer;
	head_item->last_of_response = 1;
	if (file && !head_only && file->size) {
		head_item->last_of_response = 0;
		body_item = http_queue_append(srv, s, file->size);
		if (!body_item) {
			COUNTER_INC(&ns->counters, http_no_session_memory);
			return -ENOMEM; /* the head item stays queued and is released with the session */
		}
		body_item->kind = HTTP_ITEM_FILE;
		body_item->generation = (uint8_t)srv->current;
		srv->generations[srv->current].file_items++;
		body_item->file.file = file;
		body_item->file.offset = 0;
		body_item->last_of_response = 1;
		COUNTER_ADD(&ns->counters, http_body_bytes, file->size);
	}
	s->queued_responses++;
	http_count_status(ns, status);
	http_transport(ns, c)->send_extend(ns, c, s->queue_end);
	return 0;
}

/* Answers with an error and closes (the request stream can no longer be trusted). */
static void http_release_request_buffer(struct http_server *srv, struct http_session *s);

static void http_fail(struct net_stack *ns, struct tcp_conn *c, int status)
{
	struct http_session *s = http_session_of(c);

	/* Whatever else the peer sends is read and discarded. */
	http_release_request_buffer(http_server_of(ns, c), s);
	s->closing = 1;
	if (http_queue_response(ns, c, status, NULL, false) < 0) {
		tcp_abort(ns, c);
		return;
	}
	http_transport(ns, c)->send_close(ns, c);
}

static void http_release_request_buffer(struct http_server *srv, struct http_session *s)
{
	if (s->request_buffer) {
		http_pool_put(&srv->request_pool, s->request_buffer);
		s->request_buffer = 0;
	}
	s->request_len = 0;
}

/* Answers every complete request in the buffer while the queue has room. */
static void http_process_requests(struct net_stack *ns, struct tcp_conn *c)
{
	struct http_server *srv = http_server_of(ns, c);
	struct http_session *s = http_session_of(c);

	while (s->request_len && !s->closing && s->queued_responses < HTTP_PIPELINE_MAX) {
		uint8_t *buf = http_request_bytes(srv, s->request_buffer);
		struct http_request *req = &srv->request;
		const struct store_catalog *cat;
		const struct store_file *file;
		uint32_t consumed;
		int rc = http_parse_request(&s->parser, (const char *)buf, s->request_len, &srv->limits, req);
		int path_len;

		if (rc == HTTP_PARSE_PARTIAL) {
			if (s->request_len >= srv->settings.max_request_bytes) {
				COUNTER_INC(&ns->counters, http_request_too_large);
				http_fail(ns, c, 431);
			}
			return;
		}
		if (rc < 0) {
			int status = (int)http_parse_error_status(rc);

			if (status == 414 || status == 431)
				COUNTER_INC(&ns->counters, http_request_too_large);
			else
				COUNTER_INC(&ns->counters, http_bad_request);
			http_fail(ns, c, status);
			return;
		}
		consumed = (uint32_t)rc;
		COUNTER_INC(&ns->counters, http_requests);
		if (req->content_length) {
			/* Players send no bodies; one we cannot skip within the buffer ends the
			 * connection after an answer. */
			http_fail(ns, c, 400);
			return;
		}
		if (!req->keep_alive)
			s->closing = 1;
		if (req->method != HTTP_METHOD_GET && req->method != HTTP_METHOD_HEAD) {
			rc = http_queue_response(ns, c, 405, NULL, false);
		} else if ((path_len = http_path_normalize(req->path.data, req->path.len, srv->path,
							   sizeof(srv->path))) < 0) {
			COUNTER_INC(&ns->counters, http_bad_request);
			http_fail(ns, c, 400);
			return;
		} else {
			cat = srv->generations[srv->current].catalog;
			file = store_catalog_lookup(cat, srv->path, (size_t)path_len);
			rc = http_queue_response(ns, c, file ? 200 : 404, file, req->method == HTTP_METHOD_HEAD);
		}
		if (rc < 0) {
			tcp_abort(ns, c);
			return;
		}
		/* Drop the answered head from the buffer; pipelined bytes move to the front. */
		memmove(buf, buf + consumed, s->request_len - consumed);
		s->request_len -= consumed;
		http_parser_init(&s->parser);
		if (s->closing)
			http_transport(ns, c)->send_close(ns, c);
	}
	if (!s->request_len)
		http_release_request_buffer(srv, s);
}

static void http_arm_timeout(struct net_stack *ns, struct tcp_conn *c)
{
	struct http_server *srv = http_server_of(ns, c);
	struct http_session *s = http_session_of(c);

	if (s->closing)
		tcp_set_app_deadline(ns, c, 0);
	else if (s->request_len)
		tcp_set_app_deadline(ns, c, ns->now_us + srv->settings.header_timeout_us);
	else if (!s->queue_head)
		tcp_set_app_deadline(ns, c, ns->now_us + srv->settings.keepalive_timeout_us);
	else
		tcp_set_app_deadline(ns, c, 0); /* sending: TCP's own timers bound it */
}

/* --- tcp_app_ops ---------------------------------------------------------------------------- */

int http_session_accepted(struct net_stack *ns, struct tcp_conn *c)
{
	struct http_session *s = http_session_of(c);

	memset(s, 0, sizeof(*s));
	http_parser_init(&s->parser);
	http_arm_timeout(ns, c);
	return 0;
}

uint32_t http_session_received(struct net_stack *ns, struct tcp_conn *c, const uint8_t *data, uint32_t len)
{
	struct http_server *srv = http_server_of(ns, c);
	struct http_session *s = http_session_of(c);
	uint32_t room, take;

	if (s->closing)
		return len; /* after an error or "close": read and discard */
	if (!s->request_buffer) {
		s->request_buffer = http_pool_get(&srv->request_pool);
		if (!s->request_buffer) {
			COUNTER_INC(&ns->counters, http_no_session_memory);
			http_fail(ns, c, 503);
			return len;
		}
		s->request_len = 0;
	}
	room = srv->settings.max_request_bytes - s->request_len;
	take = len < room ? len : room;
	memcpy(http_request_bytes(srv, s->request_buffer) + s->request_len, data, take);
	s->request_len += take;
	http_process_requests(ns, c);
	if (c->state != TCP_CLOSED)
		http_arm_timeout(ns, c);
	return take;
}

uint32_t http_session_receive_space(struct net_stack *ns, const struct tcp_conn *c)
{
	const struct http_server *srv = http_server_of(ns, c);
	const struct http_session *s = tcp_conn_app_const(c);

	if (c->state == TCP_SYN_RECEIVED || !(c->flags & TCP_CONN_ACCEPTED))
		return srv->settings.max_request_bytes;
	return srv->settings.max_request_bytes - s->request_len;
}

void http_session_acked(struct net_stack *ns, struct tcp_conn *c, uint64_t offset)
{
	struct http_server *srv = http_server_of(ns, c);
	struct http_session *s = http_session_of(c);
	bool freed_response = false;

	while (s->queue_head) {
		uint32_t i = s->queue_head;
		struct http_send_item *it = http_item(srv, i);

		if (it->stream_start + it->len > offset)
			break;
		s->queue_head = it->next;
		if (!s->queue_head)
			s->queue_tail = 0;
		if (it->last_of_response) {
			s->queued_responses--;
			freed_response = true;
		}
		http_item_release(srv, i);
	}
	if (freed_response && s->request_len) {
		uint32_t before = s->request_len;
		http_process_requests(ns, c); /* pipelined requests waiting for queue room */
		if (c->state == TCP_CLOSED)
			return;
		if (s->request_len < before)
			http_transport(ns, c)->receive_space_changed(ns, c);
	}
	if (freed_response)
		http_arm_timeout(ns, c);
}

void http_session_peer_closed(struct net_stack *ns, struct tcp_conn *c)
{
	struct http_session *s = http_session_of(c);

	/* No more requests: answer what is complete, then FIN. */
	s->peer_fin = 1;
	http_process_requests(ns, c);
	if (c->state == TCP_CLOSED)
		return;
	s->closing = 1;
	tcp_set_app_deadline(ns, c, 0);
	http_transport(ns, c)->send_close(ns, c);
}

void http_session_timeout(struct net_stack *ns, struct tcp_conn *c)
{
	struct http_session *s = http_session_of(c);

	if (s->request_len) {
		COUNTER_INC(&ns->counters, http_header_timeouts);
		tcp_abort(ns, c);
		return;
	}
	COUNTER_INC(&ns->counters, http_keepalive_timeouts);
	s->closing = 1;
	http_transport(ns, c)->send_close(ns, c);
}

void http_session_released(struct net_stack *ns, struct tcp_conn *c, enum tcp_close_reason reason)
{
	struct http_server *srv = http_server_of(ns, c);
	struct http_session *s = http_session_of(c);

	(void)reason;
	while (s->queue_head) {
		uint32_t i = s->queue_head;
		s->queue_head = http_item(srv, i)->next;
		http_item_release(srv, i);
	}
	s->queue_tail = 0;
	http_release_request_buffer(srv, s);
}

int http_session_produce(struct net_stack *ns, struct tcp_conn *c, uint64_t offset, uint32_t len, uint8_t *dst)
{
	struct http_server *srv = http_server_of(ns, c);
	struct http_session *s = http_session_of(c);
	uint32_t i = s->queue_head;

	while (len) {
		struct http_send_item *it;
		uint64_t within;
		uint32_t n;

		while (i && http_item(srv, i)->stream_start + http_item(srv, i)->len <= offset)
			i = http_item(srv, i)->next;
		if (!i)
			return -EINVAL; /* TCP asked beyond what was queued: a bug, reset */
		it = http_item(srv, i);
		within = offset - it->stream_start;
		n = (uint32_t)SLUICE_MIN((uint64_t)len, it->len - within);
		if (it->kind == HTTP_ITEM_BYTES)
			memcpy(dst, http_head_bytes(srv, it->buffer) + within, n);
		else
			memcpy(dst, it->file.file->map + it->file.offset + within, n);
		dst += n;
		offset += n;
		len -= n;
	}
	return 0;
}

const uint8_t *http_session_map(struct net_stack *ns, struct tcp_conn *c, uint64_t offset, uint32_t *len)
{
	struct http_server *srv = http_server_of(ns, c);
	struct http_session *s = http_session_of(c);
	uint32_t i = s->queue_head;

	while (i && http_item(srv, i)->stream_start + http_item(srv, i)->len <= offset)
		i = http_item(srv, i)->next;
	if (!i || offset < http_item(srv, i)->stream_start) {
		*len = 0;
		return NULL;
	}
	{
		const struct http_send_item *it = http_item(srv, i);
		uint64_t within = offset - it->stream_start;
		uint64_t left = it->len - within;

		*len = left > UINT32_MAX ? UINT32_MAX : (uint32_t)left;
		if (it->kind == HTTP_ITEM_BYTES)
			return http_head_bytes(srv, it->buffer) + within;
		return it->file.file->map + it->file.offset + within;
	}
}

/* --- plain HTTP: the session directly on TCP --------------------------------------------- */

static void http_plain_send_extend(struct net_stack *ns, struct tcp_conn *c, uint64_t end)
{
	tcp_send_extend(ns, c, end);
}

const struct http_transport_ops http_plain_transport = {
	.name = "http",
	.send_extend = http_plain_send_extend,
	.send_close = tcp_send_close,
	.receive_space_changed = tcp_receive_space_changed,
};

const struct tcp_app_ops http_plain_app_ops = {
	.accepted = http_session_accepted,
	.received = http_session_received,
	.receive_space = http_session_receive_space,
	.acked = http_session_acked,
	.peer_closed = http_session_peer_closed,
	.timeout = http_session_timeout,
	.released = http_session_released,
	.stream_produce = http_session_produce,
};

struct http_listener *http_server_listener(struct http_server *srv, const struct http_transport_ops *transport,
					   void *transport_ctx)
{
	for (uint32_t i = 0; i < HTTP_LISTENERS_MAX; i++) {
		struct http_listener *l = &srv->listeners[i];

		if (!l->server) {
			l->server = srv;
			l->transport = transport;
			l->transport_ctx = transport_ctx;
			return l;
		}
	}
	errno = ENOSPC;
	return NULL;
}

struct http_server *http_listener_server(const struct http_listener *l)
{
	return l->server;
}
