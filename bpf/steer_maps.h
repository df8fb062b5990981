/* SPDX-License-Identifier: BSD-3-Clause
 *
 * steer_maps.h: the contract between the XDP steering program (bpf/steer.bpf.c) and everything
 * in user space that reads or writes its maps (control/steer.c, sluice-steer, the control
 * daemon, tests): map names, key and value layouts, limits, and the names of the counters.
 *
 * One header, included by both sides, so a layout cannot drift between the program and its
 * readers: every struct that is a map key or value has its size _Static_assert'ed here, and
 * user space compares those sizes with the pinned maps it opens (a map pinned by an older
 * build with another layout is reported, not misread). Types are the kernel's __u8..__u64 from
 * <linux/types.h>, which both clang -target bpf and the host compiler see. Multi-byte fields
 * that come from packets (addresses, ports) are in network byte order; everything else is in
 * host order.
 *
 * Maps (all but xsks_map pinned by name under the bpffs root, /sys/fs/bpf by default):
 *
 *   name             type            key                     value                  entries
 *   sluice_services  HASH            steer_service_key       steer_service_value    1024
 *   sluice_admit     ARRAY           __u32 service id        __u32 enum steer_admission  256
 *   sluice_block     LPM_TRIE        steer_block_key         steer_block_value      65536
 *   sluice_syn_rate  LRU_HASH        steer_syn_key           steer_syn_bucket       65536
 *   sluice_config    ARRAY           __u32 0                 steer_config           1
 *   sluice_counters  PERCPU_ARRAY    __u32 enum steer_counter steer_counter_value   STEER_COUNTER_COUNT
 *   xsks_map         XSKMAP          __u32 rx queue          socket fd (not pinned) 64
 *
 * Names stay within 15 characters (BPF_OBJ_NAME_LEN - 1) so the kernel's name for a map and its
 * pin file are the same string. xsks_map keeps the name DPDK's af_xdp PMD looks up and is not
 * pinned: its sockets belong to the data plane process that created them.
 *
 * Addresses: family is STEER_FAMILY_IPV4 (4) or STEER_FAMILY_IPV6 (6); an IPv4 address occupies
 * the first 4 bytes of the 16-byte field and the other 12 are zero (not the ::ffff:0:0/96 form).
 */
#ifndef SLUICE_STEER_MAPS_H
#define SLUICE_STEER_MAPS_H

#include <linux/types.h>

#define STEER_FAMILY_IPV4 4
#define STEER_FAMILY_IPV6 6

/* Map names as they appear in bpffs (and in the skeleton). */
#define STEER_MAP_SERVICES "sluice_services"
#define STEER_MAP_ADMIT    "sluice_admit"
#define STEER_MAP_BLOCK    "sluice_block"
#define STEER_MAP_SYN_RATE "sluice_syn_rate"
#define STEER_MAP_CONFIG   "sluice_config"
#define STEER_MAP_COUNTERS "sluice_counters"
#define STEER_MAP_XSKS     "xsks_map"
#define STEER_PIN_ROOT_DEFAULT "/sys/fs/bpf"

/* Capacities (max_entries). */
#define STEER_SERVICES_MAX   1024
#define STEER_SERVICE_ID_MAX 256   /* service ids are 0 .. STEER_SERVICE_ID_MAX - 1 */
#define STEER_BLOCK_MAX      65536
#define STEER_SYN_RATE_MAX   65536
#define STEER_XSKS_MAX       64    /* rx queues of the port */

/* IPv6 extension headers (hop-by-hop, routing, fragment, destination options) the program walks
 * before it gives up on finding the upper-layer header (counter ipv6_ext_limit). */
#define STEER_IPV6_EXT_MAX 4

/*
 * sluice_services: which traffic belongs to the data plane.
 *
 * Two kinds of entry share the map:
 *  - a service port: {family, IPPROTO_TCP, port, address}. TCP to that address and port is the
 *    data plane's; the address may be shared with the kernel (SSH on port 22 of the same
 *    address still goes to the kernel);
 *  - an owned address: {family, 0, 0, address}. The data plane is the host for that address:
 *    every packet to it (TCP to any port, ICMP echo, UDP), ARP requests and replies and NDP
 *    neighbour solicitations targeting it go to the data plane, never to the kernel.
 * The value's service_id selects the admission state (sluice_admit) that applies to new flows.
 */
