#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Page-in under HTTPS (51-store-pagein over TLS): files evicted from the page cache are
# downloaded over TLS 1.3 and 1.2 while a resident file is downloaded over HTTPS beside them.
# The cold downloads park on page-ins served by the helper threads and complete byte-exact
# (every record authenticates, or curl fails); no connection is reset for want of resident
# bytes (tcp_payload_source_failed stays 0); the counters show the parking.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/http_lib.sh"

lab_prepare
random_store "$WORK/store" hot/h.mp4:32 cold/c13.mp4:64 cold/c12.mp4:64
for v in 13 12; do evict "$WORK/store/cold/c$v.mp4"; done
res=$(fincore --bytes --noheadings --output RES "$WORK/store/cold/c13.mp4" | tr -d ' ')
check "cold file evicted from the page cache ($res bytes resident of 64 MiB)" [ "${res:-1}" -lt $((8 * 1024 * 1024)) ]
tls=$(https_setup)
if ! edge_up "$WORK/edge.conf" "$WORK/store" "$tls"; then not_ok "data plane starts with HTTPS"; exit 1; fi
pin_edge_neighbour "$NS" "$CLIENT_IF" "$EDGE_IF" "$EDGE4"

parked_before=$(counter store_parked_total)
https_curl -sS -m 400 --tlsv1.3 -o "$WORK/c13.out" https://edge.test/cold/c13.mp4 &
c13=$!
https_curl -sS -m 400 --tlsv1.2 --tls-max 1.2 -o "$WORK/c12.out" https://edge.test/cold/c12.mp4 &
c12=$!
https_curl -sS -m 400 -o "$WORK/hot.out" https://edge.test/hot/h.mp4; hot_rc=$?
wait $c13; c13_rc=$?
wait $c12; c12_rc=$?
check "the hot HTTPS download beside them is byte-exact (curl $hot_rc)" \
  [ $hot_rc -eq 0 ] && cmp -s "$WORK/hot.out" "$WORK/store/hot/h.mp4"
check "TLS 1.3: the cold download is byte-exact (curl $c13_rc)" \
  [ $c13_rc -eq 0 ] && cmp -s "$WORK/c13.out" "$WORK/store/cold/c13.mp4"
check "TLS 1.2: the cold download is byte-exact (curl $c12_rc)" \
  [ $c12_rc -eq 0 ] && cmp -s "$WORK/c12.out" "$WORK/store/cold/c12.mp4"
sleep 0.2 # counters are published every 5 ms
parked=$(($(counter store_parked_total) - parked_before))
echo "# parked $parked times, $(counter store_pagein_requests) page-in requests," \
  "$(counter store_not_resident_retries) not-resident retries, $(counter tls_records_resealed) records resealed"
check "the cold downloads parked on page-ins" [ "$parked" -gt 0 ]
check "no connection was reset for want of resident bytes" [ "$(counter tcp_payload_source_failed)" -eq 0 ]
check "no page-in failed, none left parked" [ "$(counter store_pagein_failed)" -eq 0 ] && \
  [ "$(counter store_parked)" -eq 0 ]

edge_stop; rc=$?
check "data plane stops cleanly (exit $rc)" [ $rc -eq 0 ]
exit 0
