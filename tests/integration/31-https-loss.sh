#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# HTTPS downloads through a lossy path (the bridged lab and its loss program, as in 30-loss):
# a 16 MiB file over TLS 1.3 / IPv4 and TLS 1.2 / IPv6 under 1 % and 5 % random loss and
# bursty loss. Every lost segment inside a record is produced again by the record layer from
# the file (counter mode, or the whole record when it carries the tag): the download must be
# byte-exact, and the client must never see a record that fails authentication. Checks are
# completion and bytes only (no timing: other data planes may share the CPU); a case that does
# not finish within its (generous) timeout fails, as in 30-loss.
# timeout: 1800
. "$(dirname "$0")/lib.sh"
export SLUICE_LAB_BRIDGE=1
LAB="$TOP/scripts/lab"
CASE_TIMEOUT=${SLUICE_LOSS_CASE_TIMEOUT:-240}   # seconds per download

lab_prepare
mkdir -p "$WORK/store/video/demo"
head -c $((16 * 1024 * 1024)) /dev/urandom >"$WORK/store/video/demo/seg-16m.m4s"
"$BUILD/dataplane/sluice-catalog" build "$WORK/store" >/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 -keyout "$WORK/edge.key" \
  -out "$WORK/edge.pem" -subj "/CN=edge.test" -addext "subjectAltName=DNS:edge.test" 2>/dev/null
edge_config "$WORK/edge.conf" "$WORK/store" "tls = { certificate_chains = [\"$WORK/edge.pem\"];
    certificate_keys = [\"$WORK/edge.key\"]; };"
if ! edge_start "$WORK/edge.conf"; then not_ok "data plane starts with HTTPS on the bridged lab"; exit 1; fi
ok "data plane starts with HTTPS on the bridged lab"
want=$(sha256sum "$WORK/store/video/demo/seg-16m.m4s" | cut -d' ' -f1)
json_field() { sed -n "s/.*\"$1\": \([0-9]*\).*/\1/p"; }
ipv6=0
in_client curl -s -o /dev/null -m 3 "http://[$EDGE6]/" 2>/dev/null && ipv6=1

CASES=(
  "1% random loss|unlimited --loss 0.01 --seed 21"
  "5% random loss|unlimited --loss 0.05 --seed 22"
  "bursty loss (enter 0.2%, exit 30%, 70% in bursts)|unlimited --loss 0.0005 --burst-enter 0.002 --burst-exit 0.3 --burst-loss 0.7 --seed 23"
)

run_case() { # run_case NAME SHAPE FAMILY TLS-FLAGS
  local name=$1 shape=$2 family=$3 tls=$4 host=$EDGE4 rc=0 stats size secs speed
  local retx0 retx1 resealed0 resealed1 bad0 bad1 dropped
  [ "$family" = 4 ] || host="[$EDGE6]"
  # shellcheck disable=SC2086
  "$LAB" shape $shape >/dev/null || { not_ok "$name, $tls, IPv$family: shaping"; return; }
  rm -f "$WORK/case.out"
  sleep 0.3
  retx0=$(counter tcp_retransmit_bytes); resealed0=$(counter tls_records_resealed); bad0=$(counter tls_bad_record_mac)
  # shellcheck disable=SC2086
  stats=$(in_client curl -"$family" -sS -f -k $tls -m "$CASE_TIMEOUT" --connect-timeout 30 -o "$WORK/case.out" \
    -w '%{size_download} %{time_total} %{speed_download}' "https://$host/video/demo/seg-16m.m4s" 2>"$WORK/curl.err") || rc=$?
  sleep 0.3
  retx1=$(counter tcp_retransmit_bytes); resealed1=$(counter tls_records_resealed); bad1=$(counter tls_bad_record_mac)
  dropped=$("$LAB" loss-stats 2>/dev/null | json_field dropped_packets)
  "$LAB" unshape >/dev/null
  read -r size secs speed <<<"${stats:-0 0 0}"
  echo "# $name, $tls, IPv$family: $(awk -v s="${speed:-0}" 'BEGIN {printf "%.1f", s * 8 / 1e6}') Mbit/s," \
    "${secs}s, ${size:-0} bytes; retransmitted $((retx1 - retx0)) bytes, $((resealed1 - resealed0)) records" \
    "sealed again; the loss program dropped ${dropped:-0} packets"
  if [ $rc -eq 28 ]; then
    not_ok "$name, $tls, IPv$family: did not complete within ${CASE_TIMEOUT}s (${size:-0} of 16777216 bytes)"
    return
  fi
  if [ $rc -ne 0 ]; then
    not_ok "$name, $tls, IPv$family: curl exited $rc ($(head -c 200 "$WORK/curl.err"))"
    return
  fi
  check "$name, $tls, IPv$family: byte-exact" [ "$(sha256sum "$WORK/case.out" | cut -d' ' -f1)" = "$want" ]
  local clean=yes
  [ "$bad1" = "$bad0" ] && ! grep -qi "bad record mac\|decryption failed" "$WORK/curl.err" || clean=no
  check "$name, $tls, IPv$family: no record failed authentication at either end" [ $clean = yes ]
}

for c in "${CASES[@]}"; do
  IFS='|' read -r name shape <<<"$c"
  run_case "$name" "$shape" 4 "--tlsv1.3"
  if [ $ipv6 = 1 ]; then
    run_case "$name" "$shape" 6 "--tlsv1.2 --tls-max 1.2"
  else
    run_case "$name" "$shape" 4 "--tlsv1.2 --tls-max 1.2"
  fi
done
[ $ipv6 = 1 ] || echo "# IPv6: the edge does not answer on $EDGE6: TLS 1.2 ran over IPv4"
check "records lost on the path were sealed again from the file ($(counter tls_records_resealed) records)" \
  [ "$(counter tls_records_resealed)" -gt 0 ]
check "still serving HTTPS after the loss cases" in_client curl -sS -f -k -m 30 -o /dev/null "https://$EDGE4/video/demo/seg-16m.m4s"
edge_stop; rc=$?
check "data plane stops cleanly on SIGTERM (exit $rc)" [ $rc -eq 0 ]
"$LAB" down >/dev/null
exit 0
