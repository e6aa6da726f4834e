#!/usr/bin/env bash
# Builds the web dashboard into web/dist (served by normbase-server). Needs
# Node.js 20.19+ (Vite 7); with an older Node it says so and exits 1.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)'; then
  echo "build-web.sh: Node.js $(node --version) is too old to build the web dashboard (Vite 7 needs 20.19+)" >&2
  exit 1
fi
cd "$root/web"
# npm ci first (exactly the lock file). Some registry mirrors carry only this
# platform's optional rollup binaries, and npm 11 then refuses the lock as "not
# in sync"; npm install installs the same locked versions without rewriting it.
npm ci --no-audit --no-fund --loglevel=error 2>/dev/null ||
  npm install --no-audit --no-fund --no-save --loglevel=error
npm run build --silent
