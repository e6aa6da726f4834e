#!/usr/bin/env bash
# The first README command: install, build, start the server with the seed data.
# Extra arguments go to normbase-server (e.g. --listen 127.0.0.1:9090).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh" -DNORMBASE_TESTS=OFF
cd "$root"
exec "${BUILD_DIR:-$root/build}/core/normbase-server" "$@"
