#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Signed URLs end to end: the data plane loads its keys from dataplane.http.sign_keys_file,
# sluice-sign mints URLs, and requests under the signed prefix are answered 200 (valid), 410
# (expired) or 403 (unknown key, tampered path, tampered client prefix, missing signature,
# client outside the prefix), the refusals with Cache-Control: no-store. sluice-dpctl
# sign-keys replaces the key ring while serving; sluice-dpctl config-reload applies changed
# settings (signing off, CORS on), names the ones that need a restart, and applies nothing
# from an invalid file.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/http_lib.sh"

lab_prepare
make_store "$WORK/store"
mkdir -p "$WORK/store/open" && head -c 500 /dev/urandom >"$WORK/store/open/free.m4s"
"$BUILD/dataplane/sluice-catalog" build "$WORK/store" >/dev/null
printf '# test keys\n3 %s\n' "$(head -c 32 /dev/urandom | xxd -p -c 64)" >"$WORK/keys3"
printf '4 base64:%s\n' "$(head -c 48 /dev/urandom | base64 -w0)" >"$WORK/keys4"
chmod 600 "$WORK/keys3" "$WORK/keys4"
signing="http = { sign_required = true; sign_prefixes = \"/video/\"; sign_skew_s = 5; sign_keys_file = \"$WORK/keys3\"; };"
if ! edge_up "$WORK/edge.conf" "$WORK/store" "$signing"; then not_ok "data plane starts"; exit 1; fi
pin_edge_neighbour "$NS" "$CLIENT_IF" "$EDGE_IF" "$EDGE4"
dpctl() { "$BUILD/dataplane/sluice-dpctl" --socket "$WORK/dataplane.sock" "$@"; }
sign() { "$BUILD/control/sluice-sign" "$@"; }
status_of() { in_client curl -s -o /dev/null -w '%{http_code}' "http://$EDGE4$1"; }
cache_control_of() {
  in_client curl -s -D - -o /dev/null "http://$EDGE4$1" | tr -d '\r' | awk -F': ' 'tolower($1)=="cache-control"{print $2}'
}

small=/video/demo/small.m4s
now=$(date +%s)
valid=$(sign --key-file "$WORK/keys3" --kid 3 --path $small --ttl 600)
expired=$(sign --key-file "$WORK/keys3" --kid 3 --path $small --ttl 60 --now $((now - 3600)))
other_key=$(sign --key-file "$WORK/keys4" --kid 4 --path $small --ttl 600)
tampered_path=${valid/small.m4s/seg-2m.m4s}
in_prefix=$(sign --key-file "$WORK/keys3" --kid 3 --path $small --ttl 600 --prefix "${CLIENT4%.*}.0/24")
tampered_prefix=$(echo "$in_prefix" | sed 's|/24&|/16\&|; s|%2F24&|%2F16\&|')
outside=$(sign --key-file "$WORK/keys3" --kid 3 --path $small --ttl 600 --prefix 10.0.0.0/8)
echo "# valid URL: $valid"

in_client curl -sS -f -o "$WORK/small.out" "http://$EDGE4$valid"
check "valid signature: 200, byte-exact" cmp -s "$WORK/small.out" "$WORK/store$small"
check "valid signature bound to the client's prefix: 200" [ "$(status_of "$in_prefix")" = 200 ]
check "expired: 410" [ "$(status_of "$expired")" = 410 ]
check "expired answer is not cached (no-store)" [ "$(cache_control_of "$expired")" = no-store ]
check "unknown key id: 403" [ "$(status_of "$other_key")" = 403 ]
check "tampered path: 403" [ "$(status_of "$tampered_path")" = 403 ]
check "tampered client prefix: 403" [ "$tampered_prefix" != "$in_prefix" ] && [ "$(status_of "$tampered_prefix")" = 403 ]
check "client outside the signed prefix: 403" [ "$(status_of "$outside")" = 403 ]
check "missing signature: 403" [ "$(status_of $small)" = 403 ]
check "403 is not cached (no-store)" [ "$(cache_control_of $small)" = no-store ]
check "paths outside sign_prefixes need no signature" [ "$(status_of /open/free.m4s)" = 200 ]
echo "# http_sign_ok $(counter http_sign_ok), http_sign_rejected $(counter http_sign_rejected), http_sign_expired $(counter http_sign_expired)"
check "refusals counted" [ "$(counter http_sign_rejected)" -ge 6 ] && [ "$(counter http_sign_expired)" -ge 2 ]

# Key rotation while serving.
reply=$(dpctl sign-keys "$WORK/keys4"); rc=$?
echo "# sign-keys: $reply"
check "sign-keys replaces the key ring" [ $rc -eq 0 ]
check "a URL signed with the new key works" [ "$(status_of "$other_key")" = 200 ]
check "a URL signed with the removed key is refused" [ "$(status_of "$valid")" = 403 ]
printf '3 not-a-key\n' >"$WORK/badkeys"
dpctl sign-keys "$WORK/badkeys" >"$WORK/bad.out" 2>&1; rc=$?
check "sign-keys refuses a malformed key file (exit $rc)" [ $rc -eq 2 ]
check "...and the ring is unchanged" [ "$(status_of "$other_key")" = 200 ]

# Config reload: signing off, CORS on, MTU changed (needs a restart).
edge_config "$WORK/edge2.conf" "$WORK/store" \
  "http = { sign_required = false; sign_keys_file = \"$WORK/keys3\"; cors_origins = \"*\"; };"
sed -i 's/queues = 1; /queues = 1; mtu = 1400; /' "$WORK/edge2.conf"
# The same start-up fallbacks as the running edge (edge_up), so that only the MTU differs.
grep -q mbufs_per_queue "$WORK/edge.conf" && sed -i 's/queues = 1; /queues = 1; mbufs_per_queue = 4096; /' "$WORK/edge2.conf"
grep -q 'hugepages = false' "$WORK/edge.conf" && sed -i 's/hugepages = true/hugepages = false/' "$WORK/edge2.conf"
reply=$(dpctl config-reload "$WORK/edge2.conf"); rc=$?
echo "# config-reload: $reply"
check "config-reload succeeds" [ $rc -eq 0 ]
check "config-reload names what needs a restart" contains "$reply" "needs a restart: port.mtu"
check "config-reload names what it applied" contains "$reply" "http.sign_required"
check "signing is off after the reload" [ "$(status_of $small)" = 200 ]
acao=$(in_client curl -s -D - -o /dev/null -H 'Origin: https://player.example' "http://$EDGE4$small" | tr -d '\r' | \
  awk -F': ' 'tolower($1)=="access-control-allow-origin"{print $2}')
check "CORS applies after the reload" [ "$acao" = "*" ]
printf 'dataplane = { http = { max_ranges = 99; }; };\n' >"$WORK/invalid.conf"
reply=$(dpctl config-reload "$WORK/invalid.conf"); rc=$?
echo "# invalid config: $reply"
check "an invalid config is refused" [ $rc -eq 1 ] && contains "$reply" "nothing applied"
check "...and nothing changed" [ "$(status_of $small)" = 200 ]

edge_stop; rc=$?
check "data plane stops cleanly (exit $rc)" [ $rc -eq 0 ]
exit 0
