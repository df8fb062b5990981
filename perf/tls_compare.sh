#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# perf/tls_compare.sh: sluice's TLS against the raw AES-GCM engine and against nginx, in one run,
# as one JSON object on stdout (progress on stderr).
#
#   sudo perf/tls_compare.sh            lab SLUICE_LAB_INDEX (default 3), 10 s per measurement
#
# Measures, on the lab link (veth, af_xdp for sluice, the kernel for nginx):
#   engine      (1) the AES-GCM engine's raw speed on 16 KiB records, one core (build/perf/tls_bench,
#               the data plane's engine, AES-128), pinned to the server core
#   sluice      (2) TLS 1.3 (TLS_AES_128_GCM_SHA256, ECDSA P-256) goodput of one data-plane lcore
#               to wrk over the lab link: bytes per wall second, and per server CPU second (the
#               lcore's busy CPU time, plus softirq time on the server core), and the record
#               layer's cost per byte (tls_produce_cycles / tls_produce_bytes) against the
#               engine's raw cost per byte
#   nginx       (3) the same download from nginx (nginx-light, one worker on the server core,
#               same certificate and cipher suite, sendfile on, which TLS makes moot): bytes per
#               wall second and per server CPU second (worker utime+stime plus softirq time on
#               the server core)
#   handshakes  full TLS 1.3 handshakes (X25519) per lcore CPU second (openssl s_time clients),
#               ECDSA P-256 and RSA-2048 certificates, against `openssl speed` signatures per
#               second for the same key on the same core
# Ratios: (2)/(1) = goodput per lcore CPU second / raw engine speed; (2)/(3) = bytes per server
# CPU second, sluice / nginx (above 1: sluice is cheaper).
#
# CPU time on a shared machine. The lcore's counters are TSC (wall) cycles: while other
# processes take CPU 1, a busy iteration or a produce call lasts longer in wall time. So the
# lcore's busy CPU time is its thread's utime+stime (/proc, it always runs: it polls) times the
# busy share of its cycles (busy / (busy + idle) from the counters), and per-call cycle counts
# are scaled by the thread's CPU time / wall time over the same window; tls_bench's figures by
# its own CPU time / wall time. Both the raw (wall) and the CPU-time figures are in the JSON.
# Fairness notes (in the JSON too): server on CPU 1, clients pinned to CPU 0; on a veth the
# receiving side's softirq work runs on the sender's CPU for both servers, so softirq time on
# CPU 1 is counted for both.
# Exit 0 with the JSON; fields that could not be measured are null with a "_status" reason.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
BUILD=${SLUICE_BUILD:-$top/build}
LAB_INDEX=${SLUICE_LAB_INDEX:-3}
SECONDS_PER_RUN=${SLUICE_TLS_SECONDS:-10}
CONNECTIONS=${SLUICE_TLS_CONNECTIONS:-4}
SERVER_CPU=1
CLIENT_CPU=0
export SLUICE_LAB_INDEX=$LAB_INDEX
NS=sluice-client-$LAB_INDEX EDGE_IF=sluice-edge$LAB_INDEX EDGE4=198.18.$LAB_INDEX.1
[ "$LAB_INDEX" = 0 ] && NS=sluice-client EDGE_IF=sluice-edge EDGE4=198.18.0.1

say() { echo "tls_compare: $*" >&2; }
die() { say "$*"; exit 1; }
[ "$(id -u)" -eq 0 ] || die "must run as root (lab namespaces, XDP)"
for tool in wrk nginx openssl taskset python3; do command -v $tool >/dev/null || die "$tool is missing: run scripts/setup"; done
[ -x "$BUILD/dataplane/sluice-dataplane" ] && [ -x "$BUILD/perf/tls_bench" ] || ninja -C "$BUILD" >/dev/null ||
  die "build failed"

