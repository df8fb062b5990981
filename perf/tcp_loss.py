#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""perf/tcp_loss.py: sluice's TCP against the Linux kernel's sender under injected loss (issue 3).

Same bridged lab (scripts/lab with SLUICE_LAB_BRIDGE=1: a router namespace whose bridge port
towards the client drops frames at random with sluice-lossy), same file, same client (curl in
the client namespace, pinned to core 0): sluice-dataplane (af_xdp, CUBIC, one lcore) and nginx
(sendfile, one worker pinned to core 1, the kernel's CUBIC) serve it one after the other, the
data plane stopped while nginx runs (its XDP program owns the veth). For each loss rate and
server it reports the median over the runs of: goodput, time to first byte, and the ratio of
retransmitted bytes to lost bytes (the loss program's dropped bytes towards the client). The
kernel's retransmitted bytes are its RetransSegs counter times the MSS (1448 with timestamps):
the kernel keeps no byte count per connection once it is closed.

  sudo perf/tcp_loss.py [--runs N] [--size-mib M] [--loss 0,1,5] [--out FILE]

Prints a table and one JSON object (also written to --out). No pass/fail: a benchmark.
"""
import argparse, json, os, re, shutil, statistics, subprocess, sys, tempfile, time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("SLUICE_BUILD", os.path.join(TOP, "build"))
INDEX = int(os.environ.get("SLUICE_LAB_INDEX", "6"))
NS, RNS = f"sluice-client-{INDEX}", f"sluice-router-{INDEX}"
EDGE_IF, RC_IF = f"sluice-edge{INDEX}", f"sluice-rc{INDEX}"
EDGE4 = f"198.18.{INDEX}.1"
ENV = dict(os.environ, SLUICE_LAB_INDEX=str(INDEX), SLUICE_LAB_BRIDGE="1", SLUICE_BUILD=BUILD)


def sh(cmd, check=True, **kw):
    return subprocess.run(cmd, shell=True, check=check, text=True, capture_output=True, env=ENV, **kw)


def lab(*args):
    return sh(f"{TOP}/scripts/lab " + " ".join(args))


def kernel_retrans_segs():
    for line in open("/proc/net/snmp"):
        if line.startswith("Tcp:") and "RetransSegs" not in line:
            pass
    lines = [l.split() for l in open("/proc/net/snmp") if l.startswith("Tcp:")]
    return int(lines[1][lines[0].index("RetransSegs")])


def loss_dropped_bytes():
    out = sh(f"{TOP}/scripts/lab loss-stats", check=False).stdout
    try:
        return json.loads(out).get("dropped_bytes", 0)
    except ValueError:
        return 0


def fetch(url):
    r = sh(f"ip netns exec {NS} taskset -c 0 curl -sS -f -m 300 -o /dev/null "
           f"-w '%{{size_download}} %{{time_starttransfer}} %{{time_total}}' {url}", check=False)
    if r.returncode:
        print(f"# fetch {url} failed: {r.stderr.strip()}", file=sys.stderr)
        return None
    size, ttfb, total = r.stdout.split()
    return int(size), float(ttfb), float(total)


class Sluice:
    name = "sluice"

    def __init__(self, store, work):
        self.work, self.proc = work, None
        self.stats = os.path.join(work, "stats")
        huge = "true" if open("/run/sluice/hugepages").read().strip() == "huge" else "false"
        self.conf = os.path.join(work, "edge.conf")
        open(self.conf, "w").write(f"""dataplane = {{
  port = {{ driver = "af_xdp"; iface = "{EDGE_IF}"; queues = 1; }};
  eal = {{ lcores = [1]; main_lcore = 0; hugepages = {huge}; memory_mb = 256; file_prefix = "tcploss{INDEX}"; }};
  net = {{ ipv4 = "{EDGE4}"; ipv6 = "fd5c:{INDEX}::1"; }};
  service = {{ store_root = "{store}"; https_port = 0; }};
  tcp = {{ cc = "cubic"; }};
  api = {{ stats_path = "{self.stats}"; command_socket = "{work}/cmd.sock"; }};
}};
""")

    def start(self):
        self.proc = subprocess.Popen([f"{BUILD}/dataplane/sluice-dataplane", "--config", self.conf],
                                     stdout=open(os.path.join(self.work, "dp.log"), "w"), stderr=subprocess.STDOUT)
        for _ in range(60):
            if sh(f"ip netns exec {NS} curl -s -o /dev/null -m 1 http://{EDGE4}/", check=False).returncode == 0:
                return
            time.sleep(0.5)
        raise RuntimeError("sluice did not start: " + open(os.path.join(self.work, "dp.log")).read()[-2000:])

    def retrans_bytes(self):
        out = sh(f"{BUILD}/dataplane/sluice-stats --path {self.stats} tcp_retransmit_bytes").stdout
        return int(out.split()[1])

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


class Nginx:
    name = "nginx"

    def __init__(self, store, work):
        self.work, self.proc = work, None
        self.conf = os.path.join(work, "nginx.conf")
        open(self.conf, "w").write(f"""worker_processes 1;
worker_cpu_affinity 10;
daemon off;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_timeout 60;
  client_body_temp_path {work}/body;
  proxy_temp_path {work}/proxy;
  fastcgi_temp_path {work}/fastcgi;
  uwsgi_temp_path {work}/uwsgi;
  scgi_temp_path {work}/scgi;
  server {{ listen {EDGE4}:80; root {store}; }}
}}
""")

    def start(self):
        self.proc = subprocess.Popen(["nginx", "-c", self.conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(40):
            if sh(f"ip netns exec {NS} curl -s -o /dev/null -m 1 http://{EDGE4}/", check=False).returncode == 0:
                return
            time.sleep(0.25)
        raise RuntimeError("nginx did not start")

    def retrans_bytes(self):
        return kernel_retrans_segs() * 1448

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--size-mib", type=int, default=32)
    ap.add_argument("--loss", default="0,1,5", help="loss rates in percent")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    if os.geteuid():
        sys.exit("tcp_loss: run as root")
    work = tempfile.mkdtemp(prefix="sluice-tcploss.")
    os.chmod(work, 0o755)  # nginx's workers run unprivileged
    store = os.path.join(work, "store")
    os.makedirs(store)
    with open(os.path.join(store, "file.bin"), "wb") as f:
        f.write(os.urandom(args.size_mib << 20))
    sh(f"{BUILD}/dataplane/sluice-catalog build {store}")
    lab("down")
    lab("up")
    results = {"bench": "tcp_loss", "size_bytes": args.size_mib << 20, "runs": args.runs, "lab_index": INDEX,
               "cells": []}
    try:
        for pct in [float(x) for x in args.loss.split(",")]:
            for server in (Sluice(store, work), Nginx(store, work)):
                if pct > 0:
                    lab("shape", "unlimited", "--loss", str(pct / 100), "--seed", "7")
                else:
                    lab("unshape")
                server.start()
                samples = []
                for _ in range(args.runs):
                    lost0, retx0 = loss_dropped_bytes(), server.retrans_bytes()
                    got = fetch(f"http://{EDGE4}/file.bin")
                    time.sleep(0.3)  # counters published
                    lost, retx = loss_dropped_bytes() - lost0, server.retrans_bytes() - retx0
                    if got:
                        size, ttfb, total = got
                        samples.append({"goodput_mbit": size * 8 / total / 1e6, "ttfb_ms": ttfb * 1000,
                                        "retrans_bytes": retx, "lost_bytes": lost,
                                        "retrans_per_lost": retx / lost if lost else None})
                server.stop()
                med = lambda k: statistics.median([s[k] for s in samples if s[k] is not None]) \
                    if any(s[k] is not None for s in samples) else None
                cell = {"server": server.name, "loss_percent": pct, "completed": len(samples),
                        "goodput_mbit": med("goodput_mbit"), "ttfb_ms": med("ttfb_ms"),
                        "retrans_per_lost": med("retrans_per_lost"), "samples": samples}
                results["cells"].append(cell)
                print(f"{server.name:7s} loss {pct:4.1f}%  goodput {cell['goodput_mbit'] or 0:8.1f} Mbit/s  "
                      f"TTFB {cell['ttfb_ms'] or 0:7.2f} ms  retransmitted/lost "
                      f"{cell['retrans_per_lost'] if cell['retrans_per_lost'] is not None else float('nan'):5.2f}  "
                      f"({len(samples)}/{args.runs} completed)", flush=True)
    finally:
        lab("down")
        shutil.rmtree(work, ignore_errors=True)
    text = json.dumps(results, indent=1)
    if args.out:
        open(args.out, "w").write(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
