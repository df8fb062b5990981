/* SPDX-License-Identifier: BSD-3-Clause
 *
 * http_server.c: the HTTP/1.1 application on the data plane's TCP (see http_server.h).
 * Per request and per packet; pools are allocated at create time only. Control-path functions
 * (create, destroy, settings) are marked as such.
 *
 * Session states (struct http_session), as functions:
 *   reading      http_session_received → http_process_requests: body bytes of the previous
 *                request skipped, head bytes into the request buffer, complete heads answered
 *                in order (pipelining) while the queue and the pools have room
 *   answering    http_answer_* decide status and fields, http_queue_answer appends send items;
 *                http_stream_advance extends the transport's stream over resident bytes (or
 *                parks the connection on a page-in, resumed by http_server_poll); TCP sends
 *                (http_session_produce) and http_session_acked releases what the peer
 *                acknowledged, logs finished responses, then resumes reading
 *   closing      after "Connection: close", an error, or the peer's FIN: the transport ends
 *                the stream once everything queued has been extended (http_close_if_ready);
 *                nothing more is read
 * Timeouts (one application deadline in TCP, http_arm_timeout), by priority:
 *   send_timeout     a response is queued and the peer acknowledged nothing new for this long
 *                    (not while parked: that wait is ours) → reset
 *   header_timeout   a request head (or its body) started arriving this long ago → reset
 *   keepalive        idle between requests this long → FIN
 * Each is counted and ends only its connection.
 *
 * Invariants:
 *   - items of a session form one list in stream order, contiguous from the first
 *     unacknowledged response's start to queue_end; stream_limit <= queue_end;
 *   - a FILE item counts in its catalog generation's file_items until released;
 *   - HTTP_SESSION_PARKED implies HTTP_SESSION_PAGEIN (a request is in flight for it);
 *   - slots: free >= max_connections - sessions_with_response (every connection can get the
 *     slot of its first response); items likewise with two per connection.
 */
#define NO_COMPAT_IMB_API_053
#include "http_server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compiler.h"
#include "http_cond.h"
#include "http_date.h"
#include "http_mime.h"
#include "http_parse.h"
#include "http_range.h"
#include "http_response.h"
#include "net/stack.h"
#include "store/catalog.h"
#include "store/store_guard.h"
#include "store/store_pagein.h"
#include "store/store_resident.h"
#include "url_sign.h"

#define HTTP_SLOT_BYTES 2048             /* a response head always fits (config limits) */
#define HTTP_PIPELINE_MAX 8              /* responses queued per connection before reading pauses */
#define HTTP_EXTEND_WINDOW (8ull << 20)  /* stream extended at most this far past the acked offset */
#define HTTP_COMPLETIONS_BURST 32
#define HTTP_SIGN_PREFIXES_MAX 16
#define HTTP_SEND_TIMEOUT_DEFAULT_US 60000000u
#define HTTP_READAHEAD_DEFAULT (2u << 20)
#define HTTP_ITEMS_PER_CONNECTION 2      /* a first response: head and body */
#define HTTP_PAGEIN_RETRY_US 1000        /* after a full page-in ring */

enum http_item_kind { HTTP_ITEM_BYTES = 1, HTTP_ITEM_FILE = 2 };

struct http_send_item {
	uint64_t stream_start;
	uint64_t len;
	uint32_t next;                 /* index + 1 */
	uint8_t kind;
	uint8_t last_of_response;
	uint8_t generation;            /* FILE: catalog generation slot holding the file */
	uint8_t pad;
	uint32_t response;             /* slot index + 1 of the response it belongs to */
	uint32_t buffer;               /* BYTES: slot index + 1 whose buffer holds the bytes */
	union {
		uint32_t buffer_offset;    /* BYTES */
		struct {
			const struct store_file *file;
			uint64_t offset;
		} file;
	};
};
_Static_assert(sizeof(struct http_send_item) == 48, "send item size");

/* A response in flight: its access log record and its head bytes (more slots chained through
 * next when multipart part heads need room). */
struct http_slot {
	uint32_t next;                 /* free list, or the response's next buffer slot */
	uint32_t used;                 /* bytes of the buffer in use */
	uint64_t stream_start;         /* the response's first byte */
	uint64_t stream_end;           /* after its last byte */
	uint64_t start_us;             /* lcore clock when the request was complete */
	struct sluice_accesslog_record log;
};

#define HTTP_SESSION_CLOSING 0x01    /* no more requests: end the stream after the queue */
#define HTTP_SESSION_CLOSE_SENT 0x02 /* the transport was told to end the stream */
#define HTTP_SESSION_PEER_FIN 0x04
#define HTTP_SESSION_PARKED 0x08     /* the stream stops at a chunk being paged in */
#define HTTP_SESSION_PAGEIN 0x10     /* a page-in request for this connection is in flight */
#define HTTP_SESSION_ACCEPTED 0x20
#define HTTP_SESSION_RETRY 0x40      /* a page-in could not be posted (ring full): retry soon */

struct http_session {
	uint32_t request_buffer;       /* index + 1, 0 = none held */
	uint32_t request_len;
	struct http_parser parser;
	uint32_t queue_head, queue_tail;
	uint16_t queued_responses;
	uint16_t flags;                /* HTTP_SESSION_* */
	uint32_t pagein_cookie;        /* which page-in request is ours */
	uint64_t queue_end;            /* stream offset after the last queued byte */
	uint64_t stream_limit;         /* the transport was allowed to send up to here */
	uint64_t acked;                /* everything before was acknowledged */
	uint64_t body_skip;            /* request body bytes still to discard */
	uint64_t head_started_us;      /* first byte of the request head being received */
	uint64_t progress_us;          /* last new acknowledgement (or start of sending) */
	uint64_t idle_since_us;        /* when the queue last became empty */
};

struct http_pool {
	uint32_t free_head;            /* index + 1 */
	uint32_t free;
	uint32_t count;
	uint32_t *next;
};

/* A catalog this lcore serves from or still sends files of. */
struct http_catalog_generation {
	const struct store_catalog *catalog;
	uint32_t file_items;           /* queued FILE items referencing it */
};

struct http_server {
	struct http_server_settings settings;
	struct http_limits limits;
	struct http_cors_policy cors;
	uint32_t sign_prefix_count;
	struct http_slice sign_prefixes[HTTP_SIGN_PREFIXES_MAX];
	struct url_sign_keyring sign_keys;
	struct IMB_MGR *sign_engine;
	struct store_pagein_queue *pagein;
	struct http_accesslog_writer accesslog;
	uint32_t lcore_id;
	uint32_t current;              /* generation slot of the catalog for new requests */
	struct http_catalog_generation generations[HTTP_CATALOG_GENERATIONS];
	/* What the main thread reads: catalogs held (written only by this lcore). */
	const struct store_catalog *volatile held[HTTP_CATALOG_GENERATIONS];
	struct http_pool request_pool;
	uint8_t *request_buffers;
	struct http_pool slot_pool;
	struct http_slot *slots;
	uint8_t *slot_buffers;
	struct http_pool item_pool;
	struct http_send_item *items;
	uint32_t sessions_with_response; /* sessions holding at least one response slot */
	uint32_t next_cookie;
	uint64_t prng;                 /* multipart boundaries */
	struct http_date_cache date;
	uint64_t wall_base_ns;         /* CLOCK_REALTIME at the last tick */
	uint64_t wall_base_us;         /* lcore clock at the last tick */
	struct http_listener listeners[HTTP_LISTENERS_MAX];
	struct http_request request;   /* scratch for the request being answered */
	char path[STORE_PATH_MAX];     /* scratch: its decoded path */
};

