// SPDX-License-Identifier: BSD-3-Clause OR GPL-2.0-only
/*
 * steer.bpf.c: the XDP program on sluice's port. It decides, per frame and at line rate, whether
 * a frame belongs to the data plane (XDP_REDIRECT into the AF_XDP socket of its rx queue), to
 * the kernel (XDP_PASS: SSH, the REST API, BGP keep working on the same NIC), or to nobody
 * (XDP_DROP: blocked sources, SYN floods, fragments and garbage aimed at the data plane), and it
 * refuses new flows of a service that is not open by sending an RST back out of the port
 * (XDP_TX). Runs per packet: no loops without a constant bound, no locks, counters only.
 *
 * Loaded by DPDK's af_xdp PMD (devarg xdp_prog=<path of steer.bpf.o>), which finds `xsks_map`
 * by name and puts its socket for queue q at key q; or by control/steer.c (steer_load) when
 * the data plane is not the loader. Policy lives in maps pinned by name (steer_maps.h), so the
 * control plane changes it while the data plane runs and it survives a data plane restart.
 *
 * Order of decisions for an IP packet (the first that applies wins):
 *   1. the frame ends inside the Ethernet header, a VLAN tag or the fixed IP header -> XDP_PASS
 *      with its trunc_* counter: nothing says whom it is for, and the kernel has always been
 *      the judge of such frames;
 *   2. source in sluice_block -> XDP_DROP (scope: all traffic by default, so a blocked prefix
 *      reaches SSH no more than the service; STEER_BLOCK_SERVICES narrows it to traffic that
 *      would go to the data plane);
 *   3. malformed or truncated past the fixed header (bad version/IHL/length, IPv4 options,
 *      IPv6 extension headers, more than STEER_IPV6_EXT_MAX of them, TCP header or options,
 *      ICMP) -> its own counter, and XDP_DROP when the packet is addressed to the data plane
 *      (an owned address, or a service port when the ports could be read): the data plane must
 *      never see garbage and a cut-off SYN must not slip past admission; XDP_PASS otherwise;
 *   4. fragments: the data plane does not reassemble and its TCP sends with DF and learns the
 *      path MTU from the ICMP errors steered to it below, so a fragment addressed to it is an
 *      attack or a broken path: dropped (a first fragment whose TCP ports name a service, any
 *      fragment to an owned address). Non-first fragments carry no ports, so all others go to
 *      the kernel; splitting one datagram between two consumers would leave both unable to
 *      reassemble it, and dropping the first fragment keeps the kernel from answering a
 *      reassembled service segment with an RST;
 *   5. TCP to a service: segments of established flows (anything but SYN without ACK and
 *      without RST) -> data plane; a new flow first passes the per-source-prefix SYN rate
 *      limit (over it: XDP_DROP, no answer, so a flood gets no backscatter), then admission:
 *      open -> data plane; draining/closed -> RST+ACK built in place and sent with XDP_TX
 *      (STEER_REFUSE_RST, the default: a player fails over to another edge at once instead of
 *      backing off through SYN retries for seconds) or XDP_DROP (STEER_REFUSE_DROP);
 *   6. ICMP/ICMPv6 to an owned address -> data plane (it answers echo); ICMP errors to other
 *      addresses that quote a packet the data plane sent (inner source = a service address
 *      and port) -> data plane, which needs "packet too big"/"fragmentation needed" for PMTU;
 *      other ICMP -> kernel;
 *   7. anything else to an owned address -> data plane, everything else -> kernel.
 *
 * ARP and NDP: XDP cannot clone a frame, so each one has a single owner. ARP whose target
 * protocol address is owned by the data plane (requests for it and replies to its own
 * requests) and neighbour solicitations whose target is owned go to the data plane, which
 * answers with the port's MAC (shared with the kernel under af_xdp); all other ARP (requests
 * for the kernel's addresses, replies to the kernel, gratuitous ARP) goes to the kernel, and
 * so does all other NDP except what is addressed to an owned address (advertisements
 * answering the data plane's own solicitations). ARP is not subject to the blocklist. Neither side then loses what it needs: the kernel keeps resolving its own
 * neighbours, the data plane answers for its addresses and learns clients' MACs from the
 * frames they send it. An address the kernel also holds (service ports only, no owned-address
 * entry) is answered by the kernel, which is right for it too.
 *
 * Cost: one hash lookup per IP frame to classify, two for kernel-bound TCP (service port, then
 * owned address), one LPM lookup per IP frame with blocking on all traffic, one LRU lookup and
 * a compare-and-swap per SYN to a service, two per-CPU array increments per frame.
 */
#include <stdbool.h>

#include <linux/bpf.h>
#include <linux/icmpv6.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "steer_maps.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Load-time defaults, used until the control plane writes sluice_config (skeleton users may
 * change them before load; the PMD loads them as built). */
