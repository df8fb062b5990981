#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# perf/http_ranges.sh: requests per second for 16 KiB ranges over keep-alive from many
# connections, sluice against nginx, on one lab and the same files; then the same with 10 % of
# the requests aimed at a file evicted from the page cache. Prints one JSON object on stdout
# (progress on stderr). A benchmark, not a test: nothing is asserted.
#
#   sudo perf/http_ranges.sh        (after a build; SLUICE_BUILD=dir to use another)
#
# Environment: SLUICE_LAB_INDEX (default 2), CONNECTIONS (64), SECONDS_PER_RUN (10),
# RANGE_BYTES (16384), COLD_PERCENT (10), HOT_MIB (64), COLD_MIB (2048), NGINX_PORT.
#
# Method. The client is wrk (one thread) in the lab's client namespace; perf/http_ranges.lua
# draws an aligned random range per request. nginx (Debian nginx-light, one worker, sendfile,
# tests/integration/http_lib.sh's config) serves the store from the edge-side kernel with the
# data plane stopped; then sluice serves it (one worker lcore). Before each cold run the cold
# file is evicted (fsync + POSIX_FADV_DONTNEED), and the server is started after that, so both
# begin with the same cold page cache; the cold file is large so that most cold requests stay
# cold during a run. A third run per server puts COLD_CONNECTIONS clients that ask only for cold
# ranges beside the CONNECTIONS hot-only clients: the hot clients' rate against the hot run is
# what cold reads cost everyone else (hot_drop_beside_cold_percent). Both servers share the
# machine with the client (2 cores: the lcore polls one, wrk, nginx, the kernel and the page-in
# helpers share the other) and with anything else running: compare runs made together, not
# across machines.
set -uo pipefail
export SLUICE_LAB_INDEX=${SLUICE_LAB_INDEX:-2}
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/tests/integration/lib.sh"
. "$TOP/tests/integration/http_lib.sh"
exec 3>&1 1>&2 # results on fd 3, progress on stderr

CONNECTIONS=${CONNECTIONS:-64}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-10}
RANGE_BYTES=${RANGE_BYTES:-16384}
COLD_PERCENT=${COLD_PERCENT:-10}
COLD_CONNECTIONS=$(( CONNECTIONS * COLD_PERCENT / 100 > 0 ? CONNECTIONS * COLD_PERCENT / 100 : 1 ))
HOT_MIB=${HOT_MIB:-64}
COLD_MIB=${COLD_MIB:-2048}
NGINX_PORT=${NGINX_PORT:-$((8000 + LAB_INDEX))}
cleanup_bench() { nginx_stop; lab_cleanup; }
trap cleanup_bench EXIT

command -v wrk >/dev/null || { echo "wrk is missing: run scripts/setup"; exit 1; }
lab_prepare
mkdir -p "$WORK/store/bench"
echo "writing ${HOT_MIB} MiB hot and ${COLD_MIB} MiB cold files"
head -c $((HOT_MIB << 20)) /dev/urandom >"$WORK/store/bench/hot.mp4"
head -c $((COLD_MIB << 20)) /dev/urandom >"$WORK/store/bench/cold.mp4"
"$BUILD/dataplane/sluice-catalog" build "$WORK/store" >/dev/null

# run NAME URL COLD%: one wrk run; prints its JSON.
run() {
  in_client wrk -t1 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" --timeout 10s -s "$TOP/perf/http_ranges.lua" "$2" -- \
    /bench/hot.mp4 $((HOT_MIB << 20)) /bench/cold.mp4 $((COLD_MIB << 20)) "$3" "$RANGE_BYTES" | tail -1
}
# run_split URL: hot-only clients (CONNECTIONS) while COLD_CONNECTIONS other clients ask only
# for cold ranges, both at once; prints the hot run's JSON (what a page-in costs the others).
run_split() {
  local cold_out=$WORK/cold-clients.json
  in_client wrk -t1 -c"$COLD_CONNECTIONS" -d"${SECONDS_PER_RUN}s" --timeout 10s -s "$TOP/perf/http_ranges.lua" "$1" -- \
    /bench/hot.mp4 $((HOT_MIB << 20)) /bench/cold.mp4 $((COLD_MIB << 20)) 100 "$RANGE_BYTES" | tail -1 >"$cold_out" &
  run hot "$1" 0
  wait
}
warm() { in_client wrk -t1 -c"$CONNECTIONS" -d2s -s "$TOP/perf/http_ranges.lua" "$1" -- \
  /bench/hot.mp4 $((HOT_MIB << 20)) /bench/cold.mp4 $((COLD_MIB << 20)) 0 "$RANGE_BYTES" >/dev/null; }

