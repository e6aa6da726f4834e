#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz, clang-14, ASan + UBSan) into
# build-fuzz and runs each for a bounded time from its committed seed corpus.
# Fails (exit 1) when any target finds a crash, a sanitizer report, a hang or
# a broken invariant; the input that did it is kept in
# build-fuzz/artifacts/<target>/ and the log in build-fuzz/logs/<target>.log.
#
#   scripts/fuzz.sh [SECONDS]      per target, default 20
#   FUZZ_TARGETS="fuzz_http fuzz_import" scripts/fuzz.sh 60
#   scripts/fuzz.sh --reproduce build-fuzz/artifacts/fuzz_http/crash-...   (one input, no fuzzing)
#
# What a target found stays in build-fuzz/corpus/<target> (the committed
# seed corpus in tests/fuzz/corpus is not changed; copy an input there by hand
# when it is worth keeping).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build-fuzz}"
targets="${FUZZ_TARGETS:-fuzz_http fuzz_json_bodies fuzz_import fuzz_stream fuzz_bus_frames}"

"$root/scripts/install-deps.sh" >/dev/null
CC=clang-14 CXX=clang++-14 cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-g1 -DCMAKE_C_FLAGS_DEBUG=-g1 \
  -DNORMBASE_TESTS=OFF -DNORMBASE_FUZZ=ON >/dev/null
# shellcheck disable=SC2086
ninja -C "$build" -j "${JOBS:-$(nproc)}" $targets

# Sanitizer reports abort, so libFuzzer keeps the input; leaks are reported too.
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:allocator_may_return_null=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

if [ "${1:-}" = "--reproduce" ]; then
  input="$2"
  target="$(basename "$(dirname "$input")")"
  exec "$build/tests/fuzz/$target" "$input"
fi

seconds="${1:-20}"
mkdir -p "$build/logs"
failed=()
for t in $targets; do
  corpus="$build/corpus/$t" artifacts="$build/artifacts/$t"
  mkdir -p "$corpus" "$artifacts"
  start=$(date +%s)
  # -timeout: one input may take this long before it counts as a hang (the
  # targets run real services; the first input also opens and seeds a store).
  if "$build/tests/fuzz/$t" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=3072 \
       -print_final_stats=1 -artifact_prefix="$artifacts/" \
       "$corpus" "$root/tests/fuzz/corpus/$t" >"$build/logs/$t.log" 2>&1; then
    stats=$(grep -E '^stat::number_of_executed_units' "$build/logs/$t.log" | awk '{print $2}')
    echo "fuzz: $t ok: ${stats:-?} inputs in $(( $(date +%s) - start ))s"
  else
    echo "fuzz: $t FAILED after $(( $(date +%s) - start ))s; log: $build/logs/$t.log" >&2
    grep -E 'ERROR|SUMMARY|fuzz invariant|Test unit written' "$build/logs/$t.log" | head -20 >&2 || true
    failed+=("$t")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: ${#failed[@]} target(s) failed: ${failed[*]}" >&2
  exit 1
fi
