#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The data plane on a net_tap port, the send path with TSO (mbuf chains, checksum offload
# flags): DPDK creates the tap interface, the test moves it into a client namespace and
# downloads byte-exact from there. IPv4 (the tap PMD segments IPv4 only).
. "$(dirname "$0")/lib.sh"

TAP_NS=sluice-tap-$LAB_INDEX
TAP_IF=sluice-tap$LAB_INDEX
ip netns del "$TAP_NS" 2>/dev/null
ip netns add "$TAP_NS"
tap_cleanup() { lab_cleanup; ip netns del "$TAP_NS" 2>/dev/null; }
trap tap_cleanup EXIT

make_store "$WORK/store"
cat >"$WORK/edge.conf" <<CONF
dataplane = {
  port = { driver = "tap"; iface = "$TAP_IF"; queues = 1; };
  eal = { lcores = [1]; main_lcore = 0; hugepages = $(hugepages_setting); memory_mb = 256;
          file_prefix = "sluice-tap$LAB_INDEX"; };
  net = { ipv4 = "198.18.$((100 + LAB_INDEX)).1"; ipv6_enabled = false; };
  service = { http_port = 80; https_port = 0; store_root = "$WORK/store"; max_connections = 4096; };
  api = { stats_path = "$STATS_PATH"; command_socket = "$WORK/dataplane.sock"; };
};
CONF
"$BUILD/dataplane/sluice-dataplane" --config "$WORK/edge.conf" >"$WORK/dataplane.log" 2>&1 &
EDGE_PID=$!
for _ in $(seq 1 40); do ip link show "$TAP_IF" >/dev/null 2>&1 && break; sleep 0.25; done
if ! ip link show "$TAP_IF" >/dev/null 2>&1; then
  not_ok "the data plane creates the tap interface"; sed 's/^/# /' "$WORK/dataplane.log"; exit 1
fi
EDGE=198.18.$((100 + LAB_INDEX)).1
ip link set "$TAP_IF" netns "$TAP_NS"
ip -n "$TAP_NS" addr add "198.18.$((100 + LAB_INDEX)).2/24" dev "$TAP_IF"
ip -n "$TAP_NS" link set "$TAP_IF" up
ip -n "$TAP_NS" link set lo up
check "the port reports TSO" grep -q "offloads ipv4-cksum tcp-cksum tso" "$WORK/dataplane.log"
for f in small.m4s seg-2m.m4s big-64m.mp4; do
  ip netns exec "$TAP_NS" curl -sS -f -m 120 -o "$WORK/$f.out" "http://$EDGE/video/demo/$f"
  check "tap: $f byte-exact" cmp -s "$WORK/$f.out" "$WORK/store/video/demo/$f"
done
segs=$(counter tcp_tx_segments); pkts=$(counter tx_packets)
echo "# $segs TCP segments left as $pkts packets (the port segmented the rest)"
check "TSO: far fewer packets than segments" [ "$pkts" -lt $((segs / 4)) ]
check "no packet refused by the port" [ "$(counter tx_dropped_packets)" -eq 0 ]
edge_stop; rc=$?
check "data plane stops cleanly (exit $rc)" [ $rc -eq 0 ]
exit 0
