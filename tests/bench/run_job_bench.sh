#!/usr/bin/env bash
# The job bus benchmarks (docs/benchmarks.md, "Job pipeline"): a Release build
# with the benchmarks and test plugins, then throughput against raw ZeroMQ,
# CurveZMQ against plain, worker recovery against the heartbeat expiry, and
# healthy throughput with a poison job.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${BUILD_DIR:-$root/build-bench}"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DNORMBASE_TESTS=ON -DNORMBASE_BENCH=ON >/dev/null
ninja -C "$build" job_pipeline >/dev/null
bench="$build/tests/bench/job_pipeline"
echo "# $(date -u +%FT%TZ) $(nproc) cores, $(uname -r)"
"$bench" throughput --jobs "${JOBS:-2000}" --capacity 16 --pairs "${PAIRS:-5}"
"$bench" throughput --jobs "${JOBS:-2000}" --capacity 16 --pairs "${PAIRS:-5}" --curve
"$bench" recovery --rounds "${PAIRS:-5}" --expiry-ms 1000
# The poison job's cost is fixed (two worker crashes and restarts), so its
# ratio depends on the run's length: a short run (300 jobs) and a longer one.
"$bench" poison --jobs 300 --pairs "${PAIRS:-5}"
"$bench" poison --jobs 2000 --pairs "${PAIRS:-5}"
