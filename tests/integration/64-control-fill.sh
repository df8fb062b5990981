#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Fill from an origin: nginx (nginx-light, on loopback, its own port) serves the segments; the
# store is a 24 MiB tmpfs so that a fill can run out of space. A good manifest is downloaded,
# verified, published and served by the data plane; posted again it is "present"; a wrong
# sha256, a wrong size, HTTP 500 and 404, an origin that dies mid-file (resumed with Range when
# it returns) or for good, a full disk and a cancelled job each fail or finish as they should,
# with the reason per file; the bandwidth cap holds; and at every step the store holds only
# complete, verified files, every one in the catalog, and no part files.
. "$(dirname "$0")/lib.sh"
STEER=0
. "$(dirname "$0")/control_lib.sh"

ORIGIN_PORT=$((8710 + LAB_INDEX))
ORIGIN=http://127.0.0.1:$ORIGIN_PORT
NGINX_PID=

mkdir -p "$WORK/store" "$WORK/origin/seg" "$WORK/origin/slow" "$WORK/nginx-tmp"
mount -t tmpfs -o size=24m tmpfs "$WORK/store" || { not_ok "tmpfs store"; exit 1; }
on_cleanup "umount '$WORK/store'"
head -c 1000 /dev/urandom >"$WORK/store/existing.m4s"
"$BUILD/dataplane/sluice-catalog" build "$WORK/store" >/dev/null

head -c $((1024 * 1024)) /dev/urandom >"$WORK/origin/seg/a.m4s"
head -c 100000 /dev/urandom >"$WORK/origin/seg/b.m4s"
: >"$WORK/origin/seg/empty.vtt"
head -c 5000 /dev/urandom >"$WORK/origin/seg/c.m4s"
head -c $((2 * 1024 * 1024)) /dev/urandom >"$WORK/origin/seg/two.m4s"
head -c $((4 * 1024 * 1024)) /dev/urandom >"$WORK/origin/slow/big.m4s"
head -c $((30 * 1024 * 1024)) /dev/urandom >"$WORK/origin/seg/huge.m4s"

cat >"$WORK/nginx.conf" <<CONF
user root;
worker_processes 1;
daemon off;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 64; }
http {
  log_format fill '\$request_uri \$status \$http_range \$body_bytes_sent';
  access_log $WORK/nginx-access.log fill;
  client_body_temp_path $WORK/nginx-tmp/body; proxy_temp_path $WORK/nginx-tmp/proxy;
  fastcgi_temp_path $WORK/nginx-tmp/fastcgi; uwsgi_temp_path $WORK/nginx-tmp/uwsgi; scgi_temp_path $WORK/nginx-tmp/scgi;
  server {
    listen 127.0.0.1:$ORIGIN_PORT;
    root $WORK/origin;
    location /slow/ { limit_rate 512k; }
    location /error/ { return 500; }
  }
}
CONF
nginx_start() {
  nginx -c "$WORK/nginx.conf" -p "$WORK" >>"$WORK/nginx.log" 2>&1 &
  NGINX_PID=$!
  wait_for 10 curl -sf -o /dev/null "$ORIGIN/seg/c.m4s"
}
nginx_stop() { [ -n "$NGINX_PID" ] && { kill -TERM "$NGINX_PID"; wait "$NGINX_PID" 2>/dev/null; NGINX_PID=; }; return 0; }
on_cleanup nginx_stop

