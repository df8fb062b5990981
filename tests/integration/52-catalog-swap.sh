#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Catalog swap while serving: 50 downloads run (rate-limited by the clients so that they span
# the swap) when a new catalog replaces the old one; the files it drops are then deleted from
# the disk. Every download completes byte-exact (the old catalog's mappings and descriptors
# keep the deleted files readable), the new catalog's files appear at once, the dropped ones
# answer 404, and the old catalog is freed once its last response is acknowledged.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/http_lib.sh"

lab_prepare
mkdir -p "$WORK/store/v"
for i in $(seq 1 10); do head -c $((2 * 1024 * 1024)) /dev/urandom >"$WORK/store/v/f$i.m4s"; done
"$BUILD/dataplane/sluice-catalog" build "$WORK/store" --version 1 >/dev/null
for i in $(seq 1 10); do sha256sum "$WORK/store/v/f$i.m4s" | cut -d' ' -f1 >"$WORK/f$i.sha"; done
if ! edge_up "$WORK/edge.conf" "$WORK/store"; then not_ok "data plane starts"; exit 1; fi
pin_edge_neighbour "$NS" "$CLIENT_IF" "$EDGE_IF" "$EDGE4"
dpctl() { "$BUILD/dataplane/sluice-dpctl" --socket "$WORK/dataplane.sock" "$@"; }

# 50 downloads, five of each file, each at most 512 KB/s (about 4 s each when unhindered).
pids=()
for n in $(seq 1 50); do
  i=$(( (n - 1) % 10 + 1 ))
  in_client curl -sS -f -m 400 --connect-timeout 60 --limit-rate 512K -o "$WORK/d$n.out" \
    "http://$EDGE4/v/f$i.m4s" 2>"$WORK/d$n.err" &
  pids+=($!)
done
sleep 1.5

# The new catalog: f1..f5 dropped, n1 added (built in another file, so the store's own catalog
# is untouched until the swap).
head -c 300000 /dev/urandom >"$WORK/store/v/n1.m4s"
"$BUILD/dataplane/sluice-catalog" build "$WORK/store" --version 2 --output "$WORK/next.json" >/dev/null
python3 - "$WORK/next.json" <<'PY'
import json, sys
cat = json.load(open(sys.argv[1]))
cat["files"] = [f for f in cat["files"] if f["path"] not in ["/v/f%d.m4s" % i for i in range(1, 6)]]
json.dump(cat, open(sys.argv[1], "w"))
PY
reply=$(dpctl catalog-reload "$WORK/next.json"); rc=$?
echo "# catalog-reload: $reply"
check "catalog-reload answers with the new version" contains "$rc $reply" "0 catalog version 2: 6 files"
running=$(for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && echo x; done | wc -l)
echo "# $running of 50 downloads were running at the swap"
check "downloads were in flight during the swap" [ "$running" -gt 0 ]
rm -f "$WORK"/store/v/f[1-5].m4s
check "a dropped file answers 404" [ "$(in_client curl -s -o /dev/null -w '%{http_code}' "http://$EDGE4/v/f1.m4s")" = 404 ]
in_client curl -sS -f -o "$WORK/n1.out" "http://$EDGE4/v/n1.m4s"
check "the new file is served" cmp -s "$WORK/n1.out" "$WORK/store/v/n1.m4s"
check "a kept file is still served" [ "$(in_client curl -s -o /dev/null -w '%{http_code}' "http://$EDGE4/v/f7.m4s")" = 200 ]
status=$(dpctl status)
check "status shows the new catalog ($status)" contains "$status" "catalog version 2"

failed=0; bad=0
for n in $(seq 1 50); do
  wait "${pids[$((n - 1))]}" || { failed=$((failed + 1)); sed 's/^/# /' "$WORK/d$n.err"; }
  i=$(( (n - 1) % 10 + 1 ))
  [ "$(sha256sum "$WORK/d$n.out" 2>/dev/null | cut -d' ' -f1)" = "$(cat "$WORK/f$i.sha")" ] || bad=$((bad + 1))
done
check "none of the 50 downloads failed ($failed failed)" [ $failed -eq 0 ]
check "all 50 downloads are byte-exact, deleted files included ($bad differ)" [ $bad -eq 0 ]
released=no
for _ in $(seq 1 50); do
  grep -q "catalog version 1 released" "$WORK/dataplane.log" && { released=yes; break; }
  sleep 0.1
done
check "the old catalog is freed once its responses are done" [ $released = yes ]
check "no response was reset" [ "$(counter store_file_broken_resets)" -eq 0 ]

edge_stop; rc=$?
check "data plane stops cleanly (exit $rc)" [ $rc -eq 0 ]
exit 0
