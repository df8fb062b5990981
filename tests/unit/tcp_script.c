/* SPDX-License-Identifier: BSD-3-Clause
 *
 * tcp_script.c: the packetdrill-like script runner (see tcp_script.h).
 */
#include "tcp_script.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net_harness.h"
#include "net/net_csum.h"

#define SCRIPT_CLIENT_ISN 1000000u
#define SCRIPT_CLIENT_PORT 40000

struct script_opts {
	bool have_mss, have_wscale, sack_ok, have_ts, have_sack;
	bool mss_any, wscale_any, tsval_any, tsecr_any;
	int tsval_var, tsecr_var;     /* $1..$9: captured/substituted, 0 = none */
	uint32_t mss, wscale, tsval, tsecr;
	uint32_t sack[4][2];
	uint32_t sack_count;
	uint8_t raw[40];
	uint32_t raw_len;
};

struct script_run {
	struct harness h;
	uint64_t start_us, last_us;
	uint32_t server_isn;
	bool server_isn_known;
	uint32_t next_tx;             /* next captured frame to compare */
	int line;
	uint32_t vars[10];
	bool var_set[10];
	char *err;
	unsigned err_len;
	bool failed;
};

static bool script_fail(struct script_run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static struct tcp_conn *script_conn(struct script_run *r);
static bool script_fail(struct script_run *r, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(r->err, r->err_len, "line %d: ", r->line);

	va_start(ap, fmt);
	vsnprintf(r->err + n, r->err_len - (unsigned)n, fmt, ap);
	va_end(ap);
	r->failed = true;
	return false;
}

/* Moves the virtual clock to at_us in steps, so timers fire near their time. */
static void script_advance_to(struct script_run *r, uint64_t at_us)
{
	while (r->h.ns.now_us < at_us) {
		uint64_t step = at_us - r->h.ns.now_us;
		uint64_t max_step = at_us - r->start_us > 2000000 ? 10000 : 1000;

		harness_advance(&r->h, step < max_step ? step : max_step);
	}
}

static bool script_parse_opts(struct script_run *r, const char *text, struct script_opts *o)
{
	char buf[256], *save = NULL, *item;

	memset(o, 0, sizeof(*o));
	if (strlen(text) >= sizeof(buf))
		return script_fail(r, "options too long");
	strcpy(buf, text);
	for (item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		char word[16], a[24] = "", b[24] = "", c2[24] = "", d[24] = "";
		int n;

		while (isspace((unsigned char)*item))
			item++;
		n = sscanf(item, "%15s %23s %23s %23s %23s", word, a, b, c2, d);
		if (n < 1)
			continue;
		if (!strcmp(word, "nop")) {
			o->raw[o->raw_len++] = TCP_OPT_NOP;
		} else if (!strcmp(word, "mss") && n >= 2) {
			o->have_mss = true;
			o->mss_any = !strcmp(a, "*");
			o->mss = (uint32_t)strtoul(a, NULL, 10);
			o->raw[o->raw_len++] = TCP_OPT_MSS, o->raw[o->raw_len++] = 4;
			net_store_be16(o->raw + o->raw_len, (uint16_t)o->mss), o->raw_len += 2;
		} else if (!strcmp(word, "wscale") && n >= 2) {
			o->have_wscale = true;
			o->wscale_any = !strcmp(a, "*");
			o->wscale = (uint32_t)strtoul(a, NULL, 10);
			o->raw[o->raw_len++] = TCP_OPT_WSCALE, o->raw[o->raw_len++] = 3, o->raw[o->raw_len++] = (uint8_t)o->wscale;
		} else if (!strcmp(word, "sackOK")) {
			o->sack_ok = true;
			o->raw[o->raw_len++] = TCP_OPT_SACK_PERMITTED, o->raw[o->raw_len++] = 2;
		} else if (!strcmp(word, "TS") && n >= 5 && !strcmp(a, "val") && !strcmp(c2, "ecr")) {
			o->have_ts = true;
			o->tsval_any = !strcmp(b, "*");
			o->tsecr_any = !strcmp(d, "*");
			o->tsval_var = b[0] == '$' ? b[1] - '0' : 0;
			o->tsecr_var = d[0] == '$' ? d[1] - '0' : 0;
			o->tsval = o->tsval_var ? r->vars[o->tsval_var % 10] : (uint32_t)strtoul(b, NULL, 10);
			o->tsecr = o->tsecr_var ? r->vars[o->tsecr_var % 10] : (uint32_t)strtoul(d, NULL, 10);
			o->raw[o->raw_len++] = TCP_OPT_TIMESTAMP, o->raw[o->raw_len++] = 10;
			net_store_be32(o->raw + o->raw_len, o->tsval), o->raw_len += 4;
			net_store_be32(o->raw + o->raw_len, o->tsecr), o->raw_len += 4;
		} else if (!strcmp(word, "sack")) {
			char *p = item + 4;
			uint32_t start_len = o->raw_len;

			o->have_sack = true;
			o->raw[o->raw_len++] = TCP_OPT_SACK;
			o->raw[o->raw_len++] = 2;
			while (*p && o->sack_count < 4) {
				unsigned long s1, s2;
				int used;

				while (isspace((unsigned char)*p))
					p++;
				if (sscanf(p, "%lu:%lu%n", &s1, &s2, &used) != 2)
					break;
				p += used;
				o->sack[o->sack_count][0] = (uint32_t)s1;
				o->sack[o->sack_count][1] = (uint32_t)s2;
				o->sack_count++;
				o->raw[start_len + 1] += 8;
				o->raw_len += 8; /* filled in when the ISN is known */
			}
		} else {
			return script_fail(r, "unknown option '%s'", word);
		}
	}
	return true;
}

static uint8_t script_flags(const char *s)
{
	uint8_t f = 0;

	for (; *s; s++)
		switch (*s) {
		case 'S': f |= TCP_FLAG_SYN; break;
		case 'F': f |= TCP_FLAG_FIN; break;
		case 'R': f |= TCP_FLAG_RST; break;
		case 'P': f |= TCP_FLAG_PSH; break;
		case '.': f |= TCP_FLAG_ACK; break;
		default: return 0xff;
		}
	return f;
}

/* Splits "< flags seq ... <opts>" into parts. */
struct script_segment {
	uint8_t flags;
	uint32_t seq, end, len;
	bool have_ack, have_win;
	uint32_t ack, win;
	bool have_opts;
	struct script_opts opts;
};

static bool script_parse_segment(struct script_run *r, char *text, struct script_segment *s)
{
	char *opts = strchr(text, '<'), flags[8];
	unsigned long seq, end, len;
	char *p;
	int used;

	memset(s, 0, sizeof(*s));
	if (opts) {
		char *close = strrchr(opts, '>');
		if (!close)
			return script_fail(r, "unterminated <options>");
		*close = 0;
		*opts++ = 0;
		s->have_opts = true;
		if (!script_parse_opts(r, opts, &s->opts))
			return false;
	}
	if (sscanf(text, "%7s %lu:%lu(%lu)%n", flags, &seq, &end, &len, &used) != 4)
		return script_fail(r, "expected FLAGS SEQ:END(LEN)");
	s->flags = script_flags(flags);
	if (s->flags == 0xff)
		return script_fail(r, "bad flags '%s'", flags);
	s->seq = (uint32_t)seq;
	s->end = (uint32_t)end;
	s->len = (uint32_t)len;
	if (s->end - s->seq != s->len)
		return script_fail(r, "%lu:%lu is not %lu bytes", seq, end, len);
	p = text + used;
	for (;;) {
		char word[8];
		unsigned long v;

		if (sscanf(p, "%7s %lu%n", word, &v, &used) != 2)
			break;
		p += used;
		if (!strcmp(word, "ack"))
			s->have_ack = true, s->ack = (uint32_t)v;
		else if (!strcmp(word, "win"))
			s->have_win = true, s->win = (uint32_t)v;
		else
			return script_fail(r, "unknown field '%s'", word);
	}
	return true;
}

static bool script_inject(struct script_run *r, struct script_segment *s)
{
	uint8_t frame[HARNESS_FRAME_MAX > 70000 ? 70000 : HARNESS_FRAME_MAX];
	uint8_t payload[65536];
	uint32_t seq = SCRIPT_CLIENT_ISN + s->seq, ack = s->have_ack ? r->server_isn + s->ack : 0, len;
	struct ether_header *eth;
	struct tcp_header *th;
	struct ipv4_header *ip;

	if (s->have_ack && !r->server_isn_known && s->ack)
		return script_fail(r, "ack before the server's ISN is known");
	if (s->len > sizeof(payload))
		return script_fail(r, "payload too long");
	for (uint32_t i = 0; i < s->len; i++)
		payload[i] = (uint8_t)('a' + i % 26);
	/* Options are written raw; SACK blocks get the server's ISN added here. */
	len = harness_build_tcp(&r->h, frame, SCRIPT_CLIENT_PORT, 80, s->flags, seq, ack, (uint16_t)(s->have_win ? s->win : 65535),
				NULL, payload, s->len);
	if (s->have_opts && s->opts.raw_len) {
		uint8_t opts[40];
		uint32_t olen = (s->opts.raw_len + 3) & ~3u, off = 0;

		memcpy(opts, s->opts.raw, s->opts.raw_len);
		memset(opts + s->opts.raw_len, TCP_OPT_NOP, olen - s->opts.raw_len);
		/* Fill SACK block values. */
		for (uint32_t i = 0; i < s->opts.raw_len;) {
			uint8_t kind = opts[i];
			if (kind == TCP_OPT_NOP || kind == TCP_OPT_EOL) {
				i++;
				continue;
			}
			if (kind == TCP_OPT_SACK)
				for (uint32_t b = 0; b < s->opts.sack_count; b++) {
					net_store_be32(opts + i + 2 + 8 * b, r->server_isn + s->opts.sack[b][0]);
					net_store_be32(opts + i + 6 + 8 * b, r->server_isn + s->opts.sack[b][1]);
				}
			i += opts[i + 1];
			off = i;
		}
		(void)off;
		len = harness_build_tcp(&r->h, frame, SCRIPT_CLIENT_PORT, 80, s->flags, seq, ack,
					(uint16_t)(s->have_win ? s->win : 65535), NULL, NULL, 0);
		/* Rebuild with the options inserted before the payload. */
		eth = (struct ether_header *)frame;
		(void)eth;
		ip = (struct ipv4_header *)(frame + ETHER_HDR_LEN);
		th = (struct tcp_header *)(ip + 1);
		memcpy((uint8_t *)(th + 1), opts, olen);
		memcpy((uint8_t *)(th + 1) + olen, payload, s->len);
		th->data_offset = (uint8_t)(((20 + olen) / 4) << 4);
		ip->total_length = htons((uint16_t)(20 + 20 + olen + s->len));
		ip->checksum = 0;
		net_store_be16(&ip->checksum, net_csum_fold(net_csum_partial(ip, 20, 0)));
		th->checksum = 0;
		net_store_be16(&th->checksum, net_csum_fold(net_csum_partial(th, 20 + olen + s->len,
			net_csum_pseudo_v4(ip->src, ip->dst, IP_PROTO_TCP, 20 + olen + s->len))));
		len = ETHER_HDR_LEN + 20 + 20 + olen + s->len;
	}
	harness_inject(&r->h, frame, len);
	return true;
}

static bool script_expect(struct script_run *r, struct script_segment *s)
{
	struct harness_segment got;
	struct tcp_segment parsed;
	const struct tcp_header *th;
	uint32_t seq;

	/* Skip frames that are not TCP (ARP). */
	while (r->next_tx < r->h.tx_count && !harness_tx_tcp(&r->h, r->next_tx, &got))
		r->next_tx++;
	if (r->next_tx >= r->h.tx_count)
		return script_fail(r, "expected a segment, the server sent nothing");
	harness_tx_tcp(&r->h, r->next_tx, &got);
	r->next_tx++;
	if (!got.checksum_ok)
		return script_fail(r, "bad checksum on the server's segment");
	if ((s->flags & TCP_FLAG_SYN) && !r->server_isn_known) {
		r->server_isn = got.seq;
		r->server_isn_known = true;
	}
	seq = got.seq - r->server_isn;
	if ((got.flags & ~TCP_FLAG_PSH) != (s->flags & ~TCP_FLAG_PSH))
		return script_fail(r, "flags 0x%02x, expected 0x%02x (seq %u)", got.flags, s->flags, seq);
	if (seq != s->seq || got.payload_len != s->len)
		return script_fail(r, "segment %u:%u(%u), expected %u:%u(%u)", seq, seq + got.payload_len, got.payload_len,
				   s->seq, s->end, s->len);
	if (s->have_ack && got.ack != SCRIPT_CLIENT_ISN + s->ack)
		return script_fail(r, "ack %u, expected %u", got.ack - SCRIPT_CLIENT_ISN, s->ack);
	if (s->have_win && got.window != s->win)
		return script_fail(r, "win %u, expected %u", got.window, s->win);
	if (got.payload_len && !harness_payload_ok(&got, seq - 1))
		return script_fail(r, "payload of %u:%u is not the stream's bytes", seq, seq + got.payload_len);
	if (s->have_opts) {
		const struct script_opts *o = &s->opts;

		th = (const struct tcp_header *)(r->h.tx[r->next_tx - 1].data + ETHER_HDR_LEN + 20);
		parsed.th = th;
		tcp_parse_options(th, &parsed);
		if (o->have_mss && (!parsed.opt_mss || (!o->mss_any && parsed.opt_mss != o->mss)))
			return script_fail(r, "mss %u, expected %u", parsed.opt_mss, o->mss);
		if (o->have_wscale && (parsed.opt_wscale < 0 || (!o->wscale_any && (uint32_t)parsed.opt_wscale != o->wscale)))
			return script_fail(r, "wscale %d, expected %u", parsed.opt_wscale, o->wscale);
		if (!o->have_wscale && parsed.opt_wscale >= 0)
			return script_fail(r, "unexpected wscale option");
		if (o->sack_ok != parsed.opt_sack_permitted)
			return script_fail(r, "sackOK %s", parsed.opt_sack_permitted ? "present" : "missing");
		if (o->have_ts != parsed.opt_timestamp)
			return script_fail(r, "timestamps %s", parsed.opt_timestamp ? "present" : "missing");
		if (o->have_ts && o->tsval_var && !r->var_set[o->tsval_var % 10]) {
			r->vars[o->tsval_var % 10] = parsed.opt_tsval; /* capture */
			r->var_set[o->tsval_var % 10] = true;
		} else if (o->have_ts && !o->tsval_any && parsed.opt_tsval != o->tsval) {
			return script_fail(r, "TS val %u, expected %u", parsed.opt_tsval, o->tsval);
		}
		if (o->have_ts && !o->tsecr_any && parsed.opt_tsecr != o->tsecr)
			return script_fail(r, "TS ecr %u, expected %u", parsed.opt_tsecr, o->tsecr);
	}
	return true;
}

static struct tcp_conn *script_conn(struct script_run *r)
{
	return harness_conn(&r->h, SCRIPT_CLIENT_PORT);
}

static bool script_check(struct script_run *r, const char *text)
{
	char what[64], op[4];
	long long want, have;
	struct tcp_conn *c = script_conn(r);

	if (sscanf(text, "%63s %3s %lld", what, op, &want) != 3) {
		/* "% state NAME" and "% closed" */
		if (sscanf(text, "state %63s", what) == 1) {
			if (!c)
				return script_fail(r, "no connection, expected state %s", what);
			if (strcmp(tcp_state_name((enum tcp_state)c->state), what))
				return script_fail(r, "state %s, expected %s", tcp_state_name((enum tcp_state)c->state), what);
			return true;
		}
		if (!strncmp(text, "closed", 6))
			return c ? script_fail(r, "connection still in %s", tcp_state_name((enum tcp_state)c->state)) : true;
		return script_fail(r, "cannot parse check '%s'", text);
	}
	if (!strcmp(what, "icmp_rc")) {
		have = (int32_t)r->vars[0];
	} else if (!strncmp(what, "counter:", 8)) {
		int id = -1;
		for (int i = 0; i < DP_COUNTER_COUNT; i++)
			if (!strcmp(dp_counter_name((enum dp_counter_id)i), what + 8))
				id = i;
		if (id < 0)
			return script_fail(r, "no counter %s", what + 8);
		have = (long long)r->h.ns.counters.value[id];
	} else {
		if (!c)
			return script_fail(r, "no connection for %s", what);
		if (!strcmp(what, "cwnd")) have = c->cwnd;
		else if (!strcmp(what, "ssthresh")) have = c->ssthresh;
		else if (!strcmp(what, "mss")) have = c->mss;
		else if (!strcmp(what, "in_flight")) have = tcp_in_flight(c);
		else if (!strcmp(what, "lost")) have = c->lost_bytes;
		else if (!strcmp(what, "sacked")) have = c->sacked_bytes;
		else if (!strcmp(what, "snd_wnd")) have = c->snd_wnd;
		else if (!strcmp(what, "recovery")) have = !!(c->flags & TCP_CONN_IN_RECOVERY);
		else if (!strcmp(what, "loss")) have = !!(c->flags & TCP_CONN_IN_LOSS);
		else if (!strcmp(what, "srtt_us")) have = c->srtt_us;
		else if (!strcmp(what, "rto_us")) have = c->rto_us;
		else if (!strcmp(what, "pacing_rate")) have = (long long)c->pacing_rate;
		else if (!strcmp(what, "snd_una")) have = c->snd_una - r->server_isn;
		else if (!strcmp(what, "snd_max")) have = c->snd_max - r->server_isn;
		else if (!strcmp(what, "wscale")) have = (c->flags & TCP_CONN_WSCALE) ? c->snd_wscale : -1;
		else if (!strcmp(what, "sack")) have = !!(c->flags & TCP_CONN_SACK);
		else if (!strcmp(what, "timestamps")) have = !!(c->flags & TCP_CONN_TIMESTAMPS);
		else return script_fail(r, "unknown field %s", what);
	}
	if ((!strcmp(op, "==") && have == want) || (!strcmp(op, "!=") && have != want) ||
	    (!strcmp(op, "<") && have < want) || (!strcmp(op, "<=") && have <= want) ||
	    (!strcmp(op, ">") && have > want) || (!strcmp(op, ">=") && have >= want))
		return true;
	return script_fail(r, "%s is %lld, expected %s %lld", what, have, op, want);
}

static bool script_app(struct script_run *r, const char *text)
{
	struct tcp_conn *c = script_conn(r);
	unsigned long long v;

	if (!c)
		return script_fail(r, "app: no connection");
	if (sscanf(text, "send %llu", &v) == 1)
		tcp_send_extend(&r->h.ns, c, c->stream_end + v);
	else if (!strncmp(text, "close", 5))
		tcp_send_close(&r->h.ns, c);
	else if (sscanf(text, "space %llu", &v) == 1) {
		((struct harness_app *)tcp_conn_app(c))->receive_space = (uint32_t)v;
		tcp_receive_space_changed(&r->h.ns, c);
	} else if (sscanf(text, "rate %llu", &v) == 1)
		tcp_set_max_rate(&r->h.ns, c, v);
	else
		return script_fail(r, "unknown app action '%s'", text);
	harness_run_output(&r->h);
	return true;
}

bool tcp_script_run(const char *name, const char *script, char *err, unsigned err_len)
{
	struct script_run *r = calloc(1, sizeof(*r));
	const char *p = script;
	double t = 0;
	bool ok = true;

	(void)name;
	harness_init(&r->h, 64);
	r->err = err;
	r->err_len = err_len;
	r->start_us = r->last_us = r->h.ns.now_us;
	while (*p && ok) {
		char line[512], *s, *end;
		size_t n = strcspn(p, "\n");
		double at;

		r->line++;
		if (n >= sizeof(line)) {
			ok = script_fail(r, "line too long");
			break;
		}
		memcpy(line, p, n);
		line[n] = 0;
		p += n + (p[n] == '\n');
		s = line;
		while (isspace((unsigned char)*s))
			s++;
		if (!*s || *s == '#')
			continue;
		at = strtod(s + (*s == '+'), &end);
		if (end == s + (*s == '+')) {
			ok = script_fail(r, "expected a time");
			break;
		}
		t = *s == '+' ? t + at : at;
		s = end;
		while (isspace((unsigned char)*s))
			s++;
		script_advance_to(r, r->start_us + (uint64_t)(t * 1e6 + 0.5));
		if (getenv("SLUICE_TCP_TRACE")) {
			/* Everything the server sent up to now, then the line being run. */
			for (uint32_t i = r->next_tx; i < r->h.tx_count; i++) {
				struct harness_segment g;
				if (harness_tx_tcp(&r->h, i, &g))
					fprintf(stderr, "    [%.6f] server: flags 0x%02x %u:%u(%u) ack %u win %u\n",
						(r->h.ns.now_us - r->start_us) / 1e6, g.flags, g.seq - r->server_isn,
						g.seq - r->server_isn + g.payload_len, g.payload_len, g.ack - SCRIPT_CLIENT_ISN,
						g.window);
			}
			fprintf(stderr, "%3d [%.6f] %s\n", r->line, (r->h.ns.now_us - r->start_us) / 1e6, s);
			if (script_conn(r)) {
				struct tcp_conn *tc = script_conn(r);
				fprintf(stderr, "      una %u max %u cwnd %u ssthresh %u flight %u lost %u sacked %u prr %u "
					"flags 0x%x timer %u at %.6f\n", tc->snd_una - r->server_isn, tc->snd_max - r->server_isn,
					tc->cwnd, tc->ssthresh, tcp_in_flight(tc), tc->lost_bytes, tc->sacked_bytes,
					tc->prr_quota, tc->flags, tc->rtx_timer,
					tc->rto_at_us ? (tc->rto_at_us - r->start_us) / 1e6 : 0.0);
			}
		}
		if (*s == '<') {
			struct script_segment seg;
			ok = script_parse_segment(r, s + 1, &seg) && script_inject(r, &seg);
		} else if (*s == '>') {
			s++;
			while (isspace((unsigned char)*s))
				s++;
			if (!strncmp(s, "none", 4)) {
				struct harness_segment got;
				while (r->next_tx < r->h.tx_count && !harness_tx_tcp(&r->h, r->next_tx, &got))
					r->next_tx++;
				if (r->next_tx < r->h.tx_count) {
					harness_tx_tcp(&r->h, r->next_tx, &got);
					ok = script_fail(r, "expected nothing, the server sent flags 0x%02x seq %u len %u",
							 got.flags, got.seq - r->server_isn, got.payload_len);
				}
			} else {
				struct script_segment seg;
				ok = script_parse_segment(r, s, &seg) && script_expect(r, &seg);
			}
		} else if (!strncmp(s, "app ", 4)) {
			ok = script_app(r, s + 4);
		} else if (!strncmp(s, "cc ", 3)) {
			const struct tcp_cc_ops *cc = tcp_cc_find(s + 3);
			if (!cc)
				ok = script_fail(r, "no congestion control '%s'", s + 3);
			else
				r->h.ns.tcp->listeners[0].cc = cc;
		} else if (!strncmp(s, "set ", 4)) {
			char key[32];
			unsigned long v;
			struct tcp_settings *st = &r->h.ns.tcp->settings;

			if (sscanf(s + 4, "%31s %lu", key, &v) != 2)
				ok = script_fail(r, "set KEY VALUE");
			else if (!strcmp(key, "pacing")) st->pacing = v != 0;
			else if (!strcmp(key, "tlp")) st->tlp = v != 0;
			else if (!strcmp(key, "syn_backlog")) st->syn_backlog = (uint32_t)v;
			else if (!strcmp(key, "keepalive_idle_ms")) st->keepalive_idle_us = (uint32_t)v * 1000;
			else if (!strcmp(key, "initial_cwnd")) st->initial_cwnd_segments = (uint32_t)v;
			else ok = script_fail(r, "unknown setting %s", key);
		} else if (!strncmp(s, "icmp-too-big ", 13)) {
			unsigned long mtu, seq;
			struct net_addr remote;

			net_addr_v4(&remote, r->h.client_ip);
			if (sscanf(s + 13, "%lu %lu", &mtu, &seq) != 2)
				ok = script_fail(r, "icmp-too-big MTU SEQ");
			else {
				int rc = tcp_icmp_too_big(&r->h.ns, &remote, htons(SCRIPT_CLIENT_PORT), htons(80),
							  r->server_isn + (uint32_t)seq, (uint32_t)mtu);
				r->vars[0] = (uint32_t)rc;
				harness_run_output(&r->h);
			}
		} else if (*s == '%') {
			ok = script_check(r, s + 1 + strspn(s + 1, " "));
		} else {
			ok = script_fail(r, "unknown line '%s'", s);
		}
	}
	harness_fini(&r->h);
	free(r);
	return ok;
}
