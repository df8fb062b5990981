/* SPDX-License-Identifier: BSD-3-Clause
 *
 * test_tcp_scripts.c: the TCP engine against packetdrill-like scripts (tcp_script.h), one per
 * behaviour: handshakes with every option combination, SYN cookies, PAWS, SACK recovery with
 * holes, RACK's reordering window, tail loss probes, RTO backoff and spurious-RTO undo,
 * zero window and persist, keepalive, FIN in every state, PMTU, pacing, congestion control.
 * Virtual time: RTTs are what the scripts say (the handshake below measures 100 ms).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcp_script.h"
#include "test_main.h"

/* Handshake with every option; the server's MSS is 1460, data segments carry 1448 + TS. */
#define HANDSHAKE_ALL                                                                          \
	"0    < S 0:0(0) win 65535 <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7>\n"         \
	"+0   > S. 0:0(0) ack 1 <mss 1460,nop,nop,sackOK,nop,nop,TS val $1 ecr 100,nop,wscale 0>\n" \
	"+0.1 < . 1:1(0) ack 1 win 1000 <nop,nop,TS val 200 ecr $1>\n"                         \
	"+0   % state ESTABLISHED\n"

/* Handshake with SACK and window scaling, no timestamps: segments carry 1460. */
#define HANDSHAKE_SACK                                                                         \
	"0    < S 0:0(0) win 65535 <mss 1460,sackOK,nop,wscale 7>\n"                           \
	"+0   > S. 0:0(0) ack 1 <mss 1460,nop,nop,sackOK,nop,wscale 0>\n"                      \
	"+0.1 < . 1:1(0) ack 1 win 1000\n"

struct script_case {
	const char *name;
	const char *script;
};

