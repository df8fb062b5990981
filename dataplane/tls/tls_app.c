/* SPDX-License-Identifier: BSD-3-Clause
 *
 * tls_app.c: the TLS transport between the data plane's TCP and the HTTP session (see
 * tls_app.h for the picture, the memory per connection and the handshake admission).
 *
 * A connection's TLS state (struct tls_conn, in its slot after the HTTP session):
 *
 *   state        entered when                          received() does
 *   HELLO        TCP accepted                          gathers the ClientHello's first record;
 *                                                      starts the handshake when the budget
 *                                                      allows, else queues the connection
 *   QUEUED       first record whole, no budget/slot    keeps bytes in its receive buffer
 *   HANDSHAKING  tls_handshake_create                  tls_handshake_feed
 *   ESTABLISHED  key handoff, tls_session_init,        tls_session_receive → HTTP
 *                http_session_accepted
 *   CLOSED       handshake failed (alert, FIN), or     discards
 *                the peer or we ended the TLS stream
 *                before establishment
 * After ESTABLISHED the TLS stream may end (close_notify either way, a fatal alert): the
 * session then refuses input (-EPIPE) and received() discards; TCP finishes with FIN/ACK.
 *
 * Invariants:
 *   - handshake != 0 iff a handshake slot belongs to the connection; the slot's OpenSSL
 *     object exists only in HANDSHAKING, its output [0, H) until TCP acknowledges H;
 *   - session != 0 iff ESTABLISHED (the stream starts at wire offset H = handshake_bytes);
 *   - rx_buffer != 0 iff rx_length > 0 or the connection is QUEUED; the buffer holds raw
 *     bytes [0, rx_length) (an incomplete record, or queued handshake input), or with
 *     TLS_CONN_RX_PLAINTEXT, plaintext [rx_start, rx_length) HTTP has not taken yet (then
 *     nothing more is read until it has);
 *   - a QUEUED connection is on the lcore's FIFO, linked through its receive buffer;
 *   - plaintext_wanted >= the stream's plaintext end: the difference waits for a run slot
 *     (-ENOBUFS), and a close_notify HTTP asked for (TLS_CONN_CLOSE_OWED) comes after it.
 *
 * Sending, and what a record costs. TCP asks for its send stream a burst at a time (up to
 * ~64 KB), through stream_produce_iov as the scatter list of the burst's packet buffers (the
 * mbufs of a TSO chain, or one per segment where worker.c segments in software), or with
 * stream_produce one buffer at a time. Sealing the part of a record that ends before its tag is
 * counter mode over those bytes only, but the tag is GHASH over the whole record: a record
 * cut between two calls would be sealed twice (once in counter mode up to the cut, once
 * whole for the tag). So when a first transmission ends inside a record, the call seals on
 * to the end of that record, the bytes past the request going into a per-lcore spill entry
 * (TLS_APP_SPILL_ENTRIES of them, one per session index modulo the count) that the next
 * call for that connection copies from: every record is sealed once, and the copy is of at
 * most one record tail per call, hot in cache. Retransmissions that miss the spill are
 * produced by the record layer alone (counter mode, or the whole record for a tag).
 *
 * When the source fails. The plaintext is read in place from the store's mapping
 * (http_session_map), so a produce call can fail half-way through a burst:
 *   - the bytes were evicted since HTTP queued them (-ENOBUFS: HTTP asked for a page-in).
 *     TCP retries the same bytes later, as after a full TX path, so a failed call leaves no
 *     trace: the stream's produced_wire moves only on success, the record tail sealed ahead
 *     goes into the lcore's spare spill buffer, which replaces the entry's buffer only on
 *     success (the entry, which this call may have copied from, stays intact), and counters
 *     move only on success. The retry seals the same records into identical bytes. (A
 *     KeyUpdate may have moved the session's expanded write key on to the newer epoch first:
 *     that is a cache, the bytes are the same.)
 *   - the file shrank (-EIO from the map: its broken flag), or it shrinks while the AEAD
 *     engine reads it: the sealing part of each call runs under store_guard_call (one
 *     sigsetjmp per call), so a SIGBUS ends the call with -EFAULT instead of the process.
 *     The file of the last piece mapped is the one that faulted; it is marked broken once
 *     fstat confirms it shrank (rare path: a SIGBUS on a file of the right size, a disk error,
 *     resets the connection without condemning the file), store_sigbus_caught and
 *     store_file_broken_resets count it, and -EIO makes TCP reset only this connection.
 */
#include "tls_app.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "compiler.h"
#include "net/stack.h"
#include "store/store_guard.h"
#include "store/store_resident.h"
#include "tls_record.h"
#include "tls_session.h"
#include "tls_stream.h"

#if defined(__x86_64__)
#include <x86intrin.h>
static inline uint64_t tls_app_cycles(void) { return __rdtsc(); }
#else
static inline uint64_t tls_app_cycles(void) { return 0; }
#endif

enum tls_conn_state {
	TLS_CONN_HELLO = 0,
	TLS_CONN_QUEUED,
	TLS_CONN_HANDSHAKING,
	TLS_CONN_ESTABLISHED,
	TLS_CONN_CLOSED,
};

enum tls_conn_flags {
	TLS_CONN_HTTP = 1 << 0,          /* http_session_accepted ran: release it */
	TLS_CONN_CLOSE_OWED = 1 << 1,    /* HTTP closed; close_notify after the pending append */
	TLS_CONN_RX_PLAINTEXT = 1 << 2,  /* the receive buffer holds plaintext HTTP did not take */
	TLS_CONN_RX_RESUME = 1 << 3,     /* HTTP has room again: hand it that plaintext */
	TLS_CONN_PEER_FIN_OWED = 1 << 4, /* TCP FIN arrived while plaintext was held back */
};

/* In the connection slot, after the HTTP session. */
struct tls_conn {
	uint64_t plaintext_wanted; /* HTTP's plaintext end (send_extend) */
	uint32_t session;          /* index + 1 in the session pool, 0 = none */
	uint32_t handshake;        /* index + 1 in the handshake slots, 0 = none */
	uint32_t rx_buffer;        /* index + 1 in the receive buffers, 0 = none */
	uint32_t handshake_bytes;  /* H: the handshake's wire bytes, TCP stream offsets [0, H) */
	uint16_t rx_start;         /* RX_PLAINTEXT: first plaintext byte not yet taken */
	uint16_t rx_length;        /* bytes held in the receive buffer */
	uint8_t state;             /* enum tls_conn_state */
	uint8_t flags;             /* enum tls_conn_flags */
	uint16_t reserved;
};
_Static_assert(sizeof(struct tls_conn) == 32, "per-connection TLS state in the slot is documented in tls_app.h");

/* A handshake in progress (handshake != NULL) or its output still unacknowledged. */
struct tls_app_handshake {
	struct tls_handshake *handshake;
	uint32_t output_length;
	uint32_t reserved;
	uint8_t output[TLS_APP_HANDSHAKE_OUTPUT_MAX];
};

