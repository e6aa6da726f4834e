#!/usr/bin/env bash
# Installs the Debian 12 packages listed in scripts/debian-packages.txt.
# Idempotent and quick when everything is present already. Needs root (or sudo).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mapfile -t pkgs < <(grep -vE '^\s*(#|$)' "$here/debian-packages.txt")
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js and npm build the web dashboard and run its tests (web/README.md).
# Debian 12's own nodejs is 18, too old for Vite 7 (>= 20.19): a newer one
# (e.g. NodeSource's, which bundles npm) is kept when present.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  missing+=(nodejs npm)
elif ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)'; then
  echo "install-deps: WARNING: Node.js $(node --version) is too old for the web dashboard (Vite 7 needs 20.19 or newer)." >&2
  echo "install-deps: install a newer Node.js (e.g. NodeSource's nodejs 20 or 22); the server itself does not need it." >&2
fi
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#pkgs[@]} packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
