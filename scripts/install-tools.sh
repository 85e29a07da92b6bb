#!/usr/bin/env bash
# Command-line tools the tests and operators use, built from the Go module proxy into .deps/bin
# (git-ignored). Idempotent: a tool already at its pinned version is kept.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$root/.deps/bin
mkdir -p "$bin"

tools=(
  "grpcurl github.com/fullstorydev/grpcurl/cmd/grpcurl v1.9.3"
)
for entry in "${tools[@]}"; do
  read -r name module version <<<"$entry"
  stamp=$bin/.$name.version
  if [ -x "$bin/$name" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$version" ]; then continue; fi
  echo "[tools] building $name $version"
  GOBIN=$bin GOFLAGS=-mod=mod go install "$module@$version"
  echo "$version" >"$stamp"
done
