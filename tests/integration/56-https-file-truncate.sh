#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# A file that shrinks underneath an HTTPS download (54-file-truncate over TLS): the record
# layer seals from the mapped file inside the AES-GCM engine, so the bytes beyond the new end
# raise SIGBUS there. The sweep is made too slow to notice (scan_interval_ms = 600000): the
# SIGBUS guard around sealing must catch it. The truncated download is reset, a parallel HTTPS
# download completes byte-exact, the process lives on, the counters say what happened, and a
# new HTTPS request for the shrunk file gets 503.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/http_lib.sh"

lab_prepare
random_store "$WORK/store" v/doomed.mp4:128 v/fine.mp4:32
tls=$(https_setup)
if ! edge_up "$WORK/edge.conf" "$WORK/store" "store = { scan_interval_ms = 600000; }; $tls"; then
  not_ok "data plane starts with HTTPS"; exit 1
fi
pin_edge_neighbour "$NS" "$CLIENT_IF" "$EDGE_IF" "$EDGE4"

# Both downloads are slowed by their clients so that the truncation lands in the middle.
https_curl -sS -m 300 --limit-rate 4M -o "$WORK/doomed.out" https://edge.test/v/doomed.mp4 2>"$WORK/doomed.err" &
doomed=$!
https_curl -sS -m 300 --limit-rate 4M -o "$WORK/fine.out" https://edge.test/v/fine.mp4 2>"$WORK/fine.err" &
fine=$!
sleep 2
truncate -s $((1024 * 1024)) "$WORK/store/v/doomed.mp4"
wait $doomed; doomed_rc=$?
wait $fine; fine_rc=$?
sed 's/^/# doomed: /' "$WORK/doomed.err"
got=$(stat -c %s "$WORK/doomed.out" 2>/dev/null || echo 0)
check "the truncated file's HTTPS download fails (curl $doomed_rc, $got bytes)" \
  [ $doomed_rc -ne 0 ] && [ "$got" -lt $((128 * 1024 * 1024)) ]
check "the data plane lives on" kill -0 "$EDGE_PID"
check "the other HTTPS download completes byte-exact (curl $fine_rc)" \
  [ $fine_rc -eq 0 ] && cmp -s "$WORK/fine.out" "$WORK/store/v/fine.mp4"
sleep 0.2 # counters are published every 5 ms
sigbus=$(counter store_sigbus_caught); resets=$(counter store_file_broken_resets)
echo "# store_sigbus_caught $sigbus, store_file_broken_resets $resets, tcp_payload_source_failed" \
  "$(counter tcp_payload_source_failed), tls_records_sealed $(counter tls_records_sealed)"
check "the SIGBUS while sealing was caught" [ "$sigbus" -ge 1 ]
check "the failed response is counted" [ "$resets" -ge 1 ]
check "a new HTTPS request for the shrunk file gets 503" \
  [ "$(https_curl -s -o /dev/null -w '%{http_code}' https://edge.test/v/doomed.mp4)" = 503 ]
https_curl -sS -f -o "$WORK/fine2.out" https://edge.test/v/fine.mp4
check "other files are served over HTTPS as before" cmp -s "$WORK/fine2.out" "$WORK/store/v/fine.mp4"

edge_stop; rc=$?
check "data plane stops cleanly (exit $rc)" [ $rc -eq 0 ]
exit 0