WORK=$(mktemp -d /tmp/sluice-tls-compare.XXXXXX)
EDGE_PID= NGINX_MASTER=
cleanup() {
  [ -n "$EDGE_PID" ] && kill -TERM "$EDGE_PID" 2>/dev/null && wait "$EDGE_PID" 2>/dev/null
  [ -n "$NGINX_MASTER" ] && kill -QUIT "$NGINX_MASTER" 2>/dev/null && sleep 0.5
  "$top/scripts/lab" down >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
in_client() { ip netns exec "$NS" taskset -c "$CLIENT_CPU" "$@"; }

# Content and certificates.
mkdir -p "$WORK/store/v"
head -c $((64 * 1024 * 1024)) /dev/urandom >"$WORK/store/v/big.bin"
"$BUILD/dataplane/sluice-catalog" build "$WORK/store" >/dev/null
cat "$WORK/store/v/big.bin" >/dev/null # in the page cache for both servers
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -keyout "$WORK/ecdsa.key" \
  -out "$WORK/ecdsa.pem" -subj "/CN=perf.sluice.test" 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -keyout "$WORK/rsa.key" -out "$WORK/rsa.pem" \
  -subj "/CN=perf.sluice.test" 2>/dev/null

# (1) the engine, and OpenSSL's signatures, on the server core.
say "engine: tls_bench on CPU $SERVER_CPU"
{
  TIMEFORMAT='%R %U %S'
  time taskset -c "$SERVER_CPU" "$BUILD/perf/tls_bench" 1 >"$WORK/tls_bench.json" 2>"$WORK/tls_bench.err" || true
} 2>"$WORK/tls_bench.time"
say "openssl speed"
taskset -c "$SERVER_CPU" openssl speed -mr -seconds 3 ecdsap256 rsa2048 2>/dev/null | grep '^+F' >"$WORK/speed.txt" || true

"$top/scripts/lab" down >/dev/null 2>&1 || true
"$top/scripts/lab" up >/dev/null

softirq_ticks() { awk -v cpu="cpu$SERVER_CPU" '$1 == cpu {print $8}' /proc/stat; }
stats() { "$BUILD/dataplane/sluice-stats" --path "$WORK/stats" --json; }
LCORE_TID=
# snap NAME before|after: counters, the lcore thread's CPU ticks, softirq ticks, wall time.
snap() {
  stats >"$WORK/$1.$2.json"
  awk '{print $14 + $15}' "/proc/$EDGE_PID/task/$LCORE_TID/stat" >"$WORK/$1.lcore.$2"
  softirq_ticks >"$WORK/$1.softirq.$2"
  date +%s.%N >"$WORK/$1.wall.$2"
}

# wrk_run NAME URL: a keep-alive download run; writes NAME.wrk.
wrk_run() {
  in_client wrk -t1 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" --timeout 30s "$2" >"$WORK/$1.wrk" 2>&1 || true
}
# handshake_run NAME: parallel s_time clients making new TLS 1.3 connections; NAME.stime.
handshake_run() {
  local pids=()
  for i in 1 2 3; do
    in_client openssl s_time -connect "$EDGE4:443" -new -tls1_3 -time "$SECONDS_PER_RUN" >"$WORK/$1.stime.$i" 2>&1 &
    pids+=($!)
  done
  wait "${pids[@]}" || true
}

edge_start() { # edge_start CERT KEY
  cat >"$WORK/edge.conf" <<CONF
dataplane = {
  port = { driver = "af_xdp"; iface = "$EDGE_IF"; queues = 1; };
  eal = { lcores = [$SERVER_CPU]; main_lcore = $CLIENT_CPU; hugepages = false; memory_mb = 1024;
          file_prefix = "sluice-tls-compare$LAB_INDEX"; };
  net = { ipv4 = "$EDGE4"; };
  service = { http_port = 80; https_port = 443; store_root = "$WORK/store"; max_connections = 16384; };
  tls = { certificate_chains = ["$1"]; certificate_keys = ["$2"]; max_handshakes = 256; };
  api = { stats_path = "$WORK/stats"; command_socket = "$WORK/dataplane.sock"; };
};
CONF
  "$BUILD/dataplane/sluice-dataplane" --config "$WORK/edge.conf" >"$WORK/dataplane.log" 2>&1 &
  EDGE_PID=$!
  for _ in $(seq 1 60); do
    kill -0 "$EDGE_PID" 2>/dev/null || { cat "$WORK/dataplane.log" >&2; die "the data plane exited"; }
    if ip netns exec "$NS" curl -sk -o /dev/null -m 1 "https://$EDGE4/"; then
      LCORE_TID=$(ps -L -o tid=,comm= -p "$EDGE_PID" | awk '$2 ~ /^rte-worker/ {print $1; exit}')
      [ -n "$LCORE_TID" ] || die "no lcore thread (rte-worker-*) in the data plane"
      return 0
    fi
    sleep 0.5
  done
  die "the data plane did not answer"
}
edge_stop() {
  kill -TERM "$EDGE_PID" 2>/dev/null || true
  wait "$EDGE_PID" 2>/dev/null || true
  EDGE_PID=
}

# (2) sluice: download goodput, then handshakes, ECDSA; then handshakes with RSA.
say "sluice: TLS 1.3 downloads, $CONNECTIONS connections, ${SECONDS_PER_RUN} s"
edge_start "$WORK/ecdsa.pem" "$WORK/ecdsa.key"
python3 - "$WORK/stats" >"$WORK/tsc_hz" <<'PY'
import struct, sys
print(struct.unpack_from("<Q", open(sys.argv[1], "rb").read(160), 72)[0])
PY
snap sluice before
wrk_run sluice "https://$EDGE4/v/big.bin"
sleep 0.1
snap sluice after
edge_stop
say "sluice: handshakes (ECDSA P-256)"
edge_start "$WORK/ecdsa.pem" "$WORK/ecdsa.key"
snap hs-ecdsa before
handshake_run hs-ecdsa
sleep 0.1
snap hs-ecdsa after
edge_stop
say "sluice: handshakes (RSA-2048)"
edge_start "$WORK/rsa.pem" "$WORK/rsa.key"
snap hs-rsa before
handshake_run hs-rsa
sleep 0.1
snap hs-rsa after
edge_stop
"$top/scripts/lab" down >/dev/null 2>&1 || true
"$top/scripts/lab" up >/dev/null # the XDP program is gone: the kernel owns the veth again

# (3) nginx: one worker on the server core, same certificate, suite and file.
say "nginx: TLS 1.3 downloads"
mkdir -p "$WORK/nginx/logs"
cat >"$WORK/nginx/nginx.conf" <<CONF
user root;
worker_processes 1;
worker_cpu_affinity $(python3 -c "print(bin(1 << $SERVER_CPU)[2:])");
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_timeout 120s;
  keepalive_requests 1000000;
  server {
    listen $EDGE4:443 ssl;
    ssl_certificate $WORK/ecdsa.pem;
    ssl_certificate_key $WORK/ecdsa.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256;
    ssl_conf_command Ciphersuites TLS_AES_128_GCM_SHA256;
    ssl_prefer_server_ciphers on;
    ssl_session_tickets on;
    root $WORK/store;
  }
}
CONF
nginx -p "$WORK/nginx" -e "$WORK/nginx/error.log" -c "$WORK/nginx/nginx.conf" 2>"$WORK/nginx/start.err" ||
  { cat "$WORK/nginx/start.err" >&2; die "nginx did not start"; }
