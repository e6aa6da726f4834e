#!/usr/bin/env bash
# The second README command: install, build and run every test (ctest) in a
# build with AddressSanitizer + UBSan (build-asan), so that the whole suite,
# fault tests included, runs under the sanitizers.
#   SANITIZE=0 scripts/test.sh    the same suite in a plain Debug build (build-test)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/install-deps.sh"
# The web dashboard: built to web/dist, which the web.e2e test serves and drives in Chromium.
"$root/scripts/build-web.sh" || echo "test.sh: no dashboard build; web.unit and web.e2e will fail" >&2
# -g1 (line tables only): stack traces and sanitizer reports keep file:line,
# and the build is a good deal faster than with full debug info (CI's budget).
# Debug: the tests exercise behaviour, not speed, and it compiles fastest.
debug_info=(-DCMAKE_CXX_FLAGS_DEBUG=-g1 -DCMAKE_C_FLAGS_DEBUG=-g1)
export BUILD_TYPE="${BUILD_TYPE:-Debug}"
if [ "${SANITIZE:-1}" = 1 ]; then
  export BUILD_DIR="${BUILD_DIR:-$root/build-asan}"
  "$root/scripts/build.sh" -DNORMBASE_TESTS=ON -DNORMBASE_SANITIZE=ON "${debug_info[@]}"
else
  export BUILD_DIR="${BUILD_DIR:-$root/build-test}"
  "$root/scripts/build.sh" -DNORMBASE_TESTS=ON -DNORMBASE_SANITIZE=OFF "${debug_info[@]}"
fi
cd "$BUILD_DIR"
ctest --output-on-failure -j "${JOBS:-2}" --timeout 600
