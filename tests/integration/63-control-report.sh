#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Health reports to a backend: a small HTTPS receiver (Python, self-signed certificate given to
# sluice-control as its CA) records every POST. Reports arrive every interval with the edge's
# state, capacity, load, errors and an inventory digest that matches the catalog; the data
# plane killed with SIGKILL is reported within two intervals; restarted, it is reported up
# again with the admission override re-applied to it and to the steering map; a failing
# backend is retried with jittered exponential backoff; TLS is verified.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/control_lib.sh"

BACKEND_PORT=$((8720 + LAB_INDEX))
INTERVAL_MS=1000
REPORTS=$WORK/reports.jsonl
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 -days 1 -keyout "$WORK/backend.key" -out "$WORK/backend.pem" 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=other \
  -days 1 -keyout "$WORK/other.key" -out "$WORK/other.pem" 2>/dev/null
echo "backend-token-0123456789" >"$WORK/backend-token"
echo 0 >"$WORK/fail"
cat >"$WORK/backend.py" <<'PY'
import http.server, json, ssl, sys, time
port, cert, key, log, fail = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        failing = int(open(fail).read() or 0)
        status = 503 if failing > 0 else 200
        if failing > 0:
            open(fail, "w").write(str(failing - 1))
        with open(log, "a") as f:
            f.write(json.dumps({"t": time.time(), "status": status, "path": self.path,
                                "auth": self.headers.get("Authorization"),
                                "type": self.headers.get("Content-Type"),
                                "report": json.loads(body)}) + "\n")
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
server.socket = ctx.wrap_socket(server.socket, server_side=True)
server.serve_forever()
PY
BACKEND_PID=
backend_start() {
  python3 "$WORK/backend.py" "$BACKEND_PORT" "$WORK/backend.pem" "$WORK/backend.key" "$REPORTS" "$WORK/fail" \
    >>"$WORK/backend.log" 2>&1 &
  BACKEND_PID=$!
  track_pid "$BACKEND_PID"
  sleep 0.5
}
backend_stop() { kill -TERM "$BACKEND_PID"; wait "$BACKEND_PID" 2>/dev/null; }
# reports_since T PYTHON-CONDITION: accepted reports after time T satisfying a condition on r
# (the report) and e (the whole record); prints how many.
reports_since() {
  python3 - "$REPORTS" "$1" "$2" <<'PY'
import json, sys
n = 0
for line in open(sys.argv[1]):
    e = json.loads(line); r = e["report"]
    if e["t"] >= float(sys.argv[2]) and eval(sys.argv[3]):
        n += 1
print(n)
PY
}
first_since() { # first_since T CONDITION: seconds from T to the first accepted report meeting it
  python3 - "$REPORTS" "$1" "$2" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line); r = e["report"]
    if e["t"] >= float(sys.argv[2]) and e["status"] == 200 and eval(sys.argv[3]):
        print("%.2f" % (e["t"] - float(sys.argv[2]))); break
else:
    print(99)
PY
}
now() { date +%s.%N; }

report_conf() { # report_conf CA
  control_conf "$WORK/edge.conf" "$WORK/store" "report = { url = \"https://127.0.0.1:$BACKEND_PORT/v1/edges/report\";
    ca_file = \"$1\"; token_file = \"$WORK/backend-token\"; interval_ms = $INTERVAL_MS; timeout_ms = 2000;
    retries = 3; backoff_initial_ms = 100; backoff_max_ms = 400; };"
}

make_small_store "$WORK/store"
report_conf "$WORK/backend.pem"
backend_start
control_up "$WORK/edge.conf"
client_xdp_pass

t=$(now)
sleep 3.5
check "reports arrive every interval (3 or more in 3.5 s)" test "$(reports_since "$t" 'e["status"] == 200')" -ge 3
check "POSTed as JSON with the backend's bearer token" test \
  "$(reports_since "$t" 'e["auth"] == "Bearer backend-token-0123456789" and e["type"] == "application/json"')" -ge 3