static const struct script_case scripts[] = {
	{"handshake: all options", HANDSHAKE_ALL
	 "+0 % mss == 1448\n+0 % wscale == 7\n+0 % sack == 1\n+0 % timestamps == 1\n+0 % snd_wnd == 128000\n"
	 "+0 % srtt_us == 100000\n"},
	{"handshake: no options", "0 < S 0:0(0) win 5000\n+0 > S. 0:0(0) ack 1 <mss 1460>\n"
	 "+0.05 < . 1:1(0) ack 1 win 5000\n+0 % mss == 536\n+0 % wscale == -1\n+0 % sack == 0\n+0 % timestamps == 0\n"},
	{"handshake: SACK only", "0 < S 0:0(0) win 5000 <mss 1400,sackOK>\n"
	 "+0 > S. 0:0(0) ack 1 <mss 1460,nop,nop,sackOK>\n+0.05 < . 1:1(0) ack 1 win 5000\n+0 % mss == 1400\n"
	 "+0 % sack == 1\n"},
	{"handshake: timestamps only", "0 < S 0:0(0) win 5000 <mss 1460,TS val 7 ecr 0>\n"
	 "+0 > S. 0:0(0) ack 1 <mss 1460,nop,nop,TS val * ecr 7>\n+0.05 < . 1:1(0) ack 1 win 5000 <nop,nop,TS val 8 ecr 0>\n"
	 "+0 % timestamps == 1\n+0 % mss == 1448\n"},
	{"handshake: window scale only", "0 < S 0:0(0) win 5000 <mss 1460,nop,wscale 14>\n"
	 "+0 > S. 0:0(0) ack 1 <mss 1460,nop,wscale 0>\n+0.05 < . 1:1(0) ack 1 win 2\n+0 % snd_wnd == 32768\n"},
	{"handshake: SYN-ACK retransmitted, then the ACK", "0 < S 0:0(0) win 5000 <mss 1460>\n"
	 "+0 > S. 0:0(0) ack 1 <mss 1460>\n+0.999 > none\n+0.002 > S. 0:0(0) ack 1 <mss 1460>\n+0.5 < . 1:1(0) ack 1 win 5000\n"
	 "+0 % state ESTABLISHED\n+0 % counter:tcp_syn_ack_retransmits == 1\n"},
	{"handshake: duplicate SYN gets the SYN-ACK again", "0 < S 0:0(0) win 5000 <mss 1460>\n"
	 "+0 > S. 0:0(0) ack 1 <mss 1460>\n+0.1 < S 0:0(0) win 5000 <mss 1460>\n+0 > S. 0:0(0) ack 1\n"},
	{"SYN cookies: stateless SYN-ACK, connection from the ACK, options kept via TS",
	 "0 set syn_backlog 0\n"
	 "+0 < S 0:0(0) win 65535 <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7>\n"
	 "+0 > S. 0:0(0) ack 1 <mss 1460,nop,nop,sackOK,nop,nop,TS val $1 ecr 100,nop,wscale 0>\n"
	 "+0 % counter:tcp_syncookies_sent == 1\n+0 % counter:tcp_conn_active == 0\n"
	 "+0.1 < . 1:1(0) ack 1 win 1000 <nop,nop,TS val 200 ecr $1>\n"
	 "+0 % state ESTABLISHED\n+0 % counter:tcp_syncookies_accepted == 1\n+0 % wscale == 7\n+0 % sack == 1\n"
	 "+0 % mss == 1448\n+0 app send 1448\n+0 > P. 1:1449(1448) ack 1\n"},
	{"SYN cookies: an ACK with a wrong cookie is reset",
	 "0 set syn_backlog 0\n+0 < S 0:0(0) win 65535 <mss 1460>\n+0 > S. 0:0(0) ack 1 <mss 1460>\n"
	 "+0.1 < . 1:1(0) ack 77 win 1000\n+0 > R 77:77(0)\n+0 % closed\n+0 % counter:tcp_syncookies_accepted == 0\n"},
	{"PAWS: an old timestamp is dropped and acknowledged", HANDSHAKE_ALL
	 "+0.1 < P. 1:11(10) ack 1 win 1000 <nop,nop,TS val 300 ecr $1>\n"
	 "+0.05 > . 1:1(0) ack 11\n"
	 "+0.1 < P. 11:21(10) ack 1 win 1000 <nop,nop,TS val 250 ecr $1>\n+0 > . 1:1(0) ack 11\n"
	 "+0 % counter:rx_drop_tcp_paws == 1\n"},
	{"SACK: a hole at the front is retransmitted at once (RACK, 3 SACKed segments)", HANDSHAKE_SACK
	 "+0 app send 14600\n"
	 "+0 > . 1:1461(1460) ack 1\n+0 > . 1461:2921(1460)\n+0 > . 2921:4381(1460)\n+0 > . 4381:5841(1460)\n"
	 "+0 > . 5841:7301(1460)\n+0 > . 7301:8761(1460)\n+0 > . 8761:10221(1460)\n+0 > . 10221:11681(1460)\n"
	 "+0 > . 11681:13141(1460)\n+0 > P. 13141:14601(1460)\n"
	 "+0.1 < . 1:1(0) ack 1 win 1000 <nop,nop,sack 1461:5841>\n"
	 "+0 > . 1:1461(1460) ack 1\n+0 % recovery == 1\n+0 % sacked == 4380\n+0 % counter:tcp_recoveries == 1\n"
	 "+0.1 < . 1:1(0) ack 14601 win 1000\n+0 % recovery == 0\n+0 % in_flight == 0\n"},
	{"SACK: two holes, both repaired in one recovery", HANDSHAKE_SACK
	 "+0 app send 14600\n+0 > . 1:1461(1460)\n+0 > . 1461:2921(1460)\n+0 > . 2921:4381(1460)\n"
	 "+0 > . 4381:5841(1460)\n+0 > . 5841:7301(1460)\n+0 > . 7301:8761(1460)\n+0 > . 8761:10221(1460)\n"
	 "+0 > . 10221:11681(1460)\n+0 > . 11681:13141(1460)\n+0 > P. 13141:14601(1460)\n"
	 "+0.1 < . 1:1(0) ack 1461 win 1000 <nop,nop,sack 2921:5841 7301:14601>\n"
	 "+0 > . 1461:2921(1460)\n+0 > . 5841:7301(1460)\n+0 % lost == 0\n+0 % counter:tcp_lost_bytes_detected == 2920\n"
	 "+0.1 < . 1:1(0) ack 14601 win 1000\n+0 % recovery == 0\n"},
	{"RACK: with little SACKed the reordering window delays loss marking", HANDSHAKE_SACK
	 "+0 app send 4380\n+0 > . 1:1461(1460)\n+0 > . 1461:2921(1460)\n+0 > P. 2921:4381(1460)\n"
	 "+0.1 < . 1:1(0) ack 1 win 1000 <nop,nop,sack 2921:4381>\n+0 > none\n+0 % lost == 0\n"
	 "+0.02 > none\n+0.01 > . 1:1461(1460)\n+0 % recovery == 1\n+0 % lost == 1460\n"
	 "+0 > none\n+0.05 < . 1:1(0) ack 1 win 1000 <nop,nop,sack 2921:4381>\n+0 > . 1461:2921(1460)\n"},
	{"TLP: a lone tail is probed after 2 SRTT, before the RTO", HANDSHAKE_SACK
	 "+0 app send 2920\n+0 > . 1:1461(1460)\n+0 > P. 1461:2921(1460)\n"
	 "+0.19 > none\n+0.02 > . 1461:2921(1460)\n+0 % counter:tcp_tlp_probes == 1\n"
	 "+0 < . 1:1(0) ack 1 win 1000 <nop,nop,sack 1461:2921>\n+0.03 > . 1:1461(1460)\n"},
	{"TLP: new data is the probe when the window allows", HANDSHAKE_SACK
	 "+0 app send 16060\n+0 > . 1:1461(1460)\n+0 > . 1461:2921(1460)\n+0 > . 2921:4381(1460)\n"
	 "+0 > . 4381:5841(1460)\n+0 > . 5841:7301(1460)\n+0 > . 7301:8761(1460)\n+0 > . 8761:10221(1460)\n"
	 "+0 > . 10221:11681(1460)\n+0 > . 11681:13141(1460)\n+0 > . 13141:14601(1460)\n"
	 "+0.19 > none\n+0.02 > P. 14601:16061(1460)\n+0 % counter:tcp_tlp_probes == 1\n"},
	{"RTO: backoff doubles, then the connection is reset", "0 set tlp 0\n" HANDSHAKE_SACK
	 "+0 app send 1460\n+0 > P. 1:1461(1460)\n+0.29 > none\n+0.02 > P. 1:1461(1460)\n"
	 "+0 % counter:tcp_rto_fired == 1\n+0 % loss == 1\n+0 % cwnd == 1460\n+0.59 > none\n+0.02 > P. 1:1461(1460)\n"
	 "+0 % counter:tcp_rto_fired == 2\n+0.5 < . 1:1(0) ack 1461 win 1000\n+0 % loss == 0\n+0 % in_flight == 0\n"},
	{"Eifel: an RTO proven spurious by the echoed timestamp is undone", "0 set tlp 0\n" HANDSHAKE_ALL
	 "+0 app send 11584\n+0 > . 1:1449(1448) <nop,nop,TS val $2 ecr 200>\n+0 > . 1449:2897(1448)\n"
	 "+0 > . 2897:4345(1448)\n+0 > . 4345:5793(1448)\n+0 > . 5793:7241(1448)\n+0 > . 7241:8689(1448)\n"
	 "+0 > . 8689:10137(1448)\n+0 > P. 10137:11585(1448)\n"
	 "+0.31 > . 1:1449(1448)\n+0 % counter:tcp_rto_fired == 1\n+0 % cwnd == 1448\n"
	 "+0.01 < . 1:1(0) ack 11585 win 1000 <nop,nop,TS val 400 ecr $2>\n"
	 "+0 % counter:tcp_spurious_rto_undone == 1\n+0 % cwnd >= 11584\n+0 % loss == 0\n"},
	{"zero window: no data, persist probes with backoff, data once it opens", HANDSHAKE_SACK
	 "+0 < . 1:1(0) ack 1 win 0\n+0 app send 3000\n+0 > none\n"
	 "+0.29 > none\n+0.02 > . 0:0(0) ack 1\n+0 % counter:tcp_persist_probes == 1\n"
	 "+0 < . 1:1(0) ack 1 win 0\n+0.55 > none\n+0.1 > . 0:0(0) ack 1\n"
	 "+0 < . 1:1(0) ack 1 win 30\n+0 > . 1:1461(1460)\n+0 > . 1461:2921(1460)\n+0 > P. 2921:3001(80)\n"},
	{"keepalive: probes after silence, reset after the last unanswered", "0 set keepalive_idle_ms 1000\n" HANDSHAKE_SACK
	 "+0.9 > none\n+0.2 > . 0:0(0) ack 1\n+0 < . 1:1(0) ack 1 win 1000\n+0.9 > none\n+0.2 > . 0:0(0) ack 1\n"
	 "+15 > . 0:0(0) ack 1\n+15 > . 0:0(0) ack 1\n+15 > . 0:0(0) ack 1\n+15 > . 0:0(0) ack 1\n+15 > R. 1:1(0)\n"
	 "+0 % closed\n+0 % counter:tcp_keepalive_timeouts == 1\n"},
	{"FIN: peer closes first (CLOSE_WAIT, LAST_ACK)", HANDSHAKE_SACK
	 "+0 < F. 1:1(0) ack 1 win 1000\n+0 % state CLOSE_WAIT\n+0.04 > . 1:1(0) ack 2\n+0 app send 100\n"
	 "+0 > P. 1:101(100) ack 2\n+0 app close\n+0 > F. 101:101(0) ack 2\n+0 % state LAST_ACK\n"
	 "+0.1 < . 2:2(0) ack 102 win 1000\n+0 % closed\n"},
	{"FIN: we close first (FIN_WAIT_1, FIN_WAIT_2, TIME_WAIT)", HANDSHAKE_SACK
	 "+0 app send 100\n+0 app close\n+0 > P. 1:101(100) ack 1\n+0 > F. 101:101(0) ack 1\n+0 % state FIN_WAIT_1\n"
	 "+0.1 < . 1:1(0) ack 102 win 1000\n+0 % state FIN_WAIT_2\n+0 < F. 1:1(0) ack 102 win 1000\n"
	 "+0 % state TIME_WAIT\n+0.04 > . 102:102(0) ack 2\n+0.5 < F. 1:1(0) ack 102 win 1000\n+0.04 > . 102:102(0) ack 2\n"
	 "+2.1 % closed\n"},
	{"FIN: simultaneous close (CLOSING)", HANDSHAKE_SACK
	 "+0 app close\n+0 > F. 1:1(0) ack 1\n+0.05 < F. 1:1(0) ack 1 win 1000\n+0 % state CLOSING\n"
	 "+0.04 > . 2:2(0) ack 2\n+0.05 < . 2:2(0) ack 2 win 1000\n+0 % state TIME_WAIT\n"},
	{"FIN: our FIN is retransmitted until acknowledged", "0 set tlp 0\n" HANDSHAKE_SACK
	 "+0 app close\n+0 > F. 1:1(0) ack 1\n+0.31 > F. 1:1(0) ack 1\n+0.1 < . 1:1(0) ack 2 win 1000\n+0 % state FIN_WAIT_2\n"},
	{"FIN_WAIT_2 is bounded by fin_timeout", HANDSHAKE_SACK
	 "+0 app close\n+0 > F. 1:1(0) ack 1\n+0.1 < . 1:1(0) ack 2 win 1000\n+29 % state FIN_WAIT_2\n+1.1 > R. 2:2(0)\n+0 % closed\n"},
	{"RST: exact reset closes, in-window reset gets a challenge ACK", HANDSHAKE_SACK
	 "+0 < R 5:5(0) win 0\n+0 > . 1:1(0) ack 1\n+0 % state ESTABLISHED\n+0 < R 1:1(0) win 0\n+0 % closed\n"},
	{"PMTU: a valid too-big message resends in smaller segments", HANDSHAKE_SACK
	 "+0 app send 2920\n+0 > . 1:1461(1460)\n+0 > P. 1461:2921(1460)\n+0.05 icmp-too-big 1280 1\n"
	 "+0 % icmp_rc == 0\n+0 % mss == 1240\n+0 > . 1:1241(1240)\n+0 > . 1241:2481(1240)\n+0 > . 2481:2921(440)\n"
	 "+0 % counter:tcp_pmtu_lowered == 1\n"},
	{"PMTU: a message quoting a sequence not in flight is ignored", HANDSHAKE_SACK
	 "+0 app send 1460\n+0 > P. 1:1461(1460)\n+0.05 icmp-too-big 1280 9999\n+0 % icmp_rc == -22\n+0 % mss == 1460\n"
	 "+0 icmp-too-big 100 1\n+0 % mss == 536\n"},
	{"pacing: bursts spread over the RTT at 2x cwnd/SRTT in slow start", "0 set pacing 1\n" HANDSHAKE_SACK
	 "+0 % pacing_rate == 292000\n+0 app send 14600\n+0 > . 1:1461(1460)\n+0 > . 1461:2921(1460)\n+0 > none\n"
	 "+0.009 > none\n+0.002 > . 2921:4381(1460)\n+0 > . 4381:5841(1460)\n+0 > none\n"},
	{"rate cap: the application's cap wins over congestion control", "0 set pacing 0\n" HANDSHAKE_SACK
	 "+0 app rate 146000\n+0 app send 14600\n+0 > . 1:1461(1460)\n+0 > . 1461:2921(1460)\n+0 > none\n"
	 "+0.019 > none\n+0.002 > . 2921:4381(1460)\n"},
	{"CUBIC: loss reduces cwnd to 0.7x", "0 cc cubic\n" HANDSHAKE_SACK
	 "+0 app send 14600\n+0 > . 1:1461(1460)\n+0 > . 1461:2921(1460)\n+0 > . 2921:4381(1460)\n"
	 "+0 > . 4381:5841(1460)\n+0 > . 5841:7301(1460)\n+0 > . 7301:8761(1460)\n+0 > . 8761:10221(1460)\n"
	 "+0 > . 10221:11681(1460)\n+0 > . 11681:13141(1460)\n+0 > P. 13141:14601(1460)\n"
	 "+0.1 < . 1:1(0) ack 1 win 1000 <nop,nop,sack 1461:14601>\n+0 > . 1:1461(1460)\n+0 % ssthresh == 10220\n"
	 "+0.1 < . 1:1(0) ack 14601 win 1000\n+0 % cwnd >= 10220\n+0 % cwnd <= 11680\n"},
	{"NewReno: loss halves the flight", "0 cc newreno\n" HANDSHAKE_SACK
	 "+0 app send 14600\n+0 > . 1:1461(1460)\n+0 > . 1461:2921(1460)\n+0 > . 2921:4381(1460)\n"
	 "+0 > . 4381:5841(1460)\n+0 > . 5841:7301(1460)\n+0 > . 7301:8761(1460)\n+0 > . 8761:10221(1460)\n"
	 "+0 > . 10221:11681(1460)\n+0 > . 11681:13141(1460)\n+0 > P. 13141:14601(1460)\n"
	 "+0.1 < . 1:1(0) ack 1 win 1000 <nop,nop,sack 1461:14601>\n+0 > . 1:1461(1460)\n+0 % ssthresh == 7300\n"},
	{"BBR: startup paces at 2.885x and grows with delivered bytes", "0 cc bbr\n" HANDSHAKE_SACK
	 "+0 % pacing_rate > 400000\n+0 app send 14600\n+0 > . 1:1461(1460)\n"
	 "+0.1 < . 1:1(0) ack 14601 win 1000\n+0 % cwnd >= 29200\n+0 % pacing_rate > 300000\n"},
	{"D-SACK: a duplicate report widens RACK's window", HANDSHAKE_SACK
	 "+0 app send 1460\n+0 > P. 1:1461(1460)\n+0.1 < . 1:1(0) ack 1461 win 1000\n"
	 "+0 < . 1:1(0) ack 1461 win 1000 <nop,nop,sack 1:1461>\n+0 % counter:tcp_dsack_received == 1\n"},
	{NULL, NULL},
};

static void test_scripts(void)
{
	const char *only = getenv("SLUICE_TCP_SCRIPT"); /* run one script by name prefix */

	for (const struct script_case *c = scripts; c->name; c++) {
		char err[512] = "";

		if (only && strncmp(c->name, only, strlen(only)))
			continue;
		bool ok = tcp_script_run(c->name, c->script, err, sizeof(err));

		TEST_CHECK(ok, "%s: %s", c->name, err);
	}
}

void test_register(void)
{
	static const struct test_case cases[] = {
		{"packetdrill-like scripts", test_scripts},
		{NULL, NULL},
	};
	test_add_suite("tcp_scripts", cases);
}
