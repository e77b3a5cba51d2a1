#!/usr/bin/env bash
# Load benchmark: phiguard against nginx doing the same job, and against the origin directly.
#
#   benches/load/run.sh            full run (3 rounds x 10 s per cell, about 5 minutes),
#                                  appends the result to docs/BENCHMARKS.md
#   benches/load/run.sh --quick    smoke run (1 round x 2 s per cell), prints only
#   benches/load/run.sh --hold     start origin, nginx and phiguard, run the checks, print the
#                                  cell URLs and PIDs and wait (for perf/strace by hand)
#
# Options: --rounds N, --duration SECS, --no-doc (do not touch docs/BENCHMARKS.md),
# --doc (write it also for --quick). Environment: PHIGUARD_BIN (skip the build and use this
# binary), BENCH_PORT_BASE (first of 4 ports, default 28080), BENCH_CONNECTIONS (wrk
# connections per cell, default 16).
#
# Cells, each measured with wrk on the same core as the origin, the proxy under test alone
# on the other core (taskset), one worker each:
#   a  origin (nginx, static 1 KiB / 64 KiB file that sets a cookie) directly
#   b  nginx reverse proxy adding the headers of phiguard's `portal` profile
#   c  phiguard, storefront route with `headers: portal`
#   d  phiguard, egress route redacting a GA4-style beacon query with PHI, to a sink
#   e  nginx forwarding the same beacon unredacted
# plus a connection-scale run: 1,000 concurrent keep-alive connections through b and c.
#
# The steadiest figure on a shared machine is CPU time per request of the proxy under test:
# utime+stime of its process (nginx: its one worker) over the run / requests served.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)

ROUNDS=3
DURATION=10
WRITE_DOC=1
QUICK=0
HOLD=0
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1; ROUNDS=1; DURATION=2; WRITE_DOC=0 ;;
    --rounds) ROUNDS=$2; shift ;;
    --duration) DURATION=$2; shift ;;
    --no-doc) WRITE_DOC=0 ;;
    --doc) WRITE_DOC=1 ;;
    --hold) HOLD=1 ;;
    -h|--help) sed -n '2,27p' "$0"; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
CONNS=${BENCH_CONNECTIONS:-16}
SCALE_CONNS=1000
SCALE_DURATION=$(( DURATION < 5 ? DURATION : 5 ))
# One proxy core, one core for wrk and the origin.
PROXY_CPU=1
LOAD_CPU=0

log() { echo "[load] $*" >&2; }

# --- what we need -------------------------------------------------------------------------
need=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
command -v wrk >/dev/null 2>&1 || need+=(wrk)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v taskset >/dev/null 2>&1 || need+=(util-linux)
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
if [ "$(nproc)" -lt 2 ]; then
  echo "needs at least 2 CPUs (proxy on one, load generator and origin on the other)" >&2
  exit 1
fi

if [ -n "${PHIGUARD_BIN:-}" ]; then
  PHIGUARD=$PHIGUARD_BIN
else
  log "cargo build --release --bin phiguard"
  cargo build --release --quiet --bin phiguard
  PHIGUARD=${CARGO_TARGET_DIR:-$ROOT/target}/release/phiguard
fi
if [ ! -x "$PHIGUARD" ]; then
  echo "phiguard binary not found or not executable: $PHIGUARD" >&2
  exit 1
fi

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$(ulimit -n)" -lt $(( SCALE_CONNS * 3 )) ]; then
  echo "ulimit -n is $(ulimit -n); the 1,000-connection run needs $(( SCALE_CONNS * 3 ))" >&2
  exit 1
fi

# --- temp dir, ports, cleanup --------------------------------------------------------------
TMP=$(mktemp -d /tmp/phiguard-load.XXXXXX)
chmod 755 "$TMP"   # nginx workers may run as another user
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  # Give nginx and phiguard up to 3 s to stop on their own (slow on a loaded machine).
  for _ in $(seq 30); do
    alive=0
    for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

