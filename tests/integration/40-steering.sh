#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The XDP steering program loaded through the data plane's af_xdp port (issue 6's lab tests):
# service traffic reaches the data plane while a kernel server on another port of the same
# address and ping are answered by the kernel; admission closed refuses new connections
# within a second while a running download completes byte-exact; a blocklisted client
# prefix stops (new and existing traffic) and resumes when removed; a SYN flood meets the
# per-prefix limit while a download completes. Prints the verdict counters.
. "$(dirname "$0")/lib.sh"

STEER="$BUILD/control/sluice-steer"
sha() { sha256sum "$1" | cut -d' ' -f1; }
steer_counter() { "$STEER" --json counters | python3 -c "import json,sys; print(json.load(sys.stdin)['counters']['$1']['packets'])"; }

lab_prepare
# A program on the client's veth: frames the edge sends with XDP_TX (the RSTs of a closed
# admission) reach a veth peer promptly only when the peer runs XDP (bpf/README.md).
in_client xdp-loader load -m native "$CLIENT_IF" /usr/lib/x86_64-linux-gnu/bpf/xdpfilt_alw_all.o >/dev/null 2>&1 ||
  not_ok "pass-through XDP program on the client veth"
"$STEER" unpin >/dev/null 2>&1
make_store "$WORK/store"
EDGE_XDP_PROG="$BUILD/bpf/steer.bpf.o" edge_config "$WORK/edge.conf" "$WORK/store"
if ! edge_start "$WORK/edge.conf"; then not_ok "data plane starts with the steering program"; exit 1; fi
ok "data plane starts with the steering program"
check "the data plane registered its service ports" bash -c "'$STEER' service list | grep -q '$EDGE4'"

# Service traffic to the data plane, the rest to the kernel on the same address.
fetch_small() { in_client curl -sS -f -m 10 -o "$1" "http://$EDGE4/video/demo/small.m4s"; }
fetch_small "$WORK/s1" && check "service port 80 served by the data plane" cmp -s "$WORK/s1" "$WORK/store/video/demo/small.m4s"
mkdir -p "$WORK/kernel-www" && echo "kernel says hello" >"$WORK/kernel-www/hello.txt"
(cd "$WORK/kernel-www" && exec python3 -m http.server --bind "$EDGE4" 8080 >/dev/null 2>&1) &
KPID=$!
sleep 1
out=$(in_client curl -sS -m 5 "http://$EDGE4:8080/hello.txt" 2>&1)
check "port 8080 of the same address answered by the kernel" [ "$out" = "kernel says hello" ]
check "ping of the service address answered (kernel)" in_client ping -c 2 -i 0.2 -W 2 "$EDGE4"
check "counters show redirects to the data plane" [ "$(steer_counter redirect_service)" -gt 0 ]
check "counters show traffic passed to the kernel" [ "$(steer_counter pass_not_service)" -gt 0 ]

# Admission: closed refuses new connections within a second; a running download completes.
in_client curl -sS -f -m 60 --limit-rate 16M -o "$WORK/a1" "http://$EDGE4/video/demo/big-64m.mp4" &
DL=$!
sleep 0.5
"$STEER" admission set 1 closed >/dev/null
start=$(date +%s%N)
in_client curl -sS -m 3 -o /dev/null "http://$EDGE4/video/demo/small.m4s" 2>/dev/null; rc=$?
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "admission closed: a new connection is refused within a second (curl rc $rc, ${elapsed_ms} ms)" \
  bash -c "[ $rc -eq 7 ] && [ $elapsed_ms -lt 1000 ]"
wait $DL
check "admission closed: the running 64 MiB download completes byte-exact" \
  [ "$(sha "$WORK/a1")" = "$(sha "$WORK/store/video/demo/big-64m.mp4")" ]
check "refusals counted" [ "$(steer_counter refuse_closed)" -gt 0 ]
"$STEER" admission set 1 open >/dev/null
fetch_small "$WORK/s2" && check "admission open again: served" cmp -s "$WORK/s2" "$WORK/store/video/demo/small.m4s"

# Blocklist: the client's prefix stops, new and existing traffic, and resumes when removed.
in_client curl -sS -f -m 120 --limit-rate 8M -o "$WORK/b1" "http://$EDGE4/video/demo/big-64m.mp4" &
DL=$!
sleep 1
"$STEER" block add "${CLIENT4%.*}.0/24" >/dev/null
sleep 0.5
size1=$(stat -c %s "$WORK/b1" 2>/dev/null || echo 0)
in_client curl -sS -m 2 -o /dev/null "http://$EDGE4/video/demo/small.m4s" 2>/dev/null; rc=$?
sleep 1.5
size2=$(stat -c %s "$WORK/b1" 2>/dev/null || echo 0)
check "blocked: a new connection gets nothing (curl rc $rc)" [ $rc -eq 28 ]
check "blocked: the running download stalls ($size1 -> $size2 bytes)" [ "$size1" -eq "$size2" ]
check "blocked: drops counted" [ "$(steer_counter drop_blocked)" -gt 0 ]
"$STEER" block del "${CLIENT4%.*}.0/24" >/dev/null
wait $DL
check "unblocked: the download resumes and completes byte-exact" \
  [ "$(sha "$WORK/b1")" = "$(sha "$WORK/store/video/demo/big-64m.mp4")" ]

# SYN flood from the client namespace, bounded, while a download runs.
"$STEER" syn-limit 200 100 >/dev/null
in_client curl -sS -f -m 120 --limit-rate 16M -o "$WORK/f1" "http://$EDGE4/video/demo/big-64m.mp4" &
DL=$!
sleep 0.3
in_client timeout 20 hping3 -q -S -p 80 -i u100 -c 20000 "$EDGE4" >/dev/null 2>&1
wait $DL
check "SYN flood: the download completes byte-exact" [ "$(sha "$WORK/f1")" = "$(sha "$WORK/store/video/demo/big-64m.mp4")" ]
check "SYN flood: the per-prefix limit dropped SYNs" [ "$(steer_counter drop_syn_rate)" -gt 1000 ]
echo "# steering verdict counters after the flood:"
"$STEER" counters | awk '$2 != 0' | sed 's/^/#   /'
echo "# data plane: $("$BUILD/dataplane/sluice-stats" --path "$STATS_PATH" tcp_syn_received tcp_syncookies_sent tcp_conn_opened | tr -s ' ' | tr '\n' ';')"

kill $KPID 2>/dev/null; wait $KPID 2>/dev/null
edge_stop; rc=$?
check "data plane stops cleanly (exit $rc)" [ $rc -eq 0 ]
in_client xdp-loader unload --all "$CLIENT_IF" >/dev/null 2>&1
"$STEER" unpin >/dev/null 2>&1
exit 0