sleep 0.5
NGINX_MASTER=$(cat "$WORK/nginx/nginx.pid")
worker=$(pgrep -P "$NGINX_MASTER" | head -1)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
cpu_ticks "$worker" >"$WORK/nginx.cpu.before"; softirq_ticks >"$WORK/nginx.softirq.before"
wrk_run nginx "https://$EDGE4/v/big.bin"
cpu_ticks "$worker" >"$WORK/nginx.cpu.after"; softirq_ticks >"$WORK/nginx.softirq.after"
kill -QUIT "$NGINX_MASTER" 2>/dev/null || true
sleep 0.5
NGINX_MASTER=

python3 - "$WORK" "$SECONDS_PER_RUN" "$CONNECTIONS" "$(getconf CLK_TCK)" "$(cat /proc/loadavg)" <<'PY'
import json, os, re, sys

work, seconds, connections, clk_tck, loadavg = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
out = {"tool": "perf/tls_compare.sh", "seconds_per_run": seconds, "connections": connections,
       "server_cpu": 1, "client_cpu": 0, "loadavg_at_end": loadavg.split()[:3],
       "cipher": "TLS 1.3 TLS_AES_128_GCM_SHA256, X25519, ECDSA P-256 (handshakes also RSA-2048)",
       "notes": ["server CPU = the lcore's busy cycles (sluice) or the worker's utime+stime (nginx), "
                 "plus softirq time on the server core for both",
                 "busy cycles are wall time: other processes on the server core inflate sluice's figures",
                 "the raw engine runs on hot 16 KiB buffers; the record layer reads the page cache and "
                 "writes cold packet buffers"]}

