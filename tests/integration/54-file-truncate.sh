#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# A file that shrinks underneath: while two downloads run, one file is truncated on disk. Its
# download fails (the connection is reset: by the sweep's size check, which marks the file
# broken, or by the SIGBUS guard around the copy from the mapping, whichever sees it first);
# the other download completes byte-exact; the process lives on; the counters say what
# happened; a new request for the shrunk file gets 503; a file deleted (not truncated) keeps
# being served from the open mapping.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/http_lib.sh"

lab_prepare
random_store "$WORK/store" v/doomed.mp4:128 v/fine.mp4:32 v/unlinked.mp4:4
cp "$WORK/store/v/unlinked.mp4" "$WORK/unlinked.orig"
if ! edge_up "$WORK/edge.conf" "$WORK/store"; then not_ok "data plane starts"; exit 1; fi
pin_edge_neighbour "$NS" "$CLIENT_IF" "$EDGE_IF" "$EDGE4"

# Both downloads are slowed by their clients so that the truncation lands in the middle.
in_client curl -sS -m 300 --limit-rate 4M -o "$WORK/doomed.out" "http://$EDGE4/v/doomed.mp4" 2>"$WORK/doomed.err" &
doomed=$!
in_client curl -sS -m 300 --limit-rate 4M -o "$WORK/fine.out" "http://$EDGE4/v/fine.mp4" 2>"$WORK/fine.err" &
fine=$!
sleep 2
truncate -s $((1024 * 1024)) "$WORK/store/v/doomed.mp4"
rm "$WORK/store/v/unlinked.mp4"
wait $doomed; doomed_rc=$?
wait $fine; fine_rc=$?
sed 's/^/# doomed: /' "$WORK/doomed.err"
got=$(stat -c %s "$WORK/doomed.out" 2>/dev/null || echo 0)
check "the truncated file's download fails (curl $doomed_rc, $got bytes)" [ $doomed_rc -ne 0 ] && [ "$got" -lt $((128 * 1024 * 1024)) ]
check "the data plane lives on" kill -0 "$EDGE_PID"
check "the other download completes byte-exact" [ $fine_rc -eq 0 ] && cmp -s "$WORK/fine.out" "$WORK/store/v/fine.mp4"
sleep 0.2 # counters are published every 5 ms
resets=$(counter store_file_broken_resets); sigbus=$(counter store_sigbus_caught)
echo "# store_file_broken_resets $resets, store_sigbus_caught $sigbus, tcp_payload_source_failed $(counter tcp_payload_source_failed)"
check "the failed response is counted" [ "$resets" -ge 1 ]
for _ in $(seq 1 100); do grep -q 'doomed.mp4 shrank' "$WORK/dataplane.log" && break; sleep 0.1; done
grep 'shrank\|shorter' "$WORK/dataplane.log" | sed 's/^/# /'
check "the sweep reports the shrunk file" grep -q 'doomed.mp4 shrank to 1048576 bytes' "$WORK/dataplane.log"
check "a new request for the shrunk file gets 503" \
  [ "$(in_client curl -s -o /dev/null -w '%{http_code}' "http://$EDGE4/v/doomed.mp4")" = 503 ]
sleep 0.2
check "refusals counted" [ "$(counter store_file_broken_refused)" -ge 1 ]
in_client curl -sS -f -o "$WORK/unlinked.out" "http://$EDGE4/v/unlinked.mp4"
check "a deleted (not truncated) file is still served byte-exact" cmp -s "$WORK/unlinked.out" "$WORK/unlinked.orig"
in_client curl -sS -f -o "$WORK/fine2.out" "http://$EDGE4/v/fine.mp4"
check "other files are served as before" cmp -s "$WORK/fine2.out" "$WORK/store/v/fine.mp4"

edge_stop; rc=$?
check "data plane stops cleanly (exit $rc)" [ $rc -eq 0 ]
exit 0