const volatile __u32 default_syn_rate_per_sec = STEER_DEFAULT_SYN_RATE_PER_SEC;
const volatile __u32 default_syn_burst = STEER_DEFAULT_SYN_BURST;
const volatile __u8 default_syn_prefix_len_v4 = STEER_DEFAULT_SYN_PREFIX_LEN_V4;
const volatile __u8 default_syn_prefix_len_v6 = STEER_DEFAULT_SYN_PREFIX_LEN_V6;
const volatile __u8 default_block_scope = STEER_DEFAULT_BLOCK_SCOPE;
const volatile __u8 default_refuse_action = STEER_DEFAULT_REFUSE_ACTION;

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, STEER_XSKS_MAX);
	__type(key, __u32);
	__type(value, __u32);
} xsks_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, STEER_SERVICES_MAX);
	__type(key, struct steer_service_key);
	__type(value, struct steer_service_value);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sluice_services SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, STEER_SERVICE_ID_MAX);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sluice_admit SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, STEER_BLOCK_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct steer_block_key);
	__type(value, struct steer_block_value);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sluice_block SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, STEER_SYN_RATE_MAX);
	__type(key, struct steer_syn_key);
	__type(value, struct steer_syn_bucket);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sluice_syn_rate SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct steer_config);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sluice_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, STEER_COUNTER_COUNT);
	__type(key, __u32);
	__type(value, struct steer_counter_value);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sluice_counters SEC(".maps");

/* Headers the UAPI does not define. */
struct steer_vlan_hdr {
	__be16 tci;
	__be16 proto;
};

struct steer_arp_ipv4 {
	__be16 htype;
	__be16 ptype;
	__u8 hlen;
	__u8 plen;
	__be16 oper;
	__u8 sha[6];
	__u8 spa[4];
	__u8 tha[6];
	__u8 tpa[4];
} __attribute__((packed));

/* <linux/icmp.h> pulls in glibc's <sys/socket.h>, which does not build for -target bpf. */
struct steer_icmp4_hdr {
	__u8 type;
	__u8 code;
	__sum16 checksum;
	__be32 rest;
};

struct steer_ipv6_frag {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off; /* offset in 8-byte units << 3 | M flag */
	__be32 id;
};

union steer_addr {
	__u8 b[16];
	__u32 w[4];
};

/* What the parser learned about the frame so far. */
struct steer_packet {
	void *data;
	void *data_end;
	void *l3;               /* IP header (after Ethernet and VLAN tags) */
	__u64 frame_len;        /* bytes as received, for the byte counters */
	__u8 family;            /* STEER_FAMILY_* once an IP header is read */
	__u8 first_fragment;    /* offset 0 with more fragments */
	__u8 for_dataplane;     /* to_dataplane() was asked to redirect */
	__u32 reason;           /* enum steer_counter, set by finish()/to_dataplane() */
	union steer_addr src;
	union steer_addr dst;
	struct steer_config cfg;
};

#define STEER_ETH_P_8021AD 0x88A8
#define STEER_ICMP_DEST_UNREACH 3
#define STEER_ICMP_SOURCE_QUENCH 4
#define STEER_ICMP_TIME_EXCEEDED 11
#define STEER_ICMP_PARAMETERPROB 12
#define STEER_IPV6_HOPOPTS 0
#define STEER_IPV6_ROUTING 43
#define STEER_IPV6_FRAGMENT 44
#define STEER_IPV6_DSTOPTS 60
#define STEER_NDP_NS 135
#define STEER_RST_TTL 64
#define STEER_TCP_FLAG_FIN 0x01
#define STEER_TCP_FLAG_SYN 0x02
#define STEER_TCP_FLAG_RST 0x04
#define STEER_TCP_FLAG_ACK 0x10
#define STEER_NSEC_PER_SEC 1000000000ull
#define STEER_SYN_CAS_TRIES 4

static __always_inline void counter_add(__u32 index, __u64 bytes)
{
	struct steer_counter_value *v = bpf_map_lookup_elem(&sluice_counters, &index);

	if (v) {
		v->packets++;
		v->bytes += bytes;
	}
}

/* Every path ends in finish() or to_dataplane(), which record the reason; steer_xdp() counts the
 * reason and the verdict once, on the way out. */
static __always_inline int finish(struct steer_packet *pkt, __u32 reason, int action)
{
	pkt->reason = reason;
	return action;
}

static __always_inline int to_dataplane(struct xdp_md *ctx, struct steer_packet *pkt, __u32 reason)
{
	pkt->reason = reason;
	pkt->for_dataplane = 1;
	/* An empty slot (no socket on this queue, or the data plane is down) gives XDP_PASS. */
	return bpf_redirect_map(&xsks_map, ctx->rx_queue_index, XDP_PASS);
}

