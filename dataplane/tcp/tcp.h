/* SPDX-License-Identifier: BSD-3-Clause
 *
 * tcp.h: the data plane's server-side TCP, one instance per worker lcore.
 *
 * Written for one job: accepting connections from video players and sending them large
 * amounts of data that already sits in mapped files. Design points:
 *
 *  - No payload is buffered per connection. The bytes of the send stream are produced on
 *    demand from the application's stream source (tcp_app_ops.stream_produce), the first time
 *    and for every retransmission; the application keeps its small dynamic bytes (response
 *    heads) until tcp_app_ops.acked releases them.
 *  - What is in flight is described by the sendmap (struct tcp_seg, tcp_sendmap.c): one entry
 *    per transmission burst with its send time and delivery state, split by SACK blocks and
 *    losses. Loss detection is RACK-TLP (RFC 8985) with SACK, duplicate ACKs without it;
 *    recovery sends at PRR's pace (RFC 6937); the RTO follows RFC 6298 with backoff and
 *    Karn's rule, and a timeout proven spurious by timestamps is undone (RFC 3522).
 *  - Congestion control is a table of modules (struct tcp_cc_ops: CUBIC, NewReno, BBR v1)
 *    chosen per listener; every connection is paced at its module's rate (or 2x/1.2x
 *    cwnd/SRTT), capped by the application's rate (tcp_set_max_rate).
 *  - Connections live in a per-lcore pool allocated at start, each slot holding the TCP part
 *    followed by the application's part (tcp_stack_create's app_size); links between
 *    connections (hash chains, timer wheel, ready list) are 32-bit indices, 0 meaning none.
 *  - One timer per connection in a hashed timer wheel (tcp_timer.c); the connection keeps its
 *    logical deadlines (retransmission timer in its RTO/TLP/reorder/persist roles, close,
 *    application, delayed ACK, pacing, keepalive) and the wheel holds the earliest.
 *  - Output is separate from input: input marks a connection ready (data to send, an ACK
 *    owed), and tcp_output_run() sends what windows and pacing allow, round robin with a
 *    per-turn burst limit, after the RX burst — the loop order of STYLE.md.
 *  - Options: MSS, window scale, SACK-permitted and SACK blocks, timestamps (PAWS, RFC 7323);
 *    SYN cookies (RFC 4987) when the SYN backlog is full; RST/SYN/ACK validation of RFC 5961.
 *
 * Sequence arithmetic is modulo 2^32 (tcp_seq_lt & co.); stream offsets are 64-bit so files
 * larger than 4 GiB stream on one connection.
 *
 * State → function table:
 *   SYN_RECEIVED   tcp_input_syn_received: our SYN-ACK out, waiting for the ACK (RTO resends)
 *   ESTABLISHED    tcp_input_synchronized: data in, stream out
 *   CLOSE_WAIT     peer sent FIN; the application finishes its response, then closes
 *   LAST_ACK       our FIN out after the peer's; waiting for its ACK
 *   FIN_WAIT_1     we closed first; our FIN out
 *   FIN_WAIT_2     our FIN acked; waiting for the peer's FIN (bounded by fin_timeout)
 *   CLOSING        both FINs crossed; waiting for the ACK of ours
 *   TIME_WAIT      bounded by time_wait_ms, then freed (a higher SYN reopens it at once)
 */
#ifndef SLUICE_TCP_H
#define SLUICE_TCP_H

#include <stdbool.h>
#include <stdint.h>

#include "compiler.h"
#include "net/net_types.h"
#include "net/siphash.h"

struct net_stack;
struct tcp_conn;
struct tcp_stack;
struct tcp_rate_sample;

enum tcp_state {
	TCP_CLOSED = 0,
	TCP_SYN_RECEIVED,
	TCP_ESTABLISHED,
	TCP_CLOSE_WAIT,
	TCP_LAST_ACK,
	TCP_FIN_WAIT_1,
	TCP_FIN_WAIT_2,
	TCP_CLOSING,
	TCP_TIME_WAIT,
	TCP_STATE_COUNT
};

const char *tcp_state_name(enum tcp_state state);

