#!/usr/bin/env bash
# Everything both README commands need before they can build: Debian packages, Node 20+, the npm
# workspace installed from the lock file, and the code generated from proto/. Idempotent.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

"$root/scripts/install-system-deps.sh"
"$root/scripts/install-tools.sh"

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  echo "Node.js 20 or newer is required (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi

# A developer's settings start as the local stack's; .env is git-ignored.
[ -f .env ] || cp .env.example .env

# npm ci only when the lock file changed since the last install: a full reinstall costs ~20 s.
stamp=node_modules/.installed-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "[bootstrap] npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" >"$stamp"
fi

echo "[bootstrap] generating code from proto/"
npm run --silent generate

# The web console the gateway serves at /, bundled from the sources just generated.
echo "[bootstrap] building the web console (console/dist)"
npm run --silent build -w @hft/console -- --logLevel warn