/* What a request resolved to, before it is queued. */
struct http_answer {
	struct http_response resp;
	const struct store_file *file; /* the body's source (200, 206) or the validators (304) */
	struct http_range_set ranges;  /* 206: the parts */
	bool body;                     /* file bytes follow the head */
	bool multipart;
	const char *part_type;         /* multipart: each part's Content-Type */
	size_t part_type_len;
	char boundary[HTTP_RANGE_BOUNDARY_SIZE];
	char multipart_type[96];
	char last_modified[HTTP_DATE_SIZE];
	char no_store;
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
	p->free = count;
	for (uint32_t i = count; i > 0; i--) {
		p->next[i - 1] = p->free_head;
		p->free_head = i;
	}
	return 0;
}

static uint32_t http_pool_get(struct http_pool *p)
{
	uint32_t i = p->free_head;

	if (i) {
		p->free_head = p->next[i - 1];
		p->free--;
	}
	return i;
}

static void http_pool_put(struct http_pool *p, uint32_t i)
{
	p->next[i - 1] = p->free_head;
	p->free_head = i;
	p->free++;
}

/* --- settings (control path) --------------------------------------------------------------- */

void http_server_settings_from_config(const struct dataplane_config *c, struct http_server_settings *s)
{
	memset(s, 0, sizeof(*s));
	s->max_connections = c->max_connections;
	s->max_request_bytes = c->http_max_request_bytes;
	s->header_timeout_us = c->http_header_timeout_ms * 1000;
	s->keepalive_timeout_us = c->http_keepalive_timeout_ms * 1000;
	s->send_timeout_us = c->http_send_timeout_ms * 1000;
	s->max_request_line_bytes = c->http_max_request_line_bytes;
	s->max_header_count = c->http_max_header_count;
	s->max_body_bytes = c->http_max_body_bytes;
	s->max_ranges = c->http_max_ranges;
	s->readahead_bytes = c->store_readahead_kb * 1024;
	snprintf(s->server_name, sizeof(s->server_name), "%s", c->http_server_name);
	snprintf(s->cache_control, sizeof(s->cache_control), "%s", c->http_cache_control);
	snprintf(s->cors_origins, sizeof(s->cors_origins), "%s", c->http_cors_origins);
	snprintf(s->cors_allow_headers, sizeof(s->cors_allow_headers), "%s", c->http_cors_allow_headers);
	s->cors_max_age_s = c->http_cors_max_age_s;
	s->sign_required = c->http_sign_required;
	s->sign_skew_s = c->http_sign_skew_s;
	snprintf(s->sign_prefixes, sizeof(s->sign_prefixes), "%s", c->http_sign_prefixes);
}

/* Splits a list separated by spaces or commas into slices of text (which must outlive them). */
static uint32_t http_split_list(const char *text, struct http_slice *out, uint32_t max)
{
	uint32_t n = 0;

	while (*text && n < max) {
		size_t len;

		text += strspn(text, " ,");
		len = strcspn(text, " ,");
		if (!len)
			break;
		out[n++] = (struct http_slice){text, len};
		text += len;
	}
	return n;
}

void http_server_set_settings(struct http_server *srv, const struct http_server_settings *settings)
{
	struct http_server_settings *s = &srv->settings;
	uint32_t max_connections = s->max_connections, max_request_bytes = s->max_request_bytes;

	*s = *settings;
	s->max_connections = max_connections;     /* pools are sized already */
	s->max_request_bytes = max_request_bytes;
	if (!s->send_timeout_us)
		s->send_timeout_us = HTTP_SEND_TIMEOUT_DEFAULT_US;
	if (!s->readahead_bytes)
		s->readahead_bytes = HTTP_READAHEAD_DEFAULT;
	if (s->max_ranges > HTTP_RANGES_MAX)
		s->max_ranges = HTTP_RANGES_MAX;
	srv->limits = http_limits_default();
	srv->limits.head_bytes = max_request_bytes;
	if (s->max_request_line_bytes)
		srv->limits.request_line_bytes = s->max_request_line_bytes;
	if (s->max_header_count)
		srv->limits.header_count = SLUICE_MIN(s->max_header_count, (uint32_t)HTTP_HEADERS_MAX);
	if (srv->limits.request_line_bytes > max_request_bytes - 2)
		srv->limits.request_line_bytes = max_request_bytes - 2; /* 414 before the buffer fills */

	memset(&srv->cors, 0, sizeof(srv->cors));
	if (s->cors_origins[0]) {
		srv->cors.enabled = true;
		srv->cors.origin_count = http_split_list(s->cors_origins, srv->cors.origins, HTTP_CORS_ORIGINS_MAX);
		if (srv->cors.origin_count == 1 && srv->cors.origins[0].len == 1 && srv->cors.origins[0].data[0] == '*')
			srv->cors.any_origin = true;
		srv->cors.allow_headers = (struct http_slice){s->cors_allow_headers, strlen(s->cors_allow_headers)};
		srv->cors.max_age_seconds = s->cors_max_age_s;
	}
	srv->sign_prefix_count = http_split_list(s->sign_prefixes, srv->sign_prefixes, HTTP_SIGN_PREFIXES_MAX);
}

void http_server_set_sign_keys(struct http_server *srv, const struct url_sign_keyring *ring)
{
	srv->sign_keys = *ring;
}

void http_server_set_pagein(struct http_server *srv, struct store_pagein_queue *queue)
{
	srv->pagein = queue;
}

void http_server_set_accesslog(struct http_server *srv, struct http_accesslog_writer writer, uint32_t lcore_id)
{
	srv->accesslog = writer;
	srv->lcore_id = lcore_id;
}

struct http_server *http_server_create(const struct http_server_settings *settings,
				       const struct store_catalog *catalog)
{
	struct http_server *srv = calloc(1, sizeof(*srv));
	uint32_t requests, slots, items;

	if (!srv)
		return NULL;
	if (settings->max_request_bytes < 256 || !settings->max_connections) {
		free(srv);
		errno = EINVAL;
		return NULL;
	}
	srv->settings.max_connections = settings->max_connections;
	srv->settings.max_request_bytes = settings->max_request_bytes;
	http_server_set_settings(srv, settings);
	srv->current = 0;
	srv->generations[0].catalog = catalog;
	srv->held[0] = catalog;
	url_sign_keyring_init(&srv->sign_keys);
	http_date_cache_init(&srv->date);
	srv->prng = (uint64_t)(uintptr_t)srv ^ (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ull;
	/* Request buffers are held only while a head is arriving; slots and items while a
	 * response is unacknowledged: one slot per connection plus room for pipelining and
	 * multipart part heads. Pages are touched only as the pools are used. */
	requests = settings->max_connections / 4 + 64;
	slots = settings->max_connections + settings->max_connections / 8 + 256;
	items = 2 * slots + settings->max_connections / 2 + 1024;
	if (http_pool_init(&srv->request_pool, requests) || http_pool_init(&srv->slot_pool, slots) ||
	    http_pool_init(&srv->item_pool, items))
		goto fail;
	srv->request_buffers = malloc((size_t)requests * settings->max_request_bytes);
	srv->slots = calloc(slots, sizeof(*srv->slots));
	srv->slot_buffers = malloc((size_t)slots * HTTP_SLOT_BYTES);
	srv->items = calloc(items, sizeof(*srv->items));
	if (!srv->request_buffers || !srv->slots || !srv->slot_buffers || !srv->items)
		goto fail;
	srv->sign_engine = url_sign_engine_create();
	if (!srv->sign_engine)
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
	url_sign_engine_free(srv->sign_engine);
	free(srv->request_pool.next);
	free(srv->slot_pool.next);
	free(srv->item_pool.next);
	free(srv->request_buffers);
	free(srv->slots);
	free(srv->slot_buffers);
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
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now); /* vDSO: no system call */
	http_date_cache_update(&srv->date, now.tv_sec);
	srv->wall_base_ns = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
	srv->wall_base_us = ns->now_us;
}