BASE=${BENCH_PORT_BASE:-28080}
ORIGIN_PORT=$BASE
NGINX_PORT=$(( BASE + 1 ))
PG_PORT=$(( BASE + 2 ))
PG_ADMIN=$(( BASE + 3 ))
for p in $ORIGIN_PORT $NGINX_PORT $PG_PORT $PG_ADMIN; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
    echo "port $p is in use; set BENCH_PORT_BASE" >&2
    exit 1
  fi
done

# --- bodies and the beacon ---------------------------------------------------------------
mkdir -p "$TMP/www" "$TMP/logs"
make_body() { # bytes
  python3 - "$1" <<'EOF' 2>/dev/null || head -c "$1" /dev/zero | tr '\0' 'x'
import sys
n = int(sys.argv[1])
row = "<li class=\"product\"><a href=\"/products/socks\">Merino socks</a> <span>$12.00</span></li>\n"
head = "<!doctype html><html><head><title>Shop</title></head><body><ul>\n"
tail = "</ul></body></html>\n"
body = head + row * ((n - len(head) - len(tail)) // len(row) + 1)
body = body[: n - len(tail)] + tail
sys.stdout.write(body)
EOF
}
make_body 1024 > "$TMP/www/1k.html"
make_body 65536 > "$TMP/www/64k.html"
chmod -R a+rX "$TMP/www"

# A GA4 /g/collect hit (query only, like gtag's image beacon) whose page URL, user id,
# event and user parameters carry an e-mail address, a phone number, a date of birth, an
# MRN-style id and a name.
BEACON='v=2&tid=G-8XK2M4PQ7R&gtm=45je4bk0v9181044410za200&_p=1732960000123&gcd=13l3l3l3l1l1&npa=0&dma=0&cid=1843210967.1732959000&ul=en-us&sr=1920x1080&uaa=x86&uab=64&uafvl=Chromium%3B131.0.6778.85&uamb=0&uam=&uap=Linux&uapv=6.8.0&uaw=0&are=1&frm=0&pscdl=noapi&_s=3&sid=1732959000&sct=4&seg=1&dl=https%3A%2F%2Fshop.example.com%2Faccount%2Forders%3Femail%3Djane.doe%2540example.com%26phone%3D555-867-5309&dr=https%3A%2F%2Fshop.example.com%2Fcheckout&dt=Order%20confirmation%20for%20Jane%20Doe&en=purchase&_ee=1&uid=jane.doe%40example.com&ep.transaction_id=T-100234&epn.value=58.90&ep.currency=USD&ep.customer_phone=%2B1%20(555)%20867-5309&up.dob=1984-03-12&ep.mrn=MRN-00482913&up.first_name=Jane&up.last_name=Doe&tfd=5231'
BEACON_PHI_PROBES=('jane.doe' '867-5309' '1984-03-12' 'MRN-00482913')

# --- origin: nginx serving the bodies (and the sink) on the load core ---------------------
nginx_common() { # prefix for temp paths
  cat <<EOF
pid $1/nginx.pid;
error_log $1/error.log warn;
worker_rlimit_nofile 20000;
events { worker_connections 8192; multi_accept on; }
EOF
}
nginx_http_common() {
  cat <<EOF
  access_log off;
  client_body_temp_path $1/body;
  proxy_temp_path $1/proxy;
  fastcgi_temp_path $1/fastcgi;
  uwsgi_temp_path $1/uwsgi;
  scgi_temp_path $1/scgi;
  keepalive_requests 1000000;
  keepalive_timeout 75s;
EOF
}

mkdir -p "$TMP/origin" "$TMP/nginx"
cat > "$TMP/origin/nginx.conf" <<EOF
worker_processes 1;
$(nginx_common "$TMP/origin")
http {
$(nginx_http_common "$TMP/origin")
  sendfile on;
  tcp_nopush on;
  server {
    listen 127.0.0.1:$ORIGIN_PORT;
    root $TMP/www;
    default_type text/html;
    # A storefront page: a session cookie without flags and headers that leak the stack.
    location / {
      add_header Set-Cookie "session=8f14e45fceea167a5a36dedd4bea2543; Path=/";
      add_header X-Powered-By "PHP/8.2.7";
      add_header Cache-Control "max-age=60";
    }
    # The tracker sink: GA4 answers a collect hit with 204.
    location /g/collect { return 204; }
    # Echoes the query it received, for the redaction check before measuring.
    location /g/echo { default_type text/plain; return 200 "\$args"; }
  }
}
EOF

# --- (b) and (e): nginx reverse proxy on the proxy core ------------------------------------
# Every header phiguard's `portal` preset sets (src/policy/headers.rs), replacing what the
# upstream sent; the leaky headers it removes (nginx cannot hide by prefix, so X-Magento-*,
# X-Drupal-* and X-Debug-Token* are not covered, and nginx adds its own Server header);
# Set-Cookie gets Secure, HttpOnly and SameSite=Lax; X-Forwarded-* and X-Request-Id like
# phiguard's forwarding.
PORTAL_HEADERS=(
  "Content-Security-Policy|default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'; upgrade-insecure-requests"
  "Strict-Transport-Security|max-age=63072000; includeSubDomains"
  "X-Content-Type-Options|nosniff"
  "X-Frame-Options|DENY"
  "Referrer-Policy|no-referrer"
  "Permissions-Policy|camera=(), microphone=(), geolocation=(), payment=(), usb=(), display-capture=(), browsing-topics=()"
  "Cross-Origin-Opener-Policy|same-origin"
  "Cross-Origin-Resource-Policy|same-origin"
  "Cross-Origin-Embedder-Policy|credentialless"
  "Cache-Control|no-store, private"
)
LEAKY=(X-Powered-By X-AspNet-Version X-AspNetMvc-Version X-Runtime X-Generator X-Backend-Server X-Served-By)
portal_directives() {
  local h name value
  for h in "${PORTAL_HEADERS[@]}"; do
    name=${h%%|*}; value=${h#*|}
    echo "      proxy_hide_header $name;"
    echo "      add_header $name \"$value\" always;"
  done
  for name in "${LEAKY[@]}"; do echo "      proxy_hide_header $name;"; done
  echo "      proxy_cookie_flags ~ secure httponly samesite=lax;"
  echo "      add_header X-Request-Id \$request_id always;"
}
cat > "$TMP/nginx/nginx.conf" <<EOF
worker_processes 1;
$(nginx_common "$TMP/nginx")
http {
$(nginx_http_common "$TMP/nginx")
  server_tokens off;
  upstream origin {
    server 127.0.0.1:$ORIGIN_PORT;
    keepalive 128;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:$NGINX_PORT;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Host \$http_host;
    proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
    proxy_set_header X-Forwarded-Proto \$scheme;
    proxy_set_header X-Forwarded-Host \$http_host;
    proxy_set_header X-Request-Id \$request_id;
    proxy_buffering on;
    # (e) the beacon, forwarded as it is
    location /g/ {
      proxy_pass http://origin;
    }
    # (b) the storefront with the portal profile's headers
    location / {
      proxy_pass http://origin;
$(portal_directives)
    }
  }
}
EOF

# --- (c) and (d): phiguard on the proxy core -----------------------------------------------
cat > "$TMP/phiguard.yaml" <<EOF
listeners:
  - {name: public, address: "127.0.0.1:$PG_PORT"}
admin: {address: "127.0.0.1:$PG_ADMIN"}
server: {threads: 1, grace_period_secs: 0, shutdown_timeout_secs: 1}
access_log: {enabled: false}
upstreams:
  origin: {address: "127.0.0.1:$ORIGIN_PORT", connect_timeout_ms: 1000, read_timeout_ms: 10000}
redaction_profiles:
  trackers: {action: mask}
header_profiles:
  # (d) is compared with nginx forwarding the beacon as it is: no header work on either.
  none: {}
routes:
  - name: beacon
    match: {path_prefix: /g}
    upstream: origin
    headers: none
    egress: {profile: trackers}
  - name: storefront
    match: {path_prefix: /}
    upstream: origin
    headers: portal
EOF

start_nginx() { # conf cpu -> sets NGINX_MASTER
  taskset -c "$2" "$NGINX" -p "$(dirname "$1")" -c "$1" -g 'daemon off;' \
    2>>"$(dirname "$1")/stderr.log" &
  PIDS+=($!)
  NGINX_MASTER=$!
}
worker_of() { # master pid -> its (only) worker pid
  local w=""
  for _ in $(seq 50); do
    w=$(pgrep -P "$1" | head -n1 || true)
    [ -n "$w" ] && break
    sleep 0.1
  done
  [ -n "$w" ] || { echo "nginx $1 has no worker" >&2; exit 1; }
  echo "$w"
}
wait_http() { # url
  for _ in $(seq 100); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "$1 does not answer" >&2
  exit 1
}

start_nginx "$TMP/origin/nginx.conf" $LOAD_CPU
ORIGIN_PID=$(worker_of "$NGINX_MASTER")
start_nginx "$TMP/nginx/nginx.conf" $PROXY_CPU
NGINX_PID=$(worker_of "$NGINX_MASTER")
taskset -c $PROXY_CPU "$PHIGUARD" run --config "$TMP/phiguard.yaml" \
  >/dev/null 2>"$TMP/phiguard.err" &
PIDS+=($!)
PG_PID=$!
wait_http "http://127.0.0.1:$ORIGIN_PORT/1k.html"
wait_http "http://127.0.0.1:$NGINX_PORT/1k.html"
wait_http "http://127.0.0.1:$PG_ADMIN/readyz"

# --- the cells -----------------------------------------------------------------------------
# id | label | url | pid of the process whose CPU and RSS are measured
CELLS=(
  "a1|origin direct, 1 KiB|http://127.0.0.1:$ORIGIN_PORT/1k.html|$ORIGIN_PID"
  "a64|origin direct, 64 KiB|http://127.0.0.1:$ORIGIN_PORT/64k.html|$ORIGIN_PID"
  "b1|nginx + portal headers, 1 KiB|http://127.0.0.1:$NGINX_PORT/1k.html|$NGINX_PID"
  "b64|nginx + portal headers, 64 KiB|http://127.0.0.1:$NGINX_PORT/64k.html|$NGINX_PID"
  "c1|phiguard portal, 1 KiB|http://127.0.0.1:$PG_PORT/1k.html|$PG_PID"
  "c64|phiguard portal, 64 KiB|http://127.0.0.1:$PG_PORT/64k.html|$PG_PID"
  "d|phiguard egress, beacon redacted|http://127.0.0.1:$PG_PORT/g/collect?$BEACON|$PG_PID"
  "e|nginx, beacon forwarded as is|http://127.0.0.1:$NGINX_PORT/g/collect?$BEACON|$NGINX_PID"
)

# Sanity checks before measuring: every cell answers 2xx; phiguard sets the portal headers
# and hardens the cookie like nginx; the beacon reaches the sink without its PHI through
# phiguard and with it through nginx.
check_headers() { # url name
  local h
  h=$(curl -fsS -D - -o /dev/null "$1")
  for want in "content-security-policy: default-src 'self'" "cache-control: no-store, private" \
      "x-frame-options: deny" "permissions-policy: camera=()" "x-request-id: " \
      "set-cookie: session=8f14e45fceea167a5a36dedd4bea2543; path=/; secure; httponly; samesite=lax"; do
    if ! grep -qiF "$want" <<<"$h"; then
      echo "$2 response lacks '$want':" >&2; echo "$h" >&2; exit 1
    fi
  done
  if grep -qi '^x-powered-by' <<<"$h"; then echo "$2 leaks X-Powered-By" >&2; exit 1; fi
}
for cell in "${CELLS[@]}"; do
  IFS='|' read -r _ label url _ <<<"$cell"
  curl -fsS -o /dev/null "$url" || { echo "$label: $url does not answer 2xx" >&2; exit 1; }
done
check_headers "http://127.0.0.1:$NGINX_PORT/1k.html" nginx
check_headers "http://127.0.0.1:$PG_PORT/1k.html" phiguard
redacted=$(curl -fsS "http://127.0.0.1:$PG_PORT/g/echo?$BEACON")
plain=$(curl -fsS "http://127.0.0.1:$NGINX_PORT/g/echo?$BEACON")
for probe in "${BEACON_PHI_PROBES[@]}"; do
  if grep -qF "$probe" <<<"$(printf '%b' "${redacted//%/\\x}")"; then
    echo "phiguard forwarded '$probe' to the sink: $redacted" >&2; exit 1
  fi
  if ! grep -qF "$probe" <<<"$(printf '%b' "${plain//%/\\x}")"; then
    echo "nginx did not forward '$probe' (the beacon is not what it should be)" >&2; exit 1
  fi
done
if ! grep -q 'REDACTED' <<<"$redacted"; then echo "no redaction marker in $redacted" >&2; exit 1; fi
log "checks passed: headers match, the sink gets the beacon without PHI through phiguard"

if [ "$HOLD" = 1 ]; then
  log "holding (Ctrl-C stops everything); proxy CPU $PROXY_CPU, load CPU $LOAD_CPU"
  for cell in "${CELLS[@]}"; do
    IFS='|' read -r id label url pid <<<"$cell"
    echo "$id pid=$pid $url"
  done
  # In the background, so Ctrl-C / SIGTERM reach the cleanup trap at once.
  while :; do sleep 3600 & wait $!; done
fi

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
CLK_TCK=$(getconf CLK_TCK)
to_us() { # wrk latency value (e.g. 381.00us, 1.20ms, 2.00s) -> microseconds
  awk -v v="$1" 'BEGIN {
    n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
    if (u == "us") f = 1; else if (u == "ms") f = 1000; else if (u == "s") f = 1000000; else f = 0
    printf "%.0f", n * f }'
}

wrk_errors() { # wrk output on stdin -> non-2xx/3xx responses + socket errors
  awk '/Non-2xx or 3xx responses:/ {n += $NF}
       /Socket errors:/ {gsub(/[^0-9 ]/, " "); for (i = 1; i <= NF; i++) n += $i}
       END {print n + 0}'
}

RESULTS=$TMP/results.tsv   # id round rps p50_us p99_us cpu_us_per_req rss_kib errors
: > "$RESULTS"
run_cell() { # id url pid round duration connections -> appends a line to RESULTS
  local id=$1 url=$2 pid=$3 round=$4 dur=$5 conns=$6 out t0 t1 reqs rps p50 p99 errs rss
  t0=$(cpu_ticks "$pid")
  out=$(taskset -c $LOAD_CPU wrk -t1 -c"$conns" -d"${dur}s" --latency "$url" 2>&1) || {
    echo "wrk failed for $id: $out" >&2; exit 1; }
  t1=$(cpu_ticks "$pid")
  rss=$(rss_kib "$pid")
  reqs=$(awk '/requests in/ {print $1}' <<<"$out")
  rps=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' <<<"$out")
  p50=$(to_us "$(awk '$1 == "50%" {print $2}' <<<"$out")")
  p99=$(to_us "$(awk '$1 == "99%" {print $2}' <<<"$out")")
  errs=$(wrk_errors <<<"$out")
  local cpu_us
  cpu_us=$(awk -v d=$(( t1 - t0 )) -v r="$reqs" -v hz="$CLK_TCK" \
    'BEGIN { if (r > 0) printf "%.1f", d * 1000000 / hz / r; else print "nan" }')
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$id" "$round" "$rps" "$p50" "$p99" "$cpu_us" "$rss" "$errs" >> "$RESULTS"
  if [ "$errs" != 0 ]; then log "$id round $round: $errs errors/non-2xx responses"; fi
  log "$(printf '%-4s round %s: %7s req/s  p50 %6s us  p99 %6s us  %6s us CPU/req  RSS %s KiB' \
    "$id" "$round" "$rps" "$p50" "$p99" "$cpu_us" "$rss")"
}

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
STARTED=$(date -u '+%Y-%m-%d %H:%M UTC')
SECS0=$SECONDS
log "proxy under test pinned to CPU $PROXY_CPU alone; wrk and the origin pinned to CPU $LOAD_CPU"
log "load average at start: $LOAD_START; $ROUNDS round(s) x ${DURATION}s per cell, $CONNS connections"

log "warm-up (1 s per cell, not counted)"
for cell in "${CELLS[@]}"; do
  IFS='|' read -r _ _ url _ <<<"$cell"
  taskset -c $LOAD_CPU wrk -t1 -c"$CONNS" -d1s "$url" >/dev/null 2>&1
done

for round in $(seq "$ROUNDS"); do
  # Interleaved: every cell once per round; the order rotates so no cell always runs first.
  n=${#CELLS[@]}
  for i in $(seq 0 $(( n - 1 ))); do
    IFS='|' read -r id _ url pid <<<"${CELLS[$(( (i + round - 1) % n ))]}"
    run_cell "$id" "$url" "$pid" "$round" "$DURATION" "$CONNS"
  done
done

# Connection scale: 1,000 keep-alive connections, RSS taken while they are all open.
log "connection scale: $SCALE_CONNS connections, ${SCALE_DURATION}s each"
SCALE=$TMP/scale.tsv
: > "$SCALE"
for target in "b1|$NGINX_PORT|$NGINX_PID" "c1|$PG_PORT|$PG_PID"; do
  IFS='|' read -r id port pid <<<"$target"
  rss_before=$(rss_kib "$pid")
  ( sleep "$(( SCALE_DURATION - 1 )).5"; rss_kib "$pid" > "$TMP/scale-rss-$id" ) &
  sampler=$!
  t0=$(cpu_ticks "$pid")
  out=$(taskset -c $LOAD_CPU wrk -t1 -c$SCALE_CONNS -d"${SCALE_DURATION}s" --latency \
    "http://127.0.0.1:$port/1k.html" 2>&1)
  t1=$(cpu_ticks "$pid")
  wait "$sampler"
  reqs=$(awk '/requests in/ {print $1}' <<<"$out")
  rps=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' <<<"$out")
  p99=$(to_us "$(awk '$1 == "99%" {print $2}' <<<"$out")")
  errs=$(wrk_errors <<<"$out")
  cpu_us=$(awk -v d=$(( t1 - t0 )) -v r="$reqs" -v hz="$CLK_TCK" 'BEGIN { printf "%.1f", d * 1000000 / hz / r }')
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$id" "$rss_before" "$(cat "$TMP/scale-rss-$id")" "$rps" "$p99" "$cpu_us" "$errs" >> "$SCALE"
  log "$id at $SCALE_CONNS connections: RSS $rss_before -> $(cat "$TMP/scale-rss-$id") KiB, $rps req/s, $errs errors"
done
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
ELAPSED=$(( SECONDS - SECS0 ))

# --- report --------------------------------------------------------------------------------
stats() { # id column -> "min / median / max" (column: 3 rps, 4 p50, 5 p99, 6 cpu, 7 rss)
  awk -F'\t' -v id="$1" -v c="$2" '$1 == id {print $c}' "$RESULTS" | sort -g |
    awk '{v[NR] = $1} END { if (NR == 0) { print "-"; exit }
      m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
      printf "%s|%s|%s", v[1], m, v[NR] }'
}
median() { stats "$1" "$2" | cut -d'|' -f2; }
fmt3() { # "min|med|max" [decimals] -> "med (min–max)"
  IFS='|' read -r lo med hi <<<"$1"
  awk -v lo="$lo" -v m="$med" -v hi="$hi" -v d="${2:-0}" 'BEGIN {
    f = "%." d "f"; printf "**" f "** (" f "–" f ")", m, lo, hi }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f×", a / b; else print "-" }'; }

CPU_MODEL=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
REV=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
DIRTY=$(git status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo " (with uncommitted changes)" || true)
REPORT=$TMP/report.md
{
  echo "## $STARTED: load benchmark, phiguard vs nginx (\`benches/load/run.sh\`)"
  echo
  echo "\`benches/load/run.sh$([ "$QUICK" = 1 ] && echo " --quick")\` at $REV$DIRTY:" \
    "$ROUNDS round(s), ${DURATION} s per cell, interleaved, \`wrk -t1 -c$CONNS --latency\`."
  echo "Machine: $(nproc) CPUs ($CPU_MODEL), Linux $(uname -r), $("$NGINX" -v 2>&1 | sed 's/.*: //'),"
  echo "$(wrk --version 2>&1 | head -n1 | cut -d' ' -f1-2). Load average (1/5/15 min) at start $LOAD_START, at end $LOAD_END; ${ELAPSED} s."
  echo "The proxy under test runs alone on CPU $PROXY_CPU; wrk and the origin (nginx, 1 worker) share CPU $LOAD_CPU."
  echo "nginx and phiguard have one worker each (\`worker_processes 1\`; \`server.threads: 1\`), access logs off in both."
  echo "CPU/request = utime+stime of the proxy process (nginx: its worker) over the run ÷ requests served."
  echo "RSS: the phiguard process; the nginx worker (its master process is not counted)."
  echo
  echo "| cell | req/s | p50 µs | p99 µs | CPU µs/req | RSS MB |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: |"
  for cell in "${CELLS[@]}"; do
    IFS='|' read -r id label _ _ <<<"$cell"
    rss=$(median "$id" 7)
    echo "| $id: $label | $(fmt3 "$(stats "$id" 3)") | $(median "$id" 4) | $(median "$id" 5) | $(fmt3 "$(stats "$id" 6)" 1) | $(awk -v k="$rss" 'BEGIN { printf "%.1f", k / 1024 }') |"
  done
  echo
  echo "Medians, with min–max over the rounds for req/s and CPU. Ratios phiguard ÷ nginx (medians):"
  echo
  echo "| comparison | CPU/req | req/s | p99 | target |"
  echo "| --- | ---: | ---: | ---: | --- |"
  for pair in "c1|b1|(c) vs (b), 1 KiB|CPU ≤ 1.0×, req/s ≥ 1.0×, p99 ≤ 1.1×" \
              "c64|b64|(c) vs (b), 64 KiB|CPU ≤ 1.0×, req/s ≥ 1.0×, p99 ≤ 1.1×" \
              "d|e|(d) vs (e), beacon|CPU ≤ 1.25×"; do
    IFS='|' read -r x y label target <<<"$pair"
    echo "| $label | $(ratio "$(median "$x" 6)" "$(median "$y" 6)") | $(ratio "$(median "$x" 3)" "$(median "$y" 3)") | $(ratio "$(median "$x" 5)" "$(median "$y" 5)") | $target |"
  done
  echo
  echo "Connection scale: \`wrk -t1 -c$SCALE_CONNS -d${SCALE_DURATION}s\` on the 1 KiB page, RSS read while all connections are open:"
  echo
  echo "(errors: wrk's socket errors, mostly its 2 s timeout when a proxy falls behind.)"
  echo
  echo "| proxy | RSS before → at $SCALE_CONNS conns | req/s | p99 µs | CPU µs/req | errors |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: |"
  while IFS=$'\t' read -r id before at rps p99 cpu errs; do
    name=$([ "$id" = b1 ] && echo "nginx (b)" || echo "phiguard (c)")
    echo "| $name | $(awk -v a="$before" -v b="$at" 'BEGIN { printf "%.1f → **%.1f MB**", a / 1024, b / 1024 }') | $rps | $p99 | $cpu | $errs |"
  done < "$SCALE"
  pg_rss=$(awk -F'\t' '$1 == "c1" {print $3}' "$SCALE")
  ng_rss=$(awk -F'\t' '$1 == "b1" {print $3}' "$SCALE")
  echo
  echo "RSS ratio at $SCALE_CONNS connections, phiguard ÷ nginx: **$(ratio "$pg_rss" "$ng_rss")** (target ≤ 2×)."
} > "$REPORT"

cat "$REPORT"
if [ "$WRITE_DOC" = 1 ]; then
  # Newest first: the run goes above the previous dated sections (below the summary on top).
  awk -v report="$REPORT" '
    !done && /^## [0-9]/ { while ((getline line < report) > 0) print line; print ""; done = 1 }
    { print }
    END { if (!done) { print ""; while ((getline line < report) > 0) print line } }
  ' docs/BENCHMARKS.md > "$TMP/BENCHMARKS.md"
  cp "$TMP/BENCHMARKS.md" docs/BENCHMARKS.md
  log "added to docs/BENCHMARKS.md"
fi
