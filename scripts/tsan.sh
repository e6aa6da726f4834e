#!/usr/bin/env bash
# Builds Normbase with ThreadSanitizer (g++ -fsanitize=thread) into
# build-tsan and runs the concurrency tests: the store's committer and group
# commit, the review workflow's racing writers, the live stream's fan-out and
# resume, racing votes and merges through the real server, the abuse tests
# (many connections at once) and the job bus with real workers. The servers
# and workers those tests start are TSan builds too; a data race anywhere
# stops the process that has it (halt_on_error) and leaves its report in
# build-tsan/tsan-logs/, and this script fails when any report is there.
#
#   scripts/tsan.sh                 the default selection below
#   TSAN_TESTS='core\.StoreTest' scripts/tsan.sh     another ctest -R regex
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build-tsan}"
tests="${TSAN_TESTS:-^(core\.StoreTest|core\.ReviewWorkflowTest\.Concurrent|core\.RateLimitTest|integration\.ReviewConcurrency|integration\.Stream|integration\.AbuseTest|bus\.)}"

"$root/scripts/install-deps.sh" >/dev/null
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DNORMBASE_TESTS=ON \
  -DCMAKE_CXX_FLAGS="-fsanitize=thread -fno-omit-frame-pointer" \
  -DCMAKE_C_FLAGS="-fsanitize=thread -fno-omit-frame-pointer" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=thread" -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=thread" >/dev/null
ninja -C "$build" -j "${JOBS:-$(nproc)}" core_tests integration_tests bus_tests normbase-server normbase-worker

logs="$build/tsan-logs"
rm -rf "$logs" && mkdir -p "$logs"
export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:history_size=4:log_path=$logs/report}"
cd "$build"
status=0
ctest --output-on-failure -j "${JOBS:-2}" --timeout 900 -R "$tests" || status=$?
if compgen -G "$logs/report*" >/dev/null; then
  echo "tsan: ThreadSanitizer reports (first lines of each):" >&2
  for f in "$logs"/report*; do echo "--- $f" >&2; head -30 "$f" >&2; done
  status=1
fi
[ "$status" -eq 0 ] && echo "tsan: no data races in the selected tests"
exit "$status"