/* Why a connection ended (tcp_app_ops.released). */
enum tcp_close_reason {
	TCP_CLOSE_NORMAL = 0,     /* FIN handshake completed */
	TCP_CLOSE_RESET_RECEIVED,
	TCP_CLOSE_RESET_SENT,     /* aborted by us (application or protocol error) */
	TCP_CLOSE_TIMEOUT,        /* retransmissions exhausted or idle too long */
	TCP_CLOSE_SHUTDOWN,       /* the stack is being destroyed */
};

/* Modulo-2^32 sequence comparisons. */
static inline bool tcp_seq_lt(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }
static inline bool tcp_seq_leq(uint32_t a, uint32_t b) { return (int32_t)(a - b) <= 0; }
static inline bool tcp_seq_gt(uint32_t a, uint32_t b) { return (int32_t)(a - b) > 0; }
static inline bool tcp_seq_geq(uint32_t a, uint32_t b) { return (int32_t)(a - b) >= 0; }

/* What the application (HTTP, TLS+HTTP) provides per listener. Called on the lcore. */
struct tcp_app_ops {
	/* The handshake completed. Return 0, or -errno to reset the connection. */
	int (*accepted)(struct net_stack *ns, struct tcp_conn *c);
	/* In-order bytes from the peer; returns how many were taken (the rest is not
	 * acknowledged and will be retransmitted by the peer). */
	uint32_t (*received)(struct net_stack *ns, struct tcp_conn *c, const uint8_t *data, uint32_t len);
	/* Bytes the application can take now (the receive window). */
	uint32_t (*receive_space)(struct net_stack *ns, const struct tcp_conn *c);
	/* Every stream byte before stream_offset has been acknowledged. */
	void (*acked)(struct net_stack *ns, struct tcp_conn *c, uint64_t stream_offset);
	/* The peer sent FIN (no more requests will come). */
	void (*peer_closed)(struct net_stack *ns, struct tcp_conn *c);
	/* The application's deadline (tcp_set_app_deadline) passed. */
	void (*timeout)(struct net_stack *ns, struct tcp_conn *c);
	/* The connection is being freed: release everything the application holds. */
	void (*released)(struct net_stack *ns, struct tcp_conn *c, enum tcp_close_reason reason);
	/* Writes len bytes of the send stream from offset into dst. Returns 0 or -errno (the
	 * source failed: the connection is reset). Called for first transmissions and
	 * retransmissions alike, so it must produce the same bytes every time. */
	int (*stream_produce)(struct net_stack *ns, struct tcp_conn *c, uint64_t offset, uint32_t len, uint8_t *dst);
};

/* Congestion control module (tcp_cc_*.c), chosen per listener by name. The core does loss
 * detection (RACK-TLP), recovery sending (PRR) and pacing; a module decides cwnd and ssthresh
 * (and, if sets_pacing, the pacing rate). */
enum tcp_cc_event {
	TCP_CC_EVENT_LOSS,            /* loss detected: entering recovery (set ssthresh) */
	TCP_CC_EVENT_RTO,             /* retransmission timeout */
	TCP_CC_EVENT_RECOVERY_END,    /* recovery point acknowledged */
	TCP_CC_EVENT_UNDO,            /* the last reduction was spurious: cwnd/ssthresh restored */
	TCP_CC_EVENT_IDLE_RESTART,    /* sending resumes after an idle period longer than the RTO */
};

struct tcp_cc_ops {
	const char *name;
	void (*init)(struct tcp_stack *ts, struct tcp_conn *c);
	/* An ACK delivered data (acknowledged or SACKed), in or out of recovery. */
	void (*on_ack)(struct tcp_stack *ts, struct tcp_conn *c, const struct tcp_rate_sample *rs, uint64_t now_us);
	void (*on_event)(struct tcp_stack *ts, struct tcp_conn *c, enum tcp_cc_event event, uint64_t now_us);
	bool sets_pacing;             /* the module writes c->pacing_rate (BBR) */
};

const struct tcp_cc_ops *tcp_cc_find(const char *name);
/* Helpers for modules (tcp_cc.c). */
bool tcp_cc_cwnd_limited(const struct tcp_conn *c, const struct tcp_rate_sample *rs);
uint32_t tcp_cc_flight_size(const struct tcp_conn *c);
void tcp_cc_slow_start(struct tcp_conn *c, uint32_t acked);