echo "nginx on $EDGE4:$NGINX_PORT"
evict "$WORK/store/bench/cold.mp4"
nginx_start "$WORK/store" "$WORK/nginx" "$EDGE4" "$NGINX_PORT" || exit 1
warm "http://$EDGE4:$NGINX_PORT"
nginx_hot=$(run hot "http://$EDGE4:$NGINX_PORT" 0)
evict "$WORK/store/bench/cold.mp4"
nginx_cold=$(run cold "http://$EDGE4:$NGINX_PORT" "$COLD_PERCENT")
evict "$WORK/store/bench/cold.mp4"
nginx_split=$(run_split "http://$EDGE4:$NGINX_PORT")
nginx_stop

echo "sluice on $EDGE4:80"
evict "$WORK/store/bench/cold.mp4"
edge_up "$WORK/edge.conf" "$WORK/store" || exit 1
pin_edge_neighbour "$NS" "$CLIENT_IF" "$EDGE_IF" "$EDGE4"
warm "http://$EDGE4"
sluice_hot=$(run hot "http://$EDGE4" 0)
parked_before=$(counter store_parked_total)
sluice_cold=$(run cold "http://$EDGE4" "$COLD_PERCENT")
evict "$WORK/store/bench/cold.mp4"
sluice_split=$(run_split "http://$EDGE4")
sleep 0.2
pagein=$(printf '{"parked":%d,"requests":%d,"le_1ms":%d,"le_10ms":%d,"le_100ms":%d,"count":%d,"sum_us":%d}' \
  $(( $(counter store_parked_total) - parked_before )) "$(counter store_pagein_requests)" \
  "$(counter store_pagein_le_1ms)" "$(counter store_pagein_le_10ms)" "$(counter store_pagein_le_100ms)" \
  "$(counter store_pagein_le_inf)" "$(counter store_pagein_sum_us)")
hugepages=$(grep -q 'hugepages = true' "$WORK/edge.conf" && echo true || echo false)
edge_stop

python3 - "$nginx_hot" "$nginx_cold" "$sluice_hot" "$sluice_cold" "$pagein" "$nginx_split" "$sluice_split" >&3 <<PY
import json, sys
def rate(r):
    r = json.loads(r)
    r["requests_per_s"] = round(r["requests"] / r["seconds"])
    r["mb_per_s"] = round(r["bytes"] / r["seconds"] / 1e6, 1)
    return r
nh, nc, sh, sc, pagein = (sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], json.loads(sys.argv[5]))
ns, ss = sys.argv[6], sys.argv[7]
out = {
    "bench": "http_ranges",
    "lab": $LAB_INDEX,
    "connections": $CONNECTIONS,
    "seconds_per_run": $SECONDS_PER_RUN,
    "range_bytes": $RANGE_BYTES,
    "cold_percent": $COLD_PERCENT,
    "hot_mib": $HOT_MIB,
    "cold_mib": $COLD_MIB,
    "sluice_hugepages": "$hugepages" == "true",
    "cold_connections": $COLD_CONNECTIONS,
    "nginx": {"hot": rate(nh), "cold": rate(nc), "hot_beside_cold_clients": rate(ns)},
    "sluice": {"hot": rate(sh), "cold": rate(sc), "hot_beside_cold_clients": rate(ss), "pagein": pagein},
}
for server in ("nginx", "sluice"):
    o = out[server]
    o["hot_drop_beside_cold_percent"] = round(100 * (1 - o["hot_beside_cold_clients"]["requests_per_s"] /
                                                     max(1, o["hot"]["requests_per_s"])), 1)
out["sluice_vs_nginx_hot"] = round(out["sluice"]["hot"]["requests_per_s"] / max(1, out["nginx"]["hot"]["requests_per_s"]), 2)
out["sluice_vs_nginx_cold"] = round(out["sluice"]["cold"]["requests_per_s"] / max(1, out["nginx"]["cold"]["requests_per_s"]), 2)
print(json.dumps(out))
PY
