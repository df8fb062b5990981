#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# First light: the data plane on the lab veth (af_xdp) serves files to a Linux client.
# Ping, byte-exact downloads (64 MiB, small, empty, 50 in parallel), 404, bad input of
# several kinds (counted, and the edge keeps serving), clean stop, nothing left behind.
. "$(dirname "$0")/lib.sh"

lab_prepare
make_store "$WORK/store"
edge_config "$WORK/edge.conf" "$WORK/store"
if ! edge_start "$WORK/edge.conf"; then not_ok "data plane starts and serves"; exit 1; fi
ok "data plane starts and serves"

check "ping the edge (ICMP echo from the data plane)" in_client ping -c 3 -i 0.2 -W 2 "$EDGE4"

sha() { sha256sum "$1" | cut -d' ' -f1; }
fetch() { # fetch PATH OUT: download from the client namespace
  in_client curl -sS -f -m 120 -o "$2" -w '%{speed_download} %{http_code}\n' "http://$EDGE4$1"
}

stats=$(fetch /video/demo/big-64m.mp4 "$WORK/big.out")
check "64 MiB download is byte-exact" [ "$(sha "$WORK/big.out")" = "$(sha "$WORK/store/video/demo/big-64m.mp4")" ]
echo "# 64 MiB download: $(echo "$stats" | awk '{printf "%.1f MB/s", $1 / 1e6}')"
fetch /video/demo/small.m4s "$WORK/small.out" >/dev/null
check "small download is byte-exact" cmp -s "$WORK/small.out" "$WORK/store/video/demo/small.m4s"
fetch /video/demo/empty.vtt "$WORK/empty.out" >/dev/null
check "empty file gives an empty 200" test -f "$WORK/empty.out" -a ! -s "$WORK/empty.out"

code=$(in_client curl -s -o /dev/null -w '%{http_code}' "http://$EDGE4/no/such/file.m4s")
check "absent path gives 404" [ "$code" = 404 ]

head_len=$(in_client curl -sS -I "http://$EDGE4/video/demo/seg-2m.m4s" | tr -d '\r' | awk -F': ' 'tolower($1)=="content-length"{print $2}')
check "HEAD gives the Content-Length without a body" [ "$head_len" = $((2 * 1024 * 1024)) ]

# 50 parallel downloads of the 2 MiB segment, each byte-exact.
want=$(sha "$WORK/store/video/demo/seg-2m.m4s")
pids=()
for i in $(seq 1 50); do
  in_client curl -sS -f -m 120 -o "$WORK/par.$i" "http://$EDGE4/video/demo/seg-2m.m4s" &
  pids+=($!)
done
wait "${pids[@]}"
bad=0
for i in $(seq 1 50); do [ "$(sha "$WORK/par.$i" 2>/dev/null)" = "$want" ] || bad=$((bad + 1)); done
check "50 parallel downloads are byte-exact ($bad bad)" [ $bad -eq 0 ]

# Keep-alive: two requests on one connection.
out=$(in_client curl -sS -w '%{num_connects}\n' -o /dev/null -o /dev/null \
  "http://$EDGE4/video/demo/small.m4s" "http://$EDGE4/video/demo/small.m4s" | tail -1)
check "keep-alive: the second request reuses the connection" [ "$out" = 0 ]

# Bad input: garbage and truncated frames, a TCP segment with a bad checksum, a 100 KB
# request line. Each is counted, and the edge keeps serving.
before_type=$(counter rx_drop_ethertype); before_ip=$(counter rx_drop_ip_header)
before_len=$(counter rx_drop_ip_length); before_csum=$(counter rx_drop_tcp_checksum)
in_client python3 - "$CLIENT_IF" "$CLIENT4" "$EDGE4" <<'PY'
import socket, os
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
import sys
ifname = sys.argv[1]
s.bind((ifname, 0))
mac = open("/sys/class/net/%s/address" % ifname).read().strip()
src = bytes.fromhex(mac.replace(":", ""))
dst = b"\xff" * 6
for t in (b"\x12\x34", b"\x88\xcc", b"\x81\x00"):  # unknown ethertypes, a bare VLAN tag
    s.send(dst + src + t)                  # (the kernel refuses frames under 14 bytes)
for i in range(50):                        # IPv4 ethertype with garbage after it
    s.send(dst + src + b"\x08\x00" + os.urandom(i))
# IPv4 header claiming more bytes than the frame has.
hdr = bytes([0x45, 0, 0x05, 0xdc, 0, 0, 0x40, 0, 64, 6, 0, 0]) + socket.inet_aton(sys.argv[2]) + socket.inet_aton(sys.argv[3])
s.send(dst + src + b"\x08\x00" + hdr)
PY
in_client hping3 -c 3 -S -p 80 --badcksum "$EDGE4" >/dev/null 2>&1
long=$(head -c 100000 /dev/zero | tr '\0' 'a')
resp=$(in_client bash -c "exec 3<>/dev/tcp/$EDGE4/80; printf 'GET /%s HTTP/1.1\r\nHost: x\r\n\r\n' '$long' >&3; timeout 5 head -c 200 <&3" 2>/dev/null | head -1 | tr -d '\r')
check "100 KB request line answered with 414 ($resp)" [ "$resp" = "HTTP/1.1 414 URI Too Long" ]
sleep 0.1
check "unknown ethertypes counted" [ "$(counter rx_drop_ethertype)" -ge $((before_type + 3)) ]
check "garbage IPv4 counted" [ $(( $(counter rx_drop_ip_header) + $(counter rx_drop_ip_length) )) -gt $((before_ip + before_len)) ]
check "TCP segments with a bad checksum counted" [ "$(counter rx_drop_tcp_checksum)" -ge $((before_csum + 3)) ]
fetch /video/demo/small.m4s "$WORK/after.out" >/dev/null
check "still serving after bad input" cmp -s "$WORK/after.out" "$WORK/store/video/demo/small.m4s"

edge_stop; rc=$?
check "data plane stops cleanly on SIGTERM (exit $rc)" [ $rc -eq 0 ]
"$TOP/scripts/lab" down >/dev/null
check "lab down leaves no namespace" bash -c "! ip netns list | awk '{print \$1}' | grep -qx $NS"
check "lab down leaves no interface" bash -c "! ip link show $EDGE_IF >/dev/null 2>&1"
exit 0
