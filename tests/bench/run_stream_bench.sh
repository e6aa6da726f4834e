#!/usr/bin/env bash
# Live-stream fan-out benchmark: normbase-server against the Node.js `ws`
# peer (tests/bench/peer), driven by the same load generator (stream_fanout).
#
# For each size N it runs P pairs, interleaved within each pair:
#   Normbase, Node                 (all N subscribers read)
#   Normbase, Node with 1% slow    (1% never read after the hello)
# (the two cases swap order every other pair), each run against a freshly
# started server on a free port with a fresh temp data dir, the server pinned
# to CPU 0 and the generator to CPU 1. It prints every run's line, then a
# Markdown table of medians and of the median per-pair ratios.
#
# Normbase runs with its defaults except --max-connections 20000: the
# generator's POST connection takes one of the default 10000 slots, which
# would refuse the 10000th subscriber.
#
# usage: tests/bench/run_stream_bench.sh [--pairs 5] [--sizes "1000 10000"] [--events 30]
#          [--warmup 5] [--text-bytes 512] [--build-dir DIR] [--no-build] [--results FILE]
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BENCH="$ROOT/tests/bench"
BUILD_DIR="$ROOT/build-bench"
PAIRS=5
SIZES="1000 10000"
EVENTS=30
WARMUP=5
TEXT_BYTES=512
SLOW_PERCENT=1
BUILD=1
RESULTS=""
while [ $# -gt 0 ]; do
  case "$1" in
    --pairs) PAIRS="$2"; shift 2 ;;
    --sizes) SIZES="$2"; shift 2 ;;
    --events) EVENTS="$2"; shift 2 ;;
    --warmup) WARMUP="$2"; shift 2 ;;
    --text-bytes) TEXT_BYTES="$2"; shift 2 ;;
    --build-dir) BUILD_DIR="$2"; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    --results) RESULTS="$2"; shift 2 ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

if [ "$BUILD" = 1 ]; then
  cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DNORMBASE_TESTS=OFF \
    -DNORMBASE_BENCH=ON >/dev/null
  ninja -C "$BUILD_DIR" normbase-server stream_fanout
  (cd "$BENCH/peer" && npm ci --no-audit --no-fund --loglevel=error)
fi
SERVER_BIN="$BUILD_DIR/core/normbase-server"
GENERATOR="$BUILD_DIR/tests/bench/stream_fanout"
for f in "$SERVER_BIN" "$GENERATOR" "$BENCH/peer/node_modules/ws/package.json"; do
  [ -e "$f" ] || { echo "missing $f (run without --no-build)" >&2; exit 1; }
done

# Every socket is a file descriptor, on both sides.
ulimit -n "$(ulimit -Hn)"
for n in $SIZES; do
  if [ "$(ulimit -n)" -lt $((n + 512)) ]; then
    echo "RLIMIT_NOFILE hard limit $(ulimit -Hn) is too low for $n subscribers" >&2
    exit 1
  fi
done

# Pin the server to CPU 0 and the generator to CPU 1 when there are two.
SERVER_PIN=()
GEN_PIN=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  SERVER_PIN=(taskset -c 0)
  GEN_PIN=(taskset -c 1)
fi

WORK="$(mktemp -d -t nb-stream-bench.XXXXXX)"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
[ -n "$RESULTS" ] || RESULTS="$WORK/results.txt"
: >"$RESULTS"

wait_ready() {  # file
  for _ in $(seq 300); do
    [ -s "$1" ] && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# Sets SERVER_PID, URL, TOKEN, TARGET.
start_normbase() {
  local dir="$1"
  "${SERVER_PIN[@]}" "$SERVER_BIN" --data "$dir/data" --listen 127.0.0.1:0 --ready-file "$dir/ready" \
    --max-connections 20000 --log-level warn >"$dir/server.log" 2>&1 &
  SERVER_PID=$!
  wait_ready "$dir/ready" || { cat "$dir/server.log" >&2; return 1; }
  URL="$(cat "$dir/ready")"
  TOKEN="$(cat "$dir/data/bootstrap-admin.token")"
  local id
  id="$(curl -sf -X POST "$URL/api/v1/proposals" -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' \
    -d '{"kind":"add","rationale":"bench","agreement":{"id":"bench-agreement","title":"Bench","year":2024,"kind":"bilateral"}}' |
    /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])' 2>/dev/null)"
  [ -n "$id" ] || { echo "could not create the proposal" >&2; return 1; }
  TARGET="/api/v1/proposals/$id/comments"
}

