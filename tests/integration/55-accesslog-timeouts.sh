#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The access log and the connection timeouts, end to end.
# Access log: one record per response on the lcore's shared-memory ring; sluice-accesslog
# drains them as JSON lines with readable fields, loses none while the ring has room, and
# reports (and the data plane counts) the records dropped when the ring is full; --follow
# keeps draining.
# Timeouts (short ones configured here): a request head trickling in (slowloris) is reset
# header_timeout_ms after its first byte; an idle keep-alive connection gets a FIN; a client
# that stops reading while a response is queued is reset after send_timeout_ms. Each closes
# only its connection and is counted.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/http_lib.sh"

lab_prepare
make_store "$WORK/store"
timeouts="http = { header_timeout_ms = 1000; keepalive_timeout_ms = 1500; send_timeout_ms = 2000; };"
if ! edge_up "$WORK/edge.conf" "$WORK/store" "$timeouts"; then not_ok "data plane starts"; exit 1; fi
pin_edge_neighbour "$NS" "$CLIENT_IF" "$EDGE_IF" "$EDGE4"
LOG=$STATS_PATH.accesslog
alog() { "$BUILD/dataplane/sluice-accesslog" --path "$LOG" "$@"; }
alog >/dev/null 2>&1 # drain edge_start's probes

# requests COUNT PATH [RANGE]: COUNT requests over one keep-alive connection.
requests() {
  in_client python3 - "$EDGE4" "$@" <<'PY'
import http.client, sys
host, count, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
headers = {"Range": sys.argv[4]} if len(sys.argv) > 4 else {}
conn = http.client.HTTPConnection(host, 80, timeout=30)
for _ in range(count):
    conn.request("GET", path, headers=headers)
    conn.getresponse().read()
conn.close()
PY
}

requests 10 /video/demo/small.m4s
requests 5 /video/demo/seg-2m.m4s bytes=100-199
requests 3 /video/demo/seg-2m.m4s bytes=0-9,100-109
requests 2 /no/such
in_client curl -s -o /dev/null -I "http://$EDGE4/video/demo/small.m4s"
sleep 0.2
alog >"$WORK/log1.json" 2>"$WORK/log1.err"
check "sluice-accesslog drains one record per response ($(wc -l <"$WORK/log1.json") lines)" [ "$(wc -l <"$WORK/log1.json")" -eq 21 ]
python3 - "$WORK/log1.json" "$CLIENT4" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
def ok(what, cond):
    print(("ok" if cond else "not ok") + " - access log: " + what)
ok("every line is a JSON object with the documented fields",
   all(set(r) >= {"time", "client", "method", "path", "range", "status", "bytes", "duration_ms", "tls", "lcore"} for r in recs))
ok("client address and lcore", all(r["client"] == sys.argv[2] and r["lcore"] == 1 and r["tls"] is False for r in recs))
ok("ISO times", all(r["time"].endswith("Z") and r["time"][10] == "T" for r in recs))
st = [r["status"] for r in recs]
ok("statuses 200 x11, 206 x8, 404 x2", st.count(200) == 11 and st.count(206) == 8 and st.count(404) == 2)
one = [r for r in recs if r["range"] == "bytes=100-199"]
ok("single range recorded (%d)" % len(one), len(one) == 5 and all(r["path"] == "/video/demo/seg-2m.m4s" for r in one))
multi = [r for r in recs if r["range"] and "parts" in r["range"]]
ok("multipart range recorded", len(multi) == 3 and multi[0]["range"] == "2 parts from byte 0, 20 bytes")
ok("bytes include the head", all(r["bytes"] > 1000 for r in recs if r["status"] == 200 and r["method"] == "GET"))
ok("HEAD recorded", sum(1 for r in recs if r["method"] == "HEAD") == 1)
PY
check "no drops reported" grep -q "21 records, 0 dropped" "$WORK/log1.err"

