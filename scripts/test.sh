#!/usr/bin/env bash
# The second README command: install, build, run every test (ctest).
# SANITIZE=1 builds with AddressSanitizer + UBSan into build-asan instead.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/install-deps.sh"
# The web dashboard: built to web/dist, which the web.e2e test serves and drives in Chromium.
"$root/scripts/build-web.sh" || echo "test.sh: no dashboard build; web.unit and web.e2e will fail" >&2
# -g1 (line tables only): stack traces and sanitizer reports keep file:line,
# and the build is a good deal faster than with full debug info (CI's budget).
debug_info=(-DCMAKE_CXX_FLAGS_DEBUG=-g1 -DCMAKE_C_FLAGS_DEBUG=-g1)
if [ "${SANITIZE:-0}" = 1 ]; then
  export BUILD_DIR="${BUILD_DIR:-$root/build-asan}" BUILD_TYPE=Debug
  "$root/scripts/build.sh" -DNORMBASE_TESTS=ON -DNORMBASE_SANITIZE=ON "${debug_info[@]}"
else
  # Debug: the tests exercise behaviour, not speed, and it compiles fastest.
  export BUILD_DIR="${BUILD_DIR:-$root/build-test}" BUILD_TYPE="${BUILD_TYPE:-Debug}"
  "$root/scripts/build.sh" -DNORMBASE_TESTS=ON "${debug_info[@]}"
fi
cd "$BUILD_DIR"
# Under the sanitizers the fault tests are left out: they test durability
# (SIGKILL, power cuts, failing and full disks), not memory safety; they run
# for minutes; libfiu's LD_PRELOAD cannot come before the ASan runtime; and
# the plain pass runs them all (CI's time budget).
exclude=""
[ "${SANITIZE:-0}" = 1 ] && exclude='^faults\.'
ctest --output-on-failure -j "${JOBS:-2}" --timeout 600 ${exclude:+-E "$exclude"}
