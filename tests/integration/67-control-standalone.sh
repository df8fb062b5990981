#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# sluice-control on its own, telling the truth: no data plane has run and no steering program
# is loaded, and it says so (health 503 "down", steering not loaded, metrics up 0) while its
# API works; TLS on a dual-stack IPv6 listener ([::]) reached over IPv6 and IPv4; operator
# state (admission override, drain, keys, blocked prefixes) kept across a control plane
# restart; a damaged state file moved aside and reported; config errors named by line and key.
. "$(dirname "$0")/lib.sh"
STEER=0
. "$(dirname "$0")/control_lib.sh"

quiet() { "$@" >/dev/null; }
TLS_PORT=$((8740 + LAB_INDEX))
mkdir -p "$WORK/store"
"$BUILD/dataplane/sluice-catalog" build "$WORK/store" >/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1" -days 1 \
  -keyout "$WORK/api.key" -out "$WORK/api.pem" 2>/dev/null
control_conf "$WORK/edge.conf" "$WORK/store" "steer = { pin_dir = \"$WORK/no-bpffs\"; };"

check "--check-config accepts the file" quiet "$BUILD/control/sluice-control" --check-config "$WORK/edge.conf"
sed 's/^  tick_ms = 100;$/  tick_ms = 100;\n  admission = { capacity_gbps = "fast"; };/' "$WORK/edge.conf" >"$WORK/bad.conf"
out=$("$BUILD/control/sluice-control" --check-config "$WORK/bad.conf" 2>&1); rc=$?
check "--check-config names file, line and key of a mistake (exit $rc)" test \
  "$rc:$out" = "2:sluice-control: $WORK/bad.conf:$(grep -n '"fast"' "$WORK/bad.conf" | cut -d: -f1): control.admission.capacity_gbps: expected a number"

check "starts without a data plane or steering program" ctl_start "$WORK/edge.conf"
check "health: 503, down, data plane unknown, steering not loaded" test \
  "$(curl -s -o /dev/null -w '%{http_code}' "$CTL_URL/v1/health"):$(health_field 'j["status"], j["dataplane"]["state"], j["steering"]["loaded"]')" = "503:down unknown False"
check "health says why" test "$(health_field 'sum(1 for r in j["reasons"] if "no stats segment" in r or "steering program not loaded" in r)')" = 2
check "metrics: sluice_dataplane_up 0, sluice_steer_loaded 0" bash -c \
  "curl -s $CTL_URL/metrics | grep -qx 'sluice_dataplane_up 0' && curl -s $CTL_URL/metrics | grep -qx 'sluice_steer_loaded 0'"
api GET /v1/stats
check "stats without a segment: 503 dataplane_down" test "$HTTP:$(jq_resp 'j["error"]["code"]')" = "503:dataplane_down"
api GET /v1/services
check "services without steering: 503 steering_unavailable" test "$HTTP:$(jq_resp 'j["error"]["code"]')" = "503:steering_unavailable"
api POST /v1/catalog/reload '{}'
check "catalog reload without a data plane: 503 dataplane_down" test "$HTTP" = 503
api PUT /v1/admission '{"state": "closed", "ttl_s": 86400, "reason": "kept across restarts"}'
check "admission override accepted while the data plane is down" test "$HTTP:$(jq_resp 'j["state"], j["source"]')" = "200:closed override"
api POST /v1/keys/signing '{"kid": 9, "generate": true}'
check "signing key kept for later (202 pending)" test "$HTTP:$(jq_resp 'j["dataplane"]')" = "202:pending"
api POST /v1/drain '{}'
check "drain with no data plane: drained at once" test "$(api GET /v1/drain; jq_resp 'j["state"]')" = drained

ctl_stop
ctl_start "$WORK/edge.conf" >/dev/null
api GET /v1/admission
check "after a control plane restart: override (with its expiry) and drain are back" test \
  "$(jq_resp 'j["override"]["state"], j["override"]["reason"], j["override"]["expires"] is not None, j["drain"]["state"]')" = \
  "closed kept across restarts True drained"
check "... and the signing key" test "$(api GET /v1/keys/signing; jq_resp '[k["kid"] for k in j["keys"]]')" = "[9]"
api DELETE /v1/drain
api PUT /v1/admission '{"state": "auto"}'

ctl_stop
echo '{"version": 1, "admission": {"override": {"state": "ajar"}}}' >"$WORK/state/state.json"
ctl_start "$WORK/edge.conf" >/dev/null
check "a damaged state file: starts empty, health says so" bash -c "curl -s $CTL_URL/v1/health | grep -q 'state file:.*moved to'"
check "... the file is kept aside for the operator" bash -c "ls '$WORK/state' | grep -q 'state.json.bad-'"
ctl_stop

# TLS on [::]: one socket for IPv6 and IPv4.
control_conf "$WORK/edge.conf" "$WORK/store" "steer = { pin_dir = \"$WORK/no-bpffs\"; };
  tls_cert = \"$WORK/api.pem\"; tls_key = \"$WORK/api.key\";"
sed -i "s/listen = \"127.0.0.1:$CTL_PORT\"/listen = \"[::]:$TLS_PORT\"/" "$WORK/edge.conf"
CTL_URL=https://127.0.0.1:$TLS_PORT
"$BUILD/control/sluice-control" --config "$WORK/edge.conf" >>"$WORK/control.log" 2>&1 &
CTL_PID=$!
check "TLS API answers over IPv4 on the dual-stack socket" wait_for 10 \
  curl -s -f -o /dev/null --cacert "$WORK/api.pem" -H "Authorization: Bearer $TOKEN" "https://127.0.0.1:$TLS_PORT/v1/admission"
check "... and over IPv6" curl -s -f -o /dev/null --cacert "$WORK/api.pem" -H "Authorization: Bearer $TOKEN" "https://[::1]:$TLS_PORT/v1/admission"
check "... with the certificate verified (an unknown CA is refused)" bash -c \
  "! curl -s -o /dev/null 'https://localhost:$TLS_PORT/v1/health' 2>/dev/null"
check "... plain HTTP on the TLS port gets no API answer" bash -c \
  "[ \"\$(curl -s -o /dev/null -w '%{http_code}' 'http://127.0.0.1:$TLS_PORT/v1/health')\" != 200 ]"
check "sluicectl over TLS with --ca-file" quiet "$BUILD/control/sluicectl" --url "https://localhost:$TLS_PORT" --ca-file "$WORK/api.pem" \
  --token "$TOKEN" admission
ctl_stop; rc=$?
check "stops cleanly (exit $rc)" test $rc -eq 0
exit 0