# A full ring drops and counts: 1100 responses into a ring of 1024 with nobody reading.
sed -i 's|command_socket = |accesslog_records = 1024; command_socket = |' "$WORK/edge.conf"
edge_stop
if ! edge_start_fallback "$WORK/edge.conf"; then not_ok "data plane restarts"; exit 1; fi
alog >/dev/null 2>&1
requests 1100 /video/demo/small.m4s
sleep 0.2
alog >"$WORK/log2.json" 2>"$WORK/log2.err"
sed 's/^/# /' "$WORK/log2.err"
check "a full ring keeps what it holds ($(wc -l <"$WORK/log2.json") records)" [ "$(wc -l <"$WORK/log2.json")" -eq 1024 ]
check "sluice-accesslog reports the drops" grep -q "1024 records, 76 dropped" "$WORK/log2.err"
check "the data plane counts them" [ "$(counter accesslog_dropped)" -eq 76 ]

# --follow drains as records come.
"$BUILD/dataplane/sluice-accesslog" --path "$LOG" --follow --interval 50 >"$WORK/follow.json" 2>/dev/null &
follower=$!
requests 7 /video/demo/small.m4s
for _ in $(seq 1 50); do [ "$(wc -l <"$WORK/follow.json")" -ge 7 ] && break; sleep 0.1; done
kill -INT $follower; wait $follower
check "--follow drains records as they come" [ "$(wc -l <"$WORK/follow.json")" -eq 7 ]

# Timeouts.
slowloris_before=$(counter http_header_timeouts)
in_client python3 - "$EDGE4" <<'PY'
import socket, sys, time
s = socket.create_connection((sys.argv[1], 80), timeout=10)
start = time.time()
closed = False
try:
    for ch in "GET /video/demo/small.m4s HTTP/1.1\r\nHost: edge\r\nX-Slow: " + "a" * 200:
        s.send(ch.encode())
        time.sleep(0.1)
        s.setblocking(False)
        try:
            if s.recv(1) == b"":
                closed = True
                break
        except BlockingIOError:
            pass
        finally:
            s.setblocking(True)
except (ConnectionResetError, BrokenPipeError):
    closed = True
print(("ok" if closed else "not ok") + " - a trickling request head is cut off (after %.1f s)" % (time.time() - start))
PY
sleep 0.2
check "header timeout counted" [ "$(counter http_header_timeouts)" -gt "$slowloris_before" ]

in_client python3 - "$EDGE4" <<'PY'
import socket, sys, time
s = socket.create_connection((sys.argv[1], 80), timeout=15)
s.sendall(b"GET /video/demo/small.m4s HTTP/1.1\r\nHost: edge\r\n\r\n")
data = b""
while b"\r\n\r\n" not in data or len(data) < data.index(b"\r\n\r\n") + 4 + 1000:
    data += s.recv(65536)
start = time.time()
try:
    eof = s.recv(1) == b""
except ConnectionResetError:
    eof = False
print(("ok" if eof else "not ok") + " - an idle keep-alive connection is closed with a FIN (after %.1f s)" % (time.time() - start))
PY
sleep 0.2
check "keep-alive timeout counted" [ "$(counter http_keepalive_timeouts)" -ge 1 ]

in_client python3 - "$EDGE4" <<'PY' &
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect((sys.argv[1], 80))
s.sendall(b"GET /video/demo/big-64m.mp4 HTTP/1.1\r\nHost: edge\r\n\r\n")
time.sleep(30)  # never reads
PY
stuck=$!
for _ in $(seq 1 200); do [ "$(counter http_send_timeouts)" -ge 1 ] && break; sleep 0.1; done
check "a client that stops reading is reset (send timeout counted)" [ "$(counter http_send_timeouts)" -ge 1 ]
kill $stuck 2>/dev/null; wait $stuck 2>/dev/null
in_client curl -sS -f -o "$WORK/after.out" "http://$EDGE4/video/demo/seg-2m.m4s"
check "the edge serves on" cmp -s "$WORK/after.out" "$WORK/store/video/demo/seg-2m.m4s"

edge_stop; rc=$?
check "data plane stops cleanly (exit $rc)" [ $rc -eq 0 ]
exit 0
