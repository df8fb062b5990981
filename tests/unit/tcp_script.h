/* SPDX-License-Identifier: BSD-3-Clause
 *
 * tcp_script.h: packetdrill-like scripts for the TCP engine, run through net_harness with its
 * virtual clock. One line per event:
 *
 *   +0.05 < . 1:1(0) ack 1 win 512 <nop,nop,sack 1461:2921>    inject a client segment
 *   +0    > . 1:1461(1460) ack 1 <nop,nop,TS val * ecr 100>   expect the server's next segment
 *   +0.2  > none                                              expect nothing more by then
 *   +0    app send 100000                                     the application queues bytes
 *   +0    app close | app space N | app rate BYTES_PER_S      other application actions
 *   +0    % cwnd == 14600                                     check a connection field or
 *   +0    % counter:tcp_rto_fired == 1                        a counter (== != < <= > >=)
 *
 * Times are seconds, "+" relative to the previous line, otherwise from the script's start.
 * Sequence numbers are relative: the client's to its ISN, the server's to the ISS learned from
 * its SYN-ACK. Flags: S (SYN), F (FIN), R (RST), P (PSH), "." (ACK). Options: mss N, wscale N,
 * sackOK, TS val N ecr N, nop, sack A:B [C:D ...]; in expectations "*" matches any value and
 * options left out of the line are not checked. Every payload byte the server sends is
 * checked against the harness's stream pattern at its offset. Client port 40000, server 80.
 */
#ifndef SLUICE_TEST_TCP_SCRIPT_H
#define SLUICE_TEST_TCP_SCRIPT_H

#include <stdbool.h>

/* Runs script; on failure returns false with a message naming the line in err. */
bool tcp_script_run(const char *name, const char *script, char *err, unsigned err_len);

#endif /* SLUICE_TEST_TCP_SCRIPT_H */