tail -1 "$REPORTS" >"$WORK/last.json"
expected_digest=$(python3 -c "
import json, hashlib
files = sorted(json.load(open('$WORK/store/catalog.json'))['files'], key=lambda f: f['path'])
print(hashlib.sha256(''.join('%s\t%s\n' % (f['path'], f['sha256']) for f in files).encode()).hexdigest())")
check "a report has edge id, version, state, admission, capacity, utilisation, throughput, connections, lcore busy, errors, catalog" \
  python3 - "$WORK/last.json" "$expected_digest" "$LAB_INDEX" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["report"]
assert r["edge_id"] == "lab" + sys.argv[3] and r["version"] and r["sequence"] > 0 and r["time"].endswith("Z")
assert r["state"] == "ok" and r["dataplane"]["up"] is True and r["admission"]["state"] == "open"
assert r["capacity"]["gbps"] == 10 and r["capacity"]["connections"] == 16384
assert 0 <= r["utilisation"] and "tx_bps" in r["throughput"] and r["connections"] >= 0
assert r["lcore_busy"][0]["lcore"] == 1 and 0 <= r["lcore_busy"][0]["ratio"] <= 1
assert {"http_4xx", "http_5xx", "tcp_resets_sent", "tcp_timeouts", "tcp_retransmits", "steer_dropped"} <= set(r["errors"])
assert r["catalog"]["files"] == 3 and r["catalog"]["inventory_sha256"] == sys.argv[2]
assert r["catalog"]["version"] == r["catalog"]["dataplane_version"] and r["steering"]["loaded"] is True
PY
cp "$WORK/last.json" "$WORK/example-report.json"

# Admission override, persisted; then the data plane dies and comes back.
t=$(now)
api PUT /v1/admission '{"state": "closed", "reason": "before the crash"}'
check "an admission change is reported at once" wait_until 1 \
  '[ "$(reports_since '"$t"' "r[\"admission\"][\"state\"] == \"closed\" and r[\"trigger\"] == \"admission\"")" -ge 1 ]'
t=$(now)
dp_kill9
check "data plane killed (SIGKILL): health says down" wait_until 3 '[ "$(health_field "j[\"status\"], j[\"dataplane\"][\"state\"]")" = "down down" ]'
sleep 2.5
delay=$(first_since "$t" 'r["state"] == "down" and r["dataplane"]["up"] is False')
check "the next report says so within 2 intervals (after $delay s)" python3 -c "import sys; sys.exit(0 if $delay <= 2 * $INTERVAL_MS / 1000 else 1)"
check "the report names the trigger" test "$(reports_since "$t" 'r["trigger"] == "dataplane_down"')" -ge 1
check "health answers 503 while the data plane is down" test "$(curl -s -o /dev/null -w '%{http_code}' "$CTL_URL/v1/health")" = 503
t=$(now)
dp_start "$WORK/edge.conf"
check "data plane restarted: reported up again, as a restart" wait_until 20 \
  '[ "$(reports_since '"$t"' "r[\"dataplane\"][\"up\"] and r[\"dataplane\"][\"restarts\"] == 1 and r[\"admission\"][\"state\"] == \"closed\"")" -ge 1 ]'
check "health: up, restarted, state applied" wait_until 5 '[ "$(health_field "j[\"dataplane\"][\"state\"], j[\"dataplane\"][\"restarted\"], j[\"dataplane\"][\"state_applied\"]")" = "up True True" ]'
check "the override was re-applied to the new data plane" bash -c "'$BUILD/dataplane/sluice-dpctl' --socket '$WORK/dataplane.sock' status | grep -q 'admission closed'"
check "... and to the steering map" test "$(steer admission get "$SERVICE_ID")" = closed
t=$(now)
api PUT /v1/admission '{"state": "auto"}'
check "back to automatic: reports say ok" wait_until 5 '[ "$(reports_since '"$t"' "r[\"state\"] == \"ok\" and r[\"admission\"][\"state\"] == \"open\"")" -ge 1 ]'
check "the data plane serves again" wait_until 10 '[ "$(in_client curl -s -o /dev/null -m 2 -w "%{http_code}" http://$EDGE4/video/demo/small.m4s)" = 200 ]'

# A backend that fails: retried with backoff, the same report each time.
t=$(now)
echo 3 >"$WORK/fail"
check "a failing backend (3 x 503) is retried until it accepts" wait_until 10 '[ "$(reports_since '"$t"' "e[\"status\"] == 200")" -ge 1 ]'
python3 - "$REPORTS" "$t" >"$WORK/retries.txt" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
rows = [e for e in rows if e["t"] >= float(sys.argv[2])]
failed = [e for e in rows if e["status"] == 503]
seq = failed[0]["report"]["sequence"]
same = [e for e in rows if e["report"]["sequence"] == seq]
gaps = [b["t"] - a["t"] for a, b in zip(same, same[1:])]
print(len(failed), len(same), same[-1]["status"], " ".join("%.3f" % g for g in gaps))
PY
read -r failed same last gaps <<<"$(cat "$WORK/retries.txt")"
check "three failures, then the same report (sequence) accepted: $failed, $same, $last" test "$failed $same $last" = "3 4 200"
check "waits between attempts grow with jitter within [base/2, base] (100, 200, 400 ms): $gaps" python3 -c "
g = [float(x) for x in '$gaps'.split()]
b = [0.1, 0.2, 0.4]
import sys; sys.exit(0 if all(b[i] / 2 - 0.01 <= g[i] <= b[i] + 0.25 for i in range(3)) else 1)"
check "metrics count the failures" bash -c "curl -s $CTL_URL/metrics | grep -qE '^sluice_report_failures_total ([3-9]|[1-9][0-9]+)$'"

backend_stop
check "backend gone: health degraded, naming the reports" wait_until 8 \
  'curl -s $CTL_URL/v1/health | grep -q "health reports failing"'
check "... while the edge itself is fine" test "$(health_field 'j["status"], j["dataplane"]["state"]')" = "degraded up"
t=$(now)
backend_start
check "backend back: reports accepted again, health ok" wait_until 10 \
  '[ "$(reports_since '"$t"' "e[\"status\"] == 200")" -ge 1 ] && [ "$(health_field "j[\"status\"]")" = ok ]'

# TLS is verified: a backend whose certificate the CA file does not vouch for gets nothing.
report_conf "$WORK/other.pem"
api POST /v1/config/reload '{"target": "control"}'
t=$(now)
sleep 2.5
check "with another CA: no report is delivered" test "$(reports_since "$t" 'True')" = 0
check "... and health says why" bash -c "curl -s $CTL_URL/v1/health | grep -qi 'certificate'"
report_conf "$WORK/backend.pem"
api POST /v1/config/reload '{"target": "control"}'
exit 0
