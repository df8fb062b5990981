# SPDX-License-Identifier: BSD-3-Clause
# tests/integration/lib.sh: shared helpers for lab tests (sourced, not run).
#
# A test prints TAP-style lines, "ok - what" or "not ok - what", which scripts/test counts.
# edge_start writes a config for the lab, starts sluice-dataplane on the lab veth and waits
# until it answers; edge_stop stops it (and checks it stopped cleanly). Everything a test
# starts is stopped by the EXIT trap, even when the test fails half way.

set -uo pipefail
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${SLUICE_BUILD:-$TOP/build}
LAB_INDEX=${SLUICE_LAB_INDEX:-0}   # scripts/lab's index: lets two runs share a machine
if [ "$LAB_INDEX" = 0 ]; then
  NS=sluice-client EDGE_IF=sluice-edge CLIENT_IF=sluice-cl EDGE4=198.18.0.1 EDGE6=fd5c::1 CLIENT4=198.18.0.2 CLIENT6=fd5c::2
else
  NS=sluice-client-$LAB_INDEX EDGE_IF=sluice-edge$LAB_INDEX CLIENT_IF=sluice-cl$LAB_INDEX
  EDGE4=198.18.$LAB_INDEX.1 EDGE6=fd5c:$LAB_INDEX::1 CLIENT4=198.18.$LAB_INDEX.2 CLIENT6=fd5c:$LAB_INDEX::2
fi
# The bridged lab's router namespace and its port towards the client (scripts/lab).
ROUTER_NS=${NS/sluice-client/sluice-router} ROUTER_CLIENT_IF=${CLIENT_IF/sluice-cl/sluice-rc}
WORK=$(mktemp -d /tmp/sluice-test.XXXXXX)
EDGE_PID=
STATS_PATH=$WORK/stats
failures=0

ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; failures=$((failures + 1)); }
check() { # check "description" command...
  local what=$1; shift
  if "$@"; then ok "$what"; else not_ok "$what"; fi
}
in_client() { ip netns exec "$NS" "$@"; }

# Hugepages when setup reserved them and 1024 MB of them are still free (other data planes on
# the machine may hold the rest); --no-huge otherwise. SLUICE_TEST_HUGEPAGES=true|false forces it.
hugepages_setting() {
  local free
  if [ -n "${SLUICE_TEST_HUGEPAGES:-}" ]; then echo "$SLUICE_TEST_HUGEPAGES"; return; fi   # true/false: forced
  free=$(awk '/^HugePages_Free:/ {print $2}' /proc/meminfo)
  [ "$(cat /run/sluice/hugepages 2>/dev/null)" = huge ] && [ "${free:-0}" -ge 512 ] && echo true || echo false
}

# make_store DIR: files of several sizes (random content) and their catalog.
make_store() {
  local dir=$1
  mkdir -p "$dir/video/demo"
  head -c 1000 /dev/urandom >"$dir/video/demo/small.m4s"
  head -c $((2 * 1024 * 1024)) /dev/urandom >"$dir/video/demo/seg-2m.m4s"
  head -c $((64 * 1024 * 1024)) /dev/urandom >"$dir/video/demo/big-64m.mp4"
  : >"$dir/video/demo/empty.vtt"
  "$BUILD/dataplane/sluice-catalog" build "$dir" >/dev/null
}

# edge_config FILE STORE [extra libconfig text for the dataplane group]
# (EDGE_XDP_PROG=path loads that steering program through the af_xdp port)
edge_config() {
  cat >"$1" <<CONF
dataplane = {
  port = { driver = "af_xdp"; iface = "$EDGE_IF"; queues = 1; xdp_prog = "${EDGE_XDP_PROG:-}"; };
  eal = { lcores = [1]; main_lcore = 0; hugepages = $(hugepages_setting); memory_mb = 256;
          file_prefix = "sluice-test$LAB_INDEX"; };
  net = { ipv4 = "$EDGE4"; ipv6 = "$EDGE6"; };
  service = { http_port = 80; https_port = 443; store_root = "$2"; max_connections = 16384; };
  api = { stats_path = "$STATS_PATH"; command_socket = "$WORK/dataplane.sock"; };
  ${3:-}
};
CONF
}

# edge_start CONFIG: start the data plane, wait until it serves HTTP (up to 30 s). When the
# hugepages other data planes on the machine left are too few or too fragmented for one
# UMEM chunk, it starts again once with hugepages = false.
edge_start() {
  "$BUILD/dataplane/sluice-dataplane" --config "$1" >"$WORK/dataplane.log" 2>&1 &
  EDGE_PID=$!
  for _ in $(seq 1 60); do
    if ! kill -0 "$EDGE_PID" 2>/dev/null; then
      if grep -q 'hugepages = true' "$1" && grep -q 'memory chunks\|Cannot init memory' "$WORK/dataplane.log"; then
        echo "# hugepages too few or fragmented here: starting again with hugepages = false"
        sed -i 's/hugepages = true/hugepages = false/' "$1"
        edge_start "$1"
        return
      fi
      echo "# data plane exited during start:"; sed 's/^/# /' "$WORK/dataplane.log"; EDGE_PID=; return 1
    fi
    if in_client curl -s -o /dev/null -m 1 "http://$EDGE4/" 2>/dev/null; then return 0; fi
    sleep 0.5
  done
  echo "# data plane did not answer within 30 s:"; sed 's/^/# /' "$WORK/dataplane.log"
  return 1
}

# edge_stop: SIGTERM and wait; returns the exit status (124 if it did not stop in 15 s).
edge_stop() {
  local rc=0
  [ -n "$EDGE_PID" ] || return 0
  kill -TERM "$EDGE_PID" 2>/dev/null
  for _ in $(seq 1 150); do kill -0 "$EDGE_PID" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$EDGE_PID" 2>/dev/null; then kill -KILL "$EDGE_PID"; rc=124; else wait "$EDGE_PID"; rc=$?; fi
  EDGE_PID=
  return $rc
}

counter() { # counter NAME: total of a data-plane counter
  "$BUILD/dataplane/sluice-stats" --path "$STATS_PATH" "$1" 2>/dev/null | awk '{print $2}'
}

counter_at_least() { # counter_at_least NAME MIN: true once the published counter reaches MIN (3 s)
  for _ in $(seq 1 30); do
    [ "$(counter "$1")" -ge "$2" ] 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

lab_cleanup() {
  edge_stop >/dev/null 2>&1
  "$TOP/scripts/lab" down >/dev/null 2>&1
  rm -rf "$WORK"
}
trap lab_cleanup EXIT

lab_prepare() {
  "$TOP/scripts/lab" down >/dev/null 2>&1
  "$TOP/scripts/lab" up >/dev/null || { not_ok "lab up"; exit 1; }
}
