#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Downloads through a lossy, rate-limited path: the bridged lab (SLUICE_LAB_BRIDGE=1
# scripts/lab up) with the loss program and TBF on the bridge port towards the client
# (scripts/lab shape). A 16 MiB file, over IPv4 and IPv6, under 0.1 %, 1 % and 5 % random
# loss, bursty loss (Gilbert-Elliott), a 100 mbit TBF bottleneck, and a client whose receive
# buffer is clamped small (zero windows). The checks are completion and byte-exactness only:
# no timing assertions (other data planes may share the CPU). Each case prints goodput, the
# data plane's retransmitted bytes and what the path dropped.
#
# A case that does not finish within its timeout (each takes seconds; the timeout is minutes)
# or finishes with wrong bytes fails, with its numbers printed. Cases run one after another on one data
# plane, so each one's counters are the difference over its download.
# timeout: 1800
. "$(dirname "$0")/lib.sh"
export SLUICE_LAB_BRIDGE=1
LAB="$TOP/scripts/lab"
CASE_TIMEOUT=${SLUICE_LOSS_CASE_TIMEOUT:-240}   # seconds per download
# SLUICE_LOSS_CASES=TEXT runs only the cases whose name contains TEXT.

lab_prepare

# XDP_TX on the edge veth reaches the client at once: the steering program refuses a SYN to
# a closed service with an RST built in place, which needs the XDP program on the router
# side of the veth (see bpf/README.md, "On veth").
steer_pins=/sys/fs/bpf/sluice-test-$$
mkdir -p "$steer_pins"
steer() { "$BUILD/control/sluice-steer" --pin-dir "$steer_pins" "$@" >/dev/null; }
if steer load "$EDGE_IF" && steer service add "$EDGE4" 80 --id 1 && steer admission set 1 closed; then
  in_client ping -c 1 -W 2 "$EDGE4" >/dev/null 2>&1   # ARP through the kernel, which holds EDGE4 too
  refused=$(in_client curl -s -o /dev/null -m 3 -w '%{exitcode}' "http://$EDGE4/" 2>/dev/null)
  check "an RST sent with XDP_TX by the edge reaches the client at once (curl exit ${refused:-?}: 7 = refused)" \
    [ "${refused:-}" = 7 ]
else
  not_ok "steering program loads on the bridged lab's edge veth"
fi
"$BUILD/control/sluice-steer" unload "$EDGE_IF" >/dev/null 2>&1
rm -rf "$steer_pins"

mkdir -p "$WORK/store/video/demo"
head -c $((16 * 1024 * 1024)) /dev/urandom >"$WORK/store/video/demo/seg-16m.m4s"
"$BUILD/dataplane/sluice-catalog" build "$WORK/store" >/dev/null
edge_config "$WORK/edge.conf" "$WORK/store"
if ! edge_start "$WORK/edge.conf"; then not_ok "data plane starts and serves on the bridged lab"; exit 1; fi
ok "data plane starts and serves on the bridged lab"
check "a pass-through XDP program is on the router side of the edge veth" \
  bash -c "ip -n $ROUTER_NS -d link show | grep -q prog/xdp"

want=$(sha256sum "$WORK/store/video/demo/seg-16m.m4s" | cut -d' ' -f1)
RMEM_DEFAULT=$(in_client sysctl -n net.ipv4.tcp_rmem)

# The zero-window client: reads the response in 1 MiB steps with a 0.2 s pause after each, so
# its small receive buffer fills and it advertises zero windows; prints "size seconds sha256".
cat >"$WORK/slow_reader.py" <<'PY'
import hashlib, socket, sys, time
host, path, family, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
s = socket.socket(socket.AF_INET6 if family == 6 else socket.AF_INET, socket.SOCK_STREAM)
s.settimeout(timeout)
t0 = time.time()
s.connect((host, 80))
s.sendall(("GET %s HTTP/1.1\r\nHost: edge\r\nConnection: close\r\n\r\n" % path).encode())
buf = b""
while b"\r\n\r\n" not in buf:
    d = s.recv(4096)
    if not d: sys.exit("connection closed before the response head")
    buf += d
body = buf.split(b"\r\n\r\n", 1)[1]
h = hashlib.sha256(body); n = len(body); pause_at = 1 << 20
while time.time() - t0 < timeout:
    d = s.recv(65536)
    if not d: break
    h.update(d); n += len(d)
    if n >= pause_at:
        time.sleep(0.2); pause_at += 1 << 20
print(n, "%.3f" % (time.time() - t0), h.hexdigest())
PY

# name | scripts/lab shape arguments | client receive buffer (tcp_rmem) or "-" | client: curl
# (default) or slow-reader
CASES=(
  "0.1% random loss|unlimited --loss 0.001 --seed 11|-|"
  "1% random loss|unlimited --loss 0.01 --seed 12|-|"
  "5% random loss|unlimited --loss 0.05 --seed 13|-|"
  "bursty loss (enter 0.2%, exit 30%, 70% in bursts, 0.05% between)|unlimited --loss 0.0005 --burst-enter 0.002 --burst-exit 0.3 --burst-loss 0.7 --seed 14|-|"
  "100 mbit TBF bottleneck|100mbit --queue-ms 20|-|"
  "client receive buffer clamped to 16 KB, reading with pauses (zero windows)|unlimited|4096 8192 16384|slow-reader"
)