static uint64_t http_wall_ns(const struct http_server *srv, uint64_t now_us)
{
	return srv->wall_base_ns + (now_us > srv->wall_base_us ? (now_us - srv->wall_base_us) * 1000 : 0);
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

static struct http_slot *http_slot(struct http_server *srv, uint32_t i)
{
	return &srv->slots[i - 1];
}

static uint8_t *http_slot_bytes(struct http_server *srv, uint32_t i)
{
	return srv->slot_buffers + (size_t)(i - 1) * HTTP_SLOT_BYTES;
}

static struct http_send_item *http_item(struct http_server *srv, uint32_t i)
{
	return &srv->items[i - 1];
}

/* --- resources ------------------------------------------------------------------------------ */

/* Whether a response needing slots and items may take them now: a session's first response
 * uses the share kept for every connection, anything more only what is left beyond those. */
static bool http_resources_available(const struct http_server *srv, const struct http_session *s, uint32_t slots,
				     uint32_t items)
{
	uint32_t owed = srv->settings.max_connections > srv->sessions_with_response
				? srv->settings.max_connections - srv->sessions_with_response
				: 0;

	if (!s->queued_responses) {
		/* This session is owed one slot and HTTP_ITEMS_PER_CONNECTION items itself. */
		owed -= owed > 0;
		if (slots <= 1 && items <= HTTP_ITEMS_PER_CONNECTION)
			return srv->slot_pool.free >= 1 && srv->item_pool.free >= items;
	}
	return srv->slot_pool.free >= slots + owed &&
	       srv->item_pool.free >= items + (uint64_t)owed * HTTP_ITEMS_PER_CONNECTION;
}

/* --- access log ------------------------------------------------------------------------------- */

static void http_log_response(struct net_stack *ns, struct tcp_conn *c, struct http_slot *slot, bool aborted)
{
	struct http_server *srv = http_server_of(ns, c);
	struct http_session *s = http_session_of(c);
	struct sluice_accesslog_record *rec = &slot->log;

	if (aborted) {
		uint64_t acked = s->acked > slot->stream_start ? s->acked - slot->stream_start : 0;

		rec->bytes_sent = SLUICE_MIN(acked, slot->stream_end - slot->stream_start);
		rec->flags |= SLUICE_ACCESSLOG_ABORTED;
	} else {
		rec->bytes_sent = slot->stream_end - slot->stream_start;
	}
	rec->duration_us = ns->now_us - slot->start_us;
	if (c->flow.remote.family == NET_AF_IPV6) {
		memcpy(rec->client, c->flow.remote.v6, 16);
		rec->flags |= SLUICE_ACCESSLOG_IPV6;
	} else {
		memset(rec->client, 0, sizeof(rec->client));
		memcpy(rec->client, &c->flow.remote.v4, 4);
	}
	rec->client_port = __builtin_bswap16(c->flow.remote_port);
	rec->lcore_id = (uint16_t)srv->lcore_id;
	if (!srv->accesslog.ring)
		return;
	if (http_accesslog_push(&srv->accesslog, rec))
		COUNTER_INC(&ns->counters, accesslog_records);
	else
		COUNTER_INC(&ns->counters, accesslog_dropped);
}

/* --- send queue --------------------------------------------------------------------------- */

static struct http_send_item *http_queue_append(struct http_server *srv, struct http_session *s, uint64_t len,
						uint32_t response)
{
	uint32_t i = http_pool_get(&srv->item_pool);
	struct http_send_item *it;

	if (!i)
		return NULL; /* cannot happen: availability was checked */
	it = http_item(srv, i);
	memset(it, 0, sizeof(*it));
	it->stream_start = s->queue_end;
	it->len = len;
	it->response = response;
	if (s->queue_tail)
		http_item(srv, s->queue_tail)->next = i;
	else
		s->queue_head = i;
	s->queue_tail = i;
	s->queue_end += len;
	return it;
}

/* Releases a response's slots (head buffer and continuation buffers). */
static void http_response_release(struct http_server *srv, struct http_session *s, uint32_t response)
{
	while (response) {
		uint32_t next = http_slot(srv, response)->next;

		http_pool_put(&srv->slot_pool, response);
		response = next;
	}
	if (!--s->queued_responses)
		srv->sessions_with_response--;
}

static void http_item_release(struct net_stack *ns, struct tcp_conn *c, uint32_t i, bool aborted)
{
	struct http_server *srv = http_server_of(ns, c);
	struct http_session *s = http_session_of(c);
	struct http_send_item *it = http_item(srv, i);

	if (it->kind == HTTP_ITEM_FILE) {
		struct http_catalog_generation *g = &srv->generations[it->generation];

		/* An old catalog's last file sent: this lcore no longer holds it. */
		if (!--g->file_items && it->generation != srv->current) {
			g->catalog = NULL;
			__atomic_store_n(&srv->held[it->generation], NULL, __ATOMIC_RELEASE);
		}
	}
	if (it->last_of_response) {
		http_log_response(ns, c, http_slot(srv, it->response), aborted);
		http_response_release(srv, s, it->response);
	}
	http_pool_put(&srv->item_pool, i);
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
	switch (status) {
	case 206: COUNTER_INC(&ns->counters, http_responses_206); break;
	case 304: COUNTER_INC(&ns->counters, http_responses_304); break;
	case 404: COUNTER_INC(&ns->counters, http_responses_404); break;
	case 416: COUNTER_INC(&ns->counters, http_responses_416); break;
	default: break;
	}
}

/* --- streaming over resident pages ---------------------------------------------------------- */

static void http_unpark(struct net_stack *ns, struct http_session *s)
{
	if (s->flags & HTTP_SESSION_PARKED) {
		s->flags &= (uint16_t)~HTTP_SESSION_PARKED;
		COUNTER_DEC(&ns->counters, store_parked);
	}
}

/* Asks the helpers to page [offset, ...) of f in for this connection. Returns 0 or -ENOSPC. */
static int http_request_pagein(struct net_stack *ns, struct tcp_conn *c, const struct store_file *f,
			       uint64_t offset, uint64_t end)
{
	struct http_server *srv = http_server_of(ns, c);
	struct http_session *s = http_session_of(c);
	struct store_pagein_request r;
	uint64_t first = offset & ~(STORE_CHUNK_BYTES - 1);
	uint64_t last = SLUICE_MIN(end, first + srv->settings.readahead_bytes);

	if (s->flags & HTTP_SESSION_PAGEIN)
		return 0;
	r.file = (struct store_file *)f; /* only its atomic parts change */
	r.offset = first;
	r.len = ((last + STORE_CHUNK_BYTES - 1) & ~(STORE_CHUNK_BYTES - 1)) - first;
	r.posted_us = ns->now_us;
	r.token = tcp_conn_index(ns->tcp, c);
	r.cookie = ++srv->next_cookie;
	if (store_pagein_post(srv->pagein, &r)) {
		COUNTER_INC(&ns->counters, store_pagein_ring_full);
		return -ENOSPC;
	}
	COUNTER_INC(&ns->counters, store_pagein_requests);
	s->pagein_cookie = r.cookie;
	s->flags |= HTTP_SESSION_PAGEIN;
	return 0;
}

static void http_arm_timeout(struct net_stack *ns, struct tcp_conn *c);

/* Once everything queued is extended, a closing session ends the stream. */
static void http_close_if_ready(struct net_stack *ns, struct tcp_conn *c)
{
	struct http_session *s = http_session_of(c);

	if ((s->flags & (HTTP_SESSION_CLOSING | HTTP_SESSION_CLOSE_SENT)) == HTTP_SESSION_CLOSING &&
	    s->stream_limit == s->queue_end) {
		s->flags |= HTTP_SESSION_CLOSE_SENT;
		http_transport(ns, c)->send_close(ns, c);
	}
}

/* A response read a file that shrank: only this connection fails. */
static void http_file_broken(struct net_stack *ns, struct tcp_conn *c)
{
	COUNTER_INC(&ns->counters, store_file_broken_resets);
	tcp_abort(ns, c);
}

/* Extends the transport's stream over the queued bytes that can be sent without waiting for a
 * disk: head bytes always, file bytes while their chunks are resident, at most
 * HTTP_EXTEND_WINDOW past what the peer acknowledged. At a chunk that is not resident a
 * page-in is requested and, if nothing could be extended, the connection parks. Returns
 * false when the connection was reset (a broken file). */
static bool http_stream_advance(struct net_stack *ns, struct tcp_conn *c)
{
	struct http_server *srv = http_server_of(ns, c);
	struct http_session *s = http_session_of(c);
	uint64_t limit = s->stream_limit, target = s->acked + HTTP_EXTEND_WINDOW;
	uint32_t i = s->queue_head;
	bool parked = false;

	while (i && limit < s->queue_end) {
		struct http_send_item *it = http_item(srv, i);
		uint64_t item_end = it->stream_start + it->len;
		const struct store_file *f;
		uint64_t off, end, resident;

		if (limit >= item_end) {
			i = it->next;
			continue;
		}
		if (it->kind == HTTP_ITEM_BYTES) {
			limit = item_end;
			i = it->next;
			continue;
		}
		if (limit >= target)
			break;
		f = it->file.file;
		if (store_file_broken(f)) {
			http_file_broken(ns, c);
			return false;
		}
		off = it->file.offset + (limit - it->stream_start);
		end = it->file.offset + it->len;
		if (target - limit < end - off)
			end = off + (target - limit);
		resident = srv->pagein ? store_resident_extent(f, off, end) : end;
		limit += resident - off;
		if (resident < end) {
			s->flags &= (uint16_t)~HTTP_SESSION_RETRY;
			if (!(s->flags & HTTP_SESSION_PAGEIN) &&
			    http_request_pagein(ns, c, f, resident, it->file.offset + it->len))
				s->flags |= HTTP_SESSION_RETRY;
			parked = true;
			break;
		}
		if (limit < item_end)
			break; /* the window ends inside this item */
		i = it->next;
	}
	if (parked && (s->flags & HTTP_SESSION_PAGEIN) && !(s->flags & HTTP_SESSION_PARKED)) {
		s->flags |= HTTP_SESSION_PARKED;
		COUNTER_INC(&ns->counters, store_parked);
		COUNTER_INC(&ns->counters, store_parked_total);
	}
	if (limit > s->stream_limit) {
		s->stream_limit = limit;
		http_transport(ns, c)->send_extend(ns, c, limit);
	}
	http_close_if_ready(ns, c);
	return true;
}

/* --- answering -------------------------------------------------------------------------------- */

static uint32_t http_answer_items(const struct http_answer *a)
{
	if (!a->body)
		return 1;
	return a->multipart ? 2 + 2 * a->ranges.count : 2;
}

/* Continuation slots for multipart part heads (each part head whole within one buffer). */
static uint32_t http_answer_extra_slots(const struct http_answer *a)
{
	uint32_t slots = 0, room = 0;

	if (!a->body || !a->multipart)
		return 0;
	for (uint32_t i = 0; i <= a->ranges.count; i++) {
		size_t n = i < a->ranges.count
				   ? http_range_part_head_length(&a->ranges.ranges[i], a->file->size, a->part_type_len,
								 HTTP_RANGE_BOUNDARY_LEN)
				   : 4 + HTTP_RANGE_BOUNDARY_LEN + 4;
		if (n > room) {
			slots++;
			room = HTTP_SLOT_BYTES;
		}
		room -= (uint32_t)n;
	}
	return slots;
}

/* Space for len bytes in the response's buffers (a new continuation slot when needed). */
static uint8_t *http_slot_reserve(struct http_server *srv, uint32_t *buffer, uint32_t len, uint32_t *offset)
{
	struct http_slot *b = http_slot(srv, *buffer);

	if (b->used + len > HTTP_SLOT_BYTES) {
		uint32_t next = http_pool_get(&srv->slot_pool);

		if (!next)
			return NULL;
		b->next = next;
		*buffer = next;
		b = http_slot(srv, next);
		b->next = 0;
		b->used = 0;
	}
	*offset = b->used;
	b->used += len;
	return http_slot_bytes(srv, *buffer) + *offset;
}

static void http_log_init(struct http_server *srv, bool tls, struct http_slot *slot,
			  const struct http_request *req, const struct http_answer *a, uint64_t start_us)
{
	struct sluice_accesslog_record *rec = &slot->log;

	memset(rec, 0, sizeof(*rec));
	rec->time_ns = http_wall_ns(srv, start_us);
	rec->status = a->resp.status;
	rec->file_id = a->file ? a->file->id : UINT32_MAX;
	rec->catalog_version = srv->generations[srv->current].catalog ? srv->generations[srv->current].catalog->version : 0;
	if (a->resp.keep_alive)
		rec->flags |= SLUICE_ACCESSLOG_KEEPALIVE;
	if (tls)
		rec->flags |= SLUICE_ACCESSLOG_TLS;
	if (req) {
		size_t n = SLUICE_MIN(req->path.len, (size_t)SLUICE_ACCESSLOG_PATH_MAX - 1);

		rec->method = (uint8_t)req->method;
		if (req->path.data)
			memcpy(rec->path, req->path.data, n);
	}
	if (a->body && a->ranges.count) {
		rec->flags |= SLUICE_ACCESSLOG_RANGE;
		rec->range_parts = a->ranges.count;
		rec->range_start = a->ranges.ranges[0].first;
		for (uint32_t i = 0; i < a->ranges.count; i++)
			rec->range_length += a->ranges.ranges[i].last - a->ranges.ranges[i].first + 1;
	}
}

/* Queues the answer: head, and body items. Returns 0, -EAGAIN (no room now: wait for this
 * connection's acknowledgements) or -ENOMEM (no room and nothing to wait for). */
static int http_queue_answer(struct net_stack *ns, struct tcp_conn *c, struct http_answer *a,
			     const struct http_request *req, uint64_t start_us)
{
	struct http_server *srv = http_server_of(ns, c);
	struct http_session *s = http_session_of(c);
	uint32_t response, buffer, offset;
	struct http_send_item *it;
	struct http_slot *slot;
	int n;

	if (!http_resources_available(srv, s, 1 + http_answer_extra_slots(a), http_answer_items(a))) {
		if (a->multipart && http_resources_available(srv, s, 1, 2)) {
			/* Ranges are optional (RFC 9110 §14.2): send the whole file instead. */
			COUNTER_INC(&ns->counters, http_multipart_degraded);
			a->multipart = false;
			a->ranges.count = 0;
			a->resp.status = 200;
			a->resp.content_type = (struct http_slice){a->part_type, a->part_type_len};
			a->resp.content_length = a->file->size;
		} else if (s->queued_responses) {
			COUNTER_INC(&ns->counters, http_pipeline_waits);
			return -EAGAIN;
		} else {
			COUNTER_INC(&ns->counters, http_no_session_memory);
			return -ENOMEM;
		}
	}
	response = http_pool_get(&srv->slot_pool);
	slot = http_slot(srv, response);
	slot->next = 0;
	n = http_response_format(&a->resp, (char *)http_slot_bytes(srv, response), HTTP_SLOT_BYTES);
	if (n <= 0) {
		http_pool_put(&srv->slot_pool, response);
		COUNTER_INC(&ns->counters, http_no_session_memory);
		return -ENOMEM;
	}
	slot->used = (uint32_t)n;
	if (!s->queued_responses++)
		srv->sessions_with_response++;
	if (!s->queue_head)
		s->progress_us = ns->now_us; /* the send timeout runs from now */
	slot->stream_start = s->queue_end;
	slot->start_us = start_us;
	http_log_init(srv, http_transport(ns, c) != &http_plain_transport, slot, req, a, start_us);
	it = http_queue_append(srv, s, (uint64_t)n, response);
	it->kind = HTTP_ITEM_BYTES;
	it->buffer = response;
	it->buffer_offset = 0;
	if (a->body) {
		struct http_range whole = {0, a->file->size - 1};
		uint32_t parts = a->ranges.count ? a->ranges.count : 1;

		buffer = response;
		if (a->multipart) {
			/* Part heads start in a fresh buffer (as http_answer_extra_slots counted). */
			http_slot(srv, buffer)->used = HTTP_SLOT_BYTES;
		}
		for (uint32_t p = 0; p < parts; p++) {
			const struct http_range *r = a->ranges.count ? &a->ranges.ranges[p] : &whole;

			if (a->multipart) {
				size_t len = http_range_part_head_length(r, a->file->size, a->part_type_len,
									 HTTP_RANGE_BOUNDARY_LEN);
				uint8_t *dst = http_slot_reserve(srv, &buffer, (uint32_t)len, &offset);

				http_range_part_head_format((char *)dst, len, a->boundary, a->part_type, a->part_type_len,
							    r, a->file->size);
				it = http_queue_append(srv, s, len, response);
				it->kind = HTTP_ITEM_BYTES;
				it->buffer = buffer;
				it->buffer_offset = offset;
			}
			it = http_queue_append(srv, s, r->last - r->first + 1, response);
			it->kind = HTTP_ITEM_FILE;
			it->generation = (uint8_t)srv->current;
			srv->generations[srv->current].file_items++;
			it->file.file = a->file;
			it->file.offset = r->first;
			COUNTER_ADD(&ns->counters, http_body_bytes, r->last - r->first + 1);
		}
		if (a->multipart) {
			uint32_t len = 4 + HTTP_RANGE_BOUNDARY_LEN + 4;
			uint8_t *dst = http_slot_reserve(srv, &buffer, len, &offset);

			http_range_multipart_end_format((char *)dst, len, a->boundary);
			it = http_queue_append(srv, s, len, response);
			it->kind = HTTP_ITEM_BYTES;
			it->buffer = buffer;
			it->buffer_offset = offset;
			COUNTER_INC(&ns->counters, http_range_multipart);
		}
	}
	it->last_of_response = 1;
	slot->stream_end = s->queue_end;
	http_count_status(ns, a->resp.status);
	return http_stream_advance(ns, c) ? 0 : -ECONNRESET;
}

/* Fields every answer carries. */
static void http_answer_init(struct http_server *srv, struct http_session *s, struct http_answer *a,
			     uint16_t status, const struct http_request *req)
{
	memset(a, 0, sizeof(*a));
	a->resp.status = status;
	a->resp.keep_alive = !(s->flags & HTTP_SESSION_CLOSING);
	a->resp.date = srv->date.second >= 0 ? srv->date.text : NULL; /* NULL before the first tick */
	a->resp.server = (struct http_slice){srv->settings.server_name, strlen(srv->settings.server_name)};
	if (req) {
		a->resp.head_request = req->method == HTTP_METHOD_HEAD;
		http_response_cors(&a->resp, &srv->cors, req);
	}
}

static void http_answer_error(struct http_server *srv, struct http_session *s, struct http_answer *a, uint16_t status,
			      const struct http_request *req)
{
	http_answer_init(srv, s, a, status, req);
	a->resp.error_body = true;
	a->resp.allow = status == 405;
}

/* Validators and type of a file response. */
static void http_answer_file(struct http_server *srv, struct http_answer *a, const struct store_file *f)
{
	a->file = f;
	if (f->content_type[0]) {
		a->part_type = f->content_type;
		a->part_type_len = strlen(f->content_type);
	} else {
		a->part_type = http_mime_type(f->path, f->path_len, &a->part_type_len);
	}
	a->resp.content_type = (struct http_slice){a->part_type, a->part_type_len};
	a->resp.etag = (struct http_slice){f->etag, strlen(f->etag)};
	if (http_date_format(f->mtime, a->last_modified) == HTTP_DATE_LEN)
		a->resp.last_modified = (struct http_slice){a->last_modified, HTTP_DATE_LEN};
	a->resp.cache_control = (struct http_slice){srv->settings.cache_control, strlen(srv->settings.cache_control)};
	a->resp.accept_ranges = srv->settings.max_ranges > 0;
}

static bool http_sign_applies(const struct http_server *srv, const char *path, size_t len)
{
	if (!srv->settings.sign_required)
		return false;
	if (!srv->sign_prefix_count)
		return true;
	for (uint32_t i = 0; i < srv->sign_prefix_count; i++)
		if (srv->sign_prefixes[i].len <= len && !memcmp(srv->sign_prefixes[i].data, path, srv->sign_prefixes[i].len))
			return true;
	return false;
}

static void http_sign_client(const struct tcp_conn *c, struct url_sign_client *client)
{
	memset(client, 0, sizeof(*client));
	if (c->flow.remote.family == NET_AF_IPV6) {
		client->family = 10; /* AF_INET6 */
		memcpy(client->address, c->flow.remote.v6, 16);
	} else {
		client->family = 2;  /* AF_INET */
		memcpy(client->address, &c->flow.remote.v4, 4);
	}
}

/* GET and HEAD of a path. */
static void http_answer_get(struct net_stack *ns, struct tcp_conn *c, const struct http_request *req,
			    struct http_answer *a)
{
	struct http_server *srv = http_server_of(ns, c);
	struct http_session *s = http_session_of(c);
	time_t now = srv->date.second;
	int path_len = http_path_normalize(req->path.data, req->path.len, srv->path, sizeof(srv->path));
	const struct store_file *f;
	enum http_cond_result cond;

	if (path_len == -EINVAL) {
		COUNTER_INC(&ns->counters, http_bad_request);
		http_answer_error(srv, s, a, 400, req);
		return;
	}
	if (path_len >= 0 && http_sign_applies(srv, srv->path, (size_t)path_len)) {
		struct url_sign_client client;
		enum url_sign_status st;

		http_sign_client(c, &client);
		st = url_sign_verify(&srv->sign_keys, srv->sign_engine, srv->path, (size_t)path_len, req->query.data,
				     req->query.len, &client, now, srv->settings.sign_skew_s);
		if (st != URL_SIGN_OK) {
			unsigned status = url_sign_status_http(st);

			if (status == 410)
				COUNTER_INC(&ns->counters, http_sign_expired);
			else
				COUNTER_INC(&ns->counters, http_sign_rejected);
			http_answer_error(srv, s, a, (uint16_t)status, req);
			/* Depends on this edge's clock, skew and key ring: never cached. */
			a->resp.cache_control = (struct http_slice){"no-store", 8};
			return;
		}
		COUNTER_INC(&ns->counters, http_sign_ok);
	}
	f = path_len >= 0 ? store_catalog_lookup(srv->generations[srv->current].catalog, srv->path, (size_t)path_len)
			  : NULL;
	if (!f) {
		http_answer_error(srv, s, a, 404, req);
		return;
	}
	if (store_file_broken(f)) {
		/* Listed, but shorter on disk than listed: another edge (or the next catalog) must
		 * serve it. */
		COUNTER_INC(&ns->counters, store_file_broken_refused);
		http_answer_error(srv, s, a, 503, req);
		a->resp.cache_control = (struct http_slice){"no-store", 8};
		return;
	}
	http_answer_init(srv, s, a, 200, req);
	http_answer_file(srv, a, f);
	cond = http_cond_evaluate(req, f->etag, strlen(f->etag), f->mtime, now);
	if (cond != HTTP_COND_PROCEED) {
		a->resp.status = (uint16_t)cond; /* 304 (412 is for other methods) */
		a->resp.content_type = (struct http_slice){0};
		return;
	}
	a->resp.has_content_length = true;
	a->resp.content_length = f->size;
	a->body = req->method == HTTP_METHOD_GET && f->size;
	/* Range is defined for GET only (RFC 9110 §14.2). */
	if (req->method == HTTP_METHOD_GET && req->range.len &&
	    (!req->if_range.len ||
	     http_if_range_allows(req->if_range.data, req->if_range.len, f->etag, strlen(f->etag), f->mtime, now))) {
		switch (http_range_resolve(req->range.data, req->range.len, f->size, srv->settings.max_ranges, &a->ranges)) {
		case HTTP_RANGE_IGNORE:
			a->ranges.count = 0;
			break;
		case HTTP_RANGE_PARTIAL:
			a->resp.status = 206;
			if (a->ranges.count == 1) {
				a->resp.content_range = HTTP_CONTENT_RANGE_PART;
				a->resp.range = a->ranges.ranges[0];
				a->resp.complete_length = f->size;
				a->resp.content_length = a->ranges.ranges[0].last - a->ranges.ranges[0].first + 1;
			} else {
				a->multipart = true;
				srv->prng ^= srv->prng << 13;
				srv->prng ^= srv->prng >> 7;
				srv->prng ^= srv->prng << 17;
				http_range_boundary_make(srv->prng, a->boundary);
				{
					int n = http_range_multipart_type_format(a->multipart_type, sizeof(a->multipart_type),
										 a->boundary);

					a->resp.content_type = (struct http_slice){a->multipart_type, n > 0 ? (size_t)n : 0};
				}
				a->resp.content_length = http_range_multipart_length(&a->ranges, f->size, a->part_type_len,
										     HTTP_RANGE_BOUNDARY_LEN);
			}
			break;
		case HTTP_RANGE_UNSATISFIABLE:
			a->ranges.count = 0;
			a->body = false;
			a->resp.status = 416;
			a->resp.error_body = true;
			a->resp.content_range = HTTP_CONTENT_RANGE_UNSATISFIED;
			a->resp.complete_length = f->size;
			a->resp.cache_control = (struct http_slice){0};
			break;
		}
	}
}

/* Decides the answer to a complete request. */
static void http_answer_request(struct net_stack *ns, struct tcp_conn *c, const struct http_request *req,
				struct http_answer *a)
{
	struct http_server *srv = http_server_of(ns, c);
	struct http_session *s = http_session_of(c);

	switch (req->method) {
	case HTTP_METHOD_GET:
	case HTTP_METHOD_HEAD:
		http_answer_get(ns, c, req, a);
		break;
	case HTTP_METHOD_OPTIONS:
		http_answer_init(srv, s, a, 204, req);
		a->resp.allow = true;
		if (a->resp.cors.preflight)
			COUNTER_INC(&ns->counters, http_cors_preflights);
		break;
	default:
		/* Known methods we do not serve (the parser answers 501 for unknown ones). */
		COUNTER_INC(&ns->counters, http_method_not_allowed);
		http_answer_error(srv, s, a, 405, req);
		break;
	}
}

static void http_release_request_buffer(struct http_server *srv, struct http_session *s)
{
	if (s->request_buffer) {
		http_pool_put(&srv->request_pool, s->request_buffer);
		s->request_buffer = 0;
	}
	s->request_len = 0;
}

/* Answers with an error and closes (the request stream can no longer be trusted). */
static void http_fail(struct net_stack *ns, struct tcp_conn *c, uint16_t status)
{
	struct http_server *srv = http_server_of(ns, c);
	struct http_session *s = http_session_of(c);
	struct http_answer a;

	/* Whatever else the peer sends is read and discarded. */
	http_release_request_buffer(srv, s);
	s->body_skip = 0;
	s->flags |= HTTP_SESSION_CLOSING;
	http_answer_error(srv, s, &a, status, NULL);
	if (http_queue_answer(ns, c, &a, NULL, ns->now_us) < 0) {
		tcp_abort(ns, c);
		return;
	}
	http_close_if_ready(ns, c);
}

/* Drops n bytes from the front of the request buffer. */
static void http_request_consume(struct http_server *srv, struct http_session *s, uint32_t n)
{
	uint8_t *buf = http_request_bytes(srv, s->request_buffer);

	memmove(buf, buf + n, s->request_len - n);
	s->request_len -= n;
}

/* Answers every complete request in the buffer while the queue has room. */
static void http_process_requests(struct net_stack *ns, struct tcp_conn *c)
{
	struct http_server *srv = http_server_of(ns, c);
	struct http_session *s = http_session_of(c);

	while (s->request_len && !(s->flags & HTTP_SESSION_CLOSING) && s->queued_responses < HTTP_PIPELINE_MAX) {
		uint8_t *buf = http_request_bytes(srv, s->request_buffer);
		struct http_request *req = &srv->request;
		struct http_answer a;
		uint32_t consumed, body_here;
		int rc = http_parse_request(&s->parser, (const char *)buf, s->request_len, &srv->limits, req);

		if (rc == HTTP_PARSE_PARTIAL) {
			if (s->request_len >= srv->settings.max_request_bytes) {
				COUNTER_INC(&ns->counters, http_request_too_large);
				http_fail(ns, c, 431);
			}
			return;
		}
		if (rc < 0) {
			unsigned status = http_parse_error_status(rc);

			if (status == 414 || status == 431)
				COUNTER_INC(&ns->counters, http_request_too_large);
			else
				COUNTER_INC(&ns->counters, http_bad_request);
			http_fail(ns, c, (uint16_t)status);
			return;
		}
		consumed = (uint32_t)rc;
		if (req->content_length > srv->settings.max_body_bytes) {
			/* We will not read that much: answer and close. */
			COUNTER_INC(&ns->counters, http_request_body_too_large);
			http_fail(ns, c, 413);
			return;
		}
		if (!req->keep_alive)
			s->flags |= HTTP_SESSION_CLOSING; /* the answer says "Connection: close" */
		http_answer_request(ns, c, req, &a);
		rc = http_queue_answer(ns, c, &a, req, ns->now_us);
		if (rc == -EAGAIN) {
			/* No room until this connection's responses are acknowledged: the head is
			 * parsed and answered again then. */
			s->flags &= (uint16_t)~HTTP_SESSION_CLOSING;
			http_parser_init(&s->parser);
			return;
		}
		if (rc == -ECONNRESET)
			return;
		if (rc < 0) {
			tcp_abort(ns, c);
			return;
		}
		COUNTER_INC(&ns->counters, http_requests);
		/* Drop the answered head and the body bytes that came with it. */
		body_here = (uint32_t)SLUICE_MIN(req->content_length, (uint64_t)(s->request_len - consumed));
		http_request_consume(srv, s, consumed + body_here);
		s->body_skip = req->content_length - body_here;
		COUNTER_ADD(&ns->counters, http_request_body_bytes_skipped, body_here);
		http_parser_init(&s->parser);
		s->head_started_us = ns->now_us; /* the next head (if any bytes of it are here) */
		http_close_if_ready(ns, c);
	}
	if (!s->request_len)
		http_release_request_buffer(srv, s);
}

static void http_arm_timeout(struct net_stack *ns, struct tcp_conn *c)
{
	struct http_server *srv = http_server_of(ns, c);
	struct http_session *s = http_session_of(c);
	uint64_t at = 0;

	if (s->flags & HTTP_SESSION_RETRY) {
		at = ns->now_us + HTTP_PAGEIN_RETRY_US;
	} else if (s->queue_head) {
		if (!(s->flags & HTTP_SESSION_PARKED))
			at = s->progress_us + srv->settings.send_timeout_us;
	} else if (s->flags & HTTP_SESSION_CLOSING) {
		at = 0; /* TCP's own timers bound a closing connection */
	} else if (s->request_len || s->body_skip) {
		at = s->head_started_us + srv->settings.header_timeout_us;
	} else {
		at = s->idle_since_us + srv->settings.keepalive_timeout_us;
	}
	tcp_set_app_deadline(ns, c, at);
}

/* --- tcp_app_ops ---------------------------------------------------------------------------- */

int http_session_accepted(struct net_stack *ns, struct tcp_conn *c)
{
	struct http_session *s = http_session_of(c);

	memset(s, 0, sizeof(*s));
	http_parser_init(&s->parser);
	s->flags = HTTP_SESSION_ACCEPTED;
	s->idle_since_us = ns->now_us;
	http_arm_timeout(ns, c);
	return 0;
}

uint32_t http_session_received(struct net_stack *ns, struct tcp_conn *c, const uint8_t *data, uint32_t len)
{
	struct http_server *srv = http_server_of(ns, c);
	struct http_session *s = http_session_of(c);
	uint32_t room, take, skipped = 0;

	if (s->flags & HTTP_SESSION_CLOSING)
		return len; /* after an error or "close": read and discard */
	if (s->body_skip) {
		skipped = (uint32_t)SLUICE_MIN((uint64_t)len, s->body_skip);
		s->body_skip -= skipped;
		COUNTER_ADD(&ns->counters, http_request_body_bytes_skipped, skipped);
		data += skipped;
		len -= skipped;
		if (!len) {
			if (!s->body_skip)
				s->head_started_us = ns->now_us;
			http_arm_timeout(ns, c);
			return skipped;
		}
	}
	if (!s->request_buffer) {
		s->request_buffer = http_pool_get(&srv->request_pool);
		if (!s->request_buffer) {
			COUNTER_INC(&ns->counters, http_no_session_memory);
			http_fail(ns, c, 503);
			return skipped + len;
		}
		s->request_len = 0;
		s->head_started_us = ns->now_us;
	}
	room = srv->settings.max_request_bytes - s->request_len;
	take = len < room ? len : room;
	memcpy(http_request_bytes(srv, s->request_buffer) + s->request_len, data, take);
	s->request_len += take;
	http_process_requests(ns, c);
	if (c->state != TCP_CLOSED)
		http_arm_timeout(ns, c);
	return skipped + take;
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

	if (offset > s->acked) {
		s->acked = offset;
		s->progress_us = ns->now_us;
	}
	while (s->queue_head) {
		uint32_t i = s->queue_head;
		struct http_send_item *it = http_item(srv, i);

		if (it->stream_start + it->len > offset)
			break;
		s->queue_head = it->next;
		if (!s->queue_head)
			s->queue_tail = 0;
		if (it->last_of_response)
			freed_response = true;
		http_item_release(ns, c, i, false);
	}
	if (!s->queue_head)
		s->idle_since_us = ns->now_us;
	if (freed_response && s->request_len) {
		uint32_t before = s->request_len;

		http_process_requests(ns, c); /* pipelined requests waiting for queue room */
		if (c->state == TCP_CLOSED)
			return;
		if (s->request_len < before)
			http_transport(ns, c)->receive_space_changed(ns, c);
	}
	/* Keep the stream HTTP_EXTEND_WINDOW ahead of what was acknowledged. */
	if (s->stream_limit < s->queue_end && !(s->flags & HTTP_SESSION_PAGEIN) &&
	    s->stream_limit - s->acked < HTTP_EXTEND_WINDOW / 2 && !http_stream_advance(ns, c))
		return;
	http_arm_timeout(ns, c);
}

void http_session_peer_closed(struct net_stack *ns, struct tcp_conn *c)
{
	struct http_session *s = http_session_of(c);

	/* No more requests: answer what is complete, then FIN. */
	s->flags |= HTTP_SESSION_PEER_FIN;
	http_process_requests(ns, c);
	if (c->state == TCP_CLOSED)
		return;
	s->flags |= HTTP_SESSION_CLOSING;
	http_close_if_ready(ns, c);
	http_arm_timeout(ns, c);
}

void http_session_timeout(struct net_stack *ns, struct tcp_conn *c)
{
	struct http_server *srv = http_server_of(ns, c);
	struct http_session *s = http_session_of(c);

	if (s->flags & HTTP_SESSION_RETRY) {
		if (http_stream_advance(ns, c))
			http_arm_timeout(ns, c);
		return;
	}
	if (s->queue_head) {
		if ((s->flags & HTTP_SESSION_PARKED) || ns->now_us < s->progress_us + srv->settings.send_timeout_us) {
			http_arm_timeout(ns, c);
			return;
		}
		/* The peer stopped taking data (zero window, or gone without a word). */
		COUNTER_INC(&ns->counters, http_send_timeouts);
		tcp_abort(ns, c);
		return;
	}
	if (s->flags & HTTP_SESSION_CLOSING)
		return;
	if (s->request_len || s->body_skip) {
		COUNTER_INC(&ns->counters, http_header_timeouts);
		tcp_abort(ns, c);
		return;
	}
	COUNTER_INC(&ns->counters, http_keepalive_timeouts);
	s->flags |= HTTP_SESSION_CLOSING;
	http_close_if_ready(ns, c);
}

void http_session_released(struct net_stack *ns, struct tcp_conn *c, enum tcp_close_reason reason)
{
	struct http_server *srv = http_server_of(ns, c);
	struct http_session *s = http_session_of(c);

	(void)reason;
	http_unpark(ns, s);
	s->flags &= (uint16_t)~HTTP_SESSION_PAGEIN; /* a late completion finds no cookie */
	while (s->queue_head) {
		uint32_t i = s->queue_head;

		s->queue_head = http_item(srv, i)->next;
		http_item_release(ns, c, i, true);
	}
	s->queue_tail = 0;
	http_release_request_buffer(srv, s);
}

/* The item holding stream offset `offset`, or 0. */
static uint32_t http_item_at(struct http_server *srv, const struct http_session *s, uint64_t offset)
{
	uint32_t i = s->queue_head;

	while (i && http_item(srv, i)->stream_start + http_item(srv, i)->len <= offset)
		i = http_item(srv, i)->next;
	if (i && offset < http_item(srv, i)->stream_start)
		return 0;
	return i;
}

int http_session_produce(struct net_stack *ns, struct tcp_conn *c, uint64_t offset, uint32_t len, uint8_t *dst)
{
	struct http_server *srv = http_server_of(ns, c);
	struct http_session *s = http_session_of(c);
	uint32_t i = http_item_at(srv, s, offset);

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
		if (it->kind == HTTP_ITEM_BYTES) {
			memcpy(dst, http_slot_bytes(srv, it->buffer) + it->buffer_offset + within, n);
		} else {
			const struct store_file *f = it->file.file;
			uint64_t at = it->file.offset + within;

			if (unlikely(store_file_broken(f))) {
				COUNTER_INC(&ns->counters, store_file_broken_resets);
				return -EIO;
			}
			if (srv->pagein && unlikely(!store_range_resident(f, at, n))) {
				/* Evicted since it was queued (or sent): not on this lcore's time. */
				COUNTER_INC(&ns->counters, store_not_resident_retries);
				http_request_pagein(ns, c, f, store_resident_extent(f, at, at + n), it->file.offset + it->len);
				return -ENOBUFS;
			}
			if (unlikely(store_guard_copy(dst, f->map + at, n))) {
				COUNTER_INC(&ns->counters, store_sigbus_caught);
				store_file_mark_broken((struct store_file *)f);
				COUNTER_INC(&ns->counters, store_file_broken_resets);
				return -EIO;
			}
		}
		dst += n;
		offset += n;
		len -= n;
	}
	return 0;
}

