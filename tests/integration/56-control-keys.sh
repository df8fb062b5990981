#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# URL-signing keys, TLS ticket keys and the data plane's config reload, pushed with
# SIGN_KEYS_SET, TICKET_KEYS_SET and CONFIG_RELOAD. Written to pass against a data plane that
# does not implement those commands yet (each answers 501 with the data plane's message and
# nothing is kept) and against one that does (keys applied, listed without secrets, persisted,
# re-applied after a data plane restart). Either way: a key given while the data plane is down
# is kept (202) and pushed when it returns; keys survive a control plane restart.
. "$(dirname "$0")/lib.sh"
STEER=0
. "$(dirname "$0")/control_lib.sh"

make_small_store "$WORK/store"
control_conf "$WORK/edge.conf" "$WORK/store"
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
if [ "$HTTP" = 501 ]; then
  SIGN=0
  check "signing keys: 501 with the data plane's own message" test \
    "$(jq_resp 'j["error"]["code"], j["error"]["message"].startswith("the data plane does not implement this command yet: ")')" = "not_implemented True"
  echo "# data plane: $(jq_resp 'j["error"]["message"]')"
  check "... nothing kept: no key listed, none in the state file" test \
    "$(kids):$(python3 -c "import json; print(json.load(open('$WORK/state/state.json'))['sign_keys'] if __import__('os').path.exists('$WORK/state/state.json') else [])")" = "[]:[]"
  api POST /v1/keys/signing "{\"kid\": 5, \"secret\": \"$HEX\"}"
  check "uploaded secret: 501 too" test "$HTTP" = 501
  api DELETE /v1/keys/signing/4
  check "retiring a key that was not kept: 404" test "$HTTP" = 404
else
  SIGN=1
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
fi

# --- ticket keys ----------------------------------------------------------------------------------------
api POST /v1/keys/tickets '{}'
if [ "$HTTP" = 501 ]; then
  TICKET=0
  check "ticket keys: 501 with the data plane's message, nothing kept" test "$(jq_resp 'j["error"]["code"]'):$(tickets)" = "not_implemented:0"
else
  TICKET=1
  check "ticket key generated and applied: 201" test "$HTTP:$(jq_resp 'j["dataplane"]')" = "201:applied"
  for i in 1 2 3 4; do api POST /v1/keys/tickets '{}'; done
  check "rotations keep the newest 4, newest first" test "$(tickets):$(jq_resp 'j["keys"][0]["encrypting"], j["keys"][3]["encrypting"]')" = "4:True False"
  api POST /v1/keys/tickets '{"name": "00112233445566778899aabbccddeeff", "aes_key": "'$HEX'", "hmac_key": "'$HEX'"}'
  check "uploaded ticket key becomes the encrypting one" test "$HTTP:$(api GET /v1/keys/tickets; jq_resp 'j["keys"][0]["name"]')" = "201:00112233445566778899aabbccddeeff"
fi

# --- data plane config reload ----------------------------------------------------------------------------
api POST /v1/config/reload '{"target": "dataplane"}'
if [ "$HTTP" = 501 ]; then
  check "data plane config reload: 501 with its message" test "$(jq_resp 'j["error"]["code"]')" = not_implemented
else
  check "data plane config reload: 200" test "$HTTP:$(jq_resp 'j["target"]')" = "200:dataplane"
fi

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
if [ "$SIGN" = 1 ]; then
  check "... the signing keys were pushed and applied" test "$(jq_resp 'j["dataplane"]["outcome"], [k["kid"] for k in j["keys"]]')" = "applied [4, 6, 7]"
else
  check "... the push was answered 'not implemented', the key is kept for a data plane that will" test \
    "$(jq_resp 'j["dataplane"]["outcome"], [k["kid"] for k in j["keys"]]')" = "not_implemented [7]"
  check "... and that does not make the edge unhealthy" test "$(health_field 'j["status"]')" = ok
fi
api GET /v1/keys/tickets
check "... the ticket keys too" test "$(jq_resp 'j["dataplane"]["outcome"]')" = "$([ "$TICKET" = 1 ] && echo applied || echo not_implemented)"

# --- across a control plane restart ------------------------------------------------------------------------
before=$(kids)
ctl_stop
ctl_start "$WORK/edge.conf" >/dev/null
check "keys survive a control plane restart ($before)" test "$(kids)" = "$before"
exit 0
