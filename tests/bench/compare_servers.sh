#!/usr/bin/env bash
# Two normbase-server binaries, A and B, under the same durable-write load,
# strictly alternating (A, B, A, B, ...): the same-run comparison of two
# builds (e.g. before and after a change) on a machine whose speed swings by
# tens of percent from minute to minute. Each run: a fresh data dir, the
# server (--threads 2 --jobs.enabled 0) pinned to CPU 0, write_load pinned to
# CPU 1, as in run_write_bench.sh. Prints every run, then per C the medians
# and the median of the per-pair ratios B/A (writes/s and server CPU per
# request).
#
# usage: tests/bench/compare_servers.sh A_BIN B_BIN [--pairs 5] [--conns "1 8 64"]
#          [--kind comment|vote|proposal] [--duration 4] [--load-bin PATH]
# e.g.   git stash; ninja -C build-bench normbase-server; cp build-bench/core/normbase-server /tmp/a
#        git stash pop; ninja -C build-bench normbase-server
#        tests/bench/compare_servers.sh /tmp/a build-bench/core/normbase-server
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
[ $# -ge 2 ] || { sed -n 2,15p "$0"; exit 2; }
A_BIN="$1"; B_BIN="$2"; shift 2
PAIRS=5
CONNS="1 8 64"
KIND=comment
DURATION=4
LOAD_BIN="$ROOT/build-bench/tests/bench/write_load"
while [ $# -gt 0 ]; do
  case "$1" in
    --pairs) PAIRS="$2"; shift 2 ;;
    --conns) CONNS="$2"; shift 2 ;;
    --kind) KIND="$2"; shift 2 ;;
    --duration) DURATION="$2"; shift 2 ;;
    --load-bin) LOAD_BIN="$2"; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
for b in "$A_BIN" "$B_BIN" "$LOAD_BIN"; do
  [ -x "$b" ] || { echo "not an executable: $b" >&2; exit 2; }
done

WORK="$(mktemp -d /tmp/nb-compare.XXXXXX)"
SERVER_PID=""
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

# One run: prints "rps cpu_us_per_req p50_us p99_us errors".
run_one() {
  local bin="$1" conns="$2" dir="$WORK/run"
  rm -rf "$dir" && mkdir -p "$dir/data"
  taskset -c 0 "$bin" --data "$dir/data" --listen 127.0.0.1:0 --ready-file "$dir/ready" \
    --threads 2 --log-level warn --jobs.enabled 0 >"$dir/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 200); do [ -s "$dir/ready" ] && break; sleep 0.05; done
  [ -s "$dir/ready" ] || { echo "server did not start: $(cat "$dir/server.log")" >&2; exit 1; }
  taskset -c 1 "$LOAD_BIN" --url "$(head -1 "$dir/ready")" --data "$dir/data" \
    --server-pid "$SERVER_PID" --kind "$KIND" --connections "$conns" \
    --duration "$DURATION" --warmup 1 |
    /usr/bin/python3 -c 'import json,sys; d=json.loads(sys.stdin.read());
print(d["rps"], d["server_cpu_us_per_req"], d["p50_us"], d["p99_us"], d["errors"])'
  kill "$SERVER_PID" && wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

echo "# A = $A_BIN"
echo "# B = $B_BIN"
echo "# kind $KIND, $PAIRS pairs per C, ${DURATION}s windows; columns: rps cpu_us/req p50_us p99_us errors"
for c in $CONNS; do
  : >"$WORK/C$c"
  for p in $(seq "$PAIRS"); do
    a="$(run_one "$A_BIN" "$c")"; echo "C=$c pair=$p A $a"; echo "A $a" >>"$WORK/C$c"
    b="$(run_one "$B_BIN" "$c")"; echo "C=$c pair=$p B $b"; echo "B $b" >>"$WORK/C$c"
  done
done
echo
echo "| C | A writes/s | B writes/s | B/A writes/s (median of pairs) | A CPU µs/req | B CPU µs/req | B/A CPU |"
echo "|---:|---:|---:|---:|---:|---:|---:|"
for c in $CONNS; do
  /usr/bin/python3 - "$WORK/C$c" "$c" <<'PY'
import statistics as st, sys
rows = [l.split() for l in open(sys.argv[1])]
a = [r for r in rows if r[0] == "A"]; b = [r for r in rows if r[0] == "B"]
f = lambda rs, i: [float(r[i]) for r in rs]
ratio = lambda i: st.median([y / x for x, y in zip(f(a, i), f(b, i))])
print(f"| {sys.argv[2]} | {st.median(f(a,1)):.0f} | {st.median(f(b,1)):.0f} | {ratio(1):.2f} "
      f"| {st.median(f(a,2)):.0f} | {st.median(f(b,2)):.0f} | {ratio(2):.2f} |")
PY
done
