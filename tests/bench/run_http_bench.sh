#!/usr/bin/env bash
# HTTP read benchmark (docs/benchmarks.md, "HTTP reads"): wrk against
# normbase-server's GET /api/v1/agreements/{id} and GET /api/v1/agreements,
# and against nginx serving the very same bytes as static files.
#
# One normbase-server (Release, seeded with the 33 seed agreements, fsync on,
# --threads 2) and one nginx (worker_processes 1, access log off, keep-alive
# without a request limit: tests/bench/http_reads.nginx.conf) run for the whole
# session, both pinned to CPU 0; wrk (-t1) is pinned to CPU 1. The answers are
# fetched from Normbase once and written as files for nginx, and the two
# servers' bodies are compared byte for byte before measuring. Then, for each
# endpoint, P pairs strictly interleaved (Normbase, nginx, nginx, Normbase,
# ...: the order swaps every pair), each run a wrk warm-up (not counted) and a
# measured window. It prints every run and a Markdown table of the medians
# and of the median per-pair ratio Normbase/nginx (requests per second).
#
# usage: tests/bench/run_http_bench.sh [--pairs 5] [--conns 32] [--duration 5]
#          [--warmup 1] [--id AGREEMENT_ID] [--build-dir DIR] [--no-build]
#          [--no-pin] [--results FILE] [--server-flag FLAG]...
#   --server-flag: passed to normbase-server (repeatable), e.g.
#                  --server-flag --read-cache-mb=0 to measure without the read cache
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BUILD_DIR="$ROOT/build-bench"
PAIRS=5
CONNS=32
DURATION=5
WARMUP=1
ID=""
BUILD=1
PIN=1
RESULTS=""
SERVER_FLAGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --pairs) PAIRS="$2"; shift 2 ;;
    --conns) CONNS="$2"; shift 2 ;;
    --duration) DURATION="$2"; shift 2 ;;
    --warmup) WARMUP="$2"; shift 2 ;;
    --id) ID="$2"; shift 2 ;;
    --build-dir) BUILD_DIR="$2"; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    --no-pin) PIN=0; shift ;;
    --results) RESULTS="$2"; shift 2 ;;
    --server-flag) SERVER_FLAGS+=("$2"); shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

if [ "$BUILD" = 1 ]; then
  # The same configuration as run_job_bench.sh, so the two never fight over build-bench.
  cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DNORMBASE_TESTS=ON \
    -DNORMBASE_BENCH=ON >/dev/null
  ninja -C "$BUILD_DIR" normbase-server >/dev/null
fi
SERVER_BIN="$BUILD_DIR/core/normbase-server"
[ -x "$SERVER_BIN" ] || { echo "missing $SERVER_BIN (run without --no-build)" >&2; exit 1; }
if ! command -v wrk >/dev/null || ! command -v nginx >/dev/null; then
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get install -y -qq wrk nginx-light >/dev/null
fi

SERVER_PIN=()
GEN_PIN=()
if [ "$PIN" = 1 ] && command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  SERVER_PIN=(taskset -c 0)
  GEN_PIN=(taskset -c 1)
fi

WORK="$(mktemp -d -t nb-http-bench.XXXXXX)"
chmod 755 "$WORK"  # nginx workers run as www-data
SERVER_PID=""
NGINX_PID=""
cleanup() {
  [ -n "$SERVER_PID" ] && { kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; }
  [ -n "$NGINX_PID" ] && { kill "$NGINX_PID" 2>/dev/null || true; wait "$NGINX_PID" 2>/dev/null || true; }
  rm -rf "$WORK"
}
trap cleanup EXIT
[ -n "$RESULTS" ] || RESULTS="$WORK/results.txt"
: >"$RESULTS"

# Normbase: a fresh data dir, seeded on first start.
"${SERVER_PIN[@]}" "$SERVER_BIN" --data "$WORK/data" --listen 127.0.0.1:0 --ready-file "$WORK/ready" \
  --threads 2 --workers 0 --bus.endpoint "ipc://$WORK/bus.sock" --log-level warn "${SERVER_FLAGS[@]}" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 300); do
  [ -s "$WORK/ready" ] && break
  kill -0 "$SERVER_PID" 2>/dev/null || break
  sleep 0.1
done
[ -s "$WORK/ready" ] || { cat "$WORK/server.log" >&2; exit 1; }
NB_URL="$(cat "$WORK/ready")"

# The agreement: the given one, else the seed agreement with the largest answer.
mkdir -p "$WORK/www/api/v1/agreements"
curl -sf "$NB_URL/api/v1/agreements" -o "$WORK/www/list.json"
if [ -z "$ID" ]; then
  for id in $(/usr/bin/python3 -c 'import json,sys; print(" ".join(a["id"] for a in json.load(open(sys.argv[1]))["items"]))' "$WORK/www/list.json"); do
    curl -sf "$NB_URL/api/v1/agreements/$id" -o "$WORK/www/api/v1/agreements/$id"
  done
  ID="$(ls -S "$WORK/www/api/v1/agreements" | head -1)"