struct steer_service_key {
	__u8 family;     /* STEER_FAMILY_* */
	__u8 proto;      /* IPPROTO_TCP for a service port, 0 for an owned address */
	__be16 port;     /* network order; 0 for an owned address */
	__u8 addr[16];   /* network order; IPv4 in the first 4 bytes, rest zero */
};

struct steer_service_value {
	__u32 service_id; /* < STEER_SERVICE_ID_MAX: index into sluice_admit */
	__u32 reserved;   /* must be 0 */
};

/* sluice_admit: per service id, whether new flows (SYN without ACK) are let in. The array starts
 * zeroed, so a service nobody has touched is open. */
enum steer_admission {
	STEER_ADMIT_OPEN = 0,     /* new flows go to the data plane */
	STEER_ADMIT_DRAINING = 1, /* new flows refused, established flows continue */
	STEER_ADMIT_CLOSED = 2,   /* new flows refused, established flows continue (the data plane
				   * is closing them); counted apart from draining */
	STEER_ADMIT_COUNT
};

/*
 * sluice_block: blocked source prefixes, IPv4 and IPv6 in one LPM trie. The first 32 bits of
 * the data are the family (one byte, three zero bytes), so prefixlen = 32 + the prefix length
 * of the address (32 + 24 for a /24). STEER_BLOCK_PREFIXLEN() computes it.
 */
struct steer_block_key {
	__u32 prefixlen; /* 32 + address prefix length (0..32 or 0..128) */
	__u8 family;     /* STEER_FAMILY_* */
	__u8 pad[3];     /* zero */
	__u8 addr[16];   /* network order; bits past the prefix zero */
};
#define STEER_BLOCK_PREFIXLEN(address_prefix_len) (32u + (address_prefix_len))

struct steer_block_value {
	__u64 drops; /* packets dropped by this entry (atomic add), reset when the entry is written */
};

/*
 * sluice_syn_rate: one token bucket per source prefix for SYNs to services, kept as a GCRA
 * ("virtual scheduling") theoretical arrival time so that a single 64-bit compare-and-swap
 * updates it from any CPU. A SYN is allowed when, after adding one emission interval
 * (1e9 / rate ns), tat - now <= burst * interval. With rate 0 the program uses now = 0 and an
 * interval of 1, so tat counts SYNs and the bucket never refills (burst SYNs, then drop).
 * LRU: under a flood of many prefixes the least recently seen buckets are recycled.
 */
struct steer_syn_key {
	__u8 family;     /* STEER_FAMILY_* */
	__u8 prefix_len; /* the prefix length in force when the bucket was made */
	__u16 pad;       /* zero */
	__u8 addr[16];   /* source address masked to prefix_len */
};

struct steer_syn_bucket {
	__u64 tat;   /* theoretical arrival time: ns of bpf_ktime_get_ns, or a SYN count at rate 0 */
	__u64 drops; /* SYNs this prefix had dropped (atomic add) */
};

/*
 * sluice_config: run-time settings written by the control plane. Until an entry with
 * magic == STEER_CONFIG_MAGIC and this layout_version is written, the program uses its
 * load-time defaults (const volatile in the program, initialised from the STEER_DEFAULT_*
 * values below), so a program the data plane's PMD loaded on its own works before the
 * control plane ever runs, and a config left by a build whose struct had the same size but
 * other fields is not misread (the library reports it: -EPROTO).
 */
#define STEER_CONFIG_MAGIC 0x52455453u /* bytes "STER" in memory on little-endian hosts */
#define STEER_LAYOUT_VERSION 1

enum steer_block_scope {
	STEER_BLOCK_ALL = 0,      /* a blocked prefix reaches neither the data plane nor the kernel */
	STEER_BLOCK_SERVICES = 1, /* only traffic for the data plane is blocked */
};

