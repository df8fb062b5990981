# SPDX-License-Identifier: BSD-3-Clause
# tests/integration/control_lib.sh: helpers for the control plane's lab tests (sourced after
# lib.sh, not run).
#
# control_conf FILE STORE [control settings] [dataplane settings] writes one config for both
# processes: the data plane on the lab veth (with the XDP steering program unless
# STEER=0) and sluice-control on 127.0.0.1:$CTL_PORT with a token file, state dir and access
# log under $WORK. dp_start / dp_kill / ctl_start / ctl_stop start and stop them;
# api METHOD PATH [BODY] calls the REST API (status in $HTTP, body in $WORK/resp);
# everything started here (and whatever a test registers with track_pid) is stopped by the
# EXIT trap, and the steering policy the test added for this lab is removed.
#
# Steering maps are pinned by name under /sys/fs/bpf, shared by every lab on the machine: a
# test uses service id $LAB_INDEX (so its admission slot is its own) and holds
# /run/lock/sluice-steer-pins.lock while it runs, so two steering tests do not interleave.

CTL_PORT=${CTL_PORT:-$((8700 + LAB_INDEX))}
CTL_URL=http://127.0.0.1:$CTL_PORT
TOKEN=sluice-test-token-$LAB_INDEX-0123456789abcdef
TOKEN_FILE=$WORK/tokens
SERVICE_ID=$LAB_INDEX
STEER=${STEER:-1}
CTL_PID=
DP_PID=
TRACKED_PIDS=()
CLEANUP_HOOKS=()
HTTP=

printf 'ops %s\n' "$TOKEN" >"$TOKEN_FILE"
chmod 600 "$TOKEN_FILE"

track_pid() { TRACKED_PIDS+=("$1"); }
on_cleanup() { CLEANUP_HOOKS+=("$1"); }

# control_conf FILE STORE [control text] [dataplane text]
control_conf() {
  local xdp=""
  [ "$STEER" = 1 ] && xdp="xdp_prog = \"$BUILD/bpf/steer.bpf.o\";"
  cat >"$1" <<CONF
dataplane = {
  port = { driver = "af_xdp"; iface = "$EDGE_IF"; queues = 1; service_id = $SERVICE_ID; $xdp };
  eal = { lcores = [1]; main_lcore = 0; hugepages = $(hugepages_setting); memory_mb = 256;
          file_prefix = "sluice-ctltest$LAB_INDEX"; };
  net = { ipv4 = "$EDGE4"; ipv6 = "$EDGE6"; };
  service = { http_port = 80; https_port = 443; store_root = "$2"; max_connections = 16384; };
  api = { stats_path = "$STATS_PATH"; command_socket = "$WORK/dataplane.sock"; };
  ${4:-}
};
control = {
  listen = "127.0.0.1:$CTL_PORT";
  token_file = "$TOKEN_FILE";
  state_dir = "$WORK/state";
  access_log = "$WORK/access.log";
  edge_id = "lab$LAB_INDEX";
  tick_ms = 100;
  ${3:-}
};
CONF
}

# dp_start CONFIG: start the data plane in the background (does not wait: with steering the
# data plane only gets traffic once sluice-control has put its services in the map).
dp_start() {
  # A data plane killed with SIGKILL leaves its XDP program attached, and the af_xdp PMD will
  # not replace one: detach it first, as a service manager's pre-start would.
  [ "$STEER" = 1 ] && steer unload "$EDGE_IF" >/dev/null 2>&1
  "$BUILD/dataplane/sluice-dataplane" --config "$1" >>"$WORK/dataplane.log" 2>&1 &
  DP_PID=$!
  EDGE_PID=$DP_PID
}

