#!/usr/bin/env bash
# The second README command: install, build, run every test (ctest).
# SANITIZE=1 builds with AddressSanitizer + UBSan into build-asan instead.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/install-deps.sh"
# The web dashboard: built to web/dist, which the web.e2e test serves and drives in Chromium.
"$root/scripts/build-web.sh" || echo "test.sh: no dashboard build; web.unit and web.e2e will fail" >&2
if [ "${SANITIZE:-0}" = 1 ]; then
  export BUILD_DIR="${BUILD_DIR:-$root/build-asan}" BUILD_TYPE=Debug
  "$root/scripts/build.sh" -DNORMBASE_TESTS=ON -DNORMBASE_SANITIZE=ON
else
  # Debug: the tests exercise behaviour, not speed, and it compiles fastest.
  export BUILD_DIR="${BUILD_DIR:-$root/build-test}" BUILD_TYPE="${BUILD_TYPE:-Debug}"
  "$root/scripts/build.sh" -DNORMBASE_TESTS=ON
fi
cd "$BUILD_DIR"
# Under the sanitizers the SIGKILL/power-cut crash rounds are left out: they
# test durability, not memory safety, run serially for minutes, and the plain
# pass runs them (CI's time budget).
exclude=""
[ "${SANITIZE:-0}" = 1 ] && exclude='^faults\.crash'
ctest --output-on-failure -j "${JOBS:-2}" --timeout 600 ${exclude:+-E "$exclude"}