/* Receive buffer bookkeeping; the handshake queue links through it. */
struct tls_app_rx {
	uint64_t queued_us;        /* when the connection was queued */
	uint32_t conn;             /* TCP connection index + 1 (queued) */
	uint32_t queue_prev, queue_next; /* receive buffer index + 1 */
	uint32_t reserved;
};

/* Bytes of a spill buffer: >= any record we seal, whole cache lines. */
#define TLS_APP_SPILL_BYTES 16704
_Static_assert(TLS_APP_SPILL_BYTES >= TLS_RECORD_HEADER_LENGTH + TLS13_CIPHERTEXT_MAX &&
		       TLS_APP_SPILL_BYTES % SLUICE_CACHE_LINE == 0,
	       "a spill buffer holds any record tail");

/* Wire bytes sealed ahead of TCP's request: the tail of one record. */
struct tls_app_spill {
	uint32_t session;          /* index + 1 of the owner, 0 = empty */
	uint32_t length;
	uint64_t wire_offset;      /* of bytes[0] */
	uint8_t *bytes;            /* one of the lcore's spill buffers (TLS_APP_SPILL_BYTES) */
};

/* A free list of indices 1..count over a separate array (so that reserving touches nothing). */
struct tls_app_pool {
	uint32_t *next;
	uint32_t free_head;        /* index + 1, 0 = empty */
	uint32_t count;
};

struct tls_app {
	struct tls_app_settings settings;
	struct tls_aead_worker *aead;
	uint32_t conn_offset;      /* struct tls_conn in the application area */
	uint32_t budget;           /* handshakes that may still start in this iteration */
	uint32_t handshakes_active;
	uint32_t queue_head, queue_tail; /* receive buffer index + 1 */
	struct tls_app_pool session_pool;
	struct tls_session *sessions;
	size_t sessions_bytes;
	struct tls_app_pool rx_pool;
	uint8_t *rx_bytes;
	size_t rx_bytes_size;
	struct tls_app_rx *rx;
	struct tls_app_pool slot_pool;
	struct tls_app_handshake *slots;
	size_t slots_bytes;
	struct tls_app_spill spill[TLS_APP_SPILL_ENTRIES];
	uint8_t *spill_spare;      /* the buffer no entry holds: a call seals ahead into it */
	uint8_t *spill_buffers;    /* TLS_APP_SPILL_ENTRIES + 1 buffers */
	size_t spill_buffers_bytes;
	uint8_t plaintext[TLS13_CIPHERTEXT_MAX] sluice_cache_aligned; /* one opened record */
};

#define TLS_APP_PRODUCE_IOV_MAX 64

/* --- pools ---------------------------------------------------------------------------------- */

static int tls_app_pool_init(struct tls_app_pool *pool, uint32_t count)
{
	pool->next = calloc(count ? count : 1, sizeof(*pool->next));
	if (!pool->next)
		return -ENOMEM;
	pool->count = count;
	for (uint32_t i = count; i > 0; i--) {
		pool->next[i - 1] = pool->free_head;
		pool->free_head = i;
	}
	return 0;
}

static uint32_t tls_app_pool_get(struct tls_app_pool *pool)
{
	uint32_t i = pool->free_head;

	if (i)
		pool->free_head = pool->next[i - 1];
	return i;
}

static void tls_app_pool_put(struct tls_app_pool *pool, uint32_t i)
{
	pool->next[i - 1] = pool->free_head;
	pool->free_head = i;
}

