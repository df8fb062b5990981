#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Fleet registration in a real etcd (Debian's etcd-server, private ports and data directory,
# loopback): the edge's key appears under the prefix with its summary, held by a lease;
# sluice-control killed with SIGKILL: the key disappears by itself after the lease TTL;
# started again: back; etcd restarted with its data: the key stays (keepalives resume);
# etcd restarted empty (data lost): the edge registers again under a new lease; a clean stop
# revokes the lease and the key goes at once. The data plane runs too (state changes reach
# etcd as value updates).
. "$(dirname "$0")/lib.sh"
STEER=0
. "$(dirname "$0")/control_lib.sh"

ETCD_CLIENT=$((23700 + LAB_INDEX))
ETCD_PEER=$((23800 + LAB_INDEX))
ETCD_URL=http://127.0.0.1:$ETCD_CLIENT
TTL=3
KEY=/sluice/edges/lab$LAB_INDEX
ETCD_PID=

etcd_start() {
  etcd --name "lab$LAB_INDEX" --data-dir "$WORK/etcd" --listen-client-urls "$ETCD_URL" \
    --advertise-client-urls "$ETCD_URL" --listen-peer-urls "http://127.0.0.1:$ETCD_PEER" \
    --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER" \
    --initial-cluster "lab$LAB_INDEX=http://127.0.0.1:$ETCD_PEER" >>"$WORK/etcd.log" 2>&1 &
  ETCD_PID=$!
  wait_for 20 etcdctl --endpoints "$ETCD_URL" endpoint health >/dev/null 2>&1
}
etcd_stop() {
  [ -n "$ETCD_PID" ] || return 0
  kill -TERM "$ETCD_PID"; wait "$ETCD_PID" 2>/dev/null; ETCD_PID=
}
on_cleanup etcd_stop
value() { ETCDCTL_API=3 etcdctl --endpoints "$ETCD_URL" get "$KEY" --print-value-only 2>/dev/null; }
key_present() { [ -n "$(value)" ]; }
key_absent() { [ -z "$(value)" ]; }
lease_of() { ETCDCTL_API=3 etcdctl --endpoints "$ETCD_URL" get "$KEY" -w json 2>/dev/null |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["kvs"][0].get("lease", 0))' 2>/dev/null; }

lab_prepare
check "etcd starts on 127.0.0.1:$ETCD_CLIENT" etcd_start
make_small_store "$WORK/store"
control_conf "$WORK/edge.conf" "$WORK/store" "etcd = { endpoint = \"$ETCD_URL\"; ttl_s = $TTL; };"
dp_start "$WORK/edge.conf"
check "sluice-control starts" ctl_start "$WORK/edge.conf"
dp_wait_serving >/dev/null

check "the edge registers under $KEY" wait_for 5 key_present
check "its value is a summary: edge id, status, admission, addresses, inventory digest" python3 -c "
import json, sys
v = json.loads('''$(value)''')
sys.exit(0 if v['edge_id'] == 'lab$LAB_INDEX' and v['admission'] == 'open' and v['addresses']['ipv4'] == '$EDGE4'
         and len(v['inventory_sha256']) == 64 and v['status'] in ('ok', 'degraded', 'down') else 1)"
check "the key is held by a lease" test "$(lease_of)" -gt 0
check "health reports the registration" test "$(health_field 'j["reporting"]["etcd"]["registered"]')" = True
lease=$(lease_of)
sleep $((TTL + 2))
check "keepalives hold the key past the TTL" test "$(lease_of)" = "$lease"
api PUT /v1/admission '{"state": "closed"}'
check "a state change updates the value" wait_until 5 'value | grep -q "\"admission\":\"closed\""'
api PUT /v1/admission '{"state": "auto"}'

ctl_stop KILL
t0=$(date +%s)
check "sluice-control killed (SIGKILL): the key is still there at first" key_present
check "... and gone after the lease TTL ($TTL s)" wait_for $((TTL + 4)) key_absent
gone_after=$(( $(date +%s) - t0 ))
check "... not before the TTL ran out (${gone_after} s)" test $gone_after -ge $((TTL - 1))

ctl_start "$WORK/edge.conf" >/dev/null
check "sluice-control started again: registered again" wait_for 5 key_present

etcd_stop
check "etcd down: health says not registered" wait_until 10 '[ "$(health_field "j[\"reporting\"][\"etcd\"][\"registered\"]")" = False ]'
etcd_start
check "etcd back with its data: the key is there again, kept alive" wait_for 10 key_present
lease=$(lease_of)
sleep $((TTL + 2))
check "... and stays past the TTL" key_present

etcd_stop
rm -rf "$WORK/etcd"
etcd_start
check "etcd back empty (data lost): the edge grants a new lease and registers again" wait_for $((TTL + 10)) key_present
check "... under another lease" test "$(lease_of)" != "$lease"
sleep $((TTL + 2))
check "... kept alive" key_present

ctl_stop; rc=$?
check "a clean stop (exit $rc) revokes the lease: the key is gone at once" wait_for 1 key_absent
exit 0
