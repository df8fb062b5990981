#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# /metrics scraped by a real Prometheus (Debian's, on a private port and storage directory):
# the target is up, sluice series have values that follow the traffic the client makes
# (bytes, responses, lcore busy ratio, steering verdicts, admission state), promtool's linter
# finds nothing but the one data-plane counter name it misreads, and when the data plane is
# killed the control plane is still scraped and says sluice_dataplane_up 0.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/control_lib.sh"

PROM_PORT=$((9700 + LAB_INDEX))
make_small_store "$WORK/store"
control_conf "$WORK/edge.conf" "$WORK/store"
control_up "$WORK/edge.conf"
client_xdp_pass

curl -s "$CTL_URL/metrics" >"$WORK/metrics.txt"
promtool check metrics <"$WORK/metrics.txt" >"$WORK/promtool.txt" 2>&1
check "promtool check metrics: no problem ($(head -c 300 "$WORK/promtool.txt"))" \
  test "$(grep -c . "$WORK/promtool.txt")" = 0

cat >"$WORK/prometheus.yml" <<YML
global: { scrape_interval: 1s, evaluation_interval: 1s }
scrape_configs:
  - job_name: sluice
    static_configs: [ { targets: ["127.0.0.1:$CTL_PORT"] } ]
YML
prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/prometheus" \
  --web.listen-address="127.0.0.1:$PROM_PORT" --log.level=warn >"$WORK/prometheus.log" 2>&1 &
track_pid $!
check "prometheus starts on 127.0.0.1:$PROM_PORT" wait_for 60 curl -sf -o /dev/null "http://127.0.0.1:$PROM_PORT/-/ready"

# query EXPR: the first sample's value (empty when there is none).
query() {
  curl -s "http://127.0.0.1:$PROM_PORT/api/v1/query" --data-urlencode "query=$1" |
    python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")' 2>/dev/null
}
# query_check SECONDS EXPR PYTHON-CONDITION-ON-v
query_check() {
  wait_until "$1" "v=\$(query '$2'); [ -n \"\$v\" ] && python3 -c \"v=float('\$v'); import sys; sys.exit(0 if $3 else 1)\""
}

check "the sluice target is up" query_check 30 'up{job="sluice"}' 'v == 1'
for i in $(seq 1 20); do in_client curl -s -o /dev/null "http://$EDGE4/video/demo/seg-2m.m4s"; done
check "sluice_dataplane_up is 1" query_check 10 'sluice_dataplane_up' 'v == 1'
check "sluice_tx_bytes_total counts the 20 downloads (40 MiB)" query_check 15 'sluice_tx_bytes_total' 'v >= 20 * 2097152'
check "sluice_http_responses_total{code=\"2xx\"} counts them" query_check 10 'sluice_http_responses_total{code="2xx"}' 'v >= 20'
check "rate(sluice_tx_bytes_total[1m]) is positive" query_check 10 'rate(sluice_tx_bytes_total[1m])' 'v > 0'
check "sluice_lcore_busy_ratio{lcore=\"1\"} is a ratio" query_check 10 'sluice_lcore_busy_ratio{lcore="1"}' '0 <= v <= 1'
check "sluice_connections has every state" query_check 10 'count(sluice_connections)' 'v == 4'
check "per-lcore data-plane counters: sluice_dp_tcp_conn_opened_total" query_check 10 'sluice_dp_tcp_conn_opened_total{lcore="1"}' 'v >= 20'
check "sluice_steer_verdicts_total{verdict=\"redirect\"} counts the steered frames" \
  query_check 10 'sluice_steer_verdicts_total{verdict="redirect"}' 'v > 1000'
check "one series per steering reason" query_check 10 'count(sluice_steer_packets_total)' 'v == 28'
check "sluice_admission_state{state=\"open\"} is 1" query_check 10 'sluice_admission_state{state="open"}' 'v == 1'
check "sluice_control_info names the edge" query_check 10 'sluice_control_info{edge_id="lab'"$LAB_INDEX"'"}' 'v == 1'

dp_kill9
check "data plane killed: Prometheus still scrapes sluice-control and sees sluice_dataplane_up 0" \
  query_check 10 'sluice_dataplane_up + up{job="sluice"}' 'v == 1'
check "... and the admission it applies is closed (data plane down)" query_check 10 'sluice_admission_state{state="closed"}' 'v == 1'
exit 0
