#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# HTTPS: the data plane's TLS (OpenSSL handshake, own record layer) against Linux clients.
# curl downloads over TLS 1.3 and 1.2, byte-exact, with certificates chosen by SNI (ECDSA and
# RSA, verified against the test CA); IPv6 when the edge answers on it; resumption with
# tickets (openssl s_client -sess_out/-sess_in) across a ticket key rotation; a wrong SNI, a
# garbage ClientHello, a truncated record and a client that stops mid-handshake each end only
# their own connection while a parallel download goes on; plain HTTP beside HTTPS; testssl.sh
# finds nothing HIGH or CRITICAL except about the test certificate (cert_*); clean stop.
. "$(dirname "$0")/lib.sh"

lab_prepare
make_store "$WORK/store"

# A test CA and two leaves: ECDSA P-256 for edge.test (the default) and RSA-2048 for rsa.test.
pki=$WORK/pki
mkdir -p "$pki"
(
  cd "$pki"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem -days 365 \
    -subj "/CN=sluice test CA" 2>/dev/null
  leaf() { # leaf NAME KEYSPEC... : key, CSR, certificate signed by the CA, chain = leaf + CA
    local name=$1; shift
    openssl req -newkey "$@" -nodes -keyout "$name.key" -out "$name.csr" -subj "/CN=$name" 2>/dev/null
    printf 'subjectAltName=DNS:%s\nextendedKeyUsage=serverAuth\n' "$name" >"$name.ext"
    openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 365 -extfile "$name.ext" \
      -out "$name.crt" 2>/dev/null
    cat "$name.crt" ca.pem >"$name.chain.pem"
  }
  leaf edge.test ec -pkeyopt ec_paramgen_curve:P-256
  leaf rsa.test rsa:2048
)
"$BUILD/dataplane/sluice-dpctl" ticket-keys --generate "$WORK/tickets.bin" >/dev/null
check "sluice-dpctl writes a ticket key file of 80 bytes" [ "$(stat -c %s "$WORK/tickets.bin")" = 80 ]