/* Connection flags. */
#define TCP_CONN_READY 0x0001         /* on the output ready list */
#define TCP_CONN_ACK_NOW 0x0002       /* an ACK is owed now */
#define TCP_CONN_FIN_QUEUED 0x0004    /* application closed: FIN after the stream end */
#define TCP_CONN_FIN_SENT 0x0008
#define TCP_CONN_IN_RECOVERY 0x0010   /* fast recovery (PRR) until snd_una reaches recover */
#define TCP_CONN_WSCALE 0x0020        /* window scaling negotiated */
#define TCP_CONN_SACK 0x0040          /* SACK negotiated (the peer sent SACK-permitted) */
#define TCP_CONN_TIMESTAMPS 0x0080    /* timestamps negotiated */
#define TCP_CONN_TIMER_LINKED 0x0100  /* linked in the timer wheel */
#define TCP_CONN_TLP_OUT 0x0200       /* a tail loss probe is outstanding */
#define TCP_CONN_PEER_FIN 0x0400      /* FIN received */
#define TCP_CONN_ACCEPTED 0x0800      /* the application accepted it: released() is owed */
#define TCP_CONN_IN_LOSS 0x1000       /* after an RTO, until snd_una reaches recover */
#define TCP_CONN_REORDERING 0x2000    /* reordering observed: RACK keeps a reordering window */
#define TCP_CONN_SYNCOOKIE 0x4000     /* established from a SYN cookie */
#define TCP_CONN_PACE_WAIT 0x8000     /* has data, waits for pace_at_us */

/* What the retransmission timer (rto_at_us) is armed for. */
enum tcp_rtx_timer {
	TCP_TIMER_RTO = 0,            /* retransmission timeout (RFC 6298) */
	TCP_TIMER_TLP,                /* tail loss probe timeout (RFC 8985 §7) */
	TCP_TIMER_REORDER,            /* RACK reordering window expiry (RFC 8985 §6.2) */
	TCP_TIMER_PERSIST,            /* zero-window probe */
	TCP_TIMER_KEEPALIVE,          /* keepalive probe */
};

struct tcp_flow {
	struct net_addr remote;
	uint16_t remote_port;            /* network order */
	uint16_t local_port;             /* network order */
};
_Static_assert(sizeof(struct tcp_flow) == 24, "flow key");

/*
 * The sendmap: what is in flight, as transmissions in sequence order (struct tcp_seg, from a
 * per-lcore pool, linked from tcp_conn.map_head). A transmission covers the bytes sent by one
 * output burst (merged while they go out together), so a window of a thousand segments is a
 * few dozen entries; SACK blocks and losses split entries at their edges. Each entry keeps
 * when it was (last) sent and the delivery state at that moment, which is all RACK-TLP loss
 * detection and delivery-rate sampling need — and never the bytes themselves.
 */
#define TCP_SEG_SACKED 0x01          /* delivered out of order (SACK) */
#define TCP_SEG_LOST 0x02            /* marked lost, not yet sent again */
#define TCP_SEG_RETRANS 0x04         /* sent more than once (Karn: no RTT sample) */
#define TCP_SEG_APP_LIMITED 0x08     /* sent while application-limited (rate samples) */
#define TCP_SEG_FIN 0x10             /* the FIN's sequence number (one, no payload) */

struct tcp_seg {
	uint32_t start, end;             /* sequence range */
	uint32_t next;                   /* pool index + 1, sequence order */
	uint8_t flags;                   /* TCP_SEG_* */
	uint8_t xmits;                   /* transmissions so far */
	uint16_t pad;
	uint64_t xmit_us;                /* last transmission */
	uint64_t delivered;              /* connection's delivered bytes at that transmission */
	uint64_t delivered_us;           /* ... and when they were counted */
	uint64_t first_tx_us;            /* start of the send window of that transmission */
};
_Static_assert(sizeof(struct tcp_seg) == 48, "sendmap entry stays at 48 bytes");

