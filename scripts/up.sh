#!/usr/bin/env bash
# The README's first command: installs everything, builds, starts the local stack (PostgreSQL,
# Redis, Kafka) with the schema migrated, then every service that exists, and prints where each
# one listens. Idempotent: run it again to bring back whatever stopped.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

bash scripts/bootstrap.sh
echo "[up] building TypeScript"
npx tsc -b
bash scripts/stack.sh up >/dev/null
echo "[up] migrating the schema"
npm run --silent migrate -- up
echo "[up] building the engine"
build_log=.run/logs/engine-build.log
mkdir -p "$(dirname "$build_log")"
if ! { cmake -S engine-cpp -B engine-cpp/build -G Ninja -DCMAKE_BUILD_TYPE=Release && ninja -C engine-cpp/build hft-engine; } >"$build_log" 2>&1; then
  tail -n 30 "$build_log" >&2
  echo "[up] the engine did not build; the whole log is $build_log" >&2
  exit 1
fi
bash scripts/services.sh up >/dev/null

echo
echo "The stack is up:"
bash scripts/stack.sh status
bash scripts/services.sh status
echo
echo "Stop it with: make down   (scripts/services.sh down && scripts/stack.sh down)"