edge_config "$WORK/edge.conf" "$WORK/store" "tls = {
    certificate_chains = [\"$pki/edge.test.chain.pem\", \"$pki/rsa.test.chain.pem\"];
    certificate_keys = [\"$pki/edge.test.key\", \"$pki/rsa.test.key\"];
    ticket_key_file = \"$WORK/tickets.bin\";
    handshake_timeout_ms = 3000;
  };"
if ! edge_start "$WORK/edge.conf"; then not_ok "data plane starts and serves"; exit 1; fi
ok "data plane starts with an HTTPS listener"
grep -q "serving .* and HTTPS" "$WORK/dataplane.log" || { not_ok "the log names the HTTPS listener"; }

sha() { sha256sum "$1" | cut -d' ' -f1; }
big=/video/demo/big-64m.mp4
want_big=$(sha "$WORK/store$big")
# https GET: https_get NAME ADDRESS PATH OUT [curl options...] (verified against the test CA)
https_get() {
  local name=$1 address=$2 path=$3 out=$4; shift 4
  in_client curl -sS -f -m 120 --cacert "$pki/ca.pem" --resolve "$name:443:$address" -o "$out" \
    -w '%{http_code} %{ssl_verify_result} %{speed_download}\n' "$@" "https://$name$path"
}

out=$(https_get edge.test "$EDGE4" "$big" "$WORK/big13.out" --tlsv1.3)
check "TLS 1.3: 64 MiB download is byte-exact ($out)" [ "$(sha "$WORK/big13.out")" = "$want_big" ]
echo "# TLS 1.3 64 MiB: $(echo "$out" | awk '{printf "%.1f MB/s", $3 / 1e6}')"
out=$(https_get rsa.test "$EDGE4" "$big" "$WORK/big12.out" --tlsv1.2 --tls-max 1.2)
check "TLS 1.2: 64 MiB download is byte-exact, RSA certificate by SNI ($out)" \
  [ "$(sha "$WORK/big12.out")" = "$want_big" ]
echo "# TLS 1.2 64 MiB: $(echo "$out" | awk '{printf "%.1f MB/s", $3 / 1e6}')"
subject() { # subject SNI|"" VERSION-FLAG: the CN of the certificate the edge serves
  local sni=(-servername "$1")
  [ -n "$1" ] || sni=(-noservername)
  in_client openssl s_client -connect "$EDGE4:443" "${sni[@]}" "$2" </dev/null 2>/dev/null |
    openssl x509 -noout -subject 2>/dev/null | sed 's/.*CN *= *//'
}
check "SNI rsa.test gets the RSA certificate" [ "$(subject rsa.test -tls1_3)" = rsa.test ]
check "SNI edge.test gets the ECDSA certificate" [ "$(subject edge.test -tls1_2)" = edge.test ]
check "no SNI gets the default (first) certificate" [ "$(subject '' -tls1_3)" = edge.test ]
https_get edge.test "$EDGE4" /video/demo/small.m4s "$WORK/small.out" >/dev/null
check "small file over HTTPS is byte-exact" cmp -s "$WORK/small.out" "$WORK/store/video/demo/small.m4s"
https_get edge.test "$EDGE4" /video/demo/empty.vtt "$WORK/empty.out" >/dev/null
check "empty file over HTTPS gives an empty 200" test -f "$WORK/empty.out" -a ! -s "$WORK/empty.out"
code=$(in_client curl -s -o /dev/null -w '%{http_code}' --cacert "$pki/ca.pem" --resolve "edge.test:443:$EDGE4" \
  https://edge.test/no/such/file)
check "absent path over HTTPS gives 404" [ "$code" = 404 ]
n=$(in_client curl -sS --cacert "$pki/ca.pem" --resolve "edge.test:443:$EDGE4" -w '%{num_connects}\n' \
  -o /dev/null -o /dev/null https://edge.test/video/demo/small.m4s https://edge.test/video/demo/small.m4s | tail -1)
check "keep-alive over HTTPS: the second request reuses the connection" [ "$n" = 0 ]
http_out=$(in_client curl -sS -f -m 60 -o "$WORK/plain.out" -w '%{http_code}' "http://$EDGE4/video/demo/seg-2m.m4s")
check "plain HTTP keeps working beside HTTPS" cmp -s "$WORK/plain.out" "$WORK/store/video/demo/seg-2m.m4s"

# IPv6, once the data plane answers on it (the stack's IPv6 is being added).
if in_client curl -s -o /dev/null -m 2 "http://[$EDGE6]/" 2>/dev/null; then
  out=$(https_get edge.test "$EDGE6" "$big" "$WORK/big6.out" --tlsv1.3)
  check "IPv6 TLS 1.3: 64 MiB download is byte-exact" [ "$(sha "$WORK/big6.out")" = "$want_big" ]
  out=$(https_get edge.test "$EDGE6" "$big" "$WORK/big6-12.out" --tlsv1.2 --tls-max 1.2)
  check "IPv6 TLS 1.2: 64 MiB download is byte-exact" [ "$(sha "$WORK/big6-12.out")" = "$want_big" ]
else
  echo "# IPv6: the edge does not answer on $EDGE6 yet: IPv6 HTTPS not tested"
fi

# Resumption with tickets, TLS 1.3 and 1.2.
resume() { # resume VERSION-FLAG SESSION-FILE in|out: prints New or Reused
  local io=-sess_out
  [ "$3" = in ] && io=-sess_in
  (printf 'GET /video/demo/small.m4s HTTP/1.1\r\nHost: edge.test\r\nConnection: close\r\n\r\n'; sleep 1) |
    in_client timeout 10 openssl s_client -connect "$EDGE4:443" -servername edge.test "$1" "$io" "$2" -ign_eof 2>/dev/null |
    awk '/^(New|Reused),/ {print $1}' | tr -d ,
}
for v in -tls1_3 -tls1_2; do
  first=$(resume $v "$WORK/sess$v.pem" out)
  again=$(resume $v "$WORK/sess$v.pem" in)
  check "resumption $v: first $first, then $again" [ "$first" = New -a "$again" = Reused ]
done
# Rotation: a new key first, the old one after it: old tickets still resume; without the old
# key they do not.
cp "$WORK/tickets.bin" "$WORK/old.bin"
"$BUILD/dataplane/sluice-dpctl" ticket-keys --generate "$WORK/new.bin" >/dev/null
cat "$WORK/new.bin" "$WORK/old.bin" >"$WORK/rotated.bin"
msg=$("$BUILD/dataplane/sluice-dpctl" --socket "$WORK/dataplane.sock" ticket-keys "$WORK/rotated.bin" 2>&1)
check "ticket keys rotated through the command socket ($msg)" [ $? -eq 0 ]
check "after the rotation an old TLS 1.3 ticket still resumes" [ "$(resume -tls1_3 "$WORK/sess-tls1_3.pem" in)" = Reused ]
first=$(resume -tls1_3 "$WORK/sess-new.pem" out)
"$BUILD/dataplane/sluice-dpctl" --socket "$WORK/dataplane.sock" ticket-keys "$WORK/new.bin" >/dev/null
check "the old key dropped: its tickets give a full handshake" [ "$(resume -tls1_3 "$WORK/sess-tls1_3.pem" in)" = New ]
check "a ticket of the new key resumes" [ "$(resume -tls1_3 "$WORK/sess-new.pem" in)" = Reused ]
"$BUILD/dataplane/sluice-dpctl" --socket "$WORK/dataplane.sock" ticket-keys /dev/null >/dev/null 2>&1
check "an empty key file is refused" [ $? -eq 1 ]

# Bad clients, each during a parallel (rate-limited) download that must go on undisturbed.
failed_before=$(counter tls_handshakes_failed)
https_get edge.test "$EDGE4" "$big" "$WORK/parallel.out" --limit-rate 12M >"$WORK/parallel.txt" 2>&1 &
parallel=$!
sleep 0.5
in_client curl -s -o /dev/null -m 10 --cacert "$pki/ca.pem" --resolve "wrong.test:443:$EDGE4" https://wrong.test/
check "a wrong SNI: the client refuses the certificate (curl exit $?)" [ $? -eq 60 ]
# (curl checks the name after the handshake: the edge sees a completed handshake, then an alert)
in_client python3 - "$EDGE4" <<'PY' >"$WORK/bad.txt" 2>&1
import os, socket, ssl, sys, time
edge = sys.argv[1]
def connect():
    s = socket.create_connection((edge, 443), timeout=10)
    return s
def ended(s):
    """The edge closed or reset this connection: True."""
    try:
        s.settimeout(8)
        while True:
            data = s.recv(65536)
            if not data:
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False
results = []
# 1. Garbage instead of a ClientHello.
s = connect(); s.sendall(b"\x16\x03\x01\x00\x08garbage!" + os.urandom(64))
results.append(("garbage ClientHello", ended(s)))
# 2. A truncated record after a good handshake: a header for 16 KiB and 100 bytes, then EOF.
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
t = ctx.wrap_socket(connect(), server_hostname="edge.test")
raw = socket.socket(fileno=os.dup(t.fileno()))
raw.sendall(b"\x17\x03\x03\x40\x00" + os.urandom(100)); raw.shutdown(socket.SHUT_WR)
results.append(("truncated record", ended(raw)))
# 3. A client that stops mid-handshake: its ClientHello, then nothing (edge timeout 3 s).
inb, outb = ssl.MemoryBIO(), ssl.MemoryBIO()
obj = ctx.wrap_bio(inb, outb, server_hostname="edge.test")
try:
    obj.do_handshake()
except ssl.SSLWantReadError:
    pass
s = connect(); s.sendall(outb.read())
start = time.time()
results.append(("stalled handshake", ended(s)))
print("stalled handshake ended after %.1f s" % (time.time() - start))
for what, ok in results:
    print("%s %s" % ("ENDED" if ok else "OPEN", what))
PY
for what in "garbage ClientHello" "truncated record" "stalled handshake"; do
  check "a $what ends its connection" grep -q "^ENDED $what" "$WORK/bad.txt"
done
sed 's/^/# /' "$WORK/bad.txt" | grep stalled
wait $parallel
echo "# parallel download: $(tr '\n' ' ' <"$WORK/parallel.txt")"
check "the parallel download went on, byte-exact" [ "$(sha "$WORK/parallel.out")" = "$want_big" ]
check "the handshake failures were counted ($(counter tls_handshakes_failed) failed)" \
  [ "$(counter tls_handshakes_failed)" -ge $((failed_before + 2)) ]
check "the stalled handshake timed out" [ "$(counter tls_handshakes_timed_out)" -ge 1 ]
fetch_after=$(https_get edge.test "$EDGE4" /video/demo/seg-2m.m4s "$WORK/after.out")
check "still serving HTTPS after bad clients" cmp -s "$WORK/after.out" "$WORK/store/video/demo/seg-2m.m4s"

# testssl.sh (Debian's testssl.sh 3.0): the default checks, about two minutes here.
in_client timeout 400 testssl --quiet --color 0 --warnings off --connect-timeout 5 --openssl-timeout 5 \
  --jsonfile "$WORK/testssl.json" "https://$EDGE4/" >"$WORK/testssl.txt" 2>&1
findings=$(python3 - "$WORK/testssl.json" <<'PY'
import json, sys
try:
    results = json.load(open(sys.argv[1]))
except Exception as e:
    print("no-json:%s" % e); sys.exit()
bad = [r["id"] for r in results if r.get("severity") in ("HIGH", "CRITICAL") and not r["id"].startswith("cert_")]
cert = [r["id"] for r in results if r.get("severity") in ("HIGH", "CRITICAL") and r["id"].startswith("cert_")]
print("checked=%d bad=%s cert=%s" % (len(results), ",".join(bad) or "none", ",".join(cert) or "none"))
PY
)
echo "# testssl: $findings"
check "testssl.sh: no HIGH or CRITICAL finding but the test certificate's" \
  bash -c "echo '$findings' | grep -q 'bad=none' && ! echo '$findings' | grep -q 'checked=0\|no-json'"
grep -E "^ (TLS 1|SSLv|Heartbleed|ROBOT|Secure Client|LUCKY13)" "$WORK/testssl.txt" | sed 's/^/# /'

echo "# counters: handshakes $(counter tls_handshakes_completed) completed, $(counter tls_handshakes_failed) failed," \
  "$(counter tls_handshakes_resumed) resumed, $(counter tls_records_sealed) records sealed," \
  "$(counter tls_records_resealed) resealed, $(counter tls_alerts_sent) alerts sent"
check "records were sealed and requests opened" [ "$(counter tls_records_sealed)" -gt 0 -a "$(counter tls_records_opened)" -gt 0 ]

edge_stop; rc=$?
check "data plane stops cleanly on SIGTERM (exit $rc)" [ $rc -eq 0 ]
exit 0