def load(name):
    try:
        with open(os.path.join(work, name)) as f:
            return f.read()
    except OSError:
        return None

def counters(name):
    text = load(name)
    return json.loads(text)["counters"] if text else None

def delta(name, key):
    a, b = counters(name + ".before.json"), counters(name + ".after.json")
    return (b[key] - a[key]) if a and b else None

def number(name, field=0):
    text = load(name)
    return float(text.split()[field]) if text and len(text.split()) > field else None

def diff(name):
    a, b = number(name + ".before"), number(name + ".after")
    return b - a if a is not None and b is not None else None

def lcore_window(name):
    """CPU view of an lcore window: wall seconds, the thread's CPU seconds, busy CPU seconds."""
    wall, ticks = diff(name + ".wall"), diff(name + ".lcore")
    busy, idle = delta(name, "busy_cycles"), delta(name, "idle_cycles")
    if wall is None or ticks is None or busy is None or idle is None or busy + idle == 0:
        return None
    cpu = ticks / clk_tck
    return {"wall_s": wall, "lcore_cpu_s": cpu, "running_share": min(1.0, cpu / wall),
            "busy_wall_s": busy / tsc_hz if tsc_hz else None, "busy_share": busy / (busy + idle),
            "busy_cpu_s": cpu * busy / (busy + idle)}

def wrk_bytes(name):
    """Bytes read and duration from wrk's summary ("N requests in 10.00s, 1.23GB read")."""
    text = load(name + ".wrk") or ""
    m = re.search(r"requests in ([\d.]+)(us|ms|s|m),\s+([\d.]+)([KMGT]?B) read", text)
    if not m:
        return None, None, text.strip()[-300:]
    scale = {"us": 1e-6, "ms": 1e-3, "s": 1, "m": 60}[m.group(2)]
    unit = {"B": 1, "KB": 1024, "MB": 1024 ** 2, "GB": 1024 ** 3, "TB": 1024 ** 4}[m.group(4)]
    return float(m.group(3)) * unit, float(m.group(1)) * scale, None

def ratio(a, b):
    return a / b if a is not None and b not in (None, 0) else None

tsc_hz = number("tsc_hz")
bench = json.loads(load("tls_bench.json") or "null") if load("tls_bench.json") else None
engine_name = None
log = load("dataplane.log") or ""
m = re.search(r"AEAD engine (\S+)", log)
engine_name = m.group(1) if m else "ipsec-mb"

# (1) the engine.
engine = {"name": engine_name}
bench_wall, bench_user, bench_sys = (number("tls_bench.time", i) for i in range(3))
bench_share = min(1.0, (bench_user + bench_sys) / bench_wall) if bench_wall else None
if bench:
    gbps = bench.get("aead_16k_gbps", {}).get(engine_name, {}).get("aes128")
    engine.update({"implementation": bench.get("engines", {}).get(engine_name),
                   "aes128_gcm_16k_bytes_per_s_wall": gbps * 1e9 if gbps else None,
                   "tls_bench_running_share": bench_share,
                   "aes128_gcm_16k_bytes_per_s": gbps * 1e9 / bench_share if gbps and bench_share else None,
                   "tls_bench_record_layer_to_raw": bench.get("record_layer_to_raw", {}).get(engine_name),
                   "tls_bench_handshakes_per_s": bench.get("handshakes_per_s")})
else:
    engine["_status"] = "tls_bench failed: " + (load("tls_bench.err") or "")[-200:]
out["engine"] = engine
raw_bps = engine.get("aes128_gcm_16k_bytes_per_s")