/* A delivery-rate sample (draft-cheng-iccrg-delivery-rate-estimation), for CC modules. */
struct tcp_rate_sample {
	uint64_t delivered;              /* bytes delivered in the interval */
	uint64_t interval_us;            /* 0: no valid sample */
	uint32_t rtt_us;                 /* RTT of the most recent delivered transmission, 0 if none */
	uint32_t acked_sacked;           /* bytes newly delivered by this ACK */
	uint32_t lost;                   /* bytes newly marked lost */
	uint32_t prior_in_flight;
	bool app_limited;
};

struct tcp_conn {
	/* Identity and links: what lookup and scheduling touch. */
	struct tcp_flow flow;
	uint32_t hash_next;              /* pool index + 1 of the next in the bucket */
	uint32_t timer_next;             /* timer wheel links, pool index + 1 */
	uint32_t timer_prev;
	uint32_t ready_next;             /* output ready list links */
	uint32_t ready_prev;
	uint16_t flags;                  /* TCP_CONN_* */
	uint8_t state;                   /* enum tcp_state */
	uint8_t listener;                /* index into tcp_stack.listeners */
	uint8_t peer_mac[ETHER_ADDR_LEN];
	uint8_t rto_shift;               /* consecutive backoffs of the retransmission timer */
	uint8_t rtx_timer;               /* enum tcp_rtx_timer */
	uint64_t timer_at_us;            /* when the wheel fires for this connection */

	/* Send side (RFC 9293 names). Every byte in [snd_una, snd_max) is in the sendmap. */
	uint32_t iss;
	uint32_t snd_una;
	uint32_t snd_max;                /* next new sequence number */
	uint32_t snd_wnd;                /* peer's window, bytes (scaled) */
	uint32_t snd_wl1, snd_wl2;
	uint32_t recover;                /* recovery point: snd_max when loss recovery began */
	uint64_t una_offset;             /* stream offset of snd_una (after the SYN) */
	uint64_t stream_end;             /* stream bytes the application made available */
	uint32_t map_head, map_tail;     /* sendmap, pool index + 1 */
	uint32_t sacked_bytes;           /* in the sendmap and SACKed */
	uint32_t lost_bytes;             /* in the sendmap, marked lost, not yet resent */
	uint16_t mss;                    /* payload bytes per segment we send (options excluded) */
	uint8_t snd_wscale;              /* peer's shift */
	uint8_t rcv_wscale;              /* ours */
	uint8_t dupacks;                 /* without SACK: duplicate ACKs in a row */
	uint8_t keepalive_probes;        /* unanswered keepalive probes */
	uint8_t reo_wnd_mult;            /* RACK reordering window, in min_rtt/4 steps (DSACK) */
	uint8_t pad0;

	/* Congestion control and recovery. */
	uint32_t cwnd;                   /* bytes */
	uint32_t ssthresh;               /* bytes */
	uint32_t prior_cwnd;             /* before the last reduction (undo on a spurious RTO) */
	uint32_t prior_ssthresh;
	uint32_t prr_delivered;          /* PRR (RFC 6937) */
	uint32_t prr_out;
	uint32_t prr_recover_fs;
	uint32_t prr_quota;              /* bytes PRR lets us send after the last ACK */
	uint64_t cc_state[8];            /* the module's private state */

	/* Delivery rate and RACK (RFC 8985). */
	uint64_t delivered;              /* bytes delivered (acked or SACKed) so far */
	uint64_t delivered_us;           /* when delivered last grew */
	uint64_t first_tx_us;            /* start of the current send window */
	uint64_t app_limited_until;      /* delivered mark until which samples are app-limited */
	uint64_t rack_xmit_us;           /* transmit time of the most recently delivered entry */
	uint32_t rack_end_seq;
	uint32_t rack_rtt_us;
	uint32_t min_rtt_us;             /* windowed minimum RTT */
	uint64_t min_rtt_stamp_us;
	uint32_t tlp_high_seq;           /* snd_max when the last probe went out */
	uint32_t undo_tsval;             /* TSval of the first retransmission after an RTO (Eifel) */

	/* Receive side. */
	uint32_t irs;
	uint32_t rcv_nxt;
	uint32_t rcv_adv;                /* right edge of the window we advertised */
	uint32_t ts_recent;              /* timestamps (RFC 7323): last TSval to echo */
	uint32_t ts_recent_ms;           /* when ts_recent was taken (our ms clock) */
	uint32_t ts_offset;              /* per-connection offset of our TSval */
	uint32_t last_ack_sent;

