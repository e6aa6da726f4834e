#!/usr/bin/env bash
# Makes the CurveZMQ key pairs compose.yaml mounts as secrets, with the
# image's own normbase-worker: keys/server.{key,pub}, keys/worker.{key,pub},
# keys/allowed_workers (the worker public keys the core accepts). Refuses to
# overwrite existing keys.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
image="${NORMBASE_IMAGE:-normbase:latest}"
engine="$(command -v podman || command -v docker)"
if [ -e keys/server.key ]; then echo "keys/ already holds keys; remove them first to make new ones" >&2; exit 1; fi
mkdir -p keys && chmod 0700 keys
for who in server worker; do
  "$engine" run --rm --user "$(id -u):$(id -g)" -v "$PWD/keys:/keys" "$image" normbase-worker keygen "/keys/$who"
done
{ echo "# worker public keys the core accepts, one Z85 key per line"; cat keys/worker.pub; } > keys/allowed_workers
chmod 0600 keys/*.key
echo "keys written to $PWD/keys"
