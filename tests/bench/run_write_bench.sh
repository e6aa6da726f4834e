#!/usr/bin/env bash
# Durable-write benchmark: normbase-server (comments, votes or proposals over
# HTTP, driven by tests/bench/write_load) against RocksDB's own db_bench doing
# synced writes (`fillrandom --sync=true`) with as many threads as Normbase
# has connections and a value as large as what Normbase logs per write.
#
# First a calibration run (Normbase, C=8, not counted) measures the WAL bytes
# Normbase logs per acknowledged write; db_bench's --value_size is that minus
# the 39 bytes db_bench logs around each value (record header 7, batch header
# 12, type and lengths 4, the 16-byte key). Then for each C it runs P pairs,
# strictly interleaved (Normbase, db_bench, Normbase, db_bench, ...), each run
# on a fresh directory under one temp dir, so both write to the same
# filesystem. Normbase: a fresh server (--threads 2) on a free port, pinned to
# CPU 0 and write_load to CPU 1 (unless --no-pin); db_bench runs unpinned.
# db_bench's --num (per thread) is chosen so that it runs about as long as the
# Normbase window, from the last db_bench rate at this C (at first from a
# short probe, not counted, which also warms the disk up). It prints every
# run, then a Markdown table of medians and of the median per-pair ratios.
#
# The server runs with --jobs.enabled 0 unless --jobs is given: this measures
# the write path. With jobs on, the set-up's proposals (1,000 for comments)
# queue five plugin jobs each, and the workers and the broker run those
# during the measured window, on the server's core (the job pipeline has a
# benchmark of its own).
#
# usage: tests/bench/run_write_bench.sh [--pairs 5] [--conns "1 8 64"] [--duration 4]
#          [--warmup 1] [--kind comment|vote|proposal] [--value-bytes 512]
#          [--per-proposal 100] [--value-size BYTES (skip the calibration)]
#          [--build-dir DIR] [--no-build] [--no-pin] [--jobs] [--results FILE]
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BUILD_DIR="$ROOT/build-bench"
PAIRS=5
CONNS="1 8 64"
DURATION=4
WARMUP=1
VALUE_BYTES=512
KIND=comment
PER_PROPOSAL=100
VALUE_SIZE=""
BUILD=1
PIN=1
RESULTS=""
JOBS_ENABLED=0
while [ $# -gt 0 ]; do
  case "$1" in
    --pairs) PAIRS="$2"; shift 2 ;;
    --conns) CONNS="$2"; shift 2 ;;
    --duration) DURATION="$2"; shift 2 ;;
    --warmup) WARMUP="$2"; shift 2 ;;
    --value-bytes) VALUE_BYTES="$2"; shift 2 ;;
    --kind) KIND="$2"; shift 2 ;;
    --per-proposal) PER_PROPOSAL="$2"; shift 2 ;;
    --value-size) VALUE_SIZE="$2"; shift 2 ;;
    --build-dir) BUILD_DIR="$2"; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    --no-pin) PIN=0; shift ;;
    --jobs) JOBS_ENABLED=1; shift ;;
    --results) RESULTS="$2"; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

if [ "$BUILD" = 1 ]; then
  cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DNORMBASE_TESTS=OFF \
    -DNORMBASE_BENCH=ON >/dev/null
  ninja -C "$BUILD_DIR" -j1 normbase-server write_load
fi
SERVER_BIN="$BUILD_DIR/core/normbase-server"
GENERATOR="$BUILD_DIR/tests/bench/write_load"
for f in "$SERVER_BIN" "$GENERATOR"; do
  [ -x "$f" ] || { echo "missing $f (run without --no-build)" >&2; exit 1; }
done
if ! command -v db_bench >/dev/null; then
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq rocksdb-tools >/dev/null
fi
DB_BENCH="$(command -v db_bench)"

SERVER_PIN=()
GEN_PIN=()
if [ "$PIN" = 1 ] && command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  SERVER_PIN=(taskset -c 0)
  GEN_PIN=(taskset -c 1)
fi

WORK="$(mktemp -d -t nb-write-bench.XXXXXX)"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
[ -n "$RESULTS" ] || RESULTS="$WORK/results.txt"
: >"$RESULTS"

