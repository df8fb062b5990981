#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Page-in without stalling the lcore: a file evicted from the page cache (fsync, then
# posix_fadvise DONTNEED, checked with fincore) is downloaded while 20 downloads of resident
# files run (curl loops over keep-alive, HOT_SECONDS long). The cold download parks on page-ins served by the helper threads and completes
# byte-exact; the hot downloads keep flowing (their rate before and during the cold read is
# measured and printed, not asserted: other data planes may share the machine's cores); the
# counters show the parking and the page-in latency histogram.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/http_lib.sh"

HOT_SECONDS=${HOT_SECONDS:-8}
lab_prepare
mkdir -p "$WORK/store/hot" "$WORK/store/cold"
for i in 1 2 3 4; do head -c $((16 * 1024 * 1024)) /dev/urandom >"$WORK/store/hot/h$i.mp4"; done
head -c $((128 * 1024 * 1024)) /dev/urandom >"$WORK/store/cold/c.mp4"
"$BUILD/dataplane/sluice-catalog" build "$WORK/store" >/dev/null
want_cold=$(sha256sum "$WORK/store/cold/c.mp4" | cut -d' ' -f1)

resident_pages() { fincore --bytes --noheadings --output RES "$1" | tr -d ' '; }
evict "$WORK/store/cold/c.mp4"
res=$(resident_pages "$WORK/store/cold/c.mp4")
check "cold file evicted from the page cache ($res bytes resident of 128 MiB)" [ "${res:-1}" -lt $((8 * 1024 * 1024)) ]

if ! edge_up "$WORK/edge.conf" "$WORK/store"; then not_ok "data plane starts"; exit 1; fi
pin_edge_neighbour "$NS" "$CLIENT_IF" "$EDGE_IF" "$EDGE4"
grep -o 'catalog .*resident' "$WORK/dataplane.log" | sed 's/^/# /'

# hot_load SECONDS OUT: 20 clients, each fetching the hot files over keep-alive until time is
# up; OUT gets one line per completed download (its size).
hot_load() {
  local secs=$1 out=$2 pids=() urls=""
  for i in 1 2 3 4; do urls="$urls -o /dev/null http://$EDGE4/hot/h$i.mp4"; done
  for c in $(seq 1 20); do
    in_client timeout "$secs" bash -c "while :; do curl -s --connect-timeout 5 -w '%{size_download}\n' $urls; done" \
      >"$out.$c" 2>/dev/null &
    pids+=($!)
  done
  wait "${pids[@]}" 2>/dev/null
  cat "$out".* | awk '$1 > 0 {s += $1} END {printf "%.0f\n", s}'
}

before=$(hot_load "$HOT_SECONDS" "$WORK/before")
parked_before=$(counter store_parked_total)
start=$(date +%s.%N)
in_client curl -sS -m 400 --connect-timeout 60 -o "$WORK/cold.out" "http://$EDGE4/cold/c.mp4" &
cold_pid=$!
during=$(hot_load "$HOT_SECONDS" "$WORK/during")
wait $cold_pid; cold_rc=$?
cold_secs=$(echo "$(date +%s.%N) - $start" | bc)
rate() { echo "$1 $HOT_SECONDS" | awk '{printf "%.0f", $1 / $2 / 1e6}'; }
echo "# hot downloads (20 clients): $(rate "$before") MB/s before, $(rate "$during") MB/s during the cold read"
echo "# cold 128 MiB download: $(echo "$cold_secs" | awk '{printf "%.1f s, %.0f MB/s", $1, 134217728 / $1 / 1e6}')"
check "cold download completes (curl $cold_rc)" [ $cold_rc -eq 0 ]
check "cold download is byte-exact" [ "$(sha256sum "$WORK/cold.out" | cut -d' ' -f1)" = "$want_cold" ]
check "hot downloads flowed during the cold read" [ "$during" -gt 0 ]

parked=$(counter store_parked_total)
requests=$(counter store_pagein_requests)
echo "# parked $((parked - parked_before)) times, $requests page-in requests, $(counter store_pagein_failed) failed"
for b in 100us 1ms 10ms 100ms 1s inf; do printf '# store_pagein_le_%s %s\n' $b "$(counter store_pagein_le_$b)"; done
echo "# store_pagein_sum_us $(counter store_pagein_sum_us)"
check "the cold download parked on page-ins" [ $((parked - parked_before)) -gt 0 ]
check "page-ins were requested and measured" [ "$requests" -gt 0 ] && [ "$(counter store_pagein_le_inf)" -gt 0 ]
check "histogram buckets are cumulative" [ "$(counter store_pagein_le_1ms)" -le "$(counter store_pagein_le_10ms)" ] && \
  [ "$(counter store_pagein_le_10ms)" -le "$(counter store_pagein_le_1s)" ] && \
  [ "$(counter store_pagein_le_1s)" -le "$(counter store_pagein_le_inf)" ]
check "no connection left parked" [ "$(counter store_parked)" -eq 0 ]
check "no page-in failed" [ "$(counter store_pagein_failed)" -eq 0 ]
res=$(resident_pages "$WORK/store/cold/c.mp4")
check "the cold file is resident now" [ "$res" -gt $((120 * 1024 * 1024)) ]

edge_stop; rc=$?
check "data plane stops cleanly (exit $rc)" [ $rc -eq 0 ]
exit 0