static __always_inline void config_load(struct steer_packet *pkt)
{
	__u32 zero = 0;
	struct steer_config *c = bpf_map_lookup_elem(&sluice_config, &zero);

	/* A config written for another layout of this struct is not read as ours. */
	if (c && c->magic == STEER_CONFIG_MAGIC && c->layout_version == STEER_LAYOUT_VERSION) {
		pkt->cfg = *c;
		return;
	}
	pkt->cfg.syn_rate_per_sec = default_syn_rate_per_sec;
	pkt->cfg.syn_burst = default_syn_burst;
	pkt->cfg.syn_prefix_len_v4 = default_syn_prefix_len_v4;
	pkt->cfg.syn_prefix_len_v6 = default_syn_prefix_len_v6;
	pkt->cfg.block_scope = default_block_scope;
	pkt->cfg.refuse_action = default_refuse_action;
}

static __always_inline struct steer_service_value *service_find(const struct steer_packet *pkt,
								  const union steer_addr *addr,
								  __u8 proto, __be16 port)
{
	struct steer_service_key key = {};

	key.family = pkt->family;
	key.proto = proto;
	key.port = port;
	__builtin_memcpy(key.addr, addr->b, sizeof(key.addr));
	return bpf_map_lookup_elem(&sluice_services, &key);
}

/* The data plane is the host for this address (an owned-address entry). */
static __always_inline struct steer_service_value *owned_find(const struct steer_packet *pkt,
								const union steer_addr *addr)
{
	return service_find(pkt, addr, 0, 0);
}

/* TCP to (dst, port): a service port entry, else the owned-address entry. */
static __always_inline struct steer_service_value *tcp_service_find(const struct steer_packet *pkt,
								      __be16 port)
{
	struct steer_service_value *v = service_find(pkt, &pkt->dst, IPPROTO_TCP, port);

	return v ? v : owned_find(pkt, &pkt->dst);
}

/* Malformed or truncated: drop what is addressed to the data plane, pass the rest. */
static __always_inline int malformed(struct steer_packet *pkt, __u32 reason, bool for_dataplane)
{
	return finish(pkt, reason, for_dataplane ? XDP_DROP : XDP_PASS);
}

static __always_inline int malformed_by_address(struct steer_packet *pkt, __u32 reason)
{
	return malformed(pkt, reason, owned_find(pkt, &pkt->dst) != NULL);
}

static __always_inline bool source_blocked(const struct steer_packet *pkt)
{
	struct steer_block_key key = {};
	struct steer_block_value *v;

	key.prefixlen = STEER_BLOCK_PREFIXLEN(pkt->family == STEER_FAMILY_IPV4 ? 32 : 128);
	key.family = pkt->family;
	__builtin_memcpy(key.addr, pkt->src.b, sizeof(key.addr));
	v = bpf_map_lookup_elem(&sluice_block, &key);
	if (!v)
		return false;
	__sync_fetch_and_add(&v->drops, 1);
	return true;
}

/* Blocking that applies only to traffic for the data plane (scope STEER_BLOCK_SERVICES); with
 * scope STEER_BLOCK_ALL the source was checked as soon as the IP header was read. */
static __always_inline bool blocked_for_dataplane(const struct steer_packet *pkt)
{
	return pkt->cfg.block_scope == STEER_BLOCK_SERVICES && source_blocked(pkt);
}

static __always_inline __u32 prefix_mask_word(__u32 prefix_len, __u32 word)
{
	__u32 first_bit = word * 32;
	__u32 bits;

	if (prefix_len <= first_bit)
		return 0;
	bits = prefix_len - first_bit;
	if (bits >= 32)
		return 0xffffffffu;
	return bpf_htonl(0xffffffffu << (32 - bits));
}

/* The SYN rate limit (GCRA, see struct steer_syn_bucket). True: over the limit, drop. */
static __always_inline bool syn_over_limit(const struct steer_packet *pkt)
{
	const struct steer_config *cfg = &pkt->cfg;
	struct steer_syn_key key = {};
	struct steer_syn_bucket *bucket;
	__u64 now = 0, interval = 1, limit;
	__u32 prefix_len;

	if (cfg->syn_burst == 0)
		return false;
	if (pkt->family == STEER_FAMILY_IPV4)
		prefix_len = cfg->syn_prefix_len_v4 > 32 ? 32 : cfg->syn_prefix_len_v4;
	else
		prefix_len = cfg->syn_prefix_len_v6 > 128 ? 128 : cfg->syn_prefix_len_v6;
	key.family = pkt->family;
	key.prefix_len = prefix_len;
#pragma unroll
	for (int i = 0; i < 4; i++)
		((__u32 *)key.addr)[i] = pkt->src.w[i] & prefix_mask_word(prefix_len, i);

	if (cfg->syn_rate_per_sec) {
		now = bpf_ktime_get_ns();
		interval = STEER_NSEC_PER_SEC / cfg->syn_rate_per_sec;
		if (interval == 0)
			interval = 1;
	}
	limit = (__u64)cfg->syn_burst * interval;

	bucket = bpf_map_lookup_elem(&sluice_syn_rate, &key);
	if (!bucket) {
		struct steer_syn_bucket fresh = {.tat = now + interval, .drops = 0};

		/* First SYN of this prefix: allowed (burst >= 1). */
		if (bpf_map_update_elem(&sluice_syn_rate, &key, &fresh, BPF_NOEXIST) == 0)
			return false;
		bucket = bpf_map_lookup_elem(&sluice_syn_rate, &key); /* another CPU made it */
		if (!bucket)
			return false;
	}
#pragma unroll
	for (int i = 0; i < STEER_SYN_CAS_TRIES; i++) {
		__u64 old = *(volatile __u64 *)&bucket->tat;
		__u64 next = (old > now ? old : now) + interval;

		if (next - now > limit)
			break;
		if (__sync_val_compare_and_swap(&bucket->tat, old, next) == old)
			return false;
	}
	/* Over the limit, or so contended that four CPUs raced for one prefix: a flood either way. */
	__sync_fetch_and_add(&bucket->drops, 1);
	return true;
}

