#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The admission controller under a real download load: capacity is set to 50 Mbit/s, the
# controller closes at 0.9 and reopens at 0.5 utilisation with a 3 s minimum dwell and a 2 s
# averaging window. One client download paced at ~29 Mbit/s (0.6) leaves admission open; a
# second one (1.2) closes it, and new connections are refused by the steering program; back
# to one download (0.6, between the thresholds) it stays closed; with none it reopens. Two
# transitions in all: no flapping.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/control_lib.sh"

make_store "$WORK/store"
control_conf "$WORK/edge.conf" "$WORK/store" "admission = { capacity_gbps = 0.05; close_utilisation = 0.9;
  reopen_utilisation = 0.5; min_dwell_ms = 3000; window_ms = 2000; busy_limit = 0; };"
control_up "$WORK/edge.conf"
client_xdp_pass
client_small_rcvbuf

adm() { api GET /v1/admission; jq_resp "$1"; }
download() { # download NAME: paced downloads of the 64 MiB file (twice, ~36 s) in the background
  local url=http://$EDGE4/video/demo/big-64m.mp4
  ip netns exec "$NS" curl -s -o /dev/null -o /dev/null --limit-rate 3500k -m 120 "$url" "$url" &
  eval "$1=$!"
  track_pid $!
}
stays() { # stays SECONDS STATE: the effective state is STATE at every check for that long
  local end=$(( $(date +%s) + $1 ))
  while [ "$(date +%s)" -lt $end ]; do
    [ "$(adm 'j["state"]')" = "$2" ] || { echo "# became $(adm 'j["state"], j["controller"]["utilisation"]')"; return 1; }
    sleep 0.3
  done
}
refusals() { steer --json counters | python3 -c 'import json,sys; print(json.load(sys.stdin)["counters"]["refuse_closed"]["packets"])'; }

check "starts open" test "$(adm 'j["state"], j["source"]')" = "open controller"
base=$(adm 'j["transitions_total"]')

download first
sleep 2.5
util=$(adm 'round(j["controller"]["utilisation"], 2)')
check "one download: utilisation between the thresholds ($util)" python3 -c "import sys; sys.exit(0 if 0.5 < $util < 0.9 else 1)"
check "one download: admission stays open" stays 4 open

download second
check "two downloads: admission closes" wait_until 6 '[ "$(adm "j[\"state\"]")" = closed ]'
check "closed by the controller, at a utilisation over the threshold" \
  test "$(adm 'j["source"], j["transitions"][-1]["utilisation"] >= 0.9')" = "controller True"
check "the steering map and the data plane apply it" bash -c "[ \$('$BUILD/control/sluice-steer' admission get $SERVICE_ID) = closed ] && \
  '$BUILD/dataplane/sluice-dpctl' --socket '$WORK/dataplane.sock' status | grep -q 'admission closed'"
before=$(refusals)
code=$(in_client curl -s -o /dev/null -m 3 -w '%{http_code}' "http://$EDGE4/video/demo/small.m4s")
check "a new connection is refused ($code)" test "$code" != 200
check "... by the steering program (refuse_closed counted)" test "$(refusals)" -gt "$before"
check "the established downloads carry on" bash -c "kill -0 $first && kill -0 $second"

kill -TERM "$second"; wait "$second" 2>/dev/null
sleep 2.5
util=$(adm 'round(j["controller"]["utilisation"], 2)')
check "back to one download: utilisation between the thresholds again ($util)" python3 -c "import sys; sys.exit(0 if 0.5 < $util < 0.9 else 1)"
check "... and admission stays closed (hysteresis)" stays 5 closed

kill -TERM "$first"; wait "$first" 2>/dev/null
check "no load: admission reopens" wait_until 8 '[ "$(adm "j[\"state\"]")" = open ]'
check "exactly two transitions: open -> closed -> open" test \
  "$(adm "j['transitions_total'] - $base, [(t['from'], t['to']) for t in j['transitions'][-2:]]")" = \
  "2 [('open', 'closed'), ('closed', 'open')]"
check "new connections are served again" test "$(in_client curl -s -o /dev/null -m 5 -w '%{http_code}' "http://$EDGE4/video/demo/small.m4s")" = 200
check "metrics: two transitions, utilisation and inputs" bash -c "curl -s $CTL_URL/metrics | grep -q '^sluice_admission_input_ratio{input=\"throughput\"} '"
exit 0