fill_conf() { # fill_conf [extra fill settings]
  control_conf "$WORK/edge.conf" "$WORK/store" "fill = { concurrency = 2; retries = 2; connect_timeout_ms = 1000;
    stall_timeout_ms = 3000; ${1:-} };"
}
entry() { # entry PATH URL [SIZE] [SHA]: one manifest entry for an origin file
  local file=$WORK/origin/${2#$ORIGIN/}
  printf '{"path": "%s", "url": "%s", "size": %s, "sha256": "%s"}' "$1" "$2" "${3:-$(stat -c %s "$file")}" "${4:-$(sha "$file")}"
}
submit() { # submit ENTRY...: posts a manifest; the job id in $JOB
  local IFS=,
  api POST /v1/fills "{\"name\": \"test\", \"files\": [$*]}"
  JOB=$(jq_resp 'j["id"]')
}
wait_job() { # wait_job: until the job finishes; its status in $WORK/job.json
  wait_until "${1:-60}" 'api GET /v1/fills/$JOB; cp $WORK/resp $WORK/job.json; [ "$(jq_resp "j[\"state\"]")" != running ] && [ "$(jq_resp "j[\"state\"]")" != queued ]'
}
job() { python3 -c "import json; j=json.load(open('$WORK/job.json')); f={x['path']: x for x in j['files']}; print($1)"; }
job_ok() { job "$1" >/dev/null; }
served() { in_client curl -s -m 10 "http://$EDGE4$1" | sha256sum | cut -d' ' -f1; }
store_clean() { # every file in the store is complete, verified and listed; no part files
  python3 - "$WORK/store" <<'PY'
import hashlib, json, os, sys
root = sys.argv[1]
listed = {f["file"]: f for f in json.load(open(os.path.join(root, "catalog.json")))["files"]}
for dirpath, dirs, files in os.walk(root):
    for name in files:
        rel = os.path.relpath(os.path.join(dirpath, name), root)
        if rel == "catalog.json":
            continue
        if rel.startswith(".fill/"):
            print("part file left:", rel); sys.exit(1)
        if rel not in listed:
            print("not in the catalog:", rel); sys.exit(1)
        data = open(os.path.join(root, rel), "rb").read()
        if len(data) != listed[rel]["size"] or hashlib.sha256(data).hexdigest() != listed[rel]["sha256"]:
            print("does not match the catalog:", rel); sys.exit(1)
PY
}

lab_prepare
check "nginx origin starts on 127.0.0.1:$ORIGIN_PORT" nginx_start
fill_conf
dp_start "$WORK/edge.conf"
check "sluice-control starts" ctl_start "$WORK/edge.conf"
dp_wait_serving >/dev/null

# --- a good manifest ------------------------------------------------------------------------------
submit "$(entry /video/new/a.m4s "$ORIGIN/seg/a.m4s")" "$(entry /video/new/b.m4s "$ORIGIN/seg/b.m4s")" \
  "$(entry /video/new/deep/er/empty.vtt "$ORIGIN/seg/empty.vtt")" "$(entry /video/c.m4s "$ORIGIN/seg/c.m4s")"
check "a manifest makes a job (202)" test "$HTTP" = 202
wait_job
check "the job is done, every file done" test "$(job 'j["state"], j["counts"]["done"]')" = "done 4"
check "files are in the store, byte-exact" test "$(sha "$WORK/store/video/new/a.m4s")$(sha "$WORK/store/video/new/deep/er/empty.vtt")" = \
  "$(sha "$WORK/origin/seg/a.m4s")$(sha "$WORK/origin/seg/empty.vtt")"
check "the catalog lists them (and kept the file it had)" test "$(python3 -c "
import json; print(sorted(f['path'] for f in json.load(open('$WORK/store/catalog.json'))['files']))")" = \
  "['/existing.m4s', '/video/c.m4s', '/video/new/a.m4s', '/video/new/b.m4s', '/video/new/deep/er/empty.vtt']"
check "the data plane loaded that catalog version" bash -c "'$BUILD/dataplane/sluice-dpctl' --socket '$WORK/dataplane.sock' hello | grep -q 'catalog version $(job 'j["catalog_version"]'),'"
check "the data plane serves the new files byte-exact" test "$(served /video/new/a.m4s) $(served /video/c.m4s)" = \
  "$(sha "$WORK/origin/seg/a.m4s") $(sha "$WORK/origin/seg/c.m4s")"
check "the store is clean" store_clean
requests=$(wc -l <"$WORK/nginx-access.log")
submit "$(entry /video/new/a.m4s "$ORIGIN/seg/a.m4s")" "$(entry /video/c.m4s "$ORIGIN/seg/c.m4s")"
wait_job
check "posted again: present, nothing fetched" test "$(job 'j["state"], j["counts"]["present"]'):$(wc -l <"$WORK/nginx-access.log")" = "done 2:$requests"

# --- failures, each with its reason, and nothing half-published ---------------------------------------
zero=0000000000000000000000000000000000000000000000000000000000000000
submit "$(entry /video/bad/hash.m4s "$ORIGIN/seg/b.m4s" "" $zero)" "$(entry /video/bad/ok.m4s "$ORIGIN/seg/c.m4s")" \
  "$(entry /video/bad/long.m4s "$ORIGIN/seg/c.m4s" 4000)" "$(entry /video/bad/short.m4s "$ORIGIN/seg/c.m4s" 6000)" \
  "$(entry /video/bad/err.m4s "$ORIGIN/error/x.m4s" 10 $zero)" "$(entry /video/bad/missing.m4s "$ORIGIN/seg/nope.m4s" 10 $zero)" \
  "$(entry /existing.m4s "$ORIGIN/seg/c.m4s")"
wait_job 30
check "a job with failures ends failed; the good file in it is done" test "$(job 'j["state"], f["/video/bad/ok.m4s"]["state"]')" = "failed done"
check "wrong sha256: failed, says so" job_ok 'f["/video/bad/hash.m4s"]["state"] == "failed" and "sha256 mismatch" in f["/video/bad/hash.m4s"]["error"] or exit(1)'
check "origin sends more than the size: failed" job_ok '"more than the manifest" in f["/video/bad/long.m4s"]["error"] or exit(1)'
check "origin sends less than the size: failed" job_ok '"size mismatch" in f["/video/bad/short.m4s"]["error"] or exit(1)'
check "origin answers 500: retried (3 attempts), then failed" job_ok '"HTTP 500" in f["/video/bad/err.m4s"]["error"] and f["/video/bad/err.m4s"]["attempts"] == 3 or exit(1)'
check "origin answers 404: failed without retrying" job_ok '"HTTP 404" in f["/video/bad/missing.m4s"]["error"] and f["/video/bad/missing.m4s"]["attempts"] == 1 or exit(1)'
check "a path the catalog has with other content is refused (immutable)" job_ok '"immutable" in f["/existing.m4s"]["error"] or exit(1)'
check "no failed file appears in the store" bash -c "! ls '$WORK/store/video/bad' | grep -v '^ok.m4s$'"
check "the store is clean" store_clean

# --- the origin dies mid-file and comes back: resumed with Range ------------------------------------------
submit "$(entry /video/resume/big.m4s "$ORIGIN/slow/big.m4s")"
wait_until 10 '[ "$(du -sb $WORK/store/.fill | cut -f1)" -gt 600000 ]'
nginx_stop
check "origin killed mid-file: nothing under the final name" test ! -e "$WORK/store/video/resume/big.m4s"
sleep 1
nginx_start
wait_job 60
check "origin back: the file finished, resumed" test "$(job 'j["state"], f["/video/resume/big.m4s"]["resumed"] >= 1')" = "done True"
check "the origin saw a Range request answered 206" grep -qE '^/slow/big.m4s 206 bytes=[1-9][0-9]*-' "$WORK/nginx-access.log"
check "the resumed file is byte-exact and served" test "$(served /video/resume/big.m4s)" = "$(sha "$WORK/origin/slow/big.m4s")"

# --- the origin dies for good: a clean failure ------------------------------------------------------------
submit "$(entry /video/gone/big.m4s "$ORIGIN/slow/big.m4s")"
wait_until 10 '[ "$(du -sb $WORK/store/.fill | cut -f1)" -gt 300000 ]'
nginx_stop
wait_job 30
check "origin gone: failed after its retries" test "$(job 'j["state"], f["/video/gone/big.m4s"]["state"], f["/video/gone/big.m4s"]["attempts"]')" = "failed failed 3"
check "... the part is deleted, nothing published" test "$(ls -A "$WORK/store/.fill" | wc -l):$(test -e "$WORK/store/video/gone/big.m4s" && echo there)" = "0:"
nginx_start

# --- an origin that stops sending: the stall timeout ------------------------------------------------------
STALL_PORT=$((8730 + LAB_INDEX))
cat >"$WORK/stall.py" <<'PY'
import http.server, sys, time
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "100000")
        self.end_headers()
        self.wfile.write(b"x" * 1000)
        self.wfile.flush()
        time.sleep(60)
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer.daemon_threads = True
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
PY
python3 "$WORK/stall.py" "$STALL_PORT" >>"$WORK/stall.log" 2>&1 &
track_pid $!
wait_for 10 python3 -c "import socket; socket.create_connection(('127.0.0.1', $STALL_PORT), 1)"
submit "$(printf '{"path": "/video/stall/x.m4s", "url": "http://127.0.0.1:%s/x.m4s", "size": 100000, "sha256": "%s"}' "$STALL_PORT" $zero)"
wait_job 60
check "an origin that stalls: timed out (stall timeout 3 s) on every attempt, then failed" job_ok \
  'f["/video/stall/x.m4s"]["state"] == "failed" and "timed out" in f["/video/stall/x.m4s"]["error"] and f["/video/stall/x.m4s"]["attempts"] == 3 or exit(1)'