int http_session_map(struct net_stack *ns, struct tcp_conn *c, uint64_t offset, struct http_session_piece *piece)
{
	struct http_server *srv = http_server_of(ns, c);
	struct http_session *s = http_session_of(c);
	uint32_t i = http_item_at(srv, s, offset);
	const struct http_send_item *it;
	uint64_t within, left;

	memset(piece, 0, sizeof(*piece));
	if (!i)
		return -EINVAL; /* the transport asked beyond what was queued: a bug, reset */
	it = http_item(srv, i);
	within = offset - it->stream_start;
	left = it->len - within;
	if (it->kind == HTTP_ITEM_BYTES) {
		piece->bytes = http_slot_bytes(srv, it->buffer) + it->buffer_offset + within;
		piece->len = (uint32_t)left;
		return 0;
	}
	{
		const struct store_file *f = it->file.file;
		uint64_t at = it->file.offset + within, end = at + SLUICE_MIN(left, (uint64_t)UINT32_MAX);

		if (unlikely(store_file_broken(f))) {
			COUNTER_INC(&ns->counters, store_file_broken_resets);
			return -EIO;
		}
		if (srv->pagein) {
			end = store_resident_extent(f, at, end);
			if (unlikely(end == at)) {
				/* Evicted since it was queued (or sent): not on this lcore's time. */
				COUNTER_INC(&ns->counters, store_not_resident_retries);
				http_request_pagein(ns, c, f, at, it->file.offset + it->len);
				return -ENOBUFS;
			}
		}
		piece->bytes = f->map + at;
		piece->len = (uint32_t)(end - at);
		piece->file = f;
		return 0;
	}
}