	/* RTT estimation (RFC 6298), microseconds. */
	uint32_t srtt_us;                /* 0 until the first sample */
	uint32_t rttvar_us;
	uint32_t rto_us;

	/* Pacing: bytes per second, 0 = not paced. */
	uint64_t pacing_rate;            /* set by congestion control */
	uint64_t max_rate;               /* cap set by the application (0 = none) */
	uint64_t pace_at_us;             /* next send allowed at (PACE_WAIT: the timer waits for it) */

	/* Deadlines, microseconds on the lcore clock, 0 = not set. */
	uint64_t rto_at_us;              /* retransmission timer (kind in rtx_timer) */
	uint64_t close_at_us;            /* TIME_WAIT end, FIN_WAIT_2/LAST_ACK bound */
	uint64_t app_at_us;              /* application's timeout */
	uint64_t delack_at_us;           /* delayed ACK */
	uint64_t last_rx_us;             /* last segment from the peer (keepalive) */
};
_Static_assert(sizeof(struct tcp_conn) <= 512, "TCP part of a connection stays within eight cache lines");

struct tcp_listener {
	uint16_t port;                   /* network order */
	const struct tcp_app_ops *app;
	const struct tcp_cc_ops *cc;
	void *app_ctx;
};

#define TCP_LISTENERS_MAX 8

/* Settings, fixed at creation (from the config file). */
struct tcp_settings {
	uint32_t max_connections;
	uint32_t app_size;               /* bytes of application state after each tcp_conn */
	uint32_t rto_min_us, rto_max_us, rto_initial_us;
	uint32_t syn_retries;
	uint32_t data_retries;
	uint32_t initial_cwnd_segments;
	uint32_t fin_timeout_us;
	uint32_t time_wait_us;
	uint32_t timer_tick_us;          /* timer wheel granularity */
	uint32_t output_burst_bytes;     /* per connection per turn of the ready list */
	uint32_t sendmap_entries;        /* per-lcore pool of struct tcp_seg */
	uint32_t syn_backlog;            /* SYN_RECEIVED connections before SYN cookies */
	uint32_t delack_us;              /* delayed ACK for received data */
	uint32_t keepalive_idle_us;      /* first keepalive probe after this much silence */
	uint32_t keepalive_interval_us;
	uint32_t keepalive_probes;       /* unanswered probes before the reset */
	bool pacing;                     /* pace every connection (rate from CC) */
	bool tlp;                        /* tail loss probes (RFC 8985 §7) */
	struct siphash_key secret;       /* ISS, SYN cookies and bucket hashing */
};

struct tcp_timer_wheel {
	uint32_t *slots;                 /* list heads, pool index + 1 */
	uint32_t mask;
	uint32_t tick_us;
	uint64_t current_tick;           /* every slot before this one has been run */
};

struct tcp_stack {
	struct tcp_settings settings;
	uint8_t *pool;                   /* max_connections slots of conn_stride bytes */
	uint32_t conn_stride;
	uint32_t free_head;              /* free list through hash_next, index + 1 */
	uint32_t active;
	uint32_t *buckets;               /* hash heads, index + 1 */
	uint32_t bucket_mask;
	struct tcp_timer_wheel wheel;
	struct tcp_seg *segs;            /* sendmap pool */
	uint32_t seg_free;               /* free list through next, index + 1 */
	uint32_t seg_used;
	uint32_t syn_received;           /* connections in SYN_RECEIVED */
	uint32_t ready_head, ready_tail; /* output ready list */
	struct tcp_listener listeners[TCP_LISTENERS_MAX];
	uint32_t listener_count;
	bool refuse_new;                 /* admission closed or draining: SYNs get a reset */
	uint32_t state_count[TCP_STATE_COUNT];
};

/* --- control path -------------------------------------------------------------------- */

/* Allocates the pool, hash and wheel. Returns NULL with errno set. */
struct tcp_stack *tcp_stack_create(const struct tcp_settings *settings);
/* Frees every connection (app released with TCP_CLOSE_SHUTDOWN) and the stack. */
void tcp_stack_destroy(struct net_stack *ns, struct tcp_stack *ts);
/* Resets every connection (stopping the data plane). */
void tcp_abort_all(struct net_stack *ns);
/* Adds a listener on port (host order). Returns 0 or -errno. */
int tcp_listen(struct tcp_stack *ts, uint16_t port, const struct tcp_app_ops *app, const struct tcp_cc_ops *cc,
	       void *app_ctx);