static __always_inline __u32 admission_state(__u32 service_id)
{
	__u32 *state = bpf_map_lookup_elem(&sluice_admit, &service_id);

	return state ? *state : STEER_ADMIT_OPEN;
}

static __always_inline __u16 csum_fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

static __always_inline __u32 csum_add_tcp(__u32 sum, const struct tcphdr *tcp)
{
	const __u16 *w = (const __u16 *)tcp;

#pragma unroll
	for (int i = 0; i < (int)(sizeof(*tcp) / 2); i++)
		sum += w[i];
	return sum;
}

static __always_inline __u32 csum_add_addr(__u32 sum, const union steer_addr *a, int words32)
{
#pragma unroll
	for (int i = 0; i < 4; i++)
		if (i < words32)
			sum += (a->w[i] & 0xffff) + (a->w[i] >> 16);
	return sum;
}

/*
 * Refuse a new flow with RST+ACK, built over the SYN in place (RFC 9293 3.10.7.1, no ACK on the
 * SYN: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>). Ethernet addresses swap, VLAN tags stay, a
 * fresh IP header without options or extension headers follows, then a 20-byte TCP header;
 * the frame is cut to that length. Everything read from the SYN is read before anything is
 * written, because the new headers overlap the old ones when the SYN had options.
 */
static __always_inline int refuse_with_rst(struct xdp_md *ctx, struct steer_packet *pkt,
					   const struct tcphdr *syn, __u32 payload_len, __u32 reason)
{
	void *data = pkt->data, *data_end = pkt->data_end;
	struct ethhdr *eth = data;
	__u32 ack = bpf_ntohl(syn->seq) + 1 + payload_len + (syn->fin ? 1 : 0);
	struct tcphdr tcp = {};
	__u8 mac[ETH_ALEN];
	__u64 new_len;
	__u32 sum;

	tcp.source = syn->dest;
	tcp.dest = syn->source;
	tcp.seq = 0;
	tcp.ack_seq = bpf_htonl(ack);
	tcp.doff = sizeof(tcp) / 4;
	tcp.rst = 1;
	tcp.ack = 1;

	if ((void *)(eth + 1) > data_end)
		return finish(pkt, reason, XDP_DROP);
	__builtin_memcpy(mac, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, mac, ETH_ALEN);

	if (pkt->family == STEER_FAMILY_IPV4) {
		struct iphdr ip = {};
		struct iphdr *out = pkt->l3;
		const __u16 *w = (const __u16 *)&ip;

		if ((void *)out + sizeof(ip) + sizeof(tcp) > data_end)
			return finish(pkt, reason, XDP_DROP);
		ip.version = 4;
		ip.ihl = sizeof(ip) / 4;
		ip.tot_len = bpf_htons(sizeof(ip) + sizeof(tcp));
		ip.frag_off = bpf_htons(0x4000); /* DF */
		ip.ttl = STEER_RST_TTL;
		ip.protocol = IPPROTO_TCP;
		ip.saddr = pkt->dst.w[0];
		ip.daddr = pkt->src.w[0];
		sum = 0;
#pragma unroll
		for (int i = 0; i < (int)(sizeof(ip) / 2); i++)
			sum += w[i];
		ip.check = csum_fold(sum);

		sum = csum_add_addr(0, &pkt->src, 1);
		sum = csum_add_addr(sum, &pkt->dst, 1);
		sum += bpf_htons(IPPROTO_TCP) + bpf_htons(sizeof(tcp));
		tcp.check = csum_fold(csum_add_tcp(sum, &tcp));

		__builtin_memcpy(out, &ip, sizeof(ip));
		__builtin_memcpy((void *)out + sizeof(ip), &tcp, sizeof(tcp));
		new_len = (__u64)((void *)out - data) + sizeof(ip) + sizeof(tcp);
	} else {
		struct ipv6hdr ip6 = {};
		struct ipv6hdr *out = pkt->l3;

		if ((void *)out + sizeof(ip6) + sizeof(tcp) > data_end)
			return finish(pkt, reason, XDP_DROP);
		ip6.version = 6;
		ip6.payload_len = bpf_htons(sizeof(tcp));
		ip6.nexthdr = IPPROTO_TCP;
		ip6.hop_limit = STEER_RST_TTL;
		__builtin_memcpy(&ip6.saddr, pkt->dst.b, 16);
		__builtin_memcpy(&ip6.daddr, pkt->src.b, 16);

		sum = csum_add_addr(0, &pkt->src, 4);
		sum = csum_add_addr(sum, &pkt->dst, 4);
		sum += bpf_htons(IPPROTO_TCP) + bpf_htons(sizeof(tcp));
		tcp.check = csum_fold(csum_add_tcp(sum, &tcp));

		__builtin_memcpy(out, &ip6, sizeof(ip6));
		__builtin_memcpy((void *)out + sizeof(ip6), &tcp, sizeof(tcp));
		new_len = (__u64)((void *)out - data) + sizeof(ip6) + sizeof(tcp);
	}
	if (new_len < pkt->frame_len &&
	    bpf_xdp_adjust_tail(ctx, (int)new_len - (int)pkt->frame_len))
		return finish(pkt, reason, XDP_DROP);
	return finish(pkt, reason, XDP_TX);
}