json_field() { sed -n "s/.*\"$1\": \([0-9]*\).*/\1/p"; }
# tcp_ext NAME: the client kernel's TcpExt counter (e.g. TCPToZeroWindowAdv: windows it closed).
tcp_ext() {
  in_client awk -v n="$1" '$1 == "TcpExt:" { if (!h) { for (i = 2; i <= NF; i++) k[i] = $i; h = 1 }
    else for (i = 2; i <= NF; i++) if (k[i] == n) print $i }' /proc/net/netstat
}

run_case() { # run_case FAMILY NAME SHAPE RMEM CURL_EXTRA
  local family=$1 name=$2 shape=$3 rmem=$4 extra=$5 url out rc=0 stats retx0 retx1 zw0 zw1 size secs speed sum
  local dropped_bytes=0 dropped_packets=0 tbf_drops zero_windows
  # shellcheck disable=SC2086
  "$LAB" shape $shape >/dev/null || { not_ok "$name over IPv$family: shaping"; return; }
  if [ "$rmem" != - ]; then in_client sysctl -qw net.ipv4.tcp_rmem="$rmem"; fi
  if [ "$family" = 6 ]; then url="http://[$EDGE6]/video/demo/seg-16m.m4s"; else url="http://$EDGE4/video/demo/seg-16m.m4s"; fi
  out=$WORK/case.out
  rm -f "$out"
  sleep 0.3
  retx0=$(counter tcp_retransmit_bytes); zw0=$(tcp_ext TCPToZeroWindowAdv)
  if [ "$extra" = slow-reader ]; then
    local host=$EDGE4 got
    [ "$family" = 4 ] || host=$EDGE6
    got=$(in_client python3 "$WORK/slow_reader.py" "$host" /video/demo/seg-16m.m4s "$family" "$CASE_TIMEOUT" \
      2>"$WORK/curl.err") || rc=$?
    read -r size secs sum <<<"${got:-0 0 -}"
    stats="$size $secs $(awk -v b="$size" -v t="$secs" 'BEGIN {print (t > 0 ? b / t : 0)}')"
    [ "$sum" = "$want" ] && cp "$WORK/store/video/demo/seg-16m.m4s" "$out"
    if [ $rc -eq 0 ] && [ "$size" -lt 16777216 ]; then rc=28; fi
  else
    stats=$(in_client curl -"$family" -sS -f -m "$CASE_TIMEOUT" --connect-timeout 30 -o "$out" \
      -w '%{size_download} %{time_total} %{speed_download}' "$url" 2>"$WORK/curl.err") || rc=$?
  fi
  sleep 0.3
  retx1=$(counter tcp_retransmit_bytes); zw1=$(tcp_ext TCPToZeroWindowAdv)
  zero_windows=$((zw1 - zw0))
  if [ "$shape" != "${shape/--loss/}" ] || [ "$shape" != "${shape/--burst/}" ]; then
    local js; js=$("$LAB" loss-stats 2>/dev/null)
    dropped_bytes=$(echo "$js" | json_field dropped_bytes); dropped_packets=$(echo "$js" | json_field dropped_packets)
  fi
  tbf_drops=$(ip netns exec "$ROUTER_NS" tc -s qdisc show dev "$ROUTER_CLIENT_IF" root | awk '/dropped/ {gsub(",", "", $7); print $7; exit}')
  [ "$rmem" = - ] || in_client sysctl -qw net.ipv4.tcp_rmem="$RMEM_DEFAULT"
  "$LAB" unshape >/dev/null
  read -r size secs speed <<<"${stats:-0 0 0}"
  [ -n "$size" ] || size=0
  echo "# $name, IPv$family: $(awk -v s="$speed" 'BEGIN {printf "%.1f", s * 8 / 1e6}') Mbit/s goodput," \
    "${secs}s, $size bytes; data plane retransmitted $((retx1 - retx0)) bytes;" \
    "loss program dropped $dropped_packets packets / $dropped_bytes bytes; TBF dropped ${tbf_drops:-0} packets;" \
    "client advertised $zero_windows zero windows"
  if [ $rc -eq 28 ]; then
    not_ok "$name over IPv$family: did not complete within ${CASE_TIMEOUT}s ($size of 16777216 bytes)"
    return
  fi
  if [ $rc -ne 0 ]; then
    not_ok "$name over IPv$family: curl exited $rc ($(head -c 200 "$WORK/curl.err"))"
    return
  fi
  check "$name over IPv$family: completed byte-exact" [ "$(sha256sum "$out" | cut -d' ' -f1)" = "$want" ]
  if [ "$rmem" != - ]; then
    check "$name over IPv$family: the client closed its window ($zero_windows times)" [ "$zero_windows" -gt 0 ]
  fi
}

for family in 4 6; do
  for c in "${CASES[@]}"; do
    IFS='|' read -r name shape rmem extra <<<"$c"
    case "$name" in *${SLUICE_LOSS_CASES:-}*) ;; *) continue ;; esac   # run a subset by name
    run_case "$family" "$name" "$shape" "$rmem" "$extra"
  done
done

# Steering-test prerequisite: the client still reaches the edge after all this.
check "still serving after the loss cases" in_client curl -sS -f -m 30 -o /dev/null "http://$EDGE4/video/demo/seg-16m.m4s"
edge_stop; rc=$?
check "data plane stops cleanly on SIGTERM (exit $rc)" [ $rc -eq 0 ]
"$LAB" down >/dev/null
check "lab down removes the router namespace" bash -c "! ip netns list | awk '{print \$1}' | grep -qx $ROUTER_NS"
exit 0
