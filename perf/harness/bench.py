#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""perf/harness/bench.py: sluice against nginx and against the hardware limit (perf/run runs it).

What it does, in order: generates the content (once, kept under /var/lib/sluice), brings up
lab index 1, measures what one core can do per byte (hwlimit), then runs rounds. A round runs
every cell (server x protocol x object x connections) once on sluice and once on nginx; the
two servers never run at the same time (the data plane's XDP program takes the whole veth),
and the order of the two flips every round so that background load drifting over time falls
on both. Each cell of each round is one wrk run with a curl TTFB sampler beside it, and CPU
snapshots around it. The results are medians over rounds with their spread, written as JSON,
gnuplot PNGs and a table. perf/README.md says exactly what is counted; the definitions below
(server_cpu) are the ones it documents.

Everything is torn down on the way out (data plane, nginx, the lab), even on Ctrl-C. Only
processes this script started are ever signalled, by pid.
"""

import argparse
import datetime
import json
import math
import os
import re
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HARNESS = os.path.join(TOP, "perf", "harness")
BUILD = os.environ.get("SLUICE_BUILD", os.path.join(TOP, "build"))
DATAPLANE = os.path.join(BUILD, "dataplane", "sluice-dataplane")
STATS_TOOL = os.path.join(BUILD, "dataplane", "sluice-stats")
CATALOG_TOOL = os.path.join(BUILD, "dataplane", "sluice-catalog")
HWLIMIT = os.path.join(BUILD, "perf-harness", "hwlimit")
LOADGEN = os.path.join(BUILD, "perf-harness", "sluice-loadgen")

CLIENT_CPU = 0          # wrk, curl, the client namespace's work
SERVER_CPU = 1          # the data plane's worker lcore, nginx's only worker
USER_HZ = os.sysconf("SC_CLK_TCK")

SEGMENT_BYTES = 2 * 1024 * 1024
SEGMENTS = 32
BIG_BYTES = 64 * 1024 * 1024
SMALL_BYTES = 16 * 1024
SMALL_FILES = 256
STORE_VERSION = "2"     # bump when the generated content changes
MEMIF_TLS_SAMPLE = 16   # sluice-loadgen --tls: every 16th connection opens every record, checked byte-exact

TTFB_SAMPLERS = 4        # curl processes sharing the TTFB sample rate

# The reference cell: what the quick run measures and what the headline ratios quote.
REFERENCE = {"object": "segment", "connections": 16}

# TLS as the data plane will offer it (tls_handshake.c): TLS 1.3 TLS_AES_128_GCM_SHA256, and
# TLS 1.2 ECDHE-ECDSA-AES128-GCM-SHA256 with the harness's own P-256 certificate. The client
# side is pinned through an OpenSSL configuration file (wrk has no TLS options).
TLS_PROFILES = {
    "https": {"min": "TLSv1.3", "max": "TLSv1.3", "suites": "TLS_AES_128_GCM_SHA256",
              "ciphers": "ECDHE-ECDSA-AES128-GCM-SHA256",
              "curl": ["--tlsv1.3", "--tls-max", "1.3", "--tls13-ciphers", "TLS_AES_128_GCM_SHA256"]},
    "https12": {"min": "TLSv1.2", "max": "TLSv1.2", "suites": "TLS_AES_128_GCM_SHA256",
                "ciphers": "ECDHE-ECDSA-AES128-GCM-SHA256",
                "curl": ["--tlsv1.2", "--tls-max", "1.2", "--ciphers", "ECDHE-ECDSA-AES128-GCM-SHA256"]},
}


class Abort(Exception):
    pass


def log(msg):
    print(f"perf: {msg}", flush=True)


def run(cmd, check=True, timeout=None, env=None, input_text=None):
    """Runs a command, returns (rc, stdout, stderr)."""
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, input=input_text)
    if check and p.returncode != 0:
        raise Abort(f"{' '.join(cmd)} failed ({p.returncode}): {p.stderr.strip() or p.stdout.strip()}")
    return p.returncode, p.stdout, p.stderr


def median(xs):
    xs = [x for x in xs if x is not None and not (isinstance(x, float) and math.isnan(x))]
    return statistics.median(xs) if xs else None


def spread(xs):
    xs = [x for x in xs if x is not None and not (isinstance(x, float) and math.isnan(x))]
    return [min(xs), max(xs)] if xs else None


def percentile(xs, p):
    """Nearest-rank percentile of a list (None when empty)."""
    if not xs:
        return None
    s = sorted(xs)
    k = max(0, min(len(s) - 1, math.ceil(p / 100.0 * len(s)) - 1))
    return s[k]


def fmt(x, digits=2):
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    return f"{x:.{digits}f}"


# --- the lab -----------------------------------------------------------------------------------

class Lab:
    def __init__(self, index):
        self.index = index
        if index == 0:
            self.ns, self.edge_if, self.client_if = "sluice-client", "sluice-edge", "sluice-cl"
            self.edge4, self.client4, self.edge6 = "198.18.0.1", "198.18.0.2", "fd5c::1"
        else:
            self.ns, self.edge_if, self.client_if = f"sluice-client-{index}", f"sluice-edge{index}", f"sluice-cl{index}"
            self.edge4, self.client4, self.edge6 = f"198.18.{index}.1", f"198.18.{index}.2", f"fd5c:{index}::1"

    def script(self, action):
        env = dict(os.environ, SLUICE_LAB_INDEX=str(self.index))
        return run([os.path.join(TOP, "scripts", "lab"), action], env=env, check=(action != "status"))

    def up(self):
        self.script("up")
        # Per-namespace settings of the client only: 4096 keep-alive connections and the
        # TIME_WAIT they leave behind between runs must not run out of ephemeral ports.
        for key, value in (("net.ipv4.ip_local_port_range", "1024 65535"), ("net.ipv4.tcp_tw_reuse", "1")):
            run(["ip", "netns", "exec", self.ns, "sysctl", "-q", "-w", f"{key}={value}"])

    def down(self):
        self.script("down")

    def client(self, cmd):
        """A command in the client namespace, pinned to the client core."""
        return ["ip", "netns", "exec", self.ns, "taskset", "-c", str(CLIENT_CPU)] + cmd

    def xdp_attached(self):
        rc, out, _ = run(["ip", "link", "show", self.edge_if], check=False)
        return rc == 0 and " xdp" in out.replace("\n", " ")

    def detach_xdp(self):
        run(["ip", "link", "set", "dev", self.edge_if, "xdp", "off"], check=False)

    def netdev(self):
        base = f"/sys/class/net/{self.edge_if}/statistics/"
        return {k: int(open(base + k).read()) for k in ("tx_bytes", "tx_packets", "rx_bytes", "rx_packets",
                                                          "rx_dropped", "tx_dropped")}

    def curl(self, args, timeout=15):
        rc, out, _ = run(self.client(["curl", "-s", "-k", "-m", "5"] + args), check=False, timeout=timeout)
        return rc, out

    def listening(self, port):
        """True when something in the root namespace listens on the edge address:port."""
        rc, out, _ = run(["ss", "-Hltn", f"( sport = :{port} )"], check=False)
        return any(len(f) > 3 and f[3] == f"{self.edge4}:{port}" for f in (line.split() for line in out.splitlines()))


# --- CPU accounting ----------------------------------------------------------------------------

def proc_stat():
    """Per-CPU /proc/stat fields in seconds."""
    names = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")
    cpus = {}
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("cpu") and line[3].isdigit():
                fields = line.split()
                cpus[int(fields[0][3:])] = {n: int(v) / USER_HZ for n, v in zip(names, fields[1:9])}
    return cpus


def task_times(path):
    """(utime+stime seconds, on-CPU seconds, run-queue wait seconds) of a task (/proc/PID or
    /proc/PID/task/TID): stat ticks, and the scheduler's own nanosecond clocks (schedstat)."""
    with open(path + "/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    with open(path + "/schedstat") as f:
        run_ns, wait_ns, _ = f.read().split()
    return {"ticks_s": (int(fields[11]) + int(fields[12])) / USER_HZ,
            "exec_s": int(run_ns) / 1e9, "wait_s": int(wait_ns) / 1e9}


def find_kthread(name):
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                if open(f"/proc/{pid}/comm").read().strip() == name:
                    return int(pid)
            except OSError:
                pass
    return None


def kernel_irq_time_accounting():
    """With CONFIG_IRQ_TIME_ACCOUNTING the scheduler leaves softirq time out of the task it
    interrupted; without it (tick accounting, this kernel) that time is part of the task's."""
    try:
        out = subprocess.run(["zcat", "/proc/config.gz"], capture_output=True, text=True).stdout
        return "CONFIG_IRQ_TIME_ACCOUNTING=y" in out
    except OSError:
        return False


def diff(a, b):
    if isinstance(a, dict):
        return {k: diff(a[k], b[k]) for k in a if k in b}
    return b - a


def sort_free_hugepages(hugedir="/dev/hugepages", spare=32):
    """Puts the machine's free 2 MiB hugepages back on the kernel's free list in ascending physical
    order, so that the next DPDK process gets physically adjacent pages: the data plane's af_xdp
    packet pool must be one IOVA-contiguous chunk (DPDK 22.11 runs in IOVA-PA mode here), and
    pages that other DPDK processes allocated and freed leave the free list shuffled. Takes the
    free pages but `spare` for a moment (one file per page, unlinked at once so that the pages go
    back even if this process dies; a shared hugetlbfs mapping reserves its page at mmap time, so
    a page someone else took meanwhile is an error here, never a SIGBUS), reads each page's frame
    number from /proc/self/pagemap, then unmaps them highest first (the free list is last in,
    first out). Returns the number of pages sorted. The real fix is in the data plane:
    --iova-mode=va makes any pool one chunk."""
    import mmap
    page = 2 * 1024 * 1024
    free = int(re.search(r"HugePages_Free:\s+(\d+)", open("/proc/meminfo").read()).group(1))
    held = []
    pagemap = os.open("/proc/self/pagemap", os.O_RDONLY)
    try:
        for i in range(max(0, free - spare)):
            path = os.path.join(hugedir, f"sluice-perf-sort.{os.getpid()}.{i}")
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
            try:
                os.ftruncate(fd, page)
                m = mmap.mmap(fd, page, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
            except (OSError, ValueError):
                break
            finally:
                os.close(fd)
                os.unlink(path)
            m[0] = 1  # fault the page in (reserved at mmap: cannot fail now)
            entry = struct.unpack("Q", os.pread(pagemap, 8, (ctypes_addr(m) // 4096) * 8))[0]
            held.append((entry & ((1 << 55) - 1), i, m))
    finally:
        os.close(pagemap)
        for _, _, m in sorted(held, key=lambda h: (h[0], h[1]), reverse=True):
            m.close()
    return len(held)


def ctypes_addr(m):
    import ctypes
    return ctypes.addressof(ctypes.c_char.from_buffer(m))


# --- servers -----------------------------------------------------------------------------------

class Server:
    name = "?"
    proc = None

    def pids(self):
        """The server's processes (thread groups), for the profile's filter."""
        return [self.proc.pid]

    def terminate(self):
        """SIGTERM, then SIGKILL after 15 s; the process is gone when this returns."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


class Sluice(Server):
    name = "sluice"

    def __init__(self, lab, work, store, cert, key, log_dir):
        self.lab, self.work, self.store, self.cert, self.key = lab, work, store, cert, key
        self.config_path = os.path.join(work, "sluice.conf")
        self.stats_path = os.path.join(work, "sluice-stats")
        self.log_path = os.path.join(log_dir, "sluice-dataplane.log")
        self.hugepages = open("/run/sluice/hugepages").read().strip() == "huge" if os.path.exists(
            "/run/sluice/hugepages") else False
        self.facts = {}
        self.worker_task = None

    def config_text(self, max_connections):
        # HTTPS with the harness's certificate (README: dataplane.tls.*).
        extra = f'tls = {{ certificate_chains = ["{self.cert}"]; certificate_keys = ["{self.key}"]; }};'
        huge = "true" if self.hugepages else "false"
        return f"""# Written by perf/harness/bench.py: the data plane on lab {self.lab.index}, one worker lcore.
dataplane = {{
  port = {{ driver = "af_xdp"; iface = "{self.lab.edge_if}"; queues = 1; }};
  eal = {{ lcores = [{SERVER_CPU}]; main_lcore = {CLIENT_CPU}; hugepages = {huge}; memory_mb = 512;
          file_prefix = "sluice-perf{self.lab.index}"; }};
  net = {{ ipv4 = "{self.lab.edge4}"; ipv6 = "{self.lab.edge6}"; }};
  service = {{ http_port = 80; https_port = 443; store_root = "{self.store}"; max_connections = {max_connections}; }};
  api = {{ stats_path = "{self.stats_path}"; command_socket = "{os.path.join(self.work, 'dataplane.sock')}"; }};
  {extra}
}};
"""

    def start(self, max_connections):
        if self.lab.xdp_attached():
            log(f"an XDP program is attached to {self.lab.edge_if} with no data plane of ours running: detaching it")
            self.lab.detach_xdp()
        for attempt in range(1, 6):
            with open(self.config_path, "w") as f:
                f.write(self.config_text(max_connections))
            log_start = os.path.getsize(self.log_path) if os.path.exists(self.log_path) else 0
            with open(self.log_path, "a") as logf:
                self.proc = subprocess.Popen([DATAPLANE, "--config", self.config_path], stdout=logf,
                                             stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                             start_new_session=True)
            if self.wait_serving():
                break
            self.stop()
            with open(self.log_path) as f:
                f.seek(log_start)
                why = f.read()
            if "memory chunks" not in why or attempt == 5:
                break
            # The packet pool came out of hugepages that are not contiguous (other DPDK
            # processes hold some): af_xdp cannot use it. Pages come and go; try again. Not
            # falling back to hugepages = false: that mode stalls under load (perf/README.md).
            n = sort_free_hugepages()
            log(f"the data plane's packet pool spans several hugepage chunks (attempt {attempt}): "
                f"{n} free hugepages put back in physical order; retrying")
            time.sleep(1 if attempt < 3 else 10)
        if self.proc is None:
            tail = open(self.log_path).read()[-2000:]
            raise Abort(f"the data plane did not start (log {self.log_path}):\n{tail}")
        text = open(self.log_path).read()
        m = re.findall(r"(\d+) connections of (\d+) bytes", text)
        if m:
            self.facts["max_connections"], self.facts["connection_slot_bytes"] = int(m[-1][0]), int(m[-1][1])
        m = re.findall(r"offloads ([a-z0-9 -]+), (\d+) mbufs per packet", text)
        if m:
            self.facts["port_offloads"] = m[-1][0].strip()
        self.facts["hugepages"] = self.hugepages
        self.worker_task = self.find_worker_task()

    def wait_serving(self):
        for _ in range(60):
            if self.proc.poll() is not None:
                return False
            rc, out = self.lab.curl(["-o", "/dev/null", "-w", "%{http_code}", f"http://{self.lab.edge4}/"])
            if out.strip() not in ("", "000"):
                return True
            time.sleep(0.5)
        return False

    def find_worker_task(self):
        pid = self.proc.pid
        for tid in os.listdir(f"/proc/{pid}/task"):
            comm = open(f"/proc/{pid}/task/{tid}/comm").read().strip()
            if comm in (f"rte-worker-{SERVER_CPU}", f"lcore-worker-{SERVER_CPU}"):
                return f"/proc/{pid}/task/{tid}"
        raise Abort("cannot find the data plane's worker lcore thread")

    def stop(self):
        self.terminate()
        if self.lab.xdp_attached():
            self.lab.detach_xdp()

    def stats(self):
        rc, out, err = run([STATS_TOOL, "--path", self.stats_path, "--json"], check=False)
        if not out.strip():
            raise Abort(f"sluice-stats: {err.strip()}")
        counters = json.loads(out)["counters"]
        with open(self.stats_path, "rb") as f:
            head = f.read(80)
        magic, _, header_size = struct.unpack_from("<QII", head, 0)
        if magic != 0x5354415453434C53 or header_size < 80:
            raise Abort("the stats segment has an unknown layout")
        counters["tsc_hz"] = struct.unpack_from("<Q", head, 72)[0]
        return counters

    def snapshot(self):
        return {"stats": self.stats(), "worker": task_times(self.worker_task)}

    def process_cpu(self, before, after, wall_s, cpu_delta, irq_time_accounting):
        """The data plane's own CPU: busy cycles of its lcore (idle polling excluded), scaled by
        the share of the interval its thread actually held the core."""
        s0, s1 = before["stats"], after["stats"]
        tsc_hz = s1["tsc_hz"]
        busy_s = (s1["busy_cycles"] - s0["busy_cycles"]) / tsc_hz
        idle_s = (s1["idle_cycles"] - s0["idle_cycles"]) / tsc_hz
        wait_s = after["worker"]["wait_s"] - before["worker"]["wait_s"]
        oncpu = max(0.0, min(1.0, 1.0 - wait_s / wall_s)) if wall_s > 0 else 1.0
        counters = {k: s1[k] - s0[k] for k in ("tx_bytes", "tx_packets", "rx_packets", "tcp_retransmit_segments",
                                               "tcp_rto_fired", "tcp_fast_retransmits", "tx_queue_full",
                                               "mbuf_alloc_failed", "tcp_conn_opened", "http_requests",
                                               "http_body_bytes", "tcp_conn_table_full")
                    if k in s1 and k in s0}
        return {"process_s": busy_s * oncpu, "busy_cycles_s": busy_s, "idle_cycles_s": idle_s,
                "server_thread_wait_s": wait_s, "server_thread_oncpu_fraction": oncpu,
                "as_briefed_s": busy_s, "counters": counters}

    def active_connections(self):
        try:
            return self.stats().get("tcp_conn_active", 0)
        except Abort:
            return 0


class SluiceMemif(Sluice):
    """The data plane on a memif port with sluice-loadgen as its clients: no kernel in the path.
    Measured only once the data plane accepts `driver = "memif"` (detected, never assumed)."""
    name = "sluice-memif"

    def __init__(self, lab, work, store, cert, key, log_dir):
        super().__init__(lab, work, store, cert, key, log_dir)
        self.socket = os.path.join(work, "memif.sock")
        self.config_path = os.path.join(work, "sluice-memif.conf")
        self.stats_path = os.path.join(work, "sluice-memif-stats")
        self.log_path = os.path.join(log_dir, "sluice-memif-dataplane.log")

    def config_text(self, max_connections):
        text = super().config_text(max_connections)
        text = text.replace(f'driver = "af_xdp"; iface = "{self.lab.edge_if}";',
                            f'driver = "memif"; iface = "{self.socket}";')
        text = text.replace(f'file_prefix = "sluice-perf{self.lab.index}"', f'file_prefix = "sluice-perfm{self.lab.index}"')
        return text.replace("dataplane.sock", "dataplane-memif.sock")

    def supported(self):
        """True when this data plane accepts a memif port (its own config check says so)."""
        with open(self.config_path, "w") as f:
            f.write(self.config_text(16384))
        rc, out, err = run([DATAPLANE, "--check-config", self.config_path], check=False)
        last = (out + err).strip().splitlines()[-1] if (out + err).strip() else ""
        self.support_answer = last.split(" error: ", 1)[-1]
        return rc == 0

    def start(self, max_connections):
        if os.path.exists(self.socket):
            os.unlink(self.socket)
        with open(self.config_path, "w") as f:
            f.write(self.config_text(max_connections))
        # The log is appended run after run: only this start's lines count (an earlier
        # "serving" let the first stats snapshot read the previous data plane's segment).
        log_start = os.path.getsize(self.log_path) if os.path.exists(self.log_path) else 0
        with open(self.log_path, "a") as logf:
            self.proc = subprocess.Popen([DATAPLANE, "--config", self.config_path], stdout=logf,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        for _ in range(60):
            if self.proc.poll() is not None:
                break
            with open(self.log_path) as f:
                f.seek(log_start)
                text = f.read()
            if os.path.exists(self.socket) and "serving" in text:
                m = re.findall(r"(\d+) connections of (\d+) bytes", text)
                if m:
                    self.facts["connection_slot_bytes"] = int(m[-1][1])
                self.worker_task = self.find_worker_task()
                return
            time.sleep(0.5)
        tail = open(self.log_path).read()[-1500:]
        self.stop()
        raise Abort(f"the data plane did not start on memif:\n{tail}")

    def stop(self):
        self.terminate()

    def loadgen(self, paths_file, connections, duration, extra=(), proto="http"):
        # https: TLS 1.3 clients on 443; every 16th connection has each record opened and its
        # bodies compared with the store's files, the others open only response heads.
        if proto == "https":
            extra = ["--tls", "--store", self.store, "--tls-sample", str(MEMIF_TLS_SAMPLE)] + list(extra)
        return [LOADGEN, "--socket", self.socket, "--server-ip", self.lab.edge4,
                "--client-ip", self.lab.edge4.rsplit(".", 1)[0] + ".10", "--connections", str(connections),
                "--paths", paths_file, "--duration", str(duration), "--lcore", str(CLIENT_CPU),
                "--file-prefix", f"sluice-loadgen{self.lab.index}"] + (["--no-huge"] if not self.hugepages else []) \
            + list(extra)


class Nginx(Server):
    name = "nginx"

    def __init__(self, lab, work, store, cert, key, log_dir):
        self.lab, self.store, self.cert, self.key = lab, store, cert, key
        self.dir = os.path.join(work, "nginx")
        os.makedirs(self.dir, exist_ok=True)
        self.conf_path = os.path.join(self.dir, "nginx.conf")
        self.log_path = os.path.join(log_dir, "nginx-error.log")
        self.worker_pid = None
        self.facts = {"version": run(["nginx", "-v"], check=False)[2].strip().split("/")[-1]}

    def config_text(self, max_connections):
        d = self.dir
        return f"""# Written by perf/harness/bench.py: nginx as a video edge would run it, one worker on the
# server core, the same files and the same ports as the data plane.
worker_processes 1;
worker_cpu_affinity {'1' + '0' * SERVER_CPU};
worker_rlimit_nofile {max_connections * 2 + 256};
pid {d}/nginx.pid;
error_log {self.log_path} warn;
daemon off;
events {{ worker_connections {max_connections + 256}; }}
http {{
  access_log off;
  sendfile on; tcp_nopush on; tcp_nodelay on;
  keepalive_timeout 120s; keepalive_requests 1000000;
  open_file_cache max=4096 inactive=120s;
  default_type application/octet-stream;
  client_body_temp_path {d}/body; proxy_temp_path {d}/proxy; fastcgi_temp_path {d}/fastcgi;
  uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;
  ssl_certificate {self.cert}; ssl_certificate_key {self.key};
  ssl_protocols TLSv1.2 TLSv1.3;
  ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256;
  ssl_conf_command Ciphersuites TLS_AES_128_GCM_SHA256;
  ssl_session_cache shared:perf:10m;
  server {{
    listen {self.lab.edge4}:80 backlog=8192;
    listen {self.lab.edge4}:443 ssl backlog=8192;
    root {self.store};
    location = /perf-tls-info {{ return 200 "$ssl_protocol $ssl_cipher\\n"; }}
  }}
}}
"""

    def start(self, max_connections):
        for port in (80, 443):
            if self.lab.listening(port):
                raise Abort(f"something already listens on {self.lab.edge4}:{port}: not ours, not touching it")
        with open(self.conf_path, "w") as f:
            f.write(self.config_text(max_connections))
        rc, out, err = run(["nginx", "-t", "-q", "-p", self.dir, "-c", self.conf_path, "-e", self.log_path], check=False)
        if rc != 0:
            raise Abort(f"nginx -t: {err.strip()}")
        self.proc = subprocess.Popen(["nginx", "-p", self.dir, "-c", self.conf_path, "-e", self.log_path],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        for _ in range(50):
            time.sleep(0.1)
            if self.proc.poll() is not None:
                raise Abort(f"nginx exited: {open(self.log_path).read()[-1500:]}")
            try:
                children = open(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read().split()
            except OSError:
                children = []
            if children:
                self.worker_pid = int(children[0])
                rc, out = self.lab.curl(["-o", "/dev/null", "-w", "%{http_code}", f"http://{self.lab.edge4}/"])
                if out.strip() not in ("", "000"):
                    return
        raise Abort("nginx did not start serving")

    def stop(self):
        self.terminate()
        self.worker_pid = None

    def pids(self):
        return [self.proc.pid, self.worker_pid]

    def snapshot(self):
        return {"worker": task_times(f"/proc/{self.worker_pid}"), "master": task_times(f"/proc/{self.proc.pid}")}

    def process_cpu(self, before, after, wall_s, cpu_delta, irq_time_accounting):
        """nginx's own CPU: its worker's (and idle master's) on-CPU time from the scheduler's
        nanosecond clock. On a kernel without IRQ time accounting that time already holds the
        softirq work run in the worker's context (the veth delivery its sends trigger)."""
        w = diff(before["worker"], after["worker"])
        m = diff(before["master"], after["master"])
        process = w["exec_s"] + m["exec_s"]
        if irq_time_accounting:
            process += cpu_delta[SERVER_CPU]["softirq"] + cpu_delta[SERVER_CPU]["irq"]
        return {"process_s": process, "worker_exec_s": w["exec_s"], "worker_ticks_s": w["ticks_s"],
                "master_exec_s": m["exec_s"], "server_thread_wait_s": w["wait_s"],
                "as_briefed_s": w["ticks_s"] + cpu_delta[SERVER_CPU]["softirq"]}

    def active_connections(self):
        rc, out, _ = run(["ss", "-Htn", "state", "established", f"( sport = :80 or sport = :443 )"], check=False)
        return sum(1 for line in out.splitlines() if self.lab.edge4 in line)


# --- one measurement ---------------------------------------------------------------------------

class Bench:
    def __init__(self, args):
        self.args = args
        self.lab = Lab(args.lab_index)
        self.work = tempfile.mkdtemp(prefix=f"sluice-perf{args.lab_index}.")
        self.irq_time_accounting = kernel_irq_time_accounting()
        self.ksoftirqd = find_kthread(f"ksoftirqd/{SERVER_CPU}")
        self.servers = {}
        self.cells = {}
        self.small_mode = "files"
        self.https = {"sluice": False, "nginx": True}
        self.https_reason = "not probed"
        self.limits = None
        self.ttfb_rate = args.ttfb_rate
        self.sluice_range_answer = None
        self.https_sluice_12 = False
        self.nginx_tls = None
        self.profiles = {}
        self.memory = None
        self.memif = {"available": False, "status": "not probed"}
        self.scale = None

    # content ------------------------------------------------------------------------------
    def make_store(self):
        store = self.args.store
        stamp = os.path.join(store, ".perf-store-version")
        if not (os.path.exists(stamp) and open(stamp).read().strip() == STORE_VERSION):
            log(f"generating content in {store}")
            shutil.rmtree(store, ignore_errors=True)
            os.makedirs(os.path.join(store, "video", "seg"))
            os.makedirs(os.path.join(store, "video", "small"))
            with open("/dev/urandom", "rb") as rnd:
                for i in range(SEGMENTS):
                    with open(os.path.join(store, "video", "seg", f"seg-{i:03d}.m4s"), "wb") as f:
                        f.write(rnd.read(SEGMENT_BYTES))
                with open(os.path.join(store, "video", "movie-64m.mp4"), "wb") as f:
                    for _ in range(BIG_BYTES // (4 << 20)):
                        f.write(rnd.read(4 << 20))
                for i in range(SMALL_FILES):
                    with open(os.path.join(store, "video", "small", f"obj-{i:04d}.bin"), "wb") as f:
                        f.write(rnd.read(SMALL_BYTES))
            run([CATALOG_TOOL, "build", store])
            with open(stamp, "w") as f:
                f.write(STORE_VERSION + "\n")
        # Both servers serve from the page cache: read everything once so neither pays disk.
        for root, _, files in os.walk(store):
            for name in files:
                with open(os.path.join(root, name), "rb") as f:
                    while f.read(1 << 22):
                        pass
        self.paths = {
            "segment": [f"/video/seg/seg-{i:03d}.m4s" for i in range(SEGMENTS)],
            "small": [f"/video/small/obj-{i:04d}.bin" for i in range(SMALL_FILES)],
            "range": ["/video/movie-64m.mp4"],
        }
        for name, paths in self.paths.items():
            with open(os.path.join(self.work, f"paths-{name}.txt"), "w") as f:
                f.write("\n".join(paths) + "\n")

    def make_tls(self):
        self.cert = os.path.join(self.work, "cert.pem")
        self.key = os.path.join(self.work, "key.pem")
        run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", self.key, "-out", self.cert, "-days", "30", "-subj", "/CN=perf.sluice.test",
             "-addext", f"subjectAltName=IP:{self.lab.edge4},DNS:perf.sluice.test"])
        self.openssl_conf = {}
        for proto, p in TLS_PROFILES.items():
            path = os.path.join(self.work, f"openssl-{proto}.cnf")
            with open(path, "w") as f:
                f.write(f"""openssl_conf = perf_conf
[perf_conf]
ssl_conf = perf_ssl
[perf_ssl]
system_default = perf_tls
[perf_tls]
MinProtocol = {p['min']}
MaxProtocol = {p['max']}
CipherString = {p['ciphers']}
Ciphersuites = {p['suites']}
""")
            self.openssl_conf[proto] = path

    def hardware_limits(self):
        src = os.path.join(self.args.store, "video", "movie-64m.mp4")
        reps = []
        for _ in range(3 if not self.args.quick else 2):
            rc, out, _ = run(["taskset", "-c", str(SERVER_CPU), HWLIMIT, src, "1" if not self.args.quick else "0.5"])
            reps.append(json.loads(out))
        best = {k: max(r[k] for r in reps) for k in reps[0] if k.endswith("_gbyte_s")}
        best.update({k: reps[0][k] for k in reps[0] if not k.endswith("_gbyte_s")})
        best["repetitions"] = reps
        best["note"] = ("bytes per second of one core's own CPU time, best of the repetitions (background load "
                        "only slows a ceiling down); source: the 64 MiB store file, mapped; *_hot_*: a 256 KiB source")
        self.limits = best
        log("one core: copy %.2f GB/s, copy+checksum %.2f GB/s, AES-128-GCM %.2f GB/s (ipsec-mb, %s), %.2f GB/s (OpenSSL)"
            % (best["copy_1448_gbyte_s"], best["copy_csum_1448_gbyte_s"], best["aes128gcm_16k_ipsecmb_gbyte_s"],
               best["ipsecmb_arch"], best["aes128gcm_16k_openssl_gbyte_s"]))

    # probes -------------------------------------------------------------------------------
    def probe_sluice(self):
        """Ranges and HTTPS on the data plane decide what is measured."""
        rc, out = self.lab.curl(["-r", f"0-{SMALL_BYTES - 1}", "-o", "/dev/null", "-w", "%{http_code} %{size_download}",
                                 f"http://{self.lab.edge4}{self.paths['range'][0]}"])
        self.sluice_range_answer = out.strip()
        self.small_mode = "range" if out.strip() == f"206 {SMALL_BYTES}" else "files"
        probes = {}
        for proto, p in TLS_PROFILES.items():
            rc, out = self.lab.curl(p["curl"] + ["-o", "/dev/null", "-w", "%{http_code}",
                                                 f"https://{self.lab.edge4}{self.paths['segment'][0]}"])
            probes[proto] = out.strip() == "200"
        self.https["sluice"] = probes["https"]
        self.https_sluice_12 = probes["https12"]
        if self.https["sluice"]:
            self.https_reason = "the data plane answered HTTPS on 443"
        else:
            self.https_reason = "the data plane does not answer HTTPS on 443 (see its log)"
        log(f"sluice: small objects as {self.small_mode} (a Range request got '{self.sluice_range_answer}'), "
            f"HTTPS {'on' if self.https['sluice'] else 'off'}: {self.https_reason}")

    def check_nginx_tls(self, proto):
        """What wrk negotiates with nginx under a TLS profile (nginx reports it on a probe path)."""
        script = os.path.join(self.work, "tls-info.lua")
        with open(script, "w") as f:
            f.write('local printed = false\nfunction response(status, headers, body)\n'
                    '  if not printed then io.write("TLS_INFO " .. body) printed = true end\nend\n')
        env = dict(os.environ, OPENSSL_CONF=self.openssl_conf[proto])
        rc, out, _ = run(self.lab.client(["wrk", "-t1", "-c1", "-d1s", "-s", script,
                                          f"https://{self.lab.edge4}/perf-tls-info"]), env=env, check=False)
        m = re.search(r"TLS_INFO (\S+) (\S+)", out)
        return f"{m.group(1)} {m.group(2)}" if m else "unknown"

    # cells --------------------------------------------------------------------------------
    def cell_list(self):
        conns = self.args.connections
        cells = []
        protos = ["http"] + (["https"] if not self.args.no_https else [])
        for proto in protos:
            for obj in ("segment", "small"):
                for c in conns:
                    cells.append((proto, obj, c))
        if not self.args.quick and not self.args.no_https:
            for obj in ("segment", "small"):
                if REFERENCE["connections"] in conns:
                    cells.append(("https12", obj, REFERENCE["connections"]))
        if self.args.quick:
            cells = [(p, o, c) for (p, o, c) in cells if o == REFERENCE["object"]]
        return cells

    def duration_for(self, obj, conns):
        d = self.args.duration
        if conns >= 1024 and not self.args.quick:
            # thousands of connections: their handshakes and a first round of responses
            # take seconds before the steady state this measures
            d = max(d, self.args.long_duration)
        return d

    def wait_quiet(self, server):
        for _ in range(50):
            if server.active_connections() <= 2:
                return
            time.sleep(0.2)

    def measure(self, server, proto, obj, conns):
        scheme = "http" if proto == "http" else "https"
        small_obj = "range" if (obj == "small" and self.small_mode == "range") else obj
        paths_file = os.path.join(self.work, f"paths-{small_obj}.txt")
        duration = self.duration_for(obj, conns)
        env = dict(os.environ, PERF_PATHS=paths_file,
                   PERF_RANGE=str(SMALL_BYTES if small_obj == "range" else 0), PERF_RANGE_SPAN=str(BIG_BYTES))
        if proto != "http":
            env["OPENSSL_CONF"] = self.openssl_conf[proto]
        url = f"{scheme}://{self.lab.edge4}/"
        timeout_s = max(10, duration * 3)
        wrk_cmd = self.lab.client(["sh", "-c", f'ulimit -n {self.nofile}; exec wrk -t1 -c{conns} -d{duration}s '
                                   f'--timeout {timeout_s}s -s {HARNESS}/wrk.lua {url}'])
        # TTFB samplers: a fresh connection per sample, aborted at the first byte of the response
        # (--max-filesize 1), at a fixed total rate for the wrk run's duration. Several curls
        # share the rate so that one sample stuck behind a lost SYN does not stop the others.
        plist = self.paths[small_obj]
        per_sampler = max(1, int(self.ttfb_rate * max(1, duration - 1)) // TTFB_SAMPLERS)
        curl_tls = TLS_PROFILES[proto]["curl"] if proto != "http" else []
        range_args = ["-r", f"0-{SMALL_BYTES - 1}"] if small_obj == "range" else []
        sampler_cmds = []
        for k in range(TTFB_SAMPLERS):
            conf = os.path.join(self.work, f"ttfb-{k}.curl")
            with open(conf, "w") as f:
                for i in range(per_sampler):
                    path = plist[(i * TTFB_SAMPLERS + k) % len(plist)]
                    f.write(f'url = "{scheme}://{self.lab.edge4}{path}"\noutput = "/dev/null"\n')
            sampler_cmds.append(self.lab.client(
                ["stdbuf", "-oL", "curl", "-s", "-k", "--max-filesize", "1", "-m", "30",
                 "--rate", f"{max(1, self.ttfb_rate // TTFB_SAMPLERS)}/s", "-w",
                 "%{http_code} %{time_connect} %{time_appconnect} %{time_pretransfer} %{time_starttransfer}\\n"]
                + curl_tls + range_args + ["-K", conf]))

        self.wait_quiet(server)
        t0 = time.monotonic()
        cpu0 = proc_stat()
        net0 = self.lab.netdev()
        ks0 = task_times(f"/proc/{self.ksoftirqd}") if self.ksoftirqd else None
        snap0 = server.snapshot()
        wrk = subprocess.Popen(wrk_cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        time.sleep(0.3)  # let wrk open its connections first: the samplers measure a loaded server
        outputs = [tempfile.TemporaryFile(mode="w+") for _ in sampler_cmds]
        samplers = [subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL, text=True)
                    for cmd, out in zip(sampler_cmds, outputs)]
        try:
            wrk_out, wrk_err = wrk.communicate(timeout=duration + timeout_s + 30)
        except subprocess.TimeoutExpired:
            wrk.kill()
            wrk_out, wrk_err = wrk.communicate()
        snap1 = server.snapshot()
        ks1 = task_times(f"/proc/{self.ksoftirqd}") if self.ksoftirqd else None
        net1 = self.lab.netdev()
        cpu1 = proc_stat()
        wall = time.monotonic() - t0
        sampler_out = ""
        for sampler, out in zip(samplers, outputs):
            if sampler.poll() is None:
                sampler.send_signal(signal.SIGTERM)
            try:
                sampler.wait(timeout=10)
            except subprocess.TimeoutExpired:
                sampler.kill()
                sampler.wait()
            out.seek(0)
            sampler_out += out.read()
            out.close()

        m = re.search(r"^WRK_JSON (.*)$", wrk_out, re.M)
        if not m:
            raise Abort(f"wrk gave no summary ({server.name} {proto} {obj} c{conns}): {wrk_err.strip()[-400:]} "
                        f"{wrk_out.strip()[-400:]}")
        w = json.loads(m.group(1))
        ttfb, ttfb_req, connect = [], [], []
        for line in sampler_out.splitlines():
            f = line.split()
            if len(f) == 5 and f[0] in ("200", "206"):
                connect.append(float(f[1]) * 1e3)
                ttfb.append(float(f[4]) * 1e3)
                ttfb_req.append((float(f[4]) - float(f[3])) * 1e3)
        cpu_delta = diff(cpu0, cpu1)
        proc = server.process_cpu(snap0, snap1, wall, cpu_delta, self.irq_time_accounting)
        ksoft = diff(ks0, ks1)["exec_s"] if ks0 and ks1 else 0.0
        client_core_softirq = cpu_delta[CLIENT_CPU]["softirq"] + cpu_delta[CLIENT_CPU]["irq"]
        server_cpu = proc["process_s"] + ksoft + client_core_softirq
        secs = w["duration_us"] / 1e6
        gbytes = w["bytes"] / 1e9
        net = diff(net0, net1)
        result = {
            "duration_s": secs, "window_s": wall, "requests": w["requests"], "bytes": w["bytes"],
            "errors": w["errors"],
            "gbit_s": w["bytes"] * 8 / 1e9 / secs, "req_s": w["requests"] / secs,
            "ttlb_ms": {k: v / 1e3 for k, v in w["latency_us"].items()},
            "ttfb_samples_ms": [round(x, 3) for x in ttfb],
            "ttfb_request_samples_ms": [round(x, 3) for x in ttfb_req],
            "connect_ms_p50": percentile(connect, 50),
            "cpu": {
                "server_cpu_s": server_cpu,
                "server_core_s": proc["process_s"] + ksoft,
                "process_s": proc["process_s"],
                "ksoftirqd_server_core_s": ksoft,
                "softirq_client_core_s": client_core_softirq,
                "softirq_server_core_s": cpu_delta[SERVER_CPU]["softirq"],
                "as_briefed_s": proc["as_briefed_s"],
                "server_thread_wait_s": proc["server_thread_wait_s"],
                "proc_stat_delta_s": cpu_delta,
                "detail": {k: v for k, v in proc.items() if k not in ("process_s", "as_briefed_s",
                                                                      "server_thread_wait_s")},
            },
            "server_cpu_s_per_gb": server_cpu / gbytes if gbytes > 0 else None,
            "server_core_s_per_gb": (proc["process_s"] + ksoft) / gbytes if gbytes > 0 else None,
            "as_briefed_s_per_gb": proc["as_briefed_s"] / gbytes if gbytes > 0 else None,
            "process_gbyte_per_cpu_s": gbytes / proc["process_s"] if proc["process_s"] > 0 else None,
            "edge_veth": net,
        }
        return result

    def profile(self, server):
        """One extra, unmeasured run of the reference cell (plain HTTP) under `perf record -g` of
        the server core, classified by perf/harness/profile.py."""
        data = os.path.join(self.work, f"perf-{server.name}.data")
        duration = 8
        env = dict(os.environ, PERF_PATHS=os.path.join(self.work, f"paths-{REFERENCE['object']}.txt"))
        wrk = subprocess.Popen(self.lab.client(["wrk", "-t1", f"-c{REFERENCE['connections']}", f"-d{duration}s",
                                                "-s", f"{HARNESS}/wrk.lua", f"http://{self.lab.edge4}/"]),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        time.sleep(1.5)
        rc, _, err = run(["perf", "record", "-q", "-o", data, "-C", str(SERVER_CPU), "-g", "--", "sleep",
                          str(duration - 3)], check=False)
        wrk.wait()
        if rc != 0:
            log(f"perf record failed: {err.strip()[:200]}")
            return None
        pids = server.pids() + ([self.ksoftirqd] if self.ksoftirqd else [])
        rc, out, err = run(["/usr/bin/python3", os.path.join(HARNESS, "profile.py"), data,
                            "--pids", ",".join(map(str, pids))], check=False)
        if rc != 0:
            return None
        prof = json.loads(out)
        prof["cell"] = f"http {REFERENCE['object']} c={REFERENCE['connections']}, perf record -g -C {SERVER_CPU}"
        log(f"  {server.name} profile of the server core: " +
            ", ".join(f"{k} {v}%" for k, v in prof["buckets_percent"].items()) +
            f" (other processes took {prof['other_processes_percent']}% of the core's samples)")
        return prof

    def memory_probe(self):
        """What a connection costs in memory: the data plane reserves its tables at start, so
        two starts with different max_connections give the bytes reserved per connection
        (address space, everything allocated per connection), beside the log's slot size."""
        sluice = self.servers["sluice"]
        sizes = {}
        for n in (16384, 131072):
            sluice.start(n)
            status = open(f"/proc/{sluice.proc.pid}/status").read()
            sizes[n] = {k: int(re.search(rf"^{k}:\s+(\d+) kB", status, re.M).group(1)) * 1024
                        for k in ("VmSize", "VmRSS")}
            sizes[n]["slot_bytes"] = sluice.facts.get("connection_slot_bytes")
            sluice.stop()
        (a, sa), (b, sb) = sorted(sizes.items())
        self.memory = {
            "log_connection_slot_bytes": sb["slot_bytes"],
            "reserved_bytes_per_connection": (sb["VmSize"] - sa["VmSize"]) / (b - a),
            "resident_bytes_per_connection_at_start": (sb["VmRSS"] - sa["VmRSS"]) / (b - a),
            "starts": {str(k): v for k, v in sizes.items()},
            "note": "reserved = address space the data plane maps per configured connection (TCP slot, "
                    "hash bucket, HTTP request/head buffers and send items); pages are touched only "
                    "as connections use them. The log line's figure is the TCP slot alone.",
        }
        log(f"sluice memory: {self.memory['reserved_bytes_per_connection']:.0f} bytes reserved per configured "
            f"connection (the log says {sb['slot_bytes']}-byte connection slots)")

    def measure_memif(self, server, obj, conns, proto="http"):
        """One loadgen run against the data plane on memif: the data plane's busy cycles per GB
        with no kernel anywhere in the path (the loadgen holds the client core). https: the
        loadgen's TLS clients (bytes are plaintext bytes; sampled responses checked byte-exact)."""
        paths_file = os.path.join(self.work, f"paths-{obj}.txt")
        duration = self.duration_for(obj, conns)
        # A fresh data plane per run, stopped before the loadgen disconnects (see loadgen.c).
        server.start(self.max_connections)
        try:
            t0 = time.monotonic()
            snap0 = server.snapshot()
            lgp = subprocess.Popen(server.loadgen(paths_file, conns, duration, ["--wait-stdin"], proto),
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                   text=True)
            line = lgp.stdout.readline()
            snap1 = server.snapshot()
            wall = time.monotonic() - t0
        finally:
            server.stop()
            if "lgp" in locals():
                lgp.stdin.close()
                try:
                    lgp.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    lgp.kill()
                    lgp.wait()
        try:
            lg = json.loads(line)
        except ValueError:
            raise Abort(f"sluice-loadgen gave no summary ({proto} {obj} c{conns})")
        proc = server.process_cpu(snap0, snap1, wall, None, False)
        gbytes = lg["bytes"] / 1e9
        errors = {"syn_retransmits": lg["syn_retransmits"], "request_retransmits": lg["request_retransmits"],
                  "resets": lg["resets_received"], "status": lg["bad_status"]}
        if "tls" in lg:
            errors.update({"tls_handshakes_failed": lg["tls"]["handshakes_failed"],
                           "tls_sampled_mismatched": lg["tls"]["sampled_responses_mismatched"],
                           "tls_open_failures": lg["tls"]["open_failures"],
                           "tls_bad_records": lg["tls"]["bad_records"]})
        return {
            "duration_s": lg["seconds"], "window_s": wall, "requests": lg["responses"], "bytes": lg["bytes"],
            "errors": errors,
            "gbit_s": lg["gbit_s"], "req_s": lg["req_s"],
            "ttlb_ms": {"p50": lg["ttlb_us"]["p50"] / 1e3, "p99": lg["ttlb_us"]["p99"] / 1e3},
            "ttfb_samples_ms": [], "ttfb_request_samples_ms": [],
            "ttfb_loadgen_ms": {"p50": lg["ttfb_us"]["p50"] / 1e3, "p99": lg["ttfb_us"]["p99"] / 1e3,
                                "count": lg["ttfb_us"]["count"]},
            "cpu": {"server_cpu_s": proc["process_s"], "server_core_s": proc["process_s"],
                    "process_s": proc["process_s"], "ksoftirqd_server_core_s": 0.0, "softirq_client_core_s": 0.0,
                    "as_briefed_s": proc["as_briefed_s"], "server_thread_wait_s": proc["server_thread_wait_s"],
                    "detail": {k: v for k, v in proc.items() if k not in ("process_s", "as_briefed_s")}},
            "server_cpu_s_per_gb": proc["process_s"] / gbytes if gbytes > 0 else None,
            "server_core_s_per_gb": proc["process_s"] / gbytes if gbytes > 0 else None,
            "as_briefed_s_per_gb": proc["as_briefed_s"] / gbytes if gbytes > 0 else None,
            "process_gbyte_per_cpu_s": gbytes / proc["process_s"] if proc["process_s"] > 0 else None,
            "loadgen": lg,
        }

    SCALE_STEPS = (1000, 10000, 100000, 1000000)
    SCALE_ACTIVE = 16
    SCALE_ACTIVE_S = 8
    SCALE_OPEN_RATE = 50000

    def scale_steps(self, largest):
        """The idle populations measured: 1k, 10k, 100k, 1M, none above `largest`, and `largest`
        itself (a full run: args.scale, default 1000000)."""
        steps = [n for n in self.SCALE_STEPS if n < largest] + [largest]
        return sorted(set(steps))

    def scale_step(self, server, idle):
        """One step of the scale test over memif, on a fresh data plane sized for it: `idle`
        connections open at 50k/s, each sends one HEAD and is held; once they are established,
        16 active connections download 2 MiB segments (keep-alive, round robin) for 8 s. The data
        plane's established count and resident memory are sampled throughout; its busy cycles
        are read when the active connections start and when the loadgen's summary arrives."""
        import threading
        active, rate, seconds = self.SCALE_ACTIVE, self.SCALE_OPEN_RATE, self.SCALE_ACTIVE_S
        timeout = idle / rate + 5 + seconds + 60

        def rss():
            status = open(f"/proc/{server.proc.pid}/status").read()
            return int(re.search(r"^VmRSS:\s+(\d+) kB", status, re.M).group(1)) * 1024

        server.start(idle + active + 1024)
        marks = {}
        try:
            rss_start = rss()
            lg = subprocess.Popen(server.loadgen(os.path.join(self.work, "paths-segment.txt"), idle + active, seconds,
                                                 ["--open-rate", str(rate), "--idle", str(idle), "--wait-stdin"]),
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

            def watch_stderr():
                # The loadgen says when the idle population is in place and the active
                # connections start: the measured window opens there.
                for line in lg.stderr:
                    if "active connections start" in line and "snap" not in marks:
                        try:
                            marks["rss_idle"] = rss()
                            marks["snap"] = server.snapshot()
                            marks["t"] = time.monotonic()
                        except (Abort, OSError, AttributeError):
                            pass
            reader = threading.Thread(target=watch_stderr, daemon=True)
            reader.start()
            os.set_blocking(lg.stdout.fileno(), False)
            peak_est, peak_rss, out, snap1, t1 = 0, rss_start, "", None, None
            t0 = time.monotonic()
            while lg.poll() is None and time.monotonic() - t0 < timeout:
                time.sleep(0.25)
                try:
                    out += os.read(lg.stdout.fileno(), 65536).decode()
                except BlockingIOError:
                    pass
                if out.endswith("\n"):
                    snap1, t1 = server.snapshot(), time.monotonic()
                    break
                try:
                    est = server.stats().get("tcp_conn_established", 0)
                    peak_est, peak_rss = max(peak_est, est), max(peak_rss, rss())
                except (Abort, OSError, AttributeError):
                    continue
            summary = json.loads(out.strip().splitlines()[-1]) if out.strip() else {}
        finally:
            server.stop()
            if "lg" in locals():
                lg.stdin.close()
                try:
                    lg.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    lg.kill()
                    lg.wait()
        if not summary or "snap" not in marks or snap1 is None:
            raise Abort(f"scale step {idle}: the loadgen gave no summary or never started its active connections")
        proc = server.process_cpu(marks["snap"], snap1, t1 - marks["t"], None, False)
        gbytes = summary["bytes"] / 1e9
        idle_est = summary["idle_established"]
        rss_idle = marks["rss_idle"]
        step = {
            "idle": idle, "active": active, "open_rate_per_s": rate, "idle_established": idle_est,
            "idle_held": summary.get("idle_held"),
            "idle_phase_s": summary["idle_phase_s"], "dataplane_established_peak": peak_est,
            "max_connections": idle + active + 1024,
            "rss_start_bytes": rss_start, "rss_idle_bytes": rss_idle, "rss_peak_bytes": peak_rss,
            "resident_bytes_per_idle_connection": (rss_idle - rss_start) / idle_est if idle_est else None,
            "gbit_s": summary["gbit_s"], "req_s": summary["req_s"], "responses": summary["responses"],
            "window_s": summary["seconds"],
            "server_cpu_s_per_gb": proc["process_s"] / gbytes if gbytes > 0 else None,
            "busy_lcore_s": proc["process_s"],
            "ttfb_ms": {"p50": summary["ttfb_us"]["p50"] / 1e3, "p99": summary["ttfb_us"]["p99"] / 1e3},
            "ttlb_ms": {"p50": summary["ttlb_us"]["p50"] / 1e3, "p99": summary["ttlb_us"]["p99"] / 1e3},
            "errors": {"syn_retransmits": summary["syn_retransmits"],
                       "request_retransmits": summary["request_retransmits"],
                       "resets": summary["resets_received"], "status": summary["bad_status"]},
            "cpu_detail": {k: v for k, v in proc.items() if k != "process_s"},
            "loadgen": summary,
        }
        log(f"scale: {idle_est} of {idle} idle connections established in {summary['idle_phase_s']:.1f} s, "
            f"RSS {rss_idle / 2**20:.0f} MiB ({fmt(step['resident_bytes_per_idle_connection'], 0)} B each); "
            f"{active} active {step['gbit_s']:.2f} Gb/s, cpu {fmt(step['server_cpu_s_per_gb'], 3)} s/GB")
        return step

    def scale_test(self, server, connections):
        """Established connections from 1k to `connections` (emulated, memif): a step per idle
        population (scale_step), then each step against the 1k step (issue 8's target: 1M
        established per lcore, at most 1 KiB each, throughput within 10 % of the 1k case)."""
        steps = []
        for idle in self.scale_steps(connections):
            try:
                steps.append(self.scale_step(server, idle))
            except Abort as e:
                log(f"scale: {e}")
                steps.append({"idle": idle, "error": str(e)})
        base = next((s for s in steps if "error" not in s), None)
        for s in steps:
            if "error" in s or base is None:
                continue
            s["gbit_s_over_first"] = ratio(s["gbit_s"], base["gbit_s"])
            # What one more connection costs: RSS with the idle population in place against the
            # first step's, over the connections added. Unlike resident_bytes_per_idle_connection
            # this includes what the data plane touches at start for a table sized for them.
            s["resident_bytes_per_connection_over_first"] = ratio(
                s["rss_idle_bytes"] - base["rss_idle_bytes"], s["idle_established"] - base["idle_established"])
            s["server_cpu_s_per_gb_over_first"] = ratio(s["server_cpu_s_per_gb"], base["server_cpu_s_per_gb"])
        top = next((s for s in reversed(steps) if "error" not in s), None)
        summary = None
        if top is not None:
            per_conn = top.get("resident_bytes_per_connection_over_first")
            summary = {
                "first_step_idle": base["idle"], "largest_step_idle": top["idle"],
                "idle_established": top["idle_established"],
                "resident_bytes_per_connection_over_first": per_conn,
                "resident_bytes_per_idle_connection": top["resident_bytes_per_idle_connection"],
                "rss_idle_bytes": top["rss_idle_bytes"],
                "gbit_s_largest_over_first": top.get("gbit_s_over_first"),
                "target": "1M established per lcore, <= 1 KiB each, Gb/s within 10 % of the 1k step",
                "meets_target": bool(top["idle"] >= 1000000 and top["idle_established"] >= top["idle"]
                                     and per_conn is not None and per_conn <= 1024
                                     and (top.get("gbit_s_over_first") or 0) >= 0.9),
            }
        return {"steps": steps, "summary": summary,
                "note": "each step: a fresh data plane with max_connections = idle + 16 + 1024; RSS = VmRSS of the "
                        "data plane (rss_idle when the idle population is in place, before the active downloads); "
                        "resident bytes per idle connection = (rss_idle - rss_start) / idle established (what the connections "
                        "touch beyond the data plane's start); resident bytes per connection over first = (rss_idle - "
                        "the first step's rss_idle) / (idle established - the first step's), the marginal cost "
                        "including the tables sized for them, which the target is judged on; Gb/s, "
                        "s/GB and TTFB/TTLB count the 16 active connections only (sluice-loadgen --idle)"}

    def phase_memif(self, server, round_no):
        log(f"round {round_no}: {server.name} (sluice-loadgen on the client core)")
        for proto, obj, conns in self.cells_to_run:
            if proto not in ("http", "https"):
                continue
            r = self.measure_memif(server, obj, conns, proto)
            r["round"] = round_no
            self.cells.setdefault((server.name, proto, obj, conns), []).append(r)
            tls = r["loadgen"].get("tls")
            log(f"  {server.name} {proto:7} {obj:7} c={conns:<5} {r['gbit_s']:6.2f} Gb/s {r['req_s']:9.1f} req/s "
                f"cpu {fmt(r['server_cpu_s_per_gb'], 3)} s/GB, ttfb p50 {fmt(r['ttfb_loadgen_ms']['p50'])} ms"
                + (f", handshakes {tls['handshakes_completed']} ok {tls['handshakes_failed']} failed, sampled "
                   f"responses {tls['sampled_responses_verified']} verified {tls['sampled_responses_mismatched']} "
                   f"mismatched" if tls else ""))
        if self.args.scale and self.scale is None:
            self.scale = self.scale_test(server, self.args.scale)

    # a phase: one server, every cell ------------------------------------------------------
    def phase(self, server, round_no):
        log(f"round {round_no}: {server.name}")
        server.start(self.max_connections)
        try:
            if server.name == "sluice" and self.sluice_range_answer is None:
                self.probe_sluice()
            if server.name == "nginx" and self.nginx_tls is None:
                self.nginx_tls = {p: self.check_nginx_tls(p) for p in TLS_PROFILES}
                log(f"nginx: wrk negotiates {self.nginx_tls}")
            # warm-up, not measured: caches, ARP, nginx's open-file cache, TLS session caches
            run(self.lab.client(["wrk", "-t1", "-c16", "-d2s", "-s", f"{HARNESS}/wrk.lua", f"http://{self.lab.edge4}/"]),
                env=dict(os.environ, PERF_PATHS=os.path.join(self.work, "paths-segment.txt")), check=False)
            for proto, obj, conns in self.cells_to_run:
                if proto != "http" and not self.https[server.name]:
                    continue
                if proto == "https12" and server.name == "sluice" and not self.https_sluice_12:
                    continue
                key = (server.name, proto, obj, conns)
                r = self.measure(server, proto, obj, conns)
                r["round"] = round_no
                self.cells.setdefault(key, []).append(r)
                log(f"  {server.name:6} {proto:7} {obj:7} c={conns:<5} {r['gbit_s']:6.2f} Gb/s {r['req_s']:9.1f} req/s "
                    f"cpu {fmt(r['server_cpu_s_per_gb'], 3)} s/GB, ttfb p50 {fmt(percentile(r['ttfb_samples_ms'], 50))} ms"
                    f" (n={len(r['ttfb_samples_ms'])}), errors {sum(r['errors'].values())}")
            if self.args.profile and server.name not in self.profiles:
                self.profiles[server.name] = self.profile(server)
        finally:
            server.stop()

    # main ---------------------------------------------------------------------------------
    def execute(self):
        args = self.args
        log(f"work directory {self.work}; lab index {self.lab.index}; "
            f"client core {CLIENT_CPU}, server core {SERVER_CPU}")
        hard = int(run(["sh", "-c", "ulimit -Hn"])[1].strip())
        self.nofile = min(hard, 65536)
        # The same table size in every run (quick or full), as the integration tests use.
        self.max_connections = max(16384, max(args.connections) + 64)
        if max(args.connections) + 64 > self.nofile:
            raise Abort(f"{max(args.connections)} connections need more open files than the hard limit {hard}")
        self.make_store()
        self.make_tls()
        self.lab.down()
        self.lab.up()
        self.servers["sluice"] = Sluice(self.lab, self.work, args.store, self.cert, self.key, self.work)
        self.servers["nginx"] = Nginx(self.lab, self.work, args.store, self.cert, self.key, self.work)
        self.servers["sluice-memif"] = SluiceMemif(self.lab, self.work, args.store, self.cert, self.key, self.work)
        self.hardware_limits()
        self.cells_to_run = self.cell_list()
        if "sluice" in args.servers and os.path.exists(LOADGEN):
            if self.servers["sluice-memif"].supported():
                self.memif = {"available": True, "status": "the data plane accepts driver = memif"}
            else:
                self.memif = {"available": False, "status": "n/a: the data plane has no memif port yet ("
                              + self.servers["sluice-memif"].support_answer + ")"}
            log(f"sluice on memif: {self.memif['status']}")
        if "sluice" in args.servers and not args.quick:
            self.memory_probe()
        self.started = datetime.datetime.now(datetime.timezone.utc)
        for r in range(1, args.rounds + 1):
            order = ["sluice", "nginx"] if r % 2 == 1 else ["nginx", "sluice"]
            for name in order:
                if name in args.servers:
                    self.phase(self.servers[name], r)
            if self.memif["available"]:
                self.phase_memif(self.servers["sluice-memif"], r)
        self.finished = datetime.datetime.now(datetime.timezone.utc)

    def cleanup(self):
        for s in self.servers.values():
            try:
                s.stop()
            except Exception as e:  # keep tearing down
                log(f"stopping {s.name}: {e}")
        try:
            self.lab.down()
        except Exception as e:
            log(f"lab down: {e}")
        if not self.args.keep_work:
            shutil.rmtree(self.work, ignore_errors=True)


# --- results -----------------------------------------------------------------------------------

def summarize_cell(runs):
    ttfb = [x for r in runs for x in r["ttfb_samples_ms"]]
    ttfb_req = [x for r in runs for x in r["ttfb_request_samples_ms"]]
    keys = ("gbit_s", "req_s", "server_cpu_s_per_gb", "server_core_s_per_gb", "as_briefed_s_per_gb",
            "process_gbyte_per_cpu_s")
    s = {k: median([r[k] for r in runs]) for k in keys}
    s.update({k + "_range": spread([r[k] for r in runs]) for k in ("gbit_s", "req_s", "server_cpu_s_per_gb")})
    s["ttlb_ms_p50"] = median([r["ttlb_ms"]["p50"] for r in runs if r["requests"] > 0])
    s["ttlb_ms_p99"] = median([r["ttlb_ms"]["p99"] for r in runs if r["requests"] > 0])
    s["ttfb_ms_p50"] = percentile(ttfb, 50)
    s["ttfb_ms_p99"] = percentile(ttfb, 99)
    if runs and "ttfb_loadgen_ms" in runs[0]:  # memif: every request's TTFB, measured by the loadgen
        s["ttfb_ms_p50"] = median([r["ttfb_loadgen_ms"]["p50"] for r in runs])
        s["ttfb_ms_p99"] = median([r["ttfb_loadgen_ms"]["p99"] for r in runs])
    s["ttfb_request_ms_p50"] = percentile(ttfb_req, 50)
    s["ttfb_request_ms_p99"] = percentile(ttfb_req, 99)
    s["ttfb_samples"] = len(ttfb)
    s["runs"] = len(runs)
    s["errors"] = sum(sum(r["errors"].values()) for r in runs)
    s["server_thread_wait_s"] = median([r["cpu"]["server_thread_wait_s"] for r in runs])
    return s


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def build_report(bench, args):
    cells = []
    index = {}
    for (server, proto, obj, conns), runs in sorted(bench.cells.items(), key=lambda kv: (kv[0][1], kv[0][2], kv[0][3], kv[0][0])):
        c = {"server": server, "proto": proto, "object": obj, "connections": conns,
             "object_detail": object_detail(bench, obj), "summary": summarize_cell(runs), "runs": runs}
        cells.append(c)
        index[(server, proto, obj, conns)] = c["summary"]

    def cpu_ratio(proto, obj, conns, field="server_cpu_s_per_gb"):
        n, s = index.get(("nginx", proto, obj, conns)), index.get(("sluice", proto, obj, conns))
        return ratio(n and n[field], s and s[field])

    per_cell = []
    for (server, proto, obj, conns) in sorted(index):
        if server != "sluice":
            continue
        per_cell.append({"proto": proto, "object": obj, "connections": conns,
                         "cpu_per_gb_nginx_over_sluice": cpu_ratio(proto, obj, conns),
                         "server_core_cpu_per_gb_nginx_over_sluice": cpu_ratio(proto, obj, conns, "server_core_s_per_gb"),
                         "as_briefed_nginx_over_sluice": cpu_ratio(proto, obj, conns, "as_briefed_s_per_gb"),
                         "gbit_s_sluice_over_nginx": ratio(index[(server, proto, obj, conns)]["gbit_s"],
                                                           index.get(("nginx", proto, obj, conns), {}).get("gbit_s"))})
    ref_obj, ref_c = REFERENCE["object"], REFERENCE["connections"]
    plain = cpu_ratio("http", ref_obj, ref_c)
    https = cpu_ratio("https", ref_obj, ref_c)
    sl_https = index.get(("sluice", "https", ref_obj, ref_c))
    limit = bench.limits["aes128gcm_16k_ipsecmb_gbyte_s"] if bench.limits else None
    tls_lcore = ratio(sl_https and sl_https["process_gbyte_per_cpu_s"], limit)
    sl_plain = index.get(("sluice", "http", ref_obj, ref_c))
    plain_lcore = ratio(sl_plain and sl_plain["process_gbyte_per_cpu_s"],
                        bench.limits["copy_csum_1448_gbyte_s"] if bench.limits else None)
    sl_memif = index.get(("sluice-memif", "http", ref_obj, ref_c))
    plain_lcore_memif = ratio(sl_memif and sl_memif["process_gbyte_per_cpu_s"],
                              bench.limits["copy_csum_1448_gbyte_s"] if bench.limits else None)
    sl_memif_tls = index.get(("sluice-memif", "https", ref_obj, ref_c))
    tls_lcore_memif = ratio(sl_memif_tls and sl_memif_tls["process_gbyte_per_cpu_s"], limit)
    plain_vals = [p["cpu_per_gb_nginx_over_sluice"] for p in per_cell
                  if p["proto"] == "http" and p["cpu_per_gb_nginx_over_sluice"]]
    na = None if bench.https["sluice"] else f"n/a: {bench.https_reason}"
    ratios = {
        "reference_cell": {"object": ref_obj, "connections": ref_c,
                           "object_detail": object_detail(bench, ref_obj)},
        "plain_cpu_per_gb_nginx_over_sluice": plain,
        "https_cpu_per_gb_nginx_over_sluice": https,
        "https_cpu_per_gb_nginx_over_sluice_status": na or ("measured" if https is not None else "not measured"),
        "tls_lcore_sluice_over_limit": tls_lcore,
        "tls_lcore_sluice_over_limit_status": na or ("measured" if tls_lcore is not None else "not measured"),
        "tls_lcore_definition": "sluice HTTPS bytes per second of busy lcore time, over one core's AES-128-GCM "
                                "seal rate (intel-ipsec-mb, 16 KiB records, from the mapped store file)",
        "plain_lcore_sluice_over_limit": plain_lcore,
        "plain_lcore_definition": "sluice plain bytes per second of busy lcore time, over one core's "
                                  "copy + software checksum rate (hwlimit copy_csum_1448)",
        "sluice_memif_cpu_per_gb": sl_memif and sl_memif["server_cpu_s_per_gb"],
        "plain_lcore_sluice_memif_over_limit": plain_lcore_memif,
        "sluice_memif_plain_gbit_per_lcore_s": sl_memif and sl_memif["process_gbyte_per_cpu_s"] and
        sl_memif["process_gbyte_per_cpu_s"] * 8,
        "sluice_memif_https_gbit_per_lcore_s": sl_memif_tls and sl_memif_tls["process_gbyte_per_cpu_s"] and
        sl_memif_tls["process_gbyte_per_cpu_s"] * 8,
        "aes128gcm_limit_gbit_s": limit and limit * 8,
        "tls_lcore_sluice_memif_over_limit": tls_lcore_memif,
        "tls_lcore_sluice_memif_definition": "the data plane's HTTPS plaintext bytes per second of busy lcore time "
                                             "on memif (sluice-loadgen --tls), over the same AES-128-GCM limit",
        "memif_status": bench.memif["status"],
        "plain_cpu_per_gb_nginx_over_sluice_geomean_all_cells": (
            math.exp(sum(math.log(v) for v in plain_vals) / len(plain_vals)) if plain_vals else None),
        "per_cell": per_cell,
    }
    rc, commit, _ = run(["git", "-C", TOP, "rev-parse", "HEAD"], check=False)
    rc, dirty, _ = run(["git", "-C", TOP, "status", "--porcelain", "--untracked-files=no"], check=False)
    rc, branch, _ = run(["git", "-C", TOP, "rev-parse", "--abbrev-ref", "HEAD"], check=False)
    mem = int(re.search(r"MemTotal:\s+(\d+)", open("/proc/meminfo").read()).group(1)) / 1024 / 1024
    model = re.search(r"model name\s*: (.*)", open("/proc/cpuinfo").read())
    sluice = dict(bench.servers["sluice"].facts) if "sluice" in bench.servers else {}
    sluice["memory"] = bench.memory
    sluice["memif"] = bench.memif
    sluice["scale"] = bench.scale
    sluice.update({"https_available": bench.https["sluice"], "https_status": bench.https_reason,
                   "tls_config_keys": ["dataplane.tls.certificate_chains", "dataplane.tls.certificate_keys"],
                   "range_probe_answer": bench.sluice_range_answer,
                   "ranges_supported": bench.small_mode == "range"})
    return {
        "schema": "sluice-perf/1",
        "mode": "quick" if args.quick else "full",
        "started": bench.started.isoformat(timespec="seconds"),
        "finished": bench.finished.isoformat(timespec="seconds"),
        "host": socket.gethostname(),
        "git": {"commit": commit.strip(), "branch": branch.strip(), "dirty": bool(dirty.strip())},
        "machine": {"cpus": os.cpu_count(), "cpu_model": model.group(1) if model else None,
                    "kernel": os.uname().release, "mem_gib": round(mem, 1),
                    "kernel_irq_time_accounting": bench.irq_time_accounting,
                    "versions": tool_versions()},
        "setup": {"lab_index": bench.lab.index, "edge": f"{bench.lab.edge_if} {bench.lab.edge4}",
                  "client": f"{bench.lab.ns}/{bench.lab.client_if} {bench.lab.client4}",
                  "client_cpu": CLIENT_CPU, "server_cpu": SERVER_CPU, "rounds": args.rounds,
                  "duration_s": args.duration, "long_duration_s": args.long_duration,
                  "connections": args.connections, "ttfb_sample_rate_per_s": bench.ttfb_rate,
                  "wrk": "wrk -t1 (one thread on the client core), keep-alive, perf/harness/wrk.lua",
                  "mtu": 1500, "veth_tx_checksum_offload": "off (scripts/lab)",
                  "tls": {p: {k: v for k, v in TLS_PROFILES[p].items() if k != "curl"} for p in TLS_PROFILES},
                  "tls_certificate": "ECDSA P-256, self-signed by the harness",
                  "nginx_tls_negotiated_by_wrk": bench.nginx_tls},
        "content": {"segment_bytes": SEGMENT_BYTES, "segments": SEGMENTS, "big_file_bytes": BIG_BYTES,
                    "small_bytes": SMALL_BYTES, "small_files": SMALL_FILES, "small_mode": bench.small_mode,
                    "small_note": ("16 KiB ranges of the 64 MiB file (the data plane answers Range with 206)"
                                   if bench.small_mode == "range" else
                                   "16 KiB files, for both servers: the data plane does not answer Range "
                                   "requests with 206 yet; the harness switches to real ranges once it does"),
                    "store": args.store},
        "sluice": sluice,
        "nginx": dict(bench.servers["nginx"].facts) if "nginx" in bench.servers else {},
        "limits": bench.limits,
        "accounting": ACCOUNTING,
        "ratios": ratios,
        "profiles": bench.profiles,
        "cells": cells,
    }


def object_detail(bench, obj):
    if obj == "segment":
        return f"2 MiB segment files ({SEGMENTS}, round robin)"
    if bench.small_mode == "range":
        return "16 KiB ranges of a 64 MiB file"
    return f"16 KiB files ({SMALL_FILES}, round robin; stand-in for 16 KiB ranges)"


ACCOUNTING = {
    "server_cpu_s": "process_s + ksoftirqd_server_core_s + softirq_client_core_s",
    "process_s": {
        "sluice": "busy_cycles / tsc_hz of the worker lcore (stats segment; idle polling excluded) times the share "
                  "of the interval its thread was on the core (1 - run-queue wait / interval, schedstat). The busy "
                  "cycles include the AF_XDP TX kick syscalls and the softirq work they run inline on the server core.",
        "nginx": "on-CPU time of the worker (and master) from /proc/PID/schedstat. This kernel has no "
                 "CONFIG_IRQ_TIME_ACCOUNTING: softirq work run in the worker's context is part of it; on a kernel "
                 "with it, /proc/stat softirq+irq of the server core is added instead.",
    },
    "ksoftirqd_server_core_s": "on-CPU time of ksoftirqd on the server core (softirq work deferred out of the server's context)",
    "softirq_client_core_s": "/proc/stat softirq+irq of the client core: on a veth, the frames the client sends are "
                             "received (XDP + AF_XDP copy for sluice; TCP ACK processing and the ACK-clocked "
                             "transmissions for nginx) in softirq on the sender's core",
    "server_core_s": "process_s + ksoftirqd_server_core_s (the server core only)",
    "as_briefed_s": "sluice: busy_cycles / tsc_hz; nginx: worker utime+stime + /proc/stat softirq of the server core "
                    "(double-counts on this kernel: kept for comparison)",
    "not_counted": "the client's user time and its own syscalls (wrk, curl); other processes on either core",
    "includes_for_both": "the client's kernel receive path, where it runs inline in the server's transmit (veth "
                         "delivers on the sender's core): it cannot be separated on a veth",
    "gb": "bytes read by wrk (HTTP heads and bodies, partial responses included), 1 GB = 1e9 bytes",
}


def tool_versions():
    v = {}
    for name, cmd in (("nginx", ["nginx", "-v"]), ("wrk", ["wrk", "-v"]), ("curl", ["curl", "--version"]),
                      ("openssl", ["openssl", "version"]), ("dpdk", ["pkg-config", "--modversion", "libdpdk"])):
        try:
            p = subprocess.run(cmd, capture_output=True, text=True)
            v[name] = (p.stdout + p.stderr).strip().splitlines()[0]
        except (OSError, IndexError):
            v[name] = None
    return v


def print_table(report):
    rows = [("server", "proto", "object", "conns", "Gb/s", "(min-max)", "req/s", "TTFB p50/p99 ms",
             "TTLB p50/p99 ms", "CPU s/GB", "(min-max)", "n")]
    for c in report["cells"]:
        s = c["summary"]
        rng = s["gbit_s_range"] or [None, None]
        crng = s["server_cpu_s_per_gb_range"] or [None, None]
        rows.append((c["server"], c["proto"], c["object"], str(c["connections"]), fmt(s["gbit_s"]),
                     f"{fmt(rng[0])}-{fmt(rng[1])}", fmt(s["req_s"], 0),
                     f"{fmt(s['ttfb_ms_p50'])}/{fmt(s['ttfb_ms_p99'])}",
                     f"{fmt(s['ttlb_ms_p50'], 1)}/{fmt(s['ttlb_ms_p99'], 1)}",
                     fmt(s["server_cpu_s_per_gb"], 3), f"{fmt(crng[0], 3)}-{fmt(crng[1], 3)}", str(s["runs"])))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(x.rjust(w) if i >= 3 else x.ljust(w) for i, (x, w) in enumerate(zip(r, widths))))
    rt = report["ratios"]
    print(f"CPU per GB, nginx/sluice (above 1: sluice is cheaper), {rt['reference_cell']['object']} "
          f"c={rt['reference_cell']['connections']}: plain {fmt(rt['plain_cpu_per_gb_nginx_over_sluice'], 3)}, "
          f"https {fmt(rt['https_cpu_per_gb_nginx_over_sluice'], 3)} ({rt['https_cpu_per_gb_nginx_over_sluice_status']})")
    print(f"sluice per lcore against one core's limit: plain {fmt(rt['plain_lcore_sluice_over_limit'], 3)} of "
          f"copy+checksum, TLS {fmt(rt['tls_lcore_sluice_over_limit'], 3)} of AES-128-GCM")
    print(f"sluice on memif, Gb/s per busy lcore second: plain {fmt(rt['sluice_memif_plain_gbit_per_lcore_s'])}, "
          f"TLS {fmt(rt['sluice_memif_https_gbit_per_lcore_s'])}, AES-128-GCM limit "
          f"{fmt(rt['aes128gcm_limit_gbit_s'])} (TLS/limit {fmt(rt['tls_lcore_sluice_memif_over_limit'], 3)})")
    for line in scale_lines(report.get("sluice", {}).get("scale")):
        print(line)


def scale_lines(scale):
    """The memif scale test, a line per step and one for the largest against the 1k step."""
    if not scale or not scale.get("steps"):
        return []
    lines = ["scale (memif, 16 active, 2 MiB segments): idle  established  RSS MiB  B/conn (marginal over 1k)  "
             "Gb/s  /1k  CPU s/GB"]
    for s in scale["steps"]:
        if "error" in s:
            lines.append(f"  {s['idle']:>9}  failed: {s['error'][:100]}")
            continue
        lines.append(f"  {s['idle']:>9}  {s['idle_established']:>9}  {s['rss_idle_bytes'] / 2**20:7.0f}  "
                     f"{fmt(s['resident_bytes_per_idle_connection'], 0):>6} ({fmt(s.get('resident_bytes_per_connection_over_first'), 0):>5})  {fmt(s['gbit_s']):>5}  "
                     f"{fmt(s.get('gbit_s_over_first'), 3)}  {fmt(s['server_cpu_s_per_gb'], 3)}")
    m = scale["summary"]
    if m:
        lines.append(f"scale: {m['idle_established']} idle established, {fmt(m['resident_bytes_per_connection_over_first'], 0)} "
                     f"resident bytes each over the first step, Gb/s {fmt(m['gbit_s_largest_over_first'], 3)} of the {m['first_step_idle']} "
                     f"step's; target (1M, <= 1 KiB, >= 0.9) {'met' if m['meets_target'] else 'not met'}")
    return lines


def markdown_table(report):
    """The summary table in Markdown (perf/README.md carries one): `bench.py --table FILE.json`."""
    lines = ["| server | proto | object | conns | Gb/s (min–max) | req/s | TTFB p50 / p99 ms | "
             "TTLB p50 / p99 ms | server CPU s/GB (min–max) | server core s/GB | thread wait s |",
             "|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|"]
    for c in report["cells"]:
        s = c["summary"]
        g = s["gbit_s_range"] or [None, None]
        p = s["server_cpu_s_per_gb_range"] or [None, None]
        lines.append(f"| {c['server']} | {c['proto']} | {c['object']} | {c['connections']} | "
                     f"{fmt(s['gbit_s'])} ({fmt(g[0])}–{fmt(g[1])}) | {fmt(s['req_s'], 0)} | "
                     f"{fmt(s['ttfb_ms_p50'], 1)} / {fmt(s['ttfb_ms_p99'], 0)} | "
                     f"{fmt(s['ttlb_ms_p50'], 1)} / {fmt(s['ttlb_ms_p99'], 0)} | "
                     f"{fmt(s['server_cpu_s_per_gb'], 2)} ({fmt(p[0], 2)}–{fmt(p[1], 2)}) | "
                     f"{fmt(s['server_core_s_per_gb'], 2)} | {fmt(s['server_thread_wait_s'], 1)} |")
    return "\n".join(lines)


def quick_line(report):
    rt = report["ratios"]

    def q(x):
        return "nan" if x is None else f"{x:.3f}"
    return (f"quick: https_cpu_per_gb nginx/sluice={q(rt['https_cpu_per_gb_nginx_over_sluice'])} "
            f"plain_cpu_per_gb nginx/sluice={q(rt['plain_cpu_per_gb_nginx_over_sluice'])} "
            f"tls_lcore sluice/limit={q(rt['tls_lcore_sluice_over_limit'])}")


def memif_line(report):
    """The data plane without the kernel (memif), printed just before the quick line."""
    x = report["ratios"].get("tls_lcore_sluice_memif_over_limit")
    return f"memif: tls_lcore sluice/limit={'nan' if x is None else f'{x:.3f}'}"


# --- plots -------------------------------------------------------------------------------------

def plot(report, stem, work):
    """PNG plots next to the JSON: throughput, CPU per GB, TTFB, TTLB against connections, one
    panel per object kind; error bars are the min-max over rounds."""
    columns = ["conns", "gbit_s", "gbit_min", "gbit_max", "cpu", "cpu_min", "cpu_max",
               "ttfb50", "ttfb99", "ttlb50", "ttlb99", "req_s"]
    series = {}
    for c in report["cells"]:
        s = c["summary"]
        g = s["gbit_s_range"] or [s["gbit_s"]] * 2
        p = s["server_cpu_s_per_gb_range"] or [s["server_cpu_s_per_gb"]] * 2
        row = [c["connections"], s["gbit_s"], g[0], g[1], s["server_cpu_s_per_gb"], p[0], p[1],
               s["ttfb_ms_p50"], s["ttfb_ms_p99"], s["ttlb_ms_p50"], s["ttlb_ms_p99"], s["req_s"]]
        series.setdefault((c["server"], c["proto"], c["object"]), []).append(row)
    datafiles = {}
    for key, rows in series.items():
        path = os.path.join(work, "plot-%s-%s-%s.dat" % key)
        with open(path, "w") as f:
            f.write("# " + " ".join(columns) + "\n")
            for row in sorted(rows):
                f.write(" ".join("NaN" if v is None else repr(float(v)) for v in row) + "\n")
        datafiles[key] = (path, rows)

    def has(rows, col):
        i = columns.index(col)
        return any(r[i] is not None and r[i] > 0 for r in rows)

    small = "16 KiB ranges" if report["content"]["small_mode"] == "range" else "16 KiB files"
    title = (f"sluice vs nginx {report['nginx'].get('version', '')}: one server core, "
             f"lab veth, {report['mode']} run {report['started']}").replace("'", "")
    colors = {"sluice": "#1f77b4", "nginx": "#d62728"}
    dashes = {"http": 1, "https": 2, "https12": 4}
    plots = [("throughput", "delivered, Gb/s", [("gbit_s", "gbit_min", "gbit_max", "")], False),
             ("cpu-per-gb", "server CPU seconds per GB (lower is better)", [("cpu", "cpu_min", "cpu_max", "")], False),
             ("ttfb", "time to first byte, ms", [("ttfb50", None, None, " p50"), ("ttfb99", None, None, " p99")], True),
             ("ttlb", "time to last byte (wrk), ms", [("ttlb50", None, None, " p50"), ("ttlb99", None, None, " p99")], True)]
    written = []
    for name, ylabel, cols, logy in plots:
        gp = ["set terminal pngcairo size 1400,560 font ',10'", f"set output '{stem}-{name}.png'",
              f"set multiplot layout 1,2 title '{title}'", "set logscale x 2", "set xrange [0.7:6000]",
              "set xtics ('1' 1, '16' 16, '256' 256, '4096' 4096)", "set xlabel 'concurrent connections'",
              f"set ylabel '{ylabel}'", "set grid", "set key outside right top vertical",
              "set datafile missing 'NaN'"]
        gp.append("set logscale y 10" if logy else "set yrange [0:*]")
        for obj, obj_title in (("segment", "2 MiB segments"), ("small", small)):
            gp.append(f"set title '{obj_title}'")
            items = []
            for (server, proto, o), (path, rows) in sorted(datafiles.items()):
                if o != obj:
                    continue
                for y, lo, hi, suffix in cols:
                    if not has(rows, y):
                        continue
                    i = columns.index(y) + 1
                    style = f"lc rgb '{colors.get(server, '#000000')}' dt {dashes.get(proto, 1)} lw 2"
                    point = "pt 6" if suffix == " p99" else "pt 7"
                    if lo:
                        use = f"1:{i}:{columns.index(lo) + 1}:{columns.index(hi) + 1} with yerrorlines"
                    else:
                        use = f"1:{i} with linespoints"
                    items.append(f"'{path}' using {use} {style} {point} title '{server} {proto}{suffix}'")
            if items:
                gp.append("plot " + ", ".join(items))
            else:
                gp += ["set label 1 'not measured' at graph 0.4,0.5", "plot [1:2] [1:10] 100 notitle",
                       "unset label 1"]
        gp.append("unset multiplot")
        script = os.path.join(work, f"{name}.gp")
        with open(script, "w") as f:
            f.write("\n".join(gp) + "\n")
        rc, out, err = run(["gnuplot", script], check=False)
        if rc == 0:
            written.append(f"{stem}-{name}.png")
        else:
            log(f"gnuplot {name}: {err.strip()[:300]}")
    return written


# --- entry -------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(prog="perf/run", description="sluice against nginx and the hardware limit")
    ap.add_argument("--quick", action="store_true", help="reference cell only, short runs (under 3 minutes)")
    ap.add_argument("--rounds", type=int, help="rounds (each runs every cell once per server); default 3")
    ap.add_argument("--duration", type=int, help="seconds per wrk run (default 10, quick 5)")
    ap.add_argument("--long-duration", type=int, default=30,
                    help="seconds per run for 2 MiB segments at >= 1024 connections (default 30)")
    ap.add_argument("--connections", help="comma-separated connection counts (default 1,16,256,4096)")
    ap.add_argument("--servers", default="sluice,nginx", help="comma-separated: sluice,nginx")
    ap.add_argument("--no-https", action="store_true", help="plain HTTP cells only")
    ap.add_argument("--ttfb-rate", type=int, default=20, help="TTFB samples per second (curl), default 20")
    ap.add_argument("--lab-index", type=int, default=int(os.environ.get("SLUICE_PERF_LAB_INDEX", "1")))
    ap.add_argument("--store", default="/var/lib/sluice/perf-store", help="where the content is generated")
    ap.add_argument("--out", default=os.path.join(TOP, "perf", "results"), help="results directory")
    ap.add_argument("--profile", action=argparse.BooleanOptionalAction, default=None,
                    help="profile the server core with perf once per server (default: on, off with --quick)")
    ap.add_argument("--scale", type=int, default=None,
                    help="largest idle population of the memif scale test: steps 1k, 10k, 100k, 1M up to it "
                         "(default 1000000 in a full run; 0: none)")
    ap.add_argument("--keep-work", action="store_true", help="keep the temporary directory (configs, logs)")
    ap.add_argument("--table", metavar="JSON", help="print the Markdown table of an earlier results file and exit")
    args = ap.parse_args()
    if args.table:
        print(markdown_table(json.load(open(args.table))))
        return 0
    args.rounds = args.rounds or 3
    args.duration = args.duration or (5 if args.quick else 10)
    args.connections = ([int(x) for x in args.connections.split(",")] if args.connections else
                        ([REFERENCE["connections"]] if args.quick else [1, 16, 256, 4096]))
    args.servers = args.servers.split(",")
    if args.profile is None:
        args.profile = not args.quick
    if args.scale is None:
        args.scale = 0 if args.quick else 1000000
    if os.geteuid() != 0:
        print("perf/run: must run as root (namespaces, XDP, hugepages)", file=sys.stderr)
        return 1
    bench = Bench(args)

    def on_signal(sig, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_signal)
    report = None
    try:
        bench.execute()
        report = build_report(bench, args)
    except Abort as e:
        print(f"perf/run: {e}", file=sys.stderr)
    except KeyboardInterrupt:
        print("perf/run: interrupted", file=sys.stderr)
    finally:
        keep_work = args.keep_work
        args.keep_work = True  # the plots need the work directory; removed below
        bench.cleanup()
        args.keep_work = keep_work
    if report is None:
        print(f"perf/run: configurations and logs kept in {bench.work}", file=sys.stderr)
        return 1
    os.makedirs(args.out, exist_ok=True)
    stamp = bench.started.strftime("%Y-%m-%dT%H%MZ")
    stem = os.path.join(args.out, f"{stamp}-{socket.gethostname()}" + ("-quick" if args.quick else ""))
    report["plots"] = [os.path.basename(p) for p in plot(report, stem, bench.work)]
    with open(stem + ".json", "w") as f:
        json.dump(report, f, indent=1)
        f.write("\n")
    if not args.keep_work:
        shutil.rmtree(bench.work, ignore_errors=True)
    print_table(report)
    log(f"results: {stem}.json" + "".join(f", {p}" for p in report["plots"]))
    print(memif_line(report))
    print(quick_line(report), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
