# SPDX-License-Identifier: BSD-3-Clause
# tests/integration/http_lib.sh: helpers of the HTTP and store lab tests and of
# perf/http_ranges.sh (sourced after lib.sh or on its own, not run): nginx as the reference
# server, a static neighbour entry for the edge, page cache eviction.
#
# Reference server:
# nginx runs in the root namespace, on the kernel's side of the lab veth (the edge address is
# configured there by scripts/lab), so the same client namespace reaches it at the same address.
# It binds that address only, on its own port (NGINX_PORT, default 8000 + lab index), so that
# other labs' nginx instances on the machine do not collide with it, and it can only be
# reached while the data plane is stopped (with it running, the XDP program hands every frame
# of the veth to DPDK). The config mirrors the data plane where the comparison needs it: the
# content types of http_mime.c, max_ranges 8, one worker, no access log.

# nginx_start ROOT DIR ADDRESS PORT: serve ROOT; nginx's files go to DIR. Sets NGINX_PID.
nginx_start() {
  local root=$1 dir=$2 addr=$3 port=$4
  mkdir -p "$dir/tmp"
  cat >"$dir/nginx.conf" <<CONF
worker_processes 1;
daemon off;
user root;
pid $dir/nginx.pid;
error_log $dir/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  keepalive_timeout 60s;
  max_ranges 8;
  default_type application/octet-stream;
  types {
    video/mp4 mp4 m4v; video/iso.segment m4s; audio/mp4 m4a; video/mp2t ts;
    application/vnd.apple.mpegurl m3u8; application/dash+xml mpd; text/vtt vtt;
    application/json json;
  }
  client_body_temp_path $dir/tmp/body; proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi; uwsgi_temp_path $dir/tmp/uwsgi; scgi_temp_path $dir/tmp/scgi;
  server {
    listen $addr:$port reuseport;
    root $root;
  }
}
CONF
  nginx -c "$dir/nginx.conf" -e "$dir/error.log" &
  NGINX_PID=$!
  for _ in $(seq 1 50); do
    if ! kill -0 "$NGINX_PID" 2>/dev/null; then echo "# nginx did not start:"; sed 's/^/# /' "$dir/error.log"; NGINX_PID=; return 1; fi
    ss -ltn "sport = :$port" | grep -q LISTEN && return 0
    sleep 0.1
  done
  return 1
}

nginx_stop() {
  [ -n "${NGINX_PID:-}" ] || return 0
  kill -QUIT "$NGINX_PID" 2>/dev/null
  for _ in $(seq 1 50); do kill -0 "$NGINX_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$NGINX_PID" 2>/dev/null
  wait "$NGINX_PID" 2>/dev/null
  NGINX_PID=
}

# pin_edge_neighbour NS CLIENT_IF EDGE_IF EDGE4: a permanent ARP entry for the edge in the
# client namespace. Under load the edge's veth drops part of what the client sends while the
# data plane's lcore shares its core with other pollers (rx_queue_0_drops in ethtool -S); a
# lost ARP exchange then fails new connections outright, which is not what these tests test.
pin_edge_neighbour() {
  local ns=$1 client_if=$2 edge_if=$3 edge4=$4
  ip -n "$ns" neigh replace "$edge4" lladdr "$(cat "/sys/class/net/$edge_if/address")" dev "$client_if" nud permanent
}

# evict FILE: write the file back, then drop its pages from the page cache (pages mapped by a
# process stay: evict before the data plane touches the file).
evict() {
  python3 - "$1" <<'PY'
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
os.fsync(fd)
os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
os.close(fd)
PY
}

# edge_up CONFIG STORE [EXTRA]: edge_config + edge_start, with hugepages whenever possible.
# The af_xdp port needs its packet pool in one memory chunk; when the machine's hugepages are
# fragmented by other data planes, port_open refuses to start, so a smaller pool is tried,
# and only then --no-huge. Seen in this lab: with --no-huge and ~20 concurrent downloads,
# TX on the af_xdp port stalls (segments stop reaching the client; the base commit does the
# same), which hugepages do not show.
edge_up() {
  edge_config "$1" "$2" "${3:-}"
  edge_start_fallback "$1"
}

# edge_start_fallback CONFIG: edge_start, then the fallbacks of edge_up applied to CONFIG.
edge_start_fallback() {
  local conf=$1
  edge_start "$conf" && return 0
  grep -q "memory chunks" "$WORK/dataplane.log" || return 1
  if ! grep -q mbufs_per_queue "$conf"; then
    echo "# retrying with a smaller packet pool"
    sed -i 's/queues = 1; /queues = 1; mbufs_per_queue = 4096; /' "$conf"
    edge_start "$conf" && return 0
  fi
  echo "# retrying with --no-huge"
  sed -i 's/hugepages = true/hugepages = false/' "$conf"
  edge_start "$conf"
}

# contains TEXT PART: for check (which runs a command, not a [[ ]] expression).
contains() { [[ "$1" == *"$2"* ]]; }

# https_setup: a self-signed ECDSA certificate for edge.test in $WORK (edge.pem, edge.key);
# prints the tls group to pass to edge_up / edge_config.
https_setup() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 -keyout "$WORK/edge.key" \
    -out "$WORK/edge.pem" -subj "/CN=edge.test" -addext "subjectAltName=DNS:edge.test" 2>/dev/null
  echo "tls = { certificate_chains = [\"$WORK/edge.pem\"]; certificate_keys = [\"$WORK/edge.key\"]; };"
}

# https_curl ARGS...: curl in the client namespace; https://edge.test/ is the edge's IPv4
# address, its certificate (https_setup) trusted.
https_curl() { in_client curl --cacert "$WORK/edge.pem" --resolve "edge.test:443:$EDGE4" "$@"; }

# random_store DIR PATH:MIB...: files of random bytes of those sizes under DIR, and the catalog.
random_store() {
  local dir=$1 spec; shift
  for spec in "$@"; do
    mkdir -p "$(dirname "$dir/${spec%%:*}")"
    head -c $((${spec##*:} * 1024 * 1024)) /dev/urandom >"$dir/${spec%%:*}"
  done
  "$BUILD/dataplane/sluice-catalog" build "$dir" >/dev/null
}