# dp_wait_serving: the client gets an answer over HTTP (up to 30 s).
dp_wait_serving() {
  for _ in $(seq 1 60); do
    if [ -n "$DP_PID" ] && ! kill -0 "$DP_PID" 2>/dev/null; then
      echo "# data plane exited:"; tail -20 "$WORK/dataplane.log" | sed 's/^/# /'; return 1
    fi
    in_client curl -s -o /dev/null -m 1 "http://$EDGE4/" 2>/dev/null && return 0
    sleep 0.5
  done
  echo "# data plane does not serve:"; tail -20 "$WORK/dataplane.log" | sed 's/^/# /'; return 1
}

dp_stop() {
  [ -n "$DP_PID" ] || return 0
  kill -TERM "$DP_PID" 2>/dev/null
  for _ in $(seq 1 150); do kill -0 "$DP_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$DP_PID" 2>/dev/null
  wait "$DP_PID" 2>/dev/null
  DP_PID=; EDGE_PID=
}

dp_kill9() {
  [ -n "$DP_PID" ] || return 0
  kill -KILL "$DP_PID" 2>/dev/null
  wait "$DP_PID" 2>/dev/null
  DP_PID=; EDGE_PID=
}

# ctl_start CONFIG: start sluice-control and wait until its API answers (up to 10 s).
ctl_start() {
  "$BUILD/control/sluice-control" --config "$1" >>"$WORK/control.log" 2>&1 &
  CTL_PID=$!
  for _ in $(seq 1 100); do
    if ! kill -0 "$CTL_PID" 2>/dev/null; then
      echo "# sluice-control exited:"; tail -20 "$WORK/control.log" | sed 's/^/# /'; CTL_PID=; return 1
    fi
    curl -s -o /dev/null -m 1 "$CTL_URL/v1/health" && return 0
    sleep 0.1
  done
  echo "# sluice-control does not answer:"; tail -20 "$WORK/control.log" | sed 's/^/# /'; return 1
}

# ctl_stop [SIGNAL]: stop sluice-control (TERM by default); returns its exit status.
ctl_stop() {
  local rc=0
  [ -n "$CTL_PID" ] || return 0
  kill "-${1:-TERM}" "$CTL_PID" 2>/dev/null
  for _ in $(seq 1 100); do kill -0 "$CTL_PID" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$CTL_PID" 2>/dev/null; then kill -KILL "$CTL_PID"; rc=124; wait "$CTL_PID" 2>/dev/null
  else wait "$CTL_PID"; rc=$?; fi
  CTL_PID=
  return $rc
}