/* TCP at l4, l4_len bytes of IP payload (the frame may be longer: Ethernet padding). */
static __always_inline int steer_tcp(struct xdp_md *ctx, struct steer_packet *pkt, void *l4, __u32 l4_len)
{
	void *data_end = pkt->data_end;
	struct tcphdr *tcp = l4;
	struct steer_service_value *svc;
	__u32 doff, state, reason;
	__u8 flags;

	if ((void *)(tcp + 1) > data_end || l4_len < sizeof(*tcp)) {
		if (l4 + 4 <= data_end && l4_len >= 4)
			svc = tcp_service_find(pkt, tcp->dest);
		else
			svc = owned_find(pkt, &pkt->dst);
		return malformed(pkt, STEER_TRUNC_TCP, svc != NULL);
	}
	svc = tcp_service_find(pkt, tcp->dest);
	doff = tcp->doff * 4;
	if (doff < sizeof(*tcp))
		return malformed(pkt, STEER_BAD_TCP, svc != NULL);
	if (l4 + doff > data_end || doff > l4_len)
		return malformed(pkt, STEER_TRUNC_TCP, svc != NULL);
	if (!svc)
		return finish(pkt, STEER_PASS_NOT_SERVICE, XDP_PASS);
	if (pkt->first_fragment)
		return finish(pkt, STEER_DROP_FRAGMENT, XDP_DROP);
	if (blocked_for_dataplane(pkt))
		return finish(pkt, STEER_DROP_BLOCKED, XDP_DROP);

	flags = ((__u8 *)tcp)[13];
	if ((flags & (STEER_TCP_FLAG_SYN | STEER_TCP_FLAG_ACK | STEER_TCP_FLAG_RST)) != STEER_TCP_FLAG_SYN)
		return to_dataplane(ctx, pkt, STEER_REDIRECT_SERVICE);

	/* A new flow: rate limit first, so a flood is dropped rather than answered. */
	if (syn_over_limit(pkt))
		return finish(pkt, STEER_DROP_SYN_RATE, XDP_DROP);
	state = admission_state(svc->service_id);
	if (state == STEER_ADMIT_OPEN)
		return to_dataplane(ctx, pkt, STEER_REDIRECT_SYN);
	reason = state == STEER_ADMIT_DRAINING ? STEER_REFUSE_DRAINING : STEER_REFUSE_CLOSED;
	if (pkt->cfg.refuse_action == STEER_REFUSE_DROP)
		return finish(pkt, reason, XDP_DROP);
	return refuse_with_rst(ctx, pkt, tcp, l4_len - doff, reason);
}

/* The quoted packet of an ICMP error names a TCP connection of the data plane: its source is a
 * service address and port (the data plane sent it). */
static __always_inline bool quoted_is_service(const struct steer_packet *pkt, const union steer_addr *inner_src,
					      __be16 inner_sport)
{
	return service_find(pkt, inner_src, IPPROTO_TCP, inner_sport) != NULL;
}