/* Bytes of memory per connection slot, TCP and application parts together. */
static inline uint32_t tcp_conn_slot_bytes(const struct tcp_stack *ts) { return ts->conn_stride; }

/* --- per packet ---------------------------------------------------------------------- */

/* A parsed segment handed from IP input. */
struct tcp_segment {
	struct net_addr src, dst;
	const uint8_t *src_mac;
	const struct tcp_header *th;
	const uint8_t *payload;
	uint32_t payload_len;
	uint32_t seq, ack;               /* host order */
	uint32_t window;                 /* raw field, host order */
	uint8_t flags;
	uint8_t sack_count;              /* SACK blocks parsed (at most 4) */
	uint32_t sack[4][2];             /* [start, end) of each block, host order */
	/* Options (parsed). */
	uint16_t opt_mss;                /* 0 = absent */
	int8_t opt_wscale;               /* -1 = absent */
	bool opt_sack_permitted;
	bool opt_timestamp;
	uint32_t opt_tsval, opt_tsecr;
};

/* Takes a TCP segment whose checksum and length were verified by IP input. */
void tcp_input(struct net_stack *ns, struct tcp_segment *seg);

/* An ICMP "fragmentation needed" (IPv4) or ICMPv6 "packet too big" quoting a segment we sent
 * (remote address and ports from the quoted header, seq its sequence number) says the path
 * carries at most mtu bytes. Validated against the connection (RFC 5927: the quoted sequence
 * number must be in flight) before the MSS is lowered and the segments in flight are sent
 * again at the new size. Returns 0, or -ENOENT (no such connection), -EINVAL (not in flight:
 * a forged or stale message), -EALREADY (not smaller than the current MSS). */
int tcp_icmp_too_big(struct net_stack *ns, const struct net_addr *remote, uint16_t remote_port, uint16_t local_port,
		     uint32_t seq, uint32_t mtu);

/* Parses options of th (header length already validated); returns 0 or -EINVAL. */
int tcp_parse_options(const struct tcp_header *th, struct tcp_segment *seg);

/* Runs due timers, up to ns->now_us. */
void tcp_timers_run(struct net_stack *ns);

/* Sends what windows allow on connections that are ready. */
void tcp_output_run(struct net_stack *ns);

/* --- application interface ------------------------------------------------------------ */

static inline void *tcp_conn_app(struct tcp_conn *c) { return (uint8_t *)c + sizeof(struct tcp_conn); }
static inline const void *tcp_conn_app_const(const struct tcp_conn *c)
{
	return (const uint8_t *)c + sizeof(struct tcp_conn);
}
static inline struct tcp_conn *tcp_conn_from_app(void *app)
{
	return (struct tcp_conn *)(void *)((uint8_t *)app - sizeof(struct tcp_conn));
}
void *tcp_conn_app_ctx(const struct net_stack *ns, const struct tcp_conn *c);

/* The application made its stream longer: bytes up to stream_end may be sent. */
void tcp_send_extend(struct net_stack *ns, struct tcp_conn *c, uint64_t stream_end);
/* No more bytes after the current stream end: FIN follows them. */
void tcp_send_close(struct net_stack *ns, struct tcp_conn *c);
/* Abort: send RST, free the connection (released is called). */
void tcp_abort(struct net_stack *ns, struct tcp_conn *c);
/* The receive space grew (the application consumed buffered bytes): advertise it. */
void tcp_receive_space_changed(struct net_stack *ns, struct tcp_conn *c);
/* Application deadline (absolute, lcore clock); 0 clears it. */
void tcp_set_app_deadline(struct net_stack *ns, struct tcp_conn *c, uint64_t at_us);
/* Caps this connection's sending rate (bytes per second, 0 = no cap): video players need a
 * few times the bitrate, not the whole link. */
void tcp_set_max_rate(struct net_stack *ns, struct tcp_conn *c, uint64_t bytes_per_second);
/* Stream offset of the next byte the peer has not acknowledged. */
static inline uint64_t tcp_acked_offset(const struct tcp_conn *c) { return c->una_offset; }