# (2) sluice.
sluice = {}
bytes_read, duration, error = wrk_bytes("sluice")
window = lcore_window("sluice")
soft = (diff("sluice.softirq") or 0.0) / clk_tck
if bytes_read and window and tsc_hz:
    lcore_s = window["busy_cpu_s"]
    sluice.update({"bytes": bytes_read, "seconds": duration, "goodput_bytes_per_s": bytes_read / duration,
                   "lcore": window, "server_softirq_s": soft,
                   "bytes_per_lcore_cpu_s": bytes_read / lcore_s if lcore_s else None,
                   "bytes_per_server_cpu_s": bytes_read / (lcore_s + soft) if lcore_s + soft else None})
    pc, pb = delta("sluice", "tls_produce_cycles"), delta("sluice", "tls_produce_bytes")
    if pc and pb and raw_bps:
        sluice["record_layer_cycles_per_byte_wall"] = pc / pb
        sluice["record_layer_cycles_per_byte"] = pc / pb * window["running_share"]
        sluice["engine_raw_cycles_per_byte"] = tsc_hz / raw_bps
        sluice["record_layer_to_raw_time"] = sluice["record_layer_cycles_per_byte"] / (tsc_hz / raw_bps)
    sluice["records_sealed"] = delta("sluice", "tls_records_sealed")
    sluice["records_resealed"] = delta("sluice", "tls_records_resealed")
    sluice["tcp_retransmit_bytes"] = delta("sluice", "tcp_retransmit_bytes")
else:
    sluice["_status"] = "no measurement: " + (error or "stats missing")
out["sluice"] = sluice

# (3) nginx.
nginx = {}
bytes_read, duration, error = wrk_bytes("nginx")
cpu_a, cpu_b = number("nginx.cpu.before"), number("nginx.cpu.after")
soft_a, soft_b = number("nginx.softirq.before"), number("nginx.softirq.after")
if bytes_read and cpu_a is not None and cpu_b is not None:
    worker_s = (cpu_b - cpu_a) / clk_tck
    soft = (soft_b - soft_a) / clk_tck
    nginx.update({"bytes": bytes_read, "seconds": duration, "goodput_bytes_per_s": bytes_read / duration,
                  "worker_cpu_s": worker_s, "server_softirq_s": soft,
                  "bytes_per_server_cpu_s": bytes_read / (worker_s + soft) if worker_s + soft else None})
else:
    nginx["_status"] = "no measurement: " + (error or "nginx CPU not read")
out["nginx"] = nginx

# Handshakes per lcore CPU second against openssl speed on the same core.
speed = {}
for line in (load("speed.txt") or "").splitlines():
    f = line.split(":")
    if f[0] == "+F2" and f[2] == "2048":
        speed["rsa2048"] = float(f[3])
    if f[0] == "+F4" and f[2] == "256":
        speed["ecdsa_p256"] = float(f[3])
handshakes = {}
for key, name in (("ecdsa_p256", "hs-ecdsa"), ("rsa2048", "hs-rsa")):
    done, window = delta(name, "tls_handshakes_completed"), lcore_window(name)
    entry = {"openssl_speed_sign_per_s": speed.get(key)}
    if done and window and window["busy_cpu_s"]:
        entry.update({"handshakes": done, "per_s_wall": done / window["wall_s"], "lcore": window,
                      "per_lcore_cpu_s": done / window["busy_cpu_s"],
                      "failed": delta(name, "tls_handshakes_failed"),
                      "queued": delta(name, "tls_handshakes_queued"),
                      "queue_wait_max_us": (counters(name + ".after.json") or {}).get("tls_handshake_queue_wait_max_us")})
        entry["per_lcore_cpu_s_to_openssl_sign"] = ratio(entry["per_lcore_cpu_s"], speed.get(key))
    else:
        entry["_status"] = "no handshakes measured"
    handshakes[key] = entry
out["handshakes"] = handshakes

out["ratios"] = {
    "sluice_lcore_goodput_to_engine_raw": ratio(sluice.get("bytes_per_lcore_cpu_s"), raw_bps),
    "sluice_record_layer_to_engine_raw_time": sluice.get("record_layer_to_raw_time"),
    "sluice_to_nginx_bytes_per_server_cpu_s": ratio(sluice.get("bytes_per_server_cpu_s"),
                                                    nginx.get("bytes_per_server_cpu_s")),
    "sluice_to_nginx_goodput_wall": ratio(sluice.get("goodput_bytes_per_s"), nginx.get("goodput_bytes_per_s")),
}
print(json.dumps(out, indent=2))
PY
