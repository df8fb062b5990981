#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# URL-signing keys, TLS ticket keys and the data plane's config reload, pushed with
# SIGN_KEYS_SET, TICKET_KEYS_SET and CONFIG_RELOAD to a data plane serving HTTPS: keys applied,
# listed without secrets, persisted, re-applied after a data plane restart; a ticket key pushed
# through the API issues tickets a client resumes with. A key given while the data plane is
# down is kept (202) and pushed when it returns; keys survive a control plane restart.
. "$(dirname "$0")/lib.sh"
STEER=0
. "$(dirname "$0")/control_lib.sh"

make_small_store "$WORK/store"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/edge.key" \
  -out "$WORK/edge.pem" -days 2 -subj "/CN=edge.test" -addext "subjectAltName=DNS:edge.test" 2>/dev/null
control_conf "$WORK/edge.conf" "$WORK/store" "" \
  "tls = { certificate_chains = [\"$WORK/edge.pem\"]; certificate_keys = [\"$WORK/edge.key\"]; };"
lab_prepare
dp_start "$WORK/edge.conf"
check "sluice-control starts" ctl_start "$WORK/edge.conf"
dp_wait_serving >/dev/null
wait_until 5 '[ "$(health_field "j[\"dataplane\"][\"state_applied\"]")" = True ]'
kids() { api GET /v1/keys/signing; jq_resp '[k["kid"] for k in j["keys"]]'; }
tickets() { api GET /v1/keys/tickets; jq_resp 'len(j["keys"])'; }
HEX=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f

# --- signing keys -------------------------------------------------------------------------------------
api POST /v1/keys/signing '{"kid": 4, "generate": true}'
  check "generated signing key: 201, secret shown once (32 bytes hex)" test "$HTTP:$(jq_resp 'j["kid"], len(j["secret"]), j["dataplane"]')" = "201:4 64 applied"
  api POST /v1/keys/signing "{\"kid\": 5, \"secret\": \"$HEX\"}"
  check "uploaded hex secret: 201, not echoed" test "$HTTP:$(jq_resp '"secret" in j')" = "201:False"
  api POST /v1/keys/signing '{"kid": 6, "secret": "base64:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"}'
  check "uploaded base64 secret: 201" test "$HTTP" = 201
  api POST /v1/keys/signing '{"kid": 6, "generate": true}'
  check "a key id in use: 409" test "$HTTP" = 409
  check "listed without secrets" bash -c "[ \"\$(curl -s -H 'Authorization: Bearer $TOKEN' $CTL_URL/v1/keys/signing | grep -c secret)\" = 0 ]"
  api DELETE /v1/keys/signing/5
  check "retired: the set is 4 and 6" test "$HTTP:$(kids)" = "200:[4, 6]"
  check "persisted (state file mode 0600)" test "$(stat -c %a "$WORK/state/state.json"):$(python3 -c "
import json; print([k['kid'] for k in json.load(open('$WORK/state/state.json'))['sign_keys']])")" = "600:[4, 6]"

# --- ticket keys ----------------------------------------------------------------------------------------
api POST /v1/keys/tickets '{}'
check "ticket key generated and applied: 201" test "$HTTP:$(jq_resp 'j["dataplane"]')" = "201:applied"
for i in 1 2 3 4; do api POST /v1/keys/tickets '{}'; done
check "rotations keep the newest 4, newest first" test "$(tickets):$(jq_resp 'j["keys"][0]["encrypting"], j["keys"][3]["encrypting"]')" = "4:True False"
api POST /v1/keys/tickets '{"name": "00112233445566778899aabbccddeeff", "aes_key": "'$HEX'", "hmac_key": "'$HEX'"}'
check "uploaded ticket key becomes the encrypting one" test "$HTTP:$(api GET /v1/keys/tickets; jq_resp 'j["keys"][0]["name"]')" = "201:00112233445566778899aabbccddeeff"
# The data plane issues tickets under the pushed key: a second connection resumes (TLS 1.2
# tickets are sent in the handshake, so one s_client run writes the session for the next).
resume() {
  in_client openssl s_client -connect "$EDGE4:443" -servername edge.test -tls1_2 -ign_eof "$@" </dev/null 2>/dev/null |
    grep -E '^(New|Reused),' | head -1 | cut -d, -f1
}
first=$(resume -sess_out "$WORK/sess.pem")
check "a TLS session under the pushed ticket key resumes (first $first, then $(resume -sess_in "$WORK/sess.pem"))" \
  test "$first:$(resume -sess_in "$WORK/sess.pem")" = "New:Reused"

# --- data plane config reload ----------------------------------------------------------------------------
api POST /v1/config/reload '{"target": "dataplane"}'
check "data plane config reload: 200" test "$HTTP:$(jq_resp 'j["target"]')" = "200:dataplane"

# --- while the data plane is down: kept, applied when it returns ----------------------------------------
dp_stop
wait_until 5 '[ "$(health_field "j[\"dataplane\"][\"state\"]")" = down ]'
api POST /v1/keys/signing '{"kid": 7, "generate": true}'
check "a key while the data plane is down: 202 pending, secret returned" test "$HTTP:$(jq_resp 'j["dataplane"], len(j["secret"])')" = "202:pending 64"
check "... kept in the state file" python3 -c "
import json, sys; sys.exit(0 if 7 in [k['kid'] for k in json.load(open('$WORK/state/state.json'))['sign_keys']] else 1)"
api POST /v1/keys/tickets '{}'
check "a ticket rotation while down: 202 pending" test "$HTTP:$(jq_resp 'j["dataplane"]')" = "202:pending"
dp_start "$WORK/edge.conf"
dp_wait_serving >/dev/null
check "data plane back: state re-applied" wait_until 10 '[ "$(health_field "j[\"dataplane\"][\"state_applied\"]")" = True ]'
api GET /v1/keys/signing
check "... the signing keys were pushed and applied" test "$(jq_resp 'j["dataplane"]["outcome"], [k["kid"] for k in j["keys"]]')" = "applied [4, 6, 7]"
api GET /v1/keys/tickets
check "... the ticket keys too" test "$(jq_resp 'j["dataplane"]["outcome"]')" = applied

# --- across a control plane restart ------------------------------------------------------------------------
before=$(kids)
ctl_stop
ctl_start "$WORK/edge.conf" >/dev/null
check "keys survive a control plane restart ($before)" test "$(kids)" = "$before"
exit 0