static __always_inline int steer_icmp4(struct xdp_md *ctx, struct steer_packet *pkt, void *l4, __u32 l4_len)
{
	void *data_end = pkt->data_end;
	struct steer_icmp4_hdr *icmp = l4;
	struct iphdr *inner;
	union steer_addr inner_src = {};
	__be16 *ports;
	bool owned = owned_find(pkt, &pkt->dst) != NULL;

	if ((void *)(icmp + 1) > data_end || l4_len < sizeof(*icmp))
		return malformed(pkt, STEER_TRUNC_ICMP, owned);
	if (owned) {
		if (blocked_for_dataplane(pkt))
			return finish(pkt, STEER_DROP_BLOCKED, XDP_DROP);
		return to_dataplane(ctx, pkt, STEER_REDIRECT_OWNED);
	}
	if (icmp->type != STEER_ICMP_DEST_UNREACH && icmp->type != STEER_ICMP_TIME_EXCEEDED &&
	    icmp->type != STEER_ICMP_PARAMETERPROB && icmp->type != STEER_ICMP_SOURCE_QUENCH)
		return finish(pkt, STEER_PASS_ICMP, XDP_PASS);

	/* An error quotes the IP header and at least 8 bytes of what followed it. */
	inner = (void *)(icmp + 1);
	if ((void *)(inner + 1) > data_end || l4_len < sizeof(*icmp) + sizeof(*inner))
		return finish(pkt, STEER_TRUNC_ICMP, XDP_PASS);
	if (inner->protocol != IPPROTO_TCP || inner->ihl < 5)
		return finish(pkt, STEER_PASS_ICMP, XDP_PASS);
	ports = (void *)inner + inner->ihl * 4;
	if ((void *)(ports + 2) > data_end || l4_len < sizeof(*icmp) + inner->ihl * 4 + 4)
		return finish(pkt, STEER_TRUNC_ICMP, XDP_PASS);
	inner_src.w[0] = inner->saddr;
	if (!quoted_is_service(pkt, &inner_src, ports[0]))
		return finish(pkt, STEER_PASS_ICMP, XDP_PASS);
	if (blocked_for_dataplane(pkt))
		return finish(pkt, STEER_DROP_BLOCKED, XDP_DROP);
	return to_dataplane(ctx, pkt, STEER_REDIRECT_ICMP_ERROR);
}

static __always_inline int steer_icmp6(struct xdp_md *ctx, struct steer_packet *pkt, void *l4, __u32 l4_len)
{
	void *data_end = pkt->data_end;
	struct icmp6hdr *icmp = l4;
	struct ipv6hdr *inner;
	union steer_addr quoted = {};
	__be16 *ports;
	bool owned = owned_find(pkt, &pkt->dst) != NULL;

	if ((void *)(icmp + 1) > data_end || l4_len < sizeof(*icmp))
		return malformed(pkt, STEER_TRUNC_ICMP, owned);
	if (icmp->icmp6_type == STEER_NDP_NS) {
		/* Neighbour solicitation: target address after the 8-byte header. */
		__u8 *target = (void *)(icmp + 1);

		if ((void *)(target + 16) > data_end || l4_len < sizeof(*icmp) + 16)
			return malformed(pkt, STEER_TRUNC_ICMP, owned);
		__builtin_memcpy(quoted.b, target, 16);
		if (owned_find(pkt, &quoted)) {
			if (blocked_for_dataplane(pkt))
				return finish(pkt, STEER_DROP_BLOCKED, XDP_DROP);
			return to_dataplane(ctx, pkt, STEER_REDIRECT_NDP);
		}
	}
	if (owned) {
		if (blocked_for_dataplane(pkt))
			return finish(pkt, STEER_DROP_BLOCKED, XDP_DROP);
		return to_dataplane(ctx, pkt, STEER_REDIRECT_OWNED);
	}
	/* Errors: destination unreachable 1, packet too big 2, time exceeded 3, parameter problem 4. */
	if (icmp->icmp6_type < 1 || icmp->icmp6_type > 4)
		return finish(pkt, STEER_PASS_ICMP, XDP_PASS);
	inner = (void *)(icmp + 1);
	if ((void *)(inner + 1) > data_end || l4_len < sizeof(*icmp) + sizeof(*inner))
		return finish(pkt, STEER_TRUNC_ICMP, XDP_PASS);
	/* The data plane sends no extension headers: a quoted packet of its has TCP right after. */
	if (inner->nexthdr != IPPROTO_TCP)
		return finish(pkt, STEER_PASS_ICMP, XDP_PASS);
	ports = (void *)(inner + 1);
	if ((void *)(ports + 2) > data_end || l4_len < sizeof(*icmp) + sizeof(*inner) + 4)
		return finish(pkt, STEER_TRUNC_ICMP, XDP_PASS);
	__builtin_memcpy(quoted.b, &inner->saddr, 16);
	if (!quoted_is_service(pkt, &quoted, ports[0]))
		return finish(pkt, STEER_PASS_ICMP, XDP_PASS);
	if (blocked_for_dataplane(pkt))
		return finish(pkt, STEER_DROP_BLOCKED, XDP_DROP);
	return to_dataplane(ctx, pkt, STEER_REDIRECT_ICMP_ERROR);
}