check "... and one that ignores Range was asked again from byte 0, not failed for it" job_ok \
  'f["/video/stall/x.m4s"]["resumed"] >= 1 and "Range" not in f["/video/stall/x.m4s"]["error"] or exit(1)'
check "... no part left, nothing published" test "$(ls -A "$WORK/store/.fill" | wc -l):$(test -e "$WORK/store/video/stall/x.m4s" && echo there)" = "0:"

# --- disk full -----------------------------------------------------------------------------------------
submit "$(entry /video/full/huge.m4s "$ORIGIN/seg/huge.m4s")" "$(entry /video/full/two.m4s "$ORIGIN/seg/two.m4s")"
wait_job 60
check "disk full: the 30 MiB segment fails with ENOSPC, the 2 MiB one is done" test \
  "$(job 'f["/video/full/huge.m4s"]["state"], "disk full" in f["/video/full/huge.m4s"]["error"], f["/video/full/two.m4s"]["state"]')" = "failed True done"
check "the partial file is gone: the space is free again" test "$(df --output=used -B1M "$WORK/store" | tail -1 | tr -d ' ')" -lt 12
check "the store is clean" store_clean

# --- cancel ------------------------------------------------------------------------------------------------
submit "$(entry /video/cancel/big.m4s "$ORIGIN/slow/big.m4s")"
wait_until 10 '[ "$(du -sb $WORK/store/.fill | cut -f1)" -gt 100000 ]'
api DELETE "/v1/fills/$JOB"
check "cancel: 202" test "$HTTP" = 202
wait_job 10
check "cancelled: the job and its file say so, the part is deleted" test \
  "$(job 'j["state"], f["/video/cancel/big.m4s"]["state"]'):$(ls -A "$WORK/store/.fill" | wc -l)" = "cancelled cancelled:0"
