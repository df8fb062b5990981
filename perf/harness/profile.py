#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""perf/harness/profile.py: where the server core's cycles go, from a `perf record -g` of it.

   profile.py PERF_DATA [--pids PID,PID...] [--top N]     prints one JSON object

With --pids, only samples of those processes (the server, ksoftirqd of its core) and of the
idle task (softirq run from idle) are classified; samples of anything else that ran on the core
(other people's builds on a shared machine) are counted apart as other_processes_percent.
Every sample is put in the first bucket whose rule matches its call chain (innermost frame
first), so the buckets add up to 100%:

  client_rx        the client's kernel receive path run inline on the server core: veth delivers
                   a frame on the sender's core (process_backlog / __netif_receive_skb), so the
                   client's IP/TCP input, socket wake-ups and its ACKs run where the server sends
  server_rx_xdp    frames towards the edge: veth NAPI, the XDP program, AF_XDP receive copies
  af_xdp_tx        the AF_XDP transmit syscall: skb allocation, copy out of UMEM, veth xmit
  kernel_tcp_tx    the kernel TCP transmit path (nginx): sendfile, tcp_sendmsg, GSO, checksums
  tls_crypto       AES-GCM and other crypto (OpenSSL or intel-ipsec-mb)
  server_user      the server's own user-space code (data plane, nginx) and its libraries
  other_kernel     everything else in the kernel (scheduler, timers, syscalls entry/exit ...)

It also lists the top symbols (self time).
"""
import collections
import json
import re
import subprocess
import sys

RULES = [
    ("client_rx", ("process_backlog", "__netif_receive_skb", "netif_receive_skb")),
    ("server_rx_xdp", ("veth_poll", "xsk_rcv", "__xsk_rcv", "veth_xdp_rcv", "bpf_prog_")),
    ("af_xdp_tx", ("__xsk_generic_xmit", "xsk_generic_xmit", "xsk_sendmsg", "__xsk_sendmsg")),
    ("kernel_tcp_tx", ("tcp_sendmsg", "do_splice", "splice_direct", "tcp_write_xmit", "__tcp_push_pending_frames",
                       "tcp_sendpage", "skb_segment", "__dev_queue_xmit", "tcp_ack")),
]
CRYPTO = re.compile(r"aes|gcm|ghash|AES|GCM|gcm_|ossl_|aesni|IMB|imb_", re.I)


def classify(frames):
    """frames: list of (symbol, dso), innermost first."""
    syms = [s for s, _ in frames]
    for name, keys in RULES:
        if any(any(s.startswith(k) for k in keys) for s in syms):
            return name
    leaf_sym, leaf_dso = frames[0] if frames else ("?", "?")
    if CRYPTO.search(leaf_sym) or "libcrypto" in leaf_dso or "IPSec_MB" in leaf_dso:
        return "tls_crypto"
    if "kernel" not in leaf_dso:
        return "server_user"
    return "other_kernel"


def main():
    path = sys.argv[1]
    top = int(sys.argv[sys.argv.index("--top") + 1]) if "--top" in sys.argv else 15
    pids = None
    if "--pids" in sys.argv:
        pids = {int(x) for x in sys.argv[sys.argv.index("--pids") + 1].split(",") if x} | {0}
    p = subprocess.run(["perf", "script", "-i", path, "-F", "comm,pid,tid,ip,sym,dso"], capture_output=True,
                       text=True)
    buckets, symbols, total, foreign = collections.Counter(), collections.Counter(), 0, 0
    frames = []
    sample_pid = None

    def flush():
        nonlocal total, foreign
        if frames:
            if pids is not None and sample_pid not in pids:
                foreign += 1
                return
            buckets[classify(frames)] += 1
            symbols[f"{frames[0][0]} [{frames[0][1].split('/')[-1]}]"] += 1
            total += 1

    for line in p.stdout.splitlines():
        if not line.strip():
            flush()
            frames = []
            continue
        if line[0] not in " \t":
            flush()
            frames = []
            m = re.search(r"\s(-?\d+)/(-?\d+)\s*$", line)
            sample_pid = int(m.group(1)) if m else None
            continue
        m = re.match(r"\s+[0-9a-f]+\s+(.+?)\s+\((.*)\)\s*$", line)
        if m:
            sym = re.sub(r"\+0x[0-9a-f]+$", "", m.group(1))
            frames.append((sym, m.group(2)))
    flush()
    out = {"samples": total,
           "other_processes_percent": round(100.0 * foreign / (total + foreign), 1) if total + foreign else 0.0,
           "buckets_percent": {k: round(100.0 * v / total, 1) for k, v in buckets.most_common()} if total else {},
           "top_symbols_percent": {k: round(100.0 * v / total, 1) for k, v in symbols.most_common(top)} if total else {}}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