enum steer_refuse_action {
	STEER_REFUSE_RST = 0,  /* answer a refused SYN with RST+ACK built in place (XDP_TX) */
	STEER_REFUSE_DROP = 1, /* drop it silently; the client retries its SYN */
};

struct steer_config {
	__u32 magic;            /* STEER_CONFIG_MAGIC once written */
	__u32 layout_version;   /* STEER_LAYOUT_VERSION of the writer */
	__u32 syn_rate_per_sec; /* SYNs per second per source prefix; 0 = bucket never refills */
	__u32 syn_burst;        /* SYNs a prefix may send at once; 0 = SYN rate limit off */
	__u8 syn_prefix_len_v4; /* bits, 0..32 */
	__u8 syn_prefix_len_v6; /* bits, 0..128 */
	__u8 block_scope;       /* enum steer_block_scope */
	__u8 refuse_action;     /* enum steer_refuse_action */
	__u32 reserved;         /* zero */
};

#define STEER_DEFAULT_SYN_RATE_PER_SEC 1000
#define STEER_DEFAULT_SYN_BURST 2000
#define STEER_DEFAULT_SYN_PREFIX_LEN_V4 24
#define STEER_DEFAULT_SYN_PREFIX_LEN_V6 64
#define STEER_DEFAULT_BLOCK_SCOPE STEER_BLOCK_ALL
#define STEER_DEFAULT_REFUSE_ACTION STEER_REFUSE_RST

/*
 * sluice_counters: per-CPU {packets, bytes} per counter. Every frame the program sees adds to
 * exactly one reason counter (why) and exactly one verdict counter (what was done), so the
 * reasons sum to the verdicts. X(enum suffix, name, meaning).
 */
#define STEER_REASONS(X)                                                                        \
	X(PASS_NON_IP, "pass_non_ip", "neither IPv4, IPv6 nor ARP: the kernel's")                \
	X(PASS_ARP, "pass_arp", "ARP not targeting an owned address: the kernel's")              \
	X(PASS_NOT_SERVICE, "pass_not_service", "IP traffic for the kernel (address or port not served)") \
	X(PASS_ICMP, "pass_icmp", "ICMP to a kernel address, not about a service connection")    \
	X(PASS_FRAGMENT, "pass_fragment", "non-first fragment to an address the data plane does not own") \
	X(REDIRECT_ARP, "redirect_arp", "ARP whose target address the data plane owns")         \
	X(REDIRECT_NDP, "redirect_ndp", "neighbour solicitation for an owned address")           \
	X(REDIRECT_OWNED, "redirect_owned", "non-TCP traffic to an owned address (ICMP echo, NDP, UDP)") \
	X(REDIRECT_ICMP_ERROR, "redirect_icmp_error", "ICMP error about a service connection (PMTU)") \
	X(REDIRECT_SYN, "redirect_syn", "new flow admitted (SYN without ACK)")                   \
	X(REDIRECT_SERVICE, "redirect_service", "segment of an established service flow")        \
	X(DROP_BLOCKED, "drop_blocked", "source in sluice_block")                                \
	X(DROP_SYN_RATE, "drop_syn_rate", "SYN over its source prefix's rate limit")             \
	X(DROP_FRAGMENT, "drop_fragment", "fragment addressed to the data plane (it does not reassemble)") \
	X(REFUSE_DRAINING, "refuse_draining", "new flow refused: service draining")              \
	X(REFUSE_CLOSED, "refuse_closed", "new flow refused: service closed")                    \
	X(TRUNC_ETH, "trunc_eth", "frame shorter than an Ethernet header")                       \
	X(TRUNC_VLAN, "trunc_vlan", "frame ends inside a VLAN tag")                              \
	X(TRUNC_ARP, "trunc_arp", "frame ends inside the ARP body")                              \
	X(TRUNC_IPV4, "trunc_ipv4", "frame ends inside the IPv4 header or before its total length") \
	X(BAD_IPV4, "bad_ipv4", "IPv4 header with a wrong version, IHL or total length")         \
	X(TRUNC_IPV6, "trunc_ipv6", "frame ends inside the IPv6 header or before its payload length") \
	X(BAD_IPV6, "bad_ipv6", "IPv6 ethertype with another IP version")                        \
	X(TRUNC_IPV6_EXT, "trunc_ipv6_ext", "frame ends inside an IPv6 extension header")        \
	X(IPV6_EXT_LIMIT, "ipv6_ext_limit", "more than STEER_IPV6_EXT_MAX extension headers")    \
	X(TRUNC_TCP, "trunc_tcp", "frame ends inside the TCP header or its options")             \
	X(BAD_TCP, "bad_tcp", "TCP data offset below 5")                                         \
	X(TRUNC_ICMP, "trunc_icmp", "frame ends inside an ICMP header or the packet it quotes")