static void *tls_app_reserve(size_t bytes)
{
	void *p = mmap(NULL, bytes ? bytes : 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		       -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static void tls_app_unreserve(void *p, size_t bytes)
{
	if (p)
		munmap(p, bytes ? bytes : 1);
}

size_t tls_app_area_size(void)
{
	return ((http_session_size() + 7) & ~(size_t)7) + sizeof(struct tls_conn);
}

struct tls_app *tls_app_create(const struct tls_app_settings *settings)
{
	struct tls_app *app;
	int rc;

	if (!settings->engine || !settings->server || !settings->max_handshakes || !settings->handshakes_per_iteration) {
		errno = EINVAL;
		return NULL;
	}
	app = aligned_alloc(SLUICE_CACHE_LINE, (sizeof(*app) + SLUICE_CACHE_LINE - 1) & ~(size_t)(SLUICE_CACHE_LINE - 1));
	if (!app) {
		errno = ENOMEM;
		return NULL;
	}
	memset(app, 0, sizeof(*app));
	app->settings = *settings;
	app->conn_offset = (uint32_t)((http_session_size() + 7) & ~(size_t)7);
	app->budget = settings->handshakes_per_iteration;
	rc = tls_aead_worker_create(settings->engine, &app->aead);
	if (rc < 0)
		goto fail;
	rc = -ENOMEM;
	app->sessions_bytes = (size_t)settings->sessions * sizeof(struct tls_session);
	app->rx_bytes_size = (size_t)settings->receive_buffers * TLS_APP_RECEIVE_BUFFER;
	app->slots_bytes = (size_t)settings->max_handshakes * 2 * sizeof(struct tls_app_handshake);
	app->spill_buffers_bytes = (TLS_APP_SPILL_ENTRIES + 1) * (size_t)TLS_APP_SPILL_BYTES;
	app->sessions = tls_app_reserve(app->sessions_bytes);
	app->rx_bytes = tls_app_reserve(app->rx_bytes_size);
	app->slots = tls_app_reserve(app->slots_bytes);
	app->spill_buffers = tls_app_reserve(app->spill_buffers_bytes);
	app->rx = calloc(settings->receive_buffers ? settings->receive_buffers : 1, sizeof(*app->rx));
	if (!app->sessions || !app->rx_bytes || !app->slots || !app->spill_buffers || !app->rx ||
	    tls_app_pool_init(&app->session_pool, settings->sessions) ||
	    tls_app_pool_init(&app->rx_pool, settings->receive_buffers) ||
	    tls_app_pool_init(&app->slot_pool, settings->max_handshakes * 2))
		goto fail;
	for (unsigned i = 0; i < TLS_APP_SPILL_ENTRIES; i++)
		app->spill[i].bytes = app->spill_buffers + (size_t)i * TLS_APP_SPILL_BYTES;
	app->spill_spare = app->spill_buffers + (size_t)TLS_APP_SPILL_ENTRIES * TLS_APP_SPILL_BYTES;
	return app;
fail:
	tls_app_destroy(app);
	errno = -rc;
	return NULL;
}

void tls_app_destroy(struct tls_app *app)
{
	if (!app)
		return;
	tls_aead_worker_free(app->aead);
	if (app->sessions)
		tls_aead_wipe(app->sessions, app->sessions_bytes);
	tls_app_unreserve(app->sessions, app->sessions_bytes);
	tls_app_unreserve(app->rx_bytes, app->rx_bytes_size);
	tls_app_unreserve(app->slots, app->slots_bytes);
	if (app->spill_buffers)
		tls_aead_wipe(app->spill_buffers, app->spill_buffers_bytes);
	tls_app_unreserve(app->spill_buffers, app->spill_buffers_bytes);
	free(app->rx);
	free(app->session_pool.next);
	free(app->rx_pool.next);
	free(app->slot_pool.next);
	free(app);
}

const char *tls_app_engine_description(const struct tls_app *app)
{
	return tls_aead_worker_describe(app->aead);
}

void tls_app_stop(struct tls_app *app)
{
	if (app->settings.ticket_keys)
		tls_ticket_keyring_offline(app->settings.ticket_keys, app->settings.ticket_reader);
}

/* --- accessors -------------------------------------------------------------------------------- */

static struct tls_app *tls_app_of(const struct net_stack *ns, const struct tcp_conn *c)
{
	const struct http_listener *listener = tcp_conn_app_ctx(ns, c);

	return listener->transport_ctx;
}

static struct tls_conn *tls_conn_of(const struct tls_app *app, struct tcp_conn *c)
{
	return (struct tls_conn *)(void *)((uint8_t *)tcp_conn_app(c) + app->conn_offset);
}

static const struct tls_conn *tls_conn_of_const(const struct tls_app *app, const struct tcp_conn *c)
{
	return (const struct tls_conn *)(const void *)((const uint8_t *)tcp_conn_app_const(c) + app->conn_offset);
}

static struct tls_session *tls_session_of(struct tls_app *app, const struct tls_conn *conn)
{
	return &app->sessions[conn->session - 1];
}

static struct tls_app_handshake *tls_slot_of(struct tls_app *app, const struct tls_conn *conn)
{
	return &app->slots[conn->handshake - 1];
}

static uint8_t *tls_rx_bytes(struct tls_app *app, uint32_t buffer)
{
	return app->rx_bytes + (size_t)(buffer - 1) * TLS_APP_RECEIVE_BUFFER;
}

static bool tls_conn_gone(const struct tcp_conn *c)
{
	return c->state == TCP_CLOSED;
}

/* --- receive buffers and the handshake queue ------------------------------------------------- */

static bool tls_rx_get(struct tls_app *app, struct net_stack *ns, struct tls_conn *conn)
{
	uint32_t buffer = tls_app_pool_get(&app->rx_pool);

	if (!buffer) {
		COUNTER_INC(&ns->counters, tls_receive_buffers_exhausted);
		return false;
	}
	memset(&app->rx[buffer - 1], 0, sizeof(app->rx[0]));
	conn->rx_buffer = buffer;
	conn->rx_start = 0;
	conn->rx_length = 0;
	return true;
}

static void tls_rx_put(struct tls_app *app, struct tls_conn *conn)
{
	if (conn->rx_buffer)
		tls_app_pool_put(&app->rx_pool, conn->rx_buffer);
	conn->rx_buffer = 0;
	conn->rx_start = 0;
	conn->rx_length = 0;
	conn->flags &= (uint8_t) ~(TLS_CONN_RX_PLAINTEXT | TLS_CONN_RX_RESUME);
}

static void tls_queue_push(struct tls_app *app, struct net_stack *ns, struct tcp_conn *c, struct tls_conn *conn)
{
	struct tls_app_rx *rx = &app->rx[conn->rx_buffer - 1];

	rx->conn = tcp_conn_index(ns->tcp, c);
	rx->queued_us = ns->now_us;
	rx->queue_next = 0;
	rx->queue_prev = app->queue_tail;
	if (app->queue_tail)
		app->rx[app->queue_tail - 1].queue_next = conn->rx_buffer;
	else
		app->queue_head = conn->rx_buffer;
	app->queue_tail = conn->rx_buffer;
	conn->state = TLS_CONN_QUEUED;
	COUNTER_INC(&ns->counters, tls_handshakes_queued);
	COUNTER_INC(&ns->counters, tls_handshake_queue_depth);
}

static void tls_queue_unlink(struct tls_app *app, struct net_stack *ns, uint32_t buffer)
{
	struct tls_app_rx *rx = &app->rx[buffer - 1];

	if (rx->queue_prev)
		app->rx[rx->queue_prev - 1].queue_next = rx->queue_next;
	else
		app->queue_head = rx->queue_next;
	if (rx->queue_next)
		app->rx[rx->queue_next - 1].queue_prev = rx->queue_prev;
	else
		app->queue_tail = rx->queue_prev;
	rx->queue_prev = rx->queue_next = 0;
	COUNTER_DEC(&ns->counters, tls_handshake_queue_depth);
}

static void tls_queue_wait_counted(struct net_stack *ns, uint64_t wait_us)
{
	struct dp_counters *ctr = &ns->counters;

	COUNTER_ADD(ctr, tls_handshake_queue_wait_us, wait_us);
	if (wait_us <= 1000)
		COUNTER_INC(ctr, tls_handshake_queue_wait_le_1ms);
	if (wait_us <= 10000)
		COUNTER_INC(ctr, tls_handshake_queue_wait_le_10ms);
	if (wait_us <= 100000)
		COUNTER_INC(ctr, tls_handshake_queue_wait_le_100ms);
	if (wait_us <= 1000000)
		COUNTER_INC(ctr, tls_handshake_queue_wait_le_1s);
	if (wait_us > COUNTER_GET(ctr, tls_handshake_queue_wait_max_us))
		ctr->value[DPC_tls_handshake_queue_wait_max_us] = wait_us;
}

/* --- sending helpers ---------------------------------------------------------------------- */

/* TCP may send up to the stream's current wire end. */
static void tls_conn_push(struct tls_app *app, struct net_stack *ns, struct tcp_conn *c, struct tls_conn *conn)
{
	tcp_send_extend(ns, c, tls_session_wire_end(tls_session_of(app, conn)));
}

/* close_notify after everything appended, then FIN. */
static void tls_conn_close_stream(struct tls_app *app, struct net_stack *ns, struct tcp_conn *c,
				  struct tls_conn *conn)
{
	if (tls_session_close(tls_session_of(app, conn)) == 0) {
		COUNTER_INC(&ns->counters, tls_close_notify_sent);
		COUNTER_INC(&ns->counters, tls_alerts_sent);
	}
	tls_conn_push(app, ns, c, conn);
	tcp_send_close(ns, c);
}

/* Appends what HTTP queued beyond the stream's plaintext end, as run slots allow. */
static void tls_conn_append_pending(struct tls_app *app, struct net_stack *ns, struct tcp_conn *c,
				    struct tls_conn *conn)
{
	struct tls_session *session = tls_session_of(app, conn);
	uint64_t appended = tls_stream_plaintext_end(&session->stream);

	if (conn->plaintext_wanted > appended) {
		int rc = tls_session_append(session, conn->plaintext_wanted - appended);

		if (rc == -ENOBUFS) {
			COUNTER_INC(&ns->counters, tls_append_deferred);
			return; /* tls_app_acked retries once a run is acknowledged */
		}
		if (rc < 0)
			conn->plaintext_wanted = appended; /* the stream has ended: nothing more goes out */
	}
	if (conn->flags & TLS_CONN_CLOSE_OWED) {
		conn->flags &= (uint8_t)~TLS_CONN_CLOSE_OWED;
		tls_conn_close_stream(app, ns, c, conn);
	}
}

/* --- the handshake ------------------------------------------------------------------------------ */

/*
 * The OpenSSL handshake of the connection is over (done, failed or abandoned): detach it from
 * its slot (the slot keeps the output until acknowledged). Returns it for the caller to free.
 * Counters: started = completed + failed + active, always.
 */
static struct tls_handshake *tls_conn_handshake_detach(struct tls_app *app, struct net_stack *ns,
						       struct tls_conn *conn)
{
	struct tls_app_handshake *slot;
	struct tls_handshake *handshake;

	if (!conn->handshake)
		return NULL;
	slot = tls_slot_of(app, conn);
	handshake = slot->handshake;
	if (handshake) {
		slot->handshake = NULL;
		app->handshakes_active--;
		COUNTER_DEC(&ns->counters, tls_handshakes_active);
	}
	return handshake;
}

static void tls_slot_release(struct tls_app *app, struct net_stack *ns, struct tls_conn *conn)
{
	struct tls_handshake *handshake = tls_conn_handshake_detach(app, ns, conn);

	if (handshake) {
		COUNTER_INC(&ns->counters, tls_handshakes_failed); /* released while in progress */
		tls_handshake_free(handshake);
	}
	tls_app_pool_put(&app->slot_pool, conn->handshake);
	conn->handshake = 0;
}

/* The handshake ended without keys: send its alert (if OpenSSL made one), then FIN. */
static void tls_conn_handshake_failed(struct tls_app *app, struct net_stack *ns, struct tcp_conn *c,
				      struct tls_conn *conn)
{
	struct tls_handshake *handshake = tls_conn_handshake_detach(app, ns, conn);

	if (handshake) {
		COUNTER_INC(&ns->counters, tls_handshakes_failed);
		tls_handshake_free(handshake);
	}
	conn->state = TLS_CONN_CLOSED;
	tcp_set_app_deadline(ns, c, 0);
	tcp_send_close(ns, c);
}

static uint32_t tls_conn_receive(struct tls_app *app, struct net_stack *ns, struct tcp_conn *c,
				 struct tls_conn *conn, const uint8_t *data, uint32_t length);

/* Handshake DONE: keys to the record layer, HTTP starts, bytes after the Finished are read. */
static void tls_conn_establish(struct tls_app *app, struct net_stack *ns, struct tcp_conn *c,
			       struct tls_conn *conn)
{
	struct tls_handshake *handshake = tls_conn_handshake_detach(app, ns, conn);
	struct tls_handshake_handoff handoff;
	struct tls_stream_layout layout = {.small_record_count = TLS_STREAM_SMALL_RECORD_COUNT};
	struct tls_session *session;
	size_t overhead;
	uint32_t index = 0;
	int rc;

	/* Detached from the slot: freed below, whatever happens to the connection meanwhile. */
	rc = tls_handshake_handoff(handshake, &handoff);
	if (rc == 0) {
		index = tls_app_pool_get(&app->session_pool);
		if (!index)
			COUNTER_INC(&ns->counters, tls_sessions_exhausted);
	}
	if (!index) {
		COUNTER_INC(&ns->counters, tls_handshakes_failed);
		tls_aead_wipe(&handoff, sizeof(handoff));
		tls_handshake_free(handshake);
		conn->state = TLS_CONN_CLOSED;
		tcp_abort(ns, c);
		return;
	}
	/* The first records of every response fit one segment each (tls_stream.h). */
	overhead = tls_record_overhead(handoff.version);
	if (c->mss > overhead + 64)
		layout.small_record_plaintext = (uint16_t)(c->mss - overhead);
	session = &app->sessions[index - 1];
	rc = tls_session_init(session, app->aead, &handoff, conn->handshake_bytes, &layout);
	if (rc < 0) {
		tls_app_pool_put(&app->session_pool, index);
		COUNTER_INC(&ns->counters, tls_handshakes_failed);
		tls_aead_wipe(&handoff, sizeof(handoff));
		tls_handshake_free(handshake);
		conn->state = TLS_CONN_CLOSED;
		tcp_abort(ns, c);
		return;
	}
	conn->session = index;
	conn->state = TLS_CONN_ESTABLISHED;
	conn->flags |= TLS_CONN_HTTP;
	COUNTER_INC(&ns->counters, tls_sessions_active);
	COUNTER_INC(&ns->counters, tls_handshakes_completed);
	if (handoff.resumed)
		COUNTER_INC(&ns->counters, tls_handshakes_resumed);
	if (handoff.version == TLS_VERSION_1_3)
		COUNTER_INC(&ns->counters, tls_handshakes_tls13);
	else
		COUNTER_INC(&ns->counters, tls_handshakes_tls12);
	rc = http_session_accepted(ns, c); /* HTTP's own timeouts replace the handshake timeout */
	if (rc < 0) {
		tcp_abort(ns, c);
	} else if (handoff.leftover_length) {
		/* The client's first request came with its Finished. */
		uint32_t taken = tls_conn_receive(app, ns, c, conn, handoff.leftover, (uint32_t)handoff.leftover_length);

		if (!tls_conn_gone(c) && taken < handoff.leftover_length) {
			COUNTER_INC(&ns->counters, tls_receive_buffers_exhausted);
			tcp_abort(ns, c); /* those bytes were acknowledged: they cannot be left to TCP */
		}
	}
	tls_aead_wipe(&handoff, sizeof(handoff));
	tls_handshake_free(handshake);
}

/* Runs OpenSSL on the client's bytes; its output extends the TCP stream [0, H). */
static void tls_conn_feed(struct tls_app *app, struct net_stack *ns, struct tcp_conn *c, struct tls_conn *conn,
			  const uint8_t *data, uint32_t length)
{
	struct tls_app_handshake *slot = tls_slot_of(app, conn);
	struct tls_handshake_output output;
	int rc = tls_handshake_feed(slot->handshake, data, length, &output);

	if (rc < 0) {
		tls_conn_handshake_failed(app, ns, c, conn);
		return;
	}
	if (output.length) {
		if (output.length > TLS_APP_HANDSHAKE_OUTPUT_MAX - slot->output_length) {
			COUNTER_INC(&ns->counters, tls_handshake_output_overflow);
			tcp_abort(ns, c); /* released: the handshake counts as failed */
			return;
		}
		memcpy(slot->output + slot->output_length, output.bytes, output.length);
		slot->output_length += (uint32_t)output.length;
		conn->handshake_bytes = slot->output_length;
		tcp_send_extend(ns, c, conn->handshake_bytes);
	}
	switch (output.state) {
	case TLS_HANDSHAKE_CONTINUE:
		return;
	case TLS_HANDSHAKE_DONE:
		tls_conn_establish(app, ns, c, conn);
		return;
	case TLS_HANDSHAKE_FAILED:
		if (output.alert)
			COUNTER_INC(&ns->counters, tls_alerts_sent);
		tls_conn_handshake_failed(app, ns, c, conn);
		return;
	}
}

/* A slot may be taken for a new handshake now. */
static bool tls_app_may_start(const struct tls_app *app)
{
	return app->budget && app->handshakes_active < app->settings.max_handshakes && app->slot_pool.free_head;
}

static void tls_conn_start(struct tls_app *app, struct net_stack *ns, struct tcp_conn *c, struct tls_conn *conn,
			   const uint8_t *data, uint32_t length)
{
	uint32_t index = tls_app_pool_get(&app->slot_pool);
	struct tls_app_handshake *slot = &app->slots[index - 1];

	app->budget--;
	COUNTER_INC(&ns->counters, tls_handshakes_started);
	slot->output_length = 0;
	if (tls_handshake_create(app->settings.server, &slot->handshake) < 0) {
		slot->handshake = NULL;
		tls_app_pool_put(&app->slot_pool, index);
		COUNTER_INC(&ns->counters, tls_handshakes_failed);
		conn->state = TLS_CONN_CLOSED;
		tcp_abort(ns, c);
		return;
	}
	conn->handshake = index;
	conn->state = TLS_CONN_HANDSHAKING;
	app->handshakes_active++;
	COUNTER_INC(&ns->counters, tls_handshakes_active);
	tls_conn_feed(app, ns, c, conn, data, length);
}

/* Whether the first record of a ClientHello is all there (or is no handshake record at all:
 * OpenSSL will refuse it at once). */
static bool tls_first_record_complete(const uint8_t *bytes, uint32_t length)
{
	if (length < TLS_RECORD_HEADER_LENGTH)
		return false;
	if (bytes[0] != TLS_CONTENT_HANDSHAKE)
		return true;
	return length >= TLS_RECORD_HEADER_LENGTH + ((uint32_t)bytes[3] << 8 | bytes[4]);
}

/* HELLO and QUEUED: gather the ClientHello, start it or queue it. */
static uint32_t tls_conn_hello(struct tls_app *app, struct net_stack *ns, struct tcp_conn *c, struct tls_conn *conn,
			       const uint8_t *data, uint32_t length)
{
	uint32_t take, buffer;
	uint8_t *bytes;

	if (conn->state == TLS_CONN_HELLO && !conn->rx_buffer && !app->queue_head && tls_app_may_start(app) &&
	    tls_first_record_complete(data, length)) {
		tls_conn_start(app, ns, c, conn, data, length); /* the common case: no copy */
		return length;
	}
	if (!conn->rx_buffer && !tls_rx_get(app, ns, conn))
		return 0; /* not acknowledged: the client sends it again */
	take = SLUICE_MIN(length, (uint32_t)(TLS_APP_RECEIVE_BUFFER - conn->rx_length));
	bytes = tls_rx_bytes(app, conn->rx_buffer);
	memcpy(bytes + conn->rx_length, data, take);
	conn->rx_length = (uint16_t)(conn->rx_length + take);
	if (conn->state != TLS_CONN_HELLO ||
	    (!tls_first_record_complete(bytes, conn->rx_length) && conn->rx_length < TLS_APP_RECEIVE_BUFFER))
		return take;
	if (!app->queue_head && tls_app_may_start(app)) {
		uint32_t held = conn->rx_length;

		buffer = conn->rx_buffer;
		conn->rx_buffer = 0;
		conn->rx_length = 0;
		tls_conn_start(app, ns, c, conn, tls_rx_bytes(app, buffer), held);
		tls_app_pool_put(&app->rx_pool, buffer);
		return take;
	}
	tls_queue_push(app, ns, c, conn);
	return take;
}

unsigned tls_app_poll(struct tls_app *app, struct net_stack *ns)
{
	unsigned started = 0;

	while (app->queue_head && tls_app_may_start(app)) {
		uint32_t buffer = app->queue_head;
		struct tls_app_rx *rx = &app->rx[buffer - 1];
		struct tcp_conn *c = tcp_conn_by_index(ns->tcp, rx->conn);
		struct tls_conn *conn = tls_conn_of(app, c);
		uint32_t held = conn->rx_length;

		tls_queue_unlink(app, ns, buffer);
		tls_queue_wait_counted(ns, ns->now_us - rx->queued_us);
		conn->rx_buffer = 0;
		conn->rx_length = 0;
		tls_conn_start(app, ns, c, conn, tls_rx_bytes(app, buffer), held);
		tls_app_pool_put(&app->rx_pool, buffer);
		started++;
	}
	app->budget = app->settings.handshakes_per_iteration;
	if (app->settings.ticket_keys)
		tls_ticket_keyring_quiescent(app->settings.ticket_keys, app->settings.ticket_reader);
	return started;
}

/* --- receiving records ---------------------------------------------------------------------- */

/* HTTP takes plaintext held back in the receive buffer. */
static void tls_conn_resume(struct tls_app *app, struct net_stack *ns, struct tcp_conn *c, struct tls_conn *conn)
{
	uint8_t *bytes = tls_rx_bytes(app, conn->rx_buffer);
	uint32_t taken;

	conn->flags &= (uint8_t)~TLS_CONN_RX_RESUME;
	taken = http_session_received(ns, c, bytes + conn->rx_start, (uint32_t)(conn->rx_length - conn->rx_start));
	if (tls_conn_gone(c))
		return;
	conn->rx_start = (uint16_t)(conn->rx_start + taken);
	if (conn->rx_start < conn->rx_length)
		return;
	tls_rx_put(app, conn);
	if (conn->flags & TLS_CONN_PEER_FIN_OWED) {
		conn->flags &= (uint8_t)~TLS_CONN_PEER_FIN_OWED;
		http_session_peer_closed(ns, c);
		if (tls_conn_gone(c))
			return;
	}
	tcp_receive_space_changed(ns, c);
}

/*
 * Opens every whole record of [held bytes][data) and gives its plaintext to HTTP; keeps an
 * incomplete record in the receive buffer. Returns the bytes of data taken.
 */
static uint32_t tls_conn_receive(struct tls_app *app, struct net_stack *ns, struct tcp_conn *c,
				 struct tls_conn *conn, const uint8_t *data, uint32_t length)
{
	struct tls_session *session = tls_session_of(app, conn);
	uint32_t taken = 0;

	if (conn->flags & TLS_CONN_RX_PLAINTEXT)
		return 0; /* HTTP has not taken the last record yet */
	for (;;) {
		struct tls_session_receive_result result;
		bool closed_before = tls_stream_closed(&session->stream);
		struct iovec in[2];
		unsigned count = 0;
		uint32_t from_held;
		int rc;

		if (conn->rx_length)
			in[count++] = (struct iovec){tls_rx_bytes(app, conn->rx_buffer), conn->rx_length};
		if (taken < length)
			in[count++] = (struct iovec){(void *)(uintptr_t)(data + taken), length - taken};
		if (!count)
			return taken;
		rc = tls_session_receive(session, app->aead, in, count, app->plaintext, sizeof(app->plaintext), &result);
		if (rc == -EPIPE)
			return length; /* the TLS stream has ended: read and discard */
		if (rc < 0) {
			tcp_abort(ns, c);
			return length;
		}
		if (result.event == TLS_SESSION_NEED_MORE) {
			uint32_t rest = length - taken, n;

			if (!rest)
				return taken;
			if (!conn->rx_buffer && !tls_rx_get(app, ns, conn))
				return taken;
			n = SLUICE_MIN(rest, (uint32_t)(TLS_APP_RECEIVE_BUFFER - conn->rx_length));
			memcpy(tls_rx_bytes(app, conn->rx_buffer) + conn->rx_length, data + taken, n);
			conn->rx_length = (uint16_t)(conn->rx_length + n);
			return taken + n;
		}
		/* The record came from the held bytes first, then from data. */
		from_held = (uint32_t)SLUICE_MIN(result.consumed, (size_t)conn->rx_length);
		if (from_held < conn->rx_length) {
			uint8_t *held = tls_rx_bytes(app, conn->rx_buffer);

			memmove(held, held + from_held, conn->rx_length - from_held);
		}
		conn->rx_length = (uint16_t)(conn->rx_length - from_held);
		taken += (uint32_t)(result.consumed - from_held);
		if (!conn->rx_length)
			tls_rx_put(app, conn);

		switch (result.event) {
		case TLS_SESSION_DATA: {
			uint32_t got;

			COUNTER_INC(&ns->counters, tls_records_opened);
			COUNTER_ADD(&ns->counters, tls_plaintext_received_bytes, result.plaintext_length);
			if (!result.plaintext_length)
				break;
			got = http_session_received(ns, c, app->plaintext, (uint32_t)result.plaintext_length);
			if (tls_conn_gone(c))
				return length;
			if (got < result.plaintext_length) {
				/* HTTP is full (pipelined requests): hold the rest, read nothing more. */
				uint32_t rest = (uint32_t)result.plaintext_length - got;

				if (conn->rx_length || (!conn->rx_buffer && !tls_rx_get(app, ns, conn))) {
					tcp_abort(ns, c);
					return length;
				}
				memcpy(tls_rx_bytes(app, conn->rx_buffer), app->plaintext + got, rest);
				conn->rx_start = 0;
				conn->rx_length = (uint16_t)rest;
				conn->flags |= TLS_CONN_RX_PLAINTEXT;
				return taken;
			}
			break;
		}
		case TLS_SESSION_KEY_UPDATE:
			COUNTER_INC(&ns->counters, tls_records_opened);
			COUNTER_INC(&ns->counters, tls_key_updates_received);
			tls_conn_push(app, ns, c, conn); /* our KeyUpdate, if one was requested */
			break;
		case TLS_SESSION_RENEGOTIATION_REFUSED:
			COUNTER_INC(&ns->counters, tls_records_opened);
			COUNTER_INC(&ns->counters, tls_renegotiations_refused);
			COUNTER_INC(&ns->counters, tls_alerts_sent);
			tls_conn_push(app, ns, c, conn);
			break;
		case TLS_SESSION_PEER_CLOSED:
			COUNTER_INC(&ns->counters, tls_records_opened);
			COUNTER_INC(&ns->counters, tls_alerts_received);
			COUNTER_INC(&ns->counters, tls_close_notify_received);
			if (!closed_before) { /* the session answered with our close_notify */
				COUNTER_INC(&ns->counters, tls_alerts_sent);
				COUNTER_INC(&ns->counters, tls_close_notify_sent);
			}
			conn->flags &= (uint8_t)~TLS_CONN_CLOSE_OWED;
			tls_conn_push(app, ns, c, conn);
			tcp_send_close(ns, c);
			return length;
		case TLS_SESSION_PEER_ALERT:
			COUNTER_INC(&ns->counters, tls_records_opened);
			COUNTER_INC(&ns->counters, tls_alerts_received);
			tcp_abort(ns, c);
			return length;
		case TLS_SESSION_ERROR:
		default:
			if (result.alert == TLS_ALERT_BAD_RECORD_MAC)
				COUNTER_INC(&ns->counters, tls_bad_record_mac);
			if (!closed_before)
				COUNTER_INC(&ns->counters, tls_alerts_sent);
			tls_conn_push(app, ns, c, conn); /* the fatal alert, then FIN */
			tcp_send_close(ns, c);
			return length;
		}
	}
}

/* --- struct tcp_app_ops ------------------------------------------------------------------------ */

static int tls_app_accepted(struct net_stack *ns, struct tcp_conn *c)
{
	struct tls_app *app = tls_app_of(ns, c);
	struct tls_conn *conn = tls_conn_of(app, c);

	memset(conn, 0, sizeof(*conn));
	conn->state = TLS_CONN_HELLO;
	tcp_set_app_deadline(ns, c, ns->now_us + app->settings.handshake_timeout_us);
	return 0;
}

static uint32_t tls_app_received(struct net_stack *ns, struct tcp_conn *c, const uint8_t *data, uint32_t length)
{
	struct tls_app *app = tls_app_of(ns, c);
	struct tls_conn *conn = tls_conn_of(app, c);

	switch (conn->state) {
	case TLS_CONN_HELLO:
	case TLS_CONN_QUEUED:
		return tls_conn_hello(app, ns, c, conn, data, length);
	case TLS_CONN_HANDSHAKING:
		tls_conn_feed(app, ns, c, conn, data, length); /* OpenSSL keeps what it cannot use yet */
		return length;
	case TLS_CONN_ESTABLISHED:
		if (conn->flags & TLS_CONN_RX_RESUME) {
			tls_conn_resume(app, ns, c, conn);
			if (tls_conn_gone(c))
				return length;
		}
		return tls_conn_receive(app, ns, c, conn, data, length);
	default:
		return length; /* closed: read and discard */
	}
}

static uint32_t tls_app_receive_space(struct net_stack *ns, const struct tcp_conn *c)
{
	const struct tls_conn *conn = tls_conn_of_const(tls_app_of(ns, c), c);

	if (!(c->flags & TCP_CONN_ACCEPTED))
		return TLS_APP_RECEIVE_BUFFER;
	switch (conn->state) {
	case TLS_CONN_HELLO:
	case TLS_CONN_QUEUED:
		return TLS_APP_RECEIVE_BUFFER - conn->rx_length;
	case TLS_CONN_ESTABLISHED:
		/* A whole record must fit (tls_record.h); nothing while plaintext waits for HTTP. */
		return (conn->flags & TLS_CONN_RX_PLAINTEXT) ? 0 : TLS_APP_RECEIVE_BUFFER - conn->rx_length;
	default:
		return TLS_APP_RECEIVE_BUFFER;
	}
}

static void tls_app_acked(struct net_stack *ns, struct tcp_conn *c, uint64_t offset)
{
	struct tls_app *app = tls_app_of(ns, c);
	struct tls_conn *conn = tls_conn_of(app, c);
	uint64_t released;

	if (conn->handshake && offset >= conn->handshake_bytes && !tls_slot_of(app, conn)->handshake)
		tls_slot_release(app, ns, conn); /* the handshake's bytes are delivered */
	if (conn->state != TLS_CONN_ESTABLISHED || offset <= conn->handshake_bytes)
		return;
	released = tls_session_acked(tls_session_of(app, conn), offset);
	http_session_acked(ns, c, released);
	if (tls_conn_gone(c))
		return;
	tls_conn_append_pending(app, ns, c, conn);
	if (conn->flags & TLS_CONN_RX_RESUME) {
		tls_conn_resume(app, ns, c, conn);
		if (tls_conn_gone(c))
			return;
	}
	tls_conn_push(app, ns, c, conn); /* appended data, or an owed KeyUpdate */
}

static void tls_app_peer_closed(struct net_stack *ns, struct tcp_conn *c)
{
	struct tls_app *app = tls_app_of(ns, c);
	struct tls_conn *conn = tls_conn_of(app, c);

	switch (conn->state) {
	case TLS_CONN_ESTABLISHED:
		if (conn->flags & TLS_CONN_RX_PLAINTEXT) {
			conn->flags |= TLS_CONN_PEER_FIN_OWED; /* after HTTP took the held requests */
			return;
		}
		http_session_peer_closed(ns, c);
		return;
	case TLS_CONN_HELLO:
	case TLS_CONN_QUEUED:
	case TLS_CONN_HANDSHAKING:
		/* The client gave up before the handshake ended. */
		if (conn->state == TLS_CONN_QUEUED)
			tls_queue_unlink(app, ns, conn->rx_buffer);
		tls_rx_put(app, conn);
		tls_conn_handshake_failed(app, ns, c, conn);
		return;
	default:
		tcp_send_close(ns, c);
		return;
	}
}

static void tls_app_timeout(struct net_stack *ns, struct tcp_conn *c)
{
	struct tls_app *app = tls_app_of(ns, c);
	struct tls_conn *conn = tls_conn_of(app, c);

	if (conn->state == TLS_CONN_ESTABLISHED) {
		http_session_timeout(ns, c);
		return;
	}
	if (conn->state != TLS_CONN_CLOSED)
		COUNTER_INC(&ns->counters, tls_handshakes_timed_out);
	tcp_abort(ns, c); /* released: an unfinished handshake counts as failed */
}

static void tls_app_released(struct net_stack *ns, struct tcp_conn *c, enum tcp_close_reason reason)
{
	struct tls_app *app = tls_app_of(ns, c);
	struct tls_conn *conn = tls_conn_of(app, c);

	if (conn->flags & TLS_CONN_HTTP)
		http_session_released(ns, c, reason);
	if (conn->state == TLS_CONN_QUEUED)
		tls_queue_unlink(app, ns, conn->rx_buffer);
	tls_rx_put(app, conn);
	if (conn->handshake)
		tls_slot_release(app, ns, conn);
	if (conn->session) {
		struct tls_app_spill *spill = &app->spill[(conn->session - 1) % TLS_APP_SPILL_ENTRIES];

		if (spill->session == conn->session)
			spill->session = 0;
		tls_session_wipe(tls_session_of(app, conn));
		tls_app_pool_put(&app->session_pool, conn->session);
		conn->session = 0;
		COUNTER_DEC(&ns->counters, tls_sessions_active);
	}
	conn->state = TLS_CONN_CLOSED;
	conn->flags = 0;
}

/* --- producing the send stream ------------------------------------------------------------------ */

struct tls_app_source {
	struct net_stack *ns;
	struct tcp_conn *c;
	const struct store_file *file; /* of the last file piece mapped: the one a SIGBUS hit */
};

/* The HTTP session's plaintext, in place: a response-head buffer or the mapped file. Bytes
 * being paged in give -ENOBUFS (retry later), a broken file -EIO. */
static ssize_t tls_app_map(void *context, uint64_t offset, size_t length, const uint8_t **piece)
{
	struct tls_app_source *source = context;
	struct http_session_piece found;
	int rc = http_session_map(source->ns, source->c, offset, &found);

	if (unlikely(rc < 0))
		return rc;
	if (unlikely(!found.len))
		return -EIO;
	if (found.file)
		source->file = found.file;
	*piece = found.bytes;
	return (ssize_t)SLUICE_MIN((size_t)found.len, length);
}

/* The sealing part of a produce call, run under the SIGBUS guard (store_guard_call). */
struct tls_app_seal {
	struct tls_session *session;
	struct tls_aead_worker *aead;
	uint64_t offset;
	size_t length;
	const struct tls_record_source *source;
	const struct iovec *out;
	unsigned out_count;
};

static int tls_app_seal(void *context)
{
	const struct tls_app_seal *seal = context;

	return tls_session_produce(seal->session, seal->aead, seal->offset, seal->length, seal->source, seal->out,
				   seal->out_count);
}

/* Rare path: the mapping raised SIGBUS while a record was sealed from it. */
static int tls_app_sigbus(struct net_stack *ns, const struct tls_app_source *source)
{
	COUNTER_INC(&ns->counters, store_sigbus_caught);
	if (source->file && store_file_shrunk(source->file)) {
		store_file_mark_broken((struct store_file *)source->file); /* only its atomic flag changes */
		COUNTER_INC(&ns->counters, store_file_broken_resets);
	}
	return -EIO; /* TCP resets this connection only */
}

/* Copies `length` bytes from src into the list at the cursor. */
static void tls_app_iov_copy(struct tls_iov_cursor *out, const uint8_t *src, size_t length)
{
	(void)tls_iov_cursor_write(out, src, length); /* the caller checked the room */
}

/* Counts the records whose tag lies in [from, to): sealed once, or again (retransmission). */
static void tls_app_count_records(struct net_stack *ns, const struct tls_session *session, uint64_t from, uint64_t to,
				  uint64_t produced_before)
{
	while (from < to) {
		struct tls_stream_record record;
		uint64_t end;

		if (tls_stream_locate(&session->stream, from, &record) < 0)
			return;
		end = record.wire_offset + tls_record_wire_length(session->version, record.plaintext_length);
		if (end <= to) {
			if (end <= produced_before)
				COUNTER_INC(&ns->counters, tls_records_resealed);
			else
				COUNTER_INC(&ns->counters, tls_records_sealed);
		}
		from = end;
	}
}

/*
 * Wire bytes [offset, offset + total) into the scatter list `out` (count entries, total bytes
 * in all): the handshake's output below H, spilled bytes, then the record layer, sealing on
 * to the end of the last record into the spill when this is a first transmission.
 */
static int tls_app_produce(struct net_stack *ns, struct tcp_conn *c, uint64_t offset, const struct iovec *out,
			   unsigned count, size_t total)
{
	struct tls_app *app = tls_app_of(ns, c);
	struct tls_conn *conn = tls_conn_of(app, c);
	uint64_t start_cycles = tls_app_cycles(), end = offset + total;
	struct tls_iov_cursor cursor;
	struct tls_session *session;
	struct tls_app_spill *spill;
	struct tls_app_source context = {ns, c, NULL};
	struct tls_record_source source = {.map = tls_app_map, .context = &context};
	struct tls_app_seal seal;
	struct iovec rest[TLS_APP_PRODUCE_IOV_MAX + 1];
	unsigned rest_count = 0;
	uint64_t extend = 0, produced_before, sealed_bytes, spilled = 0;
	uint8_t *piece;
	int rc;

	tls_iov_cursor_init(&cursor, out, count);
	if (offset < conn->handshake_bytes) {
		size_t n = (size_t)SLUICE_MIN((uint64_t)total, conn->handshake_bytes - offset);

		if (!conn->handshake)
			return -EINVAL; /* acknowledged already: TCP never asks for it again */
		tls_app_iov_copy(&cursor, tls_slot_of(app, conn)->output + offset, n);
		offset += n;
	}
	if (offset == end)
		return 0;
	if (conn->state != TLS_CONN_ESTABLISHED)
		return -EINVAL;
	sealed_bytes = end - offset;
	session = tls_session_of(app, conn);
	spill = &app->spill[(conn->session - 1) % TLS_APP_SPILL_ENTRIES];
	if (spill->session == conn->session && offset >= spill->wire_offset &&
	    offset < spill->wire_offset + spill->length) {
		size_t n = (size_t)SLUICE_MIN(end, spill->wire_offset + spill->length) - (size_t)offset;

		tls_app_iov_copy(&cursor, spill->bytes + (offset - spill->wire_offset), n);
		spilled = n;
		offset += n;
		if (offset == end)
			goto done;
	}
	/* The rest of the caller's list, from the cursor. */
	while (rest_count < TLS_APP_PRODUCE_IOV_MAX) {
		size_t n = tls_iov_cursor_peek(&cursor, &piece);

		if (!n)
			break;
		rest[rest_count++] = (struct iovec){piece, n};
		cursor.offset += n;
	}
	if (tls_iov_cursor_peek(&cursor, &piece))
		return -E2BIG;
	produced_before = session->stream.produced_wire;
	if (end > produced_before) {
		/* A first transmission ending inside a record: seal that record to its end now. */
		struct tls_stream_record record;

		if (tls_stream_locate(&session->stream, end - 1, &record) == 0) {
			uint64_t record_end =
				record.wire_offset + tls_record_wire_length(session->version, record.plaintext_length);

			if (record_end > end && record_end - end <= TLS_APP_SPILL_BYTES) {
				extend = record_end - end;
				rest[rest_count++] = (struct iovec){app->spill_spare, (size_t)extend};
			}
		}
	}
	seal = (struct tls_app_seal){session, app->aead, offset, (size_t)(end - offset + extend), &source, rest,
				     rest_count};
	rc = store_guard_call(tls_app_seal, &seal);
	if (unlikely(rc == -EFAULT))
		return tls_app_sigbus(ns, &context);
	if (rc < 0)
		return rc; /* nothing changed: -ENOBUFS is retried with the same bytes */
	tls_app_count_records(ns, session, offset, end + extend, produced_before);
	if (extend) {
		uint8_t *sealed_ahead = app->spill_spare;

		app->spill_spare = spill->bytes;
		spill->bytes = sealed_ahead;
		spill->session = conn->session;
		spill->wire_offset = end;
		spill->length = (uint32_t)extend;
	}
done:
	COUNTER_ADD(&ns->counters, tls_spill_bytes, spilled);
	COUNTER_ADD(&ns->counters, tls_produce_bytes, sealed_bytes);
	COUNTER_ADD(&ns->counters, tls_produce_cycles, tls_app_cycles() - start_cycles);
	return 0;
}

static int tls_app_stream_produce(struct net_stack *ns, struct tcp_conn *c, uint64_t offset, uint32_t length,
				  uint8_t *dst)
{
	struct iovec out = {dst, length};

	return tls_app_produce(ns, c, offset, &out, 1, length);
}

static int tls_app_stream_produce_iov(struct net_stack *ns, struct tcp_conn *c, uint64_t offset, const struct iovec *dst,
				      unsigned count)
{
	size_t total = 0;

	for (unsigned i = 0; i < count; i++)
		total += dst[i].iov_len;
	return tls_app_produce(ns, c, offset, dst, count, total);
}

const struct tcp_app_ops tls_app_ops = {
	.accepted = tls_app_accepted,
	.received = tls_app_received,
	.receive_space = tls_app_receive_space,
	.acked = tls_app_acked,
	.peer_closed = tls_app_peer_closed,
	.timeout = tls_app_timeout,
	.released = tls_app_released,
	.stream_produce = tls_app_stream_produce,
	.stream_produce_iov = tls_app_stream_produce_iov,
};

/* --- struct http_transport_ops ------------------------------------------------------------------ */

static void tls_transport_send_extend(struct net_stack *ns, struct tcp_conn *c, uint64_t end)
{
	struct tls_app *app = tls_app_of(ns, c);
	struct tls_conn *conn = tls_conn_of(app, c);

	if (conn->state != TLS_CONN_ESTABLISHED)
		return;
	if (end > conn->plaintext_wanted)
		conn->plaintext_wanted = end;
	tls_conn_append_pending(app, ns, c, conn);
	tls_conn_push(app, ns, c, conn);
}

static void tls_transport_send_close(struct net_stack *ns, struct tcp_conn *c)
{
	struct tls_app *app = tls_app_of(ns, c);
	struct tls_conn *conn = tls_conn_of(app, c);

	if (conn->state != TLS_CONN_ESTABLISHED) {
		tcp_send_close(ns, c);
		return;
	}
	if (conn->plaintext_wanted > tls_stream_plaintext_end(&tls_session_of(app, conn)->stream)) {
		conn->flags |= TLS_CONN_CLOSE_OWED; /* after the bytes still waiting for a run slot */
		return;
	}
	tls_conn_close_stream(app, ns, c, conn);
}

static void tls_transport_receive_space_changed(struct net_stack *ns, struct tcp_conn *c)
{
	struct tls_app *app = tls_app_of(ns, c);
	struct tls_conn *conn = tls_conn_of(app, c);

	if (conn->flags & TLS_CONN_RX_PLAINTEXT)
		conn->flags |= TLS_CONN_RX_RESUME; /* handed over once HTTP has returned */
	else
		tcp_receive_space_changed(ns, c);
}

const struct http_transport_ops tls_transport = {
	.name = "https",
	.send_extend = tls_transport_send_extend,
	.send_close = tls_transport_send_close,
	.receive_space_changed = tls_transport_receive_space_changed,
};