else
  curl -sf "$NB_URL/api/v1/agreements/$ID" -o "$WORK/www/api/v1/agreements/$ID"
fi

# nginx on a free port, serving those files under the same paths.
NGINX_PORT="$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
sed -e "s|@PORT@|$NGINX_PORT|g" -e "s|@ROOT@|$WORK/www|g" -e "s|@WORK@|$WORK|g" \
  "$ROOT/tests/bench/http_reads.nginx.conf" >"$WORK/nginx.conf"
mkdir -p "$WORK/nginx-tmp"
"${SERVER_PIN[@]}" nginx -c "$WORK/nginx.conf" -p "$WORK" -e "$WORK/nginx-error.log" &
NGINX_PID=$!
NGINX_URL="http://127.0.0.1:$NGINX_PORT"
for _ in $(seq 100); do curl -sf "$NGINX_URL/api/v1/agreements" -o /dev/null && break; sleep 0.1; done

ITEM="/api/v1/agreements/$ID"
LIST="/api/v1/agreements"
for path in "$ITEM" "$LIST"; do
  curl -sf "$NB_URL$path" -o "$WORK/a.body"
  curl -s "$NGINX_URL$path" -o "$WORK/b.body"
  cmp -s "$WORK/a.body" "$WORK/b.body" || { echo "the two servers answer $path differently" >&2; cat "$WORK/nginx-error.log" >&2; exit 1; }
  echo "# $path: $(stat -c %s "$WORK/a.body") bytes, identical on both servers"
  echo "#   normbase headers: $(curl -sI "$NB_URL$path" | tr -d '\r' | grep -iv '^date' | tr '\n' ' ')"
  echo "#   nginx headers:    $(curl -sI "$NGINX_URL$path" | tr -d '\r' | grep -iv '^date' | tr '\n' ' ')"
done

# One wrk run: a warm-up, then the measured window; prints "rps p50_us p99_us errors".
run_wrk() {  # url
  "${GEN_PIN[@]}" wrk -t1 -c"$CONNS" -d"${WARMUP}s" "$1" >/dev/null 2>&1 || true
  local out
  out="$("${GEN_PIN[@]}" wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency "$1" 2>&1)"
  echo "$out" | awk '
    function us(v) { if (v ~ /us$/) return v + 0; if (v ~ /ms$/) return v * 1000; if (v ~ /s$/) return v * 1000000; return v }
    /Requests\/sec:/ { rps = $2 }
    /^ +50%/ { p50 = us($2) }
    /^ +99%/ { p99 = us($2) }
    /Non-2xx/ { err += $NF }
    /Socket errors/ { err += 1 }
    END { printf "%s %.0f %.0f %d\n", rps, p50, p99, err }'
}

echo "# $(date -u +%Y-%m-%dT%H:%MZ)  $(nproc) CPUs  $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)  kernel $(uname -r)  load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# $(nginx -v 2>&1), $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2); wrk -t1 -c$CONNS -d${DURATION}s (+${WARMUP}s warm-up) pin=$PIN; pairs=$PAIRS; server flags: ${SERVER_FLAGS[*]:-none}"
for name in item list; do
  path="$ITEM"
  [ "$name" = list ] && path="$LIST"
  for pair in $(seq "$PAIRS"); do
    order="normbase nginx"
    [ $((pair % 2)) = 0 ] && order="nginx normbase"
    for who in $order; do
      url="$NB_URL$path"
      [ "$who" = nginx ] && url="$NGINX_URL$path"
      line="$(run_wrk "$url")"
      echo "$name pair=$pair $who $line" | tee -a "$RESULTS"
    done
  done
done

/usr/bin/python3 - "$RESULTS" <<'EOF'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    name, pair, who, rps, p50, p99, err = line.split()
    runs.setdefault(name, {}).setdefault(int(pair.split("=")[1]), {})[who] = (float(rps), float(p50), float(p99), int(err))
print()
print("| endpoint | Normbase req/s | nginx req/s | Normbase/nginx | target | Normbase p50 / p99 µs | nginx p50 / p99 µs | errors |")
print("|---|---:|---:|---:|---|---:|---:|---:|")
for name, pairs in runs.items():
    nb = [p["normbase"] for p in pairs.values()]
    ng = [p["nginx"] for p in pairs.values()]
    ratio = statistics.median(p["normbase"][0] / p["nginx"][0] for p in pairs.values())
    med = lambda rows, i: statistics.median(r[i] for r in rows)
    print(f"| {name} | {med(nb,0):.0f} | {med(ng,0):.0f} | {ratio:.2f} | >= 0.7 | {med(nb,1):.0f} / {med(nb,2):.0f} | "
          f"{med(ng,1):.0f} / {med(ng,2):.0f} | {sum(r[3] for r in nb + ng)} |")
EOF