#define STEER_VERDICTS(X)                                                                        \
	X(VERDICT_PASS, "verdict_pass", "XDP_PASS: to the kernel")                               \
	X(VERDICT_DROP, "verdict_drop", "XDP_DROP")                                              \
	X(VERDICT_TX, "verdict_tx", "XDP_TX: RST sent back out of the port")                     \
	X(VERDICT_REDIRECT, "verdict_redirect", "XDP_REDIRECT to the data plane's AF_XDP socket") \
	X(VERDICT_NO_SOCKET, "verdict_no_socket",                                                 \
	  "for the data plane but no socket on this rx queue: XDP_PASS to the kernel")

enum steer_counter {
#define STEER_COUNTER_ENUM_(suffix, name, help) STEER_##suffix,
	STEER_REASONS(STEER_COUNTER_ENUM_)
	STEER_VERDICTS(STEER_COUNTER_ENUM_)
	STEER_COUNTER_COUNT
#undef STEER_COUNTER_ENUM_
};
#define STEER_REASON_COUNT STEER_VERDICT_PASS /* reasons are 0 .. STEER_REASON_COUNT - 1 */

struct steer_counter_value {
	__u64 packets;
	__u64 bytes; /* frame bytes as received, Ethernet header included */
};

/* Layouts that cross the kernel/user boundary: any change here is a new layout for the pins. */
_Static_assert(sizeof(struct steer_service_key) == 20, "steer_service_key layout");
_Static_assert(sizeof(struct steer_service_value) == 8, "steer_service_value layout");
_Static_assert(sizeof(struct steer_block_key) == 24, "steer_block_key layout");
_Static_assert(sizeof(struct steer_block_value) == 8, "steer_block_value layout");
_Static_assert(sizeof(struct steer_syn_key) == 20, "steer_syn_key layout");
_Static_assert(sizeof(struct steer_syn_bucket) == 16, "steer_syn_bucket layout");
_Static_assert(sizeof(struct steer_config) == 24, "steer_config layout");
_Static_assert(sizeof(struct steer_counter_value) == 16, "steer_counter_value layout");
_Static_assert(STEER_COUNTER_COUNT == 33, "a counter was added or removed: update this assert");

#if !defined(__bpf__)
#define sluice_steer_unused_ __attribute__((unused))
/* User space: counter names and help texts in enum order, for printing and /metrics. */
static const char *const steer_counter_names[STEER_COUNTER_COUNT] sluice_steer_unused_ = {
#define STEER_COUNTER_NAME_(suffix, name, help) [STEER_##suffix] = name,
	STEER_REASONS(STEER_COUNTER_NAME_) STEER_VERDICTS(STEER_COUNTER_NAME_)
#undef STEER_COUNTER_NAME_
};
static const char *const steer_counter_help[STEER_COUNTER_COUNT] sluice_steer_unused_ = {
#define STEER_COUNTER_HELP_(suffix, name, help) [STEER_##suffix] = help,
	STEER_REASONS(STEER_COUNTER_HELP_) STEER_VERDICTS(STEER_COUNTER_HELP_)
#undef STEER_COUNTER_HELP_
};
#endif

#endif /* SLUICE_STEER_MAPS_H */