/* After the IP header(s): fragments, then per protocol. */
static __always_inline int steer_l4(struct xdp_md *ctx, struct steer_packet *pkt, __u8 proto, void *l4,
				    __u32 l4_len)
{
	bool owned;

	if (proto == IPPROTO_TCP)
		return steer_tcp(ctx, pkt, l4, l4_len);
	if (pkt->first_fragment) {
		/* Not TCP (which steer_tcp judged by its ports): only the address can tell. */
		if (owned_find(pkt, &pkt->dst))
			return finish(pkt, STEER_DROP_FRAGMENT, XDP_DROP);
		return finish(pkt, STEER_PASS_FRAGMENT, XDP_PASS);
	}
	if (proto == IPPROTO_ICMP && pkt->family == STEER_FAMILY_IPV4)
		return steer_icmp4(ctx, pkt, l4, l4_len);
	if (proto == IPPROTO_ICMPV6 && pkt->family == STEER_FAMILY_IPV6)
		return steer_icmp6(ctx, pkt, l4, l4_len);
	owned = owned_find(pkt, &pkt->dst) != NULL;
	if (!owned)
		return finish(pkt, STEER_PASS_NOT_SERVICE, XDP_PASS);
	if (blocked_for_dataplane(pkt))
		return finish(pkt, STEER_DROP_BLOCKED, XDP_DROP);
	return to_dataplane(ctx, pkt, STEER_REDIRECT_OWNED);
}

static __always_inline int nonfirst_fragment(struct steer_packet *pkt)
{
	if (owned_find(pkt, &pkt->dst))
		return finish(pkt, STEER_DROP_FRAGMENT, XDP_DROP);
	return finish(pkt, STEER_PASS_FRAGMENT, XDP_PASS);
}

static __always_inline int steer_ipv4(struct xdp_md *ctx, struct steer_packet *pkt)
{
	void *data_end = pkt->data_end;
	struct iphdr *ip = pkt->l3;
	__u32 hlen, tot_len;
	__u16 frag;

	if ((void *)(ip + 1) > data_end)
		return finish(pkt, STEER_TRUNC_IPV4, XDP_PASS);
	pkt->family = STEER_FAMILY_IPV4;
	pkt->src.w[0] = ip->saddr;
	pkt->dst.w[0] = ip->daddr;
	if (ip->version != 4 || ip->ihl < 5)
		return malformed_by_address(pkt, STEER_BAD_IPV4);
	config_load(pkt);
	if (pkt->cfg.block_scope == STEER_BLOCK_ALL && source_blocked(pkt))
		return finish(pkt, STEER_DROP_BLOCKED, XDP_DROP);

	hlen = ip->ihl * 4;
	tot_len = bpf_ntohs(ip->tot_len);
	if (tot_len < hlen)
		return malformed_by_address(pkt, STEER_BAD_IPV4);
	if ((void *)ip + hlen > data_end || (void *)ip + tot_len > data_end)
		return malformed_by_address(pkt, STEER_TRUNC_IPV4);

	frag = bpf_ntohs(ip->frag_off);
	if (frag & 0x1fff)
		return nonfirst_fragment(pkt);
	pkt->first_fragment = (frag & 0x2000) != 0;
	return steer_l4(ctx, pkt, ip->protocol, (void *)ip + hlen, tot_len - hlen);
}

static __always_inline bool ipv6_is_ext(__u8 nexthdr)
{
	return nexthdr == STEER_IPV6_HOPOPTS || nexthdr == STEER_IPV6_ROUTING ||
	       nexthdr == STEER_IPV6_FRAGMENT || nexthdr == STEER_IPV6_DSTOPTS;
}