/* --- page-in completions ------------------------------------------------------------------- */

static void http_pagein_latency(struct net_stack *ns, uint64_t us)
{
	/* Cumulative buckets (Prometheus histogram semantics): each observation counts in every
	 * bucket whose bound it does not exceed. */
	if (us <= 100)
		COUNTER_INC(&ns->counters, store_pagein_le_100us);
	if (us <= 1000)
		COUNTER_INC(&ns->counters, store_pagein_le_1ms);
	if (us <= 10000)
		COUNTER_INC(&ns->counters, store_pagein_le_10ms);
	if (us <= 100000)
		COUNTER_INC(&ns->counters, store_pagein_le_100ms);
	if (us <= 1000000)
		COUNTER_INC(&ns->counters, store_pagein_le_1s);
	COUNTER_INC(&ns->counters, store_pagein_le_inf);
	COUNTER_ADD(&ns->counters, store_pagein_sum_us, us);
}

void http_server_poll(struct http_server *srv, struct net_stack *ns)
{
	struct store_pagein_completion done[HTTP_COMPLETIONS_BURST];
	uint32_t n;

	if (!srv->pagein)
		return;
	n = store_pagein_completions(srv->pagein, done, HTTP_COMPLETIONS_BURST);
	for (uint32_t k = 0; k < n; k++) {
		const struct store_pagein_completion *d = &done[k];
		struct tcp_conn *c;
		struct http_session *s;

		http_pagein_latency(ns, ns->now_us - d->posted_us);
		if (d->status)
			COUNTER_INC(&ns->counters, store_pagein_failed);
		if (!d->token || d->token > ns->tcp->settings.max_connections)
			continue;
		c = tcp_conn_by_index(ns->tcp, d->token);
		if (c->state == TCP_CLOSED || !(c->flags & TCP_CONN_ACCEPTED))
			continue;
		s = http_session_of(c);
		if (!(s->flags & HTTP_SESSION_PAGEIN) || s->pagein_cookie != d->cookie)
			continue; /* the connection that asked is gone */
		s->flags &= (uint16_t)~HTTP_SESSION_PAGEIN;
		http_unpark(ns, s);
		if (d->status == -EFAULT) {
			http_file_broken(ns, c);
			continue;
		}
		if (d->status) {
			tcp_abort(ns, c); /* the disk failed us: this response cannot complete */
			continue;
		}
		if (!http_stream_advance(ns, c))
			continue;
		/* Bytes a retransmission waited for: let the transport try again. */
		http_transport(ns, c)->send_extend(ns, c, s->stream_limit);
		http_arm_timeout(ns, c);
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