# api METHOD PATH [BODY [CONTENT_TYPE]]: authenticated call; $HTTP gets the status.
api() {
  local args=(-s -o "$WORK/resp" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $TOKEN" -m 60)
  if [ $# -ge 3 ]; then args+=(-H "Content-Type: ${4:-application/json}" --data-binary "$3"); fi
  HTTP=$(curl "${args[@]}" "$CTL_URL$2")
}
# api_raw CURL-ARGS...: any request; $HTTP gets the status, the body is in $WORK/resp.
api_raw() { HTTP=$(curl -s -o "$WORK/resp" -w '%{http_code}' -m 60 "$@"); }
# jq_resp EXPR: evaluates a Python expression on the last answer (bound to j).
jq_resp() { python3 -c "import json,sys; j=json.load(open('$WORK/resp')); print($1)" 2>/dev/null; }
# health_field EXPR: the same on a fresh GET /v1/health.
health_field() {
  curl -s -m 5 "$CTL_URL/v1/health" >"$WORK/health"
  python3 -c "import json; j=json.load(open('$WORK/health')); print($1)" 2>/dev/null
}
# wait_for SECONDS COMMAND...: polls every 0.2 s until COMMAND succeeds.
wait_for() {
  local deadline=$(( $(date +%s%N) + $1 * 1000000000 )); shift
  while [ "$(date +%s%N)" -lt $deadline ]; do "$@" && return 0; sleep 0.2; done
  "$@"
}
# wait_until SECONDS 'shell code': the same for code evaluated afresh each time (use single
# quotes so that $(...) inside runs on every try).
wait_until() {
  local deadline=$(( $(date +%s%N) + $1 * 1000000000 )) code=$2
  while [ "$(date +%s%N)" -lt $deadline ]; do eval "$code" && return 0; sleep 0.2; done
  eval "$code"
}
sha() { sha256sum "$1" | cut -d' ' -f1; }
steer() { "$BUILD/control/sluice-steer" "$@"; }

# Removes the steering policy of this lab (services of its addresses, its admission slot,
# the test prefixes it blocked) from the shared pinned maps.
steer_cleanup() {
  [ -e /sys/fs/bpf/sluice_services ] || return 0
  for a in "$EDGE4" "$EDGE6"; do for p in 80 443 8080; do steer service del "$a" "$p" >/dev/null 2>&1; done; done
  steer admission set "$SERVICE_ID" open >/dev/null 2>&1
  for p in "$CLIENT4/32" "198.51.100.0/24" "203.0.113.0/24" "2001:db8:bad::/48"; do steer block del "$p" >/dev/null 2>&1; done
}

control_cleanup() {
  ctl_stop >/dev/null 2>&1
  for pid in "${TRACKED_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${TRACKED_PIDS[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  done
  dp_stop >/dev/null 2>&1
  for hook in "${CLEANUP_HOOKS[@]}"; do eval "$hook" >/dev/null 2>&1; done
  [ "$STEER" = 1 ] && steer_cleanup
  lab_cleanup
}
trap control_cleanup EXIT

steer_lock() {
  [ "$STEER" = 1 ] || return 0
  mkdir -p /run/lock
  exec 9>/run/lock/sluice-steer-pins.lock
  flock -w 600 9 || { not_ok "steering pins lock"; exit 1; }
}

# client_xdp_pass: an XDP program that passes everything, on the client's veth. The steering
# program refuses SYNs with an RST sent by XDP_TX, and a veth delivers XDP_TX frames promptly
# only when its peer runs XDP too (bpf/README.md); without it a refused connect can hang.
client_xdp_pass() {
  printf '%s\n' '#include <linux/bpf.h>' '__attribute__((section("xdp"), used)) int pass(struct xdp_md *ctx) { return XDP_PASS; }' \
    'char _license[] __attribute__((section("license"), used)) = "GPL";' >"$WORK/xdp_pass.c"
  clang -O2 -target bpf -I/usr/include/x86_64-linux-gnu -c "$WORK/xdp_pass.c" -o "$WORK/xdp_pass.o" &&
    ip -n "$NS" link set dev "$CLIENT_IF" xdp obj "$WORK/xdp_pass.o" sec xdp
}

# client_small_rcvbuf: a small TCP receive buffer in the client namespace, so that a client
# reading slowly (curl --limit-rate) holds the edge to its pace instead of the kernel buffering
# megabytes: the edge's connection then really lasts as long as the download.
client_small_rcvbuf() {
  ip netns exec "$NS" sysctl -q -w net.ipv4.tcp_rmem="4096 32768 65536" net.ipv4.tcp_window_scaling=1
}

# make_small_store DIR: a few files (no 64 MiB one) and their catalog.
make_small_store() {
  mkdir -p "$1/video/demo"
  head -c 1000 /dev/urandom >"$1/video/demo/small.m4s"
  head -c $((2 * 1024 * 1024)) /dev/urandom >"$1/video/demo/seg-2m.m4s"
  : >"$1/video/demo/empty.vtt"
  "$BUILD/dataplane/sluice-catalog" build "$1" >/dev/null
}

# Brings up the lab, the data plane and sluice-control with CONFIG; waits until the client is
# served (through the steering program when STEER=1).
control_up() {
  lab_prepare
  steer_lock
  dp_start "$1"
  ctl_start "$1" || { not_ok "sluice-control starts"; exit 1; }
  dp_wait_serving || { not_ok "data plane serves the client"; exit 1; }
}