static __always_inline int steer_ipv6(struct xdp_md *ctx, struct steer_packet *pkt)
{
	void *data_end = pkt->data_end;
	struct ipv6hdr *ip6 = pkt->l3;
	void *cursor;
	__u32 payload_len, ext_len = 0;
	__u8 nexthdr;

	if ((void *)(ip6 + 1) > data_end)
		return finish(pkt, STEER_TRUNC_IPV6, XDP_PASS);
	pkt->family = STEER_FAMILY_IPV6;
	__builtin_memcpy(pkt->src.b, &ip6->saddr, 16);
	__builtin_memcpy(pkt->dst.b, &ip6->daddr, 16);
	if (ip6->version != 6)
		return malformed_by_address(pkt, STEER_BAD_IPV6);
	config_load(pkt);
	if (pkt->cfg.block_scope == STEER_BLOCK_ALL && source_blocked(pkt))
		return finish(pkt, STEER_DROP_BLOCKED, XDP_DROP);

	payload_len = bpf_ntohs(ip6->payload_len);
	cursor = ip6 + 1;
	if (cursor + payload_len > data_end)
		return malformed_by_address(pkt, STEER_TRUNC_IPV6);

	nexthdr = ip6->nexthdr;
#pragma unroll
	for (int i = 0; i < STEER_IPV6_EXT_MAX; i++) {
		__u32 len;

		if (!ipv6_is_ext(nexthdr))
			break;
		if (nexthdr == STEER_IPV6_FRAGMENT) {
			struct steer_ipv6_frag *frag = cursor;
			__u16 off;

			if ((void *)(frag + 1) > data_end || ext_len + sizeof(*frag) > payload_len)
				return malformed_by_address(pkt, STEER_TRUNC_IPV6_EXT);
			off = bpf_ntohs(frag->frag_off);
			nexthdr = frag->nexthdr;
			if (off & 0xfff8)
				return nonfirst_fragment(pkt);
			if (off & 1)
				pkt->first_fragment = 1;
			len = sizeof(*frag);
		} else {
			struct ipv6_opt_hdr *opt = cursor;

			if ((void *)(opt + 1) > data_end)
				return malformed_by_address(pkt, STEER_TRUNC_IPV6_EXT);
			len = ((__u32)opt->hdrlen + 1) * 8;
			nexthdr = opt->nexthdr;
			if (cursor + len > data_end || ext_len + len > payload_len)
				return malformed_by_address(pkt, STEER_TRUNC_IPV6_EXT);
		}
		cursor += len;
		ext_len += len;
	}
	if (ipv6_is_ext(nexthdr))
		return malformed_by_address(pkt, STEER_IPV6_EXT_LIMIT);
	return steer_l4(ctx, pkt, nexthdr, cursor, payload_len - ext_len);
}

static __always_inline int steer_arp(struct xdp_md *ctx, struct steer_packet *pkt)
{
	struct steer_arp_ipv4 *arp = pkt->l3;
	union steer_addr target = {};

	if ((void *)(arp + 1) > pkt->data_end)
		return finish(pkt, STEER_TRUNC_ARP, XDP_PASS);
	if (arp->htype != bpf_htons(1) || arp->ptype != bpf_htons(ETH_P_IP) || arp->hlen != ETH_ALEN ||
	    arp->plen != 4)
		return finish(pkt, STEER_PASS_ARP, XDP_PASS);
	pkt->family = STEER_FAMILY_IPV4;
	__builtin_memcpy(target.b, arp->tpa, 4);
	if (owned_find(pkt, &target))
		return to_dataplane(ctx, pkt, STEER_REDIRECT_ARP);
	return finish(pkt, STEER_PASS_ARP, XDP_PASS);
}

static __always_inline int steer_frame(struct xdp_md *ctx, struct steer_packet *pkt)
{
	struct ethhdr *eth = pkt->data;
	void *cursor;
	__be16 proto;

	if ((void *)(eth + 1) > pkt->data_end)
		return finish(pkt, STEER_TRUNC_ETH, XDP_PASS);
	proto = eth->h_proto;
	cursor = eth + 1;
	/* Up to two tags: 802.1Q, or 802.1ad outside 802.1Q. More than two is not IP to us. */
#pragma unroll
	for (int i = 0; i < 2; i++) {
		struct steer_vlan_hdr *vlan = cursor;

		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(STEER_ETH_P_8021AD))
			break;
		if ((void *)(vlan + 1) > pkt->data_end)
			return finish(pkt, STEER_TRUNC_VLAN, XDP_PASS);
		proto = vlan->proto;
		cursor = vlan + 1;
	}
	pkt->l3 = cursor;
	if (proto == bpf_htons(ETH_P_IP))
		return steer_ipv4(ctx, pkt);
	if (proto == bpf_htons(ETH_P_IPV6))
		return steer_ipv6(ctx, pkt);
	if (proto == bpf_htons(ETH_P_ARP))
		return steer_arp(ctx, pkt);
	return finish(pkt, STEER_PASS_NON_IP, XDP_PASS);
}

SEC("xdp")
int steer_xdp(struct xdp_md *ctx)
{
	struct steer_packet pkt = {};
	__u32 verdict;
	int action;

	pkt.data = (void *)(long)ctx->data;
	pkt.data_end = (void *)(long)ctx->data_end;
	pkt.frame_len = pkt.data_end - pkt.data;
	action = steer_frame(ctx, &pkt);

	switch (action) {
	case XDP_REDIRECT:
		verdict = STEER_VERDICT_REDIRECT;
		break;
	case XDP_DROP:
		verdict = STEER_VERDICT_DROP;
		break;
	case XDP_TX:
		verdict = STEER_VERDICT_TX;
		break;
	default:
		verdict = pkt.for_dataplane ? STEER_VERDICT_NO_SOCKET : STEER_VERDICT_PASS;
		break;
	}
	counter_add(pkt.reason, pkt.frame_len);
	counter_add(verdict, pkt.frame_len);
	return action;
}