# Runs write_load against a fresh server; prints its JSON line.
run_normbase() {  # connections duration
  local c="$1" duration="$2" dir
  dir="$(mktemp -d "$WORK/nb.XXXXXX")"
  "${SERVER_PIN[@]}" "$SERVER_BIN" --data "$dir/data" --listen 127.0.0.1:0 --ready-file "$dir/ready" \
    --threads 2 --log-level warn --jobs.enabled "$JOBS_ENABLED" >"$dir/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 300); do
    [ -s "$dir/ready" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  [ -s "$dir/ready" ] || { cat "$dir/server.log" >&2; return 1; }
  local out rc=0
  out="$("${GEN_PIN[@]}" "$GENERATOR" --url "$(cat "$dir/ready")" --data "$dir/data" \
    --server-pid "$SERVER_PID" --kind "$KIND" --connections "$c" --duration "$duration" \
    --warmup "$WARMUP" --value-bytes "$VALUE_BYTES" --per-proposal "$PER_PROPOSAL" \
    2>"$dir/generator.err")" || rc=$?
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
  [ "$rc" = 0 ] || { echo "write_load exit $rc:" >&2; tail -5 "$dir/generator.err" >&2; }
  rm -rf "$dir"
  echo "$out"
}

# Runs db_bench; prints "ops=... micros=... secs=... p50=... p99=...".
run_db_bench() {  # threads num_per_thread
  local dir out
  dir="$(mktemp -d "$WORK/rocks.XXXXXX")"
  out="$("$DB_BENCH" --benchmarks=fillrandom --sync=true --threads="$1" --num="$2" \
    --value_size="$VALUE_SIZE" --key_size=16 --histogram=true --db="$dir/db" 2>&1)" || {
    echo "$out" | tail -5 >&2
    rm -rf "$dir"
    return 1
  }
  rm -rf "$dir"
  echo "$out" | awk '
    /^fillrandom/ { for (i = 1; i <= NF; i++) { if ($i == "micros/op") m = $(i-1); if ($i == "ops/sec") o = $(i-1); if ($i == "seconds") s = $(i-1) } }
    /^Percentiles:/ { for (i = 1; i <= NF; i++) { if ($i == "P50:") p50 = $(i+1); if ($i == "P99:") p99 = $(i+1) } }
    END { printf "ops=%s micros=%s secs=%s p50=%s p99=%s\n", o, m, s, p50, p99 }'
}

json_field() { sed -n "s/.*\"$2\":\([-0-9.e+]*\).*/\1/p" <<<"$1"; }

FS="$(df -T "$WORK" | awk 'NR == 2 { print $2 " on " $1 }')"
echo "# $(date -u +%Y-%m-%dT%H:%MZ)  $(nproc) CPUs  $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)  kernel $(uname -r)"
echo "# temp dir $WORK: $FS;  $("$DB_BENCH" --version 2>&1 | head -1 || true)"
echo "# kind=$KIND value=${VALUE_BYTES}B per-proposal=$PER_PROPOSAL pairs=$PAIRS conns=($CONNS) window=${DURATION}s (+${WARMUP}s warm-up) pin=$PIN"
echo "# normbase-server --listen 127.0.0.1:0 --threads 2 --jobs.enabled $JOBS_ENABLED (fresh data dir per run); write_load --kind $KIND --connections C --duration $DURATION --warmup $WARMUP --value-bytes $VALUE_BYTES --per-proposal $PER_PROPOSAL"

if [ -z "$VALUE_SIZE" ]; then
  line="$(run_normbase 8 2)"
  wal="$(json_field "$line" wal_bytes_per_write)"
  [ -n "$wal" ] && [ "${wal%.*}" -gt 100 ] || { echo "calibration failed: $line" >&2; exit 1; }
  VALUE_SIZE=$(( ${wal%.*} - 39 ))
  echo "# calibration: Normbase logs $wal WAL bytes per write -> db_bench --value_size=$VALUE_SIZE --key_size=16"
fi
echo "# db_bench --benchmarks=fillrandom --sync=true --threads=C --num=<per thread> --value_size=$VALUE_SIZE --key_size=16 --histogram=true --db=<fresh dir>"

declare -A DB_RATE
for c in $CONNS; do
  probe="$(run_db_bench "$c" "$(( (400 + c - 1) / c > 20 ? (400 + c - 1) / c : 20 ))")"
  DB_RATE[$c]="$(sed -n 's/.*ops=\([0-9.]*\).*/\1/p' <<<"$probe")"
  echo "C=$c db_bench probe (not counted): $probe"
  for pair in $(seq "$PAIRS"); do
    line="$(run_normbase "$c" "$DURATION" || true)"
    echo "C=$c pair=$pair normbase $line"
    rps="$(json_field "$line" rps)"
    echo "RESULT c=$c pair=$pair sys=normbase rps=${rps:-0} p50=$(json_field "$line" p50_us) p99=$(json_field "$line" p99_us) errors=$(json_field "$line" errors) wal=$(json_field "$line" wal_bytes_per_write) group=$(json_field "$line" mean_group) cpu=$(json_field "$line" server_cpu_us_per_req) wrapped=$(json_field "$line" wrapped)" >>"$RESULTS"
    # db_bench --num per thread for about DURATION seconds.
    rate="${DB_RATE[$c]:-100}"
    num="$(awk -v r="$rate" -v d="$DURATION" -v c="$c" 'BEGIN { n = int(r * d / c + 0.5); print (n < 20 ? 20 : n) }')"
    db="$(run_db_bench "$c" "$num" || true)"
    echo "C=$c pair=$pair db_bench --threads=$c --num=$num: $db"
    DB_RATE[$c]="$(sed -n 's/.*ops=\([0-9.]*\).*/\1/p' <<<"$db")"
    echo "RESULT c=$c pair=$pair sys=db_bench value_size=$VALUE_SIZE num=$num $db" >>"$RESULTS"
  done
done

awk -v conns="$CONNS" -v vsize="$VALUE_SIZE" -v kind="$KIND" '
function median(arr, k,    i, j, t) {
  for (i = 2; i <= k; i++) { t = arr[i]; for (j = i - 1; j >= 1 && arr[j] > t; j--) arr[j + 1] = arr[j]; arr[j + 1] = t }
  if (k == 0) return "n/a"
  return (k % 2) ? arr[(k + 1) / 2] : (arr[k / 2] + arr[k / 2 + 1]) / 2
}
function med(c, sys, key,    p, k, a) {
  k = 0; delete a
  for (p = 1; p <= maxpair; p++) if ((c, sys, p, key) in v && v[c, sys, p, key] != "") a[++k] = v[c, sys, p, key]
  return median(a, k)
}
function ratio(c, num_sys, num_key, den_sys, den_key,    p, k, a) {
  k = 0; delete a
  for (p = 1; p <= maxpair; p++)
    if ((c, num_sys, p, num_key) in v && (c, den_sys, p, den_key) in v && v[c, den_sys, p, den_key] > 0)
      a[++k] = v[c, num_sys, p, num_key] / v[c, den_sys, p, den_key]
  return median(a, k)
}
function f(x, d) { return x == "n/a" ? x : sprintf("%." d "f", x) }
{
  delete kv
  for (i = 2; i <= NF; i++) { split($i, kvp, "="); kv[kvp[1]] = kvp[2] }
  c = kv["c"]; s = kv["sys"]; p = kv["pair"] + 0
  if (p > maxpair) maxpair = p
  for (key in kv) v[c, s, p, key] = kv[key]
  if (s == "normbase" && (kv["errors"] != 0 || kv["wrapped"] != 0 || kv["rps"] == 0))
    trouble[++nt] = sprintf("C=%s pair %s: errors=%s wrapped=%s rps=%s", c, p, kv["errors"], kv["wrapped"], kv["rps"])
}
END {
  print ""
  print "| C | Normbase " kind "s/s | db_bench ops/s | Normbase/db_bench | target | Normbase p50 / p99 µs | p99/p50 | db_bench p50 / p99 µs | db_bench p99/p50 | mean group | server CPU µs/req | WAL B/write |"
  print "|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|"
  n = split(conns, C, " ")
  for (i = 1; i <= n; i++) {
    c = C[i]
    target = c == 1 ? ">= 0.7" : (c == 64 ? ">= 0.8" : "")
    printf "| %s | %s | %s | %s | %s | %s / %s | %s | %s / %s | %s | %s | %s | %s |\n", c,
      f(med(c, "normbase", "rps"), 0), f(med(c, "db_bench", "ops"), 0),
      f(ratio(c, "normbase", "rps", "db_bench", "ops"), 2), target,
      f(med(c, "normbase", "p50"), 0), f(med(c, "normbase", "p99"), 0),
      f(ratio(c, "normbase", "p99", "normbase", "p50"), 1),
      f(med(c, "db_bench", "p50"), 0), f(med(c, "db_bench", "p99"), 0),
      f(ratio(c, "db_bench", "p99", "db_bench", "p50"), 1),
      f(med(c, "normbase", "group"), 1), f(med(c, "normbase", "cpu"), 0), f(med(c, "normbase", "wal"), 0)
  }
  print ""
  print "Medians of " maxpair " interleaved pairs; Normbase/db_bench is the median of the per-pair ratios,"
  print "p99/p50 the median of the per-run ratios. db_bench: fillrandom --sync=true --value_size=" vsize " --key_size=16."
  if (nt == 0) print "No HTTP errors, no proposal over its share of comments."
  else { print "Runs with trouble:"; for (i = 1; i <= nt; i++) print "- " trouble[i] }
}' "$RESULTS"
