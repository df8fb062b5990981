#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# IPv6 first light: the data plane answers NDP for its address (the client's kernel resolves
# the edge's MAC from the data plane's neighbour advertisements), ICMPv6 echo, and serves
# files over TCP/IPv6 byte-exact (small and 64 MiB, keep-alive, parallel), next to IPv4 on
# the same port; the counters show it was the data plane that answered.
. "$(dirname "$0")/lib.sh"

lab_prepare
make_store "$WORK/store"
edge_config "$WORK/edge.conf" "$WORK/store"
if ! edge_start "$WORK/edge.conf"; then not_ok "data plane starts and serves"; exit 1; fi
ok "data plane starts and serves"

URL6="http://[$EDGE6]"
sha() { sha256sum "$1" | cut -d' ' -f1; }
fetch6() { # fetch6 PATH OUT
  in_client curl -6 -sS -f -m 120 -o "$2" -w '%{speed_download} %{http_code}\n' "$URL6$1"
}

# The client has never seen the edge: its first packet needs neighbour discovery.
in_client ip -6 neigh flush dev "$CLIENT_IF" >/dev/null 2>&1
ns_before=$(counter ndp_solicitations_answered)
check "ping -6 the edge (ICMPv6 echo from the data plane)" in_client ping -6 -c 3 -i 0.2 -W 2 "$EDGE6"
check "the client resolved the edge by NDP from the data plane" \
  counter_at_least ndp_solicitations_answered $((ns_before + 1))
edge_mac=$(cat "/sys/class/net/$EDGE_IF/address")
learned=$(in_client ip -6 neigh show "$EDGE6" dev "$CLIENT_IF" | awk '{print $3}')
check "the client's neighbour entry holds the edge's MAC ($learned)" [ "$learned" = "$edge_mac" ]
check "echo answered by the data plane" counter_at_least icmp6_echo_answered 3

fetch6 /video/demo/small.m4s "$WORK/small.out" >/dev/null
check "small download over IPv6 is byte-exact" cmp -s "$WORK/small.out" "$WORK/store/video/demo/small.m4s"

stats=$(fetch6 /video/demo/big-64m.mp4 "$WORK/big.out")
check "64 MiB download over IPv6 is byte-exact" [ "$(sha "$WORK/big.out")" = "$(sha "$WORK/store/video/demo/big-64m.mp4")" ]
echo "# 64 MiB over IPv6: $(echo "$stats" | awk '{printf "%.1f MB/s", $1 / 1e6}')"

out=$(in_client curl -6 -sS -w '%{num_connects}\n' -o /dev/null -o /dev/null \
  "$URL6/video/demo/small.m4s" "$URL6/video/demo/small.m4s" | tail -1)
check "keep-alive over IPv6: the second request reuses the connection" [ "$out" = 0 ]

# 20 parallel downloads, IPv4 and IPv6 mixed: one connection table for both families.
want=$(sha "$WORK/store/video/demo/seg-2m.m4s")
pids=()
for i in $(seq 1 20); do
  if [ $((i % 2)) = 0 ]; then url="$URL6"; else url="http://$EDGE4"; fi
  in_client curl -sS -f -m 120 -o "$WORK/par.$i" "$url/video/demo/seg-2m.m4s" &
  pids+=($!)
done
wait "${pids[@]}"
bad=0
for i in $(seq 1 20); do [ "$(sha "$WORK/par.$i" 2>/dev/null)" = "$want" ] || bad=$((bad + 1)); done
check "20 parallel downloads over IPv4 and IPv6 are byte-exact ($bad bad)" [ $bad -eq 0 ]

code=$(in_client curl -6 -s -o /dev/null -w '%{http_code}' "$URL6/no/such/file.m4s")
check "absent path over IPv6 gives 404" [ "$code" = 404 ]

# Bad IPv6 input: fragments, too many extension headers, a UDP datagram, a bad ICMPv6
# checksum, an NS with hop limit 64. Each is counted and the edge keeps serving.
before_frag=$(counter rx_drop_ipv6_fragment); before_ext=$(counter rx_drop_ipv6_ext_limit)
before_proto=$(counter rx_drop_ipv6_protocol); before_csum=$(counter rx_drop_icmp6_checksum)
before_hop=$(counter rx_drop_ndp_hop_limit)
in_client python3 - "$CLIENT_IF" "$CLIENT6" "$EDGE6" "$edge_mac" <<'PY'
import socket, struct, sys
ifname, src, dst, edge_mac = sys.argv[1:5]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((ifname, 0))
mine = bytes.fromhex(open("/sys/class/net/%s/address" % ifname).read().strip().replace(":", ""))
edge = bytes.fromhex(edge_mac.replace(":", ""))
s6, d6 = socket.inet_pton(socket.AF_INET6, src), socket.inet_pton(socket.AF_INET6, dst)
def csum(data):
    if len(data) % 2: data += b"\0"
    t = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while t >> 16: t = (t & 0xffff) + (t >> 16)
    return ~t & 0xffff
def icmp6(src6, dst6, body):
    ph = src6 + dst6 + struct.pack("!IxxxB", len(body), 58)
    c = csum(ph + body)
    return body[:2] + struct.pack("!H", c) + body[4:]
def frame(nh, payload, hop=64, dst_mac=edge, src6=s6, dst6=d6):
    ip = struct.pack("!IHBB", 6 << 28, len(payload), nh, hop) + src6 + dst6
    return dst_mac + mine + b"\x86\xdd" + ip + payload
echo = icmp6(s6, d6, b"\x80\x00\x00\x00\x12\x34\x00\x01" + b"x" * 32)
for _ in range(3):
    s.send(frame(44, b"\x3a\x00\x00\x01\x00\x00\x00\x01" + echo))          # fragment header
    ext = b"".join(struct.pack("!BB", 60, 0) + b"\x01\x04\0\0\0\0" for _ in range(5))
    s.send(frame(60, ext[:-8] + b"\x3a\x00\x01\x04\0\0\0\0" + echo))        # 5 destination options
    s.send(frame(17, struct.pack("!HHHH", 1234, 53, 8, 0)))                # UDP
    s.send(frame(58, echo[:2] + b"\0\0" + echo[4:]))                        # bad ICMPv6 checksum
    ns = icmp6(s6, d6, b"\x87\x00\x00\x00\x00\x00\x00\x00" + d6 + b"\x01\x01" + mine)
    s.send(frame(58, ns, hop=64))                                           # NS, hop limit 64
PY
sleep 0.2
check "IPv6 fragments counted" counter_at_least rx_drop_ipv6_fragment $((before_frag + 3))
check "too many extension headers counted" counter_at_least rx_drop_ipv6_ext_limit $((before_ext + 3))
check "UDP over IPv6 counted" counter_at_least rx_drop_ipv6_protocol $((before_proto + 3))
check "bad ICMPv6 checksums counted" counter_at_least rx_drop_icmp6_checksum $((before_csum + 3))
check "NS with hop limit 64 counted" counter_at_least rx_drop_ndp_hop_limit $((before_hop + 3))
fetch6 /video/demo/small.m4s "$WORK/after.out" >/dev/null
check "still serving over IPv6 after bad input" cmp -s "$WORK/after.out" "$WORK/store/video/demo/small.m4s"

edge_stop; rc=$?
check "data plane stops cleanly on SIGTERM (exit $rc)" [ $rc -eq 0 ]
exit 0