start_node() {
  local dir="$1"
  "${SERVER_PIN[@]}" node "$BENCH/peer/ws_broadcast.js" --listen 127.0.0.1:0 --ready-file "$dir/ready" \
    >"$dir/server.log" 2>&1 &
  SERVER_PID=$!
  wait_ready "$dir/ready" || { cat "$dir/server.log" >&2; return 1; }
  URL="$(cat "$dir/ready")"
  TOKEN=""
  TARGET="/api/v1/proposals/1/comments"
}

stop_server() {
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

run_one() {  # server n case pair
  local server="$1" n="$2" kase="$3" pair="$4" slow=0 dir
  [ "$kase" = slow ] && slow="$SLOW_PERCENT"
  dir="$(mktemp -d "$WORK/run.XXXXXX")"
  "start_$server" "$dir"
  local args=(--url "$URL" --post-target "$TARGET" --server-pid "$SERVER_PID" --label "$server"
    --subscribers "$n" --events "$EVENTS" --warmup "$WARMUP" --text-bytes "$TEXT_BYTES"
    --slow-percent "$slow")
  [ -n "$TOKEN" ] && args+=(--token "$TOKEN")
  local out rc=0
  out="$("${GEN_PIN[@]}" "$GENERATOR" "${args[@]}" 2>"$dir/generator.err")" || rc=$?
  # The server must still be up after the run: a crash is a result too.
  local alive=1
  kill -0 "$SERVER_PID" 2>/dev/null || alive=0
  stop_server
  echo "$out" | grep -v '^RESULT' || true
  [ "$rc" = 0 ] || { echo "  (generator exit $rc)"; sed 's/^/  /' "$dir/generator.err" | tail -5; }
  [ "$alive" = 1 ] || { echo "  (server died)"; tail -5 "$dir/server.log" | sed 's/^/  /'; }
  local line
  line="$(echo "$out" | grep '^RESULT' || true)"
  [ -n "$line" ] && echo "$line pair=$pair case=$kase server=$server rc=$rc alive=$alive" >>"$RESULTS"
  rm -rf "$dir"
}

echo "# $(date -u +%Y-%m-%dT%H:%MZ)  $(nproc) CPUs  $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)  kernel $(uname -r)"
echo "# node $(node --version), ws $(sed -n 's/.*"version": "\(.*\)".*/\1/p' "$BENCH/peer/node_modules/ws/package.json")"
echo "# pairs=$PAIRS sizes=($SIZES) events=$EVENTS (+$WARMUP warm-up) text=${TEXT_BYTES}B slow=${SLOW_PERCENT}%"
for n in $SIZES; do
  for pair in $(seq "$PAIRS"); do
    # Normbase and Node alternate strictly; the two cases swap order every
    # other pair, so a drift in machine load does not favour one case.
    cases="base slow"
    [ $((pair % 2)) = 0 ] && cases="slow base"
    for kase in $cases; do
      for server in normbase node; do
        run_one "$server" "$n" "$kase" "$pair"
      done
    done
  done
done

# Medians across pairs, and the median of the per-pair ratios.
awk -v sizes="$SIZES" '
function median(arr, k,    i, j, t, m) {
  for (i = 2; i <= k; i++) { t = arr[i]; for (j = i - 1; j >= 1 && arr[j] > t; j--) arr[j + 1] = arr[j]; arr[j + 1] = t }
  if (k == 0) return "n/a"
  m = (k % 2) ? arr[(k + 1) / 2] : (arr[k / 2] + arr[k / 2 + 1]) / 2
  return m
}
function med(n, kase, server, key,    p, k, a) {
  k = 0; delete a
  for (p = 1; p <= maxpair; p++) if ((n, kase, server, p, key) in v) a[++k] = v[n, kase, server, p, key]
  return median(a, k)
}
# Median over pairs of (num / den), both taken from the same pair.
function ratio(n, k1, s1, k2, s2, key,    p, k, a) {
  k = 0; delete a
  for (p = 1; p <= maxpair; p++)
    if ((n, k1, s1, p, key) in v && (n, k2, s2, p, key) in v && v[n, k2, s2, p, key] > 0)
      a[++k] = v[n, k1, s1, p, key] / v[n, k2, s2, p, key]
  return median(a, k)
}
function f(x, d) { return x == "n/a" ? x : sprintf("%." d "f", x) }
{
  delete kv
  for (i = 2; i <= NF; i++) { split($i, kvp, "="); kv[kvp[1]] = kvp[2] }
  n = kv["n"]; kase = kv["case"]; s = kv["server"]; p = kv["pair"] + 0
  if (p > maxpair) maxpair = p
  for (key in kv) v[n, kase, s, p, key] = kv[key]
  if (kv["connect_failures"] + kv["incomplete"] + kv["post_errors"] + kv["healthy_lost"] > 0 || kv["alive"] != 1 || kv["close_codes"] != "-")
    trouble[++nt] = sprintf("N=%s %s %s pair %s: connect_failures=%s incomplete=%s post_errors=%s healthy_lost=%s close_codes=%s alive=%s",
                            n, kase, s, p, kv["connect_failures"], kv["incomplete"], kv["post_errors"], kv["healthy_lost"], kv["close_codes"], kv["alive"])
}
END {
  print ""
  print "| N | metric (median of " maxpair " pairs) | Normbase | Node ws | Normbase/Node | target |"
  print "|---:|---|---:|---:|---:|---|"
  ns = split(sizes, S, " ")
  for (i = 1; i <= ns; i++) {
    n = S[i]
    printf "| %s | last-subscriber latency p50, ms | %s | %s | %s | |\n", n, f(med(n,"base","normbase","p50_ms"),2), f(med(n,"base","node","p50_ms"),2), f(ratio(n,"base","normbase","base","node","p50_ms"),2)
    printf "| %s | last-subscriber latency p99, ms | %s | %s | %s | <= 0.5 |\n", n, f(med(n,"base","normbase","p99_ms"),2), f(med(n,"base","node","p99_ms"),2), f(ratio(n,"base","normbase","base","node","p99_ms"),2)
    printf "| %s | first-subscriber latency p50, ms | %s | %s | %s | |\n", n, f(med(n,"base","normbase","first_p50_ms"),2), f(med(n,"base","node","first_p50_ms"),2), f(ratio(n,"base","normbase","base","node","first_p50_ms"),2)
    printf "| %s | POST answered p50, ms | %s | %s | %s | |\n", n, f(med(n,"base","normbase","ack_p50_ms"),2), f(med(n,"base","node","ack_p50_ms"),2), f(ratio(n,"base","normbase","base","node","ack_p50_ms"),2)
    printf "| %s | memory per idle subscriber, bytes | %s | %s | %s | <= 0.75 |\n", n, f(med(n,"base","normbase","rss_per_sub_b"),0), f(med(n,"base","node","rss_per_sub_b"),0), f(ratio(n,"base","normbase","base","node","rss_per_sub_b"),2)
    printf "| %s | server CPU per event, ms | %s | %s | %s | |\n", n, f(med(n,"base","normbase","cpu_ms_per_event"),1), f(med(n,"base","node","cpu_ms_per_event"),1), f(ratio(n,"base","normbase","base","node","cpu_ms_per_event"),2)
    printf "| %s | generator CPU per event, ms | %s | %s | %s | |\n", n, f(med(n,"base","normbase","gen_cpu_ms_per_event"),1), f(med(n,"base","node","gen_cpu_ms_per_event"),1), f(ratio(n,"base","normbase","base","node","gen_cpu_ms_per_event"),2)
    printf "| %s | connecting N subscribers, s | %s | %s | %s | |\n", n, f(med(n,"base","normbase","connect_s"),2), f(med(n,"base","node","connect_s"),2), f(ratio(n,"base","normbase","base","node","connect_s"),2)
  }
  print ""
  print "| N | server | healthy p99 without slow, ms | with 1% slow, ms | with/without | target |"
  print "|---:|---|---:|---:|---:|---|"
  for (i = 1; i <= ns; i++) {
    n = S[i]
    printf "| %s | Normbase | %s | %s | %s | <= 1.15 |\n", n, f(med(n,"base","normbase","p99_ms"),2), f(med(n,"slow","normbase","p99_ms"),2), f(ratio(n,"slow","normbase","base","normbase","p99_ms"),2)
    printf "| %s | Node ws | %s | %s | %s | (info) |\n", n, f(med(n,"base","node","p99_ms"),2), f(med(n,"slow","node","p99_ms"),2), f(ratio(n,"slow","node","base","node","p99_ms"),2)
  }
  print ""
  if (nt == 0) print "No connection failures, missed events, POST errors, disconnects or server crashes."
  else { print "Runs with trouble:"; for (i = 1; i <= nt; i++) print "- " trouble[i] }
}' "$RESULTS"