api DELETE "/v1/fills/$JOB"
check "cancelling a finished job: 409" test "$HTTP" = 409

# --- bandwidth cap ---------------------------------------------------------------------------------------
fill_conf "bandwidth_mbps = 8;"
api POST /v1/config/reload '{"target": "control"}'
start=$(date +%s.%N)
submit "$(entry /video/capped/two.m4s "$ORIGIN/seg/two.m4s")"
wait_job 30
took=$(python3 -c "import time; print('%.1f' % (time.time() - $start))")
check "8 Mbit/s cap: 2 MiB take at least 1.5 s (took $took s)" python3 -c "import sys; sys.exit(0 if $took >= 1.5 else 1)"
fill_conf
api POST /v1/config/reload '{"target": "control"}'

api GET /v1/fills
check "the job list has every job, newest first" test "$(jq_resp 'len(j["jobs"]), j["jobs"][0]["id"] == "'"$JOB"'"')" = "9 True"
check "metrics count fill results" bash -c "curl -s $CTL_URL/metrics | grep -qE '^sluice_fill_files_total\\{result=\"failed\"\\} [1-9]'"
check "at the end the store is clean" store_clean
ctl_stop
ctl_start "$WORK/edge.conf" >/dev/null
api GET "/v1/fills/$JOB"
check "jobs survive a control plane restart" test "$HTTP:$(jq_resp 'j["state"]')" = "200:done"
exit 0