/* --- internal, shared by tcp_*.c ------------------------------------------------------- */

struct tcp_conn *tcp_conn_by_index(const struct tcp_stack *ts, uint32_t index_plus_one);
uint32_t tcp_conn_index(const struct tcp_stack *ts, const struct tcp_conn *c); /* + 1 */
struct tcp_conn *tcp_conn_lookup(const struct tcp_stack *ts, const struct tcp_flow *flow);
struct tcp_conn *tcp_conn_alloc(struct net_stack *ns, const struct tcp_flow *flow);
void tcp_conn_free(struct net_stack *ns, struct tcp_conn *c, enum tcp_close_reason reason);
void tcp_conn_set_state(struct net_stack *ns, struct tcp_conn *c, enum tcp_state state);
void tcp_timer_update(struct net_stack *ns, struct tcp_conn *c);
void tcp_timer_unlink(struct tcp_stack *ts, struct tcp_conn *c);
void tcp_ready(struct net_stack *ns, struct tcp_conn *c);
void tcp_ready_unlink(struct tcp_stack *ts, struct tcp_conn *c);
void tcp_output(struct net_stack *ns, struct tcp_conn *c);
void tcp_send_ack(struct net_stack *ns, struct tcp_conn *c);
void tcp_send_syn_ack(struct net_stack *ns, struct tcp_conn *c);
void tcp_send_reset_for(struct net_stack *ns, const struct tcp_segment *seg);
void tcp_send_reset(struct net_stack *ns, struct tcp_conn *c);
void tcp_rtx_timer_expired(struct net_stack *ns, struct tcp_conn *c);
void tcp_rtx_timer_arm(struct net_stack *ns, struct tcp_conn *c);
void tcp_rtt_sample(struct tcp_stack *ts, struct tcp_conn *c, uint32_t rtt_us, uint64_t now_us);
void tcp_send_probe(struct net_stack *ns, struct tcp_conn *c);
uint32_t tcp_ts_now(const struct net_stack *ns, const struct tcp_conn *c);

/* Sendmap (tcp_sendmap.c). */
uint32_t tcp_in_flight(const struct tcp_conn *c);
int tcp_map_sent(struct net_stack *ns, struct tcp_conn *c, uint32_t start, uint32_t end, bool fin);
void tcp_map_retransmitted(struct net_stack *ns, struct tcp_conn *c, struct tcp_seg *seg, uint32_t end);
struct tcp_seg *tcp_map_first_lost(struct tcp_stack *ts, struct tcp_conn *c);
struct tcp_seg *tcp_map_seg(const struct tcp_stack *ts, uint32_t index_plus_one);
void tcp_map_free_all(struct tcp_stack *ts, struct tcp_conn *c);
void tcp_map_mark_all_lost(struct tcp_stack *ts, struct tcp_conn *c);
void tcp_map_mark_lost_range(struct tcp_stack *ts, struct tcp_conn *c, uint32_t start, uint32_t end);
/* Processes a cumulative ACK and SACK blocks; fills rs; returns bytes newly delivered. */
uint32_t tcp_map_ack(struct net_stack *ns, struct tcp_conn *c, const struct tcp_segment *seg, struct tcp_rate_sample *rs);
/* RACK loss detection; returns bytes newly marked lost and the reorder timeout (0 = none). */
uint32_t tcp_rack_detect_loss(struct net_stack *ns, struct tcp_conn *c, uint64_t *reorder_timeout_us);

/* SYN cookies (tcp_syncookie.c). */
uint32_t tcp_syncookie_make(const struct tcp_stack *ts, const struct tcp_flow *flow, uint32_t peer_isn,
			    uint16_t peer_mss, uint64_t now_us, uint16_t *mss_out);
int tcp_syncookie_check(const struct tcp_stack *ts, const struct tcp_flow *flow, uint32_t peer_isn, uint32_t cookie,
			uint64_t now_us, uint16_t *mss_out);
uint32_t tcp_iss(const struct tcp_stack *ts, const struct net_stack *ns, const struct tcp_flow *flow);

#endif /* SLUICE_TCP_H */
