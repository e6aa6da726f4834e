#!/usr/bin/env bash
# The first README command: install, build, start the server with the seed data.
# Extra arguments go to normbase-server (e.g. --listen 127.0.0.1:9090).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh" -DNORMBASE_TESTS=OFF
# The dashboard is optional: the API runs without it.
"$root/scripts/build-web.sh" || echo "run.sh: the dashboard was not built; the API works without it" >&2
cd "$root"
exec "${BUILD_DIR:-$root/build}/core/normbase-server" "$@"
